//! HubSpot install page, token endpoints, introspection, revocation, auth errors, rate limits.

use std::time::Duration;

use emulator::{RefreshRotation, SettingsPatch};
use serde_json::{Value, json};

use super::common::{builder, client, get_json, hubspot_oauth, query_param, start};

const SCOPES: &str = "oauth hubdb crm.objects.owners.read";

async fn token_req(c: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = c.post(url).form(form).send().await.expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn login_page_code_flow_with_pkce_issues_working_tokens() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot().info().clone());
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let params = [
        ("client_id", hs.client_id.as_str()),
        ("redirect_uri", hs.redirect_uri.as_str()),
        ("scope", SCOPES),
        ("optional_scope", "hubdb.rows.read"),
        ("state", "st<ate>"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    let r = c
        .get(&hs.authorize_url)
        .query(&params)
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("html");
    for needle in [
        "id=\"email\"",
        "id=\"password\"",
        "id=\"authorize\"",
        "id=\"deny\"",
        "st&lt;ate&gt;",
        "method=\"post\"",
    ] {
        assert!(html.contains(needle), "page lacks {needle}");
    }
    // Wrong password re-renders the page; the right one redirects with a code and the state.
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.extend([
        ("email", hs.user_email.as_str()),
        ("password", "wrong"),
        ("action", "approve"),
    ]);
    let r = c
        .post(&hs.authorize_url)
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 401);
    assert!(r.text().await.expect("t").contains("login-error"));
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.extend([
        ("email", hs.user_email.as_str()),
        ("password", hs.user_password.as_str()),
        ("action", "approve"),
    ]);
    let r = c
        .post(&hs.authorize_url)
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    assert!(loc.starts_with("http://localhost:33333?"));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("st<ate>"));
    let code = query_param(&loc, "code").expect("code");
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", hs.client_id.as_str()),
        ("client_secret", hs.client_secret.as_str()),
        ("redirect_uri", hs.redirect_uri.as_str()),
        ("code", code.as_str()),
    ];
    let mut bad = base.to_vec();
    bad.push(("code_verifier", "wrong-verifier"));
    let (s, b) = token_req(&c, &hs.token_url, &bad).await;
    assert_eq!((s, b["error"].clone()), (400, json!("invalid_grant")));
    let mut good = base.to_vec();
    good.push(("code_verifier", verifier));
    let (s, t) = token_req(&c, &hs.token_url, &good).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["expires_in"], 1800);
    assert_eq!(t["token_use"], "access_token");
    assert!(t["access_token"].as_str().expect("at").len() <= 300);
    assert!(t["refresh_token"].is_string() && t["hub_id"].is_u64() && t["user_id"].is_u64());
    assert!(
        t["scopes"]
            .as_array()
            .expect("scopes")
            .contains(&json!("hubdb.rows.read")),
        "optional scope granted"
    );
    let at = t["access_token"].as_str().expect("at");
    let (s, _) = get_json(
        &c,
        &format!("{}/cms/v3/hubdb/tables/events/rows?limit=1", hs.base_url),
        at,
    )
    .await;
    assert_eq!(s, 200);
    // The code is single-use; reusing it also revokes what it issued.
    let (s, b) = token_req(&c, &hs.token_url, &good).await;
    assert_eq!((s, b["status"].clone()), (400, json!("BAD_AUTH_CODE")));
    let (s, _) = get_json(&c, &format!("{}/cms/v3/hubdb/tables", hs.base_url), at).await;
    assert_eq!(s, 401);
    assert_eq!(emu.hubspot().stats().token_grants.authorization_code, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn authorize_errors_are_pages_or_error_redirects() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot().info().clone());
    let get = |params: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = hs.authorize_url.clone();
        async move { c.get(url).query(&params).send().await.expect("send") }
    };
    let r = get(vec![
        ("client_id", "nope".into()),
        ("redirect_uri", hs.redirect_uri.clone()),
        ("scope", SCOPES.into()),
    ])
    .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.expect("t").contains("oauth-error"));
    let r = get(vec![
        ("client_id", hs.client_id.clone()),
        ("redirect_uri", "http://localhost:33333/other".into()),
        ("scope", SCOPES.into()),
    ])
    .await;
    assert_eq!(r.status(), 400, "redirect URIs match exactly");
    let r = get(vec![
        ("client_id", hs.client_id.clone()),
        ("redirect_uri", hs.redirect_uri.clone()),
        ("scope", "hubdb".into()),
    ])
    .await;
    assert_eq!(r.status(), 400, "required scope oauth missing");
    assert!(r.text().await.expect("t").contains("mismatch"));
    let r = get(vec![
        ("client_id", hs.client_id.clone()),
        ("redirect_uri", hs.redirect_uri.clone()),
        ("scope", "oauth tickets".into()),
    ])
    .await;
    assert_eq!(r.status(), 400, "scope not configured for the app");
    // Deny redirects with error and state.
    let form = [
        ("client_id", hs.client_id.as_str()),
        ("redirect_uri", hs.redirect_uri.as_str()),
        ("scope", SCOPES),
        ("state", "s1"),
        ("action", "deny"),
    ];
    let r = c
        .post(&hs.authorize_url)
        .form(&form)
        .send()
        .await
        .expect("deny");
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    assert_eq!(query_param(&loc, "error").as_deref(), Some("access_denied"));
    assert!(query_param(&loc, "error_description").is_some());
    assert_eq!(query_param(&loc, "state").as_deref(), Some("s1"));
    emu.shutdown().await;
}

