//! The Act-On [`DataSource`]: views, lists and paced scans (the `data` feature).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::{ActOnAuthScheme, ActOnConfig};
use auth_core::SharedTokenProvider;
use serde_json::Value as J;
use source_core::{
    BoxFuture, DataSource, Filter, FilterSupport, RecordBatchStream, ScanRequest, TableInfo,
};

use crate::client::{self, Client, api_call};
use crate::pacer::{self, Pacer};
use crate::views::{
    self, CREATED_DATE, Kind, ListEntry, MODIFIED_DATE, Relation, SCORE_SUFFIX, SEGMENT_PREFIX,
};
use crate::{Error, pushdown, scan, write};
use arrow_array::RecordBatch;
use source_core::WriteOutcome;
use source_http::ApiClient;

/// The most rows a `/api/1` page returns (`count` ≤ 1000).
pub const MAX_PAGE_SIZE: u64 = 1000;
/// Segments per page of `GET /ucl/v2/{accountId}/segment/` (the spec's default).
const SEGMENT_PAGE_SIZE: u64 = 50;
/// Pages requested at once when their offsets are known.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Tuning knobs with sensible defaults.
///
/// ```
/// let o = source_acton::ActOnOptions::default();
/// assert_eq!((o.concurrency, o.requests_per_second), (8, 5));
/// ```
#[derive(Debug, Clone)]
pub struct ActOnOptions {
    /// Pages requested at once (the look-ahead of a scan). 1 = sequential.
    pub concurrency: usize,
    /// The account's limit: requests per second through the shared pacer. 0 turns pacing
    /// off (for emulators without a limit).
    pub requests_per_second: u32,
}

impl Default for ActOnOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            requests_per_second: pacer::DEFAULT_RATE,
        }
    }
}

/// A connection to one Act-On account.
///
/// Cheap to clone; clones share the catalog cache and the pacer.
#[derive(Debug, Clone)]
pub struct ActOnSource {
    inner: Arc<Inner>,
}

/// A list's headers and e-mail column, as a one-record download reports them.
#[derive(Debug)]
struct ListHeaders {
    headers: Vec<String>,
    email_column: Option<String>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    options: ActOnOptions,
    page_size: u64,
    max_rows: Option<u64>,
    lists: tokio::sync::Mutex<Option<Arc<Vec<ListEntry>>>>,
    headers: Mutex<HashMap<String, Arc<ListHeaders>>>,
    /// UCL segments, named like lists (`Segment_<Name>`).
    segments: tokio::sync::Mutex<Option<Arc<Vec<ListEntry>>>>,
    /// The account id of `/ucl/v2/{accountId}/…` paths, from `GET /api/1/account`.
    account_id: tokio::sync::Mutex<Option<String>>,
}

/// Identifies the account whose allowance requests consume, without keeping secrets.
fn account_key(config: &ActOnConfig, token_hint: &str) -> String {
    let base = config.common.api_base_url.as_str().trim_end_matches('/');
    let who = match (
        config.auth_scheme,
        &config.user,
        &config.common.oauth_client_id,
    ) {
        (ActOnAuthScheme::OAuthPassword, Some(user), _) => format!("user:{}", user.to_lowercase()),
        // Without a user the account is unknown before a request: connections of one app
        // share a pacer, which can only be slower than needed, never faster.
        (_, _, Some(client)) => format!("client:{client}"),
        _ => match &config.common.oauth_access_token {
            // The same given token is the same account; keep only a hash of it.
            Some(token) => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                token.expose().hash(&mut h);
                format!("token:{:016x}", h.finish())
            }
            None => format!("token:{token_hint}"),
        },
    };
    format!("{base}|{who}")
}

#[derive(serde::Deserialize)]
struct ListAsset {
    #[serde(default)]
    id: Option<J>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "folderName")]
    folder_name: Option<String>,
    /// The older pages' `size`; the spec copy has `sourceSize`, a string (read both).
    #[serde(default)]
    size: Option<J>,
    #[serde(default, rename = "sourceSize")]
    source_size: Option<J>,
}

