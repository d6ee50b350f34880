//! The Flight SQL service: authentication, statements, prepared statements, metadata and the
//! health action, over the shared accounts.
//!
//! A statement runs when the client asks for its `FlightInfo` (so the schema and, for DML, the
//! row count are known); the result waits in the [`Store`] under a random handle that the
//! ticket carries, and `DoGet` streams it batch by batch as the client reads. A client that
//! goes away drops the stream, which drops the scan.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::SqlInfoData;
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetPrimaryKeys, CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables,
    CommandPreparedStatementQuery, CommandPreparedStatementUpdate, CommandStatementQuery,
    CommandStatementUpdate, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo,
    TicketStatementQuery,
};
use arrow_flight::{
    Action, ActionType, FlightDescriptor, FlightEndpoint, FlightInfo, HandshakeRequest,
    HandshakeResponse, IpcMessage, SchemaAsIpc, Ticket,
};
use arrow_schema::{Schema, SchemaRef};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use futures::{Stream, StreamExt, TryStreamExt};
use prost::Message;
use source_core::{ErrorKind, Value};
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status, Streaming};
use tracing::{info, warn};

use crate::accounts::Accounts;
use crate::metadata;
use crate::store::Store;
use crate::users::{Principal, Users, Visibility};

/// The custom Flight action that reports the gateway's state (no credentials needed).
pub const HEALTH_ACTION: &str = "health";

/// What a client without credentials is told.
pub const NO_CREDENTIALS: &str =
    "authentication required: connect with a username and password, or a bearer token";
/// What a client with a wrong password is told (which of the two was wrong is not said).
pub const BAD_PASSWORD: &str = "invalid username or password";
/// What a client with an unknown or expired token is told.
pub const BAD_TOKEN: &str = "invalid or expired bearer token; authenticate again";

type DoGetStream = <Service as FlightService>::DoGetStream;
type HandshakeStream = Pin<Box<dyn Stream<Item = Result<HandshakeResponse, Status>> + Send>>;

pub(crate) struct Service {
    accounts: Arc<Accounts>,
    users: Arc<Users>,
    anonymous: bool,
    store: Store,
    sql_info: SqlInfoData,
    started: Instant,
}

impl Service {
    pub(crate) fn new(
        accounts: Arc<Accounts>,
        users: Arc<Users>,
        anonymous: bool,
    ) -> Result<Self, crate::Error> {
        Ok(Self {
            accounts,
            users,
            anonymous,
            store: Store::default(),
            sql_info: metadata::sql_info().map_err(|e| crate::Error::Serve(e.to_string()))?,
            started: Instant::now(),
        })
    }

    /// Who is calling: a bearer token, basic credentials, or anonymous when allowed.
    fn principal<T>(&self, request: &Request<T>) -> Result<Principal, Status> {
        let Some(header) = request.metadata().get("authorization") else {
            return if self.anonymous {
                Ok(Principal {
                    name: "anonymous".to_owned(),
                    visibility: Visibility::All,
                })
            } else {
                Err(Status::unauthenticated(NO_CREDENTIALS))
            };
        };
        let header = header
            .to_str()
            .map_err(|_| Status::unauthenticated("the authorization header is not text"))?;
        if let Some(token) = strip_scheme(header, "Bearer") {
            return self
                .users
                .check_token(token)
                .ok_or_else(|| Status::unauthenticated(BAD_TOKEN));
        }
        if let Some(encoded) = strip_scheme(header, "Basic") {
            let (user, password) = decode_basic(encoded)?;
            return self.users.check_password(&user, &password).ok_or_else(|| {
                warn!(user = %user, "authentication refused");
                Status::unauthenticated(BAD_PASSWORD)
            });
        }
        Err(Status::unauthenticated(
            "unsupported authorization scheme: use Basic or Bearer",
        ))
    }

    async fn session(&self, who: &Principal) -> Result<Arc<sql::Session>, Status> {
        self.accounts
            .session(&who.visibility)
            .await
            .map_err(sql_status)
    }

    /// Runs one statement for `who` with `params` bound.
    async fn execute(
        &self,
        who: &Principal,
        statement: &str,
        params: &[Value],
    ) -> Result<sql::QueryResult, Status> {
        let session = self.session(who).await?;
        info!(
            user = %who.name,
            statement = %first_word(statement),
            parameters = params.len(),
            "statement"
        );
        session.execute(statement, params).await.map_err(|e| {
            warn!(user = %who.name, error = %e, "statement failed");
            sql_status(e)
        })
    }

