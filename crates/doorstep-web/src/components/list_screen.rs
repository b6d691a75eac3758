//! The lists of drafts and of finalized interviews: searchable by name, with open, edit-after-finalize
//! and delete (always confirmed).

use std::rc::Rc;

use yew::prelude::*;

use super::app::AppCtx;
use super::confirm::Confirm;
use crate::i18n::Lang;
use crate::record::{FormRecord, SubmissionRecord, newest_per_id, shown_in_list};
use crate::services::interviews;
use crate::state::AppAction;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: AppCtx,
    pub finalized: bool,
}

/// How many rows a list shows in its first render, and how many more in each task after it.
const FIRST_ROWS: usize = 20;
const ROWS_PER_TASK: usize = 60;

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
    // The rows are indices into the shared read: a keystroke in the search filters without copying
    // any record, and each row is a component that renders again only when its record, its flags or
    // the app's context changed (not on every keystroke).
    let items: Vec<usize> = list
        .as_ref()
        .map(|l| shown_in_list(l, p.finalized, &query))
        .unwrap_or_default();
    // A long list is put on screen a screenful first: the first rows in this render, the others
    // some at a time in the tasks after it, so the first rows show at once and no task is long.
    // (Counted per list: the other tab's list starts again with a screenful.)
    let limit = use_state(|| (p.finalized, FIRST_ROWS));
    let shown_rows = if limit.0 == p.finalized {
        limit.1
    } else {
        FIRST_ROWS
    };
    {
        let limit = limit.clone();
        let more = shown_rows < items.len();
        use_effect_with(
            (more, shown_rows, p.finalized),
            move |&(more, shown, finalized)| {
                let next = more.then(|| {
                    gloo::timers::callback::Timeout::new(0, move || {
                        limit.set((finalized, shown + ROWS_PER_TASK))
                    })
                });
                move || drop(next)
            },
        );
    }
    let ask = {
        let confirm = confirm.clone();
        use_callback((), move |asked: (String, String, bool), _| {
            confirm.set(Some(asked))
        })
    };
    let rows = list.as_ref().map(|l| {
        items
            .iter()
            .take(shown_rows)
            .map(|&index| {
                let r = &l[index];
                let older = !p.finalized && r.on_older_version(&newest);
                html! {
                    <ListRow key={r.id().to_string()} ctx={ctx.clone()} list={l.clone()} {index}
                        finalized={p.finalized} {older} {lang} ask={ask.clone()} />
                }
            })
            .collect::<Html>()
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
            <ul class="list">{ rows.unwrap_or_default() }</ul>
            { dialog.unwrap_or_default() }
        </>
    }
}

#[derive(Properties)]
struct RowProps {
    ctx: AppCtx,
    /// The list read by the app, and this row's record in it.
    list: Rc<Vec<SubmissionRecord>>,
    index: usize,
    finalized: bool,
    /// A draft on an older version of its form than the newest installed.
    older: bool,
    lang: Lang,
    /// Asks to delete (id, name, awaits export).
    ask: Callback<(String, String, bool)>,
}

impl PartialEq for RowProps {
    /// The same read and index is the same record: not compared field by field.
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.list, &o.list)
            && self.index == o.index
            && self.finalized == o.finalized
            && self.older == o.older
            && self.lang == o.lang
            && self.ask == o.ask
            && self.ctx == o.ctx
    }
}

/// One interview of a list: its name, form and time, open (or edit) and delete.
#[function_component(ListRow)]
fn list_row(p: &RowProps) -> Html {
    let ctx = p.ctx.clone();
    let lang = p.lang;
    let t = lang.t();
    let r = &p.list[p.index];
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
                let r = if finalized {
                    interviews::edit_finalized(&id, &s, lang.tag()).await
                } else {
                    interviews::open(&id, &s, lang.tag()).await
                };
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
    let name = if r.shown_name().is_empty() {
        t.untitled.to_string()
    } else {
        r.shown_name().to_string()
    };
    let ask = {
        let ask = p.ask.clone();
        let id = id.clone();
        let name = name.clone();
        let unsent = r.awaits_export();
        Callback::from(move |_: MouseEvent| ask.emit((id.clone(), name.clone(), unsent)))
    };
    let m = &r.envelope.meta;
    let exported = if r.exported_in.is_empty() {
        t.not_exported.to_string()
    } else {
        crate::i18n::exported_in(lang, r.exported_in.len())
    };
    html! {
        <li data-instance={id}>
            <div class="name">{ name.clone() }
                // A finalized interview being corrected: it replaces the finalized one when finalized.
                if !p.finalized && m.deprecated_id.is_some() { <span class="badge todo" style="margin-left:6px">{ t.correction }</span> }
            </div>
            <div class="muted">{ format!("{} · {} ", r.title_in(lang), t.updated) }
                <span style="white-space:nowrap">{ m.updated_at.replace('T', " ").chars().take(16).collect::<String>() }</span></div>
            if p.finalized { <div class="muted">{ exported }</div> }
            else if p.older {
                <div class="muted" data-testid="older-version">{ format!("{} · {} {}", t.form_newer_version, t.version, m.form.version) }</div>
            }
            <div class="row" style="margin-top:6px">
                <button class="btn grow" onclick={open} aria-label={format!("{}: {}", if p.finalized { t.edit } else { t.open }, name)}>
                    { if p.finalized { t.edit } else { t.open } }</button>
                <button class="btn danger" onclick={ask} aria-label={format!("{}: {}", t.delete, name)}>{ t.delete }</button>
            </div>
        </li>
    }
}
