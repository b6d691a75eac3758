//! Loading a form: JSON syntax, structure, names, choices, expressions, list use, cycles and limits.
//!
//! Every check runs and every problem is collected; a form is returned only when there is no error.
//! Structure is deserialized item by item so that one broken item does not hide the problems of others.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::compiled::{Cond, FastMap, Form, Item, RepeatCount};
use super::diag::{Diagnostic, Severity};
use super::model::{self, Condition, Count, FormDoc, ItemDoc, ItemType, Text};
use crate::expr::{self, Expr, ItemId};

/// Largest form file accepted.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most items (groups and repeats count) in one form.
pub const MAX_ITEMS: usize = 20_000;
/// Deepest nesting of items.
pub const MAX_DEPTH: usize = 32;
/// Deepest nesting of repeats.
pub const MAX_REPEAT_DEPTH: usize = 4;
/// Largest allowed repeat `max`.
pub const MAX_REPEAT_MAX: u64 = 10_000;
/// A repeat's `max` when it does not say.
pub const DEFAULT_REPEAT_MAX: u64 = 1_000;

/// What loading a form gives: the form when there is no error, and every diagnostic.
#[derive(Debug)]
pub struct LoadResult {
    pub form: Option<Form>,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadResult {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// Loads a form from bytes (checks size and UTF-8 first).
pub fn load_bytes(bytes: &[u8]) -> LoadResult {
    if bytes.len() > MAX_FILE_BYTES {
        return failed(Diagnostic::error(
            "form/too-large",
            "",
            format!(
                "the form file is {} bytes; the limit is {} bytes (10 MB): split the form",
                bytes.len(),
                MAX_FILE_BYTES
            ),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => load(s),
        Err(e) => {
            let at = e.valid_up_to();
            let (l, c) =
                super::locate::line_col(std::str::from_utf8(&bytes[..at]).unwrap_or(""), at);
            let mut d = Diagnostic::error(
                "form/json-syntax",
                "",
                format!(
                    "the file is not UTF-8 text (invalid bytes at line {l}, column {c}): save it as UTF-8"
                ),
            );
            d.line_col = Some((l, c));
            failed(d)
        }
    }
}

fn failed(d: Diagnostic) -> LoadResult {
    LoadResult {
        form: None,
        diagnostics: vec![d],
    }
}

/// Loads and checks a form from its JSON text.
pub fn load(src: &str) -> LoadResult {
    if src.len() > MAX_FILE_BYTES {
        return load_bytes(src.as_bytes());
    }
    let src_trim = src.strip_prefix('\u{feff}').unwrap_or(src);
    let json: Json = match serde_json::from_str(src_trim) {
        Ok(v) => v,
        Err(e) => {
            let (code, what) = if e.to_string().contains("recursion limit") {
                ("form/too-deep", "the JSON is nested too deeply".to_string())
            } else if src_trim.trim().is_empty() {
                (
                    "form/json-syntax",
                    "the file is empty: a form is a JSON object".to_string(),
                )
            } else {
                (
                    "form/json-syntax",
                    format!("invalid JSON: {}", strip_position(&e.to_string())),
                )
            };
            let mut d = Diagnostic::error(
                code,
                "",
                format!("{what} (line {}, column {})", e.line(), e.column()),
            );
            d.line_col = Some((e.line(), e.column()));
            return failed(d);
        }
    };
    let mut cx = Loader {
        diags: Vec::new(),
        names: HashSet::new(),
        broken: Vec::new(),
    };
    let form = cx.load(src, &json);
    let mut diags = cx.diags;
    for d in &mut diags {
        if d.range.is_none() && !d.path.is_empty() {
            d.range = super::locate::locate(src_trim, &d.path);
            if let Some((s, _)) = d.range {
                let off = match d.span {
                    Some((a, _)) => super::locate::string_offset(src_trim, s + 1, a as usize),
                    None => s,
                };
                d.line_col = Some(super::locate::line_col(src_trim, off));
            }
        }
    }
    crate::sort::sort_by(&mut diags, |a, b| {
        a.severity.cmp(&b.severity).then(a.range.cmp(&b.range))
    });
    let has_error = diags.iter().any(|d| d.severity == Severity::Error);
    LoadResult {
        form: if has_error { None } else { form },
        diagnostics: diags,
    }
}

fn strip_position(msg: &str) -> &str {
    msg.find(" at line ").map_or(msg, |i| &msg[..i])
}

/// The SHA-256 of the canonical JSON (keys sorted, no insignificant white space), as `sha256:<hex>`.
pub fn canonical_hash(json: &Json) -> String {
    let mut hasher = HashWriter(Sha256::new());
    if canonical_is_default() {
        // Streams straight into the hash: no copy of a large form in memory.
        let _ = serde_json::to_writer(&mut hasher, json);
    } else {
        let mut out = String::new();
        canonical_sorted(json, &mut out);
        hasher.0.update(out.as_bytes());
    }
    format!("sha256:{}", hex(&hasher.0.finalize()))
}

struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// Writes canonical JSON. serde_json sorts object keys unless its `preserve_order` feature is on
/// somewhere in the build, so the fast path is checked once and the slow path sorts by itself.
fn canonical_is_default() -> bool {
    static SORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SORTED.get_or_init(|| {
        let probe: Json = serde_json::from_str(r#"{"b":1,"a":2}"#).unwrap_or(Json::Null);
        // The serialized text, not the value: `Json == &str` would compare with a JSON string.
        #[allow(clippy::cmp_owned)]
        let sorted = probe.to_string() == r#"{"a":2,"b":1}"#;
        sorted
    })
}

#[cfg(test)]
fn canonical(v: &Json, out: &mut String) {
    if canonical_is_default() {
        out.push_str(&v.to_string());
    } else {
        canonical_sorted(v, out);
    }
}

fn canonical_sorted(v: &Json, out: &mut String) {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            crate::sort::sort(&mut keys);
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                canonical_sorted(&m[k], out);
            }
            out.push('}');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_sorted(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod canonical_tests {
    #[test]
    fn both_paths_agree() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"z": [1, {"y": "é", "b": null}], "a": 1.5}"#).unwrap();
        let mut fast = String::new();
        super::canonical(&v, &mut fast);
        let mut slow = String::new();
        super::canonical_sorted(&v, &mut slow);
        assert_eq!(fast, slow);
        assert_eq!(slow, r#"{"a":1.5,"z":[1,{"b":null,"y":"é"}]}"#);
    }
}

/// True for an identifier: an ASCII letter or `_`, then letters, digits, `_`, `-`, `.`; at most 64.
pub fn is_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

struct Loader {
    diags: Vec<Diagnostic>,
    /// Item names, once known: an expression that does not parse still gets its `${name}`s checked.
    names: HashSet<String>,
    /// Names of items that did not deserialize (their problems are reported already).
    broken: Vec<String>,
}

const TOP_KEYS: &[&str] = &[
    "format",
    "id",
    "version",
    "title",
    "languages",
    "instance_name",
    "settings",
    "choices",
    "items",
];

/// Where an expression sits in an item, and whether its result is used as a boolean.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Relevant,
    Required,
    Constraint,
    ReadOnly,
    Calculation,
    Default,
    ChoiceFilter,
    Count,
}

impl Slot {
    fn key(self) -> &'static str {
        match self {
            Slot::Relevant => "relevant",
            Slot::Required => "required",
            Slot::Constraint => "constraint",
            Slot::ReadOnly => "read_only",
            Slot::Calculation => "calculation",
            Slot::Default => "default_expression",
            Slot::ChoiceFilter => "choice_filter",
            Slot::Count => "count",
        }
    }
    fn boolean(self) -> bool {
        matches!(
            self,
            Slot::Relevant
                | Slot::Required
                | Slot::Constraint
                | Slot::ReadOnly
                | Slot::ChoiceFilter
        )
    }
    /// Edges that order evaluation (and must not form cycles); the others are read after values settle.
    fn orders(self) -> bool {
        matches!(
            self,
            Slot::Relevant | Slot::Required | Slot::Calculation | Slot::Default | Slot::Count
        )
    }
}

impl Loader {
    fn err(&mut self, code: &'static str, path: impl Into<String>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(code, path, msg));
    }
    fn warn(&mut self, code: &'static str, path: impl Into<String>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::warning(code, path, msg));
    }

    /// Deserializes one value, reporting a serde error at its JSON path with a stable code.
    #[cfg(feature = "path-errors")]
    fn de<T: DeserializeOwned>(&mut self, path: &str, v: &Json) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(v) {
            Ok(x) => Some(x),
            Err(e) => {
                let inner = e.path().to_string();
                let msg = e.inner().to_string();
                let mut full = path.to_string();
                if inner != "." && !inner.is_empty() {
                    if !full.is_empty() && !inner.starts_with('[') {
                        full.push('.');
                    }
                    full.push_str(&inner);
                }
                let (code, msg) = serde_code(&msg, &full);
                self.err(code, full, msg);
                None
            }
        }
    }

    /// Without the `path-errors` feature (the app's wasm build, to keep the download small): the
    /// same codes and messages, at the path of the value (the item), plus `.key` for an unknown key.
    #[cfg(not(feature = "path-errors"))]
    fn de<T: DeserializeOwned>(&mut self, path: &str, v: &Json) -> Option<T> {
        match T::deserialize(v) {
            Ok(x) => Some(x),
            Err(e) => {
                let msg = e.to_string();
                let mut full = path.to_string();
                let quoted =
                    |prefix: &str| msg.strip_prefix(prefix).and_then(|r| r.split('`').next());
                // An unknown key names itself; an unknown value (an item's `type`) is found by value.
                let key = quoted("unknown field `").map(str::to_string).or_else(|| {
                    let value = quoted("unknown variant `")?;
                    let (k, _) = v
                        .as_object()?
                        .iter()
                        .find(|(_, x)| x.as_str() == Some(value))?;
                    Some(k.clone())
                });
                if let Some(key) = key {
                    if !full.is_empty() {
                        full.push('.');
                    }
                    full.push_str(&key);
                }
                let (code, msg) = serde_code(&msg, &full);
                self.err(code, full, msg);
                None
            }
        }
    }

    fn load(&mut self, src: &str, json: &Json) -> Option<Form> {
        let Some(obj) = json.as_object() else {
            self.err(
                "form/type",
                "",
                format!("a form is a JSON object, found {}", json_kind(json)),
            );
            return None;
        };
        match obj.get("format") {
            Some(Json::String(f)) if f == model::FORMAT => {}
            Some(other) => {
                self.err(
                    "form/format",
                    "format",
                    format!(
                        "unsupported format {other}: this engine reads \"{}\"",
                        model::FORMAT
                    ),
                );
                return None;
            }
            None => {
                self.err(
                    "form/missing-key",
                    "",
                    format!("missing key `format` (\"{}\")", model::FORMAT),
                );
                return None;
            }
        }
        for k in obj.keys() {
            if !TOP_KEYS.contains(&k.as_str()) {
                self.err(
                    "form/unknown-key",
                    k.clone(),
                    format!(
                        "unknown key `{k}` at the top level; expected one of {}",
                        TOP_KEYS.join(", ")
                    ),
                );
            }
        }
        for k in ["id", "version", "title", "languages", "items"] {
            if !obj.contains_key(k) {
                self.err(
                    "form/missing-key",
                    "",
                    format!("missing key `{k}` at the top level"),
                );
            }
        }
        let id: Option<String> = obj.get("id").and_then(|v| self.de("id", v));
        let version: Option<String> = obj.get("version").and_then(|v| self.de("version", v));
        let title: Option<Text> = obj.get("title").and_then(|v| self.de("title", v));
        let languages: Option<Vec<String>> =
            obj.get("languages").and_then(|v| self.de("languages", v));
        let instance_name: Option<String> = obj
            .get("instance_name")
            .and_then(|v| self.de("instance_name", v));
        let settings: Option<model::Settings> =
            obj.get("settings").and_then(|v| self.de("settings", v));
        let choices: BTreeMap<String, Vec<model::Choice>> = obj
            .get("choices")
            .and_then(|v| self.de("choices", v))
            .unwrap_or_default();

        if let Some(id) = &id
            && !is_identifier(id)
        {
            self.err("form/bad-identifier", "id", bad_ident_msg("form id", id));
        }
        // A bad key must stop the form here, not at export time on a surveyor's phone.
        for (i, key) in settings
            .iter()
            .flat_map(|s| s.encrypt_to.iter())
            .enumerate()
        {
            if let Err(e) = crate::bundle::age::Recipient::parse(key) {
                self.err(
                    "form/bad-key",
                    format!("settings.encrypt_to[{i}]"),
                    e.to_string(),
                );
            }
        }
        if version.as_deref() == Some("") {
            self.err(
                "form/type",
                "version",
                "the version is empty: use a date-based version such as 2026112301",
            );
        }
        let languages = languages.unwrap_or_default();
        self.check_languages(&languages, obj.contains_key("languages"));
        if let Some(t) = &title {
            self.check_text(t, "title", &languages);
        }
        self.check_choices(&choices, &languages);

        // Items: structure first, item by item.
        let mut flat: Vec<Flat> = Vec::new();
        let mut top = Vec::new();
        match obj.get("items") {
            Some(Json::Array(items)) => {
                // Fast path: a well-formed form deserializes in one pass; only a broken one is read item by
                // item, which costs a copy of each item but pins every problem to its own item.
                // serde's frames are large, so deeply nested forms (rare) take the item-by-item path, whose
                // recursion is shallow enough for a phone's stack.
                let typed = if item_depth(items) <= 8 {
                    Vec::<ItemDoc>::deserialize(&obj["items"]).ok()
                } else {
                    None
                };
                let sources: Vec<ItemSrc<'_>> = match typed {
                    Some(docs) => docs.into_iter().map(ItemSrc::Typed).collect(),
                    None => items.iter().map(ItemSrc::Raw).collect(),
                };
                for (i, it) in sources.into_iter().enumerate() {
                    if let Some(id) =
                        self.flatten(it, format!("items[{i}]"), None, None, 1, 0, &mut flat)
                    {
                        top.push(id);
                    }
                }
            }
            Some(other) => self.err(
                "form/type",
                "items",
                format!("`items` is a list, found {}", json_kind(other)),
            ),
            None => {}
        }
        if flat.len() > MAX_ITEMS {
            self.err(
                "form/too-many-items",
                "items",
                format!(
                    "the form has {} items; the limit is {MAX_ITEMS}: split it into several forms",
                    flat.len()
                ),
            );
            return None;
        }

        // Names.
        let mut by_name: FastMap<String, ItemId> = FastMap::default();
        for (i, f) in flat.iter().enumerate() {
            if !is_identifier(&f.doc.name) {
                self.err(
                    "form/bad-identifier",
                    format!("{}.name", f.path),
                    bad_ident_msg("item name", &f.doc.name),
                );
            }
            if let Some(&prev) = by_name.get(&f.doc.name) {
                let msg = format!(
                    "the name `{}` is already used by {}: names are unique in the whole form, groups and repeats included",
                    f.doc.name, flat[prev as usize].path
                );
                self.err("form/duplicate-name", format!("{}.name", f.path), msg);
            } else {
                by_name.insert(f.doc.name.clone(), i as ItemId);
            }
        }

        self.names = by_name.keys().cloned().collect();
        // Per-item checks and expression parsing.
        let mut items: Vec<Item> = Vec::with_capacity(flat.len());
        let mut levels: FastMap<Option<ItemId>, Vec<ItemId>> = FastMap::default();
        for (i, f) in flat.into_iter().enumerate() {
            self.check_item(&f, &choices, &languages);
            let level = levels.entry(f.repeat).or_default();
            let slot = level.len() as u32;
            level.push(i as ItemId);
            let p = f.path.clone();
            let d = &f.doc;
            let relevant = self.parse(d.relevant.as_deref(), &p, "relevant");
            let required = self.cond(d.required.as_ref(), &p, "required");
            let read_only = self.cond(d.read_only.as_ref(), &p, "read_only");
            let constraint = self.parse(d.constraint.as_deref(), &p, "constraint");
            let calculation = self.parse(d.calculation.as_deref(), &p, "calculation");
            let default_expression =
                self.parse(d.default_expression.as_deref(), &p, "default_expression");
            let choice_filter = self.parse(d.choice_filter.as_deref(), &p, "choice_filter");
            let count = match &d.count {
                None => RepeatCount::Free,
                Some(Count::Fixed(n)) => RepeatCount::Fixed(*n),
                Some(Count::Expr(s)) => {
                    // A number written as a string is still a constant.
                    match s.trim().parse::<u64>() {
                        Ok(n) => RepeatCount::Fixed(n),
                        Err(_) => self
                            .parse(Some(s), &p, "count")
                            .map_or(RepeatCount::Free, RepeatCount::Expr),
                    }
                }
            };
            items.push(Item {
                id: i as ItemId,
                name: d.name.clone(),
                kind: d.kind,
                path: f.path,
                parent: f.parent,
                children: f.children,
                repeat: f.repeat,
                slot,
                doc: f.doc,
                relevant,
                required,
                read_only,
                constraint,
                calculation,
                default_expression,
                choice_filter,
                count,
                piped: Vec::new(),
                uses_position: false,
            });
        }
        let mut instance_expr = self.parse(instance_name.as_deref(), "", "instance_name");

        // Items that did not deserialize are reported already; references to them are not unknown.
        for n in std::mem::take(&mut self.broken) {
            self.names.insert(n);
        }

        // Resolve names, check list use, collect dependency edges.
        let mut deps: Vec<Vec<(ItemId, bool)>> = vec![Vec::new(); items.len()];
        for i in 0..items.len() {
            let level = items[i].repeat;
            let mut slots: Vec<(Slot, Expr)> = Vec::new();
            {
                let it = &mut items[i];
                for (slot, e) in [
                    (Slot::Relevant, it.relevant.take()),
                    (Slot::Required, take_cond(&mut it.required)),
                    (Slot::ReadOnly, take_cond(&mut it.read_only)),
                    (Slot::Constraint, it.constraint.take()),
                    (Slot::Calculation, it.calculation.take()),
                    (Slot::Default, it.default_expression.take()),
                    (Slot::ChoiceFilter, it.choice_filter.take()),
                    (Slot::Count, take_count(&mut it.count)),
                ] {
                    if let Some(e) = e {
                        slots.push((slot, e));
                    }
                }
            }
            let path = items[i].path.clone();
            for (slot, e) in &mut slots {
                let at = format!("{path}.{}", slot.key());
                self.resolve(
                    e,
                    &at,
                    &by_name,
                    &items,
                    level,
                    *slot == Slot::ChoiceFilter,
                    *slot,
                );
                for d in e.deps() {
                    deps[i].push((d, slot.orders()));
                }
                if e.uses_position() {
                    items[i].uses_position = true;
                }
            }
            let it = &mut items[i];
            for (slot, e) in slots {
                match slot {
                    Slot::Relevant => it.relevant = Some(e),
                    Slot::Required => it.required = Cond::Expr(e),
                    Slot::ReadOnly => it.read_only = Cond::Expr(e),
                    Slot::Constraint => it.constraint = Some(e),
                    Slot::Calculation => it.calculation = Some(e),
                    Slot::Default => it.default_expression = Some(e),
                    Slot::ChoiceFilter => it.choice_filter = Some(e),
                    Slot::Count => it.count = RepeatCount::Expr(e),
                }
            }
            // Piped answers in label and hint.
            let mut piped = Vec::new();
            for (key, text) in [("label", &it.doc.label), ("hint", &it.doc.hint)] {
                let Some(text) = text else { continue };
                for s in text_values(text) {
                    for name in piped_names(s) {
                        match by_name.get(name) {
                            Some(&id) => piped.push(id),
                            None => self.diags.push(Diagnostic::error(
                                "expr/unknown-name",
                                format!("{path}.{key}"),
                                format!("the text shows ${{{name}}}, but there is no item named `{name}`"),
                            )),
                        }
                    }
                }
            }
            crate::sort::sort(&mut piped);
            piped.dedup();
            for &p in &piped {
                deps[i].push((p, false));
            }
            items[i].piped = piped;
        }
        if let Some(e) = &mut instance_expr {
            self.resolve(
                e,
                "instance_name",
                &by_name,
                &items,
                None,
                false,
                Slot::Calculation,
            );
        }

        // Dependency order and cycles.
        let n = items.len();
        let mut ordering: Vec<Vec<ItemId>> = vec![Vec::new(); n];
        let mut dependents: Vec<Vec<ItemId>> = vec![Vec::new(); n];
        let mut list_readers: FastMap<ItemId, Vec<ItemId>> = FastMap::default();
        for (y, ds) in deps.iter().enumerate() {
            for &(x, orders) in ds {
                if orders {
                    ordering[x as usize].push(y as ItemId);
                }
                dependents[x as usize].push(y as ItemId);
                if items[x as usize].kind == ItemType::Repeat {
                    list_readers.entry(x).or_default().push(y as ItemId);
                }
            }
            if let Some(p) = items[y].parent {
                ordering[p as usize].push(y as ItemId);
                dependents[p as usize].push(y as ItemId);
            }
        }
        for d in dependents.iter_mut().chain(list_readers.values_mut()) {
            crate::sort::sort(d);
            d.dedup();
        }
        let order = match topo_order(&ordering) {
            Ok(o) => o,
            Err(cycle) => {
                self.report_cycle(&cycle, &items);
                return None;
            }
        };
        let mut rank = vec![0u32; n];
        for (r, &i) in order.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        if self.diags.iter().any(Diagnostic::is_error) {
            return None;
        }
        let doc = FormDoc {
            format: model::FORMAT.to_string(),
            id: id.clone().unwrap_or_default(),
            version: version.clone().unwrap_or_default(),
            title: title.clone().unwrap_or(Text::Plain(String::new())),
            languages: languages.clone(),
            instance_name,
            settings,
            choices,
            items: Vec::new(),
        };
        let mut stored_keys: FastMap<Option<ItemId>, Vec<ItemId>> = FastMap::default();
        for (level, ids) in &levels {
            let mut keys: Vec<ItemId> = ids
                .iter()
                .copied()
                .filter(|&i| {
                    let k = items[i as usize].kind;
                    k.has_value() || k == ItemType::Repeat
                })
                .collect();
            keys.sort_by(|&a, &b| items[a as usize].name.cmp(&items[b as usize].name));
            stored_keys.insert(*level, keys);
        }
        let chains = items
            .iter()
            .map(|it| {
                if it.kind != ItemType::Repeat {
                    return Vec::new();
                }
                let mut c = vec![it.id];
                let mut cur = it.repeat;
                while let Some(r) = cur {
                    c.push(r);
                    cur = items[r as usize].repeat;
                }
                c.reverse();
                c
            })
            .collect();
        Some(Form {
            id: id.unwrap_or_default(),
            version: version.unwrap_or_default(),
            hash: canonical_hash(json),
            title: title.unwrap_or(Text::Plain(String::new())),
            languages,
            source: src.to_string(),
            doc,
            items,
            top,
            instance_name: instance_expr,
            by_name,
            stored_keys,
            levels,
            chains,
            order,
            rank,
            dependents,
            list_readers,
        })
    }

    fn check_languages(&mut self, langs: &[String], present: bool) {
        if present && langs.is_empty() {
            self.err(
                "form/languages",
                "languages",
                "`languages` is empty: list at least one language, e.g. [\"zh-CN\", \"en\"]",
            );
        }
        let mut seen = HashSet::new();
        for (i, l) in langs.iter().enumerate() {
            let ok = !l.is_empty()
                && l.len() <= 35
                && l.split('-').all(|p| {
                    !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric())
                });
            if !ok {
                self.err(
                    "form/languages",
                    format!("languages[{i}]"),
                    format!("`{l}` is not a language tag such as zh-CN or en"),
                );
            }
            if !seen.insert(l) {
                self.err(
                    "form/languages",
                    format!("languages[{i}]"),
                    format!("the language `{l}` is listed twice"),
                );
            }
        }
    }

