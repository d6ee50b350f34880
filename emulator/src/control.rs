//! Run-time settings, fault injection, statistics and the request log, plus the
//! `/_emulator/*` control API that exposes them over HTTP.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::http::{Req, Resp};
use crate::server::Service;

/// Locks a mutex, recovering the data if a panicking thread poisoned it: the emulator
/// keeps serving rather than failing every later request.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a refresh grant does with the refresh token it was given.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RefreshRotation {
    /// The same refresh token comes back and stays valid (HubSpot's default here).
    Same,
    /// A new refresh token comes back and the old one stops working (Act-On's behaviour).
    Rotate,
    /// Like `Rotate`, and presenting an already-used refresh token also revokes every
    /// token descended from it (reuse detection, as in OAuth 2.1 §4.3.1).
    RotateRevokeOnReuse,
}

/// Per-emulator settings, changeable at run time with [`crate::HubSpotHandle::update_settings`]
/// or `PATCH /_emulator/settings`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Settings {
    /// Fixed delay before every non-control request is answered, in milliseconds.
    pub latency_ms: u64,
    /// Extra random delay in `0..=jitter_ms` milliseconds.
    pub jitter_ms: u64,
    /// Lifetime of newly issued access tokens, in seconds.
    pub token_ttl_s: u64,
    /// Requests allowed per rate window per app (HubSpot) or account (Act-On); 0 disables.
    pub rate_limit: u32,
    /// Length of the rolling rate window in milliseconds (10,000 for HubSpot, 1,000 for Act-On).
    pub rate_window_ms: u64,
    /// Requests allowed per UTC day (by the emulator clock); 0 disables.
    pub daily_limit: u64,
    /// Authorization pages redirect at once as the default user, without a login form.
    pub auto_approve: bool,
    /// What refresh grants do with the presented refresh token.
    pub refresh_rotation: RefreshRotation,
    /// Act-On only: password and code grants allowed per user per hour; 0 disables.
    pub auth_grant_limit: u32,
    /// Lifetime of authorization codes, in seconds.
    pub auth_code_ttl_s: u64,
    /// How many request-log entries are kept (oldest dropped first).
    pub max_log_entries: usize,
}

/// A partial [`Settings`]: every field present replaces the current value.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct SettingsPatch {
    pub latency_ms: Option<u64>,
    pub jitter_ms: Option<u64>,
    pub token_ttl_s: Option<u64>,
    pub rate_limit: Option<u32>,
    pub rate_window_ms: Option<u64>,
    pub daily_limit: Option<u64>,
    pub auto_approve: Option<bool>,
    pub refresh_rotation: Option<RefreshRotation>,
    pub auth_grant_limit: Option<u32>,
    pub auth_code_ttl_s: Option<u64>,
    pub max_log_entries: Option<usize>,
}

impl Settings {
    /// Applies every field set in `p`.
    pub fn apply(&mut self, p: &SettingsPatch) {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = p.$f.clone() { self.$f = v; } )* };
        }
        set!(
            latency_ms,
            jitter_ms,
            token_ttl_s,
            rate_limit,
            rate_window_ms,
            daily_limit,
            auto_approve,
            refresh_rotation,
            auth_grant_limit,
            auth_code_ttl_s,
            max_log_entries
        );
    }
}

/// Counts of token grants by grant type.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenGrants {
    /// Successful `authorization_code` grants.
    pub authorization_code: u64,
    /// Successful `refresh_token` grants.
    pub refresh_token: u64,
    /// Successful `password` grants (Act-On).
    pub password: u64,
}

/// Counters returned by `GET /_emulator/stats`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stats {
    /// Successful grants by type.
    pub token_grants: TokenGrants,
    /// Token-endpoint answers that were errors (any non-2xx, or an injected 200 error body).
    pub token_errors: u64,
    /// Requests to data endpoints (HubDB, owners, `/api/1`), whatever their outcome.
    pub api_requests: u64,
    /// 429s produced by the rate limiters (injected 429s are not counted here).
    pub rate_limited: u64,
    /// Requests that an injected fault changed.
    pub faults_injected: u64,
    /// Completed authorization-page approvals (codes issued).
    pub authorizations: u64,
}

/// One entry of the request log.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequestRecord {
    /// Increasing sequence number within one emulator.
    pub seq: u64,
    /// `hubspot` or `acton`.
    pub service: String,
    /// HTTP method.
    pub method: String,
    /// Path, without the query string.
    pub path: String,
    /// Raw query string, if any (still percent-encoded).
    pub query: Option<String>,
    /// Response status; 0 when no response was sent (reset or stalled connection).
    pub status: u16,
    /// The injected fault that shaped this answer, if any.
    pub fault: Option<String>,
    /// Emulator-clock time the request arrived, in epoch milliseconds.
    pub at_ms: i64,
}