    /// What a prepared statement advertises: its result and parameter schemas, planned
    /// without running it. Unknown names and syntax errors fail the prepare, as they would
    /// fail the statement. A DataFusion planning error leaves the schemas unknown (`None`):
    /// planning may hinge on the types of the values bound later, so the statement gets its
    /// verdict when it runs.
    async fn describe(
        &self,
        who: &Principal,
        statement: &str,
    ) -> Result<Option<sql::StatementSchema>, Status> {
        let session = self.session(who).await?;
        match session.statement_schema(statement).await {
            Ok(schemas) => Ok(Some(schemas)),
            Err(sql::Error::Engine(e)) => {
                info!(user = %who.name, error = %e, "prepare: schemas left unknown");
                Ok(None)
            }
            Err(e) => {
                warn!(user = %who.name, error = %e, "prepare failed");
                Err(sql_status(e))
            }
        }
    }

    /// Runs a prepared statement once per bound parameter row (once without parameters when
    /// none are bound). Several rows must all be writes: their counts add up.
    async fn execute_rows(
        &self,
        who: &Principal,
        statement: &str,
        rows: &[Vec<Value>],
    ) -> Result<sql::QueryResult, Status> {
        if rows.len() <= 1 {
            let params = rows.first().map(Vec::as_slice).unwrap_or_default();
            return self.execute(who, statement, params).await;
        }
        let mut total = 0;
        for params in rows {
            match self.execute(who, statement, params).await? {
                sql::QueryResult::Affected(n) => total += n,
                sql::QueryResult::Rows(_) => {
                    return Err(Status::invalid_argument(format!(
                        "a query takes one row of parameters, and {} were bound; bind one row, or use the rows for INSERT, UPDATE or DELETE",
                        rows.len()
                    )));
                }
            }
        }
        Ok(sql::QueryResult::Affected(total))
    }

    /// The `FlightInfo` of a result that waits in the store for its `DoGet`.
    fn park(
        &self,
        who: &Principal,
        result: sql::QueryResult,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let (schema, records): (SchemaRef, i64) = match &result {
            sql::QueryResult::Rows(rows) => (rows.schema(), -1),
            sql::QueryResult::Affected(n) => (
                Arc::new(Schema::empty()),
                i64::try_from(*n).unwrap_or(i64::MAX),
            ),
        };
        let handle = self
            .store
            .park(&who.name, result)
            .map_err(|e| Status::internal(e.to_string()))?;
        let ticket = TicketStatementQuery {
            statement_handle: handle.into_bytes().into(),
        };
        let info = FlightInfo::new()
            .try_with_schema(&schema)
            .map_err(|e| Status::internal(format!("cannot encode the result schema: {e}")))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(encode(&ticket))))
            .with_descriptor(descriptor)
            .with_total_records(records)
            .with_ordered(true);
        Ok(Response::new(info))
    }

    /// The parameter rows a client sent in a `DoPut`.
    async fn read_parameters(
        &self,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<Vec<Vec<Value>>, Status> {
        let data = request
            .into_inner()
            .map_err(|status| FlightError::Tonic(Box::new(status)));
        let batches: Vec<RecordBatch> = FlightRecordBatchStream::new_from_flight_data(data)
            .try_collect()
            .await
            .map_err(Status::from)?;
        let mut rows = Vec::new();
        for batch in &batches {
            rows.extend(crate::params::parameter_rows(batch).map_err(Status::invalid_argument)?);
        }
        Ok(rows)
    }

    fn prepared(
        &self,
        who: &Principal,
        handle: &[u8],
    ) -> Result<(String, crate::store::Prepared), Status> {
        let handle = String::from_utf8_lossy(handle).into_owned();
        let prepared = self.store.prepared(&who.name, &handle).ok_or_else(|| {
            Status::not_found(
                "no such prepared statement: it was closed, or belongs to another user",
            )
        })?;
        Ok((handle, prepared))
    }

    /// A metadata answer's `FlightInfo`: the command itself is the ticket.
    fn metadata_info(
        &self,
        command: &impl ProstMessageExt,
        schema: &Schema,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let info = FlightInfo::new()
            .try_with_schema(schema)
            .map_err(|e| Status::internal(format!("cannot encode the schema: {e}")))?
            .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(encode(command))))
            .with_descriptor(descriptor);
        Ok(Response::new(info))
    }

    fn health(&self) -> serde_json_like::Health {
        serde_json_like::Health {
            connections: self.accounts.names().len(),
            uptime_s: self.started.elapsed().as_secs(),
        }
    }
}

