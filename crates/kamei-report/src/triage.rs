//! `kamei report triage`: for a selection of the audit log (a principal, an org, a period),
//! whether Japan's duty to report a leak to the Personal Information Protection Commission and
//! to notify the people affected is triggered, with the count of affected data subjects per
//! jurisdiction, the other markets' rules and every deadline from the time of discovery.
//!
//! It is decision support: it applies the tests of APPI Enforcement Rules Art. 7 to what the
//! log records and says, per test, "triggered", "not triggered" or "a person must judge", with
//! the rule and the reason. What it cannot know it does not guess:
//!
//! - Whether the reads were a leak (漏えい) at all: a contractor reading within its contract
//!   may not be. Every read in the selection is treated as a possible leak, since the duty
//!   covers leaks that "may have occurred".
//! - Intent. A read under a policy that was once too broad is a misconfiguration, not by
//!   itself an act with an improper purpose (Art. 7(iii)); the triage shows such reads (levels
//!   the configuration now in force would not grant, and the policies since withdrawn) and asks
//!   for a judgment, and only `--unauthorized` (the investigator's finding) triggers (iii).
//! - Special-care-required information (要配慮個人情報): kamei's vocabulary has no category
//!   for it, so free text read raw (which may hold anything) is the only sign it can give.
//!
//! # Who counts as affected
//!
//! Subjects come from the subject index, as in the access report. A subject counts as
//! *readable* when some personal column of theirs was read raw or masked (a partial reveal is
//! not the "advanced encryption or similar measure" Art. 7 excludes), and as *pseudonymized
//! only* when everything of theirs was read as keyed pseudonyms, which the reader cannot reverse
//! while kamei's keys stay in kamei; those are counted apart, and the threshold test asks for a
//! judgment when only they carry a count over 1,000. The APPI counts every person whose data
//! the operator handles, wherever they live, so its threshold is tested on all subjects.

use std::collections::{BTreeMap, BTreeSet};

use kamei_audit::{Action, CONFIGURER, LogStorage, LogView, Match, Query, Timestamp};
use kamei_core::{Category, Level, PiiType, thousands};
use kamei_policy::Config;
use roaring::RoaringTreemap;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::access::{AccessFilter, CategoryCount, Selection, attribute, category_of, code};
use crate::error::ReportError;
use crate::evidence::{CheckpointEvidence, Proof, prove};
use crate::grants::Grants;
use crate::markets::{Deadline, JAPAN_COUNTING, MarketRule, japan_deadlines, jst_date, other_markets};
use crate::streamed::{Counted, Streamed};

/// The first thing every form of the triage says.
pub const NOTICE: &str = "Decision support, not legal advice: this applies the rules named below to what the audit log \
records. Whether the reads were a leak, their risk and their purpose are for the privacy officer and counsel to decide; \
check each rule against its source and the regulator's current guidance.";

/// APPI Enforcement Rules Art. 7(iv): a leak of the data of *more than* this many people is
/// reportable.
pub const APPI_SUBJECT_THRESHOLD: u64 = 1_000;

/// A discovery more than this long before the selection's first read is refused as a
/// mistyped date (365 days).
const DISCOVERY_SLACK_SECS: i64 = 365 * 86_400;

/// One test's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    Triggered,
    /// The log cannot settle it: a person must judge (the reason says what).
    Judgment,
    NotTriggered,
}

impl Finding {
    /// The more serious of two answers: any trigger triggers; else any open question stays open.
    fn or(self, other: Finding) -> Finding {
        match (self, other) {
            (Finding::Triggered, _) | (_, Finding::Triggered) => Finding::Triggered,
            (Finding::Judgment, _) | (_, Finding::Judgment) => Finding::Judgment,
            (Finding::NotTriggered, Finding::NotTriggered) => Finding::NotTriggered,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Finding::Triggered => "TRIGGERED",
            Finding::Judgment => "JUDGMENT NEEDED",
            Finding::NotTriggered => "not triggered",
        }
    }
}

/// What the investigator asserts beyond the log.
#[derive(Debug, Clone, Copy)]
pub struct TriageFacts {
    /// When the operator learned of the situation: every deadline runs from it.
    pub discovered: Timestamp,
    /// `--unauthorized`: the investigator has found that the access may have been an act with
    /// an improper purpose (Rules Art. 7(iii)).
    pub unauthorized: bool,
}

/// The triage of one selection.
#[derive(Debug, Clone, Serialize)]
pub struct Triage {
    pub notice: &'static str,
    pub checkpoint: CheckpointEvidence,
    pub selection: Selection,
    /// The configuration the reads were compared with (its grants and catalog).
    pub configuration: Compared,
    pub discovered: String,
    pub flagged_unauthorized: bool,
    /// Statements in the selection that returned data, and those denied.
    pub statements: u64,
    pub denied: u64,
    /// The first and last statement that returned data (UTC).
    pub first: Option<String>,
    pub last: Option<String>,
    /// Who read: principals with their org and country.
    pub principals: Vec<Actor>,
    /// Distinct subjects per jurisdiction (JP, TH, TW, ID first; `--` unknown last).
    pub subjects: Vec<Affected>,
    /// Distinct subjects per category, jurisdiction and level (most revealing first).
    pub categories: Vec<CategoryCount>,
    pub japan: JapanDuty,
    pub other_markets: Vec<MarketRule>,
    /// Statements that read a column at a level the configuration now in force does not grant.
    pub beyond_grant: Vec<CitedRead>,
    /// Policies in force at those reads and absent from the configuration now.
    pub withdrawn_policies: Vec<String>,
    /// Statements that read a financial category (card, bank account, IBAN) raw.
    pub financial_raw: Vec<CitedRead>,
    /// Statements whose subjects the log does not hold: streamed results whose closing record
    /// is missing, or results with no rows (the log writes both alike; see streamed.rs).
    pub subjects_unknown: Vec<CitedRead>,
}

/// Which configuration a triage compared the log's reads with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Compared {
    /// Where it came from: a `--config` path, or the log's configure record it matched.
    pub source: String,
    /// Its policy ids, sorted.
    pub policies: Vec<String>,
    /// SHA-256 (hex) of its decision matrix: one line per principal, table, column and
    /// jurisdiction with the level and deciding policies, sorted. Two configurations with the
    /// same digest grant the same; compare it with `kamei report exposure` of a candidate.
    pub decisions_sha256: String,
}

