//! Security events, anomaly monitoring and alerting of a running gateway, from
//! the `[events]`, `[monitor]` and `[alert]` configuration.
//!
//! ```text
//! gateway ─record─▶ EventPipeline ──▶ SQLite or PostgreSQL store, _bulk sink
//!    │                 │ taps
//!    │                 ├──▶ MonitorService ◀── TrafficInspector (every request)
//!    │                 │        │ findings, bans (shared state store)
//!    │                 │        └──record──▶ EventPipeline
//!    │                 └──▶ Alerter ──▶ mail files (data_dir/mail), webhooks, SMTP
//!    │                          └──record (deliveries, failures)──▶ EventPipeline
//! ```
//!
//! The monitor and the alerter record into the pipeline they observe; their own
//! events are never fed back (the monitor reads `authn_*` events only, the
//! alerter ignores `alert_*`).

use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use palisade_alert::{
    Alerter, AlerterConfig, FileNotifier, MailAddresses, Notifier, RouterSettings, SmtpNotifier,
    SmtpSecurity, SmtpSettings, WebhookFormat, WebhookNotifier,
};
use palisade_config::{AlertSeverity, Config, EventStoreKind};
use palisade_core::{EventSink, Inspector, SecurityEvent, Severity};
use palisade_events::{
    BatchSink, BulkSink, BulkSinkConfig, EventPipeline, EventTap, PipelineConfig,
    PostgresStateTable, PostgresStore, Retention, SqliteStateTable, SqliteStore, StateTable,
};
use palisade_monitor::{
    AppliedBan, BanDurations, BanEnforcer, FindingKind, GeoDatabase, MonitorConfig, MonitorError,
    MonitorService, ResponseAction, ResponsePolicy, SystemClock,
};

/// The running event pipeline with its observers.
pub(crate) struct Monitoring {
    /// Where every security event goes.
    pub(crate) pipeline: Arc<EventPipeline>,
    monitor: Option<Arc<MonitorService>>,
    alerter: Arc<Alerter>,
}

/// The monitor's traffic inspector for [`crate::inspectors::build`] (set once
/// the monitor runs; reloads keep it).
static TRAFFIC: Mutex<Option<Arc<dyn Inspector>>> = Mutex::new(None);

