//! The configuration at issue 18's scale, 1,000 principals × 500 columns × 10 jurisdictions,
//! written to a directory: shared by kamei-policy's `compile` bench (loading it) and
//! kamei-report's `exposure` bench (reports over it), so both time the same configuration.
//!
//! 50 tables of 10 columns, the demo policies plus policies that name principals, columns and
//! orgs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use kamei_policy::DEMO_FILES;

pub const PRINCIPALS: usize = 1000;
pub const TABLES: usize = 50;
pub const COLUMNS_PER_TABLE: usize = 10;
pub const JURISDICTIONS: [&str; 10] = ["JP", "TH", "TW", "ID", "KR", "SG", "VN", "PH", "MY", "US"];
const COUNTRIES: [&str; 12] = [
    "JP", "TH", "TW", "ID", "KR", "SG", "VN", "PH", "MY", "US", "CN", "IN",
];
const CATEGORIES: [&str; 10] = [
    "SUBJECT_KEY",
    "NON_PERSONAL",
    "PERSON",
    "PHONE",
    "EMAIL",
    "ADDRESS",
    "ACCOUNT_ID",
    "FREE_TEXT",
    "QUASI_IDENTIFIER",
    "NON_PERSONAL",
];
const ROLE_SETS: [&[&str]; 7] = [
    &["support"],
    &["engineer"],
    &["moderator"],
    &["auditor"],
    &["support", "moderator"],
    &["engineer", "oncall"],
    &["analyst"],
];

fn catalog() -> String {
    let mut s = format!("jurisdictions = {:?}\n", JURISDICTIONS);
    for t in 0..TABLES {
        write!(s, "\n[[tables]]\nname = \"t{t:02}\"\nsubject_key = \"c0\"\njurisdiction_column = \"c1\"\ncolumns = [\n").unwrap();
        for c in 0..COLUMNS_PER_TABLE {
            // Vary the category mix per table so (table, category) pairs are many; c0 is the
            // table's only subject key (another would need its own `subjects` entry).
            let (category, typed) = if c == 0 {
                (CATEGORIES[0], ", type = \"BIGINT\"")
            } else if c == 1 {
                (CATEGORIES[1], "")
            } else {
                (CATEGORIES[1 + (c + t) % (CATEGORIES.len() - 1)], "")
            };
            writeln!(s, "  {{ name = \"c{c}\", category = \"{category}\"{typed} }},").unwrap();
        }
        s.push_str("]\n");
    }
    s
}

fn principals(credential: &str) -> String {
    let mut s = String::new();
    for i in 0..PRINCIPALS {
        let roles: Vec<String> = if i % 97 == 0 {
            vec!["\"admin\"".into()]
        } else {
            ROLE_SETS[(i / 3) % ROLE_SETS.len()]
                .iter()
                .map(|r| format!("\"{r}\""))
                .collect()
        };
        write!(
            s,
            "[[principals]]\nname = \"p{i:04}\"\norg = \"org{:02}\"\ncountry = \"{}\"\nroles = [{}]\ncredential = \"{credential}\"\n\n",
            i % 40,
            COUNTRIES[(i * 7) % COUNTRIES.len()],
            roles.join(", ")
        )
        .unwrap();
    }
    s
}

fn policies() -> String {
    let mut s = DEMO_FILES[3].1.to_owned();
    s.push_str(
        r#"
@id("named-oncall-break-glass")
permit (principal, action == Kamei::Action::"read_raw", resource)
when { [Kamei::Principal::"p0001", Kamei::Principal::"p0500", Kamei::Principal::"p0999"].contains(principal) };

@id("hide-t07-c3")
forbid (principal, action, resource)
when { resource.table == "t07" && resource.column == "c3" };

@id("org03-masked-phones")
permit (principal, action == Kamei::Action::"read_masked", resource)
when { principal.org == "org03" && resource.category == "PHONE" };

@id("analysts-pseudonyms-outside-us")
permit (principal, action == Kamei::Action::"read_pseudonymized", resource)
when { principal.roles.contains("analyst") && resource.jurisdiction != "US" };

@id("one-column-for-p0042")
permit (principal == Kamei::Principal::"p0042", action == Kamei::Action::"read_raw", resource)
when { resource.table == "t11" && resource.column == "c5" };
"#,
    );
    s
}

/// Writes the configuration into `dir`; returns its policies' text and the path of its
/// `kamei.toml`.
pub fn write(dir: &Path) -> (String, PathBuf) {
    let credential = DEMO_FILES[2]
        .1
        .lines()
        .find_map(|l| {
            l.strip_prefix("credential = \"")
                .and_then(|v| v.strip_suffix('"'))
        })
        .expect("a demo credential");
    let policy_text = policies();
    for (name, text) in [
        ("kamei.toml", DEMO_FILES[0].1.to_owned()),
        ("catalog.toml", catalog()),
        ("principals.toml", principals(credential)),
        ("policies.cedar", policy_text.clone()),
    ] {
        std::fs::write(dir.join(name), text).expect("write");
    }
    (policy_text, dir.join("kamei.toml"))
}