    fn check_text(&mut self, t: &Text, path: &str, langs: &[String]) {
        if let Text::Translated(m) = t {
            // The common case (every language present, no other key) allocates nothing.
            if m.len() == langs.len() && langs.iter().all(|l| m.contains_key(l)) {
                return;
            }
            let missing: Vec<&str> = langs
                .iter()
                .filter(|l| !m.contains_key(*l))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() && !langs.is_empty() {
                self.warn(
                    "text/missing-translation",
                    path.to_string(),
                    format!(
                        "no translation for {}: the default language is shown instead",
                        missing.join(", ")
                    ),
                );
            }
            for k in m.keys() {
                if !langs.contains(k) {
                    self.warn(
                        "text/missing-translation",
                        format!("{path}.{k}"),
                        format!("`{k}` is not one of the form's languages ({}): this text is never shown", langs.join(", ")),
                    );
                }
            }
        }
    }

    fn check_choices(&mut self, choices: &BTreeMap<String, Vec<model::Choice>>, langs: &[String]) {
        for (list, cs) in choices {
            if !is_identifier(list) {
                self.err(
                    "form/bad-identifier",
                    format!("choices.{list}"),
                    bad_ident_msg("choice list name", list),
                );
            }
            let mut seen: HashMap<&str, usize> = HashMap::new();
            for (i, c) in cs.iter().enumerate() {
                let path = format!("choices.{list}[{i}]");
                if c.value.is_empty() || c.value.chars().any(char::is_whitespace) {
                    self.err(
                        "form/bad-choice-value",
                        format!("{path}.value"),
                        format!("choice value {:?} is empty or contains white space: use a code such as `very_poor`", c.value),
                    );
                }
                if let Some(prev) = seen.insert(&c.value, i) {
                    self.err(
                        "form/duplicate-choice",
                        format!("{path}.value"),
                        format!(
                            "the value `{}` is already used by choice {prev} of list `{list}`",
                            c.value
                        ),
                    );
                }
                self.check_text(&c.label, &format!("{path}.label"), langs);
            }
        }
    }

