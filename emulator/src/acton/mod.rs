//! The Act-On emulator: `/authorize`, `/token` (password, authorization_code,
//! refresh_token) and the `/api/1` read endpoints.

mod assets;
mod data;
mod ucl;
mod writes;

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value as J, json};

use crate::control::{EndpointClass, FaultKind, RefreshRotation, lock};
use crate::http::{Req, Resp};
use crate::ratelimit::{DailyCounter, SlidingWindow};
use crate::server::{Ctx, Service};
use crate::util::{self, html_escape};
use data::{AoList, Message, Record, SENDERS, Source};

/// An Act-On API client (OAuth app).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActOnClient {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Callback URLs registered for the code grant (matched exactly).
    pub redirect_uris: Vec<String>,
}

/// An Act-On user: password-grant credentials and login-page credentials.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActOnUser {
    /// Login (an e-mail address).
    pub username: String,
    /// Password.
    pub password: String,
    /// Display name.
    pub name: String,
}

/// An extra contact list for the builder.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActOnList {
    /// List name.
    pub name: String,
    /// Folder name.
    pub folder_name: String,
    /// Listing type (`CONTACT_LIST`, `SEED_LIST`, `SUPPRESSION_LIST`, ...).
    pub listing_type: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Records, each aligned with `headers`.
    pub rows: Vec<Vec<String>>,
}

/// A token issued before start, for tests that skip the flow.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ActOnToken {
    /// Access token to accept.
    pub access_token: Option<String>,
    /// Refresh token to accept.
    pub refresh_token: Option<String>,
    /// Access-token lifetime from start, in seconds.
    pub expires_in_s: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct ActOnConfig {
    pub(crate) seed: u64,
    pub(crate) account_id: u64,
    pub(crate) customers: u64,
    pub(crate) clients: Vec<ActOnClient>,
    pub(crate) users: Vec<ActOnUser>,
    pub(crate) lists: Vec<ActOnList>,
    pub(crate) tokens: Vec<ActOnToken>,
}

impl ActOnConfig {
    pub(crate) fn default_for(seed: u64, redirect_uris: Vec<String>) -> Self {
        Self {
            seed,
            account_id: 10_000 + util::pick(seed, 0, 50, 80_000),
            customers: 2500,
            // 28-character ids like Act-On's API keys.
            clients: vec![ActOnClient {
                client_id: util::seeded_alnum(seed, 51, 28),
                client_secret: util::seeded_alnum(seed, 52, 28),
                redirect_uris,
            }],
            users: vec![ActOnUser {
                username: "marketer@emulator.example".into(),
                password: "act-on-password-1".into(),
                name: "Morgan Marketer".into(),
            }],
            lists: Vec::new(),
            tokens: Vec::new(),
        }
    }
}

struct Code {
    client_id: String,
    redirect_uri: String,
    username: String,
    expires_at: i64,
    used: bool,
}

struct Access {
    client_id: String,
    username: String,
    expires_at: i64,
    revoked: bool,
}

struct Refresh {
    client_id: String,
    username: String,
    active: bool,
}

struct State {
    clients: Vec<ActOnClient>,
    users: Vec<ActOnUser>,
    codes: HashMap<String, Code>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    /// Password and code grant attempts per user (emulator-clock ms), for the 5-per-hour limit.
    auth_attempts: HashMap<String, VecDeque<i64>>,
    lists: Vec<AoList>,
    messages: Vec<Message>,
    window: SlidingWindow,
    daily: DailyCounter,
    /// Upload jobs, opt-outs and other state of the write endpoints.
    writes: writes::WriteState,
}

pub(crate) struct ActOn {
    cfg: ActOnConfig,
    st: Mutex<State>,
}

/// The IBM API Connect gateway's error body (api-updates D6): `httpCode` is a string.
fn gateway_body(status: u16, reason: &str, more: &str) -> J {
    json!({"httpCode": status.to_string(), "httpMessage": reason, "moreInformation": more})
}

/// A bad, expired or missing bearer token: the gateway's 401, as probed on `/api/1/ping`.
fn unauthorized() -> Resp {
    Resp::json(401, &gateway_body(401, "Unauthorized", ""))
}

/// An `/api/1` error: `{"errorCode": <int>, "message": …}` (api-updates D6, B7). Codes the
/// spec copy has no example for are GUESSes, listed in docs/acton-wire-shapes.md.
fn api_error(status: u16, code: u32, message: &str) -> Resp {
    Resp::json(status, &json!({"errorCode": code, "message": message}))
}

/// GUESS: the code of refusals the spec copy shows no example for (bad `count`, an unknown
/// type value, `fields` with `datequalifiers`).
const CODE_INVALID_PARAMETER: u32 = 10000;

/// 400 10004 "Invalid or missing list" (B7).
fn invalid_list() -> Resp {
    api_error(400, 10004, "Invalid or missing list")
}

/// 10030 "Invalid or deleted message": 400 on reports, 404 on drilldowns (B7).
fn invalid_message(status: u16) -> Resp {
    api_error(status, 10030, "Invalid or deleted message")
}

/// A path the gateway routes nowhere (the gateway's 404, as probed).
fn not_routed() -> Resp {
    Resp::json(
        404,
        &gateway_body(404, "Not Found", "No resources match requested URI"),
    )
}

/// 422 10121 "Missing parameter - <name>" (B7).
fn missing_parameter(name: &str) -> Resp {
    api_error(422, 10121, &format!("Missing parameter - {name}"))
}

fn oauth_error(status: u16, error: &str, description: &str) -> Resp {
    Resp::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
    .header("cache-control", "no-store")
}

