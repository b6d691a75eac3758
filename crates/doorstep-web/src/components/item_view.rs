//! One item of a page: a group (its children, shown only while relevant), a roster, or a question.

use doorstep_core::expr::{ItemId, Node};
use doorstep_core::form::model::ItemType;
use yew::prelude::*;

use super::question::Question;
use super::roster::Roster;
use super::{Ctl, use_topic};
use crate::filling::Topic;
use crate::i18n::Lang;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctl: Ctl,
    pub item: ItemId,
    pub scope: u32,
    pub lang: Lang,
    /// The item is the page itself (its label is the page's title, not repeated here).
    pub page_title: bool,
}

#[function_component(ItemView)]
pub fn item_view(p: &Props) -> Html {
    let (kind, shown) = {
        let f = p.ctl.0.borrow();
        let item = f.form.item(p.item);
        (item.kind, item.kind.is_shown())
    };
    if !shown {
        return html! {};
    }
    match kind {
        ItemType::Group => {
            html! { <Group ctl={p.ctl.clone()} item={p.item} scope={p.scope} lang={p.lang} page_title={p.page_title} /> }
        }
        ItemType::Repeat => {
            html! { <Roster ctl={p.ctl.clone()} item={p.item} scope={p.scope} lang={p.lang} page_title={p.page_title} /> }
        }
        _ => {
            html! { <Question ctl={p.ctl.clone()} node={Node { item: p.item, scope: p.scope }} lang={p.lang} /> }
        }
    }
}

#[function_component(Group)]
fn group(p: &Props) -> Html {
    let node = Node {
        item: p.item,
        scope: p.scope,
    };
    use_topic(&p.ctl, Topic::Node(node));
    let f = p.ctl.0.borrow();
    if !f.session.state(node).relevant {
        return html! {};
    }
    let children = f.form.item(p.item).children.clone();
    let label = f.session.label(node);
    drop(f);
    html! {
        <fieldset class="group" id={format!("g{}-{}", p.item, p.scope)}>
            if !p.page_title && !label.is_empty() { <legend>{ super::question::rich(label) }</legend> }
            { for children.iter().map(|&c| html! {
                <ItemView key={c} ctl={p.ctl.clone()} item={c} scope={p.scope} lang={p.lang} page_title={false} />
            }) }
        </fieldset>
    }
}
