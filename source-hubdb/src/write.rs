//! Draft writes (batch endpoints, per-row errors) and single-row reads.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use reqwest::Method;
use serde_json::{Value as J, json};
use source_core::{RecordBatchStream, RowError, TableKind, Value, WriteOutcome};

use crate::Error;
use crate::client::{Body, Call, Client};
use crate::decode::{self, RawRow};
use crate::schema::{Col, Common, Kind, Relation, Target, exposed_name};

/// The most inputs a HubDB batch call accepts.
pub(crate) const BATCH_SIZE: usize = 100;

/// A stream with the one row `GET …/rows/{id}[/draft]` returns (none on 404).
pub(crate) fn single_row_stream(
    client: Client,
    path: Vec<String>,
    cols: Vec<Col>,
    schema: SchemaRef,
    table: String,
) -> RecordBatchStream {
    let s = schema.clone();
    let fut = async move {
        let context = format!("reading `{table}`");
        let call = Call::get(path, &context);
        match client.json::<RawRow>(&call).await {
            Ok(row) => Some(
                decode::decode_rows(std::slice::from_ref(&row), &cols, &s, &table)
                    .map_err(source_core::Error::from),
            ),
            Err(e) if e.status() == Some(404) => None,
            Err(e) => Some(Err(e.into())),
        }
    };
    RecordBatchStream::new(
        schema,
        futures::StreamExt::filter_map(futures::stream::once(fut), |x| async move { x }),
    )
}

/// A draft relation's table id and column mapping, or why it cannot be written.
fn draft_target<'r>(
    rel: &'r Relation,
    op: &str,
) -> Result<(&'r str, &'r [Col]), source_core::Error> {
    match &rel.target {
        Target::HubDb {
            id,
            draft: true,
            columns,
            ..
        } if rel.info.kind == TableKind::Table => Ok((id.as_str(), columns.as_slice())),
        Target::HubDb { hub_name, .. } => Err(source_core::Error::ReadOnly {
            table: rel.info.name.clone(),
            column: None,
            hint: Some(format!(
                "the view shows the published table; {op} rows of `{hub_name}{}` and publish it",
                crate::DRAFT_SUFFIX
            )),
        }),
        Target::Owners => Err(source_core::Error::ReadOnly {
            table: rel.info.name.clone(),
            column: None,
            hint: None,
        }),
    }
}

/// How one input column is written.
struct Setter<'a> {
    col: &'a Col,
    index: usize,
    name: String,
}

/// Maps the batch's columns onto the table's; refuses unknown and read-only ones.
fn setters<'a>(
    rel: &Relation,
    cols: &'a [Col],
    batch: &RecordBatch,
    allow_id: bool,
) -> Result<(Vec<Setter<'a>>, Option<usize>), source_core::Error> {
    let mut out = Vec::new();
    let mut id_index = None;
    for (index, field) in batch.schema().fields().iter().enumerate() {
        let info = rel.info.column(field.name())?;
        let col = cols
            .iter()
            .find(|c| exposed_name(c) == info.name)
            .ok_or_else(|| {
                source_core::Error::unknown_column(
                    &rel.info.name,
                    field.name(),
                    rel.info.columns.iter().map(|c| &c.name),
                )
            })?;
        if matches!(col, Col::Common(Common::Id)) && allow_id {
            id_index = Some(index);
            continue;
        }
        if info.read_only {
            return Err(source_core::Error::ReadOnly {
                table: rel.info.name.clone(),
                column: Some(info.name.clone()),
                hint: Some("HubSpot sets it".into()),
            });
        }
        let expected = &info.data_type;
        let given = field.data_type();
        let compatible = given == expected
            || (matches!(
                col,
                Col::User {
                    kind: Kind::Json,
                    ..
                }
            ) && *given == DataType::Utf8)
            || matches!(given, DataType::Null)
            || (matches!(expected, DataType::Timestamp(..))
                && matches!(
                    given,
                    DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, _)
                ))
            || (matches!(expected, DataType::Float64) && matches!(given, DataType::Int64));
        if !compatible {
            return Err(source_core::Error::InvalidValue {
                table: rel.info.name.clone(),
                column: Some(info.name.clone()),
                row: None,
                message: format!("expected {expected}, got {given}"),
            });
        }
        out.push(Setter {
            col,
            index,
            name: info.name.clone(),
        });
    }
    Ok((out, id_index))
}

