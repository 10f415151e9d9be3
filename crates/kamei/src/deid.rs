//! `kamei deid` (issue 4): a batch export with the recipient's levels applied.
//!
//! Streams record batches from the input (Parquet or CSV by extension) through the compiled
//! projection on all cores, keeping order, into a temporary file beside the output that is
//! renamed only on success, after the processing record (`OUT.processing.json`) is in place
//! the same way. Columns denied for every jurisdiction are left out and the record says so.
//! SIGINT, SIGTERM and SIGHUP stop it cleanly; temporaries a killed run left are removed by
//! the next run for the same output.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use anyhow::{Context, anyhow, bail};
use arrow::array::{ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::row::{RowConverter, SortField};
use kamei_core::{Category, ColumnType, Level, PiiType, TablePlan};
use kamei_policy::CatalogTable;
use kamei_protect::{ApplyStats, Projection, SubjectDirectory};
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
    /// The smallest equivalence class over the quasi-identifiers (default: the catalog's
    /// `k_anonymity`); every export reports its smallest class and warns below K.
    #[arg(long)]
    pub k_anonymity: Option<u64>,
    /// Quasi-identifier columns, comma separated (default: the catalog's).
    #[arg(long, value_delimiter = ',')]
    pub quasi: Vec<String>,
    /// Drop the rows whose equivalence class is smaller than K.
    #[arg(long)]
    pub suppress: bool,
    /// The keyring file; overrides `[keyring] path` of kamei.toml (master key from `KAMEI_MASTER_KEY`).
    #[arg(long)]
    pub keyring: Option<PathBuf>,
    /// The subject directory as a file (the catalog's `directory` table, e.g. users.parquet),
    /// for tables whose rows name people by key only (a message's recipient). Default: that
    /// table in `[sources] dir` of kamei.toml.
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// Write CSV cells that begin with `=`, `+`, `-` or `@` as they are (by default they get a
    /// leading `'`, so a spreadsheet shows them as text instead of running them as formulas).
    #[arg(long)]
    pub csv_formulas: bool,
    /// Benchmark baseline: read and write through the same reader and writer with no transform.
    #[arg(long, hide = true)]
    pub plain_copy: bool,
    /// The audit log to append the export's record to (default: `[audit] log` of --config;
    /// the demo configuration records only when this is given).
    #[arg(long)]
    pub audit_log: Option<PathBuf>,
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
    Csv(Box<arrow::csv::Reader<BufReader<File>>>, SchemaRef),
}

