//! Loopback emulators of the HubSpot (OAuth, HubDB v3 and 2026-03, CRM owners) and Act-On (OAuth,
//! `/api/1`) services, with fault injection, a request log and a control API.
//!
//! No machine here reaches the real services, so every connector test, demo and
//! benchmark runs against these emulators. They follow `shared/reference/apis.md`
//! point by point; where that file says UNVERIFIED, the choice made is listed in the
//! crate's `README.md` under "UNVERIFIED choices".
//!
//! # Quick start
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use emulator::{EmulatorBuilder, Fault, FaultTarget};
//!
//! let emu = EmulatorBuilder::new().hubdb_rows(5_000).auto_approve(true).start().await?;
//! let hs = emu.hubspot();
//! // A private-app token or a service key works at once; OAuth needs the install flow.
//! let url = format!("{}/cms/v3/hubdb/tables/events/rows?limit=100&attendees__gt=250", hs.base_url());
//! let _ = (url, &hs.info().private_app_token, &hs.info().service_key);
//! // Make the next two data calls fail with 503, then assert on what the client sent.
//! hs.inject(Fault::status(503, 2).on(FaultTarget::Api));
//! let sent_filter = hs.requests().iter().any(|r| r.has_param("attendees__gt", "250"));
//! # let _ = sent_filter;
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # What is served
//!
//! Each emulator listens on its own `127.0.0.1` port (0 by default, so the OS picks one).
//!
//! * HubSpot: `GET|POST /oauth/authorize` (and `/oauth/{accountId}/authorize`), a real
//!   login-and-consent page; `POST /oauth/v1/token`, `/oauth/v3/token`,
//!   `/oauth/2026-03/token`, `/oauth/2026-09/token`; `GET /oauth/v1/access-tokens/{t}`,
//!   `GET|DELETE /oauth/v1/refresh-tokens/{t}`,
//!   `POST /oauth/{v3,2026-03,2026-09}/token/introspect` and `/revoke`; every HubDB
//!   operation of the spec under both `/cms/v3/hubdb` and the date-versioned
//!   `/cms/hubdb/2026-03`, with identical behaviour (the request log keeps the path as
//!   sent, so tests can tell which prefix a client used); `GET /crm/v3/owners[/{id}]`.
//!   API calls take an OAuth access token, a private-app token or a service key as
//!   `Authorization: Bearer`.
//! * Act-On: `GET|POST /authorize`, `POST /token`, and `/api/1/...` (account, senders,
//!   lists, list download, records, lookup, hard bounces, spam complaints, opt-outs,
//!   messages, message reports and drill-downs, reports by period, programs, images, media).
//! * Both: the control API under `/_emulator/` (stats, reset, request log, settings,
//!   faults, token expiry and revocation, clock); HubSpot also revokes service keys
//!   (`POST /_emulator/revoke-service-key`). It bypasses latency, faults, rate
//!   limits and the log.
//!
//! The README lists every endpoint with its parameters and error bodies.
//!
//! # Faults
//!
//! [`Fault`]s are queued per emulator and consumed by the next matching requests: a
//! status with the vendor's body (optionally with `Retry-After`), a TCP reset, a
//! truncated body, a stall before or after the headers, a delay, and on token endpoints a
//! 200 with an error body, `expires_in` as a string or missing, and a missing
//! `token_type`. Latency and jitter are settings ([`Settings`]).
//!
//! # Time
//!
//! Token expiry, daily limits and timestamps read the shared [`Clock`], which tests move
//! with [`Emulator::advance_clock`]; [`HubSpotHandle::expire_tokens`] ends every access
//! token at once. Rate windows use the monotonic clock, since benchmarks measure them.
//!
//! # Security
//!
//! The emulators bind `127.0.0.1` only, hold only made-up credentials, compare secrets in
//! constant time and escape everything they echo into HTML. They are test fixtures, not
//! authorization servers.

mod acton;
#[cfg(feature = "cli")]
pub mod cli;
mod clock;
mod control;
mod error;
mod http;
mod hubspot;
mod ratelimit;
mod server;
mod util;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use acton::{ActOnClient, ActOnList, ActOnToken, ActOnUser};
pub use clock::Clock;
pub use control::{
    Fault, FaultKind, FaultTarget, RefreshRotation, RequestRecord, Settings, SettingsPatch, Stats,
    TokenGrants,
};
pub use error::Error;
pub use hubspot::{
    ColumnSpec, ColumnType, HubSpotClient, HubSpotToken, HubSpotUser, OwnerSpec, PrivateApp,
    ServiceKey, TableSpec,
};

