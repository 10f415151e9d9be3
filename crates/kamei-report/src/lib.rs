//! Reports for the people who answer for personal data (issue 18): what a configuration lets
//! whom read (the exposure register), and invariants about it proven over every decision.

pub mod exposure;
pub mod invariants;

pub use exposure::{Grant, exposure};
pub use invariants::{Decision, Invariant, InvariantError, Invariants, Outcome};
