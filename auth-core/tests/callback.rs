//! The loopback callback listener against the F-CB fault table (reliability research §4),
//! driven with raw HTTP over loopback sockets, and the browser launcher's fallback (CB-16).

use std::net::SocketAddr;
use std::time::Duration;

use auth_core::Error;
use auth_core::callback::{CallbackListener, CallbackResult};
use connstr::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// Canary values: they must never show up in an error's text.
const STATE: &str = "CANARY-STATE-3f9a_x-Zq";
const CODE: &str = "CANARY-CODE-77c1";

/// A flow waiting on `url` (with `STATE`) in a task, and the address to send requests to.
async fn start_flow(
    url: &str,
    timeout: Duration,
) -> (
    JoinHandle<Result<CallbackResult, Error>>,
    SocketAddr,
    String,
) {
    let listener = CallbackListener::bind_configured(url)
        .await
        .expect("the listener binds");
    let addr = listener.local_addrs()[0];
    let redirect = listener.redirect_uri();
    let flow = tokio::spawn(async move {
        let state = Secret::new(STATE);
        listener.wait(&state, timeout).await
    });
    (flow, addr, redirect)
}

/// A parsed response; `status` is 0 when the connection closed without one.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// Sends raw bytes and reads the whole response (the listener always closes).
async fn send(addr: SocketAddr, raw: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr)
        .await
        .expect("the listener accepts");
    // The listener may close early (e.g. a request too large); what it answered still counts.
    let _ = stream.write_all(raw).await;
    // Half-close like a client that has nothing more to send, so the listener's drain ends.
    let _ = stream.shutdown().await;
    read_response(&mut stream).await
}

async fn read_response(stream: &mut TcpStream) -> Response {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Response {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n").into_bytes()
}

fn valid_callback() -> Vec<u8> {
    get(&format!("/callback?code={CODE}&state={STATE}"))
}

async fn finish(flow: JoinHandle<Result<CallbackResult, Error>>) -> Result<CallbackResult, Error> {
    tokio::time::timeout(Duration::from_secs(10), flow)
        .await
        .expect("the flow ends")
        .expect("the flow task does not panic")
}

/// The flow is still waiting (nothing resolved it).
async fn assert_still_waiting(flow: &JoinHandle<Result<CallbackResult, Error>>) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!flow.is_finished(), "the flow ended early");
}

fn assert_no_canary(err: &Error) {
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(STATE), "state leaked: {text}");
        assert!(!text.contains(CODE), "code leaked: {text}");
    }
}

fn assert_security_headers(r: &Response) {
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(
        r.header("content-security-policy").as_deref(),
        Some("default-src 'none'")
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("connection").as_deref(), Some("close"));
    assert!(r.header("location").is_none(), "never a redirect (L9)");
    assert!(
        !r.body.contains("http://") && !r.body.contains("https://"),
        "no external content (L7): {}",
        r.body
    );
}

#[tokio::test]
async fn cb_1_state_mismatch_keeps_waiting() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    let r = send(addr, &get(&format!("/callback?code={CODE}&state=wrong"))).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("state mismatch"), "{}", r.body);
    assert!(!r.body.contains(CODE));
    assert_security_headers(&r);
    assert_still_waiting(&flow).await;

    // A state that is a prefix of the real one is a mismatch too.
    let prefix = &STATE[..STATE.len() - 1];
    let r = send(addr, &get(&format!("/callback?code={CODE}&state={prefix}"))).await;
    assert_eq!(r.status, 400);
    assert_still_waiting(&flow).await;

    let r = send(addr, &valid_callback()).await;
    assert_eq!(r.status, 200);
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
}

#[tokio::test]
async fn cb_2_missing_state_keeps_waiting() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    for target in [
        format!("/callback?code={CODE}"),
        format!("/callback?code={CODE}&state="),
    ] {
        let r = send(addr, &get(&target)).await;
        assert_eq!(r.status, 400, "{target}");
        assert!(r.body.contains("state mismatch"));
    }
    // An error without the state must not cancel the user's login either (CSRF).
    let r = send(addr, &get("/callback?error=access_denied")).await;
    assert_eq!(r.status, 400);
    assert_still_waiting(&flow).await;
    send(addr, &valid_callback()).await;
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
}

