//! Stored procedures of the Act-On and HubDB connectors, and the `EXEC` statement.
//!
//! - [`exec`]: the `{EXEC | EXECUTE} name [@]input = value [, ...]` grammar and parameter binding.
//! - [`ProcedureDef`]: each procedure's inputs (type, required, default, allowed values,
//!   description) and result columns, so they can be listed, described and shown in
//!   `sys_procedures` / `sys_procedureparameters`.
//! - [`Registry`]: the procedures of one connection ([`Registry::acton`], [`Registry::hubdb`]),
//!   validating inputs (nearest-name suggestions, missing required inputs, allowed values)
//!   before anything runs.
//! - The OAuth trio for both sources ([`oauth`]): `GetOAuthAuthorizationURL`,
//!   `GetOAuthAccessToken` (AuthMode APP runs the desktop flow, WEB exchanges a verifier) and
//!   `RefreshOAuthAccessToken`. They need only the client id and secret and the endpoint
//!   properties, never a working data connection.
//! - HubDB table procedures ([`hubdb`]): publish, unpublish, reset a draft, clone, import CSV,
//!   export CSV, create and delete a table.
//!
//! ```
//! # async fn run() -> Result<(), procedures::Error> {
//! let cs: connstr::ConnectionString =
//!     "OAuthClientId=cid;OAuthClientSecret=cs;APIBaseURL=http://127.0.0.1:9".parse()?;
//! let registry = procedures::Registry::acton(&connstr::validate::acton(&cs)?)?;
//! let out = registry
//!     .execute_sql("EXEC GetOAuthAuthorizationURL CallbackUrl='http://localhost:80', State='s'", &[], &[])
//!     .await?;
//! assert_eq!(out.columns, vec!["URL"]);
//! assert!(out.rows[0][0].as_deref().unwrap().starts_with("http://127.0.0.1:9/authorize?"));
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run()).unwrap();
//! ```
#![forbid(unsafe_code)]

pub mod exec;
pub mod hubdb;
pub mod oauth;

use std::fmt;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use auth_core::BoxFuture;
use exec::Value;

/// Everything that can go wrong running a procedure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The EXEC statement does not parse.
    #[error("EXEC syntax error at byte {offset}: {message}")]
    ExecSyntax {
        /// Where.
        offset: usize,
        /// What to do.
        message: String,
    },
    /// No such procedure.
    #[error("unknown procedure {name}{}; available: {available}", suggestion.map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownProcedure {
        /// As written.
        name: String,
        /// The nearest known procedure.
        suggestion: Option<&'static str>,
        /// All procedures, comma-separated.
        available: String,
    },
    /// The procedure has no such input.
    #[error("{procedure} has no input {input}{}; inputs: {available}", suggestion.map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownInput {
        /// The procedure.
        procedure: &'static str,
        /// As written.
        input: String,
        /// The nearest known input.
        suggestion: Option<&'static str>,
        /// All inputs, comma-separated.
        available: String,
    },
    /// A required input is missing.
    #[error("{procedure} needs input {input}: {description}")]
    MissingInput {
        /// The procedure.
        procedure: &'static str,
        /// The input.
        input: &'static str,
        /// What it is.
        description: &'static str,
    },
    /// An input value is not allowed.
    #[error("{procedure}: {input} must be one of {allowed}, not {value:?}")]
    InvalidInput {
        /// The procedure.
        procedure: &'static str,
        /// The input.
        input: &'static str,
        /// What was given (never a secret input).
        value: String,
        /// The allowed values.
        allowed: String,
    },
    /// A `?` or `@name` parameter has no bound value.
    #[error("no value bound for parameter {parameter} ({given} given)")]
    MissingParameter {
        /// Which parameter.
        parameter: String,
        /// How many values were given.
        given: usize,
    },
    /// The connection string is invalid.
    #[error(transparent)]
    Config(#[from] connstr::validate::ValidationError),
    /// A connection-string syntax error.
    #[error(transparent)]
    Syntax(#[from] connstr::SyntaxError),
    /// Authentication failed.
    #[error(transparent)]
    Auth(#[from] auth_core::Error),
    /// The HubDB API refused a call.
    #[error("{procedure}: HubDB answered HTTP {status}: {message}")]
    Api {
        /// The procedure.
        procedure: &'static str,
        /// HTTP status.
        status: u16,
        /// HubSpot's message.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("{procedure}: {path}: {message}")]
    File {
        /// The procedure.
        procedure: &'static str,
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
}

/// The type of a procedure input or result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Text.
    String,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::String => "String",
            Self::Int => "Int",
            Self::Bool => "Bool",
        })
    }
}

