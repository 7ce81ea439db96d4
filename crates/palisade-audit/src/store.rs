//! The offline advisory store: OSV advisories imported from directories of JSON/YAML files into
//! one SQLite file, indexed by (ecosystem, normalised package name) and by alias. Each import is
//! a named source that replaces its previous import in one transaction; `status` reports the
//! sources, their counts and their age.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension as _, params};

use crate::error::{AuditError, read_limited};
use crate::osv::Advisory;
use crate::version::Ecosystem;

/// The store's file name inside the data directory.
pub const STORE_FILE: &str = "advisories.sqlite3";
/// Largest advisory file read.
const MAX_ADVISORY_BYTES: u64 = 8 * 1024 * 1024;
/// Most uncompressed bytes read from one archive (zip-bomb bound).
const MAX_ARCHIVE_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// Largest archive `download` accepts.
pub const MAX_DOWNLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Most advisory files one import reads.
const MAX_ADVISORY_FILES: usize = 2_000_000;

/// An opened advisory store.
#[derive(Debug)]
pub struct AdvisoryStore {
    connection: Connection,
    path: PathBuf,
}

/// The outcome of one import.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// The source name.
    pub source: String,
    /// Advisory files read.
    pub files: usize,
    /// Advisories stored.
    pub advisories: usize,
    /// Files that could not be read or parsed, with the reason (the import carries on).
    pub skipped: Vec<(PathBuf, String)>,
    /// Wall time of the import.
    pub elapsed: Duration,
}

/// One imported source, as `status` reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceStatus {
    /// The source name.
    pub name: String,
    /// Where it was imported from.
    pub location: String,
    /// Import time, seconds since the Unix epoch.
    pub imported_at: i64,
    /// Advisories from this source.
    pub advisories: i64,
    /// Of which withdrawn.
    pub withdrawn: i64,
    /// The newest `modified` time among them (RFC 3339).
    pub newest_modified: Option<String>,
}

impl SourceStatus {
    /// Time since the import.
    pub fn age(&self, now: SystemTime) -> Duration {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Duration::from_secs(now.saturating_sub(u64::try_from(self.imported_at).unwrap_or(0)))
    }

