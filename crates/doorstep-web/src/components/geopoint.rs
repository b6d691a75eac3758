//! A geopoint question: capture from the device with the accuracy shown, or type the coordinates.

use doorstep_core::expr::Node;
use serde_json::{Value as Json, json};
use yew::prelude::*;

use super::Ctl;
use super::question::answer;
use crate::i18n::Lang;
use crate::services::geo;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub node: Node,
    pub lang: Lang,
    pub value: Option<Json>,
    pub read_only: bool,
}

#[function_component(Geopoint)]
pub fn geopoint(p: &Props) -> Html {
    let t = p.lang.t();
    let busy = use_state(|| false);
    let failure = use_state(|| None::<String>);
    let get = |k: &str| {
        p.value
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(|x| x.as_f64())
    };
    let (lat, lon, acc) = (get("lat"), get("lon"), get("accuracy"));
    let capture = {
        let ctl = p.ctl.clone();
        let node = p.node;
        let busy = busy.clone();
        let failure = failure.clone();
        let lang = p.lang;
        Callback::from(move |_: MouseEvent| {
            busy.set(true);
            let ctl = ctl.clone();
            let busy = busy.clone();
            let failure = failure.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match geo::locate().await {
                    Ok(fix) => {
                        let mut v = json!({ "lat": fix.lat, "lon": fix.lon, "accuracy": (fix.accuracy * 10.0).round() / 10.0 });
                        if let Some(alt) = fix.alt {
                            v["alt"] = json!(alt);
                        }
                        failure.set(None);
                        if let Err(e) = answer(&ctl, node, Some(v)) {
                            failure.set(Some(e));
                        }
                    }
                    Err(code) => failure.set(Some(format!(
                        "{}{}",
                        lang.t().location_failed,
                        crate::i18n::location_problem(lang, code)
                    ))),
                }
                busy.set(false);
            });
        })
    };
    let typed = |key: &'static str| {
        let ctl = p.ctl.clone();
        let node = p.node;
        let value = p.value.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            let mut v = value
                .clone()
                .filter(|v| v.is_object())
                .unwrap_or_else(|| json!({}));
            match el.value().trim().parse::<f64>() {
                Ok(x) => v[key] = json!(x),
                Err(_) => {
                    if let Some(o) = v.as_object_mut() {
                        o.remove(key);
                    }
                }
            }
            // Typed coordinates have no measured accuracy.
            if let Some(o) = v.as_object_mut() {
                o.remove("accuracy");
            }
            let complete = v.get("lat").is_some() && v.get("lon").is_some();
            let _ = answer(&ctl, node, complete.then_some(v));
        })
    };
    let id = super::question::dom_id(p.node);
    html! {
        <div>
            if !p.read_only {
                <button class="btn block" onclick={capture} disabled={*busy} id={id.clone()}>
                    { if *busy { t.locating } else { t.capture_location } }
                </button>
            }
            if let Some(a) = acc {
                <p class="muted" aria-live="polite" data-testid="accuracy">{ format!("{}: ±{a:.0} m", t.accuracy) }
                    if a > geo::POOR_ACCURACY_M { { format!(" · {}", t.accuracy_poor) } }</p>
            }
            if let Some(e) = &*failure { <p class="q-error" role="alert">{ e.clone() }</p> }
            <div class="geo">
                <div><label for={format!("{id}-lat")}>{ t.latitude }</label>
                    <input id={format!("{id}-lat")} type="text" inputmode="decimal" value={lat.map(|x| x.to_string()).unwrap_or_default()}
                        oninput={typed("lat")} readonly={p.read_only} /></div>
                <div><label for={format!("{id}-lon")}>{ t.longitude }</label>
                    <input id={format!("{id}-lon")} type="text" inputmode="decimal" value={lon.map(|x| x.to_string()).unwrap_or_default()}
                        oninput={typed("lon")} readonly={p.read_only} /></div>
            </div>
        </div>
    }
}
