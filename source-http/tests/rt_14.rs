//! RT-14: a 401 on a request with a body. Bodies are always buffered (`Body` has no streaming
//! variant), so the one retry after the forced refresh replays the identical body, with the
//! new token, and a second 401 is not retried again (RT-12).

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::{BoxFuture, Secret, TokenProvider};
use reqwest::Method;
use source_http::{ApiClient, Body, RateLimiter, Request, RetryPolicy, SendError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// "old" until the API refuses it, then "new".
#[derive(Debug, Default)]
struct Rotating {
    refreshed: Mutex<bool>,
}

impl TokenProvider for Rotating {
    fn access_token(&self) -> BoxFuture<'_, auth_core::Result<Secret>> {
        let token = if *self.refreshed.lock().unwrap() {
            "new"
        } else {
            "old"
        };
        Box::pin(async move { Ok(Secret::new(token)) })
    }

    fn on_unauthorized<'a>(
        &'a self,
        _failed: &'a Secret,
    ) -> BoxFuture<'a, auth_core::Result<Secret>> {
        *self.refreshed.lock().unwrap() = true;
        Box::pin(async { Ok(Secret::new("new")) })
    }
}

/// A server answering each request with the next status of `statuses`, recording
/// `(authorization header, body)` of every request.
async fn server(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for status in statuses {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then Content-Length bytes of body.
            let (head, body) = loop {
                let n = stream.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if rest.len() >= length {
                        break (head.to_owned(), rest.to_owned());
                    }
                }
            };
            let auth = head
                .lines()
                .find_map(|l| {
                    l.strip_prefix("authorization: ")
                        .or_else(|| l.strip_prefix("Authorization: "))
                })
                .unwrap_or("")
                .to_owned();
            log.lock().unwrap().push((auth, body));
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
            );
            stream.write_all(reply.as_bytes()).await.unwrap();
        }
    });
    (base, seen)
}

fn client(base: &str) -> ApiClient {
    let policy = RetryPolicy {
        max_429_attempts: 2,
        max_failure_attempts: 1,
        backoff_base: Duration::from_millis(1),
        backoff_doublings: 1,
        max_backoff: Duration::from_millis(5),
        rate_limit_headers: None,
    };
    ApiClient::new(
        reqwest::Client::new(),
        base.parse().unwrap(),
        Arc::new(Rotating::default()),
        RateLimiter::new(100, Duration::from_secs(1)),
        None,
        policy,
    )
}

async fn post(api: &ApiClient, body: &Body) -> Result<bytes::Bytes, SendError> {
    let path = ["rows".to_owned()];
    api.send(Request {
        method: &Method::POST,
        path: &path,
        query: &[],
        body,
        idempotent: false,
        context: "inserting a row",
    })
    .await
}

#[tokio::test]
async fn rt_14_a_401_on_a_request_with_a_body_replays_the_identical_buffered_body_once() {
    let (base, seen) = server(vec![401, 200]).await;
    let body = Body::Json(serde_json::json!({"values": {"name": "a"}}));
    post(&client(&base), &body).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].0, "Bearer old");
    assert_eq!(seen[1].0, "Bearer new");
    assert_eq!(seen[0].1, r#"{"values":{"name":"a"}}"#);
    assert_eq!(
        seen[1].1, seen[0].1,
        "the same body, replayed from the buffer"
    );
}

#[tokio::test]
async fn rt_14_a_second_401_is_returned_not_retried() {
    let (base, seen) = server(vec![401, 401, 200]).await;
    let body = Body::Bytes {
        content_type: "text/csv".into(),
        bytes: bytes::Bytes::from_static(b"a,b\n1,2\n"),
    };
    let err = post(&client(&base), &body).await.unwrap_err();
    assert!(
        matches!(err, SendError::Status { status: 401, .. }),
        "{err:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}
