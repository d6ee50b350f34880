//! HubSpot's install (authorization) page and OAuth token endpoints.

use super::{AccessTok, AuthCode, HsState, HubSpot, HubSpotClient, RefreshTok, hs_error};
use crate::control::{FaultKind, RefreshRotation, lock};
use crate::http::{Req, Resp};
use crate::server::Ctx;
use crate::util::{self, html_escape};

/// The parameters of an install URL (query on GET, hidden fields on POST).
struct AuthParams {
    client_id: String,
    redirect_uri: String,
    scope: Vec<String>,
    optional_scope: Vec<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

fn split_scopes(s: Option<&str>) -> Vec<String> {
    s.unwrap_or("")
        .split([' ', ','])
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl AuthParams {
    fn from(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            client_id: get("client_id").unwrap_or_default(),
            redirect_uri: get("redirect_uri").unwrap_or_default(),
            scope: split_scopes(get("scope").as_deref()),
            // The quickstart spells it `optional_scope`; newer prose says `optional_scopes`.
            optional_scope: split_scopes(
                get("optional_scope")
                    .or_else(|| get("optional_scopes"))
                    .as_deref(),
            ),
            state: get("state"),
            code_challenge: get("code_challenge").filter(|s| !s.is_empty()),
            code_challenge_method: get("code_challenge_method").filter(|s| !s.is_empty()),
        }
    }

    fn hidden_fields(&self) -> String {
        let mut out = String::new();
        let mut field = |k: &str, v: &str| {
            out.push_str(&format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">\n",
                html_escape(v)
            ));
        };
        field("client_id", &self.client_id);
        field("redirect_uri", &self.redirect_uri);
        field("scope", &self.scope.join(" "));
        if !self.optional_scope.is_empty() {
            field("optional_scope", &self.optional_scope.join(" "));
        }
        if let Some(s) = &self.state {
            field("state", s);
        }
        if let Some(c) = &self.code_challenge {
            field("code_challenge", c);
        }
        if let Some(m) = &self.code_challenge_method {
            field("code_challenge_method", m);
        }
        out
    }
}

fn error_page(status: u16, title: &str, detail: &str) -> Resp {
    Resp::html(
        status,
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>HubSpot - {t}</title></head>\
             <body><main id=\"oauth-error\"><h1>{t}</h1><p>{d}</p></main></body></html>",
            t = html_escape(title),
            d = html_escape(detail)
        ),
    )
}

fn redirect_error(p: &AuthParams, error: &str, description: &str) -> Resp {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = &p.state {
        params.push(("state", s.as_str()));
    }
    Resp::redirect(&util::append_query(&p.redirect_uri, &params))
}

