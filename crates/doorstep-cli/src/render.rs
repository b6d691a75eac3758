//! Renders diagnostics for a terminal: the message, the place, and the source line with the span marked.

use doorstep_core::form::{Diagnostic, Severity, line_col};

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
        // The value is a JSON string: skip the quote; escapes are rare in expressions, so map bytes directly.
        let inner = s + 1;
        s = (inner + a as usize).min(src.len());
        e = (inner + b as usize).min(src.len()).max(s);
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
    let text = src[line_start..line_end].to_string();
    let caret_col = src[line_start..s].chars().count();
    let caret_len = src[s..e.min(line_end)].chars().count();
    (line, col, text, caret_col, caret_len)
}
