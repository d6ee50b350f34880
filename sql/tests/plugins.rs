//! The plugin contract end to end: a third source (`source-files`), registered by one line in
//! `sources/Cargo.toml`, works in a SQL session next to HubDB without any code in `sql` that
//! knows it: tables, pushdown, a join across the two sources, and its procedure.

// A failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use arrow_array::RecordBatch;
use emulator::Emulator;
use sql::Session;

/// Every row as text cells.
fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(|c| arrow_cast::display::array_value_to_string(c, r).unwrap())
                    .collect(),
            );
        }
    }
    out
}

async fn query(session: &Session, statement: &str) -> Vec<Vec<String>> {
    let batches = session
        .execute(statement, &[])
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    rows(&batches)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_third_source_joins_hubdb_in_one_session() {
    let emu = Emulator::builder().hubdb_rows(50).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cities.csv"),
        "city,country,population\nBerlin,Germany,3.6\nLisbon,Portugal,0.5\nBoston,USA,0.7\n",
    )
    .unwrap();
    let hs = emu.hubspot().info();
    let hubdb = sources::find("hubdb")
        .unwrap()
        .configure(
            &format!(
                "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={}",
                hs.private_app_token, hs.base_url
            )
            .parse()
            .unwrap(),
        )
        .unwrap();
    let files = sources::find("csv")
        .unwrap()
        .configure(
            &format!("Folder='{}'", dir.path().display())
                .parse()
                .unwrap(),
        )
        .unwrap();
    let mut session = Session::new();
    session.add_connection(&hubdb).await.unwrap();
    session.add_connection(&files).await.unwrap();

    let tables = query(
        &session,
        "SELECT SchemaName, TableName FROM sys_tables WHERE SchemaName = 'files'",
    )
    .await;
    assert_eq!(tables, vec![vec!["files".to_owned(), "cities".to_owned()]]);

    // Pushdown into the file source, then a join with HubDB's published rows.
    let joined = query(
        &session,
        "SELECT c.country, COUNT(*) AS events FROM hubdb.events e \
         JOIN files.cities c ON e.city = c.city \
         WHERE c.population > 0.6 GROUP BY c.country ORDER BY c.country",
    )
    .await;
    let countries: Vec<&str> = joined.iter().map(|r| r[0].as_str()).collect();
    assert!(!countries.is_empty(), "{joined:?}");
    assert!(
        countries.iter().all(|c| ["Germany", "USA"].contains(c)),
        "{joined:?}"
    );
    let expected: usize = query(
        &session,
        "SELECT COUNT(*) FROM hubdb.events WHERE city IN ('Berlin', 'Boston')",
    )
    .await[0][0]
        .parse()
        .unwrap();
    let counted: usize = joined.iter().map(|r| r[1].parse::<usize>().unwrap()).sum();
    assert_eq!(counted, expected);

    // The source's procedure, through EXEC, and the new table right after.
    query(
        &session,
        "EXEC files.CreateTable Name = 'visits', Columns = 'city, visited'",
    )
    .await;
    session.refresh().await.unwrap();
    query(
        &session,
        "INSERT INTO files.visits (city, visited) VALUES ('Berlin', '2026-01-02')",
    )
    .await;
    let csv = std::fs::read_to_string(dir.path().join("visits.csv")).unwrap();
    assert_eq!(csv, "city,visited\nBerlin,2026-01-02\n");
    emu.shutdown().await;
}
