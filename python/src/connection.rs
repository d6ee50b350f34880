//! The PEP 249 `Connection` and `Cursor`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use arrow_array::{Array, RecordBatch};
use arrow_schema::SchemaRef;
use futures::StreamExt;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use source_core::Value;

use crate::arrow_export::ArrowStream;
use crate::convert;
use crate::errors::{Class, DbError};
use crate::open;
use crate::runtime;

/// What kind of statement a text is, from its first keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Exec,
    Write,
    Other,
}

/// The words of a statement's start, upper-cased, skipping comments and `(`.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = sql;
    while words.len() < n {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(' || c == ';');
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map(|(_, r)| r).unwrap_or("");
            continue;
        }
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map(|(_, r)| r).unwrap_or("");
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '[' || c == ']'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        words.push(rest[..end].to_ascii_uppercase());
        rest = &rest[end..];
    }
    words
}

fn kind(sql: &str) -> Kind {
    match leading_words(sql, 1).first().map(String::as_str) {
        Some("EXEC" | "EXECUTE") => Kind::Exec,
        Some("INSERT" | "UPDATE" | "DELETE") => Kind::Write,
        _ => Kind::Other,
    }
}

/// Whether an EXEC calls one of the OAuth procedures (which change no table).
fn is_oauth_exec(sql: &str) -> bool {
    leading_words(sql, 2)
        .get(1)
        .is_some_and(|name| name.contains("OAUTH"))
}

/// Parameter sets per multi-row INSERT of `executemany`.
const INSERT_CHUNK: usize = 500;

/// `INSERT ... VALUES (?, ?, ...)` whose only `?` markers are in that last tuple: the text up
/// to the tuple and the tuple, so that `executemany` can send many sets in one statement.
fn insert_template(sql: &str) -> Option<(&str, &str)> {
    if leading_words(sql, 1).first().map(String::as_str) != Some("INSERT") {
        return None;
    }
    let trimmed = sql.trim_end().trim_end_matches(';').trim_end();
    let open = trimmed.rfind('(')?;
    let tuple = &trimmed[open..];
    let inside = tuple.strip_prefix('(')?.strip_suffix(')')?;
    if !inside.contains('?')
        || !inside
            .chars()
            .all(|c| c == '?' || c == ',' || c.is_whitespace())
    {
        return None;
    }
    let head = &trimmed[..open];
    let values = head.trim_end();
    let keyword = values.get(values.len().checked_sub(6)?..)?;
    let before = values[..values.len() - 6].chars().next_back();
    if !keyword.eq_ignore_ascii_case("VALUES")
        || before.is_some_and(|c| c.is_alphanumeric() || c == '_')
        || head.contains('?')
    {
        return None;
    }
    Some((head, tuple))
}

fn add_note(py: Python<'_>, err: &PyErr, note: String) {
    // `add_note` exists from Python 3.11; without it the error still carries its message.
    let _ = err.value(py).call_method1("add_note", (note,));
}

/// One open connection: the connection string, the procedures, and the data session once a
/// statement needed it.
struct Inner {
    connection: source_plugin::Connection,
    procedures: sql::Session,
    data: tokio::sync::OnceCell<sql::Session>,
}

impl Inner {
    /// Runs one statement. EXEC goes to the procedure session (no token needed for the OAuth
    /// procedures); everything else opens the data session on first use.
    async fn run(
        &self,
        statement: String,
        params: Vec<Value>,
    ) -> Result<sql::QueryResult, DbError> {
        if kind(&statement) == Kind::Exec {
            let result = self.procedures.execute(&statement, &params).await?;
            if let Some(data) = self.data.get()
                && !is_oauth_exec(&statement)
            {
                // HubDB procedures create, clone, publish and delete tables. The procedure has
                // run; a failed re-read only leaves the table list stale, so it is not an error
                // of this statement.
                let _ = data.refresh().await;
            }
            return Ok(result);
        }
        let session = self
            .data
            .get_or_try_init(|| open::data_session(&self.connection))
            .await?;
        Ok(session.execute(&statement, &params).await?)
    }

