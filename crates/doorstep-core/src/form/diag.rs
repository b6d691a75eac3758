//! Diagnostics: every problem the loader finds, with a stable code, a JSON path and a span.
//!
//! The core keeps places as data (a JSON path, a span inside an expression, a byte range in the file);
//! rendering them with source lines happens at the edge (the CLI's `lint`, the app's form list).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in a form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable code such as `expr/unknown-function`.
    pub code: &'static str,
    /// JSON path of the value concerned, e.g. `items[3].items[0].constraint` (empty: the whole file).
    pub path: String,
    /// Byte span inside the expression at `path`, when the problem is inside one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<(u32, u32)>,
    /// Byte range in the form file (filled by [`crate::form::locate`]), for rendering.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<(usize, usize)>,
    /// 1-based line and column in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_col: Option<(usize, usize)>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            path: path.into(),
            span: None,
            range: None,
            line_col: None,
            message: message.into(),
        }
    }
    pub fn warning(
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, path, message)
        }
    }
    pub fn with_span(mut self, start: u32, end: u32) -> Self {
        self.span = Some((start, end));
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]", self.code)?;
        if let Some((l, c)) = self.line_col {
            write!(f, " at {l}:{c}")?;
        }
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        if let Some((s, e)) = self.span {
            write!(f, " (characters {s}..{e})")?;
        }
        write!(f, ": {}", self.message)
    }
}
