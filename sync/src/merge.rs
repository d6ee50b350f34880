//! Rows as keys and cursors, schemas that grow, and the newest row per key.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array, new_null_array};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};

/// The text of every cell of `column` (`None` for NULL): keys and cursors are compared as the
/// destination stores them, whatever their type.
pub(crate) fn texts(table: &str, batch: &RecordBatch, column: &str) -> Result<Vec<Option<String>>> {
    let Some(array) = batch.column_by_name(column) else {
        return Err(Error::merge(
            table,
            format!("the rows have no column {column:?}"),
        ));
    };
    column_texts(table, array)
}

/// The text of every cell of `array` (`None` for NULL).
pub(crate) fn column_texts(table: &str, array: &ArrayRef) -> Result<Vec<Option<String>>> {
    let options = FormatOptions::default();
    let formatter = ArrayFormatter::try_new(array.as_ref(), &options)
        .map_err(|e| Error::merge(table, format!("cannot format a value: {e}")))?;
    Ok((0..array.len())
        .map(|i| (!array.is_null(i)).then(|| formatter.value(i).to_string()))
        .collect())
}

/// The cursor values of `column` as Unix milliseconds (`None` for NULL or a type that is not
/// a timestamp or an integer).
pub(crate) fn millis(batch: &RecordBatch, column: &str) -> Vec<Option<i64>> {
    let Some(array) = batch.column_by_name(column) else {
        return vec![None; batch.num_rows()];
    };
    let as_ms = match array.data_type() {
        DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, _) | DataType::Int64 => {
            arrow_cast::cast(array, &DataType::Int64).ok()
        }
        _ => None,
    };
    match as_ms.as_ref().and_then(|a| {
        a.as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .cloned()
    }) {
        Some(values) => values.iter().collect(),
        None => vec![None; batch.num_rows()],
    }
}

/// The schema the destination holds after this run: the source's columns in its order, then
/// the columns only the destination has (a column dropped at the source keeps its old values).
/// Every field is nullable, so old rows can lack new columns.
pub(crate) fn union_schema(source: &Schema, old: Option<&Schema>) -> SchemaRef {
    let mut fields: Vec<Field> = source
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    if let Some(old) = old {
        for f in old.fields() {
            if !fields.iter().any(|g| g.name() == f.name()) {
                fields.push(f.as_ref().clone().with_nullable(true));
            }
        }
    }
    Arc::new(Schema::new(fields))
}

/// `batch` with the columns of `schema`: missing ones NULL, others cast to the new type.
pub(crate) fn conform(table: &str, batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            None => Ok(new_null_array(field.data_type(), batch.num_rows())),
            Some(a) if a.data_type() == field.data_type() => Ok(a.clone()),
            Some(a) => arrow_cast::cast(a, field.data_type()).map_err(|e| {
                Error::merge(
                    table,
                    format!(
                        "column {} changed type from {} to {} and the old values do not convert ({e}); sync into a new destination or drop the table there",
                        field.name(),
                        a.data_type(),
                        field.data_type()
                    ),
                )
            }),
        })
        .collect::<Result<_>>()?;
    RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::merge(table, format!("cannot build the merged rows: {e}")))
}

/// The rows of `old` followed by `incoming`, keeping for every key only the row read last
/// (a row re-read in this run replaces the stored one) and dropping `deleted` keys and rows
/// without a key. The order is the old rows' order, then new keys in reading order.
pub(crate) fn newest_per_key(
    table: &str,
    schema: &SchemaRef,
    old: Option<&RecordBatch>,
    incoming: &[RecordBatch],
    key: &str,
    deleted: &HashSet<String>,
) -> Result<RecordBatch> {
    let mut parts = Vec::with_capacity(incoming.len() + 1);
    if let Some(old) = old {
        parts.push(conform(table, old, schema)?);
    }
    for batch in incoming {
        parts.push(conform(table, batch, schema)?);
    }
    let all = arrow_select::concat::concat_batches(schema, &parts)
        .map_err(|e| Error::merge(table, format!("cannot combine the rows: {e}")))?;
    let keys = texts(table, &all, key)?;
    // Slot of each key in `order`; the row index there is replaced by later reads.
    let mut slot: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
    let mut order: Vec<u32> = Vec::with_capacity(keys.len());
    for (row, k) in keys.iter().enumerate() {
        let Some(k) = k.as_deref() else { continue };
        if deleted.contains(k) {
            continue;
        }
        let row = u32::try_from(row)
            .map_err(|_| Error::merge(table, "more than 4 billion rows in one table"))?;
        match slot.get(k) {
            Some(&s) => order[s] = row,
            None => {
                slot.insert(k, order.len());
                order.push(row);
            }
        }
    }
    let indices = UInt32Array::from(order);
    arrow_select::take::take_record_batch(&all, &indices)
        .map_err(|e| Error::merge(table, format!("cannot select the merged rows: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};

    fn batch(schema: &SchemaRef, ids: &[i64], names: &[&str]) -> RecordBatch {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(ids.to_vec())),
                Arc::new(StringArray::from(names.to_vec())),
            ],
        )
        .unwrap()
    }

    #[test]
    fn later_reads_replace_earlier_and_deleted_keys_go() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("Id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
        ]));
        let old = batch(&schema, &[1, 2, 3], &["a", "b", "c"]);
        let new = batch(&schema, &[2, 4, 2], &["b1", "d", "b2"]);
        let deleted: HashSet<String> = ["3".to_owned()].into();
        let out = newest_per_key("t", &schema, Some(&old), &[new], "Id", &deleted).unwrap();
        assert_eq!(
            texts("t", &out, "name").unwrap(),
            [Some("a"), Some("b2"), Some("d")].map(|s| s.map(str::to_owned))
        );
    }

    #[test]
    fn an_added_column_is_null_in_old_rows() {
        let old_schema = Arc::new(Schema::new(vec![Field::new("Id", DataType::Int64, false)]));
        let old = RecordBatch::try_new(
            old_schema.clone(),
            vec![Arc::new(Int64Array::from(vec![1]))],
        )
        .unwrap();
        let wide = Arc::new(Schema::new(vec![
            Field::new("Id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let schema = union_schema(&wide, Some(&old_schema));
        let out = newest_per_key("t", &schema, Some(&old), &[], "Id", &HashSet::new()).unwrap();
        assert_eq!(out.num_columns(), 2);
        assert_eq!(texts("t", &out, "name").unwrap(), vec![None]);
    }
}
