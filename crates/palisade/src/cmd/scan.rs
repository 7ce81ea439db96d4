//! `palisade scan URL`: crawl a running web application politely and test it with passive
//! checks and confirmed active probes; report as table, JSON, SARIF, JUnit or HTML.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use palisade_scan::crawl::CrawlOptions;
use palisade_scan::score::{Labels, score};
use palisade_scan::{Client, Format, HttpConfig, ScanOptions, Scope, Severity};
use url::Url;

use crate::output::{EXIT_FINDINGS, EXIT_USAGE, emit};

/// Options of `palisade scan`.
#[derive(Debug, clap::Args)]
pub(crate) struct ScanArgs {
    /// The start URL (http or https). Only scan applications you own or may test.
    url: String,
    /// Report format: table, json, sarif, junit or html.
    #[arg(long, default_value = "table")]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Exit 1 when a finding has at least this severity: info, low, medium, high, critical
    /// or never.
    #[arg(long, default_value = "medium")]
    fail_on: String,
    /// A baseline file of accepted findings (written by --write-baseline); they are not
    /// reported.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Write the findings of this scan as a baseline file.
    #[arg(long)]
    write_baseline: Option<PathBuf>,
    /// A header sent with every request, `Name: value` (repeatable). Values are secrets: they
    /// never appear in reports or logs.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// A Cookie header value sent with every request (`session=…; other=…`); never printed.
    #[arg(long)]
    cookie: Option<String>,
    /// Requests per second per host.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Most requests the scan sends.
    #[arg(long, default_value_t = 20_000)]
    max_requests: u64,
    /// Stop the scan after this long (e.g. 10m) and report what was found.
    #[arg(long, value_parser = humantime::parse_duration)]
    max_time: Option<Duration>,
    /// Timeout of one request.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Link depth from the start URL.
    #[arg(long, default_value_t = 5)]
    max_depth: usize,
    /// Most pages crawled.
    #[arg(long, default_value_t = 500)]
    max_pages: usize,
    /// Another host (host or host:port) in scope (repeatable); the start URL's host always is.
    #[arg(long = "host")]
    hosts: Vec<String>,
    /// Only paths starting with this prefix are in scope (repeatable; default: all).
    #[arg(long = "include")]
    includes: Vec<String>,
    /// URLs containing this text are never requested (repeatable), e.g. /logout.
    #[arg(long = "exclude")]
    excludes: Vec<String>,
    /// Do not honour robots.txt. Only for the site's owner.
    #[arg(long)]
    ignore_robots: bool,
    /// Do not read /sitemap.xml.
    #[arg(long)]
    no_sitemap: bool,
    /// Only passive checks: crawl and read, no probes.
    #[arg(long)]
    passive_only: bool,
    /// Run only these check categories (repeatable or comma-separated): sqli, xss, cmdi,
    /// traversal, redirect, ssti, crlf, xpath, ldap, files, cors, headers, cookies, info,
    /// listing, clickjacking, mixed.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Score the findings against a labeled TOML list of cases and print per-category
    /// TPR/FPR to standard error.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// No progress messages.
    #[arg(long, short)]
    quiet: bool,
}

fn usage(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("palisade: error: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

pub(crate) fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let start = match Url::parse(&args.url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => url,
        Ok(_) => return usage(&format!("{} is not an http(s) URL", args.url)),
        Err(error) => return usage(&format!("invalid URL {}: {error}", args.url)),
    };
    let fail_on = match args.fail_on.as_str() {
        "never" => None,
        other => match other.parse::<Severity>() {
            Ok(severity) => Some(severity),
            Err(error) => return usage(&error),
        },
    };
    if !args.rate.is_finite() || args.rate <= 0.0 || args.concurrency == 0 {
        return usage("--rate and --concurrency must be positive");
    }
    let mut auth_headers = Vec::new();
    for header in &args.headers {
        match header.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                auth_headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            _ => return usage("--header must look like `Name: value`"),
        }
    }
    if let Some(cookie) = &args.cookie {
        auth_headers.push(("Cookie".to_owned(), cookie.clone()));
    }
    let labels = match args.labels.as_deref().map(Labels::load).transpose() {
        Ok(labels) => labels,
        Err(error) => return usage(&error.to_string()),
    };
    let client = Client::new(HttpConfig {
        rate_per_host: args.rate,
        concurrency: args.concurrency,
        max_requests: args.max_requests,
        max_time: args.max_time,
        timeout: args.timeout,
        auth_headers,
        ..HttpConfig::default()
    });
    let mut scope = Scope::for_start(&start);
    scope.hosts.extend(args.hosts.iter().cloned());
    if !args.includes.is_empty() {
        scope.path_prefixes = args.includes.clone();
    }
    scope.excludes = args.excludes.clone();
    scope.max_depth = args.max_depth;
    scope.max_pages = args.max_pages;
    let options = ScanOptions {
        start,
        scope,
        crawl: CrawlOptions {
            ignore_robots: args.ignore_robots,
            sitemap: !args.no_sitemap,
        },
        passive_only: args.passive_only,
        only: args.only.clone(),
    };
    let quiet = args.quiet;
    let terminal = std::io::stderr().is_terminal();
    let progress = |message: &str| {
        if quiet {
            return;
        }
        // Progress text may contain URLs with parameters but never the auth headers.
        let message = client.redact(message);
        if terminal {
            eprint!("\r\x1b[2K{message}");
        } else {
            eprintln!("palisade: {message}");
        }
    };
    let mut report = palisade_scan::scan(&client, &options, &progress);
    if terminal && !quiet {
        eprintln!();
    }
    for error in report.errors.iter().take(10) {
        eprintln!("palisade: warning: {}", client.redact(error));
    }
    if report.stopped_early {
        eprintln!("palisade: warning: the request budget or time limit ended the scan early");
    }
    if let Some(path) = &args.baseline
        && let Err(error) = report.apply_baseline(path)
    {
        return usage(&error.to_string());
    }
    if let Some(path) = &args.write_baseline {
        report.write_baseline(path)?;
    }
    if let Some(labels) = &labels {
        eprint!("{}", score(labels, &report.findings).render());
        eprintln!(
            "requests: {} · wall time: {:.1} s",
            report.requests,
            report.elapsed_ms as f64 / 1000.0
        );
    }
    emit(&report.render(args.format), args.output.as_deref())?;
    Ok(if report.fails(fail_on) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}
