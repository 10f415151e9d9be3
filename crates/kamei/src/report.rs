//! `kamei report …` (issue 18): the reports a privacy officer hands to a panel, a regulator or
//! a user. The reports themselves are in kamei-report; this prints them.

use std::io::Write as _;
use std::process::ExitCode;

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
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub fn run(cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReportCommand::Exposure { config, format } => exposure(&load_config(&config)?, format),
    }
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
