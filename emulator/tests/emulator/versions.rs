//! HubDB under `/cms/v3/hubdb` and `/cms/hubdb/2026-03`, and OAuth under 2026-09: the
//! same operations with the same answers; the request log keeps the prefix as sent.

use serde_json::{Value, json};

use super::common::{client, hubspot_oauth, start};

const V3: &str = "/cms/v3/hubdb";
const DATED: &str = "/cms/hubdb/2026-03";

async fn send(
    c: &reqwest::Client,
    m: reqwest::Method,
    url: String,
    tok: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = c.request(m, url).bearer_auth(tok);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A body with the per-request parts neutralised: correlation ids are random, batch
/// timestamps read the running clock, and paging links echo the prefix the client used
/// (that is correct, and checked separately).
fn normalised(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        for k in ["correlationId", "startedAt", "completedAt"] {
            o.remove(k);
        }
    }
    let text = v.to_string().replace(DATED, V3);
    serde_json::from_str(&text).expect("json")
}

#[tokio::test]
async fn both_hubdb_prefixes_answer_reads_identically() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = hs.info().private_app_token.clone();
    let reads: [(reqwest::Method, &str, Option<Value>, u16); 9] = [
        (reqwest::Method::GET, "/tables?sort=name&limit=2", None, 200),
        (reqwest::Method::GET, "/tables/draft", None, 200),
        (reqwest::Method::GET, "/tables/events", None, 200),
        (reqwest::Method::GET, "/tables/events/draft", None, 200),
        (
            reqwest::Method::GET,
            "/tables/events/rows?limit=3&attendees__gt=250&sort=-attendees",
            None,
            200,
        ),
        (
            reqwest::Method::GET,
            "/tables/events/rows/4000000003",
            None,
            200,
        ),
        (
            reqwest::Method::POST,
            "/tables/events/rows/batch/read",
            Some(json!({"inputs": ["4000000001", "4000000002"]})),
            200,
        ),
        (reqwest::Method::GET, "/tables/nope", None, 404),
        (reqwest::Method::GET, "/tables/events/rows/1", None, 404),
    ];
    for (m, path, body, want) in reads {
        let (s1, b1) = send(
            &c,
            m.clone(),
            hs.url(&format!("{V3}{path}")),
            &tok,
            body.clone(),
        )
        .await;
        let (s2, b2) = send(&c, m, hs.url(&format!("{DATED}{path}")), &tok, body).await;
        assert_eq!((s1, s2), (want, want), "{path}: {b1} / {b2}");
        assert_eq!(normalised(b1), normalised(b2), "{path}");
    }
    // Paging links point back at the prefix the client used.
    let (_, page) = send(
        &c,
        reqwest::Method::GET,
        hs.url(&format!("{DATED}/tables/events/rows?limit=2")),
        &tok,
        None,
    )
    .await;
    let link = page["paging"]["next"]["link"].as_str().expect("link");
    assert_eq!(
        link,
        hs.url("/cms/hubdb/2026-03/tables/events/rows?limit=2&after=2")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn writes_through_one_prefix_are_seen_through_the_other() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = hs.info().private_app_token.clone();
    hs.clear_requests();
    let (s, created) = send(
        &c,
        reqwest::Method::POST,
        hs.url(&format!("{DATED}/tables/events/rows")),
        &tok,
        Some(json!({"values": {"title": "Dated", "attendees": 9}})),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let (s, draft) = send(
        &c,
        reqwest::Method::GET,
        hs.url(&format!("{V3}/tables/events/rows/{id}/draft")),
        &tok,
        None,
    )
    .await;
    assert_eq!(
        (
            s,
            draft["values"]["title"].clone(),
            draft["values"]["attendees"].clone()
        ),
        (200, json!("Dated"), json!(9))
    );
    let (s, published) = send(
        &c,
        reqwest::Method::POST,
        hs.url(&format!("{V3}/tables/events/draft/publish")),
        &tok,
        None,
    )
    .await;
    assert_eq!(s, 200, "{published}");
    let (s, live) = send(
        &c,
        reqwest::Method::GET,
        hs.url(&format!("{DATED}/tables/events/rows/{id}")),
        &tok,
        None,
    )
    .await;
    assert_eq!((s, live["values"]["title"].clone()), (200, json!("Dated")));
    // Batch purge through the dated prefix, then the row is gone in both.
    let (s, _) = send(
        &c,
        reqwest::Method::POST,
        hs.url(&format!("{DATED}/tables/events/rows/draft/batch/purge")),
        &tok,
        Some(json!({"inputs": [id]})),
    )
    .await;
    assert_eq!(s, 204);
    for prefix in [V3, DATED] {
        let (s, _) = send(
            &c,
            reqwest::Method::GET,
            hs.url(&format!("{prefix}/tables/events/rows/{id}/draft")),
            &tok,
            None,
        )
        .await;
        assert_eq!(s, 404, "{prefix}");
    }
    // The log keeps each path exactly as sent.
    let paths: Vec<String> = hs
        .requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        paths,
        [
            "POST /cms/hubdb/2026-03/tables/events/rows".to_string(),
            format!("GET /cms/v3/hubdb/tables/events/rows/{id}/draft"),
            "POST /cms/v3/hubdb/tables/events/draft/publish".to_string(),
            format!("GET /cms/hubdb/2026-03/tables/events/rows/{id}"),
            "POST /cms/hubdb/2026-03/tables/events/rows/draft/batch/purge".to_string(),
            format!("GET /cms/v3/hubdb/tables/events/rows/{id}/draft"),
            format!("GET /cms/hubdb/2026-03/tables/events/rows/{id}/draft"),
        ]
    );
    assert_eq!(hs.requests_to("/cms/hubdb/2026-03/").len(), 4);
    emu.shutdown().await;
}

