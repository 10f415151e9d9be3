//! The evidence a report embeds: the signed checkpoint it was computed at and, for each record
//! it cites, an RFC 9162 inclusion proof against that checkpoint, so that a reader can check
//! with `kamei audit verify` or an independent tool (tests/verifier/verify.py) that every
//! record cited is in the log the checkpoint commits to.

use kamei_audit::{AuditRecord, LogStorage, LogView, leaf_hash, stored_verifier_key, verify_inclusion};
use serde::Serialize;

use crate::error::ReportError;

/// The signed checkpoint a report was computed at.
#[derive(Debug, Clone, Serialize)]
pub struct CheckpointEvidence {
    pub origin: String,
    /// Records the checkpoint commits to; records at or past this index are not covered yet.
    pub size: u64,
    /// The Merkle root, hex.
    pub root: String,
    /// The C2SP signed note, as stored: what a verifier checks with the log's public key.
    pub note: String,
    /// The log's public key as the log stores it (`key.vkey`). A convenience: a reader who
    /// must not trust the report checks with the key published elsewhere.
    pub verifier_key: Option<String>,
}

impl CheckpointEvidence {
    pub fn of(view: &LogView, storage: &dyn LogStorage) -> Result<Self, ReportError> {
        let cp = view.checkpoint();
        Ok(CheckpointEvidence {
            origin: cp.origin.clone(),
            size: cp.size,
            root: cp.root.to_hex(),
            note: String::from_utf8_lossy(view.checkpoint_note()).into_owned(),
            verifier_key: stored_verifier_key(storage)?,
        })
    }
}

/// An RFC 9162 §2.1.3 inclusion proof, in the JSON shape `kamei audit prove` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proof {
    pub index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub hashes: Vec<String>,
    pub root: String,
}

/// The record's proof against the view's checkpoint; `None` when the checkpoint does not cover
/// it yet (appended after the last checkpoint was signed).
///
/// The proof is checked here against the record's own leaf bytes before it is handed out, so
/// a report never carries evidence that does not verify.
/// [`prove`], except that a report the reader asked for without verification (`--unverified`)
/// cites a record whose proof does not hold without a proof instead of failing: its first line
/// already says the evidence may not hold.
pub fn prove_as(
    view: &LogView,
    index: u64,
    record: &AuditRecord,
    check: &crate::LogCheck,
) -> Result<Option<Proof>, ReportError> {
    match prove(view, index, record) {
        Err(ReportError::BadProof(_)) if *check == crate::LogCheck::Skip => Ok(None),
        proved => proved,
    }
}

pub fn prove(view: &LogView, index: u64, record: &AuditRecord) -> Result<Option<Proof>, ReportError> {
    let cp = view.checkpoint();
    if index >= cp.size {
        return Ok(None);
    }
    let p = view.prove(index, None)?;
    let leaf = leaf_hash(&record.to_leaf().map_err(kamei_audit::AuditError::from)?);
    if p.leaf_hash != leaf
        || p.root != cp.root
        || verify_inclusion(index, cp.size, &leaf, &p.hashes, &cp.root).is_err()
    {
        return Err(ReportError::BadProof(index));
    }
    Ok(Some(Proof {
        index: p.index,
        tree_size: p.tree_size,
        leaf_hash: p.leaf_hash.to_hex(),
        hashes: p.hashes.iter().map(|h| h.to_hex()).collect(),
        root: p.root.to_hex(),
    }))
}
