//! `palisade scan URL`: crawl a running web application politely and test it with passive
//! checks and confirmed active probes, and audit the TLS of an https URL; `palisade scan --tls
//! HOST:PORT` audits TLS alone. Report as table, JSON, SARIF, JUnit or HTML.

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
    #[arg(required_unless_present = "tls")]
    url: Option<String>,
    /// Audit the TLS of HOST:PORT (protocols SSLv3 to TLS 1.3, cipher suites, certificate,
    /// Mozilla profile). With a URL too, both run; an https URL's own TLS is audited anyway.
    #[arg(long, value_name = "HOST:PORT")]
    tls: Option<String>,
    /// PEM file of CA certificates trusted for the TLS audit's chain validation (default: the
    /// public Mozilla roots).
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// Do not audit the TLS of an https start URL.
    #[arg(long)]
    no_tls: bool,
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
    /// Sign in through the login form on this page before scanning (and again whenever the
    /// session is lost): the form with a password field is filled in and submitted.
    #[arg(long, value_name = "URL", requires_all = ["login_password", "login_check"])]
    login_url: Option<String>,
    /// A login form field, NAME=VALUE (repeatable), e.g. user=alice. Not secret: shown in
    /// reports where the application echoes it.
    #[arg(
        long = "login-field",
        value_name = "NAME=VALUE",
        requires = "login_url"
    )]
    login_fields: Vec<String>,
    /// Where the password is: env:VAR or file:PATH (never on the command line, where other
    /// users see it). It fills the form's password field and never appears in reports or logs.
    #[arg(long, value_name = "env:VAR|file:PATH", requires = "login_url")]
    login_password: Option<String>,
    /// How a successful login is recognised: a text in the answer to the form or in the page
    /// it redirects to, or a three-digit status code of the answer (e.g. 302).
    #[arg(long, value_name = "TEXT|STATUS", requires = "login_url")]
    login_check: Option<String>,
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
    /// traversal, redirect, ssti, crlf, xpath, ldap, xxe, ssrf, deser, session, files, cors,
    /// headers, cookies, info, listing, clickjacking, mixed, serialized.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// An OpenAPI 3 or Swagger 2.0 document (JSON or YAML file, or an http(s) URL fetched by
    /// the scan): its get/post/put/patch operations are scanned too (query, path, header and
    /// cookie parameters; JSON, XML, form and multipart bodies with example values).
    #[arg(long, value_name = "FILE|URL")]
    openapi: Option<String>,
    /// Where the SSRF check's out-of-band receiver listens, ADDR:PORT. Default: 127.0.0.1 on a
    /// free port, or 0.0.0.0 on the port of --callback-addr when that is given.
    #[arg(long, value_name = "ADDR:PORT")]
    callback_listen: Option<std::net::SocketAddr>,
    /// The HOST:PORT the scanned application is told to call back: an address of this machine
    /// it can reach (or a port forwarded to the receiver). Needed for applications on other
    /// hosts; default: the receiver's loopback address.
    #[arg(long, value_name = "HOST:PORT")]
    callback_addr: Option<String>,
    /// Score the findings against a labeled TOML list of cases and print per-category
    /// TPR/FPR to standard error.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Save the scan's progress in FILE (crawl frontier, visited pages, finished checks and
    /// their findings) every few seconds and on Ctrl-C; run the same command again to
    /// continue where it stopped. Credentials are redacted from the file.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// No progress line (it is only drawn when standard error is a terminal).
    #[arg(long, short)]
    quiet: bool,
}

fn usage(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("palisade: error: {message}");
    Ok(ExitCode::from(EXIT_USAGE))
}

