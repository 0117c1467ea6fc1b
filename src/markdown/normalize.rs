//! The comparison form of a block tree: what `parse(render(b)) == b` means.
//!
//! Drops what Markdown does not carry and the API fills in itself: ids and envelope fields
//! (`created_time`, `has_children`, …), response-only rich text fields (`plain_text` of
//! plain text, `href`), fields this build does not model (`extra`), how text happens to be
//! split into runs, `list_start_index: 1`, and the content of blocks shown as
//! placeholders (their payload beyond the identity and their children). Inline text is
//! taken in its whitespace normal form ([`super::space`]): whitespace at the edges of
//! emphasised runs sits outside them, and none ends a text line, caption, cell or child
//! page title.

use crate::markdown::inline::merge_runs;
use crate::markdown::space;
use crate::notion::model::{Block, BlockKind, JsonMap, Mention, RichText, RichTextKind};

/// Normalises a tree (see the module docs).
pub fn normalize(blocks: &[Block]) -> Vec<Block> {
    blocks.iter().map(normalize_block).collect()
}

/// Normalises one rich text array.
pub fn normalize_runs(runs: &[RichText]) -> Vec<RichText> {
    let mut v: Vec<RichText> = runs.iter().map(norm_run).collect();
    v = merge_runs(&v);
    v
}

fn norm_run(r: &RichText) -> RichText {
    let mut r = r.clone();
    r.href = None;
    r.extra = JsonMap::new();
    r.annotations.extra = JsonMap::new();
    r.annotations.received = Default::default();
    match &mut r.kind {
        RichTextKind::Text(t) => {
            r.plain_text = None;
            t.extra = JsonMap::new();
            if let Some(l) = &mut t.link {
                l.extra = JsonMap::new();
            }
        }
        RichTextKind::Equation(e) => {
            r.plain_text = None;
            e.extra = JsonMap::new();
        }
        RichTextKind::Mention(m) => match m {
            Mention::Page(x) | Mention::Database(x) | Mention::DataSource(x) => {
                x.extra = JsonMap::new();
                r.plain_text.get_or_insert_with(String::new);
            }
            Mention::User(u) => {
                let id = u.id.clone();
                u.kind = None;
                u.name = None;
                u.avatar_url = None;
                u.person = None;
                u.bot = None;
                u.extra = JsonMap::new();
                u.object = "user".into();
                u.id = id;
                r.plain_text.get_or_insert_with(String::new);
            }
            Mention::Date(d) => {
                d.extra = JsonMap::new();
                r.plain_text = None;
            }
            Mention::LinkPreview(u) => {
                u.extra = JsonMap::new();
                r.plain_text = None;
            }
            _ => {
                r.plain_text.get_or_insert_with(String::new);
            }
        },
        RichTextKind::Unknown { .. } => {
            r.plain_text.get_or_insert_with(String::new);
        }
    }
    r
}

fn normalize_block(b: &Block) -> Block {
    let mut kind = b.kind.clone();
    let mut keep_children = true;
    match &mut kind {
        BlockKind::Paragraph(t)
        | BlockKind::BulletedListItem(t)
        | BlockKind::Toggle(t)
        | BlockKind::Quote(t) => t.extra = JsonMap::new(),
        BlockKind::Heading1(h) | BlockKind::Heading2(h) | BlockKind::Heading3(h) => {
            h.extra = JsonMap::new()
        }
        BlockKind::NumberedListItem(n) => {
            n.extra = JsonMap::new();
            if n.list_start_index == Some(1) {
                n.list_start_index = None;
            }
        }
        BlockKind::ToDo(t) => t.extra = JsonMap::new(),
        BlockKind::Callout(c) => c.extra = JsonMap::new(),
        BlockKind::Code(c) => c.extra = JsonMap::new(),
        BlockKind::Equation(e) => e.extra = JsonMap::new(),
        BlockKind::Divider(e) | BlockKind::Breadcrumb(e) | BlockKind::ColumnList(e) => {
            e.extra = JsonMap::new()
        }
        BlockKind::Unsupported(e) => {
            e.extra = JsonMap::new();
            keep_children = false;
        }
        BlockKind::TableOfContents(t) => t.extra = JsonMap::new(),
        BlockKind::Table(t) => t.extra = JsonMap::new(),
        BlockKind::TableRow(r) => r.extra = JsonMap::new(),
        BlockKind::Column(c) => c.extra = JsonMap::new(),
        BlockKind::Image(m)
        | BlockKind::Video(m)
        | BlockKind::Audio(m)
        | BlockKind::Pdf(m)
        | BlockKind::File(m) => m.extra = JsonMap::new(),
        BlockKind::Bookmark(u) | BlockKind::Embed(u) => u.extra = JsonMap::new(),
        BlockKind::LinkPreview(l) => {
            l.extra = JsonMap::new();
            keep_children = false;
        }
        BlockKind::LinkToPage(l) => l.extra = JsonMap::new(),
        BlockKind::ChildPage(c) | BlockKind::ChildDatabase(c) => {
            c.extra = JsonMap::new();
            let kept = c.title.trim_end_matches(space::is_space).len();
            c.title.truncate(kept);
            keep_children = false;
        }
        BlockKind::SyncedBlock(s) => {
            s.extra = JsonMap::new();
            if let Some(f) = &mut s.synced_from {
                f.extra = JsonMap::new();
                keep_children = false;
            }
        }
        BlockKind::Template(t) => {
            t.extra = JsonMap::new();
            t.rich_text.clear();
            keep_children = false;
        }
        BlockKind::Unknown { payload, .. } => {
            *payload = serde_json::Value::Null;
            keep_children = false;
        }
    }
    for arr in kind.rich_text_arrays_mut() {
        *arr = normalize_runs(arr);
    }
    for arr in space::inline_arrays_mut(&mut kind) {
        *arr = space::normalize_owned(std::mem::take(arr));
    }
    let mut out = Block::new(kind);
    if keep_children {
        out.children = normalize(&b.children);
    }
    out
}
