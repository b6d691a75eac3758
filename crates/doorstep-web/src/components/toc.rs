//! The table of contents: every page with its verdict (done, to do, has errors); tap to go there.

use doorstep_core::expr::Node;
use yew::prelude::*;

use super::app::AppCtx;
use super::fill_screen::go;
use super::{Ctl, use_topic};
use crate::filling::Topic;
use crate::i18n::Lang;
use crate::nav::{PageStatus, Pos, page_status};
use crate::state::Screen;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub lang: Lang,
    pub on_close: Callback<()>,
    pub ctx: AppCtx,
}

#[function_component(Toc)]
pub fn toc(p: &Props) -> Html {
    use_topic(&p.ctl, Topic::Any);
    let t = p.lang.t();
    let f = p.ctl.0.borrow();
    let problems = f.session.validate();
    let status = page_status(&f.form, &f.pages, &f.session, &problems);
    let current = f.pos.page;
    let rows: Vec<(usize, String, PageStatus)> = f
        .pages
        .iter()
        .enumerate()
        .map(|(i, pg)| {
            let title = match pg.title_item {
                Some(it) => f.session.label(Node { item: it, scope: 0 }),
                // The one page of a scrolling form is the whole form, not its first question or
                // section (which the row named, with the verdict on everything).
                None if f.pages.len() == 1 => f
                    .form
                    .title
                    .get(f.session.language(), f.form.default_language())
                    .to_string(),
                None => pg
                    .items
                    .first()
                    .map(|&it| f.session.label(Node { item: it, scope: 0 }))
                    .unwrap_or_default(),
            };
            (i, crate::markdown::plain(&title), status[i])
        })
        .collect();
    drop(f);
    // Escape closes the contents, as it does any dialog.
    super::use_escape(p.on_close.clone());
    // The contents take the focus, on the page the surveyor is on.
    let dialog_ref = use_node_ref();
    super::use_dialog_focus(
        dialog_ref.clone(),
        ".toc button[aria-current]:not(:disabled)",
    );
    let close = p.on_close.reform(|_: MouseEvent| ());
    let review = {
        let ctx = p.ctx.clone();
        let ctl = p.ctl.clone();
        Callback::from(move |_: MouseEvent| {
            ctl.0.borrow_mut().show_all_errors = true;
            ctx.go(Screen::Review)
        })
    };
    html! {
        <div class="dialog-back" onclick={close.clone()}>
            <div class="dialog" role="dialog" aria-modal="true" aria-label={t.contents} ref={dialog_ref} onclick={Callback::from(|e: MouseEvent| e.stop_propagation())}
                style="max-height:85vh;overflow-y:auto">
                <h2 class="page-title">{ t.contents }</h2>
                <ol class="toc">
                    { for rows.into_iter().map(|(i, title, st)| {
                        let ctl = p.ctl.clone();
                        let on_close = p.on_close.clone();
                        let onclick = Callback::from(move |_: MouseEvent| {
                            go(&ctl, Pos { page: i, member: None });
                            on_close.emit(());
                        });
                        let (class, word) = match st {
                            PageStatus::Done => ("badge done", t.section_done),
                            PageStatus::Todo => ("badge todo", t.section_todo),
                            PageStatus::Errors => ("badge errors", t.section_errors),
                            PageStatus::NotApplicable => ("badge", t.section_not_applicable),
                        };
                        // A section that does not apply has nothing to show: it is listed, not a link.
                        let disabled = st == PageStatus::NotApplicable;
                        html! {
                            <li key={i}>
                                <button {onclick} {disabled} aria-current={(i == current).then_some("step")}>
                                    <span class="grow">{ format!("{}. {}", i + 1, title) }</span>
                                    <span class={class}>{ word }</span>
                                </button>
                            </li>
                        }
                    }) }
                </ol>
                <div class="row" style="margin-top:10px">
                    <button class="btn grow" onclick={close}>{ t.close }</button>
                    <button class="btn primary grow" onclick={review}>{ t.review }</button>
                </div>
            </div>
        </div>
    }
}
