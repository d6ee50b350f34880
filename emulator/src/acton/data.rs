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
}

impl AoList {
    pub(crate) fn len(&self) -> u64 {
        match &self.source {
            Source::Generated { count, .. } => *count,
            Source::Stored(r) => r.len() as u64,
        }
    }

    pub(crate) fn created_at(&self, seed: u64, i: u64) -> i64 {
        match &self.source {
            // One contact every 20 minutes from 2024-01-01: created dates increase with the index.
            Source::Generated { salt, .. } => {
                EPOCH_2024 + (i as i64) * 1_200_000 + (pick(seed ^ salt, i, 1, 600) as i64) * 1000
            }
            Source::Stored(r) => r.get(i as usize).map_or(0, |r| r.created),
        }
    }

    pub(crate) fn modified_at(&self, seed: u64, i: u64) -> i64 {
        match &self.source {
            Source::Generated { salt, .. } => {
                let created = self.created_at(seed, i);
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
            ]),
            source: Source::Generated { count: 45, salt: 3 },
            created: EPOCH_2024 + 40 * 86_400_000,
            modified: EPOCH_2024 + 41 * 86_400_000,
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
