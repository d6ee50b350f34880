//! Rust errors as PEP 249 exceptions.
//!
//! The classes live in `connector/exceptions.py`; this module picks one per error and keeps
//! the error's own message (`to_string()`), which already names the table, column or
//! property and never carries a secret.
//!
//! | Rust error | Python class |
//! |---|---|
//! | `connstr::SyntaxError`, `connstr::validate::ValidationError`, `Config` errors of the sources and procedures, `auth_core::Error::InvalidConfiguration` | `ConnectionStringError` (an `InterfaceError`) |
//! | closed connection or cursor, a cursor used by two threads at once | `InterfaceError` |
//! | `auth_core` errors (refused or revoked tokens, re-authorization, denied consent, verifier mismatch, token endpoint errors), missing scopes, HTTP 401/403 | `AuthenticationError` (an `OperationalError`) |
//! | `auth_core::Error::RateLimited`, the sources' `RateLimited`, HTTP 429 | `RateLimitError` (an `OperationalError`) |
//! | network failures, timeouts, HTTP 5xx, unreadable responses, token store failures | `OperationalError` |
//! | SQL syntax, unknown table, column, procedure or input, missing input, wrong `?` count, bad parameter types, writes to read-only tables, Act-On views missing a required filter, HTTP 404, planning errors | `ProgrammingError` |
//! | values a column or the service refuses (`InvalidValue`, HTTP 400/422, Arrow cast errors) | `DataError` |
//! | `sql::Error::PartialWrite` (some rows refused; the others were applied), HTTP 409 | `IntegrityError` |
//! | statements or features the engine does not run (`Unsupported`, `NotImplemented`) | `NotSupportedError` |
//! | bugs (an escaped panic, internal DataFusion errors) | `InternalError` |
//! | anything else from the service | `DatabaseError` |

use std::error::Error as StdError;

use datafusion::error::DataFusionError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// A PEP 249 exception class of `connector.exceptions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Interface,
    ConnectionString,
    Database,
    Data,
    Operational,
    Authentication,
    RateLimit,
    Integrity,
    Internal,
    Programming,
    NotSupported,
}

impl Class {
    fn python_name(self) -> &'static str {
        match self {
            Class::Interface => "InterfaceError",
            Class::ConnectionString => "ConnectionStringError",
            Class::Database => "DatabaseError",
            Class::Data => "DataError",
            Class::Operational => "OperationalError",
            Class::Authentication => "AuthenticationError",
            Class::RateLimit => "RateLimitError",
            Class::Integrity => "IntegrityError",
            Class::Internal => "InternalError",
            Class::Programming => "ProgrammingError",
            Class::NotSupported => "NotSupportedError",
        }
    }
}

/// An error on its way to Python: the class and the message.
#[derive(Debug, Clone)]
pub(crate) struct DbError {
    pub(crate) class: Class,
    pub(crate) message: String,
}

impl DbError {
    pub(crate) fn new(class: Class, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }
}

impl From<DbError> for PyErr {
    fn from(e: DbError) -> PyErr {
        Python::attach(|py| {
            let class = py
                .import("connector.exceptions")
                .and_then(|m| m.getattr(e.class.python_name()))
                .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
            match class {
                Ok(class) => PyErr::from_type(class, (e.message,)),
                // The pure-Python half is missing (a bare `_native` import): still raise.
                Err(_) => pyo3::exceptions::PyRuntimeError::new_err(e.message),
            }
        })
    }
}

impl From<sql::Error> for DbError {
    fn from(e: sql::Error) -> Self {
        DbError::new(sql_class(&e), e.to_string())
    }
}

impl From<connstr::SyntaxError> for DbError {
    fn from(e: connstr::SyntaxError) -> Self {
        DbError::new(Class::ConnectionString, e.to_string())
    }
}

impl From<connstr::validate::ValidationError> for DbError {
    fn from(e: connstr::validate::ValidationError) -> Self {
        DbError::new(Class::ConnectionString, e.to_string())
    }
}

impl From<procedures::Error> for DbError {
    fn from(e: procedures::Error) -> Self {
        DbError::new(procedures_class(&e), e.to_string())
    }
}

impl From<source_core::Error> for DbError {
    fn from(e: source_core::Error) -> Self {
        DbError::new(source_class(&e), e.to_string())
    }
}

impl From<auth_core::Error> for DbError {
    fn from(e: auth_core::Error) -> Self {
        DbError::new(auth_class(&e), e.to_string())
    }
}

impl From<source_hubdb::Error> for DbError {
    fn from(e: source_hubdb::Error) -> Self {
        DbError::new(hubdb_class(&e), e.to_string())
    }
}

impl From<source_acton::Error> for DbError {
    fn from(e: source_acton::Error) -> Self {
        DbError::new(acton_class(&e), e.to_string())
    }
}

fn sql_class(e: &sql::Error) -> Class {
    use sql::Error as E;
    match e {
        E::UnknownTable { .. }
        | E::UnknownColumn { .. }
        | E::UnknownProcedure { .. }
        | E::UnknownInput { .. }
        | E::MissingInput { .. }
        | E::ParameterCount { .. }
        | E::Syntax(_)
        | E::NotWritable { .. } => Class::Programming,
        E::Unsupported(_) => Class::NotSupported,
        E::PartialWrite { .. } => Class::Integrity,
        E::Source(s) => source_class(s),
        E::Engine(df) => engine_class(df),
        E::Export(_) => Class::Operational,
        _ => Class::Database,
    }
}

