//! One scan from start to end: crawl, passive checks over the crawled pages, site checks,
//! then every parameter of every target through the parameter checks on the worker threads.
//! The request budget and the time limit end the scan early; what was confirmed until then
//! is reported.

use std::sync::Mutex;
use std::sync::atomic::Ordering;

use url::Url;

use crate::checks::{self, Probe};
use crate::crawl::{CrawlOptions, crawl};
use crate::finding::Finding;
use crate::http::{Client, parallel_map};
use crate::progress::Progress;
use crate::report::ScanReport;
use crate::scope::Scope;

/// What to scan and how.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Where the crawl starts.
    pub start: Url,
    /// What may be requested.
    pub scope: Scope,
    /// Crawl options.
    pub crawl: CrawlOptions,
    /// Only passive checks (no probes beyond crawling).
    pub passive_only: bool,
    /// Run only checks of these categories (all when empty).
    pub only: Vec<String>,
    /// The out-of-band receiver's listening and advertised addresses.
    pub callback: checks::callback::CallbackConfig,
    /// Operations imported from an OpenAPI document (targets in scope are scanned, pages
    /// crawled).
    pub api: crate::openapi::Api,
}

/// Runs the scan, keeping `progress` up to date.
pub fn scan(client: &Client, options: &ScanOptions, progress: &Progress) -> ScanReport {
    let wanted = |name: &str| options.only.is_empty() || options.only.iter().any(|o| o == name);
    progress.phase("crawl");
    let mut crawled = crawl(
        client,
        &options.start,
        &options.api.pages,
        &options.scope,
        options.crawl,
        &|pages, queued| progress.crawled(pages, queued),
    );
    let mut keys: std::collections::HashSet<String> = crawled
        .targets
        .iter()
        .map(crate::target::Target::key)
        .collect();
    for target in &options.api.targets {
        if options.scope.contains(&target.url) && keys.insert(target.key()) {
            crawled.targets.push(target.clone());
        }
    }
    let mut report = ScanReport {
        target: options.start.to_string(),
        pages: crawled.pages.len(),
        targets: crawled.targets.len(),
        robots_skipped: crawled.robots_skipped,
        errors: crawled.errors.clone(),
        stopped_early: crawled.stopped_early,
        ..ScanReport::default()
    };
    let mut findings: Vec<Finding> = Vec::new();
    progress.phase("passive checks");
    for check in checks::passive_checks().iter().filter(|c| wanted(c.name)) {
        for page in &crawled.pages {
            findings.extend((check.run)(client, page));
        }
    }
    progress.add_findings(findings.len());
    if !options.passive_only {
        let site_checks: Vec<_> = checks::site_checks()
            .into_iter()
            .filter(|c| wanted(c.name))
            .collect();
        progress.add_checks(site_checks.len());
        for check in &site_checks {
            progress.phase(&format!("site check {}", check.name));
            let site = checks::Site {
                start: &options.start,
                pages: &crawled.pages,
                targets: &crawled.targets,
            };
            match (check.run)(client, &site) {
                Ok(found) => {
                    progress.check_done(found.len());
                    findings.extend(found);
                }
                Err(error) if error.is_limit() => report.stopped_early = true,
                Err(error) => {
                    progress.check_done(0);
                    report.errors.push(error.to_string());
                }
            }
        }
        let param_checks: Vec<_> = checks::param_checks()
            .into_iter()
            .filter(|c| wanted(c.name))
            .collect();
        if !param_checks.is_empty() && !report.stopped_early {
            // The out-of-band receiver lives for the parameter checks only.
            let callbacks = if param_checks.iter().any(|c| c.name == "ssrf") {
                checks::callback::Callbacks::start(&options.callback)
                    .map_err(|e| report.errors.push(e.to_string()))
                    .ok()
            } else {
                None
            };
            findings.extend(probe_parameters(
                client,
                &crawled.targets,
                &param_checks,
                callbacks.as_ref(),
                &mut report,
                progress,
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert(f.fingerprint()));
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.url.cmp(&b.url))
            .then_with(|| a.parameter.cmp(&b.parameter))
    });
    report.findings = findings;
    report.requests = client.requests_sent();
    report.elapsed_ms = client.elapsed().as_millis();
    report
}

fn probe_parameters(
    client: &Client,
    targets: &[crate::target::Target],
    param_checks: &[checks::ParamCheck],
    callbacks: Option<&checks::callback::Callbacks>,
    report: &mut ScanReport,
    progress: &Progress,
) -> Vec<Finding> {
    progress.phase("parameter checks");
    let threads = client.config().concurrency;
    let baselines = parallel_map(targets, threads, |t| client.send(&t.baseline()));
    let units: Vec<(usize, usize)> = targets
        .iter()
        .enumerate()
        .flat_map(|(ti, t)| {
            t.params
                .iter()
                .enumerate()
                .filter(|(_, p)| param_checks.iter().any(|c| c.probes(p)))
                .map(move |(pi, _)| (ti, pi))
        })
        .collect();
    progress.add_checks(
        units
            .iter()
            .map(|&(ti, pi)| {
                let param = &targets[ti].params[pi];
                param_checks.iter().filter(|c| c.probes(param)).count()
            })
            .sum(),
    );
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let found = parallel_map(&units, threads, |&(ti, pi)| {
        let mut out: Vec<Finding> = Vec::new();
        let Ok(baseline) = &baselines[ti] else {
            return out;
        };
        let mut confirmed: Vec<String> = Vec::new();
        let param = &targets[ti].params[pi];
        for check in param_checks.iter().filter(|c| c.probes(param)) {
            if stopped.load(Ordering::Relaxed) {
                break;
            }
            let probe = Probe {
                client,
                target: &targets[ti],
                index: pi,
                baseline,
                confirmed: &confirmed,
                callbacks,
            };
            match (check.run)(&probe) {
                Ok(Some(finding)) => {
                    progress.check_done(1);
                    confirmed.push(check.name.to_owned());
                    out.push(finding);
                }
                Ok(None) => progress.check_done(0),
                Err(error) if error.is_limit() => stopped.store(true, Ordering::Relaxed),
                Err(error) => {
                    progress.check_done(0);
                    errors
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(error.to_string());
                }
            }
        }
        out
    });
    for error in baselines.iter().filter_map(|b| b.as_ref().err()) {
        if error.is_limit() {
            report.stopped_early = true;
        } else {
            report.errors.push(error.to_string());
        }
    }
    report.stopped_early |= stopped.load(Ordering::Relaxed);
    report.errors.extend(
        errors
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    found.into_iter().flatten().collect()
}
