//! Unit tests of the parser's errors and spans, the limits against hostile input, and the static
//! analysis that the loader builds the dependency graph from. (Evaluation is covered by the table in
//! `tests/expr_cases.rs`.)

use std::time::{Duration, Instant};

use super::*;

fn errors(src: &str) -> Vec<ExprError> {
    match parse(src) {
        Ok(_) => panic!("`{src}` parsed, expected errors"),
        Err(e) => e,
    }
}

fn sp(start: u32, end: u32) -> Span {
    Span { start, end }
}

fn codes(errs: &[ExprError]) -> Vec<&'static str> {
    errs.iter().map(|e| e.code).collect()
}

#[test]
fn collects_every_error_with_its_span() {
    let src = "foo(1) + if(1, 2) + sumx(${a}) + (3 + )";
    let errs = errors(src);
    assert_eq!(
        codes(&errs),
        [
            "expr/unknown-function",
            "expr/arity",
            "expr/unknown-function",
            "expr/syntax"
        ]
    );
    assert_eq!(errs[0].span, sp(0, 3));
    assert_eq!(&src[9..17], "if(1, 2)");
    assert_eq!(errs[1].span, sp(9, 17));
    assert_eq!(errs[1].message, "`if` takes 3 arguments, found 2");
    assert_eq!(errs[2].span, sp(20, 24));
    assert!(
        errs[2].message.contains("did you mean `sum`"),
        "{}",
        errs[2].message
    );
    assert_eq!(&src[38..39], ")");
    assert_eq!(errs[3].span, sp(38, 39));
    assert_eq!(
        errs[3].message,
        "expected a value (a number, a string, ${name}, a function call or `(`), found `)`"
    );
}

#[test]
fn errors_after_a_syntax_error_are_still_found() {
    let errs = errors("concat('a' 'b', nope(1), if(1))");
    assert_eq!(
        codes(&errs),
        ["expr/syntax", "expr/unknown-function", "expr/arity"]
    );
    assert_eq!(errs[0].span, sp(11, 14));
    assert!(
        errs[0].message.starts_with("expected `,` or `)`")
            || errs[0].message.starts_with("expected an operator")
    );

    let errs = errors("1 + ) + bad(2) + ${x");
    assert!(codes(&errs).contains(&"expr/unknown-function"), "{errs:?}");
    assert_eq!(
        errs.iter().filter(|e| e.code == "expr/syntax").count(),
        2,
        "{errs:?}"
    );
}

#[test]
fn lexer_errors_point_at_the_character() {
    let errs = errors("${age} & 1");
    assert_eq!(errs[0].span, sp(7, 8));
    assert_eq!(errs[0].message, "unexpected character `&` (write `and`)");
    let errs = errors("'abc");
    assert_eq!(errs[0].span, sp(0, 4));
    assert!(errs[0].message.starts_with("unterminated string"));
    let errs = errors("${my field} = 1");
    assert_eq!(errs[0].span, sp(0, 11));
    // Multi-byte characters: spans are byte offsets and stay on character boundaries.
    let errs = errors("'王' ‘x’");
    assert_eq!(errs[0].span, sp(6, 9));
    assert!(errs[0].message.contains("straight quotes"));
}

#[test]
fn unclosed_parenthesis_and_predicate() {
    let errs = errors("(1 + 2");
    assert_eq!(
        errs[0].message,
        "expected `)` (opened at byte 0), found the end of the expression"
    );
    assert_eq!(errs[0].span, sp(6, 6));
    let errs = errors("${m}[x > 1");
    assert!(
        errs[0]
            .message
            .starts_with("expected `]` to close the predicate")
    );
}

#[test]
fn spans_of_references() {
    let e = parse("${a} + count(${rep}[x > ${b}]/y) + jr:choice-name(${c}, '${q}')").unwrap();
    let refs = e.field_refs();
    let names: Vec<&str> = refs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "rep", "b", "c", "q"]);
    let src = e.source();
    for (name, span) in &refs {
        assert_eq!(
            &src[span.start as usize..span.end as usize],
            format!("${{{name}}}")
        );
    }
    let bare = e.bare_names();
    assert_eq!(bare.len(), 2);
    assert_eq!((bare[0].0.as_str(), bare[0].2), ("x", true));
    assert_eq!((bare[1].0.as_str(), bare[1].2), ("y", true));
    assert_eq!(&src[bare[1].1.start as usize..bare[1].1.end as usize], "y");

    let e = parse("province = ${p} and name != ''").unwrap();
    let bare: Vec<(String, bool)> = e.bare_names().into_iter().map(|(n, _, p)| (n, p)).collect();
    assert_eq!(
        bare,
        [("province".to_string(), false), ("name".to_string(), false)]
    );
}

