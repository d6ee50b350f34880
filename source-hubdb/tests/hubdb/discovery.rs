//! Discovery: names, kinds, the common columns, every column type, Owners.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_schema::DataType;
use emulator::{ColumnSpec, ColumnType, TableSpec};
use serde_json::json;
use source_core::{DataSource, Filter, Op, ScanRequest, TableKind, Value};

use crate::common::{self, builder, cell, column, read, rows, source};

fn all_types() -> TableSpec {
    use ColumnType as T;
    TableSpec::new(
        "all_types",
        vec![
            ColumnSpec::new("t_text", T::Text),
            ColumnSpec::new("t_richtext", T::Richtext),
            ColumnSpec::new("t_number", T::Number),
            ColumnSpec::new("t_currency", T::Currency),
            ColumnSpec::new("t_boolean", T::Boolean),
            ColumnSpec::new("t_date", T::Date),
            ColumnSpec::new("t_datetime", T::Datetime),
            ColumnSpec::new("t_select", T::Select).with_options(&["red", "green"]),
            ColumnSpec::new("t_multiselect", T::Multiselect).with_options(&["a", "b", "c"]),
            ColumnSpec::new("t_url", T::Url),
            ColumnSpec::new("t_image", T::Image),
            ColumnSpec::new("t_video", T::Video),
            ColumnSpec::new("t_location", T::Location),
            ColumnSpec::new("t_foreign_id", T::ForeignId),
            ColumnSpec::new("t_json", T::Json),
            ColumnSpec::new("t_code", T::Code),
        ],
    )
    .row(json!({
        "t_text": "hello", "t_richtext": "<p>hi</p>", "t_number": 1.5, "t_currency": 19.99,
        "t_boolean": 1, "t_date": 1_704_067_200_000_i64, "t_datetime": 1_704_070_800_123_i64,
        "t_select": {"name": "green", "type": "option"},
        "t_multiselect": [{"name": "a", "type": "option"}, {"name": "c", "type": "option"}],
        "t_url": "https://example.com", "t_image": {"url": "https://img.example/x.png", "width": 10, "height": 20},
        "t_video": 12345, "t_location": {"lat": 52.5, "long": 13.4},
        "t_foreign_id": [{"id": "5000000001", "type": "foreignid"}],
        "t_json": {"k": [1, 2]}, "t_code": "fn main() {}"
    }))
    .row(json!({"t_text": "empty otherwise", "t_multiselect": []}))
}

#[tokio::test]
async fn lists_views_drafts_and_owners() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "");
    let tables = s.list_tables().await.unwrap();
    let names: Vec<(&str, TableKind)> = tables.iter().map(|t| (t.name.as_str(), t.kind)).collect();
    for expected in [
        ("events", TableKind::View),
        ("events_Draft", TableKind::Table),
        ("organizers", TableKind::View),
        ("organizers_Draft", TableKind::Table),
        ("campaign_budget_Draft", TableKind::Table),
        ("Owners", TableKind::View),
    ] {
        assert!(
            names.contains(&expected),
            "{expected:?} missing from {names:?}"
        );
    }
    // Never published: no view.
    assert!(!names.iter().any(|(n, _)| *n == "campaign_budget"));
    let events = tables.iter().find(|t| t.name == "events").unwrap();
    let common: Vec<&str> = events
        .columns
        .iter()
        .take(7)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        common,
        [
            "Id",
            "CreatedAt",
            "UpdatedAt",
            "PublishedAt",
            "PagePath",
            "PageName",
            "ChildTableId"
        ]
    );
    assert!(events.columns[0].key && !events.columns[0].nullable);
    assert!(
        events.columns.iter().all(|c| c.read_only),
        "views are read-only"
    );
    assert!(events.description.contains("events_Draft"));
    let draft = tables.iter().find(|t| t.name == "events_Draft").unwrap();
    assert!(draft.writable.insert && draft.writable.update && draft.writable.delete);
    assert!(!draft.column("title").unwrap().read_only);
    assert!(draft.column("CreatedAt").unwrap().read_only);
    emu.shutdown().await;
}

