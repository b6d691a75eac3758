//! Generated forms for benchmarks and load tests: N questions of mixed types and a household roster.
//!
//! About 30% of the questions have relevance on an earlier answer, 20% a constraint and 10% are
//! calculations; the roster has 8 questions per member, and the household totals use `count` and
//! `sum` over it. Deterministic for a given seed, so every benchmark run measures the same form.

use serde_json::{Value as Json, json};

/// Options of a generated form.
#[derive(Clone, Copy, Debug)]
pub struct GenOptions {
    /// Questions outside the roster.
    pub questions: usize,
    /// Questions per page (top-level group).
    pub page_size: usize,
    pub seed: u64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            questions: 1000,
            page_size: 20,
            seed: 42,
        }
    }
}

/// The JSON text of a generated form named `gen_<questions>`.
pub fn generate(opts: GenOptions) -> String {
    let mut rng = opts.seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut pages: Vec<Json> = Vec::new();
    let mut page: Vec<Json> = Vec::new();
    // Numeric questions that later items may refer to.
    let mut numeric: Vec<String> = Vec::new();
    let page_size = opts.page_size.max(1);
    for i in 0..opts.questions {
        let name = format!("q{i}");
        let roll = next() % 100;
        let mut item = if roll < 10 && !numeric.is_empty() {
            let a = &numeric[(next() as usize) % numeric.len()];
            let b = &numeric[(next() as usize) % numeric.len()];
            json!({"type": "calculate", "name": name, "calculation": format!("coalesce(${{{a}}}, 0) + coalesce(${{{b}}}, 0) * 2"), "data_type": "decimal"})
        } else {
            match next() % 5 {
                0 | 1 => {
                    json!({"type": "integer", "name": name, "label": {"zh-CN": format!("问题 {i}：人数"), "en": format!("Question {i}: how many")}})
                }
                2 => {
                    json!({"type": "text", "name": name, "label": {"zh-CN": format!("问题 {i}：说明"), "en": format!("Question {i}: describe")}})
                }
                3 => {
                    json!({"type": "select_one", "name": name, "choices": "yes_no", "label": {"zh-CN": format!("问题 {i}：是否"), "en": format!("Question {i}: yes or no")}})
                }
                _ => {
                    json!({"type": "decimal", "name": name, "label": {"zh-CN": format!("问题 {i}：金额"), "en": format!("Question {i}: amount")}})
                }
            }
        };
        let is_calc = item["type"] == "calculate";
        if !is_calc && !numeric.is_empty() && next() % 100 < 30 {
            let a = &numeric[(next() as usize) % numeric.len()];
            item["relevant"] = json!(format!("${{{a}}} > {}", next() % 5));
        }
        if matches!(item["type"].as_str(), Some("integer" | "decimal")) {
            if next() % 100 < 40 {
                item["constraint"] = json!(". >= 0 and . < 1000");
                item["constraint_message"] =
                    json!({"zh-CN": "应在 0 到 999 之间", "en": "Between 0 and 999"});
            }
            numeric.push(name.clone());
        }
        page.push(item);
        if page.len() == page_size {
            let n = pages.len();
            pages.push(json!({"type": "group", "name": format!("page{n}"), "label": {"zh-CN": format!("第 {} 页", n + 1), "en": format!("Page {}", n + 1)}, "items": std::mem::take(&mut page)}));
        }
    }
    if !page.is_empty() {
        let n = pages.len();
        pages.push(json!({"type": "group", "name": format!("page{n}"), "label": {"zh-CN": format!("第 {} 页", n + 1), "en": format!("Page {}", n + 1)}, "items": page}));
    }
    pages.push(json!({
        "type": "group", "name": "household", "label": {"zh-CN": "家庭成员", "en": "Household members"},
        "items": [
            {"type": "repeat", "name": "members", "label": {"zh-CN": "成员", "en": "Member"}, "max": 200, "items": [
                {"type": "text", "name": "m_name", "label": {"zh-CN": "姓名", "en": "Name"}, "required": true},
                {"type": "select_one", "name": "m_sex", "choices": "sex", "label": {"zh-CN": "性别", "en": "Sex"}},
                {"type": "date", "name": "m_birth", "label": {"zh-CN": "出生日期", "en": "Birth date"}},
                {"type": "calculate", "name": "m_age", "calculation": "if(${m_birth} = '', '', age(${m_birth}))", "data_type": "integer"},
                {"type": "select_one", "name": "m_disabled", "choices": "yes_no", "label": {"zh-CN": "是否残疾", "en": "Disabled"}},
                {"type": "integer", "name": "m_grade", "label": {"zh-CN": "残疾等级", "en": "Disability grade"}, "relevant": "${m_disabled} = 'yes'", "constraint": ". >= 1 and . <= 4", "constraint_message": {"zh-CN": "1 到 4 级", "en": "Grade 1 to 4"}},
                {"type": "decimal", "name": "m_income", "label": {"zh-CN": "年收入", "en": "Annual income"}, "constraint": ". >= 0", "constraint_message": {"zh-CN": "不能为负", "en": "Not negative"}},
                {"type": "text", "name": "m_school", "label": {"zh-CN": "学校", "en": "School"}, "relevant": "${m_age} != '' and ${m_age} < 18"}
            ]},
            {"type": "calculate", "name": "hh_size", "calculation": "count(${members})", "data_type": "integer"},
            {"type": "calculate", "name": "hh_income", "calculation": "sum(${m_income})", "data_type": "decimal"},
            {"type": "calculate", "name": "hh_children", "calculation": "count(${members}[m_age != '' and m_age < 18])", "data_type": "integer"},
            {"type": "calculate", "name": "hh_disabled", "calculation": "count(${members}[m_disabled = 'yes'])", "data_type": "integer"},
            {"type": "note", "name": "hh_note", "label": {"zh-CN": "共 ${hh_size} 人，年收入 ${hh_income} 元", "en": "${hh_size} members, income ${hh_income} yuan"}}
        ]
    }));
    let form = json!({
        "format": "doorstep-form/1",
        "id": format!("gen_{}", opts.questions),
        "version": "2026112301",
        "title": {"zh-CN": format!("生成的表单（{} 题）", opts.questions), "en": format!("Generated form ({} questions)", opts.questions)},
        "languages": ["zh-CN", "en"],
        "choices": {
            "yes_no": [{"value": "yes", "label": {"zh-CN": "是", "en": "Yes"}}, {"value": "no", "label": {"zh-CN": "否", "en": "No"}}],
            "sex": [{"value": "male", "label": {"zh-CN": "男", "en": "Male"}}, {"value": "female", "label": {"zh-CN": "女", "en": "Female"}}]
        },
        "items": pages
    });
    serde_json::to_string_pretty(&form).expect("a JSON value serializes")
}