    /// The key of the last row this connection inserted (`SELECT SCOPE_IDENTITY()`, a local
    /// lookup), as text; `None` before any insert.
    async fn last_inserted(&self) -> Result<Option<String>, DbError> {
        let Some(session) = self.data.get() else {
            return Ok(None);
        };
        let batches = session
            .execute("SELECT SCOPE_IDENTITY()", &[])
            .await?
            .collect()
            .await?;
        Ok(first_texts(&batches).into_iter().next().flatten())
    }

    /// The inputs of procedure `name` in order, from the procedure session's
    /// `sys_procedureparameters` (no network); `None` when there is no such procedure.
    async fn procedure_inputs(&self, name: &str) -> Result<Option<Vec<String>>, DbError> {
        let known = self
            .procedures
            .execute(
                "SELECT ProcedureName FROM sys_procedures WHERE lower(ProcedureName) = lower(?)",
                &[Value::Str(name.to_owned())],
            )
            .await?
            .collect()
            .await?;
        if first_texts(&known).is_empty() {
            return Ok(None);
        }
        let inputs = self
            .procedures
            .execute(
                "SELECT ColumnName FROM sys_procedureparameters WHERE lower(ProcedureName) = lower(?) ORDER BY Ordinal",
                &[Value::Str(name.to_owned())],
            )
            .await?
            .collect()
            .await?;
        Ok(Some(first_texts(&inputs).into_iter().flatten().collect()))
    }
}

/// The first column of `batches` as text, one entry per row.
fn first_texts(batches: &[RecordBatch]) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for batch in batches {
        if batch.num_columns() == 0 {
            continue;
        }
        let column = batch.column(0);
        for row in 0..batch.num_rows() {
            out.push(if column.is_null(row) {
                None
            } else {
                arrow_cast::display::array_value_to_string(column, row).ok()
            });
        }
    }
    out
}

/// A procedure name for `callproc`: `name` or `schema.name`, each part quoted for EXEC.
fn exec_name(procname: &str) -> Result<(String, &str), DbError> {
    let parts: Vec<&str> = procname.split('.').collect();
    let valid = |p: &&str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ')
    };
    if procname.is_empty() || parts.len() > 2 || !parts.iter().all(valid) {
        return Err(DbError::new(
            Class::Programming,
            format!(
                "callproc: {procname:?} is not a procedure name (letters, digits and _, optionally schema.name)"
            ),
        ));
    }
    let quoted = parts
        .iter()
        .map(|p| format!("[{p}]"))
        .collect::<Vec<_>>()
        .join(".");
    Ok((quoted, parts[parts.len() - 1]))
}

/// An input name of `callproc`'s mapping: letters, digits and `_` (a leading `@` is dropped).
fn input_name(key: &str) -> Result<&str, DbError> {
    let name = key.strip_prefix('@').unwrap_or(key);
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(DbError::new(
            Class::Programming,
            format!("callproc: {key:?} is not an input name (letters, digits and _)"),
        ));
    }
    Ok(name)
}

/// A class of `connector.exceptions`.
fn exception_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("connector.exceptions")?.getattr(name)
}

fn closed_connection() -> PyErr {
    DbError::new(Class::Interface, "the connection is closed").into()
}

/// A connection to a registered source (PEP 249). Writes apply at once: `commit()` and
/// `rollback()` do nothing. Used as a context manager, it closes on exit.
#[pyclass(module = "connector", name = "Connection", frozen)]
pub(crate) struct Connection {
    source: &'static str,
    inner: Mutex<Option<Arc<Inner>>>,
}

impl Connection {
    /// Parses and validates the connection string and prepares the procedures; no network.
    pub(crate) fn open(source: &str, connection_string: &str) -> PyResult<Self> {
        // Token providers may start timers: build them inside the runtime.
        let _enter = runtime::runtime()?.enter();
        let connection = open::configure(source, connection_string)?;
        let procedures = open::procedure_session(&connection)?;
        Ok(Self {
            source: connection.info().name,
            inner: Mutex::new(Some(Arc::new(Inner {
                connection,
                procedures,
                data: tokio::sync::OnceCell::new(),
            }))),
        })
    }

    fn inner(&self) -> PyResult<Arc<Inner>> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(closed_connection)
    }
}

#[pymethods]
impl Connection {
    /// A new cursor.
    fn cursor(slf: &Bound<'_, Self>) -> PyResult<Cursor> {
        slf.get().inner()?;
        Ok(Cursor::new(slf.clone().unbind()))
    }

