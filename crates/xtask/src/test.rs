//! `cargo xtask test`: the one command that runs every test on a fresh Debian machine (as root,
//! as CI is). It installs what is missing, checking first so that a second run is fast, then
//! runs the native tests and the end-to-end tests against the built site.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime};

use crate::dist::{self, ensure_wasm_target};
use crate::serve;
use crate::util::{Error, Section, cargo, output_of, run, seconds, target_dir};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The temporary folder of one test run, given to the tests as `TMPDIR` (Rust's
/// `std::env::temp_dir()` and Node's `os.tmpdir()` both follow it) and removed with everything
/// in it when the run ends, so that the databases, bundles and browser profiles the tests make
/// do not pile up in /tmp run after run. It is named after this process, under the system's
/// temporary folder: a short path, as Chromium's socket path and PostgreSQL's must be.
struct TestTmp(std::path::PathBuf);

impl TestTmp {
    fn new() -> Result<TestTmp, Error> {
        let dir = std::env::temp_dir().join(format!("doorstep-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|error| format!("cannot make {}: {error}", dir.display()))?;
        Ok(TestTmp(dir))
    }
}

impl Drop for TestTmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The results of the steps, printed as a table at the end.
struct Steps {
    rows: Vec<(String, bool, Duration)>,
}

impl Steps {
    fn new() -> Steps {
        Steps { rows: Vec::new() }
    }

    /// Runs one step under a section header; its failure is recorded, not propagated, so one
    /// run reports every failing step.
    fn step(&mut self, name: &str, body: impl FnOnce() -> Result<(), Error>) -> bool {
        let section = Section::start(name);
        let result = body();
        if let Err(error) = &result {
            println!("error: {error}");
        }
        let elapsed = section.finish(result.is_ok());
        self.rows.push((name.to_string(), result.is_ok(), elapsed));
        result.is_ok()
    }

    fn skip(&mut self, name: &str, why: &str) {
        println!("\n==> {name}: skipped, {why}");
    }

    fn summary(&self, start: Instant) -> ExitCode {
        println!("\n==> summary");
        for (name, ok, elapsed) in &self.rows {
            let verdict = if *ok { "ok" } else { "FAILED" };
            println!("  {verdict:<7} {:>9}  {name}", seconds(*elapsed));
        }
        let failed = self.rows.iter().filter(|(_, ok, _)| !ok).count();
        println!("  total {}", seconds(start.elapsed()));
        println!(
            "steps: {} passed, {failed} failed",
            self.rows.len() - failed
        );
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

pub fn test_all(root: &Path) -> Result<ExitCode, Error> {
    let start = Instant::now();
    let tmp = TestTmp::new()?;
    let mut steps = Steps::new();
    let installed = install_everything(root, &mut steps);
    // The CLI's PostgreSQL test needs a live server; it skips (with a note) without one.
    let mut pg = None;
    steps.step("start postgresql (for the CLI's ingest tests)", || {
        pg = Some(PgServer::start()?);
        Ok(())
    });
    steps.step("cargo test --workspace", || {
        let mut command = cargo();
        // --no-fail-fast: one failing test binary must not hide the verdicts of the others.
        command
            .current_dir(root)
            .args(["test", "--workspace", "--no-fail-fast"])
            .env("TMPDIR", &tmp.0);
        if let Some(server) = &pg {
            command.env("DOORSTEP_TEST_POSTGRES", &server.url);
        }
        run(&mut command)
    });
    drop(pg);
    if installed {
        run_e2e(root, &mut steps, &[], true, &tmp);
    } else {
        steps.skip("end-to-end tests", "an install step failed");
    }
    Ok(steps.summary(start))
}

pub fn e2e_only(root: &Path, files: Vec<String>) -> Result<ExitCode, Error> {
    let start = Instant::now();
    let tmp = TestTmp::new()?;
    let mut steps = Steps::new();
    if install_everything(root, &mut steps) {
        run_e2e(root, &mut steps, &files, false, &tmp);
    }
    Ok(steps.summary(start))
}

/// The install steps; each checks first and does nothing when all is there.
fn install_everything(root: &Path, steps: &mut Steps) -> bool {
    let mut ok = steps.step(
        "install: rust target wasm32-unknown-unknown",
        ensure_wasm_target,
    );
    ok &= steps.step(
        "install: chromium and a Chinese font (Debian)",
        ensure_chromium,
    );
    ok &= steps.step("install: npm packages in tests/", || {
        ensure_node_modules(root)
    });
    ok &= steps.step(
        "install: postgresql (for the CLI's ingest tests)",
        ensure_postgresql,
    );
    ok
}

/// Builds the site into its own folder (so a `cargo xtask serve` running meanwhile is not
/// disturbed; the release wasm itself is shared through the one target folder and not built
/// twice), serves it on a free port in this process, and runs `node --test` against it.
fn run_e2e(root: &Path, steps: &mut Steps, files: &[String], tests_built: bool, tmp: &TestTmp) {
    let out = target_dir(root).join("e2e-dist");
    let mut version = String::new();
    let built = steps.step(
        "dist into target/e2e-dist (release wasm, bindings, site)",
        || {
            version = dist::dist(root, &out)?.version;
            Ok(())
        },
    );
    if !built {
        steps.skip("end-to-end tests", "the site did not build");
        return;
    }
    // The tests read exported bundles back with the engine through the `doorstep` command.
    // `cargo test --workspace` builds it (the CLI has integration tests); building it with
    // `cargo build -p doorstep-cli` instead would resolve features differently and compile the
    // CLI and its dependencies a second time (70 s cold), so e2e alone builds what the test
    // step builds, and `cargo build` is only the fallback.
    let cli = target_dir(root).join("debug").join("doorstep");
    if root.join("crates/doorstep-cli/Cargo.toml").is_file() {
        if !tests_built {
            steps.step(
                "build the tests and the doorstep command (cargo test --no-run)",
                || {
                    run(cargo()
                        .current_dir(root)
                        .args(["test", "--workspace", "--no-run"]))
                },
            );
        }
        if !cli.exists() {
            steps.step(
                "build the doorstep command for the end-to-end tests",
                || {
                    run(cargo()
                        .current_dir(root)
                        .args(["build", "--package", "doorstep-cli"]))
                },
            );
        }
    }
    steps.step("end-to-end tests (node --test tests/e2e/)", || {
        let server = serve::start(&out, 0)?;
        println!("serving {} on {}", out.display(), server.url());
        let mut command = Command::new("node");
        // A hung browser must not eat CI's 90 minutes: no single test may take 10.
        command
            .current_dir(root)
            .args(["--test", "--test-timeout=600000"]);
        if files.is_empty() {
            command.arg("tests/e2e/");
        } else {
            command.args(files);
        }
        command
            .env("DOORSTEP_URL", server.url())
            .env("DOORSTEP_DIST", &out)
            .env("DOORSTEP_VERSION", &version)
            .env("DOORSTEP_CLI", &cli)
            .env("TMPDIR", &tmp.0);
        let result = run(&mut command);
        drop(server);
        result
    });
}

/// Debian's Chromium (never a browser downloaded by Playwright), plus a CJK font so that
/// screenshots of the Chinese interface show characters rather than empty boxes.
pub fn ensure_chromium() -> Result<(), Error> {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        missing.push("chromium");
    }
    let chinese_fonts = output_of(Command::new("fc-list").arg(":lang=zh")).unwrap_or_default();
    if chinese_fonts.trim().is_empty() {
        missing.push("fonts-wqy-microhei");
    }
    if missing.is_empty() {
        println!("{CHROMIUM} and a Chinese font are there");
        return Ok(());
    }
    apt_install(&missing)
}

/// `apt-get install`, running `apt-get update` first only when the install fails (a fresh
/// machine's package lists may be missing or old; updating every time would cost a minute).
fn apt_install(packages: &[&str]) -> Result<(), Error> {
    let install = || {
        let mut command = Command::new("apt-get");
        command
            .args(["install", "-y", "-o", "DPkg::Lock::Timeout=300"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut command)
    };
    if install().is_ok() {
        return Ok(());
    }
    println!("apt-get install failed; updating the package lists and trying again");
    run(Command::new("apt-get").args(["update", "-o", "DPkg::Lock::Timeout=300"]))?;
    install().map_err(|error| {
        format!(
            "{error}; install {} by hand (as root) and run again",
            packages.join(" ")
        )
        .into()
    })
}

/// `npm ci` in tests/ when node_modules is missing or older than the lock file.
pub fn ensure_node_modules(root: &Path) -> Result<(), Error> {
    if output_of(Command::new("node").arg("--version")).is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    let tests = root.join("tests");
    let lock = tests.join("package-lock.json");
    // npm ci writes node_modules/.package-lock.json last; older than the lock means stale.
    let installed = tests.join("node_modules/.package-lock.json");
    let fresh = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if fresh {
        println!("tests/node_modules is up to date with tests/package-lock.json");
        return Ok(());
    }
    run(Command::new("npm")
        .current_dir(&tests)
        .args(["ci", "--no-audit", "--no-fund"])
        // Belt and braces: playwright-core downloads nothing, but never let anything try.
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

/// PostgreSQL for the office tools' ingest tests (crates/doorstep-cli/tests/office.rs): Debian's
/// package, installed when missing. The server itself is started by [`PgServer::start`] around
/// `cargo test`, since nothing started here survives into CI.
fn ensure_postgresql() -> Result<(), Error> {
    if pg_bin_dir().is_some() {
        println!("postgresql is installed");
        return Ok(());
    }
    apt_install(&["postgresql"])
}

/// `/usr/lib/postgresql/<newest version>/bin`, where Debian puts `initdb` and `pg_ctl`.
fn pg_bin_dir() -> Option<std::path::PathBuf> {
    let mut versions: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, p): &(u32, std::path::PathBuf)| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

/// A throwaway PostgreSQL cluster in a temporary folder, listening on loopback only, stopped and
/// removed when dropped. As root (CI) it runs as the `postgres` user, which initdb requires.
struct PgServer {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    url: String,
}

impl PgServer {
    fn start() -> Result<PgServer, Error> {
        let bin = pg_bin_dir().ok_or("postgresql is not installed (the install step failed)")?;
        let dir = std::env::temp_dir().join(format!("doorstep-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        });
        if root {
            run(Command::new("chown").arg("postgres:postgres").arg(&dir))?;
        }
        let as_owner = |program: &str| {
            let mut c = if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(bin.join(program));
                c
            } else {
                Command::new(bin.join(program))
            };
            c.current_dir(std::env::temp_dir());
            c
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        run(as_owner("initdb").arg("-D").arg(dir.join("data")).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]))?;
        run(as_owner("pg_ctl")
            .arg("-D")
            .arg(dir.join("data"))
            .arg("-l")
            .arg(dir.join("log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                dir.display()
            ))
            .args(["-w", "start"]))?;
        let server = PgServer {
            bin,
            dir,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        };
        println!(
            "postgresql {} running at {}",
            server.bin.display(),
            server.url
        );
        Ok(server)
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        });
        let mut c = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = c
            .current_dir(std::env::temp_dir())
            .arg("-D")
            .arg(&data)
            .args(["-m", "fast", "-w", "stop"])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
