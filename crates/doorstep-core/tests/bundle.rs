//! Export bundles end to end: write a bundle, read it back, check the CSV tables byte for byte, and
//! check that every kind of damage or tampering is refused with a message naming the file.

use std::rc::Rc;

use doorstep_core::bundle::{
    self, Attachment, BundleError, BundleInfo, BundleReader, read_bundle, verify_submissions,
    write_bundle,
    zip::{self, DosTime, ZipWriter},
};
use doorstep_core::form::{self, Form};
use doorstep_core::submission::{Checker, FormRef, Meta, Status, Submission, sha256_hex};
use serde_json::{Value as Json, json};

const FORM: &str = r#"{"format": "doorstep-form/1", "id": "hh", "version": "2026112201", "title": "Household",
  "languages": ["en"],
  "choices": {"causes": [{"value": "illness", "label": "Illness"}, {"value": "disability", "label": "Disability"},
                         {"value": "other", "label": "Other"}]},
  "items": [
    {"type": "text", "name": "head", "label": "Head", "required": true},
    {"type": "select_multiple", "name": "causes", "label": "Causes", "choices": "causes"},
    {"type": "text", "name": "other_cause", "label": "Other cause", "relevant": "selected(${causes}, 'other')"},
    {"type": "date", "name": "visit", "label": "Visit", "constraint": ". <= today()", "constraint_message": "Not in the future"},
    {"type": "geopoint", "name": "loc", "label": "Location"},
    {"type": "image", "name": "photo", "label": "Photo"},
    {"type": "repeat", "name": "members", "label": "Member", "items": [
      {"type": "text", "name": "m_name", "label": "Name", "required": true},
      {"type": "integer", "name": "m_age", "label": "Age", "constraint": ". >= 0", "constraint_message": "Not negative"},
      {"type": "repeat", "name": "children", "label": "Child", "items": [
        {"type": "text", "name": "c_name", "label": "Child name"}]}]},
    {"type": "calculate", "name": "size", "calculation": "count(${members})", "data_type": "integer"},
    {"type": "calculate", "name": "stamp", "calculation": "once(now())"}
  ]}"#;

const A: &str = "uuid:aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const B: &str = "uuid:bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
const C: &str = "uuid:cccccccc-cccc-4ccc-8ccc-cccccccccccc";
const D: &str = "uuid:dddddddd-dddd-4ddd-8ddd-dddddddddddd";
const E: &str = "uuid:eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee";
const PHOTO: &[u8] = b"\xff\xd8\xff\xe0 not really a jpeg";

fn form() -> Rc<Form> {
    let loaded = form::load(FORM);
    Rc::new(
        loaded
            .form
            .unwrap_or_else(|| panic!("the test form loads: {:?}", loaded.diagnostics)),
    )
}

fn sub(form: &Form, id: &str, status: Status, data: Json) -> Submission {
    Submission {
        meta: Meta {
            instance_id: id.into(),
            form: FormRef::of(form),
            status,
            started_at: "2026-11-22T09:00:00+08:00".into(),
            updated_at: "2026-11-22T09:30:00+08:00".into(),
            finalized_at: (status == Status::Finalized).then(|| "2026-11-22T09:30:00+08:00".into()),
            device_id: "dev-1".into(),
            surveyor: "tester".into(),
            deprecated_id: None,
        },
        data,
    }
}

fn photo_ref() -> Json {
    json!({"file": "p1.jpg", "media_type": "image/jpeg", "size": PHOTO.len(), "sha256": sha256_hex(PHOTO)})
}

fn info() -> BundleInfo {
    BundleInfo {
        device_id: "Pixel 7/ü_1".into(),
        surveyor: "tester".into(),
        app_version: "0.1.0".into(),
        created_at: "2026-11-22T18:05:09+08:00".into(),
        attachments: vec![
            Attachment {
                instance_id: A.into(),
                file: "p1.jpg".into(),
                bytes: PHOTO.to_vec(),
            },
            Attachment {
                instance_id: D.into(),
                file: "x.jpg".into(),
                bytes: b"unused".to_vec(),
            },
        ],
        entropy: Vec::new(),
    }
}

