//! The Doorstep surveyor app: a Yew single-page app, compiled to WebAssembly, that fills forms offline.
//!
//! Source layout:
//! - native and tested with `cargo test -p doorstep-web`: `filling` (the interview's state and the
//!   per-question update store), `nav` (pages, positions, table of contents), `save` (the autosave state
//!   machine behind the "saved" indicator), `record` (what is kept in IndexedDB), `markdown` (the safe
//!   label subset), `i18n` (the interface in Chinese and English);
//! - browser only (wasm32): `app` and `components/` (one component per file), `services/` (all IO:
//!   IndexedDB storage, files and downloads, geolocation).
//!
//! **Architecture invariant:** components never touch storage directly; every write of interview data
//! goes through `services::storage` in a transaction with strict durability.

pub mod filling;
pub mod i18n;
pub mod markdown;
pub mod nav;
pub mod record;
pub mod save;
