//! Token responses: parsed leniently where providers differ, strictly where it matters.

use std::time::Duration;

use connstr::Secret;
use serde::Deserialize;

use crate::Error;

/// Tokens obtained from a grant.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The bearer token.
    pub access_token: Secret,
    /// The refresh token, when the grant returned one.
    pub refresh_token: Option<Secret>,
    /// `token_type`, normalised to `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds from `obtained_at_ms`; `None` when unknown.
    pub expires_in: Option<u64>,
    /// When the response arrived (Unix ms): CData's OAuthTokenTimestamp.
    pub obtained_at_ms: u64,
    /// Granted scope, when reported.
    pub scope: Option<String>,
}

impl TokenSet {
    /// Absolute expiry in Unix ms, when known.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.expires_in
            .map(|s| self.obtained_at_ms.saturating_add(s.saturating_mul(1000)))
    }
}

/// The most a token response body may weigh (golang/oauth2 uses the same cap).
pub(crate) const MAX_BODY: usize = 1 << 20;

#[derive(Deserialize)]
struct RawResponse {
    access_token: Option<String>,
    refresh_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
    scope: Option<serde_json::Value>,
    scopes: Option<Vec<String>>,
    // RFC 6749 errors, and HubSpot's classic `status` / `message`.
    error: Option<String>,
    error_description: Option<String>,
    status: Option<String>,
    message: Option<String>,
}

/// What the token endpoint said, before deciding success or failure.
pub(crate) struct Answer<'a> {
    pub(crate) provider: &'a str,
    pub(crate) grant: &'static str,
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: &'a [u8],
    pub(crate) now_ms: u64,
    pub(crate) default_expires_in: Option<u64>,
    pub(crate) rate_limit_advice: &'static str,
    /// Values sent in the request that must not come back in an error message.
    pub(crate) scrub: &'a [&'a str],
}

/// Parses a token endpoint answer into tokens or a classified error.
pub(crate) fn parse(answer: &Answer<'_>) -> Result<TokenSet, Error> {
    let provider = answer.provider.to_owned();
    if answer.status == 429 {
        return Err(Error::RateLimited {
            provider,
            grant: answer.grant,
            retry_after: answer.retry_after,
            advice: answer.rate_limit_advice,
        });
    }
    let raw: Option<RawResponse> = serde_json::from_slice(answer.body).ok();
    let success = (200..300).contains(&answer.status);
    let error_field = raw.as_ref().and_then(|r| {
        r.error
            .clone()
            .or_else(|| (!success).then(|| r.status.clone()).flatten())
    });
    if !success
        || (error_field.is_some() && raw.as_ref().and_then(|r| r.access_token.as_ref()).is_none())
    {
        let description = raw
            .as_ref()
            .and_then(|r| r.error_description.clone().or_else(|| r.message.clone()))
            .map(|d| scrub(&d, answer.scrub));
        // HubSpot sends both RFC 6749 `error` and its own `status`; prefer the standard one.
        let error = raw
            .as_ref()
            .and_then(|r| r.error.clone().or_else(|| r.status.clone()));
        let hint = match error.as_deref() {
            Some("invalid_client" | "BAD_CLIENT_ID") => {
                Some("check OAuthClientId and OAuthClientSecret")
            }
            Some("BAD_REDIRECT_URI" | "redirect_uri_mismatch") => {
                Some("CallbackURL must be exactly the redirect URI registered with the app")
            }
            _ if answer.status >= 500 => Some("the provider had a server error; try again later"),
            _ => None,
        };
        return Err(Error::TokenEndpoint {
            provider,
            grant: answer.grant,
            status: answer.status,
            error,
            description,
            hint,
        });
    }
    let raw = raw.ok_or_else(|| Error::InvalidTokenResponse {
        provider: provider.clone(),
        reason: "the body is not JSON".to_owned(),
    })?;
    let access_token =
        raw.access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::InvalidTokenResponse {
                provider: provider.clone(),
                reason: "no access_token in the response".to_owned(),
            })?;
    let token_type = match raw.token_type.as_deref() {
        None | Some("") => "Bearer".to_owned(),
        Some(t) if t.eq_ignore_ascii_case("bearer") => "Bearer".to_owned(),
        Some(other) => {
            return Err(Error::InvalidTokenResponse {
                provider,
                reason: format!("unsupported token_type {other:?} (only Bearer is understood)"),
            });
        }
    };
    let expires_in = match raw.expires_in {
        Some(serde_json::Value::Number(n)) => {
            n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64))
        }
        Some(serde_json::Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .or(answer.default_expires_in);
    let scope = match raw.scope {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => raw.scopes.map(|s| s.join(" ")),
    };
    Ok(TokenSet {
        access_token: Secret::new(access_token),
        refresh_token: raw.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
        token_type,
        expires_in,
        obtained_at_ms: answer.now_ms,
        scope,
    })
}