    /// Runs a statement on a new cursor and returns the cursor (as CData's examples do).
    #[pyo3(signature = (operation, parameters=None))]
    fn execute<'py>(
        slf: &Bound<'py, Self>,
        operation: &str,
        parameters: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Cursor>> {
        let cursor = Bound::new(slf.py(), Self::cursor(slf)?)?;
        Cursor::execute(&cursor, operation, parameters)
    }

    /// Runs an INSERT, UPDATE or DELETE once per parameter set on a new cursor; returns the
    /// cursor (its `rowcount` is the total).
    fn executemany<'py>(
        slf: &Bound<'py, Self>,
        operation: &str,
        seq_of_parameters: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Cursor>> {
        let cursor = Bound::new(slf.py(), Self::cursor(slf)?)?;
        Cursor::executemany(&cursor, operation, seq_of_parameters)
    }

    /// Does nothing: there are no transactions, every write is applied when it runs.
    fn commit(&self) -> PyResult<()> {
        self.inner().map(|_| ())
    }

    /// Does nothing: writes were applied when they ran and cannot be undone.
    fn rollback(&self) -> PyResult<()> {
        self.inner().map(|_| ())
    }

    /// Closes the connection; its cursors become unusable. Closing a closed connection raises
    /// InterfaceError, as PEP 249 asks of every operation on a closed connection.
    fn close(&self) -> PyResult<()> {
        match self.inner.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some(_) => Ok(()),
            None => Err(DbError::new(Class::Interface, "the connection is already closed").into()),
        }
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    /// The source's name (`acton`, `hubdb`, …).
    #[getter]
    fn source(&self) -> &'static str {
        self.source
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().inner()?;
        Ok(slf)
    }

    /// Closes the connection unless it was closed already inside the block.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        false
    }

    // PEP 249's optional extension: the exception classes as connection attributes, so code
    // holding only a connection can catch `conn.Error`.

    /// `connector.exceptions.Warning`.
    #[getter(Warning)]
    fn warning_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "Warning")
    }

    /// `connector.exceptions.Error`.
    #[getter(Error)]
    fn error_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "Error")
    }

    /// `connector.exceptions.InterfaceError`.
    #[getter(InterfaceError)]
    fn interface_error_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "InterfaceError")
    }

    /// `connector.exceptions.DatabaseError`.
    #[getter(DatabaseError)]
    fn database_error_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "DatabaseError")
    }

    /// `connector.exceptions.DataError`.
    #[getter(DataError)]
    fn data_error_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "DataError")
    }

    /// `connector.exceptions.OperationalError`.
    #[getter(OperationalError)]
    fn operational_error_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "OperationalError")
    }

    /// `connector.exceptions.IntegrityError`.
    #[getter(IntegrityError)]
    fn integrity_error_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "IntegrityError")
    }

    /// `connector.exceptions.InternalError`.
    #[getter(InternalError)]
    fn internal_error_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "InternalError")
    }

    /// `connector.exceptions.ProgrammingError`.
    #[getter(ProgrammingError)]
    fn programming_error_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "ProgrammingError")
    }

    /// `connector.exceptions.NotSupportedError`.
    #[getter(NotSupportedError)]
    fn not_supported_error_class<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        exception_class(py, "NotSupportedError")
    }

    fn __repr__(&self) -> String {
        format!(
            "<connector.{} Connection ({})>",
            self.source,
            if self.closed() { "closed" } else { "open" }
        )
    }
}

/// A cursor's result set and counters.
struct State {
    closed: bool,
    /// The schema of the current result set (`None` after DML or before any statement).
    schema: Option<SchemaRef>,
    /// Batches not yet pulled; `None` once exhausted.
    stream: Option<sql::RowStream>,
    /// The batch being read, and the next row in it.
    batch: Option<RecordBatch>,
    position: usize,
    fetched: i64,
    rowcount: i64,
    description: Option<Py<PyAny>>,
    /// The key of the row the last INSERT added (text as `SCOPE_IDENTITY()` gives it).
    lastrowid: Option<String>,
}

impl State {
    fn new() -> Self {
        Self {
            closed: false,
            schema: None,
            stream: None,
            batch: None,
            position: 0,
            fetched: 0,
            rowcount: -1,
            description: None,
            lastrowid: None,
        }
    }

    fn reset(&mut self) {
        let closed = self.closed;
        *self = Self::new();
        self.closed = closed;
    }

