//! Users per second for `kamei generate`'s library, Parquet and CSV.
//!
//! cargo bench -p kamei-synth --bench generate            (1,000,000 users)
//! KAMEI_BENCH_USERS=200000 cargo bench -p kamei-synth --bench generate
//!
//! Each format is generated twice into a temporary directory on the same disk; the faster
//! run is reported, with the bytes written and the rows of every table.

use std::time::Instant;

use kamei_synth::{Format, GenerateOptions, generate};

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let users: u64 = std::env::var("KAMEI_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let threads = rayon::current_num_threads();
    println!("kamei generate: {users} users, seed 1, {threads} threads");
    for format in [Format::Parquet, Format::Csv] {
        let mut best = f64::MAX;
        let mut last = None;
        for _ in 0..2 {
            let tmp = tempfile::tempdir_in(".").expect("temporary directory");
            let out = tmp.path().join("world");
            let start = Instant::now();
            let summary = generate(
                &GenerateOptions {
                    out: out.clone(),
                    users,
                    seed: 1,
                    format,
                },
                &|_| {},
            )
            .expect("generate");
            let secs = start.elapsed().as_secs_f64();
            best = best.min(secs);
            last = Some((summary, dir_size(&out)));
        }
        let (s, bytes) = last.expect("two runs");
        println!(
            "{format:?}: {best:.2} s, {:.0} users/s; {} messages, {} reports, {} payments, {} labelled entities; {:.0} MB",
            users as f64 / best,
            s.messages,
            s.reports,
            s.payments,
            s.labelled_entities,
            bytes as f64 / 1e6
        );
    }
}
