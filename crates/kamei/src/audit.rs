//! `kamei audit …` (issue 5): the command line over kamei-audit.

use anyhow::Context as _;
use kamei_audit::{
    AuditLog, Hash, LocalDir, LogView, Options, Query, RecordInput, Timestamp, subjects_seen, verify_log,
};
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The log every audit command works on.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// The audit log directory.
    #[arg(long)]
    pub log: PathBuf,
    #[command(flatten)]
    pub config: crate::policy::ConfigArgs,
    /// The keyring holding the log's signing key (`audit-signing`); overrides `[keyring] path`
    /// of kamei.toml.
    #[arg(long)]
    pub keyring: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Append one record per JSON line from standard input; print each new index once it is on disk.
    Append(LogArgs),
    /// Print the log's latest signed checkpoint (C2SP tlog-checkpoint, signed-note); reads only.
    Checkpoint(LogArgs),
    /// Print an RFC 9162 inclusion proof for one record as JSON; reads only (no lock, no key).
    Prove {
        #[command(flatten)]
        log: LogArgs,
        /// The record's index.
        #[arg(long)]
        index: u64,
        /// The tree size to prove against (default: the size of the latest checkpoint).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Print an RFC 9162 consistency proof between two tree sizes as JSON; reads only.
    Consistency {
        #[command(flatten)]
        log: LogArgs,
        /// The earlier tree size.
        #[arg(long)]
        old_size: u64,
        /// The later tree size (default: the size of the latest checkpoint).
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
    /// Only records that touched subjects of this jurisdiction (ISO 3166-1 alpha-2); the
    /// subjects shown are narrowed to it.
    #[arg(long)]
    pub jurisdiction: Option<String>,
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

pub fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Append(args) => append(&args),
        AuditCommand::Checkpoint(args) => {
            let log = view(&args)?;
            std::io::stdout().write_all(log.checkpoint_note())?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Prove { log, index, size } => {
            let log = view(&log)?;
            let p = log.prove(index, size)?;
            let json = serde_json::json!({
                "index": p.index,
                "tree_size": p.tree_size,
                "leaf_hash": p.leaf_hash.to_hex(),
                "hashes": hexes(&p.hashes),
                "root": p.root.to_hex(),
            });
            println!("{json}");
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Consistency { log, old_size, size } => {
            let log = view(&log)?;
            let p = log.consistency(old_size, size)?;
            let json = serde_json::json!({
                "old_size": p.old_size,
                "tree_size": p.tree_size,
                "old_root": p.old_root.to_hex(),
                "hashes": hexes(&p.hashes),
                "root": p.root.to_hex(),
            });
            println!("{json}");
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify { log, checkpoint } => verify(&log.log, checkpoint.as_deref()),
        AuditCommand::Query(args) => query(&args),
    }
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_hex).collect()
}

pub(crate) fn require_log(dir: &Path) -> anyhow::Result<()> {
    if !dir.join("key").exists() && !dir.join("key.vkey").exists() {
        anyhow::bail!(
            "no audit log at `{}`; create one with `kamei audit append --log DIR`",
            dir.display()
        );
    }
    Ok(())
}

/// Opens the log for reading, as an auditor does: from its tiles, journals and signed
/// checkpoint, with no lock (a writer may be appending) and no signing key.
fn view(args: &LogArgs) -> anyhow::Result<LogView> {
    require_log(&args.log)?;
    Ok(LogView::open(&LocalDir::new(&args.log)?, None)?)
}

/// Opens (or creates) the log with its signing key from the keyring: the key whose public key
/// the log names, or for a new log the current `audit-signing` key. A log that keeps its own
/// key file, and any log opened with the public demo keyring, signs with its own key file.
fn open_signed(args: &LogArgs) -> anyhow::Result<AuditLog> {
    let config = crate::keys::load_config(&args.config)?;
    let keyring = crate::keys::open_keyring(&config, args.keyring.as_deref())?;
    open_with_keyring(&args.log, &keyring)
}

/// [`open_signed`] for a keyring already open (`kamei serve`, `kamei deid`).
pub(crate) fn open_with_keyring(dir: &Path, keyring: &kamei_protect::Keyring) -> anyhow::Result<AuditLog> {
    if keyring.is_demo() {
        // The demo master key is public, so its audit key would let anyone sign a forged
        // checkpoint: the log makes a random key of its own instead.
        eprintln!("kamei: the demo keyring's keys are public: this log signs with its own key file `key`");
        return Ok(AuditLog::open(dir)?);
    }
    let seeds = keyring.audit_signing_seeds();
    let seeds: Vec<&[u8; 32]> = seeds.iter().map(|(_, seed)| &**seed).collect();
    AuditLog::open_signed_by(dir, &seeds, Options::default()).with_context(|| {
        format!(
            "`{}`: use the keyring that created the log, or `kamei keys init` for a new keyring",
            dir.display()
        )
    })
}

/// One record per input line; each index is printed (and flushed) once the record is durable,
/// so whatever reads stdout knows exactly which records were acknowledged.
fn append(args: &LogArgs) -> anyhow::Result<ExitCode> {
    let log = open_signed(args)?;
    let stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    for (n, line) in stdin.lines().enumerate() {
        let line = line.context("cannot read standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let input = RecordInput::from_json(&line).with_context(|| format!("stdin line {}", n + 1))?;
        let index = log
            .append_input(input)
            .with_context(|| format!("stdin line {}", n + 1))?;
        writeln!(out, "{index}")?;
        out.flush()?;
    }
    log.close()?;
    Ok(ExitCode::SUCCESS)
}

fn verify(dir: &Path, checkpoint: Option<&Path>) -> anyhow::Result<ExitCode> {
    require_log(dir)?;
    let saved = checkpoint
        .map(|p| std::fs::read(p).with_context(|| format!("cannot read checkpoint `{}`", p.display())))
        .transpose()?;
    let storage = LocalDir::new(dir)?;
    let report = verify_log(&storage, saved.as_deref(), None)?;
    match report.problem {
        None => {
            println!(
                "ok: {} entries, root {}, checkpoint at size {} verified{}",
                report.size,
                report.root,
                report.checkpoint_size.unwrap_or(0),
                if saved.is_some() {
                    ", consistent with the saved checkpoint"
                } else {
                    ""
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            eprintln!("kamei: audit verify: {problem}");
            Ok(ExitCode::from(1))
        }
    }
}

pub(crate) fn time_arg(flag: &str, value: Option<&str>) -> anyhow::Result<Option<Timestamp>> {
    value
        .map(|v| {
            Timestamp::parse(v)
                .with_context(|| format!("--{flag} `{v}`: expected RFC 3339 such as 2026-01-05T09:00:00Z"))
        })
        .transpose()
}

fn query(args: &QueryArgs) -> anyhow::Result<ExitCode> {
    require_log(&args.log.log)?;
    let jurisdiction = match args.jurisdiction.as_deref() {
        None => None,
        Some(j) if j.len() == 2 && j.bytes().all(|b| b.is_ascii_uppercase()) => {
            Some([j.as_bytes()[0], j.as_bytes()[1]])
        }
        Some(j) => anyhow::bail!("--jurisdiction `{j}`: expected an ISO 3166-1 alpha-2 code such as JP"),
    };
    let q = Query {
        principal: args.principal.clone(),
        org: args.org.clone(),
        country: args.country.clone(),
        jurisdiction,
        since: time_arg("since", args.since.as_deref())?,
        until: time_arg("until", args.until.as_deref())?,
        subject: args.subject,
    };
    let storage = LocalDir::new(&args.log.log)?;
    let matches = q.run(&storage)?;
    let mut out = std::io::stdout().lock();
    if args.subjects {
        let seen = subjects_seen(&matches);
        match args.format {
            QueryFormat::Jsonl => {
                for ((jur, level), set) in &seen {
                    let keys: Vec<u64> = set.iter().collect();
                    let line = serde_json::json!({
                        "jurisdiction": String::from_utf8_lossy(jur),
                        "level": level.as_str(),
                        "count": set.len(),
                        "subjects": keys,
                    });
                    writeln!(out, "{line}")?;
                }
            }
            QueryFormat::Table => {
                writeln!(
                    out,
                    "{:<12} {:<14} {:>8}  subjects",
                    "jurisdiction", "level", "count"
                )?;
                for ((jur, level), set) in &seen {
                    let keys: Vec<String> = set.iter().map(|k| k.to_string()).collect();
                    writeln!(
                        out,
                        "{:<12} {:<14} {:>8}  {}",
                        String::from_utf8_lossy(jur),
                        level.as_str(),
                        set.len(),
                        keys.join(",")
                    )?;
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    match args.format {
        QueryFormat::Jsonl => {
            for m in &matches {
                let mut record = serde_json::to_value(&m.record)?;
                if let Some(obj) = record.as_object_mut() {
                    obj.insert("index".into(), m.index.into());
                }
                writeln!(out, "{record}")?;
            }
        }
        QueryFormat::Table => {
            writeln!(
                out,
                "{:>8}  {:<24} {:<16} {:<14} {:<3} {:<10} {:>6} {:>8}  columns",
                "index", "time", "principal", "org", "cc", "action", "rows", "subjects"
            )?;
            for m in &matches {
                let r = &m.record;
                let columns: Vec<String> = r
                    .tables()
                    .iter()
                    .flat_map(|(t, cols)| cols.iter().map(move |(c, l)| format!("{t}.{c}={l}")))
                    .collect();
                writeln!(
                    out,
                    "{:>8}  {:<24} {:<16} {:<14} {:<3} {:<10} {:>6} {:>8}  {}",
                    m.index,
                    r.time(),
                    r.principal(),
                    r.org(),
                    r.country(),
                    r.action().as_str(),
                    r.rows(),
                    m.subjects.count(),
                    columns.join(" ")
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
