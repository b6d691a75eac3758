//! `doorstep ingest`: loads bundles into the office database, trusting nothing about how they came.
//!
//! Per bundle: the whole archive is verified before any data is read (structure, every size and
//! SHA-256 in the manifest, `form.json` against the manifest; [`BundleReader::open`]), then each line
//! of `submissions.jsonl` is checked against its manifest hash and re-validated with the engine and
//! the bundled form. One bundle is one database transaction: a bundle that turns out broken anywhere
//! (a bad line, a database error) is rolled back whole, so the database is never half-changed.
//!
//! Outcomes per submission: *new* (stored), *duplicate* (same `instance_id` and the same line hash:
//! skipped), *conflict* (same `instance_id`, different content: reported, the stored one is kept),
//! *rejected* (the engine says it is not valid, or an attachment is missing: reported with every
//! reason, not stored). Exit code 0 when everything was new or duplicate, 1 when something was
//! rejected or in conflict, 2 when a bundle could not be ingested at all.
//!
//! Memory: one bundle's bytes at a time (bundles hold at most 65,534 files, see the core's `zip`),
//! plus the parsed manifest; submissions are parsed, checked and written one by one. Validation, the
//! costly part, runs on worker threads (each with its own copy of the form, as forms are not `Send`)
//! while this thread parses and writes.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc;

use clap::Parser;
use doorstep_core::bundle::{BundleReader, MediaFile, media_folder, sanitize_for_file_name};
use doorstep_core::form::compiled::Form;
use doorstep_core::form::model::ItemType;
use doorstep_core::submission::{Checker, Submission, sha256_hex};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value as Json;

use crate::db::{self, FormRow, Layout, Store, SubmissionRow, TableLayout, Val};
use crate::{CliError, Outcome};

#[derive(Parser)]
pub struct Args {
    /// Bundles (`.zip`) to ingest, in order.
    #[arg(required = true)]
    pub bundles: Vec<PathBuf>,
    /// A SQLite file (made when missing) or a `postgres://` URL.
    #[arg(long, default_value = "office.db")]
    pub db: String,
    /// Accept bundles whose file name differs from the one their manifest gives.
    #[arg(long)]
    pub allow_renamed: bool,
    /// Worker threads for validation (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
}

/// What happened to one bundle's submissions.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub new: u64,
    pub duplicate: u64,
    pub conflict: u64,
    pub rejected: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.new += o.new;
        self.duplicate += o.duplicate;
        self.conflict += o.conflict;
        self.rejected += o.rejected;
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} new, {} duplicate, {} conflict, {} rejected",
            self.new, self.duplicate, self.conflict, self.rejected
        )
    }
}

/// Findings printed per bundle.
const MAX_FINDINGS: usize = 20;

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let mut store = db::open(&args.db)?;
    store.bulk_mode()?;
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{spinner} {pos}/{len} submissions {per_sec} {wide_msg}")
                .expect("the template is valid"),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let mut ingester = Ingester {
        store: store.as_mut(),
        layouts: HashMap::new(),
        bar: &bar,
        jobs,
    };
    let mut total = Counts::default();
    let mut failed = 0usize;
    let mut out = String::new();
    for path in &args.bundles {
        bar.set_message(path.display().to_string());
        match ingester.bundle(path, args.allow_renamed) {
            Ok(report) => {
                total.add(&report.counts);
                bar.suspend(|| {
                    println!("{}: {}", path.display(), report.counts);
                    // A bundle from a mismatched device can conflict thousands of times: the first
                    // lines tell what happened; the database has the rest.
                    for line in report.findings.iter().take(MAX_FINDINGS) {
                        println!("  {line}");
                    }
                    if report.findings.len() > MAX_FINDINGS {
                        println!("  … and {} more", report.findings.len() - MAX_FINDINGS);
                    }
                });
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| {
                    eprintln!(
                        "error: {}: {e}; nothing from this bundle was stored",
                        path.display()
                    )
                });
            }
        }
    }
    bar.finish_and_clear();
    out.push_str(&format!("total: {total}"));
    if failed > 0 {
        out.push_str(&format!(", {failed} bundle(s) refused"));
    }
    println!("{out}");
    if failed > 0 {
        Err(CliError::msg(format!(
            "{failed} of {} bundle(s) could not be ingested (see above)",
            args.bundles.len()
        )))
    } else if total.conflict > 0 || total.rejected > 0 {
        Ok(Outcome::Findings)
    } else {
        Ok(Outcome::Clean)
    }
}

/// One bundle's outcome: counts, and one line per conflict or rejected submission.
pub struct Report {
    pub counts: Counts,
    pub findings: Vec<String>,
}