#[tokio::test]
async fn cb_3_access_denied_ends_the_flow() {
    let listener = CallbackListener::bind_configured("http://127.0.0.1:0/callback")
        .await
        .unwrap()
        .with_provider("HubSpot");
    let addr = listener.local_addrs()[0];
    let flow = tokio::spawn(async move {
        listener
            .wait(&Secret::new(STATE), Duration::from_secs(10))
            .await
    });
    let r = send(
        addr,
        &get(&format!(
            "/callback?error=access_denied&error_description=The+user+clicked+Deny&state={STATE}"
        )),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("Authorization was cancelled") && r.body.contains("cancelled"),
        "{}",
        r.body
    );
    assert_security_headers(&r);
    let err = finish(flow).await.unwrap_err();
    match &err {
        Error::AccessDenied {
            provider,
            description,
        } => {
            assert_eq!(provider, "HubSpot");
            assert_eq!(description, "access_denied: The user clicked Deny");
        }
        other => panic!("expected AccessDenied, got {other:?}"),
    }
    assert_no_canary(&err);

    // The description is truncated.
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    let long = "x".repeat(5000);
    send(
        addr,
        &get(&format!(
            "/callback?error=access_denied&error_description={long}&state={STATE}"
        )),
    )
    .await;
    match finish(flow).await.unwrap_err() {
        Error::AccessDenied {
            provider,
            description,
        } => {
            assert_eq!(provider, "the provider");
            assert!(description.chars().count() <= 201, "{}", description.len());
        }
        other => panic!("expected AccessDenied, got {other:?}"),
    }
}

#[tokio::test]
async fn cb_4_duplicate_callback_yields_one_code() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    // Two identical callbacks, the second 10 ms after the first (double submit, replay).
    let first = tokio::spawn(async move { send(addr, &valid_callback()).await });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let second = tokio::spawn(async move {
        match TcpStream::connect(addr).await {
            Ok(mut s) => {
                let _ = s.write_all(&valid_callback()).await;
                Some(read_response(&mut s).await)
            }
            Err(_) => None, // already closed: refused
        }
    });
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
    assert_eq!(first.status, 200);
    assert!(first.body.contains("Authorization complete"));
    if let Some(second) = second {
        assert!(
            !second.body.contains("Authorization complete"),
            "a second success: {second:?}"
        );
    }
    // And a replay after the flow: nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn cb_4_concurrent_duplicates_get_already_completed() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    // Both connections are open before either sends, so both are being served when the first
    // completes: exactly one success, the other "already completed" (or closed).
    let mut a = TcpStream::connect(addr).await.unwrap();
    let mut b = TcpStream::connect(addr).await.unwrap();
    a.write_all(&valid_callback()).await.unwrap();
    b.write_all(&valid_callback()).await.unwrap();
    let (ra, rb) = tokio::join!(read_response(&mut a), read_response(&mut b));
    let successes = [&ra, &rb]
        .iter()
        .filter(|r| r.body.contains("Authorization complete"))
        .count();
    assert_eq!(successes, 1, "{ra:?} {rb:?}");
    for r in [&ra, &rb] {
        assert!(
            r.status == 0
                || r.body.contains("Authorization complete")
                || r.body.contains("already been completed"),
            "{r:?}"
        );
    }
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
}

#[tokio::test]
async fn cb_4_prefetch_does_not_consume_the_code() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    let prefetch = format!(
        "GET /callback?code={CODE}&state={STATE} HTTP/1.1\r\nHost: localhost\r\nSec-Purpose: prefetch;prerender\r\n\r\n"
    );
    let r = send(addr, prefetch.as_bytes()).await;
    assert_eq!(r.status, 503);
    assert_still_waiting(&flow).await;
    send(addr, &valid_callback()).await;
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
}

