//! Fills one real [`Session`] with random answers that satisfy the form's types and constraints, the
//! way a surveyor would: question by question in document order, answering only what is relevant.
//!
//! There is no solver: each question gets candidate values from a generator chosen by its type (and a
//! few hints read from its name and constraint), and a candidate is kept only when the session reports
//! no error for it. Values that other questions must agree with (a birth date inside an identity
//! number, a date after another date) are offered first as candidates derived from those questions.

use std::collections::HashSet;

use doorstep_core::expr::Node;
use doorstep_core::form::compiled::{Form, Item, RepeatCount};
use doorstep_core::form::model::ItemType;
use doorstep_core::session::{Action, Session};
use serde_json::{Value as Json, json};

use super::rng::Rng;

/// How many candidates one question gets before it is left unanswered.
const TRIES: usize = 40;

/// A fake attachment: what the data records and the bytes the bundle carries.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub file: String,
    pub bytes: Vec<u8>,
}

/// Answers every relevant question of `session`. Returns the attachments it made, or `None` when the
/// session could not be made valid (the caller starts another one).
pub fn fill(session: &mut Session, rng: &mut Rng) -> Option<Vec<Attachment>> {
    let form = session.form().clone();
    let mut attachments = Vec::new();
    let mut visited: HashSet<Node> = HashSet::new();
    // Walk the live nodes in document order; answering may add nodes (repeat instances) or change
    // relevance further down, so the list is taken again after each question.
    loop {
        let next = session.nodes().into_iter().find(|n| !visited.contains(n));
        let Some(node) = next else { break };
        visited.insert(node);
        let item = form.item(node.item);
        if !session.state(node).relevant {
            continue;
        }
        if item.kind == ItemType::Repeat {
            fill_repeat(session, node, item, rng);
            continue;
        }
        if !answerable(item) {
            continue;
        }
        let required = session.state(node).required;
        if !required && rng.below(100) < 15 {
            continue;
        }
        answer(session, &form, node, item, rng, &mut attachments);
    }
    // A later answer may have made an earlier answer wrong (a constraint reading forward) or an
    // earlier question required: two repair rounds on whatever validation still reports.
    for _ in 0..2 {
        let problems = session.validate();
        if problems.is_empty() {
            return Some(attachments);
        }
        for p in problems {
            if (p.node.item as usize) < form.items.len() && session.exists(p.node) {
                let item = form.item(p.node.item);
                if answerable(item) {
                    answer(session, &form, p.node, item, rng, &mut attachments);
                }
            }
        }
    }
    session.validate().is_empty().then_some(attachments)
}

fn answerable(item: &Item) -> bool {
    item.kind.has_value()
        && item.kind.is_shown()
        && item.calculation.is_none()
        && item.kind != ItemType::Calculate
}

fn fill_repeat(session: &mut Session, node: Node, item: &Item, rng: &mut Rng) {
    if !matches!(item.count, RepeatCount::Free) {
        return;
    }
    let min = item.doc.min.unwrap_or(0);
    let max = item.max_instances();
    let name = item.name.to_lowercase();
    // Rosters average five people (one to eight); other lists have one to three entries.
    let wanted = if name.contains("member") || name.contains("roster") || name.contains("person") {
        1 + rng.below(4) + rng.below(5)
    } else {
        1 + rng.below(3)
    };
    let wanted = wanted.clamp(min.max(1), max.max(1));
    let have = session.instances(node.item, node.scope).len() as u64;
    for _ in have..wanted {
        if session
            .apply(Action::AddInstance {
                repeat: node.item,
                parent: node.scope,
            })
            .is_err()
        {
            break;
        }
    }
}

fn answer(
    session: &mut Session,
    form: &Form,
    node: Node,
    item: &Item,
    rng: &mut Rng,
    attachments: &mut Vec<Attachment>,
) {
    let mut candidates: Vec<Json> = Vec::new();
    if matches!(item.kind, ItemType::SelectOne) {
        let mut values: Vec<String> = session
            .choices(node)
            .iter()
            .map(|c| c.value.clone())
            .collect();
        rng.shuffle(&mut values);
        // Consent is nearly always given: a survey of refusals is not realistic.
        if item.name.contains("consent")
            && let Some(first) = form.choices_of(item).first()
            && rng.below(100) < 97
        {
            values.insert(0, first.value.clone());
        }
        candidates.extend(values.into_iter().map(Json::from));
    }
    for attempt in 0..TRIES {
        let value = match candidates.get(attempt) {
            Some(v) => v.clone(),
            None if item.kind == ItemType::SelectOne => break,
            None => match candidate(session, form, node, item, rng, attempt) {
                Some(v) => v,
                None => break,
            },
        };
        if session
            .apply(Action::Answer {
                node,
                value: value.clone(),
            })
            .is_err()
        {
            continue;
        }
        if session.state(node).error.is_none() {
            if item.kind.is_attachment()
                && let Some(file) = value.get("file").and_then(Json::as_str)
            {
                attachments.push(Attachment {
                    file: file.to_string(),
                    bytes: fake_media(item.kind),
                });
            }
            return;
        }
    }
    let _ = session.apply(Action::Clear { node });
}

