//! Elastic Common Schema (ECS) encoding of [`SecurityEvent`], and back.
//!
//! One document format serves the JSON lines sink, the on-disk spool and the
//! `--format json` renderer. Documents are flat objects with dotted ECS keys
//! (`{"event.action": "malicious_sqli", ...}`); Elasticsearch, OpenSearch and
//! most shippers expand dotted keys, and a flat document parses back without
//! ambiguity.
//!
//! | `SecurityEvent`  | ECS key |
//! | ---------------- | ------- |
//! | `timestamp_ms`   | `@timestamp` (RFC 3339, UTC, milliseconds) |
//! | `action`         | `event.action` |
//! | `category`       | `event.category` |
//! | `outcome`        | `event.outcome` |
//! | `severity`       | `event.severity` (1, 21, 47, 73, 99) and `log.level` (`info` … `critical`) |
//! | `message`        | `message` |
//! | `request_id`     | `http.request.id` |
//! | `source_ip`      | `source.ip` |
//! | `route`          | `palisade.route` |
//! | `rule_ids`       | `rule.id` (array) |
//! | `fields`         | each key as given (`url.path`, `user.name`, `http.request.method`, `palisade.*`) |
//!
//! Derived keys: `ecs.version`, `event.kind` (`alert` when rules matched or the
//! severity is high or critical, else `event`) and `event.type` (`info`). A key
//! in `fields` overrides a derived key; the core keys above always win over
//! `fields`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use palisade_core::civil::{civil_from_days, days_from_civil};
use palisade_core::{EventOutcome, SecurityEvent, Severity};
use serde_json::{Map, Value};

use crate::error::{ErrorKind, EventsError, Result};

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "8.11.0";

const KEY_TIMESTAMP: &str = "@timestamp";
const KEY_ACTION: &str = "event.action";
const KEY_CATEGORY: &str = "event.category";
const KEY_OUTCOME: &str = "event.outcome";
const KEY_SEVERITY: &str = "event.severity";
const KEY_LEVEL: &str = "log.level";
const KEY_MESSAGE: &str = "message";
const KEY_REQUEST_ID: &str = "http.request.id";
const KEY_SOURCE_IP: &str = "source.ip";
const KEY_ROUTE: &str = "palisade.route";
const KEY_RULE_ID: &str = "rule.id";
const KEY_ECS_VERSION: &str = "ecs.version";
const KEY_KIND: &str = "event.kind";
const KEY_TYPE: &str = "event.type";

/// Every severity, lowest first.
pub const SEVERITIES: [Severity; 5] = [
    Severity::Info,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

/// Rank of a severity, 0 (info) to 4 (critical); what the SQLite store keeps.
pub fn severity_rank(severity: Severity) -> i64 {
    match severity {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// The severity of a rank from [`severity_rank`].
pub fn severity_from_rank(rank: i64) -> Option<Severity> {
    usize::try_from(rank)
        .ok()
        .and_then(|i| SEVERITIES.get(i).copied())
}

/// Lower-case name: `info`, `low`, `medium`, `high`, `critical`.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// Parses a severity name (case-insensitive), e.g. a CLI `--min-severity high`.
pub fn parse_severity(name: &str) -> Result<Severity> {
    SEVERITIES
        .into_iter()
        .find(|s| severity_name(*s).eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| EventsError::invalid_value("severity", name))
}

/// ECS numeric `event.severity`.
pub fn ecs_severity(severity: Severity) -> i64 {
    match severity {
        Severity::Info => 1,
        Severity::Low => 21,
        Severity::Medium => 47,
        Severity::High => 73,
        Severity::Critical => 99,
    }
}

fn severity_from_ecs(number: i64) -> Severity {
    match number {
        i64::MIN..=20 => Severity::Info,
        21..=46 => Severity::Low,
        47..=72 => Severity::Medium,
        73..=98 => Severity::High,
        _ => Severity::Critical,
    }
}

/// ECS `event.outcome` value.
pub fn outcome_name(outcome: EventOutcome) -> &'static str {
    match outcome {
        EventOutcome::Success => "success",
        EventOutcome::Failure => "failure",
        EventOutcome::Unknown => "unknown",
    }
}

/// Parses an `event.outcome` value.
pub fn parse_outcome(name: &str) -> Option<EventOutcome> {
    match name {
        "success" => Some(EventOutcome::Success),
        "failure" => Some(EventOutcome::Failure),
        "unknown" => Some(EventOutcome::Unknown),
        _ => None,
    }
}

fn derived_kind(event: &SecurityEvent) -> &'static str {
    if !event.rule_ids.is_empty() || event.severity >= Severity::High {
        "alert"
    } else {
        "event"
    }
}

fn derived_value(event: &SecurityEvent, key: &str) -> Option<&'static str> {
    match key {
        KEY_ECS_VERSION => Some(ECS_VERSION),
        KEY_KIND => Some(derived_kind(event)),
        KEY_TYPE => Some("info"),
        _ => None,
    }
}

