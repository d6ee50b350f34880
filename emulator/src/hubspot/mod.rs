//! The HubSpot emulator: OAuth install flow, token endpoints, private-app tokens and
//! service keys,
//! HubDB (v3 and 2026-03) and CRM owners, with HubSpot's errors and rate limits.

mod hubdb;
mod oauth;
pub(crate) mod rows;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::control::{EndpointClass, lock};
use crate::http::{Req, Resp};
use crate::ratelimit::{DailyCounter, SlidingWindow};
use crate::server::{Ctx, Service};
use crate::util;

pub use rows::ColumnType;

/// A HubSpot public app (OAuth client) the emulator accepts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HubSpotClient {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// Registered redirect URIs (matched exactly).
    pub redirect_uris: Vec<String>,
    /// Scopes that every install URL must request.
    pub required_scopes: Vec<String>,
    /// Further scopes the app is configured with (may appear in `scope` or `optional_scope`).
    pub optional_scopes: Vec<String>,
    /// The app id reported by introspection.
    pub app_id: u64,
}

/// A private-app access token: static, never expiring, with its own scopes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PrivateApp {
    /// The bearer token.
    pub token: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The app id (rate limits are per app).
    pub app_id: u64,
}

/// A service key, HubSpot's successor to private-app tokens: a static bearer token with
/// its own scopes, not tied to the user who created it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceKey {
    /// The bearer token.
    pub key: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The key's id (rate limits are per key, as they are per private app).
    pub key_id: u64,
}

/// A HubSpot user who can log in on the authorization page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HubSpotUser {
    /// Login e-mail.
    pub email: String,
    /// Login password.
    pub password: String,
    /// User id reported in token responses and introspection.
    pub user_id: u64,
}

/// An access or refresh token issued before start, for tests that skip the flow.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HubSpotToken {
    /// Access token to accept (if any).
    pub access_token: Option<String>,
    /// Refresh token to accept (if any).
    pub refresh_token: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Access-token lifetime from start, in seconds.
    pub expires_in_s: i64,
}

/// A HubDB column in seed data.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ColumnSpec {
    /// Column name (the key in row `values`).
    pub name: String,
    /// Display label.
    pub label: String,
    /// Column type.
    pub column_type: ColumnType,
    /// Option names for SELECT and MULTISELECT columns.
    #[serde(default)]
    pub options: Vec<String>,
}

impl ColumnSpec {
    /// A column whose label equals its name.
    pub fn new(name: &str, column_type: ColumnType) -> Self {
        Self {
            name: name.into(),
            label: name.into(),
            column_type,
            options: Vec::new(),
        }
    }

    /// A SELECT or MULTISELECT column with these options.
    pub fn with_options(mut self, options: &[&str]) -> Self {
        self.options = options.iter().map(|s| (*s).to_string()).collect();
        self
    }
}

/// A HubDB table in seed data. Row values use the API's input encoding, keyed by column name.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TableSpec {
    /// Table name (unique).
    pub name: String,
    /// Display label.
    pub label: String,
    /// Columns in order.
    pub columns: Vec<ColumnSpec>,
    /// Rows: each a JSON object of column name → value (HubSpot input encoding).
    pub rows: Vec<serde_json::Value>,
    /// Whether the table starts published (rows then appear in both versions).
    pub published: bool,
    /// Whether unauthenticated GETs with `portalId` may read it.
    pub allow_public_api_access: bool,
}

impl TableSpec {
    /// A published table with no rows.
    pub fn new(name: &str, columns: Vec<ColumnSpec>) -> Self {
        Self {
            name: name.into(),
            label: name.into(),
            columns,
            rows: Vec::new(),
            published: true,
            allow_public_api_access: false,
        }
    }

    /// Adds a row (a JSON object keyed by column name).
    pub fn row(mut self, values: serde_json::Value) -> Self {
        self.rows.push(values);
        self
    }
}

/// A CRM owner in seed data.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OwnerSpec {
    /// E-mail.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Whether the owner is archived (listed only with `archived=true`).
    pub archived: bool,
}