/// The health answer, written by hand to keep serde_json out of the gateway's dependencies.
mod serde_json_like {
    pub(super) struct Health {
        pub(super) connections: usize,
        pub(super) uptime_s: u64,
    }

    impl std::fmt::Display for Health {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                f,
                "{{\"status\":\"serving\",\"connections\":{},\"uptime_s\":{}}}",
                self.connections, self.uptime_s
            )
        }
    }
}

/// `schema` as an IPC-encapsulated Schema message, as prepared statements carry it.
fn ipc_schema(schema: &Schema) -> Result<prost::bytes::Bytes, Status> {
    // The default write options, inferred: arrow-ipc is not a direct dependency.
    let IpcMessage(bytes) = SchemaAsIpc::new(schema, &Default::default())
        .try_into()
        .map_err(|e: arrow_schema::ArrowError| {
            Status::internal(format!("cannot encode the schema: {e}"))
        })?;
    Ok(bytes)
}

fn encode(message: &impl ProstMessageExt) -> Vec<u8> {
    message.as_any().encode_to_vec()
}

/// `header` without its `scheme ` prefix (the scheme matched ignoring case).
fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

fn decode_basic(encoded: &str) -> Result<(String, String), Status> {
    let bad = || Status::unauthenticated("malformed basic credentials");
    // Padding is optional: the Go ADBC driver sends none.
    let bytes = STANDARD_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (user, password) = text.split_once(':').ok_or_else(bad)?;
    Ok((user.to_owned(), password.to_owned()))
}

/// The statement's first word, for logs: never its text, whose literals may be secrets.
fn first_word(statement: &str) -> String {
    statement
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .chars()
        .take(16)
        .collect::<String>()
        .to_uppercase()
}

/// The gRPC status of a SQL error; its message is already free of secrets.
fn sql_status(error: sql::Error) -> Status {
    let message = error.to_string();
    match &error {
        sql::Error::UnknownTable { .. }
        | sql::Error::UnknownColumn { .. }
        | sql::Error::UnknownProcedure { .. } => Status::not_found(message),
        sql::Error::Syntax(_)
        | sql::Error::Unsupported(_)
        | sql::Error::ParameterCount { .. }
        | sql::Error::NotWritable { .. }
        | sql::Error::Engine(_) => Status::invalid_argument(message),
        sql::Error::PartialWrite { .. } => Status::aborted(message),
        sql::Error::Source(e) => match e.kind() {
            ErrorKind::NotFound => Status::not_found(message),
            ErrorKind::InvalidQuery | ErrorKind::BadInput => Status::invalid_argument(message),
            ErrorKind::RateLimited => Status::resource_exhausted(message),
            ErrorKind::Unavailable => Status::unavailable(message),
            ErrorKind::Auth | ErrorKind::Config => Status::failed_precondition(message),
            ErrorKind::Conflict => Status::aborted(message),
            ErrorKind::Unsupported => Status::unimplemented(message),
            _ => Status::internal(message),
        },
        _ => Status::internal(message),
    }
}

/// One batch as a `DoGet` stream.
fn batch_stream(batch: RecordBatch) -> DoGetStream {
    let schema = batch.schema();
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(futures::stream::once(async { Ok(batch) }))
        .map_err(Status::from);
    Box::pin(stream)
}

/// A parked result as a `DoGet` stream, logged when it ends or the client goes away.
fn result_stream(user: String, result: sql::QueryResult) -> DoGetStream {
    let rows = match result {
        sql::QueryResult::Rows(rows) => rows,
        sql::QueryResult::Affected(_) => {
            return batch_stream(RecordBatch::new_empty(Arc::new(Schema::empty())));
        }
    };
    let schema = rows.schema();
    let batches = Logged {
        inner: rows,
        log: StreamLog::new(user),
    }
    .map_err(|e| FlightError::Tonic(Box::new(sql_status(e))));
    let stream = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(batches)
        .map_err(Status::from);
    Box::pin(stream)
}

