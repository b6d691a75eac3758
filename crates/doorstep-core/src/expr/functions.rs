//! The function library: the table of names and argument counts, and each function's meaning.
//!
//! The table is the single source for the parser (unknown functions and argument counts are load-time
//! errors), the linter and the docs ([`functions`]). Meanings follow the ODK function reference;
//! the few functions beyond ODK (`cond`, `age`, `cn-id-valid`) are marked as such.

use std::cell::RefCell;
use std::rc::Rc;

use super::Span;
use super::ast::{Ast, Kind, QuestionRef};
use super::dates;
use super::eval::{Cur, Ev, Evaluator};
use super::value::Value;
use crate::form::compiled::FastMap;

macro_rules! table {
    ($($v:ident = $name:literal, $min:expr, $max:expr;)*) => {
        /// One function of the library.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum F { $($v),* }
        const ALL: &[F] = &[$(F::$v),*];
        static TABLE: &[(&str, usize, Option<usize>)] = &[$(($name, $min, $max)),*];
    };
}

table! {
    // logic
    If = "if", 3, Some(3);
    Coalesce = "coalesce", 2, Some(2);
    Not = "not", 1, Some(1);
    True = "true", 0, Some(0);
    False = "false", 0, Some(0);
    Boolean = "boolean", 1, Some(1);
    BooleanFromString = "boolean-from-string", 1, Some(1);
    Once = "once", 1, Some(1);
    Checklist = "checklist", 2, None;
    WeightedChecklist = "weighted-checklist", 2, None;
    Cond = "cond", 3, None;
    // selects
    Selected = "selected", 2, Some(2);
    CountSelected = "count-selected", 1, Some(1);
    SelectedAt = "selected-at", 2, Some(2);
    ChoiceName = "jr:choice-name", 2, Some(2);
    // repeats
    Count = "count", 1, Some(1);
    CountNonEmpty = "count-non-empty", 1, Some(1);
    Sum = "sum", 1, Some(1);
    Max = "max", 1, None;
    Min = "min", 1, None;
    Join = "join", 2, None;
    Position = "position", 0, Some(1);
    IndexedRepeat = "indexed-repeat", 3, None;
    // text
    Concat = "concat", 0, None;
    String = "string", 0, Some(1);
    StringLength = "string-length", 0, Some(1);
    Substr = "substr", 2, Some(3);
    Contains = "contains", 2, Some(2);
    StartsWith = "starts-with", 2, Some(2);
    EndsWith = "ends-with", 2, Some(2);
    SubstringBefore = "substring-before", 2, Some(2);
    SubstringAfter = "substring-after", 2, Some(2);
    Translate = "translate", 3, Some(3);
    NormalizeSpace = "normalize-space", 0, Some(1);
    Regex = "regex", 2, Some(2);
    Uuid = "uuid", 0, Some(1);
    Digest = "digest", 2, Some(3);
    // numbers
    Number = "number", 0, Some(1);
    Int = "int", 1, Some(1);
    Round = "round", 1, Some(2);
    Floor = "floor", 1, Some(1);
    Ceiling = "ceiling", 1, Some(1);
    Pow = "pow", 2, Some(2);
    Abs = "abs", 1, Some(1);
    Sqrt = "sqrt", 1, Some(1);
    Log = "log", 1, Some(1);
    Log10 = "log10", 1, Some(1);
    Exp = "exp", 1, Some(1);
    Exp10 = "exp10", 1, Some(1);
    Sin = "sin", 1, Some(1);
    Cos = "cos", 1, Some(1);
    Tan = "tan", 1, Some(1);
    Asin = "asin", 1, Some(1);
    Acos = "acos", 1, Some(1);
    Atan = "atan", 1, Some(1);
    Atan2 = "atan2", 2, Some(2);
    Pi = "pi", 0, Some(0);
    Random = "random", 0, Some(0);
    // dates
    Today = "today", 0, Some(0);
    Now = "now", 0, Some(0);
    Date = "date", 1, Some(1);
    DecimalDateTime = "decimal-date-time", 1, Some(1);
    DecimalTime = "decimal-time", 1, Some(1);
    FormatDate = "format-date", 2, Some(2);
    FormatDateTime = "format-date-time", 2, Some(2);
    // beyond ODK
    Age = "age", 1, Some(2);
    CnIdValid = "cn-id-valid", 1, Some(1);
}

/// The names of all functions with their minimum and maximum argument counts (`None`: no maximum).
/// A few have a further rule on the count, which [`check_arity`] applies: `cond` takes an odd number,
/// `weighted-checklist` an even one, `indexed-repeat` an odd one.
pub fn functions() -> &'static [(&'static str, usize, Option<usize>)] {
    TABLE
}

