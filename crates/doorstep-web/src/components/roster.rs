//! A roster (repeat): a compact list of members, each opening its own page; add, remove (after a
//! confirmation) and reorder. Count-driven repeats only list their members.
//!
//! Speed (docs/benchmarks.md, "App speed"): the list stays mounted while a member's page is shown (the
//! fill screen hides it), each row is its own component with plain props, so adding a member renders
//! one new row (and the previous last row, whose "move down" turns on) instead of the whole list. A row
//! re-renders only when its member's label can have changed (one of the member's text answers, or,
//! for answers typed on its page, when that page is left).
//!
//! A count-driven repeat whose count asked for more than its `max` says so in a status line
//! announced to screen readers.

use std::rc::Rc;

use doorstep_core::expr::{ItemId, Node};
use doorstep_core::form::RepeatCount;
use doorstep_core::form::model::ItemType;
use doorstep_core::session::Action;
use yew::prelude::*;

use super::confirm::Confirm;
use super::fill_screen::go;
use super::warm::{use_warm_date_fields, use_warm_member_page};
use super::{Ctl, use_topics};
use crate::filling::{MAX_SHOWN_INSTANCES, Topic};
use crate::i18n::{Lang, nth_member};
use crate::nav::Pos;
use crate::services::interviews;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub item: ItemId,
    pub scope: u32,
    pub lang: Lang,
    pub page_title: bool,
}

fn act(ctl: &Ctl, action: Action) -> Result<(), String> {
    let r = ctl.0.borrow_mut().apply(action);
    match r {
        Ok((cbs, next)) => {
            Ctl::run(cbs);
            interviews::autosave(ctl, next);
            Ok(())
        }
        Err(e) => Err(e.message),
    }
}

/// Re-renders the roster when its node or its list of instances changes; while `DEFER_LIST` is set
/// (adding a member, whose page then hides the list) only after the next paint.
#[hook]
fn use_roster_topics(ctl: &Ctl, node: Node) {
    let update = use_force_update();
    let ctl = ctl.clone();
    use_effect_with(node, move |&node| {
        let ids: Vec<(Topic, u64)> = {
            let mut f = ctl.0.borrow_mut();
            [Topic::Node(node), Topic::Repeat(node)]
                .into_iter()
                .map(|t| {
                    let u = update.clone();
                    let cb = move || {
                        if DEFER_LIST.with(|d| d.get()) {
                            let u = u.clone();
                            after_paint(move || u.force_update());
                        } else {
                            u.force_update()
                        }
                    };
                    (t, f.subscribe(t, Rc::new(cb)))
                })
                .collect()
        };
        move || {
            if let Ok(mut f) = ctl.0.try_borrow_mut() {
                for (t, id) in ids {
                    f.unsubscribe(t, id);
                }
            }
        }
    });
}

/// Runs `f` in a task after the next frame is painted.
fn after_paint(f: impl FnOnce() + 'static) {
    super::next_frame(move || {
        gloo::timers::callback::Timeout::new(0, f).forget();
    });
}

