//! The audit log: one JSON object per line for each audited transaction, in ModSecurity v3's
//! JSON audit log format (`SecAuditLogFormat JSON`).
//!
//! What is audited follows `SecAuditEngine`: `On` every transaction, `RelevantOnly` those that
//! were disrupted, matched a rule that logs, or ended with a status matching
//! `SecAuditLogRelevantStatus`; `Off` (ModSecurity's default) none. `SecAuditLog` names the
//! file (opened for appending on the first record; the last directive wins, so a path appended
//! after the user's rules overrides theirs). `SecAuditLogParts` chooses the sections: `B` request
//! headers, `C` request body, `F` response headers, `H` messages and producer (`A` and `Z` are
//! implied; other parts have no JSON section here). The format is JSON whatever
//! `SecAuditLogFormat` says. `ctl:auditEngine` changes the mode for one transaction (it cannot
//! turn on an audit log that `SecAuditEngine Off` left without a file).
//!
//! Secrets never reach the log: the values of credential headers (`Authorization`, `Cookie`,
//! `Set-Cookie`, …) are replaced by `[redacted]`. Each rule's static facts (file, line, `ver`,
//! `rev`, `maturity`, `accuracy`) come from the parsed rule files, kept only when auditing is on.
//! A message's `match` is the rule's expanded `logdata` (CRS writes the matched data and
//! variable there); `reference` (ModSecurity's match offsets) is empty.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use palisade_seclang::{Action, Config, Directive, Setting};
use serde_json::{Map, Value, json};

use crate::WafError;
use crate::transaction::{Intervention, MatchedRule};

/// Header values never written to the audit log.
const REDACTED_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// ModSecurity's default `SecAuditLogParts`.
const DEFAULT_PARTS: &str = "ABCFHZ";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuditEngine {
    Off,
    On,
    RelevantOnly,
}

/// Static facts of one rule, for its messages.
#[derive(Debug, Default)]
struct RuleFacts {
    file: String,
    line: u32,
    ver: String,
    rev: String,
    maturity: u8,
    accuracy: u8,
}

/// The audit log of one loaded rule set.
#[derive(Debug)]
pub(crate) struct AuditLog {
    engine: AuditEngine,
    parts: String,
    relevant_status: Option<regex::Regex>,
    path: PathBuf,
    file: Mutex<Option<File>>,
    open_failed: AtomicBool,
    rules: HashMap<u64, RuleFacts>,
    components: Vec<String>,
}

/// One transaction as the audit log records it.
pub(crate) struct AuditRecord<'a> {
    pub request_id: &'a str,
    pub client_addr: SocketAddr,
    pub server_addr: SocketAddr,
    pub method: &'a str,
    pub http_version: http::Version,
    pub uri: &'a str,
    pub request_headers: &'a http::HeaderMap,
    pub request_body: Option<&'a [u8]>,
    pub status: u16,
    pub response_headers: &'a [(String, Vec<u8>)],
    pub matched: &'a [MatchedRule],
    pub intervention: Option<&'a Intervention>,
    pub detection_only: bool,
}

impl AuditLog {
    /// The audit log the directives of `config` ask for; `None` when auditing is off or no
    /// `SecAuditLog` is given.
    pub(crate) fn from_config(config: &Config) -> Result<Option<AuditLog>, WafError> {
        let mut engine = AuditEngine::Off;
        let mut path = None;
        let mut parts = DEFAULT_PARTS.to_owned();
        let mut relevant_status = None;
        let mut components = Vec::new();
        for directive in &config.directives {
            let Directive::Setting(setting) = directive else {
                continue;
            };
            match setting {
                Setting::AuditEngine(value) => {
                    engine = parse_engine(value).ok_or_else(|| {
                        WafError::invalid(format!(
                            "SecAuditEngine {value:?}: expected On, Off or RelevantOnly"
                        ))
                    })?;
                }
                Setting::AuditLog(value) => path = Some(PathBuf::from(value)),
                Setting::AuditLogParts(value) => parts = value.to_ascii_uppercase(),
                Setting::ComponentSignature(value) => components.push(value.clone()),
                Setting::Other { name, args }
                    if name.eq_ignore_ascii_case("SecAuditLogRelevantStatus") =>
                {
                    let pattern = args.first().map(String::as_str).unwrap_or_default();
                    relevant_status = Some(regex::Regex::new(pattern).map_err(|error| {
                        WafError::invalid(format!("SecAuditLogRelevantStatus {pattern:?}: {error}"))
                    })?);
                }
                _ => {}
            }
        }
        let Some(path) = path.filter(|_| engine != AuditEngine::Off) else {
            return Ok(None);
        };
        Ok(Some(AuditLog {
            engine,
            parts,
            relevant_status,
            path,
            file: Mutex::new(None),
            open_failed: AtomicBool::new(false),
            rules: rule_facts(config),
            components,
        }))
    }