/// Everything the HubSpot emulator is seeded with.
#[derive(Clone, Debug)]
pub(crate) struct HubSpotConfig {
    pub(crate) seed: u64,
    pub(crate) hub_id: u64,
    pub(crate) events_rows: u64,
    pub(crate) clients: Vec<HubSpotClient>,
    pub(crate) users: Vec<HubSpotUser>,
    pub(crate) private_apps: Vec<PrivateApp>,
    pub(crate) service_keys: Vec<ServiceKey>,
    pub(crate) tokens: Vec<HubSpotToken>,
    pub(crate) tables: Vec<TableSpec>,
    pub(crate) owners: Vec<OwnerSpec>,
}

impl HubSpotConfig {
    pub(crate) fn default_for(seed: u64, redirect_uris: Vec<String>) -> Self {
        let client = HubSpotClient {
            client_id: util::seeded_uuid(seed, 1),
            client_secret: util::seeded_uuid(seed, 2),
            redirect_uris,
            required_scopes: vec!["oauth".into()],
            optional_scopes: [
                "hubdb",
                "hubdb.tables.read",
                "hubdb.tables.write",
                "hubdb.rows.read",
                "hubdb.rows.write",
                "hubdb.tables.publish",
                "crm.objects.owners.read",
                "automation",
                "content",
            ]
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
            app_id: 3_000_001,
        };
        Self {
            seed,
            hub_id: 20_000_000 + util::pick(seed, 0, 3, 9_000_000),
            events_rows: 2500,
            clients: vec![client],
            users: vec![HubSpotUser {
                email: "admin@emulator.example".into(),
                password: "correct-horse-battery".into(),
                user_id: 7_000_001,
            }],
            private_apps: vec![PrivateApp {
                token: format!("pat-na1-{}", util::seeded_uuid(seed, 3)),
                scopes: vec!["hubdb".into(), "crm.objects.owners.read".into()],
                app_id: 4_000_001,
            }],
            // GUESS: no source shows a service key's format; the prefix mirrors `pat-na1-`.
            service_keys: vec![ServiceKey {
                key: format!("sk-na1-{}", util::seeded_uuid(seed, 4)),
                scopes: vec!["hubdb".into(), "crm.objects.owners.read".into()],
                key_id: 4_100_001,
            }],
            tokens: Vec::new(),
            tables: Vec::new(),
            owners: Vec::new(),
        }
    }
}

pub(crate) struct AuthCode {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    user_id: u64,
    expires_at: i64,
    challenge: Option<(String, String)>,
    used: bool,
    family: u64,
}

#[derive(Clone)]
pub(crate) struct AccessTok {
    client_id: String,
    app_id: u64,
    user_id: u64,
    scopes: Vec<String>,
    expires_at: i64,
    revoked: bool,
    family: u64,
}

#[derive(Clone)]
pub(crate) struct RefreshTok {
    client_id: String,
    user_id: u64,
    scopes: Vec<String>,
    /// False once rotated away or revoked.
    active: bool,
    /// Set when it stopped being active because a refresh rotated it (reuse detection).
    rotated: bool,
    family: u64,
}

pub(crate) struct HsState {
    clients: Vec<HubSpotClient>,
    users: Vec<HubSpotUser>,
    private_apps: Vec<PrivateApp>,
    /// Service keys with their revoked flag (revocation is a control-API action).
    service_keys: Vec<(ServiceKey, bool)>,
    codes: HashMap<String, AuthCode>,
    access: HashMap<String, AccessTok>,
    refresh: HashMap<String, RefreshTok>,
    next_family: u64,
    db: hubdb::HubDb,
    windows: HashMap<String, SlidingWindow>,
    public_window: SlidingWindow,
    daily: DailyCounter,
}

/// The HubSpot service.
pub(crate) struct HubSpot {
    cfg: HubSpotConfig,
    st: Mutex<HsState>,
}

/// Who made an API call.
pub(crate) enum Principal {
    OAuth {
        client_id: String,
        user_id: u64,
        scopes: Vec<String>,
    },
    PrivateApp {
        app_id: u64,
        scopes: Vec<String>,
    },
    ServiceKey {
        key_id: u64,
        scopes: Vec<String>,
    },
    /// Unauthenticated read of a public table (`portalId=`).
    Public,
}

