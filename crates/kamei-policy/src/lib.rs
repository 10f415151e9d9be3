//! Who may see which personal data, in which form: kamei's configuration and its compiled
//! access decisions.
//!
//! kamei-policy loads and validates the configuration a privacy team writes — `kamei.toml`
//! (paths, keyring, sources, audit log, listen address), `catalog.toml` (tables, their subject
//! key and jurisdiction columns, a category per column), `principals.toml` (org, country,
//! roles and a SCRAM-SHA-256 verifier per principal) and `policies.cedar` (checked against the
//! Cedar schema kamei ships) — and compiles the policies, once, into a [`DecisionTable`]: one
//! level (`raw`, `masked`, `pseudonymized`, `denied`) and the ids of the deciding policies for
//! every principal, column and data-subject jurisdiction. [`Config::table_plan`] hands one
//! principal's decisions for one table to the protection crate; `matrix`, `diff` and
//! `explain` read the same table.
//!
//! Loading fails closed: a file that does not parse, a policy that does not validate, an
//! unknown category, a plain-text password — each is an error naming file, line, column and
//! field, and no [`Config`] exists until all are fixed. Cedar is evaluated only here, over the
//! finite domain, never per row.
//!
//! This crate does not transform data, hold keys, authenticate connections or write audit
//! records: it decides, and kamei-protect, the gateway and kamei-audit act on its decisions.

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

mod catalog;
mod cedar;
mod compile;
mod config;
mod data_sources;
mod error;
mod principals;
#[cfg(test)]
mod proptests;
mod review;
mod scram;
mod source;

pub use catalog::{Catalog, CatalogColumn, CatalogTable};
pub use compile::{DecisionTable, ExposureChange, MatrixRow};
pub use config::{Config, DEMO_FILES, KeyringSettings, ServerSettings};
pub use data_sources::{
    DEFAULT_MAX_CONNECTIONS, DataSource, FILES_SOURCE, PasswordFrom, PostgresSettings, SourceKind,
    check_url as check_postgres_url,
};
pub use error::{ConfigError, PolicyError, Problem};
pub use principals::Principal;
pub use scram::{ScramError, ScramVerifier};

/// The Cedar schema policies are validated against (namespace `Kamei`, DESIGN.md, Cedar).
pub const CEDAR_SCHEMA: &str = include_str!("schema.cedarschema");
