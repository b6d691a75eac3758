//! Answers as stored in a submission: checking a JSON value against a question's type, and reading it
//! as an expression value.
//!
//! One place decides what each type accepts, so the app, a stored submission and an ingested bundle
//! get the same verdict.

use std::borrow::Cow;
use std::rc::Rc;

use serde_json::Value as Json;

use crate::expr::Value;
use crate::form::model::{Choice, DataType, ItemType, RangeParams};

/// Why an answer was refused.
#[derive(Clone, Debug, PartialEq)]
pub struct AnswerError {
    /// `type`, `choice` or `read-only`.
    pub code: &'static str,
    pub message: String,
}

fn type_err(msg: impl Into<String>) -> AnswerError {
    AnswerError {
        code: "type",
        message: msg.into(),
    }
}

/// Checks `v` for a question of type `t` and returns it normalized (select_multiple in list order,
/// times with seconds). `choices` is the question's whole list (filters are checked by validation).
pub fn check(
    t: ItemType,
    v: &Json,
    choices: Option<&[Choice]>,
    range: Option<&RangeParams>,
) -> Result<Json, AnswerError> {
    check_cow(t, v, choices, range).map(Cow::into_owned)
}

/// [`check`], borrowing `v` when it is already in its normal form (most answers are), so that a
/// caller who owns the answer can keep it instead of a copy.
pub fn check_cow<'v>(
    t: ItemType,
    v: &'v Json,
    choices: Option<&[Choice]>,
    range: Option<&RangeParams>,
) -> Result<Cow<'v, Json>, AnswerError> {
    use ItemType::*;
    match t {
        Text | Barcode | Deviceid | Username | Hidden => match v {
            Json::String(_) => Ok(Cow::Borrowed(v)),
            Json::Number(n) if t == Hidden => Ok(Cow::Owned(Json::String(n.to_string()))),
            _ => Err(type_err(format!("expected text, found {}", kind(v)))),
        },
        Integer => match v.as_i64() {
            Some(_) => Ok(Cow::Borrowed(v)),
            None => match v.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    Ok(Cow::Owned(Json::from(f as i64)))
                }
                _ => Err(type_err(format!(
                    "expected a whole number, found {}",
                    show(v)
                ))),
            },
        },
        Decimal => match v {
            Json::Number(_) => Ok(Cow::Borrowed(v)),
            _ => Err(type_err(format!("expected a number, found {}", show(v)))),
        },
        Range => {
            let Some(x) = v.as_f64() else {
                return Err(type_err(format!("expected a number, found {}", show(v))));
            };
            if let Some(r) = range {
                let (lo, hi) = if r.start <= r.end {
                    (r.start, r.end)
                } else {
                    (r.end, r.start)
                };
                let steps = (x - r.start) / r.step;
                if x < lo || x > hi || (steps - steps.round()).abs() > 1e-9 {
                    return Err(type_err(format!(
                        "{x} is not on the scale {}..{} by {}",
                        r.start, r.end, r.step
                    )));
                }
            }
            Ok(Cow::Borrowed(v))
        }
        SelectOne => {
            let Some(s) = v.as_str() else {
                return Err(type_err(format!(
                    "expected a choice value (text), found {}",
                    show(v)
                )));
            };
            if let Some(cs) = choices
                && !cs.iter().any(|c| c.value == s)
            {
                return Err(AnswerError {
                    code: "choice",
                    message: format!("`{s}` is not one of the choices"),
                });
            }
            Ok(Cow::Borrowed(v))
        }
        SelectMultiple => {
            let list: Vec<&str> = match v {
                Json::Array(a) => {
                    let mut out = Vec::with_capacity(a.len());
                    for x in a {
                        match x.as_str() {
                            Some(s) => out.push(s),
                            None => {
                                return Err(type_err(format!(
                                    "expected a list of choice values, found {}",
                                    show(x)
                                )));
                            }
                        }
                    }
                    out
                }
                // Accept the space-joined form that XLSForm tools write.
                Json::String(s) => s.split_whitespace().collect(),
                _ => {
                    return Err(type_err(format!(
                        "expected a list of choice values, found {}",
                        show(v)
                    )));
                }
            };
            match choices {
                Some(cs) => {
                    for s in &list {
                        if !cs.iter().any(|c| c.value == *s) {
                            return Err(AnswerError {
                                code: "choice",
                                message: format!("`{s}` is not one of the choices"),
                            });
                        }
                    }
                    Ok(Cow::Owned(Json::Array(
                        cs.iter()
                            .filter(|c| list.contains(&c.value.as_str()))
                            .map(|c| Json::from(c.value.clone()))
                            .collect(),
                    )))
                }
                None => Ok(Cow::Owned(Json::Array(
                    list.into_iter().map(Json::from).collect(),
                ))),
            }
        }
        Date | Today => match v.as_str() {
            Some(s) if crate::expr::dates::parse_date(s).is_some() => Ok(Cow::Borrowed(v)),
            _ => Err(type_err(format!(
                "expected a date YYYY-MM-DD, found {}",
                show(v)
            ))),
        },
        Time => match v.as_str().and_then(normalize_time) {
            Some(s) => Ok(Cow::Owned(Json::String(s))),
            None => Err(type_err(format!(
                "expected a time HH:MM:SS, found {}",
                show(v)
            ))),
        },
        Datetime | Start | End => match v.as_str() {
            Some(s) if is_rfc3339(s) => Ok(Cow::Borrowed(v)),
            _ => Err(type_err(format!(
                "expected a date and time with offset (RFC 3339), found {}",
                show(v)
            ))),
        },
        Geopoint => {
            let ok = v.as_object().is_some_and(|o| {
                let lat = o.get("lat").and_then(Json::as_f64);
                let lon = o.get("lon").and_then(Json::as_f64);
                let extra_ok = o.iter().all(|(k, x)| match k.as_str() {
                    "lat" | "lon" => true,
                    "alt" | "accuracy" => x.is_number(),
                    _ => false,
                });
                matches!((lat, lon), (Some(a), Some(b)) if (-90.0..=90.0).contains(&a) && (-180.0..=180.0).contains(&b))
                    && extra_ok
            });
            if ok {
                Ok(Cow::Borrowed(v))
            } else {
                Err(type_err(format!(
                    "expected a point {{\"lat\", \"lon\", \"alt\"?, \"accuracy\"?}}, found {}",
                    show(v)
                )))
            }
        }
        Image | Audio | Video | File => {
            let ok = v.as_object().is_some_and(|o| {
                o.get("file").and_then(Json::as_str).is_some_and(|f| {
                    !f.is_empty() && !f.contains('/') && !f.contains('\\') && f != ".."
                }) && o.get("media_type").is_some_and(Json::is_string)
                    && o.get("size").and_then(Json::as_u64).is_some()
                    && o.get("sha256")
                        .and_then(Json::as_str)
                        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                    && o.keys()
                        .all(|k| matches!(k.as_str(), "file" | "media_type" | "size" | "sha256"))
            });
            if ok {
                Ok(Cow::Borrowed(v))
            } else {
                Err(type_err(format!(
                    "expected an attachment {{\"file\", \"media_type\", \"size\", \"sha256\"}}, found {}",
                    show(v)
                )))
            }
        }
        Acknowledge => match v {
            Json::Bool(true) => Ok(Cow::Borrowed(v)),
            Json::String(s) if s == "OK" => Ok(Cow::Owned(Json::Bool(true))),
            _ => Err(type_err(format!("expected true, found {}", show(v)))),
        },
        Calculate => Ok(Cow::Borrowed(v)),
        Note | Group | Repeat => Err(AnswerError {
            code: "read-only",
            message: format!("a {} holds no answer", t.as_str()),
        }),
    }
}

