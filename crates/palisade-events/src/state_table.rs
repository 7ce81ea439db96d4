//! A small persisted key → JSON table next to the events (`monitor_state`), so
//! the anomaly monitor's baselines survive restarts in whichever store the
//! events use (SQLite file or PostgreSQL).

use std::path::Path;

use postgres::Client;
use rusqlite::{Connection, params};

use crate::error::{ErrorKind, EventsError, Result};
use crate::schema::Retention;
use crate::sqlite::SqliteStore;

/// Persisted key/value state (values are JSON text written by the owner).
pub trait StateTable: Send + 'static {
    /// Every stored entry.
    fn load_all(&mut self) -> Result<Vec<(String, String)>>;
    /// Inserts or replaces entries, in one transaction.
    fn save(&mut self, entries: &[(String, String)], now_ms: i64) -> Result<()>;
    /// Deletes entries not updated since `before_ms`; returns how many went.
    fn expire(&mut self, before_ms: i64) -> Result<u64>;
}

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> EventsError {
    move |source| EventsError::sqlite(context, source)
}

fn pg(context: &'static str) -> impl FnOnce(postgres::Error) -> EventsError {
    move |source| ErrorKind::Postgres { context, source }.into()
}

/// [`StateTable`] in the SQLite event database (its own connection).
#[derive(Debug)]
pub struct SqliteStateTable {
    conn: Connection,
}

impl SqliteStateTable {
    /// Opens (creating and migrating) the event database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let store = SqliteStore::open(path, Retention::default())?;
        Ok(SqliteStateTable {
            conn: store.into_connection(),
        })
    }
}

impl StateTable for SqliteStateTable {
    fn load_all(&mut self) -> Result<Vec<(String, String)>> {
        let mut statement = self
            .conn
            .prepare("SELECT key, value FROM monitor_state ORDER BY key")
            .map_err(sql("cannot read monitor state"))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(sql("cannot read monitor state"))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(sql("cannot read monitor state"))
    }

    fn save(&mut self, entries: &[(String, String)], now_ms: i64) -> Result<()> {
        let tx = self
            .conn
            .transaction()
            .map_err(sql("cannot start state write"))?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO monitor_state (key, value, updated_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
                )
                .map_err(sql("cannot prepare state write"))?;
            for (key, value) in entries {
                upsert
                    .execute(params![key, value, now_ms])
                    .map_err(sql("cannot write monitor state"))?;
            }
        }
        tx.commit().map_err(sql("cannot commit monitor state"))
    }

    fn expire(&mut self, before_ms: i64) -> Result<u64> {
        self.conn
            .execute(
                "DELETE FROM monitor_state WHERE updated_ms < ?1",
                [before_ms],
            )
            .map(|n| n as u64)
            .map_err(sql("cannot expire monitor state"))
    }
}

/// [`StateTable`] in the PostgreSQL event store (its own connection).
pub struct PostgresStateTable {
    client: Client,
}

impl std::fmt::Debug for PostgresStateTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStateTable").finish_non_exhaustive()
    }
}

impl PostgresStateTable {
    /// Connects like [`crate::PostgresStore::connect`] (migrating as needed).
    pub fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        let store = crate::PostgresStore::connect(url, schema, Retention::default())?;
        Ok(PostgresStateTable {
            client: store.into_client(),
        })
    }
}

impl StateTable for PostgresStateTable {
    fn load_all(&mut self) -> Result<Vec<(String, String)>> {
        Ok(self
            .client
            .query("SELECT key, value FROM monitor_state ORDER BY key", &[])
            .map_err(pg("cannot read monitor state"))?
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
    }

    fn save(&mut self, entries: &[(String, String)], now_ms: i64) -> Result<()> {
        let (keys, values): (Vec<&str>, Vec<&str>) = entries
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .unzip();
        self.client
            .execute(
                "INSERT INTO monitor_state (key, value, updated_ms)
                 SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS t(k, v)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
                &[&keys, &values, &now_ms],
            )
            .map(drop)
            .map_err(pg("cannot write monitor state"))
    }

    fn expire(&mut self, before_ms: i64) -> Result<u64> {
        self.client
            .execute(
                "DELETE FROM monitor_state WHERE updated_ms < $1",
                &[&before_ms],
            )
            .map_err(pg("cannot expire monitor state"))
    }
}
