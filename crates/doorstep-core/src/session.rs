//! A session: the state of one filling of a form, answering `apply(action) -> changes`.
//!
//! The data tree is a set of *scopes*: the root (scope 0) and one per repeat instance. Each scope holds
//! one slot per item of its level. A change enqueues only the nodes that depend on it (the form's
//! dependency graph, mapped onto scopes) and re-evaluates them in dependency order; a node whose
//! value and relevance did not change stops the propagation there.
//!
//! **Architecture invariant:** after every `apply`, the state equals what [`Session::resume`] computes
//! from scratch for the same answers (the property test in `tests/incremental.rs` checks it).

use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::rc::Rc;

use serde_json::{Map, Value as Json};

use crate::answer;
use crate::expr::{self, Clock, Env, ItemId, Node, Value};
use crate::form::compiled::{Cond, Form, RepeatCount};
use crate::form::model::{Choice, ItemType};

/// What the host passes in: the clock, the device and the surveyor, and a seed for `random()`/`uuid()`.
#[derive(Clone, Debug)]
pub struct Host {
    pub clock: Clock,
    pub device_id: String,
    pub username: String,
    pub seed: u64,
}

impl Host {
    /// A host with a fixed clock read from an RFC 3339 date-time (for tests and the CLI).
    /// Panics on a malformed date-time, which is a bug in the caller.
    pub fn fixed(rfc3339: &str) -> Host {
        let clock =
            parse_clock(rfc3339).unwrap_or_else(|| panic!("not an RFC 3339 date-time: {rfc3339}"));
        Host {
            clock,
            device_id: "test-device".into(),
            username: "tester".into(),
            seed: 1,
        }
    }
}

/// Reads `2026-11-22T09:00:00+08:00` into a clock.
pub fn parse_clock(rfc3339: &str) -> Option<Clock> {
    // The offset as the date-time reader accepts it (`+08:00`, `+0800`, `+08`, `Z`), so that a
    // time it reads is never taken with the wrong offset.
    let (days, offset_minutes) = expr::dates::parse_datetime_offset(rfc3339)?;
    // The date-time is read as local wall time; the clock keeps UTC.
    let local = (days * 86_400_000.0).round() as i64;
    Some(Clock {
        utc_millis: local - i64::from(offset_minutes) * 60_000,
        offset_minutes,
    })
}

/// One change a surveyor (or a test) makes.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Set an answer (JSON as stored in a submission).
    Answer { node: Node, value: Json },
    /// Remove an answer.
    Clear { node: Node },
    /// Add an instance at the end of user-managed repeat `repeat` inside scope `parent`.
    AddInstance { repeat: ItemId, parent: u32 },
    /// Remove the instance whose scope is `instance`.
    RemoveInstance { instance: u32 },
    /// Move the instance whose scope is `instance` to 0-based position `to`.
    MoveInstance { instance: u32, to: usize },
}

/// Why an action was refused. The state is unchanged.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionError {
    /// `type`, `choice`, `read-only`, `no-node`, `repeat-max`, `repeat-min`, `not-user-managed`.
    pub code: &'static str,
    pub message: String,
}

impl std::fmt::Display for ActionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// What an action changed: the nodes whose shown state (value, relevance, required, read-only, error,
/// label) changed, and the repeat nodes whose instances changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    pub nodes: Vec<Node>,
    pub repeats: Vec<Node>,
}

/// One validation problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub node: Node,
    /// `required`, `constraint`, `type`, `choice`, `repeat-min`, `repeat-max`, `unknown-field`.
    pub code: &'static str,
    pub message: String,
}

/// The shown state of one node.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeState {
    pub relevant: bool,
    pub required: bool,
    pub read_only: bool,
    pub error: Option<Problem>,
    /// For a repeat whose `count` is an expression: the count asked for more instances than the
    /// repeat's `max` (or the session's limit), so fewer were made. The app says so beside the roster.
    pub capped: bool,
    /// When capped: the number of instances the count asked for.
    pub asked: Option<u64>,
}

#[derive(Clone, Debug)]
struct Slot {
    answer: Option<Json>,
    /// The value expressions read: `""` when unanswered or not relevant.
    read: Value,
    /// The answer as an expression value, whatever the relevance (kept so that re-evaluating a node
    /// does not convert its answer again).
    val: Value,
    relevant: bool,
    required: bool,
    read_only: bool,
    constraint_ok: bool,
    /// The stored answer does not have the question's type (only from resumed data).
    bad_type: bool,
    /// The node has not been evaluated since it came into existence (defaults pending).
    fresh: bool,
    queued: bool,
    /// For repeats: the scopes of the instances, in order.
    instances: Vec<u32>,
    /// For count-driven repeats whose count asked for more than `max` (or the session's room): what
    /// it asked for.
    capped: Option<u64>,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            answer: None,
            read: Value::empty(),
            val: Value::empty(),
            relevant: false,
            required: false,
            read_only: false,
            constraint_ok: true,
            bad_type: false,
            fresh: true,
            queued: false,
            instances: Vec::new(),
            capped: None,
        }
    }
}

#[derive(Clone, Debug)]
struct Scope {
    parent: u32,
    /// The repeat this scope is an instance of (`None` for the root).
    repeat: Option<ItemId>,
    /// 0-based position among its siblings.
    index: u32,
    alive: bool,
    slots: Vec<Slot>,
}

/// The state of one submission being filled.
#[derive(Clone, Debug)]
pub struct Session {
    form: Rc<Form>,
    host: Host,
    lang: String,
    scopes: Vec<Scope>,
    queue: BinaryHeap<Reverse<(u32, u32)>>,
    rng: Cell<u64>,
    /// Fields in resumed data that the form does not have.
    unknown: Vec<String>,
    changes: Changes,
    /// During the first evaluation of everything (`new`, `resume`) every node is queued already, so a
    /// change need not enqueue dependents that come later in dependency order.
    full_pass: bool,
    /// Live repeat instances, bounded by [`MAX_INSTANCES`].
    live_instances: usize,
}

/// A stored object being loaded into a session: borrowed by [`Session::resume`], owned by
/// [`Session::resume_owned`] (whose answers move into the slots).
enum Stored<'a> {
    Borrowed(&'a Map<String, Json>),
    Owned(Map<String, Json>),
}

impl<'a> Stored<'a> {
    /// The object's keys and values, in key order.
    fn entries(self) -> StoredEntries<'a> {
        match self {
            Stored::Borrowed(m) => StoredEntries::Borrowed(m.iter()),
            Stored::Owned(m) => StoredEntries::Owned(m.into_iter()),
        }
    }
}

enum StoredEntries<'a> {
    Borrowed(serde_json::map::Iter<'a>),
    Owned(serde_json::map::IntoIter),
}

