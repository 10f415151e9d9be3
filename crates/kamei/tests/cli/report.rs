//! `kamei report access`, `kamei report subject` and `kamei report triage` end to end, on the
//! demo incident.

use crate::kamei;
use std::path::Path;
use std::process::Command;

fn incident(dir: &Path) -> kamei_report::incident::Incident {
    let config = kamei_policy::Config::demo().unwrap();
    kamei_report::incident::write_incident(&dir.join("audit"), &config, 11).unwrap()
}

fn run(args: &[&str]) -> std::process::Output {
    kamei().args(args).output().unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn report_access_prints_the_contractor_and_report_subject_proofs_verify_independently() {
    let dir = tempfile::tempdir().unwrap();
    let incident = incident(dir.path());
    let log = dir.path().join("audit");
    let log = log.to_str().unwrap();

    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "report",
        "access",
        "--log",
        log,
        "--country",
        "CN",
        "--format",
        "json",
    ]))
    .unwrap();
    let principals = json["principals"].as_array().unwrap();
    assert_eq!(principals.len(), 1);
    let c = &principals[0];
    assert_eq!(c["principal"], "cn_contractor");
    assert_eq!(c["statements"], incident.contractor_reads.len() as u64);
    assert_eq!(c["first"], incident.contractor_first.as_str());
    assert_eq!(
        c["cross_border_raw"].as_array().unwrap().len(),
        incident.contractor_raw_reads.len()
    );
    assert!(
        json["checkpoint"]["note"]
            .as_str()
            .unwrap()
            .starts_with("kamei.local/audit\n")
    );

    let text = stdout_of(&[
        "report",
        "access",
        "--log",
        log,
        "--since",
        "2026-02-16",
        "--until",
        "2026-02-28",
    ]);
    assert!(
        text.contains("cn_contractor (org ldt-shanghai, country CN)"),
        "{text}"
    );
    assert!(text.contains("raw reads across the border"), "{text}");

    let subject = *incident
        .contractor_jp
        .values()
        .next()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let subject = subject.to_string();
    let report = dir.path().join("subject.json");
    std::fs::write(
        &report,
        stdout_of(&[
            "report",
            "subject",
            "--log",
            log,
            "--subject",
            &subject,
            "--format",
            "json",
        ]),
    )
    .unwrap();
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/verifier/verify.py"))
        .args(["report", "--vkey"])
        .arg(dir.path().join("audit/key.vkey"))
        .arg("--report")
        .arg(&report)
        .output()
        .expect("python3 runs");
    let said = String::from_utf8_lossy(&out.stdout);
    let touched = incident.touched[&subject.parse::<u64>().unwrap()].len();
    assert_eq!(said.trim(), format!("OK {touched} records"));

    let text = stdout_of(&["report", "subject", "--log", log, "--subject", &subject]);
    assert!(
        text.starts_with("個人データのアクセス履歴 / Access history of your personal data\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("対象者 / Data subject: {subject}\n")),
        "{text}"
    );
    assert!(text.contains("cn_contractor (ldt-shanghai, CN)"), "{text}");
}

