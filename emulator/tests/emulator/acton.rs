//! Act-On: token grants, list download, every `/api/1` endpoint, limits.

use std::time::Duration;

use emulator::ActOnList;
use serde_json::{Value, json};

use super::common::{acton_password_token, builder, client, get_json, query_param, start};

async fn token_req(c: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = c.post(url).form(form).send().await.expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn password_grant_returns_act_on_token_shape() {
    let emu = start().await;
    let t = acton_password_token(&emu).await;
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["scope"], "offline-access", "D12");
    assert!(t["access_token"].is_string() && t["refresh_token"].is_string());
    let a = emu.acton().info();
    let c = client();
    let (s, b) = token_req(
        &c,
        &a.token_url,
        &[
            ("grant_type", "password"),
            ("username", &a.user),
            ("password", "bad"),
            ("client_id", &a.client_id),
            ("client_secret", &a.client_secret),
        ],
    )
    .await;
    assert_eq!((s, b["error"].clone()), (403, json!("invalid_grant")));
    let (s, b) = token_req(
        &c,
        &a.token_url,
        &[
            ("grant_type", "password"),
            ("username", &a.user),
            ("password", &a.password),
            ("client_id", &a.client_id),
            ("client_secret", "nope"),
        ],
    )
    .await;
    assert_eq!((s, b["error"].clone()), (401, json!("access_denied")));
    let (s, b) = token_req(&c, &a.token_url, &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (s, b["error"].clone()),
        (400, json!("unsupported_grant_type"))
    );
    // D8: `POST /token?grant_type=password` with the other fields in the form.
    let r = c
        .post(format!("{}?grant_type=password", a.token_url))
        .form(&[
            ("username", a.user.as_str()),
            ("password", a.password.as_str()),
            ("client_id", a.client_id.as_str()),
            ("client_secret", a.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert_eq!(emu.acton().stats().token_grants.password, 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn list_download_pages_to_the_end_and_filters_by_dates() {
    let emu = start().await;
    let c = client();
    let tok = acton_password_token(&emu).await["access_token"]
        .as_str()
        .expect("at")
        .to_string();
    let a = emu.acton();
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let (s, b) = get_json(
            &c,
            &a.url(&format!("/api/1/list/l-0001?count=1000&offset={offset}")),
            &tok,
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["listId"], "l-0001");
        assert_eq!(b["totalCount"], 2500);
        assert_eq!(b["offset"], offset);
        let data = b["data"].as_array().expect("data");
        assert_eq!(b["count"], data.len());
        // D3: the record id leads every row; `emailColumn` is an index into `headers`.
        assert_eq!(b["headers"][0], "_contact_id_");
        assert_eq!(b["headers"][3], "E-mail Address");
        assert_eq!(b["emailColumn"], 3);
        rows.extend(data.iter().cloned());
        offset += 1000;
        if offset >= b["totalCount"].as_u64().expect("t") {
            break;
        }
    }
    assert_eq!(rows.len(), 2500);
    assert!(rows.iter().all(|r| r.as_array().expect("r").len() == 12
        && r.as_array().expect("r").iter().all(Value::is_string)));
    assert_eq!(rows[7][0], "l-0001:7");
    // Date qualifiers (D2: `created_date`, `modified_date`, never with `fields`), then a
    // modafter filter compared with them.
    let (_, all) = get_json(
        &c,
        &a.url("/api/1/list/l-0001?count=1000&datequalifiers=true"),
        &tok,
    )
    .await;
    let headers = all["headers"].as_array().expect("h");
    assert_eq!(
        headers[headers.len() - 2..],
        [json!("created_date"), json!("modified_date")]
    );
    let (s, b) = get_json(
        &c,
        &a.url("/api/1/list/l-0001?datequalifiers=true&fields=E-mail%20Address"),
        &tok,
    )
    .await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10000, "message": "The parameters fields and datequalifiers cannot be used together"})
        )
    );
    let cutoff = 1_704_067_200_000i64 + 10 * 86_400_000;
    let expected = all["data"]
        .as_array()
        .expect("d")
        .iter()
        .filter(|r| r[13].as_str().expect("m").parse::<i64>().expect("ms") > cutoff)
        .count();
    let (_, f) = get_json(
        &c,
        &a.url(&format!(
            "/api/1/list/l-0001?count=1000&modafter={cutoff}&createdbefore={}",
            1_704_067_200_000i64 + 1000 * 1_200_000
        )),
        &tok,
    )
    .await;
    assert_eq!(f["totalCount"], expected);
    assert!(
        a.requests()
            .iter()
            .any(|r| r.param("modafter") == Some(cutoff.to_string()))
    );
    let (s, _) = get_json(&c, &a.url("/api/1/list/l-0001?count=1001"), &tok).await;
    assert_eq!(s, 400, "count above 1000 is refused");
    let (s, b) = get_json(&c, &a.url("/api/1/list/l-0001?fields=Nope"), &tok).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": "10010", "message": "Invalid Column Specified: Nope"})
        )
    );
    let (s, b) = get_json(&c, &a.url("/api/1/list/l-9999"), &tok).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10004, "message": "Invalid or missing list"})
        )
    );
    let r = c
        .get(a.url("/api/1/list/l-0001?responseformat=CSV"))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("csv");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    let csv = r.text().await.expect("t");
    assert!(csv.starts_with("_contact_id_,First Name,Last Name,E-mail Address"));
    assert_eq!(csv.lines().count(), 2501, "CSV returns the whole list");
    emu.shutdown().await;
}

