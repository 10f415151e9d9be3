//! Detector throughput on message bodies: single-core and all-core MB/s.
//!
//! Usage: `cargo bench -p kamei-detect --bench throughput -- BODIES.txt [MB]` where BODIES.txt
//! holds one message body per line (bench/detect-throughput.sh builds it from `kamei
//! generate`). The bodies are repeated in memory up to MB megabytes (default 100), then every
//! line is scanned once on one core, once more on one core with the recall-first profile, and
//! once on all cores (rayon, chunks of lines).

use std::time::Instant;

use kamei_detect::{Detector, Profile};
use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let Some(path) = args.first() else {
        eprintln!("usage: throughput BODIES.txt [MB]");
        std::process::exit(2);
    };
    let mb: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2);
    });
    let bodies: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let target = mb << 20;
    let mut lines = Vec::new();
    let mut bytes = 0;
    'fill: loop {
        for b in &bodies {
            if bytes >= target {
                break 'fill;
            }
            lines.push(*b);
            bytes += b.len() + 1;
        }
    }
    let detector = Detector::new();
    let megabytes = bytes as f64 / 1e6;
    println!(
        "corpus: {} distinct bodies repeated to {} lines, {megabytes:.1} MB",
        bodies.len(),
        lines.len()
    );

    let t = Instant::now();
    let cpu = cpu_seconds();
    let found: usize = lines.iter().map(|l| detector.find(l).len()).sum();
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu).map(|(b, a)| b - a);
    println!(
        "single core: {:.1} MB/s wall ({found} entities, {secs:.2} s)",
        megabytes / secs
    );
    if let Some(c) = cpu {
        // On a shared machine wall time includes waiting for a core; CPU time does not.
        println!(
            "single core: {:.1} MB/s per CPU second ({c:.2} s of CPU)",
            megabytes / c
        );
    }

    // The recall-first profile (what `kamei redact` uses by default), on one core.
    let t = Instant::now();
    let cpu = cpu_seconds();
    let found: usize = lines
        .iter()
        .map(|l| detector.find_with(l, Profile::Recall).len())
        .sum();
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu).map(|(b, a)| b - a);
    println!(
        "single core, recall profile: {:.1} MB/s wall ({found} entities, {secs:.2} s){}",
        megabytes / secs,
        cpu.map_or(String::new(), |c| format!(
            ", {:.1} MB/s per CPU second",
            megabytes / c
        ))
    );

    let threads = rayon::current_num_threads();
    let t = Instant::now();
    let found: usize = lines
        .par_chunks(4096)
        .map(|c| c.iter().map(|l| detector.find(l).len()).sum::<usize>())
        .sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "all cores ({threads} threads): {:.1} MB/s ({found} entities, {secs:.2} s)",
        megabytes / secs
    );
}

/// This process's user + system CPU time in seconds, from /proc (Linux), at 10 ms resolution.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
