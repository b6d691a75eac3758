//! The conversion: settings, languages, choices and survey sheets into a `FormDoc`, then the
//! engine's checks on the result, with every engine diagnostic placed back in the spreadsheet.
//!
//! The converter keeps, for every item and choice it writes, the row it came from, and for every
//! JSON key the column it came from, so that a problem the engine finds at
//! `items[3].items[0].constraint` is reported at `survey row 12, column F (constraint)`.

use std::collections::{BTreeMap, HashMap, HashSet};

use doorstep_core::form::model::{
    self, Choice, Count, FormDoc, ItemDoc, ItemType, Navigation, RangeParams, Settings, Text,
};
use doorstep_core::form::{self, Diagnostic, is_identifier, piped_names};
use serde_json::Value;

use crate::external::{self, ExternalFiles, Table};
use crate::header::{Column, Header, looks_like_tag, split_lang, tag_for_name};
use crate::problem::{ColumnRef, Place, Problem, Severity};
use crate::types::{TypeSpec, parse_type};
use crate::values::{self, Default};
use crate::workbook::{Row, Sheet, Workbook, column_letter};

/// The result of converting a workbook.
#[derive(Debug)]
pub struct Conversion {
    /// The converted form; `None` when there was nothing to convert (no survey sheet).
    pub doc: Option<FormDoc>,
    /// The form as pretty-printed JSON, as `doorstep convert` writes it.
    pub json: Option<String>,
    /// Every problem, errors first, in spreadsheet order.
    pub problems: Vec<Problem>,
}

impl Conversion {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.is_error())
    }
}

/// Survey columns that become keys of an item.
const SURVEY_COLUMNS: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "relevant",
    "required",
    "required_message",
    "constraint",
    "constraint_message",
    "read_only",
    "default",
    "calculation",
    "appearance",
    "choice_filter",
    "repeat_count",
    "parameters",
    "disabled",
];
/// Columns whose text is translated (`label::Chinese (zh-CN)`).
const TEXT_COLUMNS: &[&str] = &[
    "label",
    "hint",
    "constraint_message",
    "required_message",
    "form_title",
];
/// Survey columns that may read other fields (`${x}`), checked for reads of dropped metadata.
const READING_COLUMNS: &[&str] = &[
    "label",
    "hint",
    "relevant",
    "required",
    "required_message",
    "constraint",
    "constraint_message",
    "read_only",
    "default",
    "calculation",
    "choice_filter",
    "repeat_count",
];

fn survey_alias(h: &str) -> &str {
    match h {
        "jr:constraintmsg" | "constraint message" | "constraint_msg" => "constraint_message",
        "jr:requiredmsg" | "required message" => "required_message",
        "jr:count" | "repeat count" | "count" => "repeat_count",
        "readonly" | "read only" | "bind::readonly" => "read_only",
        "relevance" | "bind::relevant" => "relevant",
        "bind::constraint" => "constraint",
        "bind::required" => "required",
        "bind::calculate" => "calculation",
        "choice filter" => "choice_filter",
        "caption" => "label",
        "control::appearance" => "appearance",
        "default value" => "default",
        other => other,
    }
}

fn choices_alias(h: &str) -> &str {
    match h {
        "list name" | "list_name" => "list_name",
        "value" => "name",
        other => other,
    }
}

fn settings_alias(h: &str) -> &str {
    match h {
        "form title" | "title" => "form_title",
        "form id" | "id_string" => "form_id",
        "default language" => "default_language",
        "instance name" => "instance_name",
        other => other,
    }
}

/// Why a known but unconverted column is not converted, for its warning.
fn not_converted_reason(field: &str) -> &'static str {
    match field {
        "guidance_hint" => {
            "guidance hints are not part of Doorstep forms: move the text into the hint if surveyors need it"
        }
        "image" | "audio" | "video" | "big-image" => {
            "media in labels is not carried over: describe the picture in the label"
        }
        f if f.starts_with("media::") => {
            "media in labels is not carried over: describe the picture in the label"
        }
        f if f.starts_with("bind::") || f.starts_with("body::") || f.starts_with("instance::") => {
            "XForm attributes are not part of Doorstep forms"
        }
        "trigger" => {
            "recalculation triggers are not supported: Doorstep recomputes calculations when their inputs change"
        }
        "autoplay" | "note" | "comments" | "comment" => "it is not part of Doorstep forms",
        _ => GENERIC_REASON,
    }
}

/// Why a column that Doorstep does not know is not converted.
const GENERIC_REASON: &str = "it is not an XLSForm column that Doorstep converts";

/// One item while the survey sheet is read: its row and its children.
struct Node {
    doc: ItemDoc,
    row: usize,
    children: Vec<Node>,
}

/// A group or repeat whose `end` row has not come yet.
struct Open {
    node: Node,
    repeat: bool,
}

/// A table of choices from a sheet or a file, its columns resolved to XLSForm names and languages.
struct ChoiceTable {
    source: String,
    is_file: bool,
    columns: Vec<Column>,
    rows: Vec<(usize, Vec<String>)>,
}

/// One converted choice list: the choices and where each came from.
#[derive(Clone)]
struct ListSource {
    /// Place of each choice, by index.
    places: Vec<Place>,
    /// Column of each JSON key of a choice (`value`, `label`, `label.en`, attribute names).
    columns: HashMap<String, ColumnRef>,
}

struct Converter<'a> {
    wb: &'a Workbook,
    files: &'a dyn ExternalFiles,
    problems: Vec<Problem>,
    /// The form's languages, the default first.
    langs: Vec<String>,
    /// Where each language was met (for problems at `languages[i]`).
    lang_places: Vec<Place>,
    survey: Option<Header>,
    settings: Option<(Header, Option<Row>)>,
    choices: BTreeMap<String, Vec<Choice>>,
    lists: HashMap<String, ListSource>,
    /// Lists of the `external_choices` sheet (for `select_one_external`), converted on first use.
    external_lists: Option<BTreeMap<String, (Vec<Choice>, ListSource)>>,
    /// External lists already copied into `choices`.
    external_used: HashSet<String>,
    /// Lists made from files, by file name (`None`: the file failed).
    file_lists: HashMap<String, Option<String>>,
    /// JSON path of each item → survey row.
    item_rows: HashMap<String, usize>,
    /// Names of items that were not converted because of an error in their row.
    failed_names: HashSet<String>,
    /// Dropped metadata: name → (row, type).
    dropped_meta: HashMap<String, (usize, &'static str)>,
    /// Names of `or_other` text questions that a row of the survey also uses (reported here).
    or_other_clashes: HashSet<String>,
}

/// Converts a workbook. `files` gives the choice files next to the spreadsheet; `file_stem` is the
/// spreadsheet's name without extension, the form id when the settings give none (as pyxform).
pub fn convert(wb: &Workbook, files: &dyn ExternalFiles, file_stem: &str) -> Conversion {
    let mut cx = Converter {
        wb,
        files,
        problems: Vec::new(),
        langs: Vec::new(),
        lang_places: Vec::new(),
        survey: None,
        settings: None,
        choices: BTreeMap::new(),
        lists: HashMap::new(),
        external_lists: None,
        external_used: HashSet::new(),
        file_lists: HashMap::new(),
        item_rows: HashMap::new(),
        failed_names: HashSet::new(),
        dropped_meta: HashMap::new(),
        or_other_clashes: HashSet::new(),
    };
    let doc = cx.run(file_stem);
    let mut json = None;
    if let Some(doc) = &doc {
        match serde_json::to_string_pretty(doc) {
            Ok(s) => {
                cx.check_with_engine(&s);
                json = Some(s + "\n");
            }
            Err(e) => cx.problems.push(Problem::error(
                "xlsform/internal",
                Place::default(),
                format!(
                    "the converted form could not be written as JSON ({e}): please report this"
                ),
            )),
        }
    }
    let mut problems = cx.problems;
    sort_problems(&mut problems, wb);
    Conversion {
        doc,
        json,
        problems,
    }
}

