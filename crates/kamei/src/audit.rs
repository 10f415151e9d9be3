//! `kamei audit …` (issue 5).

use std::path::PathBuf;
use std::process::ExitCode;

/// The log every audit command works on.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// The audit log directory.
    #[arg(long)]
    pub log: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Append one record per JSON line from standard input; print each new index once it is on disk.
    Append(LogArgs),
    /// Print the current signed checkpoint (C2SP tlog-checkpoint, signed-note).
    Checkpoint(LogArgs),
    /// Print an RFC 9162 inclusion proof for one record as JSON.
    Prove {
        #[command(flatten)]
        log: LogArgs,
        /// The record's index.
        #[arg(long)]
        index: u64,
        /// The tree size to prove against (default: the current size).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Print an RFC 9162 consistency proof between two tree sizes as JSON.
    Consistency {
        #[command(flatten)]
        log: LogArgs,
        /// The earlier tree size.
        #[arg(long)]
        old_size: u64,
        /// The later tree size (default: the current size).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Recompute the tree from the entries and check tiles, subject index and signatures; exit 1 naming the first bad index.
    Verify {
        #[command(flatten)]
        log: LogArgs,
        /// A checkpoint saved earlier, which the log must still be consistent with.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Print the records that match, or with --subjects the distinct subjects touched per level.
    Query(QueryArgs),
}

#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub log: LogArgs,
    #[arg(long)]
    pub principal: Option<String>,
    #[arg(long)]
    pub org: Option<String>,
    /// The principal's country (ISO 3166-1 alpha-2).
    #[arg(long)]
    pub country: Option<String>,
    /// Records at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Records before this time (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// Only records that touched this data subject.
    #[arg(long)]
    pub subject: Option<u64>,
    /// Print the distinct subjects touched per level instead of the records.
    #[arg(long)]
    pub subjects: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: QueryFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum QueryFormat {
    Table,
    Jsonl,
}

pub fn run(_cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`kamei audit` is not built yet (issue 5, audit log)")
}
