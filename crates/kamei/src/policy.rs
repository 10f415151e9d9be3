//! `kamei init` and `kamei policy …` (issue 4): write the demo configuration, check it, and
//! show what it decides.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use kamei_core::Level;
use kamei_policy::{Config, DEMO_FILES};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The directory to write the demo configuration into; must not hold a configuration yet.
    pub dir: PathBuf,
}

/// Options every command that reads configuration shares.
#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// kamei.toml to load; without it the built-in demo configuration is used (said on stderr).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Parse and validate the catalog, principals and policies; exit 0 or list every error with its location.
    Check(ConfigArgs),
    /// Print the level of every principal for every column and jurisdiction.
    Matrix {
        #[command(flatten)]
        config: ConfigArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: MatrixFormat,
    },
    /// Compare the exposure two configurations grant (directories or kamei.toml files; or two policy files over
    /// --config's catalog and principals); exit 1 if any grows.
    Diff {
        #[command(flatten)]
        config: ConfigArgs,
        /// The configuration before the change: a directory holding kamei.toml, a kamei.toml, or a .cedar file.
        old: PathBuf,
        /// The configuration after the change, in the same forms.
        new: PathBuf,
    },
    /// Prove invariants over every decision (each principal, column and jurisdiction); exit 1 with a counterexample
    /// per violation. The file's format: `kamei_report::invariants`, and the README.
    Assert {
        #[command(flatten)]
        config: ConfigArgs,
        /// The invariants: a TOML file of `[[invariant]]` rules.
        file: PathBuf,
    },
    /// Show the level one principal gets for one column and jurisdiction, and the policies that decided it.
    Explain {
        #[command(flatten)]
        config: ConfigArgs,
        /// The principal's name.
        #[arg(long)]
        principal: String,
        /// The column, as TABLE.COLUMN.
        #[arg(long)]
        column: String,
        /// The data subject's jurisdiction (ISO 3166-1 alpha-2, e.g. JP).
        #[arg(long)]
        jurisdiction: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MatrixFormat {
    Table,
    Csv,
    Json,
}

/// The configuration named by `--config`, or the built-in demo (said on stderr, one line).
pub fn load_config(args: &ConfigArgs) -> anyhow::Result<Config> {
    match &args.config {
        Some(path) => Ok(Config::load(path)?),
        None => {
            eprintln!(
                "kamei: using the built-in demo configuration (`kamei init DIR` writes it; pass --config DIR/kamei.toml to use yours)"
            );
            Ok(Config::demo()?)
        }
    }
}

pub fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    let dir = &args.dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    for (name, _) in DEMO_FILES {
        let path = dir.join(name);
        if path.exists() {
            anyhow::bail!(
                "`{}` already exists; kamei init does not overwrite a configuration (choose an empty directory)",
                path.display()
            );
        }
    }
    for (name, text) in DEMO_FILES {
        write_new(&dir.join(name), text)?;
    }
    println!("wrote the demo configuration to {}:", dir.display());
    for (name, _) in DEMO_FILES {
        println!("  {name}");
    }
    println!(
        "check it with: kamei policy check --config {}",
        dir.join("kamei.toml").display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to a temporary name beside `path` and renames it into place, refusing to
/// replace a file that appeared meanwhile.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in `{}`", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    tmp.persist_noclobber(path)
        .map_err(|e| anyhow::anyhow!("cannot create `{}`: {}", path.display(), e.error))?;
    Ok(())
}

pub fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Check(config) => check(&config),
        PolicyCommand::Matrix { config, format } => matrix(&load_config(&config)?, format),
        PolicyCommand::Diff { config, old, new } => diff(&config, &old, &new),
        PolicyCommand::Assert { config, file } => assert(&load_config(&config)?, &file),
        PolicyCommand::Explain {
            config,
            principal,
            column,
            jurisdiction,
        } => explain(&load_config(&config)?, &principal, &column, &jurisdiction),
    }
}

