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
//! # Whose key
//!
//! The log directory carries its own verifier key (`key.vkey`), and the demo's its signing key
//! too: a log rewritten and re-signed, with that key or a new one, verifies against itself.
//! [`LogCheck::Anchored`] takes the key as the investigator holds it and, optionally, a
//! checkpoint saved earlier that the log must still extend (a truncated or rewritten history
//! fails); the report's JSON says whether it was anchored. Without an anchor the note says the
//! log was checked against its own key.
//!
//! Records appended after the signed checkpoint are read by the report but no signature covers
//! them: the report then starts with a NOT SIGNED line saying how many.

use kamei_audit::{LogStorage, verify_log};
use serde::Serialize;

use crate::error::ReportError;

/// Whether to verify the log before reporting, and against what.
///
/// A log directory carries its own verifier key (`key.vkey`): whoever can rewrite the records
/// can replace that key and re-sign, and the log then verifies against itself. Only a key the
/// investigator holds (`vkey`), and a checkpoint they saved earlier (`saved`: the log must still
/// extend it, so a truncated or rewritten history is found), anchor the verification outside
/// the log; a report verified without them says so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LogCheck {
    /// Verify in full; refuse on the first problem (the default).
    #[default]
    Verify,
    /// Verify in full against a verifier key held outside the log and, if given, a checkpoint
    /// saved earlier.
    Anchored { vkey: String, saved: Option<Vec<u8>> },
    /// Do not verify (`--unverified`): the report says so on its first line.
    Skip,
}

/// What the report can say about the log it read; embedded in every report over a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The log verified in full before the report read it.
    pub verified: bool,
    /// Verified against a verifier key held outside the log (`--vkey`), not the log's own.
    pub anchored: bool,
    /// Entries the verification covered (0 when not verified).
    pub entries: u64,
    /// Entries the signed checkpoint covers; those past it are counted but not signed.
    pub signed: u64,
    /// One line for the reader: what was checked, or that nothing was.
    pub note: String,
}

impl Verification {
    /// The line a report starts with when its evidence is short of a log verified in full
    /// and signed to its end: unverified, or holding entries no signature covers.
    pub fn warning(&self) -> Option<&str> {
        (!self.verified || self.entries > self.signed).then_some(self.note.as_str())
    }

    /// For reports built from records already in hand (tests, the demo's own log).
    pub fn unchecked() -> Self {
        Verification {
            verified: false,
            anchored: false,
            entries: 0,
            signed: 0,
            note: "UNVERIFIED: this report was computed without verifying the audit log (--unverified); its evidence may not hold".into(),
        }
    }
}

/// Verifies the log on `storage` as `check` asks; a log with a problem is an error
/// ([`ReportError::FailsVerification`]) naming the first bad entry.
pub fn check_log(storage: &dyn LogStorage, check: &LogCheck) -> Result<Verification, ReportError> {
    let (vkey, saved) = match check {
        LogCheck::Skip => return Ok(Verification::unchecked()),
        LogCheck::Verify => (None, None),
        LogCheck::Anchored { vkey, saved } => (Some(vkey.as_str()), saved.as_deref()),
    };
    let report = verify_log(storage, saved, vkey)?;
    if let Some(problem) = report.problem {
        return Err(ReportError::FailsVerification(problem.to_string()));
    }
    let signed = report.checkpoint_size.unwrap_or(0);
    let anchor = match (vkey, saved) {
        (None, _) => {
            " against the log's own key (key.vkey), which whoever rewrote the log could replace: pass --vkey with the key you hold"
        }
        (Some(_), None) => " against the verifier key given (--vkey)",
        (Some(_), Some(_)) => {
            " against the verifier key given (--vkey) and consistent with the saved checkpoint (--checkpoint)"
        }
    };
    let mut note = format!(
        "verified{anchor}: all {} entries, the hash tiles, the subject index and the checkpoint signed at {signed}",
        report.size
    );
    if report.size > signed {
        note = format!(
            "NOT SIGNED: {} entries after the signed checkpoint (size {signed}) are counted but no signature covers them; {note}",
            report.size - signed
        );
    }
    Ok(Verification {
        verified: true,
        anchored: vkey.is_some(),
        entries: report.size,
        signed,
        note,
    })
}
