//! One principal's SQL session: a query engine context of its own that knows only guarded
//! tables, and the statement guard in front of it.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, ParamValues, ScalarValue};
use datafusion::datasource::{MemTable, source_as_provider};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::{ExecutionPlan, execute_stream};
use datafusion::sql::parser::Statement as DfStatement;
use futures::TryStreamExt;
use kamei_core::Jurisdiction;
use kamei_policy::Config;
use kamei_protect::Keyring;

use crate::bounded::{
    Bounded, EXPANDING_FUNCTIONS, UNSERVED_AGGREGATES, UNSERVED_FUNCTIONS, bound_concatenation,
    check_expansion, check_plan_constants,
};
use crate::error::{DeniedColumns, GatewayError};
use crate::guarded::{GuardedExec, GuardedTable};
use crate::in_lists::expand_in_lists;
use crate::memory::{MemoryLimits, StatementPool};
use crate::sources::Sources;
use crate::statement::{Step, classify};
use crate::template::{Template, reads_the_clock};
use crate::trace::{Reads, Trace};

/// Configuration, sources and keys, shared by every session.
#[derive(Debug)]
pub struct Gateway {
    config: Arc<Config>,
    sources: Sources,
    keyring: Arc<Keyring>,
    /// The server's runtime: its memory pool bounds all statements together.
    runtime: Arc<RuntimeEnv>,
    statement_memory: usize,
}

/// Who a session belongs to, as audit records name them.
#[derive(Debug, Clone)]
pub struct Who {
    pub principal: String,
    pub org: String,
    pub country: Jurisdiction,
    pub demo: bool,
}

impl Gateway {
    /// A gateway whose statements may hold `limits.statement` bytes each and `limits.server`
    /// together: a statement that needs more fails ("resources exhausted") instead of taking
    /// the server down. Nothing spills to disk (spilled data would be protected values in
    /// temporary files).
    pub fn new(
        config: Arc<Config>,
        sources: Sources,
        keyring: Arc<Keyring>,
        limits: MemoryLimits,
    ) -> Result<Gateway, GatewayError> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(limits.server, 1.0)
            .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled))
            .build_arc()
            .map_err(|e| GatewayError::Query(e.to_string()))?;
        Ok(Gateway {
            config,
            sources,
            keyring,
            runtime,
            statement_memory: limits.statement,
        })
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// A session for `principal`: every table it may read some column of, registered only as a
    /// [`GuardedTable`] with its levels; nothing else (no file or URL tables, no table
    /// factories or file formats, no table functions).
    pub fn session(&self, principal: &str) -> Result<GuardedSession, GatewayError> {
        let p = self
            .config
            .principal(principal)
            .ok_or_else(|| GatewayError::UnknownPrincipal(principal.to_owned()))?;
        let keys = Arc::new(self.keyring.domain_keys(&p.org)?);
        let mut settings = SessionConfig::new()
            .with_information_schema(false)
            .with_default_catalog_and_schema("kamei", "public")
            .with_create_default_catalog_and_schema(true)
            .with_collect_statistics(false)
            .with_target_partitions(2);
        let options = settings.options_mut();
        options.optimizer.enable_dynamic_filter_pushdown = false;
        options.sql_parser.enable_ident_normalization = true;
        let state = SessionStateBuilder::new()
            .with_config(settings)
            .with_runtime_env(self.runtime.clone())
            .with_default_features()
            .with_table_factories(HashMap::new())
            .with_file_formats(Vec::new())
            .with_table_function_list(Vec::new())
            .build();
        let ctx = SessionContext::new_with_state(state);
        for f in ["input_file_name", "file_row_index"]
            .iter()
            .chain(UNSERVED_FUNCTIONS)
        {
            ctx.deregister_udf(f);
        }
        for f in UNSERVED_AGGREGATES {
            ctx.deregister_udaf(f);
        }
        for f in EXPANDING_FUNCTIONS {
            if let Ok(inner) = ctx.udf(f) {
                ctx.register_udf(ScalarUDF::new_from_impl(Bounded::new(inner)));
            }
        }
        let mut denied_tables = HashMap::new();
        let mut listed = Vec::new();
        for table in &self.config.catalog().tables {
            let plan = self.config.table_plan(principal, &table.name)?;
            if plan.readable_columns().next().is_none() {
                let mut policies: Vec<String> = plan
                    .columns()
                    .iter()
                    .flat_map(|c| c.policies())
                    .map(str::to_owned)
                    .collect();
                policies.sort_unstable();
                policies.dedup();
                denied_tables.insert(table.name.clone(), policies);
                continue;
            }
            let Some(inner) = self.sources.table(&table.name) else {
                return Err(GatewayError::Source {
                    table: table.name.clone(),
                    message: "no source".into(),
                });
            };
            let readable: Vec<String> = plan.readable_columns().map(|c| c.column().to_owned()).collect();
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
            listed.push(crate::pg_catalog::Listed {
                name: table.name.clone(),
                columns: guarded
                    .schema()
                    .fields()
                    .iter()
                    .filter(|f| readable.contains(f.name()))
                    .map(|f| (f.name().clone(), f.data_type().clone()))
                    .collect(),
            });
            ctx.register_table(table.name.as_str(), Arc::new(guarded))
                .map_err(|e| GatewayError::Query(e.to_string()))?;
        }
        crate::pg_catalog::register(&ctx, &listed, &p.name)
            .map_err(|e| GatewayError::Query(e.to_string()))?;
        Ok(GuardedSession {
            config: ctx.copied_config(),
            bind_state: ctx.state(),
            runtime: self.runtime.clone(),
            ctx,
            statement_memory: self.statement_memory,
            may_explain: p.roles.iter().any(|r| r == "admin"),
            denied_tables,
            who: Who {
                principal: p.name.clone(),
                org: p.org.clone(),
                country: p.country,
                demo: p.demo,
            },
        })
    }
}

