//! The demo incident: an audit log like the one kamei would have kept through the incident it
//! exists to prevent. Twelve weeks of ordinary traffic from the demo principals (support staff
//! reading their own country's users, a moderator working on abuse reports, an administrator's
//! break-glass reads, denied attempts), and an overseas contractor (`cn_contractor`, org
//! `ldt-shanghai`, CN) that reads Japanese users' data for six weeks, for two of them under a
//! policy that was too broad and let it read phone numbers and e-mail addresses raw.
//!
//! Records are built as the gateway builds them (`RecordInput` with the columns read at the
//! level the configuration in force decides per subject jurisdiction, subjects grouped by
//! jurisdiction at the most revealing level a column of theirs was read at, statements with
//! their literals, which the log redacts) and appended through [`AuditLog`]; the configuration
//! changes are `configure` records, as `kamei serve` writes on start and reload. It writes no
//! data: subject keys are numbers 1 to 2,000 (JP 1–1,400, TH to 1,700, TW to 1,900, ID to
//! 2,000). The same seed gives the same log.
//!
//! [`Incident`] keeps what was written, counted as it was written, so that tests can check
//! the reports against it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kamei_audit::record::{ColumnRead, SubjectGroup, SubjectsInput};
use kamei_audit::{Action, AuditLog, RecordInput, Timestamp};
use kamei_core::{Category, Level};
use kamei_policy::Config;

use crate::error::ReportError;
use crate::grants::Grants;

/// The principal whose reads the incident is about.
pub const CONTRACTOR: &str = "cn_contractor";

/// The first day of the log (a Monday) and its length in days.
const START: &str = "2026-01-05";
const DAYS: i64 = 84;
/// The contractor reads JP users' data on business days `CONTRACTOR_DAYS` (2026-02-02 to
/// 2026-03-13), under the too-broad policy on `BROAD_DAYS` (2026-02-16 to 2026-02-27).
const CONTRACTOR_DAYS: std::ops::Range<i64> = 28..68;
const BROAD_DAYS: std::ops::Range<i64> = 42..54;

/// The policy that was once added for the contractor's team "to debug delivery problems".
const TOO_BROAD: &str = r#"
@id("engineer-raw-contacts-temporary")
permit (principal, action == Kamei::Action::"read_raw", resource)
when {
  principal.roles.contains("engineer") &&
  ["PHONE", "EMAIL"].contains(resource.category)
};
"#;

/// The seed `kamei demo incident` writes its log with.
pub const SEED: u64 = 2021;

/// The demo policies with the too-broad one added: the configuration in force from 2026-02-16
/// to 2026-02-27, as a policies file (for `kamei policy diff` against the demo's).
pub fn too_broad_policies() -> String {
    let policies = kamei_policy::DEMO_FILES
        .iter()
        .find(|(name, _)| name.ends_with(".cedar"))
        .map(|(_, text)| *text)
        .unwrap_or_default();
    format!("{policies}\n{TOO_BROAD}")
}

/// What the incident log holds, as it was written.
#[derive(Debug, Default, Clone)]
pub struct Incident {
    /// Records appended.
    pub records: u64,
    /// The contractor's statements that returned data: first and last time (canonical UTC).
    pub contractor_first: String,
    pub contractor_last: String,
    /// The contractor's statements that returned data, by index.
    pub contractor_reads: Vec<u64>,
    /// Those that read phone numbers or e-mail addresses raw (under the too-broad policy).
    pub contractor_raw_reads: Vec<u64>,
    /// The contractor's denied attempts.
    pub contractor_denied: Vec<u64>,
    /// Distinct JP subjects the contractor read, per category and level.
    pub contractor_jp: BTreeMap<(Category, Level), BTreeSet<u64>>,
    /// Every record (any principal) that touched each subject, by index.
    pub touched: BTreeMap<u64, Vec<u64>>,
}

impl Incident {
    /// A Japanese user whose phone number the contractor read raw, the one read most often
    /// (the smallest key of those): the person whose history the demo shows.
    pub fn contractor_subject(&self) -> Option<u64> {
        self.contractor_jp
            .get(&(Category::Pii(kamei_core::PiiType::Phone), Level::Raw))?
            .iter()
            .max_by_key(|k| (self.touched.get(k).map_or(0, Vec::len), std::cmp::Reverse(**k)))
            .copied()
    }
}