impl ActOn {
    pub(crate) fn new(cfg: ActOnConfig, now_ms: i64) -> Self {
        let mut st = State {
            clients: cfg.clients.clone(),
            users: cfg.users.clone(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            auth_attempts: HashMap::new(),
            lists: Vec::new(),
            messages: data::seed_messages(),
            window: SlidingWindow::default(),
            daily: DailyCounter::default(),
            writes: writes::WriteState::default(),
        };
        Self::seed_lists(&cfg, &mut st);
        let client_id = cfg
            .clients
            .first()
            .map(|c| c.client_id.clone())
            .unwrap_or_default();
        let username = cfg
            .users
            .first()
            .map(|u| u.username.clone())
            .unwrap_or_default();
        for t in &cfg.tokens {
            if let Some(a) = &t.access_token {
                st.access.insert(
                    a.clone(),
                    Access {
                        client_id: client_id.clone(),
                        username: username.clone(),
                        expires_at: now_ms + t.expires_in_s * 1000,
                        revoked: false,
                    },
                );
            }
            if let Some(r) = &t.refresh_token {
                st.refresh.insert(
                    r.clone(),
                    Refresh {
                        client_id: client_id.clone(),
                        username: username.clone(),
                        active: true,
                    },
                );
            }
        }
        Self {
            cfg,
            st: Mutex::new(st),
        }
    }

    fn seed_lists(cfg: &ActOnConfig, st: &mut State) {
        st.lists = data::seed_lists(cfg.customers);
        for (i, l) in cfg.lists.iter().enumerate() {
            st.lists.push(AoList {
                id: format!("l-{:04}", 100 + i),
                name: l.name.clone(),
                folder: l.folder_name.clone(),
                listing_type: l.listing_type.clone(),
                headers: l.headers.clone(),
                source: Source::Stored(
                    l.rows
                        .iter()
                        .enumerate()
                        .map(|(j, r)| Record {
                            values: r.clone(),
                            created: data::EPOCH_2024 + j as i64 * 60_000,
                            modified: data::EPOCH_2024 + j as i64 * 60_000,
                        })
                        .collect(),
                ),
                created: data::EPOCH_2024,
                modified: data::EPOCH_2024,
                overlay: data::Overlay::default(),
            });
        }
    }

    pub(crate) fn account_id(&self) -> u64 {
        self.cfg.account_id
    }
}

// ---------- OAuth ----------

struct AuthParams {
    client_id: String,
    redirect_uri: String,
    scope: String,
    response_type: String,
    state: Option<String>,
}

impl AuthParams {
    fn from(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            client_id: get("client_id").unwrap_or_default(),
            redirect_uri: get("redirect_uri").unwrap_or_default(),
            scope: get("scope").unwrap_or_default(),
            response_type: get("response_type").unwrap_or_else(|| "code".into()),
            state: get("state"),
        }
    }

    fn redirect(&self, params: &[(&str, &str)]) -> Resp {
        let mut p = params.to_vec();
        if let Some(s) = &self.state {
            p.push(("state", s));
        }
        Resp::redirect(&util::append_query(&self.redirect_uri, &p))
    }
}

fn page(status: u16, title: &str, body: &str) -> Resp {
    Resp::html(
        status,
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Act-On - {}</title></head>\
             <body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">{body}</body></html>",
            html_escape(title)
        ),
    )
}

fn validate_auth(st: &State, p: &AuthParams) -> Result<(), Resp> {
    let Some(client) = st.clients.iter().find(|c| c.client_id == p.client_id) else {
        return Err(page(
            400,
            "Error",
            "<h1 id=\"oauth-error\">Invalid client</h1><p>The client_id is not registered.</p>",
        ));
    };
    if p.redirect_uri.is_empty() || !client.redirect_uris.contains(&p.redirect_uri) {
        return Err(page(
            400,
            "Error",
            "<h1 id=\"oauth-error\">Invalid callback URL</h1><p>The redirect_uri is not registered for this client.</p>",
        ));
    }
    if p.response_type != "code" {
        return Err(p.redirect(&[
            ("error", "unsupported_response_type"),
            ("error_description", "response_type must be code"),
        ]));
    }
    if p.scope != "PRODUCTION" {
        return Err(p.redirect(&[
            ("error", "invalid_scope"),
            ("error_description", "scope must be PRODUCTION"),
        ]));
    }
    Ok(())
}

fn issue_code(st: &mut State, p: &AuthParams, username: String, ctx: &Ctx<'_>) -> Resp {
    let code = util::uuid();
    st.codes.insert(
        code.clone(),
        Code {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            username,
            expires_at: ctx.now_ms + (ctx.settings.auth_code_ttl_s as i64) * 1000,
            used: false,
        },
    );
    ctx.control.with_stats(|s| s.authorizations += 1);
    p.redirect(&[("code", &code)])
}

fn login_page(p: &AuthParams, error: Option<&str>) -> Resp {
    let hidden: String = [
        ("client_id", Some(p.client_id.as_str())),
        ("redirect_uri", Some(p.redirect_uri.as_str())),
        ("scope", Some(p.scope.as_str())),
        ("response_type", Some(p.response_type.as_str())),
        ("state", p.state.as_deref()),
    ]
    .iter()
    .filter_map(|(k, v)| {
        v.map(|v| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">\n",
                html_escape(v)
            )
        })
    })
    .collect();
    let err = error
        .map(|e| {
            format!(
                "<p id=\"login-error\" role=\"alert\">{}</p>",
                html_escape(e)
            )
        })
        .unwrap_or_default();
    page(
        if error.is_some() { 401 } else { 200 },
        "Sign in",
        &format!(
            "<h1>Sign in to Act-On</h1>{err}<p>An application is requesting access to your Act-On account.</p>\
<form id=\"consent\" method=\"post\" action=\"/authorize\">\n{hidden}\
<label>Username <input id=\"username\" name=\"username\" type=\"email\" autocomplete=\"username\" required></label><br>\
<label>Password <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\"></label><br>\
<button id=\"authorize\" type=\"submit\" name=\"action\" value=\"approve\">Authorize</button> \
<button id=\"deny\" type=\"submit\" name=\"action\" value=\"deny\" formnovalidate>Deny</button></form>"
        ),
    )
}

