//! The review: every problem as a link to its question, a summary of the answers, and finalize (refused
//! while any problem is left).

use doorstep_core::expr::Node;
use doorstep_core::form::model::ItemType;
use serde_json::Value as Json;
use yew::prelude::*;

use super::app::AppCtx;
use super::save_bar::SaveBar;
use super::{Ctl, use_topic};
use crate::filling::{Filling, Topic};
use crate::i18n::{Strings, n_problems};
use crate::nav::pos_of;
use crate::services::interviews;
use crate::state::{Screen, Tab};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: AppCtx,
    pub ctl: Ctl,
}

/// Answers in document order: (depth, label, shown value, node).
fn summary(f: &Filling, t: &Strings) -> Vec<(usize, String, String, Node)> {
    fn walk(
        f: &Filling,
        t: &Strings,
        items: &[u32],
        scope: u32,
        depth: usize,
        out: &mut Vec<(usize, String, String, Node)>,
    ) {
        for &i in items {
            let item = f.form.item(i);
            let node = Node { item: i, scope };
            if !item.kind.is_shown() || !f.session.state(node).relevant {
                continue;
            }
            match item.kind {
                ItemType::Group => walk(f, t, &item.children, scope, depth, out),
                ItemType::Repeat => {
                    for (k, &inst) in f.session.instances(i, scope).iter().enumerate() {
                        let who = f.member_label(i, inst).unwrap_or_default();
                        out.push((
                            depth,
                            format!(
                                "{} {}",
                                crate::markdown::plain(&f.session.label(node)),
                                k + 1
                            ),
                            who,
                            Node {
                                item: i,
                                scope: inst,
                            },
                        ));
                        walk(f, t, &item.children, inst, depth + 1, out);
                    }
                }
                ItemType::Note => {}
                _ => {
                    if let Some(v) = f.session.answer(node) {
                        let shown = match v {
                            Json::String(s) => {
                                let fl = f.session.language();
                                f.session
                                    .choices(node)
                                    .iter()
                                    .find(|c| &c.value == s)
                                    .map(|c| c.label.get(fl, f.form.default_language()).to_string())
                                    .unwrap_or_else(|| s.clone())
                            }
                            Json::Array(a) => {
                                let fl = f.session.language();
                                let choices = f.session.choices(node);
                                a.iter()
                                    .filter_map(|x| x.as_str())
                                    .map(|v| {
                                        choices
                                            .iter()
                                            .find(|c| c.value == v)
                                            .map(|c| {
                                                c.label
                                                    .get(fl, f.form.default_language())
                                                    .to_string()
                                            })
                                            .unwrap_or_else(|| v.to_string())
                                    })
                                    .collect::<Vec<_>>()
                                    .join(t.list_sep)
                            }
                            // A photo, signature or recording: that it is there (its file name
                            // is the app's, not the surveyor's).
                            Json::Object(o) if o.contains_key("file") => t.attached.to_string(),
                            Json::Object(o) if o.contains_key("lat") => format!(
                                "{}, {}",
                                o["lat"],
                                o.get("lon").cloned().unwrap_or_default()
                            ),
                            Json::Number(n) => crate::i18n::number_text(n),
                            other => other.to_string(),
                        };
                        out.push((
                            depth,
                            crate::markdown::plain(&f.session.label(node)),
                            shown,
                            node,
                        ));
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    let top = f.form.top.clone();
    walk(f, t, &top, 0, 0, &mut out);
    out
}

#[function_component(ReviewScreen)]
pub fn review_screen(p: &Props) -> Html {
    use_topic(&p.ctl, Topic::Any);
    let lang = p.ctx.lang();
    let t = lang.t();
    let refused = use_state(|| p.ctl.0.borrow().finalize_refused);
    let busy = use_state(|| false);
    // The review starts at its top (problems first), not where the page before it was scrolled.
    use_effect_with((), |_| {
        gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
    });
    let f = p.ctl.0.borrow();
    let problems = f.session.validate();
    let rows = summary(&f, t);
    let links: Vec<(String, String, Node)> = problems
        .iter()
        .map(|pr| {
            let mut label = if (pr.node.item as usize) < f.form.items.len() {
                crate::markdown::plain(&f.session.label(pr.node))
            } else {
                String::new()
            };
            // A question asked of every member says whose answer it is ("年龄" alone, once per
            // member, did not).
            if pr.node.scope != 0 {
                label = format!("{} · {label}", f.members_of(pr.node, lang));
            }
            (label, pr.message.clone(), pr.node)
        })
        .collect();
    drop(f);

    let goto = |node: Node| {
        let ctx = p.ctx.clone();
        let ctl = p.ctl.clone();
        Callback::from(move |_: MouseEvent| {
            let pos = {
                let f = ctl.0.borrow();
                if node.item as usize >= f.form.items.len() {
                    return;
                }
                // A problem on a roster itself (too few members) shows where the roster is: its
                // node lives in the member holding it (`node.scope`), as any question there.
                pos_of(&f.form, &f.pages, &f.session, node)
            };
            super::fill_screen::go(&ctl, pos);
            ctx.go(Screen::Fill);
            // Bring the question into view once the page has rendered.
            let id = format!("{}-box", super::question::dom_id(node));
            gloo::timers::callback::Timeout::new(80, move || {
                if let Some(el) = gloo::utils::document().get_element_by_id(&id) {
                    el.scroll_into_view();
                    if let Ok(Some(input)) = el.query_selector("input, select, textarea, button") {
                        use wasm_bindgen::JsCast;
                        if let Some(h) = input.dyn_ref::<web_sys::HtmlElement>() {
                            let _ = h.focus();
                        }
                    }
                }
            })
            .forget();
        })
    };
    let finalize = {
        let ctx = p.ctx.clone();
        let ctl = p.ctl.clone();
        let refused = refused.clone();
        let busy = busy.clone();
        Callback::from(move |_: MouseEvent| {
            let ctx = ctx.clone();
            let ctl = ctl.clone();
            let refused = refused.clone();
            let busy = busy.clone();
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match interviews::finalize(&ctl).await {
                    Ok(()) => {
                        ctx.close_interview(Screen::Tab(Tab::Finalized));
                        ctx.say(false, ctx.lang().t().finalized_ok);
                    }
                    Err(_) => {
                        refused.set(true);
                        busy.set(false);
                        // The refusal and the problems are at the top of the screen.
                        gloo::utils::window().scroll_to_with_x_and_y(0.0, 0.0);
                    }
                }
            });
        })
    };
    let back = {
        let ctx = p.ctx.clone();
        Callback::from(move |_: MouseEvent| ctx.go(Screen::Fill))
    };
    html! {
        <>
            <SaveBar ctx={p.ctx.clone()} ctl={p.ctl.clone()} lang={lang} />
            <main class="screen">
                // What another window did, or a failure, until the surveyor leaves the screen.
                { super::app::notice(&p.ctx.state.notice) }
                <h2 class="page-title">{ t.review }</h2>
                if *refused && !links.is_empty() { <div class="notice error" role="alert">{ t.finalize_refused }</div> }
                if links.is_empty() {
                    <div class="notice ok" role="status">{ t.no_problems }</div>
                } else {
                    <section class="card problems" aria-labelledby="problems-h">
                        <h3 id="problems-h">{ format!("{} · {}", t.problems, n_problems(lang, links.len())) }</h3>
                        <ul class="list">
                            { for links.iter().map(|(label, msg, node)| html! {
                                <li><button class="link" onclick={goto(*node)} data-testid="problem-link">
                                    { if label.is_empty() { msg.clone() } else { format!("{label}: {msg}") } }
                                </button></li>
                            }) }
                        </ul>
                    </section>
                }
                <section class="card">
                    <h3>{ t.answers }</h3>
                    <dl class="answers">
                        { for rows.iter().map(|(depth, label, value, node)| html! {
                            <>
                                <dt style={format!("margin-left:{}px", depth * 12)}>
                                    <button class="link" style="color:inherit;padding:4px 0;min-height:44px;min-width:44px" onclick={goto(*node)}>{ label.clone() }</button>
                                </dt>
                                <dd style={format!("margin-left:{}px", depth * 12)}>{ value.clone() }</dd>
                            </>
                        }) }
                    </dl>
                </section>
            </main>
            <nav class="navbar">
                <button class="btn" onclick={back}>{ t.previous }</button>
                <button class="btn primary" onclick={finalize} disabled={*busy} data-testid="finalize">{ t.finalize }</button>
            </nav>
        </>
    }
}
