//! Small in-memory XLSForms, one behaviour each: where a problem is reported, and how a column
//! converts. The fixture tests (`convert_fixtures.rs`) cover whole forms.

use std::collections::HashMap;

use doorstep_xlsform::external::NoFiles;
use doorstep_xlsform::{Conversion, Workbook, convert};
use serde_json::{Value, json};

const SETTINGS: [&str; 4] = ["form_id", "version", "form_title", "instance_name"];

fn form(survey: Vec<Vec<&str>>, choices: Option<Vec<Vec<&str>>>) -> Conversion {
    form_with(survey, choices, vec![vec!["t", "1", "T"]], &NoFiles)
}

fn form_with(
    survey: Vec<Vec<&str>>,
    choices: Option<Vec<Vec<&str>>>,
    settings: Vec<Vec<&str>>,
    files: &dyn doorstep_xlsform::external::ExternalFiles,
) -> Conversion {
    let mut sheets = vec![("survey", survey)];
    if let Some(c) = choices {
        sheets.push(("choices", c));
    }
    let mut s = vec![SETTINGS.to_vec()];
    s.extend(settings);
    sheets.push(("settings", s));
    convert(&Workbook::from_rows(&sheets), files, "t")
}

fn lines(c: &Conversion) -> Vec<String> {
    c.problems.iter().map(ToString::to_string).collect()
}

fn has(c: &Conversion, text: &str) {
    let l = lines(c);
    assert!(
        l.iter().any(|p| p.contains(text)),
        "no problem contains {text:?}:\n{}",
        l.join("\n")
    );
}

fn items(c: &Conversion) -> Value {
    serde_json::from_str::<Value>(c.json.as_deref().unwrap()).unwrap()["items"].clone()
}

#[test]
fn a_survey_without_questions_is_refused() {
    let c = form(vec![vec!["type", "name", "label"]], None);
    has(
        &c,
        "error[xlsform/no-questions] sheet survey: the survey sheet has no questions",
    );
    let c = form(
        vec![
            vec!["type", "name", "label", "calculation"],
            vec!["start", "started_at", ""],
            vec!["calculate", "one", "", "1"],
        ],
        None,
    );
    has(&c, "xlsform/no-questions");
    let c = form(
        vec![
            vec!["type", "name", "label"],
            vec!["note", "hello", "Hello"],
        ],
        None,
    );
    assert!(
        !lines(&c).iter().any(|l| l.contains("no-questions")),
        "a note is something to see"
    );
}

#[test]
fn unclosed_and_mismatched_containers() {
    let c = form(
        vec![
            vec!["type", "name", "label"],
            vec!["begin repeat", "members", "Members"],
            vec!["text", "member_name", "Name"],
            vec!["end group"],
            vec!["begin group", "assets", "Assets"],
            vec!["integer", "goats", "Goats"],
        ],
        None,
    );
    has(
        &c,
        "error[xlsform/unmatched-end] sheet survey row 4, column A (type): `end group` closes the repeat `members` begun at row 2: write `end repeat`",
    );
    has(
        &c,
        "error[xlsform/unmatched-begin] sheet survey row 5, column A (type): the group `assets` begun here is never closed",
    );
}

#[test]
fn containers_and_questions_need_names_and_types() {
    let c = form(
        vec![
            vec!["type", "name", "label"],
            vec!["begin group", "", "Household"],
            vec!["text", "", "Name"],
            vec!["", "age", "Age"],
            vec!["end group"],
        ],
        None,
    );
    has(
        &c,
        "error[xlsform/missing-name] sheet survey row 2, column B (name): this `begin group` row has no name",
    );
    has(
        &c,
        "error[xlsform/missing-name] sheet survey row 3, column B (name): this `text` row has no name",
    );
    has(
        &c,
        "error[xlsform/missing-type] sheet survey row 4, column A (type): this row (`age`) has no type",
    );
    // The engine's complaints about the empty names land on the same cells and are not repeated.
    assert_eq!(c.errors().count(), 3, "{:#?}", lines(&c));
}

