//! Export bundles: how finished submissions leave a device as one ZIP file that an office can trust
//! without trusting the channel it came through (bundle-format.md).
//!
//! Writing ([`write_bundle`]) is pure: the host passes the form, the submissions, the attachments'
//! bytes and the time, and gets the file's name and bytes back; only finalized submissions that pass
//! validation go in, and every other one comes back in [`Bundle::refused`] with its reasons.
//!
//! Reading ([`BundleReader::open`], [`read_bundle`]) verifies the structure of the ZIP and *every*
//! size and SHA-256 in the manifest before it reads any data, then loads `form.json` and checks its
//! hash. [`BundleReader::submissions`] then parses `submissions.jsonl` one line at a time (nothing is
//! collected, entries borrow the input), so an office can ingest a huge bundle from a memory-mapped
//! file, and [`BundleReader::verify`] re-validates a submission with the engine, sharing the one
//! loaded form.
//!
//! Contents of a bundle (in archive order):
//! - `manifest.json`: see [`Manifest`]; hashes are lower-case hex SHA-256 of the file's bytes;
//! - `form.json`: `Form::source`, byte for byte;
//! - `submissions.jsonl`: one envelope per line ([`Submission::to_line`], each line ending in `\n`),
//!   sorted by `instance_id`; a submission's hash in the manifest is the SHA-256 of its line without
//!   the `\n`;
//! - `tables/…csv`: see [`csv`];
//! - `media/<uuid>/<file>`: attachments, where `<uuid>` is the `instance_id` without its `uuid:`
//!   prefix, because `:` is not allowed in file names on Windows, where offices unpack bundles.
//!
//! Encryption: when the form lists `settings.encrypt_to` (age X25519 public keys, `age1…`), the
//! whole ZIP is encrypted to every key in the age v1 format ([`age`]) and only the encrypted file is
//! returned, named `….zip.age`; the host passes the randomness in [`BundleInfo::entropy`]. A bad key
//! or too little entropy is an error, never a plaintext bundle. The office opens it with
//! [`decrypt`] and its secret key (`AGE-SECRET-KEY-1…`), or with the standard `age` tool, then reads
//! the ZIP as usual; [`BundleReader::open`] refuses encrypted bytes with [`BundleError::Encrypted`].

pub mod age;
pub mod csv;
pub mod zip;

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::form::Form;
use crate::session::parse_clock;
use crate::submission::{Checker, FormRef, Status, Submission, collect_attachments, sha256_hex};

/// The value of the manifest's `format` key.
pub const FORMAT: &str = "doorstep-bundle/1";
pub const MANIFEST: &str = "manifest.json";
pub const FORM_FILE: &str = "form.json";
pub const SUBMISSIONS_FILE: &str = "submissions.jsonl";

/// `manifest.json`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    pub form: FormRef,
    pub device_id: String,
    pub surveyor: String,
    pub app_version: String,
    /// RFC 3339, from the exporting device's clock.
    pub created_at: String,
    /// Every file of the bundle except the manifest, in archive order.
    pub files: Vec<FileEntry>,
    /// Every submission, in `instance_id` order (the order of `submissions.jsonl`).
    pub submissions: Vec<SubmissionEntry>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SubmissionEntry {
    pub instance_id: String,
    pub status: Status,
    /// Lower-case hex SHA-256 of the submission's line in `submissions.jsonl` (without the `\n`).
    pub sha256: String,
}

/// The bytes of one attachment (a photo, a signature), as the host read them from storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub instance_id: String,
    /// The `file` of the attachment reference in the answers.
    pub file: String,
    pub bytes: Vec<u8>,
}

/// What the host knows about an export: who and when, and the attachments' bytes.
#[derive(Clone, Debug, Default)]
pub struct BundleInfo {
    pub device_id: String,
    pub surveyor: String,
    pub app_version: String,
    /// RFC 3339 with offset, from the host's clock.
    pub created_at: String,
    pub attachments: Vec<Attachment>,
    /// Fresh random bytes from the host (the engine has none), used only when the form lists
    /// `settings.encrypt_to`: at least [`age::MIN_SEED`] (32) bytes, never reused; the app passes
    /// 64 from the OS. The file key, nonce and ephemeral keys are derived from it with HKDF.
    pub entropy: Vec<u8>,
}

/// A written bundle.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// `<form id>_<device id>_<UTC YYYYMMDDTHHMMSSZ>.zip`, or `.zip.age` when the form lists
    /// `settings.encrypt_to` (then `bytes` are the encrypted file and nothing else is returned).
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Lower-case hex SHA-256 of `bytes`: how the device remembers which submissions went where.
    pub sha256: String,
    /// The `instance_id`s in the bundle, in order.
    pub included: Vec<String>,
    /// Submissions left out, with every reason (drafts, invalid answers, missing attachments...).
    pub refused: Vec<(String, Vec<String>)>,
    /// Attachments passed in that no included submission refers to: `(instance_id, file)`; not written.
    pub unused_attachments: Vec<(String, String)>,
}

