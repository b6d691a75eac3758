//! Values of the expression language and the interface through which expressions read a session.
//!
//! The evaluator never sees a session directly: it reads answers through [`Env`], which the session
//! (and test doubles) implement. Coercions follow XPath 1.0 as ODK applies them.

use std::rc::Rc;

/// Index of an item in a loaded form (document order, see `form::Form::items`).
pub type ItemId = u32;

/// One node of a session's data tree: an item in one scope.
///
/// `scope` is the repeat instance the item lives in (0 is the root of the submission).
/// A repeat *instance* is the node `{ item: <repeat item>, scope: <the instance's own scope> }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub item: ItemId,
    pub scope: u32,
}

/// A value during evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(Rc<str>),
    Num(f64),
    Bool(bool),
    /// A list of nodes: a repeat's instances or a field's values across instances.
    Nodes(Rc<[Node]>),
}

/// The clock the host passes in: UTC milliseconds since 1970 and the local offset in minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub utc_millis: i64,
    pub offset_minutes: i32,
}

/// How an expression reads the data it runs over. Implemented by the session.
pub trait Env {
    /// The value of `${item}` read from `ctx`: a single value (`Str`, `Num`, `Bool`) when the item is in
    /// `ctx`'s instance or an enclosing one, otherwise `Nodes` of all its nodes under the nearest
    /// common instance. For a repeat item, `Nodes` of its instances.
    fn field(&self, item: ItemId, ctx: Node) -> Value;
    /// The child `item` of the repeat instance `instance` (bare names in predicates, `/name` steps):
    /// the node if `item` is a field directly in that instance, or `Nodes` when `item` is itself a repeat
    /// (or inside a nested one).
    fn child(&self, instance: Node, item: ItemId) -> Value;
    /// The atomic value of one node (`""` when unanswered or not relevant).
    fn node_value(&self, node: Node) -> Value;
    /// The 1-based position of the repeat instance that contains `node` (or is `node`).
    fn position(&self, node: Node) -> usize;
    /// The repeat instance enclosing `node` (`..`); the root node when there is none.
    fn parent(&self, node: Node) -> Node;
    fn clock(&self) -> Clock;
    fn random(&self) -> f64;
    fn uuid(&self) -> String;
    /// The label, in the current language, of choice `value` of the select question `question`.
    fn choice_label(&self, question: ItemId, value: &str) -> Option<String>;
    /// For `choice_filter`: the attribute `key` of the choice being filtered (bare names in a choice filter).
    fn choice_attr(&self, _key: &str) -> Option<Value> {
        None
    }
}
