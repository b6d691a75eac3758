//! The evaluator: walks a parsed expression over the data an [`Env`] exposes.
//!
//! Evaluation never panics and never fails: a runtime problem (an invalid regular expression read
//! from an answer, an unknown digest algorithm) gives the empty string and a diagnostic that
//! [`eval_with_diagnostics`] returns. XPath's coercions live in [`Value`]'s methods; this file adds
//! what needs the `Env`: reading lists, predicates, steps and comparisons involving lists.

use std::rc::Rc;

use super::ast::{Ast, BinOp, Kind};
use super::value::{Env, Node, Value};
use super::{Expr, ExprError, Span};

/// A value during evaluation. Lists are mostly `Value::Nodes`; `Atoms` holds the rare list whose
/// elements are values rather than nodes (a `/step` for which the `Env` answered with a value, or a
/// predicate over a single value).
#[derive(Clone, Debug)]
pub(crate) enum Ev {
    V(Value),
    Atoms(Rc<[Value]>),
}

impl Ev {
    pub(crate) fn is_list(&self) -> bool {
        matches!(self, Ev::V(Value::Nodes(_)) | Ev::Atoms(_))
    }

    /// The single value: XPath's rule for a list used as one value is "the first element".
    pub(crate) fn atom(&self, env: &dyn Env) -> Value {
        match self {
            Ev::V(Value::Nodes(ns)) => ns
                .first()
                .map_or_else(Value::empty, |n| atomize(env, env.node_value(*n))),
            Ev::V(v) => v.clone(),
            Ev::Atoms(vs) => vs.first().cloned().unwrap_or_else(Value::empty),
        }
    }

    /// The elements of a list, or the value itself as a list of one.
    pub(crate) fn elems(&self, env: &dyn Env) -> Vec<Value> {
        match self {
            Ev::V(Value::Nodes(ns)) => ns
                .iter()
                .map(|n| atomize(env, env.node_value(*n)))
                .collect(),
            Ev::V(v) => vec![v.clone()],
            Ev::Atoms(vs) => vs.to_vec(),
        }
    }

    /// True if `f` holds for some element (as `elems(env).iter().any(f)`, without collecting the
    /// elements: a predicate such as `[age < 18]` compares a one-node list per instance).
    pub(crate) fn any_elem(&self, env: &dyn Env, mut f: impl FnMut(&Value) -> bool) -> bool {
        match self {
            Ev::V(Value::Nodes(ns)) => ns.iter().any(|n| f(&atomize(env, env.node_value(*n)))),
            Ev::V(v) => f(v),
            Ev::Atoms(vs) => vs.iter().any(f),
        }
    }

    pub(crate) fn truthy(&self) -> bool {
        match self {
            Ev::V(v) => v.to_bool(),
            Ev::Atoms(vs) => !vs.is_empty(),
        }
    }

    fn into_value(self, env: &dyn Env) -> Value {
        match self {
            Ev::V(v) => v,
            atoms => atoms.atom(env),
        }
    }
}

/// A node's value should be atomic; if an `Env` answers with nodes, read the first one's value
/// (one level only, so a misbehaving `Env` cannot make this loop).
fn atomize(env: &dyn Env, v: Value) -> Value {
    match v {
        Value::Nodes(ns) => match ns.first() {
            Some(n) => match env.node_value(*n) {
                Value::Nodes(_) => Value::empty(),
                v => v,
            },
            None => Value::empty(),
        },
        v => v,
    }
}

/// What `.` is: the context node, or inside a predicate the element being tested.
#[derive(Clone, Debug)]
pub(crate) enum Cur {
    Node(Node),
    Atom(Value),
}

pub(crate) struct Evaluator<'a> {
    pub env: &'a dyn Env,
    /// The node the expression belongs to: `${name}` is read from here, even inside predicates.
    pub ctx: Node,
    pub cur: Cur,
    /// Inside a predicate: the 1-based position of the element being tested (for `position()` and
    /// numeric predicates such as `[2]`).
    pub pos: Option<usize>,
    pub diags: Vec<ExprError>,
    /// Steps left before the evaluation gives up (see [`MAX_STEPS`]).
    pub steps: u64,
}

/// The most steps (nodes of the tree visited, list elements compared) one evaluation may take.
/// Predicates nest, so `count(${r}[count(${r}[...]) > 0])` over n instances takes n^depth steps: 20
/// levels over 3 instances would run for hours. Past the budget the evaluation stops and gives
/// `""`, with an `expr/runtime` diagnostic, so no expression can hang a phone. Ten million steps is
/// far more than any real form needs (a predicate over 10,000 instances takes some 50,000).
pub const MAX_STEPS: u64 = 10_000_000;

/// Evaluates `expr` with `ctx` as the current node (`.`).
pub fn eval(expr: &Expr, env: &dyn Env, ctx: Node) -> Value {
    eval_with_diagnostics(expr, env, ctx).0
}