#[test]
fn resolve_and_deps() {
    let mut e = parse(
        "sum(${rep}[kind = 'cash']/amount) + ${a} + ${a} + jr:choice-name(${a}, '${q}') + ${zzz}",
    )
    .unwrap();
    let mut bare_calls = Vec::new();
    e.resolve(
        &mut |n| match n {
            "rep" => Some(10),
            "a" => Some(1),
            "q" => Some(7),
            _ => None,
        },
        &mut |n, rep| {
            bare_calls.push((n.to_string(), rep));
            match n {
                "kind" => Some(11),
                "amount" => Some(12),
                _ => None,
            }
        },
    );
    assert_eq!(
        bare_calls,
        [
            ("kind".to_string(), Some(10)),
            ("amount".to_string(), Some(10))
        ]
    );
    // The question of jr:choice-name is a reference (for name checks) but not a dependency.
    assert_eq!(e.deps(), [10, 11, 12, 1]);
}

#[test]
fn position_now_volatility() {
    assert!(parse("position(..) + 1").unwrap().uses_position());
    assert!(!parse("count(${x})").unwrap().uses_position());
    let e = parse("once(now()) + now() + if(1, once(concat(now(), '')), today())").unwrap();
    let spans = e.uses_now_outside_once();
    assert_eq!(spans, [sp(14, 19)]);
    assert!(e.is_volatile());
    assert!(parse("random()").unwrap().is_volatile());
    assert!(parse("uuid()").unwrap().is_volatile());
    assert!(!parse("${a} + 1").unwrap().is_volatile());
}

#[test]
fn list_check_messages() {
    let mut e = parse("${m} + 1").unwrap();
    e.resolve(&mut |_| Some(3), &mut |_, _| None);
    let errs = e.check_lists(&|i| i == 3, false);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, "expr/list-as-value");
    assert_eq!(errs[0].span, sp(0, 4));
    assert!(
        errs[0].message.contains("`${m}` is a list"),
        "{}",
        errs[0].message
    );
    assert!(errs[0].message.contains("sum()"));
}

#[test]
fn functions_table() {
    let f = functions();
    assert!(f.len() >= 60);
    assert!(f.contains(&("if", 3, Some(3))));
    assert!(f.contains(&("jr:choice-name", 2, Some(2))));
    assert!(f.contains(&("concat", 0, None)));
}

fn quick<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{what} took {:?}",
        t.elapsed()
    );
    out
}