#[tokio::test]
async fn token_endpoint_errors_carry_status_and_rfc6749_fields() {
    let emu = builder().auto_approve(true).start().await.expect("start");
    let (c, hs) = (client(), emu.hubspot().info().clone());
    for path in ["/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"] {
        let url = format!("{}{path}", hs.base_url);
        let (s, b) = token_req(
            &c,
            &url,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &hs.client_id),
                ("client_secret", &hs.client_secret),
                ("refresh_token", "nope"),
            ],
        )
        .await;
        assert_eq!(s, 400);
        assert_eq!(b["status"], "BAD_REFRESH_TOKEN");
        assert_eq!(b["error"], "invalid_grant");
        assert!(b["message"].is_string() && b["error_description"].is_string());
        let (s, b) = token_req(
            &c,
            &url,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "x"),
                ("client_secret", "y"),
                ("refresh_token", "z"),
            ],
        )
        .await;
        assert_eq!(
            (s, b["status"].clone(), b["error"].clone()),
            (400, json!("BAD_CLIENT_ID"), json!("invalid_client"))
        );
        let (s, b) = token_req(&c, &url, &[("grant_type", "password")]).await;
        assert_eq!(
            (s, b["error"].clone()),
            (400, json!("unsupported_grant_type"))
        );
    }
    // A JSON body is refused: the endpoints take form encoding only.
    let r = c
        .post(&hs.token_url)
        .json(&json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    assert!(emu.hubspot().stats().token_errors >= 10);
    // v3 and 2026-03 exchange codes too.
    let t = hubspot_oauth(&emu, SCOPES).await;
    let (s, t2) = token_req(
        &c,
        &format!("{}/oauth/2026-03/token", hs.base_url),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &hs.client_id),
            ("client_secret", &hs.client_secret),
            ("refresh_token", t["refresh_token"].as_str().expect("rt")),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        t2["refresh_token"], t["refresh_token"],
        "default mode returns the same refresh token"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn refresh_rotation_modes() {
    let emu = builder()
        .auto_approve(true)
        .refresh_rotation(RefreshRotation::Rotate)
        .start()
        .await
        .expect("start");
    let (c, hs) = (client(), emu.hubspot().info().clone());
    let refresh = |rt: String| {
        let (c, hs) = (c.clone(), hs.clone());
        async move {
            token_req(
                &c,
                &hs.token_url,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &hs.client_id),
                    ("client_secret", &hs.client_secret),
                    ("refresh_token", &rt),
                ],
            )
            .await
        }
    };
    let t = hubspot_oauth(&emu, SCOPES).await;
    let rt1 = t["refresh_token"].as_str().expect("rt").to_string();
    let (s, t2) = refresh(rt1.clone()).await;
    assert_eq!(s, 200);
    let rt2 = t2["refresh_token"].as_str().expect("rt").to_string();
    assert_ne!(rt1, rt2, "rotated");
    let (s, b) = refresh(rt1.clone()).await;
    assert_eq!(
        (s, b["status"].clone()),
        (400, json!("BAD_REFRESH_TOKEN")),
        "old one is dead"
    );
    let (s, _) = refresh(rt2.clone()).await;
    assert_eq!(s, 200, "plain rotation does not revoke the family on reuse");
    // Reuse detection revokes the whole family.
    emu.hubspot().update_settings(SettingsPatch {
        refresh_rotation: Some(RefreshRotation::RotateRevokeOnReuse),
        ..Default::default()
    });
    let t = hubspot_oauth(&emu, SCOPES).await;
    let a = t["refresh_token"].as_str().expect("rt").to_string();
    let (_, t2) = refresh(a.clone()).await;
    let b = t2["refresh_token"].as_str().expect("rt").to_string();
    let at = t2["access_token"].as_str().expect("at").to_string();
    let (s, _) = refresh(a).await;
    assert_eq!(s, 400);
    let (s, _) = refresh(b).await;
    assert_eq!(s, 400, "the descendant was revoked too");
    let (s, _) = get_json(&c, &format!("{}/cms/v3/hubdb/tables", hs.base_url), &at).await;
    assert_eq!(s, 401);
    assert_eq!(emu.hubspot().stats().token_grants.refresh_token, 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn expired_and_unknown_tokens_get_hubspot_401s() {
    let emu = builder().auto_approve(true).start().await.expect("start");
    let (c, hs) = (client(), emu.hubspot());
    let t = hubspot_oauth(&emu, SCOPES).await;
    let at = t["access_token"].as_str().expect("at");
    let url = hs.url("/cms/v3/hubdb/tables");
    assert_eq!(get_json(&c, &url, at).await.0, 200);
    emu.advance_clock(Duration::from_secs(1801));
    let r = c.get(&url).bearer_auth(at).send().await.expect("send");
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-hubspot-auth-failure"], "401 Unauthorized");
    assert!(r.headers().contains_key("x-hubspot-correlation-id"));
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["category"], "EXPIRED_AUTHENTICATION");
    assert_eq!(b["status"], "error");
    assert!(b["message"].as_str().expect("m").contains("expired"));
    assert!(b["context"]["expire time"][0].is_string());
    let (s, b) = get_json(&c, &url, "garbage").await;
    assert_eq!(
        (s, b["category"].clone()),
        (401, json!("INVALID_AUTHENTICATION"))
    );
    // expire_tokens ends live tokens at once.
    let t = hubspot_oauth(&emu, SCOPES).await;
    let at = t["access_token"].as_str().expect("at");
    assert!(hs.expire_tokens() >= 1);
    assert_eq!(
        get_json(&c, &url, at).await.1["category"],
        "EXPIRED_AUTHENTICATION"
    );
    // A private-app token never expires.
    assert_eq!(
        get_json(&c, &url, &hs.info().private_app_token).await.0,
        200
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn introspection_and_revocation_v1_and_v3() {
    let emu = builder().auto_approve(true).start().await.expect("start");
    let (c, hs) = (client(), emu.hubspot().info().clone());
    let t = hubspot_oauth(&emu, SCOPES).await;
    let (at, rt) = (
        t["access_token"].as_str().expect("at"),
        t["refresh_token"].as_str().expect("rt"),
    );
    let r = c
        .get(format!("{}/oauth/v1/access-tokens/{at}", hs.base_url))
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 200);
    let info: Value = r.json().await.expect("json");
    for k in ["token", "token_type", "user", "hub_domain"] {
        assert!(info[k].is_string(), "{k}");
    }
    for k in ["expires_in", "hub_id", "app_id", "user_id"] {
        assert!(info[k].is_number(), "{k}");
    }
    assert!(info["scopes"].is_array());
    let r = c
        .get(format!("{}/oauth/v1/refresh-tokens/{rt}", hs.base_url))
        .send()
        .await
        .expect("s");
    let rinfo: Value = r.json().await.expect("json");
    assert_eq!(rinfo["client_id"], json!(hs.client_id));
    assert_eq!(rinfo["token_type"], "refresh");
    let introspect = format!("{}/oauth/v3/token/introspect", hs.base_url);
    let (s, i) = token_req(
        &c,
        &introspect,
        &[
            ("client_id", &hs.client_id),
            ("client_secret", &hs.client_secret),
            ("token", at),
        ],
    )
    .await;
    assert_eq!(
        (s, i["active"].clone(), i["token_use"].clone()),
        (200, json!(true), json!("access_token"))
    );
    let (_, i) = token_req(
        &c,
        &introspect,
        &[
            ("client_id", &hs.client_id),
            ("client_secret", &hs.client_secret),
            ("token", rt),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(i["token_use"], "refresh_token");
    let (_, i) = token_req(
        &c,
        &introspect,
        &[
            ("client_id", &hs.client_id),
            ("client_secret", &hs.client_secret),
            ("token", "nope"),
        ],
    )
    .await;
    assert_eq!(i, json!({"active": false}));
    let r = c
        .delete(format!("{}/oauth/v1/refresh-tokens/{rt}", hs.base_url))
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 204);
    let (s, _) = token_req(
        &c,
        &hs.token_url,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &hs.client_id),
            ("client_secret", &hs.client_secret),
            ("refresh_token", rt),
        ],
    )
    .await;
    assert_eq!(s, 400);
    let t = hubspot_oauth(&emu, SCOPES).await;
    let rt = t["refresh_token"].as_str().expect("rt");
    let r = c
        .post(format!("{}/oauth/2026-03/token/revoke", hs.base_url))
        .form(&[
            ("client_id", hs.client_id.as_str()),
            ("client_secret", hs.client_secret.as_str()),
            ("token", rt),
        ])
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 204);
    let (_, i) = token_req(
        &c,
        &format!("{}/oauth/2026-03/token/introspect", hs.base_url),
        &[
            ("client_id", &hs.client_id),
            ("client_secret", &hs.client_secret),
            ("token", rt),
        ],
    )
    .await;
    assert_eq!(i["active"], false);
    emu.shutdown().await;
}