#[tokio::test]
async fn maps_every_column_type() {
    let emu = builder().table(all_types()).start().await.unwrap();
    let s = source(&emu, "");
    let t = s.table("all_types").await.unwrap();
    let ty = |n: &str| t.column(n).unwrap().data_type.clone();
    let native = |n: &str| t.column(n).unwrap().native_type.clone();
    assert_eq!(ty("t_text"), DataType::Utf8);
    assert_eq!(ty("t_richtext"), DataType::Utf8);
    assert_eq!(ty("t_number"), DataType::Float64);
    assert_eq!(ty("t_currency"), DataType::Float64);
    assert_eq!(ty("t_boolean"), DataType::Boolean);
    assert_eq!(ty("t_date"), DataType::Date32);
    assert_eq!(ty("t_datetime"), source_core::timestamp_ms_utc());
    assert_eq!(ty("t_select"), DataType::Utf8);
    assert!(matches!(ty("t_multiselect"), DataType::List(_)));
    assert!(matches!(ty("t_foreign_id"), DataType::List(_)));
    assert!(matches!(ty("t_image"), DataType::Struct(f) if f.len() == 3));
    assert!(matches!(ty("t_location"), DataType::Struct(f) if f.len() == 2));
    assert_eq!(ty("t_video"), DataType::Int64);
    assert_eq!(ty("t_json"), DataType::Utf8);
    assert_eq!(native("t_multiselect"), "MULTISELECT");
    assert!(
        t.column("t_select")
            .unwrap()
            .description
            .contains("options: red, green")
    );

    let batches = read(&s, "all_types", ScanRequest::all()).await;
    assert_eq!(rows(&batches), 2);
    let b = &batches[0];
    let get = |n: &str| cell(b.column_by_name(n).unwrap().as_ref(), 0);
    assert_eq!(get("t_text"), Value::Str("hello".into()));
    assert_eq!(get("t_richtext"), Value::Str("<p>hi</p>".into()));
    assert_eq!(get("t_number"), Value::Float(1.5));
    assert_eq!(get("t_currency"), Value::Float(19.99));
    assert_eq!(get("t_boolean"), Value::Bool(true));
    assert_eq!(get("t_date"), Value::Date(19_723));
    assert_eq!(get("t_datetime"), Value::TimestampMs(1_704_070_800_123));
    assert_eq!(get("t_select"), Value::Str("green".into()));
    assert_eq!(
        get("t_multiselect"),
        Value::List(vec!["a".into(), "c".into()])
    );
    assert_eq!(get("t_foreign_id"), Value::List(vec!["5000000001".into()]));
    assert_eq!(get("t_video"), Value::Int(12345));
    assert_eq!(get("t_code"), Value::Str("fn main() {}".into()));
    let json_text = match get("t_json") {
        Value::Str(s) => serde_json::from_str::<serde_json::Value>(&s).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(json_text, json!({"k": [1, 2]}));
    let image = b.column_by_name("t_image").unwrap().as_struct().clone();
    assert_eq!(
        image.column(0).as_string::<i32>().value(0),
        "https://img.example/x.png"
    );
    assert_eq!(image.column(1).as_primitive::<Int64Type>().value(0), 10);
    assert_eq!(image.column(2).as_primitive::<Int64Type>().value(0), 20);
    let loc = b.column_by_name("t_location").unwrap().as_struct().clone();
    assert_eq!(loc.column(0).as_primitive::<Float64Type>().value(0), 52.5);
    assert_eq!(loc.column(1).as_primitive::<Float64Type>().value(0), 13.4);
    // Row 2: everything but the text is NULL, including the empty multiselect.
    for name in [
        "t_number",
        "t_boolean",
        "t_date",
        "t_select",
        "t_multiselect",
        "t_image",
        "t_location",
        "t_json",
    ] {
        assert!(
            b.column_by_name(name).unwrap().is_null(1),
            "{name} should be NULL"
        );
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn owners_view_and_unknown_names() {
    let emu = builder().start().await.unwrap();
    let s = source(&emu, "");
    let all = read(&s, "Owners", ScanRequest::all()).await;
    assert_eq!(rows(&all), 6);
    assert_eq!(
        column(&all, "Archived")
            .iter()
            .filter(|v| **v == Value::Bool(true))
            .count(),
        1
    );
    let t = s.table("owners").await.unwrap();
    let f = Filter::new("Archived", Op::Eq, true);
    assert_eq!(s.filter_support(&t, &f), source_core::FilterSupport::Exact);
    let archived = read(&s, "Owners", ScanRequest::all().filter(f)).await;
    assert_eq!(rows(&archived), 1);
    assert_eq!(
        column(&archived, "FirstName"),
        vec![Value::Str("Barbara".into())]
    );

    let err = s.table("evnts").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown table `evnts`; did you mean `events`?"
    );
    let err = s
        .scan("events", ScanRequest::all().project(["titel"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table `events` has no column `titel`; did you mean `title`?"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn cli_commands_and_an_oauth_access_token() {
    let emu = builder()
        .hubspot_token(emulator::HubSpotToken {
            access_token: Some("at-cli".into()),
            refresh_token: None,
            scopes: vec!["hubdb".into(), "crm.objects.owners.read".into()],
            expires_in_s: 3600,
        })
        .start()
        .await
        .unwrap();
    let info = emu.hubspot().info().clone();
    let cs: connstr::ConnectionString = format!(
        "AuthScheme=OAuth;InitiateOAuth=OFF;OAuthAccessToken=at-cli;OAuthClientId={};OAuthClientSecret={};APIBaseURL={};APIVersion={}",
        info.client_id,
        info.client_secret,
        info.base_url,
        common::api_version()
    )
    .parse()
    .unwrap();
    let config = source_hubdb::validate(&cs).unwrap();
    let s =
        source_hubdb::HubDbSource::connect(&config, source_hubdb::token_provider(&config).unwrap())
            .unwrap();
    use source_core::format::{Format, print_describe, print_read, print_tables};
    let mut out = Vec::new();
    print_tables(&s, Format::Csv, &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("\nevents,VIEW,false,\"Published version of HubDB table `events`"),
        "{text}"
    );
    let mut out = Vec::new();
    print_describe(&s, "events_Draft", Format::Table, &mut out)
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("| tags ") && text.contains("MULTISELECT"),
        "{text}"
    );
    let mut out = Vec::new();
    let n = print_read(&s, "events", Some(3), Format::Json, &mut out)
        .await
        .unwrap();
    assert_eq!(n, 3);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v[0]["Id"], json!(4_000_000_001_i64));
    assert_eq!(
        v[0]["venue"],
        json!({"lat": v[0]["venue"]["lat"], "long": v[0]["venue"]["long"]})
    );
    assert!(
        v[0]["CreatedAt"]
            .as_str()
            .unwrap()
            .starts_with("2024-01-01T00:00:00")
    );
    emu.shutdown().await;
}