impl Source {
    /// Opens the input. CSV columns are read as the catalog's `type` where it has one (so a
    /// value that does not fit is an error naming its line and column, never a silent switch
    /// of the whole column to text), else as inferred, with every column the catalog says
    /// holds text read as text (a phone number or My Number is not a number). Duplicate column
    /// names are an error: which of two `country` columns decides would be a guess.
    fn open(
        path: &Path,
        format: Format,
        table: &CatalogTable,
    ) -> anyhow::Result<(Source, SchemaRef, Option<u64>)> {
        let where_ = || format!("`{}`", path.display());
        let file = File::open(path).with_context(where_)?;
        let (source, schema, rows) = match format {
            Format::Parquet => {
                let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|_| anyhow!("{}: not a readable Parquet file", where_()))?;
                let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
                let schema = builder.schema().clone();
                refuse_duplicates(path, &schema)?;
                let reader = builder
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|_| anyhow!("{}: not a readable Parquet file", where_()))?;
                (Source::Parquet(reader), schema, rows)
            }
            Format::Csv => {
                let mut file = file;
                refuse_unterminated_quote(path, &mut file)?;
                let (inferred, _) = arrow::csv::reader::Format::default()
                    .with_header(true)
                    .infer_schema(BufReader::new(&mut file), Some(1000))
                    .map_err(|e| csv_error(path, &e, None))?;
                refuse_duplicates(path, &inferred)?;
                file.seek(SeekFrom::Start(0)).with_context(where_)?;
                let fields: Vec<Field> = inferred
                    .fields()
                    .iter()
                    .map(|f| {
                        let column = table.column(f.name());
                        let data_type = match column.and_then(|c| c.data_type) {
                            Some(ty) => arrow_type(ty),
                            None if column.is_some_and(|c| reads_as_text(c.category))
                                || table.subjects.iter().any(|s| {
                                    matches!(&s.jurisdiction, kamei_core::JurisdictionSource::Column(j) if j == f.name())
                                }) =>
                            {
                                DataType::Utf8
                            }
                            None => f.data_type().clone(),
                        };
                        Field::new(f.name(), data_type, true)
                    })
                    .collect();
                let schema = std::sync::Arc::new(Schema::new(fields));
                let reader = arrow::csv::ReaderBuilder::new(schema.clone())
                    .with_header(true)
                    .with_batch_size(BATCH_ROWS)
                    .build(BufReader::with_capacity(1 << 20, file))
                    .map_err(|e| csv_error(path, &e, None))?;
                (Source::Csv(Box::new(reader), schema.clone()), schema, None)
            }
        };
        check_types(path, &schema, table)?;
        Ok((source, schema, rows))
    }

    fn next_batch(&mut self, path: &Path) -> Option<anyhow::Result<RecordBatch>> {
        match self {
            Source::Parquet(r) => r
                .next()
                .map(|b| b.map_err(|_| anyhow!("`{}`: corrupt Parquet data", path.display()))),
            Source::Csv(r, schema) => r.next().map(|b| b.map_err(|e| csv_error(path, &e, Some(schema)))),
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

/// A CSV error without the cell values Arrow's messages quote: only the line number and the
/// column's name.
fn csv_error(path: &Path, e: &arrow::error::ArrowError, schema: Option<&SchemaRef>) -> anyhow::Error {
    let text = e.to_string();
    let number_after = |mark: &str| {
        text.find(mark).and_then(|at| {
            let digits: String = text[at + mark.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<usize>().ok()
        })
    };
    let column = number_after("for column ")
        .and_then(|i| schema.and_then(|s| s.fields().get(i)))
        .map(|f| format!(" column `{}`:", f.name()))
        .unwrap_or_default();
    let what = if text.contains("incorrect number of fields") {
        "wrong number of fields".to_owned()
    } else if text.contains("parsing") || text.contains("Parser error") {
        format!("{column} a value does not match the column's type")
    } else {
        "malformed CSV".to_owned()
    };
    let what = what.trim_start();
    match number_after("line ") {
        Some(line) => anyhow!(
            "`{}`: line {line}: {what}; fix the file or the catalog",
            path.display()
        ),
        None => anyhow!("`{}`: {what}; fix the file or the catalog", path.display()),
    }
}

/// An odd number of `"` means a quoted cell never ends: the CSV reader would take every later
/// row into that one cell, read at the level of its first row. Refused before anything is read.
fn refuse_unterminated_quote(path: &Path, file: &mut File) -> anyhow::Result<()> {
    use std::io::Read;
    let mut buf = vec![0u8; 1 << 20];
    let mut quotes = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("`{}`", path.display()))?;
        if n == 0 {
            break;
        }
        quotes += buf[..n].iter().filter(|b| **b == b'"').count() as u64;
    }
    file.seek(SeekFrom::Start(0))
        .with_context(|| format!("`{}`", path.display()))?;
    if quotes % 2 == 1 {
        bail!(
            "`{}`: a quoted cell is never closed (an odd number of `\"`); fix the file",
            path.display()
        );
    }
    Ok(())
}

/// Two columns of one name: which one is output and which decides a jurisdiction would be a
/// guess, so the input is refused.
fn refuse_duplicates(path: &Path, schema: &Schema) -> anyhow::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for f in schema.fields() {
        if !seen.insert(f.name().as_str()) {
            bail!(
                "`{}`: column `{}` appears twice; rename or drop one so it is clear which is meant",
                path.display(),
                safe_name(f.name())
            );
        }
    }
    Ok(())
}

/// A column name from an input file as messages show it: a name the catalog could hold, or a
/// placeholder (a header cell of a CSV file may be anything, personal data included).
fn safe_name(name: &str) -> &str {
    if !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        name
    } else {
        "<a column whose name is not an identifier>"
    }
}