pub(crate) fn lookup(name: &str) -> Option<F> {
    TABLE
        .iter()
        .position(|(n, _, _)| *n == name)
        .map(|i| ALL[i])
}

#[cfg(test)]
pub(crate) fn name(f: F) -> &'static str {
    TABLE[f as usize].0
}

/// The closest known name, for "did you mean": small edit distance, or the same name without a
/// namespace prefix or with another case (`Today` → `today`, `choice-name` → `jr:choice-name`).
pub(crate) fn suggest(unknown: &str) -> Option<&'static str> {
    let lower = unknown.to_ascii_lowercase();
    if let Some((n, _, _)) = TABLE
        .iter()
        .find(|(n, _, _)| *n == lower || n.strip_prefix("jr:") == Some(&lower))
    {
        return Some(n);
    }
    let limit = if unknown.len() <= 4 { 1 } else { 2 };
    TABLE
        .iter()
        .map(|(n, _, _)| (edit_distance(&lower, n), *n))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// The Levenshtein distance between two names, in characters: the one measure behind every "did you
/// mean" hint (functions, item names, and the XLSForm converter's types).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            row[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(row[j] + 1);
        }
        prev = row;
    }
    prev[b.len()]
}

/// `None` when `n` arguments suit `f`, else the message of an `expr/arity` error.
pub(crate) fn check_arity(f: F, n: usize) -> Option<String> {
    let (name, min, max) = TABLE[f as usize];
    let plural = |k: usize| if k == 1 { "argument" } else { "arguments" };
    let expected = match max {
        Some(max) if min == max => format!("{min} {}", plural(min)),
        Some(max) => format!("{min} to {max} arguments"),
        None => format!("at least {min} {}", plural(min)),
    };
    if n < min || max.is_some_and(|m| n > m) {
        return Some(format!("`{name}` takes {expected}, found {n}"));
    }
    match f {
        F::Cond if n.is_multiple_of(2) => Some(format!(
            "`cond` takes pairs of condition and value then a default (an odd number of arguments), found {n}"
        )),
        F::WeightedChecklist if n % 2 == 1 => Some(format!(
            "`weighted-checklist` takes min, max, then pairs of value and weight (an even number of arguments), found {n}"
        )),
        F::IndexedRepeat if n.is_multiple_of(2) => Some(format!(
            "`indexed-repeat` takes the field, then pairs of repeat and position (an odd number of arguments), found {n}"
        )),
        _ => None,
    }
}

/// Functions whose value changes between evaluations with the same inputs.
pub(crate) fn is_volatile(f: F) -> bool {
    matches!(f, F::Now | F::Today | F::Random | F::Uuid)
}

/// Whether argument `i` of `f` may be a list (see `Expr::check_lists`).
pub(crate) fn list_arg_ok(f: F, i: usize, nargs: usize) -> bool {
    match f {
        F::Sum | F::Count | F::CountNonEmpty | F::Max | F::Min | F::IndexedRepeat => true,
        F::Join => i >= 1,
        // The condition of `if` and of `cond`, and the operand of `not`/`boolean`: a list counts as
        // true when not empty. ODK also lets checklists count the true values of a list.
        F::If => i == 0,
        F::Cond => i.is_multiple_of(2) && i + 1 < nargs,
        F::Not | F::Boolean => true,
        F::Checklist => i >= 2,
        F::WeightedChecklist => i >= 2,
        _ => false,
    }
}

/// The longest text a function may return (4 MiB).
pub const MAX_TEXT: usize = 4 << 20;

fn s(v: impl Into<Rc<str>>) -> Ev {
    Ev::V(Value::Str(v.into()))
}

fn n(v: f64) -> Ev {
    Ev::V(Value::Num(v))
}

fn b(v: bool) -> Ev {
    Ev::V(Value::Bool(v))
}

fn empty() -> Ev {
    Ev::V(Value::empty())
}