fn sort_problems(problems: &mut [Problem], wb: &Workbook) {
    let rank = |p: &Problem| -> usize {
        if p.place.sheet.is_empty() {
            return 0;
        }
        if p.place.is_file {
            return 1000;
        }
        wb.sheets
            .iter()
            .position(|s| s.name == p.place.sheet)
            .map_or(999, |i| i + 1)
    };
    problems.sort_by_key(|p| {
        let col = p
            .place
            .column
            .as_ref()
            .map(|c| (c.letter.len(), c.letter.clone()));
        (p.severity, rank(p), p.place.sheet.clone(), p.place.row, col)
    });
}

impl Converter<'_> {
    fn err(&mut self, code: &str, place: Place, msg: impl Into<String>) {
        self.problems.push(Problem::error(code, place, msg));
    }
    fn warn(&mut self, code: &str, place: Place, msg: impl Into<String>) {
        self.problems.push(Problem::warning(code, place, msg));
    }

    fn run(&mut self, file_stem: &str) -> Option<FormDoc> {
        let wb = self.wb;
        let Some(survey) = wb.sheet("survey") else {
            let names: Vec<&str> = wb.sheets.iter().map(|s| s.name.as_str()).collect();
            self.err(
                "xlsform/missing-sheet",
                Place::default(),
                format!(
                    "the workbook has no `survey` sheet (it has: {}): XLSForm puts the questions on a sheet named survey",
                    if names.is_empty() { "no sheets".to_string() } else { names.join(", ") }
                ),
            );
            return None;
        };
        let Some(mut survey_hdr) = Header::parse(survey, survey_alias) else {
            self.err(
                "xlsform/missing-column",
                Place::sheet(&survey.name),
                "the survey sheet is empty: its first row names the columns (type, name, label, ...)",
            );
            return None;
        };
        if !survey_hdr.has("type") || !survey_hdr.has("name") {
            let missing = if survey_hdr.has("type") {
                "name"
            } else {
                "type"
            };
            self.err(
                "xlsform/missing-column",
                Place::row(&survey.name, survey_hdr.row),
                format!("the survey sheet has no `{missing}` column: its first row must name the columns (type, name, label, ...)"),
            );
            return None;
        }
        let choices_sheet = wb.sheet("choices");
        let mut choices_hdr = choices_sheet.and_then(|s| Header::parse(s, choices_alias));
        let ext_sheet = wb.sheet("external_choices");
        let mut ext_hdr = ext_sheet.and_then(|s| Header::parse(s, choices_alias));
        let settings_sheet = wb.sheet("settings");
        let mut settings_hdr = settings_sheet.and_then(|s| Header::parse(s, settings_alias));
        let settings_row = settings_sheet.and_then(|s| {
            let hdr_row = settings_hdr.as_ref()?.row;
            let mut data = s.rows.iter().filter(|r| r.number > hdr_row);
            let first = data.next().cloned();
            if let Some(extra) = data.next() {
                self.warn(
                    "xlsform/not-converted",
                    Place::row(&s.name, extra.number),
                    "the settings sheet has more than one row of values: only the first is read",
                );
            }
            first
        });

        // Languages come from every sheet's headers and the default_language setting.
        let default_language = match (&settings_hdr, &settings_row) {
            (Some(h), Some(r)) => {
                let v = h.get(r, "default_language");
                h.col("default_language")
                    .filter(|_| !v.is_empty())
                    .map(|c| {
                        (
                            v.to_string(),
                            Place::cell(&settings_sheet.unwrap().name, r.number, c.cell_ref()),
                        )
                    })
            }
            _ => None,
        };
        {
            let mut headers: Vec<(&str, &mut Header)> =
                vec![(survey.name.as_str(), &mut survey_hdr)];
            if let (Some(s), Some(h)) = (choices_sheet, choices_hdr.as_mut()) {
                headers.push((s.name.as_str(), h));
            }
            if let (Some(s), Some(h)) = (ext_sheet, ext_hdr.as_mut()) {
                headers.push((s.name.as_str(), h));
            }
            if let (Some(s), Some(h)) = (settings_sheet, settings_hdr.as_mut()) {
                headers.push((s.name.as_str(), h));
            }
            self.resolve_languages(&mut headers, default_language);
        }
        self.survey = Some(survey_hdr.clone());
        if let (Some(h), Some(sheet)) = (&settings_hdr, settings_sheet) {
            self.settings = Some((h.clone(), settings_row.clone()));
            self.unconverted_columns(
                sheet,
                h,
                &[
                    "form_title",
                    "form_id",
                    "version",
                    "instance_name",
                    "default_language",
                    "style",
                    "public_key",
                ],
            );
        }

        if let (Some(sheet), Some(h)) = (choices_sheet, choices_hdr) {
            self.choices_sheet(sheet, h);
        }
        if let (Some(sheet), Some(h)) = (ext_sheet, ext_hdr) {
            let table = self.sheet_table(sheet, h);
            let lists = self.read_choice_table(&table, "name", "label", true, None);
            self.external_lists = Some(lists);
        }

        let items = self.survey_sheet(survey, &survey_hdr, choices_sheet.is_some());
        // A form without a single question a surveyor sees (only its header row, or only
        // calculations and metadata) is a mistake, unless the rows' own errors already say why.
        if !items.iter().any(|i| i.kind.is_shown()) && !self.problems.iter().any(|p| p.is_error()) {
            self.err(
                "xlsform/no-questions",
                Place::sheet(&survey.name),
                "the survey sheet has no questions: add a row for each question below its first row (type, name, label)",
            );
        }
        let (id, version, title, instance_name, settings) =
            self.settings_values(settings_sheet, file_stem);
        Some(FormDoc {
            format: model::FORMAT.to_string(),
            id,
            version,
            title,
            languages: self.langs.clone(),
            instance_name,
            settings,
            choices: std::mem::take(&mut self.choices),
            items,
        })
    }

    /// Works out every translated column's language tag and the form's languages (the default first).
    fn resolve_languages(
        &mut self,
        headers: &mut [(&str, &mut Header)],
        default_language: Option<(String, Place)>,
    ) {
        // A name written with its code anywhere (`label::English (en)`) tells the code of the same
        // name written alone elsewhere (`hint::English`).
        let mut by_name: HashMap<String, String> = HashMap::new();
        for (_, h) in headers.iter() {
            for c in &h.columns {
                if let Some((Some(n), Some(t))) = c.lang.as_deref().map(split_lang) {
                    by_name.entry(n.to_lowercase()).or_insert(t);
                }
            }
        }
        let mut found: Vec<(String, Place)> = Vec::new();
        let mut warned: HashSet<String> = HashSet::new();
        for (sheet, h) in headers.iter_mut() {
            let row = h.row;
            for c in &mut h.columns {
                let Some(raw) = c.lang.clone() else { continue };
                if !TEXT_COLUMNS.contains(&c.field.as_str()) {
                    continue;
                }
                let place = Place::cell(sheet, row, c.cell_ref());
                let (name, tag) = split_lang(&raw);
                let tag = match (tag, name) {
                    (Some(t), _) => Some(t),
                    (None, Some(n)) => match by_name.get(&n.to_lowercase()).cloned() {
                        Some(t) => Some(t),
                        None => match tag_for_name(&n) {
                            Some(t) => {
                                if warned.insert(n.to_lowercase()) {
                                    self.warn(
                                        "xlsform/language-code",
                                        place.clone(),
                                        format!(
                                            "the language `{n}` has no code: read as `{t}`; write it as `{}::{n} ({t})` to be sure",
                                            c.field
                                        ),
                                    );
                                }
                                Some(t.to_string())
                            }
                            None => {
                                self.err(
                                    "xlsform/language-code",
                                    place.clone(),
                                    format!(
                                        "cannot tell the code of the language `{n}`: write the column as `{}::{n} (xx)` with its BCP 47 code, e.g. `label::Chinese (zh-CN)`",
                                        c.field
                                    ),
                                );
                                None
                            }
                        },
                    },
                    (None, None) => None,
                };
                if let Some(t) = &tag
                    && !found.iter().any(|(f, _)| f == t)
                {
                    found.push((t.clone(), place));
                }
                c.tag = tag;
            }
        }
        let default = default_language.and_then(|(v, place)| {
            let (name, tag) = split_lang(&v);
            let tag = tag.or_else(|| {
                let n = name.as_deref().unwrap_or("").to_lowercase();
                by_name.get(&n).cloned().or_else(|| tag_for_name(&n).map(str::to_string))
            });
            match tag {
                Some(t) => Some((t, place)),
                None => {
                    self.err(
                        "xlsform/language-code",
                        place,
                        format!("cannot tell the code of the default language `{v}`: write it as `Name (xx)`, e.g. `Chinese (zh-CN)`"),
                    );
                    None
                }
            }
        });
        if let Some((t, place)) = default {
            found.retain(|(f, _)| *f != t);
            found.insert(0, (t, place));
        }
        if found.is_empty() {
            // A form with one unnamed language: its texts are plain strings; `und` is BCP 47 for
            // "not said", which the supervisor can change with default_language.
            found.push(("und".to_string(), Place::default()));
        }
        for (t, p) in found {
            if !looks_like_tag(&t)
                && !t
                    .split('-')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                self.err(
                    "xlsform/language-code",
                    p.clone(),
                    format!(
                        "`{t}` is not a language code such as zh-CN or en: fix the code in brackets"
                    ),
                );
            }
            self.langs.push(t);
            self.lang_places.push(p);
        }
    }

    fn default_lang(&self) -> &str {
        &self.langs[0]
    }

    /// The text of `field` in a row: a plain string for a one-language form, else one entry per
    /// language (a column without language is the default language's).
    fn text(
        &mut self,
        sheet: &str,
        row_no: usize,
        columns: &[Column],
        cells: &[String],
        field: &str,
    ) -> Option<Text> {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        let mut plain: Option<(String, &Column)> = None;
        for c in columns.iter().filter(|c| c.field == field) {
            let v = cells.get(c.index).map_or("", |s| s.trim());
            if v.is_empty() {
                continue;
            }
            match (&c.lang, &c.tag) {
                (None, _) => {
                    if plain.is_none() {
                        plain = Some((v.to_string(), c));
                    }
                }
                (Some(_), Some(t)) => {
                    map.entry(t.clone()).or_insert_with(|| v.to_string());
                }
                (Some(_), None) => {}
            }
        }
        if let Some((v, col)) = plain {
            let d = self.default_lang().to_string();
            match map.get(&d) {
                Some(other) if *other != v => self.warn(
                    "xlsform/text-conflict",
                    Place::cell(sheet, row_no, col.cell_ref()),
                    format!("this text and the `{field}` column for the default language `{d}` differ: the language column is used"),
                ),
                Some(_) => {}
                None => {
                    map.insert(d, v);
                }
            }
        }
        if map.is_empty() {
            return None;
        }
        if self.langs.len() == 1 && map.len() == 1 {
            return map.into_values().next().map(Text::Plain);
        }
        Some(Text::Translated(map))
    }

    /// Warns once per column that holds values but is not converted, naming the first row, and
    /// refuses a converted column that appears twice (only the first is read).
    fn unconverted_columns(&mut self, sheet: &Sheet, h: &Header, converted: &[&str]) {
        let key = |c: &Column| {
            let lang = c
                .tag
                .clone()
                .or_else(|| c.lang.as_deref().map(|l| l.trim().to_lowercase()));
            (c.field.clone(), lang)
        };
        for (i, c) in h.columns.iter().enumerate() {
            if c.field.starts_with('$') || !converted.contains(&c.field.as_str()) {
                continue;
            }
            let Some(first) = h.columns[..i].iter().find(|o| key(o) == key(c)) else {
                continue;
            };
            if let Some(r) = sheet
                .rows
                .iter()
                .find(|r| r.number > h.row && !r.get(c.index).is_empty())
            {
                let letter = column_letter(first.index);
                self.err(
                    "xlsform/duplicate-column",
                    Place::cell(&sheet.name, r.number, c.cell_ref()),
                    format!(
                        "the column `{}` repeats column {letter} (`{}`): only column {letter} is read, so the values in this one would be lost; keep one of the two",
                        c.header, first.header
                    ),
                );
            }
        }
        for c in &h.columns {
            if c.field.starts_with('$') {
                // KoboToolbox's bookkeeping columns ($kuid, $autoname): not form content.
                continue;
            }
            let is_converted = converted.contains(&c.field.as_str())
                && (c.lang.is_none() || TEXT_COLUMNS.contains(&c.field.as_str()));
            if is_converted {
                continue;
            }
            if let Some(r) = sheet
                .rows
                .iter()
                .find(|r| r.number > h.row && !r.get(c.index).is_empty())
            {
                let reason = if c.lang.is_some() && converted.contains(&c.field.as_str()) {
                    "this column does not take a language".to_string()
                } else {
                    let reason = not_converted_reason(&c.field);
                    // A misspelt header (`relevent`) is the likeliest cause: name the column meant.
                    let close = converted
                        .iter()
                        .filter(|k| k.len() > 3)
                        .min_by_key(|k| doorstep_core::expr::edit_distance(&c.field, k))
                        .filter(|k| doorstep_core::expr::edit_distance(&c.field, k) <= 2);
                    match close {
                        Some(k) if reason == GENERIC_REASON => {
                            format!("{reason}; did you mean `{k}`?")
                        }
                        _ => reason.to_string(),
                    }
                };
                self.warn(
                    "xlsform/not-converted",
                    Place::cell(&sheet.name, r.number, c.cell_ref()),
                    format!("the column `{}` is not converted ({reason}); its values, from this row on, are ignored", c.header),
                );
            }
        }
    }

    fn sheet_table(&self, sheet: &Sheet, h: Header) -> ChoiceTable {
        ChoiceTable {
            source: sheet.name.clone(),
            is_file: false,
            rows: sheet
                .rows
                .iter()
                .filter(|r| r.number > h.row)
                .map(|r| (r.number, r.cells.clone()))
                .collect(),
            columns: h.columns,
        }
    }

    fn choices_sheet(&mut self, sheet: &Sheet, h: Header) {
        if !h.has("list_name") || !h.has("name") {
            let missing = if h.has("list_name") {
                "name"
            } else {
                "list_name"
            };
            self.err(
                "xlsform/missing-column",
                Place::row(&sheet.name, h.row),
                format!("the choices sheet has no `{missing}` column: its first row must name the columns (list_name, name, label)"),
            );
            return;
        }
        let table = self.sheet_table(sheet, h);
        for (list, (cs, src)) in self.read_choice_table(&table, "name", "label", true, None) {
            self.choices.insert(list.clone(), cs);
            self.lists.insert(list, src);
        }
    }

    /// Reads choice lists from a table. With `by_list`, the `list_name` column splits the rows into
    /// lists; otherwise every row belongs to `single` (a file for one question).
    fn read_choice_table(
        &mut self,
        t: &ChoiceTable,
        value_field: &str,
        label_field: &str,
        by_list: bool,
        single: Option<&str>,
    ) -> BTreeMap<String, (Vec<Choice>, ListSource)> {
        let place = |line: usize, col: Option<&Column>| -> Place {
            let c = col.map(Column::cell_ref);
            if t.is_file {
                Place::file(&t.source, Some(line), c)
            } else {
                Place::row(&t.source, line).with_column(c)
            }
        };
        let find = |f: &str| t.columns.iter().find(|c| c.field == f && c.lang.is_none());
        let list_col = find("list_name");
        let value_col = find(value_field);
        let media = |f: &str| {
            matches!(f, "image" | "audio" | "video" | "big-image") || f.starts_with("media::")
        };
        let mut out: BTreeMap<String, (Vec<Choice>, ListSource)> = BTreeMap::new();
        let mut warned_media = false;
        for (line, cells) in &t.rows {
            let cell =
                |c: Option<&Column>| c.and_then(|c| cells.get(c.index)).map_or("", |s| s.trim());
            let list = if by_list {
                cell(list_col).to_string()
            } else {
                single.unwrap_or("").to_string()
            };
            let value = cell(value_col).to_string();
            if list.is_empty() && value.is_empty() {
                continue;
            }
            if list.is_empty() {
                self.err(
                    "xlsform/missing-list-name",
                    place(*line, list_col),
                    format!("the choice `{value}` has no list_name: write the name of the list it belongs to"),
                );
                continue;
            }
            if value.is_empty() {
                self.err(
                    "xlsform/missing-choice-name",
                    place(*line, value_col),
                    format!("a choice of list `{list}` has no {value_field}: every choice needs a value to store"),
                );
                continue;
            }
            let label = {
                // Labels may come from another column (`label=` in parameters).
                let cols: Vec<Column> = t
                    .columns
                    .iter()
                    .filter(|c| c.field == label_field)
                    .map(|c| Column {
                        field: "label".into(),
                        ..c.clone()
                    })
                    .collect();
                self.text(&t.source, *line, &cols, cells, "label")
            };
            let label = label.unwrap_or_else(|| {
                self.warn(
                    "xlsform/missing-label",
                    place(*line, value_col),
                    format!("the choice `{value}` of list `{list}` has no label: its value is shown instead"),
                );
                Text::Plain(value.clone())
            });
            let mut attrs = BTreeMap::new();
            for c in &t.columns {
                let v = cells.get(c.index).map_or("", |s| s.trim());
                let skip = c.field == "list_name"
                    || c.field == value_field
                    || c.field == label_field
                    || TEXT_COLUMNS.contains(&c.field.as_str())
                    || c.field.starts_with('$');
                if skip || v.is_empty() {
                    continue;
                }
                if media(&c.field) {
                    if !warned_media {
                        warned_media = true;
                        self.warn(
                            "xlsform/not-converted",
                            place(*line, Some(c)),
                            format!("the column `{}` is not converted (media in choice labels is not carried over)", c.header),
                        );
                    }
                    continue;
                }
                attrs.insert(c.header.clone(), v.to_string());
            }
            let entry = out.entry(list).or_insert_with(|| {
                let mut columns = HashMap::new();
                for c in &t.columns {
                    let key = if c.field == value_field {
                        "value".to_string()
                    } else if c.field == label_field {
                        match &c.tag {
                            Some(tag) => format!("label.{tag}"),
                            None => "label".to_string(),
                        }
                    } else {
                        c.header.clone()
                    };
                    columns.entry(key).or_insert_with(|| c.cell_ref());
                }
                if let Some(c) = t.columns.iter().find(|c| c.field == label_field) {
                    columns
                        .entry("label".to_string())
                        .or_insert_with(|| c.cell_ref());
                }
                (
                    Vec::new(),
                    ListSource {
                        places: Vec::new(),
                        columns,
                    },
                )
            });
            entry.0.push(Choice {
                value,
                label,
                attrs,
            });
            entry.1.places.push(place(*line, None));
        }
        out
    }

    /// The list for `select_one_from_file FILE`, read on first use; `None` after reporting a problem.
    fn file_list(
        &mut self,
        file: &str,
        place: &Place,
        params: &[(String, String)],
    ) -> Option<String> {
        let value_field = params
            .iter()
            .find(|(k, _)| k == "value")
            .map_or("name", |(_, v)| v.as_str())
            .to_string();
        let label_field = params
            .iter()
            .find(|(k, _)| k == "label")
            .map_or("label", |(_, v)| v.as_str())
            .to_string();
        let key = format!("{file}\u{0}{value_field}\u{0}{label_field}");
        if let Some(l) = self.file_lists.get(&key) {
            return l.clone();
        }
        let list = self.read_file_list(file, place, &value_field, &label_field);
        self.file_lists.insert(key, list.clone());
        list
    }

    fn read_file_list(
        &mut self,
        file: &str,
        place: &Place,
        value_field: &str,
        label_field: &str,
    ) -> Option<String> {
        if file.contains(['/', '\\']) {
            self.err(
                "xlsform/external-file",
                place.clone(),
                format!(
                    "`{file}` is a path: name a file next to the spreadsheet, e.g. `villages.csv`"
                ),
            );
            return None;
        }
        let lower = file.to_ascii_lowercase();
        if !(lower.ends_with(".csv") || lower.ends_with(".xml")) {
            self.err(
                "xlsform/external-file",
                place.clone(),
                format!("`{file}` is neither .csv nor .xml: choices from files are read from CSV or XML (GeoJSON is not supported)"),
            );
            return None;
        }
        let table = self.read_external_table(file, place)?;
        let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
        let mut list = identifier_from(stem);
        if self.choices.contains_key(&list) {
            list.push_str("_file");
        }
        let mut lists =
            self.read_choice_table(&table, value_field, label_field, false, Some(&list));
        if !table.columns.iter().any(|c| c.field == value_field) {
            self.err(
                "xlsform/external-file",
                Place::file(file, Some(1), None),
                format!("`{file}` has no `{value_field}` column: its first line must name the columns (name, label, ...)"),
            );
            return None;
        }
        let (cs, src) = lists.remove(&list).unwrap_or_else(|| {
            (
                Vec::new(),
                ListSource {
                    places: Vec::new(),
                    columns: HashMap::new(),
                },
            )
        });
        if cs.is_empty() {
            self.err(
                "xlsform/external-file",
                Place::file(file, None, None),
                format!("`{file}` has no choices: add one row per choice"),
            );
            return None;
        }
        self.choices.insert(list.clone(), cs);
        self.lists.insert(list.clone(), src);
        Some(list)
    }

    /// Reads a CSV or XML file next to the spreadsheet as a choice table.
    fn read_external_table(&mut self, file: &str, place: &Place) -> Option<ChoiceTable> {
        let bytes = match self.files.read(file) {
            None => {
                self.err(
                    "xlsform/missing-file",
                    place.clone(),
                    format!("the choices file `{file}` is missing: put it next to the spreadsheet (the type names it)"),
                );
                return None;
            }
            Some(Err(e)) => {
                self.err(
                    "xlsform/missing-file",
                    place.clone(),
                    format!("cannot read the choices file `{file}`: {e}"),
                );
                return None;
            }
            Some(Ok(b)) => b,
        };
        let Ok(text) = String::from_utf8(bytes) else {
            self.err(
                "xlsform/external-file",
                Place::file(file, None, None),
                format!("`{file}` is not UTF-8 text: save it as CSV UTF-8"),
            );
            return None;
        };
        let parsed = if file.to_ascii_lowercase().ends_with(".xml") {
            external::read_xml(&text)
        } else {
            external::read_csv(&text)
        };
        let t: Table = match parsed {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    "xlsform/external-file",
                    Place::file(file, None, None),
                    format!("cannot read `{file}`: {e}"),
                );
                return None;
            }
        };
        let columns = t
            .columns
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(index, h)| {
                let (base, lang) = match h.split_once("::") {
                    Some((b, l)) => (b.trim().to_string(), Some(l.trim().to_string())),
                    None => (h.clone(), None),
                };
                let tag = lang.as_deref().map(split_lang).and_then(|(n, t)| {
                    t.or_else(|| n.and_then(|n| tag_for_name(&n).map(str::to_string)))
                });
                Column {
                    index,
                    header: h.clone(),
                    field: choices_alias(&base.to_ascii_lowercase()).to_string(),
                    lang,
                    tag,
                }
            })
            .collect();
        Some(ChoiceTable {
            source: file.to_string(),
            is_file: true,
            columns,
            rows: t.rows,
        })
    }

    /// The list for `select_one_external LIST`: from the external_choices sheet, else itemsets.csv.
    fn external_list(&mut self, list: &str, place: &Place) -> Option<String> {
        if self.external_lists.is_none() {
            let table = match self.files.read("itemsets.csv") {
                Some(_) => self.read_external_table("itemsets.csv", place),
                None => {
                    self.err(
                        "xlsform/missing-file",
                        place.clone(),
                        format!(
                            "select_one_external `{list}` reads its choices from the external_choices sheet or the file itemsets.csv next to the spreadsheet, and there is neither: add one"
                        ),
                    );
                    self.external_lists = Some(BTreeMap::new());
                    return None;
                }
            };
            let lists = match table {
                Some(t) => self.read_choice_table(&t, "name", "label", true, None),
                None => BTreeMap::new(),
            };
            self.external_lists = Some(lists);
        }
        if self.external_used.contains(list) {
            return Some(list.to_string());
        }
        match self
            .external_lists
            .as_ref()
            .and_then(|l| l.get(list))
            .cloned()
        {
            Some(_) if self.choices.contains_key(list) => {
                self.err(
                    "xlsform/duplicate-list",
                    place.clone(),
                    format!("the list `{list}` is on both the choices sheet and in the external choices: rename one"),
                );
                None
            }
            Some((cs, src)) => {
                self.choices.insert(list.to_string(), cs);
                self.lists.insert(list.to_string(), src);
                self.external_used.insert(list.to_string());
                Some(list.to_string())
            }
            None => {
                self.err(
                    "xlsform/unknown-list",
                    place.clone(),
                    format!("there is no external choice list `{list}`: add its rows to the external_choices sheet (or itemsets.csv)"),
                );
                None
            }
        }
    }

    /// Reads the survey sheet into items.
    fn survey_sheet(&mut self, sheet: &Sheet, h: &Header, has_choices: bool) -> Vec<ItemDoc> {
        let sname = sheet.name.clone();
        self.unconverted_columns(sheet, h, SURVEY_COLUMNS);
        let type_col = h.col("type").map(Column::cell_ref);
        let name_col = h.col("name").map(Column::cell_ref);
        let at = |row: usize, c: &Option<ColumnRef>| Place::row(&sname, row).with_column(c.clone());
        let col_place = |row: usize, field: &str| {
            Place::row(&sname, row).with_column(h.col(field).map(Column::cell_ref))
        };

        let mut root: Vec<Node> = Vec::new();
        let mut stack: Vec<Open> = Vec::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut kept_rows: Vec<&Row> = Vec::new();
        // (list, row, question name) of each `or_other` select, and lists used without it.
        let mut or_other_lists: Vec<(String, usize, String)> = Vec::new();
        let mut plain_uses: HashSet<String> = HashSet::new();

        for row in sheet.rows.iter().filter(|r| r.number > h.row) {
            let n = row.number;
            let ty = h.get(row, "type");
            let name = h.get(row, "name").to_string();
            if ty.is_empty() {
                let has_content = h.columns.iter().any(|c| {
                    SURVEY_COLUMNS.contains(&c.field.as_str()) && !row.get(c.index).is_empty()
                });
                if has_content {
                    self.err(
                        "xlsform/missing-type",
                        at(n, &type_col),
                        format!(
                            "this row{} has no type: give it a type (text, integer, select_one list, ...) or delete the row",
                            if name.is_empty() { String::new() } else { format!(" (`{name}`)") }
                        ),
                    );
                    if !name.is_empty() {
                        self.failed_names.insert(name);
                    }
                }
                continue;
            }
            if values::condition(h.get(row, "disabled")).is_some() {
                self.warn(
                    "xlsform/disabled",
                    col_place(n, "disabled"),
                    format!(
                        "`{}` is disabled: it is left out of the converted form",
                        if name.is_empty() { ty } else { &name }
                    ),
                );
                if !name.is_empty() {
                    self.failed_names.insert(name);
                }
                continue;
            }
            let spec = parse_type(ty);
            let (kind, list) = match spec {
                TypeSpec::EndGroup | TypeSpec::EndRepeat => {
                    let want_repeat = spec == TypeSpec::EndRepeat;
                    let word = if want_repeat { "repeat" } else { "group" };
                    match stack.pop() {
                        None => self.err(
                            "xlsform/unmatched-end",
                            at(n, &type_col),
                            format!("`{ty}` has no `begin {word}` before it: remove the row or add the begin row"),
                        ),
                        Some(open) => {
                            if open.repeat != want_repeat {
                                let other = if open.repeat { "repeat" } else { "group" };
                                self.err(
                                    "xlsform/unmatched-end",
                                    at(n, &type_col),
                                    format!(
                                        "`{ty}` closes the {other} `{}` begun at row {}: write `end {other}`",
                                        open.node.doc.name, open.node.row
                                    ),
                                );
                            }
                            let mut node = open.node;
                            node.doc.items = Some(Vec::new());
                            push(&mut stack, &mut root, node);
                        }
                    }
                    continue;
                }
                TypeSpec::DroppedMeta(t) => {
                    self.warn(
                        "xlsform/dropped-metadata",
                        at(n, &type_col),
                        format!(
                            "`{t}`{} is dropped: a browser cannot know it; expressions must not read it",
                            if name.is_empty() || name == t { String::new() } else { format!(" (`{name}`)") }
                        ),
                    );
                    if !name.is_empty() {
                        self.dropped_meta.insert(name, (n, t));
                    }
                    continue;
                }
                TypeSpec::Unsupported(msg) => {
                    self.err("xlsform/unknown-type", at(n, &type_col), msg);
                    if !name.is_empty() {
                        self.failed_names.insert(name);
                    }
                    continue;
                }
                TypeSpec::Item(t) => (t, None),
                TypeSpec::BeginGroup => (ItemType::Group, None),
                TypeSpec::BeginRepeat => (ItemType::Repeat, None),
                TypeSpec::Select {
                    multiple,
                    list,
                    or_other,
                } => {
                    let kind = if multiple {
                        ItemType::SelectMultiple
                    } else {
                        ItemType::SelectOne
                    };
                    if !has_choices {
                        self.err(
                            "xlsform/missing-sheet",
                            at(n, &type_col),
                            format!("`{ty}` needs the choices sheet, which the workbook does not have: add a sheet named choices with the list `{list}`"),
                        );
                    }
                    if or_other {
                        or_other_lists.push((list.clone(), n, name.clone()));
                    } else {
                        plain_uses.insert(list.clone());
                    }
                    let list = if or_other {
                        format!("{list}{OR_OTHER}")
                    } else {
                        list
                    };
                    (kind, Some(Some(list)))
                }
                TypeSpec::FromFile { multiple, file } => {
                    let kind = if multiple {
                        ItemType::SelectMultiple
                    } else {
                        ItemType::SelectOne
                    };
                    let params = values::parameters(h.get(row, "parameters")).unwrap_or_default();
                    (
                        kind,
                        Some(self.file_list(&file, &at(n, &type_col), &params)),
                    )
                }
                TypeSpec::External { list } => (
                    ItemType::SelectOne,
                    Some(self.external_list(&list, &at(n, &type_col))),
                ),
            };
            let container = kind.is_container();
            if name.is_empty() {
                let what = if container {
                    format!("`{ty}` rows")
                } else {
                    "every question".to_string()
                };
                self.err(
                    "xlsform/missing-name",
                    at(n, &name_col),
                    format!("this `{ty}` row has no name: {what} need a name (letters, digits, _), used as `${{name}}` and as the column name in exports"),
                );
            } else if let Some(first) = names.get(&name) {
                self.err(
                    "xlsform/duplicate-name",
                    at(n, &name_col),
                    format!("the name `{name}` is already used at row {first}: names must be unique in the whole form, even in different groups"),
                );
            } else {
                names.insert(name.clone(), n);
            }
            kept_rows.push(row);
            let doc = self.item(sheet, h, row, kind, name.clone(), list.clone());
            let node = Node {
                doc,
                row: n,
                children: Vec::new(),
            };
            if container {
                stack.push(Open {
                    node,
                    repeat: kind == ItemType::Repeat,
                });
            } else {
                push(&mut stack, &mut root, node);
                if let Some(Some(l)) = &list
                    && l.ends_with(OR_OTHER)
                    && or_other_lists.last().is_some_and(|(_, r, _)| *r == n)
                {
                    let other = self.or_other_item(&name);
                    push(
                        &mut stack,
                        &mut root,
                        Node {
                            doc: other,
                            row: n,
                            children: Vec::new(),
                        },
                    );
                }
            }
        }
        while let Some(open) = stack.pop() {
            let word = if open.repeat { "repeat" } else { "group" };
            self.err(
                "xlsform/unmatched-begin",
                at(open.node.row, &type_col),
                format!(
                    "the {word} `{}` begun here is never closed: add an `end {word}` row after its last question",
                    open.node.doc.name
                ),
            );
            let mut node = open.node;
            node.doc.items = Some(Vec::new());
            push(&mut stack, &mut root, node);
        }
        // As pyxform, `or_other` adds the choice `other` to the list itself; a list that other
        // selects use without `or_other` is copied instead, so they do not gain the choice.
        let mut renames: HashMap<String, String> = HashMap::new();
        for (list, row, name) in or_other_lists {
            let other = format!("{name}_other");
            if let Some(&at) = names.get(&other) {
                self.err(
                    "xlsform/duplicate-name",
                    Place::row(&sname, at).with_column(name_col.clone()),
                    format!(
                        "the name `{other}` is also the text question that `or_other` at row {row} adds: remove `or_other` from row {row} to keep this question, or rename this one"
                    ),
                );
                self.or_other_clashes.insert(other);
            }
            let in_place = !plain_uses.contains(&list);
            let used = self.add_or_other_list(&list, in_place);
            self.warn(
                "xlsform/or-other",
                at(row, &type_col),
                format!("`or_other` adds the choice `other` to the list `{used}` and the text question `{name}_other`, shown when `other` is chosen"),
            );
            renames.insert(format!("{list}{OR_OTHER}"), used);
        }
        rename_lists(&mut root, &renames);
        self.check_metadata_reads(&sname, h, &kept_rows);
        let mut items = Vec::new();
        for (i, node) in root.into_iter().enumerate() {
            items.push(self.place_items(node, format!("items[{i}]")));
        }
        items
    }

    /// Builds one item from its row.
    fn item(
        &mut self,
        sheet: &Sheet,
        h: &Header,
        row: &Row,
        kind: ItemType,
        name: String,
        list: Option<Option<String>>,
    ) -> ItemDoc {
        let s = sheet.name.as_str();
        let n = row.number;
        let get = |f: &str| h.get(row, f).to_string();
        let opt = |f: &str| Some(get(f)).filter(|v| !v.is_empty());
        let place = |f: &str| Place::row(s, n).with_column(h.col(f).map(Column::cell_ref));
        let mut doc = blank(kind, name);
        doc.label = self.text(s, n, &h.columns, &row.cells, "label");
        doc.hint = self.text(s, n, &h.columns, &row.cells, "hint");
        doc.required_message = self.text(s, n, &h.columns, &row.cells, "required_message");
        doc.constraint_message = self.text(s, n, &h.columns, &row.cells, "constraint_message");
        doc.relevant = opt("relevant");
        doc.required = values::condition(&get("required"));
        doc.constraint = opt("constraint");
        doc.read_only = values::condition(&get("read_only"));
        doc.calculation = opt("calculation");
        doc.appearance = opt("appearance");
        doc.choice_filter = opt("choice_filter");
        // A list that could not be read was reported; the engine's "needs `choices`" lands on the
        // same cell and is left out.
        doc.choices = list.flatten();
        if let Some(c) = opt("repeat_count") {
            doc.count = Some(match c.parse::<u64>() {
                Ok(k) => Count::Fixed(k),
                Err(_) => Count::Expr(c),
            });
        }
        if let Some(d) = opt("default") {
            match values::default_value(kind, &d) {
                Ok(Default::Literal(v)) => doc.default = Some(v),
                Ok(Default::Expression(e)) => doc.default_expression = Some(e),
                Err(msg) => self.err("xlsform/bad-default", place("default"), msg),
            }
        }
        if let Some(p) = opt("parameters") {
            self.parameters(&mut doc, &p, place("parameters"));
        } else if kind == ItemType::Range {
            // XLSForm's range without parameters is 1 to 10 by 1.
            doc.parameters = Some(RangeParams {
                start: 1.0,
                end: 10.0,
                step: 1.0,
            });
        }
        doc
    }

    fn parameters(&mut self, doc: &mut ItemDoc, cell: &str, place: Place) {
        let params = match values::parameters(cell) {
            Ok(p) => p,
            Err(msg) => {
                self.err("xlsform/bad-parameters", place, msg);
                return;
            }
        };
        let mut ignored = Vec::new();
        if doc.kind == ItemType::Range {
            let mut r = RangeParams {
                start: 1.0,
                end: 10.0,
                step: 1.0,
            };
            for (k, v) in &params {
                let slot = match k.as_str() {
                    "start" => &mut r.start,
                    "end" => &mut r.end,
                    "step" => &mut r.step,
                    _ => {
                        ignored.push(k.clone());
                        continue;
                    }
                };
                match v.parse::<f64>() {
                    Ok(x) if x.is_finite() => *slot = x,
                    _ => self.err(
                        "xlsform/bad-parameters",
                        place.clone(),
                        format!("`{k}={v}`: {k} must be a number"),
                    ),
                }
            }
            doc.parameters = Some(r);
        } else {
            let is_select = matches!(doc.kind, ItemType::SelectOne | ItemType::SelectMultiple);
            for (k, _) in &params {
                // `value=` and `label=` of select_one_from_file were used when reading the file.
                if !(is_select && matches!(k.as_str(), "value" | "label")) {
                    ignored.push(k.clone());
                }
            }
        }
        if !ignored.is_empty() {
            self.warn(
                "xlsform/not-converted",
                place,
                format!(
                    "the parameter{} {} of this {} question {} not converted: Doorstep forms do not have {}",
                    if ignored.len() == 1 { "" } else { "s" },
                    ignored.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                    doc.kind.as_str(),
                    if ignored.len() == 1 { "is" } else { "are" },
                    if ignored.len() == 1 { "it" } else { "them" },
                ),
            );
        }
    }

    /// The text question that `or_other` adds after a select, as pyxform does.
    fn or_other_item(&self, name: &str) -> ItemDoc {
        let mut doc = blank(ItemType::Text, format!("{name}_other"));
        doc.label = Some(self.text_by_lang("Specify other.", "请注明其他。"));
        doc.relevant = Some(format!("selected(${{{name}}}, 'other')"));
        doc
    }

    /// A text the converter adds (`or_other`'s), in Chinese for the form's Chinese languages and in
    /// English for the others: a Chinese form does not get English words in the middle.
    fn text_by_lang(&self, en: &str, zh: &str) -> Text {
        let pick = |l: &str| {
            if l.to_ascii_lowercase().starts_with("zh") {
                zh
            } else {
                en
            }
        };
        if self.langs.len() == 1 {
            Text::Plain(pick(&self.langs[0]).to_string())
        } else {
            Text::Translated(
                self.langs
                    .iter()
                    .map(|l| (l.clone(), pick(l).to_string()))
                    .collect(),
            )
        }
    }

    /// Adds the choice `other` to `list` (in place) or to a copy of it; returns the list to use.
    fn add_or_other_list(&mut self, list: &str, in_place: bool) -> String {
        let new = if in_place {
            list.to_string()
        } else {
            format!("{list}{OR_OTHER}")
        };
        if !in_place && self.choices.contains_key(&new) {
            return new;
        }
        let Some(mut cs) = self.choices.get(list).cloned() else {
            return list.to_string();
        };
        let mut src = self.lists.get(list).cloned().unwrap_or_else(|| ListSource {
            places: Vec::new(),
            columns: HashMap::new(),
        });
        if !cs.iter().any(|c| c.value == "other") {
            cs.push(Choice {
                value: "other".into(),
                label: self.text_by_lang("Other", "其他"),
                attrs: BTreeMap::new(),
            });
            let last = src.places.last().cloned().unwrap_or_default();
            src.places.push(last);
        }
        self.choices.insert(new.clone(), cs);
        self.lists.insert(new.clone(), src);
        new
    }

    /// Reports every read (`${name}`) of a dropped metadata field; the engine would only say the
    /// name is unknown.
    fn check_metadata_reads(&mut self, sheet: &str, h: &Header, rows: &[&Row]) {
        if self.dropped_meta.is_empty() {
            return;
        }
        let mut found = Vec::new();
        for row in rows {
            for c in h
                .columns
                .iter()
                .filter(|c| READING_COLUMNS.contains(&c.field.as_str()))
            {
                let v = row.get(c.index);
                for name in piped_names(v) {
                    if let Some((at, t)) = self.dropped_meta.get(name) {
                        found.push(Problem::error(
                            "xlsform/reads-dropped-metadata",
                            Place::cell(sheet, row.number, c.cell_ref()),
                            format!(
                                "`${{{name}}}` reads the {t} metadata of row {at}, which is dropped because a browser cannot know it: remove the reference"
                            ),
                        ));
                    }
                }
            }
        }
        // The sheet as the workbook names it (`Settings`), which is how the supervisor finds it.
        let settings_sheet = self
            .wb
            .sheet("settings")
            .map_or("settings".to_string(), |s| s.name.clone());
        if let Some((h, Some(r))) = &self.settings
            && let Some(c) = h.col("instance_name")
        {
            for name in piped_names(r.get(c.index)) {
                if let Some((at, t)) = self.dropped_meta.get(name) {
                    found.push(Problem::error(
                            "xlsform/reads-dropped-metadata",
                            Place::cell(&settings_sheet, r.number, c.cell_ref()),
                            format!("`${{{name}}}` reads the {t} metadata of survey row {at}, which is dropped because a browser cannot know it: remove the reference"),
                        ));
                }
            }
        }
        self.problems.extend(found);
    }

    /// Gives each item its final JSON path, recording the row it came from.
    fn place_items(&mut self, node: Node, path: String) -> ItemDoc {
        self.item_rows.insert(path.clone(), node.row);
        let mut doc = node.doc;
        if doc.kind.is_container() {
            let mut items = Vec::new();
            for (i, child) in node.children.into_iter().enumerate() {
                items.push(self.place_items(child, format!("{path}.items[{i}]")));
            }
            doc.items = Some(items);
        }
        doc
    }

    fn settings_values(
        &mut self,
        sheet: Option<&Sheet>,
        file_stem: &str,
    ) -> (String, String, Text, Option<String>, Option<Settings>) {
        let settings = self.settings.clone();
        let sname = sheet.map_or("settings".to_string(), |s| s.name.clone());
        let val = |f: &str| -> String {
            match &settings {
                Some((h, Some(r))) => h.get(r, f).to_string(),
                _ => String::new(),
            }
        };
        let place = |f: &str| -> Place {
            match &settings {
                Some((h, Some(r))) => {
                    Place::row(&sname, r.number).with_column(h.col(f).map(Column::cell_ref))
                }
                Some((h, None)) => Place::row(&sname, h.row),
                None => Place::default(),
            }
        };
        let mut id = val("form_id");
        if id.is_empty() {
            id = identifier_from(file_stem);
            self.warn(
                "xlsform/no-form-id",
                place("form_id"),
                format!("the settings give no form_id: the form id is `{id}`, from the file name; set form_id to keep it stable"),
            );
        }
        let mut version = val("version");
        if version.is_empty() {
            version = "1".to_string();
            self.warn(
                "xlsform/no-version",
                place("version"),
                "the settings give no version: the version is `1`; set a version such as 2026112301 and change it with every change of the form",
            );
        }
        let title = match &settings {
            Some((h, Some(r))) => self.text(
                &sname,
                r.number,
                &h.columns.clone(),
                &r.cells.clone(),
                "form_title",
            ),
            _ => None,
        }
        .unwrap_or_else(|| Text::Plain(id.clone()));
        let instance_name = Some(val("instance_name")).filter(|v| !v.is_empty());
        let mut out = Settings::default();
        let mut any = false;
        let style = val("style");
        match style.as_str() {
            "" => {}
            "pages" => {
                out.navigation = Navigation::Pages;
                any = true;
            }
            other => self.warn(
                "xlsform/not-converted",
                place("style"),
                format!("the style `{other}` is not converted: Doorstep forms show each top-level group as a page (style `pages`)"),
            ),
        }
        let key = val("public_key");
        if !key.is_empty() {
            out.encrypt_to.push(key);
            any = true;
        }
        (id, version, title, instance_name, any.then_some(out))
    }

    /// Runs the engine's checks on the converted JSON and reports its problems in the spreadsheet.
    fn check_with_engine(&mut self, json_text: &str) {
        let result = form::load(json_text);
        let json: Value = serde_json::from_str(json_text).unwrap_or(Value::Null);
        let ours: HashSet<(String, Option<usize>, Option<String>)> = self
            .problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| {
                (
                    p.place.sheet.clone(),
                    p.place.row,
                    p.place.column.as_ref().map(|c| c.letter.clone()),
                )
            })
            .collect();
        let ours_rows: HashSet<(String, Option<usize>)> = self
            .problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| (p.place.sheet.clone(), p.place.row))
            .collect();
        for d in &result.diagnostics {
            if d.code == "expr/unknown-name" {
                let skipped = self
                    .failed_names
                    .iter()
                    .chain(self.dropped_meta.keys())
                    .any(|n| d.message.contains(&format!("`{n}`")));
                if skipped {
                    continue;
                }
            }
            if d.code == "form/duplicate-name"
                && self
                    .or_other_clashes
                    .iter()
                    .any(|n| d.message.contains(&format!("`{n}`")))
            {
                continue;
            }
            let p = self.engine_problem(d, &json);
            let key = (
                p.place.sheet.clone(),
                p.place.row,
                p.place.column.as_ref().map(|c| c.letter.clone()),
            );
            // The converter has already said what is wrong here, in spreadsheet terms.
            if d.is_error()
                && (ours.contains(&key)
                    || (p.place.column.is_none() && ours_rows.contains(&(key.0.clone(), key.1))))
            {
                continue;
            }
            self.problems.push(p);
        }
    }

    fn engine_problem(&self, d: &Diagnostic, json: &Value) -> Problem {
        // A missing translation belongs in the column of the missing language, where the
        // supervisor has to type it.
        let missing_lang = (d.code == "text/missing-translation")
            .then(|| d.message.strip_prefix("no translation for "))
            .flatten()
            .and_then(|m| m.split([',', ':']).next());
        let place = match missing_lang {
            Some(l) => self.place_of(&format!("{}.{l}", d.path)),
            // A calculate without a calculation is the calculation column's problem.
            None if d.code == "form/missing-key" && d.message.contains("`calculation`") => {
                self.place_of(&format!("{}.calculation", d.path))
            }
            None => self.place_of(&d.path),
        };
        let severity = if d.is_error() {
            Severity::Error
        } else {
            Severity::Warning
        };
        let mut message = d.message.clone();
        if d.code == "form/duplicate-choice" {
            message = self.first_choice_use(&message);
        }
        if let Some((a, b)) = d.span
            && let Some(Value::String(src)) = value_at(json, &d.path)
        {
            let (a, b) = (a as usize, b as usize);
            let snippet = src.get(a.min(src.len())..b.min(src.len()));
            let Some(snippet) = snippet else {
                // A span that does not fall on characters: show the expression whole.
                return Problem {
                    severity,
                    code: d.code.to_string(),
                    place,
                    message: format!("{message} (in `{src}`)"),
                    json_path: Some(d.path.clone()),
                };
            };
            if snippet.is_empty() {
                message = format!("{message} (at the end of `{src}`)");
            } else if snippet == src {
                message = format!("{message} (in `{src}`)");
            } else {
                message = format!("{message} (at `{snippet}` in `{src}`)");
            }
        }
        Problem {
            severity,
            code: d.code.to_string(),
            place,
            message,
            json_path: Some(d.path.clone()),
        }
    }

    /// The engine names the first use of a duplicated choice value by its index in the list
    /// (`choice 0 of list `yn``); the supervisor looks for it by row (`row 2`) or line.
    fn first_choice_use(&self, message: &str) -> String {
        let Some((head, tail)) = message.split_once(" by choice ") else {
            return message.to_string();
        };
        let Some((index, rest)) = tail.split_once(" of list `") else {
            return message.to_string();
        };
        let Some((list, after)) = rest.split_once('`') else {
            return message.to_string();
        };
        let place = index
            .parse::<usize>()
            .ok()
            .and_then(|i| self.lists.get(list)?.places.get(i))
            .and_then(|p| Some((p.is_file, p.row?)));
        match place {
            Some((false, row)) => format!("{head} at row {row} (list `{list}`){after}"),
            Some((true, line)) => format!("{head} at line {line} (list `{list}`){after}"),
            None => message.to_string(),
        }
    }

    /// The spreadsheet place of a JSON path in the converted form.
    fn place_of(&self, path: &str) -> Place {
        if path.starts_with("items") {
            let mut prefix = path;
            loop {
                if let Some(row) = self.item_rows.get(prefix) {
                    let rest = path[prefix.len()..].trim_start_matches('.');
                    let (key, lang) = match rest.split_once('.') {
                        Some((k, l)) => (k, Some(l)),
                        None => (rest, None),
                    };
                    let key = key.split('[').next().unwrap_or(key);
                    let sheet = self
                        .wb
                        .sheet("survey")
                        .map_or("survey".to_string(), |s| s.name.clone());
                    return Place::row(&sheet, *row).with_column(self.survey_column(key, lang));
                }
                match prefix.rfind('.') {
                    Some(i) => prefix = &prefix[..i],
                    None => break,
                }
            }
            return Place::sheet("survey");
        }
        if let Some(rest) = path.strip_prefix("choices.") {
            let end = rest.find('[').unwrap_or(rest.len());
            let list = &rest[..end];
            let Some(src) = self.lists.get(list) else {
                return Place::sheet("choices");
            };
            let after = &rest[end..];
            let index = after
                .strip_prefix('[')
                .and_then(|a| a.split(']').next())
                .and_then(|i| i.parse::<usize>().ok());
            let key = after.split_once("].").map(|(_, k)| k);
            let mut place = src
                .places
                .get(index.unwrap_or(0))
                .cloned()
                .unwrap_or_default();
            if let Some(k) = key {
                let col = src
                    .columns
                    .get(k)
                    .or_else(|| src.columns.get(k.split('.').next().unwrap_or(k)));
                place = place.with_column(col.cloned());
            } else if index.is_none() {
                place = place.with_column(src.columns.get("list_name").cloned());
            }
            return place;
        }
        let (key, lang) = match path.split_once('.') {
            Some((k, l)) => (k, Some(l)),
            None => (path, None),
        };
        let key = key.split('[').next().unwrap_or(key);
        if key == "languages" {
            let i = path
                .strip_prefix("languages[")
                .and_then(|r| r.trim_end_matches(']').parse::<usize>().ok());
            return self
                .lang_places
                .get(i.unwrap_or(0))
                .cloned()
                .unwrap_or_default();
        }
        let field = match key {
            "id" => "form_id",
            "title" => "form_title",
            "version" => "version",
            "instance_name" => "instance_name",
            "settings" => "style",
            _ => return Place::default(),
        };
        match &self.settings {
            Some((h, r)) => {
                let sheet = self
                    .wb
                    .sheet("settings")
                    .map_or("settings".to_string(), |s| s.name.clone());
                let row = r.as_ref().map_or(h.row, |r| r.number);
                let col = match lang {
                    Some(l) if field == "form_title" => h
                        .cols(field)
                        .find(|c| c.tag.as_deref() == Some(l))
                        .or_else(|| h.col(field)),
                    _ => h.col(field).or_else(|| h.cols(field).next()),
                };
                Place::row(&sheet, row).with_column(col.map(Column::cell_ref))
            }
            None => Place::default(),
        }
    }

    fn survey_column(&self, key: &str, lang: Option<&str>) -> Option<ColumnRef> {
        let h = self.survey.as_ref()?;
        let field = match key {
            "default_expression" => "default",
            "choices" | "items" | "data_type" | "type" | "" => "type",
            "count" | "min" | "max" => "repeat_count",
            other => other,
        };
        let col = match lang {
            Some(l) => h
                .cols(field)
                .find(|c| c.tag.as_deref() == Some(l))
                .or_else(|| {
                    if l == self.default_lang() {
                        h.col(field)
                    } else {
                        None
                    }
                })
                .or_else(|| h.cols(field).next()),
            None => h.col(field).or_else(|| h.cols(field).next()),
        };
        col.map(|c| ColumnRef {
            letter: column_letter(c.index),
            header: c.header.clone(),
        })
    }
}