/// Two valid submissions (one an edit of an older one) and three that must be refused.
fn submissions(f: &Form) -> Vec<Submission> {
    let a = sub(
        f,
        A,
        Status::Finalized,
        json!({"head": "张三", "causes": ["illness", "other"], "other_cause": "flood, then \"fire\"\nand more",
               "visit": "2026-11-20", "loc": {"lat": 30.5, "lon": 114.25, "alt": 20, "accuracy": 5},
               "photo": photo_ref(),
               "members": [{"m_name": "Li", "m_age": 40, "children": [{"c_name": "Xiao"}]},
                           {"m_name": "=cmd|' /C calc'!A0", "m_age": 12}],
               "size": 2, "stamp": "2026-11-22T09:01:00+08:00"}),
    );
    let mut b = sub(
        f,
        B,
        Status::Finalized,
        json!({"head": "Wang", "causes": ["disability"], "other_cause": "kept in the draft only", "visit": "2026-11-21",
               "size": 0, "stamp": "2026-11-22T09:02:00+08:00"}),
    );
    b.meta.deprecated_id = Some(C.into());
    // No head (required), and a negative age.
    let c = sub(
        f,
        C,
        Status::Finalized,
        json!({"causes": [], "members": [{"m_name": "X", "m_age": -1}]}),
    );
    let d = sub(f, D, Status::Draft, json!({"head": "Zhao"}));
    // A visit after the day it was finalized: `today()` is the finalization day, whoever checks.
    let e = sub(
        f,
        E,
        Status::Finalized,
        json!({"head": "Sun", "visit": "2026-11-23"}),
    );
    // Out of order on purpose: the bundle sorts by instance_id.
    vec![e, b, d, c, a]
}

fn written() -> (Rc<Form>, bundle::Bundle) {
    let f = form();
    let b = write_bundle(&f, &submissions(&f), &info()).expect("the bundle is written");
    (f, b)
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

#[test]
fn writes_reads_and_refuses_with_reasons() {
    let (f, b) = written();
    assert_eq!(b.file_name, "hh_Pixel-7---1_20261122T100509Z.zip");
    assert_eq!(b.sha256, sha256_hex(&b.bytes));
    assert_eq!(b.included, [A, B]);
    let refused: Vec<&str> = b.refused.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(refused, [C, D, E]);
    let reasons = |id: &str| {
        b.refused
            .iter()
            .find(|(i, _)| i == id)
            .unwrap()
            .1
            .join(" | ")
    };
    assert!(
        reasons(C).contains("head: This question is required. (required)"),
        "{}",
        reasons(C)
    );
    assert!(
        reasons(C).contains("members[1]/m_age: Not negative (constraint)"),
        "{}",
        reasons(C)
    );
    assert!(reasons(D).contains("draft"), "{}", reasons(D));
    assert!(
        reasons(E).contains("visit: Not in the future (constraint)"),
        "{}",
        reasons(E)
    );
    assert_eq!(b.unused_attachments, [(D.to_string(), "x.jpg".to_string())]);

    // Deterministic: the same input gives the same bytes.
    assert_eq!(
        write_bundle(&f, &submissions(&f), &info()).unwrap().bytes,
        b.bytes
    );

    let r = read_bundle(&b.bytes).expect("the bundle reads back");
    assert_eq!(r.form_source, FORM);
    assert_eq!(r.form.hash, f.hash);
    assert_eq!(r.manifest.format, "doorstep-bundle/1");
    assert_eq!(r.manifest.device_id, "Pixel 7/ü_1");
    assert_eq!(r.manifest.app_version, "0.1.0");
    assert_eq!(r.manifest.created_at, "2026-11-22T18:05:09+08:00");
    let ids: Vec<&str> = r
        .submissions
        .iter()
        .map(|s| s.meta.instance_id.as_str())
        .collect();
    assert_eq!(ids, [A, B]);
    let originals = submissions(&f);
    for s in &r.submissions {
        let orig = originals
            .iter()
            .find(|o| o.meta.instance_id == s.meta.instance_id)
            .unwrap();
        assert_eq!(s, orig);
    }
    // The deprecated_id survives the round trip.
    assert_eq!(r.submissions[1].meta.deprecated_id.as_deref(), Some(C));
    for (s, e) in r.submissions.iter().zip(&r.manifest.submissions) {
        assert_eq!(e.sha256, s.line_hash());
        assert_eq!(e.status, Status::Finalized);
    }
    let paths: Vec<&str> = r.manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "form.json",
            "submissions.jsonl",
            "tables/hh.csv",
            "tables/hh.members.csv",
            "tables/hh.children.csv",
            "media/aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa/p1.jpg"
        ]
    );
    assert_eq!(r.media.len(), 1);
    assert_eq!(
        (
            r.media[0].instance_id.as_str(),
            r.media[0].file.as_str(),
            r.media[0].bytes.as_slice()
        ),
        (A, "p1.jpg", PHOTO)
    );
    assert_eq!(verify_submissions(&r), Vec::<(String, Vec<String>)>::new());

    // The office's re-validation catches what the device should not have exported.
    let mut r = r;
    r.submissions[1].data["head"] = json!(null);
    r.media.clear();
    let problems = verify_submissions(&r);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0]
            .1
            .iter()
            .any(|p| p.contains("p1.jpg") && p.contains("not in the bundle")),
        "{problems:?}"
    );
    assert!(
        problems[1].1.iter().any(|p| p.contains("head")),
        "{problems:?}"
    );
}

