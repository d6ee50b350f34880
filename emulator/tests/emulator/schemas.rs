//! Conformance with HubSpot's published schemas (HubDB 2026-03 and v3, OAuth 2026-03 and
//! v1): every sampled answer carries the fields the schemas mark as required, with the
//! right JSON types. The field lists are our own summary of those schemas, written by
//! hand; nothing is copied from the spec files.

use serde_json::{Value, json};

use super::common::{builder, client};

/// The JSON type a field must have.
#[derive(Clone, Copy, Debug)]
enum T {
    Str,
    /// A string holding an RFC 3339 date-time in UTC.
    Date,
    Int,
    Bool,
    Obj,
    Arr,
}

fn type_ok(v: &Value, t: T) -> bool {
    match t {
        T::Str => v.is_string(),
        T::Date => v.as_str().is_some_and(is_datetime),
        T::Int => v.is_i64() || v.is_u64(),
        T::Bool => v.is_boolean(),
        T::Obj => v.is_object(),
        T::Arr => v.is_array(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        r.into_iter()
            .all(|i| b.get(i).is_some_and(u8::is_ascii_digit))
    };
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && s.ends_with('Z')
}

/// Asserts each `(field, type)` of `shape` on `v`; a dotted field walks into objects.
fn check(label: &str, v: &Value, shape: &[(&str, T)]) {
    assert!(v.is_object(), "{label}: not an object: {v}");
    for (field, t) in shape {
        let mut cur = v;
        for part in field.split('.') {
            cur = cur
                .get(part)
                .unwrap_or_else(|| panic!("{label}: `{field}` is missing in {v}"));
        }
        assert!(
            type_ok(cur, *t),
            "{label}: `{field}` should be {t:?}, is {cur}"
        );
    }
}

// --- Our summary of the required fields, schema by schema. ---

/// A HubDB table (`HubDbTableV3`): identity, flags, counts, columns and five timestamps.
const TABLE: &[(&str, T)] = &[
    ("id", T::Str),
    ("name", T::Str),
    ("label", T::Str),
    ("published", T::Bool),
    ("deleted", T::Bool),
    ("columnCount", T::Int),
    ("rowCount", T::Int),
    ("columns", T::Arr),
    ("createdAt", T::Date),
    ("updatedAt", T::Date),
    ("publishedAt", T::Date),
    ("deletedAt", T::Date),
    ("allowPublicApiAccess", T::Bool),
    ("allowChildTables", T::Bool),
    ("enableChildTablePages", T::Bool),
    ("useForPages", T::Bool),
    ("dynamicMetaTags", T::Obj),
];

/// A table column: id as a string, names, type, description and the deleted flag.
const COLUMN: &[(&str, T)] = &[
    ("id", T::Str),
    ("name", T::Str),
    ("label", T::Str),
    ("type", T::Str),
    ("description", T::Str),
    ("deleted", T::Bool),
];

/// A select option inside a column: ids and names, its order, and two timestamps.
const OPTION: &[(&str, T)] = &[
    ("id", T::Str),
    ("name", T::Str),
    ("label", T::Str),
    ("type", T::Str),
    ("order", T::Int),
    ("createdAt", T::Date),
    ("updatedAt", T::Date),
];

/// A row: string id, cell values by column name, page fields and three timestamps.
const ROW: &[(&str, T)] = &[
    ("id", T::Str),
    ("values", T::Obj),
    ("path", T::Str),
    ("name", T::Str),
    ("childTableId", T::Str),
    ("createdAt", T::Date),
    ("updatedAt", T::Date),
    ("publishedAt", T::Date),
];

/// A list of tables: the page and the overall count.
const TABLE_PAGE: &[(&str, T)] = &[("results", T::Arr), ("total", T::Int)];

/// A page of rows: the page, the count and which paging style (`STREAMING` or
/// `RANDOM_ACCESS`) it uses.
const ROW_PAGE: &[(&str, T)] = &[("results", T::Arr), ("total", T::Int), ("type", T::Str)];

/// A batch answer: its state, the rows, and when it started and completed.
const BATCH: &[(&str, T)] = &[
    ("status", T::Str),
    ("results", T::Arr),
    ("startedAt", T::Date),
    ("completedAt", T::Date),
];

/// One entry of a batch answer's `errors`: status, category, message, context, and the
/// nested errors and links (which may be empty).
const BATCH_ERROR: &[(&str, T)] = &[
    ("status", T::Str),
    ("category", T::Str),
    ("message", T::Str),
    ("context", T::Obj),
    ("errors", T::Arr),
    ("links", T::Obj),
];

/// Any error body (HubDB and OAuth share it): a category, a message and a correlation id.
const ERROR: &[(&str, T)] = &[
    ("category", T::Str),
    ("message", T::Str),
    ("correlationId", T::Str),
];

/// An import's outcome: counts, whether the row limit was hit, and the errors.
const IMPORT: &[(&str, T)] = &[
    ("rowsImported", T::Int),
    ("duplicateRows", T::Int),
    ("rowLimitExceeded", T::Bool),
    ("errors", T::Arr),
];

/// A token grant: both tokens, their type and use, and the lifetime in seconds.
const TOKEN: &[(&str, T)] = &[
    ("access_token", T::Str),
    ("refresh_token", T::Str),
    ("token_type", T::Str),
    ("token_use", T::Str),
    ("expires_in", T::Int),
];

/// The signed-token detail inside access-token info: seventeen fields about the app,
/// the install, the account and the user, with the scopes as one string.
const SIGNED: &[(&str, T)] = &[
    ("appId", T::Int),
    ("appInstallId", T::Str),
    ("audience", T::Str),
    ("expiresAt", T::Int),
    ("hubId", T::Int),
    ("hublet", T::Str),
    ("installingUserId", T::Int),
    ("isPrivateDistribution", T::Bool),
    ("isServiceAccount", T::Bool),
    ("isUserLevel", T::Bool),
    ("newSignature", T::Str),
    ("scopeToScopeGroupPks", T::Str),
    ("scopes", T::Str),
    ("signature", T::Str),
    ("trialScopeToScopeGroupPks", T::Str),
    ("trialScopes", T::Str),
    ("userId", T::Int),
];

/// Introspection of a live access token (2026-03 / 2026-09 / v3).
const INTROSPECT_ACCESS: &[(&str, T)] = &[
    ("active", T::Bool),
    ("token", T::Str),
    ("token_type", T::Str),
    ("token_use", T::Str),
    ("client_id", T::Str),
    ("app_id", T::Int),
    ("hub_id", T::Int),
    ("user_id", T::Int),
    ("scopes", T::Arr),
    ("expires_in", T::Int),
    ("is_private_distribution", T::Bool),
    ("signed_access_token", T::Obj),
];

/// Introspection of a live refresh token.
const INTROSPECT_REFRESH: &[(&str, T)] = &[
    ("active", T::Bool),
    ("token", T::Str),
    ("token_type", T::Str),
    ("token_use", T::Str),
    ("client_id", T::Str),
    ("app_id", T::Int),
    ("hub_id", T::Int),
    ("user_id", T::Int),
    ("scopes", T::Arr),
];

/// `GET /oauth/v1/access-tokens/{t}`.
const ACCESS_INFO: &[(&str, T)] = &[
    ("token", T::Str),
    ("token_type", T::Str),
    ("app_id", T::Int),
    ("hub_id", T::Int),
    ("user_id", T::Int),
    ("scopes", T::Arr),
    ("expires_in", T::Int),
];

/// `GET /oauth/v1/refresh-tokens/{t}`.
const REFRESH_INFO: &[(&str, T)] = &[
    ("token", T::Str),
    ("token_type", T::Str),
    ("client_id", T::Str),
    ("hub_id", T::Int),
    ("user_id", T::Int),
    ("scopes", T::Arr),
];

fn check_table(label: &str, t: &Value) {
    check(label, t, TABLE);
    for c in t["columns"].as_array().expect("columns") {
        check(&format!("{label} column"), c, COLUMN);
        for o in c
            .get("options")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            check(&format!("{label} option"), o, OPTION);
        }
    }
}

