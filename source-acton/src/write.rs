//! Writes to `List_<Name>`: one request per inserted or updated record, deletes in calls of
//! at most [`MAX_DELETE_IDS`] record ids. Every request goes through the account's pacer.
//!
//! | SQL | request |
//! |---|---|
//! | `INSERT` | `POST /api/1/list/{listid}/record` (JSON object header → value) |
//! | `UPDATE … WHERE …` | `PUT /api/1/list/{listid}/record/{ContactId}` (the columns set) |
//! | `DELETE … WHERE …` | `DELETE /api/1/list/{listid}/record?contactids=a,b,…` (≤ 100 ids) |

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use reqwest::Method;
use serde_json::{Map, Value as J};
use source_core::{RowError, Value, WriteOutcome};

use crate::Error;
use crate::client::{Call, Client};
use crate::views::{Kind, Relation};

/// The record-id column of list tables (`l-0001:12`), the key of UPDATE and DELETE.
pub const CONTACT_ID: &str = "ContactId";
/// The most record ids Act-On deletes in one call.
pub const MAX_DELETE_IDS: usize = 100;

/// `["api", "1", "list", {listid}, "record", …rest]`.
fn record_path(list_id: &str, rest: &[&str]) -> Vec<String> {
    ["api", "1", "list", list_id, "record"]
        .iter()
        .chain(rest)
        .map(|s| (*s).to_owned())
        .collect()
}

/// The list id of a list table, or why the relation cannot be written.
fn list_id(rel: &Relation) -> source_core::Result<&str> {
    match (&rel.kind, &rel.list_id) {
        (Kind::List, Some(id)) => Ok(id),
        _ => Err(source_core::Error::ReadOnly {
            table: rel.info.name.clone(),
            column: None,
            hint: Some("only the List_<Name> tables of contact lists take writes".into()),
        }),
    }
}

/// One input column and the list header it writes (`None` for `ContactId`).
struct Setter {
    index: usize,
    name: String,
    header: Option<String>,
}

/// Maps the batch's columns to list headers; refuses unknown and read-only columns.
fn setters(
    rel: &Relation,
    batch: &RecordBatch,
    allow_key: bool,
) -> source_core::Result<Vec<Setter>> {
    let mut out = Vec::new();
    for (index, field) in batch.schema().fields().iter().enumerate() {
        let info = rel.info.column(field.name())?;
        if info.name == CONTACT_ID {
            if !allow_key {
                return Err(read_only(rel, CONTACT_ID, "Act-On assigns the record id"));
            }
            out.push(Setter {
                index,
                name: info.name.clone(),
                header: None,
            });
            continue;
        }
        if info.read_only {
            return Err(read_only(rel, &info.name, "Act-On sets it"));
        }
        let header = rel
            .cols
            .iter()
            .find(|c| c.name == info.name)
            .map(|c| c.key.clone());
        out.push(Setter {
            index,
            name: info.name.clone(),
            header,
        });
    }
    Ok(out)
}

fn read_only(rel: &Relation, column: &str, hint: &str) -> source_core::Error {
    source_core::Error::ReadOnly {
        table: rel.info.name.clone(),
        column: Some(column.to_owned()),
        hint: Some(hint.to_owned()),
    }
}

/// One cell as the text Act-On stores (lists hold text only); NULL becomes empty.
fn cell_text(array: &dyn Array, row: usize) -> Result<String, String> {
    if array.is_null(row) {
        return Ok(String::new());
    }
    Ok(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_owned(),
        DataType::Utf8View => array.as_string_view().value(row).to_owned(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Null => String::new(),
        other => return Err(format!("cannot write {other} values; cast them to text")),
    })
}

/// The JSON body (header → text) of one row, or the row's error.
fn row_body(setters: &[Setter], batch: &RecordBatch, row: usize) -> Result<J, RowError> {
    let mut body = Map::new();
    for s in setters {
        let Some(header) = &s.header else { continue };
        let text = cell_text(batch.column(s.index).as_ref(), row).map_err(|message| RowError {
            index: row,
            key: None,
            column: Some(s.name.clone()),
            message,
        })?;
        body.insert(header.clone(), J::String(text));
    }
    Ok(J::Object(body))
}

/// Whether Act-On refused the row's content (the row fails, the statement goes on).
fn refused(e: &Error) -> bool {
    matches!(e, Error::Api { status, .. } if (400..500).contains(status) && *status != 401 && *status != 403 && *status != 429)
}

fn row_error(row: usize, key: Option<&str>, e: &Error) -> RowError {
    RowError {
        index: row,
        key: key.map(|k| Value::Str(k.to_owned())),
        column: None,
        message: match e {
            Error::Api { message, .. } => message.clone(),
            other => other.to_string(),
        },
    }
}

#[derive(serde::Deserialize)]
struct Inserted {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    contact_id: Option<String>,
}

