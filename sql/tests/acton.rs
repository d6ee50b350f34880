//! SQL over every Act-On view against the emulator: discovery through the system tables, a
//! query on each view, each pushed filter seen in the emulator's request log, the required
//! filters' errors, and paging (count/offset, page numbers, folder arrays).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use emulator::{Emulator, EmulatorBuilder, RequestRecord};
use source_acton::{ActOnOptions, ActOnSource};
use sql::{Session, SessionOptions};

/// An emulator without a rate limit and a session whose Act-On source is unpaced too, so the
/// suite runs at loopback speed (the pacer has its own tests in source-acton).
async fn setup(customers: u64, extra: &str) -> (Emulator, Session) {
    let emu = EmulatorBuilder::new()
        .acton_records(customers)
        .acton_rate_limit(0)
        .start()
        .await
        .unwrap();
    let i = emu.acton().info();
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='{}';\
         OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};\
         OAuthSettingsLocation=memory://sql-acton-{};{extra}",
        i.user, i.password, i.client_id, i.client_secret, i.base_url, i.base_url
    )
    .parse()
    .unwrap();
    let connection = sources::find("acton").unwrap().configure(&cs).unwrap();
    let config = source_acton::validate(&cs).unwrap();
    let tokens = source_acton::token_provider(&config).unwrap();
    let options = ActOnOptions {
        requests_per_second: 0,
        ..ActOnOptions::default()
    };
    let source = ActOnSource::connect_with(&config, tokens, options).unwrap();
    let mut session = Session::new();
    session
        .register_source(
            "acton",
            Arc::new(source),
            SessionOptions::from_connection(&connection),
        )
        .await
        .unwrap();
    emu.acton().clear_requests();
    (emu, session)
}

