//! Resuming a stored submission keeps what `once()` captured, whatever the clock says now.

use std::rc::Rc;

use doorstep_core::form;
use doorstep_core::session::{Host, Session};

#[test]
fn once_values_survive_a_resume_at_another_time() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../forms/spec/calculations/40-once-survives-resume.form.json")).unwrap();
    let f = Rc::new(form::load(&src).form.unwrap());
    let first = Session::new(f.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
    let data = first.data();
    assert_eq!(data["stamp"], "2026-11-22T09:00:00.000+08:00");
    let mut later = Host::fixed("2026-12-01T10:00:00+08:00");
    later.seed = 99;
    let again = Session::resume(f, &data, later);
    assert_eq!(again.data(), data);
}
