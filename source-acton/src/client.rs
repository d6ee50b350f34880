//! Authenticated, paced and retried Act-On requests: [`source_core::http::ApiClient`] with
//! Act-On's retry policy and error bodies.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use source_core::http::{ApiClient, Request, RetryPolicy, SendError};

use crate::Error;
use crate::pacer::Pacer;

/// Retries for Act-On: the pacer makes 429 rare; the v1 read API is all GETs, so 5xx and
/// network errors are always retried.
pub(crate) const POLICY: RetryPolicy = RetryPolicy {
    max_429_attempts: 8,
    max_failure_attempts: 5,
    backoff_base: Duration::from_millis(250),
    backoff_doublings: 6,
    max_backoff: Duration::from_secs(10),
    rate_limit_headers: None,
};

/// One HTTP client for one account: the shared reqwest client, a token provider and the
/// account's process-wide pacer.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    api: ApiClient,
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
    pub(crate) fn new(api: ApiClient) -> Self {
        Self { api }
    }

    pub(crate) fn pacer(&self) -> &Arc<Pacer> {
        self.api.limiter()
    }

    /// Sends `call`: waits for a pacer slot, adds the bearer token, refreshes once on 401,
    /// retries 429 (honouring Retry-After, pausing the whole account) and 5xx and network
    /// errors with bounded backoff. Answers that retrying cannot fix become errors.
    pub(crate) async fn send(&self, call: &Call) -> Result<bytes::Bytes, Error> {
        let context = call.context.as_str();
        let request = Request {
            method: &Method::GET,
            path: &call.path,
            query: &call.query,
            body: None,
            idempotent: true,
            context,
        };
        self.api.send(request).await.map_err(|e| match e {
            SendError::BaseUrl => Error::Config {
                property: "APIBaseURL",
                message: "cannot be a base URL".into(),
            },
            SendError::Auth(source) => Error::Auth {
                context: context.to_owned(),
                source,
            },
            SendError::RateLimited { attempts } => Error::RateLimited {
                context: context.to_owned(),
                attempts,
            },
            SendError::Timeout { limit } => Error::Timeout {
                context: context.to_owned(),
                limit,
            },
            SendError::Transport { message } => Error::Transport {
                context: context.to_owned(),
                message,
            },
            SendError::Status { status, body } => api_error(context, status, &body),
        })
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
