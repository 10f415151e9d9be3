//! `kamei deid` (issue 4): a batch export with the recipient's levels applied.
//!
//! Streams record batches from the input (Parquet or CSV by extension) through the compiled
//! projection on all cores, keeping order, into a temporary file beside the output that is
//! renamed only on success; then writes the processing record (`OUT.processing.json`) the
//! same way. Columns denied for every jurisdiction are left out and the record says so.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use anyhow::{Context, anyhow, bail};
use arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::row::{RowConverter, SortField};
use kamei_core::{Category, Level, PiiType, TablePlan};
use kamei_protect::{ApplyStats, Projection};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;

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
    /// The keyring file; overrides `[keyring] path` of kamei.toml (master key from `KAMEI_MASTER_KEY`).
    #[arg(long)]
    pub keyring: Option<PathBuf>,
    /// Benchmark baseline: read and write through the same reader and writer with no transform.
    #[arg(long, hide = true)]
    pub plain_copy: bool,
}

const BATCH_ROWS: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Parquet,
    Csv,
}

impl Format {
    fn of(path: &Path) -> anyhow::Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("parquet") => Ok(Format::Parquet),
            Some("csv") => Ok(Format::Csv),
            _ => bail!(
                "`{}`: unknown file type; use a .parquet or .csv file name",
                path.display()
            ),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

/// Batches from the input file.
enum Source {
    Parquet(parquet::arrow::arrow_reader::ParquetRecordBatchReader),
    Csv(Box<arrow::csv::Reader<BufReader<File>>>),
}

impl Source {
    /// Opens the input; for CSV the schema is inferred and then every column the catalog says
    /// holds text is read as text (a phone number or My Number is not a number).
    fn open(
        path: &Path,
        format: Format,
        plan: &TablePlan,
    ) -> anyhow::Result<(Source, SchemaRef, Option<u64>)> {
        let where_ = || format!("`{}`", path.display());
        let file = File::open(path).with_context(where_)?;
        match format {
            Format::Parquet => {
                let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|_| anyhow!("{}: not a readable Parquet file", where_()))?;
                let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
                let schema = builder.schema().clone();
                let reader = builder
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|_| anyhow!("{}: not a readable Parquet file", where_()))?;
                Ok((Source::Parquet(reader), schema, rows))
            }
            Format::Csv => {
                let mut file = file;
                let (inferred, _) = arrow::csv::reader::Format::default()
                    .with_header(true)
                    .infer_schema(BufReader::new(&mut file), Some(1000))
                    .map_err(|e| csv_error(path, &e))?;
                file.seek(SeekFrom::Start(0)).with_context(where_)?;
                let fields: Vec<Field> = inferred
                    .fields()
                    .iter()
                    .map(|f| {
                        let text = plan
                            .columns
                            .iter()
                            .find(|c| c.column == *f.name())
                            .is_some_and(|c| reads_as_text(c.category))
                            || matches!(&plan.jurisdiction, kamei_core::JurisdictionSource::Column(j) if j == f.name());
                        if text {
                            Field::new(f.name(), DataType::Utf8, true)
                        } else {
                            f.as_ref().clone().with_nullable(true)
                        }
                    })
                    .collect();
                let schema = std::sync::Arc::new(Schema::new(fields));
                let reader = arrow::csv::ReaderBuilder::new(schema.clone())
                    .with_header(true)
                    .with_batch_size(BATCH_ROWS)
                    .build(BufReader::with_capacity(1 << 20, file))
                    .map_err(|e| csv_error(path, &e))?;
                Ok((Source::Csv(Box::new(reader)), schema, None))
            }
        }
    }

    fn next_batch(&mut self, path: &Path) -> Option<anyhow::Result<RecordBatch>> {
        match self {
            Source::Parquet(r) => r
                .next()
                .map(|b| b.map_err(|_| anyhow!("`{}`: corrupt Parquet data", path.display()))),
            Source::Csv(r) => r.next().map(|b| b.map_err(|e| csv_error(path, &e))),
        }
    }
}

