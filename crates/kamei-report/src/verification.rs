//! Whether a report may trust the log it reads: a log that fails verification makes every
//! report over it refuse, naming the first bad entry, unless the reader asks for a report on
//! an unverified log, which then says so first (issue 18, item 7).
//!
//! # What a report must check to be sound
//!
//! A report is evidence only if every record it counts is the record the signed checkpoint
//! commits to, and no record is missing from what it counts. Three kinds of file can lie:
//! the entry bundles (records), the subject index (who each record touched; a report finds and
//! counts people from it) and the hash tiles (the tree a proof is cut from); and the checkpoint
//! itself. So, at the least, a sound report needs: the checkpoint's signature, checked with the
//! log's key; every leaf it reads hashed into a tree whose root is the signed one; and every
//! subject index entry it relies on, including those of records it *skips* because their entry
//! does not name the subject asked about, matched with the digest inside its record. The last
//! point is what makes a partial check unsound for `report subject`: removing a person from one
//! index entry hides that record from their history unless that entry is checked against its
//! leaf, and checking it means reading the leaf.
//!
//! [`check_log`] therefore runs the log's full verification ([`kamei_audit::verify_log`]: every
//! entry re-hashed and re-parsed, the tree recomputed and compared with the signed checkpoint,
//! every hash tile and subject index entry compared with what the entries imply) before the
//! report reads anything, and refuses on the first problem. It is the simplest argument that
//! holds; its price is the verification's time, which grows with the log (bench/RESULTS.md:
//! 1.1 s per million records here, 13–27 s measured at 10 M), more than the 2 s a report over
//! 10 M records may take.
//!
//! # Why not a cheaper check (what would fit the 2 s target at 10 M)
//!
//! A watermark of verified entries kept *in the log directory* proves nothing: whoever can edit
//! a record can edit the watermark. A watermark is sound only when kept where the log's writer
//! cannot reach it, as a transparency-log monitor keeps the last checkpoint it verified: the
//! investigator's own file holding the signed checkpoint they verified in full, with SHA-256
//! digests of the subject index and level-0 hash tile bytes it covered. A later report would
//! then check the new checkpoint's signature and its consistency proof from the saved one, hash
//! the two derived files' covered prefixes and compare the digests (hundreds of MB, not
//! gigabytes of leaves), check each leaf it reads against its tile entry, and verify only the
//! entries past the watermark in full. Not built yet: see the follow-up in the report.
//!
//! Records appended after the verification (a gateway still writing) are read by the report
//! but were not verified; the report states the size that was verified.

use kamei_audit::{LogStorage, verify_log};
use serde::Serialize;

use crate::error::ReportError;

/// Whether to verify the log before reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogCheck {
    /// Verify in full; refuse on the first problem (the default).
    Verify,
    /// Do not verify (`--unverified`): the report says so on its first line.
    Skip,
}

/// What the report can say about the log it read; embedded in every report over a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The log verified in full before the report read it.
    pub verified: bool,
    /// Entries the verification covered (0 when not verified).
    pub entries: u64,
    /// One line for the reader: what was checked, or that nothing was.
    pub note: String,
}

impl Verification {
    /// The line an unverified report starts with, `None` for a verified one.
    pub fn warning(&self) -> Option<&str> {
        (!self.verified).then_some(self.note.as_str())
    }

    /// For reports built from records already in hand (tests, the demo's own log).
    pub fn unchecked() -> Self {
        Verification {
            verified: false,
            entries: 0,
            note: "UNVERIFIED: this report was computed without verifying the audit log (--unverified); its evidence may not hold".into(),
        }
    }
}

/// Verifies the log on `storage` as `check` asks; a log with a problem is an error
/// ([`ReportError::FailsVerification`]) naming the first bad entry.
pub fn check_log(storage: &dyn LogStorage, check: LogCheck) -> Result<Verification, ReportError> {
    match check {
        LogCheck::Skip => Ok(Verification::unchecked()),
        LogCheck::Verify => {
            let report = verify_log(storage, None, None)?;
            if let Some(problem) = report.problem {
                return Err(ReportError::FailsVerification(problem.to_string()));
            }
            Ok(Verification {
                verified: true,
                entries: report.size,
                note: format!(
                    "verified: all {} entries, the hash tiles, the subject index and the signed checkpoint",
                    report.size
                ),
            })
        }
    }
}
