//! The engine benchmark behind `cargo xtask bench`: load, answer, validate and roster growth on a
//! generated form, with the engine's memory counted by a wrapping allocator.
//!
//! Usage: `cargo run --profile bench-native -p doorstep-core --example bench -- [N] [R]`.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use doorstep_core::expr::Node;
use doorstep_core::form::{self, model::ItemType};
use doorstep_core::generator::{GenOptions, generate};
use doorstep_core::session::{Action, Host, Session};
use serde_json::json;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// Counting needs a global allocator, which is unsafe by nature: it only counts and forwards to System.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        CURRENT.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() {
            let now = CURRENT.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            CURRENT.fetch_sub(l.size() - new, Ordering::Relaxed);
        }
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Time this thread has spent on a CPU (Linux `schedstat`), so that a busy machine's waiting for a core
/// can be told apart from the engine's own work.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace()
        .next()?
        .parse()
        .ok()
        .map(Duration::from_nanos)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 1.0 {
        format!("{:.1} µs", ms * 1e3)
    } else {
        format!("{ms:.1} ms")
    }
}

fn fill_member(s: &mut Session, inst: u32, i: usize) {
    let form = s.form().clone();
    let answers = [
        ("m_name", json!(format!("成员{i}"))),
        (
            "m_sex",
            json!(if i.is_multiple_of(2) {
                "male"
            } else {
                "female"
            }),
        ),
        (
            "m_birth",
            json!(format!(
                "{}-0{}-1{}",
                1950 + (i * 7) % 70,
                1 + i % 9,
                i % 10
            )),
        ),
        (
            "m_disabled",
            json!(if i.is_multiple_of(7) { "yes" } else { "no" }),
        ),
        ("m_income", json!((i * 1300) % 40000)),
    ];
    for (name, v) in answers {
        let item = form.item_by_name(name).unwrap().id;
        s.apply(Action::Answer {
            node: Node { item, scope: inst },
            value: v,
        })
        .unwrap();
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(5000);
    let r = args.get(1).copied().unwrap_or(100);
    let src = generate(GenOptions {
        questions: n,
        page_size: 20,
        seed: 7,
    });
    println!(
        "generated form: {n} questions + roster of {r} members x 8 questions ({} KiB of JSON)",
        src.len() / 1024
    );

    // Load and check.
    let mut loads = Vec::new();
    let mut load_cpu = Vec::new();
    for _ in 0..15 {
        let c = cpu_time();
        let t = Instant::now();
        let r = form::load(&src);
        loads.push(t.elapsed());
        if let (Some(a), Some(b)) = (c, cpu_time()) {
            load_cpu.push(b - a);
        }
        assert!(r.form.is_some(), "the generated form loads");
    }
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let f = Rc::new(form::load(&src).form.unwrap());
    let host = Host::fixed("2026-11-22T09:00:00+08:00");
    let mut s = Session::new(f.clone(), host.clone());

    // Answers on the top-level questions, each with its re-evaluation.
    let answerable: Vec<Node> = f
        .level_items(None)
        .iter()
        .filter(|&&i| {
            matches!(
                f.item(i).kind,
                ItemType::Integer | ItemType::Decimal | ItemType::Text | ItemType::SelectOne
            )
        })
        .map(|&i| Node { item: i, scope: 0 })
        .collect();
    let mut answers = Vec::with_capacity(answerable.len());
    for (k, &node) in answerable.iter().enumerate() {
        let value = match f.item(node.item).kind {
            ItemType::Text => json!(format!("答案 {k}")),
            ItemType::SelectOne => json!(if k % 3 == 0 { "no" } else { "yes" }),
            _ => json!((k * 37) % 9),
        };
        let t = Instant::now();
        s.apply(Action::Answer { node, value }).unwrap();
        answers.push(t.elapsed());
    }
    // Changing early answers touches the most dependents: measure those too.
    let mut rechanges = Vec::new();
    for (k, &node) in answerable.iter().enumerate().take(500) {
        if !f.item(node.item).kind.is_numeric() {
            continue;
        }
        let t = Instant::now();
        s.apply(Action::Answer {
            node,
            value: json!((k * 13 + 5) % 9),
        })
        .unwrap();
        rechanges.push(t.elapsed());
    }

    // The roster: 99 members, then the 100th timed (on clones, so every run adds the same 100th).
    let members = f.node("members").unwrap();
    for i in 0..r.saturating_sub(1) {
        s.apply(Action::AddInstance {
            repeat: members.item,
            parent: 0,
        })
        .unwrap();
        let inst = *s.instances(members.item, 0).last().unwrap();
        fill_member(&mut s, inst, i);
    }
    let mut adds = Vec::new();
    for _ in 0..21 {
        let mut c = s.clone();
        let t = Instant::now();
        c.apply(Action::AddInstance {
            repeat: members.item,
            parent: 0,
        })
        .unwrap();
        adds.push(t.elapsed());
    }
    s.apply(Action::AddInstance {
        repeat: members.item,
        parent: 0,
    })
    .unwrap();
    let inst = *s.instances(members.item, 0).last().unwrap();
    fill_member(&mut s, inst, r);
    let memory = PEAK.load(Ordering::Relaxed) - base;

    let mut validations = Vec::new();
    let mut problems = 0;
    for _ in 0..21 {
        let t = Instant::now();
        problems = s.validate().len();
        validations.push(t.elapsed());
    }
    let mut resumes = Vec::new();
    let data = s.data();
    for _ in 0..5 {
        let t = Instant::now();
        let again = Session::resume(f.clone(), &data, host.clone());
        let _ = again.validate();
        resumes.push(t.elapsed());
    }

    let rows = [
        (
            "load and check the form (wall clock)",
            ms(median(loads)),
            "≤ 40 ms",
        ),
        (
            "load and check the form (on-CPU time)",
            if load_cpu.is_empty() {
                "n/a".into()
            } else {
                ms(median(load_cpu))
            },
            "",
        ),
        (
            "one answer with its re-evaluation (median)",
            ms(median(answers.clone())),
            "≤ 0.1 ms",
        ),
        (
            "one answer, 95th percentile",
            ms({
                let mut a = answers;
                a.sort();
                a[a.len() * 95 / 100]
            }),
            "",
        ),
        (
            "changing an early answer again (median)",
            ms(median(rechanges)),
            "",
        ),
        (
            "full validation",
            format!("{} ({problems} problems)", ms(median(validations))),
            "≤ 5 ms",
        ),
        (
            &*format!("adding roster member {r}"),
            ms(median(adds)),
            "≤ 1 ms",
        ),
        (
            "stored submission: resume + validate",
            ms(median(resumes)),
            "",
        ),
        (
            "engine memory (form + session, peak)",
            format!("{:.1} MB", memory as f64 / 1e6),
            "≤ 30 MB",
        ),
    ];
    let load_avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load_avg = load_avg.split_whitespace().next().unwrap_or("?");
    println!(
        "\nload average {load_avg} on {} cores while measuring",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("\n| measure (N={n}, R={r}) | result | target |\n| --- | --- | --- |");
    for (a, b, c) in rows {
        println!("| {a} | {b} | {c} |");
    }
}
