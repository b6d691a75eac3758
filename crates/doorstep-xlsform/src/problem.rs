//! Problems found while converting, each with the place a supervisor can find in the spreadsheet:
//! sheet, row as the spreadsheet numbers it, and column letter and header.

use std::fmt;

use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A column of a sheet: its letter (`F`) and its header (`constraint`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnRef {
    pub letter: String,
    pub header: String,
}

/// Where a problem is: a sheet (or an external choices file), optionally a row and a column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// Sheet name (`survey`) or file name (`villages.csv`); empty for the whole spreadsheet.
    pub sheet: String,
    /// True when `sheet` names a file next to the spreadsheet, whose rows are lines.
    pub is_file: bool,
    /// 1-based, as the spreadsheet (or a text editor) shows it.
    pub row: Option<usize>,
    pub column: Option<ColumnRef>,
}

impl Place {
    pub fn sheet(sheet: &str) -> Place {
        Place {
            sheet: sheet.to_string(),
            ..Place::default()
        }
    }
    pub fn row(sheet: &str, row: usize) -> Place {
        Place {
            sheet: sheet.to_string(),
            row: Some(row),
            ..Place::default()
        }
    }
    pub fn cell(sheet: &str, row: usize, column: ColumnRef) -> Place {
        Place {
            sheet: sheet.to_string(),
            row: Some(row),
            column: Some(column),
            ..Place::default()
        }
    }
    pub fn file(name: &str, line: Option<usize>, column: Option<ColumnRef>) -> Place {
        Place {
            sheet: name.to_string(),
            is_file: true,
            row: line,
            column,
        }
    }
    pub fn with_column(mut self, column: Option<ColumnRef>) -> Place {
        if column.is_some() {
            self.column = column;
        }
        self
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.sheet.is_empty() {
            return f.write_str("workbook");
        }
        if self.is_file {
            write!(f, "file {}", self.sheet)?;
        } else {
            write!(f, "sheet {}", self.sheet)?;
        }
        if let Some(r) = self.row {
            let what = if self.is_file { "line" } else { "row" };
            write!(f, " {what} {r}")?;
        }
        if let Some(c) = &self.column {
            if self.is_file {
                write!(f, ", column {}", c.header)?;
            } else {
                write!(f, ", column {} ({})", c.letter, c.header)?;
            }
        }
        Ok(())
    }
}

/// One problem: converter problems have codes `xlsform/...`; problems the engine found in the
/// converted form keep the engine's code (`expr/unknown-name`, ...), placed back in the spreadsheet.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub severity: Severity,
    pub code: String,
    pub place: Place,
    pub message: String,
    /// The engine's JSON path in the converted form, for problems the engine found.
    pub json_path: Option<String>,
}

impl Problem {
    pub fn error(code: &str, place: Place, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Error,
            code: code.to_string(),
            place,
            message: message.into(),
            json_path: None,
        }
    }
    pub fn warning(code: &str, place: Place, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(code, place, message)
        }
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The problem as one JSON object (for `--json` output and tools).
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "severity": if self.is_error() { "error" } else { "warning" },
            "code": self.code,
            "sheet": self.place.sheet,
            "message": self.message,
        });
        if self.place.is_file {
            v["file"] = json!(true);
        }
        if let Some(r) = self.place.row {
            v["row"] = json!(r);
        }
        if let Some(c) = &self.place.column {
            v["column"] = json!(c.letter);
            v["header"] = json!(c.header);
        }
        if let Some(p) = &self.json_path {
            v["json_path"] = json!(p);
        }
        v
    }
}

impl fmt::Display for Problem {
    /// One line: `error[xlsform/unknown-type] sheet survey row 12, column A (type): ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}] {}: {}", self.code, self.place, self.message)
    }
}
