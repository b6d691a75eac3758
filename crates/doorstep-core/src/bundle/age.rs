//! The age v1 file format (age-encryption.org/v1) with X25519 recipients, so that a form's
//! `settings.encrypt_to` bundles can be opened only by the office holding the matching secret key,
//! with the standard `age` tool as well as with `doorstep ingest`.
//!
//! Only what bundles need is implemented: X25519 recipients (`age1…`) and identities
//! (`AGE-SECRET-KEY-1…`), binary (not armored) files. Other stanza types in a file are skipped, so a
//! file also encrypted to, say, an SSH key still opens with an X25519 identity.
//!
//! The engine has no randomness: [`encrypt`] takes a seed from the host (at least [`MIN_SEED`]
//! bytes, fresh for every file) and derives the file key, the payload nonce and each recipient's
//! ephemeral secret from it with HKDF-SHA256, each under its own label. A seed must never be reused:
//! the same seed and recipients give the same file key.
//!
//! Format (see the age specification):
//! ```text
//! age-encryption.org/v1
//! -> X25519 <base64 ephemeral share>
//! <base64 of the 16-byte file key sealed with ChaCha20-Poly1305>
//! --- <base64 HMAC-SHA256 of the header up to and including `---`>
//! <16-byte nonce><STREAM of 64 KiB ChaCha20-Poly1305 chunks>
//! ```
//! Base64 is the standard alphabet without padding, and canonical (no stray bits) when read.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce, Tag};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

/// The first line of every age v1 file.
pub const INTRO: &str = "age-encryption.org/v1\n";
/// The fewest seed bytes [`encrypt`] accepts.
pub const MIN_SEED: usize = 32;
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const X25519_LABEL: &[u8] = b"age-encryption.org/v1/X25519";
const RECIPIENT_HRP: &str = "age";
const IDENTITY_HRP: &str = "age-secret-key-";

/// Why a file cannot be encrypted or decrypted. Messages are lower case; the caller adds where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgeError {
    /// A recipient or identity string is not a valid key.
    BadKey(String),
    /// The host gave fewer than [`MIN_SEED`] bytes of entropy.
    Seed(usize),
    /// No X25519 stanza of the file opens with any of the identities.
    NoMatchingKey,
    /// The file is not age, or its header, MAC or payload is damaged or changed.
    Damaged(String),
}

impl std::fmt::Display for AgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgeError::BadKey(p) => f.write_str(p),
            AgeError::Seed(n) => write!(
                f,
                "{n} bytes of entropy were given but encryption needs at least {MIN_SEED}: the app must pass fresh random bytes"
            ),
            AgeError::NoMatchingKey => f.write_str("none of the given keys can open this file"),
            AgeError::Damaged(p) => write!(f, "the encrypted file is damaged or was changed: {p}"),
        }
    }
}

impl std::error::Error for AgeError {}

/// An X25519 recipient (`age1…`): a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipient(pub [u8; 32]);

/// An X25519 identity (`AGE-SECRET-KEY-1…`): a secret key.
#[derive(Clone)]
pub struct Identity(StaticSecret);

impl std::fmt::Debug for Identity {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({})", self.recipient())
    }
}

impl Recipient {
    /// Parses `age1…` (lower case, as age writes it; upper case is accepted too).
    pub fn parse(s: &str) -> Result<Recipient, AgeError> {
        let bad = |why: &str| {
            AgeError::BadKey(format!(
                "`{}` is not an age public key ({why}): copy the office's key (age1…) again",
                shorten(s)
            ))
        };
        let (hrp, data) = bech32_decode(s).map_err(|e| bad(&e))?;
        if hrp != RECIPIENT_HRP {
            return Err(bad("it does not start with age1"));
        }
        let key: [u8; 32] = data.try_into().map_err(|_| bad("wrong length"))?;
        Ok(Recipient(key))
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&bech32_encode(RECIPIENT_HRP, &self.0))
    }
}

impl Identity {
    /// The identity of a 32-byte secret (e.g. fresh random bytes from the OS, for `keygen`).
    pub fn from_bytes(secret: [u8; 32]) -> Identity {
        Identity(StaticSecret::from(secret))
    }

    /// Parses `AGE-SECRET-KEY-1…` (upper case, as age writes it; lower case is accepted too).
    pub fn parse(s: &str) -> Result<Identity, AgeError> {
        let bad = |why: &str| {
            AgeError::BadKey(format!(
                "the line is not an age secret key ({why}): keys look like AGE-SECRET-KEY-1…"
            ))
        };
        let (hrp, data) = bech32_decode(s).map_err(|e| bad(&e))?;
        if hrp != IDENTITY_HRP {
            return Err(bad("it does not start with AGE-SECRET-KEY-1"));
        }
        let key: [u8; 32] = data.try_into().map_err(|_| bad("wrong length"))?;
        Ok(Identity::from_bytes(key))
    }