#[test]
fn csv_tables_exactly() {
    let (_, b) = written();
    let a = zip::read(&b.bytes).unwrap();
    let file = |p: &str| {
        text(
            a.get(p)
                .unwrap_or_else(|| panic!("{p} is in the bundle"))
                .data,
        )
        .to_string()
    };
    let t0 = "2026-11-22T09:00:00+08:00,2026-11-22T09:30:00+08:00,2026-11-22T09:30:00+08:00,dev-1,tester";
    assert_eq!(
        file("tables/hh.csv"),
        format!(
            "\u{feff}instance_id,meta/deprecated_id,meta/started_at,meta/updated_at,meta/finalized_at,meta/device_id,meta/surveyor,\
head,causes,causes/illness,causes/disability,causes/other,other_cause,visit,loc/lat,loc/lon,loc/alt,loc/accuracy,photo,size,stamp\r\n\
{A},,{t0},张三,illness other,1,0,1,\"flood, then \"\"fire\"\"\nand more\",2026-11-20,30.5,114.25,20,5,p1.jpg,2,2026-11-22T09:01:00+08:00\r\n\
{B},{C},{t0},Wang,disability,0,1,0,,2026-11-21,,,,,,0,2026-11-22T09:02:00+08:00\r\n"
        )
    );
    assert_eq!(
        file("tables/hh.members.csv"),
        format!(
            "\u{feff}instance_id,parent_key,key,m_name,m_age\r\n\
{A},{A},{A}/members[1],Li,40\r\n\
{A},{A},{A}/members[2],'=cmd|' /C calc'!A0,12\r\n"
        )
    );
    assert_eq!(
        file("tables/hh.children.csv"),
        format!(
            "\u{feff}instance_id,parent_key,key,c_name\r\n{A},{A}/members[1],{A}/members[1]/children[1],Xiao\r\n"
        )
    );
    // The JSONL keeps the exact answers, non-relevant ones included, one line per submission.
    let jsonl = file("submissions.jsonl");
    assert_eq!(jsonl.lines().count(), 2);
    assert!(jsonl.ends_with('\n'));
    assert!(jsonl.contains("kept in the draft only"));
    assert!(jsonl.contains("=cmd|' /C calc'!A0"));
}

/// Rebuilds a ZIP from `entries` with the writer (so the ZIP itself is consistent).
fn rezip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = ZipWriter::new(DosTime::new(2026, 11, 22, 10, 5, 9));
    for (n, d) in entries {
        w.add(n, d).unwrap();
    }
    w.finish().unwrap()
}

fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    zip::read(bytes)
        .unwrap()
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.data.to_vec()))
        .collect()
}

fn refused(bytes: &[u8]) -> BundleError {
    match read_bundle(bytes) {
        Ok(_) => panic!("the bundle should be refused"),
        Err(e) => e,
    }
}

