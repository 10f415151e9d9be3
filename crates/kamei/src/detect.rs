//! `kamei detect`, `redact`, `scan` and `eval-detect` (issue 3).
//!
//! Text is streamed: lines are read with `read_until(b'\n')` in chunks of bounded size, each
//! chunk is processed on all cores with rayon, and the results are written in input order, so
//! memory stays flat however long the input is.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::Context as _;
use arrow::record_batch::RecordBatch;
use kamei_core::PiiType;
use kamei_detect::{Detector, Entity, Profile};
use rayon::prelude::*;

use crate::leakage::Leakage;

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
    /// `balanced` reports what the text holds with few false alarms; `recall` also reports
    /// anything that could be a structured value in context (what `redact` hides).
    #[arg(long, default_value = "balanced", value_parser = parse_profile)]
    pub profile: Profile,
}

#[derive(Debug, clap::Args)]
pub struct RedactArgs {
    /// Text to read, one text per line; `-` or nothing reads standard input.
    pub input: Option<PathBuf>,
    /// Replace each match by its type tag (`<PHONE>`) or by a mask that keeps its shape.
    #[arg(long, value_enum, default_value = "tag")]
    pub style: RedactStyle,
    /// `recall` (the default: a redactor fails closed) also hides anything that could be a
    /// structured value in context: long digit runs in any script, the words around an at-sign
    /// or its spelled forms, handles after ID/LINE cues, IBAN-shaped runs; `balanced` hides what
    /// `detect` reports.
    #[arg(long, default_value = "recall", value_parser = parse_profile)]
    pub profile: Profile,
}

/// `--profile`'s value, with the library's one-line error.
fn parse_profile(s: &str) -> Result<Profile, kamei_detect::UnknownProfile> {
    s.parse()
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RedactStyle {
    Tag,
    Mask,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// A directory of Parquet or CSV files, one table per file, or a PostgreSQL database
    /// (postgres://USER@HOST:PORT/DB, without a password): every table of its current schema.
    pub path: PathBuf,
    /// With a database: the environment variable that holds its password.
    #[arg(long, default_value = "PGPASSWORD")]
    pub password_env: String,
    /// With a database whose URL asks for TLS: the authority its certificate must chain to.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Write the proposed catalog here (written to a temporary name, then renamed) instead of
    /// standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// How many rows of each table to sample.
    #[arg(long, default_value_t = 1000)]
    pub sample: usize,
}

#[derive(Debug, clap::Args)]
pub struct EvalDetectArgs {
    /// JSONL with a `text` field (or a `message_id` whose body is read from the messages table
    /// beside the labels directory, as `kamei generate` writes it) and gold `entities` (`type`,
    /// `start`, `end` in code points).
    #[arg(long)]
    pub gold: PathBuf,
    /// The operating point to score. Either way the report ends with what redaction at that
    /// point leaves of the structured gold values and how much of the lines without any it hides.
    #[arg(long, default_value = "balanced", value_parser = parse_profile)]
    pub profile: Profile,
}

/// Lines per chunk handed to the thread pool; with `CHUNK_BYTES`, bounds memory.
const CHUNK_LINES: usize = 8192;
const CHUNK_BYTES: usize = 8 << 20;
/// Bytes asked of the input per read: few system calls, and still well inside a chunk.
const READ_BYTES: usize = 1 << 20;

fn open_input(input: Option<&Path>) -> anyhow::Result<Box<dyn Read + Send>> {
    match input {
        None => Ok(Box::new(io::stdin())),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(io::stdin())),
        Some(p) => {
            let f =
                File::open(p).with_context(|| format!("cannot open `{}`; check the path", p.display()))?;
            Ok(Box::new(f))
        }
    }
}

/// Lines of the input, a chunk at a time, in one buffer per chunk rather than one per line.
#[derive(Default)]
struct Chunk {
    buf: Vec<u8>,
    /// Each line's span in `buf`, without its `\n` / `\r\n`.
    spans: Vec<(usize, usize)>,
    first_line: usize,
}

/// Reads whole chunks straight into their buffers and splits them at newlines: what follows
/// the last newline of a read waits in `carry` for the next chunk.
struct LineReader {
    inner: Box<dyn Read + Send>,
    carry: Vec<u8>,
    next_line: usize,
    done: bool,
}

impl LineReader {
    fn new(inner: Box<dyn Read + Send>) -> Self {
        Self {
            inner,
            carry: Vec::new(),
            next_line: 1,
            done: false,
        }
    }

