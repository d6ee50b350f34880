//! Token-store benchmarks (wired into `cargo xtask bench`).
//!
//! Run: `cargo run --release -p token-store --example bench [-- --quick]`
//!
//! Measures, in one process, on a settings file in a temp directory:
//! * `plain_read`: `std::fs::read` of the settings file (the baseline);
//! * `open_read_keyfile`: a new store handle (as a new connection has) + load: read the key
//!   file, read, parse, decrypt and deserialize;
//! * `open_read_passphrase`: the same with a passphrase at the default PBKDF2 cost;
//! * `lock_write`: take the cross-process lock, save atomically (temp, fsync, rename,
//!   fsync dir), release;
//! * `lock_read_write`: the refresh critical section: lock, load, save, release.
//!
//! Prints a JSON object on stdout and a table on stderr.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use token_store::{
    DEFAULT_PBKDF2_ITERATIONS, FileStore, KeyConfig, Secret, TokenRecord, TokenStore,
};

struct Result {
    name: &'static str,
    iterations: usize,
    mean_us: f64,
    median_us: f64,
}

fn measure(
    name: &'static str,
    iterations: usize,
    mut f: impl FnMut() -> std::result::Result<(), Box<dyn Error>>,
) -> std::result::Result<Result, Box<dyn Error>> {
    f()?; // warm-up
    let mut samples: Vec<Duration> = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        f()?;
        samples.push(t.elapsed());
    }
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let mean_us = samples.iter().map(|d| us(*d)).sum::<f64>() / iterations as f64;
    let median_us = us(samples[iterations / 2]);
    Ok(Result {
        name,
        iterations,
        mean_us,
        median_us,
    })
}

fn record() -> TokenRecord {
    let mut r = TokenRecord::new("Act-On", "OAuth", Secret::new("a".repeat(400)));
    r.refresh_token = Some(Secret::new("r".repeat(64)));
    r.client_id = Some("bench-client".into());
    r.scope = Some("PRODUCTION".into());
    r.set_expiry(1_700_000_000_000, Some(3600));
    r
}

fn main() -> std::result::Result<(), Box<dyn Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let dir = tempfile::Builder::new()
        .prefix("token-store-bench")
        .tempdir()?;
    let key_file = dir.path().join("keys").join("settings.key");
    let kf_path = dir.path().join("keyfile").join("OAuthSettings.txt");
    let pp_path = dir.path().join("passphrase").join("OAuthSettings.txt");
    let kf_keys = KeyConfig::key_file(&key_file);
    let pp_keys = KeyConfig::passphrase(Secret::new("bench passphrase")).with_key_file(&key_file);

    FileStore::new(&kf_path, kf_keys.clone()).save(&record())?;
    FileStore::new(&pp_path, pp_keys.clone()).save(&record())?;
    let file_len = std::fs::metadata(&kf_path)?.len();

    let mut results = Vec::new();
    results.push(measure("plain_read", 5000 / scale, || {
        black_box(std::fs::read(&kf_path)?);
        Ok(())
    })?);
    results.push(measure("open_read_keyfile", 5000 / scale, || {
        let store = FileStore::new(&kf_path, kf_keys.clone());
        black_box(store.load()?);
        Ok(())
    })?);
    results.push(measure(
        "open_read_passphrase",
        if quick { 3 } else { 10 },
        || {
            let store = FileStore::new(&pp_path, pp_keys.clone());
            black_box(store.load()?);
            Ok(())
        },
    )?);
    let writer = FileStore::new(&kf_path, kf_keys.clone());
    let rec = record();
    results.push(measure("lock_write", 300 / scale, || {
        let _guard = writer.lock(Duration::from_secs(30))?;
        writer.save(&rec)?;
        Ok(())
    })?);
    results.push(measure("lock_read_write", 300 / scale, || {
        let _guard = writer.lock(Duration::from_secs(30))?;
        let r = writer.load()?;
        writer.save(&r)?;
        Ok(())
    })?);

    let baseline = results[0].median_us;
    let mut json = String::from("{\"crate\":\"token-store\",");
    json.push_str(&format!(
        "\"settings_file_bytes\":{file_len},\"pbkdf2_iterations\":{DEFAULT_PBKDF2_ITERATIONS},\"baseline\":\"plain_read\",\"benchmarks\":["
    ));
    eprintln!(
        "{:<22} {:>6} {:>12} {:>12} {:>10} {:>10}",
        "benchmark", "iters", "mean µs", "median µs", "vs base", "ops/s"
    );
    for (i, r) in results.iter().enumerate() {
        let ratio = r.median_us / baseline;
        let ops = 1e6 / r.mean_us;
        if i > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            "{{\"name\":\"{}\",\"iterations\":{},\"mean_us\":{:.2},\"median_us\":{:.2},\"ratio_vs_baseline\":{:.2},\"ops_per_s\":{:.1}}}",
            r.name, r.iterations, r.mean_us, r.median_us, ratio, ops
        ));
        eprintln!(
            "{:<22} {:>6} {:>12.1} {:>12.1} {:>9.1}x {:>10.1}",
            r.name, r.iterations, r.mean_us, r.median_us, ratio, ops
        );
    }
    let keyfile_overhead = results[1].median_us - baseline;
    json.push_str(&format!(
        "],\"keyfile_overhead_us\":{keyfile_overhead:.2}}}"
    ));
    eprintln!(
        "key-file open+decrypt adds {keyfile_overhead:.1} µs over a plain read (target: well under 1000 µs)"
    );
    println!("{json}");
    Ok(())
}
