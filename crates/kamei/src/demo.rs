//! `kamei demo incident --out DIR`: the story the reports exist for, in one directory. DIR
//! gets the demo configuration (`kamei init`'s files, so that `--config DIR/kamei.toml` finds
//! the log at DIR/audit), the policies of the too-broad weeks, the incident's audit log, and
//! the reports a privacy officer would make from it (exposure, access, triage, anomalies,
//! subject), as text and JSON.
//!
//! Everything is written into a temporary directory beside DIR, synced, and renamed into place
//! at the end, so DIR is either absent or complete. DIR must not exist (an empty directory
//! would be replaced by the rename and lose its mode, owner and ACLs), its parent must, and
//! `.`, `..` and symlinks are refused before anything is written. On an error the temporary
//! directory is removed; a kill partway leaves a `.kamei-demo-*` directory in the parent.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use kamei_report::incident::{CONTRACTOR, SEED, too_broad_policies, write_incident};

#[derive(Debug, clap::Subcommand)]
pub enum DemoCommand {
    /// Write the demo incident into a new directory: an audit log of twelve weeks in which an overseas
    /// contractor read Japanese users' data (two of them under a too-broad policy), the configuration, and the
    /// exposure, access, triage, anomalies and subject reports made from it.
    Incident {
        /// The directory to create; it must not exist (its parent must).
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

/// Refuses any DIR that exists (a directory, a file, a symlink even dangling), `.` and `..`, and
/// a DIR whose parent is missing, before anything is written; returns the parent.
fn check_out(out: &Path) -> anyhow::Result<&Path> {
    // Read from the text: `components` drops a trailing `.`, so `DIR/.` would pass as DIR.
    let text = out.to_string_lossy();
    let last = text.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let Some(std::path::Component::Normal(_)) = out
        .components()
        .next_back()
        .filter(|_| !matches!(last, "" | "." | ".."))
    else {
        anyhow::bail!(
            "--out `{}`: name a new directory (not `.`, `..` or `/`)",
            out.display()
        );
    };
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot look at `{}`", out.display())),
        Ok(m) => anyhow::bail!(
            "`{}` exists ({}); kamei demo incident creates its directory itself so that it appears whole: choose a new --out",
            out.display(),
            if m.file_type().is_symlink() {
                "a symlink"
            } else if m.is_dir() {
                "a directory"
            } else {
                "a file"
            }
        ),
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !std::fs::metadata(parent).is_ok_and(|m| m.is_dir()) {
        anyhow::bail!(
            "--out `{}`: the parent directory `{}` does not exist; create it first",
            out.display(),
            parent.display()
        );
    }
    Ok(parent)
}

/// Makes a directory's entries durable (they are names in it, not in the files).
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync `{}`", dir.display()))
}

/// Writes `text` to `path` (in the temporary directory) and syncs it.
fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

fn incident(out: &Path) -> anyhow::Result<ExitCode> {
    let parent = check_out(out)?;
    let tmp = tempfile::Builder::new()
        .prefix(".kamei-demo-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in `{}`", parent.display()))?;
    // An error from here on drops `tmp`, which removes the temporary directory.
    let written = write_all(tmp.path())?;
    for d in [
        tmp.path().join("audit"),
        tmp.path().join("reports"),
        tmp.path().to_owned(),
    ] {
        sync_dir(&d)?;
    }
    // Checked again: something may have appeared at DIR while the demo was written, and a
    // rename onto an empty directory would replace it.
    check_out(out)?;
    let dir = tmp.keep();
    if let Err(e) = std::fs::rename(&dir, out) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e).with_context(|| format!("cannot move the demo into `{}`", out.display()));
    }
    sync_dir(parent)?;
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
    let compared = kamei_report::config_from_log(&storage, &config)?;
    let triage = kamei_report::triage(&storage, &config, compared, &filter, facts)?;
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
    let anomalies = kamei_report::anomalies(
        &storage,
        config.catalog(),
        &kamei_report::AccessFilter::default(),
        kamei_report::Thresholds::default(),
    )?;
    report(
        "anomalies".into(),
        kamei_report::anomalies_text(&anomalies),
        format!("{}\n", serde_json::to_string_pretty(&anomalies)?),
        "reads to look at in the whole log (kamei report anomalies)",
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
