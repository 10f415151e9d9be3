//! The access and subject reports on the demo incident, checked against what the incident
//! wrote into the log; the subject report's proofs checked by the independent verifier.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use kamei_audit::{LocalDir, Timestamp};
use kamei_core::{Category, Level, PiiType};
use kamei_policy::Config;
use kamei_report::incident::{CONTRACTOR, Incident, write_incident};
use kamei_report::{
    AccessFilter, Compared, Finding, ReportError, TriageFacts, access_report, access_text, subject_history,
    subject_text, triage, triage_text,
};

fn incident() -> (tempfile::TempDir, Incident, Config) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo().unwrap();
    let incident = write_incident(&dir.path().join("audit"), &config, 7).unwrap();
    (dir, incident, config)
}

fn log(dir: &tempfile::TempDir) -> LocalDir {
    LocalDir::new(dir.path().join("audit")).unwrap()
}

#[test]
fn the_access_report_names_the_contractor_its_period_and_the_jp_subjects_it_read_per_category() {
    let (dir, incident, config) = incident();
    let report = access_report(&log(&dir), config.catalog(), &AccessFilter::default()).unwrap();
    assert_eq!(report.checkpoint.size, incident.records);
    // Configuration records are not accesses.
    assert_eq!(report.records, incident.records - 3);
    assert!(report.principals.iter().all(|p| p.principal != "kamei serve"));

    // The contractor comes first: no one read more subjects outside their own country.
    let c = &report.principals[0];
    assert_eq!(
        (c.principal.as_str(), c.org.as_str(), c.country.as_str()),
        (CONTRACTOR, "ldt-shanghai", "CN")
    );
    assert_eq!(c.statements, incident.contractor_reads.len() as u64);
    assert_eq!(c.first.as_deref(), Some(incident.contractor_first.as_str()));
    assert_eq!(c.last.as_deref(), Some(incident.contractor_last.as_str()));
    assert!(
        incident.contractor_first.starts_with("2026-02-02")
            && incident.contractor_last.starts_with("2026-03-13")
    );

    // Distinct JP subjects per category and level, exactly what was written.
    let reported: BTreeMap<(Category, Level), u64> = c
        .categories
        .iter()
        .filter(|x| x.jurisdiction == "JP")
        .map(|x| ((x.category, x.level), x.subjects))
        .collect();
    let written: BTreeMap<(Category, Level), u64> = incident
        .contractor_jp
        .iter()
        .map(|(k, keys)| (*k, keys.len() as u64))
        .collect();
    assert_eq!(reported, written);
    assert!(
        c.categories.iter().all(|x| x.jurisdiction == "JP"),
        "the contractor read only JP users"
    );
    let phone_raw = written[&(Category::Pii(PiiType::Phone), Level::Raw)];
    let phone_pseudo = written[&(Category::Pii(PiiType::Phone), Level::Pseudonymized)];
    assert!(
        phone_raw > 100 && phone_pseudo > phone_raw,
        "{phone_raw} {phone_pseudo}"
    );
    assert!(written.contains_key(&(Category::Pii(PiiType::CreditCard), Level::Pseudonymized)));
    assert!(written.contains_key(&(Category::Pii(PiiType::DateOfBirth), Level::Masked)));
    let all_jp: BTreeSet<u64> = incident.contractor_jp.values().flatten().copied().collect();
    assert_eq!(c.subjects_abroad, all_jp.len() as u64);
    assert_eq!(c.subjects.len(), 1);
    assert_eq!(c.subjects[0].subjects, all_jp.len() as u64);

    // The raw reads across the border are the too-broad weeks' statements (phones and e-mail
    // addresses, nothing else), with proofs.
    let cited: Vec<u64> = c.cross_border_raw.iter().map(|x| x.index).collect();
    assert_eq!(cited, incident.contractor_raw_reads);
    assert!(c.cross_border_raw.iter().all(|x| {
        !x.columns.is_empty()
            && x.columns.iter().all(|c| c == "users.email" || c == "users.phone")
            && x.subjects.keys().eq(["JP"])
            && x.time.as_str() >= "2026-02-16"
            && x.time.as_str() < "2026-02-28"
            && x.proof.as_ref().is_some_and(|p| p.index == x.index)
            && !x.statement.contains("'JP'")
    }));
    let denied: Vec<u64> = c.denied.iter().map(|x| x.index).collect();
    assert_eq!(denied, incident.contractor_denied);
    assert_eq!(c.denied[0].policies, ["engineer-no-my-number"]);

    // The timeline covers the contractor's business days only, and adds up.
    assert_eq!(c.timeline.iter().map(|d| d.statements).sum::<u64>(), c.statements);
    assert!(
        c.timeline
            .iter()
            .all(|d| ("2026-02-02"..="2026-03-13").contains(&d.day.as_str()))
    );

    // In-country support reads raw only at home; the administrator's break-glass reads of
    // Taiwanese accounts are raw reads across the border.
    let p = |name: &str| report.principals.iter().find(|p| p.principal == name).unwrap();
    assert!(p("jp_support").cross_border_raw.is_empty());
    assert!(
        p("jp_support")
            .categories
            .iter()
            .all(|x| x.level != Level::Raw || x.jurisdiction == "JP")
    );
    assert!(!p("admin").cross_border_raw.is_empty());
    assert_eq!(p("auditor").statements, 0);
    assert_eq!(p("auditor").denied.len(), 1);

    let text = access_text(&report);
    assert!(
        text.contains("cn_contractor (org ldt-shanghai, country CN)"),
        "{text}"
    );
    let phone_raw_line = format!("PHONE          JP           raw ACROSS!    {phone_raw}");
    assert!(text.contains(&phone_raw_line), "{text}");
    assert!(text.contains("decided by engineer-no-my-number"), "{text}");
}

