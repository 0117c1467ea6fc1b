//! The bridge to the codecs: turns a page's blocks (and, for rows, its properties) into the
//! bytes of its `.md` file, and a data source into `.schema.yaml`.
//!
//! Everything the codecs need to know about the mount (relative paths of child pages,
//! attachments and related rows; users' e-mails) is gathered by the core into a
//! [`PathMap`] first, so rendering stays pure and deterministic.

use std::collections::HashMap;

use crate::notion::model::{Block, DataSource, Page};

/// Paths and names the codecs need, relative to the file being rendered.
#[derive(Clone, Debug, Default)]
pub struct PathMap {
    /// child_page / child_database block id -> relative path (`T/Child.md`, `T/Tasks`).
    pub children: HashMap<String, String>,
    /// Media block id -> relative path of its attachment (`T/diagram.png`).
    pub media: HashMap<String, String>,
    /// Related page id -> relative path of its `.md` file.
    pub rows: HashMap<String, String>,
    /// Hosted file key (URL without query) -> relative path of its attachment.
    pub files: HashMap<String, String>,
    /// User id -> e-mail.
    pub emails: HashMap<String, String>,
}

/// The body of a page's `.md` file: front matter for rows, then the blocks as Markdown.
pub fn render_page(
    page: Option<&Page>,
    schema: Option<&DataSource>,
    blocks: &[Block],
    paths: &PathMap,
) -> Vec<u8> {
    let mut out = String::new();
    if let (Some(p), Some(s)) = (page, schema) {
        out.push_str(&fallback::front_matter(p, s));
    }
    out.push_str(&fallback::markdown(blocks, paths));
    out.into_bytes()
}

/// The `.schema.yaml` of a data source.
pub fn render_schema(schema: &DataSource) -> Vec<u8> {
    fallback::schema_yaml(schema).into_bytes()
}

/// Minimal renderers used until the codec modules are merged; replaced wholesale then.
mod fallback {
    use super::PathMap;
    use crate::notion::model::rich_text::plain_text;
    use crate::notion::model::{Block, BlockKind, DataSource, Page};

    pub fn markdown(blocks: &[Block], paths: &PathMap) -> String {
        let mut out = String::new();
        for b in blocks {
            let id = b.id.clone().unwrap_or_default();
            match &b.kind {
                BlockKind::ChildPage(t) => out.push_str(&format!(
                    "<page path=\"{}\">{}</page>\n",
                    paths.children.get(&id).cloned().unwrap_or_default(),
                    t.title
                )),
                BlockKind::ChildDatabase(t) => out.push_str(&format!(
                    "<database path=\"{}\">{}</database>\n",
                    paths.children.get(&id).cloned().unwrap_or_default(),
                    t.title
                )),
                k => {
                    if let Some(p) = paths.media.get(&id) {
                        out.push_str(&format!("![]({p})\n"));
                    } else if let Some(rt) = k.rich_text() {
                        out.push_str(&plain_text(rt));
                        out.push('\n');
                    }
                }
            }
            out.push_str(&markdown(&b.children, paths));
        }
        out
    }

    pub fn front_matter(page: &Page, schema: &DataSource) -> String {
        let mut out = String::from("---\n");
        for (name, s) in &schema.properties {
            if s.get("type").and_then(|t| t.as_str()) == Some("title") {
                continue;
            }
            let v = page.properties.get(name).cloned().unwrap_or_default();
            out.push_str(&format!(
                "{name}: {}\n",
                serde_json::to_string(&v).unwrap_or_default()
            ));
        }
        out.push_str("---\n");
        out
    }

    pub fn schema_yaml(schema: &DataSource) -> String {
        let mut out = String::new();
        for (name, s) in &schema.properties {
            let t = s.get("type").and_then(|t| t.as_str()).unwrap_or("unknown");
            out.push_str(&format!("- name: {name}\n  type: {t}\n"));
        }
        out
    }
}
