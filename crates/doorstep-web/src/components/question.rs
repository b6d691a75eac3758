//! One question: its label, hint, widget for its type, and its message. It re-renders only when the
//! engine reports that this node's shown state changed (the per-question update store).

use doorstep_core::expr::Node;
use doorstep_core::form::model::ItemType;
use doorstep_core::session::Action;
use serde_json::{Value as Json, json};
use yew::prelude::*;

use super::barcode::ScanButton;
use super::geopoint::Geopoint;
use super::media::Media;
use super::rich_text::RichText;
use super::{Ctl, use_topic};
use crate::filling::{Topic, Typed};
use crate::i18n::Lang;
use crate::services::interviews;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub node: Node,
    pub lang: Lang,
}

/// Applies an answer (or clears it when `None`) and hands the result to the autosave.
pub fn answer(ctl: &Ctl, node: Node, value: Option<Json>) -> Result<(), String> {
    answer_from(ctl, node, value, false)
}

/// The same for what was typed into a field that shows it already: the field re-renders only if
/// something besides its value changed (`Filling::apply_typed`).
fn answer_typed(ctl: &Ctl, node: Node, value: Option<Json>) -> Result<(), String> {
    answer_from(ctl, node, value, true)
}

fn answer_from(ctl: &Ctl, node: Node, value: Option<Json>, typed: bool) -> Result<(), String> {
    let action = match value {
        Some(v) => Action::Answer { node, value: v },
        None => Action::Clear { node },
    };
    let r = {
        let mut f = ctl.0.borrow_mut();
        f.session.set_clock(crate::services::device::clock());
        if typed {
            f.apply_typed(action)
        } else {
            f.apply(action)
        }
    };
    match r {
        Ok((cbs, next)) => {
            Ctl::run(cbs);
            interviews::autosave(ctl, next);
            Ok(())
        }
        Err(e) => Err(e.message),
    }
}

pub fn dom_id(node: Node) -> String {
    format!("q{}-{}", node.item, node.scope)
}

