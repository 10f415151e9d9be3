//! Reports over a large audit log (issue 18's targets: `report access` and `report subject`
//! over 10,000,000 records and 100,000 subjects in under 2 s each).
//!
//! cargo bench -p kamei-report --bench reports
//!
//! Environment:
//! - KAMEI_REPORT_BENCH_RECORDS: records in the log (default 1,000,000). The log is built once,
//!   with the log's own append path (64 writers, durable group commits), into
//!   `$CARGO_TARGET_DIR/report-bench/<records>` (default `target/`) and reused by later runs.
//! - KAMEI_REPORT_BENCH_OLD, KAMEI_REPORT_BENCH_NEW: `kamei` binaries to time on the same log,
//!   side by side in this run (`report access --log … --format json`, `report subject …`), e.g.
//!   main's and this branch's release builds.
//!
//! Each figure is the best of KAMEI_REPORT_BENCH_ROUNDS (default 3) wall-clock runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use kamei_audit::{AuditLog, LocalDir, RecordInput};
use kamei_policy::Config;
use kamei_report::{AccessFilter, LogCheck, access_report_with, check_log, subject_history_with};

const SUBJECTS: u64 = 100_000;
/// The demo principals: name, org, country.
const PRINCIPALS: [(&str, &str, &str); 5] = [
    ("jp_support", "line-jp", "JP"),
    ("th_support", "line-th", "TH"),
    ("cn_contractor", "ldt-shanghai", "CN"),
    ("kr_moderator", "naver-kr", "KR"),
    ("admin", "line-jp", "JP"),
];
const JURISDICTIONS: [&str; 4] = ["JP", "TH", "TW", "ID"];

/// Record `i`: a principal reading a few users' columns; deterministic, so every build of the
/// log is the same. Subjects spread over all 100,000 keys; one record in 1,000 a streamed
/// statement's closing record, one in 500 a denial.
fn input(i: u64) -> RecordInput {
    let (principal, org, country) = PRINCIPALS[(i % PRINCIPALS.len() as u64) as usize];
    // About 200 records a day over the span of the log.
    let secs = 1_767_225_600 + i * 432;
    let t = kamei_audit::Timestamp {
        secs: secs as i64,
        nanos: 0,
    };
    if i % 500 == 7 {
        return RecordInput::from_json(&format!(
            r#"{{"time": "{t}", "principal": "{principal}", "org": "{org}", "country": "{country}",
                "client_addr": "10.1.2.3", "action": "denied", "policies": ["no-my-number"],
                "statement": "SELECT my_number FROM users WHERE user_id = {i}"}}"#
        ))
        .expect("a denial");
    }
    let n = 1 + i % 8;
    let keys: Vec<String> = (0..n)
        .map(|k| ((i.wrapping_mul(2_654_435_761) + k * 7_919) % SUBJECTS).to_string())
        .collect();
    let jurisdiction = JURISDICTIONS[(i / 3 % JURISDICTIONS.len() as u64) as usize];
    let level = if jurisdiction == country {
        "raw"
    } else {
        "pseudonymized"
    };
    let opens = if i % 1000 == 999 {
        format!(r#", "opens": {}"#, i - 1)
    } else {
        String::new()
    };
    RecordInput::from_json(&format!(
        r#"{{"time": "{t}", "principal": "{principal}", "org": "{org}", "country": "{country}",
            "client_addr": "10.1.2.3", "action": "query"{opens},
            "statement": "SELECT user_id, phone, email FROM users WHERE user_id > {i}",
            "columns": [{{"table": "users", "column": "phone", "level": "{level}"}},
                        {{"table": "users", "column": "email", "level": "masked"}},
                        {{"table": "users", "column": "user_id", "level": "{level}"}}],
            "rows": {n}, "subjects": [{{"jurisdiction": "{jurisdiction}", "level": "{level}", "keys": [{}]}}]}}"#,
        keys.join(", ")
    ))
    .expect("a query")
}

