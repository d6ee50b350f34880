//! Injected faults, on both emulators.

use std::time::{Duration, Instant};

use emulator::{Fault, FaultKind, FaultTarget, SettingsPatch};
use serde_json::Value;

use super::common::{builder, client, hubspot_oauth, start};

#[tokio::test]
async fn status_faults_hit_the_next_n_requests_with_vendor_bodies() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let url = hs.url("/cms/v3/hubdb/tables");
    let tok = &hs.info().private_app_token;
    hs.inject(Fault::status(503, 2).on(FaultTarget::Api));
    for _ in 0..2 {
        let r = c.get(&url).bearer_auth(tok).send().await.expect("s");
        assert_eq!(r.status(), 503);
        let b: Value = r.json().await.expect("j");
        assert_eq!(b["status"], "error");
    }
    assert_eq!(
        c.get(&url)
            .bearer_auth(tok)
            .send()
            .await
            .expect("s")
            .status(),
        200
    );
    hs.inject(Fault::too_many_requests(Some(7), 1));
    let r = c.get(&url).bearer_auth(tok).send().await.expect("s");
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["retry-after"].to_str().expect("ra")
        ),
        (429, "7")
    );
    let b: Value = r.json().await.expect("j");
    assert_eq!(b["errorType"], "RATE_LIMIT");
    hs.inject(Fault::too_many_requests(None, 1));
    let r = c.get(&url).bearer_auth(tok).send().await.expect("s");
    assert!(r.headers().get("retry-after").is_none());
    hs.inject(Fault::new(
        FaultKind::Status {
            status: 502,
            retry_after: None,
            body: Some("<html>bad gateway</html>".into()),
            content_type: Some("text/html".into()),
        },
        1,
    ));
    let r = c.get(&url).bearer_auth(tok).send().await.expect("s");
    assert_eq!(r.status(), 502);
    assert_eq!(r.text().await.expect("t"), "<html>bad gateway</html>");
    // Act-On too, limited by path.
    let a = emu.acton();
    a.inject(Fault::status(500, 1).path("/api/1/list"));
    let tok = super::common::acton_password_token(&emu).await["access_token"]
        .as_str()
        .expect("at")
        .to_string();
    assert_eq!(
        c.get(a.url("/api/1/account"))
            .bearer_auth(&tok)
            .send()
            .await
            .expect("s")
            .status(),
        200
    );
    let r = c
        .get(a.url("/api/1/list/l-0001"))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 500);
    assert!(
        a.requests()
            .iter()
            .any(|r| r.status == 500 && r.fault.as_deref() == Some("status"))
    );
    assert_eq!(hs.stats().faults_injected, 5);
    emu.shutdown().await;
}

#[tokio::test]
async fn transport_faults_reset_truncate_and_stall() {
    let emu = start().await;
    let hs = emu.hubspot();
    let c = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .expect("c");
    let url = hs.url("/cms/v3/hubdb/tables/events/rows?limit=50");
    let tok = &hs.info().private_app_token;
    hs.inject(Fault::new(FaultKind::Reset, 1));
    let e = c
        .get(&url)
        .bearer_auth(tok)
        .send()
        .await
        .expect_err("reset");
    assert!(!e.is_timeout());
    hs.inject(Fault::new(FaultKind::Truncate, 1));
    let r = c
        .get(&url)
        .bearer_auth(tok)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.is_err(), "body is cut short");
    hs.inject(Fault::new(FaultKind::Stall, 1));
    let e = c
        .get(&url)
        .bearer_auth(tok)
        .send()
        .await
        .expect_err("stall");
    assert!(e.is_timeout());
    hs.inject(Fault::new(FaultKind::StallBody, 1));
    let r = c
        .get(&url)
        .bearer_auth(tok)
        .send()
        .await
        .expect("headers arrive");
    assert!(r.bytes().await.expect_err("body stalls").is_timeout());
    hs.inject(Fault::new(FaultKind::Delay { ms: 150 }, 1));
    let t = Instant::now();
    assert_eq!(
        c.get(&url)
            .bearer_auth(tok)
            .send()
            .await
            .expect("s")
            .status(),
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        c.get(&url)
            .bearer_auth(tok)
            .send()
            .await
            .expect("s")
            .status(),
        200,
        "faults are used up"
    );
    let statuses: Vec<u16> = hs.requests().iter().map(|r| r.status).collect();
    assert_eq!(&statuses[..4], &[0, 200, 0, 0]);
    // Shutdown does not wait for the stalled connections.
    let t = Instant::now();
    emu.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn token_endpoint_faults_change_the_token_response() {
    let emu = builder().auto_approve(true).start().await.expect("start");
    let hs = emu.hubspot();
    hs.inject(Fault::new(FaultKind::ExpiresInString, 1));
    let t = hubspot_oauth(&emu, "oauth hubdb").await;
    assert_eq!(t["expires_in"], "1800");
    hs.inject(Fault::new(FaultKind::ExpiresInMissing, 1));
    assert!(
        hubspot_oauth(&emu, "oauth hubdb")
            .await
            .get("expires_in")
            .is_none()
    );
    hs.inject(Fault::new(FaultKind::TokenTypeMissing, 1));
    assert!(
        hubspot_oauth(&emu, "oauth hubdb")
            .await
            .get("token_type")
            .is_none()
    );
    // A 200 with an error body, and the grant is not performed.
    let rt = hubspot_oauth(&emu, "oauth hubdb").await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_string();
    hs.inject(Fault::new(FaultKind::TokenError200 { error: None }, 1).on(FaultTarget::Token));
    let i = hs.info();
    let r = client()
        .post(&i.token_url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &i.client_id),
            ("client_secret", &i.client_secret),
            ("refresh_token", &rt),
        ])
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.expect("j");
    assert_eq!(b["error"], "invalid_grant");
    assert!(b.get("access_token").is_none());
    // Token-only faults do not fire on API calls.
    hs.inject(Fault::new(FaultKind::ExpiresInString, 1));
    let r = client()
        .get(hs.url("/cms/v3/hubdb/tables"))
        .bearer_auth(&i.private_app_token)
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 200);
    assert_eq!(hs.faults().len(), 1);
    // Act-On as well.
    let a = emu.acton();
    a.inject(Fault::new(FaultKind::ExpiresInString, 1));
    let t = super::common::acton_password_token(&emu).await;
    assert_eq!(t["expires_in"], "3600");
    emu.shutdown().await;
}

#[tokio::test]
async fn latency_and_jitter_settings_delay_answers() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    hs.update_settings(SettingsPatch {
        latency_ms: Some(120),
        jitter_ms: Some(30),
        ..Default::default()
    });
    let t = Instant::now();
    let r = c
        .get(hs.url("/cms/v3/hubdb/tables"))
        .bearer_auth(&hs.info().private_app_token)
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 200);
    let el = t.elapsed();
    assert!(
        el >= Duration::from_millis(120) && el < Duration::from_millis(1000),
        "{el:?}"
    );
    // The control API is never delayed.
    let t = Instant::now();
    c.get(hs.url("/_emulator/stats")).send().await.expect("s");
    assert!(t.elapsed() < Duration::from_millis(100));
    emu.shutdown().await;
}
