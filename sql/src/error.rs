//! The error every `sql` call returns.

use datafusion::error::DataFusionError;
use source_core::RowError;

/// What went wrong with a statement, naming the table, column, procedure or parameter involved
/// and, for unknown names, the nearest known one.
///
/// ```
/// let e = sql::Error::UnknownTable { name: "evnts".into(), suggestion: Some("events".into()) };
/// assert_eq!(e.to_string(), "table evnts not found; did you mean events?");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No registered source has this table, and it is not a system table.
    #[error("table {name} not found{}", did_you_mean(suggestion))]
    UnknownTable {
        /// The name as written.
        name: String,
        /// The nearest known table.
        suggestion: Option<String>,
    },
    /// No table in the statement has this column.
    #[error("column {column} not found{}{}", table.as_ref().map(|t| format!(" in {t}")).unwrap_or_default(), did_you_mean(suggestion))]
    UnknownColumn {
        /// The table, when the statement names one.
        table: Option<String>,
        /// The name as written.
        column: String,
        /// The nearest known column.
        suggestion: Option<String>,
    },
    /// No procedure of this name.
    #[error("procedure {name} not found{}", suggestion.as_ref().map_or_else(|| known_list(known), |s| format!("; did you mean {s}?")))]
    UnknownProcedure {
        /// The name as written.
        name: String,
        /// The nearest known procedure.
        suggestion: Option<String>,
        /// Every procedure of the session, shown when nothing is near.
        known: Vec<String>,
    },
    /// The number of `?` markers and of values differ.
    #[error("the statement has {expected} `?` parameter(s) but {given} value(s) were given")]
    ParameterCount {
        /// `?` markers in the statement.
        expected: usize,
        /// Values passed.
        given: usize,
    },
    /// The statement cannot be parsed.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// A statement or clause this engine does not run.
    #[error("{0}")]
    Unsupported(String),
    /// The table does not accept this write.
    #[error("{operation} is not allowed on {table}: {reason}")]
    NotWritable {
        /// `INSERT`, `UPDATE` or `DELETE`.
        operation: &'static str,
        /// The table.
        table: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// Some rows of a write failed; the others were applied (there are no transactions).
    #[error("{operation} on {table}: {affected} row(s) applied, {} failed; first: row {}{}: {}",
        errors.len(),
        errors.first().map(RowError::row_label).unwrap_or_default(),
        errors.first().and_then(|e| e.column.as_ref()).map(|c| format!(" column {c}")).unwrap_or_default(),
        errors.first().map(|e| e.message.as_str()).unwrap_or_default())]
    PartialWrite {
        /// `INSERT`, `UPDATE` or `DELETE`.
        operation: &'static str,
        /// The table.
        table: String,
        /// Rows written.
        affected: u64,
        /// Every failed row, in input order.
        errors: Vec<RowError>,
    },
    /// The source failed (HTTP, authentication, a value it refused, …).
    #[error(transparent)]
    Source(#[from] source_core::Error),
    /// DataFusion failed planning or running the query.
    #[error("{}", engine_message(.0))]
    Engine(Box<DataFusionError>),
    /// Writing an export file failed.
    #[error("export: {0}")]
    Export(String),
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "; this connection has no procedures".to_owned()
    } else {
        format!("; procedures: {}", known.join(", "))
    }
}

fn did_you_mean(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!("; did you mean {s}?"))
        .unwrap_or_default()
}

/// DataFusion's message without its internal prefixes ("Error during planning: ").
fn engine_message(e: &DataFusionError) -> String {
    match e {
        DataFusionError::Plan(m) => m.clone(),
        DataFusionError::SQL(e, _) => format!("syntax error: {e}"),
        DataFusionError::NotImplemented(m) => format!("not supported: {m}"),
        DataFusionError::Context(c, inner) => format!("{c}: {}", engine_message(inner)),
        DataFusionError::Diagnostic(_, inner) => engine_message(inner),
        other => other.to_string(),
    }
}

impl From<DataFusionError> for Error {
    /// Unwraps source errors that travelled through DataFusion, so callers see the source's
    /// own message (and can match on it).
    fn from(e: DataFusionError) -> Self {
        match e {
            DataFusionError::External(inner) => match inner.downcast::<source_core::Error>() {
                Ok(source) => Error::Source(*source),
                Err(other) => match other.downcast::<Error>() {
                    Ok(ours) => *ours,
                    Err(other) => Error::Engine(Box::new(DataFusionError::External(other))),
                },
            },
            DataFusionError::Context(_, inner)
                if matches!(*inner, DataFusionError::External(_)) =>
            {
                Error::from(*inner)
            }
            DataFusionError::Shared(shared) => match std::sync::Arc::try_unwrap(shared) {
                Ok(inner) => Error::from(inner),
                Err(shared) => Error::Engine(Box::new(DataFusionError::Shared(shared))),
            },
            other => Error::Engine(Box::new(other)),
        }
    }
}

impl From<datafusion::arrow::error::ArrowError> for Error {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        Error::Source(source_core::Error::Arrow(e))
    }
}

/// `sql`'s result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A source error as DataFusion carries it through a plan.
pub(crate) fn to_df(e: source_core::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}