/// Whether a CSV column of this category is read as text whatever it looks like.
fn reads_as_text(category: Category) -> bool {
    match category {
        Category::Pii(PiiType::DateOfBirth) | Category::SubjectKey | Category::NonPersonal => false,
        Category::QuasiIdentifier => false,
        Category::Pii(
            PiiType::Email
            | PiiType::Phone
            | PiiType::CreditCard
            | PiiType::MyNumber
            | PiiType::CorporateNumber
            | PiiType::PostalCode
            | PiiType::Address
            | PiiType::Person
            | PiiType::IpAddress
            | PiiType::Iban
            | PiiType::Passport
            | PiiType::DriverLicense
            | PiiType::BankAccount,
        )
        | Category::AccountId
        | Category::FreeText => true,
    }
}

/// A CSV error without the cell values Arrow's messages quote: only the line number.
fn csv_error(path: &Path, e: &arrow::error::ArrowError) -> anyhow::Error {
    let text = e.to_string();
    let line = text.find("line ").and_then(|at| {
        let digits: String = text[at + 5..].chars().take_while(char::is_ascii_digit).collect();
        (!digits.is_empty()).then_some(digits)
    });
    let what = if text.contains("incorrect number of fields") {
        "wrong number of fields"
    } else if text.contains("parsing") || text.contains("Parser error") {
        "a value does not match its column's type"
    } else {
        "malformed CSV"
    };
    match line {
        Some(line) => anyhow!(
            "`{}`: line {line}: {what}; fix the file or the catalog",
            path.display()
        ),
        None => anyhow!("`{}`: {what}; fix the file or the catalog", path.display()),
    }
}

/// The output file being written.
enum Sink {
    Parquet(ArrowWriter<BufWriter<File>>),
    Csv(arrow::csv::Writer<BufWriter<File>>),
}

