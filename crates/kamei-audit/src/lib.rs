//! kamei's audit log: a tamper-evident, append-only record of every access to personal data,
//! with the set of data subjects each access touched.
//!
//! The log is a Merkle tree (RFC 9162 hashing) stored in the C2SP tlog-tiles layout, with
//! checkpoints signed as C2SP signed notes (Ed25519), so that tools that verify transparency
//! logs today can check it. [`AuditLog::append`] returns only when the record is durably on
//! disk; concurrent appends share one sync of one file, the journal of the bundle being filled
//! (group commit, see `commit.rs` and `journal.rs`). Opening a log recovers a torn tail left by
//! a crash without losing an acknowledged record. [`LogView`] reads a log as an auditor does,
//! with no lock and no signing key: proofs and the latest signed checkpoint. [`verify_log`]
//! recomputes everything from the entries and names the first bad index. [`Query`] answers "which subjects did these
//! principals see, at which level, when" from the subject index, which each record binds by
//! digest.
//!
//! Record encoding: see [`record`]; subject index encoding: see [`subjects`].
//!
//! This crate does not decide who may see what (kamei-policy), transform data (kamei-protect)
//! or hold personal data: records carry redacted statements and subject counts and digests;
//! subject keys live only in the subject index. It does not serve tiles over HTTP. It signs
//! with a key the caller holds (the keyring's `audit-signing` key: [`AuditLog::open_signed_by`]
//! picks the one the log names), or with a key file of its own where no real keyring is given.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

mod checkpoint;
mod commit;
mod journal;
mod log;
#[cfg(test)]
mod log_tests;
mod merkle;
mod query;
pub mod record;
mod recover;
mod redact;
mod storage;
pub mod subjects;
mod tiles;
mod time;
mod verify;

pub use checkpoint::{Checkpoint, CheckpointError, LogKey};
pub use log::{
    AuditError, AuditLog, ConsistencyProof, DEFAULT_ORIGIN, InclusionProof, LogView, Options,
    stored_verifier_key,
};
pub use merkle::{
    Hash, ProofError, Tree, empty_root, leaf_hash, node_hash, verify_consistency, verify_inclusion,
};
pub use query::{Match, Query, subjects_seen};
pub use record::{Action, AuditRecord, CONFIGURER, RecordError, RecordInput};
pub use redact::redact_statement;
pub use storage::{LocalDir, LogStorage};
pub use subjects::SubjectSet;
pub use tiles::{bundle_path, encode_index, hash_tile_path, parse_bundle};
pub use time::Timestamp;
pub use verify::{Problem, VerifyReport, read_records, read_records_where, verify_log};
