//! Request and response types the handlers work with, independent of hyper.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Method};
use hyper::body::{Body, Frame, SizeHint};
use serde::Serialize;

/// A fully read request.
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) raw_query: Option<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Req {
    pub(crate) fn new(
        method: Method,
        path: String,
        raw_query: Option<String>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        let query = raw_query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Self {
            method,
            path,
            raw_query,
            query,
            headers,
            body,
        }
    }

    /// The first value of query parameter `name`.
    pub(crate) fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of query parameter `name`.
    pub(crate) fn q_all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body parsed as `application/x-www-form-urlencoded`.
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }

    /// The path split on `/`, without empty segments, percent-decoded.
    pub(crate) fn segments(&self) -> Vec<String> {
        self.path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect()
    }

    /// The bearer token from `Authorization`, if any (scheme matched case-insensitively).
    pub(crate) fn bearer(&self) -> Option<&str> {
        let v = self
            .headers
            .get(http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    /// The request's `Content-Type` without parameters, lower-cased.
    pub(crate) fn content_type(&self) -> String {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default()
    }
}

fn percent_decode(s: &str) -> String {
    // Path segments use %XX escapes but not `+` for spaces, so decode by hand.
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response produced by a handler.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

impl Resp {
    pub(crate) fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A JSON response from a serializable value.
    pub(crate) fn json(status: u16, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Self::new(status, "application/json;charset=utf-8", body)
    }

    /// A JSON response from text that is already JSON.
    pub(crate) fn raw_json(status: u16, body: String) -> Self {
        Self::new(status, "application/json;charset=utf-8", body)
    }

    pub(crate) fn html(status: u16, body: String) -> Self {
        Self::new(status, "text/html;charset=utf-8", body)
            .header(
                "content-security-policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action *",
            )
            .header("referrer-policy", "no-referrer")
    }

    pub(crate) fn redirect(location: &str) -> Self {
        Self::new(302, "text/plain;charset=utf-8", Bytes::new()).header("location", location)
    }

    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn add_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
    }
}

/// The body sent to hyper: whole, cut short (a truncation fault) or never finishing.
pub(crate) enum OutBody {
    Full(Option<Bytes>),
    /// Sends the bytes, waits so they are flushed, then fails so hyper aborts the
    /// connection mid-body.
    Truncated(Option<Bytes>, Pin<Box<tokio::time::Sleep>>),
    /// Never yields: a stalled body after the headers went out.
    Stall,
}

impl Body for OutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            OutBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            OutBody::Truncated(b, pause) => match b.take() {
                Some(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
                // Pending first lets hyper flush the headers and the partial body.
                None => pause
                    .as_mut()
                    .poll(cx)
                    .map(|()| Some(Err(std::io::Error::other("injected truncation")))),
            },
            // Intentionally never wakes: the connection task is dropped on shutdown.
            OutBody::Stall => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, OutBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            OutBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            OutBody::Full(None) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}