/// One Arrow cell in HubDB's input encoding.
fn encode(array: &dyn Array, row: usize, kind: Option<Kind>) -> Result<J, String> {
    if array.is_null(row) {
        return Ok(J::Null);
    }
    Ok(match array.data_type() {
        DataType::Utf8 => {
            let s = array.as_string::<i32>().value(row);
            match kind {
                Some(Kind::Select) => json!({"name": s, "type": "option"}),
                Some(Kind::Json) => {
                    serde_json::from_str(s).map_err(|e| format!("not JSON: {e}"))?
                }
                _ => J::String(s.to_owned()),
            }
        }
        DataType::Float64 => {
            let x = array.as_primitive::<Float64Type>().value(row);
            serde_json::Number::from_f64(x)
                .map(J::Number)
                .ok_or_else(|| format!("{x} is not a number HubDB can store"))?
        }
        DataType::Int64 => J::from(array.as_primitive::<Int64Type>().value(row)),
        DataType::Boolean => J::from(u8::from(array.as_boolean().value(row))),
        DataType::Date32 => {
            J::from(i64::from(array.as_primitive::<Date32Type>().value(row)) * 86_400_000)
        }
        DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, _) => {
            J::from(array.as_primitive::<TimestampMillisecondType>().value(row))
        }
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            let strings = items
                .as_string_opt::<i32>()
                .ok_or("list items must be text")?;
            let values = strings.iter().flatten();
            match kind {
                Some(Kind::ForeignId) => J::Array(
                    values
                        .map(|id| json!({"id": id, "type": "foreignid"}))
                        .collect(),
                ),
                _ => J::Array(
                    values
                        .map(|n| json!({"name": n, "type": "option"}))
                        .collect(),
                ),
            }
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut o = serde_json::Map::new();
            for (f, c) in fields.iter().zip(s.columns()) {
                o.insert(f.name().clone(), encode(c.as_ref(), row, None)?);
            }
            o.insert(
                "type".into(),
                J::from(if kind == Some(Kind::Location) {
                    "location"
                } else {
                    "image"
                }),
            );
            J::Object(o)
        }
        DataType::Null => J::Null,
        other => return Err(format!("cannot write {other} values")),
    })
}

/// The `HubDbTableRowV3Request` of one input row.
fn row_request(setters: &[Setter<'_>], batch: &RecordBatch, row: usize) -> Result<J, RowError> {
    let mut values = serde_json::Map::new();
    let mut body = serde_json::Map::new();
    for s in setters {
        let kind = match s.col {
            Col::User { kind, .. } => Some(*kind),
            Col::Common(_) => None,
        };
        let v = encode(batch.column(s.index).as_ref(), row, kind).map_err(|message| RowError {
            index: row,
            key: None,
            column: Some(s.name.clone()),
            message,
        })?;
        match s.col {
            Col::User { name, .. } => {
                values.insert(name.clone(), v);
            }
            Col::Common(Common::PagePath) => {
                body.insert("path".into(), v);
            }
            Col::Common(Common::PageName) => {
                body.insert("name".into(), v);
            }
            Col::Common(Common::ChildTableId) => {
                body.insert("childTableId".into(), v);
            }
            Col::Common(_) => {}
        }
    }
    body.insert("values".into(), J::Object(values));
    Ok(J::Object(body))
}

fn row_id(batch: &RecordBatch, index: Option<usize>, row: usize) -> Result<i64, RowError> {
    let err = |message: &str| RowError {
        index: row,
        key: None,
        column: Some("Id".into()),
        message: message.into(),
    };
    let col = batch.column(index.ok_or_else(|| err("the Id column is required"))?);
    if col.is_null(row) {
        return Err(err("Id is NULL"));
    }
    col.as_primitive_opt::<Int64Type>()
        .map(|a| a.value(row))
        .ok_or_else(|| err("Id must be BIGINT"))
}

fn tables_path(client: &Client, id: &str, rest: &[&str]) -> Vec<String> {
    let mut p = client.hubdb_path(&["tables", id]);
    p.extend(rest.iter().map(|s| (*s).to_owned()));
    p
}

#[derive(serde::Deserialize, Default)]
struct BatchReply {
    #[serde(default)]
    results: Vec<RawRow>,
    #[serde(default)]
    errors: Vec<BatchError>,
}

#[derive(serde::Deserialize, Default)]
struct BatchError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    context: HashMap<String, Vec<String>>,
}

fn parse_batch(context: &str, body: &[u8]) -> Result<BatchReply, Error> {
    if body.is_empty() {
        return Ok(BatchReply::default());
    }
    serde_json::from_slice(body).map_err(|e| Error::decode(context, e))
}

