//! The shape of the tree (notionfs(1), LAYOUT), as plain data: what Notion objects are known
//! ([`Obj`]), what a page's block tree contributes to its folder ([`Item`]), and how a
//! directory's children become named entries ([`Listing`], built with the sticky
//! [`NameTable`] of [`super::names`]).
//!
//! Fetching lives in `listing` and `page`; this module only decides, so the rules stay
//! testable.

use std::collections::HashMap;

use serde_json::Value;

use super::inode::NodeKey;
use super::names::{sanitize, split_ext, Candidate, NameTable, Shape};
use crate::notion::model::block::Media;
use crate::notion::model::file::FileObject;
use crate::notion::model::property::PropertyData;
use crate::notion::model::{Block, BlockKind, DataSource, Database, Page, Parent};

/// What kind of Notion object an [`Obj`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjKind {
    /// A page or a row.
    Page,
    /// A database (container of data sources).
    Database,
    /// A data source.
    DataSource,
}

impl ObjKind {
    /// The value of `user.notion.object`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjKind::Page => "page",
            ObjKind::Database => "database",
            ObjKind::DataSource => "data_source",
        }
    }
}

/// What the mount knows about one Notion object (kept for every visible object: about 0.5 KB
/// for a page, plus the row's page object — its properties — for a row).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Obj {
    /// Notion id.
    pub id: String,
    /// Page, database or data source.
    pub kind: ObjKind,
    /// Plain-text title.
    pub title: String,
    /// ISO 8601 creation time.
    pub created_time: String,
    /// ISO 8601 last edit time (rounded to the minute by Notion).
    pub last_edited_time: String,
    /// Link in Notion.
    pub url: String,
    /// Its parent.
    pub parent: Option<Parent>,
    /// The full page object, for rows (front matter needs the properties). Boxed: most
    /// objects are not rows, and the map of every known object holds this struct inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<Box<Page>>,
    /// For a data source: where its database lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_parent: Option<Parent>,
}

impl Obj {
    /// From a page object (search, query or retrieve results).
    pub fn from_page(p: &Page) -> Obj {
        let is_row = p.parent.kind == "data_source_id";
        Obj {
            id: p.id.clone(),
            kind: ObjKind::Page,
            title: p.title(),
            created_time: p.created_time.clone(),
            last_edited_time: p.last_edited_time.clone(),
            url: p.url.clone(),
            parent: Some(p.parent.clone()),
            page: is_row.then(|| {
                let mut page = Box::new(p.clone());
                // A map read from the API has room for more properties than it holds, and a
                // clone keeps that room (hundreds of bytes a property): not for every row.
                page.properties.shrink_to_fit();
                page
            }),
            database_parent: None,
        }
    }

    /// From a data source object.
    pub fn from_data_source(d: &DataSource) -> Obj {
        Obj {
            id: d.id.clone(),
            kind: ObjKind::DataSource,
            title: d.title_text(),
            created_time: d.created_time.clone(),
            last_edited_time: d.last_edited_time.clone(),
            url: d
                .extra
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            parent: Some(d.parent.clone()),
            page: None,
            database_parent: d.database_parent.clone(),
        }
    }

    /// From a database object.
    pub fn from_database(db: &Database) -> Obj {
        Obj {
            id: db.id.clone(),
            kind: ObjKind::Database,
            title: db.title_text(),
            created_time: db.created_time.clone(),
            last_edited_time: db.last_edited_time.clone(),
            url: db.url.clone(),
            parent: Some(db.parent.clone()),
            page: None,
            database_parent: None,
        }
    }

    /// The id of its parent (page, data source, database or block), if it has one.
    pub fn parent_id(&self) -> Option<&str> {
        self.parent.as_ref().and_then(|p| p.id())
    }

    /// Whether the page is a row of a data source.
    pub fn is_row(&self) -> bool {
        self.parent
            .as_ref()
            .is_some_and(|p| p.kind == "data_source_id")
    }
}