#[test]
fn the_access_report_filters_by_principal_country_and_period() {
    let (dir, incident, config) = incident();
    let broad_weeks = AccessFilter {
        principal: Some(CONTRACTOR.into()),
        since: Some(Timestamp::parse("2026-02-16").unwrap()),
        until: Some(Timestamp::parse("2026-02-28").unwrap()),
        ..AccessFilter::default()
    };
    let report = access_report(&log(&dir), config.catalog(), &broad_weeks).unwrap();
    assert_eq!(report.principals.len(), 1);
    assert_eq!(report.selection.since.as_deref(), Some("2026-02-16T00:00:00Z"));
    let head = format!(
        "Access report: {} records by 1 principal (principal cn_contractor, since 2026-02-16T00:00:00Z, until 2026-02-28T00:00:00Z);",
        report.records
    );
    assert!(
        access_text(&report).starts_with(&head),
        "{}",
        access_text(&report)
    );
    let c = &report.principals[0];
    assert_eq!(c.cross_border_raw.len(), incident.contractor_raw_reads.len());
    assert!(
        c.timeline
            .iter()
            .all(|d| ("2026-02-16".."2026-02-28").contains(&d.day.as_str()))
    );
    assert!(c.categories.iter().any(|x| x.level == Level::Raw));

    let after = AccessFilter {
        principal: Some(CONTRACTOR.into()),
        since: Some(Timestamp::parse("2026-02-28").unwrap()),
        ..AccessFilter::default()
    };
    let report = access_report(&log(&dir), config.catalog(), &after).unwrap();
    assert!(report.principals[0].cross_border_raw.is_empty());
    assert!(
        report.principals[0]
            .categories
            .iter()
            .all(|x| x.level != Level::Raw)
    );

    let cn = AccessFilter {
        country: Some("CN".into()),
        ..AccessFilter::default()
    };
    let report = access_report(&log(&dir), config.catalog(), &cn).unwrap();
    let names: Vec<&str> = report.principals.iter().map(|p| p.principal.as_str()).collect();
    assert_eq!(names, [CONTRACTOR]);
    let nobody = AccessFilter {
        org: Some("no-such-org".into()),
        ..AccessFilter::default()
    };
    assert!(
        access_report(&log(&dir), config.catalog(), &nobody)
            .unwrap()
            .principals
            .is_empty()
    );
}

fn verifier() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/verifier/verify.py")
}

/// Runs the independent verifier's `report` command; its first output line.
fn python_says(report: &serde_json::Value, vkey: &Path) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(report).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(verifier())
        .args(["report", "--vkey"])
        .arg(vkey)
        .arg("--report")
        .arg(file.path())
        .output()
        .expect("python3 runs");
    let said = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    assert_eq!(said.starts_with("OK"), out.status.success(), "{said}");
    said
}

