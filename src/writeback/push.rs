//! Pushing a saved body: the block diff against the base, the check for remote edits,
//! and settling after a push that stopped part way.
//!
//! # A save whose base is not in memory
//! The file may have been served from the disk cache, or the save is replayed from the
//! journal after a restart: the blocks it was rendered from (with their ids) are gone. The
//! journal record holds the bytes the edit started from, and the disk cache the paths the
//! body linked to, so the push reads the page now and decides:
//! - Notion still means what the edit started from: diff Notion's blocks against the save;
//! - Notion already holds what the save says: nothing to write;
//! - otherwise Notion changed meanwhile: a conflict (Notion's version stays, the local one
//!   is written beside it) — the blocks of the old version are unknown, so no block-wise
//!   merge is possible here.

use std::sync::Arc;
use std::time::Duration;

use super::failure::{classify, text_of, Failure};
use super::{Base, PageState, Writer};
use crate::fs::render::{parse_body, PathMap};
use crate::notion::model::Block;
use crate::sync::{absorb, push, read_tree, same_content, PushError, Pushed, Remote};

/// How far the local clock may be off Notion's for [`Writer::set_base_time`]'s shortcut.
pub(super) const CLOCK_SKEW: Duration = Duration::from_secs(60);

impl Writer {
    /// After a push that stopped part way: reads Notion and folds what it already holds of
    /// the content that was being pushed into the base.
    pub(super) async fn settle(&self, page: &str) -> Result<(), Failure> {
        let (tried, base) = {
            let p = self.pages();
            match p.get(page) {
                Some(PageState {
                    unsettled: Some(t),
                    base: Some(b),
                    ..
                }) => (t.clone(), b.clone()),
                _ => return Ok(()),
            }
        };
        let now = read_tree(&self.client, page)
            .await
            .map_err(|e| classify(PushError::Read(e)))?;
        let settled =
            absorb(page, &base.0, &tried, &now).map_err(|e| classify(PushError::Refused(e)))?;
        let mut p = self.pages();
        let st = p.entry(page.to_string()).or_default();
        st.base = Some((Arc::new(settled), base.1));
        st.base_edited = None;
        st.unsettled = None;
        Ok(())
    }

    /// Pushes `data`, the newest saved content of `page`; `start` is the file the pending
    /// edits started from.
    pub(super) async fn push_body(
        &self,
        page: &str,
        data: &[u8],
        start: Option<&str>,
    ) -> Result<(), Failure> {
        let text = text_of(data).map_err(Failure::Refused)?;
        let (base, row) = {
            let pages = self.pages();
            let st = pages.get(page);
            (
                st.and_then(|p| p.base.clone()),
                st.and_then(|p| p.row.clone()),
            )
        };
        let row = match row {
            Some(r) => Some(r),
            // Not rendered by this mount (a replay): only a text opening with `---` may be
            // a row's front matter; without one, a row's save is a body like a page's.
            None if base.is_none() && text.starts_with("---") => self.fetch_row(page).await?,
            None => None,
        };
        match row {
            Some(r) => self.push_row(page, text, r, base, start).await,
            None => self.push_markdown(page, text, base, start).await,
        }
    }

    /// Pushes a Markdown body through the block diff; `started_from` is the body the edit
    /// started from (checked against Notion when `base` is not known).
    pub(super) async fn push_markdown(
        &self,
        page: &str,
        text: &str,
        base: Option<Base>,
        started_from: Option<&str>,
    ) -> Result<(), Failure> {
        let (base, paths, remote) = match base {
            Some((b, p)) => {
                let remote = if self.unchanged_since_base(page).await {
                    Remote::Trust
                } else {
                    Remote::Check
                };
                (b, p, remote)
            }
            None => match self.unknown_base(page, text, started_from).await? {
                Some((b, p)) => (b, p, Remote::Trust),
                None => return Ok(()),
            },
        };
        let local = parse_body(text, &paths, &base);
        match push(&self.client, page, &base, &local, remote).await {
            Ok(Pushed::Done(a)) => {
                self.set_base(page, a.tree, paths);
                Ok(())
            }
            Ok(Pushed::Conflict { blocks, remote }) => {
                self.set_base(page, remote, paths);
                Err(Failure::Conflict(blocks.len()))
            }
            Err(e) => {
                if matches!(e, PushError::Apply(_)) {
                    self.pages().entry(page.to_string()).or_default().unsettled =
                        Some(Arc::new(local));
                }
                Err(classify(e))
            }
        }
    }

    /// Whether Notion provably holds the base blocks still, from one retrieve-page call:
    /// its `last_edited_time` is the one the blocks were read under, and they were read at
    /// least a minute (plus [`CLOCK_SKEW`]) after it. Notion rounds that time down to the
    /// minute, so an edit after the read would have moved it. Anything else is a doubt,
    /// settled by reading the content.
    pub(super) async fn unchanged_since_base(&self, page: &str) -> bool {
        let (edited, read_at) = {
            let pages = self.pages();
            let Some(st) = pages.get(page) else {
                return false;
            };
            match (&st.base_edited, &st.base) {
                // Reading the content costs one call anyway: no shortcut to take.
                (Some(e), Some((b, _))) if tree_reads(b) > 1 => e.clone(),
                _ => return false,
            }
        };
        let Ok(at) = chrono::DateTime::parse_from_rfc3339(&edited) else {
            return false;
        };
        let read_at = chrono::DateTime::<chrono::Utc>::from(read_at);
        let margin = chrono::Duration::minutes(1)
            + chrono::Duration::from_std(CLOCK_SKEW).unwrap_or_default();
        if read_at < at + margin {
            return false;
        }
        match self.client.page(page).await {
            Ok(p) => p.last_edited_time == edited,
            Err(_) => false,
        }
    }

    /// The base of a save whose rendered-from blocks are not in memory (see the module
    /// doc): Notion's blocks now, if they still mean what the edit started from; `None` if
    /// Notion already holds the save; a conflict otherwise.
    pub(super) async fn unknown_base(
        &self,
        page: &str,
        text: &str,
        started_from: Option<&str>,
    ) -> Result<Option<(Arc<Vec<Block>>, Arc<PathMap>)>, Failure> {
        let now = read_tree(&self.client, page)
            .await
            .map_err(|e| classify(PushError::Read(e)))?;
        let paths = self
            .disk
            .as_ref()
            .and_then(|d| d.load(page))
            .map(|(meta, _)| meta.paths)
            .unwrap_or_default();
        let means = |t: &str| {
            let parsed = parse_body(t, &paths, &now);
            same_content(&now, &parsed)
        };
        let unchanged = started_from.is_some_and(means);
        let already = !unchanged && means(text);
        let base = (Arc::new(now), Arc::new(paths));
        // Kept as the page's base: a push that stops part way is settled against it.
        {
            let mut pages = self.pages();
            let st = pages.entry(page.to_string()).or_default();
            st.base = Some(base.clone());
            st.base_edited = None;
        }
        if unchanged {
            return Ok(Some(base));
        }
        if already {
            Ok(None)
        } else {
            Err(Failure::Conflict(0))
        }
    }
}

/// How many list-children calls reading `tree` back costs (100 children a call, one more
/// list per block with children; child pages and databases are not read into).
pub(super) fn tree_reads(tree: &[Block]) -> usize {
    tree.len().div_ceil(100).max(1)
        + tree
            .iter()
            .filter(|b| !b.children.is_empty())
            .map(|b| tree_reads(&b.children))
            .sum::<usize>()
}