    /// Flattens one item and its children; returns its id.
    #[allow(clippy::too_many_arguments)]
    fn flatten(
        &mut self,
        src: ItemSrc<'_>,
        path: String,
        parent: Option<ItemId>,
        repeat: Option<ItemId>,
        depth: usize,
        repeat_depth: usize,
        out: &mut Vec<Flat>,
    ) -> Option<ItemId> {
        if out.len() > MAX_ITEMS {
            return None;
        }
        if depth > MAX_DEPTH {
            self.err(
                "form/too-deep",
                path,
                format!("items are nested {depth} levels deep here; the limit is {MAX_DEPTH}: flatten the groups"),
            );
            return None;
        }
        let (doc, children) = match src {
            ItemSrc::Typed(mut doc) => {
                let children = doc.items.take().map(Children::Typed);
                (doc, children)
            }
            ItemSrc::Raw(v) => {
                let Some(obj) = v.as_object() else {
                    self.err(
                        "form/type",
                        path,
                        format!("an item is a JSON object, found {}", json_kind(v)),
                    );
                    return None;
                };
                // Children are checked one by one below, so they are left out here rather than cloned.
                let rest: serde_json::Map<String, Json> = obj
                    .iter()
                    .filter(|(k, _)| k.as_str() != "items")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let Some(doc) = self.de::<ItemDoc>(&path, &Json::Object(rest)) else {
                    if let Some(Json::String(n)) = obj.get("name") {
                        self.broken.push(n.clone());
                    }
                    return None;
                };
                (doc, obj.get("items").map(Children::Raw))
            }
        };
        let id = out.len() as ItemId;
        let is_repeat = doc.kind == ItemType::Repeat;
        let repeat_depth = repeat_depth + usize::from(is_repeat);
        if is_repeat && repeat_depth > MAX_REPEAT_DEPTH {
            self.err(
                "form/repeats-too-deep",
                path.clone(),
                format!(
                    "repeats are nested {repeat_depth} deep here; the limit is {MAX_REPEAT_DEPTH}"
                ),
            );
        }
        out.push(Flat {
            doc,
            path: path.clone(),
            parent,
            repeat,
            children: Vec::new(),
            has_items: children.is_some(),
        });
        let inner_repeat = if is_repeat { Some(id) } else { repeat };
        let list: Vec<ItemSrc<'_>> = match children {
            None => return Some(id),
            Some(Children::Typed(list)) => list.into_iter().map(ItemSrc::Typed).collect(),
            Some(Children::Raw(Json::Array(list))) => list.iter().map(ItemSrc::Raw).collect(),
            Some(Children::Raw(other)) => {
                self.err(
                    "form/type",
                    format!("{path}.items"),
                    format!("`items` is a list, found {}", json_kind(other)),
                );
                return Some(id);
            }
        };
        let mut ids = Vec::new();
        for (i, c) in list.into_iter().enumerate() {
            if let Some(cid) = self.flatten(
                c,
                format!("{path}.items[{i}]"),
                Some(id),
                inner_repeat,
                depth + 1,
                repeat_depth,
                out,
            ) {
                ids.push(cid);
            }
        }
        out[id as usize].children = ids;
        Some(id)
    }

    fn check_item(
        &mut self,
        f: &Flat,
        choices: &BTreeMap<String, Vec<model::Choice>>,
        langs: &[String],
    ) {
        let d = &f.doc;
        let p = &f.path;
        let t = d.kind;
        let tname = t.as_str();
        let not_allowed = |this: &mut Self, key: &str, present: bool, why: &str| {
            if present {
                this.err(
                    "form/key-not-allowed",
                    format!("{p}.{key}"),
                    format!(
                        "`{key}` does not apply to {} {tname} item: {why}",
                        article(tname)
                    ),
                );
            }
        };
        let is_select = matches!(t, ItemType::SelectOne | ItemType::SelectMultiple);
        not_allowed(
            self,
            "choices",
            !is_select && d.choices.is_some(),
            "only select_one and select_multiple have choices",
        );
        not_allowed(
            self,
            "choice_filter",
            !is_select && d.choice_filter.is_some(),
            "only selects filter their choices",
        );
        not_allowed(
            self,
            "parameters",
            t != ItemType::Range && d.parameters.is_some(),
            "only range questions have parameters",
        );
        not_allowed(
            self,
            "data_type",
            t != ItemType::Calculate && d.data_type.is_some(),
            "only calculate items have a data_type",
        );
        let rep = t == ItemType::Repeat;
        not_allowed(
            self,
            "count",
            !rep && d.count.is_some(),
            "only repeats have a count",
        );
        not_allowed(
            self,
            "min",
            !rep && d.min.is_some(),
            "only repeats have min",
        );
        not_allowed(
            self,
            "max",
            !rep && d.max.is_some(),
            "only repeats have max",
        );
        not_allowed(
            self,
            "items",
            !t.is_container() && f.has_items,
            "only groups and repeats contain items",
        );
        let valueless = t.is_container() || t == ItemType::Note;
        not_allowed(
            self,
            "required",
            valueless && d.required.is_some(),
            "it holds no answer",
        );
        not_allowed(
            self,
            "constraint",
            valueless && d.constraint.is_some(),
            "it holds no answer",
        );
        not_allowed(
            self,
            "default",
            valueless && d.default.is_some(),
            "it holds no answer",
        );
        not_allowed(
            self,
            "default_expression",
            valueless && d.default_expression.is_some(),
            "it holds no answer",
        );
        not_allowed(
            self,
            "calculation",
            t.is_container() && d.calculation.is_some(),
            "groups and repeats hold no value",
        );
        if d.default.is_some() && d.default_expression.is_some() {
            self.err(
                "form/key-not-allowed",
                format!("{p}.default_expression"),
                "use either `default` (a literal) or `default_expression`, not both",
            );
        }
        if d.calculation.is_some() && d.default_expression.is_some() {
            self.err(
                "form/key-not-allowed",
                format!("{p}.default_expression"),
                "a calculated item has no default: its value always comes from `calculation`",
            );
        }
        if t == ItemType::Calculate && d.calculation.is_none() {
            self.err(
                "form/missing-key",
                p.clone(),
                "a calculate item needs a `calculation`",
            );
        }
        if t.is_container() && !f.has_items {
            self.err(
                "form/missing-key",
                p.clone(),
                format!("a {tname} needs `items`"),
            );
        }
        if is_select {
            match &d.choices {
                None => self.err(
                    "form/unknown-choices",
                    p.clone(),
                    format!("a {tname} question needs `choices`: the name of a list under the top-level `choices`"),
                ),
                Some(l) if !choices.contains_key(l) => {
                    let known: Vec<&str> = choices.keys().map(String::as_str).collect();
                    self.err(
                        "form/unknown-choices",
                        format!("{p}.choices"),
                        format!("there is no choice list `{l}`; the form has: {}", if known.is_empty() { "none".into() } else { known.join(", ") }),
                    )
                }
                _ => {}
            }
        }
        if let Some(r) = &d.parameters
            // Written so that a NaN step fails too.
            && (!(r.step > 0.0 && r.start.is_finite() && r.end.is_finite()) || r.start == r.end)
        {
            self.err(
                "form/type",
                format!("{p}.parameters"),
                "range parameters need finite start and end that differ, and a positive step",
            );
        }
        if rep {
            let max = d.max.unwrap_or(DEFAULT_REPEAT_MAX);
            if max > MAX_REPEAT_MAX {
                self.err(
                    "form/repeat-max",
                    format!("{p}.max"),
                    format!("max {max} is over the limit of {MAX_REPEAT_MAX} instances"),
                );
            }
            if let Some(min) = d.min
                && min > max
            {
                self.err(
                    "form/bad-count",
                    format!("{p}.min"),
                    format!("min {min} is larger than max {max}"),
                );
            }
            let fixed = match &d.count {
                Some(Count::Fixed(n)) => Some(*n),
                Some(Count::Expr(s)) => s.trim().parse::<u64>().ok(),
                None => None,
            };
            if let Some(n) = fixed
                && n > max.min(MAX_REPEAT_MAX)
            {
                self.err(
                    "form/bad-count",
                    format!("{p}.count"),
                    format!("count {n} is larger than max {max}"),
                );
            }
            if d.count.is_some() && (d.min.is_some()) {
                self.err(
                    "form/key-not-allowed",
                    format!("{p}.min"),
                    "a repeat with `count` has exactly that many instances: remove `min`",
                );
            }
        }
        if let Some(def) = &d.default
            && let Err(why) = check_literal(t, def, d.choices.as_ref().and_then(|l| choices.get(l)))
        {
            // `"7"` for a number question is the likeliest slip: say how to write it.
            let unquote = match def.as_str() {
                Some(n)
                    if matches!(t, ItemType::Integer | ItemType::Decimal | ItemType::Range)
                        && n.trim().parse::<f64>().is_ok_and(f64::is_finite) =>
                {
                    format!(
                        ": write the number without quotes, \"default\": {}",
                        n.trim()
                    )
                }
                _ => String::new(),
            };
            self.err(
                "form/bad-default",
                format!("{p}.default"),
                format!("the default {def} is not a valid {tname} value: {why}{unquote}"),
            );
        }
        // Texts and the warnings a supervisor wants to see.
        for (key, text) in [
            ("label", &d.label),
            ("hint", &d.hint),
            ("required_message", &d.required_message),
            ("constraint_message", &d.constraint_message),
        ] {
            if let Some(text) = text {
                self.check_text(text, &format!("{p}.{key}"), langs);
            }
        }
        if t.is_shown() && t != ItemType::Group && d.label.is_none() {
            self.warn(
                "item/no-label",
                p.clone(),
                format!(
                    "the {tname} `{}` has no label: surveyors will see an empty question",
                    d.name
                ),
            );
        }
        if d.constraint.is_some() && d.constraint_message.is_none() {
            self.warn(
                "item/no-constraint-message",
                format!("{p}.constraint"),
                "this constraint has no `constraint_message`: surveyors will only see a generic error",
            );
        }
    }

    fn parse(&mut self, src: Option<&str>, path: &str, key: &str) -> Option<Expr> {
        let src = src?;
        let at = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        match expr::parse(src) {
            Ok(e) => {
                for span in e.uses_now_outside_once() {
                    self.diags.push(
                        Diagnostic::warning(
                            "expr/now-outside-once",
                            at.clone(),
                            "now() changes every time it is evaluated: wrap it in once(...) to keep the first value",
                        )
                        .with_span(span.start, span.end),
                    );
                }
                // A constant pattern that cannot compile would make every evaluation empty: refuse it now.
                for err in e.check_regexes() {
                    self.diags.push(
                        Diagnostic::error(err.code, at.clone(), err.message)
                            .with_span(err.span.start, err.span.end),
                    );
                }
                Some(e)
            }
            Err(errs) => {
                for e in errs {
                    self.diags.push(
                        Diagnostic::error(e.code, at.clone(), e.message)
                            .with_span(e.span.start, e.span.end),
                    );
                }
                if !self.names.is_empty() {
                    for (i, _) in src.match_indices("${") {
                        let Some(len) = src[i + 2..].find('}') else {
                            continue;
                        };
                        let name = &src[i + 2..i + 2 + len];
                        if !self.names.contains(name) {
                            let hint = suggest(name, self.names.iter());
                            let (a, b) = (i as u32, (i + 3 + len) as u32);
                            self.diags.push(
                                Diagnostic::error(
                                    "expr/unknown-name",
                                    at.clone(),
                                    format!("there is no item named `{name}`{hint}"),
                                )
                                .with_span(a, b),
                            );
                        }
                    }
                }
                None
            }
        }
    }

    fn cond(&mut self, c: Option<&Condition>, path: &str, key: &str) -> Cond {
        match c {
            None => Cond::Const(false),
            Some(Condition::Const(b)) => Cond::Const(*b),
            Some(Condition::Expr(s)) => match s.trim() {
                "true()" | "yes" | "true" => Cond::Const(true),
                "false()" | "no" | "false" | "" => Cond::Const(false),
                _ => self
                    .parse(Some(s), path, key)
                    .map_or(Cond::Const(false), Cond::Expr),
            },
        }
    }

    /// Resolves names in one expression and reports unknown names and lists used as single values.
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &mut self,
        e: &mut Expr,
        at: &str,
        by_name: &FastMap<String, ItemId>,
        items: &[Item],
        level: Option<ItemId>,
        choice_filter: bool,
        slot: Slot,
    ) {
        let refs = e.field_refs();
        for (name, span) in &refs {
            if !by_name.contains_key(name) && !self.names.contains(name) {
                let hint = suggest(name, by_name.keys());
                self.diags.push(
                    Diagnostic::error(
                        "expr/unknown-name",
                        at.to_string(),
                        format!("there is no item named `{name}`{hint}"),
                    )
                    .with_span(span.start, span.end),
                );
            }
        }
        let mut bad_bare = Vec::new();
        for (name, span, in_pred) in e.bare_names() {
            if in_pred {
                if !by_name.contains_key(&name) && !self.names.contains(&name) {
                    self.diags.push(
                        Diagnostic::error(
                            "expr/unknown-name",
                            at.to_string(),
                            format!("there is no field named `{name}` in the repeat this predicate filters"),
                        )
                        .with_span(span.start, span.end),
                    );
                }
            } else if !choice_filter {
                bad_bare.push((name, span));
            }
        }
        for (name, span) in bad_bare {
            self.diags.push(
                Diagnostic::error(
                    "expr/bare-name",
                    at.to_string(),
                    format!("`{name}` is a bare name: write ${{{name}}} to read a field (bare names only work inside a predicate [...])"),
                )
                .with_span(span.start, span.end),
            );
        }
        e.resolve(
            &mut |name| by_name.get(name).copied(),
            &mut |name, repeat| {
                let id = *by_name.get(name)?;
                match repeat {
                    Some(r) if !is_within(items, id, r) => None,
                    _ => Some(id),
                }
            },
        );
        // A reference is a list when its item is a repeat, or lives in a repeat that does not enclose `level`.
        let chain: Vec<ItemId> = {
            let mut c = Vec::new();
            let mut cur = level;
            while let Some(r) = cur {
                c.push(r);
                cur = items[r as usize].repeat;
            }
            c
        };
        let is_list = |id: ItemId| {
            let it = &items[id as usize];
            it.kind == ItemType::Repeat || it.repeat.is_some_and(|r| !chain.contains(&r))
        };
        for err in e.check_lists(&is_list, slot.boolean()) {
            self.diags.push(
                Diagnostic::error(err.code, at.to_string(), err.message)
                    .with_span(err.span.start, err.span.end),
            );
        }
    }

    fn report_cycle(&mut self, cycle: &[ItemId], items: &[Item]) {
        let names: Vec<&str> = cycle
            .iter()
            .map(|&i| items[i as usize].name.as_str())
            .collect();
        let mut shown = names.join(" → ");
        shown.push_str(" → ");
        shown.push_str(names[0]);
        let first = &items[cycle[0] as usize];
        self.err(
            "expr/cycle",
            first.path.clone(),
            format!("these items depend on each other in a cycle: {shown}; break the cycle so that each can be computed"),
        );
    }
}