impl Evaluator<'_> {
    /// Calls function `f`. The work is split by group into separate functions so that the frame on
    /// the evaluator's recursion path stays small: a call nested in a call nests these frames, and the
    /// app runs in wasm with about 1 MB of stack (debug builds give every local its own slot, and the
    /// single big match took some 9 KB per nesting level).
    pub(crate) fn call(
        &mut self,
        f: F,
        a: &[Ast],
        span: Span,
        question: Option<&QuestionRef>,
    ) -> Ev {
        let result = self.call_unbounded(f, a, span, question);
        // Text can double through chained calculations (`concat(${c}, ${c})` forty times is 2^40
        // bytes); no answer or label needs more than a few megabytes, so longer results are dropped.
        if let Ev::V(Value::Str(t)) = &result
            && t.len() > MAX_TEXT
        {
            let len = t.len();
            self.runtime(span, format!("the result is {len} bytes of text, over the limit of {MAX_TEXT}: it is left empty"));
            return s("");
        }
        result
    }

    fn call_unbounded(
        &mut self,
        f: F,
        a: &[Ast],
        span: Span,
        question: Option<&QuestionRef>,
    ) -> Ev {
        match f {
            F::If
            | F::Coalesce
            | F::Not
            | F::True
            | F::False
            | F::Boolean
            | F::BooleanFromString
            | F::Once
            | F::Checklist
            | F::WeightedChecklist
            | F::Cond => self.call_logic(f, a, span, question),
            F::Selected | F::CountSelected | F::SelectedAt | F::ChoiceName => {
                self.call_selects(f, a, span, question)
            }
            F::Count
            | F::CountNonEmpty
            | F::Sum
            | F::Max
            | F::Min
            | F::Join
            | F::Position
            | F::IndexedRepeat => self.call_repeats(f, a, span, question),
            F::Concat
            | F::String
            | F::StringLength
            | F::Substr
            | F::Contains
            | F::StartsWith
            | F::EndsWith
            | F::SubstringBefore
            | F::SubstringAfter => self.call_text(f, a, span, question),
            F::Translate | F::NormalizeSpace | F::Regex | F::Uuid | F::Digest => {
                self.call_text_more(f, a, span)
            }
            F::Number
            | F::Int
            | F::Round
            | F::Floor
            | F::Ceiling
            | F::Pow
            | F::Abs
            | F::Sqrt
            | F::Log
            | F::Log10
            | F::Exp
            | F::Exp10
            | F::Sin
            | F::Cos
            | F::Tan
            | F::Asin
            | F::Acos
            | F::Atan
            | F::Atan2
            | F::Pi
            | F::Random => self.call_numbers(f, a, span, question),
            F::Today
            | F::Now
            | F::Date
            | F::DecimalDateTime
            | F::DecimalTime
            | F::FormatDate
            | F::FormatDateTime => self.call_dates(f, a, span, question),
            F::Age | F::CnIdValid => self.call_beyond(f, a, span, question),
        }
    }

    fn call_logic(&mut self, f: F, a: &[Ast], span: Span, question: Option<&QuestionRef>) -> Ev {
        let _ = (span, question);
        // The parser guarantees the argument counts of the table; `arg` still never panics.
        let none = Ast::new(Kind::Error, span);
        let arg = |i: usize| a.get(i).unwrap_or(&none);
        match f {
            F::If => {
                if self.boolean(arg(0)) {
                    self.eval(arg(1))
                } else {
                    self.eval(arg(2))
                }
            }
            F::Coalesce => {
                let first = self.value(arg(0));
                if present(&first) {
                    Ev::V(first)
                } else {
                    Ev::V(self.value(arg(1)))
                }
            }
            F::Not => b(!self.boolean(arg(0))),
            F::True => b(true),
            F::False => b(false),
            F::Boolean => b(self.boolean(arg(0))),
            F::BooleanFromString => {
                let v = self.string(arg(0));
                b(&*v == "true" || &*v == "1")
            }
            F::Once => {
                let current = match &self.cur {
                    Cur::Node(node) => self.env.node_value(*node),
                    Cur::Atom(v) => v.clone(),
                };
                if present(&current) {
                    Ev::V(current)
                } else {
                    Ev::V(self.value(arg(0)))
                }
            }
            F::Checklist => {
                let (lo, hi) = (self.num(arg(0)), self.num(arg(1)));
                let mut count = 0.0;
                for x in a.iter().skip(2) {
                    count += self
                        .eval(x)
                        .elems(self.env)
                        .iter()
                        .filter(|v| v.to_bool())
                        .count() as f64;
                }
                b(within(count, lo, hi))
            }
            F::WeightedChecklist => {
                let (lo, hi) = (self.num(arg(0)), self.num(arg(1)));
                let mut total = 0.0;
                for pair in a[2.min(a.len())..].chunks(2) {
                    let vs = self.eval(&pair[0]).elems(self.env);
                    let ws = match pair.get(1) {
                        Some(w) => self.eval(w).elems(self.env),
                        None => Vec::new(),
                    };
                    for (i, v) in vs.iter().enumerate() {
                        // With a list of values and a single weight, the weight applies to each.
                        let w = ws.get(i).or(ws.first()).map_or(f64::NAN, Value::to_num);
                        if v.to_bool() {
                            total += w;
                        }
                    }
                }
                b(within(total, lo, hi))
            }
            F::Cond => {
                let mut i = 0;
                while i + 1 < a.len() {
                    if self.boolean(&a[i]) {
                        return self.eval(&a[i + 1]);
                    }
                    i += 2;
                }
                self.eval(arg(a.len().saturating_sub(1)))
            }
            _ => empty(),
        }
    }

    fn call_selects(&mut self, f: F, a: &[Ast], span: Span, question: Option<&QuestionRef>) -> Ev {
        let _ = (span, question);
        // The parser guarantees the argument counts of the table; `arg` still never panics.
        let none = Ast::new(Kind::Error, span);
        let arg = |i: usize| a.get(i).unwrap_or(&none);
        match f {
            F::Selected => {
                let (list, v) = (self.string(arg(0)), self.string(arg(1)));
                let v = v.trim();
                b(list.split_whitespace().any(|x| x == v))
            }
            F::CountSelected => n(self.string(arg(0)).split_whitespace().count() as f64),
            F::SelectedAt => {
                let (list, i) = (self.string(arg(0)), self.num(arg(1)));
                if i.is_nan() || i < 0.0 {
                    return empty();
                }
                list.split_whitespace()
                    .nth(i as usize)
                    .map_or_else(empty, s)
            }
            F::ChoiceName => {
                let v = self.string(arg(0));
                match question.and_then(|q| q.item) {
                    Some(q) if !v.is_empty() => self.env.choice_label(q, &v).map_or_else(empty, s),
                    _ => empty(),
                }
            }
            _ => empty(),
        }
    }

    fn call_repeats(&mut self, f: F, a: &[Ast], span: Span, question: Option<&QuestionRef>) -> Ev {
        let _ = (span, question);
        // The parser guarantees the argument counts of the table; `arg` still never panics.
        let none = Ast::new(Kind::Error, span);
        let arg = |i: usize| a.get(i).unwrap_or(&none);
        match f {
            F::Count => match self.eval(arg(0)) {
                Ev::V(Value::Nodes(ns)) => n(ns.len() as f64),
                Ev::Atoms(vs) => n(vs.len() as f64),
                // A single value is one node (XPath `count(/data/x)` is 1 even when x is empty).
                Ev::V(_) => n(1.0),
            },
            F::CountNonEmpty => {
                let vs = self.eval(arg(0)).elems(self.env);
                n(vs.iter().filter(|v| present(v)).count() as f64)
            }
            F::Sum => {
                // As in XPath, an empty element (NaN) makes the sum NaN; an empty list sums to 0.
                // Folded from +0: Rust's `Sum` for f64 starts at -0, which a calculation would
                // store and export as "-0.0" (the cash part of a visit that gave no cash).
                let vs = self.eval(arg(0)).elems(self.env);
                n(vs.iter().map(Value::to_num).fold(0.0, |a, b| a + b))
            }
            F::Max | F::Min => {
                let mut all = Vec::new();
                for x in a {
                    all.extend(self.eval(x).elems(self.env).iter().map(Value::to_num));
                }
                if all.is_empty() || all.iter().any(|x| x.is_nan()) {
                    return n(f64::NAN);
                }
                let pick = if f == F::Max { f64::max } else { f64::min };
                n(all.into_iter().reduce(pick).unwrap_or(f64::NAN))
            }
            F::Join => {
                let sep = self.string(arg(0));
                let mut parts: Vec<Rc<str>> = Vec::new();
                for x in a.iter().skip(1) {
                    parts.extend(self.eval(x).elems(self.env).iter().map(Value::to_str));
                }
                s(parts.join(&sep))
            }
            F::Position => {
                if a.is_empty() {
                    return match self.pos {
                        Some(p) => n(p as f64),
                        None => n(self.env.position(self.ctx) as f64),
                    };
                }
                let node = match (&arg(0).kind, &self.cur) {
                    (Kind::Current, Cur::Node(node)) => Some(*node),
                    _ => match self.eval(arg(0)) {
                        Ev::V(Value::Nodes(ns)) => ns.first().copied(),
                        _ => None,
                    },
                };
                node.map_or(n(f64::NAN), |node| n(self.env.position(node) as f64))
            }
            F::IndexedRepeat => self.indexed_repeat(a),
            _ => empty(),
        }
    }

    fn call_text(&mut self, f: F, a: &[Ast], span: Span, question: Option<&QuestionRef>) -> Ev {
        let _ = (span, question);
        // The parser guarantees the argument counts of the table; `arg` still never panics.
        let none = Ast::new(Kind::Error, span);
        let arg = |i: usize| a.get(i).unwrap_or(&none);
        match f {
            F::Concat => {
                let mut out = String::new();
                for x in a {
                    out.push_str(&self.string(x));
                }
                s(out)
            }
            F::String => s(self.string_or_current(a)),
            F::StringLength => n(self.string_or_current(a).chars().count() as f64),
            F::Substr => {
                let text = self.string(arg(0));
                let len = text.chars().count() as f64;
                let start = clamp_index(self.num(arg(1)), len);
                let end = if a.len() > 2 {
                    clamp_index(self.num(arg(2)), len)
                } else {
                    len
                };
                if end <= start {
                    return empty();
                }
                // Character positions to byte offsets, without a copy of the text as `char`s.
                let (start, end) = (start as usize, end as usize);
                let mut at = text.char_indices().map(|(i, _)| i).chain([text.len()]);
                let from = at.nth(start).unwrap_or(text.len());
                let to = at.nth(end - start - 1).unwrap_or(text.len());
                s(&text[from..to])
            }
            F::Contains => {
                let (x, y) = (self.string(arg(0)), self.string(arg(1)));
                b(x.contains(&*y))
            }
            F::StartsWith => {
                let (x, y) = (self.string(arg(0)), self.string(arg(1)));
                b(x.starts_with(&*y))
            }
            F::EndsWith => {
                let (x, y) = (self.string(arg(0)), self.string(arg(1)));
                b(x.ends_with(&*y))
            }
            F::SubstringBefore => {
                let (x, y) = (self.string(arg(0)), self.string(arg(1)));
                if y.is_empty() {
                    return empty();
                }
                x.find(&*y).map_or_else(empty, |i| s(&x[..i]))
            }
            F::SubstringAfter => {
                let (x, y) = (self.string(arg(0)), self.string(arg(1)));
                x.find(&*y).map_or_else(empty, |i| s(&x[i + y.len()..]))
            }
            _ => empty(),
        }
    }

    /// The text functions with the largest locals, apart from the others (see [`Self::call`]).
    fn call_text_more(&mut self, f: F, a: &[Ast], span: Span) -> Ev {
        let none = Ast::new(Kind::Error, span);
        let arg = |i: usize| a.get(i).unwrap_or(&none);
        match f {
            F::Translate => {
                let (x, from, to) = (
                    self.string(arg(0)),
                    self.string(arg(1)),
                    self.string(arg(2)),
                );
                let from: Vec<char> = from.chars().collect();
                let to: Vec<char> = to.chars().collect();
                let out: String = x
                    .chars()
                    .filter_map(|c| match from.iter().position(|&f| f == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect();
                s(out)
            }
            F::NormalizeSpace => {
                let x = self.string_or_current(a);
                s(x.split([' ', '\t', '\n', '\r'])
                    .filter(|w| !w.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "))
            }
            F::Regex => {
                let (text, pattern) = (self.string(arg(0)), self.string(arg(1)));
                match regex_is_match(&pattern, &text) {
                    Ok(m) => b(m),
                    Err(e) => {
                        self.runtime(
                            span,
                            format!("regex: invalid regular expression '{pattern}': {e}"),
                        );
                        empty()
                    }
                }
            }
            F::Uuid => {
                if a.is_empty() {
                    return s(self.env.uuid());
                }
                // uuid(n): n random letters and digits, as ODK.
                let len = self.num(arg(0));
                if len.is_nan() || len < 0.0 {
                    return empty();
                }
                const ALPHABET: &[u8] =
                    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
                let out: String = (0..(len as usize).min(1000))
                    .map(|_| {
                        let r = self.env.random();
                        let i = ((r * ALPHABET.len() as f64) as usize).min(ALPHABET.len() - 1);
                        ALPHABET[i] as char
                    })
                    .collect();
                s(out)
            }
            F::Digest => {
                let text = self.string(arg(0));
                let alg = self.string(arg(1));
                let enc = if a.len() > 2 {
                    self.string(arg(2))
                } else {
                    Rc::from("base64")
                };
                match digest(&text, &alg, &enc) {
                    Ok(d) => s(d),
                    Err(e) => {
                        self.runtime(span, e);
                        empty()
                    }
                }
            }
            _ => empty(),
        }
    }

    fn call_numbers(&mut self, f: F, a: &[Ast], span: Span, question: Option<&QuestionRef>) -> Ev {
        let _ = (span, question);
        // The parser guarantees the argument counts of the table; `arg` still never panics.
        let none = Ast::new(Kind::Error, span);
        let arg = |i: usize| a.get(i).unwrap_or(&none);
        match f {
            F::Number => {
                if a.is_empty() {
                    return n(Value::Str(self.string_or_current(a)).to_num());
                }
                n(self.num(arg(0)))
            }
            F::Int => n(self.num(arg(0)).trunc()),
            F::Round => {
                let x = self.num(arg(0));
                let places = if a.len() > 1 { self.num(arg(1)) } else { 0.0 };
                n(round_half_up(x, places))
            }
            F::Floor => n(self.num(arg(0)).floor()),
            F::Ceiling => n(self.num(arg(0)).ceil()),
            F::Pow => {
                let (x, y) = (self.num(arg(0)), self.num(arg(1)));
                n(x.powf(y))
            }
            F::Abs => n(self.num(arg(0)).abs()),
            F::Sqrt => n(self.num(arg(0)).sqrt()),
            F::Log => n(self.num(arg(0)).ln()),
            F::Log10 => n(self.num(arg(0)).log10()),
            F::Exp => n(self.num(arg(0)).exp()),
            F::Exp10 => n(10f64.powf(self.num(arg(0)))),
            F::Sin => n(self.num(arg(0)).sin()),
            F::Cos => n(self.num(arg(0)).cos()),
            F::Tan => n(self.num(arg(0)).tan()),
            F::Asin => n(self.num(arg(0)).asin()),
            F::Acos => n(self.num(arg(0)).acos()),
            F::Atan => n(self.num(arg(0)).atan()),
            F::Atan2 => {
                let (y, x) = (self.num(arg(0)), self.num(arg(1)));
                n(y.atan2(x))
            }
            F::Pi => n(std::f64::consts::PI),
            F::Random => n(self.env.random()),
            _ => empty(),
        }
    }

    fn call_dates(&mut self, f: F, a: &[Ast], span: Span, question: Option<&QuestionRef>) -> Ev {
        let _ = (span, question);
        // The parser guarantees the argument counts of the table; `arg` still never panics.
        let none = Ast::new(Kind::Error, span);
        let arg = |i: usize| a.get(i).unwrap_or(&none);
        match f {
            F::Today => s(dates::format_days(dates::today(self.env.clock()))),
            F::Now => s(dates::now_string(self.env.clock())),
            F::Date => {
                let d = self.num(arg(0));
                if !d.is_finite() || d.abs() > 1e10 {
                    return empty();
                }
                s(dates::format_days(d.floor() as i64))
            }
            F::DecimalDateTime => n(self.num(arg(0))),
            F::DecimalTime => {
                let v = self.value(arg(0));
                let t = v.to_num();
                // A time of day is already a fraction; a date-time keeps only its time of day.
                n(t - t.floor())
            }
            F::FormatDate | F::FormatDateTime => {
                let d = self.num(arg(0));
                let fmt = self.string(arg(1));
                s(dates::format(d, &fmt))
            }
            _ => empty(),
        }
    }

    fn call_beyond(&mut self, f: F, a: &[Ast], span: Span, question: Option<&QuestionRef>) -> Ev {
        let _ = (span, question);
        // The parser guarantees the argument counts of the table; `arg` still never panics.
        let none = Ast::new(Kind::Error, span);
        let arg = |i: usize| a.get(i).unwrap_or(&none);
        match f {
            F::Age => {
                let birth = self.num(arg(0));
                let on = if a.len() > 1 {
                    self.num(arg(1))
                } else {
                    dates::today(self.env.clock()) as f64
                };
                if !birth.is_finite() || !on.is_finite() || birth.abs() > 1e10 || on.abs() > 1e10 {
                    return n(f64::NAN);
                }
                n(dates::age(birth.floor() as i64, on.floor() as i64) as f64)
            }
            F::CnIdValid => {
                let id = self.string(arg(0));
                b(cn_id_valid(&id, dates::today(self.env.clock())))
            }
            _ => empty(),
        }
    }

    /// The argument's string, or the current node's when there is none (`string()`, `string-length()`).
    fn string_or_current(&mut self, a: &[Ast]) -> Rc<str> {
        match a.first() {
            Some(x) => self.string(x),
            None => match &self.cur {
                Cur::Node(node) => self.env.node_value(*node).to_str(),
                Cur::Atom(v) => v.to_str(),
            },
        }
    }

    /// `indexed-repeat(${field}, ${repeat1}, i1, ${repeat2}, i2, ...)`: the value of `field` in
    /// instance `i1` (1-based) of `repeat1`, inside it instance `i2` of `repeat2`, and so on.
    fn indexed_repeat(&mut self, a: &[Ast]) -> Ev {
        let item_of = |x: &Ast| match x.kind {
            Kind::Field { item, .. } => item,
            _ => None,
        };
        let Some(field) = a.first().and_then(item_of) else {
            return empty();
        };
        let mut instance = None;
        for pair in a[1..].chunks(2) {
            let (Some(repeat), Some(index)) = (item_of(&pair[0]), pair.get(1)) else {
                return empty();
            };
            let instances = match instance {
                None => self.env.field(repeat, self.ctx),
                Some(inst) => self.env.child(inst, repeat),
            };
            let Value::Nodes(ns) = instances else {
                return empty();
            };
            let i = self.num(index);
            if !(i >= 1.0 && i <= ns.len() as f64) {
                return empty();
            }
            instance = Some(ns[i as usize - 1]);
        }
        let Some(inst) = instance else { return empty() };
        match self.env.child(inst, field) {
            Value::Nodes(ns) => Ev::V(
                ns.first()
                    .map_or_else(Value::empty, |node| self.env.node_value(*node)),
            ),
            v => Ev::V(v),
        }
    }
}

/// Not empty: neither `""` nor NaN (which is what an empty number reads as).
fn present(v: &Value) -> bool {
    match v {
        Value::Str(x) => !x.is_empty(),
        Value::Num(x) => !x.is_nan(),
        Value::Bool(_) => true,
        Value::Nodes(ns) => !ns.is_empty(),
    }
}

/// `lo <= x <= hi`, where a negative (or missing) bound means "no limit", as ODK's checklists.
fn within(x: f64, lo: f64, hi: f64) -> bool {
    (lo.is_nan() || lo < 0.0 || x >= lo) && (hi.is_nan() || hi < 0.0 || x <= hi)
}

/// A character index for `substr`: truncated; a negative index counts from the end (as in Collect
/// and ODK Web Forms: `substr('hello', -3)` is "llo"); then clamped to `0..=len`. NaN counts as 0.
fn clamp_index(i: f64, len: f64) -> f64 {
    if i.is_nan() {
        0.0
    } else {
        let i = i.trunc();
        if i < 0.0 { len + i } else { i }.clamp(0.0, len)
    }
}

/// Rounds at `places` decimals to the nearest number, a half toward positive infinity as XPath 1.0
/// `round` says and JavaRosa does (`round(2.5)` is 3, `round(-2.5)` is -2), on the decimal digits
/// as written (so `round(2.675, 2)` is 2.68 as a person expects, not 2.67 as binary arithmetic would
/// give).
pub(crate) fn round_half_up(x: f64, places: f64) -> f64 {
    if !x.is_finite() || places.is_nan() {
        return if places.is_nan() { f64::NAN } else { x };
    }
    let p = places.trunc().clamp(-400.0, 400.0) as i32;
    if p < 0 {
        let f = 10f64.powi(-p);
        let q = x / f;
        // `f64::round` takes a half away from zero; a negative half goes toward zero instead.
        let r = if q < 0.0 && q - q.trunc() == -0.5 {
            q.trunc()
        } else {
            q.round()
        };
        return r * f;
    }
    // Rust prints the shortest digits that read back as `x`, without exponent.
    let text = format!("{}", x.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let p = p as usize;
    if frac.len() <= p {
        return x;
    }
    let mut digits: Vec<u8> = int
        .bytes()
        .chain(frac.bytes().take(p))
        .map(|c| c - b'0')
        .collect();
    let rest = &frac.as_bytes()[p..];
    // A negative number's exact half (a 5 and nothing after it) rounds toward zero.
    let half = rest[0] == b'5' && rest[1..].iter().all(|&d| d == b'0');
    if rest[0] > b'5' || rest[0] == b'5' && !(half && x < 0.0) {
        // Carry the rounding up through the digits.
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - p;
    let mut out = String::with_capacity(digits.len() + 2);
    if x < 0.0 {
        out.push('-');
    }
    out.extend(digits[..split].iter().map(|d| (d + b'0') as char));
    if p > 0 {
        out.push('.');
        out.extend(digits[split..].iter().map(|d| (d + b'0') as char));
    }
    out.parse().unwrap_or(f64::NAN)
}

/// Longest pattern accepted from a form or an answer.
const MAX_PATTERN: usize = 2_000;
/// Compiled-size limit, so a pattern like `(a{100}){100}` cannot take much memory.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
const REGEX_CACHE: usize = 64;

/// A pattern ready to match: most patterns forms use have a fixed length and need no regex engine.
enum Compiled {
    Fixed(super::fixed_regex::Fixed),
    Regex(Result<regex_lite::Regex, String>),
}

thread_local! {
    /// Compiled patterns: forms use a handful of constant patterns, evaluated on every keystroke
    /// (and by the office for every household it re-validates).
    static REGEXES: RefCell<FastMap<Rc<str>, Compiled>> = RefCell::new(FastMap::default());
}

/// `regex(s, re)`: true if `re` matches anywhere in `s`. regex-lite matches in linear time, so a
/// pattern like `(a*)*b` cannot hang the app.
fn regex_is_match(pattern: &str, text: &str) -> Result<bool, String> {
    if pattern.len() > MAX_PATTERN {
        return Err(format!(
            "the pattern is {} bytes long, expected at most {MAX_PATTERN}",
            pattern.len()
        ));
    }
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            if cache.len() >= REGEX_CACHE {
                cache.clear();
            }
            let compiled = match super::fixed_regex::Fixed::parse(pattern) {
                Some(f) => Compiled::Fixed(f),
                None => Compiled::Regex(compile_regex(pattern)),
            };
            cache.insert(Rc::from(pattern), compiled);
        }
        match &cache[pattern] {
            Compiled::Fixed(f) => Ok(f.is_match(text)),
            Compiled::Regex(Ok(re)) => Ok(re.is_match(text)),
            Compiled::Regex(Err(e)) => Err(e.clone()),
        }
    })
}

/// Compiles a pattern with the limits every use shares: the evaluator, and the loader's check of
/// constant patterns (`expr/bad-regex`), so a pattern the loader accepts always compiles at run time.
fn compile_regex(pattern: &str) -> Result<regex_lite::Regex, String> {
    if pattern.len() > MAX_PATTERN {
        return Err(format!(
            "the pattern is {} bytes long, expected at most {MAX_PATTERN}",
            pattern.len()
        ));
    }
    regex_lite::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(64)
        .build()
        .map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim()
                .to_string()
        })
}

