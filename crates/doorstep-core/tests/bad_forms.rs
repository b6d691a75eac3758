//! The bad-form corpus: every file in `forms/spec/bad/` must be refused with the expected codes,
//! each diagnostic naming its place, and never a panic.

use std::path::{Path, PathBuf};

use doorstep_core::form;

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../forms/spec/bad")
}

#[test]
fn every_bad_form_is_refused_with_its_codes() {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(bad_dir())
        .expect("forms/spec/bad exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".expect.json"))
        .collect();
    entries.sort();
    let mut failures = Vec::new();
    let mut checked = 0;
    for expect_path in &entries {
        let stem = expect_path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".expect.json")
            .to_string();
        let form_path = ["form.json", "json", "txt"]
            .iter()
            .map(|ext| expect_path.with_file_name(format!("{stem}.{ext}")))
            .find(|p| p.exists());
        let Some(form_path) = form_path else {
            failures.push(format!(
                "{stem}: no form file beside {}",
                expect_path.display()
            ));
            continue;
        };
        let expect: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(expect_path).unwrap()).unwrap();
        let bytes = std::fs::read(&form_path).unwrap();
        let result = form::load_bytes(&bytes);
        checked += 1;
        if result.form.is_some() {
            failures.push(format!("{stem}: loaded, but should be refused"));
            continue;
        }
        let codes: Vec<&str> = result.errors().map(|d| d.code).collect();
        for want in expect["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str())
        {
            if !codes.contains(&want) {
                let shown: Vec<String> = result.diagnostics.iter().map(|d| d.to_string()).collect();
                failures.push(format!(
                    "{stem}: expected `{want}`, got:\n      {}",
                    shown.join("\n      ")
                ));
            }
        }
        for d in result.errors() {
            if d.message.is_empty() {
                failures.push(format!("{stem}: diagnostic `{}` has no message", d.code));
            }
        }
    }
    println!("{checked} bad forms checked");
    assert!(
        checked >= 100,
        "the corpus should hold at least 100 bad forms, found {checked}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_file_over_ten_megabytes_is_refused_before_parsing() {
    let mut big =
        String::from(r#"{"format": "doorstep-form/1", "id": "big", "version": "1", "title": ""#);
    big.push_str(&"x".repeat(form::MAX_FILE_BYTES));
    big.push_str(r#"", "languages": ["en"], "items": []}"#);
    let r = form::load(&big);
    assert!(r.form.is_none());
    assert_eq!(r.diagnostics[0].code, "form/too-large");
    assert!(r.diagnostics[0].message.contains("10 MB"));
}

#[test]
fn a_quoted_number_default_says_to_remove_the_quotes() {
    let r = form::load(
        r#"{"format": "doorstep-form/1", "id": "q", "version": "1", "title": "t", "languages": ["en"],
            "items": [{"type": "integer", "name": "n", "label": "N", "default": "7", "min": 1}]}"#,
    );
    let messages: Vec<String> = r.diagnostics.iter().map(|d| d.message.clone()).collect();
    assert!(
        messages.iter().any(
            |m| m.starts_with("the default \"7\" is not a valid integer value")
                && m.ends_with(r#"write the number without quotes, "default": 7"#)
        ),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("`min` does not apply to an integer item")),
        "{messages:#?}"
    );
}