#[tokio::test]
async fn cb_5_strays_get_404_and_the_flow_keeps_waiting() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    let callback = format!("/callback?code={CODE}&state={STATE}");
    let strays: Vec<Vec<u8>> = vec![
        get("/favicon.ico"),
        get("/"),
        get(&format!("/?code={CODE}&state={STATE}")),
        get(&format!("/callback/extra?code={CODE}&state={STATE}")),
        get(&format!("/callbackx?code={CODE}&state={STATE}")),
        get(&format!("/CALLBACK?code={CODE}&state={STATE}")),
        format!("HEAD {callback} HTTP/1.1\r\nHost: localhost\r\n\r\n").into_bytes(),
        format!("OPTIONS {callback} HTTP/1.1\r\nHost: localhost\r\n\r\n").into_bytes(),
        b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
        format!("POST {callback} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc")
            .into_bytes(),
    ];
    for raw in &strays {
        let r = send(addr, raw).await;
        assert_eq!(r.status, 404, "{}", String::from_utf8_lossy(raw));
        assert_security_headers(&r);
    }
    assert_still_waiting(&flow).await;
    let r = send(addr, &valid_callback()).await;
    assert_eq!(r.status, 200);
    assert_security_headers(&r);
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
}

#[tokio::test]
async fn cb_5_root_path_callback_url() {
    // HubSpot's documented CallbackURL has no path: the callback arrives on `/`.
    let (flow, addr, redirect) = start_flow("http://localhost:0", Duration::from_secs(10)).await;
    assert!(!redirect.ends_with('/'), "{redirect}");
    assert_eq!(send(addr, &get("/favicon.ico")).await.status, 404);
    assert_eq!(send(addr, &get("/")).await.status, 400);
    let r = send(addr, &get(&format!("/?code={CODE}&state={STATE}"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
}

#[tokio::test]
async fn cb_6_neither_code_nor_error_keeps_waiting() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    for target in [
        format!("/callback?state={STATE}"),
        format!("/callback?state={STATE}&code="),
        format!("/callback?state={STATE}&foo=bar"),
    ] {
        let r = send(addr, &get(&target)).await;
        assert_eq!(r.status, 400, "{target}");
    }
    assert_still_waiting(&flow).await;
    send(addr, &valid_callback()).await;
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
}

#[tokio::test]
async fn cb_7_code_with_error_is_an_error() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    let r = send(
        addr,
        &get(&format!(
            "/callback?code={CODE}&error=server_error&state={STATE}"
        )),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("cancelled"));
    let err = finish(flow).await.unwrap_err();
    assert!(
        matches!(&err, Error::AccessDenied { description, .. } if description == "server_error"),
        "{err:?}"
    );
    assert_no_canary(&err);
}

#[tokio::test]
async fn cb_8_iss_is_returned_for_the_caller_to_check() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    send(
        addr,
        &get(&format!(
            "/callback?code={CODE}&state={STATE}&iss=https%3A%2F%2Fapp.hubspot.com"
        )),
    )
    .await;
    let result = finish(flow).await.unwrap();
    assert_eq!(result.iss.as_deref(), Some("https://app.hubspot.com"));
    assert!(!format!("{result:?}").contains(CODE));
}

#[tokio::test]
async fn cb_9_malformed_and_huge_requests_get_400() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(20)).await;
    // A 1 MiB query: the head cap answers 400 without buffering it.
    let huge = get(&format!(
        "/callback?code={}&state={STATE}",
        "a".repeat(1024 * 1024)
    ));
    let r = send(addr, &huge).await;
    assert_eq!(r.status, 400, "{r:?}");

    let bad: Vec<Vec<u8>> = vec![
        get(&format!("/callback?code=%zz&state={STATE}")),
        get(&format!("/callback?code=abc%&state={STATE}")),
        get(&format!("/callback?code=%ff%fe&state={STATE}")),
        get(&format!(
            "/callback?code={CODE}&state={STATE}&state={STATE}"
        )),
        [
            b"GET /callback?code=\xff\xfe&state=".as_slice(),
            STATE.as_bytes(),
            b" HTTP/1.1\r\n\r\n",
        ]
        .concat(),
        b"garbage\r\n\r\n".to_vec(),
        b"GET /callback\r\n\r\n".to_vec(),
        b"GET /callback HTTP/1.1 extra\r\n\r\n".to_vec(),
        b"\r\n\r\n".to_vec(),
        b"GET /callback?code=x".to_vec(), // then EOF: incomplete
    ];
    for raw in &bad {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(raw).await.unwrap();
        stream.shutdown().await.unwrap();
        let r = read_response(&mut stream).await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(raw));
    }
    assert_still_waiting(&flow).await;

    // Non-UTF-8 bytes in an unrelated header (a cookie from another local app) are tolerated.
    let valid = [
        format!("GET /callback?code={CODE}&state={STATE} HTTP/1.1\r\nHost: localhost\r\n")
            .as_bytes(),
        b"Cookie: x=\xff\xfe\r\n\r\n".as_slice(),
    ]
    .concat();
    let r = send(addr, &valid).await;
    assert_eq!(r.status, 200);
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
}

