//! `connector <source> login | status | logout | token`.
//!
//! # What `login` and `status` show
//! One field per line, labels aligned; times as local date-time with the UTC offset and how far
//! they are from now: `expires at:    2026-12-04 21:44:05 +01:00 (in 25 min)`. Tokens are only
//! ever shown as `stored` or `none`.
//!
//! Two hidden environment variables fix the clock of this formatting, for tests only (token
//! decisions never read them): `CONNECTOR_NOW_MS` (Unix milliseconds taken as "now") and
//! `CONNECTOR_UTC_OFFSET` (`UTC`, `Z` or `±HH:MM`, used instead of the system's local offset).
//!
//! # What `logout` reports, and its exit code
//! Both sides, plainly: the local store (`stored tokens deleted from …` / `no stored tokens at …`)
//! on stdout, then the provider's side. A confirmed revocation, no refresh token to revoke, and a
//! provider with no known revocation endpoint (Act-On: nothing more can be done from here, so the
//! advice goes to stdout) exit 0. A revocation that was tried and failed exits with
//! [`AUTH_FAILED`] (3) and says on stderr that the refresh token still works at the provider; the
//! stored tokens are deleted all the same (`Authenticator::logout` deletes them whatever the
//! provider answers), so running `logout` again only reports that nothing is stored.
//!
//! # Ctrl-C
//! A token refresh runs in a task of its own that outlives the cancelled command (Act-On refresh
//! tokens are single-use: the rotated one must be saved). After Ctrl-C, [`finish_pending_refreshes`]
//! lets such a refresh finish and save before the runtime is dropped; a second Ctrl-C aborts.

use std::time::Duration;

use auth_core::time::TimeSource;
use chrono::{FixedOffset, Offset, TimeZone};
use source_plugin::{Auth, Connection};

use crate::{Failure, SourceCommand, print_stdout};

/// Whether the program ends after a Ctrl-C, or goes on (the shell's next prompt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stopping {
    /// The command ends: no new token request may start.
    Exit,
    /// Only the statement ends.
    Statement,
}

/// Exit code for authentication failures (distinct from bad input, 2).
const AUTH_FAILED: u8 = 3;

/// How long a program stopped by Ctrl-C waits for a token refresh already under way: the longest
/// single token request (auth-core caps it at 60 s) plus time to save.
const REFRESH_SETTLE_TIMEOUT: Duration = Duration::from_secs(65);

