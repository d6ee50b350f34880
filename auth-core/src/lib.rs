//! Everything between a validated connection configuration and a valid bearer token.
//!
//! - [`TokenProvider`]: the one contract sources use — `access_token()` for each request and
//!   `on_unauthorized(failed)` after a 401 (refresh once if that token is still current).
//! - [`StaticTokenProvider`]: a HubDB private-app token or an `InitiateOAuth=OFF` access token;
//!   never refreshed, a 401 is terminal.
//! - [`Authenticator`]: the `InitiateOAuth` modes over a [`provider::Provider`] — desktop browser
//!   flow with a loopback callback, headless verifier exchange, password grant, stored tokens
//!   with safe refresh (single-flight in a process, under the token store's lock across processes).
//! - [`http`]: the one shared HTTP client (timeouts, proxy, SOCKS5 firewall, SSLServerCert).
//!
//! # A valid access token, and nothing else
//! A program that only needs a HubDB or Act-On access token depends on this crate and the
//! source crate without its `data` feature (no Arrow, no DataFusion):
//!
//! ```toml
//! [dependencies]
//! auth-core = { path = "auth-core" }
//! source-hubdb = { path = "source-hubdb", default-features = false }
//! ```
//!
//! ```text
//! let cs: connstr::ConnectionString = "AuthScheme=OAuth;InitiateOAuth=GETANDREFRESH;OAuthClientId=…;OAuthClientSecret=…".parse()?;
//! let tokens = source_hubdb::token_provider(&source_hubdb::validate(&cs)?)?;  // no request yet
//! let bearer = tokens.access_token().await?;                                   // login or refresh as needed
//! ```
//!
//! (`source_hubdb::token_provider` and `source_acton::token_provider` have this example as a
//! tested doctest; the provider definitions are `source_hubdb::provider` and
//! `source_acton::provider`.) The application, not this library, sets up logging: `tracing`
//! events are emitted, no global subscriber is installed.
//!
//! # Security
//! Token requests never follow redirects, go over HTTPS except to loopback hosts, and secrets
//! live in [`connstr::Secret`] (Debug prints `[redacted]`, zeroized on drop). Nothing here logs a
//! token, code, verifier, password or secret.
//!
//! ```
//! # async fn run() -> Result<(), auth_core::Error> {
//! use auth_core::{StaticTokenProvider, TokenProvider};
//! let provider = StaticTokenProvider::private_app(connstr::Secret::new("pat-na1-123"));
//! assert_eq!(provider.access_token().await?.expose(), "pat-na1-123");
//! assert!(provider.on_unauthorized(&provider.access_token().await?).await.is_err());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod authenticator;
pub mod browser;
pub mod callback;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod grants;
pub mod http;
mod introspect;
pub mod pkce;
pub mod provider;
mod refresh;
mod revoke;
pub mod time;
pub mod token;

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub(crate) use authenticator::PENDING_STATE;
pub use authenticator::{
    Authenticator, AuthenticatorBuilder, DEFAULT_BROWSER_TIMEOUT, DEFAULT_LOCK_TIMEOUT,
    DEFAULT_REFRESH_JITTER, DEFAULT_REFRESH_MARGIN, Grant, TokenStatus, authenticator_for,
    authorization_url, parse_verifier, store_for,
};
pub use connstr::Secret;
pub use error::{Error, Result};
pub use introspect::Introspection;
pub use refresh::{stop_new_token_requests, token_requests_pending, wait_for_pending_refreshes};
pub use revoke::{LogoutReport, Revocation};

/// A boxed future, as the object-safe trait methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Gives sources a bearer token for each request.
///
/// Implementations refresh ahead of expiry; callers only need to call
/// [`TokenProvider::on_unauthorized`] when the API still answers 401, then retry once with the
/// token it returns.
pub trait TokenProvider: Send + Sync + Debug {
    /// A token that is valid now (refreshed first if needed).
    fn access_token(&self) -> BoxFuture<'_, Result<Secret>>;

    /// The API refused `failed` with 401. Returns the token to retry with (after one forced
    /// refresh if `failed` is still the current token), or an error when a retry cannot help.
    fn on_unauthorized<'a>(&'a self, failed: &'a Secret) -> BoxFuture<'a, Result<Secret>>;
}

/// A cloneable handle to a token provider.
pub type SharedTokenProvider = Arc<dyn TokenProvider>;

/// A token that never changes: a HubDB private-app token, or `OAuthAccessToken` with
/// `InitiateOAuth=OFF`.
#[derive(Debug, Clone)]
pub struct StaticTokenProvider {
    token: Secret,
    kind: &'static str,
    hint: &'static str,
}

impl StaticTokenProvider {
    /// A HubSpot private-app token.
    pub fn private_app(token: Secret) -> Self {
        Self {
            token,
            kind: "private app token",
            hint: "create a new token in HubSpot (Settings > Integrations > Private apps) and set PrivateAppToken, or, where private apps can no longer be created, a service key (Development > Keys > Service keys) with AuthScheme=ServiceKey",
        }
    }

    /// A HubSpot service key, the successor of private-app tokens (the same kind of bearer).
    pub fn service_key(token: Secret) -> Self {
        Self {
            token,
            kind: "service key",
            hint: "create a new key in HubSpot (Development > Keys > Service keys, with the hubdb scope) and set ServiceKey",
        }
    }

    /// An access token given with `InitiateOAuth=OFF`.
    pub fn access_token_off(token: Secret) -> Self {
        Self {
            token,
            kind: "access token",
            hint: "InitiateOAuth=OFF never refreshes: set a new OAuthAccessToken (e.g. from EXEC RefreshOAuthAccessToken) or use InitiateOAuth=REFRESH",
        }
    }
}

impl TokenProvider for StaticTokenProvider {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret>> {
        let token = self.token.clone();
        Box::pin(async move { Ok(token) })
    }

    fn on_unauthorized<'a>(&'a self, _failed: &'a Secret) -> BoxFuture<'a, Result<Secret>> {
        Box::pin(async move {
            Err(Error::InvalidStaticToken {
                kind: self.kind,
                hint: self.hint,
            })
        })
    }
}
