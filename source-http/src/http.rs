//! Authenticated, paced and retried API requests: the send loop every HTTP source shares.
//!
//! An [`ApiClient`] holds the process's reqwest client (from [`auth_core::http::client`]),
//! the API base URL, a token provider and the allowance's shared [`RateLimiter`]. Its
//! [`send`](ApiClient::send):
//! - waits for a rate-limit slot and adds the bearer token;
//! - on 401 asks the provider once ([`auth_core::TokenProvider::on_unauthorized`]) and
//!   retries with the token it gives;
//! - on 429 pauses every request through the limiter for `Retry-After` (or a backoff) and
//!   retries, up to [`RetryPolicy::max_429_attempts`];
//! - on 5xx, an unreadable body or a network error retries with bounded, jittered backoff
//!   (honouring `Retry-After`), up to [`RetryPolicy::max_failure_attempts`]; only when the
//!   request is idempotent, except for 502–504, which the server did not act on;
//! - never waits past the connection's `Timeout`.
//!
//! What is left is returned as a [`SendError`] that the source maps to its own error type:
//! in particular [`SendError::Status`] carries the body of a refused request, whose shape
//! only the source knows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use auth_core::{Secret, SharedTokenProvider};
use connstr::CommonConfig;
use reqwest::{Method, Url};
use tokio::time::Instant;

use crate::ratelimit::{Observed, RateLimiter};

/// How many times and how long to retry, per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts for a request refused with 429 (the limiter should make this rare).
    pub max_429_attempts: u32,
    /// Attempts for 5xx answers, unreadable bodies and network errors.
    pub max_failure_attempts: u32,
    /// The first backoff; it doubles with each failure...
    pub backoff_base: Duration,
    /// ...at most this many times...
    pub backoff_doublings: u32,
    /// ...and never exceeds this (nor does a `Retry-After` after a 5xx).
    pub max_backoff: Duration,
    /// The prefix of the response headers that announce the limit
    /// (`x-hubspot-ratelimit-`; see [`Observed::from_headers`]), if the API sends them.
    pub rate_limit_headers: Option<&'static str>,
}

/// What a request carries.
#[derive(Debug, Clone, Default)]
pub enum Body {
    /// Nothing.
    #[default]
    None,
    /// JSON.
    Json(serde_json::Value),
    /// Bytes of a given content type (a multipart upload).
    Bytes {
        /// The `Content-Type` header.
        content_type: String,
        /// The bytes.
        bytes: bytes::Bytes,
    },
}

/// One request: where, what, and whether resending it is safe.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method.
    pub method: &'a Method,
    /// Path segments after the base URL, each percent-encoded when joined.
    pub path: &'a [String],
    /// Query parameters, in order.
    pub query: &'a [(String, String)],
    /// The body.
    pub body: &'a Body,
    /// Whether resending after a network error or 5xx is safe.
    pub idempotent: bool,
    /// What this request is for (in log lines).
    pub context: &'a str,
}

/// Why a request failed; the source adds its context and maps it to its own error.
#[derive(Debug)]
pub enum SendError {
    /// The API base URL cannot take path segments (`mailto:x`, `data:...`).
    BaseUrl,
    /// No usable token (boxed: it is large and rare).
    Auth(Box<auth_core::Error>),
    /// Still 429 after [`RetryPolicy::max_429_attempts`] attempts.
    RateLimited {
        /// Attempts made.
        attempts: u32,
    },
    /// The connection's `Timeout` passed (or would pass during the next backoff).
    Timeout {
        /// The limit (zero when only the HTTP client's own timeout applied).
        limit: Duration,
    },
    /// A network failure, after the retries allowed.
    Transport {
        /// What failed (the endpoint without its query; no token).
        message: String,
    },
    /// A non-2xx answer that retrying cannot fix (or that retries did not fix).
    Status {
        /// HTTP status.
        status: u16,
        /// The response body, for the source's error parsing.
        body: bytes::Bytes,
    },
}

/// The HTTP side of one connection: reqwest client, base URL, tokens, limiter, timeout and
/// retry policy. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Url,
    tokens: SharedTokenProvider,
    limiter: Arc<RateLimiter>,
    timeout: Option<Duration>,
    policy: RetryPolicy,
}

fn jitter_ms(attempt: u32) -> u64 {
    // A cheap spread so that concurrent pages do not retry in lockstep.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(attempt)).rotate_left(17) % 100
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based): base × 2^min(attempt, doublings)
    /// plus up to 100 ms of jitter, at most `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .backoff_base
            .saturating_mul(1u32 << attempt.min(self.backoff_doublings).min(31));
        (base + Duration::from_millis(jitter_ms(attempt))).min(self.max_backoff)
    }
}

impl ApiClient {
    /// A client over an existing reqwest client.
    pub fn new(
        http: reqwest::Client,
        base: Url,
        tokens: SharedTokenProvider,
        limiter: Arc<RateLimiter>,
        timeout: Option<Duration>,
        policy: RetryPolicy,
    ) -> Self {
        Self {
            http,
            base,
            tokens,
            limiter,
            timeout,
            policy,
        }
    }