use control::Control;
use server::{Server, Shared};

/// Where the HubSpot emulator is and the credentials it accepts (also the `hubspot`
/// object of the CLI's JSON line).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HubSpotInfo {
    /// API base, e.g. `http://127.0.0.1:40123` (HubDB is at `{base_url}/cms/v3/hubdb` and
    /// `{base_url}/cms/hubdb/2026-03`).
    pub base_url: String,
    /// The install (authorization) page.
    pub authorize_url: String,
    /// The v1 token endpoint (`/oauth/v3/token`, `/oauth/2026-03/token` and
    /// `/oauth/2026-09/token` work too).
    pub token_url: String,
    /// The seeded OAuth client id.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// Its first registered redirect URI.
    pub redirect_uri: String,
    /// A private-app token with scopes `hubdb` and `crm.objects.owners.read`.
    pub private_app_token: String,
    /// A service key (the successor of private-app tokens) with the same scopes. Empty
    /// when read from a JSON line of an older emulator.
    #[serde(default)]
    pub service_key: String,
    /// Login e-mail for the authorization page.
    pub user_email: String,
    /// Login password for the authorization page.
    pub user_password: String,
}

/// Where the Act-On emulator is and the credentials it accepts (also the `acton`
/// object of the CLI's JSON line).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActOnInfo {
    /// Base URL; the API is at `{base_url}/api/1`.
    pub base_url: String,
    /// The authorization page (`/authorize`).
    pub authorize_url: String,
    /// The token endpoint (`/token`).
    pub token_url: String,
    /// The seeded client id (28 characters, like Act-On's).
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// Its first registered callback URL.
    pub redirect_uri: String,
    /// Username for the password grant and the login page.
    pub user: String,
    /// Its password.
    pub password: String,
}

/// Both emulators' connection details: the exact JSON line `connector emulator` prints.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// HubSpot.
    pub hubspot: HubSpotInfo,
    /// Act-On.
    pub acton: ActOnInfo,
}

macro_rules! control_methods {
    ($t:ty) => {
        impl $t {
            /// The base URL (no trailing slash).
            pub fn base_url(&self) -> &str {
                &self.shared.base_url
            }

            /// `base_url` joined with an absolute path.
            pub fn url(&self, path: &str) -> String {
                format!("{}{}", self.shared.base_url, path)
            }

            /// Counters (`GET /_emulator/stats`).
            pub fn stats(&self) -> Stats {
                self.shared.control.stats()
            }

            /// Restores seed data and start settings, and clears stats, log, faults and
            /// rate windows (`POST /_emulator/reset`). Issued tokens stay valid.
            pub fn reset(&self) {
                self.shared.control.reset();
                self.shared.service.reset_data();
            }

            /// Queues a fault (`POST /_emulator/faults`).
            pub fn inject(&self, fault: Fault) {
                self.shared.control.add_fault(fault);
            }

            /// Faults still queued, with their remaining counts.
            pub fn faults(&self) -> Vec<Fault> {
                self.shared.control.faults()
            }

            /// Drops every queued fault.
            pub fn clear_faults(&self) {
                self.shared.control.clear_faults();
            }

            /// The request log, oldest first (`GET /_emulator/requests`).
            pub fn requests(&self) -> Vec<RequestRecord> {
                self.shared.control.requests()
            }

            /// Logged requests whose path starts with `prefix`.
            pub fn requests_to(&self, prefix: &str) -> Vec<RequestRecord> {
                self.requests()
                    .into_iter()
                    .filter(|r| r.path.starts_with(prefix))
                    .collect()
            }

            /// Empties the request log.
            pub fn clear_requests(&self) {
                self.shared.control.clear_requests();
            }

            /// Current settings.
            pub fn settings(&self) -> Settings {
                self.shared.control.settings()
            }

            /// Changes settings at run time (`PATCH /_emulator/settings`).
            pub fn update_settings(&self, patch: SettingsPatch) -> Settings {
                self.shared.control.update_settings(&patch)
            }

            /// Makes every live access token expired now; returns how many changed.
            pub fn expire_tokens(&self) -> usize {
                self.shared
                    .service
                    .expire_tokens(self.shared.control.clock.now_ms(), None)
            }

            /// Makes one access token expired now.
            pub fn expire_token(&self, token: &str) -> usize {
                self.shared
                    .service
                    .expire_tokens(self.shared.control.clock.now_ms(), Some(token))
            }

            /// Revokes every access and refresh token; returns how many changed.
            pub fn revoke_tokens(&self) -> usize {
                self.shared.service.revoke_tokens(None)
            }

            /// Revokes one access or refresh token.
            pub fn revoke_token(&self, token: &str) -> usize {
                self.shared.service.revoke_tokens(Some(token))
            }

            /// Every issued token with its state (`GET /_emulator/tokens`).
            pub fn tokens(&self) -> serde_json::Value {
                self.shared
                    .service
                    .tokens_summary(self.shared.control.clock.now_ms())
            }
        }
    };
}

