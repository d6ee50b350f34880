//! HubSpot HubDB as a [`source_core::DataSource`]: published tables as read-only views,
//! drafts as writable tables, an `Owners` view, Arrow scans with pushdown at the API's rate
//! limit, and draft writes.
//!
//! # Connecting
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use source_core::{DataSource, Filter, Op, ScanRequest};
//! let cs: connstr::ConnectionString = "AuthScheme=PrivateApp;PrivateAppToken=pat-na1-...".parse()?;
//! let config = connstr::validate::hubdb(&cs)?;
//! let source = source_hubdb::HubDbSource::connect(&config, source_hubdb::token_provider(&config)?)?;
//! let request = ScanRequest::all()
//!     .project(["Id", "title"])
//!     .filter(Filter::new("city", Op::Eq, "Berlin"))
//!     .limit(10);
//! let batches: Vec<_> = source.scan("events", request).await?.try_collect().await?;
//! # let _ = batches; Ok(()) }
//! ```
//! `AuthScheme=PrivateApp` uses the token as is. `AuthScheme=OAuth` uses the OAuth flows of
//! `auth-core` over [`provider`] (authorize URL, v3 token endpoint, client credentials in the
//! body, PKCE, default scopes `hubdb crm.objects.owners.read oauth` unless `Scope` is set).
//!
//! # Tables and views
//! For each HubDB table named `events`:
//!
//! | name | kind | reads | writes |
//! |---|---|---|---|
//! | `events` | VIEW | the published version (`GET …/rows`) | none (read-only) |
//! | `events_Draft` | TABLE | the draft version (`GET …/rows/draft`) | insert, update, delete on the draft |
//!
//! Names are case-sensitive first, then matched ignoring case. A table that was never
//! published has only its `_Draft` table. Changes to a draft reach the view when the table
//! is published (a procedure, later). If a HubDB table is itself called `x_Draft` while `x`
//! exists, the draft of `x` is named `x_Draft_<tableId>` instead. The `Owners` view lists the
//! account's CRM owners (active and archived; `Archived = true/false` picks one list).
//!
//! Every table and view starts with seven common columns, then the table's own columns in
//! HubDB order (a column whose name equals a common column's is exposed as `<name>_column`):
//!
//! | column | Arrow type | HubDB | notes |
//! |---|---|---|---|
//! | `Id` | Int64, key | `id` / `hs_id` | read-only |
//! | `CreatedAt` | Timestamp(ms, UTC) | `createdAt` / `hs_created_at` | read-only |
//! | `UpdatedAt` | Timestamp(ms, UTC) | `updatedAt` | read-only |
//! | `PublishedAt` | Timestamp(ms, UTC) | `publishedAt` | read-only |
//! | `PagePath` | Utf8 | `path` / `hs_path` | writable on drafts |
//! | `PageName` | Utf8 | `name` / `hs_name` | writable on drafts |
//! | `ChildTableId` | Int64 | `childTableId` | writable on drafts |
//!
//! # Type mapping
//! | HubDB type | Arrow type | value |
//! |---|---|---|
//! | TEXT, RICHTEXT, URL, CODE, EMBED | Utf8 | the text (RICHTEXT keeps its HTML) |
//! | NUMBER, CURRENCY | Float64 | HubDB sends and stores JSON numbers (doubles); a decimal scale would be invented |
//! | VIDEO | Int64 | the player id |
//! | BOOLEAN | Boolean | `0`/`1` (or `true`/`false`) |
//! | DATE | Date32 | days; HubDB sends midnight UTC in ms |
//! | DATETIME | Timestamp(ms, UTC) | ms since the epoch |
//! | SELECT | Utf8 | the option name (ids and labels are in the column description and the table schema) |
//! | MULTISELECT | List(Utf8) | option names; an empty list reads as NULL, as HubDB's `is_null` sees it |
//! | FOREIGN_ID | List(Utf8) | row ids in the foreign table; empty reads as NULL |
//! | IMAGE | Struct{url: Utf8, width: Int64, height: Int64} | |
//! | LOCATION | Struct{lat: Float64, long: Float64} | |
//! | JSON, FILE, COMPOSITE, CTA, HUBSPOT_VIDEO, NULL, unknown | Utf8 | the value's JSON text, unchanged |
//!
//! The HubDB type name is each column's `native_type` (and the `source.native_type` field
//! metadata of the Arrow schema).
//!
//! # Pushdown
//! Projection becomes `properties`; supported filters become `column__op=value` parameters;
//! an ORDER BY on scalar columns becomes `sort`; a limit shrinks the page size and stops the
//! scan; `Id = n` alone becomes one get-row call. Each filter is **Exact** only where HubDB's
//! semantics (case, NULLs, types) equal SQL's, as checked against the emulator, **Loose**
//! where HubDB may return extra rows (the caller re-checks), and unsupported otherwise:
//!
//! | column class | `=` `<>` | `<` `<=` `>` `>=` | `IN` | `LIKE` `NOT LIKE` | CONTAINS / STARTS WITH | ICONTAINS | IS (NOT) NULL |
//! |---|---|---|---|---|---|---|---|
//! | text (TEXT, RICHTEXT, URL, `PagePath`, `PageName`) | Exact | Exact (code-point order) | Exact¹ | Exact² | Exact | Loose³ | Exact |
//! | number, currency, video, `Id` | Exact | Exact | Exact | – | – | – | Exact |
//! | date, datetime, `CreatedAt` | Exact | Exact | Exact | – | – | – | Exact |
//! | boolean | Exact | – | – | – | – | – | Exact |
//! | SELECT | Loose⁴ (`=` only) | – | Loose⁴¹ | – | – | – | Exact |
//! | MULTISELECT | – | – | – | – | CONTAINS Loose⁴⁵ | – | Exact |
//! | FOREIGN_ID | – | – | – | – | CONTAINS Exact (digits) | – | Exact |
//! | IMAGE, LOCATION, JSON | – | – | – | – | – | – | Exact |
//! | `UpdatedAt`, `PublishedAt`, `ChildTableId` | – | – | – | – | – | – | – |
//!
//! ¹ HubDB splits `in` values on commas and trims them: lists with such values stay
//! client-side. ² HubDB has no LIKE escape character: patterns containing `\` stay
//! client-side. ³ Case folding may differ from the SQL engine's. ⁴ HubDB matches option names
//! ignoring case and also matches option ids, so it can return extra rows; `<>` would drop
//! rows SQL keeps and is not pushed. ⁵ Values with commas, surrounding spaces or only digits
//! stay client-side. Comparisons need a literal of the column's type (the SQL layer casts).
//! `UpdatedAt`, `PublishedAt` and `ChildTableId` are not among HubDB's documented filterable
//! built-ins. Whether live HubSpot compares text case-sensitively is UNVERIFIED (the emulator
//! does); the Exact markings follow the emulator.
//!
//! # Paging and rate limits
//! Pages are as large as the API allows (1,000 rows; `Pagesize` is honoured and capped, not
//! rejected). The first page asks for RANDOM_ACCESS paging; when the answer has a total, the
//! remaining pages are fetched concurrently ([`HubDbOptions::concurrency`]) and emitted in
//! order, otherwise `after` cursors are followed. Every request of a process to the same API
//! base URL and app shares one [`ratelimit::RateLimiter`], paced by HubSpot's
//! `X-HubSpot-RateLimit-*` headers so that 429s are the exception; 429 and 5xx are retried
//! with bounded backoff honouring `Retry-After`; a 401 refreshes the token once and
//! continues. `MaxRows` caps every scan; `Timeout` bounds each request and its retries.
//!
//! # Writes
//! Only `_Draft` tables accept writes. Inserts and updates go through the batch endpoints,
//! 100 rows a call; a batch HubSpot refuses is retried row by row so that each failing row is
//! reported with its message. Deletes read the ids first (batch read) so that missing rows are
//! reported, then purge the rest. Nothing is dropped silently: every input row is counted in
//! [`source_core::WriteOutcome::affected`] or listed in its `errors`.
#![forbid(unsafe_code)]

