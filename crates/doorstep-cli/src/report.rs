//! `doorstep report`: one self-contained HTML page for the office's assessment (考核评估): counts by
//! place, care category, urgency and help needed, the urgent households most urgent first, help given by fund
//! line, and register entries and exits by month. Inline CSS and inline SVG charts; no script, no
//! network, so the file can be mailed and opened anywhere, and printed.
//!
//! The report reads these fields, by name, when the database has them (a missing form or field
//! leaves its section out with a note, so the report works on any subset of the forms):
//! - `household_needs`: `township`, `village`, `care_categories` (space-joined `cat1`..`cat5`),
//!   `urgency` (`urgent`/`key`/`general`, named by the form's list when it has one, else like
//!   emergency_aid's levels: [`urgency_words`]), `urgency_score` (orders the urgent list),
//!   `urgency_reasons` (`urgency_reasons_en` in English when the form has it), `help_needed`
//!   (select_multiple), `head_name`, `household_size`, and `head_id`, `surveyor`, `survey_day` for the
//!   households possibly surveyed twice;
//! - `care_visit`: `fund_line`, `total_amount` (yuan), `visit_type`, `visit_date`;
//! - `emergency_aid`: `urgency`, `amount_requested`, and for the list of urgent reports `event_date`,
//!   `head_name`, `township`, `village`, `event_type`, `contact_phone`;
//! - `register_change`: `change_type` (`entry`/`exit`), `change_date`.
//!
//! Labels come from the choice lists of the stored forms, in `--lang`; every text is HTML-escaped.
//! Counts and amounts have their digits grouped in threes (`19,300,498.10`), in both languages.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Parser;
use doorstep_core::form::compiled::Form;

use crate::db::{self, Store, Val};
use crate::export::{column_info, load_forms};
use crate::{CliError, Outcome};

#[derive(Parser)]
pub struct Args {
    /// A SQLite file or a `postgres://` URL.
    #[arg(long, default_value = "office.db")]
    pub db: String,
    /// The HTML file to write.
    #[arg(short, long)]
    pub out: PathBuf,
    /// The language of labels and headings.
    #[arg(long, default_value = "zh-CN", value_parser = LANGS)]
    pub lang: String,
}

/// The languages the report is written in (its own headings exist in these two); anything else
/// is a usage error from the argument parser (exit code 2), before the database is opened.
pub const LANGS: [&str; 2] = ["zh-CN", "en"];

/// Escapes text for HTML and SVG (element content and attribute values).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

struct Ctx<'a> {
    store: &'a mut dyn Store,
    forms: BTreeMap<String, Vec<Form>>,
    tables: Vec<String>,
    lang: String,
    zh: bool,
    /// Submissions replaced by a correction (`db::replaced`): not counted.
    replaced: std::collections::HashSet<String>,
}

impl Ctx<'_> {
    fn t<'s>(&self, zh: &'s str, en: &'s str) -> &'s str {
        if self.zh { zh } else { en }
    }

    /// The label of a value a count is kept by; an unanswered one says so rather than being a
    /// row or a bar with no name.
    fn named(&self, labels: &HashMap<String, String>, v: &str) -> String {
        if v.trim().is_empty() {
            self.t("（未填写）", "(not answered)").to_string()
        } else {
            label(labels, v)
        }
    }

    /// A bar chart, or a note when there is nothing to draw (no rows, or every value zero).
    fn bars(
        &self,
        s: &mut String,
        title: &str,
        rows: &[(String, f64)],
        fmt: &dyn Fn(f64) -> String,
    ) {
        if rows.iter().all(|r| r.1 == 0.0) {
            note(s, self.t("没有可显示的数据。", "Nothing to show."));
        } else {
            s.push_str(&bar_chart(title, rows, fmt));
        }
    }

    /// The columns of `table` among `wanted`; `None` when the table is not in the database.
    fn have(&mut self, table: &str, wanted: &[&str]) -> Result<Option<Vec<String>>, CliError> {
        if !self.tables.iter().any(|t| t == table) {
            return Ok(None);
        }
        let cols = self.store.columns(table)?;
        Ok(Some(
            wanted
                .iter()
                .filter(|w| cols.iter().any(|c| c == *w))
                .map(|w| w.to_string())
                .collect(),
        ))
    }

    /// The values of `column`'s choices in the order the newest form version lists them (for
    /// `urgency` without a list: urgent, key, general).
    fn choice_values(&self, form_id: &str, column: &str) -> Vec<String> {
        let listed = self
            .forms
            .get(form_id)
            .and_then(|versions| column_info(versions, form_id, Some(&self.lang)).remove(column))
            .map(|i| i.choices.into_iter().map(|(v, _)| v).collect::<Vec<_>>())
            .unwrap_or_default();
        if listed.is_empty() && column == "urgency" {
            return URGENCY.map(|(v, _, _)| v.to_string()).to_vec();
        }
        listed
    }

    /// `value -> label` for a column of a form: its own choice list (a select's, or the list a
    /// calculate is named after), or a list named like it; for `urgency` without a list, the
    /// names of [`urgency_words`].
    fn labels(&self, form_id: &str, table: &str, column: &str) -> HashMap<String, String> {
        let mut out = HashMap::new();
        let Some(versions) = self.forms.get(form_id) else {
            return out;
        };
        if let Some(i) = column_info(versions, table, Some(&self.lang)).get(column) {
            out.extend(i.choices.iter().cloned());
        }
        if out.is_empty() {
            for f in versions {
                if let Some(list) = f.doc.choices.get(column) {
                    for c in list {
                        out.insert(
                            c.value.clone(),
                            c.label.get(&self.lang, f.default_language()).to_string(),
                        );
                    }
                }
            }
        }
        if out.is_empty() && column == "urgency" {
            out.extend(urgency_words(&self.forms, &self.lang));
        }
        out
    }

    fn scan(
        &mut self,
        table: &str,
        cols: &[String],
        f: &mut dyn FnMut(&[Val]),
    ) -> Result<(), CliError> {
        // Each row's `instance_id` comes after the asked columns, to leave out replaced ones.
        let mut with_id = cols.to_vec();
        with_id.push("instance_id".to_string());
        let replaced = &self.replaced;
        self.store.scan(table, &with_id, &mut |v| {
            let (row, id) = v.split_at(cols.len());
            if !matches!(&id[0], Val::Text(id) if replaced.contains(id)) {
                f(row);
            }
            Ok(())
        })
    }
}

/// The urgency levels household_needs computes (its `urgency` is a calculate with no list of its
/// own), and our words for them: the same as emergency_aid's list `urgency_levels` gives.
const URGENCY: [(&str, &str, &str); 3] = [
    ("urgent", "紧急", "Urgent"),
    ("key", "重点", "Priority"),
    ("general", "一般", "Ordinary"),
];

/// The names of the urgency levels where a form computes them without a list: the labels a stored
/// form's list for its `urgency` gives the same codes (emergency_aid's), else ours, so that the
/// households and the emergency reports name the levels alike.
pub fn urgency_words(forms: &BTreeMap<String, Vec<Form>>, lang: &str) -> Vec<(String, String)> {
    let mut given: HashMap<String, String> = HashMap::new();
    for (id, versions) in forms {
        if let Some(i) = column_info(versions, id, Some(lang)).remove("urgency") {
            for (v, l) in i.choices {
                if !l.trim().is_empty() {
                    given.entry(v).or_insert(l);
                }
            }
        }
    }
    URGENCY
        .iter()
        .map(|(v, zh, en)| {
            let ours = if lang.starts_with("zh") { zh } else { en };
            let word = given.remove(*v).unwrap_or_else(|| ours.to_string());
            (v.to_string(), word)
        })
        .collect()
}

