//! Token endpoint requests: authorization code, refresh token, password.

use std::time::Duration;

use connstr::Secret;

use crate::provider::{ClientAuth, Provider};
use crate::time::SharedTimeSource;
use crate::token::{self, Answer, TokenSet};
use crate::{Error, Result};

/// Client credentials of the OAuth app.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// `client_id`.
    pub id: String,
    /// `client_secret`, when the app has one.
    pub secret: Option<Secret>,
}

/// The longest a single token request may take, even with `Timeout=0` (TE-10): a stalled
/// token endpoint must not hold the store's cross-process lock forever.
pub const MAX_TOKEN_REQUEST_TIME: Duration = Duration::from_secs(60);
/// The longest wait between refresh attempts (`Retry-After` is capped to this).
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// Sends token requests for one provider.
#[derive(Debug, Clone)]
pub struct TokenClient {
    pub(crate) provider: Provider,
    pub(crate) client: ClientCredentials,
    pub(crate) http: reqwest::Client,
    pub(crate) time: SharedTimeSource,
    request_timeout: Duration,
}

impl TokenClient {
    /// A token client over the shared HTTP client.
    pub fn new(
        provider: Provider,
        client: ClientCredentials,
        http: reqwest::Client,
        time: SharedTimeSource,
    ) -> Self {
        Self {
            provider,
            client,
            http,
            time,
            request_timeout: MAX_TOKEN_REQUEST_TIME,
        }
    }

    /// Bounds each token request by `timeout` (the `Timeout` property), at most
    /// [`MAX_TOKEN_REQUEST_TIME`]; `None` (`Timeout=0`) means that maximum.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout
            .filter(|t| !t.is_zero())
            .map_or(MAX_TOKEN_REQUEST_TIME, |t| t.min(MAX_TOKEN_REQUEST_TIME));
        self
    }

    /// The bound of one token request.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The longest [`TokenClient::refresh`] can take with `attempts` tries: every request
    /// timing out, plus the waits between them.
    pub fn worst_case_refresh(&self, attempts: u32) -> Duration {
        self.request_timeout * attempts + MAX_RETRY_WAIT * attempts.saturating_sub(1)
    }

    /// The provider definition.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The OAuth app's credentials.
    pub fn client(&self) -> &ClientCredentials {
        &self.client
    }

    /// Exchanges an authorization code (never retried: codes are single-use).
    pub async fn exchange_code(
        &self,
        code: &Secret,
        redirect_uri: &str,
        code_verifier: Option<&Secret>,
    ) -> Result<TokenSet> {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.expose().to_owned()),
            ("redirect_uri", redirect_uri.to_owned()),
        ];
        if let Some(v) = code_verifier {
            form.push(("code_verifier", v.expose().to_owned()));
        }
        let scrub = [code.expose()];
        self.send("authorization_code", form, &scrub).await
    }

    /// Uses a refresh token, retrying transient failures with bounded backoff that honours
    /// `Retry-After` (at most `attempts` tries).
    ///
    /// A single-use refresh token (the provider rotates them, as Act-On does) is sent again only
    /// when the provider cannot have acted on it (not reached, or rate limited). After a lost
    /// answer or a server error the provider may already have rotated it, so this returns the
    /// error at once and leaves the decision to the caller, which re-reads the store first.
    pub async fn refresh(
        &self,
        refresh_token: &Secret,
        redirect_uri: Option<&str>,
        attempts: u32,
    ) -> Result<TokenSet> {
        let mut delay = Duration::from_millis(500);
        let mut attempt = 1;
        loop {
            let result = self.refresh_once(refresh_token, redirect_uri).await;
            let error = match result {
                Err(e) if attempt < attempts && self.may_retry(&e) => e,
                other => return other,
            };
            let wait = match &error {
                Error::RateLimited {
                    retry_after: Some(d),
                    ..
                } => (*d).min(MAX_RETRY_WAIT),
                _ => delay,
            };
            tracing::warn!(attempt, error = %error, "token refresh failed; retrying");
            tokio::time::sleep(wait).await;
            delay = (delay * 2).min(Duration::from_secs(8));
            attempt += 1;
        }
    }

    /// One refresh request, never retried.
    pub async fn refresh_once(
        &self,
        refresh_token: &Secret,
        redirect_uri: Option<&str>,
    ) -> Result<TokenSet> {
        let mut form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.expose().to_owned()),
        ];
        if let (true, Some(uri)) = (self.provider.redirect_uri_on_refresh, redirect_uri) {
            form.push(("redirect_uri", uri.to_owned()));
        }
        let scrub = [refresh_token.expose()];
        self.send("refresh_token", form, &scrub).await
    }

    fn may_retry(&self, e: &Error) -> bool {
        if self.provider.single_use_refresh_tokens {
            e.is_safe_to_replay()
        } else {
            e.is_transient()
        }
    }

    /// A POST to one of the provider's endpoints with the client authenticated as the provider
    /// wants it: `client_id`/`client_secret` added to `form`, or HTTP Basic on the request.
    pub(crate) fn authenticated_post(
        &self,
        url: &url::Url,
        form: &mut Vec<(&'static str, String)>,
    ) -> reqwest::RequestBuilder {
        let request = self.http.post(url.clone());
        match self.provider.client_auth {
            ClientAuth::RequestBody => {
                form.push(("client_id", self.client.id.clone()));
                if let Some(secret) = &self.client.secret {
                    form.push(("client_secret", secret.expose().to_owned()));
                }
                request
            }
            ClientAuth::BasicAuth => request.basic_auth(
                &self.client.id,
                self.client.secret.as_ref().map(|s| s.expose()),
            ),
        }
    }

    /// The resource-owner password grant (Act-On). One attempt: the provider allows few.
    pub async fn password(&self, user: &str, password: &Secret, scope: &str) -> Result<TokenSet> {
        let mut form = vec![
            ("grant_type", "password".to_owned()),
            ("username", user.to_owned()),
            ("password", password.expose().to_owned()),
        ];
        if !scope.is_empty() {
            form.push(("scope", scope.to_owned()));
        }
        let scrub = [password.expose()];
        self.send("password", form, &scrub).await
    }

    async fn send(
        &self,
        grant: &'static str,
        mut form: Vec<(&'static str, String)>,
        scrub: &[&str],
    ) -> Result<TokenSet> {
        let url = self.provider.token_url.clone();
        let request = self.authenticated_post(&url, &mut form);
        let endpoint = self.provider.endpoint_name();
        let body = serde_urlencoded::to_string(&form).map_err(|e| Error::InvalidTokenResponse {
            provider: endpoint.clone(),
            reason: format!("cannot encode the request: {e}"),
        })?;
        tracing::debug!(provider = %self.provider.name, grant, url = %crate::http::display_url(&url), "token request");
        let response = request
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .timeout(self.request_timeout)
            .body(body)
            .send()
            .await
            .map_err(|e| token_transport_error(&url, e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, self.time.now_ms()));
        if let Some(skew_ms) = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| clock_skew_ms(v, self.time.now_ms()))
            .filter(|skew| skew.unsigned_abs() > MAX_CLOCK_SKEW_MS)
        {
            // HL-6: a settings file copied to a machine whose clock is off refreshes too early
            // or presents expired tokens; say so once per token request.
            tracing::warn!(
                skew_s = skew_ms / 1000,
                "this machine's clock differs from the token endpoint's by more than 2 minutes; token expiry times will be off"
            );
        }
        if (300..400).contains(&status) {
            // Never follow: the redirect target would receive the client secret (T9).
            return Err(Error::TokenEndpoint {
                provider: endpoint,
                grant,
                status,
                error: Some("redirect".to_owned()),
                description: Some(
                    "the token endpoint redirected; refusing to follow it with credentials"
                        .to_owned(),
                ),
                hint: Some("check OAuthAccessTokenURL"),
            });
        }
        let bytes = read_capped(response, &url).await?;
        let mut scrub_all: Vec<&str> = scrub.to_vec();
        if let Some(secret) = &self.client.secret {
            scrub_all.push(secret.expose());
        }
        let result = token::parse(&Answer {
            provider: &endpoint,
            grant,
            status,
            retry_after,
            body: &bytes,
            now_ms: self.time.now_ms(),
            default_expires_in: self.provider.default_expires_in,
            rate_limit_advice: if grant == "refresh_token" {
                "wait and try again"
            } else {
                self.provider.grant_rate_limit_advice
            },
            scrub: &scrub_all,
        });
        match &result {
            Ok(_) => {
                tracing::debug!(provider = %self.provider.name, grant, "token request succeeded")
            }
            Err(e) => {
                tracing::warn!(provider = %self.provider.name, grant, error = %e, "token request failed")
            }
        }
        result
    }
}

