//! The access store: API keys in `<data_dir>/access.sqlite3`.
//!
//! Only a keyed hash of each API key is stored. The CLI (`palisade keys`) and a running gateway
//! share the file: the gateway loads it at start and notices other processes' changes (a new or
//! revoked key) within a second.
//!
//! Gateways before the state store kept login locks here too, in a table `account_locks`; login
//! protection now keeps them in the state store ([`crate::login::account_locks`],
//! [`crate::login::unlock_account`]). The table is no longer created or written: what an older
//! gateway left in it is moved into the state store at start
//! ([`crate::login::migrate_legacy_locks`]), which reads and then deletes its rows.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::AccessError;
use crate::secret::KeyHasher;

/// File name of the store inside the data directory.
pub const STORE_FILE: &str = "access.sqlite3";

/// Prefix of every API key Palisade issues.
pub const KEY_PREFIX: &str = "pal_";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash BLOB NOT NULL,
    roles TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    revoked_ms INTEGER,
    last_used_ms INTEGER
);
";

/// The table older gateways kept account locks in (`site, account, until_ms, repeat`).
const LEGACY_LOCK_TABLE: &str = "account_locks";

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// One stored API key (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiKeyInfo {
    /// Public id (part of the key, shown by `keys list`).
    pub id: String,
    /// Human name.
    pub name: String,
    /// Palisade roles.
    pub roles: Vec<String>,
    /// Creation time (ms since the epoch).
    pub created_ms: i64,
    /// Expiry (ms since the epoch), if any.
    pub expires_ms: Option<i64>,
    /// Revocation time, if revoked.
    pub revoked_ms: Option<i64>,
    /// Last successful use, if ever used.
    pub last_used_ms: Option<i64>,
    #[serde(skip)]
    pub(crate) hash: Vec<u8>,
}

/// A key just created: the only time its secret value exists outside the client.
#[derive(Debug)]
pub struct CreatedKey {
    /// The stored record.
    pub info: ApiKeyInfo,
    /// The key to hand to the client (`pal_<id>_<secret>`); never stored.
    pub key: String,
}

/// An account lock, as `palisade accounts list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountLock {
    /// Site name (its first host).
    pub site: String,
    /// Normalised account name.
    pub account: String,
    /// Locked until (ms since the epoch).
    pub until_ms: i64,
    /// How many times the account was locked in a row (the lock doubles each time).
    pub repeat: u32,
}

/// The SQLite access store.
#[derive(Debug)]
pub struct AccessStore {
    path: PathBuf,
    conn: Connection,
}

