//! Certificate reloading on file change: the directories of every site's certificate, key and
//! client CA files are watched; after a change (debounced), each TLS site re-reads its files and,
//! when their contents differ, serves the new certificate to new handshakes (established
//! connections keep theirs).
//!
//! Directories rather than files are watched, so certificates replaced by rename (certbot, editors)
//! or by a symlink swap (Kubernetes secret volumes) are seen; comparing contents makes events for
//! unrelated files in those directories harmless. Files that cannot be loaded (a certificate
//! written before its key) keep the previous certificate until a later change fixes them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::Watcher as _;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::runtime::Runtime;
use crate::server::Shared;

/// Quiet time after a file event before re-reading (certificate and key are written in turn).
const DEBOUNCE: Duration = Duration::from_millis(200);

/// The running watcher; dropping it stops watching.
pub(crate) struct CertWatch {
    watcher: Mutex<notify::RecommendedWatcher>,
    directories: Mutex<HashSet<PathBuf>>,
    task: JoinHandle<()>,
}

impl CertWatch {
    /// Starts watching the TLS files of the current runtime.
    pub(crate) fn start(shared: Arc<Shared>) -> Result<Self, notify::Error> {
        use notify::event::{AccessKind, AccessMode, EventKind};
        let (changed_tx, mut changed) = mpsc::unbounded_channel::<()>();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            let relevant = match event.kind {
                EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
                EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
                EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
            };
            if relevant {
                // The receiver is gone only once the gateway stopped.
                let _ = changed_tx.send(());
            }
        })?;
        let refresher = shared.clone();
        let task = tokio::spawn(async move {
            while changed.recv().await.is_some() {
                tokio::time::sleep(DEBOUNCE).await;
                while changed.try_recv().is_ok() {}
                refresh_certificates(&refresher.runtime.load());
            }
        });
        let watch = CertWatch {
            watcher: Mutex::new(watcher),
            directories: Mutex::new(HashSet::new()),
            task,
        };
        watch.sync(&shared.runtime.load());
        Ok(watch)
    }

    /// Also watches the directories of `runtime`'s TLS files (after a reload).
    pub(crate) fn sync(&self, runtime: &Runtime) {
        let mut watcher = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
        let mut directories = self.directories.lock().unwrap_or_else(|e| e.into_inner());
        let wanted = runtime
            .sites
            .iter()
            .filter_map(|site| site.tls.as_ref())
            .flat_map(|tls| tls.paths())
            .map(directory_of);
        for directory in wanted {
            if directories.contains(&directory) {
                continue;
            }
            match watcher.watch(&directory, notify::RecursiveMode::NonRecursive) {
                Ok(()) => {
                    directories.insert(directory);
                }
                Err(error) => tracing::warn!(
                    directory = %directory.display(),
                    %error,
                    "cannot watch TLS files; certificates there are re-read on reload only"
                ),
            }
        }
    }
}

impl Drop for CertWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Re-reads every TLS site's files; logs and counts what was reloaded or refused.
pub(crate) fn refresh_certificates(runtime: &Runtime) {
    for tls in runtime.sites.iter().filter_map(|site| site.tls.as_ref()) {
        match tls.refresh() {
            Ok(false) => {}
            Ok(true) => {
                tracing::info!(
                    site = tls.site(),
                    "TLS certificate reloaded from changed files"
                );
                metrics::counter!("palisade_tls_certificate_reloads_total", "result" => "ok")
                    .increment(1);
            }
            Err(error) => {
                tracing::warn!(
                    site = tls.site(),
                    %error,
                    "TLS files changed but cannot be loaded; the previous certificate stays"
                );
                metrics::counter!("palisade_tls_certificate_reloads_total", "result" => "error")
                    .increment(1);
            }
        }
    }
}
