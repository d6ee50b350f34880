//! `connector serve`: every connection of a profiles file, served over **Arrow Flight SQL** to
//! many clients (ADBC drivers, the Flight SQL JDBC driver, DuckDB through ADBC, …), with one
//! token owner and one rate budget per account.
//!
//! - Each connection (a HubSpot portal, an Act-On account, …) is opened once
//!   ([`Accounts`]) and its data source is shared by every client's SQL session, so its token
//!   provider refreshes once for everybody and its limiter paces every query together. Each
//!   connection is a schema named after its profile: `SELECT … FROM portal_eu.events`; the
//!   catalog is `CData`.
//! - Statements are those of [`sql::Session::execute`]: `SELECT` with pushdown, `INSERT`/
//!   `UPDATE`/`DELETE`, `EXEC`, the system tables; prepared statements advertise their result
//!   and parameter schemas (planned, not run: [`sql::Session::statement_schema`]) and bind `?`
//!   parameters from the Arrow batches the client sends (one execution per row for writes).
//!   Results stream as Arrow batches while the client reads them; a client that disconnects
//!   drops its scan.
//! - Metadata calls (`GetCatalogs`, `GetDbSchemas`, `GetTables` with schemas, `GetTableTypes`,
//!   `GetSqlInfo`, `GetPrimaryKeys`) are answered from the system tables.
//! - Clients authenticate with basic credentials (the handshake returns a session bearer
//!   token) or a static bearer token from the users file ([`Users`]), which also says which
//!   connections each user sees. Anonymous access exists only on a loopback address and only
//!   when asked for.
//! - The Flight action [`HEALTH_ACTION`] answers without credentials; logs never carry a
//!   statement's text, a password or a token; on SIGTERM/SIGINT ([`shutdown_signal`]) the
//!   gateway stops accepting, lets in-flight streams finish for the grace period, then
//!   cancels them.
//!
//! ```no_run
//! # async fn run() -> Result<(), gateway::Error> {
//! use std::path::Path;
//! let accounts = gateway::Accounts::from_profiles(Path::new("profiles.toml"))?;
//! let users = gateway::Users::load(Path::new("users.toml"), &accounts.names())?;
//! let config = gateway::Config::new("127.0.0.1:50051".parse().unwrap_or(gateway::Config::default().addr));
//! let gateway = gateway::Gateway::bind(config, accounts, users).await?;
//! println!("{}", gateway.uri());
//! gateway.serve(gateway::shutdown_signal().map_err(|e| gateway::Error::Serve(e.to_string()))?).await
//! # }
//! ```
#![forbid(unsafe_code)]

mod accounts;
mod error;
mod metadata;
mod params;
mod profiles;
mod service;
mod store;
mod users;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_server::FlightServiceServer;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tracing::{info, warn};

pub use accounts::{Account, Accounts};
pub use error::{Error, Result};
pub use params::parameter_rows;
pub use service::{BAD_PASSWORD, BAD_TOKEN, HEALTH_ACTION, NO_CREDENTIALS};
pub use users::{
    DEFAULT_ITERATIONS, Principal, Users, Visibility, hash_password, random_token, token_sha256,
};

/// Flight SQL messages up to this size are accepted (parameter batches of large writes).
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Where and how the gateway listens.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on (port 0: any free port).
    pub addr: SocketAddr,
    /// Serve TLS with this certificate chain and key (PEM files).
    pub tls: Option<TlsFiles>,
    /// Let clients without credentials in, seeing every connection (loopback only).
    pub allow_anonymous: bool,
    /// How long in-flight streams may run after a shutdown signal before they are cancelled.
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self::new(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
    }
}

impl Config {
    /// Plain gRPC on `addr`, no anonymous access, 30 s of grace at shutdown.
    ///
    /// ```
    /// let config = gateway::Config::new("127.0.0.1:50051".parse().unwrap());
    /// assert!(config.tls.is_none() && !config.allow_anonymous);
    /// ```
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            tls: None,
            allow_anonymous: false,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// A TLS certificate chain and its private key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain.
    pub certificate: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// A gateway bound to its address, ready to serve.
pub struct Gateway {
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<ServerTlsConfig>,
    service: service::Service,
    grace: Duration,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("addr", &self.addr)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Checks the configuration and opens the listening socket (nothing is served until
    /// [`Gateway::serve`]).
    pub async fn bind(config: Config, accounts: Accounts, users: Users) -> Result<Self> {
        if config.allow_anonymous && !config.addr.ip().is_loopback() {
            return Err(Error::AnonymousNotLoopback { addr: config.addr });
        }
        if users.is_empty() && !config.allow_anonymous {
            return Err(Error::NoUsers);
        }
        let tls = config.tls.as_ref().map(tls_config).transpose()?;
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| Error::Bind {
                addr: config.addr,
                message: e.to_string(),
            })?;
        let addr = listener.local_addr().map_err(|e| Error::Bind {
            addr: config.addr,
            message: e.to_string(),
        })?;
        let service =
            service::Service::new(Arc::new(accounts), Arc::new(users), config.allow_anonymous)?;
        Ok(Self {
            listener,
            addr,
            tls,
            service,
            grace: config.shutdown_grace,
        })
    }

    /// The address it listens on (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URI clients connect to: `grpc://127.0.0.1:PORT`, or `grpc+tls://…` with TLS.
    pub fn uri(&self) -> String {
        let scheme = if self.tls.is_some() {
            "grpc+tls"
        } else {
            "grpc"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// Serves until `shutdown` completes; then stops accepting, lets in-flight streams run
    /// for the grace period, and cancels what is left.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let incoming = TcpIncoming::from(self.listener).with_nodelay(Some(true));
        let mut builder = Server::builder();
        if let Some(tls) = self.tls {
            builder = builder
                .tls_config(tls)
                .map_err(|e| Error::Serve(e.to_string()))?;
        }
        let service = FlightServiceServer::new(self.service)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            info!("shutting down: no new requests; in-flight streams may finish");
            let _ = stopping_tx.send(());
        };
        let server = builder
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, signal);
        let grace = self.grace;
        let grace_over = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            result = server => result.map_err(|e| Error::Serve(e.to_string()))?,
            () = grace_over => warn!(grace_s = grace.as_secs(), "grace period over: cancelling in-flight streams"),
        }
        info!("gateway stopped");
        Ok(())
    }
}

/// A future that completes on SIGTERM or SIGINT (Ctrl-C): what `connector serve` stops on.
/// The handlers are installed by this call, before the future is first polled, so a signal
/// sent right after the gateway says it is ready is not missed. Call it inside a runtime.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

fn tls_config(files: &TlsFiles) -> Result<ServerTlsConfig> {
    let read = |what: &'static str, path: &PathBuf| {
        let text = std::fs::read(path).map_err(|e| Error::Tls {
            what,
            path: path.clone(),
            message: e.to_string(),
        })?;
        if !String::from_utf8_lossy(&text).contains("-----BEGIN ") {
            return Err(Error::Tls {
                what,
                path: path.clone(),
                message: "not a PEM file (no -----BEGIN line)".to_owned(),
            });
        }
        Ok(text)
    };
    let certificate = read("certificate", &files.certificate)?;
    let key = read("key", &files.key)?;
    Ok(ServerTlsConfig::new().identity(Identity::from_pem(certificate, key)))
}
