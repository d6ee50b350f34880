//! Authenticated, paced and retried Act-On requests.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{Secret, SharedTokenProvider};
use reqwest::StatusCode;
use tokio::time::Instant;
use url::Url;

use crate::Error;
use crate::pacer::Pacer;

/// Attempts for a request refused with 429 (the pacer should make this rare).
const MAX_429_ATTEMPTS: u32 = 8;
/// Attempts for 5xx answers and network errors.
const MAX_FAILURE_ATTEMPTS: u32 = 5;
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// One HTTP client for one account: the shared reqwest client, a token provider and the
/// account's process-wide pacer.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: Url,
    tokens: SharedTokenProvider,
    pacer: Arc<Pacer>,
    timeout: Option<Duration>,
}

/// A GET request to make (the v1 read API is all GETs).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// Path segments after the base URL (`api`, `1`, ...), each percent-encoded when joined.
    pub(crate) path: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    /// For messages: what this call is for.
    pub(crate) context: String,
}

impl Call {
    /// `GET {base}/api/1/{segments...}`.
    pub(crate) fn api(segments: &[&str], context: impl Into<String>) -> Self {
        let mut path = vec!["api".to_owned(), "1".to_owned()];
        path.extend(segments.iter().map(|s| (*s).to_owned()));
        Self {
            path,
            query: Vec::new(),
            context: context.into(),
        }
    }

    /// Adds a query parameter.
    pub(crate) fn param(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }
}

fn jitter_ms(attempt: u32) -> u64 {
    // A cheap spread so concurrent pages do not retry in lockstep.
    let nanos = Instant::now().elapsed().subsec_nanos() ^ attempt.wrapping_mul(2_654_435_761);
    u64::from(nanos % 100)
}

fn backoff(attempt: u32) -> Duration {
    let base = 250u64.saturating_mul(1u64 << attempt.min(6));
    Duration::from_millis(base + jitter_ms(attempt)).min(MAX_BACKOFF)
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The message of an Act-On error body: `{"status":"error","message":…}`, the gateway's
/// `{"fault":{"message","description"}}`, or an OAuth `error_description`. Classification is
/// by status only: the body shapes are not documented.
pub(crate) fn api_error(context: &str, status: u16, body: &[u8]) -> Error {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let message = text(&parsed["message"])
        .or_else(|| {
            let fault = &parsed["fault"];
            match (text(&fault["message"]), text(&fault["description"])) {
                (Some(m), Some(d)) => Some(format!("{m}: {d}")),
                (m, d) => m.or(d),
            }
        })
        .or_else(|| text(&parsed["error_description"]))
        .unwrap_or_else(|| {
            // Not JSON we know: show a short, printable prefix of what came back.
            String::from_utf8_lossy(&body[..body.len().min(200)])
                .chars()
                .filter(|c| !c.is_control())
                .collect()
        });
    Error::Api {
        context: context.to_owned(),
        status,
        message,
    }
}

impl Client {
    pub(crate) fn new(
        http: reqwest::Client,
        base: Url,
        tokens: SharedTokenProvider,
        pacer: Arc<Pacer>,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            http,
            base,
            tokens,
            pacer,
            timeout,
        }
    }

    pub(crate) fn pacer(&self) -> &Arc<Pacer> {
        &self.pacer
    }

    fn url(&self, call: &Call) -> Result<Url, Error> {
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

    /// Sends `call`: waits for a pacer slot, adds the bearer token, refreshes once on 401,
    /// retries 429 (honouring Retry-After, pausing the whole account) and 5xx and network
    /// errors with bounded backoff. Answers that retrying cannot fix become errors.
    pub(crate) async fn send(&self, call: &Call) -> Result<bytes::Bytes, Error> {
        let url = self.url(call)?;
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let context = call.context.as_str();
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
            let permit = self.pacer.acquire().await;
            let request = self.http.get(url.clone()).bearer_auth(current.expose());
            let wait = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    // The slot stays counted from now: the server has surely seen the request.
                    permit.finish();
                    let body = match response.bytes().await {
                        Ok(b) => b,
                        Err(e) if failures + 1 < MAX_FAILURE_ATTEMPTS => {
                            failures += 1;
                            tracing::debug!(context, error = %e, "body read failed; retrying");
                            self.wait(backoff(failures), deadline, context).await?;
                            continue;
                        }
                        Err(e) => return Err(transport(context, &url, e)),
                    };
                    if status.is_success() {
                        return Ok(body);
                    }
                    match status {
                        StatusCode::UNAUTHORIZED if !refreshed => {
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
                        StatusCode::TOO_MANY_REQUESTS => {
                            limited += 1;
                            if limited >= MAX_429_ATTEMPTS {
                                return Err(Error::RateLimited {
                                    context: context.to_owned(),
                                    attempts: limited,
                                });
                            }
                            let wait = retry_after(&headers).unwrap_or_else(|| backoff(limited));
                            // Everyone using this account waits, not only this request.
                            self.pacer.pause_until(Instant::now() + wait);
                            tracing::debug!(context, ?wait, "429; pausing the account's requests");
                            wait
                        }
                        s if s.is_server_error() && failures + 1 < MAX_FAILURE_ATTEMPTS => {
                            failures += 1;
                            retry_after(&headers)
                                .unwrap_or_else(|| backoff(failures))
                                .min(MAX_BACKOFF)
                        }
                        s => return Err(api_error(context, s.as_u16(), &body)),
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
                    if failures + 1 < MAX_FAILURE_ATTEMPTS {
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
        if let Some(d) = deadline
            && Instant::now() + wait > d
        {
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
        call: &Call,
    ) -> Result<T, Error> {
        let body = self.send(call).await?;
        serde_json::from_slice(&body).map_err(|e| Error::Decode {
            context: call.context.clone(),
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