impl<'a> Iterator for StoredEntries<'a> {
    type Item = (Cow<'a, str>, Cow<'a, Json>);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            StoredEntries::Borrowed(it) => it
                .next()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v))),
            StoredEntries::Owned(it) => it.next().map(|(k, v)| (Cow::Owned(k), Cow::Owned(v))),
        }
    }
}

/// Most repeat instances one submission may hold: nested count-driven repeats multiply (10,000 × 10,000
/// would be 10^8), and a phone must stay responsive whatever a form asks for.
pub const MAX_INSTANCES: usize = 50_000;

const ROOT_ITEM: ItemId = ItemId::MAX;

impl Session {
    /// Starts a new submission: creates every node, applies defaults, fills metadata and evaluates.
    pub fn new(form: Rc<Form>, host: Host) -> Session {
        let mut s = Session::empty(form, host);
        s.full_eval();
        s.changes = Changes::default();
        s
    }

    /// Rebuilds a session from stored answers (a submission's `data`), evaluating everything from
    /// scratch. Defaults are not applied again: the stored answers are the truth. Answers of the wrong
    /// type are kept and reported by [`Session::validate`].
    pub fn resume(form: Rc<Form>, data: &Json, host: Host) -> Session {
        Session::resume_from(form, data.as_object().map(Stored::Borrowed), host)
    }

    /// [`Session::resume`] from answers the caller is done with: they move into the session instead
    /// of being copied (the office re-validates every stored submission once, then drops it).
    pub fn resume_owned(form: Rc<Form>, data: Json, host: Host) -> Session {
        let obj = match data {
            Json::Object(o) => Some(Stored::Owned(o)),
            _ => None,
        };
        Session::resume_from(form, obj, host)
    }

    fn resume_from(form: Rc<Form>, data: Option<Stored<'_>>, host: Host) -> Session {
        let mut s = Session::empty(form, host);
        for sc in &mut s.scopes[0].slots {
            sc.fresh = false;
        }
        if let Some(obj) = data {
            s.load_object(0, None, obj, &String::new);
        } else {
            s.unknown.push("(the data is not a JSON object)".into());
        }
        // Every node of every instance is evaluated once: a hidden repeat's nodes must still get their
        // (empty) reading, or a loaded answer would show through.
        s.full_eval();
        s.changes = Changes::default();
        s
    }

    fn empty(form: Rc<Form>, host: Host) -> Session {
        let lang = form.default_language().to_string();
        let n = form.level_items(None).len();
        let seed = host.seed | 1;
        Session {
            scopes: vec![Scope {
                parent: 0,
                repeat: None,
                index: 0,
                alive: true,
                slots: vec![Slot::new(); n],
            }],
            form,
            host,
            lang,
            queue: BinaryHeap::new(),
            rng: Cell::new(seed),
            unknown: Vec::new(),
            changes: Changes::default(),
            full_pass: true,
            live_instances: 0,
        }
    }

