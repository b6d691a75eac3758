//! Running the code of the first keystroke and the first tap before the surveyor makes them.
//!
//! V8 compiles WebAssembly functions lazily, the first time each one is called, and Chromium builds the
//! first date field of a document slowly. The first keystroke of an interview called about a hundred
//! functions for the first time (parsing the field, the engine's update, the store's notifications, the
//! autosave's timer, Yew's event delegation) and the first roster add nearly two hundred, which made each
//! take twice as long as the next one (`tests/bench/lazy-compile.mjs` counts them and times both; the
//! figures are in docs/benchmarks.md, "App speed", third pass). Android apps meet the same problem with
//! baseline profiles. Here, once per document and while the browser is idle, the same paths run on
//! copies or on nothing:
//! - `warm_typing`: a throwaway store over a clone of the session takes a typed answer and opens a member
//!   (it has no subscribers and no autosave, and is dropped), the parsers read sample text, the
//!   autosave's timer is made and cancelled, and one question that does not have the focus and the fill
//!   screen itself are re-rendered as they are;
//! - `WarmEvents`: an `input` and a `click` sent to detached elements whose callbacks do nothing;
//! - `use_warm_date_fields`: one off-screen date (or time) field, laid out and removed;
//! - `use_warm_member_page`: a roster's first member page, built into a detached element and dropped.
//!
//! Nothing is stored and nothing the surveyor sees changes.

use std::cell::Cell;

use doorstep_core::expr::{ItemId, Node};
use doorstep_core::form::model::ItemType;
use doorstep_core::session::Action;
use serde_json::json;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::Ctl;
use super::question::{dom_id, warm_parsers};
use crate::filling::Topic;
use crate::i18n::Lang;

