//! What the app keeps in IndexedDB, as plain serde types: installed forms, submissions, bundles, settings.
//!
//! Records are stored as JSON text, so what is on the phone is readable by any tool and independent of
//! the app's Rust types' memory layout: an app update never makes stored drafts unreadable. Unknown
//! fields are kept (`extra`) for the same reason.

use std::collections::{BTreeMap, BTreeSet};

use doorstep_core::bundle::{Bundle, BundleInfo};
use doorstep_core::form::Form;
use doorstep_core::form::model::Text;
use doorstep_core::submission::{Submission, hex};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::i18n::Lang;

/// An installed form, bound to its exact identity `(id, version, hash)`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FormRecord {
    pub key: String,
    pub id: String,
    pub version: String,
    pub hash: String,
    pub title: Text,
    /// The exact source text (what goes into a bundle's `form.json`).
    pub source: String,
    /// `shipped`, `file` or `url`.
    pub origin: String,
    pub installed_at: String,
}

/// The newest installed version of each form id: what "start a new interview" offers (versions
/// ordered by [`doorstep_core::form::compare_versions`]); of two installs of one version, the later.
pub fn newest_per_id(list: &[FormRecord]) -> Vec<FormRecord> {
    let mut out: Vec<FormRecord> = Vec::new();
    for f in list {
        match out.iter_mut().find(|o| o.id == f.id) {
            Some(o)
                if doorstep_core::form::compare_versions(&f.version, &o.version)
                    .then_with(|| f.installed_at.cmp(&o.installed_at))
                    .is_gt() =>
            {
                *o = f.clone()
            }
            Some(_) => {}
            None => out.push(f.clone()),
        }
    }
    out
}

/// Parses a stored or fetched JSON text into `T` through a `serde_json::Value`: every type then
/// deserializes from `&Value` only, the way the engine reads forms, so the wasm carries one copy of
/// each type's deserializer instead of two (one per input kind). Messages have no line and column.
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let value: Json = serde_json::from_str(text)?;
    T::deserialize(&value)
}

pub fn form_key(id: &str, version: &str, hash: &str) -> String {
    format!("{id}|{version}|{hash}")
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FormRef {
    pub id: String,
    pub version: String,
    pub hash: String,
}

/// The submission envelope's `meta` (bundle-format.md).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    pub instance_id: String,
    pub form: FormRef,
    /// `draft` or `finalized`.
    pub status: String,
    pub started_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finalized_at: Option<String>,
    pub device_id: String,
    pub surveyor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Envelope {
    pub meta: Meta,
    pub data: Json,
}

/// One submission as stored on the device: the envelope plus what the lists need.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SubmissionRecord {
    pub envelope: Envelope,
    /// The form's `instance_name` when it was last saved.
    #[serde(default)]
    pub name: String,
    /// The form's title in the default language, for lists (all a record written before
    /// `form_titles` has, and what an older app reads).
    #[serde(default)]
    pub form_title: String,
    /// The form's title in every language it has, so lists follow the interface language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_titles: Option<Text>,
    /// Where the surveyor was: page index and the member's path (`members[2]`).
    #[serde(default)]
    pub page: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// SHA-256 of every bundle this submission went into.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exported_in: Vec<String>,
    /// A finalized submission replaced by an edit (its successor's id), kept and never exported again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
    /// How many times the record was written (0 for one written before the count existed). A
    /// window writes only over the revision it last read or wrote itself ([`SubmissionRecord::may_replace`]):
    /// two tabs of the app on one interview cannot silently undo each other's answers.
    #[serde(default)]
    pub rev: u64,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Json>,
}

