//! Discovery: the static views, one view per contact list, names, columns and errors.

use arrow_schema::DataType;
use emulator::ActOnList;
use source_core::{DataSource, TableKind};

use crate::common::{builder, source};

#[tokio::test]
async fn lists_static_views_and_one_view_per_contact_list() {
    let emu = builder()
        .acton_records(30)
        .acton_list(ActOnList {
            name: "customers".into(),
            folder_name: "Imports".into(),
            listing_type: "CONTACT_LIST".into(),
            headers: vec!["Email".into(), "Plan".into()],
            rows: vec![vec!["a@x.example".into(), "Pro".into()]],
        })
        .start()
        .await
        .unwrap();
    let s = source(&emu, "");
    let tables = s.list_tables().await.unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    for expected in [
        "Account",
        "ContactList",
        "DrilldownReports",
        "Hardbounce",
        "Images",
        "Media",
        "Messages",
        "Programs",
        "Reports",
        "ReportsByPeriod",
        "Spamcomplaint",
        "SubscriptionOptOuts",
        "Users",
        "List_Customers",
        "List_Newsletter_Subscribers",
        "List_Trade_Show_Leads_2024",
        // Collides with `List_Customers` ignoring case: the later id gets a suffix.
        "List_customers_l_0100",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    // Seed and suppression lists are not contact lists.
    let is_list = |n: &str| n.starts_with("List_") && !n.ends_with("_Score");
    assert_eq!(names.iter().filter(|n| is_list(n)).count(), 4);
    // Each list has a score view (objects.rs tests them).
    assert_eq!(names.iter().filter(|n| n.starts_with("List_")).count(), 8);
    // Static objects are views; list tables take INSERT, UPDATE and DELETE.
    assert!(tables.iter().all(|t| t.kind
        == if is_list(&t.name) {
            TableKind::Table
        } else {
            TableKind::View
        }));

    // Listing reads no list's headers: lists are listed undescribed, and `table` reads one.
    let listed = tables.iter().find(|t| t.name == "List_Customers").unwrap();
    assert!(!listed.is_described());
    let log = emu.acton().requests();
    assert_eq!(log.iter().filter(|r| r.path == "/api/1/list").count(), 1);
    assert!(
        log.iter()
            .any(|r| r.path == "/api/1/list" && r.has_param("listingtype", "CONTACT_LIST"))
    );
    assert!(!log.iter().any(|r| r.path.starts_with("/api/1/list/l-")));

    let customers = s.table("List_Customers").await.unwrap();
    let cols: Vec<&str> = customers.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        cols,
        [
            "ContactId",
            "First Name",
            "Last Name",
            "E-mail Address",
            "Company",
            "Job Title",
            "Business Phone",
            "City",
            "State",
            "Country",
            "Zip",
            "Lead Score",
            "__created_date",
            "__modified_date"
        ]
    );
    assert_eq!(customers.columns[0].data_type, DataType::Utf8);
    assert_eq!(
        customers.columns[13].data_type,
        source_core::timestamp_ms_utc()
    );
    assert!(customers.description.contains("l-0001"));

    // The lists are not read again; one one-record download gives the headers.
    let log = emu.acton().requests();
    assert_eq!(log.iter().filter(|r| r.path == "/api/1/list").count(), 1);
    let header_reads: Vec<_> = log
        .iter()
        .filter(|r| r.path.starts_with("/api/1/list/l-"))
        .collect();
    assert_eq!(header_reads.len(), 1);
    assert!(header_reads.iter().all(|r| r.has_param("count", "1")));
    // `described_tables` reads the other three lists' headers, once each.
    let described = s.described_tables().await.unwrap();
    assert!(described.iter().all(|t| t.is_described()));
    let header_reads = emu
        .acton()
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/1/list/l-"))
        .count();
    assert_eq!(header_reads, 4);
    emu.shutdown().await;
}

#[tokio::test]
async fn messages_images_programs_have_cdatas_columns() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let names =
        |t: &source_core::TableInfo| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    let messages = s.table("Messages").await.unwrap();
    assert_eq!(
        names(&messages),
        [
            "Id",
            "Timestamp",
            "Title",
            "FolderName",
            "MsgType",
            "TimeWhen",
            "SenderName",
            "SenderId",
            "IsTextOnly",
            "SenderEmail",
            "IsBeeComposer",
            "ShowComposerIndicator",
            "Type"
        ]
    );
    assert!(messages.columns[0].key);
    assert_eq!(messages.columns[1].native_type, "Datetime");
    let images = s.table("images").await.unwrap();
    assert_eq!(images.name, "Images");
    assert_eq!(
        names(&images),
        [
            "Id",
            "FolderName",
            "Name",
            "CreationTime",
            "LastModified",
            "ImageUrl",
            "ThumbUrl",
            "Size",
            "Width",
            "Height"
        ]
    );
    let programs = s.table("Programs").await.unwrap();
    assert_eq!(programs.columns.len(), 17);
    assert_eq!(
        s.table("Reports").await.unwrap().required_filters,
        ["MessageId"]
    );
    assert_eq!(
        s.table("DrilldownReports").await.unwrap().required_filters,
        ["MessageId", "DrilldownType"]
    );
    assert_eq!(
        s.table("ReportsByPeriod").await.unwrap().required_filters,
        ["Period"]
    );
    // Static views need no request.
    assert!(emu.acton().requests().is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_tables_suggest_the_nearest_and_names_match_ignoring_case() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let err = s.table("List_Customer").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown table `List_Customer`; did you mean `List_Customers`?"
    );
    let err = s.table("Mesages").await.unwrap_err();
    assert!(err.to_string().contains("did you mean `Messages`"), "{err}");
    let t = s.table("list_trade_show_leads_2024").await.unwrap();
    assert_eq!(t.name, "List_Trade_Show_Leads_2024");
    // ContactId, six headers and `Registered`, then the two date qualifiers.
    assert_eq!(t.columns.len(), 1 + 7 + 2);
    emu.shutdown().await;
}