/// The running HubSpot emulator.
pub struct HubSpotHandle {
    info: HubSpotInfo,
    hub_id: u64,
    shared: Arc<Shared>,
}

impl HubSpotHandle {
    /// URLs and credentials.
    pub fn info(&self) -> &HubSpotInfo {
        &self.info
    }

    /// The emulated account's hub (portal) id.
    pub fn hub_id(&self) -> u64 {
        self.hub_id
    }

    /// Revokes a service key (`POST /_emulator/revoke-service-key`); returns 1 when a live
    /// key was revoked, 0 otherwise. Calls with it then get HubSpot's 401.
    pub fn revoke_service_key(&self, key: &str) -> usize {
        self.shared.service.revoke_service_key(key).unwrap_or(0)
    }
}

control_methods!(HubSpotHandle);

/// The running Act-On emulator.
pub struct ActOnHandle {
    info: ActOnInfo,
    account_id: u64,
    shared: Arc<Shared>,
}

impl ActOnHandle {
    /// URLs and credentials.
    pub fn info(&self) -> &ActOnInfo {
        &self.info
    }

    /// The emulated account id.
    pub fn account_id(&self) -> u64 {
        self.account_id
    }
}

control_methods!(ActOnHandle);

/// Both emulators, running. Dropping it stops the listeners; [`Emulator::shutdown`] also
/// waits for them.
pub struct Emulator {
    hubspot: HubSpotHandle,
    acton: ActOnHandle,
    servers: Vec<Server>,
    clock: Clock,
}

impl Emulator {
    /// A builder with the default seed data and settings.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::new()
    }

    /// The HubSpot emulator.
    pub fn hubspot(&self) -> &HubSpotHandle {
        &self.hubspot
    }

    /// The Act-On emulator.
    pub fn acton(&self) -> &ActOnHandle {
        &self.acton
    }

    /// The clock both emulators read.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Moves both emulators' clock forward (tokens and codes expire, daily limits roll).
    pub fn advance_clock(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The JSON the CLI prints.
    pub fn connection_info(&self) -> ConnectionInfo {
        ConnectionInfo {
            hubspot: self.hubspot.info.clone(),
            acton: self.acton.info.clone(),
        }
    }

    /// Stops both listeners, drops open connections (stalled ones included) and waits.
    pub async fn shutdown(mut self) {
        for s in &mut self.servers {
            s.shutdown().await;
        }
    }
}

