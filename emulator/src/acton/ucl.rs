//! The unified contact list family `/ucl/v2/{accountId}/…`: segments, their contacts and
//! per-contact score cards (api-updates B4 D5).
//!
//! Paging is `page` (from 0) and `pageSize` (default 50); times are Unix **seconds**. The spec
//! copy shows only `{}` for these answers, so every body shape here is a GUESS (listed in
//! docs/acton-wire-shapes.md, "New objects"). Errors are empty `text/plain` bodies (B7).

use serde_json::{Value as J, json};

use super::State;
use super::data::AoList;
use crate::http::{Req, Resp};
use crate::util::pick;

/// The largest `pageSize` accepted. GUESS: the older UCL endpoint documented 1000.
const MAX_PAGE_SIZE: u64 = 1000;

/// A segment over the `Customers` list (`l-0001`): which record slots it holds.
struct Segment {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    /// Every `step`-th record from `first`, at most `limit` of them.
    first: u64,
    step: u64,
    limit: Option<u64>,
}

const SEGMENTS: &[Segment] = &[
    Segment {
        id: "g-0001",
        name: "Engaged Customers",
        kind: "QUERY",
        first: 0,
        step: 3,
        limit: None,
    },
    Segment {
        id: "g-0002",
        name: "VIP Accounts",
        kind: "DIRECT_SELECT",
        first: 5,
        step: 11,
        limit: Some(7),
    },
    Segment {
        id: "g-0003",
        name: "Win-back (2024)",
        kind: "SEARCH",
        first: 1,
        step: 50,
        limit: None,
    },
];

impl Segment {
    fn len(&self, list: &AoList) -> u64 {
        let n = list.len().saturating_sub(self.first).div_ceil(self.step);
        self.limit.map_or(n, |l| n.min(l))
    }

    fn slot(&self, k: u64) -> u64 {
        self.first + k * self.step
    }
}

/// The UCL contact id of record slot `i` of `Customers`. GUESS: the format is unknown.
fn contact_id(i: u64) -> String {
    format!("c-{i:06}")
}

fn slot_of(contact: &str) -> Option<u64> {
    contact.strip_prefix("c-")?.parse().ok()
}

/// `page` and `pageSize`, or an empty 400.
fn paging(req: &Req) -> Result<(u64, u64), Resp> {
    let num = |name: &str, default: u64| match req.q(name) {
        None | Some("") => Ok(default),
        Some(v) => v.parse::<u64>().map_err(|_| Resp::empty(400)),
    };
    let page = num("page", 0)?;
    let size = num("pageSize", 50)?;
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(Resp::empty(400));
    }
    Ok((page, size))
}

/// `GET /ucl/v2/{accountId}/segment/`. GUESS: `{"segments": [...], "page", "pageSize",
/// "totalCount"}`, each segment shaped like the `source` of the create answer (B6).
pub(crate) fn segments(st: &State, req: &Req) -> Resp {
    let (page, size) = match paging(req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(list) = st.lists.first() else {
        return Resp::empty(500);
    };
    let items: Vec<J> = SEGMENTS
        .iter()
        .skip((page * size) as usize)
        .take(size as usize)
        .map(|s| {
            json!({"id": s.id, "name": s.name, "type": s.kind, "parentId": "l-unified-contacts",
                   "filter": null, "contactCount": s.len(list)})
        })
        .collect();
    Resp::json(
        200,
        &json!({"page": page, "pageSize": size, "totalCount": SEGMENTS.len(), "segments": items}),
    )
}

/// A `Customers` record as a UCL contact (field names from the spec's contact schema).
fn contact(list: &AoList, seed: u64, i: u64) -> J {
    let rec = list.record(seed, i);
    let field = |header: &str| {
        list.headers
            .iter()
            .position(|h| h == header)
            .and_then(|p| rec.get(p))
            .cloned()
            .unwrap_or_default()
    };
    json!({
        "id": contact_id(i),
        "email": field("E-mail Address"),
        "firstName": field("First Name"),
        "lastName": field("Last Name"),
        "company": field("Company"),
        "businessPhone": field("Business Phone"),
        "businessCity": field("City"),
        "businessState": field("State"),
        "businessCountry": field("Country"),
        "businessZip": field("Zip"),
        "actonPrimaryScore": field("Lead Score"),
        // Unix seconds (D5). GUESS: `updatedDate` is not in the spec's field list.
        "createdDate": list.created_at(seed, i) / 1000,
        "updatedDate": list.modified_at(seed, i) / 1000,
    })
}

/// `GET /ucl/v2/{accountId}/segment/{segmentId}/contacts`. GUESS: `{"contacts": [...],
/// "page", "pageSize", "totalCount"}`.
pub(crate) fn segment_contacts(st: &State, seed: u64, req: &Req, id: &str) -> Resp {
    let Some(segment) = SEGMENTS.iter().find(|s| s.id == id) else {
        return Resp::empty(404);
    };
    let (page, size) = match paging(req) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(list) = st.lists.first() else {
        return Resp::empty(500);
    };
    let total = segment.len(list);
    let start = page.saturating_mul(size).min(total);
    let end = (start + size).min(total);
    let contacts: Vec<J> = (start..end)
        .map(|k| segment.slot(k))
        .filter(|&i| list.is_live(i))
        .map(|i| contact(list, seed, i))
        .collect();
    Resp::json(
        200,
        &json!({"page": page, "pageSize": size, "totalCount": total, "contacts": contacts}),
    )
}

/// `GET /ucl/v2/{accountId}/contactReport/id/{id}/scores`. GUESS: `{"scores": [{"name",
/// "score", "primary"}]}`, one entry per score sheet.
pub(crate) fn contact_scores(st: &State, seed: u64, id: &str) -> Resp {
    let Some(list) = st.lists.first() else {
        return Resp::empty(500);
    };
    let Some(i) = slot_of(id).filter(|&i| i < list.len() && list.is_live(i)) else {
        return Resp::empty(404);
    };
    Resp::json(
        200,
        &json!({"scores": [
            {"name": "Act-On Primary Score", "score": pick(seed, i, 60, 101), "primary": true},
            {"name": "Product Interest", "score": pick(seed, i, 64, 51), "primary": false},
        ]}),
    )
}
