//! Guarded tables: the only way a table is registered with the query engine.
//!
//! A [`GuardedTable`] wraps the real source and applies the session principal's compiled
//! projection inside its scan, so every reference to the table, in any subquery, join, CTE or
//! aggregate, reads protected values: no filter, sort, aggregate or function sees a raw value
//! the principal may not see. The scan node ([`GuardedExec`]) shows the optimizer no child,
//! no statistics, no orderings and no equivalences, and takes no pushed-down sort or dynamic
//! filter: nothing computed below it can run on raw values. Filters it does take, and
//! evaluates itself on protected values, before the rest of the projection: only rows that
//! match leave the scan (so the audit record names only their subjects), and the columns the
//! filter does not name are computed for those rows alone. The engine keeps every filter above
//! the scan as well (`Inexact`). A filter reaches the source itself only in a form whose answer
//! is no narrower than the guarded one (`source_filter.rs`).

use std::fmt;
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, DFSchema, DataFusionError, Result, Statistics};
use datafusion::datasource::TableType;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PhysicalExpr, PlanProperties, StatisticsArgs,
};
use futures::StreamExt;
use kamei_core::{Category, Level, TablePlan};
use kamei_protect::{DomainKeys, Projection, SubjectDirectory};

use crate::error::DeniedColumns;
use crate::source_filter::SourceFilters;
use crate::template;
use crate::trace::Trace;

/// One principal's view of one table.
///
/// INVARIANT (no raw bypass): `scan` returns only a [`GuardedExec`] over the inner scan, whose
/// batches pass through the principal's [`Projection`]; the table exposes only the columns
/// the catalog lists (a column it does not know is never readable).
pub struct GuardedTable {
    plan: Arc<TablePlan>,
    inner: Arc<dyn TableProvider>,
    keys: Arc<DomainKeys>,
    directory: Option<Arc<SubjectDirectory>>,
    /// The catalog's columns as the principal reads them (a column denied everywhere keeps
    /// the source's type, so naming it reaches `scan` and fails there with its policies).
    schema: SchemaRef,
    /// Per column of `schema`, its index in the inner source.
    inner_index: Vec<usize>,
    /// What a filter may be handed to the source as (`source_filter.rs`); `None` when the
    /// source takes no filters (it holds its rows in memory).
    source_filters: Option<Arc<SourceFilters>>,
}

impl fmt::Debug for GuardedTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedTable")
            .field("table", &self.plan.table())
            .field("principal", &self.plan.principal())
            .finish_non_exhaustive()
    }
}

impl GuardedTable {
    /// Guards `inner` (the raw source of `plan`'s table) for `plan`'s principal. Errors when the
    /// source lacks a catalog column or holds a type the category cannot hold.
    pub(crate) fn new(
        plan: Arc<TablePlan>,
        inner: Arc<dyn TableProvider>,
        keys: Arc<DomainKeys>,
        directory: Option<Arc<SubjectDirectory>>,
    ) -> Result<GuardedTable> {
        let source = inner.schema();
        let mut fields = Vec::with_capacity(plan.columns().len());
        let mut inner_index = Vec::with_capacity(plan.columns().len());
        let readable: Vec<&str> = plan.readable_columns().map(|c| c.column()).collect();
        let projection =
            Projection::compile(&plan, &source, &readable, &keys, directory.as_ref()).map_err(plain)?;
        let guarded = projection.output_schema();
        for c in plan.columns() {
            let index = source.index_of(c.column()).map_err(|_| {
                DataFusionError::Plan(format!(
                    "table `{}`: the source has no column `{}`",
                    plan.table(),
                    c.column()
                ))
            })?;
            inner_index.push(index);
            let field = match guarded.field_with_name(c.column()) {
                Ok(f) => f.clone(),
                Err(_) => Field::new(c.column(), source.field(index).data_type().clone(), true),
            };
            fields.push(field);
        }
        // Non-personal columns only: a filter sent to the database is SQL text, which the
        // database may keep in its own statistics and logs.
        let unchanged = plan
            .readable_columns()
            .filter(|c| c.category() == Category::NonPersonal && projection.passes_unchanged(c.column()))
            .map(|c| c.column().to_owned())
            .collect();
        let lookups = plan
            .readable_columns()
            .filter(|c| c.category() == Category::SubjectKey)
            .filter_map(|c| Some((c.column().to_owned(), projection.lookup(c.column())?)))
            .collect();
        let takes_filters = inner
            .supports_filters_pushdown(&[&datafusion::logical_expr::lit(true)])
            .is_ok_and(|p| p.iter().all(|p| *p != TableProviderFilterPushDown::Unsupported));
        let source_filters = takes_filters.then(|| Arc::new(SourceFilters { unchanged, lookups }));
        Ok(GuardedTable {
            plan,
            inner,
            keys,
            directory,
            schema: Arc::new(Schema::new(fields)),
            inner_index,
            source_filters,
        })
    }
}

