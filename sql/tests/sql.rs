//! SQL behaviour over in-memory sources: pushdown as the source sees it, the CData dialect
//! touches, joins, MaxRows, system tables, DML, EXEC and error messages.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use common::TestSource;
use source_core::memory::MemorySource;
use source_core::{Filter, Op, SortKey, Value};
use sql::{Error, QueryResult, Session, SessionOptions};

async fn session_with(max_rows: Option<u64>) -> (Session, TestSource) {
    let source = TestSource::new();
    let mut session = Session::new();
    session
        .register_source(
            "crm",
            Arc::new(source.clone()),
            SessionOptions {
                max_rows,
                ..SessionOptions::default()
            },
        )
        .await
        .unwrap();
    session.register_procedures(
        "crm",
        Arc::new(source_core::procedure::Procedures::new(vec![Arc::new(
            common::Greeter,
        )])),
    );
    session
        .register_source(
            "mem",
            Arc::new(MemorySource::example()),
            SessionOptions::default(),
        )
        .await
        .unwrap();
    (session, source)
}

async fn session() -> (Session, TestSource) {
    session_with(None).await
}

/// Every row as text cells (`NULL` for nulls).
fn text(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let options = FormatOptions::new().with_null("NULL");
    let mut out = Vec::new();
    for b in batches {
        let formatters: Vec<ArrayFormatter<'_>> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            out.push(formatters.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    out
}

async fn query(session: &Session, sql: &str, params: &[Value]) -> Vec<Vec<String>> {
    let batches = session
        .execute(sql, params)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    text(&batches)
}

fn rows(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter()
        .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
        .collect()
}

async fn error(session: &Session, sql: &str, params: &[Value]) -> String {
    match session.execute(sql, params).await {
        Err(e) => e.to_string(),
        Ok(r) => match r.collect().await {
            Err(e) => e.to_string(),
            Ok(b) => panic!("{sql} succeeded: {:?}", text(&b)),
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exact_filters_and_projection_reach_the_source() {
    let (s, src) = session().await;
    let got = query(
        &s,
        "SELECT Name FROM people WHERE City = 'London' ORDER BY Name",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["Ada"], &["alan"]]));
    let scans = src.scans();
    assert_eq!(scans.len(), 1);
    let (table, request) = &scans[0];
    assert_eq!(table, "people");
    assert_eq!(request.filters, vec![Filter::new("City", Op::Eq, "London")]);
    let projection = request.projection.clone().unwrap();
    assert!(projection.contains(&"Name".to_owned()), "{projection:?}");
    assert!(!projection.contains(&"Age".to_owned()), "{projection:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn loose_filters_are_rechecked_for_exact_answers() {
    let (s, src) = session().await;
    // The source matches LIKE ignoring case and returns `alan` too; SQL must not.
    let got = query(
        &s,
        "SELECT Name FROM people WHERE Name LIKE 'A%' ORDER BY Id",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["Ada"], &["Alice"]]));
    assert_eq!(
        src.scans()[0].1.filters,
        vec![Filter::new("Name", Op::Like, "A%")]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_is_pushed_only_without_residual_filters() {
    let (s, src) = session().await;
    assert_eq!(
        query(&s, "SELECT Id FROM people LIMIT 2", &[]).await.len(),
        2
    );
    assert_eq!(src.scans()[0].1.limit, Some(2));
    assert_eq!(src.pages(), 1, "a LIMIT 2 query stops after one page");

    src.clear_log();
    let got = query(
        &s,
        "SELECT Id FROM people WHERE City = 'London' LIMIT 1",
        &[],
    )
    .await;
    assert_eq!(got.len(), 1);
    assert_eq!(src.scans()[0].1.limit, Some(1));

    src.clear_log();
    let got = query(
        &s,
        "SELECT Id FROM people WHERE Name LIKE 'A%' LIMIT 1",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["1"]]));
    assert_eq!(
        src.scans()[0].1.limit,
        None,
        "a loose filter is re-checked above the scan"
    );

    src.clear_log();
    let got = query(&s, "SELECT Id FROM people WHERE Age > 40 ORDER BY Id", &[]).await;
    assert_eq!(got, rows(&[&["2"], &["3"]]));
    assert!(
        src.scans()[0].1.filters.is_empty(),
        "unsupported filters stay client-side"
    );
    assert_eq!(src.scans()[0].1.limit, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn offset_skips_rows() {
    let (s, _) = session().await;
    let got = query(
        &s,
        "SELECT Id FROM people ORDER BY Id LIMIT 2 OFFSET 3",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["4"], &["5"]]));
}

/// The plan `EXPLAIN` prints, one line per plan row.
async fn explain(session: &Session, sql: &str) -> String {
    query(session, &format!("EXPLAIN {sql}"), &[])
        .await
        .iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one scan the last query made.
fn only_scan(src: &TestSource) -> source_core::ScanRequest {
    let scans = src.scans();
    assert_eq!(scans.len(), 1, "{scans:?}");
    src.clear_log();
    scans[0].1.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn order_by_and_its_limit_reach_a_source_that_sorts() {
    let (s, src) = session().await;
    // DESC puts Linus's NULL age first, as the source does.
    let got = query(
        &s,
        "SELECT Name FROM people ORDER BY Age DESC LIMIT 2 OFFSET 1",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["Grace"], &["alan"]]));
    let request = only_scan(&src);
    assert_eq!(request.order_by, vec![SortKey::desc("Age")]);
    assert_eq!(
        request.limit,
        Some(3),
        "LIMIT + OFFSET rows, counted in order"
    );

    let got = query(&s, "SELECT Id FROM people ORDER BY Age, Name DESC", &[]).await;
    assert_eq!(got, rows(&[&["5"], &["1"], &["2"], &["3"], &["4"]]));
    let request = only_scan(&src);
    assert_eq!(
        request.order_by,
        vec![SortKey::asc("Age"), SortKey::desc("Name")]
    );
    assert_eq!(request.limit, None);

    // Through a computed projection the limit still reaches the source.
    let got = query(
        &s,
        "SELECT Age + 1 AS next, Name FROM people ORDER BY Name LIMIT 1",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["37", "Ada"]]));
    let request = only_scan(&src);
    assert_eq!(request.order_by, vec![SortKey::asc("Name")]);
    assert_eq!(request.limit, Some(1));

    let plan = explain(&s, "SELECT Name FROM people ORDER BY Age DESC LIMIT 2").await;
    assert!(!plan.contains("SortExec"), "{plan}");
    assert!(
        plan.contains("SourceScanExec: table=people, projection=[Name, Age], order_by=[Age DESC NULLS FIRST], limit=2"),
        "{plan}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn order_by_the_source_cannot_give_is_sorted_in_sql() {
    let (s, src) = session().await;
    let cases: [(&str, &[&str]); 4] = [
        // NULLS LAST on a DESC key is not the source's placement.
        (
            "SELECT Name FROM people ORDER BY Age DESC NULLS LAST LIMIT 5",
            &["Grace", "alan", "Ada", "Alice", "Linus"],
        ),
        // An expression, not a column.
        (
            "SELECT Name FROM people ORDER BY Age + 1 LIMIT 1",
            &["Alice"],
        ),
        // A table the source does not sort.
        ("SELECT Id FROM orders ORDER BY Id DESC LIMIT 1", &["13"]),
        // A filter the source cannot apply, and so no limit either.
        (
            "SELECT Name FROM people WHERE Age > 40 ORDER BY Age + 0 DESC LIMIT 1",
            &["Grace"],
        ),
    ];
    for (sql, want) in cases {
        let got = query(&s, sql, &[]).await;
        let want: Vec<Vec<String>> = want.iter().map(|c| vec![(*c).to_owned()]).collect();
        assert_eq!(got, want, "{sql}");
        let request = only_scan(&src);
        assert_eq!(request.order_by, vec![], "{sql}");
        assert_eq!(request.limit, None, "{sql}");
        assert!(explain(&s, sql).await.contains("SortExec"), "{sql}");
    }
    // A limit below the ORDER BY picked the source's first rows: sorting at the source
    // would pick others.
    let got = query(
        &s,
        "SELECT Id FROM (SELECT Id FROM people LIMIT 3) t ORDER BY Id DESC",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["3"], &["2"], &["1"]]));
    let request = only_scan(&src);
    assert_eq!((request.order_by, request.limit), (vec![], Some(3)));
}

