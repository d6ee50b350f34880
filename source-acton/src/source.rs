//! The Act-On [`DataSource`]: views, lists and paced scans (the `data` feature).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::{ActOnAuthScheme, ActOnConfig};
use auth_core::SharedTokenProvider;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value as J;
use source_core::{
    BoxFuture, DataSource, Filter, FilterSupport, RecordBatchStream, ScanRequest, TableInfo,
};

use crate::client::{self, Client, api_call};
use crate::pacer::{self, Pacer};
use crate::views::{self, CREATED_DATE, Kind, ListEntry, MODIFIED_DATE, Relation};
use crate::{Error, pushdown, scan};
use source_http::ApiClient;

/// The most rows a `/api/1` page returns (`count` ≤ 1000).
pub const MAX_PAGE_SIZE: u64 = 1000;
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
    #[serde(default)]
    size: Option<J>,
}

#[derive(serde::Deserialize)]
struct AssetsPage {
    #[serde(default)]
    result: Vec<ListAsset>,
    #[serde(default, rename = "totalCount")]
    total_count: Option<u64>,
}

#[derive(serde::Deserialize)]
struct HeadersPage {
    #[serde(default)]
    headers: Vec<String>,
    #[serde(default, rename = "emailColumn")]
    email_column: Option<String>,
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
                    size: asset.size.as_ref().and_then(|s| match s {
                        J::Number(n) => n.as_u64(),
                        J::String(s) => s.parse().ok(),
                        _ => None,
                    }),
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
        let headers = Arc::new(ListHeaders {
            headers: page.headers,
            email_column: page.email_column.filter(|e| !e.is_empty()),
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

    /// The relation called `name`; list views reload the catalog once when not known yet.
    async fn relation(&self, name: &str) -> source_core::Result<Relation> {
        let statics = views::static_views();
        if let Some(r) = find(&statics, name, |r| &r.info.name) {
            return Ok(r.clone());
        }
        let mut lists = self.lists().await?;
        if find(&lists, name, |l| &l.view).is_none() {
            lists = self.load_lists().await?;
        }
        match find(&lists, name, |l| &l.view) {
            Some(entry) => Ok(self.list_relation(entry).await?),
            None => Err(source_core::Error::unknown_table(
                name,
                statics
                    .iter()
                    .map(|r| r.info.name.clone())
                    .chain(lists.iter().map(|l| l.view.clone())),
            )),
        }
    }

    fn scan_relation(
        &self,
        rel: &Relation,
        request: ScanRequest,
        views: Arc<HashMap<String, String>>,
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
            if projection.is_some() {
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
        let parts = pushdown::plan(rel, &request.filters, views, list_query)?;
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

    /// The static views, then one view per contact list (one request for the lists and one
    /// per list for its headers, cached for the connection).
    fn list_tables(&self) -> BoxFuture<'_, source_core::Result<Vec<TableInfo>>> {
        Box::pin(async move {
            let lists = self.load_lists().await?;
            let mut tables: Vec<TableInfo> =
                views::static_views().into_iter().map(|r| r.info).collect();
            let concurrency = self.inner.options.concurrency.max(1);
            let entries: Vec<ListEntry> = lists.iter().cloned().collect();
            let list_views: Vec<Relation> = futures::stream::iter(entries)
                .map(|entry| {
                    let source = self.clone();
                    async move { source.list_relation(&entry).await }
                })
                .buffered(concurrency)
                .try_collect()
                .await?;
            tables.extend(list_views.into_iter().map(|r| r.info));
            Ok(tables)
        })
    }

    fn table<'a>(&'a self, name: &'a str) -> BoxFuture<'a, source_core::Result<TableInfo>> {
        Box::pin(async move { Ok(self.relation(name).await?.info) })
    }

    fn filter_support(&self, table: &TableInfo, filter: &Filter) -> FilterSupport {
        pushdown::support(views::kind_of(table), table, filter)
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
            self.scan_relation(&rel, request, views)
        })
    }
}
