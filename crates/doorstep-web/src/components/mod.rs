//! The Yew components, one per file. They take props, emit callbacks, read the interview through a
//! shared [`Ctl`], and leave every write to `services/`.

pub mod app;
pub mod barcode;
pub mod bench;
pub mod confirm;
pub mod export_history;
pub mod export_screen;
pub mod fill_screen;
pub mod forms_screen;
pub mod geopoint;
pub mod item_view;
pub mod list_screen;
pub mod media;
pub mod question;
pub mod review_screen;
pub mod rich_text;
pub mod roster;
pub mod save_bar;
pub mod settings_screen;
pub mod signature;
pub mod toc;
pub mod warm;

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use crate::filling::{Filling, Topic};
use crate::i18n::Lang;

/// The interview being filled, shared by the components of the fill screen.
#[derive(Clone)]
pub struct Ctl(pub Rc<RefCell<Filling>>);

impl PartialEq for Ctl {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Ctl {
    /// Runs callbacks collected while the state was borrowed.
    pub fn run(cbs: Vec<crate::filling::Notify>) {
        for cb in cbs {
            cb();
        }
    }
}

/// Re-renders the calling component whenever `topic` is published (the per-question update store).
#[hook]
pub fn use_topic(ctl: &Ctl, topic: Topic) {
    let update = use_force_update();
    let ctl = ctl.clone();
    use_effect_with(topic, move |topic| {
        let topic = *topic;
        let id = ctl
            .0
            .borrow_mut()
            .subscribe(topic, Rc::new(move || update.force_update()));
        move || {
            if let Ok(mut f) = ctl.0.try_borrow_mut() {
                f.unsubscribe(topic, id);
            }
        }
    });
}

/// Re-renders the calling component whenever one of `topics` is published (a fixed list per component).
#[hook]
pub fn use_topics(ctl: &Ctl, topics: Vec<Topic>) {
    let update = use_force_update();
    let ctl = ctl.clone();
    use_effect_with(topics, move |topics| {
        let ids: Vec<(Topic, u64)> = {
            let mut f = ctl.0.borrow_mut();
            topics
                .iter()
                .map(|&t| {
                    let u = update.clone();
                    (t, f.subscribe(t, Rc::new(move || u.force_update())))
                })
                .collect()
        };
        move || {
            if let Ok(mut f) = ctl.0.try_borrow_mut() {
                for (t, id) in ids {
                    f.unsubscribe(t, id);
                }
            }
        }
    });
}

/// Runs `f` in the next animation frame: before the browser lays out and paints the DOM just
/// written, so that what `f` measures, scrolls or focuses costs no extra layout.
pub fn next_frame(f: impl FnOnce() + 'static) {
    let frame = wasm_bindgen::closure::Closure::once_into_js(f);
    let _ =
        gloo::utils::window().request_animation_frame(wasm_bindgen::JsCast::unchecked_ref(&frame));
}

/// Calls `on_escape` when Escape is pressed while the calling component is mounted (dialogs close on
/// it; the phone's back button sends it to an open dialog, see `app.rs`).
#[hook]
pub fn use_escape(on_escape: Callback<()>) {
    use_effect_with((), move |_| {
        let listener =
            gloo::events::EventListener::new(&gloo::utils::document(), "keydown", move |e| {
                use wasm_bindgen::JsCast;
                if e.dyn_ref::<web_sys::KeyboardEvent>()
                    .is_some_and(|k| k.key() == "Escape")
                {
                    on_escape.emit(());
                }
            });
        move || drop(listener)
    });
}

/// A dialog takes the keyboard focus when it opens (on the first element of `dialog` that matches
/// `selector`, else its first enabled button), keeps it while open (Tab from its last control goes
/// to its first, Shift+Tab from its first to its last), and gives it back to what had it when it
/// closes, if that is still on the page; without this the focus stays behind the sheet and Tab
/// wanders the page under it.
#[hook]
pub fn use_dialog_focus(dialog: NodeRef, selector: &'static str) {
    use wasm_bindgen::JsCast;
    use_effect_with((), move |_| {
        let before = gloo::utils::document().active_element();
        let sheet = dialog.cast::<web_sys::Element>();
        let target = sheet.as_ref().and_then(|d| {
            d.query_selector(selector)
                .ok()
                .flatten()
                .or_else(|| d.query_selector("button:not(:disabled)").ok().flatten())
        });
        if let Some(el) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
        let trap = sheet.map(|sheet| {
            let inside = sheet.clone();
            // Not passive: a wrapping Tab is prevented from also moving the focus on.
            let options = gloo::events::EventListenerOptions::enable_prevent_default();
            gloo::events::EventListener::new_with_options(&sheet, "keydown", options, move |e| {
                let Some(k) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                    return;
                };
                if k.key() != "Tab" {
                    return;
                }
                let Ok(list) = inside.query_selector_all(
                    "button:not(:disabled), a[href], input:not(:disabled), select, textarea, [tabindex=\"0\"]",
                ) else {
                    return;
                };
                let (Some(first), Some(last)) = (list.get(0), list.get(list.length().saturating_sub(1)))
                else {
                    return;
                };
                let active = gloo::utils::document().active_element();
                let at = |n: &web_sys::Node| active.as_ref().is_some_and(|a| a.is_same_node(Some(n)));
                let wrap_to = match (k.shift_key(), at(&first), at(&last)) {
                    (true, true, _) => Some(last),
                    (false, _, true) => Some(first),
                    _ => None,
                };
                if let Some(el) = wrap_to.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
                    k.prevent_default();
                    let _ = el.focus();
                }
            })
        });
        move || {
            drop(trap);
            let before = before
                .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok())
                .filter(|b| b.is_connected());
            if let Some(el) = before {
                let _ = el.focus();
            }
        }
    });
}

/// What every screen needs to know.
#[derive(Clone, PartialEq)]
pub struct Env {
    pub lang: Lang,
}