struct Ingester<'s> {
    store: &'s mut dyn Store,
    /// Table layouts by form hash (one per form version met).
    layouts: HashMap<String, Rc<Layout>>,
    bar: &'s ProgressBar,
    jobs: usize,
}

/// A name of the form `<form id>_<device>_<YYYYMMDDTHHMMSSZ>.zip`, which says where a bundle comes
/// from. A bundle carrying such a name that its manifest contradicts is refused (it would mislead
/// whoever files it); a neutral name (`monday.zip`) claims nothing and is accepted.
fn looks_like_bundle_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".zip") else {
        return false;
    };
    let Some((head, time)) = stem.rsplit_once('_') else {
        return false;
    };
    let t = time.as_bytes();
    t.len() == 16
        && t[8] == b'T'
        && t[15] == b'Z'
        && t[..8].iter().chain(&t[9..15]).all(u8::is_ascii_digit)
        && head.contains('_')
}

/// The name the bundle had when exported, from its manifest.
fn expected_name(form_id: &str, device_id: &str, created_at: &str) -> Option<String> {
    let clock = doorstep_core::session::parse_clock(created_at)?;
    let days = clock.utc_millis.div_euclid(86_400_000);
    let secs = clock.utc_millis.rem_euclid(86_400_000) / 1000;
    let (y, m, d) = doorstep_core::expr::dates::civil_from_days(days);
    Some(format!(
        "{form_id}_{}_{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z.zip",
        sanitize_for_file_name(device_id),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    ))
}

