//! Authenticated, paced and retried HubSpot requests: [`source_core::http::ApiClient`] with
//! HubSpot's retry policy and error bodies.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use source_core::http::{ApiClient, Request, RetryPolicy, SendError};

use crate::Error;
use crate::ratelimit::{HEADER_PREFIX, RateLimiter};

/// Retries for HubSpot: the limiter makes 429 rare; its headers teach the limiter the app's
/// real limit.
pub(crate) const POLICY: RetryPolicy = RetryPolicy {
    max_429_attempts: 8,
    max_failure_attempts: 6,
    backoff_base: Duration::from_millis(100),
    backoff_doublings: 7,
    max_backoff: Duration::from_secs(10),
    rate_limit_headers: Some(HEADER_PREFIX),
};

/// One HTTP client for one app: the shared reqwest client, a token provider and the app's
/// process-wide rate limiter.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    api: ApiClient,
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
    pub(crate) fn new(api: ApiClient) -> Self {
        Self { api }
    }

    pub(crate) fn limiter(&self) -> &Arc<RateLimiter> {
        self.api.limiter()
    }

    /// Sends `call`: waits for a rate-limit slot, adds the bearer token, refreshes once on
    /// 401, retries 429 (honouring Retry-After) and, when idempotent, 5xx and network errors
    /// with bounded backoff. Non-2xx answers that retrying cannot fix become errors.
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<Reply, Error> {
        let context = call.context;
        let request = Request {
            method: &call.method,
            path: &call.path,
            query: &call.query,
            body: call.body.as_ref(),
            idempotent: call.idempotent,
            context,
        };
        match self.api.send(request).await {
            Ok(body) => Ok(Reply { body }),
            Err(e) => Err(match e {
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
            }),
        }
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
