//! The device's location, for geopoint questions: one high-accuracy reading with its accuracy.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;

/// A reading: latitude, longitude, altitude (if known) and accuracy in metres.
pub struct Fix {
    pub lat: f64,
    pub lon: f64,
    pub alt: Option<f64>,
    pub accuracy: f64,
}

/// A reading less accurate than this (metres) is kept, with advice to try again outdoors: a
/// phone indoors often gives its network's guess, hundreds of metres off.
pub const POOR_ACCURACY_M: f64 = 100.0;

/// Asks for the position once (up to 30 s). The error is the browser's
/// `GeolocationPositionError.code` (1 not allowed, 2 unavailable, 3 timed out), 0 when the
/// browser has no location at all; `i18n::location_problem` says it.
pub async fn locate() -> Result<Fix, u16> {
    let geo = web_sys::window()
        .ok_or(0u16)?
        .navigator()
        .geolocation()
        .map_err(|_| 0u16)?;
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move |pos: wasm_bindgen::JsValue| {
            let _ = resolve.call1(&wasm_bindgen::JsValue::NULL, &pos);
        });
        let err = Closure::once_into_js(move |e: wasm_bindgen::JsValue| {
            let _ = reject.call1(&wasm_bindgen::JsValue::NULL, &e);
        });
        let opts = web_sys::PositionOptions::new();
        opts.set_enable_high_accuracy(true);
        opts.set_timeout(30_000);
        opts.set_maximum_age(0);
        let _ = geo.get_current_position_with_error_callback_and_options(
            ok.unchecked_ref(),
            Some(err.unchecked_ref()),
            &opts,
        );
    });
    match JsFuture::from(promise).await {
        Ok(pos) => {
            let pos: web_sys::Position = pos.unchecked_into();
            let c = pos.coords();
            Ok(Fix {
                lat: c.latitude(),
                lon: c.longitude(),
                alt: c.altitude(),
                accuracy: c.accuracy(),
            })
        }
        // The browser's message is English ("User denied Geolocation"): only its code is used.
        Err(e) => Err(js_sys::Reflect::get(&e, &"code".into())
            .ok()
            .and_then(|c| c.as_f64())
            .map_or(2, |c| c as u16)),
    }
}
