//! HubDB v3: tables, rows, paging, filters, sorting, writes, import/export, owners.

use std::collections::HashSet;

use emulator::{ColumnSpec, ColumnType, PrivateApp, TableSpec};
use serde_json::{Value, json};

use super::common::{client, get_json, start};

fn rows_url(base: &str, q: &str) -> String {
    format!("{base}/cms/v3/hubdb/tables/events/rows?{q}")
}

async fn all_rows(c: &reqwest::Client, base: &str, token: &str, q: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut url = rows_url(base, &format!("limit=1000&{q}"));
    loop {
        let (s, body) = get_json(c, &url, token).await;
        assert_eq!(s, 200, "{body}");
        out.extend(body["results"].as_array().expect("results").iter().cloned());
        match body["paging"]["next"]["link"].as_str() {
            Some(link) => url = link.to_string(),
            None => break,
        }
    }
    out
}

#[tokio::test]
async fn tables_list_published_and_draft_versions() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let (s, body) = get_json(&c, &hs.url("/cms/v3/hubdb/tables"), tok).await;
    assert_eq!(s, 200);
    let names: Vec<&str> = body["results"]
        .as_array()
        .expect("r")
        .iter()
        .map(|t| t["name"].as_str().expect("n"))
        .collect();
    assert!(names.contains(&"events") && names.contains(&"organizers"));
    assert!(
        !names.contains(&"campaign_budget"),
        "draft-only table is not published"
    );
    assert_eq!(body["total"], names.len());
    let (_, draft) = get_json(&c, &hs.url("/cms/v3/hubdb/tables/draft"), tok).await;
    assert!(
        draft["results"]
            .as_array()
            .expect("r")
            .iter()
            .any(|t| t["name"] == "campaign_budget")
    );
    let (_, paged) = get_json(&c, &hs.url("/cms/v3/hubdb/tables?limit=1&sort=name"), tok).await;
    assert_eq!(paged["results"][0]["name"], "events");
    assert_eq!(paged["paging"]["next"]["after"], "1");
    assert!(
        paged["paging"]["next"]["link"]
            .as_str()
            .expect("link")
            .starts_with("http://127.0.0.1:")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn table_schema_has_spec_fields_and_every_column_type() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let (s, t) = get_json(
        &c,
        &hs.url("/cms/v3/hubdb/tables/events"),
        &hs.info().private_app_token,
    )
    .await;
    assert_eq!(s, 200);
    // HubDbTableV3 required fields and types.
    assert!(t["id"].is_string());
    for k in ["name", "label", "createdAt", "updatedAt", "publishedAt"] {
        assert!(t[k].is_string(), "{k}");
    }
    for k in [
        "published",
        "deleted",
        "allowPublicApiAccess",
        "allowChildTables",
        "enableChildTablePages",
        "useForPages",
    ] {
        assert!(t[k].is_boolean(), "{k}");
    }
    assert!(t["columnCount"].is_u64() && t["rowCount"] == 2500);
    assert!(t["dynamicMetaTags"].is_object());
    let types: HashSet<&str> = t["columns"]
        .as_array()
        .expect("c")
        .iter()
        .map(|c| c["type"].as_str().expect("t"))
        .collect();
    for ty in [
        "TEXT",
        "RICHTEXT",
        "NUMBER",
        "CURRENCY",
        "BOOLEAN",
        "DATE",
        "DATETIME",
        "SELECT",
        "MULTISELECT",
        "URL",
        "IMAGE",
        "VIDEO",
        "LOCATION",
        "FOREIGN_ID",
        "JSON",
    ] {
        assert!(types.contains(ty), "missing {ty}");
    }
    for col in t["columns"].as_array().expect("c") {
        assert!(col["id"].is_string() && col["name"].is_string() && col["label"].is_string());
        assert!(col["description"].is_string() && col["deleted"].is_boolean());
    }
    let by_id = get_json(
        &c,
        &hs.url(&format!(
            "/cms/v3/hubdb/tables/{}",
            t["id"].as_str().expect("id")
        )),
        &hs.info().private_app_token,
    )
    .await;
    assert_eq!(by_id.1["name"], "events");
    let (s, _) = get_json(
        &c,
        &hs.url("/cms/v3/hubdb/tables/campaign_budget"),
        &hs.info().private_app_token,
    )
    .await;
    assert_eq!(s, 404, "unpublished table has no published version");
    let (s, d) = get_json(
        &c,
        &hs.url("/cms/v3/hubdb/tables/campaign_budget/draft"),
        &hs.info().private_app_token,
    )
    .await;
    assert_eq!((s, d["published"].clone()), (200, json!(false)));
    emu.shutdown().await;
}

