//! The browser's clock, random ids, storage persistence and quota, and the app's own version and
//! updates.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use doorstep_core::expr::Clock;

/// Now as the engine's clock (UTC milliseconds and the phone's offset).
pub fn clock() -> Clock {
    let d = js_sys::Date::new_0();
    Clock {
        utc_millis: d.get_time() as i64,
        offset_minutes: -(d.get_timezone_offset() as i32),
    }
}

/// Now as RFC 3339 with the phone's offset, to the second (`2026-11-22T09:14:03+08:00`).
pub fn now_rfc3339() -> String {
    // Formatted by hand rather than with chrono's `format`, whose parser would add to every download.
    use chrono::{Datelike, Offset, Timelike};
    let now = chrono::Local::now();
    let off = now.offset().fix().local_minus_utc() / 60;
    let sign = if off < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        now.year(),
        now.month(),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        off.abs() / 60,
        off.abs() % 60
    )
}

/// A new submission id: `uuid:` and a random (version 4) UUID from the browser's CSPRNG.
pub fn new_instance_id() -> String {
    format!("uuid:{}", uuid::Uuid::new_v4())
}

/// A random seed for the engine's `random()` and `uuid()`.
pub fn seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        return js_sys::Date::now() as u64;
    }
    u64::from_le_bytes(b)
}

/// Asks the browser to keep our data (`navigator.storage.persist()`); `None` when it cannot say.
pub async fn persist() -> Option<bool> {
    let storage = web_sys::window()?.navigator().storage();
    let already = JsFuture::from(storage.persisted().ok()?)
        .await
        .ok()?
        .as_bool();
    if already == Some(true) {
        return Some(true);
    }
    JsFuture::from(storage.persist().ok()?)
        .await
        .ok()?
        .as_bool()
}

/// Space used and the quota, in bytes.
pub async fn estimate() -> Option<(f64, f64)> {
    let storage = web_sys::window()?.navigator().storage();
    let v = JsFuture::from(storage.estimate().ok()?).await.ok()?;
    let e: web_sys::StorageEstimate = v.unchecked_into();
    Some((e.get_usage()?, e.get_quota()?))
}

/// The build version of the running app (`__VERSION__`, filled by the build into `index.html`'s
/// `<meta name="doorstep-version">`: 16 hex digits that change whenever any file of the site
/// changes); `None` when the page was not built (the placeholder is still there).
pub fn app_version() -> Option<String> {
    let meta = gloo::utils::document()
        .query_selector(r#"meta[name="doorstep-version"]"#)
        .ok()??;
    meta.get_attribute("content")
        .filter(|v| !v.is_empty() && !v.contains("__"))
}

/// Calls `updated` once a newer build of the app has taken over this page (its service worker
/// controls the page now; the running code is the old one until the app is reopened).
/// `index.html` notices it from the start (`doorstepUpdated`, the `doorstep-updated` event), so
/// an update that lands while the WebAssembly is still loading is not missed. Keep the returned
/// listener alive as long as it should listen.
pub fn on_app_update(updated: impl Fn() + 'static) -> gloo::events::EventListener {
    let window = gloo::utils::window();
    let already =
        js_sys::Reflect::get(&window, &"doorstepUpdated".into()).is_ok_and(|v| v.is_truthy());
    if already {
        updated();
    }
    gloo::events::EventListener::new(&window, "doorstep-updated", move |_| updated())
}