pub(crate) fn run(connection: &Connection, command: &SourceCommand) -> Result<(), Failure> {
    let failed = |e: &dyn std::fmt::Display| Failure::new(AUTH_FAILED, e.to_string());
    let common = connection.common();
    if let Some(logfile) = &common.logfile {
        crate::logging::init(logfile, common.verbosity).map_err(|e| Failure::new(2, e))?;
    }
    let auth = connection.auth().map_err(|e| failed(&e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    let name = connection.info().display_name;
    runtime.block_on(async {
        tokio::select! {
            result = run_auth(name, auth, command) => result,
            _ = tokio::signal::ctrl_c() => {
                finish_pending_refreshes(Stopping::Exit).await;
                Err(Failure::new(130, auth_core::Error::Cancelled.to_string()))
            }
        }
    })
}

/// After Ctrl-C cancelled a command: waits (inside the command's runtime) for a token refresh
/// that is still running in its own task to finish and save the rotated tokens. Prints nothing
/// when none is running; a second Ctrl-C stops the wait.
pub(crate) async fn finish_pending_refreshes(stopping: Stopping) {
    if stopping == Stopping::Exit {
        // Nothing new starts now (a refresh begun after Ctrl-C could be cut off by the exit).
        auth_core::stop_new_token_requests();
    }
    if !auth_core::token_requests_pending() {
        return;
    }
    eprintln!("waiting for a token refresh to finish saving (Ctrl-C again to abort)");
    let lost = "if it had reached the provider, the new refresh token is lost: log in again if the next command asks for it";
    tokio::select! {
        settled = auth_core::wait_for_pending_refreshes(REFRESH_SETTLE_TIMEOUT) => {
            if !settled {
                eprintln!(
                    "the token refresh did not finish within {} s; {lost}",
                    REFRESH_SETTLE_TIMEOUT.as_secs()
                );
            }
        }
        _ = tokio::signal::ctrl_c() => eprintln!("stopped waiting for the token refresh; {lost}"),
    }
}

async fn run_auth(source: &str, auth: Auth, command: &SourceCommand) -> Result<(), Failure> {
    let auth_error = |e: &dyn std::fmt::Display| Failure::new(AUTH_FAILED, e.to_string());
    let authenticator = match auth {
        Auth::Static { provider, .. } if matches!(command, SourceCommand::Token) => {
            let token = auth_core::TokenProvider::access_token(&provider)
                .await
                .map_err(|e| auth_error(&e))?;
            return print_stdout(token.expose());
        }
        Auth::Static { note, .. } => return print_stdout(note),
        Auth::None => {
            return print_stdout(&format!(
                "{source} needs no authentication: nothing is stored, refreshed or revoked"
            ));
        }
        auth @ Auth::OAuth { .. } => auth
            .authenticator()
            .map_err(|e| auth_error(&e))?
            .ok_or_else(|| Failure::new(1, "no authenticator for an OAuth connection"))?,
    };
    match command {
        SourceCommand::Login => {
            let status = authenticator.login().await.map_err(|e| auth_error(&e))?;
            // Read after the login: the token was obtained before "now".
            let clock = Clock::from_env()?;
            print_stdout(&format!(
                "logged in to {source}\n{}",
                describe(&status, &clock, None)
            ))
        }
        SourceCommand::Status { check } => {
            let clock = Clock::from_env()?;
            let status = authenticator.status().await.map_err(|e| auth_error(&e))?;
            if !check {
                return print_stdout(&describe(&status, &clock, None));
            }
            let answer = authenticator
                .introspect()
                .await
                .map_err(|e| auth_error(&e))?;
            let (shown, failure) = describe_check(&answer, source);
            print_stdout(&describe(&status, &clock, Some(shown)))?;
            failure.map_or(Ok(()), |message| Err(Failure::new(AUTH_FAILED, message)))
        }
        SourceCommand::Logout => {
            let provider = authenticator.token_client().provider().name.clone();
            let report = authenticator.logout().await.map_err(|e| auth_error(&e))?;
            let (shown, failure) = describe_logout(&report, &provider);
            print_stdout(&shown)?;
            failure.map_or(Ok(()), |message| Err(Failure::new(AUTH_FAILED, message)))
        }
        _ => {
            let token = auth_core::TokenProvider::access_token(&authenticator)
                .await
                .map_err(|e| auth_error(&e))?;
            print_stdout(token.expose())
        }
    }
}

/// What `logout` prints on stdout, and the failure (for stderr and exit code 3) when the
/// provider was asked to revoke the refresh token and did not confirm it.
fn describe_logout(report: &auth_core::LogoutReport, provider: &str) -> (String, Option<String>) {
    use auth_core::Revocation;
    let local = match (&report.location, report.deleted) {
        (Some(location), true) => format!("stored tokens deleted from {location}"),
        (Some(location), false) => format!("no stored tokens at {location}"),
        (None, _) => "no token store for this connection: nothing to delete".to_owned(),
    };
    let (remote, failure) = match &report.revocation {
        Revocation::Revoked { url } => (Some(format!("refresh token revoked at {url}")), None),
        Revocation::Failed { url, reason } => {
            let what = if reason.starts_with("HTTP ") {
                format!("{url} answered {reason}")
            } else if reason.contains(url.as_str()) {
                reason.clone()
            } else {
                format!("{url}: {reason}")
            };
            (
                None,
                Some(format!(
                    "refresh token NOT revoked: {what}; it stays valid at {provider} until it expires or you remove the app's access in {provider}'s settings"
                )),
            )
        }
        Revocation::NoEndpoint => (
            Some(format!(
                "refresh token not revoked: no revocation endpoint is known for {provider}; set OAuthRevocationURL, or remove the app's access in {provider}'s settings"
            )),
            None,
        ),
        Revocation::NoRefreshToken => (Some("no refresh token to revoke".to_owned()), None),
    };
    let shown = match remote {
        Some(remote) => format!("{local}\n{remote}"),
        None => local,
    };
    (shown, failure)
}

/// The clock `login` and `status` show times against.
#[derive(Debug, Clone, Copy)]
struct Clock {
    now_ms: u64,
    /// `CONNECTOR_UTC_OFFSET`; else the system's local offset at each instant shown.
    offset: Option<FixedOffset>,
}

impl Clock {
    /// The system clock and local offset, unless the test variables say otherwise.
    fn from_env() -> Result<Self, Failure> {
        let now_ms = match std::env::var("CONNECTOR_NOW_MS") {
            Ok(text) => text.trim().parse::<u64>().map_err(|_| {
                Failure::new(
                    2,
                    format!("CONNECTOR_NOW_MS={text:?}: expected Unix milliseconds"),
                )
            })?,
            Err(_) => auth_core::time::SystemTimeSource.now_ms(),
        };
        let offset = match std::env::var("CONNECTOR_UTC_OFFSET") {
            Ok(text) => Some(parse_offset(&text).ok_or_else(|| {
                Failure::new(
                    2,
                    format!("CONNECTOR_UTC_OFFSET={text:?}: expected UTC, Z or ±HH:MM"),
                )
            })?),
            Err(_) => None,
        };
        Ok(Self { now_ms, offset })
    }

    /// The offset to show the instant `at_ms` with (local time follows daylight saving).
    fn offset_at(&self, at_ms: u64) -> FixedOffset {
        self.offset.unwrap_or_else(|| {
            i64::try_from(at_ms)
                .ok()
                .and_then(|ms| chrono::Local.timestamp_millis_opt(ms).single())
                .map_or(chrono::Utc.fix(), |t| t.offset().fix())
        })
    }
}

/// `UTC`, `Z`, `+HH:MM`, `-HH:MM` or `±HH`.
fn parse_offset(text: &str) -> Option<FixedOffset> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("utc") || text.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match (text.strip_prefix('+'), text.strip_prefix('-')) {
        (Some(rest), _) => (1, rest),
        (_, Some(rest)) => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let (hours, minutes) = (hours.parse::<i32>().ok()?, minutes.parse::<i32>().ok()?);
    if !(0..24).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// Which instant is shown: the relative part reads differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Moment {
    /// When the token was obtained: `(12 min ago)`.
    Obtained,
    /// When it expires: `(in 25 min)` or `(expired 3 h 10 min ago)`.
    Expires,
}

/// `then_ms` as local date-time with its offset, and how far it is from `now_ms`:
/// `2026-12-04 21:44:05 +01:00 (in 25 min)`. A pure function of its arguments.
pub(crate) fn when(now_ms: u64, then_ms: u64, offset: FixedOffset, moment: Moment) -> String {
    let shown = i64::try_from(then_ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| {
            t.with_timezone(&offset)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        });
    let Some(shown) = shown else {
        return format!("{then_ms} (Unix ms)");
    };
    let relative = match (moment, then_ms > now_ms) {
        (_, true) => format!("in {}", span(then_ms - now_ms)),
        (Moment::Obtained, false) => format!("{} ago", span(now_ms - then_ms)),
        (Moment::Expires, false) => format!("expired {} ago", span(now_ms - then_ms)),
    };
    format!("{shown} ({relative})")
}

/// A duration for people: to the nearest second, then rounded down to seconds under a minute
/// (`40 s`), minutes under an hour (`25 min`), hours and minutes under a day (`3 h 10 min`,
/// `1 h`), days beyond (`1 day`, `12 days`). A 1-hour token read 0.2 s after it was obtained
/// expires `in 1 h`, not `in 59 min`.
pub(crate) fn span(ms: u64) -> String {
    let secs = ms.saturating_add(500) / 1000;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86_400 => match (secs / 3600, secs % 3600 / 60) {
            (hours, 0) => format!("{hours} h"),
            (hours, minutes) => format!("{hours} h {minutes} min"),
        },
        _ => match secs / 86_400 {
            1 => "1 day".to_owned(),
            days => format!("{days} days"),
        },
    }
}

/// The `server check` line of `status --check`, and the failure when the token is not usable.
fn describe_check(answer: &auth_core::Introspection, source: &str) -> (String, Option<String>) {
    use auth_core::Introspection as I;
    match answer {
        I::Active {
            expires_in_s,
            scopes,
        } => {
            let left = expires_in_s.map_or_else(String::new, |s| {
                format!(", expires in {}", span(s.saturating_mul(1000)))
            });
            let scopes = if scopes.is_empty() {
                String::new()
            } else {
                format!(", scopes {}", scopes.join(" "))
            };
            (format!("active{left}{scopes}"), None)
        }
        I::Inactive => (
            "inactive".to_owned(),
            Some(format!(
                "the provider says the access token is not active (expired or revoked): run `connector {} token` to refresh it, or `login`",
                source.to_lowercase()
            )),
        ),
        I::Failed { url, reason } => (
            "failed".to_owned(),
            Some(format!("cannot check the access token at {url}: {reason}")),
        ),
        I::NoEndpoint => (
            "not available (the provider has no introspection endpoint)".to_owned(),
            None,
        ),
        I::NoAccessToken => (
            "no access token to check".to_owned(),
            Some(format!(
                "no access token is stored: run `connector {} login`",
                source.to_lowercase()
            )),
        ),
    }
}

/// One aligned field per line; `check` is the `server check` line of `status --check`.
fn describe(status: &auth_core::TokenStatus, clock: &Clock, check: Option<String>) -> String {
    let stored = |yes: bool| if yes { "stored" } else { "none" }.to_owned();
    let time = |ms: Option<u64>, moment| {
        ms.map_or_else(
            || "unknown".to_owned(),
            |ms| when(clock.now_ms, ms, clock.offset_at(ms), moment),
        )
    };
    let rows = [
        (
            "location",
            status
                .location
                .clone()
                .unwrap_or_else(|| "(not persisted)".to_owned()),
        ),
        ("access token", stored(status.has_access_token)),
        ("refresh token", stored(status.has_refresh_token)),
        (
            "scope",
            status.scope.clone().unwrap_or_else(|| "-".to_owned()),
        ),
        ("obtained at", time(status.obtained_at_ms, Moment::Obtained)),
        ("expires at", time(status.expires_at_ms, Moment::Expires)),
        (
            "revision",
            status
                .revision
                .map_or_else(|| "-".to_owned(), |r| r.to_string()),
        ),
    ];
    let rows: Vec<(&str, String)> = rows
        .into_iter()
        .chain(check.map(|c| ("server check", c)))
        .collect();
    let width = rows
        .iter()
        .map(|(label, _)| label.len() + 1)
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(label, value)| format!("{:<width$} {value}", format!("{label}:")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;

    #[test]
    fn span_boundaries() {
        for (ms, shown) in [
            (0, "0 s"),
            (499, "0 s"),
            (500, "1 s"),
            (40_000, "40 s"),
            (59_000, "59 s"),
            (59_499, "59 s"),
            (59_500, "1 min"),
            (60_000, "1 min"),
            (119_000, "1 min"),
            (59 * MIN, "59 min"),
            (59 * MIN + 59_000, "59 min"),
            (HOUR - 400, "1 h"),
            (HOUR, "1 h"),
            (HOUR + 59_000, "1 h"),
            (HOUR + MIN, "1 h 1 min"),
            (3 * HOUR + 10 * MIN, "3 h 10 min"),
            (23 * HOUR + 59 * MIN, "23 h 59 min"),
            (23 * HOUR + 59 * MIN + 59_000, "23 h 59 min"),
            (DAY, "1 day"),
            (2 * DAY - MIN, "1 day"),
            (2 * DAY, "2 days"),
            (400 * DAY, "400 days"),
        ] {
            assert_eq!(span(ms), shown, "{ms} ms");
        }
    }

    #[test]
    fn when_future_and_past_over_the_boundaries() {
        let utc = FixedOffset::east_opt(0).unwrap();
        // 2026-12-04 20:14:05 UTC
        let now = 1_796_415_245_000;
        let at = |then: u64, moment| when(now, then, utc, moment);
        assert_eq!(
            at(now + 59_000, Moment::Expires),
            "2026-12-04 20:15:04 +00:00 (in 59 s)"
        );
        assert_eq!(
            at(now + 60_000, Moment::Expires),
            "2026-12-04 20:15:05 +00:00 (in 1 min)"
        );
        assert_eq!(
            at(now + 59 * MIN, Moment::Expires),
            "2026-12-04 21:13:05 +00:00 (in 59 min)"
        );
        assert_eq!(
            at(now + HOUR, Moment::Expires),
            "2026-12-04 21:14:05 +00:00 (in 1 h)"
        );
        assert_eq!(
            at(now + 23 * HOUR + 59 * MIN, Moment::Expires),
            "2026-12-05 20:13:05 +00:00 (in 23 h 59 min)"
        );
        assert_eq!(
            at(now + DAY, Moment::Expires),
            "2026-12-05 20:14:05 +00:00 (in 1 day)"
        );
        assert_eq!(
            at(now - 59_000, Moment::Expires),
            "2026-12-04 20:13:06 +00:00 (expired 59 s ago)"
        );
        assert_eq!(
            at(now - 60_000, Moment::Obtained),
            "2026-12-04 20:13:05 +00:00 (1 min ago)"
        );
        assert_eq!(
            at(now - 59 * MIN, Moment::Obtained),
            "2026-12-04 19:15:05 +00:00 (59 min ago)"
        );
        assert_eq!(
            at(now - 3 * HOUR - 10 * MIN, Moment::Expires),
            "2026-12-04 17:04:05 +00:00 (expired 3 h 10 min ago)"
        );
        assert_eq!(
            at(now - 23 * HOUR - 59 * MIN, Moment::Obtained),
            "2026-12-03 20:15:05 +00:00 (23 h 59 min ago)"
        );
        assert_eq!(
            at(now - 3 * DAY, Moment::Obtained),
            "2026-12-01 20:14:05 +00:00 (3 days ago)"
        );
        // The very moment of expiry counts as expired; "obtained now" is 0 s ago.
        assert_eq!(
            at(now, Moment::Expires),
            "2026-12-04 20:14:05 +00:00 (expired 0 s ago)"
        );
        assert_eq!(
            at(now, Moment::Obtained),
            "2026-12-04 20:14:05 +00:00 (0 s ago)"
        );
    }

    #[test]
    fn when_shows_the_given_offset() {
        let plus_one = parse_offset("+01:00").unwrap();
        let now = 1_796_415_245_000;
        assert_eq!(
            when(now, now + 30 * MIN, plus_one, Moment::Expires),
            "2026-12-04 21:44:05 +01:00 (in 30 min)"
        );
        let minus = parse_offset("-05:30").unwrap();
        assert_eq!(
            when(now, now - 12 * MIN, minus, Moment::Obtained),
            "2026-12-04 14:32:05 -05:30 (12 min ago)"
        );
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("UTC").unwrap().local_minus_utc(), 0);
        assert_eq!(parse_offset("Z").unwrap().local_minus_utc(), 0);
        assert_eq!(parse_offset("+02").unwrap().local_minus_utc(), 7200);
        assert_eq!(parse_offset("-00:30").unwrap().local_minus_utc(), -1800);
        for bad in ["", "01:00", "+24:00", "+01:60", "+0100", "local"] {
            assert!(parse_offset(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn status_is_one_aligned_field_per_line() {
        let clock = Clock {
            now_ms: 1_796_415_245_000,
            offset: parse_offset("+01:00"),
        };
        let status = auth_core::TokenStatus {
            location: Some("/tmp/OAuthSettings.txt".to_owned()),
            has_access_token: true,
            has_refresh_token: false,
            scope: Some("PRODUCTION".to_owned()),
            obtained_at_ms: Some(clock.now_ms - 12 * MIN),
            expires_at_ms: None,
            revision: Some(3),
        };
        assert_eq!(
            describe(&status, &clock, None),
            "location:      /tmp/OAuthSettings.txt\n\
             access token:  stored\n\
             refresh token: none\n\
             scope:         PRODUCTION\n\
             obtained at:   2026-12-04 21:02:05 +01:00 (12 min ago)\n\
             expires at:    unknown\n\
             revision:      3"
        );
    }

    #[test]
    fn logout_reports_both_sides() {
        use auth_core::{LogoutReport, Revocation};
        let report = |deleted, revocation| LogoutReport {
            location: Some("/tmp/s.txt".to_owned()),
            deleted,
            revocation,
        };
        let url = "https://api.hubapi.com/oauth/2026-03/token/revoke".to_owned();
        assert_eq!(
            describe_logout(
                &report(true, Revocation::Revoked { url: url.clone() }),
                "HubSpot"
            ),
            (
                format!("stored tokens deleted from /tmp/s.txt\nrefresh token revoked at {url}"),
                None
            )
        );
        assert_eq!(
            describe_logout(
                &report(
                    true,
                    Revocation::Failed {
                        url: url.clone(),
                        reason: "HTTP 404".to_owned()
                    }
                ),
                "HubSpot"
            ),
            (
                "stored tokens deleted from /tmp/s.txt".to_owned(),
                Some(format!(
                    "refresh token NOT revoked: {url} answered HTTP 404; it stays valid at HubSpot until it expires or you remove the app's access in HubSpot's settings"
                ))
            )
        );
        let (_, failure) = describe_logout(
            &report(
                true,
                Revocation::Failed {
                    url: url.clone(),
                    reason: format!("cannot reach {url}: connection failed"),
                },
            ),
            "HubSpot",
        );
        assert!(failure.unwrap().starts_with(&format!(
            "refresh token NOT revoked: cannot reach {url}: connection failed; it stays valid"
        )),);
        assert_eq!(
            describe_logout(&report(true, Revocation::NoEndpoint), "Act-On"),
            (
                "stored tokens deleted from /tmp/s.txt\nrefresh token not revoked: no revocation endpoint is known for Act-On; set OAuthRevocationURL, or remove the app's access in Act-On's settings".to_owned(),
                None
            )
        );
        assert_eq!(
            describe_logout(&report(false, Revocation::NoRefreshToken), "Act-On"),
            (
                "no stored tokens at /tmp/s.txt\nno refresh token to revoke".to_owned(),
                None
            )
        );
    }
}