    /// The public key to put in a form's `settings.encrypt_to`.
    pub fn recipient(&self) -> Recipient {
        Recipient(PublicKey::from(&self.0).to_bytes())
    }

    /// `AGE-SECRET-KEY-1…`, as age writes it.
    pub fn to_secret_string(&self) -> String {
        bech32_encode(IDENTITY_HRP, &self.0.to_bytes()).to_ascii_uppercase()
    }

    /// The file key of an X25519 stanza, or `None` when the stanza is for another key.
    fn unwrap(&self, share: &[u8; 32], body: &[u8]) -> Option<[u8; 16]> {
        let shared = self.0.diffie_hellman(&PublicKey::from(*share));
        if shared.as_bytes().iter().all(|&b| b == 0) {
            return None;
        }
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(share);
        salt[32..].copy_from_slice(self.recipient().0.as_slice());
        let key = hkdf32(&salt, shared.as_bytes(), X25519_LABEL);
        let (sealed, tag) = body.split_at(16);
        let mut file_key: [u8; 16] = sealed.try_into().ok()?;
        ChaCha20Poly1305::new(Key::from_slice(&key))
            .decrypt_in_place_detached(
                Nonce::from_slice(&[0; 12]),
                b"",
                &mut file_key,
                Tag::from_slice(tag),
            )
            .ok()?;
        Some(file_key)
    }
}

/// Whether `bytes` start like an age v1 file (binary, not armored).
pub fn is_age(bytes: &[u8]) -> bool {
    bytes.starts_with(INTRO.as_bytes())
}

/// Encrypts `plaintext` to every recipient. `seed`: at least [`MIN_SEED`] fresh random bytes from
/// the host, never reused (see the module documentation).
pub fn encrypt(
    plaintext: &[u8],
    recipients: &[Recipient],
    seed: &[u8],
) -> Result<Vec<u8>, AgeError> {
    if seed.len() < MIN_SEED {
        return Err(AgeError::Seed(seed.len()));
    }
    if recipients.is_empty() {
        return Err(AgeError::BadKey(
            "there is no recipient to encrypt to".into(),
        ));
    }
    // One extraction, then one labelled expansion per value: independent keys from one seed.
    let prk = Hkdf::<Sha256>::new(Some(b"doorstep/age-seed/v1"), seed);
    let derive = |label: &[u8], out: &mut [u8]| {
        prk.expand(label, out)
            .expect("at most 32 bytes are expanded at a time");
    };
    let mut file_key = [0u8; 16];
    derive(b"file key", &mut file_key);
    let mut nonce = [0u8; 16];
    derive(b"payload nonce", &mut nonce);

    let mut header = String::from(INTRO);
    for (i, r) in recipients.iter().enumerate() {
        let mut e = [0u8; 32];
        derive(format!("ephemeral {i}").as_bytes(), &mut e);
        let e = StaticSecret::from(e);
        let share = PublicKey::from(&e).to_bytes();
        let shared = e.diffie_hellman(&PublicKey::from(r.0));
        if shared.as_bytes().iter().all(|&b| b == 0) {
            return Err(AgeError::BadKey(format!(
                "`{}` is not a usable public key (a low-order point): copy the office's key again",
                shorten(&r.to_string())
            )));
        }
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(&share);
        salt[32..].copy_from_slice(&r.0);
        let key = hkdf32(&salt, shared.as_bytes(), X25519_LABEL);
        let mut body = file_key.to_vec();
        let tag = ChaCha20Poly1305::new(Key::from_slice(&key))
            .encrypt_in_place_detached(Nonce::from_slice(&[0; 12]), b"", &mut body)
            .expect("a 16-byte key always seals");
        body.extend_from_slice(&tag);
        header.push_str("-> X25519 ");
        header.push_str(&b64_encode(&share));
        header.push('\n');
        // 32 bytes are 43 characters: one body line shorter than 64, as the format wants.
        header.push_str(&b64_encode(&body));
        header.push('\n');
    }
    header.push_str("---");
    let mac = header_mac(&file_key, header.as_bytes());
    header.push(' ');
    header.push_str(&b64_encode(&mac));
    header.push('\n');

    let chunks = plaintext.len().div_ceil(CHUNK).max(1);
    let mut out = Vec::with_capacity(header.len() + 16 + plaintext.len() + chunks * TAG);
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&nonce);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&hkdf32(&nonce, &file_key, b"payload")));
    for i in 0..chunks {
        let start = i * CHUNK;
        let chunk = &plaintext[start..(start + CHUNK).min(plaintext.len())];
        let at = out.len();
        out.extend_from_slice(chunk);
        let tag = cipher
            .encrypt_in_place_detached(&chunk_nonce(i as u64, i + 1 == chunks), b"", &mut out[at..])
            .expect("a chunk of 64 KiB always seals");
        out.extend_from_slice(&tag);
    }
    Ok(out)
}

