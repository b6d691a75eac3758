//! Forms: the JSON model, loading with every check, diagnostics, and the compiled form.

pub mod compiled;
pub mod diag;
mod load;
mod locate;
pub mod model;
mod version;

pub use compiled::{Cond, Form, Item, RepeatCount};
pub use diag::{Diagnostic, Severity};
pub(crate) use load::hex;
pub use load::{
    DEFAULT_REPEAT_MAX, LoadResult, MAX_DEPTH, MAX_FILE_BYTES, MAX_ITEMS, MAX_REPEAT_DEPTH,
    MAX_REPEAT_MAX, canonical_hash, compile_expr, is_identifier, load, load_bytes, piped_names,
};
pub use locate::{line_col, locate, string_offset};
pub use version::compare_versions;