/// One principal's session.
pub struct GuardedSession {
    ctx: SessionContext,
    /// The context's state as it stands once every table is registered, for the scans a
    /// prepared statement's execution asks again (`Template::bind`): cloning it at each
    /// execution took about 3 % of a point lookup's CPU. Planning takes a fresh state, whose
    /// clock `now()` reads.
    bind_state: SessionState,
    /// The settings each statement's task runs with (plus its trace).
    config: SessionConfig,
    /// The server's runtime, whose pool each statement's own pool draws from.
    runtime: Arc<RuntimeEnv>,
    /// Bytes one statement's operators may hold (its share of the server's pool).
    statement_memory: usize,
    /// EXPLAIN prints plans with their literals and statistics: admins only.
    may_explain: bool,
    /// Catalog tables this principal may read no column of, with the deciding policies.
    denied_tables: HashMap<String, Vec<String>>,
    who: Who,
}

impl std::fmt::Debug for GuardedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedSession")
            .field("principal", &self.who.principal)
            .finish_non_exhaustive()
    }
}

impl GuardedSession {
    pub fn who(&self) -> &Who {
        &self.who
    }

    /// Runs one read-only query string and collects its result (tests and tools; the wire
    /// server plans and streams step by step).
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, GatewayError> {
        let steps = classify(sql).map_err(|r| GatewayError::Refused(r.0))?;
        let [step] = steps.as_slice() else {
            return Err(GatewayError::Refused("one statement expected".into()));
        };
        let plan = self.plan(step).await?;
        self.run(plan)
            .await?
            .stream
            .try_collect()
            .await
            .map_err(execution_error)
    }

