//! Revoking a refresh token at the provider (RFC 7009) when the user logs out.

use connstr::Secret;

use crate::grants::TokenClient;

/// What happened to the refresh token at the provider during a logout.
///
/// ```
/// use auth_core::Revocation;
/// let r = Revocation::Failed { url: "https://p.example/revoke".into(), reason: "HTTP 404".into() };
/// assert!(!r.is_revoked());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// The provider accepted the revocation request (RFC 7009: 200, or 204 as HubSpot answers).
    Revoked {
        /// The revocation endpoint.
        url: String,
    },
    /// The provider refused the request or could not be reached: the token may still work.
    Failed {
        /// The revocation endpoint.
        url: String,
        /// What went wrong (no token values).
        reason: String,
    },
    /// No revocation endpoint is known for this provider (set `OAuthRevocationURL`).
    NoEndpoint,
    /// Nothing to revoke: no refresh token was stored.
    NoRefreshToken,
}

impl Revocation {
    /// Whether the provider confirmed the revocation.
    pub fn is_revoked(&self) -> bool {
        matches!(self, Self::Revoked { .. })
    }
}

/// What `logout` did: the local tokens and the provider's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutReport {
    /// Where the tokens were deleted from (`None` when nothing persists).
    pub location: Option<String>,
    /// Whether a token record existed and was deleted.
    pub deleted: bool,
    /// The provider's side.
    pub revocation: Revocation,
}

/// Sends an RFC 7009 revocation request for `refresh_token` (`token_type_hint=refresh_token`,
/// client authentication as for the token endpoint). Never follows redirects (the shared client
/// has none) and never puts the token in the URL.
pub(crate) async fn revoke(tokens: &TokenClient, refresh_token: Option<&Secret>) -> Revocation {
    let Some(refresh_token) = refresh_token else {
        return Revocation::NoRefreshToken;
    };
    let Some(url) = tokens.provider.revocation_url.clone() else {
        return Revocation::NoEndpoint;
    };
    let shown = crate::http::display_url(&url);
    let mut form = vec![
        ("token", refresh_token.expose().to_owned()),
        ("token_type_hint", "refresh_token".to_owned()),
    ];
    let request = tokens.authenticated_post(&url, &mut form);
    let Ok(body) = serde_urlencoded::to_string(&form) else {
        return Revocation::Failed {
            url: shown,
            reason: "cannot encode the request".to_owned(),
        };
    };
    let sent = request
        .header("Content-Type", "application/x-www-form-urlencoded")
        .timeout(tokens.request_timeout())
        .body(body)
        .send()
        .await;
    match sent {
        Ok(resp) if resp.status().is_success() => Revocation::Revoked { url: shown },
        Ok(resp) => Revocation::Failed {
            url: shown,
            reason: format!("HTTP {}", resp.status().as_u16()),
        },
        Err(e) => Revocation::Failed {
            url: shown,
            reason: crate::http::transport_error(&url, e).to_string(),
        },
    }
}