    /// Fills `chunk` with the next lines; no spans at the end of input.
    fn next_chunk(&mut self, chunk: &mut Chunk) -> io::Result<()> {
        chunk.buf.clear();
        chunk.spans.clear();
        chunk.first_line = self.next_line;
        chunk.buf.append(&mut self.carry);
        let mut line_start = 0;
        let mut scanned = 0;
        loop {
            for nl in memchr::memchr_iter(b'\n', &chunk.buf[scanned..]) {
                let end = scanned + nl;
                chunk.spans.push(line_span(&chunk.buf, line_start, end));
                line_start = end + 1;
                if chunk.spans.len() == CHUNK_LINES {
                    break;
                }
            }
            scanned = chunk.buf.len();
            if chunk.spans.len() == CHUNK_LINES || (chunk.buf.len() >= CHUNK_BYTES && !chunk.spans.is_empty())
            {
                break;
            }
            if self.done || !self.read_more(&mut chunk.buf)? {
                // The last line may lack its newline.
                if line_start < chunk.buf.len() {
                    chunk
                        .spans
                        .push(line_span(&chunk.buf, line_start, chunk.buf.len()));
                    line_start = chunk.buf.len();
                }
                break;
            }
        }
        self.carry.extend_from_slice(&chunk.buf[line_start..]);
        chunk.buf.truncate(line_start);
        self.next_line += chunk.spans.len();
        Ok(())
    }

    /// Appends up to `READ_BYTES` to `buf`; false at the end of input.
    fn read_more(&mut self, buf: &mut Vec<u8>) -> io::Result<bool> {
        let len = buf.len();
        buf.resize(len + READ_BYTES, 0);
        let n = loop {
            match self.inner.read(&mut buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    buf.truncate(len);
                    return Err(e);
                }
            }
        };
        buf.truncate(len + n);
        self.done = n == 0;
        Ok(n > 0)
    }
}

/// The span of the line from `start` to the newline at `end`, without a `\r` before it.
fn line_span(buf: &[u8], start: usize, end: usize) -> (usize, usize) {
    if end > start && buf[end - 1] == b'\r' {
        (start, end - 1)
    } else {
        (start, end)
    }
}

/// The output of a run of consecutive lines, made on one thread: one buffer for all of them
/// rather than one string per line, and the lines that could not be read, each with where its
/// output would go (its line number, the offset in `out`, and why, never quoting the line).
#[derive(Default)]
struct Block {
    out: String,
    bad: Vec<(usize, usize, String)>,
}

/// Lines per block: enough to make the per-block costs vanish, few enough to keep both cores
/// busy to the end of a chunk.
const BLOCK_LINES: usize = 256;

/// A line as UTF-8, or why it is not.
fn utf8_line(raw: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(raw).map_err(|e| {
        format!(
            "invalid UTF-8 at byte {}; the input must be UTF-8",
            e.valid_up_to() + 1
        )
    })
}

/// The text of one input line: the line itself, or a JSON line's `text` field.
fn line_text(s: &str, jsonl: bool) -> Result<std::borrow::Cow<'_, str>, String> {
    if !jsonl {
        return Ok(s.into());
    }
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| {
        format!(
            "invalid JSON at column {}; each line must be one JSON object",
            e.column()
        )
    })?;
    match v.get("text") {
        Some(serde_json::Value::String(t)) => Ok(t.clone().into()),
        Some(_) => Err("field `text` is not a string".to_owned()),
        None => Err("no `text` field; each line must be an object with a `text` string".to_owned()),
    }
}

/// Byte offsets → code-point offsets, for entities sorted by start.
fn code_points(text: &str, entities: &[Entity]) -> Vec<(PiiType, usize, usize, f32)> {
    let mut out = Vec::with_capacity(entities.len());
    let (mut byte, mut cp) = (0usize, 0usize);
    let mut advance = |to: usize| {
        cp += text[byte..to].chars().count();
        byte = to;
        cp
    };
    for e in entities {
        let s = advance(e.start);
        let t = advance(e.end);
        out.push((e.pii_type, s, t, e.score));
    }
    out
}

/// Appends the JSON line of `text`'s entities to `out` (without the newline). Integers go
/// through itoa and strings are pushed whole: `write!` cost more than the rest of the line.
fn detect_json(line: usize, text: &str, detector: &Detector, profile: Profile, out: &mut String) {
    let entities = detector.find_with(text, profile);
    let mut digits = itoa::Buffer::new();
    out.push_str("{\"line\":");
    out.push_str(digits.format(line));
    out.push_str(",\"entities\":[");
    for (k, (t, s, e, score)) in code_points(text, &entities).into_iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str("{\"type\":\"");
        out.push_str(t.as_str());
        out.push_str("\",\"start\":");
        out.push_str(digits.format(s));
        out.push_str(",\"end\":");
        out.push_str(digits.format(e));
        // The score with two decimals, from an integer: float formatting is slower.
        let hundredths = (score.clamp(0.0, 1.0) * 100.0).round() as u32;
        out.push_str(",\"score\":");
        out.push_str(digits.format(hundredths / 100));
        out.push('.');
        if hundredths % 100 < 10 {
            out.push('0');
        }
        out.push_str(digits.format(hundredths % 100));
        out.push('}');
    }
    out.push_str("]}");
}

