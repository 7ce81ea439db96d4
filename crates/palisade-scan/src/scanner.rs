//! One scan from start to end: crawl, passive checks over the crawled pages, site checks,
//! then every parameter of every target through the parameter checks on the worker threads.
//! The request budget and the time limit end the scan early; what was confirmed until then
//! is reported. A [`Control`] can stop the scan between requests and checks (Ctrl-C) and is
//! handed the [`ScanState`] at checkpoints, so that [`scan_resumable`] continues a stopped scan
//! where it left off: the crawl from its frontier, then only the checks not done.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use url::Url;

use crate::checks::{self, Probe};
use crate::crawl::{CrawlOptions, CrawlState, Seeds, crawl};
use crate::finding::Finding;
use crate::http::{Client, parallel_map};
use crate::progress::Progress;
use crate::report::ScanReport;
use crate::scope::Scope;
use crate::state::{Done, SavedState, ScanState, VERSION, check_key, unit_key};
use crate::target::Target;

/// How often the state is saved while parameter checks run.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

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

impl ScanOptions {
    /// What decides which requests and checks the scan makes: a saved state is only resumed
    /// by a scan with the same identity.
    pub fn identity(&self) -> String {
        let mut only = self.only.clone();
        only.sort();
        format!(
            "palisade-scan {} {} only={} passive={} scope={:?} robots={} sitemap={} openapi={}+{}",
            env!("CARGO_PKG_VERSION"),
            self.start,
            only.join(","),
            self.passive_only,
            self.scope,
            !self.crawl.ignore_robots,
            self.crawl.sitemap,
            self.api.targets.len(),
            self.api.pages.len()
        )
    }
}

/// Outside control of a running scan.
#[derive(Default, Clone, Copy)]
pub struct Control<'a> {
    /// Asked before every request of the crawl and before every check: once it answers
    /// `true`, checks in progress finish and nothing new starts.
    pub stop: Option<&'a (dyn Fn() -> bool + Sync)>,
    /// Given the scan's state at every checkpoint.
    pub checkpoint: Option<&'a (dyn for<'s> Fn(&SavedState<'s>) + Sync)>,
}

impl std::fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("stop", &self.stop.is_some())
            .field("checkpoint", &self.checkpoint.is_some())
            .finish()
    }
}

impl Control<'_> {
    fn stopped(&self) -> bool {
        self.stop.is_some_and(|stop| stop())
    }
}

/// Runs a whole scan, keeping `progress` up to date.
pub fn scan(client: &Client, options: &ScanOptions, progress: &Progress) -> ScanReport {
    scan_resumable(
        client,
        options,
        progress,
        ScanState::default(),
        &Control::default(),
    )
}

