//! Table-driven tests of the expression language: every case in `data/expr_cases.txt` is parsed,
//! resolved against a small fixed data tree and evaluated with a fixed clock.
//!
//! Case syntax, one per line (`#` starts a comment line):
//!
//! ```text
//! [@ctx] expression => expected
//! ```
//!
//! `@ctx` sets the context node: `@2` is the field `m_age` in instance 2 of the repeat `members`,
//! `@name` the plain field `name`; without it the context is the field `age`.
//! Expected is a number (`3`, `-0.5`, `NaN`, `~0.3333` for approximately), a JSON string (`"ab"`),
//! `true`/`false`, `nodes:N` (a list of N nodes), `error:CODE` (parse error), `list:CODE` or
//! `list:ok` (list check of a calculation), `blist:CODE`/`blist:ok` (of a condition), or
//! `diag:CODE` (a runtime diagnostic).

use std::collections::HashMap;
use std::rc::Rc;

use doorstep_core::expr::{self, Clock, Env, ItemId, Node, Value};

const CASES: &str = include_str!("data/expr_cases.txt");

/// 2026-11-22T09:00:00+08:00
const CLOCK: Clock = Clock {
    utc_millis: 1_795_309_200_000,
    offset_minutes: 480,
};

const MEMBERS: ItemId = 13;
const MEMBER_FIELDS: [&str; 4] = ["m_name", "m_age", "m_sex", "m_income"];

fn names() -> Vec<&'static str> {
    vec![
        "root",
        "age",
        "name",
        "empty",
        "zero",
        "neg",
        "birth",
        "visit",
        "start",
        "colors",
        "color",
        "flag",
        "text_num",
        "members",
        "m_name",
        "m_age",
        "m_sex",
        "m_income",
        "bad_re",
        "id_card",
        "time_t",
        "big",
        "f_false",
        "str_false",
        "leap_birth",
        "nan_text",
        "spaced",
        "chinese",
        "bday_dt",
    ]
}

struct TestEnv {
    ids: HashMap<&'static str, ItemId>,
    plain: HashMap<ItemId, Value>,
    /// member field → values of instances 1..=4
    members: HashMap<ItemId, Vec<Value>>,
}

fn v(s: &str) -> Value {
    Value::from(s)
}

impl TestEnv {
    fn new() -> TestEnv {
        let ids: HashMap<_, _> = names()
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, i as ItemId))
            .collect();
        let mut plain = HashMap::new();
        let mut set = |n: &str, val: Value| {
            plain.insert(ids[n], val);
        };
        set("age", Value::Num(34.0));
        set("name", v("Li Wei"));
        set("empty", v(""));
        set("zero", Value::Num(0.0));
        set("neg", Value::Num(-3.5));
        set("birth", v("1990-05-17"));
        set("visit", v("2026-11-20"));
        set("start", v("2026-11-22T08:30:00.500+08:00"));
        set("colors", v("red green blue"));
        set("color", v("green"));
        set("flag", Value::Bool(true));
        set("text_num", v("12.5"));
        set("bad_re", v("(unclosed"));
        set("id_card", v("11010519491231002X"));
        set("time_t", v("14:30:00"));
        set("big", Value::Num(1234.5678));
        set("f_false", Value::Bool(false));
        set("str_false", v("false"));
        set("leap_birth", v("2000-02-29"));
        set("nan_text", v("abc"));
        set("spaced", v("  a  b \t c  "));
        set("chinese", v("王芳的家"));
        set("bday_dt", v("1990-05-17T23:30:00-05:00"));
        let mut members = HashMap::new();
        members.insert(
            ids["m_name"],
            vec![v("Wang Fang"), v("Li Wei"), v("Li Na"), v("Li Ming")],
        );
        members.insert(
            ids["m_age"],
            vec![
                Value::Num(41.0),
                Value::Num(39.0),
                Value::Num(12.0),
                Value::Num(8.0),
            ],
        );
        members.insert(
            ids["m_sex"],
            vec![v("female"), v("male"), v("female"), v("male")],
        );
        members.insert(
            ids["m_income"],
            vec![
                Value::Num(3000.0),
                Value::Num(4500.0),
                v(""),
                Value::Num(0.0),
            ],
        );
        TestEnv {
            ids,
            plain,
            members,
        }
    }

    fn is_member_field(&self, item: ItemId) -> bool {
        self.members.contains_key(&item)
    }

    fn is_list(&self, item: ItemId, ctx: Node) -> bool {
        item == MEMBERS || (self.is_member_field(item) && ctx.scope == 0)
    }
}

impl Env for TestEnv {
    fn field(&self, item: ItemId, ctx: Node) -> Value {
        if item == MEMBERS {
            return Value::Nodes(
                (1..=4)
                    .map(|s| Node {
                        item: MEMBERS,
                        scope: s,
                    })
                    .collect(),
            );
        }
        if self.is_member_field(item) {
            if ctx.scope != 0 {
                return self.node_value(Node {
                    item,
                    scope: ctx.scope,
                });
            }
            return Value::Nodes((1..=4).map(|s| Node { item, scope: s }).collect());
        }
        self.plain.get(&item).cloned().unwrap_or_else(Value::empty)
    }

    fn child(&self, instance: Node, item: ItemId) -> Value {
        if instance.item == MEMBERS && self.is_member_field(item) {
            return Value::Nodes(Rc::from([Node {
                item,
                scope: instance.scope,
            }]));
        }
        Value::empty()
    }

    fn node_value(&self, node: Node) -> Value {
        if let Some(vals) = self.members.get(&node.item) {
            return vals
                .get(node.scope as usize - 1)
                .cloned()
                .unwrap_or_else(Value::empty);
        }
        if node.item == MEMBERS {
            return Value::empty();
        }
        self.plain
            .get(&node.item)
            .cloned()
            .unwrap_or_else(Value::empty)
    }

