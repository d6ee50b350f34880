//! HubDB-specific failures; every one names what it was doing (table, row, endpoint).

use source_core::ErrorKind;
use source_http::status_kind;

/// A failure talking to HubSpot. Wrapped in [`source_core::Error::Source`] with its
/// [`ErrorKind`] at the trait boundary, so callers need not know this type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HubSpot answered with an error status.
    #[error("HubDB {context}: HTTP {status}{}: {message}", category.as_ref().map(|c| format!(" {c}")).unwrap_or_default())]
    Api {
        /// What was being done (`reading table `events``).
        context: String,
        /// HTTP status.
        status: u16,
        /// HubSpot's `category` (`VALIDATION_ERROR`, `OBJECT_NOT_FOUND`, ...).
        category: Option<String>,
        /// HubSpot's `message`.
        message: String,
    },
    /// The token lacks a scope the endpoint needs.
    #[error("HubDB {context}: the app has not been granted the required scopes ({}); add them to the app (and to Scope for OAuth) and authorize again", required.join(", "))]
    MissingScopes {
        /// What was being done.
        context: String,
        /// The scopes HubSpot listed (any one of them suffices).
        required: Vec<String>,
    },
    /// Authentication, rate limit, network, timeout or an unreadable answer.
    #[error(transparent)]
    Http(#[from] source_http::HttpError),
    /// The connection properties cannot be used.
    #[error("HubDB {property}: {message}")]
    Config {
        /// The property to fix.
        property: &'static str,
        /// What is wrong.
        message: String,
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
    /// What kind of failure this is, for callers that do not know HubDB.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { status, .. } => status_kind(*status),
            Error::MissingScopes { .. } => ErrorKind::Auth,
            Error::Http(e) => e.kind(),
            Error::Config { .. } => ErrorKind::Config,
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
