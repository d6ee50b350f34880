//! The spec copy's wire shapes (api-updates B4–B7), served by the emulator and read by the
//! source. The older spellings are fed to the same decoders in the unit tests of
//! `src/decode.rs`, `src/client.rs` and `src/dates.rs`.

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMillisecondType;
use emulator::EmulatorBuilder;
use source_core::{DataSource, Filter, Op, ScanRequest, Value};

use crate::common::{builder, column, read, rows, scan_error, source, texts};

/// 2024-01-01T00:00:00Z.
const EPOCH_2024: i64 = 1_704_067_200_000;

fn timestamps(batches: &[arrow_array::RecordBatch], name: &str) -> Vec<Option<i64>> {
    batches
        .iter()
        .flat_map(|b| {
            let i = b.schema().index_of(name).expect("column");
            let a = b
                .column(i)
                .as_primitive::<TimestampMillisecondType>()
                .clone();
            (0..a.len())
                .map(move |r| (!a.is_null(r)).then(|| a.value(r)))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn messages_read_the_camel_case_items_with_a_string_time_stamp() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let sent = read(
        &s,
        "Messages",
        ScanRequest::all().filter(Filter::new("Type", Op::Eq, "SENT")),
    )
    .await;
    assert!(rows(&sent) > 0);
    assert!(texts(&sent, "Id").iter().all(|id| id.starts_with("s-")));
    assert!(texts(&sent, "Title").iter().all(|t| !t.is_empty()));
    assert!(texts(&sent, "SenderEmail").iter().all(|e| e.contains('@')));
    // `timeStamp` is epoch ms as a string; `timeWhen` has no year and stays text.
    assert!(
        timestamps(&sent, "Timestamp")
            .iter()
            .all(|t| t.is_some_and(|t| t >= EPOCH_2024))
    );
    for when in texts(&sent, "TimeWhen") {
        assert!(
            (when.ends_with(" PST") || when.ends_with(" PDT")) && !when.contains("202"),
            "{when}"
        );
    }
    assert_eq!(
        column(&sent, "IsTextOnly")
            .iter()
            .filter(|v| matches!(v, Value::Bool(_)))
            .count(),
        rows(&sent)
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn list_dates_come_from_created_date_and_modified_date_without_fields() {
    let emu = builder().acton_records(50).start().await.unwrap();
    let s = source(&emu, "");
    let dates = read(
        &s,
        "List_Customers",
        ScanRequest::all().project(["ContactId", "__created_date", "__modified_date"]),
    )
    .await;
    assert_eq!(rows(&dates), 50);
    let created = timestamps(&dates, "__created_date");
    let modified = timestamps(&dates, "__modified_date");
    assert!(created.iter().zip(&modified).all(|(c, m)| {
        let (c, m) = (c.expect("created"), m.expect("modified"));
        c >= EPOCH_2024 - 86_400_000 && m >= c
    }));
    let log = emu.acton().requests_to("/api/1/list/l-0001");
    let page = log.last().expect("a download");
    assert!(page.has_param("datequalifiers", "true"));
    assert_eq!(page.param("fields"), None, "D2: never both");
    emu.shutdown().await;
}

#[tokio::test]
async fn downloads_give_record_ids_and_the_email_column_by_index() {
    let emu = builder().acton_records(30).start().await.unwrap();
    let s = source(&emu, "");
    let t = s.table("List_Customers").await.unwrap();
    let email = t.column("E-mail Address").unwrap();
    assert_eq!(
        email.description,
        "List field `E-mail Address` (the list's e-mail column)."
    );
    // `sourceSize` is a string in the spec copy.
    assert!(
        t.description.contains("30 records when listed"),
        "{}",
        t.description
    );
    let ids = read(
        &s,
        "List_Customers",
        ScanRequest::all().project(["ContactId", "E-mail Address"]),
    )
    .await;
    let want: Vec<String> = (0..30).map(|i| format!("l-0001:{i}")).collect();
    assert_eq!(texts(&ids, "ContactId"), want);
    emu.shutdown().await;
}

#[tokio::test]
async fn dates_with_a_zone_abbreviation_read_as_instants() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    // The emulator writes hard-bounce dates as `2024-01-01 07:13:20 PST` (a GUESS for this
    // endpoint; the format is the record endpoint's): the instant is the one it started from.
    let bounces = read(&s, "Hardbounce", ScanRequest::all()).await;
    let dates = timestamps(&bounces, "Date");
    assert_eq!(dates.len(), 37);
    for (i, d) in dates.iter().enumerate() {
        let d = d.expect("a date");
        let day = EPOCH_2024 + i as i64 * 86_400_000;
        assert!((day..day + 86_400_000).contains(&d), "{i}: {d}");
        assert_eq!(d % 1000, 0);
    }
    // `sourceTS` (`Dec 30 2023 4:00 PM PST`) stands behind `tsSource` (ms).
    let lists = read(&s, "ContactList", ScanRequest::all()).await;
    let source_ts = timestamps(&lists, "SourceTimestamp");
    assert_eq!(source_ts[0], Some(EPOCH_2024 - 86_400_000));
    emu.shutdown().await;
}

#[tokio::test]
async fn b7_errors_name_the_list_and_the_record() {
    let emu = builder().acton_records(10).start().await.unwrap();
    let s = source(&emu, "");
    let facts = |id: &str| ScanRequest::all().filter(Filter::new("ContactId", Op::Eq, id));
    let err = scan_error(&s, "ScoreDetails", facts("l-0999:1")).await;
    assert_eq!(
        err.to_string(),
        "Act-On reading `ScoreDetails`: HTTP 400: list `l-0999` does not exist or was deleted \
         (Act-On error 10004: Invalid or missing list); `connector acton tables` lists the \
         current ones"
    );
    assert_eq!(err.kind(), source_core::ErrorKind::NotFound);
    // A record that does not exist (10008) is no row of a score view, as `WHERE Id = …` of a
    // missing row would be; writes report it per row (sql/tests/acton_writes.rs).
    let details = read(&s, "ScoreDetails", facts("l-0001:999999")).await;
    assert_eq!(rows(&details), 0);
    emu.shutdown().await;
}

/// Act-On answers a wrong password with 403 `invalid_grant` (D7): the password is wrong, so
/// the grant is not retried (5 grants an hour) and the user is told to fix it.
#[tokio::test]
async fn a_wrong_password_is_refused_once_and_not_retried() {
    let emu = EmulatorBuilder::new()
        .acton_records(10)
        .acton_rate_limit(0)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let info = emu.acton().info();
    let text = format!(
        "AuthScheme=OAuthPassword;InitiateOAuth=GETANDREFRESH;User={};Password='wrong';OAuthClientId={};OAuthClientSecret='{}';APIBaseURL={};OAuthSettingsLocation='{}'",
        info.user,
        info.client_id,
        info.client_secret,
        info.base_url,
        dir.path().join("OAuthSettings.txt").display()
    );
    let cs: connstr::ConnectionString = text.parse().unwrap();
    let config = source_acton::validate(&cs).unwrap();
    let tokens = source_acton::token_provider(&config).unwrap();
    let s = source_acton::ActOnSource::connect(&config, tokens).unwrap();
    let err = scan_error(&s, "Account", ScanRequest::all()).await;
    assert_eq!(err.kind(), source_core::ErrorKind::Auth, "{err}");
    assert!(
        err.to_string().contains("Wrong email or password."),
        "{err}"
    );
    assert!(!err.to_string().contains("wrong'"), "no secret in {err}");
    let grants: Vec<u16> = emu
        .acton()
        .requests_to("/token")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(grants, [403], "one attempt, not retried");
    emu.shutdown().await;
}