    fn check_open(&self) -> PyResult<()> {
        if self.closed {
            return Err(DbError::new(Class::Interface, "the cursor is closed").into());
        }
        Ok(())
    }

    fn check_result_set(&self) -> PyResult<()> {
        self.check_open()?;
        if self.schema.is_none() {
            return Err(DbError::new(
                Class::Programming,
                "no result set: execute a SELECT or EXEC first",
            )
            .into());
        }
        Ok(())
    }

    fn set_result(&mut self, result: sql::QueryResult) {
        match result {
            sql::QueryResult::Rows(stream) => {
                self.schema = Some(stream.schema());
                self.stream = Some(stream);
            }
            sql::QueryResult::Affected(n) => {
                self.rowcount = i64::try_from(n).unwrap_or(i64::MAX);
            }
        }
    }

    /// The stream is exhausted: drop it and make `rowcount` the number of rows.
    fn finish(&mut self) {
        self.stream = None;
        self.batch = None;
        self.rowcount = self.fetched;
    }

    /// Makes `self.batch` hold an unread row, pulling batches as needed; false at the end.
    fn fill(&mut self, py: Python<'_>) -> PyResult<bool> {
        loop {
            if let Some(batch) = &self.batch
                && self.position < batch.num_rows()
            {
                return Ok(true);
            }
            self.batch = None;
            let Some(stream) = self.stream.as_mut() else {
                return Ok(false);
            };
            match runtime::block_on(py, stream.next()) {
                Err(interrupted) => {
                    // Ctrl-C (or a bug): drop the stream, which cancels the request.
                    self.stream = None;
                    return Err(interrupted);
                }
                Ok(None) => {
                    self.finish();
                    return Ok(false);
                }
                Ok(Some(Err(e))) => {
                    self.stream = None;
                    return Err(DbError::from(e).into());
                }
                Ok(Some(Ok(batch))) => {
                    self.batch = Some(batch);
                    self.position = 0;
                }
            }
        }
    }

    fn next_row<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        if !self.fill(py)? {
            return Ok(None);
        }
        let Some(batch) = &self.batch else {
            return Ok(None);
        };
        let row = convert::row(py, batch, self.position)?;
        self.position += 1;
        self.fetched += 1;
        Ok(Some(row))
    }
}

/// A PEP 249 cursor. Result sets stream: rows are fetched one API page at a time.
#[pyclass(module = "connector", name = "Cursor", frozen)]
pub(crate) struct Cursor {
    connection: Py<Connection>,
    state: Mutex<State>,
    arraysize: AtomicUsize,
}

impl Cursor {
    fn new(connection: Py<Connection>) -> Self {
        Self {
            connection,
            state: Mutex::new(State::new()),
            arraysize: AtomicUsize::new(1),
        }
    }

    fn lock(&self) -> PyResult<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(guard) => Ok(guard),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(DbError::new(
                Class::Interface,
                "the cursor is in use by another thread; use one cursor per thread",
            )
            .into()),
        }
    }

    fn inner(&self) -> PyResult<Arc<Inner>> {
        self.connection.get().inner()
    }

    /// Runs one statement on `state`.
    fn run(
        &self,
        py: Python<'_>,
        state: &mut State,
        operation: &str,
        params: Vec<Value>,
    ) -> PyResult<()> {
        let inner = self.inner()?;
        let statement = operation.to_owned();
        let insert = leading_words(operation, 1).first().map(String::as_str) == Some("INSERT");
        let (result, lastrowid) = runtime::block_on_local(py, move || async move {
            let result = inner.run(statement, params).await?;
            // An INSERT that added rows: the key of its last row, for `lastrowid`.
            let lastrowid = match result.affected() {
                Some(n) if insert && n > 0 => inner.last_inserted().await?,
                _ => None,
            };
            Ok::<_, DbError>((result, lastrowid))
        })??;
        state.set_result(result);
        if lastrowid.is_some() {
            state.lastrowid = lastrowid;
        }
        Ok(())
    }
}

