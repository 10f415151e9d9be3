//! Invariants the privacy team writes about a configuration, checked over every decision it
//! makes: each principal, each catalog column, each data-subject jurisdiction. The domain is
//! finite and the check enumerates all of it, so a pass is a proof for the configuration at
//! hand, not a sample; a failure lists every decision that breaks the invariant.
//!
//! The file is TOML, one `[[invariant]]` per rule:
//!
//! ```toml
//! [[invariant]]
//! name = "no raw contact data of users in Japan abroad"
//! countries_except = ["JP"]                    # which principals
//! categories = ["PHONE", "EMAIL", "PERSON", "ADDRESS", "MY_NUMBER"]
//! jurisdictions = ["JP"]                       # whose data
//! at_most = "masked"                           # denied < pseudonymized < masked < raw
//! ```
//!
//! Selectors (all optional; those given must all match, a list matches any of its items):
//! principals by `principals`, `orgs`, `orgs_except`, `countries`, `countries_except`,
//! `roles`; data by `tables`, `columns` (`TABLE.COLUMN`), `categories`, `jurisdictions`,
//! `jurisdictions_except`; `cross_border = true` keeps decisions where the principal's country
//! is not the subject's jurisdiction. Subjects of a jurisdiction the catalog does not list get
//! each column's fail-closed fallback; those decisions are checked too (shown as `other`). A
//! name that is not in the configuration, an unknown key,
//! and a rule that selects no decision at all are errors: a rule that matches nothing would
//! pass without proving anything.

use std::collections::HashMap;
use std::path::Path;

use kamei_core::{Category, Jurisdiction, Level};
use kamei_policy::{Config, Principal};
use serde::Deserialize;

/// A file of invariants.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invariants {
    #[serde(rename = "invariant", default)]
    pub rules: Vec<Invariant>,
}

/// One rule: every selected decision is at most `at_most`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invariant {
    pub name: String,
    pub at_most: Level,
    #[serde(default)]
    principals: Vec<String>,
    #[serde(default)]
    orgs: Vec<String>,
    #[serde(default)]
    orgs_except: Vec<String>,
    #[serde(default)]
    countries: Vec<Jurisdiction>,
    #[serde(default)]
    countries_except: Vec<Jurisdiction>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    tables: Vec<String>,
    #[serde(default)]
    columns: Vec<String>,
    #[serde(default)]
    categories: Vec<Category>,
    #[serde(default)]
    jurisdictions: Vec<Jurisdiction>,
    #[serde(default)]
    jurisdictions_except: Vec<Jurisdiction>,
    #[serde(default)]
    cross_border: bool,
}

/// Why a file of invariants cannot be checked.
#[derive(Debug, thiserror::Error)]
pub enum InvariantError {
    #[error("cannot read `{path}`: {message}")]
    Read { path: String, message: String },
    #[error("`{path}`: {message}")]
    Syntax { path: String, message: String },
    #[error("`{path}`, invariant `{rule}`: {message}")]
    Rule {
        path: String,
        rule: String,
        message: String,
    },
}

/// What checking one rule found.
#[derive(Debug)]
pub struct Outcome<'a> {
    pub rule: &'a Invariant,
    /// Decisions the rule selected.
    pub checked: usize,
    /// The selected decisions above `at_most`.
    pub violations: Vec<Decision>,
}

/// One decision of the configuration: the level a principal reads a column at for the data
/// subjects of one jurisdiction, and the policies that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub principal: String,
    pub table: String,
    pub column: String,
    pub category: Category,
    /// `None` for every jurisdiction the catalog does not list (they all get the column's
    /// fail-closed fallback).
    pub jurisdiction: Option<Jurisdiction>,
    pub level: Level,
    pub policies: Vec<String>,
}

