//! Act-On as a [`source_core::DataSource`]: read-only views over the Act-On v1 REST API
//! (`{base}/api/1/...`) and one view per contact list, scanned as Arrow batches with
//! pushdown, paced at Act-On's 5 requests per second.
//!
//! # Connecting
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use futures::TryStreamExt;
//! use source_core::{DataSource, Filter, Op, ScanRequest};
//! let cs: connstr::ConnectionString = "AuthScheme=OAuthPassword;User=me@example.com;Password=...;\
//!     OAuthClientId=...;OAuthClientSecret=...;InitiateOAuth=GETANDREFRESH".parse()?;
//! let config = source_acton::validate(&cs)?;
//! let source = source_acton::ActOnSource::connect(&config, source_acton::token_provider(&config)?)?;
//! let request = ScanRequest::all()
//!     .project(["Id", "Title"])
//!     .filter(Filter::new("Type", Op::Eq, "SENT"));
//! let batches: Vec<_> = source.scan("Messages", request).await?.try_collect().await?;
//! # let _ = batches; Ok(()) }
//! ```
//! Authentication is auth-core's over [`provider`]: `AuthScheme=OAuth` (authorization code,
//! browser or verifier) or `AuthScheme=OAuthPassword` (password grant), then refresh. Act-On's
//! refresh tokens are single-use and a new grant ends the previous one, so auth-core persists
//! every new pair before using it and refreshes under the token store's lock: processes
//! sharing `OAuthSettingsLocation` refresh once, never reuse a refresh token, and avoid the
//! 5-grants-per-hour limit.
//!
//! # Views
//! Every relation is a read-only VIEW (writes are not implemented; see below). Names match
//! exactly first, then ignoring case.
//!
//! | view | endpoint | pushed filters (`=`, `IN`) | required |
//! |---|---|---|---|
//! | `Account` | `GET /account` | – | – |
//! | `ContactList` | `GET /list?listingtype=` | `ListingType` (CONTACT_LIST, SEED_LIST, SUPPRESSION_LIST, SEGMENT_LIST, EXTERNAL_LIST; all five when absent) | – |
//! | `DrilldownReports` | `GET /message/{MessageId}/report/{DrilldownType}` | `MessageId`, `DrilldownType` (SENT, SUPPRESSED, OPENED, CLICKED, BOUNCED, OPT_OUT, SPAM) | both |
//! | `Hardbounce` | `GET /list/hardbounce` | – | – |
//! | `Images` | `GET /image` | `FolderName` (`folderName`, one call per value); `Id` (applied by the connector: the API lists by folder only) | – |
//! | `Media` | `GET /media` | as `Images` | – |
//! | `Messages` | `GET /message?type=` | `Type` (SENT, DRAFT, TEMPLATE, TRIGGERED, FAILED, SCHEDULED; all six when absent) | – |
//! | `Programs` | `GET /program?type=` | `Type` (TRACK, EVENT, LIST_MAINT; all three when absent) | – |
//! | `Reports` | `GET /message/{MessageId}/report` | `MessageId` | `MessageId` |
//! | `ReportsByPeriod` | `GET /message/report?period=` | `Period` (`YYMM`) | `Period` |
//! | `Spamcomplaint` | `GET /list/spamcomplaint` | – | – |
//! | `SubscriptionOptOuts` | `GET /list/optout` | – | – |
//! | `Users` | `GET /account/senders` | – | – |
//! | `List_<Name>` | `GET /list/{id}` | `__modified_date`, `__created_date` with `<` `<=` `>` `>=` `=` (Loose) | – |
//!
//! A query on `Reports`, `DrilldownReports` or `ReportsByPeriod` without its required filter
//! fails with [`Error::MissingFilter`], naming the column and its allowed values; a value
//! outside an enumerated set fails with [`Error::InvalidFilterValue`]. Pseudo columns (`Type`,
//! `MessageId`, `DrilldownType`, `Period`, `ListingType`) carry the value that selected each
//! row, so a caller re-checking a filter keeps the row. Column names and types of `Messages`,
//! `Images` and `Programs` follow CData's documentation (25.0 / 24.0); the other views'
//! columns are ours, named after the API's fields (see each column's description and
//! `native_type`, CData's type names).
//!
//! # Contact lists
//! Lists come from `GET /api/1/list?listingtype=CONTACT_LIST`. Each becomes the view
//! `List_<Name>` ([`list_view_name`]: every character other than an ASCII letter, digit or
//! `_` becomes `_`). When two lists map to the same name (ignoring case), the list with the
//! lower id keeps it and the others get `_<id>` appended (`List_My_List_l_0002`). The columns
//! are the list's headers (read from a one-record page, `count=1`), all Utf8 because the API
//! reports no types, then `__created_date` and `__modified_date` (Timestamp, from
//! `datequalifiers=true`, requested only when projected). Empty cells read as NULL. The
//! headers are cached for the life of the connection; the list of lists is re-read by
//! `list_tables` and whenever a `List_` name is not known yet, so new lists appear without
//! reconnecting.
//! Projection becomes `fields` (`;`-separated header names). Date filters become
//! `modafter`/`modbefore`/`createdafter`/`createdbefore` (Unix ms), sent as exclusive bounds
//! (`>= v` → `…after=v-1`); they are declared Loose because the API's bound semantics are
//! UNVERIFIED, so the caller re-checks them.
//!
//! CData's `List_<Name>_Score` views are not offered: the v1 API returns scores only per
//! record (`/list/{id}/record/{rid}/facts`), one request per contact (a 100,000-record list
//! would take 5.5 hours at 5 requests per second). Segments (`Segment_<Name>`) are not offered.
//!
//! # Paging and pacing
//! Pages hold 1,000 rows (the API maximum; `Pagesize` is honoured and capped). The first page
//! gives `totalCount`; the remaining pages are requested concurrently
//! ([`ActOnOptions::concurrency`], default 8) and emitted in order, so memory holds at most
//! that many pages whatever the list size. Every request of the process to one base URL and
//! account goes through one [`pacer::Pacer`] (5 requests per second by default; see its docs
//! for why it never exceeds the limit). 429 pauses the account until `Retry-After`; 429,
//! 5xx and network errors are retried with bounded backoff; a 401 refreshes the token once.
//! `MaxRows` caps every scan; `Timeout` bounds each request and its retries.
//!
//! Measured with `examples/bench_list.rs` (emulator at 5 requests per second and 100 ms
//! latency): 100,000 records in 100 pages took 22.1 s against a 20 s floor (1.11×), with no
//! 429. The gap is the latency each slot is held beyond its second (see [`pacer`]).
//!
//! # Writes
//! Not implemented: every view is read-only and `insert`/`update`/`delete` return
//! [`source_core::Error::Unsupported`]. The API has list upsert and record delete, and
//! CData exposes `List_<Name>` as a table; they are left for a later issue.
#![forbid(unsafe_code)]

