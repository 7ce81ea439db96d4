//! Queries over the SQLite store for `palisade events tail|search|stats`.
//!
//! Every query takes one [`EventFilter`]; conditions combine with AND. Results
//! are in chronological order (oldest first), so a table reads like a log.
//! `search` returns the newest `limit` matches; `follow` returns what was
//! inserted after a given id, which is what `tail --follow` polls.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use palisade_core::{SecurityEvent, Severity};
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;

use crate::ecs::severity_rank;
use crate::error::{EventsError, Result};
use crate::sqlite::{DEFAULT_DB_FILE, EVENT_COLUMNS, open_read_only, read_row};

/// Default and maximum number of events one query returns.
pub const DEFAULT_LIMIT: usize = 100;
/// Upper bound on `limit`, so one query cannot load the whole store.
pub const MAX_LIMIT: usize = 100_000;

/// Which events a query selects. `Default` selects everything (newest
/// [`DEFAULT_LIMIT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    /// Inclusive lower bound, ms since the Unix epoch.
    pub since: Option<i64>,
    /// Exclusive upper bound, ms since the Unix epoch.
    pub until: Option<i64>,
    /// Exact OWASP vocabulary action (`malicious_sqli`).
    pub action: Option<String>,
    /// Exact client address.
    pub source_ip: Option<IpAddr>,
    /// Exact `user.name`.
    pub user: Option<String>,
    /// Events that involved this rule id.
    pub rule_id: Option<String>,
    /// Exact route name.
    pub route: Option<String>,
    /// This severity or higher.
    pub min_severity: Option<Severity>,
    /// At most this many events (capped at [`MAX_LIMIT`]).
    pub limit: usize,
}

impl Default for EventFilter {
    fn default() -> Self {
        EventFilter {
            since: None,
            until: None,
            action: None,
            source_ip: None,
            user: None,
            rule_id: None,
            route: None,
            min_severity: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl EventFilter {
    /// Events of the last `period` (e.g. `stats` over the last hour).
    pub fn last(period: Duration) -> Self {
        let period_ms = i64::try_from(period.as_millis()).unwrap_or(i64::MAX);
        EventFilter {
            since: Some(now_ms().saturating_sub(period_ms)),
            ..EventFilter::default()
        }
    }

    /// The SQL WHERE clause (starting with ` WHERE`, or empty) and its values.
    fn where_clause(&self) -> (String, Vec<SqlValue>) {
        let mut conditions: Vec<&str> = Vec::new();
        let mut values: Vec<SqlValue> = Vec::new();
        let mut text = |condition, value: &Option<String>, values: &mut Vec<SqlValue>| {
            if let Some(value) = value {
                conditions.push(condition);
                values.push(SqlValue::Text(value.clone()));
            }
        };
        text("events.action = ?", &self.action, &mut values);
        text("events.user_name = ?", &self.user, &mut values);
        text("events.route = ?", &self.route, &mut values);
        text(
            "events.source_ip = ?",
            &self.source_ip.map(|ip| ip.to_string()),
            &mut values,
        );
        text(
            "EXISTS (SELECT 1 FROM event_rules r WHERE r.event_id = events.id AND r.rule_id = ?)",
            &self.rule_id,
            &mut values,
        );
        if let Some(since) = self.since {
            conditions.push("events.ts_ms >= ?");
            values.push(SqlValue::Integer(since));
        }
        if let Some(until) = self.until {
            conditions.push("events.ts_ms < ?");
            values.push(SqlValue::Integer(until));
        }
        if let Some(severity) = self.min_severity {
            conditions.push("events.severity >= ?");
            values.push(SqlValue::Integer(severity_rank(severity)));
        }
        if conditions.is_empty() {
            (String::new(), values)
        } else {
            (format!(" WHERE {}", conditions.join(" AND ")), values)
        }
    }

    fn sql_limit(&self) -> i64 {
        self.limit.min(MAX_LIMIT) as i64
    }
}

/// An event as stored, with its store id (insertion order).
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Row id; grows with insertion (not necessarily with time: spooled events
    /// are inserted late).
    pub id: i64,
    /// The event.
    pub event: SecurityEvent,
}

/// A value and how many events had it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CountedValue {
    /// The value (IP address, rule id, path, user, action, severity name).
    pub value: String,
    /// Number of events.
    pub count: u64,
}

/// Aggregates over the events a filter selects.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventStats {
    /// Events matched.
    pub total: u64,
    /// Count per severity, highest first, only severities that occur.
    pub by_severity: Vec<CountedValue>,
    /// Most frequent actions.
    pub top_actions: Vec<CountedValue>,
    /// Most frequent client addresses.
    pub top_source_ips: Vec<CountedValue>,
    /// Most frequent rule ids.
    pub top_rules: Vec<CountedValue>,
    /// Most frequent `url.path` values.
    pub top_paths: Vec<CountedValue>,
    /// Most frequent `user.name` values.
    pub top_users: Vec<CountedValue>,
}

/// Read-only access to a SQLite event store.
#[derive(Debug)]
pub struct EventReader {
    path: PathBuf,
    conn: Connection,
}

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> EventsError {
    move |source| EventsError::sqlite(context, source)
}

impl EventReader {
    /// Opens an existing store read-only. Fails if it does not exist or its
    /// schema is not this build's.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = open_read_only(&path)?;
        Ok(EventReader { path, conn })
    }

