//! `doorstep ingest`: loads bundles into the office database, trusting nothing about how they came.
//!
//! Per bundle: the whole archive is verified before any data is read (structure, every size and
//! SHA-256 in the manifest, `form.json` against the manifest; [`BundleReader::open`]), then each line
//! of `submissions.jsonl` is checked against its manifest entry and re-validated with the engine and
//! the bundled form. One bundle is one database transaction: a bundle that turns out broken anywhere
//! (a bad line, a database error) is rolled back whole, so the database is never half-changed.
//!
//! Outcomes per submission: *new* (stored), *duplicate* (same `instance_id` and the same line hash:
//! skipped), *conflict* (same `instance_id`, different content, valid: reported, the stored one is
//! kept), *rejected* (the engine says it is not valid, or an attachment is missing: reported with
//! every reason, not stored, and counted as rejected even when its `instance_id` is taken). Exit code 0 when everything was new or duplicate, 1 when something was
//! rejected or in conflict, 2 when a bundle could not be ingested at all.
//!
//! **Pipeline** (the speed of an office import is CPU, and every core should be busy):
//! - an *opener* thread reads and verifies one bundle after another ([`BundleReader::open`]: every
//!   hash) and cuts `submissions.jsonl` into batches of lines;
//! - *workers* (`--jobs`, default all cores) take batches: hash, parse and check each line against
//!   the manifest, re-validate it with their own copy of the form (a loaded form is shared through
//!   `Rc` and cannot cross threads), check its attachments, and build its database rows;
//! - this thread only writes: batches come back tagged with a sequence number and are written in
//!   the bundles' order, so the result (row order, findings) is the same as a one-by-one ingest.
//!
//! Memory: a bounded number of batches is in flight ([`IN_FLIGHT`]), so at most a few bundles' bytes
//! are held at once (the file is read whole: the core's reader takes bytes) whatever the number of
//! bundles.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use clap::Parser;
use doorstep_core::bundle::{
    BundleError, BundleReader, SUBMISSIONS_FILE, SubmissionEntry, media_folder,
    sanitize_for_file_name,
};
use doorstep_core::form::compiled::Form;
use doorstep_core::form::model::ItemType;
use doorstep_core::submission::{Checker, FormRef, sha256_hex};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value as Json;

use crate::db::{self, FormRow, Layout, Rows, Store, SubmissionRow, TableLayout, TableSpec};
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
    /// The office's age identity file (`AGE-SECRET-KEY-1…` lines, from `doorstep keygen`), to open
    /// encrypted bundles (`.zip.age`); may be given more than once.
    #[arg(long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
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

/// Lines per batch: large enough that channel hand-offs cost nothing next to validation (tens of
/// microseconds a line), small enough that the workers start at once on a new bundle.
const BATCH: usize = 128;

/// Batches handed out and not yet written: bounds memory (bundles in flight) while keeping every
/// worker fed when the writer briefly falls behind (a commit).
const IN_FLIGHT: usize = 64;

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let identities = crate::keygen::read_identities(&args.identity, &args.bundles)?;
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

    let (step_tx, step_rx) = mpsc::channel::<(u64, Step)>();
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(IN_FLIGHT);
    let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        credit_tx
            .send(())
            .expect("the channel has room for every credit");
    }
    let job_rx = Arc::new(Mutex::new(job_rx));
    let mut writer = Writer {
        store: store.as_mut(),
        bar: &bar,
        total: Counts::default(),
        failed: 0,
        current: None,
        form_tables: HashMap::new(),
        lost: None,
    };
    let paths = &args.bundles;
    let allow_renamed = args.allow_renamed;
    let identities = &identities;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let rx = job_rx.clone();
            let tx = step_tx.clone();
            scope.spawn(move || worker(&rx, &tx));
        }
        let tx = step_tx.clone();
        scope.spawn(move || opener(paths, allow_renamed, identities, &tx, &job_tx, &credit_rx));
        drop(step_tx);
        writer.run(&step_rx, &credit_tx);
    });
    bar.finish_and_clear();
    let Writer {
        total,
        mut failed,
        lost,
        ..
    } = writer;
    if let Some((path, after)) = lost {
        failed += after;
        eprintln!(
            "error: the connection to the database was lost while {} was being stored{}; run the same command again once the server is back: what is stored already counts as duplicates",
            path.display(),
            match after {
                0 => String::new(),
                n => format!(", and the {n} bundle(s) after it were not tried"),
            }
        );
    }
    let mut out = format!("total: {total}");
    if failed > 0 {
        out.push_str(&format!(", {failed} bundle(s) refused"));
    }
    say!("{out}");
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