/// A protection error as the engine reports it: its text names columns and policies, never a
/// value.
fn plain(e: kamei_protect::ProtectError) -> DataFusionError {
    DataFusionError::Plan(e.to_string())
}

#[async_trait::async_trait]
impl TableProvider for GuardedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let wanted: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let names: Vec<&str> = wanted
            .iter()
            .filter_map(|i| self.schema.fields().get(*i).map(|f| f.name().as_str()))
            .collect();
        let denied: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| self.plan.column(n).is_none_or(|c| c.max_level() == Level::Denied))
            .collect();
        if !denied.is_empty() {
            let mut policies: Vec<&str> = denied
                .iter()
                .filter_map(|n| self.plan.column(n))
                .flat_map(|c| c.policies())
                .collect();
            policies.sort_unstable();
            policies.dedup();
            let quoted: Vec<String> = policies.iter().map(|p| format!("`{p}`")).collect();
            let columns: Vec<String> = denied.iter().map(|c| format!("`{c}`")).collect();
            let message = format!(
                "`{}` may not read {} of table `{}` (decided by {}); leave {} out of the query",
                self.plan.principal(),
                columns.join(", "),
                self.plan.table(),
                if quoted.is_empty() {
                    "no policy permitting it".to_owned()
                } else {
                    quoted.join(", ")
                },
                if denied.len() == 1 { "it" } else { "them" }
            );
            return Err(DataFusionError::External(Box::new(DeniedColumns {
                message,
                policies: policies.iter().map(|p| (*p).to_owned()).collect(),
            })));
        }
        // The inner scan reads the wanted columns, whatever places each row (jurisdiction
        // columns, directory keys) and the subject keys the audit record names; the guard
        // drops the helpers after applying the levels.
        let mut inner_columns: Vec<&str> = names.clone();
        inner_columns.extend(self.plan.inputs_for(&names));
        inner_columns.extend(self.plan.subjects().iter().map(|s| s.key.as_str()));
        let mut seen = std::collections::HashSet::new();
        inner_columns.retain(|c| seen.insert(*c));
        let inner_projection: Vec<usize> = inner_columns
            .iter()
            .filter_map(|n| self.schema.index_of(n).ok())
            .filter_map(|i| self.inner_index.get(i).copied())
            .collect();
        // A limit is safe below the guard: it maps rows one to one (the engine passes none when
        // a filter stays above). A filter reaches the source only in a form whose answer over
        // raw values is no narrower than over protected ones (`source_filter.rs`); the source
        // may apply what it can, the scan and the engine apply every filter again on protected
        // values. A lookup goes down rewritten only where the scan filters itself: the rows
        // the wider answer adds must not reach the trace.
        let inner_schema = Arc::new(self.inner.schema().project(&inner_projection)?);
        let prefilter = self.prefilter(state, &inner_schema, &names, filters);
        let source = self.source_filters.as_ref().map(|rules| SourceScan {
            provider: self.inner.clone(),
            projection: inner_projection.clone(),
            filters: filters
                .iter()
                .map(|f| (f.clone(), prefilter.is_some() && prefilters(f, &names)))
                .collect(),
            rules: rules.clone(),
        });
        // A prepared statement's parameters are not known yet: its filters go to the source
        // once they are (`SourceScan::bound`).
        let to_source = source.as_ref().map(SourceScan::for_source).unwrap_or_default();
        let limit = if to_source.is_empty() { limit } else { None };
        let inner = self
            .inner
            .scan(state, Some(&inner_projection), &to_source, limit)
            .await?;
        let source = source.filter(|s| s.filters.iter().any(|(f, _)| template::holds_slot(f)));
        let projection = Projection::compile(
            &self.plan,
            &inner.schema(),
            &names,
            &self.keys,
            self.directory.as_ref(),
        )
        .map_err(plain)?;
        let columns = names
            .iter()
            .filter_map(|n| self.plan.column(n).map(|c| ((*n).to_owned(), c.max_level())))
            .collect();
        Ok(Arc::new(GuardedExec::new(
            Arc::new(Reading {
                table: self.plan.table().to_owned(),
                columns,
            }),
            inner,
            Arc::new(projection),
            prefilter.map(Arc::new),
            limit,
            source.map(Arc::new),
        )))
    }

    /// Every filter is taken as `Inexact`: the engine keeps it above the scan, and the scan
    /// applies it too, on protected values (see `Prefilter`); a filter on a protected column
    /// never runs on raw values (`count(*) … WHERE phone = '…'` would count raw phones).
    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }
}