/// One decision borrowed from the configuration and its compiled plans: checking millions of
/// them (1,000 principals × 500 columns × 10 jurisdictions) copies nothing per decision; only
/// those a report keeps become a [`Decision`].
pub(crate) struct DecisionRef<'c, 'd> {
    pub principal: &'c Principal,
    pub table: &'c str,
    pub column: &'d str,
    pub category: Category,
    /// `None` for every jurisdiction the catalog does not list.
    pub jurisdiction: Option<Jurisdiction>,
    pub level: Level,
    pub policies: &'d [&'d str],
}

impl DecisionRef<'_, '_> {
    pub(crate) fn to_decision(&self) -> Decision {
        Decision {
            principal: self.principal.name.clone(),
            table: self.table.to_owned(),
            column: self.column.to_owned(),
            category: self.category,
            jurisdiction: self.jurisdiction,
            level: self.level,
            policies: self.policies.iter().map(|p| (*p).to_owned()).collect(),
        }
    }
}

/// Calls `f` with every decision of `config`: the compiled matrix, then per principal and
/// column the fallback that subjects of any jurisdiction the catalog does not list get.
pub(crate) fn for_each_decision<'c>(config: &'c Config, mut f: impl FnMut(&DecisionRef<'c, '_>)) {
    // The matrix names principals; rows come principal by principal, so one lookup each.
    let by_name: HashMap<&str, &Principal> =
        config.principals().iter().map(|p| (p.name.as_str(), p)).collect();
    let mut last: Option<&'c Principal> = None;
    for row in config.matrix_rows() {
        let principal = match last {
            Some(p) if p.name == row.principal => p,
            _ => {
                let Some(p) = by_name.get(row.principal).copied() else {
                    continue;
                };
                last = Some(p);
                p
            }
        };
        f(&DecisionRef {
            principal,
            table: row.table,
            column: row.column,
            category: row.category,
            jurisdiction: Some(row.jurisdiction),
            level: row.level,
            policies: &row.policies,
        });
    }
    for p in config.principals() {
        for table in &config.catalog().tables {
            let Ok(plan) = config.table_plan(&p.name, &table.name) else {
                continue;
            };
            for c in plan.columns() {
                let fallback = c.fallback();
                let policies: Vec<&str> = fallback.policies.iter().map(String::as_str).collect();
                f(&DecisionRef {
                    principal: p,
                    table: &table.name,
                    column: c.column(),
                    category: c.category(),
                    jurisdiction: None,
                    level: fallback.level,
                    policies: &policies,
                });
            }
        }
    }
}