/// A small deterministic generator (SplitMix64): the incident must be the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `range` (non-empty).
    fn within(&mut self, range: std::ops::RangeInclusive<u64>) -> u64 {
        let (lo, hi) = range.into_inner();
        lo + self.next() % (hi - lo + 1)
    }

    /// `n` distinct keys from `range`.
    fn keys(&mut self, range: std::ops::RangeInclusive<u64>, n: usize) -> BTreeSet<u64> {
        let mut out = BTreeSet::new();
        while out.len() < n {
            out.insert(self.within(range.clone()));
        }
        out
    }
}

const JP_KEYS: std::ops::RangeInclusive<u64> = 1..=1400;
const TH_KEYS: std::ops::RangeInclusive<u64> = 1401..=1700;
const TW_KEYS: std::ops::RangeInclusive<u64> = 1701..=1900;

fn jurisdiction_of(key: u64) -> &'static str {
    match key {
        0..=1400 => "JP",
        1401..=1700 => "TH",
        1701..=1900 => "TW",
        _ => "ID",
    }
}

/// One statement to record.
struct Statement {
    time: Timestamp,
    principal: &'static str,
    sql: String,
    table: &'static str,
    columns: &'static [&'static str],
    subjects: BTreeSet<u64>,
    /// A statement the gateway refuses: recorded as `denied` with the deciding policies of its
    /// first denied column.
    denied: bool,
}

/// Who each demo principal is (org, country, client address).
fn who(principal: &str) -> (&'static str, &'static str, &'static str) {
    match principal {
        "admin" => ("line-jp", "JP", "10.0.1.2"),
        "jp_support" => ("line-jp", "JP", "10.0.1.20"),
        "th_support" => ("line-th", "TH", "10.8.0.14"),
        "cn_contractor" => ("ldt-shanghai", "CN", "203.0.113.7"),
        "kr_moderator" => ("naver-kr", "KR", "198.51.100.23"),
        _ => ("line-jp", "JP", "10.0.1.30"),
    }
}

fn at(day: i64, minutes: u64) -> Result<Timestamp, ReportError> {
    let start = Timestamp::parse(START).map_err(|e| internal(e.to_string()))?;
    Ok(Timestamp {
        secs: start.secs + day * 86_400 + (minutes as i64) * 60,
        nanos: 0,
    })
}

fn internal(what: String) -> ReportError {
    ReportError::Audit(kamei_audit::AuditError::DamagedLog(format!(
        "demo incident: {what}"
    )))
}

