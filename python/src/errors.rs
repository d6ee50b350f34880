//! Rust errors as PEP 249 exceptions.
//!
//! The classes live in `connector/exceptions.py`; this module picks one per error and keeps
//! the error's own message (`to_string()`), which already names the table, column or
//! property and never carries a secret.
//!
//! | Rust error | Python class |
//! |---|---|
//! Source errors are classified by their [`source_core::ErrorKind`], never by the source's own
//! error type, so a new source needs no change here.
//!
//! | error | Python class |
//! |---|---|
//! | `connstr::SyntaxError`, `connstr::ValidationError`, kind `Config` | `ConnectionStringError` (an `InterfaceError`) |
//! | closed connection or cursor, a cursor used by two threads at once, an unknown source | `InterfaceError` |
//! | kind `Auth` (refused or revoked tokens, re-authorization, denied consent, verifier mismatch, missing scopes, HTTP 401/403) | `AuthenticationError` (an `OperationalError`) |
//! | kind `RateLimited` (HTTP 429 after retries, grant limits) | `RateLimitError` (an `OperationalError`) |
//! | kind `Unavailable` (network failures, timeouts, HTTP 5xx, unreadable responses, token store and file failures) | `OperationalError` |
//! | SQL syntax, wrong `?` count, writes to read-only tables, planning errors, kinds `NotFound` and `InvalidQuery` (unknown table, column, procedure or input, missing input, a view missing a required filter, HTTP 404) | `ProgrammingError` |
//! | kind `BadInput` (values a column or the service refuses, HTTP 400/422, Arrow cast errors) | `DataError` |
//! | `sql::Error::PartialWrite` (some rows refused; the others were applied), kind `Conflict` (HTTP 409) | `IntegrityError` |
//! | kind `Unsupported`, statements the engine does not run (`NotImplemented`) | `NotSupportedError` |
//! | kind `Internal`, bugs (an escaped panic, internal DataFusion errors) | `InternalError` |
//! | anything else | `DatabaseError` |

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

impl From<source_core::Error> for DbError {
    fn from(e: source_core::Error) -> Self {
        DbError::new(source_class(&e), e.to_string())
    }
}

impl DbError {
    /// `connect()` named no registered source.
    pub(crate) fn unknown_source(e: source_plugin::UnknownSource) -> Self {
        DbError::new(Class::Interface, e.to_string())
    }
}

fn sql_class(e: &sql::Error) -> Class {
    use sql::Error as E;
    match e {
        E::UnknownTable { .. }
        | E::UnknownColumn { .. }
        | E::UnknownProcedure { .. }
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

/// The class of a source error, from its kind: no source's own error type is inspected.
fn source_class(e: &source_core::Error) -> Class {
    use source_core::ErrorKind as K;
    match e.kind() {
        K::Config => Class::ConnectionString,
        K::Auth => Class::Authentication,
        K::RateLimited => Class::RateLimit,
        K::NotFound | K::InvalidQuery => Class::Programming,
        K::BadInput => Class::Data,
        K::Conflict => Class::Integrity,
        K::Unsupported => Class::NotSupported,
        K::Unavailable => Class::Operational,
        K::Internal => Class::Internal,
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

/// A boxed error inside DataFusion: ours are [`sql::Error`]s or [`source_core::Error`]s.
fn dyn_class(e: &(dyn StdError + Send + Sync + 'static)) -> Class {
    if let Some(s) = e.downcast_ref::<source_core::Error>() {
        source_class(s)
    } else if let Some(s) = e.downcast_ref::<sql::Error>() {
        sql_class(s)
    } else if let Some(df) = e.downcast_ref::<DataFusionError>() {
        engine_class(df)
    } else {
        Class::Database
    }
}
