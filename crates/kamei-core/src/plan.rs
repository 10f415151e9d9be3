use std::collections::BTreeMap;

use crate::{Category, Jurisdiction, Level, TransformChoice};

/// What one principal may read of one table: the compiled decision for every column and
/// jurisdiction, in the form the protection kernels apply per batch.
///
/// kamei-policy produces it from Cedar's decisions when configuration loads; kamei-protect
/// compiles it into a projection (RecordBatch → RecordBatch); the gateway and `kamei deid`
/// call that projection on every batch before anything else sees the data; the audit log
/// records the levels it applied. Nothing here is evaluated per row except the lookup of a
/// row's jurisdiction in `by_jurisdiction`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TablePlan {
    /// The principal's name.
    pub principal: String,
    /// The recipient domain pseudonyms are keyed for: the principal's org. The same value
    /// gives the same pseudonym within one domain and a different one in another.
    pub domain: String,
    /// The catalog table.
    pub table: String,
    /// Where each row's data-subject jurisdiction comes from.
    pub jurisdiction: JurisdictionSource,
    /// One entry per column of the table, in the table's column order.
    pub columns: Vec<ColumnPlan>,
}

/// Where a row's data-subject jurisdiction comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum JurisdictionSource {
    /// A column of the table holding an ISO 3166-1 alpha-2 code per row.
    Column(String),
    /// Every row of the table belongs to one jurisdiction.
    Fixed(Jurisdiction),
}

/// The decision for one column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnPlan {
    pub column: String,
    pub category: Category,
    /// The decision per jurisdiction the configuration knows.
    pub by_jurisdiction: BTreeMap<Jurisdiction, Decision>,
    /// The decision for a row whose jurisdiction is null, malformed or not in
    /// `by_jurisdiction`. INVARIANT (fail closed): no more revealing than the least revealing
    /// entry of `by_jurisdiction`; `ColumnPlan::new` maintains it.
    pub otherwise: Decision,
    /// The transforms the catalog chose for this column where they differ from the
    /// category's defaults (kamei-protect applies the defaults where none is chosen).
    #[serde(default)]
    pub transforms: TransformChoice,
}

impl ColumnPlan {
    /// A column plan whose fallback for unknown jurisdictions is the least revealing of the
    /// known decisions (denied when there are none).
    pub fn new(
        column: String,
        category: Category,
        by_jurisdiction: BTreeMap<Jurisdiction, Decision>,
    ) -> Self {
        let otherwise = by_jurisdiction
            .values()
            .min_by_key(|d| d.level)
            .cloned()
            .unwrap_or_else(|| Decision {
                level: Level::Denied,
                policies: Vec::new(),
            });
        Self {
            column,
            category,
            by_jurisdiction,
            otherwise,
            transforms: TransformChoice::default(),
        }
    }

    /// The same plan with the catalog's transform choices. A level whose choice is `suppress`
    /// reveals nothing, whatever its place in the level order, so the fallback for unknown
    /// jurisdictions is chosen again by what each decision reveals (fail closed).
    pub fn with_transforms(mut self, transforms: TransformChoice) -> Self {
        self.transforms = transforms;
        let reveals = |d: &&Decision| match transforms.at(d.level) {
            Some(crate::Transform::Suppress) => Level::Denied,
            _ => d.level,
        };
        if let Some(least) = self.by_jurisdiction.values().min_by_key(reveals)
            && reveals(&least) < reveals(&&self.otherwise)
        {
            self.otherwise = least.clone();
        }
        self
    }

    /// The decision for a row of the given jurisdiction (`None`: null or malformed).
    pub fn decision(&self, jurisdiction: Option<Jurisdiction>) -> &Decision {
        jurisdiction
            .and_then(|j| self.by_jurisdiction.get(&j))
            .unwrap_or(&self.otherwise)
    }

    /// The most revealing level any row of this column can be read at.
    pub fn max_level(&self) -> Level {
        self.by_jurisdiction
            .values()
            .map(|d| d.level)
            .chain([self.otherwise.level])
            .max()
            .unwrap_or(Level::Denied)
    }

    /// Whether every row, whatever its jurisdiction, is read raw. Only such columns may take
    /// part in anything computed before the protection (a filter pushed to a source,
    /// statistics).
    pub fn is_raw_everywhere(&self) -> bool {
        self.otherwise.level == Level::Raw
    }
}

/// A level and the ids of the policies that decided it (for `explain`, denial errors and
/// audit records).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    pub level: Level,
    pub policies: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PiiType;

    fn decision(level: Level) -> Decision {
        Decision {
            level,
            policies: vec![],
        }
    }

    #[test]
    fn unknown_jurisdictions_get_the_least_revealing_known_level() {
        let plan = ColumnPlan::new(
            "phone".into(),
            Category::Pii(PiiType::Phone),
            BTreeMap::from([
                (Jurisdiction::JP, decision(Level::Raw)),
                (Jurisdiction::TH, decision(Level::Masked)),
            ]),
        );
        assert_eq!(plan.decision(Some(Jurisdiction::JP)).level, Level::Raw);
        assert_eq!(plan.decision(Some("US".parse().unwrap())).level, Level::Masked);
        assert_eq!(plan.decision(None).level, Level::Masked);
        assert_eq!(plan.max_level(), Level::Raw);
        assert!(!plan.is_raw_everywhere());
    }

    #[test]
    fn a_suppressed_level_is_the_least_revealing_for_unknown_jurisdictions() {
        let plan = ColumnPlan::new(
            "phone".into(),
            Category::Pii(PiiType::Phone),
            BTreeMap::from([
                (Jurisdiction::JP, decision(Level::Masked)),
                (Jurisdiction::TH, decision(Level::Pseudonymized)),
            ]),
        );
        assert_eq!(plan.decision(None).level, Level::Pseudonymized);
        let plan = plan.with_transforms(TransformChoice {
            masked: Some(crate::Transform::Suppress),
            pseudonymized: None,
        });
        // JP rows get nulls; an unknown jurisdiction must not get TH's pseudonyms.
        assert_eq!(plan.decision(None).level, Level::Masked);
        assert_eq!(plan.decision(Some("US".parse().unwrap())).level, Level::Masked);
    }

    #[test]
    fn no_known_jurisdiction_means_denied() {
        let plan = ColumnPlan::new("phone".into(), Category::Pii(PiiType::Phone), BTreeMap::new());
        assert_eq!(plan.decision(Some(Jurisdiction::JP)).level, Level::Denied);
    }
}
