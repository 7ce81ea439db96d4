//! The PostgreSQL event store, for several gateway instances writing one store.
//!
//! Design notes:
//! * Same tables, columns, row encoding and migrations as the SQLite store
//!   ([`crate::SqliteStore`]; `schema`): `events`, `event_rules`, and
//!   `monitor_state`; the version is recorded in `palisade_schema` (one row),
//!   and migrations run under an advisory lock so two gateways starting
//!   together do not race. A database from a newer build is refused, not damaged.
//! * A batch is one transaction of two statements whatever its size: ids are
//!   reserved from the sequence first, then events and their rules are inserted
//!   with `unnest` over parameter arrays (no per-row round trips).
//! * `schema` (optional) puts the tables in their own PostgreSQL schema, created
//!   when missing; tests use one schema each.
//! * The connection URL may carry a password: it is never logged or put in an
//!   error (errors name the host only).

use std::time::Duration;

use palisade_core::SecurityEvent;
use postgres::{Client, NoTls};

use crate::error::{ErrorKind, EventsError, Result};
use crate::schema::{
    EncodedEvent, POSTGRES_MIGRATIONS, Retention, SCHEMA_VERSION, check_migratable_version,
    check_readable_version,
};
use crate::sink::BatchSink;
use crate::sql::Conn;

/// The schema version this build writes and reads (the same as SQLite's).
pub const POSTGRES_SCHEMA_VERSION: i64 = SCHEMA_VERSION;

/// Arbitrary constant for `pg_advisory_xact_lock` around migrations.
const MIGRATION_LOCK: i64 = 0x7061_6c69_7361_6465; // "palisade"

/// The PostgreSQL event store (see the module docs).
pub struct PostgresStore {
    client: Client,
    host: String,
    retention: Retention,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

fn pg(context: &'static str) -> impl FnOnce(postgres::Error) -> EventsError {
    move |source| ErrorKind::Postgres { context, source }.into()
}

/// True for `[A-Za-z_][A-Za-z0-9_]{0,62}`: safe to splice into SQL unquoted.
fn is_plain_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && name.len() < 64
}

/// Whether [`connect`] creates the PostgreSQL schema it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaAccess {
    /// Created when missing (a writer).
    Create,
    /// Only selected; the session is read-only (a reader).
    ReadOnly,
}

/// Connects to `url` (`postgres://user:pass@host:port/db` or key=value form).
/// `schema` selects a PostgreSQL schema for the tables.
pub(crate) fn connect(
    url: &str,
    schema: Option<&str>,
    access: SchemaAccess,
) -> Result<(Client, String)> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|_| EventsError::invalid_value("PostgreSQL URL", redact_url(url)))?;
    config.connect_timeout(Duration::from_secs(5));
    if config.get_application_name().is_none() {
        config.application_name("palisade");
    }
    let host = redact_url(url);
    let mut client = config
        .connect(NoTls)
        .map_err(|source| ErrorKind::PostgresConnect {
            host: host.clone(),
            source,
        })?;
    if let Some(schema) = schema {
        if !is_plain_identifier(schema) {
            return Err(EventsError::invalid_value(
                "PostgreSQL schema name ([A-Za-z_][A-Za-z0-9_]*)",
                schema,
            ));
        }
        let create = match access {
            SchemaAccess::Create => format!("CREATE SCHEMA IF NOT EXISTS {schema}; "),
            SchemaAccess::ReadOnly => String::new(),
        };
        client
            .batch_execute(&format!("{create}SET search_path TO {schema}"))
            .map_err(pg("cannot select schema"))?;
    }
    if access == SchemaAccess::ReadOnly {
        client
            .batch_execute("SET default_transaction_read_only = on")
            .map_err(pg("cannot make the session read-only"))?;
    }
    Ok((client, host))
}

/// `postgres://user:secret@host/db` → `postgres://host/db` (no credentials).
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        (Some(_), _) => url.to_owned(),
        // key=value form: keep only host/port/dbname.
        (None, _) => url
            .split_whitespace()
            .filter(|part| {
                ["host=", "port=", "dbname="]
                    .iter()
                    .any(|key| part.starts_with(key))
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn migrate(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction().map_err(pg("cannot start migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(pg("cannot lock for migration"))?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS palisade_schema (version BIGINT NOT NULL)")
        .map_err(pg("cannot create schema version table"))?;
    let found: i64 = match tx
        .query_opt("SELECT version FROM palisade_schema", &[])
        .map_err(pg("cannot read schema version"))?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO palisade_schema (version) VALUES (0)", &[])
                .map_err(pg("cannot record schema version"))?;
            0
        }
    };
    check_migratable_version(found)?;
    for (index, migration) in POSTGRES_MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.batch_execute(migration)
            .map_err(pg("migration failed"))?;
        tx.execute(
            "UPDATE palisade_schema SET version = $1",
            &[&(index as i64 + 1)],
        )
        .map_err(pg("cannot record schema version"))?;
    }
    tx.commit().map_err(pg("cannot commit migration"))
}

const INSERT_EVENTS: &str = "INSERT INTO events (id, ts_ms, action, category, outcome, severity,
    request_id, source_ip, route, user_name, url_path, message, rule_ids, fields)
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[],
    $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
    $13::text[], $14::text[])";
const INSERT_RULES: &str = "INSERT INTO event_rules (event_id, rule_id)
    SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT DO NOTHING";