#[derive(serde::Deserialize)]
struct AssetsPage {
    #[serde(default)]
    result: Vec<ListAsset>,
    #[serde(default, rename = "totalCount")]
    total_count: Option<u64>,
}

/// The one field a count needs from a one-record download.
#[derive(serde::Deserialize)]
struct CountPage {
    /// A number, or a numeric string (as `sourceSize` is in the spec copy).
    #[serde(default, rename = "totalCount")]
    total_count: Option<J>,
}

#[derive(serde::Deserialize)]
struct HeadersPage {
    #[serde(default)]
    headers: Vec<String>,
    /// An index into `headers` (spec copy, D3) or a header name (older pages).
    #[serde(default, rename = "emailColumn")]
    email_column: Option<J>,
}

impl ActOnSource {
    /// Connects with default [`ActOnOptions`]. No request is made until the first call.
    pub fn connect(config: &ActOnConfig, tokens: SharedTokenProvider) -> Result<Self, Error> {
        Self::connect_with(config, tokens, ActOnOptions::default())
    }

    /// Connects with explicit options.
    pub fn connect_with(
        config: &ActOnConfig,
        tokens: SharedTokenProvider,
        options: ActOnOptions,
    ) -> Result<Self, Error> {
        let key = account_key(config, &format!("{:p}", Arc::as_ptr(&tokens)));
        let pacer = pacer::shared(&key, options.requests_per_second);
        let api = ApiClient::connect(&client::SERVICE, &config.common, tokens, pacer)?;
        let client = Client::new(api, &client::SERVICE);
        let page_size = config
            .common
            .pagesize
            .map_or(MAX_PAGE_SIZE, |p| u64::from(p).clamp(1, MAX_PAGE_SIZE));
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                options,
                page_size,
                max_rows: config.common.max_rows.filter(|m| *m > 0),
                lists: tokio::sync::Mutex::new(None),
                headers: Mutex::new(HashMap::new()),
                segments: tokio::sync::Mutex::new(None),
                account_id: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// The pacer this connection's requests go through (shared per account in the process).
    pub fn pacer(&self) -> Arc<Pacer> {
        self.inner.client.limiter().clone()
    }

    /// The page size in use (`Pagesize`, capped at [`MAX_PAGE_SIZE`]).
    pub fn page_size(&self) -> u64 {
        self.inner.page_size
    }

    /// The paced client, for procedures (writes of [`crate::procedures`]).
    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The contact lists, re-read from Act-On (procedures resolve names with it).
    pub(crate) async fn fresh_lists(&self) -> Result<Arc<Vec<ListEntry>>, Error> {
        self.load_lists().await
    }

    /// Reads the contact lists and names their views.
    async fn load_lists(&self) -> Result<Arc<Vec<ListEntry>>, Error> {
        let mut lists = Vec::new();
        let mut offset = 0u64;
        loop {
            let call = api_call(&["list"], "listing contact lists")
                .param("listingtype", "CONTACT_LIST")
                .param("count", MAX_PAGE_SIZE.to_string())
                .param("offset", offset.to_string());
            let page: AssetsPage = self.inner.client.json(&call).await?;
            let got = page.result.len() as u64;
            for asset in page.result {
                let id = match asset.id {
                    Some(J::String(s)) => s,
                    Some(J::Number(n)) => n.to_string(),
                    _ => continue,
                };
                lists.push(ListEntry {
                    name: asset.name.unwrap_or_else(|| id.clone()),
                    id,
                    folder: asset.folder_name,
                    size: crate::decode::count(asset.size.as_ref())
                        .or_else(|| crate::decode::count(asset.source_size.as_ref())),
                    view: String::new(),
                });
            }
            offset += got;
            if got == 0 || page.total_count.is_none_or(|t| offset >= t) {
                break;
            }
        }
        views::assign_view_names(&mut lists);
        let lists = Arc::new(lists);
        *self.inner.lists.lock().await = Some(lists.clone());
        Ok(lists)
    }

    async fn lists(&self) -> Result<Arc<Vec<ListEntry>>, Error> {
        let cached = self.inner.lists.lock().await.clone();
        match cached {
            Some(l) => Ok(l),
            None => self.load_lists().await,
        }
    }

    /// A list's headers, from a one-record download (cached per connection).
    async fn list_headers(&self, entry: &ListEntry) -> Result<Arc<ListHeaders>, Error> {
        let cached = self
            .inner
            .headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&entry.id)
            .cloned();
        if let Some(h) = cached {
            return Ok(h);
        }
        let call = api_call(
            &["list", &entry.id],
            format!("reading the columns of `{}`", entry.view),
        )
        .param("count", "1")
        .param("offset", "0");
        let page: HeadersPage = self.inner.client.json(&call).await?;
        let email_column = crate::decode::email_column(page.email_column.as_ref(), &page.headers);
        let headers = Arc::new(ListHeaders {
            headers: page.headers,
            email_column,
        });
        self.inner
            .headers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(entry.id.clone(), headers.clone());
        Ok(headers)
    }

