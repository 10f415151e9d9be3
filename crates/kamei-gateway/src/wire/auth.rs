//! Authentication: SCRAM-SHA-256 against the verifiers principals.toml stores (nothing
//! password-equivalent is held), TLS required where configured, demo principals on loopback
//! only. The principal is fixed here for the whole connection.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Sink;
use hmac::{Hmac, Mac};
use pgwire::api::ClientInfo;
use pgwire::api::auth::driver::{AuthDriver, AuthOutcome};
use pgwire::api::auth::mechanism::AuthMechanismFactory;
use pgwire::api::auth::sasl::scram::{ScramAuth, ScramSecret};
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use sha2::Sha256;

use super::{Connection, fatal, tracing_line};

/// The startup handler of one connection.
pub(crate) struct Startup {
    conn: Arc<Connection>,
    driver: AuthDriver<Arc<DefaultServerParameterProvider>, String>,
}

impl Startup {
    pub fn new(conn: Arc<Connection>) -> Startup {
        let mut parameters = DefaultServerParameterProvider::default();
        parameters.server_version = format!("16.6 (kamei {})", env!("CARGO_PKG_VERSION"));
        parameters.is_superuser = false;
        parameters.default_transaction_read_only = true;
        Startup {
            conn,
            driver: AuthDriver::new(Arc::new(parameters)),
        }
    }

    fn scram(&self, secure: bool) -> PgWireResult<ScramAuth<String>> {
        let source = Verifiers {
            gateway: self.conn.shared.gateway(),
            secret: self.conn.shared.secret,
        };
        let mut scram = ScramAuth::new(Arc::new(source));
        if secure && let Some(tls) = &self.conn.shared.options.tls {
            // SCRAM-SHA-256-PLUS: the proof is bound to this TLS channel.
            scram.configure_certificate(&tls.cert_pem)?;
        }
        Ok(scram)
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                if self.conn.shared.options.require_tls && !client.is_secure() {
                    return Err(fatal(
                        "28000",
                        "this kamei server requires TLS; connect with sslmode=require",
                    ));
                }
                let user = client.metadata().get("user").cloned().unwrap_or_default();
                let gateway = self.conn.shared.gateway();
                if gateway.config().principal(&user).is_some_and(|p| p.demo)
                    && !client.socket_addr().ip().is_loopback()
                {
                    tracing_line(&format!(
                        "refused demo principal `{user}` from {}",
                        client.socket_addr().ip()
                    ));
                    return Err(fatal(
                        "28000",
                        "demo principals may connect only from this machine (a loopback address)",
                    ));
                }
                let mechanism = self.scram(client.is_secure())?.create();
                match self.driver.begin_authentication(client, mechanism).await? {
                    AuthOutcome::InProgress => Ok(()),
                    AuthOutcome::Authenticated { .. } => Err(fatal("28000", "authentication did not run")),
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                match self.driver.advance_authentication(client, message).await {
                    Ok(AuthOutcome::InProgress) => Ok(()),
                    Ok(AuthOutcome::Authenticated {
                        identity: Some(principal),
                        final_message,
                    }) => {
                        self.conn
                            .open_session(&principal)
                            .map_err(|e| fatal("28000", &format!("cannot open a session: {e}")))?;
                        self.driver.complete_authentication(client, final_message).await?;
                        let (pid, key) = client.pid_and_secret_key();
                        self.conn.register(pid, key);
                        Ok(())
                    }
                    Ok(AuthOutcome::Authenticated { identity: None, .. }) | Err(_) => {
                        let user = client.metadata().get("user").cloned().unwrap_or_default();
                        tracing_line(&format!(
                            "authentication failed for `{user}` from {}",
                            client.socket_addr().ip()
                        ));
                        Err(PgWireError::InvalidPassword(user))
                    }
                }
            }
            _ => Ok(()),
        }
    }
}

/// The principals' stored SCRAM verifiers. An unknown user gets a verifier derived from the
/// server's secret, so the exchange fails at the proof exactly as a wrong password does.
#[derive(Debug)]
struct Verifiers {
    gateway: Arc<crate::session::Gateway>,
    secret: [u8; 32],
}

#[async_trait]
impl AuthSource<String> for Verifiers {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_owned(),
        ))
    }

    async fn verify_password(&self, login: &LoginInfo, _presented: &[u8]) -> PgWireResult<Option<String>> {
        Err(PgWireError::InvalidPassword(
            login.user().unwrap_or_default().to_owned(),
        ))
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<String>)> {
        let user = login.user().unwrap_or_default();
        match self.gateway.config().principal(user) {
            Some(p) => {
                let v = &p.credential;
                Ok((
                    ScramSecret::Verifier {
                        salt: v.salt().to_vec(),
                        iterations: v.iterations() as usize,
                        stored_key: v.stored_key().to_vec(),
                        server_key: v.server_key().to_vec(),
                    },
                    Some(p.name.clone()),
                ))
            }
            None => {
                let derive = |label: &str| -> Vec<u8> {
                    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| {
                        <Hmac<Sha256> as Mac>::new_from_slice(&[0u8; 32])
                            .unwrap_or_else(|_| std::process::abort())
                    });
                    mac.update(label.as_bytes());
                    mac.update(user.as_bytes());
                    mac.finalize().into_bytes().to_vec()
                };
                let mut salt = derive("salt");
                salt.truncate(16);
                Ok((
                    ScramSecret::Verifier {
                        salt,
                        iterations: 4096,
                        stored_key: derive("stored"),
                        server_key: derive("server"),
                    },
                    None,
                ))
            }
        }
    }
}