/// Why a bundle could not be written or read. Every message is lower case and names the file inside
/// the bundle that is at fault.
#[derive(Clone, Debug, PartialEq)]
pub enum BundleError {
    /// The bytes are not a ZIP archive, or a truncated one.
    NotAZip(String),
    /// A ZIP archive, but not a Doorstep bundle (made by another tool, or no manifest).
    NotABundle {
        file: Option<String>,
        problem: String,
    },
    /// A damaged archive: structure, sizes or CRC.
    Damaged {
        file: Option<String>,
        problem: String,
    },
    /// The manifest's `format` is not one this version reads.
    UnsupportedFormat(String),
    /// `manifest.json` is malformed or inconsistent.
    Manifest(String),
    /// A file the manifest lists (or every bundle has) is not in the archive.
    Missing(String),
    /// A file is in the archive but not in the manifest, or is not a file a bundle has.
    Extra { file: String, problem: String },
    /// A file's size or SHA-256 differs from the manifest.
    Changed { file: String, problem: String },
    /// `form.json` does not load or is not the form the manifest names.
    Form(String),
    /// A line of `submissions.jsonl` (1-based) is malformed or disagrees with the manifest.
    Submission { line: usize, problem: String },
    /// The form's `settings.encrypt_to` cannot be used: a bad key, or too little entropy.
    Encrypt { form: String, problem: String },
    /// The bundle is age-encrypted and no identity was given.
    Encrypted,
    /// None of the given identities opens the encrypted bundle.
    WrongKey,
    /// An identity given to open an encrypted bundle is not an age secret key.
    Identity(String),
    /// The encrypted bundle's header, MAC or payload is damaged or was changed.
    EncryptedDamaged(String),
    /// The export cannot be written (bad time, limits, tables).
    Write(String),
}

impl BundleError {
    /// The file inside the bundle the error is about, when there is one.
    pub fn file(&self) -> Option<&str> {
        match self {
            BundleError::NotABundle { file, .. } | BundleError::Damaged { file, .. } => {
                file.as_deref()
            }
            BundleError::UnsupportedFormat(_) | BundleError::Manifest(_) => Some(MANIFEST),
            BundleError::Missing(f)
            | BundleError::Extra { file: f, .. }
            | BundleError::Changed { file: f, .. } => Some(f),
            BundleError::Form(_) => Some(FORM_FILE),
            BundleError::Submission { .. } => Some(SUBMISSIONS_FILE),
            BundleError::NotAZip(_)
            | BundleError::Encrypt { .. }
            | BundleError::Encrypted
            | BundleError::WrongKey
            | BundleError::Identity(_)
            | BundleError::EncryptedDamaged(_)
            | BundleError::Write(_) => None,
        }
    }
}

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BundleError::NotAZip(p) => write!(f, "the file is not a ZIP archive: {p}"),
            BundleError::NotABundle {
                file: Some(n),
                problem,
            } => {
                write!(
                    f,
                    "not a Doorstep bundle: {n}: {problem} (was it made by another program?)"
                )
            }
            BundleError::NotABundle {
                file: None,
                problem,
            } => write!(f, "not a Doorstep bundle: {problem}"),
            BundleError::Damaged {
                file: Some(n),
                problem,
            } => write!(f, "{n}: {problem}; copy or export the bundle again"),
            BundleError::Damaged {
                file: None,
                problem,
            } => {
                write!(
                    f,
                    "the bundle is damaged: {problem}; copy or export it again"
                )
            }
            BundleError::UnsupportedFormat(v) => write!(
                f,
                "{MANIFEST}: the bundle format is `{v}`, but this version of Doorstep reads `{FORMAT}`: update Doorstep"
            ),
            BundleError::Manifest(p) => write!(f, "{MANIFEST}: {p}"),
            BundleError::Missing(n) => {
                write!(
                    f,
                    "{n}: the file is missing from the bundle (it was removed after export, or never written)"
                )
            }
            BundleError::Extra { file, problem } => write!(f, "{file}: {problem}"),
            BundleError::Changed { file, problem } => {
                write!(f, "{file}: {problem} (the file was changed after export)")
            }
            BundleError::Form(p) => write!(f, "{FORM_FILE}: {p}"),
            BundleError::Submission { line, problem } => {
                write!(f, "{SUBMISSIONS_FILE} line {line}: {problem}")
            }
            BundleError::Encrypt { form, problem } => write!(
                f,
                "form `{form}`: cannot encrypt the bundle to settings.encrypt_to, and an unencrypted one is not written: {problem}"
            ),
            BundleError::Encrypted => f.write_str(
                "this bundle is encrypted: give the office's key with --identity",
            ),
            BundleError::WrongKey => f.write_str(
                "none of the given keys can open this bundle: it was encrypted to another office's key",
            ),
            BundleError::Identity(p) => write!(f, "{p}"),
            BundleError::EncryptedDamaged(p) => write!(
                f,
                "the encrypted bundle is damaged or was changed ({p}); copy or export it again"
            ),
            BundleError::Write(p) => write!(f, "cannot write the bundle: {p}"),
        }
    }
}