impl ActOn {
    fn authorize(&self, req: &Req, ctx: &Ctx<'_>) -> Resp {
        let mut st = lock(&self.st);
        let st = &mut *st;
        let form = req.form();
        let p = if req.method == http::Method::POST {
            AuthParams::from(|k| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        } else {
            AuthParams::from(|k| req.q(k).map(str::to_string))
        };
        if let Err(r) = validate_auth(st, &p) {
            return r;
        }
        if req.method == http::Method::GET {
            if ctx.settings.auto_approve {
                let user = st
                    .users
                    .first()
                    .map(|u| u.username.clone())
                    .unwrap_or_default();
                return issue_code(st, &p, user, ctx);
            }
            return login_page(&p, None);
        }
        let get = |k: &str| {
            form.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        if get("action") == "deny" {
            return p.redirect(&[
                ("error", "access_denied"),
                ("error_description", "The user denied access"),
            ]);
        }
        let (username, password) = (get("username"), get("password"));
        match st.users.iter().find(|u| {
            u.username.eq_ignore_ascii_case(&username) && util::secret_eq(&u.password, &password)
        }) {
            Some(u) => {
                let name = u.username.clone();
                issue_code(st, &p, name, ctx)
            }
            None => login_page(&p, Some("Invalid username or password.")),
        }
    }

    /// Records a password or code grant attempt; `Err` when over the per-hour limit.
    fn auth_attempt(st: &mut State, user: &str, ctx: &Ctx<'_>) -> Result<(), Resp> {
        let limit = ctx.settings.auth_grant_limit as usize;
        if limit == 0 {
            return Ok(());
        }
        let q = st
            .auth_attempts
            .entry(user.to_ascii_lowercase())
            .or_default();
        while q.front().is_some_and(|t| ctx.now_ms - t >= 3_600_000) {
            q.pop_front();
        }
        if q.len() >= limit {
            let wait = q
                .front()
                .map_or(3600, |t| (3_600_000 - (ctx.now_ms - t)) / 1000 + 1);
            return Err(oauth_error(
                429,
                "too_many_requests",
                "Password or Code grant types are limited to 5 authentication attempts per hour",
            )
            .header("retry-after", wait.to_string()));
        }
        q.push_back(ctx.now_ms);
        Ok(())
    }

    fn token(&self, req: &Req, ctx: &Ctx<'_>) -> Resp {
        if req.method != http::Method::POST {
            return oauth_error(405, "invalid_request", "POST required");
        }
        // Form body; the code-grant docs also show query parameters, so accept both.
        let form = req.form();
        let get = |k: &str| -> String {
            form.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .or_else(|| req.q(k).map(str::to_string))
                .unwrap_or_default()
        };
        if let Some(FaultKind::TokenError200 { error }) = &ctx.token_fault {
            return Resp::json(
                200,
                &json!({"error": error.clone().unwrap_or_else(|| "invalid_grant".into()), "error_description": "injected error in a 200 response"}),
            );
        }
        let grant = get("grant_type");
        if !matches!(
            grant.as_str(),
            "password" | "authorization_code" | "refresh_token"
        ) {
            return oauth_error(
                400,
                "unsupported_grant_type",
                "Unsupported grant_type value",
            );
        }
        let mut st = lock(&self.st);
        let st = &mut *st;
        let client_id = get("client_id");
        match st.clients.iter().find(|c| c.client_id == client_id) {
            Some(c) if util::secret_eq(&c.client_secret, &get("client_secret")) => {}
            // Act-On's spec (api-updates B4/D7): a bad client is 401 `access_denied`.
            _ => return oauth_error(401, "access_denied", "Unauthorized"),
        }
        let username = match grant.as_str() {
            "password" => {
                let username = get("username");
                if let Err(r) = Self::auth_attempt(st, &username, ctx) {
                    return r;
                }
                let ok = st.users.iter().find(|u| {
                    u.username.eq_ignore_ascii_case(&username)
                        && util::secret_eq(&u.password, &get("password"))
                });
                match ok {
                    Some(u) => {
                        ctx.control.with_stats(|s| s.token_grants.password += 1);
                        u.username.clone()
                    }
                    None => {
                        // 403, not RFC 6749's 400 (api-updates D7).
                        return oauth_error(403, "invalid_grant", "Wrong email or password.");
                    }
                }
            }
            "authorization_code" => {
                let code = get("code");
                let user = match st.codes.get(&code) {
                    Some(c) => c.username.clone(),
                    None => return oauth_error(400, "invalid_grant", "Invalid authorization code"),
                };
                if let Err(r) = Self::auth_attempt(st, &user, ctx) {
                    return r;
                }
                let Some(c) = st.codes.get_mut(&code) else {
                    return oauth_error(400, "invalid_grant", "Invalid authorization code");
                };
                if c.used || c.client_id != client_id {
                    return oauth_error(400, "invalid_grant", "Invalid authorization code");
                }
                if c.expires_at <= ctx.now_ms {
                    return oauth_error(400, "invalid_grant", "Expired authorization code");
                }
                if get("redirect_uri") != c.redirect_uri {
                    return oauth_error(
                        400,
                        "invalid_grant",
                        "Callback URL does not match the authorization request",
                    );
                }
                c.used = true;
                ctx.control
                    .with_stats(|s| s.token_grants.authorization_code += 1);
                user
            }
            _ => {
                let presented = get("refresh_token");
                let user = match st.refresh.get(&presented) {
                    Some(r) if r.active && r.client_id == client_id => r.username.clone(),
                    _ => {
                        return oauth_error(
                            403,
                            "invalid_grant",
                            "Unknown or invalid refresh token.",
                        );
                    }
                };
                ctx.control
                    .with_stats(|s| s.token_grants.refresh_token += 1);
                user
            }
        };
        // One live refresh token per app and user: any new grant ends the previous one,
        // except in the test-only `same` rotation mode on a refresh.
        let presented = get("refresh_token");
        let keep_same =
            grant == "refresh_token" && ctx.settings.refresh_rotation == RefreshRotation::Same;
        let refresh_token = if keep_same {
            presented
        } else {
            for r in st.refresh.values_mut() {
                if r.client_id == client_id && r.username.eq_ignore_ascii_case(&username) {
                    r.active = false;
                }
            }
            let rt = util::uuid();
            st.refresh.insert(
                rt.clone(),
                Refresh {
                    client_id: client_id.clone(),
                    username: username.clone(),
                    active: true,
                },
            );
            rt
        };
        let at = util::uuid();
        let ttl = ctx.settings.token_ttl_s;
        st.access.insert(
            at.clone(),
            Access {
                client_id,
                username,
                expires_at: ctx.now_ms + (ttl as i64) * 1000,
                revoked: false,
            },
        );
        let mut body = serde_json::Map::new();
        body.insert("access_token".into(), at.into());
        body.insert("refresh_token".into(), refresh_token.into());
        // D12: the newer reference pages' scope.
        body.insert("scope".into(), "offline-access".into());
        body.insert("token_type".into(), "Bearer".into());
        body.insert("expires_in".into(), ttl.into());
        match &ctx.token_fault {
            Some(FaultKind::ExpiresInString) => {
                body.insert("expires_in".into(), ttl.to_string().into());
            }
            Some(FaultKind::ExpiresInMissing) => {
                body.remove("expires_in");
            }
            Some(FaultKind::TokenTypeMissing) => {
                body.remove("token_type");
            }
            _ => {}
        }
        Resp::json(200, &body).header("cache-control", "no-store")
    }
}

// ---------- /api/1 ----------

fn page_params(req: &Req, default_count: u64) -> Result<(u64, u64), Resp> {
    let count = match req.q("count") {
        None | Some("") => default_count,
        Some(c) => match c.parse::<u64>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(api_error(
                    400,
                    CODE_INVALID_PARAMETER,
                    &format!("Invalid count '{c}': must be between 1 and 1000"),
                ));
            }
        },
    };
    let offset = match req.q("offset") {
        None | Some("") => 0,
        Some(o) => o.parse::<u64>().map_err(|_| {
            api_error(
                400,
                CODE_INVALID_PARAMETER,
                &format!("Invalid offset '{o}'"),
            )
        })?,
    };
    Ok((count, offset))
}

