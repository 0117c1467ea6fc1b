//! Block <-> Markdown conversion (spec section 3): the notionfs Markdown dialect.
//!
//! - [`render`] / [`render_with`]: blocks (a tree, children inline) -> Markdown.
//! - [`parse`] / [`parse_with`]: Markdown -> blocks, ready for append-children requests
//!   (text split to the API's 2000-character limit).
//! - [`Links`]: how child pages, databases and Notion-hosted files are shown as relative
//!   paths, and resolved back to block ids; the filesystem layer implements it.
//! - [`limits::check`]: the other API limits a parsed tree may break, for the write path.
//! - [`convert`]: the `notionfs convert` entry points (JSON <-> Markdown).
//! - [`normalize`]: the comparison form used by the round-trip tests.
//!
//! Rendering is deterministic and every construct reads back to the same blocks; see
//! `man/notionfs.5` for the dialect as users see it. Headings deeper than `###` are read as
//! `heading_3`; Markdown with no Notion counterpart (raw HTML, footnotes, link reference
//! definitions, other HTML comments, link titles aside) is kept as literal text.

pub mod convert;
mod escape;
pub mod inline;
pub mod lang;
pub mod limits;
pub mod normalize;
mod parse;
mod render;

use crate::notion::model::{Block, FileObject};

/// Maps blocks that point outside the page body to relative paths, and back.
///
/// The renderer asks for paths; the parser resolves them. The default methods know no
/// paths: child pages and databases render with their id (`<page id="…">`), hosted files
/// with their URL, and nothing resolves — what the CLI wants.
pub trait Links {
    /// Relative path of a `child_page` (`T/Child.md`) or `child_database` (`T/Tasks`) block.
    fn child_path(&self, _block: &Block) -> Option<String> {
        None
    }

    /// Relative path of the attachment of a Notion-hosted media block (image, file, pdf,
    /// video, audio), used instead of its signed URL.
    fn media_path(&self, _block: &Block) -> Option<String> {
        None
    }

    /// Title to show for a `link_to_page` target.
    fn page_title(&self, _id: &str) -> Option<String> {
        None
    }

    /// Resolves a path met while parsing (`<page path>`, `<database path>`, a media source)
    /// back to the block it was rendered from.
    fn resolve(&self, _path: &str) -> Option<Resolved> {
        None
    }
}

/// What a path resolves to (see [`Links::resolve`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The id of the block the path was rendered from.
    pub block_id: String,
    /// For media: the block's original file object (so an unchanged block compares equal).
    pub file: Option<FileObject>,
}

/// The [`Links`] that knows no paths (the CLI's).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLinks;

impl Links for NoLinks {}

/// Renders blocks as Markdown with no path mapping (see [`render_with`]).
pub fn render(blocks: &[Block]) -> String {
    render::render_with(blocks, &NoLinks)
}

/// Renders blocks as Markdown; `links` supplies relative paths for child pages, child
/// databases and hosted files. Output is deterministic and ends with one newline (empty
/// for no blocks).
pub fn render_with(blocks: &[Block], links: &dyn Links) -> String {
    render::render_with(blocks, links)
}

/// Parses Markdown into blocks with no path resolution (see [`parse_with`]).
pub fn parse(md: &str) -> Vec<Block> {
    parse::parse_with(md, &NoLinks)
}

/// Parses Markdown into a block tree (children inline). Placeholders, `<page>`,
/// `<database>`, `<synced-block id>` and resolved media keep their block id; everything
/// else has `id: None`. Deep trees are returned as they are: the write path appends at
/// most 100 children and two nesting levels per request, then appends deeper children
/// to the ids it gets back (see [`limits`]).
pub fn parse_with(md: &str, links: &dyn Links) -> Vec<Block> {
    parse::parse_with(md, links)
}