    /// Loads the stored answers `obj` of scope `scope`. `prefix` gives the path of `obj` for
    /// messages about fields the form does not have (`members[2]/`); it is only called then, as
    /// nearly every stored submission has none.
    fn load_object<'a>(
        &mut self,
        scope: u32,
        level: Option<ItemId>,
        obj: Stored<'a>,
        prefix: &dyn Fn() -> String,
    ) {
        let form = self.form.clone();
        // The object's keys and the level's names are both in byte order: one walk matches them
        // (as `item_by_name` filtered by level and kind would).
        let names = form.stored_keys(level);
        let mut at = 0;
        for (k, v) in obj.entries() {
            let k: &str = &k;
            while names
                .get(at)
                .is_some_and(|&i| form.item(i).name.as_str() < k)
            {
                at += 1;
            }
            let Some(item) = names
                .get(at)
                .map(|&i| form.item(i))
                .filter(|it| it.name == *k)
            else {
                self.unknown.push(format!("{}{k}", prefix()));
                continue;
            };
            if item.kind == ItemType::Repeat {
                let list: Box<dyn Iterator<Item = Option<Stored<'a>>>> = match v {
                    Cow::Borrowed(Json::Array(list)) => {
                        Box::new(list.iter().map(|i| i.as_object().map(Stored::Borrowed)))
                    }
                    Cow::Owned(Json::Array(list)) => Box::new(list.into_iter().map(|i| match i {
                        Json::Object(o) => Some(Stored::Owned(o)),
                        _ => None,
                    })),
                    _ => {
                        self.unknown
                            .push(format!("{}{k} (a repeat is a list of objects)", prefix()));
                        continue;
                    }
                };
                for (i, inst) in list.enumerate() {
                    if self.live_instances >= MAX_INSTANCES {
                        self.unknown.push(format!("{}{k}[{}] and after (over {MAX_INSTANCES} repeat entries in one submission)", prefix(), i + 1));
                        break;
                    }
                    let sc = self.new_scope(item.id, scope);
                    for slot in &mut self.scopes[sc as usize].slots {
                        slot.fresh = false;
                    }
                    match inst {
                        Some(o) => self.load_object(sc, Some(item.id), o, &|| {
                            format!("{}{k}[{}]/", prefix(), i + 1)
                        }),
                        None => self.unknown.push(format!(
                            "{}{k}[{}] (an instance is an object)",
                            prefix(),
                            i + 1
                        )),
                    }
                }
                continue;
            }
            let choices = form.choices_of(item);
            // `None`: the answer is in its normal form already, and is kept as it is (moved when owned).
            let checked = answer::check_cow(
                item.kind,
                &v,
                Some(choices).filter(|c| !c.is_empty()),
                item.doc.parameters.as_ref(),
            )
            .map(|c| match c {
                Cow::Borrowed(_) => None,
                Cow::Owned(norm) => Some(norm),
            });
            let slot = self.slot_mut(Node {
                item: item.id,
                scope,
            });
            match checked {
                // A stored "" or [] is no answer, as when the app clears a question, so a required
                // question stored that way is still missing at the office.
                Ok(norm) if is_no_answer(norm.as_ref().unwrap_or(&*v)) => {}
                Ok(norm) => {
                    let norm = norm.unwrap_or_else(|| v.into_owned());
                    slot.val = read_answer(item, &norm);
                    // Read before the first evaluation, so `once(...)` keeps a stored value.
                    slot.read = slot.val.clone();
                    slot.answer = Some(norm);
                }
                Err(_) => {
                    slot.val = read_answer(item, &v);
                    slot.answer = Some(v.into_owned());
                    slot.bad_type = true;
                }
            }
        }
    }

    pub fn form(&self) -> &Rc<Form> {
        &self.form
    }
    pub fn host(&self) -> &Host {
        &self.host
    }
    /// Changes the clock (the app passes the current time before each action).
    pub fn set_clock(&mut self, clock: Clock) {
        self.host.clock = clock;
    }
    /// The language of labels and messages (falls back to the form's default).
    pub fn set_language(&mut self, lang: &str) {
        self.lang = lang.to_string();
    }
    pub fn language(&self) -> &str {
        &self.lang
    }

    fn slot(&self, n: Node) -> &Slot {
        &self.scopes[n.scope as usize].slots[self.form.items[n.item as usize].slot as usize]
    }
    fn slot_mut(&mut self, n: Node) -> &mut Slot {
        let i = self.form.items[n.item as usize].slot as usize;
        &mut self.scopes[n.scope as usize].slots[i]
    }

    /// True when `node` names a live node of this session.
    pub fn exists(&self, node: Node) -> bool {
        let Some(item) = self.form.items.get(node.item as usize) else {
            return false;
        };
        self.scopes
            .get(node.scope as usize)
            .is_some_and(|s| s.alive && s.repeat == item.repeat)
    }

    /// The stored answer of a node (calculated values included).
    pub fn answer(&self, node: Node) -> Option<&Json> {
        self.slot(node).answer.as_ref()
    }
    /// The value expressions read for a node.
    pub fn value(&self, node: Node) -> &Value {
        &self.slot(node).read
    }
    /// The instances (scopes) of repeat `repeat` inside scope `parent`.
    pub fn instances(&self, repeat: ItemId, parent: u32) -> &[u32] {
        &self
            .slot(Node {
                item: repeat,
                scope: parent,
            })
            .instances
    }
    /// The scope that contains instance scope `instance` and its repeat item.
    pub fn instance_parent(&self, instance: u32) -> Option<(ItemId, u32)> {
        let s = self.scopes.get(instance as usize)?;
        Some((s.repeat?, s.parent))
    }
    /// 1-based position of an instance.
    pub fn instance_position(&self, instance: u32) -> usize {
        self.scopes[instance as usize].index as usize + 1
    }

    pub fn state(&self, node: Node) -> NodeState {
        let s = self.slot(node);
        NodeState {
            relevant: s.relevant,
            required: s.required,
            read_only: s.read_only,
            error: self.error(node),
            capped: s.capped.is_some(),
            asked: s.capped,
        }
    }

    /// The choices a select node offers now (after its `choice_filter`).
    pub fn choices(&self, node: Node) -> Vec<&Choice> {
        let item = self.form.item(node.item);
        let all = self.form.choices_of(item);
        match &item.choice_filter {
            None => all.iter().collect(),
            Some(f) => all
                .iter()
                .filter(|c| {
                    expr::eval(
                        f,
                        &EvalEnv {
                            s: self,
                            choice: Some(c),
                        },
                        node,
                    )
                    .to_bool()
                })
                .collect(),
        }
    }

    /// True if the select node `node` offers the choice `value` now (as `choices(node)` containing
    /// it, evaluating the filter only for the choices with that value).
    fn offers(&self, node: Node, value: &str) -> bool {
        let item = self.form.item(node.item);
        self.form
            .choices_of(item)
            .iter()
            .filter(|c| c.value == value)
            .any(|c| match &item.choice_filter {
                None => true,
                Some(f) => expr::eval(
                    f,
                    &EvalEnv {
                        s: self,
                        choice: Some(c),
                    },
                    node,
                )
                .to_bool(),
            })
    }

    /// The label of a node in the session's language, with `${name}` replaced by answers (their `*`
    /// escaped as `\*`, so that the label's Markdown shows them as typed).
    pub fn label(&self, node: Node) -> String {
        let item = self.form.item(node.item);
        let raw = item.label(&self.lang, self.form.default_language());
        self.pipe(raw, node)
    }
    pub fn hint(&self, node: Node) -> String {
        let item = self.form.item(node.item);
        let raw = item
            .doc
            .hint
            .as_ref()
            .map_or("", |t| t.get(&self.lang, self.form.default_language()));
        self.pipe(raw, node)
    }

    fn pipe(&self, raw: &str, node: Node) -> String {
        if !raw.contains("${") {
            return raw.to_string();
        }
        let env = EvalEnv {
            s: self,
            choice: None,
        };
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            match after.find('}') {
                Some(e) => {
                    let name = &after[..e];
                    if let Some(it) = self.form.item_by_name(name) {
                        let v = env.field(it.id, node);
                        // An answer shows as it was typed: a `*` in it is a star, not the label
                        // Markdown's emphasis (which reads `\*` as a star).
                        for c in self.display(&v).chars() {
                            if c == '*' {
                                out.push('\\');
                            }
                            out.push(c);
                        }
                    }
                    rest = &after[e + 1..];
                }
                None => {
                    out.push_str(&rest[i..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn display(&self, v: &Value) -> String {
        match v {
            Value::Nodes(ns) => {
                let env = EvalEnv {
                    s: self,
                    choice: None,
                };
                ns.iter()
                    .map(|n| shown(&env.node_value(*n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            other => shown(other),
        }
    }

    /// How this submission is named in lists (`instance_name`), if the form says.
    pub fn instance_name(&self) -> Option<String> {
        let e = self.form.instance_name.as_ref()?;
        let s = self.eval_at_root(e).to_str().to_string();
        (!s.is_empty()).then_some(s)
    }

    /// Evaluates an ad-hoc expression at the top level of this submission (lists are allowed as results).
    pub fn evaluate(&self, src: &str) -> Result<Value, Vec<crate::form::Diagnostic>> {
        let e = crate::form::compile_expr(&self.form, src, None)?;
        Ok(self.eval_at_root(&e))
    }

    /// Evaluates a compiled expression with the form's top level as its context.
    fn eval_at_root(&self, e: &expr::Expr) -> Value {
        expr::eval(
            e,
            &EvalEnv {
                s: self,
                choice: None,
            },
            Node {
                item: ROOT_ITEM,
                scope: 0,
            },
        )
    }

    /// The atomic values of a list (for showing a list result).
    pub fn atomize(&self, v: &Value) -> Vec<Value> {
        let env = EvalEnv {
            s: self,
            choice: None,
        };
        match v {
            Value::Nodes(ns) => ns.iter().map(|n| env.node_value(*n)).collect(),
            other => vec![other.clone()],
        }
    }

    /// Sets the `end` metadata items to the current clock (when the interview is finalized).
    pub fn stamp_end(&mut self) {
        let now = Json::String(expr::dates::now_string(self.host.clock));
        let ends: Vec<Node> = self
            .form
            .level_items(None)
            .iter()
            .filter(|&&i| self.form.item(i).kind == ItemType::End)
            .map(|&i| Node { item: i, scope: 0 })
            .collect();
        for n in ends {
            self.put_answer(n, Some(now.clone()));
            self.enqueue(n);
        }
        self.run();
    }

    /// Applies one action and re-evaluates what depends on it.
    pub fn apply(&mut self, action: Action) -> Result<Changes, ActionError> {
        self.changes = Changes::default();
        match action {
            Action::Answer { node, value } => self.set_answer(node, Some(value))?,
            Action::Clear { node } => self.set_answer(node, None)?,
            Action::AddInstance { repeat, parent } => {
                let node = Node {
                    item: repeat,
                    scope: parent,
                };
                if !self.exists(node) || self.form.item(repeat).kind != ItemType::Repeat {
                    return Err(no_node(node));
                }
                let item = self.form.item(repeat);
                if !matches!(item.count, RepeatCount::Free) {
                    return Err(ActionError {
                        code: "not-user-managed",
                        message: format!(
                            "`{}` has a count: its instances follow the count",
                            item.name
                        ),
                    });
                }
                if self.live_instances >= MAX_INSTANCES {
                    return Err(ActionError {
                        code: "too-many-instances",
                        message: format!(
                            "this submission already holds {MAX_INSTANCES} repeat entries, the most one submission may hold"
                        ),
                    });
                }
                let max = item.max_instances() as usize;
                if self.slot(node).instances.len() >= max {
                    return Err(ActionError {
                        code: "repeat-max",
                        message: format!(
                            "`{}` already has its maximum of {max} instances",
                            item.name
                        ),
                    });
                }
                self.add_instance(repeat, parent);
            }
            Action::RemoveInstance { instance } => {
                let Some((repeat, parent)) = self
                    .instance_parent(instance)
                    .filter(|_| self.scopes[instance as usize].alive)
                else {
                    return Err(no_scope(instance));
                };
                if !matches!(self.form.item(repeat).count, RepeatCount::Free) {
                    return Err(ActionError {
                        code: "not-user-managed",
                        message: format!(
                            "`{}` has a count: its instances follow the count",
                            self.form.item(repeat).name
                        ),
                    });
                }
                self.remove_instance(repeat, parent, instance);
            }
            Action::MoveInstance { instance, to } => {
                let Some((repeat, parent)) = self
                    .instance_parent(instance)
                    .filter(|_| self.scopes[instance as usize].alive)
                else {
                    return Err(no_scope(instance));
                };
                self.move_instance(repeat, parent, instance, to);
            }
        }
        self.run();
        let mut ch = std::mem::take(&mut self.changes);
        ch.nodes.sort_unstable();
        ch.nodes.dedup();
        ch.repeats.sort_unstable();
        ch.repeats.dedup();
        Ok(ch)
    }

    fn set_answer(&mut self, node: Node, value: Option<Json>) -> Result<(), ActionError> {
        if !self.exists(node) {
            return Err(no_node(node));
        }
        let form = self.form.clone();
        let item = form.item(node.item);
        if !item.kind.has_value() || item.kind == ItemType::Calculate || item.calculation.is_some()
        {
            return Err(ActionError {
                code: "read-only",
                message: format!("`{}` is computed or holds no answer", item.name),
            });
        }
        let value = match value {
            None => None,
            Some(v) => {
                let choices = form.choices_of(item);
                let norm = answer::check(
                    item.kind,
                    &v,
                    Some(choices).filter(|_| item.doc.choices.is_some()),
                    item.doc.parameters.as_ref(),
                )
                .map_err(|e| ActionError {
                    code: e.code,
                    message: format!("`{}`: {}", item.name, e.message),
                })?;
                // An empty text is no answer.
                (!is_no_answer(&norm)).then_some(norm)
            }
        };
        self.put_answer(node, value);
        self.slot_mut(node).bad_type = false;
        self.enqueue(node);
        Ok(())
    }

    /// Stores an answer and its expression value together.
    fn put_answer(&mut self, n: Node, a: Option<Json>) {
        // An empty text or an empty selection is no answer, however it came (a default of "", a
        // default expression that gives nothing): `required` must still ask for one.
        let a = a.filter(|j| !is_no_answer(j));
        let val = match &a {
            Some(j) => read_answer(self.form.item(n.item), j),
            None => Value::empty(),
        };
        let slot = self.slot_mut(n);
        slot.val = val;
        slot.answer = a;
    }

    fn new_scope(&mut self, repeat: ItemId, parent: u32) -> u32 {
        self.live_instances += 1;
        let n = self.form.level_items(Some(repeat)).len();
        let id = self.scopes.len() as u32;
        let index = self
            .slot(Node {
                item: repeat,
                scope: parent,
            })
            .instances
            .len() as u32;
        self.scopes.push(Scope {
            parent,
            repeat: Some(repeat),
            index,
            alive: true,
            slots: vec![Slot::new(); n],
        });
        self.slot_mut(Node {
            item: repeat,
            scope: parent,
        })
        .instances
        .push(id);
        id
    }

    fn add_instance(&mut self, repeat: ItemId, parent: u32) -> u32 {
        let id = self.new_scope(repeat, parent);
        self.enqueue_scope(id);
        self.structure_changed(repeat, parent);
        id
    }

    fn remove_instance(&mut self, repeat: ItemId, parent: u32, instance: u32) {
        let list = &mut self
            .slot_mut(Node {
                item: repeat,
                scope: parent,
            })
            .instances;
        list.retain(|&s| s != instance);
        let list = list.clone();
        for (i, s) in list.iter().enumerate() {
            self.scopes[*s as usize].index = i as u32;
        }
        self.kill(instance);
        self.structure_changed(repeat, parent);
    }

    fn move_instance(&mut self, repeat: ItemId, parent: u32, instance: u32, to: usize) {
        let list = &mut self
            .slot_mut(Node {
                item: repeat,
                scope: parent,
            })
            .instances;
        let Some(from) = list.iter().position(|&s| s == instance) else {
            return;
        };
        let to = to.min(list.len() - 1);
        if from == to {
            return;
        }
        let s = list.remove(from);
        list.insert(to, s);
        let list = list.clone();
        for (i, s) in list.iter().enumerate() {
            self.scopes[*s as usize].index = i as u32;
        }
        self.structure_changed(repeat, parent);
    }

    fn kill(&mut self, scope: u32) {
        self.scopes[scope as usize].alive = false;
        self.live_instances -= 1;
        let children: Vec<u32> = self.scopes[scope as usize]
            .slots
            .iter()
            .flat_map(|s| s.instances.iter().copied())
            .collect();
        for c in children {
            self.kill(c);
        }
    }

    /// After instances of `repeat` in `parent` were added, removed or moved: re-evaluate what reads
    /// the repeat or its fields as lists, and what uses positions inside it.
    fn structure_changed(&mut self, repeat: ItemId, parent: u32) {
        let form = self.form.clone();
        self.changes.repeats.push(Node {
            item: repeat,
            scope: parent,
        });
        let inner: Vec<ItemId> = (repeat..form.items.len() as ItemId)
            .take_while(|&i| i == repeat || form.is_within(i, repeat))
            .collect();
        // The repeat itself: what reads its list of instances. Its children's dependence on it (the
        // relevance they inherit) is not affected by an instance coming or going: the new instance's
        // nodes are enqueued by `enqueue_scope`, a removed one's are dead. Enqueuing them re-evaluated
        // every member's questions on each add (about 1,700 nodes for a roster of 100).
        if let Some(readers) = form.list_readers.get(&repeat) {
            self.enqueue_these(repeat, parent, readers);
        }
        for &x in &inner[1..] {
            self.enqueue_dependents(x, parent);
        }
        for &y in &inner {
            if y != repeat && form.item(y).uses_position {
                let level = form.item(y).repeat;
                let mut scopes = Vec::new();
                self.scopes_at(parent, level, &mut scopes);
                for s in scopes {
                    self.enqueue(Node { item: y, scope: s });
                }
            }
        }
    }

    fn enqueue(&mut self, n: Node) {
        let slot = self.slot_mut(n);
        if !slot.queued {
            slot.queued = true;
            let rank = self.form.rank[n.item as usize];
            self.queue.push(Reverse((rank, n.scope)));
        }
    }

    fn enqueue_scope(&mut self, scope: u32) {
        let level = self.scopes[scope as usize].repeat;
        let form = self.form.clone();
        for &i in form.level_items(level) {
            self.enqueue(Node { item: i, scope });
        }
    }

    /// Enqueues every node that depends on item `x` as seen from scope `s` (where `x` changed).
    fn enqueue_dependents(&mut self, x: ItemId, s: u32) {
        let form = self.form.clone();
        self.enqueue_these(x, s, &form.dependents[x as usize]);
    }

    /// Enqueues the nodes of items `ys` (dependents of `x`) that see `x` as changed in scope `s`.
    fn enqueue_these(&mut self, x: ItemId, s: u32, ys: &[ItemId]) {
        let form = self.form.clone();
        let x_level = form.item(x).repeat;
        let x_rank = form.rank[x as usize];
        let mut targets = Vec::new();
        for &y in ys {
            if self.full_pass && form.rank[y as usize] > x_rank {
                continue;
            }
            let y_level = form.item(y).repeat;
            let l = self.lca(x_level, y_level);
            let Some(a) = self.ancestor_at(s, l) else {
                continue;
            };
            targets.clear();
            self.scopes_at(a, y_level, &mut targets);
            for &t in &targets {
                self.enqueue(Node { item: y, scope: t });
            }
        }
    }

    fn lca(&self, a: Option<ItemId>, b: Option<ItemId>) -> Option<ItemId> {
        if a == b {
            return a;
        }
        let ca = self.form.repeat_chain(a);
        let cb = self.form.repeat_chain(b);
        ca.iter()
            .zip(cb.iter())
            .take_while(|(x, y)| x == y)
            .last()
            .map(|(x, _)| *x)
    }

    /// The scope at `level` enclosing (or equal to) `s`, if `level` is `s`'s level or above it.
    fn ancestor_at(&self, mut s: u32, level: Option<ItemId>) -> Option<u32> {
        loop {
            let sc = &self.scopes[s as usize];
            if sc.repeat == level {
                return Some(s);
            }
            sc.repeat?;
            s = sc.parent;
        }
    }

    /// All live scopes at `level` under scope `a` (which is at `level` or above it).
    fn scopes_at(&self, a: u32, level: Option<ItemId>, out: &mut Vec<u32>) {
        let a_level = self.scopes[a as usize].repeat;
        if a_level == level {
            out.push(a);
            return;
        }
        let chain = self.form.repeat_chain(level);
        let start = match a_level {
            None => 0,
            Some(r) => match chain.iter().position(|&c| c == r) {
                Some(p) => p + 1,
                None => return,
            },
        };
        self.walk_down(a, &chain[start..], out);
    }

    fn walk_down(&self, scope: u32, chain: &[ItemId], out: &mut Vec<u32>) {
        let Some((&r, rest)) = chain.split_first() else {
            out.push(scope);
            return;
        };
        for &inst in &self.slot(Node { item: r, scope }).instances {
            if self.scopes[inst as usize].alive {
                self.walk_down(inst, rest, out);
            }
        }
    }

    fn run(&mut self) {
        while let Some(Reverse((rank, scope))) = self.queue.pop() {
            let item = self.form.order[rank as usize];
            let n = Node { item, scope };
            // A node the full pass reached first is no longer queued: its entry is stale.
            if !self.scopes[scope as usize].alive || !self.slot(n).queued {
                continue;
            }
            self.slot_mut(n).queued = false;
            self.eval_node(n);
        }
    }

    /// Evaluates every node in dependency order (a new or resumed session): a walk over the items in
    /// order rather than a heap of every node, then whatever the walk enqueued behind itself.
    fn full_eval(&mut self) {
        let form = self.form.clone();
        let mut scopes = Vec::new();
        for &item in &form.order {
            scopes.clear();
            self.scopes_at(0, form.item(item).repeat, &mut scopes);
            for &scope in &scopes {
                let n = Node { item, scope };
                self.slot_mut(n).queued = false;
                self.eval_node(n);
            }
        }
        self.run();
        self.full_pass = false;
    }

    fn parent_relevant(&self, n: Node) -> bool {
        let item = self.form.item(n.item);
        match item.parent {
            None => true,
            Some(p) => {
                let ps = if self.form.item(p).kind == ItemType::Repeat {
                    self.scopes[n.scope as usize].parent
                } else {
                    n.scope
                };
                self.slot(Node { item: p, scope: ps }).relevant
            }
        }
    }

    fn parent_read_only(&self, n: Node) -> bool {
        let item = self.form.item(n.item);
        match item.parent {
            None => false,
            Some(p) => {
                let ps = if self.form.item(p).kind == ItemType::Repeat {
                    self.scopes[n.scope as usize].parent
                } else {
                    n.scope
                };
                self.slot(Node { item: p, scope: ps }).read_only
            }
        }
    }

    fn eval_node(&mut self, n: Node) {
        let form = self.form.clone();
        let item = form.item(n.item);
        let old = self.slot(n).clone_state();
        if self.slot(n).fresh {
            self.slot_mut(n).fresh = false;
            let init = self.initial_value(n);
            if let Some(v) = init {
                self.put_answer(n, Some(v));
            }
        }
        let env = EvalEnv {
            s: self,
            choice: None,
        };
        let relevant = self.parent_relevant(n)
            && item
                .relevant
                .as_ref()
                .is_none_or(|e| expr::eval(e, &env, n).to_bool());
        let mut answer_now = None;
        let (mut required, mut read_only) = (false, false);
        if relevant {
            if let Some(c) = &item.calculation {
                let v = expr::eval(c, &env, n);
                answer_now = Some(answer::store(item.kind, item.doc.data_type, &v));
            }
            required = match &item.required {
                Cond::Const(b) => *b,
                Cond::Expr(e) => expr::eval(e, &env, n).to_bool(),
            };
            read_only = match &item.read_only {
                Cond::Const(b) => *b,
                Cond::Expr(e) => expr::eval(e, &env, n).to_bool(),
            } || item.calculation.is_some()
                || self.parent_read_only(n);
        } else if item.calculation.is_some() {
            answer_now = Some(None);
        }
        if let Some(a) = answer_now
            && self.slot(n).answer != a
        {
            self.put_answer(n, a);
        }
        let read = if relevant {
            self.slot(n).val.clone()
        } else {
            Value::empty()
        };
        {
            let s = self.slot_mut(n);
            s.relevant = relevant;
            s.required = required;
            s.read_only = read_only;
            s.read = read;
        }
        // The constraint reads `.`, so it runs after the value is in place.
        let constraint_ok = match (&item.constraint, relevant && self.slot(n).answer.is_some()) {
            (Some(c), true) => expr::eval(
                c,
                &EvalEnv {
                    s: self,
                    choice: None,
                },
                n,
            )
            .to_bool(),
            _ => true,
        };
        self.slot_mut(n).constraint_ok = constraint_ok;
        if item.kind == ItemType::Repeat && relevant {
            self.fit_count(n);
        }
        let now = self.slot(n);
        // A container's read-only state is inherited by what it contains, like its relevance.
        let value_changed = !same(&old.read, &now.read)
            || old.relevant != now.relevant
            || (item.kind.is_container() && old.read_only != now.read_only);
        if value_changed {
            self.enqueue_dependents(n.item, n.scope);
        }
        // (The full pass reports no changes, so it need not compare the whole state.)
        if !self.full_pass
            && (old != self.slot(n).clone_state()
                || !item.piped.is_empty()
                || item.choice_filter.is_some())
        {
            self.changes.nodes.push(n);
        }
    }

    /// The value a node gets when it comes into existence: metadata, `default`, `default_expression`.
    fn initial_value(&self, n: Node) -> Option<Json> {
        let item = self.form.item(n.item);
        if self.slot(n).answer.is_some() {
            return None;
        }
        match item.kind {
            ItemType::Start => return Some(Json::String(expr::dates::now_string(self.host.clock))),
            ItemType::Today => {
                return Some(Json::String(expr::dates::format_days(expr::dates::today(
                    self.host.clock,
                ))));
            }
            ItemType::Deviceid => return Some(Json::String(self.host.device_id.clone())),
            ItemType::Username => return Some(Json::String(self.host.username.clone())),
            _ => {}
        }
        if let Some(d) = &item.doc.default {
            let choices = self.form.choices_of(item);
            return answer::check(
                item.kind,
                d,
                Some(choices).filter(|_| item.doc.choices.is_some()),
                item.doc.parameters.as_ref(),
            )
            .ok();
        }
        if let Some(e) = &item.default_expression {
            let v = expr::eval(
                e,
                &EvalEnv {
                    s: self,
                    choice: None,
                },
                n,
            );
            let stored = match item.kind {
                ItemType::SelectMultiple => Some(Json::Array(
                    v.to_str()
                        .split_whitespace()
                        .map(|s| Json::from(s.to_string()))
                        .collect(),
                )),
                k if k.is_numeric() || k == ItemType::Date => answer::store(k, None, &v),
                ItemType::Acknowledge => v.to_bool().then_some(Json::Bool(true)),
                _ => answer::store(ItemType::Text, None, &v),
            }?;
            let choices = self.form.choices_of(item);
            return answer::check(
                item.kind,
                &stored,
                Some(choices).filter(|_| item.doc.choices.is_some()),
                item.doc.parameters.as_ref(),
            )
            .ok()
            .filter(|j| !j.as_array().is_some_and(Vec::is_empty));
        }
        None
    }

    /// Makes a count-driven repeat's instances match its count.
    fn fit_count(&mut self, n: Node) {
        let form = self.form.clone();
        let item = form.item(n.item);
        let max = item.max_instances().min(crate::form::MAX_REPEAT_MAX);
        let want = match &item.count {
            // A user-managed repeat is never filled by the engine: `min` is checked by validation and the
            // surveyor adds instances. Creating them automatically would depend on when the repeat first
            // became relevant, and their defaults would read answers not given yet.
            RepeatCount::Free => return,
            RepeatCount::Fixed(c) => *c as usize,
            RepeatCount::Expr(e) => {
                let v = expr::eval(
                    e,
                    &EvalEnv {
                        s: self,
                        choice: None,
                    },
                    n,
                )
                .to_num();
                if v.is_finite() && v > 0.0 {
                    v.floor().min(u32::MAX as f64) as usize
                } else {
                    0
                }
            }
        };
        let have = self.slot(n).instances.len();
        let room = have + MAX_INSTANCES.saturating_sub(self.live_instances);
        let capped = (want as u64 > max || want > room).then_some(want as u64);
        let want = want.min(max as usize).min(room);
        // A change of what the roster says ("only 5 of the 8 asked") is a change of the repeat, even
        // when its instances stay the same.
        if std::mem::replace(&mut self.slot_mut(n).capped, capped) != capped
            && !self.changes.repeats.contains(&n)
        {
            self.changes.repeats.push(n);
        }
        if have < want {
            for _ in have..want {
                self.add_instance(n.item, n.scope);
            }
        } else if have > want && !matches!(item.count, RepeatCount::Free) {
            let extra: Vec<u32> = self.slot(n).instances[want..].to_vec();
            for s in extra.into_iter().rev() {
                self.remove_instance(n.item, n.scope, s);
            }
        }
    }

    /// The node's validation error, if any (nothing for non-relevant nodes).
    pub fn error(&self, n: Node) -> Option<Problem> {
        let item = self.form.item(n.item);
        let s = self.slot(n);
        if !s.relevant {
            return None;
        }
        let msg = |key: &Option<crate::form::model::Text>, code: &'static str| {
            let text = key
                .as_ref()
                .map(|t| t.get(&self.lang, self.form.default_language()).to_string());
            Problem {
                node: n,
                code,
                message: text.unwrap_or_else(|| {
                    default_message(code, &self.lang, item.doc.min, item.doc.max)
                }),
            }
        };
        if item.kind == ItemType::Repeat {
            if let RepeatCount::Free = item.count {
                let len = s.instances.len() as u64;
                if item.doc.min.is_some_and(|m| len < m) {
                    return Some(msg(&None, "repeat-min"));
                }
                if len > item.max_instances() {
                    return Some(msg(&None, "repeat-max"));
                }
            }
            return None;
        }
        if !item.kind.has_value() || item.kind == ItemType::Calculate {
            return None;
        }
        match &s.answer {
            None if s.required => Some(msg(&item.doc.required_message, "required")),
            None => None,
            Some(_) if s.bad_type => Some(msg(&None, "type")),
            Some(a) => {
                if !s.constraint_ok {
                    return Some(msg(&item.doc.constraint_message, "constraint"));
                }
                if let Some(f) = &item.choice_filter {
                    let ok = if !f.is_volatile() {
                        // Only the chosen values' filters are evaluated (a village list filtered by
                        // township has dozens of choices); a filter that draws random numbers is
                        // evaluated for every choice as before, so the draws stay the same.
                        match a {
                            Json::String(v) => self.offers(n, v),
                            Json::Array(vs) => vs
                                .iter()
                                .all(|v| v.as_str().is_some_and(|v| self.offers(n, v))),
                            _ => true,
                        }
                    } else {
                        let offered = self.choices(n);
                        match a {
                            Json::String(v) => offered.iter().any(|c| &c.value == v),
                            Json::Array(vs) => vs.iter().all(|v| {
                                offered.iter().any(|c| Some(c.value.as_str()) == v.as_str())
                            }),
                            _ => true,
                        }
                    };
                    if !ok {
                        return Some(msg(&None, "choice"));
                    }
                }
                None
            }
        }
    }

    /// Every problem of the submission, in document order; empty when it is valid.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for name in &self.unknown {
            out.push(Problem {
                node: Node {
                    item: ROOT_ITEM,
                    scope: 0,
                },
                code: "unknown-field",
                message: format!("the data has a field `{name}` that the form does not define"),
            });
        }
        self.validate_scope(0, &mut out);
        out
    }

    fn validate_scope(&self, scope: u32, out: &mut Vec<Problem>) {
        let level = self.scopes[scope as usize].repeat;
        for &i in self.form.level_items(level) {
            let n = Node { item: i, scope };
            if let Some(p) = self.error(n) {
                out.push(p);
            }
            if self.form.item(i).kind == ItemType::Repeat && self.slot(n).relevant {
                for &inst in &self.slot(n).instances {
                    self.validate_scope(inst, out);
                }
            }
        }
    }

    pub fn is_valid(&self) -> bool {
        self.validate().is_empty()
    }

    /// The draft's answers (non-relevant answers kept, as the draft must not lose them).
    pub fn data(&self) -> Json {
        Json::Object(self.object(0, false))
    }

    /// The answers as exported: non-relevant items are absent.
    pub fn export_data(&self) -> Json {
        Json::Object(self.object(0, true))
    }

    fn object(&self, scope: u32, export: bool) -> Map<String, Json> {
        let level = self.scopes[scope as usize].repeat;
        let mut m = Map::new();
        for &i in self.form.level_items(level) {
            let item = self.form.item(i);
            let n = Node { item: i, scope };
            let s = self.slot(n);
            if export && !s.relevant {
                continue;
            }
            if item.kind == ItemType::Repeat {
                if s.instances.is_empty() {
                    continue;
                }
                let list = s
                    .instances
                    .iter()
                    .map(|&inst| Json::Object(self.object(inst, export)))
                    .collect();
                m.insert(item.name.clone(), Json::Array(list));
            } else if let Some(a) = &s.answer {
                m.insert(item.name.clone(), a.clone());
            }
        }
        m
    }

    /// Every live node in document order (instances after their repeat node, depth first).
    pub fn nodes(&self) -> Vec<Node> {
        let mut out = Vec::new();
        self.collect_nodes(0, &mut out);
        out
    }

    fn collect_nodes(&self, scope: u32, out: &mut Vec<Node>) {
        let level = self.scopes[scope as usize].repeat;
        for &i in self.form.level_items(level) {
            let n = Node { item: i, scope };
            out.push(n);
            if self.form.item(i).kind == ItemType::Repeat {
                for &inst in &self.slot(n).instances {
                    self.collect_nodes(inst, out);
                }
            }
        }
    }

    /// A path for messages and tests: `members[2]/age`.
    pub fn path_of(&self, n: Node) -> String {
        if n.item == ROOT_ITEM {
            return "(submission)".into();
        }
        let mut parts = vec![self.form.item(n.item).name.clone()];
        let mut scope = n.scope;
        if self.scopes[scope as usize].repeat == Some(n.item) {
            // An instance node: its own position is part of the path.
            parts[0] = format!("{}[{}]", parts[0], self.scopes[scope as usize].index + 1);
            scope = self.scopes[scope as usize].parent;
        }
        while let Some(r) = self.scopes[scope as usize].repeat {
            parts.push(format!(
                "{}[{}]",
                self.form.item(r).name,
                self.scopes[scope as usize].index + 1
            ));
            scope = self.scopes[scope as usize].parent;
        }
        parts.reverse();
        parts.join("/")
    }

    /// Finds a node by path (`age`, `members[2]/age`, `members[1]/children` for a repeat node).
    pub fn find(&self, path: &str) -> Option<Node> {
        let mut scope = 0u32;
        let parts: Vec<&str> = path.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let (name, index) = match part.find('[') {
                Some(b) => (
                    &part[..b],
                    Some(part[b + 1..].trim_end_matches(']').parse::<usize>().ok()?),
                ),
                None => (*part, None),
            };
            let item = self.form.item_by_name(name)?;
            let node = Node {
                item: item.id,
                scope,
            };
            if !self.exists(node) {
                return None;
            }
            match index {
                Some(k) => {
                    let inst = *self.slot(node).instances.get(k.checked_sub(1)?)?;
                    if last {
                        return Some(Node {
                            item: item.id,
                            scope: inst,
                        });
                    }
                    scope = inst;
                }
                None if last => return Some(node),
                None => return None,
            }
        }
        None
    }

    fn next_random(&self) -> u64 {
        // xorshift64*: small, deterministic for a given seed.
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Slot {
    fn clone_state(&self) -> SlotState {
        SlotState {
            read: self.read.clone(),
            relevant: self.relevant,
            required: self.required,
            read_only: self.read_only,
            constraint_ok: self.constraint_ok,
            answered: self.answer.is_some(),
        }
    }
}

#[derive(PartialEq)]
struct SlotState {
    read: Value,
    relevant: bool,
    required: bool,
    read_only: bool,
    constraint_ok: bool,
    answered: bool,
}

/// An empty text or an empty list of choices: what the app stores as no answer at all.
fn is_no_answer(j: &Json) -> bool {
    j.as_str() == Some("") || j.as_array().is_some_and(Vec::is_empty)
}

/// How a stored answer reads in expressions (calculations keep their data type).
fn read_answer(item: &crate::form::Item, a: &Json) -> Value {
    if item.kind == ItemType::Calculate {
        answer::read_calc(item.doc.data_type, a)
    } else {
        answer::read(item.kind, a)
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

fn no_node(n: Node) -> ActionError {
    ActionError {
        code: "no-node",
        message: format!("there is no node {n:?} in this submission"),
    }
}
fn no_scope(s: u32) -> ActionError {
    ActionError {
        code: "no-node",
        message: format!("there is no repeat instance {s} in this submission"),
    }
}

/// A value as a label shows it. A number is shown to 15 significant digits: a sum of amounts in yuan
/// (`1.1 + 2.2`) is 3.3 to the surveyor, not the binary fraction's 3.3000000000000003; any number
/// typed with up to 15 digits shows as typed. Expressions and the data keep the exact value.
fn shown(v: &Value) -> String {
    match v {
        Value::Num(n) if n.is_finite() => {
            expr::fmt_num(format!("{n:.14e}").parse::<f64>().unwrap_or(*n))
        }
        // A number that cannot be computed yet (a sum over an amount not typed yet is NaN, as in
        // XPath) shows as nothing, as an unanswered question does, not as "NaN" to a surveyor.
        Value::Num(_) => String::new(),
        other => other.to_str().to_string(),
    }
}

fn default_message(code: &str, lang: &str, min: Option<u64>, max: Option<u64>) -> String {
    let zh = lang.starts_with("zh");
    match (code, zh) {
        ("required", true) => "此项必填".into(),
        ("required", false) => "This question is required.".into(),
        ("constraint", true) => "答案不符合要求，请检查".into(),
        ("constraint", false) => "This answer is not valid; please check it.".into(),
        ("type", true) => "答案格式不对".into(),
        ("type", false) => "This answer has the wrong format.".into(),
        ("choice", true) => "所选项已不在可选范围内，请重新选择".into(),
        ("choice", false) => "The selected option is no longer available; choose again.".into(),
        ("repeat-min", true) => format!("至少需要 {} 条", min.unwrap_or(0)),
        ("repeat-min", false) => match min.unwrap_or(0) {
            1 => "At least 1 entry is needed.".into(),
            n => format!("At least {n} entries are needed."),
        },
        ("repeat-max", true) => {
            format!("最多 {} 条", max.unwrap_or(crate::form::DEFAULT_REPEAT_MAX))
        }
        ("repeat-max", false) => match max.unwrap_or(crate::form::DEFAULT_REPEAT_MAX) {
            1 => "At most 1 entry is allowed.".into(),
            n => format!("At most {n} entries are allowed."),
        },
        (_, true) => "答案有问题".into(),
        (_, false) => "There is a problem with this answer.".into(),
    }
}

/// The session seen by the expression evaluator.
struct EvalEnv<'a> {
    s: &'a Session,
    choice: Option<&'a Choice>,
}

impl EvalEnv<'_> {
    fn nodes_of(&self, item: ItemId, scopes: &[u32]) -> Value {
        let it = self.s.form.item(item);
        // One scope (a repeat read from its parent, a field from its own instance): the list is
        // made in one allocation, without a `Vec` first (expressions read lists all the time).
        if let [sc] = scopes {
            return Value::Nodes(if it.kind == ItemType::Repeat {
                self.s
                    .slot(Node { item, scope: *sc })
                    .instances
                    .iter()
                    .map(|&i| Node { item, scope: i })
                    .collect()
            } else {
                Rc::from([Node { item, scope: *sc }])
            });
        }
        let mut out: Vec<Node> = Vec::new();
        for &sc in scopes {
            if it.kind == ItemType::Repeat {
                out.extend(
                    self.s
                        .slot(Node { item, scope: sc })
                        .instances
                        .iter()
                        .map(|&i| Node { item, scope: i }),
                );
            } else {
                out.push(Node { item, scope: sc });
            }
        }
        Value::Nodes(Rc::from(out))
    }
}

impl Env for EvalEnv<'_> {
    fn field(&self, item: ItemId, ctx: Node) -> Value {
        let s = self.s;
        let Some(it) = s.form.items.get(item as usize) else {
            return Value::empty();
        };
        let level = it.repeat;
        if it.kind != ItemType::Repeat
            && let Some(a) = s.ancestor_at(ctx.scope, level)
        {
            return s.slot(Node { item, scope: a }).read.clone();
        }
        let ctx_level = s.scopes[ctx.scope as usize].repeat;
        let l = s.lca(ctx_level, level);
        let mut scopes = Vec::new();
        if let Some(a) = s.ancestor_at(ctx.scope, l) {
            s.scopes_at(a, level, &mut scopes);
        }
        self.nodes_of(item, &scopes)
    }

    fn child(&self, instance: Node, item: ItemId) -> Value {
        let s = self.s;
        // `instance` is a repeat instance, or the root (what `..` is outside any repeat, so that
        // `../x` at the top level reads `x` as in ODK).
        let level = (instance.item != ROOT_ITEM).then_some(instance.item);
        let inst_scope = &s.scopes[instance.scope as usize];
        if inst_scope.repeat != level {
            return Value::Nodes(Rc::from(Vec::new()));
        }
        let Some(it) = s.form.items.get(item as usize) else {
            return Value::empty();
        };
        if it.kind != ItemType::Repeat && it.repeat == level {
            return Value::Nodes(Rc::from([Node {
                item,
                scope: instance.scope,
            }]));
        }
        let mut scopes = Vec::new();
        s.scopes_at(instance.scope, it.repeat, &mut scopes);
        self.nodes_of(item, &scopes)
    }

    fn node_value(&self, node: Node) -> Value {
        let s = self.s;
        if node.item == ROOT_ITEM || s.scopes[node.scope as usize].repeat == Some(node.item) {
            return Value::empty();
        }
        match s.form.items.get(node.item as usize) {
            Some(it)
                if s.scopes
                    .get(node.scope as usize)
                    .is_some_and(|sc| sc.repeat == it.repeat) =>
            {
                s.slot(node).read.clone()
            }
            _ => Value::empty(),
        }
    }

    fn position(&self, node: Node) -> usize {
        self.s
            .scopes
            .get(node.scope as usize)
            .map_or(1, |sc| sc.index as usize + 1)
    }

    fn parent(&self, node: Node) -> Node {
        let s = self.s;
        let sc = &s.scopes[node.scope as usize];
        let scope = if sc.repeat == Some(node.item) && sc.repeat.is_some() {
            sc.parent
        } else {
            node.scope
        };
        Node {
            item: s.scopes[scope as usize].repeat.unwrap_or(ROOT_ITEM),
            scope,
        }
    }

    fn clock(&self) -> Clock {
        self.s.host.clock
    }

    fn random(&self) -> f64 {
        (self.s.next_random() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn uuid(&self) -> String {
        let a = self.s.next_random();
        let b = self.s.next_random();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let h = crate::form::hex(&bytes);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }

    fn choice_label(&self, question: ItemId, value: &str) -> Option<String> {
        let s = self.s;
        let item = s.form.items.get(question as usize)?;
        let c = s.form.choices_of(item).iter().find(|c| c.value == value)?;
        Some(c.label.get(&s.lang, s.form.default_language()).to_string())
    }

    fn choice_attr(&self, key: &str) -> Option<Value> {
        let c = self.choice?;
        match key {
            "value" | "name" => Some(Value::Str(Rc::from(c.value.as_str()))),
            "label" => Some(Value::Str(Rc::from(
                c.label.get(&self.s.lang, self.s.form.default_language()),
            ))),
            k => Some(Value::Str(Rc::from(
                c.attrs.get(k).map_or("", String::as_str),
            ))),
        }
    }
}
