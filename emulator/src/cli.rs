//! `connector emulator`: the clap arguments and the serve-until-signal loop.

use std::io::Write as _;
use std::time::Duration;

use clap::Args;

use crate::{EmulatorBuilder, Error, RefreshRotation};

/// Flags of `connector emulator`.
#[derive(Args, Debug, Clone)]
pub struct EmulatorArgs {
    /// Authorization pages redirect at once as the default user (for scripts).
    #[arg(long)]
    pub auto_approve: bool,
    /// Fixed delay added to every request, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Random extra delay of up to N milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub jitter_ms: u64,
    /// Access-token lifetime for both services, in seconds [default: HubSpot 1800, Act-On 3600].
    #[arg(long, value_name = "N")]
    pub token_ttl_s: Option<u64>,
    /// HubSpot requests per rolling 10 seconds per app (0 disables).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub hubspot_rate_limit: u32,
    /// HubSpot requests per day (0 disables).
    #[arg(long, value_name = "N", default_value_t = 250_000)]
    pub hubspot_daily_limit: u64,
    /// Act-On requests per second (0 disables).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub acton_rate_limit: u32,
    /// Act-On requests per day (0 disables).
    #[arg(long, value_name = "N", default_value_t = 30_000)]
    pub acton_daily_limit: u64,
    /// Act-On password and code grants per user per hour (0 disables).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub acton_auth_limit: u32,
    /// Rows of the seeded HubDB table `events`.
    #[arg(long, value_name = "N", default_value_t = 2500)]
    pub hubdb_rows: u64,
    /// Records of the seeded Act-On list `Customers`.
    #[arg(long, value_name = "N", default_value_t = 2500)]
    pub acton_records: u64,
    /// Redirect URI registered with both OAuth clients (repeatable)
    /// [default: http://localhost:33333 for HubSpot, http://localhost:33334 for Act-On].
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Vec<String>,
    /// HubSpot refresh-token rotation: same, rotate or rotate-revoke-on-reuse.
    #[arg(long, value_name = "MODE", default_value = "same", value_parser = parse_rotation)]
    pub hubspot_refresh_rotation: RefreshRotation,
    /// Seed for generated data and credentials.
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,
    /// Fixed HubSpot port (0 = any free port).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub hubspot_port: u16,
    /// Fixed Act-On port (0 = any free port).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub acton_port: u16,
}

fn parse_rotation(s: &str) -> Result<RefreshRotation, String> {
    match s {
        "same" => Ok(RefreshRotation::Same),
        "rotate" => Ok(RefreshRotation::Rotate),
        "rotate-revoke-on-reuse" => Ok(RefreshRotation::RotateRevokeOnReuse),
        _ => Err(format!(
            "unknown rotation mode {s:?} (same, rotate, rotate-revoke-on-reuse)"
        )),
    }
}

impl EmulatorArgs {
    /// The builder these flags describe.
    pub fn builder(&self) -> EmulatorBuilder {
        let mut b = EmulatorBuilder::new()
            .seed(self.seed)
            .auto_approve(self.auto_approve)
            .latency(Duration::from_millis(self.latency_ms))
            .jitter(Duration::from_millis(self.jitter_ms))
            .hubspot_rate_limit(self.hubspot_rate_limit)
            .hubspot_daily_limit(self.hubspot_daily_limit)
            .acton_rate_limit(self.acton_rate_limit)
            .acton_daily_limit(self.acton_daily_limit)
            .acton_auth_limit(self.acton_auth_limit)
            .hubdb_rows(self.hubdb_rows)
            .acton_records(self.acton_records)
            .refresh_rotation(self.hubspot_refresh_rotation)
            .hubspot_port(self.hubspot_port)
            .acton_port(self.acton_port);
        if let Some(ttl) = self.token_ttl_s {
            b = b.token_ttl(Duration::from_secs(ttl));
        }
        for uri in &self.redirect_uri {
            b = b.redirect_uri(uri.clone());
        }
        b
    }
}

/// Starts both emulators, prints the one JSON line of [`crate::ConnectionInfo`] on stdout,
/// and serves until SIGINT or SIGTERM, then shuts down cleanly.
pub async fn run(args: EmulatorArgs) -> Result<(), Error> {
    // Install the handlers before announcing readiness, so a signal sent right after the
    // JSON line is never missed.
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let emu = args.builder().start().await?;
    let line = serde_json::to_string(&emu.connection_info())
        .map_err(|e| Error::InvalidControl(e.to_string()))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    #[cfg(unix)]
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    emu.shutdown().await;
    Ok(())
}
