//! The HubDB [`DataSource`]: catalog, scans, writes (the `data` feature).

use std::sync::Arc;

use auth_core::SharedTokenProvider;
use source_core::{
    BoxFuture, DataSource, Filter, FilterSupport, Op, RecordBatch, RecordBatchStream, ScanRequest,
    SortKey, TableInfo, Value, WriteOutcome,
};
use source_http::ApiClient;

use crate::client::{self, Call, Client};
use crate::config::{HubDbAuthScheme, HubDbConfig};
use crate::ratelimit::{self, RateLimiter};
use crate::scan::{self, PagingMode};
use crate::schema::{self, DRAFT_SUFFIX, HubTable, OWNERS, Relation, Target};
use crate::{Error, decode, pushdown, write};

/// The largest `limit` HubDB's rows endpoint honours (UNVERIFIED upstream; the emulator
/// caps at this).
pub const MAX_PAGE_SIZE: u64 = 1000;
/// Pages fetched at once when their offsets are known.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Tuning knobs with sensible defaults.
#[derive(Debug, Clone)]
pub struct HubDbOptions {
    /// Pages fetched at once when their offsets are known (RANDOM_ACCESS). 1 = sequential.
    pub concurrency: usize,
    /// How row pages are requested.
    pub paging: PagingMode,
}

impl Default for HubDbOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            paging: PagingMode::Auto,
        }
    }
}

/// A connection to one HubSpot account's HubDB.
#[derive(Debug, Clone)]
pub struct HubDbSource {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: Client,
    options: HubDbOptions,
    page_size: u64,
    max_rows: Option<u64>,
    catalog: tokio::sync::Mutex<Option<Arc<Vec<Relation>>>>,
}

