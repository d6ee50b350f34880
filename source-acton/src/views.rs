//! The views: static ones over fixed endpoints, and one per contact list.

use arrow_schema::DataType;
use source_core::{ColumnInfo, TableInfo, TableKind, Writable};

use crate::write::CONTACT_ID;

/// The value type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Str,
    Int,
    Bool,
    Ts,
}

impl Ty {
    fn arrow(self) -> DataType {
        match self {
            Ty::Str => DataType::Utf8,
            Ty::Int => DataType::Int64,
            Ty::Bool => DataType::Boolean,
            Ty::Ts => source_core::timestamp_ms_utc(),
        }
    }

    /// CData's type names, shown as the native type.
    fn native(self) -> &'static str {
        match self {
            Ty::Str => "String",
            Ty::Int => "Int",
            Ty::Bool => "Bool",
            Ty::Ts => "Datetime",
        }
    }
}

/// Where a column's value comes from: `|`-separated JSON pointers into each object (the
/// first present one wins), or a header name of a list download.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Col {
    pub(crate) name: String,
    pub(crate) ty: Ty,
    pub(crate) key: String,
}

/// Which endpoint family a relation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Messages,
    Images,
    Media,
    Programs,
    Users,
    Account,
    Hardbounce,
    Spamcomplaint,
    SubscriptionOptOuts,
    Reports,
    DrilldownReports,
    ReportsByPeriod,
    ContactList,
    List,
    Campaigns,
    Categories,
    LandingPages,
    Header,
    Footer,
    Optout,
    ScoreDetails,
    /// `List_<Name>_Score`: per-record facts of one list.
    ListScore,
    /// `Segment_<Name>`: the contacts of one UCL segment.
    Segment,
    /// `Segment_<Name>_Score`: per-contact UCL score cards.
    SegmentScore,
}

/// A view: its metadata, the endpoint family and each column's source.
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    pub(crate) info: TableInfo,
    pub(crate) kind: Kind,
    /// The list id (`l-0001`) of a list view, or the segment id (`g-0001`) of a segment view.
    pub(crate) list_id: Option<String>,
    /// Parallel to `info.columns`.
    pub(crate) cols: Vec<Col>,
}

impl Relation {
    /// The sources of the projected columns, in projection order.
    pub(crate) fn project(&self, projection: Option<&[String]>) -> source_core::Result<Vec<Col>> {
        let infos = self.info.project(projection)?;
        Ok(infos
            .iter()
            .filter_map(|ci| self.cols.iter().find(|c| c.name == ci.name).cloned())
            .collect())
    }
}

/// `__created_date`, added by `datequalifiers=true`.
pub const CREATED_DATE: &str = "__created_date";
/// `__modified_date`, added by `datequalifiers=true`.
pub const MODIFIED_DATE: &str = "__modified_date";
/// The prefix of per-list views.
pub const LIST_PREFIX: &str = "List_";

/// Allowed `Messages.Type` values (the `type` parameter of `GET /api/1/message`).
pub const MESSAGE_TYPES: [&str; 6] = [
    "SENT",
    "DRAFT",
    "TEMPLATE",
    "TRIGGERED",
    "FAILED",
    "SCHEDULED",
];
/// Allowed `Programs.Type` values (the `type` parameter of `GET /api/1/program`).
pub const PROGRAM_TYPES: [&str; 3] = ["TRACK", "EVENT", "LIST_MAINT"];
/// Allowed `DrilldownReports.DrilldownType` values.
pub const DRILLDOWN_TYPES: [&str; 7] = [
    "SENT",
    "SUPPRESSED",
    "OPENED",
    "CLICKED",
    "BOUNCED",
    "OPT_OUT",
    "SPAM",
];
/// Allowed `ContactList.ListingType` values (`listingtype` of `GET /api/1/list`).
pub const LISTING_TYPES: [&str; 5] = [
    "CONTACT_LIST",
    "SEED_LIST",
    "SUPPRESSION_LIST",
    "SEGMENT_LIST",
    "EXTERNAL_LIST",
];

struct Def {
    name: &'static str,
    ty: Ty,
    key: &'static str,
    desc: &'static str,
    flag: Flag,
}

#[derive(Clone, Copy, PartialEq)]
enum Flag {
    None,
    Key,
    /// A pseudo column: filled from the filter that selected the rows.
    Pseudo,
}

const fn c(name: &'static str, ty: Ty, key: &'static str, desc: &'static str) -> Def {
    Def {
        name,
        ty,
        key,
        desc,
        flag: Flag::None,
    }
}

const fn k(name: &'static str, ty: Ty, key: &'static str, desc: &'static str) -> Def {
    Def {
        name,
        ty,
        key,
        desc,
        flag: Flag::Key,
    }
}

