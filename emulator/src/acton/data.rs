//! Act-On seed data: lists generated from (seed, index), messages, programs, media.

use crate::util::{iso_ms, pick};

/// 2024-01-01T00:00:00Z.
pub(crate) const EPOCH_2024: i64 = 1_704_067_200_000;

pub(crate) const CUSTOMER_HEADERS: &[&str] = &[
    "First Name",
    "Last Name",
    "E-mail Address",
    "Company",
    "Job Title",
    "Business Phone",
    "City",
    "State",
    "Country",
    "Zip",
    "Lead Score",
];

const FIRST: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Mateo", "Isabella", "Lucas",
    "Mia", "Amelia", "Hiro", "Priya", "Chen", "Fatima", "Lars", "Chloé", "Zoë", "José",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Garcia",
    "Müller",
    "O'Brien",
    "Nguyen",
    "Kowalski",
    "Rossi",
    "Tanaka",
    "Patel",
    "Silva",
    "Dubois",
    "Jensen",
    "Kim",
    "Hernández",
    "Cohen",
];
const COMPANIES: &[&str] = &[
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Wonka Foods",
    "Cyberdyne",
    "Soylent",
    "Tyrell",
    "Vandelay Industries",
];
const TITLES: &[&str] = &[
    "Marketing Manager",
    "CMO",
    "Data Analyst",
    "VP Sales",
    "Engineer",
    "",
    "Director, Demand Gen",
];
const PLACES: &[(&str, &str, &str, &str)] = &[
    ("Portland", "OR", "United States", "97201"),
    ("Austin", "TX", "United States", "73301"),
    ("Boston", "MA", "United States", "02108"),
    ("Toronto", "ON", "Canada", "M5H 2N2"),
    ("London", "", "United Kingdom", "EC1A 1BB"),
    ("Berlin", "", "Germany", "10115"),
    ("Sydney", "NSW", "Australia", "2000"),
];

/// Where a list's records come from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// Contacts generated from (seed, salt, index).
    Generated { count: u64, salt: u64 },
    /// Explicit records.
    Stored(Vec<Record>),
}

#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub(crate) values: Vec<String>,
    pub(crate) created: i64,
    pub(crate) modified: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct AoList {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) folder: String,
    pub(crate) listing_type: String,
    pub(crate) headers: Vec<String>,
    pub(crate) source: Source,
    pub(crate) created: i64,
    pub(crate) modified: i64,
    /// Records written through the API, on top of `source`.
    pub(crate) overlay: Overlay,
}

impl AoList {
    /// The number of record slots (`{list id}:{slot}` ids): the seeded records, then the
    /// inserted ones. Deleted slots stay counted; [`AoList::is_live`] tells them apart.
    pub(crate) fn len(&self) -> u64 {
        self.base_len() + self.overlay.added.len() as u64
    }

    fn base_len(&self) -> u64 {
        match &self.source {
            Source::Generated { count, .. } => *count,
            Source::Stored(r) => r.len() as u64,
        }
    }

    pub(crate) fn created_at(&self, seed: u64, i: u64) -> i64 {
        if let Some(r) = self.written(i) {
            return r.created;
        }
        self.base_created_at(seed, i)
    }

    fn base_created_at(&self, seed: u64, i: u64) -> i64 {
        match &self.source {
            // One contact every 20 minutes from 2024-01-01: created dates increase with the index.
            Source::Generated { salt, .. } => {
                EPOCH_2024 + (i as i64) * 1_200_000 + (pick(seed ^ salt, i, 1, 600) as i64) * 1000
            }
            Source::Stored(r) => r.get(i as usize).map_or(0, |r| r.created),
        }
    }

    pub(crate) fn modified_at(&self, seed: u64, i: u64) -> i64 {
        if let Some(r) = self.written(i) {
            return r.modified;
        }
        match &self.source {
            Source::Generated { salt, .. } => {
                let created = self.base_created_at(seed, i);
                // A third of contacts were never modified after creation.
                if pick(seed ^ salt, i, 2, 3) == 0 {
                    created
                } else {
                    created + (pick(seed ^ salt, i, 3, 120 * 86_400) as i64) * 1000
                }
            }
            Source::Stored(r) => r.get(i as usize).map_or(0, |r| r.modified),
        }
    }