/// A bundle verified by the opener, shared read-only with the workers (the core's reader borrows
/// and holds an `Rc`, so what the workers need is copied out of it, and slices become ranges).
struct Opened {
    bytes: Vec<u8>,
    /// Where `bytes` go back when the bundle is done with, for the opener's next read.
    pool: Buffers,
    form_source: Range<usize>,
    form_hash: String,
    form: FormRef,
    entries: Vec<SubmissionEntry>,
    /// Attachments by `instance_id`: `(file, manifest SHA-256, where the bytes are)`; `open`
    /// checked the bytes against the manifest's hash.
    media: HashMap<String, Vec<(String, String, Range<usize>)>>,
}

impl Opened {
    fn slice(&self, r: &Range<usize>) -> &[u8] {
        &self.bytes[r.clone()]
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        self.pool.put(std::mem::take(&mut self.bytes));
    }
}

/// The buffers of bundles done with. Reading a bundle into fresh memory costs more than reading
/// it: the kernel zeroes every new page first (a fifth of ingest's CPU went into that for 64 MB
/// bundles), so the opener reads into a buffer of an earlier bundle instead. As many buffers exist
/// as bundles were ever in flight at once, plus this spare or two.
#[derive(Clone, Default)]
struct Buffers(Arc<Mutex<Vec<Vec<u8>>>>);

impl Buffers {
    /// Spare buffers kept at most (more are freed).
    const KEEP: usize = 2;

    fn put(&self, mut b: Vec<u8>) {
        if b.capacity() == 0 {
            return;
        }
        b.clear();
        let mut spare = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if spare.len() < Self::KEEP {
            spare.push(b);
        }
    }

    /// Reads the file at `path` into a spare buffer (or a new one).
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        use std::io::Read as _;
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata().map_or(0, |m| m.len() as usize);
        let mut buf = {
            let mut spare = self.0.lock().unwrap_or_else(|e| e.into_inner());
            // The smallest that fits, so that a large buffer is kept for a large bundle.
            let fit = (0..spare.len())
                .filter(|&i| spare[i].capacity() >= len)
                .min_by_key(|&i| spare[i].capacity());
            match fit {
                Some(i) => spare.swap_remove(i),
                None => spare.pop().unwrap_or_default(),
            }
        };
        buf.clear();
        buf.reserve_exact(len.saturating_add(1));
        file.read_to_end(&mut buf)?;
        Ok(buf)
    }
}

/// Where `inner`, a slice of `outer`, lies in it.
fn range_in(outer: &[u8], inner: &[u8]) -> Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    debug_assert!(start + inner.len() <= outer.len());
    start..start + inner.len()
}

/// What the writer is told, in sequence-number order.
enum Step {
    /// A bundle begins: its tables, its form and how many submissions follow.
    Start(Box<Start>),
    /// A bundle that could not be opened (or was refused by name): nothing to write.
    Refused { path: PathBuf, error: String },
    /// A worker's batch of lines: checked and validated, or the first bad line's error.
    Batch(Result<Vec<Prepared>, String>),
    /// The opener's error about the end of `submissions.jsonl` (after the lines before it).
    Fail(String),
    /// The bundle's last batch was sent.
    End,
}

struct Start {
    path: PathBuf,
    sha256: String,
    form: FormRow,
    specs: Vec<TableSpec>,
    columns: Vec<Vec<String>>,
    bundle: db::BundleRow,
    opened: Arc<Opened>,
}

/// A batch of lines for a worker.
struct Job {
    seq: u64,
    bundle: Arc<Opened>,
    /// 0-based index of the first line.
    first: usize,
    lines: Vec<Range<usize>>,
}

/// One line, checked, validated and turned into rows by a worker.
struct Prepared {
    /// Every reason not to store it (empty: store it).
    problems: Vec<String>,
    row: SubmissionRow,
    /// `(file, sha256, bytes)` of the attachments to store.
    attachments: Vec<(String, String, Range<usize>)>,
    /// Its rows, per table of the layout, in writing order.
    rows: Vec<Rows>,
}

