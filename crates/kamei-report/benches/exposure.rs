//! The exposure register and `policy assert` at issue 18's scale: 1,000 principals × 500
//! columns × 10 jurisdictions (the configuration kamei-policy's `compile` bench loads), target
//! under 1 s each. Loading the configuration (parsing, validating, compiling every Cedar
//! decision) is timed on its own: it is not the report.
//!
//! cargo bench -p kamei-report --bench exposure
//!
//! Each figure is the best of KAMEI_REPORT_BENCH_ROUNDS (default 3) wall-clock runs.

use std::time::{Duration, Instant};

use kamei_policy::Config;
use kamei_report::{Invariants, exposure};
use scale_config::{COLUMNS_PER_TABLE, JURISDICTIONS, PRINCIPALS, TABLES};

#[path = "../../kamei-policy/benches/scale/config.rs"]
mod scale_config;

/// Invariants of the kinds issue 18 names: across borders, by org, by role, by named
/// principal and column, with the unlisted jurisdictions' fallback included.
const INVARIANTS: &str = r#"
[[invariant]]
name = "no raw contact data of users in Japan abroad"
countries_except = ["JP"]
categories = ["PHONE", "EMAIL", "PERSON", "ADDRESS"]
jurisdictions = ["JP"]
at_most = "masked"

[[invariant]]
name = "nothing raw across a border"
cross_border = true
at_most = "masked"

[[invariant]]
name = "org03 sees phones masked at most"
orgs = ["org03"]
categories = ["PHONE"]
at_most = "masked"

[[invariant]]
name = "support reads no free text raw outside its country"
roles = ["support"]
categories = ["FREE_TEXT"]
cross_border = true
at_most = "pseudonymized"

[[invariant]]
name = "p0042 reads t11.c5 at most masked"
principals = ["p0042"]
columns = ["t11.c5"]
at_most = "masked"
"#;

fn rounds() -> usize {
    std::env::var("KAMEI_REPORT_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// The best of `rounds` runs of `f`, and its last result.
fn best<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..rounds.max(1) {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed());
        out = Some(value);
    }
    (best, out.expect("at least one round"))
}

fn main() {
    let rounds = rounds();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, path) = scale_config::write(dir.path());
    println!(
        "{PRINCIPALS} principals x {} columns x {} jurisdictions, best of {rounds}",
        TABLES * COLUMNS_PER_TABLE,
        JURISDICTIONS.len()
    );
    let (load, config) = best(rounds, || {
        Config::load(&path).expect("the generated configuration loads")
    });
    println!(
        "Config::load (parse, validate, compile Cedar decisions): {:.3} s",
        load.as_secs_f64()
    );
    let (took, grants) = best(rounds, || exposure(&config));
    let first = grants.iter().filter(|g| g.first()).count();
    println!(
        "exposure: {:.3} s, {} grants ({first} in the first part)",
        took.as_secs_f64(),
        grants.len()
    );
    let invariants = Invariants::parse(INVARIANTS, "bench").expect("the bench's invariants parse");
    let (took, summary) = best(rounds, || {
        let outcomes = invariants.check(&config, "bench").expect("the invariants check");
        outcomes
            .iter()
            .map(|o| (o.checked, o.violations.len()))
            .collect::<Vec<_>>()
    });
    println!(
        "policy assert, {} invariants: {:.3} s, (checked, violations) per rule {summary:?}",
        invariants.rules.len(),
        took.as_secs_f64()
    );
}