#[pymethods]
impl Cursor {
    /// Runs a statement (SELECT, INSERT, UPDATE, DELETE, EXEC) with `?` parameters bound
    /// from a list or tuple. Returns the cursor.
    #[pyo3(signature = (operation, parameters=None))]
    fn execute<'py>(
        slf: &Bound<'py, Self>,
        operation: &str,
        parameters: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Self>> {
        let this = slf.get();
        let mut state = this.lock()?;
        state.check_open()?;
        state.reset();
        let params = convert::parameters(parameters)?;
        this.run(slf.py(), &mut state, operation, params)?;
        Ok(slf.clone())
    }

    /// Runs an INSERT, UPDATE or DELETE once per parameter set; `rowcount` is the total.
    /// SELECT and EXEC raise ProgrammingError (use `execute`). There are no transactions:
    /// when a set fails, the sets before it stay applied (`rowcount` counts their rows and
    /// the exception carries a note saying which set failed).
    fn executemany<'py>(
        slf: &Bound<'py, Self>,
        operation: &str,
        seq_of_parameters: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, Self>> {
        let py = slf.py();
        let this = slf.get();
        let mut state = this.lock()?;
        state.check_open()?;
        state.reset();
        if kind(operation) != Kind::Write {
            return Err(DbError::new(
                Class::Programming,
                "executemany() runs only INSERT, UPDATE and DELETE statements; use execute() for SELECT and EXEC",
            )
            .into());
        }
        let mut total: i64 = 0;
        if let Some((head, tuple)) = insert_template(operation) {
            // One multi-row INSERT per chunk: sources write in batches (HubDB: 100 rows a call).
            let mut sets = Vec::new();
            for (index, params) in seq_of_parameters.try_iter()?.enumerate() {
                match convert::parameters(Some(&params?)) {
                    Ok(values) => sets.push(values),
                    Err(err) => {
                        state.rowcount = 0;
                        add_note(
                            py,
                            &err,
                            format!(
                                "executemany: parameter set {index} is invalid; nothing was applied"
                            ),
                        );
                        return Err(err);
                    }
                }
            }
            for (chunk_index, chunk) in sets.chunks(INSERT_CHUNK).enumerate() {
                let statement = format!("{head}{}", vec![tuple; chunk.len()].join(", "));
                let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
                if let Err(err) = this.run(py, &mut state, &statement, params) {
                    let first = chunk_index * INSERT_CHUNK;
                    state.rowcount = total;
                    add_note(
                        py,
                        &err,
                        format!(
                            "executemany: the INSERT of parameter sets {first} to {} failed (the message says how many of them were applied); {total} row(s) from the sets before them were applied",
                            first + chunk.len() - 1
                        ),
                    );
                    return Err(err);
                }
                total += state.rowcount.max(0);
                state.rowcount = -1;
            }
            state.rowcount = total;
            return Ok(slf.clone());
        }
        for (index, params) in seq_of_parameters.try_iter()?.enumerate() {
            let outcome = convert::parameters(Some(&params?))
                .and_then(|params| this.run(py, &mut state, operation, params));
            if let Err(err) = outcome {
                state.rowcount = total;
                add_note(
                    py,
                    &err,
                    format!(
                        "executemany: parameter set {index} failed; {total} row(s) from the sets before it were applied"
                    ),
                );
                return Err(err);
            }
            total += state.rowcount.max(0);
            state.rowcount = -1;
        }
        state.rowcount = total;
        Ok(slf.clone())
    }