const fn p(name: &'static str, ty: Ty, key: &'static str, desc: &'static str) -> Def {
    Def {
        name,
        ty,
        key,
        desc,
        flag: Flag::Pseudo,
    }
}

use Ty::{Bool, Int, Str, Ts};

const MESSAGES: &[Def] = &[
    k("Id", Str, "/msgId|/msg_id|/id", "The Id of the message."),
    c(
        "Timestamp",
        Ts,
        "/timeStamp|/timestamp",
        "The date/time the message was sent.",
    ),
    c("Title", Str, "/title|/name", "The title of the message."),
    c(
        "FolderName",
        Str,
        "/folderName|/folder_name",
        "The folder where the message is contained.",
    ),
    c(
        "MsgType",
        Str,
        "/msgType|/msg_type|/type",
        "The message type.",
    ),
    c(
        "TimeWhen",
        Str,
        "/timeWhen|/time_when",
        "The human-readable time of the message.",
    ),
    c(
        "SenderName",
        Str,
        "/senderName|/sender_name",
        "The name of the sender.",
    ),
    c(
        "SenderId",
        Str,
        "/senderId|/sender_id",
        "The Id of the sender.",
    ),
    c(
        "IsTextOnly",
        Bool,
        "/isTextOnly|/is_text_only",
        "Whether the message only contains text.",
    ),
    c(
        "SenderEmail",
        Str,
        "/senderEmail|/sender_email",
        "The email of the sender.",
    ),
    c(
        "IsBeeComposer",
        Bool,
        "/is_bee_composer|/isBeeComposer",
        "Whether Bee Composer is used.",
    ),
    c(
        "ShowComposerIndicator",
        Bool,
        "/show_composer_indicator|/showComposerIndicator",
        "Whether the composer indicator is shown.",
    ),
    p(
        "Type",
        Str,
        "/__type",
        "Filter: SENT, DRAFT, TEMPLATE, TRIGGERED, FAILED or SCHEDULED (all six when absent).",
    ),
];

const IMAGES: &[Def] = &[
    k("Id", Str, "/id", "The Id of the image."),
    c(
        "FolderName",
        Str,
        "/folderName",
        "The name of the folder that contains the image.",
    ),
    c("Name", Str, "/name", "The name of the image."),
    c(
        "CreationTime",
        Ts,
        "/creation_time|/creationTime|/created",
        "The date/time the image was created.",
    ),
    c(
        "LastModified",
        Ts,
        "/last_modified|/lastModified|/modified",
        "The date/time the image was last modified.",
    ),
    c("ImageUrl", Str, "/imageUrl|/url", "The image's URL."),
    c(
        "ThumbUrl",
        Str,
        "/thumb|/thumbUrl",
        "The image's thumbnail URL.",
    ),
    c("Size", Int, "/size", "The size of the image in bytes."),
    c("Width", Str, "/width", "The width of the image."),
    c("Height", Str, "/height", "The height of the image."),
];

const MEDIA: &[Def] = &[
    k("Id", Str, "/id", "The Id of the media file."),
    c(
        "FolderName",
        Str,
        "/folderName",
        "The name of the folder that contains the file.",
    ),
    c("Name", Str, "/name", "The name of the file."),
    c(
        "CreationTime",
        Ts,
        "/creation_time|/creationTime|/created",
        "The date/time the file was created.",
    ),
    c(
        "LastModified",
        Ts,
        "/last_modified|/lastModified|/modified",
        "The date/time the file was last modified.",
    ),
    c("Url", Str, "/url", "The file's URL."),
    c(
        "TargetUrl",
        Str,
        "/target_url",
        "The target of a media link (NULL for a file).",
    ),
    c("Size", Int, "/size", "The size of the file in bytes."),
    c(
        "MimeType",
        Str,
        "/mimeType|/type",
        "The file's content type.",
    ),
];

const PROGRAMS: &[Def] = &[
    k("Id", Str, "/id", "The Id of the program."),
    c("Name", Str, "/name", "The name of the program."),
    c(
        "IsFavorite",
        Bool,
        "/isFavorite",
        "Whether the program is a favorite.",
    ),
    c(
        "Description",
        Str,
        "/description",
        "The description of the program.",
    ),
    c(
        "SrcIds",
        Str,
        "/srcIds",
        "The source list ids, comma-separated.",
    ),
    c(
        "SrcNames",
        Str,
        "/srcNames",
        "The source list names, comma-separated.",
    ),
    c(
        "MessageIds",
        Str,
        "/msgIds|/messageIds",
        "The ids of the program's messages, comma-separated.",
    ),
    c("Created", Ts, "/created", "When the program was created."),
    c(
        "Modified",
        Ts,
        "/modified",
        "When the program was last modified.",
    ),
    c("NextRun", Ts, "/nextRun", "When the program runs next."),
    c("State", Str, "/state", "The program's state."),
    c(
        "Running",
        Bool,
        "/running",
        "Whether the program is running.",
    ),
    c("Active", Int, "/active", "Contacts active in the program."),
    c(
        "Scheduled",
        Bool,
        "/scheduled",
        "Whether the program is scheduled.",
    ),
    c(
        "TagNames",
        Str,
        "/tagNames",
        "The program's tags, comma-separated.",
    ),
    c("Valid", Bool, "/valid", "Whether the program is valid."),
    p(
        "Type",
        Str,
        "/__type|/type",
        "Filter: TRACK, EVENT or LIST_MAINT (all three when absent).",
    ),
];

