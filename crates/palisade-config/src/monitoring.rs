//! Configuration of security events, anomaly monitoring and alerting:
//! the `[events]`, `[monitor]` and `[alert]` tables.
//!
//! ```toml
//! [events]
//! store = "postgres"                       # default "sqlite" (data_dir/events.sqlite3)
//! postgres_url = "env:PALISADE_POSTGRES_URL"
//! postgres_schema = "palisade"
//! [events.bulk]                            # Elasticsearch / OpenSearch _bulk
//! url = "https://es.example:9200"
//! index = "palisade-events"
//! authorization = "env:ES_AUTHORIZATION"   # "ApiKey ..." or "Basic ..."
//!
//! [monitor]
//! geoip_city = "/var/lib/GeoIP/GeoLite2-City.mmdb"
//! allow_networks = ["10.0.0.0/8"]
//! allow_users = ["healthcheck"]
//! ban_ttl = "15m"                          # doubles on repeat, up to ban_max_ttl
//! ban_max_ttl = "24h"
//! [monitor.responses]                      # per finding kind: "ban", "alert" or "record"
//! scanner_burst = "ban"
//! sensitive_path_probe = "record"
//!
//! [alert]
//! min_severity = "medium"
//! to = ["secops@example.com"]
//! [[alert.webhook]]
//! url = "env:SLACK_WEBHOOK_URL"
//! format = "slack"
//! [alert.smtp]
//! host = "smtp.example.com"
//! security = "starttls"
//! username = "palisade"
//! password = "env:SMTP_PASSWORD"
//! ca_file = "/etc/palisade/smtp-ca.pem"   # a private CA for the server certificate
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::secret::Secret;

/// Where security events are stored.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EventStoreKind {
    /// `data_dir/events.sqlite3` (embedded default).
    #[default]
    Sqlite,
    /// PostgreSQL at `postgres_url` (several gateways, one store).
    Postgres,
}

/// `[events]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Events {
    /// The store.
    #[serde(default)]
    pub store: EventStoreKind,
    /// PostgreSQL connection URL (`postgres://user:password@host/db`); a secret reference.
    #[serde(default)]
    pub postgres_url: Option<Secret>,
    /// PostgreSQL schema for the tables (created when missing).
    #[serde(default)]
    pub postgres_schema: Option<String>,
    /// Elasticsearch/OpenSearch `_bulk` sink, in addition to the store.
    #[serde(default)]
    pub bulk: Option<BulkSink>,
}

/// `[events.bulk]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BulkSink {
    /// Cluster URL, e.g. `https://es.example:9200`.
    pub url: String,
    /// Index or data stream.
    #[serde(default = "default_index")]
    pub index: String,
    /// `Authorization` header value; a secret reference.
    #[serde(default)]
    pub authorization: Option<Secret>,
}

fn default_index() -> String {
    "palisade-events".to_owned()
}

/// `[monitor]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Monitor {
    /// Run anomaly detection (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// MaxMind City or Country database (`.mmdb`).
    #[serde(default)]
    pub geoip_city: Option<PathBuf>,
    /// MaxMind ASN database (`.mmdb`).
    #[serde(default)]
    pub geoip_asn: Option<PathBuf>,
    /// Never banned.
    #[serde(default)]
    pub allow_networks: Vec<ipnet::IpNet>,
    /// Findings about these users are recorded only.
    #[serde(default)]
    pub allow_users: Vec<String>,
    /// First ban duration (default 15m); doubles on every repeat.
    #[serde(
        default = "default_ban_ttl",
        with = "crate::model::humantime_serde_compat"
    )]
    pub ban_ttl: Duration,
    /// Longest ban (default 24h).
    #[serde(
        default = "default_ban_max_ttl",
        with = "crate::model::humantime_serde_compat"
    )]
    pub ban_max_ttl: Duration,
    /// Response per finding kind (`ban`, `alert`, `record`); kinds not listed keep their default.
    #[serde(default)]
    pub responses: BTreeMap<String, String>,
}