    /// Whether `SecAuditLogParts` includes `part`.
    pub(crate) fn has_part(&self, part: char) -> bool {
        self.parts.contains(part)
    }

    /// Whether a transaction with this outcome is audited; `ctl_engine` is the mode a rule
    /// chose for it with `ctl:auditEngine` (On, Off or RelevantOnly), if any.
    pub(crate) fn wants(
        &self,
        ctl_engine: Option<&str>,
        disrupted: bool,
        matched: &[MatchedRule],
        status: u16,
    ) -> bool {
        let engine = ctl_engine.and_then(parse_engine).unwrap_or(self.engine);
        match engine {
            AuditEngine::Off => false,
            AuditEngine::On => true,
            AuditEngine::RelevantOnly => {
                disrupted
                    || matched.iter().any(|rule| rule.logged)
                    || self
                        .relevant_status
                        .as_ref()
                        .is_some_and(|re| re.is_match(&status.to_string()))
            }
        }
    }

    /// Appends one record (a line of JSON). A file that cannot be opened or written is
    /// reported once and the record dropped: the audit log never stops traffic.
    pub(crate) fn write(&self, record: &AuditRecord<'_>) {
        let mut line = self.render(record).to_string();
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if file.is_none() {
            match OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
            {
                Ok(opened) => *file = Some(opened),
                Err(error) => {
                    if !self.open_failed.swap(true, Ordering::Relaxed) {
                        tracing::error!(path = %self.path.display(), %error, "cannot open the WAF audit log; records are dropped");
                    }
                    return;
                }
            }
        }
        if let Some(open) = file.as_mut()
            && let Err(error) = open.write_all(line.as_bytes())
        {
            tracing::error!(path = %self.path.display(), %error, "cannot write the WAF audit log");
            *file = None;
        }
    }

    fn render(&self, record: &AuditRecord<'_>) -> Value {
        let mut request = Map::new();
        request.insert("method".into(), record.method.into());
        request.insert("http_version".into(), http_version(record.http_version));
        request.insert("uri".into(), record.uri.into());
        if self.has_part('B') {
            let headers = record
                .request_headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes()));
            request.insert("headers".into(), header_object(headers));
        }
        if self.has_part('C')
            && let Some(body) = record.request_body
        {
            request.insert(
                "body".into(),
                String::from_utf8_lossy(body).into_owned().into(),
            );
        }
        let mut response = Map::new();
        response.insert("http_code".into(), record.status.into());
        if self.has_part('F') {
            let headers = record
                .response_headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_slice()));
            response.insert("headers".into(), header_object(headers));
        }
        let mut transaction = Map::new();
        transaction.insert(
            "client_ip".into(),
            record.client_addr.ip().to_string().into(),
        );
        transaction.insert("time_stamp".into(), ctime(SystemTime::now()).into());
        transaction.insert("server_id".into(), "palisade".into());
        transaction.insert("client_port".into(), record.client_addr.port().into());
        transaction.insert("host_ip".into(), record.server_addr.ip().to_string().into());
        transaction.insert("host_port".into(), record.server_addr.port().into());
        transaction.insert("unique_id".into(), record.request_id.into());
        transaction.insert("request".into(), Value::Object(request));
        transaction.insert("response".into(), Value::Object(response));
        if self.has_part('H') {
            transaction.insert(
                "producer".into(),
                json!({
                    "modsecurity": concat!("Palisade ", env!("CARGO_PKG_VERSION")),
                    "connector": "palisade-gateway",
                    "secrules_engine": if record.detection_only { "DetectionOnly" } else { "Enabled" },
                    "components": self.components,
                    "ruleset": self.components.first(),
                }),
            );
            transaction.insert("messages".into(), Value::Array(self.messages(record)));
        }
        json!({ "transaction": transaction })
    }

    /// One message per matched rule that logs, and the disruptive rule.
    fn messages(&self, record: &AuditRecord<'_>) -> Vec<Value> {
        let disruptive = record.intervention.map(|i| i.rule_id);
        record
            .matched
            .iter()
            .filter(|rule| rule.logged || Some(rule.id) == disruptive)
            .map(|rule| {
                let facts = self.rules.get(&rule.id);
                let text = |f: fn(&RuleFacts) -> String| facts.map(f).unwrap_or_default();
                json!({
                    "message": rule.message,
                    "details": {
                        "match": rule.logdata,
                        "reference": "",
                        "ruleId": rule.id.to_string(),
                        "file": text(|f| f.file.clone()),
                        "lineNumber": text(|f| f.line.to_string()),
                        "data": rule.logdata,
                        "severity": rule.severity.map(|s| s.to_string()).unwrap_or_else(|| "0".to_owned()),
                        "ver": text(|f| f.ver.clone()),
                        "rev": text(|f| f.rev.clone()),
                        "tags": &*rule.tags,
                        "maturity": text(|f| f.maturity.to_string()),
                        "accuracy": text(|f| f.accuracy.to_string()),
                    }
                })
            })
            .collect()
    }
}

