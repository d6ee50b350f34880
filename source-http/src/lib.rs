//! The HTTP runtime that HTTP sources share, apart from the trait-only `source-core` so that a
//! source without HTTP (or a program that only implements [`source_core::DataSource`]) does
//! not pull in reqwest, the OAuth stack and the token store.
//!
//! - [`ApiClient`]: the authenticated, paced and retried send loop ([`http`]).
//! - [`RateLimiter`]: the process-wide sliding-window limiter ([`ratelimit`]).
//! - [`Service`]: what differs between APIs (name in messages, retry policy, rate-limit advice).
//! - [`Call`] and [`HttpError`]: one request and the failures every HTTP source shares
//!   (authentication, rate limit, network, timeout, unreadable answer), named the same way in
//!   every source and classified once ([`HttpError::kind`]). A source keeps only what is its own:
//!   the parsing of its error bodies ([`StatusError`]).
//!
//! ```
//! use std::time::Duration;
//! use source_http::{Call, RetryPolicy, Service};
//! const SERVICE: Service = Service {
//!     name: "Example",
//!     policy: RetryPolicy {
//!         max_429_attempts: 8,
//!         max_failure_attempts: 5,
//!         backoff_base: Duration::from_millis(250),
//!         backoff_doublings: 6,
//!         max_backoff: Duration::from_secs(10),
//!         rate_limit_headers: None,
//!     },
//!     rate_limit_advice: "another client may be using the same allowance",
//! };
//! let call = Call::get(["v1", "items"], "listing items").param("limit", "100");
//! assert_eq!(call.path, ["v1", "items"]);
//! assert_eq!(SERVICE.name, "Example");
//! ```
#![forbid(unsafe_code)]

pub mod http;
pub mod ratelimit;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

pub use http::{ApiClient, Body, Request, RetryPolicy, SendError};
pub use ratelimit::{Observed, Permit, RateLimiter};
use reqwest::Method;
use source_core::ErrorKind;

/// What differs between the APIs an [`ApiClient`] talks to.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// The name that starts every message (`HubDB`, `Act-On`).
    pub name: &'static str,
    /// How many times and how long to retry.
    pub policy: RetryPolicy,
    /// Appended to "still rate limited" errors: why it may have happened.
    pub rate_limit_advice: &'static str,
}

/// One request to make: method, path segments after the base URL, query, JSON body.
#[derive(Debug, Clone)]
pub struct Call {
    /// The HTTP method.
    pub method: Method,
    /// Path segments after the base URL, each percent-encoded when joined.
    pub path: Vec<String>,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Body,
    /// What this call is for, in messages (`reading table `events``).
    pub context: String,
    /// Whether resending after a network error or 5xx is safe.
    pub idempotent: bool,
}

impl Call {
    /// A request with `method` (idempotent unless it is a POST or PATCH).
    pub fn new<I, S>(method: Method, path: I, context: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let idempotent = !matches!(method, Method::POST | Method::PATCH);
        Self {
            method,
            path: path.into_iter().map(Into::into).collect(),
            query: Vec::new(),
            body: Body::None,
            context: context.into(),
            idempotent,
        }
    }

    /// A GET request.
    pub fn get<I, S>(path: I, context: impl Into<String>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Method::GET, path, context)
    }

    /// Adds a query parameter.
    pub fn param(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_owned(), value.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    /// Sets a body of another content type.
    pub fn bytes(
        mut self,
        content_type: impl Into<String>,
        bytes: impl Into<bytes::Bytes>,
    ) -> Self {
        self.body = Body::Bytes {
            content_type: content_type.into(),
            bytes: bytes.into(),
        };
        self
    }

    /// Marks the call safe (or not) to resend after a network error or 5xx.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    fn request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            body: &self.body,
            idempotent: self.idempotent,
            context: &self.context,
        }
    }
}

/// The failures of a call that every HTTP source shares. Messages start with the service's
/// name and say what was being done; they never carry a token or a URL query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// No usable token.
    #[error("{service} {context}: {source}")]
    Auth {
        /// The service.
        service: &'static str,
        /// What was being done.
        context: String,
        /// The token provider's error (boxed: it is large and rare).
        #[source]
        source: Box<auth_core::Error>,
    },
    /// Still rate limited after every retry.
    #[error(
        "{service} {context}: still rate limited (HTTP 429) after {attempts} attempts; {advice}"
    )]
    RateLimited {
        /// The service.
        service: &'static str,
        /// What was being done.
        context: String,
        /// Attempts made.
        attempts: u32,
        /// Why it may have happened.
        advice: &'static str,
    },
    /// Network failure, after the retries allowed.
    #[error("{service} {context}: {message}")]
    Transport {
        /// The service.
        service: &'static str,
        /// What was being done.
        context: String,
        /// What failed (no URL query, no token).
        message: String,
    },
    /// The operation ran past the connection's `Timeout`.
    #[error("{service} {context}: timed out after {limit:?} (raise Timeout)")]
    Timeout {
        /// The service.
        service: &'static str,
        /// What was being done.
        context: String,
        /// The limit.
        limit: Duration,
    },
    /// The service answered something the source cannot read.
    #[error("{service} {context}: unexpected response: {message}")]
    Decode {
        /// The service.
        service: &'static str,
        /// What was being done.
        context: String,
        /// What was wrong.
        message: String,
    },
    /// The network settings cannot be used (a bad proxy, firewall or certificate).
    #[error("{service} ProxyServer: {message}")]
    Setup {
        /// The service.
        service: &'static str,
        /// What is wrong.
        message: String,
    },
    /// `APIBaseURL` cannot take path segments (`mailto:x`, `data:...`).
    #[error("{service} APIBaseURL: cannot be a base URL")]
    BaseUrl {
        /// The service.
        service: &'static str,
    },
}