impl Invariants {
    /// Reads and parses a file of invariants.
    pub fn load(path: &Path) -> Result<Invariants, InvariantError> {
        let text = std::fs::read_to_string(path).map_err(|e| InvariantError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Invariants::parse(&text, &path.display().to_string())
    }

    /// Parses invariants; `path` names the text in errors.
    pub fn parse(text: &str, path: &str) -> Result<Invariants, InvariantError> {
        let invariants: Invariants = toml::from_str(text).map_err(|e| InvariantError::Syntax {
            path: path.to_owned(),
            message: e.message().to_owned()
                + &e.span()
                    .map(|s| {
                        format!(
                            " (at line {})",
                            text[..s.start.min(text.len())].lines().count().max(1)
                        )
                    })
                    .unwrap_or_default(),
        })?;
        if invariants.rules.is_empty() {
            return Err(InvariantError::Syntax {
                path: path.to_owned(),
                message: "no [[invariant]] in the file".into(),
            });
        }
        Ok(invariants)
    }

    /// Checks every rule over every decision of `config`, in one pass over the decisions.
    /// Errors are those of checking the rules one by one, in file order: the first rule that
    /// names something unknown or selects nothing.
    pub fn check<'a>(&'a self, config: &'a Config, path: &str) -> Result<Vec<Outcome<'a>>, InvariantError> {
        let error = |rule: &Invariant, message: String| InvariantError::Rule {
            path: path.to_owned(),
            rule: rule.name.clone(),
            message,
        };
        // Rules before the first with an unknown name are checked; that one's error comes
        // after theirs.
        let mut unknown = None;
        let mut rules = Vec::with_capacity(self.rules.len());
        for rule in &self.rules {
            if let Err(message) = rule.names_exist(config) {
                unknown = Some(error(rule, message));
                break;
            }
            rules.push(rule);
        }
        let mut outcomes: Vec<Outcome<'a>> = rules
            .iter()
            .map(|rule| Outcome {
                rule,
                checked: 0,
                violations: Vec::new(),
            })
            .collect();
        let listed = &config.catalog().jurisdictions;
        for_each_decision(config, |d| {
            for outcome in &mut outcomes {
                if outcome.rule.selects(listed, d) {
                    outcome.checked += 1;
                    if d.level.index() > outcome.rule.at_most.index() {
                        outcome.violations.push(d.to_decision());
                    }
                }
            }
        });
        if let Some(outcome) = outcomes.iter().find(|o| o.checked == 0) {
            return Err(error(
                outcome.rule,
                "it selects no decision of this configuration, so it would prove nothing (check its selectors)".into(),
            ));
        }
        match unknown {
            Some(e) => Err(e),
            None => Ok(outcomes),
        }
    }
}

impl Invariant {
    fn selects(&self, listed: &[Jurisdiction], d: &DecisionRef<'_, '_>) -> bool {
        let p = d.principal;
        let any = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        // The fallback stands for every unlisted jurisdiction: it is selected by a list naming
        // one of them, never excluded (infinitely many remain), always across a border.
        let jurisdiction = match d.jurisdiction {
            Some(j) => {
                (self.jurisdictions.is_empty() || self.jurisdictions.contains(&j))
                    && !self.jurisdictions_except.contains(&j)
                    && (!self.cross_border || p.country != j)
            }
            None => self.jurisdictions.is_empty() || self.jurisdictions.iter().any(|j| !listed.contains(j)),
        };
        any(&self.principals, &p.name)
            && any(&self.orgs, &p.org)
            && !self.orgs_except.contains(&p.org)
            && (self.countries.is_empty() || self.countries.contains(&p.country))
            && !self.countries_except.contains(&p.country)
            && (self.roles.is_empty() || p.roles.iter().any(|r| self.roles.contains(r)))
            && any(&self.tables, d.table)
            && (self.columns.is_empty() || self.columns.iter().any(|c| names_column(c, d.table, d.column)))
            && (self.categories.is_empty() || self.categories.contains(&d.category))
            && jurisdiction
    }

    /// Every principal, org, role, table and column the rule names is in the configuration.
    fn names_exist(&self, config: &Config) -> Result<(), String> {
        let principals = config.principals();
        let tables = &config.catalog().tables;
        let unknown = |what: &str, name: &str| Err(format!("no {what} `{name}` in the configuration"));
        for name in &self.principals {
            if config.principal(name).is_none() {
                return unknown("principal", name);
            }
        }
        for org in self.orgs.iter().chain(&self.orgs_except) {
            if !principals.iter().any(|p| &p.org == org) {
                return unknown("org", org);
            }
        }
        for role in &self.roles {
            if !principals.iter().any(|p| p.roles.contains(role)) {
                return unknown("role", role);
            }
        }
        for table in &self.tables {
            if !tables.iter().any(|t| &t.name == table) {
                return unknown("table", table);
            }
        }
        for column in &self.columns {
            let found = column.split_once('.').is_some_and(|(t, c)| {
                tables
                    .iter()
                    .any(|table| table.name == t && table.columns.iter().any(|col| col.name == c))
            });
            if !found {
                return unknown("column (TABLE.COLUMN)", column);
            }
        }
        Ok(())
    }
}

/// `TABLE.COLUMN` names `table`'s `column` (compared in place: this runs per decision).
fn names_column(name: &str, table: &str, column: &str) -> bool {
    name.strip_prefix(table)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|rest| rest == column)
}