mod client;
mod decode;
mod error;
mod pushdown;
pub mod ratelimit;
mod scan;
mod schema;
mod write;

use std::sync::Arc;

use auth_core::SharedTokenProvider;
use auth_core::provider::{ClientAuth, Provider};
use connstr::{HubDbAuthScheme, HubDbConfig};
use source_core::{
    BoxFuture, DataSource, Filter, FilterSupport, Op, RecordBatch, RecordBatchStream, ScanRequest,
    SortKey, TableInfo, Value, WriteOutcome,
};

pub use error::Error;
pub use scan::PagingMode;
pub use schema::{DRAFT_SUFFIX, OWNERS};

use client::{Call, Client};
use ratelimit::RateLimiter;
use schema::{HubTable, Relation, Target};
use source_core::http::ApiClient;

/// The largest `limit` HubDB's rows endpoint honours (UNVERIFIED upstream; the emulator
/// caps at this).
pub const MAX_PAGE_SIZE: u64 = 1000;
/// Pages fetched at once when their offsets are known.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// HubSpot's OAuth provider definition for `auth-core`.
///
/// ```
/// let cs: connstr::ConnectionString = "AuthScheme=OAuth;OAuthClientId=x;OAuthClientSecret=y".parse()?;
/// let config = connstr::validate::hubdb(&cs)?;
/// let p = source_hubdb::provider(&config);
/// assert_eq!(p.token_url.as_str(), "https://api.hubapi.com/oauth/v3/token");
/// assert_eq!(p.default_scopes, ["hubdb", "crm.objects.owners.read", "oauth"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn provider(config: &HubDbConfig) -> Provider {
    let common = &config.common;
    let base = common.api_base_url.as_str().trim_end_matches('/');
    let scopes: Vec<String> = match common.scope.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => ["hubdb", "crm.objects.owners.read", "oauth"]
            .map(str::to_owned)
            .to_vec(),
    };
    Provider {
        name: "HubSpot".into(),
        source: "HubDB".into(),
        authorization_url: common.oauth_authorization_url.clone(),
        token_url: common.oauth_access_token_url.clone(),
        client_auth: ClientAuth::RequestBody,
        default_scopes: scopes,
        pkce: true,
        single_use_refresh_tokens: false,
        redirect_uri_on_refresh: false,
        // HubSpot's access tokens live 30 minutes.
        default_expires_in: Some(1800),
        grant_rate_limit_advice: "wait a few seconds and try again",
        refresh_token_revocation_url: Some(format!("{base}/oauth/v1/refresh-tokens/{{token}}")),
    }
}