impl RequestRecord {
    /// The decoded query parameters in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every decoded value of query parameter `name`.
    pub fn params(&self, name: &str) -> Vec<String> {
        self.query_pairs()
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// The first decoded value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params(name).into_iter().next()
    }

    /// Whether the query had `name=value` (both decoded).
    pub fn has_param(&self, name: &str, value: &str) -> bool {
        self.query_pairs()
            .iter()
            .any(|(k, v)| k == name && v == value)
    }
}

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    /// Every request except the control API.
    #[default]
    Any,
    /// Data endpoints only (HubDB, owners, `/api/1`).
    Api,
    /// Token endpoints only (`/oauth/*/token`, Act-On `/token`).
    Token,
    /// Authorization pages only.
    Authorize,
}

/// What an injected fault does.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status and the vendor's error body for it (or `body`).
    Status {
        /// HTTP status, e.g. 500, 502, 503 or 429.
        status: u16,
        /// Seconds for a `Retry-After` header; none is sent when absent.
        #[serde(default)]
        retry_after: Option<u64>,
        /// A body to send instead of the vendor's.
        #[serde(default)]
        body: Option<String>,
        /// Content type for `body` (default `application/json;charset=utf-8`).
        #[serde(default)]
        content_type: Option<String>,
    },
    /// Close the connection with a TCP reset before any response byte.
    Reset,
    /// Send the headers (with the full `Content-Length`) and half the body, then drop the connection.
    Truncate,
    /// Accept the request and never answer (no headers).
    Stall,
    /// Send the headers, then never send the body.
    StallBody,
    /// Wait this long before handling the request.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Token endpoint: answer 200 with an OAuth error body; the grant is not performed.
    TokenError200 {
        /// The `error` value (default `invalid_grant`).
        #[serde(default)]
        error: Option<String>,
    },
    /// Token endpoint: perform the grant but send `expires_in` as a JSON string.
    ExpiresInString,
    /// Token endpoint: perform the grant but leave `expires_in` out.
    ExpiresInMissing,
    /// Token endpoint: perform the grant but leave `token_type` out.
    TokenTypeMissing,
}

impl FaultKind {
    fn name(&self) -> &'static str {
        match self {
            FaultKind::Status { .. } => "status",
            FaultKind::Reset => "reset",
            FaultKind::Truncate => "truncate",
            FaultKind::Stall => "stall",
            FaultKind::StallBody => "stall_body",
            FaultKind::Delay { .. } => "delay",
            FaultKind::TokenError200 { .. } => "token_error_200",
            FaultKind::ExpiresInString => "expires_in_string",
            FaultKind::ExpiresInMissing => "expires_in_missing",
            FaultKind::TokenTypeMissing => "token_type_missing",
        }
    }

    /// Faults that only make sense on a token endpoint.
    fn token_only(&self) -> bool {
        matches!(
            self,
            FaultKind::TokenError200 { .. }
                | FaultKind::ExpiresInString
                | FaultKind::ExpiresInMissing
                | FaultKind::TokenTypeMissing
        )
    }
}

/// A fault to inject into the next matching requests.
///
/// Over HTTP it is one flat JSON object, e.g.
/// `{"kind":"status","status":503,"retry_after":2,"count":3,"target":"api"}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fault {
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many matching requests it affects; `None` means every one until cleared.
    #[serde(default)]
    pub count: Option<u32>,
    /// Which class of endpoint it matches.
    #[serde(default)]
    pub target: FaultTarget,
    /// Only requests whose path starts with this.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Only requests with this method (case-insensitive).
    #[serde(default)]
    pub method: Option<String>,
    /// Matching requests to let through before the fault starts (a failure mid-way).
    #[serde(default)]
    pub skip: u32,
}

impl Fault {
    /// A fault of `kind` for the next `count` requests of any kind.
    pub fn new(kind: FaultKind, count: u32) -> Self {
        Self {
            kind,
            count: Some(count),
            target: FaultTarget::Any,
            path_prefix: None,
            method: None,
            skip: 0,
        }
    }

    /// Answer the next `count` requests with `status` and the vendor's body.
    pub fn status(status: u16, count: u32) -> Self {
        Self::new(
            FaultKind::Status {
                status,
                retry_after: None,
                body: None,
                content_type: None,
            },
            count,
        )
    }

    /// Answer the next `count` requests with 429 and `Retry-After: retry_after`.
    pub fn too_many_requests(retry_after: Option<u64>, count: u32) -> Self {
        Self::new(
            FaultKind::Status {
                status: 429,
                retry_after,
                body: None,
                content_type: None,
            },
            count,
        )
    }

