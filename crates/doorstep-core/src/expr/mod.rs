//! The expression language of forms (XLSForm / ODK XPath): parse once at load, analyse, evaluate often.
//!
//! Pipeline: [`lex`](self) → `parse` (precedence climbing, every error collected, spans kept) →
//! static analysis on [`Expr`] (references, resolution to items, list checks) → [`eval`] over an
//! [`Env`] that the session implements. The evaluator never panics; spans are byte offsets into the
//! source, and rendering them for people happens at the edge (CLI, app).
//!
//! Source layout: `lex.rs` (tokens), `parse.rs` (syntax tree and limits), `ast.rs` (the tree),
//! `eval.rs` (evaluation and XPath comparisons), `functions.rs` (the function table and meanings),
//! `dates.rs` (calendar arithmetic, no date crate), `value.rs` (values, coercions, the `Env` contract).
//!
//! ```
//! use doorstep_core::expr::{self, Clock, Env, ItemId, Node, Value};
//! struct NoData;
//! impl Env for NoData {
//!     fn field(&self, _: ItemId, _: Node) -> Value { Value::from("") }
//!     fn child(&self, _: Node, _: ItemId) -> Value { Value::from("") }
//!     fn node_value(&self, _: Node) -> Value { Value::from("") }
//!     fn position(&self, _: Node) -> usize { 1 }
//!     fn parent(&self, n: Node) -> Node { n }
//!     fn clock(&self) -> Clock { Clock { utc_millis: 0, offset_minutes: 0 } }
//!     fn random(&self) -> f64 { 0.5 }
//!     fn uuid(&self) -> String { String::new() }
//!     fn choice_label(&self, _: ItemId, _: &str) -> Option<String> { None }
//! }
//! let e = expr::parse("concat('day ', date(1 + 1))").unwrap();
//! let v = expr::eval(&e, &NoData, Node { item: 0, scope: 0 });
//! assert_eq!(v.to_string(), "day 1970-01-03");
//! assert_eq!(expr::parse("sum(1, 2").unwrap_err()[0].code, "expr/syntax");
//! ```

mod ast;
pub mod dates;
mod eval;
mod fixed_regex;
mod functions;
mod lex;
mod parse;
pub mod value;

use std::fmt;
use std::rc::Rc;

use ast::{Ast, BinOp, Kind};
pub use eval::{MAX_STEPS, eval, eval_with_diagnostics};
use functions::F;
pub use functions::{edit_distance, functions};
pub use parse::{MAX_DEPTH, MAX_LEN};
pub use value::{Clock, Env, ItemId, Node, Value, fmt_num};

/// A range of bytes in an expression's source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// A problem with an expression: a load-time error from [`parse`] or [`Expr::check_lists`], or a
/// runtime diagnostic from [`eval_with_diagnostics`].
///
/// Codes: `expr/syntax`, `expr/unknown-function`, `expr/arity`, `expr/argument` (an argument that
/// must be a reference or a literal is not), `expr/too-long`, `expr/too-deep`, `expr/list-as-value`,
/// and at run time `expr/runtime`. (`expr/bare-name` and `expr/unknown-name` are reported by the
/// loader, which knows the form: see [`Expr::bare_names`] and [`Expr::field_refs`].)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    pub code: &'static str,
    pub message: String,
    pub span: Span,
}

impl ExprError {
    pub(crate) fn new(code: &'static str, message: String, span: Span) -> ExprError {
        ExprError {
            code,
            message,
            span,
        }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}..{}: {}",
            self.code, self.span.start, self.span.end, self.message
        )
    }
}

impl std::error::Error for ExprError {}

/// A parsed expression. Parse once with [`parse`], resolve once with [`Expr::resolve`], evaluate as
/// often as needed with [`eval`].
#[derive(Clone, Debug)]
pub struct Expr {
    src: Rc<str>,
    ast: Ast,
}

/// Parses an expression, reporting every syntax error, unknown function, wrong argument count and
/// exceeded limit (over [`MAX_LEN`] characters, nested deeper than [`MAX_DEPTH`]). Never panics and
/// never recurses deeper than the nesting limit.
pub fn parse(src: &str) -> Result<Expr, Vec<ExprError>> {
    parse::parse(src).map(|ast| Expr {
        src: Rc::from(src),
        ast,
    })
}

impl Expr {
    pub fn source(&self) -> &str {
        &self.src
    }

    /// Every `${name}` reference, and the question named by `jr:choice-name(v, '${q}')` (with the
    /// span of `${q}` inside the string), in source order.
    pub fn field_refs(&self) -> Vec<(String, Span)> {
        let mut out = Vec::new();
        walk(&self.ast, &mut |a| match &a.kind {
            Kind::Field { name, .. } => out.push((name.to_string(), a.span)),
            Kind::Call {
                question: Some(q), ..
            } => out.push((q.name.to_string(), q.span)),
            _ => {}
        });
        // The question of jr:choice-name is met before the arguments' own references; sort by place.
        crate::sort::sort_by_key(&mut out, |(_, s)| s.start);
        out
    }

