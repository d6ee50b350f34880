//! One page of HubDB rows (JSON) → one Arrow batch.
//!
//! A page is parsed on its own and dropped once its batch is built, so memory depends on the
//! page size, never on the table size.

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, ListBuilder,
    StringBuilder, StructBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{DataType, SchemaRef};

use serde::Deserialize;
use serde_json::Value as J;
use serde_json::value::RawValue;

use crate::Error;
use crate::schema::{Col, Common, Kind, image_fields, location_fields};

use source_core::datetime::{DAY_MS, parse_iso_ms};
use source_core::json::as_i64;

/// A rows response (`UnifiedCollectionResponseWithTotalBaseHubDbTableRowV3`).
#[derive(Debug, Deserialize)]
pub(crate) struct RowsPage {
    #[serde(default)]
    pub(crate) total: Option<u64>,
    #[serde(default)]
    pub(crate) results: Vec<RawRow>,
    #[serde(default)]
    pub(crate) paging: Option<Paging>,
    #[serde(rename = "type", default)]
    pub(crate) kind: Option<String>,
}

/// `paging`.
#[derive(Debug, Deserialize)]
pub(crate) struct Paging {
    #[serde(default)]
    pub(crate) next: Option<Next>,
}

/// `paging.next`: `after` (STREAMING) or `offset` (RANDOM_ACCESS).
#[derive(Debug, Deserialize)]
pub(crate) struct Next {
    #[serde(default)]
    pub(crate) after: Option<J>,
    #[serde(default)]
    pub(crate) offset: Option<J>,
}

impl Next {
    pub(crate) fn after(&self) -> Option<String> {
        match self.after.as_ref()? {
            J::String(s) if !s.is_empty() => Some(s.clone()),
            J::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    pub(crate) fn offset(&self) -> Option<u64> {
        match self.offset.as_ref()? {
            J::Number(n) => n.as_u64(),
            J::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// `HubDbTableRowV3`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawRow {
    pub(crate) id: J,
    #[serde(default)]
    pub(crate) created_at: Option<String>,
    #[serde(default)]
    pub(crate) updated_at: Option<String>,
    #[serde(default)]
    pub(crate) published_at: Option<String>,
    #[serde(default)]
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) child_table_id: Option<J>,
    /// Cell values kept as JSON text, read per column by `append_raw`: building a `Value` tree
    /// per row (select options, tags, images…) took most of a scan's CPU time. A list, not a
    /// map: a dozen short names compare faster than they hash.
    #[serde(default, deserialize_with = "cells")]
    pub(crate) values: Vec<(String, Box<RawValue>)>,
}

impl RawRow {
    /// The JSON text of cell `name` (the last one if the object repeats it, as a map would).
    fn cell(&self, name: &str) -> Option<&RawValue> {
        self.values
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, raw)| raw.as_ref())
    }
}

/// `values` (an object) as its entries, in order.
fn cells<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, Box<RawValue>)>, D::Error> {
    struct Entries;
    impl<'de> serde::de::Visitor<'de> for Entries {
        type Value = Vec<(String, Box<RawValue>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of cell values")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(16));
            while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                entries.push(entry);
            }
            Ok(entries)
        }
    }
    deserializer.deserialize_map(Entries)
}

