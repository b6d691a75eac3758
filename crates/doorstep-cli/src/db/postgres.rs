//! The PostgreSQL store, for offices that outgrow one SQLite file (the synchronous `postgres` crate).
//!
//! The transaction is driven with plain `BEGIN`/`COMMIT`/`ROLLBACK` so that the [`Store`] methods can
//! take `&mut self`; PostgreSQL's DDL is transactional, so a rolled-back bundle leaves no new table
//! or column behind, as in SQLite. Unlike SQLite, columns are strictly typed, so a change of type
//! between form versions is made as SQLite's columns behave: a column a later version makes text
//! becomes text (its numbers written as the export writes them: `17570`, not `17570.0`), an integer
//! column a later version makes decimal becomes decimal, and a decimal one stays decimal.
//!
//! PostgreSQL keeps no insertion order: `ctid` is where a row happens to lie, and an insert may
//! fill room left in an earlier page, so tables read in `ctid` order came out in another order than
//! SQLite's `rowid` (the same bundles, the export's rows shuffled). Every data table therefore has
//! a column of its own, [`ORDER_COLUMN`], numbered as rows are added; it is not among the table's
//! [`Store::columns`], and scans are in its order.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, NoTls, Statement};

use super::{BundleRow, ColType, FormRow, Store, SubmissionRow, TableSpec, Val, quote};
use crate::CliError;

pub struct Pg {
    client: Client,
    /// The column types each table has (as `ColType`), read once per table.
    known: HashMap<String, Vec<(String, ColType)>>,
    statements: HashMap<String, Statement>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS doorstep_forms (
    hash TEXT PRIMARY KEY, form_id TEXT NOT NULL, version TEXT NOT NULL, source TEXT NOT NULL,
    ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doorstep_bundles (
    sha256 TEXT NOT NULL, file_name TEXT NOT NULL, form_id TEXT NOT NULL, form_version TEXT NOT NULL,
    device_id TEXT NOT NULL, created_at TEXT NOT NULL, ingested_at TEXT NOT NULL,
    new BIGINT NOT NULL, duplicate BIGINT NOT NULL, conflict BIGINT NOT NULL, rejected BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS doorstep_submissions (
    instance_id TEXT PRIMARY KEY, form_id TEXT NOT NULL, form_version TEXT NOT NULL, form_hash TEXT NOT NULL,
    content_sha256 TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    finalized_at TEXT, device_id TEXT NOT NULL, surveyor TEXT NOT NULL, deprecated_id TEXT,
    bundle_sha256 TEXT NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doorstep_attachments (
    instance_id TEXT NOT NULL, file TEXT NOT NULL, sha256 TEXT NOT NULL, content BYTEA NOT NULL,
    PRIMARY KEY (instance_id, file));
";

fn err(e: postgres::Error) -> CliError {
    // A lost connection (the server stopped, the network went): every later statement would fail
    // the same way, so ingest stops there (`CliError::connection_lost`).
    // A FATAL error ends the session too (an administrator or the server shutting down says so
    // before it closes the connection), as does a connection exception (class 08).
    let lost = e.is_closed()
        || std::error::Error::source(&e)
            .is_some_and(|c| c.downcast_ref::<std::io::Error>().is_some())
        || e.as_db_error().is_some_and(|d| {
            matches!(d.severity(), "FATAL" | "PANIC") || d.code().code().starts_with("08")
        });
    let text = format!("postgresql: {}", describe(&e));
    if lost {
        CliError(text, Some(std::io::ErrorKind::ConnectionAborted))
    } else {
        CliError::msg(text)
    }
}

/// What the server or the connection said: the client's own text for a server error is only
/// "db error", so the server's message (and its detail and hint) is taken from inside it, and
/// for a failed connection the causes ("connection refused", an unknown host) are added.
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = db.message().to_string();
        if let Some(detail) = db.detail() {
            text.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            text.push_str(&format!("; {hint}"));
        }
        return text;
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(&format!(": {cause_text}"));
        }
        source = cause.source();
    }
    text
}

/// The server and database of a URL, without the user and password it may carry.
fn shown(url: &str) -> &str {
    url.rsplit('@').next().unwrap_or(url)
}

fn connect(url: &str) -> Result<Client, CliError> {
    let mut client = Client::connect(url, NoTls).map_err(|e| {
        CliError::msg(format!(
            "cannot connect to postgresql at {}: {}; check that the server runs and the URL is right",
            shown(url),
            describe(&e)
        ))
    })?;
    client
        .batch_execute("SET client_min_messages = warning")
        .map_err(err)?;
    Ok(client)
}

/// The longest name PostgreSQL keeps, in bytes (`NAMEDATALEN` - 1).
const NAME_MAX: usize = 63;

/// The column that numbers a data table's rows as they are added (not an identifier, so no
/// question's column can have its name).
pub const ORDER_COLUMN: &str = "doorstep:row";

fn sql_type(t: ColType) -> &'static str {
    match t {
        ColType::Int => "BIGINT",
        ColType::Real => "DOUBLE PRECISION",
        ColType::Text => "TEXT",
    }
}