impl std::error::Error for BundleError {}

impl From<zip::ZipError> for BundleError {
    fn from(e: zip::ZipError) -> BundleError {
        match e {
            zip::ZipError::NotZip(p) => BundleError::NotAZip(p),
            zip::ZipError::Foreign { file, problem } => BundleError::NotABundle { file, problem },
            zip::ZipError::Damaged { file, problem } => BundleError::Damaged { file, problem },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Writes the bundle of `submissions` made with `form` (see the module documentation). The form is
/// taken behind its `Rc` because each submission is validated in a session sharing it.
pub fn write_bundle(
    form: &Rc<Form>,
    submissions: &[Submission],
    info: &BundleInfo,
) -> Result<Bundle, BundleError> {
    // Checked before any work, so that a bad key or missing entropy never leaves a plaintext bundle.
    let recipients = encryption_recipients(form)?;
    if !recipients.is_empty() && info.entropy.len() < age::MIN_SEED {
        return Err(BundleError::Encrypt {
            form: form.id.clone(),
            problem: age::AgeError::Seed(info.entropy.len()).to_string(),
        });
    }
    let clock = parse_clock(&info.created_at).ok_or_else(|| {
        BundleError::Write(format!(
            "the creation time `{}` is not an RFC 3339 date-time with offset",
            info.created_at
        ))
    })?;
    let (y, mo, d, h, mi, s) = utc_parts(clock.utc_millis);
    let file_name = format!(
        "{}_{}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z.zip",
        form.id,
        sanitize_for_file_name(&info.device_id)
    );

    let mut attachments: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, a) in info.attachments.iter().enumerate() {
        attachments.insert((a.instance_id.as_str(), a.file.as_str()), i);
    }
    let mut used = vec![false; info.attachments.len()];

    // Submissions sharing an instance_id: one copy of identical ones is fine, different ones are a
    // conflict the surveyor must resolve, so all of them are refused.
    let mut order: Vec<&Submission> = submissions.iter().collect();
    crate::sort::sort_by(&mut order, |a, b| {
        a.meta.instance_id.cmp(&b.meta.instance_id)
    });

    let checker = Checker::new(form.clone());
    let mut tables = csv::Tables::new(form).map_err(BundleError::Write)?;
    let mut lines = String::new();
    let mut entries = Vec::new();
    let mut included = Vec::new();
    let mut refused = Vec::new();
    // With the SHA-256 each attachment was checked against, which the manifest then names (each
    // file's bytes are hashed once, not again for the manifest).
    let mut media: Vec<(String, &[u8], String)> = Vec::new();
    for group in order.chunk_by(|a, b| a.meta.instance_id == b.meta.instance_id) {
        let s = group[0];
        let id = s.meta.instance_id.as_str();
        let line = s.to_line();
        if group.iter().skip(1).any(|o| o.to_line() != line) {
            refused.push((
                id.to_string(),
                vec![format!(
                    "{} different submissions have this instance_id; keep one and export again",
                    group.len()
                )],
            ));
            continue;
        }
        let (mut reasons, data) = checker.examine(s);
        let mut files: Vec<(String, usize, String)> = Vec::new();
        if let Some(data) = &data {
            let mut refs = Vec::new();
            collect_attachments(form, data, &mut refs);
            for (question, r) in refs {
                let file = r.get("file").and_then(Json::as_str).unwrap_or("");
                let path = format!("media/{}/{file}", media_folder(id));
                if let Err(e) = zip::check_name(&path) {
                    reasons.push(format!(
                        "{question}: the attachment name `{file}` cannot be stored safely ({e})"
                    ));
                    continue;
                }
                let Some(&index) = attachments.get(&(id, file)) else {
                    reasons.push(format!("{question}: the attachment `{file}` is missing: its file was not found on the device"));
                    continue;
                };
                let bytes = info.attachments[index].bytes.as_slice();
                let want_sha = r.get("sha256").and_then(Json::as_str).unwrap_or("");
                let want_size = r.get("size").and_then(Json::as_u64);
                let sha = (Some(bytes.len() as u64) == want_size)
                    .then(|| sha256_hex(bytes))
                    .filter(|sha| sha.eq_ignore_ascii_case(want_sha));
                let Some(sha) = sha else {
                    reasons.push(format!(
                        "{question}: the attachment `{file}` on the device differs from the one recorded in the answer (size or SHA-256)"
                    ));
                    continue;
                };
                if !files.iter().any(|(p, _, _)| *p == path) {
                    files.push((path, index, sha));
                }
            }
        }
        if !reasons.is_empty() {
            refused.push((id.to_string(), reasons));
            continue;
        }
        let data = data.expect("a submission without problems was read against the form");
        tables.add(&s.meta, &data);
        entries.push(SubmissionEntry {
            instance_id: id.to_string(),
            status: s.meta.status,
            sha256: sha256_hex(line.as_bytes()),
        });
        lines.push_str(&line);
        lines.push('\n');
        included.push(id.to_string());
        for (path, index, sha) in files {
            used[index] = true;
            media.push((path, info.attachments[index].bytes.as_slice(), sha));
        }
    }
    let unused_attachments = info
        .attachments
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(a, _)| (a.instance_id.clone(), a.file.clone()))
        .collect();

    // Each file with its SHA-256 when it is known already (the media's).
    let mut files: Vec<(String, std::borrow::Cow<[u8]>, Option<String>)> = vec![
        (FORM_FILE.into(), form.source.as_bytes().into(), None),
        (SUBMISSIONS_FILE.into(), lines.into_bytes().into(), None),
    ];
    files.extend(
        tables
            .finish()
            .into_iter()
            .map(|(p, b)| (p, b.into(), None)),
    );
    // Media are already in order: by submission, then in the order the answers refer to them.
    files.extend(
        media
            .into_iter()
            .map(|(p, b, sha)| (p, b.into(), Some(sha))),
    );

    let manifest = Manifest {
        format: FORMAT.into(),
        form: FormRef::of(form),
        device_id: info.device_id.clone(),
        surveyor: info.surveyor.clone(),
        app_version: info.app_version.clone(),
        created_at: info.created_at.clone(),
        files: files
            .iter()
            .map(|(p, b, sha)| FileEntry {
                path: p.clone(),
                size: b.len() as u64,
                sha256: sha.clone().unwrap_or_else(|| sha256_hex(b)),
            })
            .collect(),
        submissions: entries,
    };
    let manifest_json =
        serde_json::to_string(&manifest).expect("a manifest always serializes") + "\n";

    let mut w = zip::ZipWriter::new(zip::DosTime::new(y, mo, d, h, mi, s));
    w.add(MANIFEST, manifest_json.as_bytes())
        .map_err(BundleError::Write)?;
    for (p, b, _) in &files {
        w.add(p, b).map_err(BundleError::Write)?;
    }
    let mut bytes = w.finish().map_err(BundleError::Write)?;
    let mut file_name = file_name;
    if !recipients.is_empty() {
        // The plaintext ZIP is dropped here: only the encrypted file leaves the engine.
        bytes =
            age::encrypt(&bytes, &recipients, &info.entropy).map_err(|e| BundleError::Encrypt {
                form: form.id.clone(),
                problem: e.to_string(),
            })?;
        file_name.push_str(".age");
    }
    let sha256 = sha256_hex(&bytes);
    Ok(Bundle {
        file_name,
        bytes,
        sha256,
        included,
        refused,
        unused_attachments,
    })
}

/// The keys of the form's `settings.encrypt_to`, parsed (empty: no encryption).
fn encryption_recipients(form: &Form) -> Result<Vec<age::Recipient>, BundleError> {
    let keys = form
        .doc
        .settings
        .as_ref()
        .map(|s| s.encrypt_to.as_slice())
        .unwrap_or_default();
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            age::Recipient::parse(k).map_err(|e| BundleError::Encrypt {
                form: form.id.clone(),
                problem: format!("settings.encrypt_to[{i}]: {e}"),
            })
        })
        .collect()
}