fn is_within(items: &[Item], inner: ItemId, outer: ItemId) -> bool {
    let mut cur = Some(inner);
    while let Some(c) = cur {
        if c == outer {
            return true;
        }
        cur = items[c as usize].parent;
    }
    false
}

fn take_cond(c: &mut Cond) -> Option<Expr> {
    match std::mem::replace(c, Cond::Const(false)) {
        Cond::Expr(e) => Some(e),
        other => {
            *c = other;
            None
        }
    }
}

fn take_count(c: &mut RepeatCount) -> Option<Expr> {
    match std::mem::replace(c, RepeatCount::Free) {
        RepeatCount::Expr(e) => Some(e),
        other => {
            *c = other;
            None
        }
    }
}

/// Kahn's algorithm, lowest item first among the ready ones; on a cycle, returns one cycle.
fn topo_order(edges: &[Vec<ItemId>]) -> Result<Vec<ItemId>, Vec<ItemId>> {
    let n = edges.len();
    let mut indeg = vec![0u32; n];
    for es in edges {
        for &y in es {
            indeg[y as usize] += 1;
        }
    }
    let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<ItemId>> = (0..n as ItemId)
        .filter(|&i| indeg[i as usize] == 0)
        .map(std::cmp::Reverse)
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(std::cmp::Reverse(x)) = ready.pop() {
        order.push(x);
        for &y in &edges[x as usize] {
            indeg[y as usize] -= 1;
            if indeg[y as usize] == 0 {
                ready.push(std::cmp::Reverse(y));
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Walk backwards... simpler: follow edges among the remaining nodes until one repeats.
    let remaining: Vec<bool> = indeg.iter().map(|&d| d > 0).collect();
    let start = (0..n).find(|&i| remaining[i]).unwrap_or(0);
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut path = Vec::new();
    let mut cur = start;
    loop {
        if let Some(&at) = seen.get(&cur) {
            return Err(path[at..].iter().map(|&i| i as ItemId).collect());
        }
        seen.insert(cur, path.len());
        path.push(cur);
        match edges[cur].iter().find(|&&y| remaining[y as usize]) {
            Some(&y) => cur = y as usize,
            None => return Err(vec![cur as ItemId]),
        }
    }
}

/// How deeply `items` nest (1 for a flat list), counted without recursion.
fn item_depth(items: &[Json]) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&[Json], usize)> = vec![(items, 1)];
    while let Some((list, d)) = stack.pop() {
        deepest = deepest.max(d);
        for it in list {
            if let Some(Json::Array(children)) = it.get("items") {
                stack.push((children, d + 1));
            }
        }
    }
    deepest
}

/// An item to flatten: already deserialized (a well-formed form), or raw JSON to check key by key.
/// (Each lives only while its item is flattened, so the size difference of the variants costs nothing.)
#[allow(clippy::large_enum_variant)]
enum ItemSrc<'a> {
    Typed(ItemDoc),
    Raw(&'a Json),
}

/// The children of an item, in the same two forms.
enum Children<'a> {
    Typed(Vec<ItemDoc>),
    Raw(&'a Json),
}

struct Flat {
    doc: ItemDoc,
    path: String,
    parent: Option<ItemId>,
    repeat: Option<ItemId>,
    children: Vec<ItemId>,
    has_items: bool,
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

fn bad_ident_msg(what: &str, s: &str) -> String {
    format!(
        "{what} `{s}` is not an identifier: start with an ASCII letter or `_`, then letters, digits, `_`, `-` or `.`, at most 64 characters (names become column names)"
    )
}

/// Maps serde's message to a stable code and a plainer message.
fn serde_code(msg: &str, path: &str) -> (&'static str, String) {
    let last = path.rsplit('.').next().unwrap_or(path);
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        return ("form/unknown-key", format!("unknown key {rest}"));
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        if last == "type" {
            return ("form/unknown-type", format!("unknown item type {rest}"));
        }
        return ("form/type", format!("unknown value {rest}"));
    }
    if msg.starts_with("missing field ") {
        return (
            "form/missing-key",
            msg.replace("missing field", "missing key"),
        );
    }
    if msg.contains("a whole number or an expression") || msg.contains("a count") {
        return ("form/bad-count", msg.to_string());
    }
    ("form/type", msg.to_string())
}

/// `; did you mean `x`?` when a close name exists.
fn suggest<'a>(name: &str, names: impl Iterator<Item = &'a String>) -> String {
    let best = names
        .map(|n| (expr::edit_distance(name, n), n))
        .filter(|(d, _)| *d <= 2)
        .min();
    best.map_or(String::new(), |(_, n)| format!("; did you mean `{n}`?"))
}

