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

/// Issue 18, "Done when": `policy assert` against brute force over random configurations.
///
/// Each case compiles the demo catalog and principals with a random policy set, writes a random
/// invariant, and compares the checker's answer with an enumeration written apart from it:
/// every principal × catalog column × listed jurisdiction, plus `ZZ` standing for every
/// jurisdiction the catalog does not list, each at the level the gateway's own table plan
/// gives (`TablePlan`, not the matrix the checker reads), selected by the invariant's
/// selectors as its documentation states them.
mod brute_force {
    use std::collections::BTreeSet;

    use kamei_core::{Jurisdiction, Level};
    use kamei_policy::{Config, DEMO_FILES};
    use kamei_report::Invariants;
    use proptest::prelude::*;

    const ORGS: [&str; 5] = ["line-jp", "line-th", "ldt-shanghai", "naver-kr", "nobody-org"];
    const COUNTRIES: [&str; 5] = ["JP", "TH", "CN", "KR", "TW"];
    const ROLES: [&str; 4] = ["support", "engineer", "moderator", "admin"];
    const JURISDICTIONS: [&str; 5] = ["JP", "TH", "TW", "ID", "ZZ"];
    const CATEGORIES: [&str; 5] = ["PHONE", "EMAIL", "SUBJECT_KEY", "FREE_TEXT", "MY_NUMBER"];
    const TABLES: [&str; 4] = ["users", "messages", "reports", "payments"];
    const ACTIONS: [&str; 3] = ["read_raw", "read_masked", "read_pseudonymized"];
    const LEVELS: [&str; 4] = ["denied", "pseudonymized", "masked", "raw"];

    fn atom() -> impl Strategy<Value = String> {
        prop_oneof![
            (0..ROLES.len()).prop_map(|r| format!("principal.roles.contains(\"{}\")", ROLES[r])),
            (0..COUNTRIES.len()).prop_map(|c| format!("principal.country == \"{}\"", COUNTRIES[c])),
            (0..ORGS.len()).prop_map(|o| format!("principal.org == \"{}\"", ORGS[o])),
            Just("resource.jurisdiction == principal.country".to_owned()),
            (0..4usize).prop_map(|j| format!("resource.jurisdiction == \"{}\"", JURISDICTIONS[j])),
            (0..CATEGORIES.len()).prop_map(|c| format!("resource.category == \"{}\"", CATEGORIES[c])),
            (0..TABLES.len()).prop_map(|t| format!("resource.table == \"{}\"", TABLES[t])),
        ]
    }

    fn policy() -> impl Strategy<Value = (bool, usize, Vec<String>)> {
        (
            proptest::bool::weighted(0.25),
            0..ACTIONS.len(),
            proptest::collection::vec(atom(), 0..3),
        )
    }

