//! Scans: a plan of API calls ("parts"), each one page or a count/offset-paged listing,
//! read in order as the stream is polled.
//!
//! A paged part asks for the first page at offset 0. Its `totalCount` makes every remaining
//! offset known, so up to `concurrency` pages are requested at once (each still waits for a
//! pacer slot, in page order) and emitted in order. At most `concurrency` pages (bodies or
//! decoded batches) exist at any moment, whatever the list size.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::stream::{self, BoxStream, StreamExt};
use serde_json::Value as J;
use source_core::RecordBatchStream;

use crate::Error;
use crate::client::{Call, Client};
use crate::decode;
use crate::views::Col;

/// Where the rows are in a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Items {
    /// An array of objects under this key (`result`, `msgresult`, `counts`).
    Key(&'static str),
    /// The body is an array of objects.
    Root,
    /// The body is the one row.
    One,
    /// `folders[].programs[]`.
    Programs,
    /// A folder array without paging (`[{"entries": [...], <key>: folder}]`): the rows are
    /// the entries, each given `folderName` from its group's `key` (`name` or `folder`).
    Folders(&'static str),
    /// The body is an array, or an object with the array under the first of these keys
    /// present. For answers whose envelope is a GUESS, so either reading works.
    AnyOf(&'static [&'static str]),
    /// A list download: `headers` and `data` rows aligned to them.
    Table,
}

/// One API call (or one paged listing) of a scan.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub(crate) call: Call,
    /// Read with `count`/`offset` until `totalCount`.
    pub(crate) paged: bool,
    /// Paged with `page` (from 0) and `pageSize` instead (the `/ucl/v2` family).
    pub(crate) page_numbers: bool,
    pub(crate) items: Items,
    /// Fields set on every row object (pseudo columns: the filter value that chose the rows).
    pub(crate) inject: Vec<(&'static str, J)>,
    /// Body fields copied onto every row object: (field, JSON pointer in the body).
    pub(crate) lift: Vec<(&'static str, &'static str)>,
    /// Keep only rows whose field (a JSON pointer) is one of the values, for each entry:
    /// filters the connector applies itself because the endpoint has no parameter for them.
    pub(crate) keep: Vec<(&'static str, Vec<String>)>,
    /// Row fields holding Unix seconds (`/ucl/v2`), turned into milliseconds before decoding.
    pub(crate) seconds: &'static [&'static str],
    /// `__view` from `id` (ContactList.ViewName).
    pub(crate) views: Option<Arc<HashMap<String, String>>>,
    /// A "no such record" answer means no rows: a lookup by key (`WHERE ContactId = …`) of a
    /// record that does not exist is an empty result in SQL, not an error.
    pub(crate) missing_is_empty: bool,
}

impl Part {
    pub(crate) fn new(call: Call, paged: bool, items: Items) -> Self {
        Self {
            call,
            paged,
            page_numbers: false,
            items,
            inject: Vec::new(),
            lift: Vec::new(),
            keep: Vec::new(),
            seconds: &[],
            views: None,
            missing_is_empty: false,
        }
    }

    pub(crate) fn inject(mut self, field: &'static str, value: impl Into<J>) -> Self {
        self.inject.push((field, value.into()));
        self
    }
}

/// Everything a scan needs, shared by its page fetches.
#[derive(Debug)]
pub(crate) struct Scan {
    pub(crate) client: Client,
    pub(crate) parts: Vec<Part>,
    /// The projected columns' sources.
    pub(crate) cols: Vec<Col>,
    pub(crate) schema: SchemaRef,
    /// The view name, for messages.
    pub(crate) table: String,
    pub(crate) page_size: u64,
    pub(crate) limit: Option<u64>,
    pub(crate) concurrency: usize,
}

/// The entries of a folder array, each with `folderName` set from its group's `key`.
fn folder_rows(body: &J, key: &str) -> Vec<J> {
    let mut rows = Vec::new();
    for group in body.as_array().into_iter().flatten() {
        let folder = group.get(key).cloned().unwrap_or(J::Null);
        for entry in group
            .get("entries")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let mut entry = entry.clone();
            if let Some(obj) = entry.as_object_mut() {
                obj.insert("folderName".to_owned(), folder.clone());
            }
            rows.push(entry);
        }
    }
    rows
}

/// Unix seconds (a number or a numeric string) as milliseconds.
fn seconds_to_ms(v: &J) -> Option<i64> {
    crate::dates::unix_seconds_ms(v)
}

/// `batch` cut into slices of at most `size` rows (zero-copy); an empty batch stays one.
fn slices(batch: Result<RecordBatch, Error>, size: usize) -> Vec<Result<RecordBatch, Error>> {
    let batch = match batch {
        Ok(b) => b,
        Err(e) => return vec![Err(e)],
    };
    let rows = batch.num_rows();
    if rows <= size {
        return vec![Ok(batch)];
    }
    (0..rows)
        .step_by(size.max(1))
        .map(|start| Ok(batch.slice(start, size.min(rows - start))))
        .collect()
}