    /// Opens `data_dir/events.sqlite3`.
    pub fn open_in(data_dir: impl AsRef<Path>) -> Result<Self> {
        Self::open(data_dir.as_ref().join(DEFAULT_DB_FILE))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn select(&self, sql_text: &str, values: Vec<SqlValue>) -> Result<Vec<StoredEvent>> {
        let mut statement = self
            .conn
            .prepare(sql_text)
            .map_err(sql("cannot prepare query"))?;
        let raw = statement
            .query_map(rusqlite::params_from_iter(values), read_row)
            .map_err(sql("cannot run query"))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql("cannot read query results"))?;
        raw.into_iter()
            .map(|row| row.decode().map(|(id, event)| StoredEvent { id, event }))
            .collect()
    }

    /// The newest `filter.limit` matching events, oldest first.
    pub fn search(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>> {
        let (clause, mut values) = filter.where_clause();
        values.push(SqlValue::Integer(filter.sql_limit()));
        let query = format!(
            "SELECT {EVENT_COLUMNS} FROM events{clause} ORDER BY events.ts_ms DESC, events.id DESC LIMIT ?"
        );
        let mut events = self.select(&query, values)?;
        events.reverse();
        Ok(events)
    }

    /// The last `filter.limit` matching events (by insertion), oldest first: the
    /// start of `tail`. Continue with [`EventReader::follow`] from the last id.
    pub fn tail(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>> {
        let (clause, mut values) = filter.where_clause();
        values.push(SqlValue::Integer(filter.sql_limit()));
        let query =
            format!("SELECT {EVENT_COLUMNS} FROM events{clause} ORDER BY events.id DESC LIMIT ?");
        let mut events = self.select(&query, values)?;
        events.reverse();
        Ok(events)
    }

    /// Matching events inserted after `after_id`, in insertion order, at most
    /// `filter.limit`.
    pub fn follow(&self, filter: &EventFilter, after_id: i64) -> Result<Vec<StoredEvent>> {
        let (clause, mut values) = filter.where_clause();
        let joiner = if clause.is_empty() { " WHERE" } else { " AND" };
        values.push(SqlValue::Integer(after_id));
        values.push(SqlValue::Integer(filter.sql_limit()));
        let query = format!(
            "SELECT {EVENT_COLUMNS} FROM events{clause}{joiner} events.id > ? ORDER BY events.id LIMIT ?"
        );
        self.select(&query, values)
    }

    /// The highest event id in the store (0 when empty): where `tail --follow`
    /// without a backlog starts.
    pub fn last_id(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |row| {
                row.get(0)
            })
            .map_err(sql("cannot read last event id"))
    }

    /// Aggregates over the matching events (`filter.limit` is ignored); each
    /// top list holds at most `top_n` entries, most frequent first.
    pub fn stats(&self, filter: &EventFilter, top_n: usize) -> Result<EventStats> {
        let (clause, values) = filter.where_clause();
        let total: i64 = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM events{clause}"),
                rusqlite::params_from_iter(values.clone()),
                |row| row.get(0),
            )
            .map_err(sql("cannot count events"))?;
        let top_n = top_n.min(MAX_LIMIT) as i64;
        let top = |expression: &str,
                   from: &str,
                   not_null: &str,
                   limit: i64|
         -> Result<Vec<CountedValue>> {
            let joiner = if clause.is_empty() { " WHERE" } else { " AND" };
            let query = format!(
                "SELECT {expression}, COUNT(*) AS n FROM {from}{clause}{joiner} {not_null} IS NOT NULL
                 GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?"
            );
            let mut params = values.clone();
            params.push(SqlValue::Integer(limit));
            let mut statement = self
                .conn
                .prepare(&query)
                .map_err(sql("cannot prepare statistics"))?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(params), |row| {
                    Ok((row.get::<_, SqlValue>(0)?, row.get::<_, i64>(1)?))
                })
                .map_err(sql("cannot compute statistics"))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql("cannot compute statistics"))?;
            Ok(rows
                .into_iter()
                .map(|(value, count)| CountedValue {
                    value: match value {
                        SqlValue::Text(text) => text,
                        SqlValue::Integer(rank) => crate::ecs::severity_from_rank(rank)
                            .map_or_else(
                                || rank.to_string(),
                                |s| crate::ecs::severity_name(s).to_owned(),
                            ),
                        other => format!("{other:?}"),
                    },
                    count: count as u64,
                })
                .collect())
        };
        let mut by_severity = top(
            "events.severity",
            "events",
            "events.severity",
            crate::ecs::SEVERITIES.len() as i64,
        )?;
        by_severity.sort_by_key(|c| {
            std::cmp::Reverse(
                crate::ecs::parse_severity(&c.value)
                    .map(severity_rank)
                    .unwrap_or(-1),
            )
        });
        Ok(EventStats {
            total: total as u64,
            by_severity,
            top_actions: top("events.action", "events", "events.action", top_n)?,
            top_source_ips: top("events.source_ip", "events", "events.source_ip", top_n)?,
            top_rules: top(
                "event_rules.rule_id",
                "event_rules JOIN events ON events.id = event_rules.event_id",
                "event_rules.rule_id",
                top_n,
            )?,
            top_paths: top("events.url_path", "events", "events.url_path", top_n)?,
            top_users: top("events.user_name", "events", "events.user_name", top_n)?,
        })
    }
}