impl SubmissionRecord {
    /// Reads a stored record, as [`from_json`] does, but moves the answers (`envelope.data`, most
    /// of a record) out of the parsed text instead of copying them and dropping the original: the
    /// lists read every stored interview each time they open (600 households: about 95 ms of the
    /// drafts tab at CPU 4x, half of it that copy and drop).
    pub fn read(text: &str) -> Result<SubmissionRecord, serde_json::Error> {
        let mut value: Json = serde_json::from_str(text)?;
        let data = value
            .get_mut("envelope")
            .and_then(|e| e.get_mut("data"))
            .map(Json::take);
        let mut r = SubmissionRecord::deserialize(&value)?;
        if let Some(data) = data {
            r.envelope.data = data;
        }
        Ok(r)
    }
    /// Whether a window that last read or wrote revision `seen` of an interview (`None`: it has
    /// never been written) may write over `stored`, what is on disk now; if not, what another
    /// window did meanwhile.
    pub fn may_replace(
        stored: Option<&SubmissionRecord>,
        seen: Option<u64>,
    ) -> Result<(), crate::save::Conflict> {
        use crate::save::Conflict;
        match (stored, seen) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(Conflict::Deleted),
            (Some(s), Some(seen)) if s.rev == seen => Ok(()),
            (Some(s), _) if s.is_finalized() => Err(Conflict::Finalized { rev: s.rev }),
            (Some(s), _) => Err(Conflict::Changed { rev: s.rev }),
        }
    }
    pub fn id(&self) -> &str {
        &self.envelope.meta.instance_id
    }
    /// The envelope as the engine's submission (what goes into a bundle).
    pub fn submission(&self) -> Result<Submission, String> {
        serde_json::to_value(&self.envelope)
            .and_then(|v| <Submission as Deserialize>::deserialize(&v))
            .map_err(|e| format!("the stored envelope is not readable: {e}"))
    }
    pub fn is_finalized(&self) -> bool {
        self.envelope.meta.status == "finalized"
    }
    /// Finalized, not replaced by a correction and in no bundle yet: what the export screen
    /// chooses at first, and what the export tab counts.
    pub fn awaits_export(&self) -> bool {
        self.is_finalized() && self.superseded_by.is_none() && self.exported_in.is_empty()
    }
    /// The name to list the interview under: its `instance_name` without the separators left
    /// around parts not yet answered ("· 2026-11-24" when the head's name is still empty); empty
    /// when nothing is left (the list then says "untitled").
    pub fn shown_name(&self) -> &str {
        self.name
            .trim_matches(|c: char| c == '·' || c.is_whitespace())
    }
    /// The form's title in the interface language, else in the form's default language.
    pub fn title_in(&self, lang: Lang) -> &str {
        self.form_titles
            .as_ref()
            .and_then(|t| lang.text(t))
            .unwrap_or(&self.form_title)
    }
    /// True when a newer version of its form than the one it was started with is installed (it
    /// goes on with its own version; new interviews get the newest, `newest` as from
    /// [`newest_per_id`]).
    pub fn on_older_version(&self, newest: &[FormRecord]) -> bool {
        let f = &self.envelope.meta.form;
        newest.iter().any(|n| {
            n.id == f.id && doorstep_core::form::compare_versions(&n.version, &f.version).is_gt()
        })
    }
    /// True when `query` (any case) is in the name, the form's title (in any language) or the id.
    pub fn matches(&self, query: &str) -> bool {
        let q = query.trim().to_lowercase();
        let in_titles = || match &self.form_titles {
            Some(Text::Translated(m)) => m.values().any(|t| t.to_lowercase().contains(&q)),
            _ => false,
        };
        q.is_empty()
            || self.name.to_lowercase().contains(&q)
            || self.form_title.to_lowercase().contains(&q)
            || in_titles()
            || self.id().to_lowercase().contains(&q)
    }
}

/// Where in `list` the records a list screen shows are: drafts, or finalized interviews not replaced
/// by a correction, that match the search `query`, in the order of `list`. Indices, not copies: the
/// search filters on every keystroke.
pub fn shown_in_list(list: &[SubmissionRecord], finalized: bool, query: &str) -> Vec<usize> {
    list.iter()
        .enumerate()
        .filter(|(_, r)| {
            r.is_finalized() == finalized && r.superseded_by.is_none() && r.matches(query)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The finalized interviews by id, to list each bundle's interviews by name (made once per screen,
/// not once per bundle: a phone may hold hundreds of each).
pub struct Held<'a>(std::collections::HashMap<&'a str, &'a SubmissionRecord>);

impl<'a> Held<'a> {
    pub fn new(list: &'a [SubmissionRecord]) -> Held<'a> {
        Held(list.iter().map(|r| (r.id(), r)).collect())
    }
    /// How an interview is listed under a bundle that holds it: its name, else `untitled`; one no
    /// longer among the finalized (replaced by a correction, or deleted) by its id.
    pub fn name(&self, id: &str, untitled: &str) -> String {
        match self.0.get(id) {
            Some(r) if !r.shown_name().is_empty() => r.shown_name().to_string(),
            Some(_) => untitled.to_string(),
            None => id.to_string(),
        }
    }
}

/// One exported bundle, remembered forever. Its bytes are not kept: the bundle writer is
/// deterministic, so the bundle is made again from the stored interviews, their attachments and
/// the stored form with what `made_with` keeps, and offered only when the SHA-256 of what comes
/// out is `sha256` (see [`BundleRecord::remake`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BundleRecord {
    pub sha256: String,
    pub file_name: String,
    pub form_id: String,
    /// The version of the form the bundle holds (empty in records written before it was kept).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub form_version: String,
    pub created_at: String,
    pub size: u64,
    pub instance_ids: Vec<String>,
    /// What else the bundle was made with (`None` in records written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_with: Option<MadeWith>,
}

/// What a bundle was made with besides its interviews (stored under their ids), their attachments
/// and its form (stored under its key): the manifest's device, surveyor and app version as they
/// were (the settings and the app may have changed since), and for an encrypted bundle the
/// randomness its encryption was derived from.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MadeWith {
    /// The form's hash: with `form_id` and `form_version`, the key of the stored form.
    pub form_hash: String,
    pub device_id: String,
    pub surveyor: String,
    pub app_version: String,
    /// `BundleInfo::entropy` in lower-case hex, kept only for an encrypted (`.zip.age`) bundle:
    /// the age file key, nonce and ephemeral key are derived from it, so the same entropy gives
    /// the same file. It opens that one file, as the interviews stored beside it would.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub entropy: String,
}

/// Read by hand from the JSON value (records are read through `from_json`): the same fields and
/// the same refusals (a missing or non-text field; `entropy` may be missing) as a derived
/// deserializer, which costs the wasm about 0.5 KiB gzip more (its map and sequence visitors).
impl<'de> Deserialize<'de> for MadeWith {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Json::deserialize(d)?;
        let text = |key: &'static str| match v.get(key) {
            Some(Json::String(s)) => Ok(s.clone()),
            None if key == "entropy" => Ok(String::new()),
            _ => Err(serde::de::Error::missing_field(key)),
        };
        Ok(MadeWith {
            form_hash: text("form_hash")?,
            device_id: text("device_id")?,
            surveyor: text("surveyor")?,
            app_version: text("app_version")?,
            entropy: text("entropy")?,
        })
    }
}

