//! Navigation: how a form is cut into screens (pages, one question per screen, or one scrolling page),
//! where the surveyor is, and the table of contents' verdict on each page.
//!
//! Screens are computed once per form from the immutable `Form`; a roster (repeat) gets a page of its
//! own and each member a page below it, so no screen ever holds more than one level of a roster.

use doorstep_core::expr::{ItemId, Node};
use doorstep_core::form::Form;
use doorstep_core::form::model::{ItemType, Navigation};
use doorstep_core::session::{Problem, Session};

/// One screen of the form: the top-level items it shows, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The group or repeat that names the page, if it is one.
    pub title_item: Option<ItemId>,
    pub items: Vec<ItemId>,
    /// With one question per screen, the section (top-level group) the question is in, shown
    /// above it so the surveyor knows where they are; `None` when the page is the section itself.
    pub section: Option<ItemId>,
}

/// Where the surveyor is: a page, and inside it possibly one member of a roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub page: usize,
    /// The repeat instance (its scope) whose own page is shown.
    pub member: Option<u32>,
}

pub fn navigation(form: &Form) -> Navigation {
    form.doc
        .settings
        .as_ref()
        .map(|s| s.navigation)
        .unwrap_or_default()
}

/// Shown items (questions, notes, groups, repeats): what a screen can hold.
fn shown(form: &Form, id: ItemId) -> bool {
    form.item(id).kind.is_shown()
}

fn is_field_list(form: &Form, id: ItemId) -> bool {
    form.item(id)
        .doc
        .appearance
        .as_deref()
        .is_some_and(|a| a.split_whitespace().any(|w| w == "field-list"))
}

/// Cuts the form into pages as its `settings.navigation` asks.
pub fn pages(form: &Form) -> Vec<Page> {
    let mut out = Vec::new();
    match navigation(form) {
        Navigation::Scroll => {
            let items: Vec<ItemId> = form
                .top
                .iter()
                .copied()
                .filter(|&i| shown(form, i))
                .collect();
            out.push(Page {
                title_item: None,
                items,
                section: None,
            });
        }
        Navigation::Pages => {
            let mut loose = Vec::new();
            for &i in &form.top {
                if !shown(form, i) {
                    continue;
                }
                if form.item(i).kind.is_container() {
                    if !loose.is_empty() {
                        out.push(Page {
                            title_item: None,
                            items: std::mem::take(&mut loose),
                            section: None,
                        });
                    }
                    out.push(Page {
                        title_item: Some(i),
                        items: vec![i],
                        section: None,
                    });
                } else {
                    loose.push(i);
                }
            }
            if !loose.is_empty() {
                out.push(Page {
                    title_item: None,
                    items: loose,
                    section: None,
                });
            }
        }
        Navigation::Question => {
            fn walk(form: &Form, ids: &[ItemId], section: Option<ItemId>, out: &mut Vec<Page>) {
                for &i in ids {
                    if !shown(form, i) {
                        continue;
                    }
                    let item = form.item(i);
                    if item.kind == ItemType::Group && !is_field_list(form, i) {
                        walk(form, &item.children, section.or(Some(i)), out);
                    } else {
                        let title = item.kind.is_container().then_some(i);
                        out.push(Page {
                            title_item: title,
                            items: vec![i],
                            section,
                        });
                    }
                }
            }
            walk(form, &form.top, None, &mut out);
        }
    }
    if out.is_empty() {
        out.push(Page {
            title_item: None,
            items: Vec::new(),
            section: None,
        });
    }
    out
}

/// The page holding a node (for links from the review screen), and the member page when it is inside a roster.
pub fn pos_of(form: &Form, pages: &[Page], session: &Session, node: Node) -> Pos {
    // The outermost repeat instance containing the node is what the page shows as a member.
    let mut member = None;
    let mut scope = node.scope;
    // An instance node names itself; climb to the top-level instance.
    while scope != 0 {
        member = Some(scope);
        match session.instance_parent(scope) {
            Some((_, parent)) => scope = parent,
            None => break,
        }
    }
    // The innermost instance is where the question is shown.
    let member = if node.scope != 0 {
        Some(node.scope)
    } else {
        member
    };
    let page = pages
        .iter()
        .position(|p| p.items.iter().any(|&top| form.is_within(node.item, top)))
        .unwrap_or(0);
    Pos { page, member }
}

