//! Choice files next to the spreadsheet (`select_one_from_file villages.csv`, `itemsets.csv`):
//! finding them, and reading CSV and ODK's external XML into rows with line numbers.
//!
//! The readers are small and hand-written because the files are simple tables; a full CSV or XML
//! library would add build time for little gain.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where external choice files come from: the spreadsheet's folder, or memory in tests.
pub trait ExternalFiles {
    /// The bytes of `name`, `None` when there is no such file, `Some(Err)` when it cannot be read.
    fn read(&self, name: &str) -> Option<Result<Vec<u8>, String>>;
}

/// Files in one folder (the spreadsheet's).
pub struct Dir(pub PathBuf);

impl ExternalFiles for Dir {
    fn read(&self, name: &str) -> Option<Result<Vec<u8>, String>> {
        let path: &Path = &self.0.join(name);
        if !path.is_file() {
            return None;
        }
        Some(std::fs::read(path).map_err(|e| e.to_string()))
    }
}

impl ExternalFiles for HashMap<String, Vec<u8>> {
    fn read(&self, name: &str) -> Option<Result<Vec<u8>, String>> {
        self.get(name).map(|b| Ok(b.clone()))
    }
}

/// No external files at all.
pub struct NoFiles;

impl ExternalFiles for NoFiles {
    fn read(&self, _: &str) -> Option<Result<Vec<u8>, String>> {
        None
    }
}

/// A table read from a file: its column names and its rows, each with its 1-based line.
#[derive(Debug, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Reads a CSV file: the first line names the columns. Fields may be quoted with `"` (and `""`
/// inside); the separator is `,`, or `;` or a tab when the header line has no comma (as Excel
/// writes CSV in many locales).
pub fn read_csv(text: &str) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or("");
    let sep = if first_line.contains(',') {
        ','
    } else if first_line.contains(';') {
        ';'
    } else if first_line.contains('\t') {
        '\t'
    } else {
        ','
    };
    let mut records: Vec<(usize, Vec<String>)> = Vec::new();
    let (mut line, mut start_line) = (1usize, 1usize);
    let mut field = String::new();
    let mut record: Vec<String> = Vec::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            c if c == sep => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((start_line, std::mem::take(&mut record)));
                line += 1;
                start_line = line;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(format!(
            "a quoted field opened on line {start_line} is never closed"
        ));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((start_line, record));
    }
    records.retain(|(_, r)| r.iter().any(|f| !f.trim().is_empty()));
    let mut it = records.into_iter();
    let Some((_, header)) = it.next() else {
        return Err(
            "the file is empty: the first line must name the columns (name, label, ...)".into(),
        );
    };
    Ok(Table {
        columns: header.iter().map(|h| h.trim().to_string()).collect(),
        rows: it
            .map(|(l, r)| (l, r.into_iter().map(|f| f.trim().to_string()).collect()))
            .collect(),
    })
}

/// Reads ODK's external XML (`<root><item><name>..</name><label>..</label></item>...</root>`):
/// each element under the root is a row, each child element a column.
pub fn read_xml(text: &str) -> Result<Table, String> {
    let mut p = XmlCursor {
        s: text.strip_prefix('\u{feff}').unwrap_or(text),
        pos: 0,
    };
    let mut depth = 0usize;
    let mut table = Table::default();
    let mut row: Option<(usize, Vec<(String, String)>)> = None;
    let mut field: Option<(String, String)> = None;
    while let Some(tok) = p.next()? {
        match tok {
            Tok::Open(name, self_closing) => {
                depth += 1;
                match depth {
                    2 => row = Some((p.line(), Vec::new())),
                    3 => field = Some((name, String::new())),
                    _ => {}
                }
                if self_closing {
                    p_close(&mut depth, &mut row, &mut field, &mut table);
                }
            }
            Tok::Close => p_close(&mut depth, &mut row, &mut field, &mut table),
            Tok::Text(t) => {
                if let Some((_, v)) = &mut field {
                    v.push_str(&t);
                }
            }
        }
    }
    if depth != 0 {
        return Err("the XML ends before all its elements are closed".into());
    }
    Ok(table)
}

