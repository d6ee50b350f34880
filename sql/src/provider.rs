//! A source table as a DataFusion [`TableProvider`]: projection, filter and limit pushdown
//! into [`ScanRequest`], and a lazily pulled stream of the source's pages.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session as DfSession;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use futures::{StreamExt, TryStreamExt};
use source_core::{DataSource, Filter, FilterSupport, ScanRequest, TableInfo, TableKind};

use crate::convert::filter_of;
use crate::error::to_df;

/// One table of one source.
#[derive(Debug)]
pub(crate) struct SourceTable {
    source: Arc<dyn DataSource>,
    info: TableInfo,
    schema: SchemaRef,
}

impl SourceTable {
    pub(crate) fn new(source: Arc<dyn DataSource>, info: TableInfo) -> Self {
        let schema = info.schema();
        Self {
            source,
            info,
            schema,
        }
    }

    fn column_type(&self, name: &str) -> Option<DataType> {
        self.schema
            .field_with_name(name)
            .ok()
            .map(|f| f.data_type().clone())
    }

    /// The conjunct as a filter, with how faithfully the source applies it.
    fn classify(&self, expr: &Expr) -> Option<(Filter, FilterSupport)> {
        let filter = filter_of(expr, &|c| self.column_type(c))?;
        let support = self.source.filter_support(&self.info, &filter);
        Some((filter, support))
    }
}

#[async_trait]
impl TableProvider for SourceTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        match self.info.kind {
            TableKind::Table => TableType::Base,
            TableKind::View => TableType::View,
        }
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|e| match self.classify(e) {
                Some((_, FilterSupport::Exact)) => TableProviderFilterPushDown::Exact,
                // DataFusion keeps a filter above the scan for Inexact ones: the re-check
                // the scan contract asks for.
                Some((_, FilterSupport::Loose)) => TableProviderFilterPushDown::Inexact,
                _ => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let mut pushed = Vec::new();
        let mut all_exact = true;
        for e in filters {
            match self.classify(e) {
                Some((f, FilterSupport::Exact)) => pushed.push(f),
                Some((f, FilterSupport::Loose)) => {
                    pushed.push(f);
                    all_exact = false;
                }
                _ => all_exact = false,
            }
        }
        let (names, schema) = match projection {
            Some(indices) => {
                let names = indices
                    .iter()
                    .map(|i| self.schema.field(*i).name().clone())
                    .collect();
                (Some(names), Arc::new(self.schema.project(indices)?))
            }
            None => (None, self.schema.clone()),
        };
        // A limit is only safe to hand down when nothing is re-checked above the scan.
        let limit = limit.filter(|_| all_exact);
        let request = ScanRequest {
            projection: names,
            filters: pushed,
            order_by: Vec::new(),
            limit: limit.map(|l| l as u64),
        };
        tracing::debug!(table = %self.info.name, ?request, "scan");
        let partition = Arc::new(SourcePartition {
            source: self.source.clone(),
            table: self.info.name.clone(),
            request,
            schema: schema.clone(),
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            schema,
            vec![partition],
            None,
            Vec::new(),
            false,
            limit,
        )?))
    }
}

/// The one partition of a scan: starts the source's scan when first polled.
#[derive(Debug)]
struct SourcePartition {
    source: Arc<dyn DataSource>,
    table: String,
    request: ScanRequest,
    schema: SchemaRef,
}

impl PartitionStream for SourcePartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let source = self.source.clone();
        let table = self.table.clone();
        let request = self.request.clone();
        let schema = self.schema.clone();
        let expected = schema.clone();
        let pages =
            futures::stream::once(async move { source.scan(&table, request).await.map_err(to_df) })
                .map_ok(|pages| pages.map_err(to_df))
                .try_flatten()
                .map(move |batch| {
                    let batch = batch?;
                    // Sources may omit field metadata; downstream operators expect the declared schema.
                    if batch.schema() == expected {
                        Ok(batch)
                    } else {
                        let options =
                            RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
                        Ok(RecordBatch::try_new_with_options(
                            expected.clone(),
                            batch.columns().to_vec(),
                            &options,
                        )?)
                    }
                });
        Box::pin(RecordBatchStreamAdapter::new(schema, pages))
    }
}
