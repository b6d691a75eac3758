//! The fill screen: the save indicator, the current page (or one roster member's page), the table of
//! contents, and previous/next at the bottom within reach of a thumb.

use doorstep_core::expr::Node;
use yew::prelude::*;

use super::app::AppCtx;
use super::item_view::ItemView;
use super::save_bar::SaveBar;
use super::toc::Toc;
use super::{Ctl, use_topic, use_topics};
use crate::filling::{Scroll, Topic};
use crate::i18n::nth_member;
use crate::nav::{Pos, next_page, previous_page};
use crate::services::interviews;
use crate::state::Screen;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: AppCtx,
    pub ctl: Ctl,
}

/// Questions mounted in the first frame; the rest follow a moment later (perf-notes.md: first screen first).
const FIRST_BATCH: usize = 40;

/// Moves to `pos` and saves the position; the fill screen scrolls once the new page is rendered
/// (scrolling here would lay out the old page first): to the top, or back to where a roster was.
pub fn go(ctl: &Ctl, pos: Pos) {
    let y = gloo::utils::window().scroll_y().unwrap_or(0.0);
    let cbs = ctl.0.borrow_mut().go(pos, y);
    Ctl::run(cbs);
    interviews::touch(ctl);
}

/// Scrolls the screen just rendered as `go` decided, in the frame about to be drawn: scrolling
/// (or focusing) in the render itself would make the browser lay the new page out at once, before
/// it would anyway for that frame (about 10–20 ms at 4x CPU on a member's page).
fn scroll_next_frame(to: Scroll) {
    super::next_frame(move || scroll(to));
}

thread_local! {
    /// The takeover of index.html's plain first page put the focus in the field being typed in.
    static TYPING_KEPT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn scroll(to: Scroll) {
    let window = gloo::utils::window();
    match to {
        Scroll::Top => {
            window.scroll_to_with_x_and_y(0.0, 0.0);
            // The new page's title takes the focus, so that a screen reader says where "next"
            // led and the keyboard goes on from the top of the page (it is in view: no scroll);
            // not on the first page when the surveyor was typing in index.html's plain copy of it.
            if !TYPING_KEPT.replace(false)
                && let Some(title) = gloo::utils::document()
                    .query_selector("#fill .page-title")
                    .ok()
                    .flatten()
                    .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
            {
                let _ = title.focus();
            }
        }
        Scroll::Back { y, member } => {
            window.scroll_to_with_x_and_y(0.0, y);
            // The member's row may have moved (moved between siblings, a name grew a line): it is
            // brought into view if it is not, and focused for keyboards and screen readers.
            let row = gloo::utils::document()
                .query_selector(&format!("li[data-inst=\"{member}\"] .who"))
                .ok()
                .flatten();
            if let Some(row) = row {
                let r = row.get_bounding_client_rect();
                let h = window
                    .inner_height()
                    .ok()
                    .and_then(|h| h.as_f64())
                    .unwrap_or(640.0);
                // The title and the save indicator stay over the top 84 px of the screen, the
                // bottom bar covers about 70 px.
                if r.top() < 84.0 || r.bottom() > h - 70.0 {
                    let o = web_sys::ScrollIntoViewOptions::new();
                    o.set_block(web_sys::ScrollLogicalPosition::Center);
                    row.scroll_into_view_with_scroll_into_view_options(&o);
                }
                if let Some(row) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&row) {
                    let _ = row.focus();
                }
            }
        }
    }
}

/// How many of a page's items hold the first `questions` questions (a group counts its questions).
fn first_items(
    form: &doorstep_core::form::Form,
    items: &[doorstep_core::expr::ItemId],
    questions: usize,
) -> usize {
    fn weight(form: &doorstep_core::form::Form, i: doorstep_core::expr::ItemId) -> usize {
        let item = form.item(i);
        if item.kind == doorstep_core::form::model::ItemType::Group {
            item.children
                .iter()
                .map(|&c| weight(form, c))
                .sum::<usize>()
                .max(1)
        } else {
            1
        }
    }
    let mut total = 0;
    for (n, &i) in items.iter().enumerate() {
        if total >= questions {
            return n;
        }
        total = total.saturating_add(weight(form, i));
    }
    items.len()
}

