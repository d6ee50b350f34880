//! `List_<Name>` views: paging to the end, projection, date pushdown, limits, bounded
//! look-ahead and a 100,000-record list.

use std::time::Duration;

use futures::StreamExt;
use source_acton::ActOnOptions;
use source_core::{DataSource, Filter, FilterSupport, Op, ScanRequest, Value};

use crate::common::{builder, column, email_index, read, rows, source, source_with, texts};

fn list_requests(emu: &emulator::Emulator) -> Vec<emulator::RequestRecord> {
    // Page reads, not the one-record header read.
    emu.acton()
        .requests_to("/api/1/list/l-0001")
        .into_iter()
        .filter(|r| !r.has_param("count", "1"))
        .collect()
}

#[tokio::test]
async fn pages_are_fetched_concurrently_and_emitted_in_order() {
    let emu = builder().acton_records(2500).start().await.unwrap();
    let s = source(&emu, "Pagesize=300");
    s.table("List_Customers").await.unwrap();
    emu.acton().clear_requests();
    let batches = read(&s, "List_Customers", ScanRequest::all()).await;
    assert_eq!(batches.len(), 9, "one batch per page");
    assert_eq!(rows(&batches), 2500);
    let idx: Vec<u64> = texts(&batches, "E-mail Address")
        .iter()
        .map(|e| email_index(e))
        .collect();
    assert_eq!(
        idx,
        (0..2500).collect::<Vec<u64>>(),
        "every record once, in order"
    );
    let log = list_requests(&emu);
    let mut offsets: Vec<u64> = log
        .iter()
        .filter_map(|r| r.param("offset")?.parse().ok())
        .collect();
    offsets.sort_unstable();
    assert_eq!(offsets, (0..9).map(|i| i * 300).collect::<Vec<u64>>());
    assert!(
        log.iter()
            .all(|r| r.has_param("count", "300") || r.has_param("count", "100"))
    );
    // No projection: every field and the date qualifiers, no `fields`.
    assert!(
        log.iter()
            .all(|r| r.param("fields").is_none() && r.has_param("datequalifiers", "true"))
    );
    assert!(
        column(&batches, "__created_date")
            .iter()
            .all(|v| matches!(v, Value::TimestampMs(_)))
    );
    // Empty cells read as NULL.
    assert!(column(&batches, "Job Title").contains(&Value::Null));
    emu.shutdown().await;
}

