//! Result batches handed to pyarrow (or any Arrow PyCapsule consumer) without copying.
//!
//! [`ArrowStream`] implements the Arrow PyCapsule interface (`__arrow_c_stream__`): the
//! capsule holds an `ArrowArrayStream` (the Arrow C stream interface) whose arrays point at
//! the batches' own buffers. The consumer moves the stream out of the capsule; the buffers
//! are freed when the consumer releases its arrays.

use std::sync::Mutex;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::SchemaRef;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use crate::errors::{Class, DbError};

/// A result set's remaining rows as an Arrow C stream, consumable once
/// (`pyarrow.RecordBatchReader.from_stream(s)`, `pyarrow.table(s)`, polars, DuckDB).
#[pyclass(module = "connector", name = "ArrowStream", frozen)]
pub(crate) struct ArrowStream {
    batches: Mutex<Option<(SchemaRef, Vec<RecordBatch>)>>,
}

impl ArrowStream {
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Self {
            batches: Mutex::new(Some((schema, batches))),
        }
    }
}

#[pymethods]
impl ArrowStream {
    /// The Arrow PyCapsule stream protocol. `requested_schema` is ignored: the stream has
    /// the result's own schema.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let taken = self
            .batches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some((schema, batches)) = taken else {
            return Err(
                DbError::new(Class::Programming, "this Arrow stream was already consumed").into(),
            );
        };
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }

    fn __repr__(&self) -> String {
        match &*self.batches.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((_, batches)) => format!(
                "<connector.ArrowStream {} rows>",
                batches.iter().map(RecordBatch::num_rows).sum::<usize>()
            ),
            None => "<connector.ArrowStream consumed>".to_owned(),
        }
    }
}
