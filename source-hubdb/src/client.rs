//! Authenticated, paced and retried HubSpot requests.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{Secret, SharedTokenProvider};
use reqwest::Method;
use tokio::time::Instant;
use url::Url;

use crate::Error;
use crate::ratelimit::{Observed, RateLimiter};

/// Attempts for a request refused with 429 (the limiter should make this rare).
const MAX_429_ATTEMPTS: u32 = 8;
/// Attempts for 5xx answers and network errors.
const MAX_FAILURE_ATTEMPTS: u32 = 6;
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// One HTTP client for one app: the shared reqwest client, a token provider and the app's
/// process-wide rate limiter.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: Url,
    tokens: SharedTokenProvider,
    limiter: Arc<RateLimiter>,
    timeout: Option<Duration>,
}

/// A request to make.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// Path segments after the base URL, each percent-encoded when joined.
    pub(crate) path: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<serde_json::Value>,
    /// For messages: what this call is for.
    pub(crate) context: &'a str,
    /// Whether resending after a network error or 5xx is safe.
    pub(crate) idempotent: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn get(path: Vec<String>, context: &'a str) -> Self {
        Self {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            context,
            idempotent: true,
        }
    }
}

/// A successful response.
pub(crate) struct Reply {
    pub(crate) body: bytes::Bytes,
}

fn jitter_ms(attempt: u32) -> u64 {
    // A cheap spread so that concurrent pages do not retry in lockstep.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(attempt)).rotate_left(17) % 100
}