#[tokio::test]
async fn projection_becomes_fields_and_dates_are_asked_only_when_projected() {
    let emu = builder().acton_records(50).start().await.unwrap();
    let s = source(&emu, "");
    s.table("List_Customers").await.unwrap();
    emu.acton().clear_requests();
    let batches = read(
        &s,
        "List_Customers",
        ScanRequest::all().project(["Company", "E-mail Address"]),
    )
    .await;
    assert_eq!(batches[0].num_columns(), 2);
    assert_eq!(batches[0].schema().field(0).name(), "Company");
    assert!(texts(&batches, "E-mail Address")[0].contains('@'));
    let log = list_requests(&emu);
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].param("fields").as_deref(),
        Some("Company;E-mail Address")
    );
    assert!(log[0].param("datequalifiers").is_none());

    emu.acton().clear_requests();
    let dates = read(
        &s,
        "List_Customers",
        ScanRequest::all().project(["__modified_date"]),
    )
    .await;
    assert_eq!(rows(&dates), 50);
    let log = list_requests(&emu);
    assert!(log[0].has_param("datequalifiers", "true"));
    // `fields` cannot be combined with `datequalifiers` (D2): the whole record is read.
    assert_eq!(log[0].param("fields"), None);

    let counts = read(
        &s,
        "List_Customers",
        ScanRequest::all().project(Vec::<String>::new()),
    )
    .await;
    assert_eq!(rows(&counts), 50);
    assert_eq!(counts[0].num_columns(), 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn date_filters_become_modafter_modbefore_and_keep_every_matching_row() {
    let emu = builder().acton_records(3000).start().await.unwrap();
    let s = source(&emu, "");
    let table = s.table("List_Customers").await.unwrap();
    let all = read(
        &s,
        "List_Customers",
        ScanRequest::all().project(["E-mail Address", "__created_date", "__modified_date"]),
    )
    .await;
    let modified: Vec<i64> = column(&all, "__modified_date")
        .into_iter()
        .map(|v| match v {
            Value::TimestampMs(t) => t,
            other => panic!("{other:?}"),
        })
        .collect();
    let mut sorted = modified.clone();
    sorted.sort_unstable();
    let (lo, hi) = (sorted[500], sorted[2000]);
    let expected = modified.iter().filter(|m| **m >= lo && **m < hi).count();

    let ge = Filter::new("__modified_date", Op::Ge, Value::TimestampMs(lo));
    let lt = Filter::new("__modified_date", Op::Lt, Value::TimestampMs(hi));
    assert_eq!(s.filter_support(&table, &ge), FilterSupport::Loose);
    assert_eq!(
        s.filter_support(&table, &Filter::new("City", Op::Eq, "Berlin")),
        FilterSupport::Unsupported
    );
    emu.acton().clear_requests();
    let got = read(
        &s,
        "List_Customers",
        ScanRequest::all()
            .filter(ge)
            .filter(lt)
            .project(["__modified_date"]),
    )
    .await;
    assert_eq!(rows(&got), expected);
    let log = list_requests(&emu);
    assert!(
        log.iter()
            .all(|r| r.param("modafter") == Some((lo - 1).to_string())
                && r.param("modbefore") == Some(hi.to_string())),
        "{log:?}"
    );

    let created_cut = 1_704_067_200_000i64 + 1_200_000 * 100;
    emu.acton().clear_requests();
    let newer = read(
        &s,
        "List_Customers",
        ScanRequest::all().filter(Filter::new(
            "__created_date",
            Op::Gt,
            Value::TimestampMs(created_cut),
        )),
    )
    .await;
    assert!(
        column(&newer, "__created_date")
            .iter()
            .all(|v| matches!(v, Value::TimestampMs(t) if *t > created_cut))
    );
    assert!(rows(&newer) > 2800 && rows(&newer) < 3000);
    assert!(
        list_requests(&emu)
            .iter()
            .all(|r| r.param("createdafter") == Some(created_cut.to_string()))
    );

    // Contradictory bounds: nothing to read, no request.
    emu.acton().clear_requests();
    let none = read(
        &s,
        "List_Customers",
        ScanRequest::all()
            .filter(Filter::new(
                "__created_date",
                Op::Gt,
                Value::TimestampMs(10),
            ))
            .filter(Filter::new(
                "__created_date",
                Op::Lt,
                Value::TimestampMs(11),
            )),
    )
    .await;
    assert_eq!(rows(&none), 0);
    assert!(list_requests(&emu).is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn limits_shrink_the_pages_and_max_rows_caps_scans() {
    let emu = builder().acton_records(2500).start().await.unwrap();
    let s = source(&emu, "");
    s.table("List_Customers").await.unwrap();
    emu.acton().clear_requests();
    let batches = read(&s, "List_Customers", ScanRequest::all().limit(1500)).await;
    assert_eq!(rows(&batches), 1500);
    let log = list_requests(&emu);
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .any(|r| r.has_param("offset", "0") && r.has_param("count", "1000"))
    );
    assert!(
        log.iter()
            .any(|r| r.has_param("offset", "1000") && r.has_param("count", "500"))
    );

    let capped = source(&emu, "MaxRows=42;Pagesize=5000");
    assert_eq!(capped.page_size(), 1000);
    assert_eq!(
        rows(&read(&capped, "List_Customers", ScanRequest::all()).await),
        42
    );
    assert_eq!(
        rows(&read(&capped, "Messages", ScanRequest::all().limit(7)).await),
        7
    );
    assert!(
        read(&capped, "List_Customers", ScanRequest::all().limit(0))
            .await
            .is_empty()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn look_ahead_is_bounded_when_the_consumer_is_slow() {
    let emu = builder().acton_records(20_000).start().await.unwrap();
    let options = ActOnOptions {
        concurrency: 3,
        requests_per_second: 0,
    };
    let s = source_with(&emu, "", options);
    s.table("List_Customers").await.unwrap();
    emu.acton().clear_requests();
    let mut stream = s.scan("List_Customers", ScanRequest::all()).await.unwrap();
    let mut consumed = 0;
    while let Some(batch) = stream.next().await {
        consumed += 1;
        assert_eq!(batch.unwrap().num_rows(), 1000);
        tokio::time::sleep(Duration::from_millis(20)).await;
        // The pages asked for never run more than the look-ahead ahead of the consumer.
        let asked = list_requests(&emu).len();
        assert!(
            asked <= consumed + 3,
            "{asked} pages requested after {consumed} consumed"
        );
    }
    assert_eq!(consumed, 20);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_100000_record_list_is_read_completely_one_page_at_a_time() {
    let emu = builder().acton_records(100_000).start().await.unwrap();
    let s = source(&emu, "");
    let mut stream = s
        .scan(
            "List_Customers",
            ScanRequest::all().project(["E-mail Address"]),
        )
        .await
        .unwrap();
    let (mut count, mut batches, mut next) = (0usize, 0usize, 0u64);
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        assert!(batch.num_rows() <= 1000);
        for e in texts(std::slice::from_ref(&batch), "E-mail Address") {
            assert_eq!(email_index(&e), next, "in order, no gaps or duplicates");
            next += 1;
        }
        count += batch.num_rows();
        batches += 1;
        // Each batch is dropped here: the consumer never holds more than one page.
    }
    assert_eq!(count, 100_000);
    assert_eq!(batches, 100);
    assert_eq!(list_requests(&emu).len(), 100);
    emu.shutdown().await;
}

#[tokio::test]
async fn pacing_keeps_under_five_requests_per_second_without_429() {
    let emu = builder()
        .acton_records(2000)
        .acton_rate_limit(5)
        .start()
        .await
        .unwrap();
    let s = source_with(&emu, "Pagesize=100", ActOnOptions::default());
    let started = std::time::Instant::now();
    let batches = read(&s, "List_Customers", ScanRequest::all()).await;
    assert_eq!(rows(&batches), 2000);
    let stats = emu.acton().stats();
    assert_eq!(stats.rate_limited, 0, "no 429");
    // 2 discovery requests + 20 pages = 22 requests: at least 4 s at 5 per second.
    assert_eq!(stats.api_requests, 22);
    assert!(started.elapsed() >= Duration::from_secs(4));
    let mut at: Vec<i64> = emu.acton().requests().iter().map(|r| r.at_ms).collect();
    at.sort_unstable();
    for w in at.windows(6) {
        assert!(w[5] - w[0] >= 1000, "six requests within a second: {w:?}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn connections_to_one_account_share_the_pacer() {
    let emu = builder()
        .acton_records(1000)
        .acton_rate_limit(5)
        .start()
        .await
        .unwrap();
    let a = source_with(&emu, "Pagesize=100", ActOnOptions::default());
    let b = source_with(&emu, "Pagesize=100", ActOnOptions::default());
    assert!(std::sync::Arc::ptr_eq(&a.pacer(), &b.pacer()));
    let (ra, rb) = tokio::join!(
        read(&a, "List_Customers", ScanRequest::all()),
        read(&b, "List_Customers", ScanRequest::all())
    );
    assert_eq!((rows(&ra), rows(&rb)), (1000, 1000));
    assert_eq!(emu.acton().stats().rate_limited, 0, "no 429");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_list_row_count_is_one_paced_one_record_download() {
    let emu = builder().acton_records(2500).start().await.unwrap();
    let s = source(&emu, "");
    s.table("List_Customers").await.unwrap();
    emu.acton().clear_requests();
    let sent = s.pacer().sent();
    assert_eq!(s.row_count("List_Customers").await.unwrap(), Some(2500));
    let log = emu.acton().requests();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str()),
        ("GET", "/api/1/list/l-0001")
    );
    let pairs: Vec<(String, String)> = [("count", "1"), ("offset", "0")]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
    assert_eq!(log[0].query_pairs(), pairs);
    // Through the connection's pacer, like every other request.
    assert_eq!(s.pacer().sent(), sent + 1);

    // The count is the list's now, not the size cached with the list of lists.
    let gone = arrow_array::RecordBatch::try_new(
        std::sync::Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "ContactId",
            arrow_schema::DataType::Utf8,
            false,
        )])),
        vec![std::sync::Arc::new(arrow_array::StringArray::from(vec![
            "l-0001:7",
        ]))],
    )
    .unwrap();
    s.delete("List_Customers", gone)
        .await
        .unwrap()
        .into_result("List_Customers")
        .unwrap();
    assert_eq!(s.row_count("List_Customers").await.unwrap(), Some(2499));

    // Views without a cheap count: unknown, and no request.
    emu.acton().clear_requests();
    for view in ["ContactList", "Messages", "List_Customers_Score"] {
        assert_eq!(s.row_count(view).await.unwrap(), None, "{view}");
    }
    assert_eq!(emu.acton().requests().len(), 0);
    emu.shutdown().await;
}
