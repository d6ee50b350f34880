//! SQL over the HubDB source against the HubSpot emulator: pushdown checked through the
//! emulator's request log (filters, ORDER BY, LIMIT), loose filters, joins, DML on drafts and
//! system tables.
#![allow(clippy::unwrap_used)]

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use emulator::{Emulator, EmulatorBuilder, Fault, RequestRecord};
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

/// A value that does not convert to its column's type fails before any request, naming the
/// column, the value and the type; an explicit NULL still writes NULL.
#[tokio::test(flavor = "multi_thread")]
async fn bad_values_are_errors_not_nulls() {
    let (emu, s) = setup(5).await;
    let hs = emu.hubspot();
    for (sql, params, expected) in [
        (
            "UPDATE events_Draft SET attendees = 'abc'",
            vec![],
            "`events_Draft` column `attendees` row 1: 'abc' is not a valid NUMBER (Float64); nothing was written",
        ),
        (
            "UPDATE events_Draft SET event_date = 'not a date'",
            vec![],
            "`events_Draft` column `event_date` row 1: 'not a date' is not a valid DATE (Date32); nothing was written",
        ),
        (
            "INSERT INTO events_Draft (title, attendees) VALUES ('ok', '3'), ('bad', ?)",
            vec![Value::Str("many".into())],
            "`events_Draft` column `attendees` row 2: 'many' is not a valid NUMBER (Float64); nothing was written",
        ),
    ] {
        hs.clear_requests();
        let err = s.execute(sql, &params).await.unwrap_err().to_string();
        assert_eq!(err, expected, "{sql}");
        let writes = hs
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .count();
        assert_eq!(writes, 0, "{sql}: nothing may be sent");
    }
    let r = s
        .execute("UPDATE events_Draft SET attendees = NULL WHERE Id = (SELECT MIN(Id) FROM events_Draft)", &[])
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(1));
    let nulls = count(
        &s,
        "SELECT COUNT(*) FROM events_Draft WHERE attendees IS NULL",
        &[],
    )
    .await;
    assert_eq!(nulls, 1);
    emu.shutdown().await;
}

/// The `batch/<op>` calls of the log, with their statuses.
fn batch_calls(emu: &Emulator, op: &str) -> Vec<u16> {
    let suffix = format!("/rows/draft/batch/{op}");
    emu.hubspot()
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(&suffix))
        .map(|r| r.status)
        .collect()
}

