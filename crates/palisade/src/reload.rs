//! Configuration reloads and shutdown signals.
//!
//! A reload is triggered by SIGHUP or by a change of the configuration file.
//! The file's parent directory is watched (editors and orchestrators replace
//! files by rename, which a watch on the file itself would miss); events for
//! other files are ignored and bursts are debounced. A reload parses and
//! validates the file, rebuilds the inspectors and hands both to the gateway;
//! on any failure the running configuration stays and the failure is logged
//! and recorded as a `sys_config_reload_failed` event naming file:line:column.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use notify::Watcher as _;
use palisade_core::{EventOutcome, EventSink, SecurityEvent, Severity};
use palisade_gateway::GatewayHandle;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;

use crate::run::{ConfigSource, Overrides};

/// Quiet time after a file event before reloading (editors write in bursts).
const DEBOUNCE: Duration = Duration::from_millis(200);

/// What triggers reloads and shutdown. Installed before the gateway announces
/// itself, so no change or signal after the announcement is missed.
pub(crate) struct Triggers {
    hangup: Signal,
    terminate: Signal,
    interrupt: Signal,
    changed: mpsc::UnboundedReceiver<()>,
    /// Kept alive while serving; dropping it stops watching.
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Triggers {
    /// Installs the signal handlers and, for a file source, the file watcher.
    pub(crate) fn install(source: &ConfigSource) -> anyhow::Result<Triggers> {
        let (changed_tx, changed) = mpsc::unbounded_channel::<()>();
        Ok(Triggers {
            hangup: signal(SignalKind::hangup()).context("cannot handle SIGHUP")?,
            terminate: signal(SignalKind::terminate()).context("cannot handle SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("cannot handle SIGINT")?,
            changed,
            _watcher: source
                .file()
                .map(|path| watch(path, changed_tx))
                .transpose()?,
        })
    }

    /// Serves reloads until SIGTERM or SIGINT.
    pub(crate) async fn run_until_shutdown(
        mut self,
        source: &ConfigSource,
        overrides: &Overrides,
        gateway: &GatewayHandle,
        events: &dyn EventSink,
    ) {
        loop {
            tokio::select! {
                _ = self.terminate.recv() => return,
                _ = self.interrupt.recv() => return,
                _ = self.hangup.recv() => {
                    tracing::info!("SIGHUP received");
                    reload(source, overrides, gateway, events);
                }
                Some(()) = self.changed.recv() => {
                    tokio::time::sleep(DEBOUNCE).await;
                    while self.changed.try_recv().is_ok() {}
                    tracing::info!("configuration file changed");
                    reload(source, overrides, gateway, events);
                }
            }
        }
    }
}

/// Watches the directory of `path` and signals changes to that file.
fn watch(
    path: &Path,
    changed: mpsc::UnboundedSender<()>,
) -> anyhow::Result<notify::RecommendedWatcher> {
    use notify::event::{AccessKind, AccessMode, EventKind};
    let file_name = path
        .file_name()
        .map(ToOwned::to_owned)
        .context("the configuration path has no file name")?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let relevant = match event.kind {
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
        };
        if relevant
            && event
                .paths
                .iter()
                .any(|p| p.file_name() == Some(file_name.as_os_str()))
        {
            // The receiver is gone only during shutdown.
            let _ = changed.send(());
        }
    })
    .context("cannot create the configuration file watcher")?;
    watcher
        .watch(&directory, notify::RecursiveMode::NonRecursive)
        .with_context(|| format!("cannot watch {}", directory.display()))?;
    Ok(watcher)
}

/// One reload attempt; never fails the process.
fn reload(
    source: &ConfigSource,
    overrides: &Overrides,
    gateway: &GatewayHandle,
    events: &dyn EventSink,
) {
    let Some(file) = source.file() else {
        tracing::info!("the configuration is built in; nothing to reload");
        return;
    };
    let file = file.display().to_string();
    let config = match source.load(overrides) {
        Ok(config) => Arc::new(config),
        Err(error) => {
            let location = error.first_location().unwrap_or_else(|| file.clone());
            return reload_failed(events, &file, &location, &error.to_string());
        }
    };
    let inspectors = match crate::inspectors::build(&config) {
        Ok(inspectors) => inspectors,
        Err(error) => return reload_failed(events, &file, &file, &format!("{error:#}")),
    };
    match gateway.reload(config, inspectors) {
        Ok(summary) => {
            let summary = summary.to_string();
            tracing::info!(%file, %summary, "configuration reloaded");
            metrics::counter!("palisade_config_reloads_total", "result" => "ok").increment(1);
            let mut event = SecurityEvent::new(
                "sys_config_changed",
                "configuration",
                Severity::Info,
                format!("configuration {file} reloaded: {summary}"),
            );
            event.outcome = EventOutcome::Success;
            event.fields.insert("summary".to_owned(), summary.into());
            event.fields.insert("file.path".to_owned(), file.into());
            events.record(event);
        }
        Err(error) => reload_failed(events, &file, &file, &error.to_string()),
    }
}

fn reload_failed(events: &dyn EventSink, file: &str, location: &str, error: &str) {
    tracing::error!(%file, %location, %error, "configuration reload failed; keeping the running configuration");
    metrics::counter!("palisade_config_reloads_total", "result" => "error").increment(1);
    let mut event = SecurityEvent::new(
        "sys_config_reload_failed",
        "configuration",
        Severity::Medium,
        format!("configuration reload failed at {location}; the running configuration stays"),
    );
    event.outcome = EventOutcome::Failure;
    event
        .fields
        .insert("error.message".to_owned(), error.into());
    event.fields.insert("file.path".to_owned(), file.into());
    event
        .fields
        .insert("palisade.location".to_owned(), location.into());
    events.record(event);
}
