//! Syncs HubDB and Act-On tables from the emulators over loopback into real Parquet files and
//! a real SQLite database, changes, adds and deletes rows in the emulators, syncs again, and
//! checks that the destination equals the source and that the second run read only the
//! changed rows (the emulators' request logs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Field, Schema};
use emulator::{ActOnToken, Emulator, EmulatorBuilder, Fault};
use futures::TryStreamExt;
use source_core::{DataSource, ScanRequest, Value};
use source_plugin::Connection;
use sync::{Destination, Options, Run, State};

const ACTON_TOKEN: &str = "sync-test-access-token";

fn emulator() -> EmulatorBuilder {
    EmulatorBuilder::new()
        .hubdb_rows(1_000)
        .acton_records(300)
        .acton_rate_limit(0)
        .acton_token(ActOnToken {
            access_token: Some(ACTON_TOKEN.into()),
            refresh_token: None,
            expires_in_s: 86_400,
        })
}

fn hubdb(emu: &Emulator) -> Connection {
    let hs = emu.hubspot();
    let cs = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}",
        hs.info().private_app_token,
        hs.base_url()
    );
    sources::find("hubdb")
        .unwrap()
        .configure(&cs.parse().unwrap())
        .unwrap()
}

fn acton(emu: &Emulator) -> Connection {
    let cs = format!(
        "InitiateOAuth=OFF;OAuthAccessToken={ACTON_TOKEN};APIBaseURL={}",
        emu.acton().base_url()
    );
    sources::find("acton")
        .unwrap()
        .configure(&cs.parse().unwrap())
        .unwrap()
}

/// Every row of `table` at the source.
async fn source_rows(source: &dyn DataSource, table: &str) -> Vec<RecordBatch> {
    source
        .scan(table, ScanRequest::all())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

fn cell_texts(array: &ArrayRef) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let f = ArrayFormatter::try_new(array.as_ref(), &options).unwrap();
    (0..array.len()).map(|i| f.value(i).to_string()).collect()
}

/// key → the row's `columns` as text, for comparing a destination with the source.
fn by_key(batches: &[RecordBatch], key: &str, columns: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for b in batches {
        let keys = cell_texts(b.column_by_name(key).unwrap());
        let cols: Vec<Vec<String>> = columns
            .iter()
            .map(|c| cell_texts(b.column_by_name(c).unwrap()))
            .collect();
        for (i, k) in keys.into_iter().enumerate() {
            out.insert(k, cols.iter().map(|c| c[i].clone()).collect());
        }
    }
    out
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The summary line with its timing (`in 0.3 s (rate-limit floor 0.1 s)`) cut off.
fn counts(summary: &sync::TableSummary) -> String {
    let text = summary.to_string();
    text.split(" in ").next().unwrap().to_owned()
}

/// The rows requests (not table listings) the HubDB emulator saw since it was cleared.
fn hubdb_row_queries(emu: &Emulator) -> Vec<String> {
    emu.hubspot()
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/rows"))
        .map(|r| r.query.unwrap_or_default())
        .collect()
}

async fn publish(connection: &Connection, table: &str) {
    connection
        .procedures()
        .unwrap()
        .execute(
            "PublishTable",
            vec![("TableName".into(), Value::Str(table.into()))],
        )
        .await
        .unwrap();
}

/// Changes 3 rows, adds 2 and deletes 1 in the draft of `events`, then publishes it.
async fn change_events(connection: &Connection, source: &dyn DataSource) -> (Vec<i64>, i64) {
    let ids: Vec<i64> = {
        let b = source_rows(source, "events").await;
        cell_texts(b[0].column_by_name("Id").unwrap())
            .iter()
            .take(5)
            .map(|s| s.parse().unwrap())
            .collect()
    };
    let changed = vec![ids[0], ids[2], ids[4]];
    let schema = Arc::new(Schema::new(vec![
        Field::new("Id", DataType::Int64, false),
        Field::new("attendees", DataType::Float64, true),
    ]));
    let update = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(changed.clone())),
            Arc::new(Float64Array::from(vec![7.0, 8.0, 9.0])),
        ],
    )
    .unwrap();
    source
        .update("events_Draft", update)
        .await
        .unwrap()
        .into_result("events_Draft")
        .unwrap();
    let insert = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("title", DataType::Utf8, true),
            Field::new("attendees", DataType::Float64, true),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["Sync Summit", "Cursor Clinic"])),
            Arc::new(Float64Array::from(vec![10.0, 20.0])),
        ],
    )
    .unwrap();
    source
        .insert("events_Draft", insert)
        .await
        .unwrap()
        .into_result("events_Draft")
        .unwrap();
    let deleted = ids[1];
    let keys = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("Id", DataType::Int64, false)])),
        vec![Arc::new(Int64Array::from(vec![deleted]))],
    )
    .unwrap();
    source
        .delete("events_Draft", keys)
        .await
        .unwrap()
        .into_result("events_Draft")
        .unwrap();
    publish(connection, "events").await;
    (changed, deleted)
}

