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
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use palisade_core::{SecurityEvent, Severity};
use rusqlite::Connection;

use crate::ecs::{SEVERITIES, parse_severity, severity_from_rank, severity_name, severity_rank};
use crate::error::Result;
use crate::schema::{EVENT_COLUMNS, SOURCE_IP_CONDITION};
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
        if let Some(ip) = self.source_ip {
            let placeholder = query.bind(Param::Text(ip.to_string()));
            conditions.push(SOURCE_IP_CONDITION.replace("$ip", &placeholder));
        }
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
    /// only those with `after_id < id <= upto_id`.
    fn select(
        &self,
        filter: &EventFilter,
        after_id: Option<i64>,
        upto_id: Option<i64>,
        order: &str,
    ) -> Result<Vec<StoredEvent>> {
        self.with_conn(|conn| {
            let mut query = conn.query("");
            let mut conditions = filter.conditions(&mut query);
            if let Some(after_id) = after_id {
                conditions.push(format!("events.id > {}", query.bind(Param::Int(after_id))));
            }
            if let Some(upto_id) = upto_id {
                conditions.push(format!("events.id <= {}", query.bind(Param::Int(upto_id))));
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
        let mut events = self.select(filter, None, None, "events.ts_ms DESC, events.id DESC")?;
        events.reverse();
        Ok(events)
    }

    /// The last `filter.limit` matching events (by insertion), oldest first: the
    /// start of `tail`. Continue with [`EventReader::follow`] from the last id.
    pub fn tail(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>> {
        let mut events = self.select(filter, None, None, "events.id DESC")?;
        events.reverse();
        Ok(events)
    }

    /// Matching events inserted after `after_id`, in insertion order, at most
    /// `filter.limit`.
    pub fn follow(&self, filter: &EventFilter, after_id: i64) -> Result<Vec<StoredEvent>> {
        self.select(filter, Some(after_id), None, "events.id")
    }

    /// Every id after `after_id`, ascending, at most `limit` (unfiltered: the follower's
    /// account of what has committed).
    fn ids_after(&self, after_id: i64, limit: i64) -> Result<Vec<i64>> {
        self.with_conn(|conn| {
            let mut query = conn.query("");
            let after = query.bind(Param::Int(after_id));
            let limit = query.bind(Param::Int(limit));
            query.text =
                format!("SELECT id FROM events WHERE id > {after} ORDER BY id LIMIT {limit}");
            conn.ints(&query, "cannot list event ids")
        })
    }

    /// Matching events with `after_id < id <= upto_id`, in id order (the range the follower
    /// listed, so at most [`IDS_PER_POLL`] rows).
    fn select_between(
        &self,
        filter: &EventFilter,
        after_id: i64,
        upto_id: i64,
    ) -> Result<Vec<StoredEvent>> {
        let unlimited = EventFilter {
            limit: MAX_LIMIT,
            ..filter.clone()
        };
        self.select(&unlimited, Some(after_id), Some(upto_id), "events.id")
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

/// Ids a transaction may still commit below the highest id seen are watched this long.
const GAP_GRACE: Duration = Duration::from_secs(10);
/// Missing ids watched at most (the oldest are given up first).
const MAX_GAPS: usize = 10_000;
/// Ids listed per poll (the rest come at the next poll).
const IDS_PER_POLL: i64 = 10_000;

/// Polls a store for new matching events: the loop behind `tail --follow`.
///
/// Ids grow with insertion but need not *commit* in order: on PostgreSQL several gateways
/// write batches concurrently, and a batch that took lower ids can commit after one that
/// took higher ids. So the follower lists every id (unfiltered) after the ones it has
/// accounted for, remembers the ids missing below the highest one seen, and keeps looking
/// for them for [`GAP_GRACE`]; an id that appears late is returned then. A missing id that
/// never appears (a rolled-back batch, a skipped sequence value) is given up after the grace.
#[derive(Debug)]
pub struct TailFollower {
    reader: EventReader,
    filter: EventFilter,
    /// Highest id listed so far.
    last_id: i64,
    /// Ids below `last_id` not listed yet, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
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
            gaps: BTreeMap::new(),
            poll_interval,
        }
    }

    /// New events now, possibly none; never waits.
    pub fn poll(&mut self) -> Result<Vec<StoredEvent>> {
        self.poll_at(Instant::now())
    }

    fn poll_at(&mut self, now: Instant) -> Result<Vec<StoredEvent>> {
        self.gaps
            .retain(|_, missed| now.saturating_duration_since(*missed) < GAP_GRACE);
        let from = self
            .gaps
            .first_key_value()
            .map_or(self.last_id, |(&first, _)| first - 1);
        let ids = self.reader.ids_after(from, IDS_PER_POLL)?;
        let Some(&upto) = ids.last() else {
            return Ok(Vec::new());
        };
        let mut fresh = HashSet::with_capacity(ids.len());
        for id in ids {
            if id > self.last_id {
                let room = MAX_GAPS.saturating_sub(self.gaps.len());
                for missing in (self.last_id + 1..id).take(room) {
                    self.gaps.insert(missing, now);
                }
                self.last_id = id;
                fresh.insert(id);
            } else if self.gaps.remove(&id).is_some() {
                fresh.insert(id);
            }
        }
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let mut events = self.reader.select_between(&self.filter, from, upto)?;
        events.retain(|stored| fresh.contains(&stored.id));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BatchSink as _;
    use crate::sqlite::SqliteStore;

    fn event(i: usize) -> SecurityEvent {
        SecurityEvent::new(
            "malicious_sqli",
            "web",
            Severity::High,
            format!("event-{i}"),
        )
    }

    fn ids(events: &[StoredEvent]) -> Vec<i64> {
        events.iter().map(|e| e.id).collect()
    }

    /// Moves row `from` to id `to`: from the reader's side, like a transaction that took
    /// id `to` committing (or, with `to` out of sight, not having committed yet).
    fn renumber(dir: &Path, from: i64, to: i64) {
        let conn = Connection::open(dir.join(DEFAULT_DB_FILE)).expect("open");
        conn.execute("UPDATE events SET id = ?1 WHERE id = ?2", [to, from])
            .expect("renumber");
    }

    #[test]
    fn a_missing_id_is_returned_when_it_appears_within_the_grace_and_given_up_after() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = SqliteStore::open_in(
            dir.path(),
            crate::Retention {
                max_age: None,
                max_rows: None,
            },
        )
        .expect("store");
        store
            .write_batch(&(1..=5).map(event).collect::<Vec<_>>())
            .expect("insert");
        // Ids 2 and 4 "have not committed": out of sight for now.
        renumber(dir.path(), 2, 1002);
        renumber(dir.path(), 4, 1004);
        renumber(dir.path(), 5, 2005);
        renumber(dir.path(), 3, 3);
        let reader = EventReader::open_in(dir.path()).expect("reader");
        let mut follower = TailFollower::new(reader, EventFilter::default(), 0, Duration::ZERO);
        let start = Instant::now();
        // Seen: 1, 3, 1002, 1004, 2005 — below 2005 the others are gaps now.
        assert_eq!(
            ids(&follower.poll_at(start).expect("poll")),
            [1, 3, 1002, 1004, 2005]
        );
        renumber(dir.path(), 1002, 2);
        renumber(dir.path(), 1004, 4);
        // 1002 and 1004 moved away below the highest id: as rows already returned they stay
        // returned once; 2 and 4 were gaps since the first poll and are returned now.
        let later = start + GAP_GRACE / 2;
        assert_eq!(ids(&follower.poll_at(later).expect("poll")), [2, 4]);
        assert!(
            follower.poll_at(later).expect("poll").is_empty(),
            "returned once"
        );
        // After the grace, a gap is given up: a row appearing there is not returned.
        renumber(dir.path(), 2005, 7);
        let after_grace = start + GAP_GRACE * 2;
        assert!(follower.poll_at(after_grace).expect("poll").is_empty());
    }
}