fn time_param(req: &Req, name: &str) -> Result<Option<i64>, Resp> {
    match req.q(name) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            api_error(
                400,
                CODE_INVALID_PARAMETER,
                &format!("Invalid {name} '{v}': expected Unix milliseconds"),
            )
        }),
    }
}

fn csv_response(headers: &[String], rows: impl Iterator<Item = Vec<String>>) -> Resp {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(headers);
    for r in rows {
        let _ = w.write_record(&r);
    }
    Resp::new(
        200,
        "text/csv;charset=utf-8",
        w.into_inner().unwrap_or_default(),
    )
}

impl ActOn {
    fn api(&self, req: &Req, ctx: &Ctx<'_>, segs: &[&str]) -> Resp {
        let mut st = lock(&self.st);
        let st = &mut *st;
        let Some(token) = req.bearer() else {
            return unauthorized();
        };
        match st.access.get(token) {
            Some(a) if !a.revoked && a.expires_at > ctx.now_ms => {}
            // Expired, revoked or unknown: the gateway says the same for all three (D6).
            _ => return unauthorized(),
        }
        let s = &ctx.settings;
        if s.rate_limit > 0
            && let Err(wait) = st.window.try_acquire(
                Instant::now(),
                s.rate_limit,
                Duration::from_millis(s.rate_window_ms),
            )
        {
            ctx.control.with_stats(|x| x.rate_limited += 1);
            // GUESS: no 429 is documented (D11); the gateway's shape with Retry-After.
            let body = gateway_body(429, "Too Many Requests", "Rate limit exceeded");
            // Retry-After in whole seconds, rounded up, so a client that honours it is admitted.
            let secs = wait.as_millis().div_ceil(1000).max(1);
            return Resp::json(429, &body).header("retry-after", secs.to_string());
        }
        if s.daily_limit > 0
            && let Err(ms) = st.daily.try_acquire(ctx.now_ms, s.daily_limit)
        {
            ctx.control.with_stats(|x| x.rate_limited += 1);
            let body = gateway_body(429, "Too Many Requests", "Daily quota exceeded");
            return Resp::json(429, &body).header("retry-after", (ms / 1000 + 1).to_string());
        }
        let username = st
            .access
            .get(token)
            .map(|a| a.username.clone())
            .unwrap_or_default();
        if req.method != http::Method::GET {
            return writes::handle(self, st, req, ctx, segs);
        }
        match segs {
            ["account"] => self.account(st, &username),
            ["account", "senders"] => Resp::json(
                200,
                &SENDERS
                    .iter()
                    .map(|(id, n, e)| json!({"sender_id": id, "sender_name": n, "sender_email": e}))
                    .collect::<Vec<_>>(),
            ),
            ["list"] => list_assets(st, req),
            ["list", "hardbounce"] => self.suppression(req, "hardbounce", 0),
            ["list", "spamcomplaint"] => self.suppression(req, "spamcomplaint", 1),
            ["list", "optout"] => self.suppression(req, "optout", 2),
            ["list", "lookup", id] => self.lookup(st, req, id),
            ["list", id] => self.download(st, req, id),
            ["list", job, "status"] => {
                writes::job_status(st, job, ctx.now_ms).unwrap_or_else(|| writes::unknown_job(job))
            }
            ["list", id, "record", rec] => self.record(st, id, rec, false),
            ["list", id, "record", rec, "facts"] => self.record(st, id, rec, true),
            ["message"] => messages(st, req),
            ["message", "report"] => report_by_period(self.cfg.seed, req),
            ["message", id] => match st.messages.iter().find(|m| m.id == *id) {
                Some(m) => Resp::json(200, &message_json(m)),
                None => invalid_message(400),
            },
            ["message", id, "report"] => self.message_report(st, id, ctx.now_ms),
            ["message", id, "report", drill] => self.drilldown(st, req, id, drill),
            ["program"] => programs(req),
            ["image"] => assets::folder_array(req, assets::Asset::Image),
            ["media"] => assets::folder_array(req, assets::Asset::Media),
            ["page"] => assets::folder_array(req, assets::Asset::Page),
            ["form"] => assets::folder_array(req, assets::Asset::Form),
            ["header"] => assets::folder_array(req, assets::Asset::Header),
            ["footer"] => assets::folder_array(req, assets::Asset::Footer),
            ["campaigns"] => assets::campaigns(),
            ["subscription", "category"] => assets::categories(),
            // Another account's id: UCL answers with an empty body (B7).
            ["ucl", "v2", account, ..] if *account != self.cfg.account_id.to_string() => {
                Resp::empty(403)
            }
            ["ucl", "v2", _, "segment"] => ucl::segments(st, req),
            ["ucl", "v2", _, "segment", id, "contacts"] => {
                ucl::segment_contacts(st, self.cfg.seed, req, id)
            }
            ["ucl", "v2", _, "contactReport", "id", id, "scores"] => {
                ucl::contact_scores(st, self.cfg.seed, id)
            }
            ["ucl", ..] => Resp::empty(404),
            _ => not_routed(),
        }
    }

