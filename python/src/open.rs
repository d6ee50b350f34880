//! Building SQL sessions from a validated connection: the same [`sql::Session`] calls as the
//! CLI, with errors kept typed for the PEP 249 mapping instead of turned into exit codes.

use source_plugin::Connection;

use crate::errors::DbError;

/// The registered source called `name` and a connection string, validated once (no network).
pub(crate) fn configure(name: &str, connection_string: &str) -> Result<Connection, DbError> {
    let source = sources::find(name).map_err(DbError::unknown_source)?;
    let cs = connstr::ConnectionString::parse(connection_string)?;
    Ok(source.configure(&cs)?)
}

/// A session with only the connection's procedures: `EXEC` runs here, so the OAuth
/// procedures work before there is any token.
pub(crate) fn procedure_session(connection: &Connection) -> Result<sql::Session, DbError> {
    let mut session = sql::Session::new();
    session.add_procedures(connection)?;
    Ok(session)
}

/// A session with the connection's tables (reads the table list: authenticates) and
/// procedures. `MaxRows` is left to the session, as in the CLI.
pub(crate) async fn data_session(connection: &Connection) -> Result<sql::Session, DbError> {
    let mut session = sql::Session::new();
    session.add_connection(connection).await?;
    Ok(session)
}
