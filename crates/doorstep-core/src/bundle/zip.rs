//! A minimal ZIP writer and a strict ZIP reader, just enough for bundles, because the `zip` crate
//! (with its compression back ends) would cost the app more download than the whole engine.
//!
//! Bundles hold *stored* (uncompressed) entries only: the answers are small and photos are already
//! compressed, and storing keeps the reader simple and safe. The writer is deterministic: the same
//! files and time give the same bytes. The reader accepts only what the writer makes, and says
//! plainly why anything else is refused:
//! - signatures, sizes and offsets must agree between the end record, the central directory and each
//!   local header; entries must tile the archive with no gap or overlap (overlapping entries are how
//!   some zip bombs work, and unexplained bytes could hide data from a reviewer);
//! - compressed, encrypted, zip64, multi-disk and data-descriptor entries are refused as "not made by
//!   Doorstep" (a ZIP from another tool usually deflates, so it gets that message rather than garbage);
//! - names must be UTF-8 relative paths without `..`, `\`, `:`, empty parts or a trailing `/`, and
//!   unique;
//! - a stored entry is never larger than the archive itself, so no entry can expand beyond the input
//!   (the zip-bomb limit is the input size; [`MAX_ENTRIES`] bounds the directory).
//!
//! CRC-32 is checked by [`Entry::crc_ok`], separately, so that the bundle layer can first report a
//! changed file by its manifest SHA-256 (the more useful message) and then catch a damaged CRC field.

use std::collections::{HashMap, HashSet};

/// At most this many entries (the limit of a ZIP without zip64).
pub const MAX_ENTRIES: usize = 65_534;
/// At most this many bytes in an entry name.
pub const MAX_NAME_BYTES: usize = 512;

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
/// General purpose flag bit 11: the name is UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// Version 1.0: stored entries, no extensions.
const VERSION: u16 = 10;

/// Why a ZIP was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZipError {
    /// The bytes are not a ZIP archive at all, or its end is missing (cut short).
    NotZip(String),
    /// A ZIP archive, but not one Doorstep writes. `file` names the entry when one is at fault.
    Foreign {
        file: Option<String>,
        problem: String,
    },
    /// A ZIP archive Doorstep could have written, but damaged.
    Damaged {
        file: Option<String>,
        problem: String,
    },
}

impl std::fmt::Display for ZipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ZipError::NotZip(p) => write!(f, "the file is not a ZIP archive: {p}"),
            ZipError::Foreign {
                file: Some(n),
                problem,
            } => write!(f, "not a Doorstep bundle: {n}: {problem}"),
            ZipError::Foreign {
                file: None,
                problem,
            } => write!(f, "not a Doorstep bundle: {problem}"),
            ZipError::Damaged {
                file: Some(n),
                problem,
            } => write!(f, "{n}: {problem}"),
            ZipError::Damaged {
                file: None,
                problem,
            } => write!(f, "the ZIP archive is damaged: {problem}"),
        }
    }
}

impl std::error::Error for ZipError {}

fn foreign(file: &str, problem: impl Into<String>) -> ZipError {
    ZipError::Foreign {
        file: Some(file.to_string()),
        problem: problem.into(),
    }
}
fn damaged(file: Option<&str>, problem: impl Into<String>) -> ZipError {
    ZipError::Damaged {
        file: file.map(str::to_string),
        problem: problem.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, as ZIP uses), table computed at compile time.

const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// CRC-32 of `data`. Natively (the office's ingest checks the CRC of every photo of every bundle)
/// this is `crc32fast`, which uses the CPU's carry-less multiplication: about ten times faster than
/// the tables.
#[cfg(not(target_arch = "wasm32"))]
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// CRC-32 of `data`. In the app, large inputs go eight bytes at a time with tables built on first
/// use, so that the download carries only the one 1 KiB table (and no `crc32fast`).
#[cfg(target_arch = "wasm32")]
pub fn crc32(data: &[u8]) -> u32 {
    table_crc32(data)
}

/// The table-driven CRC-32 (the app's; natively, the reference the tests compare against).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn table_crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    let mut rest = data;
    if data.len() >= 4096 {
        let t = wide_tables();
        let mut chunks = data.chunks_exact(8);
        for ch in &mut chunks {
            let lo = c ^ u32::from_le_bytes([ch[0], ch[1], ch[2], ch[3]]);
            c = t[7][(lo & 0xff) as usize]
                ^ t[6][((lo >> 8) & 0xff) as usize]
                ^ t[5][((lo >> 16) & 0xff) as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][ch[4] as usize]
                ^ t[2][ch[5] as usize]
                ^ t[1][ch[6] as usize]
                ^ t[0][ch[7] as usize];
        }
        rest = chunks.remainder();
    }
    for &b in rest {
        c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// The slicing-by-8 tables: `t[k][b]` is the CRC state after byte `b` followed by `k` zero bytes.
fn wide_tables() -> &'static [[u32; 256]; 8] {
    static TABLES: std::sync::OnceLock<Box<[[u32; 256]; 8]>> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = Box::new([[0u32; 256]; 8]);
        t[0] = CRC_TABLE;
        for k in 1..8 {
            for b in 0..256 {
                let prev = t[k - 1][b];
                t[k][b] = CRC_TABLE[(prev & 0xff) as usize] ^ (prev >> 8);
            }
        }
        t
    })
}

