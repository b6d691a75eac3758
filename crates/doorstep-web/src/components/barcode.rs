//! Scanning a barcode or QR code with the camera, for `barcode` questions (form-format.md: "scanned with
//! the camera where the browser can, else typed").
//!
//! The button opens the phone's camera for one photo (`<input type=file capture>`, which works on every
//! Android browser without a camera permission prompt inside the page), and the browser's
//! `BarcodeDetector` reads the code from it. Where the browser has no `BarcodeDetector` (most desktop
//! browsers, older phones) the button is not shown and the code is typed into the field beside it.
//! A photo in which nothing is found leaves the answer as it was and says so.

use doorstep_core::expr::Node;
use js_sys::{Array, Function, Promise, Reflect};
use serde_json::Value as Json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

use super::Ctl;
use super::question::answer;
use crate::i18n::Lang;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub node: Node,
    pub lang: Lang,
    /// The id of the text field the code goes into (the button's file input is `<id>-scan`).
    pub id: AttrValue,
}

/// Whether this browser can read codes from a picture (`window.BarcodeDetector` exists).
pub fn supported() -> bool {
    Reflect::has(&gloo::utils::window(), &"BarcodeDetector".into()).unwrap_or(false)
}

/// Why a scan gave no code.
#[derive(Debug, PartialEq)]
pub enum ScanError {
    /// The picture was read but holds no code the browser recognises.
    NothingFound,
    /// The browser failed (the picture could not be decoded, the detector refused); its message.
    Failed(String),
}

fn js_error(e: JsValue) -> ScanError {
    let msg = Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    ScanError::Failed(msg)
}

/// The first code's text in what `BarcodeDetector.detect` returned (an array of `{rawValue, ...}`).
/// Blank codes are skipped: an answer is never set to nothing by a scan.
pub fn first_code(found: &[Option<String>]) -> Result<String, ScanError> {
    found
        .iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or(ScanError::NothingFound)
}

/// Reads the codes in a picture file with the browser's `BarcodeDetector`.
async fn detect(file: web_sys::File) -> Result<String, ScanError> {
    let window = gloo::utils::window();
    let ctor: Function = Reflect::get(&window, &"BarcodeDetector".into())
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| ScanError::Failed("BarcodeDetector is not available".into()))?;
    let detector = Reflect::construct(&ctor, &Array::new()).map_err(js_error)?;
    // `detect` takes a Blob-derived image only through an ImageBitmap.
    let make_bitmap: Function = Reflect::get(&window, &"createImageBitmap".into())
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| ScanError::Failed("createImageBitmap is not available".into()))?;
    let bitmap = JsFuture::from(Promise::from(
        make_bitmap.call1(&window, &file).map_err(js_error)?,
    ))
    .await
    .map_err(js_error)?;
    let detect: Function = Reflect::get(&detector, &"detect".into())
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| ScanError::Failed("BarcodeDetector.detect is missing".into()))?;
    let found = JsFuture::from(Promise::from(
        detect.call1(&detector, &bitmap).map_err(js_error)?,
    ))
    .await;
    if let Ok(close) = Reflect::get(&bitmap, &"close".into()).and_then(|c| c.dyn_into::<Function>())
    {
        let _ = close.call0(&bitmap);
    }
    let found: Array = found.map_err(js_error)?.dyn_into().unwrap_or_default();
    let values: Vec<Option<String>> = found
        .iter()
        .map(|c| {
            Reflect::get(&c, &"rawValue".into())
                .ok()
                .and_then(|v| v.as_string())
        })
        .collect();
    first_code(&values)
}

#[function_component(ScanButton)]
pub fn scan_button(p: &Props) -> Html {
    let t = p.lang.t();
    let busy = use_state(|| false);
    let problem = use_state(|| None::<String>);
    if !supported() {
        return html! {};
    }
    let input_id = format!("{}-scan", p.id);
    let onchange = {
        let ctl = p.ctl.clone();
        let node = p.node;
        let busy = busy.clone();
        let problem = problem.clone();
        let lang = p.lang;
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let Some(file) = input.files().and_then(|l| l.get(0)) else {
                return;
            };
            // The same photo chosen again must fire `change` again.
            input.set_value("");
            let ctl = ctl.clone();
            let busy = busy.clone();
            let problem = problem.clone();
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let t = lang.t();
                let r = match detect(file).await {
                    Ok(code) => answer(&ctl, node, Some(Json::String(code))),
                    Err(ScanError::NothingFound) => Err(t.scan_nothing_found.to_string()),
                    Err(ScanError::Failed(m)) => Err(format!("{}{m}", t.scan_failed)),
                };
                busy.set(false);
                problem.set(r.err());
            });
        })
    };
    html! {
        <div class="scan">
            <label class={classes!("btn", "block", busy.then_some("busy"))} for={input_id.clone()}>
                { if *busy { t.scanning } else { t.scan_code } }
            </label>
            <input id={input_id} class="sr-only" type="file" accept="image/*" capture="environment" {onchange} />
            if let Some(m) = &*problem { <div class="q-error" role="alert">{ m.clone() }</div> }
        </div>
    }
}