#[tokio::test]
async fn refresh_tokens_are_single_use_and_new_grants_invalidate_old_ones() {
    let emu = start().await;
    let (c, a) = (client(), emu.acton().info().clone());
    let refresh = |rt: String| {
        let (c, a) = (c.clone(), a.clone());
        async move {
            token_req(
                &c,
                &a.token_url,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("client_id", &a.client_id),
                    ("client_secret", &a.client_secret),
                ],
            )
            .await
        }
    };
    let t1 = acton_password_token(&emu).await;
    let rt1 = t1["refresh_token"].as_str().expect("rt").to_string();
    let (s, t2) = refresh(rt1.clone()).await;
    assert_eq!(s, 200);
    let rt2 = t2["refresh_token"].as_str().expect("rt").to_string();
    assert_ne!(rt1, rt2);
    let (s, b) = refresh(rt1).await;
    assert_eq!((s, b["error"].clone()), (403, json!("invalid_grant")));
    let _t3 = acton_password_token(&emu).await;
    let (s, _) = refresh(rt2).await;
    assert_eq!(
        s, 403,
        "a new password grant ends the previous refresh token"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn password_and_code_grants_are_limited_per_hour() {
    let emu = builder().acton_auth_limit(5).start().await.expect("start");
    let (c, a) = (client(), emu.acton().info().clone());
    let form = [
        ("grant_type", "password"),
        ("username", a.user.as_str()),
        ("password", a.password.as_str()),
        ("client_id", a.client_id.as_str()),
        ("client_secret", a.client_secret.as_str()),
    ];
    for _ in 0..5 {
        assert_eq!(token_req(&c, &a.token_url, &form).await.0, 200);
    }
    let r = c.post(&a.token_url).form(&form).send().await.expect("s");
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    emu.advance_clock(Duration::from_secs(3601));
    assert_eq!(token_req(&c, &a.token_url, &form).await.0, 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn code_grant_through_login_page_and_auto_approve() {
    let emu = start().await;
    let (c, a) = (client(), emu.acton().info().clone());
    let q = [
        ("scope", "PRODUCTION"),
        ("response_type", "code"),
        ("client_id", a.client_id.as_str()),
        ("redirect_uri", a.redirect_uri.as_str()),
        ("state", "xyz"),
    ];
    let r = c
        .get(&a.authorize_url)
        .query(&q)
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), 200);
    let html = r.text().await.expect("t");
    assert!(
        html.contains("id=\"username\"")
            && html.contains("id=\"password\"")
            && html.contains("id=\"authorize\"")
    );
    let mut form = q.to_vec();
    form.extend([
        ("username", a.user.as_str()),
        ("password", a.password.as_str()),
        ("action", "approve"),
    ]);
    let r = c
        .post(&a.authorize_url)
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().expect("l").to_string();
    assert_eq!(query_param(&loc, "state").as_deref(), Some("xyz"));
    let code = query_param(&loc, "code").expect("code");
    let (s, t) = token_req(
        &c,
        &a.token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &a.client_id),
            ("client_secret", &a.client_secret),
            ("redirect_uri", &a.redirect_uri),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let (s, _) = token_req(
        &c,
        &a.token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &a.client_id),
            ("client_secret", &a.client_secret),
            ("redirect_uri", &a.redirect_uri),
        ],
    )
    .await;
    assert_eq!(s, 400, "codes are single-use");
    // Wrong scope and unknown redirect.
    let r = c
        .get(&a.authorize_url)
        .query(&[
            ("scope", "SANDBOX"),
            ("response_type", "code"),
            ("client_id", a.client_id.as_str()),
            ("redirect_uri", a.redirect_uri.as_str()),
        ])
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 302);
    assert!(
        r.headers()["location"]
            .to_str()
            .expect("l")
            .contains("error=invalid_scope")
    );
    let r = c
        .get(&a.authorize_url)
        .query(&[
            ("scope", "PRODUCTION"),
            ("response_type", "code"),
            ("client_id", a.client_id.as_str()),
            ("redirect_uri", "http://evil.example"),
        ])
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 400);
    emu.acton().update_settings(emulator::SettingsPatch {
        auto_approve: Some(true),
        ..Default::default()
    });
    let r = c
        .get(&a.authorize_url)
        .query(&q)
        .send()
        .await
        .expect("auto");
    assert_eq!(r.status(), 302);
    emu.shutdown().await;
}

