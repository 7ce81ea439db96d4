//! Queries over either event store for `palisade events tail|search|stats`.
//!
//! One [`EventReader`] API over the SQLite file ([`EventReader::open`]) and
//! PostgreSQL ([`EventReader::connect_postgres`]); every query is written once
//! (numbered placeholders, see `sql`) and runs on whichever connection the
//! reader holds, so both stores answer the same filters the same way.
//!
//! Every query takes one [`EventFilter`]; conditions combine with AND. Results
//! are in chronological order (oldest first), so a table reads like a log.
//! `search` returns the newest `limit` matches; `follow` returns what was
//! inserted after a given id, which is what `tail --follow` polls.

use std::cell::RefCell;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use palisade_core::{SecurityEvent, Severity};
use rusqlite::Connection;

use crate::ecs::{SEVERITIES, parse_severity, severity_from_rank, severity_name, severity_rank};
use crate::error::Result;
use crate::schema::EVENT_COLUMNS;
use crate::sql::{Conn, Param, Query};
use crate::sqlite::{DEFAULT_DB_FILE, open_read_only};

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

    /// The filter's conditions, their values bound to `query`.
    fn conditions(&self, query: &mut Query) -> Vec<String> {
        let mut conditions = Vec::new();
        let mut text = |condition: &str, value: Option<String>| {
            if let Some(value) = value {
                let placeholder = query.bind(Param::Text(value));
                conditions.push(condition.replace('?', &placeholder));
            }
        };
        text("events.action = ?", self.action.clone());
        text("events.user_name = ?", self.user.clone());
        text("events.route = ?", self.route.clone());
        text(
            "events.source_ip = ?",
            self.source_ip.map(|ip| ip.to_string()),
        );
        text(
            "EXISTS (SELECT 1 FROM event_rules r WHERE r.event_id = events.id AND r.rule_id = ?)",
            self.rule_id.clone(),
        );
        let mut int = |condition: &str, value: Option<i64>| {
            if let Some(value) = value {
                let placeholder = query.bind(Param::Int(value));
                conditions.push(condition.replace('?', &placeholder));
            }
        };
        int("events.ts_ms >= ?", self.since);
        int("events.ts_ms < ?", self.until);
        int("events.severity >= ?", self.min_severity.map(severity_rank));
        conditions
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

/// Read-only access to an event store, SQLite or PostgreSQL: the queries of
/// `palisade events`.
pub struct EventReader {
    store: Store,
}

enum Store {
    Sqlite {
        path: PathBuf,
        conn: Connection,
    },
    /// `RefCell`: the driver needs `&mut` for a query; a reader is used by one
    /// thread at a time.
    Postgres {
        host: String,
        client: RefCell<postgres::Client>,
    },
}

impl std::fmt::Debug for EventReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventReader")
            .field("store", &self.describe())
            .finish_non_exhaustive()
    }
}

