//! `doorstep report` through the real binary: the page works on a phone (charts scale to the width
//! available, long tables become cards), and an unknown `--lang` is a usage error.

mod common;

use std::path::Path;

use common::{doorstep, form, synth, temp};

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
        let r = doorstep(&[
            "report",
            "--db",
            &db,
            "-o",
            html.to_str().unwrap(),
            "--lang",
            lang,
        ]);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
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
