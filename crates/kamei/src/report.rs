//! `kamei report …` (issue 18): the reports a privacy officer hands to a panel, a regulator or
//! a user. The reports themselves are in kamei-report; this prints them.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::policy::{ConfigArgs, load_config};

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// Who can read which categories of whose personal data at which level, and the policies that grant it:
    /// cross-border grants and raw identifiers first (the register of foreign access).
    Exposure {
        #[command(flatten)]
        config: ConfigArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Who read whose personal data, from the audit log: per principal the distinct subjects per category,
    /// jurisdiction and level, first and last read, a timeline, raw reads across borders and denied attempts.
    Access {
        /// The audit log directory.
        #[arg(long)]
        log: PathBuf,
        /// The catalog that gives each column's category.
        #[command(flatten)]
        config: ConfigArgs,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        trust: TrustArgs,
        /// Output format (json embeds the signed checkpoint and a proof per cited record; html is a
        /// self-contained page with charts that embeds the same JSON).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Breach triage (decision support, not legal advice): for a selection of the log, whether Japan's duty to
    /// report to the PPC is triggered (APPI Art. 26, Rules Art. 7), subjects per jurisdiction, the other markets'
    /// rules, and deadlines from --discovered.
    Triage {
        /// The audit log directory.
        #[arg(long)]
        log: PathBuf,
        /// The configuration now in force: the catalog's categories, and the grants reads are compared with.
        /// Without it, the configuration the log's last configure record names, if that is the built-in demo one;
        /// otherwise the triage refuses.
        #[command(flatten)]
        config: ConfigArgs,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        trust: TrustArgs,
        /// When the operator learned of the situation (RFC 3339 such as 2026-03-16T10:00:00+09:00; a date alone is
        /// midnight UTC); every deadline runs from it.
        #[arg(long)]
        discovered: String,
        /// The investigator finds the access may have been an act with an improper purpose (APPI Rules Art. 7(iii)):
        /// the duty is triggered whatever the count, and the final report is due in 60 days.
        #[arg(long)]
        unauthorized: bool,
        /// Output format (json embeds the signed checkpoint and a leaf and proof per cited record).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Reads to look at before anyone asks, each with its records and their proofs: bulk reads (an hour's distinct
    /// subjects far above the principal's own or its peers' hourly median, by robust z-score), a principal's first
    /// record from a new country, raw reads outside 09:00-19:00 Monday to Friday in the principal's country, and
    /// narrow probing (many selective predicates on one protected column within a day).
    Anomalies {
        /// The audit log directory.
        #[arg(long)]
        log: PathBuf,
        /// The catalog that gives each column's category.
        #[command(flatten)]
        config: ConfigArgs,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        trust: TrustArgs,
        /// Output format (json embeds the signed checkpoint and a leaf and proof per cited record).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// One data subject's access history (Japanese and English), each record with its inclusion proof
    /// against the log's signed checkpoint: what a support team hands to the person who asked.
    Subject {
        /// The audit log directory.
        #[arg(long)]
        log: PathBuf,
        /// The subject key (e.g. users.user_id).
        #[arg(long)]
        subject: String,
        #[command(flatten)]
        trust: TrustArgs,
        /// Output format (json carries each record's leaf and proof, for an independent verifier).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

/// Which records a report over the log covers; every option given must match.
#[derive(Debug, clap::Args)]
pub struct FilterArgs {
    /// Records at or after this time (RFC 3339, or a date: midnight UTC).
    #[arg(long)]
    since: Option<String>,
    /// Records before this time.
    #[arg(long)]
    until: Option<String>,
    /// Only this principal's records.
    #[arg(long)]
    principal: Option<String>,
    /// Only principals of this organisation.
    #[arg(long)]
    org: Option<String>,
    /// Only principals in this country (ISO 3166-1 alpha-2).
    #[arg(long)]
    country: Option<String>,
}

impl FilterArgs {
    fn filter(self) -> anyhow::Result<kamei_report::AccessFilter> {
        if let Some(c) = self.country.as_deref()
            && !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            anyhow::bail!("--country `{c}`: expected an ISO 3166-1 alpha-2 code such as CN");
        }
        Ok(kamei_report::AccessFilter {
            since: crate::audit::time_arg("since", self.since.as_deref())?,
            until: crate::audit::time_arg("until", self.until.as_deref())?,
            principal: self.principal,
            org: self.org,
            country: self.country,
        })
    }
}

/// Whether a report over the log verifies it first.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// Report on the log without verifying it (a damaged log, or to save the verification's time); the report
    /// then says so on its first line and in its JSON (`verification`).
    #[arg(long, conflicts_with_all = ["vkey", "checkpoint"])]
    unverified: bool,
    /// The log's verifier key as you hold it, from outside the log (a `key.vkey` kept when the log was set up):
    /// without it the log is verified against the key in its own directory, which whoever rewrote the log could
    /// have replaced, and the report says so.
    #[arg(long, value_name = "FILE")]
    vkey: Option<PathBuf>,
    /// A checkpoint you saved earlier (a copy of the log's `checkpoint`): the log must still extend it, so a
    /// history truncated or rewritten since is found.
    #[arg(long, value_name = "FILE", requires = "vkey")]
    checkpoint: Option<PathBuf>,
}

impl TrustArgs {
    pub fn check(&self) -> anyhow::Result<kamei_report::LogCheck> {
        if self.unverified {
            return Ok(kamei_report::LogCheck::Skip);
        }
        let Some(vkey) = &self.vkey else {
            return Ok(kamei_report::LogCheck::Verify);
        };
        let read = |p: &PathBuf, what: &str| {
            std::fs::read(p).with_context(|| format!("cannot read {what} `{}`; check the path", p.display()))
        };
        let key = String::from_utf8(read(vkey, "--vkey")?)
            .with_context(|| format!("--vkey `{}` is not a verifier key (text)", vkey.display()))?;
        let saved = self
            .checkpoint
            .as_ref()
            .map(|p| read(p, "--checkpoint"))
            .transpose()?;
        Ok(kamei_report::LogCheck::Anchored { vkey: key, saved })
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// A self-contained page (inline CSS and SVG, no scripts, no fetches); `report access` only.
    Html,
}

/// The reports that have no HTML form yet say so rather than print something else.
fn no_html(format: Format, report: &str) -> anyhow::Result<()> {
    match format {
        Format::Html => anyhow::bail!(
            "--format html: `kamei report {report}` has no HTML form yet; use table or json (html: `kamei report access`)"
        ),
        Format::Table | Format::Json => Ok(()),
    }
}

pub fn run(cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReportCommand::Exposure { config, format } => {
            no_html(format, "exposure")?;
            exposure(&load_config(&config)?, format)
        }
        ReportCommand::Access {
            log,
            config,
            filter,
            trust,
            format,
        } => {
            crate::audit::require_log(&log)?;
            let filter = filter.filter()?;
            let config = load_config(&config)?;
            let storage = kamei_audit::LocalDir::new(&log)?;
            let report =
                kamei_report::access_report_with(&storage, config.catalog(), &filter, &trust.check()?)?;
            if let Format::Html = format {
                let page = kamei_report::access_html(&report)?;
                crate::policy::ok_on_broken_pipe(std::io::stdout().lock().write_all(page.as_bytes()))?;
                return Ok(ExitCode::SUCCESS);
            }
            print(
                format,
                || serde_json::to_string_pretty(&report),
                || warned(&report.verification, kamei_report::access_text(&report)),
            )
        }
        ReportCommand::Triage {
            log,
            config,
            filter,
            discovered,
            unauthorized,
            trust,
            format,
        } => {
            no_html(format, "triage")?;
            let discovered = crate::audit::time_arg("discovered", Some(&discovered))?
                .context("--discovered: expected RFC 3339 such as 2026-03-16T10:00:00+09:00")?;
            refuse_future_discovery(discovered)?;
            crate::audit::require_log(&log)?;
            let filter = filter.filter()?;
            let storage = kamei_audit::LocalDir::new(&log)?;
            let verification = kamei_report::check_log(&storage, &trust.check()?)?;
            // No silent demo fallback: without --config the triage compares with what the log
            // says was last in force, and refuses what it cannot rebuild.
            let (config, compared) = match &config.config {
                Some(path) => {
                    let c = kamei_policy::Config::load(path)?;
                    let compared = kamei_report::Compared::of(&c, format!("--config {}", path.display()));
                    (c, compared)
                }
                None => {
                    let demo = kamei_policy::Config::demo()?;
                    let compared = kamei_report::config_from_log(&storage, &demo)?;
                    (demo, compared)
                }
            };
            let facts = kamei_report::TriageFacts {
                discovered,
                unauthorized,
            };
            let triage = kamei_report::triage(&storage, &config, compared, &filter, facts)?;
            print(
                format,
                || json_with(&verification, serde_json::to_value(&triage)),
                || warned(&verification, kamei_report::triage_text(&triage)),
            )
        }
        ReportCommand::Anomalies {
            log,
            config,
            filter,
            trust,
            format,
        } => {
            no_html(format, "anomalies")?;
            crate::audit::require_log(&log)?;
            let filter = filter.filter()?;
            let config = load_config(&config)?;
            let storage = kamei_audit::LocalDir::new(&log)?;
            let verification = kamei_report::check_log(&storage, &trust.check()?)?;
            let report = kamei_report::anomalies(
                &storage,
                config.catalog(),
                &filter,
                kamei_report::Thresholds::default(),
            )?;
            print(
                format,
                || json_with(&verification, serde_json::to_value(&report)),
                || warned(&verification, kamei_report::anomalies_text(&report)),
            )
        }
        ReportCommand::Subject {
            log,
            subject,
            trust,
            format,
        } => {
            no_html(format, "subject")?;
            let key: u64 = subject.trim().parse().with_context(|| {
                format!("--subject `{subject}`: expected a subject key, a whole number such as 42")
            })?;
            crate::audit::require_log(&log)?;
            let storage = kamei_audit::LocalDir::new(&log)?;
            let history = kamei_report::subject_history_with(&storage, key, &trust.check()?)?;
            print(
                format,
                || serde_json::to_string_pretty(&history),
                || warned(&history.verification, kamei_report::subject_text(&history)),
            )
        }
    }
}

/// A report's text, after the line that says it was not verified, if it was not.
pub(crate) fn warned(verification: &kamei_report::Verification, text: String) -> String {
    match verification.warning() {
        Some(line) => format!("{line}\n{text}"),
        None => text,
    }
}

/// A report's JSON with what was verified of the log, for reports that do not carry it.
fn json_with(
    verification: &kamei_report::Verification,
    report: serde_json::Result<serde_json::Value>,
) -> serde_json::Result<String> {
    let mut value = report?;
    if let serde_json::Value::Object(fields) = &mut value {
        fields.insert("verification".into(), serde_json::to_value(verification)?);
    }
    serde_json::to_string_pretty(&value)
}

/// A discovery in the future is a mistyped date (a year, or a UTC offset): its deadlines would
/// look valid and be wrong, so the triage refuses it rather than warn. A day of slack allows a
/// date written in a zone ahead of the clock's.
fn refuse_future_discovery(discovered: kamei_audit::Timestamp) -> anyhow::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if discovered.secs > now.saturating_add(86_400) {
        anyhow::bail!(
            "--discovered `{discovered}` is in the future; give the time the operator learned of the situation"
        );
    }
    Ok(())
}

/// Prints a report as JSON or as text.
fn print(
    format: Format,
    json: impl FnOnce() -> serde_json::Result<String>,
    text: impl FnOnce() -> String,
) -> anyhow::Result<ExitCode> {
    let out = match format {
        Format::Json => format!("{}\n", json()?),
        Format::Table | Format::Html => text(),
    };
    crate::policy::ok_on_broken_pipe(std::io::stdout().lock().write_all(out.as_bytes()))?;
    Ok(ExitCode::SUCCESS)
}

fn exposure(config: &kamei_policy::Config, format: Format) -> anyhow::Result<ExitCode> {
    let grants = kamei_report::exposure(config);
    let mut out = std::io::stdout().lock();
    if let Format::Json = format {
        crate::policy::ok_on_broken_pipe(writeln!(out, "{}", serde_json::to_string_pretty(&grants)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::policy::ok_on_broken_pipe(out.write_all(exposure_text(config, &grants).as_bytes()))?;
    Ok(ExitCode::SUCCESS)
}

/// The exposure register for a terminal: cross-border grants and raw identifiers first.
pub(crate) fn exposure_text(config: &kamei_policy::Config, grants: &[kamei_report::Grant]) -> String {
    let first = grants.iter().filter(|g| g.first()).count();
    let mut text = format!(
        "Exposure register: {} principals, policies from {}; {} grants of personal data\n",
        config.principals().len(),
        config.policies_file(),
        grants.len()
    );
    for (title, part) in [
        (
            format!("Across borders, and raw identifiers ({first})"),
            grants.iter().filter(|g| g.first()).collect::<Vec<_>>(),
        ),
        (
            format!("Within the principal's country ({})", grants.len() - first),
            grants.iter().filter(|g| !g.first()).collect(),
        ),
    ] {
        text.push_str(&format!("\n{title}\n"));
        let rows: Vec<[String; 8]> = part
            .iter()
            .map(|g| {
                [
                    g.principal.clone(),
                    g.org.clone(),
                    g.country.to_string(),
                    g.category.to_string(),
                    g.jurisdiction.map_or("other".to_owned(), |j| j.to_string()),
                    format!(
                        "{}{}",
                        g.level,
                        if g.cross_border && g.level == kamei_core::Level::Raw {
                            " ACROSS!"
                        } else {
                            ""
                        }
                    ),
                    g.columns.join(" "),
                    g.policies.join(" "),
                ]
            })
            .collect();
        let header = [
            "principal",
            "org",
            "country",
            "category",
            "subjects in",
            "level",
            "columns",
            "decided by",
        ];
        let widths: Vec<usize> = (0..8)
            .map(|i| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([header[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[&str]| {
            let mut l = String::from(" ");
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    l.push_str(&format!(" {c}"));
                } else {
                    l.push_str(&format!(" {c:<w$}", w = widths[i]));
                }
            }
            l.push('\n');
            l
        };
        text.push_str(&line(&header));
        for r in &rows {
            text.push_str(&line(&r.iter().map(String::as_str).collect::<Vec<_>>()));
        }
    }
    text
}
