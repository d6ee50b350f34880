//! Writes to Act-On through SQL against the emulator: `INSERT`/`UPDATE`/`DELETE` on
//! `List_<Name>`, their per-row failures, the request each one sends, the pacer, and the
//! list procedures through `EXEC`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use emulator::{Emulator, EmulatorBuilder, RequestRecord};
use source_core::{DataSource, Value};
use sql::Session;

async fn setup(customers: u64, rate: u32) -> (Emulator, Session, Arc<dyn DataSource>) {
    let emu = EmulatorBuilder::new()
        .acton_records(customers)
        .acton_rate_limit(rate)
        .start()
        .await
        .unwrap();
    let i = emu.acton().info();
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';\
         OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation=memory://acton-writes-{}",
        i.user, i.password, i.client_id, i.client_secret, i.base_url, i.base_url
    )
    .parse()
    .unwrap();
    let connection = sources::find("acton").unwrap().configure(&cs).unwrap();
    let mut session = Session::new();
    session.add_connection(&connection).await.unwrap();
    let source = connection.open().unwrap();
    emu.acton().clear_requests();
    (emu, session, source)
}

async fn rows(s: &Session, sql: &str) -> Vec<Vec<String>> {
    let batches: Vec<RecordBatch> = s.execute(sql, &[]).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let fmts: Vec<ArrayFormatter<'_>> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            out.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out
}

/// `METHOD path` of every non-GET request, with its status.
fn writes(emu: &Emulator) -> Vec<(String, u16)> {
    emu.acton()
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| (format!("{} {}", r.method, r.path), r.status))
        .collect()
}

fn deletes(emu: &Emulator) -> Vec<RequestRecord> {
    emu.acton()
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect()
}

