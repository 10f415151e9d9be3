use std::collections::BTreeMap;

use crate::{Category, Jurisdiction, Level, TransformChoice};

/// What one principal may read of one table: the compiled decision for every column and
/// jurisdiction, and whose data each column is, in the form the protection kernels apply per
/// batch.
///
/// kamei-policy produces it from Cedar's decisions when configuration loads; kamei-protect
/// compiles it into a projection (RecordBatch → RecordBatch); the gateway and `kamei deid`
/// call that projection on every batch before anything else sees the data; the audit log
/// records the levels it applied. Nothing here is evaluated per row except the lookup of a
/// row's subjects' jurisdictions.
///
/// INVARIANT (every column has an owner): each column names at least one subject and only
/// subjects of `subjects`; [`TablePlan::new`] is the only constructor and checks it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TablePlan {
    principal: String,
    domain: String,
    table: String,
    subjects: Vec<Subject>,
    columns: Vec<ColumnPlan>,
}

/// One data subject of a row: the subject-key column that says who it is, and where that
/// person's jurisdiction comes from. A message has two (sender and recipient); the level of a
/// cell is decided by the jurisdiction of the person the cell is about, never by a neighbour's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Subject {
    /// The subject-key column (`sender_id`).
    pub key: String,
    pub jurisdiction: JurisdictionSource,
}

/// Where a subject's jurisdiction comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum JurisdictionSource {
    /// A column of the same row holding an ISO 3166-1 alpha-2 code (`sender_country`).
    Column(String),
    /// Every row's subject belongs to one jurisdiction.
    Fixed(Jurisdiction),
    /// The subject directory: the table that maps any subject key to its jurisdiction
    /// (`users.user_id → users.country`), looked up by the key's value.
    Directory,
}

/// A plan that breaks the invariant of [`TablePlan`]: a bug of whoever built it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("column `{column}` of table `{table}` belongs to no data subject")]
    NoSubject { table: String, column: String },
    #[error("column `{column}` of table `{table}` names subject {subject}, which the table does not have")]
    UnknownSubject {
        table: String,
        column: String,
        subject: usize,
    },
    #[error("table `{table}` lists column `{column}` twice")]
    DuplicateColumn { table: String, column: String },
}

impl TablePlan {
    /// A plan whose columns each belong to at least one of `subjects`.
    pub fn new(
        principal: String,
        domain: String,
        table: String,
        subjects: Vec<Subject>,
        columns: Vec<ColumnPlan>,
    ) -> Result<TablePlan, PlanError> {
        let mut seen = std::collections::BTreeSet::new();
        for c in &columns {
            if !seen.insert(c.column.as_str()) {
                return Err(PlanError::DuplicateColumn {
                    table,
                    column: c.column.clone(),
                });
            }
            if c.subjects.is_empty() {
                return Err(PlanError::NoSubject {
                    table,
                    column: c.column.clone(),
                });
            }
            if let Some(s) = c.subjects.iter().find(|s| **s >= subjects.len()) {
                return Err(PlanError::UnknownSubject {
                    table,
                    column: c.column.clone(),
                    subject: *s,
                });
            }
        }
        Ok(TablePlan {
            principal,
            domain,
            table,
            subjects,
            columns,
        })
    }

    /// The principal's name.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The recipient domain pseudonyms are keyed for: the principal's org. The same value
    /// gives the same pseudonym within one domain and a different one in another.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The catalog table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The data subjects of a row; the first is the table's own subject key.
    pub fn subjects(&self) -> &[Subject] {
        &self.subjects
    }

    /// One entry per column of the table, in the table's column order.
    pub fn columns(&self) -> &[ColumnPlan] {
        &self.columns
    }

    pub fn column(&self, name: &str) -> Option<&ColumnPlan> {
        self.columns.iter().find(|c| c.column == name)
    }

