//! Maps a JSON path (`items[3].constraint`) to its byte range in the form file, for rendering diagnostics.
//!
//! A small scanner rather than a second parser: it runs only when there is something to report, over text
//! that serde_json has already accepted, so it can assume well-formed JSON and stops at a fixed depth.

/// The byte range of the value at `path` in `src`, if found.
pub fn locate(src: &str, path: &str) -> Option<(usize, usize)> {
    let want = split_path(path);
    let mut sc = Scanner {
        b: src.as_bytes(),
        i: 0,
    };
    sc.ws();
    let mut cur: Vec<Seg> = Vec::new();
    sc.find(&want, &mut cur, 0)
}

#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(b) = rest.find('[') {
            if b > 0 {
                out.push(Seg::Key(rest[..b].to_string()));
            }
            rest = &rest[b..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let end = stripped.find(']').unwrap_or(stripped.len());
                if let Ok(n) = stripped[..end].parse() {
                    out.push(Seg::Index(n));
                }
                rest = stripped.get(end + 1..).unwrap_or("");
            }
        } else {
            out.push(Seg::Key(rest.to_string()));
        }
    }
    out
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn string(&mut self) -> Option<String> {
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return serde_json::from_slice(&self.b[start..self.i]).ok();
                }
                _ => self.i += 1,
            }
        }
        None
    }
    /// Scans one value starting at `self.i`; returns the range of the wanted path if it is inside.
    fn find(&mut self, want: &[Seg], cur: &mut Vec<Seg>, depth: usize) -> Option<(usize, usize)> {
        if depth > 200 || self.i >= self.b.len() {
            return None;
        }
        let start = self.i;
        let here = cur.as_slice() == want;
        match self.b[self.i] {
            b'{' => {
                self.i += 1;
                loop {
                    self.ws();
                    match self.b.get(self.i)? {
                        b'}' => {
                            self.i += 1;
                            break;
                        }
                        b',' => {
                            self.i += 1;
                            continue;
                        }
                        b'"' => {
                            let key = self.string()?;
                            self.ws();
                            self.i += 1; // ':'
                            self.ws();
                            cur.push(Seg::Key(key));
                            let r = self.find(want, cur, depth + 1);
                            cur.pop();
                            if r.is_some() {
                                return r;
                            }
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut n = 0;
                loop {
                    self.ws();
                    match self.b.get(self.i)? {
                        b']' => {
                            self.i += 1;
                            break;
                        }
                        b',' => {
                            self.i += 1;
                            n += 1;
                            continue;
                        }
                        _ => {
                            cur.push(Seg::Index(n));
                            let r = self.find(want, cur, depth + 1);
                            cur.pop();
                            if r.is_some() {
                                return r;
                            }
                        }
                    }
                }
            }
            b'"' => {
                self.string()?;
            }
            _ => {
                while self.i < self.b.len()
                    && !matches!(
                        self.b[self.i],
                        b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'
                    )
                {
                    self.i += 1;
                }
            }
        }
        if here { Some((start, self.i)) } else { None }
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_col(src: &str, at: usize) -> (usize, usize) {
    let at = at.min(src.len());
    let before = &src[..src.floor_char_boundary(at)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The byte offset in `src` of byte `decoded` of a JSON string's decoded text, the string's text
/// (after its opening quote) starting at `inner`: escapes (`\"`, `\u5f20`) take more bytes in the
/// file than in the text, and an expression's span counts the text's bytes.
pub fn string_offset(src: &str, inner: usize, decoded: usize) -> usize {
    let bytes = src.as_bytes();
    let (mut raw, mut seen) = (inner, 0);
    while seen < decoded && raw < bytes.len() && bytes[raw] != b'"' {
        if bytes[raw] != b'\\' {
            raw += 1;
            seen += 1;
            continue;
        }
        match bytes.get(raw + 1) {
            Some(b'u') => {
                let unit = |at: usize| {
                    src.get(at..at + 4)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                match unit(raw + 2) {
                    Some(0xD800..=0xDBFF)
                        if bytes.get(raw + 6) == Some(&b'\\')
                            && bytes.get(raw + 7) == Some(&b'u')
                            && matches!(unit(raw + 8), Some(0xDC00..=0xDFFF)) =>
                    {
                        raw += 12;
                        seen += 4;
                    }
                    Some(c) => {
                        raw += 6;
                        seen += char::from_u32(c).map_or(3, char::len_utf8);
                    }
                    None => {
                        raw += 2;
                        seen += 1;
                    }
                }
            }
            _ => {
                raw += 2;
                seen += 1;
            }
        }
    }
    raw.min(src.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let src = r#"{"items": [{"name": "a"}, {"name": "b", "constraint": ". > 1"}]}"#;
        let (s, e) = locate(src, "items[1].constraint").unwrap();
        assert_eq!(&src[s..e], "\". > 1\"");
        let (s, e) = locate(src, "items[0]").unwrap();
        assert_eq!(&src[s..e], "{\"name\": \"a\"}");
        assert_eq!(locate(src, "items[2]"), None);
        assert_eq!(line_col("a\nbc", 3), (2, 2));
    }

    #[test]
    fn string_offsets_step_over_escapes() {
        let src = r#""a\"b\u5f20\ud83d\ude00c""#;
        // Decoded: a " b 张 😀 c, at bytes 0, 1, 2, 3, 6, 10.
        assert_eq!(string_offset(src, 1, 0), 1);
        assert_eq!(string_offset(src, 1, 2), 4);
        assert_eq!(string_offset(src, 1, 3), 5);
        assert_eq!(string_offset(src, 1, 6), 11);
        assert_eq!(string_offset(src, 1, 10), 23);
        assert_eq!(&src[23..24], "c");
    }
}
