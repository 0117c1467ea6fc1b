//! notionfs: a Notion workspace mounted as a folder of Markdown files.
//!
//! ```text
//!   kernel (FUSE) ──> fs::fuse (thin adapter) ──> fs core (inodes, names, caches)
//!                                                   │            │
//!                              markdown / frontmatter (pure codecs: blocks <-> .md)
//!                                                   │
//!                                  notion::client (HTTP, rate limit, retries, counters)
//!                                                   │
//!                          api.notion.com  — or —  emulator (in-memory Notion API on 127.0.0.1)
//! ```
//!
//! - [`notion`]: serde models of every API object and the HTTP [`notion::Client`].
//! - [`emulator`]: a faithful Notion API server used by the tests and `notionfs demo`.
//! - [`markdown`]: the block <-> Markdown converter (spec section 3).
//! - [`frontmatter`]: row properties <-> YAML front matter and `.schema.yaml` (spec section 4).

pub mod emulator;
pub mod frontmatter;
pub mod fs;
pub mod markdown;
pub mod notion;
pub mod sync;