fn col_type_of(pg: &str) -> ColType {
    match pg {
        "bigint" | "integer" | "smallint" => ColType::Int,
        "double precision" | "real" | "numeric" => ColType::Real,
        _ => ColType::Text,
    }
}

impl Pg {
    pub fn open(url: &str) -> Result<Pg, CliError> {
        let mut client = connect(url)?;
        client.batch_execute(SCHEMA).map_err(err)?;
        Ok(Pg {
            client,
            known: HashMap::new(),
            statements: HashMap::new(),
        })
    }

    /// Connects only to read (export, report): the session is read-only, nothing is created, and
    /// a database without Doorstep's tables is refused.
    pub fn open_existing(url: &str) -> Result<Pg, CliError> {
        let mut client = connect(url)?;
        client
            .batch_execute("SET default_transaction_read_only = on")
            .map_err(err)?;
        let mut missing = Vec::new();
        for table in ["doorstep_forms", "doorstep_bundles", "doorstep_submissions"] {
            let row = client
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
                .map_err(err)?;
            if !row.get::<_, bool>(0) {
                missing.push(table);
            }
        }
        if !missing.is_empty() {
            return Err(CliError::msg(format!(
                "the postgresql database at {} is not a Doorstep database (it has no {} table); ingest bundles into it first",
                shown(url),
                missing.join(", ")
            )));
        }
        Ok(Pg {
            client,
            known: HashMap::new(),
            statements: HashMap::new(),
        })
    }

    fn table_columns(&mut self, table: &str) -> Result<Vec<(String, ColType)>, CliError> {
        let rows = self
            .client
            .query(
                "SELECT column_name, data_type FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                &[&table],
            )
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, String>(0), col_type_of(&r.get::<_, String>(1))))
            .collect())
    }

    fn prepared(&mut self, sql: &str) -> Result<Statement, CliError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(err)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// One parameter, typed as its column is (PostgreSQL refuses a text for a bigint, and a null must
/// carry the column's type too).
fn param(v: &Val, t: ColType) -> Box<dyn ToSql + Sync> {
    match (t, v) {
        (_, Val::Null) => match t {
            ColType::Int => Box::new(None::<i64>),
            ColType::Real => Box::new(None::<f64>),
            ColType::Text => Box::new(None::<String>),
        },
        (ColType::Int, Val::Int(x)) => Box::new(*x),
        (ColType::Real, Val::Int(x)) => Box::new(*x as f64),
        (ColType::Real, Val::Real(x)) => Box::new(*x),
        (ColType::Text, v) => Box::new(v.to_text()),
        // A value that does not fit the column: `ensure_table` made the column text for it.
        (_, v) => Box::new(v.as_f64()),
    }
}

