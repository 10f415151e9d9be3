//! A PostgreSQL database as a source: each catalog table is read from the database's table of
//! the same name with `COPY (SELECT <columns> FROM <table> WHERE ctid … [LIMIT n]) TO STDOUT
//! (FORMAT binary)`, or, when filtered, the same `SELECT` with the filter's values bound as
//! parameters (COPY takes none) and its rows in binary; either is decoded into record batches
//! as the bytes arrive (`copy.rs`). Only the columns a query needs are selected, and a `LIMIT`
//! goes down. A filter goes down only in the forms the guard hands over (`source_filter.rs`)
//! and in shapes the database answers exactly as the engine does (`filter.rs`; DESIGN.md
//! "Computation before the guard").
//!
//! Tables are read in shuffled chunks so that row order reveals no key (`scan.rs`).
//!
//! At start every table is checked: it exists, holds every catalog column, and each column's
//! type is one kamei reads and the one the catalog names. Connections come from a bounded pool
//! (`pool.rs`); TLS is rustls, verified against the source's `ca_file` (`tls.rs`).

mod copy;
mod filter;
mod pool;
mod sample;
mod scan;
mod tls;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::TableType;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use futures::StreamExt;
use kamei_core::ColumnType;
use kamei_policy::{CatalogTable, PasswordFrom, PostgresSettings};
use kamei_protect::SubjectDirectory;

pub(crate) use copy::PgType;
use filter::SourceSql;
pub use pool::ConnectionIo;
use pool::Pool;
pub use sample::{SampledTable, sample_database};

/// Rows per chunk a scan reads, shuffles and hands on (`scan.rs`).
const CHUNK_ROWS: f64 = 16_384.0;
/// Blocks per chunk of a table that was never analysed (8 KiB blocks: 1 MiB).
const CHUNK_BLOCKS_UNANALYSED: u64 = 128;

use super::files;
use crate::error::GatewayError;

/// One database: its name in kamei.toml and its pool of connections.
#[derive(Debug)]
pub(crate) struct Database {
    name: String,
    pool: Arc<Pool>,
}

impl Database {
    /// Connects once (so a database that is down, or refuses the credentials, is an error at
    /// start naming the source) and keeps the connection in the pool.
    pub(crate) async fn connect(
        name: &str,
        settings: &PostgresSettings,
        io: ConnectionIo,
    ) -> Result<Database, GatewayError> {
        let fail = |message: String| GatewayError::Database {
            name: name.to_owned(),
            message,
        };
        let mut config: tokio_postgres::Config = settings
            .url
            .parse()
            .map_err(|e| fail(format!("`url` is not a PostgreSQL URL kamei reads: {e}")))?;
        match &settings.password {
            Some(PasswordFrom::Env(var)) => {
                let password = std::env::var(var).map_err(|_| {
                    fail(format!(
                        "`password_env`: the environment variable {var} is not set"
                    ))
                })?;
                config.password(password);
            }
            Some(PasswordFrom::File(path)) => {
                let password = std::fs::read_to_string(path)
                    .map_err(|e| fail(format!("cannot read `password_file` `{}`: {e}", path.display())))?;
                config.password(password.trim_end_matches(['\n', '\r']));
            }
            None => {}
        }
        let tls = match (&settings.ca_file, config.get_ssl_mode()) {
            (Some(ca), _) => tls::MakeRustls::trusting(ca).map_err(fail)?,
            (None, tokio_postgres::config::SslMode::Require) => {
                return Err(fail(
                    "the url asks for TLS (sslmode=require); set `ca_file` to the authority that signed the server's certificate"
                        .to_owned(),
                ));
            }
            (None, _) => {
                config.ssl_mode(tokio_postgres::config::SslMode::Disable);
                tls::MakeRustls::plain()
            }
        };
        config.application_name("kamei");
        config.connect_timeout(std::time::Duration::from_secs(10));
        let pool = Arc::new(
            Pool::new(config, tls, settings.max_connections, io)
                .map_err(|e| fail(format!("cannot start its connections' runtime: {e}")))?,
        );
        let client = pool
            .get()
            .await
            .map_err(|e| fail(format!("cannot connect to {}: {e}", settings.url)))?;
        if logs_parameters(&client).await {
            crate::wire::tracing_line(&format!(
                "source `{name}`: the server logs statements with their bound values (log_statement = 'all' or \
                 log_min_duration_statement set, and log_parameter_max_length not 0; or \
                 log_parameter_max_length_on_error not 0), so lookups' keys reach its log; set both to 0 for \
                 kamei's role (ALTER ROLE … SET, as a superuser)"
            ));
        }
        drop(client);
        Ok(Database {
            name: name.to_owned(),
            pool,
        })
    }
}

