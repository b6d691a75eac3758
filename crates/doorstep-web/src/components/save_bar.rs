//! The save indicator: says "saved" only when the newest change is on disk, and says plainly when it is not.
//! When another window of the app wrote the interview meanwhile, it asks which answers to keep.

use yew::prelude::*;

use super::app::AppCtx;
use super::{Ctl, use_topic};
use crate::filling::Topic;
use crate::i18n::Lang;
use crate::save::{Conflict, Indicator};
use crate::services::interviews;
use crate::state::{Screen, Tab};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: AppCtx,
    pub ctl: Ctl,
    pub lang: Lang,
}

#[function_component(SaveBar)]
pub fn save_bar(p: &Props) -> Html {
    use_topic(&p.ctl, Topic::Save);
    let t = p.lang.t();
    let (ind, conflict) = {
        let f = p.ctl.0.borrow();
        (f.save.indicator(), f.save.in_conflict())
    };
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
                // Retrying a conflict would only fail again: the choice is under the bar.
                if failed && conflict.is_none() { <button class="btn small danger" onclick={retry}>{ t.retry_now }</button> }
            </div>
            if let Some(c) = conflict {
                <div class="notice error savenote" data-testid="save-failure" data-conflict={conflict_name(c)}>
                    <p aria-hidden="true">{ text }</p>
                    { choices(&p.ctx, &p.ctl, c) }
                </div>
            } else if failed {
                <p class="notice error savenote" aria-hidden="true" data-testid="save-failure">{ text }</p>
            }
        </>
    }
}

fn conflict_name(c: Conflict) -> &'static str {
    match c {
        Conflict::Changed { .. } => "changed",
        Conflict::Finalized { .. } => "finalized",
        Conflict::Deleted => "deleted",
    }
}

/// The two ways out of a conflict: keep this window's answers (over the other window's, or as a
/// correction of the interview it finalized), or take what is on disk and drop this window's.
fn choices(ctx: &AppCtx, ctl: &Ctl, c: Conflict) -> Html {
    let t = ctx.lang().t();
    let keep = {
        let (ctx, ctl) = (ctx.clone(), ctl.clone());
        Callback::from(move |_: MouseEvent| {
            let (ctx, ctl) = (ctx.clone(), ctl.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match interviews::keep_this_window(&ctl).await {
                    // A correction has an id of its own: it is what the app resumes now.
                    Ok(()) => ctx.set_current(Some(ctl.0.borrow().meta.instance_id.clone())),
                    Err(e) => ctx.say(true, e),
                }
            });
        })
    };
    let drop_mine = {
        let (ctx, ctl) = (ctx.clone(), ctl.clone());
        Callback::from(move |_: MouseEvent| {
            let (ctx, ctl) = (ctx.clone(), ctl.clone());
            match c {
                Conflict::Changed { .. } => wasm_bindgen_futures::spawn_local(async move {
                    let id = ctl.0.borrow().meta.instance_id.clone();
                    let settings = (*ctx.settings).clone();
                    match interviews::open(&id, &settings, ctx.lang().tag()).await {
                        Ok(saved) => ctx.fill(saved),
                        Err(e) => ctx.say(true, e),
                    }
                }),
                Conflict::Finalized { .. } => ctx.close_interview(Screen::Tab(Tab::Finalized)),
                Conflict::Deleted => ctx.close_interview(Screen::Tab(Tab::Drafts)),
            }
        })
    };
    let (keep_label, drop_label) = match c {
        Conflict::Changed { .. } => (t.keep_this_window, t.use_saved),
        Conflict::Finalized { .. } => (t.keep_as_correction, t.discard_this_window),
        Conflict::Deleted => (t.keep_this_window, t.discard_this_window),
    };
    html! {
        <div class="choices">
            <button class="btn primary block" data-testid="keep-this-window" onclick={keep}>{ keep_label }</button>
            <button class="btn block" data-testid="drop-this-window" onclick={drop_mine}>{ drop_label }</button>
        </div>
    }
}
