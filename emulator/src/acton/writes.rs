//! The non-GET `/api/1` endpoints: record insert, update, upsert and delete, list create,
//! merge and delete with upload jobs, opt-outs and subscription categories.
//!
//! Shapes follow the third-party copy of Act-On's OpenAPI files (api-evangelist/act-on).
//! Where it shows only `{}`, the answer here is a GUESS listed in docs/acton-wire-shapes.md.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde_json::{Value as J, json};

use super::data::{AoList, Overlay, Source};
use super::{ActOn, State};
use crate::http::{Req, Resp};
use crate::server::Ctx;

/// The most record ids one `DELETE …/record?contactids=` accepts.
pub(crate) const MAX_DELETE_IDS: usize = 100;
/// How long an upload job stays pending, then running (emulator-clock ms from its start).
const JOB_PENDING_MS: i64 = 200;
const JOB_DONE_MS: i64 = 1000;

/// State of the write endpoints that is not a list's records.
#[derive(Debug, Default)]
pub(crate) struct WriteState {
    jobs: BTreeMap<String, Job>,
    next_job: u64,
    next_list: u64,
    /// E-mail addresses opted out (lower case) through `PUT /api/1/list/optout`.
    pub(crate) optouts: BTreeSet<String>,
    /// E-mail addresses opted back in through `PUT /api/1/list/optin`.
    pub(crate) optins: BTreeSet<String>,
    /// (category, e-mail) pairs opted out through `PUT /api/1/subscription/optout`.
    pub(crate) subscription_optouts: BTreeSet<(String, String)>,
}

#[derive(Debug)]
struct Job {
    list_id: String,
    started_ms: i64,
    append: u64,
    update: u64,
    rejected: u64,
}

/// `{"errorCode": code, "message": …}` (B7).
fn error(status: u16, code: J, message: &str) -> Resp {
    Resp::json(status, &json!({"errorCode": code, "message": message}))
}

fn invalid_list(id: &str) -> Resp {
    error(
        400,
        J::from(10004),
        &format!("Invalid or missing list: {id}"),
    )
}

fn invalid_contact(rec: &str) -> Resp {
    error(400, J::from(10008), &format!("Invalid contact: {rec}"))
}

fn success(message: &str) -> J {
    json!({"status": "success", "message": message})
}

/// Routes a non-GET `/api/1` request.
pub(crate) fn handle(emu: &ActOn, st: &mut State, req: &Req, ctx: &Ctx<'_>, segs: &[&str]) -> Resp {
    let seed = emu.cfg.seed;
    let now = ctx.now_ms;
    match (req.method.as_str(), segs) {
        ("POST", ["list", id, "record"]) => with_list(st, id, |l| insert(l, req, now)),
        ("PUT", ["list", "optout"]) => opt(st, req, true),
        ("PUT", ["list", "optin"]) => opt(st, req, false),
        ("PUT", ["subscription", "optout"]) => subscription(st, req),
        ("PUT", ["list", id, "record"]) => with_list(st, id, |l| upsert(l, seed, req, now)),
        ("PUT", ["list", id, "record", rec]) => {
            with_list(st, id, |l| update(l, seed, req, rec, now))
        }
        ("DELETE", ["list", id, "record"]) => with_list(st, id, |l| delete_many(l, req)),
        ("DELETE", ["list", id, "record", rec]) => with_list(st, id, |l| match l.slot_of(rec) {
            Some(i) => {
                l.delete_record(i);
                Resp::json(200, &success("Record deleted"))
            }
            None => invalid_contact(rec),
        }),
        ("POST", ["list"]) => create_list(st, seed, req, now),
        ("PUT", ["list", id]) => merge(st, seed, req, id, now),
        ("DELETE", ["list", id]) => match st.lists.iter().position(|l| l.id == *id) {
            Some(p) => {
                st.lists.remove(p);
                Resp::json(200, &success("List deleted"))
            }
            None => invalid_list(id),
        },
        _ => error(
            404,
            J::from(90004),
            &format!("No such endpoint: {} {}", req.method, req.path),
        ),
    }
}

