//! The views: static ones over fixed endpoints, and one per contact list.

use arrow_schema::DataType;
use source_core::{ColumnInfo, TableInfo, TableKind, Writable};

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
}

/// A view: its metadata, the endpoint family and each column's source.
#[derive(Debug, Clone)]
pub(crate) struct Relation {
    pub(crate) info: TableInfo,
    pub(crate) kind: Kind,
    /// The list id (`l-0001`) of a list view.
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
    k("Id", Str, "/msg_id|/id", "The Id of the message."),
    c(
        "Timestamp",
        Ts,
        "/timestamp",
        "The date/time the message was sent.",
    ),
    c("Title", Str, "/title", "The title of the message."),
    c(
        "FolderName",
        Str,
        "/folderName|/folder_name",
        "The folder where the message is contained.",
    ),
    c("MsgType", Str, "/msg_type|/type", "The message type."),
    c(
        "TimeWhen",
        Str,
        "/time_when",
        "The human-readable time of the message.",
    ),
    c("SenderName", Str, "/sender_name", "The name of the sender."),
    c("SenderId", Str, "/sender_id", "The Id of the sender."),
    c(
        "IsTextOnly",
        Bool,
        "/is_text_only",
        "Whether the message only contains text.",
    ),
    c(
        "SenderEmail",
        Str,
        "/sender_email",
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
        "/creationTime|/created",
        "The date/time the image was created.",
    ),
    c(
        "LastModified",
        Ts,
        "/lastModified|/modified",
        "The date/time the image was last modified.",
    ),
    c("ImageUrl", Str, "/imageUrl|/url", "The image's URL."),
    c("ThumbUrl", Str, "/thumbUrl", "The image's thumbnail URL."),
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
        "/creationTime|/created",
        "The date/time the file was created.",
    ),
    c(
        "LastModified",
        Ts,
        "/lastModified|/modified",
        "The date/time the file was last modified.",
    ),
    c("Url", Str, "/url", "The file's URL."),
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
    c("OptOut", Int, "/optOut", "Opt-outs."),
    c("SpamComplaint", Int, "/spamComplaint", "Spam complaints."),
    c("Suppressed", Int, "/suppressed", "Suppressed recipients."),
    c("NotSent", Int, "/notSent", "Recipients not sent to."),
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
    c("OptOut", Int, "/optOut", "Opt-outs that day."),
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
    c("SourceTimestamp", Ts, "/tsSource", "The source timestamp."),
    p(
        "ListingType",
        Str,
        "/__listing_type|/listingType",
        "Filter: CONTACT_LIST, SEED_LIST, SUPPRESSION_LIST, SEGMENT_LIST or EXTERNAL_LIST (all when absent).",
    ),
];

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
            "Hardbounce",
            Kind::Hardbounce,
            "The hard-bounce list (GET /api/1/list/hardbounce).",
            SUPPRESSION,
            &[],
        ),
        build(
            "Images",
            Kind::Images,
            "The images of the account (GET /api/1/image).",
            IMAGES,
            &[],
        ),
        build(
            "Media",
            Kind::Media,
            "The media files of the account (GET /api/1/media).",
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
        "ContactList" => Kind::ContactList,
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
    let clean: String = list_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{LIST_PREFIX}{clean}")
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
    lists.sort_by(|a, b| a.id.cmp(&b.id));
    let mut taken: Vec<String> = Vec::new();
    for l in lists.iter_mut() {
        let mut name = list_view_name(&l.name);
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

/// The view of one contact list: its headers as Utf8 columns, then the two date qualifiers.
pub(crate) fn list_view(
    entry: &ListEntry,
    headers: &[String],
    email_column: Option<&str>,
) -> Relation {
    let mut columns = Vec::new();
    let mut cols = Vec::new();
    for h in headers {
        if h == CREATED_DATE
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
        columns.push(
            ColumnInfo::new(h.clone(), DataType::Utf8, "String")
                .describe(desc)
                .read_only(),
        );
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
            kind: TableKind::View,
            description: format!(
                "The records of contact list `{}` ({}){folder} (GET /api/1/list/{}).",
                entry.name, entry.id, entry.id
            ),
            columns,
            writable: Writable::NONE,
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
