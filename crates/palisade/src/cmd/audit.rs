//! `palisade audit [PATH]`: known-vulnerable dependencies in the lockfiles, manifests, SBOMs and
//! installed Python environments under PATH, matched offline against the OSV advisory store in
//! the data directory; `palisade audit db import|update|status` maintains that store.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use palisade_audit::store::{MAX_DOWNLOAD_BYTES, download};
use palisade_audit::{AdvisoryStore, FailOn, IgnoreList, ReportFormat};

use crate::output::{EXIT_FINDINGS, EXIT_USAGE, emit};

/// The ignore file looked for in PATH when `--ignore` is not given.
const DEFAULT_IGNORE_FILE: &str = ".palisade-audit-ignore.toml";

/// Options of `palisade audit`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    /// A directory to search for lockfiles (requirements*.txt, poetry.lock, Pipfile.lock, uv.lock,
    /// pdm.lock, pylock.toml, *.dist-info, Cargo.lock, package-lock.json, yarn.lock,
    /// pnpm-lock.yaml, go.sum, *.cdx.json, *.spdx.json), or one such file.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Report format: table, json, sarif or vex (CycloneDX 1.5 VEX).
    #[arg(long, default_value = "table")]
    format: ReportFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Exit 1 when a finding has at least this severity: any, low, medium, high, critical or
    /// never. Findings without a usable severity fail at every threshold.
    #[arg(long, default_value = "any")]
    fail_on: FailOn,
    /// An ignore file of accepted advisories (TOML `[[ignore]]` entries with id, reason,
    /// expires). Default: PATH/.palisade-audit-ignore.toml when it exists.
    #[arg(long)]
    ignore: Option<PathBuf>,
    /// The data directory that holds the advisory store.
    #[arg(long, default_value = "palisade-data")]
    data_dir: PathBuf,
    /// Warn when the newest advisory data is older than this.
    #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
    max_age: Duration,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Maintain the offline advisory store.
    #[command(subcommand)]
    Db(DbCommand),
}

#[derive(Debug, clap::Subcommand)]
enum DbCommand {
    /// Import OSV advisories (JSON or YAML) from a directory, one file or an OSV zip archive.
    /// Re-importing a source replaces it.
    Import {
        /// Directory, advisory file or .zip archive.
        path: PathBuf,
        /// The source name (default: the directory or archive name).
        #[arg(long)]
        name: Option<String>,
        /// The data directory that holds the advisory store.
        #[arg(long, default_value = "palisade-data")]
        data_dir: PathBuf,
    },
    /// Download an OSV zip archive and import it (needs the network).
    Update {
        /// The archive URL (default: OSV's PyPI, crates.io, npm and Go archives).
        url: Option<String>,
        /// The source name (default: derived from the URL).
        #[arg(long)]
        name: Option<String>,
        /// The data directory that holds the advisory store.
        #[arg(long, default_value = "palisade-data")]
        data_dir: PathBuf,
    },
    /// Imported sources: advisory counts, import time and data age.
    Status {
        /// table or json.
        #[arg(long, default_value = "table")]
        format: String,
        /// Warn when the newest advisory data is older than this.
        #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
        max_age: Duration,
        /// The data directory that holds the advisory store.
        #[arg(long, default_value = "palisade-data")]
        data_dir: PathBuf,
    },
}

/// OSV's per-ecosystem archives for the ecosystems Palisade reads lockfiles of.
const DEFAULT_ARCHIVES: [(&str, &str); 4] = [
    (
        "osv-pypi",
        "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip",
    ),
    (
        "osv-crates.io",
        "https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip",
    ),
    (
        "osv-npm",
        "https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip",
    ),
    (
        "osv-go",
        "https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip",
    ),
];

pub(crate) fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(AuditCommand::Db(command)) => run_db(command),
        None => audit(&args),
    }
}

