//! What the CLI's end-to-end tests share: running the real binary, the shipped forms, and a fresh
//! folder per test.

#![allow(dead_code)] // Each test binary uses its own part.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One run of the `doorstep` binary: exit code, standard output and standard error.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn doorstep(args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    command.args(args);
    run(command)
}

/// `doorstep synth ARGS...`: makes random valid bundles, and stops the test with the command's
/// output when it fails.
pub fn synth(args: &[&str]) {
    let mut all = vec!["synth"];
    all.extend_from_slice(args);
    let r = doorstep(&all);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
}

/// `doorstep synth --form FORM --count COUNT -o OUT`.
pub fn synth_to(form: &str, count: usize, out: &Path) {
    synth(&[
        "--form",
        form,
        "--count",
        &count.to_string(),
        "-o",
        out.to_str().unwrap(),
    ]);
}

/// Runs `command` (the binary, or a wrapper around it) to its end.
pub fn run(mut command: Command) -> Run {
    let out = command.output().expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The path of a shipped form (`forms/<name>.form.json`).
pub fn form(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../forms")
        .join(format!("{name}.form.json"))
        .display()
        .to_string()
}

/// An empty folder of this test run (`cargo xtask test` gives each run its own `TMPDIR`).
pub fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("doorstep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `doorstep report --db DB -o HTML --lang LANG`, which must succeed without a word on stderr.
pub fn make_report(db: &str, html: &Path, lang: &str) {
    let r = doorstep(&[
        "report",
        "--db",
        db,
        "-o",
        html.to_str().unwrap(),
        "--lang",
        lang,
    ]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
}
