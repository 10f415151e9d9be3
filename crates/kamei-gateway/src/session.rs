//! One principal's SQL session: a query engine context of its own that knows only guarded
//! tables, and the statement guard in front of it.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::logical_expr::LogicalPlan;
use kamei_policy::Config;
use kamei_protect::Keyring;

use crate::error::GatewayError;
use crate::guarded::GuardedTable;
use crate::sources::Sources;

/// Configuration, sources and keys, shared by every session.
#[derive(Debug)]
pub struct Gateway {
    config: Arc<Config>,
    sources: Sources,
    keyring: Arc<Keyring>,
}

impl Gateway {
    pub fn new(config: Arc<Config>, sources: Sources, keyring: Arc<Keyring>) -> Gateway {
        Gateway {
            config,
            sources,
            keyring,
        }
    }

    /// A session for `principal`: every table it may read some column of, registered only as a
    /// [`GuardedTable`] with its levels; nothing else (no file or URL tables, no
    /// information_schema yet).
    pub fn session(&self, principal: &str) -> Result<GuardedSession, GatewayError> {
        let p = self
            .config
            .principal(principal)
            .ok_or_else(|| GatewayError::UnknownPrincipal(principal.to_owned()))?;
        let keys = Arc::new(self.keyring.domain_keys(&p.org)?);
        let settings = SessionConfig::new()
            .with_information_schema(false)
            .with_default_catalog_and_schema("kamei", "public");
        let ctx = SessionContext::new_with_config(settings);
        for table in &self.config.catalog().tables {
            let plan = self.config.table_plan(principal, &table.name)?;
            if plan.readable_columns().next().is_none() {
                continue;
            }
            let Some(inner) = self.sources.table(&table.name) else {
                return Err(GatewayError::Source {
                    table: table.name.clone(),
                    message: "no source".into(),
                });
            };
            let guarded = GuardedTable::new(
                plan,
                inner.clone(),
                keys.clone(),
                self.sources.directory().cloned(),
            )
            .map_err(|e| GatewayError::Source {
                table: table.name.clone(),
                message: e.to_string(),
            })?;
            ctx.register_table(table.name.as_str(), Arc::new(guarded))
                .map_err(|e| GatewayError::Query(e.to_string()))?;
        }
        Ok(GuardedSession {
            ctx,
            may_explain: p.roles.iter().any(|r| r == "admin"),
        })
    }
}

/// One principal's session.
pub struct GuardedSession {
    ctx: SessionContext,
    /// EXPLAIN prints plans with their literals and statistics: admins only.
    may_explain: bool,
}

impl std::fmt::Debug for GuardedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedSession")
            .field("session_id", &self.ctx.session_id())
            .finish_non_exhaustive()
    }
}

impl GuardedSession {
    /// Runs one read-only query. DDL (`CREATE EXTERNAL TABLE`, views, `CREATE TABLE AS`), DML,
    /// `COPY … TO`, `SET` and other statements, and several statements in one string are
    /// refused before anything runs.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, GatewayError> {
        let options = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let frame = self
            .ctx
            .sql_with_options(sql, options)
            .await
            .map_err(|e| GatewayError::Refused(e.to_string()))?;
        if matches!(
            frame.logical_plan(),
            LogicalPlan::Explain(_) | LogicalPlan::Analyze(_)
        ) && !self.may_explain
        {
            return Err(GatewayError::Refused(
                "EXPLAIN prints plans with their literals and statistics; only admins may run it".into(),
            ));
        }
        frame
            .collect()
            .await
            .map_err(|e| GatewayError::Query(e.to_string()))
    }
}
