//! What the SQLite and the PostgreSQL stores share: the tables (one migration
//! list, spelled per dialect), the encoding of an event into a row, and the
//! decoding of a row back into an event.
//!
//! * One row per event in `events`; `rule_ids` is kept as a JSON array on the
//!   row for reading, and one row per (event, rule) in `event_rules` for
//!   filtering and statistics. `user.name` and `url.path` from the event's
//!   fields are lifted into their own columns; the other fields are a JSON
//!   object.
//! * Schema changes are an append-only list of migrations; migration `i`
//!   brings the schema from version `i` to `i + 1`. Both stores have the same
//!   versions.

use std::collections::BTreeMap;
use std::time::Duration;

use palisade_core::SecurityEvent;
use serde_json::Value;

use crate::ecs::{outcome_name, parse_outcome, severity_from_rank, severity_rank};
use crate::error::{ErrorKind, EventsError, Result};

/// Field keys lifted out of `SecurityEvent::fields` into their own columns.
pub(crate) const USER_FIELD: &str = "user.name";
pub(crate) const PATH_FIELD: &str = "url.path";

/// The migrations in one dialect: `$id` is the auto-increment primary key,
/// `$int` the 64-bit integer type, `$rules_table` what follows the
/// `event_rules` definition.
macro_rules! migrations {
    ($id:literal, $int:literal, $rules_table:literal) => {
        [
            // v1: events, rules per event, indexes on time/action/source ip/rule id.
            concat!(
                "CREATE TABLE events (
        id          ",
                $id,
                ",
        ts_ms       ",
                $int,
                " NOT NULL,
        action      TEXT NOT NULL,
        category    TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        severity    ",
                $int,
                " NOT NULL,
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
        event_id ",
                $int,
                " NOT NULL,
        rule_id  TEXT NOT NULL,
        PRIMARY KEY (event_id, rule_id)
    )",
                $rules_table,
                ";
    CREATE INDEX event_rules_rule ON event_rules (rule_id, event_id);"
            ),
            // v2: persisted state of the anomaly monitor (baselines), one JSON value per key.
            concat!(
                "CREATE TABLE monitor_state (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_ms ",
                $int,
                " NOT NULL
    );"
            ),
            // v3: the source-ip index keyed by id segment first (see `SOURCE_IP_CONDITION`), so a
            // batch's index entries land in the last few pages instead of all over the index.
            "DROP INDEX events_source_ip_ts;
    CREATE INDEX events_ip_segment ON events ((id >> 12), source_ip);",
        ]
    };
}

/// The condition selecting the events of one source ip, `$ip` standing for
/// the bound address; the same text in both dialects.
///
/// The source-ip index (migration v3) is keyed by (id segment, address), a
/// segment being 4,096 consecutive ids (`id >> 12`). An index keyed by address
/// first receives a batch's entries at as many places as the batch has
/// addresses, and every touched page is rewritten into the WAL on commit: with
/// the many addresses of a scan or a botnet that cost ~4 KiB of writes per
/// event and held steady-state SQLite ingestion near 35,000 events/s. Keyed by
/// segment first, a batch touches only the current segment's few pages. This
/// condition walks the segments from the first id to the last and seeks
/// (segment, address) in each: ~1,200 seeks for five million events.
pub(crate) const SOURCE_IP_CONDITION: &str = "events.id IN (
    WITH RECURSIVE segment(n) AS (
        SELECT (SELECT MIN(id) FROM events) >> 12
        UNION ALL
        SELECT n + 1 FROM segment WHERE n < (SELECT MAX(id) FROM events) >> 12)
    SELECT e.id FROM segment JOIN events e ON (e.id >> 12) = segment.n AND e.source_ip = $ip)";

/// The migrations of the SQLite store (`id` is the rowid).
pub(crate) const SQLITE_MIGRATIONS: &[&str] =
    &migrations!("INTEGER PRIMARY KEY", "INTEGER", " WITHOUT ROWID");

/// The migrations of the PostgreSQL store.
pub(crate) const POSTGRES_MIGRATIONS: &[&str] = &migrations!("BIGSERIAL PRIMARY KEY", "BIGINT", "");

/// The schema version this build writes and reads, in either store.
pub const SCHEMA_VERSION: i64 = SQLITE_MIGRATIONS.len() as i64;

const _: () = assert!(SQLITE_MIGRATIONS.len() == POSTGRES_MIGRATIONS.len());

/// Refuses a store whose schema is not this build's (a reader never migrates).
pub(crate) fn check_readable_version(found: i64) -> Result<()> {
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
    Ok(())
}

/// Refuses to migrate a store written by a newer build.
pub(crate) fn check_migratable_version(found: i64) -> Result<()> {
    if found > SCHEMA_VERSION {
        return Err(ErrorKind::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        }
        .into());
    }
    Ok(())
}

/// How long and how many events a store keeps. `None` disables a limit.
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

/// The columns of an event row, in the order `RawRow`'s [`FromColumns::read`] expects,
/// qualified for joins.
pub(crate) const EVENT_COLUMNS: &str = "events.id, events.ts_ms, events.action, events.category, events.outcome,
    events.severity, events.request_id, events.source_ip, events.route, events.user_name, events.url_path,
    events.message, events.rule_ids, events.fields";

