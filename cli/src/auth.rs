//! `connector <source> login | status | logout | token`.

use source_plugin::{Auth, Connection};

use crate::{Failure, SourceCommand, print_stdout};

/// Exit code for authentication failures (distinct from bad input, 2).
const AUTH_FAILED: u8 = 3;

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
            _ = tokio::signal::ctrl_c() => Err(Failure::new(130, auth_core::Error::Cancelled.to_string())),
        }
    })
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
            print_stdout(&format!("logged in to {source}\n{}", describe(&status)))
        }
        SourceCommand::Status => {
            let status = authenticator.status().await.map_err(|e| auth_error(&e))?;
            print_stdout(&describe(&status))
        }
        SourceCommand::Logout => {
            let revoked = authenticator.logout().await.map_err(|e| auth_error(&e))?;
            print_stdout(&format!(
                "stored tokens deleted{}",
                if revoked.revocation.is_revoked() {
                    "; refresh token revoked"
                } else {
                    ""
                }
            ))
        }
        _ => {
            let token = auth_core::TokenProvider::access_token(&authenticator)
                .await
                .map_err(|e| auth_error(&e))?;
            print_stdout(token.expose())
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