#[function_component(Question)]
pub fn question(p: &Props) -> Html {
    use_topic(&p.ctl, Topic::Node(p.node));
    let t = p.lang.t();
    let node = p.node;
    let f = p.ctl.0.borrow();
    let item = f.form.item(node.item);
    let st = f.session.state(node);
    if !st.relevant {
        return html! {};
    }
    let kind = item.kind;
    let appearance = item.doc.appearance.clone().unwrap_or_default();
    let label = f.session.label(node);
    let hint = f.session.hint(node);
    let value = f.session.answer(node).cloned();
    let read_only = st.read_only || item.is_computed();
    // What the surveyor typed that is not the answer ("12a" in a number, a count held until the
    // field is left) stays on screen, with why, in the language shown now.
    let raw = f.typed.get(&node).map(|typed| {
        let why = match (&typed.refused, typed_parser(kind)(&typed.text, p.lang)) {
            // The engine's words are for developers ("expected a date YYYY-MM-DD").
            (Some(_), _)
                if matches!(kind, ItemType::Date | ItemType::Time | ItemType::Datetime) =>
            {
                t.not_a_date.to_string()
            }
            (Some(refused), _) => refused.clone(),
            (None, Err(msg)) => msg,
            (None, Ok(_)) => {
                let who: Vec<String> = typed
                    .removes
                    .iter()
                    .map(|&(_, i)| f.member_title(i, p.lang))
                    .collect();
                crate::i18n::removes_on_leaving(p.lang, &who)
            }
        };
        (typed.text.clone(), why)
    });
    let error = raw
        .as_ref()
        .map(|(_, why)| why.clone())
        .or_else(|| f.shown_error(node));
    let choices: Vec<(String, String)> =
        if matches!(kind, ItemType::SelectOne | ItemType::SelectMultiple) {
            let fl = f.session.language().to_string();
            let dl = f.form.default_language().to_string();
            f.session
                .choices(node)
                .into_iter()
                .map(|c| (c.value.clone(), c.label.get(&fl, &dl).to_string()))
                .collect()
        } else {
            Vec::new()
        };
    let params = item.doc.parameters.clone();
    let instance_id = f.meta.instance_id.clone();
    let name = AttrValue::from(item.name.clone());
    drop(f);

    let id = dom_id(node);
    let err_id = format!("{id}-err");
    let hint_id = format!("{id}-hint");
    let ctl = p.ctl.clone();

    // Every text-like input commits on each keystroke: the autosave then has it within 300 ms.
    let commit_text = |parse: Parser| {
        let ctl = ctl.clone();
        let lang = p.lang;
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            commit(&ctl, node, el.value(), parse(&el.value(), lang));
        })
    };
    // A count held while it was typed is answered when the field is left (blur, enter).
    let leave = {
        let ctl = ctl.clone();
        let parse = typed_parser(kind);
        let lang = p.lang;
        Callback::from(move |_: Event| {
            let held = ctl
                .0
                .borrow()
                .typed
                .get(&node)
                .filter(|t| !t.removes.is_empty())
                .map(|t| t.text.clone());
            if let Some(text) = held
                && let Ok(v) = parse(&text, lang)
            {
                ctl.0.borrow_mut().typed.remove(&node);
                let _ = answer(&ctl, node, v);
                Ctl::run(ctl.0.borrow().subscribers(Topic::Node(node)));
            }
        })
    };
    let text_value = |v: &Option<Json>| -> String {
        if let Some((r, _)) = &raw {
            return r.clone();
        }
        match v {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Number(n)) => crate::i18n::number_text(n),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    };
    // The hint, and the message while there is one (screen readers read both on the input).
    let described = match (hint.is_empty(), error.is_some()) {
        (true, false) => None,
        (true, true) => Some(err_id.clone()),
        (false, false) => Some(hint_id.clone()),
        (false, true) => Some(format!("{hint_id} {err_id}")),
    };
    let invalid = error.is_some().then_some("true");
    let required = st.required.then_some("true");

    let widget = match kind {
        ItemType::Note => html! {},
        ItemType::Text | ItemType::Barcode if appearance.contains("multiline") => {
            let ctl = ctl.clone();
            let oninput = Callback::from(move |e: InputEvent| {
                let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
                let v = el.value();
                let _ = answer_typed(&ctl, node, (!v.is_empty()).then_some(Json::String(v)));
            });
            html! { <textarea id={id.clone()} value={text_value(&value)} {oninput} readonly={read_only}
            aria-invalid={invalid} aria-required={required} aria-describedby={described.clone()} maxlength="10000" /> }
        }
        ItemType::Text => html! {
            <input id={id.clone()} type="text" value={text_value(&value)} oninput={commit_text(parse_text)} readonly={read_only}
                aria-invalid={invalid} aria-required={required} aria-describedby={described.clone()} autocomplete="off" maxlength="10000" />
        },
        ItemType::Barcode => html! {
            <>
                <input id={id.clone()} type="text" value={text_value(&value)} oninput={commit_text(parse_text)} readonly={read_only}
                    aria-invalid={invalid} aria-required={required} aria-describedby={described.clone()} autocomplete="off" maxlength="10000" />
                if !read_only { <ScanButton ctl={ctl.clone()} node={node} lang={p.lang} id={AttrValue::from(id.clone())} /> }
            </>
        },
        ItemType::Integer => html! {
            <input id={id.clone()} type="text" inputmode="numeric" pattern="-?[0-9]*" value={text_value(&value)}
                oninput={commit_text(parse_integer)} onchange={leave.clone()} readonly={read_only} aria-invalid={invalid} aria-required={required} aria-describedby={described.clone()} autocomplete="off" />
        },
        ItemType::Decimal => html! {
            <input id={id.clone()} type="text" inputmode="decimal" value={text_value(&value)}
                oninput={commit_text(parse_decimal)} onchange={leave} readonly={read_only} aria-invalid={invalid} aria-required={required} aria-describedby={described.clone()} autocomplete="off" />
        },
        ItemType::Date => html! {
            <input id={id.clone()} type="date" value={text_value(&value)} oninput={commit_text(parse_text)} readonly={read_only}
                aria-invalid={invalid} aria-required={required} aria-describedby={described.clone()} />
        },
        ItemType::Time => {
            let shown = text_value(&value).chars().take(5).collect::<String>();
            html! { <input id={id.clone()} type="time" value={shown} oninput={commit_text(parse_time)} readonly={read_only}
            aria-invalid={invalid} aria-required={required} aria-describedby={described.clone()} /> }
        }
        ItemType::Datetime => {
            let shown = text_value(&value).chars().take(16).collect::<String>();
            html! { <input id={id.clone()} type="datetime-local" value={shown} oninput={commit_text(parse_datetime)} readonly={read_only}
            aria-invalid={invalid} aria-required={required} aria-describedby={described.clone()} /> }
        }
        ItemType::SelectOne if appearance.contains("minimal") => {
            let current = value
                .as_ref()
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let ctl = ctl.clone();
            let onchange = Callback::from(move |e: Event| {
                let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
                let v = el.value();
                let _ = answer(&ctl, node, (!v.is_empty()).then_some(Json::String(v)));
            });
            // A list that changes (a village list after another township was chosen) gets a new
            // element: the old one kept its selected place, and showed a village of the new list
            // that nobody chose, beside the message that the chosen one is no longer offered.
            let offered: Vec<&str> = choices.iter().map(|(v, _)| v.as_str()).collect();
            let chosen = offered.contains(&current.as_str());
            html! {
                <select key={offered.join(" ")} id={id.clone()} {onchange} disabled={read_only} aria-invalid={invalid} aria-required={required} aria-describedby={described.clone()}>
                    <option value="" selected={!chosen}>{ t.choose }</option>
                    { for choices.iter().map(|(v, l)| html! { <option value={v.clone()} selected={*v == current}>{ l.clone() }</option> }) }
                </select>
            }
        }
        ItemType::SelectOne => {
            let current = value
                .as_ref()
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let class = if appearance.contains("likert") {
                "opts likert"
            } else {
                "opts"
            };
            html! {
                <div class={class} role="radiogroup" aria-labelledby={format!("{id}-label")} aria-describedby={described.clone()}
                    aria-invalid={invalid} aria-required={required}>
                    { for choices.iter().map(|(v, l)| {
                        let checked = *v == current;
                        let ctl = ctl.clone();
                        let val = v.clone();
                        let onclick = Callback::from(move |_: MouseEvent| {
                            // Choosing the chosen option again clears it (there is no other way to undo a radio).
                            let next = if checked { None } else { Some(Json::String(val.clone())) };
                            let _ = answer(&ctl, node, next);
                        });
                        html! {
                            <label class={classes!("opt", checked.then_some("checked"))} key={v.clone()}>
                                <input type="radio" name={id.clone()} value={v.clone()} checked={checked} {onclick} disabled={read_only} />
                                <span>{ l.clone() }</span>
                            </label>
                        }
                    }) }
                </div>
            }
        }
        ItemType::SelectMultiple => {
            let current: Vec<String> = value
                .as_ref()
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let order: Vec<String> = choices.iter().map(|(v, _)| v.clone()).collect();
            html! {
                <div class="opts" role="group" aria-labelledby={format!("{id}-label")} aria-describedby={described.clone()}>
                    { for choices.iter().map(|(v, l)| {
                        let checked = current.contains(v);
                        let ctl = ctl.clone();
                        let val = v.clone();
                        let order = order.clone();
                        let onchange = Callback::from(move |e: Event| {
                            // The answer as it is now, not as it was drawn: two boxes ticked before
                            // a re-render (index.html's takeover clicks them in one go) both count.
                            let mut next: Vec<String> = ctl.0.borrow().session.answer(node).and_then(|v| v.as_array())
                                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                                .unwrap_or_default();
                            let tick = e.target_dyn_into::<web_sys::HtmlInputElement>().map_or(!checked, |i| i.checked());
                            next.retain(|x| *x != val);
                            if tick { next.push(val.clone()) }
                            // Stored in list order, as the format asks.
                            doorstep_core::sort::sort_by_key(&mut next, |x| order.iter().position(|o| o == x).unwrap_or(usize::MAX));
                            let v = (!next.is_empty()).then(|| json!(next));
                            let _ = answer(&ctl, node, v);
                        });
                        html! {
                            <label class={classes!("opt", checked.then_some("checked"))} key={v.clone()}>
                                <input type="checkbox" value={v.clone()} checked={checked} {onchange} disabled={read_only} />
                                <span>{ l.clone() }</span>
                            </label>
                        }
                    }) }
                </div>
            }
        }
        ItemType::Acknowledge => {
            let checked = value == Some(Json::Bool(true));
            let ctl = ctl.clone();
            let onchange = Callback::from(move |_: Event| {
                let _ = answer(&ctl, node, (!checked).then_some(Json::Bool(true)));
            });
            html! {
                <label class={classes!("opt", checked.then_some("checked"))}>
                    <input id={id.clone()} type="checkbox" checked={checked} {onchange} disabled={read_only} />
                    <span>{ t.ok_box }</span>
                </label>
            }
        }
        ItemType::Range => {
            let (start, end, step) = params
                .map(|r| (r.start, r.end, r.step))
                .unwrap_or((0.0, 10.0, 1.0));
            let current = value.as_ref().and_then(|v| v.as_f64());
            let as_answer = move |x: f64| {
                if x.fract() == 0.0 && step.fract() == 0.0 {
                    json!(x as i64)
                } else {
                    json!(x)
                }
            };
            let oninput = {
                let ctl = ctl.clone();
                Callback::from(move |e: InputEvent| {
                    let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                    if let Ok(x) = el.value().parse::<f64>() {
                        let _ = answer(&ctl, node, Some(as_answer(x)));
                    }
                })
            };
            // An unanswered slider sits at its start, where dragging fires no input: a tap on it
            // (or a change back to where it was) answers the value it shows.
            let settle = {
                let ctl = ctl.clone();
                move |el: web_sys::HtmlInputElement| {
                    let unanswered = ctl.0.borrow().session.answer(node).is_none();
                    if let (true, Ok(x)) = (unanswered, el.value().parse::<f64>()) {
                        let _ = answer(&ctl, node, Some(as_answer(x)));
                    }
                }
            };
            let onclick = {
                let settle = settle.clone();
                Callback::from(move |e: MouseEvent| settle(e.target_unchecked_into()))
            };
            let onchange = Callback::from(move |e: Event| settle(e.target_unchecked_into()));
            html! {
                <div class={classes!("range-row", current.is_none().then_some("unanswered"))}>
                    <input id={id.clone()} type="range" min={start.to_string()} max={end.to_string()} step={step.to_string()}
                        value={current.unwrap_or(start).to_string()} {oninput} {onclick} {onchange} disabled={read_only}
                        aria-valuetext={current.is_none().then_some(t.not_answered)} aria-describedby={described.clone()} />
                    <output for={id.clone()} class="calc">{ current.map(|c| c.to_string()).unwrap_or_else(|| t.not_answered.into()) }</output>
                </div>
            }
        }
        // Its button and two fields are named by their own words, in a group named by the question.
        ItemType::Geopoint => html! {
            <div role="group" aria-labelledby={format!("{id}-label")} aria-describedby={described.clone()}>
                <Geopoint ctl={ctl.clone()} node={node} lang={p.lang} value={value.clone()} read_only={read_only} />
            </div>
        },
        // Its buttons ("take a photo", "clear", a signature's pad) likewise: the group says which
        // question a "clear" belongs to, and reads the hint with them.
        ItemType::Image | ItemType::Audio | ItemType::Video | ItemType::File => html! {
            <div role="group" aria-labelledby={format!("{id}-label")} aria-describedby={described.clone()}>
                <Media ctl={ctl.clone()} node={node} lang={p.lang} value={value.clone()} read_only={read_only}
                    kind={kind.as_str()} signature={appearance.contains("signature")} instance_id={instance_id.clone()} />
            </div>
        },
        _ => html! {},
    };

    // A computed question shows its value, not an input.
    let widget = if item_is_computed_display(kind, read_only, &value) {
        html! { <div class="calc" id={id.clone()} aria-live="polite">{ display(&value, &choices, t.list_sep) }</div> }
    } else {
        widget
    };

    if kind == ItemType::Note {
        return html! {
            <div class="note" id={id.clone()} data-name={name.clone()}>{ rich(label) }
                if !hint.is_empty() { <span class="q-hint">{ rich(hint) }</span> }
            </div>
        };
    }
    let label_for = (!matches!(
        kind,
        ItemType::SelectOne | ItemType::SelectMultiple | ItemType::Geopoint
    ) || appearance.contains("minimal"))
    .then(|| id.clone());
    html! {
        <div class={classes!("q", error.is_some().then_some("has-error"))} data-name={name.clone()} data-question={name} id={format!("{id}-box")}>
            <label class="q-label" for={label_for} id={format!("{id}-label")}>
                { rich(label) }
                if st.required { <span class="req" aria-label={t.required_mark}>{ "*" }</span> }
            </label>
            if !hint.is_empty() { <span class="q-hint" id={hint_id}>{ rich(hint) }</span> }
            { widget }
            // Polite: typing a number makes it wrong for a moment at many a keystroke, and an
            // assertive message would cut in on what the screen reader is saying each time.
            <div class="q-error" id={err_id} aria-live="polite">{ error.unwrap_or_default() }</div>
        </div>
    }
}

