//! `connector`: the command-line face of the Act-On and HubDB connectors.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod auth;
mod data;
mod demo;
mod logging;
mod serve;
mod sqlcmd;
mod sync_cmd;
use clap::{CommandFactory, FromArgMatches};
use connstr::validate::{self, Origin};
use connstr::{ConnectionString, profiles};
use source_plugin::{AnySource, Connection};

/// Connect to Act-On, HubSpot HubDB and every other registered source with one connection
/// string.
#[derive(Debug, Parser)]
#[command(name = "connector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options of `connector demo`.
#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// The HubDB API version of every HubDB connection of the demo (the `APIVersion` property:
    /// 2026-03 or v3); the last lines count the HubSpot paths sent per version prefix.
    #[arg(long, value_name = "VERSION")]
    hubdb_api_version: Option<String>,
}

/// The commands that are not a source's; each registered source adds `connector <source> …`
/// (see [`command`]).
#[derive(Debug, Subcommand)]
enum Command {
    /// Connection-string tools.
    Connstr {
        #[command(subcommand)]
        command: ConnstrCommand,
    },
    /// Walk through the product against in-process emulators: no account, no network.
    Demo(DemoArgs),
    /// Serve the HubSpot and Act-On emulators on loopback until SIGINT/SIGTERM; prints one
    /// JSON line with their URLs and credentials once ready.
    Emulator(emulator::cli::EmulatorArgs),
    /// Serve every connection of a profiles file over Arrow Flight SQL (ADBC, JDBC, DuckDB…)
    /// until SIGINT/SIGTERM, with one token owner and one rate budget per account; prints one
    /// JSON line once ready. `--emulator` serves both built-in emulators with a generated user.
    Serve(Box<serve::ServeArgs>),
}

#[derive(Debug, Subcommand)]
enum ConnstrCommand {
    /// Parse a connection string and print its pairs as one JSON object.
    ///
    /// Values are printed as written (this is a grammar tool); use `--mask` to hide the values
    /// of sensitive-looking keys.
    Parse {
        /// The connection string.
        string: String,
        /// Replace values of keys that look sensitive with ********.
        #[arg(long)]
        mask: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct SourceArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(subcommand)]
    command: SourceCommand,
}

