//! The SQLite store: the office's default, one file, no server (rusqlite with SQLite compiled in).
//!
//! Speed comes from one transaction per bundle, statements prepared once and cached, and many rows
//! per INSERT for the data tables ([`Store::insert_rows`]). During ingest the connection runs
//! `journal_mode=WAL` with `synchronous=FULL`: a commit (one per bundle) syncs the log once, so a
//! crash or power cut loses at most the bundle being ingested and never corrupts the file, and
//! readers (export, report) keep working during a long ingest. `synchronous=NORMAL` or `OFF` would
//! save that one sync per bundle (10,000 submissions), which measured as nothing against the CPU
//! cost of the rows. The journal mode is persistent, which is fine for readers.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params, types::ValueRef};

use super::{
    BundleRow, ColType, FormRow, Rows, Store, SubmissionRow, TableSpec, Val, ValRef, quote,
};
use crate::CliError;

pub struct Sqlite {
    conn: Connection,
    path: String,
    /// The columns each table has and their declared types, so `ensure_table` asks the database
    /// only once per table.
    known: HashMap<String, Vec<(String, String)>>,
    /// The INSERT statement of each table, column count and row count.
    inserts: HashMap<(String, usize, usize), String>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS doorstep_forms (
    hash TEXT PRIMARY KEY, form_id TEXT NOT NULL, version TEXT NOT NULL, source TEXT NOT NULL,
    ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doorstep_bundles (
    sha256 TEXT NOT NULL, file_name TEXT NOT NULL, form_id TEXT NOT NULL, form_version TEXT NOT NULL,
    device_id TEXT NOT NULL, created_at TEXT NOT NULL, ingested_at TEXT NOT NULL,
    new INTEGER NOT NULL, duplicate INTEGER NOT NULL, conflict INTEGER NOT NULL, rejected INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS doorstep_submissions (
    instance_id TEXT PRIMARY KEY, form_id TEXT NOT NULL, form_version TEXT NOT NULL, form_hash TEXT NOT NULL,
    content_sha256 TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    finalized_at TEXT, device_id TEXT NOT NULL, surveyor TEXT NOT NULL, deprecated_id TEXT,
    bundle_sha256 TEXT NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doorstep_attachments (
    instance_id TEXT NOT NULL, file TEXT NOT NULL, sha256 TEXT NOT NULL, content BLOB NOT NULL,
    PRIMARY KEY (instance_id, file));
";

/// A path as the path of a `file:` URI: the characters a URI gives a meaning to are escaped.
fn uri_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// Why SQLite could not open (or create) the database file: SQLite says only "unable to open
/// database file", so the folder and the file are looked at to say which.
fn why_not_opened(path: &Path, e: &rusqlite::Error) -> String {
    let p = path.display();
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return format!(
            "cannot open database {p}: the folder {} does not exist",
            folder.display()
        );
    }
    if path.is_dir() {
        return format!("cannot open database {p}: it is a folder, not a file");
    }
    if !path.exists() {
        // Creating the file says what is wrong with the folder (permission denied, read-only file
        // system, disk full); the probe is removed again.
        match std::fs::File::create_new(path) {
            Err(io) => {
                return format!(
                    "cannot create database {p} in the folder {}: {io}",
                    folder.display()
                );
            }
            Ok(_) => {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    format!("cannot open database {p}: {e}; check the path and that the file is a SQLite database")
}

fn err(path: &str, e: rusqlite::Error) -> CliError {
    let full = e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull);
    CliError::msg(if full {
        format!(
            "database {path}: {e}: free some space on that disk and run the same command again (what was stored before stays)"
        )
    } else {
        format!("database {path}: {e}")
    })
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite, CliError> {
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|e| CliError::msg(why_not_opened(path, &e)))?;
        let unusable = |e: rusqlite::Error| {
            CliError::msg(format!(
                "database {p} cannot be used: {e}; is it a SQLite file made by doorstep?"
            ))
        };
        // A database written by another program is refused here rather than half-used: creating
        // Doorstep's tables succeeds in any SQLite file, so its tables are looked at first.
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(unusable)?;
        if !tables.is_empty() && !tables.iter().any(|t| t.starts_with("doorstep_")) {
            let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
            return Err(CliError::msg(format!(
                "database {p} is not a Doorstep database: it holds another program's tables ({}{}) and none of doorstep's; \
                 nothing was changed: give --db the database that `doorstep ingest` wrote, or a new file name",
                shown.join(", "),
                if tables.len() > shown.len() {
                    ", ..."
                } else {
                    ""
                }
            )));
        }
        conn.execute_batch(SCHEMA).map_err(unusable)?;
        // Two INSERTs per data table (a chunk, one row) and the fixed ones: all stay prepared.
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Sqlite {
            conn,
            path: p,
            known: HashMap::new(),
            inserts: HashMap::new(),
        })
    }

    /// Opens an office database only to read it (export, report): nothing is created or changed,
    /// so a database on a read-only medium or shared read-only works, and a file that is not a
    /// Doorstep database (another program's SQLite file, an empty file) is refused untouched.
    pub fn open_read_only(path: &Path) -> Result<Sqlite, CliError> {
        let p = path.display().to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let tables_of = |conn: &Connection| -> Result<Vec<String>, rusqlite::Error> {
            let mut statement =
                conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
            statement.query_map([], |row| row.get(0))?.collect()
        };
        let mut conn = Connection::open_with_flags(path, flags)
            .map_err(|e| CliError::msg(format!("cannot open database {p}: {e}")))?;
        let mut tables = tables_of(&conn);
        if let Err(rusqlite::Error::SqliteFailure(failure, _)) = &tables
            && failure.code == rusqlite::ErrorCode::ReadOnly
        {
            // A database in WAL mode needs its `-shm` file, which a reader cannot make in a folder
            // it may not write (a read-only share, a CD, another user's folder). Nobody can be
            // writing the file there either, so it is read as immutable.
            let uri = format!("file:{}?immutable=1", uri_path(path));
            conn = Connection::open_with_flags(&uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .map_err(|e| CliError::msg(format!("cannot open database {p}: {e}")))?;
            tables = tables_of(&conn);
        }
        let tables = tables
            .map_err(|e| CliError::msg(format!("{p} is not a database doorstep can read: {e}")))?;
        let missing: Vec<&str> = ["doorstep_forms", "doorstep_bundles", "doorstep_submissions"]
            .into_iter()
            .filter(|t| !tables.iter().any(|have| have == t))
            .collect();
        if !missing.is_empty() {
            return Err(CliError::msg(format!(
                "{p} is not a Doorstep database (it has no {} table); give --db the database that `doorstep ingest` wrote",
                missing.join(", ")
            )));
        }
        Ok(Sqlite {
            conn,
            path: p,
            known: HashMap::new(),
            inserts: HashMap::new(),
        })
    }

    fn e(&self, e: rusqlite::Error) -> CliError {
        err(&self.path, e)
    }

    fn table_columns(&mut self, table: &str) -> Result<Vec<(String, String)>, CliError> {
        let mut stmt = self
            .conn
            .prepare(&format!("PRAGMA table_info({})", quote(table)))
            .map_err(|e| err(&self.path, e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .map_err(|e| err(&self.path, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(&self.path, e))?;
        Ok(rows)
    }
}

impl Sqlite {
    /// Declares the columns `names` of `table` TEXT, their stored numbers turned into text.
    /// SQLite cannot change a column's type, so the table is made again with the same columns in
    /// the same order, inside the bundle's transaction.
    fn make_text(
        &mut self,
        table: &str,
        cols: &mut [(String, String)],
        names: &[String],
    ) -> Result<(), CliError> {
        for (c, ty) in cols.iter_mut() {
            if names.contains(c) {
                *ty = "TEXT".to_string();
            }
        }
        let old = format!("{table}__doorstep_retype");
        let decls: Vec<String> = cols
            .iter()
            .map(|(c, ty)| format!("{} {ty}", quote(c)))
            .collect();
        let reads: Vec<String> = cols
            .iter()
            .map(|(c, _)| {
                if names.contains(c) {
                    format!("CAST({0} AS TEXT)", quote(c))
                } else {
                    quote(c)
                }
            })
            .collect();
        // SQLite writes a REAL as text with 15 digits and a `.0` (`17570.0`, `0.3` for
        // 0.30000000000000004), not as the export wrote it before (`17570`) nor as PostgreSQL
        // makes it text: those numbers are written again as Rust writes them, by rowid, which
        // the copy keeps.
        let mut reals: Vec<(String, i64, f64)> = Vec::new();
        for c in names {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT rowid, {0} FROM {1} WHERE typeof({0}) = 'real'",
                    quote(c),
                    quote(table)
                ))
                .map_err(|e| self.e(e))?;
            let rows = stmt
                .query_map([], |r| Ok((c.clone(), r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(|e| err(&self.path, e))?;
            reals.extend(rows);
        }
        self.conn
            .execute_batch(&format!(
                "ALTER TABLE {t} RENAME TO {o}; CREATE TABLE {t} ({d}); INSERT INTO {t} (rowid, {c}) SELECT rowid, {r} FROM {o}; DROP TABLE {o};",
                t = quote(table),
                o = quote(&old),
                d = decls.join(", "),
                c = cols.iter().map(|(c, _)| quote(c)).collect::<Vec<_>>().join(", "),
                r = reads.join(", ")
            ))
            .map_err(|e| self.e(e))?;
        for (c, rowid, x) in reals {
            self.conn
                .prepare_cached(&format!(
                    "UPDATE {} SET {} = ?1 WHERE rowid = ?2",
                    quote(table),
                    quote(&c)
                ))
                .and_then(|mut stmt| stmt.execute(params![Val::Real(x).to_text(), rowid]))
                .map_err(|e| err(&self.path, e))?;
        }
        // The cached INSERTs name the table, which SQLite prepares again for its new columns.
        Ok(())
    }
}

/// Rows per multi-row INSERT in a bulk load.
const ROWS_PER_INSERT: usize = 32;

impl Sqlite {
    /// Which of `columns` the table declares TEXT. SQLite turns a REAL bound to such a column into
    /// text its own way (`5.0`); the store writes it as the export and PostgreSQL do (`5`).
    fn text_columns(&self, table: &str, columns: &[String]) -> Vec<bool> {
        let known = self.known.get(table);
        columns
            .iter()
            .map(|c| {
                known
                    .and_then(|k| k.iter().find(|(n, _)| n == c))
                    .is_some_and(|(_, ty)| ty.eq_ignore_ascii_case("TEXT"))
            })
            .collect()
    }

    /// Appends rows `first..first + count` of `rows` with one statement; `text` says which
    /// columns are TEXT (see [`Sqlite::text_columns`]).
    fn insert_chunk(
        &mut self,
        table: &str,
        columns: &[String],
        text: &[bool],
        rows: &Rows,
        first: usize,
        count: usize,
    ) -> Result<(), CliError> {
        let key = (table.to_string(), columns.len(), count);
        if !self.inserts.contains_key(&key) {
            let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
            // Compact: the statement cache hashes and compares the whole text at each use.
            let marks = format!("({})", vec!["?"; columns.len()].join(","));
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                quote(table),
                cols.join(","),
                vec![marks; count].join(",")
            );
            self.inserts.insert(key.clone(), sql);
        }
        let sql = &self.inserts[&key];
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| err(&self.path, e))?;
        let mut i = 0;
        for r in first..first + count {
            for (v, &is_text) in rows.row(r).zip(text) {
                i += 1;
                let r = match v {
                    ValRef::Null => stmt.raw_bind_parameter(i, rusqlite::types::Null),
                    ValRef::Int(x) => stmt.raw_bind_parameter(i, x),
                    ValRef::Real(x) if is_text => {
                        stmt.raw_bind_parameter(i, Val::Real(x).to_text())
                    }
                    ValRef::Real(x) => stmt.raw_bind_parameter(i, x),
                    ValRef::Text(x) => stmt.raw_bind_parameter(i, x),
                };
                r.map_err(|e| err(&self.path, e))?;
            }
        }
        stmt.raw_execute()
            .map(|_| ())
            .map_err(|e| err(&self.path, e))
    }
}

fn sql_type(t: ColType) -> &'static str {
    match t {
        ColType::Int => "INTEGER",
        ColType::Real => "REAL",
        ColType::Text => "TEXT",
    }
}

impl Store for Sqlite {
    fn bulk_mode(&mut self) -> Result<(), CliError> {
        self.conn
            .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;")
            .map_err(|e| self.e(e))
    }
    fn begin(&mut self) -> Result<(), CliError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.e(e))
    }
    fn commit(&mut self) -> Result<(), CliError> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.e(e))
    }
    fn rollback(&mut self) -> Result<(), CliError> {
        // The cached column lists may name columns the rollback removed.
        self.known.clear();
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.execute_batch("ROLLBACK").map_err(|e| self.e(e))
    }
    fn ensure_table(&mut self, spec: &TableSpec) -> Result<(), CliError> {
        let have = match self.known.get(&spec.name) {
            Some(cols) => cols.clone(),
            None => self.table_columns(&spec.name)?,
        };
        if have.is_empty() {
            let cols: Vec<String> = spec
                .columns
                .iter()
                .map(|(n, t)| format!("{} {}", quote(n), sql_type(*t)))
                .collect();
            self.conn
                .execute_batch(&format!(
                    "CREATE TABLE {} ({})",
                    quote(&spec.name),
                    cols.join(", ")
                ))
                .map_err(|e| self.e(e))?;
            self.known.insert(
                spec.name.clone(),
                spec.columns
                    .iter()
                    .map(|(n, t)| (n.clone(), sql_type(*t).to_string()))
                    .collect(),
            );
            return Ok(());
        }
        let mut cols = have;
        // SQLite's columns take any type, but a column declared INTEGER or REAL turns text that
        // reads as a number into that number: a later version's text answer `007` would be stored
        // as 7. Such a column becomes TEXT (as in PostgreSQL), which keeps every value as it was.
        let retype: Vec<String> = spec
            .columns
            .iter()
            .filter(|(n, t)| {
                *t == ColType::Text
                    && cols
                        .iter()
                        .any(|(c, ty)| c == n && !ty.eq_ignore_ascii_case("TEXT") && !ty.is_empty())
            })
            .map(|(n, _)| n.clone())
            .collect();
        if !retype.is_empty() {
            self.make_text(&spec.name, &mut cols, &retype)?;
        }
        for (n, t) in &spec.columns {
            if !cols.iter().any(|(c, _)| c == n) {
                self.conn
                    .execute_batch(&format!(
                        "ALTER TABLE {} ADD COLUMN {} {}",
                        quote(&spec.name),
                        quote(n),
                        sql_type(*t)
                    ))
                    .map_err(|e| self.e(e))?;
                cols.push((n.clone(), sql_type(*t).to_string()));
            }
        }
        self.known.insert(spec.name.clone(), cols);
        Ok(())
    }
    fn add_form(&mut self, f: &FormRow) -> Result<(), CliError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO doorstep_forms (hash, form_id, version, source, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![f.hash, f.id, f.version, f.source, now()],
            )
            .map(|_| ())
            .map_err(|e| self.e(e))
    }
    fn form_hashes(&mut self, form_id: &str, version: &str) -> Result<Vec<String>, CliError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT hash FROM doorstep_forms WHERE form_id = ?1 AND version = ?2")
            .map_err(|e| err(&self.path, e))?;
        stmt.query_map(params![form_id, version], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| err(&self.path, e))
    }
    fn forms(&mut self) -> Result<Vec<FormRow>, CliError> {
        let mut stmt = self
            .conn
            .prepare("SELECT form_id, version, hash, source FROM doorstep_forms ORDER BY form_id, version, ingested_at, hash")
            .map_err(|e| err(&self.path, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FormRow {
                    id: r.get(0)?,
                    version: r.get(1)?,
                    hash: r.get(2)?,
                    source: r.get(3)?,
                })
            })
            .map_err(|e| err(&self.path, e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(&self.path, e))?;
        Ok(rows)
    }
    fn content_hash(&mut self, instance_id: &str) -> Result<Option<String>, CliError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT content_sha256 FROM doorstep_submissions WHERE instance_id = ?1",
            )
            .map_err(|e| err(&self.path, e))?;
        stmt.query_row([instance_id], |r| r.get(0))
            .optional()
            .map_err(|e| err(&self.path, e))
    }
    fn add_submission(&mut self, s: &SubmissionRow) -> Result<bool, CliError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO doorstep_submissions (instance_id, form_id, form_version, form_hash, content_sha256, status,
                 started_at, updated_at, finalized_at, device_id, surveyor, deprecated_id, bundle_sha256, ingested_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT (instance_id) DO NOTHING",
            )
            .map_err(|e| err(&self.path, e))?;
        stmt.execute(params![
            s.instance_id,
            s.form_id,
            s.form_version,
            s.form_hash,
            s.content_sha256,
            s.status,
            s.started_at,
            s.updated_at,
            s.finalized_at,
            s.device_id,
            s.surveyor,
            s.deprecated_id,
            s.bundle_sha256,
            // One timestamp per bundle would do; the clock call is cheap next to the insert.
            INGEST_TIME.with(|t| t.clone()),
        ])
        .map(|n| n == 1)
        .map_err(|e| err(&self.path, e))
    }
    fn add_submissions(&mut self, rows: &[&SubmissionRow]) -> Result<Vec<bool>, CliError> {
        // Many rows per statement; `RETURNING` names the ones stored (the others were there).
        let mut out = Vec::with_capacity(rows.len());
        let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
        for chunk in &mut chunks {
            let sql = format!(
                "INSERT INTO doorstep_submissions (instance_id, form_id, form_version, form_hash, content_sha256, status,
                 started_at, updated_at, finalized_at, device_id, surveyor, deprecated_id, bundle_sha256, ingested_at)
                 VALUES {} ON CONFLICT (instance_id) DO NOTHING RETURNING instance_id",
                vec!["(?,?,?,?,?,?,?,?,?,?,?,?,?,?)"; ROWS_PER_INSERT].join(",")
            );
            let mut stmt = self
                .conn
                .prepare_cached(&sql)
                .map_err(|e| err(&self.path, e))?;
            let now = INGEST_TIME.with(|t| t.clone());
            let mut i = 0;
            for s in chunk {
                let values: [&dyn rusqlite::ToSql; 14] = [
                    &s.instance_id,
                    &s.form_id,
                    &s.form_version,
                    &s.form_hash,
                    &s.content_sha256,
                    &s.status,
                    &s.started_at,
                    &s.updated_at,
                    &s.finalized_at,
                    &s.device_id,
                    &s.surveyor,
                    &s.deprecated_id,
                    &s.bundle_sha256,
                    &now,
                ];
                for v in values {
                    i += 1;
                    stmt.raw_bind_parameter(i, v)
                        .map_err(|e| err(&self.path, e))?;
                }
            }
            let mut stored = std::collections::HashSet::with_capacity(ROWS_PER_INSERT);
            let mut result = stmt.raw_query();
            while let Some(row) = result.next().map_err(|e| err(&self.path, e))? {
                stored.insert(row.get::<_, String>(0).map_err(|e| err(&self.path, e))?);
            }
            out.extend(chunk.iter().map(|s| stored.contains(&s.instance_id)));
        }
        for s in chunks.remainder() {
            out.push(self.add_submission(s)?);
        }
        Ok(out)
    }
    fn add_bundle(&mut self, b: &BundleRow) -> Result<(), CliError> {
        self.conn
            .execute(
                "INSERT INTO doorstep_bundles (sha256, file_name, form_id, form_version, device_id, created_at, ingested_at,
                 new, duplicate, conflict, rejected) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    b.sha256,
                    b.file_name,
                    b.form_id,
                    b.form_version,
                    b.device_id,
                    b.created_at,
                    now(),
                    b.new as i64,
                    b.duplicate as i64,
                    b.conflict as i64,
                    b.rejected as i64
                ],
            )
            .map(|_| ())
            .map_err(|e| self.e(e))
    }
    fn add_attachment(
        &mut self,
        instance_id: &str,
        file: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(), CliError> {
        let mut stmt = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO doorstep_attachments (instance_id, file, sha256, content) VALUES (?1, ?2, ?3, ?4)")
            .map_err(|e| err(&self.path, e))?;
        stmt.execute(params![instance_id, file, sha256, bytes])
            .map(|_| ())
            .map_err(|e| err(&self.path, e))
    }
    fn add_attachments(&mut self, items: &[(&str, &str, &str, &[u8])]) -> Result<(), CliError> {
        // Many rows per statement, as for the data tables; `OR IGNORE` applies row by row.
        let mut chunks = items.chunks_exact(ROWS_PER_INSERT);
        for chunk in &mut chunks {
            let sql = format!(
                "INSERT OR IGNORE INTO doorstep_attachments (instance_id, file, sha256, content) VALUES {}",
                vec!["(?,?,?,?)"; ROWS_PER_INSERT].join(",")
            );
            let mut stmt = self
                .conn
                .prepare_cached(&sql)
                .map_err(|e| err(&self.path, e))?;
            let mut i = 0;
            for (id, file, sha, bytes) in chunk {
                let bound = stmt
                    .raw_bind_parameter(i + 1, id)
                    .and_then(|()| stmt.raw_bind_parameter(i + 2, file))
                    .and_then(|()| stmt.raw_bind_parameter(i + 3, sha))
                    .and_then(|()| stmt.raw_bind_parameter(i + 4, bytes));
                bound.map_err(|e| err(&self.path, e))?;
                i += 4;
            }
            stmt.raw_execute().map_err(|e| err(&self.path, e))?;
        }
        for (id, file, sha, bytes) in chunks.remainder() {
            self.add_attachment(id, file, sha, bytes)?;
        }
        Ok(())
    }
    fn insert(&mut self, table: &str, columns: &[String], values: &[Val]) -> Result<(), CliError> {
        let mut row = Rows::new(values.len());
        for v in values {
            row.push(match v {
                Val::Null => ValRef::Null,
                Val::Int(i) => ValRef::Int(*i),
                Val::Real(r) => ValRef::Real(*r),
                Val::Text(t) => ValRef::Text(t),
            });
        }
        let text = self.text_columns(table, columns);
        self.insert_chunk(table, columns, &text, &row, 0, 1)
    }
    fn insert_rows(
        &mut self,
        table: &str,
        columns: &[String],
        rows: &Rows,
    ) -> Result<(), CliError> {
        // Many rows per statement: a statement's fixed cost (step, reset, bindings cleared) is
        // paid once per chunk; SQLite allows 32,766 parameters a statement.
        let per = (32_766 / columns.len().max(1)).clamp(1, ROWS_PER_INSERT);
        let text = self.text_columns(table, columns);
        let n = rows.len();
        let mut i = 0;
        while i + per <= n {
            self.insert_chunk(table, columns, &text, rows, i, per)?;
            i += per;
        }
        // The rest one by one, so only two statements per table are ever prepared.
        for j in i..n {
            self.insert_chunk(table, columns, &text, rows, j, 1)?;
        }
        Ok(())
    }
    fn tables(&mut self) -> Result<Vec<String>, CliError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .map_err(|e| err(&self.path, e))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| err(&self.path, e))?
            .collect::<Result<Vec<String>, _>>()
            .map_err(|e| err(&self.path, e))?;
        Ok(rows)
    }
    fn columns(&mut self, table: &str) -> Result<Vec<String>, CliError> {
        Ok(self
            .table_columns(table)?
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }
    fn scan(
        &mut self,
        table: &str,
        columns: &[String],
        row: &mut dyn FnMut(&[Val]) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY rowid",
            cols.join(", "),
            quote(table)
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| err(&self.path, e))?;
        let mut rows = stmt.query([]).map_err(|e| err(&self.path, e))?;
        let mut buf: Vec<Val> = Vec::with_capacity(columns.len());
        while let Some(r) = rows.next().map_err(|e| err(&self.path, e))? {
            buf.clear();
            for i in 0..columns.len() {
                buf.push(match r.get_ref(i).map_err(|e| err(&self.path, e))? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(x) => Val::Int(x),
                    ValueRef::Real(x) => Val::Real(x),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => Val::Null,
                });
            }
            row(&buf)?;
        }
        Ok(())
    }
}

thread_local! {
    /// The time of this ingest run, stamped on every stored submission.
    pub static INGEST_TIME: String = now();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_says_what_to_do() {
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        let m = err("office.db", full).to_string();
        assert!(m.starts_with("database office.db: "), "{m}");
        assert!(
            m.contains("free some space on that disk and run the same command again"),
            "{m}"
        );
        let other = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        assert!(
            !err("office.db", other)
                .to_string()
                .contains("free some space")
        );
    }
}