async fn rows(s: &Session, sql: &str) -> Vec<Vec<String>> {
    let result = s.execute(sql, &[]).await;
    let batches: Vec<RecordBatch> = match result {
        Ok(r) => r.collect().await.unwrap_or_else(|e| panic!("{sql}: {e}")),
        Err(e) => panic!("{sql}: {e}"),
    };
    let mut out = Vec::new();
    for b in &batches {
        let fmts: Vec<ArrayFormatter<'_>> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &FormatOptions::default()).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            out.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out
}

/// The first column of the result.
async fn first(s: &Session, sql: &str) -> Vec<String> {
    rows(s, sql)
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

async fn error(s: &Session, sql: &str) -> String {
    match s.execute(sql, &[]).await {
        Err(e) => e.to_string(),
        Ok(r) => match r.collect().await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{sql} succeeded"),
        },
    }
}

fn log(emu: &Emulator, prefix: &str) -> Vec<RequestRecord> {
    emu.acton().requests_to(prefix)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_object_is_in_the_system_tables() {
    let (_emu, s) = setup(30, "").await;
    let tables = first(
        &s,
        "SELECT TableName FROM sys_tables WHERE SchemaName = 'acton' ORDER BY TableName",
    )
    .await;
    for expected in [
        "Account",
        "Campaigns",
        "Categories",
        "ContactList",
        "DrilldownReports",
        "Footer",
        "Hardbounce",
        "Header",
        "Images",
        "LandingPages",
        "Media",
        "Messages",
        "Optout",
        "Programs",
        "Reports",
        "ReportsByPeriod",
        "ScoreDetails",
        "Spamcomplaint",
        "SubscriptionOptOuts",
        "Users",
        "List_Customers",
        "List_Customers_Score",
        "List_Trade_Show_Leads_2024_Score",
        "Segment_Engaged_Customers",
        "Segment_Engaged_Customers_Score",
        "Segment_VIP_Accounts",
        "Segment_VIP_Accounts_Score",
        "Segment_Win_back__2024_",
    ] {
        assert!(
            tables.contains(&expected.to_owned()),
            "{expected}: {tables:?}"
        );
    }
    let columns = rows(
        &s,
        "SELECT ColumnName, DataTypeName FROM sys_tablecolumns \
         WHERE TableName = 'Segment_VIP_Accounts_Score'",
    )
    .await;
    let names: Vec<&str> = columns.iter().map(|c| c[0].as_str()).collect();
    assert_eq!(names, ["ContactId", "ScoreName", "Score", "IsPrimary"]);
    let landing = first(
        &s,
        "SELECT ColumnName FROM sys_tablecolumns WHERE TableName = 'LandingPages'",
    )
    .await;
    assert_eq!(
        landing,
        [
            "Id",
            "FolderName",
            "Title",
            "Url",
            "CreationTime",
            "LastModified"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_view_answers_a_query() {
    let (_emu, s) = setup(60, "").await;
    let sent = first(&s, "SELECT Id FROM Messages WHERE Type = 'SENT' LIMIT 1").await;
    let sent = &sent[0];
    for (sql, expected) in [
        ("SELECT COUNT(*) FROM Account", 1),
        ("SELECT COUNT(*) FROM Campaigns", 3),
        ("SELECT COUNT(*) FROM Categories", 4),
        ("SELECT COUNT(*) FROM ContactList", 5),
        ("SELECT COUNT(*) FROM Footer", 3),
        ("SELECT COUNT(*) FROM Hardbounce", 37),
        ("SELECT COUNT(*) FROM Header", 3),
        ("SELECT COUNT(*) FROM Images", 14),
        ("SELECT COUNT(*) FROM LandingPages", 9),
        ("SELECT COUNT(*) FROM Media", 6),
        ("SELECT COUNT(*) FROM Messages", 17),
        ("SELECT COUNT(*) FROM Optout", 23),
        ("SELECT COUNT(*) FROM Programs", 4),
        (
            "SELECT COUNT(*) FROM ReportsByPeriod WHERE Period = '2402'",
            29,
        ),
        ("SELECT COUNT(*) FROM Spamcomplaint", 6),
        ("SELECT COUNT(*) FROM SubscriptionOptOuts", 23),
        ("SELECT COUNT(*) FROM Users", 3),
        ("SELECT COUNT(*) FROM List_Customers", 60),
        ("SELECT COUNT(*) FROM Segment_Engaged_Customers", 20),
        ("SELECT COUNT(*) FROM Segment_VIP_Accounts", 5),
        (
            "SELECT COUNT(*) FROM ScoreDetails WHERE ContactId = 'l-0001:4'",
            2,
        ),
        (
            "SELECT COUNT(*) FROM List_Customers_Score \
             WHERE ContactId IN ('l-0001:4', 'l-0001:5', 'l-0001:6', 'l-0001:7')",
            4,
        ),
        (
            "SELECT COUNT(*) FROM Segment_Engaged_Customers_Score WHERE ContactId = 'c-000003'",
            2,
        ),
    ] {
        assert_eq!(first(&s, sql).await, [expected.to_string()], "{sql}");
    }
    let reports = rows(
        &s,
        &format!("SELECT MessageId, Sent FROM Reports WHERE MessageId = '{sent}'"),
    )
    .await;
    assert_eq!(reports.len(), 1);
    assert_eq!(&reports[0][0], sent);
    let opened = first(
        &s,
        &format!(
            "SELECT COUNT(*) FROM DrilldownReports WHERE MessageId = '{sent}' AND DrilldownType = 'OPENED'"
        ),
    )
    .await;
    assert_ne!(opened, ["0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn pushed_filters_are_sent_to_the_api() {
    let (emu, s) = setup(60, "").await;
    let got = first(&s, "SELECT Id FROM Messages WHERE Type = 'DRAFT'").await;
    assert!(got.iter().all(|id| !id.starts_with("s-")), "{got:?}");
    let sent: Vec<Option<String>> = log(&emu, "/api/1/message")
        .iter()
        .map(|r| r.param("type"))
        .collect();
    assert_eq!(sent, [Some("DRAFT".to_owned())]);

    emu.acton().clear_requests();
    first(&s, "SELECT Id FROM Programs WHERE Type = 'EVENT'").await;
    let types: Vec<Option<String>> = log(&emu, "/api/1/program")
        .iter()
        .map(|r| r.param("type"))
        .collect();
    assert_eq!(types, [Some("EVENT".to_owned())]);

    emu.acton().clear_requests();
    let seed = first(
        &s,
        "SELECT Name FROM ContactList WHERE ListingType = 'SEED_LIST'",
    )
    .await;
    assert_eq!(seed, ["QA Seed List"]);
    assert!(
        log(&emu, "/api/1/list")
            .iter()
            .all(|r| r.has_param("listingtype", "SEED_LIST"))
    );

    emu.acton().clear_requests();
    let folders = first(
        &s,
        "SELECT DISTINCT FolderName FROM Images WHERE FolderName IN ('Banners', 'Logos', 'Archive', 'Old') ORDER BY FolderName",
    )
    .await;
    assert_eq!(folders, ["Banners", "Logos"]);
    let mut asked: Vec<String> = log(&emu, "/api/1/image")
        .iter()
        .filter_map(|r| r.param("folderName"))
        .collect();
    asked.sort();
    assert_eq!(asked, ["Archive", "Banners", "Logos", "Old"]);

    // Folder arrays: `Id` and `FolderName` are applied as the one answer arrives.
    emu.acton().clear_requests();
    let page = rows(&s, "SELECT Id, Title FROM LandingPages WHERE Id = 'p-0002'").await;
    assert_eq!(page, [["p-0002", "Landing Page 2"]]);
    assert_eq!(log(&emu, "/api/1/page").len(), 1);

    emu.acton().clear_requests();
    let days = first(
        &s,
        "SELECT COUNT(*) FROM ReportsByPeriod WHERE Period IN ('2401', '2402', '2403', '2404')",
    )
    .await;
    assert_eq!(days, ["121"]);
    let mut periods: Vec<String> = log(&emu, "/api/1/message/report")
        .iter()
        .filter_map(|r| r.param("period"))
        .collect();
    periods.sort();
    assert_eq!(periods, ["2401", "2402", "2403", "2404"]);

    emu.acton().clear_requests();
    let scores = first(
        &s,
        "SELECT ContactId FROM List_Customers_Score WHERE ContactId IN ('l-0001:8', 'l-0001:9', 'l-0001:10', 'l-0002:1') ORDER BY ContactId",
    )
    .await;
    // `l-0002:1` is a record of another list: no row and no request.
    assert_eq!(scores, ["l-0001:10", "l-0001:8", "l-0001:9"]);
    let mut facts: Vec<String> = emu
        .acton()
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.ends_with("/facts"))
        .collect();
    facts.sort();
    assert_eq!(
        facts,
        [
            "/api/1/list/l-0001/record/l-0001:10/facts",
            "/api/1/list/l-0001/record/l-0001:8/facts",
            "/api/1/list/l-0001/record/l-0001:9/facts"
        ]
    );

    emu.acton().clear_requests();
    let primary = first(
        &s,
        "SELECT ScoreName FROM Segment_VIP_Accounts_Score WHERE ContactId = 'c-000016' AND IsPrimary",
    )
    .await;
    assert_eq!(primary, ["Act-On Primary Score"]);
    let ucl: Vec<String> = log(&emu, "/ucl/v2/").into_iter().map(|r| r.path).collect();
    assert!(
        ucl.iter()
            .any(|p| p.ends_with("/contactReport/id/c-000016/scores")),
        "{ucl:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn views_without_their_required_filter_fail_before_any_request() {
    let (emu, s) = setup(30, "").await;
    let err = error(&s, "SELECT * FROM List_Customers_Score").await;
    assert!(
        err.contains(
            "`List_Customers_Score` requires a filter on `ContactId` (`ContactId = ...` or `ContactId IN (...)`); \
             allowed values: a record id, e.g. `ContactId = 'l-0001:12'` or `ContactId IN (...)`; \
             scores are read per record, one request each"
        ),
        "{err}"
    );
    let err = error(&s, "SELECT Score FROM ScoreDetails").await;
    assert!(
        err.contains("`ScoreDetails` requires a filter on `ContactId`"),
        "{err}"
    );
    let err = error(&s, "SELECT * FROM Segment_Engaged_Customers_Score").await;
    assert!(
        err.contains("a UCL contact id from `Segment_<Name>`.`Id`"),
        "{err}"
    );
    let err = error(&s, "SELECT * FROM Reports").await;
    assert!(
        err.contains("`Reports` requires a filter on `MessageId`"),
        "{err}"
    );
    let calls: Vec<String> = emu
        .acton()
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.ends_with("/facts") || p.ends_with("/scores") || p.ends_with("/report"))
        .collect();
    assert!(calls.is_empty(), "{calls:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_segments_and_folder_arrays_page() {
    let (emu, s) = setup(300, "Pagesize=40").await;
    // count/offset: 300 records in pages of 40.
    assert_eq!(
        first(&s, "SELECT COUNT(*) FROM List_Customers").await,
        ["300"]
    );
    let list_log = log(&emu, "/api/1/list/l-0001");
    // The first query of a list reads its headers (one record), then pages.
    let (headers, pages): (Vec<_>, Vec<_>) =
        list_log.iter().partition(|r| r.has_param("count", "1"));
    assert_eq!(headers.len(), 1);
    let mut offsets: Vec<u64> = pages
        .iter()
        .filter_map(|r| r.param("offset")?.parse().ok())
        .collect();
    offsets.sort_unstable();
    assert_eq!(offsets, [0, 40, 80, 120, 160, 200, 240, 280]);

    // Page numbers: every third of 300 customers is 100 contacts, pages 0 to 2 of 40.
    emu.acton().clear_requests();
    let ids = first(&s, "SELECT Id FROM Segment_Engaged_Customers").await;
    assert_eq!(ids.len(), 100);
    assert_eq!(ids[99], "c-000297");
    let contacts = log(&emu, "/ucl/v2/");
    let mut pages: Vec<String> = contacts.iter().filter_map(|r| r.param("page")).collect();
    pages.sort();
    assert_eq!(pages, ["0", "1", "2"]);
    assert!(contacts.iter().all(|r| r.has_param("pageSize", "40")));
    let created = first(
        &s,
        "SELECT CAST(CreatedDate AS VARCHAR) FROM Segment_Engaged_Customers WHERE Id = 'c-000000'",
    )
    .await;
    assert!(created[0].starts_with("2024-01-01T00:"), "{created:?}");

    // A folder array is one request whatever its size.
    emu.acton().clear_requests();
    assert_eq!(first(&s, "SELECT COUNT(*) FROM Images").await, ["14"]);
    assert_eq!(log(&emu, "/api/1/image").len(), 1);
}