/// Why an exported bundle cannot be saved again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CannotRemake {
    /// This many of its interviews are no longer on the device (deleted).
    InterviewsGone(usize),
    /// Its form version is not on the device.
    FormGone,
    /// An encrypted bundle recorded before the app kept its entropy: it can never be made again.
    NoEntropy,
    /// What was made again is not the file first exported (SHA-256), with the reasons the writer
    /// gave for leaving interviews out, if it did; nothing is offered.
    Differs(Vec<String>),
    /// Storage could not be read, or the writer failed.
    Failed(String),
}

/// What making a bundle again takes besides the stored interviews and their attachments: the key
/// of its form and the writer's [`BundleInfo`] (without attachments).
#[derive(Debug)]
pub struct Remake {
    pub form_key: String,
    pub info: BundleInfo,
}

impl BundleRecord {
    /// The record of `bundle`, just written from `form` with `info`.
    pub fn of(bundle: &Bundle, form: &Form, info: &BundleInfo) -> BundleRecord {
        let encrypted = doorstep_core::bundle::is_encrypted(&bundle.bytes);
        BundleRecord {
            sha256: bundle.sha256.clone(),
            file_name: bundle.file_name.clone(),
            form_id: form.id.clone(),
            form_version: form.version.clone(),
            created_at: info.created_at.clone(),
            size: bundle.bytes.len() as u64,
            instance_ids: bundle.included.clone(),
            made_with: Some(MadeWith {
                form_hash: form.hash.clone(),
                device_id: info.device_id.clone(),
                surveyor: info.surveyor.clone(),
                app_version: info.app_version.clone(),
                entropy: if encrypted {
                    hex(&info.entropy)
                } else {
                    String::new()
                },
            }),
        }
    }

    /// The records (key, JSON text) to write back when interview `deleted` is deleted: those of
    /// encrypted bundles that held it, without their entropy. Once an interview is gone its bundle
    /// can never be made again, and the entropy would only open copies of that file found elsewhere
    /// (a lost phone, a stick), which the interviews' deletion means to end. Records that are not
    /// JSON of a bundle are left as they are.
    pub fn forget_entropy(records: &[String], deleted: &str) -> Vec<(String, String)> {
        records
            .iter()
            .filter_map(|json| {
                // Through `from_json` as everywhere else: `serde_json::from_str` here would add a
                // second deserializer of the record (from text) to the wasm, about 4 KiB as served.
                let mut r: BundleRecord = from_json(json).ok()?;
                let kept = r.made_with.as_mut()?;
                if kept.entropy.is_empty() || !r.instance_ids.iter().any(|i| i == deleted) {
                    return None;
                }
                kept.entropy.clear();
                Some((r.sha256.clone(), serde_json::to_string(&r).ok()?))
            })
            .collect()
    }

