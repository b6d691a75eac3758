//! Converts XLSForm spreadsheets (survey, choices and settings sheets) into Doorstep JSON forms
//! (`doorstep-form/1`), for supervisors who design forms in Excel.
//!
//! Every converted form is checked by the engine (`doorstep_core::form::load`) before it is
//! handed back, and every problem, the converter's or the engine's, is reported with the sheet,
//! row and column it comes from: nothing is dropped silently.
//!
//! Source layout:
//! - `workbook`: reading .xlsx (and .xls, .ods) with calamine into sheets of text cells.
//! - `header`: header rows, column aliases and `label::Language (code)` columns.
//! - `types`: the `type` column and its old spellings.
//! - `values`: `required`/`read_only` flags, literal versus dynamic defaults, `parameters`.
//! - `external`: choice files next to the spreadsheet (CSV, ODK external XML).
//! - `convert`: the conversion, and placing the engine's diagnostics back in the spreadsheet.
//! - `problem`: problems with their place.
//!
//! ```
//! use doorstep_xlsform::{Workbook, convert, external::NoFiles};
//! let wb = Workbook::from_rows(&[
//!     ("survey", vec![
//!         vec!["type", "name", "label", "constraint", "constraint_message"],
//!         vec!["integer", "age", "Age", ". >= 0 and . < 130", "Age is 0 to 129"],
//!     ]),
//!     ("settings", vec![vec!["form_id", "version"], vec!["demo", "2026112301"]]),
//! ]);
//! let out = convert(&wb, &NoFiles, "demo");
//! assert!(!out.has_errors(), "{:?}", out.problems);
//! assert!(out.json.unwrap().contains("\"constraint\": \". >= 0 and . < 130\""));
//! ```

mod convert;
pub mod external;
mod header;
pub mod problem;
mod types;
mod values;
pub mod workbook;

use std::path::Path;

pub use convert::{Conversion, convert, identifier_from};
pub use problem::{ColumnRef, Place, Problem, Severity};
pub use workbook::{ReadError, Workbook};

/// Reads and converts a spreadsheet file; choice files are looked for next to it.
/// An error means the file could not be read at all; problems in the form are in the result.
pub fn convert_file(path: &Path) -> Result<Conversion, ReadError> {
    let (wb, cell_errors) = Workbook::read(path)?;
    let stem = path
        .file_stem()
        .map_or("form".into(), |s| s.to_string_lossy().into_owned());
    let dir = path.parent().map_or_else(
        || ".".into(),
        |p| {
            if p.as_os_str().is_empty() {
                ".".into()
            } else {
                p.to_path_buf()
            }
        },
    );
    let mut out = convert(&wb, &external::Dir(dir), &stem);
    // The engine's complaint about a cell that held a spreadsheet error (read as empty) is a
    // consequence of that error: keep only the error.
    out.problems.retain(|p| {
        p.json_path.is_none()
            || !cell_errors.iter().any(|e| {
                p.place.sheet == e.sheet
                    && p.place.row == Some(e.row)
                    && p.place
                        .column
                        .as_ref()
                        .is_some_and(|c| c.letter == workbook::column_letter(e.col))
            })
    });
    for e in cell_errors {
        let header = wb
            .sheets
            .iter()
            .find(|s| s.name == e.sheet)
            .and_then(|s| s.rows.first())
            .map_or(String::new(), |r| r.get(e.col).to_string());
        let column = ColumnRef {
            letter: workbook::column_letter(e.col),
            header,
        };
        out.problems.insert(
            0,
            Problem::error(
                "xlsform/cell-error",
                Place::cell(&e.sheet, e.row, column),
                format!(
                    "the cell shows the spreadsheet error {}: fix its formula or type the value",
                    e.error
                ),
            ),
        );
    }
    Ok(out)
}
