//! The spreadsheet as the converter sees it: sheets of text cells with the row numbers and column
//! letters a supervisor sees, read from .xlsx (or .xls, .ods) with calamine.
//!
//! Reading is kept apart from converting so that the converter can be tested on workbooks built
//! in memory, and so that every cell reaches it as text, as pyxform reads them.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};

/// A whole spreadsheet: its sheets in file order.
#[derive(Clone, Debug, Default)]
pub struct Workbook {
    pub sheets: Vec<Sheet>,
}

/// One sheet: its name and its non-empty rows.
#[derive(Clone, Debug, Default)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Row>,
}

/// One row: the 1-based row number shown by the spreadsheet, and its cells by 0-based column.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<String>,
}

impl Row {
    /// The trimmed text of the cell in column `col` (empty when there is none).
    pub fn get(&self, col: usize) -> &str {
        self.cells.get(col).map_or("", |s| s.as_str())
    }
    pub fn is_empty(&self) -> bool {
        self.cells.iter().all(|c| c.is_empty())
    }
}

/// A cell the spreadsheet itself marks as an error (`#REF!`, `#DIV/0!`, ...): its formula cannot
/// give a value, so the converter reports it rather than reading it as text.
#[derive(Clone, Debug)]
pub struct CellError {
    pub sheet: String,
    pub row: usize,
    pub col: usize,
    pub error: String,
}

/// Why a spreadsheet could not be read at all.
#[derive(Debug)]
pub struct ReadError(pub String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

impl Workbook {
    /// Builds a workbook from rows of text, the first row of each sheet being row 1 (for tests and
    /// for tools that hold an XLSForm in memory).
    pub fn from_rows<S: AsRef<str>>(sheets: &[(&str, Vec<Vec<S>>)]) -> Workbook {
        Workbook {
            sheets: sheets
                .iter()
                .map(|(name, rows)| Sheet {
                    name: name.to_string(),
                    rows: rows
                        .iter()
                        .enumerate()
                        .map(|(i, r)| Row {
                            number: i + 1,
                            cells: r.iter().map(|c| c.as_ref().trim().to_string()).collect(),
                        })
                        .filter(|r| !r.is_empty())
                        .collect(),
                })
                .collect(),
        }
    }

    /// Reads every sheet of a spreadsheet file. Cells that hold a spreadsheet error are returned
    /// apart, so the caller can report them with their place.
    pub fn read(path: &Path) -> Result<(Workbook, Vec<CellError>), ReadError> {
        let shown = path.display();
        if !path.exists() {
            return Err(ReadError(format!(
                "cannot read {shown}: the file does not exist"
            )));
        }
        let mut book = open_workbook_auto(path).map_err(|e| {
            ReadError(format!("cannot read {shown} as a spreadsheet ({e}): save it from Excel or LibreOffice as .xlsx"))
        })?;
        let mut wb = Workbook::default();
        let mut errors = Vec::new();
        for name in book.sheet_names() {
            let range = book
                .worksheet_range(&name)
                .map_err(|e| ReadError(format!("cannot read sheet `{name}` of {shown}: {e}")))?;
            let (row0, col0) = range
                .start()
                .map_or((0, 0), |(r, c)| (r as usize, c as usize));
            let mut sheet = Sheet {
                name: name.clone(),
                rows: Vec::new(),
            };
            for (i, cells) in range.rows().enumerate() {
                let number = row0 + i + 1;
                let mut row = Row {
                    number,
                    cells: vec![String::new(); col0],
                };
                for (j, cell) in cells.iter().enumerate() {
                    let text = match cell {
                        Data::Error(e) => {
                            errors.push(CellError {
                                sheet: name.clone(),
                                row: number,
                                col: col0 + j,
                                error: e.to_string(),
                            });
                            String::new()
                        }
                        other => cell_text(other),
                    };
                    row.cells.push(text);
                }
                if !row.is_empty() {
                    sheet.rows.push(row);
                }
            }
            wb.sheets.push(sheet);
        }
        Ok((wb, errors))
    }

    /// The sheet named `name`, ignoring case and surrounding spaces (as pyxform does).
    pub fn sheet(&self, name: &str) -> Option<&Sheet> {
        self.sheets
            .iter()
            .find(|s| s.name.trim().eq_ignore_ascii_case(name))
    }
}

/// The text of one cell as a supervisor typed it: whole numbers without `.0`, dates as ISO 8601.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::DateTime(d) => {
            let (y, mo, da, h, mi, s, _) = d.to_ymd_hms_milli();
            let v = d.as_f64();
            if (0.0..1.0).contains(&v) {
                format!("{h:02}:{mi:02}:{s:02}")
            } else if v.fract() == 0.0 {
                format!("{y:04}-{mo:02}-{da:02}")
            } else {
                format!("{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{s:02}")
            }
        }
    }
}

/// A number as its shortest text, so that a choice value typed as `1` stays `1`.
pub fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// The spreadsheet's letter for a 0-based column: 0 → A, 25 → Z, 26 → AA.
pub fn column_letter(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(number_text(1.0), "1");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(2.5), "2.5");
    }
}