/// Decrypts an age file with the first identity that opens one of its X25519 stanzas, checking the
/// header MAC and every chunk.
pub fn decrypt(bytes: &[u8], identities: &[Identity]) -> Result<Vec<u8>, AgeError> {
    let damaged = |p: &str| AgeError::Damaged(p.to_string());
    if !is_age(bytes) {
        return Err(damaged("it does not start with the age header"));
    }
    // Header: lines up to `--- <mac>`.
    let mut pos = INTRO.len();
    let next_line = |pos: &mut usize| next_line(bytes, pos);
    let mut file_key = None;
    let mut x25519_stanzas = 0;
    let mac_end;
    let mac_text;
    loop {
        let line_start = pos;
        let line = next_line(&mut pos)?;
        if let Some(mac) = line.strip_prefix(b"--- ") {
            mac_end = line_start + 3;
            mac_text = mac;
            break;
        }
        let Some(args) = line.strip_prefix(b"-> ") else {
            return Err(damaged("a header line is neither a stanza nor the MAC"));
        };
        let args: Vec<&[u8]> = args.split(|&b| b == b' ').collect();
        if args
            .iter()
            .any(|a| a.is_empty() || a.iter().any(|&b| !(33..=126).contains(&b)))
        {
            return Err(damaged("a stanza has an empty or invalid argument"));
        }
        let mut body = Vec::new();
        loop {
            let l = next_line(&mut pos)?;
            if l.len() > 64 {
                return Err(damaged("a stanza body line is longer than 64 characters"));
            }
            body.extend(b64_decode(l).ok_or_else(|| damaged("a stanza body is not base64"))?);
            if l.len() < 64 {
                break;
            }
        }
        if args[0] != b"X25519" {
            continue;
        }
        x25519_stanzas += 1;
        if args.len() != 2 || body.len() != 32 {
            return Err(damaged("an X25519 stanza has the wrong shape"));
        }
        let share: [u8; 32] = b64_decode(args[1])
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| damaged("an X25519 share is not 32 bytes of base64"))?;
        if file_key.is_none() {
            file_key = identities.iter().find_map(|id| id.unwrap(&share, &body));
        }
    }
    let Some(file_key) = file_key else {
        return Err(if x25519_stanzas == 0 {
            AgeError::BadKey(
                "the file is not encrypted to an X25519 key (age1…), the only kind Doorstep opens"
                    .into(),
            )
        } else {
            AgeError::NoMatchingKey
        });
    };
    let mac: [u8; 32] = b64_decode(mac_text)
        .and_then(|m| m.try_into().ok())
        .ok_or_else(|| damaged("the header MAC is not 32 bytes of base64"))?;
    let mut hmac = <Hmac<Sha256> as Mac>::new_from_slice(&hkdf32(&[], &file_key, b"header"))
        .expect("HMAC takes any key length");
    hmac.update(&bytes[..mac_end]);
    hmac.verify_slice(&mac)
        .map_err(|_| damaged("the header MAC does not match"))?;

    let rest = &bytes[pos..];
    if rest.len() < 16 {
        return Err(damaged("the payload nonce is missing"));
    }
    let (nonce, mut rest) = rest.split_at(16);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&hkdf32(nonce, &file_key, b"payload")));
    let mut out = Vec::with_capacity(rest.len());
    let mut i = 0u64;
    loop {
        // A chunk that leaves nothing after it is the last one (it may be full).
        let last = rest.len() <= CHUNK + TAG;
        let take = rest.len().min(CHUNK + TAG);
        if take < TAG {
            return Err(damaged("the payload is cut short"));
        }
        let (sealed, tag) = rest[..take].split_at(take - TAG);
        if last && sealed.is_empty() && i > 0 {
            return Err(damaged("the payload ends with an empty chunk"));
        }
        let at = out.len();
        out.extend_from_slice(sealed);
        cipher
            .decrypt_in_place_detached(
                &chunk_nonce(i, last),
                b"",
                &mut out[at..],
                Tag::from_slice(tag),
            )
            .map_err(|_| damaged("a payload chunk does not authenticate"))?;
        rest = &rest[take..];
        if last {
            return Ok(out);
        }
        i += 1;
    }
}

