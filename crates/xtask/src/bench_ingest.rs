//! `cargo xtask bench-ingest`: the office's speed (issue 5): synthesize household submissions with
//! `doorstep synth`, ingest them into a fresh SQLite database, export it to CSV, and print
//! submissions per second, rows per second and the peak memory of each step.
//!
//! A benchmark, not a test: it prints figures and fails only when a step fails. Peak memory is
//! the child's maximum resident set size as `/usr/bin/time -f %M` reports it (when present), with
//! the child's CPU time (user + system): on a shared machine the wall-clock rate says as much about
//! the neighbours as about ingest, the CPU time per submission does not. The load average is
//! printed before and after each step for the same reason.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::util::{Error, cargo, run, target_dir};

/// Runs the benchmark; `--count N` (default 1,000,000) and `--per-bundle M` (default 10,000).
pub fn bench_ingest(root: &Path, args: &[String]) -> Result<std::process::ExitCode, Error> {
    let mut count: u64 = 1_000_000;
    let mut per: u64 = 10_000;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it
            .next()
            .ok_or_else(|| format!("option `{a}` needs a value"))?;
        match a.as_str() {
            "--count" => {
                count = v
                    .parse()
                    .map_err(|_| format!("`--count {v}` is not a number"))?
            }
            "--per-bundle" => {
                per = v
                    .parse()
                    .map_err(|_| format!("`--per-bundle {v}` is not a number"))?
            }
            _ => {
                return Err(format!(
                    "unknown option `{a}`; bench-ingest takes --count N and --per-bundle M"
                )
                .into());
            }
        }
    }
    run(cargo().current_dir(root).args([
        "build",
        "-p",
        "doorstep-cli",
        "--profile",
        "bench-native",
    ]))?;
    let exe = target_dir(root).join("bench-native/doorstep");
    let work = target_dir(root).join("bench-ingest");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let bundles = work.join("bundles");
    let form = root.join("forms/household_needs.form.json");

    println!("\n==> synth {count} household submissions ({per} per bundle)");
    let (secs, rss) = timed(
        Command::new(&exe)
            .arg("synth")
            .arg("--form")
            .arg(&form)
            .arg("--count")
            .arg(count.to_string())
            .arg("--per-bundle")
            .arg(per.to_string())
            .arg("-o")
            .arg(&bundles),
        true,
    )?;
    println!("synth: {secs:.1} s, peak memory {}", mib(rss.peak_kb));

    let db = work.join("office.db");
    let mut ingest = Command::new(&exe);
    ingest.arg("ingest").arg("--db").arg(&db);
    let mut files: Vec<_> = std::fs::read_dir(&bundles)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    files.sort();
    ingest.args(&files);
    println!(
        "\n==> ingest {} bundles into a fresh SQLite database (load average before: {})",
        files.len(),
        load_average()
    );
    let (secs, usage) = timed(&mut ingest, true)?;
    let ingest_rate = count as f64 / secs;
    println!(
        "ingest: {count} submissions in {secs:.1} s = {ingest_rate:.0} submissions/s, peak memory {}",
        mib(usage.peak_kb)
    );
    if let Some(cpu) = usage.cpu_secs {
        println!(
            "ingest CPU: {cpu:.1} s = {:.1} µs per submission over all threads ({:.2} cores busy on average); load average after: {}",
            cpu * 1e6 / count as f64,
            cpu / secs,
            load_average()
        );
    }

    println!("\n==> export to CSV");
    let out = work.join("export");
    let mut export = Command::new(&exe);
    export
        .arg("export")
        .arg("--db")
        .arg(&db)
        .arg("--out")
        .arg(&out)
        .args(["--format", "csv"]);
    let started = Instant::now();
    let output = with_time(&mut export).output()?;
    let secs = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(format!("export failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let rows: u64 = stdout
        .lines()
        .filter_map(|l| {
            l.rsplit_once(": ")?
                .1
                .strip_suffix(" rows")?
                .parse::<u64>()
                .ok()
        })
        .sum();
    let rss = usage_from(&String::from_utf8_lossy(&output.stderr)).peak_kb;
    println!(
        "export: {rows} rows in {secs:.1} s = {:.0} rows/s, peak memory {}",
        rows as f64 / secs,
        mib(rss)
    );
    println!(
        "\nfigures: ingest {ingest_rate:.0} submissions/s; export {:.0} rows/s (machine load affects both: see `uptime`)",
        rows as f64 / secs
    );
    Ok(std::process::ExitCode::SUCCESS)
}

fn mib(kb: Option<u64>) -> String {
    kb.map_or("unknown (no /usr/bin/time)".into(), |k| {
        format!("{:.0} MiB", k as f64 / 1024.0)
    })
}

/// Wraps a command in `/usr/bin/time -f %M` when that exists, to learn its peak memory.
fn with_time(c: &mut Command) -> Command {
    if Path::new("/usr/bin/time").exists() {
        let mut t = Command::new("/usr/bin/time");
        t.args(["-f", "peak-rss-kb %M cpu-s %U %S"])
            .arg(c.get_program())
            .args(c.get_args());
        t
    } else {
        let mut t = Command::new(c.get_program());
        t.args(c.get_args());
        t
    }
}

/// What `/usr/bin/time` said about a child.
#[derive(Default)]
struct Usage {
    peak_kb: Option<u64>,
    /// User + system CPU seconds.
    cpu_secs: Option<f64>,
}

fn usage_from(stderr: &str) -> Usage {
    let Some(l) = stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("peak-rss-kb "))
    else {
        return Usage::default();
    };
    let parts: Vec<&str> = l.split_whitespace().collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<f64>().ok());
    Usage {
        peak_kb: parts.first().and_then(|p| p.parse().ok()),
        cpu_secs: (parts.get(1) == Some(&"cpu-s"))
            .then(|| Some(num(2)? + num(3)?))
            .flatten(),
    }
}

/// The 1-minute load average (`/proc/loadavg`), or `unknown`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn timed(c: &mut Command, quiet: bool) -> Result<(f64, Usage), Error> {
    let started = Instant::now();
    let output = with_time(c).output()?;
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("`{}` failed: {}", c.get_program().to_string_lossy(), stderr).into());
    }
    if !quiet {
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
    Ok((secs, usage_from(&stderr)))
}
