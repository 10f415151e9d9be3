//! `kamei init` and `kamei policy …` (issue 4).

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The directory to write the demo configuration into; must not hold a configuration yet.
    pub dir: PathBuf,
}

/// Options every command that reads configuration shares.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// kamei.toml to load; without it the built-in demo configuration is used (said on stderr).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Parse and validate the catalog, principals and policies; exit 0 or list every error with its location.
    Check(ConfigArgs),
    /// Print the level of every principal for every column and jurisdiction.
    Matrix {
        #[command(flatten)]
        config: ConfigArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: MatrixFormat,
    },
    /// Compare the exposure two policy files grant over the same catalog and principals; exit 1 if any grows.
    Diff {
        #[command(flatten)]
        config: ConfigArgs,
        /// The policy file before the change.
        old: PathBuf,
        /// The policy file after the change.
        new: PathBuf,
    },
    /// Show the level one principal gets for one column and jurisdiction, and the policies that decided it.
    Explain {
        #[command(flatten)]
        config: ConfigArgs,
        /// The principal's name.
        #[arg(long)]
        principal: String,
        /// The column, as TABLE.COLUMN.
        #[arg(long)]
        column: String,
        /// The data subject's jurisdiction (ISO 3166-1 alpha-2, e.g. JP).
        #[arg(long)]
        jurisdiction: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MatrixFormat {
    Table,
    Csv,
    Json,
}

fn not_built(verb: &str) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`kamei {verb}` is not built yet (issue 4, policy and protection)")
}

pub fn init(_args: InitArgs) -> anyhow::Result<ExitCode> {
    not_built("init")
}

pub fn run(_cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    not_built("policy")
}