    /// Runs one query with `$n` parameters as the wire server runs a prepared statement:
    /// planned once with its placeholders, then run with `values` (tests and tools).
    pub async fn query_prepared(
        &self,
        sql: &str,
        values: Vec<ScalarValue>,
    ) -> Result<Vec<RecordBatch>, GatewayError> {
        let steps = classify(sql).map_err(|r| GatewayError::Refused(r.0))?;
        let [step] = steps.as_slice() else {
            return Err(GatewayError::Refused("one statement expected".into()));
        };
        let plan = self.plan(step).await?;
        let types = parameter_types(&plan).map_err(plan_error)?;
        let statement = match self.template(step, &plan, &types).await {
            Some(template) => Executable::Prepared(Arc::new(template), values),
            None => Executable::Plan(self.bind(&plan, values)?),
        };
        self.run_statement(statement)
            .await?
            .stream
            .try_collect()
            .await
            .map_err(execution_error)
    }

    /// Plans a query or EXPLAIN step and checks the plan: only read-only operators over
    /// guarded tables (or the session's own catalog tables). Placeholders stay in the plan.
    pub async fn plan(&self, step: &Step) -> Result<LogicalPlan, GatewayError> {
        let statement = match step {
            Step::Query { statement, .. } => statement,
            Step::Explain(statement) if self.may_explain => statement,
            Step::Explain(_) => {
                return Err(GatewayError::Refused(
                    "EXPLAIN prints plans with their literals and statistics; only admins may run it".into(),
                ));
            }
            _ => return Err(GatewayError::Refused("not a query".into())),
        };
        let state = self.ctx.state();
        let statement = DfStatement::Statement(statement.clone());
        // A table of the catalog this principal may read nothing of is not registered; say so
        // with its policies rather than "not found".
        if let Ok(references) = state.resolve_table_references(&statement) {
            for r in references {
                if let Some(policies) = self.denied_tables.get(r.table()) {
                    let quoted: Vec<String> = policies.iter().map(|p| format!("`{p}`")).collect();
                    return Err(GatewayError::Denied {
                        message: format!(
                            "`{}` may not read any column of table `{}` (decided by {})",
                            self.who.principal,
                            r.table(),
                            if quoted.is_empty() {
                                "no policy permitting it".to_owned()
                            } else {
                                quoted.join(", ")
                            }
                        ),
                        policies: policies.clone(),
                    });
                }
            }
        }
        let plan = match state.statement_to_plan(statement.clone()).await {
            Ok(plan) => plan,
            Err(e) => match crate::pg_catalog::empty_answer(&state, &statement) {
                Some(plan) => plan,
                None => return Err(plan_error(e)),
            },
        };
        self.check(&plan)?;
        Ok(plan)
    }

    /// Refuses any plan that could write, change the session or read anything but guarded
    /// tables, in every subquery.
    fn check(&self, plan: &LogicalPlan) -> Result<(), GatewayError> {
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(plan)
            .map_err(|e| GatewayError::Refused(e.to_string()))?;
        let mut refusal = None;
        plan.apply_with_subqueries(|node| {
            let ok = match node {
                LogicalPlan::TableScan(scan) => source_as_provider(&scan.source)
                    .is_ok_and(|p| p.as_ref().is::<GuardedTable>() || p.as_ref().is::<MemTable>()),
                LogicalPlan::Explain(_) | LogicalPlan::Analyze(_) => self.may_explain,
                LogicalPlan::Projection(_)
                | LogicalPlan::Filter(_)
                | LogicalPlan::Window(_)
                | LogicalPlan::Aggregate(_)
                | LogicalPlan::Sort(_)
                | LogicalPlan::Join(_)
                | LogicalPlan::Repartition(_)
                | LogicalPlan::Union(_)
                | LogicalPlan::EmptyRelation(_)
                | LogicalPlan::Subquery(_)
                | LogicalPlan::SubqueryAlias(_)
                | LogicalPlan::Limit(_)
                | LogicalPlan::Values(_)
                | LogicalPlan::Distinct(_)
                | LogicalPlan::Unnest(_)
                | LogicalPlan::RecursiveQuery(_) => true,
                _ => false,
            };
            if ok {
                Ok(TreeNodeRecursion::Continue)
            } else {
                refusal = Some(format!("`{}` is not allowed in a kamei query", node.display()));
                Ok(TreeNodeRecursion::Stop)
            }
        })
        .map_err(plan_error)?;
        match refusal {
            Some(r) => Err(GatewayError::Refused(r)),
            None => Ok(()),
        }
    }

