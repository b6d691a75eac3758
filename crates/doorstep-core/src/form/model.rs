//! The form definition as written in JSON (format `doorstep-form/1`), one Rust type per JSON object.
//!
//! These types are what a supervisor writes; they are deserialized item by item by the loader
//! (`form::load`) so that every problem is reported with its JSON path. The JSON Schema in
//! `docs/form.schema.json` is generated from them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The value of the top-level `format` key this engine reads.
pub const FORMAT: &str = "doorstep-form/1";

/// A whole form file.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FormDoc {
    /// Always `doorstep-form/1`.
    pub format: String,
    /// Stable id of the form across versions (an identifier).
    pub id: String,
    /// The author's version, by convention `YYYYMMDDNN`.
    pub version: String,
    /// Shown in the form list.
    pub title: Text,
    /// BCP 47 tags; the first is the default language.
    pub languages: Vec<String>,
    /// Expression naming one submission in lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
    /// Option lists shared by select questions, by list name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, Vec<Choice>>,
    /// The questions, groups and repeats, in order.
    pub items: Vec<ItemDoc>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub navigation: Navigation,
    /// Public keys that exported bundles are encrypted to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encrypt_to: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Navigation {
    /// Each top-level group is a page.
    #[default]
    Pages,
    /// One question per screen.
    Question,
    /// One scrolling page.
    Scroll,
}

/// Text in every language: a plain string, or an object from language tag to string.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Text {
    Plain(String),
    Translated(BTreeMap<String, String>),
}

impl Text {
    /// The text in `lang`, falling back to `default_lang`, then to any translation.
    pub fn get<'a>(&'a self, lang: &str, default_lang: &str) -> &'a str {
        match self {
            Text::Plain(s) => s,
            Text::Translated(m) => m
                .get(lang)
                .or_else(|| m.get(default_lang))
                .or_else(|| m.values().next())
                .map(String::as_str)
                .unwrap_or(""),
        }
    }
}

/// One option of a choice list. Keys other than `value` and `label` are attributes a
/// `choice_filter` may read (for cascading lists).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Choice {
    pub value: String,
    pub label: Text,
    #[serde(flatten)]
    pub attrs: BTreeMap<String, String>,
}

/// `true`/`false` or an expression.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Condition {
    Const(bool),
    Expr(String),
}

/// A repeat's `count`: a fixed number or an expression.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Count {
    Fixed(u64),
    Expr(String),
}

/// Parameters of a `range` question.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RangeParams {
    pub start: f64,
    pub end: f64,
    #[serde(default = "one")]
    pub step: f64,
}

fn one() -> f64 {
    1.0
}

/// The type of an item.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Text,
    Integer,
    Decimal,
    SelectOne,
    SelectMultiple,
    Date,
    Time,
    Datetime,
    Geopoint,
    Image,
    Audio,
    Video,
    File,
    Barcode,
    Acknowledge,
    Range,
    Note,
    Calculate,
    Hidden,
    Start,
    End,
    Today,
    Deviceid,
    Username,
    Group,
    Repeat,
}

impl ItemType {
    pub fn as_str(self) -> &'static str {
        use ItemType::*;
        match self {
            Text => "text",
            Integer => "integer",
            Decimal => "decimal",
            SelectOne => "select_one",
            SelectMultiple => "select_multiple",
            Date => "date",
            Time => "time",
            Datetime => "datetime",
            Geopoint => "geopoint",
            Image => "image",
            Audio => "audio",
            Video => "video",
            File => "file",
            Barcode => "barcode",
            Acknowledge => "acknowledge",
            Range => "range",
            Note => "note",
            Calculate => "calculate",
            Hidden => "hidden",
            Start => "start",
            End => "end",
            Today => "today",
            Deviceid => "deviceid",
            Username => "username",
            Group => "group",
            Repeat => "repeat",
        }
    }
    pub fn is_container(self) -> bool {
        matches!(self, ItemType::Group | ItemType::Repeat)
    }
    /// Metadata filled by the app, never shown.
    pub fn is_metadata(self) -> bool {
        use ItemType::*;
        matches!(self, Start | End | Today | Deviceid | Username)
    }
    /// Items that hold a value in a submission.
    pub fn has_value(self) -> bool {
        !matches!(self, ItemType::Note | ItemType::Group | ItemType::Repeat)
    }
    /// Items a surveyor sees and may answer.
    pub fn is_shown(self) -> bool {
        !matches!(self, ItemType::Calculate | ItemType::Hidden) && !self.is_metadata()
    }
    pub fn is_attachment(self) -> bool {
        use ItemType::*;
        matches!(self, Image | Audio | Video | File)
    }
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ItemType::Integer | ItemType::Decimal | ItemType::Range
        )
    }
}

/// The stored JSON type of a `calculate` item.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    #[default]
    String,
    Integer,
    Decimal,
    Boolean,
    Date,
}

/// One item: a question, a group or a repeat. Which keys apply depends on `type`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ItemDoc {
    #[serde(rename = "type")]
    pub kind: ItemType,
    /// Identifier, unique in the whole form; the column name in exports.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_message: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint_message: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<Condition>,
    /// A literal of the question's type, set when the item first comes into existence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// An expression evaluated once when the item first comes into existence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<String>,
    /// The choice list of a select question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<RangeParams>,
    /// The stored type of a `calculate` item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<DataType>,
    /// A repeat's fixed number of instances (XLSForm `repeat_count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    /// The items of a group or repeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ItemDoc>>,
}

// The three "either" types are read by hand: serde's untagged enums buffer every value first, which
// made them the largest cost of loading a big form, and their error message names no alternative.

struct EitherVisitor<T>(&'static str, std::marker::PhantomData<T>);

impl<'de> serde::de::Visitor<'de> for EitherVisitor<Text> {
    type Value = Text;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text::Plain(v.to_string()))
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text::Plain(v))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
        let mut m = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, String>()? {
            m.insert(k, v);
        }
        Ok(Text::Translated(m))
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EitherVisitor::<Text>(
            "a text: a string, or an object from language tag to string",
            std::marker::PhantomData,
        ))
    }
}

impl<'de> serde::de::Visitor<'de> for EitherVisitor<Condition> {
    type Value = Condition;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.0)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Condition, E> {
        Ok(Condition::Const(v))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Condition, E> {
        Ok(Condition::Expr(v.to_string()))
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EitherVisitor::<Condition>(
            "true, false or an expression (a string)",
            std::marker::PhantomData,
        ))
    }
}

impl<'de> serde::de::Visitor<'de> for EitherVisitor<Count> {
    type Value = Count;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.0)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Count, E> {
        Ok(Count::Fixed(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Count, E> {
        u64::try_from(v)
            .map(Count::Fixed)
            .map_err(|_| E::custom(format!("a count cannot be negative, found {v}")))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Count, E> {
        Err(E::custom(format!(
            "a count is a whole number or an expression (a string), found {v}"
        )))
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Count, E> {
        Ok(Count::Expr(v.to_string()))
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EitherVisitor::<Count>(
            "a whole number or an expression (a string)",
            std::marker::PhantomData,
        ))
    }
}
