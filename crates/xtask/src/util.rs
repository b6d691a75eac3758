//! Small helpers shared by the xtask commands: where the repository is, running a command
//! with a readable failure, and section headers with timings so a CI log is easy to scan.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The workspace root, found from this crate's own manifest so the xtask works from any
/// working directory and in any clone.
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .expect("crates/xtask has two parents")
        .to_path_buf()
}

/// The cargo target folder: `CARGO_TARGET_DIR` when set, as cargo itself does, else `target/`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The cargo that runs us (`cargo xtask` sets `CARGO`), so a rustup toolchain override applies
/// to the inner builds too.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs a command with inherited output; a failure names the command.
pub fn run(command: &mut Command) -> Result<(), Error> {
    let status = command.status().map_err(|error| {
        format!(
            "cannot start `{}`: {error}; is it installed?",
            describe(command)
        )
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)).into())
    }
}

/// Runs a command and returns its standard output, or `None` when it cannot start or fails.
pub fn output_of(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Prints a section header and, when the section ends, its duration.
pub struct Section {
    name: String,
    start: Instant,
}

impl Section {
    pub fn start(name: &str) -> Section {
        println!("\n==> {name}");
        Section {
            name: name.to_string(),
            start: Instant::now(),
        }
    }

    pub fn finish(self, ok: bool) -> Duration {
        let elapsed = self.start.elapsed();
        let verdict = if ok { "ok" } else { "FAILED" };
        println!("<== {}: {verdict} in {}", self.name, seconds(elapsed));
        elapsed
    }
}

pub fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

pub fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