impl RawRow {
    pub(crate) fn id_text(&self) -> String {
        match &self.id {
            J::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

fn as_f64(v: &J) -> Option<f64> {
    match v {
        J::Number(n) => n.as_f64(),
        J::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn time_ms(v: &J) -> Option<i64> {
    match v {
        J::String(s) => s.trim().parse::<i64>().ok().or_else(|| parse_iso_ms(s)),
        other => as_i64(other),
    }
}

/// Builds one column of a page.
enum Builder {
    Text(StringBuilder),
    Float(Float64Builder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
    Time(TimestampMillisecondBuilder),
    List(ListBuilder<StringBuilder>),
    Struct(StructBuilder),
}

impl Builder {
    fn new(data_type: &DataType, capacity: usize) -> Builder {
        match data_type {
            DataType::Float64 => Builder::Float(Float64Builder::with_capacity(capacity)),
            DataType::Int64 => Builder::Int(Int64Builder::with_capacity(capacity)),
            DataType::Boolean => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            DataType::Date32 => Builder::Date(Date32Builder::with_capacity(capacity)),
            DataType::Timestamp(_, tz) => Builder::Time(
                TimestampMillisecondBuilder::with_capacity(capacity).with_timezone_opt(tz.clone()),
            ),
            DataType::List(_) => Builder::List(ListBuilder::new(StringBuilder::new())),
            DataType::Struct(fields) => {
                Builder::Struct(StructBuilder::from_fields(fields.clone(), capacity))
            }
            _ => Builder::Text(StringBuilder::with_capacity(capacity, capacity * 16)),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::List(b) => Arc::new(b.finish()),
            Builder::Struct(b) => Arc::new(b.finish()),
        }
    }

    fn null(&mut self) {
        match self {
            Builder::Text(b) => b.append_null(),
            Builder::Float(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
            Builder::Bool(b) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Time(b) => b.append_null(),
            Builder::List(b) => b.append_null(),
            Builder::Struct(b) => {
                for i in 0..b.num_fields() {
                    append_struct_null(b, i);
                }
                b.append_null();
            }
        }
    }
}

fn append_struct_null(b: &mut StructBuilder, i: usize) {
    if let Some(f) = b.field_builder::<StringBuilder>(i) {
        f.append_null();
    } else if let Some(f) = b.field_builder::<Int64Builder>(i) {
        f.append_null();
    } else if let Some(f) = b.field_builder::<Float64Builder>(i) {
        f.append_null();
    }
}

/// Decodes rows into a batch with `schema`, reading column `i` of the schema from `cols[i]`.
pub(crate) fn decode_rows(
    rows: &[RawRow],
    cols: &[Col],
    schema: &SchemaRef,
    table: &str,
) -> Result<RecordBatch, Error> {
    let mut builders: Vec<Builder> = schema
        .fields()
        .iter()
        .map(|f| Builder::new(f.data_type(), rows.len()))
        .collect();
    for row in rows {
        for (col, builder) in cols.iter().zip(builders.iter_mut()) {
            append(builder, col, row).map_err(|message| {
                let context = format!(
                    "table `{table}` row {} column `{}`",
                    row.id_text(),
                    crate::schema::exposed_name(col)
                );
                Error::decode(&context, message)
            })?;
        }
    }
    let columns: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options)
        .map_err(|e| Error::decode(&format!("table `{table}`"), e))
}

fn append(builder: &mut Builder, col: &Col, row: &RawRow) -> Result<(), String> {
    match col {
        Col::Common(c) => append_common(builder, *c, row),
        Col::User { name, kind } => match row.cell(name) {
            None => {
                builder.null();
                Ok(())
            }
            Some(raw) => append_raw(builder, *kind, raw.get()),
        },
    }
}

/// Appends one cell from its JSON text. The shapes HubDB sends are read straight from the text;
/// anything else is parsed into a `Value` and goes through `append_value`, which owns the rules
/// (the `fast_path_matches_value_path` test holds the two to the same results).
fn append_raw(builder: &mut Builder, kind: Kind, text: &str) -> Result<(), String> {
    if text == "null" {
        builder.null();
        return Ok(());
    }
    if append_fast(builder, kind, text)? {
        return Ok(());
    }
    let v: J = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    if v.is_null() {
        builder.null();
        return Ok(());
    }
    append_value(builder, kind, &v)
}

/// An option (`SELECT`, `MULTISELECT`): only its name is kept.
#[derive(Deserialize)]
struct OptionRef<'a> {
    #[serde(borrow, default)]
    name: Option<&'a str>,
}

/// A `FOREIGN_ID` item: only its id is kept.
#[derive(Deserialize)]
struct ForeignRef<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ImageRef<'a> {
    #[serde(borrow, default)]
    url: Option<&'a str>,
    #[serde(default)]
    width: Option<i64>,
    #[serde(default)]
    height: Option<i64>,
}

#[derive(Deserialize)]
struct LocationRef {
    #[serde(default)]
    lat: Option<f64>,
    #[serde(default)]
    long: Option<f64>,
}

/// A JSON string without escapes, borrowed from the text.
fn plain_str(text: &str) -> Option<&str> {
    serde_json::from_str::<&str>(text).ok()
}

/// An id as text: a plain string, or an integer written in digits.
fn id_text(text: &str) -> Option<&str> {
    if text.starts_with('"') {
        plain_str(text)
    } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        Some(text)
    } else {
        None
    }
}

/// Appends the common shapes without building a `Value`: `Ok(false)` (builder untouched) for
/// anything else.
fn append_fast(builder: &mut Builder, kind: Kind, text: &str) -> Result<bool, String> {
    let done = match (builder, kind) {
        (Builder::Text(b), Kind::Text | Kind::Json | Kind::Select) if text.starts_with('"') => {
            plain_str(text).map(|s| b.append_value(s)).is_some()
        }
        (Builder::Text(b), Kind::Select) if text.starts_with('{') => {
            match serde_json::from_str::<OptionRef<'_>>(text) {
                Ok(OptionRef { name: Some(name) }) => {
                    b.append_value(name);
                    true
                }
                _ => false,
            }
        }
        (Builder::Float(b), Kind::Number) => text.parse::<f64>().map(|x| b.append_value(x)).is_ok(),
        (Builder::Int(b), Kind::Integer) => text.parse::<i64>().map(|x| b.append_value(x)).is_ok(),
        (Builder::Bool(b), Kind::Boolean) => match text {
            "true" | "1" => {
                b.append_value(true);
                true
            }
            "false" | "0" => {
                b.append_value(false);
                true
            }
            _ => false,
        },
        (Builder::Date(b), Kind::Date) => {
            match text
                .parse::<i64>()
                .ok()
                .and_then(|ms| i32::try_from(ms.div_euclid(DAY_MS)).ok())
            {
                Some(days) => {
                    b.append_value(days);
                    true
                }
                None => false,
            }
        }
        (Builder::Time(b), Kind::DateTime) => {
            text.parse::<i64>().map(|x| b.append_value(x)).is_ok()
        }
        (Builder::List(b), Kind::MultiSelect) if text.starts_with('[') => {
            match serde_json::from_str::<Vec<OptionRef<'_>>>(text) {
                Ok(items) => append_list(b, items.iter().map(|o| o.name).collect()),
                Err(_) => false,
            }
        }
        (Builder::List(b), Kind::ForeignId) if text.starts_with('[') => {
            match serde_json::from_str::<Vec<ForeignRef<'_>>>(text) {
                Ok(items) => append_list(
                    b,
                    items
                        .iter()
                        .map(|o| o.id.and_then(|raw| id_text(raw.get())))
                        .collect(),
                ),
                Err(_) => false,
            }
        }
        (Builder::Struct(b), Kind::Image) if text.starts_with('{') => {
            let Ok(image) = serde_json::from_str::<ImageRef<'_>>(text) else {
                return Ok(false);
            };
            struct_field::<StringBuilder>(b, 0)?.append_option(image.url);
            struct_field::<Int64Builder>(b, 1)?.append_option(image.width);
            struct_field::<Int64Builder>(b, 2)?.append_option(image.height);
            b.append(true);
            true
        }
        (Builder::Struct(b), Kind::Location) if text.starts_with('{') => {
            let Ok(place) = serde_json::from_str::<LocationRef>(text) else {
                return Ok(false);
            };
            // The `lng`/`lon` spellings take the Value path (unknown fields here).
            if place.long.is_none() && (text.contains("\"lng\"") || text.contains("\"lon\"")) {
                return Ok(false);
            }
            struct_field::<Float64Builder>(b, 0)?.append_option(place.lat);
            struct_field::<Float64Builder>(b, 1)?.append_option(place.long);
            b.append(true);
            true
        }
        _ => false,
    };
    Ok(done)
}