    fn account(&self, st: &State, username: &str) -> Resp {
        let user = st
            .users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username));
        Resp::json(
            200,
            &json!({
                "account_id": self.cfg.account_id,
                "cname": "emulator.actonsoftware.example",
                "user_name": user.map_or("", |u| u.name.as_str()),
                "user_email": username,
                "account_name": "Emulator Inc.",
                "user_type": "Marketing",
                "isAdmin": true,
                "login": username,
                "time_zone": "US/Pacific",
            }),
        )
    }

    fn download(&self, st: &State, req: &Req, id: &str) -> Resp {
        let Some(list) = st.lists.iter().find(|l| l.id == id) else {
            return invalid_list();
        };
        let seed = self.cfg.seed;
        let (count, offset) = match page_params(req, 1000) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let mut bounds = [None; 4];
        for (i, n) in ["modafter", "modbefore", "createdafter", "createdbefore"]
            .iter()
            .enumerate()
        {
            match time_param(req, n) {
                Ok(v) => bounds[i] = v,
                Err(r) => return r,
            }
        }
        // `fields` is `;`-separated header names, in the order wanted.
        let cols: Vec<usize> = match req.q("fields").filter(|f| !f.is_empty()) {
            None => (0..list.headers.len()).collect(),
            Some(f) => {
                let mut v = Vec::new();
                // `_contact_id_` always comes first, asked for or not.
                for name in f
                    .split(';')
                    .map(str::trim)
                    .filter(|n| !n.is_empty() && *n != "_contact_id_")
                {
                    match list
                        .headers
                        .iter()
                        .position(|h| h.eq_ignore_ascii_case(name))
                    {
                        Some(i) => v.push(i),
                        // The code as a string, as in the spec's example of 10010; naming the
                        // column after a colon is a GUESS.
                        None => {
                            return Resp::json(
                                400,
                                &json!({"errorCode": "10010", "message": format!("Invalid Column Specified: {name}")}),
                            );
                        }
                    }
                }
                v
            }
        };
        let dq = req
            .q("datequalifiers")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        // "The query parameter fields cannot be used in conjunction with" datequalifiers (D2);
        // how the server refuses the pair is a GUESS.
        if dq && req.q("fields").is_some_and(|f| !f.is_empty()) {
            return api_error(
                400,
                CODE_INVALID_PARAMETER,
                "The parameters fields and datequalifiers cannot be used together",
            );
        }
        let filtered = bounds.iter().any(Option::is_some) || list.has_deletions();
        let matches = |i: u64| -> bool {
            if !list.is_live(i) {
                return false;
            }
            if !filtered {
                return true;
            }
            let (c, m) = (list.created_at(seed, i), list.modified_at(seed, i));
            bounds[0].is_none_or(|b| m > b)
                && bounds[1].is_none_or(|b| m < b)
                && bounds[2].is_none_or(|b| c > b)
                && bounds[3].is_none_or(|b| c < b)
        };
        let idxs: Vec<u64> = if filtered {
            (0..list.len()).filter(|&i| matches(i)).collect()
        } else {
            Vec::new()
        };
        let total = if filtered {
            idxs.len() as u64
        } else {
            list.len()
        };
        let nth = |k: u64| if filtered { idxs[k as usize] } else { k };
        let mut headers: Vec<String> = std::iter::once("_contact_id_".to_owned())
            .chain(cols.iter().map(|&i| list.headers[i].clone()))
            .collect();
        if dq {
            // D2: `created_date` / `modified_date` (the older pages said `__created_date`).
            headers.push("created_date".into());
            headers.push("modified_date".into());
        }
        let row_of = |i: u64| -> Vec<String> {
            let rec = list.record(seed, i);
            let mut out: Vec<String> = std::iter::once(format!("{}:{i}", list.id))
                .chain(
                    cols.iter()
                        .map(|&c| rec.get(c).cloned().unwrap_or_default()),
                )
                .collect();
            if dq {
                out.push(list.created_at(seed, i).to_string());
                out.push(list.modified_at(seed, i).to_string());
            }
            out
        };
        if req
            .q("responseformat")
            .is_some_and(|f| f.eq_ignore_ascii_case("CSV"))
        {
            // CSV returns the whole (filtered) list, ignoring count and offset.
            return csv_response(&headers, (0..total).map(|k| row_of(nth(k))));
        }
        let end = (offset + count).min(total);
        let data: Vec<Vec<String>> = (offset.min(end)..end).map(|k| row_of(nth(k))).collect();
        let mut body = serde_json::Map::new();
        body.insert("listId".into(), list.id.clone().into());
        body.insert("offset".into(), offset.into());
        body.insert("count".into(), data.len().into());
        body.insert("totalCount".into(), total.into());
        // D3: the index of the e-mail column in `headers` (`_contact_id_` is index 0). GUESS:
        // a list without one leaves the key out.
        let email_at = list
            .email_column()
            .and_then(|i| headers.iter().position(|h| *h == list.headers[i]));
        if let Some(i) = email_at {
            body.insert("emailColumn".into(), i.into());
        }
        body.insert("headers".into(), headers.into());
        body.insert("data".into(), data.into());
        Resp::json(200, &body)
    }

    fn record(&self, st: &State, id: &str, rec: &str, facts: bool) -> Resp {
        let Some(list) = st.lists.iter().find(|l| l.id == id) else {
            return invalid_list();
        };
        let Some(i) = list.slot_of(rec) else {
            // GUESS: 10008 is documented for DELETE; GET is assumed to answer the same.
            return api_error(400, 10008, "Invalid contact");
        };
        if !facts {
            // An array aligned to the download's headers: the record id first (B5).
            let row: Vec<String> = std::iter::once(format!("{id}:{i}"))
                .chain(list.record(self.cfg.seed, i))
                .collect();
            return Resp::json(200, &row);
        }
        let s = self.cfg.seed;
        let score = util::pick(s, i, 60, 101);
        let last = list.modified_at(s, i);
        Resp::json(
            200,
            &json!({
                "activity": {"score": score, "emailOpens": util::pick(s, i, 61, 20), "emailClicks": util::pick(s, i, 62, 8),
                              "webPageVisits": util::pick(s, i, 63, 30), "lastActivity": last},
                "activitylist": [
                    {"action": "Email Open", "ts": last - 86_400_000, "detail": "Spring Newsletter"},
                    {"action": "Web Page Visit", "ts": last, "detail": "/pricing"},
                ],
            }),
        )
    }

    fn lookup(&self, st: &State, req: &Req, id: &str) -> Resp {
        let Some(list) = st.lists.iter().find(|l| l.id == id) else {
            return invalid_list();
        };
        let Some(email) = req.q("email") else {
            return missing_parameter("email");
        };
        let Some(col) = list.email_column() else {
            return api_error(400, CODE_INVALID_PARAMETER, "List has no e-mail column");
        };
        // Generated e-mails end in the record index before `@`, which avoids a full scan.
        let hint = email.split('@').next().and_then(|l| {
            let digits: String = l
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            digits.parse::<u64>().ok()
        });
        let hit = hint
            .filter(|&i| {
                list.is_live(i)
                    && list
                        .record(self.cfg.seed, i)
                        .get(col)
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .or_else(|| {
                (0..list.len()).find(|&i| {
                    list.is_live(i)
                        && list
                            .record(self.cfg.seed, i)
                            .get(col)
                            .is_some_and(|e| e.eq_ignore_ascii_case(email))
                })
            });
        match hit {
            Some(i) => Resp::json(200, &json!({"listId": id, "recid": format!("{id}:{i}")})),
            // GUESS: the spec shows `{}` for both answers of the look-up.
            None => api_error(404, 10008, "Invalid contact"),
        }
    }

    fn suppression(&self, req: &Req, name: &str, salt: u64) -> Resp {
        let (count, offset) = match page_params(req, 1000) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let seed = self.cfg.seed;
        let total = [37u64, 6, 23][salt as usize];
        let reasons = [
            [
                "Mailbox does not exist",
                "Domain not found",
                "Mailbox disabled",
            ],
            ["Complaint via FBL", "Complaint via FBL", "Marked as spam"],
            ["Unsubscribe link", "Preference center", "Reply STOP"],
        ];
        let headers = vec![
            "E-mail Address".to_string(),
            "Date".to_string(),
            "Reason".to_string(),
        ];
        let row = |i: u64| {
            vec![
                format!("{name}{i}@bounces.example"),
                // GUESS: dates as the record endpoint shows them (B5), zone abbreviation.
                data::pacific_datetime(
                    data::EPOCH_2024
                        + (i as i64) * 86_400_000
                        + util::pick(seed, i, 70 + salt, 86_400) as i64 * 1000,
                ),
                reasons[salt as usize][util::pick(seed, i, 80 + salt, 3) as usize].to_string(),
            ]
        };
        if req
            .q("responseformat")
            .is_some_and(|f| f.eq_ignore_ascii_case("CSV"))
        {
            return csv_response(&headers, (0..total).map(row));
        }
        let end = (offset + count).min(total);
        let data: Vec<Vec<String>> = (offset.min(end)..end).map(row).collect();
        Resp::json(
            200,
            // GUESS: the spec shows `{}`; the download's shape, `emailColumn` an index (D3).
            &json!({"listId": name, "offset": offset, "count": data.len(), "totalCount": total, "emailColumn": 0, "headers": headers, "data": data}),
        )
    }

    fn message_report(&self, st: &State, id: &str, now_ms: i64) -> Resp {
        let Some((i, m)) = st.messages.iter().enumerate().find(|(_, m)| m.id == id) else {
            return invalid_message(400);
        };
        // GUESS: a message that was never sent has no report, like a deleted one.
        if !matches!(m.kind, "SENT" | "TRIGGERED") {
            return invalid_message(400);
        }
        let r = data::report_for(self.cfg.seed, i as u64, self.cfg.customers);
        let hard = r.bounced / 2;
        let (last_open, last_click) = (m.timestamp + 86_400_000, m.timestamp + 2 * 86_400_000);
        // The fields of the spec's example (B5); `opened`, `clicked`, `effectiveopened` and
        // `notsent` are [unique, total] pairs.
        Resp::json(
            200,
            &json!({
                "status": "ok",
                "sent": r.sent,
                "delivered": r.sent - r.bounced,
                "bounced": r.bounced,
                "hardBounced": hard,
                "softBounced": r.bounced - hard,
                "opened": [r.opened.0, r.opened.1],
                "effectiveopened": [r.opened.0, r.opened.1],
                "clicked": [r.clicked.0, r.clicked.1],
                "notsent": [r.suppressed, r.suppressed],
                "notopened": r.sent - r.bounced - r.opened.0,
                "optout": r.opt_out,
                "spam": r.spam,
                "lastOpen": days_ago(now_ms, last_open),
                "lastClick": days_ago(now_ms, last_click),
                "lastOpenTS": last_open,
                "lastClickTS": last_click,
                "rebroadcast": 0,
                "rebroadcastClick": 0,
                "msgId": m.id,
                "subject": m.subject,
                "title": m.title,
                "sentto": ["l-0001"],
                "suppressedon": [],
            }),
        )
    }

    fn drilldown(&self, st: &State, req: &Req, id: &str, drill: &str) -> Resp {
        let Some((i, m)) = st.messages.iter().enumerate().find(|(_, m)| m.id == id) else {
            return invalid_message(404);
        };
        if !matches!(m.kind, "SENT" | "TRIGGERED") {
            return invalid_message(404);
        }
        let r = data::report_for(self.cfg.seed, i as u64, self.cfg.customers);
        let (total, action) = match drill {
            "SENT" => (r.sent, "Sent"),
            "SUPPRESSED" => (r.suppressed, "Suppressed"),
            "OPENED" => (r.opened.0, "Open"),
            "CLICKED" => (r.clicked.0, "Clickthrough"),
            "BOUNCED" => (r.bounced, "Bounce"),
            "OPT_OUT" => (r.opt_out, "Opt-out"),
            "SPAM" => (r.spam, "Spam complaint"),
            _ => return api_error(400, 10089, "Invalid drill-down verb"),
        };
        let (count, offset) = match page_params(req, 1000) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let Some(list) = st.lists.first() else {
            return invalid_list();
        };
        let seed = self.cfg.seed;
        let salt = drill.len() as u64;
        let entry = |k: u64| {
            let rec_i = (k * 7 + salt) % list.len().max(1);
            let email = list
                .email_column()
                .and_then(|c| list.record(seed, rec_i).get(c).cloned())
                .unwrap_or_default();
            json!({"listid": list.id, "recid": format!("{}:{rec_i}", list.id), "email": email, "action": action,
                   "ts": m.timestamp + 60_000 * (1 + util::pick(seed, k, salt, 2000)) as i64})
        };
        if req
            .q("responseformat")
            .is_some_and(|f| f.eq_ignore_ascii_case("CSV"))
        {
            let headers: Vec<String> = ["listid", "recid", "email", "action", "ts"]
                .iter()
                .map(|s| (*s).to_string())
                .collect();
            return csv_response(
                &headers,
                (0..total).map(|k| {
                    let e = entry(k);
                    headers
                        .iter()
                        .map(|h| {
                            e[h.as_str()]
                                .as_str()
                                .map_or_else(|| e[h.as_str()].to_string(), str::to_string)
                        })
                        .collect()
                }),
            );
        }
        let end = (offset + count).min(total);
        let result: Vec<J> = (offset.min(end)..end).map(entry).collect();
        Resp::json(
            200,
            &json!({"offset": offset, "count": result.len(), "totalCount": total, "result": result}),
        )
    }
}

/// `listingtype` values: the spec's lowercase ones (D1), then the older pages' list types.
/// GUESS: the server ignores case.
const LISTING_TYPES: &[&str] = &[
    "contact_list",
    "header",
    "footer",
    "sender",
    "media",
    "pages",
    "custom_events",
    "template_message",
    "draft_message",
    "landing_page",
    "sent_message",
    "triggered_message",
    "test_message",
    "failed_message",
    "scheduled_message",
    "seed_list",
    "suppression_list",
    "segment_list",
    "external_list",
];

/// One "Get List of Assets" entry, with the fields of the spec's example (B5).
fn list_asset_json(l: &AoList) -> J {
    json!({"id": l.id, "name": l.name, "folderName": l.folder, "sourceId": l.id, "baseId": l.id,
           "description": format!("{} list", l.name), "sourceSize": l.live_len().to_string(),
           "sourceName": l.name, "tsLastModified": l.modified, "tsLastCounted": l.modified,
           "tsSource": l.created, "sourceTS": data::pacific_month_day_year(l.created),
           "bIsSingleton": false, "bIsList": true, "bIsSforce": false})
}

fn list_assets(st: &State, req: &Req) -> Resp {
    let lt = req.q("listingtype").unwrap_or("contact_list");
    if !LISTING_TYPES.iter().any(|t| t.eq_ignore_ascii_case(lt)) {
        return api_error(
            400,
            CODE_INVALID_PARAMETER,
            &format!("Invalid listingtype '{lt}'"),
        );
    }
    let (count, offset) = match page_params(req, 1000) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // Only list types hold lists here; the other asset types list nothing (GUESS).
    let all: Vec<&AoList> = st
        .lists
        .iter()
        .filter(|l| l.listing_type.eq_ignore_ascii_case(lt))
        .collect();
    let result: Vec<J> = all
        .iter()
        .skip(offset as usize)
        .take(count as usize)
        .map(|l| list_asset_json(l))
        .collect();
    Resp::json(
        200,
        &json!({"offset": offset, "count": result.len(), "totalCount": all.len(), "result": result}),
    )
}

/// A message list item, camelCase as in the spec (D4): `timeStamp` is epoch ms as a string,
/// `timeWhen` has no year.
fn message_json(m: &Message) -> J {
    let (sid, sname, semail) = SENDERS[m.sender % SENDERS.len()];
    json!({
        "name": m.title,
        "msgId": m.id,
        "msgType": m.kind,
        "timeStamp": m.timestamp.to_string(),
        "timeWhen": data::pacific_weekday(m.timestamp),
        "senderName": sname,
        "senderId": sid.to_string(),
        "isTextOnly": m.text_only.to_string(),
        "senderEmail": semail,
    })
}

const MESSAGE_TYPES: [&str; 6] = [
    "DRAFT",
    "TEMPLATE",
    "SENT",
    "TRIGGERED",
    "FAILED",
    "SCHEDULED",
];

fn messages(st: &State, req: &Req) -> Resp {
    let Some(kind) = req.q("type").map(str::to_ascii_uppercase) else {
        return missing_parameter("type");
    };
    if !MESSAGE_TYPES.contains(&kind.as_str()) {
        return api_error(
            400,
            CODE_INVALID_PARAMETER,
            &format!("Invalid message type '{kind}'"),
        );
    }
    let (count, offset) = match page_params(req, 1000) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let all: Vec<&Message> = st.messages.iter().filter(|m| m.kind == kind).collect();
    let page: Vec<J> = all
        .iter()
        .skip(offset as usize)
        .take(count as usize)
        .map(|m| message_json(m))
        .collect();
    Resp::json(
        200,
        &json!({"count": page.len(), "totalCount": all.len(), "offset": offset, "msgresult": page, "id": 0}),
    )
}

fn report_by_period(seed: u64, req: &Req) -> Resp {
    let Some(period) = req.q("period") else {
        return missing_parameter("period");
    };
    let parsed = (period.len() == 4)
        .then(|| {
            (
                period[0..2].parse::<i64>().ok(),
                period[2..4].parse::<u32>().ok(),
            )
        })
        .and_then(|(y, m)| Some((2000 + y?, m?)))
        .filter(|(_, m)| (1..=12).contains(m));
    let Some((year, month)) = parsed else {
        return api_error(400, 10160, "The date period is invalid.");
    };
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let first = util::days_from_civil(year, month, 1);
    let next = if month == 12 {
        util::days_from_civil(year + 1, 1, 1)
    } else {
        util::days_from_civil(year, month + 1, 1)
    };
    let counts: Vec<J> = (first..next)
        .map(|d| {
            let k = d as u64;
            let sent = util::pick(seed, k, 90, 400);
            let bounced = util::pick(seed, k, 91, 5);
            // The fields of the spec's example (B5).
            json!({"optedOut": util::pick(seed, k, 92, 3), "dayOfWeek": (d + 4).rem_euclid(7) + 1,
                   "dayOfMonth": d - first + 1, "hardBounced": bounced / 2, "softBounced": bounced - bounced / 2,
                   "opened": sent / 4, "bounced": bounced, "clicked": sent / 20, "sent": sent})
        })
        .collect();
    Resp::json(
        200,
        &json!({"month": format!("{} {year}", MONTHS[month as usize - 1]), "counts": counts}),
    )
}

/// Relative text as in `lastOpen` ("2 days ago"); GUESS: the wording of other distances.
fn days_ago(now_ms: i64, ts: i64) -> String {
    match (now_ms - ts).max(0) / 86_400_000 {
        0 => "today".to_owned(),
        1 => "1 day ago".to_owned(),
        n => format!("{n} days ago"),
    }
}

fn programs(req: &Req) -> Resp {
    let kind = req.q("type").map(str::to_ascii_uppercase);
    let all = [
        ("tr-0001", "TRACK", "Nurture: New Leads", true),
        ("tr-0002", "TRACK", "Onboarding Drip", false),
        ("ev-0001", "EVENT", "Webinar Reminders", true),
        ("lm-0001", "LIST_MAINT", "Lead Score Decay", false),
    ];
    if let Some(k) = &kind
        && !matches!(k.as_str(), "TRACK" | "EVENT" | "LIST_MAINT")
    {
        return api_error(
            400,
            CODE_INVALID_PARAMETER,
            &format!("Invalid program type '{k}'"),
        );
    }
    let programs: Vec<J> = all
        .iter()
        .filter(|p| kind.as_deref().is_none_or(|k| k == p.1))
        .enumerate()
        .map(|(i, (id, t, name, running))| {
            json!({"id": id, "name": name, "type": t, "isFavorite": i == 0, "description": format!("{name} program"),
                   "srcIds": ["l-0001"], "srcNames": ["Customers"], "msgIds": ["s-0001-2401"],
                   "created": data::EPOCH_2024 + i as i64 * 86_400_000, "modified": data::EPOCH_2024 + (10 + i as i64) * 86_400_000,
                   "nextRun": if *running { J::from(data::EPOCH_2024 + 400 * 86_400_000) } else { J::Null },
                   "state": if *running { "RUNNING" } else { "PAUSED" }, "running": running, "active": 100 + i * 7,
                   "scheduled": *running, "tagNames": ["emulator"], "valid": true})
        })
        .collect();
    let any_running = programs.iter().any(|p| p["running"] == J::Bool(true));
    Resp::json(
        200,
        &json!({"folders": [{"id": -1, "name": "", "programs": programs}], "anyRunning": any_running}),
    )
}

impl Service for ActOn {
    fn classify(&self, _method: &http::Method, path: &str) -> EndpointClass {
        if path.starts_with("/api/1/") || path == "/api/1" || path.starts_with("/ucl/v2/") {
            EndpointClass::Api
        } else if path == "/token" {
            EndpointClass::Token
        } else if path == "/authorize" {
            EndpointClass::Authorize
        } else {
            EndpointClass::Other
        }
    }

    fn handle(&self, req: &Req, ctx: &Ctx<'_>) -> Resp {
        let segs = req.segments();
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        match s.as_slice() {
            ["authorize"] if matches!(req.method.as_str(), "GET" | "POST") => {
                self.authorize(req, ctx)
            }
            ["token"] => self.token(req, ctx),
            ["api", "1", rest @ ..] => self.api(req, ctx, rest),
            // The unified contact list family shares the token check and the limits.
            ["ucl", "v2", ..] => self.api(req, ctx, &s),
            _ => not_routed(),
        }
    }

    fn fault_response(&self, status: u16, class: EndpointClass) -> Resp {
        // Injected failures: the gateway answers 429, 401 and 5xx (GUESS for 429 and 5xx: no
        // such answer is documented), the application the other 4xx.
        let reason = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|c| c.canonical_reason())
            .unwrap_or("Error");
        match (status, class) {
            (429, _) => Resp::json(429, &gateway_body(429, reason, "Rate limit exceeded")),
            (_, EndpointClass::Token) => oauth_error(
                status,
                "server_error",
                "The authorization server encountered an error",
            ),
            (s, _) if s >= 500 || s == 401 => Resp::json(s, &gateway_body(s, reason, "")),
            (s, _) => api_error(s, CODE_INVALID_PARAMETER, "injected error"),
        }
    }

    fn reset_data(&self) {
        let mut st = lock(&self.st);
        Self::seed_lists(&self.cfg, &mut st);
        st.messages = data::seed_messages();
        st.window.clear();
        st.daily.clear();
        st.auth_attempts.clear();
        st.writes = writes::WriteState::default();
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

    fn tokens_summary(&self, now_ms: i64) -> J {
        let st = lock(&self.st);
        json!({
            "access_tokens": st.access.iter().map(|(k, a)| json!({"token": k, "client_id": a.client_id, "username": a.username,
                "expires_in": (a.expires_at - now_ms) / 1000, "revoked": a.revoked})).collect::<Vec<_>>(),
            "refresh_tokens": st.refresh.iter().map(|(k, r)| json!({"token": k, "client_id": r.client_id, "username": r.username,
                "active": r.active})).collect::<Vec<_>>(),
        })
    }
}
