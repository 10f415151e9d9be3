//! `kamei report anomalies`: reads in the audit log that a privacy officer should look at
//! before anyone asks, each with the records behind it and their proofs. Four kinds:
//!
//! - **Bulk reads**: an hour in which a principal read far more distinct subjects than it
//!   usually does. The statistic is a robust z-score over the principal's own active hours
//!   (`0.6745 × (x − median) / MAD`, the MAD floored at 1 since counts are whole), or over its
//!   peers' active hours (every other principal in the selection) when it has fewer than
//!   [`Thresholds::min_history_hours`] hours of its own. An hour is flagged when the score is at
//!   least [`Thresholds::bulk_z`], the count at least [`Thresholds::bulk_min_subjects`] and at
//!   least [`Thresholds::bulk_ratio`] times the baseline's median, so that a steady bulk reader
//!   is not flagged for a busy hour and a quiet one is for a spike.
//! - **A new country**: a principal's first record whose country is not one its earlier records
//!   carry. The log records the principal's country as configured, not where the client was:
//!   this sees a principal moved to (or credentials reused under) another country, not an IP
//!   address's location.
//! - **Raw reads outside business hours**: a statement that read a personal column raw before
//!   09:00, at or after 19:00, or on a Saturday or Sunday in the principal's country, by that
//!   country's standard UTC offset (no daylight saving time, no public holidays). Principals
//!   of a country with no offset here are not judged, and the report lists those countries.
//! - **Narrow probing**: many statements by one principal, each with a selective predicate
//!   (`=`, `LIKE`, `IN`, a comparison) on the same protected personal column (one it does not
//!   read raw) and few rows, within a day: the shape of inferring a value it may not see from
//!   counts and filters. Read from the redacted statement text (literals are `?`), the columns
//!   and levels, and the row count each record holds.
//!
//! Baselines come from the selection itself: narrow it by period and the history before it is
//! not seen. Every threshold is in the report, so a reader knows what "far more" meant.

use std::collections::{BTreeMap, BTreeSet};

use kamei_audit::{Action, LogStorage, LogView, Match, Timestamp};
use kamei_core::{Category, Level};
use kamei_policy::Catalog;
use roaring::RoaringTreemap;
use serde::Serialize;

use crate::access::{AccessFilter, Selection, category_of};
use crate::error::ReportError;
use crate::evidence::{CheckpointEvidence, Proof};
use crate::streamed::{Counted, Streamed};
use crate::triage::{leaf_and_proof, query_of};

/// The standard UTC offset (hours) of the demo world's countries and their neighbours; `None`
/// for a country this table does not hold (it is then not judged for business hours).
/// Countries with several zones take the zone of their capital.
pub fn utc_offset_hours(country: &str) -> Option<i64> {
    Some(match country {
        "JP" | "KR" => 9,
        "CN" | "TW" | "HK" | "SG" | "MY" | "PH" => 8,
        "TH" | "ID" | "VN" | "KH" | "LA" => 7,
        "IN" => 5, // 5:30; business hours by the whole hour are close enough to flag
        "GB" | "IE" | "PT" => 0,
        "FR" | "DE" | "NL" | "BE" | "ES" | "IT" | "AT" | "PL" | "SE" | "DK" | "NO" | "CZ" => 1,
        "US" => -5,
        _ => return None,
    })
}

/// What "far more", "outside hours" and "many" mean; printed with every report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    pub bulk_z: f64,
    pub bulk_min_subjects: u64,
    pub bulk_ratio: f64,
    pub min_history_hours: usize,
    /// Local business hours, `[start, end)`, Monday to Friday.
    pub business_hours: (u32, u32),
    /// A probing statement returns at most this many rows.
    pub probe_max_rows: u64,
    /// Flag this many probing statements on one column within `probe_window_hours`.
    pub probe_min_statements: usize,
    pub probe_window_hours: i64,
    /// Records cited per finding at most (the count says how many there were).
    pub max_cited: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            bulk_z: 3.5,
            bulk_min_subjects: 50,
            bulk_ratio: 3.0,
            min_history_hours: 8,
            business_hours: (9, 19),
            probe_max_rows: 10,
            probe_min_statements: 20,
            probe_window_hours: 24,
            max_cited: 50,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    BulkRead,
    NewCountry,
    OffHoursRaw,
    NarrowProbing,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::BulkRead => "bulk read",
            Kind::NewCountry => "new country",
            Kind::OffHoursRaw => "raw read outside business hours",
            Kind::NarrowProbing => "narrow probing",
        }
    }
}

