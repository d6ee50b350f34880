//! Authenticated, paced and retried Act-On requests: `source-http`'s `ServiceClient` with
//! Act-On's retry policy and error bodies.

use std::time::Duration;

pub(crate) use source_http::Call;
use source_http::{RetryPolicy, Service, StatusError};

use crate::Error;

/// Act-On for the shared send loop: the pacer makes 429 rare; the v1 read API is all GETs,
/// so 5xx and network errors are always retried.
pub(crate) const SERVICE: Service = Service {
    name: "Act-On",
    policy: RetryPolicy {
        max_429_attempts: 8,
        max_failure_attempts: 5,
        backoff_base: Duration::from_millis(250),
        backoff_doublings: 6,
        max_backoff: Duration::from_secs(10),
        rate_limit_headers: None,
    },
    rate_limit_advice: "another client may be using the account's 5 requests per second",
};

/// One HTTP client for one account: the shared reqwest client, a token provider and the
/// account's process-wide pacer, answering with Act-On's errors.
pub(crate) type Client = source_http::ServiceClient<Error>;

/// `GET {base}/api/1/{segments...}`.
pub(crate) fn api_call(segments: &[&str], context: impl Into<String>) -> Call {
    let path = ["api", "1"].iter().chain(segments).copied();
    Call::get(path, context)
}

/// Act-On's code and words from an error body, in any of the shapes seen:
/// - `{"errorCode": 10004 | "10010", "message": …}`: `/api/1` (spec copy, D6);
/// - `{"httpCode": "401", "httpMessage": …, "moreInformation": …}`: the API gateway (D6);
/// - `{"status": "error", "message": …}`: the older developer pages' write answers;
/// - `{"fault": {"message", "description"}}`: the older WSO2 guess, still accepted;
/// - `{"error_description": …}`: the token endpoint.
///
/// Anything else is shown as an excerpt of the body (`/ucl/v2` sends empty bodies).
pub(crate) fn error_reply(body: &[u8]) -> (Option<String>, String) {
    let parsed: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let code = match &parsed["errorCode"] {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    };
    let gateway = || {
        let reason = text(&parsed["httpMessage"])?;
        Some(match text(&parsed["moreInformation"]) {
            Some(more) => format!("{reason}: {more}"),
            None => reason,
        })
    };
    let fault = || {
        let fault = &parsed["fault"];
        match (text(&fault["message"]), text(&fault["description"])) {
            (Some(m), Some(d)) => Some(format!("{m}: {d}")),
            (m, d) => m.or(d),
        }
    };
    let reply = text(&parsed["message"])
        .or_else(gateway)
        .or_else(fault)
        .or_else(|| text(&parsed["error_description"]))
        // Not JSON we know: show what came back.
        .unwrap_or_else(|| source_http::body_excerpt(body));
    if reply.trim().is_empty() {
        return (code, "an empty answer".to_owned());
    }
    (code, reply)
}

/// An Act-On error answer as an [`Error::Api`] (ids are added by [`Error::about`]).
pub(crate) fn api_error(context: &str, status: u16, body: &[u8]) -> Error {
    let (code, reply) = error_reply(body);
    let message = crate::error::explain(code.as_deref(), &reply, &Default::default());
    Error::Api {
        context: context.to_owned(),
        status,
        code,
        reply,
        message,
    }
}

