//! Reads a 100,000-record Act-On list from the emulator at Act-On's 5 requests per second
//! with 100 ms of latency and compares the time with the floor the limit allows.
//!
//! ```sh
//! cargo run --release -p source-acton --example bench_list [-- --quick]
//! ```
//! Prints one JSON object on stdout (`rows`, `pages`, `seconds`, `floor_seconds`, `ratio`,
//! `requests`, `rate_limited`, ...) and a summary on stderr. `--quick` reads 10,000 records.
//! The full run fails when the scan takes more than 1.2× the floor or meets a 429.
//!
//! The floor is `pages / 5` seconds: 100 pages of 1,000 records at 5 requests per second.
//! `seconds` times the scan from the `scan` call to the last batch; the discovery requests
//! made before it (the list of lists and the list's headers) are timed separately but still
//! share the pacer's window with the scan.

use std::time::{Duration, Instant};

use emulator::{ActOnToken, EmulatorBuilder};
use futures::StreamExt;
use source_acton::{ActOnOptions, ActOnSource};
use source_core::{DataSource, ScanRequest};

const RATE: u32 = 5;
const LATENCY: Duration = Duration::from_millis(100);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let records: u64 = if quick { 10_000 } else { 100_000 };
    let emu = EmulatorBuilder::new()
        .acton_records(records)
        .acton_rate_limit(RATE)
        .latency(LATENCY)
        .acton_token(ActOnToken {
            access_token: Some("bench-token".into()),
            refresh_token: None,
            expires_in_s: 86_400,
        })
        .start()
        .await?;
    let text = format!(
        "InitiateOAuth=OFF;OAuthAccessToken=bench-token;APIBaseURL={}",
        emu.acton().base_url()
    );
    let config = source_acton::validate(&text.parse()?)?;
    let source = ActOnSource::connect_with(
        &config,
        source_acton::token_provider(&config)?,
        ActOnOptions {
            requests_per_second: RATE,
            ..ActOnOptions::default()
        },
    )?;

    let started = Instant::now();
    source.table("List_Customers").await?;
    let discovery = started.elapsed();

    let scan_started = Instant::now();
    let mut stream = source.scan("List_Customers", ScanRequest::all()).await?;
    let (mut rows, mut batches) = (0usize, 0usize);
    while let Some(batch) = stream.next().await {
        rows += batch?.num_rows();
        batches += 1;
    }
    let seconds = scan_started.elapsed().as_secs_f64();

    let stats = emu.acton().stats();
    let pages = emu
        .acton()
        .requests_to("/api/1/list/l-0001")
        .iter()
        .filter(|r| !r.has_param("count", "1"))
        .count();
    let floor = pages as f64 / f64::from(RATE);
    let ratio = seconds / floor;
    let report = serde_json::json!({
        "bench": "source-acton/bench_list",
        "records": records,
        "rows": rows,
        "batches": batches,
        "pages": pages,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "floor_seconds": floor,
        "ratio": (ratio * 1000.0).round() / 1000.0,
        "discovery_seconds": (discovery.as_secs_f64() * 1000.0).round() / 1000.0,
        "requests": stats.api_requests,
        "rate_limited": stats.rate_limited,
        "rate_limit_per_second": RATE,
        "latency_ms": LATENCY.as_millis() as u64,
    });
    println!("{report}");
    eprintln!(
        "source-acton bench_list: {rows} rows in {pages} pages, {seconds:.2}s (floor {floor:.1}s, ratio {ratio:.3}), {} requests, {} rate limited",
        stats.api_requests, stats.rate_limited
    );
    emu.shutdown().await;
    if rows as u64 != records {
        return Err(format!("read {rows} rows of {records}").into());
    }
    if !quick && (ratio > 1.2 || stats.rate_limited > 0) {
        return Err(format!(
            "too slow or rate limited: ratio {ratio:.3} (max 1.2), {} × 429",
            stats.rate_limited
        )
        .into());
    }
    Ok(())
}