impl GuardedTable {
    /// The scan's own filter: the non-volatile filters over `names`, against the protected
    /// values of the columns they name. `None` when there is none (or it cannot be built: the
    /// engine's filter above the scan still applies).
    fn prefilter(
        &self,
        state: &dyn Session,
        inner: &SchemaRef,
        names: &[&str],
        filters: &[Expr],
    ) -> Option<Prefilter> {
        let usable = filters.iter().filter(|f| prefilters(f, names));
        let predicate = conjunction(usable.cloned())?
            .transform(|e| {
                Ok(match e {
                    Expr::Column(c) => Transformed::yes(Expr::Column(Column::new_unqualified(c.name))),
                    e => Transformed::no(e),
                })
            })
            .ok()?
            .data;
        let mut columns: Vec<&str> = predicate.column_refs().iter().map(|c| c.name.as_str()).collect();
        columns.sort_unstable();
        columns.dedup();
        let projection =
            Projection::compile(&self.plan, inner, &columns, &self.keys, self.directory.as_ref()).ok()?;
        let schema = DFSchema::try_from(projection.output_schema().as_ref().clone()).ok()?;
        let predicate = state.create_physical_expr(predicate, &schema).ok()?;
        Some(Prefilter {
            projection: Arc::new(projection),
            predicate,
            protected: Arc::default(),
        })
    }
}

/// What a guarded scan asks of its source, kept when its filters hold a prepared statement's
/// parameters: the filters can go down only once their values are known, at each execution.
#[derive(Debug)]
pub(crate) struct SourceScan {
    provider: Arc<dyn TableProvider>,
    projection: Vec<usize>,
    /// The scan's filters, each with whether the scan applies it itself.
    filters: Vec<(Expr, bool)>,
    rules: Arc<SourceFilters>,
}

impl SourceScan {
    /// The filters in the form the source may apply them, those that hold parameters left out.
    fn for_source(&self) -> Vec<Expr> {
        let unbound = self.filters.iter().filter(|(f, _)| !template::holds_slot(f));
        self.rules.for_source_all(unbound.map(|(f, here)| (f, *here)))
    }

    /// The source's scan for one execution, its filters filled by `fill`; `None` when no
    /// filter that held a parameter can go down (the template's own scan serves).
    pub(crate) async fn bound(
        &self,
        state: &dyn Session,
        fill: impl Fn(&Expr) -> Result<Expr>,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let filled = self
            .filters
            .iter()
            .map(|(f, here)| Ok((fill(f)?, *here)))
            .collect::<Result<Vec<_>>>()?;
        let filters = self
            .rules
            .for_source_all(filled.iter().map(|(f, here)| (f, *here)));
        if filters == self.for_source() {
            return Ok(None);
        }
        let scan = self.provider.scan(state, Some(&self.projection), &filters, None);
        Ok(Some(scan.await?))
    }
}

