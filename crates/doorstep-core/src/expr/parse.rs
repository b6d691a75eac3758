//! The parser: tokens to a syntax tree, by precedence climbing, collecting every error.
//!
//! Recursion is bounded: each `(`, call, predicate, `/step` and unary minus counts one level of
//! nesting, and past [`MAX_DEPTH`] the parser reports `expr/too-deep` and stops, so hostile input
//! (10,000 nested parentheses) returns at once instead of overflowing the stack. Binary operators of
//! one level are kept flat ([`Kind::Chain`]), so a long sum adds no depth.
//!
//! After a syntax error the parser resynchronises at the next `,`, `)` or `]` and goes on, so one
//! run reports all the problems it can tell apart (unknown functions and wrong argument counts are
//! not syntax errors and never stop it).

use std::rc::Rc;

use super::ast::{Ast, BinOp, Kind, QuestionRef};
use super::functions::{self, F};
use super::lex::{Tok, lex};
use super::{ExprError, Span};

/// Expressions longer than this (in characters) are refused before parsing.
pub const MAX_LEN: usize = 10_000;
/// How deeply an expression may nest.
pub const MAX_DEPTH: usize = 64;

pub(crate) fn parse(src: &str) -> Result<Ast, Vec<ExprError>> {
    let len = src.chars().count();
    if len > MAX_LEN {
        return Err(vec![ExprError::new(
            "expr/too-long",
            format!("expression too long: expected at most {MAX_LEN} characters, found {len}"),
            Span {
                start: 0,
                end: src.len() as u32,
            },
        )]);
    }
    let mut errors = Vec::new();
    let toks = lex(src, &mut errors);
    let mut p = Parser {
        toks,
        pos: 0,
        errors,
        depth: 0,
        pred_depth: 0,
        aborted: false,
    };
    let mut ast = p.expr();
    // Trailing tokens: report (unless an error already points there), skip one, and parse on, so
    // that errors further on are found too. `1 + ) + bad(2)` goes on after the `+` following `)`.
    while !p.aborted && p.peek() != &Tok::Eof {
        let (t, sp) = p.toks[p.pos].clone();
        if p.errors.last().is_none_or(|e| e.span != sp) {
            p.error(
                sp,
                format!(
                    "expected an operator or the end of the expression, found {}",
                    t.describe()
                ),
            );
        }
        p.pos += 1;
        if p.peek_op().is_some() {
            p.pos += 1;
        }
        if p.peek() != &Tok::Eof && !matches!(p.peek(), Tok::RParen | Tok::RBrack | Tok::Comma) {
            let _ = p.expr();
        }
        ast = Ast::new(Kind::Error, ast.span);
    }
    if !p.aborted && p.errors.is_empty() && ast.depth() > MAX_DEPTH {
        p.errors.push(too_deep(Span {
            start: 0,
            end: src.len() as u32,
        }));
    }
    if p.errors.is_empty() {
        Ok(ast)
    } else {
        Err(p.errors)
    }
}

