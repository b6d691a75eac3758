//! `doorstep synth`: random valid submissions of a form, written as bundles, for demos and load tests.
//!
//! Every submission comes from a real [`Session`] filled question by question (see `fill`), so it is
//! valid by the engine's own verdict. Filling a household interview takes milliseconds, too slow for a
//! million submissions, so synth fills a pool of distinct interviews (`--distinct`, 2,000 by default)
//! and makes each submission from one of them with its own instance id, times and device: the data of
//! a million submissions then repeats the pool's answers. That is honest for load tests of storage,
//! not for statistics.

mod fill;
pub mod rng;

use std::path::{Path, PathBuf};
use std::rc::Rc;

use clap::Parser;
use doorstep_core::form::compiled::Form;
use doorstep_core::session::{Host, Session, parse_clock};
use serde_json::{Value as Json, json};

pub use fill::{Attachment, date_of, days_of};
use rng::Rng;

use crate::{CliError, Outcome};

#[derive(Parser)]
pub struct Args {
    /// The form definition (`.form.json`).
    #[arg(long)]
    pub form: PathBuf,
    /// How many submissions to make.
    #[arg(long, default_value_t = 100)]
    pub count: u64,
    /// The bundle to write; with `--per-bundle` smaller than `--count`, a folder of bundles.
    #[arg(short, long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Submissions per bundle (one bundle per device and day, as the app exports them).
    #[arg(long)]
    pub per_bundle: Option<u64>,
    /// How many distinct interviews to fill; the submissions reuse their answers.
    #[arg(long, default_value_t = 2000)]
    pub distinct: u64,
    /// The last survey day (`YYYY-MM-DD`); interviews fall in the 60 days before it.
    #[arg(long, default_value = "2026-11-20")]
    pub until: String,
}

/// One filled interview: its answers, attachments and times.
#[derive(Clone, Debug)]
pub struct Template {
    pub data: Json,
    pub attachments: Vec<Attachment>,
    pub started_at: String,
    pub finalized_at: String,
    pub device_id: String,
    pub surveyor: String,
}

/// The devices synth pretends the submissions come from.
const DEVICES: u64 = 16;

pub fn device_name(i: u64) -> (String, String) {
    (
        format!("synth-{:02}", i % DEVICES),
        format!("surveyor{:02}", i % DEVICES),
    )
}

/// Fills `n` distinct interviews of `form`. Deterministic for a given seed.
pub fn templates(
    form: &Rc<Form>,
    n: u64,
    seed: u64,
    until: &str,
) -> Result<Vec<Template>, CliError> {
    let last = days_of(until).ok_or_else(|| {
        CliError::msg(format!(
            "--until `{until}` is not a date YYYY-MM-DD; give one such as 2026-11-20"
        ))
    })?;
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n as usize);
    let mut failures = 0u64;
    while (out.len() as u64) < n {
        let day = date_of(last - rng.below(60) as i64);
        let (h, m, s) = (8 + rng.below(9), rng.below(60), rng.below(60));
        let started_at = format!("{day}T{h:02}:{m:02}:{s:02}+08:00");
        let mins = m + 10 + rng.below(30);
        let finalized_at = format!("{day}T{:02}:{:02}:{s:02}+08:00", h + mins / 60, mins % 60);
        let (device_id, surveyor) = device_name(out.len() as u64);
        let clock = parse_clock(&started_at).expect("synth makes valid date-times");
        let host = Host {
            clock,
            device_id: device_id.clone(),
            username: surveyor.clone(),
            seed: rng.next_u64(),
        };
        let mut session = Session::new(form.clone(), host);
        let Some(attachments) = fill::fill(&mut session, &mut rng) else {
            failures += 1;
            if failures > 50 + n {
                return Err(CliError::msg(format!(
                    "could not make a valid submission of form `{}` after {failures} tries; its constraints may be too hard for synth's guesses (see `doorstep lint`)",
                    form.id
                )));
            }
            continue;
        };
        session.set_clock(parse_clock(&finalized_at).expect("synth makes valid date-times"));
        session.stamp_end();
        out.push(Template {
            data: session.export_data(),
            attachments,
            started_at,
            finalized_at,
            device_id,
            surveyor,
        });
    }
    Ok(out)
}

/// The submission envelope of one synthetic submission (`meta` and `data`, as in the bundle format).
pub fn envelope(form: &Form, t: &Template, instance_id: &str) -> Json {
    json!({
        "meta": {
            "instance_id": instance_id,
            "form": {"id": form.id, "version": form.version, "hash": form.hash},
            "status": "finalized",
            "started_at": t.started_at,
            "updated_at": t.finalized_at,
            "finalized_at": t.finalized_at,
            "device_id": t.device_id,
            "surveyor": t.surveyor,
        },
        "data": t.data,
    })
}

pub fn load_form(path: &Path) -> Result<Rc<Form>, CliError> {
    let src = std::fs::read_to_string(path).map_err(|e| {
        CliError::msg(format!(
            "cannot read form {}: {e}; check the path",
            path.display()
        ))
    })?;
    let loaded = doorstep_core::form::load(&src);
    match loaded.form {
        Some(f) => Ok(Rc::new(f)),
        None => Err(CliError::msg(format!(
            "form {} does not load; run `doorstep lint {}` to see why",
            path.display(),
            path.display()
        ))),
    }
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let form = load_form(&args.form)?;
    let distinct = args.distinct.clamp(1, args.count.max(1));
    let pool = templates(&form, distinct, args.seed, &args.until)?;
    write::write_all(&form, &pool, &args)?;
    Ok(Outcome::Clean)
}

mod write;