#[tokio::test]
async fn cb_10_slowloris_does_not_block() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(20)).await;
    // One connection that sends nothing, one that stops halfway through its head.
    let _silent = TcpStream::connect(addr).await.unwrap();
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial
        .write_all(b"GET /callback?code=x HTTP/1.1\r\nHost: lo")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let r = send(addr, &valid_callback()).await;
    assert_eq!(r.status, 200);
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cb_10_silent_connections_are_dropped_after_the_header_timeout() {
    let listener = CallbackListener::bind_configured("http://127.0.0.1:0/callback")
        .await
        .unwrap()
        .with_header_timeout(Duration::from_millis(300));
    let addr = listener.local_addrs()[0];
    let flow = tokio::spawn(async move {
        listener
            .wait(&Secret::new(STATE), Duration::from_secs(20))
            .await
    });
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let started = std::time::Instant::now();
    let r = read_response(&mut silent).await;
    assert_eq!(r.status, 408);
    assert!(started.elapsed() < Duration::from_secs(3));
    // Many at once: the accept loop still serves the real callback.
    let mut hogs = Vec::new();
    for _ in 0..50 {
        hogs.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = send(addr, &valid_callback()).await;
    assert_eq!(r.status, 200);
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
}

#[tokio::test]
async fn cb_11_binds_only_loopback() {
    let listener = CallbackListener::bind_configured("http://localhost:0/callback")
        .await
        .unwrap();
    let addrs = listener.local_addrs();
    assert!(!addrs.is_empty());
    assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    assert!(addrs.iter().any(|a| a.ip().is_ipv4()), "{addrs:?}");
    // Every address shares the one port in the redirect URI.
    let port = addrs[0].port();
    assert!(addrs.iter().all(|a| a.port() == port));
    assert_eq!(
        listener.redirect_uri(),
        format!("http://localhost:{port}/callback")
    );

    for url in [
        "http://0.0.0.0:0/callback",
        "http://[::]:0/callback",
        "http://192.168.1.10:0/callback",
        "http://example.com:0/callback",
        "http://localhost.example.com:0/callback",
        "https://localhost:0/callback",
        "http://localhost:0/callback#frag",
        "not a url",
    ] {
        match CallbackListener::bind_configured(url).await {
            Err(Error::InvalidConfiguration { property, .. }) => {
                assert_eq!(property, "CallbackURL", "{url}")
            }
            other => panic!("{url}: expected InvalidConfiguration, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn cb_11_redirect_uri_is_the_configured_text() {
    let fixed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = fixed.local_addr().unwrap().port();
    drop(fixed);
    // Kept byte for byte (no added `/`), because providers compare it with the registration.
    let text = format!("http://localhost:{port}");
    let listener = CallbackListener::bind_configured(&text).await.unwrap();
    assert_eq!(listener.redirect_uri(), text);
    drop(listener);
    // `bind` takes a parsed URL and sends its serialization.
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/cb?x=1")).unwrap();
    let listener = CallbackListener::bind(&url).await.unwrap();
    assert_eq!(
        listener.redirect_uri(),
        format!("http://127.0.0.1:{port}/cb?x=1")
    );
    assert_eq!(
        listener.local_addrs(),
        vec![SocketAddr::from(([127, 0, 0, 1], port))]
    );
}

#[tokio::test]
async fn cb_12_port_in_use_is_clear() {
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = other.local_addr().unwrap().port();
    for url in [
        format!("http://127.0.0.1:{port}/callback"),
        format!("http://localhost:{port}/callback"),
    ] {
        let err = CallbackListener::bind_configured(&url).await.unwrap_err();
        match &err {
            Error::CallbackPortInUse { address, port: p } => {
                assert_eq!(address, "127.0.0.1");
                assert_eq!(*p, port);
            }
            other => panic!("{url}: expected CallbackPortInUse, got {other:?}"),
        }
        let text = err.to_string();
        assert!(
            text.contains("in use") && text.contains("CallbackURL"),
            "{text}"
        );
    }
    drop(other);

    // Taken on ::1 only: localhost would let the browser reach the other program (CB-14).
    if has_ipv6_loopback("cb_12_port_in_use_is_clear") {
        let v6 = std::net::TcpListener::bind("[::1]:0").unwrap();
        let port = v6.local_addr().unwrap().port();
        let err = CallbackListener::bind_configured(&format!("http://localhost:{port}/cb"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::CallbackPortInUse { address, port: p } if address == "::1" && *p == port),
            "{err:?}"
        );
    }
}

/// Whether this machine has an IPv6 loopback address. Without one (IPv6 disabled, as in some
/// containers) the IPv6 half of a test cannot run, and it says so on stderr instead of passing
/// silently; any other bind error fails the test.
fn has_ipv6_loopback(test: &str) -> bool {
    match std::net::TcpListener::bind("[::1]:0") {
        Ok(_) => true,
        Err(e) if family_unavailable(&e) => {
            eprintln!(
                "SKIPPED the IPv6 part of {test}: this machine has no IPv6 loopback address ({e})"
            );
            false
        }
        Err(e) => panic!("binding [::1]:0 failed for another reason than missing IPv6: {e}"),
    }
}

/// EADDRNOTAVAIL or EAFNOSUPPORT: the address family or address is not configured here.
fn family_unavailable(e: &std::io::Error) -> bool {
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
    e.kind() == std::io::ErrorKind::AddrNotAvailable || e.raw_os_error() == Some(EAFNOSUPPORT)
}

/// CB-14: a dev server listening on the wildcard address (`[::]`, which on Linux is dual-stack
/// and covers 0.0.0.0 too) with the callback port.
///
/// The row's premise ("we never advertise localhost") is corrected at the top of the research:
/// the providers require the registered `CallbackURL` (HubSpot refuses IP literals), so it is
/// sent exactly as configured, often `http://localhost:PORT`. What keeps the code from the other
/// program is the bind: every loopback address the host stands for is bound, and if any of them
/// is taken — by a wildcard listener or one on `::1` only — the flow refuses to start with
/// `CallbackPortInUse` before the browser opens, so no code is ever issued for that port.
#[tokio::test]
async fn cb_14_a_dev_server_on_the_wildcard_address_makes_the_flow_refuse_to_start() {
    let test = "cb_14_a_dev_server_on_the_wildcard_address_makes_the_flow_refuse_to_start";
    let mut wildcards = vec![("0.0.0.0", std::net::TcpListener::bind("0.0.0.0:0").unwrap())];
    if has_ipv6_loopback(test) {
        wildcards.push(("[::]", std::net::TcpListener::bind("[::]:0").unwrap()));
    }
    for (name, dev) in &wildcards {
        let port = dev.local_addr().unwrap().port();
        let mut urls = vec![
            format!("http://localhost:{port}/callback"),
            format!("http://127.0.0.1:{port}/callback"),
        ];
        if *name == "[::]" {
            urls.push(format!("http://[::1]:{port}/callback"));
        }
        for url in urls {
            match CallbackListener::bind_configured(&url).await {
                Err(Error::CallbackPortInUse { port: p, .. }) => assert_eq!(p, port, "{url}"),
                other => {
                    panic!("{name} dev server, {url}: expected CallbackPortInUse, got {other:?}")
                }
            }
        }
        // Nothing of ours is listening on the port: only the dev server could answer, and no
        // authorization URL was made for it.
        dev.set_nonblocking(true).unwrap();
        assert!(
            dev.accept().is_err(),
            "{name}: nobody connected to the dev server"
        );
    }
}

/// CB-14 with an IP-literal CallbackURL: a program on the other address family's loopback
/// (`[::1]:PORT`) cannot receive the redirect, because the redirect URI names 127.0.0.1 and only
/// 127.0.0.1 is bound and advertised.
#[tokio::test]
async fn cb_14_an_ip_literal_callback_never_reaches_a_listener_on_the_other_family() {
    let test = "cb_14_an_ip_literal_callback_never_reaches_a_listener_on_the_other_family";
    if !has_ipv6_loopback(test) {
        return;
    }
    let dev = std::net::TcpListener::bind("[::1]:0").unwrap();
    dev.set_nonblocking(true).unwrap();
    let port = dev.local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/callback");
    let (flow, addr, redirect) = start_flow(&url, Duration::from_secs(10)).await;
    assert_eq!(redirect, url, "advertised exactly as configured");
    assert_eq!(addr, SocketAddr::from(([127, 0, 0, 1], port)));
    // The browser follows the redirect URI: 127.0.0.1.
    let r = send(addr, &valid_callback()).await;
    assert_eq!(r.status, 200);
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
    assert!(dev.accept().is_err(), "the other program received nothing");
}

#[tokio::test]
async fn cb_15_timeout_releases_port() {
    let (flow, addr, redirect) =
        start_flow("http://127.0.0.1:0/callback", Duration::from_millis(200)).await;
    let err = finish(flow).await.unwrap_err();
    match &err {
        Error::AuthorizationTimedOut { callback, timeout } => {
            assert_eq!(callback, &redirect);
            assert_eq!(*timeout, Duration::from_millis(200));
        }
        other => panic!("expected AuthorizationTimedOut, got {other:?}"),
    }
    // CB-17: a callback after the timeout finds nothing listening.
    assert!(TcpStream::connect(addr).await.is_err());
    // The port can be bound again at once.
    let again = CallbackListener::bind_configured(&redirect).await.unwrap();
    assert_eq!(again.local_addrs(), vec![addr]);
}

#[tokio::test]
async fn cb_15_dropped_wait_releases_port() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(60)).await;
    // An open connection in progress must not keep the port either.
    let _open = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Ctrl-C in the caller drops the future.
    flow.abort();
    assert!(flow.await.unwrap_err().is_cancelled());
    assert!(TcpStream::connect(addr).await.is_err());
    let again = CallbackListener::bind_configured(&format!("http://{addr}/callback"))
        .await
        .unwrap();
    assert_eq!(again.local_addrs(), vec![addr]);
}

#[tokio::test]
async fn cb_17_callback_after_completion_is_refused() {
    let listener = CallbackListener::bind_configured("http://localhost:0/callback")
        .await
        .unwrap();
    // Every address bound closes, both loopback families when this machine has IPv6.
    let listener_addrs = listener.local_addrs();
    let port = listener_addrs[0].port();
    assert!(listener_addrs.contains(&SocketAddr::from(([127, 0, 0, 1], port))));
    if has_ipv6_loopback("cb_17_callback_after_completion_is_refused") {
        assert!(
            listener_addrs.contains(&SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port))),
            "{listener_addrs:?}"
        );
    }
    let addr = listener_addrs[0];
    let flow = tokio::spawn(async move {
        listener
            .wait(&Secret::new(STATE), Duration::from_secs(10))
            .await
    });
    for a in &listener_addrs {
        assert!(TcpStream::connect(a).await.is_ok(), "{a} is listening");
    }
    send(addr, &valid_callback()).await;
    assert_eq!(finish(flow).await.unwrap().code.expose(), CODE);
    // A late callback, on any of them, is refused: nothing can exchange it.
    for a in &listener_addrs {
        assert!(TcpStream::connect(a).await.is_err(), "{a} still open");
    }
}

