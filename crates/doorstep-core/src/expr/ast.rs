//! The syntax tree the parser builds and the evaluator walks.
//!
//! Operator chains of one precedence level are kept flat (`a + b + c` is one [`Kind::Chain`]) so
//! that a long but shallow expression never becomes a deep tree: every walk over the tree recurses
//! at most as deep as the expression is nested, which the parser limits.

use std::rc::Rc;

use super::Span;
use super::functions::F;
use super::value::ItemId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    /// Binding strength: higher binds tighter.
    pub(crate) fn prec(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 6,
        }
    }

    pub(crate) fn is_comparison(self) -> bool {
        matches!(self.prec(), 3 | 4)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Ast {
    pub kind: Kind,
    pub span: Span,
}

/// The question named by the second argument of `jr:choice-name(v, '${q}')`.
#[derive(Clone, Debug)]
pub(crate) struct QuestionRef {
    pub name: Box<str>,
    pub span: Span,
    pub item: Option<ItemId>,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Num(f64),
    Str(Rc<str>),
    /// `${name}`, with the item it names once resolved.
    Field {
        name: Box<str>,
        item: Option<ItemId>,
    },
    /// A bare `name`: a field of the instance being filtered (inside a predicate) or an attribute of
    /// the choice being filtered (in a `choice_filter`).
    Bare {
        name: Box<str>,
        item: Option<ItemId>,
        in_pred: bool,
    },
    /// `.`
    Current,
    /// `..`
    Parent,
    Neg(Box<Ast>),
    /// `first op1 x1 op2 x2 ...`, all operators of one precedence level, left associative.
    Chain {
        first: Box<Ast>,
        rest: Vec<(BinOp, Ast)>,
    },
    Call {
        func: F,
        args: Vec<Ast>,
        question: Option<QuestionRef>,
    },
    /// `base[pred]`
    Filter {
        base: Box<Ast>,
        pred: Box<Ast>,
    },
    /// `base/name`
    Step {
        base: Box<Ast>,
        name: Box<str>,
        name_span: Span,
        item: Option<ItemId>,
    },
    /// Stands where the parser found a syntax error; such a tree is never evaluated.
    Error,
}

impl Ast {
    pub(crate) fn new(kind: Kind, span: Span) -> Ast {
        Ast { kind, span }
    }

    /// The direct children, in source order.
    pub(crate) fn children(&self) -> Vec<&Ast> {
        match &self.kind {
            Kind::Neg(a) => vec![a],
            Kind::Chain { first, rest } => std::iter::once(&**first)
                .chain(rest.iter().map(|(_, a)| a))
                .collect(),
            Kind::Call { args, .. } => args.iter().collect(),
            Kind::Filter { base, pred } => vec![base, pred],
            Kind::Step { base, .. } => vec![base],
            _ => Vec::new(),
        }
    }

    /// The depth of the tree (a leaf is 1).
    pub(crate) fn depth(&self) -> usize {
        1 + self
            .children()
            .into_iter()
            .map(Ast::depth)
            .max()
            .unwrap_or(0)
    }
}
