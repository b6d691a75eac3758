//! `doorstep report`: one self-contained HTML page for the office's assessment (考核评估): counts by
//! place, care category, urgency and help needed, the urgent households by name, help given by fund
//! line, and register entries and exits by month. Inline CSS and inline SVG charts; no script, no
//! network, so the file can be mailed and opened anywhere, and printed.
//!
//! The report reads these fields, by name, when the database has them (a missing form or field
//! leaves its section out with a note, so the report works on any subset of the forms):
//! - `household_needs`: `township`, `village`, `care_categories` (space-joined `cat1`..`cat5`),
//!   `urgency` (`urgent`/`key`/`general`), `urgency_reasons`, `help_needed` (select_multiple),
//!   `head_name`, `household_size`;
//! - `care_visit`: `fund_line`, `total_amount` (yuan), `visit_type`, `visit_date`;
//! - `emergency_aid`: `urgency`, `amount_requested`, `event_type`;
//! - `register_change`: `change_type` (`entry`/`exit`), `change_date`.
//!
//! Labels come from the choice lists of the stored forms, in `--lang`; every text is HTML-escaped.

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
    /// The language of labels and headings (`zh-CN` or `en`).
    #[arg(long, default_value = "zh-CN")]
    pub lang: String,
}

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
}

impl Ctx<'_> {
    fn t<'s>(&self, zh: &'s str, en: &'s str) -> &'s str {
        if self.zh { zh } else { en }
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

    /// `value -> label` for a column of a form: its own choice list, or a list named like it.
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
            for (v, zh, en) in [
                ("urgent", "紧急", "urgent"),
                ("key", "重点", "key"),
                ("general", "一般", "general"),
            ] {
                out.insert(v.into(), if self.zh { zh } else { en }.into());
            }
        }
        out
    }

    fn scan(
        &mut self,
        table: &str,
        cols: &[String],
        f: &mut dyn FnMut(&[Val]),
    ) -> Result<(), CliError> {
        self.store.scan(table, cols, &mut |v| {
            f(v);
            Ok(())
        })
    }
}

fn label(labels: &HashMap<String, String>, v: &str) -> String {
    labels.get(v).cloned().unwrap_or_else(|| v.to_string())
}

/// The width of a label in pixels at the chart's font size: wide (CJK, full-width) characters take
/// about twice the room of Latin ones.
fn text_width(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 14.0 } else { 7.5 })
        .sum()
}

/// A horizontal bar chart as inline SVG. `rows`: (label, value); values shown as given by `fmt`.
pub fn bar_chart(title: &str, rows: &[(String, f64)], fmt: &dyn Fn(f64) -> String) -> String {
    let row_h = 24.0;
    // Wide enough for the longest label: care categories have long Chinese names.
    let label_w = rows
        .iter()
        .map(|r| text_width(&r.0))
        .fold(120.0, f64::max)
        .min(560.0)
        + 12.0;
    let bar_w = 380.0;
    let h = row_h * rows.len() as f64 + 10.0;
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {h}" width="{}" height="{h}">"#,
        esc(title),
        label_w + bar_w + 110.0,
        label_w + bar_w + 110.0
    );
    for (i, (l, v)) in rows.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let w = (v / max * bar_w).max(if *v > 0.0 { 1.0 } else { 0.0 });
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" class="l">{}</text><rect x="{label_w}" y="{}" width="{w:.1}" height="{}" class="b"/><text x="{}" y="{}" class="v">{}</text>"#,
            label_w - 8.0,
            y + 16.0,
            esc(l),
            y + 3.0,
            row_h - 6.0,
            label_w + w + 6.0,
            y + 16.0,
            esc(&fmt(*v))
        );
    }
    s.push_str("</svg>");
    s
}