/// The Arrow type a catalog type is read as.
fn arrow_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Bigint => DataType::Int64,
        ColumnType::Integer => DataType::Int32,
        ColumnType::Double => DataType::Float64,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Text => DataType::Utf8,
        ColumnType::Date => DataType::Date32,
        ColumnType::Timestamp => DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None),
    }
}

/// Whether data of type `dt` is what the catalog's type says.
fn fits(ty: ColumnType, dt: &DataType) -> bool {
    match ty {
        ColumnType::Bigint | ColumnType::Integer => dt.is_integer(),
        ColumnType::Double => dt.is_floating(),
        ColumnType::Boolean => dt == &DataType::Boolean,
        ColumnType::Text => matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
        ColumnType::Date => matches!(dt, DataType::Date32 | DataType::Date64),
        ColumnType::Timestamp => matches!(dt, DataType::Timestamp(..)),
    }
}

/// Every column whose catalog type the data does not have is refused before a value is read.
fn check_types(path: &Path, schema: &Schema, table: &CatalogTable) -> anyhow::Result<()> {
    for f in schema.fields() {
        if let Some(ty) = table.column(f.name()).and_then(|c| c.data_type)
            && !fits(ty, f.data_type())
        {
            bail!(
                "`{}`: column `{}` holds {}, but the catalog says {ty}; fix the file or the catalog",
                path.display(),
                f.name(),
                f.data_type()
            );
        }
    }
    Ok(())
}

/// The output file being written.
enum Sink {
    Parquet(ArrowWriter<Hashing>),
    /// With `neutralize`, text cells a spreadsheet would run as a formula get a leading `'`.
    Csv {
        writer: arrow::csv::Writer<Hashing>,
        neutralize: bool,
    },
}

