//! Act-On-specific failures; every one names what it was doing (view, list, endpoint).

use source_core::ErrorKind;
use source_http::status_kind;

/// A failure talking to Act-On or a query the views cannot answer. Wrapped in
/// [`source_core::Error::Source`] with its [`ErrorKind`] at the trait boundary, so callers
/// need not know this type.
///
/// ```
/// let e = source_acton::Error::MissingFilter {
///     table: "Reports".into(),
///     column: "MessageId".into(),
///     allowed: "a sent or triggered message id, e.g. 's-0001-2401'".into(),
/// };
/// assert!(e.to_string().contains("requires a filter on `MessageId`"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Act-On answered with an error status.
    #[error("Act-On {context}: HTTP {status}: {message}")]
    Api {
        /// What was being done (`reading `List_Customers``).
        context: String,
        /// HTTP status.
        status: u16,
        /// Act-On's `message` (or the gateway fault's description).
        message: String,
    },
    /// Authentication, rate limit, network, timeout or an unreadable answer.
    #[error(transparent)]
    Http(#[from] source_http::HttpError),
    /// The connection properties cannot be used.
    #[error("Act-On {property}: {message}")]
    Config {
        /// The property to fix.
        property: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The view needs a filter the query does not have (the API has no "all" endpoint for it).
    #[error(
        "`{table}` requires a filter on `{column}` (`{column} = ...` or `{column} IN (...)`); allowed values: {allowed}"
    )]
    MissingFilter {
        /// The view.
        table: String,
        /// The column to filter on.
        column: String,
        /// What values the filter takes.
        allowed: String,
    },
    /// A pushed filter has a value the API does not accept.
    #[error("`{table}`: {value} is not a valid `{column}`; allowed values: {allowed}")]
    InvalidFilterValue {
        /// The view.
        table: String,
        /// The column.
        column: String,
        /// The value given, as SQL.
        value: String,
        /// What values the filter takes.
        allowed: String,
    },
}

impl Error {
    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl Error {
    /// What kind of failure this is, for callers that do not know Act-On.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { status, .. } => status_kind(*status),
            Error::Http(e) => e.kind(),
            Error::Config { .. } => ErrorKind::Config,
            Error::MissingFilter { .. } => ErrorKind::InvalidQuery,
            Error::InvalidFilterValue { .. } => ErrorKind::BadInput,
        }
    }

    /// An unreadable answer.
    pub(crate) fn decode(context: &str, message: impl ToString) -> Self {
        source_http::HttpError::decode(&crate::client::SERVICE, context, message).into()
    }
}

impl From<Error> for source_core::Error {
    fn from(e: Error) -> Self {
        source_core::Error::with_kind(e.kind(), e)
    }
}