/// Every column but `PublishedAt`, which HubDB sets on every row when the table is published
/// (it is the table version's time, not the row's, and does not move `UpdatedAt`).
fn compared_columns(batches: &[RecordBatch]) -> Vec<String> {
    batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| n != "PublishedAt")
        .collect()
}

/// One run of `sync` over one table with the default options: its summary.
async fn sync_once(
    to: &Destination,
    state_path: &Path,
    connection: &str,
    source: &dyn DataSource,
    table: &str,
) -> sync::TableSummary {
    let mut run = Run::open(to.clone(), state_path.to_owned(), Options::default()).unwrap();
    run.table(connection, None, source, table, &mut |_| {})
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn hubdb_to_parquet_reads_only_changed_rows_on_the_second_run() {
    let emu = emulator().start().await.unwrap();
    let connection = hubdb(&emu);
    let source = connection.open().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state_path = dir.path().join("state.json");
    let to = Destination::Parquet(dir.path().join("warehouse"));
    let file = dir.path().join("warehouse/events/data.parquet");

    let first = sync_once(&to, &state_path, "hubdb", source.as_ref(), "events").await;
    // The table list (published and draft) and one page of 1,000 rows.
    assert_eq!(
        counts(&first),
        "events: 1,000 new, 0 changed, 0 deleted; 3 requests"
    );
    assert!(
        first.to_string().contains("(rate-limit floor 0.3 s)"),
        "{first}"
    );

    let (changed, deleted) = change_events(&connection, source.as_ref()).await;
    emu.hubspot().clear_requests();

    let second = sync_once(&to, &state_path, "hubdb", source.as_ref(), "events").await;
    assert_eq!(
        counts(&second),
        "events: 2 new, 3 changed, 1 deleted; 4 requests"
    );
    let cursor = State::load(&state_path)
        .unwrap()
        .table("hubdb", "events")
        .unwrap()
        .cursor;
    let queries = hubdb_row_queries(&emu);
    // The changed rows (the cursor pushed as `hs_updated_at__gt`), one row for the count,
    // then the key listing (two pages of ids: 1,001 rows) because the count dropped.
    assert_eq!(queries.len(), 4, "{queries:?}");
    assert!(queries[0].contains("hs_updated_at__gt="), "{queries:?}");
    assert!(queries[1].contains("limit=1"), "{queries:?}");
    assert!(cursor.is_some());

    let source_batches = source_rows(source.as_ref(), "events").await;
    let columns = compared_columns(&source_batches);
    let dest = by_key(&read_parquet(&file), "Id", &columns);
    let expected = by_key(&source_batches, "Id", &columns);
    assert_eq!(dest.len(), 1_001);
    assert_eq!(dest, expected);
    assert!(!dest.contains_key(&deleted.to_string()));
    assert_eq!(
        dest[&changed[0].to_string()][columns.iter().position(|c| c == "attendees").unwrap()],
        "7.0"
    );

    // A third run finds nothing: no rows, no key listing.
    emu.hubspot().clear_requests();
    let third = sync_once(&to, &state_path, "hubdb", source.as_ref(), "events").await;
    assert_eq!(
        counts(&third),
        "events: 0 new, 0 changed, 0 deleted; 2 requests"
    );

    // No secret in the state file.
    let state_text = std::fs::read_to_string(&state_path).unwrap();
    assert!(!state_text.contains(&emu.hubspot().info().private_app_token));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_leaves_the_destination_and_state_as_they_were() {
    let emu = emulator().start().await.unwrap();
    let connection = hubdb(&emu);
    let source = connection.open().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state_path = dir.path().join("state.json");
    let to = Destination::Sqlite(dir.path().join("warehouse.db"));
    let mut run = Run::open(to.clone(), state_path.clone(), Options::default()).unwrap();
    run.table("hubdb", None, source.as_ref(), "events", &mut |_| {})
        .await
        .unwrap();
    let state_before = std::fs::read_to_string(&state_path).unwrap();
    change_events(&connection, source.as_ref()).await;

    // The changed rows' request fails (400 is not retried).
    emu.hubspot()
        .inject(Fault::status(400, 1).path("/cms/").method("GET"));
    let mut run = Run::open(to.clone(), state_path.clone(), Options::default()).unwrap();
    let err = run
        .table("hubdb", None, source.as_ref(), "events", &mut |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("events: "), "{err}");
    assert!(
        !err.to_string()
            .contains(&emu.hubspot().info().private_app_token)
    );
    assert_eq!(std::fs::read_to_string(&state_path).unwrap(), state_before);

    let again = sync_once(&to, &state_path, "hubdb", source.as_ref(), "events").await;
    assert_eq!(
        counts(&again),
        "events: 2 new, 3 changed, 1 deleted; 4 requests"
    );
    let db = rusqlite::Connection::open(dir.path().join("warehouse.db")).unwrap();
    let (rows, distinct): (i64, i64) = db
        .query_row("SELECT COUNT(*), COUNT(DISTINCT Id) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((rows, distinct), (1_001, 1_001));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_written_during_a_run_is_read_again_once() {
    let emu = emulator().start().await.unwrap();
    let connection = hubdb(&emu);
    let source = connection.open().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state_path = dir.path().join("state.json");
    let to = Destination::Parquet(dir.path().join("w"));
    let options = |clock: sync::Clock| Options {
        skew_ms: 0,
        clock,
        ..Options::default()
    };
    let mut run = Run::open(
        to.clone(),
        state_path.clone(),
        options(sync::system_clock()),
    )
    .unwrap();
    run.table("hubdb", None, source.as_ref(), "events", &mut |_| {})
        .await
        .unwrap();
    change_events(&connection, source.as_ref()).await;

    // A run that started 30 s ago: the rows changed since were written while it ran.
    let now = (sync::system_clock())();
    let started_earlier: sync::Clock = Arc::new(move || now - 30_000);
    let mut run = Run::open(to.clone(), state_path.clone(), options(started_earlier)).unwrap();
    let during = run
        .table("hubdb", None, source.as_ref(), "events", &mut |_| {})
        .await
        .unwrap();
    assert_eq!(during.stats.read, 5);
    // The next run reads them again (unchanged now), and the one after does not.
    let mut run = Run::open(
        to.clone(),
        state_path.clone(),
        options(sync::system_clock()),
    )
    .unwrap();
    let next = run
        .table("hubdb", None, source.as_ref(), "events", &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        (next.stats.read, next.stats.changed, next.stats.new),
        (5, 0, 0)
    );
    let mut run = Run::open(to, state_path, options(sync::system_clock())).unwrap();
    let last = run
        .table("hubdb", None, source.as_ref(), "events", &mut |_| {})
        .await
        .unwrap();
    assert_eq!(last.stats.read, 0);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn acton_list_to_sqlite_merges_changes_and_deletions() {
    let emu = emulator().start().await.unwrap();
    let connection = acton(&emu);
    let source = connection.open().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state_path = dir.path().join("state.json");
    let db_path = dir.path().join("warehouse.db");
    let to = Destination::Sqlite(db_path.clone());
    let table = "List_Customers";

    let first = sync_once(&to, &state_path, "acton", source.as_ref(), table).await;
    assert_eq!(
        counts(&first).split(';').next().unwrap(),
        "List_Customers: 300 new, 0 changed, 0 deleted"
    );

    let before = source_rows(source.as_ref(), table).await;
    let ids = cell_texts(before[0].column_by_name("ContactId").unwrap());
    let update = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("ContactId", DataType::Utf8, false),
            Field::new("City", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(StringArray::from(vec![ids[3].clone(), ids[7].clone()])),
            Arc::new(StringArray::from(vec!["Reykjavik", "Nuuk"])),
        ],
    )
    .unwrap();
    source
        .update(table, update)
        .await
        .unwrap()
        .into_result(table)
        .unwrap();
    let insert = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "E-mail Address",
            DataType::Utf8,
            true,
        )])),
        vec![Arc::new(StringArray::from(vec![
            "new.contact@sync.example",
        ]))],
    )
    .unwrap();
    source
        .insert(table, insert)
        .await
        .unwrap()
        .into_result(table)
        .unwrap();
    let delete = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "ContactId",
            DataType::Utf8,
            false,
        )])),
        vec![Arc::new(StringArray::from(vec![ids[5].clone()]))],
    )
    .unwrap();
    source
        .delete(table, delete)
        .await
        .unwrap()
        .into_result(table)
        .unwrap();
    emu.acton().clear_requests();

    let second = sync_once(&to, &state_path, "acton", source.as_ref(), table).await;
    assert_eq!(
        counts(&second).split(';').next().unwrap(),
        "List_Customers: 1 new, 2 changed, 1 deleted"
    );
    let downloads = acton_downloads(&emu);
    // The changed records (`modafter`), the row count (300, below the 301 the destination
    // would hold), then the key listing that finds the deleted record.
    assert_eq!(downloads.len(), 3, "{downloads:?}");
    assert_eq!(downloads[0][0], pair("datequalifiers", "true"));
    assert_eq!(downloads[0][1].0, "modafter");
    assert_eq!(downloads[1], [pair("count", "1"), pair("offset", "0")]);
    assert_eq!(
        downloads[2],
        [
            pair("fields", "_contact_id_"),
            pair("count", "1000"),
            pair("offset", "0")
        ]
    );

    let after = source_rows(source.as_ref(), table).await;
    let columns: Vec<String> = after[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let expected = by_key(&after, "ContactId", &columns);
    let db = rusqlite::Connection::open(&db_path).unwrap();
    let select = columns
        .iter()
        .map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), 'NULL')"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = db
        .prepare(&format!("SELECT {select} FROM \"{table}\""))
        .unwrap();
    let key_at = columns.iter().position(|c| c == "ContactId").unwrap();
    let dest: BTreeMap<String, Vec<String>> = stmt
        .query_map([], |r| {
            (0..columns.len())
                .map(|i| r.get::<_, String>(i))
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
        .map(|r| {
            let row = r.unwrap();
            (row[key_at].clone(), row)
        })
        .collect();
    assert_eq!(dest.len(), 300);
    assert_eq!(dest, expected);

    // Nothing changed since: the count (300, as stored) spares the key listing. The records
    // changed within the skew before the last run's start are read again, unchanged.
    emu.acton().clear_requests();
    let third = sync_once(&to, &state_path, "acton", source.as_ref(), table).await;
    assert_eq!(
        counts(&third),
        "List_Customers: 0 new, 0 changed, 0 deleted; 2 requests"
    );
    assert_eq!(third.stats.read, 3);
    let downloads = acton_downloads(&emu);
    assert_eq!(downloads.len(), 2, "{downloads:?}");
    assert_eq!(downloads[1], [pair("count", "1"), pair("offset", "0")]);
    emu.shutdown().await;
}

/// The query of every list download (`/list/l-…`) the Act-On emulator saw since it was cleared.
fn acton_downloads(emu: &Emulator) -> Vec<Vec<(String, String)>> {
    emu.acton()
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/list/l-"))
        .map(|r| r.query_pairs())
        .collect()
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

/// The column the schema-change tests add to `events`: a HubDB NUMBER (Arrow Float64).
const ADDED: &str = "capacity";

/// The HubDB path of the `events` draft table.
const EVENTS_DRAFT: &str = "/cms/v3/hubdb/tables/events/draft";

/// One HTTP/1.1 request to the HubSpot emulator with the private-app token, over a plain TCP
/// connection (this crate has no HTTP client): the status and the JSON body.
async fn hubspot_http(
    emu: &Emulator,
    method: &'static str,
    path: &'static str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let addr = emu
        .hubspot()
        .base_url()
        .trim_start_matches("http://")
        .to_owned();
    let token = emu.hubspot().info().private_app_token.clone();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        // A chunked body would not parse below; JSON answers carry a Content-Length.
        assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, serde_json::from_str(body).unwrap())
    })
    .await
    .unwrap()
}

