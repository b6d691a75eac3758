//! Cell values with XLSForm meaning: `required` and `read_only` flags, literal versus dynamic
//! defaults, `parameters` lists.

use doorstep_core::form::model::{Condition, ItemType};
use serde_json::{Value, json};

/// `yes`, `true`, `TRUE()`, `1` → true; `no`, `false`, `false()`, `0`, empty → none; anything else
/// is an expression (pyxform accepts the same spellings).
pub fn condition(cell: &str) -> Option<Condition> {
    let c = cell.trim();
    match c.to_ascii_lowercase().as_str() {
        "" | "no" | "false" | "false()" | "0" => None,
        "yes" | "true" | "true()" | "1" => Some(Condition::Const(true)),
        _ => Some(Condition::Expr(c.to_string())),
    }
}

/// A `default` cell: a literal of the question's type, or an expression (XLSForm's dynamic default).
#[derive(Debug, PartialEq)]
pub enum Default {
    Literal(Value),
    Expression(String),
}

/// Decides, as pyxform does, whether a default is a literal or an expression: references
/// (`${x}`), function calls (`today()`) and, for numbers, arithmetic make it an expression;
/// a literal must then fit the question's type.
pub fn default_value(kind: ItemType, cell: &str) -> Result<Default, String> {
    use ItemType::*;
    let s = cell.trim();
    let dynamic = s.contains("${") || starts_with_call(s);
    if dynamic {
        return Ok(Default::Expression(s.to_string()));
    }
    let lit = match kind {
        Text | Barcode | Hidden => Value::String(s.to_string()),
        Integer => match s.parse::<i64>() {
            Ok(i) => json!(i),
            Err(_) if s.parse::<f64>().is_ok() => {
                return Err(format!("`{s}` is not a whole number"));
            }
            Err(_) => return Ok(Default::Expression(s.to_string())),
        },
        // Keep the digits typed: `0` stays an integer in the JSON, `1.50` a number.
        Decimal | Range => match (s.parse::<i64>(), s.parse::<f64>()) {
            (Ok(i), _) => json!(i),
            (_, Ok(f)) if f.is_finite() => json!(f),
            _ => return Ok(Default::Expression(s.to_string())),
        },
        SelectOne => {
            if s.split_whitespace().count() > 1 {
                return Err(format!(
                    "`{s}` is several values: a select_one default is one choice name"
                ));
            }
            Value::String(s.to_string())
        }
        SelectMultiple => Value::Array(
            s.split_whitespace()
                .map(|v| Value::String(v.to_string()))
                .collect(),
        ),
        Date => {
            if is_date(s) {
                Value::String(s.to_string())
            } else {
                return Ok(Default::Expression(s.to_string()));
            }
        }
        Time => match normal_time(s) {
            Some(t) => Value::String(t),
            None => return Ok(Default::Expression(s.to_string())),
        },
        Datetime => {
            if s.len() >= 10 && is_date(&s[..10]) {
                Value::String(s.to_string())
            } else {
                return Ok(Default::Expression(s.to_string()));
            }
        }
        Geopoint => {
            let nums: Vec<f64> = s
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            if nums.len() != s.split_whitespace().count() || !(2..=4).contains(&nums.len()) {
                return Err(format!(
                    "`{s}` is not a location: write `latitude longitude [altitude [accuracy]]`"
                ));
            }
            let mut v = json!({ "lat": nums[0], "lon": nums[1] });
            if let Some(a) = nums.get(2) {
                v["alt"] = json!(a);
            }
            if let Some(a) = nums.get(3) {
                v["accuracy"] = json!(a);
            }
            v
        }
        Acknowledge => match s.to_ascii_lowercase().as_str() {
            "ok" | "yes" | "true" | "1" => Value::Bool(true),
            _ => {
                return Err(format!(
                    "`{s}` is not a default for an acknowledge question: use `OK` or leave it empty"
                ));
            }
        },
        other => {
            return Err(format!(
                "a {} question has no default in Doorstep forms (a default picture or file is not carried over): remove it",
                other.as_str()
            ));
        }
    };
    Ok(Default::Literal(lit))
}

/// True when the text starts like a function call (`today()`, `once(...)`, `jr:choice-name(`).
fn starts_with_call(s: &str) -> bool {
    let name_len = s
        .char_indices()
        .take_while(|(i, c)| {
            c.is_ascii_alphabetic()
                || (*i > 0 && (c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '_')))
        })
        .count();
    name_len > 0 && s[name_len..].starts_with('(')
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn normal_time(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || !parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Some(if parts.len() == 2 {
        format!("{s}:00")
    } else {
        s.to_string()
    })
}

/// A `parameters` cell as `key=value` pairs: `start=1 end=10 step=1`, separators spaces, commas or
/// semicolons (all seen in real forms), spaces around `=` allowed.
pub fn parameters(cell: &str) -> Result<Vec<(String, String)>, String> {
    let mut s = cell.replace([',', ';'], " ");
    while s.contains(" =") || s.contains("= ") {
        s = s.replace(" =", "=").replace("= ", "=");
    }
    s.split_whitespace()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                Ok((k.to_ascii_lowercase(), v.to_string()))
            }
            _ => Err(format!(
                "`{p}` is not a parameter: write key=value pairs such as `start=1 end=10 step=1`"
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions() {
        assert_eq!(condition("yes"), Some(Condition::Const(true)));
        assert_eq!(condition("TRUE()"), Some(Condition::Const(true)));
        assert_eq!(condition("true"), Some(Condition::Const(true)));
        assert_eq!(condition("No"), None);
        assert_eq!(
            condition("${age} >= 18"),
            Some(Condition::Expr("${age} >= 18".into()))
        );
    }

    #[test]
    fn defaults() {
        use ItemType::*;
        assert_eq!(default_value(Integer, "5"), Ok(Default::Literal(json!(5))));
        assert_eq!(
            default_value(Integer, "${a} + 1"),
            Ok(Default::Expression("${a} + 1".into()))
        );
        assert_eq!(
            default_value(Date, "today()"),
            Ok(Default::Expression("today()".into()))
        );
        assert_eq!(
            default_value(Date, "2026-01-31"),
            Ok(Default::Literal(json!("2026-01-31")))
        );
        assert_eq!(
            default_value(Text, "Other (specify)"),
            Ok(Default::Literal(json!("Other (specify)")))
        );
        assert_eq!(
            default_value(Text, "concat('a', 'b')"),
            Ok(Default::Expression("concat('a', 'b')".into()))
        );
        assert_eq!(
            default_value(SelectMultiple, "a b"),
            Ok(Default::Literal(json!(["a", "b"])))
        );
        assert_eq!(
            default_value(Time, "08:30"),
            Ok(Default::Literal(json!("08:30:00")))
        );
        assert!(default_value(Integer, "2.5").is_err());
        assert_eq!(
            default_value(Geopoint, "31.2 121.5"),
            Ok(Default::Literal(json!({"lat": 31.2, "lon": 121.5})))
        );
    }

    #[test]
    fn parameter_lists() {
        assert_eq!(
            parameters("start=1 end=10;step = 2").unwrap(),
            vec![
                ("start".into(), "1".into()),
                ("end".into(), "10".into()),
                ("step".into(), "2".into())
            ]
        );
        assert!(parameters("start 1").is_err());
    }
}