impl Compared {
    pub fn of(config: &Config, source: impl Into<String>) -> Compared {
        let mut lines: Vec<String> = config
            .matrix()
            .iter()
            .map(|r| {
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    r.principal,
                    r.table,
                    r.column,
                    r.jurisdiction,
                    r.level,
                    r.policies.join(",")
                )
            })
            .collect();
        lines.sort();
        let mut h = Sha256::new();
        for l in &lines {
            h.update(l.as_bytes());
        }
        let mut policies = config.policy_ids();
        policies.sort();
        Compared {
            source: source.into(),
            policies,
            decisions_sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// The configuration to compare with when none is given: the one the log's last configure
/// record says is in force, if it is `builtin` (the demo configuration: the only one kamei can
/// rebuild without files, as a configure record holds policy ids and a summary, not the
/// policies). Anything else is refused, never silently replaced by the demo.
pub fn config_from_log(storage: &dyn LogStorage, builtin: &Config) -> Result<Compared, ReportError> {
    let last = Query {
        principal: Some(CONFIGURER.into()),
        ..Query::default()
    }
    .run(storage)?
    .into_iter()
    .rfind(|m| m.record.action() == Action::Configure)
    .ok_or_else(|| {
        ReportError::NoConfiguration("the log holds no configure record to compare with".into())
    })?;
    let mut ids = builtin.policy_ids();
    ids.sort();
    let mut logged = last.record.policies().to_vec();
    logged.sort();
    if ids != logged {
        return Err(ReportError::NoConfiguration(format!(
            "the log's last configure record (index {}, {}) names policies other than the built-in demo configuration's",
            last.index,
            last.record.time()
        )));
    }
    Ok(Compared::of(
        builtin,
        format!(
            "the built-in demo configuration, whose policy ids the log's last configure record (index {}, {}) names (a configure record holds no more than the ids)",
            last.index,
            last.record.time()
        ),
    ))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub principal: String,
    pub org: String,
    pub country: String,
    pub statements: u64,
    pub denied: u64,
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Affected {
    pub jurisdiction: String,
    /// Some personal column of theirs read raw or masked.
    pub readable: u64,
    /// Read, but only as keyed pseudonyms.
    pub pseudonymized_only: u64,
}

/// Japan's answer: the four tests of Rules Art. 7, the duty they add up to, and its deadlines.
#[derive(Debug, Clone, Serialize)]
pub struct JapanDuty {
    pub law: &'static str,
    /// The Japanese calendar day of discovery: day 1 of every period.
    pub discovered_day: String,
    /// How the days are counted, and that weekends and holidays are not considered.
    pub counting: &'static str,
    pub finding: Finding,
    pub conclusions: Vec<Conclusion>,
    pub deadlines: Vec<Deadline>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conclusion {
    pub test: &'static str,
    pub source: &'static str,
    pub finding: Finding,
    pub reason: String,
}

/// A record a conclusion rests on, with its proof against the checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct CitedRead {
    pub index: u64,
    pub time: String,
    pub principal: String,
    /// The statement with its literals redacted, as the log holds it.
    pub statement: String,
    /// `TABLE.COLUMN level` (and, beyond a grant, the level now granted).
    pub columns: Vec<String>,
    pub subjects: u64,
    /// The canonical leaf (the record's JSON, which holds keyed references, never a cell
    /// value), whose hash the proof starts from.
    pub leaf: String,
    /// `None` when the record is newer than the checkpoint.
    pub proof: Option<Proof>,
}

/// Triage of the records `filter` selects, against `config`, the configuration now in force
/// (`compared` says which it is, and the report repeats it).
///
/// A selection that matches no record is an error ([`ReportError::EmptySelection`]): a
/// mistyped org must not read as "nothing to report".
pub fn triage(
    storage: &dyn LogStorage,
    config: &Config,
    compared: Compared,
    filter: &AccessFilter,
    facts: TriageFacts,
) -> Result<Triage, ReportError> {
    let view = LogView::open(storage, None)?;
    let selected = |since, until| query_of(filter, since, until);
    let mut matches = selected(filter.since, filter.until).run(storage)?;
    // A statement opened inside the period may close after it: its closing record (and its
    // subjects) belong to the selection.
    let opened: std::collections::HashSet<u64> = matches
        .iter()
        .filter(|m| m.record.action() == Action::Query && m.record.opens().is_none() && m.record.rows() == 0)
        .map(|m| m.index)
        .collect();
    if filter.until.is_some() && !opened.is_empty() {
        let closed = Streamed::of(matches.iter().map(|m| &m.record));
        let late = selected(filter.until, None)
            .run(storage)?
            .into_iter()
            .filter(|m| {
                m.record
                    .opens()
                    .is_some_and(|o| opened.contains(&o) && !closed.is_closed(o))
            });
        matches.extend(late);
    }
    // The configurations in force: every configure record up to the end of the selection.
    let configures: Vec<(u64, Vec<String>)> = Query {
        principal: Some(CONFIGURER.into()),
        until: filter.until,
        ..Query::default()
    }
    .run(storage)?
    .into_iter()
    .filter(|m| m.record.action() == Action::Configure)
    .map(|m| (m.index, m.record.policies().to_vec()))
    .collect();
    let mut t = assess(
        &matches,
        &configures,
        config,
        facts,
        CheckpointEvidence::of(&view, storage)?,
    )?;
    t.selection = Selection::from(filter);
    t.configuration = compared;
    let by_index: BTreeMap<u64, &Match> = matches.iter().map(|m| (m.index, m)).collect();
    for cited in t
        .beyond_grant
        .iter_mut()
        .chain(t.financial_raw.iter_mut())
        .chain(t.subjects_unknown.iter_mut())
    {
        if let Some(m) = by_index.get(&cited.index) {
            (cited.leaf, cited.proof) = leaf_and_proof(&view, m)?;
        }
    }
    Ok(t)
}

/// The query for the principals `filter` selects between `since` and `until`.
pub(crate) fn query_of(filter: &AccessFilter, since: Option<Timestamp>, until: Option<Timestamp>) -> Query {
    Query {
        principal: filter.principal.clone(),
        org: filter.org.clone(),
        country: filter.country.clone(),
        since,
        until,
        ..Query::default()
    }
}

/// A cited record's canonical leaf (as text) and its proof against the view's checkpoint.
pub(crate) fn leaf_and_proof(view: &LogView, m: &Match) -> Result<(String, Option<Proof>), ReportError> {
    let leaf = m.record.to_leaf().map_err(kamei_audit::AuditError::from)?;
    Ok((
        String::from_utf8_lossy(&leaf).into_owned(),
        prove(view, m.index, &m.record)?,
    ))
}

/// Whether misuse of the category's data could cause financial harm (Rules Art. 7(ii)).
/// Matched exhaustively: a new personal-data type must be placed here.
fn financial(category: Category) -> bool {
    match category {
        Category::Pii(t) => match t {
            PiiType::CreditCard | PiiType::BankAccount | PiiType::Iban => true,
            PiiType::Email
            | PiiType::Phone
            | PiiType::MyNumber
            | PiiType::CorporateNumber
            | PiiType::PostalCode
            | PiiType::Address
            | PiiType::Person
            | PiiType::DateOfBirth
            | PiiType::IpAddress
            | PiiType::Passport
            | PiiType::DriverLicense => false,
        },
        Category::SubjectKey
        | Category::AccountId
        | Category::FreeText
        | Category::QuasiIdentifier
        | Category::NonPersonal => false,
    }
}

#[derive(Default)]
struct ActorAcc {
    org: String,
    country: String,
    statements: u64,
    denied: u64,
    first: Option<String>,
    last: Option<String>,
}

/// The triage from the matching records and the configure records up to the selection's end
/// (proofs not yet attached).
pub(crate) fn assess(
    matches: &[Match],
    configures: &[(u64, Vec<String>)],
    config: &Config,
    facts: TriageFacts,
    checkpoint: CheckpointEvidence,
) -> Result<Triage, ReportError> {
    let catalog = config.catalog();
    let grants = Grants::of(config);
    let streamed = Streamed::of(matches.iter().map(|m| &m.record));
    let mut subjects_unknown = Vec::new();
    let mut actors: BTreeMap<String, ActorAcc> = BTreeMap::new();
    let mut readable: BTreeMap<[u8; 2], RoaringTreemap> = BTreeMap::new();
    let mut pseudonymized: BTreeMap<[u8; 2], RoaringTreemap> = BTreeMap::new();
    let mut categories: BTreeMap<(Category, [u8; 2], Level), RoaringTreemap> = BTreeMap::new();
    let mut beyond_grant = Vec::new();
    let mut beyond_subjects = RoaringTreemap::new();
    let mut withdrawn = BTreeSet::new();
    let mut financial_raw = Vec::new();
    let (mut statements, mut denied) = (0, 0);
    for m in matches {
        let r = &m.record;
        match r.action() {
            Action::Configure => continue,
            Action::Denied => {
                denied += 1;
                let a = actors.entry(r.principal().to_owned()).or_default();
                a.denied += 1;
                (a.org, a.country) = (r.org().to_owned(), r.country().to_owned());
                continue;
            }
            Action::Query | Action::Export | Action::Detokenize => {}
        }
        let counted = streamed.counts(m.index, r);
        if counted == Counted::Opening {
            // Its closing record is the statement, with the subjects.
            continue;
        }
        statements += 1;
        let a = actors.entry(r.principal().to_owned()).or_default();
        (a.org, a.country) = (r.org().to_owned(), r.country().to_owned());
        a.statements += 1;
        let time = r.time().to_owned();
        if a.first.as_ref().is_none_or(|f| time < *f) {
            a.first = Some(time.clone());
        }
        if a.last.as_ref().is_none_or(|l| time > *l) {
            a.last = Some(time.clone());
        }
        let mut everyone = RoaringTreemap::new();
        // The jurisdictions the configuration decides, each with the most revealing level a
        // subject group of theirs was read at in this record.
        let mut known: BTreeMap<String, Level> = BTreeMap::new();
        for ((j, level), keys) in m.subjects.iter() {
            match level {
                Level::Raw | Level::Masked => *readable.entry(j).or_default() |= keys,
                Level::Pseudonymized => *pseudonymized.entry(j).or_default() |= keys,
                Level::Denied => continue,
            }
            everyone |= keys;
            let j = code(j);
            if grants.jurisdictions.contains(&j) {
                let l = known.entry(j).or_insert(level);
                *l = (*l).max(level);
            }
        }
        let mut financial_subjects = RoaringTreemap::new();
        attribute(catalog, r, &m.subjects, |category, j, level, keys| {
            *categories.entry((category, j, level)).or_default() |= keys;
            if level == Level::Raw && financial(category) {
                financial_subjects |= keys;
            }
        });
        let columns = |keep: &dyn Fn(Category, &str, &str, Level) -> Option<String>| -> Vec<String> {
            r.tables()
                .iter()
                .flat_map(|(t, cs)| cs.iter().map(move |(c, l)| (t, c, *l)))
                .filter_map(|(t, c, l)| keep(category_of(catalog, t, c), t, c, l))
                .collect()
        };
        let cite = |columns: Vec<String>, subjects: u64| CitedRead {
            index: m.index,
            time: time.clone(),
            principal: r.principal().to_owned(),
            statement: r.statement().to_owned(),
            columns,
            subjects,
            leaf: String::new(),
            proof: None,
        };
        if !financial_subjects.is_empty() {
            let cols = columns(&|category, t, c, l| {
                (financial(category) && l == Level::Raw).then(|| format!("{t}.{c} {l}"))
            });
            financial_raw.push(cite(cols, financial_subjects.len()));
        }
        if counted == Counted::SubjectsUnknown {
            let cols = columns(&|category, t, c, l| {
                (category.is_personal() && l != Level::Denied).then(|| format!("{t}.{c} {l}"))
            });
            if !cols.is_empty() {
                subjects_unknown.push(cite(cols, 0));
            }
        }
        if known.is_empty() {
            // No subject of a jurisdiction the configuration decides: nothing to compare.
            continue;
        }
        // A column read at level l is compared only with the jurisdictions whose subjects in
        // this record were read at l or above: a JP group read raw must not hide behind a TH
        // group that is now granted raw (review item 10).
        let beyond = columns(&|category, t, c, l| {
            let now = grants.most(
                r.principal(),
                t,
                c,
                known.iter().filter(|(_, g)| **g >= l).map(|(j, _)| j.as_str()),
            );
            (category.is_personal() && l != Level::Denied && l > now)
                .then(|| format!("{t}.{c} {l} (now {now})"))
        });
        if !beyond.is_empty() {
            beyond_subjects |= &everyone;
            if let Some((_, in_force)) = configures.iter().rev().find(|(i, _)| *i < m.index) {
                withdrawn.extend(in_force.iter().filter(|p| !grants.policies.contains(*p)).cloned());
            }
            beyond_grant.push(cite(beyond, everyone.len()));
        }
    }
    if actors.is_empty() {
        return Err(ReportError::EmptySelection);
    }
    let mut all_readable = RoaringTreemap::new();
    let mut all_pseudonymized = RoaringTreemap::new();
    for keys in readable.values() {
        all_readable |= keys;
    }
    for keys in pseudonymized.values() {
        all_pseudonymized |= keys;
    }
    let pseudonymized_only = &all_pseudonymized - &all_readable;
    let count = |codes: &[&str]| -> (u64, u64) {
        let mut r = RoaringTreemap::new();
        let mut p = RoaringTreemap::new();
        for code in codes {
            let Ok(j) = <[u8; 2]>::try_from(code.as_bytes()) else {
                continue;
            };
            if let Some(keys) = readable.get(&j) {
                r |= keys;
            }
            if let Some(keys) = pseudonymized.get(&j) {
                p |= keys;
            }
        }
        let only = &p - &r;
        (r.len(), only.len())
    };
    let subjects = affected(&readable, &pseudonymized);

    let financial_at = |level: Level| -> (RoaringTreemap, BTreeSet<&'static str>) {
        let mut keys = RoaringTreemap::new();
        let mut names = BTreeSet::new();
        for ((c, _, l), k) in &categories {
            if *l == level && financial(*c) {
                keys |= k;
                names.insert(c.as_str());
            }
        }
        (keys, names)
    };
    let mut free_text_raw = RoaringTreemap::new();
    for ((c, _, l), k) in &categories {
        if *c == Category::FreeText && *l == Level::Raw {
            free_text_raw |= k;
        }
    }
    let conclusions = vec![
        special_care(free_text_raw.len()),
        financial_harm(
            financial_at(Level::Raw),
            financial_at(Level::Masked),
            financial_at(Level::Pseudonymized),
            free_text_raw.len(),
        ),
        improper_purpose(
            facts.unauthorized,
            beyond_grant.len(),
            beyond_subjects.len(),
            &withdrawn,
            denied,
        ),
        subject_count(
            all_readable.len(),
            pseudonymized_only.len(),
            subjects_unknown.len(),
        ),
    ];
    let finding = conclusions
        .iter()
        .fold(Finding::NotTriggered, |f, c| f.or(c.finding));
    let sixty = match conclusions[2].finding {
        Finding::Triggered => Some(true),
        Finding::Judgment => None,
        Finding::NotTriggered => Some(false),
    };
    let mut categories: Vec<CategoryCount> = categories
        .iter()
        .map(|((category, j, level), keys)| CategoryCount {
            category: *category,
            jurisdiction: code(*j),
            level: *level,
            subjects: keys.len(),
        })
        .collect();
    categories.sort_by(|a, b| {
        (
            jurisdiction_rank(&a.jurisdiction),
            std::cmp::Reverse(a.level),
            a.category.as_str(),
        )
            .cmp(&(
                jurisdiction_rank(&b.jurisdiction),
                std::cmp::Reverse(b.level),
                b.category.as_str(),
            ))
    });
    let first = actors.values().filter_map(|a| a.first.clone()).min();
    let last = actors.values().filter_map(|a| a.last.clone()).max();
    if let Some(first_read) = first.as_deref().and_then(|f| Timestamp::parse(f).ok())
        && facts.discovered.secs < first_read.secs.saturating_sub(DISCOVERY_SLACK_SECS)
    {
        return Err(ReportError::DiscoveredBeforeReads {
            discovered: facts.discovered.to_string(),
            first_read: first_read.to_string(),
        });
    }
    Ok(Triage {
        notice: NOTICE,
        checkpoint,
        selection: Selection::default(),
        configuration: Compared::default(),
        discovered: facts.discovered.to_string(),
        flagged_unauthorized: facts.unauthorized,
        statements,
        denied,
        first,
        last,
        principals: actors
            .into_iter()
            .map(|(principal, a)| Actor {
                principal,
                org: a.org,
                country: a.country,
                statements: a.statements,
                denied: a.denied,
                first: a.first,
                last: a.last,
            })
            .collect(),
        subjects,
        categories,
        japan: JapanDuty {
            law: "Act on the Protection of Personal Information (個人情報保護法, APPI)",
            discovered_day: jst_date(facts.discovered).unwrap_or_else(|| "(outside the calendar)".into()),
            counting: JAPAN_COUNTING,
            finding,
            conclusions,
            deadlines: japan_deadlines(facts.discovered, sixty),
        },
        other_markets: other_markets(facts.discovered, count),
        beyond_grant,
        withdrawn_policies: withdrawn.into_iter().collect(),
        financial_raw,
        subjects_unknown,
    })
}

/// The demo world's markets first, then other codes, unknown (`--`) last.
fn jurisdiction_rank(j: &str) -> (usize, String) {
    let rank = ["JP", "TH", "TW", "ID"]
        .iter()
        .position(|x| *x == j)
        .unwrap_or(if j == "--" { 5 } else { 4 });
    (rank, j.to_owned())
}

fn affected(
    readable: &BTreeMap<[u8; 2], RoaringTreemap>,
    pseudonymized: &BTreeMap<[u8; 2], RoaringTreemap>,
) -> Vec<Affected> {
    let codes: BTreeSet<[u8; 2]> = readable.keys().chain(pseudonymized.keys()).copied().collect();
    let mut out: Vec<Affected> = codes
        .into_iter()
        .map(|j| {
            let r = readable.get(&j).cloned().unwrap_or_default();
            let p = pseudonymized.get(&j).cloned().unwrap_or_default();
            Affected {
                jurisdiction: code(j),
                readable: r.len(),
                pseudonymized_only: (&p - &r).len(),
            }
        })
        .collect();
    out.sort_by_key(|a| jurisdiction_rank(&a.jurisdiction));
    out
}

// SPEC: APPI Enforcement Rules Art. 7(i)
fn special_care(free_text_raw: u64) -> Conclusion {
    let (finding, reason) = if free_text_raw > 0 {
        (
            Finding::Judgment,
            format!(
                "kamei's categories have no special-care class (要配慮個人情報: race, creed, social status, medical history, \
                 criminal record, …); free text of {} subjects was read raw and may hold such information: review it",
                thousands(free_text_raw)
            ),
        )
    } else {
        (
            Finding::NotTriggered,
            "no free text was read raw; kamei's categories have no special-care class (要配慮個人情報), so this covers only \
             what the catalog can say: a column that holds such data must be reviewed by hand"
                .into(),
        )
    };
    Conclusion {
        test: "special-care-required personal information, whatever the count",
        source: "APPI Art. 26(1); Enforcement Rules Art. 7(i); Act Art. 2(3)",
        finding,
        reason,
    }
}

type Financial = (RoaringTreemap, BTreeSet<&'static str>);

// SPEC: APPI Enforcement Rules Art. 7(ii)
fn financial_harm(
    raw: Financial,
    masked: Financial,
    pseudonymized: Financial,
    free_text_raw: u64,
) -> Conclusion {
    let names = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
    let (finding, reason) = if !raw.0.is_empty() {
        (
            Finding::Triggered,
            format!(
                "{} read raw for {} subjects: data whose misuse could cause financial harm",
                names(&raw.1),
                thousands(raw.0.len())
            ),
        )
    } else if !masked.0.is_empty() {
        (
            Finding::Judgment,
            format!(
                "{} read masked (a partial reveal such as the last four digits) for {} subjects: judge whether it could be misused",
                names(&masked.1),
                thousands(masked.0.len())
            ),
        )
    } else if free_text_raw > 0 {
        (
            Finding::Judgment,
            format!(
                "no financial column was read raw or masked, but free text of {} subjects was read raw and may hold card or \
                 account numbers",
                thousands(free_text_raw)
            ),
        )
    } else if !pseudonymized.0.is_empty() {
        (
            Finding::NotTriggered,
            format!(
                "{} read only as keyed pseudonyms ({} subjects): Art. 7 excludes data protected by advanced encryption or \
                 similar measures; this holds while kamei's pseudonymization keys have not left it",
                names(&pseudonymized.1),
                thousands(pseudonymized.0.len())
            ),
        )
    } else {
        (
            Finding::NotTriggered,
            "no column of a financial category (CREDIT_CARD, BANK_ACCOUNT, IBAN) was read".into(),
        )
    };
    Conclusion {
        test: "data whose misuse could cause financial harm (card numbers, bank accounts), whatever the count",
        source: "APPI Art. 26(1); Enforcement Rules Art. 7(ii)",
        finding,
        reason,
    }
}

// SPEC: APPI Enforcement Rules Art. 7(iii), Art. 8(2)
fn improper_purpose(
    flagged: bool,
    beyond_reads: usize,
    beyond_subjects: u64,
    withdrawn: &BTreeSet<String>,
    denied: u64,
) -> Conclusion {
    let denied_note = match denied {
        0 => String::new(),
        1 => "; 1 attempt was denied".into(),
        n => format!("; {} attempts were denied", thousands(n)),
    };
    let withdrawn_note = if withdrawn.is_empty() {
        String::new()
    } else {
        format!(
            " (policies in force then, withdrawn since: {})",
            withdrawn.iter().cloned().collect::<Vec<_>>().join(", ")
        )
    };
    let (finding, reason) = if flagged {
        (
            Finding::Triggered,
            format!(
                "flagged with --unauthorized: the investigator found the access may have been an act with an improper \
                 purpose; the final report is due in 60 days{denied_note}"
            ),
        )
    } else if beyond_reads > 0 {
        (
            Finding::Judgment,
            format!(
                "{beyond_reads} statements read data of {} subjects at levels the configuration now in force does not grant{withdrawn_note}; \
                 a too-broad policy is a misconfiguration, not by itself an improper purpose: if the reads went beyond the task, \
                 rerun with --unauthorized{denied_note}",
                thousands(beyond_subjects)
            ),
        )
    } else {
        (
            Finding::NotTriggered,
            format!(
                "every read was within what the configuration now in force grants; the log shows no intent either way{denied_note}"
            ),
        )
    };
    Conclusion {
        test: "a leak by an act that may have had an improper purpose (unauthorized access, theft), whatever the count",
        source: "APPI Art. 26(1); Enforcement Rules Art. 7(iii)",
        finding,
        reason,
    }
}

/// The threshold test: triggered above [`APPI_SUBJECT_THRESHOLD`] readable subjects; a
/// judgment when only the pseudonymized ones carry the count over it, or when `unknown`
/// statements (no subjects recorded: a lost closing record, or no rows) could.
// SPEC: APPI Enforcement Rules Art. 7(iv)
pub(crate) fn subject_count(readable: u64, pseudonymized_only: u64, unknown: usize) -> Conclusion {
    let total = readable.saturating_add(pseudonymized_only);
    let (finding, reason) = if readable > APPI_SUBJECT_THRESHOLD {
        (
            Finding::Triggered,
            format!(
                "{} subjects' personal data was read raw or masked: more than {}",
                thousands(readable),
                thousands(APPI_SUBJECT_THRESHOLD)
            ),
        )
    } else if total > APPI_SUBJECT_THRESHOLD {
        (
            Finding::Judgment,
            format!(
                "{} subjects read raw or masked, {} more only as keyed pseudonyms: more than {} only if the pseudonymized \
                 reads are not treated as protected (Art. 7 excludes data under advanced encryption or similar measures)",
                thousands(readable),
                thousands(pseudonymized_only),
                thousands(APPI_SUBJECT_THRESHOLD)
            ),
        )
    } else if unknown > 0 {
        (
            Finding::Judgment,
            format!(
                "{} subjects in all ({} read raw or masked), not more than {}, but {} statements recorded no subjects: \
                 streamed results whose closing record is missing, or results with no rows (the log writes both alike); \
                 find out which before counting them as no one",
                thousands(total),
                thousands(readable),
                thousands(APPI_SUBJECT_THRESHOLD),
                thousands(unknown as u64)
            ),
        )
    } else {
        (
            Finding::NotTriggered,
            format!(
                "{} subjects in all ({} read raw or masked): not more than {}",
                thousands(total),
                thousands(readable),
                thousands(APPI_SUBJECT_THRESHOLD)
            ),
        )
    };
    Conclusion {
        test: "more than 1,000 data subjects",
        source: "APPI Art. 26(1); Enforcement Rules Art. 7(iv)",
        finding,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kamei_audit::RecordInput;

    fn evidence() -> CheckpointEvidence {
        CheckpointEvidence {
            origin: "test".into(),
            size: 0,
            root: String::new(),
            note: String::new(),
            verifier_key: None,
        }
    }

    fn facts() -> TriageFacts {
        TriageFacts {
            discovered: Timestamp::parse("2026-03-16T01:00:00Z").unwrap(),
            unauthorized: false,
        }
    }

    /// A read by jp_support of `keys` (JP) at `level` over users.phone and users.user_id.
    fn read(
        index: u64,
        table_column: &str,
        level: &str,
        jurisdiction: &str,
        keys: std::ops::Range<u64>,
    ) -> Match {
        let (table, column) = table_column.split_once('.').unwrap();
        let keys: Vec<String> = keys.map(|k| k.to_string()).collect();
        let json = format!(
            r#"{{"time": "2026-01-05T01:00:{:02}Z", "principal": "jp_support", "org": "line-jp", "country": "JP",
            "client_addr": "10.0.0.1", "statement": "SELECT 1", "action": "query", "rows": {},
            "columns": [{{"table": "{table}", "column": "{column}", "level": "{level}"}}],
            "subjects": [{{"jurisdiction": "{jurisdiction}", "level": "{level}", "keys": [{}]}}]}}"#,
            index % 60,
            keys.len(),
            keys.join(",")
        );
        let (record, subjects) = RecordInput::from_json(&json).unwrap().into_record().unwrap();
        Match {
            index,
            record,
            subjects,
        }
    }

    fn japan(matches: &[Match], config: &Config) -> (Finding, Vec<Finding>) {
        let t = assess(matches, &[], config, facts(), evidence()).unwrap();
        (
            t.japan.finding,
            t.japan.conclusions.iter().map(|c| c.finding).collect(),
        )
    }

    /// Exactly at the threshold is not "more than"; one more is. Checked across the boundary
    /// for every split between readable and pseudonymized-only subjects.
    #[test]
    fn the_count_threshold_is_more_than_one_thousand() {
        for readable in (0..=1_002).chain([5_000, u64::MAX]) {
            for pseudonymized in [
                0,
                1,
                1_000 - readable.min(1_000),
                1_001 - readable.min(1_001),
                u64::MAX - readable,
            ] {
                let c = subject_count(readable, pseudonymized, 0);
                let want = if readable > 1_000 {
                    Finding::Triggered
                } else if readable.saturating_add(pseudonymized) > 1_000 {
                    Finding::Judgment
                } else {
                    Finding::NotTriggered
                };
                assert_eq!(c.finding, want, "{readable} + {pseudonymized}");
            }
        }
    }

    /// Through the whole assessment: 1,000 subjects read raw (in two overlapping statements)
    /// do not trigger the count; 1,001 do.
    #[test]
    fn one_thousand_and_one_distinct_subjects_trigger_the_count_and_one_thousand_do_not() {
        let config = Config::demo().unwrap();
        let at_1000 = [
            read(0, "users.phone", "raw", "JP", 1..700),
            read(1, "users.phone", "raw", "JP", 500..1_001),
        ];
        let (duty, findings) = japan(&at_1000, &config);
        assert_eq!(findings[3], Finding::NotTriggered);
        assert_eq!(duty, Finding::NotTriggered);
        let at_1001 = [
            read(0, "users.phone", "raw", "JP", 1..700),
            read(1, "users.phone", "raw", "JP", 500..1_002),
        ];
        let (duty, findings) = japan(&at_1001, &config);
        assert_eq!(findings[3], Finding::Triggered);
        assert_eq!(duty, Finding::Triggered);
        // Pseudonyms carry it over only as a question.
        let mixed = [
            read(0, "users.phone", "raw", "JP", 1..1_001),
            read(1, "users.email", "pseudonymized", "TH", 2_000..2_001),
        ];
        assert_eq!(japan(&mixed, &config).1[3], Finding::Judgment);
    }

    /// One raw card number triggers regardless of count; pseudonymized card numbers do not;
    /// raw free text asks for a judgment on special-care data.
    #[test]
    fn financial_data_and_free_text_do_not_wait_for_the_count() {
        let config = Config::demo().unwrap();
        let (duty, f) = japan(&[read(0, "payments.card_number", "raw", "JP", 1..2)], &config);
        assert_eq!((duty, f[1]), (Finding::Triggered, Finding::Triggered));
        let (duty, f) = japan(
            &[read(0, "payments.card_number", "pseudonymized", "JP", 1..2)],
            &config,
        );
        assert_eq!((duty, f[1]), (Finding::NotTriggered, Finding::NotTriggered));
        let (duty, f) = japan(&[read(0, "messages.body", "raw", "JP", 1..2)], &config);
        assert_eq!(
            (duty, f[0], f[1]),
            (Finding::Judgment, Finding::Judgment, Finding::Judgment)
        );
    }

    /// jp_support reads JP phones raw under the demo policy: within its grant. TH phones raw
    /// are beyond it (now pseudonymized), and only --unauthorized triggers Art. 7(iii).
    #[test]
    fn reads_beyond_the_grant_in_force_now_ask_for_a_judgment_and_the_flag_triggers() {
        let config = Config::demo().unwrap();
        let t = assess(
            &[read(3, "users.phone", "raw", "JP", 1..3)],
            &[],
            &config,
            facts(),
            evidence(),
        )
        .unwrap();
        assert!(t.beyond_grant.is_empty());
        assert_eq!(t.japan.conclusions[2].finding, Finding::NotTriggered);
        let configures = [(
            0,
            vec!["support-raw-everywhere".to_owned(), "non-personal-raw".to_owned()],
        )];
        let abroad = [read(3, "users.phone", "raw", "TH", 1_500..1_503)];
        let t = assess(&abroad, &configures, &config, facts(), evidence()).unwrap();
        assert_eq!(t.beyond_grant.len(), 1);
        assert_eq!(t.beyond_grant[0].columns, ["users.phone raw (now pseudonymized)"]);
        assert_eq!(t.withdrawn_policies, ["support-raw-everywhere"]);
        assert_eq!(t.japan.conclusions[2].finding, Finding::Judgment);
        assert!(t.japan.deadlines[1].due.contains("or 2026-05-14 JST (day 60)"));
        let flagged = TriageFacts {
            unauthorized: true,
            ..facts()
        };
        let t = assess(&abroad, &configures, &config, flagged, evidence()).unwrap();
        assert_eq!(
            (t.japan.finding, t.japan.conclusions[2].finding),
            (Finding::Triggered, Finding::Triggered)
        );
        assert!(t.japan.deadlines[1].due.contains("2026-05-14 JST (day 60"));
        // Thailand's rule counts its residents.
        assert_eq!(
            (t.other_markets[0].market, t.other_markets[0].readable),
            ("Thailand", 3)
        );
    }

    /// Review item 10: one record read JP subjects' phones raw and TH subjects' at
    /// pseudonymized; since then JP was lowered to masked and TH raised to raw. The raw read is
    /// compared with JP's grant only, so it is beyond the grant.
    #[test]
    fn beyond_the_grant_is_judged_per_jurisdiction_group() {
        let config = Config::demo().unwrap();
        let lowered = config
            .with_policies(
                "policies.cedar",
                r#"
@id("jp-masked")
permit (principal, action == Kamei::Action::"read_masked", resource)
when { principal.roles.contains("support") && resource.jurisdiction == "JP" };
@id("th-raw")
permit (principal, action == Kamei::Action::"read_raw", resource)
when { principal.roles.contains("support") && resource.jurisdiction == "TH" };
@id("everyone-pseudonymized")
permit (principal, action == Kamei::Action::"read_pseudonymized", resource);
"#,
            )
            .unwrap();
        let json = r#"{"time": "2026-01-05T01:00:00Z", "principal": "jp_support", "org": "line-jp", "country": "JP",
            "client_addr": "10.0.0.1", "statement": "SELECT phone FROM users", "action": "query", "rows": 3,
            "columns": [{"table": "users", "column": "phone", "level": "raw"}],
            "subjects": [{"jurisdiction": "JP", "level": "raw", "keys": [1, 2]},
                         {"jurisdiction": "TH", "level": "pseudonymized", "keys": [1500]}]}"#;
        let (record, subjects) = RecordInput::from_json(json).unwrap().into_record().unwrap();
        let m = Match {
            index: 0,
            record,
            subjects,
        };
        let t = assess(std::slice::from_ref(&m), &[], &lowered, facts(), evidence()).unwrap();
        assert_eq!(t.beyond_grant.len(), 1, "{:?}", t.beyond_grant);
        assert_eq!(t.beyond_grant[0].columns, ["users.phone raw (now masked)"]);
        // Under the demo policy JP is raw for jp_support: nothing beyond.
        let t = assess(&[m], &[], &config, facts(), evidence()).unwrap();
        assert!(t.beyond_grant.is_empty());
    }

    fn streamed(index: u64, keys: std::ops::Range<u64>, opens: Option<u64>, rows: u64) -> Match {
        let json = format!(
            r#"{{"time": "2026-01-05T01:00:{:02}Z", "principal": "jp_support", "org": "line-jp", "country": "JP",
            "client_addr": "10.0.0.1", "statement": "SELECT 1", "action": "query", "rows": {rows}, {}
            "columns": [{{"table": "users", "column": "phone", "level": "raw"}}],
            "subjects": [{{"jurisdiction": "JP", "level": "raw", "keys": [{}]}}]}}"#,
            index % 60,
            opens.map_or(String::new(), |o| format!(r#""opens": {o},"#)),
            keys.map(|k| k.to_string()).collect::<Vec<_>>().join(",")
        );
        let (record, subjects) = RecordInput::from_json(&json).unwrap().into_record().unwrap();
        Match {
            index,
            record,
            subjects,
        }
    }

    /// Review item 4: an opening record and its closing record are one statement, whose
    /// subjects come from the closing record; an opening record with no closing record turns
    /// the count test into a judgment, as its subjects are unknown.
    #[test]
    fn a_streamed_statement_counts_once_and_a_lost_closing_record_asks_for_a_judgment() {
        let config = Config::demo().unwrap();
        let whole = [
            streamed(10, 0..0, None, 0),
            streamed(11, 1..40, Some(10), 39),
            read(12, "users.phone", "raw", "JP", 50..52),
        ];
        let t = assess(&whole, &[], &config, facts(), evidence()).unwrap();
        assert_eq!(t.statements, 2);
        assert_eq!(t.principals[0].statements, 2);
        assert_eq!(t.subjects[0].readable, 41);
        assert!(t.subjects_unknown.is_empty());
        assert_eq!(t.japan.conclusions[3].finding, Finding::NotTriggered);
        let lost = [
            streamed(10, 0..0, None, 0),
            read(12, "users.phone", "raw", "JP", 50..52),
        ];
        let t = assess(&lost, &[], &config, facts(), evidence()).unwrap();
        assert_eq!(t.statements, 2);
        assert_eq!(
            t.subjects_unknown.iter().map(|c| c.index).collect::<Vec<_>>(),
            [10]
        );
        assert_eq!(t.japan.conclusions[3].finding, Finding::Judgment);
        assert!(
            t.japan.conclusions[3]
                .reason
                .contains("1 statements recorded no subjects")
        );
    }

    /// `--discovered` far before the reads is a mistyped date: refused, not computed from.
    #[test]
    fn a_discovery_more_than_a_year_before_the_first_read_is_refused() {
        let config = Config::demo().unwrap();
        let reads = [read(0, "users.phone", "raw", "JP", 1..3)];
        for (discovered, ok) in [
            ("1900-01-01", false),
            ("2025-01-04", false),
            ("2025-01-06", true),
            ("2026-03-16", true),
        ] {
            let facts = TriageFacts {
                discovered: Timestamp::parse(discovered).unwrap(),
                unauthorized: false,
            };
            let got = assess(&reads, &[], &config, facts, evidence());
            assert_eq!(got.is_ok(), ok, "{discovered}");
            if let Err(e) = got {
                assert!(matches!(e, ReportError::DiscoveredBeforeReads { .. }));
                assert!(e.to_string().starts_with("--discovered `"), "{e}");
            }
        }
    }

    /// The digest names the decisions: the same configuration gives the same digest, an added
    /// policy another.
    #[test]
    fn the_compared_configuration_is_named_by_its_decisions() {
        let config = Config::demo().unwrap();
        let broad = config
            .with_policies("policies.cedar", &crate::incident::too_broad_policies())
            .unwrap();
        let (a, b) = (Compared::of(&config, "x"), Compared::of(&broad, "x"));
        assert_eq!(a, Compared::of(&Config::demo().unwrap(), "x"));
        assert_eq!(a.decisions_sha256.len(), 64);
        assert_ne!(a.decisions_sha256, b.decisions_sha256);
        assert!(b.policies.contains(&"engineer-raw-contacts-temporary".to_owned()));
    }

    #[test]
    fn an_empty_selection_is_an_error() {
        let config = Config::demo().unwrap();
        assert!(matches!(
            assess(&[], &[], &config, facts(), evidence()),
            Err(ReportError::EmptySelection)
        ));
    }

    use proptest::prelude::*;

    const JURISDICTIONS: [&str; 4] = ["JP", "TH", "TW", "ID"];
    const LEVELS: [&str; 3] = ["raw", "masked", "pseudonymized"];
    const COLUMNS: [(&str, &str, &str); 3] = [
        ("users", "phone", "PHONE"),
        ("users", "email", "EMAIL"),
        ("payments", "card_number", "CREDIT_CARD"),
    ];

    /// A read of one column by th_support: each subject (whose jurisdiction is its key modulo
    /// four) at the level given, the column at the most revealing of them, as the gateway
    /// records it.
    fn random_read(index: u64, column: usize, subjects: &BTreeMap<u64, usize>) -> Match {
        let (table, column, _) = COLUMNS[column];
        let mut groups: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        for (k, level) in subjects {
            groups
                .entry(((*k % 4) as usize, *level))
                .or_default()
                .push(k.to_string());
        }
        let most = subjects.values().min().copied().unwrap_or(2);
        let groups: Vec<String> = groups
            .iter()
            .map(|((j, l), keys)| {
                format!(
                    r#"{{"jurisdiction": "{}", "level": "{}", "keys": [{}]}}"#,
                    JURISDICTIONS[*j],
                    LEVELS[*l],
                    keys.join(",")
                )
            })
            .collect();
        let json = format!(
            r#"{{"time": "2026-01-05T01:00:00Z", "principal": "th_support", "org": "line-th", "country": "TH",
            "client_addr": "10.0.0.1", "statement": "SELECT 1", "action": "query", "rows": {},
            "columns": [{{"table": "{table}", "column": "{column}", "level": "{}"}}],
            "subjects": [{}]}}"#,
            subjects.len(),
            LEVELS[most],
            groups.join(",")
        );
        let (record, subjects) = RecordInput::from_json(&json).unwrap().into_record().unwrap();
        Match {
            index,
            record,
            subjects,
        }
    }