pub(crate) fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let start = match args.url.as_deref().map(Url::parse) {
        None => None,
        Some(Ok(url)) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Some(url)
        }
        Some(Ok(url)) => return usage(&format!("{url} is not an http(s) URL")),
        Some(Err(error)) => return usage(&format!("invalid URL: {error}")),
    };
    let mut tls_targets = Vec::new();
    if let Some(text) = &args.tls {
        match palisade_tlsaudit::TlsTarget::parse(text) {
            Ok(target) => tls_targets.push(target),
            Err(error) => return usage(&error.to_string()),
        }
    }
    if let Some(url) = start
        .as_ref()
        .filter(|url| url.scheme() == "https" && !args.no_tls)
        && let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default())
    {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !tls_targets
            .iter()
            .any(|target| target.host == host && target.port == port)
        {
            tls_targets.push(palisade_tlsaudit::TlsTarget::new(host, port));
        }
    }
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
    let callback = match callback_config(args.callback_listen, args.callback_addr.as_deref()) {
        Ok(callback) => callback,
        Err(message) => return usage(&message),
    };
    let labels = match args.labels.as_deref().map(Labels::load).transpose() {
        Ok(labels) => labels,
        Err(error) => return usage(&error.to_string()),
    };
    let login = match login_config(&args) {
        Ok(login) => login,
        Err(message) => return usage(&message),
    };
    let signing_in = login.is_some();
    let client = Client::new(HttpConfig {
        login,
        rate_per_host: args.rate,
        concurrency: args.concurrency,
        max_requests: args.max_requests,
        max_time: args.max_time,
        timeout: args.timeout,
        auth_headers,
        ..HttpConfig::default()
    });
    let tls_options = palisade_tlsaudit::TlsAuditOptions {
        ca_file: args.tls_ca.clone(),
        ..palisade_tlsaudit::TlsAuditOptions::default()
    };
    let progress = palisade_scan::Progress::default();
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let Some(start) = start else {
        // TLS audit alone.
        let started = std::time::Instant::now();
        let mut report = palisade_scan::ScanReport {
            target: tls_targets
                .iter()
                .map(tls_url)
                .collect::<Vec<_>>()
                .join(" "),
            ..palisade_scan::ScanReport::default()
        };
        let audited = with_progress_line(show_progress, &client, &progress, || {
            for target in &tls_targets {
                progress.phase(&format!("TLS audit of {}", tls_url(target)));
                match palisade_tlsaudit::audit(target, &tls_options) {
                    Ok(audit) => report.findings.extend(tls_findings(target, &audit)),
                    Err(error) => return Err(error.to_string()),
                }
            }
            Ok(())
        });
        if let Err(message) = audited {
            return usage(&message);
        }
        report.elapsed_ms = started.elapsed().as_millis();
        return finish(report, &args, fail_on);
    };
    let api = match &args.openapi {
        None => palisade_scan::openapi::Api::default(),
        Some(location) => match load_openapi(&client, &start, location) {
            Ok(api) => api,
            Err(error) => return usage(&client.redact(&error.to_string())),
        },
    };
    for warning in api.warnings.iter().take(10) {
        eprintln!("palisade: warning: {}", client.redact(warning));
    }
    let mut scope = Scope::for_start(&start);
    scope.hosts.extend(args.hosts.iter().cloned());
    if !args.includes.is_empty() {
        scope.path_prefixes = args.includes.clone();
    }
    scope.excludes = args.excludes.clone();
    if signing_in {
        // Signed in, the crawler keeps away from signing out.
        scope
            .excludes
            .extend(LOGOUT.iter().map(|pattern| (*pattern).to_owned()));
        if let Err(error) = client.log_in() {
            return usage(&client.redact(&error.to_string()));
        }
    }
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
        callback,
        api,
    };
    let state = match &args.state {
        None => palisade_scan::state::ScanState::default(),
        Some(path) => match palisade_scan::state::ScanState::load(path) {
            Ok(Some(state)) if state.scan == options.identity() => state,
            Ok(Some(_)) => {
                return usage(&format!(
                    "{} holds the state of another scan (other URL or options): remove it or use another file",
                    path.display()
                ));
            }
            Ok(None) => palisade_scan::state::ScanState::default(),
            Err(error) => return usage(&error.to_string()),
        },
    };
    // With a state file, the first Ctrl-C (or SIGTERM) lets the checks in progress finish and
    // saves; a second one quits at once.
    let stop_requested = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if args.state.is_some() {
        watch_for_interrupts(std::sync::Arc::clone(&stop_requested))?;
    }
    let stop = || stop_requested.load(std::sync::atomic::Ordering::Relaxed);
    let save_failed = std::sync::atomic::AtomicBool::new(false);
    let save = |state: &palisade_scan::state::SavedState<'_>| {
        if let Some(path) = &args.state
            && let Err(error) = state.save(path, &|text| client.redact(text))
            && !save_failed.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!("palisade: warning: cannot save the scan state: {error}");
        }
    };
    let control = palisade_scan::Control {
        stop: args
            .state
            .as_ref()
            .map(|_| &stop as &(dyn Fn() -> bool + Sync)),
        checkpoint: args
            .state
            .as_ref()
            .map(|_| &save as &(dyn Fn(&palisade_scan::state::SavedState<'_>) + Sync)),
    };
    let mut report = with_progress_line(show_progress, &client, &progress, || {
        let mut report =
            palisade_scan::scan_resumable(&client, &options, &progress, state, &control);
        if report.interrupted {
            return report;
        }
        for target in &tls_targets {
            progress.phase(&format!("TLS audit of {}", tls_url(target)));
            match palisade_tlsaudit::audit(target, &tls_options) {
                Ok(audit) => report.findings.extend(tls_findings(target, &audit)),
                Err(error) => report
                    .errors
                    .push(format!("TLS audit of {}: {error}", tls_url(target))),
            }
        }
        report
    });
    report
        .findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    for error in report.errors.iter().take(10) {
        eprintln!("palisade: warning: {}", client.redact(error));
    }
    if report.interrupted {
        eprintln!(
            "palisade: interrupted: {} checks done; run the same command to continue",
            report.checks_run + report.checks_resumed
        );
    } else if report.stopped_early {
        eprintln!("palisade: warning: the request budget or time limit ended the scan early");
    }
    if let Some(labels) = &labels {
        eprint!("{}", score(labels, &report.findings).render());
        eprintln!(
            "requests: {} · wall time: {:.1} s",
            report.requests,
            report.elapsed_ms as f64 / 1000.0
        );
    }
    let interrupted = report.interrupted;
    let code = finish(report, &args, fail_on)?;
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else {
        code
    })
}

/// URL parts never crawled while signed in.
const LOGOUT: [&str; 6] = [
    "logout", "log-out", "signout", "sign-out", "logoff", "Logout",
];

/// The scripted login from --login-url, --login-field, --login-password and --login-check.
fn login_config(args: &ScanArgs) -> Result<Option<palisade_scan::login::LoginConfig>, String> {
    let Some(url) = &args.login_url else {
        return Ok(None);
    };
    let url = Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| format!("--login-url {url:?} is not an http(s) URL"))?;
    let mut fields = Vec::new();
    for field in &args.login_fields {
        match field.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                fields.push((name.to_owned(), value.to_owned()));
            }
            _ => return Err(format!("--login-field {field:?} must be NAME=VALUE")),
        }
    }
    let source = args.login_password.as_deref().unwrap_or("");
    let password = if let Some(variable) = source.strip_prefix("env:") {
        std::env::var(variable)
            .ok()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| {
                format!("--login-password: the environment variable {variable} is not set")
            })?
    } else if let Some(path) = source.strip_prefix("file:") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--login-password: cannot read {path}: {e}"))?;
        text.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        return Err(
            "--login-password must be env:VAR or file:PATH (a password on the command line is visible to other users)"
                .into(),
        );
    };
    let check = args.login_check.as_deref().unwrap_or("");
    if check.is_empty() {
        return Err("--login-check needs a text or a status code".into());
    }
    Ok(Some(palisade_scan::login::LoginConfig {
        url,
        fields,
        password,
        check: palisade_scan::login::LoginCheck::parse(check),
    }))
}

