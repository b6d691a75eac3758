//! The `type` column: XLSForm's type names, their old spellings, and what each becomes.

use doorstep_core::form::model::ItemType;

/// What one `type` cell asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeSpec {
    /// A question or metadata item of this type.
    Item(ItemType),
    /// `select_one list`, `select_multiple list` (and `or_other`).
    Select {
        multiple: bool,
        list: String,
        or_other: bool,
    },
    /// `select_one_from_file file.csv`, `select_multiple_from_file file.xml`.
    FromFile {
        multiple: bool,
        file: String,
    },
    /// `select_one_external list`: choices from the `external_choices` sheet or `itemsets.csv`.
    External {
        list: String,
    },
    BeginGroup,
    BeginRepeat,
    EndGroup,
    EndRepeat,
    /// Metadata a browser cannot know: dropped with a warning.
    DroppedMeta(&'static str),
    /// Cannot be converted; the message says why and what to do.
    Unsupported(String),
}

/// Metadata types a browser cannot know; the form format says to drop them with a warning.
pub const DROPPED_META: &[&str] = &["imei", "simserial", "subscriberid", "phonenumber", "audit"];

/// Parses a `type` cell (already trimmed and non-empty).
pub fn parse_type(raw: &str) -> TypeSpec {
    // Excel users type `Select_one` or `begin  group`; XLSForm's keywords are lower case and
    // single-spaced, but choice-list and file names keep their case.
    let words: Vec<&str> = raw.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let select = |multiple: bool, rest: &[&str]| -> TypeSpec {
        let orig = &words[words.len() - rest.len()..];
        match orig {
            [] => TypeSpec::Unsupported(format!(
                "`{raw}` names no choice list: write `{} list_name` with a list from the choices sheet",
                if multiple {
                    "select_multiple"
                } else {
                    "select_one"
                }
            )),
            [list] => TypeSpec::Select {
                multiple,
                list: list.to_string(),
                or_other: false,
            },
            [list, o] if o.eq_ignore_ascii_case("or_other") => TypeSpec::Select {
                multiple,
                list: list.to_string(),
                or_other: true,
            },
            _ => TypeSpec::Unsupported(format!(
                "`{raw}` has more than one word after the select type: a choice-list name has no spaces (`or_other` may follow it)"
            )),
        }
    };
    match l.as_slice() {
        ["select_one", rest @ ..] | ["select", "one", rest @ ..] => select(false, rest),
        ["select_multiple", rest @ ..]
        | ["select", "multiple", rest @ ..]
        | ["select", "all", "that", "apply", rest @ ..] => select(true, rest),
        ["select_one_from_file", _] | ["select_multiple_from_file", _] => TypeSpec::FromFile {
            multiple: l[0] == "select_multiple_from_file",
            file: words[1].to_string(),
        },
        ["select_one_external", _] => TypeSpec::External {
            list: words[1].to_string(),
        },
        ["select_one_from_file" | "select_multiple_from_file" | "select_one_external"] => {
            TypeSpec::Unsupported(format!(
                "`{raw}` needs a file or list name after it, e.g. `{raw} villages.csv`"
            ))
        }
        ["begin", "group"] | ["begin_group"] => TypeSpec::BeginGroup,
        ["begin", "repeat"] | ["begin_repeat"] => TypeSpec::BeginRepeat,
        ["end", "group"] | ["end_group"] => TypeSpec::EndGroup,
        ["end", "repeat"] | ["end_repeat"] => TypeSpec::EndRepeat,
        [one] => single(one, raw),
        _ => unknown(raw),
    }
}

