//! Memory of a list scan does not grow with the list: the peak heap while reading 100,000
//! records is about the same as while reading 10,000 (both fill the look-ahead window).
//!
//! A counting global allocator measures live heap bytes; it is the only unsafe code in the
//! crate's tests (`GlobalAlloc` is an unsafe trait) and only forwards to the system allocator.
#![allow(unsafe_code, clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use emulator::{ActOnToken, EmulatorBuilder};
use futures::StreamExt;
use source_acton::{ActOnOptions, ActOnSource};
use source_core::{DataSource, ScanRequest};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to `System` with the caller's arguments unchanged; the
// counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Reads `limit` records, returning (rows, peak live bytes above the start).
async fn peak_while_reading(source: &ActOnSource, limit: u64) -> (usize, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut stream = source
        .scan("List_Customers", ScanRequest::all().limit(limit))
        .await
        .unwrap();
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        rows += batch.unwrap().num_rows();
    }
    drop(stream);
    (rows, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_memory_does_not_grow_with_the_list() {
    let emu = EmulatorBuilder::new()
        .acton_records(100_000)
        .acton_rate_limit(0)
        .acton_token(ActOnToken {
            access_token: Some("t".into()),
            refresh_token: None,
            expires_in_s: 86_400,
        })
        .start()
        .await
        .unwrap();
    let text = format!(
        "InitiateOAuth=OFF;OAuthAccessToken=t;APIBaseURL={}",
        emu.acton().base_url()
    );
    let config = source_acton::validate(&text.parse().unwrap()).unwrap();
    let tokens = source_acton::token_provider(&config).unwrap();
    let options = ActOnOptions {
        requests_per_second: 0,
        ..ActOnOptions::default()
    };
    let source = ActOnSource::connect_with(&config, tokens, options).unwrap();
    source.table("List_Customers").await.unwrap();
    // Warm up connection pools and lazily allocated statics.
    peak_while_reading(&source, 20_000).await;

    let (small_rows, small) = peak_while_reading(&source, 10_000).await;
    let (big_rows, big) = peak_while_reading(&source, 100_000).await;
    assert_eq!((small_rows, big_rows), (10_000, 100_000));
    eprintln!("peak heap above baseline: 10,000 records {small} B, 100,000 records {big} B");
    // Ten times the records, about the same peak (the emulator in this process adds noise).
    assert!(
        big < small * 3 / 2 + 2_000_000,
        "10k: {small} B, 100k: {big} B"
    );
    // Far below holding the list: 100,000 records of about 150 bytes of text each.
    assert!(big < 10_000_000, "100k: {big} B");
    emu.shutdown().await;
}
