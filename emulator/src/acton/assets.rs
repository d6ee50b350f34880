//! Account assets: the folder arrays of `/api/1/image`, `/media`, `/page`, `/form`, `/header`
//! and `/footer`, campaigns and subscription categories.
//!
//! The folder arrays follow the spec copy (api-updates B5): `[{"entries": [...], <group>: name}]`
//! with no `count`/`offset` paging. Shapes the spec shows only as `{}` are marked GUESS here
//! and listed in docs/acton-wire-shapes.md ("New objects").

use serde_json::{Value as J, json};

use super::data::EPOCH_2024;
use crate::http::{Req, Resp};

const DAY_MS: i64 = 86_400_000;
const FOLDERS: [&str; 3] = ["Default Folder", "Banners", "Logos"];

/// Which folder array an endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asset {
    Image,
    Media,
    Page,
    Form,
    Header,
    Footer,
}

impl Asset {
    /// The key naming each group's folder: `name` for media and images, `folder` for pages
    /// and forms (spec examples). GUESS for headers and footers (the spec shows `{}`).
    fn group_key(self) -> &'static str {
        match self {
            Asset::Image | Asset::Media => "name",
            _ => "folder",
        }
    }

    fn count(self) -> usize {
        match self {
            Asset::Image => 14,
            Asset::Media => 6,
            Asset::Page => 9,
            Asset::Form => 4,
            Asset::Header | Asset::Footer => 3,
        }
    }

    /// Entry `i` in the spec's field names and value types.
    fn entry(self, i: usize) -> J {
        let n = i + 1;
        let created = EPOCH_2024 + i as i64 * DAY_MS;
        let modified = created + 3_600_000;
        let host = "https://a10000.actonservice.example";
        match self {
            // Images: `creation_time` is a string, `size` a number, width/height strings.
            Asset::Image => json!({
                "id": format!("img-{n:04}"), "name": format!("image-{n}.png"),
                "creation_time": created.to_string(), "last_modified": modified.to_string(),
                "url": format!("https://media.emulator.example/images/{n}.png"),
                "thumb": format!("https://media.emulator.example/thumbs/{n}.png"),
                "size": 20_000 + i * 1500, "width": "600", "height": (300 + i * 10).to_string(),
            }),
            // Media: `creation_time` is a number, `size` a string.
            Asset::Media => json!({
                "id": format!("med-{n:04}"), "name": format!("whitepaper-{n}.pdf"),
                "creation_time": created, "last_modified": modified.to_string(),
                "url": format!("https://media.emulator.example/media/{n}.pdf"),
                "size": (500_000 + i * 10_000).to_string(),
            }),
            // Landing pages: times are ms strings.
            Asset::Page => json!({
                "id": format!("p-{n:04}"), "title": format!("Landing Page {n}"),
                "creation_time": created.to_string(), "modified": modified.to_string(),
                "url": format!("{host}/acton/fs/blocks/showLandingPage/a/10000/p/p-{n:04}/t/page/fm/0"),
            }),
            Asset::Form => json!({
                "id": format!("6a4a21fb-0aff-4f0e-b57a-{n:012}"), "title": format!("Form {n}"),
                "description": "", "creation_time": created, "modified": modified,
                "url": format!("{host}/acton/form/10000/{n:04}/index.htm"),
            }),
            // GUESS: the spec shows `{}` for header and footer lists. Footer 0 is the
            // account's default footer (spec description of "Add a new footer").
            Asset::Header | Asset::Footer => {
                let (what, id) = if self == Asset::Header {
                    ("Header", n.to_string())
                } else {
                    ("Footer", i.to_string())
                };
                json!({"id": id, "title": format!("{what} {n}"),
                       "creation_time": created.to_string(), "modified": modified.to_string()})
            }
        }
    }

    fn folder_of(self, i: usize) -> &'static str {
        match self {
            Asset::Header | Asset::Footer => FOLDERS[i % 2],
            _ => FOLDERS[i % 3],
        }
    }
}

/// `GET /api/1/{image,media,page,form,header,footer}`: every entry, grouped by folder, in
/// one answer. `folderName` narrows to one folder (GUESS: CData pushes `FolderName` of
/// Images and Media to the server, so some parameter exists; the spec lists none).
pub(crate) fn folder_array(req: &Req, asset: Asset) -> Resp {
    let wanted = req.q("folderName").or_else(|| req.q("folder"));
    let groups: Vec<J> = FOLDERS
        .iter()
        .filter(|f| wanted.is_none_or(|w| w == **f))
        .filter_map(|folder| {
            let entries: Vec<J> = (0..asset.count())
                .filter(|&i| asset.folder_of(i) == *folder)
                .map(|i| asset.entry(i))
                .collect();
            if entries.is_empty() {
                return None;
            }
            let mut group = serde_json::Map::new();
            group.insert("entries".into(), entries.into());
            group.insert(asset.group_key().into(), (*folder).into());
            Some(J::Object(group))
        })
        .collect();
    Resp::json(200, &groups)
}

/// `GET /api/1/campaigns`. GUESS: the spec shows `{}`; served as `{"campaigns": [...]}`.
pub(crate) fn campaigns() -> Resp {
    let names = ["Spring Launch", "Webinar Series", "Customer Onboarding"];
    let items: Vec<J> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let created = EPOCH_2024 + i as i64 * 7 * DAY_MS;
            json!({"id": format!("cmp-{:04}", i + 1), "name": name,
                   "description": format!("{name} campaign"), "status": if i == 2 { "INACTIVE" } else { "ACTIVE" },
                   "creation_time": created, "modified": created + DAY_MS})
        })
        .collect();
    Resp::json(200, &json!({"campaigns": items}))
}

/// `GET /api/1/subscription/category`. GUESS: the spec shows no body; served as
/// `{"categories": [{"id", "name", "description"}]}` (messages take a `categoryid`).
pub(crate) fn categories() -> Resp {
    let items: Vec<J> = [
        ("Newsletter", "The monthly newsletter"),
        ("Product Updates", "Release notes and product news"),
        ("Events", "Webinars and trade shows"),
        ("Offers", "Promotions"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, description))| {
        json!({"id": format!("cat-{:04}", i + 1), "name": name, "description": description})
    })
    .collect();
    Resp::json(200, &json!({"categories": items}))
}