fn source_class(e: &source_core::Error) -> Class {
    use source_core::Error as E;
    match e {
        E::UnknownTable { .. } | E::UnknownColumn { .. } | E::ReadOnly { .. } => Class::Programming,
        E::Unsupported { .. } => Class::NotSupported,
        E::UnsupportedFilter { .. } => Class::Internal,
        E::InvalidValue { .. } | E::Arrow(_) => Class::Data,
        E::Timeout { .. } | E::Io(_) => Class::Operational,
        E::Source(inner) => dyn_class(inner.as_ref()),
        _ => Class::Database,
    }
}

fn engine_class(e: &DataFusionError) -> Class {
    use DataFusionError as E;
    match e {
        E::Plan(_) | E::SQL(..) | E::SchemaError(..) | E::Configuration(_) => Class::Programming,
        E::NotImplemented(_) | E::Substrait(_) => Class::NotSupported,
        E::ArrowError(..) => Class::Data,
        E::ResourcesExhausted(_) | E::IoError(_) | E::ExecutionJoin(_) => Class::Operational,
        E::Internal(_) => Class::Internal,
        E::External(inner) => dyn_class(inner.as_ref()),
        E::Context(_, inner) | E::Diagnostic(_, inner) => engine_class(inner),
        E::Shared(inner) => engine_class(inner),
        _ => Class::Database,
    }
}

/// A boxed error of one of our crates, found by type.
fn dyn_class(e: &(dyn StdError + Send + Sync + 'static)) -> Class {
    if let Some(h) = e.downcast_ref::<source_hubdb::Error>() {
        hubdb_class(h)
    } else if let Some(a) = e.downcast_ref::<source_acton::Error>() {
        acton_class(a)
    } else if let Some(p) = e.downcast_ref::<procedures::Error>() {
        procedures_class(p)
    } else if let Some(a) = e.downcast_ref::<auth_core::Error>() {
        auth_class(a)
    } else if e
        .downcast_ref::<connstr::validate::ValidationError>()
        .is_some()
        || e.downcast_ref::<connstr::SyntaxError>().is_some()
    {
        Class::ConnectionString
    } else if let Some(s) = e.downcast_ref::<sql::Error>() {
        sql_class(s)
    } else if let Some(s) = e.downcast_ref::<source_core::Error>() {
        source_class(s)
    } else if let Some(df) = e.downcast_ref::<DataFusionError>() {
        engine_class(df)
    } else {
        Class::Database
    }
}

/// The class of an HTTP error status from a service.
fn status_class(status: u16) -> Class {
    match status {
        401 | 403 => Class::Authentication,
        429 => Class::RateLimit,
        404 => Class::Programming,
        409 => Class::Integrity,
        400 | 422 => Class::Data,
        500.. => Class::Operational,
        _ => Class::Database,
    }
}

fn auth_class(e: &auth_core::Error) -> Class {
    use auth_core::Error as E;
    match e {
        E::InvalidConfiguration { .. } => Class::ConnectionString,
        E::RateLimited { .. } => Class::RateLimit,
        E::TokenEndpoint { status: 429, .. } => Class::RateLimit,
        E::Transport { .. } | E::Store(_) | E::HttpSetup(_) => Class::Operational,
        E::TokenEndpoint { status, .. } if *status >= 500 => Class::Operational,
        _ => Class::Authentication,
    }
}

fn hubdb_class(e: &source_hubdb::Error) -> Class {
    use source_hubdb::Error as E;
    match e {
        E::Api { status, .. } => status_class(*status),
        E::MissingScopes { .. } => Class::Authentication,
        E::Auth { source, .. } => auth_class(source),
        E::RateLimited { .. } => Class::RateLimit,
        E::Transport { .. } | E::Timeout { .. } | E::Decode { .. } => Class::Operational,
        E::Config { .. } => Class::ConnectionString,
        _ => Class::Database,
    }
}

fn acton_class(e: &source_acton::Error) -> Class {
    use source_acton::Error as E;
    match e {
        E::Api { status, .. } => status_class(*status),
        E::Auth { source, .. } => auth_class(source),
        E::RateLimited { .. } => Class::RateLimit,
        E::Transport { .. } | E::Timeout { .. } | E::Decode { .. } => Class::Operational,
        E::Config { .. } => Class::ConnectionString,
        E::MissingFilter { .. } => Class::Programming,
        E::InvalidFilterValue { .. } => Class::Data,
        _ => Class::Database,
    }
}

fn procedures_class(e: &procedures::Error) -> Class {
    use procedures::Error as E;
    match e {
        E::ExecSyntax { .. }
        | E::UnknownProcedure { .. }
        | E::UnknownInput { .. }
        | E::MissingInput { .. }
        | E::MissingParameter { .. } => Class::Programming,
        E::InvalidInput { .. } => Class::Data,
        E::Config(_) | E::Syntax(_) => Class::ConnectionString,
        E::Auth(a) => auth_class(a),
        E::Api { status, .. } => status_class(*status),
        E::File { .. } => Class::Operational,
        _ => Class::Database,
    }
}
