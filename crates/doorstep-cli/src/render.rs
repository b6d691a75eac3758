//! Renders diagnostics for a terminal: the message, the place, and the source line with the span marked.

use doorstep_core::form::{Diagnostic, Severity, line_col, string_offset};

/// One diagnostic as text, e.g.
/// ```text
/// error[expr/unknown-function]: unknown function `sume`
///   --> forms/a.form.json:12:24 (items[3].calculation)
///    |
/// 12 |       "calculation": "sume(${x})",
///    |                       ^^^^
/// ```
pub fn render(file: &str, src: &str, d: &Diagnostic) -> String {
    let sev = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut out = format!("{sev}[{}]: {}\n", d.code, d.message);
    let at = match (d.range, d.line_col) {
        (Some((start, end)), _) => Some(marked(src, start, end, d.span)),
        (None, Some((l, c))) => {
            let off = offset_of(src, l, c);
            Some(marked(src, off, off + 1, None))
        }
        _ => None,
    };
    match at {
        Some((line, col, text, caret_col, caret_len)) => {
            let place = if d.path.is_empty() {
                String::new()
            } else {
                format!(" ({})", d.path)
            };
            let w = line.to_string().len();
            out.push_str(&format!("{:w$}--> {file}:{line}:{col}{place}\n", ""));
            out.push_str(&format!("{:w$} |\n", ""));
            out.push_str(&format!("{line} | {text}\n"));
            out.push_str(&format!(
                "{:w$} | {}{}\n",
                "",
                " ".repeat(caret_col),
                "^".repeat(caret_len.max(1))
            ));
        }
        None => {
            let place = if d.path.is_empty() {
                String::new()
            } else {
                format!(" ({})", d.path)
            };
            out.push_str(&format!("  --> {file}{place}\n"));
        }
    }
    out
}

fn offset_of(src: &str, line: usize, col: usize) -> usize {
    let mut off = 0;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return off
                + l.char_indices()
                    .nth(col.saturating_sub(1))
                    .map_or(0, |(b, _)| b);
        }
        off += l.len();
    }
    src.len()
}

/// The line, column, line text, caret column (in characters) and caret length for a byte range,
/// narrowed to `span` inside a JSON string value when given.
fn marked(
    src: &str,
    start: usize,
    end: usize,
    span: Option<(u32, u32)>,
) -> (usize, usize, String, usize, usize) {
    let (mut s, mut e) = (start.min(src.len()), end.min(src.len()));
    if let Some((a, b)) = span {
        // The value is a JSON string and the span counts bytes of its decoded text: skip the quote and
        // step over escapes (`\"`, `\u5f20`), which a converted XLSForm's double quotes produce.
        let inner = s + 1;
        s = string_offset(src, inner, a as usize);
        e = string_offset(src, inner, b as usize).max(s);
    }
    while !src.is_char_boundary(s) {
        s -= 1;
    }
    while !src.is_char_boundary(e) {
        e -= 1;
    }
    let (line, col) = line_col(src, s);
    let line_start = src[..s].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[s..].find('\n').map_or(src.len(), |i| s + i);
    let text = &src[line_start..line_end];
    let caret_col = src[line_start..s].chars().count();
    let caret_len = src[s..e.min(line_end)].chars().count();
    let (text, caret_col, caret_len) = clip(text, caret_col, caret_len);
    (line, col, text, caret_col, caret_len)
}

/// The most characters of a source line shown: a form written on one line (minified JSON) would
/// otherwise print the whole file, and a caret as long, under every diagnostic.
const MAX_SHOWN: usize = 120;

/// Cuts a long line to a window around the caret, marking the cuts with `…`.
fn clip(text: &str, caret_col: usize, caret_len: usize) -> (String, usize, usize) {
    let chars = text.chars().count();
    if chars <= MAX_SHOWN {
        return (text.to_string(), caret_col, caret_len);
    }
    let from = caret_col.saturating_sub(MAX_SHOWN / 3);
    let to = (from + MAX_SHOWN).min(chars);
    let mut shown: String = text.chars().skip(from).take(to - from).collect();
    let mut caret = caret_col - from;
    if from > 0 {
        shown.insert(0, '…');
        caret += 1;
    }
    if to < chars {
        shown.push('…');
    }
    let len = caret_len.min(to.saturating_sub(caret_col)).max(1);
    (shown, caret, len)
}
