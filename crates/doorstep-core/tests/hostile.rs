//! Hostile input: the engine promises "never a panic, never a hang" on bad forms, expressions, answers
//! and bundles (issue 2, "Bad input"). These property tests throw random and mutated input at every
//! entry point: `form::load`/`load_bytes`, `Session` (any action sequence, answers of any JSON shape),
//! `expr::parse` + evaluation, and `bundle::read_bundle`; and they check the deepest accepted inputs on
//! a 512 KiB stack, since the app runs in wasm with about 1 MB.
//!
//! Case counts are modest so the whole file runs in a few seconds in debug. For a longer exploration
//! run once locally: `HOSTILE_CASES=20000 cargo test -p doorstep-core --test hostile`.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use doorstep_core::bundle::{self, BundleInfo, read_bundle, write_bundle};
use doorstep_core::expr;
use doorstep_core::form::{self, Form, LoadResult, model::ItemType};
use doorstep_core::session::{Action, Host, Session};
use doorstep_core::submission::{FormRef, Meta, Status, Submission};
use proptest::prelude::*;
use serde_json::{Value as Json, json};

const NOW: &str = "2026-11-22T09:00:00+08:00";

fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A small deterministic generator, seeded by proptest, for the many small choices of one case
/// (which node to mutate, which value to answer): shrinking a seed is meaningless, but a failing
/// seed reproduces.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Checks what every load must give: a form xor errors, and every error with a message and a place.
fn check_load(r: &LoadResult, src: Option<&str>) {
    assert_eq!(
        r.form.is_some(),
        !r.has_errors(),
        "a form is returned exactly when there is no error"
    );
    for d in &r.diagnostics {
        assert!(
            !d.message.trim().is_empty(),
            "diagnostic `{}` has no message",
            d.code
        );
        assert!(!d.code.is_empty());
        if let (Some(src), Some((a, b))) = (src, d.range) {
            assert!(
                a <= b && b <= src.len(),
                "range {a}..{b} of `{}` is outside the file",
                d.code
            );
        }
        if let Some((a, b)) = d.span {
            assert!(a <= b, "span {a}..{b} of `{}` is reversed", d.code);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random JSON of every shape.

fn odd_string(rng: &mut Rng) -> String {
    let fixed = [
        "",
        " ",
        "NaN",
        "Infinity",
        "-Infinity",
        "-0",
        "1e309",
        "0x10",
        "1.",
        ".5",
        "-",
        "true",
        "null",
        "2026-02-30",
        "2026-11-22",
        "0000-01-01",
        "9999-12-31",
        "24:00:00",
        "23:59:60",
        "12:00",
        "2026-11-22T09:00:00+08:00",
        "2026-11-22T09:00:00Z",
        "2026-11-22T25:00:00Z",
        "yes",
        "a b c",
        "${a}",
        "'",
        "\"",
        "\\",
        "\u{0}",
        "中文",
        "é\u{301}",
        "\u{feff}",
        "🙂",
        "OK",
        "1 2 3",
        "99999999999999999999999999999999",
        "-1",
        "0.1",
        "3",
        "a",
        "b",
        "c",
        "other",
        "yes no",
        "11010519491231002X",
    ];
    match rng.below(4) {
        0 => rng.pick(&fixed).to_string(),
        1 => "9".repeat(rng.below(400) + 1),
        2 => {
            let n = rng.below(40);
            (0..n)
                .map(|_| {
                    *rng.pick(&[
                        'a', ' ', '.', '-', '1', '中', '\n', '%', '$', '{', '}', '🙂',
                    ])
                })
                .collect()
        }
        _ => "a".repeat(rng.below(3) * 50_000),
    }
}

fn odd_number(rng: &mut Rng) -> Json {
    let f = [
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        1e15,
        9.0e15,
        1e300,
        -1e300,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        2.0f64.powi(53),
        123456789.123,
    ];
    match rng.below(3) {
        0 => json!(*rng.pick(&[
            0i64,
            1,
            -1,
            2,
            3,
            17,
            120,
            i64::MAX,
            i64::MIN,
            10_000,
            10_001,
            -10_000
        ])),
        1 => json!(u64::MAX),
        _ => json!(*rng.pick(&f)),
    }
}

fn random_json(rng: &mut Rng, depth: usize) -> Json {
    let top = if depth == 0 { 5 } else { 8 };
    match rng.below(top) {
        0 => Json::Null,
        1 => json!(rng.chance(50)),
        2 => odd_number(rng),
        3 | 4 => json!(odd_string(rng)),
        5 => {
            let n = rng.below(5);
            Json::Array((0..n).map(|_| random_json(rng, depth - 1)).collect())
        }
        6 => {
            // Shapes the engine knows, slightly wrong.
            match rng.below(4) {
                0 => json!({"lat": random_json(rng, 0), "lon": random_json(rng, 0)}),
                1 => {
                    json!({"lat": 30.5, "lon": 114.2, "alt": random_json(rng, 0), "accuracy": "x"})
                }
                2 => {
                    json!({"file": odd_string(rng), "media_type": "image/jpeg", "size": random_json(rng, 0),
                            "sha256": "a".repeat(64)})
                }
                _ => json!([odd_string(rng), odd_string(rng)]),
            }
        }
        _ => {
            let n = rng.below(4);
            let mut m = serde_json::Map::new();
            for _ in 0..n {
                m.insert(
                    odd_string(rng).chars().take(8).collect(),
                    random_json(rng, depth - 1),
                );
            }
            Json::Object(m)
        }
    }
}

/// An answer for `node`: often a plausible one (so sessions get deep), often anything at all.
fn answer_for(s: &Session, node: expr::Node, rng: &mut Rng) -> Json {
    let item = s.form().item(node.item);
    if rng.chance(40) {
        return random_json(rng, 2);
    }
    let choices: Vec<String> = s
        .form()
        .choices_of(item)
        .iter()
        .map(|c| c.value.clone())
        .collect();
    match item.kind {
        ItemType::Integer | ItemType::Decimal | ItemType::Range => {
            if rng.chance(50) {
                json!(rng.below(12) as i64 - 2)
            } else {
                odd_number(rng)
            }
        }
        ItemType::SelectOne if !choices.is_empty() => json!(rng.pick(&choices)),
        ItemType::SelectMultiple if !choices.is_empty() => {
            json!(
                choices
                    .iter()
                    .filter(|_| rng.chance(50))
                    .collect::<Vec<_>>()
            )
        }
        ItemType::Date => json!(rng.pick(&[
            "2026-11-22",
            "1950-01-01",
            "2030-02-28",
            "0001-01-01",
            "9999-12-31"
        ])),
        ItemType::Time => json!(rng.pick(&["09:00", "23:59:59.999", "00:00:00"])),
        ItemType::Datetime => json!(NOW),
        ItemType::Geopoint => json!({"lat": 30.5, "lon": 114.25}),
        ItemType::Acknowledge => json!(true),
        _ => json!(odd_string(rng)),
    }
}

// ---------------------------------------------------------------------------------------------
// Driving a session with random actions.

fn instance_scopes(s: &Session) -> Vec<u32> {
    let f = s.form().clone();
    s.nodes()
        .into_iter()
        .filter(|n| f.item(n.item).kind == ItemType::Repeat)
        .flat_map(|n| s.instances(n.item, n.scope).to_vec())
        .collect()
}

/// Random actions, then every read-out; then the data read back by `resume`. Never a panic.
fn exercise(form: Rc<Form>, rng: &mut Rng, steps: usize) {
    let host = Host::fixed(NOW);
    let mut s = Session::new(form.clone(), host.clone());
    for _ in 0..steps {
        let nodes = s.nodes();
        if nodes.is_empty() {
            break;
        }
        let n = *rng.pick(&nodes);
        let _ = match rng.below(10) {
            0..=4 => {
                let value = answer_for(&s, n, rng);
                s.apply(Action::Answer { node: n, value })
            }
            5 => s.apply(Action::Clear { node: n }),
            6 | 7 => {
                let repeats: Vec<_> = nodes
                    .iter()
                    .filter(|n| form.item(n.item).kind == ItemType::Repeat)
                    .collect();
                match repeats.is_empty() {
                    true => continue,
                    false => {
                        let r = *rng.pick(&repeats);
                        s.apply(Action::AddInstance {
                            repeat: r.item,
                            parent: r.scope,
                        })
                    }
                }
            }
            8 => match instance_scopes(&s).as_slice() {
                [] => continue,
                xs => s.apply(Action::RemoveInstance {
                    instance: *rng.pick(xs),
                }),
            },
            _ => match instance_scopes(&s).as_slice() {
                [] => continue,
                xs => s.apply(Action::MoveInstance {
                    instance: *rng.pick(xs),
                    to: rng.below(5),
                }),
            },
        };
        // Nonsense actions are refused, not panicked on.
        if rng.chance(10) {
            let bogus = expr::Node {
                item: rng.next() as u32 % 100_000,
                scope: rng.next() as u32 % 1_000,
            };
            let _ = s.apply(Action::Answer {
                node: bogus,
                value: json!(1),
            });
            let _ = s.apply(Action::AddInstance {
                repeat: bogus.item,
                parent: bogus.scope,
            });
            let _ = s.apply(Action::RemoveInstance {
                instance: bogus.scope,
            });
            let _ = s.apply(Action::MoveInstance {
                instance: bogus.scope,
                to: usize::MAX,
            });
        }
    }
    for n in s.nodes() {
        let _ = s.state(n);
        let _ = s.label(n);
        let _ = s.hint(n);
        let _ = s.choices(n);
        let _ = s.path_of(n);
    }
    let _ = s.instance_name();
    let _ = s.validate();
    let _ = s.export_data();
    let data = s.data();
    let back = Session::resume(form.clone(), &data, host.clone());
    let _ = back.validate();
    // Data of any shape, as a tampered draft or bundle would bring.
    let mut junk = data.clone();
    if let Some(obj) = junk.as_object_mut() {
        let keys: Vec<String> = obj.keys().cloned().collect();
        for k in keys {
            if rng.chance(30) {
                obj.insert(k, random_json(rng, 2));
            }
        }
        if rng.chance(30) {
            obj.insert("no_such_field".into(), random_json(rng, 2));
        }
    }
    let _ = Session::resume(form.clone(), &junk, host.clone()).validate();
    let _ = Session::resume(form, &random_json(rng, 3), host).data();
}

// ---------------------------------------------------------------------------------------------
// Forms to mutate: the shipped forms and the corpus (the very large ones are left out for speed).

fn forms_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../forms")
}

fn corpus() -> &'static [(String, Json)] {
    static CORPUS: std::sync::OnceLock<Vec<(String, Json)>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut paths = Vec::new();
        let mut dirs = vec![forms_dir()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("forms/ exists").flatten() {
                let p = e.path();
                if p.is_dir() {
                    if !p.ends_with("bad") {
                        dirs.push(p);
                    }
                } else if p.to_string_lossy().ends_with(".form.json")
                    && e.metadata().is_ok_and(|m| m.len() < 100_000)
                {
                    paths.push(p);
                }
            }
        }
        paths.sort();
        let out: Vec<(String, Json)> = paths
            .into_iter()
            .filter_map(|p| {
                let text = std::fs::read_to_string(&p).ok()?;
                let json = serde_json::from_str(&text).ok()?;
                Some((p.file_name()?.to_string_lossy().into_owned(), json))
            })
            .collect();
        assert!(out.len() > 50, "the corpus has forms, found {}", out.len());
        out
    })
}

