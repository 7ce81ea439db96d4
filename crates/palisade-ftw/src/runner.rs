//! Running a suite against a target and checking each stage as go-ftw does.
//!
//! Per stage, in this order (go-ftw's `checkResult`): a request error passes
//! when `expect_error` is set and fails otherwise; a response when an error was
//! expected fails; then `status` (any of the listed codes), `response_contains`
//! (on the raw response: status line, headers and body) and the log checks
//! (`expect_ids`, `no_expect_ids`, `match_regex`, `no_match_regex`,
//! `log_contains`, `no_log_contains`, `isolated`) against what the
//! [`IdCollector`] recorded for the response's `X-Request-Id`.
//!
//! Overrides replace the whole `output` of the stages they select, as go-ftw
//! does, and every application is reported. Files with `meta.enabled: false`
//! are reported as skipped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use regex::Regex;

use crate::client::{Response, exchange};
use crate::collector::{IdCollector, RequestLog};
use crate::report::{
    AppliedOverride, Failure, FailureKind, FileReport, Outcome, Report, TestResult,
};
use crate::request::build_request;
use crate::schema::{OverridesFile, Stage, Test};
use crate::{Suite, SuiteFile};

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Tests run at once.
    pub concurrency: usize,
    /// Time allowed for one request/response exchange.
    pub request_timeout: Duration,
    /// Longest wait for the log entries of one request.
    pub log_timeout: Duration,
    /// Once some log entry arrived, how long to wait for more.
    pub log_settle: Duration,
    /// Platform overrides to apply.
    pub overrides: Option<OverridesFile>,
    /// Only tests whose `RULEID-TESTID` matches.
    pub include: Option<Regex>,
    /// Skip tests whose `RULEID-TESTID` matches.
    pub exclude: Option<Regex>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 8,
            request_timeout: Duration::from_secs(10),
            log_timeout: Duration::from_millis(1500),
            log_settle: Duration::from_millis(40),
            overrides: None,
            include: None,
            exclude: None,
        }
    }
}

/// One test with its (possibly overridden) stages.
struct Job<'a> {
    file_index: usize,
    order: usize,
    /// The file's rule id.
    rule_id: u64,
    id: String,
    test_id: u64,
    test: std::borrow::Cow<'a, Test>,
    override_reason: Option<String>,
    retry: Vec<bool>,
    enabled: bool,
}

