//! The levels a configuration grants, looked up by (principal, table, column, jurisdiction):
//! what the triage compares the log's reads with, and what the demo incident records reads at.

use std::collections::{BTreeSet, HashMap, HashSet};

use kamei_core::{Category, Level};
use kamei_policy::Config;

/// (principal, table, column, jurisdiction).
type Cell = (String, String, String, String);

/// One configuration's decisions, from its matrix.
pub(crate) struct Grants {
    levels: HashMap<Cell, (Level, Vec<String>)>,
    categories: HashMap<(String, String), Category>,
    /// Every jurisdiction the configuration decides for.
    pub(crate) jurisdictions: HashSet<String>,
    /// The ids of its policies.
    pub(crate) policies: BTreeSet<String>,
}

impl Grants {
    pub(crate) fn of(config: &Config) -> Grants {
        let mut levels = HashMap::new();
        let mut categories = HashMap::new();
        let mut jurisdictions = HashSet::new();
        for r in config.matrix() {
            let j = r.jurisdiction.to_string();
            jurisdictions.insert(j.clone());
            levels.insert(
                (r.principal.to_owned(), r.table.to_owned(), r.column.to_owned(), j),
                (r.level, r.policies.iter().map(|p| (*p).to_owned()).collect()),
            );
            categories.insert((r.table.to_owned(), r.column.to_owned()), r.category);
        }
        Grants {
            levels,
            categories,
            jurisdictions,
            policies: config.policy_ids().into_iter().collect(),
        }
    }

    /// The level and deciding policies. Fail closed, as the gateway does: a principal, column
    /// or jurisdiction the configuration does not decide is denied.
    pub(crate) fn level(
        &self,
        principal: &str,
        table: &str,
        column: &str,
        jurisdiction: &str,
    ) -> (Level, &[String]) {
        self.levels
            .get(&(principal.into(), table.into(), column.into(), jurisdiction.into()))
            .map_or((Level::Denied, &[][..]), |(l, p)| (*l, p.as_slice()))
    }

    /// The most revealing level granted on the column for any of `jurisdictions` (denied for
    /// none).
    pub(crate) fn most<'a>(
        &self,
        principal: &str,
        table: &str,
        column: &str,
        jurisdictions: impl IntoIterator<Item = &'a str>,
    ) -> Level {
        jurisdictions
            .into_iter()
            .map(|j| self.level(principal, table, column, j).0)
            .max()
            .unwrap_or(Level::Denied)
    }

    /// The column's category; a column the catalog does not list is of the strictest one.
    pub(crate) fn category(&self, table: &str, column: &str) -> Category {
        self.categories
            .get(&(table.into(), column.into()))
            .copied()
            .unwrap_or(kamei_policy::Catalog::UNLISTED_CATEGORY)
    }
}
