//! `doorstep export`: analysis tables from the office database, for spreadsheets and statistics
//! programs, with a codebook that says what every column is.
//!
//! One table per form and per repeat (the database's data tables), in CSV (UTF-8 with a byte-order
//! mark, so spreadsheet programs read Chinese) or XLSX (one workbook per form, one sheet per table).
//! Beside each select column comes `<column>/label`: the chosen choices' labels in `--lang` (several
//! joined by `; `), and beside a calculate named like a choice list (`care_categories`), whose values
//! are that list's codes. The codebook lists every column: table, question text, type, choices. A
//! column no question asks says what it holds: a calculate its label, else its hint, else
//! "calculated: <expression>"; metadata and the linking columns (`instance_id`, `key`, ...) a short
//! explanation, in Chinese or English after `--lang`.
//!
//! Labels come from the form definitions stored in the database (`doorstep_forms`); when versions
//! differ, the newest version that has the item gives its text.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};
use doorstep_core::form::compiled::{Form, Item};
use doorstep_core::form::model::{Choice, ItemType};

use crate::db::{self, Store, Val};
use crate::{CliError, Outcome};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
}

#[derive(Parser)]
pub struct Args {
    /// A SQLite file or a `postgres://` URL.
    #[arg(long, default_value = "office.db")]
    pub db: String,
    /// The folder to write into (made when missing).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// The language of labels (a tag of the forms' `languages`; default: each form's first).
    #[arg(long)]
    pub lang: Option<String>,
}

/// What the codebook and the label columns know about one column.
#[derive(Clone, Debug)]
pub struct ColumnInfo {
    /// The question's label; for a column no question asks, what it holds (see [`question`]).
    pub question: String,
    pub kind: String,
    /// `(value, label)` in list order: a select's list, or the list a calculate is named after;
    /// empty for other items. A column with choices gets a label column.
    pub choices: Vec<(String, String)>,
    /// Values are space-joined codes (a select_multiple, or a calculate with a list: a choice
    /// value has no white space, so a single code reads the same).
    pub multiple: bool,
}

/// Whether our own words (not the form's) are written in Chinese for `lang`.
fn chinese(lang: &str) -> bool {
    lang.starts_with("zh")
}

/// The choice list whose codes a column's values are: a select's list, or, for a calculate, the
/// list named like the calculate (household_needs' `care_categories` computes codes of the list
/// `care_categories`; the report labels it the same way).
fn list_of<'f>(form: &'f Form, item: &Item) -> Option<&'f [Choice]> {
    match item.kind {
        ItemType::SelectOne | ItemType::SelectMultiple => Some(form.choices_of(item)),
        ItemType::Calculate => form.doc.choices.get(&item.name).map(Vec::as_slice),
        _ => None,
    }
}

