//! `cargo xtask bench-web`: the app's speed in headless Chromium (issue 3, "Speed"). The xtask
//! builds the site with generated forms and serves it; `tests/bench/bench-web.mjs` drives the
//! browser and prints the table. What the app must provide is in docs/bench-web-protocol.md.

use std::path::Path;
use std::process::{Command, ExitCode};

use crate::dist;
use crate::serve;
use crate::test::{ensure_chromium, ensure_node_modules};
use crate::util::{Error, Section, run, target_dir};

/// Questions outside the roster in each generated form (issue 3 asks for N = 1000).
pub const QUESTIONS: usize = 1000;

/// The generated forms: the same questions on one scrolling page and in pages.
pub fn bench_forms() -> Result<Vec<(String, String)>, Error> {
    let mut forms = Vec::new();
    for (id, navigation) in [("bench_scroll", "scroll"), ("bench_pages", "pages")] {
        let mut form: serde_json::Value = serde_json::from_str(&generate_form(QUESTIONS)?)?;
        form["id"] = id.into();
        form["settings"]["navigation"] = navigation.into();
        form["title"] = serde_json::json!({
            "zh-CN": format!("测速表单（{QUESTIONS} 题，{navigation}）"),
            "en": format!("Benchmark form ({QUESTIONS} questions, {navigation})"),
        });
        forms.push((
            format!("{id}.form.json"),
            serde_json::to_string_pretty(&form)? + "\n",
        ));
    }
    Ok(forms)
}

/// The one place that knows where generated forms come from: the engine's generator, run as the example
/// `doorstep-core/examples/gen_form.rs` (so the xtask itself does not build the engine), shared with
/// `cargo xtask bench` so both benchmarks measure the same kind of form.
fn generate_form(questions: usize) -> Result<String, Error> {
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(crate::util::repo_root())
        .args([
            "run",
            "--quiet",
            "-p",
            "doorstep-core",
            "--example",
            "gen_form",
            "--",
        ])
        .args([questions.to_string(), "20".into(), "42".into()])
        .output()
        .map_err(|e| format!("cannot run cargo to generate the bench forms: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "generating the bench forms failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    String::from_utf8(out.stdout).map_err(|_| "the generated form is not UTF-8".into())
}

pub fn bench_web(root: &Path, args: &[String]) -> Result<ExitCode, Error> {
    let section = Section::start("install what the browser bench needs");
    let installed = dist::ensure_wasm_target()
        .and_then(|()| ensure_chromium())
        .and_then(|()| ensure_node_modules(root));
    section.finish(installed.is_ok());
    installed?;

    let out = target_dir(root).join("bench-dist");
    let section = Section::start(&format!("dist with generated forms into {}", out.display()));
    let built = bench_forms().and_then(|forms| dist::dist_with_forms(root, &out, &forms));
    section.finish(built.is_ok());
    built?;

    let section = Section::start("bench-web (headless Chromium)");
    let server = serve::start(&out, 0)?;
    println!("serving {} on {}", out.display(), server.url());
    let result = run(Command::new("node")
        .current_dir(root)
        .arg("tests/bench/bench-web.mjs")
        .args(args)
        .env("DOORSTEP_URL", server.url())
        .env("DOORSTEP_DIST", &out)
        .env("DOORSTEP_BENCH_QUESTIONS", QUESTIONS.to_string()));
    drop(server);
    section.finish(result.is_ok());
    result?;
    Ok(ExitCode::SUCCESS)
}