    /// Binds parameter values to a checked plan.
    pub fn bind(&self, plan: &LogicalPlan, values: Vec<ScalarValue>) -> Result<LogicalPlan, GatewayError> {
        let plan = plan
            .clone()
            .with_param_values(ParamValues::from(values))
            .map_err(plan_error)?;
        self.check(&plan)?;
        Ok(plan)
    }

    /// Plans and starts a checked plan.
    pub async fn run(&self, plan: LogicalPlan) -> Result<Running, GatewayError> {
        let state = self.ctx.state();
        let optimized = self.optimize(&state, &plan).map_err(plan_error)?;
        let physical = state
            .query_planner()
            .create_physical_plan(&optimized, &state)
            .await
            .map_err(plan_error)?;
        self.start(physical)
    }

    /// The engine's optimizer (lists of non-literals written out first: `in_lists.rs`), then
    /// every `||` made a bounded call (`bounded.rs`).
    fn optimize(&self, state: &SessionState, plan: &LogicalPlan) -> Result<LogicalPlan, DataFusionError> {
        let concat = self.ctx.udf("concat")?;
        let optimized = bound_concatenation(state.optimize(&expand_in_lists(plan.clone())?)?, &concat)?;
        check_plan_constants(&optimized)?;
        Ok(optimized)
    }

    /// Starts a statement: a plan to plan now, or a prepared one with its values.
    pub async fn run_statement(&self, statement: Executable) -> Result<Running, GatewayError> {
        match statement {
            Executable::Plan(plan) => self.run(plan).await,
            Executable::Prepared(template, values) => self.start(
                template
                    .bind(values, &self.bind_state)
                    .await
                    .map_err(plan_error)?,
            ),
        }
    }

    /// A prepared query's plan, planned once for all its executions (see `template.rs`);
    /// `None` when it must be planned at each execution instead (for any step but a query, and
    /// a query that reads the clock).
    pub async fn template(
        &self,
        step: &Step,
        plan: &LogicalPlan,
        params: &[Option<DataType>],
    ) -> Option<Template> {
        if !matches!(step, Step::Query { .. }) || reads_the_clock(plan) {
            return None;
        }
        let state = self.ctx.state();
        let optimized = self.optimize(&state, plan).ok()?;
        let (slotted, types) = Template::slotted(optimized, params)?;
        let physical = state
            .query_planner()
            .create_physical_plan(&slotted, &state)
            .await
            .ok()?;
        Template::new(physical, types)
    }

    /// Starts a physical plan with a trace of its own, so that statements running side by side
    /// on one connection (portals, a string of statements) keep their reads apart. The
    /// columns its guarded scans read are in the trace before the first row is computed.
    fn start(&self, physical: Arc<dyn ExecutionPlan>) -> Result<Running, GatewayError> {
        check_expansion(&physical, self.config.batch_size()).map_err(plan_error)?;
        let trace = Arc::new(Trace::default());
        physical
            .apply(|node| {
                if let Some(scan) = node.downcast_ref::<GuardedExec>() {
                    scan.record_columns(&trace);
                }
                Ok(TreeNodeRecursion::Continue)
            })
            .map_err(plan_error)?;
        let runtime = Arc::new(RuntimeEnv {
            memory_pool: Arc::new(StatementPool::new(
                self.runtime.memory_pool.clone(),
                self.statement_memory,
            )),
            disk_manager: self.runtime.disk_manager.clone(),
            cache_manager: self.runtime.cache_manager.clone(),
            object_store_registry: self.runtime.object_store_registry.clone(),
        });
        // A planned statement looks no function up by name: the task needs no registry.
        let task = TaskContext::new(
            None,
            self.ctx.session_id(),
            self.config.clone().with_extension(trace.clone()),
            HashMap::new(),
            HashMap::new(),
            HashMap::new(),
            HashMap::new(),
            runtime,
        );
        let stream = execute_stream(physical, Arc::new(task)).map_err(execution_error)?;
        Ok(Running { stream, trace })
    }
}

