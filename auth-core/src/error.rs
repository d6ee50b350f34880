//! The errors of auth-core, sorted by what the user can do about them.

use std::sync::Arc;
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
    #[error("re-authorization required: {reason}{}", location.as_ref().map(|l| format!(" (OAuth settings: {l}; {})", login_advice(command.as_deref()))).unwrap_or_default())]
    ReauthorizationRequired {
        /// Why.
        reason: String,
        /// The settings location involved, if any.
        location: Option<String>,
        /// The CLI name of the source (`acton`, `hubdb`), for the advice.
        command: Option<String>,
    },
    /// The settings file holds tokens that another process rotated but could not save (FS-3):
    /// its refresh token has already been used.
    #[error("the OAuth tokens in {location} are out of date: {}", stale_advice(*holder, *holder_running))]
    StaleSettings {
        /// The settings file.
        location: String,
        /// The process that holds the newer tokens, when recorded.
        holder: Option<u32>,
        /// Whether that process is still running (it saves them on its next use).
        holder_running: bool,
    },
    /// The settings file holds tokens issued to another OAuth app; they are neither used,
    /// overwritten nor deleted.
    #[error(
        "{location} holds OAuth tokens of client id {stored_client_id}, not of OAuthClientId {client_id}; use another OAuthSettingsLocation for this app, or delete the file if those tokens are no longer needed"
    )]
    TokensOfAnotherClient {
        /// The settings file.
        location: String,
        /// The client id the stored tokens were issued to (not a secret).
        stored_client_id: String,
        /// The configured client id.
        client_id: String,
    },
    /// The callback's `iss` names another authorization server (RFC 9207 mix-up defence).
    #[error(
        "the authorization response came from issuer {received}, not from {expected}; the flow was aborted (check OAuthAuthorizationURL)"
    )]
    IssuerMismatch {
        /// The issuer we expected.
        expected: String,
        /// The `iss` parameter received (escaped, truncated).
        received: String,
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
    /// Cancelled: Ctrl-C, a dropped future, or a program that is stopping.
    #[error("cancelled")]
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
    /// A network error before the request reached the provider (connection refused, DNS).
    #[error("cannot reach {url}: {message}")]
    Transport {
        /// The endpoint (no query string).
        url: String,
        /// What failed.
        message: String,
    },
    /// The request may have reached the provider, but its answer was lost (timeout, reset,
    /// truncated body): the provider may have acted on it.
    #[error("the answer from {url} was lost: {message}")]
    AnswerLost {
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
    /// The outcome of a refresh shared by every caller that waited for it (single flight).
    #[error(transparent)]
    Shared(Arc<Error>),
}

fn login_advice(command: Option<&str>) -> String {
    let login = command.map_or_else(
        || "log in again".to_owned(),
        |c| format!("run `connector {c} login`"),
    );
    format!("{login}, or delete the file and connect with InitiateOAuth=GETANDREFRESH")
}

fn stale_advice(holder: Option<u32>, running: bool) -> String {
    match (holder, running) {
        (Some(pid), true) => format!(
            "process {pid} refreshed them but could not save the new ones (disk full or not writable?); it retries on its next use: free space or fix the permissions, then try again"
        ),
        (Some(pid), false) => format!(
            "process {pid} refreshed them but exited before it could save the new ones; the stored refresh token is used up: log in again"
        ),
        (None, _) => "another process refreshed them but could not save the new ones; free space or fix the permissions, or log in again".to_owned(),
    }
}

impl Error {
    /// Whether retrying the same request later may succeed (network, 5xx, 429).
    pub fn is_transient(&self) -> bool {
        match self.inner() {
            Self::Transport { .. } | Self::AnswerLost { .. } | Self::RateLimited { .. } => true,
            // TE-7: `server_error` and `temporarily_unavailable` are transient whatever the status.
            Self::TokenEndpoint { status, error, .. } => {
                *status >= 500
                    || matches!(
                        error.as_deref(),
                        Some("temporarily_unavailable" | "server_error")
                    )
            }
            _ => false,
        }
    }

    /// Whether a request with a single-use credential may be sent again as is: only when the
    /// provider cannot have acted on it (not reached, or refused as rate limited).
    pub fn is_safe_to_replay(&self) -> bool {
        match self.inner() {
            Self::Transport { .. } | Self::RateLimited { .. } => true,
            Self::TokenEndpoint { status, error, .. } => {
                *status == 429 || error.as_deref() == Some("temporarily_unavailable")
            }
            _ => false,
        }
    }

    /// The error itself, or the one a shared single-flight outcome wraps.
    pub fn inner(&self) -> &Error {
        match self {
            Self::Shared(e) => e.inner(),
            other => other,
        }
    }

    /// A shared single-flight outcome as the caller's own error: unwrapped when this caller
    /// holds the last reference, else copied (so that callers can match on the variant), and
    /// wrapped only when it cannot be copied (store and setup errors).
    pub(crate) fn from_shared(e: Arc<Error>) -> Error {
        Arc::try_unwrap(e).unwrap_or_else(|shared| shared.copy().unwrap_or(Error::Shared(shared)))
    }

    /// A copy of the error, for the variants made of plain values.
    fn copy(&self) -> Option<Error> {
        use Error as E;
        Some(match self {
            E::InvalidConfiguration { property, message } => E::InvalidConfiguration {
                property,
                message: message.clone(),
            },
            E::ReauthorizationRequired {
                reason,
                location,
                command,
            } => E::ReauthorizationRequired {
                reason: reason.clone(),
                location: location.clone(),
                command: command.clone(),
            },
            E::StaleSettings {
                location,
                holder,
                holder_running,
            } => E::StaleSettings {
                location: location.clone(),
                holder: *holder,
                holder_running: *holder_running,
            },
            E::AccessDenied {
                provider,
                description,
            } => E::AccessDenied {
                provider: provider.clone(),
                description: description.clone(),
            },
            E::Cancelled => E::Cancelled,
            E::TokenEndpoint {
                provider,
                grant,
                status,
                error,
                description,
                hint,
            } => E::TokenEndpoint {
                provider: provider.clone(),
                grant,
                status: *status,
                error: error.clone(),
                description: description.clone(),
                hint: *hint,
            },
            E::RateLimited {
                provider,
                grant,
                retry_after,
                advice,
            } => E::RateLimited {
                provider: provider.clone(),
                grant,
                retry_after: *retry_after,
                advice,
            },
            E::InvalidTokenResponse { provider, reason } => E::InvalidTokenResponse {
                provider: provider.clone(),
                reason: reason.clone(),
            },
            E::Transport { url, message } => E::Transport {
                url: url.clone(),
                message: message.clone(),
            },
            E::AnswerLost { url, message } => E::AnswerLost {
                url: url.clone(),
                message: message.clone(),
            },
            E::Shared(inner) => return inner.copy(),
            _ => return None,
        })
    }

    /// Whether the provider said the grant (refresh token or code) is dead.
    pub fn is_invalid_grant(&self) -> bool {
        match self.inner() {
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