fn batch(columns: &[(&str, Vec<Option<&str>>)]) -> RecordBatch {
    let arrays: Vec<(&str, ArrayRef)> = columns
        .iter()
        .map(|(n, v)| (*n, Arc::new(StringArray::from(v.clone())) as ArrayRef))
        .collect();
    RecordBatch::try_from_iter(arrays).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn insert_values_and_select_return_the_new_record_ids() {
    let (emu, s, source) = setup(20, 0).await;
    let r = s
        .execute(
            "INSERT INTO List_Newsletter_Subscribers (\"First Name\", \"E-mail Address\") \
             VALUES ('Ada', 'ada@example.com'), ('Alan', 'alan@example.com')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(2));
    let path = "/api/1/list/l-0002/record".to_owned();
    assert_eq!(
        writes(&emu),
        [(format!("POST {path}"), 200), (format!("POST {path}"), 200)]
    );
    // The 120 seeded records are l-0002:0 … l-0002:119.
    let got = rows(
        &s,
        "SELECT ContactId, \"First Name\", \"E-mail Address\", Company \
         FROM List_Newsletter_Subscribers WHERE ContactId = 'l-0002:121'",
    )
    .await;
    assert_eq!(got, [["l-0002:121", "Alan", "alan@example.com", ""]]);

    // INSERT … SELECT copies five leads; the outcome's keys are the new record ids.
    let r = s
        .execute(
            "INSERT INTO List_Newsletter_Subscribers (\"First Name\", \"E-mail Address\", Company) \
             SELECT \"First Name\", \"E-mail Address\", Company FROM List_Trade_Show_Leads_2024 LIMIT 5",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(5));
    let outcome = source
        .insert(
            "List_Newsletter_Subscribers",
            batch(&[("E-mail Address", vec![Some("grace@example.com")])]),
        )
        .await
        .unwrap();
    assert_eq!(
        (outcome.affected, outcome.keys),
        (1, vec![Value::Str("l-0002:127".into())])
    );
    let n = rows(&s, "SELECT COUNT(*) FROM List_Newsletter_Subscribers").await;
    assert_eq!(n, [["128"]]);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn update_by_contact_id_sends_one_put_per_record() {
    let (emu, s, _) = setup(20, 0).await;
    let r = s
        .execute(
            "UPDATE List_Customers SET City = 'Oslo', State = NULL WHERE ContactId IN ('l-0001:3', 'l-0001:7')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(2));
    let mut w = writes(&emu);
    w.sort();
    assert_eq!(
        w,
        [
            ("PUT /api/1/list/l-0001/record/l-0001:3".to_owned(), 200),
            ("PUT /api/1/list/l-0001/record/l-0001:7".to_owned(), 200),
        ]
    );
    let got = rows(
        &s,
        "SELECT ContactId, City, State FROM List_Customers WHERE City = 'Oslo' ORDER BY ContactId",
    )
    .await;
    assert_eq!(got, [["l-0001:3", "Oslo", ""], ["l-0001:7", "Oslo", ""]]);
    emu.shutdown().await;
}

/// 249 ids go in three calls of 100, 100 and 49 (the emulator refuses 101, as Act-On does).
#[tokio::test(flavor = "multi_thread")]
async fn delete_sends_at_most_100_ids_per_call() {
    let (emu, s, _) = setup(250, 0).await;
    let r = s
        .execute(
            "DELETE FROM List_Customers WHERE ContactId <> 'l-0001:0'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(249));
    let calls: Vec<usize> = deletes(&emu)
        .iter()
        .map(|r| r.param("contactids").unwrap().split(',').count())
        .collect();
    assert_eq!(calls, [100, 100, 49]);
    assert!(deletes(&emu).iter().all(|r| r.status == 200));
    let left = rows(&s, "SELECT ContactId FROM List_Customers").await;
    assert_eq!(left, [["l-0001:0"]]);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_rows_become_row_errors_and_the_rest_are_written() {
    let (emu, s, source) = setup(20, 0).await;
    // Two of four ids are not records of the list: Act-On names them in `failedList`.
    let out = source
        .delete(
            "List_Customers",
            batch(&[(
                "ContactId",
                vec![
                    Some("l-0001:1"),
                    Some("l-0001:999"),
                    Some("l-0001:2"),
                    Some("l-0002:5"),
                ],
            )]),
        )
        .await
        .unwrap();
    assert_eq!(out.affected, 2);
    let errors: Vec<(usize, String)> = out
        .errors
        .iter()
        .map(|e| (e.index, e.message.clone()))
        .collect();
    assert_eq!(
        errors,
        [
            (1, "Invalid contact id".to_owned()),
            (
                3,
                "`l-0002:5` is not a record id of list l-0001 (expected `l-0001:<number>`)"
                    .to_owned()
            ),
        ]
    );
    // An update of a deleted record: 400 10008, one row error; the other row is written.
    let out = source
        .update(
            "List_Customers",
            batch(&[
                ("ContactId", vec![Some("l-0001:1"), Some("l-0001:4")]),
                ("City", vec![Some("Paris"), Some("Rome")]),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(out.affected, 1);
    assert_eq!(
        out.errors
            .iter()
            .map(|e| (e.index, e.key.clone()))
            .collect::<Vec<_>>(),
        [(0, Some(Value::Str("l-0001:1".into())))]
    );
    // The message explains Act-On's code (its wording is the error module's).
    assert!(
        out.errors[0]
            .message
            .contains("Act-On error 10008: Invalid contact: l-0001:1"),
        "{}",
        out.errors[0].message
    );
    // Through SQL the statement reports the failed rows and the count written.
    let err = s
        .execute(
            "INSERT INTO List_Customers (ContactId, City) VALUES ('l-0001:77', 'Oslo')",
            &[],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ContactId"), "{err}");
    emu.shutdown().await;
}

/// A column the list does not have: Act-On answers 10010 and the error names the column.
#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_column_is_refused_with_its_name() {
    let (emu, s, _) = setup(20, 0).await;
    let err = s
        .execute(
            "EXEC UpsertRecord List = 'Customers', Email = 'new@example.com', Values = '{\"Shoe Size\":\"44\"}'",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Invalid Column Specified: Shoe Size"),
        "{err}"
    );
    assert_eq!(
        writes(&emu),
        [("PUT /api/1/list/l-0001/record".to_owned(), 400)]
    );
    emu.shutdown().await;
}

/// Writes take slots from the same 5-per-second pacer as reads: 12 inserts against an
/// emulator that refuses a sixth request within a second see no 429 and take over 2 s.
#[tokio::test(flavor = "multi_thread")]
async fn writes_are_paced_at_five_requests_per_second() {
    let (emu, s, _) = setup(20, 5).await;
    let values: Vec<String> = (0..12)
        .map(|i| format!("('paced{i}@example.com')"))
        .collect();
    let start = std::time::Instant::now();
    let r = s
        .execute(
            &format!(
                "INSERT INTO List_Newsletter_Subscribers (\"E-mail Address\") VALUES {}",
                values.join(", ")
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(12));
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let w = writes(&emu);
    assert_eq!(w.len(), 12);
    assert!(w.iter().all(|(_, status)| *status == 200), "{w:?}");
    assert_eq!(emu.acton().stats().rate_limited, 0);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn procedures_upsert_look_up_create_merge_and_delete_lists() {
    let (emu, s, _) = setup(20, 0).await;
    let got = rows(
        &s,
        "EXEC UpsertRecord List = 'List_Newsletter_Subscribers', Email = 'ada@example.com', \
         Values = 'First Name=Ada;Company=Analytical Engines'",
    )
    .await;
    assert_eq!(got, [["l-0002", "l-0002:120", "Record inserted"]]);
    let got = rows(
        &s,
        "EXEC UpsertRecord List = 'l-0002', Email = 'ADA@example.com', Values = '{\"Company\":\"Babbage & Co\"}'",
    )
    .await;
    assert_eq!(got, [["l-0002", "l-0002:120", "Record updated"]]);
    let got = rows(
        &s,
        "EXEC LookupRecord List = 'Newsletter Subscribers', Email = 'ada@example.com'",
    )
    .await;
    assert_eq!(got, [["l-0002", "l-0002:120"]]);
    let company = rows(
        &s,
        "SELECT Company FROM List_Newsletter_Subscribers WHERE ContactId = 'l-0002:120'",
    )
    .await;
    assert_eq!(company, [["Babbage & Co"]]);

    let got = rows(
        &s,
        "EXEC CreateList ListName = 'Webinar 2026', FolderName = 'Events', \
         Content = 'E-mail Address,Name\nx@example.com,X\ny@example.com,Y\n'",
    )
    .await;
    assert_eq!(got.len(), 1);
    let (job, list) = (got[0][0].clone(), got[0][1].clone());
    assert_eq!(got[0][2..], ["success", "Upload completed"]);
    let status = rows(&s, &format!("EXEC GetUploadStatus JobId = '{job}'")).await;
    assert_eq!(status[0][1], "pending");
    emu.advance_clock(Duration::from_secs(2));
    let status = rows(&s, &format!("EXEC GetUploadStatus JobId = '{job}'")).await;
    assert_eq!(status, [[job.as_str(), "done", &list, "2", "0", "0", "0"]]);

    s.refresh().await.unwrap();
    let got = rows(&s, "SELECT ContactId, Name FROM List_Webinar_2026").await;
    assert_eq!(
        got,
        [
            [format!("{list}:0"), "X".into()],
            [format!("{list}:1"), "Y".into()]
        ]
    );
    let got = rows(
        &s,
        "EXEC MergeList List = 'Webinar 2026', Content = 'Name,E-mail Address\nWhy,y@example.com\nZed,z@example.com\n'",
    )
    .await;
    let job = got[0][0].clone();
    emu.advance_clock(Duration::from_secs(2));
    let status = rows(&s, &format!("EXEC GetUploadStatus JobId = '{job}'")).await;
    assert_eq!(status, [[job.as_str(), "done", &list, "1", "1", "0", "0"]]);
    let got = rows(&s, "SELECT Name FROM List_Webinar_2026 ORDER BY Name").await;
    assert_eq!(got, [["Why"], ["X"], ["Zed"]]);

    let got = rows(&s, "EXEC DeleteList List = 'List_Webinar_2026'").await;
    assert_eq!(got, [[list.as_str(), "true"]]);
    s.refresh().await.unwrap();
    let err = s
        .execute("SELECT * FROM List_Webinar_2026", &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("List_Webinar_2026"), "{err}");
    let err = s
        .execute("EXEC GetUploadStatus JobId = 'nope'", &[])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Invalid or expired Job Id: nope"),
        "{err}"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn opt_outs_and_subscriptions_are_procedures() {
    let (emu, s, _) = setup(20, 0).await;
    let got = rows(
        &s,
        "EXEC AddOptOuts Emails = 'a@example.com, b@example.com'",
    )
    .await;
    assert_eq!(got, [["2"]]);
    let got = rows(&s, "EXEC RemoveOptOuts Emails = 'a@example.com'").await;
    assert_eq!(got, [["1"]]);
    let got = rows(
        &s,
        "EXEC SetSubscription Email = 'a@example.com', Category = 'Newsletter', Action = 'optout'",
    )
    .await;
    assert_eq!(got, [["true"]]);
    assert_eq!(
        writes(&emu),
        [
            ("PUT /api/1/list/optout".to_owned(), 200),
            ("PUT /api/1/list/optin".to_owned(), 200),
            ("PUT /api/1/subscription/optout".to_owned(), 200),
        ]
    );
    let err = s
        .execute("EXEC AddOptOuts Emails = 'not-an-address'", &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not-an-address"), "{err}");
    emu.shutdown().await;
}