/// The day's statements (in no particular order).
fn day_statements(day: i64, rng: &mut Rng) -> Result<Vec<Statement>, ReportError> {
    let mut out = Vec::new();
    if day % 7 >= 5 {
        return Ok(out);
    }
    // Each principal works 09:00–18:00 in its own country: JST 09:00 is 00:00 UTC, and a
    // principal whose country is h hours behind Japan starts h hours later in UTC. (The same
    // random draws as before, so the subjects read are unchanged.)
    let mut stmt = |rng: &mut Rng,
                    principal: &'static str,
                    sql: String,
                    table: &'static str,
                    columns: &'static [&'static str],
                    subjects: BTreeSet<u64>,
                    denied: bool|
     -> Result<(), ReportError> {
        let behind = 9 - crate::anomalies::utc_offset_hours(who(principal).1).unwrap_or(9);
        let time = at(day, rng.within(0..=539) + (behind.max(0) as u64) * 60)?;
        out.push(Statement {
            time,
            principal,
            sql,
            table,
            columns,
            subjects,
            denied,
        });
        Ok(())
    };
    for _ in 0..3 {
        let k = rng.within(JP_KEYS);
        stmt(
            rng,
            "jp_support",
            format!("SELECT user_id, full_name, phone, email, country FROM users WHERE user_id = {k}"),
            "users",
            &["user_id", "full_name", "phone", "email", "country"],
            BTreeSet::from([k]),
            false,
        )?;
    }
    let k = rng.within(TH_KEYS);
    stmt(
        rng,
        "jp_support",
        format!("SELECT user_id, display_name, phone FROM users WHERE user_id = {k}"),
        "users",
        &["user_id", "display_name", "phone"],
        BTreeSet::from([k]),
        false,
    )?;
    let k = rng.within(TH_KEYS);
    stmt(
        rng,
        "th_support",
        format!("SELECT user_id, full_name, phone FROM users WHERE user_id = {k}"),
        "users",
        &["user_id", "full_name", "phone"],
        BTreeSet::from([k]),
        false,
    )?;
    for _ in 0..2 {
        let n = rng.within(2..=6) as usize;
        let subjects = rng.keys(1..=2000, n);
        stmt(
            rng,
            "kr_moderator",
            format!(
                "SELECT report_id, reporter_id, reported_user_id, body FROM reports WHERE reported_at > '2026-01-0{}' AND reason = 'spam' LIMIT {n}",
                1 + day % 5
            ),
            "reports",
            &["report_id", "reporter_id", "reported_user_id", "body"],
            subjects,
            false,
        )?;
    }
    if day % 7 == 2 {
        // The weekly break-glass read of a Taiwanese account by an administrator in Japan.
        let k = rng.within(TW_KEYS);
        stmt(
            rng,
            "admin",
            format!("SELECT user_id, full_name, phone, email, address FROM users WHERE user_id = {k}"),
            "users",
            &["user_id", "full_name", "phone", "email", "address"],
            BTreeSet::from([k]),
            false,
        )?;
    }
    if day == 17 {
        stmt(
            rng,
            "kr_moderator",
            "SELECT phone FROM users WHERE display_name = 'ゆうき'".into(),
            "users",
            &["phone"],
            BTreeSet::new(),
            true,
        )?;
        stmt(
            rng,
            "auditor",
            "SELECT email FROM users LIMIT 10".into(),
            "users",
            &["email"],
            BTreeSet::new(),
            true,
        )?;
    }
    if CONTRACTOR_DAYS.contains(&day) {
        for _ in 0..2 {
            let n = rng.within(15..=30) as usize;
            let subjects = rng.keys(JP_KEYS, n);
            stmt(
                rng,
                CONTRACTOR,
                format!(
                    "SELECT user_id, display_name, phone, birth_date, created_at FROM users WHERE country = 'JP' AND created_at > '2025-0{}-01' LIMIT {n}",
                    1 + day % 9
                ),
                "users",
                &["user_id", "display_name", "phone", "birth_date", "created_at"],
                subjects,
                false,
            )?;
        }
        if day % 2 == 0 {
            let n = rng.within(5..=15) as usize;
            let subjects = rng.keys(JP_KEYS, n);
            stmt(
                rng,
                CONTRACTOR,
                format!(
                    "SELECT payment_id, user_id, card_number, amount FROM payments WHERE country = 'JP' AND amount > 50000 LIMIT {n}"
                ),
                "payments",
                &["payment_id", "user_id", "card_number", "amount"],
                subjects,
                false,
            )?;
        }
        if BROAD_DAYS.contains(&day) {
            let n = rng.within(20..=40) as usize;
            let from = rng.within(1..=900);
            let subjects = rng.keys(JP_KEYS, n);
            stmt(
                rng,
                CONTRACTOR,
                format!(
                    "SELECT user_id, full_name, phone, email FROM users WHERE country = 'JP' AND user_id > {from} LIMIT {n}"
                ),
                "users",
                &["user_id", "full_name", "phone", "email"],
                subjects,
                false,
            )?;
        }
        if day == 58 {
            let k = rng.within(JP_KEYS);
            stmt(
                rng,
                CONTRACTOR,
                format!("SELECT user_id, my_number FROM users WHERE user_id = {k}"),
                "users",
                &["user_id", "my_number"],
                BTreeSet::new(),
                true,
            )?;
        }
    }
    Ok(out)
}

/// The record the gateway would write for one statement of `principal` (a demo principal)
/// under `config`: the builder the incident uses, for tests that plant records in its log.
pub fn statement_record(
    config: &Config,
    time: Timestamp,
    principal: &'static str,
    sql: &str,
    table: &'static str,
    columns: &'static [&'static str],
    subjects: BTreeSet<u64>,
) -> RecordInput {
    let s = Statement {
        time,
        principal,
        sql: sql.to_owned(),
        table,
        columns,
        subjects,
        denied: false,
    };
    record_of(&s, &Grants::of(config))
}

