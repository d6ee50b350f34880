//! Token responses: parsed leniently where providers differ, strictly where it matters.
//!
//! The decisions, each tested under its reliability-catalogue ID (F-TR):
//!
//! - The body is a JSON object (TR-1). An HTML page (proxy, captive portal, WAF) is named as
//!   such and never echoed (TR-2). A body larger than [`MAX_BODY`] is refused (TR-15).
//! - An `error` inside a 200 is an OAuth error, not a parse error (TR-3).
//! - `access_token` must be a non-empty string (TR-4, TR-5). A missing `token_type` means Bearer
//!   for every provider: both supported APIs take only bearer tokens and golang/oauth2 does the
//!   same (TR-6); `Bearer` is matched case-insensitively (TR-7); any other type is refused
//!   (TR-8).
//! - `expires_in` (TR-9 … TR-11): missing → the provider's default, else unknown (the token is
//!   then refreshed on the API's 401, never trusted forever); a number or numeric string →
//!   whole seconds (floats floored); 0 or negative → already expired (used once, refreshed on
//!   the next use); more than [`MAX_EXPIRES_IN`] (24 h) → clamped with a warning, so `1e20`
//!   cannot mean "never refresh"; anything else (`"abc"`, `null`, `true`) → ignored with a
//!   warning, then the provider's default.
//! - Unknown fields are ignored (TR-14).
//! - A repeated top-level key is refused: RFC 6749 §3.2 allows each parameter once and there is
//!   no safe way to pick one of two access tokens (TR-17).
//! - A UTF-8 byte-order mark and JSON whitespace (space, tab, CR, LF) around the object are
//!   tolerated; any other leading character, including other Unicode whitespace, makes the body
//!   "not JSON" (TR-18).
//! - An `application/x-www-form-urlencoded` body (`access_token=…&token_type=bearer`, as some
//!   legacy servers send and golang/oauth2 accepts) is parsed like the JSON object (TR-19).
//! - Token sizes are not assumed: an 8 KiB access token is kept whole (TR-20).
//!
//! Error messages never contain a value from the body but the provider's `error` code and its
//! `error_description`, and those are scrubbed of every secret of the request and of the body
//! (SEC-3).

use std::fmt;
use std::time::Duration;

use connstr::Secret;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::Error;

/// Tokens obtained from a grant.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The bearer token.
    pub access_token: Secret,
    /// The refresh token, when the grant returned one.
    pub refresh_token: Option<Secret>,
    /// `token_type`, normalised to `Bearer`.
    pub token_type: String,
    /// Lifetime in seconds from `obtained_at_ms`; `None` when unknown.
    pub expires_in: Option<u64>,
    /// When the response arrived (Unix ms): CData's OAuthTokenTimestamp.
    pub obtained_at_ms: u64,
    /// Granted scope, when reported.
    pub scope: Option<String>,
}

impl TokenSet {
    /// Absolute expiry in Unix ms, when known.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.expires_in
            .map(|s| self.obtained_at_ms.saturating_add(s.saturating_mul(1000)))
    }
}

/// The most a token response body may weigh (golang/oauth2 uses the same cap).
pub const MAX_BODY: usize = 1 << 20;

/// The longest lifetime believed from `expires_in`: 24 hours. Both providers issue tokens for
/// 30 or 60 minutes; a larger value is clamped (with a warning) rather than trusted, so that a
/// broken or hostile answer such as `1e20` cannot make a token "never expire" (TR-11).
pub const MAX_EXPIRES_IN: u64 = 86_400;

/// How much of a provider's `error_description` ends up in an error.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// What the token endpoint said, before deciding success or failure.
pub(crate) struct Answer<'a> {
    pub(crate) provider: &'a str,
    pub(crate) grant: &'static str,
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: &'a [u8],
    pub(crate) now_ms: u64,
    pub(crate) default_expires_in: Option<u64>,
    pub(crate) rate_limit_advice: &'static str,
    /// Values sent in the request that must not come back in an error message.
    pub(crate) scrub: &'a [&'a str],
}

