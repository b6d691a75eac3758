//! The small Markdown subset of labels and hints (`**bold**`, `*italic*`, line breaks), parsed into
//! plain runs so the UI renders them as text nodes: markup in a form can never become HTML.

/// One run of text with its emphasis, or a line break.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Run {
    Text {
        text: String,
        bold: bool,
        italic: bool,
    },
    Break,
}

/// Longest label or hint rendered; a hostile form cannot make one label freeze the phone.
pub const MAX_TEXT_CHARS: usize = 4_000;

/// Splits `src` into runs. Unmatched markers are kept as literal characters; `\*` is a literal star.
pub fn parse(src: &str) -> Vec<Run> {
    let src = if src.len() > MAX_TEXT_CHARS {
        let mut end = MAX_TEXT_CHARS;
        while !src.is_char_boundary(end) {
            end -= 1;
        }
        &src[..end]
    } else {
        src
    };
    let mut out = Vec::new();
    for (i, line) in src.split('\n').enumerate() {
        if i > 0 {
            out.push(Run::Break);
        }
        parse_line(line.trim_end_matches('\r'), &mut out);
    }
    out
}

fn parse_line(line: &str, out: &mut Vec<Run>) {
    let chars: Vec<char> = line.chars().collect();
    let mut bold = false;
    let mut italic = false;
    let mut buf = String::new();
    let mut i = 0;
    let flush = |buf: &mut String, out: &mut Vec<Run>, bold: bool, italic: bool| {
        if !buf.is_empty() {
            out.push(Run::Text {
                text: std::mem::take(buf),
                bold,
                italic,
            });
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() && chars[i + 1] == '*' {
            buf.push('*');
            i += 2;
            continue;
        }
        if c == '*' {
            let double = i + 1 < chars.len() && chars[i + 1] == '*';
            let width = if double { 2 } else { 1 };
            let closing_exists = |from: usize| find_marker(&chars, from, double).is_some();
            let toggles_off = if double { bold } else { italic };
            if toggles_off || closing_exists(i + width) {
                flush(&mut buf, out, bold, italic);
                if double {
                    bold = !bold;
                } else {
                    italic = !italic;
                }
                i += width;
                continue;
            }
        }
        buf.push(c);
        i += 1;
    }
    flush(&mut buf, out, bold, italic);
}

/// Finds the next marker of the same width (a single `*` not part of `**`, or `**`).
fn find_marker(chars: &[char], from: usize, double: bool) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i] == '*' {
            let is_double = i + 1 < chars.len() && chars[i + 1] == '*';
            if double && is_double {
                return Some(i);
            }
            if !double && !is_double {
                return Some(i);
            }
            i += if is_double { 2 } else { 1 };
            continue;
        }
        i += 1;
    }
    None
}

/// The text without markers, for `aria-label`s and lists.
pub fn plain(src: &str) -> String {
    parse(src)
        .into_iter()
        .map(|r| match r {
            Run::Text { text, .. } => text,
            Run::Break => " ".to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str, bold: bool, italic: bool) -> Run {
        Run::Text {
            text: text.into(),
            bold,
            italic,
        }
    }

    #[test]
    fn bold_italic_and_breaks() {
        assert_eq!(
            parse("a **b** *c*\nd"),
            vec![
                t("a ", false, false),
                t("b", true, false),
                t(" ", false, false),
                t("c", false, true),
                Run::Break,
                t("d", false, false)
            ]
        );
    }

    #[test]
    fn html_stays_text_and_stray_stars_stay() {
        assert_eq!(
            parse("<script>alert(1)</script>"),
            vec![t("<script>alert(1)</script>", false, false)]
        );
        assert_eq!(parse("2 * 3"), vec![t("2 * 3", false, false)]);
        assert_eq!(parse("\\*x\\*"), vec![t("*x*", false, false)]);
        assert_eq!(plain("**户主**姓名"), "户主姓名");
    }

    #[test]
    fn huge_labels_are_cut() {
        let s = "字".repeat(10_000);
        assert!(plain(&s).len() <= MAX_TEXT_CHARS);
    }
}
