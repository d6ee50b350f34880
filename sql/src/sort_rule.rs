//! ORDER BY pushdown to sources, where DataFusion's own rule stops short.
//!
//! DataFusion's `PushdownSort` rule asks the input of each `SortExec` to take over the order
//! ([`ExecutionPlan::try_pushdown_sort`]; [`crate::scan_exec::SourceScanExec`] answers it)
//! and removes the sort when it can. [`PushSortToSource`] runs just before it and does the
//! same, with two additions:
//! - It looks through a `FilterExec`, the plan of a query with a `Loose` or unsupported
//!   filter (`Sort → Filter → SourceScanExec`): a filter only drops rows, so rows that arrive
//!   in order leave in order. The sort's fetch (LIMIT) stays above the filter: it must count
//!   rows that passed the check.
//! - It puts the sort's fetch below a `ProjectionExec` (which maps rows one to one) so that it
//!   reaches the scan, where DataFusion's rule would leave a `GlobalLimitExec` above the
//!   projection and the source would be asked for every row.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::error::Result as DfResult;
use datafusion::physical_expr::PhysicalSortExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::limit::GlobalLimitExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{ExecutionPlan, SortOrderPushdownResult};

/// Removes a `SortExec` whose input (through a filter or projection) can return rows in its
/// order.
#[derive(Debug, Default)]
pub(crate) struct PushSortToSource;

/// DataFusion's physical rules with [`PushSortToSource`] just before `PushdownSort`: late
/// enough that projections are settled (pushed into scans and filters), and before a TopK's
/// dynamic filters are wired to the nodes below it.
pub(crate) fn physical_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = PhysicalOptimizer::new().rules;
    let at = rules
        .iter()
        .position(|r| r.name() == "PushdownSort")
        .unwrap_or(rules.len());
    rules.insert(at, Arc::new(PushSortToSource));
    rules
}

impl PhysicalOptimizerRule for PushSortToSource {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        // The same switch as DataFusion's own sort pushdown (on by default).
        if !config.optimizer.enable_sort_pushdown {
            return Ok(plan);
        }
        plan.transform_down(rewrite).data()
    }

    fn name(&self) -> &str {
        "PushSortToSource"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `Sort(fetch) → X` becomes `X'` with the fetch applied, when `X` takes over the order.
fn rewrite(plan: Arc<dyn ExecutionPlan>) -> DfResult<Transformed<Arc<dyn ExecutionPlan>>> {
    let Some(sort) = plan.downcast_ref::<SortExec>() else {
        return Ok(Transformed::no(plan));
    };
    // A partition-wise sort feeds a merge; the sessions here have one partition anyway.
    if sort.preserve_partitioning() {
        return Ok(Transformed::no(plan));
    }
    let SortOrderPushdownResult::Exact { inner } = push_order(sort.input(), sort.expr())? else {
        return Ok(Transformed::no(plan));
    };
    let ordered = match sort.fetch() {
        None => inner,
        Some(fetch) => limited(inner, fetch)?,
    };
    Ok(Transformed::yes(ordered))
}

/// Asks `plan` to return rows in `order`, looking through a filter.
fn push_order(
    plan: &Arc<dyn ExecutionPlan>,
    order: &[PhysicalSortExpr],
) -> DfResult<SortOrderPushdownResult<Arc<dyn ExecutionPlan>>> {
    let Some(filter) = plan.downcast_ref::<FilterExec>() else {
        return plan.try_pushdown_sort(order);
    };
    let Some(input_order) = input_order(filter, order) else {
        return Ok(SortOrderPushdownResult::Unsupported);
    };
    filter
        .input()
        .try_pushdown_sort(&input_order)?
        .try_map(|input| replace_children_if_necessary(Arc::clone(plan), vec![input]))
}

/// `plan` cut to `fetch` rows, the cut as close to the source as allowed: below projections,
/// into the node that takes it (a scan with nothing to re-check, or a filter), else a limit.
fn limited(plan: Arc<dyn ExecutionPlan>, fetch: usize) -> DfResult<Arc<dyn ExecutionPlan>> {
    if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        let input = limited(Arc::clone(projection.input()), fetch)?;
        return replace_children_if_necessary(plan, vec![input]);
    }
    Ok(plan
        .with_fetch(Some(fetch))
        .unwrap_or_else(|| Arc::new(GlobalLimitExec::new(plan, 0, Some(fetch)))))
}

/// `order` in terms of the filter's input columns (the filter may carry a projection);
/// `None` unless every key is a plain column.
fn input_order(filter: &FilterExec, order: &[PhysicalSortExpr]) -> Option<Vec<PhysicalSortExpr>> {
    let input_schema = filter.input().schema();
    order
        .iter()
        .map(|e| {
            let column = e.expr.downcast_ref::<Column>()?;
            let index = match filter.projection() {
                Some(p) => *p.get(column.index())?,
                None => column.index(),
            };
            let name = input_schema.fields().get(index)?.name();
            Some(PhysicalSortExpr::new(
                Arc::new(Column::new(name, index)),
                e.options,
            ))
        })
        .collect()
}
