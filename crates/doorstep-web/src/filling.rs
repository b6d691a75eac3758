//! The state of the interview being filled: the engine's session, where the surveyor is, which errors to
//! show, and a per-node update store so a keystroke re-renders only the questions it affects.
//!
//! Components subscribe to a [`Topic`] with a callback (Yew's `use_force_update`). `apply` returns the
//! callbacks to run; the caller runs them after releasing its borrow, so a re-render can read the state.
//! The page and the parent components never re-render on a keystroke (perf-notes.md).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use doorstep_core::expr::{ItemId, Node};
use doorstep_core::form::model::ItemType;
use doorstep_core::form::{Form, RepeatCount};
use doorstep_core::session::{Action, ActionError, Session};

use crate::nav::{self, Page, Pos};
use crate::record::Meta;
use crate::save::{Next, SaveState};

pub type Notify = Rc<dyn Fn()>;

/// What a component listens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// A question's value, relevance, required, read-only, error or label.
    Node(Node),
    /// The surveyor left this member's page: its roster row catches up with the answers typed
    /// there (a typed answer does not publish its `Node`, see `apply_typed`).
    Left(u32),
    /// The list of instances of a repeat node.
    Repeat(Node),
    /// The save indicator.
    Save,
    /// Anything that changes the table of contents or the review (after every action).
    Any,
    /// The position (page or member) changed.
    Pos,
}

pub struct Filling {
    pub form: Rc<Form>,
    pub session: Session,
    pub pages: Vec<Page>,
    pub meta: Meta,
    pub pos: Pos,
    pub save: SaveState,
    /// The revision of the interview's record this window last read or wrote (`None`: not written
    /// yet); it writes only over that one (`SubmissionRecord::may_replace`).
    pub disk_rev: Option<u64>,
    /// Tells this opening of an interview from any other, even of the same interview (a window
    /// that takes the saved answers after a conflict opens it again): the screens are keyed by it,
    /// so that no component holds on to the replaced one.
    pub opening: u64,
    /// Questions the surveyor answered or left: their "required" message may show.
    pub touched: HashSet<Node>,
    /// After a review or a refused finalize, every problem shows.
    pub show_all_errors: bool,
    /// Finalizing was refused for problems (the review says so until they are gone, over a change of
    /// language too, which draws the review again).
    pub finalize_refused: bool,
    /// What the surveyor typed into a number field that is not its answer (kept on screen, and over a
    /// change of language): text that is not a number ("12a"; the answer is cleared), or a count
    /// that would remove members with answers, held until the field is left (`would_remove`).
    pub typed: HashMap<Node, Typed>,
    /// Whether an item's answer feeds a count-driven roster's count (directly or through
    /// calculations), by item: asked on each keystroke in a number field.
    drives_count: HashMap<ItemId, bool>,
    /// Where the screen shown now starts (decided by `go`, applied once the screen is rendered).
    pub scroll: Scroll,
    /// The scroll offsets of screens the surveyor left for one of their members' pages.
    left: Vec<(Pos, f64)>,
    subs: HashMap<Topic, Vec<(u64, Notify)>>,
    next_id: u64,
}

thread_local! {
    static OPENINGS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Most instances of one repeat the app will show at once: a hostile `count` cannot freeze the phone.
pub const MAX_SHOWN_INSTANCES: usize = 1_000;

/// A number field's text that is not its answer (`Filling::typed`).
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    pub text: String,
    /// The members (roster, instance) this count would remove: it is answered when the field is left.
    pub removes: Vec<(ItemId, u32)>,
    /// Why the engine refused what was typed, when it did.
    pub refused: Option<String>,
}

/// Where a screen starts when the surveyor moves to it.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Scroll {
    /// A new page or member: at the top.
    #[default]
    Top,
    /// Back from a member's page to the roster it was opened from: where that screen was, with the
    /// row of the member just left (`member`) in view.
    Back { y: f64, member: u32 },
}

/// A count-driven repeat that made fewer instances than its `count` asked for: the form's `max` (or
/// the session's limit on instances) capped it, and the roster says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capped {
    /// Instances made.
    pub listed: usize,
    /// The repeat's `max`.
    pub max: u64,
    /// What the count asked for (the engine keeps it with the capped verdict).
    pub asked: Option<u64>,
}

