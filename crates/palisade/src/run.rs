//! Running a gateway: load the configuration, set up logging, metrics, the admin
//! listener and the event sink, start the data plane, announce the bound
//! addresses, then serve until SIGTERM/SIGINT while reloading on change.
//! Shared by `serve` and `demo`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use palisade_config::{Config, ConfigError};
use palisade_core::EventSink;

/// Where the configuration comes from.
#[derive(Debug, Clone)]
pub(crate) enum ConfigSource {
    /// A file: watched and reloaded.
    File(PathBuf),
    /// Built in memory (command-line options, the demo): never reloaded.
    Text {
        /// How errors name it.
        name: String,
        /// The TOML text.
        text: String,
    },
}

impl ConfigSource {
    /// Loads, validates and applies the command-line overrides.
    pub(crate) fn load(&self, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut config = match self {
            ConfigSource::File(path) => palisade_config::load(path)?,
            ConfigSource::Text { name, text } => {
                palisade_config::parse(text, std::path::Path::new(name))?
            }
        };
        overrides.apply(&mut config);
        Ok(config)
    }

    /// The watched file, if any.
    pub(crate) fn file(&self) -> Option<&std::path::Path> {
        match self {
            ConfigSource::File(path) => Some(path),
            ConfigSource::Text { .. } => None,
        }
    }
}

/// Command-line options that replace configuration values, on start and on every reload.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    /// Replaces the listeners (plain HTTP) when not empty.
    pub(crate) listen: Vec<SocketAddr>,
    /// Replaces the admin address.
    pub(crate) admin: Option<SocketAddr>,
    /// Replaces `data_dir`.
    pub(crate) data_dir: Option<PathBuf>,
}

impl Overrides {
    fn apply(&self, config: &mut Config) {
        if !self.listen.is_empty() {
            config.listeners = self
                .listen
                .iter()
                .map(|&addr| palisade_config::Listener {
                    addr,
                    tls: false,
                    redirect_to_https: false,
                    proxy_protocol: false,
                    http2: true,
                })
                .collect();
        }
        if let Some(admin) = self.admin {
            config.admin.addr = admin;
        }
        if let Some(data_dir) = &self.data_dir {
            config.data_dir.clone_from(data_dir);
        }
    }
}

/// What is bound once the gateway runs.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Started {
    /// Bound gateway listeners, in configuration order.
    pub(crate) listening: Vec<SocketAddr>,
    /// Bound admin listener.
    pub(crate) admin: Option<SocketAddr>,
}

/// Runs the gateway until SIGTERM or SIGINT. `on_started` runs once everything
/// is bound (after the `{"listening":[...]}` line is printed on stdout).
pub(crate) async fn serve(
    source: ConfigSource,
    overrides: Overrides,
    on_started: impl FnOnce(&Started),
) -> anyhow::Result<()> {
    // ConfigError's Display is the located, multi-line report; keep it verbatim.
    let config = source
        .load(&overrides)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    // Held to the end: dropping it writes out the buffered log lines.
    let _log_guard = crate::logging::init(&config.log)?;
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let metrics = crate::admin::install_metrics()?;
    let monitoring = crate::monitoring::start(&config)?;
    let pipeline = Arc::clone(&monitoring.pipeline);
    let events: Arc<dyn EventSink> = Arc::new(StoreAndLog {
        store: Arc::clone(&pipeline),
    });
    let readiness = crate::admin::Readiness::default();
    let admin = match config.admin.enabled {
        true => Some(crate::admin::start(config.admin.addr, metrics, readiness.clone()).await?),
        false => None,
    };
    let triggers = crate::reload::Triggers::install(&source)?;
    let config = Arc::new(config);
    let inspectors = crate::inspectors::build(&config)?;
    let gateway = palisade_gateway::start(Arc::clone(&config), inspectors, Arc::clone(&events))
        .await
        .context("cannot start the gateway")?;
    readiness.set(true);
    let started = Started {
        listening: gateway.local_addrs(),
        admin: admin.as_ref().map(|a| a.addr),
    };
    announce(&started)?;
    tracing::info!(listening = ?started.listening, admin = ?started.admin, "palisade is serving");
    on_started(&started);

    triggers
        .run_until_shutdown(&source, &overrides, &gateway, events.as_ref())
        .await;
    tracing::info!("shutting down");
    readiness.set(false);
    gateway.shutdown().await;
    if let Some(admin) = admin {
        admin.shutdown().await;
    }
    monitoring.shutdown();
    if let Err(error) = pipeline.shutdown() {
        tracing::error!(%error, "security events could not all be stored; they stay in the spool for the next start");
    }
    Ok(())
}

/// Every security event goes to the store and, as one JSON field, to the structured log
/// (target `palisade::event`), so log shippers see the same events as `palisade events`.
struct StoreAndLog {
    store: Arc<palisade_events::EventPipeline>,
}

impl EventSink for StoreAndLog {
    fn record(&self, event: palisade_core::SecurityEvent) {
        palisade_core::TracingSink.record(event.clone());
        self.store.record(event);
    }
}

/// Prints `{"listening":[...],"admin":...}` as one line on stdout (for scripts and tests).
fn announce(started: &Started) -> anyhow::Result<()> {
    let line = serde_json::to_string(started).context("cannot encode the listening line")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")
}