impl AccessStore {
    /// Opens (creating when needed) `<data_dir>/access.sqlite3`.
    pub fn open(data_dir: &Path) -> Result<Self, AccessError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| AccessError::io("cannot create the data directory", data_dir, e))?;
        let path = data_dir.join(STORE_FILE);
        let conn = Connection::open(&path).map_err(|e| AccessError::sqlite("open", &path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(2))
            .and_then(|()| conn.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|()| conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|()| conn.execute_batch(SCHEMA))
            .map_err(|e| AccessError::sqlite("create schema", &path, e))?;
        Ok(AccessStore { path, conn })
    }

    fn err(&self, context: &'static str) -> impl FnOnce(rusqlite::Error) -> AccessError + '_ {
        move |e| AccessError::sqlite(context, &self.path, e)
    }

    /// Creates a key named `name` with `roles`, expiring at `expires_ms` when given.
    pub fn create_key(
        &self,
        hasher: &KeyHasher,
        name: &str,
        roles: &[String],
        expires_ms: Option<i64>,
    ) -> Result<CreatedKey, AccessError> {
        if name.trim().is_empty() {
            return Err(AccessError::invalid("an API key needs a non-empty --name"));
        }
        let id = hex::encode(rand::random::<[u8; 6]>());
        let secret =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let key = format!("{KEY_PREFIX}{id}_{secret}");
        let hash = hasher.hash(key.as_bytes()).to_vec();
        let info = ApiKeyInfo {
            id,
            name: name.to_owned(),
            roles: roles.to_vec(),
            created_ms: now_ms(),
            expires_ms,
            revoked_ms: None,
            last_used_ms: None,
            hash,
        };
        self.conn
            .execute(
                "INSERT INTO api_keys (id, name, hash, roles, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![info.id, info.name, info.hash, info.roles.join(","), info.created_ms, info.expires_ms],
            )
            .map_err(self.err("insert key"))?;
        Ok(CreatedKey { info, key })
    }

    /// Every key, oldest first.
    pub fn list_keys(&self) -> Result<Vec<ApiKeyInfo>, AccessError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, name, hash, roles, created_ms, expires_ms, revoked_ms, last_used_ms FROM api_keys ORDER BY created_ms, id",
            )
            .map_err(self.err("list keys"))?;
        let rows = statement
            .query_map([], |row| {
                let roles: String = row.get(3)?;
                Ok(ApiKeyInfo {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    hash: row.get(2)?,
                    roles: split_roles(&roles),
                    created_ms: row.get(4)?,
                    expires_ms: row.get(5)?,
                    revoked_ms: row.get(6)?,
                    last_used_ms: row.get(7)?,
                })
            })
            .map_err(self.err("list keys"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(self.err("list keys"))
    }

    /// Revokes the key with this id (or every key with this name); returns how many were revoked.
    pub fn revoke_key(&self, id_or_name: &str) -> Result<usize, AccessError> {
        self.conn
            .execute(
                "UPDATE api_keys SET revoked_ms = ?1 WHERE (id = ?2 OR name = ?2) AND revoked_ms IS NULL",
                params![now_ms(), id_or_name],
            )
            .map_err(self.err("revoke key"))
    }

    /// Records last-used times.
    pub(crate) fn touch_keys(&mut self, used: &[(String, i64)]) -> Result<(), AccessError> {
        let tx = self
            .conn
            .transaction()
            .map_err(|e| AccessError::sqlite("touch keys", &self.path, e))?;
        for (id, at) in used {
            tx.execute(
                "UPDATE api_keys SET last_used_ms = MAX(COALESCE(last_used_ms, 0), ?1) WHERE id = ?2",
                params![at, id],
            )
            .map_err(|e| AccessError::sqlite("touch keys", &self.path, e))?;
        }
        tx.commit()
            .map_err(|e| AccessError::sqlite("touch keys", &self.path, e))
    }

    /// The rows of the legacy lock table, current and past (none when the store never had the
    /// table).
    pub(crate) fn legacy_locks(&self) -> Result<Vec<AccountLock>, AccessError> {
        let exists: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                params![LEGACY_LOCK_TABLE],
                |row| row.get(0),
            )
            .map_err(self.err("read legacy locks"))?;
        if !exists {
            return Ok(Vec::new());
        }
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT site, account, until_ms, repeat FROM {LEGACY_LOCK_TABLE} ORDER BY site, account"
            ))
            .map_err(self.err("read legacy locks"))?;
        let rows = statement
            .query_map([], |row| {
                Ok(AccountLock {
                    site: row.get(0)?,
                    account: row.get(1)?,
                    until_ms: row.get(2)?,
                    repeat: row.get(3)?,
                })
            })
            .map_err(self.err("read legacy locks"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(self.err("read legacy locks"))
    }

    /// Deletes these rows of the legacy lock table, each only as it was read (a row rewritten
    /// since stays), in one transaction.
    pub(crate) fn delete_legacy_locks(&mut self, locks: &[AccountLock]) -> Result<(), AccessError> {
        let path = self.path.clone();
        let failed = |e: rusqlite::Error| AccessError::sqlite("delete legacy locks", &path, e);
        let tx = self.conn.transaction().map_err(failed)?;
        for lock in locks {
            tx.execute(
                &format!(
                    "DELETE FROM {LEGACY_LOCK_TABLE} WHERE site = ?1 AND account = ?2 AND until_ms = ?3 AND repeat = ?4"
                ),
                params![lock.site, lock.account, lock.until_ms, lock.repeat],
            )
            .map_err(failed)?;
        }
        tx.commit().map_err(failed)
    }

    /// SQLite's `data_version`: changes when another connection commits.
    pub(crate) fn data_version(&self) -> Option<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .optional()
            .ok()
            .flatten()
    }
}

fn split_roles(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|role| !role.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The id part of a presented key (`pal_<id>_<secret>`), if it has Palisade's shape.
pub(crate) fn key_id(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty())
        .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stored_hashed_listed_and_revoked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AccessStore::open(dir.path()).expect("open");
        let hasher = KeyHasher::new(b"secret");
        let created = store
            .create_key(&hasher, "ci", &["deploy".to_owned()], None)
            .expect("create");
        assert_eq!(key_id(&created.key), Some(created.info.id.as_str()));
        let listed = store.list_keys().expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].hash, hasher.hash(created.key.as_bytes()).to_vec());
        let raw = std::fs::read(dir.path().join(STORE_FILE)).expect("read db");
        let secret_part = created.key.rsplit('_').next().expect("secret");
        assert!(
            !raw.windows(secret_part.len())
                .any(|w| w == secret_part.as_bytes()),
            "the key itself must never be stored"
        );
        assert_eq!(store.revoke_key("ci").expect("revoke"), 1);
        assert!(store.list_keys().expect("list")[0].revoked_ms.is_some());
        assert_eq!(store.revoke_key("ci").expect("revoke again"), 0);
    }

    #[test]
    fn key_shapes() {
        assert_eq!(key_id("pal_0123456789ab_xyz"), Some("0123456789ab"));
        assert_eq!(key_id("pal_0123456789ab_"), None);
        assert_eq!(key_id("pal_zz23456789ab_x"), None);
        assert_eq!(key_id("Bearer x"), None);
    }
}