/// An event as the column values of its row (without the id).
pub(crate) struct EncodedEvent<'a> {
    pub(crate) ts_ms: i64,
    pub(crate) action: &'a str,
    pub(crate) category: &'a str,
    pub(crate) outcome: &'static str,
    pub(crate) severity: i64,
    pub(crate) request_id: Option<&'a str>,
    pub(crate) source_ip: Option<String>,
    pub(crate) route: Option<&'a str>,
    pub(crate) user_name: Option<&'a str>,
    pub(crate) url_path: Option<&'a str>,
    pub(crate) message: &'a str,
    /// JSON array.
    pub(crate) rule_ids: String,
    /// JSON object of the fields not lifted into columns.
    pub(crate) fields: String,
}

impl<'a> EncodedEvent<'a> {
    pub(crate) fn new(event: &'a SecurityEvent) -> Result<Self> {
        Ok(EncodedEvent {
            ts_ms: event.timestamp_ms,
            action: &event.action,
            category: &event.category,
            outcome: outcome_name(event.outcome),
            severity: severity_rank(event.severity),
            request_id: event.request_id.as_deref(),
            source_ip: event.source_ip.map(|ip| ip.to_string()),
            route: event.route.as_deref(),
            user_name: lifted_string(&event.fields, USER_FIELD),
            url_path: lifted_string(&event.fields, PATH_FIELD),
            message: &event.message,
            rule_ids: serde_json::to_string(&event.rule_ids).map_err(ErrorKind::Encode)?,
            fields: serde_json::to_string(&UnliftedFields(&event.fields))
                .map_err(ErrorKind::Encode)?,
        })
    }
}

/// A field kept in its own column: only string values are lifted.
fn lifted_string<'a>(fields: &'a BTreeMap<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str)
}

/// Serializes the fields without those lifted into columns (no copy).
struct UnliftedFields<'a>(&'a BTreeMap<String, Value>);

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

/// A result row of either driver, read by column index.
pub(crate) trait Columns {
    type Error;
    fn int(&self, index: usize) -> std::result::Result<i64, Self::Error>;
    fn text(&self, index: usize) -> std::result::Result<String, Self::Error>;
    fn opt_text(&self, index: usize) -> std::result::Result<Option<String>, Self::Error>;
}

impl Columns for rusqlite::Row<'_> {
    type Error = rusqlite::Error;
    fn int(&self, index: usize) -> rusqlite::Result<i64> {
        self.get(index)
    }
    fn text(&self, index: usize) -> rusqlite::Result<String> {
        self.get(index)
    }
    fn opt_text(&self, index: usize) -> rusqlite::Result<Option<String>> {
        self.get(index)
    }
}

impl Columns for postgres::Row {
    type Error = postgres::Error;
    fn int(&self, index: usize) -> std::result::Result<i64, postgres::Error> {
        self.try_get(index)
    }
    fn text(&self, index: usize) -> std::result::Result<String, postgres::Error> {
        self.try_get(index)
    }
    fn opt_text(&self, index: usize) -> std::result::Result<Option<String>, postgres::Error> {
        self.try_get(index)
    }
}

/// A value made from a result row of either driver.
pub(crate) trait FromColumns: Sized {
    fn read<R: Columns>(row: &R) -> std::result::Result<Self, R::Error>;
}

/// The integer in the first column.
impl FromColumns for i64 {
    fn read<R: Columns>(row: &R) -> std::result::Result<Self, R::Error> {
        row.int(0)
    }
}

/// A text and a count (the first two columns).
impl FromColumns for (String, i64) {
    fn read<R: Columns>(row: &R) -> std::result::Result<Self, R::Error> {
        Ok((row.text(0)?, row.int(1)?))
    }
}

/// The columns of [`EVENT_COLUMNS`] as read; decoded by [`RawRow::decode`]
/// outside the driver's callback, so errors stay typed.
pub(crate) struct RawRow {
    id: i64,
    ts_ms: i64,
    action: String,
    category: String,
    outcome: String,
    severity: i64,
    request_id: Option<String>,
    source_ip: Option<String>,
    route: Option<String>,
    user_name: Option<String>,
    url_path: Option<String>,
    message: String,
    rule_ids: String,
    fields: String,
}

/// Reads the columns of [`EVENT_COLUMNS`].
impl FromColumns for RawRow {
    fn read<R: Columns>(row: &R) -> std::result::Result<RawRow, R::Error> {
        Ok(RawRow {
            id: row.int(0)?,
            ts_ms: row.int(1)?,
            action: row.text(2)?,
            category: row.text(3)?,
            outcome: row.text(4)?,
            severity: row.int(5)?,
            request_id: row.opt_text(6)?,
            source_ip: row.opt_text(7)?,
            route: row.opt_text(8)?,
            user_name: row.opt_text(9)?,
            url_path: row.opt_text(10)?,
            message: row.text(11)?,
            rule_ids: row.text(12)?,
            fields: row.text(13)?,
        })
    }
}

impl RawRow {
    /// The stored id and the event.
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
