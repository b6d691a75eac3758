//! `cargo xtask dist`: builds the surveyor app into a static folder any web server can host,
//! with nothing downloaded at build time (bindings come from the `wasm-bindgen-cli-support`
//! library, not from an installed `wasm-bindgen` binary or trunk).
//!
//! NOTE FOR THE APP (`www/`): the build fills two placeholders in every text file copied
//! from `www/` (html, js, css, json, webmanifest):
//!
//! - `__VERSION__` becomes the build version: 16 hex digits of a SHA-256 over every file of
//!   the site (paths and contents), so it changes whenever anything changes. Use it as the
//!   service worker's cache name (`const CACHE = 'doorstep-__VERSION__'`): because the text
//!   of `sw.js` then changes with every build, the browser installs the new worker, and its
//!   `activate` can delete the caches of older versions.
//! - `__PRECACHE__` becomes a JSON array of every file of the site as URLs relative to the
//!   site root, `./` first, then e.g. `./index.html`, `./doorstep_web.js`,
//!   `./doorstep_web_bg.wasm`, `./forms/index.json`, `./forms/<id>.form.json`, and any
//!   `./snippets/...` the bindings need. The file holding `__PRECACHE__` (the service worker)
//!   is left out of its own list. Write it as a bare expression: `const PRECACHE = __PRECACHE__;`.
//!   Fetch them with `new Request(url, { cache: 'reload' })` so an HTTP cache on the office's
//!   server cannot hand the new worker old files.
//!
//! The bindings are those of `wasm-bindgen --target web --out-name doorstep_web
//! --remove-name-section`: `index.html` loads them with
//! `import init from './doorstep_web.js'; init();`.
//! `forms/index.json` lists the shipped forms: `{"forms": [{"file": "x.form.json", "id": ..,
//! "version": .., "title": ..}]}`; the form fixtures under `forms/spec/` are not shipped.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::util::{Error, cargo, describe, kib, output_of, run};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The app's crate; `DOORSTEP_WEB_MANIFEST` may point at another crate's `Cargo.toml`, which is
/// how the pipeline itself is tried on a throwaway crate.
const WEB_PACKAGE: &str = "doorstep-web";
const OUT_NAME: &str = "doorstep_web";
/// Left in an output folder so that a later dist may empty it without fear of deleting
/// a folder someone named by mistake.
const MARKER: &str = ".doorstep-dist";
/// The compressed budget of issue 3 for everything needed to show a form.
const BUDGET_BYTES: u64 = 230 * 1024;

/// What a dist produced, for the callers that report on it (bench-web).
pub struct DistReport {
    pub version: String,
}

/// Builds the site into `out`; the callers print the section header.
pub fn dist(root: &Path, out: &Path) -> Result<DistReport, Error> {
    dist_with_forms(root, out, &[])
}

/// Builds the site with extra forms shipped beside those of `forms/` (`(file name, JSON text)`),
/// which is how the benchmarks install their generated forms.
pub fn dist_with_forms(
    root: &Path,
    out: &Path,
    extra_forms: &[(String, String)],
) -> Result<DistReport, Error> {
    ensure_wasm_target()?;
    let wasm = build_wasm(root)?;
    prepare_out_dir(out)?;

    let bindgen_start = std::time::Instant::now();
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .out_name(OUT_NAME)
        .web(true)?
        .omit_default_module_path(false)
        // DOORSTEP_KEEP_NAMES=1 keeps function names, for profiling (tests/bench/profile-web.mjs).
        .remove_name_section(std::env::var_os("DOORSTEP_KEEP_NAMES").is_none())
        .generate(out)
        .map_err(|error| format!("wasm-bindgen failed on {}: {error:#}", wasm.display()))?;
    println!(
        "bindings generated in {}",
        crate::util::seconds(bindgen_start.elapsed())
    );
    optimize_with_wasm_opt(root, &out.join(format!("{OUT_NAME}_bg.wasm")));

    let www = root.join("www");
    if www.is_dir() {
        copy_dir(&www, out)?;
    } else {
        println!(
            "warning: {} is missing; the site has no index.html yet",
            www.display()
        );
    }
    copy_forms(root, out, extra_forms)?;
    let version = fill_placeholders(out)?;
    fs::write(out.join(MARKER), format!("{version}\n"))?;
    precompress(out)?;
    report_sizes(out)?;
    println!("site version {version} written to {}", out.display());
    Ok(DistReport { version })
}