/// `INSERT`: one `POST …/record` per row; the new record ids become the outcome's keys.
pub(crate) async fn insert(
    client: &Client,
    rel: &Relation,
    batch: &RecordBatch,
) -> source_core::Result<WriteOutcome> {
    let list = list_id(rel)?;
    let setters = setters(rel, batch, false)?;
    let context = format!("inserting into `{}`", rel.info.name);
    let mut outcome = WriteOutcome::default();
    for row in 0..batch.num_rows() {
        let body = match row_body(&setters, batch, row) {
            Ok(b) => b,
            Err(e) => {
                outcome.errors.push(e);
                continue;
            }
        };
        // A retried create could add the record twice: never retried after it may have landed.
        let call = Call::new(Method::POST, record_path(list, &[]), &context)
            .json(body)
            .idempotent(false);
        match client.json::<Inserted>(&call).await {
            Ok(r) => {
                outcome.affected += 1;
                if let Some(id) = r.id.or(r.contact_id) {
                    outcome.keys.push(Value::Str(id));
                }
            }
            Err(e) if refused(&e) => outcome.errors.push(row_error(row, None, &e)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(outcome)
}

/// The `ContactId` of a row, checked to belong to the list.
fn contact_id(
    batch: &RecordBatch,
    key: Option<&Setter>,
    row: usize,
    list: &str,
) -> Result<String, RowError> {
    let err = |message: String| RowError {
        index: row,
        key: None,
        column: Some(CONTACT_ID.into()),
        message,
    };
    let Some(k) = key else {
        return Err(err(format!("the {CONTACT_ID} column is required")));
    };
    let id = cell_text(batch.column(k.index).as_ref(), row).map_err(err)?;
    let prefix = format!("{list}:");
    if !id.starts_with(&prefix) || id.len() == prefix.len() {
        return Err(RowError {
            key: Some(Value::Str(id.clone())),
            ..err(format!(
                "`{id}` is not a record id of list {list} (expected `{list}:<number>`)"
            ))
        });
    }
    Ok(id)
}

/// `UPDATE`: one `PUT …/record/{ContactId}` per row with the columns set.
pub(crate) async fn update(
    client: &Client,
    rel: &Relation,
    batch: &RecordBatch,
) -> source_core::Result<WriteOutcome> {
    let list = list_id(rel)?;
    let setters = setters(rel, batch, true)?;
    let key = setters.iter().find(|s| s.header.is_none());
    let context = format!("updating `{}`", rel.info.name);
    let mut outcome = WriteOutcome::default();
    for row in 0..batch.num_rows() {
        let prepared = contact_id(batch, key, row, list)
            .and_then(|id| row_body(&setters, batch, row).map(|b| (id, b)));
        let (id, body) = match prepared {
            Ok(x) => x,
            Err(e) => {
                outcome.errors.push(e);
                continue;
            }
        };
        // Setting the same values twice leaves the same record: safe to retry.
        let call = Call::new(Method::PUT, record_path(list, &[&id]), &context)
            .json(body)
            .idempotent(true);
        match client.send(&call).await {
            Ok(_) => outcome.affected += 1,
            Err(e) if refused(&e) => outcome.errors.push(row_error(row, Some(&id), &e)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(outcome)
}

#[derive(serde::Deserialize, Default)]
struct Deleted {
    #[serde(default)]
    success_count: u64,
    #[serde(default, rename = "failedList")]
    failed: Vec<FailedId>,
}

#[derive(serde::Deserialize)]
struct FailedId {
    #[serde(default)]
    id: String,
    #[serde(default)]
    reason: String,
}

/// `DELETE`: `DELETE …/record?contactids=…` with at most 100 ids a call; ids Act-On reports
/// in `failedList` become row errors.
pub(crate) async fn delete(
    client: &Client,
    rel: &Relation,
    keys: &RecordBatch,
) -> source_core::Result<WriteOutcome> {
    let list = list_id(rel)?;
    let key_index = keys
        .schema()
        .fields()
        .iter()
        .position(|f| f.name().eq_ignore_ascii_case(CONTACT_ID));
    let key = key_index.map(|index| Setter {
        index,
        name: CONTACT_ID.into(),
        header: None,
    });
    let context = format!("deleting from `{}`", rel.info.name);
    let mut outcome = WriteOutcome::default();
    let mut members: Vec<(usize, String)> = Vec::new();
    for row in 0..keys.num_rows() {
        match contact_id(keys, key.as_ref(), row, list) {
            Ok(id) => members.push((row, id)),
            Err(e) => outcome.errors.push(e),
        }
    }
    for chunk in members.chunks(MAX_DELETE_IDS) {
        let ids: Vec<&str> = chunk.iter().map(|(_, id)| id.as_str()).collect();
        // Not retried blindly: a repeat after a lost answer would report the ids the first
        // attempt deleted as failures.
        let call = Call::new(Method::DELETE, record_path(list, &[]), &context)
            .param("contactids", ids.join(","))
            .idempotent(false);
        let reply: Deleted = client.json(&call).await?;
        let mut failed_rows = 0u64;
        for f in &reply.failed {
            for (row, id) in chunk.iter().filter(|(_, id)| *id == f.id) {
                failed_rows += 1;
                outcome.errors.push(RowError {
                    index: *row,
                    key: Some(Value::Str(id.clone())),
                    column: None,
                    message: if f.reason.is_empty() {
                        "not deleted".to_owned()
                    } else {
                        f.reason.clone()
                    },
                });
            }
        }
        // Every row is counted once: listed as failed, or deleted. `success_count` only
        // confirms it (the ids themselves are named in `failedList` alone).
        let deleted = (chunk.len() as u64).saturating_sub(failed_rows);
        if reply.success_count != deleted {
            tracing::debug!(
                success_count = reply.success_count,
                deleted,
                "Act-On's success_count differs from the ids not in failedList"
            );
        }
        outcome.affected += deleted;
    }
    outcome.errors.sort_by_key(|e| e.index);
    Ok(outcome)
}
