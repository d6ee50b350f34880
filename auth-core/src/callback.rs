//! The loopback listener that receives the OAuth redirect in the desktop flow.
//!
//! The redirect URI is `CallbackURL` exactly as configured: HubSpot refuses IP literals and
//! both providers only redirect to the URI registered with the app (HubSpot e.g.
//! `http://localhost:33333`, Act-On `http://localhost:80` by default). The listener binds only
//! the loopback addresses that host stands for (`localhost` → 127.0.0.1 and ::1, whichever the
//! machine has), never a wildcard or LAN address, so the code cannot leave the machine.
//!
//! [`CallbackListener::wait`] answers exactly one valid callback (the first `GET` on the
//! configured path whose `state` matches) and then closes the port. Everything else — stray
//! requests, a wrong or missing `state`, malformed queries, slow or silent connections — gets
//! a small static page and the flow keeps waiting, until the timeout. The faults handled are
//! the F-CB table of the reliability research (CB-1 … CB-19); the tests carry those ids.
//!
//! HTTP is parsed minimally on purpose (request line and headers up to the blank line, one
//! request per connection, `Connection: close`): a browser's redirect is all this serves, and
//! a web framework would be a large dependency for it.
//!
//! ```no_run
//! # async fn run() -> Result<(), auth_core::Error> {
//! use auth_core::callback::CallbackListener;
//! let url = url::Url::parse("http://localhost:33333/callback").expect("a URL");
//! let listener = CallbackListener::bind(&url).await?.with_provider("HubSpot");
//! let state = connstr::Secret::new("a 256-bit random state");
//! // ... send the user to the authorization URL with redirect_uri = listener.redirect_uri() ...
//! let result = listener
//!     .wait(&state, std::time::Duration::from_secs(300))
//!     .await?;
//! # let _ = result.code;
//! # Ok(()) }
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use connstr::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use url::{Host, Url};

use crate::Error;

/// The request head (request line and headers) is capped so a huge query cannot grow memory
/// (CB-9); real callbacks are well under 4 KiB.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// A connection that has not sent its whole head by then is dropped (slowloris, CB-10).
const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Writing a page to a client that does not read must not hold a task forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// After answering, unread request bytes are drained for a little while so that closing the
/// socket does not turn into a TCP reset that hides the page from the browser.
const DRAIN_TIME: Duration = Duration::from_secs(2);
const DRAIN_LIMIT: usize = 2 * 1024 * 1024;
/// Connections handled at once; more are accepted and closed at once so a local flood cannot
/// exhaust tasks or file descriptors while the real browser is still able to get through.
const MAX_CONNECTIONS: usize = 32;
/// How much of a provider's error text ends up in [`Error::AccessDenied`].
const MAX_DESCRIPTION_CHARS: usize = 200;
/// Attempts to find an ephemeral port free on every loopback address (`localhost:0`).
const EPHEMERAL_ATTEMPTS: usize = 8;

/// What a valid callback carried.
#[derive(Debug)]
pub struct CallbackResult {
    /// The authorization code, to exchange once at the token endpoint.
    pub code: Secret,
    /// The RFC 9207 `iss` parameter, when the provider sent one; the caller compares it with
    /// the issuer it expects (CB-8), since only the caller knows that issuer.
    pub iss: Option<String>,
}

/// A bound loopback listener for one authorization-code flow.
///
/// Bind it before building the authorization URL (so a busy port fails before the browser
/// opens), send [`CallbackListener::redirect_uri`] as `redirect_uri`, then
/// [`CallbackListener::wait`]. The port is closed when `wait` returns or its future is dropped.
#[derive(Debug)]
pub struct CallbackListener {
    listeners: Vec<TcpListener>,
    redirect_uri: String,
    path: String,
    provider: String,
    header_timeout: Duration,
}