    pub(crate) fn record(&self, seed: u64, i: u64) -> Vec<String> {
        if let Some(r) = self.written(i) {
            return r.values.clone();
        }
        self.base_record(seed, i)
    }

    fn base_record(&self, seed: u64, i: u64) -> Vec<String> {
        match &self.source {
            Source::Generated { salt, .. } => {
                let s = seed ^ salt;
                let first = FIRST[pick(s, i, 10, FIRST.len() as u64) as usize];
                let last = LAST[pick(s, i, 11, LAST.len() as u64) as usize];
                let company = COMPANIES[pick(s, i, 12, COMPANIES.len() as u64) as usize];
                let place = PLACES[pick(s, i, 13, PLACES.len() as u64) as usize];
                let email = email_for(first, last, company, i);
                self.headers
                    .iter()
                    .map(|h| match h.as_str() {
                        "First Name" => first.to_string(),
                        "Last Name" => last.to_string(),
                        "E-mail Address" => email.clone(),
                        "Company" => company.to_string(),
                        "Job Title" => {
                            TITLES[pick(s, i, 14, TITLES.len() as u64) as usize].to_string()
                        }
                        "Business Phone" => {
                            if pick(s, i, 15, 5) == 0 {
                                String::new()
                            } else {
                                format!(
                                    "+1 555 {:03} {:04}",
                                    pick(s, i, 16, 1000),
                                    pick(s, i, 17, 10_000)
                                )
                            }
                        }
                        "City" => place.0.to_string(),
                        "State" => place.1.to_string(),
                        "Country" => place.2.to_string(),
                        "Zip" => place.3.to_string(),
                        "Lead Score" => pick(s, i, 18, 101).to_string(),
                        // A date column, in the text the record endpoint shows (B5).
                        "Registered" => pacific_datetime(self.base_created_at(seed, i)),
                        _ => String::new(),
                    })
                    .collect()
            }
            Source::Stored(r) => r
                .get(i as usize)
                .map(|r| r.values.clone())
                .unwrap_or_default(),
        }
    }

    pub(crate) fn email_column(&self) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| h == "E-mail Address" || h.eq_ignore_ascii_case("email"))
    }
}

// ---------- record overlay: API writes on top of the seeded records ----------

/// Records inserted, updated and deleted through the API. Slots keep their numbers, so a
/// record id (`l-0001:12`) stays valid until the record is deleted and is never reused.
#[derive(Clone, Debug, Default)]
pub(crate) struct Overlay {
    /// Inserted records: slot `base_len + position`.
    added: Vec<Record>,
    /// New values of seeded slots.
    changed: std::collections::HashMap<u64, Record>,
    /// Deleted slots (seeded or inserted).
    deleted: std::collections::BTreeSet<u64>,
}

impl AoList {
    /// The written version of slot `i`, if any (deleted slots have none).
    fn written(&self, i: u64) -> Option<&Record> {
        let base = self.base_len();
        if i >= base {
            return self.overlay.added.get((i - base) as usize);
        }
        self.overlay.changed.get(&i)
    }

    /// Whether slot `i` holds a record (exists and is not deleted).
    pub(crate) fn is_live(&self, i: u64) -> bool {
        i < self.len() && !self.overlay.deleted.contains(&i)
    }

    /// Whether any record was deleted (then slots and positions differ).
    pub(crate) fn has_deletions(&self) -> bool {
        !self.overlay.deleted.is_empty()
    }

    /// The number of records a download returns.
    pub(crate) fn live_len(&self) -> u64 {
        self.len() - self.overlay.deleted.len() as u64
    }