    /// How stale the data is: time since the newest advisory of this source was modified
    /// (since the import when no timestamp parses).
    pub fn data_age(&self, now: SystemTime) -> Duration {
        let Some(newest) = self
            .newest_modified
            .as_deref()
            .and_then(crate::dates::rfc3339_to_unix)
        else {
            return self.age(now);
        };
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Duration::from_secs(now.saturating_sub(u64::try_from(newest).unwrap_or(0)))
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sources(
    name TEXT PRIMARY KEY, location TEXT NOT NULL, imported_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS advisories(
    id TEXT PRIMARY KEY, source TEXT NOT NULL, modified TEXT NOT NULL,
    withdrawn INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS advisories_source ON advisories(source);
CREATE TABLE IF NOT EXISTS affected(
    ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory_id TEXT NOT NULL,
    PRIMARY KEY(ecosystem, name, advisory_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS affected_advisory ON affected(advisory_id);
CREATE TABLE IF NOT EXISTS aliases(
    alias TEXT NOT NULL, advisory_id TEXT NOT NULL,
    PRIMARY KEY(alias, advisory_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_advisory ON aliases(advisory_id);
";

impl AdvisoryStore {
    /// Opens (creating if needed) the store in `data_dir`.
    pub fn create_in(data_dir: &Path) -> Result<AdvisoryStore, AuditError> {
        std::fs::create_dir_all(data_dir).map_err(|e| AuditError::io(data_dir, e))?;
        Self::open_path(&data_dir.join(STORE_FILE), true)
    }

    /// Opens the existing store in `data_dir`; an error when nothing was imported there yet.
    pub fn open_in(data_dir: &Path) -> Result<AdvisoryStore, AuditError> {
        let path = data_dir.join(STORE_FILE);
        if !path.is_file() {
            return Err(AuditError::no_store(&path));
        }
        Self::open_path(&path, false)
    }

    fn open_path(path: &Path, create: bool) -> Result<AdvisoryStore, AuditError> {
        let err = |e| AuditError::store(path, e);
        let connection = Connection::open(path).map_err(err)?;
        connection
            .busy_timeout(Duration::from_secs(10))
            .map_err(err)?;
        connection
            .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            .map_err(err)?;
        if create {
            connection.execute_batch(SCHEMA).map_err(err)?;
        }
        Ok(AdvisoryStore {
            connection,
            path: path.to_owned(),
        })
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Imports every `*.json`, `*.yaml` and `*.yml` OSV file under `location` (a directory or
    /// one file) as source `source`, replacing that source's previous import.
    pub fn import_path(
        &mut self,
        source: &str,
        location: &Path,
    ) -> Result<ImportSummary, AuditError> {
        let started = Instant::now();
        let mut files = Vec::new();
        if location.is_file()
            && location
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            let archive = std::fs::File::open(location).map_err(|e| AuditError::io(location, e))?;
            return self.import_archive(source, location, archive);
        }
        if location.is_file() {
            files.push(location.to_owned());
        } else if location.is_dir() {
            for entry in walkdir::WalkDir::new(location)
                .follow_links(false)
                .sort_by_file_name()
            {
                let entry = entry.map_err(|e| {
                    AuditError::invalid(location, format!("cannot walk the directory: {e}"))
                })?;
                let path = entry.path();
                let is_advisory = entry.file_type().is_file()
                    && path
                        .extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "json" | "yaml" | "yml"));
                if is_advisory {
                    if files.len() >= MAX_ADVISORY_FILES {
                        return Err(AuditError::too_many(location, MAX_ADVISORY_FILES));
                    }
                    files.push(path.to_owned());
                }
            }
        } else {
            return Err(AuditError::io(
                location,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
            ));
        }
        let mut skipped = Vec::new();
        let mut advisories = Vec::with_capacity(files.len());
        for file in &files {
            match read_advisory_file(file) {
                Ok(advisory) => advisories.push(advisory),
                Err(error) => skipped.push((file.clone(), error.to_string())),
            }
        }
        let stored = self.replace_source(source, &location.display().to_string(), &advisories)?;
        Ok(ImportSummary {
            source: source.to_owned(),
            files: files.len(),
            advisories: stored,
            skipped,
            elapsed: started.elapsed(),
        })
    }

    /// Imports a zip archive of OSV JSON/YAML files (as OSV publishes per ecosystem, `all.zip`)
    /// read from `archive`; `location` names it in messages and `status`.
    pub fn import_archive<R: std::io::Read + std::io::Seek>(
        &mut self,
        source: &str,
        location: &Path,
        archive: R,
    ) -> Result<ImportSummary, AuditError> {
        use std::io::Read as _;
        let started = Instant::now();
        let mut zip = zip::ZipArchive::new(archive)
            .map_err(|e| AuditError::invalid(location, format!("not a zip archive: {e}")))?;
        if zip.len() > MAX_ADVISORY_FILES {
            return Err(AuditError::too_many(location, MAX_ADVISORY_FILES));
        }
        let mut advisories = Vec::new();
        let mut skipped = Vec::new();
        let mut files = 0;
        let mut total: u64 = 0;
        for index in 0..zip.len() {
            let mut entry = zip.by_index(index).map_err(|e| {
                AuditError::invalid(location, format!("unreadable archive entry {index}: {e}"))
            })?;
            let name = entry.name().to_owned();
            let kind = if name.ends_with(".json") {
                "json"
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                "yaml"
            } else {
                continue;
            };
            files += 1;
            let entry_path = location.join(&name);
            let mut text = String::new();
            let read = (&mut entry)
                .take(MAX_ADVISORY_BYTES + 1)
                .read_to_string(&mut text)
                .map_err(|e| AuditError::io(&entry_path, e));
            match read {
                Ok(read) if read as u64 > MAX_ADVISORY_BYTES => {
                    skipped.push((
                        entry_path,
                        format!("larger than {MAX_ADVISORY_BYTES} bytes"),
                    ));
                    continue;
                }
                Ok(read) => total += read as u64,
                Err(error) => {
                    skipped.push((entry_path, error.to_string()));
                    continue;
                }
            }
            if total > MAX_ARCHIVE_BYTES {
                return Err(AuditError::too_large(location, MAX_ARCHIVE_BYTES));
            }
            match parse_advisory(&entry_path, &text, kind == "yaml") {
                Ok(advisory) => advisories.push(advisory),
                Err(error) => skipped.push((entry_path, error.to_string())),
            }
        }
        let stored = self.replace_source(source, &location.display().to_string(), &advisories)?;
        Ok(ImportSummary {
            source: source.to_owned(),
            files,
            advisories: stored,
            skipped,
            elapsed: started.elapsed(),
        })
    }

    /// Replaces source `source` with `advisories` in one transaction; returns how many were stored.
    pub fn replace_source(
        &mut self,
        source: &str,
        location: &str,
        advisories: &[Advisory],
    ) -> Result<usize, AuditError> {
        let path = self.path.clone();
        let err = |e| AuditError::store(&path, e);
        let tx = self.connection.transaction().map_err(err)?;
        {
            tx.execute(
                "DELETE FROM affected WHERE advisory_id IN (SELECT id FROM advisories WHERE source = ?1)",
                [source],
            )
            .map_err(err)?;
            tx.execute(
                "DELETE FROM aliases WHERE advisory_id IN (SELECT id FROM advisories WHERE source = ?1)",
                [source],
            )
            .map_err(err)?;
            tx.execute("DELETE FROM advisories WHERE source = ?1", [source])
                .map_err(err)?;
            let mut insert_advisory = tx
                .prepare(
                    "INSERT OR REPLACE INTO advisories(id, source, modified, withdrawn, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            let mut insert_affected = tx
                .prepare("INSERT OR IGNORE INTO affected(ecosystem, name, advisory_id) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            let mut insert_alias = tx
                .prepare("INSERT OR IGNORE INTO aliases(alias, advisory_id) VALUES (?1, ?2)")
                .map_err(err)?;
            for advisory in advisories {
                let body = serde_json::to_string(advisory)
                    .map_err(|e| AuditError::invalid(&path, format!("{}: {e}", advisory.id)))?;
                insert_advisory
                    .execute(params![
                        advisory.id,
                        source,
                        advisory.modified,
                        advisory.withdrawn.is_some(),
                        body
                    ])
                    .map_err(err)?;
                for affected in &advisory.affected {
                    let ecosystem = Ecosystem::from_osv(&affected.package.ecosystem);
                    insert_affected
                        .execute(params![
                            ecosystem_key(&ecosystem),
                            ecosystem.normalize_name(&affected.package.name),
                            advisory.id
                        ])
                        .map_err(err)?;
                }
                for alias in &advisory.aliases {
                    insert_alias
                        .execute(params![alias, advisory.id])
                        .map_err(err)?;
                }
            }
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            tx.execute(
                "INSERT OR REPLACE INTO sources(name, location, imported_at) VALUES (?1, ?2, ?3)",
                params![source, location, i64::try_from(now).unwrap_or(i64::MAX)],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(advisories.len())
    }

    /// Every advisory recorded for the package (withdrawn ones included; the matcher skips them).
    pub fn advisories_for(
        &self,
        ecosystem: &Ecosystem,
        name: &str,
    ) -> Result<Vec<Advisory>, AuditError> {
        let err = |e| AuditError::store(&self.path, e);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT a.body FROM affected f JOIN advisories a ON a.id = f.advisory_id
                 WHERE f.ecosystem = ?1 AND f.name = ?2 ORDER BY a.id",
            )
            .map_err(err)?;
        let rows = statement
            .query_map(
                params![ecosystem_key(ecosystem), ecosystem.normalize_name(name)],
                |row| row.get::<_, String>(0),
            )
            .map_err(err)?;
        let mut advisories = Vec::new();
        for body in rows {
            let body = body.map_err(err)?;
            let advisory: Advisory = serde_json::from_str(&body).map_err(|e| {
                AuditError::invalid(&self.path, format!("stored advisory does not parse: {e}"))
            })?;
            advisories.push(advisory);
        }
        Ok(advisories)
    }

    /// One advisory by id or alias.
    pub fn advisory(&self, id_or_alias: &str) -> Result<Option<Advisory>, AuditError> {
        let err = |e| AuditError::store(&self.path, e);
        let body: Option<String> = self
            .connection
            .query_row(
                "SELECT body FROM advisories WHERE id = ?1
                 UNION ALL SELECT a.body FROM aliases l JOIN advisories a ON a.id = l.advisory_id WHERE l.alias = ?1
                 LIMIT 1",
                [id_or_alias],
                |row| row.get(0),
            )
            .optional()
            .map_err(err)?;
        body.map(|body| {
            serde_json::from_str(&body).map_err(|e| {
                AuditError::invalid(&self.path, format!("stored advisory does not parse: {e}"))
            })
        })
        .transpose()
    }

    /// The imported sources.
    pub fn status(&self) -> Result<Vec<SourceStatus>, AuditError> {
        let err = |e| AuditError::store(&self.path, e);
        let mut statement = self
            .connection
            .prepare(
                "SELECT s.name, s.location, s.imported_at,
                        (SELECT COUNT(*) FROM advisories a WHERE a.source = s.name),
                        (SELECT COUNT(*) FROM advisories a WHERE a.source = s.name AND a.withdrawn),
                        (SELECT MAX(modified) FROM advisories a WHERE a.source = s.name)
                 FROM sources s ORDER BY s.name",
            )
            .map_err(err)?;
        let rows = statement
            .query_map([], |row| {
                Ok(SourceStatus {
                    name: row.get(0)?,
                    location: row.get(1)?,
                    imported_at: row.get(2)?,
                    advisories: row.get(3)?,
                    withdrawn: row.get(4)?,
                    newest_modified: row.get(5)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }
}

/// The store's ecosystem key (lower-case OSV name).
fn ecosystem_key(ecosystem: &Ecosystem) -> String {
    ecosystem.osv_name().to_ascii_lowercase()
}

/// Reads one OSV advisory file (JSON, or YAML as the PyPA database writes it).
pub fn read_advisory_file(path: &Path) -> Result<Advisory, AuditError> {
    let text = read_limited(path, MAX_ADVISORY_BYTES)?;
    let is_yaml = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e == "yaml" || e == "yml");
    parse_advisory(path, &text, is_yaml)
}

/// Parses one OSV advisory from JSON or YAML text; `path` names it in errors.
pub fn parse_advisory(path: &Path, text: &str, is_yaml: bool) -> Result<Advisory, AuditError> {
    let advisory: Advisory = if is_yaml {
        serde_saphyr::from_str(text)
            .map_err(|e| AuditError::invalid(path, format!("not an OSV advisory: {e}")))?
    } else {
        serde_json::from_str(text).map_err(|e| {
            AuditError::malformed(path, e.line(), format!("not an OSV advisory: {e}"))
        })?
    };
    if advisory.id.is_empty() {
        return Err(AuditError::invalid(path, "advisory without an id"));
    }
    Ok(advisory)
}

/// Downloads `url` (an OSV archive) into memory, at most `limit` bytes.
pub fn download(url: &str, limit: u64) -> Result<Vec<u8>, AuditError> {
    let label = Path::new(url);
    let mut response = ureq::get(url)
        .call()
        .map_err(|e| AuditError::invalid(label, format!("download failed: {e}")))?;
    response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| AuditError::invalid(label, format!("download failed: {e}")))
}