/// A label or hint: most are plain text and become a text node here; only those using the Markdown
/// subset go through the `RichText` component (one component less per question to create and diff).
pub fn rich(text: String) -> Html {
    if text.contains(['*', '\n', '\\']) {
        html! { <RichText text={AttrValue::from(text)} /> }
    } else {
        Html::from(text)
    }
}

fn item_is_computed_display(kind: ItemType, read_only: bool, value: &Option<Json>) -> bool {
    read_only
        && matches!(
            kind,
            ItemType::Text
                | ItemType::Integer
                | ItemType::Decimal
                | ItemType::Date
                | ItemType::Time
                | ItemType::Datetime
                | ItemType::SelectOne
                | ItemType::SelectMultiple
        )
        && value.is_some()
}

fn display(value: &Option<Json>, choices: &[(String, String)], sep: &str) -> String {
    let label = |v: &str| {
        choices
            .iter()
            .find(|(c, _)| c == v)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| v.to_string())
    };
    match value {
        None => "–".into(),
        Some(Json::String(s)) => label(s),
        Some(Json::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str())
            .map(label)
            .collect::<Vec<_>>()
            .join(sep),
        Some(Json::Number(n)) => crate::i18n::computed_number(n),
        Some(other) => other.to_string(),
    }
}

/// Runs the parsers of typed text once (see `warm.rs`).
pub fn warm_parsers() {
    for lang in [Lang::Zh, Lang::En] {
        let _ = parse_text("7", lang);
        let _ = parse_integer("7", lang);
        let _ = parse_integer("7a", lang);
        let _ = parse_decimal("7.5", lang);
    }
}