/// Validates the install parameters. Errors that make the redirect URI untrustworthy
/// (unknown client, unregistered URI) and scope mismatches are shown as a page, as
/// HubSpot does; the others redirect with `error=`.
fn validate(st: &HsState, p: &AuthParams) -> Result<(HubSpotClient, Vec<String>), Resp> {
    let Some(client) = st.clients.iter().find(|c| c.client_id == p.client_id) else {
        return Err(error_page(
            400,
            "Authorization failed",
            "The client_id in the install URL is not a valid app.",
        ));
    };
    if p.redirect_uri.is_empty() || !client.redirect_uris.contains(&p.redirect_uri) {
        return Err(error_page(
            400,
            "Authorization failed",
            "The redirect_uri in the install URL does not match a redirect URL configured for this app.",
        ));
    }
    let configured =
        |s: &String| client.required_scopes.contains(s) || client.optional_scopes.contains(s);
    let missing: Vec<&String> = client
        .required_scopes
        .iter()
        .filter(|s| !p.scope.contains(s))
        .collect();
    let unknown: Vec<&String> = p
        .scope
        .iter()
        .chain(&p.optional_scope)
        .filter(|s| !configured(s))
        .collect();
    if !missing.is_empty() || !unknown.is_empty() {
        return Err(error_page(
            400,
            "Authorization failed because there is a mismatch between the scopes in the install URL and the app's configured scopes",
            &format!(
                "Missing required scopes: [{}]. Scopes not configured for this app: [{}].",
                missing
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if let Some(m) = &p.code_challenge_method
        && m != "S256"
        && m != "plain"
    {
        return Err(redirect_error(
            p,
            "invalid_request",
            "code_challenge_method must be S256 or plain",
        ));
    }
    // Optional scopes are granted when configured (the emulated portal has every product).
    let mut granted = p.scope.clone();
    for s in &p.optional_scope {
        if !granted.contains(s) {
            granted.push(s.clone());
        }
    }
    Ok((client.clone(), granted))
}

fn issue_code(
    st: &mut HsState,
    p: &AuthParams,
    scopes: Vec<String>,
    user_id: u64,
    ctx: &Ctx<'_>,
) -> Resp {
    let code = util::uuid();
    let family = st.next_family;
    st.next_family += 1;
    st.codes.insert(
        code.clone(),
        AuthCode {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            scopes,
            user_id,
            expires_at: ctx.now_ms + (ctx.settings.auth_code_ttl_s as i64) * 1000,
            challenge: p.code_challenge.clone().map(|c| {
                (
                    p.code_challenge_method
                        .clone()
                        .unwrap_or_else(|| "plain".into()),
                    c,
                )
            }),
            used: false,
            family,
        },
    );
    ctx.control.with_stats(|s| s.authorizations += 1);
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &p.state {
        params.push(("state", s.as_str()));
    }
    Resp::redirect(&util::append_query(&p.redirect_uri, &params))
}

fn login_page(hs: &HubSpot, p: &AuthParams, granted: &[String], error: Option<&str>) -> Resp {
    let scopes: String = granted
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", html_escape(s)))
        .collect();
    let err = error
        .map(|e| {
            format!(
                "<p id=\"login-error\" role=\"alert\" style=\"color:#b00\">{}</p>",
                html_escape(e)
            )
        })
        .unwrap_or_default();
    Resp::html(
        if error.is_some() { 401 } else { 200 },
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Log in to HubSpot</title></head>\
<body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">\
<h1>Connect app to HubSpot account {hub}</h1>{err}\
<p>The app <strong>{client}</strong> is requesting access to:</p><ul id=\"scopes\">{scopes}</ul>\
<form id=\"consent\" method=\"post\" action=\"/oauth/authorize\">\n{hidden}\
<label>Email <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required></label><br>\
<label>Password <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\"></label><br>\
<button id=\"authorize\" type=\"submit\" name=\"action\" value=\"approve\">Authorize</button> \
<button id=\"deny\" type=\"submit\" name=\"action\" value=\"deny\" formnovalidate>Deny</button>\
</form></body></html>",
            hub = hs.cfg.hub_id,
            client = html_escape(&p.client_id),
            hidden = p.hidden_fields(),
        ),
    )
}

/// `GET|POST /oauth/authorize` (and `/oauth/{accountId}/authorize`).
pub(super) fn authorize(hs: &HubSpot, req: &Req, ctx: &Ctx<'_>) -> Resp {
    let mut st = lock(&hs.st);
    let st = &mut *st;
    match req.method.as_str() {
        "GET" => {
            let p = AuthParams::from(|k| req.q(k).map(str::to_string));
            let (_, granted) = match validate(st, &p) {
                Ok(v) => v,
                Err(r) => return r,
            };
            if ctx.settings.auto_approve {
                let user_id = st.users.first().map_or(0, |u| u.user_id);
                return issue_code(st, &p, granted, user_id, ctx);
            }
            login_page(hs, &p, &granted, None)
        }
        "POST" => {
            let form = req.form();
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let p = AuthParams::from(get);
            let (_, granted) = match validate(st, &p) {
                Ok(v) => v,
                Err(r) => return r,
            };
            if get("action").as_deref() == Some("deny") {
                return redirect_error(
                    &p,
                    "access_denied",
                    "The user denied the authorization request",
                );
            }
            let email = get("email").unwrap_or_default();
            let password = get("password").unwrap_or_default();
            let user = st
                .users
                .iter()
                .find(|u| {
                    u.email.eq_ignore_ascii_case(&email) && util::secret_eq(&u.password, &password)
                })
                .map(|u| u.user_id);
            match user {
                Some(uid) => issue_code(st, &p, granted, uid, ctx),
                None => login_page(hs, &p, &granted, Some("Incorrect email or password.")),
            }
        }
        _ => hs_error(405, "VALIDATION_ERROR", "Method not allowed"),
    }
}

/// A token-endpoint error: legacy `status`/`message`, the OAuth spec's `Error` fields
/// (`category`, `correlationId` and `message` are required) and RFC 6749
/// `error`/`error_description`.
fn token_error(status: &str, message: &str, error: &str, description: &str) -> Resp {
    let cid = util::uuid();
    Resp::json(
        400,
        &serde_json::json!({
            "status": status,
            "message": message,
            "correlationId": cid,
            // GUESS: no source shows the category of a refused grant; every token error
            // is a 400 about the request's parameters, so VALIDATION_ERROR.
            "category": "VALIDATION_ERROR",
            "error": error,
            "error_description": description,
        }),
    )
    .header("x-hubspot-correlation-id", cid)
}

/// The `SignedAccessToken` object of access-token info and introspection; the spec
/// requires every field. Signatures are derived from the token so repeated calls agree.
fn signed_access_token(hs: &HubSpot, token: &str, a: &AccessTok) -> serde_json::Value {
    serde_json::json!({
        "expiresAt": a.expires_at,
        "scopes": a.scopes.join(" "),
        "hubId": hs.cfg.hub_id,
        "userId": a.user_id,
        "appId": a.app_id,
        "appInstallId": format!("{}-{}", a.app_id, hs.cfg.hub_id),
        "audience": a.client_id,
        "hublet": "na1",
        "installingUserId": a.user_id,
        "isPrivateDistribution": false,
        "isServiceAccount": false,
        "isUserLevel": true,
        "signature": util::pkce_s256(&format!("sig:{token}")),
        "newSignature": util::pkce_s256(&format!("sig2:{token}")),
        "scopeToScopeGroupPks": "",
        "trialScopes": "",
        "trialScopeToScopeGroupPks": "",
    })
}

fn bad_refresh() -> Resp {
    token_error(
        "BAD_REFRESH_TOKEN",
        "missing or invalid refresh token",
        "invalid_grant",
        "refresh token is invalid, expired or revoked",
    )
}

/// `POST /oauth/{v1,v3,2026-03,2026-09}/token`.
pub(super) fn token(hs: &HubSpot, req: &Req, ctx: &Ctx<'_>, version: &str) -> Resp {
    if req.method != http::Method::POST {
        return hs_error(405, "VALIDATION_ERROR", "Method not allowed");
    }
    let ct = req.content_type();
    if !req.body.is_empty() && ct != "application/x-www-form-urlencoded" {
        return token_error(
            "BAD_REQUEST",
            "Content-Type must be application/x-www-form-urlencoded",
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let form = req.form();
    let get = |k: &str| -> Option<String> {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            // v1 also declares client_secret and refresh_token (and in practice the rest) as query params.
            .or_else(|| {
                (version == "v1")
                    .then(|| req.q(k).map(str::to_string))
                    .flatten()
            })
            .filter(|v| !v.is_empty())
    };
    if let Some(FaultKind::TokenError200 { error }) = &ctx.token_fault {
        let e = error.clone().unwrap_or_else(|| "invalid_grant".into());
        return Resp::json(
            200,
            &serde_json::json!({"status": "BAD_REFRESH_TOKEN", "message": "injected error", "error": e, "error_description": "injected error in a 200 response"}),
        );
    }
    let grant = get("grant_type").unwrap_or_default();
    if grant != "authorization_code" && grant != "refresh_token" {
        return token_error(
            "BAD_GRANT_TYPE",
            "missing or unknown grant type",
            if grant.is_empty() {
                "invalid_request"
            } else {
                "unsupported_grant_type"
            },
            "grant_type must be authorization_code or refresh_token",
        );
    }
    let mut st = lock(&hs.st);
    let st = &mut *st;
    let client_id = get("client_id").unwrap_or_default();
    let Some(client) = st
        .clients
        .iter()
        .find(|c| c.client_id == client_id)
        .cloned()
    else {
        return token_error(
            "BAD_CLIENT_ID",
            "missing or invalid client id",
            "invalid_client",
            "missing or invalid client id",
        );
    };
    if !util::secret_eq(
        &client.client_secret,
        &get("client_secret").unwrap_or_default(),
    ) {
        return token_error(
            "BAD_CLIENT_SECRET",
            "missing or invalid client secret",
            "invalid_client",
            "missing or invalid client secret",
        );
    }
    let now = ctx.now_ms;
    let (user_id, scopes, family, refresh_token) = if grant == "authorization_code" {
        let code = get("code").unwrap_or_default();
        let Some(c) = st.codes.get_mut(&code) else {
            return token_error(
                "BAD_AUTH_CODE",
                "missing or unknown auth code",
                "invalid_grant",
                "authorization code is invalid",
            );
        };
        if c.used {
            // RFC 6749 §4.1.2: a reused code revokes what it issued.
            let family = c.family;
            for a in st.access.values_mut().filter(|a| a.family == family) {
                a.revoked = true;
            }
            for r in st.refresh.values_mut().filter(|r| r.family == family) {
                r.active = false;
            }
            return token_error(
                "BAD_AUTH_CODE",
                "auth code has already been used",
                "invalid_grant",
                "authorization code was already used",
            );
        }
        if c.client_id != client_id {
            return token_error(
                "BAD_AUTH_CODE",
                "auth code was issued to another client",
                "invalid_grant",
                "authorization code is invalid",
            );
        }
        if c.expires_at <= now {
            return token_error(
                "EXPIRED_AUTH_CODE",
                "auth code is expired",
                "invalid_grant",
                "authorization code has expired",
            );
        }
        if get("redirect_uri").as_deref() != Some(c.redirect_uri.as_str()) {
            return token_error(
                "BAD_REDIRECT_URI",
                "redirect_uri does not match the one used to obtain the auth code",
                "invalid_grant",
                "redirect_uri mismatch",
            );
        }
        if let Some((method, challenge)) = &c.challenge {
            let Some(verifier) = get("code_verifier") else {
                return token_error(
                    "BAD_AUTH_CODE",
                    "missing code_verifier",
                    "invalid_grant",
                    "code_verifier is required",
                );
            };
            let computed = if method == "S256" {
                util::pkce_s256(&verifier)
            } else {
                verifier
            };
            if computed != *challenge {
                return token_error(
                    "BAD_AUTH_CODE",
                    "code_verifier does not match code_challenge",
                    "invalid_grant",
                    "PKCE verification failed",
                );
            }
        }
        c.used = true;
        let (user_id, scopes, family) = (c.user_id, c.scopes.clone(), c.family);
        let rt = format!("na1-{}", util::uuid());
        st.refresh.insert(
            rt.clone(),
            RefreshTok {
                client_id: client_id.clone(),
                user_id,
                scopes: scopes.clone(),
                active: true,
                rotated: false,
                family,
            },
        );
        ctx.control
            .with_stats(|s| s.token_grants.authorization_code += 1);
        (user_id, scopes, family, rt)
    } else {
        let presented = get("refresh_token").unwrap_or_default();
        let Some(r) = st.refresh.get(&presented).cloned() else {
            return bad_refresh();
        };
        if r.client_id != client_id {
            return bad_refresh();
        }
        if !r.active {
            if r.rotated && ctx.settings.refresh_rotation == RefreshRotation::RotateRevokeOnReuse {
                for a in st.access.values_mut().filter(|a| a.family == r.family) {
                    a.revoked = true;
                }
                for t in st.refresh.values_mut().filter(|t| t.family == r.family) {
                    t.active = false;
                }
            }
            return bad_refresh();
        }
        let rt = match ctx.settings.refresh_rotation {
            RefreshRotation::Same => presented,
            RefreshRotation::Rotate | RefreshRotation::RotateRevokeOnReuse => {
                if let Some(old) = st.refresh.get_mut(&presented) {
                    old.active = false;
                    old.rotated = true;
                }
                let rt = format!("na1-{}", util::uuid());
                st.refresh.insert(
                    rt.clone(),
                    RefreshTok {
                        active: true,
                        rotated: false,
                        ..r.clone()
                    },
                );
                rt
            }
        };
        ctx.control
            .with_stats(|s| s.token_grants.refresh_token += 1);
        (r.user_id, r.scopes, r.family, rt)
    };
    // Access tokens are opaque and long (HubSpot says to allow up to 300 characters).
    let at = format!("C{}", util::random_b64::<120>());
    let ttl = ctx.settings.token_ttl_s;
    st.access.insert(
        at.clone(),
        AccessTok {
            client_id: client_id.clone(),
            app_id: client.app_id,
            user_id,
            scopes: scopes.clone(),
            expires_at: now + (ttl as i64) * 1000,
            revoked: false,
            family,
        },
    );
    let mut body = serde_json::Map::new();
    body.insert("token_type".into(), "bearer".into());
    body.insert("refresh_token".into(), refresh_token.into());
    body.insert("access_token".into(), at.into());
    body.insert("expires_in".into(), ttl.into());
    body.insert("token_use".into(), "access_token".into());
    body.insert("hub_id".into(), hs.cfg.hub_id.into());
    body.insert("user_id".into(), user_id.into());
    body.insert("scopes".into(), scopes.into());
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

fn user_email(st: &HsState, user_id: u64) -> String {
    st.users
        .iter()
        .find(|u| u.user_id == user_id)
        .map(|u| u.email.clone())
        .unwrap_or_default()
}

/// `GET /oauth/v1/access-tokens/{token}`.
pub(super) fn access_token_info(hs: &HubSpot, req: &Req, ctx: &Ctx<'_>, token: &str) -> Resp {
    if req.method != http::Method::GET {
        return hs_error(405, "VALIDATION_ERROR", "Method not allowed");
    }
    let st = lock(&hs.st);
    match st.access.get(token) {
        Some(a) if !a.revoked && a.expires_at > ctx.now_ms => Resp::json(
            200,
            &serde_json::json!({
                "token": token,
                "user": user_email(&st, a.user_id),
                "hub_domain": format!("emulator-{}.hubspot.example", hs.cfg.hub_id),
                "scopes": a.scopes,
                "signed_access_token": signed_access_token(hs, token, a),
                "hub_id": hs.cfg.hub_id,
                "app_id": a.app_id,
                "expires_in": (a.expires_at - ctx.now_ms) / 1000,
                "user_id": a.user_id,
                "token_type": "access",
                "is_private_distribution": false,
            }),
        ),
        Some(a) if !a.revoked => super::expired(a.expires_at, ctx.now_ms),
        _ => hs_error(
            404,
            "OBJECT_NOT_FOUND",
            "The access token does not exist or has been revoked",
        ),
    }
}

/// `GET|DELETE /oauth/v1/refresh-tokens/{token}`.
pub(super) fn refresh_token_info(hs: &HubSpot, req: &Req, _ctx: &Ctx<'_>, token: &str) -> Resp {
    let mut st = lock(&hs.st);
    let active = st.refresh.get(token).filter(|r| r.active).cloned();
    let Some(r) = active else {
        return hs_error(404, "OBJECT_NOT_FOUND", "missing or invalid refresh token");
    };
    match req.method.as_str() {
        "GET" => Resp::json(
            200,
            &serde_json::json!({
                "token": token,
                "user": user_email(&st, r.user_id),
                "hub_domain": format!("emulator-{}.hubspot.example", hs.cfg.hub_id),
                "scopes": r.scopes,
                "hub_id": hs.cfg.hub_id,
                "client_id": r.client_id,
                "user_id": r.user_id,
                "token_type": "refresh",
            }),
        ),
        "DELETE" => {
            if let Some(t) = st.refresh.get_mut(token) {
                t.active = false;
            }
            Resp::empty(204)
        }
        _ => hs_error(405, "VALIDATION_ERROR", "Method not allowed"),
    }
}

fn check_client(st: &HsState, form: &[(String, String)]) -> Result<(), Resp> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    match st.clients.iter().find(|c| c.client_id == get("client_id")) {
        Some(c) if util::secret_eq(&c.client_secret, get("client_secret")) => Ok(()),
        Some(_) => Err(token_error(
            "BAD_CLIENT_SECRET",
            "missing or invalid client secret",
            "invalid_client",
            "missing or invalid client secret",
        )),
        None => Err(token_error(
            "BAD_CLIENT_ID",
            "missing or invalid client id",
            "invalid_client",
            "missing or invalid client id",
        )),
    }
}

/// `POST /oauth/v3/token/introspect` (and the 2026-03 and 2026-09 twins).
pub(super) fn introspect(hs: &HubSpot, req: &Req, ctx: &Ctx<'_>) -> Resp {
    if req.method != http::Method::POST {
        return hs_error(405, "VALIDATION_ERROR", "Method not allowed");
    }
    let form = req.form();
    let st = lock(&hs.st);
    if let Err(r) = check_client(&st, &form) {
        return r;
    }
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let hint = form
        .iter()
        .find(|(k, _)| k == "token_type_hint")
        .map(|(_, v)| v.as_str());
    let access = st
        .access
        .get(token)
        .filter(|a| !a.revoked && a.expires_at > ctx.now_ms);
    let refresh = st.refresh.get(token).filter(|r| r.active);
    let app_id = st
        .clients
        .iter()
        .find(|c| access.is_some_and(|a| a.client_id == c.client_id))
        .map_or(0, |c| c.app_id);
    match (access, refresh, hint) {
        // `PublicAccessTokenInfoResponse` and `PublicRefreshTokenInfoResponse`.
        (Some(a), _, None | Some("access_token")) | (Some(a), None, _) => Resp::json(
            200,
            &serde_json::json!({
                "active": true,
                "token_use": "access_token",
                "token": token,
                "token_type": "access",
                "client_id": a.client_id,
                "app_id": app_id,
                "hub_id": hs.cfg.hub_id,
                "hub_domain": format!("emulator-{}.hubspot.example", hs.cfg.hub_id),
                "user_id": a.user_id,
                "user": user_email(&st, a.user_id),
                "scopes": a.scopes,
                "expires_in": (a.expires_at - ctx.now_ms) / 1000,
                "is_private_distribution": false,
                "signed_access_token": signed_access_token(hs, token, a),
            }),
        ),
        (_, Some(r), _) => Resp::json(
            200,
            &serde_json::json!({
                "active": true,
                "token_use": "refresh_token",
                "token": token,
                "token_type": "refresh",
                "client_id": r.client_id,
                "app_id": st
                    .clients
                    .iter()
                    .find(|c| c.client_id == r.client_id)
                    .map_or(0, |c| c.app_id),
                "hub_id": hs.cfg.hub_id,
                "hub_domain": format!("emulator-{}.hubspot.example", hs.cfg.hub_id),
                "user_id": r.user_id,
                "user": user_email(&st, r.user_id),
                "scopes": r.scopes,
            }),
        ),
        _ => Resp::json(200, &serde_json::json!({"active": false})),
    }
}

/// `POST /oauth/v3/token/revoke` (and the 2026-03 and 2026-09 twins): revokes a refresh token.
pub(super) fn revoke(hs: &HubSpot, req: &Req, _ctx: &Ctx<'_>) -> Resp {
    if req.method != http::Method::POST {
        return hs_error(405, "VALIDATION_ERROR", "Method not allowed");
    }
    let form = req.form();
    let mut st = lock(&hs.st);
    if let Err(r) = check_client(&st, &form) {
        return r;
    }
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if let Some(r) = st.refresh.get_mut(&token) {
        r.active = false;
    }
    // RFC 7009 §2.2: unknown tokens are not an error.
    Resp::empty(204)
}
