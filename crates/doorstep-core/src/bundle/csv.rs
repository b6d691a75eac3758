//! The CSV tables of a bundle, for offices that open results in a spreadsheet: one table of
//! submissions and one per repeat, linked by keys (bundle-format.md, "Bundle").
//!
//! The layout, which office scripts rely on:
//! - `tables/<form id>.csv`: one row per submission. Columns: `instance_id`, then the envelope's
//!   `meta/deprecated_id`, `meta/started_at`, `meta/updated_at`, `meta/finalized_at`, `meta/device_id`,
//!   `meta/surveyor`, then one column per value-holding item outside any repeat, in document order,
//!   named after the item (calculations, hidden and metadata items included; groups add nothing).
//! - `tables/<form id>.<repeat name>.csv`: one row per instance of that repeat (nested repeats get
//!   their own table). Columns: `instance_id`, `parent_key`, `key`, then the repeat's own items. A key
//!   is the parent's key plus `/<repeat>[<1-based position>]`: `uuid:…/members[2]/children[1]`; the
//!   top level's key is the `instance_id`, so `parent_key` always finds the parent row.
//! - `select_multiple`: the space-joined values in column `<name>`, then one column `<name>/<value>`
//!   per choice of its list, in list order, holding `1` (selected) or `0`; all of them are empty when
//!   the question was not answered or not relevant, so "not asked" differs from "none selected".
//! - `geopoint`: four columns `<name>/lat`, `<name>/lon`, `<name>/alt`, `<name>/accuracy`.
//! - attachments: the file name (the file is `media/<instance_id>/<file name>` in the bundle).
//! - numbers as written in JSON, booleans as `true`/`false`, unanswered and non-relevant items empty.
//! - An item named `instance_id`, `parent_key` or `key` gets the column `data/<name>` instead, so the
//!   linking columns keep their names; identifiers cannot contain `/`, so no other column can clash.
//!
//! Encoding: UTF-8 with a byte-order mark (spreadsheet programs then read Chinese correctly), fields
//! quoted as RFC 4180 says (only when they hold `"`, `,`, CR or LF), rows ending in CRLF.
//!
//! **Formula injection.** Offices open these files in Excel, which runs a cell starting with `=`, `+`,
//! `-` or `@` as a formula (and a crafted answer could then exfiltrate data). Any text cell starting
//! with one of those, or with a tab or CR, gets a leading `'` (the OWASP advice), unless the whole
//! text is a plain number such as `-5` or `+8613800000000`, which Excel reads as a number anyway.
//! Numbers stored as JSON numbers are never changed. The exact answers are always in
//! `submissions.jsonl`; the tables are a convenience for people.

use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::expr::ItemId;
use crate::form::Form;
use crate::form::model::ItemType;
use crate::submission::Meta;

const BOM: &str = "\u{feff}";
const RESERVED: [&str; 3] = ["instance_id", "parent_key", "key"];
const META_COLUMNS: [&str; 6] = [
    "meta/deprecated_id",
    "meta/started_at",
    "meta/updated_at",
    "meta/finalized_at",
    "meta/device_id",
    "meta/surveyor",
];
const GEO_PARTS: [&str; 4] = ["lat", "lon", "alt", "accuracy"];

#[derive(Clone, Debug)]
enum Column {
    Value(ItemId),
    Choice(ItemId, String),
    Geo(ItemId, &'static str),
}

#[derive(Clone, Debug)]
struct Table {
    path: String,
    /// The repeat whose instances are the rows (`None` for the submissions table).
    repeat: Option<ItemId>,
    columns: Vec<Column>,
    out: String,
}

/// Builds every table of one form, one submission at a time (so the app needs memory for the
/// tables, not for every submission's session at once).
#[derive(Clone, Debug)]
pub struct Tables<'f> {
    form: &'f Form,
    tables: Vec<Table>,
}

