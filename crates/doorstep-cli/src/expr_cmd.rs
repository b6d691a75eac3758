//! `doorstep expr`: evaluate one expression (or many, with `--batch`) against answers, printing value and type.
//!
//! Without `--form`, a form is synthesized from the answers' JSON types (numbers, text, booleans, lists of
//! choice values, and lists of objects as repeats), so supervisors can try an expression in one line.

use std::io::{BufRead, Write};
use std::rc::Rc;

use chrono::{Local, TimeZone};
use doorstep_core::expr::{Clock, Value, fmt_num};
use doorstep_core::form::{self, Form};
use doorstep_core::session::{Host, Session, parse_clock};
use serde_json::{Map, Value as Json, json};

use crate::{CliError, Outcome};

#[derive(clap::Args)]
pub struct Args {
    /// The expression, e.g. "age('1980-05-01')"; one that starts with `-` ("-5 mod 3") is read too.
    #[arg(allow_hyphen_values = true)]
    expr: Option<String>,
    /// A form whose items the expression may read.
    #[arg(long)]
    form: Option<std::path::PathBuf>,
    /// The answers (a submission's `data`): a JSON file, or the JSON object itself ('{"age": 40}').
    #[arg(long)]
    answers: Option<String>,
    /// Fix the clock (RFC 3339); local dates follow the TZ environment variable.
    #[arg(long)]
    now: Option<String>,
    /// Read JSON lines {"expr": "...", "answers": {...}} on standard input, write one JSON line each.
    #[arg(long)]
    batch: bool,
    /// Language of choice labels (jr:choice-name).
    #[arg(long)]
    lang: Option<String>,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let clock = clock(args.now.as_deref())?;
    let form = match &args.form {
        Some(p) => {
            let bytes = std::fs::read(p)
                .map_err(|e| CliError::msg(format!("cannot read form {}: {e}", p.display())))?;
            let r = form::load_bytes(&bytes);
            match r.form {
                Some(f) => Some(Rc::new(f)),
                None => {
                    let first = r.errors().next().map(|d| d.to_string()).unwrap_or_default();
                    return Err(CliError::msg(format!(
                        "the form {} does not load ({first}); run `doorstep lint {}` for every problem",
                        p.display(),
                        p.display()
                    )));
                }
            }
        }
        None => None,
    };
    let host = Host {
        clock,
        device_id: "cli".into(),
        username: "cli".into(),
        seed: 1,
    };
    if args.batch {
        let stdin = std::io::stdin().lock();
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for (i, line) in stdin.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let result = match serde_json::from_str::<Json>(&line) {
                Err(e) => {
                    json!({"error": {"code": "input/json", "message": format!("line {}: not JSON: {e}", i + 1)}})
                }
                Ok(req) => match req["expr"].as_str() {
                    None => {
                        json!({"error": {"code": "input/expr", "message": format!("line {}: no \"expr\" string", i + 1)}})
                    }
                    Some(e) => eval_json(
                        e,
                        &req["answers"],
                        form.clone(),
                        &host,
                        args.lang.as_deref(),
                    ),
                },
            };
            writeln!(out, "{result}")?;
        }
        out.flush()?;
        return Ok(Outcome::Clean);
    }
    let Some(e) = &args.expr else {
        return Err(CliError::msg(
            "give an expression, e.g. `doorstep expr \"1 + 1\"`, or use --batch",
        ));
    };
    let answers = match &args.answers {
        // A JSON object is given as it is; anything else names a file.
        Some(p) if p.trim_start().starts_with('{') => serde_json::from_str(p)
            .map_err(|e| CliError::msg(format!("--answers: not JSON: {e}")))?,
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| CliError::msg(format!("cannot read answers {p}: {e}")))?;
            serde_json::from_str(&text).map_err(|e| CliError::msg(format!("{p}: not JSON: {e}")))?
        }
        None => Json::Object(Map::new()),
    };
    let r = eval_json(e, &answers, form, &host, args.lang.as_deref());
    if let Some(err) = r.get("error") {
        say!(
            "error[{}]: {}",
            err["code"].as_str().unwrap_or(""),
            err["message"].as_str().unwrap_or("")
        );
        return Ok(Outcome::Findings);
    }
    let kind = r["type"].as_str().unwrap_or("");
    // A number as the engine writes it (`string()`): 1e20 in full, NaN and the infinities (text
    // in `--batch`'s JSON) without quotes.
    let shown = match &r["value"] {
        Json::String(s) if kind == "number" => s.clone(),
        Json::Number(n) if kind == "number" => fmt_num(n.as_f64().unwrap_or(f64::NAN)),
        v => show(v),
    };
    say!("{shown} ({kind})");
    Ok(Outcome::Clean)
}