/// ImportCSV-sized DML: 10,000 rows go in calls of at most 100 (the emulator refuses 101, as
/// HubSpot does); a chunk that meets a 503 or a 429 is retried on its own, so every row lands
/// exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_rows_are_written_in_batches_of_100_each_retried_on_its_own() {
    let (emu, s) = setup(0).await;
    let hs = emu.hubspot();
    // The 31st create call meets a 503, the 41st a 429: each chunk is retried, alone.
    hs.inject(
        Fault::status(503, 1)
            .method("POST")
            .path(create_prefix())
            .skip(30),
    );
    hs.inject(
        Fault::too_many_requests(Some(0), 1)
            .method("POST")
            .path(create_prefix())
            .skip(40),
    );
    // Rows 4321 and 7777 name a category HubSpot does not have: their chunks are refused and
    // sent again row by row, so the other 198 rows of those chunks still land.
    let err = s
        .execute(
            "INSERT INTO events_Draft (title, city, attendees, category) \
             SELECT concat('bulk ', CAST(value AS VARCHAR)), 'Oslo', value, \
                    CASE WHEN value IN (4321, 7777) THEN 'gala' ELSE 'meetup' END \
             FROM range(10000)",
            &[],
        )
        .await
        .unwrap_err();
    let sql::Error::PartialWrite {
        affected, errors, ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(*affected, 9_998);
    let failed: Vec<usize> = errors.iter().map(|e| e.index).collect();
    assert_eq!(failed, vec![4321, 7777]);
    assert!(errors[0].message.contains("gala"), "{}", errors[0].message);
    let creates = batch_calls(&emu, "create");
    assert_eq!(creates.len(), 102, "100 chunks and 2 retries: {creates:?}");
    assert_eq!((creates[30], creates[31]), (503, 201));
    assert_eq!((creates[40], creates[41]), (429, 201));
    assert_eq!(creates.iter().filter(|&&s| s == 201).count(), 98);
    assert_eq!(creates.iter().filter(|&&s| s == 400).count(), 2);
    let one_by_one = hs
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/rows"))
        .count();
    assert_eq!(one_by_one, 200, "only the two refused chunks go row by row");
    let distinct = count(
        &s,
        "SELECT COUNT(DISTINCT title) FROM events_Draft WHERE city = 'Oslo'",
        &[],
    )
    .await;
    assert_eq!(distinct, 9_998, "every row exactly once");

    hs.clear_requests();
    let r = s
        .execute(
            "UPDATE events_Draft SET attendees = attendees + 1 WHERE city = 'Oslo'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(9_998));
    let updates = batch_calls(&emu, "update");
    assert_eq!(
        (updates.len(), updates.iter().all(|&s| s == 200)),
        (100, true)
    );
    let total = count(
        &s,
        "SELECT CAST(SUM(attendees) AS BIGINT) FROM events_Draft WHERE city = 'Oslo'",
        &[],
    )
    .await;
    assert_eq!(total, (1..=10_000).sum::<i64>() - 4322 - 7778);

    hs.clear_requests();
    let r = s
        .execute("DELETE FROM events_Draft WHERE city = 'Oslo'", &[])
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(9_998));
    let purges = batch_calls(&emu, "purge");
    assert_eq!(
        (purges.len(), purges.iter().all(|&s| s == 204)),
        (100, true)
    );
    let left = count(&s, "SELECT COUNT(*) FROM events_Draft", &[]).await;
    assert_eq!(left, 0);
    emu.shutdown().await;
}

