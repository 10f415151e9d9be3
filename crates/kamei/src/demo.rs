//! `kamei demo incident --out DIR`: the story the reports exist for, in one directory. DIR
//! gets the demo configuration (`kamei init`'s files, so that `--config DIR/kamei.toml` finds
//! the log at DIR/audit), the policies of the too-broad weeks, the incident's audit log, and
//! the reports a privacy officer would make from it, as text and JSON.
//!
//! Everything is written into a temporary directory beside DIR and renamed into place at the
//! end, so DIR is either absent (or as empty as it was) or complete; an existing non-empty DIR
//! is refused before anything is written.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use kamei_report::incident::{CONTRACTOR, SEED, too_broad_policies, write_incident};

#[derive(Debug, clap::Subcommand)]
pub enum DemoCommand {
    /// Write the demo incident into a new directory: an audit log of twelve weeks in which an overseas
    /// contractor read Japanese users' data (two of them under a too-broad policy), the configuration, and the
    /// exposure, access, triage and subject reports made from it.
    Incident {
        /// The directory to create; it must not exist or be empty.
        #[arg(long)]
        out: PathBuf,
    },
}

/// The contractor's organisation, whose access and triage reports the demo writes.
const ORG: &str = "ldt-shanghai";
/// When the demo operator learned of the incident: the Monday after the contractor's last read.
const DISCOVERED: &str = "2026-03-16T10:00:00+09:00";

pub fn run(cmd: DemoCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DemoCommand::Incident { out } => incident(&out),
    }
}

/// Refuses a DIR that holds anything: the demo never mixes its files with others.
fn require_empty(dir: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                anyhow::bail!(
                    "`{}` is not empty; kamei demo incident writes only into a new or empty directory (choose another --out)",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if dir.exists() => anyhow::bail!(
            "`{}` exists and is not a directory that can be read; choose another --out",
            dir.display()
        ),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", dir.display())),
    }
}

/// Writes `text` to `path` (in the temporary directory) and syncs it.
fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

fn incident(out: &Path) -> anyhow::Result<ExitCode> {
    require_empty(out)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".kamei-demo-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in `{}`", parent.display()))?;
    let dir = tmp.path();
    let written = write_all(dir)?;
    // The directory's entries must be durable before the rename makes them visible.
    std::fs::File::open(dir).and_then(|d| d.sync_all()).ok();
    let dir = tmp.keep();
    if let Err(e) = std::fs::rename(&dir, out) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e).with_context(|| {
            format!(
                "cannot move the demo into `{}` (did something write there meanwhile?)",
                out.display()
            )
        });
    }
    println!("wrote the demo incident to {}:", out.display());
    for (name, what) in &written.files {
        println!("  {name:<34} {what}");
    }
    println!("{}", written.headline);
    println!(
        "try: kamei report triage --config {0}/kamei.toml --log {0}/audit --org {ORG} --discovered {DISCOVERED}",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

struct Written {
    files: Vec<(String, &'static str)>,
    headline: String,
}

/// Writes the configuration, the log and the reports into `dir`.
fn write_all(dir: &Path) -> anyhow::Result<Written> {
    let mut files = Vec::new();
    for (name, text) in kamei_policy::DEMO_FILES {
        write(&dir.join(name), text)?;
        files.push((name.to_owned(), "the demo configuration (kamei init)"));
    }
    write(&dir.join("policies-too-broad.cedar"), &too_broad_policies())?;
    files.push((
        "policies-too-broad.cedar".into(),
        "the policies in force 2026-02-16 to 2026-02-27",
    ));
    let config = kamei_policy::Config::demo()?;
    let log = dir.join("audit");
    let incident = write_incident(&log, &config, SEED)?;
    files.push(("audit/".into(), "the audit log (kamei audit verify --log …)"));

    let reports = dir.join("reports");
    std::fs::create_dir(&reports).with_context(|| format!("cannot create `{}`", reports.display()))?;
    let mut report = |name: String, text: String, json: String, what: &'static str| -> anyhow::Result<()> {
        write(&reports.join(format!("{name}.txt")), &text)?;
        write(&reports.join(format!("{name}.json")), &json)?;
        files.push((format!("reports/{name}.txt, .json"), what));
        Ok(())
    };
    let grants = kamei_report::exposure(&config);
    report(
        "exposure".into(),
        crate::report::exposure_text(&config, &grants),
        format!("{}\n", serde_json::to_string_pretty(&grants)?),
        "who may read what (kamei report exposure)",
    )?;
    let storage = kamei_audit::LocalDir::new(&log)?;
    let filter = kamei_report::AccessFilter {
        org: Some(ORG.into()),
        ..kamei_report::AccessFilter::default()
    };
    let access = kamei_report::access_report(&storage, config.catalog(), &filter)?;
    report(
        format!("access-{ORG}"),
        kamei_report::access_text(&access),
        format!("{}\n", serde_json::to_string_pretty(&access)?),
        "what the contractor read (kamei report access)",
    )?;
    let facts = kamei_report::TriageFacts {
        discovered: kamei_audit::Timestamp::parse(DISCOVERED).context("the demo's discovery time")?,
        unauthorized: false,
    };
    let triage = kamei_report::triage(&storage, &config, &filter, facts)?;
    report(
        format!("triage-{ORG}"),
        kamei_report::triage_text(&triage),
        format!("{}\n", serde_json::to_string_pretty(&triage)?),
        "whether it must be reported (kamei report triage)",
    )?;
    let subject = incident
        .contractor_subject()
        .context("the demo incident has no subject whose phone the contractor read raw (a bug in kamei)")?;
    let history = kamei_report::subject_history(&storage, subject)?;
    report(
        format!("subject-{subject}"),
        kamei_report::subject_text(&history),
        format!("{}\n", serde_json::to_string_pretty(&history)?),
        "one user's own access history (kamei report subject)",
    )?;
    write(
        &reports.join(format!("access-{ORG}.html")),
        &kamei_report::access_html(&access)?,
    )?;
    files.push((
        format!("reports/access-{ORG}.html"),
        "what the contractor read, as a page with charts (--format html)",
    ));
    let jp = triage.subjects.iter().find(|a| a.jurisdiction == "JP");
    let headline = format!(
        "{CONTRACTOR} ({ORG}, CN) read {} statements from {} to {}: {} JP subjects readable, {} only as pseudonyms; Japan's reporting duty: {}",
        triage.statements,
        triage.first.as_deref().unwrap_or("-"),
        triage.last.as_deref().unwrap_or("-"),
        jp.map_or(0, |a| a.readable),
        jp.map_or(0, |a| a.pseudonymized_only),
        triage.japan.finding.label()
    );
    Ok(Written { files, headline })
}
