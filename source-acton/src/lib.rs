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
//! Every relation is a read-only VIEW except `List_<Name>` (a table; see Writes). Names match
//! exactly first, then ignoring case. Paths are under `/api/1` unless they start with `/ucl`.
//!
//! | view | endpoint | columns | pushed filters (`=`, `IN`) | required |
//! |---|---|---|---|---|
//! | `Account` | `GET /account` | AccountId Int, CName, UserName, UserEmail, AccountName, UserType, IsAdmin Bool, Login, TimeZone | – | – |
//! | `Campaigns` | `GET /campaigns` | Id, Name, Description, Status, CreationTime Datetime, LastModified Datetime | `Id` (applied by the connector) | – |
//! | `Categories` | `GET /subscription/category` | Id, Name, Description | `Id` (applied by the connector) | – |
//! | `ContactList` | `GET /list?listingtype=` | Id, Name, ViewName, FolderName, Description, Size Int, SourceName, LastModified, LastCounted, SourceTimestamp Datetime, ListingType | `ListingType` (CONTACT_LIST, SEED_LIST, SUPPRESSION_LIST, SEGMENT_LIST, EXTERNAL_LIST; all five when absent) | – |
//! | `DrilldownReports` | `GET /message/{MessageId}/report/{DrilldownType}` | MessageId, DrilldownType, ListId, RecordId, Email, Action, Timestamp Datetime | `MessageId`, `DrilldownType` (SENT, SUPPRESSED, OPENED, CLICKED, BOUNCED, OPT_OUT, SPAM) | both |
//! | `Footer` | `GET /footer` (folder array) | Id, FolderName, Title, CreationTime, LastModified Datetime | `FolderName`, `Id` (applied by the connector) | – |
//! | `Hardbounce` | `GET /list/hardbounce` | Email, Date Datetime, Reason | – | – |
//! | `Header` | `GET /header` (folder array) | as `Footer` | as `Footer` | – |
//! | `Images` | `GET /image` (folder array) | CData's: Id, FolderName, Name, CreationTime, LastModified Datetime, ImageUrl, ThumbUrl, Size Int, Width, Height | `FolderName` (`folderName`, one call per value, re-checked here); `Id` (applied by the connector) | – |
//! | `LandingPages` | `GET /page` (folder array) | Id, FolderName, Title, Url, CreationTime, LastModified Datetime | `FolderName`, `Id` (applied by the connector) | – |
//! | `Media` | `GET /media` (folder array) | Id, FolderName, Name, CreationTime, LastModified Datetime, Url, TargetUrl, Size Int, MimeType | as `Images` | – |
//! | `Messages` | `GET /message?type=` | CData's (see [`MESSAGE_TYPES`]) | `Type` (SENT, DRAFT, TEMPLATE, TRIGGERED, FAILED, SCHEDULED; all six when absent) | – |
//! | `Optout` | `GET /list/optout` | Email, Date Datetime, Reason | – | – |
//! | `Programs` | `GET /program?type=` | CData's | `Type` (TRACK, EVENT, LIST_MAINT; all three when absent) | – |
//! | `Reports` | `GET /message/{MessageId}/report` | MessageId, Subject, Status, counts (Int), SentTo, SendDate | `MessageId` | `MessageId` |
//! | `ReportsByPeriod` | `GET /message/report?period=` | Period, Month, DayOfMonth, DayOfWeek and counts (Int) | `Period` (`YYMM`) | `Period` |
//! | `ScoreDetails` | `GET /list/{listid}/record/{ContactId}/facts` | ContactId, Score Int, Action, Timestamp Datetime, Detail (one row per activity) | `ContactId` (`l-0001:12`; one request each) | `ContactId` |
//! | `Spamcomplaint` | `GET /list/spamcomplaint` | Email, Date Datetime, Reason | – | – |
//! | `SubscriptionOptOuts` | `GET /list/optout` | Email, Date Datetime, Reason | – | – |
//! | `Users` | `GET /account/senders` | Id, Name, Email | – | – |
//! | `List_<Name>` (table) | `GET /list/{id}` | ContactId, the list's headers (String), `__created_date`, `__modified_date` Datetime | `__modified_date`, `__created_date` with `<` `<=` `>` `>=` `=` (Loose) | – |
//! | `List_<Name>_Score` | `GET /list/{id}/record/{ContactId}/facts` | ContactId, Score, EmailOpens, EmailClicks, WebPageVisits Int, LastActivity Datetime | `ContactId` (records of other lists give no row and no request) | `ContactId` |
//! | `Segment_<Name>` | `GET /ucl/v2/{accountId}/segment/{id}/contacts?page=&pageSize=` | Id, Email, FirstName, LastName, Company, BusinessPhone, BusinessCity, BusinessState, BusinessCountry, BusinessZip, ActonPrimaryScore Int, CreatedDate, UpdatedDate Datetime | – | – |
//! | `Segment_<Name>_Score` | `GET /ucl/v2/{accountId}/contactReport/id/{ContactId}/scores` | ContactId, ScoreName, Score Int, IsPrimary Bool (one row per score sheet) | `ContactId` (a UCL contact id; one request each) | `ContactId` |
//!
//! Unmarked columns are String. A query without a required filter fails with
//! [`Error::MissingFilter`], naming the column and its allowed values, before any request:
//! the score views have no bulk endpoint (one request per record; a 100,000-record list would
//! take 5.5 hours at 5 requests per second), so they answer only for the ids given; an id the
//! API does not know gives no row (as `WHERE Id = …` of a missing row would), while an
//! unknown list is still an error. A value
//! outside an enumerated set (or a `ContactId` that is not `list:n`) fails with
//! [`Error::InvalidFilterValue`]. Pseudo columns (`Type`, `MessageId`, `DrilldownType`,
//! `Period`, `ListingType`, `ContactId` of score views) carry the value that selected each
//! row, so a caller re-checking a filter keeps the row. Filters "applied by the connector"
//! are exact: the API has no parameter for them, so the rows are filtered as they arrive.
//! Column names and types of `Messages`, `Images` and `Programs` follow CData's
//! documentation (25.0 / 24.0); the other views' columns are ours, named after the API's
//! fields in PascalCase (see each column's description and `native_type`, CData's type
//! names). Shapes the spec copy does not show (headers, footers, campaigns, categories,
//! everything under `/ucl`) are assumptions listed in `docs/acton-wire-shapes.md`.
//!
//! Folder arrays (`[{"entries": [...], "folder"|"name": …}]`) have no paging: one request
//! reads them, the group becomes `FolderName`, and the rows are handed on in batches of
//! `Pagesize`. Segments come from `GET /ucl/v2/{accountId}/segment/` (50 a page); the
//! account id from one `GET /api/1/account` per connection. They are named like lists
//! ([`segment_view_name`]) and listed by `list_tables` unless the account has no UCL access
//! (403/404). Segment contacts are paged by `page` (from 0) and `pageSize` (`Pagesize`); UCL
//! times are Unix seconds, read as timestamps. CData's `Pages` is not offered (see below).
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
//! Projection becomes `fields` (`;`-separated header names) unless a date column is projected
//! or filtered: `fields` and `datequalifiers` cannot be combined (spec copy, D2), so then the
//! whole record is read; a header containing `;` cannot be named in `fields` either, and
//! also reads whole records. Date filters become
//! `modafter`/`modbefore`/`createdafter`/`createdbefore` (Unix ms), sent as exclusive bounds
//! (`>= v` → `…after=v-1`); they are declared Loose because the API's bound semantics are
//! UNVERIFIED, so the caller re-checks them.
//!
//! Each list also has the view `List_<Name>_Score` (see the table above); a list view of
//! the same name wins.
//!
//! CData objects not offered: `Pages` (CData 25.0 lists it next to `LandingPages`, with no
//! documented columns; the API's only page listing is `GET /page`, served as
//! `LandingPages`) and `OtherLists` (deprecated by CData; `Hardbounce`, `Spamcomplaint` and
//! `Optout` replace it).
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
//! `List_<Name>` is a table (as CData lists it) whose first column `ContactId` is the record
//! id (`l-0001:12`). `INSERT` sends one `POST /api/1/list/{id}/record` per row (never retried
//! after it may have landed) and returns the new ids as the outcome's keys; `UPDATE … WHERE`
//! sends one `PUT …/record/{ContactId}` per row; `DELETE … WHERE` sends
//! `DELETE …/record?contactids=…` with at most 100 ids a call. Rows Act-On refuses (an
//! unknown record 10008, an unknown column 10010, ids in `failedList`) become row errors and
//! the others are written. Writes take slots from the same 5 requests/s pacer as reads. Upsert
//! by e-mail, list create/merge/delete, upload status, look-ups, opt-outs and subscriptions
//! are procedures ([`procedures`]); the shapes assumed are listed in
//! `docs/acton-wire-shapes.md`.
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
mod dates;
#[cfg(feature = "data")]
mod decode;
#[cfg(feature = "data")]
mod error;
#[cfg(feature = "data")]
pub mod pacer;
#[cfg(feature = "data")]
mod plugin;
#[cfg(feature = "data")]
pub mod procedures;
#[cfg(feature = "data")]
mod pushdown;
#[cfg(feature = "data")]
mod scan;
#[cfg(feature = "data")]
mod source;
#[cfg(feature = "data")]
mod views;
#[cfg(feature = "data")]
pub mod write;

#[cfg(feature = "data")]
pub use error::Error;
#[cfg(feature = "data")]
pub use plugin::{ActOn, SOURCE};
#[cfg(feature = "data")]
pub use source::*;
#[cfg(feature = "data")]
pub use views::{
    CREATED_DATE, DRILLDOWN_TYPES, LIST_PREFIX, LISTING_TYPES, MESSAGE_TYPES, MODIFIED_DATE,
    PROGRAM_TYPES, SCORE_SUFFIX, SEGMENT_PREFIX, list_view_name, segment_view_name,
};
