//! Shared fixtures: an emulator, a source connected to it, and helpers to read results.

use arrow_array::RecordBatch;
use emulator::{ActOnToken, Emulator, EmulatorBuilder};
use source_acton::{ActOnOptions, ActOnSource};
use source_core::Value;
pub(crate) use source_core::test_util::{column, read, rows, scan_error};

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
pub(crate) fn config(emu: &Emulator, extra: &str) -> source_acton::ActOnConfig {
    let text = format!(
        "InitiateOAuth=OFF;OAuthAccessToken={TOKEN};APIBaseURL={};{extra}",
        emu.acton().base_url()
    );
    let cs: connstr::ConnectionString = text.parse().expect("connection string");
    source_acton::validate(&cs).expect("valid config")
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