const USERS: &[Def] = &[
    k("Id", Str, "/sender_id|/id", "The Id of the sender."),
    c("Name", Str, "/sender_name|/name", "The sender's name."),
    c(
        "Email",
        Str,
        "/sender_email|/email",
        "The sender's from-address.",
    ),
];

const ACCOUNT: &[Def] = &[
    k("AccountId", Int, "/account_id", "The account id."),
    c("CName", Str, "/cname", "The account's branded host name."),
    c("UserName", Str, "/user_name", "The connected user's name."),
    c(
        "UserEmail",
        Str,
        "/user_email",
        "The connected user's e-mail address.",
    ),
    c("AccountName", Str, "/account_name", "The account's name."),
    c("UserType", Str, "/user_type", "The connected user's type."),
    c(
        "IsAdmin",
        Bool,
        "/isAdmin",
        "Whether the connected user is an administrator.",
    ),
    c("Login", Str, "/login", "The connected user's login."),
    c("TimeZone", Str, "/time_zone", "The account's time zone."),
];

/// Suppression lists use the list-download shape: keys are header names.
const SUPPRESSION: &[Def] = &[
    k("Email", Str, "E-mail Address", "The e-mail address."),
    c("Date", Ts, "Date", "When the address was added."),
    c("Reason", Str, "Reason", "Why the address was added."),
];

const REPORTS: &[Def] = &[
    p(
        "MessageId",
        Str,
        "/__message_id",
        "Required filter: the id of a sent or triggered message (`=` or `IN`).",
    ),
    c("Subject", Str, "/subject", "The message subject."),
    c("Status", Str, "/status", "The report status."),
    c("Sent", Int, "/sent", "Messages sent."),
    c("Bounced", Int, "/bounced", "Messages bounced."),
    c(
        "OpenedUnique",
        Int,
        "/opened/0",
        "Unique opens (first element of `opened`).",
    ),
    c(
        "OpenedTotal",
        Int,
        "/opened/1",
        "Total opens (second element of `opened`).",
    ),
    c(
        "ClickedUnique",
        Int,
        "/clicked/0",
        "Unique clicks (first element of `clicked`).",
    ),
    c(
        "ClickedTotal",
        Int,
        "/clicked/1",
        "Total clicks (second element of `clicked`).",
    ),
    c("OptOut", Int, "/optout|/optOut", "Opt-outs."),
    c(
        "SpamComplaint",
        Int,
        "/spam|/spamComplaint",
        "Spam complaints.",
    ),
    c("Suppressed", Int, "/suppressed", "Suppressed recipients."),
    c(
        "NotSent",
        Int,
        "/notSent|/notsent/0",
        "Recipients not sent to.",
    ),
    c(
        "SentTo",
        Str,
        "/sentto",
        "The list ids sent to, comma-separated.",
    ),
    c("SendDate", Ts, "/sendDate", "When the message was sent."),
];

const DRILLDOWN: &[Def] = &[
    p(
        "MessageId",
        Str,
        "/__message_id",
        "Required filter: the id of a sent or triggered message (`=` or `IN`).",
    ),
    p(
        "DrilldownType",
        Str,
        "/__drilldown",
        "Required filter: SENT, SUPPRESSED, OPENED, CLICKED, BOUNCED, OPT_OUT or SPAM (`=` or `IN`).",
    ),
    c("ListId", Str, "/listid", "The list of the recipient."),
    c(
        "RecordId",
        Str,
        "/recid",
        "The recipient's record id (`l-XXXX:n`).",
    ),
    c("Email", Str, "/email", "The recipient's e-mail address."),
    c("Action", Str, "/action", "What happened."),
    c("Timestamp", Ts, "/ts", "When it happened."),
];

