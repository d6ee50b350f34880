//! The HTTP server loop shared by both emulators: accept, read, apply latency and
//! faults, dispatch to the service, log.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::control::{Control, EndpointClass, FaultKind, Settings};
use crate::http::{OutBody, Req, Resp};
use crate::{Error, util};

/// Largest request body accepted (CSV imports are the big ones).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// What a request handler can see besides the request.
pub(crate) struct Ctx<'a> {
    pub(crate) base_url: &'a str,
    pub(crate) control: &'a Control,
    pub(crate) settings: Settings,
    pub(crate) now_ms: i64,
    /// A token-body fault to apply to a successful token response.
    pub(crate) token_fault: Option<FaultKind>,
}

/// One emulated vendor API.
pub(crate) trait Service: Send + Sync + 'static {
    fn classify(&self, method: &http::Method, path: &str) -> EndpointClass;
    fn handle(&self, req: &Req, ctx: &Ctx<'_>) -> Resp;
    /// The vendor's body for an injected status.
    fn fault_response(&self, status: u16, class: EndpointClass) -> Resp;
    fn reset_data(&self);
    fn expire_tokens(&self, now_ms: i64, token: Option<&str>) -> usize;
    fn revoke_tokens(&self, token: Option<&str>) -> usize;
    fn tokens_summary(&self, now_ms: i64) -> serde_json::Value;
    /// Revokes a static service key; `None` where the service has none (Act-On).
    fn revoke_service_key(&self, _key: &str) -> Option<usize> {
        None
    }
}

pub(crate) struct Shared {
    pub(crate) control: Control,
    pub(crate) service: Arc<dyn Service>,
    pub(crate) base_url: String,
}

/// A running listener.
pub(crate) struct Server {
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

pub(crate) async fn bind(port: u16) -> Result<(TcpListener, SocketAddr), Error> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

impl Server {
    pub(crate) fn start(listener: TcpListener, shared: Arc<Shared>) -> Self {
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, shared, rx));
        Self {
            shutdown: tx,
            task: Some(task),
        }
    }

    /// Stops accepting, drops every open connection (stalled ones included) and waits.
    pub(crate) async fn shutdown(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A handle dropped without `shutdown()` still stops its listener.
        let _ = self.shutdown.send(true);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            res = listener.accept() => {
                let Ok((stream, _)) = res else {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let reset = Arc::new(AtomicBool::new(false));
                let io = TokioIo::new(ResettableStream { inner: stream, reset: reset.clone() });
                let shared = shared.clone();
                let mut stop = stop.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| dispatch(shared.clone(), reset.clone(), req));
                    let conn = http1::Builder::new().keep_alive(true).serve_connection(io, svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = stop.changed() => {}
                    }
                });
            }
        }
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

/// A TCP stream that, when a reset fault fired on it, closes with SO_LINGER=0 so the
/// peer sees a real RST rather than a clean FIN.
struct ResettableStream {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

async fn dispatch(
    shared: Arc<Shared>,
    reset: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<OutBody>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().map(str::to_string);
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return Ok(to_hyper(
                Resp::json(
                    413,
                    &serde_json::json!({"message": "request body too large"}),
                ),
                Mode::Full,
            ));
        }
    };
    let req = Req::new(parts.method, path, raw_query, parts.headers, body);
    if req.path == "/_emulator" || req.path.starts_with("/_emulator/") {
        return Ok(to_hyper(
            crate::control::handle_control(&shared.control, shared.service.as_ref(), &req),
            Mode::Full,
        ));
    }
    // A real server finishes a request whose client went away (hyper would drop the handler
    // with the connection): a token grant that was received is performed, as a provider would,
    // even if its answer never reaches the client.
    match tokio::spawn(respond(shared, reset, req)).await {
        Ok(result) => result,
        Err(e) => Err(std::io::Error::other(format!(
            "request handler failed: {e}"
        ))),
    }
}