type Parser = fn(&str, Lang) -> Result<Option<Json>, String>;

fn typed_parser(kind: ItemType) -> Parser {
    match kind {
        ItemType::Integer => parse_integer,
        ItemType::Decimal => parse_decimal,
        _ => parse_text,
    }
}

/// Answers what was typed into a field, or keeps it on screen (`Filling::typed`) with the answer
/// cleared when it is not one, or held when it would remove members with answers (cleared neither).
fn commit(ctl: &Ctl, node: Node, text: String, parsed: Result<Option<Json>, String>) {
    let bad = parsed.is_err();
    let action = match parsed.ok().flatten() {
        Some(value) => Action::Answer { node, value },
        None => Action::Clear { node },
    };
    let removes = ctl.0.borrow_mut().would_remove(&action);
    let mut refused = None;
    if removes.is_empty() {
        let value = match action {
            Action::Answer { value, .. } => Some(value),
            _ => None,
        };
        refused = answer_typed(ctl, node, value).err();
        // What the form cannot hold is no answer either: no older answer stays behind it.
        if refused.is_some() {
            let _ = answer_typed(ctl, node, None);
        }
    }
    let held = bad || !removes.is_empty() || refused.is_some();
    let now = held.then_some(Typed {
        text,
        removes,
        refused,
    });
    let mut f = ctl.0.borrow_mut();
    let was = match &now {
        Some(t) => f.typed.insert(node, t.clone()),
        None => f.typed.remove(&node),
    };
    // What the field says changed: the message, or only the member list it names.
    if was.map(|w| (w.removes, w.refused)) != now.map(|n| (n.removes, n.refused)) || bad {
        let cbs = f.subscribers(Topic::Node(node));
        drop(f);
        Ctl::run(cbs);
    }
}

