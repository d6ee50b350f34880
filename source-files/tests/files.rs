//! The Files source against real temporary folders: discovery, type inference, every pushed
//! operator, NULLs, paging, limits, projection, MaxRows, inserts, the procedure, validation
//! and error messages.
// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use futures::StreamExt;
use source_core::datetime::days_from_civil;
use source_core::test_util::{column, read, rows, scan_error};
use source_core::{
    DataSource, ErrorKind, Filter, FilterSupport, Op, ScanRequest, TableKind, Value,
};
use source_files::{FilesError, SOURCE};
use source_plugin::Connection;
use tempfile::TempDir;

const PEOPLE: &str = "\
id,name,score,active,born,note
1,Ada,3.5,true,1815-12-10,first
2,Alan,4,FALSE,1912-06-23,
3,Grace,,True,1906-12-09,\"likes \"\"quotes\"\", commas\"
4,Linus,2.25,false,,100%
5,,1e1,,1969-12-28,a_b
";

/// A temporary folder holding `files` (name, content).
fn folder(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

fn configure(text: &str) -> Result<Connection, connstr::ValidationError> {
    SOURCE.configure(&text.parse().unwrap())
}

fn connection(dir: &Path, extra: &str) -> Connection {
    configure(&format!("Folder={};{extra}", dir.display())).unwrap()
}

fn open(dir: &Path, extra: &str) -> Arc<dyn DataSource> {
    connection(dir, extra).open().unwrap()
}

fn people() -> (TempDir, Arc<dyn DataSource>) {
    let dir = folder(&[("people.csv", PEOPLE)]);
    let source = open(dir.path(), "");
    (dir, source)
}

fn date(y: i64, m: i64, d: i64) -> Value {
    Value::Date(i32::try_from(days_from_civil(y, m, d)).unwrap())
}

/// The ids of the rows `filters` keep, after checking that each is pushed exactly.
async fn ids(source: &dyn DataSource, filters: &[Filter]) -> Vec<i64> {
    let table = source.table("people").await.unwrap();
    let mut request = ScanRequest::all().project(["id"]);
    for f in filters {
        assert_eq!(
            source.filter_support(&table, f),
            FilterSupport::Exact,
            "{f}"
        );
        request = request.filter(f.clone());
    }
    column(&read(source, "people", request).await, "id")
        .into_iter()
        .map(|v| match v {
            Value::Int(i) => i,
            other => panic!("id {other:?}"),
        })
        .collect()
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

#[tokio::test]
async fn discovers_csv_files_and_infers_types() {
    let dir = folder(&[
        ("people.csv", PEOPLE),
        ("Other.CSV", "x;y\n1;2\n"),
        ("empty.csv", "a,b\n"),
        ("notes.txt", "not,a,table\n"),
    ]);
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/nested.csv"), "a\n1\n").unwrap();
    let source = open(dir.path(), "");
    let tables = source.list_tables().await.unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Other", "empty", "people"]);

    let people = source.table("PEOPLE").await.unwrap();
    assert_eq!(people.name, "people");
    assert_eq!(people.kind, TableKind::Table);
    assert!(people.writable.insert && !people.writable.update && !people.writable.delete);
    let types: Vec<(&str, DataType, &str)> = people
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.data_type.clone(), c.native_type.as_str()))
        .collect();
    assert_eq!(
        types,
        [
            ("id", DataType::Int64, "INTEGER"),
            ("name", DataType::Utf8, "TEXT"),
            ("score", DataType::Float64, "FLOAT"),
            ("active", DataType::Boolean, "BOOLEAN"),
            ("born", DataType::Date32, "DATE"),
            ("note", DataType::Utf8, "TEXT"),
        ]
    );
    assert_eq!(people.column("ACTIVE").unwrap().name, "active");
    // A header-only file has no values to infer from: text, the type that cannot fail.
    let empty = source.table("empty").await.unwrap();
    assert!(empty.columns.iter().all(|c| c.data_type == DataType::Utf8));
    // The default delimiter is a comma: `x;y` is one column.
    assert_eq!(source.table("other").await.unwrap().columns.len(), 1);
}

