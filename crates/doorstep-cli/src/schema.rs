//! `doorstep schema`: the JSON Schema of the form format, generated from the engine's Rust types.
//!
//! The same text is kept in `docs/form.schema.json` (a test checks it is current), so supervisors can
//! point their editor at it: `"$schema": "../docs/form.schema.json"` is not needed, editors map it by file name.

use std::io::Write;

use crate::{CliError, Outcome};

/// The schema as pretty-printed JSON.
pub fn text() -> String {
    let schema = schemars::schema_for!(doorstep_core::form::model::FormDoc);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

pub fn run() -> Result<Outcome, CliError> {
    std::io::stdout().lock().write_all(text().as_bytes())?;
    Ok(Outcome::Clean)
}