/// Adds the wasm32 target when this toolchain lacks it (a fresh machine does).
pub fn ensure_wasm_target() -> Result<(), Error> {
    let installed = output_of(Command::new("rustup").args(["target", "list", "--installed"]));
    match installed {
        Some(list) if list.lines().any(|line| line.trim() == WASM_TARGET) => Ok(()),
        Some(_) => {
            println!("installing the {WASM_TARGET} target with rustup");
            run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
        }
        // Without rustup (a distribution's rust), the build below says what is missing.
        None => Ok(()),
    }
}

/// Builds the app in release for wasm32 and returns the path of the `.wasm` file.
///
/// The build first tries to compile the standard library with the app, for size (see
/// `SIZE_BUILD`); when that cannot be had or fails, it says why and builds with the standard
/// library as shipped, so the site always builds.
fn build_wasm(root: &Path) -> Result<PathBuf, Error> {
    match size_build_refusal() {
        None => match cargo_build_wasm(root, true) {
            Ok(wasm) => return Ok(wasm),
            Err(error) => println!(
                "warning: the size build failed ({error}); building again with the standard library as shipped"
            ),
        },
        Some(reason) => println!(
            "note: {reason}; the standard library is used as shipped (the wasm is about 8% bigger)"
        ),
    }
    cargo_build_wasm(root, false)
}

/// What the size build sets, in cargo's environment. `-Zbuild-std` compiles `core`, `alloc`
/// and `std` with the app, with `optimize_for_size` (their small variants of sorting, formatting
/// and hashing) and the `immediate-abort` panic strategy: a panic traps at once, without
/// formatting a message nobody can read (a wasm32-unknown-unknown program has no stderr, and
/// `panic = "abort"` traps anyway); `-Zlocation-detail=none` leaves out the file names and
/// lines of panic sites. These are unstable flags, which `RUSTC_BOOTSTRAP=1` lets the stable
/// compiler take, for this build only. Measured on the app: wasm gzip 441 -> 407 KiB
/// (docs/benchmarks.md). `DOORSTEP_PLAIN_BUILD=1` turns it off.
const SIZE_BUILD: &[(&str, &str)] = &[
    ("RUSTC_BOOTSTRAP", "1"),
    ("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort"),
    ("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size"),
    (
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        "-Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort",
    ),
];

/// Why the size build is not tried, if it is not: turned off, or no standard library source
/// (the `rust-src` component, which this adds with rustup when it can).
fn size_build_refusal() -> Option<String> {
    if std::env::var_os("DOORSTEP_PLAIN_BUILD").is_some() {
        return Some("DOORSTEP_PLAIN_BUILD is set".to_string());
    }
    if std::env::var_os("RUSTFLAGS").is_some()
        || std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_some()
    {
        return Some("RUSTFLAGS is set, and it would replace the size build's flags".to_string());
    }
    let has_source = || {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        output_of(Command::new(rustc).args(["--print", "sysroot"])).is_some_and(|sysroot| {
            Path::new(sysroot.trim())
                .join("lib/rustlib/src/rust/library/core/Cargo.toml")
                .is_file()
        })
    };
    if has_source() {
        return None;
    }
    println!("installing the standard library's source (rust-src) with rustup, for a smaller wasm");
    let added = Command::new("rustup")
        .args(["component", "add", "rust-src"])
        .status()
        .is_ok_and(|status| status.success());
    if added && has_source() {
        None
    } else {
        Some("the rust-src component is missing and rustup could not add it".to_string())
    }
}