#[tokio::test]
async fn scans_typed_values_with_nulls() {
    let (_dir, source) = people();
    let batches = read(&*source, "people", ScanRequest::all()).await;
    assert_eq!(rows(&batches), 5);
    assert_eq!(
        column(&batches, "score"),
        [3.5, 4.0, f64::NAN, 2.25, 10.0].map(|x| if x.is_nan() {
            Value::Null
        } else {
            Value::Float(x)
        })
    );
    assert_eq!(
        column(&batches, "active"),
        [
            Value::Bool(true),
            Value::Bool(false),
            Value::Bool(true),
            Value::Bool(false),
            Value::Null
        ]
    );
    assert_eq!(column(&batches, "born")[0], date(1815, 12, 10));
    assert_eq!(column(&batches, "born")[3], Value::Null);
    assert_eq!(column(&batches, "name")[4], Value::Null);
    assert_eq!(
        column(&batches, "note")[2],
        Value::from("likes \"quotes\", commas")
    );
    // Batches carry the field metadata of the table's schema.
    let schema = source.table("people").await.unwrap().schema();
    assert_eq!(batches[0].schema(), schema);
}

#[tokio::test]
async fn comparisons_on_every_type_are_exact() {
    let (_dir, source) = people();
    let s = &*source;
    let f = |c: &str, op, v: Value| vec![Filter::new(c, op, v)];
    let cases: Vec<(Vec<Filter>, Vec<i64>)> = vec![
        (f("id", Op::Eq, Value::Int(3)), vec![3]),
        (f("id", Op::Ne, Value::Int(3)), vec![1, 2, 4, 5]),
        (f("id", Op::Lt, Value::Int(3)), vec![1, 2]),
        (f("id", Op::Le, Value::Int(3)), vec![1, 2, 3]),
        (f("id", Op::Gt, Value::Int(3)), vec![4, 5]),
        (f("ID", Op::Ge, Value::Int(3)), vec![3, 4, 5]),
        // An integer literal on a float column; NULL scores (row 3) never match.
        (f("score", Op::Gt, Value::Int(3)), vec![1, 2, 5]),
        (f("score", Op::Ne, Value::Int(4)), vec![1, 4, 5]),
        (f("score", Op::Eq, Value::Float(4.0)), vec![2]),
        (f("score", Op::Le, Value::Float(2.25)), vec![4]),
        (f("active", Op::Eq, Value::Bool(true)), vec![1, 3]),
        (f("active", Op::Ne, Value::Bool(true)), vec![2, 4]),
        (f("active", Op::Lt, Value::Bool(true)), vec![2, 4]),
        (f("born", Op::Lt, date(1900, 1, 1)), vec![1]),
        (f("born", Op::Ge, date(1906, 12, 9)), vec![2, 3, 5]),
        (f("born", Op::Ne, date(1815, 12, 10)), vec![2, 3, 5]),
        (f("name", Op::Eq, "Ada".into()), vec![1]),
        (f("name", Op::Ne, "Ada".into()), vec![2, 3, 4]),
        (f("name", Op::Gt, "B".into()), vec![3, 4]),
        // Code-point order: every capital sorts before `a`.
        (f("name", Op::Lt, "a".into()), vec![1, 2, 3, 4]),
        (f("name", Op::Eq, "ada".into()), vec![]),
        (
            vec![
                Filter::new("id", Op::Gt, 1i64),
                Filter::new("active", Op::Eq, true),
            ],
            vec![3],
        ),
    ];
    for (filters, expected) in cases {
        assert_eq!(ids(s, &filters).await, expected, "{filters:?}");
    }
}

#[tokio::test]
async fn in_lists_null_tests_and_null_literals_follow_sql() {
    let (_dir, source) = people();
    let s = &*source;
    let cases: Vec<(Filter, Vec<i64>)> = vec![
        (
            Filter::in_list("id", vec![Value::Int(1), Value::Int(4), Value::Null]),
            vec![1, 4],
        ),
        (
            Filter::in_list("name", vec!["Ada".into(), "Linus".into()]),
            vec![1, 4],
        ),
        (
            Filter::in_list("score", vec![Value::Int(4), Value::Float(10.0)]),
            vec![2, 5],
        ),
        (Filter::in_list("born", vec![date(1969, 12, 28)]), vec![5]),
        (Filter::in_list("id", vec![]), vec![]),
        (Filter::in_list("id", vec![Value::Null]), vec![]),
        (Filter::is_null("score"), vec![3]),
        (Filter::is_null("name"), vec![5]),
        (Filter::is_null("born"), vec![4]),
        (Filter::is_not_null("note"), vec![1, 3, 4, 5]),
        (Filter::is_not_null("active"), vec![1, 2, 3, 4]),
        (Filter::new("id", Op::Eq, Value::Null), vec![]),
        (Filter::new("name", Op::Ne, Value::Null), vec![]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            ids(s, std::slice::from_ref(&filter)).await,
            expected,
            "{filter}"
        );
    }
}

