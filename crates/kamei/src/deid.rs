//! `kamei deid` (issue 4): a batch export with the recipient's levels applied.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::policy::ConfigArgs;

#[derive(Debug, clap::Args)]
pub struct DeidArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The principal the export is for; its levels are applied.
    #[arg(long = "as")]
    pub principal: String,
    /// The catalog table the input holds.
    #[arg(long)]
    pub table: String,
    /// Input file, Parquet or CSV by extension.
    #[arg(long = "in")]
    pub input: PathBuf,
    /// Output file, Parquet or CSV by extension; written under a temporary name and renamed on success.
    #[arg(long)]
    pub out: PathBuf,
    /// Report the smallest equivalence class over the quasi-identifiers and the rows below K.
    #[arg(long, requires = "quasi")]
    pub k_anonymity: Option<u64>,
    /// Quasi-identifier columns for --k-anonymity, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub quasi: Vec<String>,
    /// Drop the rows whose equivalence class is smaller than K.
    #[arg(long, requires = "k_anonymity")]
    pub suppress: bool,
}

pub fn run(_args: DeidArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`kamei deid` is not built yet (issue 4, policy and protection)")
}
