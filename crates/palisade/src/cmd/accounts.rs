//! `palisade accounts list | unlock USER [--site SITE]`: account locks made by login protection,
//! in the state store the gateways use (`--config`: its `[state]`, e.g. the Redis every gateway
//! shares; otherwise the local store in `--data-dir`). Running gateways enforce an unlock at
//! once (Redis) or within a second (local store). Locks an older gateway left in the data
//! directory's `access.sqlite3` are moved into the state store first, as a starting gateway
//! does, so they are listed and lifted like the others.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cmd::keys::{StoreArgs, printable};
use crate::output::{EXIT_FINDINGS, EXIT_USAGE, emit};

/// `palisade accounts …`.
#[derive(Debug, clap::Args)]
pub(crate) struct AccountsArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: AccountsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AccountsCommand {
    /// List accounts that are locked now.
    #[command(visible_alias = "locked")]
    List {
        /// Output format: table or json.
        #[arg(long, default_value = "table")]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Lift the lock of an account (and its lock escalation).
    Unlock {
        /// User name as typed at the login form (normalised like the gateway does).
        user: String,
        /// Only on this site (its first host name); default every site.
        #[arg(long)]
        site: Option<String>,
    },
}

pub(crate) fn run(args: AccountsArgs) -> anyhow::Result<ExitCode> {
    let (state, sites, data_dir) = args.store.state_store()?;
    move_legacy_locks(&data_dir, &state)?;
    match args.command {
        AccountsCommand::List { format, output } => {
            let now = palisade_events::now_ms();
            let locks: Vec<_> = palisade_access::account_locks(&state)?
                .into_iter()
                .filter(|lock| lock.until_ms > now)
                .collect();
            let text = match format.as_str() {
                "json" => serde_json::to_string_pretty(&locks)? + "\n",
                "table" => {
                    let mut out = format!(
                        "{:<24}  {:<32}  {:>10}  {}\n",
                        "SITE", "ACCOUNT", "SECONDS", "LOCKS"
                    );
                    for lock in &locks {
                        out.push_str(&format!(
                            "{:<24}  {:<32}  {:>10}  {}\n",
                            printable(&lock.site),
                            printable(&lock.account),
                            (lock.until_ms - now + 999) / 1000,
                            lock.repeat
                        ));
                    }
                    out
                }
                other => {
                    eprintln!("error: unknown format {other:?}; expected table or json");
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
            };
            emit(&text, output.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        AccountsCommand::Unlock { user, site } => {
            let lifted = palisade_access::unlock_account(&state, &user, site.as_deref(), &sites)?;
            if lifted == 0 {
                eprintln!("no active lock for {:?}", printable(&user));
                return Ok(ExitCode::from(EXIT_FINDINGS));
            }
            emit(
                &format!(
                    "unlocked {:?} ({lifted} lock(s) lifted)\n",
                    printable(&palisade_access::normalise_account(&user))
                ),
                None,
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Moves the login locks of the legacy table in `<data_dir>/access.sqlite3` (when the file
/// exists) into `state`.
fn move_legacy_locks(data_dir: &Path, state: &palisade_state::StateStore) -> anyhow::Result<()> {
    if !data_dir.join(palisade_access::store::STORE_FILE).exists() {
        return Ok(());
    }
    let mut store = palisade_access::AccessStore::open(data_dir)
        .with_context(|| format!("cannot open the access store in {}", data_dir.display()))?;
    palisade_access::migrate_legacy_locks(&mut store, state)
        .context("cannot move the login locks of access.sqlite3 into the state store")?;
    Ok(())
}
