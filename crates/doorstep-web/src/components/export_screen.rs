//! Export: choose finalized interviews (by default those not yet exported) and download one bundle per
//! form; below, the history of the bundles made on this device (`export_history`).

use std::collections::BTreeSet;
use std::rc::Rc;

use yew::prelude::*;

use super::app::{AppCtx, Interviews};
use super::export_history;
use crate::i18n::Lang;
use crate::record::{BundleRecord, Held, SubmissionRecord};
use crate::services::{export, files};
use crate::state::AppAction;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: AppCtx,
}

#[function_component(ExportScreen)]
pub fn export_screen(p: &Props) -> Html {
    let ctx = p.ctx.clone();
    let lang = ctx.lang();
    let t = lang.t();
    // The finalized interviews not replaced by a correction. `Interviews`, the type of the app's
    // own list, rather than a type of its own: one instance of Yew's `use_state` less in the wasm.
    let subs = use_state(Interviews::default);
    let bundles = use_state(Vec::<BundleRecord>::new);
    let selected = use_state(BTreeSet::<String>::new);
    let busy = use_state(|| false);
    let outcome = use_state(|| None::<export::Outcome>);
    // The bundles' bytes are held for their "save again" links until the next export or until
    // the screen closes.
    use_effect_with((*outcome).clone(), |o| {
        let urls: Vec<String> = o
            .iter()
            .flat_map(|o| o.bundles.iter().map(|b| b.url.clone()))
            .collect();
        move || files::revoke_later(urls)
    });
    // The finalized interviews, from the list the app read (shared with the export tab's count).
    {
        let subs = subs.clone();
        let selected = selected.clone();
        use_effect_with(
            (ctx.interviews.clone(), ctx.state.refresh),
            move |(all, refresh)| {
                if let Some(all) = all.fresh(*refresh) {
                    let list: Vec<SubmissionRecord> = all
                        .iter()
                        .filter(|r| r.is_finalized() && r.superseded_by.is_none())
                        .cloned()
                        .collect();
                    selected.set(
                        list.iter()
                            .filter(|r| r.awaits_export())
                            .map(|r| r.id().to_string())
                            .collect(),
                    );
                    subs.set(Interviews(Some(Rc::new(list)), 0));
                }
            },
        );
    }
    {
        let bundles = bundles.clone();
        use_effect_with(ctx.state.refresh, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                bundles.set(export::bundles().await);
            });
        });
    }
    let run = {
        let ctx = ctx.clone();
        let subs = subs.clone();
        let selected = selected.clone();
        let busy = busy.clone();
        let outcome = outcome.clone();
        Callback::from(move |_: MouseEvent| {
            let chosen: Vec<SubmissionRecord> = subs
                .0
                .as_ref()
                .map(|l| {
                    l.iter()
                        .filter(|r| selected.contains(r.id()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            if chosen.is_empty() {
                ctx.say(true, ctx.lang().t().export_none);
                return;
            }
            busy.set(true);
            let ctx = ctx.clone();
            let busy = busy.clone();
            let outcome = outcome.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let settings = (*ctx.settings).clone();
                let o = export::export(chosen, &settings).await;
                outcome.set(Some(o));
                busy.set(false);
                ctx.state.dispatch(AppAction::Refresh);
            });
        })
    };
    let rows = subs.0.as_ref().map(|l| {
        l.iter()
            .map(|r| {
                let id = r.id().to_string();
                let checked = selected.contains(&id);
                let toggle = {
                    let selected = selected.clone();
                    let id = id.clone();
                    Callback::from(move |_: Event| {
                        let mut s = (*selected).clone();
                        if !s.remove(&id) {
                            s.insert(id.clone());
                        }
                        selected.set(s);
                    })
                };
                let name = if r.name.is_empty() { t.untitled.to_string() } else { r.name.clone() };
                let state = if r.exported_in.is_empty() { t.not_exported.to_string() } else { crate::i18n::exported_in(lang, r.exported_in.len()) };
                html! {
                    <li key={id.clone()}>
                        <label class="check">
                            <input type="checkbox" checked={checked} onchange={toggle} data-instance={id.clone()} />
                            <span class="grow"><span class="name">{ name }</span><br/><span class="muted">{ format!("{} · {}", r.title_in(lang), state) }</span></span>
                        </label>
                    </li>
                }
            })
            .collect::<Html>()
    });
    let held = Held::new(subs.0.as_deref().map_or(&[], Vec::as_slice));
    let result = outcome.as_ref().map(|o| {
        html! {
            <div role="status" aria-live="polite">
                { for o.bundles.iter().map(|b| html! {
                    <div class="notice ok" data-testid="export-done">
                        { crate::i18n::bundle_written(lang, &b.record.file_name, b.record.instance_ids.len(), b.record.size) }
                        <a class="btn block" style="margin-top:8px" href={b.url.clone()} download={b.record.file_name.clone()}>{ t.save_again }</a>
                    </div>
                }) }
                if !o.refused.is_empty() {
                    <div class="notice error">
                        <strong>{ t.export_failed_items }</strong>
                        // Named as in the lists (the id only for one no longer listed).
                        { for o.refused.iter().map(|(id, why)| html! {
                            <p class="diag" data-instance={id.clone()}><strong>{ held.name(id, t.untitled) }</strong>{ format!("{}{}", if lang == Lang::Zh { "：" } else { ": " }, why.join("; ")) }</p>
                        }) }
                    </div>
                }
                { for o.errors.iter().map(|e| html! { <div class="notice error">{ e.clone() }</div> }) }
            </div>
        }
    });
    html! {
        <>
            <h2 class="page-title">{ t.export }</h2>
            { match rows {
                None => html! { <p class="loading">{ t.loading }</p> },
                Some(r) => html! { <ul class="list">{ r }</ul> },
            } }
            if subs.0.as_ref().is_some_and(|l| l.is_empty()) { <p class="muted">{ t.no_finalized }</p> }
            <button class="btn primary block" onclick={run} disabled={*busy} data-testid="export">
                { if *busy { t.exporting } else { t.export_selected } }</button>
            { result.unwrap_or_default() }
            { export_history::view(lang, &ctx.settings, &bundles, &subs) }
        </>
    }
}