#[test]
fn a_changed_byte_in_any_file_is_refused_naming_the_file() {
    let (_, b) = written();
    let archive = zip::read(&b.bytes).unwrap();
    for e in &archive.entries {
        let start = e.data.as_ptr() as usize - b.bytes.as_ptr() as usize;
        let mut bad = b.bytes.clone();
        bad[start + e.data.len() / 2] ^= 0x01;
        let err = refused(&bad);
        assert_eq!(err.file(), Some(e.name.as_str()), "{err}");
        assert!(err.to_string().contains(&e.name), "{err}");
    }
}

#[test]
fn a_changed_file_with_a_fixed_crc_is_refused_by_its_hash() {
    let (_, b) = written();
    let mut es = entries(&b.bytes);
    let t = es.iter_mut().find(|(n, _)| n == "tables/hh.csv").unwrap();
    let s = text(&t.1).replace("Wang", "Wong");
    t.1 = s.into_bytes();
    let err = refused(&rezip(&es));
    assert_eq!(
        err.to_string(),
        "tables/hh.csv: the SHA-256 does not match the manifest (the file was changed after export)"
    );
    // A changed length is reported as such.
    let t = es.iter_mut().find(|(n, _)| n == "tables/hh.csv").unwrap();
    t.1.push(b'x');
    let err = refused(&rezip(&es));
    assert!(
        matches!(&err, BundleError::Changed { file, .. } if file == "tables/hh.csv"),
        "{err}"
    );
    assert!(
        err.to_string().contains("bytes but the manifest says"),
        "{err}"
    );
}

