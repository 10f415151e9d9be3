//! The PostgreSQL wire protocol in front of guarded sessions (pgwire 0.42).
//!
//! One [`Connection`] per socket holds the authenticated principal's session, its settings and
//! the cancel token of the statement running; nothing is shared between connections but the
//! gateway (configuration, sources, keys) and the audit log.

mod auth;
mod encode;
mod query;
mod stream;
mod text;

pub(crate) use encode::pg_type;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use pgwire::api::PgWireServerHandlers;
use pgwire::error::{ErrorInfo, PgWireError};
use pgwire::messages::startup::SecretKey;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::audit::Audit;
use crate::error::GatewayError;
use crate::session::{Gateway, GuardedSession};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// TLS, when a certificate is configured.
    pub tls: Option<Tls>,
    /// Refuse clients that did not negotiate TLS (no silent plaintext).
    pub require_tls: bool,
    /// Most connections at once; more wait for a free slot at the TCP level.
    pub max_connections: usize,
    /// Rows a result may hold before it is streamed under an opening and a closing record.
    pub buffer_rows: usize,
    /// How long running statements may go on after SIGTERM before they are cancelled.
    pub grace: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            tls: None,
            require_tls: false,
            max_connections: 256,
            buffer_rows: 8192,
            grace: Duration::from_secs(10),
        }
    }
}

/// A loaded certificate and key.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    /// The certificate chain (PEM), for SCRAM channel binding.
    cert_pem: Vec<u8>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

impl Tls {
    /// Loads a PEM certificate chain and private key.
    pub fn load(cert: &Path, key: &Path) -> Result<Tls, GatewayError> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let bad = |what: &Path, e: &dyn std::fmt::Display| {
            GatewayError::Refused(format!("TLS: cannot load `{}`: {e}", what.display()))
        };
        let cert_pem = std::fs::read(cert).map_err(|e| bad(cert, &e))?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(cert, &e))?;
        if chain.is_empty() {
            return Err(bad(cert, &"no certificate in the file"));
        }
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
        // ring is the only provider compiled in, so the builder's default is ring.
        let mut config = tokio_rustls::rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| bad(key, &e))?;
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            cert_pem,
        })
    }
}

/// What every connection shares.
pub(crate) struct Shared {
    /// The configuration in force and its generation (one more per reload).
    gateway: RwLock<(u64, Arc<Gateway>)>,
    audit: Audit,
    options: ServerOptions,
    /// Running connections by backend pid, for cancel requests.
    cancels: Mutex<HashMap<i32, (SecretKey, Arc<Connection>)>>,
    /// A per-server secret from which unknown users get a fake SCRAM salt (no enumeration).
    secret: [u8; 32],
    /// Cancelled when the server stops: running statements end.
    stopping: CancellationToken,
}

impl Shared {
    /// The configuration logins and statements use now.
    fn gateway(&self) -> Arc<Gateway> {
        self.current().1
    }

    fn current(&self) -> (u64, Arc<Gateway>) {
        self.gateway.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The generation of the configuration in force (one more per reload).
    fn generation(&self) -> u64 {
        self.gateway.read().unwrap_or_else(|p| p.into_inner()).0
    }
}

/// The gateway's PostgreSQL server.
#[derive(Clone)]
pub struct Server {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Server")
    }
}

impl Server {
    pub fn new(gateway: Gateway, audit: Audit, options: ServerOptions) -> Server {
        // A fresh secret per start: an unknown user's exchange looks like a wrong password's.
        let mut secret = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
        Server {
            shared: Arc::new(Shared {
                gateway: RwLock::new((0, Arc::new(gateway))),
                audit,
                options,
                cancels: Mutex::new(HashMap::new()),
                secret,
                stopping: CancellationToken::new(),
            }),
        }
    }

    /// Appends a `configure` record naming the policies in force (at start, so the log says
    /// which configuration decided what follows).
    pub async fn record_configuration(&self, event: &str) -> Result<u64, GatewayError> {
        let gateway = self.shared.gateway();
        self.shared.audit.configured(gateway.config(), event).await
    }

    /// Swaps in a new gateway (a reloaded configuration) for every statement from now on:
    /// each connection opens its session again (a principal removed from the configuration
    /// can run nothing more) and plans its prepared statements again before their next run.
    /// The reload is recorded first; if the log cannot take it, nothing changes.
    pub async fn reload(&self, gateway: Gateway) -> Result<u64, GatewayError> {
        let index = self.shared.audit.configured(gateway.config(), "reload").await?;
        let mut current = self.shared.gateway.write().unwrap_or_else(|p| p.into_inner());
        *current = (current.0 + 1, Arc::new(gateway));
        Ok(index)
    }

    /// The gateway in force.
    pub fn gateway(&self) -> Arc<Gateway> {
        self.shared.gateway()
    }