impl Store for Pg {
    fn bulk_mode(&mut self) -> Result<(), CliError> {
        // Each bundle commits once; waiting for the disk at that commit is what keeps it durable.
        Ok(())
    }
    fn begin(&mut self) -> Result<(), CliError> {
        self.client.batch_execute("BEGIN").map_err(err)
    }
    fn commit(&mut self) -> Result<(), CliError> {
        self.client.batch_execute("COMMIT").map_err(err)
    }
    fn rollback(&mut self) -> Result<(), CliError> {
        self.known.clear();
        self.client.batch_execute("ROLLBACK").map_err(err)
    }
    fn ensure_table(&mut self, spec: &TableSpec) -> Result<(), CliError> {
        // PostgreSQL cuts a longer name to 63 bytes without a word: two tables (or columns) could
        // become one, and the export, which looks for the full names, would not find them.
        if spec.name.len() > NAME_MAX {
            return Err(CliError::msg(format!(
                "the table `{}` has a name of {} bytes, and PostgreSQL keeps at most {NAME_MAX}; give the form a shorter id (or the roster a shorter name: a roster's table is `<form id>__<roster>`), or ingest into a SQLite file",
                spec.name,
                spec.name.len()
            )));
        }
        if let Some((long, _)) = spec.columns.iter().find(|(n, _)| n.len() > NAME_MAX) {
            return Err(CliError::msg(format!(
                "the column `{long}` of the table `{}` has a name of {} bytes, and PostgreSQL keeps at most {NAME_MAX}; give the question a shorter name, or ingest into a SQLite file",
                spec.name,
                long.len()
            )));
        }
        let have = match self.known.get(&spec.name) {
            Some(c) => c.clone(),
            None => self.table_columns(&spec.name)?,
        };
        if have.is_empty() {
            let cols: Vec<String> = spec
                .columns
                .iter()
                .map(|(n, t)| format!("{} {}", quote(n), sql_type(*t)))
                .collect();
            self.client
                .batch_execute(&format!(
                    "CREATE TABLE {} ({}, {} BIGINT GENERATED ALWAYS AS IDENTITY)",
                    quote(&spec.name),
                    cols.join(", "),
                    quote(ORDER_COLUMN)
                ))
                .map_err(err)?;
            let mut cols = spec.columns.clone();
            cols.push((ORDER_COLUMN.to_string(), ColType::Int));
            self.known.insert(spec.name.clone(), cols);
            return Ok(());
        }
        let mut cols = have;
        if !cols.iter().any(|(c, _)| c == ORDER_COLUMN) {
            // A table made before tables had it: its rows are numbered in the order they lie.
            self.client
                .batch_execute(&format!(
                    "ALTER TABLE {} ADD COLUMN {} BIGINT GENERATED ALWAYS AS IDENTITY",
                    quote(&spec.name),
                    quote(ORDER_COLUMN)
                ))
                .map_err(err)?;
            cols.push((ORDER_COLUMN.to_string(), ColType::Int));
        }
        for (n, t) in &spec.columns {
            match cols.iter_mut().find(|(c, _)| c == n) {
                None => {
                    self.client
                        .batch_execute(&format!(
                            "ALTER TABLE {} ADD COLUMN {} {}",
                            quote(&spec.name),
                            quote(n),
                            sql_type(*t)
                        ))
                        .map_err(err)?;
                    cols.push((n.clone(), *t));
                }
                // As in SQLite, whose INTEGER and REAL columns take each other's numbers and
                // only a text answer needs a text column: a number column a later version makes
                // text becomes text, an integer one it makes decimal becomes decimal (it was
                // made text too, so a workbook had the numbers of one database as text).
                Some((_, have_t)) if *t == ColType::Text && *have_t != ColType::Text => {
                    // A decimal as the export writes it, `17570` and `0.1` (`::text` alone writes
                    // `1e+20`; through numeric that is `100000000000000000000`, as in Rust).
                    let using = match have_t {
                        ColType::Real => format!("{}::text::numeric::text", quote(n)),
                        _ => format!("{}::text", quote(n)),
                    };
                    self.client
                        .batch_execute(&format!(
                            "ALTER TABLE {} ALTER COLUMN {} TYPE TEXT USING {using}",
                            quote(&spec.name),
                            quote(n)
                        ))
                        .map_err(err)?;
                    *have_t = ColType::Text;
                    self.statements.clear();
                }
                Some((_, have_t)) if *t == ColType::Real && *have_t == ColType::Int => {
                    self.client
                        .batch_execute(&format!(
                            "ALTER TABLE {0} ALTER COLUMN {1} TYPE DOUBLE PRECISION USING {1}::double precision",
                            quote(&spec.name),
                            quote(n)
                        ))
                        .map_err(err)?;
                    *have_t = ColType::Real;
                    self.statements.clear();
                }
                Some(_) => {}
            }
        }
        self.known.insert(spec.name.clone(), cols);
        Ok(())
    }
    fn add_form(&mut self, f: &FormRow) -> Result<(), CliError> {
        self.client
            .execute(
                "INSERT INTO doorstep_forms (hash, form_id, version, source, ingested_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&f.hash, &f.id, &f.version, &f.source, &super::sqlite::now()],
            )
            .map(|_| ())
            .map_err(err)
    }
    fn form_hashes(&mut self, form_id: &str, version: &str) -> Result<Vec<String>, CliError> {
        let rows = self
            .client
            .query(
                "SELECT hash FROM doorstep_forms WHERE form_id = $1 AND version = $2",
                &[&form_id, &version],
            )
            .map_err(err)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
    fn forms(&mut self) -> Result<Vec<FormRow>, CliError> {
        let rows = self
            .client
            .query("SELECT form_id, version, hash, source FROM doorstep_forms ORDER BY form_id COLLATE \"C\", version COLLATE \"C\", ingested_at, hash COLLATE \"C\"", &[])
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| FormRow {
                id: r.get(0),
                version: r.get(1),
                hash: r.get(2),
                source: r.get(3),
            })
            .collect())
    }
    fn content_hash(&mut self, instance_id: &str) -> Result<Option<String>, CliError> {
        let st = self
            .prepared("SELECT content_sha256 FROM doorstep_submissions WHERE instance_id = $1")?;
        let rows = self.client.query(&st, &[&instance_id]).map_err(err)?;
        Ok(rows.first().map(|r| r.get(0)))
    }
    fn add_submission(&mut self, s: &SubmissionRow) -> Result<bool, CliError> {
        let st = self.prepared(
            "INSERT INTO doorstep_submissions (instance_id, form_id, form_version, form_hash, content_sha256, status,
             started_at, updated_at, finalized_at, device_id, surveyor, deprecated_id, bundle_sha256, ingested_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (instance_id) DO NOTHING",
        )?;
        let at = super::sqlite::INGEST_TIME.with(|t| t.clone());
        self.client
            .execute(
                &st,
                &[
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
                    &at,
                ],
            )
            .map(|n| n == 1)
            .map_err(err)
    }
    fn add_bundle(&mut self, b: &BundleRow) -> Result<(), CliError> {
        self.client
            .execute(
                "INSERT INTO doorstep_bundles (sha256, file_name, form_id, form_version, device_id, created_at, ingested_at,
                 new, duplicate, conflict, rejected) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &b.sha256,
                    &b.file_name,
                    &b.form_id,
                    &b.form_version,
                    &b.device_id,
                    &b.created_at,
                    &super::sqlite::now(),
                    &(b.new as i64),
                    &(b.duplicate as i64),
                    &(b.conflict as i64),
                    &(b.rejected as i64),
                ],
            )
            .map(|_| ())
            .map_err(err)
    }
    fn add_attachment(
        &mut self,
        instance_id: &str,
        file: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(), CliError> {
        let st = self.prepared(
            "INSERT INTO doorstep_attachments (instance_id, file, sha256, content) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )?;
        self.client
            .execute(&st, &[&instance_id, &file, &sha256, &bytes])
            .map(|_| ())
            .map_err(err)
    }
    fn insert(&mut self, table: &str, columns: &[String], values: &[Val]) -> Result<(), CliError> {
        let types: Vec<ColType> = {
            let known = self.known.get(table);
            columns
                .iter()
                .map(|c| {
                    known
                        .and_then(|k| k.iter().find(|(n, _)| n == c))
                        .map_or(ColType::Text, |(_, t)| *t)
                })
                .collect()
        };
        let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(table),
            cols.join(", "),
            marks.join(", ")
        );
        let st = self.prepared(&sql)?;
        let params: Vec<Box<dyn ToSql + Sync>> = values
            .iter()
            .zip(&types)
            .map(|(v, t)| param(v, *t))
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|b| b.as_ref()).collect();
        self.client.execute(&st, &refs).map(|_| ()).map_err(err)
    }
    fn tables(&mut self) -> Result<Vec<String>, CliError> {
        let rows = self
            .client
            .query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name COLLATE \"C\"",
                &[],
            )
            .map_err(err)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
    fn columns(&mut self, table: &str) -> Result<Vec<String>, CliError> {
        Ok(self
            .table_columns(table)?
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| n != ORDER_COLUMN)
            .collect())
    }
    fn scan(
        &mut self,
        table: &str,
        columns: &[String],
        row: &mut dyn FnMut(&[Val]) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        let types = self.table_columns(table)?;
        let ts: Vec<ColType> = columns
            .iter()
            .map(|c| {
                types
                    .iter()
                    .find(|(n, _)| n == c)
                    .map_or(ColType::Text, |(_, t)| *t)
            })
            .collect();
        let cols: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        // The order rows were added in, as SQLite's rowid; a table without the column (Doorstep's
        // own, or a data table no ingest has touched since) in the order its rows lie.
        let order = if types.iter().any(|(n, _)| n == ORDER_COLUMN) {
            quote(ORDER_COLUMN)
        } else {
            "ctid".to_string()
        };
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {order}",
            cols.join(", "),
            quote(table)
        );
        let params: [&(dyn ToSql + Sync); 0] = [];
        let mut it = self.client.query_raw(&sql, params).map_err(err)?;
        let mut buf = Vec::with_capacity(columns.len());
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(r) = it.next().map_err(err)? {
            buf.clear();
            for (i, t) in ts.iter().enumerate() {
                buf.push(match t {
                    ColType::Int => r.get::<_, Option<i64>>(i).map_or(Val::Null, Val::Int),
                    ColType::Real => r.get::<_, Option<f64>>(i).map_or(Val::Null, Val::Real),
                    ColType::Text => r.get::<_, Option<String>>(i).map_or(Val::Null, Val::Text),
                });
            }
            row(&buf)?;
        }
        Ok(())
    }
}