impl StatusError for Error {
    fn from_status(context: &str, status: u16, body: &[u8]) -> Self {
        api_error(context, status, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(status: u16, body: &str, call: &Call) -> String {
        api_error("reading `View`", status, body.as_bytes())
            .about(call)
            .to_string()
    }

    #[test]
    fn every_error_body_shape_gives_a_code_and_act_ons_words() {
        for (body, code, reply) in [
            // The spec copy: the code as a number, or as a string (D6).
            (
                r#"{"errorCode": 10004, "message": "Invalid or missing list"}"#,
                Some("10004"),
                "Invalid or missing list",
            ),
            (
                r#"{"errorCode": "10010", "message": "Invalid Column Specified"}"#,
                Some("10010"),
                "Invalid Column Specified",
            ),
            // The gateway (D6).
            (
                r#"{"httpCode":"401","httpMessage":"Unauthorized","moreInformation":""}"#,
                None,
                "Unauthorized",
            ),
            (
                r#"{"httpCode":"404","httpMessage":"Not Found","moreInformation":"No resources match requested URI"}"#,
                None,
                "Not Found: No resources match requested URI",
            ),
            // The older developer pages and the older gateway guess.
            (
                r#"{"status": "error", "message": "List not found: l-9"}"#,
                None,
                "List not found: l-9",
            ),
            (
                r#"{"fault": {"code": 900901, "message": "Invalid Credentials", "description": "Expired"}}"#,
                None,
                "Invalid Credentials: Expired",
            ),
            // `/ucl/v2` sends empty bodies (B7); anything else is shown as it came.
            ("", None, "an empty answer"),
            ("<html>Bad gateway</html>", None, "<html>Bad gateway</html>"),
        ] {
            let (c, r) = error_reply(body.as_bytes());
            assert_eq!((c.as_deref(), r.as_str()), (code, reply), "{body}");
        }
    }

    #[test]
    fn codes_a_user_can_cause_name_what_they_are_about() {
        let list = api_call(&["list", "l-0009"], "").param("fields", "Email;Nope");
        assert_eq!(
            message(
                400,
                r#"{"errorCode": 10004, "message": "Invalid or missing list"}"#,
                &list
            ),
            "Act-On reading `View`: HTTP 400: list `l-0009` does not exist or was deleted (Act-On error 10004: Invalid or missing list); `connector acton tables` lists the current ones"
        );
        assert_eq!(
            message(
                400,
                r#"{"errorCode": "10010", "message": "Invalid Column Specified: Nope"}"#,
                &list
            ),
            "Act-On reading `View`: HTTP 400: column `Nope` is not a column of list `l-0009` (Act-On error 10010: Invalid Column Specified: Nope); the list's columns are in `sys_tablecolumns`"
        );
        // Without the column in Act-On's words, the columns asked for are named.
        assert_eq!(
            message(
                400,
                r#"{"errorCode": "10010", "message": "Invalid Column Specified"}"#,
                &list
            ),
            "Act-On reading `View`: HTTP 400: one of the columns `Email`, `Nope` is not a column of list `l-0009` (Act-On error 10010: Invalid Column Specified); the list's columns are in `sys_tablecolumns`"
        );
        let report = api_call(&["message", "s-0009-2409", "report"], "");
        assert_eq!(
            message(
                400,
                r#"{"errorCode": 10030, "message": "Invalid or deleted message"}"#,
                &report
            ),
            "Act-On reading `View`: HTTP 400: message `s-0009-2409` does not exist or was deleted (Act-On error 10030: Invalid or deleted message); reports exist for SENT and TRIGGERED messages: SELECT Id FROM Messages WHERE Type = 'SENT'"
        );
        let period = api_call(&["message", "report"], "").param("period", "2413");
        assert_eq!(
            message(
                400,
                r#"{"errorCode": 10160, "message": "The date period is invalid."}"#,
                &period
            ),
            "Act-On reading `View`: HTTP 400: period `2413` is not a valid month (Act-On error 10160: The date period is invalid.); expected YYMM, e.g. '2409' for September 2024"
        );
        let job = api_call(&["list", "job-77", "status"], "");
        assert_eq!(
            message(
                400,
                r#"{"errorCode": 10017, "message": "Invalid or expired Job Id"}"#,
                &job
            ),
            "Act-On reading `View`: HTTP 400: upload job `job-77` is unknown or expired (Act-On error 10017: Invalid or expired Job Id); start the upload again and poll its status soon after"
        );
        let drill = api_call(&["message", "s-1", "report", "VIEWED"], "");
        assert_eq!(
            message(
                400,
                r#"{"errorCode": 10089, "message": "Invalid drill-down verb"}"#,
                &drill
            ),
            "Act-On reading `View`: HTTP 400: `VIEWED` is not a drill-down type (Act-On error 10089: Invalid drill-down verb); use SENT, SUPPRESSED, OPENED, CLICKED, BOUNCED, OPT_OUT or SPAM"
        );
        let record = api_call(&["list", "l-0001", "record", "l-0001:7"], "");
        assert_eq!(
            message(
                400,
                r#"{"errorCode": 10008, "message": "Invalid contact"}"#,
                &record
            ),
            "Act-On reading `View`: HTTP 400: record `l-0001:7` does not exist in list `l-0001` or was deleted (Act-On error 10008: Invalid contact); read current ids with `SELECT ContactId FROM List_<Name>`"
        );
        // A code without advice of its own keeps Act-On's words; the gateway's as they are.
        assert_eq!(
            message(
                400,
                r#"{"errorCode": 10054, "message": "The id is invalid"}"#,
                &record
            ),
            "Act-On reading `View`: HTTP 400: Act-On error 10054: The id is invalid"
        );
        assert_eq!(
            message(
                401,
                r#"{"httpCode":"401","httpMessage":"Unauthorized","moreInformation":""}"#,
                &record
            ),
            "Act-On reading `View`: HTTP 401: Unauthorized"
        );
    }

    #[test]
    fn not_found_codes_are_classified_as_not_found() {
        let e = api_error(
            "reading `View`",
            400,
            br#"{"errorCode": 10004, "message": "Invalid or missing list"}"#,
        );
        assert_eq!(
            (e.kind(), e.code()),
            (source_core::ErrorKind::NotFound, Some("10004"))
        );
        let e = api_error(
            "reading `View`",
            422,
            br#"{"errorCode": 10121, "message": "Missing parameter - name"}"#,
        );
        assert_eq!(e.kind(), source_core::ErrorKind::BadInput);
    }
}