/// The codebook's question for an item: its label; for an item without one, its hint, or what it
/// holds in our words: a calculate's expression, what the app fills a metadata item with, a hidden
/// item's fixed value.
pub fn question(form: &Form, item: &Item, lang: &str) -> String {
    let dl = form.default_language();
    let label = item.label(lang, dl);
    if !label.trim().is_empty() {
        return label.to_string();
    }
    let hint = item.doc.hint.as_ref().map_or("", |h| h.get(lang, dl));
    if !hint.trim().is_empty() {
        return hint.to_string();
    }
    let zh = chinese(lang);
    let t = |z: &str, e: &str| if zh { z } else { e }.to_string();
    if let Some(c) = &item.doc.calculation {
        return if zh {
            format!("计算值：{c}")
        } else {
            format!("calculated: {c}")
        };
    }
    match item.kind {
        ItemType::Start => t(
            "由应用填写：调查开始的时间",
            "filled in by the app: when the interview started",
        ),
        ItemType::End => t(
            "由应用填写：调查最后一次完成的时间",
            "filled in by the app: when the interview was last finalized",
        ),
        ItemType::Today => t(
            "由应用填写：调查开始那天的日期",
            "filled in by the app: the day the interview started",
        ),
        ItemType::Deviceid => t(
            "由应用填写：手机或平板的设备编号",
            "filled in by the app: the id of the phone or tablet",
        ),
        ItemType::Username => t(
            "由应用填写：手机上设置的调查员姓名",
            "filled in by the app: the surveyor's name as set on the phone",
        ),
        ItemType::Hidden => {
            let v = item
                .doc
                .default
                .as_ref()
                .map_or(String::new(), |d| match d {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
            if zh {
                format!("隐藏字段，固定值：{v}")
            } else {
                format!("hidden, a fixed value: {v}")
            }
        }
        _ => String::new(),
    }
}

/// What a linking column of a data table holds (`db::ROOT_FIXED`, `db::REPEAT_FIXED`): in the
/// submissions table of `form` (`roster` is `None`) or in the table of the repeat `roster`.
pub fn fixed_meaning(column: &str, roster: Option<&Item>, form: &Form, lang: &str) -> String {
    let zh = chinese(lang);
    let form_id = &form.id;
    let has_rosters = form.items.iter().any(|i| i.kind == ItemType::Repeat);
    let Some(roster) = roster else {
        return match (column, zh) {
            ("instance_id", false) if has_rosters => {
                "the interview's own id (uuid:…), one per interview; its roster rows carry it too"
                    .to_string()
            }
            ("instance_id", false) => {
                "the interview's own id (uuid:…), one per interview".to_string()
            }
            ("instance_id", true) if has_rosters => {
                "本次调查的编号（uuid:…），每份调查一个；其子表各行也记有它".to_string()
            }
            ("instance_id", true) => "本次调查的编号（uuid:…），每份调查一个".to_string(),
            ("form_version", false) => {
                "the version of the form the interview was filled in with".to_string()
            }
            ("form_version", true) => "填写本次调查所用表单的版本".to_string(),
            _ => String::new(),
        };
    };
    let name = &roster.name;
    // A roster inside a roster: its rows belong to a row of the enclosing one.
    let outer = roster.repeat.map(|r| form.item(r).name.as_str());
    match (column, zh) {
        ("key", false) => match outer {
            None => format!(
                "this row's own id: the interview's instance_id and the row's place, as in uuid:…/{name}[2]"
            ),
            Some(o) => format!(
                "this row's own id: the key of its {o} row and the row's place, as in uuid:…/{o}[1]/{name}[2]"
            ),
        },
        ("key", true) => match outer {
            None => format!("本行的编号：调查的 instance_id 加本行的位置，如 uuid:…/{name}[2]"),
            Some(o) => {
                format!("本行的编号：所属 {o} 行的 key 加本行的位置，如 uuid:…/{o}[1]/{name}[2]")
            }
        },
        ("parent_key", false) => match outer {
            None => {
                format!("the interview this row belongs to: its instance_id in the table {form_id}")
            }
            Some(o) => format!("the row of {o} this row belongs to: its key in that table"),
        },
        ("parent_key", true) => match outer {
            None => format!("本行所属的调查：即表 {form_id} 中的 instance_id"),
            Some(o) => format!("本行所属的 {o} 行：即该表中的 key"),
        },
        ("instance_id", false) => {
            format!("the interview this row belongs to: its instance_id in the table {form_id}")
        }
        ("instance_id", true) => format!("本行所属调查的编号：即表 {form_id} 中的 instance_id"),
        ("position", false) => match outer {
            None => format!("the row's place among the interview's {name}, from 1"),
            Some(o) => format!("the row's place among its {o} row's {name}, from 1"),
        },
        ("position", true) => match outer {
            None => format!("本行在本次调查的 {name} 中的序号，从 1 开始"),
            Some(o) => format!("本行在所属 {o} 行的 {name} 中的序号，从 1 开始"),
        },
        _ => String::new(),
    }
}

/// Every form id in the database with its versions loaded, oldest first.
pub fn load_forms(store: &mut dyn Store) -> Result<BTreeMap<String, Vec<Form>>, CliError> {
    let mut out: BTreeMap<String, Vec<Form>> = BTreeMap::new();
    for row in store.forms()? {
        match doorstep_core::form::load(&row.source).form {
            Some(f) => out.entry(row.id.clone()).or_default().push(f),
            None => eprintln!(
                "warning: form `{}` version `{}` in the database does not load with this version of doorstep; its labels are left out",
                row.id, row.version
            ),
        }
    }
    for v in out.values_mut() {
        oldest_first(v);
    }
    Ok(out)
}

/// Orders one form's versions from the oldest to the newest, as their authors number them (`10`
/// after `9`), so that [`column_info`] ends with the newest version's texts.
fn oldest_first(versions: &mut [Form]) {
    versions.sort_by(|a, b| doorstep_core::form::compare_versions(&a.version, &b.version));
}

/// Column information by column name, for one table of a form: the newest version that has the
/// column gives its question, type and choices, and the choices only older versions have follow
/// with their labels (their answers are still in the table).
pub fn column_info(
    versions: &[Form],
    table: &str,
    lang: Option<&str>,
) -> HashMap<String, ColumnInfo> {
    let mut out: HashMap<String, ColumnInfo> = HashMap::new();
    for form in versions {
        let lang = lang.unwrap_or(form.default_language());
        for layout in db::Layout::of(form)
            .tables
            .iter()
            .filter(|t| t.table == table)
        {
            for (c, _) in &layout.fixed {
                out.insert(
                    c.to_string(),
                    ColumnInfo {
                        question: fixed_meaning(c, layout.repeat.map(|r| form.item(r)), form, lang),
                        kind: "key".to_string(),
                        choices: Vec::new(),
                        multiple: false,
                    },
                );
            }
            for f in &layout.fields {
                let item = form.item(f.item);
                let list = list_of(form, item);
                let mut choices: Vec<(String, String)> = list
                    .unwrap_or_default()
                    .iter()
                    .map(|c| {
                        (
                            c.value.clone(),
                            c.label.get(lang, form.default_language()).to_string(),
                        )
                    })
                    .collect();
                // A choice an older version offered and this one does not (removed, or renamed)
                // is still in that version's answers: it keeps its label, after this version's.
                if let Some(older) = out.get(&f.column) {
                    let extra: Vec<(String, String)> = older
                        .choices
                        .iter()
                        .filter(|(v, _)| !choices.iter().any(|(n, _)| n == v))
                        .cloned()
                        .collect();
                    choices.extend(extra);
                }
                out.insert(
                    f.column.clone(),
                    ColumnInfo {
                        question: question(form, item, lang),
                        kind: item.kind.as_str().to_string(),
                        choices,
                        multiple: item.kind == ItemType::SelectMultiple
                            || (item.kind == ItemType::Calculate && list.is_some()),
                    },
                );
            }
        }
    }
    out
}

/// The label(s) of a stored select value.
pub fn label_of(info: &ColumnInfo, v: &Val) -> String {
    let Some(s) = v.as_str() else {
        return String::new();
    };
    let one = |x: &str| {
        info.choices
            .iter()
            .find(|(c, _)| c == x)
            .map_or(x.to_string(), |(_, l)| l.clone())
    };
    if info.multiple {
        s.split_whitespace().map(one).collect::<Vec<_>>().join("; ")
    } else {
        one(s)
    }
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let mut store = db::open_existing(&args.db)?;
    let forms = load_forms(store.as_mut())?;
    if let Some(lang) = &args.lang {
        let known: std::collections::BTreeSet<&str> = forms
            .values()
            .flatten()
            .flat_map(|f| f.languages.iter().map(String::as_str))
            .collect();
        if !known.is_empty() && !known.contains(lang.as_str()) {
            return Err(CliError::msg(format!(
                "no form in the database has the language `{lang}`; --lang takes one of: {}",
                known.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    std::fs::create_dir_all(&args.out).map_err(|e| {
        CliError::msg(format!(
            "cannot make folder {}: {e}; check the path",
            args.out.display()
        ))
    })?;
    let all_tables = store.tables()?;
    let replaced = db::replaced(store.as_mut())?;
    let mut left_out = 0u64;
    let mut codebook: Vec<[String; 6]> = Vec::new();
    let mut total_rows = 0u64;
    let start = std::time::Instant::now();
    for (form_id, versions) in &forms {
        // The form's own tables, from its versions' layouts: not every table whose name starts
        // with `<form id>__`, which may be another form's (`hh__x` beside `hh`).
        let own: HashSet<String> = versions
            .iter()
            .flat_map(|f| db::Layout::of(f).tables.into_iter().map(|t| t.table))
            .collect();
        let tables: Vec<&String> = all_tables.iter().filter(|t| own.contains(*t)).collect();
        let mut book = match args.format {
            Format::Xlsx => Some(rust_xlsxwriter::Workbook::new()),
            Format::Csv => None,
        };
        // The codebook's sheet has its name first; each table's sheet gets a name of its own.
        let mut used_names: HashSet<String> = HashSet::from(["codebook".to_string()]);
        // The language of the codebook's own words for this form.
        let lang = args.lang.clone().unwrap_or_else(|| {
            versions
                .last()
                .map_or("", |f| f.default_language())
                .to_string()
        });
        for table in tables {
            let sheet = book
                .as_ref()
                .map(|_| sheet_name(table, form_id, &mut used_names));
            let columns = store.columns(table)?;
            let info = column_info(versions, table, args.lang.as_deref());
            let listed = |choices: &[(String, String)]| {
                choices
                    .iter()
                    .map(|(v, l)| format!("{v}={l}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            for c in &columns {
                let (q, k, ch) = match info.get(c) {
                    // Codes the form has no list for, which the report names (household_needs'
                    // `urgency`): the codebook says what they are, and where the names come from.
                    Some(i)
                        if i.choices.is_empty()
                            && let Some(codes) =
                                crate::report::known_codes(&forms, form_id, table, c, &lang) =>
                    {
                        let why = if chinese(&lang) {
                            "（表单没有这些代码的选项表：choices 栏是报告对它们的称呼）"
                        } else {
                            " (the form has no choice list for these codes: choices are the names the report gives them)"
                        };
                        (
                            format!("{}{why}", i.question),
                            i.kind.clone(),
                            listed(&codes),
                        )
                    }
                    Some(i) => (i.question.clone(), i.kind.clone(), listed(&i.choices)),
                    None => (String::new(), "key".to_string(), String::new()),
                };
                // In a workbook, the codebook names the sheet that holds the table.
                let place = sheet.clone().unwrap_or_else(|| table.clone());
                codebook.push([form_id.clone(), place, c.clone(), q, k, ch]);
            }
            let mut header = Vec::new();
            let mut label_at: Vec<Option<&ColumnInfo>> = Vec::new();
            for c in &columns {
                header.push(c.clone());
                label_at.push(None);
                if let Some(i) = info.get(c).filter(|i| !i.choices.is_empty()) {
                    header.push(format!("{c}/label"));
                    label_at.push(Some(i));
                }
            }
            let keep = Keep {
                id_at: columns.iter().position(|c| c == "instance_id"),
                replaced: &replaced,
                left_out: 0,
            };
            let source = Source {
                table,
                columns: &columns,
                header: &header,
                info: &info,
                keep,
            };
            // `codebook.csv` is the codebook: a form called `codebook` has its table beside it
            // under a name no table can have (a space is not in any identifier).
            let file = if table.eq_ignore_ascii_case("codebook") {
                format!("{table} (form).csv")
            } else {
                format!("{table}.csv")
            };
            let (rows, left) = match &mut book {
                None => write_csv(store.as_mut(), &args.out.join(&file), source)?,
                Some(b) => {
                    write_sheet(store.as_mut(), b, sheet.as_deref().unwrap_or(table), source)?
                }
            };
            total_rows += rows;
            left_out += left;
            // A table whose name does not fit a sheet's says which sheet it is in.
            let shown = match sheet.as_deref() {
                Some(s) if s != table => format!("{table} (sheet {s})"),
                None if file != format!("{table}.csv") => format!("{table} (file {file})"),
                _ => table.clone(),
            };
            if left > 0 {
                say!(
                    "{shown}: {rows} rows ({left} of submissions replaced by a correction left out)"
                );
            } else {
                say!("{shown}: {rows} rows");
            }
        }
        if let Some(mut b) = book {
            let path = args.out.join(format!("{form_id}.xlsx"));
            let sheet = b.add_worksheet();
            sheet.set_name("codebook").map_err(xerr)?;
            write_codebook_sheet(sheet, codebook.iter().filter(|r| &r[0] == form_id))?;
            b.save(&path)
                .map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
        }
    }
    if let Format::Csv = args.format {
        let path = args.out.join("codebook.csv");
        let mut w = csv_file(&path)?;
        write_record(
            &mut w,
            ["form", "table", "column", "question", "type", "choices"]
                .iter()
                .map(|s| s.to_string()),
        )
        .map_err(|e| io(&path, e))?;
        for r in &codebook {
            write_record(&mut w, r.iter().cloned()).map_err(|e| io(&path, e))?;
        }
        w.flush().map_err(|e| io(&path, e))?;
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "exported {total_rows} rows in {secs:.2} s ({:.0} rows/s)",
        total_rows as f64 / secs.max(1e-9)
    );
    if left_out > 0 {
        eprintln!(
            "left out {left_out} rows of {} submissions replaced by a correction (each correction is exported in its place; both stay in the database)",
            replaced.len()
        );
    }
    Ok(Outcome::Clean)
}

fn io(path: &Path, e: std::io::Error) -> CliError {
    CliError::msg(format!("cannot write {}: {e}", path.display()))
}

fn xerr(e: rust_xlsxwriter::XlsxError) -> CliError {
    CliError::msg(format!("cannot write the workbook: {e}"))
}

fn csv_file(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, CliError> {
    let f = std::fs::File::create(path).map_err(|e| io(path, e))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    w.write_all("\u{feff}".as_bytes())
        .map_err(|e| io(path, e))?;
    Ok(w)
}

/// One CSV field: quoted when it holds `"`, `,`, CR or LF (RFC 4180); text that a spreadsheet would
/// run as a formula gets a leading `'` (as the bundle's tables do).
fn push_field(out: &mut String, s: &str) {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    let needs_quotes = s.contains(['"', ',', '\r', '\n']);
    if needs_quotes {
        out.push('"');
    }
    if risky {
        out.push('\'');
    }
    if needs_quotes {
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn write_record(w: &mut impl Write, fields: impl Iterator<Item = String>) -> std::io::Result<()> {
    let mut line = String::new();
    for (i, f) in fields.enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_field(&mut line, &f);
    }
    line.push_str("\r\n");
    w.write_all(line.as_bytes())
}

/// Which rows a table's export leaves out: those of submissions replaced by a correction
/// (`db::replaced`), told by the row's `instance_id` (at `id_at`).
struct Keep<'a> {
    id_at: Option<usize>,
    replaced: &'a std::collections::HashSet<String>,
    left_out: u64,
}

impl Keep<'_> {
    fn keeps(&mut self, vals: &[Val]) -> bool {
        let out = matches!(self.id_at.map(|i| &vals[i]), Some(Val::Text(id)) if self.replaced.contains(id));
        self.left_out += u64::from(out);
        !out
    }
}

/// Writes a table's CSV; the rows written and the rows left out.
/// A table as it is exported: its columns, the header (with a label column after each coded
/// one), what the columns mean, and the rows left out.
struct Source<'a> {
    table: &'a str,
    columns: &'a [String],
    header: &'a [String],
    info: &'a HashMap<String, ColumnInfo>,
    keep: Keep<'a>,
}

fn write_csv(store: &mut dyn Store, path: &Path, src: Source<'_>) -> Result<(u64, u64), CliError> {
    let Source {
        table,
        columns,
        header,
        info,
        mut keep,
    } = src;
    let mut w = csv_file(path)?;
    write_record(&mut w, header.iter().cloned()).map_err(|e| io(path, e))?;
    let labels: Vec<Option<&ColumnInfo>> = columns
        .iter()
        .map(|c| info.get(c).filter(|i| !i.choices.is_empty()))
        .collect();
    let mut rows = 0u64;
    let mut line = String::with_capacity(4096);
    store.scan(table, columns, &mut |vals| {
        if !keep.keeps(vals) {
            return Ok(());
        }
        line.clear();
        for (i, v) in vals.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            match v {
                Val::Null => {}
                Val::Int(x) => line.push_str(&x.to_string()),
                Val::Real(x) => line.push_str(&x.to_string()),
                Val::Text(s) => push_field(&mut line, s),
            }
            if let Some(inf) = labels[i] {
                line.push(',');
                push_field(&mut line, &label_of(inf, v));
            }
        }
        line.push_str("\r\n");
        rows += 1;
        w.write_all(line.as_bytes()).map_err(|e| io(path, e))
    })?;
    w.flush().map_err(|e| io(path, e))?;
    Ok((rows, keep.left_out))
}

/// Excel's limit on a sheet name, in characters.
const SHEET_NAME_MAX: usize = 31;

/// The sheet of `table` in its form's workbook: the table's name when it fits in 31 characters,
/// else a roster's own name (`members` for `household_needs_assessment_2024__members`), else the
/// name cut short with `~2`, `~3`, ... Names already in `used` (lower case: Excel ignores case)
/// are skipped, so that two long names with the same first 31 characters do not make the
/// workbook unwritable; the name taken is added to `used`.
fn sheet_name(table: &str, form_id: &str, used: &mut HashSet<String>) -> String {
    let fits = |n: &str| n.chars().count() <= SHEET_NAME_MAX && !used.contains(&n.to_lowercase());
    let roster = table
        .strip_prefix(form_id)
        .and_then(|r| r.strip_prefix("__"))
        .filter(|r| !r.is_empty());
    let name = if fits(table) {
        table.to_string()
    } else if let Some(r) = roster.filter(|r| fits(r)) {
        r.to_string()
    } else {
        (2..)
            .map(|i| {
                let suffix = format!("~{i}");
                let keep = SHEET_NAME_MAX - suffix.len();
                format!("{}{suffix}", table.chars().take(keep).collect::<String>())
            })
            .find(|n| fits(n))
            .unwrap_or_default()
    };
    used.insert(name.to_lowercase());
    name
}

fn write_sheet(
    store: &mut dyn Store,
    book: &mut rust_xlsxwriter::Workbook,
    name: &str,
    src: Source<'_>,
) -> Result<(u64, u64), CliError> {
    let Source {
        table,
        columns,
        header,
        info,
        mut keep,
    } = src;
    let sheet = book.add_worksheet();
    sheet.set_name(name).map_err(xerr)?;
    for (i, h) in header.iter().enumerate() {
        sheet.write_string(0, i as u16, h).map_err(xerr)?;
    }
    let labels: Vec<Option<&ColumnInfo>> = columns
        .iter()
        .map(|c| info.get(c).filter(|i| !i.choices.is_empty()))
        .collect();
    let mut r = 0u32;
    let mut cut = 0u64;
    store.scan(table, columns, &mut |vals| {
        if !keep.keeps(vals) {
            return Ok(());
        }
        r += 1;
        if r >= 1_048_576 {
            return Err(CliError::msg(format!("table {table} has more rows than an Excel sheet holds (1,048,575); export it as CSV")));
        }
        let mut c = 0u16;
        for (i, v) in vals.iter().enumerate() {
            match v {
                Val::Null => {}
                Val::Int(x) => {
                    sheet.write_number(r, c, *x as f64).map_err(xerr)?;
                }
                Val::Real(x) => {
                    sheet.write_number(r, c, *x).map_err(xerr)?;
                }
                Val::Text(s) => {
                    let (text, was_cut) = fit_cell(s);
                    cut += u64::from(was_cut);
                    sheet.write_string(r, c, text.as_ref()).map_err(xerr)?;
                }
            }
            c += 1;
            if let Some(inf) = labels[i] {
                let l = label_of(inf, v);
                if !l.is_empty() {
                    sheet.write_string(r, c, &l).map_err(xerr)?;
                }
                c += 1;
            }
        }
        Ok(())
    })?;
    if cut > 0 {
        eprintln!(
            "warning: {table}: {cut} answer(s) longer than an Excel cell holds (32,767 characters) were cut in the workbook; the CSV export has them whole"
        );
    }
    Ok((u64::from(r), keep.left_out))
}

/// Excel's limit on a cell's text, in UTF-16 units.
const CELL_MAX: usize = 32_767;

/// A text as an Excel cell holds it: whole when it fits, else cut with a note saying so (a long
/// answer must not make the whole workbook unwritable); and whether it was cut.
fn fit_cell(s: &str) -> (std::borrow::Cow<'_, str>, bool) {
    if s.len() <= CELL_MAX || s.encode_utf16().count() <= CELL_MAX {
        return (s.into(), false);
    }
    let all = s.chars().count();
    let note = format!(" …[cut: {all} characters in all, whole in the CSV export]");
    let room = CELL_MAX - note.encode_utf16().count();
    let mut used = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if used + c.len_utf16() > room {
            break;
        }
        used += c.len_utf16();
        end = i + c.len_utf8();
    }
    (format!("{}{note}", &s[..end]).into(), true)
}

fn write_codebook_sheet<'a>(
    sheet: &mut rust_xlsxwriter::Worksheet,
    rows: impl Iterator<Item = &'a [String; 6]>,
) -> Result<(), CliError> {
    for (i, h) in ["form", "sheet", "column", "question", "type", "choices"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, i as u16, *h).map_err(xerr)?;
    }
    for (r, row) in rows.enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet
                .write_string(r as u32 + 1, c as u16, v)
                .map_err(xerr)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_longer_than_a_cell_is_cut_with_a_note() {
        assert_eq!(fit_cell("短"), ("短".into(), false));
        let long = "长".repeat(40_000);
        let (cell, cut) = fit_cell(&long);
        assert!(cut);
        assert!(cell.encode_utf16().count() <= CELL_MAX);
        assert!(cell.starts_with("长长长"));
        assert!(cell.ends_with("[cut: 40000 characters in all, whole in the CSV export]"));
        // Characters outside the BMP count twice in UTF-16, as Excel counts them.
        let emoji = "😀".repeat(20_000);
        let (cell, cut) = fit_cell(&emoji);
        assert!(cut && cell.encode_utf16().count() <= CELL_MAX);
    }

    fn form(version: &str, label: &str) -> Form {
        let src = format!(
            r#"{{"format": "doorstep-form/1", "id": "f", "version": "{version}", "title": "F", "languages": ["en"],
                "items": [{{"type": "text", "name": "a", "label": "{label}"}}]}}"#
        );
        doorstep_core::form::load(&src)
            .form
            .expect("the test form loads")
    }

    #[test]
    fn labels_come_from_the_newest_version_by_number() {
        let mut versions = vec![form("10", "newest"), form("9", "older")];
        oldest_first(&mut versions);
        let table = db::Layout::of(&versions[1]).tables[0].table.clone();
        let info = column_info(&versions, &table, None);
        assert_eq!(info["a"].question, "newest", "version 10 is newer than 9");
    }

    fn select_form(version: &str, choices: &str) -> Form {
        let src = format!(
            r#"{{"format": "doorstep-form/1", "id": "f", "version": "{version}", "title": "F", "languages": ["en"],
                "choices": {{"help": [{choices}]}},
                "items": [{{"type": "select_multiple", "name": "help", "label": "Help", "choices": "help"}}]}}"#
        );
        doorstep_core::form::load(&src)
            .form
            .expect("the test form loads")
    }

    #[test]
    fn a_choice_only_an_older_version_offers_keeps_its_label() {
        let mut versions = vec![
            select_form(
                "2",
                r#"{"value": "loan", "label": "Loan (new)"}, {"value": "visit", "label": "Visit"}"#,
            ),
            select_form(
                "1",
                r#"{"value": "insurance", "label": "Insurance"}, {"value": "loan", "label": "Loan"}"#,
            ),
        ];
        oldest_first(&mut versions);
        let info = &column_info(&versions, "f", None)["help"];
        assert_eq!(
            info.choices,
            [
                ("loan", "Loan (new)"),
                ("visit", "Visit"),
                ("insurance", "Insurance")
            ]
            .map(|(v, l)| (v.to_string(), l.to_string()))
        );
        assert_eq!(
            label_of(info, &Val::Text("insurance loan".into())),
            "Insurance; Loan (new)"
        );
    }

    /// A column no question asks says what it holds: a calculate its label, else its hint, else
    /// its expression; the app's metadata and a hidden value what they are; the linking columns
    /// of a roster inside a roster name the enclosing roster. Our words follow the language.
    #[test]
    fn columns_without_a_question_say_what_they_hold() {
        let src = r#"{"format": "doorstep-form/1", "id": "f", "version": "1", "title": "F", "languages": ["zh-CN", "en"],
            "choices": {"help": [{"value": "loan", "label": {"zh-CN": "贷款", "en": "Loan"}},
                                 {"value": "visit", "label": {"zh-CN": "走访", "en": "Visit"}}]},
            "items": [
              {"type": "username", "name": "who"},
              {"type": "hidden", "name": "round", "default": "2026-1"},
              {"type": "integer", "name": "n", "label": {"zh-CN": "人数", "en": "People"}},
              {"type": "calculate", "name": "twice", "calculation": "${n} * 2",
               "label": {"zh-CN": "人数的两倍", "en": "Twice the people"}},
              {"type": "calculate", "name": "half", "calculation": "${n} div 2", "hint": {"zh-CN": "一半", "en": "Half of them"}},
              {"type": "calculate", "name": "help", "calculation": "if(${n} > 2, 'loan visit', 'visit')"},
              {"type": "calculate", "name": "other", "calculation": "if(${n} > 2, 'loan', '')"},
              {"type": "repeat", "name": "homes", "label": "Homes", "items": [
                {"type": "repeat", "name": "rooms", "label": "Rooms", "items": [
                  {"type": "text", "name": "use", "label": "Use"}]}]}]}"#;
        let versions = vec![
            doorstep_core::form::load(src)
                .form
                .expect("the test form loads"),
        ];
        let en = column_info(&versions, "f", Some("en"));
        let zh = column_info(&versions, "f", None);
        let q = |info: &HashMap<String, ColumnInfo>, c: &str| info[c].question.clone();
        assert_eq!(q(&en, "n"), "People");
        assert_eq!(q(&en, "twice"), "Twice the people");
        assert_eq!(q(&zh, "twice"), "人数的两倍");
        assert_eq!(q(&en, "half"), "Half of them");
        assert_eq!(q(&en, "other"), "calculated: if(${n} > 2, 'loan', '')");
        assert_eq!(q(&zh, "other"), "计算值：if(${n} > 2, 'loan', '')");
        assert_eq!(
            q(&en, "who"),
            "filled in by the app: the surveyor's name as set on the phone"
        );
        assert_eq!(q(&zh, "who"), "由应用填写：手机上设置的调查员姓名");
        assert_eq!(q(&en, "round"), "hidden, a fixed value: 2026-1");
        assert_eq!(
            q(&en, "form_version"),
            "the version of the form the interview was filled in with"
        );
        // A calculate named like a choice list holds that list's codes; one that is not, none.
        let help = &en["help"];
        assert_eq!(
            help.choices,
            [("loan", "Loan"), ("visit", "Visit")].map(|(v, l)| (v.to_string(), l.to_string()))
        );
        assert_eq!(
            label_of(help, &Val::Text("loan visit".into())),
            "Loan; Visit"
        );
        assert_eq!(label_of(&zh["help"], &Val::Text("visit".into())), "走访");
        assert!(en["other"].choices.is_empty());
        let rooms = column_info(&versions, "f__rooms", Some("en"));
        assert_eq!(
            q(&rooms, "parent_key"),
            "the row of homes this row belongs to: its key in that table"
        );
        assert_eq!(
            q(&rooms, "key"),
            "this row's own id: the key of its homes row and the row's place, as in uuid:…/homes[1]/rooms[2]"
        );
        assert_eq!(
            q(&rooms, "position"),
            "the row's place among its homes row's rooms, from 1"
        );
        assert_eq!(
            q(&rooms, "instance_id"),
            "the interview this row belongs to: its instance_id in the table f"
        );
        let homes = column_info(&versions, "f__homes", None);
        assert_eq!(
            q(&homes, "parent_key"),
            "本行所属的调查：即表 f 中的 instance_id"
        );
    }

    #[test]
    fn sheet_names_are_unique_and_fit() {
        let mut used = HashSet::from(["codebook".to_string()]);
        let id = "a_form_id_of_exactly_31_letters";
        let mut name = |t: &str| sheet_name(t, id, &mut used);
        assert_eq!(name(id), id);
        assert_eq!(name(&format!("{id}__members")), "members");
        // A roster whose own name is too long, or already a sheet's, is cut short and numbered.
        let long = format!("{id}__{}", "x".repeat(40));
        assert_eq!(name(&long), format!("{}~2", &id[..29]));
        assert_eq!(name(&format!("{id}__codebook")), format!("{}~3", &id[..29]));
        assert_eq!(name("short__Members"), "short__Members");
    }
}
