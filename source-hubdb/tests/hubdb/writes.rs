//! Draft writes: batch insert, update and delete with per-row errors.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use emulator::{ColumnSpec, ColumnType, TableSpec};
use serde_json::json;
use source_core::{DataSource, Filter, Op, ScanRequest, Value};

use crate::common::{self, builder, column, ids, read, rows, source};

fn tasks() -> TableSpec {
    TableSpec::new(
        "tasks",
        vec![
            ColumnSpec::new("name", ColumnType::Text),
            ColumnSpec::new("priority", ColumnType::Number),
            ColumnSpec::new("done", ColumnType::Boolean),
            ColumnSpec::new("due", ColumnType::Date),
            ColumnSpec::new("status", ColumnType::Select).with_options(&["open", "closed"]),
            ColumnSpec::new("labels", ColumnType::Multiselect).with_options(&["a", "b"]),
            ColumnSpec::new("meta", ColumnType::Json),
        ],
    )
    .row(json!({"name": "seeded", "priority": 1, "status": "open"}))
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("valid batch")
}

fn labels(n: usize) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new(
        "item",
        DataType::Utf8,
        true,
    )));
    for i in 0..n {
        b.values().append_value("a");
        if i % 2 == 0 {
            b.values().append_value("b");
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

#[tokio::test]
async fn insert_update_delete_on_the_draft() {
    let emu = builder().table(tasks()).start().await.unwrap();
    let s = source(&emu, "");
    let hs = emu.hubspot();

    // 150 rows: two batch calls of at most 100.
    let n = 150;
    let names: Vec<String> = (0..n).map(|i| format!("task {i}")).collect();
    let rows_in = batch(vec![
        (
            "name",
            Arc::new(StringArray::from(names.clone())) as ArrayRef,
        ),
        (
            "priority",
            Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64))),
        ),
        (
            "done",
            Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 2 == 0)))),
        ),
        (
            "due",
            Arc::new(Date32Array::from_iter_values(
                (0..n).map(|i| 19_723 + i as i32),
            )),
        ),
        (
            "status",
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| if i % 3 == 0 { "closed" } else { "open" }),
            )),
        ),
        ("labels", labels(n)),
        (
            "meta",
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("{{\"i\":{i}}}")),
            )),
        ),
        (
            "PagePath",
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("task-{i}")),
            )),
        ),
    ]);
    hs.clear_requests();
    let out = s.insert("tasks_Draft", rows_in).await.unwrap();
    assert_eq!(out.affected, n as u64);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.keys.len(), n);
    let creates = hs
        .requests_to(&common::tables_prefix())
        .into_iter()
        .filter(|r| r.path.ends_with("/batch/create"))
        .count();
    assert_eq!(creates, 2);

    let draft = read(&s, "tasks_Draft", ScanRequest::all()).await;
    assert_eq!(rows(&draft), n + 1);
    let published = read(&s, "tasks", ScanRequest::all()).await;
    assert_eq!(
        rows(&published),
        1,
        "the view shows the published version only"
    );
    let row7 = read(
        &s,
        "tasks_Draft",
        ScanRequest::all().filter(Filter::new("PagePath", Op::Eq, "task-7")),
    )
    .await;
    assert_eq!(column(&row7, "name"), vec![Value::Str("task 7".into())]);
    assert_eq!(column(&row7, "status"), vec![Value::Str("open".into())]);
    assert_eq!(column(&row7, "labels"), vec![Value::List(vec!["a".into()])]);
    assert_eq!(column(&row7, "due"), vec![Value::Date(19_730)]);
    assert_eq!(column(&row7, "done"), vec![Value::Bool(false)]);
    assert_eq!(column(&row7, "meta"), vec![Value::Str("{\"i\":7}".into())]);

    // Update two rows and one that does not exist.
    let first = match &out.keys[0] {
        Value::Int(i) => *i,
        other => panic!("{other:?}"),
    };
    let second = match &out.keys[1] {
        Value::Int(i) => *i,
        other => panic!("{other:?}"),
    };
    let upd = batch(vec![
        (
            "Id",
            Arc::new(Int64Array::from(vec![first, 999, second])) as ArrayRef,
        ),
        (
            "priority",
            Arc::new(Float64Array::from(vec![Some(42.0), Some(1.0), None])),
        ),
        (
            "status",
            Arc::new(StringArray::from(vec!["closed", "closed", "closed"])),
        ),
    ]);
    let out_u = s.update("tasks_Draft", upd).await.unwrap();
    assert_eq!(out_u.affected, 2);
    assert_eq!(out_u.errors.len(), 1);
    assert_eq!(out_u.errors[0].index, 1);
    assert_eq!(out_u.errors[0].key, Some(Value::Int(999)));
    assert!(out_u.errors[0].message.contains("999"));
    let check = read(
        &s,
        "tasks_Draft",
        ScanRequest::all().filter(Filter::in_list(
            "Id",
            vec![Value::Int(first), Value::Int(second)],
        )),
    )
    .await;
    assert_eq!(
        column(&check, "priority"),
        vec![Value::Float(42.0), Value::Null]
    );
    assert_eq!(
        column(&check, "status"),
        vec![Value::Str("closed".into()), Value::Str("closed".into())]
    );

    // A bad option in one row: that row is reported, the others are inserted.
    let bad = batch(vec![
        (
            "name",
            Arc::new(StringArray::from(vec!["ok 1", "bad", "ok 2"])) as ArrayRef,
        ),
        (
            "status",
            Arc::new(StringArray::from(vec!["open", "no-such-option", "closed"])),
        ),
    ]);
    let out_b = s.insert("tasks_Draft", bad).await.unwrap();
    assert_eq!(out_b.affected, 2);
    assert_eq!(out_b.errors.len(), 1);
    assert_eq!(out_b.errors[0].index, 1);
    assert!(
        out_b.errors[0].message.contains("status"),
        "{}",
        out_b.errors[0].message
    );
    assert!(
        out_b
            .clone()
            .into_result("tasks_Draft")
            .unwrap_err()
            .to_string()
            .contains("row #1")
    );

    // Delete two rows and a missing one.
    let del = batch(vec![(
        "Id",
        Arc::new(Int64Array::from(vec![first, 12345, second])) as ArrayRef,
    )]);
    let out_d = s.delete("tasks_Draft", del).await.unwrap();
    assert_eq!(out_d.affected, 2);
    assert_eq!(out_d.errors.len(), 1);
    assert_eq!(out_d.errors[0].key, Some(Value::Int(12345)));
    let after = ids(&read(&s, "tasks_Draft", ScanRequest::all().project(["Id"])).await);
    assert!(!after.contains(&first) && !after.contains(&second));
    assert_eq!(after.len(), n + 1 + 2 - 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn views_and_read_only_columns_refuse_writes() {
    let emu = builder().table(tasks()).start().await.unwrap();
    let s = source(&emu, "");
    let one = batch(vec![(
        "name",
        Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
    )]);
    let err = s.insert("tasks", one.clone()).await.unwrap_err();
    assert!(
        err.to_string().contains("`tasks` is read-only") && err.to_string().contains("tasks_Draft"),
        "{err}"
    );
    let err = s.insert("Owners", one).await.unwrap_err();
    assert!(err.to_string().contains("`Owners` is read-only"), "{err}");
    let ts = batch(vec![(
        "CreatedAt",
        Arc::new(arrow_array::TimestampMillisecondArray::from(vec![0]).with_timezone("+00:00"))
            as ArrayRef,
    )]);
    let err = s.insert("tasks_Draft", ts).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("`tasks_Draft`.`CreatedAt` is read-only"),
        "{err}"
    );
    let wrong = batch(vec![(
        "priority",
        Arc::new(StringArray::from(vec!["high"])) as ArrayRef,
    )]);
    let err = s.insert("tasks_Draft", wrong).await.unwrap_err();
    assert!(err.to_string().contains("column `priority`"), "{err}");
    emu.shutdown().await;
}
