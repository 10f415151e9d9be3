//! `kamei policy assert`'s checker on the demo configuration: the three invariants of issue 18,
//! the fallback for jurisdictions the catalog does not list, and the files it must refuse
//! rather than pass vacuously.

use kamei_core::Level;
use kamei_policy::Config;
use kamei_report::{InvariantError, Invariants};

const ISSUE_EXAMPLES: &str = r#"
[[invariant]]
name = "no principal outside Japan reads raw contact data of users in Japan"
countries_except = ["JP"]
categories = ["PHONE", "EMAIL", "PERSON", "ADDRESS", "MY_NUMBER"]
jurisdictions = ["JP"]
at_most = "masked"

[[invariant]]
name = "no org other than line-jp reads My Number at any level"
orgs_except = ["line-jp"]
categories = ["MY_NUMBER"]
at_most = "denied"

[[invariant]]
name = "kr_moderator reads no users column"
principals = ["kr_moderator"]
tables = ["users"]
at_most = "denied"
"#;

fn check(text: &str) -> Result<Vec<(String, usize, Vec<kamei_report::Decision>)>, InvariantError> {
    let config = Config::demo().unwrap();
    let invariants = Invariants::parse(text, "test.toml")?;
    Ok(invariants
        .check(&config, "test.toml")?
        .into_iter()
        .map(|o| (o.rule.name.clone(), o.checked, o.violations))
        .collect())
}

#[test]
fn the_issues_invariants_on_the_demo_configuration() {
    let outcomes = check(ISSUE_EXAMPLES).unwrap();
    let config = Config::demo().unwrap();
    let matrix = config.matrix();
    // 1. Every decision it selects, counted independently from the matrix: principals outside
    //    Japan, five categories, subjects in Japan; none above masked.
    let selected = matrix
        .iter()
        .filter(|r| {
            config.principal(r.principal).unwrap().country.as_str() != "JP"
                && ["PHONE", "EMAIL", "PERSON", "ADDRESS", "MY_NUMBER"].contains(&r.category.as_str())
                && r.jurisdiction.as_str() == "JP"
        })
        .count();
    assert_eq!((outcomes[0].1, outcomes[0].2.len()), (selected, 0));
    // 2. The demo lets th_support (org line-th) read My Number: raw for Thai subjects,
    //    pseudonymized elsewhere, and by the fallback for any unlisted jurisdiction.
    let violations = &outcomes[1].2;
    assert!(!violations.is_empty());
    assert!(
        violations
            .iter()
            .all(|v| v.principal == "th_support" && v.column == "my_number")
    );
    assert!(
        violations
            .iter()
            .any(|v| v.level == Level::Raw && v.jurisdiction.map(|j| j.to_string()) == Some("TH".into()))
    );
    assert!(violations.iter().any(|v| v.jurisdiction.is_none()));
    assert!(violations.iter().all(|v| !v.policies.is_empty()));
    // 3. Holds, over every users column in every jurisdiction and the fallback.
    let columns = config
        .catalog()
        .tables
        .iter()
        .find(|t| t.name == "users")
        .unwrap()
        .columns
        .len();
    let jurisdictions = config.catalog().jurisdictions.len();
    assert_eq!(
        (outcomes[2].1, outcomes[2].2.len()),
        (columns * (jurisdictions + 1), 0)
    );
}

#[test]
fn jurisdictions_the_catalog_does_not_list_get_the_fallback_and_are_checked() {
    let rule = |jurisdictions: &str| {
        format!(
            "[[invariant]]\nname = \"x\"\nprincipals = [\"admin\"]\njurisdictions = [{jurisdictions}]\nat_most = \"denied\"\n"
        )
    };
    // Korea is not in the demo catalog: its subjects get each column's fallback, which for
    // admin is not denied everywhere.
    let korea = check(&rule("\"KR\"")).unwrap();
    assert!(korea[0].2.iter().all(|v| v.jurisdiction.is_none()));
    assert!(!korea[0].2.is_empty());
    let japan = check(&rule("\"JP\"")).unwrap();
    assert!(japan[0].2.iter().all(|v| v.jurisdiction.is_some()));
}

#[test]
fn files_that_would_prove_nothing_are_refused() {
    for (text, wanted) in [
        ("", "no [[invariant]]"),
        (
            "[[invariant]]\nname = \"x\"\nat_most = \"denied\"\nprincipal = [\"admin\"]\n",
            "unknown field",
        ),
        ("[[invariant]]\nname = \"x\"\nat_most = \"secret\"\n", "level"),
        (
            "[[invariant]]\nname = \"x\"\nprincipals = [\"kr_moderater\"]\nat_most = \"denied\"\n",
            "no principal `kr_moderater`",
        ),
        (
            "[[invariant]]\nname = \"x\"\ncolumns = [\"users.phone_number\"]\nat_most = \"denied\"\n",
            "no column",
        ),
        (
            "[[invariant]]\nname = \"x\"\ntables = [\"users\"]\ncolumns = [\"messages.body\"]\nat_most = \"denied\"\n",
            "selects no decision",
        ),
    ] {
        let err = check(text).unwrap_err().to_string();
        assert!(err.contains(wanted), "{text:?}: {err}");
        assert!(err.contains("test.toml"), "{err}");
    }
}