fn show(v: &Json) -> String {
    match v {
        Json::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// The host clock: `--now` or the system time, with the local offset that `TZ` gives at that instant.
fn clock(now: Option<&str>) -> Result<Clock, CliError> {
    let utc_millis =
        match now {
            Some(s) => parse_clock(s)
                .ok_or_else(|| {
                    CliError::msg(format!(
                        "--now {s:?} is not an RFC 3339 date-time such as 2026-11-22T09:00:00+08:00"
                    ))
                })?
                .utc_millis,
            None => chrono::Utc::now().timestamp_millis(),
        };
    let offset = Local
        .timestamp_millis_opt(utc_millis)
        .single()
        .map_or(0, |t| t.offset().local_minus_utc() / 60);
    Ok(Clock {
        utc_millis,
        offset_minutes: offset,
    })
}

fn eval_json(
    src: &str,
    answers: &Json,
    form: Option<Rc<Form>>,
    host: &Host,
    lang: Option<&str>,
) -> Json {
    let form = match form {
        Some(f) => f,
        None => match synthesize(answers) {
            Ok(f) => f,
            Err(e) => return json!({"error": {"code": "input/answers", "message": e}}),
        },
    };
    let data = if answers.is_null() {
        Json::Object(Map::new())
    } else {
        answers.clone()
    };
    let mut session = Session::resume(form, &data, host.clone());
    if let Some(l) = lang {
        session.set_language(l);
    }
    match session.evaluate(src) {
        Err(diags) => {
            let d = &diags[0];
            // The span counts bytes; a supervisor counts characters (`'张三'` is 4 of them, not 8).
            let chars = |at: u32| {
                src.get(..at as usize)
                    .map_or(at as usize, |s| s.chars().count())
            };
            let span = d
                .span
                .map(|(a, b)| format!(" (characters {}..{})", chars(a), chars(b)))
                .unwrap_or_default();
            json!({"error": {"code": d.code, "message": format!("{}{span}", d.message)}})
        }
        Ok(v) => match &v {
            Value::Nodes(_) => {
                let items: Vec<Json> = session.atomize(&v).iter().map(to_json).collect();
                json!({"value": items, "type": "list"})
            }
            Value::Num(_) => json!({"value": to_json(&v), "type": "number"}),
            Value::Str(_) => json!({"value": to_json(&v), "type": "string"}),
            Value::Bool(_) => json!({"value": to_json(&v), "type": "boolean"}),
        },
    }
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::Num(n) if n.is_finite() => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                json!(*n as i64)
            } else {
                json!(n)
            }
        }
        Value::Num(n) => json!(fmt_num(*n)),
        Value::Bool(b) => json!(b),
        Value::Str(s) => json!(s.as_ref()),
        Value::Nodes(_) => json!(null),
    }
}

/// Builds a form whose items match the answers' JSON types.
fn synthesize(answers: &Json) -> Result<Rc<Form>, String> {
    let obj = match answers {
        Json::Null => Map::new(),
        Json::Object(o) => o.clone(),
        other => return Err(format!("answers must be a JSON object, found {other}")),
    };
    let mut choices = Map::new();
    let items = items_for(&obj, &mut choices)?;
    let doc = json!({
        "format": "doorstep-form/1", "id": "expr", "version": "1", "title": "expr", "languages": ["en", "zh-CN"],
        "choices": choices, "items": items
    });
    let r = form::load(&doc.to_string());
    match r.form {
        Some(f) => Ok(Rc::new(f)),
        None => Err(r
            .errors()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

fn items_for(
    obj: &Map<String, Json>,
    choices: &mut Map<String, Json>,
) -> Result<Vec<Json>, String> {
    let mut items = Vec::new();
    for (k, v) in obj {
        let item = match v {
            Json::Null => continue,
            Json::Bool(b) => {
                json!({"type": "calculate", "name": k, "calculation": if *b { "true()" } else { "false()" }, "data_type": "boolean"})
            }
            Json::Number(n) if n.is_i64() => json!({"type": "integer", "name": k, "label": k}),
            Json::Number(_) => json!({"type": "decimal", "name": k, "label": k}),
            Json::String(_) => json!({"type": "text", "name": k, "label": k}),
            Json::Array(a) if a.iter().all(Json::is_string) => {
                let list: Vec<Json> = a.iter().map(|c| json!({"value": c, "label": c})).collect();
                choices.insert(format!("{k}_choices"), Json::Array(list));
                json!({"type": "select_multiple", "name": k, "label": k, "choices": format!("{k}_choices")})
            }
            Json::Array(a) if a.iter().all(Json::is_object) => {
                let mut keys = Map::new();
                for inst in a {
                    for (ik, iv) in inst.as_object().into_iter().flatten() {
                        if !keys.contains_key(ik) || keys[ik].is_null() {
                            keys.insert(ik.clone(), iv.clone());
                        }
                    }
                }
                json!({"type": "repeat", "name": k, "label": k, "items": items_for(&keys, choices)?})
            }
            other => {
                return Err(format!(
                    "answer `{k}` = {other}: use numbers, text, booleans, lists of text, or lists of objects"
                ));
            }
        };
        items.push(item);
    }
    Ok(items)
}