    async fn list_relation(&self, entry: &ListEntry) -> Result<Relation, Error> {
        let h = self.list_headers(entry).await?;
        Ok(views::list_view(
            entry,
            &h.headers,
            h.email_column.as_deref(),
        ))
    }

    /// The records of a `List_<Name>` view: a one-record download (`count=1`), paced like
    /// every request, read for its `totalCount`. `None` for other views (no cheap count) and
    /// when the answer has no readable `totalCount`.
    async fn count_list(&self, rel: &Relation) -> Result<Option<u64>, Error> {
        let (Kind::List, Some(id)) = (rel.kind, rel.list_id.as_deref()) else {
            return Ok(None);
        };
        let call = api_call(
            &["list", id],
            format!("counting the records of `{}`", rel.info.name),
        )
        .param("count", "1")
        .param("offset", "0");
        let page: CountPage = self.inner.client.json(&call).await?;
        Ok(crate::decode::count(page.total_count.as_ref()))
    }

    /// The account id UCL paths need (one `GET /api/1/account` per connection).
    async fn account_id(&self) -> Result<String, Error> {
        let mut cached = self.inner.account_id.lock().await;
        if let Some(id) = cached.as_ref() {
            return Ok(id.clone());
        }
        let call = api_call(&["account"], "reading the account id for /ucl/v2");
        let body: J = self.inner.client.json(&call).await?;
        let id = match body.get("account_id").or_else(|| body.get("accountId")) {
            Some(J::Number(n)) => n.to_string(),
            Some(J::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(Error::decode(
                    "reading the account id for /ucl/v2",
                    "the account has no `account_id`",
                ));
            }
        };
        *cached = Some(id.clone());
        Ok(id)
    }

    /// Reads the UCL segments (`page`/`pageSize` paging) and names their views.
    async fn load_segments(&self) -> Result<Arc<Vec<ListEntry>>, Error> {
        let account = self.account_id().await?;
        let mut segments = Vec::new();
        for page in 0u64.. {
            let call = source_http::Call::get(
                ["ucl", "v2", account.as_str(), "segment", ""],
                "listing segments",
            )
            .param("page", page.to_string())
            .param("pageSize", SEGMENT_PAGE_SIZE.to_string());
            let body: J = self.inner.client.json(&call).await?;
            let items = segment_items(&body);
            let got = items.len() as u64;
            segments.extend(items);
            let total = body.get("totalCount").and_then(J::as_u64);
            let seen = (page + 1) * SEGMENT_PAGE_SIZE;
            if got < SEGMENT_PAGE_SIZE || total.is_some_and(|t| seen >= t) {
                break;
            }
        }
        views::assign_segment_names(&mut segments);
        let segments = Arc::new(segments);
        *self.inner.segments.lock().await = Some(segments.clone());
        Ok(segments)
    }

