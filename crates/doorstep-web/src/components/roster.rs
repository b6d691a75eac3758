//! A roster (repeat): a compact list of members, each opening its own page; add, remove (after a
//! confirmation) and reorder. Count-driven repeats only list their members.

use doorstep_core::expr::{ItemId, Node};
use doorstep_core::form::RepeatCount;
use doorstep_core::session::Action;
use yew::prelude::*;

use super::confirm::Confirm;
use super::fill_screen::go;
use super::rich_text::RichText;
use super::{Ctl, use_topic};
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

#[function_component(Roster)]
pub fn roster(p: &Props) -> Html {
    let node = Node { item: p.item, scope: p.scope };
    use_topic(&p.ctl, Topic::Node(node));
    use_topic(&p.ctl, Topic::Repeat(node));
    // Member names come from their answers, which change on other pages only; re-read on any change
    // while the roster is on screen (it is a short list of names).
    use_topic(&p.ctl, Topic::Any);
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
    let name = item.name.clone();
    let instances = f.session.instances(p.item, p.scope).to_vec();
    let total = instances.len();
    let page = f.pos.page;
    let names: Vec<String> = instances
        .iter()
        .take(MAX_SHOWN_INSTANCES)
        .enumerate()
        .map(|(i, &inst)| f.member_label(p.item, inst).unwrap_or_else(|| nth_member(p.lang, i + 1)))
        .collect();
    let error = f.shown_error(node).or_else(|| (*problem).clone());
    drop(f);

    let add = {
        let ctl = p.ctl.clone();
        let problem = problem.clone();
        let (repeat, parent) = (p.item, p.scope);
        Callback::from(move |_: MouseEvent| match act(&ctl, Action::AddInstance { repeat, parent }) {
            Ok(()) => {
                problem.set(None);
                let inst = ctl.0.borrow().session.instances(repeat, parent).last().copied();
                if let Some(inst) = inst {
                    go(&ctl, Pos { page, member: Some(inst) });
                }
            }
            Err(m) => problem.set(Some(m)),
        })
    };
    let rows = instances.iter().take(MAX_SHOWN_INSTANCES).zip(names).enumerate().map(|(i, (&inst, name))| {
        let open = {
            let ctl = p.ctl.clone();
            Callback::from(move |_: MouseEvent| go(&ctl, Pos { page, member: Some(inst) }))
        };
        let mover = |to: usize| {
            let ctl = p.ctl.clone();
            Callback::from(move |_: MouseEvent| {
                let _ = act(&ctl, Action::MoveInstance { instance: inst, to });
            })
        };
        let ask_remove = {
            let confirm = confirm.clone();
            Callback::from(move |_: MouseEvent| confirm.set(Some(inst)))
        };
        html! {
            <li key={inst} data-member={i.to_string()}>
                <button class="who" onclick={open} aria-label={format!("{}: {}", t.open, name)}>{ format!("{}. {}", i + 1, name) }</button>
                if free {
                    <button class="iconbtn" onclick={mover(i.saturating_sub(1))} disabled={i == 0} aria-label={format!("{}: {}", t.move_up, name)}>{ "↑" }</button>
                    <button class="iconbtn" onclick={mover(i + 1)} disabled={i + 1 == total} aria-label={format!("{}: {}", t.move_down, name)}>{ "↓" }</button>
                    <button class="iconbtn danger" onclick={ask_remove} aria-label={format!("{}: {}", t.remove, name)}>{ "✕" }</button>
                }
            </li>
        }
    });
    let dialog = confirm.map(|inst| {
        let ctl = p.ctl.clone();
        let confirm_yes = confirm.clone();
        let confirm_no = confirm.clone();
        let on_yes = Callback::from(move |_| {
            let _ = act(&ctl, Action::RemoveInstance { instance: inst });
            confirm_yes.set(None);
        });
        html! { <Confirm text={t.confirm_remove_member} yes={t.remove} no={t.cancel} {on_yes} on_no={Callback::from(move |_| confirm_no.set(None))} /> }
    });
    html! {
        <section class="roster-box" data-name={name.clone()}>
            if !p.page_title && !label.is_empty() { <h3><RichText text={AttrValue::from(label)} /></h3> }
            <ul class="roster" data-repeat={name.clone()} data-count={total.to_string()}>{ for rows }</ul>
            if total > MAX_SHOWN_INSTANCES { <p class="muted">{ format!("… +{}", total - MAX_SHOWN_INSTANCES) }</p> }
            if free && total < max {
                <button class="btn block" onclick={add} data-testid="add-member" data-add-repeat={name.clone()}>{ format!("+ {}", t.add_member) }</button>
            }
            <div class="q-error" aria-live="assertive">{ error.unwrap_or_default() }</div>
            { dialog.unwrap_or_default() }
        </section>
    }
}
