//! Helpers shared by the end-to-end tests of the `palisade` binary: running CLI commands, the
//! demo application as an upstream, and the real Redis for the shared-state tests.
#![allow(
    dead_code,
    reason = "each test binary uses its own subset of these helpers"
)]

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

pub const BINARY: &str = env!("CARGO_BIN_EXE_palisade");

/// Runs `palisade ARGS` in `dir` and waits for it.
pub fn palisade(args: &[&str], dir: &Path) -> std::process::Output {
    std::process::Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("palisade runs")
}

/// The demo app as an upstream, on its own runtime (keep both alive for the test).
pub fn demo_upstream() -> (tokio::runtime::Runtime, palisade_demo::DemoApp) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let app = runtime
        .block_on(palisade_demo::start_demo_app(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        ))))
        .expect("demo app");
    (runtime, app)
}

/// The Redis URL for shared-state tests (127.0.0.1:6379, or `PALISADE_REDIS_URL`), or `None`
/// when Redis is unreachable: then `test` is skipped with a loud notice, or fails when
/// `CI=true`.
pub fn redis_url(test: &str) -> Option<String> {
    let configured = std::env::var("PALISADE_REDIS_URL").ok();
    let reachable = configured.is_some()
        || TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], 6379)),
            Duration::from_secs(1),
        )
        .is_ok();
    if reachable {
        return Some(configured.unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned()));
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: Redis unreachable and CI=true"
    );
    eprintln!("NOTICE: {test} SKIPPED: Redis unreachable (set PALISADE_REDIS_URL)");
    None
}

/// A Redis key prefix no other test (or earlier run) uses.
pub fn unique_prefix(test: &str) -> String {
    format!(
        "palisade-e2e:{test}:{}:{}:",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    )
}

/// A `[state]` table sharing the Redis at `url` under `prefix`.
pub fn redis_state(url: &str, prefix: &str) -> String {
    format!("[state]\nbackend = \"redis\"\nredis_url = \"{url}\"\nkey_prefix = \"{prefix}\"\n")
}

/// The PostgreSQL URL for tests of the PostgreSQL event store (127.0.0.1:5432, database `test`,
/// or `PALISADE_POSTGRES_URL`), or `None` when PostgreSQL is unreachable: then `test` is skipped
/// with a loud notice, or fails when `CI=true`.
pub fn postgres_url(test: &str) -> Option<String> {
    let url = std::env::var("PALISADE_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    match postgres::Client::connect(&url, postgres::NoTls) {
        Ok(_) => Some(url),
        Err(error) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: PostgreSQL at {url} unreachable and CI=true: {error}"
            );
            eprintln!(
                "NOTICE: {test} SKIPPED: PostgreSQL at {url} unreachable ({error}); set PALISADE_POSTGRES_URL"
            );
            None
        }
    }
}

/// A PostgreSQL schema of its own for one test, dropped (with its tables) at the end.
pub struct PostgresSchema {
    pub url: String,
    pub name: String,
}

impl PostgresSchema {
    /// A fresh schema name for `test`, or `None` (skipped) when PostgreSQL is unreachable.
    pub fn new(test: &str) -> Option<PostgresSchema> {
        let url = postgres_url(test)?;
        let name = format!(
            "palisade_e2e_{test}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        );
        Some(PostgresSchema { url, name })
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}
