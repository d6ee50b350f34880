//! HubSpot's OAuth provider and the token provider of a [`HubDbConfig`]: all a program needs
//! for a valid HubDB access token, without Arrow (the crate's `data` feature off).
//!
//! ```
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let cs: connstr::ConnectionString = "AuthScheme=PrivateApp;PrivateAppToken=pat-na1-123".parse()?;
//! let tokens = source_hubdb::token_provider(&source_hubdb::validate(&cs)?)?;
//! assert_eq!(tokens.access_token().await?.expose(), "pat-na1-123");
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run()).unwrap();
//! ```

use std::sync::Arc;

use auth_core::SharedTokenProvider;
use auth_core::provider::{ClientAuth, Provider};

use crate::config::{HubDbAuthScheme, HubDbConfig};

/// HubSpot's OAuth provider definition for `auth-core`.
///
/// ```
/// let cs: connstr::ConnectionString = "AuthScheme=OAuth;OAuthClientId=x;OAuthClientSecret=y".parse()?;
/// let config = source_hubdb::validate(&cs)?;
/// let p = source_hubdb::provider(&config);
/// assert_eq!(p.token_url.as_str(), "https://api.hubapi.com/oauth/2026-03/token");
/// assert_eq!(p.default_scopes, ["hubdb", "crm.objects.owners.read", "oauth"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn provider(config: &HubDbConfig) -> Provider {
    let common = &config.common;
    let scopes: Vec<String> = match common.scope.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => ["hubdb", "crm.objects.owners.read", "oauth"]
            .map(str::to_owned)
            .to_vec(),
    };
    Provider {
        name: "HubSpot".into(),
        source: "HubDB".into(),
        authorization_url: common.oauth_authorization_url.clone(),
        token_url: common.oauth_access_token_url.clone(),
        client_auth: ClientAuth::RequestBody,
        default_scopes: scopes,
        pkce: true,
        single_use_refresh_tokens: false,
        redirect_uri_on_refresh: false,
        // HubSpot's access tokens live 30 minutes.
        default_expires_in: Some(1800),
        grant_rate_limit_advice: "wait a few seconds and try again",
        revocation_url: Some(common.oauth_revocation_url.clone().unwrap_or_else(|| {
            endpoint_beside(
                &common.oauth_access_token_url,
                config.api_version.revocation_path(),
            )
        })),
        introspection_url: Some(endpoint_beside(
            &common.oauth_access_token_url,
            config.api_version.introspection_path(),
        )),
        issuer: None,
        granted_scope_names_requested: true,
    }
}

/// `path` on the token endpoint's origin (HubSpot serves all OAuth endpoints from one host).
fn endpoint_beside(token_url: &url::Url, path: &str) -> url::Url {
    let mut url = token_url.clone();
    url.set_path(path);
    url.set_query(None);
    url
}

/// The static token of `AuthScheme=PrivateApp` or `ServiceKey`, `None` under OAuth.
pub fn private_app(
    config: &HubDbConfig,
) -> auth_core::Result<Option<auth_core::StaticTokenProvider>> {
    use auth_core::StaticTokenProvider as Static;
    match (config.auth_scheme, &config.private_app_token) {
        (HubDbAuthScheme::OAuth, _) => Ok(None),
        (HubDbAuthScheme::PrivateApp, Some(t)) => Ok(Some(Static::private_app(t.clone()))),
        (HubDbAuthScheme::ServiceKey, Some(t)) => Ok(Some(Static::service_key(t.clone()))),
        (HubDbAuthScheme::PrivateApp, None) => Err(auth_core::Error::InvalidConfiguration {
            property: "PrivateAppToken",
            message: "required when AuthScheme=PrivateApp".into(),
        }),
        (HubDbAuthScheme::ServiceKey, None) => Err(auth_core::Error::InvalidConfiguration {
            property: "ServiceKey",
            message: "required when AuthScheme=ServiceKey".into(),
        }),
    }
}

/// The token provider for a configuration: the private-app token as is
/// (`AuthScheme=PrivateApp`), or auth-core's authenticator over [`provider`] for
/// `AuthScheme=OAuth` (a static token with `InitiateOAuth=OFF`; stored tokens with refresh,
/// or the login flow, otherwise). Makes no request.
pub fn token_provider(config: &HubDbConfig) -> auth_core::Result<SharedTokenProvider> {
    match private_app(config)? {
        Some(token) => Ok(Arc::new(token)),
        None => auth_core::authenticator_for(
            provider(config),
            &config.common,
            auth_core::Grant::AuthorizationCode,
        ),
    }
}
