//! One page of Act-On JSON → one Arrow batch.
//!
//! Two shapes exist: arrays of objects (messages, images, reports, ...) read through a JSON
//! pointer per column, and list downloads (`headers` plus `data` rows aligned to them) read
//! by header name. A page is decoded on its own and dropped once its batch is built, so
//! memory depends on the page size, never on the list size.

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Int64Builder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use serde_json::Value as J;
/// Act-On's date texts are UTC: `YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][Z]`.
pub(crate) use source_core::datetime::parse_utc_ms as parse_datetime_ms;
use source_core::json::as_i64 as int;

use crate::Error;
use crate::views::{Col, Ty};

/// Text of a cell; empty text is NULL (Act-On does not tell empty from absent).
fn text(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) if s.is_empty() => None,
        J::String(s) => Some(s.clone()),
        J::Bool(b) => Some(b.to_string()),
        J::Number(n) => Some(n.to_string()),
        // Id lists (`srcIds`, `sentto`, `tagNames`) read as comma-separated text.
        J::Array(items) if items.is_empty() => None,
        J::Array(items) => Some(
            items
                .iter()
                .map(|i| match i {
                    J::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        J::Object(_) => Some(v.to_string()),
    }
}

fn boolean(v: &J) -> Option<bool> {
    match v {
        J::Bool(b) => Some(*b),
        J::Number(n) => n.as_i64().map(|i| i != 0),
        J::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Unix milliseconds from a number, a numeric string or a `YYYY-MM-DD HH:MM:SS` UTC string.
pub(crate) fn time_ms(v: &J) -> Option<i64> {
    match v {
        J::String(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| parse_datetime_ms(s)),
        other => int(other),
    }
}

enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
    Time(TimestampMillisecondBuilder),
}

impl Builder {
    fn new(ty: Ty, capacity: usize) -> Self {
        match ty {
            Ty::Str => Builder::Text(StringBuilder::with_capacity(capacity, capacity * 16)),
            Ty::Int => Builder::Int(Int64Builder::with_capacity(capacity)),
            Ty::Bool => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            Ty::Ts => Builder::Time(
                TimestampMillisecondBuilder::with_capacity(capacity)
                    .with_timezone(source_core::UTC),
            ),
        }
    }

    fn push(&mut self, v: Option<&J>) {
        let v = v.unwrap_or(&J::Null);
        match self {
            Builder::Text(b) => match v {
                // The common case (list cells) without an intermediate String.
                J::String(s) if !s.is_empty() => b.append_value(s),
                other => b.append_option(text(other)),
            },
            Builder::Int(b) => b.append_option(int(v)),
            Builder::Bool(b) => b.append_option(boolean(v)),
            Builder::Time(b) => b.append_option(time_ms(v)),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            Builder::Text(mut b) => ArrayBuilder::finish(&mut b),
            Builder::Int(mut b) => ArrayBuilder::finish(&mut b),
            Builder::Bool(mut b) => ArrayBuilder::finish(&mut b),
            Builder::Time(mut b) => ArrayBuilder::finish(&mut b),
        }
    }
}

fn batch(
    schema: &SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
    context: &str,
) -> Result<RecordBatch, Error> {
    let columns: Vec<ArrayRef> = builders.into_iter().map(Builder::finish).collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options)
        .map_err(|e| Error::decode(context, e))
}

/// The value at the first of `col`'s `|`-separated JSON pointers that is present.
fn lookup<'a>(row: &'a J, col: &Col) -> Option<&'a J> {
    col.key
        .split('|')
        .filter_map(|p| row.pointer(p))
        .find(|v| !v.is_null())
}

/// Objects → a batch with `cols` (the projection, in order).
pub(crate) fn decode_objects(
    items: &[J],
    cols: &[Col],
    schema: &SchemaRef,
    context: &str,
) -> Result<RecordBatch, Error> {
    let mut builders: Vec<Builder> = cols
        .iter()
        .map(|c| Builder::new(c.ty, items.len()))
        .collect();
    for item in items {
        for (b, c) in builders.iter_mut().zip(cols) {
            b.push(lookup(item, c));
        }
    }
    batch(schema, builders, items.len(), context)
}

/// A list download page (`headers` and `data` rows) → a batch with `cols`, matched to the
/// page's headers by name (exactly, then ignoring case); a column the page lacks is NULL.
pub(crate) fn decode_table(
    headers: &[String],
    data: &[J],
    cols: &[Col],
    schema: &SchemaRef,
    context: &str,
) -> Result<RecordBatch, Error> {
    let index: Vec<Option<usize>> = cols
        .iter()
        .map(|c| {
            headers
                .iter()
                .position(|h| *h == c.key)
                .or_else(|| headers.iter().position(|h| h.eq_ignore_ascii_case(&c.key)))
        })
        .collect();
    let mut builders: Vec<Builder> = cols
        .iter()
        .map(|c| Builder::new(c.ty, data.len()))
        .collect();
    for row in data {
        let Some(cells) = row.as_array() else {
            return Err(Error::decode(context, "a list row is not an array"));
        };
        for (b, i) in builders.iter_mut().zip(&index) {
            b.push(i.and_then(|i| cells.get(i)));
        }
    }
    batch(schema, builders, data.len(), context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_act_on_time_texts() {
        assert_eq!(parse_datetime_ms("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(
            parse_datetime_ms("2024-01-01 10:00:05"),
            Some(1_704_067_200_000 + 36_005_000)
        );
        assert_eq!(
            time_ms(&J::String("1704067200000".into())),
            Some(1_704_067_200_000)
        );
        assert_eq!(parse_datetime_ms("yesterday"), None);
        assert_eq!(parse_datetime_ms("2024-13-01"), None);
    }

    #[test]
    fn cells_convert_leniently() {
        assert_eq!(text(&J::String(String::new())), None);
        assert_eq!(
            text(&serde_json::json!(["l-0001", "l-0002"])),
            Some("l-0001,l-0002".into())
        );
        assert_eq!(boolean(&J::String("false".into())), Some(false));
        assert_eq!(int(&J::String(" 42 ".into())), Some(42));
        assert_eq!(int(&serde_json::json!(3.0)), Some(3));
    }
}