/// One cargo build of the app for wasm32, with or without the size build; the `.wasm` file's
/// path is read from cargo's own messages so it does not matter whether the app is a bin or a
/// cdylib.
fn cargo_build_wasm(root: &Path, size_build: bool) -> Result<PathBuf, Error> {
    let mut command = cargo();
    command
        .current_dir(root)
        .args(["build", "--release", "--target", WASM_TARGET]);
    if size_build {
        command.envs(SIZE_BUILD.iter().copied());
        println!("size build: the standard library is compiled with the app (-Zbuild-std)");
    }
    match std::env::var_os("DOORSTEP_WEB_MANIFEST") {
        Some(manifest) => {
            command.arg("--manifest-path").arg(manifest);
        }
        None => {
            if !root
                .join("crates")
                .join(WEB_PACKAGE)
                .join("Cargo.toml")
                .is_file()
            {
                return Err(format!(
                    "crates/{WEB_PACKAGE}/Cargo.toml does not exist yet; the app crate is needed to build the site"
                )
                .into());
            }
            command.args(["--package", WEB_PACKAGE]);
        }
    }
    command
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped());
    println!("$ {}", describe(&command));
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot start cargo: {error}"))?;
    let mut wasm = None;
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).lines() {
        let line = line?;
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let kinds = message["target"]["kind"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !kinds.iter().any(|kind| kind == "bin" || kind == "cdylib") {
            continue;
        }
        for file in message["filenames"].as_array().into_iter().flatten() {
            if let Some(file) = file.as_str().filter(|file| file.ends_with(".wasm")) {
                wasm = Some(PathBuf::from(file));
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("the release build of {WEB_PACKAGE} for {WASM_TARGET} failed").into());
    }
    wasm.ok_or_else(|| {
        format!("cargo built no .wasm file; make {WEB_PACKAGE} a bin or a cdylib crate").into()
    })
}

/// Empties the output folder, refusing to delete a non-empty folder that is not ours.
fn prepare_out_dir(out: &Path) -> Result<(), Error> {
    if out.exists() {
        let empty = fs::read_dir(out)?.next().is_none();
        if !empty && !out.join(MARKER).exists() {
            return Err(format!(
                "{} exists and is not a site built by `cargo xtask dist`; give `--out` a new or empty folder",
                out.display()
            )
            .into());
        }
        fs::remove_dir_all(out)?;
    }
    fs::create_dir_all(out)?;
    Ok(())
}

/// What `wasm-opt` runs with (see `optimize_with_wasm_opt`).
const WASM_OPT_FLAGS: &[&str] = &["-Os", "--one-caller-inline-max-function-size=0"];

/// Runs npm's `wasm-opt` when `tests/node_modules` happens to have it (Debian's `binaryen`
/// cannot read current Rust output). It is optional, and kept only when it makes the gzip
/// smaller: on this app plain `-Oz` shrank the raw wasm by 12% but grew its gzip by 6%, all of
/// it from inlining functions that have one caller (their copies compress worse than calls);
/// with that inlining off (`-ocimfs=0`) `-Os` saves about 2% of the gzip (docs/benchmarks.md).
fn optimize_with_wasm_opt(root: &Path, wasm: &Path) {
    let wasm_opt = root.join("tests/node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        return;
    }
    let optimized = wasm.with_extension("opt.wasm");
    let status = Command::new(&wasm_opt)
        .args(WASM_OPT_FLAGS)
        // A profiling build (DOORSTEP_KEEP_NAMES) keeps its function names through wasm-opt too.
        .args(std::env::var_os("DOORSTEP_KEEP_NAMES").map(|_| "-g"))
        .arg(wasm)
        .arg("-o")
        .arg(&optimized)
        .status();
    let gzip_of = |path: &Path| fs::read(path).ok().and_then(|bytes| gzip_len(&bytes).ok());
    match (status, gzip_of(wasm), gzip_of(&optimized)) {
        (Ok(status), Some(before), Some(after)) if status.success() && after < before => {
            println!(
                "wasm-opt {}: gzip {} -> {}",
                WASM_OPT_FLAGS.join(" "),
                kib(before),
                kib(after)
            );
            let _ = fs::rename(&optimized, wasm);
        }
        (Ok(status), Some(before), Some(after)) if status.success() => {
            println!(
                "wasm-opt {}: gzip {} -> {}, not kept",
                WASM_OPT_FLAGS.join(" "),
                kib(before),
                kib(after)
            );
            let _ = fs::remove_file(&optimized);
        }
        _ => {
            println!("warning: wasm-opt failed; keeping the wasm as wasm-bindgen wrote it");
            let _ = fs::remove_file(&optimized);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), Error> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        // Editor droppings and dotfiles are never part of the site.
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name))?;
        } else {
            fs::copy(&path, to.join(&name))
                .map_err(|error| format!("cannot copy {}: {error}", path.display()))?;
        }
    }
    Ok(())
}

