//! One connection type over both drivers, so the queries and the retention of
//! the event stores are written once: SQL text with numbered placeholders
//! (`?N` for SQLite, `$N` for PostgreSQL) and typed parameters.

use palisade_core::SecurityEvent;
use postgres::types::ToSql;

use crate::error::{ErrorKind, EventsError, Result};
use crate::schema::Retention;
use crate::schema::{FromColumns, RawRow};

/// A query parameter.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// SQL text and its parameters, built for one connection's dialect.
#[derive(Debug)]
pub(crate) struct Query {
    postgres: bool,
    pub(crate) text: String,
    params: Vec<Param>,
}

impl Query {
    /// Binds a parameter; returns its placeholder.
    pub(crate) fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        let n = self.params.len();
        if self.postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    }

    /// Appends ` WHERE a AND b …` (nothing when `conditions` is empty).
    pub(crate) fn push_where(&mut self, conditions: &[String]) {
        if !conditions.is_empty() {
            self.text.push_str(" WHERE ");
            self.text.push_str(&conditions.join(" AND "));
        }
    }

    /// The collation that orders text by code point in both databases (so ties
    /// in statistics break the same way whatever the server's locale).
    pub(crate) fn binary_collation(&self) -> &'static str {
        if self.postgres { " COLLATE \"C\"" } else { "" }
    }
}

/// A connection of either store.
pub(crate) enum Conn<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a mut postgres::Client),
}

fn sqlite(context: &'static str) -> impl FnOnce(rusqlite::Error) -> EventsError {
    move |source| EventsError::sqlite(context, source)
}

fn pg(context: &'static str) -> impl FnOnce(postgres::Error) -> EventsError {
    move |source| ErrorKind::Postgres { context, source }.into()
}

fn sqlite_params(params: &[Param]) -> impl rusqlite::Params + '_ {
    rusqlite::params_from_iter(params.iter().map(|param| match param {
        Param::Int(value) => rusqlite::types::Value::Integer(*value),
        Param::Text(value) => rusqlite::types::Value::Text(value.clone()),
    }))
}

fn pg_params(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|param| match param {
            Param::Int(value) => value as &(dyn ToSql + Sync),
            Param::Text(value) => value as &(dyn ToSql + Sync),
        })
        .collect()
}