impl<'f> Tables<'f> {
    /// Works out the tables and writes their headers. Fails when two columns would get the same name
    /// (only possible with a select named `data` that has a choice `instance_id`, `parent_key` or `key`).
    pub fn new(form: &'f Form) -> Result<Tables<'f>, String> {
        let mut levels: Vec<Option<ItemId>> = vec![None];
        levels.extend(
            form.items
                .iter()
                .filter(|i| i.kind == ItemType::Repeat)
                .map(|i| Some(i.id)),
        );
        let mut tables = Vec::with_capacity(levels.len());
        for (level, path) in levels.into_iter().zip(table_paths(form)) {
            let mut items: Vec<ItemId> = form
                .level_items(level)
                .iter()
                .copied()
                .filter(|&i| form.item(i).kind.has_value())
                .collect();
            crate::sort::sort(&mut items);
            let mut columns = Vec::new();
            for i in items {
                let item = form.item(i);
                columns.push(Column::Value(i));
                match item.kind {
                    ItemType::SelectMultiple => columns.extend(
                        form.choices_of(item)
                            .iter()
                            .map(|c| Column::Choice(i, c.value.clone())),
                    ),
                    ItemType::Geopoint => {
                        columns.pop();
                        columns.extend(GEO_PARTS.iter().map(|p| Column::Geo(i, p)));
                    }
                    _ => {}
                }
            }
            let mut header: Vec<String> = match level {
                None => std::iter::once("instance_id")
                    .chain(META_COLUMNS)
                    .map(String::from)
                    .collect(),
                Some(_) => RESERVED.iter().map(|s| s.to_string()).collect(),
            };
            header.extend(columns.iter().map(|c| column_name(form, c)));
            let mut seen = std::collections::HashSet::new();
            for h in &header {
                if !seen.insert(h.as_str()) {
                    return Err(format!(
                        "{path}: two columns would be named `{h}`; rename the item or choice in the form"
                    ));
                }
            }
            let mut out = String::from(BOM);
            write_row(&mut out, header.iter().map(|h| Cell::Plain(h)));
            tables.push(Table {
                path,
                repeat: level,
                columns,
                out,
            });
        }
        Ok(Tables { form, tables })
    }

    /// Adds one submission: `data` is its exported answers (non-relevant answers removed, see
    /// `Session::export_data`).
    pub fn add(&mut self, meta: &Meta, data: &Json) {
        let id = meta.instance_id.as_str();
        let root = &mut self.tables[0];
        let mut cells: Vec<Cell> = vec![Cell::Text(id)];
        cells.push(Cell::Text(meta.deprecated_id.as_deref().unwrap_or("")));
        cells.push(Cell::Text(&meta.started_at));
        cells.push(Cell::Text(&meta.updated_at));
        cells.push(Cell::Text(meta.finalized_at.as_deref().unwrap_or("")));
        cells.push(Cell::Text(&meta.device_id));
        cells.push(Cell::Text(&meta.surveyor));
        row_cells(self.form, &root.columns, data, &mut cells);
        write_row(&mut root.out, cells.into_iter());
        self.add_repeats(id, None, id, data);
    }

    fn add_repeats(&mut self, id: &str, level: Option<ItemId>, key: &str, obj: &Json) {
        let form = self.form;
        for &r in form.level_items(level) {
            let item = form.item(r);
            if item.kind != ItemType::Repeat {
                continue;
            }
            let Some(list) = obj.get(&item.name).and_then(Json::as_array) else {
                continue;
            };
            let t = self
                .tables
                .iter()
                .position(|t| t.repeat == Some(r))
                .expect("every repeat has a table");
            for (i, inst) in list.iter().enumerate() {
                let inst_key = format!("{key}/{}[{}]", item.name, i + 1);
                let mut cells = vec![Cell::Text(id), Cell::Text(key), Cell::Text(&inst_key)];
                let table = &mut self.tables[t];
                row_cells(form, &table.columns, inst, &mut cells);
                write_row(&mut table.out, cells.into_iter());
                self.add_repeats(id, Some(r), &inst_key, inst);
            }
        }
    }

    /// The tables as `(path in the bundle, bytes)`: the submissions table first, then one per repeat in
    /// document order (written even when empty, so the set of files depends only on the form).
    pub fn finish(self) -> Vec<(String, Vec<u8>)> {
        self.tables
            .into_iter()
            .map(|t| (t.path, t.out.into_bytes()))
            .collect()
    }
}

/// The paths of a form's tables, in bundle order: the submissions table, then one per repeat.
pub fn table_paths(form: &Form) -> Vec<String> {
    std::iter::once(format!("tables/{}.csv", form.id))
        .chain(
            form.items
                .iter()
                .filter(|i| i.kind == ItemType::Repeat)
                .map(|i| format!("tables/{}.{}.csv", form.id, i.name)),
        )
        .collect()
}

fn column_name(form: &Form, c: &Column) -> String {
    match c {
        Column::Value(i) => {
            let n = &form.item(*i).name;
            if RESERVED.contains(&n.as_str()) {
                format!("data/{n}")
            } else {
                n.clone()
            }
        }
        Column::Choice(i, v) => format!("{}/{v}", form.item(*i).name),
        Column::Geo(i, p) => format!("{}/{p}", form.item(*i).name),
    }
}

enum Cell<'a> {
    /// A header or a generated value: written as is.
    Plain(&'a str),
    /// Text from an answer or the envelope: guarded against formula injection.
    Text(&'a str),
    /// A value that had to be formatted (already guarded where needed).
    Owned(String),
}

/// Appends the cells of `columns` read from one level's object.
fn row_cells<'a>(form: &Form, columns: &[Column], obj: &'a Json, cells: &mut Vec<Cell<'a>>) {
    for c in columns {
        match c {
            Column::Value(i) => {
                let item = form.item(*i);
                match obj.get(&item.name) {
                    None | Some(Json::Null) => cells.push(Cell::Plain("")),
                    Some(Json::String(s)) => cells.push(Cell::Text(s)),
                    Some(Json::Number(n)) => cells.push(Cell::Owned(n.to_string())),
                    Some(Json::Bool(b)) => {
                        cells.push(Cell::Plain(if *b { "true" } else { "false" }))
                    }
                    Some(Json::Array(a)) => {
                        let mut s = String::new();
                        for (k, v) in a.iter().enumerate() {
                            if k > 0 {
                                s.push(' ');
                            }
                            match v {
                                Json::String(x) => s.push_str(x),
                                other => {
                                    let _ = write!(s, "{other}");
                                }
                            }
                        }
                        cells.push(Cell::Owned(guard(&s).into_owned()));
                    }
                    Some(Json::Object(o)) => match o.get("file") {
                        Some(Json::String(f)) => cells.push(Cell::Text(f)),
                        _ => cells.push(Cell::Owned(
                            guard(&Json::Object(o.clone()).to_string()).into_owned(),
                        )),
                    },
                }
            }
            Column::Choice(i, v) => {
                let item = form.item(*i);
                let cell = match obj.get(&item.name) {
                    Some(Json::Array(a)) => {
                        if a.iter().any(|x| x.as_str() == Some(v)) {
                            "1"
                        } else {
                            "0"
                        }
                    }
                    Some(Json::String(s)) => {
                        if s.split_whitespace().any(|x| x == v) {
                            "1"
                        } else {
                            "0"
                        }
                    }
                    _ => "",
                };
                cells.push(Cell::Plain(cell));
            }
            Column::Geo(i, p) => {
                let item = form.item(*i);
                match obj.get(&item.name).and_then(|g| g.get(*p)) {
                    Some(Json::Number(n)) => cells.push(Cell::Owned(n.to_string())),
                    _ => cells.push(Cell::Plain("")),
                }
            }
        }
    }
}

/// The formula-injection guard (see the module documentation).
fn guard(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if risky && !is_plain_number(s) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

fn is_plain_number(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut parts = t.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn write_row<'a>(out: &mut String, cells: impl Iterator<Item = Cell<'a>>) {
    for (k, c) in cells.enumerate() {
        if k > 0 {
            out.push(',');
        }
        match c {
            Cell::Plain(s) => write_field(out, s),
            Cell::Text(s) => write_field(out, &guard(s)),
            Cell::Owned(s) => write_field(out, &s),
        }
    }
    out.push_str("\r\n");
}

/// One field, quoted as RFC 4180 says when it holds a quote, a comma or a line break.
fn write_field(out: &mut String, s: &str) {
    if s.contains(['"', ',', '\r', '\n']) {
        out.push('"');
        for ch in s.chars() {
            if ch == '"' {
                out.push('"');
            }
            out.push(ch);
        }
        out.push('"');
    } else {
        out.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_formulas_but_not_numbers() {
        assert_eq!(guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard("-5"), "-5");
        assert_eq!(guard("+8613800000000"), "+8613800000000");
        assert_eq!(guard("-1.5"), "-1.5");
        assert_eq!(guard("- none"), "'- none");
        assert_eq!(guard("张三"), "张三");
    }

    #[test]
    fn quotes_as_rfc_4180() {
        let mut s = String::new();
        write_row(
            &mut s,
            [
                Cell::Plain("a,b"),
                Cell::Plain("say \"hi\""),
                Cell::Plain("x\ny"),
                Cell::Plain("plain"),
            ]
            .into_iter(),
        );
        assert_eq!(s, "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",plain\r\n");
    }
}
