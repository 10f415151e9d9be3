//! Memory limits: one pool for the whole server, and a share of it per statement.
//!
//! DataFusion's pools bound everything that runs in one runtime together; with only that, one
//! large sort could take the memory every other session needs and fail them all. Each
//! statement therefore gets a [`StatementPool`] of its own that stops it at its own limit and
//! draws from the server's pool, so one query fails alone ("resources exhausted") and the
//! server stays up.
//!
//! The pools see what operators reserve, not what a function allocates for its result: a
//! reviewer's `repeat(phone, 3000000)` asked for 60 GB at once and the allocator aborted the
//! server. The functions whose result can be far larger than their arguments are therefore
//! wrapped ([`Bounded`]) to refuse, before allocating, a call that would produce more than
//! [`MAX_FUNCTION_OUTPUT`] for one batch.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, ScalarValue, resources_datafusion_err};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature};

/// Most bytes one call of a [`Bounded`] function may produce for one batch.
pub(crate) const MAX_FUNCTION_OUTPUT: u64 = 64 << 20;

/// The functions whose output is a count times their input: `repeat(text, n)`, and
/// `lpad`/`rpad(text, n)` (n characters of up to four bytes).
pub(crate) const EXPANDING_FUNCTIONS: &[&str] = &["repeat", "lpad", "rpad"];

/// How much memory statements' operators (sorts, joins, aggregates) may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimits {
    /// All running statements together.
    pub server: usize,
    /// One statement.
    pub statement: usize,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            server: 1024 << 20,
            statement: 512 << 20,
        }
    }
}

/// One statement's pool: its own limit, drawn from the server's pool.
#[derive(Debug)]
pub(crate) struct StatementPool {
    server: Arc<dyn MemoryPool>,
    limit: usize,
    used: AtomicUsize,
}

impl StatementPool {
    pub(crate) fn new(server: Arc<dyn MemoryPool>, limit: usize) -> StatementPool {
        StatementPool {
            server,
            limit,
            used: AtomicUsize::new(0),
        }
    }
}

impl fmt::Display for StatementPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "statement pool ({} of {} bytes)", self.reserved(), self.limit)
    }
}

impl MemoryPool for StatementPool {
    fn name(&self) -> &str {
        "kamei-statement"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.server.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.server.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.used.fetch_add(additional, Ordering::Relaxed);
        self.server.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.used.fetch_sub(shrink, Ordering::Relaxed);
        self.server.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(additional).filter(|total| *total <= self.limit)
            })
            .map_err(|used| {
                resources_datafusion_err!(
                    "the statement needs more than its memory limit of {} MiB ({} MiB held, {} more asked for)",
                    self.limit >> 20,
                    used >> 20,
                    additional.div_ceil(1 << 20)
                )
            })?;
        self.server.try_grow(reservation, additional).inspect_err(|_| {
            self.used.fetch_sub(additional, Ordering::Relaxed);
        })
    }

    fn reserved(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit)
    }
}

/// An expanding function that first checks how much its call would produce.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Bounded {
    inner: Arc<ScalarUDF>,
}

impl Bounded {
    pub(crate) fn new(inner: Arc<ScalarUDF>) -> Bounded {
        Bounded { inner }
    }
}

impl ScalarUDFImpl for Bounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        self.inner.return_type(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let bytes = output_bound(self.name(), &args.args, args.number_rows)?;
        if bytes > MAX_FUNCTION_OUTPUT {
            return Err(resources_datafusion_err!(
                "`{}` would produce about {} MiB for {} rows; at most {} MiB are allowed per batch",
                self.name(),
                bytes >> 20,
                args.number_rows,
                MAX_FUNCTION_OUTPUT >> 20
            ));
        }
        self.inner.invoke_with_args(args)
    }
}

/// An upper bound of the bytes `repeat`, `lpad` or `rpad` produce for `rows` rows, computed
/// without expanding a scalar argument to an array.
fn output_bound(name: &str, args: &[ColumnarValue], rows: usize) -> Result<u64> {
    let (Some(text), Some(count)) = (args.first(), args.get(1)) else {
        return Ok(0);
    };
    let text_len = |i: usize| -> u64 {
        match text {
            ColumnarValue::Scalar(s) => scalar_len(s),
            ColumnarValue::Array(a) if a.is_valid(i) => match a.data_type() {
                DataType::Utf8 => a.as_string::<i32>().value(i).len() as u64,
                DataType::LargeUtf8 => a.as_string::<i64>().value(i).len() as u64,
                DataType::Utf8View => a.as_string_view().value(i).len() as u64,
                _ => 0,
            },
            ColumnarValue::Array(_) => 0,
        }
    };
    let per_row = |i: usize, n: i64| -> u64 {
        let n = u64::try_from(n).unwrap_or(0);
        if name == "repeat" {
            text_len(i).saturating_mul(n)
        } else {
            n.saturating_mul(4).max(text_len(i))
        }
    };
    let total = match count {
        ColumnarValue::Scalar(s) => {
            let n = match s.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(n)) => n,
                _ => 0,
            };
            match text {
                ColumnarValue::Scalar(_) => per_row(0, n).saturating_mul(rows as u64),
                ColumnarValue::Array(_) => (0..rows).fold(0u64, |sum, i| sum.saturating_add(per_row(i, n))),
            }
        }
        ColumnarValue::Array(a) => {
            let counts = cast(a, &DataType::Int64)?;
            let counts = counts.as_primitive::<Int64Type>();
            (0..counts.len())
                .filter(|i| counts.is_valid(*i))
                .fold(0u64, |sum, i| sum.saturating_add(per_row(i, counts.value(i))))
        }
    };
    Ok(total)
}

fn scalar_len(s: &ScalarValue) -> u64 {
    match s {
        ScalarValue::Utf8(Some(v)) | ScalarValue::LargeUtf8(Some(v)) | ScalarValue::Utf8View(Some(v)) => {
            v.len() as u64
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::memory_pool::GreedyMemoryPool;

    fn pools(server: usize, statement: usize) -> (Arc<dyn MemoryPool>, Arc<dyn MemoryPool>) {
        let server: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(server));
        let statement: Arc<dyn MemoryPool> = Arc::new(StatementPool::new(server.clone(), statement));
        (server, statement)
    }

    #[test]
    fn a_statement_stops_at_its_own_limit_and_gives_back_what_it_held() {
        let (server, statement) = pools(1000, 100);
        let r = MemoryConsumer::new("sort").register(&statement);
        r.try_grow(60).unwrap();
        let err = r.try_grow(50).unwrap_err().to_string();
        assert!(err.contains("memory limit"), "{err}");
        assert_eq!((statement.reserved(), server.reserved()), (60, 60));
        r.try_grow(40).unwrap();
        drop(r);
        assert_eq!((statement.reserved(), server.reserved()), (0, 0));
    }

    #[test]
    fn statements_together_stop_at_the_servers_limit() {
        let server: Arc<dyn MemoryPool> = Arc::new(GreedyMemoryPool::new(150));
        let a: Arc<dyn MemoryPool> = Arc::new(StatementPool::new(server.clone(), 100));
        let b: Arc<dyn MemoryPool> = Arc::new(StatementPool::new(server.clone(), 100));
        let ra = MemoryConsumer::new("a").register(&a);
        let rb = MemoryConsumer::new("b").register(&b);
        ra.try_grow(100).unwrap();
        assert!(rb.try_grow(60).is_err());
        assert_eq!(b.reserved(), 0, "a refused grow is not counted");
        rb.try_grow(50).unwrap();
        assert_eq!(server.reserved(), 150);
    }
}
