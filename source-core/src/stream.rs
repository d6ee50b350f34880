//! A stream of record batches that knows its schema, even when it yields none.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::Stream;
use futures::stream::BoxStream;

use crate::Result;

/// The batches of a scan, one per API page, with their schema.
///
/// ```
/// use std::sync::Arc;
/// use arrow_schema::Schema;
/// use futures::StreamExt;
/// let empty = source_core::RecordBatchStream::empty(Arc::new(Schema::empty()));
/// assert_eq!(empty.schema().fields().len(), 0);
/// assert!(futures::executor::block_on(empty.collect::<Vec<_>>()).is_empty());
/// ```
pub struct RecordBatchStream {
    schema: SchemaRef,
    inner: BoxStream<'static, Result<RecordBatch>>,
}

impl RecordBatchStream {
    /// Wraps a stream of batches that all have `schema`.
    pub fn new(
        schema: SchemaRef,
        inner: impl Stream<Item = Result<RecordBatch>> + Send + 'static,
    ) -> Self {
        Self {
            schema,
            inner: Box::pin(inner),
        }
    }

    /// A stream with no batches.
    pub fn empty(schema: SchemaRef) -> Self {
        Self::new(schema, futures::stream::empty())
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl fmt::Debug for RecordBatchStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordBatchStream")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl Stream for RecordBatchStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
