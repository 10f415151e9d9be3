//! The gateway's query layer: SQL over tables whose every scan applies the principal's levels.
//!
//! Each session gets a query engine context (Apache DataFusion) of its own in which every table
//! is a [`GuardedTable`]: the real source wrapped so that its scan applies the principal's
//! compiled projection (`kamei_protect::Projection`) before any filter, join, sort, aggregate,
//! window or function sees a value. The scan node reports no statistics, orderings or
//! equivalences and takes no pushed-down filter, so nothing is computed on raw values a
//! principal may not read. A statement guard refuses DDL, DML, `COPY … TO`, session
//! statements and, for everyone but admins, `EXPLAIN`.
//!
//! [`Server`] speaks the PostgreSQL wire protocol (pgwire): SCRAM-SHA-256 against stored
//! verifiers, TLS, simple and extended protocol, cancel requests; every statement is audited
//! before its first row leaves (`audit.rs`). Sources are files read into memory or PostgreSQL
//! databases read as queries need them (`sources/`). It decides nothing: levels come from
//! kamei-policy.

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

mod audit;
mod bounded;
mod error;
mod guarded;
mod in_lists;
mod memory;
mod pg_catalog;
mod session;
mod source_filter;
mod sources;
pub mod statement;
mod template;
mod trace;
mod wire;

pub use audit::Audit;
pub use error::GatewayError;
pub use guarded::{GuardedExec, GuardedTable};
pub use memory::MemoryLimits;
pub use session::{Executable, Gateway, GuardedSession, Running, Who, parameter_types};
pub use sources::{ConnectionIo, SampledTable, Sources, sample_database};
pub use template::Template;
pub use trace::{Reads, subject_groups};
pub use wire::{Server, ServerOptions, Tls};