/// A result stream that records what went out, for the log line when it is dropped.
struct Logged {
    inner: sql::RowStream,
    log: StreamLog,
}

impl Stream for Logged {
    type Item = sql::Result<RecordBatch>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let polled = self.inner.poll_next_unpin(cx);
        match &polled {
            std::task::Poll::Ready(Some(Ok(batch))) => self.log.rows += batch.num_rows(),
            std::task::Poll::Ready(Some(Err(_))) => self.log.outcome = "failed",
            std::task::Poll::Ready(None) => self.log.outcome = "complete",
            std::task::Poll::Pending => {}
        }
        polled
    }
}

/// Logs a result stream's end: how many rows went out, and whether the client read it all
/// (`cancelled` when it went away first: the scan stopped with it).
struct StreamLog {
    user: String,
    rows: usize,
    started: Instant,
    outcome: &'static str,
}

impl StreamLog {
    fn new(user: String) -> Self {
        Self {
            user,
            rows: 0,
            started: Instant::now(),
            outcome: "cancelled",
        }
    }
}

impl Drop for StreamLog {
    fn drop(&mut self) {
        info!(
            user = %self.user,
            rows = self.rows,
            elapsed_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            outcome = self.outcome,
            "result stream closed"
        );
    }
}

#[tonic::async_trait]
impl FlightSqlService for Service {
    type FlightService = Service;

