//! Property test: after any sequence of actions on any form, the incrementally maintained state equals a
//! fresh full evaluation of the same answers (`Session::resume`).

use std::rc::Rc;

use doorstep_core::form;
use doorstep_core::session::{Action, Host, Session};
use proptest::prelude::*;
use serde_json::{Value as Json, json};

/// A random form: questions referring only to earlier ones (so no cycles), a repeat with fields that read
/// root answers and each other, and root items that aggregate over the repeat.
fn arb_form() -> impl Strategy<Value = String> {
    (2usize..10, 1usize..6, prop::collection::vec((0u8..8, any::<u16>(), any::<u16>()), 12)).prop_map(|(roots, inner, spec)| {
        let mut root_items = Vec::new();
        let mut nums: Vec<String> = Vec::new();
        let mut k = 0;
        let pick = |k: &mut usize| {
            let s = spec[*k % spec.len()];
            *k += 1;
            s
        };
        for i in 0..roots {
            let (kind, a, b) = pick(&mut k);
            let name = format!("r{i}");
            let mut it = match kind % 4 {
                0 | 1 => json!({"type": "integer", "name": name, "label": "n"}),
                2 => json!({"type": "select_one", "name": name, "label": "s", "choices": "abc"}),
                _ => json!({"type": "text", "name": name, "label": "t"}),
            };
            if !nums.is_empty() && a % 3 == 0 {
                let r = &nums[a as usize % nums.len()];
                it["relevant"] = json!(format!("${{{r}}} > {}", b % 4));
            }
            if it["type"] == "integer" {
                if b % 2 == 0 {
                    it["constraint"] = json!(". < 5");
                    it["constraint_message"] = json!("small");
                }
                if a % 5 == 1 {
                    it["required"] = json!(true);
                }
                nums.push(name.clone());
            }
            root_items.push(it);
            if !nums.is_empty() && kind % 3 == 0 {
                let r = &nums[b as usize % nums.len()];
                root_items.push(json!({"type": "calculate", "name": format!("c{i}"), "calculation": format!("${{{r}}} * 2 + 1"), "data_type": "integer"}));
            }
        }
        let mut inner_items = vec![json!({"type": "integer", "name": "m0", "label": "m0"})];
        for j in 1..inner {
            let (kind, a, b) = pick(&mut k);
            let prev = format!("m{}", a as usize % j);
            let mut it = match kind % 3 {
                0 => json!({"type": "integer", "name": format!("m{j}"), "label": "m", "relevant": format!("${{{prev}}} > {}", b % 3)}),
                1 => json!({"type": "calculate", "name": format!("m{j}"), "calculation": format!("${{{prev}}} + position(..)"), "data_type": "integer"}),
                _ => json!({"type": "integer", "name": format!("m{j}"), "label": "m", "default": 1}),
            };
            if !nums.is_empty() && a % 4 == 0 && it["type"] == "integer" {
                let r = &nums[b as usize % nums.len()];
                it["constraint"] = json!(format!(". <= ${{{r}}}"));
                it["constraint_message"] = json!("bounded");
            }
            inner_items.push(it);
        }
        // A nested repeat reading its parent instance, and aggregated from the top.
        inner_items.push(json!({"type": "repeat", "name": "sub", "label": "sub", "max": 3, "relevant": "${m0} != 1", "items": [
            {"type": "integer", "name": "s0", "label": "s0"},
            {"type": "calculate", "name": "s1", "calculation": "${s0} + ${m0} + position(..)", "data_type": "integer"},
            {"type": "calculate", "name": "s2", "calculation": "count(${sub}) * 10 + count(${rep})", "data_type": "integer"}
        ]}));
        // Instances reading the list they are in: what an add, remove or move must re-evaluate.
        inner_items.push(json!({"type": "calculate", "name": "of_n", "calculation": "count(${rep}) * 10 + count(${sub})", "data_type": "integer"}));
        inner_items.push(json!({"type": "integer", "name": "crowded", "label": "c", "relevant": "count(${rep}) > 2"}));
        inner_items.push(json!({"type": "calculate", "name": "subsum", "calculation": "sum(${s0})", "data_type": "integer"}));
        let mut rep = json!({"type": "repeat", "name": "rep", "label": "rep", "max": 6, "items": inner_items});
        if let Some(r) = nums.first()
            && spec[0].0 % 2 == 0 {
                rep["relevant"] = json!(format!("${{{r}}} != 3"));
            }
        root_items.push(rep);
        root_items.push(json!({"type": "calculate", "name": "total", "calculation": "sum(${m0})", "data_type": "integer"}));
        root_items.push(json!({"type": "calculate", "name": "size", "calculation": "count(${rep})", "data_type": "integer"}));
        root_items.push(json!({"type": "calculate", "name": "allsub", "calculation": "count(${sub}) + sum(${s1})", "data_type": "integer"}));
        root_items.push(json!({"type": "calculate", "name": "big", "calculation": "count(${rep}[m0 > 2])", "data_type": "integer"}));
        root_items.push(json!({"type": "integer", "name": "last", "label": "l", "relevant": "${size} > 1"}));
        json!({
            "format": "doorstep-form/1", "id": "prop", "version": "1", "title": "prop", "languages": ["en"],
            "choices": {"abc": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}, {"value": "c", "label": "C"}]},
            "items": root_items
        })
        .to_string()
    })
}

#[derive(Clone, Debug)]
enum Op {
    Answer(u16, i64),
    Clear(u16),
    Add,
    AddSub(u16),
    Remove(u16),
    Move(u16, u16),
}

