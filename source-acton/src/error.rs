//! Act-On-specific failures; every one names what it was doing (view, list, endpoint).

use std::time::Duration;

/// A failure talking to Act-On or a query the views cannot answer. Wrapped in
/// [`source_core::Error::Source`] at the trait boundary; recover it with
/// `downcast_ref::<source_acton::Error>()`.
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
    /// No usable token.
    #[error("Act-On {context}: {source}")]
    Auth {
        /// What was being done.
        context: String,
        /// The token provider's error (boxed: it is large and rare).
        #[source]
        source: Box<auth_core::Error>,
    },
    /// Still rate limited after every retry.
    #[error(
        "Act-On {context}: still rate limited (HTTP 429) after {attempts} attempts; another client may be using the account's 5 requests per second"
    )]
    RateLimited {
        /// What was being done.
        context: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Network failure, after retries.
    #[error("Act-On {context}: {message}")]
    Transport {
        /// What was being done.
        context: String,
        /// What failed (no URL query, no token).
        message: String,
    },
    /// The operation ran past the connection's `Timeout`.
    #[error("Act-On {context}: timed out after {limit:?} (raise Timeout)")]
    Timeout {
        /// What was being done.
        context: String,
        /// The limit.
        limit: Duration,
    },
    /// Act-On answered something this crate cannot read.
    #[error("Act-On {context}: unexpected response: {message}")]
    Decode {
        /// What was being done.
        context: String,
        /// What was wrong.
        message: String,
    },
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

impl From<Error> for source_core::Error {
    fn from(e: Error) -> Self {
        source_core::Error::Source(Box::new(e))
    }
}