/// The reason given for an HTML body (TR-2); also shown for HTML error pages.
const HTML_BODY: &str = "the body is an HTML page (a proxy, captive portal or firewall answering instead of the token endpoint?), not a JSON token response";

/// The top-level fields of a token response, in order, with the first repeated key noted.
#[derive(Default)]
struct Fields {
    map: Map<String, Value>,
    repeated: Option<String>,
}

impl Fields {
    fn insert(&mut self, key: String, value: Value) {
        if self.map.contains_key(&key) {
            // The first value stays; the repetition is reported (TR-17).
            self.repeated.get_or_insert(key);
        } else {
            self.map.insert(key, value);
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }

    /// A non-empty string field.
    fn text(&self, name: &str) -> Option<&str> {
        self.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Fields;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Fields, A::Error> {
                let mut fields = Fields::default();
                while let Some(key) = access.next_key::<String>()? {
                    let value: Value = access.next_value()?;
                    fields.insert(key, value);
                }
                Ok(fields)
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// Reads the body as a JSON object or, failing that, as a form-urlencoded token response.
/// The error is a reason for the user that contains nothing from the body.
fn decode(body: &[u8]) -> Result<Fields, &'static str> {
    if body.len() > MAX_BODY {
        return Err("the response is larger than 1 MiB");
    }
    // TR-18: a UTF-8 byte-order mark is tolerated (serde_json itself takes JSON whitespace).
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let Some(first) = body
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    else {
        return Err("the body is empty");
    };
    if let Ok(fields) = serde_json::from_slice::<Fields>(body) {
        return Ok(fields);
    }
    if let Some(fields) = decode_form(body) {
        return Ok(fields);
    }
    Err(match first {
        b'<' => HTML_BODY,
        b'{' => "the body is not valid JSON (a truncated or malformed object)",
        _ => "the body is not JSON",
    })
}

/// TR-19: `access_token=…&token_type=bearer&expires_in=3600` (or `error=…`), strictly
/// encoded, is read as the equivalent JSON object of strings.
fn decode_form(body: &[u8]) -> Option<Fields> {
    let text = std::str::from_utf8(body).ok()?;
    let text = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let well_formed = !text.is_empty()
        && text.split('&').all(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                && value
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !matches!(b, b'&' | b'=' | b'"' | b'{'))
                && valid_escapes(value)
        });
    if !well_formed {
        return None;
    }
    let mut fields = Fields::default();
    for (name, value) in url::form_urlencoded::parse(text.as_bytes()) {
        fields.insert(name.into_owned(), Value::String(value.into_owned()));
    }
    (fields.get("access_token").is_some() || fields.get("error").is_some()).then_some(fields)
}

/// Whether every `%` starts a two-digit hex escape.
fn valid_escapes(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// The field names a message may repeat (any other key is from the body and not shown).
const KNOWN_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "token_type",
    "expires_in",
    "scope",
    "scopes",
    "id_token",
    "error",
    "error_description",
    "error_uri",
    "status",
    "message",
];

/// Parses a token endpoint answer into tokens or a classified error.
pub(crate) fn parse(answer: &Answer<'_>) -> Result<TokenSet, Error> {
    let provider = answer.provider.to_owned();
    if answer.status == 429 {
        return Err(Error::RateLimited {
            provider,
            grant: answer.grant,
            retry_after: answer.retry_after,
            advice: answer.rate_limit_advice,
        });
    }
    let decoded = decode(answer.body);
    let fields = decoded.as_ref().ok();
    let text = |name: &str| fields.and_then(|f| f.text(name));
    // Secrets the body itself carries never go into a message either (SEC-3).
    let mut secrets: Vec<&str> = answer.scrub.to_vec();
    secrets.extend(
        ["access_token", "refresh_token", "id_token"]
            .into_iter()
            .filter_map(text),
    );

    let success = (200..300).contains(&answer.status);
    // HubSpot sends both RFC 6749 `error` and its own `status`; prefer the standard one.
    let error_code = text("error").or_else(|| (!success).then(|| text("status")).flatten());
    if !success || (error_code.is_some() && text("access_token").is_none()) {
        let description = text("error_description")
            .or_else(|| text("message"))
            .map(|d| scrub(d, &secrets))
            .or_else(|| match &decoded {
                Err(reason) if *reason == HTML_BODY => Some((*reason).to_owned()),
                _ => None,
            });
        let hint = hint(error_code, answer.status, answer.grant);
        return Err(Error::TokenEndpoint {
            provider,
            grant: answer.grant,
            status: answer.status,
            error: error_code.map(|e| scrub(e, &secrets)),
            description,
            hint,
        });
    }

    let invalid = |reason: String| Error::InvalidTokenResponse {
        provider: answer.provider.to_owned(),
        reason,
    };
    let fields = match &decoded {
        Ok(fields) => fields,
        Err(reason) => return Err(invalid((*reason).to_owned())),
    };
    if let Some(key) = &fields.repeated {
        let key = if KNOWN_FIELDS.contains(&key.as_str()) {
            key.as_str()
        } else {
            "a field"
        };
        return Err(invalid(format!(
            "the response repeats {key}; RFC 6749 §3.2 allows each parameter once, and which value is meant cannot be known"
        )));
    }
    let access_token = match fields.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err(invalid("no access_token in the response".to_owned()));
        }
        Some(_) => return Err(invalid("access_token is not a string".to_owned())),
    };
    let token_type = match fields.get("token_type") {
        // TR-6: Bearer is the only type either API takes.
        None | Some(Value::Null) => "Bearer".to_owned(),
        Some(Value::String(t)) if t.is_empty() || t.eq_ignore_ascii_case("bearer") => {
            "Bearer".to_owned()
        }
        Some(Value::String(t)) => {
            let plain = t.len() <= 20
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !secrets.iter().any(|s| s.contains(t.as_str()));
            let shown = if plain {
                format!(" {t:?}")
            } else {
                String::new()
            };
            return Err(invalid(format!(
                "unsupported token_type{shown} (only Bearer is understood); the token was not used"
            )));
        }
        Some(_) => {
            return Err(invalid(
                "token_type is not a string (only Bearer is understood); the token was not used"
                    .to_owned(),
            ));
        }
    };
    let expires_in = lifetime(fields.get("expires_in"), answer.provider)
        .or(answer.default_expires_in)
        .map(|s| s.min(MAX_EXPIRES_IN));
    let scope = match fields.get("scope") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => match fields.get("scopes") {
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        },
    };
    let refresh_token = match fields.get("refresh_token") {
        Some(Value::String(s)) if !s.is_empty() => Some(Secret::new(s.clone())),
        _ => None,
    };
    Ok(TokenSet {
        access_token: Secret::new(access_token),
        refresh_token,
        token_type,
        expires_in,
        obtained_at_ms: answer.now_ms,
        scope,
    })
}

