//! Rows of every table of a database, for `kamei scan postgres://…` to propose a catalog from:
//! read through the same connections, decoder and shuffled chunks as a served table, so a
//! sample comes from all over the table, not only its oldest rows.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema};
use futures::StreamExt;
use kamei_policy::PostgresSettings;

use super::{ConnectionIo, Database, PgTable, PgType, columns_of, pool, quote};
use crate::error::GatewayError;

/// One table's sample.
#[derive(Debug)]
pub struct SampledTable {
    pub name: String,
    pub batches: Vec<RecordBatch>,
    /// Columns left out, with their type as PostgreSQL writes it: types kamei does not read.
    pub skipped: Vec<(String, String)>,
}

/// Up to `rows` rows of every table and materialized view in the database's current schema,
/// in name order.
pub async fn sample_database(
    settings: &PostgresSettings,
    rows: usize,
) -> Result<Vec<SampledTable>, GatewayError> {
    let database = Arc::new(Database::connect("scan", settings, ConnectionIo::OwnRuntime).await?);
    let fail = |message: String| GatewayError::Database {
        name: "scan".into(),
        message,
    };
    let client = database.pool.get().await.map_err(fail)?;
    let names: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_class c \
             WHERE c.relnamespace = to_regnamespace(current_schema())::oid AND c.relkind IN ('r', 'm') \
             ORDER BY 1",
            &[],
        )
        .await
        .map_err(|e| fail(pool::describe(&e)))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut sampled = Vec::new();
    for name in names {
        let quoted = quote(&name);
        let mut fields = Vec::new();
        let mut types = Vec::new();
        let mut skipped = Vec::new();
        for row in columns_of(&client, &quoted)
            .await
            .map_err(|e| fail(pool::describe(&e)))?
        {
            let (column, oid, not_null, shown): (String, u32, bool, String) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            match PgType::from_oid(oid) {
                Some(ty) => {
                    fields.push(Field::new(&column, ty.arrow(), !not_null));
                    types.push(ty);
                }
                None => skipped.push((column, shown)),
            }
        }
        if fields.is_empty() {
            sampled.push(SampledTable {
                name,
                batches: Vec::new(),
                skipped,
            });
            continue;
        }
        let table = PgTable {
            database: database.clone(),
            quoted,
            name: name.clone(),
            schema: Arc::new(Schema::new(fields)),
            types,
            comparable: HashSet::new(),
            unique: HashSet::new(),
        };
        let all: Vec<usize> = (0..table.schema.fields().len()).collect();
        let scan = table.scan_exec(&all, None, Some(rows), 1);
        let mut batches = Vec::new();
        let mut read = 0;
        'partitions: for partition in 0..scan.partitions {
            let mut stream = scan.stream(partition);
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(|e| fail(e.to_string()))?;
                read += batch.num_rows();
                batches.push(batch);
                if read >= rows {
                    break 'partitions;
                }
            }
        }
        sampled.push(SampledTable {
            name,
            batches,
            skipped,
        });
    }
    Ok(sampled)
}