/// A decoded page: its batch, the `totalCount` it announced and the rows the API sent.
struct Page {
    batch: RecordBatch,
    total: Option<u64>,
    got: u64,
}

type Pages = BoxStream<'static, Result<RecordBatch, Error>>;

struct State {
    next_part: usize,
    current: Option<Pages>,
    emitted: u64,
    done: bool,
}

impl Scan {
    fn context(&self) -> String {
        format!("reading `{}`", self.table)
    }

    async fn fetch(&self, part: &Part, page: Option<(u64, u64)>) -> Result<Page, Error> {
        let mut call = part.call.clone();
        call.context = self.context();
        match page {
            // `page` counts pages of `pageSize` rows: offsets are multiples of the size.
            Some((offset, count)) if part.page_numbers => {
                call = call
                    .param("page", (offset / count.max(1)).to_string())
                    .param("pageSize", count.to_string());
            }
            Some((offset, count)) => {
                call = call
                    .param("count", count.to_string())
                    .param("offset", offset.to_string());
            }
            None => {}
        }
        // Errors name the ids of the call (list, message, period), which Act-On's do not.
        let body: J = match self.client.json(&call).await {
            Ok(body) => body,
            Err(e) if part.missing_is_empty && e.is_missing_record() => {
                return Ok(Page {
                    batch: RecordBatch::new_empty(self.schema.clone()),
                    total: Some(0),
                    got: 0,
                });
            }
            Err(e) => return Err(e.about(&call)),
        };
        let total = body.get("totalCount").and_then(|t| match t {
            J::Number(n) => n.as_u64(),
            J::String(s) => s.parse().ok(),
            _ => None,
        });
        let context = call.context.as_str();
        if part.items == Items::Table {
            let headers: Vec<String> = match body.get("headers") {
                Some(h) => serde_json::from_value(h.clone())
                    .map_err(|e| Error::decode(context, format!("headers: {e}")))?,
                None => Vec::new(),
            };
            let empty = Vec::new();
            let data = body.get("data").and_then(J::as_array).unwrap_or(&empty);
            let batch = decode::decode_table(&headers, data, &self.cols, &self.schema, context)?;
            return Ok(Page {
                got: data.len() as u64,
                batch,
                total,
            });
        }
        let mut rows: Vec<J> = match part.items {
            Items::Key(key) => match body.get(key) {
                Some(J::Array(a)) => a.clone(),
                _ => Vec::new(),
            },
            Items::Root => match &body {
                J::Array(a) => a.clone(),
                _ => Vec::new(),
            },
            Items::One => vec![body.clone()],
            Items::Programs => body
                .get("folders")
                .and_then(J::as_array)
                .into_iter()
                .flatten()
                .filter_map(|f| f.get("programs").and_then(J::as_array))
                .flatten()
                .cloned()
                .collect(),
            Items::Table => Vec::new(),
            Items::Folders(key) => folder_rows(&body, key),
            Items::AnyOf(keys) => match &body {
                J::Array(a) => a.clone(),
                _ => keys
                    .iter()
                    .find_map(|k| body.get(*k).and_then(J::as_array))
                    .cloned()
                    .unwrap_or_default(),
            },
        };
        let got = rows.len() as u64;
        for row in &mut rows {
            let Some(obj) = row.as_object_mut() else {
                continue;
            };
            for (field, value) in &part.inject {
                obj.insert((*field).to_owned(), value.clone());
            }
            for field in part.seconds {
                if let Some(ms) = obj.get(*field).and_then(seconds_to_ms) {
                    obj.insert((*field).to_owned(), J::from(ms));
                }
            }
            for (field, pointer) in &part.lift {
                if let Some(v) = body.pointer(pointer) {
                    obj.insert((*field).to_owned(), v.clone());
                }
            }
            if let Some(views) = &part.views
                && let Some(view) = obj
                    .get("id")
                    .and_then(J::as_str)
                    .and_then(|id| views.get(id))
            {
                obj.insert("__view".to_owned(), J::String(view.clone()));
            }
        }
        for (pointer, values) in &part.keep {
            rows.retain(|r| {
                r.pointer(pointer)
                    .and_then(J::as_str)
                    .is_some_and(|v| values.iter().any(|x| x == v))
            });
        }
        let batch = decode::decode_objects(&rows, &self.cols, &self.schema, context)?;
        Ok(Page { batch, total, got })
    }