    async fn segments(&self) -> Result<Arc<Vec<ListEntry>>, Error> {
        let cached = self.inner.segments.lock().await.clone();
        match cached {
            Some(s) => Ok(s),
            None => self.load_segments().await,
        }
    }

    /// `Segment_<Name>` or `Segment_<Name>_Score`, reloading the segments once when unknown.
    async fn segment_relation(&self, name: &str) -> Result<Option<Relation>, Error> {
        let mut segments = self.segments().await?;
        if lookup(&segments, name).is_none() {
            segments = self.load_segments().await?;
        }
        Ok(lookup(&segments, name).map(|(entry, score)| {
            if score {
                views::segment_score_view(entry)
            } else {
                views::segment_view(entry)
            }
        }))
    }

    /// The relation called `name`; list views reload the catalog once when not known yet.
    async fn relation(&self, name: &str) -> source_core::Result<Relation> {
        let statics = views::static_views();
        if let Some(r) = find(&statics, name, |r| &r.info.name) {
            return Ok(r.clone());
        }
        let segment_named = name
            .get(..SEGMENT_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(SEGMENT_PREFIX));
        if segment_named && let Some(r) = self.segment_relation(name).await? {
            return Ok(r);
        }
        let mut lists = self.lists().await?;
        if lookup(&lists, name).is_none() {
            lists = self.load_lists().await?;
        }
        match lookup(&lists, name) {
            Some((entry, false)) => Ok(self.list_relation(entry).await?),
            Some((entry, true)) => Ok(views::list_score_view(entry)),
            None => {
                let segments = self.inner.segments.lock().await.clone().unwrap_or_default();
                Err(source_core::Error::unknown_table(
                    name,
                    statics
                        .iter()
                        .map(|r| r.info.name.clone())
                        .chain(lists.iter().map(|l| l.view.clone()))
                        .chain(segments.iter().map(|s| s.view.clone())),
                ))
            }
        }
    }