fn check(args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let loaded = match &args.config {
        Some(path) => Config::load(path),
        None => {
            eprintln!(
                "kamei: checking the built-in demo configuration (pass --config DIR/kamei.toml to check yours)"
            );
            Config::demo()
        }
    };
    match loaded {
        Ok(config) => {
            let columns: usize = config.catalog().tables.iter().map(|t| t.columns.len()).sum();
            let cells = config.principals().len() * columns * config.catalog().jurisdictions.len();
            println!(
                "ok: {} principals, {} tables, {columns} columns, {} jurisdictions, {} policies; {cells} decisions compiled",
                config.principals().len(),
                config.catalog().tables.len(),
                config.catalog().jurisdictions.len(),
                config.policy_ids().len(),
            );
            for latent in config.latent_grants() {
                eprintln!(
                    "kamei: warning: {}: {latent}: it grants nothing today and would grant at once if one were added",
                    config.policies_file()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            let problems = err.problems();
            for p in problems {
                eprintln!("{p}");
            }
            eprintln!(
                "kamei: {} problem{} found; the configuration is not usable until {} fixed",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                if problems.len() == 1 { "it is" } else { "they are" }
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// `kamei policy assert FILE`: each invariant with the number of decisions it covers, and each
/// violation with the policies that decided it.
fn assert(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let invariants = kamei_report::Invariants::load(file)?;
    let shown = file.display().to_string();
    let outcomes = invariants.check(config, &shown)?;
    let columns: usize = config.catalog().tables.iter().map(|t| t.columns.len()).sum();
    println!(
        "{shown}: {} invariant{} over {} principals × {columns} columns × {} jurisdictions and the fallback for any other",
        outcomes.len(),
        if outcomes.len() == 1 { "" } else { "s" },
        config.principals().len(),
        config.catalog().jurisdictions.len()
    );
    let mut failed = 0;
    for o in &outcomes {
        if o.violations.is_empty() {
            println!(
                "  holds  {} ({} decisions, all at most {})",
                o.rule.name, o.checked, o.rule.at_most
            );
            continue;
        }
        failed += 1;
        println!(
            "  FAILS  {}: {} of {} decisions above {}",
            o.rule.name,
            o.violations.len(),
            o.checked,
            o.rule.at_most
        );
        for v in &o.violations {
            println!(
                "         {} reads {}.{} ({}) of subjects in {} {} — decided by {}",
                v.principal,
                v.table,
                v.column,
                v.category,
                v.jurisdiction
                    .map_or("any other jurisdiction".to_owned(), |j| j.to_string()),
                v.level,
                if v.policies.is_empty() {
                    "no policy (the default)".to_owned()
                } else {
                    v.policies.join(", ")
                }
            );
        }
    }
    if failed > 0 {
        eprintln!(
            "kamei: {failed} invariant{} violated",
            if failed == 1 { "" } else { "s" }
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Treats a closed stdout (`kamei policy matrix | head`) as the reader having had enough.
pub(crate) fn ok_on_broken_pipe(result: std::io::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn matrix(config: &Config, format: MatrixFormat) -> anyhow::Result<ExitCode> {
    let rows = config.matrix();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    ok_on_broken_pipe(write_matrix(&mut out, &rows, format).and_then(|()| out.flush()))?;
    Ok(ExitCode::SUCCESS)
}

fn write_matrix(
    out: &mut impl std::io::Write,
    rows: &[kamei_policy::MatrixRow],
    format: MatrixFormat,
) -> std::io::Result<()> {
    match format {
        MatrixFormat::Csv => {
            writeln!(out, "principal,table,column,jurisdiction,level")?;
            for r in rows {
                writeln!(
                    out,
                    "{},{},{},{},{}",
                    csv_field(r.principal),
                    csv_field(r.table),
                    csv_field(r.column),
                    r.jurisdiction,
                    r.level
                )?;
            }
        }
        MatrixFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)?;
            writeln!(out)?;
        }
        MatrixFormat::Table => {
            let width = |f: fn(&kamei_policy::MatrixRow) -> usize, title: &str| {
                rows.iter().map(f).max().unwrap_or(0).max(title.len())
            };
            let wp = width(|r| r.principal.len(), "principal");
            let wc = width(|r| r.table.len() + 1 + r.column.len(), "column");
            writeln!(
                out,
                "{:wp$}  {:wc$}  {:12}  {:13}  policies",
                "principal", "column", "jurisdiction", "level"
            )?;
            let mut cross = 0;
            for r in rows {
                let column = format!("{}.{}", r.table, r.column);
                let level = if r.cross_border_raw {
                    cross += 1;
                    "RAW ACROSS!".to_owned()
                } else {
                    r.level.to_string()
                };
                let policies = if r.policies.is_empty() {
                    match r.level {
                        Level::Denied => "(no policy permits)".to_owned(),
                        Level::Pseudonymized | Level::Masked | Level::Raw => String::new(),
                    }
                } else {
                    r.policies.join(", ")
                };
                writeln!(
                    out,
                    "{:wp$}  {:wc$}  {:12}  {:13}  {}",
                    r.principal,
                    column,
                    r.jurisdiction.as_str(),
                    level,
                    policies
                )?;
            }
            writeln!(
                out,
                "\n{} cells; {cross} with personal data read raw across a border (RAW ACROSS!: the principal's country is not the data subject's jurisdiction)",
                rows.len()
            )?;
        }
    }
    Ok(())
}

/// One side of a diff: a whole configuration (a directory with kamei.toml, or a kamei.toml), or
/// a policy file over the catalog and principals of `--config`.
fn diff_side(config: &ConfigArgs, path: &Path) -> anyhow::Result<Config> {
    let whole = if path.is_dir() {
        Some(path.join("kamei.toml"))
    } else if path.extension().is_some_and(|e| e == "toml") {
        Some(path.to_owned())
    } else {
        None
    };
    match whole {
        Some(toml) => Ok(Config::load(&toml)?),
        None => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))?;
            Ok(load_config(config)?.with_policies(&path.display().to_string(), &text)?)
        }
    }
}

fn diff(config: &ConfigArgs, old: &Path, new: &Path) -> anyhow::Result<ExitCode> {
    let old_config = diff_side(config, old)?;
    let new_config = diff_side(config, new)?;
    let changes = new_config.exposure_changes_since(&old_config);
    let owners = new_config.review_changes_since(&old_config);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut gains: Vec<(&str, usize)> = Vec::new();
    for ch in &changes {
        let (sign, verb, level, other, was) = if ch.increases() {
            ('+', "gains", ch.new, ch.old, "was")
        } else {
            ('-', "loses", ch.old, ch.new, "now")
        };
        let by = if ch.policies.is_empty() {
            "no policy permits".to_owned()
        } else {
            ch.policies.join(", ")
        };
        writeln!(
            out,
            "{sign} {} {verb} {level} ({was} {other}) on {}.{} for {} subjects [{by}]",
            ch.principal, ch.table, ch.column, ch.jurisdiction
        )?;
        if ch.increases() {
            match gains.iter_mut().find(|(p, _)| *p == ch.principal) {
                Some((_, n)) => *n += 1,
                None => gains.push((&ch.principal, 1)),
            }
        }
    }
    for o in &owners {
        writeln!(
            out,
            "! {o} (each cell follows its people's levels: review as a widening)"
        )?;
    }
    out.flush()?;
    drop(out);
    if !owners.is_empty() {
        eprintln!(
            "kamei: whose data {} column(s) are changed; exposure may grow",
            owners.len()
        );
        return Ok(ExitCode::from(1));
    }
    if changes.is_empty() {
        println!("no exposure changes");
        return Ok(ExitCode::SUCCESS);
    }
    if gains.is_empty() {
        println!("{} cells less exposed; no exposure increases", changes.len());
        return Ok(ExitCode::SUCCESS);
    }
    let who: Vec<String> = gains.iter().map(|(p, n)| format!("{p} ({n} cells)")).collect();
    eprintln!("kamei: exposure increases for {}", who.join(", "));
    Ok(ExitCode::from(1))
}

fn explain(config: &Config, principal: &str, column: &str, jurisdiction: &str) -> anyhow::Result<ExitCode> {
    let (table, col) = column
        .split_once('.')
        .ok_or_else(|| kamei_policy::PolicyError::NotTableColumn(column.to_owned()))?;
    let decision = config.explain(principal, table, col, jurisdiction)?;
    let p = config
        .principal(principal)
        .ok_or_else(|| kamei_policy::PolicyError::UnknownPrincipal(principal.to_owned()))?;
    let category = config
        .catalog()
        .table(table)
        .and_then(|t| t.columns.iter().find(|c| c.name == col))
        .map(|c| c.category.to_string())
        .unwrap_or_default();
    println!(
        "principal   {} (org {}, country {}, roles {})",
        p.name,
        p.org,
        p.country,
        p.roles.join(", ")
    );
    println!("data        {table}.{col} ({category}) of {jurisdiction} subjects");
    let cross = if decision.level == Level::Raw && p.country.as_str() != jurisdiction {
        "  (raw across a border)"
    } else {
        ""
    };
    println!("level       {}{cross}", decision.level);
    if decision.policies.is_empty() {
        println!("decided by  no policy permits any action (default deny)");
    } else {
        println!("decided by  {}", decision.policies.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}