thread_local! {
    static WARMED_TYPING: Cell<bool> = const { Cell::new(false) };
    static WARMED_EVENTS: Cell<bool> = const { Cell::new(false) };
    static WARMED_DATES: Cell<bool> = const { Cell::new(false) };
    static WARMED_PAGE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` when the browser is idle (`requestIdleCallback`, at most 2 s later), or after 200 ms.
pub fn when_idle(f: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast;
    let window = gloo::utils::window();
    let work = wasm_bindgen::closure::Closure::once_into_js(f);
    let idle = js_sys::Reflect::get(&window, &"requestIdleCallback".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match idle {
        Some(idle) => {
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"timeout".into(), &2_000.into());
            let _ = idle.call2(&window, &work, &options);
        }
        None => {
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(work.unchecked_ref(), 200);
        }
    }
}

/// Once per document, at the next idle moment: the first keystroke's code, run on copies.
pub fn warm_typing(ctl: &Ctl) {
    if WARMED_TYPING.with(|w| w.get()) {
        return;
    }
    let ctl = ctl.clone();
    when_idle(move || {
        if WARMED_TYPING.with(|w| w.replace(true)) {
            return;
        }
        warm_parsers();
        let shown = {
            let Ok(f) = ctl.0.try_borrow() else { return };
            let doc = gloo::utils::document();
            let active = doc.active_element();
            // A throwaway store over a copy of the session: no subscribers, no autosave, dropped below.
            let mut copy = crate::filling::Filling::new(f.session.clone(), f.meta.clone());
            let mut shown = None;
            let mut kinds_done = Vec::new();
            for &item in f.form.level_items(None) {
                let it = f.form.item(item);
                let value = match it.kind {
                    ItemType::Integer => json!(7),
                    ItemType::Decimal => json!(7.5),
                    ItemType::Text => json!("7"),
                    _ => continue,
                };
                let node = Node { item, scope: 0 };
                let st = f.session.state(node);
                if !st.relevant || st.read_only || it.is_computed() {
                    continue;
                }
                if !kinds_done.contains(&it.kind) {
                    kinds_done.push(it.kind);
                    let _ = copy.apply_typed(Action::Answer { node, value });
                    let _ = copy.apply(Action::Clear { node });
                }
                // A question on screen that the surveyor is not in: re-rendering it changes nothing.
                if shown.is_none()
                    && f.session.answer(node).is_none()
                    && let Some(el) = doc.get_element_by_id(&format!("{}-box", dom_id(node)))
                    && !active.as_ref().is_some_and(|a| el.contains(Some(a)))
                {
                    shown = Some(node);
                }
                if shown.is_some() && kinds_done.len() == 3 {
                    break;
                }
            }
            // Opening a member (on the copy), reading the scroll position, a frame callback, and the
            // autosave's timer, made and cancelled.
            let member = f
                .form
                .level_items(None)
                .iter()
                .find_map(|&r| copy.session.instances(r, 0).first().copied());
            if let Some(m) = member {
                let page = copy.pos.page;
                let _ = copy.go(
                    crate::nav::Pos {
                        page,
                        member: Some(m),
                    },
                    0.0,
                );
            }
            let window = gloo::utils::window();
            let _ = window.scroll_y();
            let frame = wasm_bindgen::closure::Closure::once_into_js(|| ());
            let _ = window.request_animation_frame(frame.unchecked_ref());
            drop(gloo::timers::callback::Timeout::new(1_000, || ()));
            // The fill screen rendered again as it is (same position: no scroll, no child re-rendered).
            let mut topics = vec![Topic::Pos];
            topics.extend(shown.map(Topic::Node));
            Some(f.collect(&topics))
        };
        if let Some(cbs) = shown {
            Ctl::run(cbs);
        }
    });
}

/// Yew handles every event through one listener per event type at the root of the app, which finds
/// the element's callback: that code ran for the first time on the first tap or keystroke the app
/// handled (in the bench, the timed ones). Once per document, while the browser is idle, this
/// component builds an input and a button with callbacks that do nothing into an element that is
/// never attached to the document, sends each one event (`input`, then `click`), and drops them.
#[function_component(WarmEvents)]
pub fn warm_events() -> Html {
    let host = use_state(|| None::<web_sys::Element>);
    // Rendered a second time with other attributes, as a screen changing its buttons does.
    let again = use_state(|| false);
    {
        let host = host.clone();
        use_effect_with((), move |_| {
            if !WARMED_EVENTS.with(|w| w.get()) {
                when_idle(move || {
                    if !WARMED_EVENTS.with(|w| w.replace(true))
                        && let Ok(el) = gloo::utils::document().create_element("div")
                    {
                        host.set(Some(el));
                    }
                });
            }
            || ()
        });
    }
    {
        let host = host.clone();
        let again = again.clone();
        use_effect_with(host.is_some(), move |&shown| {
            if shown {
                // Rendered: send the events now, drop the elements at the next idle moment.
                if let Some(el) = &*host {
                    send(el, "input[data-warm]", "input");
                    send(el, "button[data-warm]", "click");
                }
                again.set(true);
                when_idle(move || host.set(None));
            }
            || ()
        });
    }
    match &*host {
        Some(el) => create_portal(
            html! {
                <div>
                    <input data-warm="" oninput={Callback::from(|_: InputEvent| ())} />
                    if *again {
                        <button data-warm="" title="-" onclick={Callback::from(|_: MouseEvent| ())}></button>
                    } else {
                        <button data-warm="" aria-label="-" class="x" onclick={Callback::from(|_: MouseEvent| ())}></button>
                    }
                </div>
            },
            el.clone(),
        ),
        None => html! {},
    }
}

/// Dispatches a bubbling event of type `kind` on the element `selector` finds under `root`.
fn send(root: &web_sys::Element, selector: &str, kind: &str) {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    if let Ok(Some(target)) = root.query_selector(selector)
        && let Ok(event) = web_sys::Event::new_with_event_init_dict(kind, &init)
    {
        let _ = target
            .unchecked_ref::<web_sys::EventTarget>()
            .dispatch_event(&event);
    }
}

/// Warms the date, time and date-time fields the members of roster `item` have (`warm_date_fields`).
#[hook]
pub fn use_warm_date_fields(ctl: &Ctl, item: ItemId) {
    {
        let ctl = ctl.clone();
        use_effect_with((), move |_| {
            let types = {
                let f = ctl.0.borrow();
                let mut types = Vec::new();
                for &i in f.form.level_items(Some(item)) {
                    let ty = match f.form.item(i).kind {
                        ItemType::Date => "date",
                        ItemType::Time => "time",
                        ItemType::Datetime => "datetime-local",
                        _ => continue,
                    };
                    if !types.contains(&ty) {
                        types.push(ty);
                    }
                }
                types
            };
            warm_date_fields(types);
        });
    }
}

/// Chromium builds the first date or time field of a document slowly: about 40 ms at 4x CPU slowdown
/// (its editing fields and the locale's formats), the next ones in 1-4 ms. A member's page usually has
/// one (a birth date), so adding or opening the first member paid it. A roster whose members have such
/// fields makes one off screen while the browser is idle, once per document.
fn warm_date_fields(types: Vec<&'static str>) {
    if types.is_empty() || WARMED_DATES.with(|w| w.replace(true)) {
        return;
    }
    // Two idle tasks per type (the field's creation, then its first layout), each about 20 ms at 4x,
    // so a tap arriving meanwhile waits less.
    for ty in types {
        when_idle(move || {
            let doc = gloo::utils::document();
            if doc
                .query_selector(&format!("input[type={ty}]"))
                .ok()
                .flatten()
                .is_some()
            {
                return;
            }
            let Ok(el) = doc.create_element("input") else {
                return;
            };
            let _ = el.set_attribute("type", ty);
            let _ = el.set_attribute("aria-hidden", "true");
            let _ = el.set_attribute("tabindex", "-1");
            let _ = el.set_attribute(
                "style",
                "position:fixed;left:-200vw;top:0;visibility:hidden",
            );
            when_idle(move || {
                if let Some(body) = gloo::utils::document().body()
                    && body.append_child(&el).is_ok()
                {
                    let _ = el.get_bounding_client_rect();
                    el.remove();
                }
            });
        });
    }
}

/// The first member's page opened or added ran its code for the first time (see the module's text and
/// docs/benchmarks.md, "App speed", third pass). Once per document, when the browser is idle, a roster
/// builds the page of its first member into a host element that is never attached to the document
/// (`create_portal`), so no query, focus or screen reader can meet it, and drops it at the next idle
/// moment. Nothing is written: the page's questions only read the session.
#[hook]
pub fn use_warm_member_page(ctl: &Ctl, node: Node, lang: Lang) -> Html {
    let host = use_state(|| None::<(u32, web_sys::Element)>);
    {
        let ctl = ctl.clone();
        let host = host.clone();
        use_effect_with(node, move |&node| {
            if !WARMED_PAGE.with(|w| w.get()) {
                when_idle(move || {
                    let first =
                        ctl.0.try_borrow().ok().and_then(|f| {
                            f.session.instances(node.item, node.scope).first().copied()
                        });
                    let Some(inst) = first else { return };
                    if WARMED_PAGE.with(|w| w.replace(true)) {
                        return;
                    }
                    if let Ok(el) = gloo::utils::document().create_element("div") {
                        host.set(Some((inst, el)));
                    }
                });
            }
            || ()
        });
    }
    {
        let host = host.clone();
        use_effect_with(host.as_ref().map(|(i, _)| *i), move |shown| {
            if shown.is_some() {
                when_idle(move || host.set(None));
            }
            || ()
        });
    }
    let Some((inst, el)) = (*host).clone() else {
        return html! {};
    };
    let items = ctl.0.borrow().form.item(node.item).children.clone();
    let page = items.iter().map(|&i| {
        html! { <super::item_view::ItemView key={i} ctl={ctl.clone()} item={i} scope={inst} {lang} page_title={false} /> }
    });
    create_portal(html! { <div class="member-page">{ for page }</div> }, el)
}
