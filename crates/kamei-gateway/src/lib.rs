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
//! This crate does not speak the PostgreSQL wire protocol, authenticate anyone or write audit
//! records yet (issue 15), and reads its sources into memory (streaming Parquet and PostgreSQL
//! sources: issues 15 and 16). It decides nothing: levels come from kamei-policy.

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

mod error;
mod guarded;
mod session;
mod sources;

pub use error::GatewayError;
pub use guarded::{GuardedExec, GuardedTable};
pub use session::{Gateway, GuardedSession};
pub use sources::Sources;