/// The output file, hashed as it is written: the processing record carries the digest, so a
/// record and an output that do not belong together can be told apart.
struct Hashing {
    file: BufWriter<File>,
    digest: sha2::Sha256,
}

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.file.write(bytes)?;
        self.digest.update(&bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Hashing {
    /// Flushes and syncs the file; the hex SHA-256 of everything written.
    fn finish(self) -> anyhow::Result<String> {
        use sha2::Digest;
        self.file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(hex::encode(self.digest.finalize()))
    }
}

impl Sink {
    /// `unique_columns`: columns of (nearly) unique values, written without a dictionary:
    /// a dictionary of pseudonyms only grows until the writer gives up on it.
    fn new(
        file: File,
        format: Format,
        schema: SchemaRef,
        unique_columns: &[String],
        neutralize: bool,
    ) -> anyhow::Result<Sink> {
        let file = Hashing {
            file: BufWriter::with_capacity(1 << 20, file),
            digest: sha2::Digest::new(),
        };
        Ok(match format {
            Format::Parquet => {
                let mut props = WriterProperties::builder().set_compression(Compression::SNAPPY);
                for c in unique_columns {
                    props = props.set_column_dictionary_enabled(ColumnPath::from(c.as_str()), false);
                }
                let props = props.build();
                Sink::Parquet(ArrowWriter::try_new(file, schema, Some(props))?)
            }
            Format::Csv => Sink::Csv {
                writer: arrow::csv::WriterBuilder::new().with_header(true).build(file),
                neutralize,
            },
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> anyhow::Result<()> {
        match self {
            Sink::Parquet(w) => w.write(batch)?,
            Sink::Csv {
                writer,
                neutralize: true,
            } => writer.write(&neutralize_formulas(batch)?)?,
            Sink::Csv { writer, .. } => writer.write(batch)?,
        }
        Ok(())
    }

    /// Finishes the file; the hex SHA-256 of its bytes.
    fn finish(self) -> anyhow::Result<String> {
        match self {
            Sink::Parquet(w) => w.into_inner()?.finish(),
            Sink::Csv { writer, .. } => writer.into_inner().finish(),
        }
    }
}

/// Text cells that begin with `=`, `+`, `-`, `@`, a tab or a carriage return get a leading
/// `'`, so a spreadsheet opening the CSV shows them instead of evaluating them (CWE-1236).
fn neutralize_formulas(batch: &RecordBatch) -> anyhow::Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .map(|c| match c.as_string_opt::<i32>() {
            Some(text) if text.iter().flatten().any(is_formula) => Arc::new(
                text.iter()
                    .map(|v| {
                        v.map(|v| {
                            if is_formula(v) {
                                format!("'{v}")
                            } else {
                                v.to_owned()
                            }
                        })
                    })
                    .collect::<arrow::array::StringArray>(),
            ) as ArrayRef,
            _ => c.clone(),
        })
        .collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

fn is_formula(v: &str) -> bool {
    v.starts_with(['=', '+', '-', '@', '\t', '\r'])
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
    let table = config
        .catalog()
        .table(&args.table)
        .ok_or_else(|| anyhow!("unknown table `{}`", args.table))?;
    let in_format = Format::of(&args.input)?;
    let out_format = Format::of(&args.out)?;
    if args.k_anonymity == Some(0) {
        bail!("--k-anonymity must be at least 1");
    }
    refuse_same_file(&args.input, &args.out, "the input file")?;
    if let Some(directory) = &args.directory {
        refuse_same_file(directory, &args.out, "the --directory file")?;
    }
    let interrupted = interrupt_flag()?;
    let out_dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let out_name = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lock = OutputLock::take(&out_dir, &out_name)?;
    remove_abandoned_temporaries(&out_dir, &out_name);

    let keyring = crate::keys::open_keyring(&config, args.keyring.as_deref())?;
    let keys = Arc::new(keyring.domain_keys(plan.domain())?);
    let (_, input_schema, total_rows) = Source::open(&args.input, in_format, table)?;

    // Which columns go out: those the principal reads at some level, in input order; the
    // others are deleted and recorded (an unlisted column only counted: its name is data).
    let mut kept: Vec<&str> = Vec::new();
    let mut deleted: Vec<serde_json::Value> = Vec::new();
    let mut unlisted = 0u64;
    for field in input_schema.fields() {
        let name = field.name().as_str();
        match plan.column(name) {
            Some(c) if c.max_level() != Level::Denied => kept.push(name),
            Some(c) => deleted.push(serde_json::json!({
                "column": name,
                "category": c.category(),
                "reason": "denied for every jurisdiction",
                "policies": c.policies(),
            })),
            None => unlisted += 1,
        }
    }
    if let Some(missing) = plan
        .columns()
        .iter()
        .find(|c| input_schema.index_of(c.column()).is_err())
    {
        bail!(
            "`{}`: column `{}` of table `{}` is missing; is this the `{}` table?",
            args.input.display(),
            missing.column(),
            plan.table(),
            plan.table()
        );
    }
    if kept.is_empty() {
        let mut policies: Vec<String> = plan
            .columns()
            .iter()
            .flat_map(|c| c.policies())
            .map(str::to_owned)
            .collect();
        policies.sort_unstable();
        policies.dedup();
        let denied = kamei_protect::ProtectError::DeniedTable {
            principal: plan.principal().to_owned(),
            table: plan.table().to_owned(),
            policies,
        };
        bail!("{denied}; nothing was written");
    }
    let directory = load_directory(&config, &plan, &kept, args.directory.as_deref())?;
    let projection = Projection::compile(&plan, &input_schema, &kept, &keys, directory.as_ref())
        .with_context(|| format!("table `{}` for `{}`", plan.table(), plan.principal()))?;
    let output_schema = if args.plain_copy {
        input_schema.clone()
    } else {
        projection.output_schema()
    };

    // k-anonymity over the quasi-identifiers the reader gets, checked on every export: the
    // catalog's (or --quasi), at the catalog's minimum (or --k-anonymity).
    let k = args.k_anonymity.unwrap_or(config.catalog().min_k);
    let quasi: Vec<String> = if args.quasi.is_empty() {
        table
            .quasi_identifiers
            .iter()
            .filter(|q| kept.contains(&q.as_str()))
            .cloned()
            .collect()
    } else {
        args.quasi.clone()
    };
    let mut counter = match (quasi.is_empty() || args.plain_copy, args.suppress) {
        (true, true) => bail!(
            "--suppress: table `{}` has no quasi-identifiers in this export",
            plan.table()
        ),
        (true, false) => None,
        (false, _) => Some(ClassCounter::new(&projection.output_schema(), &quasi)?),
    };
    // With --suppress, a first pass counts the classes of the protected quasi-identifiers.
    if let (true, Some(counter)) = (args.suppress, counter.as_mut()) {
        let names: Vec<&str> = quasi.iter().map(String::as_str).collect();
        let quasi_projection = Projection::compile(&plan, &input_schema, &names, &keys, directory.as_ref())?;
        let mut qcounter = ClassCounter::new(&quasi_projection.output_schema(), &quasi)?;
        let (mut source, _, _) = Source::open(&args.input, in_format, table)?;
        while let Some(batch) = source.next_batch(&args.input) {
            if interrupted.load(Ordering::Relaxed) {
                bail!("interrupted; nothing was written");
            }
            qcounter.count(&quasi_projection.apply(&batch?)?)?;
        }
        counter.counts = qcounter.counts;
    }

    let tmp = tempfile::Builder::new()
        .prefix(&temporary_prefix(&out_name))
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
        !args.csv_formulas,
    )?;
    let (source, _, _) = Source::open(&args.input, in_format, table)?;

    let bar = crate::progress::bar(total_rows.unwrap_or(0), "rows");
    bar.set_message(format!("deid {} for {}", plan.table(), plan.principal()));
    let started = std::time::SystemTime::now();
    let outcome = pipeline(
        source,
        sink,
        &args,
        &projection,
        counter.as_mut().map(|c| (c, k)),
        &interrupted,
        |n| bar.inc(n as u64),
    );
    bar.finish_and_clear();
    // On any error the temporary file is dropped, and with it removed.
    let totals = outcome?;

    if totals.stats.rows_with_unknown_jurisdiction > 0 {
        eprintln!(
            "kamei: warning: {} row(s) of `{}` have a data subject of unknown jurisdiction; they got the least \
             revealing level",
            totals.stats.rows_with_unknown_jurisdiction,
            plan.table()
        );
    }
    let mut record = serde_json::json!({
        "record": "processing record for pseudonymously processed information (仮名加工情報; APPI Art. 41, Enforcement Rules Art. 31)",
        "created_at": kamei_protect::rfc3339(
            started.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
        ),
        "tool": format!("kamei {}", env!("CARGO_PKG_VERSION")),
        "recipient": { "principal": plan.principal(), "org": plan.domain() },
        "table": plan.table(),
        "subjects": plan.subjects(),
        // A file name may itself be personal data (`tanaka-taro.csv`): only its digest.
        "input": {
            "file_name_sha256": hex_sha256(args.input.as_os_str().as_encoded_bytes()),
            "format": in_format.name(),
            "rows": totals.rows_in,
        },
        "output": {
            "file": args.out.display().to_string(),
            "format": out_format.name(),
            "rows": totals.rows_out,
            "sha256": totals.sha256,
        },
        "rows_with_unknown_jurisdiction": totals.stats.rows_with_unknown_jurisdiction,
        "keys": {
            "demo": keyring.is_demo(),
            "pseudonym_key_id": keys.pseudonym_key_id(),
            "token_key_id": keys.token_key_id(),
        },
        "deleted_columns": deleted,
        "unlisted_columns_deleted": unlisted,
        "columns": projection.report().into_iter().enumerate().map(|(i, report)| {
            let cells = totals.stats.cells_by_level.get(i).copied().unwrap_or_default();
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            v["cells"] = serde_json::json!({
                "suppressed": cells[Level::Denied.index()],
                "pseudonymized": cells[Level::Pseudonymized.index()],
                "masked": cells[Level::Masked.index()],
                "raw": cells[Level::Raw.index()],
                "suppressed_as_personal_data": totals.stats.suppressed_as_personal.get(i).copied().unwrap_or(0),
            });
            v
        }).collect::<Vec<_>>(),
    });
    if args.plain_copy {
        record["plain_copy"] = serde_json::json!("benchmark baseline: no transform applied");
    }
    if let Some(counter) = counter.as_ref() {
        let mut summary = counter.summary(k);
        summary["k"] = k.into();
        summary["quasi_identifiers"] = serde_json::json!(quasi);
        summary["rows_suppressed"] = (totals.rows_in - totals.rows_out).into();
        summary["computed_on"] = "protected values".into();
        let below = summary["rows_below_k"].as_u64().unwrap_or(0);
        if below > 0 || args.k_anonymity.is_some() {
            eprintln!(
                "kamei: {}k-anonymity over {}: smallest class {}, {below} row(s) in classes below k={k}{}",
                if below > 0 && !args.suppress {
                    "warning: "
                } else {
                    ""
                },
                quasi.join(","),
                summary["smallest_class"],
                if args.suppress {
                    " (suppressed)"
                } else {
                    "; --suppress drops them"
                }
            );
        }
        record["k_anonymity"] = summary;
    }

    // Both are complete on disk under temporary names. The old record goes first, then the
    // output and its record move into place: an interruption leaves at worst an output without
    // a record, never a record beside an output it does not describe (the record names the
    // output's SHA-256 too).
    let record_path = PathBuf::from(format!("{}.processing.json", args.out.display()));
    let mut rec_tmp = tempfile::Builder::new()
        .prefix(&temporary_prefix(&format!("{out_name}.processing")))
        .suffix(".tmp")
        .tempfile_in(&out_dir)?;
    serde_json::to_writer_pretty(&mut rec_tmp, &record)?;
    std::io::Write::write_all(&mut rec_tmp, b"\n")?;
    rec_tmp.as_file().sync_all()?;
    if interrupted.load(Ordering::Relaxed) {
        bail!("interrupted; nothing was written");
    }
    // The export's audit record is durable before the output is in place: what leaves is in
    // the log, and a log that cannot take it stops the export.
    record_export(&args, &config, &keyring, &plan, &kept, &totals)?;
    match std::fs::remove_file(&record_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("cannot replace `{}`: {e}", record_path.display()),
    }
    tmp.persist(&args.out)
        .map_err(|e| anyhow!("cannot write `{}`: {}", args.out.display(), e.error))?;
    rec_tmp
        .persist(&record_path)
        .map_err(|e| anyhow!("cannot write `{}`: {}", record_path.display(), e.error))?;
    drop(lock);
    eprintln!(
        "kamei: wrote {} row(s) of `{}` for `{}` to `{}` ({} column(s) deleted); record `{}`",
        totals.rows_out,
        plan.table(),
        plan.principal(),
        args.out.display(),
        deleted.len() as u64 + unlisted,
        record_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses an output that is the input, by path or by file identity (a hard link, `./x` and
/// `x`): writing it would destroy the source.
fn refuse_same_file(input: &Path, out: &Path, what: &str) -> anyhow::Result<()> {
    let same_path = match (
        std::fs::canonicalize(input),
        out.parent().map(std::fs::canonicalize),
    ) {
        (Ok(i), Some(Ok(dir))) => out.file_name().is_some_and(|n| dir.join(n) == i),
        _ => input == out,
    };
    #[cfg(unix)]
    let same_file = {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(input), std::fs::metadata(out)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    };
    #[cfg(not(unix))]
    let same_file = false;
    if same_path || same_file {
        bail!(
            "--out `{}` is {what}; choose another output so the source stays intact",
            out.display()
        );
    }
    Ok(())
}

/// The prefix of this process's temporary files for `name` (with its pid, for whoever looks).
fn temporary_prefix(name: &str) -> String {
    format!(".{name}.kamei-{}.", std::process::id())
}

/// One export at a time per output: an exclusive lock on `.OUT.kamei-lock`, which the system
/// releases when the process ends however it ends, so a killed run leaves no stale lock to
/// take over. The file is removed while still locked; a run that locked a file already
/// removed (its path now names another) tries again, so two runs never hold two files.
#[derive(Debug)]
struct OutputLock {
    path: PathBuf,
    file: File,
}

impl OutputLock {
    fn take(dir: &Path, name: &str) -> anyhow::Result<OutputLock> {
        use std::os::unix::fs::MetadataExt;
        let path = dir.join(format!(".{name}.kamei-lock"));
        let same = |a: &std::fs::Metadata, b: &std::fs::Metadata| a.dev() == b.dev() && a.ino() == b.ino();
        for _ in 0..16 {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("cannot create a file in `{}`", dir.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => bail!(
                    "another export to `{}` is running; wait for it or choose another --out",
                    dir.join(name).display()
                ),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock `{}`", path.display()));
                }
            }
            if let (Ok(held), Ok(now)) = (file.metadata(), std::fs::metadata(&path))
                && same(&held, &now)
            {
                return Ok(OutputLock { path, file });
            }
        }
        bail!(
            "cannot lock `{}`: it keeps changing; is another export starting and stopping?",
            path.display()
        )
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while locked: a run waiting on this file finds it gone and starts over.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Removes temporary files an earlier run for the same output left when it was killed: with
/// the output's lock held, no other run is writing them.
fn remove_abandoned_temporaries(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefixes = [format!(".{name}.kamei-"), format!(".{name}.processing.kamei-")];
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        if file.ends_with(".tmp") && prefixes.iter().any(|p| file.starts_with(p.as_str())) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A flag set by SIGINT, SIGTERM or SIGHUP: the export stops at the next batch and removes its
/// temporary files instead of dying with them on disk.
fn interrupt_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, flag.clone()).context("cannot install a signal handler")?;
    }
    Ok(flag)
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The subject directory: from `--directory` whenever given (it also checks the jurisdiction a
/// row says its people have), else, when a projected column has a subject looked up there, the
/// directory table's file in `[sources] dir`.
fn load_directory(
    config: &kamei_policy::Config,
    plan: &TablePlan,
    kept: &[&str],
    file: Option<&Path>,
) -> anyhow::Result<Option<Arc<SubjectDirectory>>> {
    let needed = kept.iter().filter_map(|c| plan.column(c)).any(|c| {
        plan.subjects_of(c)
            .any(|s| s.jurisdiction == kamei_core::JurisdictionSource::Directory)
    });
    // A directory given is always used: it also checks the jurisdictions rows carry.
    if !needed && file.is_none() {
        return Ok(None);
    }
    let Some((table, key, jurisdiction)) = config.catalog().directory_table() else {
        bail!(
            "table `{}` needs the subject directory, and the catalog names none",
            plan.table()
        );
    };
    let path = match file {
        Some(f) => f.to_owned(),
        None => ["parquet", "csv"]
            .iter()
            .filter_map(|ext| {
                config
                    .sources_dir()
                    .map(|d| d.join(format!("{}.{ext}", table.name)))
            })
            .find(|p| p.exists())
            .ok_or_else(|| {
                anyhow!(
                    "table `{}` names people by key only; give --directory FILE (the `{}` table) so their \
                     jurisdictions can be looked up",
                    plan.table(),
                    table.name
                )
            })?,
    };
    let (mut source, _, _) = Source::open(&path, Format::of(&path)?, table)?;
    let mut directory = SubjectDirectory::new();
    while let Some(batch) = source.next_batch(&path) {
        directory
            .add(&batch?, key, jurisdiction)
            .with_context(|| format!("--directory `{}`", path.display()))?;
    }
    Ok(Some(Arc::new(directory)))
}

struct Totals {
    rows_in: u64,
    rows_out: u64,
    stats: ApplyStats,
    /// Whose rows went out, by jurisdiction and level, for the export's audit record.
    subjects: kamei_audit::SubjectSet,
    /// Of the output file's bytes.
    sha256: String,
}

/// Reader thread → chunks of batches transformed in parallel on the rayon pool (order kept)
/// → writer thread. Any error stops all three; the caller then drops the temporary file.
fn pipeline(
    mut source: Source,
    sink: Sink,
    args: &DeidArgs,
    projection: &Projection,
    mut counter: Option<(&mut ClassCounter, u64)>,
    interrupted: &AtomicBool,
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
        let writer = s.spawn(move || -> anyhow::Result<String> {
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
            subjects: kamei_audit::SubjectSet::default(),
            sha256: String::new(),
        };
        let result = (|| -> anyhow::Result<()> {
            let mut pending = Vec::with_capacity(chunk);
            let mut done = false;
            while !done {
                if interrupted.load(Ordering::Relaxed) {
                    bail!("interrupted; nothing was written");
                }
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
                type Applied = (RecordBatch, ApplyStats, Vec<kamei_protect::SubjectRows>);
                let outputs: Vec<anyhow::Result<Applied>> = pending
                    .par_iter()
                    .map(|b| {
                        if args.plain_copy {
                            Ok((b.clone(), ApplyStats::default(), Vec::new()))
                        } else {
                            projection.apply_traced(b).map_err(anyhow::Error::from)
                        }
                    })
                    .collect();
                for (out, raw) in outputs.into_iter().zip(&pending) {
                    let (batch, stats, subjects) = out?;
                    totals.rows_in += batch.num_rows() as u64;
                    totals.stats.add(&stats);
                    progress(batch.num_rows());
                    let (batch, keep) = match (args.suppress, counter.as_mut()) {
                        (true, Some((c, k))) => {
                            let keep = c.keep_mask(&batch, *k)?;
                            (filter_record_batch(&batch, &keep)?, Some(keep))
                        }
                        (false, Some((c, _))) => {
                            c.count(&batch)?;
                            (batch, None)
                        }
                        (_, None) => (batch, None),
                    };
                    for (group, keys) in kamei_gateway::subject_groups(raw, &subjects, keep.as_ref()) {
                        totals.subjects.extend_group(group, keys);
                    }
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
        totals.sha256 = written.with_context(|| format!("cannot write `{}`", args.out.display()))?;
        Ok(totals)
    })
}

/// Appends the export's record (action `export`: columns at their levels, rows written and
/// whose) to `--audit-log`, or to the configuration's `[audit] log`.
fn record_export(
    args: &DeidArgs,
    config: &kamei_policy::Config,
    keyring: &kamei_protect::Keyring,
    plan: &kamei_core::TablePlan,
    kept: &[&str],
    totals: &Totals,
) -> anyhow::Result<()> {
    let dir = match (&args.audit_log, &args.config.config) {
        (Some(d), _) => d.clone(),
        (None, Some(_)) => match config.audit_log() {
            Some(d) => d.to_path_buf(),
            None => return Ok(()),
        },
        (None, None) => {
            eprintln!(
                "kamei: the demo configuration keeps no audit log; pass --audit-log DIR to record this export"
            );
            return Ok(());
        }
    };
    let principal = config
        .principal(plan.principal())
        .ok_or_else(|| anyhow!("unknown principal `{}`", plan.principal()))?;
    let columns = kept
        .iter()
        .filter_map(|c| plan.column(c))
        .map(|c| kamei_audit::record::ColumnRead {
            table: plan.table().to_owned(),
            column: c.column().to_owned(),
            level: c.max_level(),
        })
        .collect();
    let groups = totals
        .subjects
        .iter()
        .map(|((j, level), keys)| kamei_audit::record::SubjectGroup {
            jurisdiction: (j != kamei_audit::subjects::UNKNOWN_JURISDICTION)
                .then(|| String::from_utf8_lossy(&j).into_owned()),
            level,
            keys: keys.iter().collect(),
        })
        .collect();
    let input = kamei_audit::RecordInput {
        time: kamei_protect::rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        ),
        principal: principal.name.clone(),
        org: principal.org.clone(),
        country: principal.country.as_str().to_owned(),
        client_addr: "127.0.0.1".into(),
        action: kamei_audit::Action::Export,
        statement: format!("kamei deid --table {} --as {}", plan.table(), plan.principal()),
        columns,
        rows: totals.rows_out,
        policies: Vec::new(),
        subjects: Some(kamei_audit::record::SubjectsInput::Groups(groups)),
        purpose: None,
        ticket: None,
        opens: None,
        failure: None,
    };
    let log = crate::audit::open_with_keyring(&dir, keyring).with_context(|| {
        format!(
            "the audit log `{}` cannot record this export, so nothing was written",
            dir.display()
        )
    })?;
    let index = log.append_input(input).with_context(|| {
        format!(
            "the audit log `{}` cannot record this export, so nothing was written",
            dir.display()
        )
    })?;
    log.close()?;
    eprintln!("kamei: export recorded in `{}` at index {index}", dir.display());
    Ok(())
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
        let schema = Arc::new(Schema::new(vec![Field::new("user_id", DataType::Int64, true)]));
        let msg = csv_error(Path::new("in.csv"), &e, Some(&schema)).to_string();
        assert!(msg.contains("line 7: column `user_id`"), "{msg}");
        assert!(!msg.contains("090"), "{msg}");
    }
}