/// Whether `bytes` are an encrypted (`.zip.age`) bundle rather than a ZIP.
pub fn is_encrypted(bytes: &[u8]) -> bool {
    age::is_age(bytes)
}

/// Decrypts an encrypted bundle (`.zip.age`) in memory with the office's age identities
/// (`AGE-SECRET-KEY-1…`), giving the ZIP to read with [`BundleReader::open`]. Nothing is trusted
/// until the header MAC and every chunk authenticate.
pub fn decrypt(bytes: &[u8], identities: &[&str]) -> Result<Vec<u8>, BundleError> {
    if identities.is_empty() {
        return Err(BundleError::Encrypted);
    }
    let ids = identities
        .iter()
        .enumerate()
        .map(|(i, s)| {
            age::Identity::parse(s)
                .map_err(|e| BundleError::Identity(format!("key {}: {e}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    age::decrypt(bytes, &ids).map_err(|e| match e {
        age::AgeError::NoMatchingKey => BundleError::WrongKey,
        age::AgeError::Damaged(p) | age::AgeError::BadKey(p) => BundleError::EncryptedDamaged(p),
        age::AgeError::Seed(_) => BundleError::EncryptedDamaged(e.to_string()),
    })
}

/// The folder of a submission's attachments: its `instance_id` without `uuid:`.
pub fn media_folder(instance_id: &str) -> &str {
    instance_id.strip_prefix("uuid:").unwrap_or(instance_id)
}

/// A device id as it may appear in a file name: ASCII letters, digits and `-` only (anything else
/// becomes `-`, so `_` still separates the parts), at most 64 characters, never empty.
pub fn sanitize_for_file_name(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let trimmed = mapped.trim_matches('-');
    if trimmed.is_empty() {
        "device".into()
    } else {
        trimmed.into()
    }
}

fn utc_parts(utc_millis: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = utc_millis.div_euclid(86_400_000);
    let secs = (utc_millis.rem_euclid(86_400_000) / 1000) as u32;
    let (y, m, d) = crate::expr::dates::civil_from_days(days);
    (y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// A bundle whose structure, manifest, hashes and form have been verified; submissions are read on
/// demand. Borrows the bundle's bytes (which may be a memory-mapped file).
#[derive(Debug)]
pub struct BundleReader<'a> {
    pub manifest: Manifest,
    pub form: Rc<Form>,
    form_source: &'a str,
    jsonl: &'a [u8],
    media: Vec<MediaFile<'a>>,
    /// Indexes into `media` by `instance_id` (a huge bundle may hold many photos).
    media_index: HashMap<String, Vec<usize>>,
    checker: Checker,
}

/// One attachment in a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFile<'a> {
    /// The submission it belongs to (`uuid:…`).
    pub instance_id: String,
    pub file: String,
    pub bytes: &'a [u8],
}

/// One line of `submissions.jsonl`, parsed and checked against the manifest.
#[derive(Clone, Debug)]
pub struct SubmissionLine<'a> {
    /// 1-based.
    pub line: usize,
    /// The line as stored (without `\n`): what the content hash covers.
    pub text: &'a str,
    /// Its lower-case hex SHA-256 (equal to the manifest's).
    pub sha256: String,
    pub submission: Submission,
}

impl<'a> BundleReader<'a> {
    /// Opens a bundle: checks the ZIP, the manifest, that the files are exactly those the manifest
    /// lists with their sizes and SHA-256, the CRCs, that `form.json` loads and has the manifest's
    /// identity and hash, and that the other files are those a bundle of this form has. Reads no
    /// submission yet.
    pub fn open(bytes: &'a [u8]) -> Result<BundleReader<'a>, BundleError> {
        if is_encrypted(bytes) {
            return Err(BundleError::Encrypted);
        }
        let archive = zip::read(bytes)?;
        let Some(m) = archive.get(MANIFEST) else {
            return Err(BundleError::NotABundle {
                file: None,
                problem: format!(
                    "the ZIP archive has no {MANIFEST} (was it made by another program?)"
                ),
            });
        };
        if !m.crc_ok() {
            return Err(BundleError::Damaged {
                file: Some(MANIFEST.into()),
                problem: "the CRC-32 does not match".into(),
            });
        }
        let manifest = parse_manifest(m.data)?;

        // The archive holds exactly the listed files, with their sizes and hashes.
        let mut listed: HashMap<&str, &FileEntry> = HashMap::with_capacity(manifest.files.len());
        for f in &manifest.files {
            if f.path == MANIFEST {
                return Err(BundleError::Manifest(
                    "the manifest lists itself in `files`".into(),
                ));
            }
            if listed.insert(f.path.as_str(), f).is_some() {
                return Err(BundleError::Manifest(format!(
                    "`{}` is listed twice in `files`",
                    f.path
                )));
            }
        }
        let mut data: HashMap<&str, &'a [u8]> = HashMap::with_capacity(archive.entries.len());
        for e in &archive.entries {
            if e.name != MANIFEST && !listed.contains_key(e.name.as_str()) {
                return Err(BundleError::Extra {
                    file: e.name.clone(),
                    problem: "the file is in the bundle but not in the manifest (it was added after export)".into(),
                });
            }
        }
        for f in &manifest.files {
            let Some(e) = archive.get(&f.path) else {
                return Err(BundleError::Missing(f.path.clone()));
            };
            if e.data.len() as u64 != f.size {
                return Err(BundleError::Changed {
                    file: f.path.clone(),
                    problem: format!(
                        "the size is {} bytes but the manifest says {}",
                        e.data.len(),
                        f.size
                    ),
                });
            }
            if sha256_hex(e.data) != f.sha256 {
                return Err(BundleError::Changed {
                    file: f.path.clone(),
                    problem: "the SHA-256 does not match the manifest".into(),
                });
            }
            if !e.crc_ok() {
                return Err(BundleError::Damaged {
                    file: Some(f.path.clone()),
                    problem: "the CRC-32 does not match".into(),
                });
            }
            data.insert(f.path.as_str(), e.data);
        }

        // Every hash has been verified: now the contents can be read.
        let form_bytes = *data
            .get(FORM_FILE)
            .ok_or_else(|| BundleError::Missing(FORM_FILE.into()))?;
        let jsonl = *data
            .get(SUBMISSIONS_FILE)
            .ok_or_else(|| BundleError::Missing(SUBMISSIONS_FILE.into()))?;
        let form_source = std::str::from_utf8(form_bytes)
            .map_err(|e| BundleError::Form(format!("the file is not UTF-8 ({e})")))?;
        let loaded = crate::form::load(form_source);
        let Some(form) = loaded.form else {
            let errors: Vec<String> = loaded
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .take(5)
                .map(|d| {
                    if d.path.is_empty() {
                        d.message.clone()
                    } else {
                        format!("{}: {}", d.path, d.message)
                    }
                })
                .collect();
            return Err(BundleError::Form(format!(
                "the form does not load: {}",
                errors.join("; ")
            )));
        };
        let form = Rc::new(form);
        if FormRef::of(&form) != manifest.form {
            return Err(BundleError::Form(format!(
                "the form is `{}` version `{}` with hash {}, but the manifest names `{}` version `{}` with hash {}",
                form.id,
                form.version,
                form.hash,
                manifest.form.id,
                manifest.form.version,
                manifest.form.hash
            )));
        }

        // The other files must be those a bundle of this form has.
        let mut prev: Option<&str> = None;
        let mut folders: HashMap<&str, &str> = HashMap::with_capacity(manifest.submissions.len());
        for s in &manifest.submissions {
            if prev.is_some_and(|p| p >= s.instance_id.as_str()) {
                return Err(BundleError::Manifest(format!(
                    "`submissions` is not in strictly increasing instance_id order at `{}`",
                    s.instance_id
                )));
            }
            prev = Some(&s.instance_id);
            folders.insert(media_folder(&s.instance_id), &s.instance_id);
        }
        let tables: HashSet<String> = csv::table_paths(&form).into_iter().collect();
        for t in &tables {
            if !data.contains_key(t.as_str()) {
                return Err(BundleError::Missing(t.clone()));
            }
        }
        let mut media = Vec::new();
        for f in &manifest.files {
            let p = f.path.as_str();
            if p == FORM_FILE || p == SUBMISSIONS_FILE || tables.contains(p) {
                continue;
            }
            let parts: Vec<&str> = p.splitn(3, '/').collect();
            match parts.as_slice() {
                ["media", folder, file] if !file.contains('/') => match folders.get(folder) {
                    Some(id) => media.push(MediaFile {
                        instance_id: id.to_string(),
                        file: file.to_string(),
                        bytes: data[p],
                    }),
                    None => {
                        return Err(BundleError::Extra {
                            file: p.into(),
                            problem: "the attachment belongs to no submission in the bundle".into(),
                        });
                    }
                },
                _ => {
                    return Err(BundleError::Extra {
                        file: p.into(),
                        problem: format!("a bundle of form `{}` has no such file", form.id),
                    });
                }
            }
        }
        let checker = Checker::new(form.clone());
        let mut media_index: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, m) in media.iter().enumerate() {
            media_index
                .entry(m.instance_id.clone())
                .or_default()
                .push(i);
        }
        Ok(BundleReader {
            manifest,
            form,
            form_source,
            jsonl,
            media,
            media_index,
            checker,
        })
    }

    /// `form.json` as stored (it is the exact form definition).
    pub fn form_source(&self) -> &'a str {
        self.form_source
    }

    /// `submissions.jsonl` as stored (verified against the manifest by [`BundleReader::open`]), for
    /// callers that check its lines elsewhere with [`check_line`] (the office's ingest workers).
    pub fn submissions_bytes(&self) -> &'a [u8] {
        self.jsonl
    }

    /// The attachments, in archive order.
    pub fn media(&self) -> &[MediaFile<'a>] {
        &self.media
    }

    /// The submissions, one line at a time, each checked against its manifest entry (hash,
    /// `instance_id`, status) and the bundle's form identity. Stops at the first error.
    pub fn submissions(&self) -> SubmissionLines<'_, 'a> {
        SubmissionLines {
            reader: self,
            rest: self.jsonl,
            line: 0,
            failed: false,
        }
    }

    /// Re-validates one submission with the engine, as the device did before export: the reasons it
    /// would be refused (envelope, answers, status, attachments missing or different); empty when
    /// valid. Shares the loaded form; costs one session.
    pub fn verify(&self, s: &Submission) -> Vec<String> {
        let mine = self.media_index.get(s.meta.instance_id.as_str());
        verify_one(&self.checker, s, |file| {
            mine.into_iter()
                .flatten()
                .map(|&i| &self.media[i])
                .find(|m| m.file == file)
                .map(|m| m.bytes)
        })
    }
}