impl Ingester<'_> {
    fn bundle(&mut self, path: &Path, allow_renamed: bool) -> Result<Report, CliError> {
        let bytes =
            std::fs::read(path).map_err(|e| CliError::msg(format!("cannot read the file: {e}")))?;
        let reader = BundleReader::open(&bytes).map_err(|e| CliError::msg(e.to_string()))?;
        let m = &reader.manifest;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(want) = expected_name(&m.form.id, &m.device_id, &m.created_at) {
            if name != want && looks_like_bundle_name(&name) && !allow_renamed {
                return Err(CliError::msg(format!(
                    "the file is named `{name}`, but its manifest says it was exported as `{want}`; a renamed bundle is easily mixed up with another: rename it back, or pass --allow-renamed if you know where it came from"
                )));
            }
        }
        let bundle_sha = sha256_hex(&bytes);
        self.bar.inc_length(m.submissions.len() as u64);
        self.store.begin()?;
        match self.bundle_in_transaction(&reader, &name, &bundle_sha) {
            Ok(r) => {
                self.store.commit()?;
                Ok(r)
            }
            Err(e) => {
                // The error that matters is the first one; a failed rollback is reported beside it.
                if let Err(r) = self.store.rollback() {
                    return Err(CliError::msg(format!("{e} (and the rollback failed: {r})")));
                }
                Err(e)
            }
        }
    }

    fn bundle_in_transaction(
        &mut self,
        reader: &BundleReader<'_>,
        name: &str,
        bundle_sha: &str,
    ) -> Result<Report, CliError> {
        let form = reader.form.clone();
        let layout = match self.layouts.get(&form.hash) {
            Some(l) => l.clone(),
            None => {
                let l = Rc::new(Layout::of(&form));
                self.layouts.insert(form.hash.clone(), l.clone());
                l
            }
        };
        // Tables and columns first: this is also what a new form version adds.
        for t in &layout.tables {
            self.store.ensure_table(&t.spec())?;
        }
        self.store.add_form(&FormRow {
            id: form.id.clone(),
            version: form.version.clone(),
            hash: form.hash.clone(),
            source: reader.form_source().to_string(),
        })?;
        let columns: Vec<Vec<String>> = layout
            .tables
            .iter()
            .map(TableLayout::column_names)
            .collect();
        let media: HashMap<(&str, &str), &MediaFile<'_>> = reader
            .media()
            .iter()
            .map(|f| (((f.instance_id.as_str()), f.file.as_str()), f))
            .collect();

        let mut counts = Counts::default();
        let mut findings = Vec::new();
        let source = reader.form_source();
        let jobs = self.jobs;
        // Lines are read and parsed here, validated on the workers in batches, and the verdicts
        // come back in order, so the database is written in the bundle's order.
        std::thread::scope(|scope| -> Result<(), CliError> {
            let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Vec<Submission>)>(jobs * 2);
            let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
            let (done_tx, done_rx) = mpsc::channel::<(usize, Vec<(Submission, Vec<String>)>)>();
            for _ in 0..jobs {
                let rx = work_rx.clone();
                let tx = done_tx.clone();
                scope.spawn(move || {
                    // Each worker loads its own form: a loaded form is shared through `Rc`.
                    let form = doorstep_core::form::load(source)
                        .form
                        .expect("the bundle's form loaded once already");
                    let checker = Checker::new(Rc::new(form));
                    loop {
                        let next = rx
                            .lock()
                            .expect("no worker panics while holding the lock")
                            .recv();
                        let Ok((seq, batch)) = next else { break };
                        let verdicts = batch
                            .into_iter()
                            .map(|s| {
                                let problems = checker.check(&s);
                                (s, problems)
                            })
                            .collect();
                        if tx.send((seq, verdicts)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            const BATCH: usize = 256;
            let mut sent = 0usize;
            let mut written = 0usize;
            let mut pending: HashMap<usize, Vec<(Submission, Vec<String>)>> = HashMap::new();
            let mut line_hashes: HashMap<usize, Vec<String>> = HashMap::new();
            let mut error: Option<CliError> = None;
            let mut lines = reader.submissions();
            let mut reading = true;
            while error.is_none() && (reading || written < sent) {
                if reading {
                    let mut batch = Vec::with_capacity(BATCH);
                    let mut hashes = Vec::with_capacity(BATCH);
                    while batch.len() < BATCH {
                        match lines.next() {
                            Some(Ok(l)) => {
                                hashes.push(l.sha256);
                                batch.push(l.submission);
                            }
                            Some(Err(e)) => {
                                error = Some(CliError::msg(e.to_string()));
                                break;
                            }
                            None => {
                                reading = false;
                                break;
                            }
                        }
                    }
                    if error.is_some() {
                        break;
                    }
                    if !batch.is_empty() {
                        line_hashes.insert(sent, hashes);
                        // Blocks while the workers are `2 × jobs` batches behind: memory stays bounded.
                        if work_tx.send((sent, batch)).is_err() {
                            break;
                        }
                        sent += 1;
                    }
                }
                // Take the verdicts that are back; wait for one only when there is nothing left to read.
                let got = if reading {
                    done_rx.try_recv().ok()
                } else {
                    done_rx.recv().ok()
                };
                if let Some((seq, v)) = got {
                    pending.insert(seq, v);
                } else if !reading && written < sent {
                    error = Some(CliError::msg(
                        "a validation worker stopped; run again".to_string(),
                    ));
                }
                while let Some(v) = pending.remove(&written) {
                    let hs = line_hashes.remove(&written).unwrap_or_default();
                    for ((s, problems), h) in v.into_iter().zip(hs) {
                        self.bar.inc(1);
                        if let Err(e) = self.one(
                            &form,
                            &layout,
                            &columns,
                            &media,
                            s,
                            problems,
                            &h,
                            bundle_sha,
                            &mut counts,
                            &mut findings,
                        ) {
                            error = Some(e);
                            break;
                        }
                    }
                    written += 1;
                    if error.is_some() {
                        break;
                    }
                }
            }
            drop(work_tx);
            match error {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })?;
        let m = &reader.manifest;
        self.store.add_bundle(&db::BundleRow {
            sha256: bundle_sha.to_string(),
            file_name: name.to_string(),
            form_id: m.form.id.clone(),
            form_version: m.form.version.clone(),
            device_id: m.device_id.clone(),
            created_at: m.created_at.clone(),
            new: counts.new,
            duplicate: counts.duplicate,
            conflict: counts.conflict,
            rejected: counts.rejected,
        })?;
        Ok(Report { counts, findings })
    }

    #[allow(clippy::too_many_arguments)]
    fn one(
        &mut self,
        form: &Form,
        layout: &Layout,
        columns: &[Vec<String>],
        media: &HashMap<(&str, &str), &MediaFile<'_>>,
        s: Submission,
        mut problems: Vec<String>,
        line_sha: &str,
        bundle_sha: &str,
        counts: &mut Counts,
        findings: &mut Vec<String>,
    ) -> Result<(), CliError> {
        let id = s.meta.instance_id.as_str();
        match self.store.content_hash(id)? {
            Some(h) if h == line_sha => {
                counts.duplicate += 1;
                return Ok(());
            }
            Some(_) => {
                counts.conflict += 1;
                findings.push(format!(
                    "conflict {id}: already stored with different content; the stored submission was kept (compare both and, if this one is right, edit it on the device so it gets a new instance_id)"
                ));
                return Ok(());
            }
            None => {}
        }
        let mut files = Vec::new();
        attachments(form, &s.data, &mut files);
        let mut stored = Vec::new();
        for (question, r) in files {
            let file = r.get("file").and_then(Json::as_str).unwrap_or("");
            match media.get(&(id, file)) {
                None => problems.push(format!(
                    "{question}: the attachment `{file}` is not in the bundle (media/{}/{file})",
                    media_folder(id)
                )),
                Some(f) => {
                    let want = r.get("sha256").and_then(Json::as_str).unwrap_or("");
                    let sha = sha256_hex(f.bytes);
                    if !sha.eq_ignore_ascii_case(want)
                        || r.get("size").and_then(Json::as_u64) != Some(f.bytes.len() as u64)
                    {
                        problems.push(format!("{question}: the attachment `{file}` differs from the one recorded in the answer"));
                    } else {
                        stored.push((file.to_string(), sha, f.bytes));
                    }
                }
            }
        }
        if !problems.is_empty() {
            counts.rejected += 1;
            findings.push(format!("rejected {id}: {}", problems.join("; ")));
            return Ok(());
        }
        for (file, sha, bytes) in stored {
            self.store.add_attachment(id, &file, &sha, bytes)?;
        }
        let meta = &s.meta;
        self.store.add_submission(&SubmissionRow {
            instance_id: id.to_string(),
            form_id: meta.form.id.clone(),
            form_version: meta.form.version.clone(),
            form_hash: meta.form.hash.clone(),
            content_sha256: line_sha.to_string(),
            status: meta.status.as_str().to_string(),
            started_at: meta.started_at.clone(),
            updated_at: meta.updated_at.clone(),
            finalized_at: meta.finalized_at.clone(),
            device_id: meta.device_id.clone(),
            surveyor: meta.surveyor.clone(),
            deprecated_id: meta.deprecated_id.clone(),
            bundle_sha256: bundle_sha.to_string(),
        })?;
        write_rows(self.store, form, layout, columns, id, &s.data)?;
        counts.new += 1;
        Ok(())
    }
}

/// Writes one submission's rows: the submissions table, then every repeat instance (depth first).
fn write_rows(
    store: &mut dyn Store,
    form: &Form,
    layout: &Layout,
    columns: &[Vec<String>],
    id: &str,
    data: &Json,
) -> Result<(), CliError> {
    let root = &layout.tables[0];
    let mut vals: Vec<Val> = Vec::with_capacity(columns[0].len());
    vals.push(Val::Text(id.to_string()));
    vals.push(Val::Text(form.version.clone()));
    for f in &root.fields {
        vals.push(db::to_val(data.get(&form.item(f.item).name), f.col_type));
    }
    store.insert(&root.table, &columns[0], &vals)?;
    write_instances(store, form, layout, columns, id, id, None, data)
}

#[allow(clippy::too_many_arguments)]
fn write_instances(
    store: &mut dyn Store,
    form: &Form,
    layout: &Layout,
    columns: &[Vec<String>],
    id: &str,
    parent_key: &str,
    level: Option<doorstep_core::expr::ItemId>,
    obj: &Json,
) -> Result<(), CliError> {
    for &i in form.level_items(level) {
        let item = form.item(i);
        if item.kind != ItemType::Repeat {
            continue;
        }
        let Some(list) = obj.get(&item.name).and_then(Json::as_array) else {
            continue;
        };
        let Some(ti) = layout.tables.iter().position(|t| t.repeat == Some(i)) else {
            continue;
        };
        let t = &layout.tables[ti];
        for (pos, inst) in list.iter().enumerate() {
            let key = format!("{parent_key}/{}[{}]", item.name, pos + 1);
            let mut vals: Vec<Val> = Vec::with_capacity(columns[ti].len());
            vals.push(Val::Text(key.clone()));
            vals.push(Val::Text(parent_key.to_string()));
            vals.push(Val::Text(id.to_string()));
            vals.push(Val::Int(pos as i64 + 1));
            for f in &t.fields {
                vals.push(db::to_val(inst.get(&form.item(f.item).name), f.col_type));
            }
            store.insert(&t.table, &columns[ti], &vals)?;
            write_instances(store, form, layout, columns, id, &key, Some(i), inst)?;
        }
    }
    Ok(())
}

/// `(question, attachment reference)` of every attachment answer, repeats included.
fn attachments<'j>(form: &Form, v: &'j Json, out: &mut Vec<(String, &'j Json)>) {
    let Some(obj) = v.as_object() else { return };
    for (k, x) in obj {
        match form.item_by_name(k).map(|i| i.kind) {
            Some(ItemType::Repeat) => {
                for inst in x.as_array().into_iter().flatten() {
                    attachments(form, inst, out);
                }
            }
            Some(t) if t.is_attachment() => out.push((k.clone(), x)),
            _ => {}
        }
    }
}