/// Reads and verifies the bundles in order and hands their lines out in batches. Every message
/// carries the next sequence number; a credit is taken per batch so memory stays bounded.
fn opener(
    paths: &[PathBuf],
    allow_renamed: bool,
    identities: &[String],
    steps: &mpsc::Sender<(u64, Step)>,
    jobs: &SyncSender<Job>,
    credits: &Receiver<()>,
) {
    let buffers = Buffers::default();
    let mut seq = 0u64;
    let send = |step: Step, seq: &mut u64| {
        let ok = steps.send((*seq, step)).is_ok();
        *seq += 1;
        ok
    };
    for path in paths {
        let Read {
            start,
            lines,
            tail_error,
        } = match open(path, allow_renamed, identities, &buffers) {
            Ok(x) => x,
            Err(error) => {
                if !send(
                    Step::Refused {
                        path: path.clone(),
                        error,
                    },
                    &mut seq,
                ) {
                    return;
                }
                continue;
            }
        };
        let bundle = start.opened.clone();
        if !send(Step::Start(Box::new(start)), &mut seq) {
            return;
        }
        let mut first = 0;
        for chunk in lines.chunks(BATCH) {
            if credits.recv().is_err() {
                return;
            }
            let job = Job {
                seq,
                bundle: bundle.clone(),
                first,
                lines: chunk.to_vec(),
            };
            seq += 1;
            first += chunk.len();
            if jobs.send(job).is_err() {
                return;
            }
        }
        drop(bundle);
        if let Some(e) = tail_error
            && !send(Step::Fail(e), &mut seq)
        {
            return;
        }
        if !send(Step::End, &mut seq) {
            return;
        }
    }
}

/// A bundle read and verified by [`open`].
struct Read {
    /// What the writer needs to begin it.
    start: Start,
    /// Where its lines are in `start.opened.bytes`.
    lines: Vec<Range<usize>>,
    /// The error of the file's end when its lines do not match the manifest (reported after the
    /// lines before it, as the core's reader does).
    tail_error: Option<String>,
}

/// Reads and verifies one bundle.
fn open(
    path: &Path,
    allow_renamed: bool,
    identities: &[String],
    buffers: &Buffers,
) -> Result<Read, String> {
    let bytes = buffers
        .read(path)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    // An encrypted bundle (`.zip.age`) is decrypted in memory; its hash stays the exported file's.
    let sha256 = sha256_hex(&bytes);
    let encrypted = doorstep_core::bundle::is_encrypted(&bytes);
    let bytes = if encrypted {
        let ids: Vec<&str> = identities.iter().map(String::as_str).collect();
        let plain = doorstep_core::bundle::decrypt(&bytes, &ids).map_err(|e| e.to_string());
        buffers.put(bytes);
        plain?
    } else {
        bytes
    };
    let mut reader = BundleReader::open(&bytes).map_err(|e| e.to_string())?;
    let m = &reader.manifest;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match name.strip_suffix(".age") {
        Some(zip) if encrypted => zip.to_string(),
        _ => name,
    };
    if let Some(want) = expected_name(&m.form.id, &m.device_id, &m.created_at)
        && name != want
        && looks_like_bundle_name(&name)
        && !allow_renamed
    {
        return Err(format!(
            "the file is named `{name}`, but its manifest says it was exported as `{want}`; a renamed bundle is easily mixed up with another: rename it back, or pass --allow-renamed if you know where it came from"
        ));
    }
    let form = &reader.form;
    let layout = Layout::of(form);
    let specs: Vec<TableSpec> = layout.tables.iter().map(TableLayout::spec).collect();
    let columns = layout
        .tables
        .iter()
        .map(TableLayout::column_names)
        .collect();
    // `open` checked every file against the manifest, so the manifest's hash is the bytes' hash.
    let file_sha: HashMap<&str, &str> = m
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.sha256.as_str()))
        .collect();
    let mut media: HashMap<String, Vec<_>> = HashMap::new();
    for f in reader.media() {
        let path = format!("media/{}/{}", media_folder(&f.instance_id), f.file);
        let sha = file_sha.get(path.as_str()).copied().unwrap_or_default();
        media.entry(f.instance_id.clone()).or_default().push((
            f.file.clone(),
            sha.to_string(),
            range_in(&bytes, f.bytes),
        ));
    }
    // The lines themselves: the reader verified `submissions.jsonl` as a whole; its lines are
    // checked one by one on the workers.
    let jsonl = range_in(&bytes, reader.submissions_bytes());
    let entries = m.submissions.len();
    let mut lines = Vec::with_capacity(entries);
    let mut at = jsonl.start;
    let mut tail_error = None;
    while at < jsonl.end {
        let line = lines.len() + 1;
        let Some(nl) = memchr::memchr(b'\n', &bytes[at..jsonl.end]) else {
            tail_error = Some(line_error(
                line,
                "the last line does not end with a line break".into(),
            ));
            break;
        };
        if line > entries {
            tail_error = Some(line_error(
                line,
                format!("the manifest lists only {entries} submissions"),
            ));
            break;
        }
        lines.push(at..at + nl);
        at += nl + 1;
    }
    if tail_error.is_none() && lines.len() < entries {
        tail_error = Some(line_error(
            lines.len() + 1,
            format!(
                "the file ends after {} lines, but the manifest lists {entries} submissions",
                lines.len()
            ),
        ));
    }
    let start = Start {
        path: path.to_path_buf(),
        sha256: sha256.clone(),
        form: FormRow {
            id: form.id.clone(),
            version: form.version.clone(),
            hash: form.hash.clone(),
            source: reader.form_source().to_string(),
        },
        specs,
        columns,
        bundle: db::BundleRow {
            sha256,
            file_name: name,
            form_id: m.form.id.clone(),
            form_version: m.form.version.clone(),
            device_id: m.device_id.clone(),
            created_at: m.created_at.clone(),
            ..Default::default()
        },
        opened: Arc::new(Opened {
            form_source: range_in(&bytes, reader.form_source().as_bytes()),
            form_hash: form.hash.clone(),
            form: m.form.clone(),
            entries: std::mem::take(&mut reader.manifest.submissions),
            media,
            bytes: Vec::new(),
            pool: buffers.clone(),
        }),
    };
    drop(reader);
    let mut start = start;
    Arc::get_mut(&mut start.opened)
        .expect("nobody else holds the bundle yet")
        .bytes = bytes;
    Ok(Read {
        start,
        lines,
        tail_error,
    })
}