/// Whether the server writes statements to its log with their parameters' values.
async fn logs_parameters(client: &tokio_postgres::Client) -> bool {
    let settings = client
        .query_typed(
            "SELECT current_setting('log_statement'), current_setting('log_min_duration_statement'), \
             current_setting('log_parameter_max_length'), current_setting('log_parameter_max_length_on_error')",
            &[],
        )
        .await;
    let Some(row) = settings.ok().and_then(|rows| rows.into_iter().next()) else {
        return false;
    };
    let setting = |i: usize| row.try_get::<_, String>(i).unwrap_or_default();
    let logs_statements = setting(0) == "all" || !setting(1).starts_with('-');
    // A statement kamei cancels (a reader given up on) is logged as an error.
    (logs_statements && setting(2) != "0") || setting(3) != "0"
}

/// One table of a database, as the catalog lists it.
#[derive(Debug)]
pub(crate) struct PgTable {
    database: Arc<Database>,
    /// The table's name, quoted for SQL.
    quoted: String,
    name: String,
    /// The catalog's columns, in catalog order, with the types the database holds.
    schema: SchemaRef,
    types: Vec<PgType>,
    /// The columns whose type the database compares as the engine does (`filter.rs`).
    comparable: HashSet<String>,
    /// Columns a unique index (of that column alone, on every row) holds: an equality on one
    /// matches at most one row.
    unique: HashSet<String>,
}

impl PgTable {
    /// Finds the table and checks its columns against the catalog.
    pub(crate) async fn open(database: Arc<Database>, table: &CatalogTable) -> Result<PgTable, GatewayError> {
        let fail = |message: String| GatewayError::Source {
            table: table.name.clone(),
            message: format!("source `{}`: {message}", database.name),
        };
        let quoted = quote(&table.name);
        let client = database.pool.get().await.map_err(fail)?;
        let rows = columns_of(&client, &quoted)
            .await
            .map_err(|e| fail(pool::describe(&e)))?;
        if rows.is_empty() {
            return Err(fail(format!(
                "the database has no table `{}`; create it, or point the catalog table at another source",
                table.name
            )));
        }
        let kind = client
            .query_one(
                "SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1::text)",
                &[&quoted],
            )
            .await
            .map_err(|e| fail(pool::describe(&e)))?;
        let kind: String = kind.get(0);
        if kind != "r" && kind != "m" {
            return Err(fail(format!(
                "`{}` is not a table or materialized view (pg_class.relkind {kind}); kamei reads tables, \
                 in chunks of blocks so that row order reveals no key",
                table.name
            )));
        }
        let mut fields = Vec::new();
        let mut types = Vec::new();
        let mut comparable = HashSet::new();
        for column in &table.columns {
            let Some(row) = rows.iter().find(|r| r.get::<_, String>(0) == column.name) else {
                return Err(fail(format!("the table has no column `{}`", column.name)));
            };
            let oid: u32 = row.get(1);
            let not_null: bool = row.get(2);
            let shown: String = row.get(3);
            let Some(ty) = PgType::from_oid(oid) else {
                return Err(fail(format!(
                    "column `{}` is of type {shown}, which kamei does not read; change it or leave \
                     the column out of the catalog (bigint, integer, double precision, boolean, text, date and timestamp are read)",
                    column.name
                )));
            };
            if let Some(expected) = column.data_type
                && !holds(expected, ty)
            {
                return Err(fail(format!(
                    "column `{}` is of type {shown} and the catalog says {expected}; make them agree",
                    column.name
                )));
            }
            fields.push(Field::new(&column.name, ty.arrow(), !not_null));
            types.push(ty);
            if filter::comparable(oid) {
                comparable.insert(column.name.clone());
            }
        }
        let unique = client
            .query_typed(
                "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a \
                 ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                 WHERE i.indrelid = to_regclass($1::text) AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1 \
                 AND i.indpred IS NULL AND i.indexprs IS NULL",
                &[(&quoted, tokio_postgres::types::Type::TEXT)],
            )
            .await
            .map_err(|e| fail(pool::describe(&e)))?
            .iter()
            .filter_map(|row| row.try_get::<_, String>(0).ok())
            .collect();
        Ok(PgTable {
            database,
            quoted,
            name: table.name.clone(),
            schema: Arc::new(Schema::new(fields)),
            types,
            comparable,
            unique,
        })
    }

