//! Converts the fixture XLSForms (REACH, KoboToolbox and ODK style forms, and bad inputs) and
//! compares the JSON and the problems with the committed snapshots in `tests/expected/`.
//!
//! After an intended change, rerun with `UPDATE_EXPECT=1` and review the diff of `tests/expected/`.

use std::path::{Path, PathBuf};

use doorstep_xlsform::{Conversion, convert_file};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Compares `actual` with the snapshot file, or rewrites it under `UPDATE_EXPECT=1`.
fn expect(file: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(file);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run with UPDATE_EXPECT=1 to create it",
            path.display()
        )
    });
    if want != actual {
        panic!(
            "{} differs from the conversion; run with UPDATE_EXPECT=1 and review the diff\n--- expected\n{want}\n--- actual\n{actual}",
            path.display()
        );
    }
}

fn problems_text(c: &Conversion) -> String {
    c.problems.iter().map(|p| format!("{p}\n")).collect()
}

fn convert(name: &str) -> Conversion {
    convert_file(&fixture(&format!("{name}.xlsx"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A good form converts without errors, loads in the engine without errors, and matches its snapshots.
fn check_good(name: &str) -> Conversion {
    let c = convert(name);
    let errors: Vec<String> = c.errors().map(ToString::to_string).collect();
    assert!(
        errors.is_empty(),
        "{name} has errors:\n{}",
        errors.join("\n")
    );
    let json = c.json.as_deref().expect("a converted form");
    let loaded = doorstep_core::form::load(json);
    let engine_errors: Vec<String> = loaded.errors().map(ToString::to_string).collect();
    assert!(
        engine_errors.is_empty(),
        "the engine refuses {name}:\n{}",
        engine_errors.join("\n")
    );
    assert!(loaded.form.is_some());
    expect(&format!("{name}.form.json"), json);
    expect(&format!("{name}.problems.txt"), &problems_text(&c));
    c
}

fn check_bad(name: &str) -> Conversion {
    let c = convert(name);
    assert!(c.has_errors(), "{name} converted without errors");
    expect(&format!("{name}.problems.txt"), &problems_text(&c));
    c
}

#[test]
fn reach_msna() {
    let c = check_good("reach_msna");
    let p = problems_text(&c);
    assert!(
        p.contains(
            "warning[xlsform/dropped-metadata] sheet survey row 7, column A (type): `audit`"
        ),
        "{p}"
    );
}

#[test]
fn kobo_household() {
    let c = check_good("kobo_household");
    let p = problems_text(&c);
    assert!(
        p.contains(
            "warning[xlsform/dropped-metadata] sheet survey row 6, column A (type): `phonenumber`"
        ),
        "{p}"
    );
    assert!(p.contains("guidance_hint::English (en)"), "{p}");
}

#[test]
fn odk_cascade_roster() {
    check_good("odk_cascade_roster");
}

#[test]
fn unknown_type() {
    let c = check_bad("bad_unknown_type");
    let p = problems_text(&c);
    assert!(p.contains("error[xlsform/unknown-type] sheet survey row 3, column A (type): unknown question type `select_one_or_specify yn`"), "{p}");
    assert!(p.contains("sheet survey row 4, column A (type): unknown question type `integr`; did you mean `integer`?"), "{p}");
}

#[test]
fn duplicate_names() {
    let c = check_bad("bad_duplicate_names");
    let p = problems_text(&c);
    assert!(p.contains("error[xlsform/duplicate-name] sheet survey row 4, column B (name): the name `hh_name` is already used at row 2"), "{p}");
    assert_eq!(c.errors().count(), 1, "{p}");
}

#[test]
fn broken_expressions() {
    let c = check_bad("bad_expression");
    let p = problems_text(&c);
    assert!(
        p.contains("sheet survey row 2, column E (constraint)"),
        "{p}"
    );
    assert!(p.contains("sheet survey row 3, column D (relevant)"), "{p}");
    assert!(
        p.contains("sheet survey row 4, column G (calculation)"),
        "{p}"
    );
}

#[test]
fn missing_survey_sheet() {
    let c = check_bad("bad_missing_survey");
    assert!(c.json.is_none());
    assert_eq!(
        problems_text(&c),
        "error[xlsform/missing-sheet] workbook: the workbook has no `survey` sheet (it has: questions, choices, settings): XLSForm puts the questions on a sheet named survey\n"
    );
}

#[test]
fn missing_choices_file() {
    let c = check_bad("bad_missing_file");
    let p = problems_text(&c);
    assert!(p.contains("error[xlsform/missing-file] sheet survey row 2, column A (type): the choices file `villages.csv` is missing"), "{p}");
    assert_eq!(c.errors().count(), 1, "{p}");
}

#[test]
fn end_without_begin() {
    let c = check_bad("bad_end_without_begin");
    let p = problems_text(&c);
    assert!(p.contains("error[xlsform/unmatched-end] sheet survey row 3, column A (type): `end group` has no `begin group` before it"), "{p}");
}

#[test]
fn metadata_read_in_expression() {
    let c = check_bad("bad_metadata_read");
    let p = problems_text(&c);
    assert!(p.contains("error[xlsform/reads-dropped-metadata] sheet survey row 4, column D (calculation): `${device_imei}` reads the imei metadata of row 2"), "{p}");
    assert!(p.contains("warning[xlsform/dropped-metadata] sheet survey row 2, column A (type): `imei` (`device_imei`) is dropped"), "{p}");
    assert_eq!(c.errors().count(), 1, "{p}");
}

#[test]
fn not_a_spreadsheet() {
    let e = convert_file(&fixture("districts.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot read") && e.contains("districts.csv"),
        "{e}"
    );
    let e = convert_file(&fixture("no_such_form.xlsx"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
}

#[test]
fn spreadsheet_error_cells() {
    let c = check_bad("bad_cell_error");
    let p = problems_text(&c);
    assert!(
        p.starts_with("error[xlsform/cell-error] sheet survey row 3, column D (calculation): the cell shows the spreadsheet error #REF!"),
        "{p}"
    );
}
