//! Unit tests of the parser's errors, spans, limits and static analysis.

use super::*;