#[tokio::test(flavor = "multi_thread")]
async fn order_by_passes_a_rechecked_filter_but_its_limit_does_not() {
    let (s, src) = session().await;
    // The loose LIKE brings `alan` back first (DESC, by code point); the re-check drops it,
    // so a limit of 1 at the source would lose Alice.
    let sql = "SELECT Name FROM people WHERE Name LIKE 'A%' ORDER BY Name DESC LIMIT 1";
    assert_eq!(query(&s, sql, &[]).await, rows(&[&["Alice"]]));
    let request = only_scan(&src);
    assert_eq!(request.order_by, vec![SortKey::desc("Name")]);
    assert_eq!(request.filters, vec![Filter::new("Name", Op::Like, "A%")]);
    assert_eq!(request.limit, None);
    let plan = explain(&s, sql).await;
    assert!(!plan.contains("SortExec"), "{plan}");
    assert!(plan.contains("FilterExec"), "{plan}");

    // Same for a filter only SQL applies.
    let sql = "SELECT Id FROM people WHERE Age > 40 ORDER BY Id DESC LIMIT 1";
    assert_eq!(query(&s, sql, &[]).await, rows(&[&["3"]]));
    let request = only_scan(&src);
    assert_eq!(request.order_by, vec![SortKey::desc("Id")]);
    assert_eq!(request.limit, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn max_rows_reaches_the_source_with_the_order() {
    let (s, src) = session_with(Some(2)).await;
    let got = query(&s, "SELECT Id FROM people ORDER BY Id DESC", &[]).await;
    assert_eq!(got, rows(&[&["5"], &["4"]]));
    let request = only_scan(&src);
    assert_eq!(request.order_by, vec![SortKey::desc("Id")]);
    assert_eq!(request.limit, Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn question_mark_parameters_bind_in_order() {
    let (s, src) = session().await;
    let got = query(
        &s,
        "SELECT Name FROM people WHERE City = ? AND Age > ? AND Name <> '?'",
        &["London".into(), Value::Int(40)],
    )
    .await;
    assert_eq!(got, rows(&[&["alan"]]));
    assert_eq!(
        src.scans()[0].1.filters,
        vec![Filter::new("City", Op::Eq, "London")]
    );
    let e = error(&s, "SELECT * FROM people WHERE Id = ?", &[]).await;
    assert_eq!(
        e,
        "the statement has 1 `?` parameter(s) but 0 value(s) were given"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn brackets_and_any_case_names_resolve() {
    let (s, _) = session().await;
    let got = query(&s, "SELECT [name], CITY FROM [People] WHERE id = 1", &[]).await;
    assert_eq!(got, rows(&[&["Ada", "London"]]));
    let got = query(
        &s,
        "SELECT p.name FROM [CData].[CRM].[PEOPLE] p WHERE P.ID = 3",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["Grace"]]));
    let got = query(
        &s,
        "SELECT people.Name FROM crm.people WHERE people.Id = 2",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["alan"]]));
}

#[tokio::test(flavor = "multi_thread")]
async fn aggregates_group_by_and_having() {
    let (s, _) = session().await;
    let got = query(
        &s,
        "SELECT City, COUNT(*) AS n, MAX(Age) AS oldest FROM people GROUP BY City \
         HAVING COUNT(*) >= 1 ORDER BY City NULLS FIRST",
        &[],
    )
    .await;
    assert_eq!(
        got,
        rows(&[
            &["NULL", "1", "29"],
            &["London", "2", "41"],
            &["New York", "1", "85"],
            &["Portland", "1", "NULL"],
        ])
    );
    let got = query(
        &s,
        "SELECT COUNT(*), SUM(Age), COUNT(DISTINCT City) FROM people",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["5", "191", "3"]]));
}