/// Whether the scan applies `filter` itself (its prefilter): non-volatile, on the scan's own
/// columns only.
fn prefilters(filter: &Expr, names: &[&str]) -> bool {
    !filter.is_volatile()
        && filter
            .column_refs()
            .iter()
            .all(|c| names.contains(&c.name.as_str()))
}

/// The filter a guarded scan applies itself: the columns it names are protected first (the
/// same levels as the rest of the scan), the predicate runs on those values, and the raw rows
/// that match go on to the full projection. A row that does not match never leaves the scan.
#[derive(Debug)]
struct Prefilter {
    projection: Arc<Projection>,
    predicate: Arc<dyn PhysicalExpr>,
    /// Shared by every execution of a prepared statement's plan.
    protected: Arc<Mutex<ProtectedBatches>>,
}

/// Most bytes of protected filter columns one prefilter keeps.
const PROTECTED_BATCHES_BYTES: usize = 1 << 20;
/// Most batches it keeps: a source that reads fresh arrays at every execution (PostgreSQL)
/// never hits, and a lookup then searched thousands of one-row batches (2 % of its CPU).
const PROTECTED_BATCHES: usize = 32;

/// The protected filter columns of the raw batches a prefilter saw, while they fit in
/// [`PROTECTED_BATCHES_BYTES`]: a prepared point query on a small in-memory table protects its
/// filter column once, not at every execution. A batch is known by its raw arrays (the same
/// `Arc`s, kept alive here, so an address cannot be reused by another batch); a projection is
/// a pure function of its input under one session's keys, and the cache dies with the plan.
#[derive(Debug, Default)]
struct ProtectedBatches {
    batches: Vec<(Vec<ArrayRef>, RecordBatch)>,
    bytes: usize,
}

impl Prefilter {
    fn protected(&self, raw: &RecordBatch) -> Result<RecordBatch> {
        let same = |arrays: &[ArrayRef]| {
            arrays.len() == raw.num_columns()
                && arrays.iter().zip(raw.columns()).all(|(a, b)| Arc::ptr_eq(a, b))
        };
        let lock = || self.protected.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, batch)) = lock().batches.iter().find(|(arrays, _)| same(arrays)) {
            return Ok(batch.clone());
        }
        let batch = self
            .projection
            .apply(raw)
            .map_err(|e| DataFusionError::Execution(e.to_string()))?;
        let bytes = batch.get_array_memory_size();
        let mut cache = lock();
        if cache.bytes + bytes <= PROTECTED_BATCHES_BYTES && cache.batches.len() < PROTECTED_BATCHES {
            cache.bytes += bytes;
            cache.batches.push((raw.columns().to_vec(), batch.clone()));
        }
        Ok(batch)
    }

    fn keep(&self, raw: &RecordBatch) -> Result<RecordBatch> {
        let protected = self.protected(raw)?;
        let matches = self
            .predicate
            .evaluate(&protected)?
            .into_array(protected.num_rows())?;
        let matches = matches
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| DataFusionError::Execution("a filter that is not boolean".into()))?;
        Ok(filter_record_batch(raw, matches)?)
    }
}

/// What a guarded scan reads: its table and columns, at the most revealing level of each.
#[derive(Debug)]
struct Reading {
    table: String,
    columns: Vec<(String, Level)>,
}

/// The scan node of a guarded table: the inner scan's batches through the projection.
///
/// It reports no children (so no optimizer rule rewrites, pushes into or reorders the inner
/// scan), unknown statistics, unknown partitioning, no orderings and no equivalences. It
/// records what it reads in the trace (`trace.rs`) its execution brings (a plan is planned once and
/// may run many times, each with a trace of its own) and refuses to run without one.
#[derive(Debug)]
pub struct GuardedExec {
    reading: Arc<Reading>,
    inner: Arc<dyn ExecutionPlan>,
    projection: Arc<Projection>,
    prefilter: Option<Arc<Prefilter>>,
    /// Most rows one partition lets out (a `LIMIT` the engine pushed to the scan).
    limit: Option<usize>,
    /// Set when filters that hold a prepared statement's parameters are to reach the source.
    source: Option<Arc<SourceScan>>,
    properties: Arc<PlanProperties>,
}

