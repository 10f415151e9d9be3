//! `kamei generate` (issue 2).

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The directory to write into; it must not exist or be empty.
    #[arg(long)]
    pub out: PathBuf,
    /// How many users; messages, reports and payments scale with it.
    #[arg(long, default_value_t = 10_000, allow_negative_numbers = true)]
    pub users: i64,
    /// The seed; the same arguments always give byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The file format of the tables.
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Parquet,
    Csv,
}

pub fn run(_args: GenerateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
