//! Property tests of the decision compiler against Cedar itself.
//!
//! Random principals, catalogs and policy sets (over everything the schema lets a policy see:
//! attributes, entity uids in scopes and conditions, actions) are compiled, and every cell is
//! compared with a direct evaluation of the whole policy set by Cedar's authorizer.

use std::collections::BTreeSet;

use cedar_policy::{Authorizer, Context, Decision as CedarDecision, Policy, PolicyId, PolicySet, Request};
use kamei_core::Level;
use proptest::prelude::*;

use crate::cedar::{self, DataAttrs, PrincipalAttrs, Uids};
use crate::compile::{self, DecisionTable};

const ROLES: [&str; 4] = ["support", "engineer", "moderator", "admin"];
const COUNTRIES: [&str; 3] = ["JP", "TH", "CN"];
const ORGS: [&str; 2] = ["line-jp", "ldt"];
const TABLES: [&str; 2] = ["users", "reports"];
const COLUMNS: [(&str, &str); 3] = [("a", "PHONE"), ("b", "NON_PERSONAL"), ("c", "FREE_TEXT")];
const JURISDICTIONS: [&str; 3] = ["JP", "TH", "TW"];
const ACTION_NAMES: [&str; 3] = ["read_raw", "read_masked", "read_pseudonymized"];

fn principal_strategy() -> impl Strategy<Value = (usize, usize, Vec<bool>)> {
    (
        0..ORGS.len(),
        0..COUNTRIES.len(),
        proptest::collection::vec(any::<bool>(), ROLES.len()),
    )
}

fn principals_strategy() -> impl Strategy<Value = Vec<PrincipalAttrs>> {
    proptest::collection::vec(principal_strategy(), 1..6).prop_map(|list| {
        list.into_iter()
            .enumerate()
            .map(|(i, (o, c, roles))| PrincipalAttrs {
                name: format!("p{i}"),
                org: ORGS[o].into(),
                country: COUNTRIES[c].into(),
                roles: ROLES
                    .iter()
                    .zip(roles)
                    .filter(|(_, on)| *on)
                    .map(|(r, _)| r.to_string())
                    .collect(),
            })
            .collect()
    })
}

fn data() -> Vec<DataAttrs> {
    let mut out = Vec::new();
    for t in TABLES {
        for (c, cat) in COLUMNS {
            for j in JURISDICTIONS {
                out.push(DataAttrs {
                    table: t.into(),
                    column: c.into(),
                    category: cat.into(),
                    jurisdiction: j.into(),
                });
            }
        }
    }
    out
}

/// One condition atom, as Cedar text.
fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..ROLES.len()).prop_map(|r| format!("principal.roles.contains(\"{}\")", ROLES[r])),
        (0..COUNTRIES.len()).prop_map(|c| format!("principal.country == \"{}\"", COUNTRIES[c])),
        (0..ORGS.len()).prop_map(|o| format!("principal.org == \"{}\"", ORGS[o])),
        Just("resource.jurisdiction == principal.country".to_owned()),
        (0..JURISDICTIONS.len()).prop_map(|j| format!("resource.jurisdiction == \"{}\"", JURISDICTIONS[j])),
        (0..COLUMNS.len()).prop_map(|c| format!("resource.category == \"{}\"", COLUMNS[c].1)),
        (0..TABLES.len()).prop_map(|t| format!("resource.table == \"{}\"", TABLES[t])),
        (0..COLUMNS.len()).prop_map(|c| format!("resource.column == \"{}\"", COLUMNS[c].0)),
        (0..6usize).prop_map(|p| format!("principal == Kamei::Principal::\"p{p}\"")),
        (0..6usize).prop_map(|p| format!("[Kamei::Principal::\"p{p}\"].contains(principal)")),
        (0..TABLES.len(), 0..COLUMNS.len(), 0..JURISDICTIONS.len()).prop_map(|(t, c, j)| format!(
            "resource == Kamei::Data::\"{}.{}@{}\"",
            TABLES[t], COLUMNS[c].0, JURISDICTIONS[j]
        )),
        Just("principal.roles.containsAny([\"support\", \"admin\"])".to_owned()),
    ]
}