/// Every value in the document, by a path of keys and indices, for picking a mutation target.
fn paths_of(v: &Json, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(here.clone());
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                here.push(Step::Key(k.clone()));
                paths_of(x, here, out);
                here.pop();
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(Step::Index(i));
                paths_of(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn at<'a>(v: &'a mut Json, path: &[Step]) -> Option<&'a mut Json> {
    let mut cur = v;
    for s in path {
        cur = match s {
            Step::Key(k) => cur.get_mut(k.as_str())?,
            Step::Index(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

/// Pieces of expression syntax, hostile and ordinary.
const GARBAGE: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ",",
    "/",
    "=",
    "!=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    " div ",
    " mod ",
    " and ",
    " or ",
    ".",
    "..",
    "${",
    "}",
    "${x}",
    "$",
    "'",
    "\"",
    "1e5",
    "99999999999999999999999",
    "-",
    "--",
    "&&",
    "||",
    "concat(",
    "regex(.,'(a+)+$')",
    "position(..)",
    "${members}[1]",
    "/name",
    "[.]",
    "\u{0}",
    "中",
    "🙂",
    "count(",
    "indexed-repeat(",
    "jr:choice-name(., '${",
    "now()",
    "once(",
    "format-date(",
    "digest(",
];

/// One structural mutation of a form document.
fn mutate(doc: &mut Json, rng: &mut Rng) {
    let mut paths = Vec::new();
    paths_of(doc, &mut Vec::new(), &mut paths);
    let path = rng.pick(&paths).clone();
    match rng.below(8) {
        // Delete a key or an element.
        0 => {
            if let Some((last, parent)) = path.split_last()
                && let Some(p) = at(doc, parent)
            {
                match (last, p) {
                    (Step::Key(k), Json::Object(m)) => {
                        m.remove(k);
                    }
                    (Step::Index(i), Json::Array(a)) if *i < a.len() => {
                        a.remove(*i);
                    }
                    _ => {}
                }
            }
        }
        // Change a value's JSON type (or value).
        1 => {
            let new = random_json(rng, 2);
            if let Some(v) = at(doc, &path) {
                *v = new;
            }
        }
        // Duplicate an element of a list (an item, a choice: duplicate names and values).
        2 => {
            if let Some(Json::Array(a)) = at(doc, &path)
                && !a.is_empty()
            {
                let i = rng.below(a.len());
                let x = a[i].clone();
                a.insert(rng.below(a.len() + 1), x);
            }
        }
        // Garbage into a string, most often an expression.
        3 | 4 => {
            let strings: Vec<&Vec<Step>> = paths
                .iter()
                .filter(|p| matches!(p.last(), Some(Step::Key(k)) if matches!(k.as_str(),
                    "relevant" | "constraint" | "calculation" | "required" | "read_only" | "choice_filter" |
                    "count" | "default_expression" | "instance_name" | "label" | "name" | "value" | "choices")))
                .collect();
            let target = if strings.is_empty() {
                path.clone()
            } else {
                (*rng.pick(&strings)).clone()
            };
            let n = rng.below(4) + 1;
            let bits: Vec<&str> = (0..n).map(|_| *rng.pick(GARBAGE)).collect();
            let pos = rng.below(1000);
            if let Some(Json::String(s)) = at(doc, &target) {
                let mut cut = pos.min(s.len());
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.insert_str(cut, &bits.concat());
            }
        }
        // Swap two item names (references then point elsewhere, cycles may appear).
        5 => {
            let names: Vec<Vec<Step>> = paths
                .iter()
                .filter(|p| matches!(p.last(), Some(Step::Key(k)) if k == "name"))
                .cloned()
                .collect();
            if names.len() >= 2 {
                let (a, b) = (rng.pick(&names).clone(), rng.pick(&names).clone());
                let va = at(doc, &a).map(|v| v.clone());
                let vb = at(doc, &b).map(|v| v.clone());
                if let (Some(va), Some(vb)) = (va, vb) {
                    if let Some(x) = at(doc, &a) {
                        *x = vb;
                    }
                    if let Some(x) = at(doc, &b) {
                        *x = va;
                    }
                }
            }
        }
        // Deep-nest an item in groups (sometimes past the limit) or in repeats.
        6 => {
            if let Some(Json::Array(items)) = doc.get_mut("items")
                && !items.is_empty()
            {
                let i = rng.below(items.len());
                let depth = *rng.pick(&[1usize, 5, 31, 32, 33, 40]);
                let kind = if rng.chance(20) { "repeat" } else { "group" };
                let mut x = items[i].take();
                for d in 0..depth {
                    x = json!({"type": kind, "name": format!("deep_{i}_{d}"), "label": "deep", "items": [x]});
                }
                items[i] = x;
            }
        }
        // Unknown keys, and keys of another item type.
        _ => {
            let key = *rng.pick(&[
                "count",
                "min",
                "max",
                "choices",
                "items",
                "parameters",
                "data_type",
                "default",
                "foo",
                "choice_filter",
                "calculation",
                "appearance",
                "settings",
            ]);
            let value = if rng.chance(50) {
                random_json(rng, 1)
            } else {
                json!("${a} + 1")
            };
            if let Some(Json::Object(m)) = at(doc, &path) {
                m.insert(key.into(), value);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties: forms.

proptest! {
    #![proptest_config(cases(400))]

    #[test]
    fn any_bytes_load_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let r = form::load_bytes(&bytes);
        check_load(&r, std::str::from_utf8(&bytes).ok());
        prop_assert!(r.form.is_none() || bytes.len() > 20);
    }

    #[test]
    fn any_text_loads_without_panic(src in "\\PC{0,300}") {
        let r = form::load(&src);
        check_load(&r, Some(&src));
    }

    /// JSON-shaped text: the loader gets past the syntax check and meets wrong types everywhere.
    #[test]
    fn json_shaped_text_loads_without_panic(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let mut doc = json!({"format": "doorstep-form/1", "id": "f", "version": "1", "title": "t", "languages": ["en"],
            "items": [{"type": "text", "name": "a", "label": "A"}]});
        for _ in 0..rng.below(6) + 1 {
            mutate(&mut doc, &mut rng);
        }
        let src = doc.to_string();
        let r = form::load(&src);
        check_load(&r, Some(&src));
        if let Some(f) = r.form {
            exercise(Rc::new(f), &mut rng, 20);
        }
    }
}

proptest! {
    #![proptest_config(cases(300))]

    /// The shipped forms and the corpus, mutated: no panic, and a form that still loads is usable.
    #[test]
    fn mutated_corpus_forms_never_panic(which in any::<usize>(), seed in any::<u64>()) {
        let corpus = corpus();
        let (name, doc) = &corpus[which % corpus.len()];
        let mut rng = Rng::new(seed);
        let mut doc = doc.clone();
        let n = rng.below(3) + usize::from(!rng.chance(15));
        for _ in 0..n {
            mutate(&mut doc, &mut rng);
        }
        let src = if rng.chance(50) { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
        let r = form::load(&src);
        check_load(&r, Some(&src));
        if let Some(f) = r.form {
            let _ = name;
            exercise(Rc::new(f), &mut rng, 30);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties: expressions.

/// A small form with every kind of thing an expression can read.
const SMALL: &str = r#"{"format": "doorstep-form/1", "id": "small", "version": "1", "title": "Small", "languages": ["en", "zh-CN"],
  "choices": {"abc": [{"value": "a", "label": "A", "k": "1"}, {"value": "b", "label": {"en": "B", "zh-CN": "乙"}}, {"value": "c", "label": "C"}]},
  "items": [
    {"type": "integer", "name": "a", "label": "A"},
    {"type": "text", "name": "t", "label": "T"},
    {"type": "decimal", "name": "x", "label": "X"},
    {"type": "date", "name": "d", "label": "D"},
    {"type": "datetime", "name": "dt", "label": "DT"},
    {"type": "time", "name": "tm", "label": "TM"},
    {"type": "select_one", "name": "s1", "label": "S1", "choices": "abc"},
    {"type": "select_multiple", "name": "sm", "label": "SM", "choices": "abc"},
    {"type": "geopoint", "name": "g", "label": "G"},
    {"type": "repeat", "name": "r", "label": "R", "items": [
      {"type": "integer", "name": "m", "label": "M"},
      {"type": "text", "name": "name", "label": "Name"},
      {"type": "calculate", "name": "pos", "calculation": "position(..)", "data_type": "integer"},
      {"type": "repeat", "name": "rr", "label": "RR", "items": [
        {"type": "integer", "name": "y", "label": "Y"}]}]},
    {"type": "calculate", "name": "c", "calculation": "sum(${r}/m)", "data_type": "decimal"}
  ]}"#;

fn small_form() -> Rc<Form> {
    let r = form::load(SMALL);
    Rc::new(
        r.form
            .unwrap_or_else(|| panic!("the small form loads: {:?}", r.diagnostics)),
    )
}

/// A session of the small form with answers and instances (and a 1 MB text answer when `big`).
fn small_session(big: bool) -> Session {
    let f = small_form();
    let mut s = Session::new(f.clone(), Host::fixed(NOW));
    let node = |n: &str| f.node(n).unwrap();
    let answers = [
        ("a", json!(7)),
        (
            "t",
            json!(if big {
                "a".repeat(1 << 20) + "!"
            } else {
                "hello 中文 🙂".to_string()
            }),
        ),
        ("x", json!(1e300)),
        ("d", json!("2026-11-22")),
        ("dt", json!(NOW)),
        ("tm", json!("09:30:00")),
        ("s1", json!("b")),
        ("sm", json!(["a", "c"])),
        ("g", json!({"lat": 30.5, "lon": 114.25})),
    ];
    for (n, v) in answers {
        s.apply(Action::Answer {
            node: node(n),
            value: v,
        })
        .unwrap();
    }
    let r = node("r");
    for i in 0..3 {
        s.apply(Action::AddInstance {
            repeat: r.item,
            parent: 0,
        })
        .unwrap();
        let inst = s.instances(r.item, 0)[i];
        let m = f.item_by_name("m").unwrap().id;
        s.apply(Action::Answer {
            node: expr::Node {
                item: m,
                scope: inst,
            },
            value: json!(i as i64 * 10),
        })
        .unwrap();
        let rr = f.item_by_name("rr").unwrap().id;
        s.apply(Action::AddInstance {
            repeat: rr,
            parent: inst,
        })
        .unwrap();
    }
    s
}

/// The grammar's tokens, for token soup that gets past the lexer.
fn tokens() -> Vec<String> {
    let mut t: Vec<String> = [
        "(",
        ")",
        "[",
        "]",
        ",",
        "/",
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "+",
        "-",
        "*",
        "div",
        "mod",
        "and",
        "or",
        ".",
        "..",
        "${a}",
        "${t}",
        "${x}",
        "${d}",
        "${dt}",
        "${tm}",
        "${s1}",
        "${sm}",
        "${g}",
        "${r}",
        "${m}",
        "${name}",
        "${rr}",
        "${y}",
        "${c}",
        "${pos}",
        "${nope}",
        "m",
        "name",
        "y",
        "rr",
        "k",
        "1",
        "0",
        "-1",
        "0.5",
        ".5",
        "1.",
        "1e5",
        "99999999999999999999999999999999999999",
        "'x'",
        "\"y\"",
        "''",
        "'2026-01-01'",
        "'%Y-%m-%d %H:%M:%S %3 %a %b %e %n %y %h %%'",
        "'%'",
        "'(a+)+$'",
        "'['",
        "'a{999}'",
        "'SHA-256'",
        "'MD5'",
        "'hex'",
        "'${s1}'",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (name, _, _) in expr::functions() {
        t.push(format!("{name}("));
    }
    t
}

fn check_expr(s: &Session, src: &str) {
    match expr::parse(src) {
        Ok(e) => {
            for (_, sp) in e.field_refs() {
                assert!(sp.start <= sp.end && sp.end as usize <= src.len());
            }
            let _ = s.evaluate(src);
        }
        Err(errs) => {
            assert!(!errs.is_empty());
            for e in &errs {
                assert!(!e.message.is_empty(), "`{}` has no message", e.code);
                assert!(
                    e.span.start <= e.span.end && e.span.end as usize <= src.len(),
                    "span {:?} outside {src:?}",
                    e.span
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(cases(500))]

    #[test]
    fn any_expression_text_never_panics(src in "\\PC{0,120}") {
        let s = small_session(false);
        check_expr(&s, &src);
    }

    #[test]
    fn token_soup_never_panics(picks in prop::collection::vec(any::<prop::sample::Index>(), 1..40), spaces in any::<u64>()) {
        let toks = tokens();
        let mut src = String::new();
        for (i, p) in picks.iter().enumerate() {
            if spaces >> (i % 64) & 1 == 1 {
                src.push(' ');
            }
            src.push_str(p.get::<String>(&toks));
        }
        let s = small_session(false);
        check_expr(&s, &src);
        // Closing what is open makes more of the soup parse, and evaluate.
        let opens = src.matches('(').count().saturating_sub(src.matches(')').count());
        src.push_str(&")".repeat(opens));
        check_expr(&s, &src);
    }

    /// Well-formed calls with hostile arguments: every function, every argument count it takes.
    #[test]
    fn every_function_with_hostile_arguments(f in any::<prop::sample::Index>(), args in prop::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let table = expr::functions();
        let (name, min, max) = table[f.index(table.len())];
        let pool = [
            "${a}", "${t}", "${x}", "${d}", "${dt}", "${tm}", "${s1}", "${sm}", "${g}", "${r}", "${m}", "${c}",
            "1e308", "-1e308", "0", "-1", "1", "2", "99999999999999999999", "0 div 0", "1 div 0", "-(1 div 0)",
            "''", "'a'", "'-1'", "'NaN'", "'2026-02-29'", "'%Y%'", "'(a|aa)*$'", "'(?i)中'", "'\\\\'", "'x{2000000}'",
            "'SHA-512'", "'base64'", "${r}[${m} > 5]/name", "${r}[2]", "${r}[1e300]", "${r}/rr", ".", "..", "position(..)",
        ];
        let n = args.len().clamp(min, max.unwrap_or(6).max(min));
        let list: Vec<&str> = (0..n).map(|i| args.get(i).map_or(pool[0], |x| *x.get(&pool))).collect();
        let src = format!("{name}({})", list.join(", "));
        let s = small_session(false);
        check_expr(&s, &src);
        check_expr(&s, &format!("{name}({}, ${{nope}})", list.join(", ")));
    }
}

#[test]
fn hostile_expressions_answer_at_once() {
    let s = small_session(true);
    let huge = format!("1{}", "0".repeat(400));
    let cases: Vec<String> = vec![
        huge.clone(),
        format!("{huge} * {huge} - {huge}"),
        format!("{}1", "-".repeat(60)),
        format!("{}1", "- ".repeat(63)),
        format!("{}1", "-".repeat(5000)),
        format!("{}1", "1 or ".repeat(1500)),
        format!("{}1", "${{a}} + ".repeat(1500)),
        format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        format!("{}1{}", "abs(".repeat(64), ")".repeat(64)),
        "${a}[. > 1]".into(),
        "${t}[1]/m".into(),
        "${a}[${a}[${a}[1]]]".into(),
        "count(${r}[count(${r}[count(${r}) > 0]) > 0])".into(),
        "indexed-repeat(${m}, ${r}, 1e300)".into(),
        "indexed-repeat(${m}, ${r}, -1e300)".into(),
        "indexed-repeat(${m}, ${r}, 0 div 0)".into(),
        "indexed-repeat(${y}, ${r}, 2, ${rr}, 99999999999)".into(),
        "indexed-repeat(${y}, ${r}, 2, ${rr}, 1)".into(),
        "substr(${t}, -1e300, 1e300)".into(),
        "substr(${t}, 1e300)".into(),
        "substr(${t}, 0 div 0, -(1 div 0))".into(),
        "substr('中文🙂', 1, 2)".into(),
        "string-length(${t})".into(),
        "translate(${t}, 'a', 'bc')".into(),
        "normalize-space(${t})".into(),
        "format-date(${d}, '%')".into(),
        "format-date(${d}, '%%%')".into(),
        "format-date(1e300, '%Y')".into(),
        "format-date(-1e10, '%Y-%m-%d %a %b')".into(),
        "format-date(1e10, '%Y-%m-%d %a %b')".into(),
        "format-date-time(${dt}, '%H:%M:%S.%3 %q 中 🙂')".into(),
        "format-date(0 div 0, '%Y')".into(),
        "format-date('9999-12-31T23:59:59.9999999+14:00', '%Y %3')".into(),
        "date(1e300)".into(),
        "date(-1e10)".into(),
        "age('0001-01-01', '9999-12-31')".into(),
        "age(1e300)".into(),
        "decimal-date-time(${dt})".into(),
        "decimal-time('23:59:59.99999999999999')".into(),
        "digest(${t}, 'SHA-256')".into(),
        "digest(${t}, 'MD5', 'hex')".into(),
        "digest(${t}, 'sha-1', 'HEX')".into(),
        "digest(${t}, 'CRC32')".into(),
        "regex(${t}, '(a+)+$')".into(),
        "regex(${t}, '(a*)*b')".into(),
        "regex(${t}, '(a|a)*$')".into(),
        "regex(${t}, '^(([a-z])+.)+[A-Z]([a-z])+$')".into(),
        "regex(${t}, '((a{100}){100}){100}')".into(),
        "regex(${t}, 'a{4294967295}')".into(),
        "regex(${t}, '[')".into(),
        "regex(${t}, '\\\\')".into(),
        "regex(${t}, ${t})".into(),
        format!("regex(${{t}}, '{}')", "(".repeat(3000)),
        format!("regex(${{t}}, '{}a{}')", "(?:".repeat(200), ")".repeat(200)),
        "concat(${t}, ${t}, ${t})".into(),
        "join(${t}, ${r}/name)".into(),
        "round(1e308, 400)".into(),
        "round(-1e308, -400)".into(),
        "round(5e-324, 400)".into(),
        "round(123.456, 1e300)".into(),
        "pow(10, 400)".into(),
        "selected-at(${sm}, 1e300)".into(),
        "selected-at(${sm}, -1)".into(),
        "uuid(1e300)".into(),
        "uuid(-1)".into(),
        "cn-id-valid('１１０１０５１９４９１２３１００２Ｘ')".into(),
        "cn-id-valid('110105194902300020')".into(),
        "cn-id-valid(${t})".into(),
        "jr:choice-name(${s1}, '${s1}')".into(),
        "jr:choice-name(${t}, '${sm}')".into(),
        "once(now())".into(),
        "weighted-checklist(-1, 1e300, ${r}/m, ${r}/m)".into(),
        "checklist(1e300, -1, ${r}/m, 1, 0)".into(),
        "max(${r}/m, ${r}/rr/y, 1e308)".into(),
        "sum(${r}/rr/y)".into(),
        "number(${t})".into(),
        "${r}[position() = 1e300]".into(),
        "${r}[0 div 0]".into(),
        "position(${r})".into(),
        "position(..)".into(),
        "../..".into(),
        "${r}/m/rr".into(),
    ];
    for src in &cases {
        check_expr(&s, src);
    }
}

// ---------------------------------------------------------------------------------------------
// Properties: bundles.

fn bundle_bytes() -> &'static [u8] {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        let f = small_form();
        let s = small_session(false);
        let meta = Meta {
            instance_id: "uuid:aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa".into(),
            form: FormRef::of(&f),
            status: Status::Finalized,
            started_at: NOW.into(),
            updated_at: NOW.into(),
            finalized_at: Some(NOW.into()),
            device_id: "dev-1".into(),
            surveyor: "tester".into(),
            deprecated_id: None,
        };
        let sub = Submission {
            meta,
            data: s.data(),
        };
        let info = BundleInfo {
            device_id: "dev-1".into(),
            surveyor: "tester".into(),
            app_version: "0.1.0".into(),
            created_at: "2026-11-22T18:05:09+08:00".into(),
            attachments: Vec::new(),
            entropy: Vec::new(),
        };
        let b = write_bundle(&f, &[sub], &info).expect("the small bundle is written");
        assert_eq!(
            b.included.len(),
            1,
            "the small submission is valid: {:?}",
            b.refused
        );
        let back = read_bundle(&b.bytes).expect("the written bundle reads back");
        assert_eq!(back.submissions.len(), 1);
        b.bytes
    })
}

fn check_bundle(bytes: &[u8]) {
    if let Err(e) = read_bundle(bytes) {
        let msg = e.to_string();
        assert!(
            !msg.trim().is_empty(),
            "a bundle error has a message: {e:?}"
        );
    }
    if let Ok(r) = bundle::BundleReader::open(bytes) {
        for line in r.submissions() {
            let _ = line;
        }
    }
}

/// Offsets of the ZIP records (local headers, central directory entries, end of central directory),
/// whose size and offset fields are the interesting places to tamper with.
fn zip_fields(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(4) {
        match &b[i..i + 4] {
            b"PK\x03\x04" => out.extend([i + 14, i + 18, i + 22, i + 26, i + 28]),
            b"PK\x01\x02" => out.extend([i + 16, i + 20, i + 24, i + 28, i + 30, i + 32, i + 42]),
            b"PK\x05\x06" => out.extend([i + 8, i + 10, i + 12, i + 16, i + 20]),
            _ => {}
        }
    }
    out.retain(|&o| o + 4 <= b.len());
    out
}

proptest! {
    #![proptest_config(cases(300))]

    #[test]
    fn any_bytes_as_a_bundle_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        prop_assert!(read_bundle(&bytes).is_err());
        check_bundle(&bytes);
    }

    #[test]
    fn tampered_bundles_never_panic(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let mut b = bundle_bytes().to_vec();
        let fields = zip_fields(&b);
        for _ in 0..rng.below(3) + 1 {
            match rng.below(6) {
                0 => {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
                1 => {
                    let n = rng.below(b.len() + 1);
                    b.truncate(n);
                }
                2 => {
                    let n = rng.below(100);
                    for _ in 0..n {
                        b.push(rng.next() as u8);
                    }
                }
                3 => {
                    let i = rng.below(b.len() + 1);
                    let extra = bundle_bytes()[..rng.below(bundle_bytes().len())].to_vec();
                    b.splice(i.min(b.len())..i.min(b.len()), extra);
                }
                _ => {
                    let Some(&at) = fields.get(rng.below(fields.len())) else { continue };
                    if at + 4 > b.len() {
                        continue;
                    }
                    let len = b.len() as u32;
                    let any = rng.next() as u32;
                    let v = *rng.pick(&[0u32, 1, 0xFFFF, 0xFFFF_FFFF, 0x7FFF_FFFF, len, len.wrapping_sub(1), len + 1, any]);
                    let width = if rng.chance(50) { 2 } else { 4 };
                    b[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
                }
            }
        }
        check_bundle(&b);
    }
}

// ---------------------------------------------------------------------------------------------
// The deepest inputs, on a small stack.

/// Runs `f` on a thread with a 512 KiB stack: half of what the app has in wasm.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(f)
        .expect("a thread starts")
        .join()
        .expect("no stack overflow or panic on a 512 KiB stack");
}

/// The deepest expression of each shape that still parses, with its depth (found by trying).
fn deepest_expressions() -> Vec<(String, String)> {
    type Shape = fn(usize) -> String;
    let shapes: [(&str, Shape); 7] = [
        ("parentheses", |n| {
            format!("{}${{a}}{}", "(".repeat(n), ")".repeat(n))
        }),
        ("calls", |n| {
            format!("{}${{a}}{}", "abs(".repeat(n), ")".repeat(n))
        }),
        ("unary minus", |n| format!("{}${{a}}", "-".repeat(n))),
        // Every precedence level inside each parenthesis: the deepest trees for their nesting.
        ("operators", |n| {
            format!(
                "{}1{}",
                "1 or 1 and 1 = 1 < 1 + 1 * -(".repeat(n),
                ")".repeat(n)
            )
        }),
        ("predicates", |n| {
            format!(
                "count(${{r}}{}{})",
                "[count(${r}".repeat(n),
                ") > 0]".repeat(n)
            )
        }),
        ("if", |n| {
            format!("{}1{}", "if(true(), ".repeat(n), ", 0)".repeat(n))
        }),
        ("concat", |n| {
            format!("{}'x'{}", "concat('a', ".repeat(n), ")".repeat(n))
        }),
    ];
    let mut out = Vec::new();
    for (what, shape) in shapes {
        let deepest = (1..200)
            .take_while(|&n| expr::parse(&shape(n)).is_ok())
            .last()
            .unwrap_or(0);
        assert!(
            deepest > 0,
            "{what}: even one level is refused: {:?}",
            expr::parse(&shape(1)).err()
        );
        assert!(expr::parse(&shape(deepest + 1)).is_err());
        out.push((format!("{what} x{deepest}"), shape(deepest)));
    }
    out
}

#[test]
fn deepest_accepted_inputs_fit_a_small_stack() {
    on_small_stack(|| {
        // Expressions: the deepest of each shape parses, evaluates and resolves in a session.
        let s = small_session(false);
        let deep = deepest_expressions();
        for (what, src) in &deep {
            s.evaluate(src)
                .unwrap_or_else(|e| panic!("{what} evaluates: {e:?}"));
        }
        // Items nested 32 deep (the limit), the innermost with every deepest expression.
        let shallow: Vec<&(String, String)> = deep
            .iter()
            .filter(|(w, _)| !w.starts_with("predicates"))
            .collect();
        let mut inner = json!({"type": "integer", "name": "a", "label": "A"});
        let mut leaf_items = vec![inner.take()];
        for (i, (_, src)) in shallow.iter().enumerate() {
            leaf_items
                .push(json!({"type": "calculate", "name": format!("k{i}"), "calculation": src}));
            leaf_items.push(
                json!({"type": "text", "name": format!("q{i}"), "label": "Q", "relevant": src,
                "constraint": src, "constraint_message": "no"}),
            );
        }
        let mut item = json!({"type": "group", "name": "g31", "label": "G", "items": leaf_items});
        for d in (1..31).rev() {
            let kind = if d % 8 == 1 { "repeat" } else { "group" };
            item = json!({"type": kind, "name": format!("g{d}"), "label": "G", "items": [item]});
        }
        let doc = json!({"format": "doorstep-form/1", "id": "deep", "version": "1", "title": "Deep", "languages": ["en"],
            "items": [item]});
        let src = doc.to_string();
        let r = form::load(&src);
        assert!(
            r.form.is_some(),
            "32 levels of items load: {:?}",
            r.diagnostics
                .iter()
                .filter(|d| d.is_error())
                .collect::<Vec<_>>()
        );
        let f = Rc::new(r.form.unwrap());
        let mut rng = Rng::new(7);
        exercise(f, &mut rng, 40);

        // One level more is refused, with the place.
        let mut over = doc.clone();
        let mut cur = &mut over["items"][0];
        while cur["items"][0]["type"] != json!("integer") {
            cur = &mut cur["items"][0];
        }
        let leaf = cur["items"].take();
        cur["items"] = json!([{"type": "group", "name": "g32", "label": "G", "items": leaf}]);
        let r = form::load(&over.to_string());
        assert!(
            r.errors()
                .any(|d| d.code == "form/too-deep" && !d.path.is_empty()),
            "{:?}",
            r.diagnostics
        );

        // Past the limits: refused at once, never a stack overflow.
        for src in [
            format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
            format!("{}1", "-".repeat(9_999)),
            format!("{}1", "(".repeat(9_999)),
            format!("{}1{}", "abs(".repeat(2_000), ")".repeat(2_000)),
            format!("${{r}}{}", "[1]".repeat(3_000)),
            format!("${{r}}{}", "/m".repeat(3_000)),
            format!(
                "{}1{}",
                "1 or 1 and 1 = 1 < 1 + 1 * -(".repeat(300),
                ")".repeat(300)
            ),
        ] {
            assert!(expr::parse(&src).is_err());
            let doc = json!({"format": "doorstep-form/1", "id": "d", "version": "1", "title": "D", "languages": ["en"],
                "items": [{"type": "calculate", "name": "k", "calculation": src}]});
            let r = form::load(&doc.to_string());
            assert!(
                r.errors().any(|d| d.path == "items[0].calculation"),
                "{:?}",
                r.diagnostics.first()
            );
        }

        // JSON as deep as serde_json accepts, in every place, and one level deeper.
        let deepest_json = (1..1000)
            .take_while(|&n| {
                serde_json::from_str::<Json>(&format!("{}{}", "[".repeat(n), "]".repeat(n))).is_ok()
            })
            .last()
            .unwrap();
        for n in [
            deepest_json - 8,
            deepest_json - 1,
            deepest_json,
            deepest_json + 1,
            100_000,
        ] {
            let nest = |inner: &str, n: usize| format!("{}{inner}{}", "[".repeat(n), "]".repeat(n));
            let objs = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
            for src in [
                nest("", n),
                objs(n),
                format!(
                    r#"{{"format": "doorstep-form/1", "id": "d", "version": "1", "title": {}, "languages": ["en"], "items": []}}"#,
                    nest("1", n.saturating_sub(1))
                ),
                format!(
                    r#"{{"format": "doorstep-form/1", "id": "d", "version": "1", "title": "t", "languages": ["en"], "items": [{{"type": "text", "name": "a", "label": {}}}]}}"#,
                    objs(n.saturating_sub(4))
                ),
                format!(
                    r#"{{"format": "doorstep-form/1", "id": "d", "version": "1", "title": "t", "languages": ["en"], "items": [{{"type": "text", "name": "a", "label": "A", "foo": {}}}]}}"#,
                    nest("", n.saturating_sub(4))
                ),
                format!(
                    r#"{{"format": "doorstep-form/1", "id": "d", "version": "1", "title": "t", "languages": ["en"], "items": {}}}"#,
                    nest("", n.saturating_sub(2))
                ),
            ] {
                let r = form::load(&src);
                check_load(&r, Some(&src));
                assert!(r.form.is_none());
            }
        }
        // Items nested as deep as the JSON allows.
        let mut items = String::from(r#"{"type": "text", "name": "leaf", "label": "L"}"#);
        for d in 0..(deepest_json / 2 - 2) {
            items = format!(r#"{{"type": "group", "name": "n{d}", "items": [{items}]}}"#);
        }
        let src = format!(
            r#"{{"format": "doorstep-form/1", "id": "d", "version": "1", "title": "t", "languages": ["en"], "items": [{items}]}}"#
        );
        let r = form::load(&src);
        assert!(
            r.errors().any(|d| d.code == "form/too-deep"),
            "{:?}",
            r.diagnostics.first()
        );

        // Answers as deep as JSON allows, into every question and into resume.
        let s = small_session(false);
        let f = s.form().clone();
        let deep_answer: Json = serde_json::from_str(&format!(
            "{}{}",
            "[".repeat(deepest_json),
            "]".repeat(deepest_json)
        ))
        .unwrap();
        let mut s2 = Session::new(f.clone(), Host::fixed(NOW));
        for n in s2.nodes() {
            let _ = s2.apply(Action::Answer {
                node: n,
                value: deep_answer.clone(),
            });
        }
        let data = json!({"a": deep_answer.clone(), "t": deep_answer.clone(), "r": [deep_answer.clone(), {"m": deep_answer.clone()}]});
        let _ = Session::resume(f, &data, Host::fixed(NOW)).validate();
    });
}

/// Forms right at the limits (the corpus's own) load and run on the small stack too.
#[test]
fn corpus_forms_at_the_limits_fit_a_small_stack() {
    on_small_stack(|| {
        for name in [
            "validation/13-at-the-limits.form.json",
            "validation/16-long-dependency-chain.form.json",
        ] {
            let p = forms_dir().join("spec").join(name);
            let src =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let r = form::load(&src);
            let f = Rc::new(
                r.form
                    .unwrap_or_else(|| panic!("{name} loads: {:?}", r.diagnostics.first())),
            );
            let mut s = Session::new(f.clone(), Host::fixed(NOW));
            if let Some(a) = f.item_by_name("a") {
                let _ = s.apply(Action::Answer {
                    node: expr::Node {
                        item: a.id,
                        scope: 0,
                    },
                    value: json!(3),
                });
            }
            let _ = s.validate();
            let _ = Session::resume(f, &s.data(), Host::fixed(NOW));
        }
    });
}
