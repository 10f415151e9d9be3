//! How the records of a streamed result count. A result too large to hold before sending is
//! streamed between an opening record (its columns and levels, no subjects, no row count) and
//! a closing record (`opens` = the opening record's index; the rows and subjects). One
//! statement, two records: a report that counts records counts it twice, and one that ignores
//! the link loses the subjects of a statement whose closing record never came.
//!
//! The rule every report over the log applies: a closing record is the statement (and carries
//! its subjects); an opening record that a closing record completes is not counted; a record
//! that could be an opening record with no closing record is counted as a statement whose
//! subjects are unknown.
//!
//! What the log cannot tell: an opening record and a statement that returned no rows are
//! written alike (action `query`, 0 rows, no subjects). Both land in
//! [`Counted::SubjectsUnknown`], and a report must say so rather than count either as "no
//! one".

use std::collections::HashMap;

use kamei_audit::{Action, AuditRecord};

/// How one record counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// A statement, with the subjects its record holds (a whole result, a closing record, an
    /// export, a detokenization, a denial or a configuration).
    Statement,
    /// An opening record whose closing record is among those given: count the closing one.
    Opening,
    /// No rows and no subjects recorded: an opening record whose closing record is missing (or
    /// outside the records given), or a statement that returned no rows.
    SubjectsUnknown,
}

/// The opening records that closing records complete, over a set of records.
#[derive(Debug, Default, Clone)]
pub struct Streamed {
    /// Opening record's index → the principal of the closing record that names it.
    closed: HashMap<u64, String>,
}

impl Streamed {
    /// From every record a report looks at, and any closing records found past its selection
    /// (a statement opened inside a period may close after it).
    pub fn of<'a>(records: impl IntoIterator<Item = &'a AuditRecord>) -> Streamed {
        Streamed {
            closed: records
                .into_iter()
                .filter_map(|r| Some((r.opens()?, r.principal().to_owned())))
                .collect(),
        }
    }

    /// Whether some closing record given completes the opening record at `index`.
    pub fn is_closed(&self, index: u64) -> bool {
        self.closed.contains_key(&index)
    }

    /// How the record at `index` counts.
    pub fn counts(&self, index: u64, record: &AuditRecord) -> Counted {
        match record.action() {
            Action::Query => {}
            Action::Export | Action::Detokenize | Action::Denied | Action::Configure => {
                return Counted::Statement;
            }
        }
        if record.opens().is_some() {
            Counted::Statement
        } else if self.is_closed(index) && is_opening(record, &self.closed[&index]) {
            Counted::Opening
        } else if record.rows() == 0 && record.subjects().count == 0 {
            Counted::SubjectsUnknown
        } else {
            Counted::Statement
        }
    }
}

/// Whether `record` can be the opening record a closing record of `principal` names: the same
/// principal's query, written before any row (no rows, no subjects). Anyone who can append a
/// record could otherwise write a "closing record" naming a real read, and the report would
/// take that read for an opening and count it away.
fn is_opening(record: &AuditRecord, principal: &str) -> bool {
    record.principal() == principal && record.rows() == 0 && record.subjects().count == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use kamei_audit::RecordInput;

    fn record(rows: u64, keys: &[u64], opens: Option<u64>) -> AuditRecord {
        record_by("cn_contractor", rows, keys, opens)
    }

    fn record_by(principal: &str, rows: u64, keys: &[u64], opens: Option<u64>) -> AuditRecord {
        let keys: Vec<String> = keys.iter().map(u64::to_string).collect();
        let json = format!(
            r#"{{"time": "2026-01-05T01:00:00Z", "principal": "{principal}", "org": "ldt-shanghai", "country": "CN",
            "client_addr": "10.0.0.1", "statement": "SELECT phone FROM users", "action": "query", "rows": {rows}, {}
            "columns": [{{"table": "users", "column": "phone", "level": "pseudonymized"}}], "subjects": [{}]}}"#,
            opens.map_or(String::new(), |o| format!(r#""opens": {o},"#)),
            keys.join(",")
        );
        RecordInput::from_json(&json).unwrap().into_record().unwrap().0
    }

    /// An opening record (3) and its closing record (4) are one statement; an opening record
    /// with no closing record (7) and an empty result look alike and both count as unknown.
    #[test]
    fn a_streamed_statement_counts_once_and_an_unclosed_one_is_unknown() {
        let (opening, closing, whole, unclosed) = (
            record(0, &[], None),
            record(9, &[1, 2], Some(3)),
            record(1, &[5], None),
            record(0, &[], None),
        );
        let s = Streamed::of([&opening, &closing, &whole, &unclosed]);
        assert_eq!(s.counts(3, &opening), Counted::Opening);
        assert_eq!(s.counts(4, &closing), Counted::Statement);
        assert_eq!(s.counts(5, &whole), Counted::Statement);
        assert_eq!(s.counts(7, &unclosed), Counted::SubjectsUnknown);
        // Without its closing record, the opening record is unknown too.
        assert_eq!(
            Streamed::of([&opening]).counts(3, &opening),
            Counted::SubjectsUnknown
        );
    }

    /// A forged closing record that names a real read (rows, subjects) does not hide it, nor
    /// does one written by another principal hide an opening record.
    #[test]
    fn a_closing_record_hides_only_an_opening_record_of_its_principal() {
        let read = record(3, &[1, 2, 3], None);
        let forged = record(0, &[], Some(3));
        let s = Streamed::of([&read, &forged]);
        assert_eq!(s.counts(3, &read), Counted::Statement);
        let opening = record(0, &[], None);
        let elsewhere = record_by("jp_support", 9, &[1], Some(5));
        assert_eq!(
            Streamed::of([&opening, &elsewhere]).counts(5, &opening),
            Counted::SubjectsUnknown
        );
    }
}