/// The log of `total` records under the target dir, built unless a complete one is there.
fn log(total: u64) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let dir = target.join("report-bench").join(total.to_string());
    let done = dir.join("built");
    if done.exists() {
        return dir;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove a half-built log");
    }
    std::fs::create_dir_all(&dir).expect("create the log dir");
    let log = AuditLog::open(&dir).expect("open the log");
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("building {pos}/{len} records {per_sec} eta {eta}").expect("template"),
    );
    let next = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..64 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    log.append_input(input(i)).expect("append");
                    bar.inc(1);
                }
            });
        }
    });
    log.close().expect("close");
    bar.finish();
    std::fs::write(&done, b"").expect("mark built");
    dir
}

fn best<T>(rounds: usize, mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut out = None;
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        let v = f();
        best = best.min(start.elapsed());
        out = Some(v);
    }
    (out.expect("one round"), best)
}

fn cli(bin: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let out = Command::new(bin).args(args).output().expect("run kamei");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn main() {
    let total: u64 = std::env::var("KAMEI_REPORT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let rounds: usize = std::env::var("KAMEI_REPORT_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let dir = log(total);
    let storage = LocalDir::new(&dir).expect("the log");
    let config = Config::demo().expect("demo config");
    let subject = 4_242;
    println!("log: {} ({total} records, {SUBJECTS} subjects)", dir.display());

    let (v, t) = best(rounds, || {
        check_log(&storage, &LogCheck::Verify).expect("verifies")
    });
    println!(
        "verify (check_log)                    {:>8.2} s  ({} entries)",
        t.as_secs_f64(),
        v.entries
    );
    for (name, check) in [("unverified", LogCheck::Skip), ("verified", LogCheck::Verify)] {
        let (r, t) = best(rounds, || {
            access_report_with(&storage, config.catalog(), &AccessFilter::default(), &check).expect("access")
        });
        println!(
            "access report, {name:<10}             {:>8.2} s  ({} records, {} principals)",
            t.as_secs_f64(),
            r.records,
            r.principals.len()
        );
        let (h, t) = best(rounds, || {
            subject_history_with(&storage, subject, &check).expect("subject")
        });
        println!(
            "subject report, {name:<10}            {:>8.2} s  ({} records)",
            t.as_secs_f64(),
            h.records.len()
        );
    }
    let log_arg = dir.to_string_lossy().into_owned();
    let subject_arg = subject.to_string();
    for (label, var) in [
        ("old", "KAMEI_REPORT_BENCH_OLD"),
        ("new", "KAMEI_REPORT_BENCH_NEW"),
    ] {
        let Some(bin) = std::env::var_os(var).map(PathBuf::from) else {
            continue;
        };
        let mut access = vec!["report", "access", "--log", &log_arg, "--format", "json"];
        let mut subject = vec![
            "report",
            "subject",
            "--log",
            &log_arg,
            "--subject",
            &subject_arg,
            "--format",
            "json",
        ];
        let mut suffix = "";
        if label == "new" {
            // The old binary does not verify; time the new one both ways.
            let (_, t) = best(rounds, || cli(&bin, &access));
            println!(
                "{label} `kamei report access` (verified)   {:>8.2} s",
                t.as_secs_f64()
            );
            let (_, t) = best(rounds, || cli(&bin, &subject));
            println!(
                "{label} `kamei report subject` (verified)  {:>8.2} s",
                t.as_secs_f64()
            );
            access.push("--unverified");
            subject.push("--unverified");
            suffix = " --unverified";
        }
        let (_, t) = best(rounds, || cli(&bin, &access));
        println!(
            "{label} `kamei report access`{suffix:<13} {:>8.2} s",
            t.as_secs_f64()
        );
        let (_, t) = best(rounds, || cli(&bin, &subject));
        println!(
            "{label} `kamei report subject`{suffix:<12} {:>8.2} s",
            t.as_secs_f64()
        );
    }
}
