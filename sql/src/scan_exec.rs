//! [`SourceScanExec`]: the physical plan node that reads one source table.
//!
//! It carries the [`ScanRequest`] built by the provider, pulls the source's pages lazily, and
//! takes part in two physical optimizations:
//! - ORDER BY pushdown ([`ExecutionPlan::try_pushdown_sort`], called by DataFusion's
//!   `PushdownSort` rule and by [`crate::sort_rule`]): the requested order, when it is plain
//!   columns the source sorts exactly ([`DataSource::sort_support`]), goes into
//!   [`ScanRequest::order_by`] and the node declares that output order, so the `SortExec`
//!   above it disappears.
//! - LIMIT pushdown ([`ExecutionPlan::with_fetch`]): a fetch reaches
//!   [`ScanRequest::limit`] only when every pushed filter is `Exact`, the scan contract's
//!   rule; the node still truncates, since a source may return more rows than asked for.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result as DfResult, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{EquivalenceProperties, LexOrdering, PhysicalSortExpr};
use datafusion::physical_plan::coop::make_cooperative;
use datafusion::physical_plan::execution_plan::{
    Boundedness, EmissionType, ReplaceChildrenOptions, SchedulingType,
};
use datafusion::physical_plan::limit::LimitStream;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PhysicalExpr, PlanProperties,
    SortOrderPushdownResult,
};
use futures::{StreamExt, TryStreamExt};
use source_core::{DataSource, ScanRequest, SortKey, TableInfo};

use crate::error::to_df;

/// Reads one source table as a single partition.
#[derive(Debug, Clone)]
pub(crate) struct SourceScanExec {
    source: Arc<dyn DataSource>,
    info: Arc<TableInfo>,
    request: ScanRequest,
    /// Every pushed filter is `Exact`: nothing is re-checked above the scan, so a limit on
    /// this node's output is a limit on the source's rows.
    all_exact: bool,
    /// The most rows this node returns (also in `request.limit`).
    fetch: Option<usize>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl SourceScanExec {
    /// A scan of `info` for `request`, whose batches have `schema` (the projected one).
    /// `request.limit` must already respect the scan contract (set only when `all_exact`).
    pub(crate) fn new(
        source: Arc<dyn DataSource>,
        info: Arc<TableInfo>,
        request: ScanRequest,
        schema: SchemaRef,
        all_exact: bool,
    ) -> Self {
        let fetch = request
            .limit
            .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
        Self {
            source,
            info,
            request,
            all_exact,
            fetch,
            properties: Arc::new(properties(schema.clone(), None)),
            schema,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }

    /// The sort keys for `order`, if every expression is a plain column of this scan.
    fn sort_keys(&self, order: &[PhysicalSortExpr]) -> Option<Vec<SortKey>> {
        order
            .iter()
            .map(|e| {
                let column = e.expr.downcast_ref::<Column>()?;
                let field = self.schema.fields().get(column.index())?;
                // A column whose name does not match its index belongs to another schema.
                (field.name() == column.name()).then(|| SortKey {
                    column: field.name().clone(),
                    descending: e.options.descending,
                    nulls_first: e.options.nulls_first,
                })
            })
            .collect()
    }

    /// This scan, asking the source for `keys` and declaring `order` as its output order.
    fn ordered(&self, keys: Vec<SortKey>, order: &[PhysicalSortExpr]) -> Self {
        let mut scan = self.clone();
        scan.request.order_by = keys;
        scan.properties = Arc::new(properties(
            self.schema.clone(),
            LexOrdering::new(order.iter().cloned()),
        ));
        scan
    }

    /// The source's pages, with the declared schema.
    fn pages(&self) -> SendableRecordBatchStream {
        let source = self.source.clone();
        let table = self.info.name.clone();
        let request = self.request.clone();
        let expected = self.schema.clone();
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
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), pages))
    }
}