    /// The batches of one part, at most `limit` rows' worth of pages.
    fn part_stream(self: Arc<Self>, index: usize, limit: Option<u64>) -> Pages {
        let Some(part) = self.parts.get(index).cloned() else {
            return stream::empty().boxed();
        };
        if !part.paged {
            // One answer holds every row (folder arrays): hand it on in pages of the page
            // size, so batches look the same as for paged endpoints.
            let size = usize::try_from(self.page_size.max(1)).unwrap_or(usize::MAX);
            return stream::once(async move { self.fetch(&part, None).await.map(|p| p.batch) })
                .flat_map(move |batch| stream::iter(slices(batch, size)))
                .boxed();
        }
        let page_size = self.page_size.max(1);
        // Page numbers address pages of one fixed size, so every request asks for a full one.
        let first_count = if part.page_numbers {
            page_size
        } else {
            limit.map_or(page_size, |l| l.min(page_size)).max(1)
        };
        let part = Arc::new(part);
        stream::once({
            let scan = self.clone();
            let part = part.clone();
            async move { scan.fetch(&part, Some((0, first_count))).await }
        })
        .flat_map(move |first| {
            let page = match first {
                Ok(p) => p,
                Err(e) => return stream::once(async move { Err(e) }).boxed(),
            };
            let Page { batch, total, got } = page;
            let head = stream::once(async move { Ok(batch) });
            if got == 0 {
                return head.boxed();
            }
            // A server that sends fewer rows than asked has a lower maximum: step by what it
            // sent. Numbered pages keep their size (a short page may only mean fewer rows).
            let (from, step) = if part.page_numbers {
                (first_count, first_count)
            } else if got < first_count {
                (got, got)
            } else {
                (got, page_size)
            };
            let rest: Pages = match total {
                Some(total) => {
                    let end = limit.map_or(total, |l| l.min(total));
                    self.clone().known_pages(part.clone(), from, end, step)
                }
                // Without a total, read on while pages come back full.
                None if got == first_count => {
                    self.clone()
                        .sequential_pages(part.clone(), from, step, limit)
                }
                None => stream::empty().boxed(),
            };
            head.chain(rest).boxed()
        })
        .boxed()
    }

    /// Pages from `from` to `end` (exclusive), `concurrency` at a time, in order.
    fn known_pages(self: Arc<Self>, part: Arc<Part>, from: u64, end: u64, step: u64) -> Pages {
        let concurrency = self.concurrency.max(1);
        let offsets = (from..end).step_by(usize::try_from(step).unwrap_or(usize::MAX));
        stream::iter(offsets)
            .map(move |offset| {
                let scan = self.clone();
                let part = part.clone();
                async move {
                    let count = if part.page_numbers {
                        step
                    } else {
                        step.min(end - offset)
                    };
                    scan.fetch(&part, Some((offset, count)))
                        .await
                        .map(|p| p.batch)
                }
            })
            .buffered(concurrency)
            .boxed()
    }

    /// Pages one after another from `from` until a short or empty page (or `limit`).
    fn sequential_pages(
        self: Arc<Self>,
        part: Arc<Part>,
        from: u64,
        step: u64,
        limit: Option<u64>,
    ) -> Pages {
        stream::unfold(Some(from), move |offset| {
            let scan = self.clone();
            let part = part.clone();
            async move {
                let offset = offset?;
                let count = match limit {
                    Some(l) if offset >= l => 0,
                    Some(l) if !part.page_numbers => step.min(l - offset),
                    _ => step,
                };
                if count == 0 {
                    return None;
                }
                match scan.fetch(&part, Some((offset, count))).await {
                    Ok(p) => {
                        let next = (p.got == count).then_some(offset + count);
                        Some((Ok(p.batch), next))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        })
        .boxed()
    }

    /// The scan as a stream of batches: the parts in order, cut at the limit.
    pub(crate) fn stream(self: Arc<Self>) -> RecordBatchStream {
        let schema = self.schema.clone();
        let initial = State {
            next_part: 0,
            current: None,
            emitted: 0,
            done: false,
        };
        let stream = stream::unfold(initial, move |mut st| {
            let scan = self.clone();
            async move {
                loop {
                    if st.done {
                        return None;
                    }
                    let remaining = scan.limit.map(|l| l.saturating_sub(st.emitted));
                    if remaining == Some(0) {
                        return None;
                    }
                    let Some(current) = st.current.as_mut() else {
                        if st.next_part >= scan.parts.len() {
                            return None;
                        }
                        st.current = Some(scan.clone().part_stream(st.next_part, remaining));
                        st.next_part += 1;
                        continue;
                    };
                    match current.next().await {
                        None => st.current = None,
                        Some(Err(e)) => {
                            st.done = true;
                            st.current = None;
                            return Some((Err(e.into()), st));
                        }
                        Some(Ok(batch)) if batch.num_rows() == 0 => {}
                        Some(Ok(batch)) => {
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
                }
            }
        });
        RecordBatchStream::new(schema, stream)
    }
}
