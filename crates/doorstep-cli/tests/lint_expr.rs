//! CLI tests for `lint`, `expr` and `schema`: exit code, standard output and standard error together.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn doorstep() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_doorstep"));
    c.env("TZ", "Asia/Shanghai");
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs and returns (exit code, stdout, stderr).
fn run(cmd: &mut Command, stdin: &str) -> (i32, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("doorstep-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn lint_of_the_shipped_forms_is_clean() {
    let forms = [
        "household_needs",
        "care_visit",
        "emergency_aid",
        "register_change",
    ];
    let mut cmd = doorstep();
    cmd.arg("lint");
    for f in forms {
        cmd.arg(root().join(format!("forms/{f}.form.json")));
    }
    let (code, out, err) = run(&mut cmd, "");
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(
        out.ends_with("4 forms checked: 0 error(s), 0 warning(s)\n"),
        "{out}"
    );
}

#[test]
fn lint_shows_the_place_and_the_span() {
    let p = temp_file(
        "broken.form.json",
        r#"{
  "format": "doorstep-form/1", "id": "broken", "version": "1", "title": "t", "languages": ["en"],
  "items": [
    {"type": "integer", "name": "age", "label": "Age"},
    {"type": "calculate", "name": "x", "calculation": "sume(${age}) + ${agee}"}
  ]
}"#,
    );
    let (code, out, err) = run(doorstep().arg("lint").arg(&p), "");
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err, "");
    assert!(out.contains("error[expr/unknown-function]"), "{out}");
    assert!(
        out.contains(
            "error[expr/unknown-name]: there is no item named `agee`; did you mean `age`?"
        ),
        "{out}"
    );
    assert!(
        out.contains(":5:") && out.contains("(items[1].calculation)"),
        "{out}"
    );
    assert!(out.contains("^^^^"), "{out}");
    assert!(
        out.contains("1 form checked: 2 error(s), 0 warning(s)"),
        "{out}"
    );
}

/// The caret line under a rendered diagnostic: the characters before the carets and the carets.
fn caret(out: &str) -> (usize, usize) {
    let line = out.lines().find(|l| l.contains('^')).expect("a caret line");
    let body = &line[line.find("| ").unwrap() + 2..];
    let before = body.chars().take_while(|&c| c == ' ').count();
    (before, body.chars().filter(|&c| c == '^').count())
}

/// The text a caret marks on the line above it.
fn marked(out: &str) -> String {
    let lines: Vec<&str> = out.lines().collect();
    let i = lines.iter().position(|l| l.contains('^')).unwrap();
    let text = &lines[i - 1][lines[i - 1].find("| ").unwrap() + 2..];
    let (before, len) = caret(out);
    text.chars().skip(before).take(len).collect()
}

