//! Reports for the people who answer for personal data (issue 18): what a configuration lets
//! whom read (the exposure register) and invariants about it proven over every decision; and,
//! from the audit log, who read whose data (the access report) and one person's own access
//! history with the evidence to check it (the subject report); and, for a selection of the
//! log, whether the reporting duties of Japan and the other markets are triggered, with their
//! deadlines (the triage, decision support rather than legal advice).
//!
//! Each report over the log renders as a terminal table, as JSON, and the access report also as
//! a self-contained HTML page with inline SVG charts (html.rs, svg.rs) that embeds the same
//! evidence as its JSON.
//!
//! The reports compute and render; they do not open configuration or logs by path, parse
//! command lines, or write files (the `kamei` binary does), and they never hold a cell value:
//! what they print of people is what the audit log holds, keyed subject references and
//! statements with their literals redacted.

pub mod access;
pub mod anomalies;
pub mod evidence;
pub mod exposure;
pub mod html;
pub mod incident;
pub mod invariants;
pub mod markets;
pub mod streamed;
pub mod subject;
pub mod text;
pub mod triage;
pub mod verification;

mod error;
mod escape;
mod grants;
mod svg;

pub use access::{AccessFilter, AccessReport, access_report, access_report_with};
pub use anomalies::{Anomalies, Thresholds, anomalies};
pub use error::ReportError;
pub use exposure::{Grant, exposure};
pub use html::access_html;
pub use invariants::{Decision, Invariant, InvariantError, Invariants, Outcome};
pub use subject::{SubjectHistory, subject_history, subject_history_with};
pub use text::{access_text, anomalies_text, subject_text, triage_text};
pub use triage::{Compared, Finding, Triage, TriageFacts, config_from_log, triage};
pub use verification::{LogCheck, Verification, check_log};
