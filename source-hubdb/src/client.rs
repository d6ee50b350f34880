//! Authenticated, paced and retried HubSpot requests: `source-http`'s `ServiceClient` with
//! HubSpot's retry policy, rate-limit headers and error bodies.

use std::time::Duration;

pub(crate) use source_http::{Body, Call};
use source_http::{RetryPolicy, Service, StatusError};

use crate::Error;
use crate::config::ApiVersion;
use crate::ratelimit::HEADER_PREFIX;

/// HubSpot for the shared send loop: the limiter makes 429 rare; its headers teach the
/// limiter the app's real limit.
pub(crate) const SERVICE: Service = Service {
    name: "HubDB",
    policy: RetryPolicy {
        max_429_attempts: 8,
        max_failure_attempts: 6,
        backoff_base: Duration::from_millis(100),
        backoff_doublings: 7,
        max_backoff: Duration::from_secs(10),
        rate_limit_headers: Some(HEADER_PREFIX),
    },
    rate_limit_advice: "another client may be using the same app's allowance",
};

/// One HTTP client for one app: the shared reqwest client, a token provider and the app's
/// process-wide rate limiter, answering with HubDB's errors, and the API version whose paths
/// every HubDB call takes.
#[derive(Clone, Debug)]
pub(crate) struct Client {
    http: source_http::ServiceClient<Error>,
    version: ApiVersion,
}

impl Client {
    pub(crate) fn new(http: source_http::ServiceClient<Error>, version: ApiVersion) -> Self {
        Self { http, version }
    }

    /// The path of a HubDB endpoint below the version's prefix (`tables/{id}/rows` → …).
    pub(crate) fn hubdb_path(&self, rest: &[&str]) -> Vec<String> {
        self.version.hubdb_path(rest)
    }

    /// The path of the CRM owners list.
    pub(crate) fn owners_path(&self) -> Vec<String> {
        self.version.owners_path()
    }

    pub(crate) fn limiter(&self) -> &std::sync::Arc<source_http::RateLimiter> {
        self.http.limiter()
    }

    pub(crate) async fn send(&self, call: &Call) -> Result<bytes::Bytes, Error> {
        self.http.send(call).await
    }

    pub(crate) async fn json<T: serde::de::DeserializeOwned>(
        &self,
        call: &Call,
    ) -> Result<T, Error> {
        self.http.json(call).await
    }
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
    // Not HubSpot's JSON: show what came back.
    let message = parsed
        .message
        .unwrap_or_else(|| source_http::body_excerpt(body));
    Error::Api {
        context: context.to_owned(),
        status,
        category: parsed.category,
        message,
    }
}

impl StatusError for Error {
    fn from_status(context: &str, status: u16, body: &[u8]) -> Self {
        api_error(context, status, body)
    }
}