const BY_PERIOD: &[Def] = &[
    p(
        "Period",
        Str,
        "/__period",
        "Required filter: the month as YYMM, e.g. '2401' (`=` or `IN`).",
    ),
    c(
        "Month",
        Str,
        "/__month",
        "The month, as Act-On names it (`October 2019`).",
    ),
    c("DayOfMonth", Int, "/dayOfMonth", "The day of the month."),
    c(
        "DayOfWeek",
        Int,
        "/dayOfWeek",
        "The day of the week (1 = Sunday).",
    ),
    c("Sent", Int, "/sent", "Messages sent that day."),
    c("Opened", Int, "/opened", "Opens that day."),
    c("Clicked", Int, "/clicked", "Clicks that day."),
    c("Bounced", Int, "/bounced", "Bounces that day."),
    c("OptOut", Int, "/optedOut|/optOut", "Opt-outs that day."),
    c(
        "SpamComplaint",
        Int,
        "/spamComplaint",
        "Spam complaints that day.",
    ),
];

const CONTACT_LIST: &[Def] = &[
    k("Id", Str, "/id", "The list id (`l-XXXX`)."),
    c("Name", Str, "/name", "The list name."),
    c(
        "ViewName",
        Str,
        "/__view",
        "The `List_<Name>` view of a contact list.",
    ),
    c("FolderName", Str, "/folderName", "The folder of the list."),
    c("Description", Str, "/description", "The list description."),
    c("Size", Int, "/size|/sourceSize", "Records in the list."),
    c("SourceName", Str, "/sourceName", "The source name."),
    c(
        "LastModified",
        Ts,
        "/tsLastModified",
        "When the list was last modified.",
    ),
    c(
        "LastCounted",
        Ts,
        "/tsLastCounted",
        "When the list was last counted.",
    ),
    c(
        "SourceTimestamp",
        Ts,
        "/tsSource|/sourceTS",
        "The source timestamp.",
    ),
    p(
        "ListingType",
        Str,
        "/__listing_type|/listingType",
        "Filter: CONTACT_LIST, SEED_LIST, SUPPRESSION_LIST, SEGMENT_LIST or EXTERNAL_LIST (all when absent).",
    ),
];

// ---------- objects added for CData parity (issue 19) ----------
// Folder arrays are flattened: each entry gets `folderName` from its group. Fields the spec
// copy shows only as `{}` (headers, footers, campaigns, categories, UCL) are GUESSes, listed
// in docs/acton-wire-shapes.md ("New objects").

const LANDING_PAGES: &[Def] = &[
    k("Id", Str, "/id", "The Id of the landing page (`p-0001`)."),
    c(
        "FolderName",
        Str,
        "/folderName|/folder",
        "The folder that contains the page.",
    ),
    c("Title", Str, "/title", "The title of the page."),
    c("Url", Str, "/url", "The page's public URL."),
    c(
        "CreationTime",
        Ts,
        "/creation_time|/creationTime",
        "The date/time the page was created.",
    ),
    c(
        "LastModified",
        Ts,
        "/modified|/last_modified|/lastModified",
        "The date/time the page was last modified.",
    ),
];

/// Headers and footers (GUESS: the same fields as landing pages, without a URL).
const HEADERS_FOOTERS: &[Def] = &[
    k(
        "Id",
        Str,
        "/id",
        "The Id (footer 0 is the account's default footer).",
    ),
    c(
        "FolderName",
        Str,
        "/folderName|/folder",
        "The folder that contains it.",
    ),
    c("Title", Str, "/title|/name", "The title."),
    c(
        "CreationTime",
        Ts,
        "/creation_time|/creationTime",
        "The date/time it was created.",
    ),
    c(
        "LastModified",
        Ts,
        "/modified|/last_modified|/lastModified",
        "The date/time it was last modified.",
    ),
];

/// GUESS: the spec shows `{}` for `GET /api/1/campaigns`.
const CAMPAIGNS: &[Def] = &[
    k("Id", Str, "/id", "The Id of the campaign."),
    c("Name", Str, "/name", "The name of the campaign."),
    c(
        "Description",
        Str,
        "/description",
        "The description of the campaign.",
    ),
    c("Status", Str, "/status", "The status of the campaign."),
    c(
        "CreationTime",
        Ts,
        "/creation_time|/created",
        "The date/time the campaign was created.",
    ),
    c(
        "LastModified",
        Ts,
        "/modified|/last_modified",
        "The date/time the campaign was last modified.",
    ),
];

/// GUESS: the spec shows no body for `GET /api/1/subscription/category`.
const CATEGORIES: &[Def] = &[
    k(
        "Id",
        Str,
        "/id",
        "The Id of the subscription category (a message's `categoryid`).",
    ),
    c(
        "Name",
        Str,
        "/name",
        "The name (the `category` of subscription opt-outs).",
    ),
    c(
        "Description",
        Str,
        "/description",
        "The description of the category.",
    ),
];

