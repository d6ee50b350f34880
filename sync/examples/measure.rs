//! Measures an incremental sync against a full re-read: a HubDB table of 100,000 rows in the
//! emulator (HubSpot's default limit of 100 requests per 10 s), 1% of the rows changed between
//! runs. Prints one JSON object: time and requests of the first run, of the incremental run,
//! and of a full re-read (`--full`).
//!
//! `cargo run -p sync --example measure --profile bench-lite [-- ROWS]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use emulator::Emulator;
use futures::TryStreamExt;
use source_core::{DataSource, ScanRequest, Value};
use sync::{Destination, Options, Run};

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args().nth(1).map_or(Ok(100_000), |a| a.parse())?;
    let emu = Emulator::builder().hubdb_rows(rows).start().await?;
    let hs = emu.hubspot();
    let cs = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}",
        hs.info().private_app_token,
        hs.base_url()
    );
    let connection = sources::find("hubdb")?.configure(&cs.parse()?)?;
    let source = connection.open_for_sql()?;
    let dir = tempfile::tempdir()?;
    let to = Destination::Parquet(dir.path().join("w"));
    let state = dir.path().join("state.json");
    let mut run = Run::open(to.clone(), state.clone(), Options::default())?;
    let first = run
        .table("hubdb", None, source.as_ref(), "events", &mut |_| {})
        .await?;
    eprintln!("first:       {first}");

    change_one_percent(&connection, source.as_ref(), rows).await?;
    let mut run = Run::open(to.clone(), state.clone(), Options::default())?;
    let incremental = run
        .table("hubdb", None, source.as_ref(), "events", &mut |_| {})
        .await?;
    eprintln!("incremental: {incremental}");

    let full_options = Options {
        full: true,
        ..Options::default()
    };
    let mut run = Run::open(to, state, full_options)?;
    let full = run
        .table("hubdb", None, source.as_ref(), "events", &mut |_| {})
        .await?;
    eprintln!("full:        {full}");
    let json = |s: &sync::TableSummary| {
        serde_json::json!({
            "read": s.stats.read, "new": s.stats.new, "changed": s.stats.changed,
            "deleted": s.stats.deleted, "requests": s.stats.requests,
            "seconds": (s.stats.seconds * 100.0).round() / 100.0,
            "floor_seconds": s.stats.floor_seconds,
        })
    };
    println!(
        "{}",
        serde_json::json!({"rows": rows, "first": json(&first), "incremental": json(&incremental), "full_reread": json(&full)})
    );
    emu.shutdown().await;
    Ok(())
}

/// Updates every 100th row's `attendees` in the draft (100 rows per call) and publishes.
async fn change_one_percent(
    connection: &source_plugin::Connection,
    source: &dyn DataSource,
    rows: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let ids: Vec<i64> = source
        .scan("events", ScanRequest::all().project(["Id"]))
        .await?
        .try_collect::<Vec<_>>()
        .await?
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("Id is Int64")
                .values()
                .to_vec()
        })
        .step_by(100)
        .collect();
    assert_eq!(ids.len() as u64, rows / 100);
    let schema = Arc::new(Schema::new(vec![
        Field::new("Id", DataType::Int64, false),
        Field::new("attendees", DataType::Float64, true),
    ]));
    for chunk in ids.chunks(100) {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(chunk.to_vec())),
                Arc::new(Float64Array::from(vec![1.0; chunk.len()])),
            ],
        )?;
        source
            .update("events_Draft", batch)
            .await?
            .into_result("events_Draft")?;
    }
    connection
        .procedures()?
        .execute(
            "PublishTable",
            vec![("TableName".into(), Value::Str("events".into()))],
        )
        .await?;
    Ok(())
}