    /// Accepts connections until `shutdown` is cancelled, then lets running statements finish
    /// for the grace period, cancels the rest and returns.
    pub async fn serve(&self, listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
        let slots = Arc::new(Semaphore::new(self.shared.options.max_connections));
        let mut running = tokio::task::JoinSet::new();
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => break,
                p = slots.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            };
            let (socket, peer) = tokio::select! {
                _ = shutdown.cancelled() => break,
                a = listener.accept() => match a {
                    Ok(a) => a,
                    Err(e) => {
                        tracing_line(&format!("accept failed: {e}"));
                        continue;
                    }
                },
            };
            let _ = socket.set_nodelay(true);
            let handlers = Arc::new(Handlers {
                conn: Arc::new(Connection::new(self.shared.clone(), peer)),
            });
            let tls = self.shared.options.tls.as_ref().map(|t| t.acceptor.clone());
            let shared = self.shared.clone();
            running.spawn(async move {
                let conn = handlers.conn.clone();
                let _ = pgwire::tokio::process_socket(socket, tls, handlers).await;
                conn.unregister();
                drop(shared);
                drop(permit);
            });
            while running.try_join_next().is_some() {}
        }
        drop(listener);
        let grace = tokio::time::sleep(self.shared.options.grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                next = running.join_next() => if next.is_none() { break },
                _ = &mut grace => {
                    self.shared.stopping.cancel();
                    break;
                }
            }
        }
        // Statements cancelled above write their closing records; give them a moment.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while running.join_next().await.is_some() {}
        })
        .await;
        running.abort_all();
        Ok(())
    }
}

/// One line to stderr for the operator (never a value: callers pass errors and addresses).
pub(crate) fn tracing_line(line: &str) {
    eprintln!("kamei serve: {line}");
}

/// One client connection.
pub(crate) struct Connection {
    shared: Arc<Shared>,
    peer: SocketAddr,
    /// The session, opened under the configuration generation it names.
    session: Mutex<Option<(u64, Arc<GuardedSession>)>>,
    /// Settings the client changed (lower-cased names).
    settings: Mutex<BTreeMap<String, String>>,
    /// The token of the statement running now.
    current: Mutex<CancellationToken>,
    pid: Mutex<Option<i32>>,
}

impl Connection {
    fn new(shared: Arc<Shared>, peer: SocketAddr) -> Connection {
        Connection {
            shared,
            peer,
            session: Mutex::new(None),
            settings: Mutex::new(BTreeMap::new()),
            current: Mutex::new(CancellationToken::new()),
            pid: Mutex::new(None),
        }
    }

    /// Opens the principal's session under the configuration in force.
    fn open_session(&self, principal: &str) -> Result<Arc<GuardedSession>, GatewayError> {
        let (generation, gateway) = self.shared.current();
        let session = Arc::new(gateway.session(principal)?);
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, session.clone()));
        Ok(session)
    }

    /// The configuration generation the connection's session was opened under.
    fn session_generation(&self) -> u64 {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map_or(0, |(generation, _)| *generation)
    }

    /// The session for the next statement: opened again if the configuration was reloaded
    /// since, so a changed policy applies to running connections too.
    fn session(&self) -> Result<Arc<GuardedSession>, PgWireError> {
        let (generation, session) = self
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| user_error("08P01", "not authenticated"))?;
        if generation == self.shared.generation() {
            return Ok(session);
        }
        let principal = &session.who().principal;
        self.open_session(principal).map_err(|e| {
            user_error(
                "28000",
                &format!("the configuration was reloaded and `{principal}` has no session under it: {e}"),
            )
        })
    }

    /// The session the connection last had, whatever the configuration in force.
    fn last_session(&self) -> Option<Arc<GuardedSession>> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(_, session)| session.clone())
    }

    /// A fresh token for the next statement: cancelled by a cancel request or server stop.
    fn start_statement(&self) -> CancellationToken {
        let token = self.shared.stopping.child_token();
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = token.clone();
        token
    }

    fn cancel_current(&self) {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).cancel();
    }

    fn setting(&self, name: &str) -> Option<String> {
        self.settings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    fn register(self: &Arc<Self>, pid: i32, key: SecretKey) {
        *self.pid.lock().unwrap_or_else(|p| p.into_inner()) = Some(pid);
        self.shared
            .cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pid, (key, self.clone()));
    }

    fn unregister(&self) {
        if let Some(pid) = *self.pid.lock().unwrap_or_else(|p| p.into_inner()) {
            self.shared
                .cancels
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&pid);
        }
        self.cancel_current();
    }
}

/// The per-connection handlers pgwire asks for.
pub(crate) struct Handlers {
    conn: Arc<Connection>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        Arc::new(query::Queries::new(self.conn.clone()))
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        Arc::new(query::Queries::new(self.conn.clone()))
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        Arc::new(auth::Startup::new(self.conn.clone()))
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        Arc::new(Cancels {
            shared: self.conn.shared.clone(),
        })
    }
}

/// Cancel requests arrive on a socket of their own, unauthenticated: the pid and secret key
/// the connection was given are the proof.
struct Cancels {
    shared: Arc<Shared>,
}

#[async_trait::async_trait]
impl pgwire::api::cancel::CancelHandler for Cancels {
    async fn on_cancel_request(&self, request: pgwire::messages::cancel::CancelRequest) {
        let target = {
            let cancels = self.shared.cancels.lock().unwrap_or_else(|p| p.into_inner());
            cancels
                .get(&request.pid)
                .filter(|(key, _)| key.eq_value(&request.secret_key))
                .map(|(_, c)| c.clone())
        };
        if let Some(conn) = target {
            conn.cancel_current();
        }
    }
}

/// An error the client sees (severity ERROR).
pub(crate) fn user_error(code: &str, message: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message.into(),
    )))
}

/// An error that ends the connection.
pub(crate) fn fatal(code: &str, message: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message.into(),
    )))
}

impl From<GatewayError> for PgWireError {
    fn from(e: GatewayError) -> PgWireError {
        user_error(e.sqlstate(), &e.to_string())
    }
}
