//! `access.sqlite3` as a gateway older than the shared state store left it: login locks in the
//! file's own `account_locks` table, which `palisade_access::migrate_legacy_locks` moves into the
//! state store.

use std::path::Path;

/// A row of the legacy table: site, account, until (ms since the Unix epoch), locks in a row.
pub type LegacyLock<'a> = (&'a str, &'a str, i64, u32);

/// Creates `<data_dir>/access.sqlite3` with the legacy tables (API keys and account locks)
/// holding `locks`.
pub fn write_legacy_access_db(data_dir: &Path, locks: &[LegacyLock<'_>]) {
    rusqlite::Connection::open(data_dir.join("access.sqlite3"))
        .expect("open legacy access.sqlite3")
        .execute_batch(
            "CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, hash BLOB NOT NULL, \
                 roles TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER, \
                 revoked_ms INTEGER, last_used_ms INTEGER);
             CREATE TABLE account_locks (site TEXT NOT NULL, account TEXT NOT NULL, \
                 until_ms INTEGER NOT NULL, repeat INTEGER NOT NULL, PRIMARY KEY (site, account));",
        )
        .expect("legacy schema");
    insert_legacy_locks(data_dir, locks);
}

/// Adds `locks` to the legacy table of `<data_dir>/access.sqlite3`.
pub fn insert_legacy_locks(data_dir: &Path, locks: &[LegacyLock<'_>]) {
    let conn = rusqlite::Connection::open(data_dir.join("access.sqlite3"))
        .expect("open legacy access.sqlite3");
    for (site, account, until_ms, repeat) in locks {
        conn.execute(
            "INSERT INTO account_locks (site, account, until_ms, repeat) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![site, account, until_ms, repeat],
        )
        .expect("legacy lock");
    }
}

/// Rows left in the legacy lock table of `<data_dir>/access.sqlite3`.
pub fn legacy_lock_rows(data_dir: &Path) -> i64 {
    rusqlite::Connection::open(data_dir.join("access.sqlite3"))
        .expect("open legacy access.sqlite3")
        .query_row("SELECT COUNT(*) FROM account_locks", [], |row| row.get(0))
        .expect("count legacy locks")
}