    /// Every bare name, in source order, with whether it stands where a bare name reads a field of
    /// a repeat instance: inside a predicate `[...]`, or as the name of a `/name` step. A bare name
    /// elsewhere is an error except in a `choice_filter`, where it reads an attribute of the choice.
    pub fn bare_names(&self) -> Vec<(String, Span, bool)> {
        let mut out = Vec::new();
        walk(&self.ast, &mut |a| match &a.kind {
            Kind::Bare { name, in_pred, .. } => out.push((name.to_string(), a.span, *in_pred)),
            Kind::Step {
                name, name_span, ..
            } => out.push((name.to_string(), *name_span, true)),
            _ => {}
        });
        crate::sort::sort_by_key(&mut out, |(_, s, _)| s.start);
        out
    }

    /// Resolves names to items. `resolve_field` is called for each `${name}` (and the question of
    /// `jr:choice-name`); `resolve_bare` for each bare name in a predicate and each `/name` step,
    /// with the item that the filtered path refers to when it is known statically (the repeat in
    /// `${members}[age > 5]` or `${members}/age`; the base's own item if that is a field) and `None`
    /// otherwise (`../name`). Unknown names stay unresolved and read as `""`.
    pub fn resolve(
        &mut self,
        resolve_field: &mut dyn FnMut(&str) -> Option<ItemId>,
        resolve_bare: &mut dyn FnMut(&str, Option<ItemId>) -> Option<ItemId>,
    ) {
        resolve(&mut self.ast, None, resolve_field, resolve_bare);
    }

    /// The resolved items this expression reads, deduplicated, in first-use order: the dependency
    /// edges. The question named by `jr:choice-name` is not one: only its choice labels are read,
    /// which never change during a session.
    pub fn deps(&self) -> Vec<ItemId> {
        let mut uses = Vec::new();
        walk(&self.ast, &mut |a| match &a.kind {
            Kind::Field { item: Some(i), .. } | Kind::Bare { item: Some(i), .. } => {
                uses.push((a.span.start, *i))
            }
            Kind::Step {
                item: Some(i),
                name_span,
                ..
            } => uses.push((name_span.start, *i)),
            _ => {}
        });
        crate::sort::sort_by_key(&mut uses, |(at, _)| *at);
        let mut out = Vec::new();
        for (_, i) in uses {
            if !out.contains(&i) {
                out.push(i);
            }
        }
        out
    }

    /// Whether `position(...)` appears anywhere (such an expression must be re-evaluated when
    /// instances are inserted or removed before it).
    pub fn uses_position(&self) -> bool {
        let mut found = false;
        walk(&self.ast, &mut |a| {
            found |= matches!(
                a.kind,
                Kind::Call {
                    func: F::Position,
                    ..
                }
            )
        });
        found
    }

    /// The spans of `now()` calls not inside `once(...)` (ODK warns about them: the value changes at
    /// every evaluation). `today()` is not reported: it changes only at midnight.
    pub fn uses_now_outside_once(&self) -> Vec<Span> {
        let mut out = Vec::new();
        now_outside_once(&self.ast, false, &mut out);
        out
    }

    /// Whether the value can change without any answer changing: `now()`, `today()`, `random()`,
    /// `uuid()`.
    pub fn is_volatile(&self) -> bool {
        let mut found = false;
        walk(&self.ast, &mut |a| {
            if let Kind::Call { func, .. } = a.kind {
                found |= functions::is_volatile(func);
            }
        });
        found
    }

    /// Constant patterns of `regex(s, 'pattern')` that do not compile (code `expr/bad-regex`, with
    /// the span of the literal). A pattern read from an answer can only be checked at run time.
    pub fn check_regexes(&self) -> Vec<ExprError> {
        let mut out = Vec::new();
        walk(&self.ast, &mut |a| {
            if let Kind::Call {
                func: F::Regex,
                args,
                ..
            } = &a.kind
                && let Some(Ast {
                    kind: Kind::Str(p),
                    span,
                }) = args.get(1)
                && let Some(why) = functions::regex_error(p)
            {
                out.push(ExprError::new(
                    "expr/bad-regex",
                    format!("invalid regular expression '{p}': {why}; fix the pattern (regex syntax as in ODK)"),
                    *span,
                ));
            }
        });
        out
    }

    /// Checks that lists are only used where a list is allowed: the argument of `sum`, `count`,
    /// `count-non-empty`, `max`, `min`, `join` (from the 2nd argument), `indexed-repeat`, the base of
    /// a predicate or `/step`, one side of a comparison, or a boolean (condition of `if`/`cond`,
    /// operand of `and`/`or`/`not`/`boolean`, and the whole expression when `result_is_boolean`).
    /// A list is a reference to an item for which `is_list` is true (a repeat, or a field in a repeat
    /// that does not enclose the expression's item), or a predicate or step over one.
    pub fn check_lists(
        &self,
        is_list: &dyn Fn(ItemId) -> bool,
        result_is_boolean: bool,
    ) -> Vec<ExprError> {
        let mut out = Vec::new();
        check_lists(&self.ast, result_is_boolean, is_list, &mut out);
        out
    }
}