impl EventReader {
    /// Opens an existing SQLite store read-only. Fails if it does not exist or
    /// its schema is not this build's.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = open_read_only(&path)?;
        Ok(EventReader {
            store: Store::Sqlite { path, conn },
        })
    }

    /// Opens `data_dir/events.sqlite3`.
    pub fn open_in(data_dir: impl AsRef<Path>) -> Result<Self> {
        Self::open(data_dir.as_ref().join(DEFAULT_DB_FILE))
    }

    /// Connects read-only to the PostgreSQL store at `url` (in `schema` when
    /// given), as [`crate::PostgresStore`] writes it. Nothing is created or
    /// migrated; fails if there is no store or its schema is not this build's.
    pub fn connect_postgres(url: &str, schema: Option<&str>) -> Result<Self> {
        let (client, host) = crate::postgres_store::connect_reader(url, schema)?;
        Ok(EventReader {
            store: Store::Postgres {
                host,
                client: RefCell::new(client),
            },
        })
    }

    /// The SQLite database file (`None` for PostgreSQL).
    pub fn path(&self) -> Option<&Path> {
        match &self.store {
            Store::Sqlite { path, .. } => Some(path),
            Store::Postgres { .. } => None,
        }
    }

    /// Where the events are read from: the SQLite file, or the PostgreSQL
    /// server (without credentials).
    pub fn describe(&self) -> String {
        match &self.store {
            Store::Sqlite { path, .. } => path.display().to_string(),
            Store::Postgres { host, .. } => host.clone(),
        }
    }

    /// Runs `work` on the reader's connection.
    fn with_conn<T>(&self, work: impl FnOnce(&mut Conn<'_>) -> Result<T>) -> Result<T> {
        match &self.store {
            Store::Sqlite { conn, .. } => work(&mut Conn::Sqlite(conn)),
            Store::Postgres { client, .. } => work(&mut Conn::Postgres(&mut client.borrow_mut())),
        }
    }

    /// Matching events in the given order, at most `filter.limit`, optionally
    /// only those inserted after an id.
    fn select(
        &self,
        filter: &EventFilter,
        after_id: Option<i64>,
        order: &str,
    ) -> Result<Vec<StoredEvent>> {
        self.with_conn(|conn| {
            let mut query = conn.query("");
            let mut conditions = filter.conditions(&mut query);
            if let Some(after_id) = after_id {
                conditions.push(format!("events.id > {}", query.bind(Param::Int(after_id))));
            }
            let limit = query.bind(Param::Int(filter.sql_limit()));
            query.text = format!("SELECT {EVENT_COLUMNS} FROM events");
            query.push_where(&conditions);
            query
                .text
                .push_str(&format!(" ORDER BY {order} LIMIT {limit}"));
            Ok(conn
                .events(&query, "cannot run query")?
                .into_iter()
                .map(|(id, event)| StoredEvent { id, event })
                .collect())
        })
    }

    /// The newest `filter.limit` matching events, oldest first.
    pub fn search(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>> {
        let mut events = self.select(filter, None, "events.ts_ms DESC, events.id DESC")?;
        events.reverse();
        Ok(events)
    }

    /// The last `filter.limit` matching events (by insertion), oldest first: the
    /// start of `tail`. Continue with [`EventReader::follow`] from the last id.
    pub fn tail(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>> {
        let mut events = self.select(filter, None, "events.id DESC")?;
        events.reverse();
        Ok(events)
    }

    /// Matching events inserted after `after_id`, in insertion order, at most
    /// `filter.limit`.
    pub fn follow(&self, filter: &EventFilter, after_id: i64) -> Result<Vec<StoredEvent>> {
        self.select(filter, Some(after_id), "events.id")
    }

    /// The highest event id in the store (0 when empty): where `tail --follow`
    /// without a backlog starts.
    pub fn last_id(&self) -> Result<i64> {
        self.with_conn(|conn| {
            let query = conn.query("SELECT COALESCE(MAX(id), 0) FROM events");
            Ok(conn.int(&query, "cannot read last event id")?.unwrap_or(0))
        })
    }

    /// Aggregates over the matching events (`filter.limit` is ignored); each
    /// top list holds at most `top_n` entries, most frequent first (ties in
    /// code point order of the value).
    pub fn stats(&self, filter: &EventFilter, top_n: usize) -> Result<EventStats> {
        self.with_conn(|conn| {
            let mut query = conn.query("");
            let conditions = filter.conditions(&mut query);
            query.text = "SELECT COUNT(*) FROM events".to_owned();
            query.push_where(&conditions);
            let total = conn.int(&query, "cannot count events")?.unwrap_or(0);
            let top_n = top_n.min(MAX_LIMIT) as i64;
            // The most frequent non-null values of `expression` (text).
            let mut top = |expression: &str, from: &str, limit: i64| -> Result<Vec<CountedValue>> {
                let mut query = conn.query("");
                let mut conditions = filter.conditions(&mut query);
                conditions.push(format!("{expression} IS NOT NULL"));
                let limit = query.bind(Param::Int(limit));
                let collation = query.binary_collation();
                query.text = format!("SELECT {expression}, COUNT(*) AS n FROM {from}");
                query.push_where(&conditions);
                query.text.push_str(&format!(
                    " GROUP BY {expression} ORDER BY n DESC, {expression}{collation} LIMIT {limit}"
                ));
                Ok(conn
                    .counts(&query, "cannot compute statistics")?
                    .into_iter()
                    .map(|(value, count)| CountedValue {
                        value,
                        count: u64::try_from(count).unwrap_or(0),
                    })
                    .collect())
            };
            let mut by_severity = top(
                "CAST(events.severity AS TEXT)",
                "events",
                SEVERITIES.len() as i64,
            )?;
            for counted in &mut by_severity {
                if let Some(severity) = counted.value.parse().ok().and_then(severity_from_rank) {
                    counted.value = severity_name(severity).to_owned();
                }
            }
            by_severity.sort_by_key(|c| {
                std::cmp::Reverse(parse_severity(&c.value).map(severity_rank).unwrap_or(-1))
            });
            Ok(EventStats {
                total: u64::try_from(total).unwrap_or(0),
                by_severity,
                top_actions: top("events.action", "events", top_n)?,
                top_source_ips: top("events.source_ip", "events", top_n)?,
                top_rules: top(
                    "event_rules.rule_id",
                    "event_rules JOIN events ON events.id = event_rules.event_id",
                    top_n,
                )?,
                top_paths: top("events.url_path", "events", top_n)?,
                top_users: top("events.user_name", "events", top_n)?,
            })
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