fn arb_ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            4 => (any::<u16>(), -1i64..8).prop_map(|(n, v)| Op::Answer(n, v)),
            1 => any::<u16>().prop_map(Op::Clear),
            2 => Just(Op::Add),
            2 => any::<u16>().prop_map(Op::AddSub),
            1 => any::<u16>().prop_map(Op::Remove),
            1 => (any::<u16>(), any::<u16>()).prop_map(|(a, b)| Op::Move(a, b)),
        ],
        0..30,
    )
}

/// Every live node with its path and shown state, in document order.
fn snapshot(s: &Session) -> Vec<String> {
    s.nodes()
        .into_iter()
        .map(|n| {
            let st = s.state(n);
            format!(
                "{} = {:?} rel={} req={} ro={} err={:?}",
                s.path_of(n),
                s.answer(n)
                    .filter(|_| st.relevant || s.form().item(n.item).calculation.is_none()),
                st.relevant,
                st.required,
                st.read_only,
                st.error.map(|e| e.code)
            )
        })
        .collect()
}

/// Validation problems by path (scope numbers differ between sessions).
fn problems(s: &Session) -> Vec<String> {
    s.validate()
        .iter()
        .map(|p| format!("{} {} {}", s.path_of(p.node), p.code, p.message))
        .collect()
}

fn apply_op(s: &mut Session, op: &Op) {
    let nodes: Vec<_> = s.nodes();
    let form = s.form().clone();
    match *op {
        Op::Answer(i, v) => {
            let answerable: Vec<_> = nodes
                .iter()
                .filter(|n| {
                    let it = form.item(n.item);
                    it.kind.has_value() && it.calculation.is_none() && it.kind.is_shown()
                })
                .collect();
            if answerable.is_empty() {
                return;
            }
            let n = *answerable[i as usize % answerable.len()];
            let it = form.item(n.item);
            let value = match it.kind {
                doorstep_core::form::model::ItemType::SelectOne => {
                    json!(["a", "b", "c"][v.rem_euclid(3) as usize])
                }
                doorstep_core::form::model::ItemType::Text => json!(format!("t{v}")),
                _ => json!(v),
            };
            let _ = s.apply(Action::Answer { node: n, value });
        }
        Op::Clear(i) => {
            if !nodes.is_empty() {
                let _ = s.apply(Action::Clear {
                    node: nodes[i as usize % nodes.len()],
                });
            }
        }
        Op::Add => {
            let rep = form.node("rep").unwrap();
            let _ = s.apply(Action::AddInstance {
                repeat: rep.item,
                parent: 0,
            });
        }
        Op::AddSub(i) => {
            let rep = form.node("rep").unwrap();
            let sub = form.item_by_name("sub").unwrap().id;
            let insts = s.instances(rep.item, 0).to_vec();
            if !insts.is_empty() {
                let _ = s.apply(Action::AddInstance {
                    repeat: sub,
                    parent: insts[i as usize % insts.len()],
                });
            }
        }
        Op::Remove(i) => {
            let rep = form.node("rep").unwrap();
            let insts = s.instances(rep.item, 0).to_vec();
            if !insts.is_empty() {
                let _ = s.apply(Action::RemoveInstance {
                    instance: insts[i as usize % insts.len()],
                });
            }
        }
        Op::Move(i, to) => {
            let rep = form.node("rep").unwrap();
            let insts = s.instances(rep.item, 0).to_vec();
            if !insts.is_empty() {
                let _ = s.apply(Action::MoveInstance {
                    instance: insts[i as usize % insts.len()],
                    to: to as usize % insts.len(),
                });
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn incremental_equals_full(src in arb_form(), ops in arb_ops()) {
        let loaded = form::load(&src);
        let errors: Vec<String> = loaded.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect();
        prop_assert!(loaded.form.is_some(), "generated form does not load: {errors:?}\n{src}");
        let f = Rc::new(loaded.form.unwrap());
        let host = Host::fixed("2026-11-22T09:00:00+08:00");
        let mut s = Session::new(f.clone(), host.clone());
        for op in &ops {
            apply_op(&mut s, op);
            let fresh = Session::resume(f.clone(), &s.data(), host.clone());
            prop_assert_eq!(snapshot(&s), snapshot(&fresh), "after {:?}", op);
            prop_assert_eq!(s.export_data(), fresh.export_data());
            prop_assert_eq!(problems(&s), problems(&fresh));
        }
    }
}

#[test]
fn resume_of_exported_data_gives_the_same_verdict() {
    let src = r#"{"format": "doorstep-form/1", "id": "v", "version": "1", "title": "v", "languages": ["en"], "items": [
        {"type": "integer", "name": "a", "label": "a", "required": true, "constraint": ". < 10", "constraint_message": "small"},
        {"type": "text", "name": "b", "label": "b", "relevant": "${a} > 2", "required": true}]}"#;
    let f = Rc::new(form::load(src).form.unwrap());
    let host = Host::fixed("2026-11-22T09:00:00+08:00");
    let mut s = Session::new(f.clone(), host.clone());
    let a = f.node("a").unwrap();
    s.apply(Action::Answer {
        node: a,
        value: json!(12),
    })
    .unwrap();
    let codes: Vec<_> = s.validate().iter().map(|p| p.code).collect();
    assert_eq!(codes, ["constraint", "required"]);
    let again = Session::resume(f.clone(), &s.export_data(), host);
    assert_eq!(again.validate(), s.validate());
    let _: Json = again.data();
}