/// Copies `forms/*.form.json` and writes `forms/index.json`, the list the app reads to know
/// which forms ship with it.
fn copy_forms(root: &Path, out: &Path, extra_forms: &[(String, String)]) -> Result<(), Error> {
    let forms_out = out.join("forms");
    fs::create_dir_all(&forms_out)?;
    let mut files: Vec<PathBuf> = match fs::read_dir(root.join("forms")) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.is_file() && path.to_string_lossy().ends_with(".form.json"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    let mut forms = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .expect("a file has a name")
            .to_string_lossy()
            .into_owned();
        let text = fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        forms.push((name, text, path.display().to_string()));
    }
    for (name, text) in extra_forms {
        forms.push((name.clone(), text.clone(), format!("generated {name}")));
    }
    let mut list = Vec::new();
    for (name, text, origin) in &forms {
        let form: serde_json::Value = serde_json::from_str(text).map_err(|error| {
            format!("{origin} is not valid JSON ({error}); fix it or run `doorstep lint` on it")
        })?;
        list.push(serde_json::json!({
            "file": name,
            "id": form["id"],
            "version": form["version"],
            "title": form["title"],
        }));
        fs::write(forms_out.join(name), text)?;
    }
    let index = serde_json::json!({ "forms": list });
    fs::write(
        forms_out.join("index.json"),
        serde_json::to_string_pretty(&index)? + "\n",
    )?;
    let names: Vec<&str> = forms.iter().map(|(name, _, _)| name.as_str()).collect();
    println!("{} form(s) shipped: {}", names.len(), names.join(", "));
    Ok(())
}