/// Encodes an event as a flat ECS document (see the module docs).
pub fn to_ecs(event: &SecurityEvent) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert(
        KEY_TIMESTAMP.into(),
        format_timestamp(event.timestamp_ms).into(),
    );
    for key in [KEY_ECS_VERSION, KEY_KIND, KEY_TYPE] {
        if let Some(value) = derived_value(event, key) {
            doc.insert(key.into(), value.into());
        }
    }
    for (key, value) in &event.fields {
        doc.insert(key.clone(), value.clone());
    }
    doc.insert(KEY_ACTION.into(), event.action.clone().into());
    doc.insert(KEY_CATEGORY.into(), event.category.clone().into());
    doc.insert(KEY_OUTCOME.into(), outcome_name(event.outcome).into());
    doc.insert(KEY_SEVERITY.into(), ecs_severity(event.severity).into());
    doc.insert(KEY_LEVEL.into(), severity_name(event.severity).into());
    doc.insert(KEY_MESSAGE.into(), event.message.clone().into());
    if let Some(id) = &event.request_id {
        doc.insert(KEY_REQUEST_ID.into(), id.clone().into());
    }
    if let Some(ip) = event.source_ip {
        doc.insert(KEY_SOURCE_IP.into(), ip.to_string().into());
    }
    if let Some(route) = &event.route {
        doc.insert(KEY_ROUTE.into(), route.clone().into());
    }
    if !event.rule_ids.is_empty() {
        doc.insert(KEY_RULE_ID.into(), event.rule_ids.clone().into());
    }
    doc
}

fn invalid(reason: impl Into<String>) -> EventsError {
    ErrorKind::InvalidRecord(reason.into()).into()
}

fn take_string(doc: &mut Map<String, Value>, key: &str) -> Result<Option<String>> {
    match doc.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{key} is not a string"))),
    }
}

fn require_string(doc: &mut Map<String, Value>, key: &str) -> Result<String> {
    take_string(doc, key)?.ok_or_else(|| invalid(format!("{key} is missing")))
}

/// Decodes a flat ECS document made by [`to_ecs`] back into an event.
pub fn from_ecs(mut doc: Map<String, Value>) -> Result<SecurityEvent> {
    let timestamp = require_string(&mut doc, KEY_TIMESTAMP)?;
    let timestamp_ms = parse_timestamp(&timestamp)?;
    let action = require_string(&mut doc, KEY_ACTION)?;
    let category = require_string(&mut doc, KEY_CATEGORY)?;
    let outcome = match take_string(&mut doc, KEY_OUTCOME)? {
        None => EventOutcome::Unknown,
        Some(name) => {
            parse_outcome(&name).ok_or_else(|| invalid(format!("unknown outcome {name:?}")))?
        }
    };
    let level = take_string(&mut doc, KEY_LEVEL)?;
    let numeric = doc.remove(KEY_SEVERITY).and_then(|v| v.as_i64());
    let severity = match (level, numeric) {
        (Some(name), _) => parse_severity(&name)?,
        (None, Some(number)) => severity_from_ecs(number),
        (None, None) => return Err(invalid("severity is missing")),
    };
    let message = take_string(&mut doc, KEY_MESSAGE)?.unwrap_or_default();
    let request_id = take_string(&mut doc, KEY_REQUEST_ID)?;
    let source_ip = match take_string(&mut doc, KEY_SOURCE_IP)? {
        None => None,
        Some(text) => Some(
            text.parse::<IpAddr>()
                .map_err(|_| invalid(format!("source.ip {text:?} is not an IP address")))?,
        ),
    };
    let route = take_string(&mut doc, KEY_ROUTE)?;
    let rule_ids = match doc.remove(KEY_RULE_ID) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(one)) => vec![one],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(invalid("rule.id holds a non-string")),
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(invalid("rule.id is not a string or array")),
    };
    let mut event = SecurityEvent {
        timestamp_ms,
        action,
        category,
        outcome,
        severity,
        request_id,
        source_ip,
        route,
        message,
        rule_ids,
        fields: BTreeMap::new(),
    };
    // Derived keys equal to what `to_ecs` derives are not part of `fields`.
    doc.retain(|key, value| {
        derived_value(&event, key).is_none_or(|derived| value.as_str() != Some(derived))
    });
    event.fields = doc.into_iter().collect();
    Ok(event)
}