/// One row per entry of a record's activity list (`GET …/record/{id}/facts`).
const SCORE_DETAILS: &[Def] = &[
    p(
        "ContactId",
        Str,
        "/__contact_id",
        "Required filter: the record id (`l-0001:12`).",
    ),
    c(
        "Score",
        Int,
        "/__score",
        "The contact's score (`activity.score`).",
    ),
    c("Action", Str, "/action", "The activity."),
    c("Timestamp", Ts, "/ts", "When it happened."),
    c(
        "Detail",
        Str,
        "/detail",
        "What it concerned (message, page).",
    ),
];

/// One row per record of a list (`activity` of `GET …/record/{id}/facts`); GUESS: the
/// activity fields other than `score`.
const LIST_SCORE: &[Def] = &[
    p(
        "ContactId",
        Str,
        "/__contact_id",
        "Required filter: the record id of the list (`l-0001:12`).",
    ),
    c("Score", Int, "/activity/score", "The contact's score."),
    c("EmailOpens", Int, "/activity/emailOpens", "E-mail opens."),
    c(
        "EmailClicks",
        Int,
        "/activity/emailClicks",
        "E-mail clicks.",
    ),
    c(
        "WebPageVisits",
        Int,
        "/activity/webPageVisits",
        "Web page visits.",
    ),
    c(
        "LastActivity",
        Ts,
        "/activity/lastActivity",
        "When the contact was last active.",
    ),
];

/// UCL contacts of a segment: the spec's contact fields; times are Unix seconds.
const SEGMENT_CONTACTS: &[Def] = &[
    k("Id", Str, "/id", "The UCL contact id."),
    c("Email", Str, "/email", "The e-mail address."),
    c("FirstName", Str, "/firstName", "The first name."),
    c("LastName", Str, "/lastName", "The last name."),
    c("Company", Str, "/company", "The company."),
    c(
        "BusinessPhone",
        Str,
        "/businessPhone",
        "The business phone number.",
    ),
    c("BusinessCity", Str, "/businessCity", "The business city."),
    c(
        "BusinessState",
        Str,
        "/businessState",
        "The business state.",
    ),
    c(
        "BusinessCountry",
        Str,
        "/businessCountry",
        "The business country.",
    ),
    c(
        "BusinessZip",
        Str,
        "/businessZip",
        "The business postal code.",
    ),
    c(
        "ActonPrimaryScore",
        Int,
        "/actonPrimaryScore",
        "The Act-On primary score.",
    ),
    c(
        "CreatedDate",
        Ts,
        "/createdDate",
        "When the contact was created.",
    ),
    c(
        "UpdatedDate",
        Ts,
        "/updatedDate",
        "When the contact was last updated (GUESS: not in the spec's field list).",
    ),
];

/// The UCL time fields of a contact (Unix seconds).
pub(crate) const UCL_SECONDS: &[&str] = &["createdDate", "updatedDate"];

/// One row per score sheet of a contact (GUESS: `{"scores": [{"name", "score", "primary"}]}`).
const SEGMENT_SCORE: &[Def] = &[
    p(
        "ContactId",
        Str,
        "/__contact_id",
        "Required filter: the UCL contact id (`Id` of `Segment_<Name>`).",
    ),
    c("ScoreName", Str, "/name", "The score sheet."),
    c("Score", Int, "/score", "The score."),
    c(
        "IsPrimary",
        Bool,
        "/primary",
        "Whether this is the primary score.",
    ),
];

/// The prefix of per-segment views.
pub const SEGMENT_PREFIX: &str = "Segment_";
/// The suffix of per-list and per-segment score views.
pub const SCORE_SUFFIX: &str = "_Score";

/// What a missing `ContactId` filter on a score view says to do.
pub(crate) fn contact_id_hint(kind: Kind) -> &'static str {
    match kind {
        Kind::SegmentScore => {
            "a UCL contact id from `Segment_<Name>`.`Id`, e.g. `ContactId = 'c-000012'`; scores are read per contact, one request each"
        }
        _ => {
            "a record id, e.g. `ContactId = 'l-0001:12'` or `ContactId IN (...)`; scores are read per record, one request each"
        }
    }
}

fn build(name: &str, kind: Kind, description: &str, defs: &[Def], required: &[&str]) -> Relation {
    let mut columns = Vec::new();
    let mut cols = Vec::new();
    for d in defs {
        let mut info = ColumnInfo::new(d.name, d.ty.arrow(), d.ty.native())
            .describe(d.desc)
            .read_only();
        match d.flag {
            Flag::Key => info = info.key(),
            Flag::Pseudo if required.contains(&d.name) => info = info.not_null(),
            _ => {}
        }
        columns.push(info);
        cols.push(Col {
            name: d.name.to_owned(),
            ty: d.ty,
            key: d.key.to_owned(),
        });
    }
    Relation {
        info: TableInfo {
            name: name.to_owned(),
            kind: TableKind::View,
            description: description.to_owned(),
            columns,
            writable: Writable::NONE,
            required_filters: required.iter().map(|s| (*s).to_owned()).collect(),
        },
        kind,
        list_id: None,
        cols,
    }
}

