//! The exposure register: who can read which categories of whose personal data, at which
//! level, and which policies grant it, from configuration alone (before anything happens).
//!
//! Japan's rules on providing personal data to a party abroad ask a company to know and
//! record which foreign parties can reach whose data; the register lists first the grants a
//! panel or regulator asks about first: every grant across a border (the principal's country
//! is not the data subject's jurisdiction), and every raw grant of a direct identifier or of an
//! individual identification code (個人識別符号: My Number, passport, driver's licence).

use std::collections::BTreeMap;

use kamei_core::{Category, Jurisdiction, Level, PiiType};
use kamei_policy::Config;

use crate::invariants::{Decision, decisions};

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
    let mut grouped: BTreeMap<(String, String, Option<Jurisdiction>, Level), Vec<Decision>> = BTreeMap::new();
    for d in decisions(config) {
        if d.level == Level::Denied || !d.category.is_personal() {
            continue;
        }
        let key = (
            d.principal.clone(),
            d.category.as_str().to_owned(),
            d.jurisdiction,
            d.level,
        );
        grouped.entry(key).or_default().push(d);
    }
    let mut grants: Vec<Grant> = grouped
        .into_values()
        .filter_map(|ds| {
            let first = ds.first()?;
            let p = config.principal(&first.principal)?;
            let mut policies: Vec<String> = ds.iter().flat_map(|d| d.policies.iter().cloned()).collect();
            policies.sort_unstable();
            policies.dedup();
            let cross_border = first.jurisdiction.is_none_or(|j| j != p.country);
            Some(Grant {
                principal: p.name.clone(),
                org: p.org.clone(),
                country: p.country,
                category: first.category,
                jurisdiction: first.jurisdiction,
                level: first.level,
                columns: ds.iter().map(|d| format!("{}.{}", d.table, d.column)).collect(),
                policies,
                cross_border,
                raw_identifier: first.level == Level::Raw && is_direct_identifier(first.category),
            })
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