impl Principal {
    /// A static bearer token: a private-app token or a service key.
    fn is_static(&self) -> bool {
        matches!(
            self,
            Principal::PrivateApp { .. } | Principal::ServiceKey { .. }
        )
    }

    fn scopes(&self) -> &[String] {
        match self {
            Principal::OAuth { scopes, .. }
            | Principal::PrivateApp { scopes, .. }
            | Principal::ServiceKey { scopes, .. } => scopes,
            Principal::Public => &[],
        }
    }
}

/// HubSpot's generic error body (`status`, `message`, `correlationId`, `category`) plus
/// the `x-hubspot-correlation-id` header.
pub(crate) fn hs_error(status: u16, category: &str, message: &str) -> Resp {
    hs_error_with(status, category, message, |_| {})
}

pub(crate) fn hs_error_with(
    status: u16,
    category: &str,
    message: &str,
    extra: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Resp {
    let cid = util::uuid();
    let mut body = serde_json::Map::new();
    body.insert("status".into(), "error".into());
    body.insert("message".into(), message.into());
    body.insert("correlationId".into(), cid.clone().into());
    extra(&mut body);
    body.insert("category".into(), category.into());
    Resp::json(status, &body).header("x-hubspot-correlation-id", cid)
}

impl HubSpot {
    pub(crate) fn new(cfg: HubSpotConfig, now_ms: i64) -> Result<Self, crate::Error> {
        let db = hubdb::HubDb::seeded(&cfg, now_ms)?;
        let mut st = HsState {
            clients: cfg.clients.clone(),
            users: cfg.users.clone(),
            private_apps: cfg.private_apps.clone(),
            service_keys: cfg
                .service_keys
                .iter()
                .map(|k| (k.clone(), false))
                .collect(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            next_family: 1,
            db,
            windows: HashMap::new(),
            public_window: SlidingWindow::default(),
            daily: DailyCounter::default(),
        };
        let client_id = cfg
            .clients
            .first()
            .map(|c| c.client_id.clone())
            .unwrap_or_default();
        let user_id = cfg.users.first().map_or(0, |u| u.user_id);
        for t in &cfg.tokens {
            let family = st.next_family;
            st.next_family += 1;
            if let Some(a) = &t.access_token {
                st.access.insert(
                    a.clone(),
                    AccessTok {
                        client_id: client_id.clone(),
                        app_id: cfg.clients.first().map_or(0, |c| c.app_id),
                        user_id,
                        scopes: t.scopes.clone(),
                        expires_at: now_ms + t.expires_in_s * 1000,
                        revoked: false,
                        family,
                    },
                );
            }
            if let Some(r) = &t.refresh_token {
                st.refresh.insert(
                    r.clone(),
                    RefreshTok {
                        client_id: client_id.clone(),
                        user_id,
                        scopes: t.scopes.clone(),
                        active: true,
                        rotated: false,
                        family,
                    },
                );
            }
        }
        Ok(Self {
            cfg,
            st: Mutex::new(st),
        })
    }

    pub(crate) fn hub_id(&self) -> u64 {
        self.cfg.hub_id
    }

    /// Authenticates, rate-limits and scope-checks an API call. On success returns the
    /// principal and the rate-limit headers to add to the response.
    fn admit(
        &self,
        st: &mut HsState,
        req: &Req,
        ctx: &Ctx<'_>,
        scopes: &[&str],
        public_table: Option<&str>,
    ) -> Result<(Principal, Vec<(String, String)>), Resp> {
        let now = ctx.now_ms;
        let principal = match req.bearer() {
            None => {
                let public_ok = public_table.is_some_and(|t| {
                    req.q("portalId").and_then(|p| p.parse::<u64>().ok()) == Some(self.cfg.hub_id)
                        && st.db.is_public(t)
                });
                if public_ok {
                    // Unauthenticated HubDB GETs: 10 per second, outside the daily limit.
                    if st
                        .public_window
                        .try_acquire(Instant::now(), 10, Duration::from_secs(1))
                        .is_err()
                    {
                        ctx.control.with_stats(|s| s.rate_limited += 1);
                        return Err(rate_limited_body(
                            "SECONDLY",
                            "You have reached your secondly limit.",
                        ));
                    }
                    return Ok((Principal::Public, Vec::new()));
                }
                return Err(unauthenticated());
            }
            Some(token) => {
                if let Some(app) = st
                    .private_apps
                    .iter()
                    .find(|p| util::secret_eq(&p.token, token))
                {
                    Principal::PrivateApp {
                        app_id: app.app_id,
                        scopes: app.scopes.clone(),
                    }
                } else if let Some((k, revoked)) = st
                    .service_keys
                    .iter()
                    .find(|(k, _)| util::secret_eq(&k.key, token))
                {
                    // A revoked key reads like any unknown token, as a deleted private
                    // app's token does.
                    if *revoked {
                        return Err(unauthenticated());
                    }
                    Principal::ServiceKey {
                        key_id: k.key_id,
                        scopes: k.scopes.clone(),
                    }
                } else {
                    match st.access.get(token) {
                        Some(a) if !a.revoked && a.expires_at > now => Principal::OAuth {
                            client_id: a.client_id.clone(),
                            user_id: a.user_id,
                            scopes: a.scopes.clone(),
                        },
                        Some(a) if !a.revoked => return Err(expired(a.expires_at, now)),
                        _ => return Err(unauthenticated()),
                    }
                }
            }
        };
        // Burst limit per app, then the daily limit shared by the account.
        let s = &ctx.settings;
        let mut headers: Vec<(String, String)> = Vec::new();
        let app_key = match &principal {
            Principal::OAuth { client_id, .. } => format!("oauth:{client_id}"),
            Principal::PrivateApp { app_id, .. } => format!("pat:{app_id}"),
            Principal::ServiceKey { key_id, .. } => format!("svc:{key_id}"),
            Principal::Public => String::new(),
        };
        if s.rate_limit > 0 {
            let w = st.windows.entry(app_key).or_default();
            match w.try_acquire(
                Instant::now(),
                s.rate_limit,
                Duration::from_millis(s.rate_window_ms),
            ) {
                Ok(remaining) => {
                    headers.push((
                        "x-hubspot-ratelimit-interval-milliseconds".into(),
                        s.rate_window_ms.to_string(),
                    ));
                    headers.push(("x-hubspot-ratelimit-max".into(), s.rate_limit.to_string()));
                    headers.push((
                        "x-hubspot-ratelimit-remaining".into(),
                        remaining.to_string(),
                    ));
                }
                Err(_) => {
                    ctx.control.with_stats(|st| st.rate_limited += 1);
                    let mut r = rate_limited_body(
                        "TEN_SECONDLY_ROLLING",
                        "You have reached your ten_secondly_rolling limit.",
                    );
                    r.add_header(
                        "x-hubspot-ratelimit-interval-milliseconds",
                        s.rate_window_ms.to_string(),
                    );
                    r.add_header("x-hubspot-ratelimit-max", s.rate_limit.to_string());
                    r.add_header("x-hubspot-ratelimit-remaining", "0");
                    return Err(r);
                }
            }
        }
        if s.daily_limit > 0 {
            match st.daily.try_acquire(now, s.daily_limit) {
                Ok(remaining) => {
                    // HubSpot documents the daily headers for private apps only; service
                    // keys replace them, so (GUESS) they get the same headers.
                    if principal.is_static() {
                        headers.push((
                            "x-hubspot-ratelimit-daily".into(),
                            s.daily_limit.to_string(),
                        ));
                        headers.push((
                            "x-hubspot-ratelimit-daily-remaining".into(),
                            remaining.to_string(),
                        ));
                    }
                }
                Err(_) => {
                    ctx.control.with_stats(|st| st.rate_limited += 1);
                    let mut r = rate_limited_body("DAILY", "You have reached your daily limit.");
                    if principal.is_static() {
                        r.add_header("x-hubspot-ratelimit-daily", s.daily_limit.to_string());
                        r.add_header("x-hubspot-ratelimit-daily-remaining", "0");
                    }
                    return Err(r);
                }
            }
        }
        if !scopes.is_empty()
            && !scopes
                .iter()
                .any(|need| principal.scopes().iter().any(|have| have == need))
        {
            let required: Vec<&str> = scopes.to_vec();
            let mut r = hs_error_with(
                403,
                "MISSING_SCOPES",
                "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
                |b| {
                    b.insert(
                        "errors".into(),
                        serde_json::json!([{"message": "One or more of the following scopes are required.", "context": {"requiredScopes": required}}]),
                    );
                    b.insert(
                        "links".into(),
                        serde_json::json!({"scopes": "https://developers.hubspot.com/scopes"}),
                    );
                },
            );
            for (k, v) in &headers {
                r.add_header(k, v.clone());
            }
            return Err(r);
        }
        Ok((principal, headers))
    }

    fn api(&self, req: &Req, ctx: &Ctx<'_>, segs: &[String]) -> Resp {
        let mut st = lock(&self.st);
        let st = &mut *st;
        let (scopes, public_table) = if segs.first().map(String::as_str) == Some("crm") {
            (vec!["crm.objects.owners.read", "automation"], None)
        } else {
            hubdb::required_scopes(&req.method, &segs[3..])
        };
        let (principal, headers) = match self.admit(st, req, ctx, &scopes, public_table.as_deref())
        {
            Ok(p) => p,
            Err(r) => return r,
        };
        let mut resp = if segs.first().map(String::as_str) == Some("crm") {
            hubdb::owners(&st.db, req, ctx, &segs[3..])
        } else {
            let user_id = match &principal {
                Principal::OAuth { user_id, .. } => *user_id,
                _ => self.cfg.users.first().map_or(0, |u| u.user_id),
            };
            let user = st.users.iter().find(|u| u.user_id == user_id).cloned();
            hubdb::route(&mut st.db, req, ctx, &segs[3..], user.as_ref())
        };
        for (k, v) in headers {
            resp.add_header(&k, v);
        }
        if !resp
            .headers
            .iter()
            .any(|(k, _)| k == "x-hubspot-correlation-id")
        {
            resp.add_header("x-hubspot-correlation-id", util::uuid());
        }
        resp
    }
}

fn unauthenticated() -> Resp {
    hs_error(
        401,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    )
    .header("x-hubspot-auth-failure", "401 Unauthorized")
}

fn expired(expires_at: i64, now: i64) -> Resp {
    let ago = (now - expires_at).max(0) / 1000;
    hs_error_with(
        401,
        "EXPIRED_AUTHENTICATION",
        &format!("The OAuth token used to make this call expired {ago} second(s) ago."),
        |b| {
            b.insert(
                "context".into(),
                serde_json::json!({"expire time": [util::iso_ms(expires_at)]}),
            );
        },
    )
    .header("x-hubspot-auth-failure", "401 Unauthorized")
}

fn rate_limited_body(policy: &str, message: &str) -> Resp {
    let cid = util::uuid();
    Resp::json(
        429,
        &serde_json::json!({
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": cid,
            "policyName": policy,
            "requestId": util::uuid(),
        }),
    )
    .header("x-hubspot-correlation-id", cid)
}

impl Service for HubSpot {
    fn classify(&self, _method: &http::Method, path: &str) -> EndpointClass {
        if path.starts_with("/cms/v3/hubdb/")
            || path.starts_with("/cms/hubdb/2026-03/")
            || path.starts_with("/crm/v3/owners")
            || path.starts_with("/crm/owners/2026-03")
        {
            EndpointClass::Api
        } else if path == "/oauth/v1/token"
            || path == "/oauth/v3/token"
            || path == "/oauth/2026-03/token"
            || path == "/oauth/2026-09/token"
        {
            EndpointClass::Token
        } else if path == "/oauth/authorize"
            || (path.starts_with("/oauth/") && path.ends_with("/authorize"))
        {
            EndpointClass::Authorize
        } else if path.starts_with("/oauth/") {
            EndpointClass::OAuthOther
        } else {
            EndpointClass::Other
        }
    }

    fn handle(&self, req: &Req, ctx: &Ctx<'_>) -> Resp {
        let segs = req.segments();
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        match s.as_slice() {
            // The date-versioned HubDB prefix has the same three segments before the
            // operation, so `api` strips `segs[..3]` for both.
            ["cms", "v3", "hubdb", ..]
            | ["cms", "hubdb", "2026-03", ..]
            | ["crm", "v3", "owners", ..]
            | ["crm", "owners", "2026-03", ..] => self.api(req, ctx, &segs),
            ["oauth", "authorize"] | ["oauth", _, "authorize"] => oauth::authorize(self, req, ctx),
            ["oauth", "v1" | "v3" | "2026-03" | "2026-09", "token"] => {
                oauth::token(self, req, ctx, s[1])
            }
            ["oauth", "v1", "access-tokens", t] => oauth::access_token_info(self, req, ctx, t),
            ["oauth", "v1", "refresh-tokens", t] => oauth::refresh_token_info(self, req, ctx, t),
            ["oauth", "v3" | "2026-03" | "2026-09", "token", "introspect"] => {
                oauth::introspect(self, req, ctx)
            }
            ["oauth", "v3" | "2026-03" | "2026-09", "token", "revoke"] => {
                oauth::revoke(self, req, ctx)
            }
            _ => hs_error(
                404,
                "OBJECT_NOT_FOUND",
                &format!("No route for {} {}", req.method, req.path),
            ),
        }
    }

    fn fault_response(&self, status: u16, class: EndpointClass) -> Resp {
        match (status, class) {
            (429, _) => rate_limited_body(
                "TEN_SECONDLY_ROLLING",
                "You have reached your ten_secondly_rolling limit.",
            ),
            (_, EndpointClass::Token) => {
                let cid = util::uuid();
                Resp::json(
                    status,
                    &serde_json::json!({"status": "error", "message": "internal error", "correlationId": cid, "category": "INTERNAL_ERROR", "error": "server_error", "error_description": "internal error"}),
                )
                .header("x-hubspot-correlation-id", cid)
            }
            (s, _) if s >= 500 => hs_error(s, "INTERNAL_ERROR", "internal error"),
            (s, _) => hs_error(s, "VALIDATION_ERROR", "injected error"),
        }
    }

    fn reset_data(&self) {
        let mut st = lock(&self.st);
        if let Ok(db) = hubdb::HubDb::seeded(&self.cfg, st.db.created_at) {
            st.db = db;
        }
        st.windows.clear();
        st.public_window.clear();
        st.daily.clear();
    }

    fn expire_tokens(&self, now_ms: i64, token: Option<&str>) -> usize {
        let mut st = lock(&self.st);
        let mut n = 0;
        for (k, a) in st.access.iter_mut() {
            if token.is_none_or(|t| t == k) && a.expires_at > now_ms {
                a.expires_at = now_ms;
                n += 1;
            }
        }
        n
    }

    fn revoke_tokens(&self, token: Option<&str>) -> usize {
        let mut st = lock(&self.st);
        let mut n = 0;
        for (k, a) in st.access.iter_mut() {
            if token.is_none_or(|t| t == k) && !a.revoked {
                a.revoked = true;
                n += 1;
            }
        }
        for (k, r) in st.refresh.iter_mut() {
            if token.is_none_or(|t| t == k) && r.active {
                r.active = false;
                n += 1;
            }
        }
        n
    }

    fn tokens_summary(&self, now_ms: i64) -> serde_json::Value {
        let st = lock(&self.st);
        serde_json::json!({
            "access_tokens": st.access.iter().map(|(k, a)| serde_json::json!({
                "token": k, "client_id": a.client_id, "scopes": a.scopes,
                "expires_in": (a.expires_at - now_ms) / 1000, "revoked": a.revoked, "family": a.family,
            })).collect::<Vec<_>>(),
            "refresh_tokens": st.refresh.iter().map(|(k, r)| serde_json::json!({
                "token": k, "client_id": r.client_id, "scopes": r.scopes, "active": r.active, "family": r.family,
            })).collect::<Vec<_>>(),
            "service_keys": st.service_keys.iter().map(|(k, revoked)| serde_json::json!({
                "key": k.key, "key_id": k.key_id, "scopes": k.scopes, "revoked": revoked,
            })).collect::<Vec<_>>(),
        })
    }

    fn revoke_service_key(&self, key: &str) -> Option<usize> {
        let mut st = lock(&self.st);
        let mut n = 0;
        for (k, revoked) in st.service_keys.iter_mut() {
            if util::secret_eq(&k.key, key) && !*revoked {
                *revoked = true;
                n += 1;
            }
        }
        Some(n)
    }
}