/// Like [`eval`], and returns the runtime problems met on the way (code `expr/runtime`, with the span
/// of the call that had the problem).
pub fn eval_with_diagnostics(expr: &Expr, env: &dyn Env, ctx: Node) -> (Value, Vec<ExprError>) {
    let mut ev = Evaluator {
        env,
        ctx,
        cur: Cur::Node(ctx),
        pos: None,
        diags: Vec::new(),
        steps: MAX_STEPS,
    };
    let v = ev.eval(&expr.ast).into_value(env);
    (v, ev.diags)
}

impl Evaluator<'_> {
    pub(crate) fn runtime(&mut self, span: Span, message: String) {
        self.diags
            .push(ExprError::new("expr/runtime", message, span));
    }

    pub(crate) fn value(&mut self, a: &Ast) -> Value {
        let e = self.eval(a);
        e.atom(self.env)
    }

    pub(crate) fn num(&mut self, a: &Ast) -> f64 {
        self.value(a).to_num()
    }

    pub(crate) fn string(&mut self, a: &Ast) -> Rc<str> {
        self.value(a).to_str()
    }

    pub(crate) fn boolean(&mut self, a: &Ast) -> bool {
        self.eval(a).truthy()
    }

    /// Takes `n` steps from the budget; false once it is spent (reported once, at `span`).
    pub(crate) fn spend(&mut self, n: u64, span: Span) -> bool {
        if self.steps == 0 {
            return false;
        }
        if n >= self.steps {
            self.steps = 0;
            self.runtime(
                span,
                format!(
                    "the expression takes more than {MAX_STEPS} steps and was stopped: \
                     simplify nested predicates [...] over repeats"
                ),
            );
            return false;
        }
        self.steps -= n;
        true
    }

    pub(crate) fn eval(&mut self, a: &Ast) -> Ev {
        if !self.spend(1, a.span) {
            return Ev::V(Value::empty());
        }
        match &a.kind {
            Kind::Num(n) => Ev::V(Value::Num(*n)),
            Kind::Str(s) => Ev::V(Value::Str(s.clone())),
            Kind::Field {
                item: Some(item), ..
            } => Ev::V(self.env.field(*item, self.ctx)),
            Kind::Field { item: None, .. } => Ev::V(Value::empty()),
            Kind::Bare {
                name,
                item,
                in_pred,
            } => {
                if let (Some(item), true, Cur::Node(n)) = (item, *in_pred, &self.cur) {
                    return Ev::V(self.env.child(*n, *item));
                }
                Ev::V(self.env.choice_attr(name).unwrap_or_else(Value::empty))
            }
            Kind::Current => Ev::V(match &self.cur {
                Cur::Node(n) => atomize(self.env, self.env.node_value(*n)),
                Cur::Atom(v) => v.clone(),
            }),
            Kind::Parent => {
                let n = match &self.cur {
                    Cur::Node(n) => *n,
                    Cur::Atom(_) => self.ctx,
                };
                Ev::V(Value::Nodes(Rc::from([self.env.parent(n)])))
            }
            Kind::Neg(x) => Ev::V(Value::Num(-self.num(x))),
            Kind::Chain { first, rest } => self.chain(first, rest),
            Kind::Call {
                func,
                args,
                question,
                ..
            } => self.call(*func, args, a.span, question.as_ref()),
            Kind::Filter { base, pred } => {
                let base = self.eval(base);
                self.filter(base, pred)
            }
            Kind::Step { base, item, .. } => {
                let base = self.eval(base);
                self.step(base, *item)
            }
            Kind::Error => Ev::V(Value::empty()),
        }
    }

    fn chain(&mut self, first: &Ast, rest: &[(BinOp, Ast)]) -> Ev {
        let Some((op0, _)) = rest.first() else {
            return self.eval(first);
        };
        match op0.prec() {
            // `or` and `and` stop at the first operand that decides, as XPath requires.
            1 | 2 => {
                let is_or = *op0 == BinOp::Or;
                let mut acc = self.boolean(first);
                for (_, x) in rest {
                    if acc == is_or {
                        break;
                    }
                    acc = self.boolean(x);
                }
                Ev::V(Value::Bool(acc))
            }
            3 | 4 => {
                let mut left = self.eval(first);
                for (op, x) in rest {
                    let right = self.eval(x);
                    left = Ev::V(Value::Bool(self.compare(*op, &left, &right, x.span)));
                }
                left
            }
            _ => {
                let mut acc = self.num(first);
                for (op, x) in rest {
                    let r = self.num(x);
                    acc = match op {
                        BinOp::Add => acc + r,
                        BinOp::Sub => acc - r,
                        BinOp::Mul => acc * r,
                        BinOp::Div => acc / r,
                        // XPath `mod` is the remainder of truncating division, which is `%` on f64.
                        _ => acc % r,
                    };
                }
                Ev::V(Value::Num(acc))
            }
        }
    }

    /// XPath 1.0 comparison, with a list on either side true when some element satisfies it.
    pub(crate) fn compare(&mut self, op: BinOp, a: &Ev, b: &Ev, span: Span) -> bool {
        let env = self.env;
        match (a.is_list(), b.is_list()) {
            (false, false) => compare_atoms(op, &a.atom(env), &b.atom(env)),
            (true, true) => {
                let ys = b.elems(env);
                let xs = a.elems(env);
                // Two lists compare element by element: n × m steps.
                if !self.spend((xs.len() as u64).saturating_mul(ys.len() as u64), span) {
                    return false;
                }
                xs.iter()
                    .any(|x| ys.iter().any(|y| compare_atoms(op, x, y)))
            }
            (true, false) => {
                let y = b.atom(env);
                // A list against a boolean compares the list's own truth, as XPath says.
                if matches!(y, Value::Bool(_)) {
                    return compare_atoms(op, &Value::Bool(a.truthy()), &y);
                }
                a.any_elem(env, |x| compare_atoms(op, x, &y))
            }
            (false, true) => {
                let x = a.atom(env);
                if matches!(x, Value::Bool(_)) {
                    return compare_atoms(op, &x, &Value::Bool(b.truthy()));
                }
                b.any_elem(env, |y| compare_atoms(op, &x, y))
            }
        }
    }

    fn filter(&mut self, base: Ev, pred: &Ast) -> Ev {
        let saved = (self.cur.clone(), self.pos);
        let out = match base {
            Ev::V(Value::Nodes(ns)) => {
                let mut kept = Vec::new();
                for (i, n) in ns.iter().enumerate() {
                    self.cur = Cur::Node(*n);
                    self.pos = Some(i + 1);
                    if self.predicate_holds(pred, i + 1) {
                        kept.push(*n);
                    }
                }
                Ev::V(Value::Nodes(Rc::from(kept)))
            }
            other => {
                let mut kept = Vec::new();
                for (i, v) in other.elems(self.env).into_iter().enumerate() {
                    self.cur = Cur::Atom(v.clone());
                    self.pos = Some(i + 1);
                    if self.predicate_holds(pred, i + 1) {
                        kept.push(v);
                    }
                }
                Ev::Atoms(Rc::from(kept))
            }
        };
        (self.cur, self.pos) = saved;
        out
    }

    /// A predicate that is a number selects by position (`${members}[2]`); anything else by truth.
    fn predicate_holds(&mut self, pred: &Ast, pos: usize) -> bool {
        match self.eval(pred) {
            Ev::V(Value::Num(n)) => n == pos as f64,
            other => other.truthy(),
        }
    }

    fn step(&mut self, base: Ev, item: Option<u32>) -> Ev {
        let (Ev::V(Value::Nodes(ns)), Some(item)) = (&base, item) else {
            return Ev::V(Value::Nodes(Rc::from([])));
        };
        let mut nodes = Vec::new();
        let mut atoms = Vec::new();
        for n in ns.iter() {
            match self.env.child(*n, item) {
                Value::Nodes(c) => nodes.extend_from_slice(&c),
                v => atoms.push(v),
            }
        }
        if atoms.is_empty() {
            Ev::V(Value::Nodes(Rc::from(nodes)))
        } else {
            // The `Env` answered some children with values: keep everything as values, in order.
            let mut all: Vec<Value> = nodes
                .iter()
                .map(|n| atomize(self.env, self.env.node_value(*n)))
                .collect();
            all.extend(atoms);
            Ev::Atoms(Rc::from(all))
        }
    }
}

/// Comparison of two single values: `=`/`!=` compare as booleans if either is one, else as numbers
/// if either is one, else as strings; `<`, `<=`, `>`, `>=` always compare numbers (so NaN makes them
/// false). `!=` is the negation of `=`, as in XPath and JavaRosa, so `"" != 5` is true.
pub(crate) fn compare_atoms(op: BinOp, a: &Value, b: &Value) -> bool {
    match op {
        BinOp::Eq | BinOp::Ne => {
            let eq = match (a, b) {
                (Value::Bool(x), _) => *x == b.to_bool(),
                (_, Value::Bool(y)) => a.to_bool() == *y,
                (Value::Num(_), _) | (_, Value::Num(_)) => a.to_num() == b.to_num(),
                _ => a.to_str() == b.to_str(),
            };
            eq == (op == BinOp::Eq)
        }
        BinOp::Lt => a.to_num() < b.to_num(),
        BinOp::Le => a.to_num() <= b.to_num(),
        BinOp::Gt => a.to_num() > b.to_num(),
        BinOp::Ge => a.to_num() >= b.to_num(),
        _ => false,
    }
}