/// Exit code of a scan stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

/// Sets `stop` on the first SIGINT or SIGTERM; exits at once on the second.
fn watch_for_interrupts(stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut interrupt, mut terminate) = runtime.block_on(async {
        anyhow::Ok((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    std::thread::spawn(move || {
        runtime.block_on(async {
            loop {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
                if stop.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    std::process::exit(i32::from(EXIT_INTERRUPTED));
                }
                eprintln!(
                    "\npalisade: stopping: the checks in progress finish and the state is saved (again to quit at once)"
                );
            }
        });
    });
    Ok(())
}

/// An OpenAPI document from an http(s) URL (fetched by the scan; relative servers resolve
/// against it) or a file (relative servers resolve against the start URL).
fn load_openapi(
    client: &Client,
    start: &Url,
    location: &str,
) -> Result<palisade_scan::openapi::Api, palisade_scan::ScanError> {
    use palisade_scan::openapi;
    match Url::parse(location) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {
            openapi::parse(&openapi::fetch(client, &url)?, &url)
        }
        _ => openapi::parse(&openapi::read_file(std::path::Path::new(location))?, start),
    }
}

/// The receiver's listening address and the address handed to the application: the
/// advertised `HOST:PORT` must name a port; without a listening address it is heard on every
/// interface at that port; listening on every interface needs an advertised address.
fn callback_config(
    listen: Option<std::net::SocketAddr>,
    advertise: Option<&str>,
) -> Result<palisade_scan::checks::callback::CallbackConfig, String> {
    let advertised_port = match advertise {
        None => None,
        Some(text) => {
            let parsed = text.rsplit_once(':').and_then(|(host, port)| {
                let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
                let url = Url::parse(&format!("http://{host}/")).ok()?;
                (url.host_str() == Some(host) || url.host_str() == Some(&host.to_ascii_lowercase()))
                    .then_some(port)
            });
            match parsed {
                Some(port) => Some(port),
                None => return Err(format!("--callback-addr {text:?} must be HOST:PORT")),
            }
        }
    };
    let listen = match (listen, advertised_port) {
        (Some(listen), _) => listen,
        (None, Some(port)) => std::net::SocketAddr::from(([0, 0, 0, 0], port)),
        (None, None) => return Ok(palisade_scan::checks::callback::CallbackConfig::default()),
    };
    if listen.ip().is_unspecified() && advertise.is_none() {
        return Err(
            "--callback-listen on every interface needs --callback-addr HOST:PORT (what the application should call)"
                .into(),
        );
    }
    Ok(palisade_scan::checks::callback::CallbackConfig {
        listen,
        advertise: advertise.map(str::to_owned),
    })
}

/// Runs `work` while a thread redraws the progress line on standard error (a terminal) every
/// quarter second; the line is erased when `work` returns. Without `show`, just runs `work`.
fn with_progress_line<T>(
    show: bool,
    client: &Client,
    progress: &palisade_scan::Progress,
    work: impl FnOnce() -> T,
) -> T {
    if !show {
        return work();
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut ticks = 0u32;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if ticks.is_multiple_of(5) {
                    let line = progress
                        .snapshot()
                        .line(client.requests_sent(), client.elapsed());
                    eprint!("\r\x1b[2K{line}");
                }
                ticks = ticks.wrapping_add(1);
                std::thread::sleep(Duration::from_millis(50));
            }
            eprint!("\r\x1b[2K");
        });
        let out = work();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        out
    })
}