fn too_deep(span: Span) -> ExprError {
    ExprError::new(
        "expr/too-deep",
        format!(
            "expression nested too deeply: expected at most {MAX_DEPTH} levels of parentheses, calls and predicates"
        ),
        span,
    )
}

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    errors: Vec<ExprError>,
    depth: usize,
    pred_depth: usize,
    /// Set after `expr/too-deep`: every rule then returns at once.
    aborted: bool,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn peek_span(&self) -> Span {
        self.toks[self.pos].1
    }

    fn bump(&mut self) -> (Tok, Span) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn error(&mut self, span: Span, message: String) {
        self.errors
            .push(ExprError::new("expr/syntax", message, span));
    }

    fn error_here(&mut self, expected: &str) {
        let (t, sp) = (self.peek().clone(), self.peek_span());
        self.error(sp, format!("expected {expected}, found {}", t.describe()));
    }

    /// Enters one level of nesting; false (and the parse stops) past the limit.
    fn enter(&mut self, span: Span) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            if !self.aborted {
                self.errors.push(too_deep(span));
                self.aborted = true;
                self.pos = self.toks.len() - 1;
            }
            return false;
        }
        true
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn expr(&mut self) -> Ast {
        self.climb(1)
    }

    /// The binary operator at the cursor, if one can stand here. `and`, `or`, `div` and `mod` are
    /// operators only in operator position, as in XPath.
    fn peek_op(&self) -> Option<BinOp> {
        match self.peek() {
            Tok::Op(op) => Some(*op),
            Tok::Name(n) => match &**n {
                "and" => Some(BinOp::And),
                "or" => Some(BinOp::Or),
                "div" => Some(BinOp::Div),
                "mod" => Some(BinOp::Mod),
                _ => None,
            },
            _ => None,
        }
    }

    /// Precedence climbing: operators binding at least as tightly as `min`. Consecutive operators of
    /// one level become one flat [`Kind::Chain`].
    fn climb(&mut self, min: u8) -> Ast {
        let mut lhs = self.unary();
        let mut chain_prec = 0;
        while !self.aborted {
            let Some(op) = self.peek_op() else { break };
            let prec = op.prec();
            if prec < min {
                break;
            }
            self.bump();
            let rhs = self.climb(prec + 1);
            let span = Span {
                start: lhs.span.start,
                end: rhs.span.end.max(lhs.span.end),
            };
            if chain_prec == prec
                && let Kind::Chain { rest, .. } = &mut lhs.kind
            {
                rest.push((op, rhs));
                lhs.span = span;
                continue;
            }
            chain_prec = prec;
            lhs = Ast::new(
                Kind::Chain {
                    first: Box::new(lhs),
                    rest: vec![(op, rhs)],
                },
                span,
            );
        }
        lhs
    }

    fn unary(&mut self) -> Ast {
        if self.peek() == &Tok::Op(BinOp::Sub) {
            let (_, sp) = self.bump();
            if !self.enter(sp) {
                return Ast::new(Kind::Error, sp);
            }
            let inner = self.unary();
            self.leave();
            let span = Span {
                start: sp.start,
                end: inner.span.end.max(sp.end),
            };
            return Ast::new(Kind::Neg(Box::new(inner)), span);
        }
        self.path()
    }

    /// `primary ('[' expr ']' | '/' name)*`
    fn path(&mut self) -> Ast {
        let mut base = self.primary();
        let mut levels = 0;
        loop {
            match self.peek() {
                Tok::LBrack => {
                    let (_, open) = self.bump();
                    levels += 1;
                    if !self.enter(open) {
                        break;
                    }
                    self.pred_depth += 1;
                    let pred = if self.peek() == &Tok::RBrack {
                        self.error_here("a condition inside `[...]`");
                        Ast::new(Kind::Error, self.peek_span())
                    } else {
                        self.expr()
                    };
                    self.pred_depth -= 1;
                    let end = self.expect_close(Tok::RBrack, "`]` to close the predicate", open);
                    let span = Span {
                        start: base.span.start,
                        end,
                    };
                    base = Ast::new(
                        Kind::Filter {
                            base: Box::new(base),
                            pred: Box::new(pred),
                        },
                        span,
                    );
                }
                Tok::Slash => {
                    let (_, slash) = self.bump();
                    levels += 1;
                    if !self.enter(slash) {
                        break;
                    }
                    match self.peek().clone() {
                        Tok::Name(n) => {
                            let (_, nsp) = self.bump();
                            let span = Span {
                                start: base.span.start,
                                end: nsp.end,
                            };
                            base = Ast::new(
                                Kind::Step {
                                    base: Box::new(base),
                                    name: n,
                                    name_span: nsp,
                                    item: None,
                                },
                                span,
                            );
                        }
                        _ => {
                            self.error_here("a field name after `/` (as in ${repeat}/field)");
                            base = Ast::new(Kind::Error, base.span);
                        }
                    }
                }
                _ => break,
            }
        }
        for _ in 0..levels {
            self.leave();
        }
        base
    }

    /// Expects `close`; on anything else reports it and skips to it (or to a token that ends an
    /// enclosing construct). Returns the end of the construct.
    fn expect_close(&mut self, close: Tok, what: &str, open: Span) -> u32 {
        if self.peek() == &close {
            return self.bump().1.end;
        }
        if self.aborted {
            return self.peek_span().end;
        }
        let (t, sp) = (self.peek().clone(), self.peek_span());
        self.errors.push(ExprError::new(
            "expr/syntax",
            format!(
                "expected {what} (opened at byte {}), found {}",
                open.start,
                t.describe()
            ),
            sp,
        ));
        self.skip_to(&close);
        if self.peek() == &close {
            self.bump().1.end
        } else {
            sp.end
        }
    }

    /// Skips tokens up to `close` at this nesting level (or the end).
    fn skip_to(&mut self, close: &Tok) {
        let mut nest = 0usize;
        loop {
            match self.peek() {
                Tok::Eof => return,
                t if nest == 0 && t == close => return,
                Tok::LParen | Tok::LBrack => nest += 1,
                Tok::RParen | Tok::RBrack if nest == 0 => return,
                Tok::RParen | Tok::RBrack => nest -= 1,
                _ => {}
            }
            self.bump();
        }
    }

    fn primary(&mut self) -> Ast {
        let (tok, sp) = (self.peek().clone(), self.peek_span());
        match tok {
            Tok::Num(n) => {
                self.bump();
                Ast::new(Kind::Num(n), sp)
            }
            Tok::Str(s) => {
                self.bump();
                Ast::new(Kind::Str(s), sp)
            }
            Tok::Field(name) => {
                self.bump();
                Ast::new(Kind::Field { name, item: None }, sp)
            }
            Tok::Dot => {
                self.bump();
                Ast::new(Kind::Current, sp)
            }
            Tok::DotDot => {
                self.bump();
                Ast::new(Kind::Parent, sp)
            }
            Tok::LParen => {
                self.bump();
                if !self.enter(sp) {
                    return Ast::new(Kind::Error, sp);
                }
                let mut inner = if self.peek() == &Tok::RParen {
                    self.error_here("an expression inside `(...)`");
                    Ast::new(Kind::Error, sp)
                } else {
                    self.expr()
                };
                self.leave();
                let end = self.expect_close(Tok::RParen, "`)`", sp);
                // The parentheses belong to the span, so errors point at what the author wrote.
                inner.span = Span {
                    start: sp.start,
                    end,
                };
                inner
            }
            Tok::Name(name) => {
                self.bump();
                if self.peek() == &Tok::LParen {
                    self.call(name, sp)
                } else {
                    Ast::new(
                        Kind::Bare {
                            name,
                            item: None,
                            in_pred: self.pred_depth > 0,
                        },
                        sp,
                    )
                }
            }
            Tok::Eof | Tok::RParen | Tok::RBrack | Tok::Comma => {
                self.error_here("a value (a number, a string, ${name}, a function call or `(`)");
                Ast::new(
                    Kind::Error,
                    Span {
                        start: sp.start,
                        end: sp.start,
                    },
                )
            }
            _ => {
                self.error_here("a value (a number, a string, ${name}, a function call or `(`)");
                self.bump();
                Ast::new(Kind::Error, sp)
            }
        }
    }

    fn call(&mut self, name: Box<str>, name_span: Span) -> Ast {
        let (_, open) = self.bump();
        if !self.enter(open) {
            return Ast::new(Kind::Error, name_span);
        }
        let mut args = Vec::new();
        // Set once a problem in the argument list is reported, so the missing `)` is not reported again.
        let mut reported = false;
        if self.peek() != &Tok::RParen {
            loop {
                if matches!(self.peek(), Tok::Comma | Tok::RParen) {
                    self.error_here("an argument");
                    args.push(Ast::new(Kind::Error, self.peek_span()));
                } else {
                    args.push(self.expr());
                }
                match self.peek() {
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::RParen => break,
                    _ if self.aborted => break,
                    t => {
                        let (t, sp) = (t.clone(), self.peek_span());
                        self.error(
                            sp,
                            format!(
                                "expected `,` or `)` in the call of `{name}`, found {}",
                                t.describe()
                            ),
                        );
                        reported = true;
                        // Go on at the next argument, so that its errors are found too.
                        self.skip_to(&Tok::Comma);
                        if self.peek() == &Tok::Comma {
                            self.bump();
                        } else {
                            break;
                        }
                    }
                }
            }
        }
        self.leave();
        let end = if self.peek() == &Tok::RParen {
            self.bump().1.end
        } else {
            let sp = self.peek_span();
            if !self.aborted && !reported {
                let t = self.peek().clone();
                self.error(
                    sp,
                    format!(
                        "expected `)` to close the call of `{name}`, found {}",
                        t.describe()
                    ),
                );
            }
            sp.end
        };
        let span = Span {
            start: name_span.start,
            end,
        };
        let Some(func) = functions::lookup(&name) else {
            let hint = functions::suggest(&name)
                .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
            self.errors.push(ExprError::new(
                "expr/unknown-function",
                format!(
                    "unknown function `{name}`: expected one of the documented functions{hint}"
                ),
                name_span,
            ));
            return Ast::new(Kind::Error, span);
        };
        if let Some(msg) = functions::check_arity(func, args.len()) {
            self.errors.push(ExprError::new("expr/arity", msg, span));
        }
        let mut question = None;
        if func == F::ChoiceName
            && let Some(arg) = args.get(1)
        {
            match &arg.kind {
                    Kind::Str(s) => match question_name(s) {
                        Some((name, off, len)) => {
                            let start = arg.span.start + 1 + off as u32;
                            question = Some(QuestionRef {
                                name: name.into(),
                                span: Span { start, end: start + len as u32 },
                                item: None,
                            });
                        }
                        None => self.errors.push(ExprError::new(
                            "expr/argument",
                            format!("jr:choice-name: expected the name of a select question as '${{name}}', found '{s}'"),
                            arg.span,
                        )),
                    },
                    Kind::Error => {}
                    _ => self.errors.push(ExprError::new(
                        "expr/argument",
                        "jr:choice-name: expected a string naming a select question, as in jr:choice-name(${answer}, '${question}')"
                            .to_string(),
                        arg.span,
                    )),
                }
        }
        if func == F::IndexedRepeat {
            // indexed-repeat(${field}, ${repeat1}, i1, ${repeat2}, i2, ...): the field and the repeats
            // are references, not values, since the function walks to one instance of each.
            for (i, arg) in args.iter().enumerate() {
                let must_be_ref = i == 0 || i % 2 == 1;
                if must_be_ref && !matches!(arg.kind, Kind::Field { .. } | Kind::Error) {
                    let what = if i == 0 {
                        "the field to read"
                    } else {
                        "a repeat"
                    };
                    self.errors.push(ExprError::new(
                        "expr/argument",
                        format!("indexed-repeat: expected a reference ${{name}} to {what} as argument {}", i + 1),
                        arg.span,
                    ));
                }
            }
        }
        Ast::new(
            Kind::Call {
                func,
                args,
                question,
            },
            span,
        )
    }
}

/// The name inside `'${q}'` (or a plain `'q'`, which ODK also accepts after conversion), with its
/// byte offset and length inside the literal.
fn question_name(s: &Rc<str>) -> Option<(&str, usize, usize)> {
    let t = s.trim();
    let lead = s.len() - s.trim_start().len();
    let ident = |n: &str| {
        let b = n.as_bytes();
        !b.is_empty()
            && (b[0].is_ascii_alphabetic() || b[0] == b'_')
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
    };
    if let Some(inner) = t.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        return ident(inner).then_some((inner, lead, t.len()));
    }
    ident(t).then_some((t, lead, t.len()))
}