/// The header line at `pos` (without `\n`), moving `pos` past it.
fn next_line<'a>(bytes: &'a [u8], pos: &mut usize) -> Result<&'a [u8], AgeError> {
    let rest = &bytes[*pos..];
    let end = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| AgeError::Damaged("the header is cut short".into()))?;
    *pos += end + 1;
    Ok(&rest[..end])
}

fn chunk_nonce(counter: u64, last: bool) -> Nonce {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    *Nonce::from_slice(&n)
}

fn hkdf32(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, &mut out)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    out
}

fn header_mac(file_key: &[u8; 16], header: &[u8]) -> [u8; 32] {
    let mut hmac = <Hmac<Sha256> as Mac>::new_from_slice(&hkdf32(&[], file_key, b"header"))
        .expect("HMAC takes any key length");
    hmac.update(header);
    hmac.finalize().into_bytes().into()
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 24 {
        format!("{}…", s.chars().take(20).collect::<String>())
    } else {
        s.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Base64 (standard alphabet, no padding) and bech32 (BIP 173), small enough to write here.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn b64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..=c.len() {
            out.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
        }
    }
    out
}

/// Strict: no padding, no whitespace, and the unused low bits of the last character must be zero
/// (the age format requires canonical base64, so a changed file cannot decode to the same bytes).
pub(crate) fn b64_decode(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (acc == 0).then_some(out)
}

const BECH32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: impl Iterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk = 1u32;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn hrp_expand(hrp: &str) -> impl Iterator<Item = u8> + '_ {
    hrp.bytes()
        .map(|b| b >> 5)
        .chain(std::iter::once(0))
        .chain(hrp.bytes().map(|b| b & 31))
}

fn bech32_encode(hrp: &str, data: &[u8]) -> String {
    let mut five = Vec::with_capacity(data.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            five.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        five.push(((acc << (5 - bits)) & 31) as u8);
    }
    let pm = bech32_polymod(hrp_expand(hrp).chain(five.iter().copied()).chain([0; 6])) ^ 1;
    let mut out = format!("{hrp}1");
    for v in five
        .iter()
        .copied()
        .chain((0..6).map(|i| ((pm >> (5 * (5 - i))) & 31) as u8))
    {
        out.push(BECH32[v as usize] as char);
    }
    out
}

/// The human-readable part (lower case) and the 8-bit data of a bech32 string. Age keys exceed
/// BIP 173's 90 characters for identities, so no length limit is applied beyond sanity.
fn bech32_decode(s: &str) -> Result<(String, Vec<u8>), String> {
    let s = s.trim();
    if s.len() > 256 {
        return Err("too long".into());
    }
    if s.bytes().any(|b| b.is_ascii_lowercase()) && s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err("mixed upper and lower case".into());
    }
    let lower = s.to_ascii_lowercase();
    let sep = lower.rfind('1').ok_or("no `1` separator")?;
    let (hrp, rest) = (&lower[..sep], &lower[sep + 1..]);
    if hrp.is_empty() || rest.len() < 6 || hrp.bytes().any(|b| !(33..=126).contains(&b)) {
        return Err("malformed".into());
    }
    let five: Vec<u8> = rest
        .bytes()
        .map(|c| BECH32.iter().position(|&b| b == c).map(|p| p as u8))
        .collect::<Option<_>>()
        .ok_or("a character outside the bech32 alphabet")?;
    if bech32_polymod(hrp_expand(hrp).chain(five.iter().copied())) != 1 {
        return Err("the checksum does not match: a character is wrong or missing".into());
    }
    let five = &five[..five.len() - 6];
    let mut data = Vec::with_capacity(five.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &v in five {
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            data.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 5 || acc != 0 {
        return Err("bad padding".into());
    }
    Ok((hrp.to_string(), data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_is_strict() {
        for n in 0..10 {
            let data: Vec<u8> = (0..n).map(|i: u8| i.wrapping_mul(37)).collect();
            assert_eq!(b64_decode(b64_encode(&data).as_bytes()), Some(data));
        }
        assert_eq!(b64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(b64_encode(b"fo"), "Zm8");
        assert_eq!(b64_decode(b"Zm9"), None, "stray low bits");
        assert_eq!(b64_decode(b"Zm8="), None, "padding");
    }

    #[test]
    fn bech32_round_trips() {
        let id = Identity::from_bytes([7; 32]);
        let r = id.recipient();
        assert_eq!(Recipient::parse(&r.to_string()), Ok(r));
        let again = Identity::parse(&id.to_secret_string()).unwrap();
        assert_eq!(again.recipient(), r);
        assert!(r.to_string().starts_with("age1"));
        assert_eq!(r.to_string().len(), 62);
        assert!(id.to_secret_string().starts_with("AGE-SECRET-KEY-1"));
    }
}
