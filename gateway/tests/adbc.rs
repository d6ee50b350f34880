//! The gateway driven by the Python ADBC Flight SQL driver (and pandas and DuckDB over it)
//! against the emulators: metadata, SELECT with pushdown, parameters, prepared statements and
//! the schemas they advertise, DML, EXEC, authentication and per-user connection visibility.
//! The script is gateway/tests/python/adbc_client.py.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, run_python};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adbc_python_client_sees_everything_it_may_and_nothing_else() {
    let h = Harness::start(emulator::Emulator::builder()).await;
    let out = run_python(&h, "adbc_client.py", &[]).await;

    // SELECT, with the filter, order, projection and limit sent to HubDB.
    assert_eq!(
        out["pushdown"],
        json!([
            ["Content Strategy Summit #439", 500.0],
            ["Data Engineering Summit #1463", 500.0]
        ])
    );
    let sent: Vec<String> = h
        .emu
        .hubspot()
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/rows"))
        .map(|r| r.query.unwrap_or_default())
        .collect();
    assert_eq!(
        sent[0],
        "attendees__gte=499&city__eq=Berlin&sort=-attendees&properties=title%2Cattendees&limit=2&offset=0"
    );
    // Parameters are bound and pushed like literals.
    assert_eq!(out["parameters"], json!([[115]]));
    assert_eq!(
        sent[1],
        "attendees__gt=250&city__eq=Berlin&properties=title&limit=1000&offset=0"
    );
    assert_eq!(out["acton_rows"], 3);

    // A prepared query advertises its parameters (typed by the columns they are compared
    // with) and its result set before it runs, and its result keeps that schema.
    assert_eq!(
        out["prepared_parameters"],
        json!([["1", "double"], ["2", "string"]])
    );
    assert_eq!(
        out["prepared_result"],
        json!([["title", "string"], ["attendees", "double"]])
    );
    assert_eq!(
        out["prepared_rows"],
        json!([
            ["Content Strategy Summit #439", 500.0],
            ["Data Engineering Summit #1463", 500.0]
        ])
    );
    assert_eq!(out["prepared_schema_kept"], true);
    // Preparing and describing read nothing: the next request for rows is the execution's.
    assert_eq!(
        sent[2],
        "attendees__gt=498&city__eq=Berlin&sort=title&properties=title%2Cattendees&limit=2&offset=0"
    );
    // A write: its parameters are counted but not typed, and it has no result set.
    assert_eq!(
        out["prepared_insert_parameters"],
        json!([["1", "null"], ["2", "null"]])
    );
    assert_eq!(
        out["prepared_insert_result"],
        "NotSupportedError: NOT_IMPLEMENTED: [Flight SQL Statement] Database server did not provide schema for prepared statement"
    );
    assert_eq!(out["prepared_no_parameters"], json!([]));

    // DML and EXEC.
    assert_eq!(out["insert_rowcount"], 1);
    assert_eq!(out["insert_param_rowcount"], 1);
    assert_eq!(out["executemany_rowcount"], 2);
    assert_eq!(out["update_rowcount"], 1);
    assert_eq!(
        out["exec_columns"],
        json!(["TableId", "Name", "Published", "PublishedAt", "RowCount"])
    );
    assert_eq!(
        out["published"],
        json!([["Gateway launch", "Lisbon", 999.0]])
    );

    // Metadata.
    assert_eq!(out["catalogs"], json!(["CData"]));
    assert_eq!(out["schemas"], json!(["acton_main", "portal_eu"]));
    assert_eq!(out["portal_eu_has_events"], true);
    assert_eq!(
        out["events_columns"],
        json!(["Id", "CreatedAt", "UpdatedAt"])
    );
    assert_eq!(out["vendor_name"], "connector gateway");
    assert_eq!(out["table_types"], json!(["TABLE", "VIEW"]));

    // pandas and pyarrow; 2,500 seeded rows plus the four published above.
    assert_eq!(out["pandas_shape"], json!([4, 2]));
    assert_eq!(out["pyarrow_rows"], 2504);

    // DuckDB aggregates a gateway result read as an Arrow stream, and agrees with the gateway
    // (2,502 events with a city: the seeded 2,500 plus Lisbon and Porto inserted above).
    assert_eq!(out["duckdb_reader"], "RecordBatchReader");
    let by_city = json!([
        ["Austin", 265, 63691.0],
        ["Berlin", 255, 57478.0],
        ["Boston", 276, 67915.0],
        ["Dublin", 243, 59227.0],
        ["Lisbon", 1, 999.0],
        ["Paris", 230, 58384.0],
        ["Porto", 1, 42.0],
        ["Singapore", 256, 60463.0],
        ["Sydney", 234, 56316.0],
        ["São Paulo", 273, 66090.0],
        ["Tokyo", 234, 58420.0],
        ["Toronto", 234, 55207.0]
    ]);
    assert_eq!(out["duckdb_by_city"], by_city);
    assert_eq!(out["gateway_by_city"], by_city);

    // What users are told.
    assert_eq!(
        out["unknown_table"],
        "ProgrammingError: NOT_FOUND: [FlightSQL] table portal_eu.evnts not found; did you mean portal_eu.events? (NotFound; Prepare)"
    );
    assert_eq!(
        out["no_credentials"],
        format!(
            "ProgrammingError: UNAUTHENTICATED: [FlightSQL] {} (Unauthenticated; Prepare)",
            gateway::NO_CREDENTIALS
        )
    );
    assert_eq!(
        out["bad_password"],
        format!(
            "ProgrammingError: UNAUTHENTICATED: [FlightSQL] {} (Unauthenticated; AuthenticateBasicToken)",
            gateway::BAD_PASSWORD
        )
    );
    assert_eq!(
        out["bad_token"],
        format!(
            "ProgrammingError: UNAUTHENTICATED: [FlightSQL] {} (Unauthenticated; Prepare)",
            gateway::BAD_TOKEN
        )
    );

    // Bob sees acton_main only; portal_eu does not exist for him.
    assert_eq!(out["bob_schemas"], json!(["acton_main"]));
    assert_eq!(
        out["bob_portal_eu"],
        "ProgrammingError: NOT_FOUND: [FlightSQL] table portal_eu.events not found (NotFound; Prepare)"
    );
    assert_eq!(out["bob_acton_rows"], json!([[2500]]));
    // The static bearer token's user sees its two connections.
    assert_eq!(out["etl_rows"], json!([[2]]));

    // One Act-On login for the whole run, whatever the number of clients and users.
    assert_eq!(h.emu.acton().stats().token_grants.password, 1);
    h.stop().await.unwrap();
}