    /// The segment views for `list_tables`: none when the account has no UCL access (403,
    /// 404), so the other objects stay listed.
    async fn segment_tables(&self) -> Result<Vec<TableInfo>, Error> {
        let segments = match self.load_segments().await {
            Ok(s) => s,
            Err(e) if matches!(e.status(), Some(403 | 404)) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(segments
            .iter()
            .flat_map(|s| {
                [
                    views::segment_view(s).info,
                    views::segment_score_view(s).info,
                ]
            })
            .collect())
    }

    fn scan_relation(
        &self,
        rel: &Relation,
        request: ScanRequest,
        views: Arc<HashMap<String, String>>,
        account: Option<&str>,
    ) -> source_core::Result<RecordBatchStream> {
        let info = &rel.info;
        for f in &request.filters {
            if pushdown::support(rel.kind, info, f) == FilterSupport::Unsupported {
                return Err(source_core::Error::UnsupportedFilter {
                    table: info.name.clone(),
                    column: f.column.clone(),
                    op: f.op.to_string(),
                });
            }
        }
        if !request.order_by.is_empty() {
            return Err(source_core::Error::unsupported(
                "ORDER BY",
                Some(&info.name),
            ));
        }
        let projection = request.projection.as_deref();
        let schema = info.projected_schema(projection)?;
        let cols = rel.project(projection)?;
        let limit = match (request.limit, self.inner.max_rows) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut list_query = Vec::new();
        if rel.kind == Kind::List {
            let dates = [CREATED_DATE, MODIFIED_DATE];
            let wants_dates = cols.iter().any(|c| dates.contains(&c.name.as_str()));
            // `fields` and `datequalifiers` cannot be combined (spec copy, D2): with a date
            // column the whole record is read.
            if projection.is_some() && !wants_dates {
                let mut fields: Vec<&str> = cols
                    .iter()
                    .filter(|c| !dates.contains(&c.name.as_str()))
                    .map(|c| c.key.as_str())
                    .collect();
                if fields.is_empty() {
                    // Only dates or only a row count: one small field keeps the pages small.
                    fields.extend(
                        rel.cols
                            .first()
                            .map(|c| c.key.as_str())
                            .filter(|k| !dates.contains(k)),
                    );
                }
                // `fields` is `;`-separated: a header containing `;` cannot be named in it.
                if !fields.is_empty() && fields.iter().all(|f| !f.contains(';')) {
                    list_query.push(("fields".to_owned(), fields.join(";")));
                }
            }
            if wants_dates {
                list_query.push(("datequalifiers".to_owned(), "true".to_owned()));
            }
            for (column, after, before) in [
                (MODIFIED_DATE, "modafter", "modbefore"),
                (CREATED_DATE, "createdafter", "createdbefore"),
            ] {
                let b = pushdown::bounds(info, &request.filters, column);
                if b.is_empty() {
                    return Ok(RecordBatchStream::empty(schema));
                }
                if let Some(a) = b.after {
                    list_query.push((after.to_owned(), a.to_string()));
                }
                if let Some(x) = b.before {
                    list_query.push((before.to_owned(), x.to_string()));
                }
            }
        }
        let parts = pushdown::plan(rel, &request.filters, views, list_query, account)?;
        if limit == Some(0) || parts.is_empty() {
            return Ok(RecordBatchStream::empty(schema));
        }
        let scan = scan::Scan {
            client: self.inner.client.clone(),
            parts,
            cols,
            schema,
            table: info.name.clone(),
            page_size: self.inner.page_size,
            limit,
            concurrency: self.inner.options.concurrency,
        };
        Ok(Arc::new(scan).stream())
    }
}

/// The segment listing's entries: the body is an array or holds one under a known key
/// (GUESS: the spec shows `{}`).
fn segment_items(body: &J) -> Vec<ListEntry> {
    let items = match body {
        J::Array(a) => Some(a),
        _ => ["segments", "result", "content", "data"]
            .iter()
            .find_map(|k| body.get(*k).and_then(J::as_array)),
    };
    items
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let id = match s.get("id")? {
                J::String(id) => id.clone(),
                J::Number(n) => n.to_string(),
                _ => return None,
            };
            Some(ListEntry {
                name: s
                    .get("name")
                    .and_then(J::as_str)
                    .map_or_else(|| id.clone(), str::to_owned),
                id,
                folder: None,
                size: s.get("contactCount").and_then(J::as_u64),
                view: String::new(),
            })
        })
        .collect()
}

/// The entry whose view is `name` (`false`), or whose score view is (`true`).
fn lookup<'a>(entries: &'a [ListEntry], name: &str) -> Option<(&'a ListEntry, bool)> {
    if let Some(e) = find(entries, name, |e| &e.view) {
        return Some((e, false));
    }
    let cut = name.len().checked_sub(SCORE_SUFFIX.len())?;
    let (base, suffix) = (name.get(..cut)?, name.get(cut..)?);
    if !suffix.eq_ignore_ascii_case(SCORE_SUFFIX) {
        return None;
    }
    find(entries, base, |e| &e.view).map(|e| (e, true))
}

fn find<'a, T>(items: &'a [T], name: &str, key: impl Fn(&T) -> &String) -> Option<&'a T> {
    items
        .iter()
        .find(|i| key(i) == name)
        .or_else(|| items.iter().find(|i| key(i).eq_ignore_ascii_case(name)))
}

impl DataSource for ActOnSource {
    fn name(&self) -> &str {
        "acton"
    }