#[tokio::test(flavor = "multi_thread")]
async fn joins_within_and_across_sources() {
    let (s, _) = session().await;
    let got = query(
        &s,
        "SELECT p.Name, SUM(o.Amount) AS total FROM people p JOIN orders o ON o.PersonId = p.Id \
         GROUP BY p.Name ORDER BY p.Name",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["Ada", "29.5"], &["Grace", "7.25"]]));
    let got = query(
        &s,
        "SELECT p.Name, o.Id FROM people p LEFT JOIN orders o ON o.PersonId = p.Id \
         WHERE p.Id IN (2, 3) ORDER BY p.Id",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["alan", "NULL"], &["Grace", "12"]]));
    // Two connections in one statement: the in-memory `colours` and `crm.people`.
    let got = query(
        &s,
        "SELECT c.Name AS colour, p.Name FROM mem.colours c JOIN crm.people p ON p.Id = c.Id \
         WHERE c.Id <= 2 ORDER BY c.Id",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["red", "Ada"], &["green", "alan"]]));
}

#[tokio::test(flavor = "multi_thread")]
async fn max_rows_caps_results_but_not_aggregates() {
    let (s, _) = session_with(Some(2)).await;
    assert_eq!(query(&s, "SELECT * FROM people", &[]).await.len(), 2);
    assert_eq!(
        query(&s, "SELECT * FROM people LIMIT 4", &[]).await.len(),
        2
    );
    assert_eq!(
        query(&s, "SELECT * FROM people LIMIT 1", &[]).await.len(),
        1
    );
    assert_eq!(
        query(&s, "SELECT COUNT(*) FROM people", &[]).await,
        rows(&[&["5"]])
    );
    let got = query(&s, "SELECT City FROM people GROUP BY City", &[]).await;
    assert_eq!(got.len(), 4);
    s.set_max_rows(None);
    assert_eq!(query(&s, "SELECT * FROM people", &[]).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_names_suggest_the_nearest() {
    let (s, _) = session().await;
    assert_eq!(
        error(&s, "SELECT * FROM peple", &[]).await,
        "table peple not found; did you mean people?"
    );
    assert_eq!(
        error(&s, "SELECT * FROM crm.colors", &[]).await,
        "table crm.colors not found"
    );
    assert_eq!(
        error(&s, "SELECT * FROM mem.colors", &[]).await,
        "table mem.colors not found; did you mean mem.colours?"
    );
    let e = error(&s, "SELECT Nme FROM people", &[]).await;
    assert_eq!(e, "column Nme not found; did you mean Name?");
    let e = error(&s, "SELEC * FROM people", &[]).await;
    assert!(e.starts_with("syntax error"), "{e}");
    let e = error(&s, "DROP TABLE people", &[]).await;
    assert!(
        e.contains("only SELECT, INSERT, UPDATE, DELETE, EXEC and EXPLAIN"),
        "{e}"
    );
    assert!(error(&s, "", &[]).await.contains("empty statement"));
}

#[tokio::test(flavor = "multi_thread")]
async fn system_tables_describe_the_session() {
    let (s, _) = session().await;
    let got = query(
        &s,
        "SELECT SchemaName, TableName, TableType, IsUpdateable FROM sys_tables ORDER BY TableName",
        &[],
    )
    .await;
    assert_eq!(
        got,
        rows(&[
            &["mem", "colours", "VIEW", "false"],
            &["crm", "orders", "VIEW", "false"],
            &["crm", "people", "TABLE", "true"],
        ])
    );
    let batches = s
        .execute(
            "SELECT * FROM sys_tablecolumns WHERE TableName = ?",
            &["people".into()],
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "CatalogName",
            "SchemaName",
            "TableName",
            "ColumnName",
            "DataTypeName",
            "DataType",
            "Length",
            "NumericPrecision",
            "NumericScale",
            "IsNullable",
            "Description",
            "Ordinal",
            "IsAutoIncrement",
            "IsGeneratedColumn",
            "IsReadOnly",
            "IsKey",
            "IsHidden"
        ]
    );
    let got = query(
        &s,
        "SELECT columnname, datatypename, iskey, isreadonly, ordinal FROM SYS_TABLECOLUMNS \
         WHERE tablename = 'people' AND ordinal <= 2",
        &[],
    )
    .await;
    assert_eq!(
        got,
        rows(&[
            &["Id", "bigint", "true", "true", "1"],
            &["Name", "varchar", "false", "false", "2"]
        ])
    );
    let got = query(
        &s,
        "SELECT SchemaName, ProcedureName FROM sys_procedures",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["crm", "Greet"]]));
    let got = query(
        &s,
        "SELECT ColumnName, DataTypeName, IsRequired FROM sys_procedureparameters ORDER BY Ordinal",
        &[],
    )
    .await;
    assert_eq!(
        got,
        rows(&[&["Name", "varchar", "true"], &["Times", "bigint", "false"]])
    );
    let got = query(
        &s,
        "SELECT VALUE FROM sys_sqlinfo WHERE NAME = 'IDENTIFIER_QUOTE_OPEN_CHAR'",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["["]]));
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_props_mask_secrets() {
    let cs: connstr::ConnectionString =
        "AuthScheme=PrivateApp;PrivateAppToken=pat-na1-very-secret;MaxRows=7"
            .parse()
            .unwrap();
    let connection = sources::find("hubdb").unwrap().configure(&cs).unwrap();
    let mut s = Session::new();
    s.register_source(
        "hubdb",
        Arc::new(MemorySource::example()),
        SessionOptions::from_connection(&connection),
    )
    .await
    .unwrap();
    let got = query(
        &s,
        "SELECT Name, Value, Category FROM sys_connection_props WHERE Name IN ('PrivateAppToken', 'AuthScheme', 'MaxRows') ORDER BY Name",
        &[],
    )
    .await;
    assert_eq!(got[0][0], "AuthScheme");
    assert_eq!(got[0][1], "PrivateApp");
    assert_eq!(got[1], vec!["MaxRows", "7", got[1][2].as_str()]);
    assert_eq!(got[2][0], "PrivateAppToken");
    assert!(!got[2][1].contains("secret"), "{got:?}");
    let schema = s
        .execute("SELECT * FROM sys_connection_props", &[])
        .await
        .unwrap()
        .collect()
        .await
        .unwrap()[0]
        .schema();
    let names: Vec<&str> = schema
        .fields()
        .iter()
        .take(8)
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Name",
            "ShortDescription",
            "Type",
            "Values",
            "Default",
            "Category",
            "Required",
            "Value"
        ]
    );
    // MaxRows from the connection string applies.
    assert_eq!(query(&s, "SELECT * FROM colours", &[]).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn insert_update_delete_report_affected_rows() {
    let (s, src) = session().await;
    let r = s
        .execute(
            "INSERT INTO people (Name, City, Age) VALUES (?, ?, ?), ('Barbara', 'Boston', 54)",
            &["Edsger".into(), "Austin".into(), Value::Int(72)],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(2));
    let got = query(
        &s,
        "SELECT Id, Name, City, Age FROM people WHERE Id >= 6 ORDER BY Id",
        &[],
    )
    .await;
    assert_eq!(
        got,
        rows(&[
            &["6", "Edsger", "Austin", "72"],
            &["7", "Barbara", "Boston", "54"]
        ])
    );

    src.clear_log();
    let r = s
        .execute(
            "UPDATE people SET Age = Age + 1, Active = ? WHERE City = 'London'",
            &[Value::Bool(true)],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(2));
    // The keys were selected with the filter pushed down.
    assert_eq!(
        src.scans()[0].1.filters,
        vec![Filter::new("City", Op::Eq, "London")]
    );
    let got = query(
        &s,
        "SELECT Name, Age, Active FROM people WHERE City = 'London' ORDER BY Id",
        &[],
    )
    .await;
    assert_eq!(
        got,
        rows(&[&["Ada", "37", "true"], &["alan", "42", "true"]])
    );

    let r = s
        .execute("UPDATE people SET Age = 1 WHERE Id = 999", &[])
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(0));

    let r = s
        .execute("DELETE FROM people WHERE Id = ?", &[Value::Int(6)])
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(1));
    let r = s
        .execute("DELETE FROM people WHERE Age > 80", &[])
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(1));
    let ids: Vec<Value> = src.people().iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        ids,
        vec![
            Value::Int(1),
            Value::Int(2),
            Value::Int(4),
            Value::Int(5),
            Value::Int(7)
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dml_errors_name_the_table_column_or_row() {
    let (s, _) = session().await;
    let e = error(&s, "INSERT INTO orders (Amount) VALUES (1.0)", &[]).await;
    assert_eq!(e, "INSERT is not allowed on orders: it is a read-only view");
    let e = error(&s, "UPDATE people SET Id = 5 WHERE Id = 1", &[]).await;
    assert_eq!(e, "UPDATE is not allowed on people: column Id is read-only");
    let e = error(&s, "INSERT INTO people (Nam) VALUES ('x')", &[]).await;
    assert_eq!(e, "column Nam not found in people; did you mean Name?");
    let e = error(&s, "INSERT INTO people (Name, City) VALUES ('x')", &[]).await;
    assert!(e.contains("names 2 column(s) but gives 1"), "{e}");
    let e = error(&s, "DELETE FROM sys_tables", &[]).await;
    assert!(e.contains("system tables are read-only"), "{e}");
    // The source refuses one row of two: the other is written and the failure is reported.
    let e = s
        .execute(
            "INSERT INTO people (Name, City) VALUES ('Ok', 'Oslo'), (NULL, 'Nowhere')",
            &[],
        )
        .await
        .unwrap_err();
    match &e {
        Error::PartialWrite {
            affected, errors, ..
        } => {
            assert_eq!(*affected, 1);
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].index, 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "INSERT on people: 1 row(s) applied, 1 failed; first: row #1 column Name: Name is required"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_runs_procedures_with_named_inputs() {
    let (s, _) = session().await;
    let got = query(&s, "EXEC Greet Name = 'Ada', Times = 2", &[]).await;
    assert_eq!(got, rows(&[&["Hello, Ada!"], &["Hello, Ada!"]]));
    let got = query(&s, "execute crm.greet @name = ?", &["Grace".into()]).await;
    assert_eq!(got, rows(&[&["Hello, Grace!"]]));
    assert_eq!(
        error(&s, "EXEC Gret Name = 'x'", &[]).await,
        "procedure Gret not found; did you mean Greet?"
    );
    assert_eq!(
        error(&s, "EXEC Greet Nme = 'x'", &[]).await,
        "Greet has no input Nme (did you mean Name?); inputs: Name, Times"
    );
    assert_eq!(
        error(&s, "EXEC Greet Times = 3", &[]).await,
        "Greet needs input Name: Who"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_shows_the_pushed_filters() {
    let (s, _) = session().await;
    let plan = query(
        &s,
        "EXPLAIN SELECT Name FROM people WHERE City = 'London'",
        &[],
    )
    .await;
    let text: String = plan
        .iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("full_filters=[people.City = Utf8(\"London\")]"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_and_tables_serve_the_cli() {
    let (s, _) = session().await;
    assert_eq!(s.describe("[crm].[People]").await.unwrap().name, "people");
    assert_eq!(
        s.describe("peeple").await.unwrap_err().to_string(),
        "table peeple not found; did you mean people?"
    );
    let tables: Vec<String> = s
        .tables()
        .into_iter()
        .map(|(src, t)| format!("{src}.{}", t.name))
        .collect();
    assert_eq!(tables, ["crm.people", "crm.orders", "mem.colours"]);
    let r = s.execute("SELECT 1", &[]).await.unwrap();
    assert!(matches!(r, QueryResult::Rows(_)));
}

#[tokio::test(flavor = "multi_thread")]
async fn top_is_a_limit_and_reaches_the_source() {
    let (s, src) = session().await;
    let got = query(&s, "SELECT TOP 2 Id FROM people", &[]).await;
    assert_eq!(got, rows(&[&["1"], &["2"]]));
    assert_eq!(src.scans()[0].1.limit, Some(2));
    let got = query(
        &s,
        "SELECT Name FROM people WHERE Id IN (SELECT TOP 1 Id FROM people ORDER BY Id DESC)",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["Alice"]]));
    let got = query(
        &s,
        "SELECT DISTINCT TOP 2 City FROM people ORDER BY City",
        &[],
    )
    .await;
    assert_eq!(got, rows(&[&["London"], &["New York"]]));
    // CData's `LIMIT count, skip`: two rows after skipping one.
    let got = query(&s, "SELECT Id FROM people ORDER BY Id LIMIT 2, 1", &[]).await;
    assert_eq!(got, rows(&[&["2"], &["3"]]));
    assert_eq!(
        error(&s, "SELECT TOP 2 Id FROM people LIMIT 1", &[]).await,
        "syntax error: TOP and LIMIT in one SELECT; use one of them"
    );
    assert_eq!(
        error(&s, "SELECT TOP 10 PERCENT Id FROM people", &[]).await,
        "TOP … PERCENT / WITH TIES; use TOP n or LIMIT n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn select_into_csv_writes_the_rows_to_a_file() {
    let (s, _src) = session().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    let r = s
        .execute(
            &format!(
                "SELECT Id, Name INTO [csv://{}] FROM people WHERE City = 'London' ORDER BY Id",
                file.display()
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.affected(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "Id,Name\n1,Ada\n2,alan\n"
    );
    let tsv = dir.path().join("people.tsv");
    s.execute(
        &format!(
            "SELECT TOP 1 Id, Name INTO [csv://filename={};delimiter=tab] FROM people",
            tsv.display()
        ),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read_to_string(&tsv).unwrap(), "Id\tName\n1\tAda\n");
    assert_eq!(
        error(&s, "SELECT Id INTO [json://x.json] FROM people", &[]).await,
        "SELECT … INTO json://x.json: only csv:// targets are supported; write INTO [csv://file.csv] or [csv://file.csv;delimiter=tab]"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scope_identity_and_sys_identity_report_the_last_insert() {
    let (s, _src) = session().await;
    assert_eq!(
        query(&s, "SELECT SCOPE_IDENTITY()", &[]).await,
        rows(&[&["NULL"]])
    );
    s.execute(
        "INSERT INTO people (Name, City, Age) VALUES ('Edsger', 'Austin', 72), ('Barbara', 'Boston', 54)",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(
        query(&s, "SELECT SCOPE_IDENTITY() AS id", &[]).await,
        rows(&[&["7"]])
    );
    assert_eq!(
        query(&s, "SELECT * FROM sys_identity", &[]).await,
        rows(&[
            &["6", "1", "INSERT", "SUCCESS"],
            &["7", "2", "INSERT", "SUCCESS"]
        ])
    );
    assert_eq!(
        query(
            &s,
            "SELECT Name FROM people WHERE Id = CAST(SCOPE_IDENTITY() AS BIGINT)",
            &[]
        )
        .await,
        rows(&[&["Barbara"]])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn key_and_index_system_tables_list_each_tables_key() {
    let (s, _src) = session().await;
    assert_eq!(
        query(
            &s,
            "SELECT SchemaName, TableName, ColumnName, KeySeq, KeyName FROM sys_primarykeys WHERE SchemaName = 'crm' ORDER BY TableName",
            &[]
        )
        .await,
        rows(&[
            &["crm", "orders", "Id", "1", "PK_orders"],
            &["crm", "people", "Id", "1", "PK_people"]
        ])
    );
    assert_eq!(
        query(
            &s,
            "SELECT TableName, ColumnName, IsKey, IsForeignKey, PrimaryKeyName, ReferencedTableName FROM sys_keycolumns WHERE TableName = 'people'",
            &[]
        )
        .await,
        rows(&[&["people", "Id", "true", "false", "PK_people", "NULL"]])
    );
    assert_eq!(
        query(&s, "SELECT COUNT(*) FROM sys_foreignkeys", &[]).await,
        rows(&[&["0"]])
    );
    assert_eq!(
        query(
            &s,
            "SELECT IndexName, ColumnName, IsUnique, IsPrimary, SortOrder, OrdinalPosition FROM sys_indexes WHERE TableName = 'people'",
            &[]
        )
        .await,
        rows(&[&["PK_people", "Id", "true", "true", "A", "1"]])
    );
    assert_eq!(
        query(
            &s,
            "SELECT Product, SchemaName FROM sys_information ORDER BY SchemaName",
            &[]
        )
        .await,
        rows(&[&["connector", "crm"], &["connector", "mem"]])
    );
}