    /// The subject directory from this table's key and jurisdiction columns, read once.
    pub(crate) async fn directory(
        &self,
        key: &str,
        jurisdiction: &str,
    ) -> Result<SubjectDirectory, GatewayError> {
        let fail = |message: String| GatewayError::Source {
            table: self.name.clone(),
            message: format!(
                "source `{}`: reading the subject directory: {message}",
                self.database.name
            ),
        };
        let columns: Vec<usize> = [key, jurisdiction]
            .iter()
            .map(|c| {
                self.schema
                    .index_of(c)
                    .map_err(|_| fail(format!("no column `{c}`")))
            })
            .collect::<Result<_, _>>()?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let scan = self.scan_exec(&columns, None, None, cores);
        let mut directory = SubjectDirectory::new();
        for partition in 0..scan.partitions {
            let mut stream = scan.stream(partition);
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(|e| fail(e.to_string()))?;
                directory
                    .add(&batch, key, jurisdiction)
                    .map_err(|e| fail(e.to_string()))?;
            }
        }
        Ok(directory)
    }
}

/// A table's columns, in order: name, type OID, NOT NULL, the type as PostgreSQL writes it.
async fn columns_of(
    client: &tokio_postgres::Client,
    quoted: &str,
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    client
        .query(
            "SELECT a.attname::text, a.atttypid::oid, a.attnotnull, format_type(a.atttypid, a.atttypmod) \
             FROM pg_attribute a WHERE a.attrelid = to_regclass($1::text) AND a.attnum > 0 \
             AND NOT a.attisdropped ORDER BY a.attnum",
            &[&quoted],
        )
        .await
}

/// Whether a column of catalog type `expected` may be held in `ty`.
fn holds(expected: ColumnType, ty: PgType) -> bool {
    matches!(
        (expected, ty),
        (ColumnType::Bigint, PgType::Int8)
            | (ColumnType::Integer, PgType::Int4)
            | (ColumnType::Double, PgType::Float8)
            | (ColumnType::Boolean, PgType::Bool)
            | (ColumnType::Text, PgType::Text)
            | (ColumnType::Date, PgType::Date)
            | (ColumnType::Timestamp, PgType::Timestamp)
    )
}

/// An SQL identifier, quoted.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[async_trait::async_trait]
impl TableProvider for PgTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Every filter is taken, and those `filter.rs` can render applied (`Inexact`: the guard
    /// and the engine apply each again).
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<datafusion::logical_expr::TableProviderFilterPushDown>> {
        Ok(vec![
            datafusion::logical_expr::TableProviderFilterPushDown::Inexact;
            filters.len()
        ])
    }

    /// Projection and limit go down, and the filters `filter.rs` can render (the guard passes
    /// only filters on columns it leaves unchanged, and applies every filter again itself).
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let all: Vec<usize> = (0..self.schema.fields().len()).collect();
        let columns = projection.unwrap_or(&all);
        let filter = match SourceSql::render_all(filters, &self.comparable) {
            // A lookup of a unique key matches a few rows at most: no need to ask.
            Some(sql) if filters.iter().any(|f| self.keys_of_unique(f)) => Some(Filtered::Few(Arc::new(sql))),
            Some(sql) => Some(self.filtered(columns, sql).await?),
            None => None,
        };
        let partitions = state.config().target_partitions();
        Ok(Arc::new(self.scan_exec(columns, filter, limit, partitions)))
    }
}

/// How a scan's filter is read, decided once when the scan is planned (every partition must
/// read the same way) from the database's own estimate of the rows it matches.
#[derive(Debug, Clone)]
enum Filtered {
    /// At most a chunk's worth and at most half the table (as the database estimates, or a
    /// lookup of a unique key): one statement in random order, read by the first partition.
    Few(Arc<SourceSql>),
    /// More (an index would not help): the chunked read, each chunk filtered.
    Many(Arc<SourceSql>),
}

impl PgTable {
    /// Whether `filter` is `column = value` or `column IN (values)` on a column a unique index
    /// holds, and goes down whole: it matches at most as many rows as values, and `filter.rs`
    /// renders lists of at most 1,000, fewer than a chunk.
    fn keys_of_unique(&self, filter: &Expr) -> bool {
        let column = match filter {
            Expr::BinaryExpr(b) if b.op == datafusion::logical_expr::Operator::Eq => {
                match (b.left.as_ref(), b.right.as_ref()) {
                    (Expr::Column(c), Expr::Literal(..)) | (Expr::Literal(..), Expr::Column(c)) => c,
                    _ => return false,
                }
            }
            Expr::InList(list) if !list.negated => match list.expr.as_ref() {
                Expr::Column(c) => c,
                _ => return false,
            },
            _ => return false,
        };
        self.unique.contains(&column.name)
            && SourceSql::render_all(std::slice::from_ref(filter), &self.comparable).is_some()
    }