/// The iterator of [`BundleReader::submissions`].
#[derive(Debug)]
pub struct SubmissionLines<'r, 'a> {
    reader: &'r BundleReader<'a>,
    rest: &'a [u8],
    line: usize,
    failed: bool,
}

impl<'a> Iterator for SubmissionLines<'_, 'a> {
    type Item = Result<SubmissionLine<'a>, BundleError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let entries = &self.reader.manifest.submissions;
        let result = if self.rest.is_empty() {
            if self.line < entries.len() {
                Err(BundleError::Submission {
                    line: self.line + 1,
                    problem: format!(
                        "the file ends after {} lines, but the manifest lists {} submissions",
                        self.line,
                        entries.len()
                    ),
                })
            } else {
                return None;
            }
        } else {
            self.line += 1;
            self.read_line()
        };
        self.failed = result.is_err();
        Some(result)
    }
}

impl<'a> SubmissionLines<'_, 'a> {
    fn read_line(&mut self) -> Result<SubmissionLine<'a>, BundleError> {
        let line = self.line;
        let err = |problem: String| BundleError::Submission { line, problem };
        let Some(nl) = self.rest.iter().position(|&b| b == b'\n') else {
            return Err(err("the last line does not end with a line break".into()));
        };
        let raw = &self.rest[..nl];
        self.rest = &self.rest[nl + 1..];
        let Some(entry) = self.reader.manifest.submissions.get(line - 1) else {
            return Err(err(format!(
                "the manifest lists only {} submissions",
                self.reader.manifest.submissions.len()
            )));
        };
        let (text, submission) = check_line(raw, entry, &self.reader.manifest.form).map_err(err)?;
        Ok(SubmissionLine {
            line,
            text,
            sha256: entry.sha256.clone(),
            submission,
        })
    }
}