fn yes() -> bool {
    true
}

fn default_ban_ttl() -> Duration {
    Duration::from_secs(15 * 60)
}

fn default_ban_max_ttl() -> Duration {
    Duration::from_secs(24 * 3600)
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            enabled: true,
            geoip_city: None,
            geoip_asn: None,
            allow_networks: Vec::new(),
            allow_users: Vec::new(),
            ban_ttl: default_ban_ttl(),
            ban_max_ttl: default_ban_max_ttl(),
            responses: BTreeMap::new(),
        }
    }
}

/// A severity threshold.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    /// Everything.
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

/// `[alert]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// Events below this never alert (default medium).
    #[serde(default = "default_min_severity")]
    pub min_severity: AlertSeverity,
    /// Repeats of an incident within this window go into one digest (default 1h).
    #[serde(
        default = "default_dedup",
        with = "crate::model::humantime_serde_compat"
    )]
    pub dedup_window: Duration,
    /// Most alerts per hour (default 60).
    #[serde(default = "default_max_per_hour")]
    pub max_per_hour: u32,
    /// `From:` of alert mail.
    #[serde(default = "default_from")]
    pub from: String,
    /// Recipients of alert mail.
    #[serde(default = "default_to")]
    pub to: Vec<String>,
    /// Write each alert mail into `mail_dir` (default true).
    #[serde(default = "yes")]
    pub mail_files: bool,
    /// Directory of alert mail files (default `data_dir/mail`).
    #[serde(default)]
    pub mail_dir: Option<PathBuf>,
    /// Webhooks.
    #[serde(default)]
    pub webhook: Vec<Webhook>,
    /// SMTP server.
    #[serde(default)]
    pub smtp: Option<Smtp>,
}

fn default_min_severity() -> AlertSeverity {
    AlertSeverity::Medium
}

fn default_dedup() -> Duration {
    Duration::from_secs(3600)
}

fn default_max_per_hour() -> u32 {
    60
}

fn default_from() -> String {
    "Palisade <palisade@localhost>".to_owned()
}

fn default_to() -> Vec<String> {
    vec!["security@localhost".to_owned()]
}

impl Default for Alert {
    fn default() -> Self {
        Alert {
            min_severity: default_min_severity(),
            dedup_window: default_dedup(),
            max_per_hour: default_max_per_hour(),
            from: default_from(),
            to: default_to(),
            mail_files: true,
            mail_dir: None,
            webhook: Vec::new(),
            smtp: None,
        }
    }
}

/// Webhook body format.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// Generic JSON with the ECS event.
    #[default]
    Json,
    /// Slack-compatible `{"text": ...}`.
    Slack,
}

/// `[[alert.webhook]]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// URL (often embeds a token, so it is a secret reference).
    pub url: Secret,
    /// Body format.
    #[serde(default)]
    pub format: WebhookFormat,
    /// Channel threshold (default: `[alert] min_severity`).
    #[serde(default)]
    pub min_severity: Option<AlertSeverity>,
}

/// SMTP connection security.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// STARTTLS required (port 587).
    #[default]
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
    /// No TLS (loopback relays only).
    None,
}

/// `[alert.smtp]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// Server host name.
    pub host: String,
    /// Port (default: 587 for STARTTLS, 465 for TLS, 25 for none).
    #[serde(default)]
    pub port: Option<u16>,
    /// Connection security.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// AUTH user.
    #[serde(default)]
    pub username: Option<String>,
    /// AUTH password; a secret reference.
    #[serde(default)]
    pub password: Option<Secret>,
    /// PEM file of CA certificates trusted for the server's certificate besides the public roots.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Channel threshold (default: `[alert] min_severity`).
    #[serde(default)]
    pub min_severity: Option<AlertSeverity>,
}