/// Where an attachment's bytes come from.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentSource {
    /// Its key: the media block id (image, file, pdf, video, audio), or
    /// `PAGE#PROPERTY#INDEX` for a file of a row's `files` property.
    pub block_id: String,
    /// For a `files` property: the property id and the file's index in it.
    pub property: Option<(String, usize)>,
    /// The page whose folder shows it.
    pub page_id: String,
    /// The hosted file as last read (signed URL and its expiry).
    pub file: FileObject,
    /// Block creation time (sorts duplicate names).
    pub created_time: String,
    /// Block last edit time.
    pub last_edited_time: String,
}

/// Something a page's block tree puts in the page's folder.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Item {
    /// A `child_page` block.
    ChildPage {
        /// Page id.
        id: String,
        /// Title.
        title: String,
        /// Block creation time.
        created_time: String,
        /// Block last edit time.
        last_edited_time: String,
    },
    /// A `child_database` block.
    ChildDatabase {
        /// Database id.
        id: String,
        /// Title.
        title: String,
        /// Block creation time.
        created_time: String,
        /// Block last edit time.
        last_edited_time: String,
    },
    /// A Notion-hosted file of a media block.
    Attachment {
        /// Wanted file name (sanitized).
        name: String,
        /// Where to fetch it.
        source: AttachmentSource,
    },
}

/// The media payload of a block, for the types that become attachments.
pub fn media_of(kind: &BlockKind) -> Option<&Media> {
    match kind {
        BlockKind::Image(m)
        | BlockKind::File(m)
        | BlockKind::Pdf(m)
        | BlockKind::Video(m)
        | BlockKind::Audio(m) => Some(m),
        _ => None,
    }
}

