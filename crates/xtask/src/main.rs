//! `cargo xtask`: every piece of automation of the workspace, in Rust rather than in shell scripts,
//! so that a newcomer on a fresh machine needs nothing but cargo (matklad's cargo-xtask pattern).

mod bench;
mod bench_ingest;
mod bench_web;
mod dist;
mod serve;
mod test;
mod util;

use std::path::PathBuf;
use std::process::ExitCode;

use util::{Error, Section, repo_root};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  dist [--out DIR]          build the app (release wasm + bindings) and write the static site
                            to DIR (default target/dist)
  serve [--port PORT]       dist into target/dist, then serve it on http://127.0.0.1:PORT
                            (default 8080)
  test                      install what is missing (wasm32 target, chromium, npm packages),
                            run `cargo test --workspace`, build the site and run the
                            end-to-end tests in tests/e2e/
  e2e [FILE...]             only the end-to-end part of `test`: dist, serve on a free port,
                            `node --test` on tests/e2e/ (or on the given test files)
  bench [--questions N] [--members R]
                            the engine's speed and memory on a generated form
                            (default N=5000 questions, R=100 roster members)
  bench-web [--runs N] [--rate R...]
                            the app's speed in headless Chromium on generated forms
                            (see docs/bench-web-protocol.md)
  bench-ingest [--count N] [--per-bundle M]
                            the office's speed: synth N household submissions (default
                            1,000,000), ingest them into SQLite, export to CSV
  help                      this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("xtask: error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, Error> {
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    let mut options = Options::parse(rest)?;
    let root = repo_root();
    match command.as_str() {
        "dist" => {
            let out = options
                .take_path("--out")?
                .unwrap_or_else(|| util::target_dir(&root).join("dist"));
            options.finish()?;
            let section = Section::start(&format!("dist into {}", out.display()));
            let result = dist::dist(&root, &out);
            section.finish(result.is_ok());
            result?;
            Ok(ExitCode::SUCCESS)
        }
        "serve" => {
            let port = options.take_port()?.unwrap_or(8080);
            options.finish()?;
            let out = util::target_dir(&root).join("dist");
            let section = Section::start(&format!("dist into {}", out.display()));
            let result = dist::dist(&root, &out);
            section.finish(result.is_ok());
            result?;
            serve::serve_forever(&out, port)?;
            Ok(ExitCode::SUCCESS)
        }
        "test" => {
            options.finish()?;
            test::test_all(&root)
        }
        "e2e" => {
            let files = options.positional();
            test::e2e_only(&root, files)
        }
        "bench" => {
            let n = options.take_usize("--questions")?.unwrap_or(5000);
            let r = options.take_usize("--members")?.unwrap_or(100);
            options.finish()?;
            bench::bench(&root, n, r)
        }
        "bench-web" => bench_web::bench_web(&root, rest),
        "bench-ingest" => bench_ingest::bench_ingest(&root, rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => {
            Err(format!("unknown command `{other}`; run `cargo xtask help` for the list").into())
        }
    }
}

/// A deliberately tiny argument parser: the xtask has a handful of flags, and clap would add
/// tens of seconds to every cold build of the one command a newcomer runs first.
struct Options {
    flags: Vec<(String, Option<String>)>,
    positional: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, Error> {
        let mut flags = Vec::new();
        let mut positional = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if let Some(flag) = arg.strip_prefix("--") {
                if let Some((name, value)) = flag.split_once('=') {
                    flags.push((format!("--{name}"), Some(value.to_string())));
                } else {
                    flags.push((arg.clone(), iter.next().cloned()));
                }
            } else {
                positional.push(arg.clone());
            }
        }
        Ok(Options { flags, positional })
    }

    fn take(&mut self, name: &str) -> Result<Option<String>, Error> {
        let Some(index) = self.flags.iter().position(|(flag, _)| flag == name) else {
            return Ok(None);
        };
        let (_, value) = self.flags.remove(index);
        value
            .map(Some)
            .ok_or_else(|| format!("option `{name}` needs a value").into())
    }

    fn take_path(&mut self, name: &str) -> Result<Option<PathBuf>, Error> {
        Ok(self.take(name)?.map(PathBuf::from))
    }

    fn take_port(&mut self) -> Result<Option<u16>, Error> {
        match self.take("--port")? {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                format!("`--port {text}` is not a port number; give one between 1 and 65535").into()
            }),
        }
    }

    fn take_usize(&mut self, name: &str) -> Result<Option<usize>, Error> {
        match self.take(name)? {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| format!("`{name} {text}` is not a whole number").into()),
        }
    }

    fn positional(self) -> Vec<String> {
        self.positional
    }

    fn finish(self) -> Result<(), Error> {
        if let Some((flag, _)) = self.flags.first() {
            return Err(format!("unknown option `{flag}`; run `cargo xtask help`").into());
        }
        if let Some(arg) = self.positional.first() {
            return Err(format!("unexpected argument `{arg}`; run `cargo xtask help`").into());
        }
        Ok(())
    }
}