fn error_json(line: usize, msg: &str) -> String {
    serde_json::json!({ "line": line, "error": msg }).to_string()
}

/// Runs `per_line` over every line of the input on all cores, writing results in order.
/// `per_line(text, line_number, out)` appends a line's output to `out` (the newline is added
/// here) or says why the line cannot be read; `on_bad` turns that into output, or into an
/// error that stops the run after everything before the line has been written.
///
/// Three stages overlap: a thread reads the next chunk while the pool works on this one and
/// another thread writes the last one, so neither reading nor writing holds the cores up.
/// Chunk buffers go back to the reader to be filled again.
fn stream(
    input: Option<&Path>,
    per_line: impl Fn(&str, usize, &mut String) -> Result<(), String> + Sync,
    on_bad: impl FnMut(usize, &str, &mut dyn Write) -> anyhow::Result<()> + Send,
) -> anyhow::Result<()> {
    let mut lines = LineReader::new(open_input(input)?);
    std::thread::scope(|s| {
        let (chunks, filled) = mpsc::sync_channel::<io::Result<Chunk>>(1);
        let (recycle, empty) = mpsc::channel::<Chunk>();
        let (results, to_write) = mpsc::sync_channel::<Vec<Block>>(1);
        s.spawn(move || {
            loop {
                let mut chunk = empty.try_recv().unwrap_or_default();
                let read = lines.next_chunk(&mut chunk);
                let end = matches!(read, Ok(()) if chunk.spans.is_empty());
                if end || chunks.send(read.map(|()| chunk)).is_err() {
                    break;
                }
            }
        });
        let writer = s.spawn(move || write_blocks(to_write, on_bad));
        let mut failed = None;
        for chunk in filled {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    failed = Some(anyhow::Error::new(e).context("cannot read the input"));
                    break;
                }
            };
            // The writer stopped (a bad line under --strict, or the output closed): say why.
            if results.send(process_chunk(&chunk, &per_line)).is_err() {
                break;
            }
            let _ = recycle.send(chunk);
        }
        drop(results);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the writer thread failed")));
        written.and(failed.map_or(Ok(()), Err))
    })
}

/// One chunk's output, block by block, made on all cores.
fn process_chunk(
    chunk: &Chunk,
    per_line: &(impl Fn(&str, usize, &mut String) -> Result<(), String> + Sync),
) -> Vec<Block> {
    // Valid UTF-8 as a whole (the usual case), the chunk is checked once, with SIMD, and its
    // lines are slices of it (a newline is always a character boundary); otherwise each line
    // is checked alone, so a bad line is named and the others still go through.
    let whole = simdutf8::basic::from_utf8(&chunk.buf).ok();
    chunk
        .spans
        .par_chunks(BLOCK_LINES)
        .enumerate()
        .map(|(c, block_spans)| {
            let mut block = Block::default();
            for (k, &(s, e)) in block_spans.iter().enumerate() {
                let line = chunk.first_line + c * BLOCK_LINES + k;
                let text = match whole {
                    Some(all) => Ok(&all[s..e]),
                    None => utf8_line(&chunk.buf[s..e]),
                };
                match text.and_then(|text| per_line(text, line, &mut block.out)) {
                    Ok(()) => block.out.push('\n'),
                    Err(msg) => block.bad.push((line, block.out.len(), msg)),
                }
            }
            block
        })
        .collect()
}

