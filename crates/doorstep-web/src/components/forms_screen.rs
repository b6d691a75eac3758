//! The installed forms: start an interview, or load a new form from a file or a web address (a form
//! with errors is refused and its diagnostics shown; nothing is half-installed).

use yew::prelude::*;

use super::app::AppCtx;
use crate::record::FormRecord;
use crate::services::{files, interviews};
use crate::state::{AppAction, Screen, Tab};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: AppCtx,
}

#[function_component(FormsScreen)]
pub fn forms_screen(p: &Props) -> Html {
    let ctx = p.ctx.clone();
    let lang = ctx.lang();
    let t = lang.t();
    let forms = use_state(|| None::<Vec<FormRecord>>);
    // What the last refused form got: its heading (the file could not be read, or the form has
    // errors) and the lines below it.
    let diags = use_state(|| (None::<&'static str>, Vec::<String>::new()));
    let url = use_state(String::new);
    let busy = use_state(|| false);
    {
        let forms = forms.clone();
        use_effect_with(ctx.state.refresh, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                forms.set(Some(interviews::installed_forms().await));
            });
            || ()
        });
    }

    let install = {
        let ctx = ctx.clone();
        let diags = diags.clone();
        let busy = busy.clone();
        move |result: Result<Vec<u8>, String>, origin: &'static str| {
            let ctx = ctx.clone();
            let diags = diags.clone();
            let busy = busy.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let t = ctx.lang().t();
                match result {
                    Err(e) => {
                        diags.set((Some(t.form_not_read), vec![e]));
                        ctx.say(true, t.form_not_read_short);
                    }
                    Ok(bytes) => match interviews::install(&bytes, origin).await {
                        Ok(rec) => {
                            diags.set((None, Vec::new()));
                            // An older version than one on the phone is installed (its drafts may
                            // need it) but new interviews still get the newest: said, or the
                            // supervisor's file would seem to have changed nothing.
                            let newest =
                                crate::record::newest_per_id(&interviews::installed_forms().await)
                                    .into_iter()
                                    .find(|f| f.id == rec.id)
                                    .filter(|f| f.key != rec.key);
                            match newest {
                                Some(f) => ctx.say(
                                    false,
                                    crate::i18n::form_installed_older(ctx.lang(), &f.version),
                                ),
                                None => ctx.say(false, t.form_installed),
                            }
                            ctx.state.dispatch(AppAction::Refresh);
                        }
                        Err(list) => {
                            // Bounded: a hostile file cannot flood the screen.
                            let lang = ctx.lang();
                            let mut shown: Vec<String> = list
                                .iter()
                                .take(50)
                                .map(|d| match crate::i18n::diagnostic_summary(lang, d.code) {
                                    Some(summary) => format!("{summary}：{d}"),
                                    None => d.to_string(),
                                })
                                .collect();
                            if list.len() > 50 {
                                shown.push(format!("… +{}", list.len() - 50));
                            }
                            diags.set((Some(t.form_refused), shown));
                            ctx.say(true, t.form_refused_short);
                        }
                    },
                }
                busy.set(false);
            });
        }
    };

    let on_file = {
        let install = install.clone();
        let busy = busy.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|l| l.get(0)) else {
                return;
            };
            input.set_value("");
            busy.set(true);
            let install = install.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // 10 MB is the format's limit; a bigger file is refused before it is read.
                let r = files::read_file(&file, doorstep_core::form::MAX_FILE_BYTES as f64).await;
                install(r, "file");
            });
        })
    };
    let on_url_input = {
        let url = url.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            url.set(input.value());
        })
    };
    let on_url = {
        let url = url.clone();
        let busy = busy.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let u = url.trim().to_string();
            if u.is_empty() {
                return;
            }
            busy.set(true);
            let install = install.clone();
            wasm_bindgen_futures::spawn_local(async move {
                install(files::fetch_bytes(&u).await, "url");
            });
        })
    };

    let list = match &*forms {
        None => html! { <p class="loading">{ t.loading }</p> },
        Some(list) if list.is_empty() => html! { <p class="muted">{ t.no_forms }</p> },
        Some(list) => {
            let fl_pick = |f: &FormRecord| {
                lang.text(&f.title)
                    .unwrap_or_else(|| f.title.get("", ""))
                    .to_string()
            };
            crate::record::newest_per_id(list)
                .into_iter()
                .map(|f| {
                    let title = fl_pick(&f);
                    let start = {
                        let ctx = ctx.clone();
                        let key = f.key.clone();
                        Callback::from(move |_: MouseEvent| {
                            let ctx = ctx.clone();
                            let key = key.clone();
                            wasm_bindgen_futures::spawn_local(async move {
                                let settings = (*ctx.settings).clone();
                                let fl = ctx.lang().tag();
                                // The session's language is set from the form's own list below.
                                match interviews::start(&key, &settings, fl).await {
                                    Ok(c) => {
                                        {
                                            let mut fm = c.0.borrow_mut();
                                            let l = ctx.lang().pick_form_language(&fm.form.languages);
                                            fm.session.set_language(&l);
                                        }
                                        ctx.fill(c)
                                    }
                                    Err(e) => ctx.say(true, e),
                                }
                            });
                        })
                    };
                    html! {
                        <li key={f.key.clone()} data-form-id={f.id.clone()}>
                            <div class="name">{ title.clone() }</div>
                            <div class="muted">{ format!("{} · {} {}", f.id, t.version, f.version) }</div>
                            <button class="btn primary block" style="margin-top:8px" onclick={start}
                                aria-label={format!("{}: {}", t.start_interview, title)}>{ t.start_interview }</button>
                        </li>
                    }
                })
                .collect::<Html>()
        }
    };

    // Every interview keeps the name it was started under (`meta.surveyor` and the form's
    // `username`), so it is asked for before the first one rather than left in the settings.
    let no_surveyor = ctx.settings.surveyor.is_empty().then(|| {
        let ctx = ctx.clone();
        let go = Callback::from(move |_: MouseEvent| ctx.go(Screen::Tab(Tab::Settings)));
        html! {
            <div class="notice warn" data-testid="no-surveyor">{ t.no_surveyor }
                <button class="btn block" style="margin-top:8px" onclick={go}>{ t.enter_surveyor }</button></div>
        }
    });
    html! {
        <>
            <h2 class="page-title">{ t.forms }</h2>
            { no_surveyor.unwrap_or_default() }
            <ul class="list">{ list }</ul>
            <div class="card">
                <label class="btn block" for="form-file">{ t.load_form_file }</label>
                <input id="form-file" class="sr-only" type="file" accept=".json,application/json" onchange={on_file} disabled={*busy} />
                <form onsubmit={on_url} style="margin-top:10px">
                    <label for="form-url" class="muted">{ t.load_form_url }</label>
                    <div class="row">
                        <input id="form-url" class="search grow" type="url" inputmode="url" placeholder={t.form_url_placeholder}
                            value={(*url).clone()} oninput={on_url_input} />
                        <button class="btn" type="submit" disabled={*busy}>{ t.load }</button>
                    </div>
                </form>
                if let (Some(heading), lines) = &*diags {
                    <div class="notice error" role="alert">
                        <strong>{ *heading }</strong>
                        { for lines.iter().map(|d| html! { <p class="diag">{ d.clone() }</p> }) }
                    </div>
                }
            </div>
        </>
    }
}