#[test]
fn engine_problems_are_placed_in_the_spreadsheet() {
    let c = form(
        vec![
            vec![
                "type",
                "name",
                "label",
                "constraint",
                "repeat_count",
                "default",
            ],
            vec!["integer", "hh size", "Size", ". > 0", "", ""],
            vec!["select_one colours", "colour", "Colour", "", "", ""],
            vec!["text", "note_x", "Note", "", "3", ""],
            vec!["integer", "n", "N", "", "", "2.5"],
            vec!["select_one yn", "ok", "OK?", "", "", "maybe"],
        ],
        Some(vec![
            vec!["list_name", "name", "label"],
            vec!["yn", "yes", "Yes"],
            vec!["yn", "yes", "Yes again"],
        ]),
    );
    has(
        &c,
        "error[form/bad-identifier] sheet survey row 2, column B (name): item name `hh size` is not an identifier",
    );
    has(
        &c,
        "warning[item/no-constraint-message] sheet survey row 2, column D (constraint)",
    );
    has(
        &c,
        "error[form/unknown-choices] sheet survey row 3, column A (type): there is no choice list `colours`",
    );
    has(
        &c,
        "error[form/key-not-allowed] sheet survey row 4, column E (repeat_count): `count` does not apply to a text item",
    );
    has(
        &c,
        "error[xlsform/bad-default] sheet survey row 5, column F (default): `2.5` is not a whole number",
    );
    has(
        &c,
        "error[form/duplicate-choice] sheet choices row 3, column B (name): the value `yes` is already used at row 2 (list `yn`)",
    );
    has(
        &c,
        "error[form/bad-default] sheet survey row 6, column F (default)",
    );
}

#[test]
fn language_codes() {
    let wb = Workbook::from_rows(&[
        (
            "survey",
            vec![
                vec![
                    "type",
                    "name",
                    "label::English",
                    "label::中文 (zh-CN)",
                    "hint::English (en)",
                    "label",
                ],
                vec!["text", "name", "Name", "姓名", "Full name", ""],
                vec!["integer", "age", "Age", "", "", ""],
                vec!["note", "n", "", "", "", "Plain"],
            ],
        ),
        (
            "settings",
            vec![
                vec!["form_id", "version", "default_language"],
                vec!["t", "1", "中文 (zh-CN)"],
            ],
        ),
    ]);
    let c = convert(&wb, &NoFiles, "t");
    assert!(!c.has_errors(), "{:#?}", lines(&c));
    let doc: Value = serde_json::from_str(c.json.as_deref().unwrap()).unwrap();
    // `label::English` takes its code from `hint::English (en)`; the default comes first.
    assert_eq!(doc["languages"], json!(["zh-CN", "en"]));
    assert_eq!(
        doc["items"][0]["label"],
        json!({"en": "Name", "zh-CN": "姓名"})
    );
    // A plain `label` column is the default language's.
    assert_eq!(doc["items"][2]["label"], json!({"zh-CN": "Plain"}));
    has(
        &c,
        "warning[text/missing-translation] sheet survey row 3, column D (label::中文 (zh-CN)): no translation for zh-CN",
    );

    let wb = Workbook::from_rows(&[(
        "survey",
        vec![
            vec!["type", "name", "label::Klingon", "label::French"],
            vec!["text", "a", "A", "A"],
        ],
    )]);
    let c = convert(&wb, &NoFiles, "t");
    has(
        &c,
        "error[xlsform/language-code] sheet survey row 1, column C (label::Klingon): cannot tell the code of the language `Klingon`",
    );
    has(
        &c,
        "warning[xlsform/language-code] sheet survey row 1, column D (label::French): the language `French` has no code: read as `fr`",
    );
}

#[test]
fn single_language_forms_have_plain_texts() {
    let c = form(
        vec![
            vec!["type", "name", "label", "hint"],
            vec!["text", "a", "A", "Say A"],
        ],
        None,
    );
    let doc: Value = serde_json::from_str(c.json.as_deref().unwrap()).unwrap();
    assert_eq!(doc["languages"], json!(["und"]));
    assert_eq!(doc["items"][0]["label"], json!("A"));
    assert_eq!(doc["items"][0]["hint"], json!("Say A"));
}