    fn policies() -> impl Strategy<Value = String> {
        proptest::collection::vec(policy(), 1..6).prop_map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, (forbid, action, when))| {
                    let effect = if *forbid { "forbid" } else { "permit" };
                    let cond = if when.is_empty() {
                        String::new()
                    } else {
                        format!(" when {{ {} }}", when.join(" && "))
                    };
                    format!(
                        "@id(\"p{i}\")\n{effect} (principal, action == Kamei::Action::\"{}\", resource){cond};\n",
                        ACTIONS[*action]
                    )
                })
                .collect()
        })
    }

    /// An invariant's selectors, each a subset of names that exist in the demo configuration.
    #[derive(Debug, Clone)]
    struct Rule {
        principals: Vec<String>,
        orgs: Vec<&'static str>,
        orgs_except: Vec<&'static str>,
        countries_except: Vec<&'static str>,
        tables: Vec<&'static str>,
        categories: Vec<&'static str>,
        jurisdictions: Vec<&'static str>,
        jurisdictions_except: Vec<&'static str>,
        cross_border: bool,
        at_most: usize,
    }

    fn pick<T: Clone + std::fmt::Debug>(from: Vec<T>) -> impl Strategy<Value = Vec<T>> {
        let n = from.len();
        proptest::collection::vec(proptest::bool::weighted(0.3), n).prop_map(move |on| {
            from.iter()
                .zip(on)
                .filter(|(_, on)| *on)
                .map(|(v, _)| v.clone())
                .collect()
        })
    }

    fn rule() -> impl Strategy<Value = Rule> {
        let principals: Vec<String> = Config::demo()
            .unwrap()
            .principals()
            .iter()
            .map(|p| p.name.clone())
            .collect();
        let orgs = ORGS[..4].to_vec();
        (
            (
                pick(principals),
                pick(orgs.clone()),
                pick(orgs),
                pick(COUNTRIES[..2].to_vec()),
                pick(TABLES.to_vec()),
            ),
            (
                pick(CATEGORIES.to_vec()),
                pick(JURISDICTIONS.to_vec()),
                pick(JURISDICTIONS[..4].to_vec()),
                proptest::bool::weighted(0.3),
                0..LEVELS.len(),
            ),
        )
            .prop_map(
                |(
                    (principals, orgs, orgs_except, countries_except, tables),
                    (categories, jurisdictions, jurisdictions_except, cross_border, at_most),
                )| Rule {
                    principals,
                    orgs,
                    orgs_except,
                    countries_except,
                    tables,
                    categories,
                    jurisdictions,
                    jurisdictions_except,
                    cross_border,
                    at_most,
                },
            )
    }

    fn toml(rule: &Rule) -> String {
        let list = |key: &str, v: &[&str]| {
            if v.is_empty() {
                String::new()
            } else {
                format!("{key} = {v:?}\n")
            }
        };
        let principals: Vec<&str> = rule.principals.iter().map(String::as_str).collect();
        format!(
            "[[invariant]]\nname = \"random\"\nat_most = \"{}\"\ncross_border = {}\n{}{}{}{}{}{}{}{}",
            LEVELS[rule.at_most],
            rule.cross_border,
            list("principals", &principals),
            list("orgs", &rule.orgs),
            list("orgs_except", &rule.orgs_except),
            list("countries_except", &rule.countries_except),
            list("tables", &rule.tables),
            list("categories", &rule.categories),
            list("jurisdictions", &rule.jurisdictions),
            list("jurisdictions_except", &rule.jurisdictions_except),
        )
    }

    type Cell = (String, String, String, Option<String>, Level);

    /// Every selected cell and its level, by enumeration.
    fn brute(config: &Config, rule: &Rule) -> Vec<Cell> {
        let mut out = Vec::new();
        let listed: BTreeSet<String> = config
            .catalog()
            .jurisdictions
            .iter()
            .map(|j| j.to_string())
            .collect();
        let has = |list: &[&str], v: &str| list.is_empty() || list.contains(&v);
        for p in config.principals() {
            let country = p.country.to_string();
            if !has(
                &rule.principals.iter().map(String::as_str).collect::<Vec<_>>(),
                &p.name,
            ) || !has(&rule.orgs, &p.org)
                || rule.orgs_except.contains(&p.org.as_str())
                || rule.countries_except.contains(&country.as_str())
            {
                continue;
            }
            for table in &config.catalog().tables {
                if !has(&rule.tables, &table.name) {
                    continue;
                }
                let Ok(plan) = config.table_plan(&p.name, &table.name) else {
                    continue;
                };
                for column in plan.columns() {
                    if !has(&rule.categories, column.category().as_str()) {
                        continue;
                    }
                    for j in listed.iter().map(String::as_str).chain(["ZZ"]) {
                        let unlisted = j == "ZZ";
                        // `ZZ` stands for infinitely many codes: a list naming any unlisted
                        // code selects it, an exception never removes all of them, and some
                        // of them always lie across the principal's border.
                        let selected = if unlisted {
                            rule.jurisdictions.is_empty() || rule.jurisdictions.contains(&"ZZ")
                        } else {
                            has(&rule.jurisdictions, j)
                                && !rule.jurisdictions_except.contains(&j)
                                && (!rule.cross_border || country != j)
                        };
                        if !selected {
                            continue;
                        }
                        let decision = if unlisted {
                            column.fallback()
                        } else {
                            column.decision(Some(j.parse::<Jurisdiction>().unwrap()))
                        };
                        out.push((
                            p.name.clone(),
                            table.name.clone(),
                            column.column().to_owned(),
                            (!unlisted).then(|| j.to_owned()),
                            decision.level,
                        ));
                    }
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn assert_agrees_with_brute_force(policies in policies(), rule in rule()) {
            let [_, (_, catalog), (_, principals), _] = DEMO_FILES;
            let config = Config::from_texts(catalog, principals, &policies).unwrap();
            let text = toml(&rule);
            let invariants = Invariants::parse(&text, "random.toml").unwrap();
            let selected = brute(&config, &rule);
            let want: BTreeSet<Cell> = selected
                .iter()
                .filter(|c| c.4.index() > rule.at_most)
                .cloned()
                .collect();
            match invariants.check(&config, "random.toml") {
                Err(e) => prop_assert!(selected.is_empty(), "{e} but {} cells are selected\n{text}", selected.len()),
                Ok(outcomes) => {
                    prop_assert_eq!(outcomes.len(), 1);
                    prop_assert_eq!(outcomes[0].checked, selected.len(), "{}", text);
                    let got: BTreeSet<Cell> = outcomes[0]
                        .violations
                        .iter()
                        .map(|d| (
                            d.principal.clone(),
                            d.table.clone(),
                            d.column.clone(),
                            d.jurisdiction.map(|j| j.to_string()),
                            d.level,
                        ))
                        .collect();
                    prop_assert_eq!(got, want, "{}", text);
                }
            }
        }
    }
}
