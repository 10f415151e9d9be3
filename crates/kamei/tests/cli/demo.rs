//! `kamei demo incident`: a new directory with the configuration, the log and the reports;
//! never over a directory that holds anything.

use crate::kamei;
use std::path::Path;

fn demo(out: &Path) -> std::process::Output {
    kamei()
        .args(["demo", "incident", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn demo_incident_writes_the_log_the_configuration_and_the_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("incident");
    let run = demo(&out);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("cn_contractor (ldt-shanghai, CN) read"),
        "{stdout}"
    );
    // Nothing but the directory beside it: the temporary directory was renamed.
    assert_eq!(names(tmp.path()), ["incident"]);
    assert_eq!(
        names(&out),
        [
            "audit",
            "catalog.toml",
            "kamei.toml",
            "policies-too-broad.cedar",
            "policies.cedar",
            "principals.toml",
            "reports"
        ]
    );
    let incident = kamei_report::incident::write_incident(
        &tmp.path().join("again"),
        &kamei_policy::Config::demo().unwrap(),
        kamei_report::incident::SEED,
    )
    .unwrap();
    let subject = incident.contractor_subject().unwrap();
    let reports = names(&out.join("reports"));
    let mut want: Vec<String> = ["exposure", "access-ldt-shanghai", "triage-ldt-shanghai"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("subject-{subject}")])
        .flat_map(|n| [format!("{n}.json"), format!("{n}.txt")])
        .chain(["access-ldt-shanghai.html".to_owned()])
        .collect();
    want.sort();
    assert_eq!(reports, want);
    let triage: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("reports/triage-ldt-shanghai.json")).unwrap())
            .unwrap();
    assert_eq!(triage["statements"], incident.contractor_reads.len() as u64);
    assert_eq!(triage["principals"][0]["org"], "ldt-shanghai");
    let text = std::fs::read_to_string(out.join("reports/triage-ldt-shanghai.txt")).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("Decision support, not legal advice")
    );

    // The log verifies, and the written configuration finds it (kamei.toml's audit log).
    let verify = kamei()
        .args(["audit", "verify", "--log"])
        .arg(out.join("audit"))
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let again = kamei()
        .args(["report", "triage", "--config"])
        .arg(out.join("kamei.toml"))
        .arg("--log")
        .arg(out.join("audit"))
        .args([
            "--org",
            "ldt-shanghai",
            "--discovered",
            "2026-03-16T10:00:00+09:00",
        ])
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&again.stdout), text);

    // An existing empty directory is fine.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(demo(&empty).status.success());
    assert!(empty.join("audit").is_dir());
}

#[test]
fn demo_incident_refuses_a_directory_that_holds_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("taken");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let run = demo(&out);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("kamei: error: `") && stderr.contains("taken` is not empty"),
        "{stderr}"
    );
    assert!(run.stdout.is_empty());
    // Nothing written, nothing left beside it.
    assert_eq!(names(&out), ["notes.txt"]);
    assert_eq!(names(tmp.path()), ["taken"]);
    // A file where the directory should be.
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let run = demo(&file);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("choose another --out"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}
