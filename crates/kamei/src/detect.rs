//! `kamei detect`, `redact`, `scan` and `eval-detect` (issue 3).

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// Text to read, one text per line; `-` or nothing reads standard input.
    pub input: Option<PathBuf>,
    /// Read JSON objects with a `text` field instead of plain lines.
    #[arg(long)]
    pub jsonl: bool,
    /// Stop with exit code 2 at the first line that is not valid UTF-8 (or JSON), instead of reporting it and going on.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, clap::Args)]
pub struct RedactArgs {
    /// Text to read, one text per line; `-` or nothing reads standard input.
    pub input: Option<PathBuf>,
    /// Replace each match by its type tag (`<PHONE>`) or by a mask that keeps its shape.
    #[arg(long, value_enum, default_value = "tag")]
    pub style: RedactStyle,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RedactStyle {
    Tag,
    Mask,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// A directory of Parquet or CSV files, one table per file.
    pub path: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct EvalDetectArgs {
    /// JSONL with a `text` field and gold `entities` (`type`, `start`, `end` in code points).
    #[arg(long)]
    pub gold: PathBuf,
}

fn not_built(verb: &str) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`kamei {verb}` is not built yet (issue 3, detection)")
}

pub fn detect(_args: DetectArgs) -> anyhow::Result<ExitCode> {
    not_built("detect")
}

pub fn redact(_args: RedactArgs) -> anyhow::Result<ExitCode> {
    not_built("redact")
}

pub fn scan(_args: ScanArgs) -> anyhow::Result<ExitCode> {
    not_built("scan")
}

pub fn eval(_args: EvalDetectArgs) -> anyhow::Result<ExitCode> {
    not_built("eval-detect")
}
