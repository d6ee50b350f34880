//! Asking the provider whether the stored access token is still alive (RFC 7662).
//!
//! HubSpot's date-versioned endpoints answer a dead token (expired, revoked, unknown) with
//! `200 {"active": false}`, not with an error: a 200 alone proves nothing, `active` decides.

use connstr::Secret;

use crate::grants::TokenClient;

/// What the provider said about the access token.
///
/// ```
/// use auth_core::Introspection;
/// assert!(!Introspection::Inactive.is_active());
/// assert!(Introspection::Active { expires_in_s: Some(60), scopes: vec![] }.is_active());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    /// `active: true`.
    Active {
        /// Seconds left, when the provider said.
        expires_in_s: Option<u64>,
        /// The scopes the token carries, when the provider said.
        scopes: Vec<String>,
    },
    /// `active: false`: the token is dead (expired, revoked or unknown to the provider).
    Inactive,
    /// The request failed or the answer was not an introspection response.
    Failed {
        /// The introspection endpoint.
        url: String,
        /// What went wrong (no token values).
        reason: String,
    },
    /// No introspection endpoint is known for this provider.
    NoEndpoint,
    /// No access token is stored or given.
    NoAccessToken,
}

impl Introspection {
    /// Whether the provider said the token is active.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active { .. })
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    active: bool,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scopes: Vec<String>,
    /// RFC 7662 spells the scopes as one space-separated string.
    #[serde(default)]
    scope: Option<String>,
}

/// Sends an RFC 7662 introspection request for `access_token` (`token_type_hint=access_token`,
/// client authentication as for the token endpoint). The token goes in the body, never the URL.
pub(crate) async fn introspect(
    tokens: &TokenClient,
    access_token: Option<&Secret>,
) -> Introspection {
    let Some(access_token) = access_token.filter(|t| !t.expose().is_empty()) else {
        return Introspection::NoAccessToken;
    };
    let Some(url) = tokens.provider.introspection_url.clone() else {
        return Introspection::NoEndpoint;
    };
    let shown = crate::http::display_url(&url);
    let failed = |reason: String| Introspection::Failed {
        url: shown.clone(),
        reason,
    };
    let mut form = vec![
        ("token", access_token.expose().to_owned()),
        ("token_type_hint", "access_token".to_owned()),
    ];
    let request = tokens.authenticated_post(&url, &mut form);
    let Ok(body) = serde_urlencoded::to_string(&form) else {
        return failed("cannot encode the request".to_owned());
    };
    let sent = request
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .timeout(tokens.request_timeout())
        .body(body)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => return failed(crate::http::transport_error(&url, e).to_string()),
    };
    let status = response.status().as_u16();
    if !response.status().is_success() {
        return failed(format!("HTTP {status}"));
    }
    match response
        .bytes()
        .await
        .map(|b| serde_json::from_slice::<Answer>(&b))
    {
        Ok(Ok(answer)) => of_answer(answer),
        Ok(Err(_)) => failed(format!("HTTP {status} without an `active` field")),
        Err(e) => failed(crate::http::transport_error(&url, e).to_string()),
    }
}

fn of_answer(answer: Answer) -> Introspection {
    if !answer.active {
        return Introspection::Inactive;
    }
    let scopes = if answer.scopes.is_empty() {
        answer
            .scope
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    } else {
        answer.scopes
    };
    Introspection::Active {
        expires_in_s: answer.expires_in,
        scopes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Introspection {
        of_answer(serde_json::from_str(json).unwrap())
    }

    #[test]
    fn inactive_is_dead_whatever_else_the_answer_says() {
        assert_eq!(parse(r#"{"active": false}"#), Introspection::Inactive);
        assert_eq!(
            parse(r#"{"active": false, "expires_in": 1800}"#),
            Introspection::Inactive
        );
    }

    #[test]
    fn active_reads_both_scope_spellings() {
        assert_eq!(
            parse(r#"{"active": true, "expires_in": 60, "scopes": ["hubdb", "oauth"]}"#),
            Introspection::Active {
                expires_in_s: Some(60),
                scopes: vec!["hubdb".into(), "oauth".into()]
            }
        );
        assert_eq!(
            parse(r#"{"active": true, "scope": "hubdb oauth"}"#),
            Introspection::Active {
                expires_in_s: None,
                scopes: vec!["hubdb".into(), "oauth".into()]
            }
        );
    }
}