/// Whether a page has anything to show now: one of its items is relevant. A page whose items are
/// all irrelevant (a section that does not apply to this household, or everything after a refused
/// consent) is skipped by "next" and "previous" and called not applicable in the contents.
pub fn page_applies(session: &Session, page: &Page) -> bool {
    page.items
        .iter()
        .any(|&item| session.state(Node { item, scope: 0 }).relevant)
}

/// The first page after `from` that applies; `None` when the rest of the form does not apply
/// (the next step is then the review).
pub fn next_page(session: &Session, pages: &[Page], from: usize) -> Option<usize> {
    (from + 1..pages.len()).find(|&i| page_applies(session, &pages[i]))
}

/// The last page before `from` that applies.
pub fn previous_page(session: &Session, pages: &[Page], from: usize) -> Option<usize> {
    (0..from.min(pages.len()))
        .rev()
        .find(|&i| page_applies(session, &pages[i]))
}

/// The table of contents' verdict on a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageStatus {
    /// Nothing missing and nothing wrong.
    Done,
    /// A required answer is missing (or too few members).
    Todo,
    /// An answer breaks a constraint or has the wrong type.
    Errors,
    /// Nothing on the page applies now (see [`page_applies`]).
    NotApplicable,
}

/// One verdict per page, from the session's problems.
pub fn page_status(
    form: &Form,
    pages: &[Page],
    session: &Session,
    problems: &[Problem],
) -> Vec<PageStatus> {
    let mut out: Vec<PageStatus> = pages
        .iter()
        .map(|page| {
            if page_applies(session, page) {
                PageStatus::Done
            } else {
                PageStatus::NotApplicable
            }
        })
        .collect();
    for p in problems {
        if p.node.item as usize >= form.items.len() {
            continue;
        }
        let Some(i) = pages
            .iter()
            .position(|pg| pg.items.iter().any(|&top| form.is_within(p.node.item, top)))
        else {
            continue;
        };
        let missing = matches!(p.code, "required" | "repeat-min");
        out[i] = match (out[i], missing) {
            (PageStatus::Errors, _) | (_, false) => PageStatus::Errors,
            (_, true) => PageStatus::Todo,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::form;
    use doorstep_core::session::Host;
    use std::rc::Rc;

    fn load(nav: &str) -> Rc<Form> {
        let src = format!(
            r#"{{"format": "doorstep-form/1", "id": "t", "version": "1", "title": "T", "languages": ["en"],
            "settings": {{"navigation": "{nav}"}},
            "items": [
              {{"type": "text", "name": "a", "label": "A", "required": true}},
              {{"type": "calculate", "name": "c", "calculation": "1"}},
              {{"type": "integer", "name": "b", "label": "B", "constraint": ". < 5", "constraint_message": "small"}},
              {{"type": "group", "name": "g", "label": "G", "items": [
                 {{"type": "text", "name": "g1", "label": "G1"}}, {{"type": "text", "name": "g2", "label": "G2"}}]}},
              {{"type": "repeat", "name": "m", "label": "Members", "items": [
                 {{"type": "text", "name": "m1", "label": "Name", "required": true}}]}}
            ]}}"#
        );
        let r = form::load(&src);
        Rc::new(r.form.unwrap_or_else(|| panic!("{:?}", r.diagnostics)))
    }

    #[test]
    fn pages_group_loose_items_and_containers() {
        let f = load("pages");
        let p = pages(&f);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].items.len(), 2, "a and b, without the calculate");
        assert_eq!(p[1].title_item, f.item_by_name("g").map(|i| i.id));
        let q = pages(&load("question"));
        assert_eq!(q.len(), 5, "a, b, g1, g2, m");
        // One question per screen: a question in a section knows the section, to show it above.
        let g = f.item_by_name("g").map(|i| i.id);
        let sections: Vec<_> = q.iter().map(|p| p.section).collect();
        assert_eq!(sections, [None, None, g, g, None]);
        assert!(
            p.iter().all(|p| p.section.is_none()),
            "a page of a section is named by it"
        );
        assert_eq!(pages(&load("scroll")).len(), 1);
    }

    #[test]
    fn status_and_positions_follow_problems() {
        let f = load("pages");
        let p = pages(&f);
        let mut s = Session::new(f.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
        let st = page_status(&f, &p, &s, &s.validate());
        assert_eq!(
            st,
            vec![PageStatus::Todo, PageStatus::Done, PageStatus::Done]
        );
        let b = f.node("b").unwrap();
        s.apply(doorstep_core::session::Action::Answer {
            node: b,
            value: 9.into(),
        })
        .unwrap();
        let st = page_status(&f, &p, &s, &s.validate());
        assert_eq!(st[0], PageStatus::Errors);
        let m = f.node("m").unwrap();
        s.apply(doorstep_core::session::Action::AddInstance {
            repeat: m.item,
            parent: 0,
        })
        .unwrap();
        let inst = s.instances(m.item, 0)[0];
        let m1 = Node {
            item: f.item_by_name("m1").unwrap().id,
            scope: inst,
        };
        assert_eq!(
            pos_of(&f, &p, &s, m1),
            Pos {
                page: 2,
                member: Some(inst)
            }
        );
        assert_eq!(page_status(&f, &p, &s, &s.validate())[2], PageStatus::Todo);
    }

    /// A refused consent hides the rest: "next" goes past the sections that do not apply, and the
    /// contents calls them not applicable instead of done.
    #[test]
    fn pages_that_do_not_apply_are_skipped() {
        let src = r#"{"format": "doorstep-form/1", "id": "t", "version": "1", "title": "T", "languages": ["en"],
            "settings": {"navigation": "pages"},
            "items": [
              {"type": "group", "name": "start", "label": "Start", "items": [
                 {"type": "select_one", "name": "consent", "label": "Consent?", "choices": "yn"}]},
              {"type": "group", "name": "family", "label": "Family", "relevant": "${consent} = 'yes'", "items": [
                 {"type": "text", "name": "name", "label": "Name", "required": true}]},
              {"type": "group", "name": "income", "label": "Income", "relevant": "${consent} = 'yes'", "items": [
                 {"type": "integer", "name": "income_total", "label": "Income"}]},
              {"type": "group", "name": "end", "label": "End", "items": [
                 {"type": "note", "name": "thanks", "label": "Thank you"}]}
            ],
            "choices": {"yn": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]}}"#;
        let r = form::load(src);
        let f = Rc::new(r.form.unwrap_or_else(|| panic!("{:?}", r.diagnostics)));
        let p = pages(&f);
        assert_eq!(p.len(), 4);
        let mut s = Session::new(f.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
        let consent = f.node("consent").unwrap();
        s.apply(doorstep_core::session::Action::Answer {
            node: consent,
            value: "no".into(),
        })
        .unwrap();
        assert_eq!(next_page(&s, &p, 0), Some(3));
        assert_eq!(previous_page(&s, &p, 3), Some(0));
        assert_eq!(next_page(&s, &p, 3), None);
        assert_eq!(
            page_status(&f, &p, &s, &s.validate()),
            vec![
                PageStatus::Done,
                PageStatus::NotApplicable,
                PageStatus::NotApplicable,
                PageStatus::Done
            ]
        );
        s.apply(doorstep_core::session::Action::Answer {
            node: consent,
            value: "yes".into(),
        })
        .unwrap();
        assert_eq!(next_page(&s, &p, 0), Some(1));
        assert_eq!(previous_page(&s, &p, 3), Some(2));
        assert_eq!(page_status(&f, &p, &s, &s.validate())[1], PageStatus::Todo);
    }
}