/// `expires_in` in whole seconds (TR-9 … TR-11), clamped to [`MAX_EXPIRES_IN`]; `None` when it
/// is absent or unusable (the caller then takes the provider's default).
fn lifetime(value: Option<&Value>, provider: &str) -> Option<u64> {
    let seconds = match value? {
        Value::Number(n) => Some(match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u,
            // A negative integer: already expired.
            (None, Some(_), _) => 0,
            (None, None, Some(f)) => whole_seconds(f).unwrap_or(0),
            (None, None, None) => 0,
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>()
                .ok()
                .or_else(|| s.parse::<i64>().ok().map(|_| 0))
                .or_else(|| s.parse::<f64>().ok().and_then(whole_seconds))
        }
        _ => None,
    };
    let Some(seconds) = seconds else {
        tracing::warn!(
            provider,
            "the token response's expires_in is not a number; ignoring it"
        );
        return None;
    };
    if seconds > MAX_EXPIRES_IN {
        tracing::warn!(
            provider,
            expires_in = seconds,
            max = MAX_EXPIRES_IN,
            "the token response's expires_in is implausibly long; treating the token as valid for 24 hours"
        );
        return Some(MAX_EXPIRES_IN);
    }
    Some(seconds)
}

/// A finite number of seconds, floored; negative → 0. `None` for NaN and infinities.
fn whole_seconds(f: f64) -> Option<u64> {
    if !f.is_finite() {
        return None;
    }
    // `as` saturates: 1e20 becomes u64::MAX, clamped by the caller.
    Some(if f <= 0.0 { 0 } else { f.floor() as u64 })
}

