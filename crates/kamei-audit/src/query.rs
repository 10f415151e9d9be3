//! Questions an investigation asks of the log: which records match, and which data subjects
//! did they touch, at which level.

use crate::log::AuditError;
use crate::record::AuditRecord;
use crate::storage::LogStorage;
use crate::subjects::{GroupKey, SubjectSet};
use crate::time::Timestamp;
use crate::verify::read_records_where;
use roaring::RoaringTreemap;
use std::collections::BTreeMap;

/// A filter over records; every field that is set must match.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub principal: Option<String>,
    pub org: Option<String>,
    /// The principal's country.
    pub country: Option<String>,
    /// The data subjects' jurisdiction: records that touched subjects of it, narrowed to them.
    pub jurisdiction: Option<[u8; 2]>,
    /// At or after.
    pub since: Option<Timestamp>,
    /// Strictly before.
    pub until: Option<Timestamp>,
    pub subject: Option<u64>,
}

/// A record that matched, with the part of its subject set the query asked about.
#[derive(Debug, Clone)]
pub struct Match {
    pub index: u64,
    pub record: AuditRecord,
    pub subjects: SubjectSet,
}

impl Query {
    fn matches(&self, record: &AuditRecord) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        if !eq(&self.principal, &record.principal)
            || !eq(&self.org, &record.org)
            || !eq(&self.country, &record.country)
        {
            return false;
        }
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = record.timestamp() else { return false };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                return false;
            }
        }
        true
    }

    /// Narrows a subject set to the query's jurisdiction; `None` if the record does not match.
    fn narrow(&self, set: SubjectSet) -> Option<SubjectSet> {
        let set = match self.jurisdiction {
            None => set,
            Some(j) => {
                let mut out = SubjectSet::default();
                for ((jur, level), keys) in set.iter() {
                    if jur == j {
                        out.extend_group((jur, level), keys.iter());
                    }
                }
                if out.count() == 0 {
                    return None;
                }
                out
            }
        };
        if let Some(s) = self.subject
            && !set.contains(s)
        {
            return None;
        }
        Some(set)
    }

    /// Whether a record with this subject set can match: the subject and jurisdiction parts of
    /// the query, which the subject index answers without reading the record.
    fn may_match(&self, set: &SubjectSet) -> bool {
        self.subject.is_none_or(|s| set.contains(s))
            && self
                .jurisdiction
                .is_none_or(|j| set.iter().any(|((jur, _), _)| jur == j))
    }

    /// The matching records, in log order.
    ///
    /// The subject and jurisdiction filters are answered from the subject index first, so only
    /// the records they keep are read (see [`read_records_where`]). The other filters
    /// (principal, org, country, time) are fields of the record itself, which the index does not
    /// hold: a query with only those reads every record.
    pub fn run(&self, storage: &dyn LogStorage) -> Result<Vec<Match>, AuditError> {
        Ok(read_records_where(storage, |set| self.may_match(set))?
            .into_iter()
            .filter(|(_, record, _)| self.matches(record))
            .filter_map(|(index, record, set)| {
                self.narrow(set).map(|subjects| Match {
                    index,
                    record,
                    subjects,
                })
            })
            .collect())
    }
}

/// The distinct subjects the matches touched, per (jurisdiction, level).
pub fn subjects_seen(matches: &[Match]) -> BTreeMap<GroupKey, RoaringTreemap> {
    let mut out: BTreeMap<GroupKey, RoaringTreemap> = BTreeMap::new();
    for m in matches {
        for (key, set) in m.subjects.iter() {
            *out.entry(key).or_default() |= set;
        }
    }
    out
}