/// Replaces every occurrence of the request's secrets in a provider message.
fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out: String = text.chars().take(300).collect();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret, "[redacted]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Result<TokenSet, Error> {
        parse(&Answer {
            provider: "P",
            grant: "refresh_token",
            status,
            retry_after: None,
            body: body.as_bytes(),
            now_ms: 1_000,
            default_expires_in: None,
            rate_limit_advice: "wait",
            scrub: &["CANARY-RT"],
        })
    }

    #[test]
    fn te_expires_in_as_number_string_or_missing() {
        assert_eq!(
            answer(200, r#"{"access_token":"a","expires_in":1800}"#)
                .unwrap()
                .expires_in,
            Some(1800)
        );
        assert_eq!(
            answer(200, r#"{"access_token":"a","expires_in":"1800"}"#)
                .unwrap()
                .expires_in,
            Some(1800)
        );
        assert_eq!(
            answer(200, r#"{"access_token":"a"}"#).unwrap().expires_in,
            None
        );
    }

    #[test]
    fn te_token_type_case_insensitive_missing_or_refused() {
        for t in ["bearer", "Bearer", "BEARER"] {
            assert_eq!(
                answer(
                    200,
                    &format!(r#"{{"access_token":"a","token_type":"{t}"}}"#)
                )
                .unwrap()
                .token_type,
                "Bearer"
            );
        }
        assert!(answer(200, r#"{"access_token":"a"}"#).is_ok());
        assert!(matches!(
            answer(200, r#"{"access_token":"a","token_type":"mac"}"#),
            Err(Error::InvalidTokenResponse { .. })
        ));
    }

    #[test]
    fn te_200_with_error_body_is_an_error() {
        let err = answer(
            200,
            r#"{"error":"invalid_grant","error_description":"bad CANARY-RT"}"#,
        )
        .unwrap_err();
        assert!(err.is_invalid_grant());
        assert!(!err.to_string().contains("CANARY"), "{err}");
    }

    #[test]
    fn te_no_access_token_is_an_error() {
        assert!(matches!(
            answer(200, r#"{"token_type":"bearer"}"#),
            Err(Error::InvalidTokenResponse { .. })
        ));
        assert!(matches!(
            answer(200, "<html>"),
            Err(Error::InvalidTokenResponse { .. })
        ));
    }

    #[test]
    fn hubspot_bad_refresh_token_is_invalid_grant() {
        let err = answer(400, r#"{"status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token","error":"invalid_grant","error_description":"refresh token is invalid"}"#).unwrap_err();
        assert!(err.is_invalid_grant());
        let classic = answer(
            400,
            r#"{"status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token"}"#,
        )
        .unwrap_err();
        assert!(classic.is_invalid_grant());
    }

    #[test]
    fn server_errors_are_transient_and_429_is_rate_limited() {
        assert!(answer(503, "").unwrap_err().is_transient());
        assert!(matches!(answer(429, "{}"), Err(Error::RateLimited { .. })));
        assert!(
            !answer(400, r#"{"error":"invalid_grant"}"#)
                .unwrap_err()
                .is_transient()
        );
    }
}