/// Answers one request of the emulated service: faults, rate limits, the handler.
async fn respond(
    shared: Arc<Shared>,
    reset: Arc<AtomicBool>,
    req: Req,
) -> Result<Response<OutBody>, std::io::Error> {
    let control = &shared.control;

    let at_ms = control.clock.now_ms();
    let settings = control.settings();
    let delay = settings.latency_ms
        + if settings.jitter_ms > 0 {
            u64::from_le_bytes(util::random_bytes::<8>()) % (settings.jitter_ms + 1)
        } else {
            0
        };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }

    let class = shared.service.classify(&req.method, &req.path);
    if class == EndpointClass::Api {
        control.with_stats(|s| s.api_requests += 1);
    }
    let fault = control.take_fault(class, req.method.as_str(), &req.path);
    let method = req.method.as_str().to_string();
    let log = |status: u16, fault: Option<&FaultKind>| {
        control.log(
            &method,
            &req.path,
            req.raw_query.as_deref(),
            status,
            fault,
            at_ms,
        );
    };

    let mut mode = Mode::Full;
    let mut token_fault = None;
    match &fault {
        Some(FaultKind::Reset) => {
            log(0, fault.as_ref());
            reset.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("injected connection reset"));
        }
        Some(FaultKind::Stall) => {
            log(0, fault.as_ref());
            // Hang until the client gives up or the emulator shuts down.
            std::future::pending::<()>().await;
        }
        Some(FaultKind::Delay { ms }) => tokio::time::sleep(Duration::from_millis(*ms)).await,
        Some(FaultKind::Truncate) => mode = Mode::Truncate,
        Some(FaultKind::StallBody) => mode = Mode::StallBody,
        Some(
            k @ (FaultKind::TokenError200 { .. }
            | FaultKind::ExpiresInString
            | FaultKind::ExpiresInMissing
            | FaultKind::TokenTypeMissing),
        ) => token_fault = Some(k.clone()),
        Some(FaultKind::Status { .. }) | None => {}
    }

    let resp = match &fault {
        Some(FaultKind::Status {
            status,
            retry_after,
            body,
            content_type,
        }) => {
            let mut r = match body {
                Some(b) => Resp::new(
                    *status,
                    content_type
                        .as_deref()
                        .unwrap_or("application/json;charset=utf-8"),
                    b.clone(),
                ),
                None => shared.service.fault_response(*status, class),
            };
            if let Some(s) = retry_after {
                r = r.header("retry-after", s.to_string());
            }
            r
        }
        _ => {
            let ctx = Ctx {
                base_url: &shared.base_url,
                control,
                settings,
                now_ms: at_ms,
                token_fault: token_fault.clone(),
            };
            shared.service.handle(&req, &ctx)
        }
    };
    if class == EndpointClass::Token
        && (resp.status >= 400 || matches!(token_fault, Some(FaultKind::TokenError200 { .. })))
    {
        control.with_stats(|s| s.token_errors += 1);
    }
    log(
        if matches!(mode, Mode::StallBody) {
            0
        } else {
            resp.status
        },
        fault.as_ref(),
    );
    Ok(to_hyper(resp, mode))
}

enum Mode {
    Full,
    Truncate,
    StallBody,
}

fn to_hyper(resp: Resp, mode: Mode) -> Response<OutBody> {
    let full_len = resp.body.len();
    let body = match mode {
        Mode::Full => OutBody::Full(Some(resp.body)),
        Mode::Truncate => OutBody::Truncated(
            Some(resp.body.slice(0..full_len / 2)),
            Box::pin(tokio::time::sleep(Duration::from_millis(50))),
        ),
        Mode::StallBody => OutBody::Stall,
    };
    let mut out = Response::new(body);
    *out.status_mut() =
        http::StatusCode::from_u16(resp.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    for (k, v) in resp.headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(&v),
        ) {
            headers.append(k, v);
        }
    }
    if !matches!(mode, Mode::Full) {
        headers.insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(full_len),
        );
    }
    out
}
