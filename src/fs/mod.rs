//! The filesystem: a Notion workspace as a tree of Markdown files (spec sections 1, 2, 6).
//!
//! ```text
//!   kernel ──> fuse (thin fuser adapter) ──> core (operations) ──> notion::Client
//!                                             │  inode (stable numbers)
//!                                             │  names (naming rules)  tree (what is where)
//!                                             │  content (block trees, body LRU)
//!                                             │  attach (hosted files)  render (codecs)
//! ```
//!
//! - [`core::FsCore`] knows nothing of FUSE: its own [`Attr`], [`DirEntry`] and
//!   [`Opened`] types, a typed [`FsError`] mapped to errno in one place
//!   ([`FsError::errno`]), and every refused write goes through one function
//!   ([`FsCore::write_denied`], EROFS).
//! - [`write`](mod@write): the write-back engine ([`write::Writer`]), enabled by
//!   [`FsCore::enable_writes`]: page saves journaled on `close`/`fsync`, pushed after the
//!   quiet period with [`crate::sync::push()`]; editor droppings in a local overlay.
//! - [`fuse::NotionFuse`] is the adapter. It runs a multi-threaded fuser session; the
//!   fuser threads are not tokio workers, and each request calls the core's async methods
//!   through [`tokio::runtime::Handle::block_on`] on the runtime that owns the HTTP client.
//!   So a slow Notion call blocks one FUSE thread, never a tokio worker.
//! - [`cli`] holds `notionfs mount` and `notionfs demo`: settings, token handling, signals.
//! - [`control`]: the mount's control socket, and the `notionfs status` / `notionfs sync`
//!   commands that talk to it.
//!
//! Reads cost what they need: `lookup`, `getattr` and `readdir` never fetch a page body;
//! a body is read on `open` with the fewest calls (see [`content`]) and served from memory
//! until the TTL says to check it again.

pub mod attach;
pub mod cli;
pub mod content;
pub mod control;
pub mod core;
pub mod error;
pub mod fuse;
pub mod inode;
pub mod names;
pub mod render;
pub mod syslog;
pub mod tree;
pub mod upload;
pub mod write;

pub use self::core::{Attr, DirEntry, FileKind, FsCore, Invalidate, Opened, Settings};
pub use self::error::{FsError, FsResult};
pub use self::inode::{NodeKey, ROOT_INO};
