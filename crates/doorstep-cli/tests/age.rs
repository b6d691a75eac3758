//! Encrypted bundles end to end through the real binary: `keygen` makes the office's key, synth
//! writes `.zip.age` bundles of a form with `settings.encrypt_to`, and ingest opens them only with
//! `--identity`, refusing them (exit code 2, naming the file) without.

use std::path::{Path, PathBuf};
use std::process::Command;

fn doorstep(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("doorstep-age-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn keygen_synth_and_ingest_an_encrypted_bundle() {
    let dir = temp("ingest");
    let key = dir.join("office.key");
    let (code, public, err) = doorstep(&["keygen", "-o", s(&key)]);
    assert_eq!(code, 0, "{err}");
    let public = public.trim();
    assert!(public.starts_with("age1"), "{public}");
    let secret = std::fs::read_to_string(&key).unwrap();
    assert!(secret.contains("\nAGE-SECRET-KEY-1"), "{secret}");
    let (code, _, err) = doorstep(&["keygen", "-o", s(&key)]);
    assert_eq!(code, 2, "an existing key is never overwritten");
    assert!(err.contains("office.key"), "{err}");

    let form = dir.join("enc.form.json");
    std::fs::write(
        &form,
        format!(
            r#"{{"format": "doorstep-form/1", "id": "enc", "version": "1", "title": "Encrypted",
  "languages": ["en"], "settings": {{"encrypt_to": ["{public}"]}},
  "items": [{{"type": "text", "name": "q1", "label": "Question one"}}]}}"#
        ),
    )
    .unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let (code, _, err) = doorstep(&["synth", "--form", s(&form), "--count", "5", "-o", s(&out)]);
    assert_eq!(code, 0, "{err}");
    let files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let bundle = &files[0];
    let name = bundle.file_name().unwrap().to_str().unwrap();
    assert!(name.ends_with(".zip.age"), "{name}");
    assert!(
        std::fs::read(bundle)
            .unwrap()
            .starts_with(b"age-encryption.org/v1\n")
    );

    let db = dir.join("office.db");
    let (code, _, err) = doorstep(&["ingest", "--db", s(&db), s(bundle)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(name) && err.contains("--identity"), "{err}");

    let other = dir.join("other.key");
    assert_eq!(doorstep(&["keygen", "-o", s(&other)]).0, 0);
    let (code, out1, err) =
        doorstep(&["ingest", "--db", s(&db), "--identity", s(&other), s(bundle)]);
    assert_ne!(code, 0, "{out1}");
    assert!(
        format!("{out1}{err}").contains("none of the given keys can open this bundle"),
        "{out1}{err}"
    );

    let (code, out1, err) = doorstep(&["ingest", "--db", s(&db), "--identity", s(&key), s(bundle)]);
    assert_eq!(code, 0, "{out1}{err}");
    assert!(format!("{out1}{err}").contains("5 new"), "{out1}{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