/// The record the gateway would write for `s` under the configuration `levels` describes, and
/// for each column (category, level per jurisdiction) what it read.
fn record_of(s: &Statement, levels: &Grants) -> RecordInput {
    let (org, country, addr) = who(s.principal);
    let mut input = RecordInput {
        time: s.time.to_string(),
        principal: s.principal.into(),
        org: org.into(),
        country: country.into(),
        client_addr: addr.into(),
        action: Action::Query,
        statement: s.sql.clone(),
        columns: Vec::new(),
        rows: s.subjects.len() as u64,
        policies: Vec::new(),
        subjects: None,
        purpose: None,
        ticket: None,
        opens: None,
        failure: None,
    };
    if s.denied {
        input.action = Action::Denied;
        input.rows = 0;
        input.policies = s
            .columns
            .iter()
            .map(|c| levels.level(s.principal, s.table, c, "JP"))
            .find(|(l, _)| *l == Level::Denied)
            .map(|(_, p)| p.to_vec())
            .unwrap_or_default();
        return input;
    }
    let mut groups: BTreeMap<(&str, Level), Vec<u64>> = BTreeMap::new();
    for &k in &s.subjects {
        let j = jurisdiction_of(k);
        // The most revealing level a personal column of theirs was read at.
        let level = s
            .columns
            .iter()
            .filter(|c| levels.category(s.table, c).is_personal())
            .map(|c| levels.level(s.principal, s.table, c, j).0)
            .max()
            .unwrap_or(Level::Denied);
        if level != Level::Denied {
            groups.entry((j, level)).or_default().push(k);
        }
    }
    for c in s.columns {
        // The most revealing level the column was read at over the rows' jurisdictions.
        let level = s
            .subjects
            .iter()
            .map(|k| levels.level(s.principal, s.table, c, jurisdiction_of(*k)).0)
            .max()
            .unwrap_or(Level::Denied);
        input.columns.push(ColumnRead {
            table: s.table.into(),
            column: (*c).into(),
            level,
        });
    }
    input.subjects = Some(SubjectsInput::Groups(
        groups
            .into_iter()
            .map(|((j, level), keys)| SubjectGroup {
                jurisdiction: Some(j.into()),
                level,
                keys,
            })
            .collect(),
    ));
    input
}

/// A `configure` record, as `kamei serve` writes on start and reload.
fn configure(time: Timestamp, config: &Config, event: &str) -> RecordInput {
    RecordInput::configure(
        time.to_string(),
        format!("{event}: {}", config.summary()),
        config.policy_ids(),
    )
}

/// Writes the incident log into `dir` (a new directory; the log keeps its own signing key) and
/// returns what it holds. `config` is the configuration in force outside the too-broad weeks
/// (the demo configuration).
pub fn write_incident(dir: &Path, config: &Config, seed: u64) -> Result<Incident, ReportError> {
    let broad = config
        .with_policies("policies.cedar", &too_broad_policies())
        .map_err(|e| internal(e.to_string()))?;
    let (normal_levels, broad_levels) = (Grants::of(config), Grants::of(&broad));
    let log = AuditLog::open(dir)?;
    let mut rng = Rng(seed);
    let mut incident = Incident::default();
    let append = |input: RecordInput, incident: &mut Incident| -> Result<u64, ReportError> {
        let index = log.append_input(input)?;
        incident.records += 1;
        Ok(index)
    };
    append(configure(at(0, 0)?, config, "started"), &mut incident)?;
    for day in 0..DAYS {
        if day == BROAD_DAYS.start {
            append(configure(at(day, 0)?, &broad, "reloaded"), &mut incident)?;
        }
        if day == BROAD_DAYS.end {
            append(configure(at(day, 0)?, config, "reloaded"), &mut incident)?;
        }
        let levels = if BROAD_DAYS.contains(&day) {
            &broad_levels
        } else {
            &normal_levels
        };
        let mut statements = day_statements(day, &mut rng)?;
        statements.sort_by_key(|s| s.time);
        for s in &statements {
            let input = record_of(s, levels);
            let time = input.time.clone();
            let raw_contacts = input
                .columns
                .iter()
                .any(|c| c.level == Level::Raw && ["phone", "email"].contains(&c.column.as_str()));
            let index = append(input, &mut incident)?;
            if !s.denied {
                for &k in &s.subjects {
                    incident.touched.entry(k).or_default().push(index);
                }
            }
            if s.principal != CONTRACTOR {
                continue;
            }
            if s.denied {
                incident.contractor_denied.push(index);
                continue;
            }
            incident.contractor_reads.push(index);
            if raw_contacts {
                incident.contractor_raw_reads.push(index);
            }
            if incident.contractor_first.is_empty() {
                incident.contractor_first = time.clone();
            }
            incident.contractor_last = time;
            for c in s.columns {
                let category = levels.category(s.table, c);
                if !category.is_personal() {
                    continue;
                }
                for &k in &s.subjects {
                    let (level, _) = levels.level(CONTRACTOR, s.table, c, jurisdiction_of(k));
                    if level != Level::Denied && jurisdiction_of(k) == "JP" {
                        incident
                            .contractor_jp
                            .entry((category, level))
                            .or_default()
                            .insert(k);
                    }
                }
            }
        }
    }
    log.close()?;
    Ok(incident)
}
