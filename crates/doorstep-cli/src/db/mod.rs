//! The office database: one schema, two engines (SQLite embedded, PostgreSQL for bigger offices)
//! behind the [`Store`] trait, so ingest, export and report never write engine-specific SQL.
//!
//! Schema (the same in both engines):
//! - `doorstep_forms`: every form definition ever ingested, by hash, with its exact source, so that
//!   export and report read labels and choices of every version from the database alone.
//! - `doorstep_bundles`: every bundle ingested (by SHA-256 of the file), with its counts.
//! - `doorstep_submissions`: one row per stored submission: the envelope's `meta`, the SHA-256 of its
//!   line (to tell a repeat from a conflict) and the bundle it came in. Primary key `instance_id`.
//! - `doorstep_attachments`: the bytes of every attachment, by `instance_id` and file name.
//! - one table per form, named after the form id: `instance_id`, `form_version`, then one column per
//!   value-holding item outside any repeat (the columns of the bundle's `tables/<form>.csv`, but a
//!   select_multiple is one space-joined column and a geopoint one `lat lon alt accuracy` column).
//! - one table per repeat, `<form>__<repeat>`: `key`, `parent_key`, `instance_id`, `position`, then the
//!   repeat's own items. Keys are the bundle's: `uuid:…/members[2]/children[1]`.
//! - in PostgreSQL only, each data table also has `doorstep:row`, which numbers its rows in the order
//!   they were added (SQLite's `rowid`); it is not among [`Store::columns`], so no export shows it.
//!
//! **Architecture invariant:** tables only grow. A new form version adds the columns it needs
//! (`ALTER TABLE ADD COLUMN`, inside the bundle's transaction, so a refused bundle adds nothing);
//! a column whose type differs between versions becomes text. Nothing is ever dropped or rewritten.
//!
//! Data tables have no index: ingest appends to them, and export scans them whole. The only index
//! ingest needs is the primary key of `doorstep_submissions`.

pub mod postgres;
pub mod sqlite;

use doorstep_core::expr::ItemId;
use doorstep_core::form::compiled::{Form, Item};
use doorstep_core::form::model::{DataType, ItemType};
use serde_json::Value as Json;

use crate::CliError;

/// The type of a data column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColType {
    Int,
    Real,
    Text,
}

/// One value to store or read.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Val {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Real(r) => Some(*r),
            Val::Text(s) => s.trim().parse().ok(),
            Val::Null => None,
        }
    }
    /// The value as text (numbers as written, nothing for null).
    pub fn to_text(&self) -> String {
        match self {
            Val::Null => String::new(),
            Val::Int(i) => i.to_string(),
            Val::Real(r) => r.to_string(),
            Val::Text(s) => s.clone(),
        }
    }
}

/// A table as the data needs it: its name and its columns with their types.
#[derive(Clone, Debug)]
pub struct TableSpec {
    pub name: String,
    pub columns: Vec<(String, ColType)>,
}

/// One data column of a table and the item it holds.
#[derive(Clone, Debug)]
pub struct Field {
    pub item: ItemId,
    pub column: String,
    pub col_type: ColType,
}

/// The tables of one form version: the submissions table and one per repeat.
#[derive(Clone, Debug)]
pub struct Layout {
    pub tables: Vec<TableLayout>,
}