#[test]
fn bad_arguments_and_unknown_subjects_get_one_line_and_a_failing_exit() {
    let dir = tempfile::tempdir().unwrap();
    incident(dir.path());
    let log = dir.path().join("audit");
    let log = log.to_str().unwrap();
    let cases: [(&[&str], &str); 11] = [
        (
            &["report", "triage", "--log", log, "--discovered", "2999-01-01"],
            "--discovered `2999-01-01T00:00:00Z` is in the future",
        ),
        (
            &["report", "triage", "--log", log, "--discovered", "1900-01-01"],
            "more than a year before the selection's first read",
        ),
        (
            &["report", "triage", "--log", log, "--discovered", "last week"],
            "--discovered `last week`",
        ),
        (
            &[
                "report",
                "triage",
                "--log",
                log,
                "--org",
                "no-such-org",
                "--discovered",
                "2026-03-16",
            ],
            "no record in the log matches the selection",
        ),
        (
            &[
                "report",
                "triage",
                "--log",
                "/nonexistent/audit",
                "--discovered",
                "2026-03-16",
            ],
            "no audit log at",
        ),
        (
            &["report", "access", "--log", log, "--since", "yesterday"],
            "--since `yesterday`",
        ),
        (
            &["report", "access", "--log", log, "--country", "China"],
            "--country `China`",
        ),
        (
            &["report", "access", "--log", "/nonexistent/audit"],
            "no audit log at `/nonexistent/audit`",
        ),
        (
            &["report", "subject", "--log", log, "--subject", "taro"],
            "--subject `taro`",
        ),
        (
            &["report", "subject", "--log", log, "--subject", "999999"],
            "no record in the log touched data subject `999999`",
        ),
        (
            &[
                "report",
                "subject",
                "--log",
                "/nonexistent/audit",
                "--subject",
                "1",
            ],
            "no audit log at",
        ),
    ];
    for (args, says) in cases {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("kamei: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
        assert!(errors[0].contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn report_triage_says_it_is_decision_support_and_needs_a_discovery_time() {
    let dir = tempfile::tempdir().unwrap();
    let incident = incident(dir.path());
    let log = dir.path().join("audit");
    let log = log.to_str().unwrap();
    let text = stdout_of(&[
        "report",
        "triage",
        "--log",
        log,
        "--principal",
        "cn_contractor",
        "--discovered",
        "2026-03-16T10:00:00+09:00",
        "--unauthorized",
    ]);
    let head: Vec<&str> = text.lines().take(2).collect();
    assert!(
        head[0].starts_with(
            "Breach triage / 漏えい等の報告の要否: principal cn_contractor; discovered 2026-03-16T01:00:00Z; flagged --unauthorized"
        ),
        "{text}"
    );
    assert!(
        head[1].starts_with("Decision support, not legal advice"),
        "{text}"
    );
    assert!(text.contains("(Art. 26): TRIGGERED"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "report",
        "triage",
        "--log",
        log,
        "--org",
        "ldt-shanghai",
        "--discovered",
        "2026-03-16",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["statements"], incident.contractor_reads.len() as u64);
    assert!(
        json["checkpoint"]["note"]
            .as_str()
            .unwrap()
            .starts_with("kamei.local/audit\n")
    );
    assert!(json["beyond_grant"][0]["proof"]["hashes"].is_array());
    // The text says which configuration it compared with, and how the days are counted.
    assert!(
        text.contains("Compared with: the built-in demo configuration"),
        "{text}"
    );
    assert!(
        text.contains("day the operator learned of the situation as day 1"),
        "{text}"
    );
    assert_eq!(
        json["configuration"]["decisions_sha256"].as_str().unwrap().len(),
        64
    );
    // --discovered is required: clap's usage error, exit 2.
    let out = run(&["report", "triage", "--log", log]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--discovered"));
}

/// `--format html` of the access report is a page whose evidence is the JSON report, with a
/// chart per org of the whole log; the reports without an HTML form say so in one line.
#[test]
fn report_access_as_html_embeds_the_json_report_and_other_reports_refuse_html() {
    let dir = tempfile::tempdir().unwrap();
    incident(dir.path());
    let log = dir.path().join("audit");
    let log = log.to_str().unwrap();
    let page = stdout_of(&["report", "access", "--log", log, "--format", "html"]);
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "report", "access", "--log", log, "--format", "json",
    ]))
    .unwrap();
    let start = page.find("id=\"evidence\">").unwrap() + "id=\"evidence\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    let embedded: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
    assert_eq!(embedded, json);
    // Every org of the demo log gets its chart over time.
    let orgs = json["timeline"]["orgs"].as_array().unwrap();
    assert!(orgs.len() >= 4, "{orgs:?}");
    for org in orgs {
        let name = org["org"].as_str().unwrap();
        assert!(page.contains(&format!("aria-label=\"{name}\"")), "{name}");
    }
    for report in [
        &["report", "exposure", "--format", "html"][..],
        &[
            "report",
            "subject",
            "--log",
            log,
            "--subject",
            "1",
            "--format",
            "html",
        ],
        &[
            "report",
            "triage",
            "--log",
            log,
            "--discovered",
            "2026-03-16",
            "--format",
            "html",
        ],
    ] {
        let out = run(report);
        assert!(!out.status.success(), "{report:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("has no HTML form yet") && out.stdout.is_empty(),
            "{report:?}: {stderr}"
        );
    }
}

/// Issue 18, item 7: a log that fails verification makes `report access` and `report subject`
/// refuse in one line that names the first bad entry and the way on; `--unverified` reports
/// anyway and says so on the first line.
#[test]
fn reports_refuse_a_tampered_log_unless_unverified_and_then_say_so_first() {
    let dir = tempfile::tempdir().unwrap();
    let incident = incident(dir.path());
    let audit = dir.path().join("audit");
    // One letter of record 200's statement: the leaf stays canonical JSON, only the tree knows.
    let bundle = audit.join("tile/entries/000");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let entry = kamei_audit::parse_bundle(&bytes).entries[200];
    let start = entry.as_ptr() as usize - bytes.as_ptr() as usize;
    let at = start + entry.windows(13).position(|w| w == b"\"statement\":\"").unwrap() + 13;
    bytes[at] ^= 0x01;
    std::fs::write(&bundle, bytes).unwrap();
    let log = audit.to_str().unwrap();
    let subject = incident.touched.keys().next().unwrap().to_string();
    for args in [
        vec!["report", "access", "--log", log],
        vec!["report", "subject", "--log", log, "--subject", &subject],
        vec!["report", "triage", "--log", log, "--discovered", "2026-06-01"],
        vec!["report", "anomalies", "--log", log],
    ] {
        let out = run(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err.lines().last().unwrap();
        assert!(
            line.contains("fails verification at index 200"),
            "{args:?}: {err}"
        );
        assert!(line.contains("--unverified"), "{args:?}: {err}");
        let mut unverified = args.clone();
        unverified.push("--unverified");
        let text = stdout_of(&unverified);
        assert!(text.starts_with("UNVERIFIED: "), "{args:?}: {text}");
    }
}

/// Without --config the triage compares with the log's last configure record; a log with none
/// is refused in one line naming --config, never compared with the demo silently.
#[test]
fn report_triage_without_config_needs_a_configure_record() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit");
    let input = r#"{"time":"2026-01-05T09:12:00Z","principal":"cn_contractor","org":"ldt-shanghai","country":"CN","client_addr":"127.0.0.1","action":"query","statement":"SELECT phone FROM users WHERE user_id = 42","columns":[{"table":"users","column":"phone","level":"pseudonymized"}],"rows":1,"subjects":[{"jurisdiction":"JP","level":"pseudonymized","keys":[42]}]}"#;
    let audit_log = kamei_audit::AuditLog::open(&log).unwrap();
    audit_log
        .append_input(kamei_audit::RecordInput::from_json(input).unwrap())
        .unwrap();
    audit_log.close().unwrap();
    let out = run(&[
        "report",
        "triage",
        "--log",
        log.to_str().unwrap(),
        "--discovered",
        "2026-03-16",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("the log holds no configure record to compare with; pass --config"),
        "{stderr}"
    );
}

/// `report anomalies` on the demo incident: the contractor's hour under the too-broad policy,
/// with its records' proofs in JSON; html is refused in one line.
#[test]
fn report_anomalies_flags_the_contractors_bulk_hour_with_proofs() {
    let dir = tempfile::tempdir().unwrap();
    incident(dir.path());
    let log = dir.path().join("audit");
    let log = log.to_str().unwrap();
    let text = stdout_of(&["report", "anomalies", "--log", log]);
    assert!(text.starts_with("Anomalies: every record;"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "report",
        "anomalies",
        "--log",
        log,
        "--format",
        "json",
    ]))
    .unwrap();
    for f in json["findings"].as_array().unwrap() {
        assert_eq!(f["principal"], "cn_contractor", "{text}");
        assert!(f["records"][0]["proof"]["hashes"].is_array());
    }
    let out = run(&["report", "anomalies", "--log", log, "--format", "html"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no HTML form yet"));
}

/// The log carries its own verifier key, so a log rewritten and re-signed with a new key
/// verifies against itself: a report anchored with `--vkey` (the key as the investigator holds
/// it) refuses a log whose checkpoint that key did not sign, and says in its JSON that it was
/// anchored; a checkpoint saved earlier must be one the log still extends.
#[test]
fn reports_anchored_with_a_key_held_outside_the_log_refuse_a_log_signed_by_another() {
    let dir = tempfile::tempdir().unwrap();
    incident(dir.path());
    let audit = dir.path().join("audit");
    let log = audit.to_str().unwrap();
    let held = dir.path().join("held.vkey");
    let saved = dir.path().join("saved.checkpoint");
    std::fs::copy(audit.join("key.vkey"), &held).unwrap();
    std::fs::copy(audit.join("checkpoint"), &saved).unwrap();
    let (held_s, saved_s) = (held.to_str().unwrap(), saved.to_str().unwrap());
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&[
        "report",
        "access",
        "--log",
        log,
        "--vkey",
        held_s,
        "--checkpoint",
        saved_s,
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["verification"]["anchored"], true, "{json}");
    assert_eq!(json["verification"]["verified"], true, "{json}");

    // Another key (one character of its public key changed) did not sign this checkpoint.
    let key = std::fs::read_to_string(&held).unwrap();
    let last = key.trim_end().chars().last().unwrap();
    let other = format!(
        "{}{}",
        &key.trim_end()[..key.trim_end().len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    let other_path = dir.path().join("other.vkey");
    std::fs::write(&other_path, other).unwrap();
    for args in [
        vec![
            "report",
            "access",
            "--log",
            log,
            "--vkey",
            other_path.to_str().unwrap(),
        ],
        vec![
            "report",
            "triage",
            "--log",
            log,
            "--discovered",
            "2026-06-01",
            "--vkey",
            other_path.to_str().unwrap(),
        ],
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains("fails verification"), "{args:?}: {err}");
    }
    let out = run(&["report", "access", "--log", log, "--unverified", "--vkey", held_s]);
    assert!(
        !out.status.success(),
        "--unverified with --vkey is a contradiction"
    );
}