    /// How to make this bundle again from `held`, its interviews as stored now (`gone` of them are
    /// not on the device any more). A record from before `made_with` was kept is made again with
    /// the form its interviews name and today's device id, surveyor and `app_version` (the
    /// current app's): right when none of them changed, which [`Remake::check`] tells.
    pub fn remake(
        &self,
        held: &[SubmissionRecord],
        gone: usize,
        settings: &Settings,
        app_version: &str,
    ) -> Result<Remake, CannotRemake> {
        if gone > 0 {
            return Err(CannotRemake::InterviewsGone(gone));
        }
        let form_key = match (&self.made_with, held.first()) {
            (Some(m), _) => form_key(&self.form_id, &self.form_version, &m.form_hash),
            (None, Some(r)) => {
                let f = &r.envelope.meta.form;
                form_key(&f.id, &f.version, &f.hash)
            }
            (None, None) => {
                return Err(CannotRemake::Failed("the record names no interview".into()));
            }
        };
        let entropy = match &self.made_with {
            Some(m) => unhex(&m.entropy).ok_or_else(|| {
                CannotRemake::Failed("the kept entropy is not hexadecimal".into())
            })?,
            None => Vec::new(),
        };
        if self.file_name.ends_with(".age") && entropy.is_empty() {
            return Err(CannotRemake::NoEntropy);
        }
        let (device_id, surveyor, app_version) = match &self.made_with {
            Some(m) => (&m.device_id, &m.surveyor, m.app_version.as_str()),
            None => (&settings.device_id, &settings.surveyor, app_version),
        };
        Ok(Remake {
            form_key,
            info: BundleInfo {
                device_id: device_id.clone(),
                surveyor: surveyor.clone(),
                app_version: app_version.to_string(),
                created_at: self.created_at.clone(),
                attachments: Vec::new(),
                entropy,
            },
        })
    }
}

impl Remake {
    /// Whether `made` (written again) is the bundle `record` remembers: the same interviews, name
    /// and SHA-256. Anything else is refused, never offered as the bundle.
    pub fn check(record: &BundleRecord, made: &Bundle) -> Result<(), CannotRemake> {
        if made.included == record.instance_ids
            && made.file_name == record.file_name
            && made.sha256 == record.sha256
        {
            return Ok(());
        }
        Err(CannotRemake::Differs(
            made.refused
                .iter()
                .filter(|(id, _)| record.instance_ids.contains(id))
                .map(|(id, why)| format!("{id}: {}", why.join("; ")))
                .collect(),
        ))
    }
}

/// The bytes `hex` (`doorstep_core::submission::hex`, shared with the engine) wrote, either case,
/// or `None`. By hand rather than `u8::from_str_radix` over steps of two: smaller in the wasm.
fn unhex(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| (c as char).to_digit(16);
    let s = s.as_bytes();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|p| Some((digit(p[0])? * 16 + digit(p[1])?) as u8))
        .collect()
}

/// How long to wait before writing again a bundle that came out named `name` at `utc_millis`:
/// `None` when no bundle of that name was made on this device, else the milliseconds to the next
/// second. A bundle is named after its form and the UTC second it was made in
/// (`<form>_<device>_<time>.zip`), so the bundles of two versions of one form exported together
/// would share a name, and copied into one folder one would replace the other.
pub fn wait_for_unique_name(name: &str, made: &BTreeSet<String>, utc_millis: i64) -> Option<u32> {
    made.contains(name)
        .then(|| (1000 - utc_millis.rem_euclid(1000)) as u32)
}

