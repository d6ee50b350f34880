//! Our Rust API in a process of its own, so that the orchestrator measures it exactly like the
//! SDKs (wall time, CPU seconds, peak RSS of the process).
//!
//! `bench-scan SOURCE CONNECTION TABLE [COLUMN>=NUMBER]`
//!
//! Connects through the registered source's defaults (`sources::find`, `configure`, `open`),
//! scans the table (with the filter pushed down when given), counts the rows of every batch
//! and prints one JSON line: `rows`, `batches`, `seconds` (connect to last batch).

use std::time::Instant;

use futures::StreamExt;
use source_core::{Filter, Op, ScanRequest};

/// `column>=number` → a `Ge` filter.
fn parse_filter(text: &str) -> Result<Filter, String> {
    let (column, value) = text
        .split_once(">=")
        .ok_or_else(|| format!("filter {text:?}: expected COLUMN>=NUMBER"))?;
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|e| format!("filter {text:?}: {e}"))?;
    Ok(Filter::new(column.trim(), Op::Ge, value))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [source, connection, table, rest @ ..] = args.as_slice() else {
        return Err("usage: bench-scan SOURCE CONNECTION TABLE [COLUMN>=NUMBER]".into());
    };
    let mut request = ScanRequest::all();
    if let Some(filter) = rest.first() {
        request = request.filter(parse_filter(filter)?);
    }
    let started = Instant::now();
    let cs: connstr::ConnectionString = connection.parse()?;
    let source = sources::find(source)?.configure(&cs)?.open()?;
    let mut stream = source.scan(table, request).await?;
    let (mut rows, mut batches) = (0usize, 0usize);
    while let Some(batch) = stream.next().await {
        rows += batch?.num_rows();
        batches += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "rows": rows,
            "batches": batches,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        })
    );
    Ok(())
}
