//! Configuration from arbitrary bytes: catalog.toml, principals.toml and policies.cedar, split
//! at 0xFF bytes (missing parts are the demo's). Loading never panics; a failure is a list of
//! one-line problems that each name their file; a success compiles a table plan for every
//! principal and table without panicking.
#![no_main]

use kamei_policy::{Config, DEMO_FILES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xFF).map(String::from_utf8_lossy);
    let mut next = |demo: &str| parts.next().map_or_else(|| demo.to_owned(), |p| p.into_owned());
    let catalog = next(DEMO_FILES[1].1);
    let principals = next(DEMO_FILES[2].1);
    let policies = next(DEMO_FILES[3].1);
    match Config::from_texts(&catalog, &principals, &policies) {
        Err(e) => {
            for p in e.problems() {
                let line = p.to_string();
                assert!(!line.contains('\n'), "a problem spans lines: {line:?}");
                assert!(
                    ["catalog.toml", "principals.toml", "policies.cedar", "<kamei>"]
                        .iter()
                        .any(|f| line.contains(f)),
                    "a problem names no file: {line:?}"
                );
            }
        }
        Ok(config) => {
            for p in config.principals() {
                for t in &config.catalog().tables {
                    let plan = config.table_plan(&p.name, &t.name).expect("known principal and table");
                    assert_eq!(plan.columns().len(), t.columns.len());
                }
            }
        }
    }
});
