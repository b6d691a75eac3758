//! A fast path for the regular expressions forms use most: fixed-length patterns such as
//! `^[0-9]{17}[0-9X]$` (an ID number), `^1[3-9][0-9]{9}$` (a mobile number) or `^.{16}[13579]`.
//!
//! regex-lite matches every pattern with a Pike VM, which costs about a microsecond per call; the
//! office re-validates every household, so that was a twentieth of ingest. A pattern made only of
//! `^` at the start, `$` at the end, ASCII letters, digits and `_`, `.`, classes of those
//! (`[0-9X]`, `[a-f0-9]`, not negated) and `{n}` repetitions matches a fixed number of characters,
//! and is checked here by comparing characters. Anything else (alternation, groups, `*`, `?`,
//! escapes, flags, non-ASCII...) returns `None` from [`Fixed::parse`] and goes to regex-lite, so
//! the meaning never differs: `.` is any character but `\n`, `$` is the end of the text only (no
//! multi-line mode), a class or letter matches that ASCII character only (case-sensitive).

/// A fixed-length pattern: one set of characters per position.
#[derive(Clone, Debug)]
pub(crate) struct Fixed {
    start: bool,
    end: bool,
    /// `None` is `.` (any character but `\n`); `Some(bits)` the ASCII characters whose bit is set.
    atoms: Vec<Option<u128>>,
}

/// Most positions in one pattern (longer patterns go to regex-lite).
const MAX_ATOMS: usize = 256;

fn plain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl Fixed {
    /// The pattern, if it is in the subset described in the module documentation.
    pub(crate) fn parse(pattern: &str) -> Option<Fixed> {
        let p = pattern.as_bytes();
        let mut i = 0;
        let start = p.first() == Some(&b'^');
        if start {
            i = 1;
        }
        let mut end = false;
        let mut atoms = Vec::new();
        while i < p.len() {
            let atom = match p[i] {
                b'$' if i + 1 == p.len() => {
                    end = true;
                    i += 1;
                    continue;
                }
                b'.' => {
                    i += 1;
                    None
                }
                b'[' => {
                    let close = i + 1 + p[i + 1..].iter().position(|&c| c == b']')?;
                    let body = &p[i + 1..close];
                    i = close + 1;
                    let mut set = 0u128;
                    let mut k = 0;
                    if body.is_empty() {
                        return None;
                    }
                    while k < body.len() {
                        let lo = body[k];
                        if !plain(lo) {
                            return None;
                        }
                        if body.get(k + 1) == Some(&b'-') {
                            let hi = *body.get(k + 2)?;
                            if !plain(hi) || hi < lo {
                                return None;
                            }
                            for c in lo..=hi {
                                set |= 1u128 << c;
                            }
                            k += 3;
                        } else {
                            set |= 1u128 << lo;
                            k += 1;
                        }
                    }
                    Some(set)
                }
                c if plain(c) => {
                    i += 1;
                    Some(1u128 << c)
                }
                _ => return None,
            };
            let mut times = 1;
            if p.get(i) == Some(&b'{') {
                let close = i + 1 + p[i + 1..].iter().position(|&c| c == b'}')?;
                let digits = &p[i + 1..close];
                if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                times = std::str::from_utf8(digits).ok()?.parse::<usize>().ok()?;
                i = close + 1;
            }
            if atoms.len() + times > MAX_ATOMS {
                return None;
            }
            atoms.extend(std::iter::repeat_n(atom, times));
        }
        Some(Fixed { start, end, atoms })
    }

    /// True if the pattern matches anywhere in `text` (as `regex(text, pattern)` asks).
    pub(crate) fn is_match(&self, text: &str) -> bool {
        if self.start {
            return self.matches_at(text);
        }
        text.char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .any(|i| self.matches_at(&text[i..]))
    }

    /// True if the pattern matches at the beginning of `text`.
    fn matches_at(&self, text: &str) -> bool {
        let mut chars = text.chars();
        for atom in &self.atoms {
            let Some(c) = chars.next() else {
                return false;
            };
            let ok = match atom {
                None => c != '\n',
                Some(set) => (c as u32) < 128 && set >> (c as u32) & 1 == 1,
            };
            if !ok {
                return false;
            }
        }
        !self.end || chars.next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::Fixed;

    fn reference(pattern: &str, text: &str) -> bool {
        regex_lite::Regex::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn the_subset_is_recognized() {
        for p in [
            "^[0-9]{17}[0-9X]$",
            "^.{16}[13579]",
            "^1[3-9][0-9]{9}$",
            "abc",
            "^$",
            "",
            "x{0}y",
            "[a-fA-F0-9_]{3}$",
        ] {
            assert!(Fixed::parse(p).is_some(), "{p}");
        }
        for p in [
            "a|b",
            "(a)",
            "a*",
            "a+",
            "a?",
            "[^0-9]",
            "\\d",
            "[0-9]{1,3}",
            "[0-9]{,3}",
            "a{x}",
            "^^a",
            "a$b",
            "(?i)a",
            "é",
            "[]",
            "[a-]",
            "[9-0]",
            "[-a]",
            ".{300}",
            " ",
        ] {
            assert!(Fixed::parse(p).is_none(), "{p}");
        }
    }

    #[test]
    fn agrees_with_regex_lite() {
        let patterns = [
            "^[0-9]{17}[0-9X]$",
            "^.{16}[13579]",
            "^.{16}[02468]",
            "^1[3-9][0-9]{9}$",
            "ab",
            "a.c",
            "^a",
            "b$",
            "^$",
            "",
            ".",
            "x{0}y",
            "[a-c]{2}$",
            "^..$",
        ];
        let texts = [
            "",
            "a",
            "ab",
            "abc",
            "xabcx",
            "a\nc",
            "a\u{e9}c",
            "\u{e9}\u{e9}",
            "b\n",
            "13812345678",
            "138123456789",
            "23812345678",
            "11010519491231002X",
            "11010519491231002x",
            "110105194912310023",
            "11010519491231002",
            "身份证号码是十八位数字的中国公民号码",
            "y",
            "xy",
            "cab",
            "abca",
            "\n\n",
        ];
        for p in patterns {
            let f = Fixed::parse(p).unwrap();
            for t in texts {
                assert_eq!(f.is_match(t), reference(p, t), "{p:?} on {t:?}");
            }
        }
    }
}
