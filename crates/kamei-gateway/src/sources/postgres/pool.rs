//! A bounded pool of connections to one database: at most `max_connections` are open, and a
//! statement that needs one waits for a free one.
//!
//! Where the connections' I/O runs is the opener's choice ([`ConnectionIo`]): on the server's
//! own runtime a round trip wakes no other thread; a runtime of the pool's own (one thread)
//! suits callers whose runtime may end before the pool or lacks I/O or timers. Clients talk to
//! their connection through channels, so they work from any runtime; a connection whose
//! runtime has ended is closed, and is not handed out.
//!
//! A connection given back in the middle of a statement (a client that stopped reading, a
//! `LIMIT` met above the scan) is not reused: its statement is cancelled in the database and
//! the connection closed, and it counts against the bound until it is gone (the database would
//! otherwise run the statement to its end while a new connection took its place).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Config, Statement};

use super::tls::MakeRustls;

/// Where a database source's connections run their I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionIo {
    /// On the runtime that opens the source: it must be multi-threaded, have I/O and timers
    /// enabled, and outlive the source (`kamei serve`'s). A round trip then wakes no other
    /// thread (with two smaller changes, 0.1–0.15 ms of a 0.75 ms point lookup:
    /// bench/RESULTS.md).
    ThisRuntime,
    /// On a runtime of the source's own, one thread (tests and tools).
    OwnRuntime,
}

pub(crate) struct Pool {
    /// The runtime the connections' I/O runs on.
    io: tokio::runtime::Handle,
    /// The pool's own runtime, if it has one: `Some` until the pool is dropped (then shut
    /// down without blocking).
    own: Option<tokio::runtime::Runtime>,
    config: Config,
    tls: MakeRustls,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("free", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Pool {
    pub(crate) fn new(
        config: Config,
        tls: MakeRustls,
        max_connections: usize,
        io: ConnectionIo,
    ) -> std::io::Result<Pool> {
        let (io, own) = match io {
            ConnectionIo::ThisRuntime => (
                tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?,
                None,
            ),
            ConnectionIo::OwnRuntime => {
                let own = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("kamei-postgres")
                    .enable_all()
                    .build()?;
                (own.handle().clone(), Some(own))
            }
        };
        Ok(Pool {
            io,
            own,
            config,
            tls,
            idle: Mutex::default(),
            permits: Arc::new(Semaphore::new(max_connections)),
        })
    }

    /// An idle connection that is still open, or a new one; the error in one line.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Pooled, String> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| "the connection pool is closed".to_owned())?;
        let idle = loop {
            let next = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match next {
                Some(c) if c.client.is_closed() => continue,
                other => break other,
            }
        };
        let connection = match idle {
            Some(c) => c,
            None => {
                let (config, tls) = (self.config.clone(), self.tls.clone());
                let connect = async move {
                    let (client, connection) = config.connect(tls).await?;
                    // The connection's I/O task ends when its client is dropped and the
                    // replies it still awaits are read.
                    let io = tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    Ok::<_, tokio_postgres::Error>((client, io))
                };
                match self.io.spawn(connect).await {
                    Ok(connected) => {
                        let (client, io) = connected.map_err(|e| describe(&e))?;
                        Connection {
                            client: Arc::new(client),
                            io,
                            prepared: HashMap::new(),
                        }
                    }
                    Err(e) => return Err(format!("connecting failed: {e}")),
                }
            }
        };
        Ok(Pooled {
            client: connection.client,
            io: Some(connection.io),
            prepared: connection.prepared,
            reusable: true,
            pool: self.clone(),
            permit: Some(permit),
        })
    }
}

/// An open connection: its client, the task that runs its I/O, and the statements prepared
/// on it.
struct Connection {
    client: Arc<Client>,
    io: tokio::task::JoinHandle<()>,
    prepared: HashMap<String, Statement>,
}

/// Most statements kept prepared on one connection; past that they are all closed and
/// prepared again as needed (a lookup's text depends only on the prepared statement that
/// reads it, so a server's working set is small).
const MAX_PREPARED: usize = 256;

impl Drop for Pool {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which an async context forbids; this does not.
        if let Some(own) = self.own.take() {
            own.shutdown_background();
        }
    }
}

/// How long a connection given back mid-statement may take to be cancelled and closed.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A connection taken from the pool; back to it when dropped, if it is in a state to be reused.
pub(crate) struct Pooled {
    client: Arc<Client>,
    /// The connection's I/O task; `Some` until dropped.
    io: Option<tokio::task::JoinHandle<()>>,
    prepared: HashMap<String, Statement>,
    reusable: bool,
    pool: Arc<Pool>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Pooled {
    /// A statement has started: until it is read to its end, the connection is not reusable.
    pub(crate) fn busy(&mut self) {
        self.reusable = false;
    }

    pub(crate) fn finished(&mut self) {
        self.reusable = true;
    }

    /// `sql` prepared with parameters of `types`, on this connection once.
    pub(crate) async fn prepare(
        &mut self,
        sql: &str,
        types: &[Type],
    ) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare_typed(sql, types).await?;
        if self.prepared.len() >= MAX_PREPARED {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl std::ops::Deref for Pooled {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let (Some(task), Some(permit)) = (self.io.take(), self.permit.take()) else {
            return;
        };
        if self.reusable && !self.client.is_closed() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push(Connection {
                client: self.client.clone(),
                io: task,
                prepared: std::mem::take(&mut self.prepared),
            });
            return;
        }
        // Cancel what it still runs and hold its place in the bound until it is closed (its
        // client, this one, is dropped right after).
        let io = &self.pool.io;
        let cancel = (!self.client.is_closed()).then(|| self.client.cancel_token());
        let tls = self.pool.tls.clone();
        io.spawn(async move {
            if let Some(cancel) = cancel {
                let _ = tokio::time::timeout(CLOSE_WAIT, cancel.cancel_query(tls)).await;
            }
            // A server that neither answers the cancel nor ends the statement does not keep the
            // place for ever: after a while the connection is dropped where it stands.
            let abort = task.abort_handle();
            if tokio::time::timeout(CLOSE_WAIT, task).await.is_err() {
                abort.abort();
            }
            drop(permit);
        });
    }
}

/// A client error in one line: the database's own message and code, or the connection's
/// failure with its cause.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} (SQLSTATE {})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}
