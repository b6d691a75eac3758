//! The root component: starts storage, reopens the last draft, and switches between screens.

use std::rc::Rc;

use yew::prelude::*;

use super::Ctl;
use super::bench;
use super::export_screen::ExportScreen;
use super::fill_screen::FillScreen;
use super::forms_screen::FormsScreen;
use super::list_screen::ListScreen;
use super::review_screen::ReviewScreen;
use super::settings_screen::SettingsScreen;
use crate::i18n::Lang;
use crate::record::{Settings, SubmissionRecord};
use crate::save::Conflict;
use crate::services::{interviews, storage};
use crate::state::{AppAction, AppState, Notice, Screen, Tab};

impl Reducible for AppState {
    type Action = AppAction;
    fn reduce(self: Rc<Self>, action: AppAction) -> Rc<Self> {
        Rc::new((*self).clone().reduce(action))
    }
}

/// Everything a screen may ask the app to do.
#[derive(Clone, PartialEq)]
pub struct AppCtx {
    pub state: UseReducerHandle<AppState>,
    pub settings: UseStateHandle<Settings>,
    pub ctl: UseStateHandle<Option<Ctl>>,
    /// The stored interviews, newest first (`interviews::submissions`): read once when the lists
    /// change (`AppState::refresh`) or a list tab opens, and shared by the export tab's count and
    /// the screen that lists them.
    pub interviews: UseStateHandle<Interviews>,
}

/// The stored interviews, `None` until they are first read, and the `AppState::refresh` they were
/// read for. Equal when they are the same read (not compared record by record on every render).
#[derive(Clone, Default)]
pub struct Interviews(pub Option<Rc<Vec<SubmissionRecord>>>, pub u64);

impl Interviews {
    /// The list, if it was read for `refresh` (the app's current one). An older read is not
    /// shown as a list: back from an interview, it would still show the draft as it was, or a
    /// just-finalized one among the drafts, until the new read comes.
    pub fn fresh(&self, refresh: u64) -> Option<&Rc<Vec<SubmissionRecord>>> {
        self.0.as_ref().filter(|_| self.1 == refresh)
    }
}

impl PartialEq for Interviews {
    fn eq(&self, other: &Self) -> bool {
        self.1 == other.1
            && match (&self.0, &other.0) {
                (Some(a), Some(b)) => Rc::ptr_eq(a, b),
                (a, b) => a.is_none() && b.is_none(),
            }
    }
}

impl AppCtx {
    pub fn lang(&self) -> Lang {
        self.state.lang
    }
    pub fn go(&self, s: Screen) {
        self.state.dispatch(AppAction::Go(s));
    }
    pub fn say(&self, error: bool, text: impl Into<String>) {
        self.state.dispatch(AppAction::Say(Notice {
            error,
            text: text.into(),
        }));
    }
    /// Opens an interview on the fill screen and remembers it as the current one.
    pub fn fill(&self, ctl: Ctl) {
        let id = ctl.0.borrow().meta.instance_id.clone();
        self.ctl.set(Some(ctl));
        self.set_current(Some(id));
        self.go(Screen::Fill);
    }
    pub fn set_current(&self, id: Option<String>) {
        let mut s = (*self.settings).clone();
        s.current = id;
        self.settings.set(s.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let _ = interviews::save_settings(&s).await;
        });
    }
    /// Leaves the fill screen, writing anything pending first.
    pub fn close_interview(&self, to: Screen) {
        if let Some(ctl) = &*self.ctl {
            interviews::flush(ctl);
        }
        self.set_current(None);
        self.ctl.set(None);
        self.state.dispatch(AppAction::Refresh);
        self.go(to);
        // Left by a button (home, finalize) rather than by back, the app's history entry would
        // stay on top of the lists, and the next back would do nothing: it is stepped back over
        // (the lists do not listen for back).
        if let Ok(history) = gloo::utils::window().history()
            && ours(&history)
        {
            let _ = history.back();
        }
    }
}

/// A window with nothing unsaved, shown again after another window wrote its interview, shows what
/// is on disk: the answers saved there, or the list the interview went to (finalized, deleted).
async fn follow_disk(ctx: &AppCtx, ctl: &Ctl, conflict: Conflict) {
    let t = ctx.lang().t();
    match conflict {
        Conflict::Changed { .. } => {
            let id = ctl.0.borrow().meta.instance_id.clone();
            let settings = (*ctx.settings).clone();
            match interviews::open(&id, &settings, ctx.lang().tag()).await {
                Ok(saved) => {
                    ctx.fill(saved);
                    ctx.say(false, t.followed_other_window);
                }
                Err(e) => ctx.say(true, e),
            }
        }
        Conflict::Finalized { .. } => {
            ctx.close_interview(Screen::Tab(Tab::Finalized));
            ctx.say(false, t.finalized_in_other_window);
        }
        Conflict::Deleted => {
            ctx.close_interview(Screen::Tab(Tab::Drafts));
            ctx.say(false, t.deleted_in_other_window);
        }
    }
}

