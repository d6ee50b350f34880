//! Shared fixtures: an emulator, a source connected to it, and helpers to read results.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use emulator::{Emulator, EmulatorBuilder};
use futures::TryStreamExt;
use source_core::{DataSource, ScanRequest, Value};
use source_hubdb::{HubDbOptions, HubDbSource};

/// An emulator without rate limits (tests that need them turn them on).
pub(crate) fn builder() -> EmulatorBuilder {
    EmulatorBuilder::new().hubspot_rate_limit(0)
}

/// The private-app connection string for `emu`, plus `extra` properties.
pub(crate) fn connection(emu: &Emulator, extra: &str) -> connstr::HubDbConfig {
    let hs = emu.hubspot();
    let text = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={};{extra}",
        hs.info().private_app_token,
        hs.base_url()
    );
    let cs: connstr::ConnectionString = text.parse().expect("connection string");
    connstr::validate::hubdb(&cs).expect("valid config")
}

/// A source over `emu`'s private-app token.
pub(crate) fn source(emu: &Emulator, extra: &str) -> HubDbSource {
    source_with(emu, extra, HubDbOptions::default())
}

/// A source with options.
pub(crate) fn source_with(emu: &Emulator, extra: &str, options: HubDbOptions) -> HubDbSource {
    let config = connection(emu, extra);
    let tokens = source_hubdb::token_provider(&config).expect("token provider");
    HubDbSource::connect_with(&config, tokens, options).expect("connect")
}

/// Every batch of a scan.
pub(crate) async fn read(
    source: &dyn DataSource,
    table: &str,
    request: ScanRequest,
) -> Vec<RecordBatch> {
    source
        .scan(table, request)
        .await
        .expect("scan starts")
        .try_collect()
        .await
        .expect("scan completes")
}

/// Rows in all batches.
pub(crate) fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// One cell as a `Value` (lists as `Value::List`, structs as their JSON text).
pub(crate) fn cell(array: &dyn Array, row: usize) -> Value {
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

/// Column `name` of every row, in order.
pub(crate) fn column(batches: &[RecordBatch], name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for b in batches {
        let c = b
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        for r in 0..b.num_rows() {
            out.push(cell(c.as_ref(), r));
        }
    }
    out
}

/// The `Id`s of every row.
pub(crate) fn ids(batches: &[RecordBatch]) -> Vec<i64> {
    column(batches, "Id")
        .into_iter()
        .map(|v| match v {
            Value::Int(i) => i,
            other => panic!("Id is {other:?}"),
        })
        .collect()
}
