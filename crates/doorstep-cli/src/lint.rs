//! `doorstep lint FORM...`: every diagnostic of every form, with its place and source line.

use std::io::Write;

use doorstep_core::form;

use crate::{CliError, Outcome, render::render};

#[derive(clap::Args)]
pub struct Args {
    /// Form files (`*.form.json`).
    #[arg(required = true)]
    files: Vec<std::path::PathBuf>,
    /// Print diagnostics as JSON lines instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let mut out = std::io::stdout().lock();
    let (mut errors, mut warnings) = (0, 0);
    for path in &args.files {
        let name = path.display().to_string();
        let bytes =
            std::fs::read(path).map_err(|e| CliError::msg(format!("cannot read {name}: {e}")))?;
        let result = form::load_bytes(&bytes);
        let src = String::from_utf8_lossy(&bytes);
        // The engine reads a file saved with a byte-order mark (Windows Notepad writes one) without
        // it, and places its diagnostics in that text.
        let src = src.strip_prefix('\u{feff}').unwrap_or(&src);
        for d in &result.diagnostics {
            if d.is_error() {
                errors += 1;
            } else {
                warnings += 1;
            }
            if args.json {
                let mut v = serde_json::to_value(d).unwrap_or_default();
                v["file"] = name.clone().into();
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "{}", render(&name, src, d))?;
            }
        }
    }
    if !args.json {
        let files = args.files.len();
        let plural = if files == 1 { "" } else { "s" };
        writeln!(
            out,
            "{files} form{plural} checked: {errors} error(s), {warnings} warning(s)"
        )?;
    }
    Ok(if errors > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