/// Adds [`ADDED`] to `events` as HubSpot's API does: the draft table's columns replaced by
/// every column plus the new one (`PATCH …/tables/events/draft`), then the table published.
async fn add_events_column(emu: &Emulator, connection: &Connection) {
    let (status, draft) = hubspot_http(emu, "GET", EVENTS_DRAFT, None).await;
    assert_eq!(status, 200, "{draft}");
    let mut columns = draft["columns"].as_array().unwrap().clone();
    columns.push(serde_json::json!({"name": ADDED, "label": "Capacity", "type": "NUMBER"}));
    let patch = serde_json::json!({ "columns": columns });
    let (status, patched) = hubspot_http(emu, "PATCH", EVENTS_DRAFT, Some(patch)).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched["columns"].as_array().unwrap().last().unwrap()["name"],
        ADDED
    );
    publish(connection, "events").await;
}

/// Sets [`ADDED`] on three rows of the draft (which moves their `UpdatedAt`) through a new
/// connection (its catalog has the column), then publishes: each row's id → its value as text.
async fn fill_added_column(connection: &Connection) -> BTreeMap<String, String> {
    let source = connection.open().unwrap();
    let batches = source_rows(source.as_ref(), "events_Draft").await;
    let ids: Vec<i64> = cell_texts(batches[0].column_by_name("Id").unwrap())
        .iter()
        .skip(1)
        .step_by(2)
        .take(3)
        .map(|s| s.parse().unwrap())
        .collect();
    let values = vec![120.0, 250.0, 80.0];
    let update = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("Id", DataType::Int64, false),
            Field::new(ADDED, DataType::Float64, true),
        ])),
        vec![
            Arc::new(Int64Array::from(ids.clone())),
            Arc::new(Float64Array::from(values)),
        ],
    )
    .unwrap();
    source
        .update("events_Draft", update)
        .await
        .unwrap()
        .into_result("events_Draft")
        .unwrap();
    publish(connection, "events").await;
    ids.iter()
        .map(ToString::to_string)
        .zip(["120.0", "250.0", "80.0"].map(str::to_owned))
        .collect()
}