impl Filling {
    pub fn new(session: Session, meta: Meta) -> Filling {
        let form = session.form().clone();
        let pages = nav::pages(&form);
        // An interview opens on the first page that applies: a first section for some households
        // only (a returning household's check) would otherwise open on a blank page.
        let page = if nav::page_applies(&session, &pages[0]) {
            0
        } else {
            nav::next_page(&session, &pages, 0).unwrap_or(0)
        };
        Filling {
            form,
            session,
            pages,
            meta,
            pos: Pos { page, member: None },
            save: SaveState::clean(),
            disk_rev: None,
            opening: OPENINGS.with(|n| {
                n.set(n.get() + 1);
                n.get()
            }),
            touched: HashSet::new(),
            show_all_errors: false,
            finalize_refused: false,
            typed: HashMap::new(),
            drives_count: HashMap::new(),
            scroll: Scroll::Top,
            left: Vec::new(),
            subs: HashMap::new(),
            next_id: 0,
        }
    }

    pub fn subscribe(&mut self, topic: Topic, f: Notify) -> u64 {
        self.next_id += 1;
        self.subs.entry(topic).or_default().push((self.next_id, f));
        self.next_id
    }

    pub fn unsubscribe(&mut self, topic: Topic, id: u64) {
        if let Some(v) = self.subs.get_mut(&topic) {
            v.retain(|(i, _)| *i != id);
            if v.is_empty() {
                self.subs.remove(&topic);
            }
        }
    }

    pub fn subscribers(&self, topic: Topic) -> Vec<Notify> {
        self.subs
            .get(&topic)
            .map(|v| v.iter().map(|(_, f)| f.clone()).collect())
            .unwrap_or_default()
    }

    /// Applies an action; returns the callbacks to run and what the autosave must do.
    pub fn apply(&mut self, action: Action) -> Result<(Vec<Notify>, Next), ActionError> {
        self.apply_from(action, false)
    }

    /// Applies an answer typed into a field that already shows it (text, number, date): the edited
    /// question re-renders only when something else it shows changed (its label, hint, message,
    /// required or read-only mark, relevance), not for its new value alone.
    pub fn apply_typed(&mut self, action: Action) -> Result<(Vec<Notify>, Next), ActionError> {
        self.apply_from(action, true)
    }

    /// What a question shows apart from its value (the message as shown, not the engine's).
    fn shown(&self, node: Node) -> ((bool, bool, bool), String, String, Option<String>) {
        let st = self.session.state(node);
        (
            (st.relevant, st.required, st.read_only),
            self.session.label(node),
            self.session.hint(node),
            self.shown_error(node),
        )
    }

    fn apply_from(
        &mut self,
        action: Action,
        typed: bool,
    ) -> Result<(Vec<Notify>, Next), ActionError> {
        let touched_node = match &action {
            Action::Answer { node, .. } | Action::Clear { node } => Some(*node),
            _ => None,
        };
        let before = touched_node.filter(|_| typed).map(|n| self.shown(n));
        if let Some(n) = touched_node {
            self.touched.insert(n);
        }
        let changes = self.session.apply(action)?;
        let mut topics: Vec<Topic> = changes.nodes.iter().map(|n| Topic::Node(*n)).collect();
        if let Some(n) = touched_node {
            if before.is_some_and(|b| b == self.shown(n)) {
                topics.retain(|t| *t != Topic::Node(n));
            } else {
                // The edited question re-renders even when its shown state did not change (its error
                // may now show because it was touched).
                topics.push(Topic::Node(n));
            }
        }
        topics.extend(changes.repeats.iter().map(|n| Topic::Repeat(*n)));
        topics.push(Topic::Any);
        // The save indicator re-renders only when what it shows changes (saved -> saving), not on
        // every keystroke while a write is already pending.
        let shown = self.save.indicator();
        let next = self.save.changed();
        if self.save.indicator() != shown {
            topics.push(Topic::Save);
        }
        Ok((self.collect(&topics), next))
    }