/// Why a constant pattern would not compile, if it would not.
pub(crate) fn regex_error(pattern: &str) -> Option<String> {
    compile_regex(pattern).err()
}

fn digest(text: &str, alg: &str, enc: &str) -> Result<String, String> {
    use sha2::Digest as _;
    let bytes = text.as_bytes();
    let hash: Vec<u8> = match alg.to_ascii_uppercase().as_str() {
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        // The other algorithms sit behind the default-on `digest-all` feature, which the app's wasm
        // build leaves off to keep the download small (bundles need SHA-256 anyway).
        #[cfg(feature = "digest-all")]
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        #[cfg(feature = "digest-all")]
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        #[cfg(feature = "digest-all")]
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        #[cfg(feature = "digest-all")]
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        #[cfg(not(feature = "digest-all"))]
        "MD5" | "SHA-1" | "SHA-384" | "SHA-512" => {
            return Err(format!(
                "digest: {alg} is not available in this build (only SHA-256 is)"
            ));
        }
        _ => {
            return Err(format!(
                "digest: expected one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, found '{alg}'"
            ));
        }
    };
    match enc.to_ascii_lowercase().as_str() {
        "hex" => Ok(hash.iter().map(|b| format!("{b:02x}")).collect()),
        "base64" => Ok(base64(&hash)),
        _ => Err(format!(
            "digest: expected the encoding 'base64' or 'hex', found '{enc}'"
        )),
    }
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(A[(v >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A PRC resident identity number (GB 11643-1999): 17 digits and a check character (a digit or
/// `X`/`x`) computed by ISO 7064 MOD 11-2, with a real birth date `YYYYMMDD` in characters 7–14 that
/// is not after `today` and not before 1800. The region code (characters 1–6) is not checked: it
/// needs a table that changes over time.
pub(crate) fn cn_id_valid(id: &str, today: i64) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    if b[17].to_ascii_uppercase() != CHECK[(sum % 11) as usize] {
        return false;
    }
    let birth = format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]);
    match dates::parse_date(&birth) {
        Some(d) => d <= today && d >= dates::days_from_civil(1800, 1, 1),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding() {
        assert_eq!(round_half_up(2.675, 2.0), 2.68);
        assert_eq!(round_half_up(-2.5, 0.0), -2.0);
        assert_eq!(round_half_up(-2.51, 0.0), -3.0);
        assert_eq!(round_half_up(-2.675, 2.0), -2.67);
        assert_eq!(round_half_up(9.995, 2.0), 10.0);
        assert_eq!(round_half_up(1234.0, -2.0), 1200.0);
        assert_eq!(round_half_up(-1250.0, -2.0), -1200.0);
        assert_eq!(round_half_up(-1251.0, -2.0), -1300.0);
        assert_eq!(round_half_up(0.5, 0.0), 1.0);
    }

    #[test]
    fn table_is_consistent() {
        for (i, f) in ALL.iter().enumerate() {
            assert_eq!(*f as usize, i);
            assert_eq!(lookup(name(*f)), Some(*f));
        }
        assert_eq!(suggest("todya"), Some("today"));
        assert_eq!(suggest("choice-name"), Some("jr:choice-name"));
    }

    #[test]
    fn base64_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
    }
}