    /// The slot of record id `rec` (`{list id}:{slot}`) when it holds a record.
    pub(crate) fn slot_of(&self, rec: &str) -> Option<u64> {
        rec.strip_prefix(self.id.as_str())
            .and_then(|r| r.strip_prefix(':'))
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|&i| self.is_live(i))
    }

    /// The first live slot whose e-mail column equals `email` (case-insensitively).
    pub(crate) fn slot_by_email(&self, seed: u64, email: &str) -> Option<u64> {
        let col = self.email_column()?;
        (0..self.len()).find(|&i| {
            self.is_live(i)
                && self
                    .record(seed, i)
                    .get(col)
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
    }

    /// Appends a record; returns its slot.
    pub(crate) fn insert_record(&mut self, values: Vec<String>, now_ms: i64) -> u64 {
        let slot = self.len();
        self.overlay.added.push(Record {
            values,
            created: now_ms,
            modified: now_ms,
        });
        slot
    }

    /// Sets the given columns (by header position) of live slot `i`.
    pub(crate) fn update_record(
        &mut self,
        seed: u64,
        i: u64,
        set: &[(usize, String)],
        now_ms: i64,
    ) {
        let mut values = self.record(seed, i);
        values.resize(self.headers.len(), String::new());
        for (col, v) in set {
            if let Some(cell) = values.get_mut(*col) {
                cell.clone_from(v);
            }
        }
        let created = self.created_at(seed, i);
        let rec = Record {
            values,
            created,
            modified: now_ms,
        };
        let base = self.base_len();
        if i >= base {
            if let Some(r) = self.overlay.added.get_mut((i - base) as usize) {
                *r = rec;
            }
        } else {
            self.overlay.changed.insert(i, rec);
        }
    }

    /// Deletes live slot `i`.
    pub(crate) fn delete_record(&mut self, i: u64) {
        self.overlay.deleted.insert(i);
        self.overlay.changed.remove(&i);
    }
}
// ---------- end of the record overlay ----------

// ---------- Act-On's date texts: US/Pacific with a zone abbreviation (api-updates B5) ----------

const MONTH_ABBR: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAY_ABBR: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// The US/Pacific civil time of `ms`: (days since 1970-01-01, ms into the day, "PDT"|"PST").
/// Daylight time runs from 02:00 on the second Sunday of March to 02:00 on the first Sunday
/// of November (the account's `time_zone` is `US/Pacific`).
fn pacific(ms: i64) -> (i64, i64, &'static str) {
    let (year, _, _) = crate::util::civil_from_days(ms.div_euclid(86_400_000));
    let sunday_on_or_after = |m: u32, d: u32| {
        let day = crate::util::days_from_civil(year, m, d);
        day + (7 - (day + 4).rem_euclid(7)) % 7
    };
    // 02:00 PST is 10:00 UTC; 02:00 PDT is 09:00 UTC.
    let starts = sunday_on_or_after(3, 8) * 86_400_000 + 10 * 3_600_000;
    let ends = sunday_on_or_after(11, 1) * 86_400_000 + 9 * 3_600_000;
    let (offset_h, zone) = if (starts..ends).contains(&ms) {
        (-7, "PDT")
    } else {
        (-8, "PST")
    };
    let local = ms + offset_h * 3_600_000;
    (
        local.div_euclid(86_400_000),
        local.rem_euclid(86_400_000),
        zone,
    )
}

/// `h:MM AM` of ms into a day (12-hour clock, no leading zero).
fn clock_12(rem: i64) -> String {
    let (h, m) = (rem / 3_600_000, (rem / 60_000) % 60);
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    format!("{h12}:{m:02} {}", if h < 12 { "AM" } else { "PM" })
}

/// `2024-09-03 12:47:01 PDT`: record values and suppression-list dates.
pub(crate) fn pacific_datetime(ms: i64) -> String {
    let (day, rem, zone) = pacific(ms);
    let (y, mo, d) = crate::util::civil_from_days(day);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02} {zone}",
        rem / 3_600_000,
        (rem / 60_000) % 60,
        (rem / 1000) % 60
    )
}

/// `Aug 27 2024 4:14 PM PDT`: `sourceTS` of list assets.
pub(crate) fn pacific_month_day_year(ms: i64) -> String {
    let (day, rem, zone) = pacific(ms);
    let (y, mo, d) = crate::util::civil_from_days(day);
    format!(
        "{} {d} {y} {} {zone}",
        MONTH_ABBR[mo as usize - 1],
        clock_12(rem)
    )
}

/// `Fri Sep 6 9:50 AM PDT` (no year): `timeWhen` of messages.
pub(crate) fn pacific_weekday(ms: i64) -> String {
    let (day, rem, zone) = pacific(ms);
    let (_, mo, d) = crate::util::civil_from_days(day);
    format!(
        "{} {} {d} {} {zone}",
        DAY_ABBR[(day + 4).rem_euclid(7) as usize],
        MONTH_ABBR[mo as usize - 1],
        clock_12(rem)
    )
}