fn parse_engine(value: &str) -> Option<AuditEngine> {
    match value.to_ascii_lowercase().as_str() {
        "on" => Some(AuditEngine::On),
        "off" => Some(AuditEngine::Off),
        "relevantonly" => Some(AuditEngine::RelevantOnly),
        _ => None,
    }
}

/// File, line and metadata actions of every rule with an id.
fn rule_facts(config: &Config) -> HashMap<u64, RuleFacts> {
    let mut facts = HashMap::new();
    for directive in &config.directives {
        let Directive::Rule(located) = directive else {
            continue;
        };
        let mut id = None;
        let mut rule = RuleFacts {
            file: located.location.file.to_string(),
            line: located.location.line,
            ..RuleFacts::default()
        };
        for action in &located.item.actions {
            match action {
                Action::Id(value) => id = Some(*value),
                Action::Ver(value) => rule.ver.clone_from(value),
                Action::Rev(value) => rule.rev.clone_from(value),
                Action::Maturity(value) => rule.maturity = *value,
                Action::Accuracy(value) => rule.accuracy = *value,
                _ => {}
            }
        }
        if let Some(id) = id {
            facts.insert(id, rule);
        }
    }
    facts
}

/// Headers as a JSON object (repeated names joined with `, `), credentials redacted.
fn header_object<'h>(headers: impl Iterator<Item = (&'h str, &'h [u8])>) -> Value {
    let mut object = Map::new();
    for (name, value) in headers {
        let value = if REDACTED_HEADERS
            .iter()
            .any(|secret| name.eq_ignore_ascii_case(secret))
        {
            "[redacted]".to_owned()
        } else {
            String::from_utf8_lossy(value).into_owned()
        };
        match object.get_mut(name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                object.insert(name.to_owned(), value.into());
            }
        }
    }
    Value::Object(object)
}

/// `1.1`, `1.0`, `2.0` … as ModSecurity v3 writes the version (a number).
fn http_version(version: http::Version) -> Value {
    let number = match version {
        http::Version::HTTP_09 => 0.9,
        http::Version::HTTP_10 => 1.0,
        http::Version::HTTP_2 => 2.0,
        http::Version::HTTP_3 => 3.0,
        _ => 1.1,
    };
    json!(number)
}

/// `Sun Nov 29 12:34:56 2026` (UTC), ModSecurity's `time_stamp` form.
fn ctime(time: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let (year, month, day) = palisade_core::civil::civil_from_days(days as i64);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60,
        year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamps_are_in_ctime_form() {
        let time = UNIX_EPOCH + std::time::Duration::from_secs(1_795_955_696);
        assert_eq!(ctime(time), "Sun Nov 29 12:34:56 2026");
        assert_eq!(ctime(UNIX_EPOCH), "Thu Jan  1 00:00:00 1970");
    }

    #[test]
    fn credentials_are_redacted_and_repeated_headers_joined() {
        let headers = [
            ("Authorization", b"Bearer secret".as_slice()),
            ("accept", b"a".as_slice()),
            ("accept", b"b".as_slice()),
            ("cookie", b"session=secret".as_slice()),
        ];
        let object = header_object(headers.into_iter());
        assert_eq!(
            object,
            json!({"Authorization": "[redacted]", "accept": "a, b", "cookie": "[redacted]"})
        );
    }
}