/// Runs a scan from `state` (a new scan from `ScanState::default()`), skipping what it says is
/// done. Returns the report of everything done so far, `interrupted` when `control` stopped it.
pub fn scan_resumable(
    client: &Client,
    options: &ScanOptions,
    progress: &Progress,
    state: ScanState,
    control: &Control<'_>,
) -> ScanReport {
    let ScanState {
        crawl: mut crawl_state,
        done,
        requests: earlier_requests,
        elapsed_ms: earlier_ms,
        ..
    } = state;
    let identity = options.identity();
    let checkpoint = |crawl: &CrawlState, done: &Done| {
        if let Some(save) = control.checkpoint {
            save(&ScanState {
                version: VERSION,
                scan: identity.clone(),
                crawl,
                done,
                requests: earlier_requests + client.requests_sent(),
                elapsed_ms: earlier_ms + client.elapsed().as_millis(),
            });
        }
    };
    let wanted = |name: &str| options.only.is_empty() || options.only.iter().any(|o| o == name);
    progress.phase("crawl");
    let stop = || control.stopped();
    crawl(
        client,
        Seeds {
            start: &options.start,
            pages: &options.api.pages,
            targets: &options.api.targets,
        },
        &options.scope,
        options.crawl,
        &mut crawl_state,
        &stop,
        &mut |state| {
            progress.crawled(state.pages.len(), state.frontier.len());
            checkpoint(state, &done);
        },
    );
    let mut run = Run {
        done,
        checks_run: 0,
        checks_resumed: 0,
        interrupted: !crawl_state.done,
        stopped_early: crawl_state.stopped_early,
    };
    let mut findings: Vec<Finding> = Vec::new();
    progress.phase("passive checks");
    for check in checks::passive_checks().iter().filter(|c| wanted(c.name)) {
        for page in &crawl_state.pages {
            findings.extend((check.run)(client, page));
        }
    }
    progress.add_findings(findings.len() + run.done.findings.len());
    if !options.passive_only && !run.interrupted {
        site_checks(
            client,
            options,
            &crawl_state,
            &mut run,
            progress,
            control,
            &checkpoint,
        );
        let param_checks: Vec<_> = checks::param_checks()
            .into_iter()
            .filter(|c| wanted(c.name))
            .collect();
        if !param_checks.is_empty() && !run.stopped_early && !run.interrupted {
            // The out-of-band receiver lives for the parameter checks only.
            let callbacks = if param_checks.iter().any(|c| c.name == "ssrf") {
                checks::callback::Callbacks::start(&options.callback)
                    .map_err(|e| run.done.errors.push(e.to_string()))
                    .ok()
            } else {
                None
            };
            let checks = ParamChecks {
                client,
                targets: &crawl_state.targets,
                checks: &param_checks,
                callbacks: callbacks.as_ref(),
                progress,
                control,
            };
            checks.run(&mut run, &|done| checkpoint(&crawl_state, done));
        }
    }
    checkpoint(&crawl_state, &run.done);
    findings.extend(run.done.findings.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert(f.fingerprint()));
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.url.cmp(&b.url))
            .then_with(|| a.parameter.cmp(&b.parameter))
    });
    let mut errors = crawl_state.errors.clone();
    errors.extend(run.done.errors.iter().cloned());
    ScanReport {
        target: options.start.to_string(),
        findings,
        pages: crawl_state.pages.len(),
        targets: crawl_state.targets.len(),
        requests: earlier_requests + client.requests_sent(),
        elapsed_ms: earlier_ms + client.elapsed().as_millis(),
        robots_skipped: crawl_state.robots_skipped,
        stopped_early: run.stopped_early || run.interrupted,
        interrupted: run.interrupted,
        checks_run: run.checks_run,
        checks_resumed: run.checks_resumed,
        errors,
        ..ScanReport::default()
    }
}

/// The checks' progress in this run.
struct Run {
    done: Done,
    checks_run: usize,
    checks_resumed: usize,
    interrupted: bool,
    stopped_early: bool,
}

fn site_checks(
    client: &Client,
    options: &ScanOptions,
    crawl: &CrawlState,
    run: &mut Run,
    progress: &Progress,
    control: &Control<'_>,
    checkpoint: &dyn Fn(&CrawlState, &Done),
) {
    let wanted = |name: &str| options.only.is_empty() || options.only.iter().any(|o| o == name);
    let site_checks: Vec<_> = checks::site_checks()
        .into_iter()
        .filter(|c| wanted(c.name))
        .collect();
    progress.add_checks(site_checks.len());
    for check in &site_checks {
        if run.done.site_checks.contains(check.name) {
            run.checks_resumed += 1;
            progress.check_done(0);
            continue;
        }
        if control.stopped() {
            run.interrupted = true;
            return;
        }
        progress.phase(&format!("site check {}", check.name));
        let site = checks::Site {
            start: &options.start,
            pages: &crawl.pages,
            targets: &crawl.targets,
        };
        match (check.run)(client, &site) {
            Ok(found) => {
                progress.check_done(found.len());
                run.done.findings.extend(found);
            }
            Err(error) if error.is_limit() => {
                // Not done: a later run with a fresh budget does it again.
                run.stopped_early = true;
                return;
            }
            Err(error) => {
                progress.check_done(0);
                run.done.errors.push(error.to_string());
            }
        }
        run.checks_run += 1;
        run.done.site_checks.insert(check.name.to_owned());
        checkpoint(crawl, &run.done);
    }
}

/// The parameter checks of a scan.
struct ParamChecks<'a> {
    client: &'a Client,
    targets: &'a [Target],
    checks: &'a [checks::ParamCheck],
    callbacks: Option<&'a checks::callback::Callbacks>,
    progress: &'a Progress,
    control: &'a Control<'a>,
}