/// Every file of the site, as a path relative to the site root with `/` separators.
fn site_files(out: &Path) -> Result<Vec<String>, Error> {
    fn walk(dir: &Path, prefix: &str, files: &mut Vec<String>) -> Result<(), Error> {
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            if entry.path().is_dir() {
                walk(&entry.path(), &relative, files)?;
            } else if name != MARKER && !name.ends_with(GZ) {
                files.push(relative);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(out, "", &mut files)?;
    files.sort();
    Ok(files)
}

const TEXT_EXTENSIONS: &[&str] = &["html", "js", "mjs", "css", "json", "webmanifest"];

/// Computes the build version and fills `__VERSION__` and `__PRECACHE__` (see the note at the
/// top of this file). Only text files are touched, and the generated bindings never contain
/// the placeholders, so they stay byte-identical to the CLI's output.
fn fill_placeholders(out: &Path) -> Result<String, Error> {
    let files = site_files(out)?;
    let mut hasher = Sha256::new();
    let mut texts = BTreeMap::new();
    for file in &files {
        let bytes = fs::read(out.join(file))?;
        hasher.update(file.as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
        let extension = file.rsplit('.').next().unwrap_or("");
        if TEXT_EXTENSIONS.contains(&extension)
            && let Ok(text) = String::from_utf8(bytes)
            && (text.contains("__VERSION__") || text.contains("__PRECACHE__"))
        {
            texts.insert(file.clone(), text);
        }
    }
    let digest = hasher.finalize();
    let version: String = digest
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect();

    let workers: Vec<&String> = texts
        .iter()
        .filter(|(_, text)| text.contains("__PRECACHE__"))
        .map(|(file, _)| file)
        .collect();
    let mut precache = vec!["./".to_string()];
    precache.extend(
        files
            .iter()
            .filter(|file| !workers.contains(file))
            .map(|file| format!("./{file}")),
    );
    let precache = serde_json::to_string(&precache)?;
    for (file, text) in &texts {
        let filled = text
            .replace("__VERSION__", &version)
            .replace("__PRECACHE__", &precache);
        fs::write(out.join(file), filled)?;
    }
    if workers.is_empty() && out.join("sw.js").exists() {
        println!(
            "warning: sw.js has no __PRECACHE__ placeholder; an app update may not reach phones"
        );
    }
    Ok(version)
}

/// The suffix of a precompressed copy: `app.wasm.gz` is `app.wasm` in gzip.
pub const GZ: &str = ".gz";
/// Files a browser gets compressed (images other than SVG are compressed already).
const COMPRESSIBLE: &[&str] = &[
    "wasm",
    "js",
    "mjs",
    "css",
    "html",
    "json",
    "webmanifest",
    "svg",
];

/// Writes a gzip copy (`FILE.gz`, made with zopfli) beside every compressible file of the site,
/// where it is smaller: `cargo xtask serve` sends it to browsers that accept gzip, and a web
/// server can do the same (nginx: `gzip_static on`). Zopfli writes ordinary gzip, about 4% smaller
/// than `gzip -9`, at the cost of seconds at build time instead of milliseconds; the files are
/// compressed in parallel, and a file of several megabytes (a generated benchmark form) with
/// fewer iterations.
fn precompress(out: &Path) -> Result<(), Error> {
    let start = std::time::Instant::now();
    let files: Vec<String> = site_files(out)?
        .into_iter()
        .filter(|file| COMPRESSIBLE.contains(&file.rsplit('.').next().unwrap_or("")))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let results: Vec<Result<(), Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(files.len()).max(1))
            .map(|_| {
                scope.spawn(|| -> Result<(), Error> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(file) = files.get(i) else {
                            return Ok(());
                        };
                        let path = out.join(file);
                        let bytes = fs::read(&path)?;
                        let compressed = zopfli_gzip(&bytes)?;
                        if compressed.len() < bytes.len() {
                            fs::write(out.join(format!("{file}{GZ}")), compressed)?;
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("a compressor thread panicked".into()))
            })
            .collect()
    });
    results.into_iter().collect::<Result<Vec<()>, Error>>()?;
    println!(
        "{} file(s) precompressed (zopfli) in {}",
        files.len(),
        crate::util::seconds(start.elapsed())
    );
    Ok(())
}

/// `bytes` in gzip, as small as zopfli makes it in reasonable time: 15 iterations (its default)
/// up to 256 KiB, fewer above, down to 2 for a file of megabytes.
pub fn zopfli_gzip(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let iterations = match bytes.len() {
        0..=262_144 => 15,
        262_145..=2_097_152 => 5,
        _ => 2,
    };
    let options = zopfli::Options {
        iteration_count: std::num::NonZeroU64::new(iterations).unwrap_or(std::num::NonZeroU64::MIN),
        ..zopfli::Options::default()
    };
    let mut compressed = Vec::new();
    zopfli::compress(options, zopfli::Format::Gzip, bytes, &mut compressed)?;
    Ok(compressed)
}

/// Prints the size of each file of the app shell: raw, in `gzip -9`, and as served (its `.gz`
/// copy, see [`precompress`]); returns the total as served, the figure the budget is for.
fn report_sizes(out: &Path) -> Result<u64, Error> {
    let mut total_raw = 0;
    let mut total_gzip = 0;
    let mut total_served = 0;
    println!(
        "{:<40} {:>12} {:>12} {:>12}",
        "file", "raw", "gzip -9", "served (gz)"
    );
    for file in site_files(out)? {
        let extension = file.rsplit('.').next().unwrap_or("");
        if !["wasm", "js", "html", "css"].contains(&extension) || file == "sw.js" {
            continue;
        }
        let bytes = fs::read(out.join(&file))?;
        let compressed = gzip_len(&bytes)?;
        let served =
            fs::metadata(out.join(format!("{file}{GZ}"))).map_or(bytes.len() as u64, |m| m.len());
        total_raw += bytes.len() as u64;
        total_gzip += compressed;
        total_served += served;
        println!(
            "{:<40} {:>12} {:>12} {:>12}",
            file,
            kib(bytes.len() as u64),
            kib(compressed),
            kib(served)
        );
    }
    let verdict = if total_served <= BUDGET_BYTES {
        "within"
    } else {
        "OVER"
    };
    println!(
        "{:<40} {:>12} {:>12} {:>12}  ({verdict} the {} budget)",
        "app shell (wasm+js+html+css)",
        kib(total_raw),
        kib(total_gzip),
        kib(total_served),
        kib(BUDGET_BYTES)
    );
    Ok(total_served)
}

pub fn gzip_len(bytes: &[u8]) -> Result<u64, Error> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len() as u64)
}
