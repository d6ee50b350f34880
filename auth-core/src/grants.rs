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

/// Sends token requests for one provider.
#[derive(Debug, Clone)]
pub struct TokenClient {
    pub(crate) provider: Provider,
    pub(crate) client: ClientCredentials,
    pub(crate) http: reqwest::Client,
    pub(crate) time: SharedTimeSource,
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
        }
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
    pub async fn refresh(
        &self,
        refresh_token: &Secret,
        redirect_uri: Option<&str>,
        attempts: u32,
    ) -> Result<TokenSet> {
        let mut delay = Duration::from_millis(500);
        let mut attempt = 1;
        loop {
            let mut form = vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", refresh_token.expose().to_owned()),
            ];
            if let (true, Some(uri)) = (self.provider.redirect_uri_on_refresh, redirect_uri) {
                form.push(("redirect_uri", uri.to_owned()));
            }
            let scrub = [refresh_token.expose()];
            match self.send("refresh_token", form, &scrub).await {
                Err(e) if e.is_transient() && attempt < attempts => {
                    let wait = match &e {
                        Error::RateLimited {
                            retry_after: Some(d),
                            ..
                        } => (*d).min(Duration::from_secs(30)),
                        _ => delay,
                    };
                    tracing::warn!(attempt, error = %e, "token refresh failed; retrying");
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(Duration::from_secs(8));
                    attempt += 1;
                }
                other => return other,
            }
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
        let mut request = self.http.post(url.clone());
        match self.provider.client_auth {
            ClientAuth::RequestBody => {
                form.push(("client_id", self.client.id.clone()));
                if let Some(secret) = &self.client.secret {
                    form.push(("client_secret", secret.expose().to_owned()));
                }
            }
            ClientAuth::BasicAuth => {
                request = request.basic_auth(
                    &self.client.id,
                    self.client.secret.as_ref().map(|s| s.expose()),
                );
            }
        }
        let body = serde_urlencoded::to_string(&form).map_err(|e| Error::InvalidTokenResponse {
            provider: self.provider.name.clone(),
            reason: format!("cannot encode the request: {e}"),
        })?;
        tracing::debug!(provider = %self.provider.name, grant, url = %crate::http::display_url(&url), "token request");
        let response = request
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| crate::http::transport_error(&url, e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if (300..400).contains(&status) {
            // Never follow: the redirect target would receive the client secret (T9).
            return Err(Error::TokenEndpoint {
                provider: self.provider.name.clone(),
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
            provider: &self.provider.name,
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
        .map_err(|e| crate::http::transport_error(url, e))?
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