    /// The next row as a tuple, or None at the end.
    fn fetchone<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let mut state = self.lock()?;
        state.check_result_set()?;
        self.inner()?;
        state.next_row(py)
    }

    /// Up to `size` rows (default `arraysize`) as a list of tuples.
    #[pyo3(signature = (size=None))]
    fn fetchmany<'py>(&self, py: Python<'py>, size: Option<usize>) -> PyResult<Bound<'py, PyList>> {
        let size = size.unwrap_or_else(|| self.arraysize.load(Ordering::Relaxed));
        let mut state = self.lock()?;
        state.check_result_set()?;
        self.inner()?;
        let mut rows = Vec::with_capacity(size.min(10_000));
        while rows.len() < size {
            match state.next_row(py)? {
                Some(row) => rows.push(row),
                None => break,
            }
        }
        PyList::new(py, rows)
    }

    /// Every remaining row as a list of tuples.
    fn fetchall<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let mut state = self.lock()?;
        state.check_result_set()?;
        self.inner()?;
        let mut rows = Vec::new();
        while let Some(row) = state.next_row(py)? {
            rows.push(row);
        }
        PyList::new(py, rows)
    }

    /// The remaining rows as a `pyarrow.Table`, handed over without copying (Arrow C stream
    /// interface). Needs pyarrow 15 or later.
    fn fetch_arrow_table<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pyarrow = py.import("pyarrow").map_err(|_| {
            PyErr::from(DbError::new(
                Class::NotSupported,
                "fetch_arrow_table() needs pyarrow: pip install pyarrow",
            ))
        })?;
        let stream = self.fetch_arrow_stream(py)?;
        let reader = pyarrow
            .getattr("RecordBatchReader")?
            .call_method1("from_stream", (stream,))?;
        reader.call_method0("read_all")
    }

    /// The remaining rows as an object with `__arrow_c_stream__` (the Arrow PyCapsule
    /// interface), for pyarrow, polars, DuckDB and others.
    fn fetch_arrow_stream(&self, py: Python<'_>) -> PyResult<ArrowStream> {
        let mut state = self.lock()?;
        state.check_result_set()?;
        self.inner()?;
        let Some(schema) = state.schema.clone() else {
            return Err(DbError::new(Class::Programming, "no result set").into());
        };
        let mut batches = Vec::new();
        if let Some(batch) = state.batch.take() {
            let rest = batch.num_rows().saturating_sub(state.position);
            if rest > 0 {
                batches.push(batch.slice(state.position, rest));
            }
        }
        while state.fill(py)? {
            if let Some(batch) = state.batch.take() {
                batches.push(batch);
            }
        }
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        state.fetched += i64::try_from(rows).unwrap_or(i64::MAX);
        state.finish();
        Ok(ArrowStream::new(schema, batches))
    }

    /// PEP 249 7-tuples `(name, type_code, display_size, internal_size, precision, scale,
    /// null_ok)` of the current result set; None after DML. `type_code` is the Python type of
    /// the column's values (`str`, `int`, `float`, `bool`, `datetime.datetime`, ...).
    #[getter]
    fn description(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let mut state = self.lock()?;
        if let Some(d) = &state.description {
            return Ok(Some(d.clone_ref(py)));
        }
        let Some(schema) = state.schema.clone() else {
            return Ok(None);
        };
        let entries = schema
            .fields()
            .iter()
            .map(|f| convert::describe(py, f))
            .collect::<PyResult<Vec<_>>>()?;
        let description = PyList::new(py, entries)?.into_any().unbind();
        state.description = Some(description.clone_ref(py));
        Ok(Some(description))
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE (summed over `executemany`); for a
    /// result set, -1 until every row was fetched, then the number of rows.
    #[getter]
    fn rowcount(&self) -> PyResult<i64> {
        Ok(self.lock()?.rowcount)
    }

    /// Rows `fetchmany()` returns by default (1).
    #[getter]
    fn get_arraysize(&self) -> usize {
        self.arraysize.load(Ordering::Relaxed)
    }

    #[setter]
    fn set_arraysize(&self, value: usize) -> PyResult<()> {
        if value == 0 {
            return Err(DbError::new(Class::Programming, "arraysize must be at least 1").into());
        }
        self.arraysize.store(value, Ordering::Relaxed);
        Ok(())
    }

    /// The key of the last row the last INSERT (or `executemany` of one) added: an `int` for
    /// numeric keys (HubDB's `Id`), else a `str`; None after any other statement. The same
    /// key as `SELECT SCOPE_IDENTITY()`.
    #[getter]
    fn lastrowid<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let state = self.lock()?;
        let Some(key) = &state.lastrowid else {
            return Ok(None);
        };
        Ok(Some(match key.parse::<i64>() {
            Ok(n) => n.into_pyobject(py)?.into_any(),
            Err(_) => key.into_pyobject(py)?.into_any(),
        }))
    }

    /// The connection this cursor belongs to.
    #[getter]
    fn connection(&self, py: Python<'_>) -> Py<Connection> {
        self.connection.clone_ref(py)
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        Ok(self.lock()?.closed)
    }

    /// Does nothing (PEP 249 allows it): parameter types come from the values.
    fn setinputsizes(&self, _sizes: &Bound<'_, PyAny>) {}

    /// Does nothing (PEP 249 allows it): long values are never truncated.
    #[pyo3(signature = (size, column=None))]
    fn setoutputsize(&self, size: &Bound<'_, PyAny>, column: Option<&Bound<'_, PyAny>>) {
        let _ = (size, column);
    }

    /// Every statement produces at most one result set: drops the unread rows of the current
    /// one (no more pages are requested) and returns None (PEP 249: no more sets).
    fn nextset(&self) -> PyResult<Option<bool>> {
        let mut state = self.lock()?;
        state.check_open()?;
        self.inner()?;
        state.stream = None;
        state.batch = None;
        state.schema = None;
        state.description = None;
        Ok(None)
    }

    /// Runs a procedure, as `EXEC procname input = value, ...` would; its result set is
    /// fetched from the cursor. `parameters` is a sequence (values for the procedure's inputs
    /// in their declared order, as `sys_procedureparameters` lists them) or a mapping of input
    /// names to values; a None value leaves its input unset. Returns `parameters` unchanged
    /// (procedures have no output parameters).
    #[pyo3(signature = (procname, parameters=None))]
    fn callproc<'py>(
        slf: &Bound<'py, Self>,
        procname: &str,
        parameters: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let this = slf.get();
        let mut state = this.lock()?;
        state.check_open()?;
        state.reset();
        let (name, bare) = exec_name(procname)?;
        let mut args: Vec<(String, Value)> = Vec::new();
        match parameters.filter(|p| !p.is_none()) {
            None => {}
            Some(map) if map.is_instance_of::<pyo3::types::PyDict>() => {
                let map = map.cast::<pyo3::types::PyDict>()?;
                for (position, (key, value)) in map.iter().enumerate() {
                    let key: String = key.extract().map_err(|_| {
                        PyErr::from(DbError::new(
                            Class::Programming,
                            "callproc: the keys of the parameter mapping must be input names (str)",
                        ))
                    })?;
                    if !value.is_none() {
                        let name = input_name(&key)?.to_owned();
                        args.push((name, convert::parameter(&value, position + 1)?));
                    }
                }
            }
            Some(values) => {
                let values = convert::parameters(Some(values))?;
                let inner = this.inner()?;
                let lookup = bare.to_owned();
                let inputs = runtime::block_on_local(py, move || async move {
                    inner.procedure_inputs(&lookup).await
                })??;
                let Some(inputs) = inputs else {
                    // Unknown procedure: let EXEC say so, with its suggestions.
                    this.run(py, &mut state, &format!("EXEC {name}"), Vec::new())?;
                    return Ok(
                        parameters.map_or_else(|| PyTuple::empty(py).into_any(), Clone::clone)
                    );
                };
                if values.len() > inputs.len() {
                    return Err(DbError::new(
                        Class::Programming,
                        format!(
                            "callproc: {bare} takes {} input(s) ({}), {} value(s) were given",
                            inputs.len(),
                            inputs.join(", "),
                            values.len()
                        ),
                    )
                    .into());
                }
                args.extend(
                    inputs
                        .into_iter()
                        .zip(values)
                        .filter(|(_, v)| !matches!(v, Value::Null)),
                );
            }
        }
        let statement = if args.is_empty() {
            format!("EXEC {name}")
        } else {
            let inputs: Vec<String> = args.iter().map(|(n, _)| format!("{n} = ?")).collect();
            format!("EXEC {name} {}", inputs.join(", "))
        };
        let values = args.into_iter().map(|(_, v)| v).collect();
        this.run(py, &mut state, &statement, values)?;
        Ok(parameters.map_or_else(|| PyTuple::empty(py).into_any(), Clone::clone))
    }

    /// Closes the cursor and drops any unread rows (no more pages are requested).
    /// `rowcount` and `lastrowid` keep their values.
    fn close(&self) -> PyResult<()> {
        let mut state = self.lock()?;
        let (rowcount, lastrowid) = (state.rowcount, state.lastrowid.take());
        state.reset();
        state.closed = true;
        state.rowcount = rowcount;
        state.lastrowid = lastrowid;
        Ok(())
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.fetchone(py)
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close()?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        match self.state.try_lock() {
            Ok(state) => format!(
                "<connector.Cursor rowcount={}{}>",
                state.rowcount,
                if state.closed { " closed" } else { "" }
            ),
            Err(_) => "<connector.Cursor (busy)>".to_owned(),
        }
    }
}