#[test]
fn hostile_nesting() {
    // 10,000 nested parentheses: over the length limit, refused before parsing.
    let src = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let errs = quick("10,000 parentheses", || errors(&src));
    assert_eq!(codes(&errs), ["expr/too-long"]);
    // Within the length limit, the nesting limit stops the parser at once.
    let src = format!("{}1{}", "(".repeat(4_999), ")".repeat(4_999));
    let errs = quick("4,999 parentheses", || errors(&src));
    assert_eq!(codes(&errs), ["expr/too-deep"]);
    let src = format!("{}1", "-".repeat(9_000));
    assert_eq!(
        codes(&quick("unary minus", || errors(&src))),
        ["expr/too-deep"]
    );
    let src = format!("${{a}}{}", "[1]".repeat(3_000));
    assert_eq!(
        codes(&quick("predicates", || errors(&src))),
        ["expr/too-deep"]
    );
    let src = format!("{}1{}", "not(".repeat(1_900), ")".repeat(1_900));
    assert_eq!(codes(&quick("calls", || errors(&src))), ["expr/too-deep"]);
    let src = format!("{}1{}", "if(1, 2, ".repeat(900), ")".repeat(900));
    assert_eq!(codes(&quick("ifs", || errors(&src))), ["expr/too-deep"]);
    // Unbalanced garbage of every kind, within the length limit.
    let src = "([(,]".repeat(1_900);
    quick("garbage", || errors(&src));
    // 64 levels are fine, 65 are not.
    let ok = format!("{}1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&ok).is_ok());
    let deep = format!(
        "{}1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(codes(&errors(&deep)), ["expr/too-deep"]);
}

#[test]
fn long_but_flat_expressions_are_fine() {
    // A long sum is not deep: it is one flat chain, evaluated without recursion per term.
    let src = vec!["1"; 4_999].join("+");
    let e = quick("flat sum", || parse(&src)).unwrap();
    let v = eval(&e, &Null, Node { item: 0, scope: 0 });
    assert_eq!(v, Value::Num(4_999.0));
}

#[test]
fn hostile_literals() {
    let src = format!("'{}'", "x".repeat(1 << 20));
    let errs = quick("1 MB literal", || errors(&src));
    assert_eq!(codes(&errs), ["expr/too-long"]);
    assert_eq!(errs[0].span, sp(0, src.len() as u32));
    // Counted in characters, not bytes.
    assert!(parse(&format!("'{}'", "王".repeat(9_000))).is_ok());
}

#[test]
fn hostile_regex() {
    struct Long;
    impl Env for Long {
        fn field(&self, _: ItemId, _: Node) -> Value {
            Value::from("a".repeat(200_000))
        }
        fn child(&self, _: Node, _: ItemId) -> Value {
            Value::empty()
        }
        fn node_value(&self, _: Node) -> Value {
            Value::empty()
        }
        fn position(&self, _: Node) -> usize {
            1
        }
        fn parent(&self, n: Node) -> Node {
            n
        }
        fn clock(&self) -> Clock {
            Clock {
                utc_millis: 0,
                offset_minutes: 0,
            }
        }
        fn random(&self) -> f64 {
            0.0
        }
        fn uuid(&self) -> String {
            String::new()
        }
        fn choice_label(&self, _: ItemId, _: &str) -> Option<String> {
            None
        }
    }
    let ctx = Node { item: 0, scope: 0 };
    for pattern in ["(a*)*b", "(a|a)*b", "(a+)+$x", "^(a|aa)+$b"] {
        let mut e = parse(&format!("regex(${{x}}, '{pattern}')")).unwrap();
        e.resolve(&mut |_| Some(1), &mut |_, _| None);
        let v = quick(pattern, || eval(&e, &Long, ctx));
        assert_eq!(v, Value::Bool(false), "{pattern}");
    }
    // A pattern whose compiled form is huge is refused, not built.
    let e = parse("regex('a', 'a{1000}{1000}')").unwrap();
    let (v, diags) = quick("huge pattern", || eval_with_diagnostics(&e, &Long, ctx));
    assert_eq!(v, Value::empty());
    assert_eq!(diags[0].code, "expr/runtime");
}

struct Null;

impl Env for Null {
    fn field(&self, _: ItemId, _: Node) -> Value {
        Value::empty()
    }
    fn child(&self, _: Node, _: ItemId) -> Value {
        Value::empty()
    }
    fn node_value(&self, _: Node) -> Value {
        Value::empty()
    }
    fn position(&self, _: Node) -> usize {
        1
    }
    fn parent(&self, n: Node) -> Node {
        n
    }
    fn clock(&self) -> Clock {
        Clock {
            utc_millis: 0,
            offset_minutes: 0,
        }
    }
    fn random(&self) -> f64 {
        0.0
    }
    fn uuid(&self) -> String {
        String::new()
    }
    fn choice_label(&self, _: ItemId, _: &str) -> Option<String> {
        None
    }
}

#[test]
fn never_panics_on_odd_input() {
    let ctx = Node { item: 0, scope: 0 };
    for src in [
        "",
        " ",
        "(",
        ")",
        "[",
        "]",
        ",",
        "/",
        ".",
        "..",
        "$",
        "${",
        "${}",
        "'",
        "\"",
        "-",
        "--",
        "a(",
        "a)",
        "1 +",
        "and",
        "or or or",
        "div",
        "1 div",
        "mod mod",
        "jr:choice-name(1, 2)",
        "indexed-repeat(1, 2, 3)",
        "${a}/",
        "${a}[",
        "${a}]",
        "../",
        "./x",
        "..[1]",
        "\u{0}",
        "王",
        "1..2",
        "1.2.3",
        "'a'b'c'",
    ] {
        if let Ok(e) = parse(src) {
            let _ = eval(&e, &Null, ctx);
        }
    }
}
