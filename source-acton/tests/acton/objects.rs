//! The objects added for CData parity: folder arrays, campaigns, categories, opt-outs, score
//! views with their required filter, and UCL segments paged by page number.

use source_core::{DataSource, Filter, Op, ScanRequest, TableKind, Value};

use crate::common::{builder, column, read, rows, scan_error, source, texts};

fn ts(v: &Value) -> i64 {
    match v {
        Value::TimestampMs(t) => *t,
        other => panic!("not a timestamp: {other:?}"),
    }
}

#[tokio::test]
async fn folder_arrays_are_flattened_and_paged_client_side() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "Pagesize=4");
    let pages = read(&s, "LandingPages", ScanRequest::all()).await;
    assert_eq!(rows(&pages), 9);
    // One answer, handed on in pages of `Pagesize` rows.
    assert_eq!(
        pages.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
        [4, 4, 1]
    );
    let log = emu.acton().requests_to("/api/1/page");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].query, None);
    let ids = texts(&pages, "Id");
    assert!(ids.contains(&"p-0001".to_owned()), "{ids:?}");
    let folders = texts(&pages, "FolderName");
    assert_eq!(folders.iter().filter(|f| *f == "Default Folder").count(), 3);
    // `creation_time` is epoch ms as a string.
    let created = column(&pages, "CreationTime");
    assert_eq!(ts(&created[0]), 1_704_067_200_000);

    emu.acton().clear_requests();
    let banners = read(
        &s,
        "LandingPages",
        ScanRequest::all().filter(Filter::new("FolderName", Op::Eq, "Banners")),
    )
    .await;
    assert_eq!(texts(&banners, "FolderName"), ["Banners"; 3]);
    let log = emu.acton().requests_to("/api/1/page");
    assert_eq!(log.len(), 1, "the folder is filtered here, not sent");
    assert_eq!(log[0].param("folderName"), None);

    for (view, path, count) in [
        ("Header", "/api/1/header", 3),
        ("Footer", "/api/1/footer", 3),
    ] {
        emu.acton().clear_requests();
        let all = read(&s, view, ScanRequest::all()).await;
        assert_eq!(rows(&all), count, "{view}");
        assert_eq!(emu.acton().requests_to(path).len(), 1, "{view}");
        let one = read(
            &s,
            view,
            ScanRequest::all().filter(Filter::new("Id", Op::Eq, "2")),
        )
        .await;
        assert_eq!(texts(&one, "Id"), ["2"], "{view}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn images_and_media_read_the_spec_field_names() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let images = read(&s, "Images", ScanRequest::all()).await;
    assert_eq!(rows(&images), 14);
    // `creation_time` a string for images, a number for media: both read.
    assert_eq!(ts(&column(&images, "CreationTime")[0]), 1_704_067_200_000);
    assert_eq!(
        ts(&column(&images, "LastModified")[0]),
        1_704_067_200_000 + 3_600_000
    );
    assert!(texts(&images, "ThumbUrl")[0].contains("/thumbs/"));
    let media = read(&s, "Media", ScanRequest::all()).await;
    assert_eq!(rows(&media), 6);
    assert_eq!(ts(&column(&media, "CreationTime")[0]), 1_704_067_200_000);
    assert_eq!(column(&media, "Size")[0], Value::Int(500_000));
    let log = emu.acton().requests_to("/api/1/media");
    assert!(log.iter().all(|r| r.param("count").is_none()));
    emu.shutdown().await;
}

#[tokio::test]
async fn campaigns_categories_and_optout() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let campaigns = read(&s, "Campaigns", ScanRequest::all()).await;
    assert_eq!(
        texts(&campaigns, "Name"),
        ["Spring Launch", "Webinar Series", "Customer Onboarding"]
    );
    assert_eq!(
        emu.acton().requests_to("/api/1/campaigns").len(),
        1,
        "one request"
    );
    let one = read(
        &s,
        "Campaigns",
        ScanRequest::all().filter(Filter::new("Id", Op::Eq, "cmp-0002")),
    )
    .await;
    assert_eq!(texts(&one, "Status"), ["ACTIVE"]);

    let categories = read(&s, "Categories", ScanRequest::all()).await;
    assert_eq!(rows(&categories), 4);
    assert_eq!(texts(&categories, "Name")[0], "Newsletter");
    assert_eq!(
        emu.acton()
            .requests_to("/api/1/subscription/category")
            .len(),
        1
    );

    let optout = read(&s, "Optout", ScanRequest::all()).await;
    assert_eq!(rows(&optout), 23);
    assert!(texts(&optout, "Email")[0].starts_with("optout0@"));
    emu.shutdown().await;
}

