//! A writable in-memory source with a scan log, for the SQL tests.

#![allow(dead_code)]

use std::cmp::Ordering;
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::DataType;
use source_core::procedure::{
    Args, InputDef, ParamType, ProcedureDef, ProcedureOutput, ProcedureSet,
};
use source_core::{
    BoxFuture, ColumnInfo, DataSource, Filter, FilterSupport, Op, RecordBatchStream, Result,
    RowError, ScanRequest, SortKey, TableInfo, TableKind, Value, Writable, WriteOutcome,
};

/// One row of `people` or `orders`, cells by column position.
pub(crate) type Row = Vec<Value>;

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) people: Vec<Row>,
    pub(crate) orders: Vec<Row>,
    pub(crate) next_id: i64,
    /// Every scan: (table, request).
    pub(crate) scans: Vec<(String, ScanRequest)>,
    /// Pages handed out, all scans together.
    pub(crate) pages: usize,
}

/// `people (Id key, Name, City, Age, Active)` and the read-only view `orders (Id key,
/// PersonId, Amount)`, pages of two rows.
///
/// Pushdown: `Id =` and `City =` exact, `Name LIKE` loose (matched ignoring case, so the
/// source returns extra rows), everything else unsupported. `people` sorts on `Id`, `Name`
/// and `Age` with SQL's default NULL placement (last ascending, first descending).
#[derive(Debug, Clone)]
pub(crate) struct TestSource {
    pub(crate) state: Arc<Mutex<State>>,
}

pub(crate) fn people_info() -> TableInfo {
    TableInfo {
        name: "people".into(),
        kind: TableKind::Table,
        description: "People".into(),
        columns: vec![
            ColumnInfo::new("Id", DataType::Int64, "ID").key(),
            ColumnInfo::new("Name", DataType::Utf8, "TEXT").describe("Full name"),
            ColumnInfo::new("City", DataType::Utf8, "TEXT"),
            ColumnInfo::new("Age", DataType::Int64, "NUMBER"),
            ColumnInfo::new("Active", DataType::Boolean, "BOOLEAN"),
        ],
        writable: Writable::ALL,
        required_filters: vec![],
    }
}

pub(crate) fn orders_info() -> TableInfo {
    TableInfo {
        name: "orders".into(),
        kind: TableKind::View,
        description: "Orders".into(),
        columns: vec![
            ColumnInfo::new("Id", DataType::Int64, "ID").key(),
            ColumnInfo::new("PersonId", DataType::Int64, "NUMBER"),
            ColumnInfo::new("Amount", DataType::Float64, "NUMBER"),
        ],
        writable: Writable::NONE,
        required_filters: vec![],
    }
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

impl TestSource {
    pub(crate) fn new() -> Self {
        let people = vec![
            vec![
                Value::Int(1),
                s("Ada"),
                s("London"),
                Value::Int(36),
                Value::Bool(true),
            ],
            vec![
                Value::Int(2),
                s("alan"),
                s("London"),
                Value::Int(41),
                Value::Bool(false),
            ],
            vec![
                Value::Int(3),
                s("Grace"),
                s("New York"),
                Value::Int(85),
                Value::Bool(true),
            ],
            vec![
                Value::Int(4),
                s("Linus"),
                s("Portland"),
                Value::Null,
                Value::Bool(true),
            ],
            vec![
                Value::Int(5),
                s("Alice"),
                Value::Null,
                Value::Int(29),
                Value::Null,
            ],
        ];
        let orders = vec![
            vec![Value::Int(10), Value::Int(1), Value::Float(9.5)],
            vec![Value::Int(11), Value::Int(1), Value::Float(20.0)],
            vec![Value::Int(12), Value::Int(3), Value::Float(7.25)],
            vec![Value::Int(13), Value::Int(9), Value::Float(1.0)],
        ];
        Self {
            state: Arc::new(Mutex::new(State {
                people,
                orders,
                next_id: 6,
                ..State::default()
            })),
        }
    }

    pub(crate) fn scans(&self) -> Vec<(String, ScanRequest)> {
        self.state.lock().unwrap().scans.clone()
    }

    pub(crate) fn pages(&self) -> usize {
        self.state.lock().unwrap().pages
    }

    pub(crate) fn clear_log(&self) {
        let mut st = self.state.lock().unwrap();
        st.scans.clear();
        st.pages = 0;
    }

    pub(crate) fn people(&self) -> Vec<Row> {
        self.state.lock().unwrap().people.clone()
    }
}

fn info(table: &str) -> Result<TableInfo> {
    source_core::find_table(&[people_info(), orders_info()], table).cloned()
}

fn matches(cell: &Value, f: &Filter) -> bool {
    match (f.op, cell, &f.value) {
        (Op::Eq, Value::Int(a), Value::Int(b)) => a == b,
        (Op::Eq, Value::Str(a), Value::Str(b)) => a == b,
        // Loose: ignoring case, and `%` only at the ends.
        (Op::Like, Value::Str(a), Value::Str(p)) => {
            let a = a.to_lowercase();
            let p = p.to_lowercase();
            let core = p.trim_matches('%');
            match (p.starts_with('%'), p.ends_with('%')) {
                (true, true) => a.contains(core),
                (false, true) => a.starts_with(core),
                (true, false) => a.ends_with(core),
                (false, false) => a == core,
            }
        }
        _ => false,
    }
}

fn column(values: Vec<&Value>, dt: &DataType) -> ArrayRef {
    match dt {
        DataType::Int64 => Arc::new(Int64Array::from_iter(values.into_iter().map(|v| match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }))),
        DataType::Float64 => Arc::new(Float64Array::from_iter(values.into_iter().map(
            |v| match v {
                Value::Float(x) => Some(*x),
                _ => None,
            },
        ))),
        DataType::Boolean => Arc::new(BooleanArray::from_iter(values.into_iter().map(
            |v| match v {
                Value::Bool(b) => Some(*b),
                _ => None,
            },
        ))),
        _ => Arc::new(StringArray::from_iter(values.into_iter().map(
            |v| match v {
                Value::Str(s) => Some(s.clone()),
                _ => None,
            },
        ))),
    }
}

fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Int64 => Value::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Utf8 => Value::Str(array.as_string::<i32>().value(row).to_owned()),
        other => Value::Str(format!("<{other}>")),
    }
}

/// Orders `rows` by `keys`, NULL as the largest value (the placement `sort_support` accepts).
fn sort_rows(rows: &mut [Row], keys: &[SortKey], index: &dyn Fn(&str) -> Option<usize>) {
    let cmp = |a: &Value, b: &Value| match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        _ => Ordering::Equal,
    };
    rows.sort_by(|a, b| {
        keys.iter()
            .filter_map(|k| {
                let i = index(&k.column)?;
                let o = cmp(&a[i], &b[i]);
                Some(if k.descending { o.reverse() } else { o })
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
}

impl DataSource for TestSource {
    fn name(&self) -> &str {
        "test"
    }

    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<TableInfo>>> {
        Box::pin(async { Ok(vec![people_info(), orders_info()]) })
    }

    fn filter_support(&self, table: &TableInfo, filter: &Filter) -> FilterSupport {
        match (
            table.name.as_str(),
            filter.column.as_str(),
            filter.op,
            &filter.value,
        ) {
            (_, "Id", Op::Eq, Value::Int(_)) => FilterSupport::Exact,
            ("people", "City", Op::Eq, Value::Str(_)) => FilterSupport::Exact,
            ("people", "Name", Op::Like, Value::Str(_)) => FilterSupport::Loose,
            _ => FilterSupport::Unsupported,
        }
    }

    fn sort_support(&self, table: &TableInfo, order: &[SortKey]) -> bool {
        table.name == "people"
            && order.iter().all(|k| {
                ["Id", "Name", "Age"].contains(&k.column.as_str()) && k.nulls_first == k.descending
            })
    }

    fn scan<'a>(
        &'a self,
        table: &'a str,
        request: ScanRequest,
    ) -> BoxFuture<'a, Result<RecordBatchStream>> {
        Box::pin(async move {
            let info = info(table)?;
            let schema = info.projected_schema(request.projection.as_deref())?;
            let mut st = self.state.lock().unwrap();
            st.scans.push((info.name.clone(), request.clone()));
            let rows = if info.name == "people" {
                st.people.clone()
            } else {
                st.orders.clone()
            };
            let index = |name: &str| info.columns.iter().position(|c| c.name == name);
            let mut kept: Vec<Row> = rows
                .into_iter()
                .filter(|r| {
                    request
                        .filters
                        .iter()
                        .all(|f| index(&f.column).is_some_and(|i| matches(&r[i], f)))
                })
                .collect();
            sort_rows(&mut kept, &request.order_by, &index);
            if let Some(l) = request.limit {
                kept.truncate(l as usize);
            }
            let cols: Vec<(usize, DataType)> = schema
                .fields()
                .iter()
                .map(|f| (index(f.name()).unwrap(), f.data_type().clone()))
                .collect();
            let pages: Vec<Result<RecordBatch>> = kept
                .chunks(2)
                .map(|page| {
                    let arrays: Vec<ArrayRef> = cols
                        .iter()
                        .map(|(i, dt)| column(page.iter().map(|r| &r[*i]).collect(), dt))
                        .collect();
                    let options =
                        arrow_array::RecordBatchOptions::new().with_row_count(Some(page.len()));
                    Ok(RecordBatch::try_new_with_options(
                        schema.clone(),
                        arrays,
                        &options,
                    )?)
                })
                .collect();
            drop(st);
            // Count pages as they are pulled, to check that scans stop early.
            let state = self.state.clone();
            let stream = futures::StreamExt::map(futures::stream::iter(pages), move |p| {
                state.lock().unwrap().pages += 1;
                p
            });
            Ok(RecordBatchStream::new(schema, stream))
        })
    }

    fn insert<'a>(
        &'a self,
        table: &'a str,
        rows: RecordBatch,
    ) -> BoxFuture<'a, Result<WriteOutcome>> {
        Box::pin(async move {
            let info = info(table)?;
            let mut st = self.state.lock().unwrap();
            let mut out = WriteOutcome::default();
            for r in 0..rows.num_rows() {
                let mut row = vec![Value::Null; info.columns.len()];
                row[0] = Value::Int(st.next_id);
                for (f, a) in rows.schema().fields().iter().zip(rows.columns()) {
                    let i = info
                        .columns
                        .iter()
                        .position(|c| c.name == *f.name())
                        .unwrap();
                    row[i] = cell(a.as_ref(), r);
                }
                if row[1] == Value::Null {
                    out.errors.push(RowError {
                        index: r,
                        key: None,
                        column: Some("Name".into()),
                        message: "Name is required".into(),
                    });
                    continue;
                }
                out.keys.push(Value::Int(st.next_id));
                st.next_id += 1;
                st.people.push(row);
                out.affected += 1;
            }
            Ok(out)
        })
    }

    fn update<'a>(
        &'a self,
        table: &'a str,
        rows: RecordBatch,
    ) -> BoxFuture<'a, Result<WriteOutcome>> {
        Box::pin(async move {
            let info = info(table)?;
            let mut st = self.state.lock().unwrap();
            let mut out = WriteOutcome::default();
            let ids = rows.column_by_name("Id").unwrap().clone();
            for r in 0..rows.num_rows() {
                let id = cell(ids.as_ref(), r);
                let Some(row) = st.people.iter_mut().find(|p| p[0] == id) else {
                    out.errors.push(RowError {
                        index: r,
                        key: Some(id),
                        column: None,
                        message: "no such row".into(),
                    });
                    continue;
                };
                for (f, a) in rows.schema().fields().iter().zip(rows.columns()) {
                    let i = info
                        .columns
                        .iter()
                        .position(|c| c.name == *f.name())
                        .unwrap();
                    row[i] = cell(a.as_ref(), r);
                }
                out.affected += 1;
            }
            Ok(out)
        })
    }

    fn delete<'a>(
        &'a self,
        _table: &'a str,
        keys: RecordBatch,
    ) -> BoxFuture<'a, Result<WriteOutcome>> {
        Box::pin(async move {
            let mut st = self.state.lock().unwrap();
            let mut out = WriteOutcome::default();
            for r in 0..keys.num_rows() {
                let id = cell(keys.column(0).as_ref(), r);
                let before = st.people.len();
                st.people.retain(|p| p[0] != id);
                if st.people.len() < before {
                    out.affected += 1;
                } else {
                    out.errors.push(RowError {
                        index: r,
                        key: Some(id),
                        column: None,
                        message: "no such row".into(),
                    });
                }
            }
            Ok(out)
        })
    }
}

/// The test's procedures: `Greet(Name required, Times)`.
#[derive(Debug)]
pub(crate) struct Greeter;

impl ProcedureSet for Greeter {
    fn definitions(&self) -> Vec<ProcedureDef> {
        vec![
            ProcedureDef::new("Greet", "Says hello")
                .input(InputDef::text("Name", "Who").required())
                .input(InputDef::new("Times", ParamType::Int, "How often"))
                .result("Greeting", ParamType::String, "The greeting"),
        ]
    }

    fn run<'a>(
        &'a self,
        _name: &'static str,
        args: Args,
    ) -> BoxFuture<'a, Result<ProcedureOutput>> {
        Box::pin(async move {
            let who = args.text("Name").unwrap_or_default();
            let times = args
                .text("Times")
                .and_then(|t| t.parse::<usize>().ok())
                .unwrap_or(1);
            Ok(ProcedureOutput {
                columns: vec!["Greeting".into()],
                rows: (0..times)
                    .map(|_| vec![Some(format!("Hello, {who}!"))])
                    .collect(),
            })
        })
    }
}