/// The static views, in name order.
pub(crate) fn static_views() -> Vec<Relation> {
    vec![
        build(
            "Account",
            Kind::Account,
            "The account and connected user (GET /api/1/account).",
            ACCOUNT,
            &[],
        ),
        build(
            "Campaigns",
            Kind::Campaigns,
            "The campaigns of the account (GET /api/1/campaigns).",
            CAMPAIGNS,
            &[],
        ),
        build(
            "Categories",
            Kind::Categories,
            "The subscription categories (GET /api/1/subscription/category).",
            CATEGORIES,
            &[],
        ),
        build(
            "ContactList",
            Kind::ContactList,
            "The lists of the account (GET /api/1/list?listingtype=...).",
            CONTACT_LIST,
            &[],
        ),
        build(
            "DrilldownReports",
            Kind::DrilldownReports,
            "Per-recipient report rows of a message (GET /api/1/message/{MessageId}/report/{DrilldownType}).",
            DRILLDOWN,
            &["MessageId", "DrilldownType"],
        ),
        build(
            "Footer",
            Kind::Footer,
            "The message footers, by folder (GET /api/1/footer).",
            HEADERS_FOOTERS,
            &[],
        ),
        build(
            "Hardbounce",
            Kind::Hardbounce,
            "The hard-bounce list (GET /api/1/list/hardbounce).",
            SUPPRESSION,
            &[],
        ),
        build(
            "Header",
            Kind::Header,
            "The message headers, by folder (GET /api/1/header).",
            HEADERS_FOOTERS,
            &[],
        ),
        build(
            "Images",
            Kind::Images,
            "The images of the account, by folder (GET /api/1/image).",
            IMAGES,
            &[],
        ),
        build(
            "LandingPages",
            Kind::LandingPages,
            "The landing pages, by folder (GET /api/1/page).",
            LANDING_PAGES,
            &[],
        ),
        build(
            "Media",
            Kind::Media,
            "The media files of the account, by folder (GET /api/1/media).",
            MEDIA,
            &[],
        ),
        build(
            "Messages",
            Kind::Messages,
            "The messages of the account (GET /api/1/message?type=...).",
            MESSAGES,
            &[],
        ),
        build(
            "Optout",
            Kind::Optout,
            "The opt-out list (GET /api/1/list/optout).",
            SUPPRESSION,
            &[],
        ),
        build(
            "Programs",
            Kind::Programs,
            "The automated programs (GET /api/1/program?type=...).",
            PROGRAMS,
            &[],
        ),
        build(
            "Reports",
            Kind::Reports,
            "The summary report of a message (GET /api/1/message/{MessageId}/report).",
            REPORTS,
            &["MessageId"],
        ),
        build(
            "ReportsByPeriod",
            Kind::ReportsByPeriod,
            "Daily message counts of a month (GET /api/1/message/report?period=YYMM).",
            BY_PERIOD,
            &["Period"],
        ),
        build(
            "ScoreDetails",
            Kind::ScoreDetails,
            "The score and activity of one record (GET /api/1/list/{listid}/record/{ContactId}/facts).",
            SCORE_DETAILS,
            &["ContactId"],
        ),
        build(
            "Spamcomplaint",
            Kind::Spamcomplaint,
            "The spam-complaint list (GET /api/1/list/spamcomplaint).",
            SUPPRESSION,
            &[],
        ),
        build(
            "SubscriptionOptOuts",
            Kind::SubscriptionOptOuts,
            "The opt-out list (GET /api/1/list/optout).",
            SUPPRESSION,
            &[],
        ),
        build(
            "Users",
            Kind::Users,
            "The e-mail senders of the account (GET /api/1/account/senders).",
            USERS,
            &[],
        ),
    ]
}