impl CallbackListener {
    /// Binds the loopback addresses of `callback_url`'s host on its port.
    ///
    /// The redirect URI is `callback_url`'s serialization, which for a URL with an empty path
    /// ends in `/` (`http://localhost:33333/`). Providers compare the redirect URI with the
    /// registered one character by character, so when binding a `CallbackURL` property use
    /// [`CallbackListener::bind_configured`], which keeps the text exactly as configured.
    ///
    /// # Errors
    /// [`Error::InvalidConfiguration`] (property `CallbackURL`) for a scheme other than http, a
    /// fragment, or a host that is not loopback; [`Error::CallbackPortInUse`] when another
    /// program has the port (CB-12).
    pub async fn bind(callback_url: &Url) -> Result<CallbackListener, Error> {
        Self::bind_parsed(callback_url, callback_url.as_str()).await
    }

    /// Like [`CallbackListener::bind`], but takes `CallbackURL` as configured and sends that
    /// text, unchanged, as the redirect URI (only a port of 0 is replaced by the bound port).
    ///
    /// # Errors
    /// As [`CallbackListener::bind`], plus [`Error::InvalidConfiguration`] when the text is not
    /// a URL.
    pub async fn bind_configured(callback_url: &str) -> Result<CallbackListener, Error> {
        let text = callback_url.trim();
        let url = Url::parse(text).map_err(|e| config_error(format!("not a URL: {e}")))?;
        Self::bind_parsed(&url, text).await
    }

