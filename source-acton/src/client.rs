//! Authenticated, paced and retried Act-On requests: `source-http`'s `ServiceClient` with
//! Act-On's retry policy and error bodies.

use std::time::Duration;

pub(crate) use source_http::Call;
use source_http::{RetryPolicy, Service, StatusError};

use crate::Error;

/// Act-On for the shared send loop: the pacer makes 429 rare; the v1 read API is all GETs,
/// so 5xx and network errors are always retried.
pub(crate) const SERVICE: Service = Service {
    name: "Act-On",
    policy: RetryPolicy {
        max_429_attempts: 8,
        max_failure_attempts: 5,
        backoff_base: Duration::from_millis(250),
        backoff_doublings: 6,
        max_backoff: Duration::from_secs(10),
        rate_limit_headers: None,
    },
    rate_limit_advice: "another client may be using the account's 5 requests per second",
};

/// One HTTP client for one account: the shared reqwest client, a token provider and the
/// account's process-wide pacer, answering with Act-On's errors.
pub(crate) type Client = source_http::ServiceClient<Error>;

/// `GET {base}/api/1/{segments...}`.
pub(crate) fn api_call(segments: &[&str], context: impl Into<String>) -> Call {
    let path = ["api", "1"].iter().chain(segments).copied();
    Call::get(path, context)
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
        // Not JSON we know: show what came back.
        .unwrap_or_else(|| source_http::body_excerpt(body));
    Error::Api {
        context: context.to_owned(),
        status,
        message,
    }
}

impl StatusError for Error {
    fn from_status(context: &str, status: u16, body: &[u8]) -> Self {
        api_error(context, status, body)
    }
}