/// Runs every test of `suite` against `target`.
pub async fn run_suite(
    suite: &Suite,
    target: SocketAddr,
    collector: Arc<IdCollector>,
    opts: &RunOptions,
) -> Report {
    let started = Instant::now();
    let mut report = Report {
        load_errors: suite.load_errors.clone(),
        ..Report::default()
    };
    let mut jobs = Vec::new();
    for (file_index, suite_file) in suite.files.iter().enumerate() {
        report.files.push(FileReport {
            path: suite_file.path.clone(),
            rule_id: suite_file.file.rule_id,
            tests: Vec::new(),
        });
        for (order, test) in suite_file.file.tests.iter().enumerate() {
            let test_id = test.test_id.unwrap_or(order as u64 + 1);
            let id = format!("{}-{test_id}", suite_file.file.rule_id);
            if opts.include.as_ref().is_some_and(|re| !re.is_match(&id))
                || opts.exclude.as_ref().is_some_and(|re| re.is_match(&id))
            {
                continue;
            }
            let mut job = Job {
                file_index,
                order,
                rule_id: suite_file.file.rule_id,
                id,
                test_id,
                test: std::borrow::Cow::Borrowed(test),
                override_reason: None,
                retry: test
                    .stages
                    .iter()
                    .map(|s| s.output.retry_once.unwrap_or(false))
                    .collect(),
                enabled: suite_file.file.meta.enabled != Some(false),
            };
            if let Some(overrides) = &opts.overrides {
                apply_overrides(overrides, suite_file, &mut job, &mut report.overrides);
            }
            jobs.push(job);
        }
    }
    let concurrency = opts.concurrency.max(1);
    let mut results: Vec<(usize, usize, TestResult)> = futures_util::stream::iter(jobs)
        .map(|job| {
            let collector = collector.clone();
            async move {
                let result = run_test(&job, target, &collector, opts).await;
                (job.file_index, job.order, result)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    results.sort_by_key(|(file, order, _)| (*file, *order));
    for (file_index, _, result) in results {
        if let Some(file) = report.files.get_mut(file_index) {
            file.tests.push(result);
        }
    }
    report.files.retain(|file| !file.tests.is_empty());
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report
}

fn apply_overrides(
    overrides: &OverridesFile,
    suite_file: &SuiteFile,
    job: &mut Job<'_>,
    applied: &mut Vec<AppliedOverride>,
) {
    for entry in &overrides.test_overrides {
        if entry.rule_id != suite_file.file.rule_id
            || !(entry.test_ids.is_empty() || entry.test_ids.contains(&job.test_id))
        {
            continue;
        }
        let test = job.test.to_mut();
        for (index, stage) in test.stages.iter_mut().enumerate() {
            if !entry.stage_ids.is_empty() && !entry.stage_ids.contains(&(index as u64)) {
                continue;
            }
            stage.output = entry.output.clone();
            if let Some(retry) = entry.retry_once.or(entry.output.retry_once)
                && let Some(slot) = job.retry.get_mut(index)
            {
                *slot = retry;
            }
        }
        job.override_reason = Some(entry.reason.trim().to_owned());
        applied.push(AppliedOverride {
            test: job.id.clone(),
            reason: entry.reason.trim().to_owned(),
        });
    }
}

async fn run_test(
    job: &Job<'_>,
    target: SocketAddr,
    collector: &IdCollector,
    opts: &RunOptions,
) -> TestResult {
    let started = Instant::now();
    let mut failures = Vec::new();
    if job.enabled {
        for (index, stage) in job.test.stages.iter().enumerate() {
            let mut stage_failures =
                run_stage(index, stage, job.rule_id, target, collector, opts).await;
            if !stage_failures.is_empty() && job.retry.get(index).copied().unwrap_or(false) {
                stage_failures =
                    run_stage(index, stage, job.rule_id, target, collector, opts).await;
            }
            if !stage_failures.is_empty() {
                failures = stage_failures;
                break;
            }
        }
    }
    TestResult {
        id: job.id.clone(),
        test_id: job.test_id,
        outcome: if !job.enabled {
            Outcome::Skipped
        } else if failures.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed
        },
        failures,
        override_reason: job.override_reason.clone(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

fn failure(stage: usize, kind: FailureKind, detail: impl Into<String>) -> Failure {
    Failure {
        stage,
        kind,
        rule_ids: Vec::new(),
        detail: detail.into(),
    }
}

/// Runs one stage; returns its failed expectations.
async fn run_stage(
    index: usize,
    stage: &Stage,
    rule_id: u64,
    target: SocketAddr,
    collector: &IdCollector,
    opts: &RunOptions,
) -> Vec<Failure> {
    let output = &stage.output;
    let request = match build_request(&stage.input) {
        Ok(request) => request,
        Err(error) => return vec![failure(index, FailureKind::InvalidInput, error.to_string())],
    };
    let expect_error = output.expect_error.unwrap_or(false);
    let response = match exchange(
        target,
        &request.bytes,
        request.is_head,
        opts.request_timeout,
    )
    .await
    {
        Ok(response) => response,
        Err(_) if expect_error => return Vec::new(),
        Err(error) => return vec![failure(index, FailureKind::RequestError, error.to_string())],
    };
    let request_id = response.header("x-request-id").map(str::to_owned);
    if expect_error {
        if let Some(id) = &request_id {
            collector.take(id);
        }
        return vec![failure(
            index,
            FailureKind::ExpectedError,
            format!("expected an error, got status {}", response.status),
        )];
    }
    let mut failures = check_response(index, stage, &response);
    let log = &output.log;
    let needs_log = !log.expect_ids.is_empty()
        || !log.no_expect_ids.is_empty()
        || log.match_regex.is_some()
        || log.no_match_regex.is_some()
        || output.log_contains.is_some()
        || output.no_log_contains.is_some();
    match request_id {
        Some(id) if needs_log => {
            let logged = collector
                .wait(&id, &log.expect_ids, opts.log_settle, opts.log_timeout)
                .await;
            failures.extend(check_log(index, stage, rule_id, &logged));
        }
        Some(id) => {
            collector.take(&id);
        }
        None if needs_log => failures.push(failure(
            index,
            FailureKind::NoRequestId,
            format!(
                "response (status {}) has no X-Request-Id; log checks impossible",
                response.status
            ),
        )),
        None => {}
    }
    failures
}

fn check_response(index: usize, stage: &Stage, response: &Response) -> Vec<Failure> {
    let output = &stage.output;
    let mut failures = Vec::new();
    if !output.status.is_empty() && !output.status.contains(&response.status) {
        failures.push(failure(
            index,
            FailureKind::Status,
            format!(
                "status {} not in expected {:?}",
                response.status, output.status
            ),
        ));
    }
    if let Some(needle) = &output.response_contains
        && !String::from_utf8_lossy(&response.raw).contains(needle.as_str())
    {
        failures.push(failure(
            index,
            FailureKind::ResponseContains,
            format!("response lacks {needle:?}"),
        ));
    }
    failures
}

fn check_log(index: usize, stage: &Stage, rule_id: u64, logged: &RequestLog) -> Vec<Failure> {
    let output = &stage.output;
    let log = &output.log;
    let mut failures = Vec::new();
    let missing: Vec<u64> = log
        .expect_ids
        .iter()
        .copied()
        .filter(|id| !logged.rule_ids.contains(id))
        .collect();
    if !missing.is_empty() {
        failures.push(Failure {
            stage: index,
            kind: FailureKind::MissingId,
            detail: format!(
                "expected ids {missing:?} not logged (logged: {})",
                summarize_ids(&logged.rule_ids)
            ),
            rule_ids: missing,
        });
    }
    let mut unexpected: Vec<u64> = log
        .no_expect_ids
        .iter()
        .copied()
        .filter(|id| logged.rule_ids.contains(id))
        .collect();
    if output.isolated == Some(true) {
        unexpected.extend(
            logged
                .rule_ids
                .iter()
                .copied()
                .filter(|id| !log.expect_ids.contains(id)),
        );
    }
    if !unexpected.is_empty() {
        failures.push(Failure {
            stage: index,
            kind: FailureKind::UnexpectedId,
            detail: format!("ids {unexpected:?} must not be logged"),
            rule_ids: unexpected,
        });
    }
    let regex_checks = [
        (log.match_regex.as_deref(), true),
        (output.log_contains.as_deref(), true),
        (log.no_match_regex.as_deref(), false),
        (output.no_log_contains.as_deref(), false),
    ];
    for (pattern, must_match) in regex_checks {
        let Some(pattern) = pattern else {
            continue;
        };
        match Regex::new(pattern) {
            Ok(regex) if regex.is_match(&logged.text) != must_match => failures.push(failure(
                index,
                FailureKind::LogRegex,
                format!(
                    "log {} match {pattern:?}{}",
                    if must_match { "does not" } else { "must not" },
                    log_excerpt(&logged.text, rule_id)
                ),
            )),
            Ok(_) => {}
            Err(error) => failures.push(failure(
                index,
                FailureKind::InvalidInput,
                format!("bad regex {pattern:?}: {error}"),
            )),
        }
    }
    failures
}

/// The logged `[data …]` lines of the test file's rule (at most 3, each at
/// most 240 characters), to show what was logged instead.
fn log_excerpt(text: &str, rule_id: u64) -> String {
    let prefix = format!("[id \"{rule_id}\"]");
    let lines: Vec<String> = text
        .lines()
        .filter(|line| line.starts_with(&prefix) && line.contains("[data \""))
        .take(3)
        .map(|line| line.chars().take(240).collect())
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!(" (logged: {})", lines.join(" | "))
    }
}

/// The logged ids worth showing: without CRS's setup and initialisation
/// rules (900000–901999), at most 30.
fn summarize_ids(ids: &[u64]) -> String {
    let relevant: Vec<String> = ids
        .iter()
        .filter(|id| !(900_000..902_000).contains(*id))
        .map(u64::to_string)
        .collect();
    if relevant.len() > 30 {
        format!(
            "[{}, … {} more]",
            relevant[..30].join(", "),
            relevant.len() - 30
        )
    } else {
        format!("[{}]", relevant.join(", "))
    }
}