/// What [`sync_across_an_added_column`] leaves for the destination's checks.
struct AddedColumn {
    emu: Emulator,
    /// A connection opened after the change (the source as the next run sees it).
    source: Arc<dyn DataSource>,
    /// Id → the added column's value, for the rows that have one.
    values: BTreeMap<String, String>,
}

/// Syncs `events` into `to`, adds [`ADDED`] at the source and sets it on three rows, then
/// syncs again with a new connection, as the next `connector hubdb sync` would, and checks
/// that the second run read only those rows, by the cursor, with exact counts.
async fn sync_across_an_added_column(to: Destination, state_path: &Path) -> AddedColumn {
    let emu = emulator().start().await.unwrap();
    let connection = hubdb(&emu);
    let source = connection.open().unwrap();
    let first = sync_once(&to, state_path, "hubdb", source.as_ref(), "events").await;
    assert_eq!(
        counts(&first),
        "events: 1,000 new, 0 changed, 0 deleted; 3 requests"
    );
    let cursor = State::load(state_path)
        .unwrap()
        .table("hubdb", "events")
        .unwrap()
        .cursor;

    add_events_column(&emu, &connection).await;
    let values = fill_added_column(&connection).await;
    emu.hubspot().clear_requests();
    let source = connection.open().unwrap();
    let second = sync_once(&to, state_path, "hubdb", source.as_ref(), "events").await;
    // The new connection lists the tables (published and draft), reads the changed rows
    // (one page) and the row count (unchanged: no key listing).
    assert_eq!(
        counts(&second),
        "events: 0 new, 3 changed, 0 deleted; 4 requests"
    );
    assert_eq!(second.stats.read, 3);
    let rows: Vec<_> = emu
        .hubspot()
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/rows"))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0].param("hs_updated_at__gt"),
        Some(cursor.unwrap().to_string()),
        "{rows:?}"
    );
    assert_eq!(rows[1].param("limit").as_deref(), Some("1"), "{rows:?}");
    assert_eq!(rows[1].param("hs_updated_at__gt"), None, "{rows:?}");
    let state = State::load(state_path).unwrap();
    let columns = &state.table("hubdb", "events").unwrap().columns;
    assert_eq!(columns.last().map(String::as_str), Some(ADDED));
    AddedColumn {
        emu,
        source,
        values,
    }
}