    fn request_stats(&self) -> Option<source_core::RequestStats> {
        let pacer = self.pacer();
        let (max, window) = pacer.limit();
        Some(source_core::RequestStats {
            sent: pacer.sent(),
            per_second: (max > 0 && !window.is_zero())
                .then(|| f64::from(max) / window.as_secs_f64()),
        })
    }

    /// The static views, then one view per contact list (one request for the lists and one
    /// per list for its headers, cached for the connection).
    /// The static views, every list and segment view. A list's columns come from a one-record
    /// download, so lists are listed undescribed (no columns): [`DataSource::table`] reads
    /// them, and a query of one list costs one such download, not one per list.
    fn list_tables(&self) -> BoxFuture<'_, source_core::Result<Vec<TableInfo>>> {
        Box::pin(async move {
            let lists = self.load_lists().await?;
            let mut tables: Vec<TableInfo> =
                views::static_views().into_iter().map(|r| r.info).collect();
            for entry in lists.iter() {
                tables.push(views::undescribed_list_view(entry).info);
                tables.push(views::list_score_view(entry).info);
            }
            tables.extend(self.segment_tables().await?);
            Ok(tables)
        })
    }

    fn table<'a>(&'a self, name: &'a str) -> BoxFuture<'a, source_core::Result<TableInfo>> {
        Box::pin(async move { Ok(self.relation(name).await?.info) })
    }

    fn filter_support(&self, table: &TableInfo, filter: &Filter) -> FilterSupport {
        pushdown::support(views::kind_of(table), table, filter)
    }

    /// `List_<Name>`: one request (see `count_list`); other views: `None`, no request beyond
    /// resolving the name.
    fn row_count<'a>(&'a self, table: &'a str) -> BoxFuture<'a, source_core::Result<Option<u64>>> {
        Box::pin(async move {
            let rel = self.relation(table).await?;
            Ok(self.count_list(&rel).await?)
        })
    }

    fn scan<'a>(
        &'a self,
        table: &'a str,
        request: ScanRequest,
    ) -> BoxFuture<'a, source_core::Result<RecordBatchStream>> {
        Box::pin(async move {
            let rel = self.relation(table).await?;
            let views = if rel.kind == Kind::ContactList {
                let lists = self.lists().await?;
                Arc::new(
                    lists
                        .iter()
                        .map(|l| (l.id.clone(), l.view.clone()))
                        .collect(),
                )
            } else {
                Arc::new(HashMap::new())
            };
            let account = match rel.kind {
                Kind::Segment | Kind::SegmentScore => Some(self.account_id().await?),
                _ => None,
            };
            self.scan_relation(&rel, request, views, account.as_deref())
        })
    }

    /// `List_<Name>`: one `POST …/record` per row (see [`crate::write`]).
    fn insert<'a>(
        &'a self,
        table: &'a str,
        rows: RecordBatch,
    ) -> BoxFuture<'a, source_core::Result<WriteOutcome>> {
        Box::pin(async move {
            let rel = self.relation(table).await?;
            write::insert(&self.inner.client, &rel, &rows).await
        })
    }

    /// `List_<Name>` by `ContactId`: one `PUT …/record/{id}` per row.
    fn update<'a>(
        &'a self,
        table: &'a str,
        rows: RecordBatch,
    ) -> BoxFuture<'a, source_core::Result<WriteOutcome>> {
        Box::pin(async move {
            let rel = self.relation(table).await?;
            write::update(&self.inner.client, &rel, &rows).await
        })
    }

    /// `List_<Name>` by `ContactId`: `DELETE …/record?contactids=` in calls of at most 100.
    fn delete<'a>(
        &'a self,
        table: &'a str,
        keys: RecordBatch,
    ) -> BoxFuture<'a, source_core::Result<WriteOutcome>> {
        Box::pin(async move {
            let rel = self.relation(table).await?;
            write::delete(&self.inner.client, &rel, &keys).await
        })
    }
}
