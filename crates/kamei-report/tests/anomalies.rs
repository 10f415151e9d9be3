//! `report anomalies` over the demo incident's log, built by the incident's own record builder:
//! nothing flagged on its traffic, and each planted anomaly found with its record and a proof.

use std::collections::BTreeSet;

use kamei_audit::{AuditLog, LocalDir, RecordInput, Timestamp};
use kamei_policy::Config;
use kamei_report::anomalies::Kind;
use kamei_report::incident::{SEED, statement_record, write_incident};
use kamei_report::{AccessFilter, Thresholds, anomalies, anomalies_text};

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn jp_user(config: &Config, time: &str, keys: BTreeSet<u64>) -> RecordInput {
    statement_record(
        config,
        at(time),
        "jp_support",
        "SELECT user_id, full_name, phone, email, country FROM users WHERE country = 'JP'",
        "users",
        &["user_id", "full_name", "phone", "email", "country"],
        keys,
    )
}

#[test]
fn the_demo_incident_flags_nothing_and_each_planted_anomaly_is_found_with_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::demo().unwrap();
    write_incident(dir.path(), &config, SEED).unwrap();
    let storage = LocalDir::new(dir.path()).unwrap();
    let th = Thresholds::default();
    let all = AccessFilter::default();

    let clean = anomalies(&storage, config.catalog(), &all, th).unwrap();
    assert!(clean.statements > 400, "{}", clean.statements);
    // The routine traffic flags nothing; the one hour flagged is the incident itself: the
    // contractor, during the too-broad weeks (2026-02-16 to 02-27), reading three times its
    // usual hourly count of JP users, raw contacts among them.
    let text = anomalies_text(&clean);
    assert!(!clean.findings.is_empty(), "{text}");
    for f in &clean.findings {
        assert_eq!(
            (f.kind, f.principal.as_str()),
            (Kind::BulkRead, "cn_contractor"),
            "{text}"
        );
        assert!(
            f.when.as_str() > "the hour from 2026-02-16" && f.when.as_str() < "the hour from 2026-02-28",
            "{text}"
        );
    }
    assert!(
        clean
            .findings
            .iter()
            .any(|f| f.records.iter().any(|r| r.statement.contains("email"))),
        "{text}"
    );
    assert!(clean.countries_not_judged.is_empty());

    // Planted after the incident's last day (2026-03-30 is a Monday), in time order.
    let log = AuditLog::open(dir.path()).unwrap();
    // A bulk read: 400 JP users in one statement, in business hours (11:00 JST).
    let bulk = log
        .append_input(jp_user(&config, "2026-03-31T02:00:00Z", (1..=400).collect()))
        .unwrap();
    // A raw read at 23:10 JST on a Tuesday.
    let late = log
        .append_input(jp_user(&config, "2026-03-31T14:10:00Z", BTreeSet::from([7])))
        .unwrap();
    // th_support's first record from another country.
    let mut moved = statement_record(
        &config,
        at("2026-04-01T03:00:00Z"),
        "th_support",
        "SELECT user_id, full_name, phone FROM users WHERE user_id = 1500",
        "users",
        &["user_id", "full_name", "phone"],
        BTreeSet::from([1500]),
    );
    moved.country = "VN".into();
    let moved = log.append_input(moved).unwrap();
    // The contractor narrows down one phone number by LIKE, 25 times in an hour.
    let mut probes = Vec::new();
    for i in 0..25u64 {
        let input = statement_record(
            &config,
            at(&format!("2026-04-02T02:{:02}:00Z", i * 2)),
            "cn_contractor",
            &format!("SELECT user_id, display_name FROM users WHERE phone LIKE '090-12{i:02}-%'"),
            "users",
            &["user_id", "display_name", "phone"],
            BTreeSet::from([100 + i]),
        );
        probes.push(log.append_input(input).unwrap());
    }
    log.close().unwrap();

    let report = anomalies(&storage, config.catalog(), &all, th).unwrap();
    let text = anomalies_text(&report);
    let kinds: Vec<(Kind, &str, Vec<u64>)> = report
        .findings
        .iter()
        .filter(|f| {
            !clean
                .findings
                .iter()
                .any(|c| c.when == f.when && c.principal == f.principal)
        })
        .map(|f| {
            (
                f.kind,
                f.principal.as_str(),
                f.records.iter().map(|r| r.index).collect(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (Kind::BulkRead, "jp_support", vec![bulk]),
            (Kind::NewCountry, "th_support", vec![moved]),
            (Kind::OffHoursRaw, "jp_support", vec![late]),
            (Kind::NarrowProbing, "cn_contractor", probes.clone()),
        ],
        "{text}"
    );
    let what = |k: Kind, p: &str| {
        report
            .findings
            .iter()
            .find(|f| f.kind == k && f.principal == p)
            .map(|f| f.what.clone())
            .unwrap_or_default()
    };
    assert!(
        what(Kind::BulkRead, "jp_support").contains("400 distinct subjects"),
        "{text}"
    );
    assert!(
        what(Kind::OffHoursRaw, "jp_support").contains("at 23:10 on a Tuesday in JP"),
        "{text}"
    );
    assert!(
        what(Kind::NarrowProbing, "cn_contractor").contains("users.phone"),
        "{text}"
    );
    // Every cited record carries its leaf and a proof against the checkpoint.
    for f in &report.findings {
        for r in &f.records {
            let p = r.proof.as_ref().expect("the checkpoint covers every record");
            assert_eq!(p.index, r.index);
            assert_eq!(p.tree_size, report.checkpoint.size);
            assert!(r.leaf.starts_with('{'));
        }
    }
}