    /// Restricts the fault to a class of endpoints.
    pub fn on(mut self, target: FaultTarget) -> Self {
        self.target = target;
        self
    }

    /// Restricts the fault to paths starting with `prefix`.
    pub fn path(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Restricts the fault to requests with `method` (e.g. `"POST"`).
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Lets the first `n` matching requests through before the fault starts.
    ///
    /// ```
    /// use emulator::Fault;
    /// // The third POST under the prefix gets a 503, once.
    /// let fault = Fault::status(503, 1).method("POST").path("/cms/").skip(2);
    /// assert_eq!(fault.skip, 2);
    /// ```
    pub fn skip(mut self, n: u32) -> Self {
        self.skip = n;
        self
    }
}

/// The class of an endpoint, for fault targeting and statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndpointClass {
    Api,
    Token,
    Authorize,
    OAuthOther,
    Other,
}

struct ActiveFault {
    fault: Fault,
    remaining: Option<u32>,
    /// Matching requests still to let through.
    to_skip: u32,
}

impl ActiveFault {
    fn matches(&self, class: EndpointClass, method: &str, path: &str) -> bool {
        let f = &self.fault;
        let target_ok = match f.target {
            FaultTarget::Any => true,
            FaultTarget::Api => class == EndpointClass::Api,
            FaultTarget::Token => class == EndpointClass::Token,
            FaultTarget::Authorize => class == EndpointClass::Authorize,
        };
        target_ok
            && (!f.kind.token_only() || class == EndpointClass::Token)
            && f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
            && f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.remaining != Some(0)
    }
}

/// Settings, faults, stats and log of one emulator.
pub(crate) struct Control {
    pub(crate) service: &'static str,
    pub(crate) clock: Clock,
    defaults: Settings,
    settings: Mutex<Settings>,
    faults: Mutex<Vec<ActiveFault>>,
    stats: Mutex<Stats>,
    log: Mutex<VecDeque<RequestRecord>>,
    seq: AtomicU64,
}

impl Control {
    pub(crate) fn new(service: &'static str, clock: Clock, settings: Settings) -> Self {
        Self {
            service,
            clock,
            defaults: settings.clone(),
            settings: Mutex::new(settings),
            faults: Mutex::new(Vec::new()),
            stats: Mutex::new(Stats::default()),
            log: Mutex::new(VecDeque::new()),
            seq: AtomicU64::new(0),
        }
    }

    pub(crate) fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    pub(crate) fn update_settings(&self, p: &SettingsPatch) -> Settings {
        let mut s = lock(&self.settings);
        s.apply(p);
        s.clone()
    }

    pub(crate) fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    pub(crate) fn with_stats(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut lock(&self.stats));
    }

    pub(crate) fn add_fault(&self, fault: Fault) {
        let remaining = fault.count;
        let to_skip = fault.skip;
        lock(&self.faults).push(ActiveFault {
            fault,
            remaining,
            to_skip,
        });
    }

    pub(crate) fn faults(&self) -> Vec<Fault> {
        lock(&self.faults)
            .iter()
            .map(|a| Fault {
                count: a.remaining,
                skip: a.to_skip,
                ..a.fault.clone()
            })
            .collect()
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// Takes one use of the first fault matching this request. Every matching fault still
    /// skipping counts the request as one of those it lets through.
    pub(crate) fn take_fault(
        &self,
        class: EndpointClass,
        method: &str,
        path: &str,
    ) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        let mut chosen = None;
        for (i, active) in faults.iter_mut().enumerate() {
            if !active.matches(class, method, path) {
                continue;
            }
            if active.to_skip > 0 {
                active.to_skip -= 1;
            } else if chosen.is_none() {
                chosen = Some(i);
            }
        }
        let idx = chosen?;
        let kind = faults[idx].fault.kind.clone();
        if let Some(n) = faults[idx].remaining.as_mut() {
            *n -= 1;
            if *n == 0 {
                faults.remove(idx);
            }
        }
        drop(faults);
        lock(&self.stats).faults_injected += 1;
        Some(kind)
    }

    pub(crate) fn log(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        status: u16,
        fault: Option<&FaultKind>,
        at_ms: i64,
    ) {
        let max = lock(&self.settings).max_log_entries;
        let rec = RequestRecord {
            seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            service: self.service.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            query: query.map(str::to_string),
            status,
            fault: fault.map(|f| f.name().to_string()),
            at_ms,
        };
        let mut log = lock(&self.log);
        log.push_back(rec);
        while log.len() > max {
            log.pop_front();
        }
    }

    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.log).iter().cloned().collect()
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.log).clear();
    }

    /// Resets counters, log and faults; settings go back to their start values.
    pub(crate) fn reset(&self) {
        *lock(&self.stats) = Stats::default();
        self.clear_requests();
        self.clear_faults();
        *lock(&self.settings) = self.defaults.clone();
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenSelector {
    token: Option<String>,
}

#[derive(Deserialize, Default)]
struct KeySelector {
    key: Option<String>,
}

#[derive(Deserialize)]
struct Advance {
    #[serde(default)]
    seconds: Option<i64>,
    #[serde(default)]
    ms: Option<i64>,
}

fn bad(msg: impl Into<String>) -> Resp {
    Resp::json(
        400,
        &serde_json::json!({"error": "bad_control_request", "message": msg.into()}),
    )
}

fn parse_body<T: for<'de> Deserialize<'de> + Default>(req: &Req) -> Result<T, Resp> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&req.body).map_err(|e| bad(e.to_string()))
}

