//! The Doorstep surveyor app: a Yew single-page app, compiled to WebAssembly, that fills forms offline.
//!
//! Source layout:
//! - native and tested with `cargo test -p doorstep-web`: `filling` (the interview's state and the
//!   per-question update store), `nav` (pages, positions, table of contents), `save` (the autosave state
//!   machine behind the "saved" indicator), `record` (what is kept in IndexedDB), `markdown` (the safe
//!   label subset), `i18n` (the interface in Chinese and English), `photo` (how photos are made smaller);
//! - browser only (wasm32): `app` and `components/` (one component per file), `services/` (all IO:
//!   IndexedDB storage, files and downloads, geolocation).
//!
//! **Architecture invariant:** components never touch storage directly; every write of interview data
//! goes through `services::storage` in a transaction with strict durability.

pub mod filling;
pub mod i18n;
pub mod markdown;
pub mod nav;
pub mod photo;
pub mod record;
pub mod save;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod services;

/// Mounts the app over the static first screen of `index.html`.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    let root = gloo::utils::document()
        .get_element_by_id("app")
        .expect("index.html has #app");
    root.set_inner_html("");
    yew::Renderer::<components::app::App>::with_root(root).render();
}
