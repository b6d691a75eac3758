//! How long the office's re-validation of one stored household submission takes: `Session::resume` +
//! `validate`, on `household_needs` filled by a scenario. Usage:
//! `cargo run --profile bench-native -p doorstep-core --example validate_bench [SCENARIO]`.

use std::rc::Rc;
use std::time::Instant;

use doorstep_core::form;
use doorstep_core::session::{Action, Host, Session};
use serde_json::Value as Json;

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../forms/");
    let scenario = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("{root}spec/household_needs/01-family-in-crisis.scenario.json"));
    let f = Rc::new(
        form::load(&std::fs::read_to_string(format!("{root}household_needs.form.json")).unwrap())
            .form
            .unwrap(),
    );
    let sc: Json = serde_json::from_str(&std::fs::read_to_string(&scenario).unwrap()).unwrap();
    let host = Host::fixed(sc["now"].as_str().unwrap_or("2026-11-23T10:00:00+08:00"));
    let mut s = Session::new(f.clone(), host.clone());
    for step in sc["steps"].as_array().unwrap() {
        if let Some(a) = step["answer"].as_object() {
            for (p, v) in a {
                if let Some(n) = s.find(p) {
                    let _ = s.apply(Action::Answer {
                        node: n,
                        value: v.clone(),
                    });
                }
            }
        }
        if let Some(p) = step["add"].as_str() {
            let n = s.find(p).unwrap();
            s.apply(Action::AddInstance {
                repeat: n.item,
                parent: n.scope,
            })
            .unwrap();
        }
    }
    let data = s.data();
    let members = data["members"].as_array().map_or(0, Vec::len);
    let runs: u32 = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3000);
    let t = Instant::now();
    let mut problems = 0;
    for _ in 0..runs {
        let again = Session::resume(f.clone(), &data, host.clone());
        problems += again.validate().len();
    }
    let per = t.elapsed() / runs;
    println!(
        "household_needs with {members} members: resume + validate {per:?} per submission ({} problems)",
        problems / runs as usize
    );
}