fn single(t: &str, raw: &str) -> TypeSpec {
    use ItemType::*;
    let item = match t {
        "text" | "string" => Text,
        "integer" | "int" => Integer,
        "decimal" => Decimal,
        "date" => Date,
        "time" => Time,
        "datetime" => Datetime,
        "geopoint" | "gps" | "location" => Geopoint,
        "image" | "photo" => Image,
        "audio" => Audio,
        "video" => Video,
        "file" => File,
        "barcode" => Barcode,
        "acknowledge" | "trigger" => Acknowledge,
        "range" => Range,
        "note" => Note,
        "calculate" => Calculate,
        "hidden" => Hidden,
        "start" => Start,
        "end" => End,
        "today" => Today,
        "deviceid" => Deviceid,
        "username" => Username,
        _ => {
            if let Some(m) = DROPPED_META.iter().find(|m| **m == t) {
                return TypeSpec::DroppedMeta(m);
            }
            return match t {
                "geotrace" | "geoshape" => TypeSpec::Unsupported(format!(
                    "`{raw}` (a line or an area on a map) is not supported by Doorstep forms: use a geopoint question per corner, or a note"
                )),
                "rank" => TypeSpec::Unsupported(
                    "`rank` is not supported by Doorstep forms: use one select_one question per position".into(),
                ),
                "select_one" | "select_multiple" => TypeSpec::Unsupported(format!(
                    "`{raw}` names no choice list: write `{raw} list_name` with a list from the choices sheet"
                )),
                "begin" | "end" => TypeSpec::Unsupported(format!("`{raw}` is incomplete: write `{raw} group` or `{raw} repeat`")),
                "start-geopoint" | "background-geopoint" | "background-audio" | "email" | "xml-external"
                | "csv-external" | "begin_loop" | "end_loop" => TypeSpec::Unsupported(format!(
                    "`{raw}` is not supported by Doorstep forms (a browser cannot provide it, or it has no Doorstep equivalent): remove the row"
                )),
                _ => unknown(raw),
            };
        }
    };
    TypeSpec::Item(item)
}

fn unknown(raw: &str) -> TypeSpec {
    let lower = raw.to_ascii_lowercase();
    let hint = if lower.starts_with("select_one_or_specify")
        || lower.starts_with("select_multiple_or_specify")
    {
        "; for an \"other, specify\" option write `select_one list_name or_other`, or add an `other` choice and a text question with a relevant".to_string()
    } else if lower.starts_with("begin") || lower.starts_with("end") {
        "; groups and repeats are `begin group`, `end group`, `begin repeat`, `end repeat`"
            .to_string()
    } else {
        let known = [
            "text",
            "integer",
            "decimal",
            "select_one",
            "select_multiple",
            "date",
            "time",
            "datetime",
            "geopoint",
            "image",
            "audio",
            "video",
            "file",
            "barcode",
            "acknowledge",
            "range",
            "note",
            "calculate",
            "hidden",
        ];
        let first = lower.split_whitespace().next().unwrap_or("");
        match known
            .iter()
            .min_by_key(|k| doorstep_core::expr::edit_distance(first, k))
        {
            Some(k) if doorstep_core::expr::edit_distance(first, k) <= 2 => {
                format!("; did you mean `{k}`?")
            }
            _ => String::new(),
        }
    };
    TypeSpec::Unsupported(format!("unknown question type `{raw}`{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_spellings() {
        assert_eq!(parse_type("gps"), TypeSpec::Item(ItemType::Geopoint));
        assert_eq!(parse_type("photo"), TypeSpec::Item(ItemType::Image));
        assert_eq!(parse_type("int"), TypeSpec::Item(ItemType::Integer));
        assert_eq!(parse_type("string"), TypeSpec::Item(ItemType::Text));
        assert_eq!(parse_type("trigger"), TypeSpec::Item(ItemType::Acknowledge));
        assert_eq!(parse_type("begin group"), TypeSpec::BeginGroup);
        assert_eq!(parse_type("Begin_Repeat"), TypeSpec::BeginRepeat);
        assert_eq!(
            parse_type("select all that apply Needs"),
            TypeSpec::Select {
                multiple: true,
                list: "Needs".into(),
                or_other: false
            }
        );
        assert_eq!(
            parse_type("select_one yn or_other"),
            TypeSpec::Select {
                multiple: false,
                list: "yn".into(),
                or_other: true
            }
        );
        assert_eq!(
            parse_type("select_one_from_file Villages.csv"),
            TypeSpec::FromFile {
                multiple: false,
                file: "Villages.csv".into()
            }
        );
        assert_eq!(parse_type("imei"), TypeSpec::DroppedMeta("imei"));
    }

    #[test]
    fn unknown_types_say_what_to_do() {
        let TypeSpec::Unsupported(m) = parse_type("select_one_or_specify yn") else {
            panic!()
        };
        assert!(m.contains("or_other"), "{m}");
        let TypeSpec::Unsupported(m) = parse_type("integr") else {
            panic!()
        };
        assert!(m.contains("did you mean `integer`"), "{m}");
    }
}