/// The traffic inspector of the running monitor, if any.
pub(crate) fn traffic_inspector() -> Option<Arc<dyn Inspector>> {
    TRAFFIC
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// An event sink that forwards to the pipeline once it exists (the monitor and
/// the alerter start before the pipeline whose taps they are).
#[derive(Default)]
struct LateSink(OnceLock<Arc<EventPipeline>>);

impl EventSink for LateSink {
    fn record(&self, event: SecurityEvent) {
        match self.0.get() {
            Some(pipeline) => {
                palisade_core::TracingSink.record(event.clone());
                pipeline.record(event);
            }
            None => palisade_core::TracingSink.record(event),
        }
    }
}

/// Bans through the shared state store that the gateway's ban inspector reads.
struct StateBans(palisade_state::StateStore);

impl BanEnforcer for StateBans {
    fn ban(
        &mut self,
        ip: IpAddr,
        durations: &BanDurations,
        reason: &str,
        source: &str,
    ) -> Result<AppliedBan, MonitorError> {
        let escalation = palisade_state::Escalation {
            base: durations.base,
            max: durations.max,
            forget_after: durations.forget_after,
        };
        let ban = self
            .0
            .blocking()
            .ban(palisade_state::BanRequest {
                network: ipnet::IpNet::from(ip),
                ttl: Some(palisade_state::BlockTtl::Escalating(escalation)),
                reason: reason.chars().take(500).collect(),
                source: source.to_owned(),
            })
            .map_err(|error| MonitorError::ban(error.to_string()))?;
        let ttl = ban
            .until
            .and_then(|until| until.duration_since(ban.created).ok())
            .unwrap_or(durations.base);
        Ok(AppliedBan {
            ttl,
            repeat: ban.repeat,
        })
    }
}

fn severity(threshold: AlertSeverity) -> Severity {
    match threshold {
        AlertSeverity::Info => Severity::Info,
        AlertSeverity::Low => Severity::Low,
        AlertSeverity::Medium => Severity::Medium,
        AlertSeverity::High => Severity::High,
        AlertSeverity::Critical => Severity::Critical,
    }
}

/// The `[events] postgres_url` of a configuration whose store is PostgreSQL.
pub(crate) fn postgres_url(config: &Config) -> anyhow::Result<&str> {
    config
        .events
        .postgres_url
        .as_ref()
        .map(|url| url.expose())
        .context("[events] store = \"postgres\" needs postgres_url")
}

fn store_sink(config: &Config) -> anyhow::Result<Box<dyn BatchSink>> {
    Ok(match config.events.store {
        EventStoreKind::Sqlite => Box::new(
            SqliteStore::open_in(&config.data_dir, Retention::default()).with_context(|| {
                format!(
                    "cannot open the event store in {}",
                    config.data_dir.display()
                )
            })?,
        ),
        EventStoreKind::Postgres => Box::new(
            PostgresStore::connect(
                postgres_url(config)?,
                config.events.postgres_schema.as_deref(),
                Retention::default(),
            )
            .context("cannot open the PostgreSQL event store")?,
        ),
    })
}

fn state_table(config: &Config) -> anyhow::Result<Box<dyn StateTable>> {
    Ok(match config.events.store {
        EventStoreKind::Sqlite => Box::new(
            SqliteStateTable::open(config.data_dir.join(palisade_events::DEFAULT_DB_FILE))
                .context("cannot open the monitor baselines")?,
        ),
        EventStoreKind::Postgres => Box::new(
            PostgresStateTable::connect(
                postgres_url(config)?,
                config.events.postgres_schema.as_deref(),
            )
            .context("cannot open the monitor baselines")?,
        ),
    })
}

fn response_policy(config: &Config) -> anyhow::Result<ResponsePolicy> {
    let monitor = &config.monitor;
    let mut policy = ResponsePolicy {
        allow_networks: monitor.allow_networks.clone(),
        allow_users: monitor.allow_users.clone(),
        bans: BanDurations {
            base: monitor.ban_ttl,
            max: monitor.ban_max_ttl.max(monitor.ban_ttl),
            forget_after: Duration::from_secs(24 * 3600),
        },
        ..ResponsePolicy::default()
    };
    for (kind, action) in &monitor.responses {
        let kind = FindingKind::parse(kind).with_context(|| {
            let known: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
            format!(
                "[monitor.responses]: unknown finding kind {kind:?}; known: {}",
                known.join(", ")
            )
        })?;
        let action = ResponseAction::parse(action).with_context(|| {
            format!(
                "[monitor.responses] {kind}: {action:?} is not \"ban\", \"alert\" or \"record\""
            )
        })?;
        policy.actions.insert(kind, action);
    }
    Ok(policy)
}

fn notifiers(config: &Config) -> anyhow::Result<Vec<Box<dyn Notifier>>> {
    let alert = &config.alert;
    let default_min = severity(alert.min_severity);
    let addresses = MailAddresses {
        from: alert.from.clone(),
        to: alert.to.clone(),
    };
    let mut notifiers: Vec<Box<dyn Notifier>> = Vec::new();
    if alert.mail_files {
        let dir = alert
            .mail_dir
            .clone()
            .unwrap_or_else(|| config.data_dir.join("mail"));
        notifiers.push(Box::new(
            FileNotifier::new(dir, addresses.clone(), default_min)
                .context("cannot set up the alert mail directory")?,
        ));
    }
    for webhook in &alert.webhook {
        let format = match webhook.format {
            palisade_config::WebhookFormat::Json => WebhookFormat::Json,
            palisade_config::WebhookFormat::Slack => WebhookFormat::Slack,
        };
        notifiers.push(Box::new(
            WebhookNotifier::new(
                webhook.url.expose(),
                format,
                webhook.min_severity.map_or(default_min, severity),
                Duration::from_secs(10),
            )
            .context("[[alert.webhook]]")?,
        ));
    }
    if let Some(smtp) = &alert.smtp {
        let (security, port) = match smtp.security {
            palisade_config::SmtpSecurity::Starttls => (SmtpSecurity::StartTls, 587),
            palisade_config::SmtpSecurity::Tls => (SmtpSecurity::ImplicitTls, 465),
            palisade_config::SmtpSecurity::None => (SmtpSecurity::Plain, 25),
        };
        let settings = SmtpSettings {
            host: smtp.host.clone(),
            port: smtp.port.unwrap_or(port),
            security,
            credentials: smtp.username.clone().map(|user| {
                let password = smtp
                    .password
                    .as_ref()
                    .map(|p| p.expose().to_owned())
                    .unwrap_or_default();
                (user, password)
            }),
            timeout: Duration::from_secs(15),
            ca_file: smtp.ca_file.clone(),
        };
        notifiers.push(Box::new(
            SmtpNotifier::new(
                &settings,
                addresses,
                smtp.min_severity.map_or(default_min, severity),
            )
            .context("[alert.smtp]")?,
        ));
    }
    Ok(notifiers)
}

/// Starts the event pipeline with its store and sinks, the monitor and the alerter.
pub(crate) fn start(config: &Config) -> anyhow::Result<Monitoring> {
    let mut sinks = vec![store_sink(config)?];
    if let Some(bulk) = &config.events.bulk {
        let mut settings = BulkSinkConfig::new(bulk.url.clone());
        settings.index.clone_from(&bulk.index);
        settings.authorization = bulk.authorization.as_ref().map(|a| a.expose().to_owned());
        sinks.push(Box::new(BulkSink::new(settings).context("[events.bulk]")?));
    }
    let output = Arc::new(LateSink::default());
    let mut taps: Vec<Box<dyn EventTap>> = Vec::new();
    let monitor = if config.monitor.enabled {
        let geo = match (&config.monitor.geoip_city, &config.monitor.geoip_asn) {
            (None, None) => None,
            (city, asn) => Some(
                GeoDatabase::open(city.as_deref(), asn.as_deref())
                    .context("[monitor] GeoIP database")?,
            ),
        };
        let state = palisade_limits::open_store(&config.state, &config.data_dir)
            .context("cannot open the state store for bans")?;
        let monitor = Arc::new(
            MonitorService::start(
                MonitorConfig {
                    geo,
                    policy: response_policy(config)?,
                    ..MonitorConfig::default()
                },
                Arc::new(SystemClock),
                Some(state_table(config)?),
                Box::new(StateBans(state)),
                Arc::clone(&output) as Arc<dyn EventSink>,
            )
            .context("cannot start the anomaly monitor")?,
        );
        taps.push(Box::new(monitor.tap()));
        *TRAFFIC.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Arc::new(monitor.traffic_inspector(Arc::new(SystemClock))));
        Some(monitor)
    } else {
        None
    };
    let alerter = Arc::new(
        Alerter::start(
            AlerterConfig {
                router: RouterSettings {
                    min_severity: severity(config.alert.min_severity),
                    dedup_window_ms: i64::try_from(config.alert.dedup_window.as_millis())
                        .unwrap_or(i64::MAX),
                    max_per_hour: config.alert.max_per_hour,
                    ..RouterSettings::default()
                },
                ..AlerterConfig::default()
            },
            notifiers(config)?,
            Arc::clone(&output) as Arc<dyn EventSink>,
            Arc::new(palisade_events::now_ms),
        )
        .context("cannot start alerting")?,
    );
    taps.push(Box::new(alerter.tap()));
    let pipeline = Arc::new(
        EventPipeline::start_with_taps(PipelineConfig::new(&config.data_dir), sinks, taps)
            .context("cannot start the security event pipeline")?,
    );
    // Set once, right after creation.
    let _ = output.0.set(Arc::clone(&pipeline));
    Ok(Monitoring {
        pipeline,
        monitor,
        alerter,
    })
}

impl Monitoring {
    /// Lets the monitor and the alerter finish what they hold (their events go
    /// into the pipeline, which the caller shuts down next).
    pub(crate) fn shutdown(&self) {
        *TRAFFIC.lock().unwrap_or_else(PoisonError::into_inner) = None;
        if let Some(monitor) = &self.monitor {
            monitor.shutdown();
        }
        // Findings recorded just now reach the alerter through the pipeline.
        if let Err(error) = self.pipeline.flush() {
            tracing::warn!(%error, "events not all stored before alerting stopped");
        }
        self.alerter.shutdown();
    }
}
