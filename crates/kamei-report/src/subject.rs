//! `kamei report subject`: one data subject's own access history, the answer to "did anyone
//! abroad read my data?" that a support team can hand to the person who asked.
//!
//! Every record whose subject index entry names the subject, oldest first: when, who (principal,
//! org, country, and whether that is abroad for them), which columns at which level, the level
//! their own data was read at, and the statement as the log holds it (literals redacted). Each
//! comes with its canonical leaf and an RFC 9162 inclusion proof against the log's latest
//! signed checkpoint, so the person, or anyone they ask, can check every entry with an
//! independent verifier and the log's published key.
//!
//! Completeness rests on the subject index, which the log binds to each record by digest and
//! `kamei audit verify` checks; an inclusion proof shows that a listed record is in the log, not
//! that no record is missing from the list.

use kamei_audit::{Action, LogStorage, LogView, Query};
use kamei_core::Level;
use serde::Serialize;

use crate::error::ReportError;
use crate::evidence::{CheckpointEvidence, Proof, prove_as};
use crate::verification::{LogCheck, Verification, check_log};

/// One subject's access history.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectHistory {
    /// Whether the log was verified before the report read it; an unverified report says so
    /// first.
    pub verification: Verification,
    /// The subject key, as the subject index holds it (e.g. `users.user_id`).
    pub subject: u64,
    pub checkpoint: CheckpointEvidence,
    /// Records that read the subject's data from a country other than their jurisdiction.
    pub from_abroad: u64,
    pub records: Vec<SubjectAccess>,
}

/// One record that touched the subject.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectAccess {
    pub index: u64,
    pub time: String,
    pub principal: String,
    pub org: String,
    pub country: String,
    pub action: Action,
    /// The principal's country is not the subject's jurisdiction (or that is unknown).
    pub abroad: bool,
    /// Every column the statement read, at its level.
    pub columns: Vec<ColumnLevel>,
    /// The subject's own data in this record: jurisdiction and level (usually one).
    pub read_as: Vec<ReadAs>,
    pub rows: u64,
    /// The statement with its literals redacted.
    pub statement: String,
    pub purpose: Option<String>,
    pub ticket: Option<String>,
    /// The canonical leaf (the record's JSON), whose hash the proof starts from.
    pub leaf: String,
    /// `None` when the record is newer than the checkpoint.
    pub proof: Option<Proof>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnLevel {
    pub table: String,
    pub column: String,
    pub level: Level,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadAs {
    pub jurisdiction: String,
    pub level: Level,
}

/// The history of `subject` in the log on `storage`. A subject no record names is an error
/// ([`ReportError::UnknownSubject`]): a mistyped key must not read as "nobody saw you".
///
/// The log is verified first (see [`crate::verification`]): a log that fails makes it refuse.
pub fn subject_history(storage: &dyn LogStorage, subject: u64) -> Result<SubjectHistory, ReportError> {
    subject_history_with(storage, subject, &LogCheck::Verify)
}

/// [`subject_history`], verifying the log as `check` says.
pub fn subject_history_with(
    storage: &dyn LogStorage,
    subject: u64,
    check: &LogCheck,
) -> Result<SubjectHistory, ReportError> {
    let verification = check_log(storage, check)?;
    let view = LogView::open(storage, None)?;
    let matches = Query {
        subject: Some(subject),
        ..Query::default()
    }
    .run(storage)?;
    if matches.is_empty() {
        return Err(ReportError::UnknownSubject(subject));
    }
    let mut records = Vec::with_capacity(matches.len());
    for m in &matches {
        let r = &m.record;
        // Only this subject's groups: the other people in the record are not theirs to see.
        let read_as: Vec<ReadAs> = m
            .subjects
            .iter()
            .filter(|(_, keys)| keys.contains(subject))
            .map(|((j, level), _)| ReadAs {
                jurisdiction: String::from_utf8_lossy(&j).into_owned(),
                level,
            })
            .collect();
        let abroad = read_as.iter().any(|g| g.jurisdiction != r.country());
        let leaf = r.to_leaf().map_err(kamei_audit::AuditError::from)?;
        records.push(SubjectAccess {
            index: m.index,
            time: r.time().to_owned(),
            principal: r.principal().to_owned(),
            org: r.org().to_owned(),
            country: r.country().to_owned(),
            action: r.action(),
            abroad,
            columns: r
                .tables()
                .iter()
                .flat_map(|(t, cs)| {
                    cs.iter().map(move |(c, l)| ColumnLevel {
                        table: t.clone(),
                        column: c.clone(),
                        level: *l,
                    })
                })
                .collect(),
            read_as,
            rows: r.rows(),
            statement: r.statement().to_owned(),
            purpose: r.purpose().map(str::to_owned),
            ticket: r.ticket().map(str::to_owned),
            leaf: String::from_utf8_lossy(&leaf).into_owned(),
            proof: prove_as(&view, m.index, r, check)?,
        });
    }
    records.sort_by(|a, b| (&a.time, a.index).cmp(&(&b.time, b.index)));
    Ok(SubjectHistory {
        verification,
        subject,
        checkpoint: CheckpointEvidence::of(&view, storage)?,
        from_abroad: records.iter().filter(|r| r.abroad).count() as u64,
        records,
    })
}