fn check_rows(label: &str, b: &Value) {
    for r in b["results"].as_array().expect("results") {
        check(label, r, ROW);
    }
}

async fn call(
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
    let text = r.text().await.expect("text");
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn form(c: &reqwest::Client, url: String, fields: &[(&str, &str)]) -> (u16, Value) {
    let r = c.post(url).form(fields).send().await.expect("send");
    let s = r.status().as_u16();
    let text = r.text().await.expect("text");
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn hubdb_answers_carry_every_required_field() {
    let emu = builder().start().await.expect("start");
    let (c, hs) = (client(), emu.hubspot());
    let tok = hs.info().private_app_token.clone();
    let u = |p: &str| hs.url(&format!("/cms/hubdb/2026-03{p}"));
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let mut sampled = 0;

    // 1. Table list, with a next page.
    let (s, b) = call(&c, get.clone(), u("/tables?limit=1"), &tok, None).await;
    assert_eq!(s, 200);
    check("table list", &b, TABLE_PAGE);
    check(
        "table list paging",
        &b,
        &[("paging.next.after", T::Str), ("paging.next.link", T::Str)],
    );
    check_table("table list item", &b["results"][0]);
    sampled += 1;
    // 2. Published table, with its columns and select options.
    let (s, b) = call(&c, get.clone(), u("/tables/events"), &tok, None).await;
    assert_eq!(s, 200);
    check_table("table", &b);
    assert_eq!(
        b["deletedAt"], "1970-01-01T00:00:00.000Z",
        "live tables report the epoch"
    );
    sampled += 1;
    // 3. Columns: every column and option of `events` (checked in `check_table`); make
    //    sure there were options to check.
    let options: usize = b["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c.get("options").and_then(Value::as_array).map(Vec::len))
        .sum();
    assert!(options >= 2, "events has select options");
    sampled += 1;
    // 4. A never-published draft table still reports both publishedAt and deletedAt.
    let (s, b) = call(
        &c,
        get.clone(),
        u("/tables/campaign_budget/draft"),
        &tok,
        None,
    )
    .await;
    assert_eq!((s, b["published"].clone()), (200, json!(false)));
    check_table("draft table", &b);
    assert_eq!(b["publishedAt"], "1970-01-01T00:00:00.000Z");
    sampled += 1;
    // 5. Create table.
    let (s, b) = call(
        &c,
        post.clone(),
        u("/tables"),
        &tok,
        Some(json!({"name": "shapes", "label": "Shapes", "columns": [
            {"name": "kind", "label": "Kind", "type": "SELECT", "options": [{"name": "a", "type": "option"}]}
        ]})),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    check_table("created table", &b);
    sampled += 1;
    // 6. Rows page, cursor style.
    let (s, b) = call(
        &c,
        get.clone(),
        u("/tables/events/rows?limit=2"),
        &tok,
        None,
    )
    .await;
    assert_eq!((s, b["type"].clone()), (200, json!("STREAMING")));
    check("rows page", &b, ROW_PAGE);
    check(
        "rows page paging",
        &b,
        &[("paging.next.after", T::Str), ("paging.next.link", T::Str)],
    );
    check_rows("rows page row", &b);
    sampled += 1;
    // 7. Rows page, offset style.
    let (s, b) = call(
        &c,
        get.clone(),
        u("/tables/events/rows?limit=2&offset=4"),
        &tok,
        None,
    )
    .await;
    assert_eq!((s, b["type"].clone()), (200, json!("RANDOM_ACCESS")));
    check("offset page", &b, ROW_PAGE);
    check("offset paging", &b, &[("paging.next.offset", T::Int)]);
    sampled += 1;
    // 8. One published row, 9. one draft row.
    let (s, b) = call(
        &c,
        get.clone(),
        u("/tables/events/rows/4000000002"),
        &tok,
        None,
    )
    .await;
    assert_eq!(s, 200);
    check("row", &b, ROW);
    let (s, b) = call(
        &c,
        get.clone(),
        u("/tables/events/rows/4000000002/draft"),
        &tok,
        None,
    )
    .await;
    assert_eq!(s, 200);
    check("draft row", &b, ROW);
    sampled += 2;
    // 10. Batch create.
    let (s, b) = call(
        &c,
        post.clone(),
        u("/tables/events/rows/draft/batch/create"),
        &tok,
        Some(json!({"inputs": [{"values": {"title": "A"}, "path": "a", "name": "A"}, {"values": {"title": "B"}, "path": "b", "name": "B"}]})),
    )
    .await;
    assert_eq!(s, 201);
    check("batch create", &b, BATCH);
    check_rows("batch create row", &b);
    let new_ids: Vec<String> = b["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    sampled += 1;
    // 11. Batch update.
    let (s, b) = call(
        &c,
        post.clone(),
        u("/tables/events/rows/draft/batch/update"),
        &tok,
        Some(json!({"inputs": [{"id": new_ids[0], "values": {"title": "A2"}}]})),
    )
    .await;
    assert_eq!(s, 200);
    check("batch update", &b, BATCH);
    check_rows("batch update row", &b);
    sampled += 1;
    // 12. Batch read, complete and partial (207 with errors).
    let (s, b) = call(
        &c,
        post.clone(),
        u("/tables/events/rows/batch/read"),
        &tok,
        Some(json!({"inputs": ["4000000001"]})),
    )
    .await;
    assert_eq!(s, 200);
    check("batch read", &b, BATCH);
    check_rows("batch read row", &b);
    let (s, b) = call(
        &c,
        post.clone(),
        u("/tables/events/rows/draft/batch/read"),
        &tok,
        Some(json!({"inputs": ["4000000001", "1"]})),
    )
    .await;
    assert_eq!(s, 207);
    check("batch read 207", &b, BATCH);
    check(
        "batch read 207",
        &b,
        &[("numErrors", T::Int), ("errors", T::Arr)],
    );
    check("batch error", &b["errors"][0], BATCH_ERROR);
    sampled += 2;
    // 13. Batch purge: 204 without a body.
    let r = c
        .post(u("/tables/events/rows/draft/batch/purge"))
        .bearer_auth(&tok)
        .json(&json!({"inputs": new_ids}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    assert_eq!(r.text().await.expect("text"), "");
    sampled += 1;
    // 14. Single-row draft clone.
    let (s, b) = call(
        &c,
        post.clone(),
        u("/tables/events/rows/4000000003/draft/clone?name=Copy"),
        &tok,
        None,
    )
    .await;
    assert_eq!((s, b["name"].clone()), (200, json!("Copy")));
    check("row clone", &b, ROW);
    sampled += 1;
    // 15. HubDB 404.
    let (s, b) = call(&c, get.clone(), u("/tables/nope"), &tok, None).await;
    assert_eq!((s, b["category"].clone()), (404, json!("OBJECT_NOT_FOUND")));
    check("hubdb 404", &b, ERROR);
    sampled += 1;
    // 16. Import with one bad line: its error is an error object.
    let boundary = "SCHEMAB";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"config\"\r\n\r\n{{\"skipRows\":1,\"separator\":\",\"}}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.csv\"\r\nContent-Type: text/csv\r\n\r\ntitle,attendees\nok,3\nbad,many\n\r\n--{boundary}--\r\n"
    );
    let r = c
        .post(u("/tables/events/draft/import"))
        .bearer_auth(&tok)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.expect("json");
    check("import", &b, IMPORT);
    assert_eq!(b["rowsImported"], 1);
    check("import error", &b["errors"][0], ERROR);
    assert_eq!(b["errors"][0]["context"]["line"], json!(["3"]));
    sampled += 1;
    // 17. Publish answers a table.
    let (s, b) = call(
        &c,
        post.clone(),
        u("/tables/events/draft/publish"),
        &tok,
        None,
    )
    .await;
    assert_eq!(s, 200);
    check_table("published table", &b);
    sampled += 1;

    assert_eq!(sampled, 18);
    emu.shutdown().await;
}

#[tokio::test]
async fn oauth_answers_carry_every_required_field() {
    let emu = builder().auto_approve(true).start().await.expect("start");
    let c = client();
    let info = emu.hubspot().info().clone();
    let base = format!("{}/oauth/2026-03/token", info.base_url);
    let mut sampled = 0;

    // 1. Code grant, 2. refresh grant, both on the 2026-03 endpoint.
    let t = super::common::hubspot_oauth(&emu, "oauth hubdb").await;
    check("token (v1 code grant)", &t, TOKEN);
    let rt = t["refresh_token"].as_str().expect("rt").to_string();
    let (s, t) = form(
        &c,
        base.clone(),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &info.client_id),
            ("client_secret", &info.client_secret),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_eq!(s, 200);
    check("token (2026-03 refresh)", &t, TOKEN);
    assert_eq!(t["token_use"], "access_token");
    let at = t["access_token"].as_str().expect("at").to_string();
    sampled += 2;
    // 3. Token error.
    let (s, e) = form(
        &c,
        base.clone(),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &info.client_id),
            ("client_secret", &info.client_secret),
            ("refresh_token", "dead"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    check("token error", &e, ERROR);
    check(
        "token error (RFC 6749)",
        &e,
        &[("error", T::Str), ("error_description", T::Str)],
    );
    sampled += 1;
    // 4. Introspect a live access token, 5. a live refresh token, 6. a dead one.
    let creds = [
        ("client_id", info.client_id.as_str()),
        ("client_secret", info.client_secret.as_str()),
    ];
    let (s, i) = form(
        &c,
        format!("{base}/introspect"),
        &[creds[0], creds[1], ("token", &at)],
    )
    .await;
    assert_eq!(s, 200);
    check("introspect access", &i, INTROSPECT_ACCESS);
    check("introspect signed token", &i["signed_access_token"], SIGNED);
    assert_eq!(
        (i["active"].clone(), i["token_use"].clone()),
        (json!(true), json!("access_token"))
    );
    let (s, i) = form(
        &c,
        format!("{base}/introspect"),
        &[creds[0], creds[1], ("token", &rt)],
    )
    .await;
    assert_eq!(s, 200);
    check("introspect refresh", &i, INTROSPECT_REFRESH);
    assert_eq!(i["token_use"], "refresh_token");
    let (s, i) = form(
        &c,
        format!("{base}/introspect"),
        &[creds[0], creds[1], ("token", "gone")],
    )
    .await;
    assert_eq!((s, i), (200, json!({"active": false})));
    sampled += 3;
    // 7. v1 access-token info, 8. v1 refresh-token info.
    let r = c
        .get(format!("{}/oauth/v1/access-tokens/{at}", info.base_url))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.expect("json");
    check("access-token info", &b, ACCESS_INFO);
    check(
        "access-token info signed token",
        &b["signed_access_token"],
        SIGNED,
    );
    let r = c
        .get(format!("{}/oauth/v1/refresh-tokens/{rt}", info.base_url))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.expect("json");
    check("refresh-token info", &b, REFRESH_INFO);
    sampled += 2;
    // 9. Revoke: 204, no body.
    let r = c
        .post(format!("{base}/revoke"))
        .form(&[creds[0], creds[1], ("token", rt.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 204);
    assert_eq!(r.text().await.expect("text"), "");
    sampled += 1;
    // 10. An unknown bearer on the API: a 401 error body.
    let r = c
        .get(format!("{}/cms/hubdb/2026-03/tables", info.base_url))
        .bearer_auth("unknown")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let b: Value = r.json().await.expect("json");
    check("401", &b, ERROR);
    sampled += 1;

    assert_eq!(sampled, 10);
    emu.shutdown().await;
}