    async fn bind_parsed(url: &Url, text: &str) -> Result<CallbackListener, Error> {
        if url.scheme() != "http" {
            return Err(config_error(format!(
                "the desktop flow receives the redirect on this machine, so CallbackURL must be an http:// loopback URL such as http://localhost:33333 (got {}://)",
                url.scheme()
            )));
        }
        if url.fragment().is_some() {
            return Err(config_error(
                "a redirect URI must not contain a fragment (#...); remove it here and in the app registration".to_owned(),
            ));
        }
        let candidates: Vec<IpAddr> = match url.host() {
            Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()]
            }
            Some(Host::Ipv4(ip)) if ip.is_loopback() => vec![ip.into()],
            Some(Host::Ipv6(ip)) if ip.is_loopback() => vec![ip.into()],
            Some(host) => {
                return Err(config_error(format!(
                    "the host {host} is not this machine's loopback; the listener only binds loopback addresses so the authorization code cannot leave the machine: register and set a URL such as http://localhost:33333"
                )));
            }
            None => return Err(config_error("the URL has no host".to_owned())),
        };
        // http always has a known default port (80), which is Act-On's default CallbackURL.
        let port = url.port_or_known_default().unwrap_or(80);
        let listeners = bind_loopback(&candidates, port).await?;
        let bound_port = listeners
            .first()
            .and_then(|l| l.local_addr().ok())
            .map_or(port, |a| a.port());
        let redirect_uri = if port == 0 {
            with_port(text, bound_port).unwrap_or_else(|| {
                let mut u = url.clone();
                // set_port only fails for URLs that cannot have a port; http always can.
                let _ = u.set_port(Some(bound_port));
                u.to_string()
            })
        } else {
            text.to_owned()
        };
        Ok(CallbackListener {
            listeners,
            redirect_uri,
            path: url.path().to_owned(),
            provider: "the provider".to_owned(),
            header_timeout: DEFAULT_HEADER_TIMEOUT,
        })
    }

    /// Names the provider in [`Error::AccessDenied`] and on the pages ("HubSpot", "Act-On").
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = provider.into();
        self
    }

    /// Changes how long a connection may take to send its request head (default 5 s).
    pub fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Exactly what to send as `redirect_uri`, in the authorization URL and the code exchange.
    pub fn redirect_uri(&self) -> String {
        self.redirect_uri.clone()
    }

    /// The socket addresses actually bound (all loopback).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serves the callback until one valid response arrives or `timeout` passes.
    ///
    /// Consumes the listener: whatever the outcome, the port is closed when this returns, and
    /// also when the future is dropped (Ctrl-C), so a late or replayed callback finds nothing
    /// listening (CB-4, CB-15, CB-17).
    ///
    /// # Errors
    /// [`Error::AccessDenied`] when the provider redirected with `error` and the right `state`
    /// (CB-3, CB-7); [`Error::AuthorizationTimedOut`] when nothing valid arrived in time.
    pub async fn wait(
        self,
        expected_state: &Secret,
        timeout: Duration,
    ) -> Result<CallbackResult, Error> {
        let start = tokio::time::Instant::now();
        // A timeout too large to add means "practically never".
        let deadline = start
            .checked_add(timeout)
            .unwrap_or_else(|| start + Duration::from_secs(100 * 365 * 24 * 3600));
        let ctx = Arc::new(Judge {
            path: self.path.clone(),
            state: expected_state.clone(),
            provider: self.provider.clone(),
            completed: AtomicBool::new(false),
        });
        let (tx, mut rx) = mpsc::channel::<Result<CallbackResult, Error>>(1);
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        // Dropping the set (on return or when this future is dropped) aborts every connection.
        let mut connections = JoinSet::new();
        let sleep = tokio::time::sleep_until(deadline);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                // A finished callback wins over a timeout that fires in the same poll.
                biased;
                Some(outcome) = rx.recv() => return outcome,
                () = &mut sleep => {
                    return Err(Error::AuthorizationTimedOut {
                        callback: self.redirect_uri.clone(),
                        timeout,
                    });
                }
                accepted = accept_any(&self.listeners) => match accepted {
                    Ok(stream) => {
                        if let Ok(permit) = Arc::clone(&slots).try_acquire_owned() {
                            connections.spawn(serve_connection(
                                stream,
                                Arc::clone(&ctx),
                                tx.clone(),
                                self.header_timeout,
                                permit,
                            ));
                        }
                        // else: too many open connections; dropping the stream closes it.
                    }
                    Err(e) => {
                        // E.g. out of file descriptors: back off instead of spinning.
                        tracing::debug!(error = %e, "callback listener: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                // Reap finished connection tasks so the set does not grow.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }
}

fn config_error(message: String) -> Error {
    Error::InvalidConfiguration {
        property: "CallbackURL",
        message,
    }
}

/// Binds `port` on every candidate address that this machine has.
///
/// An address the machine lacks (IPv6 disabled: EADDRNOTAVAIL or EAFNOSUPPORT) is skipped
/// silently as long as one address binds (CB-13); a port taken on any address is an error,
/// because a browser resolving `localhost` to that address would hand the code to the other
/// program (CB-14). The bind itself is the test for "in use": never probe first (CB-12).
async fn bind_loopback(candidates: &[IpAddr], port: u16) -> Result<Vec<TcpListener>, Error> {
    let mut last_unavailable: Option<io::Error> = None;
    for _ in 0..EPHEMERAL_ATTEMPTS {
        let mut bound: Vec<TcpListener> = Vec::new();
        let mut chosen = port;
        let mut retry = false;
        for ip in candidates {
            match TcpListener::bind(SocketAddr::new(*ip, chosen)).await {
                Ok(listener) => {
                    if chosen == 0 {
                        chosen = listener.local_addr().map_or(0, |a| a.port());
                    }
                    bound.push(listener);
                }
                Err(e) if address_unavailable(&e) => last_unavailable = Some(e),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse && port == 0 => {
                    // The ephemeral port picked on the first address is taken on another one:
                    // let the system pick again.
                    retry = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    return Err(Error::CallbackPortInUse {
                        address: ip.to_string(),
                        port: chosen,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                    return Err(config_error(format!(
                        "cannot listen on {}: permission denied (ports below 1024 need administrator rights on most systems); register and set a CallbackURL with a higher port, e.g. http://localhost:33333",
                        SocketAddr::new(*ip, chosen)
                    )));
                }
                Err(e) => {
                    return Err(config_error(format!(
                        "cannot listen on {}: {e}",
                        SocketAddr::new(*ip, chosen)
                    )));
                }
            }
        }
        if retry {
            continue;
        }
        if bound.is_empty() {
            break;
        }
        return Ok(bound);
    }
    Err(config_error(match last_unavailable {
        Some(e) => format!("no loopback address to listen on for this host: {e}"),
        None => "could not find a free port on every loopback address; set a fixed port".to_owned(),
    }))
}

/// Whether a bind failed because this machine lacks the address or its family (IPv6 off).
fn address_unavailable(e: &io::Error) -> bool {
    if e.kind() == io::ErrorKind::AddrNotAvailable {
        return true;
    }
    // EAFNOSUPPORT has no io::ErrorKind of its own.
    #[cfg(target_os = "linux")]
    const EAFNOSUPPORT: i32 = 97;
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    const EAFNOSUPPORT: i32 = 47;
    #[cfg(windows)]
    const EAFNOSUPPORT: i32 = 10047;
    #[cfg(not(any(
        target_os = "linux",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        windows
    )))]
    const EAFNOSUPPORT: i32 = -1;
    e.raw_os_error() == Some(EAFNOSUPPORT)
}

/// `text` with the port of its authority replaced, everything else byte for byte.
fn with_port(text: &str, port: u16) -> Option<String> {
    let start = text.find("://")? + 3;
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    let authority = &text[start..end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &authority[host_start..];
    let host = if host_port.starts_with('[') {
        &host_port[..=host_port.find(']')?]
    } else {
        host_port.split(':').next()?
    };
    Some(format!(
        "{}{}{host}:{port}{}",
        &text[..start],
        &authority[..host_start],
        &text[end..]
    ))
}

/// Accepts the next connection on any of the listeners (cancel-safe).
async fn accept_any(listeners: &[TcpListener]) -> io::Result<TcpStream> {
    if listeners.is_empty() {
        return std::future::pending().await;
    }
    let accepts = listeners.iter().map(|l| Box::pin(l.accept()));
    let (result, _, _) = futures::future::select_all(accepts).await;
    result.map(|(stream, _)| stream)
}

/// The part of the flow state that every connection task needs.
pub(crate) struct Judge {
    pub(crate) path: String,
    pub(crate) state: Secret,
    pub(crate) provider: String,
    /// Set by the first request that ends the flow; later ones get "already completed".
    pub(crate) completed: AtomicBool,
}

/// Why reading the head failed.
enum HeadError {
    /// Over [`MAX_HEAD`] bytes without the blank line.
    TooLarge,
    /// The client closed the connection before finishing the head.
    Incomplete,
    /// The connection failed.
    Io,
}

async fn serve_connection(
    mut stream: TcpStream,
    judge: Arc<Judge>,
    tx: mpsc::Sender<Result<CallbackResult, Error>>,
    header_timeout: Duration,
    _permit: OwnedSemaphorePermit,
) {
    let mut head = match tokio::time::timeout(header_timeout, read_head(&mut stream)).await {
        Err(_) => {
            respond(&mut stream, &Page::timed_out(), false).await;
            return;
        }
        Ok(Err(HeadError::Io)) => return,
        Ok(Err(HeadError::Incomplete)) => {
            respond(
                &mut stream,
                &Page::bad_request("the request was incomplete"),
                false,
            )
            .await;
            return;
        }
        Ok(Err(HeadError::TooLarge)) => {
            respond(
                &mut stream,
                &Page::bad_request("the request is too large"),
                false,
            )
            .await;
            drain(&mut stream).await;
            return;
        }
        Ok(Ok(head)) => head,
    };
    let (page, outcome, is_head) = match parse_head(&head) {
        Some(request) => {
            let (page, outcome) = judge.judge(&request);
            (page, outcome, request.method == "HEAD")
        }
        None => (Page::bad_request("the request is malformed"), None, false),
    };
    // Best effort: the raw head held the code and state; don't leave them in freed memory.
    head.fill(0);
    std::hint::black_box(&head);
    // The page goes out before the outcome: once `wait` has the outcome it returns and aborts
    // this task, and the browser must still see the page.
    respond(&mut stream, &page, is_head).await;
    if let Some(outcome) = outcome {
        // The receiver is gone only when the flow already ended; nothing to do then.
        let _ = tx.send(outcome).await;
    }
    drain(&mut stream).await;
}

/// Reads up to the blank line that ends the head; never more than [`MAX_HEAD`] bytes.
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, HeadError> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) if head.is_empty() => return Err(HeadError::Io),
            Ok(0) => return Err(HeadError::Incomplete),
            Ok(n) => n,
            Err(_) => return Err(HeadError::Io),
        };
        let searched_from = head.len().saturating_sub(3);
        head.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if let Some(end) = find_head_end(&head, searched_from) {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
    }
}