/// Polls a store for new matching events: the loop behind `tail --follow`.
#[derive(Debug)]
pub struct TailFollower {
    reader: EventReader,
    filter: EventFilter,
    last_id: i64,
    poll_interval: Duration,
}

impl TailFollower {
    /// Follows events inserted after `after_id` (use the last id of
    /// [`EventReader::tail`], or [`EventReader::last_id`]).
    pub fn new(
        reader: EventReader,
        filter: EventFilter,
        after_id: i64,
        poll_interval: Duration,
    ) -> Self {
        TailFollower {
            reader,
            filter,
            last_id: after_id,
            poll_interval,
        }
    }

    /// New events now, possibly none; never waits.
    pub fn poll(&mut self) -> Result<Vec<StoredEvent>> {
        let events = self.reader.follow(&self.filter, self.last_id)?;
        if let Some(last) = events.last() {
            self.last_id = last.id;
        }
        Ok(events)
    }

    /// Waits (sleeping `poll_interval` between polls) until new events arrive or
    /// `stop` returns true; then returns what arrived (empty when stopped).
    pub fn wait(&mut self, mut stop: impl FnMut() -> bool) -> Result<Vec<StoredEvent>> {
        loop {
            let events = self.poll()?;
            if !events.is_empty() || stop() {
                return Ok(events);
            }
            std::thread::sleep(self.poll_interval);
        }
    }
}