/// Configures and starts the emulators.
#[derive(Clone, Debug)]
pub struct EmulatorBuilder {
    seed: u64,
    hubspot_port: u16,
    acton_port: u16,
    hubspot_settings: Settings,
    acton_settings: Settings,
    hubspot_redirect_uris: Vec<String>,
    acton_redirect_uris: Vec<String>,
    hubdb_rows: u64,
    acton_records: u64,
    tables: Vec<TableSpec>,
    owners: Vec<OwnerSpec>,
    hubspot_clients: Vec<HubSpotClient>,
    hubspot_users: Vec<HubSpotUser>,
    private_apps: Vec<PrivateApp>,
    service_keys: Vec<ServiceKey>,
    hubspot_tokens: Vec<HubSpotToken>,
    acton_lists: Vec<ActOnList>,
    acton_users: Vec<ActOnUser>,
    acton_clients: Vec<ActOnClient>,
    acton_tokens: Vec<ActOnToken>,
    clock: Clock,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// HubSpot's defaults: 30-minute tokens, 100 requests per rolling 10 s per app,
/// 250,000 per day, refresh tokens returned unchanged.
pub fn hubspot_default_settings() -> Settings {
    Settings {
        latency_ms: 0,
        jitter_ms: 0,
        token_ttl_s: 1800,
        rate_limit: 100,
        rate_window_ms: 10_000,
        daily_limit: 250_000,
        auto_approve: false,
        refresh_rotation: RefreshRotation::Same,
        auth_grant_limit: 0,
        auth_code_ttl_s: 600,
        max_log_entries: 100_000,
    }
}

/// Act-On's defaults: 1-hour tokens, 5 requests per second, 30,000 per day, single-use
/// refresh tokens, 5 password or code grants per user per hour.
pub fn acton_default_settings() -> Settings {
    Settings {
        latency_ms: 0,
        jitter_ms: 0,
        token_ttl_s: 3600,
        rate_limit: 5,
        rate_window_ms: 1000,
        daily_limit: 30_000,
        auto_approve: false,
        refresh_rotation: RefreshRotation::Rotate,
        auth_grant_limit: 5,
        auth_code_ttl_s: 600,
        max_log_entries: 100_000,
    }
}

impl EmulatorBuilder {
    /// Defaults: seed 42, 2,500 `events` rows and 2,500 `Customers` records, ports chosen
    /// by the OS, redirect URIs `http://localhost:33333` (HubSpot) and
    /// `http://localhost:33334` (Act-On).
    pub fn new() -> Self {
        Self {
            seed: 42,
            hubspot_port: 0,
            acton_port: 0,
            hubspot_settings: hubspot_default_settings(),
            acton_settings: acton_default_settings(),
            hubspot_redirect_uris: Vec::new(),
            acton_redirect_uris: Vec::new(),
            hubdb_rows: 2500,
            acton_records: 2500,
            tables: Vec::new(),
            owners: Vec::new(),
            hubspot_clients: Vec::new(),
            hubspot_users: Vec::new(),
            private_apps: Vec::new(),
            service_keys: Vec::new(),
            hubspot_tokens: Vec::new(),
            acton_lists: Vec::new(),
            acton_users: Vec::new(),
            acton_clients: Vec::new(),
            acton_tokens: Vec::new(),
            clock: Clock::new(),
        }
    }

    /// Seed for generated data and seeded credentials (same seed, same data).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Rows of the seeded HubDB table `events`.
    pub fn hubdb_rows(mut self, n: u64) -> Self {
        self.hubdb_rows = n;
        self
    }

    /// Records of the seeded Act-On list `Customers` (`l-0001`).
    pub fn acton_records(mut self, n: u64) -> Self {
        self.acton_records = n;
        self
    }

    /// Fixed latency on every non-control request of both emulators.
    pub fn latency(mut self, d: Duration) -> Self {
        let ms = d.as_millis() as u64;
        self.hubspot_settings.latency_ms = ms;
        self.acton_settings.latency_ms = ms;
        self
    }

    /// Random extra latency up to `d` on both emulators.
    pub fn jitter(mut self, d: Duration) -> Self {
        let ms = d.as_millis() as u64;
        self.hubspot_settings.jitter_ms = ms;
        self.acton_settings.jitter_ms = ms;
        self
    }

    /// Access-token lifetime for both services.
    pub fn token_ttl(mut self, d: Duration) -> Self {
        self.hubspot_settings.token_ttl_s = d.as_secs();
        self.acton_settings.token_ttl_s = d.as_secs();
        self
    }

    /// HubSpot requests per rolling 10 s per app (0 disables).
    pub fn hubspot_rate_limit(mut self, per_10s: u32) -> Self {
        self.hubspot_settings.rate_limit = per_10s;
        self
    }

    /// HubSpot requests per day (0 disables).
    pub fn hubspot_daily_limit(mut self, n: u64) -> Self {
        self.hubspot_settings.daily_limit = n;
        self
    }

    /// Act-On requests per second (0 disables).
    pub fn acton_rate_limit(mut self, per_s: u32) -> Self {
        self.acton_settings.rate_limit = per_s;
        self
    }

    /// Act-On requests per day (0 disables).
    pub fn acton_daily_limit(mut self, n: u64) -> Self {
        self.acton_settings.daily_limit = n;
        self
    }