/// The index just past the head's terminating blank line (`\r\n\r\n`, or a bare `\n\n`).
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    (from..buf.len()).find_map(|i| {
        let rest = buf.get(i..)?;
        if rest.starts_with(b"\n\r\n") {
            Some(i + 3)
        } else if rest.starts_with(b"\n\n") {
            Some(i + 2)
        } else {
            None
        }
    })
}

/// The parts of a request the listener looks at.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    /// A speculative load (`Sec-Purpose: prefetch`): must not consume the code (CB-4).
    pub(crate) prefetch: bool,
}

pub(crate) fn parse_head(head: &[u8]) -> Option<Request<'_>> {
    let line_end = head.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(head.get(..line_end)?).ok()?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || method.is_empty() || !version.starts_with("HTTP/1.") {
        return None;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // Headers are read leniently (lossy): only the purpose headers matter, and a stray
    // non-UTF-8 cookie from another local app must not break the callback.
    let prefetch = head
        .get(line_end + 1..)
        .unwrap_or_default()
        .split(|&b| b == b'\n')
        .filter_map(|l| {
            let l = String::from_utf8_lossy(l);
            let (name, value) = l.split_once(':')?;
            let name = name.trim();
            let is_purpose = name.eq_ignore_ascii_case("sec-purpose")
                || name.eq_ignore_ascii_case("purpose")
                || name.eq_ignore_ascii_case("x-purpose")
                || name.eq_ignore_ascii_case("x-moz");
            Some(is_purpose && value.to_ascii_lowercase().contains("prefetch"))
        })
        .any(|p| p);
    Some(Request {
        method,
        path,
        query,
        prefetch,
    })
}

