//! What can stop a report over the audit log.

use kamei_audit::AuditError;

/// Why a report over the audit log could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The log failed verification: the report would count records nobody can vouch for.
    #[error(
        "the audit log fails verification at {0}; no report is made from it (see `kamei audit verify`), or pass --unverified to report on it anyway, marked as unverified"
    )]
    FailsVerification(String),
    /// No record names the subject: either nobody read their data, or the key is not a subject
    /// key (a typo); the report cannot tell which, so it says what it looked for.
    #[error(
        "no record in the log touched data subject `{0}`; check the key (the subject key column, e.g. users.user_id)"
    )]
    UnknownSubject(u64),
    /// A proof kamei made did not check against the checkpoint it was made for: a bug or a log
    /// changed while it was read; the report is not printed rather than printed with bad evidence.
    #[error(
        "the inclusion proof of record {0} does not verify against the checkpoint; run `kamei audit verify`"
    )]
    BadProof(u64),
    /// A triage over nothing would read as "nothing to report"; more likely the selection
    /// names an org or principal that is not in the log, or a period it does not cover.
    #[error(
        "no record in the log matches the selection; check the principal, org and country names and the period"
    )]
    EmptySelection,
    /// The report could not be written as JSON (for the evidence an HTML report embeds): a bug
    /// in kamei, as every report serializes.
    #[error("cannot write the report as JSON (a bug in kamei): {0}")]
    Json(#[from] serde_json::Error),
    /// A discovery time long before the reads it is about is almost surely a mistyped date;
    /// deadlines computed from it would look valid and be wrong, so the triage refuses it.
    #[error(
        "--discovered `{discovered}` is more than a year before the selection's first read ({first_read}); check the date"
    )]
    DiscoveredBeforeReads { discovered: String, first_read: String },
    /// Without `--config`, the triage compares with the configuration the log says was last
    /// in force, and it can only rebuild that when it is the built-in demo configuration.
    #[error("{0}; pass --config with the configuration in force (its kamei.toml)")]
    NoConfiguration(String),
}
