//! notionfs: a Notion workspace mounted as a folder of Markdown files.
//!
//! ```text
//!  cli (arguments, settings, status/sync client)
//!   │
//!  daemon (run loop, logging, control socket) ──────────────┐
//!   │                                                        │
//!  fuse (kernel request -> one core call -> reply)           │
//!   │                                                        │
//!  fs (the filesystem core: tree, pages, handles, overlay) ──┤
//!   │         │                                              │
//!   │        writeback (writer, rows, retries, uploads) ─────┘
//!   │         │
//!   │        sync (diff, plan, apply, journal)
//!   │         │
//!  markdown / frontmatter (pure codecs: blocks <-> .md, properties <-> YAML)
//!   │
//!  notion (API models, HTTP client, rate limit, block trees)
//!   │
//!  api.notion.com  — or —  emulator (the Notion API on 127.0.0.1)
//! ```
//!
//! - [`cli`]: `notionfs mount` / `demo` arguments and settings, `status` / `sync` client.
//! - [`daemon`]: runs a mount: detaching, logging, the control socket, unmount and drain.
//! - [`fuse`]: the thin kernel adapter.
//! - [`fs`]: the filesystem core, tested without FUSE ([`fs::FsCore`]).
//! - [`writeback`]: saves journaled and pushed to Notion; uploads of attachments.
//! - [`sync`]: the block diff, its application, conflict decisions and the journal.
//! - [`markdown`]: the block <-> Markdown converter (notionfs(5)).
//! - [`frontmatter`]: row properties <-> YAML front matter and `.schema.yaml` (notionfs(5)).
//! - [`notion`]: serde models of every API object and the HTTP [`notion::Client`].
//! - [`emulator`]: a faithful Notion API server used by the tests and `notionfs demo`.

pub mod cli;
pub mod daemon;
pub mod emulator;
pub mod frontmatter;
pub mod fs;
pub mod fuse;
pub mod markdown;
pub mod notion;
pub mod sync;
pub mod writeback;