/// One list cell: null when empty (as HubDB's `is_null` treats it); false if an item had no key.
fn append_list(b: &mut ListBuilder<StringBuilder>, items: Option<Vec<&str>>) -> bool {
    let Some(items) = items else { return false };
    if items.is_empty() {
        b.append_null();
        return true;
    }
    for item in items {
        b.values().append_value(item);
    }
    b.append(true);
    true
}

fn append_common(builder: &mut Builder, c: Common, row: &RawRow) -> Result<(), String> {
    let time = |s: &Option<String>| -> Result<Option<i64>, String> {
        match s.as_deref() {
            None | Some("") => Ok(None),
            Some(t) => parse_iso_ms(t)
                .map(Some)
                .ok_or_else(|| format!("not an ISO-8601 time: {t:?}")),
        }
    };
    match (builder, c) {
        (Builder::Int(b), Common::Id) => b.append_value(
            as_i64(&row.id).ok_or_else(|| format!("row id {} is not a number", row.id))?,
        ),
        (Builder::Int(b), Common::ChildTableId) => {
            b.append_option(row.child_table_id.as_ref().and_then(as_i64))
        }
        (Builder::Time(b), Common::CreatedAt) => b.append_option(time(&row.created_at)?),
        (Builder::Time(b), Common::UpdatedAt) => b.append_option(time(&row.updated_at)?),
        (Builder::Time(b), Common::PublishedAt) => b.append_option(time(&row.published_at)?),
        (Builder::Text(b), Common::PagePath) => b.append_option(row.path.as_deref()),
        (Builder::Text(b), Common::PageName) => b.append_option(row.name.as_deref()),
        _ => return Err("internal: column type mismatch".into()),
    }
    Ok(())
}

