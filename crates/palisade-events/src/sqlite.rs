//! The embedded SQLite event store: schema, versioned migrations, batched
//! inserts and retention.
//!
//! Design notes:
//! * WAL journal with `synchronous=NORMAL`: a committed batch survives a crash
//!   of the process (not necessarily a power loss), and readers (`palisade events
//!   tail`) never block the writer.
//! * Schema changes are an append-only list of migrations; `PRAGMA user_version`
//!   records how many ran. A database from a newer build is refused, not damaged.
//! * One row per event in `events`; `rule_ids` is kept as a JSON array on the row
//!   for reading, and one row per (event, rule) in `event_rules` for filtering and
//!   statistics. `user.name` and `url.path` from the event's fields are lifted into
//!   indexed-ready columns; the other fields are a JSON object.
//! * Retention (by age and by row count) runs from [`BatchSink::maintain`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_core::SecurityEvent;
use rusqlite::{Connection, OpenFlags, Row, params};
use serde_json::Value;

use crate::ecs::{outcome_name, parse_outcome, severity_from_rank, severity_rank};
use crate::error::{ErrorKind, EventsError, Result};
use crate::sink::BatchSink;

/// File name of the store inside the data directory.
pub const DEFAULT_DB_FILE: &str = "events.sqlite3";

/// Field keys lifted out of `SecurityEvent::fields` into their own columns.
pub(crate) const USER_FIELD: &str = "user.name";
pub(crate) const PATH_FIELD: &str = "url.path";

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // v1: events, rules per event, indexes on time/action/source ip/rule id.
    "CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        ts_ms       INTEGER NOT NULL,
        action      TEXT NOT NULL,
        category    TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        severity    INTEGER NOT NULL,
        request_id  TEXT,
        source_ip   TEXT,
        route       TEXT,
        user_name   TEXT,
        url_path    TEXT,
        message     TEXT NOT NULL,
        rule_ids    TEXT NOT NULL,
        fields      TEXT NOT NULL
    );
    CREATE INDEX events_ts ON events (ts_ms);
    CREATE INDEX events_action_ts ON events (action, ts_ms);
    CREATE INDEX events_source_ip_ts ON events (source_ip, ts_ms);
    CREATE TABLE event_rules (
        event_id INTEGER NOT NULL,
        rule_id  TEXT NOT NULL,
        PRIMARY KEY (event_id, rule_id)
    ) WITHOUT ROWID;
    CREATE INDEX event_rules_rule ON event_rules (rule_id, event_id);",
    // v2: persisted state of the anomaly monitor (baselines), one JSON value per key.
    "CREATE TABLE monitor_state (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
    );",
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long and how many events the store keeps. `None` disables a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Events older than this are deleted.
    pub max_age: Option<Duration>,
    /// Only the newest this many events (by insertion) are kept.
    pub max_rows: Option<u64>,
}

impl Default for Retention {
    /// 30 days, at most 5,000,000 events.
    fn default() -> Self {
        Retention {
            max_age: Some(Duration::from_secs(30 * 24 * 3600)),
            max_rows: Some(5_000_000),
        }
    }
}

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
    if found > SCHEMA_VERSION {
        return Err(ErrorKind::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        }
        .into());
    }
    for (index, migration) in MIGRATIONS
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
    let found = schema_version(&conn)?;
    if found > SCHEMA_VERSION {
        return Err(ErrorKind::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        }
        .into());
    }
    if found < SCHEMA_VERSION {
        return Err(ErrorKind::SchemaOutdated {
            found,
            expected: SCHEMA_VERSION,
        }
        .into());
    }
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
    /// switches it to WAL and migrates it to [`SCHEMA_VERSION`].
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
                let user = lifted_string(&event.fields, USER_FIELD);
                let path = lifted_string(&event.fields, PATH_FIELD);
                let fields_json = serde_json::to_string(&UnliftedFields(&event.fields))
                    .map_err(ErrorKind::Encode)?;
                let rules_json =
                    serde_json::to_string(&event.rule_ids).map_err(ErrorKind::Encode)?;
                let id = insert_event
                    .insert(params![
                        event.timestamp_ms,
                        event.action,
                        event.category,
                        outcome_name(event.outcome),
                        severity_rank(event.severity),
                        event.request_id,
                        event.source_ip.map(|ip| ip.to_string()),
                        event.route,
                        user,
                        path,
                        event.message,
                        rules_json,
                        fields_json,
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
        let tx = self
            .conn
            .transaction()
            .map_err(sql("cannot start retention"))?;
        let mut deleted = 0;
        if let Some(max_age) = self.retention.max_age {
            let cutoff =
                now_ms.saturating_sub(i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX));
            tx.execute(
                "DELETE FROM event_rules WHERE event_id IN (SELECT id FROM events WHERE ts_ms < ?1)",
                [cutoff],
            )
            .map_err(sql("cannot apply retention"))?;
            deleted += tx
                .execute("DELETE FROM events WHERE ts_ms < ?1", [cutoff])
                .map_err(sql("cannot apply retention"))?;
        }
        if let Some(max_rows) = self.retention.max_rows {
            let offset = i64::try_from(max_rows).unwrap_or(i64::MAX);
            let newest_dropped: Option<i64> = tx
                .query_row(
                    "SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?1",
                    [offset],
                    |row| row.get(0),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })
                .map_err(sql("cannot apply retention"))?;
            if let Some(id) = newest_dropped {
                tx.execute("DELETE FROM event_rules WHERE event_id <= ?1", [id])
                    .map_err(sql("cannot apply retention"))?;
                deleted += tx
                    .execute("DELETE FROM events WHERE id <= ?1", [id])
                    .map_err(sql("cannot apply retention"))?;
            }
        }
        tx.commit().map_err(sql("cannot commit retention"))?;
        Ok(deleted as u64)
    }
}

