//! End-to-end tests of the office commands through the real binary: synth makes bundles, ingest loads
//! them (twice: the second time all duplicates), bad bundles are refused with the database unchanged,
//! export and report read the result. Each check looks at exit code, stdout and stderr together.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, doorstep, form, make_report, run, synth, synth_to, temp};

fn bundles_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .map(|p| p.display().to_string())
        .collect();
    v.sort();
    v
}

/// Row counts of every table and the columns of each: what "the database is unchanged" compares.
fn snapshot(db: &Path) -> Vec<(String, i64, Vec<String>)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    names
        .into_iter()
        .map(|n| {
            let count: i64 = c
                .query_row(&format!("SELECT count(*) FROM \"{n}\""), [], |r| r.get(0))
                .unwrap();
            let cols: Vec<String> = c
                .prepare(&format!("PRAGMA table_info(\"{n}\")"))
                .unwrap()
                .query_map([], |r| r.get(1))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            (n, count, cols)
        })
        .collect()
}

/// Makes the test's bundles: 40 households in two bundles and 10 care visits in one.
fn make_bundles(dir: &Path) -> Vec<String> {
    let hh = dir.join("hh");
    synth(&[
        "--form",
        &form("household_needs"),
        "--count",
        "40",
        "--per-bundle",
        "20",
        "--distinct",
        "40",
        "-o",
        hh.to_str().unwrap(),
    ]);
    // 40 distinct interviews in two bundles: none repeats (each bundle does not start the pool over).
    let mut answers = std::collections::BTreeSet::new();
    for bundle in bundles_in(&hh) {
        let bytes = std::fs::read(&bundle).unwrap();
        let archive = doorstep_core::bundle::zip::read(&bytes).unwrap();
        let jsonl = std::str::from_utf8(archive.get("submissions.jsonl").unwrap().data).unwrap();
        for line in jsonl.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            answers.insert(v["data"].to_string());
        }
    }
    assert_eq!(
        answers.len(),
        40,
        "synth repeated interviews across bundles"
    );
    let cv = dir.join("cv");
    std::fs::create_dir_all(&cv).unwrap();
    synth(&[
        "--form",
        &form("care_visit"),
        "--count",
        "10",
        "--seed",
        "5",
        "-o",
        cv.to_str().unwrap(),
    ]);
    let mut all = bundles_in(&hh);
    all.extend(bundles_in(&cv));
    assert_eq!(all.len(), 3);
    all
}

/// Rebuilds a bundle with `edit` applied to its files, recomputing the manifest's hashes, so that
/// only what `edit` changes is wrong.
fn rebuild(bytes: &[u8], edit: impl Fn(&str, &[u8]) -> Vec<u8>) -> Vec<u8> {
    use doorstep_core::bundle::zip;
    let archive = zip::read(bytes).unwrap();
    let mut files: Vec<(String, Vec<u8>)> = archive
        .entries
        .iter()
        .filter(|e| e.name != "manifest.json")
        .map(|e| (e.name.clone(), edit(&e.name, e.data)))
        .collect();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(archive.get("manifest.json").unwrap().data).unwrap();
    if let Some((_, f)) = files.iter().find(|(n, _)| n == "form.json") {
        let form = doorstep_core::form::load(std::str::from_utf8(f).unwrap())
            .form
            .unwrap();
        manifest["form"] =
            serde_json::json!({"id": form.id, "version": form.version, "hash": form.hash});
    }
    // Each line's hash and id too, so that an edited line is checked for what it says, not
    // refused for its hash or for the manifest listing another id.
    if let Some((_, jsonl)) = files.iter().find(|(n, _)| n == "submissions.jsonl") {
        let lines: Vec<&[u8]> = jsonl.split(|&b| b == b'\n').collect();
        for (entry, line) in manifest["submissions"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .zip(lines)
        {
            entry["sha256"] = doorstep_core::submission::sha256_hex(line).into();
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line)
                && let Some(id) = v["meta"]["instance_id"].as_str()
            {
                entry["instance_id"] = id.into();
            }
        }
    }
    for entry in manifest["files"].as_array_mut().unwrap() {
        let (_, b) = files
            .iter()
            .find(|(n, _)| n == entry["path"].as_str().unwrap())
            .unwrap();
        entry["size"] = b.len().into();
        entry["sha256"] = doorstep_core::submission::sha256_hex(b).into();
    }
    let mut w = zip::ZipWriter::new(zip::DosTime::new(2026, 11, 20, 12, 0, 0));
    w.add(
        "manifest.json",
        serde_json::to_string_pretty(&manifest).unwrap().as_bytes(),
    )
    .unwrap();
    for (n, b) in &mut files {
        w.add(n, b).unwrap();
    }
    w.finish().unwrap()
}

/// A bundle made from `original` with each line of `submissions.jsonl` given to `edit` (its index
/// and its JSON); a line `edit` says it left alone stays byte for byte (its hash the original's).
/// `form` replaces `form.json` when given. Every hash of the manifest is recomputed.
fn edit_lines(
    original: &[u8],
    form: Option<&[u8]>,
    edit: impl Fn(usize, &mut serde_json::Value) -> bool,
) -> Vec<u8> {
    rebuild(original, |name, b| match name {
        "form.json" => form.unwrap_or(b).to_vec(),
        "submissions.jsonl" => {
            let mut out = String::new();
            for (i, line) in std::str::from_utf8(b).unwrap().lines().enumerate() {
                let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
                if edit(i, &mut v) {
                    out.push_str(&serde_json::to_string(&v).unwrap());
                } else {
                    out.push_str(line);
                }
                out.push('\n');
            }
            out.into_bytes()
        }
        _ => b.to_vec(),
    })
}

/// The bundle with the attachments of submission `from` filed under `to` (`media/<id>/…`), in the
/// archive and in the manifest.
fn move_media(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    use doorstep_core::bundle::zip;
    // The folder is the id without its `uuid:` scheme.
    let folder = |id: &str| format!("media/{}/", id.trim_start_matches("uuid:"));
    let (from, to) = (folder(from), folder(to));
    let renamed = |name: &str| match name.strip_prefix(&from) {
        Some(rest) => format!("{to}{rest}"),
        None => name.to_string(),
    };
    let archive = zip::read(bytes).unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(archive.get("manifest.json").unwrap().data).unwrap();
    for entry in manifest["files"].as_array_mut().unwrap() {
        entry["path"] = renamed(entry["path"].as_str().unwrap()).into();
    }
    let mut w = zip::ZipWriter::new(zip::DosTime::new(2026, 11, 20, 12, 0, 0));
    w.add(
        "manifest.json",
        serde_json::to_string_pretty(&manifest).unwrap().as_bytes(),
    )
    .unwrap();
    for e in archive.entries.iter().filter(|e| e.name != "manifest.json") {
        w.add(&renamed(&e.name), e.data).unwrap();
    }
    w.finish().unwrap()
}

/// `doorstep export --db DB --out OUT ARGS...`.
fn export(db: &Path, out: &Path, args: &[&str]) -> Run {
    let mut all = vec![
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    doorstep(&all)
}

fn ingest(bundle: &Path, db: &Path) -> Run {
    doorstep(&[
        "ingest",
        bundle.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ])
}

/// Ingests a bad bundle and checks: exit code 2, the file named on stderr with `expect`, and the
/// database unchanged.
fn refused(db: &Path, bundle: &Path, expect: &str) {
    let before = snapshot(db);
    let r = ingest(bundle, db);
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&bundle.display().to_string()),
        "stderr names the file: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(expect),
        "stderr says `{expect}`: {}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("total: 0 new, 0 duplicate, 0 conflict, 0 rejected, 1 bundle(s) refused"),
        "{}",
        r.stdout
    );
    assert_eq!(before, snapshot(db), "the database changed");
}

