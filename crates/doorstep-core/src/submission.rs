//! The submission envelope (`meta` + `data`) that the app saves, bundles carry and the office ingests,
//! and the one check that decides whether a stored submission is valid against its form.
//!
//! **Validation and the clock.** A stored submission is validated as of the moment it records:
//! `finalized_at` (or `updated_at` for a draft). Constraints such as `. <= today()` therefore give the
//! same verdict on the device at finalize time, at export a week later, and at the office a month
//! later; the verdict depends only on the envelope, never on the clock of whoever checks it. The
//! device id and surveyor that `deviceid`/`username` expressions read come from `meta` too, and the
//! seed of `random()`/`uuid()` is derived from the `instance_id` (no constraint should use them, but
//! if one does, the verdict is still reproducible).

use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::expr::Node;
use crate::form::Form;
use crate::form::model::ItemType;
use crate::session::{Host, Session, parse_clock};

/// The form a submission was made with: its exact identity.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FormRef {
    pub id: String,
    pub version: String,
    /// `sha256:<hex>` of the form's canonical JSON.
    pub hash: String,
}

impl FormRef {
    pub fn of(form: &Form) -> FormRef {
        FormRef {
            id: form.id.clone(),
            version: form.version.clone(),
            hash: form.hash.clone(),
        }
    }
}

/// Whether the surveyor has finished the submission.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Finalized,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Finalized => "finalized",
        }
    }
}

/// The envelope's `meta` object (bundle-format.md, "Submission envelope").
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// `uuid:<random UUID>`; never changes, except that editing a finalized submission makes a new one.
    pub instance_id: String,
    pub form: FormRef,
    pub status: Status,
    /// RFC 3339 with offset.
    pub started_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalized_at: Option<String>,
    pub device_id: String,
    pub surveyor: String,
    /// The `instance_id` of the finalized submission this one replaces (an edit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_id: Option<String>,
}

/// One submission: its envelope and its answers (form-format.md, "Submission data shape").
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub meta: Meta,
    pub data: Json,
}

impl Submission {
    /// The submission as one line of `submissions.jsonl` (compact JSON, keys sorted, no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a submission always serializes")
    }

    /// Reads one line of `submissions.jsonl`.
    pub fn from_line(line: &str) -> Result<Submission, String> {
        serde_json::from_str(line).map_err(|e| format!("not a submission envelope: {e}"))
    }

    /// Lower-case hex SHA-256 of [`Submission::to_line`]: the submission's content hash, as listed in
    /// a bundle's manifest and used by ingest to tell a repeat from a conflict.
    ///
    /// For a submission read from a bundle, use the hash of the stored line instead
    /// (`bundle::SubmissionLine::sha256`, equal to the manifest's): serializing again could write a
    /// decimal differently and change the hash.
    pub fn line_hash(&self) -> String {
        sha256_hex(self.to_line().as_bytes())
    }

    /// The host a stored submission is validated with (see the module documentation): the clock is
    /// `finalized_at`, else `updated_at`.
    pub fn validation_host(&self) -> Result<Host, String> {
        validation_host(&self.meta)
    }

    /// Every reason this submission is not a valid record of `form`: the form identity differs, the
    /// envelope is malformed, or the answers do not validate. Empty when it is valid. Drafts are
    /// checked too (a draft may be incomplete, and then `required` problems are listed).
    ///
    /// Takes the form behind an `Rc` because a session shares it; checking many submissions against
    /// one loaded form costs no copy of the form (see [`Checker`] for the bundle's checks).
    pub fn check_against(&self, form: &Rc<Form>) -> Vec<String> {
        self.examine(form).0
    }

    /// [`Submission::check_against`] plus the session it validated (none when the submission is for
    /// another form or its clock cannot be read), so that callers can export without a second resume.
    fn examine(&self, form: &Rc<Form>) -> (Vec<String>, Option<Session>) {
        examine(&self.meta, self.data.is_object(), form, |host| {
            Session::resume(form.clone(), &self.data, host)
        })
    }
}

