//! Header rows: which XLSForm column each spreadsheet column is, and in which language
//! (`label::Chinese (zh-CN)` is the `label` column for `zh-CN`).

use crate::problem::ColumnRef;
use crate::workbook::{Row, Sheet, column_letter};

/// Header prefixes that are part of a column's name rather than a language.
const PREFIXES: &[&str] = &["media", "bind", "body", "instance", "control"];

/// One column of a sheet, as its header names it.
#[derive(Clone, Debug)]
pub struct Column {
    pub index: usize,
    /// The header as typed.
    pub header: String,
    /// The XLSForm column it is, after aliases (`jr:constraintMsg` → `constraint_message`).
    pub field: String,
    /// The language part after `::`, as typed (`Chinese (zh-CN)`).
    pub lang: Option<String>,
    /// The language tag, once the form's languages are worked out.
    pub tag: Option<String>,
}

impl Column {
    pub fn cell_ref(&self) -> ColumnRef {
        ColumnRef {
            letter: column_letter(self.index),
            header: self.header.clone(),
        }
    }
}

/// The header row of a sheet and its columns.
#[derive(Clone, Debug)]
pub struct Header {
    pub row: usize,
    pub columns: Vec<Column>,
}

impl Header {
    /// Reads the first non-empty row as the header; `alias` maps a lower-case header (without
    /// its language) to its canonical column name.
    pub fn parse(sheet: &Sheet, alias: fn(&str) -> &str) -> Option<Header> {
        let first = sheet.rows.first()?;
        let mut columns = Vec::new();
        for (index, h) in first.cells.iter().enumerate() {
            let header = h.trim();
            if header.is_empty() {
                continue;
            }
            // `media::image::English (en)` and `bind::relevant` keep their prefix in the column name;
            // otherwise what follows `::` is the language.
            let parts: Vec<&str> = header.split("::").map(str::trim).collect();
            let prefixed =
                parts.len() > 1 && PREFIXES.contains(&parts[0].to_ascii_lowercase().as_str());
            let (base, lang) = if prefixed {
                (
                    format!("{}::{}", parts[0], parts[1]),
                    (parts.len() > 2).then(|| parts[2..].join("::")),
                )
            } else {
                (
                    parts[0].to_string(),
                    (parts.len() > 1).then(|| parts[1..].join("::")),
                )
            };
            let lower = base.to_ascii_lowercase();
            columns.push(Column {
                index,
                header: header.to_string(),
                field: alias(&lower).to_string(),
                lang,
                tag: None,
            });
        }
        Some(Header {
            row: first.number,
            columns,
        })
    }

    /// The column for `field` without a language (the first one, when repeated).
    pub fn col(&self, field: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.field == field && c.lang.is_none())
    }

    /// Every column for `field`, with or without a language, in sheet order.
    pub fn cols<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Column> + 'a {
        self.columns.iter().filter(move |c| c.field == field)
    }

    /// The value of `field` (without a language) in `row`.
    pub fn get<'r>(&self, row: &'r Row, field: &str) -> &'r str {
        self.col(field).map_or("", |c| row.get(c.index))
    }

    pub fn has(&self, field: &str) -> bool {
        self.cols(field).next().is_some()
    }
}

/// Splits the language part of a header: `Chinese (zh-CN)` → name `Chinese`, tag `zh-CN`;
/// `(en)` → tag `en`; `en` → tag `en`; `English` → name `English` only.
pub fn split_lang(raw: &str) -> (Option<String>, Option<String>) {
    let raw = raw.trim();
    if let (Some(open), true) = (raw.rfind('('), raw.ends_with(')')) {
        let tag = raw[open + 1..raw.len() - 1].trim().replace('_', "-");
        let name = raw[..open].trim();
        let name = (!name.is_empty()).then(|| name.to_string());
        return (name, (!tag.is_empty()).then_some(tag));
    }
    if looks_like_tag(raw) {
        return (None, Some(raw.replace('_', "-")));
    }
    (Some(raw.to_string()), None)
}

/// A short BCP 47 tag such as `en`, `zh-CN`, `fr_FR` (not a language name such as `English`).
pub fn looks_like_tag(s: &str) -> bool {
    let mut parts = s.split(['-', '_']);
    let Some(first) = parts.next() else {
        return false;
    };
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts
            .all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The tag of a language written by name only (`label::English`), for the languages household
/// surveys use most; others must be written with their code.
pub fn tag_for_name(name: &str) -> Option<&'static str> {
    let n = name.trim().to_lowercase();
    let tag = match n.as_str() {
        "english" => "en",
        "french" | "français" | "francais" => "fr",
        "spanish" | "español" | "espanol" => "es",
        "portuguese" | "português" => "pt",
        "arabic" | "العربية" => "ar",
        "chinese" | "中文" | "简体中文" => "zh",
        "russian" | "русский" => "ru",
        "ukrainian" => "uk",
        "swahili" | "kiswahili" => "sw",
        "somali" => "so",
        "amharic" => "am",
        "hausa" => "ha",
        "burmese" | "myanmar" => "my",
        "nepali" => "ne",
        "hindi" => "hi",
        "bengali" | "bangla" => "bn",
        "urdu" => "ur",
        "pashto" => "ps",
        "dari" => "prs",
        "turkish" => "tr",
        "indonesian" => "id",
        "tigrinya" => "ti",
        "kinyarwanda" => "rw",
        "lingala" => "ln",
        "oromo" => "om",
        "khmer" => "km",
        "vietnamese" => "vi",
        "thai" => "th",
        "kurdish" => "ku",
        "german" => "de",
        "italian" => "it",
        _ => return None,
    };
    Some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_parts() {
        assert_eq!(
            split_lang("Chinese (zh-CN)"),
            (Some("Chinese".into()), Some("zh-CN".into()))
        );
        assert_eq!(
            split_lang("English (en)"),
            (Some("English".into()), Some("en".into()))
        );
        assert_eq!(split_lang("fr"), (None, Some("fr".into())));
        assert_eq!(split_lang("zh_CN"), (None, Some("zh-CN".into())));
        assert_eq!(split_lang("English"), (Some("English".into()), None));
        assert_eq!(tag_for_name("Français"), Some("fr"));
    }
}