/// Writes blocks in the order they come, handing each bad line to `on_bad` in its place.
fn write_blocks(
    blocks: mpsc::Receiver<Vec<Block>>,
    mut on_bad: impl FnMut(usize, &str, &mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    for block in blocks.iter().flatten() {
        let mut written = 0;
        for (line, at, msg) in &block.bad {
            out.write_all(&block.out.as_bytes()[written..*at])
                .context("cannot write the output")?;
            written = *at;
            if let Err(e) = on_bad(*line, msg, &mut out) {
                out.flush().context("cannot write the output")?;
                return Err(e);
            }
        }
        out.write_all(&block.out.as_bytes()[written..])
            .context("cannot write the output")?;
    }
    out.flush().context("cannot write the output")
}

pub fn detect(args: DetectArgs) -> anyhow::Result<ExitCode> {
    let detector = Detector::new();
    let jsonl = args.jsonl;
    let strict = args.strict;
    let profile = args.profile;
    stream(
        args.input.as_deref(),
        |line_in, line, out| {
            let text = line_text(line_in, jsonl)?;
            detect_json(line, &text, &detector, profile, out);
            Ok(())
        },
        |line, msg, out| {
            if strict {
                anyhow::bail!("line {line}: {msg} (or drop --strict to report bad lines and go on)");
            }
            writeln!(out, "{}", error_json(line, msg))?;
            Ok(())
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn redact(args: RedactArgs) -> anyhow::Result<ExitCode> {
    let detector = Detector::new();
    let style = args.style;
    let profile = args.profile;
    stream(
        args.input.as_deref(),
        |text, _, out| {
            let found = detector.find_with(text, profile);
            out.push_str(&match style {
                RedactStyle::Tag => kamei_detect::redact_tag(text, &found),
                RedactStyle::Mask => kamei_detect::redact_mask(text, &found),
            });
            Ok(())
        },
        // A line that cannot be read cannot be redacted: it is replaced by an empty line (so
        // line numbers still match) rather than passed through.
        |line, msg, out| {
            eprintln!("kamei: warning: line {line}: {msg}; written as an empty line");
            writeln!(out)?;
            Ok(())
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The first `rows` rows of a Parquet or CSV table.
/// Up to `rows` rows of each Parquet or CSV file in `dir`, by table name.
fn sample_files(dir: &Path, rows: usize) -> anyhow::Result<Vec<(String, Vec<RecordBatch>)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the directory `{}`; check the path", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "parquet" || e == "csv"))
        .collect();
    files.sort();
    if files.is_empty() {
        anyhow::bail!(
            "no Parquet or CSV files in `{}`; scan a directory of tables",
            dir.display()
        );
    }
    files
        .iter()
        .map(|path| {
            let table = path.file_stem().and_then(|s| s.to_str()).unwrap_or("table");
            Ok((table.to_owned(), read_rows(path, rows)?))
        })
        .collect()
}

/// Up to `args.sample` rows of every table of the database at `url`, read through the
/// gateway's PostgreSQL source.
fn sample_database(url: &str, args: &ScanArgs) -> anyhow::Result<Vec<(String, Vec<RecordBatch>)>> {
    if kamei_policy::check_postgres_url(url).is_err() {
        // Not echoed: it may hold the password.
        anyhow::bail!(
            "the database URL holds a password or is not postgres://USER@HOST:PORT/DB; leave the password out and put it in {}",
            args.password_env
        );
    }
    let settings = kamei_policy::PostgresSettings {
        url: url.to_owned(),
        password: std::env::var_os(&args.password_env)
            .map(|_| kamei_policy::PasswordFrom::Env(args.password_env.clone())),
        max_connections: 2,
        ca_file: args.ca_file.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let tables = runtime
        .block_on(kamei_gateway::sample_database(&settings, args.sample.max(1)))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(tables
        .into_iter()
        .map(|t| {
            for (column, shown) in &t.skipped {
                eprintln!(
                    "kamei scan: `{}`.`{column}` is of type {shown}, which kamei does not read; left out",
                    t.name
                );
            }
            (t.name, t.batches)
        })
        .collect())
}

fn read_rows(path: &Path, rows: usize) -> anyhow::Result<Vec<arrow::record_batch::RecordBatch>> {
    let rows = rows.max(1);
    let is_parquet = path.extension().is_some_and(|e| e == "parquet");
    let mut out = Vec::new();
    let mut n = 0;
    if is_parquet {
        let f = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.with_batch_size(rows).build())
            .with_context(|| format!("cannot read `{}` as Parquet", path.display()))?;
        for batch in reader {
            let batch = batch.with_context(|| format!("cannot read `{}` as Parquet", path.display()))?;
            n += batch.num_rows();
            out.push(batch);
            if n >= rows {
                break;
            }
        }
    } else {
        let mut f = File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
        let format = arrow::csv::reader::Format::default().with_header(true);
        let (schema, _) = format
            .infer_schema(&mut f, Some(rows))
            .with_context(|| format!("cannot read `{}` as CSV", path.display()))?;
        let f = File::open(path)?;
        let reader = arrow::csv::ReaderBuilder::new(std::sync::Arc::new(schema))
            .with_format(format)
            .with_batch_size(rows)
            .build(f)
            .with_context(|| format!("cannot read `{}` as CSV", path.display()))?;
        for batch in reader {
            let batch = batch.with_context(|| format!("cannot read `{}` as CSV", path.display()))?;
            n += batch.num_rows();
            out.push(batch);
            if n >= rows {
                break;
            }
        }
    }
    Ok(out)
}

/// The catalog type of a column's data as read.
fn catalog_type(dt: &arrow::datatypes::DataType) -> &'static str {
    use arrow::datatypes::DataType;
    match dt {
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "BIGINT",
        t if t.is_integer() => "INTEGER",
        t if t.is_floating() => "DOUBLE",
        DataType::Boolean => "BOOLEAN",
        DataType::Date32 | DataType::Date64 => "DATE",
        DataType::Timestamp(..) => "TIMESTAMP",
        _ => "TEXT",
    }
}

/// A TOML basic string (JSON's escapes are TOML's).
fn toml_str(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

pub fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::DataType;
    use kamei_core::Category;

    let samples = match args.path.to_str() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            sample_database(url, &args)?
        }
        _ => sample_files(&args.path, args.sample)?,
    };
    let detector = Detector::new();
    let mut tables = String::new();
    let mut jurisdictions = std::collections::BTreeSet::new();
    // The first table whose subject has a jurisdiction column: the proposed subject directory.
    let mut directory: Option<String> = None;
    let mut uses_directory = false;
    let progress = crate::progress::bar(samples.len() as u64, "tables");
    for (table, batches) in &samples {
        let table = table.as_str();
        let Some(schema) = batches.first().map(|b| b.schema()) else {
            continue;
        };
        let mut columns = Vec::new();
        for (k, field) in schema.fields().iter().enumerate() {
            let mut values: Vec<Option<String>> = Vec::new();
            for batch in batches {
                let col = arrow::compute::cast(batch.column(k), &DataType::Utf8).with_context(|| {
                    format!("column `{}` of `{table}` cannot be read as text", field.name())
                })?;
                let col = col.as_string::<i32>();
                values.extend((0..col.len()).map(|r| col.is_valid(r).then(|| col.value(r).to_owned())));
            }
            let proposal = detector.classify_column(field.name(), values.iter().map(Option::as_deref));
            let is_jurisdiction = {
                let n = field.name().to_ascii_lowercase();
                n == "country" || n.ends_with("_country") || n == "jurisdiction"
            };
            if is_jurisdiction {
                for v in values.iter().flatten() {
                    if v.len() == 2 && v.bytes().all(|c| c.is_ascii_uppercase()) {
                        jurisdictions.insert(v.clone());
                    }
                }
            }
            columns.push((
                field.name().clone(),
                proposal,
                is_jurisdiction,
                field.data_type().clone(),
            ));
        }
        let _ = writeln!(tables, "\n[[tables]]\nname = {}", toml_str(table));
        let mut keys = columns
            .iter()
            .filter(|(_, p, _, _)| p.category == Category::SubjectKey);
        let subject = keys.next();
        let others: Vec<String> = keys
            .map(|(name, ..)| format!("{{ key = {}, jurisdiction = \"directory\" }}", toml_str(name)))
            .collect();
        match subject {
            Some((name, ..)) => {
                let _ = writeln!(tables, "subject_key = {}", toml_str(name));
            }
            None => {
                let _ = writeln!(
                    tables,
                    "# no subject key column found: name the column that says whose data a row is"
                );
            }
        }
        match columns.iter().find(|(_, _, j, _)| *j) {
            Some((name, ..)) => {
                let _ = writeln!(tables, "jurisdiction_column = {}", toml_str(name));
                if subject.is_some() && directory.is_none() {
                    directory = Some(table.to_owned());
                }
            }
            None => {
                let _ = writeln!(
                    tables,
                    "# no jurisdiction column found: set `jurisdiction = \"JP\"` or name the column"
                );
            }
        }
        if !others.is_empty() {
            uses_directory = true;
            let _ = writeln!(
                tables,
                "# other people of a row: check where their jurisdictions come from\nsubjects = [{}]",
                others.join(", ")
            );
        }
        let _ = writeln!(tables, "columns = [");
        for (name, p, j, data_type) in &columns {
            let category = if *j { Category::NonPersonal } else { p.category };
            let _ = writeln!(
                tables,
                "  # {category}, confidence {:.2}: {}",
                p.confidence, p.evidence
            );
            let _ = writeln!(
                tables,
                "  {{ name = {}, category = \"{category}\", type = \"{}\" }},",
                toml_str(name),
                catalog_type(data_type)
            );
        }
        let _ = writeln!(tables, "]");
        progress.inc(1);
    }
    progress.finish_and_clear();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# catalog.toml proposed by `kamei scan {}`: review every category before use.",
        args.path.display()
    );
    let _ = writeln!(
        out,
        "# Each column's comment gives the proposed category, its confidence and the evidence."
    );
    let list: Vec<String> = jurisdictions.iter().map(|j| toml_str(j)).collect();
    let _ = writeln!(out, "jurisdictions = [{}]", list.join(", "));
    if let (true, Some(d)) = (uses_directory, &directory) {
        let _ = writeln!(
            out,
            "# the table mapping any subject key to its jurisdiction: check it\ndirectory = {}",
            toml_str(d)
        );
    }
    out.push_str(&tables);
    match &args.out {
        Some(path) => {
            let tmp = path.with_extension("toml.tmp");
            std::fs::write(&tmp, &out).with_context(|| format!("cannot write `{}`", tmp.display()))?;
            std::fs::rename(&tmp, path).with_context(|| format!("cannot write `{}`", path.display()))?;
            eprintln!(
                "wrote the proposed catalog of {} tables to {}",
                samples.len(),
                path.display()
            );
        }
        None => print!("{out}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// One gold line: a text and its entities as (type, start, end) in code points.
struct Gold {
    text: String,
    /// The text's language, when the gold file says (`lang`), for a per-language table.
    lang: Option<String>,
    entities: Vec<(PiiType, usize, usize)>,
}

/// Counts per type: true positives, predictions, gold entities.
#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    pred: usize,
    gold: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.pred += o.pred;
        self.gold += o.gold;
    }

    fn prf(&self) -> (f64, f64, f64) {
        let p = if self.pred == 0 {
            1.0
        } else {
            self.tp as f64 / self.pred as f64
        };
        let r = if self.gold == 0 {
            1.0
        } else {
            self.tp as f64 / self.gold as f64
        };
        let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
        (p, r, f)
    }
}

/// Whether two spans overlap by at least half of their union.
fn matches(a: (usize, usize), b: (usize, usize)) -> bool {
    let inter = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let union = a.1.max(b.1) - a.0.min(b.0);
    union > 0 && 2 * inter >= union
}

fn load_gold(path: &Path) -> anyhow::Result<Vec<Gold>> {
    let f = File::open(path).with_context(|| format!("cannot open `{}`; check the path", path.display()))?;
    let mut bodies: Option<HashMap<i64, String>> = None;
    let mut out = Vec::new();
    for (k, line) in BufReader::new(f).lines().enumerate() {
        let n = k + 1;
        let line =
            line.with_context(|| format!("`{}` line {n}: cannot read (not UTF-8?)", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
            anyhow::anyhow!(
                "`{}` line {n}: invalid JSON at column {}",
                path.display(),
                e.column()
            )
        })?;
        let text = match (v.get("text"), v.get("message_id")) {
            (Some(serde_json::Value::String(t)), _) => t.clone(),
            (_, Some(id)) => {
                let id = id.as_i64().with_context(|| {
                    format!("`{}` line {n}: `message_id` is not an integer", path.display())
                })?;
                if bodies.is_none() {
                    bodies = Some(load_bodies(path)?);
                }
                bodies
                    .as_ref()
                    .and_then(|b| b.get(&id))
                    .cloned()
                    .with_context(|| {
                        format!(
                            "`{}` line {n}: message_id {id} is not in the messages table",
                            path.display()
                        )
                    })?
            }
            _ => anyhow::bail!(
                "`{}` line {n}: needs a `text` string or a `message_id`",
                path.display()
            ),
        };
        let mut entities = Vec::new();
        for e in v.get("entities").and_then(|e| e.as_array()).into_iter().flatten() {
            let t = e.get("type").and_then(|t| t.as_str()).unwrap_or("");
            let t: PiiType = t
                .parse()
                .map_err(|err| anyhow::anyhow!("`{}` line {n}: {err}", path.display()))?;
            let s = e.get("start").and_then(|x| x.as_u64());
            let en = e.get("end").and_then(|x| x.as_u64());
            let (Some(s), Some(en)) = (s, en) else {
                anyhow::bail!(
                    "`{}` line {n}: an entity needs integer `start` and `end`",
                    path.display()
                );
            };
            entities.push((t, s as usize, en as usize));
        }
        let lang = v.get("lang").and_then(|l| l.as_str()).map(str::to_owned);
        out.push(Gold { text, lang, entities });
    }
    Ok(out)
}

/// The message bodies of the table beside a `labels/` directory (`DIR/labels/messages.jsonl`
/// → `DIR/messages.parquet` or `DIR/messages.csv`).
fn load_bodies(labels: &Path) -> anyhow::Result<HashMap<i64, String>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Int64Type};

    let dir = labels.parent().and_then(Path::parent).unwrap_or(Path::new("."));
    let parquet_path = dir.join("messages.parquet");
    let csv_path = dir.join("messages.csv");
    let batches: Vec<arrow::record_batch::RecordBatch> = if parquet_path.exists() {
        let f =
            File::open(&parquet_path).with_context(|| format!("cannot open `{}`", parquet_path.display()))?;
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.build())
            .with_context(|| format!("cannot read `{}` as Parquet", parquet_path.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("cannot read `{}` as Parquet", parquet_path.display()))?
    } else if csv_path.exists() {
        let mut f = File::open(&csv_path).with_context(|| format!("cannot open `{}`", csv_path.display()))?;
        let format = arrow::csv::reader::Format::default().with_header(true);
        let (schema, _) = format
            .infer_schema(&mut f, Some(1000))
            .with_context(|| format!("cannot read `{}` as CSV", csv_path.display()))?;
        let f = File::open(&csv_path)?;
        arrow::csv::ReaderBuilder::new(std::sync::Arc::new(schema))
            .with_format(format)
            .build(f)
            .with_context(|| format!("cannot read `{}` as CSV", csv_path.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("cannot read `{}` as CSV", csv_path.display()))?
    } else {
        anyhow::bail!(
            "labels without `text` need the messages table: neither `{}` nor `{}` exists",
            parquet_path.display(),
            csv_path.display()
        );
    };
    let mut out = HashMap::new();
    for batch in batches {
        let col = |name: &str, ty: &DataType| {
            let a = batch
                .column_by_name(name)
                .with_context(|| format!("the messages table has no `{name}` column"))?;
            arrow::compute::cast(a, ty).with_context(|| format!("column `{name}` cannot be read as {ty}"))
        };
        let ids = col("message_id", &DataType::Int64)?;
        let bodies = col("body", &DataType::Utf8)?;
        let ids = ids.as_primitive::<Int64Type>();
        let bodies = bodies.as_string::<i32>();
        for k in 0..batch.num_rows() {
            if ids.is_valid(k) && bodies.is_valid(k) {
                out.insert(ids.value(k), bodies.value(k).to_owned());
            }
        }
    }
    Ok(out)
}

/// The types whose recognizers are validators, reported together as "structured".
const STRUCTURED: [PiiType; 8] = [
    PiiType::Email,
    PiiType::Phone,
    PiiType::CreditCard,
    PiiType::MyNumber,
    PiiType::CorporateNumber,
    PiiType::PostalCode,
    PiiType::IpAddress,
    PiiType::Iban,
];

pub fn eval(args: EvalDetectArgs) -> anyhow::Result<ExitCode> {
    let gold = load_gold(&args.gold)?;
    let detector = Detector::new();
    let profile = args.profile;
    let per_line: Vec<(HashMap<PiiType, Counts>, Leakage)> = gold
        .par_iter()
        .map(|g| {
            let found = detector.find_with(&g.text, profile);
            let preds = code_points(&g.text, &found);
            let spans: Vec<(PiiType, usize, usize)> = preds.iter().map(|p| (p.0, p.1, p.2)).collect();
            let leakage = Leakage::line(&g.text, &g.entities, &spans);
            let mut counts: HashMap<PiiType, Counts> = HashMap::new();
            let mut used = vec![false; preds.len()];
            for &(t, s, e) in &g.entities {
                counts.entry(t).or_default().gold += 1;
                let hit = preds
                    .iter()
                    .enumerate()
                    .find(|(k, p)| !used[*k] && p.0 == t && matches((p.1, p.2), (s, e)));
                if let Some((k, _)) = hit {
                    used[k] = true;
                    counts.entry(t).or_default().tp += 1;
                }
            }
            for p in &preds {
                counts.entry(p.0).or_default().pred += 1;
            }
            (counts, leakage)
        })
        .collect();
    let mut leakage = Leakage::default();
    let mut total: HashMap<PiiType, Counts> = HashMap::new();
    let mut by_lang: std::collections::BTreeMap<&str, HashMap<PiiType, Counts>> = Default::default();
    for (g, (c, leak)) in gold.iter().zip(per_line) {
        leakage.add(&leak);
        for (t, v) in c {
            total.entry(t).or_default().add(v);
            if let Some(l) = &g.lang {
                by_lang
                    .entry(l.as_str())
                    .or_default()
                    .entry(t)
                    .or_default()
                    .add(v);
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "gold: {} ({} texts), profile {profile}",
        args.gold.display(),
        gold.len()
    );
    let _ = writeln!(
        out,
        "{:<18} {:>6} {:>6} {:>6} {:>9} {:>7} {:>6}",
        "type", "gold", "pred", "tp", "precision", "recall", "f1"
    );
    let row = |out: &mut String, name: &str, c: Counts| {
        let (p, r, f) = c.prf();
        let _ = writeln!(
            out,
            "{name:<18} {:>6} {:>6} {:>6} {p:>9.3} {r:>7.3} {f:>6.3}",
            c.gold, c.pred, c.tp
        );
    };
    let mut structured = Counts::default();
    let mut overall = Counts::default();
    for t in PiiType::ALL {
        let c = total.get(t).copied().unwrap_or_default();
        if c.gold == 0 && c.pred == 0 {
            continue;
        }
        row(&mut out, t.as_str(), c);
        overall.add(c);
        if STRUCTURED.contains(t) {
            structured.add(c);
        }
    }
    row(&mut out, "structured (8)", structured);
    row(&mut out, "overall", overall);
    if !by_lang.is_empty() {
        let _ = writeln!(out, "\nF1 by language (gold count in brackets):");
        let _ = writeln!(
            out,
            "{:<8} {:>16} {:>14} {:>14} {:>14}",
            "lang", "structured (8)", "PERSON", "ADDRESS", "overall"
        );
        for (lang, counts) in &by_lang {
            let sum = |pred: &dyn Fn(PiiType) -> bool| {
                let mut c = Counts::default();
                for (t, v) in counts {
                    if pred(*t) {
                        c.add(*v);
                    }
                }
                format!("{:.3} ({})", c.prf().2, c.gold)
            };
            let _ = writeln!(
                out,
                "{lang:<8} {:>16} {:>14} {:>14} {:>14}",
                sum(&|t| STRUCTURED.contains(&t)),
                sum(&|t| t == PiiType::Person),
                sum(&|t| t == PiiType::Address),
                sum(&|_| true)
            );
        }
    }
    leakage.render(profile, &mut out);
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_of_the_union() {
        assert!(matches((0, 10), (0, 10)));
        assert!(matches((0, 10), (0, 5)));
        assert!(!matches((0, 10), (0, 4)));
        assert!(!matches((0, 4), (4, 8)));
    }

    #[test]
    fn code_points_count_characters_not_bytes() {
        let text = "電話 090-1234-5678";
        let e = Entity {
            pii_type: PiiType::Phone,
            start: 7,
            end: text.len(),
            score: 0.9,
        };
        assert_eq!(code_points(text, &[e]), vec![(PiiType::Phone, 3, 16, 0.9)]);
    }

    /// Hands out its bytes a few at a time, as a pipe may.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.step = self.step % 7 + 1;
            let n = self.step.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// Every line, numbered, as the reader splits `data` read in pieces of 1–7 bytes.
    fn lines_of(data: &[u8]) -> Vec<(usize, Vec<u8>)> {
        let mut reader = LineReader::new(Box::new(Trickle {
            data: data.to_vec(),
            at: 0,
            step: 0,
        }));
        let (mut chunk, mut lines) = (Chunk::default(), Vec::new());
        loop {
            reader.next_chunk(&mut chunk).unwrap();
            if chunk.spans.is_empty() {
                return lines;
            }
            assert!(chunk.spans.len() <= CHUNK_LINES);
            for (k, &(s, e)) in chunk.spans.iter().enumerate() {
                lines.push((chunk.first_line + k, chunk.buf[s..e].to_vec()));
            }
        }
    }

    #[test]
    fn line_reader_keeps_every_line_across_chunks_and_reads() {
        // More lines than a chunk holds, of varied lengths, CRLF and LF, no final newline.
        let expected: Vec<Vec<u8>> = (0..CHUNK_LINES * 2 + 17)
            .map(|i| format!("{}{i}", "電話 090 ".repeat(i % 5)).into_bytes())
            .collect();
        let mut data = Vec::new();
        for (i, line) in expected.iter().enumerate() {
            data.extend_from_slice(line);
            if i + 1 < expected.len() {
                data.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
            }
        }
        let got = lines_of(&data);
        let numbers: Vec<usize> = got.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, (1..=expected.len()).collect::<Vec<_>>());
        assert!(got.into_iter().map(|(_, line)| line).eq(expected));
    }

    #[test]
    fn line_reader_handles_empty_input_lone_newlines_and_a_line_longer_than_a_read() {
        assert!(lines_of(b"").is_empty());
        assert_eq!(lines_of(b"\n\n"), vec![(1, vec![]), (2, vec![])]);
        let long = vec![b'x'; READ_BYTES * 2 + 3];
        let mut data = long.clone();
        data.extend_from_slice(b"\nend");
        assert_eq!(lines_of(&data), vec![(1, long), (2, b"end".to_vec())]);
    }

    #[test]
    fn detect_json_writes_the_scores_hundredths() {
        let detector = Detector::new();
        let mut out = String::new();
        detect_json(7, "mail a@example.com", &detector, Profile::Balanced, &mut out);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["line"], 7);
        let score = v["entities"][0]["score"].as_f64().unwrap();
        let exact = f64::from(detector.find("mail a@example.com")[0].score);
        assert!((score - exact).abs() <= 0.005, "{score} vs {exact}");
        assert_eq!(v["entities"][0]["start"], 5);
    }
}
