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
        /// Output format (json embeds the signed checkpoint and a proof per cited record).
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
        /// Output format (json carries each record's leaf and proof, for an independent verifier).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub fn run(cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReportCommand::Exposure { config, format } => exposure(&load_config(&config)?, format),
        ReportCommand::Access {
            log,
            config,
            since,
            until,
            principal,
            org,
            country,
            format,
        } => {
            crate::audit::require_log(&log)?;
            if let Some(c) = country.as_deref()
                && !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
            {
                anyhow::bail!("--country `{c}`: expected an ISO 3166-1 alpha-2 code such as CN");
            }
            let filter = kamei_report::AccessFilter {
                principal,
                org,
                country,
                since: crate::audit::time_arg("since", since.as_deref())?,
                until: crate::audit::time_arg("until", until.as_deref())?,
            };
            let config = load_config(&config)?;
            let storage = kamei_audit::LocalDir::new(&log)?;
            let report = kamei_report::access_report(&storage, config.catalog(), &filter)?;
            print(
                format,
                || serde_json::to_string_pretty(&report),
                || kamei_report::access_text(&report),
            )
        }
        ReportCommand::Subject { log, subject, format } => {
            let key: u64 = subject.trim().parse().with_context(|| {
                format!("--subject `{subject}`: expected a subject key, a whole number such as 42")
            })?;
            crate::audit::require_log(&log)?;
            let storage = kamei_audit::LocalDir::new(&log)?;
            let history = kamei_report::subject_history(&storage, key)?;
            print(
                format,
                || serde_json::to_string_pretty(&history),
                || kamei_report::subject_text(&history),
            )
        }
    }
}

/// Prints a report as JSON or as text.
fn print(
    format: Format,
    json: impl FnOnce() -> serde_json::Result<String>,
    text: impl FnOnce() -> String,
) -> anyhow::Result<ExitCode> {
    let out = match format {
        Format::Json => format!("{}\n", json()?),
        Format::Table => text(),
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
    crate::policy::ok_on_broken_pipe(out.write_all(text.as_bytes()))?;
    Ok(ExitCode::SUCCESS)
}
