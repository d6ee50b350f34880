//! The PEP 249 `Connection` and `Cursor`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use arrow_array::RecordBatch;
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

    /// Closes the connection (idempotent); its cursors become unusable.
    fn close(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
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

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
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
        let result = runtime::block_on(py, async move { inner.run(statement, params).await })?;
        state.set_result(result?);
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

    /// Always None: the services' row ids are in the result columns (`Id`).
    #[getter]
    fn lastrowid(&self) -> Option<i64> {
        None
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

    /// Does nothing (PEP 249).
    #[pyo3(signature = (*_sizes))]
    fn setinputsizes(&self, _sizes: &Bound<'_, PyTuple>) {}

    /// Does nothing (PEP 249).
    #[pyo3(signature = (*_args))]
    fn setoutputsize(&self, _args: &Bound<'_, PyTuple>) {}

    /// Closes the cursor and drops any unread rows (no more pages are requested).
    fn close(&self) -> PyResult<()> {
        let mut state = self.lock()?;
        state.reset();
        state.closed = true;
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
