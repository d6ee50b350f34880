//! Shared fixtures: an emulator, a source connected to it, and helpers to read results.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMillisecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use emulator::{ActOnToken, Emulator, EmulatorBuilder};
use futures::TryStreamExt;
use source_acton::{ActOnOptions, ActOnSource};
use source_core::{DataSource, ScanRequest, Value};

/// The access token the emulator accepts without a flow.
pub(crate) const TOKEN: &str = "test-access-token";

/// An emulator without rate limits (tests that need them turn them on), with a pre-issued token.
pub(crate) fn builder() -> EmulatorBuilder {
    EmulatorBuilder::new()
        .acton_rate_limit(0)
        .acton_token(ActOnToken {
            access_token: Some(TOKEN.into()),
            refresh_token: None,
            expires_in_s: 86_400,
        })
}

/// The `InitiateOAuth=OFF` configuration for `emu`, plus `extra` properties.
pub(crate) fn config(emu: &Emulator, extra: &str) -> connstr::validate::ActOnConfig {
    let text = format!(
        "InitiateOAuth=OFF;OAuthAccessToken={TOKEN};APIBaseURL={};{extra}",
        emu.acton().base_url()
    );
    let cs: connstr::ConnectionString = text.parse().expect("connection string");
    connstr::validate::acton(&cs).expect("valid config")
}

/// An unpaced source (the emulator's limit is off too).
pub(crate) fn source(emu: &Emulator, extra: &str) -> ActOnSource {
    source_with(
        emu,
        extra,
        ActOnOptions {
            requests_per_second: 0,
            ..ActOnOptions::default()
        },
    )
}

/// A source with options.
pub(crate) fn source_with(emu: &Emulator, extra: &str, options: ActOnOptions) -> ActOnSource {
    let config = config(emu, extra);
    let tokens = source_acton::token_provider(&config).expect("token provider");
    ActOnSource::connect_with(&config, tokens, options).expect("connect")
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

/// The error of a scan (at start or while reading).
pub(crate) async fn scan_error(
    source: &dyn DataSource,
    table: &str,
    request: ScanRequest,
) -> source_core::Error {
    match source.scan(table, request).await {
        Err(e) => e,
        Ok(stream) => stream
            .try_collect::<Vec<_>>()
            .await
            .expect_err("the scan should fail"),
    }
}

/// Rows in all batches.
pub(crate) fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// One cell as a `Value`.
pub(crate) fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Utf8 => Value::Str(array.as_string::<i32>().value(row).to_owned()),
        DataType::Int64 => Value::Int(array.as_primitive::<Int64Type>().value(row)),
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Timestamp(..) => {
            Value::TimestampMs(array.as_primitive::<TimestampMillisecondType>().value(row))
        }
        other => Value::Str(format!("<{other}>")),
    }
}

/// Every value of `column` across the batches.
pub(crate) fn column(batches: &[RecordBatch], column: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for b in batches {
        let idx = b.schema().index_of(column).expect("column in batch");
        let array = b.column(idx);
        out.extend((0..b.num_rows()).map(|r| cell(array.as_ref(), r)));
    }
    out
}

/// Text values of `column` (NULL as "").
pub(crate) fn texts(batches: &[RecordBatch], name: &str) -> Vec<String> {
    column(batches, name)
        .into_iter()
        .map(|v| match v {
            Value::Str(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .collect()
}

/// The record index generated e-mails carry before `@` (`olivia.smith17@acme.example` → 17).
pub(crate) fn email_index(email: &str) -> u64 {
    let local = email.split('@').next().unwrap_or_default();
    let digits: String = local
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().expect("generated e-mail ends in its index")
}
