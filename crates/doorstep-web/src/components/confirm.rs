//! A confirmation sheet at the bottom of the screen (reachable with one thumb), for deletions.
//! Escape, or the phone's back button, closes it as "no".

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub text: AttrValue,
    pub yes: AttrValue,
    pub no: AttrValue,
    pub on_yes: Callback<()>,
    pub on_no: Callback<()>,
}

#[function_component(Confirm)]
pub fn confirm(p: &Props) -> Html {
    // Escape (and the phone's back button, see `app.rs`) answers no.
    super::use_escape(p.on_no.clone());
    // The sheet takes the focus, on "no" (the safe answer to a deletion).
    let sheet_ref = use_node_ref();
    super::use_dialog_focus(sheet_ref.clone(), "[data-answer=no]");
    let yes = p.on_yes.reform(|_: MouseEvent| ());
    let no = p.on_no.reform(|_: MouseEvent| ());
    let sheet = html! {
        <div class="dialog-back">
            <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="confirm-text" ref={sheet_ref}>
                <p id="confirm-text">{ p.text.clone() }</p>
                <div class="row">
                    <button class="btn" onclick={no} data-answer="no">{ p.no.clone() }</button>
                    <button class="btn danger" onclick={yes}>{ p.yes.clone() }</button>
                </div>
            </div>
        </div>
    };
    // Rendered at the end of the page's body: a question box is laid out on its own
    // (`content-visibility`), which would hold a fixed sheet inside the box instead of over the screen.
    match gloo::utils::document().body() {
        Some(body) => create_portal(sheet, body.into()),
        None => sheet,
    }
}
