//! Paging: both styles to the end, page-size capping, limits, a 50,000-row table.

use source_core::{DataSource, ScanRequest};
use source_hubdb::{HubDbOptions, PagingMode};

use crate::common::{self, builder, ids, read, rows, source, source_with};

#[tokio::test]
async fn random_access_pages_are_fetched_concurrently_and_emitted_in_order() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "Pagesize=300");
    s.table("events").await.unwrap();
    emu.hubspot().clear_requests();
    let batches = read(&s, "events", ScanRequest::all()).await;
    assert_eq!(batches.len(), 9, "one batch per page");
    assert!(batches.iter().all(|b| b.num_rows() <= 300));
    let got = ids(&batches);
    assert_eq!(got.len(), 2500);
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "pages emitted in order"
    );
    let log = emu.hubspot().requests_to(&common::tables_prefix());
    let mut offsets: Vec<u64> = log
        .iter()
        .filter_map(|r| r.param("offset")?.parse().ok())
        .collect();
    offsets.sort_unstable();
    assert_eq!(offsets, (0..9).map(|i| i * 300).collect::<Vec<u64>>());
    assert!(log.iter().all(|r| {
        r.param("limit")
            .as_deref()
            .is_some_and(|l| l == "300" || l == "100")
    }));
    emu.shutdown().await;
}

#[tokio::test]
async fn streaming_cursors_are_followed_to_the_end() {
    let emu = builder().start().await.unwrap();
    let options = HubDbOptions {
        paging: PagingMode::Cursor,
        ..HubDbOptions::default()
    };
    let s = source_with(&emu, "Pagesize=700", options);
    s.table("events_Draft").await.unwrap();
    emu.hubspot().clear_requests();
    let batches = read(&s, "events_Draft", ScanRequest::all().project(["Id"])).await;
    assert_eq!(
        batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
        vec![700, 700, 700, 400]
    );
    let got = ids(&batches);
    assert_eq!(got.len(), 2500);
    assert!(got.windows(2).all(|w| w[0] < w[1]));
    let log = emu.hubspot().requests_to(&common::tables_prefix());
    assert_eq!(log.len(), 4);
    assert!(
        log.iter()
            .all(|r| r.path.ends_with("/rows/draft") && r.param("offset").is_none())
    );
    assert_eq!(log.iter().filter(|r| r.param("after").is_some()).count(), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn pagesize_is_capped_and_max_rows_caps_scans() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "Pagesize=5000");
    assert_eq!(s.page_size(), 1000);
    s.table("events").await.unwrap();
    emu.hubspot().clear_requests();
    assert_eq!(rows(&read(&s, "events", ScanRequest::all()).await), 2500);
    let log = emu.hubspot().requests_to(&common::tables_prefix());
    assert_eq!(log[0].param("limit").as_deref(), Some("1000"));
    assert!(log.iter().all(|r| {
        r.param("limit")
            .and_then(|l| l.parse::<u32>().ok())
            .is_some_and(|l| l <= 1000)
    }));

    let capped = source(&emu, "MaxRows=42");
    let batches = read(&capped, "events", ScanRequest::all().limit(100)).await;
    assert_eq!(rows(&batches), 42);
    let batches = read(&capped, "events", ScanRequest::all().limit(7)).await;
    assert_eq!(rows(&batches), 7);
    let none = read(&capped, "events", ScanRequest::all().limit(0)).await;
    assert!(none.is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn a_50000_row_table_is_read_completely_one_page_at_a_time() {
    let emu = builder().hubdb_rows(50_000).start().await.unwrap();
    let s = source(&emu, "");
    let mut stream = s.scan("events", ScanRequest::all()).await.unwrap();
    let (mut count, mut batches, mut last) = (0usize, 0usize, 0i64);
    while let Some(batch) = futures::StreamExt::next(&mut stream).await {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= 1000);
        let page_ids = ids(std::slice::from_ref(&batch));
        assert!(
            page_ids.iter().all(|id| *id > last),
            "in order, no duplicates"
        );
        last = *page_ids.last().unwrap();
        count += batch.num_rows();
        batches += 1;
        // Each batch is dropped here: the consumer never holds more than one page.
    }
    assert_eq!(count, 50_000);
    assert_eq!(batches, 50);
    emu.shutdown().await;
}