#[tokio::test]
async fn like_is_exact_on_text_columns() {
    let (_dir, source) = people();
    let s = &*source;
    let cases = [
        ("name", "A%", vec![1, 2]),
        ("name", "a%", vec![]),
        ("name", "_da", vec![1]),
        ("name", "%a%", vec![1, 2, 3]),
        ("name", "%", vec![1, 2, 3, 4]),
        ("note", "100\\%", vec![4]),
        ("note", "%\\_%", vec![5]),
        ("note", "a_b", vec![5]),
        ("note", "%\"%", vec![3]),
    ];
    for (col, pattern, expected) in cases {
        let filter = Filter::new(col, Op::Like, pattern);
        assert_eq!(ids(s, &[filter]).await, expected, "{col} LIKE {pattern}");
    }
    assert_eq!(
        ids(s, &[Filter::new("name", Op::Like, Value::Null)]).await,
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn unsupported_filters_are_declared_and_refused() {
    let (_dir, source) = people();
    let table = source.table("people").await.unwrap();
    let unsupported = [
        Filter::new("id", Op::Eq, 2.5),
        Filter::new("id", Op::Like, "1%"),
        Filter::new("born", Op::Eq, "1815-12-10"),
        Filter::new("born", Op::Eq, Value::TimestampMs(0)),
        Filter::new("score", Op::Lt, f64::NAN),
        Filter::new("active", Op::Eq, 1i64),
        Filter::new("name", Op::NotLike, "A%"),
        Filter::new("name", Op::Contains, "a"),
        Filter::new("name", Op::IContains, "a"),
        Filter::new("name", Op::StartsWith, "A"),
        Filter::in_list("id", vec![Value::Int(1), "2".into()]),
        Filter::new("nosuch", Op::Eq, 1i64),
    ];
    for f in &unsupported {
        assert_eq!(
            source.filter_support(&table, f),
            FilterSupport::Unsupported,
            "{f}"
        );
    }
    let err = scan_error(
        &*source,
        "people",
        ScanRequest::all().filter(Filter::new("name", Op::Contains, "a")),
    )
    .await;
    assert_eq!(
        err.to_string(),
        "filter `name CONTAINS` cannot be applied by the source on `people`; evaluate it client-side"
    );
    assert_eq!(err.kind(), ErrorKind::Internal);
    assert!(!source.sort_support(&table, &[source_core::SortKey::asc("id")]));
}

#[tokio::test]
async fn pages_follow_pagesize() {
    let dir = folder(&[("people.csv", PEOPLE)]);
    let source = open(dir.path(), "Pagesize=2");
    let sizes = |b: &[RecordBatch]| b.iter().map(RecordBatch::num_rows).collect::<Vec<_>>();
    let batches = read(&*source, "people", ScanRequest::all()).await;
    assert_eq!(sizes(&batches), [2, 2, 1]);
    // Pages count matching rows, not rows read.
    let request = ScanRequest::all().filter(Filter::new("id", Op::Ne, 3i64));
    assert_eq!(sizes(&read(&*source, "people", request).await), [2, 2]);
    // Pagesize is capped, not rejected.
    let config = source_files::validate(&"Folder=x;Pagesize=1000000".parse().unwrap()).unwrap();
    assert_eq!(config.page_size, source_files::MAX_PAGE_SIZE);
}

#[tokio::test]
async fn reads_lazily_and_a_limit_stops_reading() {
    // Line 7 is malformed: reaching it fails the scan (types come from the lines before it).
    let dir = folder(&[("big.csv", "n\n1\n2\n3\n4\n5\n6,extra\n")]);
    let source = open(dir.path(), "Pagesize=2;RowScanDepth=3");
    let batches = read(&*source, "big", ScanRequest::all().limit(3)).await;
    assert_eq!(column(&batches, "n"), [1, 2, 3].map(Value::Int));
    assert_eq!(batches.len(), 2);
    let batches = read(&*source, "big", ScanRequest::all().limit(5)).await;
    assert_eq!(rows(&batches), 5);
    assert!(
        read(&*source, "big", ScanRequest::all().limit(0))
            .await
            .is_empty()
    );

    // Without a limit, the pages before the bad line arrive before its error.
    let mut stream = source.scan("big", ScanRequest::all()).await.unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap().num_rows(), 2);
    assert_eq!(stream.next().await.unwrap().unwrap().num_rows(), 2);
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "big.csv line 7: found 2 fields where the header has 1"
    );
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(matches!(
        err.source_error()
            .and_then(|e| e.downcast_ref::<FilesError>()),
        Some(FilesError::Malformed { line: 7, .. })
    ));
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn projection_builds_only_the_requested_columns() {
    let (_dir, source) = people();
    let batches = read(
        &*source,
        "people",
        ScanRequest::all().project(["NAME", "id"]),
    )
    .await;
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["name", "id"]);
    assert_eq!(column(&batches, "id"), [1, 2, 3, 4, 5].map(Value::Int));

    // No columns: row counts only, still filtered.
    let batches = read(
        &*source,
        "people",
        ScanRequest::all().project(Vec::<String>::new()),
    )
    .await;
    assert!(batches.iter().all(|b| b.num_columns() == 0));
    assert_eq!(rows(&batches), 5);
    let request = ScanRequest::all()
        .project(Vec::<String>::new())
        .filter(Filter::new("id", Op::Gt, 2i64));
    assert_eq!(rows(&read(&*source, "people", request).await), 3);

    let err = scan_error(&*source, "people", ScanRequest::all().project(["nmae"])).await;
    assert_eq!(
        err.to_string(),
        "table `people` has no column `nmae`; did you mean `name`?"
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn max_rows_caps_scans_but_not_sql_sessions() {
    let dir = folder(&[("people.csv", PEOPLE)]);
    let connection = connection(dir.path(), "MaxRows=2");
    let capped = connection.open().unwrap();
    assert_eq!(rows(&read(&*capped, "people", ScanRequest::all()).await), 2);
    assert_eq!(
        rows(&read(&*capped, "people", ScanRequest::all().limit(1)).await),
        1
    );
    let sql = connection.open_for_sql().unwrap();
    assert_eq!(rows(&read(&*sql, "people", ScanRequest::all()).await), 5);
}

#[tokio::test]
async fn a_value_past_the_scanned_rows_must_fit_its_column() {
    let dir = folder(&[("late.csv", "n\n1\n2\nthree\n")]);
    let source = open(dir.path(), "RowScanDepth=2");
    assert_eq!(
        source.table("late").await.unwrap().columns[0].data_type,
        DataType::Int64
    );
    let err = scan_error(&*source, "late", ScanRequest::all()).await;
    assert_eq!(
        err.to_string(),
        "late.csv line 4 column `n`: \"three\" is not an integer (the type was inferred from the first 2 rows; fix the value or raise RowScanDepth)"
    );
    assert_eq!(err.kind(), ErrorKind::BadInput);
    // Scanning deeper finds the text.
    let source = open(dir.path(), "RowScanDepth=3");
    assert_eq!(
        source.table("late").await.unwrap().columns[0].data_type,
        DataType::Utf8
    );
}

#[tokio::test]
async fn malformed_files_name_the_file_and_line() {
    let dir = folder(&[("short.csv", "a,b\n1,2\n3\n")]);
    std::fs::write(dir.path().join("bytes.csv"), b"a\nok\n\xff\n").unwrap();
    let source = open(dir.path(), "");
    let err = source.table("short").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "short.csv line 3: found 1 field where the header has 2"
    );
    assert_eq!(err.kind(), ErrorKind::BadInput);
    let err = source.table("bytes").await.unwrap_err();
    assert_eq!(err.to_string(), "bytes.csv line 3: not valid UTF-8");
    // Listing infers every table's types, so a malformed file among them fails it.
    let err = source.list_tables().await.unwrap_err();
    assert!(err.to_string().starts_with("bytes.csv line 3"), "{err}");
}

#[tokio::test]
async fn other_delimiters() {
    let dir = folder(&[("semi.csv", "a;b\n1;x\n"), ("tabs.csv", "a\tb\n1\tx\n")]);
    let semi = open(dir.path(), "Delimiter=';'");
    let batches = read(&*semi, "semi", ScanRequest::all()).await;
    assert_eq!(column(&batches, "b"), [Value::from("x")]);
    let tabs = open(dir.path(), "Delimiter=\\t");
    let batches = read(&*tabs, "tabs", ScanRequest::all()).await;
    assert_eq!(column(&batches, "a"), [Value::Int(1)]);
}

#[tokio::test]
async fn insert_appends_rows_and_reports_values_that_do_not_fit() {
    let (dir, source) = people();
    let rows_in = batch(vec![
        // Text that reads as an integer fits an INTEGER column; "seven" does not.
        (
            "id",
            Arc::new(StringArray::from(vec!["6", "seven", "8", "9"])) as ArrayRef,
        ),
        (
            "NAME",
            Arc::new(StringArray::from(vec![
                Some("Zoe, \"Jr\""),
                Some("X"),
                Some(""),
                None,
            ])),
        ),
        (
            "score",
            Arc::new(Float64Array::from(vec![Some(1.5), None, None, Some(2.0)])),
        ),
        (
            "born",
            Arc::new(Date32Array::from(vec![Some(0), None, None, Some(-1)])),
        ),
        (
            "note",
            Arc::new(StringArray::from(vec![
                Some("two\nlines"),
                None,
                None,
                None,
            ])),
        ),
    ]);
    let outcome = source.insert("people", rows_in).await.unwrap();
    assert_eq!(outcome.affected, 2);
    let errors: Vec<(usize, Option<&str>, &str)> = outcome
        .errors
        .iter()
        .map(|e| (e.index, e.column.as_deref(), e.message.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (
                1,
                Some("id"),
                "\"seven\" is not an integer (the column's type)"
            ),
            (
                2,
                Some("name"),
                "an empty text cannot be stored: an empty cell reads as NULL"
            ),
        ]
    );
    let batches = read(&*source, "people", ScanRequest::all()).await;
    assert_eq!(
        column(&batches, "id"),
        [1, 2, 3, 4, 5, 6, 9].map(Value::Int)
    );
    assert_eq!(column(&batches, "name")[5], Value::from("Zoe, \"Jr\""));
    assert_eq!(column(&batches, "note")[5], Value::from("two\nlines"));
    assert_eq!(column(&batches, "born")[5], date(1970, 1, 1));
    assert_eq!(column(&batches, "born")[6], date(1969, 12, 31));
    assert_eq!(column(&batches, "score")[6], Value::Float(2.0));
    assert_eq!(column(&batches, "active")[6], Value::Null);
    let text = std::fs::read_to_string(dir.path().join("people.csv")).unwrap();
    assert!(text.ends_with("9,,2,,1969-12-31,\n"), "{text}");

    let err = source
        .insert(
            "people",
            batch(vec![(
                "nmae",
                Arc::new(Int64Array::from(vec![1])) as ArrayRef,
            )]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "table `people` has no column `nmae`; did you mean `name`?"
    );
    let err = source
        .update(
            "people",
            batch(vec![(
                "id",
                Arc::new(Int64Array::from(vec![1])) as ArrayRef,
            )]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "update is not supported on `people`");
}

#[tokio::test]
async fn insert_completes_a_last_line_without_a_line_break() {
    let dir = folder(&[("t.csv", "a,b\n1,2")]);
    let source = open(dir.path(), "");
    let rows_in = batch(vec![
        ("b", Arc::new(Int64Array::from(vec![4])) as ArrayRef),
        ("a", Arc::new(Int64Array::from(vec![3]))),
    ]);
    assert_eq!(source.insert("t", rows_in).await.unwrap().affected, 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("t.csv")).unwrap(),
        "a,b\n1,2\n3,4\n"
    );
}

#[tokio::test]
async fn create_table_makes_a_table_that_is_listed_and_writable() {
    let dir = folder(&[("people.csv", PEOPLE)]);
    let connection = connection(dir.path(), "");
    let procedures = connection.procedures().unwrap();
    let def = procedures.describe("createtable").unwrap();
    assert_eq!(
        def.results.iter().map(|r| r.name).collect::<Vec<_>>(),
        ["Table", "File"]
    );
    let inputs = |name: &str, columns: &str| {
        vec![
            ("Name".to_owned(), Value::from(name)),
            ("Columns".to_owned(), Value::from(columns)),
        ]
    };
    let out = procedures
        .execute("CreateTable", inputs("orders", "id, item ,qty"))
        .await
        .unwrap();
    assert_eq!(out.first("Table"), Some("orders"));
    let file = dir.path().join("orders.csv");
    assert_eq!(out.first("File"), Some(file.display().to_string().as_str()));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "id,item,qty\n");

    let source = connection.open().unwrap();
    let tables = source.list_tables().await.unwrap();
    let orders = tables.iter().find(|t| t.name == "orders").unwrap();
    let names: Vec<&str> = orders.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "item", "qty"]);
    let rows_in = batch(vec![(
        "item",
        Arc::new(StringArray::from(vec!["pen"])) as ArrayRef,
    )]);
    assert_eq!(source.insert("orders", rows_in).await.unwrap().affected, 1);

    let refused = [
        (inputs("orders", "a"), "table `orders` already exists"),
        (inputs("People", "a"), "table `people` already exists"),
        (
            inputs("../evil", "a"),
            "invalid table name \"../evil\": a table name cannot contain a path separator",
        ),
        (
            inputs("x", "a,,b"),
            "invalid Columns \"a,,b\": a column name is empty",
        ),
        (
            inputs("x", "a,A"),
            "invalid Columns \"a,A\": column `A` appears twice (names are compared ignoring case)",
        ),
    ];
    for (args, message) in refused {
        let err = procedures.execute("CreateTable", args).await.unwrap_err();
        assert!(err.to_string().starts_with(message), "{err}");
        assert_eq!(err.kind(), ErrorKind::BadInput, "{err}");
    }
    assert!(!dir.path().join("x.csv").exists());
    let err = procedures.execute("CreateTable", vec![]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "CreateTable needs input Name: The table name; the file is <Name>.csv."
    );
}