// ---------------------------------------------------------------------------------------------
// Names.

/// Checks that `name` is a safe relative path for an entry: UTF-8 by construction, no absolute path,
/// no `..`/`.`/empty part, no `\` or `:` (Windows), no control characters, not a folder.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "the name is {} bytes long; the limit is {MAX_NAME_BYTES}",
            name.len()
        ));
    }
    if name.ends_with('/') {
        return Err("is a folder entry; bundles list files only".into());
    }
    if name.starts_with('/') {
        return Err("is an absolute path".into());
    }
    if name.contains('\\') || name.contains(':') || name.chars().any(char::is_control) {
        return Err("the name contains `\\`, `:` or a control character".into());
    }
    if name
        .split('/')
        .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err("the name has an empty, `.` or `..` part".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writer.

/// A date and time as ZIP stores it (MS-DOS format, 2-second resolution, no time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DosTime {
    pub time: u16,
    pub date: u16,
}

impl DosTime {
    /// From a civil date and time; clamped to the range MS-DOS time can hold (1980 to 2107).
    pub fn new(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DosTime {
        if year < 1980 {
            return DosTime {
                time: 0,
                date: (1 << 5) | 1,
            };
        }
        if year > 2107 {
            return DosTime {
                time: (23 << 11) | (59 << 5) | 29,
                date: (127 << 9) | (12 << 5) | 31,
            };
        }
        DosTime {
            time: ((hour << 11) | (minute << 5) | (second / 2)) as u16,
            date: (((year - 1980) as u32) << 9 | (month << 5) | day) as u16,
        }
    }
}

/// Writes a ZIP of stored entries into memory.
#[derive(Debug)]
pub struct ZipWriter {
    out: Vec<u8>,
    central: Vec<u8>,
    names: HashSet<String>,
    time: DosTime,
}

impl ZipWriter {
    /// Every entry gets `time` as its modification time, so the archive is deterministic.
    pub fn new(time: DosTime) -> ZipWriter {
        ZipWriter {
            out: Vec::new(),
            central: Vec::new(),
            names: HashSet::new(),
            time,
        }
    }

    /// Adds one file. Fails on an unsafe or duplicate name, or beyond the limits of a ZIP without
    /// zip64 (4 GiB, 65,534 entries).
    pub fn add(&mut self, name: &str, data: &[u8]) -> Result<(), String> {
        check_name(name).map_err(|e| format!("{name}: {e}"))?;
        if self.names.len() >= MAX_ENTRIES {
            return Err(format!(
                "{name}: a bundle holds at most {MAX_ENTRIES} files; export fewer submissions at once"
            ));
        }
        if !self.names.insert(name.to_string()) {
            return Err(format!("{name}: the file is added twice"));
        }
        let offset = self.out.len();
        let end = offset + 30 + name.len() + data.len();
        if data.len() >= u32::MAX as usize || end >= u32::MAX as usize {
            return Err(format!(
                "{name}: the bundle would exceed 4 GiB; export fewer submissions at once"
            ));
        }
        let crc = crc32(data);
        let size = data.len() as u32;
        let o = &mut self.out;
        put32(o, LOCAL_SIG);
        put16(o, VERSION);
        put16(o, FLAG_UTF8);
        put16(o, 0); // stored
        put16(o, self.time.time);
        put16(o, self.time.date);
        put32(o, crc);
        put32(o, size);
        put32(o, size);
        put16(o, name.len() as u16);
        put16(o, 0); // no extra field
        o.extend_from_slice(name.as_bytes());
        o.extend_from_slice(data);

        let c = &mut self.central;
        put32(c, CENTRAL_SIG);
        put16(c, VERSION); // made by: MS-DOS / FAT attributes, version 1.0
        put16(c, VERSION);
        put16(c, FLAG_UTF8);
        put16(c, 0);
        put16(c, self.time.time);
        put16(c, self.time.date);
        put32(c, crc);
        put32(c, size);
        put32(c, size);
        put16(c, name.len() as u16);
        put16(c, 0); // extra
        put16(c, 0); // comment
        put16(c, 0); // disk
        put16(c, 0); // internal attributes
        put32(c, 0); // external attributes
        put32(c, offset as u32);
        c.extend_from_slice(name.as_bytes());
        Ok(())
    }