/// A random policy's text (without its `@id`).
fn policy_text() -> impl Strategy<Value = String> {
    let effect = prop_oneof![3 => Just("permit"), 1 => Just("forbid")];
    let principal = prop_oneof![
        4 => Just("principal".to_owned()),
        1 => (0..6usize).prop_map(|p| format!("principal == Kamei::Principal::\"p{p}\"")),
        1 => Just("principal is Kamei::Principal".to_owned()),
    ];
    let action = prop_oneof![
        2 => Just("action".to_owned()),
        3 => (0..3usize).prop_map(|a| format!("action == Kamei::Action::\"{}\"", ACTION_NAMES[a])),
        1 => (0..3usize).prop_map(|a| format!(
            "action in [Kamei::Action::\"{}\", Kamei::Action::\"{}\"]",
            ACTION_NAMES[a],
            ACTION_NAMES[(a + 1) % 3]
        )),
    ];
    let resource = prop_oneof![
        5 => Just("resource".to_owned()),
        1 => (0..TABLES.len(), 0..COLUMNS.len(), 0..JURISDICTIONS.len()).prop_map(|(t, c, j)| format!(
            "resource == Kamei::Data::\"{}.{}@{}\"",
            TABLES[t], COLUMNS[c].0, JURISDICTIONS[j]
        )),
    ];
    let conditions = proptest::collection::vec((atom(), any::<bool>()), 0..3);
    (effect, principal, action, resource, conditions, any::<bool>()).prop_map(
        |(e, p, a, r, conds, unless)| {
            let body = if conds.is_empty() {
                String::new()
            } else {
                let parts: Vec<String> = conds
                    .iter()
                    .map(|(c, neg)| if *neg { format!("!({c})") } else { c.clone() })
                    .collect();
                format!(
                    " {} {{ {} }}",
                    if unless { "unless" } else { "when" },
                    parts.join(" && ")
                )
            };
            format!("{e}({p}, {a}, {r}){body};")
        },
    )
}

fn policies(texts: &[String]) -> Vec<Policy> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Policy::parse(Some(PolicyId::new(format!("r{i}"))), t).unwrap())
        .collect()
}

/// The level and deciding policies by asking Cedar for every action with the whole set;
/// `None` when some evaluation raised an error (then kamei must deny).
fn direct(
    set: &PolicySet,
    entities: &cedar_policy::Entities,
    uids: &Uids,
    p: &PrincipalAttrs,
    d: &DataAttrs,
) -> Option<(Level, BTreeSet<String>)> {
    let authorizer = Authorizer::new();
    let mut blocking = BTreeSet::new();
    let mut result = None;
    for (name, level) in cedar::ACTIONS {
        let request = Request::new(
            uids.principal(&p.name),
            uids.action(name),
            d.uid(uids),
            Context::empty(),
            None,
        )
        .unwrap();
        let response = authorizer.is_authorized(&request, set, entities);
        if response.diagnostics().errors().next().is_some() {
            return None;
        }
        let reasons: BTreeSet<String> = response.diagnostics().reason().map(|id| id.to_string()).collect();
        if result.is_none() {
            match response.decision() {
                CedarDecision::Allow => result = Some((level, reasons)),
                CedarDecision::Deny => blocking.extend(reasons),
            }
        }
    }
    Some(match result {
        Some((level, mut reasons)) => {
            reasons.extend(blocking);
            (level, reasons)
        }
        None => (Level::Denied, blocking),
    })
}