/// See [`Submission::validation_host`].
fn validation_host(m: &Meta) -> Result<Host, String> {
    let (key, at) = match &m.finalized_at {
        Some(t) => ("finalized_at", t),
        None => ("updated_at", &m.updated_at),
    };
    let clock = parse_clock(at)
        .ok_or_else(|| format!("meta.{key} `{at}` is not an RFC 3339 date-time with offset"))?;
    Ok(Host {
        clock,
        device_id: m.device_id.clone(),
        username: m.surveyor.clone(),
        seed: fnv1a(m.instance_id.as_bytes()),
    })
}

/// [`Submission::examine`] for the envelope `m` (whose `data` is a JSON object or not), with the
/// session `resume` makes from the answers for the validation host: borrowed answers are copied
/// into it, owned ones moved ([`Checker::check_owned`]).
fn examine(
    m: &Meta,
    data_is_object: bool,
    form: &Rc<Form>,
    resume: impl FnOnce(Host) -> Session,
) -> (Vec<String>, Option<Session>) {
    let mut out = check_envelope(m, data_is_object, form);
    let f = &m.form;
    if f.id != form.id || f.version != form.version || f.hash != form.hash {
        // Answers checked against another form say nothing useful.
        return (out, None);
    }
    match validation_host(m) {
        Ok(host) => {
            let session = resume(host);
            for p in session.validate() {
                if p.code == "unknown-field" {
                    out.push(p.message);
                } else {
                    out.push(format!(
                        "{}: {} ({})",
                        session.path_of(p.node),
                        p.message,
                        p.code
                    ));
                }
            }
            (out, Some(session))
        }
        Err(e) => {
            out.push(e);
            (out, None)
        }
    }
}

fn check_envelope(m: &Meta, data_is_object: bool, form: &Form) -> Vec<String> {
    let mut out = Vec::new();
    if m.form.id != form.id {
        out.push(format!(
            "the submission is for form `{}`, not `{}`",
            m.form.id, form.id
        ));
    } else if m.form.version != form.version {
        out.push(format!(
            "the submission is for version `{}` of form `{}`, not version `{}`",
            m.form.version, form.id, form.version
        ));
    } else if m.form.hash != form.hash {
        out.push(format!(
            "the submission was made with a different definition of `{}` version `{}` (hash {} instead of {}): the form was changed without a new version",
            form.id, form.version, m.form.hash, form.hash
        ));
    }
    if !is_instance_id(&m.instance_id) {
        out.push(format!(
            "meta.instance_id `{}` is not `uuid:` followed by a UUID",
            m.instance_id
        ));
    }
    if let Some(d) = &m.deprecated_id {
        if !is_instance_id(d) {
            out.push(format!(
                "meta.deprecated_id `{d}` is not `uuid:` followed by a UUID"
            ));
        } else if d == &m.instance_id {
            out.push(
                "meta.deprecated_id equals meta.instance_id: an edit gets a new instance_id".into(),
            );
        }
    }
    for (key, v) in [
        ("started_at", Some(&m.started_at)),
        ("updated_at", Some(&m.updated_at)),
        ("finalized_at", m.finalized_at.as_ref()),
    ] {
        if let Some(v) = v
            && parse_clock(v).is_none()
        {
            out.push(format!(
                "meta.{key} `{v}` is not an RFC 3339 date-time with offset"
            ));
        }
    }
    match (m.status, &m.finalized_at) {
        (Status::Finalized, None) => {
            out.push("the submission is finalized but has no meta.finalized_at".into())
        }
        (Status::Draft, Some(_)) => {
            out.push("the submission is a draft but has meta.finalized_at".into())
        }
        _ => {}
    }
    if !data_is_object {
        out.push("data is not a JSON object".into());
    }
    out
}

/// Collects `(question name, attachment reference)` from exported answers, repeats included.
pub(crate) fn collect_attachments(form: &Form, v: &Json, out: &mut Vec<(String, Json)>) {
    let Some(obj) = v.as_object() else { return };
    for (k, x) in obj {
        match form.item_by_name(k).map(|i| i.kind) {
            Some(ItemType::Repeat) => {
                for inst in x.as_array().into_iter().flatten() {
                    collect_attachments(form, inst, out);
                }
            }
            Some(t) if t.is_attachment() => out.push((k.clone(), x.clone())),
            _ => {}
        }
    }
}

