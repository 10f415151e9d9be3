//! A bounded pool of connections to one database: at most `max_connections` are open, and a
//! statement that needs one waits for a free one.
//!
//! The connections' I/O runs on a runtime of the pool's own (one thread), not on whichever
//! runtime first asked for a connection: a connection outlives the statement (and the
//! runtime) that opened it, and a caller's runtime need not have I/O or timers enabled. Clients
//! talk to their connection through channels, so they work from any runtime.
//!
//! A connection given back in the middle of a statement (a client that stopped reading, a
//! `LIMIT` met above the scan) is not reused: its statement is cancelled in the database and
//! the connection closed, and it counts against the bound until it is gone (the database would
//! otherwise run the statement to its end while a new connection took its place).

use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Config};

use super::tls::MakeRustls;

pub(crate) struct Pool {
    /// `Some` until the pool is dropped (then shut down without blocking).
    io: Option<tokio::runtime::Runtime>,
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
    pub(crate) fn new(config: Config, tls: MakeRustls, max_connections: usize) -> std::io::Result<Pool> {
        let io = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kamei-postgres")
            .enable_all()
            .build()?;
        Ok(Pool {
            io: Some(io),
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
                let io = self.io.as_ref().ok_or("the connection pool is closed")?;
                match io.spawn(connect).await {
                    Ok(connected) => {
                        let (client, io) = connected.map_err(|e| describe(&e))?;
                        Connection {
                            client: Arc::new(client),
                            io,
                        }
                    }
                    Err(e) => return Err(format!("connecting failed: {e}")),
                }
            }
        };
        Ok(Pooled {
            client: connection.client,
            io: Some(connection.io),
            reusable: true,
            pool: self.clone(),
            permit: Some(permit),
        })
    }
}

/// An open connection: its client, and the task that runs its I/O.
struct Connection {
    client: Arc<Client>,
    io: tokio::task::JoinHandle<()>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which an async context forbids; this does not.
        if let Some(io) = self.io.take() {
            io.shutdown_background();
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
            });
            return;
        }
        // Cancel what it still runs and hold its place in the bound until it is closed (its
        // client, this one, is dropped right after).
        let Some(io) = self.pool.io.as_ref() else {
            return;
        };
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