#[test]
fn column_conversions() {
    let c = form(
        vec![
            vec![
                "type",
                "name",
                "label",
                "required",
                "read_only",
                "default",
                "parameters",
                "relevance",
                "jr:count",
                "body::accuracyThreshold",
            ],
            vec![
                "range",
                "r",
                "R",
                "TRUE()",
                "",
                "",
                "start=0, end=100, step=5",
                "",
                "",
                "",
            ],
            vec!["range", "r2", "R2", "", "", "", "", "", "", ""],
            vec![
                "integer",
                "n",
                "N",
                "${r} > 10",
                "no",
                "${r} div 5",
                "",
                "",
                "",
                "",
            ],
            vec![
                "begin repeat",
                "kids",
                "Kids",
                "",
                "",
                "",
                "",
                "${n} > 0",
                "${n}",
                "",
            ],
            vec![
                "geopoint",
                "gp",
                "Where",
                "",
                "yes",
                "",
                "capture-accuracy=10",
                "",
                "",
                "5",
            ],
            vec!["end repeat"],
            vec!["range", "r3", "R3", "", "", "", "start=a", "", "", ""],
        ],
        None,
    );
    let it = items(&c);
    assert_eq!(
        it[0]["parameters"],
        json!({"start": 0.0, "end": 100.0, "step": 5.0})
    );
    assert_eq!(it[0]["required"], json!(true));
    assert_eq!(
        it[1]["parameters"],
        json!({"start": 1.0, "end": 10.0, "step": 1.0})
    );
    assert_eq!(it[2]["required"], json!("${r} > 10"));
    assert!(it[2].get("read_only").is_none());
    assert_eq!(it[2]["default_expression"], json!("${r} div 5"));
    assert_eq!(it[3]["relevant"], json!("${n} > 0"));
    assert_eq!(it[3]["count"], json!("${n}"));
    assert_eq!(it[3]["items"][0]["read_only"], json!(true));
    has(
        &c,
        "warning[xlsform/not-converted] sheet survey row 6, column G (parameters): the parameter `capture-accuracy` of this geopoint question is not converted",
    );
    has(
        &c,
        "warning[xlsform/not-converted] sheet survey row 6, column J (body::accuracyThreshold): the column `body::accuracyThreshold` is not converted",
    );
    has(
        &c,
        "error[xlsform/bad-parameters] sheet survey row 8, column G (parameters): `start=a`: start must be a number",
    );
}

#[test]
fn unknown_columns_and_disabled_rows_are_reported() {
    let c = form(
        vec![
            vec!["type", "name", "label", "lable_fr", "disabled"],
            vec!["text", "a", "A", "", ""],
            vec!["text", "b", "B", "Bé", ""],
            vec!["text", "c", "C", "", "yes"],
        ],
        None,
    );
    has(
        &c,
        "warning[xlsform/not-converted] sheet survey row 3, column D (lable_fr): the column `lable_fr` is not converted (it is not an XLSForm column that Doorstep converts)",
    );
    has(
        &c,
        "warning[xlsform/disabled] sheet survey row 4, column E (disabled): `c` is disabled",
    );
    assert_eq!(items(&c).as_array().unwrap().len(), 2);
}