#[tokio::test]
async fn score_views_need_a_contact_id_and_read_one_record_each() {
    let emu = builder().acton_records(50).start().await.unwrap();
    let s = source(&emu, "");
    let info = s.table("List_Customers_Score").await.unwrap();
    assert_eq!(info.kind, TableKind::View);
    assert_eq!(info.required_filters, ["ContactId"]);

    let err = scan_error(&s, "List_Customers_Score", ScanRequest::all()).await;
    assert_eq!(
        err.to_string(),
        "`List_Customers_Score` requires a filter on `ContactId` (`ContactId = ...` or `ContactId IN (...)`); \
         allowed values: a record id, e.g. `ContactId = 'l-0001:12'` or `ContactId IN (...)`; \
         scores are read per record, one request each"
    );
    let err = scan_error(&s, "ScoreDetails", ScanRequest::all()).await;
    assert!(
        err.to_string()
            .starts_with("`ScoreDetails` requires a filter on `ContactId`"),
        "{err}"
    );
    assert!(
        emu.acton()
            .requests()
            .iter()
            .all(|r| !r.path.ends_with("/facts")),
        "no request without the filter"
    );

    // A record of another list is no row of this list's view, and costs no request.
    let ids = Filter::in_list(
        "ContactId",
        vec!["l-0001:3".into(), "l-0001:7".into(), "l-0002:1".into()],
    );
    let scores = read(&s, "List_Customers_Score", ScanRequest::all().filter(ids)).await;
    assert_eq!(texts(&scores, "ContactId"), ["l-0001:3", "l-0001:7"]);
    let facts: Vec<String> = emu
        .acton()
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/facts"))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        facts,
        [
            "/api/1/list/l-0001/record/l-0001:3/facts",
            "/api/1/list/l-0001/record/l-0001:7/facts"
        ]
    );
    let score = column(&scores, "Score")[0].clone();
    assert!(matches!(score, Value::Int(0..=100)), "{score:?}");

    // ScoreDetails: one row per activity, the score on each.
    let details = read(
        &s,
        "ScoreDetails",
        ScanRequest::all().filter(Filter::new("ContactId", Op::Eq, "l-0001:3")),
    )
    .await;
    assert_eq!(texts(&details, "Action"), ["Email Open", "Web Page Visit"]);
    assert_eq!(column(&details, "Score"), [score.clone(), score]);

    let err = scan_error(
        &s,
        "ScoreDetails",
        ScanRequest::all().filter(Filter::new("ContactId", Op::Eq, "12")),
    )
    .await;
    assert!(
        err.to_string()
            .starts_with("`ScoreDetails`: '12' is not a valid `ContactId`"),
        "{err}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn segments_are_views_paged_by_page_number_with_times_in_seconds() {
    let emu = builder().acton_records(1000).start().await.unwrap();
    let s = source(&emu, "Pagesize=100");
    let tables = s.list_tables().await.unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    for expected in [
        "Segment_Engaged_Customers",
        "Segment_Engaged_Customers_Score",
        "Segment_VIP_Accounts",
        "Segment_Win_back__2024_",
        "Segment_Win_back__2024__Score",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    let account = read(&s, "Account", ScanRequest::all()).await;
    let Value::Int(account_id) = column(&account, "AccountId")[0] else {
        panic!("no account id")
    };

    emu.acton().clear_requests();
    let engaged = read(&s, "Segment_Engaged_Customers", ScanRequest::all()).await;
    // Every third of 1,000 customers.
    assert_eq!(rows(&engaged), 334);
    let log = emu.acton().requests_to("/ucl/v2/");
    assert!(
        log.iter()
            .all(|r| r.path == format!("/ucl/v2/{account_id}/segment/g-0001/contacts")),
        "{log:?}"
    );
    let mut pages: Vec<String> = log.iter().filter_map(|r| r.param("page")).collect();
    pages.sort();
    assert_eq!(pages, ["0", "1", "2", "3"]);
    assert!(log.iter().all(|r| r.has_param("pageSize", "100")));
    let ids = texts(&engaged, "Id");
    assert_eq!((ids[0].as_str(), ids[1].as_str()), ("c-000000", "c-000003"));

    // The same person as record 0 of `Customers`; UCL seconds read as the same instant.
    let customers = read(
        &s,
        "List_Customers",
        ScanRequest::all()
            .project(["E-mail Address", "__created_date"])
            .limit(1),
    )
    .await;
    assert_eq!(
        texts(&engaged, "Email")[0],
        texts(&customers, "E-mail Address")[0]
    );
    let created_ms = ts(&column(&customers, "__created_date")[0]);
    assert_eq!(
        ts(&column(&engaged, "CreatedDate")[0]),
        created_ms / 1000 * 1000
    );

    emu.acton().clear_requests();
    let first = read(
        &s,
        "Segment_Engaged_Customers",
        ScanRequest::all().limit(10),
    )
    .await;
    assert_eq!(rows(&first), 10);
    assert_eq!(emu.acton().requests_to("/ucl/v2/").len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_score_of_a_record_that_does_not_exist_is_no_row() {
    let emu = builder().acton_records(50).start().await.unwrap();
    let s = source(&emu, "");
    // l-0001:999 is past the list's 50 records; l-0001:4 exists.
    let ids = Filter::in_list("ContactId", vec!["l-0001:999".into(), "l-0001:4".into()]);
    let scores = read(&s, "List_Customers_Score", ScanRequest::all().filter(ids)).await;
    assert_eq!(texts(&scores, "ContactId"), ["l-0001:4"]);
    let details = read(
        &s,
        "ScoreDetails",
        ScanRequest::all().filter(Filter::new("ContactId", Op::Eq, "l-0001:999")),
    )
    .await;
    assert_eq!(rows(&details), 0);
    // A list that does not exist is still an error, not an empty answer.
    let err = scan_error(
        &s,
        "ScoreDetails",
        ScanRequest::all().filter(Filter::new("ContactId", Op::Eq, "l-0404:1")),
    )
    .await;
    assert!(err.to_string().contains("l-0404"), "{err}");
    emu.shutdown().await;
}

#[tokio::test]
async fn segment_scores_are_read_per_contact() {
    let emu = builder().acton_records(100).start().await.unwrap();
    let s = source(&emu, "");
    let err = scan_error(&s, "Segment_VIP_Accounts_Score", ScanRequest::all()).await;
    assert_eq!(
        err.to_string(),
        "`Segment_VIP_Accounts_Score` requires a filter on `ContactId` (`ContactId = ...` or `ContactId IN (...)`); \
         allowed values: a UCL contact id from `Segment_<Name>`.`Id`, e.g. `ContactId = 'c-000012'`; \
         scores are read per contact, one request each"
    );
    let scores = read(
        &s,
        "segment_vip_accounts_score",
        ScanRequest::all().filter(Filter::new("ContactId", Op::Eq, "c-000005")),
    )
    .await;
    assert_eq!(
        texts(&scores, "ScoreName"),
        ["Act-On Primary Score", "Product Interest"]
    );
    assert_eq!(
        column(&scores, "IsPrimary"),
        [Value::Bool(true), Value::Bool(false)]
    );
    assert_eq!(texts(&scores, "ContactId"), ["c-000005", "c-000005"]);
    // The segment listing (cached since the error above), then one request for the contact.
    let log: Vec<String> = emu
        .acton()
        .requests_to("/ucl/v2/")
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[0].ends_with("/segment/"), "{log:?}");
    assert!(
        log[1].ends_with("/contactReport/id/c-000005/scores"),
        "{log:?}"
    );
    emu.shutdown().await;
}
