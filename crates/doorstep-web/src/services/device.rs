//! The browser's clock, random ids, and storage persistence and quota.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use doorstep_core::expr::Clock;

/// Now as the engine's clock (UTC milliseconds and the phone's offset).
pub fn clock() -> Clock {
    let d = js_sys::Date::new_0();
    Clock { utc_millis: d.get_time() as i64, offset_minutes: -(d.get_timezone_offset() as i32) }
}

/// Now as RFC 3339 with the phone's offset, to the second (`2026-11-22T09:14:03+08:00`).
pub fn now_rfc3339() -> String {
    // The browser's `Date` gives the local fields; formatted by hand (no chrono) to keep the download small.
    let d = js_sys::Date::new_0();
    let off = -(d.get_timezone_offset() as i32);
    let sign = if off < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        off.abs() / 60,
        off.abs() % 60
    )
}

/// A new submission id: `uuid:` and a random (version 4) UUID from the browser's CSPRNG.
pub fn new_instance_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No CSPRNG (never in a browser that runs wasm): time and Math.random still make it unique enough.
        let t = js_sys::Date::now() as u64;
        let r = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        b[..8].copy_from_slice(&t.to_le_bytes());
        b[8..].copy_from_slice(&r.to_le_bytes());
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(41);
    out.push_str("uuid:");
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 15)] as char);
    }
    out
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
    let already = JsFuture::from(storage.persisted().ok()?).await.ok()?.as_bool();
    if already == Some(true) {
        return Some(true);
    }
    JsFuture::from(storage.persist().ok()?).await.ok()?.as_bool()
}

/// Space used and the quota, in bytes.
pub async fn estimate() -> Option<(f64, f64)> {
    let storage = web_sys::window()?.navigator().storage();
    let v = JsFuture::from(storage.estimate().ok()?).await.ok()?;
    let e: web_sys::StorageEstimate = v.unchecked_into();
    Some((e.get_usage()?, e.get_quota()?))
}