fn email_for(first: &str, last: &str, company: &str, i: u64) -> String {
    let clean = |s: &str| {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_lowercase()
    };
    format!(
        "{}.{}{}@{}.example",
        clean(first),
        clean(last),
        i,
        clean(company)
    )
}

/// Seeded lists: `Customers` (size from the builder) and a few small ones.
pub(crate) fn seed_lists(customers: u64) -> Vec<AoList> {
    let headers = |hs: &[&str]| hs.iter().map(|h| (*h).to_string()).collect::<Vec<_>>();
    vec![
        AoList {
            id: "l-0001".into(),
            name: "Customers".into(),
            folder: "Lists".into(),
            listing_type: "CONTACT_LIST".into(),
            headers: headers(CUSTOMER_HEADERS),
            source: Source::Generated {
                count: customers,
                salt: 1,
            },
            created: EPOCH_2024 - 86_400_000,
            modified: EPOCH_2024 + 200 * 86_400_000,
            overlay: Overlay::default(),
        },
        AoList {
            id: "l-0002".into(),
            name: "Newsletter Subscribers".into(),
            folder: "Lists".into(),
            listing_type: "CONTACT_LIST".into(),
            headers: headers(&["First Name", "Last Name", "E-mail Address", "Company"]),
            source: Source::Generated {
                count: 120,
                salt: 2,
            },
            created: EPOCH_2024 + 10 * 86_400_000,
            modified: EPOCH_2024 + 90 * 86_400_000,
            overlay: Overlay::default(),
        },
        AoList {
            id: "l-0003".into(),
            name: "Trade Show Leads 2024".into(),
            folder: "Events".into(),
            listing_type: "CONTACT_LIST".into(),
            headers: headers(&[
                "First Name",
                "Last Name",
                "E-mail Address",
                "Company",
                "Job Title",
                "City",
                "Registered",
            ]),
            source: Source::Generated { count: 45, salt: 3 },
            created: EPOCH_2024 + 40 * 86_400_000,
            modified: EPOCH_2024 + 41 * 86_400_000,
            overlay: Overlay::default(),
        },
        AoList {
            id: "l-0004".into(),
            name: "QA Seed List".into(),
            folder: "Seed Lists".into(),
            listing_type: "SEED_LIST".into(),
            headers: headers(&["E-mail Address", "First Name"]),
            source: Source::Stored(vec![
                Record {
                    values: vec!["qa1@emulator.example".into(), "QA One".into()],
                    created: EPOCH_2024,
                    modified: EPOCH_2024,
                },
                Record {
                    values: vec!["qa2@emulator.example".into(), "QA Two".into()],
                    created: EPOCH_2024,
                    modified: EPOCH_2024,
                },
            ]),
            created: EPOCH_2024,
            modified: EPOCH_2024,
            overlay: Overlay::default(),
        },
        AoList {
            id: "l-0005".into(),
            name: "Do Not Mail".into(),
            folder: "Suppression Lists".into(),
            listing_type: "SUPPRESSION_LIST".into(),
            headers: headers(&["E-mail Address"]),
            source: Source::Stored(vec![Record {
                values: vec!["blocked@competitor.example".into()],
                created: EPOCH_2024,
                modified: EPOCH_2024,
            }]),
            created: EPOCH_2024,
            modified: EPOCH_2024,
            overlay: Overlay::default(),
        },
    ]
}

#[derive(Clone, Debug)]
pub(crate) struct Message {
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    pub(crate) title: String,
    pub(crate) subject: String,
    pub(crate) timestamp: i64,
    pub(crate) sender: usize,
    pub(crate) text_only: bool,
}

pub(crate) const SENDERS: &[(u64, &str, &str)] = &[
    (1001, "Marketing Team", "marketing@emulator.example"),
    (1002, "Dana Scully", "dana.scully@emulator.example"),
    (1003, "Events Desk", "events@emulator.example"),
];

/// `s-NNNN-YYMM` for sent-type messages, as in Act-On's examples.
fn sent_id(n: u32, ts: i64) -> String {
    let iso = iso_ms(ts);
    format!("s-{n:04}-{}{}", &iso[2..4], &iso[5..7])
}