fn bad(kind: Kind, v: &J) -> String {
    let mut text = v.to_string();
    if text.len() > 80 {
        text.truncate(80);
        text.push('…');
    }
    format!("cannot read {text} as {kind:?}")
}

fn append_value(builder: &mut Builder, kind: Kind, v: &J) -> Result<(), String> {
    match (builder, kind) {
        (Builder::Text(b), Kind::Text) => match v {
            J::String(s) => b.append_value(s),
            J::Number(_) | J::Bool(_) => b.append_value(v.to_string()),
            _ => b.append_value(v.to_string()),
        },
        (Builder::Text(b), Kind::Json) => match v {
            // A JSON column sent as a string holding JSON keeps its text.
            J::String(s) => b.append_value(s),
            _ => b.append_value(v.to_string()),
        },
        (Builder::Text(b), Kind::Select) => match v {
            J::String(s) => b.append_value(s),
            J::Object(o) => match o.get("name").and_then(J::as_str) {
                Some(name) => b.append_value(name),
                None => return Err(bad(kind, v)),
            },
            _ => return Err(bad(kind, v)),
        },
        (Builder::Float(b), Kind::Number) => b.append_value(as_f64(v).ok_or_else(|| bad(kind, v))?),
        (Builder::Int(b), Kind::Integer) => b.append_value(as_i64(v).ok_or_else(|| bad(kind, v))?),
        (Builder::Bool(b), Kind::Boolean) => b.append_value(match v {
            J::Bool(x) => *x,
            J::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
            J::String(s) if s == "1" || s.eq_ignore_ascii_case("true") => true,
            J::String(s) if s == "0" || s.eq_ignore_ascii_case("false") => false,
            _ => return Err(bad(kind, v)),
        }),
        (Builder::Date(b), Kind::Date) => {
            let ms = time_ms(v).ok_or_else(|| bad(kind, v))?;
            let days = i32::try_from(ms.div_euclid(DAY_MS)).map_err(|_| bad(kind, v))?;
            b.append_value(days);
        }
        (Builder::Time(b), Kind::DateTime) => {
            b.append_value(time_ms(v).ok_or_else(|| bad(kind, v))?)
        }
        (Builder::List(b), Kind::MultiSelect | Kind::ForeignId) => {
            let items = match v {
                J::Array(a) => a.as_slice(),
                _ => std::slice::from_ref(v),
            };
            if items.is_empty() {
                // HubDB treats an empty multi-value cell as empty (is_null matches it).
                b.append_null();
                return Ok(());
            }
            let key = if kind == Kind::ForeignId {
                "id"
            } else {
                "name"
            };
            for item in items {
                match item {
                    J::String(s) => b.values().append_value(s),
                    J::Number(n) => b.values().append_value(n.to_string()),
                    J::Object(o) => match o.get(key) {
                        Some(J::String(s)) => b.values().append_value(s),
                        Some(J::Number(n)) => b.values().append_value(n.to_string()),
                        _ => return Err(bad(kind, v)),
                    },
                    _ => return Err(bad(kind, v)),
                }
            }
            b.append(true);
        }
        (Builder::Struct(b), Kind::Image) => {
            let (url, w, h) = match v {
                J::String(s) => (Some(s.clone()), None, None),
                J::Object(o) => (
                    o.get("url").and_then(J::as_str).map(str::to_owned),
                    o.get("width").and_then(as_i64),
                    o.get("height").and_then(as_i64),
                ),
                _ => return Err(bad(kind, v)),
            };
            debug_assert_eq!(b.num_fields(), image_fields().len());
            struct_field::<StringBuilder>(b, 0)?.append_option(url);
            struct_field::<Int64Builder>(b, 1)?.append_option(w);
            struct_field::<Int64Builder>(b, 2)?.append_option(h);
            b.append(true);
        }
        (Builder::Struct(b), Kind::Location) => {
            let (lat, long) = match v {
                J::Object(o) => (
                    o.get("lat").and_then(as_f64),
                    o.get("long")
                        .or_else(|| o.get("lng"))
                        .or_else(|| o.get("lon"))
                        .and_then(as_f64),
                ),
                _ => return Err(bad(kind, v)),
            };
            debug_assert_eq!(b.num_fields(), location_fields().len());
            struct_field::<Float64Builder>(b, 0)?.append_option(lat);
            struct_field::<Float64Builder>(b, 1)?.append_option(long);
            b.append(true);
        }
        _ => return Err("internal: column type mismatch".into()),
    }
    Ok(())
}

