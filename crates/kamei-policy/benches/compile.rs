//! Decision compilation at scale: 1,000 principals × 500 columns × 10 jurisdictions.
//!
//! Writes a generated configuration (50 tables of 10 columns, the demo policies plus policies
//! that name principals, columns and orgs) to a temporary directory and times
//! `Config::load`, which parses, validates and compiles every decision. For comparison it
//! also times direct Cedar evaluation of the whole policy set on a sample of cells, the cost
//! the compiler avoids. Run: `cargo bench -p kamei-policy --bench compile`.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::{Duration, Instant};

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityUid, PolicySet, Request, RestrictedExpression,
};
use kamei_policy::Config;
use scale_config::{COLUMNS_PER_TABLE, JURISDICTIONS, PRINCIPALS, TABLES};

#[path = "scale/config.rs"]
mod scale_config;

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// Direct Cedar evaluation of the whole policy set for `samples` cells × 3 actions.
fn direct_sample(policy_text: &str, config: &Config, samples: usize) -> Duration {
    let set = PolicySet::from_str(policy_text).expect("policies parse");
    let uid = |t: &str, id: &str| EntityUid::from_str(&format!("Kamei::{t}::{id:?}")).expect("uid");
    let mut entities = Vec::new();
    for p in config.principals() {
        let attrs = HashMap::from([
            ("org".to_owned(), RestrictedExpression::new_string(p.org.clone())),
            (
                "country".to_owned(),
                RestrictedExpression::new_string(p.country.to_string()),
            ),
            (
                "roles".to_owned(),
                RestrictedExpression::new_set(
                    p.roles
                        .iter()
                        .map(|r| RestrictedExpression::new_string(r.clone())),
                ),
            ),
        ]);
        entities.push(Entity::new(uid("Principal", &p.name), attrs, HashSet::new()).expect("entity"));
    }
    let mut data = Vec::new();
    for t in &config.catalog().tables {
        for c in &t.columns {
            for j in &config.catalog().jurisdictions {
                let id = format!("{}.{}@{j}", t.name, c.name);
                let s = |v: String| RestrictedExpression::new_string(v);
                let attrs = HashMap::from([
                    ("table".to_owned(), s(t.name.clone())),
                    ("column".to_owned(), s(c.name.clone())),
                    ("category".to_owned(), s(c.category.to_string())),
                    ("jurisdiction".to_owned(), s(j.to_string())),
                ]);
                entities.push(Entity::new(uid("Data", &id), attrs, HashSet::new()).expect("entity"));
                data.push(id);
            }
        }
    }
    let entities = Entities::from_entities(entities, None).expect("entities");
    let authorizer = Authorizer::new();
    let actions: Vec<_> = ["read_raw", "read_masked", "read_pseudonymized"]
        .iter()
        .map(|a| uid("Action", a))
        .collect();
    let principals = config.principals();
    let start = Instant::now();
    for i in 0..samples {
        let p = uid("Principal", &principals[(i * 7919) % principals.len()].name);
        let d = uid("Data", &data[(i * 104_729) % data.len()]);
        for a in &actions {
            let r = Request::new(p.clone(), a.clone(), d.clone(), Context::empty(), None).expect("request");
            std::hint::black_box(authorizer.is_authorized(&r, &set, &entities));
        }
    }
    start.elapsed()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (policy_text, path) = scale_config::write(dir.path());
    let cells = PRINCIPALS * TABLES * COLUMNS_PER_TABLE * JURISDICTIONS.len();
    println!(
        "decision compilation: {PRINCIPALS} principals x {} columns x {} jurisdictions = {cells} cells, {} threads",
        TABLES * COLUMNS_PER_TABLE,
        JURISDICTIONS.len(),
        rayon::current_num_threads()
    );
    let mut runs = Vec::new();
    let mut config = None;
    for _ in 0..5 {
        let (c, d) = time(|| Config::load(&path).expect("the generated configuration loads"));
        runs.push(d);
        config = Some(c);
    }
    let config = config.expect("ran");
    runs.sort();
    let (pc, dc) = config.decisions().classes();
    println!(
        "Config::load (parse + validate + compile): min {:.3} s, median {:.3} s, max {:.3} s over {} runs",
        runs[0].as_secs_f64(),
        runs[runs.len() / 2].as_secs_f64(),
        runs[runs.len() - 1].as_secs_f64(),
        runs.len()
    );
    println!(
        "distinct principal classes {pc}, data classes {dc}, table cells stored {}",
        pc * dc
    );
    let (_, matrix) = time(|| config.matrix().len());
    println!("matrix() of all {cells} cells: {:.3} s", matrix.as_secs_f64());

    let samples = 20_000;
    let d = direct_sample(&policy_text, &config, samples);
    let per = d.as_secs_f64() / (samples * 3) as f64;
    println!(
        "direct Cedar evaluation, whole policy set, one thread: {:.2} us per request; all {} requests would take ~{:.0} s",
        per * 1e6,
        cells * 3,
        per * (cells * 3) as f64
    );
}