#[tokio::test]
async fn dated_prefix_is_authenticated_and_rate_limited_like_v3() {
    let emu = super::common::builder()
        .hubspot_rate_limit(2)
        .start()
        .await
        .expect("start");
    let (c, hs) = (client(), emu.hubspot());
    let (s, b) = send(
        &c,
        reqwest::Method::GET,
        hs.url(&format!("{DATED}/tables")),
        "wrong",
        None,
    )
    .await;
    assert_eq!(
        (s, b["category"].clone()),
        (401, json!("INVALID_AUTHENTICATION"))
    );
    let tok = hs.info().private_app_token.clone();
    // One burst window shared by both prefixes: two calls pass, the third is limited.
    let (s1, _) = send(
        &c,
        reqwest::Method::GET,
        hs.url(&format!("{V3}/tables")),
        &tok,
        None,
    )
    .await;
    let (s2, _) = send(
        &c,
        reqwest::Method::GET,
        hs.url(&format!("{DATED}/tables")),
        &tok,
        None,
    )
    .await;
    let (s3, b3) = send(
        &c,
        reqwest::Method::GET,
        hs.url(&format!("{DATED}/tables")),
        &tok,
        None,
    )
    .await;
    assert_eq!((s1, s2, s3), (200, 200, 429));
    assert_eq!(b3["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(hs.stats().rate_limited, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn oauth_2026_09_token_introspect_and_revoke() {
    let emu = super::common::builder()
        .auto_approve(true)
        .start()
        .await
        .expect("start");
    let (c, info) = (client(), emu.hubspot().info().clone());
    let t = hubspot_oauth(&emu, "oauth hubdb").await;
    let rt = t["refresh_token"].as_str().expect("rt").to_string();
    let base = format!("{}/oauth/2026-09/token", info.base_url);
    let r = c
        .post(&base)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", info.client_id.as_str()),
            ("client_secret", info.client_secret.as_str()),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let t2: Value = r.json().await.expect("json");
    let at = t2["access_token"].as_str().expect("at").to_string();
    let introspect = |token: String| {
        let c = c.clone();
        let url = format!("{base}/introspect");
        let (id, secret) = (info.client_id.clone(), info.client_secret.clone());
        async move {
            let r = c
                .post(url)
                .form(&[
                    ("client_id", id.as_str()),
                    ("client_secret", secret.as_str()),
                    ("token", token.as_str()),
                ])
                .send()
                .await
                .expect("send");
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.expect("json"))
        }
    };
    let (s, b) = introspect(at.clone()).await;
    assert_eq!(
        (s, b["active"].clone(), b["token_use"].clone()),
        (200, json!(true), json!("access_token"))
    );
    let r = c
        .post(format!("{base}/revoke"))
        .form(&[
            ("client_id", info.client_id.as_str()),
            ("client_secret", info.client_secret.as_str()),
            ("token", rt.as_str()),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    let (s, b) = introspect(rt).await;
    assert_eq!((s, b), (200, json!({"active": false})));
    let paths: Vec<String> = emu
        .hubspot()
        .requests_to("/oauth/2026-09/")
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/oauth/2026-09/token",
            "/oauth/2026-09/token/introspect",
            "/oauth/2026-09/token/revoke",
            "/oauth/2026-09/token/introspect",
        ]
    );
    emu.shutdown().await;
}