async fn read_capped(mut response: reqwest::Response, url: &reqwest::Url) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| token_transport_error(url, e))?
    {
        if body.len() + chunk.len() > token::MAX_BODY {
            return Err(Error::InvalidTokenResponse {
                provider: url.host_str().unwrap_or("provider").to_owned(),
                reason: "the response is larger than 1 MiB".to_owned(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A transport failure of a token request: [`Error::Transport`] when the request cannot have
/// reached the server (connecting failed), [`Error::AnswerLost`] otherwise (timeout, reset,
/// truncated body), because then the server may have acted on it.
fn token_transport_error(url: &reqwest::Url, error: reqwest::Error) -> Error {
    if error.is_connect() {
        return crate::http::transport_error(url, error);
    }
    let message = if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_body() || error.is_decode() {
        "the connection closed before the whole answer arrived".to_owned()
    } else {
        match crate::http::transport_error(url, error) {
            Error::Transport { message, .. } => message,
            other => other.to_string(),
        }
    };
    Error::AnswerLost {
        url: crate::http::display_url(url),
        message,
    }
}

/// A clock difference with the token endpoint worth a warning (HL-6).
const MAX_CLOCK_SKEW_MS: u64 = 120_000;

/// The server's clock minus ours, in ms, from a `Date` header.
fn clock_skew_ms(date: &str, now_ms: u64) -> Option<i64> {
    let at = httpdate::parse_http_date(date.trim()).ok()?;
    let server_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    let server_ms = i64::try_from(server_ms).ok()?;
    Some(server_ms - i64::try_from(now_ms).ok()?)
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3), relative to `now_ms`.
fn retry_after(value: &str, now_ms: u64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))?;
    Some(Duration::from_millis(at_ms.saturating_sub(now_ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hl_6_clock_skew_is_measured_from_the_date_header() {
        // Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s.
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(clock_skew_ms(date, 784_111_777_000), Some(0));
        assert_eq!(
            clock_skew_ms(date, 784_111_777_000 + 600_000),
            Some(-600_000)
        );
        assert!(
            clock_skew_ms(date, 784_111_777_000 - 180_000)
                .unwrap()
                .unsigned_abs()
                > MAX_CLOCK_SKEW_MS
        );
        assert_eq!(clock_skew_ms("yesterday", 0), None);
    }

    #[test]
    fn te_6_retry_after_as_seconds_or_http_date() {
        assert_eq!(retry_after(" 7 ", 0), Some(Duration::from_secs(7)));
        // Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s.
        let now_ms = 784_111_770_000;
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now_ms),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now_ms + 60_000),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(retry_after("soon", now_ms), None);
    }
}