fn struct_field<T: ArrayBuilder>(b: &mut StructBuilder, i: usize) -> Result<&mut T, String> {
    b.field_builder::<T>(i)
        .ok_or_else(|| "internal: struct field type mismatch".to_owned())
}

/// A CRM owner.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawOwner {
    id: J,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    user_id: Option<J>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    teams: Vec<J>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    archived: bool,
}

/// An owners page.
#[derive(Debug, Deserialize)]
pub(crate) struct OwnersPage {
    #[serde(default)]
    pub(crate) results: Vec<RawOwner>,
    #[serde(default)]
    pub(crate) paging: Option<Paging>,
}

/// Decodes owners into a batch with `schema` (a projection of the Owners view).
pub(crate) fn decode_owners(owners: &[RawOwner], schema: &SchemaRef) -> Result<RecordBatch, Error> {
    let mut builders: Vec<Builder> = schema
        .fields()
        .iter()
        .map(|f| Builder::new(f.data_type(), owners.len()))
        .collect();
    for o in owners {
        for (field, builder) in schema.fields().iter().zip(builders.iter_mut()) {
            let text =
                |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
            match (field.name().as_str(), builder) {
                ("Id", Builder::Int(b)) => b.append_option(as_i64(&o.id)),
                ("Email", Builder::Text(b)) => b.append_option(text(&o.email)),
                ("FirstName", Builder::Text(b)) => b.append_option(text(&o.first_name)),
                ("LastName", Builder::Text(b)) => b.append_option(text(&o.last_name)),
                ("UserId", Builder::Int(b)) => b.append_option(o.user_id.as_ref().and_then(as_i64)),
                ("Type", Builder::Text(b)) => b.append_option(o.kind.as_deref()),
                ("Teams", Builder::List(b)) => {
                    for t in &o.teams {
                        if let Some(name) = t.get("name").and_then(J::as_str) {
                            b.values().append_value(name);
                        }
                    }
                    b.append(true);
                }
                ("CreatedAt", Builder::Time(b)) => {
                    b.append_option(o.created_at.as_deref().and_then(parse_iso_ms));
                }
                ("UpdatedAt", Builder::Time(b)) => {
                    b.append_option(o.updated_at.as_deref().and_then(parse_iso_ms));
                }
                ("Archived", Builder::Bool(b)) => b.append_value(o.archived),
                (_, b) => b.null(),
            }
        }
    }
    let columns: Vec<ArrayRef> = builders.iter_mut().map(Builder::finish).collect();
    let options = RecordBatchOptions::new().with_row_count(Some(owners.len()));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options)
        .map_err(|e| Error::decode("view `Owners`", e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Every shape, through the text fast path and through the `Value` path: same arrays.
    #[test]
    fn fast_path_matches_value_path() {
        let cases: &[(Kind, &[&str])] = &[
            (
                Kind::Text,
                &[
                    r#""plain""#,
                    r#""esc\"aped\n""#,
                    "12",
                    "1.5",
                    "true",
                    r#"{"a":1}"#,
                    "null",
                ],
            ),
            (
                Kind::Json,
                &[
                    r#""{\"k\":1}""#,
                    r#""text""#,
                    r#"{"b": [1, 2]}"#,
                    "[1,2]",
                    "3",
                ],
            ),
            (
                Kind::Select,
                &[
                    r#""conference""#,
                    r#"{"id":"1","name":"meetup","label":"Meetup"}"#,
                    r#"{"name":"sp\u00e9cial"}"#,
                ],
            ),
            (
                Kind::Number,
                &[
                    "103.6",
                    "0",
                    "-2",
                    "1e3",
                    "0.1",
                    r#""7.25""#,
                    "12345678901234567890",
                ],
            ),
            (
                Kind::Integer,
                &["240", "-5", "2.0", r#""42""#, "9007199254740993"],
            ),
            (
                Kind::Boolean,
                &["true", "false", "0", "1", "2", r#""TRUE""#, r#""0""#],
            ),
            (
                Kind::Date,
                &[
                    "1786233600000",
                    "-86400001",
                    r#""1786233600000""#,
                    r#""2026-03-01T00:00:00Z""#,
                ],
            ),
            (
                Kind::DateTime,
                &[
                    "1786291200000",
                    "-1",
                    r#""1786291200000""#,
                    r#""2026-03-01T10:20:30.400Z""#,
                    "1.5e12",
                ],
            ),
            (
                Kind::MultiSelect,
                &[
                    r#"[{"id":"2","name":"python","label":"Python","type":"option","order":1},{"id":"4","name":"cloud"}]"#,
                    "[]",
                    r#"["a","b"]"#,
                    r#"[{"name":"x"},"y"]"#,
                    r#"{"name":"single"}"#,
                ],
            ),
            (
                Kind::ForeignId,
                &[
                    r#"[{"id":"5000000001","name":"Ada","type":"foreignid"}]"#,
                    r#"[{"id":5000000002}]"#,
                    "[]",
                    r#"["7"]"#,
                    r#"[{"id":"e\u0301"}]"#,
                ],
            ),
            (
                Kind::Image,
                &[
                    r#"{"url":"https://cdn.example.com/b.png","width":1200,"height":630,"type":"image"}"#,
                    r#"{"url":"u","width":12.0,"height":"630"}"#,
                    r#"{"url":"only"}"#,
                    r#""https://x/y.png""#,
                ],
            ),
            (
                Kind::Location,
                &[
                    r#"{"lat":1.3521,"long":103.8198,"type":"location"}"#,
                    r#"{"lat":1,"lng":2}"#,
                    r#"{"lat":"1.5","lon":2.5}"#,
                    r#"{"lat":null}"#,
                ],
            ),
        ];
        for (kind, texts) in cases {
            let data_type = kind.data_type();
            let mut fast = Builder::new(&data_type, texts.len());
            let mut slow = Builder::new(&data_type, texts.len());
            for text in texts.iter() {
                let v: J = serde_json::from_str(text).unwrap();
                let a = append_raw(&mut fast, *kind, text);
                let b = if v.is_null() {
                    slow.null();
                    Ok(())
                } else {
                    append_value(&mut slow, *kind, &v)
                };
                assert_eq!(a.is_ok(), b.is_ok(), "{kind:?} {text}: {a:?} vs {b:?}");
                if a.is_err() {
                    // Keep both builders the same length.
                    fast.null();
                    slow.null();
                }
            }
            let (fast, slow) = (fast.finish(), slow.finish());
            assert_eq!(fast.as_ref(), slow.as_ref(), "{kind:?}");
        }
    }

    /// The fast path really is taken for the shapes HubDB sends (else the test above is moot).
    #[test]
    fn common_shapes_skip_the_value_path() {
        let cases = [
            (Kind::Text, r#""Cloud Costs Roadshow #1""#),
            (Kind::Number, "103.6"),
            (Kind::Boolean, "0"),
            (Kind::DateTime, "1786291200000"),
            (
                Kind::Select,
                r#"{"id":"1","name":"conference","label":"Conference","type":"option","order":0}"#,
            ),
            (
                Kind::MultiSelect,
                r#"[{"id":"2","name":"python"},{"id":"4","name":"cloud"}]"#,
            ),
            (
                Kind::ForeignId,
                r#"[{"id":"5000000001","name":"Ada","type":"foreignid"}]"#,
            ),
            (
                Kind::Image,
                r#"{"url":"https://cdn.example.com/b.png","width":1200,"height":630,"type":"image"}"#,
            ),
            (
                Kind::Location,
                r#"{"lat":1.3521,"long":103.8198,"type":"location"}"#,
            ),
        ];
        for (kind, text) in cases {
            let mut builder = Builder::new(&kind.data_type(), 1);
            assert_eq!(
                append_fast(&mut builder, kind, text),
                Ok(true),
                "{kind:?} {text}"
            );
        }
    }
}
