//! `connector <source> login | status | logout | token`.

use connstr::validate::{self, HubDbAuthScheme};
use connstr::{ConnectionString, Source};

use crate::{Failure, SourceCommand, print_stdout};

/// Exit code for authentication failures (distinct from bad input, 2).
const AUTH_FAILED: u8 = 3;

enum Auth {
    OAuth(Box<auth_core::Authenticator>),
    /// A HubDB private app: a static token, nothing stored.
    PrivateApp(connstr::Secret),
}

pub(crate) fn run(
    source: Source,
    cs: &ConnectionString,
    command: &SourceCommand,
) -> Result<(), Failure> {
    let invalid = |e: validate::ValidationError| Failure::new(2, e.to_string());
    let auth_error = |e: auth_core::Error| Failure::new(AUTH_FAILED, e.to_string());
    let common = match source {
        Source::ActOn => validate::acton(cs).map(|c| c.common),
        Source::HubDb => validate::hubdb(cs).map(|c| c.common),
    }
    .map_err(invalid)?;
    if let Some(logfile) = &common.logfile {
        auth_core::logging::init(logfile, common.verbosity).map_err(auth_error)?;
    }
    let auth = match source {
        Source::ActOn => {
            let config = validate::acton(cs).map_err(invalid)?;
            Auth::OAuth(Box::new(
                source_acton::authenticator(&config).map_err(auth_error)?,
            ))
        }
        Source::HubDb => {
            let config = validate::hubdb(cs).map_err(invalid)?;
            match (config.auth_scheme, &config.private_app_token) {
                (HubDbAuthScheme::PrivateApp, Some(token)) => Auth::PrivateApp(token.clone()),
                _ => Auth::OAuth(Box::new(
                    auth_core::Authenticator::from_config(
                        source_hubdb::provider(&config),
                        &config.common,
                        auth_core::Grant::AuthorizationCode,
                    )
                    .map_err(auth_error)?,
                )),
            }
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(1, format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        tokio::select! {
            result = run_auth(source, auth, command) => result,
            _ = tokio::signal::ctrl_c() => Err(Failure::new(130, auth_core::Error::Cancelled.to_string())),
        }
    })
}

async fn run_auth(source: Source, auth: Auth, command: &SourceCommand) -> Result<(), Failure> {
    let auth_error = |e: auth_core::Error| Failure::new(AUTH_FAILED, e.to_string());
    {
        match (auth, command) {
            (Auth::PrivateApp(token), SourceCommand::Token) => print_stdout(token.expose()),
            (Auth::PrivateApp(_), _) => print_stdout(
                "AuthScheme=PrivateApp uses a static private app token: nothing is stored, refreshed or revoked",
            ),
            (Auth::OAuth(auth), SourceCommand::Login) => {
                let status = auth.login().await.map_err(auth_error)?;
                print_stdout(&format!("logged in to {source}\\n{}", describe(&status)))
            }
            (Auth::OAuth(auth), SourceCommand::Status) => {
                let status = auth.status().await.map_err(auth_error)?;
                print_stdout(&describe(&status))
            }
            (Auth::OAuth(auth), SourceCommand::Logout) => {
                let revoked = auth.logout().await.map_err(auth_error)?;
                print_stdout(&format!(
                    "stored tokens deleted{}",
                    if revoked {
                        "; refresh token revoked"
                    } else {
                        ""
                    }
                ))
            }
            (Auth::OAuth(auth), _) => {
                let token = auth_core::TokenProvider::access_token(auth.as_ref())
                    .await
                    .map_err(auth_error)?;
                print_stdout(token.expose())
            }
        }
    }
}

fn describe(status: &auth_core::TokenStatus) -> String {
    let when =
        |ms: Option<u64>| ms.map_or_else(|| "unknown".to_owned(), |ms| format!("{ms} (Unix ms)"));
    format!(
        "location:      {}\\naccess token:  {}\\nrefresh token: {}\\nscope:         {}\\nobtained at:   {}\\nexpires at:    {}\\nrevision:      {}",
        status.location.as_deref().unwrap_or("(not persisted)"),
        if status.has_access_token {
            "stored"
        } else {
            "none"
        },
        if status.has_refresh_token {
            "stored"
        } else {
            "none"
        },
        status.scope.as_deref().unwrap_or("-"),
        when(status.obtained_at_ms),
        when(status.expires_at_ms),
        status
            .revision
            .map_or_else(|| "-".to_owned(), |r| r.to_string()),
    )
}