/// Most parameters a statement takes (the protocol counts them in 16 bits).
const MAX_PARAMETERS: usize = u16::MAX as usize;

/// The type of each placeholder `$1`, `$2`, … of `plan`, in order (`None` where the plan does
/// not tell).
pub fn parameter_types(plan: &LogicalPlan) -> Result<Vec<Option<DataType>>, DataFusionError> {
    let mut params = Vec::new();
    for (name, t) in plan.get_parameter_types()? {
        let n = name
            .strip_prefix('$')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=MAX_PARAMETERS).contains(n))
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "placeholder {name}: placeholders are $1 to ${MAX_PARAMETERS}"
                ))
            })?;
        params.push((n, t));
    }
    params.sort_by_key(|(n, _)| *n);
    let count = params.last().map_or(0, |(n, _)| *n);
    let mut list = vec![None; count];
    for (n, t) in params {
        if let Some(slot) = list.get_mut(n.wrapping_sub(1)) {
            *slot = t;
        }
    }
    // `LIMIT $1` and `OFFSET $1` are counts, as PostgreSQL infers (the engine leaves them
    // untyped, and a client that sends the value as text would otherwise fail).
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Limit(limit) = node {
            for e in [&limit.skip, &limit.fetch].into_iter().flatten() {
                if let Expr::Placeholder(p) = e.as_ref()
                    && let Some(slot) =
                        p.id.strip_prefix('$')
                            .and_then(|n| n.parse::<usize>().ok())
                            .and_then(|n| list.get_mut(n.wrapping_sub(1)))
                    && slot.is_none()
                {
                    *slot = Some(DataType::Int64);
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(list)
}

/// A statement ready to run.
#[derive(Debug)]
pub enum Executable {
    /// A checked plan, with its parameters bound, to plan physically.
    Plan(LogicalPlan),
    /// A prepared statement's physical plan and the values of its parameters.
    Prepared(Arc<Template>, Vec<ScalarValue>),
}

/// A running statement: its rows, and what its guarded scans have read so far.
pub struct Running {
    pub stream: SendableRecordBatchStream,
    trace: Arc<Trace>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Running")
    }
}

impl Running {
    /// The reads so far (and starts the count over).
    pub fn take_reads(&self) -> Reads {
        self.trace.take()
    }

    pub(crate) fn trace(&self) -> Arc<Trace> {
        self.trace.clone()
    }
}

/// A planning error: refusals by a guarded table name the columns and policies. Planning reads
/// no data, so its text holds only what the client wrote.
pub(crate) fn plan_error(e: DataFusionError) -> GatewayError {
    if let DataFusionError::External(inner) = e.find_root() {
        if let Some(d) = inner.downcast_ref::<DeniedColumns>() {
            return GatewayError::Denied {
                message: d.message.clone(),
                policies: d.policies.clone(),
            };
        }
        // A database source asked for its estimate while planning, or read while running.
        if let Some(failed) = inner.downcast_ref::<crate::sources::SourceFailed>() {
            return failed.to_error();
        }
    }
    GatewayError::Query(e.strip_backtrace())
}

/// An error while rows are computed: its text can hold a value (a failed cast, a bad regex
/// built from a column), so quoted strings and long numbers are scrubbed out.
pub(crate) fn execution_error(e: DataFusionError) -> GatewayError {
    match plan_error(e) {
        GatewayError::Query(text) => GatewayError::Query(crate::error::scrub(&text)),
        other => other,
    }
}
