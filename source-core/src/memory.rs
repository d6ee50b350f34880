//! A tiny in-memory source: the reference implementation of the trait, used in examples and
//! in tests of code that consumes any [`DataSource`].

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::DataType;

use crate::{
    BoxFuture, ColumnInfo, DataSource, Error, Filter, FilterSupport, Op, RecordBatchStream, Result,
    ScanRequest, TableInfo, TableKind, Value, Writable,
};

/// One read-only table `colours (Id BIGINT key, Name TEXT)` held in memory, served in pages of
/// `page_size` rows. It pushes down `Id = n` exactly and nothing else.
#[derive(Debug, Clone)]
pub struct MemorySource {
    rows: Vec<(i64, Option<String>)>,
    page_size: usize,
}

impl MemorySource {
    /// Five colours, pages of two rows.
    pub fn example() -> Self {
        let names = ["red", "green", "blue", "cyan", "magenta"];
        Self {
            rows: names
                .iter()
                .zip(1..)
                .map(|(n, id)| (id, Some((*n).to_owned())))
                .collect(),
            page_size: 2,
        }
    }

    fn info() -> TableInfo {
        TableInfo {
            name: "colours".into(),
            kind: TableKind::View,
            description: "Example colours".into(),
            columns: vec![
                ColumnInfo::new("Id", DataType::Int64, "BIGINT")
                    .key()
                    .describe("Row id"),
                ColumnInfo::new("Name", DataType::Utf8, "TEXT").describe("Colour name"),
            ],
            writable: Writable::NONE,
            required_filters: Vec::new(),
        }
    }
}

impl DataSource for MemorySource {
    fn name(&self) -> &str {
        "memory"
    }

    fn list_tables(&self) -> BoxFuture<'_, Result<Vec<TableInfo>>> {
        Box::pin(async { Ok(vec![Self::info()]) })
    }

    fn filter_support(&self, _table: &TableInfo, filter: &Filter) -> FilterSupport {
        match (filter.column.as_str(), filter.op, &filter.value) {
            ("Id", Op::Eq, Value::Int(_)) => FilterSupport::Exact,
            _ => FilterSupport::Unsupported,
        }
    }

    fn scan<'a>(
        &'a self,
        table: &'a str,
        request: ScanRequest,
    ) -> BoxFuture<'a, Result<RecordBatchStream>> {
        Box::pin(async move {
            let info = crate::find_table(&[Self::info()], table)?.clone();
            let schema = info.projected_schema(request.projection.as_deref())?;
            let mut wanted = None;
            for f in &request.filters {
                match (f.column.as_str(), f.op, &f.value) {
                    ("Id", Op::Eq, Value::Int(id)) => wanted = Some(*id),
                    _ => {
                        return Err(Error::UnsupportedFilter {
                            table: info.name.clone(),
                            column: f.column.clone(),
                            op: f.op.to_string(),
                        });
                    }
                }
            }
            let limit = request
                .limit
                .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
            let rows: Vec<_> = self
                .rows
                .iter()
                .filter(|(id, _)| wanted.is_none_or(|w| w == *id))
                .take(limit)
                .cloned()
                .collect();
            let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
            let pages: Vec<Result<RecordBatch>> = rows
                .chunks(self.page_size.max(1))
                .map(|page| {
                    let columns: Vec<ArrayRef> = names
                        .iter()
                        .map(|n| -> ArrayRef {
                            if n == "Id" {
                                Arc::new(Int64Array::from_iter_values(page.iter().map(|r| r.0)))
                            } else {
                                Arc::new(StringArray::from_iter(page.iter().map(|r| r.1.clone())))
                            }
                        })
                        .collect();
                    let options =
                        arrow_array::RecordBatchOptions::new().with_row_count(Some(page.len()));
                    RecordBatch::try_new_with_options(schema.clone(), columns, &options)
                        .map_err(Error::from)
                })
                .collect();
            debug_assert!(pages.iter().all(|p| {
                p.as_ref()
                    .map_or(true, |b| b.num_rows() <= self.page_size.max(1))
            }));
            Ok(RecordBatchStream::new(schema, futures::stream::iter(pages)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use futures::TryStreamExt;

    #[tokio::test]
    async fn pages_projection_and_key_filter() {
        let s = MemorySource::example();
        let batches: Vec<RecordBatch> = s
            .scan("colours", ScanRequest::all())
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            batches
                .iter()
                .map(RecordBatch::num_rows)
                .collect::<Vec<_>>(),
            vec![2, 2, 1]
        );
        let req = ScanRequest::all()
            .project(["Name"])
            .filter(Filter::new("Id", Op::Eq, 3i64));
        let batches: Vec<RecordBatch> = s
            .scan("colours", req)
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].num_columns(), 1);
        let names = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(names.value(0), "blue");
        assert!(names.is_valid(0));
        let err = s.table("colour").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown table `colour`; did you mean `colours`?"
        );
        let err = s.insert("colours", batches[0].clone()).await.unwrap_err();
        assert_eq!(err.to_string(), "insert is not supported on `colours`");
    }
}