#[test]
fn choices_from_files_are_placed_by_line() {
    let files: HashMap<String, Vec<u8>> = HashMap::from([
        (
            "villages.csv".to_string(),
            b"name,label,district\nv1,Village 1,d1\nv1,Village one,d1\n".to_vec(),
        ),
        (
            "itemsets.csv".to_string(),
            b"list_name,name,label,village\nhamlet,h1,Hamlet 1,v1\n".to_vec(),
        ),
    ]);
    let c = form_with(
        vec![
            vec!["type", "name", "label", "choice_filter"],
            vec![
                "select_one_from_file villages.csv",
                "village",
                "Village",
                "",
            ],
            vec![
                "select_one_external hamlet",
                "hamlet",
                "Hamlet",
                "village=${village}",
            ],
            vec!["select_one_external street", "street", "Street", ""],
        ],
        None,
        vec![vec!["t", "1", "T"]],
        &files,
    );
    has(
        &c,
        "error[form/duplicate-choice] file villages.csv line 3, column name: the value `v1` is already used at line 2 (list `villages`)",
    );
    has(
        &c,
        "error[xlsform/unknown-list] sheet survey row 4, column A (type): there is no external choice list `street`",
    );
    let doc: Value = serde_json::from_str(c.json.as_deref().unwrap()).unwrap();
    assert_eq!(
        doc["choices"]["hamlet"],
        json!([{"value": "h1", "label": "Hamlet 1", "village": "v1"}])
    );
    assert_eq!(doc["items"][0]["choices"], json!("villages"));
}

#[test]
fn or_other_copies_a_shared_list() {
    let c = form(
        vec![
            vec!["type", "name", "label"],
            vec!["select_one src or_other", "water", "Water"],
            vec!["select_one src", "water2", "Water 2"],
        ],
        Some(vec![
            vec!["list_name", "name", "label"],
            vec!["src", "tap", "Tap"],
        ]),
    );
    assert!(!c.has_errors(), "{:#?}", lines(&c));
    let doc: Value = serde_json::from_str(c.json.as_deref().unwrap()).unwrap();
    assert_eq!(doc["items"][0]["choices"], json!("src_or_other"));
    assert_eq!(doc["items"][1]["name"], json!("water_other"));
    assert_eq!(
        doc["items"][1]["relevant"],
        json!("selected(${water}, 'other')")
    );
    assert_eq!(doc["items"][2]["choices"], json!("src"));
    assert_eq!(doc["choices"]["src"].as_array().unwrap().len(), 1);
    assert_eq!(doc["choices"]["src_or_other"][1]["value"], json!("other"));
}

#[test]
fn metadata_in_labels_and_instance_name_is_caught() {
    let c = form_with(
        vec![
            vec!["type", "name", "label"],
            vec!["simserial", "sim"],
            vec!["note", "n", "SIM: ${sim}"],
        ],
        None,
        vec![vec!["t", "1", "T", "concat('x', ${sim})"]],
        &NoFiles,
    );
    has(
        &c,
        "error[xlsform/reads-dropped-metadata] sheet survey row 3, column C (label): `${sim}` reads the simserial metadata of row 2",
    );
    has(
        &c,
        "error[xlsform/reads-dropped-metadata] sheet settings row 2, column D (instance_name): `${sim}` reads the simserial metadata of survey row 2",
    );
    assert_eq!(c.errors().count(), 2, "{:#?}", lines(&c));
}

#[test]
fn missing_settings_give_defaults_with_warnings() {
    let wb = Workbook::from_rows(&[(
        "survey",
        vec![vec!["type", "name", "label"], vec!["text", "a", "A"]],
    )]);
    let c = convert(&wb, &NoFiles, "2026 household survey");
    let doc: Value = serde_json::from_str(c.json.as_deref().unwrap()).unwrap();
    assert_eq!(doc["id"], json!("_2026_household_survey"));
    assert_eq!(doc["version"], json!("1"));
    has(
        &c,
        "warning[xlsform/no-form-id] workbook: the settings give no form_id",
    );
    has(
        &c,
        "warning[xlsform/no-version] workbook: the settings give no version",
    );
}

#[test]
fn choices_sheet_needs_its_columns() {
    let c = form(
        vec![
            vec!["type", "name", "label"],
            vec!["select_one yn", "q", "Q"],
        ],
        Some(vec![
            vec!["list", "name", "label"],
            vec!["yn", "yes", "Yes"],
        ]),
    );
    has(
        &c,
        "error[xlsform/missing-column] sheet choices row 1: the choices sheet has no `list_name` column",
    );
}