    proptest! {
        /// Counts per jurisdiction and per category are the distinct subjects a brute-force
        /// pass over the same reads finds, and the count test answers on those numbers.
        #[test]
        fn counts_are_the_distinct_subjects_brute_force_finds(
            reads in proptest::collection::vec(
                (0..COLUMNS.len(), proptest::collection::btree_map(1u64..80, 0..LEVELS.len(), 1..15)),
                1..10,
            )
        ) {
            let config = Config::demo().unwrap();
            let matches: Vec<Match> = reads
                .iter()
                .enumerate()
                .map(|(i, (c, subjects))| random_read(i as u64, *c, subjects))
                .collect();
            let t = assess(&matches, &[], &config, facts(), evidence()).unwrap();
            let mut readable: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
            let mut pseudonymized: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
            let mut categories: BTreeMap<(String, &str, &str), BTreeSet<u64>> = BTreeMap::new();
            for (c, subjects) in &reads {
                for (k, l) in subjects {
                    let j = JURISDICTIONS[(*k % 4) as usize];
                    if *l == 2 { &mut pseudonymized } else { &mut readable }.entry(j).or_default().insert(*k);
                    categories.entry((COLUMNS[*c].2.to_owned(), j, LEVELS[*l])).or_default().insert(*k);
                }
            }
            let mut want: Vec<(String, u64, u64)> = JURISDICTIONS
                .iter()
                .filter(|j| readable.contains_key(*j) || pseudonymized.contains_key(*j))
                .map(|j| {
                    let r = readable.get(j).cloned().unwrap_or_default();
                    let p = pseudonymized.get(j).cloned().unwrap_or_default();
                    ((*j).to_owned(), r.len() as u64, p.difference(&r).count() as u64)
                })
                .collect();
            want.sort_by_key(|(j, _, _)| jurisdiction_rank(j));
            let got: Vec<(String, u64, u64)> =
                t.subjects.iter().map(|a| (a.jurisdiction.clone(), a.readable, a.pseudonymized_only)).collect();
            prop_assert_eq!(got, want);
            let got: BTreeMap<(String, String, String), u64> = t
                .categories
                .iter()
                .map(|c| ((c.category.to_string(), c.jurisdiction.clone(), c.level.to_string()), c.subjects))
                .collect();
            let want: BTreeMap<(String, String, String), u64> = categories
                .iter()
                .map(|((c, j, l), keys)| ((c.clone(), (*j).to_owned(), (*l).to_owned()), keys.len() as u64))
                .collect();
            prop_assert_eq!(got, want);
            let all_r: BTreeSet<u64> = readable.values().flatten().copied().collect();
            let all_p: BTreeSet<u64> = pseudonymized.values().flatten().copied().collect();
            let only = all_p.difference(&all_r).count() as u64;
            prop_assert_eq!(
                &t.japan.conclusions[3],
                &subject_count(all_r.len() as u64, only, 0)
            );
            // A raw card number triggers Art. 7(ii) whatever the count.
            let raw_card = reads.iter().any(|(c, s)| *c == 2 && s.values().any(|l| *l == 0));
            prop_assert_eq!(t.japan.conclusions[1].finding == Finding::Triggered, raw_card);
        }
    }
}
