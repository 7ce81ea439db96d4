//! `palisade keys create | list | revoke`: API keys for `[site.access]` sites. A new key is printed
//! once; only its keyed hash (HMAC-SHA256 with the access secret) is stored in
//! `<data_dir>/access.sqlite3`. A running gateway picks up new and revoked keys within a second.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use palisade_access::{AccessStore, ApiKeyInfo, KeyHasher};

use crate::output::emit;

/// Where the access store and secret are: a configuration file, or a data directory.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// Configuration file whose data_dir and [access] secret are used.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (without --config; default ./palisade-data).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl StoreArgs {
    /// The data directory and the configured access secret.
    pub(crate) fn resolve(&self) -> anyhow::Result<(PathBuf, Option<palisade_config::Secret>)> {
        match &self.config {
            Some(path) => {
                let config = palisade_config::load(path)?;
                Ok((
                    self.data_dir.clone().unwrap_or(config.data_dir),
                    config.access.secret,
                ))
            }
            None => Ok((
                self.data_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("palisade-data")),
                None,
            )),
        }
    }

    /// The state store login protection keeps its locks in: the configuration's `[state]`
    /// (shared with the running gateways, e.g. Redis) with `--config`, else the local store in
    /// the data directory; the configured site names; and the data directory.
    pub(crate) fn state_store(
        &self,
    ) -> anyhow::Result<(palisade_state::StateStore, Vec<String>, PathBuf)> {
        match &self.config {
            Some(path) => {
                let config = palisade_config::load(path)?;
                let data_dir = self
                    .data_dir
                    .clone()
                    .unwrap_or_else(|| config.data_dir.clone());
                let store = palisade_limits::open_store(&config.state, &data_dir)
                    .context("cannot open the state store")?;
                let sites = config
                    .sites
                    .iter()
                    .map(|site| site.name().to_owned())
                    .collect();
                Ok((store, sites, data_dir))
            }
            None => {
                let data_dir = self
                    .data_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("palisade-data"));
                let store =
                    palisade_state::StateStore::open_local(&data_dir).with_context(|| {
                        format!("cannot open the state store in {}", data_dir.display())
                    })?;
                Ok((store, Vec::new(), data_dir))
            }
        }
    }

    pub(crate) fn open(
        &self,
    ) -> anyhow::Result<(AccessStore, PathBuf, Option<palisade_config::Secret>)> {
        let (data_dir, secret) = self.resolve()?;
        let store = AccessStore::open(&data_dir)
            .with_context(|| format!("cannot open the access store in {}", data_dir.display()))?;
        Ok((store, data_dir, secret))
    }
}

/// `palisade keys …`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  palisade keys create --name ci --roles writer --expires 90d\n  \
                        curl -H 'X-Api-Key: pal_…' http://127.0.0.1:8080/api/items\n  \
                        palisade keys list\n  palisade keys revoke ci"
)]
pub(crate) struct KeysArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// Create a key and print it once (it cannot be shown again).
    Create {
        /// Name of the key (who or what uses it); becomes the identity's user name.
        #[arg(long)]
        name: String,
        /// Palisade roles, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "")]
        roles: Vec<String>,
        /// Lifetime, e.g. "90d", "12h" (default: no expiry).
        #[arg(long)]
        expires: Option<String>,
        /// Print JSON ({"id","name","key",…}) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List keys (never the keys themselves).
    List {
        /// Output format: table or json.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Revoke a key by id, or every key with this name.
    Revoke {
        /// Key id (from `keys list`) or name.
        key: String,
    },
}

pub(crate) fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    let (store, data_dir, secret) = args.store.open()?;
    match args.command {
        KeysCommand::Create {
            name,
            roles,
            expires,
            json,
        } => {
            let hasher = KeyHasher::from_config(secret.as_ref(), &data_dir)?;
            let roles: Vec<String> = roles
                .into_iter()
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect();
            let expires_ms = expires
                .as_deref()
                .map(|text| {
                    humantime::parse_duration(text)
                        .with_context(|| format!("--expires {text:?}: expected e.g. 90d or 12h"))
                })
                .transpose()?
                .map(|lifetime| {
                    palisade_events::now_ms()
                        .saturating_add(i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX))
                });
            let created = store.create_key(&hasher, &name, &roles, expires_ms)?;
            if json {
                let value = serde_json::json!({
                    "id": created.info.id,
                    "name": created.info.name,
                    "roles": created.info.roles,
                    "expires_ms": created.info.expires_ms,
                    "key": created.key,
                });
                emit(&value.to_string(), None)?;
            } else {
                emit(
                    &format!(
                        "{key}\n\nAPI key {id} ({name}) created. Store it now: it is not shown again.\n\
                         Use it as:  curl -H 'X-Api-Key: {key}' …   (or Authorization: Bearer {key})",
                        key = created.key,
                        id = created.info.id,
                        name = created.info.name,
                    ),
                    None,
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::List { format } => {
            let keys = store.list_keys()?;
            let text = match format.as_str() {
                "json" => serde_json::to_string_pretty(&keys)?,
                "table" => keys_table(&keys),
                other => anyhow::bail!("--format {other:?}: expected table or json"),
            };
            emit(&text, None)?;
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Revoke { key } => {
            let revoked = store.revoke_key(&key)?;
            if revoked == 0 {
                eprintln!("no active key with id or name {key:?}");
                return Ok(ExitCode::from(crate::output::EXIT_FINDINGS));
            }
            emit(&format!("revoked {revoked} key(s)"), None)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn time(ms: Option<i64>) -> String {
    ms.and_then(|ms| u64::try_from(ms).ok())
        .map(|ms| {
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms),
            )
            .to_string()
        })
        .unwrap_or_else(|| "-".to_owned())
}

fn keys_table(keys: &[ApiKeyInfo]) -> String {
    let now = palisade_events::now_ms();
    let mut out = format!(
        "{:<12}  {:<20}  {:<20}  {:<8}  {:<20}  {:<20}\n",
        "ID", "NAME", "ROLES", "STATE", "EXPIRES", "LAST USED"
    );
    for key in keys {
        let state = if key.revoked_ms.is_some() {
            "revoked"
        } else if key.expires_ms.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        out.push_str(&format!(
            "{:<12}  {:<20}  {:<20}  {:<8}  {:<20}  {:<20}\n",
            key.id,
            crate::cmd::keys::printable(&key.name),
            key.roles.join(","),
            state,
            time(key.expires_ms),
            time(key.last_used_ms),
        ));
    }
    out
}

/// Control characters replaced, so names cannot rewrite the terminal.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