/// The answer of another question as seen from `node` (same repeat instance, or the top level).
fn referenced(session: &Session, form: &Form, node: Node, name: &str) -> Option<Json> {
    let item = form.item_by_name(name)?;
    let own_level = form.item(node.item).repeat;
    let scope = if item.repeat.is_none() {
        0
    } else if item.repeat == own_level {
        node.scope
    } else {
        return None;
    };
    session
        .answer(Node {
            item: item.id,
            scope,
        })
        .cloned()
}

/// The `${name}` references of an expression.
fn refs(expr: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("${") {
        let tail = &rest[i + 2..];
        let Some(j) = tail.find('}') else { break };
        out.push(&tail[..j]);
        rest = &tail[j + 1..];
    }
    out
}

fn candidate(
    session: &Session,
    form: &Form,
    node: Node,
    item: &Item,
    rng: &mut Rng,
    attempt: usize,
) -> Option<Json> {
    use ItemType::*;
    let constraint = item.doc.constraint.as_deref().unwrap_or("");
    let name = item.name.as_str();
    let today = session_today(session);
    Some(match item.kind {
        SelectMultiple => {
            let mut values: Vec<String> = session
                .choices(node)
                .iter()
                .map(|c| c.value.clone())
                .collect();
            if values.is_empty() {
                return None;
            }
            rng.shuffle(&mut values);
            let k = 1 + rng.below(3.min(values.len() as u64)) as usize;
            json!(values[..k.min(values.len())])
        }
        Integer => {
            let hi = [5, 10, 30, 100, 1000][attempt % 5];
            json!(if attempt < 20 {
                1 + rng.below(hi)
            } else {
                rng.below(hi)
            })
        }
        Decimal | Range => {
            if let Some(r) = &item.doc.parameters {
                let steps = ((r.end - r.start) / r.step).abs().floor() as u64;
                json!(r.start + r.step * rng.below(steps + 1) as f64)
            } else {
                let money = ["income", "amount", "money", "debt", "cost"]
                    .iter()
                    .any(|w| name.contains(w));
                let hi = if money {
                    [80_000, 20_000, 5_000, 1_000, 100][attempt % 5]
                } else {
                    [100, 1_000, 10][attempt % 3]
                };
                json!((rng.below(hi * 10) + 10) as f64 / 10.0)
            }
        }
        Date | Today => {
            // The dates the constraint names, each offered in turn (a roster's birth date may have
            // to equal the head's and also not be after the survey date).
            let mut bases: Vec<i64> = Vec::new();
            for day in refs(constraint)
                .into_iter()
                .filter_map(|r| referenced(session, form, node, r))
                .filter_map(|v| v.as_str().and_then(days_of))
            {
                if !bases.contains(&day) {
                    bases.push(day);
                }
            }
            let base = (!bases.is_empty()).then(|| bases[(attempt / 3) % bases.len()]);
            let day = match (base, attempt % 3) {
                // Equal to, or a little after, a date the constraint names (a free guess first, so
                // that a roster's birth dates do not all copy the head's).
                (Some(b), 1) if constraint.contains("> ${") || constraint.contains(">= ${") => {
                    (b + 1 + rng.below(200) as i64).min(today)
                }
                (Some(b), 1) => b,
                (Some(b), 2) if attempt > 20 => b,
                _ if name.contains("birth") => {
                    today - 365 * (1 + rng.below(85) as i64) - rng.below(365) as i64
                }
                _ => today - rng.below(if attempt < 10 { 60 } else { 2000 }) as i64,
            };
            json!(date_of(day))
        }
        Time => json!(format!("{:02}:{:02}:00", 8 + rng.below(10), rng.below(60))),
        Datetime => json!(format!(
            "{}T{:02}:{:02}:00+08:00",
            date_of(today - rng.below(30) as i64),
            8 + rng.below(10),
            rng.below(60)
        )),
        Geopoint => {
            json!({"lat": 30.0 + rng.below(100_000) as f64 / 100_000.0, "lon": 104.0 + rng.below(100_000) as f64 / 100_000.0, "accuracy": 5.0})
        }
        Image | Audio | Video | File => {
            let bytes = fake_media(item.kind);
            let ext = match item.kind {
                Image => "jpg",
                Audio => "m4a",
                Video => "mp4",
                _ => "bin",
            };
            json!({"file": format!("{name}.{ext}"), "media_type": media_type(item.kind), "size": bytes.len(),
                   "sha256": hex(&sha256(&bytes))})
        }
        Acknowledge => json!(true),
        Barcode => json!(format!("{:012}", rng.below(1_000_000_000_000))),
        Text | Hidden => Json::String(text_for(session, form, node, item, rng, attempt)),
        _ => return None,
    })
}

