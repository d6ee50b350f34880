//! Row scans: one batch per page, pages fetched as the stream is polled.
//!
//! The first page is asked for with `offset=0`. When HubSpot answers RANDOM_ACCESS with a
//! total, every remaining page's offset is known, so up to `concurrency` pages are fetched at
//! once (each still waits for a rate-limit slot) and emitted in order; otherwise the scan
//! follows `paging.next.after` (STREAMING) or `paging.next.offset` one page at a time. At
//! most `concurrency` decoded pages exist at any moment, whatever the table size.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::stream::{BoxStream, StreamExt};
use source_core::RecordBatchStream;

use crate::Error;
use crate::client::{Call, Client};
use crate::decode::{self, OwnersPage, RowsPage};
use crate::schema::Col;

/// How row pages are requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PagingMode {
    /// Ask for RANDOM_ACCESS (`offset`) paging and fetch known pages concurrently; follow
    /// whatever paging the server answers with.
    #[default]
    Auto,
    /// Follow `paging.next.after` cursors (STREAMING), one page at a time.
    Cursor,
}

/// Everything a row scan needs, shared by its page fetches.
#[derive(Debug)]
pub(crate) struct RowScan {
    pub(crate) client: Client,
    /// `{hubdb prefix}/tables/{id}/rows[/draft]`.
    pub(crate) path: Vec<String>,
    /// Filters, sort and properties.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) cols: Vec<Col>,
    pub(crate) schema: SchemaRef,
    /// The relation name, for messages.
    pub(crate) table: String,
    pub(crate) page_size: u64,
    pub(crate) limit: Option<u64>,
    pub(crate) paging: PagingMode,
    pub(crate) concurrency: usize,
}

enum Next {
    Start,
    After(String),
    Offset(u64),
    Pages(BoxStream<'static, Result<RecordBatch, Error>>),
    Done,
}

struct State {
    next: Next,
    emitted: u64,
}

impl RowScan {
    fn context(&self) -> String {
        format!("reading `{}`", self.table)
    }

    async fn fetch(&self, extra: Vec<(String, String)>) -> Result<RowsPage, Error> {
        let context = self.context();
        let mut call = Call::get(self.path.clone(), &context);
        call.query = self.query.clone();
        call.query.extend(extra);
        self.client.json(&call).await
    }

    fn decode(&self, page: &RowsPage) -> Result<RecordBatch, Error> {
        decode::decode_rows(&page.results, &self.cols, &self.schema, &self.table)
    }

    fn page_query(size: u64, key: &str, value: String) -> Vec<(String, String)> {
        vec![("limit".into(), size.to_string()), (key.into(), value)]
    }

    /// The pages from `from` to `end` (exclusive), fetched `concurrency` at a time, in order.
    fn pages(
        self: &Arc<Self>,
        from: u64,
        end: u64,
    ) -> BoxStream<'static, Result<RecordBatch, Error>> {
        let step = self.page_size.max(1);
        let offsets: Vec<u64> = (from..end)
            .step_by(usize::try_from(step).unwrap_or(usize::MAX))
            .collect();
        let scan = self.clone();
        futures::stream::iter(offsets)
            .map(move |offset| {
                let scan = scan.clone();
                async move {
                    let size = step.min(end - offset);
                    let page = scan
                        .fetch(Self::page_query(size, "offset", offset.to_string()))
                        .await?;
                    scan.decode(&page)
                }
            })
            .buffered(self.concurrency.max(1))
            .boxed()
    }

    /// What follows `page`, which started at `start`.
    fn after_page(self: &Arc<Self>, page: &RowsPage, start: u64) -> Next {
        let Some(next) = page.paging.as_ref().and_then(|p| p.next.as_ref()) else {
            return Next::Done;
        };
        if let Some(after) = next.after() {
            return Next::After(after);
        }
        let Some(offset) = next.offset() else {
            return Next::Done;
        };
        if offset <= start {
            // A server that does not advance would loop forever.
            return Next::Done;
        }
        let random = page.kind.as_deref() == Some("RANDOM_ACCESS");
        match page.total {
            Some(total) if random && self.concurrency > 1 => {
                let end = self.limit.map_or(total, |l| l.min(total));
                if offset >= end {
                    Next::Done
                } else {
                    Next::Pages(self.pages(offset, end))
                }
            }
            _ => Next::Offset(offset),
        }
    }

