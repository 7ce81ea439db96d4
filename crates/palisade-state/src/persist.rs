//! The SQLite file of the in-process store: `<data_dir>/state.sqlite3` in WAL mode, holding
//! locks and bans (table `blocks`), quota counters and key-value entries. Written through on
//! every change; read whole at start and whenever another process commits a change.

use std::collections::HashMap;
use std::path::Path;

use ipnet::IpNet;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::StateError;
use crate::local::{BlockRecord, KvRecord, QuotaRecord};

/// File name of the state database inside the data directory.
pub const STATE_FILE: &str = "state.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blocks (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    until_ms INTEGER NOT NULL,
    keep_until_ms INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS quotas (
    slot TEXT PRIMARY KEY,
    used INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_ms INTEGER
);
";

/// Everything persisted, as loaded.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub locks: HashMap<String, BlockRecord>,
    pub bans: Vec<(IpNet, BlockRecord)>,
    pub quotas: HashMap<String, QuotaRecord>,
    pub kv: HashMap<String, KvRecord>,
}

pub(crate) struct Db {
    conn: Connection,
    data_version: std::cell::Cell<i64>,
}

impl Db {
    pub(crate) fn open(data_dir: &Path) -> Result<Db, StateError> {
        std::fs::create_dir_all(data_dir).map_err(StateError::data_dir)?;
        let conn = Connection::open(data_dir.join(STATE_FILE))?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        let version = data_version(&conn)?;
        Ok(Db {
            conn,
            data_version: std::cell::Cell::new(version),
        })
    }

    /// Whether another connection committed since the last call (or since opening).
    pub(crate) fn changed_elsewhere(&self) -> Result<bool, StateError> {
        let version = data_version(&self.conn)?;
        Ok(self.data_version.replace(version) != version)
    }

    /// Drops expired rows and reads the rest.
    pub(crate) fn load(&self, now_ms: i64) -> Result<Snapshot, StateError> {
        self.conn.execute(
            "DELETE FROM blocks WHERE keep_until_ms <= ?1 AND until_ms <= ?1",
            params![now_ms],
        )?;
        self.conn
            .execute("DELETE FROM quotas WHERE expires_ms <= ?1", params![now_ms])?;
        self.conn.execute(
            "DELETE FROM kv WHERE expires_ms IS NOT NULL AND expires_ms <= ?1",
            params![now_ms],
        )?;
        // Our own deletions must not look like another process's change.
        self.data_version.set(data_version(&self.conn)?);

        let mut snapshot = Snapshot::default();
        let mut statement = self.conn.prepare(
            "SELECT kind, key, until_ms, keep_until_ms, repeat, reason, source, created_ms FROM blocks",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                BlockRecord {
                    until_ms: row.get(2)?,
                    keep_until_ms: row.get(3)?,
                    repeat: row.get(4)?,
                    reason: row.get(5)?,
                    source: row.get(6)?,
                    created_ms: row.get(7)?,
                },
            ))
        })?;
        for row in rows {
            let (kind, key, record) = row?;
            match kind.as_str() {
                "lock" => {
                    snapshot.locks.insert(key, record);
                }
                "ban" => match key.parse::<IpNet>() {
                    Ok(network) => snapshot.bans.push((network, record)),
                    Err(_) => tracing::warn!(key, "ignoring a ban on an unreadable network"),
                },
                _ => {}
            }
        }
        let mut statement = self
            .conn
            .prepare("SELECT slot, used, expires_ms FROM quotas")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                QuotaRecord {
                    used: row.get::<_, i64>(1)?.max(0) as u64,
                    expires_ms: row.get(2)?,
                },
            ))
        })?;
        for row in rows {
            let (slot, record) = row?;
            snapshot.quotas.insert(slot, record);
        }
        let mut statement = self.conn.prepare("SELECT key, value, expires_ms FROM kv")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                KvRecord {
                    value: row.get(1)?,
                    expires_ms: row.get(2)?,
                },
            ))
        })?;
        for row in rows {
            let (key, record) = row?;
            snapshot.kv.insert(key, record);
        }
        Ok(snapshot)
    }

    pub(crate) fn put_block(
        &self,
        kind: &str,
        key: &str,
        record: &BlockRecord,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO blocks (kind, key, until_ms, keep_until_ms, repeat, reason, source, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                kind,
                key,
                record.until_ms,
                record.keep_until_ms,
                record.repeat,
                record.reason,
                record.source,
                record.created_ms
            ],
        )?;
        Ok(())
    }

    pub(crate) fn delete_block(&self, kind: &str, key: &str) -> Result<(), StateError> {
        self.conn.execute(
            "DELETE FROM blocks WHERE kind = ?1 AND key = ?2",
            params![kind, key],
        )?;
        Ok(())
    }

    pub(crate) fn put_quota(&self, slot: &str, record: &QuotaRecord) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO quotas (slot, used, expires_ms) VALUES (?1, ?2, ?3)",
            params![
                slot,
                i64::try_from(record.used).unwrap_or(i64::MAX),
                record.expires_ms
            ],
        )?;
        Ok(())
    }

    pub(crate) fn put_kv(&self, key: &str, record: &KvRecord) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO kv (key, value, expires_ms) VALUES (?1, ?2, ?3)",
            params![key, record.value, record.expires_ms],
        )?;
        Ok(())
    }

    pub(crate) fn delete_kv(&self, key: &str) -> Result<(), StateError> {
        self.conn
            .execute("DELETE FROM kv WHERE key = ?1", params![key])?;
        Ok(())
    }
}

fn data_version(conn: &Connection) -> Result<i64, StateError> {
    Ok(conn
        .query_row("PRAGMA data_version", [], |row| row.get(0))
        .optional()?
        .unwrap_or(0))
}