impl Conn<'_> {
    /// An empty query in this connection's dialect.
    pub(crate) fn query(&self, text: impl Into<String>) -> Query {
        Query {
            postgres: matches!(self, Conn::Postgres(_)),
            text: text.into(),
            params: Vec::new(),
        }
    }

    /// Every row of the result, each read as a `T`.
    fn rows<T: FromColumns>(&mut self, query: &Query, context: &'static str) -> Result<Vec<T>> {
        match self {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare(&query.text).map_err(sqlite(context))?;
                statement
                    .query_map(sqlite_params(&query.params), |row| T::read(row))
                    .map_err(sqlite(context))?
                    .collect::<rusqlite::Result<_>>()
                    .map_err(sqlite(context))
            }
            Conn::Postgres(client) => client
                .query(&query.text, &pg_params(&query.params))
                .map_err(pg(context))?
                .iter()
                .map(T::read)
                .collect::<std::result::Result<_, postgres::Error>>()
                .map_err(pg(context)),
        }
    }

    /// Rows of [`crate::schema::EVENT_COLUMNS`], decoded.
    pub(crate) fn events(
        &mut self,
        query: &Query,
        context: &'static str,
    ) -> Result<Vec<(i64, SecurityEvent)>> {
        self.rows::<RawRow>(query, context)?
            .into_iter()
            .map(RawRow::decode)
            .collect()
    }

    /// Rows of (text, count).
    pub(crate) fn counts(
        &mut self,
        query: &Query,
        context: &'static str,
    ) -> Result<Vec<(String, i64)>> {
        self.rows(query, context)
    }

    /// The integers in the first column of every row.
    pub(crate) fn ints(&mut self, query: &Query, context: &'static str) -> Result<Vec<i64>> {
        self.rows(query, context)
    }

    /// The integer in the first column of the first row, if there is a row.
    pub(crate) fn int(&mut self, query: &Query, context: &'static str) -> Result<Option<i64>> {
        match self {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare(&query.text).map_err(sqlite(context))?;
                let mut rows = statement
                    .query(sqlite_params(&query.params))
                    .map_err(sqlite(context))?;
                rows.next()
                    .map_err(sqlite(context))?
                    .map(|row| row.get(0))
                    .transpose()
                    .map_err(sqlite(context))
            }
            Conn::Postgres(client) => client
                .query_opt(&query.text, &pg_params(&query.params))
                .map_err(pg(context))?
                .map(|row| row.try_get(0))
                .transpose()
                .map_err(pg(context)),
        }
    }

    /// Runs a statement; returns how many rows it changed.
    pub(crate) fn execute(&mut self, query: &Query, context: &'static str) -> Result<u64> {
        match self {
            Conn::Sqlite(conn) => conn
                .execute(&query.text, sqlite_params(&query.params))
                .map(|n| n as u64)
                .map_err(sqlite(context)),
            Conn::Postgres(client) => client
                .execute(&query.text, &pg_params(&query.params))
                .map_err(pg(context)),
        }
    }

    fn batch(&mut self, text: &str, context: &'static str) -> Result<()> {
        match self {
            Conn::Sqlite(conn) => conn.execute_batch(text).map_err(sqlite(context)),
            Conn::Postgres(client) => client.batch_execute(text).map_err(pg(context)),
        }
    }

    /// Runs `work` in one transaction: committed when it succeeds, rolled back
    /// when it fails.
    pub(crate) fn transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.batch("BEGIN", "cannot start a transaction")?;
        match work(self) {
            Ok(value) => {
                self.batch("COMMIT", "cannot commit")?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = self.batch("ROLLBACK", "cannot roll back") {
                    tracing::warn!(error = %rollback, "event store transaction not rolled back");
                }
                Err(error)
            }
        }
    }

    /// A query of one parameter: `build` gets its placeholder.
    fn with_param(&self, param: Param, build: impl FnOnce(&str) -> String) -> Query {
        let mut query = self.query("");
        let placeholder = query.bind(param);
        query.text = build(&placeholder);
        query
    }

    /// Deletes events past the retention limits, in one transaction; returns
    /// how many went.
    pub(crate) fn enforce_retention(&mut self, retention: &Retention, now_ms: i64) -> Result<u64> {
        const CONTEXT: &str = "cannot apply retention";
        self.transaction(|conn| {
            let mut deleted = 0;
            if let Some(max_age) = retention.max_age {
                let cutoff = Param::Int(
                    now_ms.saturating_sub(i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX)),
                );
                let rules = conn.with_param(cutoff.clone(), |at| {
                    format!(
                        "DELETE FROM event_rules WHERE event_id IN (SELECT id FROM events WHERE ts_ms < {at})"
                    )
                });
                conn.execute(&rules, CONTEXT)?;
                let events =
                    conn.with_param(cutoff, |at| format!("DELETE FROM events WHERE ts_ms < {at}"));
                deleted += conn.execute(&events, CONTEXT)?;
            }
            if let Some(max_rows) = retention.max_rows {
                let offset = Param::Int(i64::try_from(max_rows).unwrap_or(i64::MAX));
                let newest_dropped = conn.with_param(offset, |offset| {
                    format!("SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET {offset}")
                });
                if let Some(id) = conn.int(&newest_dropped, CONTEXT)? {
                    let rules = conn.with_param(Param::Int(id), |at| {
                        format!("DELETE FROM event_rules WHERE event_id <= {at}")
                    });
                    conn.execute(&rules, CONTEXT)?;
                    let events = conn.with_param(Param::Int(id), |at| {
                        format!("DELETE FROM events WHERE id <= {at}")
                    });
                    deleted += conn.execute(&events, CONTEXT)?;
                }
            }
            Ok(deleted)
        })
    }
}
