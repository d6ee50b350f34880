//! The static views: pushdown through the request log, required filters, pseudo columns.

use source_core::{DataSource, Filter, Op, ScanRequest, Value};

use crate::common::{builder, column, read, rows, scan_error, source, texts};

#[tokio::test]
async fn messages_push_type_and_read_every_type_without_it() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let all = read(&s, "Messages", ScanRequest::all()).await;
    assert_eq!(rows(&all), 17);
    let log = emu.acton().requests_to("/api/1/message");
    let mut types: Vec<String> = log.iter().filter_map(|r| r.param("type")).collect();
    types.sort();
    assert_eq!(
        types,
        [
            "DRAFT",
            "FAILED",
            "SCHEDULED",
            "SENT",
            "TEMPLATE",
            "TRIGGERED"
        ]
    );
    assert!(
        log.iter()
            .all(|r| r.has_param("count", "1000") && r.has_param("offset", "0"))
    );

    emu.acton().clear_requests();
    let sent = read(
        &s,
        "Messages",
        ScanRequest::all().filter(Filter::new("Type", Op::Eq, "SENT")),
    )
    .await;
    assert_eq!(rows(&sent), 6);
    assert!(texts(&sent, "Type").iter().all(|t| t == "SENT"));
    assert!(texts(&sent, "Id").iter().all(|id| id.starts_with("s-")));
    assert!(
        column(&sent, "Timestamp")
            .iter()
            .all(|t| matches!(t, Value::TimestampMs(_)))
    );
    assert!(
        column(&sent, "IsTextOnly")
            .iter()
            .all(|t| *t == Value::Bool(false))
    );
    let log = emu.acton().requests_to("/api/1/message");
    assert_eq!(log.len(), 1);
    assert!(log[0].has_param("type", "SENT"));

    emu.acton().clear_requests();
    let two = Filter::in_list("Type", vec!["DRAFT".into(), "TEMPLATE".into()]);
    let batches = read(
        &s,
        "Messages",
        ScanRequest::all().filter(two).project(["Id", "Type"]),
    )
    .await;
    assert_eq!(rows(&batches), 6);
    assert_eq!(batches[0].num_columns(), 2);
    assert_eq!(emu.acton().requests_to("/api/1/message").len(), 2);

    let err = scan_error(
        &s,
        "Messages",
        ScanRequest::all().filter(Filter::new("Type", Op::Eq, "sent")),
    )
    .await;
    let text = err.to_string();
    assert!(text.contains("'sent' is not a valid `Type`"), "{text}");
    assert!(
        text.contains("SENT, DRAFT, TEMPLATE, TRIGGERED, FAILED, SCHEDULED"),
        "{text}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn images_and_media_push_folder_name_and_filter_ids() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let all = read(&s, "Images", ScanRequest::all()).await;
    assert_eq!(rows(&all), 14);
    assert_eq!(column(&all, "Size")[0], Value::Int(20_000));
    assert_eq!(texts(&all, "Width")[0], "600");
    assert!(texts(&all, "ImageUrl")[0].starts_with("https://"));

    emu.acton().clear_requests();
    let banners = read(
        &s,
        "Images",
        ScanRequest::all().filter(Filter::new("FolderName", Op::Eq, "Banners")),
    )
    .await;
    assert!(rows(&banners) > 0);
    assert!(texts(&banners, "FolderName").iter().all(|f| f == "Banners"));
    let log = emu.acton().requests_to("/api/1/image");
    assert_eq!(log.len(), 1);
    assert!(log[0].has_param("folderName", "Banners"));

    emu.acton().clear_requests();
    let both = Filter::in_list("FolderName", vec!["Banners".into(), "Logos".into()]);
    let batches = read(&s, "Media", ScanRequest::all().filter(both)).await;
    let folders = texts(&batches, "FolderName");
    assert!(folders.iter().all(|f| f == "Banners" || f == "Logos") && !folders.is_empty());
    let log = emu.acton().requests_to("/api/1/media");
    let mut asked: Vec<String> = log.iter().filter_map(|r| r.param("folderName")).collect();
    asked.sort();
    assert_eq!(asked, ["Banners", "Logos"]);

    let one = read(
        &s,
        "Images",
        ScanRequest::all().filter(Filter::new("Id", Op::Eq, "img-0002")),
    )
    .await;
    assert_eq!(texts(&one, "Id"), ["img-0002"]);
    emu.shutdown().await;
}