/// Visits every node, parents before children, in source order.
fn walk<'a>(a: &'a Ast, f: &mut dyn FnMut(&'a Ast)) {
    f(a);
    for c in a.children() {
        walk(c, f);
    }
}

/// The item a path refers to statically: `${x}` → x, `${x}[...]` → x, `${x}/y` → y.
fn path_item(a: &Ast) -> Option<ItemId> {
    match &a.kind {
        Kind::Field { item, .. } | Kind::Step { item, .. } => *item,
        Kind::Filter { base, .. } => path_item(base),
        _ => None,
    }
}

fn resolve(
    a: &mut Ast,
    pred_base: Option<ItemId>,
    rf: &mut dyn FnMut(&str) -> Option<ItemId>,
    rb: &mut dyn FnMut(&str, Option<ItemId>) -> Option<ItemId>,
) {
    match &mut a.kind {
        Kind::Field { name, item } => *item = rf(name),
        Kind::Bare {
            name,
            item,
            in_pred: true,
        } => *item = rb(name, pred_base),
        Kind::Call { args, question, .. } => {
            if let Some(q) = question {
                q.item = rf(&q.name);
            }
            for x in args {
                resolve(x, pred_base, rf, rb);
            }
        }
        Kind::Filter { base, pred } => {
            resolve(base, pred_base, rf, rb);
            let inner = path_item(base);
            resolve(pred, inner, rf, rb);
        }
        Kind::Step {
            base, name, item, ..
        } => {
            resolve(base, pred_base, rf, rb);
            *item = rb(name, path_item(base));
        }
        Kind::Neg(x) => resolve(x, pred_base, rf, rb),
        Kind::Chain { first, rest } => {
            resolve(first, pred_base, rf, rb);
            for (_, x) in rest {
                resolve(x, pred_base, rf, rb);
            }
        }
        _ => {}
    }
}

fn now_outside_once(a: &Ast, in_once: bool, out: &mut Vec<Span>) {
    let in_once = match a.kind {
        Kind::Call { func: F::Now, .. } if !in_once => {
            out.push(a.span);
            in_once
        }
        Kind::Call { func: F::Once, .. } => true,
        _ => in_once,
    };
    for c in a.children() {
        now_outside_once(c, in_once, out);
    }
}

/// Whether `a` is a list, statically.
fn is_list_expr(a: &Ast, is_list: &dyn Fn(ItemId) -> bool) -> bool {
    match &a.kind {
        Kind::Field { item: Some(i), .. } => is_list(*i),
        Kind::Filter { base, .. } => is_list_expr(base, is_list),
        // A step from a single instance (`..`/x) is one value; from a list of instances, a list.
        Kind::Step { base, .. } => is_list_expr(base, is_list),
        _ => false,
    }
}

fn check_lists(a: &Ast, allowed: bool, is_list: &dyn Fn(ItemId) -> bool, out: &mut Vec<ExprError>) {
    if !allowed && is_list_expr(a, is_list) {
        out.push(ExprError::new(
            "expr/list-as-value",
            list_message(a),
            a.span,
        ));
        // Its parts are then not worth reporting again.
        return;
    }
    match &a.kind {
        Kind::Neg(x) => check_lists(x, false, is_list, out),
        Kind::Chain { first, rest } => {
            let ok = rest
                .first()
                .is_some_and(|(op, _)| op.is_comparison() || matches!(op, BinOp::And | BinOp::Or));
            check_lists(first, ok, is_list, out);
            for (_, x) in rest {
                check_lists(x, ok, is_list, out);
            }
        }
        Kind::Call { func, args, .. } => {
            for (i, x) in args.iter().enumerate() {
                check_lists(
                    x,
                    functions::list_arg_ok(*func, i, args.len()),
                    is_list,
                    out,
                );
            }
        }
        Kind::Filter { base, pred } => {
            check_lists(base, true, is_list, out);
            check_lists(pred, true, is_list, out);
        }
        Kind::Step { base, .. } => check_lists(base, true, is_list, out),
        _ => {}
    }
}

fn list_message(a: &Ast) -> String {
    let what = match &a.kind {
        Kind::Field { name, .. } => format!("`${{{name}}}`"),
        _ => "this path".to_string(),
    };
    format!(
        "{what} is a list here (one value per repeat instance), found where a single value is needed: \
         use sum(), count(), count-non-empty(), max(), min(), join() or indexed-repeat(), \
         or compare it (true if any instance matches)"
    )
}

#[cfg(test)]
mod tests;