/// The file name an attachment wants: the `name` of a file block, else the last segment of
/// the URL path (percent-decoded), else `TYPE-ID8`.
pub fn attachment_name(block: &Block, media: &Media) -> String {
    if let Some(n) = media.name.as_deref().filter(|n| !n.trim().is_empty()) {
        return sanitize(n);
    }
    let from_url = media.file.url().and_then(|u| {
        let path = u.split(['?', '#']).next()?;
        let seg = path.rsplit('/').next()?;
        let seg = percent_decode(seg);
        (!seg.is_empty()).then_some(seg)
    });
    match from_url {
        Some(s) => sanitize(&s),
        None => {
            let id = block.id.as_deref().unwrap_or("block").replace('-', "");
            format!(
                "{}-{}",
                block.type_name(),
                id.chars().take(8).collect::<String>()
            )
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a page's block tree (children inline) puts in its folder, in document order:
/// child pages and databases at any depth, and Notion-hosted media files.
pub fn derive_items(page_id: &str, blocks: &[Block]) -> Vec<Item> {
    fn walk(page_id: &str, blocks: &[Block], out: &mut Vec<Item>) {
        for b in blocks {
            let id = b.id.clone().unwrap_or_default();
            let created = b.created_time.clone().unwrap_or_default();
            let edited = b.last_edited_time.clone().unwrap_or_default();
            match &b.kind {
                BlockKind::ChildPage(t) => out.push(Item::ChildPage {
                    id,
                    title: t.title.clone(),
                    created_time: created,
                    last_edited_time: edited,
                }),
                BlockKind::ChildDatabase(t) => out.push(Item::ChildDatabase {
                    id,
                    title: t.title.clone(),
                    created_time: created,
                    last_edited_time: edited,
                }),
                kind => {
                    if let Some(m) = media_of(kind) {
                        if matches!(m.file, FileObject::File(_)) {
                            out.push(Item::Attachment {
                                name: attachment_name(b, m),
                                source: AttachmentSource {
                                    block_id: id,
                                    property: None,
                                    page_id: page_id.to_string(),
                                    file: m.file.clone(),
                                    created_time: created,
                                    last_edited_time: edited,
                                },
                            });
                        }
                    }
                }
            }
            walk(page_id, &b.children, out);
        }
    }
    let mut out = Vec::new();
    walk(page_id, blocks, &mut out);
    out
}

/// The Notion-hosted files of a row's `files` properties, as attachments of its folder.
pub fn property_items(page: &Page) -> Vec<Item> {
    let mut out = Vec::new();
    for v in page.properties.values() {
        let PropertyData::Files(files) = &v.data else {
            continue;
        };
        for (i, f) in files.iter().enumerate() {
            if !matches!(f.file, FileObject::File(_)) {
                continue;
            }
            let name = f
                .name
                .as_deref()
                .filter(|n| !n.trim().is_empty())
                .map(sanitize)
                .or_else(|| {
                    let u = f.file.url()?.split(['?', '#']).next()?;
                    Some(sanitize(&percent_decode(u.rsplit('/').next()?)))
                })
                .unwrap_or_else(|| format!("file-{i}"));
            out.push(Item::Attachment {
                name,
                source: AttachmentSource {
                    block_id: format!("{}#{}#{i}", page.id, v.id),
                    property: Some((v.id.clone(), i)),
                    page_id: page.id.clone(),
                    file: f.file.clone(),
                    created_time: page.created_time.clone(),
                    last_edited_time: page.last_edited_time.clone(),
                },
            });
        }
    }
    out
}

/// One child of a directory before naming.
#[derive(Clone, Debug)]
pub struct ChildDesc {
    /// The entry's identity: `PageFile`, `Database`, `DataSource`, `Attachment` or `Schema`.
    pub key: NodeKey,
    /// Title (unsanitized) or attachment file name.
    pub title: String,
    /// Creation time (sorting duplicates).
    pub created_time: String,
    /// Id (sorting duplicates).
    pub id: String,
    /// For pages: whether the folder `T/` is shown.
    pub has_folder: bool,
}

/// One named entry of a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// File name.
    pub name: String,
    /// What it is.
    pub key: NodeKey,
}

/// A directory's named entries (built from what the mount knows, kept until a change makes
/// it stale).
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// Entries in name order.
    pub entries: Vec<ListEntry>,
    /// Index of each entry by name.
    by_name: HashMap<String, usize>,
}

impl Listing {
    /// A listing of `entries` (sorted here).
    pub fn new(mut entries: Vec<ListEntry>) -> Listing {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Listing { entries, by_name }
    }

    /// The entry named `name`, without a scan.
    pub fn get(&self, name: &str) -> Option<&ListEntry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }
}

/// The name of a data source's schema file.
pub const SCHEMA_FILE: &str = ".schema.yaml";

