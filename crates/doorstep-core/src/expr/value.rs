//! Values of the expression language and the interface through which expressions read a session.
//!
//! The evaluator never sees a session directly: it reads answers through [`Env`], which the session
//! (and test doubles) implement. Coercions follow XPath 1.0 as ODK applies them.

use std::rc::Rc;

/// Index of an item in a loaded form (document order, see `form::Form::items`).
pub type ItemId = u32;

/// One node of a session's data tree: an item in one scope.
///
/// `scope` is the repeat instance the item lives in (0 is the root of the submission).
/// A repeat *instance* is the node `{ item: <repeat item>, scope: <the instance's own scope> }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub item: ItemId,
    pub scope: u32,
}

/// A value during evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Rc<str>),
    Num(f64),
    Bool(bool),
    /// A list of nodes: a repeat's instances or a field's values across instances.
    Nodes(Rc<[Node]>),
}

/// The clock the host passes in: UTC milliseconds since 1970 and the local offset in minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub utc_millis: i64,
    pub offset_minutes: i32,
}

/// How an expression reads the data it runs over. Implemented by the session.
pub trait Env {
    /// The value of `${item}` read from `ctx`: a single value (`Str`, `Num`, `Bool`) when the item is in
    /// `ctx`'s instance or an enclosing one, otherwise `Nodes` of all its nodes under the nearest
    /// common instance. For a repeat item, `Nodes` of its instances.
    fn field(&self, item: ItemId, ctx: Node) -> Value;
    /// The child `item` of the repeat instance `instance`, or of the root node that `..` gives outside
    /// any repeat (bare names in predicates, `/name` steps): the node if `item` is a field directly in
    /// that instance, or `Nodes` when `item` is itself a repeat (or inside a nested one).
    fn child(&self, instance: Node, item: ItemId) -> Value;
    /// The atomic value of one node (`""` when unanswered or not relevant).
    fn node_value(&self, node: Node) -> Value;
    /// The 1-based position of the repeat instance that contains `node` (or is `node`).
    fn position(&self, node: Node) -> usize;
    /// The repeat instance enclosing `node` (`..`); the root node when there is none.
    fn parent(&self, node: Node) -> Node;
    fn clock(&self) -> Clock;
    fn random(&self) -> f64;
    fn uuid(&self) -> String;
    /// The label, in the current language, of choice `value` of the select question `question`.
    fn choice_label(&self, question: ItemId, value: &str) -> Option<String>;
    /// For `choice_filter`: the attribute `key` of the choice being filtered (bare names in a choice filter).
    fn choice_attr(&self, _key: &str) -> Option<Value> {
        None
    }
}

// Coercions (XPath 1.0 as ODK applies them). A list needs the `Env` to be read, so the evaluator
// atomizes `Nodes` before it calls these; here a list counts only as empty or not.
impl Value {
    /// `number(v)`: numbers as written (`-?digits(.digits)?`), dates and date-times as days since
    /// 1970-01-01, times of day as a fraction of a day, booleans as 1 or 0, anything else NaN.
    pub fn to_num(&self) -> f64 {
        match self {
            Value::Num(n) => *n,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Str(s) => str_to_num(s),
            Value::Nodes(_) => f64::NAN,
        }
    }

    /// `boolean(v)`: false for `""`, 0, NaN and an empty list.
    pub fn to_bool(&self) -> bool {
        match self {
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Bool(b) => *b,
            Value::Str(s) => !s.is_empty(),
            Value::Nodes(n) => !n.is_empty(),
        }
    }

    /// `string(v)`: numbers print as ODK prints them (see [`fmt_num`]); a list gives `""`.
    pub fn to_str(&self) -> Rc<str> {
        match self {
            Value::Str(s) => s.clone(),
            Value::Num(n) => Rc::from(fmt_num(*n)),
            Value::Bool(b) => Rc::from(if *b { "true" } else { "false" }),
            Value::Nodes(_) => Rc::from(""),
        }
    }

    /// True for the empty string, which is how an unanswered field reads.
    pub fn is_empty_str(&self) -> bool {
        matches!(self, Value::Str(s) if s.is_empty())
    }

    /// The empty string (shared: unanswered and hidden items read as this, so it must not allocate).
    pub fn empty() -> Value {
        thread_local! {
            static EMPTY: Rc<str> = Rc::from("");
        }
        Value::Str(EMPTY.with(Rc::clone))
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_str())
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Num(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Rc::from(s))
    }
}

/// Prints a number the way ODK does: whole numbers without `.0`, `NaN`, `Infinity`, `-Infinity`,
/// otherwise the shortest decimal that reads back as the same number (never an exponent).
pub fn fmt_num(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if n == 0.0 {
        // Negative zero prints as "0", as in Java and JavaScript.
        "0".to_string()
    } else {
        // Rust's `Display` for f64 is the shortest round-trip form, without exponent and without a
        // trailing `.0` for whole numbers, which is what ODK shows.
        format!("{n}")
    }
}

/// The XPath `number()` of a string, extended like ODK to dates, date-times and times.
fn str_to_num(s: &str) -> f64 {
    let t = s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    if let Some(n) = parse_xpath_number(t) {
        return n;
    }
    super::dates::to_days(t).unwrap_or(f64::NAN)
}

/// XPath 1.0 `Number ::= Digits ('.' Digits?)? | '.' Digits`, with an optional leading minus.
/// Exponents, `+`, `Infinity` and hexadecimal are not numbers in XPath, so they are not accepted.
pub(crate) fn parse_xpath_number(t: &str) -> Option<f64> {
    let body = t.strip_prefix('-').unwrap_or(t);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    if !ok {
        return None;
    }
    t.parse::<f64>()
        .ok()
        .or_else(|| format!("{t}0").parse().ok())
}