    /// The scan as a stream of batches.
    pub(crate) fn stream(self: Arc<Self>) -> RecordBatchStream {
        let schema = self.schema.clone();
        let initial = State {
            next: Next::Start,
            emitted: 0,
        };
        let stream = futures::stream::unfold(initial, move |mut st| {
            let scan = self.clone();
            async move {
                loop {
                    let remaining = scan.limit.map(|l| l.saturating_sub(st.emitted));
                    if remaining == Some(0) {
                        return None;
                    }
                    let size = remaining.map_or(scan.page_size, |r| r.min(scan.page_size));
                    let result = match std::mem::replace(&mut st.next, Next::Done) {
                        Next::Done => return None,
                        Next::Pages(mut pages) => match pages.next().await {
                            None => return None,
                            Some(batch) => {
                                st.next = Next::Pages(pages);
                                batch
                            }
                        },
                        position => {
                            let (query, start) = match position {
                                Next::After(after) => {
                                    (Self::page_query(size, "after", after), st.emitted)
                                }
                                Next::Offset(o) => {
                                    (Self::page_query(size, "offset", o.to_string()), o)
                                }
                                _ => match scan.paging {
                                    PagingMode::Auto => {
                                        (Self::page_query(size, "offset", "0".into()), 0)
                                    }
                                    PagingMode::Cursor => {
                                        (vec![("limit".into(), size.to_string())], 0)
                                    }
                                },
                            };
                            match scan.fetch(query).await {
                                Ok(page) => {
                                    st.next = scan.after_page(&page, start);
                                    scan.decode(&page)
                                }
                                Err(e) => Err(e),
                            }
                        }
                    };
                    let batch = match result {
                        Ok(b) => b,
                        // After an error the stream ends (`st.next` is Done or the page stream).
                        Err(e) => {
                            st.next = Next::Done;
                            return Some((Err(e.into()), st));
                        }
                    };
                    if batch.num_rows() == 0 {
                        continue;
                    }
                    let batch = match remaining {
                        Some(r) if (batch.num_rows() as u64) > r => {
                            batch.slice(0, usize::try_from(r).unwrap_or(usize::MAX))
                        }
                        _ => batch,
                    };
                    st.emitted += batch.num_rows() as u64;
                    return Some((Ok(batch), st));
                }
            }
        });
        RecordBatchStream::new(schema, stream)
    }
}

/// The `Owners` view: active owners, then archived ones, 500 a page.
#[derive(Debug)]
pub(crate) struct OwnerScan {
    pub(crate) client: Client,
    pub(crate) schema: SchemaRef,
    /// Which lists to read: `false` = active, `true` = archived.
    pub(crate) archived: Vec<bool>,
    pub(crate) limit: Option<u64>,
}

impl OwnerScan {
    pub(crate) fn stream(self: Arc<Self>) -> RecordBatchStream {
        let schema = self.schema.clone();
        // (index into `archived`, cursor, rows emitted)
        let stream = futures::stream::unfold(
            (0usize, None::<String>, 0u64),
            move |(mut list, mut after, emitted)| {
                let scan = self.clone();
                async move {
                    let archived = *scan.archived.get(list)?;
                    if scan.limit.is_some_and(|l| emitted >= l) {
                        return None;
                    }
                    let context = "reading `Owners`".to_owned();
                    let mut call = Call::get(scan.client.owners_path(), &context);
                    call.query.push(("limit".into(), "500".into()));
                    if archived {
                        call.query.push(("archived".into(), "true".into()));
                    }
                    if let Some(a) = &after {
                        call.query.push(("after".into(), a.clone()));
                    }
                    let page: OwnersPage = match scan.client.json(&call).await {
                        Ok(p) => p,
                        Err(e) => return Some((Err(e.into()), (usize::MAX, None, emitted))),
                    };
                    match page
                        .paging
                        .as_ref()
                        .and_then(|p| p.next.as_ref())
                        .and_then(|n| n.after())
                    {
                        Some(next) => after = Some(next),
                        None => {
                            list += 1;
                            after = None;
                        }
                    }
                    let batch = match decode::decode_owners(&page.results, &scan.schema) {
                        Ok(b) => b,
                        Err(e) => return Some((Err(e.into()), (usize::MAX, None, emitted))),
                    };
                    let batch = match scan.limit {
                        Some(l) if emitted + batch.num_rows() as u64 > l => {
                            batch.slice(0, usize::try_from(l - emitted).unwrap_or(0))
                        }
                        _ => batch,
                    };
                    let emitted = emitted + batch.num_rows() as u64;
                    Some((Ok(batch), (list, after, emitted)))
                }
            },
        );
        RecordBatchStream::new(schema, stream)
    }
}