/// Names `children` with the directory's sticky `names` and returns the entries.
pub fn build_entries(names: &mut NameTable<NodeKey>, children: &[ChildDesc]) -> Vec<ListEntry> {
    let candidates: Vec<Candidate<NodeKey>> = children
        .iter()
        .map(|c| {
            let (stem, shape) = match &c.key {
                NodeKey::PageFile(_) => (sanitize(&c.title), Shape::Page),
                NodeKey::Attachment(_) => {
                    let (s, e) = split_ext(&c.title);
                    (s.to_string(), Shape::File { ext: e.to_string() })
                }
                // The schema file sorts first (empty created time) so it always keeps its name.
                NodeKey::Schema(_) => (SCHEMA_FILE.to_string(), Shape::File { ext: String::new() }),
                _ => (sanitize(&c.title), Shape::Folder),
            };
            Candidate {
                key: c.key.clone(),
                stem,
                shape,
                created_time: if matches!(c.key, NodeKey::Schema(_)) {
                    String::new()
                } else {
                    c.created_time.clone()
                },
                id: c.id.clone(),
            }
        })
        .collect();
    names.assign(&candidates);
    let mut entries = Vec::new();
    for c in children {
        let n = names.names_of(&c.key);
        match &c.key {
            NodeKey::PageFile(id) => {
                if let Some(file) = n.first() {
                    entries.push(ListEntry {
                        name: file.clone(),
                        key: c.key.clone(),
                    });
                }
                if c.has_folder {
                    if let Some(dir) = n.get(1) {
                        entries.push(ListEntry {
                            name: dir.clone(),
                            key: NodeKey::PageDir(id.clone()),
                        });
                    }
                }
            }
            _ => {
                if let Some(name) = n.first() {
                    entries.push(ListEntry {
                        name: name.clone(),
                        key: c.key.clone(),
                    });
                }
            }
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries
}

/// Search knowledge: for each parent id, the ids of the pages and databases search saw under
/// it (to know which folders exist without reading every page's blocks).
pub type ChildrenIndex = HashMap<String, Vec<String>>;

/// Whether an object with this parent is shown at the root: its parent is the workspace, or
/// a page, data source or database the token cannot see (`visible` says which ids it can).
/// A page inside a block lives in that block's page and is listed there.
pub fn shown_at_root(parent: &Parent, visible: impl Fn(&str) -> bool) -> bool {
    match parent.kind.as_str() {
        "workspace" => true,
        "block_id" => false,
        _ => parent.id().is_none_or(|id| !visible(id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn block(v: Value) -> Block {
        serde_json::from_value(v).expect("valid block")
    }

    #[test]
    fn items_come_from_child_blocks_and_hosted_media_at_any_depth() {
        let blocks = vec![
            block(
                json!({"object":"block","id":"c1","type":"child_page","child_page":{"title":"Child"},"has_children":true,"created_time":"2025-01-01T00:00:00.000Z"}),
            ),
            block(
                json!({"object":"block","id":"i1","type":"image","image":{"type":"file","file":{"url":"https://files.example/x/diagram%20v2.png?sig=1","expiry_time":"2099-01-01T00:00:00.000Z"},"caption":[]},"has_children":false}),
            ),
            block(
                json!({"object":"block","id":"e1","type":"image","image":{"type":"external","external":{"url":"https://example.com/a.png"},"caption":[]},"has_children":false}),
            ),
        ];
        let mut col = block(
            json!({"object":"block","id":"t1","type":"toggle","toggle":{"rich_text":[]},"has_children":true}),
        );
        col.children = vec![block(
            json!({"object":"block","id":"d1","type":"child_database","child_database":{"title":"Tasks"},"has_children":false}),
        )];
        let mut all = blocks;
        all.push(col);
        let items = derive_items("p", &all);
        assert_eq!(items.len(), 3);
        assert!(matches!(&items[0], Item::ChildPage { title, .. } if title == "Child"));
        assert!(matches!(&items[1], Item::Attachment { name, .. } if name == "diagram v2.png"));
        assert!(matches!(&items[2], Item::ChildDatabase { title, .. } if title == "Tasks"));
        assert!(!all[0].needs_children());
        assert!(all[3].needs_children());
    }

    #[test]
    fn entries_reserve_page_folders_and_keep_schema_name() {
        let mut names = NameTable::default();
        let kids = vec![
            ChildDesc {
                key: NodeKey::PageFile("a".into()),
                title: "A/B".into(),
                created_time: "1".into(),
                id: "a".into(),
                has_folder: true,
            },
            ChildDesc {
                key: NodeKey::Database("d".into()),
                title: "A/B".into(),
                created_time: "2".into(),
                id: "d".into(),
                has_folder: false,
            },
            ChildDesc {
                key: NodeKey::Schema("s".into()),
                title: String::new(),
                created_time: "3".into(),
                id: "s".into(),
                has_folder: false,
            },
        ];
        let e = build_entries(&mut names, &kids);
        let got: Vec<&str> = e.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(got, vec![".schema.yaml", "A∕B", "A∕B (2)", "A∕B.md"]);
        assert_eq!(e[1].key, NodeKey::PageDir("a".into()));
        assert_eq!(e[2].key, NodeKey::Database("d".into()));
    }
}