/// The callback's parameters. Code and state go straight into [`Secret`]s (zeroized on drop).
#[derive(Default)]
struct Params {
    code: Option<Secret>,
    state: Option<Secret>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

/// Parses the query strictly: a malformed `%` escape, invalid UTF-8 or a repeated OAuth
/// parameter makes the whole callback a 400 (CB-9) instead of a lossy guess.
fn parse_query(query: &str) -> Option<Params> {
    if !strictly_encoded(query) {
        return None;
    }
    let mut params = Params::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let repeated = match name.as_ref() {
            "code" => params.code.replace(Secret::new(value)).is_some(),
            "state" => params.state.replace(Secret::new(value)).is_some(),
            "error" => params.error.replace(value.into_owned()).is_some(),
            "error_description" => params
                .error_description
                .replace(value.into_owned())
                .is_some(),
            "iss" => params.iss.replace(value.into_owned()).is_some(),
            _ => false,
        };
        if repeated {
            return None;
        }
    }
    Some(params)
}

/// Whether every `%` starts a two-digit hex escape and every name and value decodes to UTF-8
/// (form_urlencoded itself would substitute U+FFFD silently).
fn strictly_encoded(query: &str) -> bool {
    query.split('&').all(|pair| {
        let mut bytes = Vec::with_capacity(pair.len());
        let mut it = pair.bytes();
        while let Some(b) = it.next() {
            if b == b'%' {
                let hex = |b: Option<u8>| b.and_then(|b| char::from(b).to_digit(16));
                match (hex(it.next()), hex(it.next())) {
                    (Some(hi), Some(lo)) => bytes.push(((hi << 4) | lo) as u8),
                    _ => return false,
                }
            } else {
                bytes.push(b);
            }
        }
        std::str::from_utf8(&bytes).is_ok()
    })
}

