//! Resuming a stored submission keeps what `once()` captured, whatever the clock says now.

use std::rc::Rc;

use doorstep_core::form;
use doorstep_core::session::{Host, Session};

#[test]
fn once_values_survive_a_resume_at_another_time() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../forms/spec/calculations/40-once-survives-resume.form.json"
    ))
    .unwrap();
    let f = Rc::new(form::load(&src).form.unwrap());
    let first = Session::new(f.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
    let data = first.data();
    assert_eq!(data["stamp"], "2026-11-22T09:00:00.000+08:00");
    let mut later = Host::fixed("2026-12-01T10:00:00+08:00");
    later.seed = 99;
    let again = Session::resume(f, &data, later);
    assert_eq!(again.data(), data);
}

#[test]
fn nested_counts_are_bounded_by_the_instance_limit() {
    let src = r#"{"format": "doorstep-form/1", "id": "nest", "version": "1", "title": "t", "languages": ["en"], "items": [
        {"type": "repeat", "name": "outer", "label": "o", "count": 10000, "max": 10000, "items": [
            {"type": "repeat", "name": "inner", "label": "i", "count": 10000, "max": 10000, "items": [
                {"type": "integer", "name": "x", "label": "x"}]}]}]}"#;
    let f = Rc::new(form::load(src).form.unwrap());
    let s = Session::new(f.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
    let outer = f.node("outer").unwrap();
    let total: usize = s
        .instances(outer.item, 0)
        .iter()
        .map(|&o| 1 + s.instances(f.item_by_name("inner").unwrap().id, o).len())
        .sum();
    assert_eq!(total, doorstep_core::session::MAX_INSTANCES);
}

