//! The browser's clock, random ids, and storage persistence and quota.

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