/// The job status answer of `GET /api/1/list/{jobid}/status`, or `None` when `id` is no job.
pub(crate) fn job_status(st: &State, id: &str, now_ms: i64) -> Option<Resp> {
    let job = st.writes.jobs.get(id)?;
    let age = now_ms - job.started_ms;
    let body = if age < JOB_PENDING_MS {
        json!({"status": "The job is pending"})
    } else if age < JOB_DONE_MS {
        json!({"status": "The job is running"})
    } else {
        let details = json!({"status": "ok", "listId": job.list_id, "appendCount": job.append,
            "updateCount": job.update, "failedCount": 0, "rejectedCount": job.rejected});
        json!({"status": "success", "jobDetails": details.to_string(), "details": details})
    };
    Some(Resp::json(200, &body))
}

/// The answer for a job id that is not known: 400 10017.
pub(crate) fn unknown_job(id: &str) -> Resp {
    error(
        400,
        J::from(10017),
        &format!("Invalid or expired Job Id: {id}"),
    )
}

fn with_list(st: &mut State, id: &str, f: impl FnOnce(&mut AoList) -> Resp) -> Resp {
    match st.lists.iter_mut().find(|l| l.id == id) {
        Some(l) => f(l),
        None => invalid_list(id),
    }
}

/// The request body as a JSON object of header → value, each header matched to a column.
fn values(list: &AoList, req: &Req) -> Result<Vec<(usize, String)>, Resp> {
    let parsed: J = serde_json::from_slice(&req.body).map_err(|e| {
        error(
            400,
            J::from(90004),
            &format!("The body must be a JSON object of column name to value: {e}"),
        )
    })?;
    let Some(obj) = parsed.as_object() else {
        return Err(error(
            400,
            J::from(90004),
            "The body must be a JSON object of column name to value",
        ));
    };
    let mut out = Vec::new();
    for (k, v) in obj {
        let Some(col) = list.headers.iter().position(|h| h.eq_ignore_ascii_case(k)) else {
            // The spec's example sends this code as a string.
            return Err(error(
                400,
                J::from("10010"),
                &format!("Invalid Column Specified: {k}"),
            ));
        };
        let text = match v {
            J::String(s) => s.clone(),
            J::Null => String::new(),
            other => other.to_string(),
        };
        out.push((col, text));
    }
    Ok(out)
}

fn inserted(list: &mut AoList, set: &[(usize, String)], now: i64, message: &str) -> Resp {
    let mut row = vec![String::new(); list.headers.len()];
    for (c, v) in set {
        row[*c].clone_from(v);
    }
    let slot = list.insert_record(row, now);
    let id = format!("{}:{slot}", list.id);
    let mut body = success(message);
    body["id"] = J::from(id.clone());
    body["contact_id"] = J::from(id);
    Resp::json(200, &body)
}

fn insert(list: &mut AoList, req: &Req, now: i64) -> Resp {
    match values(list, req) {
        Ok(set) => inserted(list, &set, now, "Record inserted"),
        Err(r) => r,
    }
}

