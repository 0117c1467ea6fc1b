//! One save carried to Notion, for the filesystem: diff (or reconcile with what Notion holds
//! now), apply, and say what happened. Also [`read_tree`], the page body as the diff wants it.
//!
//! Typical use after the quiet period of a save (the journal record `seq` holds the bytes):
//!
//! ```text
//! match push(&client, page, &base, &parsed, Remote::Check).await {
//!     Ok(Pushed::Done(a))        => { base = a.tree; journal.confirm(seq) }
//!     Ok(Pushed::Conflict { .. }) => { write T.conflict-….md; journal.confirm(seq) }
//!     Err(PushError::Refused(e))  => journal.mark_failed(seq, &e.to_string()),  // user must fix
//!     Err(e)                      => journal.mark_failed(seq, …), retry later (re-read first)
//! }
//! ```

use thiserror::Error;

use super::apply::{apply, Applied, ApplyError};
use super::check::{check_touched, Touched};
use super::conflict::{reconcile, Reconciled};
use super::diff::{diff, DiffError};
use crate::notion::model::Block;
use crate::notion::{ApiError, Client};

/// Whether to compare with Notion's current content before writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remote {
    /// Trust that Notion still holds `base` (e.g. `last_edited_time` did not move): no read.
    Trust,
    /// Read the page body first and merge or report a conflict (costs the reads).
    Check,
    /// Read back only the blocks the plan touches ([`super::check`]); if any changed, read
    /// the page body and merge or report a conflict as with `Check`.
    Touched,
}

/// What a push did.
#[derive(Clone, Debug, PartialEq)]
pub enum Pushed {
    /// Notion now holds the local content (merged with remote changes if any).
    Done(Applied),
    /// Both sides changed the same blocks: nothing was written; Notion's version stays.
    Conflict {
        /// The blocks changed on both sides.
        blocks: Vec<String>,
        /// What Notion holds (the new base for rendering).
        remote: Vec<Block>,
    },
}

/// Why a push did not complete.
#[derive(Debug, Error)]
pub enum PushError {
    /// The new content cannot be carried out to Notion (user error; nothing was sent).
    #[error("{0}")]
    Refused(#[from] DiffError),
    /// Reading Notion's current content failed (nothing was written).
    #[error("cannot read the page: {0}")]
    Read(#[source] ApiError),
    /// Writing stopped part way: re-read and push again.
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Pushes `local` (the parsed new body of `page_id`) over `base` (the blocks it was
/// rendered from).
pub async fn push(
    client: &Client,
    page_id: &str,
    base: &[Block],
    local: &[Block],
    remote: Remote,
) -> Result<Pushed, PushError> {
    let plan = match remote {
        Remote::Trust => diff(page_id, base, local)?,
        Remote::Touched => {
            let plan = diff(page_id, base, local)?;
            let budget = tree_reads(base);
            match check_touched(client, &plan, base, budget)
                .await
                .map_err(PushError::Read)?
            {
                Touched::Unchanged => plan,
                Touched::Changed | Touched::TooMany => {
                    return Box::pin(push(client, page_id, base, local, Remote::Check)).await
                }
            }
        }
        Remote::Check => {
            let now = read_tree(client, page_id).await.map_err(PushError::Read)?;
            match reconcile(page_id, base, local, &now)? {
                Reconciled::Clean(p) | Reconciled::Merged(p) => p,
                Reconciled::Conflict { blocks } => {
                    return Ok(Pushed::Conflict {
                        blocks,
                        remote: now,
                    })
                }
            }
        }
    };
    Ok(Pushed::Done(apply(client, &plan).await?))
}

/// The body of a page (or the children of a block) with children inline, as the diff and the
/// renderer want it: one call per 100 children, recursing only into blocks with
/// `has_children`, and never into child pages or databases (their bodies are other files)
/// or synced copies (their content belongs to the original).
pub async fn read_tree(client: &Client, id: &str) -> Result<Vec<Block>, ApiError> {
    crate::notion::tree::fetch_tree(client, id, None).await
}

/// How many list-children calls reading `tree` back costs (100 children a call, one more
/// list per block with children; child pages and databases are not read into).
pub fn tree_reads(tree: &[Block]) -> usize {
    tree.len().div_ceil(100).max(1)
        + tree
            .iter()
            .filter(|b| b.needs_children())
            .map(|b| tree_reads(&b.children))
            .sum::<usize>()
}