#[test]
fn validation_reports_every_problem_with_its_fix() {
    let message = |text: &str| configure(text).unwrap_err().to_string();
    assert_eq!(
        message(""),
        "1 problem in the Files connection string:\n  - Folder is required to name the directory of .csv files to serve (e.g. Folder=/data/exports)"
    );
    assert_eq!(
        message("Delimiter=ab;Pagesize=0"),
        "3 problems in the Files connection string:\n  \
         - Folder is required to name the directory of .csv files to serve (e.g. Folder=/data/exports)\n  \
         - invalid value \"ab\" for Delimiter: expected one ASCII character such as , ; | or \\t for a tab\n  \
         - invalid value \"0\" for Pagesize: expected an integer >= 1"
    );
    assert_eq!(
        message("Folder=/data;Foldr=/data"),
        "1 problem in the Files connection string:\n  - unknown property Foldr; did you mean Folder?"
    );
    assert!(message("Folder=/data;Delimiter='\"'").contains("for Delimiter"));
    assert_eq!(
        message("Folder=/data;RowScanDepth=-1"),
        "1 problem in the Files connection string:\n  - invalid value \"-1\" for RowScanDepth: expected an integer >= 0"
    );

    let config = source_files::validate(&"Folder=/data;Delimiter=|".parse().unwrap()).unwrap();
    assert_eq!(config.folder, Path::new("/data"));
    assert_eq!(config.delimiter, b'|');
    assert_eq!(config.page_size, source_files::DEFAULT_PAGE_SIZE);
    assert_eq!(config.row_scan_depth, source_files::DEFAULT_ROW_SCAN_DEPTH);
    assert_eq!(config.common.max_rows, None);
}