fn backoff(attempt: u32) -> Duration {
    let base = 100u64.saturating_mul(1u64 << attempt.min(7));
    Duration::from_millis(base + jitter_ms(attempt)).min(MAX_BACKOFF)
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// HubSpot's error body, as far as we use it.
#[derive(serde::Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

#[derive(serde::Deserialize, Default)]
struct ErrorDetail {
    #[serde(default)]
    context: Option<serde_json::Map<String, serde_json::Value>>,
}

pub(crate) fn api_error(context: &str, status: u16, body: &[u8]) -> Error {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    if parsed.category.as_deref() == Some("MISSING_SCOPES") || status == 403 {
        let required: Vec<String> = parsed
            .errors
            .iter()
            .filter_map(|e| {
                e.context
                    .as_ref()?
                    .get("requiredScopes")?
                    .as_array()
                    .cloned()
            })
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect();
        if parsed.category.as_deref() == Some("MISSING_SCOPES") || !required.is_empty() {
            return Error::MissingScopes {
                context: context.to_owned(),
                required,
            };
        }
    }
    let message = parsed.message.unwrap_or_else(|| {
        // Not HubSpot's JSON: show a short, printable prefix of what came back.
        String::from_utf8_lossy(&body[..body.len().min(200)])
            .chars()
            .filter(|c| !c.is_control())
            .collect()
    });
    Error::Api {
        context: context.to_owned(),
        status,
        category: parsed.category,
        message,
    }
}

impl Client {
    pub(crate) fn new(
        http: reqwest::Client,
        base: Url,
        tokens: SharedTokenProvider,
        limiter: Arc<RateLimiter>,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            http,
            base,
            tokens,
            limiter,
            timeout,
        }
    }

    pub(crate) fn limiter(&self) -> &Arc<RateLimiter> {
        &self.limiter
    }

    fn url(&self, call: &Call<'_>) -> Result<Url, Error> {
        let mut url = self.base.clone();
        {
            let mut segs = url.path_segments_mut().map_err(|()| Error::Config {
                property: "APIBaseURL",
                message: "cannot be a base URL".into(),
            })?;
            segs.pop_if_empty();
            for s in &call.path {
                segs.push(s);
            }
        }
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        Ok(url)
    }

    /// Sends `call`: waits for a rate-limit slot, adds the bearer token, refreshes once on
    /// 401, retries 429 (honouring Retry-After) and, when idempotent, 5xx and network errors
    /// with bounded backoff. Non-2xx answers that retrying cannot fix become errors.
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<Reply, Error> {
        let url = self.url(call)?;
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let context = call.context;
        let mut token: Option<Secret> = None;
        let mut refreshed = false;
        let (mut limited, mut failures) = (0u32, 0u32);
        loop {
            let current = match &token {
                Some(t) => t.clone(),
                None => {
                    let t = self
                        .tokens
                        .access_token()
                        .await
                        .map_err(|source| Error::Auth {
                            context: context.to_owned(),
                            source: Box::new(source),
                        })?;
                    token = Some(t.clone());
                    t
                }
            };
            let permit = self.limiter.acquire().await;
            let mut request = self
                .http
                .request(call.method.clone(), url.clone())
                .bearer_auth(current.expose());
            if let Some(body) = &call.body {
                request = request.json(body);
            }
            let wait = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    permit.finish(Observed::from_headers(&headers));
                    let body = match response.bytes().await {
                        Ok(b) => b,
                        Err(e) if call.idempotent && failures + 1 < MAX_FAILURE_ATTEMPTS => {
                            failures += 1;
                            tracing::debug!(context, error = %e, "body read failed; retrying");
                            self.wait(backoff(failures), deadline, context).await?;
                            continue;
                        }
                        Err(e) => return Err(transport(context, &url, e)),
                    };
                    if status.is_success() {
                        return Ok(Reply { body });
                    }
                    match status.as_u16() {
                        401 if !refreshed => {
                            refreshed = true;
                            let next =
                                self.tokens
                                    .on_unauthorized(&current)
                                    .await
                                    .map_err(|source| Error::Auth {
                                        context: context.to_owned(),
                                        source: Box::new(source),
                                    })?;
                            token = Some(next);
                            continue;
                        }
                        429 => {
                            limited += 1;
                            if limited >= MAX_429_ATTEMPTS {
                                return Err(Error::RateLimited {
                                    context: context.to_owned(),
                                    attempts: limited,
                                });
                            }
                            let wait = retry_after(&headers).unwrap_or_else(|| backoff(limited));
                            // Everyone using this app waits, not only this request.
                            self.limiter.pause_until(Instant::now() + wait);
                            tracing::debug!(context, ?wait, "429; pausing the app's requests");
                            wait
                        }
                        500..=599
                            if (call.idempotent || matches!(status.as_u16(), 502..=504))
                                && failures + 1 < MAX_FAILURE_ATTEMPTS =>
                        {
                            failures += 1;
                            retry_after(&headers)
                                .unwrap_or_else(|| backoff(failures))
                                .min(MAX_BACKOFF)
                        }
                        code => return Err(api_error(context, code, &body)),
                    }
                }
                Err(e) => {
                    drop(permit);
                    if e.is_timeout() {
                        return Err(Error::Timeout {
                            context: context.to_owned(),
                            limit: self.timeout.unwrap_or_default(),
                        });
                    }
                    if call.idempotent && failures + 1 < MAX_FAILURE_ATTEMPTS {
                        failures += 1;
                        tracing::debug!(context, error = %e, "request failed; retrying");
                        backoff(failures)
                    } else {
                        return Err(transport(context, &url, e));
                    }
                }
            };
            self.wait(wait, deadline, context).await?;
        }
    }

    async fn wait(
        &self,
        wait: Duration,
        deadline: Option<Instant>,
        context: &str,
    ) -> Result<(), Error> {
        if deadline.is_some_and(|d| Instant::now() + wait > d) {
            return Err(Error::Timeout {
                context: context.to_owned(),
                limit: self.timeout.unwrap_or_default(),
            });
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Sends and parses a JSON answer.
    pub(crate) async fn json<T: serde::de::DeserializeOwned>(
        &self,
        call: &Call<'_>,
    ) -> Result<T, Error> {
        let reply = self.send(call).await?;
        serde_json::from_slice(&reply.body).map_err(|e| Error::Decode {
            context: call.context.to_owned(),
            message: e.to_string(),
        })
    }
}

fn transport(context: &str, url: &Url, e: reqwest::Error) -> Error {
    Error::Transport {
        context: context.to_owned(),
        message: auth_core::http::transport_error(url, e).to_string(),
    }
}