/// Checks a destination's `events` (key → compared columns) against the source: the same
/// rows, the added column set on the changed rows and NULL on the others.
fn assert_added_column(
    dest: &BTreeMap<String, Vec<String>>,
    expected: &BTreeMap<String, Vec<String>>,
    columns: &[String],
    values: &BTreeMap<String, String>,
) {
    assert_eq!(dest.len(), 1_000);
    assert_eq!(dest, expected);
    let at = columns.iter().position(|c| c == ADDED).unwrap();
    let set: BTreeMap<String, String> = dest
        .iter()
        .filter(|(_, row)| row[at] != "NULL")
        .map(|(k, row)| (k.clone(), row[at].clone()))
        .collect();
    assert_eq!(&set, values);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_column_added_at_the_source_reaches_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let to = Destination::Parquet(dir.path().join("warehouse"));
    let added = sync_across_an_added_column(to, &dir.path().join("state.json")).await;

    let stored = read_parquet(&dir.path().join("warehouse/events/data.parquet"));
    let field = stored[0].schema().field_with_name(ADDED).unwrap().clone();
    assert_eq!(
        (field.data_type(), field.is_nullable()),
        (&DataType::Float64, true)
    );
    let source_batches = source_rows(added.source.as_ref(), "events").await;
    let columns = compared_columns(&source_batches);
    assert_added_column(
        &by_key(&stored, "Id", &columns),
        &by_key(&source_batches, "Id", &columns),
        &columns,
        &added.values,
    );
    added.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_column_added_at_the_source_reaches_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("warehouse.db");
    let to = Destination::Sqlite(db_path.clone());
    let added = sync_across_an_added_column(to, &dir.path().join("state.json")).await;

    let db = rusqlite::Connection::open(&db_path).unwrap();
    let declared: String = db
        .query_row(
            "SELECT type FROM pragma_table_info('events') WHERE name = ?1",
            [ADDED],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(declared, "REAL");
    let source_batches = source_rows(added.source.as_ref(), "events").await;
    let columns = compared_columns(&source_batches);
    let as_stored: Vec<RecordBatch> = source_batches.iter().map(booleans_as_integers).collect();
    assert_added_column(
        &sqlite_by_key(&db, "events", "Id", &columns),
        &by_key(&as_stored, "Id", &columns),
        &columns,
        &added.values,
    );
    added.emu.shutdown().await;
}

/// `batch` with its Boolean columns as 0/1 integers, as the SQLite destination stores them.
fn booleans_as_integers(batch: &RecordBatch) -> RecordBatch {
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|a| match a.data_type() {
            DataType::Boolean => arrow_cast::cast(a, &DataType::Int64).unwrap(),
            _ => a.clone(),
        })
        .collect();
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .zip(&columns)
        .map(|(f, a)| Field::new(f.name(), a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// key → the row's `columns` as SQLite's text of them (`NULL` for NULL).
fn sqlite_by_key(
    db: &rusqlite::Connection,
    table: &str,
    key: &str,
    columns: &[String],
) -> BTreeMap<String, Vec<String>> {
    let select = columns
        .iter()
        .map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), 'NULL')"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = db
        .prepare(&format!(
            "SELECT CAST(\"{key}\" AS TEXT), {select} FROM \"{table}\""
        ))
        .unwrap();
    stmt.query_map([], |r| {
        let row = (1..=columns.len())
            .map(|i| r.get::<_, String>(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((r.get::<_, String>(0)?, row))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}