#[test]
fn text_doubling_stops_at_the_limit() {
    let mut items = vec![r#"{"type": "text", "name": "c0", "label": "c"}"#.to_string()];
    for i in 1..40 {
        items.push(format!(r#"{{"type": "calculate", "name": "c{i}", "calculation": "concat(${{c{}}}, ${{c{}}})"}}"#, i - 1, i - 1));
    }
    let src = format!(
        r#"{{"format": "doorstep-form/1", "id": "dbl", "version": "1", "title": "t", "languages": ["en"], "items": [{}]}}"#,
        items.join(",")
    );
    let f = Rc::new(form::load(&src).form.unwrap());
    let mut s = Session::new(f.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
    let c0 = f.node("c0").unwrap();
    s.apply(doorstep_core::session::Action::Answer {
        node: c0,
        value: serde_json::json!("abcdefgh"),
    })
    .unwrap();
    let last = s.answer(f.node("c39").unwrap());
    assert!(
        last.is_none(),
        "the doubled text past the limit is left empty"
    );
    assert_eq!(
        s.answer(f.node("c10").unwrap())
            .and_then(|v| v.as_str())
            .map(str::len),
        Some(8 << 10)
    );
}

#[test]
fn fields_the_form_does_not_have_are_reported_in_key_order_with_their_path() {
    let src = r#"{"format": "doorstep-form/1", "id": "unk", "version": "1", "title": "t", "languages": ["en"], "items": [
        {"type": "text", "name": "b", "label": "b"},
        {"type": "note", "name": "n", "label": "n"},
        {"type": "group", "name": "g", "label": "g", "items": [{"type": "integer", "name": "m", "label": "m"}]},
        {"type": "repeat", "name": "r", "label": "r", "items": [
            {"type": "text", "name": "x", "label": "x"},
            {"type": "repeat", "name": "s", "label": "s", "items": [{"type": "text", "name": "y", "label": "y"}]}]}]}"#;
    let f = Rc::new(form::load(src).form.unwrap());
    // Unknown names, names of another level, a note, a group, malformed repeats and instances,
    // before, between and after the known keys.
    let data = serde_json::json!({
        "a": 1, "b": "ok", "c": 2, "g": {}, "m": 3, "n": "note", "x": "wrong level", "y": "wrong level",
        "r": [
            {"x": "fine", "b": "wrong level", "zz": 1, "s": [{"y": "fine", "x": "wrong level", "q": 0}, 7]},
            "not an object",
            {"s": "not a list", "AA": true}
        ],
        "zzz": null
    });
    let s = Session::resume(f, &data, Host::fixed("2026-11-22T09:00:00+08:00"));
    let unknown: Vec<String> = s
        .validate()
        .into_iter()
        .filter(|p| p.code == "unknown-field")
        .map(|p| p.message)
        .collect();
    let names: Vec<&str> = unknown
        .iter()
        .map(|m| {
            m.trim_start_matches("the data has a field `")
                .trim_end_matches("` that the form does not define")
        })
        .collect();
    assert_eq!(
        names,
        [
            "a",
            "c",
            "g",
            "n",
            "r[1]/b",
            "r[1]/s[1]/q",
            "r[1]/s[1]/x",
            "r[1]/s[2] (an instance is an object)",
            "r[1]/zz",
            "r[2] (an instance is an object)",
            "r[3]/AA",
            "r[3]/s (a repeat is a list of objects)",
            "x",
            "y",
            "zzz"
        ]
    );
}

#[test]
fn an_empty_text_or_selection_is_no_answer_however_it_came() {
    let src = r#"{"format": "doorstep-form/1", "id": "empty", "version": "1", "title": "t", "languages": ["en"],
        "choices": {"c": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
        "items": [
            {"type": "text", "name": "prev", "label": "p"},
            {"type": "text", "name": "name", "label": "n", "required": true},
            {"type": "select_multiple", "name": "picked", "label": "s", "choices": "c", "required": true},
            {"type": "select_multiple", "name": "again", "label": "s", "choices": "c", "required": true,
             "default_expression": "${prev}"},
            {"type": "calculate", "name": "n_again", "calculation": "count-selected(${again})"}]}"#;
    let f = Rc::new(form::load(src).form.unwrap());
    let missing = |s: &Session| -> Vec<String> {
        s.validate()
            .into_iter()
            .map(|p| format!("{} {}", f.item(p.node.item).name, p.code))
            .collect()
    };
    // A default expression that gives nothing leaves the question unanswered, not answered with [].
    let fresh = Session::new(f.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
    assert_eq!(
        missing(&fresh),
        ["name required", "picked required", "again required"]
    );
    assert!(fresh.data().get("again").is_none(), "{}", fresh.data());
    // A stored "" or [] (the format says unanswered questions are absent) is no answer either, so
    // the office does not accept what the phone would have refused.
    let stored = serde_json::json!({"name": "", "picked": [], "again": "", "n_again": 0});
    let s = Session::resume(f.clone(), &stored, Host::fixed("2026-11-22T09:00:00+08:00"));
    assert_eq!(
        missing(&s),
        ["name required", "picked required", "again required"]
    );
    assert_eq!(s.export_data(), serde_json::json!({"n_again": "0"}));
}

#[test]
fn a_clock_keeps_its_offset_however_it_is_written() {
    use doorstep_core::session::parse_clock;
    let at = parse_clock("2026-11-22T01:30:00+08:00").unwrap();
    // `+0800` and `+08` are read as date-times; their clock was taken as UTC wall time (8 hours off).
    for s in ["2026-11-22T01:30:00+0800", "2026-11-22T01:30+08"] {
        assert_eq!(parse_clock(s), Some(at), "{s}");
    }
    assert_eq!(at.offset_minutes, 480);
    assert_eq!(
        parse_clock("2026-11-21T17:30:00Z").unwrap().utc_millis,
        at.utc_millis
    );
}

/// An answer shown in a label is shown as typed: its `*` is escaped, so the label's Markdown does
/// not read it as emphasis ("王*五*" is not "王" and an italic "五").
#[test]
fn answers_in_labels_keep_their_stars() {
    let src = r#"{"format": "doorstep-form/1", "id": "stars", "version": "1", "title": "t", "languages": ["zh-CN"], "items": [
        {"type": "text", "name": "name", "label": "姓名"},
        {"type": "note", "name": "show", "label": "**户主**：${name}"}]}"#;
    let f = Rc::new(form::load(src).form.unwrap());
    let data = serde_json::json!({"name": "王*五*"});
    let s = Session::resume(f.clone(), &data, Host::fixed("2026-11-22T09:00:00+08:00"));
    assert_eq!(s.label(f.node("show").unwrap()), "**户主**：王\\*五\\*");
}

/// A total that cannot be computed yet (an amount not typed yet makes `sum` NaN) shows as nothing in
/// a label, not as "NaN".
#[test]
fn a_number_not_computable_yet_shows_as_nothing_in_a_label() {
    let src = r#"{"format": "doorstep-form/1", "id": "sum", "version": "1", "title": "t", "languages": ["zh-CN"], "items": [
        {"type": "repeat", "name": "items", "label": "物品", "items": [{"type": "decimal", "name": "amount", "label": "金额"}]},
        {"type": "calculate", "name": "total", "calculation": "sum(${amount})"},
        {"type": "note", "name": "show", "label": "合计 ${total} 元"}]}"#;
    let f = Rc::new(form::load(src).form.unwrap());
    let host = Host::fixed("2026-11-22T09:00:00+08:00");
    let show = |data: serde_json::Value| {
        Session::resume(f.clone(), &data, host.clone()).label(f.node("show").unwrap())
    };
    assert_eq!(
        show(serde_json::json!({"items": [{"amount": 12.5}, {}]})),
        "合计  元"
    );
    assert_eq!(
        show(serde_json::json!({"items": [{"amount": 12.5}, {"amount": 3}]})),
        "合计 15.5 元"
    );
}

/// The sum of no amounts (an empty repeat, or a filter that matches nothing) is stored as 0, not as
/// the negative zero Rust's `f64` sum starts from, which the bundle wrote as "-0.0".
#[test]
fn the_sum_of_nothing_is_stored_as_zero() {
    let src = r#"{"format": "doorstep-form/1", "id": "sum", "version": "1", "title": "t", "languages": ["en"], "items": [
        {"type": "repeat", "name": "items", "label": "Items", "items": [
            {"type": "text", "name": "kind", "label": "Kind"},
            {"type": "decimal", "name": "amount", "label": "Amount"}]},
        {"type": "calculate", "name": "total", "calculation": "sum(${amount})", "data_type": "decimal"},
        {"type": "calculate", "name": "cash", "calculation": "sum(${items}[kind = 'cash']/amount)", "data_type": "decimal"}]}"#;
    let f = Rc::new(form::load(src).form.unwrap());
    let host = Host::fixed("2026-11-22T09:00:00+08:00");
    let data = Session::resume(f.clone(), &serde_json::json!({}), host.clone()).data();
    assert_eq!(serde_json::to_string(&data["total"]).unwrap(), "0.0");
    let data = Session::resume(
        f,
        &serde_json::json!({"items": [{"kind": "goods", "amount": 59.9}]}),
        host,
    )
    .data();
    assert_eq!(serde_json::to_string(&data["cash"]).unwrap(), "0.0");
    assert_eq!(data["total"], 59.9);
}
