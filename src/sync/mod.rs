//! The machinery of write-back (notionfs(1), WRITES): turn an edited page body into the fewest Notion
//! API calls, and keep accepted edits durable until Notion has them.
//!
//! ```text
//!   old blocks (ids) ─┐
//!                     ├─ diff::diff ──> Plan (pure data: ops + expected tree) ─ apply::apply ─> Notion
//!   new blocks (parsed)┘                                                          │
//!                                                            Applied.tree (old tree + new ids)
//!   journal::Journal: record(edit) before close() returns … confirm(seq) once applied
//!   conflict::reconcile: base / local / remote -> merge or conflict
//! ```
//!
//! - [`diff`](mod@diff): aligns the tree a file was rendered from with the newly parsed tree and plans
//!   updates in place, positioned appends and deletes (no HTTP, unit-testable).
//! - [`apply`](mod@apply): executes a [`Plan`] with the [`crate::notion::Client`], respecting every
//!   append limit, and returns the new tree with the ids Notion assigned.
//! - [`sim`]: the same plan applied to an in-memory tree, as Notion would (tests, merges).
//! - [`journal`]: durable local acceptance of writes (fsync'd files under the cache dir).
//! - [`conflict`]: three-way decision between merging and reporting a conflict.
//! - [`push`](mod@push): one save end to end (diff or reconcile, apply) and [`read_tree`].
//!
//! The filesystem calls, per save: `journal.record(..)` (before `close`/`fsync` returns),
//! then after the quiet period `push(&client, page, &rendered_from, &parsed, Remote::…)`
//! (or `diff` + `apply` itself), keeps the returned tree as the page's new base, and
//! `journal.confirm(seq)` (or `mark_failed`). On mount, `journal.pending()` lists what to
//! push again.

pub mod apply;
pub mod conflict;
pub mod diff;
pub mod journal;
mod normalize;
pub mod push;
pub mod sim;

pub use apply::{apply, Applied, ApplyError};
pub use conflict::{absorb, reconcile, Reconciled};
pub use diff::{diff, same_content, Anchor, DiffError, Op, Plan, TEMP_ID_PREFIX};
pub use journal::{Journal, JournalError, Record, RecordKind, Seq};
pub use push::{push, read_tree, PushError, Pushed, Remote};