#[derive(Debug, Args)]
pub(crate) struct ConnectionArgs {
    /// The connection string (or set CONNECTOR_CONNECTION).
    #[arg(
        long,
        short = 'c',
        env = "CONNECTOR_CONNECTION",
        hide_env_values = true,
        global = true
    )]
    connection: Option<String>,
    /// A named profile from the profiles file.
    #[arg(long, short = 'p', global = true, conflicts_with = "connection")]
    profile: Option<String>,
    /// The profiles file (default: $CONNECTOR_PROFILES or <config dir>/Connector/profiles.toml).
    #[arg(long, global = true)]
    profiles_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SourceCommand {
    /// Validate the connection properties and print them resolved, secrets masked.
    Check {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List every connection property this source accepts.
    Properties,
    /// Run the configured authentication flow now and store the tokens (browser, verifier
    /// exchange or password grant).
    Login,
    /// Show the stored token's state: location, scope, expiry (secrets masked).
    Status {
        /// Also ask the provider whether the access token is alive (token introspection);
        /// exits with 3 when it is not.
        #[arg(long)]
        check: bool,
    },
    /// Delete the stored tokens (and revoke the refresh token where the provider allows it).
    Logout,
    /// Print a currently valid access token, refreshing it if needed (for scripts).
    Token,
    /// List the tables and views.
    Tables {
        /// Output format: table, json or csv.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Show the columns of a table or view.
    Describe {
        /// The table or view.
        table: String,
        /// Output format: table, json or csv.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Read a table's rows (page by page).
    Read {
        /// The table or view.
        table: String,
        /// At most this many rows.
        #[arg(long)]
        limit: Option<u64>,
        /// Output format: table, json or csv.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Run a stored procedure: `exec "EXEC GetOAuthAuthorizationURL CallbackUrl='...'"`.
    Exec {
        /// The EXEC statement.
        statement: String,
        /// Output format: table, json or csv.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Run a SQL statement: SELECT (with pushdown), INSERT/UPDATE/DELETE, EXEC, system tables.
    Query {
        /// The statement.
        statement: String,
        /// Output format: table, json, ndjson, csv or parquet.
        #[arg(long, default_value = "table")]
        format: String,
        /// Write the result to this file instead of stdout.
        #[arg(long, short = 'o')]
        output: Option<std::path::PathBuf>,
    },
    /// An interactive SQL prompt with history.
    Shell,
    /// Copy tables into Parquet files or a SQLite database, reading only the rows changed since
    /// the last run (see docs/sync.md).
    Sync(sync_cmd::SyncArgs),
    /// List the stored procedures.
    Procedures {
        /// Output format: table, json or csv.
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Show a stored procedure's inputs and result columns.
    DescribeProcedure {
        /// The procedure.
        name: String,
        /// Output format: table, json or csv.
        #[arg(long, default_value = "table")]
        format: String,
    },
}

/// A failure with the exit code it maps to; the message is already safe to print.
pub(crate) struct Failure {
    code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The whole command line: the fixed commands, and one subcommand per registered source.
fn command() -> clap::Command {
    let mut command = Cli::command();
    for source in sources::ALL {
        let info = source.info();
        let sub = clap::Command::new(info.name).about(info.description);
        command = command.subcommand(SourceArgs::augment_args(sub));
    }
    command
}

/// What the command line asks for.
fn run(matches: &clap::ArgMatches) -> Result<(), Failure> {
    if let Some((name, sub)) = matches.subcommand()
        && let Ok(source) = sources::find(name)
    {
        let args = SourceArgs::from_arg_matches(sub).map_err(|e| Failure::new(2, e.to_string()))?;
        return run_source(source, args);
    }
    let cli = Cli::from_arg_matches(matches).map_err(|e| Failure::new(2, e.to_string()))?;
    match cli.command {
        Command::Connstr {
            command: ConnstrCommand::Parse { string, mask },
        } => parse(&string, mask),
        Command::Emulator(args) => run_emulator(args),
        Command::Demo(args) => run_demo(args),
        Command::Serve(args) => serve::run(*args),
    }
}

fn main() -> ExitCode {
    let result = run(&command().get_matches());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn run_demo(args: DemoArgs) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(demo::run(args.hubdb_api_version))
}

fn run_emulator(args: emulator::cli::EmulatorArgs) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(emulator::cli::run(args))
        .map_err(|e| Failure::new(1, e.to_string()))
}

pub(crate) fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| Failure::new(1, format!("cannot write to stdout: {e}")))
}

fn parse(input: &str, mask: bool) -> Result<(), Failure> {
    let cs = ConnectionString::parse(input).map_err(|e| Failure::new(1, e.to_string()))?;
    let mut object = serde_json::Map::new();
    for (key, value) in cs.iter() {
        let shown = if mask && connstr::is_sensitive_key(key) {
            connstr::MASK
        } else {
            value
        };
        object.insert(key.to_owned(), serde_json::Value::from(shown));
    }
    print_stdout(&serde_json::Value::Object(object).to_string())
}

/// The connection string of `args`: `--profile` (checked against `source`), `--connection`
/// or `CONNECTOR_CONNECTION`.
fn connection_string(
    source: &'static dyn AnySource,
    args: &ConnectionArgs,
) -> Result<ConnectionString, Failure> {
    if let Some(name) = &args.profile {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let path = match &args.profiles_file {
            Some(p) => p.clone(),
            None => profiles::default_path().map_err(|e| Failure::new(2, e.to_string()))?,
        };
        let profile =
            profiles::load_from(&path, name, &env).map_err(|e| Failure::new(2, e.to_string()))?;
        if let Some(declared) = profile.source.as_deref() {
            let declared = sources::find(declared).map_err(|e| {
                Failure::new(2, format!("profile {name:?} in {}: {e}", path.display()))
            })?;
            if declared.info().name != source.info().name {
                return Err(Failure::new(
                    2,
                    format!(
                        "profile {name:?} is for {}, not {}; use `connector {} --profile {name} ...`",
                        declared.info().display_name,
                        source.info().display_name,
                        declared.info().name
                    ),
                ));
            }
        }
        return Ok(profile.connection);
    }
    let text = args.connection.as_deref().ok_or_else(|| {
        Failure::new(
            2,
            "no connection: pass --connection \"...\", --profile NAME, or set CONNECTOR_CONNECTION",
        )
    })?;
    ConnectionString::parse(text).map_err(|e| Failure::new(2, e.to_string()))
}

/// The connection of `args`, parsed and validated once.
pub(crate) fn connection_for(
    source: &'static dyn AnySource,
    args: &ConnectionArgs,
) -> Result<Connection, Failure> {
    let cs = connection_string(source, args)?;
    source
        .configure(&cs)
        .map_err(|e| Failure::new(2, e.to_string()))
}

fn run_source(source: &'static dyn AnySource, args: SourceArgs) -> Result<(), Failure> {
    match args.command {
        SourceCommand::Properties => {
            print_stdout(&properties_table(source))?;
            Ok(())
        }
        SourceCommand::Check { json } => check(source, &args.connection, json),
        SourceCommand::Sync(sync_args) => sync_cmd::run(source, &args.connection, sync_args),
        SourceCommand::Login
        | SourceCommand::Status { .. }
        | SourceCommand::Logout
        | SourceCommand::Token => {
            let connection = connection_for(source, &args.connection)?;
            auth::run(&connection, &args.command)
        }
        _ => {
            let connection = connection_for(source, &args.connection)?;
            data::run(&connection, &args.command)
        }
    }
}

/// `connector <source> check`: every property resolved (secrets masked), then the problems.
fn check(source: &'static dyn AnySource, args: &ConnectionArgs, json: bool) -> Result<(), Failure> {
    let cs = connection_string(source, args)?;
    let problems = source
        .configure(&cs)
        .err()
        .map(|e| e.problems)
        .unwrap_or_default();
    let resolved = validate::resolve(source.properties(), &cs);
    let name = source.info().display_name;
    if json {
        let rows: Vec<serde_json::Value> = resolved
            .iter()
            .filter(|r| r.shown_value.is_some())
            .map(|r| {
                serde_json::json!({
                    "name": r.def.name,
                    "value": r.shown_value,
                    "origin": match r.origin { Some(Origin::Set) => "set", _ => "default" },
                    "group": r.def.group.to_string(),
                })
            })
            .collect();
        let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
        print_stdout(
            &serde_json::json!({"source": source.info().name, "properties": rows, "problems": problems})
                .to_string(),
        )?;
    } else {
        let mut text = format!("{name} connection properties (set, then defaults):\n");
        for origin in [Origin::Set, Origin::Default] {
            for row in resolved.iter().filter(|r| r.origin == Some(origin)) {
                let label = if origin == Origin::Set {
                    ""
                } else {
                    "  (default)"
                };
                text.push_str(&format!(
                    "  {:<26} {}{label}\n",
                    row.def.name,
                    row.shown_value.as_deref().unwrap_or("")
                ));
            }
        }
        print_stdout(text.trim_end())?;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let error = validate::ValidationError {
            source_name: source.properties().source,
            problems,
        };
        Err(Failure::new(2, error.to_string()))
    }
}

fn properties_table(source: &'static dyn AnySource) -> String {
    let mut text = String::new();
    for def in source.properties().iter() {
        let values = def.allowed_values();
        let values = if values.is_empty() {
            String::new()
        } else {
            format!(" [{}]", values.join("|"))
        };
        text.push_str(&format!(
            "{:<15} {:<26} {:<7}{} default={}\n    {}\n",
            def.group.to_string(),
            def.name,
            def.ty.to_string(),
            values,
            def.default.unwrap_or("-"),
            def.description
        ));
    }
    text.trim_end().to_owned()
}