/// Checks one line of `submissions.jsonl` against its manifest entry and the bundle's form: UTF-8, the
/// line's SHA-256, the envelope, the instance id and status, the form's identity. Shared by the reader and
/// by callers that check lines on other threads (the office's ingest workers).
pub fn check_line<'r>(
    raw: &'r [u8],
    entry: &SubmissionEntry,
    form: &FormRef,
) -> Result<(&'r str, Submission), String> {
    let text = std::str::from_utf8(raw).map_err(|e| format!("the line is not UTF-8 ({e})"))?;
    if sha256_hex(raw) != entry.sha256 {
        return Err(format!(
            "the SHA-256 of the line does not match the manifest's for `{}`",
            entry.instance_id
        ));
    }
    let submission = Submission::from_line(text)?;
    let m = &submission.meta;
    if m.instance_id != entry.instance_id || m.status != entry.status {
        return Err(format!(
            "the submission is `{}` ({}), but the manifest lists `{}` ({}) here",
            m.instance_id,
            m.status.as_str(),
            entry.instance_id,
            entry.status.as_str()
        ));
    }
    if &m.form != form {
        return Err(format!(
            "the submission `{}` is for form `{}` version `{}`, not the bundle's form",
            m.instance_id, m.form.id, m.form.version
        ));
    }
    Ok((text, submission))
}