    /// Act-On password and code grants per user per hour (0 disables).
    pub fn acton_auth_limit(mut self, per_hour: u32) -> Self {
        self.acton_settings.auth_grant_limit = per_hour;
        self
    }

    /// Authorization pages of both services redirect at once, without a form.
    pub fn auto_approve(mut self, yes: bool) -> Self {
        self.hubspot_settings.auto_approve = yes;
        self.acton_settings.auto_approve = yes;
        self
    }

    /// HubSpot refresh-token rotation mode (default [`RefreshRotation::Same`]).
    pub fn refresh_rotation(mut self, mode: RefreshRotation) -> Self {
        self.hubspot_settings.refresh_rotation = mode;
        self
    }

    /// Act-On refresh-token rotation mode (default [`RefreshRotation::Rotate`], as Act-On documents).
    pub fn acton_refresh_rotation(mut self, mode: RefreshRotation) -> Self {
        self.acton_settings.refresh_rotation = mode;
        self
    }

    /// Edits HubSpot's start settings directly.
    pub fn hubspot_settings(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(&mut self.hubspot_settings);
        self
    }

    /// Edits Act-On's start settings directly.
    pub fn acton_settings(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(&mut self.acton_settings);
        self
    }

    /// Registers a redirect URI for the seeded HubSpot client (repeatable; replaces the default).
    pub fn hubspot_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.hubspot_redirect_uris.push(uri.into());
        self
    }

