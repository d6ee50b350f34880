//! Act-On's OAuth provider definition and the token provider for a validated [`ActOnConfig`].
//!
//! Endpoints come from `connstr`'s resolved `Region` / `APIBaseURL` (`{base}/authorize`,
//! `{base}/token`, form bodies), scope `PRODUCTION`, single-use refresh tokens (auth-core
//! persists each new pair before using it and never presents a refresh token twice), a 3600 s
//! default lifetime, and advice for Act-On's 5-grants-per-hour limit.

use crate::config::{ActOnAuthScheme, ActOnConfig};
use auth_core::provider::{ClientAuth, Provider};
use auth_core::{Grant, SharedTokenProvider};

/// The embedded app's client id, when this build has one.
pub const EMBEDDED_CLIENT_ID: Option<&str> = option_env!("CONNECTOR_ACTON_CLIENT_ID");
/// The embedded app's client secret, when this build has one.
pub const EMBEDDED_CLIENT_SECRET: Option<&str> = option_env!("CONNECTOR_ACTON_CLIENT_SECRET");

/// Act-On's OAuth provider definition for a configuration (Region / APIBaseURL / endpoint
/// overrides already resolved by `connstr`).
pub fn provider(config: &ActOnConfig) -> Provider {
    let common = &config.common;
    Provider {
        name: "Act-On".to_owned(),
        source: "Act-On".to_owned(),
        authorization_url: common.oauth_authorization_url.clone(),
        token_url: common.oauth_access_token_url.clone(),
        client_auth: ClientAuth::RequestBody,
        default_scopes: vec!["PRODUCTION".to_owned()],
        pkce: true,
        // "Each refresh token can only be used once" (Act-On OAuth overview).
        single_use_refresh_tokens: true,
        redirect_uri_on_refresh: false,
        default_expires_in: Some(3600),
        grant_rate_limit_advice: "Act-On allows 5 password or code grants per hour per user; wait before trying again (refreshes are not limited this way)",
        // Act-On publishes no revocation endpoint; OAuthRevocationURL can name one.
        revocation_url: common.oauth_revocation_url.clone(),
        // Act-On documents no introspection endpoint.
        introspection_url: None,
        issuer: None,
        // Its token answers carry `default` or `offline-access`, never the `PRODUCTION` asked for.
        granted_scope_names_requested: false,
    }
}

/// The grant that obtains a first token for this configuration.
pub fn grant(config: &ActOnConfig) -> Grant {
    match (config.auth_scheme, &config.user, &config.password) {
        (ActOnAuthScheme::OAuthPassword, Some(user), Some(password)) => Grant::Password {
            user: user.clone(),
            password: password.clone(),
        },
        _ => Grant::AuthorizationCode,
    }
}

/// The configuration with the embedded app filled in when no client id is set.
pub fn with_embedded_app(config: &ActOnConfig) -> ActOnConfig {
    let mut config = config.clone();
    if config.common.oauth_client_id.is_none()
        && let (Some(id), Some(secret)) = (EMBEDDED_CLIENT_ID, EMBEDDED_CLIENT_SECRET)
    {
        config.common.oauth_client_id = Some(id.to_owned());
        config.common.oauth_client_secret = Some(secret.into());
    }
    config
}

/// The authenticator for an Act-On connection.
pub fn authenticator(config: &ActOnConfig) -> auth_core::Result<auth_core::Authenticator> {
    let config = with_embedded_app(config);
    auth_core::Authenticator::from_config(provider(&config), &config.common, grant(&config))
}

/// The token provider for an Act-On connection (a static token for `InitiateOAuth=OFF`).
pub fn token_provider(config: &ActOnConfig) -> auth_core::Result<SharedTokenProvider> {
    let config = with_embedded_app(config);
    auth_core::authenticator_for(provider(&config), &config.common, grant(&config))
}