impl Judge {
    /// Decides the page for a request and whether it ends the flow.
    pub(crate) fn judge(
        &self,
        request: &Request<'_>,
    ) -> (Page, Option<Result<CallbackResult, Error>>) {
        if request.method != "GET" || request.path != self.path {
            // Favicon, `/`, HEAD, OPTIONS, another path: not ours, keep waiting (CB-5).
            tracing::debug!(method = request.method, "callback listener: stray request");
            return (Page::not_found(), None);
        }
        let Some(params) = parse_query(request.query) else {
            return (
                Page::bad_request("the callback's query string is malformed"),
                None,
            );
        };
        // State first: without it nothing in the request can be trusted, not even an error,
        // or any local page could cancel the user's login (CB-1, CB-2; constant time, SEC-4).
        let state_ok = params.state.as_ref().is_some_and(|s| s.ct_eq(&self.state));
        if !state_ok {
            tracing::debug!("callback listener: state mismatch");
            return (Page::state_mismatch(), None);
        }
        if request.prefetch {
            return (Page::prefetch(), None);
        }
        let code = params.code.filter(|c| !c.is_empty());
        if params.error.is_none() && code.is_none() {
            // Neither a code nor an error: not a usable redirect (CB-6).
            return (
                Page::bad_request("the callback has neither a code nor an error"),
                None,
            );
        }
        if self.completed.swap(true, Ordering::SeqCst) {
            // A duplicate (double click, replay) never yields a second code (CB-4).
            return (Page::already_completed(), None);
        }
        if let Some(error) = params.error {
            // An error wins over a code sent with it (CB-7).
            let description = describe_error(&error, params.error_description.as_deref());
            let page = Page::cancelled(&self.provider, &description);
            let outcome = Err(Error::AccessDenied {
                provider: self.provider.clone(),
                description,
            });
            return (page, Some(outcome));
        }
        match code {
            Some(code) => (
                Page::success(),
                Some(Ok(CallbackResult {
                    code,
                    iss: params.iss,
                })),
            ),
            // Unreachable by the checks above; answered like CB-6 rather than panicking.
            None => (Page::bad_request("the callback has no code"), None),
        }
    }
}

/// `error: error_description`, made safe for a terminal or log line and truncated.
fn describe_error(error: &str, description: Option<&str>) -> String {
    let text = match description {
        Some(d) if !d.is_empty() => format!("{error}: {d}"),
        _ => error.to_owned(),
    };
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i >= MAX_DESCRIPTION_CHARS {
            out.push('…');
            break;
        }
        // Control and bidirectional-override characters could rewrite the user's terminal.
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values (L8, CB-19).
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A small static page: no scripts, no styles, no links, no third-party content (L7).
pub(crate) struct Page {
    status: u16,
    reason: &'static str,
    title: &'static str,
    /// Already HTML-escaped.
    message: String,
}

impl Page {
    fn new(status: u16, reason: &'static str, title: &'static str, message: &str) -> Self {
        Self {
            status,
            reason,
            title,
            message: html_escape(message),
        }
    }

    fn success() -> Self {
        Self::new(
            200,
            "OK",
            "Authorization complete",
            "The application received the authorization. You can close this window and return to it.",
        )
    }

    fn cancelled(provider: &str, description: &str) -> Self {
        Self::new(
            200,
            "OK",
            "Authorization was cancelled",
            &format!(
                "The authorization was cancelled or refused by {provider} ({description}). You can close this window; start the sign-in again from the application if this was a mistake."
            ),
        )
    }

    fn already_completed() -> Self {
        Self::new(
            200,
            "OK",
            "Authorization already completed",
            "This sign-in has already been completed. You can close this window.",
        )
    }

    fn state_mismatch() -> Self {
        Self::new(
            400,
            "Bad Request",
            "Authorization failed: state mismatch",
            "state mismatch: this response does not belong to the sign-in the application is waiting for. Start the sign-in again from the application.",
        )
    }

    fn bad_request(why: &str) -> Self {
        Self::new(
            400,
            "Bad Request",
            "Bad request",
            &format!("This is not a valid authorization response: {why}."),
        )
    }

    fn not_found() -> Self {
        Self::new(
            404,
            "Not Found",
            "Not found",
            "This address only receives the authorization response.",
        )
    }

    fn prefetch() -> Self {
        Self::new(
            503,
            "Service Unavailable",
            "Not served to prefetch",
            "The authorization response is only accepted from a real navigation.",
        )
    }

    fn timed_out() -> Self {
        Self::new(
            408,
            "Request Timeout",
            "Request timeout",
            "The request took too long to arrive.",
        )
    }

    pub(crate) fn render(&self, with_body: bool) -> Vec<u8> {
        let body = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body><main><h1>{title}</h1><p>{message}</p></main></body></html>\n",
            title = self.title,
            message = self.message,
        );
        // Never a redirect (L9), never cached, never framed, never leaking the URL (with its
        // code) through Referer (L7).
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nReferrer-Policy: no-referrer\r\nContent-Security-Policy: default-src 'none'\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nConnection: close\r\n\r\n",
            self.status,
            self.reason,
            body.len()
        )
        .into_bytes();
        if with_body {
            out.extend_from_slice(body.as_bytes());
        }
        out
    }
}