pub(crate) fn seed_messages() -> Vec<Message> {
    let mut out = Vec::new();
    let day = 86_400_000i64;
    let mut n = 0u32;
    let mut push =
        |kind: &'static str, id: String, title: &str, ts: i64, sender: usize, text_only: bool| {
            out.push(Message {
                id,
                kind,
                title: title.into(),
                subject: format!("{title} — news from Emulator Inc."),
                timestamp: ts,
                sender,
                text_only,
            });
        };
    for (i, t) in [
        "Spring Newsletter",
        "Product Launch",
        "Webinar Invite",
        "Holiday Promo",
        "Q3 Roundup",
        "Survey",
    ]
    .iter()
    .enumerate()
    {
        n += 1;
        let ts = EPOCH_2024 + (20 + 45 * i as i64) * day + 10 * 3_600_000;
        push("SENT", sent_id(n, ts), t, ts, i % 3, false);
    }
    for (i, t) in ["Welcome Series 1", "Welcome Series 2", "Download Follow-up"]
        .iter()
        .enumerate()
    {
        n += 1;
        let ts = EPOCH_2024 + (5 + 30 * i as i64) * day;
        push("TRIGGERED", sent_id(n, ts), t, ts, 0, false);
    }
    n += 1;
    let ts = EPOCH_2024 + 100 * day;
    push("FAILED", sent_id(n, ts), "Broken Merge Fields", ts, 1, true);
    n += 1;
    let ts = EPOCH_2024 + 1000 * day;
    push(
        "SCHEDULED",
        sent_id(n, ts),
        "Future Announcement",
        ts,
        2,
        false,
    );
    for (i, t) in [
        "Draft: Autumn Newsletter",
        "Draft: Partner Update",
        "Draft: Text-only Notice",
    ]
    .iter()
    .enumerate()
    {
        push(
            "DRAFT",
            format!("d-{:04}", i + 1),
            t,
            EPOCH_2024 + (300 + i as i64) * day,
            0,
            i == 2,
        );
    }
    for (i, t) in ["Template: Basic", "Template: Event", "Template: Newsletter"]
        .iter()
        .enumerate()
    {
        push(
            "TEMPLATE",
            format!("t-{:04}", i + 1),
            t,
            EPOCH_2024 + (i as i64) * day,
            0,
            false,
        );
    }
    out
}

/// Report numbers for a sent or triggered message, derived from its id.
pub(crate) struct Report {
    pub(crate) sent: u64,
    pub(crate) bounced: u64,
    pub(crate) opened: (u64, u64),
    pub(crate) clicked: (u64, u64),
    pub(crate) opt_out: u64,
    pub(crate) spam: u64,
    pub(crate) suppressed: u64,
}

pub(crate) fn report_for(seed: u64, msg_index: u64, list_size: u64) -> Report {
    let sent = list_size.clamp(10, 1500) - pick(seed, msg_index, 40, 5);
    let opened_u = sent * (20 + pick(seed, msg_index, 41, 30)) / 100;
    let clicked_u = opened_u * (10 + pick(seed, msg_index, 42, 30)) / 100;
    Report {
        sent,
        bounced: sent * pick(seed, msg_index, 43, 4) / 100 + 1,
        opened: (opened_u, opened_u + opened_u / 3),
        clicked: (clicked_u, clicked_u + clicked_u / 2),
        opt_out: 1 + pick(seed, msg_index, 44, 5),
        spam: pick(seed, msg_index, 45, 3),
        suppressed: pick(seed, msg_index, 46, 4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacific_texts_follow_daylight_saving() {
        // 2024-09-03 19:47:01 UTC is 12:47:01 PDT; 2024-01-05 00:30 UTC is 4:30 PM PST.
        assert_eq!(
            pacific_datetime(1_725_392_821_000),
            "2024-09-03 12:47:01 PDT"
        );
        assert_eq!(
            pacific_month_day_year(1_704_414_600_000),
            "Jan 4 2024 4:30 PM PST"
        );
        // The spec's example: 1725641452528 is `Fri Sep 6 9:50 AM PDT`.
        assert_eq!(pacific_weekday(1_725_641_452_528), "Fri Sep 6 9:50 AM PDT");
        // DST starts 2024-03-10 10:00 UTC and ends 2024-11-03 09:00 UTC.
        assert!(pacific_datetime(1_710_064_799_000).ends_with("01:59:59 PST"));
        assert!(pacific_datetime(1_710_064_800_000).ends_with("03:00:00 PDT"));
        assert!(pacific_datetime(1_730_624_400_000).ends_with("01:00:00 PST"));
    }
}
