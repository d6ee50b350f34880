//! A provider definition: everything that differs between OAuth servers.

use url::Url;

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (HubSpot v3 requires this; Act-On too).
    RequestBody,
    /// HTTP Basic with the client id and secret.
    BasicAuth,
}

/// What an OAuth server needs and how it deviates from RFC 6749.
///
/// ```
/// use auth_core::provider::{ClientAuth, Provider};
/// let p = Provider::new("Example", "Example", "https://auth.example/authorize", "https://auth.example/token")?;
/// assert_eq!(p.client_auth, ClientAuth::RequestBody);
/// # Ok::<(), url::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Provider {
    /// The provider's name for messages ("HubSpot", "Act-On").
    pub name: String,
    /// The data source the tokens belong to, as stored ("HubDB", "Act-On").
    pub source: String,
    /// Authorization endpoint.
    pub authorization_url: Url,
    /// Token endpoint.
    pub token_url: Url,
    /// Client authentication style.
    pub client_auth: ClientAuth,
    /// Scopes requested when the user sets none.
    pub default_scopes: Vec<String>,
    /// Whether to send PKCE (S256) on authorization-code requests.
    pub pkce: bool,
    /// Whether the server rotates refresh tokens and refuses a used one (Act-On does).
    pub single_use_refresh_tokens: bool,
    /// Whether to send `redirect_uri` on refresh requests (legacy HubSpot v1 did).
    pub redirect_uri_on_refresh: bool,
    /// Lifetime assumed when a token response has no `expires_in`.
    pub default_expires_in: Option<u64>,
    /// A hint appended to rate-limit errors on password/code grants.
    pub grant_rate_limit_advice: &'static str,
    /// The RFC 7009 revocation endpoint `logout` posts the refresh token to, when known.
    pub revocation_url: Option<Url>,
    /// The RFC 7662 introspection endpoint `status --check` asks about the access token, when
    /// known.
    pub introspection_url: Option<Url>,
    /// The issuer an authorization response's `iss` must name (RFC 9207); `None`: the origin of
    /// the authorization endpoint.
    pub issuer: Option<String>,
    /// Whether a token response's `scope` names the scopes requested, so that a missing one is
    /// worth a warning (HubSpot: yes; Act-On answers `default` or `offline-access` to a request
    /// for `PRODUCTION`, which says nothing about what was granted).
    pub granted_scope_names_requested: bool,
}

impl Provider {
    /// The issuer an `iss` parameter must match: [`Provider::issuer`], else the authorization
    /// endpoint's origin.
    pub fn expected_issuer(&self) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| self.authorization_url.origin().ascii_serialization())
    }

    /// The name used in messages: the provider and the token endpoint's host, so that an error
    /// from an endpoint pointed elsewhere does not claim to come from the vendor alone.
    pub fn endpoint_name(&self) -> String {
        match self.token_url.host_str() {
            Some(host) => match self.token_url.port() {
                Some(port) => format!("{} ({host}:{port})", self.name),
                None => format!("{} ({host})", self.name),
            },
            None => self.name.clone(),
        }
    }

    /// A provider with RFC 6749 defaults: body client auth, PKCE on, no scopes.
    pub fn new(
        name: &str,
        source: &str,
        authorization_url: &str,
        token_url: &str,
    ) -> Result<Self, url::ParseError> {
        Ok(Self {
            name: name.to_owned(),
            source: source.to_owned(),
            authorization_url: Url::parse(authorization_url)?,
            token_url: Url::parse(token_url)?,
            client_auth: ClientAuth::RequestBody,
            default_scopes: Vec::new(),
            pkce: true,
            single_use_refresh_tokens: false,
            redirect_uri_on_refresh: false,
            default_expires_in: None,
            grant_rate_limit_advice: "wait and try again",
            revocation_url: None,
            introspection_url: None,
            issuer: None,
            granted_scope_names_requested: true,
        })
    }
}
