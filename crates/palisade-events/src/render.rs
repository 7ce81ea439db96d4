//! Plain renderers for `palisade events` output: aligned text tables and JSON.
//!
//! Tables pass every string through [`escape_text`], so stored attacker input
//! cannot inject lines or terminal control sequences; long cells are cut to a
//! column width with `…`. JSON output is one ECS document per line (see
//! [`crate::ecs`]) with the store id as `palisade.event.id`.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::ecs::{format_timestamp, severity_name, to_ecs};
use crate::error::{ErrorKind, EventsError, Result};
use crate::escape::escape_text;
use crate::query::{CountedValue, EventStats, StoredEvent};
use crate::schema::PATH_FIELD;

/// `--format table|json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// Aligned text columns.
    #[default]
    Table,
    /// JSON: one ECS document per line for events, one object for statistics.
    Json,
}

impl std::str::FromStr for OutputFormat {
    type Err = EventsError;

    fn from_str(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(OutputFormat::Table),
            "json" => Ok(OutputFormat::Json),
            _ => Err(EventsError::invalid_value(
                "output format (table|json)",
                text,
            )),
        }
    }
}

/// Longest a table cell gets, in characters, before it is cut.
const MAX_CELL_CHARS: usize = 60;

fn cell(text: &str) -> String {
    let escaped = escape_text(text);
    if escaped.chars().count() <= MAX_CELL_CHARS {
        return escaped.into_owned();
    }
    let mut cut: String = escaped.chars().take(MAX_CELL_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Formats rows as left-aligned columns separated by two spaces, with a header.
/// Cells must already be escaped.
fn format_columns(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, value) in widths.iter_mut().zip(row) {
            *width = (*width).max(value.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, (value, width)) in cells.zip(&widths).enumerate() {
            if i + 1 == widths.len() {
                text.push_str(value);
            } else {
                let pad = width.saturating_sub(value.chars().count());
                let _ = write!(text, "{value}{:pad$}  ", "");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// Renders events as a table: id, time, severity, action, source, rules,
/// route or path, message.
pub fn render_table(events: &[StoredEvent]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|stored| {
            let event = &stored.event;
            let place = event
                .route
                .clone()
                .or_else(|| {
                    event
                        .fields
                        .get(PATH_FIELD)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            vec![
                stored.id.to_string(),
                format_timestamp(event.timestamp_ms),
                severity_name(event.severity).to_owned(),
                cell(&event.action),
                event
                    .source_ip
                    .map(|ip| ip.to_string())
                    .unwrap_or_else(|| "-".into()),
                cell(&event.rule_ids.join(",")),
                cell(&place),
                cell(&event.message),
            ]
        })
        .collect();
    format_columns(
        &[
            "ID",
            "TIME",
            "SEVERITY",
            "ACTION",
            "SOURCE",
            "RULES",
            "ROUTE/PATH",
            "MESSAGE",
        ],
        &rows,
    )
}

/// Renders events as JSON lines: one ECS document per event.
pub fn render_json(events: &[StoredEvent]) -> String {
    let mut out = String::new();
    for stored in events {
        let mut doc = to_ecs(&stored.event);
        doc.insert("palisade.event.id".into(), stored.id.into());
        // A map of JSON values always serializes.
        out.push_str(&Value::Object(doc).to_string());
        out.push('\n');
    }
    out
}

/// Renders events in `format`.
pub fn render_events(format: OutputFormat, events: &[StoredEvent]) -> String {
    match format {
        OutputFormat::Table => render_table(events),
        OutputFormat::Json => render_json(events),
    }
}

/// Renders statistics as one table per dimension.
pub fn render_stats_table(stats: &EventStats) -> String {
    let mut out = format!("events: {}\n", stats.total);
    let sections: [(&str, &[CountedValue]); 6] = [
        ("SEVERITY", &stats.by_severity),
        ("ACTION", &stats.top_actions),
        ("SOURCE IP", &stats.top_source_ips),
        ("RULE", &stats.top_rules),
        ("PATH", &stats.top_paths),
        ("USER", &stats.top_users),
    ];
    for (title, values) in sections {
        if values.is_empty() {
            continue;
        }
        let rows: Vec<Vec<String>> = values
            .iter()
            .map(|c| vec![c.count.to_string(), cell(&c.value)])
            .collect();
        out.push('\n');
        out.push_str(&format_columns(&["COUNT", title], &rows));
    }
    out
}

/// Renders statistics as one pretty JSON object.
pub fn render_stats_json(stats: &EventStats) -> String {
    // Plain strings and integers always serialize.
    let mut text = serde_json::to_string_pretty(stats).unwrap_or_default();
    text.push('\n');
    text
}

/// Renders statistics in `format`.
pub fn render_stats(format: OutputFormat, stats: &EventStats) -> String {
    match format {
        OutputFormat::Table => render_stats_table(stats),
        OutputFormat::Json => render_stats_json(stats),
    }
}

/// Writes rendered text to `--output FILE`, or to standard output when `None`.
pub fn write_output(path: Option<&Path>, text: &str) -> Result<()> {
    use std::io::Write as _;
    match path {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| EventsError::io("cannot write", path, e))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|source| {
                    ErrorKind::Stream {
                        context: "cannot write to standard output",
                        source,
                    }
                    .into()
                })
        }
    }
}