/// The names the report gives the codes of a column the form has no choice list for, for the
/// codebook to say so: household_needs' `urgency`.
pub fn known_codes(
    forms: &BTreeMap<String, Vec<Form>>,
    form_id: &str,
    table: &str,
    column: &str,
    lang: &str,
) -> Option<Vec<(String, String)>> {
    (form_id == "household_needs" && table == form_id && column == "urgency")
        .then(|| urgency_words(forms, lang))
}

fn label(labels: &HashMap<String, String>, v: &str) -> String {
    labels.get(v).cloned().unwrap_or_else(|| v.to_string())
}

/// The font size of chart text in SVG user units: CSS pixels when a chart is at its natural width.
const FONT: f64 = 13.0;
/// The natural width of a bar chart. Narrow on purpose: on a 360 px phone (about 336 px for
/// content) it shrinks by less than a tenth, so its text stays about 12 px.
const BAR_CHART_W: f64 = 360.0;
/// The widest a month chart grows before its columns get thinner.
const PAIR_CHART_MAX_W: f64 = 900.0;
/// A chart is never drawn smaller than this share of its natural width (its text stays legible):
/// where the room is narrower, the chart scrolls sideways inside its own box, never the page.
const MIN_SCALE: f64 = 0.9;
/// How much larger than its natural size a chart may grow on a wide screen.
const MAX_SCALE: f64 = 1.25;

/// Whether a character takes about 1 em (CJK, full-width forms) rather than about 0.6 em.
fn is_wide(c: char) -> bool {
    (c as u32) >= 0x1100
}

/// The estimated width of `s` at font `size`: wide characters about 1 em, others about 0.6 em.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if is_wide(c) { 1.0 } else { 0.6 })
        .sum::<f64>()
        * size
}

/// Breaks `s` into lines no wider than `max` (estimated, at font `size`): Latin text at spaces,
/// CJK text between any two characters but not before closing punctuation nor after opening
/// punctuation. A word wider than a whole line is cut between characters.
fn wrap(s: &str, max: f64, size: f64) -> Vec<String> {
    const CLOSING: &str = "，。、；：！？）」』】〉》,.;:!?)%";
    const OPENING: &str = "（「『【〈《(";
    // Tokens that must not be split; `None` stands for a breakable space.
    let mut tokens: Vec<Option<String>> = Vec::new();
    let mut glue_next = false;
    for c in s.chars() {
        if c.is_whitespace() {
            tokens.push(None);
            glue_next = false;
            continue;
        }
        let joins_prev = glue_next
            || CLOSING.contains(c)
            || (!is_wide(c)
                && matches!(tokens.last(), Some(Some(t)) if !t.chars().last().is_some_and(is_wide)));
        match tokens.last_mut() {
            Some(Some(t)) if joins_prev => t.push(c),
            _ => tokens.push(Some(c.to_string())),
        }
        glue_next = OPENING.contains(c);
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut space = false;
    for t in tokens {
        let Some(t) = t else {
            space = !line.is_empty();
            continue;
        };
        let joined = format!("{line}{}{t}", if space { " " } else { "" });
        space = false;
        if text_width(&joined, size) <= max {
            line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if text_width(&t, size) <= max {
            line = t;
            continue;
        }
        for c in t.chars() {
            if !line.is_empty() && text_width(&format!("{line}{c}"), size) > max {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Debug)]
enum Item {
    Text {
        x: f64,
        /// The baseline.
        y: f64,
        anchor: Anchor,
        class: &'static str,
        text: String,
    },
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        class: &'static str,
    },
}

/// A chart laid out in SVG user units, before it is written: the layout can be checked (no text
/// over other text, nothing outside the box) without a browser.
#[derive(Debug)]
struct Chart {
    title: String,
    w: f64,
    h: f64,
    items: Vec<Item>,
}

/// A number for an SVG attribute: at most one decimal.
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

impl Chart {
    fn new(title: &str, w: f64) -> Self {
        Chart {
            title: title.to_string(),
            w,
            h: 0.0,
            items: Vec::new(),
        }
    }

    fn text(&mut self, x: f64, y: f64, anchor: Anchor, class: &'static str, text: &str) {
        self.items.push(Item::Text {
            x,
            y,
            anchor,
            class,
            text: text.to_string(),
        });
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &'static str) {
        self.items.push(Item::Rect { x, y, w, h, class });
    }

    /// The estimated boxes of the texts, `(left, top, right, bottom, text)`.
    #[cfg(test)]
    fn text_boxes(&self) -> Vec<(f64, f64, f64, f64, &str)> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Text {
                    x, y, anchor, text, ..
                } => {
                    let w = text_width(text, FONT);
                    let left = match anchor {
                        Anchor::Start => *x,
                        Anchor::Middle => x - w / 2.0,
                        Anchor::End => x - w,
                    };
                    Some((
                        left,
                        y - 0.8 * FONT,
                        left + w,
                        y + 0.2 * FONT,
                        text.as_str(),
                    ))
                }
                Item::Rect { .. } => None,
            })
            .collect()
    }

    /// Inline SVG that scales to the width available, down to `MIN_SCALE` of its natural size and
    /// up to `MAX_SCALE` of it (a chart laid out for a phone is read, and printed, larger on a
    /// desk); in a box that scrolls sideways when even the smallest does not fit.
    fn svg(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            r#"<div class="cw"><svg class="chart" role="img" aria-label="{}" viewBox="0 0 {w} {h}" style="max-width:{max}px;min-width:{min}px">"#,
            esc(&self.title),
            w = num(self.w),
            h = num(self.h),
            max = num((self.w * MAX_SCALE).floor()),
            min = num((self.w * MIN_SCALE).floor()),
        );
        for i in &self.items {
            match i {
                Item::Text {
                    x,
                    y,
                    anchor,
                    class,
                    text,
                } => {
                    let _ = write!(
                        s,
                        r#"<text x="{}" y="{}"{} class="{class}">{}</text>"#,
                        num(*x),
                        num(*y),
                        match anchor {
                            Anchor::Start => "",
                            Anchor::Middle => r#" text-anchor="middle""#,
                            Anchor::End => r#" text-anchor="end""#,
                        },
                        esc(text)
                    );
                }
                Item::Rect { x, y, w, h, class } => {
                    let _ = write!(
                        s,
                        r#"<rect x="{}" y="{}" width="{}" height="{}" class="{class}"/>"#,
                        num(*x),
                        num(*y),
                        num(*w),
                        num(*h)
                    );
                }
            }
        }
        s.push_str("</svg></div>");
        s
    }
}

/// A horizontal bar chart as inline SVG. `rows`: (label, value); values shown as given by `fmt`.
pub fn bar_chart(title: &str, rows: &[(String, f64)], fmt: &dyn Fn(f64) -> String) -> String {
    bar_layout(title, rows, fmt).svg()
}