/// The prefix of the draft tables' paths under the default API version.
fn create_prefix() -> String {
    "/cms/hubdb/2026-03/tables/".to_owned()
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

/// Every row as text cells (`NULL` for nulls).
fn text(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let options = FormatOptions::new().with_null("NULL");
    let mut out = Vec::new();
    for b in batches {
        let formatters: Vec<ArrayFormatter<'_>> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            out.push(formatters.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out
}

async fn rows(s: &Session, sql: &str) -> Vec<Vec<String>> {
    text(&batches(s, sql, &[]).await)
}

/// The plan `EXPLAIN` prints.
async fn explain(s: &Session, sql: &str) -> String {
    rows(s, &format!("EXPLAIN {sql}"))
        .await
        .iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `pushed` gives the rows `local` does, where `local` orders by expressions no source can
/// sort (so DataFusion sorts the same rows); `local` sends no `sort`.
async fn same_as_sorted_in_sql(emu: &Emulator, s: &Session, pushed: &[Vec<String>], local: &str) {
    emu.hubspot().clear_requests();
    assert_eq!(pushed, rows(s, local).await.as_slice(), "{local}");
    let log = row_requests(emu);
    assert!(log.iter().all(|r| r.params("sort").is_empty()), "{log:?}");
}

/// The `limit` parameter of a request, as a number.
fn limit_param(r: &RequestRecord) -> u64 {
    r.param("limit").unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn order_by_with_limit_is_sent_as_sort_and_limit() {
    let (emu, s) = setup(3000).await;
    let sql = "SELECT Id, title, attendees FROM events ORDER BY attendees DESC LIMIT 5";
    let got = rows(&s, sql).await;
    assert_eq!(got.len(), 5);
    let log = row_requests(&emu);
    assert_eq!(log.len(), 1, "one page of five rows: {log:?}");
    assert_eq!(log[0].params("sort"), ["-attendees"], "{log:?}");
    assert!(limit_param(&log[0]) <= 5, "{log:?}");
    // Ties may pick other rows; the attendees column is the same either way.
    let attendees = |rows: &[Vec<String>]| rows.iter().map(|r| r[2].clone()).collect::<Vec<_>>();
    emu.hubspot().clear_requests();
    let local = rows(
        &s,
        "SELECT Id, title, attendees FROM events ORDER BY attendees + 0 DESC LIMIT 5",
    )
    .await;
    assert_eq!(attendees(&got), attendees(&local));
    assert!(
        row_requests(&emu)
            .iter()
            .all(|r| r.params("sort").is_empty())
    );

    let plan = explain(&s, sql).await;
    assert!(!plan.contains("SortExec"), "{plan}");
    assert!(
        plan.contains("order_by=[attendees DESC NULLS FIRST], limit=5"),
        "{plan}"
    );
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn multi_key_order_is_sent_on_every_page() {
    let (emu, s) = setup(2500).await;
    let got = rows(
        &s,
        "SELECT Id, attendees FROM events ORDER BY attendees DESC, Id",
    )
    .await;
    assert_eq!(got.len(), 2500);
    let log = row_requests(&emu);
    assert!(log.len() >= 3, "several pages: {log:?}");
    for r in &log {
        assert_eq!(r.params("sort"), ["-attendees", "hs_id"], "{r:?}");
    }
    same_as_sorted_in_sql(
        &emu,
        &s,
        &got,
        "SELECT Id, attendees FROM events ORDER BY attendees + 0 DESC, Id + 0",
    )
    .await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn order_by_hubdb_cannot_sort_is_sorted_in_sql() {
    let (emu, s) = setup(1500).await;
    // A SELECT column (HubDB may order by option position), and a NULL placement HubDB
    // does not use.
    let cases = [
        (
            "SELECT Id, category FROM events ORDER BY category, Id LIMIT 7",
            "SELECT Id, category FROM events ORDER BY category || '', Id + 0 LIMIT 7",
        ),
        (
            "SELECT Id, attendees FROM events ORDER BY attendees DESC NULLS LAST, Id LIMIT 7",
            "SELECT Id, attendees FROM events ORDER BY attendees + 0 DESC NULLS LAST, Id + 0 LIMIT 7",
        ),
    ];
    for (sql, local) in cases {
        emu.hubspot().clear_requests();
        let got = rows(&s, sql).await;
        assert_eq!(got.len(), 7);
        let log = row_requests(&emu);
        assert!(log.iter().all(|r| r.params("sort").is_empty()), "{log:?}");
        assert!(log.iter().all(|r| limit_param(r) > 7), "no limit: {log:?}");
        assert!(explain(&s, sql).await.contains("SortExec"), "{sql}");
        same_as_sorted_in_sql(&emu, &s, &got, local).await;
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn order_by_with_a_loose_filter_sends_sort_but_no_limit() {
    let (emu, s) = setup(2000).await;
    let got = rows(
        &s,
        "SELECT Id, attendees FROM events WHERE category = 'meetup' \
         ORDER BY attendees DESC, Id LIMIT 5",
    )
    .await;
    assert_eq!(got.len(), 5);
    let log = row_requests(&emu);
    assert!(!log.is_empty());
    for r in &log {
        assert_eq!(r.params("sort"), ["-attendees", "hs_id"], "{r:?}");
        assert!(r.has_param("category__eq", "meetup"), "{r:?}");
        assert!(limit_param(r) > 5, "the re-check needs more rows: {r:?}");
    }
    same_as_sorted_in_sql(
        &emu,
        &s,
        &got,
        "SELECT Id, attendees FROM events WHERE category || '' = 'meetup' \
         ORDER BY attendees + 0 DESC, Id + 0 LIMIT 5",
    )
    .await;
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn act_on_tables_are_sorted_in_sql() {
    let emu = EmulatorBuilder::new()
        .acton_records(20)
        .start()
        .await
        .unwrap();
    let i = emu.acton().info();
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';\
         OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation=memory://sql-order",
        i.user, i.password, i.client_id, i.client_secret, i.base_url
    )
    .parse()
    .unwrap();
    let connection = sources::find("acton").unwrap().configure(&cs).unwrap();
    let mut s = Session::new();
    s.add_connection(&connection).await.unwrap();
    emu.acton().clear_requests();
    let sql = "SELECT Id, Type FROM Messages ORDER BY Id DESC LIMIT 3";
    let got = rows(&s, sql).await;
    assert_eq!(got.len(), 3);
    let log = emu.acton().requests();
    assert!(!log.is_empty());
    assert!(
        log.iter()
            .all(|r| r.params("sort").is_empty() && r.param("limit").is_none()),
        "{log:?}"
    );
    let local = rows(
        &s,
        "SELECT Id, Type FROM Messages ORDER BY Id || '' DESC LIMIT 3",
    )
    .await;
    assert_eq!(got, local);
    let plan = explain(&s, sql).await;
    assert!(plan.contains("SortExec"), "{plan}");
    assert!(!plan.contains("order_by="), "{plan}");
    emu.shutdown().await;
}

/// HubDB's FOREIGN_ID columns are foreign keys to the referenced table's `Id`.
#[tokio::test(flavor = "multi_thread")]
async fn foreign_id_columns_are_foreign_keys() {
    let (emu, s) = setup(5).await;
    let b = batches(
        &s,
        "SELECT TableName, ColumnName, ForeignKeyName, ReferencedTableName, ReferencedColumnName, ForeignKeyType \
         FROM sys_foreignkeys WHERE TableName IN ('events', 'events_Draft') ORDER BY TableName",
        &[],
    )
    .await;
    let options = FormatOptions::default();
    let mut got = Vec::new();
    for batch in &b {
        for r in 0..batch.num_rows() {
            let row: Vec<String> = batch
                .columns()
                .iter()
                .map(|c| {
                    ArrayFormatter::try_new(c.as_ref(), &options)
                        .unwrap()
                        .value(r)
                        .to_string()
                })
                .collect();
            got.push(row.join(" "));
        }
    }
    assert_eq!(
        got,
        vec![
            "events organizer FK_events_organizer organizers Id MANY_TO_MANY",
            "events_Draft organizer FK_events_Draft_organizer organizers Id MANY_TO_MANY",
        ]
    );
    emu.shutdown().await;
}

/// A table created after the session read the table list (here by another client, through
/// HubSpot's API) is found: an unknown name reads the lists again once before failing.
#[tokio::test(flavor = "multi_thread")]
async fn a_table_created_elsewhere_is_found_without_a_refresh() {
    let (emu, s) = setup(5).await;
    let hs = emu.hubspot();
    let created = reqwest::Client::new()
        .post(hs.url("/cms/hubdb/2026-03/tables"))
        .bearer_auth(&hs.info().private_app_token)
        .json(&serde_json::json!({
            "name": "late_arrivals",
            "label": "Late arrivals",
            "columns": [{"name": "who", "label": "Who", "type": "TEXT"}]
        }))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    let n = count(&s, "SELECT COUNT(*) FROM late_arrivals_Draft", &[]).await;
    assert_eq!(n, 0);
    let e = s
        .execute("SELECT * FROM early_arrivals", &[])
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(e, "table early_arrivals not found");
    emu.shutdown().await;
}

/// A short `IN` list, which DataFusion rewrites into ORs of `=`, still reaches HubDB as one
/// `__in` filter.
#[tokio::test(flavor = "multi_thread")]
async fn a_short_in_list_is_pushed_as_in() {
    let (emu, s) = setup(200).await;
    let n = count(
        &s,
        "SELECT COUNT(*) FROM events WHERE attendees IN (10, 20)",
        &[],
    )
    .await;
    let expected = count(
        &s,
        "SELECT COUNT(*) FROM events WHERE attendees + 0 = 10 OR attendees + 0 = 20",
        &[],
    )
    .await;
    assert_eq!(n, expected);
    let sent = row_requests(&emu)
        .iter()
        .any(|r| r.has_param("attendees__in", "10,20"));
    assert!(sent, "{:?}", row_requests(&emu));
    emu.shutdown().await;
}
