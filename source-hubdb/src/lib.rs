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
//! let config = source_hubdb::validate(&cs)?;
//! let source = source_hubdb::HubDbSource::connect(&config, source_hubdb::token_provider(&config)?)?;
//! let request = ScanRequest::all()
//!     .project(["Id", "title"])
//!     .filter(Filter::new("city", Op::Eq, "Berlin"))
//!     .limit(10);
//! let batches: Vec<_> = source.scan("events", request).await?.try_collect().await?;
//! # let _ = batches; Ok(()) }
//! ```
//! `AuthScheme=PrivateApp` and `AuthScheme=ServiceKey` use the static token as is (a service key
//! is the successor of private-app tokens, the same bearer). `AuthScheme=OAuth` uses the OAuth
//! flows of `auth-core` over [`provider`] (authorize URL, the token endpoint of `APIVersion`,
//! client credentials in the body, PKCE, default scopes `hubdb crm.objects.owners.read oauth`
//! unless `Scope` is set).
//!
//! `APIVersion` picks the paths of every call: `2026-03` (default, `/cms/hubdb/2026-03/…`,
//! `/crm/owners/2026-03`, `/oauth/2026-03/token`) or `v3` (`/cms/v3/hubdb/…`, `/crm/v3/owners`,
//! `/oauth/v3/token`; HubSpot stops supporting these in September 2027).
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
//! | date, datetime, `CreatedAt`, `UpdatedAt` | Exact | Exact | Exact | – | – | – | Exact |
//! | boolean | Exact | – | – | – | – | – | Exact |
//! | SELECT | Loose⁴ (`=` only) | – | Loose⁴¹ | – | – | – | Exact |
//! | MULTISELECT | – | – | – | – | CONTAINS Loose⁴⁵ | – | Exact |
//! | FOREIGN_ID | – | – | – | – | CONTAINS Exact (digits) | – | Exact |
//! | IMAGE, LOCATION, JSON | – | – | – | – | – | – | Exact |
//! | `PublishedAt`, `ChildTableId` | – | – | – | – | – | – | – |
//!
//! ¹ HubDB splits `in` values on commas and trims them: lists with such values stay
//! client-side. ² HubDB has no LIKE escape character: patterns containing `\` stay
//! client-side. ³ Case folding may differ from the SQL engine's. ⁴ HubDB matches option names
//! ignoring case and also matches option ids, so it can return extra rows; `<>` would drop
//! rows SQL keeps and is not pushed. ⁵ Values with commas, surrounding spaces or only digits
//! stay client-side. Comparisons need a literal of the column's type (the SQL layer casts).
//! `PublishedAt` and `ChildTableId` are not among HubDB's documented filterable built-ins;
//! `UpdatedAt` is pushed as `hs_updated_at` (milliseconds; `>` exclusive, `>=` inclusive), the
//! incremental-sync cursor: that HubSpot accepts it as it does `hs_created_at` is a GUESS the
//! emulator follows (`docs/sync.md`). Whether live HubSpot compares text case-sensitively is UNVERIFIED (the emulator
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

mod auth;
mod config;
pub use auth::{private_app, provider, token_provider};
pub use config::{
    API_VERSION_2026_03, API_VERSION_V3, ApiVersion, HUBSPOT_API_BASE_URL,
    HUBSPOT_AUTHORIZATION_URL, HubDbAuthScheme, HubDbConfig, PROPERTIES, validate,
};

#[cfg(feature = "data")]
mod client;
#[cfg(feature = "data")]
mod decode;
#[cfg(feature = "data")]
mod error;
#[cfg(feature = "data")]
mod plugin;
#[cfg(feature = "data")]
mod procedures;
#[cfg(feature = "data")]
mod pushdown;
#[cfg(feature = "data")]
pub mod ratelimit;
#[cfg(feature = "data")]
mod scan;
#[cfg(feature = "data")]
mod schema;
#[cfg(feature = "data")]
mod source;
#[cfg(feature = "data")]
mod write;

#[cfg(feature = "data")]
pub use error::Error;
#[cfg(feature = "data")]
pub use plugin::{HubDb, SOURCE};
#[cfg(feature = "data")]
pub use procedures::TableProcedures;
#[cfg(feature = "data")]
pub use scan::PagingMode;
#[cfg(feature = "data")]
pub use schema::{DRAFT_SUFFIX, OWNERS};
#[cfg(feature = "data")]
pub use source::{DEFAULT_CONCURRENCY, HubDbOptions, HubDbSource, MAX_PAGE_SIZE};