#[derive(Clone, Debug)]
pub struct TableLayout {
    pub table: String,
    /// The repeat whose instances are the rows (`None`: the submissions table).
    pub repeat: Option<ItemId>,
    /// Fixed columns first (`instance_id`, `form_version` or `key`, `parent_key`, `instance_id`,
    /// `position`), then `fields`.
    pub fixed: Vec<(&'static str, ColType)>,
    pub fields: Vec<Field>,
}

pub const ROOT_FIXED: [(&str, ColType); 2] = [
    ("instance_id", ColType::Text),
    ("form_version", ColType::Text),
];
pub const REPEAT_FIXED: [(&str, ColType); 4] = [
    ("key", ColType::Text),
    ("parent_key", ColType::Text),
    ("instance_id", ColType::Text),
    ("position", ColType::Int),
];

/// The table of a form's submissions.
pub fn root_table(form_id: &str) -> String {
    form_id.to_string()
}

/// The table of one repeat of a form.
pub fn repeat_table(form_id: &str, repeat: &str) -> String {
    format!("{form_id}__{repeat}")
}

impl Layout {
    pub fn of(form: &Form) -> Layout {
        let mut tables = vec![TableLayout {
            table: root_table(&form.id),
            repeat: None,
            fixed: ROOT_FIXED.to_vec(),
            fields: fields(form, None, &ROOT_FIXED),
        }];
        for item in form.items.iter().filter(|i| i.kind == ItemType::Repeat) {
            tables.push(TableLayout {
                table: repeat_table(&form.id, &item.name),
                repeat: Some(item.id),
                fixed: REPEAT_FIXED.to_vec(),
                fields: fields(form, Some(item.id), &REPEAT_FIXED),
            });
        }
        Layout { tables }
    }
}

impl TableLayout {
    pub fn spec(&self) -> TableSpec {
        let mut columns: Vec<(String, ColType)> = self
            .fixed
            .iter()
            .map(|(n, t)| (n.to_string(), *t))
            .collect();
        columns.extend(self.fields.iter().map(|f| (f.column.clone(), f.col_type)));
        TableSpec {
            name: self.table.clone(),
            columns,
        }
    }
    pub fn column_names(&self) -> Vec<String> {
        self.spec().columns.into_iter().map(|(n, _)| n).collect()
    }
}

fn fields(form: &Form, level: Option<ItemId>, fixed: &[(&str, ColType)]) -> Vec<Field> {
    form.level_items(level)
        .iter()
        .map(|&i| form.item(i))
        .filter(|it| it.kind.has_value() && it.kind != ItemType::Repeat)
        .map(|it| {
            // An item named like a linking column gets `data_` in front (identifiers have no `/`).
            let column = if fixed.iter().any(|(n, _)| *n == it.name) {
                format!("data_{}", it.name)
            } else {
                it.name.clone()
            };
            Field {
                item: it.id,
                column,
                col_type: col_type(it),
            }
        })
        .collect()
}

pub fn col_type(item: &Item) -> ColType {
    match item.kind {
        ItemType::Integer | ItemType::Acknowledge => ColType::Int,
        ItemType::Decimal | ItemType::Range => ColType::Real,
        ItemType::Calculate => match item.doc.data_type.unwrap_or_default() {
            DataType::Integer | DataType::Boolean => ColType::Int,
            DataType::Decimal => ColType::Real,
            _ => ColType::Text,
        },
        _ => ColType::Text,
    }
}

/// The stored value of one answer in a column of type `t`.
pub fn to_val(v: Option<&Json>, t: ColType) -> Val {
    let Some(v) = v else { return Val::Null };
    match (v, t) {
        (Json::Null, _) => Val::Null,
        (Json::Number(n), ColType::Int) => match n.as_i64() {
            Some(i) => Val::Int(i),
            None => Val::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        (Json::Number(n), ColType::Real) => Val::Real(n.as_f64().unwrap_or(f64::NAN)),
        (Json::Number(n), ColType::Text) => Val::Text(n.to_string()),
        (Json::Bool(b), ColType::Text) => Val::Text(b.to_string()),
        (Json::Bool(b), _) => Val::Int(i64::from(*b)),
        (Json::String(s), ColType::Text) => Val::Text(s.clone()),
        (Json::String(s), ColType::Int) => s
            .trim()
            .parse()
            .map(Val::Int)
            .unwrap_or_else(|_| Val::Text(s.clone())),
        (Json::String(s), ColType::Real) => s
            .trim()
            .parse()
            .map(Val::Real)
            .unwrap_or_else(|_| Val::Text(s.clone())),
        (Json::Array(a), _) => Val::Text(
            a.iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (Json::Object(o), _) => {
            if let (Some(lat), Some(lon)) = (o.get("lat"), o.get("lon")) {
                let part = |k: &str| o.get(k).map_or(String::new(), Json::to_string);
                Val::Text(
                    format!("{lat} {lon} {} {}", part("alt"), part("accuracy"))
                        .trim_end()
                        .to_string(),
                )
            } else {
                Val::Text(
                    o.get("file")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_string(),
                )
            }
        }
    }
}

/// A value borrowed from a [`Rows`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValRef<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
}

impl ValRef<'_> {
    pub fn to_val(self) -> Val {
        match self {
            ValRef::Null => Val::Null,
            ValRef::Int(i) => Val::Int(i),
            ValRef::Real(r) => Val::Real(r),
            ValRef::Text(t) => Val::Text(t.to_string()),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    /// A range of `Rows::text`.
    Text(u32, u32),
}

/// Rows of one table, flat: cells one row after another and every text in one buffer. Ingest
/// builds a million submissions' rows on its workers and writes them on one thread; a `Vec<Val>`
/// per row costs an allocation (and a cross-thread free) per value, this costs a few per batch.
#[derive(Clone, Debug, Default)]
pub struct Rows {
    width: usize,
    cells: Vec<Cell>,
    text: String,
}

impl Rows {
    pub fn new(width: usize) -> Rows {
        Rows {
            width,
            ..Rows::default()
        }
    }
    /// Rows with room for `cells` values and `text` bytes of text, so that filling them does not
    /// grow the buffers step by step.
    pub fn with_capacity(width: usize, cells: usize, text: usize) -> Rows {
        Rows {
            width,
            cells: Vec::with_capacity(cells),
            text: String::with_capacity(text),
        }
    }
    /// The values and text bytes held (a capacity hint for the next rows of the same table).
    pub fn sizes(&self) -> (usize, usize) {
        (self.cells.len(), self.text.len())
    }
    pub fn width(&self) -> usize {
        self.width
    }
    /// Complete rows held (the last one may be in the making).
    pub fn len(&self) -> usize {
        self.cells.len() / self.width.max(1)
    }
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
    pub fn clear(&mut self) {
        self.cells.clear();
        self.text.clear();
    }
    pub fn push_text(&mut self, s: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        self.cells.push(Cell::Text(start, self.text.len() as u32));
    }
    pub fn push(&mut self, v: ValRef<'_>) {
        match v {
            ValRef::Null => self.cells.push(Cell::Null),
            ValRef::Int(i) => self.cells.push(Cell::Int(i)),
            ValRef::Real(r) => self.cells.push(Cell::Real(r)),
            ValRef::Text(t) => self.push_text(t),
        }
    }
    /// The stored value of one answer in a column of type `t`: what [`to_val`] gives, without
    /// an allocation in the common cases.
    pub fn push_answer(&mut self, v: Option<&Json>, t: ColType) {
        match (v, t) {
            (None | Some(Json::Null), _) => self.cells.push(Cell::Null),
            (Some(Json::String(s)), ColType::Text) => self.push_text(s),
            (Some(Json::Number(n)), ColType::Int) if n.as_i64().is_some() => {
                self.cells.push(Cell::Int(n.as_i64().unwrap_or_default()))
            }
            (Some(Json::Number(n)), ColType::Real) => {
                self.cells.push(Cell::Real(n.as_f64().unwrap_or(f64::NAN)))
            }
            _ => match to_val(v, t) {
                Val::Null => self.cells.push(Cell::Null),
                Val::Int(i) => self.cells.push(Cell::Int(i)),
                Val::Real(r) => self.cells.push(Cell::Real(r)),
                Val::Text(s) => self.push_text(&s),
            },
        }
    }
    /// Appends every row of `other` (same width).
    pub fn extend_from(&mut self, other: &Rows) {
        let base = self.text.len() as u32;
        self.text.push_str(&other.text);
        self.cells.extend(other.cells.iter().map(|c| match *c {
            Cell::Text(a, b) => Cell::Text(a + base, b + base),
            c => c,
        }));
    }
    /// The values of row `i`.
    pub fn row(&self, i: usize) -> impl Iterator<Item = ValRef<'_>> {
        self.cells[i * self.width..(i + 1) * self.width]
            .iter()
            .map(|c| match *c {
                Cell::Null => ValRef::Null,
                Cell::Int(i) => ValRef::Int(i),
                Cell::Real(r) => ValRef::Real(r),
                Cell::Text(a, b) => ValRef::Text(&self.text[a as usize..b as usize]),
            })
    }
}

/// A stored form definition.
#[derive(Clone, Debug)]
pub struct FormRow {
    pub id: String,
    pub version: String,
    pub hash: String,
    pub source: String,
}

/// A stored submission's envelope.
#[derive(Clone, Debug, Default)]
pub struct SubmissionRow {
    pub instance_id: String,
    pub form_id: String,
    pub form_version: String,
    pub form_hash: String,
    pub content_sha256: String,
    pub status: String,
    pub started_at: String,
    pub updated_at: String,
    pub finalized_at: Option<String>,
    pub device_id: String,
    pub surveyor: String,
    pub deprecated_id: Option<String>,
    pub bundle_sha256: String,
}

/// A bundle as recorded once ingested.
#[derive(Clone, Debug, Default)]
pub struct BundleRow {
    pub sha256: String,
    pub file_name: String,
    pub form_id: String,
    pub form_version: String,
    pub device_id: String,
    pub created_at: String,
    pub new: u64,
    pub duplicate: u64,
    pub conflict: u64,
    pub rejected: u64,
}

/// What ingest, export and report need from a database. Every write happens between `begin` and
/// `commit`; `rollback` leaves the database as it was before `begin`, tables and columns included.
pub trait Store {
    /// Tunes the connection for one long bulk load (SQLite: WAL, a big cache).
    fn bulk_mode(&mut self) -> Result<(), CliError>;
    fn begin(&mut self) -> Result<(), CliError>;
    fn commit(&mut self) -> Result<(), CliError>;
    fn rollback(&mut self) -> Result<(), CliError>;
    /// Creates the table, or adds the columns it lacks (and makes text a column whose type differs).
    fn ensure_table(&mut self, spec: &TableSpec) -> Result<(), CliError>;
    /// Stores a form definition unless one with the same hash is there.
    fn add_form(&mut self, form: &FormRow) -> Result<(), CliError>;
    fn forms(&mut self) -> Result<Vec<FormRow>, CliError>;
    /// The hashes of the stored definitions of one form version (normally one).
    fn form_hashes(&mut self, form_id: &str, version: &str) -> Result<Vec<String>, CliError>;
    /// The content hash of a stored submission.
    fn content_hash(&mut self, instance_id: &str) -> Result<Option<String>, CliError>;
    /// Stores a submission's envelope unless its `instance_id` is stored already; whether it was
    /// stored (ingest then tells a duplicate from a conflict with [`Store::content_hash`]).
    fn add_submission(&mut self, row: &SubmissionRow) -> Result<bool, CliError>;
    /// [`Store::add_submission`] for rows with distinct `instance_id`s, in order: whether each was
    /// stored (an engine may batch them).
    fn add_submissions(&mut self, rows: &[&SubmissionRow]) -> Result<Vec<bool>, CliError> {
        rows.iter().map(|r| self.add_submission(r)).collect()
    }
    fn add_bundle(&mut self, row: &BundleRow) -> Result<(), CliError>;
    fn add_attachment(
        &mut self,
        instance_id: &str,
        file: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(), CliError>;
    /// Stores attachments `(instance_id, file, sha256, bytes)` in order, as
    /// [`Store::add_attachment`] does one by one (an engine may batch them).
    fn add_attachments(&mut self, items: &[(&str, &str, &str, &[u8])]) -> Result<(), CliError> {
        for (id, file, sha, bytes) in items {
            self.add_attachment(id, file, sha, bytes)?;
        }
        Ok(())
    }
    /// Appends one row; `columns` and `values` have the same length and the columns exist.
    fn insert(&mut self, table: &str, columns: &[String], values: &[Val]) -> Result<(), CliError>;
    /// Appends rows in order, as [`Store::insert`] does one by one (an engine may batch them).
    fn insert_rows(
        &mut self,
        table: &str,
        columns: &[String],
        rows: &Rows,
    ) -> Result<(), CliError> {
        let mut vals = Vec::with_capacity(rows.width());
        for i in 0..rows.len() {
            vals.clear();
            vals.extend(rows.row(i).map(ValRef::to_val));
            self.insert(table, columns, &vals)?;
        }
        Ok(())
    }
    /// The tables of the database (data tables and `doorstep_*` tables).
    fn tables(&mut self) -> Result<Vec<String>, CliError>;
    /// The columns of a table, in order.
    fn columns(&mut self, table: &str) -> Result<Vec<String>, CliError>;
    /// Calls `row` for every row of `table` (the given columns, in storage order).
    fn scan(
        &mut self,
        table: &str,
        columns: &[String],
        row: &mut dyn FnMut(&[Val]) -> Result<(), CliError>,
    ) -> Result<(), CliError>;
}

/// The submissions replaced by a correction: every stored `deprecated_id` (an interview edited on
/// the phone after it was finalized comes again with a new `instance_id` and the old one there).
/// Export and report leave them out, so that a corrected household counts once; they stay in the
/// database.
pub fn replaced(store: &mut dyn Store) -> Result<std::collections::HashSet<String>, CliError> {
    let mut out = std::collections::HashSet::new();
    store.scan(
        "doorstep_submissions",
        &["deprecated_id".to_string()],
        &mut |v| {
            if let Some(Val::Text(id)) = v.first() {
                out.insert(id.clone());
            }
            Ok(())
        },
    )?;
    Ok(out)
}

/// Opens the database named by `--db`: a `postgres://` or `postgresql://` URL, else a SQLite file.
pub fn open(db: &str) -> Result<Box<dyn Store>, CliError> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        Ok(Box::new(postgres::Pg::open(db)?))
    } else {
        Ok(Box::new(sqlite::Sqlite::open(std::path::Path::new(db))?))
    }
}

/// Opens an existing database only to read it (export, report): nothing is created or changed,
/// and a missing SQLite file, or one that is not a Doorstep database, is an error.
pub fn open_existing(db: &str) -> Result<Box<dyn Store>, CliError> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        return Ok(Box::new(postgres::Pg::open_existing(db)?));
    }
    let path = std::path::Path::new(db);
    if !path.exists() {
        return Err(CliError::msg(format!(
            "database {db} does not exist; ingest bundles into it first with `doorstep ingest BUNDLE --db {db}`"
        )));
    }
    Ok(Box::new(sqlite::Sqlite::open_read_only(path)?))
}

/// `"name"` with inner quotes doubled: identifiers come from forms, so always quote them.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
