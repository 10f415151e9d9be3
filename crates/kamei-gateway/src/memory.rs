//! Memory limits: one pool for the whole server, and a share of it per statement.
//!
//! DataFusion's pools bound everything that runs in one runtime together; with only that, one
//! large sort could take the memory every other session needs and fail them all. Each
//! statement therefore gets a [`StatementPool`] of its own that stops it at its own limit and
//! draws from the server's pool, so one query fails alone ("resources exhausted") and the
//! server stays up.
//!
//! The pools see what operators reserve, not what an expression allocates for its result:
//! that is bounded in `bounded.rs`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::common::{Result, resources_datafusion_err};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation};

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
