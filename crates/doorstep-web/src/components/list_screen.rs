//! The lists of drafts and of finalized interviews: searchable by name, with open, edit-after-finalize
//! and delete (always confirmed).

use std::rc::Rc;

use yew::prelude::*;

use super::app::AppCtx;
use super::confirm::Confirm;
use crate::record::{FormRecord, SubmissionRecord, newest_per_id};
use crate::services::interviews;
use crate::state::AppAction;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: AppCtx,
    pub finalized: bool,
}

#[function_component(ListScreen)]
pub fn list_screen(p: &Props) -> Html {
    let ctx = p.ctx.clone();
    let lang = ctx.lang();
    let t = lang.t();
    // Read by the app, shared with the export tab's count. Only a read made since this screen opened
    // is shown; while a change made here (a delete) is read again, the last one stays rather than
    // giving way to "loading" for a moment.
    let shown = use_mut_ref(|| None::<Rc<Vec<SubmissionRecord>>>);
    if let Some(fresh) = ctx.interviews.fresh(ctx.state.refresh) {
        *shown.borrow_mut() = Some(fresh.clone());
    }
    let list = shown.borrow().clone();
    // The newest installed version of each form, to tell drafts on an older one apart.
    let newest = use_state(Vec::<FormRecord>::new);
    let query = use_state(String::new);
    let confirm = use_state(|| None::<(String, String, bool)>);
    {
        let newest = newest.clone();
        use_effect_with((ctx.state.refresh, p.finalized), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                newest.set(newest_per_id(&interviews::installed_forms().await));
            });
            || ()
        });
    }
    let on_query = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            query.set(el.value());
        })
    };
    let items: Vec<SubmissionRecord> = list
        .as_ref()
        .map(|l| {
            l.iter()
                .filter(|r| {
                    r.is_finalized() == p.finalized
                        && r.superseded_by.is_none()
                        && r.matches(&query)
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let rows = items.iter().map(|r| {
        let id = r.id().to_string();
        let open = {
            let ctx = ctx.clone();
            let id = id.clone();
            let finalized = p.finalized;
            Callback::from(move |_: MouseEvent| {
                let ctx = ctx.clone();
                let id = id.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let s = (*ctx.settings).clone();
                    let lang = ctx.lang();
                    let r = if finalized { interviews::edit_finalized(&id, &s, lang.tag()).await } else { interviews::open(&id, &s, lang.tag()).await };
                    match r {
                        Ok(c) => {
                            {
                                let mut f = c.0.borrow_mut();
                                let l = lang.pick_form_language(&f.form.languages);
                                f.session.set_language(&l);
                            }
                            ctx.fill(c)
                        }
                        Err(e) => ctx.say(true, e),
                    }
                });
            })
        };
        let name = if r.shown_name().is_empty() { t.untitled.to_string() } else { r.shown_name().to_string() };
        let ask = {
            let confirm = confirm.clone();
            let id = id.clone();
            let name = name.clone();
            let unsent = r.awaits_export();
            Callback::from(move |_: MouseEvent| confirm.set(Some((id.clone(), name.clone(), unsent))))
        };
        let m = &r.envelope.meta;
        let exported = if r.exported_in.is_empty() {
            t.not_exported.to_string()
        } else {
            crate::i18n::exported_in(lang, r.exported_in.len())
        };
        html! {
            <li key={id.clone()} data-instance={id.clone()}>
                <div class="name">{ name.clone() }
                    // A finalized interview being corrected: it replaces the finalized one when finalized.
                    if !p.finalized && m.deprecated_id.is_some() { <span class="badge todo" style="margin-left:6px">{ t.correction }</span> }
                </div>
                <div class="muted">{ format!("{} · {} ", r.title_in(lang), t.updated) }
                    <span style="white-space:nowrap">{ m.updated_at.replace('T', " ").chars().take(16).collect::<String>() }</span></div>
                if p.finalized { <div class="muted">{ exported }</div> }
                else if r.on_older_version(&newest) {
                    <div class="muted" data-testid="older-version">{ format!("{} · {} {}", t.form_newer_version, t.version, m.form.version) }</div>
                }
                <div class="row" style="margin-top:6px">
                    <button class="btn grow" onclick={open} aria-label={format!("{}: {}", if p.finalized { t.edit } else { t.open }, name)}>
                        { if p.finalized { t.edit } else { t.open } }</button>
                    <button class="btn danger" onclick={ask} aria-label={format!("{}: {}", t.delete, name)}>{ t.delete }</button>
                </div>
            </li>
        }
    });
    let dialog = (*confirm).clone().map(|(id, name, unsent)| {
        let ctx = ctx.clone();
        let confirm_yes = confirm.clone();
        let confirm_no = confirm.clone();
        let on_yes = Callback::from(move |_| {
            let ctx = ctx.clone();
            let id = id.clone();
            confirm_yes.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = interviews::delete(&id).await {
                    ctx.say(true, crate::i18n::storage_failed(&e));
                }
                ctx.state.dispatch(AppAction::Refresh);
            });
        });
        html! { <Confirm text={crate::i18n::confirm_delete_named(lang, &name, unsent)} yes={t.delete} no={t.cancel} {on_yes} on_no={Callback::from(move |_| confirm_no.set(None))} /> }
    });
    let empty = if !query.trim().is_empty() {
        crate::i18n::no_match(lang, &query)
    } else if p.finalized {
        t.no_finalized.to_string()
    } else {
        t.no_drafts.to_string()
    };
    html! {
        <>
            <h2 class="page-title">{ if p.finalized { t.finalized } else { t.drafts } }</h2>
            <input class="search" type="search" placeholder={t.search} aria-label={t.search} value={(*query).clone()} oninput={on_query} />
            if list.is_none() { <p class="loading">{ t.loading }</p> }
            else if items.is_empty() { <p class="muted">{ empty }</p> }
            <ul class="list">{ for rows }</ul>
            { dialog.unwrap_or_default() }
        </>
    }
}
