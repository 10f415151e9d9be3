//! The gateway's side of the audit rule: a record is durable before the first row leaves, and
//! the log holds what left.
//!
//! A result that fits the buffer (the common case) gets one record with its columns, levels,
//! row count and subject set, appended before anything is sent. A larger result gets an opening
//! record (columns and levels, no rows yet) before its first row and a closing record, linked
//! by `opens`, with the row count and subject set when it ends, fails or is cancelled. Refused
//! and denied statements get a `denied` record with the deciding policy ids.

use std::net::SocketAddr;
use std::sync::Arc;

use kamei_audit::record::{ColumnRead, SubjectGroup, SubjectsInput};
use kamei_audit::subjects::UNKNOWN_JURISDICTION;
use kamei_audit::{Action, AuditLog, RecordInput, SubjectSet};

use crate::error::GatewayError;
use crate::session::Who;
use crate::trace::Reads;

/// Appends the gateway's records. A record that finds the log idle is written and synced on the
/// calling worker inside `block_in_place` (tokio moves the worker's other tasks to another
/// thread meanwhile: a lone lookup's record costs no thread hand-off); otherwise it joins the
/// committer's next group commit and the task awaits it without holding the worker.
#[derive(Debug, Clone)]
pub struct Audit {
    log: Arc<AuditLog>,
}

/// What one record says beyond who asked.
#[derive(Debug, Default)]
pub(crate) struct Entry<'a> {
    pub statement: &'a str,
    pub rows: u64,
    pub reads: Option<&'a Reads>,
    pub policies: Vec<String>,
    pub purpose: Option<String>,
    pub ticket: Option<String>,
    pub opens: Option<u64>,
    /// Why the statement stopped before its end (`GatewayError::failure`).
    pub failure: Option<String>,
}

impl Audit {
    pub fn new(log: Arc<AuditLog>) -> Audit {
        Audit { log }
    }

    pub fn log(&self) -> &Arc<AuditLog> {
        &self.log
    }

    /// Appends one record and returns its index once it is durable.
    pub(crate) async fn append(
        &self,
        who: &Who,
        client: SocketAddr,
        action: Action,
        entry: Entry<'_>,
    ) -> Result<u64, GatewayError> {
        let columns = entry
            .reads
            .map(|r| {
                r.tables
                    .iter()
                    .flat_map(|(table, columns)| {
                        columns.iter().map(|(column, level)| ColumnRead {
                            table: table.clone(),
                            column: column.clone(),
                            level: *level,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let input = RecordInput {
            time: now(),
            principal: who.principal.clone(),
            org: who.org.clone(),
            country: who.country.as_str().to_owned(),
            client_addr: client.ip().to_string(),
            action,
            statement: entry.statement.to_owned(),
            columns,
            rows: entry.rows,
            policies: entry.policies,
            subjects: entry.reads.map(|r| groups(&r.subjects)),
            purpose: entry.purpose,
            ticket: entry.ticket,
            opens: entry.opens,
            failure: entry.failure,
        };
        self.submit(input).await
    }

    /// Records that the server started with, or reloaded, `config` (`RecordInput::configure`).
    pub(crate) async fn configured(
        &self,
        config: &kamei_policy::Config,
        event: &str,
    ) -> Result<u64, GatewayError> {
        let input = RecordInput::configure(
            now(),
            format!("{event}: {}", config.summary()),
            config.policy_ids(),
        );
        self.submit(input).await
    }

    async fn submit(&self, input: RecordInput) -> Result<u64, GatewayError> {
        let failed = |e: kamei_audit::AuditError| GatewayError::Audit(e.to_string());
        let (record, subjects) = input
            .into_record()
            .map_err(|e| GatewayError::Audit(e.to_string()))?;
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread
            && self.log.idle()
            && let Some(done) = tokio::task::block_in_place(|| self.log.append_alone(&record, &subjects))
        {
            return done.map_err(failed);
        }
        let pending = self.log.submit(&record, &subjects).map_err(failed)?;
        pending.await.map_err(failed)
    }
}

/// The record time: UTC, RFC 3339, microseconds.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A subject set as the record input's groups.
fn groups(set: &SubjectSet) -> SubjectsInput {
    SubjectsInput::Groups(
        set.iter()
            .map(|((j, level), keys)| SubjectGroup {
                jurisdiction: (j != UNKNOWN_JURISDICTION).then(|| String::from_utf8_lossy(&j).into_owned()),
                level,
                keys: keys.iter().collect(),
            })
            .collect(),
    )
}
