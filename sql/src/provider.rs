//! A source table as a DataFusion [`TableProvider`]: projection, filter and limit pushdown
//! into [`ScanRequest`], read by a [`SourceScanExec`] (a lazily pulled stream of the source's
//! pages, which the physical optimizer may later hand an ORDER BY and a LIMIT).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session as DfSession;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use source_core::{DataSource, Filter, FilterSupport, ScanRequest, TableInfo, TableKind};

use crate::convert::filter_of;
use crate::scan_exec::SourceScanExec;

/// One table of one source.
#[derive(Debug)]
pub(crate) struct SourceTable {
    source: Arc<dyn DataSource>,
    info: Arc<TableInfo>,
    schema: SchemaRef,
}

impl SourceTable {
    pub(crate) fn new(source: Arc<dyn DataSource>, info: TableInfo) -> Self {
        let schema = info.schema();
        Self {
            source,
            info: Arc::new(info),
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

    /// The filters to send (`Exact` and `Loose`), and whether all of them are `Exact`.
    fn pushed_filters(&self, filters: &[Expr]) -> (Vec<Filter>, bool) {
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
        (pushed, all_exact)
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
        let (pushed, all_exact) = self.pushed_filters(filters);
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
            // ORDER BY is not offered here: the physical optimizer hands it to the
            // SourceScanExec later (`try_pushdown_sort`), with any LIMIT above the sort.
            order_by: Vec::new(),
            limit: limit.map(|l| l as u64),
        };
        tracing::debug!(table = %self.info.name, ?request, "scan");
        Ok(Arc::new(SourceScanExec::new(
            self.source.clone(),
            self.info.clone(),
            request,
            schema,
            all_exact,
        )))
    }
}
