//! `palisade accounts locked | unlock USER [--site SITE]`: account locks made by login protection.
//! A running gateway applies an unlock within a second.

use std::process::ExitCode;

use crate::cmd::keys::{StoreArgs, printable};
use crate::output::emit;

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
    Locked {
        /// Output format: table or json.
        #[arg(long, default_value = "table")]
        format: String,
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
    let (store, _, _) = args.store.open()?;
    match args.command {
        AccountsCommand::Locked { format } => {
            let now = palisade_events::now_ms();
            let locks: Vec<_> = store
                .list_locks()?
                .into_iter()
                .filter(|lock| lock.until_ms > now)
                .collect();
            let text = match format.as_str() {
                "json" => serde_json::to_string_pretty(&locks)?,
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
                other => anyhow::bail!("--format {other:?}: expected table or json"),
            };
            emit(&text, None)?;
            Ok(ExitCode::SUCCESS)
        }
        AccountsCommand::Unlock { user, site } => {
            let removed = store.unlock(&user, site.as_deref())?;
            if removed == 0 {
                eprintln!("no lock recorded for {:?}", printable(&user));
                return Ok(ExitCode::from(crate::output::EXIT_FINDINGS));
            }
            emit(
                &format!(
                    "unlocked {:?} ({removed} lock(s) removed)",
                    printable(&palisade_access::normalise_account(&user))
                ),
                None,
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