    /// The client a validated connection asks for: the process's shared reqwest client for
    /// its network settings (proxy, firewall, `SSLServerCert`, `Timeout`), its
    /// `APIBaseURL`, and its `Timeout` (0 = none) as the bound on a whole request with its
    /// retries. Fails when the network settings cannot be used (a bad proxy or certificate).
    pub fn connect(
        service: &crate::Service,
        common: &CommonConfig,
        tokens: SharedTokenProvider,
        limiter: Arc<RateLimiter>,
    ) -> Result<Self, crate::HttpError> {
        let settings = auth_core::http::HttpSettings::from_config(common);
        let http = auth_core::http::client(&settings).map_err(|e| crate::HttpError::Setup {
            service: service.name,
            message: e.to_string(),
        })?;
        let policy = service.policy;
        Ok(Self::new(
            http,
            common.api_base_url.clone(),
            tokens,
            limiter,
            common.timeout.filter(|t| !t.is_zero()),
            policy,
        ))
    }

    /// The rate limiter requests go through.
    pub fn limiter(&self) -> &Arc<RateLimiter> {
        &self.limiter
    }

    /// The base URL joined with `path` (each segment percent-encoded) and `query`.
    pub fn url(&self, path: &[String], query: &[(String, String)]) -> Result<Url, SendError> {
        let mut url = self.base.clone();
        {
            let mut segs = url.path_segments_mut().map_err(|()| SendError::BaseUrl)?;
            segs.pop_if_empty();
            for s in path {
                segs.push(s);
            }
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter());
        }
        Ok(url)
    }

    /// Sends `req` (see the [module docs](self)) and returns the body of the 2xx answer.
    pub async fn send(&self, req: Request<'_>) -> Result<bytes::Bytes, SendError> {
        let url = self.url(req.path, req.query)?;
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let context = req.context;
        let policy = &self.policy;
        let auth = |e| SendError::Auth(Box::new(e));
        let mut token: Option<Secret> = None;
        let mut refreshed = false;
        let (mut limited, mut failures) = (0u32, 0u32);
        loop {
            let current = match &token {
                Some(t) => t.clone(),
                None => {
                    let t = self.tokens.access_token().await.map_err(auth)?;
                    token = Some(t.clone());
                    t
                }
            };
            let permit = self.limiter.acquire().await;
            let mut request = self
                .http
                .request(req.method.clone(), url.clone())
                .bearer_auth(current.expose());
            request = match req.body {
                Body::None => request,
                Body::Json(value) => request.json(value),
                Body::Bytes {
                    content_type,
                    bytes,
                } => request
                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone()),
            };
            let wait = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    // The slot stays counted from now: the server has surely seen the request.
                    permit.finish_with(
                        policy
                            .rate_limit_headers
                            .map(|prefix| Observed::from_headers(&headers, prefix))
                            .unwrap_or_default(),
                    );
                    let body = match response.bytes().await {
                        Ok(b) => b,
                        Err(e) if req.idempotent && failures + 1 < policy.max_failure_attempts => {
                            failures += 1;
                            tracing::debug!(context, error = %e, "body read failed; retrying");
                            self.wait(policy.backoff(failures), deadline).await?;
                            continue;
                        }
                        Err(e) => return Err(transport(&url, e)),
                    };
                    if status.is_success() {
                        return Ok(body);
                    }
                    match status.as_u16() {
                        401 if !refreshed => {
                            refreshed = true;
                            token =
                                Some(self.tokens.on_unauthorized(&current).await.map_err(auth)?);
                            continue;
                        }
                        429 => {
                            limited += 1;
                            if limited >= policy.max_429_attempts {
                                return Err(SendError::RateLimited { attempts: limited });
                            }
                            let wait =
                                retry_after(&headers).unwrap_or_else(|| policy.backoff(limited));
                            // Everyone sharing the allowance waits, not only this request.
                            self.limiter.pause_until(Instant::now() + wait);
                            tracing::debug!(context, ?wait, "429; pausing the shared requests");
                            wait
                        }
                        500..=599
                            if (req.idempotent || matches!(status.as_u16(), 502..=504))
                                && failures + 1 < policy.max_failure_attempts =>
                        {
                            failures += 1;
                            retry_after(&headers)
                                .unwrap_or_else(|| policy.backoff(failures))
                                .min(policy.max_backoff)
                        }
                        status => return Err(SendError::Status { status, body }),
                    }
                }
                Err(e) => {
                    drop(permit);
                    if e.is_timeout() {
                        return Err(self.timed_out());
                    }
                    if req.idempotent && failures + 1 < policy.max_failure_attempts {
                        failures += 1;
                        tracing::debug!(context, error = %e, "request failed; retrying");
                        policy.backoff(failures)
                    } else {
                        return Err(transport(&url, e));
                    }
                }
            };
            self.wait(wait, deadline).await?;
        }
    }

    fn timed_out(&self) -> SendError {
        SendError::Timeout {
            limit: self.timeout.unwrap_or_default(),
        }
    }

    async fn wait(&self, wait: Duration, deadline: Option<Instant>) -> Result<(), SendError> {
        if deadline.is_some_and(|d| Instant::now() + wait > d) {
            return Err(self.timed_out());
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }
}

fn transport(url: &Url, e: reqwest::Error) -> SendError {
    SendError::Transport {
        message: auth_core::http::transport_error(url, e).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_caps() {
        let p = RetryPolicy {
            max_429_attempts: 8,
            max_failure_attempts: 5,
            backoff_base: Duration::from_millis(250),
            backoff_doublings: 6,
            max_backoff: Duration::from_secs(10),
            rate_limit_headers: None,
        };
        for (attempt, base_ms) in [(1, 500), (2, 1000), (3, 2000), (5, 8000)] {
            let b = p.backoff(attempt);
            let base = Duration::from_millis(base_ms);
            assert!(b >= base && b < base + Duration::from_millis(100), "{b:?}");
        }
        assert_eq!(p.backoff(6), Duration::from_secs(10));
        assert_eq!(p.backoff(40), Duration::from_secs(10));
    }
}