impl GuardedExec {
    fn new(
        reading: Arc<Reading>,
        inner: Arc<dyn ExecutionPlan>,
        projection: Arc<Projection>,
        prefilter: Option<Arc<Prefilter>>,
        limit: Option<usize>,
        source: Option<Arc<SourceScan>>,
    ) -> GuardedExec {
        let partitions = inner.properties().partitioning.partition_count();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(projection.output_schema()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        GuardedExec {
            reading,
            inner,
            projection,
            prefilter,
            limit,
            source,
            properties: Arc::new(properties),
        }
    }

    /// Records the columns this scan reads, at their levels (before any row is computed, so
    /// that a record written before the first row names them).
    pub(crate) fn record_columns(&self, trace: &Trace) {
        for (column, level) in &self.reading.columns {
            trace.read_column(&self.reading.table, column, *level);
        }
    }

    /// The predicate the scan filters on, if any (a prepared statement's parameters sit in it).
    pub(crate) fn filter(&self) -> Option<&Arc<dyn PhysicalExpr>> {
        self.prefilter.as_ref().map(|f| &f.predicate)
    }

    /// What the scan asks its source once a prepared statement's parameters are known.
    pub(crate) fn source(&self) -> Option<&Arc<SourceScan>> {
        self.source.as_ref()
    }

    /// The same scan for one execution of a prepared statement: its filter's predicate
    /// replaced and, when its source takes the filters, the source's scan for the values.
    pub(crate) fn bound(
        &self,
        predicate: Option<Arc<dyn PhysicalExpr>>,
        inner: Option<Arc<dyn ExecutionPlan>>,
    ) -> GuardedExec {
        let prefilter = match (&self.prefilter, predicate) {
            (Some(f), Some(predicate)) => Some(Arc::new(Prefilter {
                projection: f.projection.clone(),
                predicate,
                protected: f.protected.clone(),
            })),
            (f, _) => f.clone(),
        };
        GuardedExec {
            reading: self.reading.clone(),
            inner: inner.unwrap_or_else(|| self.inner.clone()),
            projection: self.projection.clone(),
            prefilter,
            limit: self.limit,
            source: None,
            properties: self.properties.clone(),
        }
    }
}

impl DisplayAs for GuardedExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let columns: Vec<String> = self
            .projection
            .output_schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        write!(f, "GuardedExec: columns=[{}]", columns.join(", "))
    }
}

impl ExecutionPlan for GuardedExec {
    fn name(&self) -> &str {
        "GuardedExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn statistics_from_inputs(
        &self,
        _inputs: &[Arc<Statistics>],
        _args: &StatisticsArgs,
    ) -> Result<Arc<Statistics>> {
        Ok(Arc::new(Statistics::new_unknown(
            &self.projection.output_schema(),
        )))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let trace = context.session_config().get_extension::<Trace>().ok_or_else(|| {
            DataFusionError::Execution("a guarded table is read only through a kamei statement".into())
        })?;
        self.record_columns(&trace);
        let inner = self.inner.execute(partition, context)?;
        let projection = self.projection.clone();
        let prefilter = self.prefilter.clone();
        // The limit is applied here too (in-memory sources ignore it): rows beyond it never
        // leave the scan, so `LIMIT 10` names at most ten people per partition.
        let limit = self.limit.unwrap_or(usize::MAX);
        let guarded = inner.scan(limit, move |remaining, batch| {
            if *remaining == 0 {
                return futures::future::ready(None);
            }
            let next = || {
                let mut raw = match &prefilter {
                    Some(f) => f.keep(&batch?)?,
                    None => batch?,
                };
                if raw.num_rows() > *remaining {
                    raw = raw.slice(0, *remaining);
                }
                *remaining -= raw.num_rows();
                let (out, _, subjects) = projection
                    .apply_traced(&raw)
                    .map_err(|e| DataFusionError::Execution(e.to_string()))?;
                // The subjects whose rows left the guard, keyed by the raw batch's key columns.
                trace.read_subjects(&raw, &subjects);
                Ok(out)
            };
            futures::future::ready(Some(next()))
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.projection.output_schema(),
            guarded,
        )))
    }
}