/// Puts the app's own history entry on top, unless it is there already (see the back button in
/// `App`).
fn guard_history() {
    let Ok(history) = gloo::utils::window().history() else {
        return;
    };
    if !ours(&history) {
        let state = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&state, &"doorstep".into(), &true.into());
        let _ = history.push_state(&state, "");
    }
}

/// Whether the app's own history entry is the current one.
fn ours(history: &web_sys::History) -> bool {
    history
        .state()
        .ok()
        .and_then(|state| js_sys::Reflect::get(&state, &"doorstep".into()).ok())
        .is_some_and(|v| v.is_truthy())
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(AppState::default);
    let settings = use_state(Settings::default);
    let ctl = use_state(|| None::<Ctl>);
    let stored = use_state(Interviews::default);
    let ctx = AppCtx {
        state: state.clone(),
        settings: settings.clone(),
        ctl: ctl.clone(),
        interviews: stored.clone(),
    };

    // The interviews the tabs show, read again when the lists changed and when a tab that lists
    // them opens (both bump `refresh`). Reads may finish out of order: an older one never replaces
    // a newer one.
    // (`reads`: the newest `refresh` asked for, and the newest shown.)
    let reads = use_mut_ref(|| (None::<u64>, None::<u64>));
    use_effect_with(
        (state.refresh, state.screen.clone()),
        move |(refresh, screen)| {
            if !matches!(screen, Screen::Tab(_)) || reads.borrow().0 == Some(*refresh) {
                return;
            }
            let refresh = *refresh;
            reads.borrow_mut().0 = Some(refresh);
            wasm_bindgen_futures::spawn_local(async move {
                let list = interviews::submissions().await;
                let shown = &mut reads.borrow_mut().1;
                if shown.is_none_or(|r| r < refresh) {
                    *shown = Some(refresh);
                    stored.set(Interviews(Some(Rc::new(list)), refresh));
                }
            });
        },
    );

    // Start: storage, settings, the last draft; then shipped forms and persistence in the background.
    {
        let ctx = ctx.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if !storage::available() || storage::db().await.is_err() {
                    ctx.go(Screen::Fatal(String::new()));
                    return;
                }
                let s = interviews::settings().await;
                let lang = if s.lang.is_empty() {
                    Lang::Zh
                } else {
                    Lang::from_tag(&s.lang)
                };
                ctx.state.dispatch(AppAction::SetLang(lang));
                bench::remember_lang(lang);
                ctx.settings.set(s.clone());
                // The bench route (docs/bench-web-protocol.md) and deep links: a new draft of one form at once.
                if let Some(req) = bench::request() {
                    match bench::start(&req, &s, lang).await {
                        Ok(c) => ctx.fill(c),
                        Err(e) => {
                            ctx.go(Screen::Tab(Tab::Forms));
                            ctx.say(true, e);
                        }
                    }
                    return;
                }
                let installed = interviews::installed_forms().await;
                let mut reopened = false;
                if let Some(id) = s.current.clone()
                    && let Ok(c) = interviews::open(&id, &s, lang.tag()).await
                    && c.0.borrow().meta.status == "draft"
                {
                    ctx.ctl.set(Some(c));
                    ctx.go(Screen::Fill);
                    reopened = true;
                }
                if !reopened {
                    ctx.go(Screen::Tab(Tab::Forms));
                }
                // Ask the browser to keep our data; the settings screen shows the answer and the space used.
                let _ = crate::services::device::persist().await;
                let problems = interviews::install_shipped(&installed).await;
                if !problems.is_empty() {
                    web_sys::console::warn_1(&problems.join("\n").into());
                }
                ctx.state.dispatch(AppAction::Refresh);
            });
            || ()
        });
    }

    // A newer build of the app took over (its service worker): the lists say so until reopened.
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            let listener =
                crate::services::device::on_app_update(move || state.dispatch(AppAction::Updated));
            move || drop(listener)
        });
    }

    // Write pending answers when the page is hidden (switching apps, locking the phone, closing the
    // tab). Shown again, check that no other window of the app wrote the interview meanwhile, so that
    // a stale window says so before the surveyor types into it rather than after.
    {
        let ctl = ctl.clone();
        let ctx = ctx.clone();
        use_effect_with((*ctl).clone(), move |current| {
            let current = current.clone();
            let listener = current.map(|c| {
                let doc = gloo::utils::document();
                gloo::events::EventListener::new(&doc, "visibilitychange", move |_| {
                    if gloo::utils::document().visibility_state()
                        == web_sys::VisibilityState::Hidden
                    {
                        interviews::flush(&c);
                    } else {
                        let (c, ctx) = (c.clone(), ctx.clone());
                        wasm_bindgen_futures::spawn_local(async move {
                            if let Some(conflict) = interviews::check_disk(&c).await {
                                follow_disk(&ctx, &c, conflict).await;
                            }
                        });
                    }
                })
            });
            let _ = ctl;
            move || drop(listener)
        });
    }

    // The phone's back button (or gesture) steps back inside the app instead of leaving it: while
    // an interview is open, one history entry of the app's own stands before it, and going back
    // takes the surveyor from the review to the form, from a member's page to the roster, and from
    // the form to the list of drafts (everything is saved already). From the lists, back leaves
    // the app as usual.
    {
        let ctx = ctx.clone();
        use_effect_with(state.screen.clone(), move |screen| {
            let inside = matches!(screen, Screen::Fill | Screen::Review);
            if inside {
                guard_history();
            }
            let screen = screen.clone();
            let listener = inside.then(|| {
                gloo::events::EventListener::new(&gloo::utils::window(), "popstate", move |_| {
                    // An open dialog (the contents, a confirmation) is what back closes first:
                    // it closes on Escape.
                    let doc = gloo::utils::document();
                    if doc.query_selector(".dialog").ok().flatten().is_some() {
                        guard_history();
                        let init = web_sys::KeyboardEventInit::new();
                        init.set_key("Escape");
                        if let Ok(e) = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict(
                            "keydown", &init,
                        ) {
                            let _ = doc.dispatch_event(&e);
                        }
                        return;
                    }
                    match screen {
                        Screen::Review => {
                            guard_history();
                            ctx.go(Screen::Fill);
                        }
                        _ => {
                            let Some(c) = (*ctx.ctl).clone() else { return };
                            let member_back = {
                                let f = c.0.borrow();
                                f.pos.member.map(|m| crate::nav::Pos {
                                    page: f.pos.page,
                                    member: f
                                        .session
                                        .instance_parent(m)
                                        .map(|(_, parent)| parent)
                                        .filter(|&parent| parent != 0),
                                })
                            };
                            match member_back {
                                Some(pos) => {
                                    guard_history();
                                    super::fill_screen::go(&c, pos);
                                }
                                None => ctx.close_interview(Screen::Tab(Tab::Drafts)),
                            }
                        }
                    }
                })
            });
            move || drop(listener)
        });
    }

    // Any screen but the fill screen (which does it itself) replaces index.html's plain first page.
    use_effect_with(state.screen.clone(), |screen| {
        if matches!(screen, Screen::Tab(_) | Screen::Fatal(_) | Screen::Review) {
            bench::takeover();
        }
    });

    let lang = state.lang;
    crate::i18n::show(lang);
    let t = lang.t();
    let switch_lang = {
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| {
            let l = ctx.lang().other();
            ctx.state.dispatch(AppAction::SetLang(l));
            bench::remember_lang(l);
            if let Some(c) = &*ctx.ctl {
                let mut f = c.0.borrow_mut();
                let fl = l.pick_form_language(&f.form.languages);
                f.session.set_language(&fl);
            }
            let mut s = (*ctx.settings).clone();
            s.lang = l.tag().to_string();
            ctx.settings.set(s.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let _ = interviews::save_settings(&s).await;
            });
        })
    };
    gloo::utils::document()
        .document_element()
        .map(|e| e.set_attribute("lang", lang.tag()));

    let body = match &state.screen {
        Screen::Starting => {
            html! { <main class="screen" aria-busy="true"><p class="loading">{ t.loading }</p></main> }
        }
        Screen::Fatal(msg) => html! {
            <main class="screen">
                <p class="fatal" role="alert">{ t.no_indexeddb }</p>
                <p class="muted">{ crate::i18n::EN.no_indexeddb }</p>
                if !msg.is_empty() { <p class="diag">{ msg.clone() }</p> }
            </main>
        },
        Screen::Tab(tab) => {
            let tab = *tab;
            let tab_btn = |which: Tab, label: &'static str| {
                let ctx = ctx.clone();
                let current = (tab == which).then_some("page");
                html! { <button aria-current={current} onclick={Callback::from(move |_| ctx.go(Screen::Tab(which)))}>{ label }</button> }
            };
            let screen = match tab {
                Tab::Forms => html! { <FormsScreen ctx={ctx.clone()} /> },
                Tab::Drafts => html! { <ListScreen ctx={ctx.clone()} finalized={false} /> },
                Tab::Finalized => html! { <ListScreen ctx={ctx.clone()} finalized={true} /> },
                Tab::Export => html! { <ExportScreen ctx={ctx.clone()} /> },
                Tab::Settings => html! { <SettingsScreen ctx={ctx.clone()} /> },
            };
            html! {
                <>
                    <nav class="tabs" aria-label={t.app_name}>
                        { tab_btn(Tab::Forms, t.forms) }
                        { tab_btn(Tab::Drafts, t.drafts) }
                        { tab_btn(Tab::Finalized, t.finalized) }
                        <ExportTab ctx={ctx.clone()} current={tab == Tab::Export} />
                        { tab_btn(Tab::Settings, t.settings) }
                    </nav>
                    <main class="screen">
                        if state.updated {
                            <div class="notice ok" role="status" data-testid="app-updated">
                                { t.app_update }
                                // No interview is open on these screens: everything is stored.
                                <button class="btn block" style="margin-top:8px"
                                    onclick={Callback::from(|_| { let _ = gloo::utils::window().location().reload(); })}>
                                    { t.reopen_now }</button>
                            </div>
                        }
                        { notice(&state.notice) }
                        { screen }
                    </main>
                </>
            }
        }
        Screen::Fill | Screen::Review => match &*ctl {
            None => html! { <main class="screen"><p class="loading">{ t.loading }</p></main> },
            Some(c) if state.screen == Screen::Fill => {
                let key = format!("{}:{}", lang.tag(), c.0.borrow().opening);
                html! { <FillScreen key={key} ctx={ctx.clone()} ctl={c.clone()} /> }
            }
            Some(c) => {
                let key = format!("{}:{}", lang.tag(), c.0.borrow().opening);
                html! { <ReviewScreen key={key} ctx={ctx.clone()} ctl={c.clone()} /> }
            }
        },
    };

    let title = match (&state.screen, &*ctl) {
        (Screen::Fill | Screen::Review, Some(c)) => {
            let f = c.0.borrow();
            let fl = lang.pick_form_language(&f.form.languages);
            f.form.title.get(&fl, f.form.default_language()).to_string()
        }
        _ => t.app_name.to_string(),
    };
    let home = {
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| ctx.close_interview(Screen::Tab(Tab::Drafts)))
    };
    let filling = matches!(state.screen, Screen::Fill | Screen::Review) && ctl.is_some();
    html! {
        <>
            <header class="bar">
                if filling {
                    <button onclick={home} aria-label={t.home}>{ "⌂" }</button>
                }
                <h1 class="bar-title">{ title }</h1>
                <button onclick={switch_lang} lang={lang.other().tag()} data-testid="switch-language">{ t.switch_language }</button>
            </header>
            { body }
            if filling { <super::warm::WarmEvents /> }
        </>
    }
}

