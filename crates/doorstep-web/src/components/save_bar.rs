//! The save indicator: says "saved" only when the newest change is on disk, and says plainly when it is not.

use yew::prelude::*;

use super::{Ctl, use_topic};
use crate::filling::Topic;
use crate::i18n::Lang;
use crate::save::Indicator;
use crate::services::interviews;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub lang: Lang,
}

#[function_component(SaveBar)]
pub fn save_bar(p: &Props) -> Html {
    use_topic(&p.ctl, Topic::Save);
    let t = p.lang.t();
    let ind = p.ctl.0.borrow().save.indicator();
    let retry = {
        let ctl = p.ctl.clone();
        Callback::from(move |_: MouseEvent| interviews::flush(&ctl))
    };
    let (class, text, failed) = match &ind {
        Indicator::Saved => ("savebar", t.saved.to_string(), false),
        Indicator::Saving => ("savebar saving", t.saving.to_string(), false),
        Indicator::Failed(e) => ("savebar failed", crate::i18n::save_failure(p.lang, e), true),
    };
    let state = match ind {
        Indicator::Saved => "saved",
        Indicator::Saving => "saving",
        Indicator::Failed(_) => "failed",
    };
    html! {
        <>
            // A failed save (the storage full, say) is announced at once, cutting in: the answers are
            // not safe until it is dealt with. Saving and saved wait their turn. Failed, the bar says
            // only "not saved" (the whole message, three lines at 100%, would take the screen at 200%
            // text); the whole message is read from the bar and shown in the page under it.
            <div class={class} data-save-state={state} role={if failed { "alert" } else { "status" }}
                aria-live={if failed { "assertive" } else { "polite" }}>
                <span aria-hidden="true">{ if failed { "⚠" } else if state == "saved" { "✓" } else { "…" } }</span>
                <span class="msg" data-testid="save-state">
                    if failed {
                        <span aria-hidden="true">{ t.not_saved }</span>
                        <span class="sr-only">{ text.clone() }</span>
                    } else { { text.clone() } }
                </span>
                if failed { <button class="btn small danger" onclick={retry}>{ t.retry_now }</button> }
            </div>
            if failed { <p class="notice error savenote" aria-hidden="true" data-testid="save-failure">{ text }</p> }
        </>
    }
}
