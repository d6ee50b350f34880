//! Helpers for sources' integration tests (feature `test-util`): read a whole scan, its
//! error, and its cells as [`Value`]s.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use futures::TryStreamExt;

use crate::{DataSource, ScanRequest, Value};

/// Every batch of a scan; panics if the scan fails.
pub async fn read(source: &dyn DataSource, table: &str, request: ScanRequest) -> Vec<RecordBatch> {
    source
        .scan(table, request)
        .await
        .expect("scan starts")
        .try_collect()
        .await
        .expect("scan completes")
}

/// The error of a scan (at start or while reading); panics if the scan succeeds.
pub async fn scan_error(
    source: &dyn DataSource,
    table: &str,
    request: ScanRequest,
) -> crate::Error {
    match source.scan(table, request).await {
        Err(e) => e,
        Ok(stream) => stream
            .try_collect::<Vec<_>>()
            .await
            .expect_err("the scan should fail"),
    }
}

/// Rows in all batches.
pub fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// One cell as a `Value` (lists as `Value::List`; types without a `Value` as `<type>` text).
pub fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Utf8 => Value::Str(array.as_string::<i32>().value(row).to_owned()),
        DataType::Int64 => Value::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Date32 => Value::Date(array.as_primitive::<Date32Type>().value(row)),
        DataType::Timestamp(..) => {
            Value::TimestampMs(array.as_primitive::<TimestampMillisecondType>().value(row))
        }
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            Value::List((0..items.len()).map(|i| cell(items.as_ref(), i)).collect())
        }
        other => Value::Str(format!("<{other}>")),
    }
}

/// Column `name` of every row, in order; panics if a batch lacks it.
pub fn column(batches: &[RecordBatch], name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for b in batches {
        let c = b
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        out.extend((0..b.num_rows()).map(|r| cell(c.as_ref(), r)));
    }
    out
}
