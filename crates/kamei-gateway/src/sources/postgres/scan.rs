//! Reading one table: a scan of its rows, run each time the plan is executed.
//!
//! **Row order.** A heap is usually in key order, and row order passes the guard untouched:
//! `row_number() OVER ()` next to a pseudonymised key would give the key's rank away. So a scan
//! reads the table in chunks of about 16,384 rows (`CHUNK_ROWS`: ranges of blocks, found by a
//! TID range scan), each partition its share of the chunks in an order drawn afresh at every
//! execution, and shuffles the rows of each chunk: an output position says nothing about where
//! a row sits in the table. A filtered scan the database expects to match at most a chunk's
//! worth of rows is one statement, so the database can use an index, and asks for its rows in
//! random order (`ORDER BY random()`; rows in index order shuffled in windows would still tell
//! which window of the key order a row came from); one expected to match more is read in
//! chunks, each filtered, so no sort of a whole table is asked for. At most one chunk per
//! partition is in memory.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PhysicalExpr, PlanProperties,
};
use futures::StreamExt;

use super::copy::{CopyDecoder, PgType, RowDecoder};
use super::filter::SourceSql;
use super::{
    CHUNK_BLOCKS_UNANALYSED, CHUNK_ROWS, Database, Filtered, PgTable, SourceFailed, files, pool, quote,
};

impl PgTable {
    /// A scan of `columns` in `partitions` partitions (the session's `target_partitions`: the
    /// levels are applied on every core at once).
    pub(super) fn scan_exec(
        &self,
        columns: &[usize],
        filter: Option<Filtered>,
        limit: Option<usize>,
        partitions: usize,
    ) -> PgScanExec {
        let schema = Arc::new(self.schema.project(columns).unwrap_or_else(|_| Schema::empty()));
        let names: Vec<String> = schema.fields().iter().map(|f| quote(f.name())).collect();
        let partitions = partitions.max(1);
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        PgScanExec {
            database: self.database.clone(),
            table: self.name.clone(),
            quoted: self.quoted.clone(),
            select: format!("SELECT {} FROM {}", names.join(", "), self.quoted),
            filter,
            limit,
            partitions,
            types: columns
                .iter()
                .filter_map(|i| self.types.get(*i).copied())
                .collect(),
            schema,
            properties: Arc::new(properties),
        }
    }
}

/// A chunked scan of one table, run each time the plan is executed.
pub(crate) struct PgScanExec {
    database: Arc<Database>,
    table: String,
    quoted: String,
    /// `SELECT <columns> FROM <table>`, to which each chunk adds its block range.
    select: String,
    /// A filter the database applies (`filter.rs`), and how.
    filter: Option<Filtered>,
    limit: Option<usize>,
    pub(super) partitions: usize,
    types: Vec<PgType>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for PgScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgScanExec")
            .field("select", &self.select)
            .finish_non_exhaustive()
    }
}

impl DisplayAs for PgScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgScanExec: source={} {}", self.database.name, self.select)
    }
}

impl PgScanExec {
    /// One partition's rows, batch by batch (`Reader`).
    pub(super) fn stream(&self, partition: usize) -> SendableRecordBatchStream {
        let reader = Reader {
            database: self.database.clone(),
            quoted: self.quoted.clone(),
            select: self.select.clone(),
            filter: self.filter.clone(),
            limit: self.limit,
            partition,
            partitions: self.partitions,
            schema: self.schema.clone(),
            types: self.types.clone(),
            failed: SourceFailed::at(&self.database.name, &self.table),
            client: None,
            queries: None,
            open: None,
            window: Vec::new(),
            ready: VecDeque::new(),
        };
        let batches = futures::stream::unfold(reader, |mut reader| async move {
            match reader.next().await {
                Ok(Some(batch)) => Some((Ok(batch), reader)),
                Ok(None) => None,
                Err(e) => {
                    // Nothing more is read; a statement still running is cancelled with the
                    // connection (`pool.rs`), never handed back to the pool half read.
                    reader.queries = Some(VecDeque::new());
                    reader.open = None;
                    reader.ready.clear();
                    drop(reader.client.take());
                    Some((Err(e), reader))
                }
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), batches))
    }
}