    /// Appends the central directory and the end record, and returns the archive.
    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        let cd_offset = self.out.len();
        let cd_size = self.central.len();
        if cd_offset + cd_size >= u32::MAX as usize {
            return Err("the bundle would exceed 4 GiB; export fewer submissions at once".into());
        }
        let n = self.names.len() as u16;
        self.out.append(&mut self.central);
        let o = &mut self.out;
        put32(o, END_SIG);
        put16(o, 0);
        put16(o, 0);
        put16(o, n);
        put16(o, n);
        put32(o, cd_size as u32);
        put32(o, cd_offset as u32);
        put16(o, 0); // no comment
        Ok(self.out)
    }
}

fn put16(o: &mut Vec<u8>, v: u16) {
    o.extend_from_slice(&v.to_le_bytes());
}
fn put32(o: &mut Vec<u8>, v: u32) {
    o.extend_from_slice(&v.to_le_bytes());
}

// ---------------------------------------------------------------------------------------------
// Reader.

/// One file of an archive; `data` borrows the archive's bytes (stored entries need no copy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub name: String,
    pub data: &'a [u8],
    /// The CRC-32 the archive records.
    pub crc32: u32,
    /// Where the entry's local header starts.
    pub offset: usize,
}

impl Entry<'_> {
    /// True when the data matches the recorded CRC-32.
    pub fn crc_ok(&self) -> bool {
        crc32(self.data) == self.crc32
    }
}

/// A structurally valid archive: its entries in archive order.
#[derive(Clone, Debug)]
pub struct ZipArchive<'a> {
    pub entries: Vec<Entry<'a>>,
    /// Entry index by name (a bundle may hold tens of thousands of photos).
    by_name: HashMap<String, usize>,
}