/// Identifies the app whose allowance requests consume, without keeping the token readable.
fn limiter_key(config: &HubDbConfig, token_hint: &str) -> String {
    let base = config.common.api_base_url.as_str().trim_end_matches('/');
    let app = match (
        config.auth_scheme,
        &config.private_app_token,
        &config.common.oauth_client_id,
    ) {
        (HubDbAuthScheme::PrivateApp, Some(t), _) => {
            let d = ring::digest::digest(&ring::digest::SHA256, t.expose().as_bytes());
            let hex: String = d.as_ref()[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("private-app:{hex}")
        }
        (_, _, Some(client)) => format!("oauth:{client}"),
        _ => format!("token:{token_hint}"),
    };
    format!("{base}|{app}")
}

/// The HTTP client of a connection, pacing requests with the app's process-wide limiter.
pub(crate) fn client_for(
    config: &HubDbConfig,
    tokens: SharedTokenProvider,
) -> Result<Client, Error> {
    let limiter = ratelimit::shared(&limiter_key(config, &format!("{:p}", Arc::as_ptr(&tokens))));
    let api = ApiClient::connect(&client::SERVICE, &config.common, tokens, limiter)?;
    let http = source_http::ServiceClient::new(api, &client::SERVICE);
    Ok(Client::new(http, config.api_version))
}

impl HubDbSource {
    /// Connects with default [`HubDbOptions`]. No request is made until the first call.
    pub fn connect(config: &HubDbConfig, tokens: SharedTokenProvider) -> Result<Self, Error> {
        Self::connect_with(config, tokens, HubDbOptions::default())
    }

    /// Connects with explicit options.
    pub fn connect_with(
        config: &HubDbConfig,
        tokens: SharedTokenProvider,
        options: HubDbOptions,
    ) -> Result<Self, Error> {
        let client = client_for(config, tokens)?;
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
                catalog: tokio::sync::Mutex::new(None),
            }),
        })
    }

    /// The rate limiter this connection's requests go through (shared per app).
    pub fn rate_limiter(&self) -> Arc<RateLimiter> {
        self.inner.client.limiter().clone()
    }

    /// The page size in use (`Pagesize`, capped at [`MAX_PAGE_SIZE`]).
    pub fn page_size(&self) -> u64 {
        self.inner.page_size
    }

    async fn list_hub_tables(&self, draft: bool) -> Result<Vec<HubTable>, Error> {
        #[derive(serde::Deserialize)]
        struct TablesPage {
            #[serde(default)]
            results: Vec<HubTable>,
            #[serde(default)]
            paging: Option<decode::Paging>,
        }
        let mut path = self.inner.client.hubdb_path(&["tables"]);
        if draft {
            path.push("draft".into());
        }
        let context = if draft {
            "listing draft tables"
        } else {
            "listing tables"
        };
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut call = Call::get(path.clone(), context);
            call.query.push(("limit".into(), "1000".into()));
            if let Some(a) = &after {
                call.query.push(("after".into(), a.clone()));
            }
            let page: TablesPage = self.inner.client.json(&call).await?;
            out.extend(page.results);
            match page.paging.and_then(|p| p.next).and_then(|n| n.after()) {
                Some(a) if Some(&a) != after.as_ref() => after = Some(a),
                _ => break,
            }
        }
        Ok(out)
    }

    /// Reads the table lists from HubSpot and rebuilds the catalog.
    async fn load(&self) -> Result<Arc<Vec<Relation>>, Error> {
        let (published, drafts) =
            futures::try_join!(self.list_hub_tables(false), self.list_hub_tables(true))?;
        let mut relations = Vec::new();
        let names: std::collections::HashSet<&str> = published
            .iter()
            .chain(drafts.iter())
            .map(|t| t.name.as_str())
            .collect();
        // A foreign-id column points at the published table, or the draft of an unpublished one.
        let mut targets = schema::TableNames::new();
        for t in &drafts {
            targets.insert(t.id.clone(), format!("{}{DRAFT_SUFFIX}", t.name));
        }
        for t in &published {
            targets.insert(t.id.clone(), t.name.clone());
        }
        for t in &published {
            relations.push(schema::relation(t, false, t.name.clone(), &targets));
        }
        for t in &drafts {
            let mut name = format!("{}{DRAFT_SUFFIX}", t.name);
            if names.contains(name.as_str()) {
                name = format!("{name}_{}", t.id);
            }
            relations.push(schema::relation(t, true, name, &targets));
        }
        relations.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        relations.push(schema::owners());
        let catalog = Arc::new(relations);
        *self.inner.catalog.lock().await = Some(catalog.clone());
        Ok(catalog)
    }

    /// The relation called `name`, reloading the catalog once if it is not known yet.
    async fn relation(&self, name: &str) -> Result<Relation, source_core::Error> {
        let cached = self.inner.catalog.lock().await.clone();
        let catalog = match cached {
            Some(c) if find(&c, name).is_some() => c,
            _ => self.load().await?,
        };
        match find(&catalog, name) {
            Some(r) => Ok(r.clone()),
            None => Err(source_core::Error::unknown_table(
                name,
                catalog.iter().map(|r| &r.info.name),
            )),
        }
    }

    fn scan_relation(
        &self,
        rel: &Relation,
        request: ScanRequest,
    ) -> Result<RecordBatchStream, source_core::Error> {
        let info = &rel.info;
        let schema = info.projected_schema(request.projection.as_deref())?;
        let limit = match (request.limit, self.inner.max_rows) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if limit == Some(0) {
            return Ok(RecordBatchStream::empty(schema));
        }
        let projected = info.project(request.projection.as_deref())?;
        let Target::HubDb {
            id, draft, columns, ..
        } = &rel.target
        else {
            return self.scan_owners(rel, request, schema, limit);
        };
        let cols: Vec<schema::Col> = projected
            .iter()
            .map(|c| {
                pushdown::resolve(&rel.target, info, &c.name)
                    .cloned()
                    .ok_or_else(|| {
                        source_core::Error::unknown_column(
                            &info.name,
                            &c.name,
                            info.columns.iter().map(|c| &c.name),
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        let mut path = self.inner.client.hubdb_path(&["tables", id, "rows"]);
        if let Some(row) = pushdown::single_row(&rel.target, info, &request.filters) {
            path.push(row.to_string());
            if *draft {
                path.push("draft".into());
            }
            return Ok(write::single_row_stream(
                self.inner.client.clone(),
                path,
                cols,
                schema,
                info.name.clone(),
            ));
        }
        if *draft {
            path.push("draft".into());
        }
        let mut query = pushdown::params(&rel.target, info, &request.filters)?;
        if !request.order_by.is_empty() {
            let sort =
                pushdown::sort_params(&rel.target, info, &request.order_by).ok_or_else(|| {
                    source_core::Error::unsupported("this ORDER BY", Some(&info.name))
                })?;
            query.extend(sort);
        }
        // Ask only for the projected user columns (at least one, so the values stay small).
        let mut props: Vec<&str> = cols
            .iter()
            .filter_map(|c| match c {
                schema::Col::User { name, .. } => Some(name.as_str()),
                schema::Col::Common(_) => None,
            })
            .collect();
        if props.is_empty() {
            props.extend(columns.iter().find_map(|c| match c {
                schema::Col::User { name, .. } => Some(name.as_str()),
                schema::Col::Common(_) => None,
            }));
        }
        if !props.is_empty() {
            query.push(("properties".into(), props.join(",")));
        }
        let scan = scan::RowScan {
            client: self.inner.client.clone(),
            path,
            query,
            cols,
            schema,
            table: info.name.clone(),
            page_size: self.inner.page_size,
            limit,
            paging: self.inner.options.paging,
            concurrency: self.inner.options.concurrency,
        };
        Ok(Arc::new(scan).stream())
    }

    /// The row count of a HubDB table from one one-row page's `total`; `None` for Owners or
    /// a server that leaves `total` out.
    async fn count_rows(&self, rel: &Relation) -> Result<Option<u64>, Error> {
        let Target::HubDb {
            id, draft, columns, ..
        } = &rel.target
        else {
            return Ok(None);
        };
        let mut path = self.inner.client.hubdb_path(&["tables", id, "rows"]);
        if *draft {
            path.push("draft".into());
        }
        let context = format!("counting the rows of {}", rel.info.name);
        let mut call = Call::get(path, &context);
        call.query.push(("limit".into(), "1".into()));
        // One small column keeps the one row small.
        if let Some(schema::Col::User { name, .. }) = columns
            .iter()
            .find(|c| matches!(c, schema::Col::User { .. }))
        {
            call.query.push(("properties".into(), name.clone()));
        }
        let page: decode::RowsPage = self.inner.client.json(&call).await?;
        Ok(page.total)
    }

    fn scan_owners(
        &self,
        rel: &Relation,
        request: ScanRequest,
        schema: arrow_schema::SchemaRef,
        limit: Option<u64>,
    ) -> Result<RecordBatchStream, source_core::Error> {
        let mut archived = vec![false, true];
        for f in &request.filters {
            match owners_filter(&rel.info, f) {
                Some(a) => archived.retain(|x| *x == a),
                None => {
                    return Err(source_core::Error::UnsupportedFilter {
                        table: rel.info.name.clone(),
                        column: f.column.clone(),
                        op: f.op.to_string(),
                    });
                }
            }
        }
        if !request.order_by.is_empty() {
            return Err(source_core::Error::unsupported(
                "this ORDER BY",
                Some(&rel.info.name),
            ));
        }
        Ok(Arc::new(scan::OwnerScan {
            client: self.inner.client.clone(),
            schema,
            archived,
            limit,
        })
        .stream())
    }
}

/// `Archived = true|false`, the one Owners filter HubSpot applies.
fn owners_filter(info: &TableInfo, f: &Filter) -> Option<bool> {
    let col = info.column(&f.column).ok()?;
    match (col.name.as_str(), f.op, &f.value) {
        ("Archived", Op::Eq, Value::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn find<'a>(catalog: &'a [Relation], name: &str) -> Option<&'a Relation> {
    catalog.iter().find(|r| r.info.name == name).or_else(|| {
        catalog
            .iter()
            .find(|r| r.info.name.eq_ignore_ascii_case(name))
    })
}

impl DataSource for HubDbSource {
    fn name(&self) -> &str {
        "hubdb"
    }

    fn list_tables(&self) -> BoxFuture<'_, source_core::Result<Vec<TableInfo>>> {
        Box::pin(async move {
            let catalog = self.load().await?;
            Ok(catalog.iter().map(|r| r.info.clone()).collect())
        })
    }

    fn table<'a>(&'a self, name: &'a str) -> BoxFuture<'a, source_core::Result<TableInfo>> {
        Box::pin(async move { Ok(self.relation(name).await?.info) })
    }

    fn filter_support(&self, table: &TableInfo, filter: &Filter) -> FilterSupport {
        if table.name == OWNERS {
            return match owners_filter(table, filter) {
                Some(_) => FilterSupport::Exact,
                None => FilterSupport::Unsupported,
            };
        }
        // Metadata is enough: rebuild the column mapping from the TableInfo.
        let target = target_of(table);
        pushdown::support(&target, table, filter)
    }

    fn sort_support(&self, table: &TableInfo, order: &[SortKey]) -> bool {
        table.name != OWNERS && pushdown::sort_params(&target_of(table), table, order).is_some()
    }

    fn scan<'a>(
        &'a self,
        table: &'a str,
        request: ScanRequest,
    ) -> BoxFuture<'a, source_core::Result<RecordBatchStream>> {
        Box::pin(async move {
            let rel = self.relation(table).await?;
            self.scan_relation(&rel, request)
        })
    }

    fn row_count<'a>(&'a self, table: &'a str) -> BoxFuture<'a, source_core::Result<Option<u64>>> {
        Box::pin(async move {
            let rel = self.relation(table).await?;
            Ok(self.count_rows(&rel).await?)
        })
    }

    fn request_stats(&self) -> Option<source_core::RequestStats> {
        let limiter = self.rate_limiter();
        let (max, window) = limiter.limit();
        Some(source_core::RequestStats {
            sent: limiter.sent(),
            per_second: (max > 0 && !window.is_zero())
                .then(|| f64::from(max) / window.as_secs_f64()),
        })
    }

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

/// The column mapping of a HubDB relation, from its metadata alone.
fn target_of(table: &TableInfo) -> Target {
    let columns = table
        .columns
        .iter()
        .map(|c| match schema::Common::by_name(&c.name) {
            Some(common) => schema::Col::Common(common),
            None => schema::Col::User {
                name: c
                    .name
                    .strip_suffix("_column")
                    .filter(|n| schema::Common::by_name(n).is_some())
                    .unwrap_or(&c.name)
                    .to_owned(),
                kind: schema::Kind::of(&c.native_type),
            },
        })
        .collect();
    Target::HubDb {
        id: String::new(),
        hub_name: String::new(),
        draft: table.kind == source_core::TableKind::Table,
        columns,
    }
}