fn text_values(t: &Text) -> Vec<&str> {
    match t {
        Text::Plain(s) => vec![s],
        Text::Translated(m) => m.values().map(String::as_str).collect(),
    }
}

/// The names in `${name}` pipes of a text.
pub fn piped_names(s: &str) -> impl Iterator<Item = &str> {
    s.match_indices("${").filter_map(move |(i, _)| {
        let rest = &s[i + 2..];
        rest.find('}').map(|e| &rest[..e])
    })
}

/// Checks that a `default` literal has the question's type.
/// "a" or "an" before a type name (`an integer item`).
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

pub fn check_literal(
    t: ItemType,
    v: &Json,
    choices: Option<&Vec<model::Choice>>,
) -> Result<(), String> {
    crate::answer::check(t, v, choices.map(Vec::as_slice), None)
        .map(|_| ())
        .map_err(|e| e.message)
}

/// Parses and resolves an expression against a loaded form, as if it stood on an item at `level`
/// (`None`: the top level), with a form's checks, except that the whole expression may be a list.
/// Used by `doorstep expr` and by hosts that evaluate ad-hoc expressions.
pub fn compile_expr(
    form: &Form,
    src: &str,
    level: Option<ItemId>,
) -> Result<Expr, Vec<Diagnostic>> {
    let mut cx = Loader {
        diags: Vec::new(),
        names: form.by_name.keys().cloned().collect(),
        broken: Vec::new(),
    };
    let mut e = cx
        .parse(Some(src), "", "expr")
        .ok_or_else(|| std::mem::take(&mut cx.diags))?;
    cx.resolve(
        &mut e,
        "expr",
        &form.by_name,
        &form.items,
        level,
        false,
        Slot::Calculation,
    );
    // The whole expression may be a list (`${age}` shows every member's age), but a list where one
    // value is needed (`${age} + 1`) is the same error as in a form.
    let (start, end) = (src.len() - src.trim_start().len(), src.trim_end().len());
    let whole = |d: &Diagnostic| {
        d.span
            .is_some_and(|(a, b)| a as usize <= start && b as usize >= end)
    };
    cx.diags
        .retain(|d| d.is_error() && !(d.code == "expr/list-as-value" && whole(d)));
    if cx.diags.is_empty() {
        Ok(e)
    } else {
        Err(cx.diags)
    }
}