/// A select with `or_other` adds the text question `<name>_other`; a form that also has its own
/// question of that name (as Kobo forms often do) was told "already used by items[1]", a JSON
/// path the supervisor cannot find. It is now said at the row, with the two ways out.
#[test]
fn or_other_next_to_an_own_other_question() {
    for own_first in [false, true] {
        let own = vec!["text", "water_other", "Other water source"];
        let select = vec!["select_one water or_other", "water", "Water"];
        let survey = if own_first {
            vec![vec!["type", "name", "label"], own, select]
        } else {
            vec![vec!["type", "name", "label"], select, own]
        };
        let (own_row, select_row) = if own_first { (2, 3) } else { (3, 2) };
        let c = form(
            survey,
            Some(vec![
                vec!["list_name", "name", "label"],
                vec!["water", "pipe", "Pipe"],
            ]),
        );
        let errors: Vec<String> = c.errors().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [format!(
                "error[xlsform/duplicate-name] sheet survey row {own_row}, column B (name): the name `water_other` is also the text question that `or_other` at row {select_row} adds: remove `or_other` from row {select_row} to keep this question, or rename this one"
            )],
        );
    }
}

/// A settings sheet named `Settings` (as Excel users write it) is named so in a problem about its
/// instance_name, as every other problem there is; it was called `settings`.
#[test]
fn the_settings_sheet_is_named_as_the_workbook_names_it() {
    let wb = Workbook::from_rows(&[
        (
            "survey",
            vec![
                vec!["type", "name", "label"],
                vec!["audit", "audit", ""],
                vec!["text", "name", "Name"],
            ],
        ),
        (
            "Settings",
            vec![
                vec!["form_id", "version", "instance_name"],
                vec!["t", "1", "concat(${audit}, ${name})"],
            ],
        ),
    ]);
    let c = convert(&wb, &NoFiles, "t");
    has(
        &c,
        "error[xlsform/reads-dropped-metadata] sheet Settings row 2, column C (instance_name): `${audit}`",
    );
}

#[test]
fn a_column_that_appears_twice_is_refused() {
    // Only the first of two `relevant` columns would be read: the second's conditions would be lost.
    let c = form(
        vec![
            vec!["type", "name", "label", "relevant", "relevant"],
            vec!["integer", "age", "Age", "", ""],
            vec!["text", "job", "Job", "", "${age} >= 16"],
        ],
        None,
    );
    has(
        &c,
        "error[xlsform/duplicate-column] sheet survey row 3, column E (relevant): the column `relevant` repeats column D (`relevant`): only column D is read",
    );
    assert!(c.has_errors());
    // The same text column for one language, written twice.
    let c = form(
        vec![
            vec!["type", "name", "label::English (en)", "label::English (en)"],
            vec!["text", "a", "A", "A again"],
        ],
        None,
    );
    has(
        &c,
        "error[xlsform/duplicate-column] sheet survey row 2, column D (label::English (en)): the column `label::English (en)` repeats column C",
    );
    // An empty second column loses nothing.
    let c = form(
        vec![
            vec!["type", "name", "label", "hint", "hint"],
            vec!["text", "a", "A", "H", ""],
        ],
        None,
    );
    assert!(!c.has_errors(), "{}", lines(&c).join("\n"));
}

#[test]
fn a_misspelt_column_names_the_column_meant() {
    let c = form(
        vec![
            vec!["type", "name", "label", "relevent", "constriant"],
            vec!["integer", "a", "A", "", ". > 0"],
            vec!["text", "b", "B", "${a} > 3", ""],
        ],
        None,
    );
    has(
        &c,
        "warning[xlsform/not-converted] sheet survey row 3, column D (relevent): the column `relevent` is not converted (it is not an XLSForm column that Doorstep converts; did you mean `relevant`?)",
    );
    has(
        &c,
        "column E (constriant): the column `constriant` is not converted (it is not an XLSForm column that Doorstep converts; did you mean `constraint`?)",
    );
}