#[tokio::test]
async fn rolling_ten_second_limit_returns_429_with_hubspot_headers() {
    let emu = builder()
        .hubspot_rate_limit(5)
        .start()
        .await
        .expect("start");
    let (c, hs) = (client(), emu.hubspot());
    let url = hs.url("/cms/v3/hubdb/tables");
    for i in 0..5 {
        let r = c
            .get(&url)
            .bearer_auth(&hs.info().private_app_token)
            .send()
            .await
            .expect("s");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-hubspot-ratelimit-max"], "5");
        assert_eq!(
            r.headers()["x-hubspot-ratelimit-remaining"],
            (4 - i).to_string().as_str()
        );
        assert_eq!(
            r.headers()["x-hubspot-ratelimit-interval-milliseconds"],
            "10000"
        );
        assert!(
            r.headers()
                .contains_key("x-hubspot-ratelimit-daily-remaining")
        );
    }
    let r = c
        .get(&url)
        .bearer_auth(&hs.info().private_app_token)
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-hubspot-ratelimit-remaining"], "0");
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["errorType"], "RATE_LIMIT");
    assert_eq!(b["policyName"], "TEN_SECONDLY_ROLLING");
    assert!(b["correlationId"].is_string() && b["requestId"].is_string() && b["status"] == "error");
    assert_eq!(hs.stats().rate_limited, 1);
    // Daily limit.
    hs.update_settings(SettingsPatch {
        rate_limit: Some(0),
        daily_limit: Some(6),
        ..Default::default()
    });
    let r = c
        .get(&url)
        .bearer_auth(&hs.info().private_app_token)
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 200);
    let r = c
        .get(&url)
        .bearer_auth(&hs.info().private_app_token)
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 429);
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["policyName"], "DAILY");
    emu.advance_clock(Duration::from_secs(86_400));
    assert_eq!(
        c.get(&url)
            .bearer_auth(&hs.info().private_app_token)
            .send()
            .await
            .expect("s")
            .status(),
        200
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn rate_window_admits_exactly_the_limit_per_window() {
    let emu = builder()
        .hubspot_settings(|s| {
            s.rate_limit = 4;
            s.rate_window_ms = 500;
        })
        .start()
        .await
        .expect("start");
    let (c, hs) = (client(), emu.hubspot());
    let url = hs.url("/crm/v3/owners");
    let started = std::time::Instant::now();
    let mut ok = 0;
    while started.elapsed() < Duration::from_millis(1250) {
        if c.get(&url)
            .bearer_auth(&hs.info().private_app_token)
            .send()
            .await
            .expect("s")
            .status()
            == 200
        {
            ok += 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Windows starting at 0, ~500 and ~1000 ms: at most 12 admitted, at least 8.
    assert!((8..=12).contains(&ok), "admitted {ok}");
    emu.shutdown().await;
}