const RESERVE_IDS: &str = "SELECT nextval(pg_get_serial_sequence('events', 'id'))
    FROM generate_series(1, $1::bigint)";

impl PostgresStore {
    /// Connects, selects `schema` when given, and migrates to
    /// [`POSTGRES_SCHEMA_VERSION`].
    pub fn connect(url: &str, schema: Option<&str>, retention: Retention) -> Result<Self> {
        let (mut client, host) = connect(url, schema, SchemaAccess::Create)?;
        migrate(&mut client)?;
        Ok(PostgresStore {
            client,
            host,
            retention,
        })
    }

    pub(crate) fn into_client(self) -> Client {
        self.client
    }

    /// Inserts a batch in one transaction.
    pub fn insert(&mut self, events: &[SecurityEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let n = events.len();
        let mut ts = Vec::with_capacity(n);
        let mut action = Vec::with_capacity(n);
        let mut category = Vec::with_capacity(n);
        let mut outcome = Vec::with_capacity(n);
        let mut severity = Vec::with_capacity(n);
        let mut request_id = Vec::with_capacity(n);
        let mut source_ip = Vec::with_capacity(n);
        let mut route = Vec::with_capacity(n);
        let mut user = Vec::with_capacity(n);
        let mut path = Vec::with_capacity(n);
        let mut message = Vec::with_capacity(n);
        let mut rules = Vec::with_capacity(n);
        let mut fields = Vec::with_capacity(n);
        let rows = events
            .iter()
            .map(EncodedEvent::new)
            .collect::<Result<Vec<_>>>()?;
        for row in &rows {
            ts.push(row.ts_ms);
            action.push(row.action);
            category.push(row.category);
            outcome.push(row.outcome);
            severity.push(row.severity);
            request_id.push(row.request_id);
            source_ip.push(row.source_ip.as_deref());
            route.push(row.route);
            user.push(row.user_name);
            path.push(row.url_path);
            message.push(row.message);
            rules.push(row.rule_ids.as_str());
            fields.push(row.fields.as_str());
        }
        let mut tx = self
            .client
            .transaction()
            .map_err(pg("cannot start insert"))?;
        let ids: Vec<i64> = tx
            .query(RESERVE_IDS, &[&(n as i64)])
            .map_err(pg("cannot reserve event ids"))?
            .iter()
            .map(|row| row.get(0))
            .collect();
        tx.execute(
            INSERT_EVENTS,
            &[
                &ids,
                &ts,
                &action,
                &category,
                &outcome,
                &severity,
                &request_id,
                &source_ip,
                &route,
                &user,
                &path,
                &message,
                &rules,
                &fields,
            ],
        )
        .map_err(pg("cannot insert events"))?;
        let (mut rule_event, mut rule_id) = (Vec::new(), Vec::new());
        for (id, event) in ids.iter().zip(events) {
            for rule in &event.rule_ids {
                rule_event.push(*id);
                rule_id.push(rule.as_str());
            }
        }
        if !rule_id.is_empty() {
            tx.execute(INSERT_RULES, &[&rule_event, &rule_id])
                .map_err(pg("cannot insert event rules"))?;
        }
        tx.commit().map_err(pg("cannot commit events"))
    }

    /// Deletes events past the retention limits; returns how many went.
    pub fn enforce_retention(&mut self, now_ms: i64) -> Result<u64> {
        Conn::Postgres(&mut self.client).enforce_retention(&self.retention, now_ms)
    }

    /// Number of stored events.
    pub fn count(&mut self) -> Result<u64> {
        let row = self
            .client
            .query_one("SELECT count(*) FROM events", &[])
            .map_err(pg("cannot count events"))?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }
}

/// Connects read-only to an existing PostgreSQL store (its schema not created,
/// nothing migrated) and checks that its schema is this build's.
pub(crate) fn connect_reader(url: &str, schema: Option<&str>) -> Result<(Client, String)> {
    let (mut client, host) = connect(url, schema, SchemaAccess::ReadOnly)?;
    let found: i64 = client
        .query_opt("SELECT version FROM palisade_schema", &[])
        .map_err(|source| ErrorKind::PostgresNoStore {
            host: host.clone(),
            source,
        })?
        .map_or(0, |row| row.get(0));
    check_readable_version(found)?;
    Ok((client, host))
}

impl BatchSink for PostgresStore {
    fn name(&self) -> &str {
        "postgres"
    }

    fn write_batch(&mut self, events: &[SecurityEvent]) -> Result<()> {
        if self.client.is_closed() {
            return Err(ErrorKind::PostgresClosed {
                host: self.host.clone(),
            }
            .into());
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("postgres://palisade:s3cret@db.example:5432/events"),
            "postgres://db.example:5432/events"
        );
        assert_eq!(
            redact_url("postgresql://127.0.0.1/test"),
            "postgresql://127.0.0.1/test"
        );
        assert_eq!(
            redact_url("host=db port=5432 user=x password=s3cret dbname=e"),
            "host=db port=5432 dbname=e"
        );
    }

    #[test]
    fn only_plain_identifiers_are_schema_names() {
        assert!(is_plain_identifier("palisade_test_1"));
        for bad in ["", "1abc", "a;drop table x", "a b", "ä", &"x".repeat(64)] {
            assert!(!is_plain_identifier(bad), "{bad:?}");
        }
    }
}