    async fn filtered(&self, columns: &[usize], filter: SourceSql) -> Result<Filtered> {
        let failed = SourceFailed::at(&self.database.name, &self.name);
        let names: Vec<String> = columns
            .iter()
            .filter_map(|i| self.schema.fields().get(*i))
            .map(|f| quote(f.name()))
            .collect();
        let mut client = self.database.pool.get().await.map_err(|e| failed.because(e))?;
        client.busy();
        let explain = format!(
            "EXPLAIN (FORMAT JSON) SELECT {} FROM {} WHERE {}",
            names.join(", "),
            self.quoted,
            filter.text
        );
        // Both questions at once, each one round trip (no separate Parse): the client
        // pipelines them on the one connection.
        let params = filter.typed();
        let table: [(&(dyn tokio_postgres::types::ToSql + Sync), _); 1] =
            [(&self.quoted, tokio_postgres::types::Type::TEXT)];
        let (plan, size) = futures::try_join!(
            client.query_typed(&explain, &params),
            client.query_typed(
                "SELECT reltuples::float8 FROM pg_class WHERE oid = to_regclass($1::text)",
                &table
            ),
        )
        .map_err(|e| failed.with(&e))?;
        client.finished();
        let matched = plan
            .first()
            .and_then(|row| row.try_get::<_, copy::Field>(0).ok())
            .and_then(|plan| estimated_rows(std::str::from_utf8(plan.0).ok()?));
        // reltuples is -1 until the table is first analysed: then only the chunk bound holds.
        let table = size
            .first()
            .and_then(|row| row.try_get::<_, f64>(0).ok())
            .filter(|t| *t >= 0.0);
        let filter = Arc::new(filter);
        Ok(match matched {
            Some(rows) if rows <= CHUNK_ROWS && table.is_none_or(|t| rows <= t / 2.0) => {
                Filtered::Few(filter)
            }
            _ => Filtered::Many(filter),
        })
    }
}

/// The rows the top node of an `EXPLAIN (FORMAT JSON)` plan expects (its first `Plan Rows`).
fn estimated_rows(plan: &str) -> Option<f64> {
    let (_, rest) = plan.split_once("\"Plan Rows\":")?;
    let number: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number.parse().ok()
}

/// A source that failed while a statement read it: the error names the source and table, and
/// what went wrong in the database or on the way, never a value.
#[derive(Debug, Clone)]
pub(crate) struct SourceFailed {
    source: String,
    table: String,
    cause: String,
}

impl SourceFailed {
    fn at(source: &str, table: &str) -> SourceFailed {
        SourceFailed {
            source: source.to_owned(),
            table: table.to_owned(),
            cause: String::new(),
        }
    }

    fn with(&self, e: &tokio_postgres::Error) -> DataFusionError {
        self.because(pool::describe(e))
    }

    fn decode(&self, e: copy::DecodeError) -> DataFusionError {
        self.because(e.to_string())
    }

    fn because(&self, cause: String) -> DataFusionError {
        DataFusionError::External(Box::new(SourceFailed {
            cause,
            ..self.clone()
        }))
    }
}

impl SourceFailed {
    /// As the gateway reports it; the cause scrubbed of anything that could be a value.
    pub(crate) fn to_error(&self) -> crate::error::GatewayError {
        crate::error::GatewayError::SourceFailed {
            source_name: self.source.clone(),
            table: self.table.clone(),
            cause: crate::error::scrub(&self.cause),
        }
    }
}

impl fmt::Display for SourceFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "source `{}` failed while reading table `{}`: {}",
            self.source, self.table, self.cause
        )
    }
}

impl std::error::Error for SourceFailed {}

#[cfg(test)]
mod tests {
    use super::estimated_rows;

    #[test]
    fn the_top_nodes_estimate_is_read_from_an_explain() {
        let plan = r#"[{"Plan": {"Node Type": "Sort", "Startup Cost": 1.5, "Plan Rows": 1200, "Plan Width": 8,
            "Plans": [{"Node Type": "Seq Scan", "Plan Rows": 1200.5}]}}]"#;
        assert_eq!(estimated_rows(plan), Some(1200.0));
        assert_eq!(estimated_rows(r#"[{"Plan": {}}]"#), None);
    }
}
