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
pub mod check;
pub mod conflict;
pub mod diff;
pub mod journal;
mod normalize;
pub mod push;
pub mod sim;

pub use apply::{apply, Applied, ApplyError};
pub use check::{check_touched, touched_ids, Touched};
pub use conflict::{absorb, reconcile, Reconciled};
pub use diff::{diff, same_content, Anchor, DiffError, Op, Plan, TEMP_ID_PREFIX};
pub use journal::{Journal, JournalError, Record, RecordKind, Seq};
pub use push::{push, read_tree, PushError, Pushed, Remote};

/// A hash of a block's own content (type and visible text), equal for blocks the diff
/// considers the same however their text is cut into runs; children are not included.
pub fn block_hash(b: &crate::notion::model::Block) -> u64 {
    normalize::quick_hash(b)
}

/// The tree a saved file means, with Notion's ids: `local` (parsed, without ids for new or
/// edited blocks) matched, sibling list by sibling list and in order, against `applied`
/// (what Notion holds after the push, which may also hold others' changes). It is the base
/// the file's next save descends from: others' changes are not in it. `None` if some block
/// of `local` is not found in `applied`.
pub fn intent_tree(
    local: &[crate::notion::model::Block],
    applied: &[crate::notion::model::Block],
) -> Option<Vec<crate::notion::model::Block>> {
    let mut out = Vec::with_capacity(local.len());
    let mut next = 0;
    for l in local {
        let found = applied[next..].iter().position(|a| match (&l.id, &a.id) {
            (Some(x), Some(y)) => x == y,
            _ => block_hash(a) == block_hash(l),
        })?;
        let a = &applied[next + found];
        next += found + 1;
        let mut b = l.clone();
        b.id = a.id.clone();
        b.has_children = !l.children.is_empty();
        b.children = intent_tree(&l.children, &a.children)?;
        out.push(b);
    }
    Some(out)
}