    pub fn collect(&self, topics: &[Topic]) -> Vec<Notify> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for t in topics {
            if !seen.insert(*t) {
                continue;
            }
            if let Some(v) = self.subs.get(t) {
                out.extend(v.iter().map(|(_, f)| f.clone()));
            }
        }
        out
    }

    /// Moves to another page or member, leaving the current screen scrolled by `scroll_y`; returns
    /// the callbacks to run.
    pub fn go(&mut self, pos: Pos, scroll_y: f64) -> Vec<Notify> {
        let pos = Pos {
            page: pos.page.min(self.pages.len().saturating_sub(1)),
            member: pos.member,
        };
        let from = self.pos;
        self.scroll = Scroll::Top;
        // The screen a member is opened from (the page, or the page of the member holding the
        // roster) is remembered; going back to it lands where it was, on the row of the member
        // left, even after moving between siblings. Another page forgets it all.
        // The scope holding a member's roster: its parent instance, or 0 for the page itself.
        let holder = |m: Option<u32>| {
            m.and_then(|m| self.session.instance_parent(m))
                .map(|(_, p)| p)
        };
        let opening = pos.member.is_some() && holder(pos.member) == Some(from.member.unwrap_or(0));
        let back = from.member.is_some() && holder(from.member) == Some(pos.member.unwrap_or(0));
        if pos.page != from.page {
            self.left.clear();
        } else if opening {
            self.left.retain(|(p, _)| *p != from);
            self.left.push((from, scroll_y));
        } else if back && let Some(i) = self.left.iter().position(|(p, _)| *p == pos) {
            let (_, y) = self.left.remove(i);
            let member = from.member.unwrap_or(0);
            self.scroll = Scroll::Back { y, member };
        }
        self.pos = pos;
        match from.member.filter(|&m| Some(m) != pos.member) {
            Some(m) => self.collect(&[Topic::Pos, Topic::Left(m)]),
            None => self.collect(&[Topic::Pos]),
        }
    }

    /// The message to show under a question now, if any. A missing required answer shows only once
    /// the question was touched or the surveyor asked to review, so a fresh page is not all red.
    pub fn shown_error(&self, node: Node) -> Option<String> {
        let p = self.session.error(node)?;
        if p.code == "required" && !self.show_all_errors && !self.touched.contains(&node) {
            return None;
        }
        Some(p.message)
    }

    /// The members with answers that `action` would remove by lowering a roster's count, as (roster,
    /// instance), in list order. Typing "12" over "15" passes through "1" (and "" before it):
    /// applied at each keystroke, that removed fourteen members and everything asked about them,
    /// and typing on made them again empty. Only answers to items that feed a count are tried, on
    /// a copy of the session.
    pub fn would_remove(&mut self, action: &Action) -> Vec<(ItemId, u32)> {
        let node = match action {
            Action::Answer { node, .. } | Action::Clear { node } => *node,
            _ => return Vec::new(),
        };
        if !self.feeds_count(node.item) {
            return Vec::new();
        }
        let mut dry = self.session.clone();
        let Ok(changes) = dry.apply(action.clone()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for r in changes.repeats {
            for &inst in self.session.instances(r.item, r.scope) {
                if !dry.instances(r.item, r.scope).contains(&inst) && self.answered(r.item, inst) {
                    out.push((r.item, inst));
                }
            }
        }
        out
    }

    fn feeds_count(&mut self, item: ItemId) -> bool {
        if let Some(&known) = self.drives_count.get(&item) {
            return known;
        }
        let form = self.form.clone();
        let mut seen = HashSet::from([item]);
        let mut todo = vec![item];
        let mut found = false;
        while let Some(i) = todo.pop() {
            for &d in &form.dependents[i as usize] {
                if matches!(form.item(d).count, RepeatCount::Expr(_)) {
                    found = true;
                }
                if seen.insert(d) {
                    todo.push(d);
                }
            }
        }
        self.drives_count.insert(item, found);
        found
    }

    /// Whether the surveyor answered anything in an instance (or in its own rosters).
    fn answered(&self, repeat: ItemId, inst: u32) -> bool {
        self.form.level_items(Some(repeat)).iter().any(|&i| {
            let item = self.form.item(i);
            if item.kind == ItemType::Repeat {
                return self
                    .session
                    .instances(i, inst)
                    .iter()
                    .any(|&s| self.answered(i, s));
            }
            item.kind.has_value()
                && !item.is_computed()
                && self
                    .session
                    .answer(Node {
                        item: i,
                        scope: inst,
                    })
                    .is_some()
        })
    }

    /// Whether the count-driven repeat `node` was capped, and by how much.
    pub fn capped(&self, node: Node) -> Option<Capped> {
        let st = self.session.state(node);
        if !st.capped || !st.relevant {
            return None;
        }
        Some(Capped {
            listed: self.session.instances(node.item, node.scope).len(),
            max: self.form.item(node.item).max_instances(),
            asked: st.asked,
        })
    }

    /// The label of a roster member in lists: the first answered text question of the instance.
    pub fn member_label(&self, repeat: ItemId, instance: u32) -> Option<String> {
        for &i in self.form.level_items(Some(repeat)) {
            let item = self.form.item(i);
            let node = Node {
                item: i,
                scope: instance,
            };
            // An answer the question no longer asks (a goods item's name kept after its kind was
            // changed to cash) is neither shown nor exported: it does not name the member either.
            if item.kind == ItemType::Text
                && self.session.state(node).relevant
                && let Some(s) = self.session.answer(node).and_then(|v| v.as_str())
            {
                return Some(s.to_string());
            }
        }
        None
    }

    /// A roster member as the surveyor knows it: "家庭成员 · 陈丽", or "地块 3" before it has a name.
    pub fn member_title(&self, inst: u32, lang: crate::i18n::Lang) -> String {
        let Some((repeat, parent)) = self.session.instance_parent(inst) else {
            return String::new();
        };
        let roster = crate::markdown::plain(&self.session.label(Node {
            item: repeat,
            scope: parent,
        }));
        match self.member_label(repeat, inst) {
            Some(name) => format!("{roster} · {name}"),
            None => {
                let siblings = self.session.instances(repeat, parent);
                let n = siblings
                    .iter()
                    .position(|&s| s == inst)
                    .map_or(1, |i| i + 1);
                crate::i18n::nth_member(lang, &roster, n)
            }
        }
    }

    /// Where a question inside rosters is, for a list of problems: its members from the outermost
    /// ("家庭成员 · 陈丽 · 地块 2"), empty for a question outside any roster.
    pub fn members_of(&self, node: Node, lang: crate::i18n::Lang) -> String {
        let mut out = Vec::new();
        let mut scope = node.scope;
        while let Some((_, parent)) = self.session.instance_parent(scope) {
            out.push(self.member_title(scope, lang));
            scope = parent;
        }
        out.reverse();
        out.join(" · ")
    }

    /// The instance node's path (`members[2]`) for storing where the surveyor was.
    pub fn member_path(&self) -> Option<String> {
        let m = self.pos.member?;
        let (repeat, _) = self.session.instance_parent(m)?;
        Some(self.session.path_of(Node {
            item: repeat,
            scope: m,
        }))
    }

    /// Restores a position saved with `member_path`.
    pub fn restore_pos(&mut self, page: usize, member: Option<&str>) {
        let member = member
            .and_then(|p| self.session.find(p))
            .map(|n| n.scope)
            .filter(|&s| s != 0);
        let page = page.min(self.pages.len().saturating_sub(1));
        self.pos = if nav::page_applies(&self.session, &self.pages[page]) {
            Pos { page, member }
        } else {
            // The page it was left on does not apply to these answers (nothing on it would show):
            // the nearest one before it that does, else the first after it.
            let page = nav::previous_page(&self.session, &self.pages, page)
                .or_else(|| nav::next_page(&self.session, &self.pages, page))
                .unwrap_or(page);
            Pos { page, member: None }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::record::FormRef;
    use doorstep_core::form;
    use doorstep_core::session::Host;
    use serde_json::Value as Json;
    use std::cell::Cell;

    fn filling() -> Filling {
        let src = r#"{"format": "doorstep-form/1", "id": "t", "version": "1", "title": "T", "languages": ["en"],
          "items": [
            {"type": "integer", "name": "age", "label": "Age", "required": true},
            {"type": "text", "name": "school", "label": "School", "relevant": "${age} < 18"},
            {"type": "text", "name": "other", "label": "Other"},
            {"type": "repeat", "name": "m", "label": "Members", "items": [{"type": "text", "name": "nm", "label": "Name"}]}
          ]}"#;
        let f = Rc::new(form::load(src).form.unwrap());
        let s = Session::new(f, Host::fixed("2026-11-22T09:00:00+08:00"));
        let meta = Meta {
            instance_id: "uuid:x".into(),
            form: FormRef {
                id: "t".into(),
                version: "1".into(),
                hash: "h".into(),
            },
            status: "draft".into(),
            started_at: String::new(),
            updated_at: String::new(),
            finalized_at: None,
            device_id: String::new(),
            surveyor: String::new(),
            deprecated_id: None,
        };
        Filling::new(s, meta)
    }

    #[test]
    fn a_keystroke_notifies_only_affected_questions() {
        let mut f = filling();
        let hits: Vec<Rc<Cell<u32>>> = (0..3).map(|_| Rc::new(Cell::new(0))).collect();
        let names = ["age", "school", "other"];
        for (h, n) in hits.iter().zip(names) {
            let h = h.clone();
            let node = f.form.node(n).unwrap();
            f.subscribe(Topic::Node(node), Rc::new(move || h.set(h.get() + 1)));
        }
        let age = f.form.node("age").unwrap();
        let (cbs, next) = f
            .apply(Action::Answer {
                node: age,
                value: 12.into(),
            })
            .unwrap();
        assert!(matches!(next, Next::Schedule(_)));
        cbs.iter().for_each(|c| c());
        assert_eq!(hits[0].get(), 1, "the edited question");
        assert_eq!(hits[1].get(), 1, "school became relevant");
        assert_eq!(hits[2].get(), 0, "an unrelated question does not re-render");
    }

    #[test]
    fn a_typed_answer_re_renders_its_field_only_when_more_than_its_value_changed() {
        let mut f = filling();
        let hits: Vec<Rc<Cell<u32>>> = (0..2).map(|_| Rc::new(Cell::new(0))).collect();
        for (h, n) in hits.iter().zip(["age", "other"]) {
            let h = h.clone();
            let node = f.form.node(n).unwrap();
            f.subscribe(Topic::Node(node), Rc::new(move || h.set(h.get() + 1)));
        }
        let (age, other) = (f.form.node("age").unwrap(), f.form.node("other").unwrap());
        let typed = |f: &mut Filling, node, value: Option<Json>| {
            let action = match value {
                Some(value) => Action::Answer { node, value },
                None => Action::Clear { node },
            };
            f.apply_typed(action).unwrap().0.iter().for_each(|c| c());
        };
        typed(&mut f, other, Some("a".into()));
        typed(&mut f, other, Some("ab".into()));
        assert_eq!(hits[1].get(), 0, "the field shows what was typed already");
        typed(&mut f, age, Some(3.into()));
        assert_eq!(hits[0].get(), 0);
        typed(&mut f, age, None);
        assert_eq!(hits[0].get(), 1, "its required message now shows");
        assert!(f.shown_error(age).is_some());
        typed(&mut f, age, Some(4.into()));
        assert_eq!(hits[0].get(), 2, "and goes away");
    }

    #[test]
    fn the_save_indicator_renders_only_when_it_changes() {
        let mut f = filling();
        let saves = Rc::new(Cell::new(0));
        let h = saves.clone();
        f.subscribe(Topic::Save, Rc::new(move || h.set(h.get() + 1)));
        let other = f.form.node("other").unwrap();
        let (cbs, _) = f
            .apply(Action::Answer {
                node: other,
                value: "a".into(),
            })
            .unwrap();
        cbs.iter().for_each(|c| c());
        assert_eq!(saves.get(), 1, "saved -> saving");
        let (cbs, next) = f
            .apply(Action::Answer {
                node: other,
                value: "ab".into(),
            })
            .unwrap();
        cbs.iter().for_each(|c| c());
        assert_eq!(
            next,
            Next::Nothing,
            "the pending write takes the newest revision"
        );
        assert_eq!(saves.get(), 1, "still saving: nothing to re-render");
        assert_eq!(f.save.indicator(), crate::save::Indicator::Saving);
    }

    #[test]
    fn required_shows_after_touch_and_positions_round_trip() {
        let mut f = filling();
        let age = f.form.node("age").unwrap();
        assert_eq!(f.shown_error(age), None);
        f.apply(Action::Answer {
            node: age,
            value: 3.into(),
        })
        .unwrap();
        f.apply(Action::Clear { node: age }).unwrap();
        assert!(f.shown_error(age).is_some());
        let m = f.form.node("m").unwrap();
        f.apply(Action::AddInstance {
            repeat: m.item,
            parent: 0,
        })
        .unwrap();
        f.apply(Action::AddInstance {
            repeat: m.item,
            parent: 0,
        })
        .unwrap();
        let second = f.session.instances(m.item, 0)[1];
        f.go(
            Pos {
                page: 0,
                member: Some(second),
            },
            0.0,
        );
        let path = f.member_path().unwrap();
        assert_eq!(path, "m[2]");
        let data = f.session.data();
        let s2 = Session::resume(
            f.form.clone(),
            &data,
            Host::fixed("2026-11-22T09:00:00+08:00"),
        );
        let mut g = Filling::new(s2, f.meta.clone());
        g.restore_pos(0, Some(&path));
        assert_eq!(g.pos.member, Some(g.session.instances(m.item, 0)[1]));
    }

    /// A first section for some households only: the interview opens on the first page that
    /// applies, not on a blank one, and so does a draft left on a page that no longer applies.
    #[test]
    fn an_interview_opens_on_a_page_that_applies() {
        let src = r#"{"format": "doorstep-form/1", "id": "c", "version": "1", "title": "C", "languages": ["en"],
          "settings": {"navigation": "question"},
          "items": [
            {"type": "note", "name": "returning", "label": "Check the last visit", "relevant": "${kind} = 'again'"},
            {"type": "text", "name": "kind", "label": "Kind"},
            {"type": "text", "name": "detail", "label": "Detail", "relevant": "${kind} = 'new'"},
            {"type": "text", "name": "end", "label": "End"}
          ]}"#;
        let form = Rc::new(form::load(src).form.unwrap());
        let s = Session::new(form.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
        let mut f = Filling::new(s, filling().meta);
        assert_eq!(
            f.pos,
            Pos {
                page: 1,
                member: None
            }
        );
        f.restore_pos(2, None);
        assert_eq!(f.pos.page, 1, "detail does not apply: the page before it");
        f.restore_pos(3, None);
        assert_eq!(f.pos.page, 3);
        let kind = form.node("kind").unwrap();
        f.apply(Action::Answer {
            node: kind,
            value: "new".into(),
        })
        .unwrap();
        f.restore_pos(2, None);
        assert_eq!(f.pos.page, 2);
        let again = Session::resume(
            form.clone(),
            &serde_json::json!({"kind": "again"}),
            Host::fixed("2026-11-22T09:00:00+08:00"),
        );
        assert_eq!(Filling::new(again, filling().meta).pos.page, 0);
    }

    #[test]
    fn a_capped_count_says_how_many_were_asked_for() {
        let src = r#"{"format": "doorstep-form/1", "id": "c", "version": "1", "title": "C", "languages": ["en"],
          "items": [
            {"type": "integer", "name": "n", "label": "How many?"},
            {"type": "repeat", "name": "plots", "label": "Plots", "count": "${n}", "max": 5, "items": [
              {"type": "integer", "name": "k", "label": "Fields"},
              {"type": "repeat", "name": "fields", "label": "Fields", "count": "${k}", "max": 2, "items": [
                {"type": "text", "name": "crop", "label": "Crop"}]}]}
          ]}"#;
        let form = Rc::new(form::load(src).form.unwrap());
        let s = Session::new(form.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
        let mut f = Filling::new(s, filling().meta);
        let (n, plots) = (form.node("n").unwrap(), form.node("plots").unwrap());
        let answer = |f: &mut Filling, node, v: i64| {
            f.apply(Action::Answer {
                node,
                value: v.into(),
            })
            .unwrap();
        };
        answer(&mut f, n, 3);
        assert_eq!(f.capped(plots), None);
        answer(&mut f, n, 8);
        let want = Capped {
            listed: 5,
            max: 5,
            asked: Some(8),
        };
        assert_eq!(f.capped(plots), Some(want));
        // Asking for more while capped changes no instance, but it changes what the roster says: the
        // repeat is reported, so the roster re-renders without checking after every action.
        let told = Rc::new(std::cell::Cell::new(0));
        let t = told.clone();
        f.subscribe(Topic::Repeat(plots), Rc::new(move || t.set(t.get() + 1)));
        let (cbs, _) = f
            .apply(Action::Answer {
                node: n,
                value: 9.into(),
            })
            .unwrap();
        cbs.iter().for_each(|cb| cb());
        assert_eq!(told.get(), 1);
        assert_eq!(f.capped(plots).and_then(|c| c.asked), Some(9));
        // Inside a repeat the count reads its own instance.
        let first = f.session.instances(plots.item, 0)[0];
        let k = Node {
            item: form.item_by_name("k").unwrap().id,
            scope: first,
        };
        answer(&mut f, k, 4);
        let fields = Node {
            item: form.item_by_name("fields").unwrap().id,
            scope: first,
        };
        let nested = f.capped(fields).unwrap();
        assert_eq!((nested.listed, nested.max, nested.asked), (2, 2, Some(4)));
        answer(&mut f, n, 0);
        assert_eq!(f.capped(plots), None);
    }

    #[test]
    fn lowering_a_count_is_tried_before_it_removes_members_with_answers() {
        let src = r#"{"format": "doorstep-form/1", "id": "c", "version": "1", "title": "C", "languages": ["en"],
          "items": [
            {"type": "integer", "name": "n", "label": "How many?"},
            {"type": "calculate", "name": "m", "calculation": "${n} * 1"},
            {"type": "text", "name": "other", "label": "Other"},
            {"type": "repeat", "name": "plots", "label": "Plots", "count": "${m}", "items": [
              {"type": "decimal", "name": "mu", "label": "Area"},
              {"type": "calculate", "name": "twice", "calculation": "${mu} * 2"}]}
          ]}"#;
        let form = Rc::new(form::load(src).form.unwrap());
        let s = Session::new(form.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
        let mut f = Filling::new(s, filling().meta);
        let (n, plots) = (form.node("n").unwrap(), form.node("plots").unwrap());
        let set = |node, v: i64| Action::Answer {
            node,
            value: v.into(),
        };
        assert!(
            f.would_remove(&set(n, 3)).is_empty(),
            "adding removes nothing"
        );
        f.apply(set(n, 3)).unwrap();
        let ids = f.session.instances(plots.item, 0).to_vec();
        assert!(
            f.would_remove(&set(n, 1)).is_empty(),
            "members without answers (a calculation is not one) may go"
        );
        let mu = form.item_by_name("mu").unwrap().id;
        f.apply(Action::Answer {
            node: Node {
                item: mu,
                scope: ids[2],
            },
            value: 1.5.into(),
        })
        .unwrap();
        assert_eq!(
            f.would_remove(&Action::Clear { node: n }),
            vec![(plots.item, ids[2])],
            "an emptied field, through a calculation"
        );
        assert_eq!(f.would_remove(&set(n, 2)), vec![(plots.item, ids[2])]);
        assert!(f.would_remove(&set(n, 4)).is_empty());
        assert_eq!(
            f.session.instances(plots.item, 0),
            &ids[..],
            "trying changes nothing"
        );
        let other = form.node("other").unwrap();
        assert!(
            f.would_remove(&Action::Clear { node: other }).is_empty(),
            "an answer no count reads is not tried"
        );
        assert_eq!(f.drives_count.get(&other.item), Some(&false));
    }

    #[test]
    fn a_member_is_named_as_the_surveyor_knows_it() {
        let src = r#"{"format": "doorstep-form/1", "id": "c", "version": "1", "title": "C", "languages": ["en"],
          "items": [
            {"type": "repeat", "name": "m", "label": "Members", "items": [
              {"type": "text", "name": "nm", "label": "Name"},
              {"type": "repeat", "name": "jobs", "label": "Jobs", "items": [
                {"type": "integer", "name": "pay", "label": "Pay"}]}]}
          ]}"#;
        let form = Rc::new(form::load(src).form.unwrap());
        let s = Session::new(form.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
        let mut f = Filling::new(s, filling().meta);
        let (m, jobs) = (
            form.node("m").unwrap().item,
            form.item_by_name("jobs").unwrap().id,
        );
        for _ in 0..2 {
            f.apply(Action::AddInstance {
                repeat: m,
                parent: 0,
            })
            .unwrap();
        }
        let members = f.session.instances(m, 0).to_vec();
        f.apply(Action::AddInstance {
            repeat: jobs,
            parent: members[1],
        })
        .unwrap();
        let job = f.session.instances(jobs, members[1])[0];
        let pay = Node {
            item: form.item_by_name("pay").unwrap().id,
            scope: job,
        };
        assert_eq!(f.members_of(pay, Lang::En), "Members 2 · Jobs 1");
        f.apply(Action::Answer {
            node: Node {
                item: form.item_by_name("nm").unwrap().id,
                scope: members[1],
            },
            value: "Chen Li".into(),
        })
        .unwrap();
        assert_eq!(f.members_of(pay, Lang::Zh), "Members · Chen Li · Jobs 1");
        let roster = Node {
            item: jobs,
            scope: members[1],
        };
        assert_eq!(
            f.members_of(roster, Lang::En),
            "Members · Chen Li",
            "a roster inside a member"
        );
        assert_eq!(f.members_of(form.node("m").unwrap(), Lang::En), "");
    }

    #[test]
    fn a_member_is_not_named_by_an_answer_its_page_no_longer_asks() {
        let src = r#"{"format": "doorstep-form/1", "id": "c", "version": "1", "title": "C", "languages": ["en"],
          "choices": {"kinds": [{"value": "cash", "label": "Cash"}, {"value": "goods", "label": "Goods"}]},
          "items": [
            {"type": "repeat", "name": "items", "label": "Item given", "items": [
              {"type": "select_one", "name": "kind", "label": "Kind", "choices": "kinds"},
              {"type": "text", "name": "what", "label": "What", "relevant": "${kind} != 'cash'"}]}
          ]}"#;
        let form = Rc::new(form::load(src).form.unwrap());
        let s = Session::new(form.clone(), Host::fixed("2026-11-22T09:00:00+08:00"));
        let mut f = Filling::new(s, filling().meta);
        let items = form.node("items").unwrap().item;
        f.apply(Action::AddInstance {
            repeat: items,
            parent: 0,
        })
        .unwrap();
        let inst = f.session.instances(items, 0)[0];
        let at = |name: &str| Node {
            item: form.item_by_name(name).unwrap().id,
            scope: inst,
        };
        f.apply(Action::Answer {
            node: at("kind"),
            value: "goods".into(),
        })
        .unwrap();
        f.apply(Action::Answer {
            node: at("what"),
            value: "Rice".into(),
        })
        .unwrap();
        assert_eq!(f.member_label(items, inst).as_deref(), Some("Rice"));
        f.apply(Action::Answer {
            node: at("kind"),
            value: "cash".into(),
        })
        .unwrap();
        assert_eq!(f.member_label(items, inst), None, "cash has no name");
        assert_eq!(f.member_title(inst, Lang::En), "Item given 1");
    }

    #[test]
    fn back_from_a_member_lands_where_the_roster_was() {
        let mut f = filling();
        let m = f.form.node("m").unwrap();
        for _ in 0..3 {
            f.apply(Action::AddInstance {
                repeat: m.item,
                parent: 0,
            })
            .unwrap();
        }
        let ids = f.session.instances(m.item, 0).to_vec();
        let page = |member| Pos { page: 1, member };
        let row = Rc::new(Cell::new(0));
        let r = row.clone();
        f.subscribe(Topic::Left(ids[1]), Rc::new(move || r.set(r.get() + 1)));
        f.go(page(None), 0.0);
        f.go(page(Some(ids[1])), 640.0);
        assert_eq!(row.get(), 0);
        assert_eq!(f.scroll, Scroll::Top, "a member's page starts at the top");
        f.go(page(None), 80.0).iter().for_each(|c| c());
        assert_eq!(row.get(), 1, "the row of the member left catches up");
        assert_eq!(
            f.scroll,
            Scroll::Back {
                y: 640.0,
                member: ids[1]
            }
        );
        // Opened again, then moved to the next member: back lands on the list as it was left.
        f.go(page(Some(ids[0])), 500.0);
        f.go(page(Some(ids[1])), 30.0);
        assert_eq!(f.scroll, Scroll::Top, "a sibling starts at the top");
        f.go(page(None), 0.0);
        assert_eq!(
            f.scroll,
            Scroll::Back {
                y: 500.0,
                member: ids[1]
            }
        );
        // Another page, and a page reached any other way, start at the top.
        f.go(page(Some(ids[2])), 700.0);
        f.go(
            Pos {
                page: 0,
                member: None,
            },
            0.0,
        );
        f.go(page(None), 0.0);
        assert_eq!(f.scroll, Scroll::Top);
    }
}
