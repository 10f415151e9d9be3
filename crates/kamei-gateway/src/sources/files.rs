//! A source of files: the Parquet files `kamei generate` writes, held in memory, rows shuffled.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatchReader;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use kamei_policy::Config;
use kamei_protect::SubjectDirectory;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::GatewayError;

/// A table in memory, and the subject directory when it is the catalog's directory table.
pub(super) type Loaded = (Arc<dyn TableProvider>, Option<Arc<SubjectDirectory>>);

/// Reads `DIR/<table>.parquet` into memory.
pub(super) fn load_table(config: &Config, name: &str, dir: &Path) -> Result<Loaded, GatewayError> {
    let path = dir.join(format!("{name}.parquet"));
    let source = |message: String| GatewayError::Source {
        table: name.to_owned(),
        message,
    };
    let file = File::open(&path).map_err(|e| source(format!("cannot open `{}`: {e}", path.display())))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|_| source(format!("`{}` is not a readable Parquet file", path.display())))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| source(format!("`{}`: corrupt Parquet data", path.display())))?;
    let mut directory = None;
    if let Some((table, key, jurisdiction)) = config.catalog().directory_table()
        && table.name == name
    {
        let mut d = SubjectDirectory::new();
        for b in &batches {
            d.add(b, key, jurisdiction).map_err(|e| source(e.to_string()))?;
        }
        directory = Some(Arc::new(d));
    }
    let batches = shuffled(&schema, &batches).map_err(|e| source(e.to_string()))?;
    // One partition per core: a full scan applies the levels on every core at once.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut partitions = vec![Vec::new(); cores];
    for (i, b) in batches.into_iter().enumerate() {
        if let Some(p) = partitions.get_mut(i % cores) {
            p.push(b);
        }
    }
    let provider = MemTable::try_new(schema, partitions).map_err(|e| source(e.to_string()))?;
    Ok((Arc::new(provider), directory))
}

/// Rows in an order of their own, drawn at each start. Files are usually written in key
/// order, and row order leaves the guard untouched: `row_number() OVER ()` next to a
/// pseudonymised key would give the raw key back.
pub(super) fn shuffled(
    schema: &datafusion::arrow::datatypes::SchemaRef,
    batches: &[datafusion::arrow::array::RecordBatch],
) -> Result<Vec<datafusion::arrow::array::RecordBatch>, datafusion::arrow::error::ArrowError> {
    use datafusion::arrow::array::UInt32Array;
    let all = datafusion::arrow::compute::concat_batches(schema, batches)?;
    let n = all.num_rows();
    let mut order: Vec<u32> = (0..n as u32).collect();
    shuffle(&mut order);
    let all = datafusion::arrow::compute::take_record_batch(&all, &UInt32Array::from(order))?;
    const BATCH: usize = 8192;
    Ok((0..n)
        .step_by(BATCH)
        .map(|start| all.slice(start, BATCH.min(n - start)))
        .collect())
}

/// A uniformly random order (Fisher–Yates), its randomness read from the OS in one call rather
/// than one per item (a system call per row cost more than the shuffle).
pub(super) fn shuffle<T>(items: &mut [T]) {
    use rand_core::RngCore;
    let mut random = vec![0u8; 8 * items.len()];
    rand_core::OsRng.fill_bytes(&mut random);
    let draws = random.chunks_exact(8).map(|b| {
        let mut word = [0u8; 8];
        word.copy_from_slice(b);
        u64::from_le_bytes(word)
    });
    for (i, draw) in (1..items.len()).rev().zip(draws) {
        let j = (draw % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::shuffle;

    #[test]
    fn every_order_of_three_is_drawn_about_as_often() {
        let mut seen = std::collections::HashMap::new();
        for _ in 0..6000 {
            let mut items = [0, 1, 2];
            shuffle(&mut items);
            *seen.entry(items).or_insert(0) += 1;
        }
        // 1,000 expected each; 800..1200 is more than six standard deviations wide.
        assert_eq!(seen.len(), 6, "{seen:?}");
        assert!(seen.values().all(|n| (800..1200).contains(n)), "{seen:?}");
    }
}