/// `PUT …/record?email=`: updates the record with that e-mail, or inserts one.
fn upsert(list: &mut AoList, seed: u64, req: &Req, now: i64) -> Resp {
    let Some(email) = req.q("email").filter(|e| !e.is_empty()) else {
        return error(422, J::from(10121), "Missing parameter: email");
    };
    let mut set = match values(list, req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match list.slot_by_email(seed, email) {
        Some(i) => {
            list.update_record(seed, i, &set, now);
            let id = format!("{}:{i}", list.id);
            let mut body = success("Record updated");
            body["id"] = J::from(id.clone());
            body["contact_id"] = J::from(id);
            Resp::json(200, &body)
        }
        None => {
            if let Some(c) = list.email_column()
                && !set.iter().any(|(col, _)| *col == c)
            {
                set.push((c, email.to_owned()));
            }
            inserted(list, &set, now, "Record inserted")
        }
    }
}

fn update(list: &mut AoList, seed: u64, req: &Req, rec: &str, now: i64) -> Resp {
    let Some(i) = list.slot_of(rec) else {
        return invalid_contact(rec);
    };
    let set = match values(list, req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    list.update_record(seed, i, &set, now);
    let mut body = success("Record updated");
    if req
        .q("returncontact")
        .is_some_and(|v| v.eq_ignore_ascii_case("Y"))
    {
        let record = list.record(seed, i);
        let contact: serde_json::Map<String, J> = list
            .headers
            .iter()
            .zip(record)
            .map(|(h, v)| (h.clone(), J::from(v)))
            .collect();
        body["contact"] = J::Object(contact);
    }
    Resp::json(200, &body)
}

fn delete_many(list: &mut AoList, req: &Req) -> Resp {
    let Some(ids) = req.q("contactids").filter(|s| !s.is_empty()) else {
        return error(422, J::from(10121), "Missing parameter: contactids");
    };
    let ids: Vec<&str> = ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.len() > MAX_DELETE_IDS {
        return error(
            400,
            J::from(10054),
            &format!(
                "At most {MAX_DELETE_IDS} contact ids per request; got {}",
                ids.len()
            ),
        );
    }
    let mut failed = Vec::new();
    let mut ok = 0u64;
    for id in ids {
        match list.slot_of(id) {
            Some(i) => {
                list.delete_record(i);
                ok += 1;
            }
            None => failed.push(json!({"id": id, "reason": "Invalid contact id"})),
        }
    }
    Resp::json(
        200,
        &json!({"success_count": ok, "fail_count": failed.len(), "failedList": failed}),
    )
}

// ---------- uploads ----------

/// The text fields and the file of a multipart body.
struct Upload {
    fields: BTreeMap<String, String>,
    file: Option<Bytes>,
}

fn upload(req: &Req) -> Option<Upload> {
    let mut out = Upload {
        fields: BTreeMap::new(),
        file: None,
    };
    for (name, content) in multipart(req)? {
        if name == "file" {
            out.file = Some(content);
        } else {
            out.fields
                .insert(name, String::from_utf8_lossy(&content).into_owned());
        }
    }
    Some(out)
}

/// Splits a multipart/form-data body into (field name, content) parts.
fn multipart(req: &Req) -> Option<Vec<(String, Bytes)>> {
    let ct = req.headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    let boundary = ct
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    let delim = format!("--{boundary}");
    let body = &req.body;
    let find = |from: usize, needle: &[u8]| -> Option<usize> {
        body.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut parts = Vec::new();
    let mut pos = find(0, delim.as_bytes())? + delim.len();
    while body.get(pos..pos + 2) != Some(b"--") {
        let head_end = find(pos + 2, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&body[pos + 2..head_end]).into_owned();
        let next = find(head_end + 4, format!("\r\n{delim}").as_bytes())?;
        let name = head
            .split(';')
            .find_map(|p| {
                p.trim()
                    .strip_prefix("name=")
                    .map(|n| n.trim_matches('"').to_owned())
            })
            .unwrap_or_default();
        parts.push((name, body.slice(head_end + 4..next)));
        pos = next + 2 + delim.len();
    }
    Some(parts)
}

/// An upload's heading row (when `headings` is not N) and its data rows.
type Csv = (Option<Vec<String>>, Vec<Vec<String>>);

/// The CSV rows of an upload (`fieldseparator` COMMA or SEMICOLON, `headings` Y or N).
fn csv_rows(up: &Upload) -> Result<Csv, Resp> {
    let Some(file) = up.file.as_ref().filter(|f| !f.is_empty()) else {
        return Err(error(400, J::from(10003), "Input file missing"));
    };
    let sep = match up.fields.get("fieldseparator").map(String::as_str) {
        Some("SEMICOLON") => b';',
        _ => b',',
    };
    let headings = up.fields.get("headings").is_none_or(|h| h != "N");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(false)
        .flexible(true)
        .from_reader(file.as_ref());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in reader.records() {
        let r = r.map_err(|e| error(400, J::from(10085), &format!("Invalid file: {e}")))?;
        rows.push(r.iter().map(str::to_owned).collect());
    }
    let head = if headings && !rows.is_empty() {
        Some(rows.remove(0))
    } else {
        None
    };
    Ok((head, rows))
}

fn start_job(st: &mut State, list_id: &str, now: i64, counts: (u64, u64, u64)) -> String {
    st.writes.next_job += 1;
    let id = format!("{}", 1_234_566 + st.writes.next_job);
    st.writes.jobs.insert(
        id.clone(),
        Job {
            list_id: list_id.to_owned(),
            started_ms: now,
            append: counts.0,
            update: counts.1,
            rejected: counts.2,
        },
    );
    id
}

/// `POST /api/1/list`: a new list from a CSV upload.
fn create_list(st: &mut State, seed: u64, req: &Req, now: i64) -> Resp {
    let Some(up) = upload(req) else {
        return error(400, J::from(10003), "Input file missing");
    };
    let Some(name) = up.fields.get("listname").filter(|n| !n.is_empty()).cloned() else {
        return error(422, J::from(10121), "Missing parameter: listname");
    };
    let (head, rows) = match csv_rows(&up) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let width = head
        .as_ref()
        .map_or_else(|| rows.first().map_or(0, Vec::len), Vec::len);
    let headers = head.unwrap_or_else(|| (1..=width).map(|i| format!("Column {i}")).collect());
    st.writes.next_list += 1;
    let id = format!("l-{:04}", 900 + st.writes.next_list);
    let mut list = AoList {
        id: id.clone(),
        name,
        folder: up
            .fields
            .get("foldername")
            .cloned()
            .unwrap_or_else(|| "Lists".into()),
        listing_type: "CONTACT_LIST".into(),
        headers,
        source: Source::Stored(Vec::new()),
        created: now,
        modified: now,
        overlay: Overlay::default(),
    };
    let (append, _, rejected) = load_rows(&mut list, seed, rows, false, now);
    st.lists.push(list);
    let job = start_job(st, &id, now, (append, 0, rejected));
    let mut body = success("Upload completed");
    body["jobId"] = J::from(job);
    body["listId"] = J::from(id);
    Resp::json(200, &body)
}

/// Adds (or, with `merge`, updates by e-mail) CSV rows; returns (appended, updated, rejected).
fn load_rows(
    list: &mut AoList,
    seed: u64,
    rows: Vec<Vec<String>>,
    merge: bool,
    now: i64,
) -> (u64, u64, u64) {
    let (mut append, mut update, mut rejected) = (0, 0, 0);
    let email = list.email_column();
    for row in rows {
        if row.len() != list.headers.len() {
            rejected += 1;
            continue;
        }
        let existing = email
            .filter(|_| merge)
            .and_then(|c| list.slot_by_email(seed, &row[c]));
        match existing {
            Some(i) => {
                let set: Vec<(usize, String)> = row.into_iter().enumerate().collect();
                list.update_record(seed, i, &set, now);
                update += 1;
            }
            None => {
                list.insert_record(row, now);
                append += 1;
            }
        }
    }
    (append, update, rejected)
}

/// `PUT /api/1/list/{listid}`: merges a CSV upload into a list (by e-mail).
fn merge(st: &mut State, seed: u64, req: &Req, id: &str, now: i64) -> Resp {
    let Some(up) = upload(req) else {
        return error(400, J::from(10003), "Input file missing");
    };
    let (head, rows) = match csv_rows(&up) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let specs: J = up
        .fields
        .get("mergespecs")
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(J::Null);
    let dst = specs[0]["dstListId"].as_str().unwrap_or(id).to_owned();
    let Some(list) = st.lists.iter_mut().find(|l| l.id == dst) else {
        return if dst == id {
            invalid_list(id)
        } else {
            error(
                400,
                J::from(10025),
                "Invalid or missing merge destination list",
            )
        };
    };
    // Uploaded columns are matched to the list's by heading; without headings, by position.
    let rows: Vec<Vec<String>> = match &head {
        Some(h) => {
            let map: Vec<Option<usize>> = list
                .headers
                .iter()
                .map(|lh| h.iter().position(|x| x.eq_ignore_ascii_case(lh)))
                .collect();
            if let Some(c) = list.email_column()
                && map[c].is_none()
            {
                return error(
                    400,
                    J::from(10088),
                    "At least one specified merge column is missing from the uploaded file",
                );
            }
            rows.into_iter()
                .map(|r| {
                    if r.len() != h.len() {
                        return Vec::new();
                    }
                    map.iter()
                        .map(|m| m.and_then(|i| r.get(i).cloned()).unwrap_or_default())
                        .collect()
                })
                .collect()
        }
        None => rows,
    };
    let counts = load_rows(list, seed, rows, true, now);
    let list_id = list.id.clone();
    let job = start_job(st, &list_id, now, counts);
    let mut body = success("Upload completed");
    body["jobId"] = J::from(job);
    Resp::json(200, &body)
}

// ---------- opt-outs and subscriptions ----------

/// `PUT /api/1/list/optout` (`optout`) or `…/optin`: a CSV file of e-mail addresses.
fn opt(st: &mut State, req: &Req, optout: bool) -> Resp {
    let Some(up) = upload(req) else {
        return error(400, J::from(10003), "Input file missing");
    };
    let (head, rows) = match csv_rows(&Upload {
        fields: [("headings".to_owned(), "N".to_owned())].into(),
        file: up.file.clone(),
    }) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut n = 0u64;
    for row in head.into_iter().chain(rows) {
        let Some(email) = row.first().map(|e| e.trim().to_lowercase()) else {
            continue;
        };
        if !email.contains('@') {
            continue;
        }
        n += 1;
        let w = &mut st.writes;
        if optout {
            w.optins.remove(&email);
            w.optouts.insert(email);
        } else {
            w.optouts.remove(&email);
            w.optins.insert(email);
        }
    }
    let mut body = success(if optout {
        "Opt-out list updated"
    } else {
        "Opt-in completed"
    });
    body["count"] = J::from(n);
    Resp::json(200, &body)
}

/// `PUT /api/1/subscription/optout`: `{email, category, action: optin|optout}` as JSON or a
/// form (the spec copy lists the fields only).
fn subscription(st: &mut State, req: &Req) -> Resp {
    let fields: BTreeMap<String, String> = match serde_json::from_slice::<J>(&req.body) {
        Ok(J::Object(o)) => o
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect(),
        _ => req.form().into_iter().collect(),
    };
    let get = |k: &str| fields.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let (Some(email), Some(category)) = (get("email"), get("category")) else {
        return error(
            422,
            J::from(10121),
            "Missing parameter: email and category are required",
        );
    };
    let key = (category.to_owned(), email.to_lowercase());
    match get("action").map(str::to_ascii_lowercase).as_deref() {
        Some("optout") => {
            st.writes.subscription_optouts.insert(key);
        }
        Some("optin") => {
            st.writes.subscription_optouts.remove(&key);
        }
        other => {
            return error(
                400,
                J::from(10054),
                &format!(
                    "Invalid action '{}': use optin or optout",
                    other.unwrap_or_default()
                ),
            );
        }
    }
    Resp::json(200, &success("Subscription updated"))
}
