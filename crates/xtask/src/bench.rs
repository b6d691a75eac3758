//! `cargo xtask bench`: the engine benchmark (load, answer, validate, roster growth, memory) on a generated
//! form, run natively with optimizations. The measuring code is the example `doorstep-core/examples/bench.rs`.

use std::path::Path;
use std::process::{Command, ExitCode};

use crate::util::Error;

/// Runs the benchmark for `n` questions and `r` roster members and prints its table.
pub fn bench(root: &Path, n: usize, r: usize) -> Result<ExitCode, Error> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "run",
            "--quiet",
            "--profile",
            "bench-native",
            "-p",
            "doorstep-core",
            "--example",
            "bench",
            "--",
        ])
        .arg(n.to_string())
        .arg(r.to_string())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
