//! The `/_emulator/*` control API over HTTP.

use serde_json::{Value, json};

use super::common::{acton_password_token, builder, client, hubspot_oauth};

#[tokio::test]
async fn stats_have_the_documented_shape_and_count() {
    let emu = builder().auto_approve(true).start().await.expect("start");
    let c = client();
    let hs = emu.hubspot();
    let t = hubspot_oauth(&emu, "oauth hubdb").await;
    let at = t["access_token"].as_str().expect("at");
    c.get(hs.url("/cms/v3/hubdb/tables"))
        .bearer_auth(at)
        .send()
        .await
        .expect("s");
    c.post(&hs.info().token_url)
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .expect("s");
    let s: Value = c
        .get(hs.url("/_emulator/stats"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(
        s["token_grants"],
        json!({"authorization_code": 1, "refresh_token": 0, "password": 0})
    );
    assert_eq!(s["token_errors"], 1);
    assert_eq!(s["api_requests"], 1);
    assert_eq!(s["rate_limited"], 0);
    let _ = acton_password_token(&emu).await;
    let s: Value = c
        .get(emu.acton().url("/_emulator/stats"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(s["token_grants"]["password"], 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn control_api_manages_log_settings_faults_tokens_and_clock() {
    let emu = builder().auto_approve(true).start().await.expect("start");
    let c = client();
    let hs = emu.hubspot();
    let ctl = |p: &str| hs.url(&format!("/_emulator{p}"));
    let tok = hs.info().private_app_token.clone();
    c.get(hs.url("/cms/v3/hubdb/tables/events/rows?title__contains=Rust&properties=title"))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("s");
    let log: Value = c
        .get(ctl("/requests"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    let rec = &log[0];
    assert_eq!(rec["method"], "GET");
    assert_eq!(rec["path"], "/cms/v3/hubdb/tables/events/rows");
    assert_eq!(rec["query"], "title__contains=Rust&properties=title");
    assert_eq!(rec["status"], 200);
    assert_eq!(
        c.delete(ctl("/requests")).send().await.expect("s").status(),
        204
    );
    assert!(hs.requests().is_empty());
    // Settings.
    let s: Value = c
        .patch(ctl("/settings"))
        .json(&json!({"rate_limit": 1, "token_ttl_s": 60}))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(
        (s["rate_limit"].clone(), s["token_ttl_s"].clone()),
        (json!(1), json!(60))
    );
    let r = c
        .patch(ctl("/settings"))
        .json(&json!({"no_such": 1}))
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 400);
    c.get(hs.url("/cms/v3/hubdb/tables"))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("s");
    assert_eq!(
        c.get(hs.url("/cms/v3/hubdb/tables"))
            .bearer_auth(&tok)
            .send()
            .await
            .expect("s")
            .status(),
        429
    );
    // Faults over HTTP.
    let r = c
        .post(ctl("/faults"))
        .json(&json!({"kind": "status", "status": 500, "count": 1, "target": "token"}))
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 201);
    let f: Value = c
        .get(ctl("/faults"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(f[0]["kind"], "status");
    assert_eq!(
        c.delete(ctl("/faults")).send().await.expect("s").status(),
        204
    );
    assert!(hs.faults().is_empty());
    // Reset restores settings, stats and data.
    let r: Value = c
        .post(ctl("/reset"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(r["reset"], true);
    assert_eq!(hs.settings().rate_limit, 0, "back to the start settings");
    assert_eq!(
        c.get(hs.url("/cms/v3/hubdb/tables"))
            .bearer_auth(&tok)
            .send()
            .await
            .expect("s")
            .status(),
        200
    );
    // Tokens: expire one, revoke all, advance the clock.
    let t = hubspot_oauth(&emu, "oauth hubdb").await;
    let at = t["access_token"].as_str().expect("at");
    let e: Value = c
        .post(ctl("/expire-tokens"))
        .json(&json!({"token": at}))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(e["expired"], 1);
    let r: Value = c
        .get(hs.url("/cms/v3/hubdb/tables"))
        .bearer_auth(at)
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(r["category"], "EXPIRED_AUTHENTICATION");
    let t = hubspot_oauth(&emu, "oauth hubdb").await;
    let v: Value = c
        .post(ctl("/revoke-tokens"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert!(v["revoked"].as_u64().expect("n") >= 2);
    let r = c
        .get(hs.url("/cms/v3/hubdb/tables"))
        .bearer_auth(t["access_token"].as_str().expect("at"))
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 401);
    let tokens: Value = c
        .get(ctl("/tokens"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert!(tokens["access_tokens"].as_array().expect("a").len() >= 2);
    let before: Value = c
        .get(ctl("/clock"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    let after: Value = c
        .post(ctl("/clock/advance"))
        .json(&json!({"seconds": 3600}))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert!(
        after["now_ms"].as_i64().expect("n") - before["now_ms"].as_i64().expect("n") >= 3_600_000
    );
    assert_eq!(
        emu.clock().offset_ms(),
        3_600_000,
        "one clock for both emulators"
    );
    assert_eq!(c.get(ctl("/nope")).send().await.expect("s").status(), 404);
    emu.shutdown().await;
}
