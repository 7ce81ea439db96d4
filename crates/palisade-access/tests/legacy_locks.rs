//! Login locks an older gateway kept in `access.sqlite3` (table `account_locks`) move into the
//! state store when access control starts: a lock in force keeps refusing its account for the
//! rest of its time and keeps its repeat count, an expired one is dropped, and the legacy table
//! is emptied.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use palisade_access::{AccessControl, AccessStore, account_locks, migrate_legacy_locks};
use palisade_core::{Inspector, RequestHead, Verdict};
use palisade_state::StateStore;
use palisade_testkit::legacy_access::{
    insert_legacy_locks, legacy_lock_rows, write_legacy_access_db,
};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).expect("ms"))
}

/// A site `shop.test` whose `/login` takes the user name from the `X-User` header.
fn config(data_dir: &Path) -> palisade_config::Config {
    let text = format!(
        r#"
data_dir = {data_dir:?}
[[listener]]
addr = "127.0.0.1:0"
[[upstream]]
name = "app"
servers = ["http://127.0.0.1:9"]
[[site]]
hosts = ["shop.test"]
[[site.route]]
name = "app"
upstream = "app"
[site.access]
[[site.access.login]]
path = "/login"
username = "header:x-user"
lock = "15m"
"#,
        data_dir = data_dir.to_string_lossy()
    );
    palisade_config::parse(&text, Path::new("legacy.toml")).expect("config")
}

/// A login attempt for `user`: the verdict and the `Retry-After` seconds, if any.
fn attempt(access: &AccessControl, user: &str) -> (Verdict, Option<u64>) {
    let mut headers = HeaderMap::new();
    headers.insert("x-user", HeaderValue::from_str(user).expect("value"));
    let head = RequestHead {
        request_id: "0190c1d2-0000-7000-8000-000000000001".to_owned(),
        method: Method::POST,
        raw_target: "/login".to_owned(),
        version: Version::HTTP_11,
        headers,
        client_addr: "192.0.2.10:40000".parse().expect("addr"),
        server_addr: "127.0.0.1:8080".parse().expect("addr"),
        host: "shop.test".to_owned(),
        tls: false,
        route: "app".to_owned(),
        client_cert_subject: None,
        context: Default::default(),
    };
    let verdict = access.start(&head).request_headers(&head);
    let retry_after = head
        .context
        .take_response_headers()
        .and_then(|headers| headers.get("retry-after")?.to_str().ok()?.parse().ok());
    (verdict, retry_after)
}

#[test]
fn a_legacy_lock_in_force_keeps_refusing_its_account_after_the_move() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = now_ms();
    write_legacy_access_db(
        dir.path(),
        &[
            ("shop.test", "alice", now + 300_000, 2),
            ("shop.test", "bob", now - 1_000, 1),
        ],
    );
    let state = StateStore::open_local(dir.path()).expect("state store");
    let access = AccessControl::with_state(&config(dir.path()), state.clone())
        .expect("access")
        .expect("enabled");

    let (verdict, retry_after) = attempt(&access, "Alice");
    assert!(
        matches!(verdict, Verdict::Block { status, .. } if status == StatusCode::TOO_MANY_REQUESTS),
        "{verdict:?}"
    );
    let retry_after = retry_after.expect("Retry-After");
    assert!(
        (290..=300).contains(&retry_after),
        "the rest of the lock's time: {retry_after}"
    );
    assert_eq!(
        attempt(&access, "bob").0,
        Verdict::Allow,
        "an expired legacy lock is not enforced"
    );
    assert_eq!(legacy_lock_rows(dir.path()), 0, "the legacy rows are gone");

    // Kept in the state store (what `palisade accounts list` reads), with its repeat count, and
    // there for the next process too.
    let reopened = StateStore::open_local(dir.path()).expect("reopened");
    let locks = account_locks(&reopened).expect("locks");
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert_eq!(
        (locks[0].site.as_str(), locks[0].account.as_str()),
        ("shop.test", "alice")
    );
    assert_eq!(locks[0].repeat, 2, "the next lock doubles as it would have");
    assert!(
        (locks[0].until_ms - (now + 300_000)).abs() < 5_000,
        "{locks:?}"
    );

    // Moving again finds nothing to move and changes nothing.
    let mut store = AccessStore::open(dir.path()).expect("store");
    assert_eq!(
        migrate_legacy_locks(&mut store, &reopened).expect("again"),
        0
    );
    assert_eq!(account_locks(&reopened).expect("locks"), locks);
}

/// A crash after the locks were written but before the rows were deleted: the next start writes
/// the same locks again, without counting them twice.
#[test]
fn moving_the_same_legacy_locks_twice_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let until_ms = now_ms() + 600_000;
    let carol = ("shop.test", "carol", until_ms, 3);
    write_legacy_access_db(dir.path(), &[carol]);
    let state = StateStore::in_memory();
    let mut store = AccessStore::open(dir.path()).expect("store");
    assert_eq!(migrate_legacy_locks(&mut store, &state).expect("first"), 1);
    let first = account_locks(&state).expect("locks");
    insert_legacy_locks(dir.path(), &[carol]);
    assert_eq!(migrate_legacy_locks(&mut store, &state).expect("second"), 1);
    assert_eq!(account_locks(&state).expect("locks"), first);
    assert_eq!(first[0].repeat, 3);
    assert_eq!(legacy_lock_rows(dir.path()), 0);
}

#[test]
fn a_store_without_the_legacy_table_has_nothing_to_move() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = AccessStore::open(dir.path()).expect("store");
    let state = StateStore::in_memory();
    assert_eq!(migrate_legacy_locks(&mut store, &state).expect("move"), 0);
    let tables: i64 = rusqlite::Connection::open(dir.path().join("access.sqlite3"))
        .expect("open")
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'account_locks'",
            [],
            |row| row.get(0),
        )
        .expect("count");
    assert_eq!(tables, 0, "a new store has no legacy table");
}