/// A record behind a finding, with its proof against the checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct CitedRecord {
    pub index: u64,
    pub time: String,
    /// The statement with its literals redacted, as the log holds it.
    pub statement: String,
    /// The canonical leaf, whose hash the proof starts from.
    pub leaf: String,
    /// `None` when the record is newer than the checkpoint.
    pub proof: Option<Proof>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Anomaly {
    pub kind: Kind,
    pub principal: String,
    pub org: String,
    pub country: String,
    /// When (the hour, the record's time, or the window's first and last record).
    pub when: String,
    /// What was seen and the statistic that flagged it, in a sentence.
    pub what: String,
    /// How many records are behind it; `records` cites up to `max_cited` of them.
    pub count: usize,
    pub records: Vec<CitedRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Anomalies {
    pub checkpoint: CheckpointEvidence,
    pub selection: Selection,
    pub thresholds: Thresholds,
    /// Statements looked at (a streamed statement once).
    pub statements: u64,
    /// Countries of principals with raw reads that have no UTC offset here (not judged for hours).
    pub countries_not_judged: Vec<String>,
    pub findings: Vec<Anomaly>,
}

/// The anomalies among the records `filter` selects.
pub fn anomalies(
    storage: &dyn LogStorage,
    catalog: &Catalog,
    filter: &AccessFilter,
    thresholds: Thresholds,
) -> Result<Anomalies, ReportError> {
    let view = LogView::open(storage, None)?;
    let matches = query_of(filter, filter.since, filter.until).run(storage)?;
    let mut report = detect(
        &matches,
        catalog,
        thresholds,
        CheckpointEvidence::of(&view, storage)?,
    );
    report.selection = Selection::from(filter);
    let by_index: BTreeMap<u64, &Match> = matches.iter().map(|m| (m.index, m)).collect();
    for cited in report.findings.iter_mut().flat_map(|f| f.records.iter_mut()) {
        if let Some(m) = by_index.get(&cited.index) {
            (cited.leaf, cited.proof) = leaf_and_proof(&view, m)?;
        }
    }
    Ok(report)
}

/// One statement that returned data, as the detectors see it.
struct Read<'a> {
    m: &'a Match,
    secs: i64,
}

/// The anomalies among `matches` (proofs not yet attached).
pub(crate) fn detect(
    matches: &[Match],
    catalog: &Catalog,
    th: Thresholds,
    checkpoint: CheckpointEvidence,
) -> Anomalies {
    let streamed = Streamed::of(matches.iter().map(|m| &m.record));
    let mut by_principal: BTreeMap<&str, Vec<Read<'_>>> = BTreeMap::new();
    let mut statements = 0;
    for m in matches {
        match m.record.action() {
            Action::Query | Action::Export | Action::Detokenize => {}
            Action::Denied | Action::Configure => continue,
        }
        if streamed.counts(m.index, &m.record) == Counted::Opening {
            continue;
        }
        statements += 1;
        let Some(t) = m.record.timestamp() else {
            continue;
        };
        by_principal
            .entry(m.record.principal())
            .or_default()
            .push(Read { m, secs: t.secs });
    }
    let mut findings = Vec::new();
    bulk(&by_principal, th, &mut findings);
    new_country(&by_principal, th, &mut findings);
    let not_judged = off_hours(&by_principal, catalog, th, &mut findings);
    probing(&by_principal, catalog, th, &mut findings);
    findings.sort_by(|a, b| (a.kind, &a.principal, &a.when).cmp(&(b.kind, &b.principal, &b.when)));
    Anomalies {
        checkpoint,
        selection: Selection::default(),
        thresholds: th,
        statements,
        countries_not_judged: not_judged.into_iter().collect(),
        findings,
    }
}

