//! The `doorstep` command for supervisors and offices: one subcommand per job.
//!
//! Exit codes (as ripgrep and ruff): 0 success, 1 findings (lint errors, invalid data), 2 could not run.

/// Prints a line on standard output as `println!` does, except that a closed pipe
/// (`doorstep ingest … | head -1`) neither panics nor stops the command: what cannot be printed is
/// dropped and the work goes on (an ingest still stores every bundle it was given).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod convert;
mod db;
mod export;
mod expr_cmd;
mod ingest;
mod keygen;
mod lint;
mod render;
mod report;
mod schema;
mod synth;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sessions, JSON trees and database rows allocate a lot of small blocks (see docs/requests-from-office.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "doorstep",
    version,
    about = "Doorstep: offline household surveys, from form to office"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check forms and print every problem with its place.
    Lint(lint::Args),
    /// Convert an XLSForm spreadsheet into a form, reporting problems by sheet, row and column.
    Convert(convert::Args),
    /// Evaluate an expression, alone or against a form and answers.
    Expr(expr_cmd::Args),
    /// Print the JSON Schema of the form format (for editors' completion).
    Schema,
    /// Load bundles into the office database: verify, re-validate, store; skip duplicates.
    Ingest(ingest::Args),
    /// Write analysis tables (CSV or XLSX) and a codebook from the office database.
    Export(export::Args),
    /// Write one self-contained HTML page of counts and charts for the office's assessment.
    Report(report::Args),
    /// Make random valid submissions of a form, as bundles, for demos and load tests.
    Synth(synth::Args),
    /// Make the office's key pair for encrypted bundles: writes the secret key, prints the public one.
    Keygen(keygen::Args),
}

/// What a subcommand reports back: success, findings, or an error it could not get past.
pub enum Outcome {
    Clean,
    Findings,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lint(a) => lint::run(a),
        Command::Convert(a) => convert::run(a),
        Command::Expr(a) => expr_cmd::run(a),
        Command::Schema => schema::run(),
        Command::Ingest(a) => ingest::run(a),
        Command::Export(a) => export::run(a),
        Command::Report(a) => report::run(a),
        Command::Synth(a) => synth::run(a),
        Command::Keygen(a) => keygen::run(a),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            if e.is_broken_pipe() {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// An error that stops a command (exit code 2).
#[derive(Debug)]
pub struct CliError(pub String, pub Option<std::io::ErrorKind>);

impl CliError {
    pub fn msg(s: impl Into<String>) -> Self {
        CliError(s.into(), None)
    }
    fn is_broken_pipe(&self) -> bool {
        self.1 == Some(std::io::ErrorKind::BrokenPipe)
    }
    /// The connection to the database server was lost: nothing more can be stored in this run.
    pub fn connection_lost(&self) -> bool {
        self.1 == Some(std::io::ErrorKind::ConnectionAborted)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError(e.to_string(), Some(e.kind()))
    }
}