/// One input of a procedure.
#[derive(Debug, Clone)]
pub struct InputDef {
    /// CData's name.
    pub name: &'static str,
    /// Type.
    pub ty: ParamType,
    /// Whether it must be given (after defaults).
    pub required: bool,
    /// Default, as text.
    pub default: Option<&'static str>,
    /// Allowed values (case-insensitive), empty for any.
    pub allowed: &'static [&'static str],
    /// Whether the value is a secret (never echoed in errors).
    pub sensitive: bool,
    /// What it is.
    pub description: &'static str,
}

/// One result column of a procedure.
#[derive(Debug, Clone)]
pub struct ResultColumn {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub ty: ParamType,
    /// What it is.
    pub description: &'static str,
}

/// A procedure's signature.
#[derive(Debug, Clone)]
pub struct ProcedureDef {
    /// Name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Inputs.
    pub inputs: Vec<InputDef>,
    /// Result columns.
    pub results: Vec<ResultColumn>,
}

/// Validated inputs of one call.
#[derive(Debug, Clone, Default)]
pub struct Args {
    values: Vec<(&'static str, Value)>,
}

impl Args {
    /// The text of input `name` (after defaults), `None` when unset or NULL.
    pub fn text(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_text())
    }

    /// Input `name` as a boolean (`true`, `1`, `yes`).
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.text(name)
            .map(|t| matches!(t.to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
    }
}

/// What a procedure returns: string columns, one or more rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureOutput {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of values (`None` is NULL).
    pub rows: Vec<Vec<Option<String>>>,
}

impl ProcedureOutput {
    /// One row.
    pub fn row(pairs: Vec<(&str, Option<String>)>) -> Self {
        Self {
            columns: pairs.iter().map(|(n, _)| (*n).to_owned()).collect(),
            rows: vec![pairs.into_iter().map(|(_, v)| v).collect()],
        }
    }

    /// The value of `column` in the first row.
    pub fn first(&self, column: &str) -> Option<&str> {
        let i = self
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))?;
        self.rows.first()?.get(i)?.as_deref()
    }

    /// As an Arrow batch of Utf8 columns.
    pub fn to_record_batch(&self) -> RecordBatch {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(c, DataType::Utf8, true))
            .collect();
        let arrays: Vec<ArrayRef> = (0..self.columns.len())
            .map(|i| {
                Arc::new(StringArray::from(
                    self.rows
                        .iter()
                        .map(|r| r.get(i).cloned().flatten())
                        .collect::<Vec<_>>(),
                )) as ArrayRef
            })
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
    }
}

/// Something that runs procedures: the OAuth trio, the HubDB table procedures.
pub trait ProcedureSet: Send + Sync + fmt::Debug {
    /// The procedures it offers.
    fn definitions(&self) -> Vec<ProcedureDef>;
    /// Runs `name` (one of `definitions`) with validated `args`.
    fn run<'a>(
        &'a self,
        name: &'static str,
        args: Args,
    ) -> BoxFuture<'a, Result<ProcedureOutput, Error>>;
}

/// The procedures of one connection.
#[derive(Debug)]
pub struct Registry {
    sets: Vec<Arc<dyn ProcedureSet>>,
}

impl Registry {
    /// The Act-On procedures: the OAuth trio.
    pub fn acton(config: &connstr::ActOnConfig) -> Result<Self, Error> {
        Ok(Self {
            sets: vec![Arc::new(oauth::OAuthProcedures::acton(config)?)],
        })
    }

    /// The HubDB procedures: the OAuth trio and the table procedures.
    pub fn hubdb(config: &connstr::HubDbConfig) -> Result<Self, Error> {
        Ok(Self {
            sets: vec![
                Arc::new(oauth::OAuthProcedures::hubdb(config)?),
                Arc::new(hubdb::TableProcedures::new(config)),
            ],
        })
    }