fn line_error(line: usize, problem: String) -> String {
    BundleError::Submission { line, problem }.to_string()
}

/// A worker: validates batches until the opener is done. Keeps one loaded form per form version.
fn worker(jobs: &Mutex<Receiver<Job>>, steps: &mpsc::Sender<(u64, Step)>) {
    let mut forms: HashMap<String, (Checker, Layout, AttachmentKeys, FieldOrder)> = HashMap::new();
    loop {
        let next = jobs
            .lock()
            .expect("no worker panics while holding the lock")
            .recv();
        let Ok(job) = next else { break };
        let b = &*job.bundle;
        let (checker, layout, keys, order) =
            forms.entry(b.form_hash.clone()).or_insert_with(|| {
                let source = std::str::from_utf8(b.slice(&b.form_source)).expect("checked by open");
                let form = doorstep_core::form::load(source)
                    .form
                    .expect("the bundle's form loaded once already");
                let layout = Layout::of(&form);
                let keys = AttachmentKeys::of(&form);
                let order = FieldOrder::of(&form, &layout);
                (Checker::new(Rc::new(form)), layout, keys, order)
            });
        // A panic in the engine must not leave the writer waiting for this batch forever (debug
        // builds unwind; release builds abort): the bundle is refused, the run goes on.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            job.lines
                .iter()
                .enumerate()
                .map(|(i, r)| prepare(b, checker, layout, keys, order, job.first + i, r))
                .collect::<Result<Vec<_>, String>>()
        }))
        .unwrap_or_else(|_| {
            Err(format!(
                "validation failed unexpectedly on lines {}–{} of {SUBMISSIONS_FILE} (a bug: please report it with the bundle)",
                job.first + 1,
                job.first + job.lines.len()
            ))
        });
        if steps.send((job.seq, Step::Batch(result))).is_err() {
            break;
        }
    }
}

/// Why a submission with the NUL character (U+0000) in a text is rejected. PostgreSQL's text cannot
/// hold it: the whole bundle failed there ("invalid byte sequence"), naming no submission, while
/// SQLite stored it. Both databases now reject that submission alike and store the rest.
const NUL_PROBLEM: &str = "{question}: the text holds the character U+0000 (NUL), which an office database cannot store (PostgreSQL has no room for it, so neither database takes it)";

