//! `palisade completions SHELL`: shell completion scripts generated from the CLI definition.

use std::process::ExitCode;

use clap::CommandFactory as _;

/// Arguments of `palisade completions`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub(crate) fn run(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = crate::Cli::command();
    clap_complete::generate(args.shell, &mut command, "palisade", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