/// Short labels go left of their bars; long ones (care categories have long Chinese names) on
/// their own line above the bar, wrapped to the chart's width, so the chart stays phone-narrow.
fn bar_layout(title: &str, rows: &[(String, f64)], fmt: &dyn Fn(f64) -> String) -> Chart {
    let w = BAR_CHART_W;
    let mut c = Chart::new(title, w);
    let values: Vec<String> = rows.iter().map(|r| fmt(r.1)).collect();
    let value_w = values
        .iter()
        .map(|v| text_width(v, FONT))
        .fold(0.0, f64::max);
    let label_w = rows
        .iter()
        .map(|r| text_width(&r.0, FONT))
        .fold(0.0, f64::max);
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let bar = |v: f64, span: f64| (v / max * span).max(if v > 0.0 { 1.0 } else { 0.0 });
    let mut y = 4.0;
    if label_w + 8.0 <= w * 0.4 {
        let bar_x = label_w + 8.0;
        let span = w - bar_x - value_w - 8.0;
        for ((l, v), vs) in rows.iter().zip(&values) {
            let bw = bar(*v, span);
            c.text(bar_x - 6.0, y + 14.0, Anchor::End, "l", l);
            c.rect(bar_x, y + 2.0, bw, 16.0, "b");
            c.text(bar_x + bw + 5.0, y + 14.0, Anchor::Start, "v", vs);
            y += 22.0;
        }
    } else {
        let span = w - 1.0 - value_w - 8.0;
        for ((l, v), vs) in rows.iter().zip(&values) {
            for line in wrap(l, w - 2.0, FONT) {
                c.text(1.0, y + 13.0, Anchor::Start, "l", &line);
                y += 16.0;
            }
            let bw = bar(*v, span);
            c.rect(1.0, y + 2.0, bw, 14.0, "b");
            c.text(1.0 + bw + 5.0, y + 13.5, Anchor::Start, "v", vs);
            y += 26.0;
        }
    }
    c.h = y + 4.0;
    c
}

/// The axis label of a period: a `YYYY-MM` month as its month name (`8月`, `Aug`) over its year;
/// anything else as it is.
fn period_label(p: &str, zh: bool) -> (String, Option<String>) {
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = p.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() == 7
        && b[4] == b'-'
        && digits(0..4)
        && digits(5..7)
        && let Ok(m @ 1..=12) = p[5..].parse::<usize>()
    {
        let month = if zh {
            format!("{m}月")
        } else {
            EN[m - 1].to_string()
        };
        return (month, Some(p[..4].to_string()));
    }
    if p.is_empty() {
        return ((if zh { "无日期" } else { "no date" }).to_string(), None);
    }
    (p.to_string(), None)
}

/// A grouped bar chart of two series by period (entries and exits by month).
pub fn pair_chart(
    title: &str,
    periods: &[(String, f64, f64)],
    names: (&str, &str),
    zh: bool,
) -> String {
    pair_layout(title, periods, names, zh).svg()
}

fn pair_layout(
    title: &str,
    periods: &[(String, f64, f64)],
    names: (&str, &str),
    zh: bool,
) -> Chart {
    let n = periods.len() as f64;
    let left = 8.0;
    let value_w = periods
        .iter()
        .flat_map(|p| [p.1, p.2])
        .map(|v| text_width(&int(v), FONT))
        .fold(0.0, f64::max);
    // A column holds two bars and their numbers side by side; with many periods the columns get
    // thinner, the numbers are left to the table below, and the axis labels are thinned out.
    let roomy = (value_w + 22.0).max(46.0);
    let pitch = if left * 2.0 + roomy * n <= PAIR_CHART_MAX_W {
        roomy
    } else {
        ((PAIR_CHART_MAX_W - left * 2.0) / n).max(16.0)
    };
    let show_values = pitch >= roomy;
    let bw = ((pitch - 10.0) / 2.0).min(16.0);
    let top = if show_values {
        2.0 * (FONT + 2.0) + 4.0
    } else {
        8.0
    };
    let plot_h = 150.0;
    let base = top + plot_h;
    let max = periods
        .iter()
        .map(|p| p.1.max(p.2))
        .fold(0.0, f64::max)
        .max(1.0);
    let legend_w = [names.0, names.1]
        .iter()
        .map(|t| 16.0 + text_width(t, FONT))
        .fold(0.0, f64::max);
    let w = (left * 2.0 + pitch * n)
        .max(320.0)
        .max(left * 2.0 + legend_w);
    let mut c = Chart::new(title, w);
    let mut last_label_right = f64::NEG_INFINITY;
    let mut last_year: Option<(String, f64)> = None;
    let mut any_year = false;
    for (i, (p, a, b)) in periods.iter().enumerate() {
        let cx = left + pitch * (i as f64 + 0.5);
        let (ha, hb) = (a / max * plot_h, b / max * plot_h);
        let (xa, xb) = (cx - bw - 1.0, cx + 1.0);
        c.rect(xa, base - ha, bw, ha, "b");
        c.rect(xb, base - hb, bw, hb, "b2");
        if show_values {
            // Two numbers over bars of about the same height would overprint: lift the taller's.
            let (mut ya, mut yb) = (base - ha - 4.0, base - hb - 4.0);
            if (ya - yb).abs() < FONT + 1.0 {
                if ya <= yb {
                    ya = yb - FONT - 1.0;
                } else {
                    yb = ya - FONT - 1.0;
                }
            }
            c.text(xa + bw / 2.0, ya, Anchor::Middle, "v", &int(*a));
            c.text(xb + bw / 2.0, yb, Anchor::Middle, "v", &int(*b));
        }
        let (label, year) = period_label(p, zh);
        let lw = text_width(&label, FONT);
        if cx - lw / 2.0 < last_label_right + 6.0 {
            continue;
        }
        last_label_right = cx + lw / 2.0;
        c.text(cx, base + 16.0, Anchor::Middle, "l", &label);
        if let Some(year) = year {
            let yw = text_width(&year, FONT);
            let show = last_year
                .as_ref()
                .is_none_or(|(y, right)| *y != year && cx - yw / 2.0 >= right + 6.0);
            if show {
                c.text(cx, base + 31.0, Anchor::Middle, "l", &year);
                last_year = Some((year, cx + yw / 2.0));
                any_year = true;
            }
        }
    }
    // The legend: each entry as wide as its text, on the next line when the line is full. Its
    // lines are phone-narrow, so a wide chart scrolled to its start still shows the legend.
    let mut y = base + if any_year { 42.0 } else { 26.0 };
    let mut x = left;
    let line_end = w.min(320.0) - left;
    for (name, class) in [(names.0, "b"), (names.1, "b2")] {
        let ew = 16.0 + text_width(name, FONT);
        if x > left && x + ew > line_end {
            x = left;
            y += 20.0;
        }
        c.rect(x, y, 12.0, 12.0, class);
        c.text(x + 16.0, y + 11.0, Anchor::Start, "l", name);
        x += ew + 18.0;
    }
    c.h = y + 12.0 + 8.0;
    c
}

fn counts_sorted(m: HashMap<String, f64>) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = m.into_iter().collect();
    v.sort_by(|a, b| {
        b.1.partial_cmp(&a.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.0.cmp(&b.0))
    });
    v
}

/// A count, its digits grouped in threes (`12,480`).
fn int(v: f64) -> String {
    grouped(&format!("{:.0}", v + 0.0))
}

/// An amount in yuan with two decimals, its digits grouped in threes (`19,300,498.10`): the way
/// offices write amounts in Chinese as in English. The export's tables keep raw numbers.
fn money(v: f64) -> String {
    // `+ 0.0` makes a negative zero (the sum of no amounts) print as 0.00, not -0.00.
    grouped(&format!("{:.2}", v + 0.0))
}

