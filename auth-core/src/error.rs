//! The errors of auth-core, sorted by what the user can do about them.

use std::time::Duration;

/// Everything that can go wrong between a configuration and a bearer token.
///
/// Messages name the property, file or provider involved and what to do; they never contain a
/// token, secret, password, code or verifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A property is missing or wrong for the chosen flow.
    #[error("{property}: {message}")]
    InvalidConfiguration {
        /// The connection property to fix.
        property: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// The stored tokens cannot be refreshed any more; the user must log in again.
    #[error("re-authorization required: {reason}{}", location.as_ref().map(|l| format!(" (OAuth settings: {l}; run `connector <source> login` or delete the file and connect with InitiateOAuth=GETANDREFRESH)")).unwrap_or_default())]
    ReauthorizationRequired {
        /// Why.
        reason: String,
        /// The settings location involved, if any.
        location: Option<String>,
    },
    /// A static token (private app, or InitiateOAuth=OFF) was refused by the API.
    #[error("the {kind} was refused by the API (invalid or revoked); {hint}")]
    InvalidStaticToken {
        /// "private app token" or "access token".
        kind: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// The user denied access in the browser, or the provider sent an error to the callback.
    #[error("authorization was cancelled or refused by {provider}: {description}")]
    AccessDenied {
        /// The provider.
        provider: String,
        /// The provider's `error` / `error_description`, escaped and truncated.
        description: String,
    },
    /// Nobody completed the browser login in time.
    #[error(
        "no authorization arrived at {callback} within {timeout:?}; open the printed URL and log in, or raise the timeout"
    )]
    AuthorizationTimedOut {
        /// The callback URL listened on.
        callback: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// The flow was cancelled (Ctrl-C, dropped future).
    #[error("the authorization flow was cancelled")]
    Cancelled,
    /// The callback port is taken by another program.
    #[error(
        "cannot listen for the OAuth callback on {address}: port {port} is in use by another program; stop it or register and set a different CallbackURL"
    )]
    CallbackPortInUse {
        /// The address tried.
        address: String,
        /// The port.
        port: u16,
    },
    /// The verifier or callback does not belong to the pending authorization request.
    #[error(
        "OAuthVerifier does not belong to this authorization request ({reason}); restart from GetOAuthAuthorizationURL"
    )]
    VerifierMismatch {
        /// What did not match.
        reason: String,
    },
    /// The provider refused a grant with an OAuth error.
    #[error("{provider} token endpoint refused the {grant} grant (HTTP {status}{}{}){}",
        error.as_ref().map(|e| format!(", {e}")).unwrap_or_default(),
        description.as_ref().map(|d| format!(": {d}")).unwrap_or_default(),
        hint.map(|h| format!("; {h}")).unwrap_or_default())]
    TokenEndpoint {
        /// The provider.
        provider: String,
        /// The grant type.
        grant: &'static str,
        /// HTTP status.
        status: u16,
        /// OAuth `error` (or HubSpot `status`).
        error: Option<String>,
        /// `error_description` (or HubSpot `message`), secrets scrubbed.
        description: Option<String>,
        /// What to do.
        hint: Option<&'static str>,
    },
    /// Too many requests: the provider's rate limit (Act-On allows 5 password/code grants an hour).
    #[error("{provider} rate limit reached for the {grant} grant{}; {advice}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The provider.
        provider: String,
        /// The grant type.
        grant: &'static str,
        /// Retry-After, when sent.
        retry_after: Option<Duration>,
        /// What to do.
        advice: &'static str,
    },
    /// The token endpoint answered something we cannot use.
    #[error("{provider} token response unusable: {reason}")]
    InvalidTokenResponse {
        /// The provider.
        provider: String,
        /// Why (no body values are included).
        reason: String,
    },
    /// A network error or timeout talking to the provider.
    #[error("cannot reach {url}: {message}")]
    Transport {
        /// The endpoint (no query string).
        url: String,
        /// What failed.
        message: String,
    },
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] token_store::Error),
    /// The HTTP client could not be built (proxy, certificate).
    #[error("HTTP client setup: {0}")]
    HttpSetup(String),
}

impl Error {
    /// Whether retrying the same request later may succeed (network, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::RateLimited { .. } => true,
            Self::TokenEndpoint { status, error, .. } => {
                *status >= 500 || error.as_deref() == Some("temporarily_unavailable")
            }
            _ => false,
        }
    }

    /// Whether the provider said the grant (refresh token or code) is dead.
    pub fn is_invalid_grant(&self) -> bool {
        match self {
            Self::TokenEndpoint { error, .. } => matches!(
                error.as_deref(),
                Some("invalid_grant" | "BAD_REFRESH_TOKEN" | "BAD_AUTH_CODE" | "EXPIRED_AUTH_CODE")
            ),
            _ => false,
        }
    }
}

/// auth-core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