/// Suffix of the list an `or_other` select uses until its list is settled.
const OR_OTHER: &str = "_or_other";

fn rename_lists(nodes: &mut [Node], renames: &HashMap<String, String>) {
    for n in nodes {
        if let Some(new) = n.doc.choices.as_ref().and_then(|c| renames.get(c)) {
            n.doc.choices = Some(new.clone());
        }
        rename_lists(&mut n.children, renames);
    }
}

fn push(stack: &mut [Open], root: &mut Vec<Node>, node: Node) {
    match stack.last_mut() {
        Some(top) => top.node.children.push(node),
        None => root.push(node),
    }
}

fn blank(kind: ItemType, name: String) -> ItemDoc {
    ItemDoc {
        kind,
        name,
        label: None,
        hint: None,
        relevant: None,
        required: None,
        required_message: None,
        constraint: None,
        constraint_message: None,
        read_only: None,
        default: None,
        default_expression: None,
        calculation: None,
        appearance: None,
        choices: None,
        choice_filter: None,
        parameters: None,
        data_type: None,
        count: None,
        min: None,
        max: None,
        items: None,
    }
}

/// An identifier made from a file name: other characters become `_`, as pyxform does for form ids.
pub fn identifier_from(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
        out.truncate(64);
    }
    debug_assert!(is_identifier(&out));
    out
}

/// The value at a JSON path such as `items[3].items[0].constraint` or `choices.yn[1].label.en`.
fn value_at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path.split('.') {
        let (key, idx) = match seg.find('[') {
            Some(i) => (&seg[..i], Some(&seg[i..])),
            None => (seg, None),
        };
        if !key.is_empty() {
            cur = cur.get(key)?;
        }
        if let Some(idx) = idx {
            for part in idx.split('[').filter(|p| !p.is_empty()) {
                cur = cur.get(part.trim_end_matches(']').parse::<usize>().ok()?)?;
            }
        }
    }
    Some(cur)
}
