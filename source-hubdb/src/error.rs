//! HubDB-specific failures; every one names what it was doing (table, row, endpoint).

use std::time::Duration;

/// A failure talking to HubSpot. Wrapped in [`source_core::Error::Source`] at the trait
/// boundary; recover it with `downcast_ref::<source_hubdb::Error>()`.
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
    /// No usable token.
    #[error("HubDB {context}: {source}")]
    Auth {
        /// What was being done.
        context: String,
        /// The token provider's error (boxed: it is large and rare).
        #[source]
        source: Box<auth_core::Error>,
    },
    /// Still rate limited after every retry.
    #[error(
        "HubDB {context}: still rate limited (HTTP 429) after {attempts} attempts; another client may be using the same app's allowance"
    )]
    RateLimited {
        /// What was being done.
        context: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Network failure, after retries for reads.
    #[error("HubDB {context}: {message}")]
    Transport {
        /// What was being done.
        context: String,
        /// What failed (no URL query, no token).
        message: String,
    },
    /// The operation ran past the connection's `Timeout`.
    #[error("HubDB {context}: timed out after {:?} (raise Timeout)", limit)]
    Timeout {
        /// What was being done.
        context: String,
        /// The limit.
        limit: Duration,
    },
    /// HubSpot answered something this crate cannot read.
    #[error("HubDB {context}: unexpected response: {message}")]
    Decode {
        /// What was being done.
        context: String,
        /// What was wrong.
        message: String,
    },
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

impl From<Error> for source_core::Error {
    fn from(e: Error) -> Self {
        source_core::Error::Source(Box::new(e))
    }
}