    /// The subjects a column belongs to.
    pub fn subjects_of<'a>(&'a self, column: &'a ColumnPlan) -> impl Iterator<Item = &'a Subject> + 'a {
        column.subjects.iter().filter_map(|s| self.subjects.get(*s))
    }

    /// The columns the principal may read at some level, in table order: what `SELECT *` and
    /// a catalog view show it.
    pub fn readable_columns(&self) -> impl Iterator<Item = &ColumnPlan> + '_ {
        self.columns.iter().filter(|c| c.max_level() != Level::Denied)
    }

    /// The columns a scan of `columns` must read besides them, so the protection can place
    /// every row: the jurisdiction columns and the directory-looked-up keys of their subjects.
    pub fn inputs_for<'a>(&'a self, columns: &[&str]) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for c in columns.iter().filter_map(|c| self.column(c)) {
            for s in self.subjects_of(c) {
                let needed = match &s.jurisdiction {
                    JurisdictionSource::Column(j) => Some(j.as_str()),
                    JurisdictionSource::Directory => Some(s.key.as_str()),
                    JurisdictionSource::Fixed(_) => None,
                };
                if let Some(n) = needed
                    && !columns.contains(&n)
                    && !out.contains(&n)
                {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Whether any subject's jurisdiction comes from the subject directory.
    pub fn needs_directory(&self) -> bool {
        self.subjects
            .iter()
            .any(|s| s.jurisdiction == JurisdictionSource::Directory)
    }
}

/// The decision for one column.
///
/// INVARIANT (fail closed): `otherwise`, the decision for a row whose subject's jurisdiction is
/// null, malformed or unknown, reveals no more than the least revealing entry of
/// `by_jurisdiction`; the fields are private and [`ColumnPlan::new`] and
/// [`ColumnPlan::with_transforms`] maintain it, so no caller can build a plan whose fallback
/// (or [`ColumnPlan::is_raw_everywhere`], which filter pushdown trusts) claims more than its
/// decisions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnPlan {
    column: String,
    category: Category,
    by_jurisdiction: BTreeMap<Jurisdiction, Decision>,
    otherwise: Decision,
    transforms: TransformChoice,
    /// Indices into the table's subjects; several for a column about several people (a
    /// message body), which gets the least revealing of their levels.
    subjects: Vec<usize>,
}

impl ColumnPlan {
    /// A column of the table's first subject whose fallback for unknown jurisdictions is the
    /// least revealing of the known decisions (denied when there are none).
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
            subjects: vec![0],
        }
    }

    /// The same plan with the catalog's transform choices. A level whose choice is `suppress`
    /// reveals nothing, whatever its place in the level order, so the fallback for unknown
    /// jurisdictions is chosen again by what each decision reveals (fail closed).
    pub fn with_transforms(mut self, transforms: TransformChoice) -> Self {
        self.transforms = transforms;
        if let Some(least) = self.by_jurisdiction.values().min_by_key(|d| self.reveals(d))
            && self.reveals(least) < self.reveals(&self.otherwise)
        {
            self.otherwise = least.clone();
        }
        self
    }

    /// The same plan owned by the table's subjects at these indices (see [`TablePlan::new`]).
    pub fn with_subjects(mut self, subjects: Vec<usize>) -> Self {
        self.subjects = subjects;
        self
    }

    pub fn column(&self) -> &str {
        &self.column
    }

    pub fn category(&self) -> Category {
        self.category
    }

    /// The catalog's transform choices for this column (kamei-protect applies the category's
    /// defaults where none is chosen).
    pub fn transforms(&self) -> TransformChoice {
        self.transforms
    }

    /// Indices of the subjects this column belongs to.
    pub fn subject_indices(&self) -> &[usize] {
        &self.subjects
    }

    /// The jurisdictions with a decision of their own, in order.
    pub fn jurisdictions(&self) -> impl Iterator<Item = Jurisdiction> + '_ {
        self.by_jurisdiction.keys().copied()
    }

    /// What a decision reveals: its level, except that a level whose transform is `suppress`
    /// reveals nothing.
    pub fn reveals(&self, decision: &Decision) -> Level {
        match self.transforms.at(decision.level) {
            Some(crate::Transform::Suppress) => Level::Denied,
            _ => decision.level,
        }
    }

    /// The decision for a row of the given jurisdiction (`None`: null or malformed).
    pub fn decision(&self, jurisdiction: Option<Jurisdiction>) -> &Decision {
        jurisdiction
            .and_then(|j| self.by_jurisdiction.get(&j))
            .unwrap_or(&self.otherwise)
    }

    /// The decision for rows of a jurisdiction without one of its own (null, malformed, unknown).
    pub fn fallback(&self) -> &Decision {
        &self.otherwise
    }

    /// Every decision: per known jurisdiction, then the fallback.
    pub fn decisions(&self) -> impl Iterator<Item = &Decision> + '_ {
        self.by_jurisdiction.values().chain([&self.otherwise])
    }

    /// The ids of every policy that decides some row of this column, sorted, once each.
    pub fn policies(&self) -> Vec<&str> {
        let mut policies: Vec<&str> = self
            .decisions()
            .flat_map(|d| d.policies.iter().map(String::as_str))
            .collect();
        policies.sort_unstable();
        policies.dedup();
        policies
    }

    /// The most revealing level any row of this column can be read at.
    pub fn max_level(&self) -> Level {
        self.decisions().map(|d| d.level).max().unwrap_or(Level::Denied)
    }

    /// Whether every row, whatever its subjects' jurisdictions, is read raw: derived from every
    /// decision, never from one field. Only such columns may take part in anything computed
    /// before the protection (a filter pushed to a source, statistics).
    pub fn is_raw_everywhere(&self) -> bool {
        self.decisions().all(|d| d.level == Level::Raw)
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
            profile: None,
        });
        // JP rows get nulls; an unknown jurisdiction must not get TH's pseudonyms.
        assert_eq!(plan.decision(None).level, Level::Masked);
        assert_eq!(plan.decision(Some("US".parse().unwrap())).level, Level::Masked);
    }

    /// Issue 14: what filter pushdown trusts is derived from every decision; nothing a caller
    /// can set makes a column raw everywhere while one jurisdiction is protected.
    #[test]
    fn raw_everywhere_only_when_every_decision_is_raw() {
        let raw_jp = ColumnPlan::new(
            "phone".into(),
            Category::Pii(PiiType::Phone),
            BTreeMap::from([
                (Jurisdiction::JP, decision(Level::Raw)),
                (Jurisdiction::TH, decision(Level::Masked)),
            ]),
        );
        assert!(!raw_jp.is_raw_everywhere());
        assert!(
            !raw_jp
                .clone()
                .with_transforms(TransformChoice::default())
                .is_raw_everywhere()
        );
        let all_raw = ColumnPlan::new(
            "country".into(),
            Category::NonPersonal,
            BTreeMap::from([(Jurisdiction::JP, decision(Level::Raw))]),
        );
        assert!(all_raw.is_raw_everywhere());
        // A plan whose column names no subject, or one the table lacks, cannot be built.
        let subjects = vec![Subject {
            key: "user_id".into(),
            jurisdiction: JurisdictionSource::Directory,
        }];
        let orphan = raw_jp.clone().with_subjects(vec![]);
        assert!(TablePlan::new("p".into(), "o".into(), "t".into(), subjects.clone(), vec![orphan]).is_err());
        let stranger = raw_jp.with_subjects(vec![1]);
        assert!(TablePlan::new("p".into(), "o".into(), "t".into(), subjects, vec![stranger]).is_err());
    }

    #[test]
    fn a_scan_adds_the_columns_that_place_each_row() {
        let d = |l| BTreeMap::from([(Jurisdiction::JP, decision(l)), (Jurisdiction::TH, decision(l))]);
        let subjects = vec![
            Subject {
                key: "sender_id".into(),
                jurisdiction: JurisdictionSource::Column("sender_country".into()),
            },
            Subject {
                key: "recipient_id".into(),
                jurisdiction: JurisdictionSource::Directory,
            },
        ];
        let columns = vec![
            ColumnPlan::new("sender_id".into(), Category::SubjectKey, d(Level::Raw)),
            ColumnPlan::new("recipient_id".into(), Category::SubjectKey, d(Level::Raw))
                .with_subjects(vec![1]),
            ColumnPlan::new("sender_country".into(), Category::NonPersonal, d(Level::Raw)),
            ColumnPlan::new("body".into(), Category::FreeText, d(Level::Masked)).with_subjects(vec![0, 1]),
            ColumnPlan::new("secret".into(), Category::FreeText, d(Level::Denied)),
        ];
        let plan = TablePlan::new("p".into(), "o".into(), "messages".into(), subjects, columns).unwrap();
        assert_eq!(plan.inputs_for(&["body"]), vec!["sender_country", "recipient_id"]);
        assert_eq!(
            plan.inputs_for(&["sender_id", "sender_country"]),
            Vec::<&str>::new()
        );
        let readable: Vec<&str> = plan.readable_columns().map(ColumnPlan::column).collect();
        assert_eq!(readable, ["sender_id", "recipient_id", "sender_country", "body"]);
    }

    #[test]
    fn no_known_jurisdiction_means_denied() {
        let plan = ColumnPlan::new("phone".into(), Category::Pii(PiiType::Phone), BTreeMap::new());
        assert_eq!(plan.decision(Some(Jurisdiction::JP)).level, Level::Denied);
    }
}