/// The token provider for a configuration: the private-app token as is
/// (`AuthScheme=PrivateApp`), or auth-core's authenticator over [`provider`] for
/// `AuthScheme=OAuth` (a static token with `InitiateOAuth=OFF`; stored tokens with refresh,
/// or the login flow, otherwise).
pub fn token_provider(config: &HubDbConfig) -> Result<SharedTokenProvider, Error> {
    match config.auth_scheme {
        HubDbAuthScheme::PrivateApp => match &config.private_app_token {
            Some(t) => Ok(Arc::new(auth_core::StaticTokenProvider::private_app(
                t.clone(),
            ))),
            None => Err(Error::Config {
                property: "PrivateAppToken",
                message: "required when AuthScheme=PrivateApp".into(),
            }),
        },
        HubDbAuthScheme::OAuth => auth_core::authenticator_for(
            provider(config),
            &config.common,
            auth_core::Grant::AuthorizationCode,
        )
        .map_err(|source| Error::Auth {
            context: "connecting".into(),
            source: Box::new(source),
        }),
    }
}

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
        let limiter =
            ratelimit::shared(&limiter_key(config, &format!("{:p}", Arc::as_ptr(&tokens))));
        let api =
            ApiClient::connect(&config.common, tokens, limiter, client::POLICY).map_err(|e| {
                Error::Config {
                    property: "ProxyServer",
                    message: e.to_string(),
                }
            })?;
        let client = Client::new(api);
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
        let mut path: Vec<String> = ["cms", "v3", "hubdb", "tables"].map(str::to_owned).to_vec();
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
        for t in &published {
            relations.push(schema::relation(t, false, t.name.clone()));
        }
        for t in &drafts {
            let mut name = format!("{}{DRAFT_SUFFIX}", t.name);
            if names.contains(name.as_str()) {
                name = format!("{name}_{}", t.id);
            }
            relations.push(schema::relation(t, true, name));
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
        let mut path: Vec<String> = ["cms", "v3", "hubdb", "tables"].map(str::to_owned).to_vec();
        path.push(id.clone());
        path.push("rows".into());
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