fn finding(kind: Kind, reads: &[&Read<'_>], when: String, what: String, th: Thresholds) -> Anomaly {
    let r = &reads[0].m.record;
    Anomaly {
        kind,
        principal: r.principal().to_owned(),
        org: r.org().to_owned(),
        country: r.country().to_owned(),
        when,
        what,
        count: reads.len(),
        records: reads
            .iter()
            .take(th.max_cited)
            .map(|x| CitedRecord {
                index: x.m.index,
                time: x.m.record.time().to_owned(),
                statement: x.m.record.statement().to_owned(),
                leaf: String::new(),
                proof: None,
            })
            .collect(),
    }
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// (median, MAD floored at 1) of `counts`.
fn robust(counts: &[u64]) -> (f64, f64) {
    let mut v: Vec<f64> = counts.iter().map(|c| *c as f64).collect();
    v.sort_by(f64::total_cmp);
    let med = median(&v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    (med, median(&dev).max(1.0))
}

const HOUR: i64 = 3_600;

/// Distinct subjects per UTC hour, with the reads of each hour.
fn hours<'a, 'b>(reads: &'b [Read<'a>]) -> BTreeMap<i64, (RoaringTreemap, Vec<&'b Read<'a>>)> {
    let mut out: BTreeMap<i64, (RoaringTreemap, Vec<&Read<'_>>)> = BTreeMap::new();
    for r in reads {
        let e = out.entry(r.secs.div_euclid(HOUR)).or_default();
        for (_, keys) in r.m.subjects.iter() {
            e.0 |= keys;
        }
        e.1.push(r);
    }
    out
}

fn bulk(by_principal: &BTreeMap<&str, Vec<Read<'_>>>, th: Thresholds, out: &mut Vec<Anomaly>) {
    let per: BTreeMap<&str, _> = by_principal.iter().map(|(p, r)| (*p, hours(r))).collect();
    for (p, hs) in &per {
        let own: Vec<u64> = hs.values().map(|(k, _)| k.len()).collect();
        let (baseline, whose) = if own.len() >= th.min_history_hours {
            (own, "its own")
        } else {
            let peers: Vec<u64> = per
                .iter()
                .filter(|(q, _)| q != &p)
                .flat_map(|(_, h)| h.values().map(|(k, _)| k.len()))
                .collect();
            if peers.len() < th.min_history_hours {
                continue;
            }
            (peers, "its peers'")
        };
        let (med, mad) = robust(&baseline);
        for (hour, (keys, reads)) in hs {
            let x = keys.len() as f64;
            let z = 0.6745 * (x - med) / mad;
            if z >= th.bulk_z && keys.len() >= th.bulk_min_subjects && x >= th.bulk_ratio * med.max(1.0) {
                let start = Timestamp {
                    secs: hour * HOUR,
                    nanos: 0,
                };
                out.push(finding(
                    Kind::BulkRead,
                    reads,
                    format!("the hour from {start}"),
                    format!(
                        "{} distinct subjects in {} statements; {whose} hourly median {med:.1} (MAD {mad:.1}, {} active hours): robust z {z:.1}",
                        keys.len(),
                        reads.len(),
                        baseline.len()
                    ),
                    th,
                ));
            }
        }
    }
}

fn new_country(by_principal: &BTreeMap<&str, Vec<Read<'_>>>, th: Thresholds, out: &mut Vec<Anomaly>) {
    for reads in by_principal.values() {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for r in reads {
            let c = r.m.record.country();
            if seen.insert(c) && seen.len() > 1 {
                out.push(finding(
                    Kind::NewCountry,
                    &[r],
                    r.m.record.time().to_owned(),
                    format!(
                        "first record from {c}; earlier records of this principal were from {}",
                        seen.iter()
                            .filter(|x| **x != c)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    th,
                ));
            }
        }
    }
}

/// Personal columns the record read raw.
fn raw_personal(catalog: &Catalog, m: &Match) -> Vec<String> {
    m.record
        .tables()
        .iter()
        .flat_map(|(t, cs)| cs.iter().map(move |(c, l)| (t, c, *l)))
        .filter(|(t, c, l)| *l == Level::Raw && category_of(catalog, t, c).is_personal())
        .map(|(t, c, _)| format!("{t}.{c}"))
        .collect()
}

fn off_hours(
    by_principal: &BTreeMap<&str, Vec<Read<'_>>>,
    catalog: &Catalog,
    th: Thresholds,
    out: &mut Vec<Anomaly>,
) -> BTreeSet<String> {
    let mut not_judged = BTreeSet::new();
    for reads in by_principal.values() {
        for r in reads {
            let raw = raw_personal(catalog, r.m);
            if raw.is_empty() {
                continue;
            }
            let country = r.m.record.country();
            let Some(offset) = utc_offset_hours(country) else {
                not_judged.insert(country.to_owned());
                continue;
            };
            let local = r.secs + offset * HOUR;
            let hour = local.rem_euclid(86_400) / HOUR;
            // 1970-01-01 was a Thursday: day 0 → weekday 3 (Monday 0).
            let weekday = (local.div_euclid(86_400) + 3).rem_euclid(7);
            let (start, end) = th.business_hours;
            if weekday >= 5 || hour < i64::from(start) || hour >= i64::from(end) {
                out.push(finding(
                    Kind::OffHoursRaw,
                    &[r],
                    r.m.record.time().to_owned(),
                    format!(
                        "read {} raw at {:02}:{:02} on a {} in {country} (UTC{offset:+})",
                        raw.join(", "),
                        hour,
                        local.rem_euclid(HOUR) / 60,
                        [
                            "Monday",
                            "Tuesday",
                            "Wednesday",
                            "Thursday",
                            "Friday",
                            "Saturday",
                            "Sunday"
                        ][weekday as usize]
                    ),
                    th,
                ));
            }
        }
    }
    not_judged
}

/// The columns a redacted statement puts a selective predicate on: an identifier (maybe
/// qualified) followed by `=`, `LIKE`, `ILIKE`, `IN`, `BETWEEN` or a comparison, then a
/// literal (`?`) or a list. Lower case.
pub(crate) fn predicate_columns(statement: &str) -> BTreeSet<String> {
    let lower = statement.to_ascii_lowercase();
    let Some(at) = lower.find(" where ") else {
        return BTreeSet::new();
    };
    let tokens = tokenize(&lower[at + 7..]);
    let mut out = BTreeSet::new();
    for (i, t) in tokens.iter().enumerate() {
        let is_ident = t
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && !matches!(
                t.as_str(),
                "and" | "or" | "not" | "like" | "ilike" | "in" | "between" | "is" | "null"
            );
        if !is_ident {
            continue;
        }
        let mut j = i + 1;
        if tokens.get(j).is_some_and(|x| x == "not") {
            j += 1;
        }
        let op = tokens.get(j).map(String::as_str);
        let next = tokens.get(j + 1).map(String::as_str);
        let selective = match op {
            Some("=" | "<" | ">" | "<=" | ">=" | "like" | "ilike" | "between") => next == Some("?"),
            Some("in") => next == Some("("),
            _ => false,
        };
        if selective {
            out.insert(t.rsplit('.').next().unwrap_or(t).to_owned());
        }
    }
    out
}

/// Identifiers (with dots), `?`, `(`, and operators of `<>=!`.
fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            let mut t = String::from(c);
            while let Some(&d) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' || d == '.' {
                    t.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(t);
        } else if "<>=!".contains(c) {
            let mut t = String::from(c);
            if let Some(&d) = chars.peek()
                && "<>=".contains(d)
            {
                t.push(d);
                chars.next();
            }
            out.push(t);
        } else if c == '?' || c == '(' {
            out.push(c.to_string());
        }
    }
    out
}

/// The protected personal columns a statement probes: a selective predicate on a personal
/// column of a table it read, which it did not read raw, returning few rows.
fn probed(catalog: &Catalog, m: &Match, th: Thresholds) -> Vec<String> {
    if m.record.rows() > th.probe_max_rows {
        return Vec::new();
    }
    let columns = predicate_columns(m.record.statement());
    let mut out = Vec::new();
    for (t, cs) in m.record.tables() {
        for c in &columns {
            let category = category_of(catalog, t, c);
            let listed = catalog.table(t).and_then(|x| x.column(c)).is_some();
            let protected = cs.get(c.as_str()).is_none_or(|l| *l != Level::Raw);
            if listed && category.is_personal() && category != Category::SubjectKey && protected {
                out.push(format!("{t}.{c}"));
            }
        }
    }
    out
}

fn probing(
    by_principal: &BTreeMap<&str, Vec<Read<'_>>>,
    catalog: &Catalog,
    th: Thresholds,
    out: &mut Vec<Anomaly>,
) {
    for reads in by_principal.values() {
        let mut per_column: BTreeMap<String, Vec<&Read<'_>>> = BTreeMap::new();
        for r in reads {
            for c in probed(catalog, r.m, th) {
                per_column.entry(c).or_default().push(r);
            }
        }
        for (column, mut rs) in per_column {
            rs.sort_by_key(|r| r.secs);
            // The largest set of probes within one window, found by a sliding window.
            let (mut best, mut lo) = ((0, 0), 0);
            for hi in 0..rs.len() {
                while rs[hi].secs - rs[lo].secs > th.probe_window_hours * HOUR {
                    lo += 1;
                }
                if hi + 1 - lo > best.1 - best.0 {
                    best = (lo, hi + 1);
                }
            }
            let window = &rs[best.0..best.1];
            if window.len() >= th.probe_min_statements {
                out.push(finding(
                    Kind::NarrowProbing,
                    window,
                    format!("{} to {}", window[0].m.record.time(), window[window.len() - 1].m.record.time()),
                    format!(
                        "{} statements with a selective predicate on {column} (not read raw), each returning at most {} rows, within {} hours",
                        window.len(),
                        th.probe_max_rows,
                        th.probe_window_hours
                    ),
                    th,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates_are_read_from_redacted_statements() {
        let cols = |s: &str| predicate_columns(s).into_iter().collect::<Vec<_>>();
        assert_eq!(cols("SELECT user_id FROM users WHERE phone LIKE ?"), ["phone"]);
        assert_eq!(
            cols("SELECT 1 FROM users u WHERE u.email = ? AND birth_date >= ? AND country IN (?, ?)"),
            ["birth_date", "country", "email"]
        );
        assert_eq!(cols("SELECT phone FROM users WHERE phone NOT LIKE ?"), ["phone"]);
        assert!(cols("SELECT phone FROM users").is_empty());
        assert!(cols("SELECT a FROM t WHERE a = b").is_empty());
    }

    #[test]
    fn robust_statistics_floor_the_mad() {
        assert_eq!(robust(&[1, 1, 1, 1]), (1.0, 1.0));
        assert_eq!(robust(&[1, 2, 3, 4, 100]), (3.0, 1.0));
        assert_eq!(robust(&[10, 20, 30, 40]), (25.0, 10.0));
    }

    #[test]
    fn offsets_cover_the_demo_world() {
        for (c, h) in [("JP", 9), ("KR", 9), ("CN", 8), ("TW", 8), ("TH", 7), ("ID", 7)] {
            assert_eq!(utc_offset_hours(c), Some(h));
        }
        assert_eq!(utc_offset_hours("ZZ"), None);
    }
}