#[test]
fn synth_ingest_twice_refuse_bad_bundles_export_report() {
    let dir = temp("office-e2e");
    let bundles = make_bundles(&dir);
    let db = dir.join("office.db");
    let dbs = db.to_str().unwrap();
    let mut args = vec!["ingest"];
    args.extend(bundles.iter().map(String::as_str));
    args.extend(["--db", dbs]);

    let r = doorstep(&args);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    assert!(
        r.stdout
            .ends_with("total: 50 new, 0 duplicate, 0 conflict, 0 rejected\n"),
        "{}",
        r.stdout
    );
    for b in &bundles {
        assert!(r.stdout.contains(&format!("{b}: ")), "{}", r.stdout);
    }
    let after_first = snapshot(&db);

    // The same bundles again: every submission is a duplicate, nothing changes but the bundle log.
    let r = doorstep(&args);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    assert!(
        r.stdout
            .ends_with("total: 0 new, 50 duplicate, 0 conflict, 0 rejected\n"),
        "{}",
        r.stdout
    );
    let again = snapshot(&db);
    for ((n1, c1, k1), (n2, c2, k2)) in after_first.iter().zip(&again) {
        assert_eq!((n1, k1), (n2, k2));
        if n1 != "doorstep_bundles" {
            assert_eq!(c1, c2, "table {n1} changed on a second ingest");
        }
    }

    let original = std::fs::read(&bundles[0]).unwrap();
    // Tampered: one byte of one answer changed (the manifest's hash no longer matches).
    let mut bytes = original.clone();
    let at = bytes
        .windows(13)
        .position(|w| w == b"\"head_name\":\"")
        .unwrap()
        + 13;
    bytes[at] ^= 0x01;
    let tampered = dir.join("tampered.zip");
    std::fs::write(&tampered, &bytes).unwrap();
    refused(&db, &tampered, "submissions.jsonl");

    // Truncated: the end (with the ZIP's directory) is missing.
    let truncated = dir.join("truncated.zip");
    std::fs::write(&truncated, &original[..original.len() / 2]).unwrap();
    refused(&db, &truncated, "not a ZIP archive");

    // Renamed to another device's name: the manifest contradicts it.
    let renamed = dir.join("household_needs_tablet-9_20260101T000000Z.zip");
    std::fs::write(&renamed, &original).unwrap();
    refused(&db, &renamed, "rename it back");

    // A foreign ZIP: no manifest.
    let mut w = doorstep_core::bundle::zip::ZipWriter::new(
        doorstep_core::bundle::zip::DosTime::new(2026, 1, 1, 0, 0, 0),
    );
    w.add("report.docx", b"not a bundle").unwrap();
    let foreign = dir.join("photos.zip");
    std::fs::write(&foreign, w.finish().unwrap()).unwrap();
    refused(&db, &foreign, "manifest.json");

    // The form does not match the submissions: form.json is another version of the form (and the
    // manifest agrees with it, so every hash checks), but the submissions were made with the first.
    let mismatched = rebuild(&original, |name, b| {
        if name == "form.json" {
            String::from_utf8(b.to_vec())
                .unwrap()
                .replacen("\"version\": \"", "\"version\": \"9", 1)
                .into_bytes()
        } else {
            b.to_vec()
        }
    });
    let mismatch = dir.join("mismatch.zip");
    std::fs::write(&mismatch, mismatched).unwrap();
    refused(&db, &mismatch, "submissions.jsonl line 1");

    // A language no form has is refused, naming the ones there are; nothing is written.
    let r = doorstep(&[
        "export",
        "--db",
        dbs,
        "--out",
        dir.join("export-fr").to_str().unwrap(),
        "--lang",
        "fr",
    ]);
    assert_eq!(
        (r.code, r.stderr.as_str()),
        (
            2,
            "error: no form in the database has the language `fr`; --lang takes one of: en, zh-CN\n"
        )
    );
    assert!(!dir.join("export-fr").exists());

    // Export: row counts equal the database's.
    let out = dir.join("export");
    let r = doorstep(&[
        "export",
        "--db",
        dbs,
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let members = snapshot(&db)
        .into_iter()
        .find(|t| t.0 == "household_needs__members")
        .unwrap()
        .1;
    assert!(
        r.stdout.contains("household_needs: 40 rows\n")
            && r.stdout.contains("care_visit: 10 rows\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("household_needs__members: {members} rows\n")),
        "{}",
        r.stdout
    );
    let csv = std::fs::read_to_string(out.join("household_needs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 41);
    assert!(csv.starts_with("\u{feff}instance_id,form_version,"));
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains("township,township/label")
    );
    let codebook = std::fs::read_to_string(out.join("codebook.csv")).unwrap();
    assert!(
        codebook.contains("household_needs,household_needs,township,"),
        "{codebook}"
    );
    let r = doorstep(&[
        "export",
        "--db",
        dbs,
        "--out",
        out.to_str().unwrap(),
        "--format",
        "xlsx",
        "--lang",
        "en",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.join("household_needs.xlsx").exists());

    // Report: one HTML page with charts and the Chinese font stack.
    let html = dir.join("report.html");
    let r = doorstep(&["report", "--db", dbs, "-o", html.to_str().unwrap()]);
    assert_eq!(
        (r.code, r.stdout.trim(), r.stderr.as_str()),
        (0, html.to_str().unwrap(), "")
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg") && page.contains("Noto Sans CJK SC") && page.contains("调查户数")
    );
    assert!(
        page.contains("数据库中没有 register_change"),
        "a missing form is noted, not an error"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_answers_and_attachments_are_rejected_with_every_reason() {
    let dir = temp("office-rejected");
    let out = dir.join("b.zip");
    synth(&[
        "--form",
        &form("household_needs"),
        "--count",
        "40",
        "--distinct",
        "40",
        "-o",
        out.to_str().unwrap(),
    ]);
    let original = std::fs::read(&out).unwrap();
    // Line 1 breaks a constraint and names an attachment the bundle lacks; line 2's signature is
    // not the file in the bundle; the other 38 are left as they were. Every hash is recomputed.
    // (40 lines: the writer stores envelopes 32 to a statement, and the rest one by one.)
    let edited = edit_lines(&original, None, |i, v| match i {
        0 => {
            v["data"]["annual_income"] = (-5).into();
            v["data"]["signature"]["file"] = "elsewhere.jpg".into();
            true
        }
        1 => {
            v["data"]["signature"]["sha256"] = "0".repeat(64).into();
            true
        }
        _ => false,
    });
    let bundle = dir.join("edited.zip");
    std::fs::write(&bundle, edited).unwrap();
    let db = dir.join("office.db");
    let r = ingest(&bundle, &db);
    assert_eq!((r.code, r.stderr.as_str()), (1, ""), "{}", r.stdout);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stdout);
    assert!(
        lines[0].ends_with("edited.zip: 38 new, 0 duplicate, 0 conflict, 2 rejected"),
        "{}",
        r.stdout
    );
    // `  rejected uuid:…: reasons`; the media folder is the id without `uuid:`.
    let id = lines[1].trim_start().split(' ').nth(1).unwrap();
    let folder = id.trim_start_matches("uuid:").trim_end_matches(':');
    let want = format!(
        ": annual_income: 年收入应在0到200万元之间，请核对 (constraint); signature: the attachment `elsewhere.jpg` is not in the bundle (media/{folder}/elsewhere.jpg)"
    );
    assert!(
        lines[1].starts_with("  rejected uuid:") && lines[1].ends_with(&want),
        "{}",
        r.stdout
    );
    assert!(
        lines[2].starts_with("  rejected uuid:")
            && lines[2].ends_with(
                ": signature: the attachment `signature.jpg` differs from the one recorded in the answer"
            ),
        "{}",
        r.stdout
    );
    assert_eq!(
        lines[3],
        "total: 38 new, 0 duplicate, 0 conflict, 2 rejected"
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM household_needs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 38, "only the valid submissions have rows");

    // The original bundle: the two rejected ones are new now, the others duplicates.
    let r = doorstep(&[
        "ingest",
        out.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    assert!(
        r.stdout
            .ends_with("total: 2 new, 38 duplicate, 0 conflict, 0 rejected\n"),
        "{}",
        r.stdout
    );
    // The third one changed (still valid): a conflict, and the stored one is kept.
    let changed = edit_lines(&original, None, |i, v| {
        if i == 2 {
            v["data"]["surveyor_remarks"] = "changed afterwards".into();
        }
        i == 2
    });
    let bundle = dir.join("changed.zip");
    std::fs::write(&bundle, changed).unwrap();
    let r = ingest(&bundle, &db);
    assert_eq!((r.code, r.stderr.as_str()), (1, ""), "{}", r.stdout);
    assert!(
        r.stdout.contains("\n  conflict uuid:")
            && r.stdout
                .ends_with("total: 0 new, 39 duplicate, 1 conflict, 0 rejected\n"),
        "{}",
        r.stdout
    );
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM doorstep_submissions WHERE bundle_sha256 = (SELECT sha256 FROM doorstep_bundles WHERE file_name = 'changed.zip')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        n, 0,
        "nothing from the changed bundle replaced what was stored"
    );

    // The first one changed again, now invalid: rejected with its reasons (not a bare conflict).
    // The form of this bundle is changed too, keeping its version: a warning says so.
    let changed_form = {
        let archive = doorstep_core::bundle::zip::read(&original).unwrap();
        let mut form: serde_json::Value =
            serde_json::from_slice(archive.get("form.json").unwrap().data).unwrap();
        form["title"] = "changed, same version".into();
        serde_json::to_vec(&form).unwrap()
    };
    let changed_hash = doorstep_core::form::load(std::str::from_utf8(&changed_form).unwrap())
        .form
        .unwrap()
        .hash
        .clone();
    let invalid = edit_lines(&original, Some(&changed_form), |i, v| {
        // Every line names the changed form, so every one differs from what is stored.
        v["meta"]["form"]["hash"] = changed_hash.clone().into();
        if i == 0 {
            v["data"]["annual_income"] = (-5).into();
        }
        true
    });
    let bundle = dir.join("invalid.zip");
    std::fs::write(&bundle, invalid).unwrap();
    let r = ingest(&bundle, &db);
    assert_eq!((r.code, r.stderr.as_str()), (1, ""), "{}", r.stdout);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines.iter().any(
            |l| l.starts_with("  warning: the form household_needs version ")
                && l.contains("differs from the one of the same version already stored")
        ),
        "{}",
        r.stdout
    );
    assert!(
        lines.iter().any(|l| l.starts_with("  rejected uuid:")
            && l.ends_with("annual_income: 年收入应在0到200万元之间，请核对 (constraint) (a submission with this instance_id and other content is already stored; it was kept)")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .ends_with("total: 0 new, 0 duplicate, 39 conflict, 1 rejected\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn errors_name_the_file_and_what_to_do() {
    let dir = temp("office-errors");
    let r = doorstep(&[
        "ingest",
        "/nonexistent/x.zip",
        "--db",
        dir.join("o.db").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("error: /nonexistent/x.zip: cannot read the file"),
        "{}",
        r.stderr
    );
    let r = doorstep(&[
        "export",
        "--db",
        dir.join("missing.db").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(
        r.stderr
            .contains("does not exist; ingest bundles into it first"),
        "{}",
        r.stderr
    );

    // Export and report only read: a file that is not a Doorstep database (empty, or another
    // program's SQLite file) is refused and left exactly as it was.
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let foreign = dir.join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT)")
        .unwrap();
    let foreign_bytes = std::fs::read(&foreign).unwrap();
    for db in [&empty, &foreign] {
        let name = db.to_str().unwrap();
        for args in [
            vec![
                "export",
                "--db",
                name,
                "--out",
                dir.join("ex").to_str().unwrap(),
            ],
            vec![
                "report",
                "--db",
                name,
                "-o",
                dir.join("r.html").to_str().unwrap(),
            ],
        ] {
            let r = doorstep(&args);
            assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{args:?}");
            assert_eq!(
                r.stderr,
                format!(
                    "error: {name} is not a Doorstep database (it has no doorstep_forms, doorstep_bundles, \
                     doorstep_submissions table); give --db the database that `doorstep ingest` wrote\n"
                ),
                "{args:?}"
            );
        }
    }
    assert_eq!(std::fs::read(&empty).unwrap(), b"");
    assert_eq!(std::fs::read(&foreign).unwrap(), foreign_bytes);
    assert!(!dir.join("r.html").exists() && !dir.join("ex").exists());

    // SQLite says only "unable to open database file"; the message says which folder is missing.
    let r = doorstep(&[
        "ingest",
        "--db",
        dir.join("no-such-folder/o.db").to_str().unwrap(),
        "/nonexistent/x.zip",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!(
            "the folder {} does not exist",
            dir.join("no-such-folder").display()
        )),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the `doorstep` binary as a user who may only read `dir`: the tests' own user, or `nobody`
/// when the tests run as root (root may write into any folder, so nothing would be read-only for
/// it). As `nobody` (through util-linux's `setpriv`) it runs a copy of the binary put in `dir`,
/// so the build folder's permissions do not matter.
#[cfg(unix)]
fn doorstep_as_reader(dir: &Path, args: &[&str]) -> Run {
    use std::os::unix::fs::PermissionsExt;
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    let mut command = if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        let copy = dir.join("doorstep");
        std::fs::copy(env!("CARGO_BIN_EXE_doorstep"), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(copy);
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_doorstep"))
    };
    command.args(args);
    // Another test thread forking while the copy was being written holds it open for writing
    // until its child execs, and executing it then fails with "Text file busy" (exit 126).
    for _ in 0..20 {
        let r = run(clone(&command));
        if !(r.code == 126 && r.stderr.contains("Text file busy")) {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    run(command)
}

/// A copy of a command's program and arguments (`Command` is not `Clone`).
fn clone(c: &std::process::Command) -> std::process::Command {
    let mut copy = std::process::Command::new(c.get_program());
    copy.args(c.get_args());
    copy
}

/// A database in a folder the office's user may only read (a network share, a CD, a colleague's
/// folder): export and report read it (as immutable, since SQLite cannot make its `-shm` file
/// there) and change nothing; an ingest into that folder says which folder it cannot write.
#[cfg(unix)]
#[test]
fn a_database_in_a_folder_that_cannot_be_written() {
    use std::fs::Permissions;
    use std::os::unix::fs::PermissionsExt;
    let dir = temp("office-read-only");
    // Every folder on the way must let the reader in (`temp` follows the umask).
    for d in [dir.parent().unwrap(), &dir] {
        let mode = std::fs::metadata(d).unwrap().permissions().mode();
        std::fs::set_permissions(d, Permissions::from_mode(mode | 0o755)).unwrap();
    }
    let bundles = make_bundles(&dir);
    let shelf = dir.join("shelf");
    std::fs::create_dir(&shelf).unwrap();
    let db = shelf.join("office.db");
    let mut args = vec!["ingest", "--db", db.to_str().unwrap()];
    args.extend(bundles.iter().map(String::as_str));
    let r = doorstep(&args);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    let wal_files = || {
        ["office.db-wal", "office.db-shm"]
            .into_iter()
            .filter(|f| shelf.join(f).exists())
            .collect::<Vec<_>>()
    };
    assert!(
        wal_files().is_empty(),
        "a closed WAL database has no -wal or -shm file"
    );
    let before = std::fs::read(&db).unwrap();
    std::fs::set_permissions(&db, Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&shelf, Permissions::from_mode(0o555)).unwrap();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, Permissions::from_mode(0o777)).unwrap();

    let tables = out.join("tables");
    let r = doorstep_as_reader(
        &dir,
        &[
            "export",
            "--db",
            db.to_str().unwrap(),
            "--out",
            tables.to_str().unwrap(),
            "--format",
            "csv",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.starts_with("exported 230 rows"), "{}", r.stderr);
    assert!(
        r.stdout.contains("household_needs: 40 rows\n"),
        "{}",
        r.stdout
    );
    let csv = std::fs::read_to_string(tables.join("household_needs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 41);

    let report = out.join("report.html");
    let r = doorstep_as_reader(
        &dir,
        &[
            "report",
            "--db",
            db.to_str().unwrap(),
            "-o",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    assert!(std::fs::read_to_string(&report).unwrap().contains("<svg"));

    assert_eq!(std::fs::read(&db).unwrap(), before, "the database changed");
    assert!(wal_files().is_empty(), "the reader left {:?}", wal_files());

    let new_db = shelf.join("new.db");
    let r = doorstep_as_reader(
        &dir,
        &["ingest", "--db", new_db.to_str().unwrap(), &bundles[0]],
    );
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(
        r.stderr.starts_with(&format!(
            "error: cannot create database {} in the folder {}: Permission denied",
            new_db.display(),
            shelf.display()
        )),
        "{}",
        r.stderr
    );
    assert!(!new_db.exists());

    std::fs::set_permissions(&shelf, Permissions::from_mode(0o755)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `doorstep ingest … | head -1`: the reader goes away after the first line, and the ingest still
/// stores every bundle it was given and ends normally (a write to the closed pipe must not stop it).
#[test]
fn ingest_goes_on_when_its_output_is_closed() {
    let dir = temp("office-pipe");
    let bundles = make_bundles(&dir);
    let db = dir.join("o.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .arg("ingest")
        .args(&bundles)
        .arg("--db")
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "")
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM doorstep_bundles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, bundles.len() as i64, "every bundle was ingested");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same ingest against a real PostgreSQL server (`cargo xtask test` starts one and sets
/// `DOORSTEP_TEST_POSTGRES`); skipped with a note otherwise.
#[test]
fn ingest_into_postgresql() {
    let Ok(url) = std::env::var("DOORSTEP_TEST_POSTGRES") else {
        eprintln!(
            "note: DOORSTEP_TEST_POSTGRES is not set; the PostgreSQL ingest test is skipped (cargo xtask test sets it)"
        );
        return;
    };
    // A database of its own, so runs never see each other's tables.
    let name = format!("doorstep_test_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)
        .expect("the test server accepts connections");
    // Two calls: DROP and CREATE DATABASE cannot share one (implicit) transaction.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').expect("the URL names a database");
    let db = format!("{base}/{name}");
    let dir = temp("office-pg");
    // Export only reads: an empty database is refused, not given Doorstep's tables.
    let r = doorstep(&[
        "export",
        "--db",
        &db,
        "--out",
        dir.join("ex0").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("is not a Doorstep database (it has no doorstep_forms"),
        "{}",
        r.stderr
    );
    // The server's own reason, not the client's bare "db error".
    let missing = format!("{base}/{name}_missing");
    let r = doorstep(&[
        "export",
        "--db",
        &missing,
        "--out",
        dir.join("ex0").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(&format!("database \"{name}_missing\" does not exist")),
        "{}",
        r.stderr
    );
    let bundles = make_bundles(&dir);
    let mut args = vec!["ingest"];
    args.extend(bundles.iter().map(String::as_str));
    args.extend(["--db", db.as_str()]);
    let r = doorstep(&args);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    assert!(
        r.stdout
            .ends_with("total: 50 new, 0 duplicate, 0 conflict, 0 rejected\n"),
        "{}",
        r.stdout
    );
    let r = doorstep(&args);
    assert!(
        r.stdout
            .ends_with("total: 0 new, 50 duplicate, 0 conflict, 0 rejected\n"),
        "{}",
        r.stdout
    );

    let mut c = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    let count = |c: &mut postgres::Client, t: &str| {
        c.query_one(&format!("SELECT count(*) FROM \"{t}\""), &[])
            .unwrap()
            .get::<_, i64>(0)
    };
    let subs = count(&mut c, "doorstep_submissions");
    let members = count(&mut c, "household_needs__members");
    assert_eq!(subs, 50);
    let mut bytes = std::fs::read(&bundles[0]).unwrap();
    let at = bytes
        .windows(13)
        .position(|w| w == b"\"head_name\":\"")
        .unwrap()
        + 13;
    bytes[at] ^= 0x01;
    let tampered = dir.join("tampered.zip");
    std::fs::write(&tampered, &bytes).unwrap();
    let r = doorstep(&["ingest", tampered.to_str().unwrap(), "--db", &db]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        (
            count(&mut c, "doorstep_submissions"),
            count(&mut c, "household_needs__members")
        ),
        (subs, members)
    );

    let out = dir.join("export");
    let r = doorstep(&["export", "--db", &db, "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("household_needs: 40 rows\n"),
        "{}",
        r.stdout
    );
    let r = doorstep(&[
        "report",
        "--db",
        &db,
        "-o",
        dir.join("r.html").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    drop(c);
    admin
        .batch_execute(&format!("DROP DATABASE {name}"))
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// An interview corrected on the phone after it was exported arrives again with a new id and the
/// old one in `deprecated_id`: both are stored, but the tables and the report count the household
/// once, as corrected.
#[test]
fn a_correction_replaces_the_original_in_export_and_report() {
    let dir = temp("office-correction");
    let original = dir.join("first.zip");
    synth_to(&form("household_needs"), 5, &original);
    let bytes = std::fs::read(&original).unwrap();
    let new_id = "uuid:0f0e0d0c-0b0a-4908-8706-050403020100";
    let old_id = {
        let archive = doorstep_core::bundle::zip::read(&bytes).unwrap();
        let lines = archive.get("submissions.jsonl").unwrap().data;
        let first: serde_json::Value =
            serde_json::from_slice(lines.split(|&b| b == b'\n').next().unwrap()).unwrap();
        first["meta"]["instance_id"].as_str().unwrap().to_string()
    };
    // The phone's later bundle: the five again, the first corrected (a new id, the old one
    // recorded, the head's name fixed on page 1 and on the roster's first line, which must agree, its
    // attachments filed under the new id).
    let corrected = edit_lines(&move_media(&bytes, &old_id, new_id), None, |i, v| {
        if i != 0 {
            return false;
        }
        let meta = &mut v["meta"];
        meta["deprecated_id"] = meta["instance_id"].clone();
        meta["instance_id"] = new_id.into();
        v["data"]["head_name"] = "更正后".into();
        v["data"]["members"][0]["member_name"] = "更正后".into();
        true
    });
    let second = dir.join("second.zip");
    std::fs::write(&second, corrected).unwrap();
    let db = dir.join("office.db");
    for (bundle, total) in [
        (&original, "5 new, 0 duplicate"),
        (&second, "1 new, 4 duplicate"),
    ] {
        let r = ingest(bundle, &db);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
        assert!(
            r.stdout
                .contains(&format!("total: {total}, 0 conflict, 0 rejected")),
            "{}",
            r.stdout
        );
    }

    let out = dir.join("tables");
    let r = export(&db, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("of 1 submissions replaced by a correction"),
        "{}",
        r.stderr
    );
    let households = std::fs::read_to_string(out.join("household_needs.csv")).unwrap();
    assert_eq!(households.lines().count(), 1 + 5, "{households}");
    assert!(
        !households.contains(&old_id),
        "the replaced one is left out"
    );
    assert!(households.contains("更正后"));
    let members = std::fs::read_to_string(out.join("household_needs__members.csv")).unwrap();
    assert!(!members.contains(&old_id), "its members too");
    assert!(members.contains(new_id));
    assert!(
        members.contains("更正后"),
        "the head's roster line is corrected too"
    );

    let html = dir.join("report.html");
    let r = doorstep(&[
        "report",
        "--db",
        db.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("调查户数： <b>5</b>"), "counted once");
    assert!(page.contains("1 份调查在手机上更正过"));
    assert!(
        page.contains("可能重复调查的户（户主身份证号相同） (0)"),
        "a correction is not the household surveyed twice"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The sheet names of a workbook `export --format xlsx` wrote, in order.
fn sheet_names(xlsx: &Path) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(xlsx).unwrap()).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("xl/workbook.xml").unwrap(), &mut xml)
        .unwrap();
    xml.split("<sheet name=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

/// A form id of 31 characters (Excel's limit on a sheet name) with a roster: the roster's table
/// cut to 31 characters was the form's own name, and the workbook could not be written at all
/// (exit 2, an empty .xlsx left behind). Each table now has a sheet of its own, and the codebook
/// and the summary say which.
#[test]
fn xlsx_sheets_of_long_table_names_are_unique() {
    let dir = temp("office-long-sheets");
    let mut form: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(form("household_needs")).unwrap()).unwrap();
    form["id"] = "household_needs_assessment_2024".into();
    let form_path = dir.join("long.form.json");
    std::fs::write(&form_path, form.to_string()).unwrap();
    let bundle = dir.join("long.zip");
    synth_to(form_path.to_str().unwrap(), 5, &bundle);
    let db = dir.join("o.db");
    assert_eq!(ingest(&bundle, &db).code, 0);
    let out = dir.join("tables");
    let r = export(&db, &out, &["--format", "xlsx"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("household_needs_assessment_2024__members (sheet members): "),
        "{}",
        r.stdout
    );
    assert_eq!(
        sheet_names(&out.join("household_needs_assessment_2024.xlsx")),
        ["household_needs_assessment_2024", "members", "codebook"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--db` naming another program's SQLite file (a typo, the wrong folder): ingest added
/// Doorstep's tables and the bundles' rows to it beside that program's own tables. It is now
/// refused as export and report refuse it, and left exactly as it was.
#[test]
fn ingest_refuses_another_programs_database() {
    let dir = temp("office-foreign-ingest");
    let bundle = dir.join("cv.zip");
    synth_to(&form("care_visit"), 2, &bundle);
    let foreign = dir.join("clinic.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch(
            "CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO patients (name) VALUES ('Wang');",
        )
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let r = ingest(&bundle, &foreign);
    assert_eq!(
        (r.code, r.stdout.as_str(), r.stderr.as_str()),
        (
            2,
            "",
            format!(
                "error: database {} is not a Doorstep database: it holds another program's tables (patients) \
                 and none of doorstep's; nothing was changed: give --db the database that `doorstep ingest` \
                 wrote, or a new file name\n",
                foreign.display()
            )
            .as_str()
        )
    );
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
    // An empty file (as a new, empty database) is still made into an office database.
    let empty = dir.join("new.db");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(ingest(&bundle, &empty).code, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A new form version makes a number question text (`affected_count` of emergency_aid, for answers
/// such as `007`). SQLite turned that text into the number 7 in the column the first version had
/// made INTEGER, silently; the column is now made TEXT, so both versions' answers keep what they
/// were (as in PostgreSQL).
#[test]
fn a_number_question_made_text_in_a_new_version_keeps_its_answers() {
    let dir = temp("office-retype");
    let synth = |form_path: &str, out: &Path, seed: &str| {
        synth(&[
            "--form",
            form_path,
            "--count",
            "2",
            "--seed",
            seed,
            "-o",
            out.to_str().unwrap(),
        ]);
    };
    let v1 = dir.join("v1.zip");
    synth(&form("emergency_aid"), &v1, "1");
    let mut v2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(form("emergency_aid")).unwrap()).unwrap();
    v2["version"] = "2099010101".into();
    let mut found = false;
    for group in v2["items"].as_array_mut().unwrap() {
        for item in group["items"].as_array_mut().into_iter().flatten() {
            if item["name"] == "affected_count" {
                let o = item.as_object_mut().unwrap();
                o.insert("type".into(), "text".into());
                o.retain(|k, _| ["type", "name", "label"].contains(&k.as_str()));
                found = true;
            }
        }
    }
    assert!(found, "emergency_aid has affected_count in a group");
    let v2_path = dir.join("v2.form.json");
    std::fs::write(&v2_path, v2.to_string()).unwrap();
    let v2_plain = dir.join("v2-plain.zip");
    synth(v2_path.to_str().unwrap(), &v2_plain, "2");
    let bytes = edit_lines(&std::fs::read(&v2_plain).unwrap(), None, |i, v| {
        v["data"]["affected_count"] = ["007", "12.50"][i].into();
        true
    });
    let v2_bundle = dir.join("v2.zip");
    std::fs::write(&v2_bundle, bytes).unwrap();

    let db = dir.join("o.db");
    assert_eq!(ingest(&v1, &db).code, 0);
    let r = ingest(&v2_bundle, &db);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("2 new"), "{}", r.stdout);
    let c = rusqlite::Connection::open(&db).unwrap();
    let stored: Vec<(String, String)> = c
        .prepare(
            "SELECT form_version, CAST(affected_count AS TEXT) FROM emergency_aid \
             ORDER BY form_version, affected_count",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let v2_answers: Vec<&str> = stored
        .iter()
        .filter(|(v, _)| v == "2099010101")
        .map(|(_, a)| a.as_str())
        .collect();
    assert_eq!(v2_answers, ["007", "12.50"], "{stored:?}");
    assert_eq!(
        stored.len(),
        4,
        "the first version's rows are kept: {stored:?}"
    );
    let out = dir.join("tables");
    let r = export(&db, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv = std::fs::read_to_string(out.join("emergency_aid.csv")).unwrap();
    assert!(csv.contains(",007,") || csv.contains(",\"007\","), "{csv}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A choice that a new form version no longer offers is still in the answers of the versions that
/// did: its label stays beside the code and in the codebook (they once showed the bare code, as
/// the newest version's list replaced the older ones').
#[test]
fn a_choice_removed_in_a_new_version_keeps_its_label() {
    let dir = temp("office-removed-choice");
    let v1_plain = dir.join("v1-plain.zip");
    synth_to(&form("emergency_aid"), 2, &v1_plain);
    let bytes = edit_lines(&std::fs::read(&v1_plain).unwrap(), None, |_, v| {
        v["data"]["event_type"] = "fire".into();
        v["data"].as_object_mut().unwrap().remove("event_other");
        true
    });
    let v1 = dir.join("v1.zip");
    std::fs::write(&v1, bytes).unwrap();
    let mut v2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(form("emergency_aid")).unwrap()).unwrap();
    v2["version"] = "2099010101".into();
    v2["choices"]["event_types"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["value"] != "fire");
    let v2_path = dir.join("v2.form.json");
    std::fs::write(&v2_path, v2.to_string()).unwrap();
    let v2_bundle = dir.join("v2.zip");
    synth(&[
        "--form",
        v2_path.to_str().unwrap(),
        "--count",
        "1",
        "--seed",
        "2",
        "-o",
        v2_bundle.to_str().unwrap(),
    ]);
    let db = dir.join("o.db");
    for bundle in [&v1, &v2_bundle] {
        let r = ingest(bundle, &db);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    }
    let out = dir.join("tables");
    let r = export(&db, &out, &["--lang", "en"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv = std::fs::read_to_string(out.join("emergency_aid.csv")).unwrap();
    assert_eq!(csv.matches(",fire,Fire,").count(), 2, "{csv}");
    let codebook = std::fs::read_to_string(out.join("codebook.csv")).unwrap();
    let event = codebook
        .lines()
        .find(|l| l.starts_with("emergency_aid,emergency_aid,event_type,"))
        .unwrap();
    assert!(event.contains("; fire=Fire"), "{event}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A form's tables are named after its id (`<id>`, `<id>__<repeat>`), so a form `household_needs__members`
/// would have written its rows into the roster table of `household_needs`, and a form `doorstep_bundles`
/// into Doorstep's own table; export took every table starting with `<id>__` as the form's (another
/// form's too), and a form `codebook` had its CSV overwritten by the codebook. Ingest now refuses a
/// form whose table is already another's, and export takes a form's tables from its versions.
#[test]
fn every_table_belongs_to_one_form() {
    let dir = temp("office-table-names");
    let renamed = |from: &str, id: &str| renamed_bundle(&dir, from, id);
    let households = dir.join("hn.zip");
    synth_to(&form("household_needs"), 3, &households);
    let db = dir.join("office.db");
    assert_eq!(ingest(&households, &db).code, 0);

    // Another form whose table is household_needs' roster table, either way round.
    let clash = renamed("emergency_aid", "household_needs__members");
    refused(
        &db,
        &clash,
        "the form `household_needs__members` would keep its rows in the table `household_needs__members`, \
         already a table of the form `household_needs`; its rows would mix with others. Give the form another id",
    );
    let other_way = dir.join("other-way.db");
    assert_eq!(ingest(&clash, &other_way).code, 0);
    refused(
        &other_way,
        &households,
        "the form `household_needs` would keep its rows in the table `household_needs__members`, \
         already a table of the form `household_needs__members`",
    );
    // Doorstep's own tables; and names that differ only in case are the same table to SQLite.
    refused(
        &db,
        &renamed("emergency_aid", "doorstep_bundles"),
        "the form `doorstep_bundles` would keep its rows in the table `doorstep_bundles`, one of Doorstep's own tables",
    );
    refused(
        &db,
        &renamed("emergency_aid", "Household_Needs"),
        "the form `Household_Needs` would keep its rows in the table `Household_Needs`, already a table of the form `household_needs`",
    );

    // Names that start like another form's but clash with none of its tables are fine, and each
    // table is exported once, as its own form's; a form `codebook` keeps its CSV beside the codebook.
    assert_eq!(
        ingest(&renamed("care_visit", "household_needs__visits"), &db).code,
        0
    );
    assert_eq!(ingest(&renamed("emergency_aid", "codebook"), &db).code, 0);
    let out = dir.join("csv");
    let r = export(&db, &out, &["--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut tables: Vec<&str> = r.stdout.lines().collect();
    tables.sort();
    let unique = tables.len();
    tables.dedup();
    assert_eq!(unique, tables.len(), "a table exported twice: {}", r.stdout);
    assert!(
        r.stdout
            .contains("codebook (file codebook (form).csv): 2 rows\n"),
        "{}",
        r.stdout
    );
    let codebook = std::fs::read_to_string(out.join("codebook.csv")).unwrap();
    assert!(
        codebook
            .trim_start_matches('\u{feff}')
            .starts_with("form,table,column,")
    );
    let form_rows = std::fs::read_to_string(out.join("codebook (form).csv")).unwrap();
    assert_eq!(form_rows.lines().count(), 3, "a header and two submissions");
    // The codebook names every table under its own form only.
    for line in codebook.lines().skip(1) {
        let mut cells = line.split(',');
        let (form_id, table) = (cells.next().unwrap(), cells.next().unwrap());
        assert!(
            table == form_id || table.starts_with(&format!("{form_id}__")),
            "{line}"
        );
        if form_id == "household_needs" {
            assert!(!table.starts_with("household_needs__visits"), "{line}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The rows of a CSV file `export` wrote (RFC 4180: quoted fields may hold commas, quotes and line
/// breaks), the byte-order mark left out.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, _) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, _) => field.push(c),
        }
    }
    rows
}

/// The codebook's question column was empty for every column no question asks: calculates
/// (`household_size`, `urgency`, `total_amount`), the app's metadata (`started_at`, `surveyor`)
/// and the linking columns (`instance_id`, `key`, `parent_key`, `position`), so an analyst could
/// not tell what they hold. Each now says, in the language of `--lang`; and a calculate whose
/// values are codes of the list it is named after (`care_categories`) has its label column and
/// its choices, as the report labels it, while `urgency` (no list in the form) lists the names the
/// report gives its codes.
#[test]
fn the_codebook_says_what_every_column_holds() {
    let dir = temp("office-codebook");
    let db = dir.join("o.db");
    for f in [
        "household_needs",
        "care_visit",
        "emergency_aid",
        "register_change",
    ] {
        let bundle = dir.join(format!("{f}.zip"));
        synth_to(&form(f), 20, &bundle);
        let r = ingest(&bundle, &db);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    }
    let export = |lang: &str| {
        let out = dir.join(format!("tables-{lang}"));
        let r = doorstep(&[
            "export",
            "--db",
            db.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--lang",
            lang,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        out
    };
    for (lang, expect) in [
        (
            "en",
            [
                (
                    "household_needs",
                    "household_size",
                    "calculated: count(${members})",
                ),
                (
                    "household_needs",
                    "started_at",
                    "filled in by the app: when the interview started",
                ),
                (
                    "household_needs",
                    "instance_id",
                    "the interview's own id (uuid:…), one per interview; its roster rows carry it too",
                ),
                (
                    "household_needs__members",
                    "parent_key",
                    "the interview this row belongs to: its instance_id in the table household_needs",
                ),
                (
                    "household_needs__members",
                    "position",
                    "the row's place among the interview's members, from 1",
                ),
            ],
        ),
        (
            "zh-CN",
            [
                (
                    "household_needs",
                    "household_size",
                    "计算值：count(${members})",
                ),
                (
                    "household_needs",
                    "started_at",
                    "由应用填写：调查开始的时间",
                ),
                (
                    "household_needs",
                    "instance_id",
                    "本次调查的编号（uuid:…），每份调查一个；其子表各行也记有它",
                ),
                (
                    "household_needs__members",
                    "parent_key",
                    "本行所属的调查：即表 household_needs 中的 instance_id",
                ),
                (
                    "household_needs__members",
                    "position",
                    "本行在本次调查的 members 中的序号，从 1 开始",
                ),
            ],
        ),
    ] {
        let out = export(lang);
        let book = csv_rows(&std::fs::read_to_string(out.join("codebook.csv")).unwrap());
        assert_eq!(
            book[0],
            ["form", "table", "column", "question", "type", "choices"]
        );
        let row = |table: &str, column: &str| {
            book.iter()
                .find(|r| r[1] == table && r[2] == column)
                .unwrap_or_else(|| panic!("{lang}: no row {table}.{column}"))
                .clone()
        };
        for r in &book[1..] {
            assert!(
                !r[3].trim().is_empty(),
                "{lang}: a column unexplained: {r:?}"
            );
        }
        for (table, column, question) in expect {
            assert_eq!(row(table, column)[3], question, "{lang}: {table}.{column}");
        }
        // A calculate without a label or hint is its expression, as the shipped form has it.
        let visit: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(form("care_visit")).unwrap()).unwrap();
        let total = visit["items"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["items"].as_array().cloned().unwrap_or_default())
            .find(|i| i["name"] == "total_amount")
            .unwrap();
        assert!(total.get("label").is_none() && total.get("hint").is_none());
        let said = if lang == "en" {
            "calculated: "
        } else {
            "计算值："
        };
        assert_eq!(
            row("care_visit", "total_amount")[3],
            format!("{said}{}", total["calculation"].as_str().unwrap())
        );
        // `care_categories` holds codes of the list `care_categories`: labelled like a select.
        let (cat1, urgent) = if lang == "en" {
            (
                "1. Families in hardship (disability, illness, death, inability to work)",
                "Urgent",
            )
        } else {
            ("① 困难计生家庭（伤残、病残、死亡、丧失劳动能力）", "紧急")
        };
        let cats = row("household_needs", "care_categories");
        assert!(
            cats[5].starts_with(&format!("cat1={cat1}; cat2=")),
            "{cats:?}"
        );
        let table = csv_rows(&std::fs::read_to_string(out.join("household_needs.csv")).unwrap());
        let at = |name: &str| table[0].iter().position(|h| h == name);
        let (codes, labels) = (at("care_categories").unwrap(), at("care_categories/label"));
        let labels = labels.expect("care_categories has a label column");
        assert_eq!(labels, codes + 1);
        let with_cat1 = table[1..]
            .iter()
            .find(|r| r[codes].split(' ').any(|c| c == "cat1"))
            .expect("a household in care category 1");
        assert!(with_cat1[labels].contains(cat1), "{with_cat1:?}");
        // `urgency` has no list in the form: no label column, and the codebook names its codes
        // as the report does.
        assert_eq!(at("urgency/label"), None);
        let urgency = row("household_needs", "urgency");
        assert!(
            urgency[5].starts_with(&format!("urgent={urgent}; key=")),
            "{urgency:?}"
        );
        assert!(
            urgency[3].starts_with(if lang == "en" {
                "calculated: cond("
            } else {
                "计算值：cond("
            }),
            "{urgency:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A new version of care_visit written to `dir`: `item_amount` (a decimal in the roster) made
/// text, `volunteers_present` made decimal from integer, and a new question `extra_note`.
fn care_visit_v2(dir: &Path) -> String {
    let mut v2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(form("care_visit")).unwrap()).unwrap();
    v2["version"] = "2099010101".into();
    fn walk(items: &mut serde_json::Value, found: &mut usize) {
        for item in items.as_array_mut().into_iter().flatten() {
            if item["name"] == "item_amount" {
                let o = item.as_object_mut().unwrap();
                o.insert("type".into(), "text".into());
                o.retain(|k, _| ["type", "name", "label"].contains(&k.as_str()));
                *found += 1;
            }
            if item["name"] == "volunteers_present" {
                item["type"] = "decimal".into();
                *found += 1;
            }
            if item["name"] == "g_visit" {
                let label = serde_json::json!({"zh-CN": "补充说明", "en": "Extra note"});
                item["items"].as_array_mut().unwrap().push(
                    serde_json::json!({"type": "text", "name": "extra_note", "label": label}),
                );
                *found += 1;
            }
            walk(&mut item["items"], found);
        }
    }
    let mut found = 0;
    walk(&mut v2["items"], &mut found);
    assert_eq!(
        found, 3,
        "care_visit has item_amount, volunteers_present and g_visit"
    );
    let path = dir.join("care_visit_v2.form.json");
    std::fs::write(&path, v2.to_string()).unwrap();
    path.display().to_string()
}

/// `item_amount` of each roster row of `care_visit__aid_items.csv` in `out`, by the row's key.
fn amounts(out: &Path) -> std::collections::BTreeMap<String, String> {
    let rows = csv_rows(&std::fs::read_to_string(out.join("care_visit__aid_items.csv")).unwrap());
    let at = rows[0].iter().position(|c| c == "item_amount").unwrap();
    rows[1..]
        .iter()
        .map(|r| (r[0].clone(), r[at].clone()))
        .collect()
}

/// A decimal question made text in a new version: SQLite rebuilt the column with its own
/// `CAST(... AS TEXT)`, so the first version's amounts changed in the export from `17570` to
/// `17570.0` (and PostgreSQL's were `17570`); made text first and decimal later, SQLite wrote the
/// new decimals into the text column as `17570.0` too. The export now shows a version's numbers
/// alike whatever came before or after it.
#[test]
fn a_decimal_question_made_text_keeps_its_amounts_as_they_were() {
    let dir = temp("office-decimal-text");
    let v1 = dir.join("v1.zip");
    synth(&[
        "--form",
        &form("care_visit"),
        "--count",
        "40",
        "--seed",
        "3",
        "-o",
        v1.to_str().unwrap(),
    ]);
    let v2 = dir.join("v2.zip");
    synth(&[
        "--form",
        &care_visit_v2(&dir),
        "--count",
        "10",
        "--seed",
        "4",
        "-o",
        v2.to_str().unwrap(),
    ]);
    let exported = |bundles: &[&Path], name: &str| {
        let db = dir.join(format!("{name}.db"));
        for b in bundles {
            let r = ingest(b, &db);
            assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        }
        let out = dir.join(name);
        let r = export(&db, &out, &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        amounts(&out)
    };
    let alone = exported(&[&v1], "alone");
    assert!(
        alone.values().any(|a| !a.is_empty() && !a.contains('.')),
        "some amount is whole: {alone:?}"
    );
    let first_versions_rows = |all: &std::collections::BTreeMap<String, String>| {
        all.iter()
            .filter(|(k, _)| alone.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let then_text = exported(&[&v1, &v2], "then-text");
    assert_eq!(first_versions_rows(&then_text), alone);
    let text_first = exported(&[&v2, &v1], "text-first");
    assert_eq!(first_versions_rows(&text_first), alone);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same bundles give the same register in PostgreSQL as in SQLite: the ingest's summary, every
/// CSV file byte for byte (in Chinese and English), every sheet of the workbooks, and the report.
/// They differed: PostgreSQL read rows in `ctid` order, which is not the order they were added in
/// (an insert fills room left in an earlier page), so rows of 300 households came out shuffled; and
/// an integer question made decimal in a new version made the column text in PostgreSQL only, so
/// a workbook had those numbers as text. Skipped without `DOORSTEP_TEST_POSTGRES`.
#[test]
fn postgresql_gives_the_same_register_as_sqlite() {
    let Some(pg) = fresh_postgres("parity") else {
        return;
    };
    let dir = temp("office-pg-parity");
    let b = dir.join("bundles");
    synth(&[
        "--form",
        &form("household_needs"),
        "--count",
        "300",
        "--per-bundle",
        "100",
        "-o",
        b.join("hh").to_str().unwrap(),
    ]);
    let mut bundles = bundles_in(&b.join("hh"));
    for (form_path, file, seed) in [
        (form("care_visit"), "cv1.zip", "3"),
        (care_visit_v2(&dir), "cv2.zip", "4"),
        (form("emergency_aid"), "ea.zip", "5"),
        (form("register_change"), "rc.zip", "6"),
    ] {
        let path = b.join(file);
        synth(&[
            "--form",
            &form_path,
            "--count",
            "60",
            "--seed",
            seed,
            "-o",
            path.to_str().unwrap(),
        ]);
        bundles.push(path.display().to_string());
    }
    let sqlite = dir.join("office.db").display().to_string();
    let mut files = Vec::new();
    for (db, side) in [(&sqlite, "sqlite"), (&pg, "pg")] {
        let out = dir.join(side);
        let mut args = vec!["ingest"];
        args.extend(bundles.iter().map(String::as_str));
        args.extend(["--db", db.as_str()]);
        let r = doorstep(&args);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
        let mut side_files = vec![("ingest".to_string(), r.stdout.into_bytes())];
        for (sub, extra) in [
            ("csv", &[][..]),
            ("csv-en", &["--lang", "en"][..]),
            ("xlsx", &["--format", "xlsx"][..]),
        ] {
            let mut args = vec!["export", "--db", db, "--out"];
            let target = out.join(sub);
            args.push(target.to_str().unwrap());
            args.extend_from_slice(extra);
            let r = doorstep(&args);
            assert_eq!(r.code, 0, "{}", r.stderr);
            side_files.push((format!("{sub} summary"), r.stdout.into_bytes()));
            let mut names: Vec<_> = std::fs::read_dir(&target)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            names.sort();
            for path in names {
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                if sub == "xlsx" {
                    // The sheets and their strings (the workbook's own metadata has the time).
                    let mut archive =
                        zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
                    let parts: Vec<String> = archive
                        .file_names()
                        .map(|n| n.unwrap().into_owned())
                        .filter(|n| n.starts_with("xl/"))
                        .collect();
                    for part in parts {
                        let mut bytes = Vec::new();
                        std::io::Read::read_to_end(
                            &mut archive.by_name(&part).unwrap(),
                            &mut bytes,
                        )
                        .unwrap();
                        side_files.push((format!("{sub}/{file}/{part}"), bytes));
                    }
                } else {
                    side_files.push((format!("{sub}/{file}"), std::fs::read(&path).unwrap()));
                }
            }
        }
        for lang in ["zh-CN", "en"] {
            let html = out.join(format!("report-{lang}.html"));
            make_report(db, &html, lang);
            // The page names the database it was made from, and the minute it was made (the two
            // reports may be made a minute apart).
            let shown = db.rsplit('@').next().unwrap();
            let text = std::fs::read_to_string(&html).unwrap().replace(shown, "DB");
            let text = match (
                text.find(" UTC · DB"),
                ["生成时间 ", "Generated "]
                    .iter()
                    .find_map(|g| text.find(g).map(|i| i + g.len())),
            ) {
                (Some(end), Some(start)) if start < end => {
                    format!("{}TIME{}", &text[..start], &text[end..])
                }
                _ => panic!("the report says when and from what it was made: {text}"),
            };
            side_files.push((format!("report {lang}"), text.into_bytes()));
        }
        files.push(side_files);
    }
    let (s, p) = (&files[0], &files[1]);
    let names = |f: &Vec<(String, Vec<u8>)>| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(s), names(p));
    assert!(names(s).contains(&"csv/household_needs__members.csv".to_string()));
    for ((name, a), (_, b)) in s.iter().zip(p) {
        if a != b {
            let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
            let first = a
                .lines()
                .zip(b.lines())
                .find(|(x, y)| x != y)
                .unwrap_or_default();
            panic!(
                "{name} differs; first differing line:\nsqlite: {}\npg:     {}",
                first.0, first.1
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A text answer with the NUL character (U+0000): SQLite stored it, while PostgreSQL, whose text
/// cannot hold it, failed the whole bundle ("invalid byte sequence for encoding UTF8: 0x00",
/// naming no submission). Both now reject that one submission, naming the question, and store the
/// others. The PostgreSQL half runs with `DOORSTEP_TEST_POSTGRES`.
#[test]
fn a_nul_character_in_an_answer_is_rejected_alike_in_both_databases() {
    let dir = temp("office-nul");
    let plain = dir.join("plain.zip");
    synth_to(&form("emergency_aid"), 3, &plain);
    let bytes = edit_lines(&std::fs::read(&plain).unwrap(), None, |i, v| {
        if i == 1 {
            v["data"]["situation"] = "房屋\u{0}倒塌".into();
        }
        i == 1
    });
    let bundle = dir.join("nul.zip");
    std::fs::write(&bundle, bytes).unwrap();
    let check = |db: &str| {
        let r = doorstep(&["ingest", bundle.to_str().unwrap(), "--db", db]);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stdout
                .contains("nul.zip: 2 new, 0 duplicate, 0 conflict, 1 rejected"),
            "{}{}",
            r.stdout,
            r.stderr
        );
        assert!(
            r.stdout
                .contains("situation: the text holds the character U+0000 (NUL)"),
            "{}",
            r.stdout
        );
    };
    check(dir.join("o.db").to_str().unwrap());
    if let Some(pg) = fresh_postgres("nul") {
        check(&pg);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A bundle of two submissions of the shipped form `from` given the id `id`, in `dir`.
fn renamed_bundle(dir: &Path, from: &str, id: &str) -> PathBuf {
    let mut f: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(form(from)).unwrap()).unwrap();
    f["id"] = id.into();
    let path = dir.join(format!("{id}.form.json"));
    std::fs::write(&path, f.to_string()).unwrap();
    let bundle = dir.join(format!("{id}.zip"));
    synth_to(path.to_str().unwrap(), 2, &bundle);
    bundle
}

/// A new, empty database on the test server as a URL, or `None` (with a note) when there is no
/// server: `cargo xtask test` starts one and sets `DOORSTEP_TEST_POSTGRES`.
fn fresh_postgres(tag: &str) -> Option<String> {
    let Ok(url) = std::env::var("DOORSTEP_TEST_POSTGRES") else {
        eprintln!(
            "note: DOORSTEP_TEST_POSTGRES is not set; the PostgreSQL part of this test is skipped (cargo xtask test sets it)"
        );
        return None;
    };
    let name = format!("doorstep_{tag}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)
        .expect("the test server accepts connections");
    // Two calls: DROP and CREATE DATABASE cannot share one (implicit) transaction.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').expect("the URL names a database");
    Some(format!("{base}/{name}"))
}

/// PostgreSQL cuts names longer than 63 bytes short without a word, so a form id of 64 characters
/// (which the format allows) or a roster table `<form id>__<roster>` over 63 bytes made tables the
/// export could not find by their names (and two such tables could become one). Ingest into
/// PostgreSQL now refuses the bundle untouched, naming the table; SQLite keeps any length.
#[test]
fn postgresql_refuses_names_it_would_cut_short() {
    let Some(pg) = fresh_postgres("long_names") else {
        return;
    };
    let dir = temp("office-pg-long-names");
    let renamed = |from: &str, id: &str| renamed_bundle(&dir, from, id);
    let long_form = format!("e{}", "a".repeat(63));
    let long_roster = format!("c{}", "v".repeat(52));
    for (bundle, table) in [
        (renamed("emergency_aid", &long_form), long_form.clone()),
        (
            renamed("care_visit", &long_roster),
            format!("{long_roster}__aid_items"),
        ),
    ] {
        let r = doorstep(&["ingest", bundle.to_str().unwrap(), "--db", &pg]);
        assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "the table `{table}` has a name of {} bytes, and PostgreSQL keeps at most 63; give the form a shorter id",
                table.len()
            )) && r.stderr.contains("nothing from this bundle was stored"),
            "{}",
            r.stderr
        );
        // SQLite keeps the names whole.
        assert_eq!(ingest(&bundle, &dir.join("office.db")).code, 0);
    }
    // The refused bundles left the server's database without any table of theirs.
    let r = doorstep(&[
        "export",
        "--db",
        &pg,
        "--out",
        dir.join("pg").to_str().unwrap(),
    ]);
    assert_eq!(r.stdout, "", "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The PostgreSQL server going away in the middle of an ingest: every later bundle failed alike,
/// each with its own "connection closed (and the rollback failed ...)". Ingest now stops at the
/// lost connection, says which bundle was being stored and how many were not tried, and that the
/// same command can be run again; what was committed before stays. The second bundle comes
/// through a named pipe, so the server is stopped exactly between the first and the second.
#[test]
fn a_lost_postgresql_connection_stops_the_ingest_with_what_to_do() {
    use std::io::{BufRead, Write};
    let Some(pg) = fresh_postgres("lost") else {
        return;
    };
    let dir = temp("office-pg-lost");
    let mut bundles = Vec::new();
    for (i, f) in ["care_visit", "emergency_aid", "register_change"]
        .iter()
        .enumerate()
    {
        let b = dir.join(format!("b{i}.zip"));
        synth_to(&form(f), 3, &b);
        bundles.push(b);
    }
    // With a key given, ingest does not look into every bundle first to see if one is encrypted
    // (which would wait on the pipe).
    let key = dir.join("office.key");
    assert_eq!(doorstep(&["keygen", "-o", key.to_str().unwrap()]).code, 0);
    let pipe = dir.join("second.zip");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap();
    assert!(made.success());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args([
            "ingest",
            bundles[0].to_str().unwrap(),
            pipe.to_str().unwrap(),
        ])
        .arg(&bundles[2])
        .args(["--db", &pg, "--identity", key.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert_eq!(
        first,
        format!(
            "{}: 3 new, 0 duplicate, 0 conflict, 0 rejected\n",
            bundles[0].display()
        )
    );
    // The first bundle is committed; the connection goes before the second is read.
    let (base, name) = pg.rsplit_once('/').unwrap();
    let mut admin =
        postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls).unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .unwrap();
    std::fs::File::create(&pipe)
        .unwrap()
        .write_all(&std::fs::read(&bundles[1]).unwrap())
        .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(2), "{rest}{stderr}");
    assert_eq!(
        rest,
        "total: 3 new, 0 duplicate, 0 conflict, 0 rejected, 2 bundle(s) refused\n"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("error: {}: postgresql: ", pipe.display()))
            && lines[0].ends_with("; nothing from this bundle was stored")
            && !lines[0].contains("rollback"),
        "{stderr}"
    );
    assert_eq!(
        lines[1],
        format!(
            "error: the connection to the database was lost while {} was being stored, and the 1 bundle(s) after it were not tried; run the same command again once the server is back: what is stored already counts as duplicates",
            pipe.display()
        )
    );
    assert_eq!(
        lines[2],
        "error: 2 of 3 bundle(s) could not be ingested (see above)"
    );
    // Run again: the first is all duplicates, the others are stored now.
    let again = doorstep(&[
        "ingest",
        bundles[0].to_str().unwrap(),
        bundles[1].to_str().unwrap(),
        bundles[2].to_str().unwrap(),
        "--db",
        &pg,
    ]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stdout
            .ends_with("total: 6 new, 3 duplicate, 0 conflict, 0 rejected\n"),
        "{}",
        again.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}