/// A refused batch is retried row by row only when HubSpot refused its content.
fn is_validation(e: &Error) -> bool {
    matches!(
        e,
        Error::Api {
            status: 400 | 422,
            ..
        }
    )
}

fn api_message(e: &Error) -> String {
    match e {
        Error::Api { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// `INSERT`: batch create, 100 rows a call; rows of a refused batch are sent one by one.
pub(crate) async fn insert(
    client: &Client,
    rel: &Relation,
    batch: &RecordBatch,
) -> source_core::Result<WriteOutcome> {
    let (table_id, cols) = draft_target(rel, "insert")?;
    let (setters, _) = setters(rel, cols, batch, false)?;
    let context = format!("inserting into `{}`", rel.info.name);
    let mut outcome = WriteOutcome::default();
    let mut keys: Vec<Option<Value>> = vec![None; batch.num_rows()];
    let rows: Vec<usize> = (0..batch.num_rows()).collect();
    for chunk in rows.chunks(BATCH_SIZE) {
        let mut inputs = Vec::new();
        let mut members = Vec::new();
        for &row in chunk {
            match row_request(&setters, batch, row) {
                Ok(r) => {
                    inputs.push(r);
                    members.push(row);
                }
                Err(e) => outcome.errors.push(e),
            }
        }
        if inputs.is_empty() {
            continue;
        }
        let mut call = Call::get(
            tables_path(client, table_id, &["rows", "draft", "batch", "create"]),
            &context,
        );
        call.method = Method::POST;
        call.body = Body::Json(json!({ "inputs": inputs }));
        call.idempotent = false;
        match client.send(&call).await {
            Ok(reply) => {
                let parsed = parse_batch(&context, &reply)?;
                if parsed.results.len() != members.len() {
                    // Results are positional; without one per input we cannot say which
                    // row got which id, so say so for every row of the batch.
                    for &row in &members {
                        outcome.errors.push(RowError {
                            index: row,
                            key: None,
                            column: None,
                            message: format!(
                                "HubSpot returned {} results for {} inputs; check the draft",
                                parsed.results.len(),
                                members.len()
                            ),
                        });
                    }
                    continue;
                }
                for (&row, r) in members.iter().zip(&parsed.results) {
                    keys[row] = r.id_text().parse::<i64>().ok().map(Value::Int);
                    outcome.affected += 1;
                }
            }
            Err(e) if is_validation(&e) => {
                for (&row, input) in members.iter().zip(inputs) {
                    let mut one = Call::get(tables_path(client, table_id, &["rows"]), &context);
                    one.method = Method::POST;
                    one.body = Body::Json(input);
                    one.idempotent = false;
                    match client.json::<RawRow>(&one).await {
                        Ok(r) => {
                            keys[row] = r.id_text().parse::<i64>().ok().map(Value::Int);
                            outcome.affected += 1;
                        }
                        Err(e) if is_validation(&e) => outcome.errors.push(RowError {
                            index: row,
                            key: None,
                            column: None,
                            message: api_message(&e),
                        }),
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    outcome.keys = keys.into_iter().flatten().collect();
    outcome.errors.sort_by_key(|e| e.index);
    Ok(outcome)
}

/// `UPDATE`: batch update by `Id`, 100 rows a call; missing ids and refused rows are reported.
pub(crate) async fn update(
    client: &Client,
    rel: &Relation,
    batch: &RecordBatch,
) -> source_core::Result<WriteOutcome> {
    let (table_id, cols) = draft_target(rel, "update")?;
    let (setters, id_index) = setters(rel, cols, batch, true)?;
    let context = format!("updating `{}`", rel.info.name);
    let mut outcome = WriteOutcome::default();
    let rows: Vec<usize> = (0..batch.num_rows()).collect();
    for chunk in rows.chunks(BATCH_SIZE) {
        let mut inputs = Vec::new();
        let mut members: Vec<(usize, i64)> = Vec::new();
        for &row in chunk {
            let prepared = row_id(batch, id_index, row).and_then(|id| {
                let mut r = row_request(&setters, batch, row).map_err(|mut e| {
                    e.key = Some(Value::Int(id));
                    e
                })?;
                if let Some(o) = r.as_object_mut() {
                    o.insert("id".into(), J::String(id.to_string()));
                }
                Ok((id, r))
            });
            match prepared {
                Ok((id, r)) => {
                    inputs.push(r);
                    members.push((row, id));
                }
                Err(e) => outcome.errors.push(e),
            }
        }
        if inputs.is_empty() {
            continue;
        }
        let mut call = Call::get(
            tables_path(client, table_id, &["rows", "draft", "batch", "update"]),
            &context,
        );
        call.method = Method::POST;
        call.body = Body::Json(json!({ "inputs": inputs }));
        // Setting the same values twice is harmless.
        call.idempotent = true;
        match client.send(&call).await {
            Ok(reply) => {
                let parsed = parse_batch(&context, &reply)?;
                let missing: Vec<&String> = parsed
                    .errors
                    .iter()
                    .flat_map(|e| e.context.get("ids").into_iter().flatten())
                    .collect();
                let updated: std::collections::HashSet<String> =
                    parsed.results.iter().map(RawRow::id_text).collect();
                for &(row, id) in &members {
                    let text = id.to_string();
                    if updated.contains(&text) {
                        outcome.affected += 1;
                    } else {
                        let message = if missing.contains(&&text) {
                            format!("no row with Id {id} in the draft")
                        } else {
                            parsed.errors.first().map_or_else(
                                || "not updated (no result for this row)".to_owned(),
                                |e| e.message.clone(),
                            )
                        };
                        outcome.errors.push(RowError {
                            index: row,
                            key: Some(Value::Int(id)),
                            column: None,
                            message,
                        });
                    }
                }
            }
            Err(e) if is_validation(&e) => {
                for (&(row, id), input) in members.iter().zip(inputs) {
                    let mut one = Call::get(
                        tables_path(client, table_id, &["rows", &id.to_string(), "draft"]),
                        &context,
                    );
                    one.method = Method::PATCH;
                    one.body = Body::Json(input);
                    match client.send(&one).await {
                        Ok(_) => outcome.affected += 1,
                        Err(e) if is_validation(&e) || e.status() == Some(404) => {
                            outcome.errors.push(RowError {
                                index: row,
                                key: Some(Value::Int(id)),
                                column: None,
                                message: api_message(&e),
                            })
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    outcome.errors.sort_by_key(|e| e.index);
    Ok(outcome)
}

/// `DELETE`: batch read to find which ids exist (missing ones are reported), then purge.
pub(crate) async fn delete(
    client: &Client,
    rel: &Relation,
    keys: &RecordBatch,
) -> source_core::Result<WriteOutcome> {
    let (table_id, cols) = draft_target(rel, "delete")?;
    let (_, id_index) = setters(rel, cols, &project_id(keys), true)?;
    let context = format!("deleting from `{}`", rel.info.name);
    let mut outcome = WriteOutcome::default();
    let ids_batch = project_id(keys);
    let rows: Vec<usize> = (0..keys.num_rows()).collect();
    for chunk in rows.chunks(BATCH_SIZE) {
        let mut members: Vec<(usize, i64)> = Vec::new();
        for &row in chunk {
            match row_id(&ids_batch, id_index, row) {
                Ok(id) => members.push((row, id)),
                Err(e) => outcome.errors.push(e),
            }
        }
        if members.is_empty() {
            continue;
        }
        let ids: Vec<String> = members.iter().map(|(_, id)| id.to_string()).collect();
        let mut read = Call::get(
            tables_path(client, table_id, &["rows", "draft", "batch", "read"]),
            &context,
        );
        read.method = Method::POST;
        read.body = Body::Json(json!({ "inputs": ids }));
        let reply = client.send(&read).await?;
        let found: std::collections::HashSet<String> = parse_batch(&context, &reply)?
            .results
            .iter()
            .map(RawRow::id_text)
            .collect();
        let mut purge = Vec::new();
        for &(row, id) in &members {
            if found.contains(&id.to_string()) {
                purge.push(id.to_string());
            } else {
                outcome.errors.push(RowError {
                    index: row,
                    key: Some(Value::Int(id)),
                    column: None,
                    message: format!("no row with Id {id} in the draft"),
                });
            }
        }
        if purge.is_empty() {
            continue;
        }
        let count = purge.len() as u64;
        let mut call = Call::get(
            tables_path(client, table_id, &["rows", "draft", "batch", "purge"]),
            &context,
        );
        call.method = Method::POST;
        call.body = Body::Json(json!({ "inputs": purge }));
        // Purging an id twice leaves the same result.
        call.idempotent = true;
        client.send(&call).await?;
        outcome.affected += count;
    }
    outcome.errors.sort_by_key(|e| e.index);
    Ok(outcome)
}

/// Only the `Id` column of a delete's key batch (other columns are ignored).
fn project_id(keys: &RecordBatch) -> RecordBatch {
    let schema = keys.schema();
    let idx: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name().eq_ignore_ascii_case("Id"))
        .map(|(i, _)| i)
        .collect();
    keys.project(&idx)
        .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(arrow_schema::Schema::empty())))
}
