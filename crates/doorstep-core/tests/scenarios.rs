//! The fixture-corpus harness: runs every `forms/spec/**/*.scenario.json` step by step.
//!
//! The format is documented in `forms/spec/README.md`. All failures are collected and reported
//! together, one line per failed assertion, naming the scenario file and the step.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use doorstep_core::form;
use doorstep_core::session::{Action, Host, Session};
use serde_json::{Value as Json, json};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../forms/spec")
}

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scenario_files(&p, out);
        } else if p.to_string_lossy().ends_with(".scenario.json") {
            out.push(p);
        }
    }
}

#[test]
fn every_scenario_passes() {
    let mut files = Vec::new();
    scenario_files(&corpus(), &mut files);
    assert!(
        !files.is_empty(),
        "no scenario files under {}",
        corpus().display()
    );
    let mut failures = Vec::new();
    for f in &files {
        if let Err(errs) = run_file(f) {
            let name = f.strip_prefix(corpus()).unwrap_or(f).display().to_string();
            for e in errs {
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    println!("{} scenario files", files.len());
    assert!(
        failures.is_empty(),
        "{} failed assertions:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn run_file(path: &Path) -> Result<(), Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("cannot read: {e}")])?;
    let sc: Json = serde_json::from_str(&text).map_err(|e| vec![format!("not JSON: {e}")])?;
    let form_path = path.parent().unwrap().join(
        sc["form"]
            .as_str()
            .ok_or_else(|| vec!["no `form`".to_string()])?,
    );
    let src = std::fs::read_to_string(&form_path)
        .map_err(|e| vec![format!("cannot read form {}: {e}", form_path.display())])?;
    let loaded = form::load(&src);
    let Some(f) = loaded.form else {
        let diags: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
        return Err(vec![format!(
            "the form does not load:\n    {}",
            diags.join("\n    ")
        )]);
    };
    let now = sc["now"].as_str().unwrap_or("2026-11-22T09:00:00+08:00");
    let mut s = Session::new(Rc::new(f), Host::fixed(now));
    if let Some(l) = sc["lang"].as_str() {
        s.set_language(l);
    }
    run_steps(
        &mut s,
        sc["steps"].as_array().map(Vec::as_slice).unwrap_or(&[]),
    )
}

/// Runs steps on a session; shared with the form tests of the shipped forms.
pub fn run_steps(s: &mut Session, steps: &[Json]) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let at = format!("step {}", i + 1);
        let Some(obj) = step.as_object() else {
            errs.push(format!("{at}: a step is an object"));
            continue;
        };
        if let Some(ans) = obj.get("answer").and_then(Json::as_object) {
            for (p, v) in ans {
                match s.find(p) {
                    None => errs.push(format!("{at}: no node at path `{p}`")),
                    Some(node) => {
                        if let Err(e) = s.apply(Action::Answer {
                            node,
                            value: v.clone(),
                        }) {
                            errs.push(format!("{at}: answering `{p}` = {v} was refused: {e}"));
                        }
                    }
                }
            }
        }
        if let Some(p) = obj.get("clear").and_then(Json::as_str) {
            match s.find(p) {
                None => errs.push(format!("{at}: no node at path `{p}`")),
                Some(node) => {
                    if let Err(e) = s.apply(Action::Clear { node }) {
                        errs.push(format!("{at}: clearing `{p}` was refused: {e}"));
                    }
                }
            }
        }
        if let Some(p) = obj.get("add").and_then(Json::as_str) {
            // With "code", the add must be refused with that code (a full repeat, a count-driven one).
            let refused_with = obj.get("code").and_then(Json::as_str);
            match s.find(p) {
                None => errs.push(format!("{at}: no repeat at path `{p}`")),
                Some(node) => match (
                    s.apply(Action::AddInstance {
                        repeat: node.item,
                        parent: node.scope,
                    }),
                    refused_with,
                ) {
                    (Err(e), None) => errs.push(format!("{at}: adding to `{p}` was refused: {e}")),
                    (Ok(_), Some(c)) => errs.push(format!(
                        "{at}: adding to `{p}` should be refused with `{c}` but was accepted"
                    )),
                    (Err(e), Some(c)) if e.code != c => errs.push(format!(
                        "{at}: adding to `{p}` was refused with `{}`, expected `{c}`",
                        e.code
                    )),
                    _ => {}
                },
            }
        }
        if let Some(p) = obj.get("remove").and_then(Json::as_str) {
            match s.find(p) {
                Some(node)
                    if s.instance_parent(node.scope)
                        .is_some_and(|(r, _)| r == node.item) =>
                {
                    if let Err(e) = s.apply(Action::RemoveInstance {
                        instance: node.scope,
                    }) {
                        errs.push(format!("{at}: removing `{p}` was refused: {e}"));
                    }
                }
                _ => errs.push(format!("{at}: no repeat instance at path `{p}`")),
            }
        }
        if let Some(p) = obj.get("move").and_then(Json::as_str) {
            let to = obj.get("to").and_then(Json::as_u64).unwrap_or(1) as usize;
            match s.find(p) {
                Some(node)
                    if s.instance_parent(node.scope)
                        .is_some_and(|(r, _)| r == node.item) =>
                {
                    if let Err(e) = s.apply(Action::MoveInstance {
                        instance: node.scope,
                        to: to.saturating_sub(1),
                    }) {
                        errs.push(format!("{at}: moving `{p}` was refused: {e}"));
                    }
                }
                _ => errs.push(format!("{at}: no repeat instance at path `{p}`")),
            }
        }
        if let Some(rej) = obj.get("reject").and_then(Json::as_object) {
            let code = obj.get("code").and_then(Json::as_str);
            for (p, v) in rej {
                match s.find(p) {
                    None => errs.push(format!("{at}: no node at path `{p}`")),
                    Some(node) => {
                        let before = s.data();
                        match s.apply(Action::Answer {
                            node,
                            value: v.clone(),
                        }) {
                            Ok(_) => errs.push(format!(
                                "{at}: answering `{p}` = {v} should be refused but was accepted"
                            )),
                            Err(e) => {
                                if code.is_some_and(|c| c != e.code) {
                                    errs.push(format!(
                                        "{at}: `{p}` = {v} refused with `{}`, expected `{}`",
                                        e.code,
                                        code.unwrap()
                                    ));
                                }
                                if s.data() != before {
                                    errs.push(format!("{at}: a refused answer changed the data"));
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Some(exp) = obj.get("expect").and_then(Json::as_object) {
            check_expect(s, exp, &at, &mut errs);
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn check_expect(
    s: &Session,
    exp: &serde_json::Map<String, Json>,
    at: &str,
    errs: &mut Vec<String>,
) {
    let exported = s.export_data();
    for (key, val) in exp {
        let Some(map) = val.as_object() else {
            if key == "valid" {
                let problems = s.validate();
                let valid = problems.is_empty();
                if Some(valid) != val.as_bool() {
                    let shown: Vec<String> = problems
                        .iter()
                        .map(|p| format!("{} {} ({})", s_path(s, p.node), p.code, p.message))
                        .collect();
                    errs.push(format!(
                        "{at}: expected valid = {val}, got {valid}; problems: [{}]",
                        shown.join("; ")
                    ));
                }
            } else if key == "instance_name" {
                let got = s.instance_name();
                if got.as_deref() != val.as_str() {
                    errs.push(format!("{at}: expected instance_name {val}, got {got:?}"));
                }
            } else {
                errs.push(format!("{at}: unknown expectation `{key}`"));
            }
            continue;
        };
        for (p, want) in map {
            let node = s.find(p);
            let got: Json = match key.as_str() {
                "values" => lookup(&exported, p).unwrap_or(Json::Null),
                "count" => match node {
                    Some(n) => json!(s.instances(n.item, n.scope).len()),
                    None => {
                        errs.push(format!("{at}: no repeat at path `{p}`"));
                        continue;
                    }
                },
                _ => {
                    let Some(n) = node else {
                        errs.push(format!("{at}: no node at path `{p}` (for `{key}`)"));
                        continue;
                    };
                    let st = s.state(n);
                    match key.as_str() {
                        "relevant" => json!(st.relevant),
                        "required" => json!(st.required),
                        "read_only" => json!(st.read_only),
                        "capped" => json!(st.capped),
                        "errors" => st.error.as_ref().map_or(Json::Null, |e| json!(e.code)),
                        "messages" => st.error.as_ref().map_or(Json::Null, |e| json!(e.message)),
                        "labels" => json!(s.label(n)),
                        "choices" => json!(
                            s.choices(n)
                                .iter()
                                .map(|c| c.value.clone())
                                .collect::<Vec<_>>()
                        ),
                        other => {
                            errs.push(format!("{at}: unknown expectation `{other}`"));
                            continue;
                        }
                    }
                }
            };
            if !json_eq(&got, want) {
                errs.push(format!("{at}: {key} of `{p}`: expected {want}, got {got}"));
            }
        }
    }
}

fn s_path(s: &Session, n: doorstep_core::expr::Node) -> String {
    if s.exists(n) || s.instance_parent(n.scope).is_some() {
        s.path_of(n)
    } else {
        "(submission)".into()
    }
}

/// Reads `members[2]/age` out of exported data.
fn lookup(data: &Json, path: &str) -> Option<Json> {
    let mut cur = data;
    for part in path.split('/') {
        match part.find('[') {
            Some(b) => {
                let k: usize = part[b + 1..].trim_end_matches(']').parse().ok()?;
                cur = cur.get(&part[..b])?.get(k.checked_sub(1)?)?;
            }
            None => cur = cur.get(part)?,
        }
    }
    Some(cur.clone())
}

fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-9 * x.abs().max(1.0)
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}