/// [`check_line`] for callers that need only the submission (the office's ingest): the same checks
/// and, for a bad line, the same error, without a separate UTF-8 pass over a good one (parsing the
/// bytes checks every string, and JSON has no other place for non-ASCII bytes).
pub fn check_line_submission(
    raw: &[u8],
    entry: &SubmissionEntry,
    form: &FormRef,
) -> Result<Submission, String> {
    let parsed = if sha256_hex(raw) == entry.sha256 {
        serde_json::from_slice::<Submission>(raw).ok()
    } else {
        None
    };
    let Some(submission) = parsed else {
        // Whatever is wrong, the error is the one `check_line` gives, in its order.
        return check_line(raw, entry, form).map(|(_, s)| s);
    };
    let m = &submission.meta;
    if m.instance_id != entry.instance_id || m.status != entry.status || &m.form != form {
        return check_line(raw, entry, form).map(|(_, s)| s);
    }
    Ok(submission)
}

fn verify_one<'b>(
    checker: &Checker,
    s: &Submission,
    media: impl Fn(&str) -> Option<&'b [u8]>,
) -> Vec<String> {
    let (mut problems, data) = checker.examine(s);
    if let Some(data) = data {
        let mut refs = Vec::new();
        collect_attachments(checker.form(), &data, &mut refs);
        for (question, r) in refs {
            let file = r.get("file").and_then(Json::as_str).unwrap_or("");
            match media(file) {
                None => problems.push(format!(
                    "{question}: the attachment `{file}` is not in the bundle (media/{}/{file})",
                    media_folder(&s.meta.instance_id)
                )),
                Some(bytes) => {
                    let want = r.get("sha256").and_then(Json::as_str).unwrap_or("");
                    if !sha256_hex(bytes).eq_ignore_ascii_case(want)
                        || r.get("size").and_then(Json::as_u64) != Some(bytes.len() as u64)
                    {
                        problems.push(format!("{question}: the attachment `{file}` differs from the one recorded in the answer"));
                    }
                }
            }
        }
    }
    problems
}

