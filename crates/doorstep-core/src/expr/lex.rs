//! The lexer: expression source to tokens with byte spans.
//!
//! It never stops at a bad character: it reports it, skips it and goes on, so the parser can report
//! every problem of an expression at once.

use std::rc::Rc;

use super::ast::BinOp;
use super::{ExprError, Span};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Str(Rc<str>),
    /// `${name}`
    Field(Box<str>),
    /// A name: a function name, a bare field name, or one of the keywords `and`, `or`, `div`, `mod`
    /// (which the parser reads as operators where an operator can stand, as XPath does).
    Name(Box<str>),
    Dot,
    DotDot,
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    Slash,
    /// `= != < <= > >= + - *`
    Op(BinOp),
    Eof,
}

impl Tok {
    /// How the token is shown in "found ..." messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("the number `{}`", super::value::fmt_num(*n)),
            Tok::Str(s) => format!("the string '{}'", shorten(s)),
            Tok::Field(n) => format!("`${{{n}}}`"),
            Tok::Name(n) => format!("`{n}`"),
            Tok::Dot => "`.`".into(),
            Tok::DotDot => "`..`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBrack => "`[`".into(),
            Tok::RBrack => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Op(op) => format!("`{}`", op_str(*op)),
            Tok::Eof => "the end of the expression".into(),
        }
    }
}

pub(crate) fn op_str(op: BinOp) -> &'static str {
    match op {
        BinOp::Or => "or",
        BinOp::And => "and",
        BinOp::Eq => "=",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "div",
        BinOp::Mod => "mod",
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 20 {
        format!("{}...", s.chars().take(20).collect::<String>())
    } else {
        s.to_string()
    }
}

fn name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Names follow XPath's NCName (ASCII here, as item names are), plus `:` for `jr:choice-name`.
fn name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':')
}

fn span(start: usize, end: usize) -> Span {
    Span {
        start: start as u32,
        end: end as u32,
    }
}

/// Splits `src` into tokens; the last token is always [`Tok::Eof`].
pub(crate) fn lex(src: &str, errors: &mut Vec<ExprError>) -> Vec<(Tok, Span)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBrack,
            b']' => Tok::RBrack,
            b',' => Tok::Comma,
            b'/' => Tok::Slash,
            b'=' => Tok::Op(BinOp::Eq),
            b'+' => Tok::Op(BinOp::Add),
            b'-' => Tok::Op(BinOp::Sub),
            b'*' => Tok::Op(BinOp::Mul),
            b'!' if b.get(i + 1) == Some(&b'=') => {
                i += 1;
                Tok::Op(BinOp::Ne)
            }
            b'<' | b'>' => {
                let eq = b.get(i + 1) == Some(&b'=');
                if eq {
                    i += 1;
                }
                Tok::Op(match (c, eq) {
                    (b'<', false) => BinOp::Lt,
                    (b'<', true) => BinOp::Le,
                    (_, false) => BinOp::Gt,
                    (_, true) => BinOp::Ge,
                })
            }
            b'.' if b.get(i + 1) == Some(&b'.') => {
                i += 1;
                Tok::DotDot
            }
            b'.' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => number(src, &mut i),
            b'.' => Tok::Dot,
            b'0'..=b'9' => number(src, &mut i),
            b'\'' | b'"' => match src[i + 1..].find(c as char) {
                Some(len) => {
                    let s = Rc::from(&src[i + 1..i + 1 + len]);
                    i += len + 1;
                    Tok::Str(s)
                }
                None => {
                    errors.push(ExprError::new(
                        "expr/syntax",
                        format!("unterminated string: expected a closing {} before the end of the expression", c as char),
                        span(start, b.len()),
                    ));
                    let s = Rc::from(&src[i + 1..]);
                    i = b.len() - 1;
                    Tok::Str(s)
                }
            },
            b'$' => {
                if b.get(i + 1) != Some(&b'{') {
                    errors.push(ExprError::new(
                        "expr/syntax",
                        "expected `{` after `$` (a field reference is written ${name})".to_string(),
                        span(start, start + 1),
                    ));
                    i += 1;
                    continue;
                }
                let name_start_at = i + 2;
                let mut j = name_start_at;
                while j < b.len() && name_char(b[j]) && b[j] != b':' {
                    j += 1;
                }
                let name = &src[name_start_at..j];
                if b.get(j) == Some(&b'}') && !name.is_empty() && name_start(b[name_start_at]) {
                    i = j;
                    Tok::Field(name.into())
                } else {
                    // Report the whole `${...` up to the closing brace when there is one nearby.
                    let end = src[start..]
                        .find('}')
                        .map_or(j.max(start + 2), |p| start + p + 1);
                    let found = &src[start..end];
                    errors.push(ExprError::new(
                        "expr/syntax",
                        format!("expected a field reference ${{name}} (a letter or `_`, then letters, digits, `_`, `-` or `.`), found `{}`", shorten(found)),
                        span(start, end),
                    ));
                    i = end;
                    out.push((Tok::Field(name.into()), span(start, end)));
                    continue;
                }
            }
            c if name_start(c) => {
                let mut j = i + 1;
                while j < b.len() && name_char(b[j]) {
                    j += 1;
                }
                // A name never ends with `.` or `:`; `a.` would rather be a typo next to an operator.
                while j > i + 1 && matches!(b[j - 1], b'.' | b':') {
                    j -= 1;
                }
                let t = Tok::Name(src[i..j].into());
                i = j - 1;
                t
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                let len = ch.len_utf8();
                let hint = match ch {
                    '|' => " (XPath unions are not supported)",
                    '@' => " (attributes are not supported)",
                    '&' => " (write `and`)",
                    '!' => " (write `not(...)` or `!=`)",
                    '{' | '}' => " (a field reference is written ${name})",
                    '\u{2018}' | '\u{2019}' | '\u{201c}' | '\u{201d}' => {
                        " (use straight quotes ' or \")"
                    }
                    _ => "",
                };
                errors.push(ExprError::new(
                    "expr/syntax",
                    format!("unexpected character `{ch}`{hint}"),
                    span(start, start + len),
                ));
                i += len;
                continue;
            }
        };
        i += 1;
        out.push((tok, span(start, i)));
    }
    out.push((Tok::Eof, span(b.len(), b.len())));
    out
}

/// `digits ('.' digits?)? | '.' digits`; leaves `i` on the last byte of the number.
fn number(src: &str, i: &mut usize) -> Tok {
    let b = src.as_bytes();
    let start = *i;
    let mut j = *i;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j < b.len() && b[j] == b'.' && b.get(j + 1) != Some(&b'.') {
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
    }
    let text = &src[start..j];
    let n = text
        .parse::<f64>()
        .or_else(|_| format!("{text}0").parse())
        .unwrap_or(f64::NAN);
    *i = j - 1;
    Tok::Num(n)
}