#[test]
fn a_missing_extra_or_renamed_file_is_refused() {
    let (_, b) = written();
    let es = entries(&b.bytes);

    let without: Vec<_> = es
        .iter()
        .filter(|(n, _)| n != "tables/hh.members.csv")
        .cloned()
        .collect();
    let err = refused(&rezip(&without));
    assert_eq!(err, BundleError::Missing("tables/hh.members.csv".into()));
    assert!(
        err.to_string()
            .starts_with("tables/hh.members.csv: the file is missing"),
        "{err}"
    );

    let mut with = es.clone();
    with.push(("notes.txt".into(), b"hello".to_vec()));
    let err = refused(&rezip(&with));
    assert_eq!(err.file(), Some("notes.txt"));
    assert!(err.to_string().contains("not in the manifest"), "{err}");

    let renamed: Vec<_> = es
        .iter()
        .map(|(n, d)| {
            (
                if n == "tables/hh.csv" {
                    "tables/hh2.csv".to_string()
                } else {
                    n.clone()
                },
                d.clone(),
            )
        })
        .collect();
    let err = refused(&rezip(&renamed));
    assert_eq!(err.file(), Some("tables/hh2.csv"), "{err}");

    let no_manifest: Vec<_> = es
        .iter()
        .filter(|(n, _)| n != "manifest.json")
        .cloned()
        .collect();
    let err = refused(&rezip(&no_manifest));
    assert!(matches!(err, BundleError::NotABundle { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("not a Doorstep bundle: the ZIP archive has no manifest.json"),
        "{err}"
    );
}

#[test]
fn a_duplicated_entry_is_refused() {
    let (_, b) = written();
    let mut es = entries(&b.bytes);
    let form = es.iter().find(|(n, _)| n == "form.json").unwrap().1.clone();
    es.push(("form.jsoX".into(), form));
    let mut z = rezip(&es);
    // Rename the extra entry in its local header and in the central directory.
    let pat = b"form.jsoX";
    let mut i = 0;
    let mut hits = 0;
    while i + pat.len() <= z.len() {
        if &z[i..i + pat.len()] == pat {
            z[i + pat.len() - 1] = b'n';
            hits += 1;
        }
        i += 1;
    }
    assert_eq!(hits, 2);
    let err = refused(&z);
    assert_eq!(err.file(), Some("form.json"));
    assert!(err.to_string().contains("appears twice"), "{err}");
}

#[test]
fn truncated_random_and_foreign_files_are_refused_clearly() {
    let (_, b) = written();
    for cut in [b.bytes.len() / 2, b.bytes.len() - 1, 10] {
        let err = refused(&b.bytes[..cut]);
        assert!(matches!(err, BundleError::NotAZip(_)), "{err}");
        assert!(
            err.to_string().starts_with("the file is not a ZIP archive"),
            "{err}"
        );
    }
    assert!(
        refused(&b.bytes[..b.bytes.len() / 2])
            .to_string()
            .contains("cut short")
    );

    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    assert!(matches!(refused(&random), BundleError::NotAZip(_)));
    assert!(matches!(refused(b""), BundleError::NotAZip(_)));

    // Another tool's ZIP: a deflated entry. Patch the method in the local and central headers.
    let mut z = rezip(&[("readme.txt".into(), b"hello".to_vec())]);
    z[8] = 8;
    let cd = z.len() - 22 - (46 + "readme.txt".len());
    z[cd + 10] = 8;
    let err = refused(&z);
    assert_eq!(
        err.to_string(),
        "not a Doorstep bundle: readme.txt: the entry is compressed (deflate), and Doorstep bundles store files uncompressed (was it made by another program?)"
    );

    // Bytes appended after the archive (or a prefix) are refused too.
    let mut z = b.bytes.clone();
    z.extend_from_slice(b"junk");
    assert!(matches!(refused(&z), BundleError::NotAZip(_)));
    assert!(
        refused(&z)
            .to_string()
            .contains("the archive ends 4 byte(s) before the file does: bytes were added after it"),
        "{}",
        refused(&z)
    );
    let mut z = b"junk".to_vec();
    z.extend_from_slice(&b.bytes);
    assert!(
        matches!(refused(&z), BundleError::Damaged { .. }),
        "{}",
        refused(&z)
    );
}

#[test]
fn unsafe_names_are_refused() {
    // The writer refuses them, so patch a safe name of the same length into an unsafe one.
    let mut z = rezip(&[("aa/x.txt".into(), b"hi".to_vec())]);
    let n = z.len();
    for at in [30, n - 22 - 8] {
        z[at..at + 3].copy_from_slice(b"../");
    }
    let err = refused(&z);
    assert!(
        matches!(&err, BundleError::NotABundle { file: Some(f), .. } if f == "../x.txt"),
        "{err}"
    );
}

#[test]
fn streaming_reader_matches_and_verifies() {
    let (f, b) = written();
    let r = BundleReader::open(&b.bytes).unwrap();
    let mut n = 0;
    for line in r.submissions() {
        let line = line.unwrap();
        n += 1;
        assert_eq!(line.sha256, sha256_hex(line.text.as_bytes()));
        assert_eq!(line.submission.line_hash(), line.sha256);
        assert!(r.verify(&line.submission).is_empty());
    }
    assert_eq!(n, 2);
    assert_eq!(r.form.hash, f.hash);
    assert_eq!(r.media().len(), 1);
}

#[test]
fn an_encrypted_form_without_entropy_is_refused_rather_than_written_in_plaintext() {
    let key = doorstep_core::bundle::age::Identity::from_bytes([9; 32]).recipient();
    let src = FORM.replacen(
        r#""languages": ["en"],"#,
        &format!(r#""languages": ["en"], "settings": {{"encrypt_to": ["{key}"]}},"#),
        1,
    );
    let f = Rc::new(form::load(&src).form.expect("the form loads"));
    let err = write_bundle(&f, &submissions(&f), &info()).unwrap_err();
    assert!(matches!(err, BundleError::Encrypt { .. }), "{err:?}");
    assert!(err.to_string().contains("entropy"), "{err}");
}

#[test]
fn conflicting_copies_and_other_forms_are_refused() {
    let f = form();
    let mut subs = submissions(&f);
    let mut a2 = subs
        .iter()
        .find(|s| s.meta.instance_id == A)
        .unwrap()
        .clone();
    a2.data["head"] = json!("李四");
    subs.push(a2);
    let mut b2 = subs
        .iter()
        .find(|s| s.meta.instance_id == B)
        .unwrap()
        .clone();
    b2.meta.form.version = "2026112200".into();
    b2.meta.instance_id = D.replace('d', "f");
    subs.push(b2);
    let b = write_bundle(&f, &subs, &info()).unwrap();
    assert_eq!(b.included, [B]);
    let reasons = |id: &str| {
        b.refused
            .iter()
            .find(|(i, _)| i == id)
            .unwrap()
            .1
            .join(" | ")
    };
    assert!(
        reasons(A).contains("2 different submissions have this instance_id"),
        "{}",
        reasons(A)
    );
    assert!(
        reasons(&D.replace('d', "f")).contains("version `2026112200`"),
        "{}",
        reasons(&D.replace('d', "f"))
    );

    // A missing attachment refuses its submission.
    let mut i = info();
    i.attachments.clear();
    let b = write_bundle(&f, &submissions(&f), &i).unwrap();
    assert_eq!(b.included, [B]);
    assert!(b.refused.iter().any(|(id, r)| {
        id == A
            && r.iter()
                .any(|x| x.contains("p1.jpg") && x.contains("missing"))
    }));
}

#[test]
fn checker_uses_the_recorded_time_not_the_checkers_clock() {
    let f = form();
    let mut s = sub(
        &f,
        E,
        Status::Finalized,
        json!({"head": "Sun", "visit": "2026-11-23"}),
    );
    assert!(!Checker::new(f.clone()).check(&s).is_empty());
    s.meta.finalized_at = Some("2026-11-23T08:00:00+08:00".into());
    assert_eq!(Checker::new(f.clone()).check(&s), Vec::<String>::new());
    assert_eq!(s.check_against(&f), Vec::<String>::new());
}

/// Many submissions in one bundle: written, opened (every hash), parsed and verified, all of them.
/// (Speed is measured by `cargo xtask bench-ingest`, not here.)
#[test]
fn a_bundle_of_thousands_round_trips() {
    let f = form();
    let n = 3_000;
    let subs: Vec<Submission> = (0..n)
        .map(|i| {
            let id = format!("uuid:{i:08x}-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
            sub(
                &f,
                &id,
                Status::Finalized,
                json!({"head": format!("户主 {i}"), "causes": ["illness", "other"], "other_cause": "flood",
                       "visit": "2026-11-20", "loc": {"lat": 30.5, "lon": 114.25},
                       "members": [{"m_name": "Li", "m_age": 40, "children": [{"c_name": "Xiao"}]}, {"m_name": "Wu", "m_age": 12}]}),
            )
        })
        .collect();
    let mut i = info();
    i.attachments.clear();
    let b = write_bundle(&f, &subs, &i).unwrap();
    assert_eq!(b.included.len(), n);
    let r = BundleReader::open(&b.bytes).unwrap();
    let lines: Vec<_> = r.submissions().collect::<Result<_, _>>().unwrap();
    assert_eq!(lines.len(), n);
    for (l, s) in lines.iter().zip(&subs) {
        assert_eq!(l.submission.meta.instance_id, s.meta.instance_id);
        assert_eq!(l.submission.data, s.data);
        assert!(r.verify(&l.submission).is_empty());
    }
}

#[test]
fn check_line_submission_agrees_with_check_line() {
    use doorstep_core::bundle::{SubmissionEntry, check_line, check_line_submission};
    let form = FormRef {
        id: "f".into(),
        version: "1".into(),
        hash: format!("sha256:{}", "0".repeat(64)),
    };
    let id = "uuid:00000000-0000-4000-8000-000000000000";
    let good = format!(
        r#"{{"data":{{"name":"王芳"}},"meta":{{"device_id":"d","finalized_at":"2026-11-22T09:00:00+08:00","form":{{"hash":"{}","id":"f","version":"1"}},"instance_id":"{id}","started_at":"2026-11-22T09:00:00+08:00","status":"finalized","surveyor":"s","updated_at":"2026-11-22T09:00:00+08:00"}}}}"#,
        form.hash
    );
    let mut not_utf8 = good.clone().into_bytes();
    let at = good.find("王").unwrap();
    not_utf8[at + 1] = 0xff;
    let lines: Vec<Vec<u8>> = vec![
        good.clone().into_bytes(),
        not_utf8,
        b"{not json".to_vec(),
        good.replace("\"version\":\"1\"", "\"version\":\"2\"")
            .into_bytes(),
        good.replace("finalized\"", "draft\"").into_bytes(),
        good.replace("\"data\"", "\"extra\":1,\"data\"")
            .into_bytes(),
    ];
    for raw in &lines {
        for hash in [sha256_hex(raw), "0".repeat(64)] {
            let entry = SubmissionEntry {
                instance_id: id.into(),
                status: Status::Finalized,
                sha256: hash,
            };
            let want = check_line(raw, &entry, &form).map(|(_, s)| s);
            let got = check_line_submission(raw, &entry, &form);
            assert_eq!(got, want, "{}", String::from_utf8_lossy(raw));
        }
    }
    let entry = SubmissionEntry {
        instance_id: id.into(),
        status: Status::Finalized,
        sha256: sha256_hex(good.as_bytes()),
    };
    assert!(check_line_submission(good.as_bytes(), &entry, &form).is_ok());
}

/// The writer's output is fixed: the same inputs give these very bytes, today and in every later
/// version. The app relies on it to save an exported bundle again from what it stores (its history
/// checks the SHA-256 it recorded), so a change to the writer's output (ZIP layout, manifest, CSV)
/// makes every bundle exported before it impossible to save again. If this test fails, that change
/// must be deliberate: update the hashes and say so in docs/bundle-format.md.
#[test]
fn the_writer_gives_the_same_bytes_for_the_same_inputs() {
    let f = form();
    let plain = write_bundle(&f, &submissions(&f), &info()).unwrap();
    assert_eq!(
        sha256_hex(&plain.bytes),
        "3c5682d371ad1a69b948d79f167ae6eecbdd21726ed33567a0e09936db2e0d23",
        "the plain bundle's bytes changed"
    );
    let again = write_bundle(&f, &submissions(&f), &info()).unwrap();
    assert_eq!(again.bytes, plain.bytes);

    // Encrypted: the same entropy gives the same file.
    let key = doorstep_core::bundle::age::Identity::from_bytes([9; 32]).recipient();
    let src = FORM.replacen(
        r#""languages": ["en"],"#,
        &format!(r#""languages": ["en"], "settings": {{"encrypt_to": ["{key}"]}},"#),
        1,
    );
    let f = Rc::new(form::load(&src).form.expect("the form loads"));
    let mut i = info();
    i.entropy = (0..64).collect();
    let sealed = write_bundle(&f, &submissions(&f), &i).unwrap();
    assert_eq!(
        sha256_hex(&sealed.bytes),
        "14018066578a04d41235ab1821ad21ea11d438406def9fde177285c5726f28e2",
        "the encrypted bundle's bytes changed"
    );
}

#[test]
fn the_manifest_names_each_attachment_by_the_hash_of_its_bytes() {
    // The writer hashes an attachment once, to check it against the answer, and the manifest names
    // that hash: in lower case, whatever case the answer recorded it in, and the bundle reads back.
    let f = form();
    let mut a = submissions(&f).pop().expect("A is last");
    assert_eq!(a.meta.instance_id, A);
    a.data["photo"]["sha256"] = json!(sha256_hex(PHOTO).to_uppercase());
    let b = write_bundle(&f, &[a], &info()).expect("the bundle is written");
    assert_eq!(b.included, vec![A.to_string()]);
    let r = read_bundle(&b.bytes).expect("the bundle reads back, every hash checked");
    let photo: Vec<_> = r
        .manifest
        .files
        .iter()
        .filter(|e| e.path.starts_with("media/"))
        .collect();
    assert_eq!(photo.len(), 1);
    assert_eq!(photo[0].sha256, sha256_hex(PHOTO));
    assert_eq!(photo[0].size, PHOTO.len() as u64);
    // A photo whose bytes differ from the answer's hash is still refused.
    let mut other = info();
    // (Its size is the recorded one: only the hash tells.)
    other.attachments[0].bytes[4] ^= 1;
    let mut a = submissions(&f).pop().expect("A is last");
    a.data["photo"] = photo_ref();
    let refused = write_bundle(&f, &[a], &other).expect("written, with A refused");
    assert!(refused.included.is_empty());
    assert!(
        refused.refused[0].1[0].contains("differs from the one recorded"),
        "{:?}",
        refused.refused
    );
}