fn compile_all(texts: &[String], principals: &[PrincipalAttrs]) -> (DecisionTable, Vec<Policy>) {
    let schema = cedar::schema().unwrap();
    let list = policies(texts);
    let table = compile::compile(&schema, &list, principals, &data()).unwrap();
    (table, list)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn compiled_table_agrees_with_direct_cedar_evaluation(
        principals in principals_strategy(),
        texts in proptest::collection::vec(policy_text(), 0..7),
    ) {
        let (table, list) = compile_all(&texts, &principals);
        let schema = cedar::schema().unwrap();
        let uids = Uids::new().unwrap();
        let data = data();
        let entities = cedar::entities(&uids, &schema, &principals, &data).unwrap();
        let set = PolicySet::from_policies(list).unwrap();
        for (pi, p) in principals.iter().enumerate() {
            for (di, d) in data.iter().enumerate() {
                let (level, reasons) = table.get(pi, di);
                let reasons: BTreeSet<String> = reasons.map(str::to_owned).collect();
                match direct(&set, &entities, &uids, p, d) {
                    Some((want, want_reasons)) => {
                        prop_assert_eq!(level, want, "{:?} {:?} {:?}", p, d, texts);
                        prop_assert_eq!(reasons, want_reasons, "{:?} {:?} {:?}", p, d, texts);
                    }
                    None => prop_assert_eq!(level, Level::Denied),
                }
            }
        }
    }

    #[test]
    fn forbid_always_wins(
        principals in principals_strategy(),
        texts in proptest::collection::vec(policy_text(), 0..6),
        victim in 0..6usize,
        action in 0..3usize,
    ) {
        let mut texts = texts;
        // Everything is permitted, and then forbidden for one principal and for one action.
        texts.push("permit(principal, action, resource);".into());
        texts.push(format!("forbid(principal == Kamei::Principal::\"p{victim}\", action, resource);"));
        texts.push(format!("forbid(principal, action == Kamei::Action::\"{}\", resource);", ACTION_NAMES[action]));
        let (table, _) = compile_all(&texts, &principals);
        let forbidden_level = cedar::ACTIONS[action].1;
        for (pi, p) in principals.iter().enumerate() {
            for di in 0..data().len() {
                let level = table.level(pi, di);
                if p.name == format!("p{victim}") {
                    prop_assert_eq!(level, Level::Denied);
                }
                prop_assert_ne!(level, forbidden_level);
            }
        }
    }

    #[test]
    fn raw_is_only_ever_granted_by_a_policy_that_permits_read_raw(
        principals in principals_strategy(),
        texts in proptest::collection::vec(policy_text(), 0..7),
    ) {
        let (table, list) = compile_all(&texts, &principals);
        let raw = cedar::Uids::new().unwrap().action("read_raw");
        for pi in 0..principals.len() {
            for di in 0..data().len() {
                let (level, reasons) = table.get(pi, di);
                if level == Level::Raw {
                    let reasons: Vec<&str> = reasons.collect();
                    let grants = reasons.iter().filter(|id| {
                        let p = list.iter().find(|p| p.id().to_string() == **id).unwrap();
                        p.effect() == cedar_policy::Effect::Permit && match p.action_constraint() {
                            cedar_policy::ActionConstraint::Any => true,
                            cedar_policy::ActionConstraint::Eq(a) => a == raw,
                            cedar_policy::ActionConstraint::In(l) => l.contains(&raw),
                        }
                    });
                    prop_assert!(grants.count() > 0);
                }
            }
        }
    }

    /// With the demo policies, whatever principals exist: nobody reads a personal column of
    /// another jurisdiction raw except through the break-glass policy, which names that grant.
    #[test]
    fn demo_policies_grant_no_cross_border_raw_but_break_glass(principals in principals_strategy()) {
        let schema = cedar::schema().unwrap();
        let mut problems = Vec::new();
        let source = crate::source::Source { name: "policies.cedar", text: crate::DEMO_FILES[3].1 };
        let demo = cedar::parse_policies(&source, &schema, &mut problems).unwrap();
        let data = data();
        let table = compile::compile(&schema, &demo.list, &principals, &data).unwrap();
        for (pi, p) in principals.iter().enumerate() {
            for (di, d) in data.iter().enumerate() {
                let (level, reasons) = table.get(pi, di);
                let reasons: Vec<&str> = reasons.collect();
                if level == Level::Raw && d.jurisdiction != p.country && d.category != "NON_PERSONAL" {
                    prop_assert!(p.roles.iter().any(|r| r == "admin"), "{:?} {:?} {:?}", p, d, reasons);
                    prop_assert_eq!(reasons, vec!["admin-break-glass"]);
                }
            }
        }
    }
}

#[test]
fn an_evaluation_error_denies() {
    // Integer overflow is an evaluation error that validation cannot rule out.
    let texts = vec![
        "permit(principal, action, resource);".to_owned(),
        "forbid(principal, action, resource) when { principal.org like \"x*\" && (if principal.country == \"JP\" then 1 else 9223372036854775807 + 1) == 1 };".to_owned(),
    ];
    let principals = vec![
        PrincipalAttrs {
            name: "p0".into(),
            org: "xo".into(),
            country: "TH".into(),
            roles: vec![],
        },
        PrincipalAttrs {
            name: "p1".into(),
            org: "ab".into(),
            country: "TH".into(),
            roles: vec![],
        },
    ];
    let (table, _) = compile_all(&texts, &principals);
    let (level, reasons) = table.get(0, 0);
    assert_eq!(level, Level::Denied);
    assert_eq!(reasons.collect::<Vec<_>>(), vec!["r1"]);
    assert_eq!(table.level(1, 0), Level::Raw);
}

#[test]
fn uid_named_principals_are_not_merged_with_look_alikes() {
    let texts = vec!["permit(principal == Kamei::Principal::\"p1\", action, resource);".to_owned()];
    let same = |name: &str| PrincipalAttrs {
        name: name.into(),
        org: "o".into(),
        country: "JP".into(),
        roles: vec![],
    };
    let (table, _) = compile_all(&texts, &[same("p0"), same("p1")]);
    assert_eq!(table.level(0, 0), Level::Denied);
    assert_eq!(table.level(1, 0), Level::Raw);
}