#[tokio::test]
async fn every_api_endpoint_answers_with_documented_shapes() {
    let emu = builder()
        .acton_list(ActOnList {
            name: "My List".into(),
            folder_name: "Custom".into(),
            listing_type: "CONTACT_LIST".into(),
            headers: vec!["E-mail Address".into(), "Name".into()],
            rows: vec![vec!["x@y.example".into(), "X".into()]],
        })
        .start()
        .await
        .expect("start");
    let c = client();
    let tok = acton_password_token(&emu).await["access_token"]
        .as_str()
        .expect("at")
        .to_string();
    let a = emu.acton();
    let get = |p: &str| {
        let (c, url, tok) = (c.clone(), a.url(p), tok.clone());
        async move { get_json(&c, &url, &tok).await }
    };
    let (s, acct) = get("/api/1/account").await;
    assert_eq!(s, 200);
    assert!(
        acct["account_id"].is_u64()
            && acct["isAdmin"].is_boolean()
            && acct["time_zone"].is_string()
    );
    let (_, senders) = get("/api/1/account/senders").await;
    assert!(senders[0]["sender_email"].is_string());
    // D1: lowercase listing types (the older uppercase ones are still accepted).
    let (_, lists) = get("/api/1/list?listingtype=contact_list").await;
    let names: Vec<&str> = lists["result"]
        .as_array()
        .expect("r")
        .iter()
        .map(|l| l["name"].as_str().expect("n"))
        .collect();
    assert!(names.contains(&"Customers") && names.contains(&"My List"));
    let first = &lists["result"][0];
    // B5: the entry fields of the spec's example.
    assert_eq!(
        (
            first["id"].clone(),
            first["sourceSize"].clone(),
            first["sourceTS"].clone(),
            first["tsSource"].clone(),
            first["bIsList"].clone()
        ),
        (
            json!("l-0001"),
            json!("2500"),
            json!("Dec 30 2023 4:00 PM PST"),
            json!(1_703_980_800_000i64),
            json!(true)
        )
    );
    let (_, upper) = get("/api/1/list?listingtype=CONTACT_LIST").await;
    assert_eq!(upper["totalCount"], lists["totalCount"]);
    let (_, seed) = get("/api/1/list?listingtype=SEED_LIST").await;
    assert_eq!(seed["result"].as_array().expect("r").len(), 1);
    let (s, _) = get("/api/1/list?listingtype=BOGUS").await;
    assert_eq!(s, 400);
    // B5: a record is an array aligned to the download's headers, the record id first.
    let (s, rec) = get("/api/1/list/l-0001/record/l-0001:5").await;
    assert_eq!(s, 200);
    assert_eq!(rec.as_array().expect("rec").len(), 12);
    assert_eq!(rec[0], "l-0001:5");
    let (_, trade) = get("/api/1/list/l-0003/record/l-0003:0").await;
    let registered = trade[7].as_str().expect("date");
    assert!(
        registered.len() == 23 && (registered.ends_with(" PST") || registered.ends_with(" PDT")),
        "{registered}"
    );
    let (s, b) = get("/api/1/list/l-0001/record/l-0001:999999").await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10008, "message": "Invalid contact"})
        )
    );
    let (_, facts) = get("/api/1/list/l-0001/record/l-0001:5/facts").await;
    assert!(facts["activity"]["score"].is_u64() && facts["activitylist"].is_array());
    let email = rec[3].as_str().expect("email").to_string();
    let (s, lk) = get(&format!("/api/1/list/lookup/l-0001?email={email}")).await;
    assert_eq!((s, lk["recid"].clone()), (200, json!("l-0001:5")));
    let (s, b) = get("/api/1/list/lookup/l-0001").await;
    assert_eq!(
        (s, b),
        (
            422,
            json!({"errorCode": 10121, "message": "Missing parameter - email"})
        )
    );
    for (p, total) in [("hardbounce", 37), ("spamcomplaint", 6), ("optout", 23)] {
        let (s, b) = get(&format!("/api/1/list/{p}?count=10")).await;
        assert_eq!(
            (s, b["totalCount"].clone(), b["count"].clone()),
            (200, json!(total), json!(10.min(total)))
        );
        assert_eq!(b["emailColumn"], 0);
    }
    let mut sent_id = String::new();
    for ty in [
        "DRAFT",
        "TEMPLATE",
        "SENT",
        "TRIGGERED",
        "FAILED",
        "SCHEDULED",
    ] {
        let (s, m) = get(&format!("/api/1/message?type={ty}&count=100")).await;
        assert_eq!(s, 200, "{ty}");
        let first = &m["msgresult"][0];
        // D4: camelCase, `timeStamp` epoch ms as a string, `isTextOnly` a string.
        let ts: i64 = first["timeStamp"]
            .as_str()
            .expect("timeStamp")
            .parse()
            .expect("ms");
        assert!(ts > 1_700_000_000_000, "{ty}");
        assert!(
            first["msgId"].is_string()
                && first["name"].is_string()
                && first["senderName"].is_string()
                && first["isTextOnly"].is_string()
                && first["msgType"] == ty,
            "{ty}: {first}"
        );
        assert_eq!(m["totalCount"], m["msgresult"].as_array().expect("r").len());
        if ty == "SENT" {
            sent_id = first["msgId"].as_str().expect("id").to_string();
            assert!(sent_id.starts_with("s-0001-"));
        }
        if ty == "DRAFT" {
            assert!(first["msgId"].as_str().expect("id").starts_with("d-"));
        }
    }
    let (s, b) = get("/api/1/message").await;
    assert_eq!(
        (s, b),
        (
            422,
            json!({"errorCode": 10121, "message": "Missing parameter - type"})
        )
    );
    let (s, rep) = get(&format!("/api/1/message/{sent_id}/report")).await;
    assert_eq!((s, rep["status"].clone()), (200, json!("ok")));
    assert!(rep["opened"].as_array().expect("o").len() == 2 && rep["sentto"][0] == "l-0001");
    for key in [
        "delivered",
        "hardBounced",
        "softBounced",
        "notopened",
        "optout",
        "spam",
        "lastOpenTS",
        "lastClickTS",
        "rebroadcast",
    ] {
        assert!(rep[key].is_u64(), "{key}: {rep}");
    }
    assert!(
        rep["lastOpen"]
            .as_str()
            .expect("lastOpen")
            .ends_with(" ago")
    );
    let invalid_message = json!({"errorCode": 10030, "message": "Invalid or deleted message"});
    let (s, b) = get("/api/1/message/s-9999-2401/report").await;
    assert_eq!((s, b), (400, invalid_message.clone()));
    for d in [
        "SENT",
        "SUPPRESSED",
        "OPENED",
        "CLICKED",
        "BOUNCED",
        "OPT_OUT",
        "SPAM",
    ] {
        let (s, dd) = get(&format!("/api/1/message/{sent_id}/report/{d}?count=1000")).await;
        assert_eq!(s, 200, "{d}");
        assert_eq!(dd["count"], dd["result"].as_array().expect("r").len());
    }
    let (_, dd) = get(&format!("/api/1/message/{sent_id}/report/CLICKED?count=2")).await;
    assert!(
        dd["result"][0]["recid"]
            .as_str()
            .expect("recid")
            .starts_with("l-0001:")
            && dd["result"][0]["action"] == "Clickthrough"
    );
    let (s, b) = get(&format!("/api/1/message/{sent_id}/report/VIEWED")).await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10089, "message": "Invalid drill-down verb"})
        )
    );
    let (s, b) = get("/api/1/message/s-9999-2401/report/SENT").await;
    assert_eq!((s, b), (404, invalid_message));
    let (s, period) = get("/api/1/message/report?period=2402").await;
    assert_eq!((s, period["month"].clone()), (200, json!("February 2024")));
    assert_eq!(period["counts"].as_array().expect("c").len(), 29);
    let day = period["counts"][0].as_object().expect("day");
    let mut keys: Vec<&str> = day.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "bounced",
            "clicked",
            "dayOfMonth",
            "dayOfWeek",
            "hardBounced",
            "opened",
            "optedOut",
            "sent",
            "softBounced"
        ]
    );
    let (s, b) = get("/api/1/message/report?period=24").await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10160, "message": "The date period is invalid."})
        )
    );
    let (_, progs) = get("/api/1/program?type=TRACK").await;
    assert!(
        progs["folders"][0]["programs"][0]["id"]
            .as_str()
            .expect("id")
            .starts_with("tr-")
    );
    assert!(progs["anyRunning"].is_boolean());
    let (_, mine) = get("/api/1/list/l-0100").await;
    assert_eq!(mine["data"], json!([["l-0100:0", "x@y.example", "X"]]));
    let (s, b) = get("/api/1/nothing/here").await;
    assert_eq!(
        (s, b),
        (
            404,
            json!({"httpCode": "404", "httpMessage": "Not Found", "moreInformation": "No resources match requested URI"})
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn api_auth_errors_and_five_per_second_limit() {
    let emu = builder().acton_rate_limit(5).start().await.expect("start");
    let c = client();
    let a = emu.acton();
    let r = c.get(a.url("/api/1/account")).send().await.expect("s");
    assert_eq!(r.status(), 401);
    let b: Value = r.json().await.expect("j");
    let gateway_401 =
        json!({"httpCode": "401", "httpMessage": "Unauthorized", "moreInformation": ""});
    assert_eq!(b, gateway_401, "D6: the gateway's shape");
    let tok = acton_password_token(&emu).await["access_token"]
        .as_str()
        .expect("at")
        .to_string();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            c.get(a.url("/api/1/account"))
                .bearer_auth(&tok)
                .send()
                .await
                .expect("s"),
        );
    }
    assert!(statuses[..5].iter().all(|r| r.status() == 200));
    let last = statuses.pop().expect("last");
    assert_eq!(last.status(), 429);
    assert_eq!(last.headers()["retry-after"], "1");
    let b: Value = last.json().await.expect("j");
    assert_eq!(b["httpCode"], "429");
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(
        c.get(a.url("/api/1/account"))
            .bearer_auth(&tok)
            .send()
            .await
            .expect("s")
            .status(),
        200
    );
    emu.advance_clock(Duration::from_secs(3601));
    let (s, b) = get_json(&c, &a.url("/api/1/account"), &tok).await;
    assert_eq!((s, b), (401, gateway_401), "expired after an hour");
    assert_eq!(a.stats().rate_limited, 1);
    emu.shutdown().await;
}