/// A grouped bar chart of two series by period (entries and exits by month).
pub fn pair_chart(title: &str, periods: &[(String, f64, f64)], names: (&str, &str)) -> String {
    let col_w = 46.0;
    let h = 200.0;
    let w = (col_w * periods.len() as f64 + 60.0).max(320.0);
    let max = periods
        .iter()
        .map(|p| p.1.max(p.2))
        .fold(0.0, f64::max)
        .max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {w} {}" width="{w}" height="{}">"#,
        esc(title),
        h + 60.0,
        h + 60.0
    );
    for (i, (p, a, b)) in periods.iter().enumerate() {
        let x = 30.0 + col_w * i as f64;
        let ha = a / max * (h - 20.0);
        let hb = b / max * (h - 20.0);
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{}" width="16" height="{ha:.1}" class="b"/><rect x="{}" y="{}" width="16" height="{hb:.1}" class="b2"/><text x="{}" y="{}" class="v" text-anchor="middle">{}</text><text x="{}" y="{}" class="v" text-anchor="middle">{}</text><text x="{}" y="{}" class="l" text-anchor="middle">{}</text>"#,
            h - ha,
            x + 18.0,
            h - hb,
            x + 8.0,
            h - ha - 3.0,
            a,
            x + 26.0,
            h - hb - 3.0,
            b,
            x + 17.0,
            h + 16.0,
            esc(p)
        );
    }
    let _ = write!(
        s,
        r#"<rect x="30" y="{}" width="12" height="12" class="b"/><text x="46" y="{}" class="l">{}</text><rect x="150" y="{}" width="12" height="12" class="b2"/><text x="166" y="{}" class="l">{}</text></svg>"#,
        h + 32.0,
        h + 43.0,
        esc(names.0),
        h + 32.0,
        h + 43.0,
        esc(names.1)
    );
    s
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

fn int(v: f64) -> String {
    format!("{v:.0}")
}

fn money(v: f64) -> String {
    format!("{v:.2}")
}

