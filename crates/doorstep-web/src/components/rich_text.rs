//! Labels and hints with the safe Markdown subset: every run becomes a Yew text node, never HTML.

use yew::prelude::*;

use crate::markdown::{Run, parse};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub text: AttrValue,
}

#[function_component(RichText)]
pub fn rich_text(props: &Props) -> Html {
    if !props.text.contains('*') && !props.text.contains('\n') && !props.text.contains('\\') {
        return html! { <>{ props.text.clone() }</> };
    }
    parse(&props.text)
        .into_iter()
        .map(|run| match run {
            Run::Break => html! { <br/> },
            Run::Text {
                text,
                bold: true,
                italic: true,
            } => html! { <strong><em>{ text }</em></strong> },
            Run::Text {
                text, bold: true, ..
            } => html! { <strong>{ text }</strong> },
            Run::Text {
                text, italic: true, ..
            } => html! { <em>{ text }</em> },
            Run::Text { text, .. } => html! { <>{ text }</> },
        })
        .collect()
}