/// The kind of a relation, from its metadata alone (for `filter_support`).
pub(crate) fn kind_of(info: &TableInfo) -> Kind {
    match info.name.as_str() {
        "Account" => Kind::Account,
        "Campaigns" => Kind::Campaigns,
        "Categories" => Kind::Categories,
        "ContactList" => Kind::ContactList,
        "Footer" => Kind::Footer,
        "Header" => Kind::Header,
        "LandingPages" => Kind::LandingPages,
        "Optout" => Kind::Optout,
        "ScoreDetails" => Kind::ScoreDetails,
        "DrilldownReports" => Kind::DrilldownReports,
        "Hardbounce" => Kind::Hardbounce,
        "Images" => Kind::Images,
        "Media" => Kind::Media,
        "Messages" => Kind::Messages,
        "Programs" => Kind::Programs,
        "Reports" => Kind::Reports,
        "ReportsByPeriod" => Kind::ReportsByPeriod,
        "Spamcomplaint" => Kind::Spamcomplaint,
        "SubscriptionOptOuts" => Kind::SubscriptionOptOuts,
        "Users" => Kind::Users,
        // Dynamic views by name: `Segment_…`, then `…_Score` of a list or a segment.
        name if name.starts_with(SEGMENT_PREFIX) && name.ends_with(SCORE_SUFFIX) => {
            Kind::SegmentScore
        }
        name if name.starts_with(SEGMENT_PREFIX) => Kind::Segment,
        name if name.ends_with(SCORE_SUFFIX)
            && info.required_filters.iter().any(|f| f == "ContactId") =>
        {
            Kind::ListScore
        }
        _ => Kind::List,
    }
}

/// `List_` plus the list name with every character other than an ASCII letter, digit or `_`
/// replaced by `_` (`Trade Show Leads 2024` → `List_Trade_Show_Leads_2024`).
///
/// ```
/// assert_eq!(source_acton::list_view_name("Trade Show Leads 2024"), "List_Trade_Show_Leads_2024");
/// assert_eq!(source_acton::list_view_name("Kunden/Köln"), "List_Kunden_K_ln");
/// ```
pub fn list_view_name(list_name: &str) -> String {
    format!("{LIST_PREFIX}{}", sanitise(list_name))
}

/// `Segment_` plus the segment name sanitised like [`list_view_name`].
///
/// ```
/// assert_eq!(source_acton::segment_view_name("Win-back (2024)"), "Segment_Win_back__2024_");
/// ```
pub fn segment_view_name(segment_name: &str) -> String {
    format!("{SEGMENT_PREFIX}{}", sanitise(segment_name))
}

fn sanitise(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// One contact list as the catalog knows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListEntry {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) folder: Option<String>,
    pub(crate) size: Option<u64>,
    /// The view name, unique in the catalog.
    pub(crate) view: String,
}

/// View names for lists in id order: the sanitised name, and on a collision (with an earlier
/// list, case-insensitively) the name followed by `_` and the sanitised list id.
pub(crate) fn assign_view_names(lists: &mut [ListEntry]) {
    assign_names(lists, list_view_name);
}

/// [`assign_view_names`] for segments (`Segment_<Name>`).
pub(crate) fn assign_segment_names(segments: &mut [ListEntry]) {
    assign_names(segments, segment_view_name);
}

fn assign_names(lists: &mut [ListEntry], view_name: fn(&str) -> String) {
    lists.sort_by(|a, b| a.id.cmp(&b.id));
    let mut taken: Vec<String> = Vec::new();
    for l in lists.iter_mut() {
        let mut name = view_name(&l.name);
        if taken.contains(&name.to_ascii_lowercase()) {
            let id: String =
                l.id.chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
            name = format!("{name}_{id}");
        }
        taken.push(name.to_ascii_lowercase());
        l.view = name;
    }
}

/// A view over one list or segment, with fixed columns.
fn dynamic(
    entry: &ListEntry,
    name: String,
    kind: Kind,
    description: String,
    defs: &[Def],
) -> Relation {
    let required: &[&str] = match kind {
        Kind::ListScore | Kind::SegmentScore => &["ContactId"],
        _ => &[],
    };
    let mut rel = build(&name, kind, &description, defs, required);
    rel.list_id = Some(entry.id.clone());
    rel
}

/// `List_<Name>_Score`: the score facts of records of one list, read per record.
pub(crate) fn list_score_view(entry: &ListEntry) -> Relation {
    dynamic(
        entry,
        format!("{}{SCORE_SUFFIX}", entry.view),
        Kind::ListScore,
        format!(
            "The scores of records of contact list `{}` (GET /api/1/list/{}/record/{{ContactId}}/facts, one request per ContactId).",
            entry.name, entry.id
        ),
        LIST_SCORE,
    )
}

/// `Segment_<Name>`: the contacts of one UCL segment.
pub(crate) fn segment_view(entry: &ListEntry) -> Relation {
    dynamic(
        entry,
        entry.view.clone(),
        Kind::Segment,
        format!(
            "The contacts of segment `{}` ({}) (GET /ucl/v2/{{accountId}}/segment/{}/contacts).",
            entry.name, entry.id, entry.id
        ),
        SEGMENT_CONTACTS,
    )
}

