//! Act-On write endpoints: record insert, update, upsert and delete (one and many), list
//! create, merge and delete with upload jobs, opt-outs and subscriptions, B7 error bodies.

use std::time::Duration;

use serde_json::{Value, json};

use super::common::{acton_password_token, builder, client, get_json};

struct Api {
    c: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn new(emu: &emulator::Emulator) -> Self {
        let t = acton_password_token(emu).await;
        Self {
            c: client(),
            base: emu.acton().info().base_url.clone(),
            token: t["access_token"].as_str().expect("token").to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/1/{path}", self.base.trim_end_matches('/'))
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .c
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.expect("send");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn multipart(
        &self,
        method: reqwest::Method,
        path: &str,
        fields: &[(&str, &str)],
        file: &str,
    ) -> (u16, Value) {
        let boundary = "emu-test-boundary";
        let mut body = String::new();
        for (k, v) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n{file}\r\n--{boundary}--\r\n"
        ));
        let r = self
            .c
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("send");
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        get_json(&self.c, &self.url(path), &self.token).await
    }
}

use reqwest::Method;

#[tokio::test]
async fn records_are_inserted_updated_and_deleted_and_downloads_show_it() {
    let emu = builder().acton_records(3).start().await.expect("start");
    let api = Api::new(&emu).await;
    let (s, b) = api
        .send(
            Method::POST,
            "list/l-0001/record",
            Some(json!({"E-mail Address": "new@example.com", "City": "Oslo"})),
        )
        .await;
    assert_eq!(
        (s, b),
        (
            200,
            json!({"status": "success", "message": "Record inserted", "id": "l-0001:3", "contact_id": "l-0001:3"})
        )
    );
    let (s, b) = api.get("list/l-0001/record/l-0001:3").await;
    assert_eq!(s, 200);
    // The record GET starts with the record id (B5), then the list's headers.
    assert_eq!(
        (b[0].clone(), b[3].clone(), b[7].clone()),
        (json!("l-0001:3"), json!("new@example.com"), json!("Oslo"))
    );

    let (s, b) = api
        .send(
            Method::PUT,
            "list/l-0001/record/l-0001:3?returncontact=Y",
            Some(json!({"City": "Bergen"})),
        )
        .await;
    assert_eq!((s, b["message"].clone()), (200, json!("Record updated")));
    assert_eq!(b["contact"]["City"], "Bergen");
    let (s, b) = api.get("list/lookup/l-0001?email=NEW@example.com").await;
    assert_eq!((s, b["recid"].clone()), (200, json!("l-0001:3")));

    let (s, b) = api
        .send(Method::DELETE, "list/l-0001/record/l-0001:0", None)
        .await;
    assert_eq!(
        (s, b),
        (
            200,
            json!({"status": "success", "message": "Record deleted"})
        )
    );
    let (s, b) = api
        .send(Method::DELETE, "list/l-0001/record/l-0001:0", None)
        .await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10008, "message": "Invalid contact: l-0001:0"})
        )
    );
    let (s, b) = api.get("list/l-0001?count=10").await;
    assert_eq!((s, b["totalCount"].clone()), (200, json!(3)));
    let ids: Vec<Value> = b["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        ids,
        [json!("l-0001:1"), json!("l-0001:2"), json!("l-0001:3")]
    );
    // A deleted record reads like an unknown one: 400 10008 (as DELETE answers, B6).
    let (s, _) = api.get("list/l-0001/record/l-0001:0").await;
    assert_eq!(s, 400);
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_columns_lists_and_contacts_get_b7_error_bodies() {
    let emu = builder().acton_records(3).start().await.expect("start");
    let api = Api::new(&emu).await;
    let (s, b) = api
        .send(
            Method::POST,
            "list/l-0001/record",
            Some(json!({"Shoe Size": "44"})),
        )
        .await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": "10010", "message": "Invalid Column Specified: Shoe Size"})
        )
    );
    let (s, b) = api
        .send(Method::POST, "list/l-9999/record", Some(json!({})))
        .await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10004, "message": "Invalid or missing list: l-9999"})
        )
    );
    let (s, b) = api
        .send(Method::PUT, "list/l-0001/record/l-0001:77", Some(json!({})))
        .await;
    assert_eq!((s, b["errorCode"].clone()), (400, json!(10008)));
    emu.shutdown().await;
}

#[tokio::test]
async fn delete_many_takes_at_most_100_ids_and_lists_the_failed_ones() {
    let emu = builder().acton_records(200).start().await.expect("start");
    let api = Api::new(&emu).await;
    let ids: Vec<String> = (0..101).map(|i| format!("l-0001:{i}")).collect();
    let (s, b) = api
        .send(
            Method::DELETE,
            &format!("list/l-0001/record?contactids={}", ids.join(",")),
            None,
        )
        .await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10054, "message": "At most 100 contact ids per request; got 101"})
        )
    );
    let (s, b) = api
        .send(
            Method::DELETE,
            "list/l-0001/record?contactids=l-0001:1,l-0001:a,l-0001:2",
            None,
        )
        .await;
    assert_eq!(
        (s, b),
        (
            200,
            json!({"success_count": 2, "fail_count": 1, "failedList": [{"id": "l-0001:a", "reason": "Invalid contact id"}]})
        )
    );
    let (_, b) = api.get("list/l-0001?count=1").await;
    assert_eq!(b["totalCount"], 198);
    emu.shutdown().await;
}

