//! `connector serve`: the Arrow Flight SQL gateway (the `gateway` crate) over every connection
//! of a profiles file, or over both built-in emulators with `--emulator`.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use gateway::{Account, Accounts, Config, Gateway, TlsFiles, Users, Visibility};

use crate::Failure;

/// The user `--emulator` generates (its password is random and printed once).
const EMULATOR_USER: &str = "gateway";

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The profiles file whose every profile is served, each as a schema named after it
    /// (default: $CONNECTOR_PROFILES or <config dir>/Connector/profiles.toml).
    #[arg(long)]
    profiles_file: Option<PathBuf>,
    /// The users file: who may connect and which connections each sees (see docs/gateway.md).
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:50051")]
    address: SocketAddr,
    /// Serve TLS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Let clients in without credentials (they see every connection); loopback addresses only.
    #[arg(long)]
    allow_anonymous: bool,
    /// Seconds in-flight streams may run after SIGTERM/SIGINT before they are cancelled.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    shutdown_grace_s: u64,
    /// Serve both built-in emulators (HubDB as `hubdb`, Act-On as `acton`) with a generated
    /// user, instead of a profiles file; the emulator flags below apply.
    #[arg(long, conflicts_with_all = ["profiles_file", "users"])]
    emulator: bool,
    /// Read a password on standard input, print its hash for the users file, and exit.
    #[arg(long, exclusive = true)]
    hash_password: bool,
    #[command(flatten)]
    emulator_args: emulator::cli::EmulatorArgs,
}

pub(crate) fn run(args: ServeArgs) -> Result<(), Failure> {
    if args.hash_password {
        return hash_password();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    init_logging();
    runtime.block_on(serve(args))
}

fn hash_password() -> Result<(), Failure> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| Failure::new(1, format!("cannot read the password on stdin: {e}")))?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(Failure::new(2, "no password on stdin"));
    }
    let hash = gateway::hash_password(password, gateway::DEFAULT_ITERATIONS)
        .map_err(|e| Failure::new(1, e.to_string()))?;
    crate::print_stdout(&hash)
}

/// Structured logs on stderr (`RUST_LOG` filters; default `info`). No secret reaches them.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}

async fn serve(args: ServeArgs) -> Result<(), Failure> {
    let fail = |e: gateway::Error| Failure::new(2, e.to_string());
    // Installed before the ready line, so a signal sent right after it is never missed.
    let shutdown = gateway::shutdown_signal()
        .map_err(|e| Failure::new(1, format!("cannot install the signal handlers: {e}")))?;
    let mut config = Config::new(args.address);
    config.allow_anonymous = args.allow_anonymous;
    config.shutdown_grace = Duration::from_secs(args.shutdown_grace_s);
    config.tls = args
        .tls_cert
        .clone()
        .zip(args.tls_key.clone())
        .map(|(certificate, key)| TlsFiles { certificate, key });
    if args.emulator {
        return serve_emulators(&args, config, shutdown).await;
    }
    let path = match &args.profiles_file {
        Some(p) => p.clone(),
        None => connstr::profiles::default_path().map_err(|e| Failure::new(2, e.to_string()))?,
    };
    let accounts = Accounts::from_profiles(&path).map_err(fail)?;
    let users = match &args.users {
        Some(file) => Users::load(file, &accounts.names()).map_err(fail)?,
        None => Users::none(),
    };
    let names = accounts.names();
    let gateway = Gateway::bind(config, accounts, users).await.map_err(fail)?;
    let ready = serde_json::json!({"uri": gateway.uri(), "connections": names});
    crate::print_stdout(&ready.to_string())?;
    gateway.serve(shutdown).await.map_err(fail)
}

/// `--emulator`: both emulators in-process, one connection each, a generated user.
async fn serve_emulators(
    args: &ServeArgs,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Failure> {
    let fail = |e: &dyn std::fmt::Display| Failure::new(1, e.to_string());
    // Auto-approval lets the gateway's HubDB connection log in by the web flow without a browser.
    let emu = args
        .emulator_args
        .builder()
        .auto_approve(true)
        .start()
        .await
        .map_err(|e| fail(&e))?;
    let info = emu.connection_info();
    let accounts = Accounts::new(vec![
        emulator_account("hubdb", &hubdb_connection(&info.hubspot).await?)?,
        emulator_account("acton", &acton_connection(&info.acton))?,
    ])
    .map_err(|e| fail(&e))?;
    let password = gateway::random_token().map_err(|e| fail(&e))?;
    let mut users = Users::none();
    users
        .add_password_user(EMULATOR_USER, &password, Visibility::All)
        .map_err(|e| fail(&e))?;
    let gateway = Gateway::bind(config, accounts, users)
        .await
        .map_err(|e| Failure::new(2, e.to_string()))?;
    let ready = serde_json::json!({
        "uri": gateway.uri(),
        "username": EMULATOR_USER,
        "password": password,
        "emulator": info,
    });
    crate::print_stdout(&ready.to_string())?;
    let result = gateway.serve(shutdown).await;
    emu.shutdown().await;
    result.map_err(|e| fail(&e))
}

/// HubDB by OAuth (the web flow, approved by the emulator; tokens in memory), so the gateway
/// owns a refresh token and refreshes it once per expiry for every client, as with Act-On.
async fn hubdb_connection(hs: &emulator::HubSpotInfo) -> Result<String, Failure> {
    let app = format!(
        "OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthAuthorizationURL={};CallbackURL={}",
        hs.client_id, hs.client_secret, hs.base_url, hs.authorize_url, hs.redirect_uri
    );
    let (_, callback) = crate::demo::approve_in_emulator(&configure("hubdb", &app)?).await?;
    Ok(format!(
        "{app};InitiateOAuth=GETANDREFRESH;OAuthVerifier='{callback}';OAuthSettingsLocation=memory://gateway-hubdb"
    ))
}

/// Act-On with the password grant; tokens in memory, refreshed by the gateway alone.
fn acton_connection(ao: &emulator::ActOnInfo) -> String {
    format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation=memory://gateway-acton",
        ao.user, ao.password, ao.client_id, ao.client_secret, ao.base_url
    )
}

fn emulator_account(name: &str, text: &str) -> Result<Account, Failure> {
    Account::open(name, &configure(name, text)?).map_err(|e| Failure::new(1, e.to_string()))
}

/// A connection of the registered source `name` from the connection string `text`.
fn configure(name: &str, text: &str) -> Result<source_plugin::Connection, Failure> {
    let source = sources::find(name).map_err(|e| Failure::new(1, e.to_string()))?;
    let cs: connstr::ConnectionString = text
        .parse()
        .map_err(|e: connstr::SyntaxError| Failure::new(1, e.to_string()))?;
    source
        .configure(&cs)
        .map_err(|e| Failure::new(1, e.to_string()))
}
