//! The age encryption of bundles (bundle/age.rs): round trips, refusals of wrong keys and changed
//! bytes, chunk boundaries, and compatibility both ways with the reference `age` crate, because an
//! office must be able to open a `.zip.age` bundle with the standard `age` tool too.

use std::rc::Rc;
use std::str::FromStr;

use ::age::secrecy::ExposeSecret;

use doorstep_core::bundle::age::{self, AgeError, Identity, Recipient};
use doorstep_core::bundle::{self, BundleError, BundleInfo, BundleReader, write_bundle};
use doorstep_core::form;

fn id(n: u8) -> Identity {
    Identity::from_bytes([n; 32])
}

fn seed(n: u8) -> Vec<u8> {
    (0..64).map(|i| i ^ n).collect()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

const SIZES: [usize; 6] = [0, 1, 65535, 65536, 65537, 3 * 65536 + 5];

#[test]
fn round_trips_with_one_and_two_recipients() {
    for len in SIZES {
        let plain = data(len);
        let one = age::encrypt(&plain, &[id(1).recipient()], &seed(1)).unwrap();
        assert!(age::is_age(&one));
        assert_eq!(age::decrypt(&one, &[id(1)]).unwrap(), plain, "{len} bytes");
        let two = age::encrypt(&plain, &[id(1).recipient(), id(2).recipient()], &seed(2)).unwrap();
        assert_eq!(age::decrypt(&two, &[id(2)]).unwrap(), plain);
        assert_eq!(age::decrypt(&two, &[id(3), id(1)]).unwrap(), plain);
    }
}

#[test]
fn payload_size_is_the_formats() {
    // 16-byte nonce, then one 16-byte tag per 64 KiB chunk; an empty payload is one empty chunk, and
    // exactly 64 KiB is one full last chunk (no empty chunk after it).
    for (len, chunks) in [(0, 1), (65536, 1), (65537, 2)] {
        let c = age::encrypt(&data(len), &[id(1).recipient()], &seed(1)).unwrap();
        let header = c.windows(4).position(|w| w == b"--- ").unwrap();
        let header_end = header + c[header..].iter().position(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(c.len() - header_end, 16 + len + 16 * chunks, "{len} bytes");
    }
}

#[test]
fn a_wrong_identity_is_refused() {
    let c = age::encrypt(b"secret", &[id(1).recipient()], &seed(1)).unwrap();
    assert_eq!(age::decrypt(&c, &[id(2)]), Err(AgeError::NoMatchingKey));
    assert_eq!(age::decrypt(&c, &[]), Err(AgeError::NoMatchingKey));
}

#[test]
fn every_flipped_byte_is_refused() {
    let plain = data(65536 + 100);
    let c = age::encrypt(&plain, &[id(1).recipient()], &seed(1)).unwrap();
    let header_len = c.windows(4).position(|w| w == b"--- ").unwrap() + 48;
    // Every header byte, and a sample of payload bytes (nonce, both chunks, both tags).
    let payload = [
        header_len,
        header_len + 15,
        header_len + 16,
        header_len + 16 + 65552 + 50,
        c.len() - 1,
    ];
    for i in (0..header_len).chain(payload) {
        let mut bad = c.clone();
        bad[i] ^= 0x01;
        let r = age::decrypt(&bad, &[id(1)]);
        assert!(
            matches!(
                r,
                Err(AgeError::Damaged(_) | AgeError::NoMatchingKey | AgeError::BadKey(_))
            ),
            "byte {i}: {r:?}"
        );
    }
    // Cut short, or with bytes added.
    for bad in [&c[..c.len() - 1], &c[..c.len() - 65536]] {
        assert!(matches!(
            age::decrypt(bad, &[id(1)]),
            Err(AgeError::Damaged(_))
        ));
    }
    let mut longer = c.clone();
    longer.push(0);
    assert!(matches!(
        age::decrypt(&longer, &[id(1)]),
        Err(AgeError::Damaged(_))
    ));
}

#[test]
fn too_little_entropy_and_bad_keys_are_errors() {
    assert_eq!(
        age::encrypt(b"x", &[id(1).recipient()], &[0; 31]),
        Err(AgeError::Seed(31))
    );
    assert!(Recipient::parse("age1xyz").is_err());
    let mut s = id(1).recipient().to_string();
    s.replace_range(10..11, if &s[10..11] == "q" { "p" } else { "q" });
    assert!(
        Recipient::parse(&s).is_err(),
        "a one-character typo fails the checksum"
    );
    assert!(
        Identity::parse(&id(1).recipient().to_string()).is_err(),
        "a public key is not a secret key"
    );
}

// -------------------------------------------------------------------------------------------------
// Compatibility with the reference implementation.

#[test]
fn the_reference_age_opens_our_files() {
    let theirs = ::age::x25519::Identity::generate();
    let recipient = Recipient::parse(&theirs.to_public().to_string()).unwrap();
    for len in SIZES {
        let plain = data(len);
        let c = age::encrypt(&plain, &[id(5).recipient(), recipient], &seed(3)).unwrap();
        assert_eq!(::age::decrypt(&theirs, &c).unwrap(), plain, "{len} bytes");
    }
}

#[test]
fn we_open_the_reference_ages_files_and_keys() {
    let theirs = ::age::x25519::Identity::generate();
    let ours = Identity::parse(theirs.to_string().expose_secret()).unwrap();
    assert_eq!(ours.recipient().to_string(), theirs.to_public().to_string());
    assert_eq!(ours.to_secret_string(), *theirs.to_string().expose_secret());
    for len in SIZES {
        let plain = data(len);
        let c = ::age::encrypt(&theirs.to_public(), &plain).unwrap();
        assert_eq!(
            age::decrypt(&c, std::slice::from_ref(&ours)).unwrap(),
            plain,
            "{len} bytes"
        );
    }
    let r = ::age::x25519::Recipient::from_str(&id(1).recipient().to_string()).unwrap();
    let c = ::age::encrypt(&r, b"hello").unwrap();
    assert_eq!(age::decrypt(&c, &[id(1)]).unwrap(), b"hello");
}

// -------------------------------------------------------------------------------------------------
// Bundles.

const FORM: &str = r#"{"format": "doorstep-form/1", "id": "enc", "version": "1", "title": "Encrypted",
  "languages": ["en"], "settings": {"encrypt_to": ["KEY"]},
  "items": [{"type": "text", "name": "q1", "label": "Question one"}]}"#;

#[test]
fn an_encrypted_bundle_is_written_and_read_back() {
    let key = id(4).recipient().to_string();
    let f = Rc::new(
        form::load(&FORM.replace("KEY", &key))
            .form
            .expect("the form loads"),
    );
    let info = BundleInfo {
        device_id: "dev-1".into(),
        created_at: "2026-11-22T18:05:09+08:00".into(),
        entropy: seed(9),
        ..BundleInfo::default()
    };
    let b = write_bundle(&f, &[], &info).unwrap();
    assert!(b.file_name.ends_with(".zip.age"), "{}", b.file_name);
    assert!(bundle::is_encrypted(&b.bytes));
    assert_eq!(b.sha256, doorstep_core::submission::sha256_hex(&b.bytes));
    assert_eq!(
        BundleReader::open(&b.bytes).unwrap_err(),
        BundleError::Encrypted
    );

    let secret = id(4).to_secret_string();
    let zip = bundle::decrypt(&b.bytes, &[&secret]).unwrap();
    let r = BundleReader::open(&zip).unwrap();
    assert_eq!(r.form.id, "enc");

    let e = bundle::decrypt(&b.bytes, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "this bundle is encrypted: give the office's key with --identity"
    );
    let other = id(5).to_secret_string();
    let e = bundle::decrypt(&b.bytes, &[&other]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("none of the given keys can open this bundle"),
        "{e}"
    );
    let mut bad = b.bytes.clone();
    *bad.last_mut().unwrap() ^= 1;
    let e = bundle::decrypt(&bad, &[&secret]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("the encrypted bundle is damaged or was changed"),
        "{e}"
    );
    assert!(matches!(
        bundle::decrypt(&b.bytes, &["AGE-SECRET-KEY-1XYZ"]),
        Err(BundleError::Identity(_))
    ));
}

#[test]
fn a_bad_key_in_a_form_is_a_load_error() {
    let loaded = form::load(&FORM.replace("KEY", "age1xyz"));
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "form/bad-key")
        .expect("form/bad-key");
    assert_eq!(d.path, "settings.encrypt_to[0]");
    assert!(loaded.form.is_none());
}