#[tokio::test]
async fn programs_push_type() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let all = read(&s, "Programs", ScanRequest::all()).await;
    assert_eq!(rows(&all), 4);
    assert_eq!(emu.acton().requests_to("/api/1/program").len(), 3);
    emu.acton().clear_requests();
    let track = read(
        &s,
        "Programs",
        ScanRequest::all().filter(Filter::new("Type", Op::Eq, "TRACK")),
    )
    .await;
    assert_eq!(texts(&track, "Id"), ["tr-0001", "tr-0002"]);
    assert_eq!(texts(&track, "SrcIds")[0], "l-0001");
    assert_eq!(column(&track, "Running")[0], Value::Bool(true));
    assert!(matches!(
        column(&track, "Created")[0],
        Value::TimestampMs(_)
    ));
    let log = emu.acton().requests_to("/api/1/program");
    assert_eq!(log.len(), 1);
    assert!(log[0].has_param("type", "TRACK"));
    emu.shutdown().await;
}

#[tokio::test]
async fn users_account_and_suppression_lists() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "Pagesize=10");
    let users = read(&s, "Users", ScanRequest::all()).await;
    assert_eq!(texts(&users, "Email").len(), 3);
    assert_eq!(texts(&users, "Id")[0], "1001");
    let account = read(&s, "Account", ScanRequest::all()).await;
    assert_eq!(
        column(&account, "AccountId"),
        [Value::Int(i64::try_from(emu.acton().account_id()).unwrap())]
    );
    assert_eq!(column(&account, "IsAdmin"), [Value::Bool(true)]);

    for (view, path, total, pages) in [
        ("Hardbounce", "/api/1/list/hardbounce", 37, 4),
        ("Spamcomplaint", "/api/1/list/spamcomplaint", 6, 1),
        ("SubscriptionOptOuts", "/api/1/list/optout", 23, 3),
    ] {
        emu.acton().clear_requests();
        let batches = read(&s, view, ScanRequest::all()).await;
        assert_eq!(rows(&batches), total, "{view}");
        assert!(texts(&batches, "Email").iter().all(|e| e.contains('@')));
        assert!(
            column(&batches, "Date")
                .iter()
                .all(|d| matches!(d, Value::TimestampMs(_)))
        );
        assert!(texts(&batches, "Reason").iter().all(|r| !r.is_empty()));
        assert_eq!(emu.acton().requests_to(path).len(), pages, "{view}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn reports_require_a_message_id_and_never_scan_without_it() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let err = scan_error(&s, "Reports", ScanRequest::all()).await;
    let text = err.to_string();
    assert!(
        text.contains("`Reports` requires a filter on `MessageId`"),
        "{text}"
    );
    assert!(text.contains("SENT or TRIGGERED"), "{text}");
    let err = scan_error(&s, "DrilldownReports", ScanRequest::all()).await;
    assert!(err.to_string().contains("`MessageId`"), "{err}");
    let err = scan_error(&s, "ReportsByPeriod", ScanRequest::all()).await;
    assert!(
        err.to_string().contains("requires a filter on `Period`"),
        "{err}"
    );
    assert!(err.to_string().contains("YYMM"), "{err}");
    assert!(
        emu.acton().requests().is_empty(),
        "no request without the required filter"
    );

    let sent = read(
        &s,
        "Messages",
        ScanRequest::all().filter(Filter::new("Type", Op::Eq, "SENT")),
    )
    .await;
    let ids = texts(&sent, "Id");
    let (a, b) = (ids[0].clone(), ids[1].clone());
    emu.acton().clear_requests();
    let report = read(
        &s,
        "Reports",
        ScanRequest::all().filter(Filter::in_list(
            "MessageId",
            vec![a.clone().into(), b.clone().into()],
        )),
    )
    .await;
    assert_eq!(texts(&report, "MessageId"), [a.clone(), b.clone()]);
    assert!(matches!(column(&report, "Sent")[0], Value::Int(n) if n > 0));
    assert!(matches!(column(&report, "OpenedUnique")[0], Value::Int(_)));
    assert_eq!(texts(&report, "SentTo")[0], "l-0001");
    let paths: Vec<String> = emu
        .acton()
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths,
        [
            format!("/api/1/message/{a}/report"),
            format!("/api/1/message/{b}/report")
        ]
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn drilldown_reports_need_both_filters_and_page_to_the_end() {
    let emu = builder().acton_records(2500).start().await.unwrap();
    let s = source(&emu, "Pagesize=100");
    let sent = read(
        &s,
        "Messages",
        ScanRequest::all().filter(Filter::new("Type", Op::Eq, "SENT")),
    )
    .await;
    let id = texts(&sent, "Id")[0].clone();
    let only_id = ScanRequest::all().filter(Filter::new("MessageId", Op::Eq, id.clone()));
    let err = scan_error(&s, "DrilldownReports", only_id.clone()).await;
    let text = err.to_string();
    assert!(
        text.contains("requires a filter on `DrilldownType`"),
        "{text}"
    );
    assert!(
        text.contains("SENT, SUPPRESSED, OPENED, CLICKED, BOUNCED, OPT_OUT, SPAM"),
        "{text}"
    );
    let bad = only_id
        .clone()
        .filter(Filter::new("DrilldownType", Op::Eq, "OPENS"));
    assert!(
        scan_error(&s, "DrilldownReports", bad)
            .await
            .to_string()
            .contains("'OPENS' is not a valid")
    );

    emu.acton().clear_requests();
    let opened = read(
        &s,
        "DrilldownReports",
        only_id.filter(Filter::new("DrilldownType", Op::Eq, "OPENED")),
    )
    .await;
    let n = rows(&opened);
    assert!(n > 100, "more than one page: {n}");
    assert!(
        texts(&opened, "DrilldownType")
            .iter()
            .all(|t| t == "OPENED")
    );
    assert!(texts(&opened, "MessageId").iter().all(|t| *t == id));
    assert!(
        texts(&opened, "RecordId")
            .iter()
            .all(|r| r.starts_with("l-0001:"))
    );
    let log = emu
        .acton()
        .requests_to(&format!("/api/1/message/{id}/report/OPENED"));
    assert_eq!(log.len(), n.div_ceil(100));
    let mut offsets: Vec<usize> = log
        .iter()
        .filter_map(|r| r.param("offset")?.parse().ok())
        .collect();
    offsets.sort_unstable();
    assert_eq!(offsets, (0..log.len()).map(|i| i * 100).collect::<Vec<_>>());
    emu.shutdown().await;
}

#[tokio::test]
async fn reports_by_period_push_the_month() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let feb = read(
        &s,
        "ReportsByPeriod",
        ScanRequest::all().filter(Filter::new("Period", Op::Eq, "2402")),
    )
    .await;
    assert_eq!(rows(&feb), 29);
    assert!(texts(&feb, "Month").iter().all(|m| m == "February 2024"));
    assert!(texts(&feb, "Period").iter().all(|p| p == "2402"));
    assert_eq!(column(&feb, "DayOfMonth")[28], Value::Int(29));
    let log = emu.acton().requests_to("/api/1/message/report");
    assert_eq!(log.len(), 1);
    assert!(log[0].has_param("period", "2402"));
    let err = scan_error(
        &s,
        "ReportsByPeriod",
        ScanRequest::all().filter(Filter::new("Period", Op::Eq, "2024-02")),
    )
    .await;
    assert!(
        err.to_string()
            .contains("'2024-02' is not a valid `Period`"),
        "{err}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn contact_list_reads_every_listing_type_and_names_the_views() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let all = read(&s, "ContactList", ScanRequest::all()).await;
    assert_eq!(rows(&all), 5);
    let mut types: Vec<String> = emu
        .acton()
        .requests_to("/api/1/list")
        .iter()
        .filter(|r| r.path == "/api/1/list")
        .filter_map(|r| r.param("listingtype"))
        .collect();
    types.sort();
    types.dedup();
    assert_eq!(
        types,
        [
            "CONTACT_LIST",
            "EXTERNAL_LIST",
            "SEED_LIST",
            "SEGMENT_LIST",
            "SUPPRESSION_LIST"
        ]
    );
    emu.acton().clear_requests();
    let contacts = read(
        &s,
        "ContactList",
        ScanRequest::all().filter(Filter::new("ListingType", Op::Eq, "CONTACT_LIST")),
    )
    .await;
    assert_eq!(texts(&contacts, "Id"), ["l-0001", "l-0002", "l-0003"]);
    assert_eq!(
        texts(&contacts, "ViewName"),
        [
            "List_Customers",
            "List_Newsletter_Subscribers",
            "List_Trade_Show_Leads_2024"
        ]
    );
    assert_eq!(column(&contacts, "Size")[0], Value::Int(10));
    emu.shutdown().await;
}

#[tokio::test]
async fn filters_the_view_cannot_apply_are_refused() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let messages = s.table("Messages").await.unwrap();
    assert_eq!(
        s.filter_support(&messages, &Filter::new("Title", Op::Eq, "x")),
        source_core::FilterSupport::Unsupported
    );
    assert_eq!(
        s.filter_support(&messages, &Filter::new("Type", Op::Eq, "SENT")),
        source_core::FilterSupport::Exact
    );
    let err = scan_error(
        &s,
        "Messages",
        ScanRequest::all().filter(Filter::new("Title", Op::Eq, "x")),
    )
    .await;
    assert!(
        matches!(err, source_core::Error::UnsupportedFilter { .. }),
        "{err}"
    );
    emu.shutdown().await;
}
