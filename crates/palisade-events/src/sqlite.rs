//! The embedded SQLite event store: schema, versioned migrations, batched
//! inserts and retention.
//!
//! Design notes:
//! * WAL journal with `synchronous=NORMAL`: a committed batch survives a crash
//!   of the process (not necessarily a power loss), and readers (`palisade events
//!   tail`) never block the writer.
//! * The tables, the row encoding and the migrations are shared with the
//!   PostgreSQL store (`schema`); `PRAGMA user_version` records how many
//!   migrations ran. A database from a newer build is refused, not damaged.
//! * Retention (by age and by row count) runs from [`BatchSink::maintain`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_core::SecurityEvent;
use rusqlite::{Connection, OpenFlags, params};

use crate::error::{EventsError, Result};
use crate::schema::{
    EncodedEvent, Retention, SQLITE_MIGRATIONS, check_migratable_version, check_readable_version,
};
use crate::sink::BatchSink;
use crate::sql::Conn;

/// File name of the store inside the data directory.
pub const DEFAULT_DB_FILE: &str = "events.sqlite3";

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> EventsError {
    move |source| EventsError::sqlite(context, source)
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(sql("cannot set busy timeout"))?;
    Ok(())
}

fn schema_version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(sql("cannot read schema version"))
}

/// Runs the migrations `conn` lacks, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<()> {
    let found = schema_version(conn)?;
    check_migratable_version(found)?;
    for (index, migration) in SQLITE_MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction().map_err(sql("cannot start migration"))?;
        tx.execute_batch(migration)
            .map_err(sql("migration failed"))?;
        tx.pragma_update(None, "user_version", index as i64 + 1)
            .map_err(sql("cannot record schema version"))?;
        tx.commit().map_err(sql("cannot commit migration"))?;
    }
    Ok(())
}

/// Opens an existing store read-only, checking its schema version.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(sql("cannot open event database"))?;
    configure(&conn)?;
    check_readable_version(schema_version(&conn)?)?;
    Ok(conn)
}

/// The SQLite event store (the writing side; queries go through
/// [`crate::EventReader`]).
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Connection,
    retention: Retention,
}

const INSERT_EVENT: &str =
    "INSERT INTO events (ts_ms, action, category, outcome, severity, request_id,
    source_ip, route, user_name, url_path, message, rule_ids, fields)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
const INSERT_RULE: &str = "INSERT OR IGNORE INTO event_rules (event_id, rule_id) VALUES (?1, ?2)";

impl SqliteStore {
    /// Opens or creates the store at `path` (parent directories included),
    /// switches it to WAL and migrates it to [`crate::SCHEMA_VERSION`].
    pub fn open(path: impl AsRef<Path>, retention: Retention) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| EventsError::io("cannot create directory for", parent, e))?;
        }
        let mut conn = Connection::open(&path).map_err(sql("cannot open event database"))?;
        configure(&conn)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(sql("cannot switch to WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(EventsError::invalid_value(
                "journal mode (WAL needed)",
                mode,
            ));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql("cannot set synchronous mode"))?;
        // 32 MiB page cache: the four indexes stay resident while batches land.
        conn.pragma_update(None, "cache_size", -32_768)
            .map_err(sql("cannot set cache size"))?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            path,
            conn,
            retention,
        })
    }

    /// Opens or creates `data_dir/events.sqlite3`.
    pub fn open_in(data_dir: impl AsRef<Path>, retention: Retention) -> Result<Self> {
        Self::open(data_dir.as_ref().join(DEFAULT_DB_FILE), retention)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn into_connection(self) -> Connection {
        self.conn
    }

    /// Inserts a batch in one transaction.
    pub fn insert(&mut self, events: &[SecurityEvent]) -> Result<()> {
        let tx = self
            .conn
            .transaction()
            .map_err(sql("cannot start insert"))?;
        {
            let mut insert_event = tx
                .prepare_cached(INSERT_EVENT)
                .map_err(sql("cannot prepare insert"))?;
            let mut insert_rule = tx
                .prepare_cached(INSERT_RULE)
                .map_err(sql("cannot prepare insert"))?;
            for event in events {
                let row = EncodedEvent::new(event)?;
                let id = insert_event
                    .insert(params![
                        row.ts_ms,
                        row.action,
                        row.category,
                        row.outcome,
                        row.severity,
                        row.request_id,
                        row.source_ip,
                        row.route,
                        row.user_name,
                        row.url_path,
                        row.message,
                        row.rule_ids,
                        row.fields,
                    ])
                    .map_err(sql("cannot insert event"))?;
                for rule in &event.rule_ids {
                    insert_rule
                        .execute(params![id, rule])
                        .map_err(sql("cannot insert event rule"))?;
                }
            }
        }
        tx.commit().map_err(sql("cannot commit events"))
    }

    /// Deletes events past the retention limits; returns how many went.
    pub fn enforce_retention(&mut self, now_ms: i64) -> Result<u64> {
        Conn::Sqlite(&self.conn).enforce_retention(&self.retention, now_ms)
    }
}

impl BatchSink for SqliteStore {
    fn name(&self) -> &str {
        "sqlite"
    }

    fn write_batch(&mut self, events: &[SecurityEvent]) -> Result<()> {
        self.insert(events)
    }

    fn maintain(&mut self, now_ms: i64) -> Result<()> {
        let deleted = self.enforce_retention(now_ms)?;
        if deleted > 0 {
            tracing::debug!(deleted, "event retention applied");
        }
        Ok(())
    }
}