    fn position(&self, node: Node) -> usize {
        node.scope.max(1) as usize
    }

    fn parent(&self, node: Node) -> Node {
        if self.is_member_field(node.item) && node.scope > 0 {
            Node {
                item: MEMBERS,
                scope: node.scope,
            }
        } else {
            Node { item: 0, scope: 0 }
        }
    }

    fn clock(&self) -> Clock {
        CLOCK
    }

    fn random(&self) -> f64 {
        0.25
    }

    fn uuid(&self) -> String {
        "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5".to_string()
    }

    fn choice_label(&self, question: ItemId, value: &str) -> Option<String> {
        if question != self.ids["colors"] && question != self.ids["color"] {
            return None;
        }
        match value {
            "red" => Some("Red".into()),
            "green" => Some("Green".into()),
            "blue" => Some("Blue".into()),
            _ => None,
        }
    }

    fn choice_attr(&self, key: &str) -> Option<Value> {
        match key {
            "province" => Some(v("gd")),
            "name" => Some(v("guangzhou")),
            _ => None,
        }
    }
}

fn parse_resolved(env: &TestEnv, src: &str) -> Result<expr::Expr, Vec<expr::ExprError>> {
    let mut e = expr::parse(src)?;
    let ids = &env.ids;
    e.resolve(&mut |n| ids.get(n).copied(), &mut |n, repeat| {
        let id = *ids.get(n)?;
        match repeat {
            Some(MEMBERS) if !MEMBER_FIELDS.contains(&n) => None,
            _ => Some(id),
        }
    });
    Ok(e)
}

fn same_num(got: f64, want: f64, approx: bool) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if approx {
        return (got - want).abs() <= 1e-4 * want.abs().max(1.0);
    }
    got == want || (got - want).abs() <= 1e-9 * want.abs().max(1.0)
}

fn run_case(env: &TestEnv, line: &str) -> Result<(), String> {
    let (lhs, want) = line.rsplit_once(" => ").ok_or("no ` => ` in the line")?;
    let (ctx, src) = match lhs.strip_prefix('@') {
        Some(rest) => {
            let (c, src) = rest.split_once(' ').ok_or("`@ctx` without an expression")?;
            let node = match c.parse::<u32>() {
                Ok(k) => Node {
                    item: env.ids["m_age"],
                    scope: k,
                },
                Err(_) => Node {
                    item: *env.ids.get(c).ok_or("unknown context")?,
                    scope: 0,
                },
            };
            (node, src)
        }
        None => (
            Node {
                item: env.ids["age"],
                scope: 0,
            },
            lhs,
        ),
    };
    let want = want.trim();
    let parsed = parse_resolved(env, src);
    if let Some(code) = want.strip_prefix("error:") {
        return match parsed {
            Ok(_) => Err(format!("parsed, expected error {code}")),
            Err(errs) if errs.iter().any(|e| e.code == code) => Ok(()),
            Err(errs) => Err(format!("expected error {code}, got {errs:?}")),
        };
    }
    let e = parsed.map_err(|errs| format!("parse errors: {errs:?}"))?;
    for (prefix, boolean) in [("list:", false), ("blist:", true)] {
        if let Some(code) = want.strip_prefix(prefix) {
            let errs = e.check_lists(&|i| env.is_list(i, ctx), boolean);
            return match (code, errs.as_slice()) {
                ("ok", []) => Ok(()),
                ("ok", errs) => Err(format!("expected no list error, got {errs:?}")),
                (code, errs) if errs.iter().any(|e| e.code == code) => Ok(()),
                (code, errs) => Err(format!("expected {code}, got {errs:?}")),
            };
        }
    }
    let (got, diags) = expr::eval_with_diagnostics(&e, env, ctx);
    if let Some(code) = want.strip_prefix("diag:") {
        return if diags.iter().any(|d| d.code == code) {
            Ok(())
        } else {
            Err(format!(
                "expected diagnostic {code}, got {diags:?} (value {got:?})"
            ))
        };
    }
    let ok = match want {
        "true" => got == Value::Bool(true),
        "false" => got == Value::Bool(false),
        "NaN" => matches!(got, Value::Num(n) if n.is_nan()),
        w if w.starts_with("nodes:") => {
            let k: usize = w[6..].parse().map_err(|_| "bad nodes:N")?;
            matches!(&got, Value::Nodes(ns) if ns.len() == k)
        }
        w if w.starts_with('"') => {
            let s: String =
                serde_json::from_str(w).map_err(|e| format!("bad expected string: {e}"))?;
            matches!(&got, Value::Str(g) if **g == *s)
        }
        w => {
            let (approx, w) = match w.strip_prefix('~') {
                Some(rest) => (true, rest),
                None => (false, w),
            };
            let n: f64 = w.parse().map_err(|_| format!("bad expected value `{w}`"))?;
            matches!(got, Value::Num(g) if same_num(g, n, approx))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("got {got:?}"))
    }
}

#[test]
fn expression_cases() {
    let env = TestEnv::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for (i, line) in CASES.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        count += 1;
        if let Err(why) = run_case(&env, line) {
            failures.push(format!("line {}: {line}\n    {why}", i + 1));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count >= 400, "expected at least 400 cases, found {count}");
}

#[test]
fn every_function_has_a_case() {
    let missing: Vec<&str> = expr::functions()
        .iter()
        .map(|(n, _, _)| *n)
        .filter(|n| !CASES.contains(&format!("{n}(")))
        .collect();
    assert!(missing.is_empty(), "functions without a case: {missing:?}");
}