    /// Registers a callback URL for the seeded Act-On client (repeatable; replaces the default).
    pub fn acton_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.acton_redirect_uris.push(uri.into());
        self
    }

    /// Registers a redirect URI with both services' seeded clients.
    pub fn redirect_uri(self, uri: impl Into<String>) -> Self {
        let uri = uri.into();
        self.hubspot_redirect_uri(uri.clone())
            .acton_redirect_uri(uri)
    }

    /// Fixed HubSpot port (0 = any).
    pub fn hubspot_port(mut self, port: u16) -> Self {
        self.hubspot_port = port;
        self
    }

    /// Fixed Act-On port (0 = any).
    pub fn acton_port(mut self, port: u16) -> Self {
        self.acton_port = port;
        self
    }

    /// Adds a HubDB table.
    pub fn table(mut self, t: TableSpec) -> Self {
        self.tables.push(t);
        self
    }

    /// Adds a CRM owner.
    pub fn owner(mut self, o: OwnerSpec) -> Self {
        self.owners.push(o);
        self
    }

    /// Adds a HubSpot OAuth client.
    pub fn hubspot_client(mut self, c: HubSpotClient) -> Self {
        self.hubspot_clients.push(c);
        self
    }

    /// Adds a HubSpot user.
    pub fn hubspot_user(mut self, u: HubSpotUser) -> Self {
        self.hubspot_users.push(u);
        self
    }

    /// Adds a private-app token.
    pub fn private_app(mut self, p: PrivateApp) -> Self {
        self.private_apps.push(p);
        self
    }

    /// Adds a service key (accepted wherever a private-app token is).
    pub fn service_key(mut self, k: ServiceKey) -> Self {
        self.service_keys.push(k);
        self
    }

    /// Adds pre-issued HubSpot tokens (for the seeded client and user).
    pub fn hubspot_token(mut self, t: HubSpotToken) -> Self {
        self.hubspot_tokens.push(t);
        self
    }

    /// Adds an Act-On list (ids `l-0100` onwards).
    pub fn acton_list(mut self, l: ActOnList) -> Self {
        self.acton_lists.push(l);
        self
    }

    /// Adds an Act-On user.
    pub fn acton_user(mut self, u: ActOnUser) -> Self {
        self.acton_users.push(u);
        self
    }

    /// Adds an Act-On client.
    pub fn acton_client(mut self, c: ActOnClient) -> Self {
        self.acton_clients.push(c);
        self
    }

    /// Adds pre-issued Act-On tokens (for the seeded client and user).
    pub fn acton_token(mut self, t: ActOnToken) -> Self {
        self.acton_tokens.push(t);
        self
    }

    /// Uses this clock (for example one shared with other emulators).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Binds both listeners on `127.0.0.1` and starts serving.
    pub async fn start(self) -> Result<Emulator, Error> {
        let now = self.clock.now_ms();
        let hs_uris = if self.hubspot_redirect_uris.is_empty() {
            vec!["http://localhost:33333".to_string()]
        } else {
            self.hubspot_redirect_uris.clone()
        };
        let ao_uris = if self.acton_redirect_uris.is_empty() {
            vec!["http://localhost:33334".to_string()]
        } else {
            self.acton_redirect_uris.clone()
        };

        let mut hs_cfg = hubspot::HubSpotConfig::default_for(self.seed, hs_uris.clone());
        hs_cfg.events_rows = self.hubdb_rows;
        hs_cfg.clients.extend(self.hubspot_clients);
        hs_cfg.users.extend(self.hubspot_users);
        hs_cfg.private_apps.extend(self.private_apps);
        hs_cfg.service_keys.extend(self.service_keys);
        hs_cfg.tokens = self.hubspot_tokens;
        hs_cfg.tables = self.tables;
        hs_cfg.owners = self.owners;
        let hs_info_src = hs_cfg.clone();
        let hs_service = hubspot::HubSpot::new(hs_cfg, now)?;
        let hub_id = hs_service.hub_id();

        let mut ao_cfg = acton::ActOnConfig::default_for(self.seed, ao_uris.clone());
        ao_cfg.customers = self.acton_records;
        ao_cfg.clients.extend(self.acton_clients);
        ao_cfg.users.extend(self.acton_users);
        ao_cfg.lists = self.acton_lists;
        ao_cfg.tokens = self.acton_tokens;
        let ao_info_src = ao_cfg.clone();
        let ao_service = acton::ActOn::new(ao_cfg, now);
        let account_id = ao_service.account_id();

        let (hs_listener, hs_addr) = server::bind(self.hubspot_port).await?;
        let (ao_listener, ao_addr) = server::bind(self.acton_port).await?;
        let hs_base = format!("http://{hs_addr}");
        let ao_base = format!("http://{ao_addr}");

        let hs_shared = Arc::new(Shared {
            control: Control::new("hubspot", self.clock.clone(), self.hubspot_settings),
            service: Arc::new(hs_service),
            base_url: hs_base.clone(),
        });
        let ao_shared = Arc::new(Shared {
            control: Control::new("acton", self.clock.clone(), self.acton_settings),
            service: Arc::new(ao_service),
            base_url: ao_base.clone(),
        });

        let first = |v: &[String]| v.first().cloned().unwrap_or_default();
        let hs_client = hs_info_src.clients.first();
        let hs_user = hs_info_src.users.first();
        let hubspot = HubSpotHandle {
            info: HubSpotInfo {
                authorize_url: format!("{hs_base}/oauth/authorize"),
                token_url: format!("{hs_base}/oauth/v1/token"),
                base_url: hs_base,
                client_id: hs_client.map(|c| c.client_id.clone()).unwrap_or_default(),
                client_secret: hs_client
                    .map(|c| c.client_secret.clone())
                    .unwrap_or_default(),
                redirect_uri: first(&hs_uris),
                private_app_token: hs_info_src
                    .private_apps
                    .first()
                    .map(|p| p.token.clone())
                    .unwrap_or_default(),
                service_key: hs_info_src
                    .service_keys
                    .first()
                    .map(|k| k.key.clone())
                    .unwrap_or_default(),
                user_email: hs_user.map(|u| u.email.clone()).unwrap_or_default(),
                user_password: hs_user.map(|u| u.password.clone()).unwrap_or_default(),
            },
            hub_id,
            shared: hs_shared.clone(),
        };
        let ao_client = ao_info_src.clients.first();
        let ao_user = ao_info_src.users.first();
        let acton = ActOnHandle {
            info: ActOnInfo {
                authorize_url: format!("{ao_base}/authorize"),
                token_url: format!("{ao_base}/token"),
                base_url: ao_base,
                client_id: ao_client.map(|c| c.client_id.clone()).unwrap_or_default(),
                client_secret: ao_client
                    .map(|c| c.client_secret.clone())
                    .unwrap_or_default(),
                redirect_uri: first(&ao_uris),
                user: ao_user.map(|u| u.username.clone()).unwrap_or_default(),
                password: ao_user.map(|u| u.password.clone()).unwrap_or_default(),
            },
            account_id,
            shared: ao_shared.clone(),
        };
        let servers = vec![
            Server::start(hs_listener, hs_shared),
            Server::start(ao_listener, ao_shared),
        ];
        Ok(Emulator {
            hubspot,
            acton,
            servers,
            clock: self.clock,
        })
    }
}
