//! Block <-> Markdown conversion: the notionfs Markdown dialect (notionfs(5), `man/notionfs.5`).
//!
//! - [`render`] / [`render_with`]: blocks (a tree, children inline) -> Markdown.
//! - [`parse`] / [`parse_with`]: Markdown -> blocks, ready for append-children requests
//!   (text split to the API's 2000-character limit).
//! - [`Links`]: how child pages, databases and Notion-hosted files are shown as relative
//!   paths, and resolved back to block ids; the filesystem layer implements it.
//! - [`limits::check`]: the other API limits a parsed tree may break, for the write path.
//! - [`convert`]: the `notionfs convert` entry points (JSON <-> Markdown).
//! - [`normalize`]: the comparison form used by the round-trip tests.
//! - [`space`]: the whitespace normal form of inline text (what the renderer writes).
//! - [`alert`]: the GitHub alert kinds and the callouts they stand for.
//!
//! Rendering is deterministic and every construct reads back to the same blocks; see
//! `man/notionfs.5` for the dialect as users see it. Headings deeper than `###` are read as
//! `heading_3`; Markdown with no Notion counterpart (raw HTML, footnotes, link reference
//! definitions, full reference links `[text][label]` whose label a Notion link cannot hold,
//! HTML comments other than `<!-- caption: … -->`) is kept as literal text. Character
//! references a user types are decoded as CommonMark says (`&alpha;` is `α`, which renders
//! as `α`: a fixed point); text that reads like one is written `\&alpha;`, also when it is
//! cut across runs, so rendered text reads back exactly.
//!
//! # What does not round-trip
//!
//! `parse(render(b))` equals `b` up to [`normalize::normalize`], which ignores: ids and
//! envelope fields; fields this build does not model (`extra`); `plain_text`/`href` of
//! plain text; how text is split into runs; a user mention's details beyond its id;
//! `list_start_index: 1` (same as none); and where whitespace sits ([`space`]): at the
//! edges of a bold, italic or struck-through run it is written outside the markers (it
//! loses those styles), and at the end of a block's text, a caption, a cell or a child
//! page title it is not written. Beyond that:
//! - `list_start_index` on a numbered item that is not the first of its list is lost
//!   (Markdown continues the list); the API only sets it on first items.
//! - A code language outside the API's enum renders as its name and reads back as
//!   `plain text`; an unknown fence info string is kept at the start of the caption.
//! - Placeholders (`link_preview`, `template`, synced copies, `unsupported`, unknown types)
//!   keep their type and id but not their payload or children; `child_page` and
//!   `child_database` keep title and id (or path) but not their children (their own file).
//! - A Notion-hosted file renders as its attachment path only through a [`Links`] that
//!   knows it; without one (the CLI) it renders as its URL and reads back as external.
//! - `link_to_page` does not carry its own block id (the `id` attribute is the target);
//!   the write path matches it by content.
//! - Link titles (`[x](u "title")`) have no Notion counterpart and are dropped.
//! - A soft line break in typed Markdown is a newline in Notion and renders as `<br>`.

pub mod alert;
pub mod convert;
mod escape;
pub mod inline;
mod inline_parse;
pub mod lang;
pub mod limits;
pub mod normalize;
mod parse;
mod render;
pub mod space;

pub use parse::{MAX_NESTING, MAX_TREE_DEPTH};

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