    async fn do_handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<HandshakeStream>, Status> {
        if self.anonymous && request.metadata().get("authorization").is_none() {
            let empty = HandshakeResponse::default();
            return Ok(Response::new(Box::pin(futures::stream::iter(vec![Ok(
                empty,
            )]))));
        }
        let who = self.principal(&request)?;
        let token = self
            .users
            .issue_session(&who.name)
            .map_err(|e| Status::internal(e.to_string()))?;
        info!(user = %who.name, "handshake: session token issued");
        let payload = HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into_bytes().into(),
        };
        let mut response: Response<HandshakeStream> =
            Response::new(Box::pin(futures::stream::iter(vec![Ok(payload)])));
        let header = MetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| Status::internal("the session token is not a valid header value"))?;
        response.metadata_mut().insert("authorization", header);
        Ok(response)
    }

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let who = self.principal(&request)?;
        let result = self.execute(&who, &query.query, &[]).await?;
        self.park(&who, result, request.into_inner())
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let who = self.principal(&request)?;
        let (_, prepared) = self.prepared(&who, &query.prepared_statement_handle)?;
        let result = self
            .execute_rows(&who, &prepared.sql, &prepared.params)
            .await?;
        self.park(&who, result, request.into_inner())
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.principal(&request)?;
        let schema = query.into_builder().schema();
        self.metadata_info(&query, &schema, request.into_inner())
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.principal(&request)?;
        let schema = query.clone().into_builder().schema();
        self.metadata_info(&query, &schema, request.into_inner())
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.principal(&request)?;
        let schema = query.clone().into_builder().schema();
        self.metadata_info(&query, &schema, request.into_inner())
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.principal(&request)?;
        let schema = query.into_builder().schema();
        self.metadata_info(&query, &schema, request.into_inner())
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.principal(&request)?;
        let schema = query.clone().into_builder(&self.sql_info).schema();
        self.metadata_info(&query, &schema, request.into_inner())
    }

    async fn get_flight_info_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        self.principal(&request)?;
        let schema = metadata::primary_keys_schema();
        self.metadata_info(&query, &schema, request.into_inner())
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let who = self.principal(&request)?;
        let handle = String::from_utf8_lossy(&ticket.statement_handle);
        let pending = self.store.take(&who.name, &handle).ok_or_else(|| {
            Status::not_found(
                "no result for this ticket: it was read already, expired after 5 minutes unread, or belongs to another user",
            )
        })?;
        Ok(Response::new(result_stream(pending.owner, pending.result)))
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&self.principal(&request)?).await?;
        let batch = metadata::catalogs(&session, query)
            .await
            .map_err(metadata_status)?;
        Ok(Response::new(batch_stream(batch)))
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&self.principal(&request)?).await?;
        let batch = metadata::schemas(&session, query)
            .await
            .map_err(metadata_status)?;
        Ok(Response::new(batch_stream(batch)))
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&self.principal(&request)?).await?;
        let batch = metadata::tables(&session, query)
            .await
            .map_err(metadata_status)?;
        Ok(Response::new(batch_stream(batch)))
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&self.principal(&request)?).await?;
        let batch = metadata::table_types(&session, query)
            .await
            .map_err(metadata_status)?;
        Ok(Response::new(batch_stream(batch)))
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.principal(&request)?;
        let batch = query
            .into_builder(&self.sql_info)
            .build()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(batch_stream(batch)))
    }

    async fn do_get_primary_keys(
        &self,
        query: CommandGetPrimaryKeys,
        request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let session = self.session(&self.principal(&request)?).await?;
        let batch = metadata::primary_keys(&session, query)
            .await
            .map_err(metadata_status)?;
        Ok(Response::new(batch_stream(batch)))
    }

    async fn do_put_statement_update(
        &self,
        command: CommandStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let who = self.principal(&request)?;
        let result = self.execute(&who, &command.query, &[]).await?;
        affected_count(result).await
    }

    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let who = self.principal(&request)?;
        let (handle, _) = self.prepared(&who, &query.prepared_statement_handle)?;
        let rows = self.read_parameters(request).await?;
        self.store.bind(&who.name, &handle, rows);
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(query.prepared_statement_handle),
        })
    }

    async fn do_put_prepared_statement_update(
        &self,
        query: CommandPreparedStatementUpdate,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<i64, Status> {
        let who = self.principal(&request)?;
        let (_, prepared) = self.prepared(&who, &query.prepared_statement_handle)?;
        let mut rows = self.read_parameters(request).await?;
        if rows.is_empty() {
            rows = prepared.params;
        }
        let result = self.execute_rows(&who, &prepared.sql, &rows).await?;
        affected_count(result).await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let who = self.principal(&request)?;
        let schemas = self.describe(&who, &query.query).await?;
        let handle = self
            .store
            .prepare(&who.name, query.query)
            .map_err(|e| Status::internal(e.to_string()))?;
        let mut result = ActionCreatePreparedStatementResult {
            prepared_statement_handle: handle.into_bytes().into(),
            ..Default::default()
        };
        if let Some(schemas) = schemas {
            // Empty bytes say "unknown": a write's or EXEC's result set, for one.
            if let Some(dataset) = &schemas.result {
                result.dataset_schema = ipc_schema(dataset)?;
            }
            result.parameter_schema = ipc_schema(&schemas.parameters)?;
        }
        Ok(result)
    }

    async fn do_action_close_prepared_statement(
        &self,
        query: ActionClosePreparedStatementRequest,
        request: Request<Action>,
    ) -> Result<(), Status> {
        let who = self.principal(&request)?;
        let handle = String::from_utf8_lossy(&query.prepared_statement_handle);
        self.store.close(&who.name, &handle);
        Ok(())
    }

    async fn do_action_fallback(
        &self,
        request: Request<Action>,
    ) -> Result<Response<<Self as FlightService>::DoActionStream>, Status> {
        if request.get_ref().r#type != HEALTH_ACTION {
            return Err(Status::invalid_argument(format!(
                "unknown action {:?}; actions: {HEALTH_ACTION}, CreatePreparedStatement, ClosePreparedStatement",
                request.get_ref().r#type
            )));
        }
        let body = self.health().to_string();
        let result = arrow_flight::Result::new(body.into_bytes());
        Ok(Response::new(Box::pin(futures::stream::iter(vec![Ok(
            result,
        )]))))
    }

    async fn list_custom_actions(&self) -> Option<Vec<Result<ActionType, Status>>> {
        Some(vec![Ok(ActionType {
            r#type: HEALTH_ACTION.to_owned(),
            description: "The gateway's state as JSON: {\"status\":\"serving\",\"connections\":N,\"uptime_s\":S}; needs no credentials".to_owned(),
        })])
    }

    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

/// The row count of a write (a result set's rows are counted as they are drained).
async fn affected_count(result: sql::QueryResult) -> Result<i64, Status> {
    let n = match result {
        sql::QueryResult::Affected(n) => n,
        sql::QueryResult::Rows(rows) => {
            let batches = rows.try_collect::<Vec<_>>().await.map_err(sql_status)?;
            batches.iter().map(|b| b.num_rows() as u64).sum()
        }
    };
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

fn metadata_status(error: metadata::MetadataError) -> Status {
    match error {
        metadata::MetadataError::Sql(e) => sql_status(e),
        other => Status::internal(other.to_string()),
    }
}
