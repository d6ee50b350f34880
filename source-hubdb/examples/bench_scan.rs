//! Full-scan benchmark against the HubSpot emulator at HubSpot's rate limit.
//!
//! `cargo run --release -p source-hubdb --example bench_scan [-- --rows N --pagesize P
//! --latency-ms L --rate R --window-ms W --concurrency C]`
//!
//! Defaults: 50,000 rows, 1,000-row pages, 100 ms latency, 100 requests per 10 s. Prints one
//! JSON line: `rows`, `pages`, `requests` (API calls, discovery included), `seconds`,
//! `floor_seconds` (requests ÷ the sustained rate the limit allows), `ratio`
//! (seconds ÷ floor) and `rate_limited` (429s the server sent). The target is
//! `ratio <= 1.2` with `rate_limited == 0`.

use std::time::{Duration, Instant};

use emulator::EmulatorBuilder;
use futures::StreamExt;
use source_core::{DataSource, ScanRequest};
use source_hubdb::{HubDbOptions, HubDbSource};

fn arg(name: &str, default: u64) -> Result<u64, String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a number")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = arg("--rows", 50_000)?;
    let pagesize = arg("--pagesize", 1000)?;
    let latency = arg("--latency-ms", 100)?;
    let rate = u32::try_from(arg("--rate", 100)?)?;
    let window_ms = arg("--window-ms", 10_000)?;
    let concurrency = usize::try_from(arg(
        "--concurrency",
        source_hubdb::DEFAULT_CONCURRENCY as u64,
    )?)?;

    let emu = EmulatorBuilder::new()
        .hubdb_rows(rows)
        .latency(Duration::from_millis(latency))
        .hubspot_settings(|s| {
            s.rate_limit = rate;
            s.rate_window_ms = window_ms;
        })
        .start()
        .await?;
    let hs = emu.hubspot();
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={};Pagesize={pagesize}",
        hs.info().private_app_token,
        hs.base_url()
    )
    .parse()?;
    let config = source_hubdb::validate(&cs)?;
    let source = HubDbSource::connect_with(
        &config,
        source_hubdb::token_provider(&config)?,
        HubDbOptions {
            concurrency,
            ..HubDbOptions::default()
        },
    )?;

    let started = Instant::now();
    let mut stream = source.scan("events", ScanRequest::all()).await?;
    let (mut scanned, mut pages) = (0u64, 0u64);
    while let Some(batch) = stream.next().await {
        scanned += batch?.num_rows() as u64;
        pages += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = hs.stats();
    let per_second = f64::from(rate) / (window_ms as f64 / 1000.0);
    let floor = stats.api_requests as f64 / per_second;
    println!(
        "{}",
        serde_json::json!({
            "rows": scanned,
            "pages": pages,
            "requests": stats.api_requests,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "floor_seconds": (floor * 1000.0).round() / 1000.0,
            "ratio": ((seconds / floor) * 1000.0).round() / 1000.0,
            "rate_limited": stats.rate_limited,
            "latency_ms": latency,
            "rate_limit": format!("{rate}/{window_ms}ms"),
            "concurrency": concurrency,
        })
    );
    emu.shutdown().await;
    if scanned != rows {
        return Err(format!("scanned {scanned} rows of {rows}").into());
    }
    Ok(())
}