#[function_component(FillScreen)]
pub fn fill_screen(p: &Props) -> Html {
    use_topic(&p.ctl, Topic::Pos);
    let lang = p.ctx.lang();
    let t = lang.t();
    let toc_open = use_state(|| false);
    let f = p.ctl.0.borrow();
    let pos = f.pos;
    let npages = f.pages.len();
    let page = f.pages[pos.page.min(npages - 1)].clone();
    {
        let ctl = p.ctl.clone();
        use_effect_with((), move |_| {
            TYPING_KEPT.set(super::bench::takeover());
            super::warm::warm_typing(&ctl);
        });
    }
    // A new position starts at the top, or where the roster was when coming back from one of its
    // members, scrolled after its page is rendered (one layout, not two).
    {
        let to = f.scroll;
        use_effect_with(pos, move |_| scroll_next_frame(to));
    }
    // The page mounted in full; any other page shows its first questions first, and the rest a
    // moment later (no extra render when the page is short). The page stays mounted, hidden, while
    // one of its roster members is shown, so opening a member and coming back rebuild nothing.
    let full = use_state(|| None::<usize>);
    let limit = if *full == Some(pos.page) {
        usize::MAX
    } else {
        FIRST_BATCH
    };
    let long = first_items(&f.form, &page.items, FIRST_BATCH) < page.items.len();
    {
        let full = full.clone();
        use_effect_with((pos.page, long), move |&(pg, long)| {
            let h =
                long.then(|| gloo::timers::callback::Timeout::new(30, move || full.set(Some(pg))));
            move || drop(h)
        });
    }

    let ctl = p.ctl.clone();
    // On a member's page, the roster it belongs to and its size (docs/bench-web-protocol.md).
    let mut roster: Option<(String, String)> = None;
    // The page itself, always rendered (hidden while a member's page is shown).
    let page_body = {
        let first = first_items(&f.form, &page.items, limit);
        let items = page.items.iter().take(first).map(|&i| {
            html! { <ItemView key={i} ctl={ctl.clone()} item={i} scope={0} lang={lang} page_title={page.title_item == Some(i)} /> }
        });
        // One question per screen: the section it is in, small, above it.
        let section = page
            .section
            .map(|i| f.session.label(Node { item: i, scope: 0 }));
        html! {
            <>
                <p class="pageinfo">{ format!("{} / {}", pos.page + 1, npages) }</p>
                if let Some(s) = section {
                    <p class="section-name muted" data-testid="section">{ s }</p>
                }
                { for items }
            </>
        }
    };
    let member = pos
        .member
        .filter(|&m| f.session.instance_parent(m).is_some());
    let (title, content, nav) = match member {
        None => {
            let title = page
                .title_item
                .map(|i| f.session.label(Node { item: i, scope: 0 }))
                .unwrap_or_default();
            let on_contents = {
                let toc_open = toc_open.clone();
                Callback::from(move |()| toc_open.set(true))
            };
            let nav = html! { <PageNav ctx={p.ctx.clone()} ctl={ctl.clone()} page={pos.page} {on_contents} /> };
            (title, Html::default(), nav)
        }
        Some(inst) => {
            let (repeat, parent) = f.session.instance_parent(inst).unwrap_or((0, 0));
            let siblings = f.session.instances(repeat, parent).to_vec();
            let idx = siblings.iter().position(|&s| s == inst).unwrap_or(0);
            let roster_label = f.session.label(Node {
                item: repeat,
                scope: parent,
            });
            // "家庭成员 · 陈丽", or "家庭成员 2" before the member has a name.
            let title = match f.member_label(repeat, inst) {
                Some(who) => format!("{roster_label} · {who}"),
                None => nth_member(lang, &roster_label, idx + 1),
            };
            roster = Some((f.form.item(repeat).name.clone(), siblings.len().to_string()));
            let children = f.form.item(repeat).children.clone();
            let items = children.iter().map(|&i| {
                html! { <ItemView key={format!("{i}-{inst}")} ctl={ctl.clone()} item={i} scope={inst} lang={lang} page_title={false} /> }
            });
            let back_pos = Pos {
                page: pos.page,
                member: (parent != 0).then_some(parent),
            };
            let back = {
                let ctl = ctl.clone();
                Callback::from(move |_: MouseEvent| go(&ctl, back_pos))
            };
            let sib = |j: Option<usize>| {
                j.and_then(|j| siblings.get(j).copied()).map(|s| {
                    let ctl = ctl.clone();
                    Callback::from(move |_: MouseEvent| {
                        go(
                            &ctl,
                            Pos {
                                page: pos.page,
                                member: Some(s),
                            },
                        )
                    })
                })
            };
            let prev = sib(idx.checked_sub(1));
            let next = sib(Some(idx + 1));
            let nav = html! {
                <nav class="navbar" aria-label={t.page}>
                    <button class="btn" onclick={prev.clone().unwrap_or_default()} disabled={prev.is_none()} aria-label={format!("{} ({})", t.previous, t.member)}>{ "‹" }</button>
                    <button class="btn primary" onclick={back} data-testid="back-to-list">{ t.back_to_list }</button>
                    <button class="btn" onclick={next.clone().unwrap_or_default()} disabled={next.is_none()} aria-label={format!("{} ({})", t.next, t.member)}>{ "›" }</button>
                </nav>
            };
            let content =
                html! { <div class="member-page" key={format!("m{inst}")}>{ for items }</div> };
            (title, content, nav)
        }
    };
    drop(f);

    let close_toc = {
        let toc_open = toc_open.clone();
        Callback::from(move |_| toc_open.set(false))
    };
    html! {
        <>
            <SaveBar ctx={p.ctx.clone()} ctl={p.ctl.clone()} lang={lang} />
            <main class="screen" id="fill">
                // What another window did, or a failure, until the surveyor leaves the screen.
                { super::app::notice(&p.ctx.state.notice) }
                if !title.is_empty() {
                    <h2 class="page-title" tabindex="-1" data-repeat={roster.as_ref().map(|r| r.0.clone())}
                        data-count={roster.as_ref().map(|r| r.1.clone())}>{ title }</h2>
                }
                <div class="page-body" hidden={member.is_some()}>{ page_body }</div>
                { content }
            </main>
            { nav }
            if *toc_open {
                <Toc ctl={p.ctl.clone()} lang={lang} on_close={close_toc} ctx={p.ctx.clone()} />
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct NavProps {
    ctx: AppCtx,
    ctl: Ctl,
    page: usize,
    on_contents: Callback<()>,
}

/// The buttons under a page. "Previous" and "next" pass over the pages that do not apply now
/// (`nav::page_applies`), so the bar re-renders when the relevance of another page's items
/// changes (a refused consent turns "next" into "review" at once), not on every keystroke.
#[function_component(PageNav)]
fn page_nav(p: &NavProps) -> Html {
    let topics: Vec<Topic> = {
        let f = p.ctl.0.borrow();
        f.pages
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != p.page)
            .flat_map(|(_, page)| page.items.iter())
            .map(|&item| Topic::Node(Node { item, scope: 0 }))
            .collect()
    };
    use_topics(&p.ctl, topics);
    let t = p.ctx.lang().t();
    let page = p.page;
    let (has_previous, has_next) = {
        let f = p.ctl.0.borrow();
        (
            previous_page(&f.session, &f.pages, page).is_some(),
            next_page(&f.session, &f.pages, page).is_some(),
        )
    };
    let prev = {
        let ctl = p.ctl.clone();
        Callback::from(move |_: MouseEvent| {
            let to = {
                let f = ctl.0.borrow();
                previous_page(&f.session, &f.pages, page)
            };
            if let Some(page) = to {
                go(&ctl, Pos { page, member: None })
            }
        })
    };
    let next = {
        let (ctx, ctl) = (p.ctx.clone(), p.ctl.clone());
        Callback::from(move |_: MouseEvent| {
            let to = {
                let f = ctl.0.borrow();
                next_page(&f.session, &f.pages, page)
            };
            match to {
                Some(page) => go(&ctl, Pos { page, member: None }),
                None => {
                    ctl.0.borrow_mut().show_all_errors = true;
                    ctx.go(Screen::Review)
                }
            }
        })
    };
    let contents = p.on_contents.reform(|_: MouseEvent| ());
    html! {
        <nav class="navbar" aria-label={t.page}>
            <button class="btn" onclick={prev} disabled={!has_previous}>{ t.previous }</button>
            <button class="btn" onclick={contents} data-testid="contents">{ t.contents }</button>
            <button class="btn primary" onclick={next} data-testid="next">{ if has_next { t.next } else { t.review } }</button>
        </nav>
    }
}