#[tokio::test]
async fn rows_stream_to_the_end_with_after_cursors_and_absolute_links() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let (_, first) = get_json(&c, &rows_url(hs.base_url(), "limit=1000"), tok).await;
    assert_eq!(first["type"], "STREAMING");
    assert_eq!(first["total"], 2500);
    assert_eq!(first["paging"]["next"]["after"], "1000");
    let rows = all_rows(&c, hs.base_url(), tok, "").await;
    assert_eq!(rows.len(), 2500);
    let ids: HashSet<&str> = rows.iter().map(|r| r["id"].as_str().expect("id")).collect();
    assert_eq!(ids.len(), 2500, "no duplicates across pages");
    // HubDbTableRowV3 required fields.
    for k in [
        "id",
        "createdAt",
        "updatedAt",
        "publishedAt",
        "path",
        "name",
        "childTableId",
    ] {
        assert!(rows[0][k].is_string(), "{k}");
    }
    assert!(rows[0]["values"].is_object());
    // Following `after` by hand gives the same rows as the link.
    let (_, second) = get_json(&c, &rows_url(hs.base_url(), "limit=1000&after=1000"), tok).await;
    assert_eq!(second["results"][0]["id"], rows[1000]["id"]);
    let (_, last) = get_json(&c, &rows_url(hs.base_url(), "limit=1000&after=2000"), tok).await;
    assert!(last.get("paging").is_none(), "no paging on the last page");
    // The default limit is 1000 and larger limits are capped.
    let (_, big) = get_json(&c, &rows_url(hs.base_url(), "limit=5000"), tok).await;
    assert_eq!(big["results"].as_array().expect("r").len(), 1000);
    let (s, _) = get_json(&c, &rows_url(hs.base_url(), "limit=abc"), tok).await;
    assert_eq!(s, 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn rows_with_offset_are_random_access() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let (_, p) = get_json(&c, &rows_url(hs.base_url(), "offset=0&limit=700"), tok).await;
    assert_eq!(p["type"], "RANDOM_ACCESS");
    assert_eq!(p["paging"]["next"]["offset"], 700);
    assert!(
        p["paging"]["next"]["link"]
            .as_str()
            .expect("link")
            .contains("offset=700")
    );
    let mut n = p["results"].as_array().expect("r").len();
    let mut link = p["paging"]["next"]["link"].as_str().map(str::to_string);
    while let Some(l) = link {
        let (_, p) = get_json(&c, &l, tok).await;
        n += p["results"].as_array().expect("r").len();
        link = p["paging"]["next"]["link"].as_str().map(str::to_string);
    }
    assert_eq!(n, 2500);
    emu.shutdown().await;
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

#[tokio::test]
async fn every_filter_operator_matches_client_side_evaluation() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let all = all_rows(&c, hs.base_url(), tok, "").await;
    fn v(r: &Value, k: &str) -> Value {
        r["values"].get(k).cloned().unwrap_or(Value::Null)
    }
    fn title(r: &Value) -> String {
        v(r, "title").as_str().unwrap_or("").to_string()
    }
    type Pred = Box<dyn Fn(&Value) -> bool>;
    // An exact title from the data, for eq.
    let t12 = title(&all[11]);
    let t12_q = url::form_urlencoded::byte_serialize(t12.as_bytes()).collect::<String>();
    let (t12a, t12b) = (t12.clone(), t12.clone());
    let cases: Vec<(String, Pred)> = vec![
        (
            format!("title={t12_q}"),
            Box::new(move |r| title(r) == t12a),
        ),
        (
            format!("title__eq={t12_q}"),
            Box::new(move |r| title(r) == t12b),
        ),
        (
            "city__ne=Berlin".into(),
            Box::new(move |r| v(r, "city") != "Berlin"),
        ),
        (
            "title__contains=Summit".into(),
            Box::new(move |r| title(r).contains("Summit")),
        ),
        (
            "title__icontains=summit".into(),
            Box::new(move |r| title(r).to_lowercase().contains("summit")),
        ),
        (
            "title__startswith=Rust".into(),
            Box::new(move |r| title(r).starts_with("Rust")),
        ),
        (
            "title__like=%25Work%25".into(),
            Box::new(move |r| title(r).contains("Work")),
        ),
        (
            "title__not_like=Rust%25".into(),
            Box::new(move |r| !title(r).starts_with("Rust")),
        ),
        (
            "attendees__lt=100".into(),
            Box::new(move |r| num(&v(r, "attendees")).is_some_and(|n| n < 100.0)),
        ),
        (
            "attendees__lte=100".into(),
            Box::new(move |r| num(&v(r, "attendees")).is_some_and(|n| n <= 100.0)),
        ),
        (
            "attendees__gt=400".into(),
            Box::new(move |r| num(&v(r, "attendees")).is_some_and(|n| n > 400.0)),
        ),
        (
            "attendees__gte=400".into(),
            Box::new(move |r| num(&v(r, "attendees")).is_some_and(|n| n >= 400.0)),
        ),
        (
            "description__is_null=".into(),
            Box::new(move |r| v(r, "description").is_null()),
        ),
        (
            "description__not_null=".into(),
            Box::new(move |r| !v(r, "description").is_null()),
        ),
        (
            "category__in=webinar,party".into(),
            Box::new(move |r| {
                matches!(v(r, "category")["name"].as_str(), Some("webinar" | "party"))
            }),
        ),
        (
            "category=meetup".into(),
            Box::new(move |r| v(r, "category")["name"] == "meetup"),
        ),
        (
            "tags__contains=rust,cloud".into(),
            Box::new(move |r| {
                let names: Vec<String> = v(r, "tags")
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|o| o["name"].as_str().unwrap_or("").to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                names.contains(&"rust".to_string()) && names.contains(&"cloud".to_string())
            }),
        ),
        (
            "is_online=true".into(),
            Box::new(move |r| v(r, "is_online") == 1),
        ),
        (
            "ticket_price__gte=150.5".into(),
            Box::new(move |r| num(&v(r, "ticket_price")).is_some_and(|n| n >= 150.5)),
        ),
        (
            "event_date__gt=2025-06-01".into(),
            Box::new(move |r| num(&v(r, "event_date")).is_some_and(|n| n > 1_748_736_000_000.0)),
        ),
        (
            "starts_at__lt=2024-03-01T00:00:00Z".into(),
            Box::new(move |r| num(&v(r, "starts_at")).is_some_and(|n| n < 1_709_251_200_000.0)),
        ),
        (
            "hs_id__lte=4000000010".into(),
            Box::new(move |r| {
                r["id"]
                    .as_str()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|n| n <= 4_000_000_010)
            }),
        ),
        (
            "hs_path__eq=event-7".into(),
            Box::new(move |r| r["path"] == "event-7"),
        ),
        (
            "attendees__gt=100&city=Dublin".into(),
            Box::new(move |r| {
                num(&v(r, "attendees")).is_some_and(|n| n > 100.0) && v(r, "city") == "Dublin"
            }),
        ),
    ];
    for (q, pred) in cases {
        let expected: Vec<&str> = all
            .iter()
            .filter(|r| pred(r))
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        let got = all_rows(&c, hs.base_url(), tok, &q).await;
        let got_ids: Vec<&str> = got.iter().map(|r| r["id"].as_str().expect("id")).collect();
        assert_eq!(got_ids, expected, "filter {q}");
        assert!(
            !expected.is_empty(),
            "filter {q} should match something in seed data"
        );
    }
    // The request log shows what was sent, for pushdown assertions.
    assert!(
        hs.requests()
            .iter()
            .any(|r| r.has_param("attendees__gt", "400"))
    );
    // Unknown columns and operators are HubSpot 400s.
    let (s, b) = get_json(&c, &rows_url(hs.base_url(), "nope__eq=1"), tok).await;
    assert_eq!((s, b["category"].clone()), (400, json!("VALIDATION_ERROR")));
    let (s, _) = get_json(&c, &rows_url(hs.base_url(), "attendees__between=1"), tok).await;
    assert_eq!(s, 400);
    let (s, _) = get_json(&c, &rows_url(hs.base_url(), "attendees__gt=abc"), tok).await;
    assert_eq!(s, 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn sort_and_properties_shape_the_rows() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let rows = all_rows(
        &c,
        hs.base_url(),
        tok,
        "sort=-attendees&properties=title&properties=attendees",
    )
    .await;
    let vals: Vec<Option<f64>> = rows
        .iter()
        .map(|r| r["values"].get("attendees").and_then(Value::as_f64))
        .collect();
    let nulls = vals.iter().take_while(|v| v.is_none()).count();
    let rest: Vec<f64> = vals[nulls..]
        .iter()
        .map(|v| v.expect("nulls first when descending"))
        .collect();
    assert!(rest.windows(2).all(|w| w[0] >= w[1]));
    assert!(rows.iter().all(|r| {
        r["values"]
            .as_object()
            .expect("v")
            .keys()
            .all(|k| k == "title" || k == "attendees")
    }));
    let asc = all_rows(
        &c,
        hs.base_url(),
        tok,
        "sort=city&sort=-hs_id&properties=city",
    )
    .await;
    let cities: Vec<&str> = asc
        .iter()
        .map(|r| r["values"]["city"].as_str().expect("city"))
        .collect();
    assert!(cities.windows(2).all(|w| w[0] <= w[1]));
    let (_, by_len) = get_json(
        &c,
        &rows_url(hs.base_url(), "sort=length(title)&limit=3"),
        tok,
    )
    .await;
    assert!(
        by_len["results"][0]["values"]["title"]
            .as_str()
            .expect("t")
            .len()
            <= by_len["results"][2]["values"]["title"]
                .as_str()
                .expect("t")
                .len()
    );
    let (s, geo) = get_json(
        &c,
        &rows_url(
            hs.base_url(),
            "sort=geo_distance(venue,53.35,-6.26)&limit=1",
        ),
        tok,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(geo["results"][0]["values"]["city"], "Dublin");
    let (s, _) = get_json(&c, &rows_url(hs.base_url(), "sort=random()&limit=3"), tok).await;
    assert_eq!(s, 200);
    assert!(
        hs.requests()
            .iter()
            .any(|r| r.params("properties") == vec!["title", "attendees"])
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn cell_values_use_hubspot_encodings() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let rows = all_rows(&c, hs.base_url(), tok, "").await;
    let find = |k: &str| {
        rows.iter()
            .find_map(|r| r["values"].get(k).cloned())
            .expect(k)
    };
    assert!(
        find("title").is_string() && find("description").as_str().expect("rt").starts_with("<p>")
    );
    assert!(find("attendees").is_number() && find("ticket_price").is_number());
    assert!(matches!(find("is_online").as_u64(), Some(0 | 1)));
    let date = find("event_date").as_i64().expect("date ms");
    assert_eq!(date % 86_400_000, 0, "dates are midnight UTC");
    assert!(find("starts_at").as_i64().is_some());
    let cat = find("category");
    assert_eq!(cat["type"], "option");
    assert!(cat["id"].is_string() && cat["name"].is_string());
    assert!(find("tags").as_array().is_some());
    let img = find("banner");
    assert_eq!(img["type"], "image");
    assert!(img["url"].is_string() && img["width"].is_number() && img["height"].is_number());
    assert!(find("promo_video").is_number());
    let loc = find("venue");
    assert!(loc["lat"].is_number() && loc["long"].is_number());
    let fk = find("organizer");
    assert_eq!(fk[0]["type"], "foreignid");
    assert!(fk[0]["id"].is_string());
    assert!(find("metadata").is_object());
    assert!(
        find("website")
            .as_str()
            .expect("url")
            .starts_with("https://")
    );
    // Empty cells are left out of `values`.
    assert!(
        rows.iter()
            .any(|r| r["values"].get("description").is_none())
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn rows_get_and_batch_read() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let (s, row) = get_json(
        &c,
        &hs.url("/cms/v3/hubdb/tables/events/rows/4000000003"),
        tok,
    )
    .await;
    assert_eq!(
        (s, row["id"].clone(), row["name"].clone()),
        (200, json!("4000000003"), json!("Event 3"))
    );
    let (s, _) = get_json(&c, &hs.url("/cms/v3/hubdb/tables/events/rows/1"), tok).await;
    assert_eq!(s, 404);
    let (s, _) = get_json(
        &c,
        &hs.url("/cms/v3/hubdb/tables/events/rows/4000000003/draft"),
        tok,
    )
    .await;
    assert_eq!(s, 200);
    let r = c
        .post(hs.url("/cms/v3/hubdb/tables/events/rows/batch/read"))
        .bearer_auth(tok)
        .json(&json!({"inputs": ["4000000001", "4000000002"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["status"], "COMPLETE");
    assert_eq!(b["results"].as_array().expect("r").len(), 2);
    let r = c
        .post(hs.url("/cms/v3/hubdb/tables/events/rows/draft/batch/read"))
        .bearer_auth(tok)
        .json(&json!({"inputs": ["4000000001", "999"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 207);
    let b: Value = r.json().await.expect("json");
    assert_eq!(b["numErrors"], 1);
    assert_eq!(b["errors"][0]["context"]["ids"][0], "999");
    emu.shutdown().await;
}

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

#[tokio::test]
async fn draft_writes_publish_unpublish_reset_and_clone() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let u = |p: &str| hs.url(&format!("/cms/v3/hubdb/tables/events{p}"));
    let (s, created) = send(&c, reqwest::Method::POST, u("/rows"), tok, Some(json!({"values": {"title": "New", "attendees": 7, "category": {"name": "party"}, "tags": [{"name": "rust"}], "is_online": true, "event_date": "2026-01-02"}, "path": "new", "name": "New row"}))).await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["values"]["category"]["name"], "party");
    assert_eq!(created["values"]["event_date"], 1_767_312_000_000i64);
    let (_, draft) = get_json(&c, &u("/rows/draft?limit=1&title=New"), tok).await;
    assert_eq!(draft["total"], 1);
    let (_, published) = get_json(&c, &u("/rows?title=New"), tok).await;
    assert_eq!(published["total"], 0, "drafts are not published yet");
    let (s, patched) = send(
        &c,
        reqwest::Method::PATCH,
        u(&format!("/rows/{id}/draft")),
        tok,
        Some(json!({"values": {"attendees": 8}})),
    )
    .await;
    assert_eq!(
        (
            s,
            patched["values"]["title"].clone(),
            patched["values"]["attendees"].clone()
        ),
        (200, json!("New"), json!(8))
    );
    let (s, replaced) = send(
        &c,
        reqwest::Method::PUT,
        u(&format!("/rows/{id}/draft")),
        tok,
        Some(json!({"values": {"title": "Replaced"}})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        replaced["values"].get("attendees").is_none(),
        "PUT replaces all values"
    );
    let (s, bad) = send(
        &c,
        reqwest::Method::PATCH,
        u(&format!("/rows/{id}/draft")),
        tok,
        Some(json!({"values": {"nope": 1}})),
    )
    .await;
    assert_eq!(
        (s, bad["category"].clone()),
        (400, json!("VALIDATION_ERROR"))
    );
    let (s, bad) = send(
        &c,
        reqwest::Method::PATCH,
        u(&format!("/rows/{id}/draft")),
        tok,
        Some(json!({"values": {"category": "nonexistent"}})),
    )
    .await;
    assert_eq!(
        (s, bad["category"].clone()),
        (400, json!("VALIDATION_ERROR"))
    );
    // Batch create, update, replace, clone, purge.
    let (s, bc) = send(
        &c,
        reqwest::Method::POST,
        u("/rows/draft/batch/create"),
        tok,
        Some(json!({"inputs": [{"values": {"title": "B1"}}, {"values": {"title": "B2"}}]})),
    )
    .await;
    assert_eq!(s, 201);
    let ids: Vec<String> = bc["results"]
        .as_array()
        .expect("r")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    let (s, bu) = send(
        &c,
        reqwest::Method::POST,
        u("/rows/draft/batch/update"),
        tok,
        Some(json!({"inputs": [{"id": ids[0], "values": {"attendees": 1}}]})),
    )
    .await;
    assert_eq!(
        (s, bu["results"][0]["values"]["title"].clone()),
        (200, json!("B1"))
    );
    let (s, br) = send(
        &c,
        reqwest::Method::POST,
        u("/rows/draft/batch/replace"),
        tok,
        Some(json!({"inputs": [{"id": ids[1], "values": {"city": "Oslo"}}]})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(br["results"][0]["values"].get("title").is_none());
    let (s, cl) = send(
        &c,
        reqwest::Method::POST,
        u("/rows/draft/batch/clone"),
        tok,
        Some(json!({"inputs": [{"id": ids[0]}]})),
    )
    .await;
    assert_eq!(s, 200, "the spec answers batch clone with 200");
    assert_ne!(cl["results"][0]["id"], json!(ids[0]));
    let r = c
        .post(u("/rows/draft/batch/purge"))
        .bearer_auth(tok)
        .json(&json!({"inputs": [ids[0], ids[1]]}))
        .send()
        .await
        .expect("purge");
    assert_eq!(r.status(), 204);
    let r = c
        .delete(u("/rows/4000000001/draft"))
        .bearer_auth(tok)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 204);
    let (s, _) = get_json(&c, &u("/rows/4000000001/draft"), tok).await;
    assert_eq!(s, 404);
    let (_, t) = get_json(&c, &u("/draft"), tok).await;
    assert_eq!(
        t["rowCount"],
        2500 + 1 + 1 - 1,
        "one created, one cloned, base row deleted"
    );
    // Publish makes the draft visible; reset, unpublish and clone work on versions.
    let (s, p) = send(&c, reqwest::Method::POST, u("/draft/publish"), tok, None).await;
    assert_eq!((s, p["rowCount"].clone()), (200, json!(2501)));
    let (_, published) = get_json(&c, &u("/rows?title=Replaced"), tok).await;
    assert_eq!(published["total"], 1);
    let _ = send(
        &c,
        reqwest::Method::DELETE,
        u(&format!("/rows/{id}/draft")),
        tok,
        None,
    )
    .await;
    let (s, r) = send(&c, reqwest::Method::POST, u("/draft/reset"), tok, None).await;
    assert_eq!(
        (s, r["rowCount"].clone()),
        (200, json!(2501)),
        "reset restores the published rows"
    );
    let (s, cloned) = send(
        &c,
        reqwest::Method::POST,
        u("/draft/clone"),
        tok,
        Some(json!({"newName": "events_copy", "newLabel": "Copy", "copyRows": true})),
    )
    .await;
    assert_eq!(
        (s, cloned["rowCount"].clone(), cloned["published"].clone()),
        (200, json!(2501), json!(false))
    );
    let (s, _) = send(&c, reqwest::Method::POST, u("/unpublish"), tok, None).await;
    assert_eq!(s, 200);
    let (s, _) = get_json(&c, &u("/rows"), tok).await;
    assert_eq!(s, 404);
    // Reset of the whole emulator restores the seed.
    hs.reset();
    let (_, t) = get_json(&c, &u(""), tok).await;
    assert_eq!(t["rowCount"], 2500);
    emu.shutdown().await;
}

#[tokio::test]
async fn create_update_archive_table_and_csv_import_export() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let (s, t) = send(&c, reqwest::Method::POST, hs.url("/cms/v3/hubdb/tables"), tok, Some(json!({
        "name": "products", "label": "Products",
        "columns": [{"name": "sku", "label": "SKU", "type": "TEXT"}, {"name": "price", "label": "Price", "type": "NUMBER"},
                    {"name": "size", "label": "Size", "type": "SELECT", "options": [{"name": "S", "type": "option"}, {"name": "L", "type": "option"}]}]
    }))).await;
    assert_eq!(s, 201, "{t}");
    let (s, _) = send(
        &c,
        reqwest::Method::POST,
        hs.url("/cms/v3/hubdb/tables"),
        tok,
        Some(json!({"name": "products"})),
    )
    .await;
    assert_eq!(s, 409);
    let csv = "sku,price,size\nA-1,9.5,S\nB-2,12,L\n";
    let boundary = "XBOUNDARYX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"config\"\r\n\r\n{{\"skipRows\":1,\"separator\":\",\",\"resetTable\":false}}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let r = c
        .post(hs.url("/cms/v3/hubdb/tables/products/draft/import"))
        .bearer_auth(tok)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), 200);
    let res: Value = r.json().await.expect("json");
    assert_eq!(res["rowsImported"], 2);
    let (_, rows) = get_json(
        &c,
        &hs.url("/cms/v3/hubdb/tables/products/rows/draft?sort=sku"),
        tok,
    )
    .await;
    assert_eq!(rows["results"][1]["values"]["size"]["name"], "L");
    let r = c
        .get(hs.url("/cms/v3/hubdb/tables/products/draft/export"))
        .bearer_auth(tok)
        .send()
        .await
        .expect("export");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    let text = r.text().await.expect("text");
    assert!(text.starts_with("hs_id,hs_name,hs_path,sku,price,size"));
    assert!(text.contains("A-1,9.5,S"));
    let (s, upd) = send(&c, reqwest::Method::PATCH, hs.url("/cms/v3/hubdb/tables/products/draft"), tok, Some(json!({"label": "Catalog", "columns": [{"name": "sku", "label": "SKU", "type": "TEXT"}, {"name": "stock", "label": "Stock", "type": "NUMBER"}]}))).await;
    assert_eq!(
        (s, upd["label"].clone(), upd["columnCount"].clone()),
        (200, json!("Catalog"), json!(2))
    );
    let r = c
        .get(hs.url("/cms/v3/hubdb/tables/events/export"))
        .bearer_auth(tok)
        .send()
        .await
        .expect("export");
    assert_eq!(r.text().await.expect("t").lines().count(), 2501);
    let r = c
        .delete(hs.url("/cms/v3/hubdb/tables/products"))
        .bearer_auth(tok)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 204);
    let (s, _) = get_json(&c, &hs.url("/cms/v3/hubdb/tables/products/draft"), tok).await;
    assert_eq!(s, 404);
    let (_, archived) =
        get_json(&c, &hs.url("/cms/v3/hubdb/tables/draft?archived=true"), tok).await;
    assert_eq!(archived["results"][0]["name"], "products");
    emu.shutdown().await;
}

#[tokio::test]
async fn builder_tables_and_public_access_and_scopes() {
    let emu = super::common::builder()
        .table(
            TableSpec::new(
                "cities",
                vec![
                    ColumnSpec::new("city", ColumnType::Text),
                    ColumnSpec::new("pop", ColumnType::Number),
                ],
            )
            .row(json!({"city": "Oslo", "pop": 700000}))
            .row(json!({"city": "Bergen", "pop": 285000})),
        )
        .private_app(PrivateApp {
            token: "pat-na1-readonly".into(),
            scopes: vec!["hubdb.rows.read".into()],
            app_id: 9,
        })
        .start()
        .await
        .expect("start");
    let (c, hs) = (client(), emu.hubspot());
    let (s, rows) = get_json(
        &c,
        &hs.url("/cms/v3/hubdb/tables/cities/rows?pop__gt=300000"),
        &hs.info().private_app_token,
    )
    .await;
    assert_eq!((s, rows["total"].clone()), (200, json!(1)));
    // Granular scope: rows readable, tables not, owners not.
    let (s, _) = get_json(
        &c,
        &hs.url("/cms/v3/hubdb/tables/cities/rows"),
        "pat-na1-readonly",
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = get_json(&c, &hs.url("/cms/v3/hubdb/tables"), "pat-na1-readonly").await;
    assert_eq!((s, b["category"].clone()), (403, json!("MISSING_SCOPES")));
    assert_eq!(b["status"], "error");
    assert!(
        b["errors"][0]["context"]["requiredScopes"]
            .as_array()
            .expect("scopes")
            .contains(&json!("hubdb.tables.read"))
    );
    assert!(b["correlationId"].is_string());
    let (s, _) = get_json(&c, &hs.url("/crm/v3/owners"), "pat-na1-readonly").await;
    assert_eq!(s, 403);
    // organizers allows public access with portalId.
    let r = c
        .get(hs.url(&format!(
            "/cms/v3/hubdb/tables/organizers/rows?portalId={}",
            hs.hub_id()
        )))
        .send()
        .await
        .expect("public");
    assert_eq!(r.status(), 200);
    let r = c
        .get(hs.url(&format!(
            "/cms/v3/hubdb/tables/events/rows?portalId={}",
            hs.hub_id()
        )))
        .send()
        .await
        .expect("private");
    assert_eq!(r.status(), 401);
    emu.shutdown().await;
}

#[tokio::test]
async fn owners_page_and_filter() {
    let emu = start().await;
    let (c, hs) = (client(), emu.hubspot());
    let tok = &hs.info().private_app_token;
    let (s, p) = get_json(&c, &hs.url("/crm/v3/owners?limit=2"), tok).await;
    assert_eq!(s, 200);
    let o = &p["results"][0];
    for k in [
        "id",
        "email",
        "firstName",
        "lastName",
        "createdAt",
        "updatedAt",
        "type",
    ] {
        assert!(o[k].is_string(), "{k}");
    }
    assert!(o["userId"].is_u64() && o["archived"].is_boolean() && o["teams"].is_array());
    let mut n = 2;
    let mut link = p["paging"]["next"]["link"].as_str().map(str::to_string);
    while let Some(l) = link {
        let (_, p) = get_json(&c, &l, tok).await;
        n += p["results"].as_array().expect("r").len();
        link = p["paging"]["next"]["link"].as_str().map(str::to_string);
    }
    assert_eq!(n, 5, "five active owners");
    let (_, arch) = get_json(&c, &hs.url("/crm/v3/owners?archived=true"), tok).await;
    assert_eq!(arch["results"].as_array().expect("r").len(), 1);
    let (_, by_email) = get_json(
        &c,
        &hs.url("/crm/v3/owners?email=grace.hopper@emulator.example"),
        tok,
    )
    .await;
    let id = by_email["results"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let (s, one) = get_json(&c, &hs.url(&format!("/crm/v3/owners/{id}")), tok).await;
    assert_eq!((s, one["lastName"].clone()), (200, json!("Hopper")));
    let (s, _) = get_json(&c, &hs.url("/crm/v3/owners?limit=501"), tok).await;
    assert_eq!(s, 400);
    emu.shutdown().await;
}