/// `Segment_<Name>_Score`: the score cards of contacts, read per contact.
pub(crate) fn segment_score_view(entry: &ListEntry) -> Relation {
    dynamic(
        entry,
        format!("{}{SCORE_SUFFIX}", entry.view),
        Kind::SegmentScore,
        format!(
            "The scores of contacts of segment `{}` (GET /ucl/v2/{{accountId}}/contactReport/id/{{ContactId}}/scores, one request per ContactId).",
            entry.name
        ),
        SEGMENT_SCORE,
    )
}

/// The download column holding each record's id (`l-0001:12`), shown as [`CONTACT_ID`].
pub(crate) const CONTACT_ID_HEADER: &str = "_contact_id_";

/// The table of one contact list: `ContactId` (the record id, key of UPDATE and DELETE),
/// its headers as writable Utf8 columns, then the two read-only date qualifiers.
/// A list's view as listed before its columns are read (see `DataSource::list_tables`).
pub(crate) fn undescribed_list_view(entry: &ListEntry) -> Relation {
    let mut rel = list_view(entry, &[], None);
    rel.info.columns.clear();
    rel
}

pub(crate) fn list_view(
    entry: &ListEntry,
    headers: &[String],
    email_column: Option<&str>,
) -> Relation {
    let mut columns = vec![
        ColumnInfo::new(CONTACT_ID, DataType::Utf8, "String")
            .describe(
                "The record id (`l-0001:12`): the key of UPDATE and DELETE; INSERT returns it.",
            )
            .key(),
    ];
    let mut cols = vec![Col {
        name: CONTACT_ID.to_owned(),
        ty: Ty::Str,
        key: CONTACT_ID_HEADER.to_owned(),
    }];
    for h in headers {
        if h == CONTACT_ID_HEADER
            || h == CREATED_DATE
            || h == MODIFIED_DATE
            || columns.iter().any(|c: &ColumnInfo| c.name == *h)
        {
            continue;
        }
        let desc = if email_column == Some(h.as_str()) {
            format!("List field `{h}` (the list's e-mail column).")
        } else {
            format!("List field `{h}`.")
        };
        columns.push(ColumnInfo::new(h.clone(), DataType::Utf8, "String").describe(desc));
        cols.push(Col {
            name: h.clone(),
            ty: Ty::Str,
            key: h.clone(),
        });
    }
    for (name, desc) in [
        (
            CREATED_DATE,
            "When the record was created (datequalifiers); `<`, `<=`, `>`, `>=`, `=` become createdbefore/createdafter.",
        ),
        (
            MODIFIED_DATE,
            "When the record was last modified (datequalifiers); `<`, `<=`, `>`, `>=`, `=` become modbefore/modafter.",
        ),
    ] {
        columns.push(
            ColumnInfo::new(name, Ty::Ts.arrow(), Ty::Ts.native())
                .describe(desc)
                .read_only(),
        );
        cols.push(Col {
            name: name.to_owned(),
            ty: Ty::Ts,
            key: name.to_owned(),
        });
    }
    let mut folder = entry
        .folder
        .as_deref()
        .map(|f| format!(" in folder `{f}`"))
        .unwrap_or_default();
    if let Some(n) = entry.size {
        folder.push_str(&format!(", {n} records when listed"));
    }
    Relation {
        info: TableInfo {
            name: entry.view.clone(),
            kind: TableKind::Table,
            description: format!(
                "The records of contact list `{}` ({}){folder} (GET /api/1/list/{}); INSERT, UPDATE and DELETE by ContactId write them.",
                entry.name, entry.id, entry.id
            ),
            columns,
            writable: Writable::ALL,
            required_filters: Vec::new(),
        },
        kind: Kind::List,
        list_id: Some(entry.id.clone()),
        cols,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, name: &str) -> ListEntry {
        ListEntry {
            id: id.into(),
            name: name.into(),
            folder: None,
            size: None,
            view: String::new(),
        }
    }

    #[test]
    fn colliding_names_get_the_list_id() {
        let mut lists = vec![
            entry("l-0002", "My List"),
            entry("l-0001", "My-List"),
            entry("l-0003", "my list"),
        ];
        assign_view_names(&mut lists);
        let names: Vec<&str> = lists.iter().map(|l| l.view.as_str()).collect();
        assert_eq!(
            names,
            ["List_My_List", "List_My_List_l_0002", "List_my_list_l_0003"]
        );
    }

    #[test]
    fn static_views_are_sorted_and_named_like_cdata() {
        let views = static_views();
        let names: Vec<&str> = views.iter().map(|v| v.info.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        for v in &views {
            assert_eq!(kind_of(&v.info), v.kind);
            assert_eq!(v.cols.len(), v.info.columns.len());
        }
    }
}