thread_local! {
    /// Set while a member is being added (see `use_roster_topics`).
    static DEFER_LIST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[function_component(Roster)]
pub fn roster(p: &Props) -> Html {
    let node = Node {
        item: p.item,
        scope: p.scope,
    };
    use_roster_topics(&p.ctl, node);
    let computed = {
        let f = p.ctl.0.borrow();
        matches!(f.form.item(p.item).count, RepeatCount::Expr(_))
    };
    // The engine reports the repeat as changed when what it was capped at changes, and the roster
    // re-renders on that (`use_roster_topics`).
    let capped = computed.then(|| p.ctl.0.borrow().capped(node)).flatten();
    use_warm_date_fields(&p.ctl, p.item);
    let warm = use_warm_member_page(&p.ctl, node, p.lang);
    let confirm = use_state(|| None::<u32>);
    let problem = use_state(|| None::<String>);
    let t = p.lang.t();
    let f = p.ctl.0.borrow();
    let st = f.session.state(node);
    if !st.relevant {
        return html! {};
    }
    let item = f.form.item(p.item);
    let free = matches!(item.count, RepeatCount::Free);
    let max = item.max_instances() as usize;
    let label = f.session.label(node);
    // A roster directly inside a page (a top-level group) of the same title is not titled twice
    // ("家庭成员" under "家庭成员").
    let titled_by_page = item.parent.is_some_and(|g| {
        f.form.item(g).parent.is_none()
            && f.session.label(Node {
                item: g,
                scope: p.scope,
            }) == label
    });
    let name = item.name.clone();
    let instances = f.session.instances(p.item, p.scope);
    let total = instances.len();
    let page = f.pos.page;
    let shown = total.min(MAX_SHOWN_INSTANCES);
    let rows = instances[..shown].iter().enumerate().map(|(i, &inst)| {
        html! {
            <MemberRow key={inst} ctl={p.ctl.clone()} repeat={p.item} {inst} index={i} last={i + 1 == total} {free} {page}
                lang={p.lang} ask_remove={confirm.setter()} />
        }
    });
    let rows: Html = rows.collect();
    let error = f.shown_error(node).or_else(|| (*problem).clone());
    drop(f);

    let add = {
        let ctl = p.ctl.clone();
        let problem = problem.clone();
        let (repeat, parent) = (p.item, p.scope);
        Callback::from(move |_: MouseEvent| {
            // The list is hidden behind the new member's page: it catches up after that page is painted.
            DEFER_LIST.with(|d| d.set(true));
            let added = act(&ctl, Action::AddInstance { repeat, parent });
            DEFER_LIST.with(|d| d.set(false));
            match added {
                Ok(()) => {
                    if problem.is_some() {
                        problem.set(None);
                    }
                    let inst = ctl
                        .0
                        .borrow()
                        .session
                        .instances(repeat, parent)
                        .last()
                        .copied();
                    if let Some(inst) = inst {
                        go(
                            &ctl,
                            Pos {
                                page,
                                member: Some(inst),
                            },
                        );
                    }
                }
                Err(m) => problem.set(Some(m)),
            }
        })
    };
    let add_label = crate::i18n::add_to(p.lang, &crate::markdown::plain(&label));
    let dialog = confirm.map(|inst| {
        let who = {
            let f = p.ctl.0.borrow();
            let idx = f.session.instances(p.item, p.scope).iter().position(|&s| s == inst);
            let roster = crate::markdown::plain(&label);
            match f.member_label(p.item, inst) {
                Some(who) => format!("{roster} · {who}"),
                None => crate::i18n::nth_member(p.lang, &roster, idx.map_or(1, |i| i + 1)),
            }
        };
        let ctl = p.ctl.clone();
        let confirm_yes = confirm.clone();
        let confirm_no = confirm.clone();
        let on_yes = Callback::from(move |_| {
            let _ = act(&ctl, Action::RemoveInstance { instance: inst });
            confirm_yes.set(None);
        });
        html! { <Confirm text={crate::i18n::confirm_remove_named(p.lang, &who)} yes={t.remove} no={t.cancel} {on_yes} on_no={Callback::from(move |_| confirm_no.set(None))} /> }
    });
    html! {
        <section class="roster-box" data-name={name.clone()}>
            if !p.page_title && !titled_by_page && !label.is_empty() { <h3>{ super::question::rich(label) }</h3> }
            // Mounted empty, so that the message is announced when it appears.
            if computed {
                <div role="status" data-testid="capped">
                    if let Some(c) = capped { <p class="notice warn">{ crate::i18n::capped(p.lang, &c) }</p> }
                </div>
            }
            <ul class="roster" data-repeat={name.clone()} data-count={total.to_string()}>{ rows }</ul>
            if total > MAX_SHOWN_INSTANCES { <p class="muted">{ format!("… +{}", total - MAX_SHOWN_INSTANCES) }</p> }
            if free && total < max {
                <button class="btn block" onclick={add} data-testid="add-member" data-add-repeat={name.clone()}>{ format!("+ {add_label}") }</button>
            }
            <div class="q-error" aria-live="polite">{ error.unwrap_or_default() }</div>
            { dialog.unwrap_or_default() }
            { warm }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct RowProps {
    ctl: Ctl,
    repeat: ItemId,
    inst: u32,
    index: usize,
    last: bool,
    free: bool,
    page: usize,
    lang: Lang,
    ask_remove: UseStateSetter<Option<u32>>,
}

/// One member of the list: its name (the first answered text question) and its buttons.
#[function_component(MemberRow)]
fn member_row(p: &RowProps) -> Html {
    // The member's text questions name it: the row re-renders when one of them changes.
    let topics = {
        let f = p.ctl.0.borrow();
        f.form
            .level_items(Some(p.repeat))
            .iter()
            .filter(|&&i| f.form.item(i).kind == ItemType::Text)
            .map(|&i| {
                Topic::Node(Node {
                    item: i,
                    scope: p.inst,
                })
            })
            .chain([Topic::Left(p.inst)])
            .collect::<Vec<_>>()
    };
    use_topics(&p.ctl, topics);
    let t = p.lang.t();
    let (i, inst, page) = (p.index, p.inst, p.page);
    let name = {
        let f = p.ctl.0.borrow();
        f.member_label(p.repeat, inst).unwrap_or_else(|| {
            let roster = f
                .session
                .instance_parent(inst)
                .map(|(item, scope)| f.session.label(Node { item, scope }))
                .unwrap_or_default();
            nth_member(p.lang, &roster, i + 1)
        })
    };
    let open = {
        let ctl = p.ctl.clone();
        Callback::from(move |_: MouseEvent| {
            go(
                &ctl,
                Pos {
                    page,
                    member: Some(inst),
                },
            )
        })
    };
    let mover = |to: usize| {
        let ctl = p.ctl.clone();
        Callback::from(move |_: MouseEvent| {
            let _ = act(&ctl, Action::MoveInstance { instance: inst, to });
        })
    };
    let ask_remove = {
        let setter = p.ask_remove.clone();
        Callback::from(move |_: MouseEvent| setter.set(Some(inst)))
    };
    html! {
        <li data-member={i.to_string()} data-inst={inst.to_string()}>
            <button class="who" onclick={open} aria-label={format!("{}: {}", t.open, name)}>{ format!("{}. {}", i + 1, name) }</button>
            if p.free {
                <button class="iconbtn" onclick={mover(i.saturating_sub(1))} disabled={i == 0} aria-label={format!("{}: {}", t.move_up, name)}>{ "↑" }</button>
                <button class="iconbtn" onclick={mover(i + 1)} disabled={p.last} aria-label={format!("{}: {}", t.move_down, name)}>{ "↓" }</button>
                <button class="iconbtn danger" onclick={ask_remove} aria-label={format!("{}: {}", t.remove, name)}>{ "✕" }</button>
            }
        </li>
    }
}