/// The questions whose answers (roster rows' included) hold the NUL character.
fn nul_problems(data: &Json) -> Vec<String> {
    fn has_nul(v: &Json) -> bool {
        match v {
            Json::String(s) => s.contains('\0'),
            Json::Array(a) => a.iter().any(has_nul),
            Json::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    fn walk(data: &Json, out: &mut Vec<String>) {
        let Json::Object(o) = data else { return };
        for (question, v) in o {
            match v {
                // A roster: its rows' questions are named one by one.
                Json::Array(rows) if rows.iter().all(Json::is_object) && !rows.is_empty() => {
                    rows.iter().for_each(|row| walk(row, out))
                }
                v if has_nul(v) || question.contains('\0') => {
                    let p = NUL_PROBLEM.replace("{question}", &question.replace('\0', "\\u0000"));
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(data, &mut out);
    out
}

/// Whether a text of the submission's envelope holds the NUL character.
fn raw_meta_has_nul(m: &doorstep_core::submission::Meta) -> bool {
    serde_json::to_string(m).is_ok_and(|t| t.contains("\\u0000"))
}

/// Checks one line as the core's reader does (hash, envelope, manifest entry, form identity),
/// validates it, checks its attachments, and builds its rows.
fn prepare(
    b: &Opened,
    checker: &Checker,
    layout: &Layout,
    keys: &AttachmentKeys,
    order: &FieldOrder,
    index: usize,
    r: &Range<usize>,
) -> Result<Prepared, String> {
    let line = index + 1;
    let err = |problem: String| line_error(line, problem);
    let raw = b.slice(r);
    let entry = &b.entries[index];
    let s = doorstep_core::bundle::check_line_submission(raw, entry, &b.form).map_err(err)?;
    // What needs the answers comes first (attachments, rows), so that they can then move into the
    // validating session instead of being copied ([`Checker::check_owned`]).
    let form = checker.form();
    let id = s.meta.instance_id.as_str();
    let mut attachment_problems = Vec::new();
    // JSON writes the NUL character only as `\u0000`, so the line is looked at first.
    if raw.windows(6).any(|w| w == b"\\u0000") {
        attachment_problems.extend(nul_problems(&s.data));
        if attachment_problems.is_empty() && raw_meta_has_nul(&s.meta) {
            attachment_problems.push(NUL_PROBLEM.replace("{question}", "meta"));
        }
    }
    let mut files = Vec::new();
    keys.collect(&s.data, &mut files);
    let mut stored = Vec::new();
    for (question, a) in files {
        let file = a.get("file").and_then(Json::as_str).unwrap_or("");
        let found = b
            .media
            .get(id)
            .and_then(|fs| fs.iter().find(|(f, _, _)| f == file));
        match found {
            None => attachment_problems.push(format!(
                "{question}: the attachment `{file}` is not in the bundle (media/{}/{file})",
                media_folder(id)
            )),
            Some((_, sha, bytes)) => {
                let want = a.get("sha256").and_then(Json::as_str).unwrap_or("");
                if !sha.eq_ignore_ascii_case(want)
                    || a.get("size").and_then(Json::as_u64) != Some(bytes.len() as u64)
                {
                    attachment_problems.push(format!(
                        "{question}: the attachment `{file}` differs from the one recorded in the answer"
                    ));
                } else {
                    stored.push((file.to_string(), sha.clone(), bytes.clone()));
                }
            }
        }
    }
    let mut rows: Vec<Rows> = layout
        .tables
        .iter()
        .zip(&order.sizes)
        .map(|(t, size)| {
            let (cells, text) = size.get();
            Rows::with_capacity(t.fixed.len() + t.fields.len(), cells, text)
        })
        .collect();
    build_rows(form, layout, order, id, &s.data, &mut rows);
    for (size, r) in order.sizes.iter().zip(&rows) {
        // Capped: one huge submission must not make every later one hold a huge buffer (up to
        // [`IN_FLIGHT`] batches of them wait for the writer).
        let (cells, text) = r.sizes();
        let (c, t) = size.get();
        size.set((c.max(cells).min(256), t.max(text).min(4096)));
    }
    let (mut problems, m) = checker.check_owned(s);
    problems.extend(attachment_problems);
    if !problems.is_empty() {
        // Not stored: only the problems are reported.
        rows.iter_mut().for_each(Rows::clear);
    }
    // The envelope's strings move into the row (a million submissions: no copies).
    let row = SubmissionRow {
        instance_id: m.instance_id,
        form_id: m.form.id,
        form_version: m.form.version,
        form_hash: m.form.hash,
        content_sha256: entry.sha256.clone(),
        status: m.status.as_str().to_string(),
        started_at: m.started_at,
        updated_at: m.updated_at,
        finalized_at: m.finalized_at,
        device_id: m.device_id,
        surveyor: m.surveyor,
        deprecated_id: m.deprecated_id,
        bundle_sha256: String::new(),
    };
    Ok(Prepared {
        problems,
        row,
        attachments: stored,
        rows,
    })
}

/// One submission's rows: the submissions table, then every repeat instance (depth first).
fn build_rows(
    form: &Form,
    layout: &Layout,
    order: &FieldOrder,
    id: &str,
    data: &Json,
    out: &mut [Rows],
) {
    let root = &mut out[0];
    root.push_text(id);
    root.push_text(&form.version);
    order.push_fields(0, &layout.tables[0], data, root);
    build_instances(form, layout, order, id, id, None, data, out);
}

/// Each table's fields by name, so that one object's answers are matched to the columns in one
/// walk over its keys (which are sorted) instead of a lookup per column.
struct FieldOrder {
    /// Per table of the layout: `(name, index in the table's fields)`, in byte order of the names.
    tables: Vec<Vec<(String, usize)>>,
    /// Per table: the most values and text bytes one submission has had so far (this worker's),
    /// so that the next one's rows are allocated once at the right size.
    sizes: Vec<std::cell::Cell<(usize, usize)>>,
}

impl FieldOrder {
    fn of(form: &Form, layout: &Layout) -> FieldOrder {
        let tables = layout
            .tables
            .iter()
            .map(|t| {
                let mut names: Vec<(String, usize)> = t
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (form.item(f.item).name.clone(), i))
                    .collect();
                names.sort();
                names
            })
            .collect();
        let sizes = layout.tables.iter().map(|_| Default::default()).collect();
        FieldOrder { tables, sizes }
    }

    /// Pushes the answers of `obj` for the fields of table `t` (`None` for a field it lacks), in
    /// the table's column order: what `obj.get(name)` per field gives.
    fn push_fields(&self, t: usize, table: &TableLayout, obj: &Json, rows: &mut Rows) {
        let mut found: Vec<Option<&Json>> = vec![None; table.fields.len()];
        if let Some(map) = obj.as_object() {
            let mut entries = map.iter().peekable();
            for (name, i) in &self.tables[t] {
                while entries
                    .next_if(|(k, _)| k.as_str() < name.as_str())
                    .is_some()
                {}
                if let Some((_, v)) = entries.next_if(|(k, _)| *k == name) {
                    found[*i] = Some(v);
                }
            }
        }
        for (f, v) in table.fields.iter().zip(found) {
            rows.push_answer(v, f.col_type);
        }
    }
}

// One argument per thing a recursion level needs; a struct for them would only be unpacked again.
#[allow(clippy::too_many_arguments)]
fn build_instances(
    form: &Form,
    layout: &Layout,
    order: &FieldOrder,
    id: &str,
    parent_key: &str,
    level: Option<doorstep_core::expr::ItemId>,
    obj: &Json,
    out: &mut [Rows],
) {
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
            let rows = &mut out[ti];
            rows.push_text(&key);
            rows.push_text(parent_key);
            rows.push_text(id);
            rows.push(db::ValRef::Int(pos as i64 + 1));
            order.push_fields(ti, t, inst, rows);
            build_instances(form, layout, order, id, &key, Some(i), inst, out);
        }
    }
}

/// One bundle's outcome: counts, and one line per conflict or rejected submission.
struct Current {
    start: Box<Start>,
    counts: Counts,
    findings: Vec<String>,
    /// The first error: the bundle is rolled back at its end.
    error: Option<CliError>,
    /// Rows waiting to be written, per table (written together: fewer statements).
    pending: Vec<Rows>,
}

/// The database side: takes the steps in sequence order and writes them.
struct Writer<'s> {
    store: &'s mut dyn Store,
    bar: &'s ProgressBar,
    total: Counts,
    failed: usize,
    current: Option<Current>,
    /// The tables of each stored form definition (by hash), each loaded once.
    form_tables: HashMap<String, Vec<String>>,
    /// The bundle during which the connection to the database was lost, and how many bundles
    /// after it were then left alone.
    lost: Option<(PathBuf, usize)>,
}

impl Writer<'_> {
    fn run(&mut self, steps: &Receiver<(u64, Step)>, credits: &SyncSender<()>) {
        let mut next = 0u64;
        let mut early: HashMap<u64, Step> = HashMap::new();
        while let Ok((seq, step)) = steps.recv() {
            early.insert(seq, step);
            while let Some(step) = early.remove(&next) {
                next += 1;
                if matches!(step, Step::Batch(_)) {
                    // The batch is done with: the opener may hand out another.
                    let _ = credits.try_send(());
                }
                self.step(step);
            }
        }
    }

    fn step(&mut self, step: Step) {
        // After a lost connection every bundle would fail alike: they are counted, not tried.
        if let Some((_, after)) = &mut self.lost {
            if matches!(step, Step::Start(_) | Step::Refused { .. }) {
                *after += 1;
            }
            self.current = None;
            return;
        }
        match step {
            Step::Refused { path, error } => self.refused(&path, &error),
            Step::Start(start) => {
                self.bar.set_message(start.path.display().to_string());
                self.bar.inc_length(start.opened.entries.len() as u64);
                let pending = start.columns.iter().map(|c| Rows::new(c.len())).collect();
                let mut c = Current {
                    start,
                    counts: Counts::default(),
                    findings: Vec::new(),
                    error: None,
                    pending,
                };
                match self.begin(&c.start) {
                    Ok(warning) => c.findings.extend(warning),
                    Err(e) => c.error = Some(e),
                }
                self.current = Some(c);
            }
            Step::Fail(e) => self.batch_result(Err(e)),
            Step::Batch(result) => self.batch_result(result),
            Step::End => {
                let Some(c) = self.current.take() else { return };
                self.end(c);
            }
        }
    }

    fn batch_result(&mut self, result: Result<Vec<Prepared>, String>) {
        let Some(mut c) = self.current.take() else {
            return;
        };
        if c.error.is_none() {
            c.error = match result {
                Ok(batch) => self.batch(&mut c, batch).err(),
                Err(e) => Some(CliError::msg(e)),
            };
        }
        self.current = Some(c);
    }

    fn refused(&mut self, path: &Path, error: &dyn std::fmt::Display) {
        self.failed += 1;
        self.bar.suspend(|| {
            eprintln!(
                "error: {}: {error}; nothing from this bundle was stored",
                path.display()
            )
        });
    }

    /// Starts a bundle's transaction; a warning when its form differs from a stored form of the
    /// same id and version (a supervisor changed a form without changing its version).
    fn begin(&mut self, s: &Start) -> Result<Option<String>, CliError> {
        self.store.begin()?;
        self.check_tables_free(s)?;
        // Tables and columns first: this is also what a new form version adds.
        for spec in &s.specs {
            self.store.ensure_table(spec)?;
        }
        let stored = self.store.form_hashes(&s.form.id, &s.form.version)?;
        let warning = stored.iter().any(|hash| *hash != s.form.hash).then(|| {
            format!(
                "warning: the form {} version {} of this bundle differs from the one of the same version already stored; both are kept and each submission names its own (form_hash), but a changed form should get a new version",
                s.form.id, s.form.version
            )
        });
        self.store.add_form(&s.form)?;
        Ok(warning)
    }

    /// A form's tables (`<form id>` and `<form id>__<repeat>`) must be its own: a table of that name
    /// already in the database belongs to Doorstep (`doorstep_forms`, ...) or to another form (a form
    /// `hh__x` beside the roster `x` of a form `hh`) unless a stored version of this form has it.
    /// Names are compared without case, as SQLite does.
    fn check_tables_free(&mut self, s: &Start) -> Result<(), CliError> {
        let existing: Vec<String> = self
            .store
            .tables()?
            .into_iter()
            .map(|t| t.to_lowercase())
            .collect();
        let mut own: Vec<String> = Vec::new();
        let mut other_ids: Vec<String> = Vec::new();
        for row in self.store.forms()? {
            if row.id != s.form.id {
                other_ids.push(row.id);
                continue;
            }
            let tables = self.form_tables.entry(row.hash.clone()).or_insert_with(|| {
                doorstep_core::form::load(&row.source)
                    .form
                    .map(|f| {
                        Layout::of(&f)
                            .tables
                            .into_iter()
                            .map(|t| t.table.to_lowercase())
                            .collect()
                    })
                    .unwrap_or_default()
            });
            own.extend(tables.iter().cloned());
        }
        for spec in &s.specs {
            let name = spec.name.to_lowercase();
            if !existing.contains(&name) || own.contains(&name) {
                continue;
            }
            let whose = if name.starts_with("doorstep_") {
                "one of Doorstep's own tables".to_string()
            } else {
                // The stored form whose id the table's name starts with (the longest such id).
                let owner = other_ids
                    .iter()
                    .filter(|id| {
                        let id = id.to_lowercase();
                        name == id || name.starts_with(&format!("{id}__"))
                    })
                    .max_by_key(|id| id.len());
                match owner {
                    Some(id) => format!("already a table of the form `{id}`"),
                    None => "already a table in this database that is not this form's".to_string(),
                }
            };
            return Err(CliError::msg(format!(
                "the form `{}` would keep its rows in the table `{}`, {whose}; its rows would mix with others. Give the form another id (its tables are named after it: `<id>` for the submissions, `<id>__<repeat>` for each repeat), or ingest it into another database",
                s.form.id, spec.name
            )));
        }
        Ok(())
    }

    fn batch(&mut self, c: &mut Current, batch: Vec<Prepared>) -> Result<(), CliError> {
        let bundle = c.start.opened.clone();
        // The envelopes of the valid ones first, many to a statement, each inserted unless its
        // instance_id is there already. A bundle's instance_ids are distinct, so what one insert
        // does never changes what another submission of the batch finds.
        let mut batch = batch;
        for p in batch.iter_mut().filter(|p| p.problems.is_empty()) {
            p.row.bundle_sha256.clone_from(&c.start.sha256);
        }
        let envelopes: Vec<&SubmissionRow> = batch
            .iter()
            .filter(|p| p.problems.is_empty())
            .map(|p| &p.row)
            .collect();
        let mut inserted = self.store.add_submissions(&envelopes)?.into_iter();
        // Written after the loop, many to a statement (nothing in the loop reads them).
        let mut attachments = Vec::new();
        for p in batch {
            self.bar.inc(1);
            let id = p.row.instance_id.clone();
            let line_sha = p.row.content_sha256.clone();
            let stored = if p.problems.is_empty() {
                let new = inserted
                    .next()
                    .expect("one answer per envelope from add_submissions");
                if new {
                    None
                } else {
                    self.store.content_hash(&id)?
                }
            } else {
                self.store.content_hash(&id)?
            };
            match &stored {
                Some(h) if *h == line_sha => {
                    c.counts.duplicate += 1;
                    continue;
                }
                // An invalid one is rejected with its reasons below, even when its instance_id is
                // taken: the reasons are what the office needs to hear about it.
                Some(_) if p.problems.is_empty() => {
                    c.counts.conflict += 1;
                    c.findings.push(format!(
                        "conflict {id}: already stored with different content; the stored submission was kept (compare both and, if this one is right, edit it on the device so it gets a new instance_id)"
                    ));
                    continue;
                }
                _ => {}
            }
            if !p.problems.is_empty() {
                c.counts.rejected += 1;
                let taken = if stored.is_some() {
                    " (a submission with this instance_id and other content is already stored; it was kept)"
                } else {
                    ""
                };
                c.findings
                    .push(format!("rejected {id}: {}{taken}", p.problems.join("; ")));
                continue;
            }
            for (file, sha, r) in p.attachments {
                attachments.push((id.clone(), file, sha, r));
            }
            for (pending, rows) in c.pending.iter_mut().zip(&p.rows) {
                pending.extend_from(rows);
            }
            c.counts.new += 1;
        }
        let items: Vec<(&str, &str, &str, &[u8])> = attachments
            .iter()
            .map(|(id, file, sha, r)| (id.as_str(), file.as_str(), sha.as_str(), bundle.slice(r)))
            .collect();
        self.store.add_attachments(&items)?;
        for (t, rows) in c.pending.iter_mut().enumerate() {
            if !rows.is_empty() {
                self.store
                    .insert_rows(&c.start.specs[t].name, &c.start.columns[t], rows)?;
                rows.clear();
            }
        }
        Ok(())
    }

    fn end(&mut self, mut c: Current) {
        let path = c.start.path.clone();
        let result = match c.error.take() {
            Some(e) => Err(e),
            None => {
                let mut row = c.start.bundle.clone();
                row.new = c.counts.new;
                row.duplicate = c.counts.duplicate;
                row.conflict = c.counts.conflict;
                row.rejected = c.counts.rejected;
                self.store
                    .add_bundle(&row)
                    .and_then(|()| self.store.commit())
            }
        };
        match result {
            Ok(()) => {
                self.total.add(&c.counts);
                let (counts, findings) = (&c.counts, &c.findings);
                self.bar.suspend(|| {
                    say!("{}: {counts}", path.display());
                    // A bundle from a mismatched device can conflict thousands of times: the first
                    // lines tell what happened; the database has the rest.
                    for line in findings.iter().take(MAX_FINDINGS) {
                        say!("  {line}");
                    }
                    if findings.len() > MAX_FINDINGS {
                        say!("  … and {} more", findings.len() - MAX_FINDINGS);
                    }
                });
            }
            Err(e) if e.connection_lost() => {
                // The server rolls back what the lost connection had begun.
                self.failed += 1;
                self.bar.suspend(|| {
                    eprintln!(
                        "error: {}: {e}; nothing from this bundle was stored",
                        path.display()
                    )
                });
                self.lost = Some((path, 0));
            }
            Err(e) => {
                // The error that matters is the first one; a failed rollback is reported beside it.
                let e = match self.store.rollback() {
                    Err(r) => CliError::msg(format!("{e} (and the rollback failed: {r})")),
                    Ok(()) => e,
                };
                self.refused(&path, &e);
            }
        }
    }
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

/// The names of a form's attachment questions and repeats, sorted as a stored object's keys are,
/// so that finding the attachments of a submission looks up these few names in each object instead
/// of looking up each of the object's keys in the form.
struct AttachmentKeys {
    /// `(name, is a repeat)`, in byte order of the names.
    names: Vec<(String, bool)>,
}

impl AttachmentKeys {
    fn of(form: &Form) -> AttachmentKeys {
        let mut names: Vec<(String, bool)> = form
            .items
            .iter()
            .filter(|i| i.kind == ItemType::Repeat || i.kind.is_attachment())
            .map(|i| (i.name.clone(), i.kind == ItemType::Repeat))
            .collect();
        names.sort();
        AttachmentKeys { names }
    }

    /// `(question, attachment reference)` of every attachment answer, repeats included, in the
    /// order of the object's keys (a name is matched whatever the level, as the form's names are
    /// unique).
    fn collect<'j>(&self, v: &'j Json, out: &mut Vec<(String, &'j Json)>) {
        let Some(obj) = v.as_object() else { return };
        for (name, repeat) in &self.names {
            let Some(x) = obj.get(name) else { continue };
            if *repeat {
                for inst in x.as_array().into_iter().flatten() {
                    self.collect(inst, out);
                }
            } else {
                out.push((name.clone(), x));
            }
        }
    }
}