fn p_close(
    depth: &mut usize,
    row: &mut Option<(usize, Vec<(String, String)>)>,
    field: &mut Option<(String, String)>,
    table: &mut Table,
) {
    match *depth {
        3 => {
            if let (Some((k, v)), Some((_, r))) = (field.take(), row.as_mut()) {
                r.push((k, v.trim().to_string()));
            }
        }
        2 => {
            if let Some((line, fields)) = row.take() {
                let mut cells = vec![String::new(); table.columns.len()];
                for (k, v) in fields {
                    let i = match table.col(&k) {
                        Some(i) => i,
                        None => {
                            table.columns.push(k);
                            cells.push(String::new());
                            table.columns.len() - 1
                        }
                    };
                    cells[i] = v;
                }
                table.rows.push((line, cells));
            }
        }
        _ => {}
    }
    *depth = depth.saturating_sub(1);
}

enum Tok {
    Open(String, bool),
    Close,
    Text(String),
}

struct XmlCursor<'a> {
    s: &'a str,
    pos: usize,
}

impl XmlCursor<'_> {
    fn line(&self) -> usize {
        self.s[..self.pos].matches('\n').count() + 1
    }

    fn skip_past(&mut self, end: &str) -> Result<(), String> {
        match self.s[self.pos..].find(end) {
            Some(i) => {
                self.pos += i + end.len();
                Ok(())
            }
            None => Err(format!("`{end}` is missing after line {}", self.line())),
        }
    }

    fn next(&mut self) -> Result<Option<Tok>, String> {
        loop {
            let rest = &self.s[self.pos..];
            if rest.is_empty() {
                return Ok(None);
            }
            if let Some(r) = rest.strip_prefix("<![CDATA[") {
                let end = r.find("]]>").ok_or_else(|| {
                    format!("a CDATA section on line {} is never closed", self.line())
                })?;
                let t = r[..end].to_string();
                self.pos += 9 + end + 3;
                return Ok(Some(Tok::Text(t)));
            }
            if rest.starts_with("<?") {
                self.skip_past("?>")?;
                continue;
            }
            if rest.starts_with("<!--") {
                self.skip_past("-->")?;
                continue;
            }
            if rest.starts_with("<!") {
                self.skip_past(">")?;
                continue;
            }
            if let Some(r) = rest.strip_prefix("</") {
                let end = r
                    .find('>')
                    .ok_or_else(|| format!("a closing tag on line {} has no `>`", self.line()))?;
                self.pos += 2 + end + 1;
                return Ok(Some(Tok::Close));
            }
            if let Some(r) = rest.strip_prefix('<') {
                let end = r
                    .find('>')
                    .ok_or_else(|| format!("a tag on line {} has no `>`", self.line()))?;
                let inner = &r[..end];
                let self_closing = inner.ends_with('/');
                let name = inner
                    .trim_end_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                let name = name.rsplit(':').next().unwrap_or(name).to_string();
                self.pos += 1 + end + 1;
                return Ok(Some(Tok::Open(name, self_closing)));
            }
            let end = rest.find('<').unwrap_or(rest.len());
            let raw = &rest[..end];
            self.pos += end;
            return Ok(Some(Tok::Text(unescape(raw))));
        }
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(semi) = after.find(';').filter(|&n| n <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let ent = &after[..semi];
        let c = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes_and_semicolons() {
        let t = read_csv("\u{feff}name,label,county\nkib,\"Kibera, Nairobi\",nrb\r\n\nmat,\"Mathare \"\"North\"\"\",nrb\n").unwrap();
        assert_eq!(t.columns, ["name", "label", "county"]);
        assert_eq!(
            t.rows[0],
            (
                2,
                vec!["kib".into(), "Kibera, Nairobi".into(), "nrb".into()]
            )
        );
        assert_eq!(
            t.rows[1],
            (
                4,
                vec!["mat".into(), "Mathare \"North\"".into(), "nrb".into()]
            )
        );
        let t = read_csv("name;label\na;A\n").unwrap();
        assert_eq!(t.rows[0].1, ["a", "A"]);
    }

    #[test]
    fn odk_external_xml() {
        let x = "<?xml version=\"1.0\"?>\n<root>\n  <item>\n    <name>a</name>\n    <label>A &amp; B</label>\n  </item>\n  <item><name>b</name><label><![CDATA[<B>]]></label><zone>n</zone></item>\n</root>\n";
        let t = read_xml(x).unwrap();
        assert_eq!(t.columns, ["name", "label", "zone"]);
        assert_eq!(t.rows[0], (3, vec!["a".into(), "A & B".into()]));
        assert_eq!(t.rows[1], (7, vec!["b".into(), "<B>".into(), "n".into()]));
    }
}