mod config;
mod provider;
pub use config::{
    ACTON_EU_BASE_URL, ACTON_US_BASE_URL, ActOnAuthScheme, ActOnConfig, ActOnRegion, PROPERTIES,
    validate,
};
pub use provider::{
    EMBEDDED_CLIENT_ID, EMBEDDED_CLIENT_SECRET, authenticator, grant, provider, token_provider,
    with_embedded_app,
};

#[cfg(feature = "data")]
mod client;
#[cfg(feature = "data")]
mod decode;
#[cfg(feature = "data")]
mod error;
#[cfg(feature = "data")]
pub mod pacer;
#[cfg(feature = "data")]
mod plugin;
#[cfg(feature = "data")]
mod pushdown;
#[cfg(feature = "data")]
mod scan;
#[cfg(feature = "data")]
mod source;
#[cfg(feature = "data")]
mod views;

#[cfg(feature = "data")]
pub use error::Error;
#[cfg(feature = "data")]
pub use plugin::{ActOn, SOURCE};
#[cfg(feature = "data")]
pub use source::*;
#[cfg(feature = "data")]
pub use views::{
    CREATED_DATE, DRILLDOWN_TYPES, LIST_PREFIX, LISTING_TYPES, MESSAGE_TYPES, MODIFIED_DATE,
    PROGRAM_TYPES, list_view_name,
};
