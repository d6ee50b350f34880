//! Every batch endpoint takes at most 100 inputs, as HubSpot documents: 101 is a 400
//! VALIDATION_ERROR that changes nothing, 100 is accepted.

use serde_json::{Value, json};

use super::common::{client, start};

async fn post(c: &reqwest::Client, url: String, tok: &str, body: Value) -> (u16, Value) {
    let r = c
        .post(url)
        .bearer_auth(tok)
        .json(&body)
        .send()
        .await
        .expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// `n` inputs shaped for `op`, on the seeded rows 4000000001.. (all exist).
fn inputs(op: &str, n: u64) -> Value {
    let ids = (1..=n).map(|i| (4_000_000_000 + i).to_string());
    let v: Vec<Value> = match op {
        "create" => (1..=n)
            .map(|i| json!({"values": {"title": format!("bulk {i}")}}))
            .collect(),
        "update" | "replace" => ids
            .map(|id| json!({"id": id, "values": {"title": "batched"}}))
            .collect(),
        "clone" => ids.map(|id| json!({"id": id})).collect(),
        _ => ids.map(Value::from).collect(),
    };
    json!({ "inputs": v })
}

async fn draft_total(c: &reqwest::Client, url: String, tok: &str) -> u64 {
    let r = c.get(url).bearer_auth(tok).send().await.expect("send");
    let b: Value = r.json().await.expect("json");
    b["total"].as_u64().expect("total")
}

#[tokio::test]
async fn every_batch_endpoint_refuses_101_inputs_and_accepts_100() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = hs.info().private_app_token.clone();
    for prefix in ["/cms/v3/hubdb", "/cms/hubdb/2026-03"] {
        let base = format!("{prefix}/tables/events/rows");
        let count_url = hs.url(&format!("{base}/draft?limit=1"));
        let endpoints = [
            ("read", format!("{base}/batch/read")),
            ("read", format!("{base}/draft/batch/read")),
            ("create", format!("{base}/draft/batch/create")),
            ("update", format!("{base}/draft/batch/update")),
            ("replace", format!("{base}/draft/batch/replace")),
            ("clone", format!("{base}/draft/batch/clone")),
            ("purge", format!("{base}/draft/batch/purge")),
        ];
        for (op, path) in endpoints {
            let before = draft_total(&c, count_url.clone(), &tok).await;
            let (s, b) = post(&c, hs.url(&path), &tok, inputs(op, 101)).await;
            assert_eq!(s, 400, "{path}: {b}");
            assert_eq!(b["status"], "error", "{path}");
            assert_eq!(b["category"], "VALIDATION_ERROR", "{path}");
            assert_eq!(
                b["message"], "Batch size 101 exceeds the maximum of 100 row objects per call.",
                "{path}"
            );
            assert!(b["correlationId"].is_string(), "{path}");
            assert_eq!(
                draft_total(&c, count_url.clone(), &tok).await,
                before,
                "{path}: a refused batch changes nothing"
            );
            let (s, b) = post(&c, hs.url(&path), &tok, inputs(op, 100)).await;
            let (want_status, want_results, want_total) = match op {
                "create" => (201, Some(100), before + 100),
                "clone" => (200, Some(100), before + 100),
                "purge" => (204, None, before - 100),
                _ => (200, Some(100), before),
            };
            assert_eq!(s, want_status, "{path}: {b}");
            assert_eq!(
                b["results"].as_array().map(Vec::len),
                want_results,
                "{path}"
            );
            assert_eq!(
                draft_total(&c, count_url.clone(), &tok).await,
                want_total,
                "{path}"
            );
        }
        // Put the purged rows' slots back so the next prefix starts from the same ids.
        hs.reset();
    }
    emu.shutdown().await;
}