    /// Every procedure's signature.
    pub fn definitions(&self) -> Vec<ProcedureDef> {
        self.sets.iter().flat_map(|s| s.definitions()).collect()
    }

    /// The signature of `name` (case-insensitive), or an error with the nearest name.
    pub fn describe(&self, name: &str) -> Result<ProcedureDef, Error> {
        let defs = self.definitions();
        if let Some(def) = defs.iter().find(|d| d.name.eq_ignore_ascii_case(name)) {
            return Ok(def.clone());
        }
        let folded = name.to_lowercase();
        let suggestion = defs
            .iter()
            .map(|d| {
                (
                    strsim::normalized_damerau_levenshtein(&folded, &d.name.to_lowercase()),
                    d.name,
                )
            })
            .filter(|(s, _)| *s >= 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| n);
        Err(Error::UnknownProcedure {
            name: name.to_owned(),
            suggestion,
            available: defs.iter().map(|d| d.name).collect::<Vec<_>>().join(", "),
        })
    }

    /// Parses, binds, validates and runs an `EXEC` statement.
    pub async fn execute_sql(
        &self,
        sql: &str,
        positional: &[Value],
        named: &[(String, Value)],
    ) -> Result<ProcedureOutput, Error> {
        let call = exec::parse(sql)?;
        let bound = exec::bind(&call, positional, named)?;
        self.execute(&call.procedure, bound).await
    }

    /// Validates `inputs` against the procedure and runs it.
    pub async fn execute(
        &self,
        name: &str,
        inputs: Vec<(String, Value)>,
    ) -> Result<ProcedureOutput, Error> {
        let def = self.describe(name)?;
        let args = validate(&def, inputs)?;
        let set = self
            .sets
            .iter()
            .find(|s| s.definitions().iter().any(|d| d.name == def.name))
            .ok_or_else(|| Error::UnknownProcedure {
                name: name.to_owned(),
                suggestion: None,
                available: String::new(),
            })?;
        set.run(def.name, args).await
    }
}

/// Checks inputs against a signature: names (with suggestions), required inputs, allowed
/// values; fills in defaults.
pub fn validate(def: &ProcedureDef, inputs: Vec<(String, Value)>) -> Result<Args, Error> {
    let mut values: Vec<(&'static str, Value)> = Vec::new();
    let available = || {
        def.inputs
            .iter()
            .map(|i| i.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (name, value) in inputs {
        let Some(input) = def
            .inputs
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(&name))
        else {
            let folded = name.to_lowercase();
            let suggestion = def
                .inputs
                .iter()
                .map(|i| {
                    (
                        strsim::normalized_damerau_levenshtein(&folded, &i.name.to_lowercase()),
                        i.name,
                    )
                })
                .filter(|(s, _)| *s >= 0.5)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, n)| n);
            return Err(Error::UnknownInput {
                procedure: def.name,
                input: name,
                suggestion,
                available: available(),
            });
        };
        if let (false, Some(text)) = (input.allowed.is_empty(), value.as_text()) {
            match input.allowed.iter().find(|a| a.eq_ignore_ascii_case(&text)) {
                Some(canonical) => {
                    values.push((input.name, Value::Text((*canonical).to_owned())));
                    continue;
                }
                None => {
                    return Err(Error::InvalidInput {
                        procedure: def.name,
                        input: input.name,
                        value: if input.sensitive {
                            connstr::MASK.to_owned()
                        } else {
                            text
                        },
                        allowed: input.allowed.join(", "),
                    });
                }
            }
        }
        values.retain(|(n, _)| *n != input.name);
        values.push((input.name, value));
    }
    for input in &def.inputs {
        let present = values
            .iter()
            .any(|(n, v)| *n == input.name && *v != Value::Null);
        if !present {
            if let Some(default) = input.default {
                values.retain(|(n, _)| *n != input.name);
                values.push((input.name, Value::Text(default.to_owned())));
            } else if input.required {
                return Err(Error::MissingInput {
                    procedure: def.name,
                    input: input.name,
                    description: input.description,
                });
            }
        }
    }
    Ok(Args { values })
}