impl HttpError {
    /// The kind of failure, for callers that do not know this source.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Auth { source, .. } => auth_kind(source),
            Self::RateLimited { .. } => ErrorKind::RateLimited,
            Self::Transport { .. } | Self::Timeout { .. } | Self::Decode { .. } => {
                ErrorKind::Unavailable
            }
            Self::BaseUrl { .. } | Self::Setup { .. } => ErrorKind::Config,
        }
    }

    /// An unreadable answer.
    pub fn decode(service: &Service, context: &str, message: impl ToString) -> Self {
        Self::Decode {
            service: service.name,
            context: context.to_owned(),
            message: message.to_string(),
        }
    }
}

/// The kind of an authentication failure.
///
/// ```
/// use source_core::ErrorKind;
/// let e = auth_core::Error::Cancelled;
/// assert_eq!(source_http::auth_kind(&e), ErrorKind::Auth);
/// ```
pub fn auth_kind(e: &auth_core::Error) -> ErrorKind {
    use auth_core::Error as E;
    match e {
        E::InvalidConfiguration { .. } => ErrorKind::Config,
        E::RateLimited { .. } | E::TokenEndpoint { status: 429, .. } => ErrorKind::RateLimited,
        E::Transport { .. } | E::Store(_) | E::HttpSetup(_) => ErrorKind::Unavailable,
        E::TokenEndpoint { status, .. } if *status >= 500 => ErrorKind::Unavailable,
        _ => ErrorKind::Auth,
    }
}

/// The kind of an HTTP error status.
///
/// ```
/// assert_eq!(source_http::status_kind(404), source_core::ErrorKind::NotFound);
/// ```
pub fn status_kind(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Auth,
        429 => ErrorKind::RateLimited,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        400 | 422 => ErrorKind::BadInput,
        500.. => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    }
}

/// A short, printable prefix (200 bytes, control characters dropped) of an error body that is
/// not in the shape the source knows, for its message.
///
/// ```
/// assert_eq!(source_http::body_excerpt(b"<html>\nBad gateway</html>"), "<html>Bad gateway</html>");
/// ```
pub fn body_excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)])
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// A source's error type as [`ApiClient::call`] builds it: the shared failures, plus refused
/// requests whose bodies only the source can read.
pub trait StatusError: From<HttpError> {
    /// A non-2xx answer that retrying cannot fix, with its body.
    fn from_status(context: &str, status: u16, body: &[u8]) -> Self;
}

/// An [`ApiClient`] bound to one [`Service`] and one source's error type: what a source's
/// scans, writes and procedures call.
pub struct ServiceClient<E> {
    api: ApiClient,
    service: &'static Service,
    error: PhantomData<fn() -> E>,
}

impl<E> Clone for ServiceClient<E> {
    fn clone(&self) -> Self {
        Self {
            api: self.api.clone(),
            service: self.service,
            error: PhantomData,
        }
    }
}

impl<E> fmt::Debug for ServiceClient<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceClient")
            .field("service", &self.service.name)
            .field("api", &self.api)
            .finish()
    }
}

impl<E: StatusError> ServiceClient<E> {
    /// `api` talking to `service`.
    pub fn new(api: ApiClient, service: &'static Service) -> Self {
        Self {
            api,
            service,
            error: PhantomData,
        }
    }

    /// The rate limiter requests go through (shared per allowance in the process).
    pub fn limiter(&self) -> &Arc<RateLimiter> {
        self.api.limiter()
    }

    /// Sends `call`: waits for a rate-limit slot, adds the bearer token, refreshes once on 401,
    /// retries 429 (honouring `Retry-After`) and, when idempotent, 5xx and network errors with
    /// bounded backoff. Answers that retrying cannot fix become `E`.
    pub async fn send(&self, call: &Call) -> Result<bytes::Bytes, E> {
        self.api.call(self.service, call).await
    }

    /// Sends `call` and parses the JSON answer.
    pub async fn json<T: serde::de::DeserializeOwned>(&self, call: &Call) -> Result<T, E> {
        self.api.call_json(self.service, call).await
    }
}

impl ApiClient {
    /// Sends `call` (see [`ApiClient::send`]) and maps what is left of a failure to `E`.
    pub async fn call<E: StatusError>(
        &self,
        service: &Service,
        call: &Call,
    ) -> Result<bytes::Bytes, E> {
        let context = call.context.as_str();
        self.send(call.request()).await.map_err(|e| {
            let ctx = || context.to_owned();
            let name = service.name;
            match e {
                SendError::BaseUrl => HttpError::BaseUrl { service: name }.into(),
                SendError::Auth(source) => HttpError::Auth {
                    service: name,
                    context: ctx(),
                    source,
                }
                .into(),
                SendError::RateLimited { attempts } => HttpError::RateLimited {
                    service: name,
                    context: ctx(),
                    attempts,
                    advice: service.rate_limit_advice,
                }
                .into(),
                SendError::Timeout { limit } => HttpError::Timeout {
                    service: name,
                    context: ctx(),
                    limit,
                }
                .into(),
                SendError::Transport { message } => HttpError::Transport {
                    service: name,
                    context: ctx(),
                    message,
                }
                .into(),
                SendError::Status { status, body } => E::from_status(context, status, &body),
            }
        })
    }

    /// Sends `call` and parses the JSON answer.
    pub async fn call_json<T, E>(&self, service: &Service, call: &Call) -> Result<T, E>
    where
        T: serde::de::DeserializeOwned,
        E: StatusError,
    {
        let body = self.call::<E>(service, call).await?;
        serde_json::from_slice(&body)
            .map_err(|e| HttpError::decode(service, &call.context, e).into())
    }
}