#[test]
fn the_subject_report_lists_exactly_the_records_that_touched_the_subject_and_every_proof_verifies() {
    let (dir, incident, _) = incident();
    // A Japanese user whose phone the contractor read raw, and who was read most often.
    let raw_phones = &incident.contractor_jp[&(Category::Pii(PiiType::Phone), Level::Raw)];
    let subject = *raw_phones
        .iter()
        .max_by_key(|k| (incident.touched[k].len(), std::cmp::Reverse(**k)))
        .unwrap();
    let history = subject_history(&log(&dir), subject).unwrap();
    let listed: Vec<u64> = history.records.iter().map(|r| r.index).collect();
    assert_eq!(listed, incident.touched[&subject]);
    assert!(listed.iter().any(|i| incident.contractor_raw_reads.contains(i)));
    // From abroad: every record by a principal outside Japan, and only those.
    for r in &history.records {
        assert_eq!(r.abroad, r.country != "JP", "record {}", r.index);
        assert_eq!(r.read_as.len(), 1);
        assert_eq!(r.read_as[0].jurisdiction, "JP");
        assert!(r.proof.is_some());
    }
    let contractor_raw = history
        .records
        .iter()
        .find(|r| incident.contractor_raw_reads.contains(&r.index))
        .unwrap();
    assert_eq!(contractor_raw.principal, CONTRACTOR);
    assert_eq!(contractor_raw.read_as[0].level, Level::Raw);
    // The statement as the log holds it: its literals redacted.
    assert!(
        contractor_raw.statement.contains("country = ? AND") && !contractor_raw.statement.contains("'JP'"),
        "{}",
        contractor_raw.statement
    );
    assert_eq!(
        history.from_abroad,
        history.records.iter().filter(|r| r.country != "JP").count() as u64
    );

    // Every embedded proof verifies with the independent verifier and the log's key.
    let vkey = dir.path().join("audit/key.vkey");
    let json = serde_json::to_value(&history).unwrap();
    assert_eq!(python_says(&json, &vkey), format!("OK {} records", listed.len()));
    // It refuses a report whose shown fields or leaves were changed.
    let mut shown = json.clone();
    shown["records"][0]["principal"] = "jp_support".into();
    shown["records"][0]["country"] = "JP".into();
    assert!(python_says(&shown, &vkey).starts_with("FAIL"));
    let mut leaf = json.clone();
    let text = leaf["records"][0]["leaf"]
        .as_str()
        .unwrap()
        .replace("\"rows\":", "\"rows\":1");
    leaf["records"][0]["leaf"] = text.into();
    assert!(python_says(&leaf, &vkey).starts_with("FAIL"));
    let mut dropped = json.clone();
    dropped["records"][0]["proof"]["hashes"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert!(python_says(&dropped, &vkey).starts_with("FAIL"));

    let text = subject_text(&history);
    assert!(
        text.contains("アクセスした者 / Accessed by: cn_contractor (ldt-shanghai, CN)"),
        "{text}"
    );
    assert!(
        text.contains("国外 / ABROAD") && text.contains("生データ / raw"),
        "{text}"
    );
    // The history shows no other person's key: only this subject's reads.
    assert!(!json.to_string().contains("\"keys\""));
}

#[test]
fn an_unknown_subject_is_an_error_that_names_the_key() {
    let (dir, _, _) = incident();
    let err = subject_history(&log(&dir), 999_999).unwrap_err();
    assert!(matches!(err, ReportError::UnknownSubject(999_999)));
    assert!(err.to_string().contains("`999999`"));
}

/// The Done-when of issue 18 for the triage: on the demo incident it names the contractor's
/// org and period, counts the JP subjects it read per category exactly as the incident wrote
/// them, and says whether Japan's reporting duty is triggered, each test with its rule.
#[test]
fn the_triage_names_the_contractor_its_period_the_jp_subjects_per_category_and_the_duty() {
    let (dir, incident, config) = incident();
    let org = AccessFilter {
        org: Some("ldt-shanghai".into()),
        ..AccessFilter::default()
    };
    let facts = TriageFacts {
        discovered: Timestamp::parse("2026-03-16T10:00:00+09:00").unwrap(),
        unauthorized: false,
    };
    let t = triage(
        &log(&dir),
        &config,
        Compared::of(&config, "the demo configuration"),
        &org,
        facts,
    )
    .unwrap();
    assert_eq!(t.checkpoint.size, incident.records);
    let [c] = t.principals.as_slice() else {
        panic!("one principal: {:?}", t.principals)
    };
    assert_eq!(
        (c.principal.as_str(), c.org.as_str(), c.country.as_str()),
        (CONTRACTOR, "ldt-shanghai", "CN")
    );
    assert_eq!(t.statements, incident.contractor_reads.len() as u64);
    assert_eq!(t.denied, incident.contractor_denied.len() as u64);
    assert_eq!(t.first.as_deref(), Some(incident.contractor_first.as_str()));
    assert_eq!(t.last.as_deref(), Some(incident.contractor_last.as_str()));

    // JP subjects per category and level, exactly as written; none of any other jurisdiction.
    let reported: BTreeMap<(Category, Level), u64> = t
        .categories
        .iter()
        .map(|x| {
            assert_eq!(x.jurisdiction, "JP");
            ((x.category, x.level), x.subjects)
        })
        .collect();
    let written: BTreeMap<(Category, Level), u64> = incident
        .contractor_jp
        .iter()
        .map(|(k, keys)| (*k, keys.len() as u64))
        .collect();
    assert_eq!(reported, written);
    // Readable: some column read raw or masked; the rest only as pseudonyms.
    let union = |keep: &dyn Fn(Level) -> bool| -> BTreeSet<u64> {
        incident
            .contractor_jp
            .iter()
            .filter(|((_, l), _)| keep(*l))
            .flat_map(|(_, keys)| keys.iter().copied())
            .collect()
    };
    let readable = union(&|l| matches!(l, Level::Raw | Level::Masked));
    let all = union(&|_| true);
    let [jp] = t.subjects.as_slice() else {
        panic!("JP only: {:?}", t.subjects)
    };
    assert_eq!(
        (jp.jurisdiction.as_str(), jp.readable, jp.pseudonymized_only),
        ("JP", readable.len() as u64, (all.len() - readable.len()) as u64)
    );

    // Japan's four tests, each with its rule.
    let findings: Vec<(&str, Finding)> = t
        .japan
        .conclusions
        .iter()
        .map(|c| (c.source, c.finding))
        .collect();
    let count = if readable.len() > 1_000 {
        Finding::Triggered
    } else if all.len() > 1_000 {
        Finding::Judgment
    } else {
        Finding::NotTriggered
    };
    assert_eq!(
        findings,
        [
            (
                "APPI Art. 26(1); Enforcement Rules Art. 7(i); Act Art. 2(3)",
                Finding::NotTriggered
            ),
            // Card numbers were read only as pseudonyms.
            (
                "APPI Art. 26(1); Enforcement Rules Art. 7(ii)",
                Finding::NotTriggered
            ),
            // The too-broad weeks: raw phones and e-mails the configuration now denies.
            (
                "APPI Art. 26(1); Enforcement Rules Art. 7(iii)",
                Finding::Judgment
            ),
            ("APPI Art. 26(1); Enforcement Rules Art. 7(iv)", count),
        ]
    );
    assert_eq!(
        t.japan.finding,
        if count == Finding::Triggered {
            Finding::Triggered
        } else {
            Finding::Judgment
        }
    );
    assert!(
        t.japan.conclusions[1]
            .reason
            .starts_with("CREDIT_CARD read only as keyed pseudonyms")
    );
    let beyond: Vec<u64> = t.beyond_grant.iter().map(|x| x.index).collect();
    assert_eq!(beyond, incident.contractor_raw_reads);
    assert_eq!(t.withdrawn_policies, ["engineer-raw-contacts-temporary"]);
    assert!(t.financial_raw.is_empty());
    assert!(t.japan.deadlines[0].due.contains("2026-03-18 to 2026-03-20 JST"));
    assert!(
        t.japan.deadlines[1]
            .due
            .contains("2026-04-14 JST (day 30), or 2026-05-14 JST (day 60)")
    );
    let markets: Vec<(&str, u64)> = t
        .other_markets
        .iter()
        .map(|m| (m.market, m.readable + m.pseudonymized_only))
        .collect();
    assert_eq!(
        markets,
        [
            ("Thailand", 0),
            ("Taiwan", 0),
            ("Indonesia", 0),
            ("European Union / EEA", 0)
        ]
    );

    // The first lines say what it is; the numbers are there.
    let text = triage_text(&t);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with(
        "Breach triage / 漏えい等の報告の要否: org ldt-shanghai; discovered 2026-03-16T01:00:00Z"
    ));
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Decision support, not legal advice")
    );
    assert!(text.contains("cn_contractor  ldt-shanghai  CN"), "{text}");
    assert!(
        text.contains("[JUDGMENT NEEDED] a leak by an act that may have had an improper purpose"),
        "{text}"
    );
    assert!(
        text.contains("withdrawn since: engineer-raw-contacts-temporary"),
        "{text}"
    );

    // Every cited record's proof verifies with the independent verifier.
    let json = serde_json::to_value(&t).unwrap();
    assert_eq!(
        json.as_object().unwrap().keys().next().map(String::as_str),
        Some("notice")
    );
    let records: Vec<serde_json::Value> = json["beyond_grant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut leaf: serde_json::Value = serde_json::from_str(c["leaf"].as_str().unwrap()).unwrap();
            let columns: Vec<serde_json::Value> = leaf["tables"]
                .as_object()
                .unwrap()
                .iter()
                .flat_map(|(t, cs)| {
                    cs.as_object()
                        .unwrap()
                        .iter()
                        .map(move |(c, l)| serde_json::json!({"table": t, "column": c, "level": l}))
                })
                .collect();
            leaf["columns"] = columns.into();
            leaf["index"] = c["index"].clone();
            leaf["leaf"] = c["leaf"].clone();
            leaf["proof"] = c["proof"].clone();
            leaf
        })
        .collect();
    let cited = serde_json::json!({"checkpoint": json["checkpoint"], "records": records});
    assert_eq!(
        python_says(&cited, &dir.path().join("audit/key.vkey")),
        format!("OK {} records", incident.contractor_raw_reads.len())
    );

    // The investigator's finding turns Art. 7(iii) on and the final report's limit to 60 days.
    let flagged = TriageFacts {
        unauthorized: true,
        ..facts
    };
    let t = triage(
        &log(&dir),
        &config,
        Compared::of(&config, "the demo configuration"),
        &org,
        flagged,
    )
    .unwrap();
    assert_eq!(t.japan.finding, Finding::Triggered);
    assert_eq!(t.japan.conclusions[2].finding, Finding::Triggered);
    assert!(
        t.japan.deadlines[1]
            .due
            .starts_with("by the end of 2026-05-14 JST (day 60")
    );

    // After the too-broad weeks nothing is beyond the grant.
    let after = AccessFilter {
        since: Some(Timestamp::parse("2026-02-28").unwrap()),
        ..org.clone()
    };
    let t = triage(
        &log(&dir),
        &config,
        Compared::of(&config, "the demo configuration"),
        &after,
        facts,
    )
    .unwrap();
    assert!(t.beyond_grant.is_empty());
    assert_eq!(t.japan.conclusions[2].finding, Finding::NotTriggered);

    // A triage of the whole log says that it counts routine reads too.
    let everyone = triage(
        &log(&dir),
        &config,
        Compared::of(&config, "the demo configuration"),
        &AccessFilter::default(),
        facts,
    )
    .unwrap();
    assert!(everyone.principals.len() > 1);
    let text = triage_text(&everyone);
    assert!(
        text.lines()
            .nth(3)
            .unwrap()
            .starts_with("Compared with: the demo configuration (policies ")
    );
    assert!(
        text.lines()
            .nth(4)
            .unwrap()
            .starts_with("The selection is every record")
    );
    assert!(text.contains("the day the operator learned of the situation as day 1"));
    assert!(!triage_text(&t).contains("The selection is every record"));

    let nobody = AccessFilter {
        org: Some("no-such-org".into()),
        ..AccessFilter::default()
    };
    assert!(matches!(
        triage(
            &log(&dir),
            &config,
            Compared::of(&config, "the demo configuration"),
            &nobody,
            facts
        ),
        Err(ReportError::EmptySelection)
    ));
}

fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// The offset of the first character of entry `k`'s statement in the first entry bundle:
/// flipping it keeps the leaf canonical JSON, so only the tree can tell.
fn statement_offset(audit: &Path, k: usize) -> usize {
    let bytes = std::fs::read(audit.join(kamei_audit::bundle_path(0, 256))).unwrap();
    let entry = kamei_audit::parse_bundle(&bytes).entries[k];
    let start = entry.as_ptr() as usize - bytes.as_ptr() as usize;
    let at = entry.windows(13).position(|w| w == b"\"statement\":\"").unwrap();
    start + at + 13
}

/// The offset of a byte inside the roaring set of subject index entry `k`.
fn subject_entry_offset(audit: &Path, k: usize) -> usize {
    let bytes = std::fs::read(audit.join("subjects/index")).unwrap();
    let (frames, _) = kamei_audit::subjects::parse_frames(&bytes);
    let (k, frame) = frames
        .iter()
        .enumerate()
        .skip(k)
        .find(|(_, f)| f.len() > 12)
        .unwrap();
    let start = frame.as_ptr() as usize - bytes.as_ptr() as usize;
    assert!(k < 256, "entry {k} is in the first bundle");
    start + frame.len() - 1
}

/// Item 7 of issue 18: every report over a log that fails verification refuses, naming the
/// first bad entry; with `--unverified` (LogCheck::Skip) it proceeds where it can read the log
/// and says so first.
#[test]
fn reports_refuse_a_log_that_fails_verification_and_say_so_when_told_to_go_on() {
    use kamei_report::{LogCheck, access_report_with, subject_history_with};
    let (base, incident, config) = incident();
    assert!(incident.records > 300, "the tampered entries lie in full bundles");
    let subject = *incident.touched.keys().next().unwrap();
    // What each tamper should name; whether a report can still be read without verifying.
    type Tamper = fn(&Path);
    let cases: [(&str, Tamper, &str, bool); 4] = [
        (
            "a record's statement",
            |a| flip_byte(&a.join("tile/entries/000"), statement_offset(a, 100)),
            "index 100",
            true,
        ),
        (
            "a subject index entry",
            |a| flip_byte(&a.join("subjects/index"), subject_entry_offset(a, 120)),
            "index 12",
            false,
        ),
        (
            "a hash tile",
            |a| flip_byte(&a.join("tile/0/000"), 32 * 7),
            "index 7",
            false,
        ),
        (
            "the checkpoint's signature",
            |a| {
                let text = std::fs::read_to_string(a.join("checkpoint")).unwrap();
                let at = text.rfind(' ').unwrap() + 3;
                flip_byte(&a.join("checkpoint"), at);
            },
            "checkpoint",
            false,
        ),
    ];
    let clean = access_report(&log(&base), config.catalog(), &AccessFilter::default()).unwrap();
    assert!(clean.verification.verified);
    assert!(clean.verification.warning().is_none());
    for (name, tamper, names, readable) in cases {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit");
        copy_dir(&base.path().join("audit"), &audit);
        tamper(&audit);
        let storage = LocalDir::new(&audit).unwrap();
        let refusals = [
            access_report_with(
                &storage,
                config.catalog(),
                &AccessFilter::default(),
                &LogCheck::Verify,
            )
            .map(|_| ())
            .unwrap_err(),
            subject_history_with(&storage, subject, &LogCheck::Verify)
                .map(|_| ())
                .unwrap_err(),
        ];
        for err in refusals {
            let text = err.to_string();
            assert!(matches!(err, ReportError::FailsVerification(_)), "{name}: {text}");
            assert!(text.contains(names), "{name}: {text}");
            assert!(text.contains("--unverified"), "{name}: {text}");
        }
        let access = access_report_with(
            &storage,
            config.catalog(),
            &AccessFilter::default(),
            &LogCheck::Skip,
        );
        let history = subject_history_with(&storage, subject, &LogCheck::Skip);
        if readable {
            let access = access.unwrap_or_else(|e| panic!("{name}: {e}"));
            let history = history.unwrap_or_else(|e| panic!("{name}: {e}"));
            for v in [&access.verification, &history.verification] {
                assert!(!v.verified, "{name}");
                assert!(v.warning().unwrap().starts_with("UNVERIFIED"), "{name}");
            }
            let json = serde_json::to_value(&access).unwrap();
            assert_eq!(json["verification"]["verified"], false, "{name}");
            let html = kamei_report::access_html(&access).unwrap();
            assert!(html.contains("UNVERIFIED"), "{name}");
        } else {
            // A record whose index entry does not match its digest cannot be read at all, nor
            // can proofs be cut from tiles that do not match the signed checkpoint: the report
            // still refuses rather than print evidence that does not hold.
            assert!(access.is_err(), "{name}");
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