fn audit(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    if !args.path.exists() {
        eprintln!("palisade: error: {} does not exist", args.path.display());
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let store = match AdvisoryStore::open_in(&args.data_dir) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("palisade: error: {error}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let status = store.status()?;
    if status.is_empty() {
        eprintln!(
            "palisade: error: the advisory store in {} is empty (run `palisade audit db import PATH`)",
            args.data_dir.display()
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    warn_if_stale(&status, args.max_age);
    let ignore_path = args.ignore.clone().or_else(|| {
        let candidate = if args.path.is_dir() {
            args.path.join(DEFAULT_IGNORE_FILE)
        } else {
            PathBuf::from(DEFAULT_IGNORE_FILE)
        };
        candidate.is_file().then_some(candidate)
    });
    let ignores = match ignore_path.as_deref().map(IgnoreList::load).transpose() {
        Ok(ignores) => ignores.unwrap_or_default(),
        Err(error) => {
            eprintln!("palisade: error: {error}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let (files, dependencies, problems) = palisade_audit::scan::collect(&args.path);
    let today = palisade_audit::dates::today_utc();
    let mut report = palisade_audit::scan::audit(&store, &dependencies, &ignores, &today)?;
    report.files = files;
    report.errors = problems.iter().map(ToString::to_string).collect();
    for problem in &problems {
        eprintln!("palisade: {problem}");
    }
    emit(&report.render(args.format), args.output.as_deref())?;
    Ok(if report.fails(args.fail_on) {
        ExitCode::from(EXIT_FINDINGS)
    } else if !report.errors.is_empty() {
        ExitCode::from(EXIT_USAGE)
    } else {
        ExitCode::SUCCESS
    })
}

fn warn_if_stale(status: &[palisade_audit::store::SourceStatus], max_age: Duration) {
    let now = SystemTime::now();
    for source in status {
        let age = source.data_age(now);
        if age > max_age {
            eprintln!(
                "palisade: warning: advisory source {} is {} old (newest advisory {}); run `palisade audit db update` or import fresh data",
                source.name,
                humantime::format_duration(Duration::from_secs(age.as_secs() / 3600 * 3600)),
                source.newest_modified.as_deref().unwrap_or("unknown")
            );
        }
    }
}

fn run_db(command: DbCommand) -> anyhow::Result<ExitCode> {
    match command {
        DbCommand::Import {
            path,
            name,
            data_dir,
        } => {
            if !path.exists() {
                eprintln!("palisade: error: {} does not exist", path.display());
                return Ok(ExitCode::from(EXIT_USAGE));
            }
            let name = name.unwrap_or_else(|| source_name_of(&path));
            let mut store = AdvisoryStore::create_in(&data_dir)?;
            match store.import_path(&name, &path) {
                Ok(summary) => {
                    report_import(&summary);
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("palisade: error: {error}");
                    Ok(ExitCode::from(EXIT_USAGE))
                }
            }
        }
        DbCommand::Update {
            url,
            name,
            data_dir,
        } => {
            let targets: Vec<(String, String)> = match url {
                Some(url) => {
                    let name = name.unwrap_or_else(|| source_name_of_url(&url));
                    vec![(name, url)]
                }
                None => DEFAULT_ARCHIVES
                    .iter()
                    .map(|(n, u)| ((*n).to_owned(), (*u).to_owned()))
                    .collect(),
            };
            let mut store = AdvisoryStore::create_in(&data_dir)?;
            for (name, url) in targets {
                eprintln!("palisade: downloading {url}");
                let bytes = download(&url, MAX_DOWNLOAD_BYTES)
                    .with_context(|| format!("cannot update {name}"))?;
                let summary =
                    store.import_archive(&name, Path::new(&url), std::io::Cursor::new(bytes))?;
                report_import(&summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Status {
            format,
            max_age,
            data_dir,
        } => {
            let store = match AdvisoryStore::open_in(&data_dir) {
                Ok(store) => store,
                Err(error) => {
                    eprintln!("palisade: error: {error}");
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
            };
            let status = store.status()?;
            let now = SystemTime::now();
            let text = match format.as_str() {
                "json" => serde_json::to_string_pretty(
                    &status
                        .iter()
                        .map(|s| {
                            serde_json::json!({
                                "name": s.name, "location": s.location, "advisories": s.advisories,
                                "withdrawn": s.withdrawn, "imported_at": s.imported_at,
                                "newest_modified": s.newest_modified,
                                "import_age_seconds": s.age(now).as_secs(),
                                "data_age_seconds": s.data_age(now).as_secs(),
                                "stale": s.data_age(now) > max_age,
                            })
                        })
                        .collect::<Vec<_>>(),
                )?,
                "table" => {
                    let mut out = format!(
                        "{:<20} {:>10} {:>10}  {:<22} {:<14} LOCATION\n",
                        "SOURCE", "ADVISORIES", "WITHDRAWN", "NEWEST ADVISORY", "IMPORTED"
                    );
                    for s in &status {
                        out.push_str(&format!(
                            "{:<20} {:>10} {:>10}  {:<22} {:<14} {}\n",
                            s.name,
                            s.advisories,
                            s.withdrawn,
                            s.newest_modified.as_deref().unwrap_or("-"),
                            format!(
                                "{} ago",
                                humantime::format_duration(Duration::from_secs(
                                    s.age(now).as_secs() / 60 * 60
                                ))
                            ),
                            s.location
                        ));
                    }
                    out
                }
                other => {
                    eprintln!("palisade: error: unknown format {other:?}: expected table or json");
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
            };
            emit(&text, None)?;
            warn_if_stale(&status, max_age);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn report_import(summary: &palisade_audit::store::ImportSummary) {
    for (path, reason) in summary.skipped.iter().take(20) {
        eprintln!("palisade: skipped {}: {reason}", path.display());
    }
    if summary.skipped.len() > 20 {
        eprintln!(
            "palisade: … and {} more skipped files",
            summary.skipped.len() - 20
        );
    }
    println!(
        "imported {} advisories from {} files as source {:?} in {} ms ({} skipped)",
        summary.advisories,
        summary.files,
        summary.source,
        summary.elapsed.as_millis(),
        summary.skipped.len()
    );
}

/// `…/advisories/pypa/vulns` → `pypa`; `…/rustsec-osv` → `rustsec-osv`; `all.zip` → its directory.
fn source_name_of(path: &Path) -> String {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let mut components = canonical
        .components()
        .rev()
        .filter_map(|c| c.as_os_str().to_str())
        .map(|s| s.trim_end_matches(".zip").to_owned());
    let first = components.next().unwrap_or_else(|| "advisories".to_owned());
    if matches!(
        first.as_str(),
        "vulns" | "all" | "crates" | "advisories" | "osv"
    ) {
        components.next().unwrap_or(first)
    } else {
        first
    }
}

fn source_name_of_url(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let mut parts = trimmed.rsplit('/');
    let last = parts.next().unwrap_or("osv").trim_end_matches(".zip");
    if last == "all" {
        format!(
            "osv-{}",
            parts.next().unwrap_or("archive").to_ascii_lowercase()
        )
    } else {
        last.to_owned()
    }
}