/// Checks submissions against one loaded form, as the app does before export and the office does at
/// ingest: the envelope, the answers, and `finalized` status (only finalized submissions are
/// exported). Holds the form by `Rc`, so checking costs one session per submission and no reload.
#[derive(Clone, Debug)]
pub struct Checker {
    form: Rc<Form>,
}

impl Checker {
    pub fn new(form: Rc<Form>) -> Checker {
        Checker { form }
    }
    pub fn form(&self) -> &Rc<Form> {
        &self.form
    }
    /// [`Checker::check`] of a submission the caller is done with: its answers move into the
    /// validating session instead of being copied (the office's ingest). Gives the envelope back.
    pub fn check_owned(&self, s: Submission) -> (Vec<String>, Meta) {
        let mut out = Vec::new();
        if s.meta.status != Status::Finalized {
            out.push("the submission is a draft: only finalized submissions are exported".into());
        }
        let Submission { meta, data } = s;
        let (problems, _) = examine(&meta, data.is_object(), &self.form, |host| {
            Session::resume_owned(self.form.clone(), data, host)
        });
        out.extend(problems);
        (out, meta)
    }

    /// The reasons `s` may not be in a bundle; empty when it may.
    pub fn check(&self, s: &Submission) -> Vec<String> {
        // The same checks as `examine`, without building the exported answers (ingest's hot path).
        let mut out = Vec::new();
        if s.meta.status != Status::Finalized {
            out.push("the submission is a draft: only finalized submissions are exported".into());
        }
        out.extend(s.examine(&self.form).0);
        out
    }

    /// The reasons `s` may not be in a bundle, and its exported answers when the answers could be
    /// read against this form: the *stored* answers with non-relevant ones removed. Stored, not
    /// recomputed, because a resumed session evaluates `once(now())` or `random()` calculations
    /// again, and the export must show what the device recorded.
    pub fn examine(&self, s: &Submission) -> (Vec<String>, Option<Json>) {
        let mut out = Vec::new();
        if s.meta.status != Status::Finalized {
            out.push("the submission is a draft: only finalized submissions are exported".into());
        }
        let (problems, session) = s.examine(&self.form);
        out.extend(problems);
        let exported = session.map(|session| Json::Object(relevant_only(&session, 0, &s.data)));
        (out, exported)
    }
}

/// The stored answers of scope `scope` that are relevant in `session` (the session was resumed from
/// `stored`, so its instances are in the stored order).
fn relevant_only(session: &Session, scope: u32, stored: &Json) -> serde_json::Map<String, Json> {
    let form = session.form();
    let mut out = serde_json::Map::new();
    let Some(obj) = stored.as_object() else {
        return out;
    };
    for (k, v) in obj {
        let Some(item) = form.item_by_name(k) else {
            continue;
        };
        let node = Node {
            item: item.id,
            scope,
        };
        if !session.exists(node) || !session.state(node).relevant {
            continue;
        }
        if item.kind == ItemType::Repeat {
            let list: Vec<Json> = session
                .instances(item.id, scope)
                .iter()
                .zip(v.as_array().into_iter().flatten())
                .map(|(&inst, x)| Json::Object(relevant_only(session, inst, x)))
                .collect();
            if !list.is_empty() {
                out.insert(k.clone(), Json::Array(list));
            }
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// `uuid:` followed by a UUID in the 8-4-4-4-12 hex form (any version, lower or upper case).
pub fn is_instance_id(s: &str) -> bool {
    let Some(u) = s.strip_prefix("uuid:") else {
        return false;
    };
    let b = u.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::form::hex(&Sha256::digest(bytes))
}

/// `bytes` in lower-case hexadecimal, as [`sha256_hex`] writes them (the app uses it too, rather
/// than a copy of its own).
pub fn hex(bytes: &[u8]) -> String {
    crate::form::hex(bytes)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