impl<'a> ZipArchive<'a> {
    pub fn get(&self, name: &str) -> Option<&Entry<'a>> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn u16(&mut self) -> u16 {
        let v = u16::from_le_bytes([self.b[self.at], self.b[self.at + 1]]);
        self.at += 2;
        v
    }
    fn u32(&mut self) -> u32 {
        let v = u32::from_le_bytes(self.b[self.at..self.at + 4].try_into().expect("4 bytes"));
        self.at += 4;
        v
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

struct CentralEntry {
    name: String,
    flags: u16,
    method: u16,
    crc: u32,
    size: u32,
    offset: usize,
}

/// Reads and checks the structure of a ZIP (see the module documentation for what is refused).
pub fn read(b: &[u8]) -> Result<ZipArchive<'_>, ZipError> {
    if b.len() < 22 {
        return Err(ZipError::NotZip(format!(
            "it is only {} bytes long",
            b.len()
        )));
    }
    let end = find_end(b).ok_or_else(|| {
        ZipError::NotZip(if !b.starts_with(b"PK\x03\x04") {
            "it has no ZIP end record (is it the right file?)".into()
        } else if let Some(extra) = bytes_after_end(b) {
            format!(
                "the archive ends {extra} byte(s) before the file does: bytes were added after it, perhaps in transfer: copy or export it again"
            )
        } else {
            "the end of the archive is missing, so the file was cut short (truncated), perhaps in transfer: copy or export it again".into()
        })
    })?;
    let mut c = Cursor { b, at: end + 4 };
    let (disk, cd_disk, n_disk, n_total) = (c.u16(), c.u16(), c.u16(), c.u16());
    let (cd_size, cd_offset, comment_len) = (c.u32(), c.u32(), c.u16());
    if n_total == 0xFFFF
        || cd_size == u32::MAX
        || cd_offset == u32::MAX
        || (end >= 20 && u32_at(b, end - 20) == ZIP64_LOCATOR_SIG)
    {
        return Err(ZipError::Foreign {
            file: None,
            problem: "the archive uses zip64 extensions, which Doorstep bundles never do".into(),
        });
    }
    if disk != 0 || cd_disk != 0 || n_disk != n_total {
        return Err(ZipError::Foreign {
            file: None,
            problem: "the archive is split over several disks".into(),
        });
    }
    if comment_len != 0 {
        return Err(ZipError::Foreign {
            file: None,
            problem: "the archive has a comment, which Doorstep bundles never have".into(),
        });
    }
    let (cd_offset, cd_size, n_total) = (cd_offset as usize, cd_size as usize, n_total as usize);
    if cd_offset.checked_add(cd_size) != Some(end) {
        return Err(damaged(
            None,
            format!(
                "the central directory should end where the end record starts (offset {end}) but the end record says {cd_offset} + {cd_size}: the file is truncated or has bytes added"
            ),
        ));
    }
    if n_total > MAX_ENTRIES {
        return Err(damaged(
            None,
            format!("the archive lists {n_total} files; the limit is {MAX_ENTRIES}"),
        ));
    }

    // The central directory.
    let mut central = Vec::with_capacity(n_total);
    let mut c = Cursor { b, at: cd_offset };
    for i in 0..n_total {
        if c.at + 46 > end || c.u32() != CENTRAL_SIG {
            return Err(damaged(
                None,
                format!(
                    "central directory record {} of {n_total} is missing or malformed",
                    i + 1
                ),
            ));
        }
        let _made_by = c.u16();
        let needed = c.u16();
        let flags = c.u16();
        let method = c.u16();
        let _time = c.u16();
        let _date = c.u16();
        let crc = c.u32();
        let csize = c.u32();
        let usize_ = c.u32();
        let name_len = c.u16() as usize;
        let extra_len = c.u16() as usize;
        let comment_len = c.u16() as usize;
        let disk = c.u16();
        let _internal = c.u16();
        let _external = c.u32();
        let offset = c.u32() as usize;
        let rec_end = c.at + name_len + extra_len + comment_len;
        if rec_end > end {
            return Err(damaged(
                None,
                format!(
                    "central directory record {} of {n_total} runs past the directory",
                    i + 1
                ),
            ));
        }
        let raw_name = &b[c.at..c.at + name_len];
        c.at = rec_end;
        let name = match std::str::from_utf8(raw_name) {
            Ok(s) if flags & FLAG_UTF8 != 0 || s.is_ascii() => s.to_string(),
            Ok(s) => {
                return Err(foreign(
                    s,
                    "the name is not marked as UTF-8 (Doorstep always marks it)",
                ));
            }
            Err(_) => {
                return Err(ZipError::Foreign {
                    file: Some(String::from_utf8_lossy(raw_name).into_owned()),
                    problem: "the name is not UTF-8".into(),
                });
            }
        };
        check_name(&name).map_err(|e| foreign(&name, format!("{e}; refused for safety")))?;
        if flags & 1 != 0 {
            return Err(foreign(&name, "the entry is encrypted with ZIP encryption"));
        }
        if method != 0 {
            let how = match method {
                8 => "deflate".to_string(),
                9 => "deflate64".to_string(),
                12 => "bzip2".to_string(),
                14 => "lzma".to_string(),
                93 => "zstd".to_string(),
                99 => "AES encryption".to_string(),
                m => format!("method {m}"),
            };
            return Err(foreign(
                &name,
                format!(
                    "the entry is compressed ({how}), and Doorstep bundles store files uncompressed"
                ),
            ));
        }
        if flags & (1 << 3) != 0 {
            return Err(foreign(
                &name,
                "the entry uses a data descriptor, which Doorstep bundles never do",
            ));
        }
        if needed > 20 {
            return Err(foreign(
                &name,
                format!(
                    "the entry needs ZIP version {}.{}",
                    needed / 10,
                    needed % 10
                ),
            ));
        }
        if disk != 0 {
            return Err(ZipError::Foreign {
                file: None,
                problem: "the archive is split over several disks".into(),
            });
        }
        if csize != usize_ {
            return Err(damaged(
                Some(&name),
                format!(
                    "a stored entry has a stored size {csize} different from its size {usize_}"
                ),
            ));
        }
        central.push(CentralEntry {
            name,
            flags,
            method,
            crc,
            size: usize_,
            offset,
        });
    }
    if c.at != end {
        return Err(damaged(
            None,
            "the central directory has bytes after its last record",
        ));
    }
    let mut seen = HashSet::with_capacity(central.len());
    for e in &central {
        if !seen.insert(e.name.as_str()) {
            return Err(damaged(
                Some(&e.name),
                "the name appears twice in the archive; refused, since readers would disagree on which copy counts",
            ));
        }
    }

    // Local headers: each must agree with the directory, and together they must tile [0, cd_offset).
    let mut order: Vec<usize> = (0..central.len()).collect();
    crate::sort::sort_by_key(&mut order, |&i| central[i].offset);
    let mut entries = Vec::with_capacity(central.len());
    let mut expected = 0usize;
    for i in order {
        let e = &central[i];
        if e.offset != expected {
            return Err(damaged(
                Some(&e.name),
                format!(
                    "the entry starts at offset {} but the previous one ends at {expected}: entries overlap or bytes are unaccounted for",
                    e.offset
                ),
            ));
        }
        if e.offset + 30 > cd_offset {
            return Err(damaged(
                Some(&e.name),
                "the local header lies outside the archive's data",
            ));
        }
        let mut c = Cursor { b, at: e.offset };
        if c.u32() != LOCAL_SIG {
            return Err(damaged(
                Some(&e.name),
                "the local header signature is wrong",
            ));
        }
        let _needed = c.u16();
        let flags = c.u16();
        let method = c.u16();
        let _time = c.u16();
        let _date = c.u16();
        let crc = c.u32();
        let csize = c.u32();
        let usize_ = c.u32();
        let name_len = c.u16() as usize;
        let extra_len = c.u16() as usize;
        let data_start = c.at + name_len + extra_len;
        let data_end = data_start + e.size as usize;
        if data_end > cd_offset {
            return Err(damaged(
                Some(&e.name),
                "the entry's data runs past the end of the archive's data (truncated?)",
            ));
        }
        if &b[c.at..c.at + name_len] != e.name.as_bytes() {
            return Err(damaged(
                Some(&e.name),
                "the local header names a different file than the central directory",
            ));
        }
        if flags != e.flags
            || method != e.method
            || crc != e.crc
            || csize != e.size
            || usize_ != e.size
        {
            return Err(damaged(
                Some(&e.name),
                "the local header disagrees with the central directory (flags, method, CRC or size)",
            ));
        }
        entries.push(Entry {
            name: e.name.clone(),
            data: &b[data_start..data_end],
            crc32: e.crc,
            offset: e.offset,
        });
        expected = data_end;
    }
    if expected != cd_offset {
        return Err(damaged(
            None,
            format!(
                "{} bytes between the last entry and the central directory are unaccounted for",
                cd_offset - expected
            ),
        ));
    }
    crate::sort::sort_by_key(&mut entries, |e| e.offset);
    let by_name = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.clone(), i))
        .collect();
    Ok(ZipArchive { entries, by_name })
}