/// Serves `/_emulator/*`. These requests skip latency, faults, rate limits and the log.
pub(crate) fn handle_control(control: &Control, service: &dyn Service, req: &Req) -> Resp {
    let method = req.method.as_str();
    let sub = req
        .path
        .trim_start_matches("/_emulator")
        .trim_end_matches('/');
    match (method, sub) {
        ("GET", "/stats") => Resp::json(200, &control.stats()),
        ("POST", "/reset") => {
            control.reset();
            service.reset_data();
            Resp::json(200, &serde_json::json!({"reset": true}))
        }
        ("GET", "/requests") => Resp::json(200, &control.requests()),
        ("DELETE", "/requests") => {
            control.clear_requests();
            Resp::empty(204)
        }
        ("GET", "/settings") => Resp::json(200, &control.settings()),
        ("PATCH" | "POST" | "PUT", "/settings") => {
            match serde_json::from_slice::<SettingsPatch>(&req.body) {
                Ok(p) => Resp::json(200, &control.update_settings(&p)),
                Err(e) => bad(e.to_string()),
            }
        }
        ("GET", "/faults") => Resp::json(200, &control.faults()),
        ("POST", "/faults") => {
            // Accept one fault or an array of them.
            let parsed: Result<Vec<Fault>, _> = serde_json::from_slice::<Vec<Fault>>(&req.body)
                .or_else(|_| serde_json::from_slice::<Fault>(&req.body).map(|f| vec![f]));
            match parsed {
                Ok(faults) => {
                    for f in faults {
                        control.add_fault(f);
                    }
                    Resp::json(201, &control.faults())
                }
                Err(e) => bad(e.to_string()),
            }
        }
        ("DELETE", "/faults") => {
            control.clear_faults();
            Resp::empty(204)
        }
        ("POST", "/expire-tokens") => match parse_body::<TokenSelector>(req) {
            Ok(sel) => {
                let n = service.expire_tokens(control.clock.now_ms(), sel.token.as_deref());
                Resp::json(200, &serde_json::json!({"expired": n}))
            }
            Err(r) => r,
        },
        ("POST", "/revoke-tokens") => match parse_body::<TokenSelector>(req) {
            Ok(sel) => {
                let n = service.revoke_tokens(sel.token.as_deref());
                Resp::json(200, &serde_json::json!({"revoked": n}))
            }
            Err(r) => r,
        },
        ("POST", "/revoke-service-key") => match parse_body::<KeySelector>(req) {
            Ok(KeySelector { key: Some(key) }) => match service.revoke_service_key(&key) {
                Some(n) => Resp::json(200, &serde_json::json!({"revoked": n})),
                None => bad("this service has no service keys"),
            },
            Ok(_) => bad("body must be {\"key\": \"...\"}"),
            Err(r) => r,
        },
        ("GET", "/tokens") => Resp::json(200, &service.tokens_summary(control.clock.now_ms())),
        ("GET", "/clock") => Resp::json(
            200,
            &serde_json::json!({"now_ms": control.clock.now_ms(), "offset_ms": control.clock.offset_ms()}),
        ),
        ("POST", "/clock/advance") => match serde_json::from_slice::<Advance>(&req.body) {
            Ok(a) => {
                let ms =
                    a.ms.unwrap_or(0)
                        .saturating_add(a.seconds.unwrap_or(0).saturating_mul(1000));
                control.clock.advance_ms(ms);
                Resp::json(
                    200,
                    &serde_json::json!({"now_ms": control.clock.now_ms(), "offset_ms": control.clock.offset_ms()}),
                )
            }
            Err(e) => bad(e.to_string()),
        },
        _ => Resp::json(
            404,
            &serde_json::json!({"error": "not_found", "message": format!("no control endpoint {method} {}", req.path)}),
        ),
    }
}