/// Writes the page and half-closes; errors only mean the client went away.
async fn respond(stream: &mut TcpStream, page: &Page, is_head: bool) {
    let bytes = page.render(!is_head);
    let _ = tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(&bytes).await?;
        stream.flush().await?;
        stream.shutdown().await
    })
    .await;
}

/// Reads and discards what the client still sends, for a bounded time and size, so closing
/// does not reset the connection before the client has read the page.
async fn drain(stream: &mut TcpStream) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut scratch = [0u8; 4096];
        let mut total = 0usize;
        while total < DRAIN_LIMIT {
            match stream.read(&mut scratch).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cb_13_ipv6_unavailable_falls_back_to_ipv4() {
        // ::2 is not assigned to any interface: binding it fails with EADDRNOTAVAIL, exactly as
        // ::1 does on a machine with IPv6 disabled.
        let candidates = [IpAddr::from(Ipv4Addr::LOCALHOST), "::2".parse().unwrap()];
        let bound = bind_loopback(&candidates, 0).await.unwrap();
        assert_eq!(bound.len(), 1);
        assert!(bound[0].local_addr().unwrap().ip().is_ipv4());
    }

    #[tokio::test]
    async fn cb_13_no_address_at_all_is_a_configuration_error() {
        let candidates = ["::2".parse().unwrap()];
        let err = bind_loopback(&candidates, 0).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidConfiguration {
                    property: "CallbackURL",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn with_port_keeps_the_text() {
        assert_eq!(
            with_port("http://localhost:0", 5).as_deref(),
            Some("http://localhost:5")
        );
        assert_eq!(
            with_port("http://localhost:0/cb?x=1", 5).as_deref(),
            Some("http://localhost:5/cb?x=1")
        );
        assert_eq!(
            with_port("http://[::1]:0/cb", 7).as_deref(),
            Some("http://[::1]:7/cb")
        );
    }

    #[test]
    fn strict_query_decoding() {
        assert!(strictly_encoded("code=a%20b&state=x+y"));
        assert!(strictly_encoded(""));
        assert!(!strictly_encoded("code=%zz"));
        assert!(!strictly_encoded("code=%f"));
        assert!(!strictly_encoded("code=%ff%fe"));
        assert!(parse_query("code=a&code=b").is_none());
    }

    #[test]
    fn error_descriptions_are_tamed() {
        let d = describe_error("access_denied", Some("a\u{1b}[31mred\u{202e}"));
        assert!(!d.chars().any(char::is_control), "{d}");
        assert!(!d.contains('\u{202e}'));
        let long = describe_error("x", Some(&"y".repeat(1000)));
        assert!(long.chars().count() <= MAX_DESCRIPTION_CHARS + 1);
    }

    #[test]
    fn head_end_detection() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\n", 0), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\n", 0), Some(16));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n", 0), None);
    }
}