#[tokio::test]
async fn cb_18_two_flows_each_get_their_own_callback() {
    let (hubspot, hs_addr, _) = start_flow(
        "http://127.0.0.1:0/callback/hubspot",
        Duration::from_secs(10),
    )
    .await;
    let (acton, ao_addr, _) =
        start_flow("http://127.0.0.1:0/callback/acton", Duration::from_secs(10)).await;
    assert_ne!(hs_addr, ao_addr);
    // Each path only on its own listener.
    let r = send(
        hs_addr,
        &get(&format!("/callback/acton?code=A&state={STATE}")),
    )
    .await;
    assert_eq!(r.status, 404);
    send(
        ao_addr,
        &get(&format!("/callback/acton?code=A&state={STATE}")),
    )
    .await;
    send(
        hs_addr,
        &get(&format!("/callback/hubspot?code=H&state={STATE}")),
    )
    .await;
    assert_eq!(finish(acton).await.unwrap().code.expose(), "A");
    assert_eq!(finish(hubspot).await.unwrap().code.expose(), "H");
}

#[tokio::test]
async fn cb_19_xss_is_escaped() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    // Reflected input on the state-mismatch page: never shown at all.
    let r = send(
        addr,
        &get("/callback?code=%3Cscript%3E&state=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("<script"), "{}", r.body);

    let payload =
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27%3E%3Cimg+src%3Dx+onerror%3Dalert(2)%3E";
    let r = send(
        addr,
        &get(&format!(
            "/callback?error=access_denied&error_description={payload}&state={STATE}"
        )),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_security_headers(&r);
    assert!(!r.body.contains("<script"), "{}", r.body);
    assert!(!r.body.contains("<img"), "{}", r.body);
    assert!(
        r.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img"),
        "{}",
        r.body
    );
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    // The error keeps the text (it is for a terminal, not HTML) but no control characters.
    let err = finish(flow).await.unwrap_err();
    assert!(
        matches!(&err, Error::AccessDenied { description, .. } if description.contains("<script>alert(1)</script>")),
        "{err:?}"
    );
    assert!(!err.to_string().chars().any(char::is_control));
}

#[tokio::test]
async fn cb_19_control_characters_never_reach_the_error() {
    let (flow, addr, _) = start_flow("http://127.0.0.1:0/callback", Duration::from_secs(10)).await;
    send(
        addr,
        &get(&format!(
            "/callback?error=access_denied&error_description=%1B%5B2J%0Afake+prompt%E2%80%AE&state={STATE}"
        )),
    )
    .await;
    let err = finish(flow).await.unwrap_err();
    let text = err.to_string();
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(!text.contains('\u{202e}'), "{text:?}");
}

#[cfg(unix)]
#[test]
fn cb_16_browser_failure_is_not_fatal() {
    use auth_core::browser::{announce, open_browser_with};

    let url = "http://localhost:33333/oauth/authorize?client_id=c&state=s&x=1";
    // A BROWSER that does not exist is an error the caller answers by printing the URL.
    let err = open_browser_with(url, Some("/nonexistent/dir/browser-cb16 --flag")).unwrap_err();
    assert!(!err.to_string().contains(url), "{err}");
    announce(url);
    // Non-http URLs are refused before any program runs.
    assert!(open_browser_with("--version", Some("/bin/true")).is_err());

    // `%s` substitution and appending, run without a shell: a script records its arguments.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("record.sh");
    let out = dir.path().join("args.txt");
    std::fs::write(
        &script,
        format!(
            "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
            out.display()
        ),
    )
    .unwrap();
    // Run through /bin/sh so the test never execs a file it just wrote (ETXTBSY races).
    let recorded = |browser: String| -> Vec<String> {
        let _ = std::fs::remove_file(&out);
        open_browser_with(url, Some(&browser)).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !out.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the browser never ran"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        recorded(format!("/bin/sh {} --new-tab=%s --flag", script.display())),
        [format!("--new-tab={url}"), "--flag".to_owned()]
    );
    assert_eq!(
        recorded(format!("/bin/sh  {}   -x", script.display())),
        ["-x".to_owned(), url.to_owned()]
    );
}