#[tokio::test]
async fn upsert_by_email_updates_or_inserts() {
    let emu = builder().acton_records(3).start().await.expect("start");
    let api = Api::new(&emu).await;
    let (s, b) = api
        .send(
            Method::PUT,
            "list/l-0002/record?email=up@example.com",
            Some(json!({"Company": "One"})),
        )
        .await;
    assert_eq!(
        (s, b["message"].clone(), b["id"].clone()),
        (200, json!("Record inserted"), json!("l-0002:120"))
    );
    let (s, b) = api
        .send(
            Method::PUT,
            "list/l-0002/record?email=UP@example.com",
            Some(json!({"Company": "Two"})),
        )
        .await;
    assert_eq!(
        (s, b["message"].clone(), b["id"].clone()),
        (200, json!("Record updated"), json!("l-0002:120"))
    );
    let (_, b) = api.get("list/l-0002/record/l-0002:120").await;
    assert_eq!(b, json!(["l-0002:120", "", "", "up@example.com", "Two"]));
    emu.shutdown().await;
}

#[tokio::test]
async fn lists_are_created_merged_and_deleted_through_upload_jobs() {
    let emu = builder().acton_records(3).start().await.expect("start");
    let api = Api::new(&emu).await;
    let (s, b) = api
        .multipart(
            Method::POST,
            "list",
            &[
                ("listname", "Imported"),
                ("headings", "Y"),
                ("fieldseparator", "SEMICOLON"),
            ],
            "Email;Name\na@example.com;A\nb@example.com;B\nbroken\n",
        )
        .await;
    assert_eq!((s, b["message"].clone()), (200, json!("Upload completed")));
    let job = b["jobId"].as_str().expect("job").to_owned();
    let list = b["listId"].as_str().expect("list").to_owned();
    let (_, st) = api.get(&format!("list/{job}/status")).await;
    assert_eq!(st, json!({"status": "The job is pending"}));
    emu.advance_clock(Duration::from_millis(500));
    let (_, st) = api.get(&format!("list/{job}/status")).await;
    assert_eq!(st, json!({"status": "The job is running"}));
    emu.advance_clock(Duration::from_secs(1));
    let (_, st) = api.get(&format!("list/{job}/status")).await;
    assert_eq!(
        st["details"],
        json!({"status": "ok", "listId": list, "appendCount": 2, "updateCount": 0, "failedCount": 0, "rejectedCount": 1})
    );
    let (_, lists) = api.get("list?listingtype=CONTACT_LIST").await;
    assert!(
        lists["result"]
            .as_array()
            .expect("result")
            .iter()
            .any(|l| l["id"] == list.as_str())
    );

    let (s, b) = api
        .multipart(
            Method::PUT,
            &format!("list/{list}"),
            &[(
                "mergespecs",
                &format!(
                    "[{{\"mergeMode\":\"REPLACE\",\"dstListId\":\"{list}\",\"columnMap\":[]}}]"
                ),
            )],
            "Name,Email\nBee,b@example.com\nCee,c@example.com\n",
        )
        .await;
    assert_eq!(s, 200, "{b}");
    emu.advance_clock(Duration::from_secs(2));
    let (_, st) = api
        .get(&format!(
            "list/{}/status",
            b["jobId"].as_str().expect("job")
        ))
        .await;
    assert_eq!(
        (
            st["details"]["appendCount"].clone(),
            st["details"]["updateCount"].clone()
        ),
        (json!(1), json!(1))
    );
    let (s, b) = api
        .multipart(Method::PUT, &format!("list/{list}"), &[], "Name\nNo mail\n")
        .await;
    assert_eq!((s, b["errorCode"].clone()), (400, json!(10088)));
    let (s, b) = api
        .multipart(Method::PUT, &format!("list/{list}"), &[], "")
        .await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10003, "message": "Input file missing"})
        )
    );

    let (s, _) = api
        .send(Method::DELETE, &format!("list/{list}"), None)
        .await;
    assert_eq!(s, 200);
    let (s, b) = api
        .send(Method::DELETE, &format!("list/{list}"), None)
        .await;
    assert_eq!((s, b["errorCode"].clone()), (400, json!(10004)));
    let (s, b) = api.get("list/424242/status").await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"errorCode": 10017, "message": "Invalid or expired Job Id: 424242"})
        )
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn opt_outs_and_subscription_categories_are_recorded() {
    let emu = builder().acton_records(3).start().await.expect("start");
    let api = Api::new(&emu).await;
    let (s, b) = api
        .multipart(
            Method::PUT,
            "list/optout",
            &[],
            "a@example.com\nb@example.com\n",
        )
        .await;
    assert_eq!((s, b["count"].clone()), (200, json!(2)));
    let (s, b) = api
        .multipart(Method::PUT, "list/optin", &[], "a@example.com\n")
        .await;
    assert_eq!((s, b["count"].clone()), (200, json!(1)));
    let (s, _) = api
        .send(
            Method::PUT,
            "subscription/optout",
            Some(json!({"email": "a@example.com", "category": "News", "action": "optout"})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = api
        .send(
            Method::PUT,
            "subscription/optout",
            Some(json!({"email": "a@example.com", "category": "News", "action": "maybe"})),
        )
        .await;
    assert_eq!(
        (s, b["message"].clone()),
        (400, json!("Invalid action 'maybe': use optin or optout"))
    );
    emu.shutdown().await;
}
