//! The exposure register: who can read which categories of whose personal data, at which
//! level, and which policies grant it, from configuration alone (before anything happens).
//!
//! Japan's rules on providing personal data to a party abroad ask a company to know and
//! record which foreign parties can reach whose data; the register lists first the grants a
//! panel or regulator asks about first: every grant across a border (the principal's country
//! is not the data subject's jurisdiction), and every raw grant of a direct identifier or of an
//! individual identification code (個人識別符号: My Number, passport, driver's licence).

use std::collections::{BTreeMap, HashMap};

use kamei_core::{Category, Jurisdiction, Level, PiiType};
use kamei_policy::{Config, Principal};

use crate::invariants::for_each_decision;

/// One grant: a principal reads the columns of one category, for the subjects of one
/// jurisdiction, at one level.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    pub principal: String,
    pub org: String,
    pub country: Jurisdiction,
    pub category: Category,
    /// `None`: every jurisdiction the catalog does not list (the columns' fallback).
    pub jurisdiction: Option<Jurisdiction>,
    pub level: Level,
    /// `TABLE.COLUMN`, in catalog order.
    pub columns: Vec<String>,
    pub policies: Vec<String>,
    /// The principal's country is not the subjects' jurisdiction.
    pub cross_border: bool,
    /// Raw, and a direct identifier or an individual identification code.
    pub raw_identifier: bool,
}

impl Grant {
    /// Listed in the register's first part.
    pub fn first(&self) -> bool {
        self.cross_border || self.raw_identifier
    }
}

/// A value that names the person by itself, or an individual identification code.
pub fn is_direct_identifier(category: Category) -> bool {
    match category {
        Category::Pii(t) => matches!(
            t,
            PiiType::Person
                | PiiType::Phone
                | PiiType::Email
                | PiiType::Address
                | PiiType::MyNumber
                | PiiType::Passport
                | PiiType::DriverLicense
                | PiiType::CreditCard
                | PiiType::BankAccount
                | PiiType::Iban
        ),
        Category::AccountId => true,
        Category::SubjectKey | Category::FreeText | Category::QuasiIdentifier | Category::NonPersonal => {
            false
        }
    }
}

/// Every grant of personal data `config` makes (levels above denied, categories other than
/// non-personal): the first part (across borders, raw identifiers) first, then the rest; in
/// each, most revealing first.
pub fn exposure(config: &Config) -> Vec<Grant> {
    /// The decisions of one principal, category, jurisdiction and level.
    struct Group<'c> {
        principal: &'c Principal,
        columns: Vec<String>,
        policies: Vec<String>,
    }
    let mut grouped: HashMap<(&str, Category, Option<Jurisdiction>, Level), Group<'_>> = HashMap::new();
    for_each_decision(config, |d| {
        if d.level == Level::Denied || !d.category.is_personal() {
            return;
        }
        let group = grouped
            .entry((d.principal.name.as_str(), d.category, d.jurisdiction, d.level))
            .or_insert_with(|| Group {
                principal: d.principal,
                columns: Vec::new(),
                policies: Vec::new(),
            });
        group.columns.push(format!("{}.{}", d.table, d.column));
        for policy in d.policies {
            if !group.policies.iter().any(|p| p == policy) {
                group.policies.push((*policy).to_owned());
            }
        }
    });
    let mut grants: Vec<Grant> = grouped
        .into_iter()
        .map(|((_, category, jurisdiction, level), mut g)| {
            let p = g.principal;
            g.policies.sort_unstable();
            Grant {
                principal: p.name.clone(),
                org: p.org.clone(),
                country: p.country,
                category,
                jurisdiction,
                level,
                columns: g.columns,
                policies: g.policies,
                cross_border: jurisdiction.is_none_or(|j| j != p.country),
                raw_identifier: level == Level::Raw && is_direct_identifier(category),
            }
        })
        .collect();
    let principal_order: BTreeMap<&str, usize> = config
        .principals()
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    grants.sort_by_key(|g| {
        (
            !g.first(),
            std::cmp::Reverse(g.level.index()),
            principal_order.get(g.principal.as_str()).copied(),
            g.category.as_str(),
            g.jurisdiction.is_none(),
            g.jurisdiction,
        )
    });
    grants
}
