//! SQL over the HubDB source against the HubSpot emulator: pushdown checked through the
//! emulator's request log, loose filters, joins, DML on drafts and system tables.
#![allow(clippy::unwrap_used)]

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use emulator::{Emulator, EmulatorBuilder, RequestRecord};
use source_core::Value;
use sql::Session;

async fn setup(rows: u64) -> (Emulator, Session) {
    let emu = EmulatorBuilder::new()
        .hubdb_rows(rows)
        .hubspot_rate_limit(0)
        .start()
        .await
        .unwrap();
    let hs = emu.hubspot();
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}",
        hs.info().private_app_token,
        hs.base_url()
    )
    .parse()
    .unwrap();
    let connection = sources::find("hubdb").unwrap().configure(&cs).unwrap();
    let mut session = Session::new();
    session.add_connection(&connection).await.unwrap();
    hs.clear_requests();
    (emu, session)
}

async fn batches(s: &Session, sql: &str, params: &[Value]) -> Vec<RecordBatch> {
    s.execute(sql, params)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap()
}

async fn count(s: &Session, sql: &str, params: &[Value]) -> i64 {
    let b = batches(s, sql, params).await;
    b[0].column(0).as_primitive::<Int64Type>().value(0)
}

/// Requests for table rows (not discovery).
fn row_requests(emu: &Emulator) -> Vec<RequestRecord> {
    emu.hubspot()
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/rows"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filtered_query_sends_the_filter() {
    let (emu, s) = setup(3000).await;
    let pushed = count(
        &s,
        "SELECT COUNT(*) FROM events WHERE city = ?",
        &["Berlin".into()],
    )
    .await;
    let log = row_requests(&emu);
    assert!(!log.is_empty());
    assert!(
        log.iter().all(|r| r.has_param("city__eq", "Berlin")),
        "{log:?}"
    );
    // The same filter evaluated only client-side (an expression cannot be pushed).
    let local = count(
        &s,
        "SELECT COUNT(*) FROM events WHERE city || '' = 'Berlin'",
        &[],
    )
    .await;
    assert!(pushed > 0);
    assert_eq!(pushed, local);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_projected_query_sends_properties() {
    let (emu, s) = setup(100).await;
    let b = batches(
        &s,
        "SELECT Id, title FROM events WHERE attendees >= 250",
        &[],
    )
    .await;
    assert_eq!(b[0].num_columns(), 2);
    let log = row_requests(&emu);
    assert_eq!(
        log[0].param("properties").as_deref(),
        Some("title"),
        "{log:?}"
    );
    assert!(log[0].has_param("attendees__gte", "250"), "{log:?}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_without_residual_filters_stops_after_one_page() {
    let (emu, s) = setup(5000).await;
    let b = batches(&s, "SELECT * FROM events LIMIT 10", &[]).await;
    assert_eq!(b.iter().map(RecordBatch::num_rows).sum::<usize>(), 10);
    assert_eq!(row_requests(&emu).len(), 1);

    emu.hubspot().clear_requests();
    let b = batches(
        &s,
        "SELECT title FROM events WHERE city = 'Tokyo' LIMIT 10",
        &[],
    )
    .await;
    assert_eq!(b.iter().map(RecordBatch::num_rows).sum::<usize>(), 10);
    assert_eq!(
        row_requests(&emu).len(),
        1,
        "an exact filter keeps the limit pushed"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn loose_filters_give_exact_sql_answers() {
    let (emu, s) = setup(1000).await;
    // HubDB matches SELECT options ignoring case: it sends back `meetup` rows for `MEETUP`,
    // which SQL must drop again.
    let n = count(
        &s,
        "SELECT COUNT(*) FROM events WHERE category = 'MEETUP'",
        &[],
    )
    .await;
    assert_eq!(n, 0);
    let log = row_requests(&emu);
    assert!(
        log.iter().any(|r| r.has_param("category__eq", "MEETUP")),
        "{log:?}"
    );
    let pushed = count(
        &s,
        "SELECT COUNT(*) FROM events WHERE category = 'meetup'",
        &[],
    )
    .await;
    let local = count(
        &s,
        "SELECT COUNT(*) FROM events WHERE category || '' = 'meetup'",
        &[],
    )
    .await;
    assert!(pushed > 0);
    assert_eq!(pushed, local);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn joins_across_two_tables() {
    let (emu, s) = setup(500).await;
    let berlin = count(&s, "SELECT COUNT(*) FROM events WHERE city = 'Berlin'", &[]).await;
    let joined = count(
        &s,
        "SELECT COUNT(*) FROM events e JOIN hubdb.events_Draft d ON d.Id = e.Id \
         WHERE e.city = 'Berlin' AND d.title = e.title",
        &[],
    )
    .await;
    assert_eq!(joined, berlin);
    let b = batches(
        &s,
        "SELECT o.org_name, COUNT(*) AS n FROM events e \
         JOIN organizers o ON array_has(e.organizer, CAST(o.Id AS VARCHAR)) \
         GROUP BY o.org_name ORDER BY n DESC LIMIT 3",
        &[],
    )
    .await;
    assert_eq!(b.iter().map(RecordBatch::num_rows).sum::<usize>(), 3);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dml_on_a_draft_table() {
    let (emu, s) = setup(50).await;
    let r = s
        .execute(
            "INSERT INTO events_Draft (title, city, attendees) VALUES (?, ?, ?)",
            &["SQL night".into(), "Oslo".into(), Value::Int(12)],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(1));
    let r = s
        .execute(
            "UPDATE events_Draft SET attendees = attendees * 2 WHERE title = ?",
            &["SQL night".into()],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(1));
    let n = count(
        &s,
        "SELECT CAST(attendees AS BIGINT) FROM events_Draft WHERE title = 'SQL night'",
        &[],
    )
    .await;
    assert_eq!(n, 24);
    let r = s
        .execute(
            "DELETE FROM events_Draft WHERE title = ?",
            &["SQL night".into()],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(1));
    let n = count(
        &s,
        "SELECT COUNT(*) FROM events_Draft WHERE title = 'SQL night'",
        &[],
    )
    .await;
    assert_eq!(n, 0);
    let e = s
        .execute("DELETE FROM events WHERE Id = 1", &[])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "DELETE is not allowed on events: it is a read-only view; write to events_Draft instead"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn system_tables_list_hubdb_metadata() {
    let (emu, s) = setup(10).await;
    let n = count(
        &s,
        "SELECT COUNT(*) FROM sys_tablecolumns WHERE TableName = 'events'",
        &[],
    )
    .await;
    assert_eq!(n, 23, "seven common columns and sixteen HubDB columns");
    let n = count(
        &s,
        "SELECT COUNT(*) FROM sys_tables WHERE TableName IN ('events', 'events_Draft', 'Owners')",
        &[],
    )
    .await;
    assert_eq!(n, 3);
    let b = batches(
        &s,
        "SELECT Value FROM sys_connection_props WHERE Name = 'PrivateAppToken'",
        &[],
    )
    .await;
    let token = emu.hubspot().info().private_app_token.clone();
    let shown = b[0].column(0).as_string::<i32>().value(0).to_owned();
    assert_ne!(shown, token);
    assert!(!shown.is_empty());
    emu.shutdown().await;
}
