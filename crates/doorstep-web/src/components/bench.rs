//! The route `#/bench?form=<id>[&page=<group>][&members=<n>]` (docs/bench-web-protocol.md): a new
//! draft of one shipped form at once, without the form list. `index.html` starts fetching the form
//! (and shows its first page as plain HTML) before the WebAssembly has even loaded.

use doorstep_core::form::model::ItemType;
use doorstep_core::session::Action;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::Ctl;
use crate::i18n::Lang;
use crate::nav::Pos;
use crate::record::Settings;
use crate::services::{files, interviews};

pub struct Request {
    pub form: String,
    pub page: Option<String>,
    pub members: usize,
}

/// The bench request in `location.hash`, if there is one.
pub fn request() -> Option<Request> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let query = hash.strip_prefix("#/bench?")?;
    let mut req = Request {
        form: String::new(),
        page: None,
        members: 0,
    };
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "form" => req.form = v.to_string(),
            "page" => req.page = Some(v.to_string()),
            // Bounded like any repeat: the form's own max refuses the rest.
            "members" => {
                req.members = v
                    .parse()
                    .unwrap_or(0)
                    .min(crate::filling::MAX_SHOWN_INSTANCES)
            }
            _ => {}
        }
    }
    let safe = !req.form.is_empty()
        && req
            .form
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    safe.then_some(req)
}

/// The form's bytes: from the fetch `index.html` started, or fetched now.
async fn form_bytes(id: &str) -> Result<Vec<u8>, String> {
    let global = js_sys::global();
    let started = js_sys::Reflect::get(&global, &"doorstepFormFetch".into())
        .ok()
        .filter(|v| v.is_object());
    if let Some(started) = started {
        let same = js_sys::Reflect::get(&started, &"id".into())
            .ok()
            .and_then(|v| v.as_string())
            .is_some_and(|s| s == id);
        if let (true, Ok(promise)) = (same, js_sys::Reflect::get(&started, &"bytes".into()))
            && let Ok(promise) = promise.dyn_into::<js_sys::Promise>()
            && let Ok(buf) = JsFuture::from(promise).await
        {
            return Ok(js_sys::Uint8Array::new(&buf).to_vec());
        }
    }
    files::fetch_bytes(&format!("./forms/{id}.form.json")).await
}

/// Installs the form when needed, starts a draft, adds members and opens the page asked for.
pub async fn start(req: &Request, settings: &Settings, lang: Lang) -> Result<Ctl, String> {
    let bytes = form_bytes(&req.form)
        .await
        .map_err(|e| format!("{}: {e}", req.form))?;
    let rec = interviews::install(&bytes, "shipped").await.map_err(|d| {
        format!(
            "{}: {}",
            req.form,
            d.first().map(|d| d.to_string()).unwrap_or_default()
        )
    })?;
    drop(bytes);
    let ctl = interviews::start(&rec.key, settings, lang.tag()).await?;
    let next = {
        let mut f = ctl.0.borrow_mut();
        let l = lang.pick_form_language(&f.form.languages);
        f.session.set_language(&l);
        let mut next = None;
        if req.members > 0 {
            let repeat = f
                .form
                .items
                .iter()
                .find(|i| i.kind == ItemType::Repeat)
                .map(|i| i.id);
            if let Some(repeat) = repeat {
                for _ in 0..req.members {
                    match f.apply(Action::AddInstance { repeat, parent: 0 }) {
                        Ok((_, n)) => next = Some(n),
                        Err(_) => break,
                    }
                }
            }
        }
        if let Some(name) = &req.page {
            let page = f
                .pages
                .iter()
                .position(|p| p.title_item.is_some_and(|i| f.form.item(i).name == *name));
            if let Some(page) = page {
                let _ = f.go(Pos { page, member: None }, 0.0);
            }
        }
        next
    };
    if let Some(next) = next {
        interviews::autosave(&ctl, next);
    }
    Ok(ctl)
}

/// Replaces the plain-HTML first page of `index.html` (if it is there) with what the app rendered;
/// true if the surveyor was typing there and the focus moved to the same field in the app.
pub fn takeover() -> bool {
    let global = js_sys::global();
    if let Ok(f) = js_sys::Reflect::get(&global, &"doorstepTakeover".into())
        && let Some(f) = f.dyn_ref::<js_sys::Function>()
    {
        return f.call0(&global).is_ok_and(|v| v.is_truthy());
    }
    false
}

/// Keeps the interface language where `index.html` can read it before the app starts.
pub fn remember_lang(lang: Lang) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.local_storage()) {
        let _ = storage.set_item(
            "doorstep-lang",
            lang.tag().split('-').next().unwrap_or("zh"),
        );
    }
}