const MS_PER_DAY: i64 = 86_400_000;

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds,
/// e.g. `2026-11-29T09:52:34.123Z`. Years outside 0000–9999 get a sign (ISO 8601
/// expanded form).
pub fn format_timestamp(timestamp_ms: i64) -> String {
    let days = timestamp_ms.div_euclid(MS_PER_DAY);
    let ms_of_day = timestamp_ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
    let (second, milli) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
    if (0..=9999).contains(&year) {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
    } else {
        format!("{year:+05}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
    }
}

/// Parses an RFC 3339 UTC timestamp (`Z` or `+00:00`, optional fraction) into
/// milliseconds since the Unix epoch. Accepts what [`format_timestamp`] makes.
pub fn parse_timestamp(text: &str) -> Result<i64> {
    let bad = || EventsError::invalid_value("RFC 3339 UTC timestamp", text);
    let bytes = text.as_bytes();
    if bytes.len() > 40 {
        return Err(bad());
    }
    // Year: optional sign, at least 4 digits, up to the first '-' after a digit.
    let sign_len = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let year_end = bytes[sign_len..]
        .iter()
        .position(|b| *b == b'-')
        .map(|p| p + sign_len)
        .ok_or_else(bad)?;
    if year_end - sign_len < 4 || year_end - sign_len > 9 {
        return Err(bad());
    }
    let year: i64 = text[..year_end].parse().map_err(|_| bad())?;
    let rest = &bytes[year_end..];
    // "-MM-DDTHH:MM:SS" is 15 bytes.
    if rest.len() < 16 || rest[0] != b'-' || rest[3] != b'-' || !matches!(rest[6], b'T' | b't') {
        return Err(bad());
    }
    if rest[9] != b':' || rest[12] != b':' {
        return Err(bad());
    }
    let number = |range: std::ops::Range<usize>| -> Result<i64> {
        let part = &rest[range];
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        part.iter()
            .try_fold(0i64, |acc, d| Ok(acc * 10 + i64::from(d - b'0')))
    };
    let (month, day) = (number(1..3)?, number(4..6)?);
    let (hour, minute, second) = (number(7..9)?, number(10..12)?, number(13..15)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let mut tail = &rest[15..];
    let mut milli = 0;
    if let Some((b'.', fraction)) = tail.split_first() {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(bad());
        }
        for (i, d) in fraction[..digits.min(3)].iter().enumerate() {
            milli += i64::from(d - b'0') * [100, 10, 1][i];
        }
        tail = &fraction[digits..];
    }
    if !matches!(tail, b"Z" | b"z" | b"+00:00") {
        return Err(bad());
    }
    let seconds_of_day = hour * 3600 + minute * 60 + second.min(59);
    days_from_civil(year, month, day)
        .checked_mul(MS_PER_DAY)
        .and_then(|ms| ms.checked_add(seconds_of_day * 1000 + milli))
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_and_parse_back() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_780_000_000_123, "2026-05-28T20:26:40.123Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
            (253_402_300_800_000, "+10000-01-01T00:00:00.000Z"),
            (-62_167_219_200_001, "-0001-12-31T23:59:59.999Z"),
        ];
        for (ms, text) in cases {
            assert_eq!(format_timestamp(ms), text, "format {ms}");
            assert_eq!(parse_timestamp(text).ok(), Some(ms), "parse {text}");
        }
    }

    #[test]
    fn timestamp_parser_accepts_rfc3339_utc_variants_and_rejects_garbage() {
        assert_eq!(
            parse_timestamp("2026-05-28T20:26:40Z").ok(),
            Some(1_780_000_000_000)
        );
        assert_eq!(
            parse_timestamp("2026-05-28T20:26:40.1234567+00:00").ok(),
            Some(1_780_000_000_123)
        );
        for bad in [
            "",
            "2026-05-28",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-05-28T24:00:00Z",
            "2026-05-28T20:26:40+02:00",
            "2026-05-28T20:26:40.Z",
            "26-05-28T20:26:40Z",
            "2026-05-28T20:26:40Zjunk",
            "２026-05-28T20:26:40Z",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn severity_names_and_ranks_round_trip() {
        for severity in SEVERITIES {
            assert_eq!(parse_severity(severity_name(severity)).ok(), Some(severity));
            assert_eq!(severity_from_rank(severity_rank(severity)), Some(severity));
            assert_eq!(severity_from_ecs(ecs_severity(severity)), severity);
        }
        assert!(parse_severity("urgent").is_err());
        assert_eq!(severity_from_rank(5), None);
    }
}
