//! ProxyServer/ProxyPort/ProxyUser/ProxyPassword route token requests through an HTTP proxy.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use auth_core::http::HttpSettings;
use auth_core::provider::Provider;
use auth_core::{Authenticator, Grant, Secret, TokenProvider};
use connstr::validate::InitiateOAuth;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A proxy that records each request head and answers with a token response itself.
async fn recording_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut len = 0;
                while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut buf[len..]).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    len += n;
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..len]).into_owned());
                let body = r#"{"access_token":"via-proxy","token_type":"bearer","expires_in":3600,"refresh_token":"r"}"#;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(response.as_bytes()).await.unwrap();
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn te_12_http_proxy_properties_route_token_requests_through_the_proxy() {
    let (port, seen) = recording_proxy().await;
    let provider = Provider::new(
        "Act-On",
        "Act-On",
        "http://auth.invalid/authorize",
        "http://auth.invalid/token",
    )
    .unwrap();
    let settings = HttpSettings {
        proxy: Some(("127.0.0.1".into(), port)),
        proxy_credentials: Some(("proxy-user".into(), Secret::new("proxy-pass"))),
        ..HttpSettings::default()
    };
    let auth = Authenticator::builder(provider)
        .client("cid", Some(Secret::new("cs")))
        .initiate(InitiateOAuth::GetAndRefresh)
        .grant(Grant::Password {
            user: "u".into(),
            password: Secret::new("p"),
        })
        .http(settings)
        .build()
        .unwrap();
    assert_eq!(auth.access_token().await.unwrap().expose(), "via-proxy");
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let head = &requests[0];
    assert!(
        head.starts_with("POST http://auth.invalid/token HTTP/1.1"),
        "{head}"
    );
    // Basic base64("proxy-user:proxy-pass")
    assert!(
        head.to_lowercase().contains(
            "proxy-authorization: basic cHJveHktdXNlcjpwcm94eS1wYXNz"
                .to_lowercase()
                .as_str()
        ),
        "{head}"
    );
}