/// What to do about a refused grant, by the provider's error code.
fn hint(error: Option<&str>, status: u16, grant: &str) -> Option<&'static str> {
    match error {
        Some("invalid_client" | "BAD_CLIENT_ID" | "BAD_CLIENT_SECRET") => {
            Some("check OAuthClientId and OAuthClientSecret")
        }
        // A 401 from a token endpoint is its client authentication failing (RFC 6749 §5.2);
        // Act-On says `access_denied` for a wrong client id or secret (TE-3).
        Some("access_denied" | "unauthorized") | None if status == 401 => {
            Some("check OAuthClientId and OAuthClientSecret")
        }
        Some("BAD_REDIRECT_URI" | "redirect_uri_mismatch") => {
            Some("CallbackURL must be exactly the redirect URI registered with the app")
        }
        Some("unauthorized_client") => Some(
            "the OAuth app is not allowed this grant type; check the app's settings with the provider and AuthScheme",
        ),
        Some("unsupported_grant_type" | "BAD_GRANT_TYPE") => Some(
            "the token endpoint does not support this grant type; check AuthScheme and OAuthAccessTokenURL",
        ),
        Some("invalid_scope" | "BAD_SCOPES") => {
            Some("check the Scope property against the scopes the OAuth app is allowed")
        }
        _ if status >= 500 && grant == "authorization_code" => Some(
            "the provider had a server error; an authorization code works only once, so it is not sent again: start the authorization again",
        ),
        _ if status >= 500 => Some("the provider had a server error; try again later"),
        _ => None,
    }
}