#[test]
fn lint_marks_the_name_after_escapes_in_an_expression() {
    // A converted XLSForm writes `selected(${q}, "a")` as `\"a\"` in the JSON, and `\u5f20` is 张.
    let p = temp_file(
        "escapes.form.json",
        r#"{"format": "doorstep-form/1", "id": "e", "version": "1", "title": "t", "languages": ["en"],
"items": [{"type": "text", "name": "a", "label": "A",
"relevant": "concat(\"\u5f20\", \"b\") = ${nosuch}"}]}"#,
    );
    let (code, out, _) = run(doorstep().arg("lint").arg(&p), "");
    assert_eq!(code, 1, "{out}");
    assert_eq!(marked(&out), "${nosuch}", "{out}");
    assert!(out.contains("escapes.form.json:3:42 "), "{out}");
    let (_, json, _) = run(doorstep().args(["lint", "--json"]).arg(&p), "");
    assert!(json.contains(r#""line_col":[3,42]"#), "{json}");
}

#[test]
fn lint_marks_the_right_place_in_a_file_with_a_byte_order_mark() {
    let p = temp_file(
        "bom.form.json",
        "\u{feff}{\"format\": \"doorstep-form/1\", \"id\": \"b\", \"version\": \"1\", \"title\": \"t\",\n\
         \"languages\": [\"en\"], \"items\": [{\"type\": \"text\", \"name\": \"a\", \"label\": \"A\", \"relevant\": \"${b} = 1\"}]}",
    );
    let (code, out, _) = run(doorstep().arg("lint").arg(&p), "");
    assert_eq!(code, 1, "{out}");
    assert_eq!(marked(&out), "${b}", "{out}");
}

#[test]
fn lint_of_a_form_on_one_line_shows_a_window_of_it() {
    // A minified form is one line: the diagnostic shows the part around the place, not the file.
    let items: Vec<String> = (0..300)
        .map(|i| format!(r#"{{"type": "integer", "name": "q{i}", "label": "Q"}}"#))
        .collect();
    let p = temp_file(
        "oneline.form.json",
        &format!(
            r#"{{"format": "doorstep-form/1", "id": "o", "version": "1", "title": "t", "languages": ["en"], "items": [{}, {{"type": "integer", "name": "late", "label": "L", "relevant": "${{nosuch}} > 1"}}]}}"#,
            items.join(", ")
        ),
    );
    let (code, out, _) = run(doorstep().arg("lint").arg(&p), "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines().all(|l| l.chars().count() <= 140),
        "a line longer than 140 characters:\n{out}"
    );
    assert_eq!(marked(&out), "${nosuch}", "{out}");
    assert!(out.contains("| …"), "{out}");
}

#[test]
fn lint_of_invalid_json_gives_line_and_column() {
    let p = temp_file(
        "syntax.form.json",
        "{\n  \"format\": \"doorstep-form/1\",\n  \"id\": \"x\",,\n}",
    );
    let (code, out, _) = run(doorstep().arg("lint").arg(&p), "");
    assert_eq!(code, 1);
    assert!(
        out.contains("error[form/json-syntax]") && out.contains("line 3"),
        "{out}"
    );
}

#[test]
fn lint_of_a_missing_file_is_an_error() {
    let (code, out, err) = run(doorstep().args(["lint", "/nonexistent/x.form.json"]), "");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.starts_with("error: cannot read /nonexistent/x.form.json"),
        "{err}"
    );
}

#[test]
fn expr_prints_value_and_type() {
    let (code, out, err) = run(
        doorstep().args([
            "expr",
            "--now",
            "2026-11-22T09:00:00+08:00",
            "age('1980-11-23')",
        ]),
        "",
    );
    assert_eq!((code, out.as_str(), err.as_str()), (0, "45 (number)\n", ""));
    let (code, out, _) = run(doorstep().args(["expr", "concat('a', 1.50)"]), "");
    assert_eq!((code, out.as_str()), (0, "\"a1.5\" (string)\n"));
    let (code, out, _) = run(doorstep().args(["expr", "sume(1)"]), "");
    assert_eq!(code, 1);
    assert!(out.starts_with("error[expr/unknown-function]"), "{out}");
}

#[test]
fn expr_places_an_error_in_characters() {
    // `concat('张三李四', ` is 15 characters (23 bytes): the unknown name starts at character 15.
    let (code, out, _) = run(
        doorstep().args(["expr", "concat('张三李四', ${nosuch})"]),
        "",
    );
    assert_eq!(code, 1);
    assert!(out.contains("(characters 15..24)"), "{out}");
}

#[test]
fn expr_reads_an_expression_that_starts_with_a_minus() {
    let (code, out, err) = run(doorstep().args(["expr", "-5 mod 3"]), "");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "-2 (number)\n", ""));
}