impl Sink {
    /// `unique_columns`: columns of (nearly) unique values, written without a dictionary:
    /// a dictionary of pseudonyms only grows until the writer gives up on it.
    fn new(file: File, format: Format, schema: SchemaRef, unique_columns: &[String]) -> anyhow::Result<Sink> {
        let file = BufWriter::with_capacity(1 << 20, file);
        Ok(match format {
            Format::Parquet => {
                let mut props = WriterProperties::builder().set_compression(Compression::SNAPPY);
                for c in unique_columns {
                    props = props.set_column_dictionary_enabled(ColumnPath::from(c.as_str()), false);
                }
                let props = props.build();
                Sink::Parquet(ArrowWriter::try_new(file, schema, Some(props))?)
            }
            Format::Csv => Sink::Csv(arrow::csv::WriterBuilder::new().with_header(true).build(file)),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        match self {
            Sink::Parquet(w) => w.write(batch)?,
            Sink::Csv(w) => w.write(batch)?,
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Parquet(w) => {
                let file = w.into_inner()?;
                file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            }
            Sink::Csv(w) => {
                w.into_inner()
                    .into_inner()
                    .map_err(|e| e.into_error())?
                    .sync_all()?;
            }
        }
        Ok(())
    }
}

/// Counts equivalence classes over the protected quasi-identifiers.
struct ClassCounter {
    converter: RowConverter,
    indices: Vec<usize>,
    counts: HashMap<Box<[u8]>, u64>,
}

impl ClassCounter {
    fn new(schema: &SchemaRef, quasi: &[String]) -> anyhow::Result<ClassCounter> {
        let indices = quasi
            .iter()
            .map(|q| {
                schema.index_of(q).map_err(|_| {
                    anyhow!(
                        "--quasi: column `{q}` is not in the output (unknown, or denied for this principal)"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let fields = indices
            .iter()
            .map(|i| SortField::new(schema.field(*i).data_type().clone()))
            .collect();
        Ok(ClassCounter {
            converter: RowConverter::new(fields)?,
            indices,
            counts: HashMap::new(),
        })
    }

    fn keys(&self, batch: &RecordBatch) -> anyhow::Result<arrow::row::Rows> {
        let cols: Vec<ArrayRef> = self.indices.iter().map(|i| batch.column(*i).clone()).collect();
        Ok(self.converter.convert_columns(&cols)?)
    }

    fn count(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        let rows = self.keys(batch)?;
        for row in rows.iter() {
            *self.counts.entry(row.as_ref().into()).or_insert(0) += 1;
        }
        Ok(())
    }

    /// Keeps the rows whose class has at least `k` rows.
    fn keep_mask(&self, batch: &RecordBatch, k: u64) -> anyhow::Result<BooleanArray> {
        let rows = self.keys(batch)?;
        Ok(rows
            .iter()
            .map(|r| Some(self.counts.get(r.as_ref()).copied().unwrap_or(0) >= k))
            .collect())
    }

    fn summary(&self, k: u64) -> serde_json::Value {
        let smallest = self.counts.values().copied().min().unwrap_or(0);
        let below: u64 = self.counts.values().filter(|n| **n < k).sum();
        let classes_below = self.counts.values().filter(|n| **n < k).count();
        serde_json::json!({
            "classes": self.counts.len(),
            "smallest_class": smallest,
            "classes_below_k": classes_below,
            "rows_below_k": below,
        })
    }
}

pub fn run(args: DeidArgs) -> anyhow::Result<ExitCode> {
    let config = crate::keys::load_config(&args.config)?;
    let plan = config
        .table_plan(&args.principal, &args.table)
        .map_err(|e| anyhow!("{e}"))?;
    let in_format = Format::of(&args.input)?;
    let out_format = Format::of(&args.out)?;
    if args.k_anonymity == Some(0) {
        bail!("--k-anonymity must be at least 1");
    }
    let keyring = crate::keys::open_keyring(&config, args.keyring.as_deref())?;
    let keys = keyring.domain_keys(&plan.domain)?;
    let (_, input_schema, total_rows) = Source::open(&args.input, in_format, &plan)?;

    // Which columns go out: those the principal reads at some level, in input order; the
    // others are deleted and recorded.
    let mut kept: Vec<&str> = Vec::new();
    let mut deleted: Vec<serde_json::Value> = Vec::new();
    for field in input_schema.fields() {
        let name = field.name().as_str();
        match plan.columns.iter().find(|c| c.column == name) {
            Some(c) if c.max_level() != Level::Denied => kept.push(name),
            Some(c) => {
                let mut policies: Vec<&String> = c
                    .by_jurisdiction
                    .values()
                    .chain([&c.otherwise])
                    .flat_map(|d| &d.policies)
                    .collect();
                policies.sort();
                policies.dedup();
                deleted.push(serde_json::json!({
                    "column": name,
                    "category": c.category,
                    "reason": "denied for every jurisdiction",
                    "policies": policies,
                }));
            }
            None => deleted.push(serde_json::json!({
                "column": name,
                "reason": "not in the catalog (treated as the strictest category)",
            })),
        }
    }
    if let Some(missing) = plan
        .columns
        .iter()
        .find(|c| input_schema.index_of(&c.column).is_err())
    {
        bail!(
            "`{}`: column `{}` of table `{}` is missing; is this the `{}` table?",
            args.input.display(),
            missing.column,
            plan.table,
            plan.table
        );
    }
    let projection = Projection::compile(&plan, &input_schema, &kept, &keys)
        .with_context(|| format!("table `{}` for `{}`", plan.table, plan.principal))?;
    let output_schema = if args.plain_copy {
        input_schema.clone()
    } else {
        projection.output_schema()
    };

    // With --suppress, a first pass counts the classes of the protected quasi-identifiers.
    let mut counter = match args.k_anonymity {
        Some(_) => Some(ClassCounter::new(&projection.output_schema(), &args.quasi)?),
        None => None,
    };
    if let (true, Some(counter)) = (args.suppress, counter.as_mut()) {
        let quasi: Vec<&str> = args.quasi.iter().map(String::as_str).collect();
        let quasi_projection = Projection::compile(&plan, &input_schema, &quasi, &keys)?;
        let mut qcounter = ClassCounter::new(&quasi_projection.output_schema(), &args.quasi)?;
        let (mut source, _, _) = Source::open(&args.input, in_format, &plan)?;
        while let Some(batch) = source.next_batch(&args.input) {
            qcounter.count(&quasi_projection.apply(&batch?)?)?;
        }
        counter.counts = qcounter.counts;
    }

    let out_dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let out_name = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{out_name}."))
        .suffix(".tmp")
        .tempfile_in(&out_dir)
        .with_context(|| format!("cannot create a file in `{}`", out_dir.display()))?;
    // The same writer settings with and without transforms, so --plain-copy is a fair baseline.
    let unique_columns: Vec<String> = projection
        .report()
        .into_iter()
        .filter(|c| c.levels.iter().any(|l| l.key_id.is_some()))
        .map(|c| c.column)
        .collect();
    let sink = Sink::new(
        tmp.as_file().try_clone()?,
        out_format,
        output_schema,
        &unique_columns,
    )?;
    let (source, _, _) = Source::open(&args.input, in_format, &plan)?;

    let bar = crate::progress::bar(total_rows.unwrap_or(0), "rows");
    bar.set_message(format!("deid {} for {}", plan.table, plan.principal));
    let started = std::time::SystemTime::now();
    let outcome = pipeline(source, sink, &args, &projection, counter.as_mut(), |n| {
        bar.inc(n as u64)
    });
    bar.finish_and_clear();
    let totals = outcome?;

    // The output is complete: move it into place, then write the record beside it.
    tmp.persist(&args.out)
        .map_err(|e| anyhow!("cannot write `{}`: {}", args.out.display(), e.error))?;
    let mut record = serde_json::json!({
        "record": "processing record for pseudonymously processed information (仮名加工情報; APPI Art. 41, Enforcement Rules Art. 31)",
        "created_at": kamei_protect::rfc3339(
            started.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
        ),
        "tool": format!("kamei {}", env!("CARGO_PKG_VERSION")),
        "recipient": { "principal": plan.principal, "org": plan.domain },
        "table": plan.table,
        "jurisdiction": match &plan.jurisdiction {
            kamei_core::JurisdictionSource::Column(c) => serde_json::json!({ "column": c }),
            kamei_core::JurisdictionSource::Fixed(j) => serde_json::json!({ "fixed": j }),
        },
        "input": { "file": args.input.display().to_string(), "format": in_format.name(), "rows": totals.rows_in },
        "output": { "file": args.out.display().to_string(), "format": out_format.name(), "rows": totals.rows_out },
        "keys": {
            "demo": keyring.is_demo(),
            "pseudonym_key_id": keys.pseudonym_key_id(),
            "token_key_id": keys.token_key_id(),
        },
        "deleted_columns": deleted,
        "columns": projection.report().into_iter().zip(&totals.stats.cells_by_level).map(|(report, cells)| {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            v["cells"] = serde_json::json!({
                "suppressed": cells[0], "pseudonymized": cells[1], "masked": cells[2], "raw": cells[3],
            });
            v
        }).collect::<Vec<_>>(),
    });
    if args.plain_copy {
        record["plain_copy"] = serde_json::json!("benchmark baseline: no transform applied");
    }
    if let (Some(k), Some(counter)) = (args.k_anonymity, counter.as_ref()) {
        let mut summary = counter.summary(k);
        summary["k"] = k.into();
        summary["quasi_identifiers"] = serde_json::json!(args.quasi);
        summary["rows_suppressed"] = (totals.rows_in - totals.rows_out).into();
        summary["computed_on"] = "protected values".into();
        eprintln!(
            "kamei: k-anonymity over {}: smallest class {}, {} row(s) in classes below k={k}{}",
            args.quasi.join(","),
            summary["smallest_class"],
            summary["rows_below_k"],
            if args.suppress { " (suppressed)" } else { "" }
        );
        record["k_anonymity"] = summary;
    }
    let record_path = PathBuf::from(format!("{}.processing.json", args.out.display()));
    let mut rec_tmp = tempfile::Builder::new()
        .prefix(&format!(".{out_name}.processing."))
        .suffix(".tmp")
        .tempfile_in(&out_dir)?;
    serde_json::to_writer_pretty(&mut rec_tmp, &record)?;
    std::io::Write::write_all(&mut rec_tmp, b"\n")?;
    rec_tmp
        .persist(&record_path)
        .map_err(|e| anyhow!("cannot write `{}`: {}", record_path.display(), e.error))?;
    eprintln!(
        "kamei: wrote {} row(s) of `{}` for `{}` to `{}` ({} column(s) deleted); record `{}`",
        totals.rows_out,
        plan.table,
        plan.principal,
        args.out.display(),
        deleted.len(),
        record_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

struct Totals {
    rows_in: u64,
    rows_out: u64,
    stats: ApplyStats,
}

/// Reader thread → chunks of batches transformed in parallel on the rayon pool (order kept)
/// → writer thread. Any error stops all three; the caller then drops the temporary file.
fn pipeline(
    mut source: Source,
    sink: Sink,
    args: &DeidArgs,
    projection: &Projection,
    mut counter: Option<&mut ClassCounter>,
    progress: impl Fn(usize),
) -> anyhow::Result<Totals> {
    let chunk = rayon::current_num_threads().max(1) * 2;
    let input = args.input.clone();
    std::thread::scope(|s| {
        let (read_tx, read_rx): (SyncSender<anyhow::Result<RecordBatch>>, Receiver<_>) =
            sync_channel(chunk * 2);
        let (write_tx, write_rx): (SyncSender<RecordBatch>, Receiver<RecordBatch>) = sync_channel(chunk * 2);
        s.spawn(move || {
            while let Some(batch) = source.next_batch(&input) {
                let failed = batch.is_err();
                if read_tx.send(batch).is_err() || failed {
                    break;
                }
            }
        });
        let writer = s.spawn(move || -> anyhow::Result<()> {
            let mut sink = sink;
            for batch in write_rx {
                sink.write(&batch)?;
            }
            sink.finish()
        });
        let mut totals = Totals {
            rows_in: 0,
            rows_out: 0,
            stats: ApplyStats::default(),
        };
        let result = (|| -> anyhow::Result<()> {
            let mut pending = Vec::with_capacity(chunk);
            let mut done = false;
            while !done {
                pending.clear();
                while pending.len() < chunk {
                    match read_rx.recv() {
                        Ok(batch) => pending.push(batch?),
                        Err(_) => {
                            done = true;
                            break;
                        }
                    }
                }
                let outputs: Vec<anyhow::Result<(RecordBatch, ApplyStats)>> = pending
                    .par_iter()
                    .map(|b| {
                        if args.plain_copy {
                            Ok((b.clone(), ApplyStats::default()))
                        } else {
                            projection.apply_with_stats(b).map_err(anyhow::Error::from)
                        }
                    })
                    .collect();
                for out in outputs {
                    let (batch, stats) = out?;
                    totals.rows_in += batch.num_rows() as u64;
                    totals.stats.add(&stats);
                    progress(batch.num_rows());
                    let batch = match (args.suppress, args.k_anonymity, counter.as_deref_mut()) {
                        (true, Some(k), Some(c)) => {
                            let keep = c.keep_mask(&batch, k)?;
                            filter_record_batch(&batch, &keep)?
                        }
                        (false, Some(_), Some(c)) => {
                            c.count(&batch)?;
                            batch
                        }
                        _ => batch,
                    };
                    totals.rows_out += batch.num_rows() as u64;
                    if write_tx.send(batch).is_err() {
                        // The writer stopped: its error is reported below.
                        return Ok(());
                    }
                }
            }
            Ok(())
        })();
        drop(write_tx);
        drop(read_rx);
        let written = writer
            .join()
            .map_err(|_| anyhow!("internal error: the writer thread panicked"))?;
        result?;
        written.with_context(|| format!("cannot write `{}`", args.out.display()))?;
        Ok(totals)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_errors_keep_the_line_and_drop_the_values() {
        let e = arrow::error::ArrowError::ParseError(
            "Error while parsing value '090-1234-5678' as type 'Int64' for column 0 at line 7. Row data: [090-1234-5678]"
                .into(),
        );
        let msg = csv_error(Path::new("in.csv"), &e).to_string();
        assert!(msg.contains("line 7"), "{msg}");
        assert!(!msg.contains("090"), "{msg}");
    }
}