/// A formatted number with a comma between each three digits of its whole part.
fn grouped(n: &str) -> String {
    let (sign, rest) = n.split_at(usize::from(n.starts_with('-')));
    let (whole, frac) = rest.split_at(rest.find('.').unwrap_or(rest.len()));
    if !whole.bytes().all(|b| b.is_ascii_digit()) {
        return n.to_string(); // inf, NaN
    }
    let mut out = String::with_capacity(n.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

fn note(s: &mut String, text: &str) {
    let _ = write!(s, r#"<p class="note">{}</p>"#, esc(text));
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let mut store = db::open_existing(&args.db)?;
    let forms = load_forms(store.as_mut())?;
    let tables = store.tables()?;
    let replaced = db::replaced(store.as_mut())?;
    let zh = args.lang.starts_with("zh");
    let mut cx = Ctx {
        store: store.as_mut(),
        forms,
        tables,
        lang: args.lang.clone(),
        zh,
        replaced,
    };
    let mut body = String::new();
    households(&mut cx, &mut body)?;
    visits(&mut cx, &mut body)?;
    emergencies(&mut cx, &mut body)?;
    register(&mut cx, &mut body)?;
    let title = cx.t("家庭关怀评估报告", "Family care assessment report");
    let generated = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em auto; max-width: 62em; padding: 0 1em; color: #222; line-height: 1.5; overflow-wrap: break-word; }}
h1 {{ font-size: 1.6em; border-bottom: 2px solid #2b6cb0; padding-bottom: .3em; }}
h2 {{ font-size: 1.25em; margin-top: 2em; color: #2b6cb0; }}
.cw, .tw {{ max-width: 100%; overflow-x: auto; }}
.chart {{ display: block; width: 100%; height: auto; margin: .5em 0; }}
table {{ border-collapse: collapse; margin: .5em 0 1em; }}
th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }}
th, td {{ word-break: keep-all; }} td.n, td.d {{ white-space: nowrap; }} td.t {{ word-break: normal; min-width: 14em; }}
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.chart text {{ font-family: inherit; font-size: {font}px; fill: #222; }}
.chart .b {{ fill: #2b6cb0; }} .chart .b2 {{ fill: #dd6b20; }}
.note {{ color: #777; font-size: .9em; }}
@media (max-width: 40em) {{
 body {{ margin: 1em auto; padding: 0 .75em; }}
 h1 {{ font-size: 1.35em; }}
 th, td:first-child {{ word-break: normal; }} /* long Chinese headers and names wrap rather than push the numbers off the screen */
 table.cards, table.cards tbody, table.cards tr {{ display: block; }}
 table.cards thead {{ display: none; }}
 table.cards tr {{ border: 1px solid #ccc; border-radius: 4px; margin: 0 0 .5em; padding: .3em .5em; }}
 table.cards td {{ display: inline-block; border: 0; padding: 0 .5em 0 0; }}
 table.cards td::before {{ content: attr(data-label) ": "; color: #666; }}
 :lang(zh) table.cards td::before {{ content: attr(data-label) "："; }}
 table.cards td:first-child {{ font-weight: bold; }}
 table.cards td:first-child::before {{ content: none; }}
 table.cards td.t {{ display: block; min-width: 0; padding: .15em 0 0; text-align: left; }}
}}
@media print {{ h2 {{ break-before: auto; }} table, svg {{ break-inside: avoid; }} .chart {{ min-width: 0 !important; }} .cw, .tw {{ overflow: visible; }} }}
</style></head><body>
<h1>{t}</h1>
<p class="note">{gen} {generated} · {db}</p>
{replaced_note}{body}
</body></html>
"#,
        lang = esc(&args.lang),
        font = FONT,
        t = esc(title),
        gen = esc(cx.t("生成时间", "Generated")),
        db = esc(args.db.rsplit('@').next().unwrap_or(&args.db)),
        replaced_note = match cx.replaced.len() {
            0 => String::new(),
            n if cx.zh => format!(r#"<p class="note">{n} 份调查在手机上更正过：只计更正后的一份。</p>"#),
            n => format!(
                r#"<p class="note">{n} submission{} corrected on the phone: only the correction is counted.</p>"#,
                if n == 1 { " was" } else { "s were" }
            ),
        },
    );
    std::fs::write(&args.out, html).map_err(|e| {
        CliError::msg(format!(
            "cannot write {}: {e}; check the path",
            args.out.display()
        ))
    })?;
    println!("{}", args.out.display());
    Ok(Outcome::Clean)
}

/// A table in a box that scrolls sideways when the table is wider than the page. Columns from
/// `numeric_from` on are numbers; `text_col`, a long text, wraps and gets a sensible width, and
/// on a phone each row of such a table becomes a card (the header's text before each value).
fn table_html(
    head: &[&str],
    rows: &[Vec<String>],
    numeric_from: usize,
    text_col: Option<usize>,
) -> String {
    // A table of no rows would be a header alone: the heading before it already says 0.
    if rows.is_empty() {
        return String::new();
    }
    let mut s = format!(
        r#"<div class="tw"><table{}><thead><tr>"#,
        if text_col.is_some() {
            r#" class="cards""#
        } else {
            ""
        }
    );
    for (i, h) in head.iter().enumerate() {
        let _ = write!(
            s,
            "<th{}>{}</th>",
            if i >= numeric_from {
                r#" class="n""#
            } else {
                ""
            },
            esc(h)
        );
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let _ = write!(
                s,
                r#"<td{} data-label="{}">{}</td>"#,
                if i >= numeric_from {
                    r#" class="n""#
                } else if text_col == Some(i) {
                    r#" class="t""#
                } else if is_date(c) {
                    r#" class="d""#
                } else {
                    ""
                },
                esc(head.get(i).copied().unwrap_or("")),
                esc(c)
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

/// Whether a cell is a date or a month (`2026-08-13`, `2026-08`): one that must not wrap at its
/// hyphens (a narrow column showed "2026-" over "08").
fn is_date(c: &str) -> bool {
    let b = c.as_bytes();
    (b.len() == 7 || b.len() == 10)
        && b.iter().enumerate().all(|(i, x)| {
            if i == 4 || i == 7 {
                *x == b'-'
            } else {
                x.is_ascii_digit()
            }
        })
}

fn households(cx: &mut Ctx<'_>, s: &mut String) -> Result<(), CliError> {
    const T: &str = "household_needs";
    let wanted = [
        "township",
        "village",
        "care_categories",
        "urgency",
        "urgency_reasons",
        "urgency_reasons_en",
        "urgency_score",
        "help_needed",
        "head_name",
        "household_size",
        "head_id",
        "surveyor",
        "survey_day",
    ];
    let _ = write!(
        s,
        "<h2>{}</h2>",
        esc(cx.t("入户调查", "Households surveyed"))
    );
    let Some(cols) = cx.have(T, &wanted)? else {
        note(
            s,
            cx.t(
                "数据库中没有 household_needs（家庭需求评估）的数据。",
                "The database holds no household_needs submissions.",
            ),
        );
        return Ok(());
    };
    let idx = |n: &str| cols.iter().position(|c| c == n);
    let (tw, vi, ca, ur, he, hn, hs, sc) = (
        idx("township"),
        idx("village"),
        idx("care_categories"),
        idx("urgency"),
        idx("help_needed"),
        idx("head_name"),
        idx("household_size"),
        idx("urgency_score"),
    );
    let (hid, who, day) = (idx("head_id"), idx("surveyor"), idx("survey_day"));
    // The reasons in the report's language when the form computes them in it.
    let rs = match (cx.zh, idx("urgency_reasons_en")) {
        (false, Some(en)) => Some(en),
        _ => idx("urgency_reasons"),
    };
    let mut total = 0u64;
    let mut by_town: HashMap<String, f64> = HashMap::new();
    let mut by_village: HashMap<(String, String), f64> = HashMap::new();
    let mut cats: HashMap<String, f64> = HashMap::new();
    let mut urg: HashMap<String, f64> = HashMap::new();
    let mut help: HashMap<String, f64> = HashMap::new();
    // (score, township, village, head, size, reasons): the most urgent first.
    let mut urgent: Vec<(f64, String, String, String, String, String)> = Vec::new();
    let text = |v: &[Val], i: Option<usize>| {
        i.and_then(|i| v[i].as_str().map(str::to_string))
            .unwrap_or_default()
    };
    // Households by the head's ID number: one surveyed twice (by two surveyors, or twice by one)
    // is counted twice until the office takes one out.
    let mut by_id: BTreeMap<String, Vec<[String; 5]>> = BTreeMap::new();
    cx.scan(T, &cols.clone(), &mut |v| {
        total += 1;
        let id = text(v, hid);
        if !id.trim().is_empty() {
            by_id.entry(id.trim().to_uppercase()).or_default().push([
                text(v, hn),
                text(v, tw),
                text(v, vi),
                text(v, who),
                text(v, day),
            ]);
        }
        let town = text(v, tw);
        let village = text(v, vi);
        *by_town.entry(town.clone()).or_default() += 1.0;
        *by_village
            .entry((town.clone(), village.clone()))
            .or_default() += 1.0;
        for c in text(v, ca).split_whitespace() {
            *cats.entry(c.to_string()).or_default() += 1.0;
        }
        // Unanswered too (a household that refused the interview has no urgency): the bars add
        // up to the households counted.
        let u = text(v, ur);
        *urg.entry(u.clone()).or_default() += 1.0;
        for h in text(v, he).split_whitespace() {
            *help.entry(h.to_string()).or_default() += 1.0;
        }
        // The urgent list is for action: it names every urgent household, however many.
        if u == "urgent" {
            let size = hs.and_then(|i| v[i].as_f64()).map_or(String::new(), int);
            let score = sc.and_then(|i| v[i].as_f64()).unwrap_or(f64::NAN);
            urgent.push((score, town, village, text(v, hn), size, text(v, rs)));
        }
    })?;
    let town_l = cx.labels(T, T, "township");
    let village_l = cx.labels(T, T, "village");
    let _ = write!(
        s,
        "<p>{} <b>{}</b></p>",
        esc(cx.t("调查户数：", "Households surveyed:")),
        int(total as f64)
    );
    if tw.is_some() {
        let rows: Vec<(String, f64)> = counts_sorted(by_town)
            .into_iter()
            .map(|(k, v)| (cx.named(&town_l, &k), v))
            .collect();
        cx.bars(s, cx.t("按乡镇", "By township"), &rows, &int);
        let mut vrows: Vec<((String, String), f64)> = by_village.into_iter().collect();
        vrows.sort_by(|a, b| a.0.cmp(&b.0));
        let rows: Vec<Vec<String>> = vrows
            .into_iter()
            .map(|((t, v), n)| vec![cx.named(&town_l, &t), cx.named(&village_l, &v), int(n)])
            .collect();
        s.push_str(&table_html(
            &[
                cx.t("乡镇", "Township"),
                cx.t("村（社区）", "Village"),
                cx.t("户数", "Households"),
            ],
            &rows,
            2,
            None,
        ));
    } else {
        note(
            s,
            cx.t(
                "表单没有 township 字段。",
                "The form has no township field.",
            ),
        );
    }
    let _ = write!(s, "<h2>{}</h2>", esc(cx.t("关怀类别", "Care categories")));
    if ca.is_some() {
        let l = cx.labels(T, T, "care_categories");
        let mut rows: Vec<(String, f64)> = cats.into_iter().collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let rows: Vec<(String, f64)> = rows.into_iter().map(|(k, v)| (label(&l, &k), v)).collect();
        cx.bars(s, cx.t("关怀类别", "Care categories"), &rows, &int);
    } else {
        note(
            s,
            cx.t(
                "表单没有 care_categories 字段。",
                "The form has no care_categories field.",
            ),
        );
    }
    let _ = write!(s, "<h2>{}</h2>", esc(cx.t("紧急程度", "Urgency")));
    if ur.is_some() {
        let l = cx.labels(T, T, "urgency");
        let order = URGENCY.map(|(v, _, _)| v);
        let mut rows: Vec<(String, f64)> = order
            .iter()
            .map(|k| (label(&l, k), urg.remove(*k).unwrap_or(0.0)))
            .collect();
        rows.extend(
            counts_sorted(urg)
                .into_iter()
                .map(|(k, v)| (cx.named(&l, &k), v)),
        );
        cx.bars(s, cx.t("紧急程度", "Urgency"), &rows, &int);
        let _ = write!(
            s,
            "<h3>{} ({})</h3>",
            esc(cx.t("紧急户名单", "Urgent households")),
            urgent.len()
        );
        // Acted on from the top: the highest score first (the form's `urgency_score`), then by
        // place and name, so that one village's households stand together within a score.
        urgent.sort_by(|a, b| {
            let score = |x: f64| if x.is_nan() { f64::NEG_INFINITY } else { x };
            score(b.0)
                .total_cmp(&score(a.0))
                .then_with(|| (&a.1, &a.2, &a.3).cmp(&(&b.1, &b.2, &b.3)))
        });
        let rows: Vec<Vec<String>> = urgent
            .into_iter()
            .map(|(score, t, v, n, size, r)| {
                let mut row = vec![n, label(&town_l, &t), label(&village_l, &v), size];
                if sc.is_some() {
                    row.push(if score.is_nan() {
                        String::new()
                    } else {
                        int(score)
                    });
                }
                row.push(r.trim_start_matches(['；', ';', ' ']).to_string());
                row
            })
            .collect();
        let mut head = vec![
            cx.t("户主", "Head"),
            cx.t("乡镇", "Township"),
            cx.t("村", "Village"),
            cx.t("人口", "Size"),
        ];
        if sc.is_some() {
            head.push(cx.t("评分", "Score"));
        }
        head.push(cx.t("原因", "Reasons"));
        s.push_str(&table_html(&head, &rows, head.len(), Some(head.len() - 1)));
    } else {
        note(
            s,
            cx.t("表单没有 urgency 字段。", "The form has no urgency field."),
        );
    }
    if hid.is_some() {
        twice(cx, s, by_id, &town_l, &village_l);
    }
    let _ = write!(s, "<h2>{}</h2>", esc(cx.t("帮扶需求", "Help needed")));
    if he.is_some() {
        let l = cx.labels(T, T, "help_needed");
        let rows: Vec<(String, f64)> = counts_sorted(help)
            .into_iter()
            .map(|(k, v)| (label(&l, &k), v))
            .collect();
        cx.bars(s, cx.t("帮扶需求", "Help needed"), &rows, &int);
    } else {
        note(
            s,
            cx.t(
                "表单没有 help_needed 字段。",
                "The form has no help_needed field.",
            ),
        );
    }
    Ok(())
}

/// The households whose head's ID number is in more than one submission, for the office to check
/// (the same family surveyed twice is counted twice above). The number is shown with its birth
/// date hidden: enough to find the records, not a copy of the ID in a file that is mailed.
fn twice(
    cx: &Ctx<'_>,
    s: &mut String,
    by_id: BTreeMap<String, Vec<[String; 5]>>,
    town_l: &HashMap<String, String>,
    village_l: &HashMap<String, String>,
) {
    let groups: Vec<(String, Vec<[String; 5]>)> =
        by_id.into_iter().filter(|(_, v)| v.len() > 1).collect();
    let _ = write!(
        s,
        "<h3>{} ({})</h3>",
        esc(cx.t(
            "可能重复调查的户（户主身份证号相同）",
            "Households possibly surveyed twice (same head ID number)"
        )),
        groups.len()
    );
    if groups.is_empty() {
        note(
            s,
            cx.t(
                "没有两份调查的户主身份证号相同。",
                "No two submissions have the same head ID number.",
            ),
        );
        return;
    }
    let masked = |id: &str| {
        let chars: Vec<char> = id.chars().collect();
        if chars.len() > 10 {
            let tail: String = chars[chars.len() - 4..].iter().collect();
            let head: String = chars[..6].iter().collect();
            format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
        } else {
            id.to_string()
        }
    };
    // Bounded: a page, not a dump (synthetic data reuses answers by the thousand).
    const SHOWN: usize = 200;
    let more = groups.len().saturating_sub(SHOWN);
    let mut rows = Vec::new();
    for (id, mut list) in groups.into_iter().take(SHOWN) {
        list.sort_by(|a, b| a[4].cmp(&b[4]));
        for [name, town, village, who, day] in list {
            rows.push(vec![
                masked(&id),
                name,
                label(town_l, &town),
                label(village_l, &village),
                who,
                day,
            ]);
        }
    }
    s.push_str(&table_html(
        &[
            cx.t("户主身份证号", "Head ID number"),
            cx.t("户主", "Head"),
            cx.t("乡镇", "Township"),
            cx.t("村", "Village"),
            cx.t("调查员", "Surveyor"),
            cx.t("调查日期", "Survey day"),
        ],
        &rows,
        6,
        Some(1),
    ));
    if more > 0 {
        let text = if cx.zh {
            format!("另有 {more} 个身份证号未列出。")
        } else {
            format!("{more} more ID numbers are not listed.")
        };
        note(s, &text);
    }
}

fn visits(cx: &mut Ctx<'_>, s: &mut String) -> Result<(), CliError> {
    const T: &str = "care_visit";
    let _ = write!(
        s,
        "<h2>{}</h2>",
        esc(cx.t("走访与资金（按资金渠道）", "Visits and money by fund line"))
    );
    let Some(cols) = cx.have(T, &["fund_line", "total_amount", "visit_type"])? else {
        note(
            s,
            cx.t(
                "数据库中没有 care_visit（走访帮扶）的数据。",
                "The database holds no care_visit submissions.",
            ),
        );
        return Ok(());
    };
    let fl = cols.iter().position(|c| c == "fund_line");
    let ta = cols.iter().position(|c| c == "total_amount");
    let mut by: HashMap<String, (f64, f64)> = HashMap::new();
    let mut visits = 0u64;
    // Money given with no fund line recorded (a form version without the question) is not
    // "nothing given": it has a row of its own.
    const NO_LINE: &str = "\u{1}";
    cx.scan(T, &cols.clone(), &mut |v| {
        visits += 1;
        let amount = ta.and_then(|i| v[i].as_f64()).unwrap_or(0.0);
        let mut k = fl
            .and_then(|i| v[i].as_str().map(str::to_string))
            .unwrap_or_default();
        if k.trim().is_empty() && amount != 0.0 {
            k = NO_LINE.to_string();
        }
        let e = by.entry(k).or_default();
        e.0 += 1.0;
        e.1 += amount;
    })?;
    let _ = write!(
        s,
        "<p>{} <b>{}</b></p>",
        esc(cx.t("走访次数：", "Visits:")),
        int(visits as f64)
    );
    if visits == 0 {
        return Ok(());
    }
    let l = cx.labels(T, T, "fund_line");
    let none = cx.t("（未发放物资或资金）", "(nothing given)").to_string();
    let no_line = cx
        .t("（未填写资金渠道）", "(fund line not recorded)")
        .to_string();
    let mut rows: Vec<(String, (f64, f64))> = by.into_iter().collect();
    rows.sort_by(|a, b| {
        b.1.1
            .partial_cmp(&a.1.1)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let named = |k: &str| {
        if k == NO_LINE {
            no_line.clone()
        } else if k.trim().is_empty() {
            none.clone()
        } else {
            label(&l, k)
        }
    };
    let total: f64 = rows.iter().map(|r| r.1.1).sum();
    let mut trows: Vec<Vec<String>> = rows
        .iter()
        .map(|(k, (n, m))| vec![named(k), int(*n), money(*m)])
        .collect();
    trows.push(vec![
        cx.t("合计", "Total").to_string(),
        int(visits as f64),
        money(total),
    ]);
    s.push_str(&table_html(
        &[
            cx.t("资金渠道", "Fund line"),
            cx.t("次数", "Visits"),
            cx.t("金额（元）", "Amount (yuan)"),
        ],
        &trows,
        1,
        None,
    ));
    let chart: Vec<(String, f64)> = rows
        .iter()
        .filter(|(k, _)| !k.trim().is_empty())
        .map(|(k, (_, m))| (named(k), *m))
        .collect();
    cx.bars(s, cx.t("金额（元）", "Amount (yuan)"), &chart, &money);
    Ok(())
}

fn emergencies(cx: &mut Ctx<'_>, s: &mut String) -> Result<(), CliError> {
    const T: &str = "emergency_aid";
    let _ = write!(
        s,
        "<h2>{}</h2>",
        esc(cx.t("紧急救助报告", "Emergency reports"))
    );
    let wanted = [
        "urgency",
        "amount_requested",
        "head_name",
        "township",
        "village",
        "event_type",
        "event_date",
        "contact_phone",
    ];
    let Some(cols) = cx.have(T, &wanted)? else {
        note(
            s,
            cx.t(
                "数据库中没有 emergency_aid（紧急救助）的数据。",
                "The database holds no emergency_aid submissions.",
            ),
        );
        return Ok(());
    };
    let idx = |n: &str| cols.iter().position(|c| c == n);
    let (ur, am) = (idx("urgency"), idx("amount_requested"));
    let list = [
        idx("event_date"),
        idx("head_name"),
        idx("township"),
        idx("village"),
        idx("event_type"),
        idx("contact_phone"),
    ];
    let mut by: HashMap<String, (f64, f64)> = HashMap::new();
    // The urgent reports, to act on at once (及时采取措施): the fields of `list`, and the amount.
    let mut urgent: Vec<([String; 6], Option<f64>)> = Vec::new();
    cx.scan(T, &cols.clone(), &mut |v| {
        let k = ur
            .and_then(|i| v[i].as_str().map(str::to_string))
            .unwrap_or_default();
        let amount = am.and_then(|i| v[i].as_f64());
        if k == "urgent" {
            let text = |i: Option<usize>| {
                i.and_then(|i| v[i].as_str().map(str::to_string))
                    .unwrap_or_default()
            };
            urgent.push((list.map(text), amount));
        }
        let e = by.entry(k).or_default();
        e.0 += 1.0;
        e.1 += amount.unwrap_or(0.0);
    })?;
    if by.is_empty() {
        note(
            s,
            cx.t("没有紧急救助报告。", "No emergency reports are recorded."),
        );
        return Ok(());
    }
    let l = cx.labels(T, T, "urgency");
    // The levels in the form's order (urgent first), then any others.
    let order: Vec<String> = cx.choice_values(T, "urgency");
    let rank = |k: &str| order.iter().position(|o| o == k).unwrap_or(order.len());
    let mut rows: Vec<(String, (f64, f64))> = by.into_iter().collect();
    rows.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then_with(|| a.0.cmp(&b.0)));
    let trows: Vec<Vec<String>> = rows
        .iter()
        .map(|(k, (n, m))| vec![cx.named(&l, k), int(*n), money(*m)])
        .collect();
    s.push_str(&table_html(
        &[
            cx.t("紧急程度", "Urgency"),
            cx.t("报告数", "Reports"),
            cx.t("申请金额（元）", "Requested (yuan)"),
        ],
        &trows,
        1,
        None,
    ));
    if ur.is_some() {
        let _ = write!(
            s,
            "<h3>{} ({})</h3>",
            esc(cx.t("紧急程度为“紧急”的报告", "Reports marked urgent")),
            urgent.len()
        );
        // The newest event first: what happened last needs help soonest.
        urgent.sort_by(|a, b| b.0[0].cmp(&a.0[0]).then_with(|| a.0[1..].cmp(&b.0[1..])));
        let (town_l, village_l, event_l) = (
            cx.labels(T, T, "township"),
            cx.labels(T, T, "village"),
            cx.labels(T, T, "event_type"),
        );
        let rows: Vec<Vec<String>> = urgent
            .into_iter()
            .map(|([date, head, town, village, event, phone], amount)| {
                vec![
                    date,
                    head,
                    label(&town_l, &town),
                    label(&village_l, &village),
                    label(&event_l, &event),
                    phone,
                    amount.map(money).unwrap_or_default(),
                ]
            })
            .collect();
        s.push_str(&table_html(
            &[
                cx.t("发生日期", "Date"),
                cx.t("户主", "Head"),
                cx.t("乡镇", "Township"),
                cx.t("村", "Village"),
                cx.t("事件", "Event"),
                cx.t("联系电话", "Phone"),
                cx.t("申请金额（元）", "Requested (yuan)"),
            ],
            &rows,
            6,
            Some(4),
        ));
    }
    Ok(())
}

fn register(cx: &mut Ctx<'_>, s: &mut String) -> Result<(), CliError> {
    const T: &str = "register_change";
    let _ = write!(
        s,
        "<h2>{}</h2>",
        esc(cx.t(
            "特困家庭名册：纳入与退出（按月）",
            "Special-hardship register: entries and exits by month"
        ))
    );
    let Some(cols) = cx.have(T, &["change_type", "change_date"])? else {
        note(
            s,
            cx.t(
                "数据库中没有 register_change（名册变动）的数据。",
                "The database holds no register_change submissions.",
            ),
        );
        return Ok(());
    };
    let (Some(ct), Some(cd)) = (
        cols.iter().position(|c| c == "change_type"),
        cols.iter().position(|c| c == "change_date"),
    ) else {
        note(
            s,
            cx.t(
                "表单缺少 change_type 或 change_date 字段。",
                "The form lacks change_type or change_date.",
            ),
        );
        return Ok(());
    };
    let mut months: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    cx.scan(T, &cols.clone(), &mut |v| {
        let month: String = v[cd].as_str().unwrap_or("").chars().take(7).collect();
        let e = months.entry(month).or_default();
        match v[ct].as_str() {
            Some("entry") => e.0 += 1.0,
            Some("exit") => e.1 += 1.0,
            _ => {}
        }
    })?;
    let l = cx.labels(T, T, "change_type");
    let names = (label(&l, "entry"), label(&l, "exit"));
    let periods = month_by_month(months);
    if periods.is_empty() {
        note(
            s,
            cx.t("没有名册变动记录。", "No register changes are recorded."),
        );
        return Ok(());
    }
    s.push_str(&pair_chart(
        cx.t("纳入与退出", "Entries and exits"),
        &periods,
        (&names.0, &names.1),
        cx.zh,
    ));
    let (ta, tb) = periods
        .iter()
        .fold((0.0, 0.0), |acc, p| (acc.0 + p.1, acc.1 + p.2));
    let mut rows: Vec<Vec<String>> = periods
        .iter()
        .map(|(m, a, b)| {
            let m = if m.trim().is_empty() {
                cx.t("无日期", "no date").to_string()
            } else {
                m.clone()
            };
            vec![m, int(*a), int(*b)]
        })
        .collect();
    rows.push(vec![cx.t("合计", "Total").to_string(), int(ta), int(tb)]);
    s.push_str(&table_html(
        &[cx.t("月份", "Month"), &names.0, &names.1],
        &rows,
        1,
        None,
    ));
    Ok(())
}

/// The counts by month as a time line: every month from the first to the last, those without a
/// change as zeros (a chart that skipped them would put March next to January), then whatever is
/// not a `YYYY-MM` month, the changes without a date last. A span of more than twenty years (a
/// mistyped year) is not filled in.
fn month_by_month(months: BTreeMap<String, (f64, f64)>) -> Vec<(String, f64, f64)> {
    let index = |m: &str| -> Option<i64> {
        let (_, Some(year)) = period_label(m, false) else {
            return None;
        };
        Some(year.parse::<i64>().ok()? * 12 + m[5..].parse::<i64>().ok()? - 1)
    };
    let (mut dated, mut other): (Vec<_>, Vec<_>) = months
        .into_iter()
        .map(|(m, (a, b))| (m, a, b))
        .partition(|p| index(&p.0).is_some());
    if let (Some(first), Some(last)) = (
        dated.first().and_then(|p| index(&p.0)),
        dated.last().and_then(|p| index(&p.0)),
    ) && last - first < 240
    {
        let known: BTreeMap<i64, (f64, f64)> = dated
            .iter()
            .filter_map(|p| Some((index(&p.0)?, (p.1, p.2))))
            .collect();
        dated = (first..=last)
            .map(|i| {
                let (a, b) = known.get(&i).copied().unwrap_or_default();
                (format!("{:04}-{:02}", i / 12, i % 12 + 1), a, b)
            })
            .collect();
    }
    // The changes without a date after the other periods.
    other.sort_by_key(|p| p.0.trim().is_empty());
    dated.extend(other);
    dated
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Amounts such as 19300498.10 were hard to read: the report groups the digits of amounts
    /// and counts in threes, in Chinese as in English.
    #[test]
    fn amounts_and_counts_have_their_digits_grouped() {
        assert_eq!(money(19_300_498.1), "19,300,498.10");
        assert_eq!(money(1_000.0), "1,000.00");
        assert_eq!(money(999.99), "999.99");
        assert_eq!(money(100_000.5), "100,000.50");
        assert_eq!(money(-1_234.5), "-1,234.50");
        assert_eq!(money(-0.0), "0.00");
        assert_eq!(money(0.0), "0.00");
        assert_eq!(int(1_234_567.0), "1,234,567");
        assert_eq!(int(12.0), "12");
        assert_eq!(int(123_456.0), "123,456");
        assert_eq!(money(f64::INFINITY), "inf");
    }

    /// No text over other text, and every text inside the chart's box.
    fn assert_clean(c: &Chart) {
        let boxes = c.text_boxes();
        for (i, a) in boxes.iter().enumerate() {
            assert!(
                a.0 >= 0.0 && a.1 >= 0.0 && a.2 <= c.w && a.3 <= c.h,
                "{:?} outside the {}x{} chart",
                a,
                c.w,
                c.h
            );
            for b in &boxes[i + 1..] {
                let apart = a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
    }

    fn months(n: usize) -> Vec<(String, f64, f64)> {
        (0..n)
            .map(|i| {
                (
                    format!("{}-{:02}", 2024 + i / 12, i % 12 + 1),
                    (i * 7 % 13) as f64,
                    (i * 5 % 11) as f64,
                )
            })
            .collect()
    }

    fn axis_labels(c: &Chart, y_from: f64) -> Vec<String> {
        c.items
            .iter()
            .filter_map(|i| match i {
                Item::Text { y, text, class, .. } if *class == "l" && *y > y_from => {
                    Some(text.clone())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn charts_scale_to_the_width_available() {
        let rows = vec![
            (
                "① 困难计生家庭（伤残、病残、死亡、丧失劳动能力）".to_string(),
                207.0,
            ),
            ("② 育龄群众生殖健康".to_string(), 168.0),
        ];
        for svg in [
            bar_chart("关怀类别", &rows, &int),
            pair_chart("纳入与退出", &months(4), ("纳入", "退出"), true),
            pair_chart("x", &months(40), ("a", "b"), false),
        ] {
            let open = &svg[svg.find("<svg").unwrap()..];
            let open = &open[..open.find('>').unwrap()];
            assert!(open.contains(" viewBox=\"0 0 "), "{open}");
            assert!(
                !open.contains(" width=") && !open.contains(" height="),
                "a fixed size: {open}"
            );
            assert!(svg.starts_with(r#"<div class="cw">"#), "{svg}");
        }
        // Natural widths small enough for a phone: bar charts shrink by less than a tenth at 336 px.
        assert!(bar_layout("t", &rows, &int).w <= 360.0);
        assert!(pair_layout("t", &months(4), ("纳入", "退出"), true).w <= 336.0);
    }

    #[test]
    fn long_labels_go_above_their_bars_and_wrap() {
        let en = vec![
            (
                "1. Families in hardship (disability, illness, death, inability to work)"
                    .to_string(),
                207.0,
            ),
            ("2. Girls growing up healthy".to_string(), 12345.67),
        ];
        let c = bar_layout("Care categories", &en, &money);
        assert_clean(&c);
        assert!(c.w <= BAR_CHART_W);
        let zh = vec![
            (
                "① 困难计生家庭（伤残、病残、死亡、丧失劳动能力）（伤残、病残、死亡、丧失劳动能力）"
                    .to_string(),
                3.0,
            ),
            ("石桥镇".to_string(), 0.0),
        ];
        let c = bar_layout("关怀类别", &zh, &int);
        assert_clean(&c);
        let short = vec![("石桥镇".to_string(), 74.0), ("白云乡".to_string(), 62.0)];
        assert_clean(&bar_layout("按乡镇", &short, &int));
        assert_clean(&bar_layout("空", &[], &int));
    }

    #[test]
    fn wrapping_keeps_punctuation_and_words_together() {
        let lines = wrap(
            "困难计生家庭（伤残、病残、死亡、丧失劳动能力）",
            130.0,
            13.0,
        );
        assert!(lines.len() > 1, "{lines:?}");
        for l in &lines {
            assert!(text_width(l, 13.0) <= 130.0, "{l}");
            assert!(!l.starts_with(['、', '）']), "{lines:?}");
            assert!(!l.ends_with('（'), "{lines:?}");
        }
        assert_eq!(
            lines.concat(),
            "困难计生家庭（伤残、病残、死亡、丧失劳动能力）"
        );
        assert_eq!(
            wrap("Families in hardship (disability)", 100.0, 10.0),
            ["Families in", "hardship", "(disability)"]
        );
        assert_eq!(
            wrap("Supercalifragilistic", 60.0, 10.0),
            ["Supercalif", "ragilistic"]
        );
        assert_eq!(wrap("", 60.0, 10.0), [""]);
    }

    #[test]
    fn month_chart_labels_and_legend_do_not_overlap() {
        let en = (
            "Enter the special-hardship register",
            "Leave the special-hardship register",
        );
        let zh = ("纳入特困家庭名册", "退出特困家庭名册");
        for n in [1, 4, 12, 24, 40, 100] {
            for (names, is_zh) in [(zh, true), (en, false)] {
                let c = pair_layout("t", &months(n), names, is_zh);
                assert_clean(&c);
            }
        }
        // Equal three-digit numbers over neighbouring bars, and big numbers.
        let big = vec![
            ("2026-08".to_string(), 120.0, 118.0),
            ("2026-09".to_string(), 12000.0, 11999.0),
            ("".to_string(), 5.0, 0.0),
            ("not a month".to_string(), 0.0, 0.0),
        ];
        assert_clean(&pair_layout("t", &big, en, false));
        // The legend's second entry is placed after the first one's text, or on the next line.
        let c = pair_layout("t", &months(4), en, false);
        let legend: Vec<_> = c
            .text_boxes()
            .into_iter()
            .filter(|b| b.4.starts_with("Enter") || b.4.starts_with("Leave"))
            .collect();
        assert_eq!(legend.len(), 2);
        assert!(legend[1].1 >= legend[0].3 || legend[1].0 >= legend[0].2 + 12.0);
    }

    #[test]
    fn month_labels_are_short_and_thinned_when_too_many() {
        let c = pair_layout("t", &months(4), ("纳入", "退出"), true);
        let base = c.h - 80.0;
        assert_eq!(
            axis_labels(&c, base)[..5],
            ["1月", "2024", "2月", "3月", "4月"]
        );
        let c = pair_layout("t", &months(4), ("in", "out"), false);
        assert_eq!(
            axis_labels(&c, c.h - 80.0)[..5],
            ["Jan", "2024", "Feb", "Mar", "Apr"]
        );
        // Forty months keep the chart within its maximum width, with every other month named.
        let c = pair_layout("t", &months(40), ("in", "out"), false);
        assert!(c.w <= PAIR_CHART_MAX_W);
        let labels = axis_labels(&c, c.h - 80.0);
        let named = labels.iter().filter(|l| l.len() == 3).count();
        assert!((10..40).contains(&named), "{labels:?}");
        assert!(labels.contains(&"2025".to_string()) && labels.contains(&"2026".to_string()));
        assert_eq!(period_label("2026-13", true), ("2026-13".to_string(), None));
        assert_eq!(period_label("2026-+1", true), ("2026-+1".to_string(), None));
        assert_eq!(period_label("年年-12", true), ("年年-12".to_string(), None));
        assert_eq!(period_label("", false), ("no date".to_string(), None));
    }

    #[test]
    fn a_table_with_long_text_becomes_cards_on_a_phone() {
        let t = table_html(
            &["户主", "原因"],
            &[vec!["何伟".into(), "基本生活难以维持（+30）".into()]],
            2,
            Some(1),
        );
        assert!(
            t.starts_with(r#"<div class="tw"><table class="cards">"#),
            "{t}"
        );
        assert!(t.contains(r#"<td class="t" data-label="原因">基本生活难以维持（+30）</td>"#));
        let t = table_html(
            &["月份", "纳入"],
            &[vec!["2026-08".into(), "3".into()]],
            1,
            None,
        );
        assert!(t.starts_with(r#"<div class="tw"><table><thead>"#), "{t}");
    }
}