/// A provider message made safe to show: every secret replaced (before truncating, so no
/// partial secret survives the cut), control characters removed, at most 300 characters.
fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(secret, "[redacted]");
    }
    out.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DESCRIPTION_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn answer_with(
        status: u16,
        body: &[u8],
        default_expires_in: Option<u64>,
    ) -> Result<TokenSet, Error> {
        parse(&Answer {
            provider: "P",
            grant: "refresh_token",
            status,
            retry_after: None,
            body,
            now_ms: 1_000,
            default_expires_in,
            rate_limit_advice: "wait",
            scrub: &["CANARY-RT"],
        })
    }

    fn answer(status: u16, body: &str) -> Result<TokenSet, Error> {
        answer_with(status, body.as_bytes(), None)
    }

    fn invalid_reason(result: Result<TokenSet, Error>) -> String {
        match result {
            Err(Error::InvalidTokenResponse { reason, .. }) => reason,
            other => panic!("expected InvalidTokenResponse, got {other:?}"),
        }
    }

    /// The `expires_in` a body with `raw` as its value yields.
    fn expires(raw: &str, default: Option<u64>) -> Option<u64> {
        let body = format!(r#"{{"access_token":"a","expires_in":{raw}}}"#);
        answer_with(200, body.as_bytes(), default)
            .unwrap()
            .expires_in
    }

    /// Runs `f` with a subscriber that records WARN events (this thread only: `parse` logs on
    /// the caller's thread).
    fn warnings(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn tr_1_a_body_that_is_not_json_is_an_error_without_the_body() {
        for body in [
            "broken json CANARY-AT",
            r#"{"access_token":"CANARY-AT","#,
            "",
            "   ",
            r#"["access_token","CANARY-AT"]"#,
            r#""CANARY-AT""#,
        ] {
            let reason = invalid_reason(answer(200, body));
            assert!(
                reason.contains("JSON") || reason.contains("empty"),
                "{reason}"
            );
            assert!(!reason.contains("CANARY"), "{reason}");
        }
        assert!(!answer(200, "broken json").unwrap_err().is_transient());
    }

    #[test]
    fn tr_2_an_html_page_is_named_and_never_echoed() {
        let page = "<html><title>Sign in to the CANARY-PORTAL</title><body>CANARY-AT</body></html>";
        let err = answer(200, page).unwrap_err();
        let reason = invalid_reason(answer(200, page));
        assert!(reason.contains("HTML page"), "{reason}");
        // Terminal for this attempt when the status says success …
        assert!(!err.is_transient());
        // … transient when it is a 5xx (a proxy's error page), terminal for a 4xx.
        for (status, transient) in [(502, true), (503, true), (403, false)] {
            let err = answer(status, page).unwrap_err();
            assert_eq!(err.is_transient(), transient, "{status}: {err}");
            let text = err.to_string();
            assert!(text.contains("HTML page"), "{text}");
            assert!(!text.contains("CANARY") && !text.contains('<'), "{text}");
        }
    }

    #[test]
    fn tr_3_an_error_inside_a_200_is_an_oauth_error() {
        let err = answer(
            200,
            r#"{"error":"invalid_grant","error_description":"bad CANARY-RT"}"#,
        )
        .unwrap_err();
        assert!(err.is_invalid_grant(), "{err}");
        assert!(
            matches!(&err, Error::TokenEndpoint { status: 200, error: Some(e), .. } if e == "invalid_grant"),
            "{err:?}"
        );
        assert!(!err.to_string().contains("CANARY"), "{err}");
        // `error` with an access token beside it is not an error response.
        assert!(answer(200, r#"{"access_token":"a","error":"none"}"#).is_ok());
    }

    #[test]
    fn tr_4_a_missing_access_token_is_an_error() {
        let reason = invalid_reason(answer(200, r#"{"token_type":"bearer","expires_in":60}"#));
        assert_eq!(reason, "no access_token in the response");
        let reason = invalid_reason(answer(200, "{}"));
        assert_eq!(reason, "no access_token in the response");
    }

    #[test]
    fn tr_5_an_empty_null_or_non_string_access_token_is_an_error() {
        for body in [
            r#"{"access_token":"","token_type":"bearer"}"#,
            r#"{"access_token":null,"token_type":"bearer"}"#,
        ] {
            assert_eq!(
                invalid_reason(answer(200, body)),
                "no access_token in the response",
                "{body}"
            );
        }
        assert_eq!(
            invalid_reason(answer(200, r#"{"access_token":12345}"#)),
            "access_token is not a string"
        );
    }

    #[test]
    fn tr_6_a_missing_token_type_means_bearer() {
        for body in [
            r#"{"access_token":"a"}"#,
            r#"{"access_token":"a","token_type":null}"#,
            r#"{"access_token":"a","token_type":""}"#,
        ] {
            assert_eq!(answer(200, body).unwrap().token_type, "Bearer", "{body}");
        }
    }

    #[test]
    fn tr_7_token_type_is_case_insensitive() {
        for t in ["bearer", "Bearer", "BEARER", "bEaReR"] {
            let body = format!(r#"{{"access_token":"a","token_type":"{t}"}}"#);
            assert_eq!(answer(200, &body).unwrap().token_type, "Bearer", "{t}");
        }
    }

    #[test]
    fn tr_8_other_token_types_are_refused() {
        for (raw, shown) in [
            (r#""mac""#, Some("\"mac\"")),
            (r#""DPoP""#, Some("\"DPoP\"")),
            (r#""bearer ""#, None),
            (r#""CANARY-AT""#, None),
            ("123", None),
            ("true", None),
        ] {
            let body = format!(r#"{{"access_token":"CANARY-AT","token_type":{raw}}}"#);
            let reason = invalid_reason(answer(200, &body));
            assert!(
                reason.contains("only Bearer is understood"),
                "{raw}: {reason}"
            );
            if let Some(shown) = shown {
                assert!(reason.contains(shown), "{raw}: {reason}");
            }
            assert!(!reason.contains("CANARY"), "{raw}: {reason}");
        }
    }

    #[test]
    fn tr_9_a_missing_expires_in_takes_the_provider_default_or_stays_unknown() {
        let tokens = answer_with(200, br#"{"access_token":"a"}"#, Some(3600)).unwrap();
        assert_eq!(tokens.expires_in, Some(3600));
        assert_eq!(tokens.expires_at_ms(), Some(1_000 + 3_600_000));
        // No default: unknown (refreshed on the API's 401), never "valid forever".
        let tokens = answer(200, r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(tokens.expires_in, None);
        assert_eq!(tokens.expires_at_ms(), None);
        // A default above the cap is clamped too.
        let tokens = answer_with(200, br#"{"access_token":"a"}"#, Some(u64::MAX)).unwrap();
        assert_eq!(tokens.expires_in, Some(MAX_EXPIRES_IN));
    }

    #[test]
    fn tr_10_expires_in_as_a_string_is_accepted() {
        assert_eq!(expires(r#""3600""#, None), Some(3600));
        assert_eq!(expires(r#"" 1800 ""#, None), Some(1800));
        assert_eq!(expires("1800", None), Some(1800));
        let tokens = answer(200, r#"{"access_token":"a","expires_in":"3600"}"#).unwrap();
        assert_eq!(tokens.expires_at_ms(), Some(1_000 + 3_600_000));
    }

    #[test]
    fn tr_11_odd_expires_in_values_are_clamped_floored_or_ignored() {
        // 0 or negative: already expired (expires_at = obtained_at).
        for raw in ["0", "-5", "-5.5", r#""-5""#, r#""0""#, "-1e300"] {
            assert_eq!(expires(raw, Some(3600)), Some(0), "{raw}");
        }
        let expired = answer(200, r#"{"access_token":"a","expires_in":-5}"#).unwrap();
        assert_eq!(expired.expires_at_ms(), Some(expired.obtained_at_ms));
        // Floats are floored.
        assert_eq!(expires("3.5", None), Some(3));
        assert_eq!(expires(r#""3599.99""#, None), Some(3599));
        assert_eq!(expires("1800.0", None), Some(1800));
        // Huge: clamped to 24 h, with a warning, so the token is refreshed within a day.
        for raw in ["1e20", r#""1e20""#, "18446744073709551615", "86401"] {
            let mut value = None;
            let log = warnings(|| value = expires(raw, None));
            assert_eq!(value, Some(MAX_EXPIRES_IN), "{raw}");
            assert!(log.contains("implausibly long"), "{raw}: {log}");
        }
        assert_eq!(expires("86400", None), Some(86_400));
        let huge = answer(200, r#"{"access_token":"a","expires_in":1e20}"#).unwrap();
        assert_eq!(huge.expires_at_ms(), Some(1_000 + 86_400_000));
        // Not a number: ignored with a warning, then the provider default (or unknown).
        for raw in [
            r#""abc""#, "null", "true", "[]", "{}", r#""""#, r#""NaN""#, r#""inf""#,
        ] {
            let mut value = None;
            let log = warnings(|| value = expires(raw, Some(1800)));
            assert_eq!(value, Some(1800), "{raw}");
            assert!(log.contains("not a number"), "{raw}: {log}");
            assert!(!log.contains("abc"), "the value is not logged: {log}");
            assert_eq!(expires(raw, None), None, "{raw}");
        }
    }

    #[test]
    fn tr_14_unknown_fields_are_ignored_and_the_scope_is_kept() {
        let tokens = answer(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":1800,"refresh_token":"r",
                "hub_id":123,"user_id":5,"id_token":"eyJ.x.y","hub_domain":"x.example",
                "nested":{"access_token":"other"},"scope":"oauth hubdb"}"#,
        )
        .unwrap();
        assert_eq!(tokens.access_token.expose(), "a");
        assert_eq!(tokens.refresh_token.unwrap().expose(), "r");
        assert_eq!(tokens.scope.as_deref(), Some("oauth hubdb"));
        let tokens = answer(200, r#"{"access_token":"a","scopes":["hubdb","oauth"]}"#).unwrap();
        assert_eq!(tokens.scope.as_deref(), Some("hubdb oauth"));
        let tokens = answer(200, r#"{"access_token":"a","scope":["PRODUCTION"]}"#).unwrap();
        assert_eq!(tokens.scope.as_deref(), Some("PRODUCTION"));
    }

    #[test]
    fn tr_15_a_body_over_1_mib_is_refused() {
        let mut body = br#"{"access_token":"a","pad":""#.to_vec();
        body.resize(MAX_BODY + 1 - 2, b'x');
        body.extend_from_slice(b"\"}");
        assert_eq!(body.len(), MAX_BODY + 1);
        let reason = invalid_reason(answer_with(200, &body, None));
        assert!(reason.contains("1 MiB"), "{reason}");
        // Exactly at the cap is fine.
        body.remove(body.len() - 3);
        assert!(answer_with(200, &body, None).is_ok());
    }

    #[test]
    fn tr_17_repeated_keys_are_refused() {
        let reason = invalid_reason(answer(
            200,
            r#"{"access_token":"CANARY-A","access_token":"CANARY-B","token_type":"bearer"}"#,
        ));
        assert!(reason.contains("repeats access_token"), "{reason}");
        assert!(!reason.contains("CANARY"), "{reason}");
        let reason = invalid_reason(answer(
            200,
            r#"{"access_token":"a","expires_in":60,"expires_in":99999}"#,
        ));
        assert!(reason.contains("repeats expires_in"), "{reason}");
        // An unknown key is not named (it comes from the body).
        let reason = invalid_reason(answer(200, r#"{"access_token":"a","CANARY":1,"CANARY":2}"#));
        assert!(
            reason.contains("repeats a field") && !reason.contains("CANARY"),
            "{reason}"
        );
        // Same in a form body.
        let reason = invalid_reason(answer(200, "access_token=a&access_token=b"));
        assert!(reason.contains("repeats access_token"), "{reason}");
        // Nested objects are not ours to judge.
        assert!(answer(200, r#"{"access_token":"a","x":{"k":1,"k":2}}"#).is_ok());
    }

    #[test]
    fn tr_18_a_bom_and_json_whitespace_are_tolerated_other_whitespace_is_not() {
        let json = r#"{"access_token":"a","token_type":"bearer"}"#;
        for body in [
            format!("\u{feff}{json}"),
            format!("\u{feff} \r\n\t{json}\r\n \t"),
            format!("\n\n{json}\n"),
            "{ \"access_token\" :\t\"a\" ,\r\n \"token_type\" : \"bearer\" }".to_owned(),
        ] {
            assert_eq!(
                answer(200, &body).unwrap().access_token.expose(),
                "a",
                "{body:?}"
            );
        }
        for body in [
            format!("\u{a0}{json}"),
            format!("\u{0c}{json}"),
            format!("\u{0b}{json}"),
            format!("\u{2028}{json}"),
            format!("{json}\u{a0}"),
            format!("\u{feff}\u{feff}{json}"),
        ] {
            let reason = invalid_reason(answer(200, &body));
            assert!(reason.contains("JSON"), "{body:?}: {reason}");
        }
    }

    #[test]
    fn tr_19_form_urlencoded_responses_are_parsed() {
        let tokens = answer(
            200,
            "access_token=a%2Fb&token_type=bearer&expires_in=3600&refresh_token=r+1&scope=x+y\n",
        )
        .unwrap();
        assert_eq!(tokens.access_token.expose(), "a/b");
        assert_eq!(tokens.refresh_token.unwrap().expose(), "r 1");
        assert_eq!(tokens.expires_in, Some(3600));
        assert_eq!(tokens.scope.as_deref(), Some("x y"));
        let err = answer(400, "error=invalid_grant&error_description=expired").unwrap_err();
        assert!(err.is_invalid_grant(), "{err}");
        let err = answer(200, "error=invalid_grant").unwrap_err();
        assert!(err.is_invalid_grant(), "{err}");
        // Text that merely contains `=` is not a form response.
        for body in [
            "a=b",
            "access_token = a",
            "access_token=a&x=%zz",
            "<p>access_token=a</p>",
        ] {
            assert!(
                matches!(answer(200, body), Err(Error::InvalidTokenResponse { .. })),
                "{body}"
            );
        }
    }

    #[test]
    fn tr_20_an_8_kib_access_token_is_kept_whole() {
        let token = "A".repeat(8 * 1024) + "-end";
        let body = format!(r#"{{"access_token":"{token}","refresh_token":"{token}R"}}"#);
        let tokens = answer(200, &body).unwrap();
        assert_eq!(tokens.access_token.expose(), token);
        assert_eq!(tokens.refresh_token.unwrap().expose(), format!("{token}R"));
    }

    #[test]
    fn error_descriptions_are_scrubbed_before_they_are_cut() {
        // The secret straddles the 300-character cut: nothing of it may survive.
        let description = format!("{}CANARY-RT-and-more", "x".repeat(295));
        let body = format!(r#"{{"error":"invalid_grant","error_description":"{description}"}}"#);
        let text = answer(400, &body).unwrap_err().to_string();
        assert!(!text.contains("CANA"), "{text}");
        // Control characters cannot rewrite the terminal.
        let err = answer(
            400,
            r#"{"error":"invalid_request","error_description":"a\u001b[2Jb\nc"}"#,
        )
        .unwrap_err();
        assert!(!err.to_string().chars().any(char::is_control), "{err}");
    }

    #[test]
    fn te_3_a_refused_client_is_named_as_such() {
        for (status, body) in [
            (401, r#"{"error":"invalid_client"}"#),
            (400, r#"{"error":"invalid_client"}"#),
            (
                401,
                r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
            ),
            (401, ""),
            (
                400,
                r#"{"status":"BAD_CLIENT_ID","message":"missing or invalid client id"}"#,
            ),
        ] {
            let err = answer(status, body).unwrap_err();
            assert!(
                err.to_string()
                    .contains("check OAuthClientId and OAuthClientSecret"),
                "{status} {body}: {err}"
            );
            assert!(!err.is_transient() && !err.is_invalid_grant(), "{err}");
        }
        // A dead grant is not a client problem.
        let err = answer(401, r#"{"error":"invalid_grant"}"#).unwrap_err();
        assert!(!err.to_string().contains("OAuthClientId"), "{err}");
    }

    #[test]
    fn te_4_configuration_errors_carry_advice_and_are_terminal() {
        for (error, advice) in [
            ("unauthorized_client", "AuthScheme"),
            ("unsupported_grant_type", "OAuthAccessTokenURL"),
            ("invalid_scope", "Scope property"),
        ] {
            let err = answer(400, &format!(r#"{{"error":"{error}"}}"#)).unwrap_err();
            assert!(err.to_string().contains(advice), "{err}");
            assert!(!err.is_transient() && !err.is_invalid_grant(), "{err}");
        }
    }

    #[test]
    fn te_15_a_code_exchange_server_error_says_to_start_again() {
        let err = parse(&Answer {
            provider: "P",
            grant: "authorization_code",
            status: 502,
            retry_after: None,
            body: b"<html>Bad gateway</html>",
            now_ms: 0,
            default_expires_in: None,
            rate_limit_advice: "wait",
            scrub: &[],
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("start the authorization again"), "{text}");
        // A refresh's server error only says to try later.
        let text = answer(502, "").unwrap_err().to_string();
        assert!(text.contains("try again later"), "{text}");
    }

    #[test]
    fn hubspot_bad_refresh_token_is_invalid_grant() {
        let err = answer(400, r#"{"status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token","error":"invalid_grant","error_description":"refresh token is invalid"}"#).unwrap_err();
        assert!(err.is_invalid_grant());
        let classic = answer(
            400,
            r#"{"status":"BAD_REFRESH_TOKEN","message":"missing or invalid refresh token"}"#,
        )
        .unwrap_err();
        assert!(classic.is_invalid_grant());
    }

    #[test]
    fn server_errors_are_transient_and_429_is_rate_limited() {
        assert!(answer(503, "").unwrap_err().is_transient());
        assert!(matches!(answer(429, "{}"), Err(Error::RateLimited { .. })));
        assert!(
            !answer(400, r#"{"error":"invalid_grant"}"#)
                .unwrap_err()
                .is_transient()
        );
    }
}
