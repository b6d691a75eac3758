//! The compiled form: items flattened in document order, expressions parsed and resolved, and the
//! dependency graph the session uses to re-evaluate only what a change affects.
//!
//! **Architecture invariant:** a `Form` is immutable once loaded; sessions share it behind an `Rc`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::model::{Choice, FormDoc, ItemDoc, ItemType, Text};
use crate::expr::{Expr, ItemId, Node};

/// FNV-1a: the engine's maps are keyed by short names and small numbers, read on every answer of an
/// office's million-submission ingest; SipHash's protection against crafted keys is not needed for
/// names the form itself defines.
#[derive(Default, Clone, Copy)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A hash map with [`Fnv`] hashing.
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// `true`, `false` or an expression (`required`, `read_only`).
#[derive(Clone, Debug)]
pub enum Cond {
    Const(bool),
    Expr(Expr),
}

/// A repeat's number of instances.
#[derive(Clone, Debug)]
pub enum RepeatCount {
    /// User-managed, between `min` and `max`.
    Free,
    Fixed(u64),
    Expr(Expr),
}

/// One item of a compiled form.
#[derive(Clone, Debug)]
pub struct Item {
    pub id: ItemId,
    pub name: String,
    pub kind: ItemType,
    /// The JSON path of the item in the file (`items[2].items[0]`).
    pub path: String,
    /// The group or repeat directly containing this item.
    pub parent: Option<ItemId>,
    pub children: Vec<ItemId>,
    /// The nearest repeat containing this item (not the item itself): the level its nodes live at.
    pub repeat: Option<ItemId>,
    /// Index of the item's slot among the items of its level (see `Form::level_items`).
    pub slot: u32,
    /// The definition as written (with `items` removed).
    pub doc: ItemDoc,
    pub relevant: Option<Expr>,
    pub required: Cond,
    pub read_only: Cond,
    pub constraint: Option<Expr>,
    pub calculation: Option<Expr>,
    pub default_expression: Option<Expr>,
    pub choice_filter: Option<Expr>,
    pub count: RepeatCount,
    /// Items whose answers are piped into the label or hint (`${name}` in text).
    pub piped: Vec<ItemId>,
    /// Some expression of this item uses `position(..)`.
    pub uses_position: bool,
}

impl Item {
    pub fn label<'a>(&'a self, lang: &str, default_lang: &str) -> &'a str {
        self.doc
            .label
            .as_ref()
            .map_or("", |t| t.get(lang, default_lang))
    }
    pub fn max_instances(&self) -> u64 {
        self.doc.max.unwrap_or(super::load::DEFAULT_REPEAT_MAX)
    }
    pub fn is_computed(&self) -> bool {
        self.calculation.is_some()
    }
}

/// A loaded, checked form.
#[derive(Debug)]
pub struct Form {
    pub id: String,
    pub version: String,
    /// `sha256:<hex>` of the canonical JSON.
    pub hash: String,
    pub title: Text,
    pub languages: Vec<String>,
    /// The exact source text, as it goes into a bundle's `form.json`.
    pub source: String,
    /// The top-level document without items (settings, choices, ...).
    pub doc: FormDoc,
    pub items: Vec<Item>,
    /// Top-level items in order.
    pub top: Vec<ItemId>,
    pub instance_name: Option<Expr>,
    pub(crate) by_name: FastMap<String, ItemId>,
    /// For each level (root = index 0, then one per repeat item), the items whose nodes live there.
    pub(crate) levels: FastMap<Option<ItemId>, Vec<ItemId>>,
    /// For each level, the items a stored object of that level may have as keys (answers and
    /// repeats), in byte order of their names: a stored object's keys are sorted, so resuming
    /// matches them in one walk.
    pub(crate) stored_keys: FastMap<Option<ItemId>, Vec<ItemId>>,
    /// For each repeat item, the repeats enclosing it and itself, outermost first (empty for other items).
    pub(crate) chains: Vec<Vec<ItemId>>,
    /// Items in dependency order (each after everything its values depend on).
    pub order: Vec<ItemId>,
    /// Position of each item in `order`.
    pub rank: Vec<u32>,
    /// Items to re-evaluate when an item's value, relevance or instances change.
    pub dependents: Vec<Vec<ItemId>>,
    /// For each repeat: the items whose expressions read it as a list (`count(${members})`,
    /// `indexed-repeat(.., ${members}, ..)`), not its children (which `dependents` also holds, for
    /// the relevance they inherit). Adding, removing or moving an instance re-evaluates only these.
    pub(crate) list_readers: FastMap<ItemId, Vec<ItemId>>,
}

impl Form {
    pub fn default_language(&self) -> &str {
        self.languages.first().map_or("", String::as_str)
    }
    pub fn item(&self, id: ItemId) -> &Item {
        &self.items[id as usize]
    }
    pub fn item_by_name(&self, name: &str) -> Option<&Item> {
        self.by_name.get(name).map(|&i| &self.items[i as usize])
    }
    /// The node of a top-level (not repeated) item, by name.
    pub fn node(&self, name: &str) -> Option<Node> {
        let item = self.item_by_name(name)?;
        item.repeat.is_none().then_some(Node {
            item: item.id,
            scope: 0,
        })
    }
    /// The items whose nodes live in one instance of `repeat` (or at the root for `None`).
    pub fn level_items(&self, repeat: Option<ItemId>) -> &[ItemId] {
        self.levels.get(&repeat).map_or(&[], Vec::as_slice)
    }
    /// The items of a level that a stored object may name (answers and repeats), by name.
    pub(crate) fn stored_keys(&self, repeat: Option<ItemId>) -> &[ItemId] {
        self.stored_keys.get(&repeat).map_or(&[], Vec::as_slice)
    }
    /// The choice list of a select item.
    pub fn choices_of(&self, item: &Item) -> &[Choice] {
        item.doc
            .choices
            .as_ref()
            .and_then(|l| self.doc.choices.get(l))
            .map_or(&[], Vec::as_slice)
    }
    /// True when `inner` is `outer` or nested inside it.
    pub fn is_within(&self, inner: ItemId, outer: ItemId) -> bool {
        let mut cur = Some(inner);
        while let Some(c) = cur {
            if c == outer {
                return true;
            }
            cur = self.items[c as usize].parent;
        }
        false
    }
    /// The chain of repeats enclosing items at `level`, outermost first, ending with `level` itself
    /// (empty for the root). Computed once at load.
    pub fn repeat_chain(&self, level: Option<ItemId>) -> &[ItemId] {
        match level {
            None => &[],
            Some(r) => self.chains.get(r as usize).map_or(&[], Vec::as_slice),
        }
    }
}