/// One bounded partition, emitted page by page, in `ordering` when the source sorts.
fn properties(schema: SchemaRef, ordering: Option<LexOrdering>) -> PlanProperties {
    PlanProperties::new(
        EquivalenceProperties::new_with_orderings(schema, ordering),
        Partitioning::UnknownPartitioning(1),
        EmissionType::Incremental,
        Boundedness::Bounded,
    )
    // `execute` wraps the stream in `make_cooperative`.
    .with_scheduling_type(SchedulingType::Cooperative)
}

/// `attendees DESC NULLS FIRST`.
fn sort_key_text(k: &SortKey) -> String {
    format!(
        "{} {} NULLS {}",
        k.column,
        if k.descending { "DESC" } else { "ASC" },
        if k.nulls_first { "FIRST" } else { "LAST" }
    )
}

/// `[a, b]`.
fn list<T>(items: &[T], text: impl Fn(&T) -> String) -> String {
    let parts: Vec<String> = items.iter().map(text).collect();
    format!("[{}]", parts.join(", "))
}

impl DisplayAs for SourceScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.request;
        let tree = matches!(t, DisplayFormatType::TreeRender);
        // The tree renderer puts one `key=value` per line.
        let sep = if tree { "\n" } else { ", " };
        if !tree {
            write!(f, "SourceScanExec: ")?;
        }
        write!(f, "table={}", self.info.name)?;
        if let Some(p) = &r.projection {
            write!(f, "{sep}projection={}", list(p, String::clone))?;
        }
        if !r.filters.is_empty() {
            write!(f, "{sep}filters={}", list(&r.filters, ToString::to_string))?;
        }
        if !r.order_by.is_empty() {
            write!(f, "{sep}order_by={}", list(&r.order_by, sort_key_text))?;
        }
        if let Some(limit) = r.limit {
            write!(f, "{sep}limit={limit}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for SourceScanExec {
    fn name(&self) -> &'static str {
        "SourceScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            internal_err!("SourceScanExec has no children to replace")
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            internal_err!("SourceScanExec has no children to replace")
        }
    }

    fn execute(
        &self,
        partition: usize,
        _ctx: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("SourceScanExec has one partition, not {partition}");
        }
        let stream = make_cooperative(self.pages());
        Ok(match self.fetch {
            None => stream,
            Some(fetch) => {
                // The contract lets a source return more rows than the limit.
                let metrics = BaselineMetrics::new(&self.metrics, partition);
                Box::pin(LimitStream::new(stream, 0, Some(fetch), metrics))
            }
        })
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn fetch(&self) -> Option<usize> {
        self.fetch
    }

    fn with_fetch(&self, limit: Option<usize>) -> Option<Arc<dyn ExecutionPlan>> {
        // With a `Loose` filter DataFusion re-checks rows above the scan, so a limit here
        // would cut rows before that check: refuse, and the caller keeps its own limit.
        if !self.all_exact {
            return None;
        }
        let mut scan = self.clone();
        scan.fetch = limit;
        scan.request.limit = limit.map(|l| u64::try_from(l).unwrap_or(u64::MAX));
        Some(Arc::new(scan))
    }

    fn try_pushdown_sort(
        &self,
        order: &[PhysicalSortExpr],
    ) -> DfResult<SortOrderPushdownResult<Arc<dyn ExecutionPlan>>> {
        let Some(keys) = self.sort_keys(order).filter(|k| !k.is_empty()) else {
            return Ok(SortOrderPushdownResult::Unsupported);
        };
        // A limit already pushed picked "the first n rows" in the source's own order;
        // sorting at the source would pick other rows. An earlier pushed order stands.
        let fixed = self.fetch.is_some() || !self.request.order_by.is_empty();
        if fixed || !self.source.sort_support(&self.info, &keys) {
            return Ok(SortOrderPushdownResult::Unsupported);
        }
        Ok(SortOrderPushdownResult::Exact {
            inner: Arc::new(self.ordered(keys, order)),
        })
    }
}