/// The offset of the end-of-central-directory record: the last 22 bytes, or earlier when the archive
/// has a comment (searched only so that such an archive is told apart from a truncated one).
fn find_end(b: &[u8]) -> Option<usize> {
    let last = b.len() - 22;
    let first = last.saturating_sub(u16::MAX as usize);
    (first..=last).rev().find(|&i| {
        u32_at(b, i) == END_SIG
            && u16::from_le_bytes([b[i + 20], b[i + 21]]) as usize == b.len() - i - 22
    })
}

/// How many bytes follow an end record that does not reach the end of the file (a whole archive
/// with bytes added after it), when there is one in the last 64 KiB.
fn bytes_after_end(b: &[u8]) -> Option<usize> {
    let last = b.len() - 22;
    let first = last.saturating_sub(u16::MAX as usize);
    (first..=last).rev().find_map(|i| {
        let comment = u16::from_le_bytes([b[i + 20], b[i + 21]]) as usize;
        let ends = i + 22 + comment;
        (u32_at(b, i) == END_SIG && ends < b.len()).then(|| b.len() - ends)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_known_input() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        // The wide path agrees with the byte-at-a-time one.
        let long: Vec<u8> = (0..10_007u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut c = !0u32;
        for &b in &long {
            c = CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
        }
        assert_eq!(crc32(&long), !c);
        assert_eq!(table_crc32(&long), !c);
        assert_eq!(table_crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn round_trip() {
        let mut w = ZipWriter::new(DosTime::new(2026, 11, 22, 9, 0, 0));
        w.add("a.txt", b"hello").unwrap();
        w.add("dir/b.txt", "世界".as_bytes()).unwrap();
        w.add("empty", b"").unwrap();
        assert!(w.add("a.txt", b"again").is_err());
        assert!(w.add("../x", b"").is_err());
        let z = w.finish().unwrap();
        let a = read(&z).unwrap();
        let names: Vec<&str> = a.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a.txt", "dir/b.txt", "empty"]);
        assert_eq!(a.get("dir/b.txt").unwrap().data, "世界".as_bytes());
        assert!(a.entries.iter().all(Entry::crc_ok));
    }

    #[test]
    fn refuses_bad_names() {
        for n in [
            "/etc/passwd",
            "a/../b",
            "a//b",
            "c:/x",
            "a\\b",
            "dir/",
            "./a",
            "",
        ] {
            assert!(check_name(n).is_err(), "{n}");
        }
    }
}
