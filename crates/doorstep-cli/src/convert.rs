//! `doorstep convert FORM.xlsx -o FORM.form.json`: an XLSForm to a Doorstep form, checked by the
//! engine, with every problem placed at its sheet, row and column.
//!
//! Problems go to standard error (standard output may carry the form, with `-o -`); the form is
//! written only when there is no error, so what is written always passes `doorstep lint`.

use std::io::Write;
use std::path::PathBuf;

use doorstep_xlsform::convert_file;

use crate::{CliError, Outcome};

#[derive(clap::Args)]
pub struct Args {
    /// The XLSForm spreadsheet (.xlsx; .xls and .ods are read too). Choice files it names
    /// (select_one_from_file, itemsets.csv) are read from its folder.
    file: PathBuf,
    /// Where to write the form; default `<form id>.form.json` next to the spreadsheet, `-` for standard output.
    #[arg(short, long, value_name = "FORM.form.json")]
    output: Option<PathBuf>,
    /// Print problems as JSON lines on standard output instead of text on standard error.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let shown = args.file.display().to_string();
    let conv = convert_file(&args.file).map_err(|e| CliError::msg(e.to_string()))?;
    let to_stdout = args.output.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if args.json && to_stdout {
        return Err(CliError::msg(
            "--json and -o - both use standard output: write the form to a file, or drop --json",
        ));
    }
    let (errors, warnings) =
        conv.problems.iter().fold(
            (0, 0),
            |(e, w), p| if p.is_error() { (e + 1, w) } else { (e, w + 1) },
        );
    {
        let mut out = std::io::stdout().lock();
        let mut err = std::io::stderr().lock();
        for p in &conv.problems {
            if args.json {
                let mut v = p.to_json();
                v["file"] = shown.clone().into();
                writeln!(out, "{v}")?;
            } else {
                // `error[code] FILE, sheet survey row 3, column A (type): message`: the file and the
                // place, so that a line pasted into a message says where to look.
                let sev = if p.is_error() { "error" } else { "warning" };
                writeln!(err, "{sev}[{}] {shown}, {}: {}", p.code, p.place, p.message)?;
            }
        }
    }
    let (Some(json), Some(doc), 0) = (&conv.json, &conv.doc, errors) else {
        eprintln!("{shown}: {errors} error(s), {warnings} warning(s); no form written");
        return Ok(Outcome::Findings);
    };
    let target = match args.output {
        Some(p) => p,
        None => args
            .file
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join(format!("{}.form.json", doc.id)),
    };
    if to_stdout {
        std::io::stdout().lock().write_all(json.as_bytes())?;
        eprintln!("{shown}: converted with {warnings} warning(s)");
    } else {
        std::fs::write(&target, json).map_err(|e| {
            CliError::msg(format!(
                "cannot write {}: {e}: check that the folder exists and is writable",
                target.display()
            ))
        })?;
        eprintln!(
            "{shown}: converted to {} with {warnings} warning(s)",
            target.display()
        );
    }
    Ok(Outcome::Clean)
}
