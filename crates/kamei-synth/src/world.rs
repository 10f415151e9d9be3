//! Writing a whole demo world: chunks generated in parallel, written in order, into a hidden
//! directory that is renamed into place only when everything is on disk.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use crate::tables::{self, Chunk, ChunkPlan};

/// Users per chunk: the unit of parallel work and of progress.
const CHUNK_USERS: u64 = 8192;

/// The file format of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The directory to create; it must not exist, or be empty.
    pub out: PathBuf,
    pub users: u64,
    pub seed: u64,
    pub format: Format,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub users: u64,
    pub messages: u64,
    pub reports: u64,
    pub payments: u64,
    pub labelled_entities: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("--users must be at least 1")]
    NoUsers,
    #[error("output directory `{0}` already exists and is not empty; choose another --out or remove it")]
    OutputNotEmpty(PathBuf),
    #[error("output path `{0}` exists and is not a directory; choose another --out")]
    OutputNotDirectory(PathBuf),
    /// The I/O error is part of the message (not a `source`), so a one-line report names it once.
    #[error("cannot write `{path}`: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("cannot encode `{path}`: {message}")]
    Encode { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> GenerateError + '_ {
    move |cause| GenerateError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// Writes the demo world to `opts.out`; `progress` is called with the number of users
/// finished since the last call.
pub fn generate(opts: &GenerateOptions, progress: &(dyn Fn(u64) + Sync)) -> Result<Summary, GenerateError> {
    if opts.users == 0 {
        return Err(GenerateError::NoUsers);
    }
    check_output(&opts.out)?;
    let staging = staging_dir(&opts.out);
    if let Some(parent) = staging.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    fs::create_dir(&staging).map_err(io(&staging))?;
    let result = write_world(opts, &staging, progress).and_then(|summary| {
        // rename(2) replaces an empty directory, so an existing empty --out is fine.
        fs::rename(&staging, &opts.out).map_err(io(&opts.out))?;
        Ok(summary)
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn check_output(out: &Path) -> Result<(), GenerateError> {
    match fs::metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(GenerateError::Io {
            path: out.to_path_buf(),
            cause: e,
        }),
        Ok(meta) if !meta.is_dir() => Err(GenerateError::OutputNotDirectory(out.to_path_buf())),
        Ok(_) => match fs::read_dir(out).map_err(io(out))?.next() {
            None => Ok(()),
            Some(_) => Err(GenerateError::OutputNotEmpty(out.to_path_buf())),
        },
    }
}

/// A hidden sibling of `out`, so the final rename stays on one file system.
fn staging_dir(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent.join(format!(".{name}.kamei-partial-{}", std::process::id()))
}

fn write_world(
    opts: &GenerateOptions,
    dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, GenerateError> {
    let plans = plan_chunks(opts.seed, opts.users);
    let mut writers = Writers::create(dir, opts.format)?;
    let mut summary = Summary {
        users: 0,
        messages: 0,
        reports: 0,
        payments: 0,
        labelled_entities: 0,
    };

    // Generate the next window of chunks on the thread pool while the previous one is written.
    let window = rayon::current_num_threads().max(1) * 2;
    let mut pending: Vec<Chunk> = Vec::new();
    for group in plans.chunks(window) {
        let (generated, written) = rayon::join(
            || {
                group
                    .par_iter()
                    .map(|plan| tables::generate_chunk(opts.seed, opts.users, *plan))
                    .collect::<Vec<_>>()
            },
            || writers.write_all(std::mem::take(&mut pending), &mut summary, progress),
        );
        written?;
        pending = generated
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(|e| GenerateError::Encode {
                path: dir.to_path_buf(),
                message: e.to_string(),
            })?;
    }
    writers.write_all(pending, &mut summary, progress)?;
    writers.finish()?;
    if opts.format == Format::Csv {
        let path = dir.join("load.sql");
        fs::write(&path, crate::load_script()).map_err(io(&path))?;
    }
    Ok(summary)
}

/// Every chunk's user range and the first ids of its rows in the other tables.
fn plan_chunks(seed: u64, users: u64) -> Vec<ChunkPlan> {
    let ranges: Vec<(u64, u64)> = (0..users.div_ceil(CHUNK_USERS))
        .map(|c| (1 + c * CHUNK_USERS, (1 + (c + 1) * CHUNK_USERS).min(users + 1)))
        .collect();
    let counts: Vec<(u64, u64)> = ranges
        .par_iter()
        .map(|(lo, hi)| tables::count_rows(seed, *lo, *hi))
        .collect();
    let mut first_message = 1;
    let mut first_payment = 1;
    let mut plans: Vec<ChunkPlan> = Vec::with_capacity(ranges.len());
    for ((lo, hi), (messages, payments)) in ranges.into_iter().zip(counts) {
        plans.push(ChunkPlan {
            first_user: lo,
            end_user: hi,
            first_message,
            first_report: 0,
            first_payment,
        });
        first_message += messages;
        first_payment += payments;
    }
    let message_ends: Vec<u64> = plans
        .iter()
        .skip(1)
        .map(|p| p.first_message)
        .chain([first_message])
        .collect();
    let reports: Vec<u64> = plans
        .par_iter()
        .zip(message_ends)
        .map(|(p, end)| tables::count_reports(seed, p.first_message..end))
        .collect();
    let mut first_report = 1;
    for (plan, n) in plans.iter_mut().zip(reports) {
        plan.first_report = first_report;
        first_report += n;
    }
    plans
}

/// One writer per table plus the labels file.
struct Writers {
    users: TableWriter,
    messages: TableWriter,
    reports: TableWriter,
    payments: TableWriter,
    labels: (PathBuf, BufWriter<File>),
    account_ids: (PathBuf, BufWriter<File>),
}

impl Writers {
    fn create(dir: &Path, format: Format) -> Result<Self, GenerateError> {
        let labels_dir = dir.join("labels");
        fs::create_dir(&labels_dir).map_err(io(&labels_dir))?;
        let labels_path = labels_dir.join("messages.jsonl");
        let labels = BufWriter::with_capacity(1 << 20, File::create(&labels_path).map_err(io(&labels_path))?);
        // Handles are a column category (ACCOUNT_ID), not a personal-data type: a file of
        // their own keeps messages.jsonl readable by everything that reads personal-data types.
        let handles_path = labels_dir.join("account_ids.jsonl");
        let handles = BufWriter::new(File::create(&handles_path).map_err(io(&handles_path))?);
        Ok(Writers {
            users: TableWriter::create(dir, "users", format, &tables::USERS)?,
            messages: TableWriter::create(dir, "messages", format, &tables::MESSAGES)?,
            reports: TableWriter::create(dir, "reports", format, &tables::REPORTS)?,
            payments: TableWriter::create(dir, "payments", format, &tables::PAYMENTS)?,
            labels: (labels_path, labels),
            account_ids: (handles_path, handles),
        })
    }

    fn write_all(
        &mut self,
        chunks: Vec<Chunk>,
        summary: &mut Summary,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), GenerateError> {
        for chunk in chunks {
            self.users.write(&chunk.users)?;
            self.messages.write(&chunk.messages)?;
            self.reports.write(&chunk.reports)?;
            self.payments.write(&chunk.payments)?;
            self.labels
                .1
                .write_all(chunk.labels_jsonl.as_bytes())
                .map_err(io(&self.labels.0))?;
            self.account_ids
                .1
                .write_all(chunk.account_ids_jsonl.as_bytes())
                .map_err(io(&self.account_ids.0))?;
            summary.users += chunk.users.num_rows() as u64;
            summary.messages += chunk.messages.num_rows() as u64;
            summary.reports += chunk.reports.num_rows() as u64;
            summary.payments += chunk.payments.num_rows() as u64;
            summary.labelled_entities += chunk.labelled_entities;
            progress(chunk.users.num_rows() as u64);
        }
        Ok(())
    }

    fn finish(self) -> Result<(), GenerateError> {
        self.users.finish()?;
        self.messages.finish()?;
        self.reports.finish()?;
        self.payments.finish()?;
        for (path, labels) in [self.labels, self.account_ids] {
            let file = labels.into_inner().map_err(|e| GenerateError::Io {
                path: path.clone(),
                cause: e.into_error(),
            })?;
            file.sync_all().map_err(io(&path))?;
        }
        Ok(())
    }
}

enum TableWriter {
    Parquet(PathBuf, Box<ArrowWriter<BufWriter<File>>>),
    Csv(PathBuf, Box<arrow::csv::Writer<BufWriter<File>>>),
}

impl TableWriter {
    fn create(
        dir: &Path,
        table: &str,
        format: Format,
        schema: &arrow::datatypes::SchemaRef,
    ) -> Result<Self, GenerateError> {
        let path = dir.join(format!("{table}.{}", format.extension()));
        let file = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io(&path))?);
        Ok(match format {
            Format::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(256 * 1024))
                    .build();
                let writer =
                    ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| encode(&path, e))?;
                TableWriter::Parquet(path, Box::new(writer))
            }
            Format::Csv => TableWriter::Csv(
                path,
                Box::new(arrow::csv::WriterBuilder::new().with_header(true).build(file)),
            ),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), GenerateError> {
        match self {
            TableWriter::Parquet(path, w) => w.write(batch).map_err(|e| encode(path, e)),
            TableWriter::Csv(path, w) => w.write(batch).map_err(|e| encode(path, e)),
        }
    }

    fn finish(self) -> Result<(), GenerateError> {
        let (path, file) = match self {
            TableWriter::Parquet(path, w) => {
                let inner = w.into_inner().map_err(|e| encode(&path, e))?;
                (path, inner)
            }
            TableWriter::Csv(path, w) => (path, w.into_inner()),
        };
        let file = file.into_inner().map_err(|e| GenerateError::Io {
            path: path.clone(),
            cause: e.into_error(),
        })?;
        file.sync_all().map_err(io(&path))
    }
}

fn encode(path: &Path, e: impl std::fmt::Display) -> GenerateError {
    GenerateError::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