fn note(s: &mut String, text: &str) {
    let _ = write!(s, r#"<p class="note">{}</p>"#, esc(text));
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let mut store = db::open_existing(&args.db)?;
    let forms = load_forms(store.as_mut())?;
    let tables = store.tables()?;
    let zh = args.lang.starts_with("zh");
    let mut cx = Ctx {
        store: store.as_mut(),
        forms,
        tables,
        lang: args.lang.clone(),
        zh,
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
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2em auto; max-width: 62em; padding: 0 1em; color: #222; line-height: 1.5; }}
h1 {{ font-size: 1.6em; border-bottom: 2px solid #2b6cb0; padding-bottom: .3em; }}
h2 {{ font-size: 1.25em; margin-top: 2em; color: #2b6cb0; }}
table {{ border-collapse: collapse; margin: .5em 0 1em; }}
th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; white-space: nowrap; }} td:last-child {{ white-space: normal; }}
td.n, th.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.chart text {{ font-family: inherit; font-size: 13px; fill: #222; }}
.chart .b {{ fill: #2b6cb0; }} .chart .b2 {{ fill: #dd6b20; }}
.note {{ color: #777; font-size: .9em; }}
@media print {{ h2 {{ break-before: auto; }} table, svg {{ break-inside: avoid; }} }}
</style></head><body>
<h1>{t}</h1>
<p class="note">{gen} {generated} · {db}</p>
{body}
</body></html>
"#,
        lang = esc(&args.lang),
        t = esc(title),
        gen = esc(cx.t("生成时间", "Generated")),
        db = esc(&args.db.rsplit('@').next().unwrap_or(&args.db).to_string()),
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

fn table_html(head: &[&str], rows: &[Vec<String>], numeric_from: usize) -> String {
    let mut s = String::from("<table><thead><tr>");
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
                "<td{}>{}</td>",
                if i >= numeric_from {
                    r#" class="n""#
                } else {
                    ""
                },
                esc(c)
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

fn households(cx: &mut Ctx<'_>, s: &mut String) -> Result<(), CliError> {
    const T: &str = "household_needs";
    let wanted = [
        "township",
        "village",
        "care_categories",
        "urgency",
        "urgency_reasons",
        "help_needed",
        "head_name",
        "household_size",
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
    let (tw, vi, ca, ur, rs, he, hn, hs) = (
        idx("township"),
        idx("village"),
        idx("care_categories"),
        idx("urgency"),
        idx("urgency_reasons"),
        idx("help_needed"),
        idx("head_name"),
        idx("household_size"),
    );
    let mut total = 0u64;
    let mut by_town: HashMap<String, f64> = HashMap::new();
    let mut by_village: HashMap<(String, String), f64> = HashMap::new();
    let mut cats: HashMap<String, f64> = HashMap::new();
    let mut urg: HashMap<String, f64> = HashMap::new();
    let mut help: HashMap<String, f64> = HashMap::new();
    let mut urgent: Vec<[String; 5]> = Vec::new();
    let text = |v: &[Val], i: Option<usize>| {
        i.and_then(|i| v[i].as_str().map(str::to_string))
            .unwrap_or_default()
    };
    cx.scan(T, &cols.clone(), &mut |v| {
        total += 1;
        let town = text(v, tw);
        let village = text(v, vi);
        *by_town.entry(town.clone()).or_default() += 1.0;
        *by_village
            .entry((town.clone(), village.clone()))
            .or_default() += 1.0;
        for c in text(v, ca).split_whitespace() {
            *cats.entry(c.to_string()).or_default() += 1.0;
        }
        let u = text(v, ur);
        if !u.is_empty() {
            *urg.entry(u.clone()).or_default() += 1.0;
        }
        for h in text(v, he).split_whitespace() {
            *help.entry(h.to_string()).or_default() += 1.0;
        }
        // The urgent list is for action: it names every urgent household, however many.
        if u == "urgent" {
            let size = hs.and_then(|i| v[i].as_f64()).map_or(String::new(), int);
            urgent.push([text(v, hn), town, village, size, text(v, rs)]);
        }
    })?;
    let town_l = cx.labels(T, T, "township");
    let village_l = cx.labels(T, T, "village");
    let _ = write!(
        s,
        "<p>{} <b>{total}</b></p>",
        esc(cx.t("调查户数：", "Households surveyed:"))
    );
    if tw.is_some() {
        let rows: Vec<(String, f64)> = counts_sorted(by_town)
            .into_iter()
            .map(|(k, v)| (label(&town_l, &k), v))
            .collect();
        s.push_str(&bar_chart(cx.t("按乡镇", "By township"), &rows, &int));
        let mut vrows: Vec<((String, String), f64)> = by_village.into_iter().collect();
        vrows.sort_by(|a, b| a.0.cmp(&b.0));
        let rows: Vec<Vec<String>> = vrows
            .into_iter()
            .map(|((t, v), n)| vec![label(&town_l, &t), label(&village_l, &v), int(n)])
            .collect();
        s.push_str(&table_html(
            &[
                cx.t("乡镇", "Township"),
                cx.t("村（社区）", "Village"),
                cx.t("户数", "Households"),
            ],
            &rows,
            2,
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
        s.push_str(&bar_chart(cx.t("关怀类别", "Care categories"), &rows, &int));
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
        let order = ["urgent", "key", "general"];
        let mut rows: Vec<(String, f64)> = order
            .iter()
            .map(|k| (label(&l, k), urg.remove(*k).unwrap_or(0.0)))
            .collect();
        rows.extend(
            counts_sorted(urg)
                .into_iter()
                .map(|(k, v)| (label(&l, &k), v)),
        );
        s.push_str(&bar_chart(cx.t("紧急程度", "Urgency"), &rows, &int));
        let _ = write!(
            s,
            "<h3>{} ({})</h3>",
            esc(cx.t("紧急户名单", "Urgent households")),
            urgent.len()
        );
        urgent.sort();
        let rows: Vec<Vec<String>> = urgent
            .into_iter()
            .map(|[n, t, v, size, r]| {
                vec![
                    n,
                    label(&town_l, &t),
                    label(&village_l, &v),
                    size,
                    r.trim_start_matches('；').to_string(),
                ]
            })
            .collect();
        s.push_str(&table_html(
            &[
                cx.t("户主", "Head"),
                cx.t("乡镇", "Township"),
                cx.t("村", "Village"),
                cx.t("人口", "Size"),
                cx.t("原因", "Reasons"),
            ],
            &rows,
            5,
        ));
    } else {
        note(
            s,
            cx.t("表单没有 urgency 字段。", "The form has no urgency field."),
        );
    }
    let _ = write!(s, "<h2>{}</h2>", esc(cx.t("帮扶需求", "Help needed")));
    if he.is_some() {
        let l = cx.labels(T, T, "help_needed");
        let rows: Vec<(String, f64)> = counts_sorted(help)
            .into_iter()
            .map(|(k, v)| (label(&l, &k), v))
            .collect();
        s.push_str(&bar_chart(cx.t("帮扶需求", "Help needed"), &rows, &int));
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
    cx.scan(T, &cols.clone(), &mut |v| {
        visits += 1;
        let k = fl
            .and_then(|i| v[i].as_str().map(str::to_string))
            .unwrap_or_default();
        let e = by.entry(k).or_default();
        e.0 += 1.0;
        e.1 += ta.and_then(|i| v[i].as_f64()).unwrap_or(0.0);
    })?;
    let l = cx.labels(T, T, "fund_line");
    let none = cx.t("（未发放物资或资金）", "(nothing given)").to_string();
    let mut rows: Vec<(String, (f64, f64))> = by.into_iter().collect();
    rows.sort_by(|a, b| {
        b.1.1
            .partial_cmp(&a.1.1)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let named = |k: &str| {
        if k.is_empty() {
            none.clone()
        } else {
            label(&l, k)
        }
    };
    let _ = write!(
        s,
        "<p>{} <b>{visits}</b></p>",
        esc(cx.t("走访次数：", "Visits:"))
    );
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
    ));
    let chart: Vec<(String, f64)> = rows
        .iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, (_, m))| (named(k), *m))
        .collect();
    s.push_str(&bar_chart(
        cx.t("金额（元）", "Amount (yuan)"),
        &chart,
        &money,
    ));
    Ok(())
}

fn emergencies(cx: &mut Ctx<'_>, s: &mut String) -> Result<(), CliError> {
    const T: &str = "emergency_aid";
    let _ = write!(
        s,
        "<h2>{}</h2>",
        esc(cx.t("紧急救助报告", "Emergency reports"))
    );
    let Some(cols) = cx.have(T, &["urgency", "amount_requested"])? else {
        note(
            s,
            cx.t(
                "数据库中没有 emergency_aid（紧急救助）的数据。",
                "The database holds no emergency_aid submissions.",
            ),
        );
        return Ok(());
    };
    let ur = cols.iter().position(|c| c == "urgency");
    let am = cols.iter().position(|c| c == "amount_requested");
    let mut by: HashMap<String, (f64, f64)> = HashMap::new();
    cx.scan(T, &cols.clone(), &mut |v| {
        let k = ur
            .and_then(|i| v[i].as_str().map(str::to_string))
            .unwrap_or_default();
        let e = by.entry(k).or_default();
        e.0 += 1.0;
        e.1 += am.and_then(|i| v[i].as_f64()).unwrap_or(0.0);
    })?;
    let l = cx.labels(T, T, "urgency");
    let mut rows: Vec<(String, (f64, f64))> = by.into_iter().collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let trows: Vec<Vec<String>> = rows
        .iter()
        .map(|(k, (n, m))| vec![label(&l, k), int(*n), money(*m)])
        .collect();
    s.push_str(&table_html(
        &[
            cx.t("紧急程度", "Urgency"),
            cx.t("报告数", "Reports"),
            cx.t("申请金额（元）", "Requested (yuan)"),
        ],
        &trows,
        1,
    ));
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
    let periods: Vec<(String, f64, f64)> = months
        .iter()
        .map(|(m, (a, b))| (m.clone(), *a, *b))
        .collect();
    s.push_str(&pair_chart(
        cx.t("纳入与退出", "Entries and exits"),
        &periods,
        (&names.0, &names.1),
    ));
    let (ta, tb) = periods
        .iter()
        .fold((0.0, 0.0), |acc, p| (acc.0 + p.1, acc.1 + p.2));
    let mut rows: Vec<Vec<String>> = periods
        .iter()
        .map(|(m, a, b)| vec![m.clone(), int(*a), int(*b)])
        .collect();
    rows.push(vec![cx.t("合计", "Total").to_string(), int(ta), int(tb)]);
    s.push_str(&table_html(
        &[cx.t("月份", "Month"), &names.0, &names.1],
        &rows,
        1,
    ));
    Ok(())
}
