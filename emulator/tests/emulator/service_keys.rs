//! Service keys: static bearer tokens accepted wherever a private-app token is, revocable
//! through the control API, refused afterwards with HubSpot's 401.

use emulator::ServiceKey;
use serde_json::{Value, json};

use super::common::{builder, client, start};

async fn get(
    c: &reqwest::Client,
    url: String,
    tok: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = c.get(url).bearer_auth(tok).send().await.expect("send");
    let s = r.status().as_u16();
    let h = r.headers().clone();
    (s, h, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_started_info_carries_a_working_service_key() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let key = hs.info().service_key.clone();
    assert!(key.starts_with("sk-na1-"), "{key}");
    assert_ne!(key, hs.info().private_app_token);
    for prefix in ["/cms/v3/hubdb", "/cms/hubdb/2026-03"] {
        let (s, h, t) = get(&c, hs.url(&format!("{prefix}/tables/events")), &key).await;
        assert_eq!((s, t["name"].clone()), (200, json!("events")), "{prefix}");
        // Static tokens get the daily-limit headers, like private apps.
        assert_eq!(h["x-hubspot-ratelimit-daily"], "250000");
    }
    let (s, _, o) = get(&c, hs.url("/crm/v3/owners?limit=1"), &key).await;
    assert_eq!((s, o["results"].as_array().map(Vec::len)), (200, Some(1)));
    let summary = hs.tokens();
    assert_eq!(
        summary["service_keys"],
        json!([{"key": key, "key_id": 4_100_001, "scopes": ["hubdb", "crm.objects.owners.read"], "revoked": false}])
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn builder_keys_keep_their_scopes_and_their_own_rate_window() {
    let emu = builder()
        .hubspot_rate_limit(1)
        .service_key(ServiceKey {
            key: "sk-test-read-only".into(),
            scopes: vec!["hubdb.tables.read".into()],
            key_id: 9,
        })
        .start()
        .await
        .expect("start");
    let (c, hs) = (client(), emu.hubspot());
    let (s, _, _) = get(&c, hs.url("/cms/v3/hubdb/tables"), "sk-test-read-only").await;
    assert_eq!(s, 200);
    // The window is per key: the seeded key and the private app still have theirs.
    let (s, _, _) = get(&c, hs.url("/cms/v3/hubdb/tables"), &hs.info().service_key).await;
    assert_eq!(s, 200);
    let (s, _, _) = get(
        &c,
        hs.url("/cms/v3/hubdb/tables"),
        &hs.info().private_app_token,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _, b) = get(&c, hs.url("/cms/v3/hubdb/tables"), "sk-test-read-only").await;
    assert_eq!(
        (s, b["policyName"].clone()),
        (429, json!("TEN_SECONDLY_ROLLING"))
    );
    hs.reset();
    let (s, _, b) = get(
        &c,
        hs.url("/cms/v3/hubdb/tables/events/rows?limit=1"),
        "sk-test-read-only",
    )
    .await;
    assert_eq!(
        (
            s,
            b["category"].clone(),
            b["errors"][0]["context"]["requiredScopes"].clone()
        ),
        (
            403,
            json!("MISSING_SCOPES"),
            json!(["hubdb", "hubdb.rows.read"])
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn a_revoked_key_gets_the_same_401_as_an_unknown_token() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let key = hs.info().service_key.clone();
    let url = hs.url("/cms/hubdb/2026-03/tables");
    let (s, _, _) = get(&c, url.clone(), &key).await;
    assert_eq!(s, 200);
    // Over HTTP, as a script would.
    let r = c
        .post(hs.url("/_emulator/revoke-service-key"))
        .json(&json!({"key": key}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"revoked": 1})
    );
    assert_eq!(hs.revoke_service_key(&key), 0, "already revoked");
    let (s, h, revoked) = get(&c, url.clone(), &key).await;
    let (s2, h2, unknown) = get(&c, url, "pat-na1-00000000-0000-0000-0000-000000000000").await;
    assert_eq!((s, s2), (401, 401));
    assert_eq!(h["x-hubspot-auth-failure"], "401 Unauthorized");
    assert_eq!(h2["x-hubspot-auth-failure"], "401 Unauthorized");
    assert_eq!(revoked["status"], "error");
    assert_eq!(revoked["category"], "INVALID_AUTHENTICATION");
    assert_eq!(revoked["message"], unknown["message"]);
    assert_eq!(
        revoked["message"],
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
    );
    assert_eq!(hs.tokens()["service_keys"][0]["revoked"], true);
    // The private-app token is untouched.
    let (s, _, _) = get(
        &c,
        hs.url("/cms/v3/hubdb/tables"),
        &hs.info().private_app_token,
    )
    .await;
    assert_eq!(s, 200);
    // Act-On has no service keys; its control API says so.
    let r = c
        .post(emu.acton().url("/_emulator/revoke-service-key"))
        .json(&json!({"key": key}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let r = c
        .post(hs.url("/_emulator/revoke-service-key"))
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    emu.shutdown().await;
}
