//! `connector`: the command-line face of the Act-On and HubDB connectors.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use connstr::validate::{self, Origin};
use connstr::{ConnectionString, Source, profiles, registry};

/// Connect to Act-On and HubSpot HubDB with one connection string.
#[derive(Debug, Parser)]
#[command(name = "connector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Connection-string tools.
    Connstr {
        #[command(subcommand)]
        command: ConnstrCommand,
    },
    /// Act-On commands.
    Acton(SourceArgs),
    /// HubDB commands.
    Hubdb(SourceArgs),
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
struct SourceArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(subcommand)]
    command: SourceCommand,
}

#[derive(Debug, Args)]
struct ConnectionArgs {
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
enum SourceCommand {
    /// Validate the connection properties and print them resolved, secrets masked.
    Check {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List every connection property this source accepts.
    Properties,
}

/// A failure with the exit code it maps to; the message is already safe to print.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Connstr {
            command: ConnstrCommand::Parse { string, mask },
        } => parse(&string, mask),
        Command::Acton(args) => run_source(Source::ActOn, args),
        Command::Hubdb(args) => run_source(Source::HubDb, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn print_stdout(text: &str) -> Result<(), Failure> {
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

fn connection_for(source: Source, args: &ConnectionArgs) -> Result<ConnectionString, Failure> {
    if let Some(name) = &args.profile {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let path = match &args.profiles_file {
            Some(p) => p.clone(),
            None => profiles::default_path().map_err(|e| Failure::new(2, e.to_string()))?,
        };
        let profile =
            profiles::load_from(&path, name, &env).map_err(|e| Failure::new(2, e.to_string()))?;
        if let Some(declared) = profile.source.filter(|s| *s != source) {
            return Err(Failure::new(
                2,
                format!(
                    "profile {name:?} is for {declared}, not {source}; use `connector {} --profile {name} ...`",
                    declared.cli_name()
                ),
            ));
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

fn run_source(source: Source, args: SourceArgs) -> Result<(), Failure> {
    match args.command {
        SourceCommand::Properties => {
            print_stdout(&properties_table(source))?;
            Ok(())
        }
        SourceCommand::Check { json } => {
            let cs = connection_for(source, &args.connection)?;
            let problems = validate::problems(source, &cs);
            let resolved = validate::resolve(source, &cs);
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
                    &serde_json::json!({"source": source.cli_name(), "properties": rows, "problems": problems})
                        .to_string(),
                )?;
            } else {
                let mut text = format!("{source} connection properties (set, then defaults):\n");
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
                    source_kind: source,
                    problems,
                };
                Err(Failure::new(2, error.to_string()))
            }
        }
    }
}

fn properties_table(source: Source) -> String {
    let mut text = String::new();
    for def in registry::properties(source) {
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
