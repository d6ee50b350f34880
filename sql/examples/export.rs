//! Export benchmark: `SELECT * FROM events` from the HubSpot emulator through a SQL session,
//! streamed to Parquet or CSV, with the process's peak memory.
//!
//! `cargo run -p sql --example export [--profile bench-lite] -- [--rows N] [--format parquet|csv]
//! [--out DIR]`
//!
//! Defaults: 1,000,000 rows, Parquet, a temporary directory. The emulator runs in-process
//! without latency or rate limit. Prints one JSON line: `rows`, `format`, `bytes`, `seconds`
//! and `peak_rss_mb` (VmHWM from `/proc/self/status`: the whole process, emulator included).
//! Run one format per process so that each peak is its own. The target is
//! `peak_rss_mb < 200`.

use std::io::BufWriter;
use std::time::Instant;

use emulator::EmulatorBuilder;
use sql::{QueryResult, Session};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Peak resident set size in MB, from Linux's VmHWM (0 elsewhere).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| (kb / 1024.0 * 10.0).round() / 10.0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = arg("--rows").map_or(Ok(1_000_000), |v| v.parse())?;
    let format = arg("--format").unwrap_or_else(|| "parquet".into());
    let dir = match arg("--out") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir(),
    };

    let emu = EmulatorBuilder::new()
        .hubdb_rows(rows)
        .hubspot_rate_limit(0)
        .start()
        .await?;
    let hs = emu.hubspot();
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}",
        hs.info().private_app_token,
        hs.base_url()
    )
    .parse()?;
    let connection = sources::find("hubdb")?.configure(&cs)?;
    let mut session = Session::new();
    session.add_connection(&connection).await?;

    let started = Instant::now();
    let QueryResult::Rows(stream) = session.execute("SELECT * FROM events", &[]).await? else {
        return Err("SELECT returned no rows".into());
    };
    let path = dir.join(format!("events-{}.{format}", std::process::id()));
    let file = std::fs::File::create(&path)?;
    let written = match format.as_str() {
        "parquet" => sql::export::write_parquet(stream, BufWriter::new(file)).await?,
        "csv" => {
            let mut out = BufWriter::new(file);
            sql::export::write_csv(stream, &mut out).await?
        }
        other => return Err(format!("unknown format {other}; use parquet or csv").into()),
    };
    let seconds = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path)?.len();
    std::fs::remove_file(&path)?;
    println!(
        "{}",
        serde_json::json!({
            "rows": written,
            "format": format,
            "bytes": bytes,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "peak_rss_mb": peak_rss_mb(),
        })
    );
    emu.shutdown().await;
    if written != rows {
        return Err(format!("exported {written} rows of {rows}").into());
    }
    Ok(())
}