fn parse_manifest(bytes: &[u8]) -> Result<Manifest, BundleError> {
    // A well-formed manifest is read in one typed pass (an office bundle lists tens of thousands of
    // files: a `Value` tree of it costs more than the typed manifest); anything else takes the
    // careful path below, which says what is wrong.
    if let Ok(m) = serde_json::from_slice::<Manifest>(bytes)
        && m.format == FORMAT
    {
        return Ok(m);
    }
    let json: Json = serde_json::from_slice(bytes).map_err(|e| BundleError::NotABundle {
        file: Some(MANIFEST.into()),
        problem: format!("the file is not JSON ({e})"),
    })?;
    match json.get("format").and_then(Json::as_str) {
        Some(FORMAT) => {}
        Some(other) if other.starts_with("doorstep-bundle/") => {
            return Err(BundleError::UnsupportedFormat(other.into()));
        }
        _ => {
            return Err(BundleError::NotABundle {
                file: Some(MANIFEST.into()),
                problem: format!("the file has no `\"format\": \"{FORMAT}\"`"),
            });
        }
    }
    serde_json::from_value(json)
        .map_err(|e| BundleError::Manifest(format!("the manifest is malformed: {e}")))
}

/// A whole bundle in memory: [`read_bundle`]'s result.
#[derive(Debug)]
pub struct ReadBundle {
    pub manifest: Manifest,
    /// `form.json` as stored.
    pub form_source: String,
    pub form: Rc<Form>,
    /// In `instance_id` order.
    pub submissions: Vec<Submission>,
    pub media: Vec<Attachment>,
}

/// Reads a whole bundle into memory (see [`BundleReader`] for large bundles): verifies everything
/// [`BundleReader::open`] does, then every line of `submissions.jsonl`.
pub fn read_bundle(bytes: &[u8]) -> Result<ReadBundle, BundleError> {
    let r = BundleReader::open(bytes)?;
    let submissions = r
        .submissions()
        .map(|l| l.map(|l| l.submission))
        .collect::<Result<Vec<_>, _>>()?;
    let media = r
        .media()
        .iter()
        .map(|m| Attachment {
            instance_id: m.instance_id.clone(),
            file: m.file.clone(),
            bytes: m.bytes.to_vec(),
        })
        .collect();
    Ok(ReadBundle {
        form_source: r.form_source.to_string(),
        form: r.form.clone(),
        manifest: r.manifest,
        submissions,
        media,
    })
}

/// Re-validates every submission of a read bundle with the engine: `(instance_id, reasons)` for each
/// one the device should not have exported; empty when all are valid.
pub fn verify_submissions(bundle: &ReadBundle) -> Vec<(String, Vec<String>)> {
    let checker = Checker::new(bundle.form.clone());
    let mut media: HashMap<(&str, &str), &[u8]> = HashMap::new();
    for m in &bundle.media {
        media.insert(
            (m.instance_id.as_str(), m.file.as_str()),
            m.bytes.as_slice(),
        );
    }
    bundle
        .submissions
        .iter()
        .filter_map(|s| {
            let id = s.meta.instance_id.as_str();
            let problems = verify_one(&checker, s, |file| media.get(&(id, file)).copied());
            (!problems.is_empty()).then(|| (id.to_string(), problems))
        })
        .collect()
}