fn parse_text(s: &str, _: Lang) -> Result<Option<Json>, String> {
    Ok((!s.is_empty()).then(|| Json::String(s.to_string())))
}

fn parse_integer(s: &str, lang: Lang) -> Result<Option<Json>, String> {
    let s = crate::i18n::number_input(s);
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>()
        .map(|n| Some(json!(n)))
        .map_err(|_| lang.t().not_a_whole_number.to_string())
}

fn parse_decimal(s: &str, lang: Lang) -> Result<Option<Json>, String> {
    let s = crate::i18n::number_input(s);
    if s.is_empty() {
        return Ok(None);
    }
    // A trailing point while typing ("12.") is not an error yet.
    let t = s.trim_end_matches('.');
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(
            serde_json::Number::from_f64(x)
                .map(Json::Number)
                .unwrap_or(Json::Null),
        )),
        _ => Err(lang.t().not_a_number.to_string()),
    }
}

fn parse_time(s: &str, _: Lang) -> Result<Option<Json>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    Ok(Some(Json::String(if s.len() == 5 {
        format!("{s}:00")
    } else {
        s.to_string()
    })))
}

fn parse_datetime(s: &str, _: Lang) -> Result<Option<Json>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let secs = if s.len() == 16 {
        format!("{s}:00")
    } else {
        s.to_string()
    };
    let d = js_sys::Date::new_0();
    let off = -(d.get_timezone_offset() as i32);
    let sign = if off < 0 { '-' } else { '+' };
    Ok(Some(Json::String(format!(
        "{secs}{sign}{:02}:{:02}",
        off.abs() / 60,
        off.abs() % 60
    ))))
}
