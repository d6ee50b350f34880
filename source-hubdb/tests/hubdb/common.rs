//! Shared fixtures: an emulator, a source connected to it, and helpers to read results.

use arrow_array::RecordBatch;
use emulator::{Emulator, EmulatorBuilder};
use source_core::Value;
pub(crate) use source_core::test_util::{cell, column, read, rows};
use source_hubdb::{HubDbOptions, HubDbSource};

/// The `APIVersion` this run of the suite uses: `HUBDB_API_VERSION` (CI runs the suite once with
/// the default, once with `v3`), else the connector's default.
pub(crate) fn api_version() -> String {
    std::env::var("HUBDB_API_VERSION").unwrap_or_else(|_| source_hubdb::API_VERSION_2026_03.into())
}

/// The path prefix of HubDB tables under [`api_version`], e.g. `/cms/hubdb/2026-03/tables/`.
pub(crate) fn tables_prefix() -> String {
    let version: source_hubdb::ApiVersion = match api_version().as_str() {
        "v3" => source_hubdb::ApiVersion::V3,
        _ => source_hubdb::ApiVersion::Date2026_03,
    };
    format!("/{}/", version.hubdb_path(&["tables"]).join("/"))
}

/// An emulator without rate limits (tests that need them turn them on).
pub(crate) fn builder() -> EmulatorBuilder {
    EmulatorBuilder::new().hubspot_rate_limit(0)
}

/// The private-app connection string for `emu`, plus `extra` properties.
pub(crate) fn connection(emu: &Emulator, extra: &str) -> source_hubdb::HubDbConfig {
    let hs = emu.hubspot();
    let text = format!(
        "AuthScheme=PrivateApp;PrivateAppToken={};APIBaseURL={};APIVersion={};{extra}",
        hs.info().private_app_token,
        hs.base_url(),
        api_version()
    );
    let cs: connstr::ConnectionString = text.parse().expect("connection string");
    source_hubdb::validate(&cs).expect("valid config")
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
