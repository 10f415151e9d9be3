//! Audit log benchmarks (release): durable appends with 64 writers and with one, inclusion
//! proofs at 10 million entries, and a full verify of a large log.
//!
//! cargo bench -p kamei-audit --bench audit
//! Environment: KAMEI_AUDIT_BENCH_VERIFY (entries in the verify log, default 1000000),
//! KAMEI_AUDIT_BENCH_DIR (where the durable-append log goes, default target/), the verify log is
//! KAMEI_AUDIT_BENCH_ONLY (`appends`, `proofs` or `verify`: run only that part), the verify log is
//! built in /dev/shm when it exists (fsync there is free, so building is fast; verify reads the
//! same bytes either way once they are in the page cache).

use kamei_audit::{AuditLog, LocalDir, RecordInput, Tree, leaf_hash, verify_inclusion, verify_log};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

fn input(i: u64) -> RecordInput {
    let json = format!(
        r#"{{"time": "2026-01-05T09:{:02}:{:02}Z", "principal": "cn_contractor", "org": "ldt-shanghai", "country": "CN",
            "client_addr": "10.1.2.3", "action": "query",
            "statement": "SELECT user_id, phone, email FROM users WHERE country = 'JP' AND user_id > {i}",
            "columns": [{{"table": "users", "column": "phone", "level": "pseudonymized"}},
                        {{"table": "users", "column": "email", "level": "masked"}},
                        {{"table": "users", "column": "user_id", "level": "pseudonymized"}}],
            "rows": 3, "subjects": [{{"jurisdiction": "JP", "level": "pseudonymized", "keys": [{i}, {}, {}]}}]}}"#,
        (i / 60) % 60,
        i % 60,
        i + 1,
        i * 7 + 3
    );
    RecordInput::from_json(&json).unwrap()
}

/// Appends `total` records from `writers` threads; returns records per second. With
/// `precompute`, records are validated and encoded before the clock starts, as the gateway
/// would while running the query; without, each writer encodes its own (a 10 M-record log
/// would not fit in memory twice over: once encoded, once on /dev/shm).
fn appends(dir: &Path, writers: usize, total: u64, precompute: bool) -> f64 {
    let log = AuditLog::open(dir).unwrap();
    let records: Vec<_> = if precompute {
        (0..total).map(|i| input(i).into_record().unwrap()).collect()
    } else {
        Vec::new()
    };
    let next = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..writers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    match records.get(i as usize) {
                        Some((r, set)) => log.append(r, set).unwrap(),
                        None => log.append_input(input(i)).unwrap(),
                    };
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    log.close().unwrap();
    total as f64 / secs
}

fn scratch(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn main() {
    let target = std::env::var_os("KAMEI_AUDIT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-audit"));
    std::fs::create_dir_all(&target).unwrap();

    let only = std::env::var("KAMEI_AUDIT_BENCH_ONLY").ok();
    let run = |part: &str| only.as_deref().is_none_or(|o| o == part);

    // 1. Durable appends (fsync before acknowledging) on the project's disk.
    if run("appends") {
        appends_part(&target);
    }
    if run("proofs") {
        proofs_part();
    }
    if run("verify") {
        verify_part(&target);
    }
}

fn appends_part(target: &Path) {
    let single = appends(&scratch(target, "single"), 1, 500, true);
    println!("durable appends, 1 writer: {single:.0} records/s (500 records)");
    for writers in [64, 256] {
        let total = 40_000;
        let rate = appends(&scratch(target, &format!("w{writers}")), writers, total, true);
        println!("durable appends, {writers} writers: {rate:.0} records/s ({total} records)");
    }
    let _ = std::fs::remove_dir_all(target);
}

fn proofs_part() {
    // 2. Inclusion proofs at 10 million entries, on the in-memory tree `AuditLog::prove` uses.
    let n: u64 = 10_000_000;
    let start = Instant::now();
    let mut tree = Tree::new();
    for i in 0..n {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    println!(
        "tree of {n} leaves built in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let rounds = 200_000;
    let start = Instant::now();
    let mut total_len = 0;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let index = x % n;
        let proof = tree.inclusion_proof(index, n).unwrap();
        let root = tree.root(n).unwrap();
        total_len += proof.len() + usize::from(root.0[0] == 0);
    }
    let per = start.elapsed().as_secs_f64() / f64::from(rounds) * 1e6;
    println!(
        "inclusion proof + root at {n} entries: {per:.2} µs each ({rounds} random indices, {} hashes avg)",
        total_len / rounds as usize
    );
    let proof = tree.inclusion_proof(n / 3, n).unwrap();
    let root = tree.root(n).unwrap();
    let start = Instant::now();
    for _ in 0..rounds {
        verify_inclusion(n / 3, n, &tree.leaf(n / 3).unwrap(), &proof, &root).unwrap();
    }
    println!(
        "inclusion proof check: {:.2} µs each",
        start.elapsed().as_secs_f64() / f64::from(rounds) * 1e6
    );
    drop(tree);
}

fn verify_part(target: &Path) {
    // 3. Verify of a large log.
    let size: u64 = std::env::var("KAMEI_AUDIT_BENCH_VERIFY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.join("kamei-audit-bench")
    } else {
        target.join("verify")
    };
    // KAMEI_AUDIT_BENCH_KEEP: keep the log afterwards and reuse a kept one (for profiling).
    let keep = std::env::var_os("KAMEI_AUDIT_BENCH_KEEP").is_some();
    let dir = base.join("log");
    if !(keep && dir.is_dir()) {
        let dir = scratch(&base, "log");
        let start = Instant::now();
        let rate = appends(&dir, 64, size, false);
        println!(
            "built a log of {size} records in {:.1} s ({rate:.0} records/s, {})",
            start.elapsed().as_secs_f64(),
            base.display()
        );
    }
    let bytes: u64 = walk(&dir);
    let start = Instant::now();
    let log = AuditLog::open(&dir).unwrap();
    println!(
        "open (recovery, tree rebuilt from tiles) at {size}: {:.2} s",
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    for i in 0..10_000 {
        log.prove(i * (size / 10_000), None).unwrap();
    }
    println!(
        "AuditLog::prove at {size}: {:.2} µs each",
        start.elapsed().as_secs_f64() / 10_000.0 * 1e6
    );
    log.close().unwrap();
    drop(log);
    let storage = LocalDir::new(&dir).unwrap();
    let start = Instant::now();
    let report = verify_log(&storage, None, None).unwrap();
    assert_eq!(report.problem, None);
    println!(
        "verify of {size} records ({:.2} GB on disk): {:.2} s",
        bytes as f64 / 1e9,
        start.elapsed().as_secs_f64()
    );
    if !keep {
        let _ = std::fs::remove_dir_all(&base);
    }
}

fn walk(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() { walk(&e.path()) } else { m.len() };
    }
    total
}
