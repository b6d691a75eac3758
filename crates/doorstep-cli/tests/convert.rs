//! CLI tests for `doorstep convert`: exit code, standard output and standard error together, on the
//! XLSForm fixtures of the doorstep-xlsform crate (good forms and one bad input per kind of problem).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixtures folder; commands run inside it so that messages name files as a supervisor types them.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../doorstep-xlsform/tests/fixtures")
}

fn doorstep() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    c.current_dir(fixtures()).env("TZ", "Asia/Shanghai");
    c
}

/// Runs and returns (exit code, stdout, stderr).
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "doorstep-convert-test-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn converts_a_form_that_lint_accepts() {
    let dir = temp_dir("good");
    let out_path = dir.join("reach.form.json");
    let (code, out, err) = run(doorstep()
        .args(["convert", "reach_msna.xlsx", "-o"])
        .arg(&out_path));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "warning[xlsform/dropped-metadata] reach_msna.xlsx, sheet survey row 7, column A (type): `audit` is dropped: a browser cannot know it; expressions must not read it\n\
             reach_msna.xlsx: converted to {} with 1 warning(s)\n",
            out_path.display()
        )
    );
    let (code, out, err) = run(doorstep().arg("lint").arg(&out_path));
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(
        out.ends_with("1 form checked: 0 error(s), 0 warning(s)\n"),
        "{out}"
    );
}

#[test]
fn writes_the_form_to_standard_output() {
    for name in ["kobo_household", "odk_cascade_roster"] {
        let (code, out, err) =
            run(doorstep().args(["convert", &format!("{name}.xlsx"), "-o", "-"]));
        assert_eq!(code, 0, "{err}");
        let want =
            std::fs::read_to_string(fixtures().join(format!("../expected/{name}.form.json")))
                .unwrap();
        assert_eq!(out, want, "{name}");
        assert!(
            err.ends_with(&format!(
                "{name}.xlsx: converted with {} warning(s)\n",
                err.lines().count() - 1
            )),
            "{err}"
        );
    }
}

#[test]
fn default_output_is_named_after_the_form_id() {
    let dir = temp_dir("default");
    for f in ["odk_cascade_roster.xlsx", "markets.csv", "crops.xml"] {
        std::fs::copy(fixtures().join(f), dir.join(f)).unwrap();
    }
    let (code, _, err) = run(doorstep()
        .arg("convert")
        .arg(dir.join("odk_cascade_roster.xlsx")));
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("odk_cascade_roster.form.json").is_file(), "{err}");
}

/// Converts a bad fixture: exit 1, nothing on standard output, the problems and the summary on
/// standard error, and no form written.
fn bad(name: &str) -> String {
    let dir = temp_dir(name);
    let out_path = dir.join("out.form.json");
    let (code, out, err) = run(doorstep()
        .args(["convert", &format!("{name}.xlsx"), "-o"])
        .arg(&out_path));
    assert_eq!(code, 1, "{name}: {out}{err}");
    assert_eq!(out, "", "{name}");
    assert!(!out_path.exists(), "{name}: a form was written");
    assert!(err.ends_with("; no form written\n"), "{err}");
    err
}

#[test]
fn unknown_type() {
    assert_eq!(
        bad("bad_unknown_type"),
        "error[xlsform/unknown-type] bad_unknown_type.xlsx, sheet survey row 3, column A (type): unknown question type `select_one_or_specify yn`; for an \"other, specify\" option write `select_one list_name or_other`, or add an `other` choice and a text question with a relevant\n\
         error[xlsform/unknown-type] bad_unknown_type.xlsx, sheet survey row 4, column A (type): unknown question type `integr`; did you mean `integer`?\n\
         bad_unknown_type.xlsx: 2 error(s), 0 warning(s); no form written\n"
    );
}

#[test]
fn duplicate_names() {
    assert_eq!(
        bad("bad_duplicate_names"),
        "error[xlsform/duplicate-name] bad_duplicate_names.xlsx, sheet survey row 4, column B (name): the name `hh_name` is already used at row 2: names must be unique in the whole form, even in different groups\n\
         bad_duplicate_names.xlsx: 1 error(s), 0 warning(s); no form written\n"
    );
}