#[test]
fn expr_takes_answers_as_json_or_as_a_file() {
    let (code, out, err) = run(
        doorstep().args(["expr", "--answers", r#"{"age": 40}"#, "${age} + 1"]),
        "",
    );
    assert_eq!((code, out.as_str(), err.as_str()), (0, "41 (number)\n", ""));
    let p = temp_file("answers.json", r#"{"age": 40}"#);
    let (code, out, _) = run(
        doorstep()
            .args(["expr", "--answers"])
            .arg(&p)
            .arg("${age} * 2"),
        "",
    );
    assert_eq!((code, out.as_str()), (0, "80 (number)\n"));
}

#[test]
fn expr_today_follows_tz() {
    // 23:30 UTC on the 22nd is already the 23rd in Shanghai.
    let (_, out, _) = run(
        doorstep().args(["expr", "--now", "2026-11-22T23:30:00Z", "today()"]),
        "",
    );
    assert_eq!(out, "\"2026-11-23\" (string)\n");
    let (_, out, _) = run(
        doorstep()
            .env("TZ", "UTC")
            .args(["expr", "--now", "2026-11-22T23:30:00Z", "today()"]),
        "",
    );
    assert_eq!(out, "\"2026-11-22\" (string)\n");
}

#[test]
fn expr_batch_answers_one_line_each() {
    let input = concat!(
        r#"{"expr": "${a} + 1", "answers": {"a": 41}}"#,
        "\n",
        r#"{"expr": "count(${m}[age < 18])", "answers": {"m": [{"age": 10}, {"age": 40}, {"age": 3}]}}"#,
        "\n",
        r#"{"expr": "selected(${s}, 'b')", "answers": {"s": ["a", "b"]}}"#,
        "\n",
        r#"{"expr": "${m}", "answers": {"m": [{"age": 10}, {"age": 40}]}}"#,
        "\n",
        r#"{"expr": "1 div 0", "answers": {}}"#,
        "\n",
        r#"{"expr": "if(", "answers": {}}"#,
        "\n",
        "not json\n",
    );
    let (code, out, err) = run(doorstep().args(["expr", "--batch"]), input);
    assert_eq!((code, err.as_str()), (0, ""));
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[0], serde_json::json!({"value": 42, "type": "number"}));
    assert_eq!(lines[1], serde_json::json!({"value": 2, "type": "number"}));
    assert_eq!(
        lines[2],
        serde_json::json!({"value": true, "type": "boolean"})
    );
    assert_eq!(lines[3]["type"], "list");
    assert_eq!(
        lines[4],
        serde_json::json!({"value": "Infinity", "type": "number"})
    );
    assert_eq!(lines[5]["error"]["code"], "expr/syntax");
    assert_eq!(lines[6]["error"]["code"], "input/json");
}

/// The fenced blocks of one language in a Markdown file.
fn fenced(doc: &str, lang: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(doc)).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_start() == format!("```{lang}") => current = Some(String::new()),
            Some(_) if line.trim_start() == "```" => blocks.push(current.take().unwrap()),
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn the_forms_in_the_docs_lint_clean() {
    let blocks = fenced("docs/form-format.md", "json");
    assert!(!blocks.is_empty());
    for (i, b) in blocks.iter().enumerate() {
        let p = temp_file(&format!("doc{i}.form.json"), b);
        let (code, out, err) = run(doorstep().arg("lint").arg(&p), "");
        assert_eq!((code, err.as_str()), (0, ""), "example {i}:\n{out}");
        assert!(out.contains("0 error(s), 0 warning(s)"), "{out}");
    }
}

#[test]
fn the_commands_in_the_expression_docs_print_what_they_show() {
    // Each `$ doorstep ...` line runs in a shell with this build first on the PATH, and must print
    // the lines after it.
    let bin = Path::new(env!("CARGO_BIN_EXE_doorstep")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut checked = 0;
    for block in fenced("docs/expressions.md", "") {
        let mut lines = block.lines().peekable();
        while let Some(line) = lines.next() {
            let Some(cmd) = line.strip_prefix("$ ") else {
                continue;
            };
            let mut expected = String::new();
            while let Some(l) = lines.next_if(|l| !l.starts_with("$ ")) {
                expected.push_str(l);
                expected.push('\n');
            }
            let (code, out, err) = run(
                Command::new("sh")
                    .args(["-c", cmd])
                    .env("PATH", &path)
                    .env("TZ", "Asia/Shanghai"),
                "",
            );
            assert_eq!((code, err.as_str()), (0, ""), "{cmd}");
            assert_eq!(out, expected, "{cmd}");
            checked += 1;
        }
    }
    assert!(checked >= 2, "only {checked} commands found");
}

#[test]
fn the_committed_schema_is_current() {
    let (code, out, _) = run(doorstep().arg("schema"), "");
    assert_eq!(code, 0);
    let path = root().join("docs/form.schema.json");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == out,
        "docs/form.schema.json is out of date: run `UPDATE_SCHEMA=1 cargo test -p doorstep-cli --test lint_expr`"
    );
}

/// `expr` checks what `lint` checks: a roster's question read where one value is needed was
/// evaluated (as the first member's value, or NaN) instead of being the error it is in a form; the
/// whole expression may still be a list, to see every member's value.
#[test]
fn expr_refuses_a_list_where_one_value_is_needed_as_lint_does() {
    let answers = r#"{"members": [{"member_name": "王芳"}, {"member_name": "李伟"}]}"#;
    let expr = |e: &str| run(doorstep().args(["expr", "--answers", answers, e]), "");
    let (code, out, err) = expr("concat(${member_name}, '家')");
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.starts_with("error[expr/list-as-value]: `${member_name}` is a list here")
            && out.contains("(characters 7..21)"),
        "{out}"
    );
    assert_eq!(
        expr("${member_name}"),
        (0, "[\"王芳\",\"李伟\"] (list)\n".into(), String::new())
    );
    assert_eq!(
        expr("join('、', ${member_name})"),
        (0, "\"王芳、李伟\" (string)\n".into(), String::new())
    );
    assert_eq!(
        expr("${member_name} = '李伟'"),
        (0, "true (boolean)\n".into(), String::new())
    );
}

/// Numbers show as the engine writes them: NaN and Infinity were quoted like text ("NaN" (number)),
/// and 1e20 came out as 1e+20 where `string()` gives every digit.
#[test]
fn expr_shows_numbers_as_the_engine_writes_them() {
    for (e, shown) in [
        ("number('abc')", "NaN (number)\n"),
        ("-1 div 0", "-Infinity (number)\n"),
        ("100000000000000000000", "100000000000000000000 (number)\n"),
        ("'NaN'", "\"NaN\" (string)\n"),
    ] {
        let (code, out, err) = run(doorstep().args(["expr", e]), "");
        assert_eq!((code, out.as_str(), err.as_str()), (0, shown, ""), "{e}");
    }
}