#[test]
fn a_folder_that_is_not_a_directory_fails_on_connect() {
    let dir = folder(&[("people.csv", PEOPLE)]);
    let missing = dir.path().join("nope");
    let err = connection(&missing, "").open().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Folder {}: no such directory; set Folder to an existing directory of .csv files",
            missing.display()
        )
    );
    assert_eq!(err.kind(), ErrorKind::Config);
    let file = dir.path().join("people.csv");
    let err = connection(&file, "").open().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Folder {}: not a directory; set Folder to the directory that holds the .csv files",
            file.display()
        )
    );
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn a_folder_removed_after_connecting_is_a_config_error() {
    let dir = folder(&[("people.csv", PEOPLE)]);
    let source = open(dir.path(), "");
    let path = dir.path().to_owned();
    dir.close().unwrap();
    let err = source.list_tables().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_tables_suggest_the_nearest_name() {
    let (_dir, source) = people();
    let err = source.table("peple").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown table `peple`; did you mean `people`?"
    );
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = scan_error(&*source, "peopel", ScanRequest::all()).await;
    assert_eq!(
        err.to_string(),
        "unknown table `peopel`; did you mean `people`?"
    );
}

#[test]
fn registration() {
    let info = SOURCE.info();
    assert_eq!((info.name, info.display_name), ("files", "Files"));
    assert!(info.is_named("CSV"));
    let own: Vec<&str> = SOURCE.properties().own.iter().map(|p| p.name).collect();
    assert_eq!(own, ["Folder", "Delimiter"]);
    let dir = folder(&[]);
    let connection = connection(dir.path(), "");
    assert!(matches!(
        connection.auth().unwrap(),
        source_plugin::Auth::None
    ));
    assert_eq!(connection.open().unwrap().name(), "files");
}
