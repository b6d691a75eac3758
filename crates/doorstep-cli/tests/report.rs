//! `doorstep report` through the real binary: the page works on a phone (charts scale to the width
//! available, long tables become cards), and an unknown `--lang` is a usage error.

mod common;

use std::path::Path;

use common::{doorstep, form, make_report, synth, temp};

/// A database with households, register changes and emergency reports.
fn office_db(dir: &Path) -> String {
    let db = dir.join("o.db").display().to_string();
    let mut bundles = Vec::new();
    for f in ["household_needs", "register_change", "emergency_aid"] {
        let out = dir.join(format!("{f}.zip")).display().to_string();
        synth(&["--form", &form(f), "--count", "60", "-o", &out]);
        bundles.push(out);
    }
    let mut args = vec!["ingest", "--db", &db];
    args.extend(bundles.iter().map(String::as_str));
    let r = doorstep(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    db
}

#[test]
fn the_report_fits_a_phone_in_both_languages() {
    let dir = temp("report-phone");
    let db = office_db(&dir);
    for lang in ["zh-CN", "en"] {
        let html = dir.join(format!("{lang}.html"));
        make_report(&db, &html, lang);
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.contains(&format!(r#"<html lang="{lang}">"#)));
        let svgs: Vec<&str> = page
            .split("<svg")
            .skip(1)
            .map(|s| &s[..s.find('>').unwrap()])
            .collect();
        assert!(svgs.len() >= 4, "{lang}: {svgs:?}");
        for s in &svgs {
            assert!(s.contains(" viewBox=\"0 0 "), "{lang}: {s}");
            // A fixed pixel size would make the page as wide as the chart.
            assert!(
                !s.contains(" width=") && !s.contains(" height="),
                "{lang}: {s}"
            );
        }
        assert_eq!(page.matches(r#"<div class="cw"><svg"#).count(), svgs.len());
        assert!(page.contains(".chart { display: block; width: 100%; height: auto;"));
        assert!(page.contains("@media (max-width: 40em)"));
        // Dates and months do not wrap at their hyphens ("2026-" over "08"), and on a phone long
        // Chinese headers and names wrap rather than push the numbers off the screen.
        assert!(page.contains("td.n, td.d { white-space: nowrap; }"));
        let phone = &page[page.find("@media (max-width: 40em)").unwrap()..];
        let phone = &phone[..phone.find("\n}").unwrap()];
        assert!(
            phone.contains("\n th, td:first-child { word-break: normal; }"),
            "{phone}"
        );
        let month = if lang == "en" { "Month" } else { "月份" };
        let months = page
            .matches(&format!(r#"<td class="d" data-label="{month}">2026-"#))
            .count();
        assert!(months >= 2, "{lang}: the register's months");
        let date = if lang == "en" { "Date" } else { "发生日期" };
        assert!(
            page.contains(&format!(r#"<td class="d" data-label="{date}">2026-"#)),
            "{lang}: the emergencies' dates"
        );
        // The urgent households' reasons: a column that wraps, in a table that becomes cards.
        assert!(page.contains(r#"<table class="cards">"#), "{lang}");
        assert!(page.contains(r#"<td class="t" data-label=""#), "{lang}");
        // Month labels are short (`8月`, `Aug`) with the year under the first.
        assert!(!page.contains(r#"class="l">2026-"#), "{lang}");
        // The urgent households, to act on from the top: the highest score first, with the
        // reasons in the report's language.
        let (score, reasons) = if lang == "en" {
            ("Score", "Reasons")
        } else {
            ("评分", "原因")
        };
        let cell = |label: &str| format!(r#" data-label="{label}">"#);
        let urgent = &page[page.find(r#"<table class="cards">"#).unwrap()..];
        let urgent = &urgent[..urgent.find("</table>").unwrap()];
        let scores: Vec<u32> = urgent
            .split(&cell(score))
            .skip(1)
            .map(|c| c[..c.find('<').unwrap()].parse().unwrap())
            .collect();
        assert!(scores.len() > 3, "{lang}: {urgent}");
        assert!(scores.iter().all(|&x| x >= 60), "{lang}: {scores:?}");
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "{lang}: {scores:?}"
        );
        // The emergency reports marked urgent: the newest event first, with a phone to call.
        let (date, phone) = if lang == "en" {
            ("Date", "Phone")
        } else {
            ("发生日期", "联系电话")
        };
        let emergencies = &page[page.rfind(r#"<table class="cards">"#).unwrap()..];
        let dates: Vec<&str> = emergencies
            .split(&cell(date))
            .skip(1)
            .map(|c| &c[..c.find('<').unwrap()])
            .collect();
        assert!(!dates.is_empty(), "{lang}: {emergencies}");
        assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{lang}: {dates:?}");
        assert_eq!(emergencies.matches(&cell(phone)).count(), dates.len());
        let first = urgent.split(&cell(reasons)).nth(1).unwrap();
        assert_eq!(
            first.starts_with(|c: char| c.is_ascii()),
            lang == "en",
            "{lang}: {first}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Households whose head's ID number is in two submissions are listed for the office to check,
/// with the ID's birth date hidden.
#[test]
fn households_surveyed_twice_are_listed() {
    let dir = temp("report-twice");
    let db = dir.join("o.db").display().to_string();
    let bundle = dir.join("hh.zip").display().to_string();
    // Twelve submissions from ten interviews: two households twice.
    synth(&[
        "--form",
        &form("household_needs"),
        "--count",
        "12",
        "--distinct",
        "10",
        "-o",
        &bundle,
    ]);
    let r = doorstep(&["ingest", "--db", &db, &bundle]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = dir.join("r.html");
    let r = doorstep(&["report", "--db", &db, "-o", html.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    let section = &page[page.find("可能重复调查的户").unwrap()..];
    let section = &section[..section.find("</table>").unwrap()];
    assert!(section.contains("(2)"), "{section}");
    let ids: Vec<&str> = section
        .split(r#"data-label="户主身份证号">"#)
        .skip(1)
        .map(|c| &c[..c.find('<').unwrap()])
        .collect();
    assert_eq!(ids.len(), 4, "{section}");
    for id in &ids {
        assert_eq!(id.len(), 18, "{id}");
        assert_eq!(&id[6..14], "********", "the birth date is hidden: {id}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_language_is_refused() {
    let dir = temp("report-lang");
    let html = dir.join("r.html");
    let r = doorstep(&[
        "report",
        "--db",
        dir.join("none.db").to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
        "--lang",
        "fr",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{}", r.stderr);
    assert!(
        r.stderr.contains("'fr'") && r.stderr.contains("zh-CN") && r.stderr.contains("en"),
        "{}",
        r.stderr
    );
    assert!(!html.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The text of a report page without its markup: table rows one a line, cells ended by ` | `,
/// and each chart as `[svg …]` with its texts.
fn page_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('>').unwrap() + i;
        let tag = &rest[i + 1..end];
        match tag.split(' ').next().unwrap() {
            "svg" => out.push_str("[svg "),
            "/svg" => out.push_str("]\n"),
            "/text" => out.push_str(" | "),
            "/td" | "/th" => out.push_str(" | "),
            "/tr" | "p" | "/p" | "h2" | "/h2" | "h3" | "/h3" => out.push('\n'),
            _ => {}
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
}

/// Every form's table is there, with no submission in it: each section says so in a line, with
/// no empty chart, no table of headers alone, and no money total of "-0.00".
#[test]
fn a_report_of_no_submissions_says_so() {
    let dir = temp("report-empty");
    let db = dir.join("o.db").display().to_string();
    let mut args = vec!["ingest".to_string(), "--db".to_string(), db.clone()];
    for f in [
        "household_needs",
        "care_visit",
        "emergency_aid",
        "register_change",
    ] {
        let out = dir.join(format!("{f}.zip")).display().to_string();
        synth(&["--form", &form(f), "--count", "0", "-o", &out]);
        args.push(out);
    }
    let r = doorstep(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = dir.join("r.html");
    make_report(&db, &html, "en");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<svg"), "{page}");
    assert!(!page.contains("<table"), "{page}");
    assert!(!page.contains("-0.00"), "{page}");
    let text = page_text(&page);
    for line in [
        "Households surveyed: 0\n",
        "Visits: 0\n",
        "No emergency reports are recorded.\n",
        "No register changes are recorded.\n",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    // Townships, care categories, urgency and help needed.
    assert_eq!(text.matches("Nothing to show.").count(), 4, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Answers that are not there (a form version without the question, a question left out) are
/// counted under "(not answered)" rather than under a nameless bar or row; the urgency bars add
/// up to the households; money given with no fund line recorded is not "nothing given"; and the
/// register's months run without gaps, the changes with no date last.
#[test]
fn unanswered_values_and_months_without_changes_are_named() {
    let dir = temp("report-unanswered");
    let db = office_db(&dir);
    let visits = dir.join("care_visit.zip").display().to_string();
    synth(&[
        "--form",
        &form("care_visit"),
        "--count",
        "30",
        "-o",
        &visits,
    ]);
    let r = doorstep(&["ingest", "--db", &db, &visits]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = rusqlite::Connection::open(&db).unwrap();
    let households: i64 = c
        .query_row("SELECT count(*) FROM household_needs", [], |r| r.get(0))
        .unwrap();
    let (no_line, amount): (String, f64) = c
        .query_row(
            "SELECT instance_id, total_amount FROM care_visit WHERE total_amount > 0 LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    c.execute_batch(&format!(
        "UPDATE household_needs SET township = NULL, village = NULL WHERE rowid IN (1, 2);
         UPDATE emergency_aid SET urgency = NULL WHERE rowid = 1;
         UPDATE care_visit SET fund_line = NULL WHERE instance_id = '{no_line}';
         UPDATE register_change SET change_date = '2026-01-15' WHERE rowid % 3 = 0;
         UPDATE register_change SET change_date = '2026-04-02' WHERE rowid % 3 = 1;
         UPDATE register_change SET change_date = NULL WHERE rowid % 3 = 2;"
    ))
    .unwrap();
    drop(c);
    let html = dir.join("r.html");
    make_report(&db, &html, "en");
    let text = page_text(&std::fs::read_to_string(&html).unwrap());
    assert!(
        text.contains("(not answered) | 2 | "),
        "the townships: {text}"
    );
    assert!(
        text.contains("\n(not answered) | (not answered) | 2 | \n"),
        "the villages: {text}"
    );
    assert!(!text.contains("\n | "), "a row with no name: {text}");
    let urgency = &text[text.find("\nUrgency\n").unwrap()..];
    let urgency = &urgency[..urgency.find(']').unwrap()];
    let bars: Vec<f64> = urgency
        .split(" | ")
        .filter_map(|t| t.trim().parse().ok())
        .collect();
    assert_eq!(bars.iter().sum::<f64>(), households as f64, "{urgency}");
    let emergencies = &text[text.find("Emergency reports").unwrap()..];
    assert!(
        emergencies.contains("\n(not answered) | 1 | "),
        "{emergencies}"
    );
    assert!(
        text.contains(&format!(
            "\n(fund line not recorded) | 1 | {} | \n",
            grouped(amount)
        )),
        "{text}"
    );
    let register = &text[text.find("Special-hardship register").unwrap()..];
    let months: Vec<&str> = register
        .lines()
        .skip_while(|l| !l.starts_with("Month | "))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split(" | ").next().unwrap())
        .collect();
    assert_eq!(
        months,
        [
            "2026-01", "2026-02", "2026-03", "2026-04", "no date", "Total"
        ],
        "{register}"
    );
    assert!(text.contains("\n2026-02 | 0 | 0 | \n"), "{register}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// An amount with its digits grouped in threes and two decimals, as the report writes it.
fn grouped(v: f64) -> String {
    let plain = format!("{v:.2}");
    let (whole, cents) = plain.split_at(plain.find('.').unwrap());
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out + cents
}

/// The money of the visits is in the millions: the report wrote it as 4861485.80, hard to read;
/// it groups the digits now (4,861,485.80), in both languages, while the export's table keeps the
/// raw number for analysis programs.
#[test]
fn amounts_are_written_with_grouped_digits() {
    let dir = temp("report-amounts");
    let db = dir.join("o.db").display().to_string();
    let visits = dir.join("care_visit.zip").display().to_string();
    synth(&[
        "--form",
        &form("care_visit"),
        "--count",
        "40",
        "-o",
        &visits,
    ]);
    let r = doorstep(&["ingest", "--db", &db, &visits]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = rusqlite::Connection::open(&db).unwrap();
    let total: f64 = c
        .query_row("SELECT sum(total_amount) FROM care_visit", [], |r| r.get(0))
        .unwrap();
    drop(c);
    assert!(total >= 1000.0, "enough money to group: {total}");
    for (lang, word) in [("en", "Total"), ("zh-CN", "合计")] {
        let html = dir.join(format!("{lang}.html"));
        make_report(&db, &html, lang);
        let text = page_text(&std::fs::read_to_string(&html).unwrap());
        let row = format!("\n{word} | 40 | {} | \n", grouped(total));
        assert!(row.contains(','), "{row}");
        assert!(text.contains(&row), "{lang}: {row:?} in {text}");
    }
    let out = dir.join("tables");
    let r = doorstep(&["export", "--db", &db, "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv = std::fs::read_to_string(out.join("care_visit.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "total_amount").unwrap();
    let amounts: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(at).unwrap())
        .filter(|a| !a.is_empty())
        .collect();
    assert!(!amounts.is_empty());
    for a in amounts {
        assert!(a.parse::<f64>().is_ok(), "a raw number in the table: {a}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The English report named the households' urgency "urgent/key/general" (our words, in lower
/// case, one of them a code), while the emergency reports said "Urgent/Priority/Ordinary" (the
/// form's labels). Both now use the same words: those a form's choice list gives the levels
/// (emergency_aid's), and ours, which are the same, when no form gives any.
#[test]
fn urgency_levels_are_named_alike_from_the_forms_labels() {
    let dir = temp("report-urgency");
    // The names of the bars of the chart under `heading`.
    let levels = |page: &str, heading: &str| -> Vec<String> {
        let text = page_text(page);
        let section = &text[text
            .find(heading)
            .unwrap_or_else(|| panic!("{heading} in {text}"))..];
        let chart = &section[section.find("[svg ").unwrap() + 5..];
        chart[..chart.find(']').unwrap()]
            .split(" | ")
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.parse::<f64>().is_err())
            .map(String::from)
            .collect()
    };
    let report = |db: &str, lang: &str| {
        let html = dir.join(format!("{lang}.html"));
        let r = doorstep(&[
            "report",
            "--db",
            db,
            "-o",
            html.to_str().unwrap(),
            "--lang",
            lang,
        ]);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
        std::fs::read_to_string(&html).unwrap()
    };
    // Households alone: no form has a list for the levels, and ours are the emergency form's.
    let households = dir.join("hh.zip").display().to_string();
    synth(&[
        "--form",
        &form("household_needs"),
        "--count",
        "60",
        "-o",
        &households,
    ]);
    let alone = dir.join("alone.db").display().to_string();
    let r = doorstep(&["ingest", "--db", &alone, &households]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let en = report(&alone, "en");
    let bars = levels(&en, "\nUrgency\n");
    assert_eq!(bars[..3], ["Urgent", "Priority", "Ordinary"], "{bars:?}");
    let zh = report(&alone, "zh-CN");
    let bars = levels(&zh, "\n紧急程度\n");
    assert_eq!(bars[..3], ["紧急", "重点", "一般"], "{bars:?}");
    // With an emergency form whose list names the levels otherwise, the households take its words.
    let mut emergency: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(form("emergency_aid")).unwrap()).unwrap();
    for c in emergency["choices"]["urgency_levels"]
        .as_array_mut()
        .unwrap()
    {
        let en = c["label"]["en"].as_str().unwrap().to_string();
        c["label"]["en"] = format!("{en} (level)").into();
    }
    let path = dir.join("emergency_aid.form.json");
    std::fs::write(&path, emergency.to_string()).unwrap();
    let reports = dir.join("ea.zip").display().to_string();
    synth(&[
        "--form",
        path.to_str().unwrap(),
        "--count",
        "30",
        "-o",
        &reports,
    ]);
    let both = dir.join("both.db").display().to_string();
    let r = doorstep(&["ingest", "--db", &both, &households, &reports]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let en = report(&both, "en");
    let words = ["Urgent (level)", "Priority (level)", "Ordinary (level)"];
    assert_eq!(levels(&en, "\nUrgency\n")[..3], words);
    let text = page_text(&en);
    let emergencies = &text[text.find("Emergency reports").unwrap()..];
    for w in words {
        assert!(
            emergencies.contains(&format!("\n{w} | ")),
            "{w}: {emergencies}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
