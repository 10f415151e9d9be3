//! Protection: the keyring and the transforms that turn a column into the form a principal
//! may read, as Arrow kernels over whole arrays.
//!
//! A [`Keyring`] holds secret keys sealed at rest under a [`MasterKey`]; per recipient domain
//! (the principal's org) it derives [`DomainKeys`] with HKDF, so pseudonyms join inside an org
//! and not across orgs. A [`Projection`] is compiled once per principal, table and query from
//! a [`kamei_core::TablePlan`]; its [`Projection::apply`] turns a `RecordBatch` into the
//! protected `RecordBatch`, row by row by the data subject's jurisdiction, with no policy
//! evaluation and no per-value dynamic dispatch.
//!
//! This crate does not decide anything (kamei-policy does), does not read or write files
//! other than the keyring (the CLI and the gateway do), and does not record accesses
//! (kamei-audit does).

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

mod directory;
mod error;
mod kernels;
mod keyring;
mod masks;
mod prf;
mod projection;
mod subject_code;

pub use directory::SubjectDirectory;
pub use error::{KeyError, ProtectError};
pub use kernels::{detokenize, detokenize_digits, tokenize};
pub use keyring::{DomainKeys, KeyInfo, KeyPurpose, Keyring, MASTER_KEY_ENV, MasterKey, rfc3339};
pub use projection::{ApplyStats, ColumnReport, KeyLookup, LevelReport, Projection, SubjectRows};