/// The device's settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Default)]
pub struct Settings {
    /// `zh-CN` or `en`.
    #[serde(default)]
    pub lang: String,
    #[serde(default)]
    pub device_id: String,
    #[serde(default)]
    pub surveyor: String,
    /// The draft open when the app was last used, reopened on start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_keeps_fields_it_does_not_know() {
        let json = r#"{"envelope": {"meta": {"instance_id": "uuid:1", "form": {"id": "f", "version": "1", "hash": "sha256:0"},
          "status": "draft", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"}, "data": {"a": 1}},
          "name": "王家", "future_field": [1, 2]}"#;
        let mut r: SubmissionRecord = serde_json::from_str(json).unwrap();
        assert!(r.matches("王"));
        assert!(!r.matches("李"));
        assert_eq!(r.shown_name(), "王家");
        r.name = " · 2026-11-24".into();
        assert_eq!(
            r.shown_name(),
            "2026-11-24",
            "no separator before a missing name"
        );
        r.name = "王家 · ".into();
        assert_eq!(r.shown_name(), "王家");
        r.name = " · ".into();
        assert_eq!(r.shown_name(), "");
        r.name = "王家".into();
        let back = serde_json::to_string(&r).unwrap();
        assert!(back.contains("future_field"));
        assert!(
            !back.contains("form_titles"),
            "an old record stays as it was"
        );
    }

    #[test]
    fn a_record_is_read_alike_with_its_answers_moved() {
        let texts = [
            r#"{"envelope": {"meta": {"instance_id": "uuid:1", "form": {"id": "f", "version": "1", "hash": "sha256:0"},
              "status": "draft", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"},
              "data": {"a": 1, "members": [{"n": "王"}, {"n": null}], "t": "x"}},
              "name": "王家", "page": 3, "rev": 7, "future_field": [1, 2]}"#,
            r#"{"envelope": {"meta": {"instance_id": "uuid:2", "form": {"id": "f", "version": "1", "hash": "sha256:0"},
              "status": "finalized", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"},
              "data": null}, "exported_in": ["ab"]}"#,
        ];
        for text in texts {
            let read = SubmissionRecord::read(text).unwrap();
            assert_eq!(read, from_json::<SubmissionRecord>(text).unwrap());
        }
        let read = SubmissionRecord::read(texts[0]).unwrap();
        assert_eq!(read.envelope.data["members"][0]["n"], "王");
        assert_eq!(read.extra["future_field"], serde_json::json!([1, 2]));
        // What `from_json` refuses, `read` refuses: no answers at all, or not a record.
        for bad in [
            r#"{"envelope": {"meta": {"instance_id": "uuid:1", "form": {"id": "f", "version": "1", "hash": "sha256:0"},
              "status": "draft", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"}}}"#,
            r#"{"envelope": 3}"#,
            "[1]",
            "{",
        ] {
            assert!(from_json::<SubmissionRecord>(bad).is_err());
            assert!(SubmissionRecord::read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_list_shows_its_kind_that_matches_in_order() {
        let record = |id: &str, name: &str, status: &str, superseded: bool| {
            let json = format!(
                r#"{{"envelope": {{"meta": {{"instance_id": "{id}", "form": {{"id": "f", "version": "1", "hash": "sha256:0"}},
                  "status": "{status}", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"}}, "data": {{}}}},
                  "name": "{name}"{}}}"#,
                if superseded {
                    r#", "superseded_by": "uuid:9""#
                } else {
                    ""
                }
            );
            from_json::<SubmissionRecord>(&json).unwrap()
        };
        let list = vec![
            record("uuid:1", "王家", "draft", false),
            record("uuid:2", "李家", "finalized", false),
            record("uuid:3", "王二家", "draft", false),
            record("uuid:4", "王家", "finalized", true),
            record("uuid:5", "王三家", "finalized", false),
        ];
        assert_eq!(shown_in_list(&list, false, ""), vec![0, 2], "the drafts");
        assert_eq!(
            shown_in_list(&list, true, ""),
            vec![1, 4],
            "finalized, without the one a correction replaced"
        );
        assert_eq!(shown_in_list(&list, false, " 王二 "), vec![2], "by name");
        assert_eq!(shown_in_list(&list, true, "王"), vec![4]);
        assert_eq!(
            shown_in_list(&list, true, "UUID:2"),
            vec![1],
            "by id, any case"
        );
        assert!(shown_in_list(&list, false, "赵").is_empty());
    }

    #[test]
    fn a_window_writes_only_over_what_it_last_saw() {
        use crate::save::Conflict;
        let json = r#"{"envelope": {"meta": {"instance_id": "uuid:1", "form": {"id": "f", "version": "1", "hash": "sha256:0"},
          "status": "draft", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"}, "data": {}}}"#;
        let mut on_disk: SubmissionRecord = from_json(json).unwrap();
        assert_eq!(on_disk.rev, 0, "a record from before the count");
        let may = SubmissionRecord::may_replace;
        assert_eq!(may(Some(&on_disk), Some(0)), Ok(()));
        assert_eq!(may(None, None), Ok(()), "a new interview's first write");
        on_disk.rev = 3;
        assert_eq!(may(Some(&on_disk), Some(3)), Ok(()));
        assert_eq!(
            may(Some(&on_disk), Some(2)),
            Err(Conflict::Changed { rev: 3 }),
            "another window saved since"
        );
        assert_eq!(may(Some(&on_disk), None), Err(Conflict::Changed { rev: 3 }));
        on_disk.envelope.meta.status = "finalized".into();
        assert_eq!(
            may(Some(&on_disk), Some(2)),
            Err(Conflict::Finalized { rev: 3 })
        );
        assert_eq!(may(None, Some(3)), Err(Conflict::Deleted));
        let back: SubmissionRecord = from_json(&serde_json::to_string(&on_disk).unwrap()).unwrap();
        assert_eq!(back.rev, 3, "the count is stored");
    }

    #[test]
    fn a_draft_on_an_older_version_is_told_apart() {
        let form = |id: &str, version: &str, installed_at: &str| FormRecord {
            key: form_key(id, version, installed_at),
            id: id.into(),
            version: version.into(),
            hash: installed_at.into(),
            title: Text::Plain(id.into()),
            source: String::new(),
            origin: "file".into(),
            installed_at: installed_at.into(),
        };
        let installed = [
            form("f", "2026112301", "a"),
            form("g", "9", "b"),
            form("g", "10", "g"),
            form("f", "2026112401", "c"),
            form("f", "2026112401", "d"),
            form("f", "2026112201", "e"),
        ];
        let newest = newest_per_id(&installed);
        let keys: Vec<&str> = newest.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["f|2026112401|d", "g|10|g"]);
        let draft = |version: &str| {
            let json = format!(
                r#"{{"envelope": {{"meta": {{"instance_id": "uuid:1", "form": {{"id": "f", "version": "{version}", "hash": "sha256:0"}},
                  "status": "draft", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"}}, "data": {{}}}}}}"#
            );
            from_json::<SubmissionRecord>(&json).unwrap()
        };
        assert!(draft("2026112301").on_older_version(&newest));
        assert!(!draft("2026112401").on_older_version(&newest));
        assert!(
            !draft("2026112401").on_older_version(&newest_per_id(&installed[..1])),
            "a draft newer than what is installed"
        );
    }

    #[test]
    fn a_bundle_lists_its_interviews_by_name() {
        let record = |id: &str, name: &str| {
            let json = format!(
                r#"{{"envelope": {{"meta": {{"instance_id": "{id}", "form": {{"id": "f", "version": "1", "hash": "sha256:0"}},
                  "status": "finalized", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"}}, "data": {{}}}},
                  "name": "{name}"}}"#
            );
            from_json::<SubmissionRecord>(&json).unwrap()
        };
        let list = [record("uuid:1", "王家 · 南街村"), record("uuid:2", " · ")];
        let held = Held::new(&list);
        assert_eq!(held.name("uuid:1", "（未命名）"), "王家 · 南街村");
        assert_eq!(held.name("uuid:2", "（未命名）"), "（未命名）");
        assert_eq!(
            held.name("uuid:3", "（未命名）"),
            "uuid:3",
            "replaced or deleted"
        );
    }

    #[test]
    fn what_awaits_export() {
        let mut r = from_json::<SubmissionRecord>(
            r#"{"envelope": {"meta": {"instance_id": "uuid:1", "form": {"id": "f", "version": "1", "hash": "sha256:0"},
              "status": "draft", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"}, "data": {}}}"#,
        )
        .unwrap();
        assert!(!r.awaits_export(), "a draft");
        r.envelope.meta.status = "finalized".into();
        assert!(r.awaits_export());
        r.superseded_by = Some("uuid:2".into());
        assert!(!r.awaits_export(), "replaced by a correction");
        r.superseded_by = None;
        r.exported_in.push("ab".into());
        assert!(!r.awaits_export(), "in a bundle");
    }

    #[test]
    fn a_bundle_name_is_never_made_twice() {
        let made: BTreeSet<String> = ["f_web-1_20261124T021135Z.zip".to_string()].into();
        assert_eq!(
            wait_for_unique_name("f_web-1_20261124T021136Z.zip", &made, 1_795_486_296_250),
            None
        );
        // 2026-11-24T02:11:35.250Z: the same second as a bundle already made; wait for the next one.
        assert_eq!(
            wait_for_unique_name("f_web-1_20261124T021135Z.zip", &made, 1_795_486_295_250),
            Some(750)
        );
        assert_eq!(
            wait_for_unique_name("f_web-1_20261124T021135Z.zip", &made, 1_795_486_295_000),
            Some(1000)
        );
    }

    #[test]
    fn lists_show_the_title_in_the_interface_language() {
        let old = r#"{"envelope": {"meta": {"instance_id": "uuid:1", "form": {"id": "f", "version": "1", "hash": "sha256:0"},
          "status": "draft", "started_at": "x", "updated_at": "y", "device_id": "d", "surveyor": "s"}, "data": {}},
          "form_title": "家庭需求评估"}"#;
        let mut r: SubmissionRecord = from_json(old).unwrap();
        assert_eq!(
            r.title_in(Lang::En),
            "家庭需求评估",
            "a record from before: its one title"
        );
        r.form_titles =
            Some(from_json(r#"{"zh-CN": "家庭需求评估", "en": "Household needs"}"#).unwrap());
        assert_eq!(r.title_in(Lang::En), "Household needs");
        assert_eq!(r.title_in(Lang::Zh), "家庭需求评估");
        assert!(r.matches("household"));
        r.form_titles = Some(from_json(r#"{"zh-CN": "家庭需求评估"}"#).unwrap());
        assert_eq!(
            r.title_in(Lang::En),
            "家庭需求评估",
            "no English: the default language"
        );
        let back: SubmissionRecord = from_json(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    const U1: &str = "uuid:0b7e4a52-1d3c-4f6e-9a1b-2c3d4e5f6a71";
    const U2: &str = "uuid:0b7e4a52-1d3c-4f6e-9a1b-2c3d4e5f6a72";

    /// A form of one question, encrypted to an office key when `encrypted`.
    fn form(encrypted: bool) -> std::rc::Rc<Form> {
        let settings = if encrypted {
            let key = doorstep_core::bundle::age::Identity::from_bytes([7; 32]).recipient();
            format!(r#""settings": {{"encrypt_to": ["{key}"]}},"#)
        } else {
            String::new()
        };
        let src = format!(
            r#"{{"format": "doorstep-form/1", "id": "visit", "version": "3", "title": "走访", "languages": ["zh-CN"], {settings}
              "items": [{{"type": "text", "name": "who", "label": "户主"}}, {{"type": "integer", "name": "n", "label": "人数"}}]}}"#
        );
        std::rc::Rc::new(
            doorstep_core::form::load(&src)
                .form
                .expect("the test form loads"),
        )
    }

    /// A finalized interview of `form` as the app stores it (after its export: `exported_in`).
    fn finalized(form: &Form, id: &str, who: &str) -> SubmissionRecord {
        from_json(&format!(
            r#"{{"envelope": {{"meta": {{"instance_id": "{id}", "form": {{"id": "{}", "version": "{}", "hash": "{}"}},
              "status": "finalized", "started_at": "2026-11-24T09:00:00+08:00", "updated_at": "2026-11-24T09:30:00+08:00",
              "finalized_at": "2026-11-24T09:30:00+08:00", "device_id": "web-1", "surveyor": "张三"}},
              "data": {{"who": "{who}", "n": 4}}}}, "name": "{who}", "exported_in": ["ab"]}}"#,
            form.id, form.version, form.hash
        ))
        .unwrap()
    }

    fn subs(records: &[SubmissionRecord]) -> Vec<Submission> {
        records.iter().map(|r| r.submission().unwrap()).collect()
    }

    /// What the export wrote at first: the bundle and its record as stored (through JSON).
    fn exported(form: &std::rc::Rc<Form>, records: &[SubmissionRecord]) -> (Bundle, BundleRecord) {
        let info = BundleInfo {
            device_id: "web-1".into(),
            surveyor: "张三".into(),
            app_version: "doorstep-web 1.0.0".into(),
            created_at: "2026-11-24T10:11:35+08:00".into(),
            attachments: Vec::new(),
            entropy: (0..64).map(|i| i * 3).collect(),
        };
        let bundle = doorstep_core::bundle::write_bundle(form, &subs(records), &info).unwrap();
        assert_eq!(bundle.included.len(), records.len(), "{:?}", bundle.refused);
        let rec = BundleRecord::of(&bundle, form, &info);
        let stored: BundleRecord = from_json(&serde_json::to_string(&rec).unwrap()).unwrap();
        assert_eq!(stored, rec, "a record reads back as it was written");
        (bundle, stored)
    }

    /// The settings of a later day: another surveyor uses the phone, under another device id.
    fn later() -> Settings {
        Settings {
            device_id: "web-2".into(),
            surveyor: "李四".into(),
            ..Settings::default()
        }
    }

    fn make_again(
        form: &std::rc::Rc<Form>,
        rec: &BundleRecord,
        held: &[SubmissionRecord],
        settings: &Settings,
        app_version: &str,
    ) -> Result<Bundle, CannotRemake> {
        let plan = rec.remake(held, 0, settings, app_version)?;
        assert_eq!(plan.form_key, form_key(&form.id, &form.version, &form.hash));
        let made = doorstep_core::bundle::write_bundle(form, &subs(held), &plan.info).unwrap();
        Remake::check(rec, &made).map(|()| made)
    }

    #[test]
    fn a_bundle_is_made_again_byte_for_byte() {
        for encrypted in [false, true] {
            let form = form(encrypted);
            let records = [finalized(&form, U2, "王家"), finalized(&form, U1, "李家")];
            let (first, rec) = exported(&form, &records);
            assert_eq!(rec.file_name.ends_with(".zip.age"), encrypted);
            let kept = rec.made_with.as_ref().unwrap();
            assert_eq!(kept.form_hash, form.hash);
            assert_eq!(
                kept.entropy.len(),
                if encrypted { 128 } else { 0 },
                "entropy only where it is used"
            );
            // Later: other settings, a newer app, the interviews in another order.
            let held = [records[1].clone(), records[0].clone()];
            let again = make_again(&form, &rec, &held, &later(), "doorstep-web 2.0.0").unwrap();
            assert_eq!(again.bytes, first.bytes, "encrypted: {encrypted}");
            assert_eq!(again.file_name, first.file_name);
        }
    }

    #[test]
    fn deleting_an_interview_forgets_the_entropy_of_its_encrypted_bundles() {
        let plain = form(false);
        let (_, plain_rec) = exported(&plain, &[finalized(&plain, U1, "王家")]);
        let secret = form(true);
        let (_, with_u1) = exported(&secret, &[finalized(&secret, U1, "王家")]);
        let (_, with_u2) = exported(&secret, &[finalized(&secret, U2, "李家")]);
        let stored: Vec<String> = [&plain_rec, &with_u1, &with_u2]
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .chain(["not a record".to_string()])
            .collect();
        let changed = BundleRecord::forget_entropy(&stored, U1);
        // Only the encrypted bundle that held U1 changes (the plain one keeps no entropy).
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].0, with_u1.sha256);
        let after: BundleRecord = serde_json::from_str(&changed[0].1).unwrap();
        assert_eq!(after.made_with.as_ref().unwrap().entropy, "");
        let mut expected = with_u1.clone();
        expected.made_with.as_mut().unwrap().entropy.clear();
        assert_eq!(after, expected, "nothing else of the record changes");
        assert!(BundleRecord::forget_entropy(&stored, "uuid:none").is_empty());
    }

    #[test]
    fn a_changed_or_missing_interview_makes_nothing_again() {
        let form = form(false);
        let records = [finalized(&form, U1, "王家"), finalized(&form, U2, "李家")];
        let (_, rec) = exported(&form, &records);
        let mut changed = records.clone();
        changed[1].envelope.data["who"] = "李家村".into();
        assert_eq!(
            make_again(&form, &rec, &changed, &later(), "x").unwrap_err(),
            CannotRemake::Differs(Vec::new())
        );
        changed[1].envelope.meta.status = "draft".into();
        match make_again(&form, &rec, &changed, &later(), "x").unwrap_err() {
            CannotRemake::Differs(why) => {
                assert!(why[0].starts_with(&format!("{U2}: ")), "{why:?}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            rec.remake(&records[..1], 1, &later(), "x").unwrap_err(),
            CannotRemake::InterviewsGone(1)
        );
    }

    #[test]
    fn a_record_from_before_is_made_again_when_nothing_changed() {
        let form = form(false);
        let records = [finalized(&form, U1, "王家")];
        let (first, rec) = exported(&form, &records);
        // As an older app wrote it: neither the form version nor what the bundle was made with.
        let old = format!(
            r#"{{"sha256": "{}", "file_name": "{}", "form_id": "visit", "created_at": "2026-11-24T10:11:35+08:00",
              "size": {}, "instance_ids": ["{U1}"]}}"#,
            rec.sha256, rec.file_name, rec.size
        );
        let old: BundleRecord = from_json(&old).unwrap();
        assert_eq!(
            (old.made_with.as_ref(), old.form_version.as_str()),
            (None, "")
        );
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"sha256":""#.to_string()
                + &rec.sha256
                + r#"","file_name":""#
                + &rec.file_name
                + r#"","form_id":"visit","created_at":"2026-11-24T10:11:35+08:00","size":"#
                + &rec.size.to_string()
                + r#","instance_ids":[""#
                + U1
                + r#""]}"#,
            "an old record stays as it was"
        );
        // Made again with the form its interviews name and today's settings and app: the same
        // file when those are what the export used, and nothing otherwise.
        let same = Settings {
            device_id: "web-1".into(),
            surveyor: "张三".into(),
            ..Settings::default()
        };
        let again = make_again(&form, &old, &records, &same, "doorstep-web 1.0.0").unwrap();
        assert_eq!(again.bytes, first.bytes);
        assert_eq!(
            make_again(&form, &old, &records, &later(), "doorstep-web 1.0.0").unwrap_err(),
            CannotRemake::Differs(Vec::new())
        );
        assert_eq!(
            make_again(&form, &old, &records, &same, "doorstep-web 2.0.0").unwrap_err(),
            CannotRemake::Differs(Vec::new())
        );
        // An encrypted one cannot be: its entropy was not kept.
        let form = self::form(true);
        let records = [finalized(&form, U1, "王家")];
        let (_, mut rec) = exported(&form, &records);
        rec.made_with = None;
        assert_eq!(
            rec.remake(&records, 0, &same, "doorstep-web 1.0.0")
                .unwrap_err(),
            CannotRemake::NoEntropy
        );
    }

    #[test]
    fn kept_entropy_reads_back() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("é0"), None);
        assert_eq!(unhex("0A"), Some(vec![10]));
    }

    #[test]
    fn made_with_reads_as_a_derived_deserializer_would() {
        let read = |made_with: &str| {
            from_json::<BundleRecord>(&format!(
                r#"{{"sha256": "ab", "file_name": "f.zip", "form_id": "visit", "created_at": "t",
                  "size": 1, "instance_ids": [], "made_with": {made_with}}}"#
            ))
            .map(|r| r.made_with)
        };
        let kept = r#""form_hash": "h", "device_id": "d", "surveyor": "s", "app_version": "a""#;
        let made_with = read(&format!(r#"{{{kept}, "unknown": 1}}"#))
            .unwrap()
            .unwrap();
        assert_eq!(
            made_with.entropy, "",
            "no entropy is kept for a plain bundle"
        );
        assert_eq!(made_with.app_version, "a");
        let made_with = read(&format!(r#"{{{kept}, "entropy": "00ff"}}"#)).unwrap();
        assert_eq!(made_with.unwrap().entropy, "00ff");
        assert_eq!(read("null").unwrap(), None);
        assert!(read(r#"{"form_hash": "h"}"#).is_err(), "a missing field");
        assert!(
            read(&format!(r#"{{{kept}, "entropy": 7}}"#)).is_err(),
            "not text"
        );
    }
}
