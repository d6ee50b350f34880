//! Prepared-statement parameters: the rows of the Arrow batches a client binds, as
//! `source_core::Value`s for `sql::Session::execute`.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use source_core::Value;

/// One `Vec<Value>` per row of `batch`, its columns in order (`?` markers in order).
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch, StringArray};
/// use source_core::Value;
/// let batch = RecordBatch::try_from_iter([
///     ("0", Arc::new(Int64Array::from(vec![100])) as _),
///     ("1", Arc::new(StringArray::from(vec![Some("Berlin")])) as _),
/// ])
/// .unwrap();
/// assert_eq!(
///     gateway::parameter_rows(&batch).unwrap(),
///     vec![vec![Value::Int(100), Value::Str("Berlin".into())]]
/// );
/// ```
pub fn parameter_rows(batch: &RecordBatch) -> Result<Vec<Vec<Value>>, String> {
    (0..batch.num_rows())
        .map(|row| {
            batch
                .columns()
                .iter()
                .enumerate()
                .map(|(i, column)| {
                    value_at(column.as_ref(), row).ok_or_else(|| {
                        format!(
                            "parameter {} has the Arrow type {}, which the gateway cannot bind; send an integer, float, boolean, string, date or timestamp",
                            i + 1,
                            column.data_type()
                        )
                    })
                })
                .collect()
        })
        .collect()
}

/// The value at `row`, or `None` for a type that cannot be bound.
fn value_at(array: &dyn Array, row: usize) -> Option<Value> {
    if array.is_null(row) {
        return Some(Value::Null);
    }
    let int = |v: i64| Some(Value::Int(v));
    match array.data_type() {
        DataType::Null => Some(Value::Null),
        DataType::Boolean => Some(Value::Bool(array.as_boolean().value(row))),
        DataType::Int8 => int(array.as_primitive::<Int8Type>().value(row).into()),
        DataType::Int16 => int(array.as_primitive::<Int16Type>().value(row).into()),
        DataType::Int32 => int(array.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => int(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => int(array.as_primitive::<UInt8Type>().value(row).into()),
        DataType::UInt16 => int(array.as_primitive::<UInt16Type>().value(row).into()),
        DataType::UInt32 => int(array.as_primitive::<UInt32Type>().value(row).into()),
        DataType::UInt64 => int(i64::try_from(array.as_primitive::<UInt64Type>().value(row)).ok()?),
        DataType::Float32 => Some(Value::Float(
            array.as_primitive::<Float32Type>().value(row).into(),
        )),
        DataType::Float64 => Some(Value::Float(array.as_primitive::<Float64Type>().value(row))),
        DataType::Utf8 => Some(Value::Str(array.as_string::<i32>().value(row).to_owned())),
        DataType::LargeUtf8 => Some(Value::Str(array.as_string::<i64>().value(row).to_owned())),
        DataType::Utf8View => Some(Value::Str(array.as_string_view().value(row).to_owned())),
        DataType::Date32 => Some(Value::Date(array.as_primitive::<Date32Type>().value(row))),
        DataType::Timestamp(unit, _) => timestamp_ms(array, row, *unit).map(Value::TimestampMs),
        // ADBC sends a bound Python list as a dense union when its values' types differ.
        DataType::Union(_, _) => {
            let union = array.as_union();
            let child = union.child(union.type_id(row));
            value_at(child.as_ref(), union.value_offset(row))
        }
        _ => None,
    }
}

fn timestamp_ms(array: &dyn Array, row: usize, unit: TimeUnit) -> Option<i64> {
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    Some(match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .checked_mul(1000)?,
        TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(row),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row) / 1000,
        TimeUnit::Nanosecond => {
            array.as_primitive::<TimestampNanosecondType>().value(row) / 1_000_000
        }
    })
}
