//! The Doorstep form engine: one engine for the surveyor app (wasm32) and the office tools (native).
//!
//! The engine loads and checks a form definition once ([`form::load`]), then runs any number of
//! [`session::Session`]s over it: one per interview, answering `apply(action) -> changes` and
//! re-evaluating only what depends on the change. It does no IO and has no clock or randomness of
//! its own: hosts pass them in through [`session::Host`].
//!
//! Source layout:
//! - `form/`: the JSON model of a form (`model`), loading and every load-time check (`load`),
//!   diagnostics (`diag`), the compiled form with its dependency graph (`compiled`).
//! - `expr/`: the expression language: lexer, parser, evaluator and function library.
//! - `session`: the state of one filling and incremental evaluation.
//! - `validate`: the verdict on a submission, live or stored.
//! - `submission`, `bundle`: the submission envelope and the export bundle (ZIP, manifest, CSV).
//!
//! ```
//! use doorstep_core::{form, session::{Action, Host, Session}};
//! let src = r#"{"format": "doorstep-form/1", "id": "demo", "version": "1", "title": "Demo",
//!   "languages": ["en"], "items": [
//!     {"type": "integer", "name": "age", "label": "Age"},
//!     {"type": "text", "name": "school", "label": "School", "relevant": "${age} < 18"}]}"#;
//! let loaded = form::load(src);
//! let form = std::rc::Rc::new(loaded.form.expect("the form loads"));
//! let mut session = Session::new(form.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
//! let age = form.node("age").unwrap();
//! session.apply(Action::Answer { node: age, value: 12.into() }).unwrap();
//! assert!(session.state(form.node("school").unwrap()).relevant);
//! ```

pub mod answer;
pub mod bundle;
pub mod expr;
pub mod form;
pub mod generator;
pub mod session;
#[doc(hidden)]
pub mod sort;
pub mod submission;
