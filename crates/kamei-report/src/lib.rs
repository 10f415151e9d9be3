//! Reports for the people who answer for personal data: what a configuration lets whom read,
//! and invariants about it proven over every decision (issue 18).

pub mod invariants;

pub use invariants::{Decision, Invariant, InvariantError, Invariants, Outcome};