fn normalize_time(s: &str) -> Option<String> {
    let two = |p: &str, max: u32| {
        p.len() == 2
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|x| x <= max)
    };
    let parts: Vec<&str> = s.split(':').collect();
    match parts.as_slice() {
        [h, m] if two(h, 23) && two(m, 59) => Some(format!("{h}:{m}:00")),
        [h, m, sec] if two(h, 23) && two(m, 59) && sec.len() >= 2 && two(&sec[..2], 59) => {
            let frac = &sec[2..];
            (frac.is_empty()
                || (frac.starts_with('.') && frac[1..].bytes().all(|b| b.is_ascii_digit())))
            .then(|| s.to_string())
        }
        _ => None,
    }
}

/// A stored date-time is strict RFC 3339: `T` between date and time, and an offset (`Z` or `±HH:MM`).
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let has_offset = s.ends_with('Z')
        || (b.len() > 6 && matches!(b[b.len() - 6], b'+' | b'-') && b[b.len() - 3] == b':');
    b.len() >= 20 && b[10] == b'T' && has_offset && crate::expr::dates::parse_datetime(s).is_some()
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "text",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

fn show(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// Reads a stored answer as an expression value.
pub fn read(t: ItemType, v: &Json) -> Value {
    match v {
        Json::Number(n) => Value::Num(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) if t.is_numeric() => Value::Num(s.trim().parse().unwrap_or(f64::NAN)),
        Json::String(s) => Value::Str(Rc::from(s.as_str())),
        Json::Bool(b) => Value::Bool(*b),
        Json::Array(a) => {
            let joined: Vec<&str> = a.iter().filter_map(Json::as_str).collect();
            Value::Str(Rc::from(joined.join(" ")))
        }
        Json::Object(o) => {
            if let (Some(lat), Some(lon)) = (o.get("lat"), o.get("lon")) {
                // ODK reads a geopoint as "lat lon alt accuracy".
                let alt = o.get("alt").map_or("0".to_string(), Json::to_string);
                let acc = o.get("accuracy").map_or("0".to_string(), Json::to_string);
                Value::Str(Rc::from(format!("{lat} {lon} {alt} {acc}")))
            } else {
                Value::Str(Rc::from(o.get("file").and_then(Json::as_str).unwrap_or("")))
            }
        }
        Json::Null => Value::Str(Rc::from("")),
    }
}

/// Turns a computed value into the stored JSON of a calculated item; `None` when NaN or empty.
pub fn store(t: ItemType, data_type: Option<DataType>, v: &Value) -> Option<Json> {
    let dt = match t {
        ItemType::Calculate => data_type.unwrap_or_default(),
        ItemType::Integer => DataType::Integer,
        ItemType::Decimal | ItemType::Range => DataType::Decimal,
        ItemType::Date => DataType::Date,
        _ => DataType::String,
    };
    match dt {
        DataType::String => {
            let s = v.to_str();
            if s.is_empty() || s.as_ref() == "NaN" && matches!(v, Value::Num(_)) {
                None
            } else {
                Some(Json::String(s.to_string()))
            }
        }
        DataType::Integer => {
            let n = v.to_num();
            if n.is_finite() {
                Some(Json::from(n.trunc() as i64))
            } else {
                None
            }
        }
        DataType::Decimal => {
            let n = v.to_num();
            if n.is_finite() {
                serde_json::Number::from_f64(n).map(Json::Number)
            } else {
                None
            }
        }
        DataType::Boolean => match v {
            Value::Str(s) if s.is_empty() => None,
            Value::Num(n) if n.is_nan() => None,
            _ => Some(Json::Bool(v.to_bool())),
        },
        DataType::Date => match v {
            Value::Num(n) if n.is_finite() => Some(Json::String(crate::expr::dates::format_days(
                n.floor() as i64,
            ))),
            Value::Str(s) if crate::expr::dates::parse_date(s).is_some() => {
                Some(Json::String(s.to_string()))
            }
            Value::Str(s) => crate::expr::dates::parse_datetime(s)
                .map(|d| Json::String(crate::expr::dates::format_days(d.floor() as i64))),
            _ => None,
        },
    }
}

/// Reads a stored calculated value back with its data type (so `${score} + 1` adds numbers).
pub fn read_calc(data_type: Option<DataType>, v: &Json) -> Value {
    match (data_type.unwrap_or_default(), v) {
        (DataType::Boolean, Json::Bool(b)) => Value::Bool(*b),
        (_, other) => read(ItemType::Calculate, other),
    }
}
