//! Live counters of a running scan: the phase, pages crawled, links queued, checks done and
//! to do, findings. The scan updates them from its worker threads; whoever shows progress (the
//! CLI, on a terminal) reads a [`Snapshot`] whenever it redraws. Nothing here prints, and no
//! URL, parameter or value enters the counters, so progress never shows a secret.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The counters.
#[derive(Debug, Default)]
pub struct Progress {
    phase: Mutex<String>,
    pages: AtomicUsize,
    queued: AtomicUsize,
    checks_done: AtomicUsize,
    checks_total: AtomicUsize,
    findings: AtomicUsize,
}

/// The counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// What the scan is doing (`crawl`, `site check session`, `parameter checks`, …).
    pub phase: String,
    /// Pages crawled.
    pub pages: usize,
    /// Links waiting to be crawled.
    pub queued: usize,
    /// Checks finished (a site check, or one parameter check on one parameter).
    pub checks_done: usize,
    /// Checks known so far (parameter checks are known once the crawl is over).
    pub checks_total: usize,
    /// Findings so far.
    pub findings: usize,
}

impl Progress {
    /// Enters a phase.
    pub fn phase(&self, phase: &str) {
        *self
            .phase
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = phase.to_owned();
    }

    /// The crawl's state after a level.
    pub fn crawled(&self, pages: usize, queued: usize) {
        self.pages.store(pages, Ordering::Relaxed);
        self.queued.store(queued, Ordering::Relaxed);
    }

    /// `n` more checks to do.
    pub fn add_checks(&self, n: usize) {
        self.checks_total.fetch_add(n, Ordering::Relaxed);
    }

    /// One check finished with `found` findings.
    pub fn check_done(&self, found: usize) {
        self.checks_done.fetch_add(1, Ordering::Relaxed);
        self.findings.fetch_add(found, Ordering::Relaxed);
    }

    /// `n` findings that no counted check made (passive checks, restored state).
    pub fn add_findings(&self, n: usize) {
        self.findings.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            phase: self
                .phase
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
            pages: self.pages.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
            checks_done: self.checks_done.load(Ordering::Relaxed),
            checks_total: self.checks_total.load(Ordering::Relaxed),
            findings: self.findings.load(Ordering::Relaxed),
        }
    }
}

/// Width of the bar, in characters.
const BAR: usize = 20;

impl Snapshot {
    /// One status line: phase, a bar of checks done, pages, requests, findings, time.
    pub fn line(&self, requests: u64, elapsed: Duration) -> String {
        let filled = (self.checks_done * BAR)
            .checked_div(self.checks_total)
            .unwrap_or(0)
            .min(BAR);
        let queued = if self.queued > 0 {
            format!(" (+{} queued)", self.queued)
        } else {
            String::new()
        };
        let seconds = elapsed.as_secs();
        format!(
            "{} [{}{}] {}/{} checks · {} pages{queued} · {requests} requests · {} findings · {}:{:02}",
            self.phase,
            "#".repeat(filled),
            "-".repeat(BAR - filled),
            self.checks_done,
            self.checks_total,
            self.pages,
            self.findings,
            seconds / 60,
            seconds % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_every_counter() {
        let progress = Progress::default();
        progress.phase("parameter checks");
        progress.crawled(12, 3);
        progress.add_checks(40);
        for found in [0, 1, 0, 0, 2, 0, 0, 0, 0, 0] {
            progress.check_done(found);
        }
        progress.add_findings(4);
        let line = progress.snapshot().line(1234, Duration::from_secs(75));
        assert_eq!(
            line,
            "parameter checks [#####---------------] 10/40 checks · 12 pages (+3 queued) · 1234 requests · 7 findings · 1:15"
        );
        let empty = Progress::default().snapshot().line(0, Duration::ZERO);
        assert!(
            empty.contains("[--------------------] 0/0 checks"),
            "{empty}"
        );
    }
}
