//! Settings: the surveyor's name, the device id, the app's version, and storage (persistence asked
//! for, space used).

use yew::prelude::*;

use super::app::AppCtx;
use crate::i18n::bytes;
use crate::services::{device, interviews};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: AppCtx,
}

#[function_component(SettingsScreen)]
pub fn settings_screen(p: &Props) -> Html {
    let ctx = p.ctx.clone();
    let t = ctx.lang().t();
    let persisted = use_state(|| None::<Option<bool>>);
    let usage = use_state(|| None::<(f64, f64)>);
    let name = use_state(|| ctx.settings.surveyor.clone());
    {
        let persisted = persisted.clone();
        let usage = usage.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                persisted.set(Some(device::persist().await));
                usage.set(device::estimate().await);
            });
            || ()
        });
    }
    let on_name = {
        let name = name.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            name.set(el.value());
        })
    };
    let save = {
        let ctx = ctx.clone();
        let name = name.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut s = (*ctx.settings).clone();
            s.surveyor = name.trim().to_string();
            ctx.settings.set(s.clone());
            let ctx = ctx.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match interviews::save_settings(&s).await {
                    Ok(()) => ctx.say(false, ctx.lang().t().saved),
                    Err(e) => ctx.say(true, crate::i18n::storage_failed(&e)),
                }
            });
        })
    };
    let persist_text = match *persisted {
        None => t.loading,
        Some(Some(true)) => t.persist_granted,
        Some(Some(false)) => t.persist_denied,
        Some(None) => t.persist_unknown,
    };
    let persist_class = match *persisted {
        Some(Some(true)) => "notice ok",
        Some(Some(false)) => "notice warn",
        _ => "notice",
    };
    html! {
        <>
            <h2 class="page-title">{ t.settings }</h2>
            <form class="card" onsubmit={save}>
                <label for="surveyor" class="q-label">{ t.surveyor_name }</label>
                <input id="surveyor" class="search" type="text" value={(*name).clone()} oninput={on_name} autocomplete="name" />
                <button class="btn primary block" type="submit">{ t.save }</button>
                <p class="muted">{ format!("{}: {}", t.device_id, ctx.settings.device_id) }</p>
                if let Some(v) = device::app_version() {
                    <p class="muted" data-testid="app-version" data-version={v.clone()}>{ format!("{}: {v}", t.app_version) }</p>
                }
            </form>
            <section class="card" data-testid="storage">
                <h3>{ t.storage }</h3>
                <div class={persist_class} data-persisted={format!("{:?}", *persisted)}>{ persist_text }</div>
                if let Some((used, quota)) = *usage {
                    <p>{ format!("{}: {} / {}", t.space_used, bytes(used), bytes(quota)) }</p>
                }
            </section>
        </>
    }
}
