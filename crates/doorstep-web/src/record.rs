//! What the app keeps in IndexedDB, as plain serde types: installed forms, submissions, bundles, settings.
//!
//! Records are stored as JSON text, so what is on the phone is readable by any tool and independent of
//! the app's Rust types' memory layout: an app update never makes stored drafts unreadable. Unknown
//! fields are kept (`extra`) for the same reason.

use std::collections::{BTreeMap, BTreeSet};

use doorstep_core::form::model::Text;
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
    #[serde(flatten)]
    pub extra: BTreeMap<String, Json>,
}

impl SubmissionRecord {
    pub fn id(&self) -> &str {
        &self.envelope.meta.instance_id
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

/// One exported bundle, remembered forever.
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
}