fn text_for(
    session: &Session,
    form: &Form,
    node: Node,
    item: &Item,
    rng: &mut Rng,
    attempt: usize,
) -> String {
    let constraint = item.doc.constraint.as_deref().unwrap_or("");
    let name = item.name.as_str();
    if constraint.contains("cn-id-valid")
        || name.ends_with("_id") && name.contains("id") && constraint.contains("[0-9]{17}")
    {
        // The identity number carries the birth date and the sex: take them from the questions the
        // constraint names, or make them up when it names none.
        let mut birth = None;
        let mut male = None;
        for r in refs(constraint) {
            match referenced(session, form, node, r) {
                Some(Json::String(s)) if days_of(&s).is_some() => birth = birth.or(Some(s)),
                Some(Json::String(s)) if s == "male" || s == "female" => {
                    male = male.or(Some(s == "male"))
                }
                _ => {}
            }
        }
        let birth = birth
            .unwrap_or_else(|| date_of(session_today(session) - 365 * (18 + rng.below(60) as i64)));
        let male = male.unwrap_or_else(|| rng.below(2) == 0);
        return cn_id(&birth, male, rng);
    }
    if constraint.contains("^1[3-9]") || name.contains("phone") || name.contains("mobile") {
        return format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000));
    }
    // A text the constraint compares with another text answer (the head's line in a roster repeats
    // the head's name): that answer, on every other try.
    if attempt % 2 == 1
        && constraint.contains("= ${")
        && let Some(same) = refs(constraint)
            .into_iter()
            .filter(|r| {
                form.item_by_name(r)
                    .is_some_and(|i| i.kind == ItemType::Text)
            })
            .find_map(|r| referenced(session, form, node, r))
            .and_then(|v| v.as_str().map(str::to_string))
    {
        return same;
    }
    if name.contains("name") || name.contains("by") || name.contains("helper") {
        return chinese_name(rng);
    }
    PHRASES[rng.below(PHRASES.len() as u64) as usize].to_string()
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "小红",
];
const PHRASES: &[&str] = &[
    "家中老人需要照顾",
    "孩子上学费用困难",
    "需要技术培训",
    "房屋漏雨需要修缮",
    "已联系村委会",
    "情况稳定，下次回访",
    "慰问物品已送达",
    "需要心理疏导",
];

fn chinese_name(rng: &mut Rng) -> String {
    let s = SURNAMES[rng.below(SURNAMES.len() as u64) as usize];
    let g = GIVEN[rng.below(GIVEN.len() as u64) as usize];
    format!("{s}{g}")
}

/// A resident identity number (GB 11643) with a valid check digit.
pub fn cn_id(birth: &str, male: bool, rng: &mut Rng) -> String {
    const REGIONS: &[&str] = &["511321", "511322", "511323", "511324", "511325"];
    let region = REGIONS[rng.below(REGIONS.len() as u64) as usize];
    let digits: String = birth.chars().filter(char::is_ascii_digit).collect();
    let parity = if male {
        1 + 2 * rng.below(5)
    } else {
        2 * rng.below(5)
    };
    let body = format!("{region}{digits}{:02}{parity}", rng.below(100));
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

fn session_today(session: &Session) -> i64 {
    let c = session.host().clock;
    (c.utc_millis + i64::from(c.offset_minutes) * 60_000).div_euclid(86_400_000)
}

/// Days since 1970-01-01 of `YYYY-MM-DD`.
pub fn days_of(s: &str) -> Option<i64> {
    doorstep_core::expr::dates::parse_date(s)
}

pub fn date_of(days: i64) -> String {
    doorstep_core::expr::dates::format_days(days)
}

fn media_type(kind: ItemType) -> &'static str {
    match kind {
        ItemType::Image => "image/jpeg",
        ItemType::Audio => "audio/mp4",
        ItemType::Video => "video/mp4",
        _ => "application/octet-stream",
    }
}

/// A few bytes standing for a photo or a signature: enough to be stored and hashed.
fn fake_media(kind: ItemType) -> Vec<u8> {
    let mut b = match kind {
        ItemType::Image => vec![0xFF, 0xD8, 0xFF, 0xE0],
        _ => Vec::new(),
    };
    b.extend_from_slice(b"doorstep synthetic attachment");
    b
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
