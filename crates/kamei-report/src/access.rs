//! `kamei report access`: after the fact, from the audit log, who read whose personal data.
//!
//! Per principal (with its org and country): how many distinct data subjects' data it read,
//! per category, subject jurisdiction and level; its first and last read; a timeline per day;
//! the statements that read raw personal data of subjects outside its country; and its denied
//! attempts. This answers the panel's question "who outside Japan saw which Japanese users'
//! data, and when" from the log's subject index: the subjects come from the index entries
//! (bound to each record by digest), never from statement text.
//!
//! # How subjects are attributed to categories
//!
//! A record names the columns it read (each at the most revealing level it was read at) and
//! its subjects per jurisdiction and level (each at the most revealing level a column of theirs
//! was read at); it does not say which column belonged to which subject. A subject is counted
//! under the category of every personal column of the record, at the lesser of the column's
//! level and their own. That is exact for a statement over one table with one subject per row
//! (the usual case), and otherwise errs towards naming too many people or too revealing a
//! level, never too few: the same rule the gateway follows when it records subjects.

use std::collections::BTreeMap;

use kamei_audit::{Action, AuditRecord, LogStorage, LogView, Match, Query, SubjectSet, Timestamp};
use kamei_core::{Category, Level};
use kamei_policy::Catalog;
use roaring::RoaringTreemap;
use serde::Serialize;

use crate::error::ReportError;
use crate::evidence::{CheckpointEvidence, Proof, prove_as};
use crate::verification::{LogCheck, Verification, check_log};

/// Which records the report covers; every field that is set must match.
#[derive(Debug, Default, Clone)]
pub struct AccessFilter {
    pub principal: Option<String>,
    pub org: Option<String>,
    /// The principal's country.
    pub country: Option<String>,
    /// At or after.
    pub since: Option<Timestamp>,
    /// Strictly before.
    pub until: Option<Timestamp>,
}

/// The access report.
#[derive(Debug, Clone, Serialize)]
pub struct AccessReport {
    /// Whether the log was verified before the report read it; an unverified report says so
    /// first.
    pub verification: Verification,
    /// The checkpoint the report was computed at; cited records carry proofs against it.
    pub checkpoint: CheckpointEvidence,
    /// The selection the report covers, as given (times in canonical UTC).
    pub selection: Selection,
    /// Records read (matching the filter, configuration records left out).
    pub records: u64,
    /// One entry per principal: those who read subjects abroad first (most such subjects
    /// first), then by name.
    pub principals: Vec<PrincipalAccess>,
    /// Distinct subjects read per org and period, per subject jurisdiction.
    pub timeline: Timeline,
    /// Distinct subjects read per principal country and subject jurisdiction; cross-border
    /// flows (country ≠ jurisdiction) first, most subjects first.
    pub flows: Vec<Flow>,
}

/// Distinct subjects read per org over time. The periods are UTC days when the records span
/// at most [`Timeline::DAILY_UP_TO`] days, else weeks starting on Monday (UTC); every period
/// from the first read to the last is listed, those without reads as zeros.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// `"day"` or `"week"`.
    pub period: &'static str,
    /// The first day of each period, `YYYY-MM-DD`.
    pub starts: Vec<String>,
    /// One entry per org, by name.
    pub orgs: Vec<OrgTimeline>,
}

impl Timeline {
    /// The longest span, in days, shown day by day.
    pub const DAILY_UP_TO: i64 = 31;
}

/// One org's distinct subjects per period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgTimeline {
    pub org: String,
    /// Per period, all jurisdictions together.
    pub subjects: Vec<u64>,
    /// Per subject jurisdiction, per period (aligned with [`Timeline::starts`]).
    pub jurisdictions: Vec<JurisdictionSeries>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JurisdictionSeries {
    pub jurisdiction: String,
    /// Distinct subjects read at any level, per period.
    pub subjects: Vec<u64>,
    /// Of those, the subjects read raw, per period.
    pub raw: Vec<u64>,
}

/// Subjects of one jurisdiction read by principals of one country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// The principals' country.
    pub country: String,
    /// The subjects' jurisdiction (`--`: unknown).
    pub jurisdiction: String,
    /// Distinct subjects read at any level.
    pub subjects: u64,
    /// Of those, the subjects read raw.
    pub raw: u64,
}