/// Baseline, report, exit code: the same for web and TLS-only scans.
fn finish(
    mut report: palisade_scan::ScanReport,
    args: &ScanArgs,
    fail_on: Option<Severity>,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.baseline
        && let Err(error) = report.apply_baseline(path)
    {
        return usage(&error.to_string());
    }
    if let Some(path) = &args.write_baseline {
        report.write_baseline(path)?;
    }
    emit(&report.render(args.format), args.output.as_deref())?;
    Ok(if report.fails(fail_on) {
        ExitCode::from(EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// `tls://host:port`, the URL TLS findings are reported under.
fn tls_url(target: &palisade_tlsaudit::TlsTarget) -> String {
    if target.host.contains(':') {
        format!("tls://[{}]:{}", target.host, target.port)
    } else {
        format!("tls://{}:{}", target.host, target.port)
    }
}

/// The TLS audit's findings as scan findings (same report formats, baseline and exit code).
fn tls_findings(
    target: &palisade_tlsaudit::TlsTarget,
    audit: &palisade_tlsaudit::TlsReport,
) -> Vec<palisade_scan::Finding> {
    audit
        .findings
        .iter()
        .map(|finding| palisade_scan::Finding {
            id: finding.id.clone(),
            title: finding.title.clone(),
            cwe: finding.cwe,
            severity: finding.severity,
            url: tls_url(target),
            method: None,
            parameter: None,
            evidence: palisade_scan::Evidence {
                request: format!(
                    "TLS handshake probes to {}:{} (SNI {})",
                    target.host,
                    target.port,
                    target.sni.as_deref().unwrap_or(&target.host)
                ),
                response: finding.evidence.clone(),
                detail: "observed in the server's handshake answers".to_owned(),
            },
            fix: finding.fix.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_addresses() {
        let default = callback_config(None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            default,
            palisade_scan::checks::callback::CallbackConfig::default()
        );
        let remote = callback_config(None, Some("10.0.0.5:8099")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(remote.listen.to_string(), "0.0.0.0:8099");
        assert_eq!(remote.advertise.as_deref(), Some("10.0.0.5:8099"));
        let split = callback_config(
            Some("127.0.0.1:7000".parse().unwrap_or_else(|e| panic!("{e}"))),
            Some("scanner.example:80"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(split.listen.to_string(), "127.0.0.1:7000");
        assert!(callback_config(None, Some("[::1]:8099")).is_ok());
        for bad in ["10.0.0.5", "10.0.0.5:0", "http://h:1", "h:1/x", ":8099"] {
            assert!(callback_config(None, Some(bad)).is_err(), "{bad}");
        }
        assert!(
            callback_config(
                Some("0.0.0.0:7000".parse().unwrap_or_else(|e| panic!("{e}"))),
                None
            )
            .is_err(),
            "every interface, but nothing to advertise"
        );
    }
}