pub(crate) fn notice(n: &Option<Notice>) -> Html {
    match n {
        Some(n) => {
            let class = if n.error { "notice error" } else { "notice ok" };
            html! { <div class={class} role="status" aria-live="polite">{ n.text.clone() }</div> }
        }
        None => html! { <div class="sr-only" role="status" aria-live="polite"></div> },
    }
}

#[derive(Properties, PartialEq)]
struct ExportTabProps {
    ctx: AppCtx,
    current: bool,
}

/// The export tab, with the number of finalized interviews in no bundle yet: what is still on
/// this phone only, a reminder to send it (counted again whenever the lists change).
#[function_component(ExportTab)]
fn export_tab(p: &ExportTabProps) -> Html {
    let n = p
        .ctx
        .interviews
        .0
        .as_ref()
        .map_or(0, |list| list.iter().filter(|r| r.awaits_export()).count());
    let lang = p.ctx.lang();
    let ctx = p.ctx.clone();
    html! {
        <button aria-current={p.current.then_some("page")} onclick={Callback::from(move |_| ctx.go(Screen::Tab(Tab::Export)))}
            aria-label={(n > 0).then(|| crate::i18n::export_waiting(lang, n))}>
            { lang.t().export }
            if n > 0 { <span class="badge todo tab-count" aria-hidden="true" data-testid="to-export">{ n }</span> }
        </button>
    }
}