/// A field kept in its own column: only string values are lifted.
pub(crate) fn lifted_string<'a>(fields: &'a BTreeMap<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str)
}

/// Serializes the fields without those lifted into columns (no copy).
pub(crate) struct UnliftedFields<'a>(pub(crate) &'a BTreeMap<String, Value>);

impl serde::Serialize for UnliftedFields<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_map(
            self.0
                .iter()
                .filter(|(key, value)| !(is_lifted_key(key) && value.is_string())),
        )
    }
}

fn is_lifted_key(key: &str) -> bool {
    key == USER_FIELD || key == PATH_FIELD
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

/// Columns selected for [`decode_row`], qualified for joins.
pub(crate) const EVENT_COLUMNS: &str = "events.id, events.ts_ms, events.action, events.category, events.outcome,
    events.severity, events.request_id, events.source_ip, events.route, events.user_name, events.url_path,
    events.message, events.rule_ids, events.fields";

/// Row data read inside a rusqlite callback; decoded outside so errors stay typed.
pub(crate) struct RawRow {
    pub(crate) id: i64,
    pub(crate) ts_ms: i64,
    pub(crate) action: String,
    pub(crate) category: String,
    pub(crate) outcome: String,
    pub(crate) severity: i64,
    pub(crate) request_id: Option<String>,
    pub(crate) source_ip: Option<String>,
    pub(crate) route: Option<String>,
    pub(crate) user_name: Option<String>,
    pub(crate) url_path: Option<String>,
    pub(crate) message: String,
    pub(crate) rule_ids: String,
    pub(crate) fields: String,
}

pub(crate) fn read_row(row: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        id: row.get(0)?,
        ts_ms: row.get(1)?,
        action: row.get(2)?,
        category: row.get(3)?,
        outcome: row.get(4)?,
        severity: row.get(5)?,
        request_id: row.get(6)?,
        source_ip: row.get(7)?,
        route: row.get(8)?,
        user_name: row.get(9)?,
        url_path: row.get(10)?,
        message: row.get(11)?,
        rule_ids: row.get(12)?,
        fields: row.get(13)?,
    })
}

impl RawRow {
    pub(crate) fn decode(self) -> Result<(i64, SecurityEvent)> {
        let id = self.id;
        let bad = |reason: String| EventsError::from(ErrorKind::InvalidStoredEvent { id, reason });
        let outcome = parse_outcome(&self.outcome)
            .ok_or_else(|| bad(format!("outcome {:?}", self.outcome)))?;
        let severity = severity_from_rank(self.severity)
            .ok_or_else(|| bad(format!("severity {}", self.severity)))?;
        let source_ip = match self.source_ip {
            None => None,
            Some(text) => Some(
                text.parse()
                    .map_err(|_| bad(format!("source ip {text:?}")))?,
            ),
        };
        let rule_ids: Vec<String> =
            serde_json::from_str(&self.rule_ids).map_err(|e| bad(format!("rule ids: {e}")))?;
        let mut fields: BTreeMap<String, Value> =
            serde_json::from_str(&self.fields).map_err(|e| bad(format!("fields: {e}")))?;
        if let Some(user) = self.user_name {
            fields.insert(USER_FIELD.to_owned(), Value::String(user));
        }
        if let Some(path) = self.url_path {
            fields.insert(PATH_FIELD.to_owned(), Value::String(path));
        }
        Ok((
            id,
            SecurityEvent {
                timestamp_ms: self.ts_ms,
                action: self.action,
                category: self.category,
                outcome,
                severity,
                request_id: self.request_id,
                source_ip,
                route: self.route,
                message: self.message,
                rule_ids,
                fields,
            },
        ))
    }
}