/// An [`AccessFilter`] as the report states it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub principal: Option<String>,
    pub org: Option<String>,
    pub country: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

impl From<&AccessFilter> for Selection {
    fn from(f: &AccessFilter) -> Self {
        Selection {
            principal: f.principal.clone(),
            org: f.org.clone(),
            country: f.country.clone(),
            since: f.since.map(|t| t.to_string()),
            until: f.until.map(|t| t.to_string()),
        }
    }
}

/// What one principal read.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipalAccess {
    pub principal: String,
    pub org: String,
    pub country: String,
    /// Statements that returned data (queries, exports, detokenizations).
    pub statements: u64,
    /// The first and last statement that returned data (UTC, RFC 3339).
    pub first: Option<String>,
    pub last: Option<String>,
    /// Distinct subjects read, per subject jurisdiction (`--`: unknown).
    pub subjects: Vec<JurisdictionCount>,
    /// Distinct subjects outside the principal's country (unknown jurisdictions included).
    pub subjects_abroad: u64,
    /// Distinct subjects per category, jurisdiction and level; most revealing first.
    pub categories: Vec<CategoryCount>,
    /// Distinct subjects per category and level, all jurisdictions together; most revealing
    /// first.
    pub levels: Vec<LevelCount>,
    /// Per UTC day with statements: how many, and how many distinct subjects they read.
    pub timeline: Vec<Day>,
    /// Statements that read raw personal data of subjects outside the principal's country.
    pub cross_border_raw: Vec<Cited>,
    /// Statements refused or denied.
    pub denied: Vec<Cited>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JurisdictionCount {
    pub jurisdiction: String,
    pub subjects: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryCount {
    pub category: Category,
    pub jurisdiction: String,
    pub level: Level,
    pub subjects: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelCount {
    pub category: Category,
    pub level: Level,
    pub subjects: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub statements: u64,
    pub subjects: u64,
}

/// A record the report cites, with its proof.
#[derive(Debug, Clone, Serialize)]
pub struct Cited {
    pub index: u64,
    pub time: String,
    /// The statement with its literals redacted, as the log holds it.
    pub statement: String,
    /// Cross-border raw reads: the personal columns read raw (`TABLE.COLUMN`).
    pub columns: Vec<String>,
    /// Cross-border raw reads: subjects read raw, per jurisdiction outside the principal's
    /// country.
    pub subjects: BTreeMap<String, u64>,
    /// Denials: the deciding policy ids.
    pub policies: Vec<String>,
    /// `None` when the record is newer than the checkpoint.
    pub proof: Option<Proof>,
}

/// Builds the report over the log in `storage`, with categories from `catalog`, after
/// verifying the log (see [`crate::verification`]): a log that fails makes it refuse.
pub fn access_report(
    storage: &dyn LogStorage,
    catalog: &Catalog,
    filter: &AccessFilter,
) -> Result<AccessReport, ReportError> {
    access_report_with(storage, catalog, filter, &LogCheck::Verify)
}

/// [`access_report`], verifying the log as `check` says.
pub fn access_report_with(
    storage: &dyn LogStorage,
    catalog: &Catalog,
    filter: &AccessFilter,
    check: &LogCheck,
) -> Result<AccessReport, ReportError> {
    let verification = check_log(storage, check)?;
    // The view first: records appended after it are reported, without a proof.
    let view = LogView::open(storage, None)?;
    let query = Query {
        principal: filter.principal.clone(),
        org: filter.org.clone(),
        country: filter.country.clone(),
        since: filter.since,
        until: filter.until,
        ..Query::default()
    };
    let matches = query.run(storage)?;
    let mut report = summarize(&matches, catalog, CheckpointEvidence::of(&view, storage)?);
    report.selection = Selection::from(filter);
    report.verification = verification;
    let by_index: BTreeMap<u64, &Match> = matches.iter().map(|m| (m.index, m)).collect();
    for p in &mut report.principals {
        for cited in p.cross_border_raw.iter_mut().chain(p.denied.iter_mut()) {
            if let Some(m) = by_index.get(&cited.index) {
                cited.proof = prove_as(&view, cited.index, &m.record, check)?;
            }
        }
    }
    Ok(report)
}

/// Accumulates one principal's records.
#[derive(Default)]
struct Acc {
    org: String,
    country: String,
    statements: u64,
    first: Option<String>,
    last: Option<String>,
    by_jurisdiction: BTreeMap<[u8; 2], RoaringTreemap>,
    categories: BTreeMap<(Category, [u8; 2], Level), RoaringTreemap>,
    levels: BTreeMap<(Category, Level), RoaringTreemap>,
    days: BTreeMap<String, (u64, RoaringTreemap)>,
    cross_border_raw: Vec<Cited>,
    denied: Vec<Cited>,
}

/// A column's category; one the catalog does not list is treated as the strictest, as the
/// gateway treats it.
pub(crate) fn category_of(catalog: &Catalog, table: &str, column: &str) -> Category {
    catalog
        .table(table)
        .and_then(|t| t.column(column))
        .map_or(Catalog::UNLISTED_CATEGORY, |c| c.category)
}

/// Calls `f` with each (category, subject jurisdiction, level) a record read and the subjects
/// it read so: every subject under every personal column of the record, at the lesser of the
/// column's level and their own (see the module documentation for why this errs towards too
/// many). The one attribution rule of every report over the log.
pub(crate) fn attribute(
    catalog: &Catalog,
    record: &AuditRecord,
    subjects: &SubjectSet,
    mut f: impl FnMut(Category, [u8; 2], Level, &RoaringTreemap),
) {
    for ((jurisdiction, level), keys) in subjects.iter() {
        if level == Level::Denied {
            continue;
        }
        for (table, columns) in record.tables() {
            for (column, column_level) in columns {
                let category = category_of(catalog, table, column);
                let at = level.min(*column_level);
                if !category.is_personal() || at == Level::Denied {
                    continue;
                }
                f(category, jurisdiction, at, keys);
            }
        }
    }
}

/// How many statements a record stands for: 1, or 0 for the closing record of a streamed
/// statement. A result too large to buffer gets an opening record before its first row and a
/// closing record (row count, subjects, how it ended) that names it in `opens`; both are one
/// statement, counted at the opening record, while the closing record still adds its subjects.
/// Counting at the opening keeps a statement whose closing record was lost (a crash) visible.
/// A closing record whose opening falls before `--since` counts no statement in the selection:
/// the statement began outside it.
pub(crate) fn statements_in(record: &AuditRecord) -> u64 {
    u64::from(record.opens().is_none())
}

pub(crate) fn code(j: [u8; 2]) -> String {
    String::from_utf8_lossy(&j).into_owned()
}

/// The report from the matching records (proofs not yet attached).
pub(crate) fn summarize(
    matches: &[Match],
    catalog: &Catalog,
    checkpoint: CheckpointEvidence,
) -> AccessReport {
    let mut principals: BTreeMap<&str, Acc> = BTreeMap::new();
    let mut records = 0;
    // Per org, day since the epoch (UTC) and jurisdiction: every subject read, and those read raw.
    let mut org_days: BTreeMap<(&str, i64), BTreeMap<[u8; 2], Read>> = BTreeMap::new();
    // Per principal country and jurisdiction: every subject read, and those read raw.
    let mut flows: BTreeMap<(&str, [u8; 2]), Read> = BTreeMap::new();
    for m in matches {
        let r = &m.record;
        let action = r.action();
        match action {
            Action::Configure => continue,
            Action::Query | Action::Export | Action::Detokenize | Action::Denied => {}
        }
        records += 1;
        let acc = principals.entry(r.principal()).or_default();
        acc.org = r.org().to_owned();
        acc.country = r.country().to_owned();
        if action == Action::Denied {
            acc.denied.push(Cited {
                index: m.index,
                time: r.time().to_owned(),
                statement: r.statement().to_owned(),
                columns: Vec::new(),
                subjects: BTreeMap::new(),
                policies: r.policies().to_vec(),
                proof: None,
            });
            continue;
        }
        let statements = statements_in(r);
        acc.statements += statements;
        // Records are in log order, which is time order for one gateway; compare anyway, as
        // logs of several replicas may be read together.
        let time = r.time().to_owned();
        if acc.first.as_ref().is_none_or(|f| time < *f) {
            acc.first = Some(time.clone());
        }
        if acc.last.as_ref().is_none_or(|l| time > *l) {
            acc.last = Some(time.clone());
        }
        let day = acc
            .days
            .entry(time.get(..10).unwrap_or(&time).to_owned())
            .or_default();
        day.0 += statements;
        let country = r.country().as_bytes();
        let mut raw_abroad: BTreeMap<String, u64> = BTreeMap::new();
        let mut org_day = r
            .timestamp()
            .map(|t| org_days.entry((r.org(), t.secs.div_euclid(86_400))).or_default());
        for ((jurisdiction, level), keys) in m.subjects.iter() {
            if level == Level::Denied {
                continue;
            }
            day.1 |= keys;
            *acc.by_jurisdiction.entry(jurisdiction).or_default() |= keys;
            if let Some(d) = org_day.as_mut() {
                let read = d.entry(jurisdiction).or_default();
                read.0 |= keys;
                if level == Level::Raw {
                    read.1 |= keys;
                }
            }
            let flow = flows.entry((r.country(), jurisdiction)).or_default();
            flow.0 |= keys;
            if level == Level::Raw {
                flow.1 |= keys;
            }
            if level == Level::Raw && jurisdiction.as_slice() != country {
                *raw_abroad.entry(code(jurisdiction)).or_default() += keys.len();
            }
        }
        attribute(catalog, r, &m.subjects, |category, jurisdiction, level, keys| {
            *acc.categories.entry((category, jurisdiction, level)).or_default() |= keys;
            *acc.levels.entry((category, level)).or_default() |= keys;
        });
        if !raw_abroad.is_empty() {
            let columns = r
                .tables()
                .iter()
                .flat_map(|(t, cs)| {
                    cs.iter()
                        .filter(|(c, l)| **l == Level::Raw && category_of(catalog, t, c).is_personal())
                        .map(move |(c, _)| format!("{t}.{c}"))
                })
                .collect();
            acc.cross_border_raw.push(Cited {
                index: m.index,
                time,
                statement: r.statement().to_owned(),
                columns,
                subjects: raw_abroad,
                policies: Vec::new(),
                proof: None,
            });
        }
    }
    let mut out: Vec<PrincipalAccess> = principals
        .into_iter()
        .map(|(name, acc)| {
            let own = acc.country.as_bytes();
            let mut abroad = RoaringTreemap::new();
            for (j, keys) in &acc.by_jurisdiction {
                if j.as_slice() != own {
                    abroad |= keys;
                }
            }
            let mut categories: Vec<CategoryCount> = acc
                .categories
                .iter()
                .map(|((category, j, level), keys)| CategoryCount {
                    category: *category,
                    jurisdiction: code(*j),
                    level: *level,
                    subjects: keys.len(),
                })
                .collect();
            categories.sort_by(|a, b| {
                (std::cmp::Reverse(a.level), a.category.as_str(), &a.jurisdiction).cmp(&(
                    std::cmp::Reverse(b.level),
                    b.category.as_str(),
                    &b.jurisdiction,
                ))
            });
            let mut levels: Vec<LevelCount> = acc
                .levels
                .iter()
                .map(|((category, level), keys)| LevelCount {
                    category: *category,
                    level: *level,
                    subjects: keys.len(),
                })
                .collect();
            levels.sort_by(|a, b| {
                (std::cmp::Reverse(a.level), a.category.as_str())
                    .cmp(&(std::cmp::Reverse(b.level), b.category.as_str()))
            });
            PrincipalAccess {
                principal: name.to_owned(),
                levels,
                statements: acc.statements,
                first: acc.first,
                last: acc.last,
                subjects: acc
                    .by_jurisdiction
                    .iter()
                    .map(|(j, keys)| JurisdictionCount {
                        jurisdiction: code(*j),
                        subjects: keys.len(),
                    })
                    .collect(),
                subjects_abroad: abroad.len(),
                categories,
                timeline: acc
                    .days
                    .into_iter()
                    .map(|(day, (statements, keys))| Day {
                        day,
                        statements,
                        subjects: keys.len(),
                    })
                    .collect(),
                cross_border_raw: acc.cross_border_raw,
                denied: acc.denied,
                org: acc.org,
                country: acc.country,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (std::cmp::Reverse(a.subjects_abroad), &a.principal)
            .cmp(&(std::cmp::Reverse(b.subjects_abroad), &b.principal))
    });
    let mut flows: Vec<Flow> = flows
        .into_iter()
        .map(|((country, j), (all, raw))| Flow {
            country: country.to_owned(),
            jurisdiction: code(j),
            subjects: all.len(),
            raw: raw.len(),
        })
        .collect();
    flows.sort_by(|a, b| {
        let key = |f: &Flow| (f.country == f.jurisdiction, std::cmp::Reverse(f.subjects));
        (key(a), &a.country, &a.jurisdiction).cmp(&(key(b), &b.country, &b.jurisdiction))
    });
    AccessReport {
        verification: Verification::unchecked(),
        checkpoint,
        selection: Selection::default(),
        records,
        principals: out,
        timeline: timeline(org_days),
        flows,
    }
}

/// The first day (since the epoch) of the Monday-started week of `day`; 1970-01-01 was a
/// Thursday.
fn monday_of(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

fn day_text(day: i64) -> String {
    let t = Timestamp {
        secs: day.saturating_mul(86_400),
        nanos: 0,
    };
    let s = t.to_string();
    s.get(..10).unwrap_or(&s).to_owned()
}

/// Subjects read at any level, and those read raw.
type Read = (RoaringTreemap, RoaringTreemap);

/// Groups per-day subject sets into the report's periods (days or weeks), every period from
/// the first to the last listed.
fn timeline(org_days: BTreeMap<(&str, i64), BTreeMap<[u8; 2], Read>>) -> Timeline {
    let (Some(first), Some(last)) = (
        org_days.keys().map(|(_, d)| *d).min(),
        org_days.keys().map(|(_, d)| *d).max(),
    ) else {
        return Timeline {
            period: "day",
            ..Timeline::default()
        };
    };
    let weekly = last - first > Timeline::DAILY_UP_TO;
    let (start, step) = if weekly { (monday_of(first), 7) } else { (first, 1) };
    let periods = usize::try_from((last - start) / step + 1).unwrap_or(0);
    let mut orgs: BTreeMap<&str, Vec<BTreeMap<[u8; 2], Read>>> = BTreeMap::new();
    for ((org, day), by_j) in org_days {
        let slots = orgs.entry(org).or_insert_with(|| vec![BTreeMap::new(); periods]);
        let at = usize::try_from((day - start) / step).unwrap_or(0);
        if let Some(slot) = slots.get_mut(at) {
            for (j, (all, raw)) in by_j {
                let read = slot.entry(j).or_default();
                read.0 |= all;
                read.1 |= raw;
            }
        }
    }
    Timeline {
        period: if weekly { "week" } else { "day" },
        starts: (0..periods as i64).map(|i| day_text(start + i * step)).collect(),
        orgs: orgs
            .into_iter()
            .map(|(org, slots)| {
                let jurisdictions: std::collections::BTreeSet<[u8; 2]> =
                    slots.iter().flat_map(|s| s.keys().copied()).collect();
                OrgTimeline {
                    org: org.to_owned(),
                    subjects: slots
                        .iter()
                        .map(|s| {
                            let mut all = RoaringTreemap::new();
                            for (keys, _) in s.values() {
                                all |= keys;
                            }
                            all.len()
                        })
                        .collect(),
                    jurisdictions: jurisdictions
                        .into_iter()
                        .map(|j| JurisdictionSeries {
                            jurisdiction: code(j),
                            subjects: slots.iter().map(|s| s.get(&j).map_or(0, |r| r.0.len())).collect(),
                            raw: slots.iter().map(|s| s.get(&j).map_or(0, |r| r.1.len())).collect(),
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kamei_audit::RecordInput;

    fn record(index: u64, json: &str) -> Match {
        let (record, subjects) = RecordInput::from_json(json).unwrap().into_record().unwrap();
        Match {
            index,
            record,
            subjects,
        }
    }

    fn evidence() -> CheckpointEvidence {
        CheckpointEvidence {
            origin: "test".into(),
            size: 0,
            root: String::new(),
            note: String::new(),
            verifier_key: None,
        }
    }

    const HEAD: &str = r#""client_addr": "10.0.0.1", "statement": "SELECT 1""#;

    /// Subjects count under each personal column at the lesser of the column's level and
    /// their own; non-personal columns count nowhere; a column the catalog does not list
    /// counts as the strictest category; raw reads abroad are cited with their personal columns.
    #[test]
    fn subjects_are_attributed_per_category_at_the_lesser_level() {
        let config = kamei_policy::Config::demo().unwrap();
        let matches = [
            record(
                0,
                &format!(
                    r#"{{"time": "2026-01-05T01:00:00Z", "principal": "jp_support", "org": "line-jp", "country": "JP", {HEAD},
                    "action": "query", "rows": 3,
                    "columns": [{{"table": "users", "column": "phone", "level": "raw"}},
                                {{"table": "users", "column": "email", "level": "masked"}},
                                {{"table": "users", "column": "country", "level": "raw"}},
                                {{"table": "users", "column": "notes", "level": "raw"}}],
                    "subjects": [{{"jurisdiction": "JP", "level": "raw", "keys": [1, 2]}},
                                 {{"jurisdiction": "TH", "level": "pseudonymized", "keys": [3]}}]}}"#
                ),
            ),
            record(
                1,
                &format!(
                    r#"{{"time": "2026-01-05T00:00:00Z", "principal": "kamei serve", "org": "kamei", "country": "ZZ", {HEAD},
                    "action": "configure", "policies": ["p"]}}"#
                ),
            ),
            record(
                2,
                &format!(
                    r#"{{"time": "2026-01-06T02:00:00Z", "principal": "jp_support", "org": "line-jp", "country": "JP", {HEAD},
                    "action": "query", "rows": 1,
                    "columns": [{{"table": "users", "column": "phone", "level": "raw"}},
                                {{"table": "users", "column": "country", "level": "raw"}}],
                    "subjects": [{{"jurisdiction": "TW", "level": "raw", "keys": [9]}}]}}"#
                ),
            ),
            record(
                3,
                &format!(
                    r#"{{"time": "2026-01-06T03:00:00Z", "principal": "jp_support", "org": "line-jp", "country": "JP", {HEAD},
                    "action": "denied", "policies": ["no-my-number"]}}"#
                ),
            ),
        ];
        let report = summarize(&matches, config.catalog(), evidence());
        assert_eq!(report.records, 3);
        let [p] = report.principals.as_slice() else {
            panic!("one principal")
        };
        let got: Vec<(String, String, Level, u64)> = p
            .categories
            .iter()
            .map(|c| {
                (
                    c.category.to_string(),
                    c.jurisdiction.clone(),
                    c.level,
                    c.subjects,
                )
            })
            .collect();
        let want = [
            ("FREE_TEXT", "JP", Level::Raw, 2),
            ("PHONE", "JP", Level::Raw, 2),
            ("PHONE", "TW", Level::Raw, 1),
            ("EMAIL", "JP", Level::Masked, 2),
            ("EMAIL", "TH", Level::Pseudonymized, 1),
            ("FREE_TEXT", "TH", Level::Pseudonymized, 1),
            ("PHONE", "TH", Level::Pseudonymized, 1),
        ]
        .map(|(c, j, l, n)| (c.to_owned(), j.to_owned(), l, n));
        assert_eq!(got, want);
        assert_eq!(p.subjects_abroad, 2);
        assert_eq!(
            (p.statements, p.first.as_deref(), p.last.as_deref()),
            (2, Some("2026-01-05T01:00:00Z"), Some("2026-01-06T02:00:00Z"))
        );
        let days: Vec<(&str, u64, u64)> = p
            .timeline
            .iter()
            .map(|d| (d.day.as_str(), d.statements, d.subjects))
            .collect();
        assert_eq!(days, [("2026-01-05", 1, 3), ("2026-01-06", 1, 1)]);
        let [cited] = p.cross_border_raw.as_slice() else {
            panic!("one raw read abroad")
        };
        assert_eq!(
            (cited.index, cited.columns.as_slice()),
            (2, &["users.phone".to_owned()][..])
        );
        assert_eq!(cited.subjects, BTreeMap::from([("TW".to_owned(), 1)]));
        assert_eq!(
            p.denied
                .iter()
                .map(|d| (d.index, d.policies.clone()))
                .collect::<Vec<_>>(),
            [(3, vec!["no-my-number".to_owned()])]
        );
        let levels: Vec<(&str, Level, u64)> = p
            .levels
            .iter()
            .map(|l| (l.category.as_str(), l.level, l.subjects))
            .collect();
        assert_eq!(
            levels,
            [
                ("FREE_TEXT", Level::Raw, 2),
                ("PHONE", Level::Raw, 3),
                ("EMAIL", Level::Masked, 2),
                ("EMAIL", Level::Pseudonymized, 1),
                ("FREE_TEXT", Level::Pseudonymized, 1),
                ("PHONE", Level::Pseudonymized, 1),
            ]
        );
        // Over time per org, and across borders (cross-border first).
        assert_eq!(report.timeline.period, "day");
        assert_eq!(report.timeline.starts, ["2026-01-05", "2026-01-06"]);
        let [org] = report.timeline.orgs.as_slice() else {
            panic!("one org")
        };
        assert_eq!(
            (org.org.as_str(), org.subjects.as_slice()),
            ("line-jp", &[3, 1][..])
        );
        let series: Vec<(&str, &[u64], &[u64])> = org
            .jurisdictions
            .iter()
            .map(|s| (s.jurisdiction.as_str(), s.subjects.as_slice(), s.raw.as_slice()))
            .collect();
        assert_eq!(
            series,
            [
                ("JP", &[2, 0][..], &[2, 0][..]),
                ("TH", &[1, 0], &[0, 0]),
                ("TW", &[0, 1], &[0, 1])
            ]
        );
        let flows: Vec<(&str, &str, u64, u64)> = report
            .flows
            .iter()
            .map(|f| (f.country.as_str(), f.jurisdiction.as_str(), f.subjects, f.raw))
            .collect();
        assert_eq!(
            flows,
            [("JP", "TH", 1, 0), ("JP", "TW", 1, 1), ("JP", "JP", 2, 2)]
        );
    }

    /// Regression (review of issue 18, item 4): a streamed statement's opening and closing
    /// records were counted as two statements. It is one, counted at its opening record; the
    /// closing record's subjects still count; an opening whose closing was lost still counts.
    #[test]
    fn a_streamed_statement_counts_once() {
        let config = kamei_policy::Config::demo().unwrap();
        let at = |index: u64, time: &str, opens: &str, rows: u64, keys: &str| {
            record(
                index,
                &format!(
                    r#"{{"time": "{time}", "principal": "jp_support", "org": "line-jp", "country": "JP", {HEAD},
                    "action": "query", "rows": {rows}{opens},
                    "columns": [{{"table": "users", "column": "phone", "level": "raw"}}],
                    "subjects": [{keys}]}}"#
                ),
            )
        };
        let keys = |k: &str| format!(r#"{{"jurisdiction": "JP", "level": "raw", "keys": [{k}]}}"#);
        let matches = [
            at(0, "2026-01-05T01:00:00Z", "", 0, ""),
            at(
                1,
                "2026-01-05T01:00:01Z",
                ", \"opens\": 0",
                4,
                &keys("1, 2, 3, 4"),
            ),
            at(2, "2026-01-05T02:00:00Z", "", 1, &keys("5")),
            // Opening record whose closing record never came.
            at(3, "2026-01-06T02:00:00Z", "", 0, ""),
        ];
        let report = summarize(&matches, config.catalog(), evidence());
        let [p] = report.principals.as_slice() else {
            panic!("one principal")
        };
        assert_eq!(p.statements, 3);
        let days: Vec<(&str, u64, u64)> = p
            .timeline
            .iter()
            .map(|d| (d.day.as_str(), d.statements, d.subjects))
            .collect();
        assert_eq!(days, [("2026-01-05", 2, 5), ("2026-01-06", 1, 0)]);
        assert_eq!(report.records, 4);
    }

    /// Weeks start on Monday (UTC): 2026-01-05 was a Monday, 1970-01-01 a Thursday.
    #[test]
    fn weeks_start_on_monday() {
        let day = |s: &str| Timestamp::parse(s).unwrap().secs / 86_400;
        for d in ["2026-01-05", "2026-01-07", "2026-01-11"] {
            assert_eq!(day_text(monday_of(day(d))), "2026-01-05", "{d}");
        }
        assert_eq!(day_text(monday_of(day("2026-01-12"))), "2026-01-12");
        assert_eq!(day_text(monday_of(0)), "1969-12-29");
        assert_eq!(day_text(monday_of(-1)), "1969-12-29");
    }
}