impl ParamChecks<'_> {
    /// Every check on every parameter not done yet, on the worker threads; the state is
    /// checkpointed at most every [`CHECKPOINT_EVERY`] and after the last check.
    fn run(&self, run: &mut Run, checkpoint: &(dyn Fn(&Done) + Sync)) {
        self.progress.phase("parameter checks");
        let keys: Vec<String> = self.targets.iter().map(Target::key).collect();
        // Several checks share a category name (four kinds of SQL injection): a check is
        // named by its category and its place in the list, which the scan's identity fixes.
        let ids: Vec<String> = self
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}.{i}", c.name))
            .collect();
        // (target, parameter, the checks still to do on it, by index)
        let mut units: Vec<(usize, usize, Vec<usize>)> = Vec::new();
        let mut total = 0;
        for (ti, target) in self.targets.iter().enumerate() {
            for (pi, param) in target.params.iter().enumerate() {
                let applicable: Vec<usize> = (0..self.checks.len())
                    .filter(|&ci| self.checks[ci].probes(param))
                    .collect();
                total += applicable.len();
                let to_do: Vec<usize> = applicable
                    .into_iter()
                    .filter(|&ci| {
                        !run.done
                            .param_checks
                            .contains(&check_key(&keys[ti], pi, &ids[ci]))
                    })
                    .collect();
                if !to_do.is_empty() {
                    units.push((ti, pi, to_do));
                }
            }
        }
        let remaining: usize = units.iter().map(|u| u.2.len()).sum();
        let resumed = total - remaining;
        run.checks_resumed += resumed;
        self.progress.add_checks(total);
        for _ in 0..resumed {
            self.progress.check_done(0);
        }
        // Baselines only for targets with something left to do.
        let mut needed: Vec<usize> = units.iter().map(|u| u.0).collect();
        needed.dedup();
        let threads = self.client.config().concurrency;
        let fetched = parallel_map(&needed, threads, |&ti| {
            (ti, self.client.send(&self.targets[ti].baseline()))
        });
        let mut baselines = std::collections::HashMap::new();
        for (ti, outcome) in fetched {
            match outcome {
                Ok(exchange) => {
                    baselines.insert(ti, exchange);
                }
                Err(error) if error.is_limit() => run.stopped_early = true,
                Err(error) => run.done.errors.push(error.to_string()),
            }
        }
        let shared = Mutex::new(std::mem::take(&mut run.done));
        let last_save = Mutex::new(Instant::now());
        let stopped = AtomicBool::new(false);
        let interrupted = AtomicBool::new(false);
        let ran = AtomicUsize::new(0);
        parallel_map(&units, threads, |(ti, pi, to_do)| {
            let Some(baseline) = baselines.get(ti) else {
                return;
            };
            let unit = unit_key(&keys[*ti], *pi);
            let mut confirmed: Vec<String> = lock(&shared)
                .confirmed
                .get(&unit)
                .cloned()
                .unwrap_or_default();
            for &ci in to_do {
                let check = &self.checks[ci];
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                if self.control.stopped() {
                    interrupted.store(true, Ordering::Relaxed);
                    return;
                }
                let probe = Probe {
                    client: self.client,
                    target: &self.targets[*ti],
                    index: *pi,
                    baseline,
                    confirmed: &confirmed,
                    callbacks: self.callbacks,
                };
                let outcome = (check.run)(&probe);
                if let Err(error) = &outcome
                    && error.is_limit()
                {
                    // Not done: a later run with a fresh budget does it again.
                    stopped.store(true, Ordering::Relaxed);
                    return;
                }
                ran.fetch_add(1, Ordering::Relaxed);
                let mut done = lock(&shared);
                match outcome {
                    Ok(Some(finding)) => {
                        self.progress.check_done(1);
                        confirmed.push(check.name.to_owned());
                        done.confirmed.insert(unit.clone(), confirmed.clone());
                        done.findings.push(finding);
                    }
                    Ok(None) => self.progress.check_done(0),
                    Err(error) => {
                        self.progress.check_done(0);
                        done.errors.push(error.to_string());
                    }
                }
                done.param_checks
                    .insert(check_key(&keys[*ti], *pi, &ids[ci]));
                let mut saved = lock(&last_save);
                if saved.elapsed() >= CHECKPOINT_EVERY {
                    checkpoint(&done);
                    *saved = Instant::now();
                }
            }
        });
        run.done = shared
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        run.checks_run += ran.into_inner();
        run.stopped_early |= stopped.into_inner();
        run.interrupted |= interrupted.into_inner();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