/// One partition of one execution of a scan. Its connection is taken from the pool when the
/// stream is first polled and goes back when the stream is dropped, unless a statement was
/// left unfinished (then it is cancelled and the connection closed: `pool.rs`).
struct Reader {
    database: Arc<Database>,
    quoted: String,
    select: String,
    filter: Option<Filtered>,
    limit: Option<usize>,
    partition: usize,
    partitions: usize,
    schema: SchemaRef,
    types: Vec<PgType>,
    failed: SourceFailed,
    client: Option<pool::Pooled>,
    /// This partition's statements still to run, once planned.
    queries: Option<VecDeque<Read>>,
    /// The statement being read.
    open: Option<Open>,
    /// Rows read and not yet shuffled (at most about `CHUNK_ROWS`).
    window: Vec<RecordBatch>,
    ready: VecDeque<RecordBatch>,
}

impl Reader {
    async fn next(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if let Some(batch) = self.ready.pop_front() {
                return Ok(Some(batch));
            }
            if self.queries.is_none() {
                self.queries = self.few();
            }
            if self.open.is_none() && self.queries.as_ref().is_some_and(VecDeque::is_empty) {
                // Done: the connection (if one was taken) goes back to the pool.
                if let Some(client) = self.client.as_mut() {
                    client.finished();
                }
                return Ok(None);
            }
            if self.client.is_none() {
                let mut client = self
                    .database
                    .pool
                    .get()
                    .await
                    .map_err(|e| self.failed.because(e))?;
                // Until its statements are read to their end, the connection is not reusable
                // (a reader dropped meanwhile has its statement cancelled: `pool.rs`).
                client.busy();
                self.client = Some(client);
            }
            if self.queries.is_none() {
                self.queries = Some(self.chunks().await?);
            }
            let failed = self.failed.clone();
            let client = self
                .client
                .as_mut()
                .ok_or_else(|| failed.because("no connection".into()))?;
            let Some(open) = self.open.as_mut() else {
                let Some(read) = self.queries.as_mut().and_then(VecDeque::pop_front) else {
                    client.finished();
                    return Ok(None);
                };
                client.busy();
                self.open = Some(match read {
                    Read::Copy(copy) => Open::Copy(
                        Box::pin(
                            client
                                .copy_out(copy.as_str())
                                .await
                                .map_err(|e| failed.with(&e))?,
                        ),
                        CopyDecoder::new(self.schema.clone(), &self.types),
                    ),
                    Read::Select(select, filter) => {
                        let rows = client.query_typed_raw(&select, filter.typed()).await;
                        Open::Rows(
                            Box::pin(rows.map_err(|e| failed.with(&e))?),
                            RowDecoder::new(self.schema.clone(), &self.types),
                        )
                    }
                    Read::Lookup(select, filter) => {
                        let statement = client
                            .prepare(&select, &filter.types())
                            .await
                            .map_err(|e| failed.with(&e))?;
                        let rows = client.query_raw(&statement, filter.values()).await;
                        Open::Rows(
                            Box::pin(rows.map_err(|e| failed.with(&e))?),
                            RowDecoder::new(self.schema.clone(), &self.types),
                        )
                    }
                });
                continue;
            };
            let read = match open {
                Open::Copy(bytes, decoder) => match bytes.next().await {
                    Some(chunk) => Some(decoder.push(&chunk.map_err(|e| failed.with(&e))?)),
                    None => None,
                },
                Open::Rows(rows, decoder) => match rows.next().await {
                    Some(row) => Some(
                        decoder
                            .push(&row.map_err(|e| failed.with(&e))?)
                            .map(|b| b.into_iter().collect()),
                    ),
                    None => None,
                },
            };
            match read {
                Some(batches) => {
                    self.window.extend(batches.map_err(|e| failed.decode(e))?);
                    if self.window.iter().map(RecordBatch::num_rows).sum::<usize>() as f64 >= CHUNK_ROWS {
                        self.shuffle_window()?;
                    }
                }
                None => {
                    let last = match self.open.take() {
                        Some(Open::Copy(_, decoder)) => decoder.finish(),
                        Some(Open::Rows(_, decoder)) => decoder.finish(),
                        None => Ok(None),
                    };
                    self.window.extend(last.map_err(|e| failed.decode(e))?);
                    client.finished();
                    self.shuffle_window()?;
                }
            }
        }
    }

    fn shuffle_window(&mut self) -> Result<()> {
        let window = std::mem::take(&mut self.window);
        let shuffled =
            files::shuffled(&self.schema, &window).map_err(|e| self.failed.because(e.to_string()))?;
        self.ready.extend(shuffled);
        Ok(())
    }

    /// The statement that reads a filtered scan of few rows: one (the database picks its index
    /// and draws the order), read by the first partition; the others read nothing. `None` for
    /// any other scan.
    fn few(&self) -> Option<VecDeque<Read>> {
        let Some(Filtered::Few(filter)) = &self.filter else {
            return None;
        };
        Some(if self.partition == 0 {
            let select = format!(
                "{} WHERE {} ORDER BY random(){}",
                self.select,
                filter.text,
                self.limit_clause()
            );
            VecDeque::from([Read::Lookup(select, filter.clone())])
        } else {
            VecDeque::new()
        })
    }

    /// ` LIMIT n` when the scan has a limit, else nothing.
    fn limit_clause(&self) -> String {
        self.limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default()
    }

    /// `select` as the statement that reads it: a `SELECT` with the filter's values bound
    /// when the scan is filtered (COPY takes no parameters), else a `COPY`.
    fn read(&self, select: String) -> Read {
        let limit = self.limit_clause();
        match &self.filter {
            Some(Filtered::Few(f) | Filtered::Many(f)) => Read::Select(format!("{select}{limit}"), f.clone()),
            None => Read::Copy(format!("COPY ({select}{limit}) TO STDOUT (FORMAT binary)")),
        }
    }

    /// This partition's statements of a chunked read, filtered if the scan is: every
    /// `partitions`-th range of blocks from this partition's own, in an order drawn now; the
    /// last chunk is open-ended (rows added since the size was read).
    async fn chunks(&mut self) -> Result<VecDeque<Read>> {
        let client = self
            .client
            .as_ref()
            .ok_or_else(|| self.failed.because("no connection".into()))?;
        let rows = client
            .query_typed(
                "SELECT pg_relation_size(c.oid) / current_setting('block_size')::bigint, c.reltuples::float8 \
                 FROM pg_class c WHERE c.oid = to_regclass($1::text)",
                &[(&self.quoted, tokio_postgres::types::Type::TEXT)],
            )
            .await
            .map_err(|e| self.failed.with(&e))?;
        let row = rows
            .first()
            .ok_or_else(|| self.failed.because("the table is gone".into()))?;
        let blocks: i64 = row.get(0);
        let tuples: f64 = row.get(1);
        let blocks = blocks.max(0) as u64;
        let per_chunk = if tuples > 0.0 && blocks > 0 {
            ((CHUNK_ROWS * blocks as f64 / tuples) as u64).max(1)
        } else {
            CHUNK_BLOCKS_UNANALYSED
        };
        let starts: Vec<u64> = (0..blocks.max(1)).step_by(per_chunk as usize).collect();
        let last = starts.len() - 1;
        let mut mine: Vec<Read> = starts
            .iter()
            .enumerate()
            .filter(|(i, _)| i % self.partitions == self.partition)
            .map(|(i, start)| {
                let mut select = format!("{} WHERE ctid >= '({start},0)'::tid", self.select);
                if i != last {
                    select.push_str(&format!(" AND ctid < '({},0)'::tid", start + per_chunk));
                }
                if let Some(Filtered::Many(filter)) = &self.filter {
                    select.push_str(&format!(" AND ({})", filter.text));
                }
                self.read(select)
            })
            .collect();
        files::shuffle(&mut mine);
        Ok(mine.into())
    }
}

/// A statement a partition reads.
enum Read {
    /// `COPY (…) TO STDOUT (FORMAT binary)`: an unfiltered read.
    Copy(String),
    /// A `SELECT` whose filter's values are bound as parameters (COPY takes none).
    Select(String, Arc<SourceSql>),
    /// A `SELECT` of few rows (`Reader::few`): the same text at every execution of a prepared
    /// lookup, so prepared once per connection and then only bound and run (the database plans
    /// an unnamed statement afresh each time: about 0.05 ms of a point lookup).
    Lookup(String, Arc<SourceSql>),
}

/// The statement being read, and its decoder.
enum Open {
    Copy(Pin<Box<tokio_postgres::CopyOutStream>>, CopyDecoder),
    Rows(Pin<Box<tokio_postgres::RowStream>>, RowDecoder),
}

impl ExecutionPlan for PgScanExec {
    fn name(&self) -> &str {
        "PgScanExec"
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

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition >= self.partitions {
            return Err(DataFusionError::Internal(format!(
                "PgScanExec has {} partitions, not {partition}",
                self.partitions
            )));
        }
        Ok(self.stream(partition))
    }
}
