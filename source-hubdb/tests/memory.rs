//! Memory stays flat with table size: a 100,000-row scan peaks no higher than a 20,000-row
//! scan (plus slack). Both have well over the 8 pages a scan keeps in flight, so both reach
//! the steady state (with fewer pages the smaller peak depended on timing, and the test on
//! luck). A separate test binary, because it installs a counting global
//! allocator and must not share the process with other tests.
#![allow(unsafe_code)] // GlobalAlloc is an unsafe trait; this only forwards to System.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use source_core::{DataSource, ScanRequest};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to `System` with the same arguments; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak bytes allocated above the level before the scan, and rows read.
async fn scan_peak(rows: u64) -> (usize, u64) {
    let emu = emulator::EmulatorBuilder::new()
        .hubspot_rate_limit(0)
        .hubdb_rows(rows)
        .start()
        .await
        .expect("emulator starts");
    let hs = emu.hubspot();
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}",
        hs.info().private_app_token,
        hs.base_url()
    )
    .parse()
    .expect("connection string");
    let config = source_hubdb::validate(&cs).expect("config");
    let source = source_hubdb::HubDbSource::connect(
        &config,
        source_hubdb::token_provider(&config).expect("tokens"),
    )
    .expect("connect");
    source.table("events").await.expect("table");
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut stream = source
        .scan("events", ScanRequest::all())
        .await
        .expect("scan");
    let mut n = 0u64;
    while let Some(batch) = stream.next().await {
        n += batch.expect("batch").num_rows() as u64;
    }
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    drop(stream);
    emu.shutdown().await;
    (peak, n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_memory_does_not_grow_with_table_size() {
    // The peak of a small scan varies with timing (how many pages are in flight when it is
    // sampled): take the larger of two, so a lucky low one does not fail the comparison.
    let (first, n_small) = scan_peak(20_000).await;
    let (second, _) = scan_peak(20_000).await;
    let small = first.max(second);
    let (large, n_large) = scan_peak(100_000).await;
    assert_eq!((n_small, n_large), (20_000, 100_000));
    eprintln!("peak above baseline: 20,000 rows {small} B, 100,000 rows {large} B");
    // Both scans hold at most `concurrency` pages (client and emulator together); five
    // times the rows must not mean more than a little more memory.
    assert!(
        // Growth with the table would be ~5x here; the slack covers the sampling noise.
        large < small + small / 2 + (4 << 20),
        "20k rows: {small} B, 100k rows: {large} B"
    );
}
