//! The bridge to the codecs: turns a page's blocks (and, for rows, its properties) into the
//! bytes of its `.md` file with [`crate::markdown`] and [`crate::frontmatter`], and a data
//! source into `.schema.yaml`.
//!
//! Everything the codecs need to know about the mount (relative paths of child pages,
//! attachments and related rows; users' e-mails) is gathered by the core into a
//! [`PathMap`] first, so rendering stays pure and deterministic.

use std::collections::HashMap;

use crate::frontmatter::{self, Context};
use crate::markdown::{self, Links, Resolved};
use crate::notion::model::property::FileEntry;
use crate::notion::model::{Block, BlockKind, DataSource, FileObject, Page};

/// Paths and names the codecs need, relative to the file being rendered.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PathMap {
    /// child_page / child_database block id -> relative path (`T/Child.md`, `T/Tasks`).
    pub children: HashMap<String, String>,
    /// Media block id -> relative path of its attachment (`T/diagram.png`).
    pub media: HashMap<String, String>,
    /// Related page id -> relative path of its `.md` file.
    pub rows: HashMap<String, String>,
    /// Hosted file key (signed URL without its query) -> relative path of its attachment.
    pub files: HashMap<String, String>,
    /// User id -> e-mail.
    pub emails: HashMap<String, String>,
    /// Page id -> title, for `link_to_page` blocks.
    pub titles: HashMap<String, String>,
}

impl Links for PathMap {
    fn child_path(&self, block: &Block) -> Option<String> {
        self.children.get(block.id.as_deref()?).cloned()
    }

    fn media_path(&self, block: &Block) -> Option<String> {
        self.media.get(block.id.as_deref()?).cloned()
    }

    fn page_title(&self, id: &str) -> Option<String> {
        self.titles.get(id).cloned()
    }

    fn resolve(&self, path: &str) -> Option<Resolved> {
        self.children
            .iter()
            .chain(&self.media)
            .find(|(_, p)| p.as_str() == path)
            .map(|(id, _)| Resolved {
                block_id: id.clone(),
                file: None,
            })
    }
}

/// Parses a saved page body (Markdown) against the blocks it was rendered from: links to
/// child pages, databases and attachments are resolved back to their blocks, and an
/// attachment still at its path keeps the base block's file object (a Notion-hosted file
/// has no URL the file could state).
pub fn parse_body(text: &str, paths: &PathMap, base: &[Block]) -> Vec<Block> {
    fn files(tree: &[Block], out: &mut HashMap<String, FileObject>) {
        for b in tree {
            if let (Some(id), Some(f)) = (&b.id, media_file(&b.kind)) {
                out.insert(id.clone(), f.clone());
            }
            files(&b.children, out);
        }
    }
    fn rebind(tree: &mut [Block], paths: &PathMap, old: &HashMap<String, FileObject>) {
        for b in tree {
            if let Some(id) = b.id.clone() {
                let at_path = matches!(
                    media_file(&b.kind),
                    Some(FileObject::External(e)) if paths.media.get(&id) == Some(&e.url)
                );
                if let (true, Some(f), Some(m)) = (at_path, old.get(&id), media_mut(&mut b.kind)) {
                    *m = f.clone();
                }
            }
            rebind(&mut b.children, paths, old);
        }
    }
    let mut out = markdown::parse_with(text, paths);
    let mut old = HashMap::new();
    files(base, &mut old);
    rebind(&mut out, paths, &old);
    out
}

fn media_file(k: &BlockKind) -> Option<&FileObject> {
    match k {
        BlockKind::Image(m)
        | BlockKind::Video(m)
        | BlockKind::Audio(m)
        | BlockKind::Pdf(m)
        | BlockKind::File(m) => Some(&m.file),
        _ => None,
    }
}

fn media_mut(k: &mut BlockKind) -> Option<&mut FileObject> {
    match k {
        BlockKind::Image(m)
        | BlockKind::Video(m)
        | BlockKind::Audio(m)
        | BlockKind::Pdf(m)
        | BlockKind::File(m) => Some(&mut m.file),
        _ => None,
    }
}

impl Context for PathMap {
    fn user_email(&self, user_id: &str) -> Option<String> {
        self.emails.get(user_id).cloned()
    }

    fn user_id(&self, email: &str) -> Option<String> {
        self.emails
            .iter()
            .find(|(_, e)| e.as_str() == email)
            .map(|(id, _)| id.clone())
    }

    fn relation_path(&self, page_id: &str) -> Option<String> {
        self.rows.get(page_id).cloned()
    }

    fn relation_id(&self, path: &str) -> Option<String> {
        self.rows
            .iter()
            .find(|(_, p)| p.as_str() == path)
            .map(|(id, _)| id.clone())
    }

    fn attachment_path(&self, _property: &str, file: &FileEntry) -> Option<String> {
        self.files
            .get(&frontmatter::hosted_file_key(file)?)
            .cloned()
    }
}

/// The body of a page's `.md` file: front matter for rows, then the blocks as Markdown.
/// `page` is the row's page object, as held (boxed in what the mount knows) or not.
pub fn render_page<P: std::borrow::Borrow<Page>>(
    page: Option<&P>,
    schema: Option<&DataSource>,
    blocks: &[Block],
    paths: &PathMap,
) -> Vec<u8> {
    let mut out = String::new();
    if let (Some(p), Some(s)) = (page, schema) {
        out.push_str(&frontmatter::render(p.borrow(), s, paths));
    }
    out.push_str(&markdown::render_with(blocks, paths));
    out.into_bytes()
}

/// The `.schema.yaml` of a data source.
pub fn render_schema(schema: &DataSource) -> Vec<u8> {
    frontmatter::schema_yaml(schema).into_bytes()
}