#[test]
fn broken_expressions() {
    let err = bad("bad_expression");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines[0].starts_with(
            "error[expr/syntax] bad_expression.xlsx, sheet survey row 2, column E (constraint): "
        ),
        "{err}"
    );
    assert!(lines[0].ends_with("(at the end of `. > 0 and`)"), "{err}");
    assert!(
        lines[1].starts_with("error[expr/unknown-name] bad_expression.xlsx, sheet survey row 3, column D (relevant): there is no item named `hh_sise`"),
        "{err}"
    );
    assert!(
        lines[2].starts_with("error[expr/unknown-function] bad_expression.xlsx, sheet survey row 4, column G (calculation): unknown function `sume`"),
        "{err}"
    );
}

#[test]
fn missing_survey_sheet() {
    assert_eq!(
        bad("bad_missing_survey"),
        "error[xlsform/missing-sheet] bad_missing_survey.xlsx, workbook: the workbook has no `survey` sheet (it has: questions, choices, settings): XLSForm puts the questions on a sheet named survey\n\
         bad_missing_survey.xlsx: 1 error(s), 0 warning(s); no form written\n"
    );
}

#[test]
fn missing_choices_file() {
    assert_eq!(
        bad("bad_missing_file"),
        "error[xlsform/missing-file] bad_missing_file.xlsx, sheet survey row 2, column A (type): the choices file `villages.csv` is missing: put it next to the spreadsheet (the type names it)\n\
         bad_missing_file.xlsx: 1 error(s), 0 warning(s); no form written\n"
    );
}

#[test]
fn end_without_begin() {
    assert_eq!(
        bad("bad_end_without_begin"),
        "error[xlsform/unmatched-end] bad_end_without_begin.xlsx, sheet survey row 3, column A (type): `end group` has no `begin group` before it: remove the row or add the begin row\n\
         bad_end_without_begin.xlsx: 1 error(s), 0 warning(s); no form written\n"
    );
}

#[test]
fn metadata_read_in_an_expression() {
    assert_eq!(
        bad("bad_metadata_read"),
        "error[xlsform/reads-dropped-metadata] bad_metadata_read.xlsx, sheet survey row 4, column D (calculation): `${device_imei}` reads the imei metadata of row 2, which is dropped because a browser cannot know it: remove the reference\n\
         warning[xlsform/dropped-metadata] bad_metadata_read.xlsx, sheet survey row 2, column A (type): `imei` (`device_imei`) is dropped: a browser cannot know it; expressions must not read it\n\
         bad_metadata_read.xlsx: 1 error(s), 1 warning(s); no form written\n"
    );
}

#[test]
fn problems_as_json_lines() {
    let (code, out, err) = run(doorstep().args([
        "convert",
        "bad_duplicate_names.xlsx",
        "--json",
        "-o",
        "/nonexistent/x.json",
    ]));
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["code"], "xlsform/duplicate-name");
    assert_eq!(
        (v["sheet"].as_str(), v["row"].as_u64(), v["column"].as_str()),
        (Some("survey"), Some(4), Some("B"))
    );
    assert_eq!(v["file"], "bad_duplicate_names.xlsx");
}

#[test]
fn unreadable_files_exit_2() {
    let (code, out, err) = run(doorstep().args(["convert", "no_such_form.xlsx"]));
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "error: cannot read no_such_form.xlsx: the file does not exist\n"
    );

    let (code, _, err) = run(doorstep().args(["convert", "districts.csv"]));
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: cannot read districts.csv as a spreadsheet ("),
        "{err}"
    );
    assert!(
        err.ends_with("): save it from Excel or LibreOffice as .xlsx\n"),
        "{err}"
    );

    let dir = temp_dir("corrupt");
    let p = dir.join("truncated.xlsx");
    let bytes = std::fs::read(fixtures().join("reach_msna.xlsx")).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, err) = run(doorstep().arg("convert").arg(&p));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("truncated.xlsx"), "{err}");

    let (code, _, err) = run(doorstep().args([
        "convert",
        "reach_msna.xlsx",
        "-o",
        "/nonexistent/dir/x.form.json",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot write /nonexistent/dir/x.form.json"),
        "{err}"
    );
}
