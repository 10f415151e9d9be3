//! `kamei generate`: the demo world of DESIGN.md.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use kamei_synth::{GenerateOptions, generate};

use crate::progress;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The directory to write into; it must not exist or be empty.
    #[arg(long)]
    pub out: PathBuf,
    /// How many users; messages (about 2.9 per user), reports and payments scale with it.
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

pub fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    if args.users < 1 {
        bail!("--users must be at least 1, got {}", args.users);
    }
    let opts = GenerateOptions {
        out: args.out,
        users: args.users as u64,
        seed: args.seed,
        format: match args.format {
            Format::Parquet => kamei_synth::Format::Parquet,
            Format::Csv => kamei_synth::Format::Csv,
        },
    };
    let bar = progress::bar(opts.users, "users");
    bar.set_message("generating");
    let summary = generate(&opts, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} users, {} messages ({} labelled entities), {} reports, {} payments to {}",
        summary.users,
        summary.messages,
        summary.labelled_entities,
        summary.reports,
        summary.payments,
        opts.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
