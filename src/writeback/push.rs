//! Pushing a saved body: the base it descends from (see [`super::versions`]), the block
//! diff, the check for remote edits, and settling after a push that stopped part way.
//!
//! # The check for remote edits
//! The plan is checked against Notion block by block ([`crate::sync::check`]): each block it
//! updates, deletes or inserts after is read back (one call each) and compared with the
//! base. Unchanged: the plan goes out as it is — remote edits elsewhere on the page stay,
//! so edits to different blocks merge. Changed: the page is read whole and reconciled
//! (merged block-wise, the same change on both sides being agreement, or a conflict copy).
//!
//! # A push that stops part way
//! Before a plan is applied, the tree it aims at is written beside the page's versions
//! (`inflight.json`). A push cut off by an error, an unmount or a crash leaves it there; the
//! next attempt — in this run or the next — first reads the page and folds what Notion
//! already holds of that tree into the base (`absorb`), so nothing is sent twice and the
//! half-applied push is never mistaken for a remote edit. The save that push carried, or a
//! later save of the file, goes on from that settled version (not from whichever version
//! it is closest to: the settled version holds only the part of the save the push got to,
//! and an older read could look closer).
//!
//! # A save with no known version
//! A save replayed from a journal older than the versions, or of a page whose versions were
//! lost: the journal record holds the bytes the edit started from, and the disk cache the
//! paths the body linked to, so the push reads the page now and decides:
//! - Notion still means what the edit started from: diff Notion's blocks against the save;
//! - Notion already holds what the save says: nothing to write;
//! - otherwise Notion changed meanwhile: a conflict (Notion's version stays, the local one
//!   is written beside it) — the old blocks are unknown, so no block-wise merge is possible.

use std::sync::Arc;

use super::failure::{classify, text_of, Failure};
use super::versions::{self, Base as VBase, Origin, RowBase, Version};
use super::Writer;
use crate::frontmatter;
use crate::fs::render::{parse_body, PathMap};
use crate::notion::model::Block;
use crate::sync::{absorb, intent_tree, push, read_tree, same_content, PushError, Pushed, Remote};

impl Writer {
    /// Pushes `data`, the newest saved content of `page`; `start` is the file the pending
    /// edits started from (used only when no version of the page is known).
    pub(super) async fn push_body(
        &self,
        page: &str,
        data: &[u8],
        start: Option<&str>,
    ) -> Result<(), Failure> {
        let text = text_of(data).map_err(Failure::Refused)?.to_string();
        let settled = self.settle(page).await?;
        let base = match settled {
            Some((v, tried)) => self.base_after_settle(page, &text, v, &tried).await,
            None => self.base_for(page, &text).await,
        };
        if let VBase::Found(v) = &base {
            if self.newer_differs(page, v.seq).await {
                // Notion holds what a later version saw, which this save does not.
                self.needs_reshow(page);
            }
        }
        match base {
            VBase::Found(v) => match v.row.clone() {
                Some(row) => self.push_row(page, &text, &v, row, None).await,
                None => self
                    .push_markdown(page, &text, &v, None, Remote::Touched)
                    .await
                    .map(|_| ()),
            },
            VBase::Pruned => {
                tracing::warn!(
                    page,
                    "the version this save descends from is past retention: kept as a conflict copy"
                );
                Err(Failure::Conflict(0))
            }
            VBase::Unknown => self.push_unknown(page, &text, start).await,
        }
    }

    /// The version the saved `text` descends from after the push of `tried`, an earlier
    /// save of this mount, was cut off part way and settled as `settled`. The save goes on
    /// from there when it is that save or closer to it than to any version: by content
    /// alone the settled version is only part of what the file held (the blocks the push
    /// got to), and an older read, even the empty page, could look closer, making the
    /// push's own missing half look like a remote edit.
    async fn base_after_settle(
        &self,
        page: &str,
        text: &str,
        settled: Arc<Version>,
        tried: &[Block],
    ) -> VBase {
        let body = body_of(text, settled.row.as_ref(), &settled.paths);
        let local = versions::fingerprint(&parse_body(&body, &settled.paths, &settled.blocks));
        let from_tried = versions::distance(&versions::fingerprint(tried), &local);
        match self.base_for(page, text).await {
            VBase::Found(c)
                if c.seq != settled.seq
                    && versions::distance(&versions::fingerprint(&c.blocks), &local)
                        < from_tried =>
            {
                VBase::Found(c)
            }
            _ => VBase::Found(settled),
        }
    }

    /// The version the saved `text` descends from.
    async fn base_for(&self, page: &str, text: &str) -> VBase {
        let (vs, p, t) = (self.versions.clone(), page.to_string(), text.to_string());
        tokio::task::spawn_blocking(move || {
            let Some(newest) = vs.newest(&p) else {
                return if vs.metas(&p).is_empty() {
                    VBase::Unknown
                } else {
                    VBase::Pruned
                };
            };
            let body = body_of(&t, newest.row.as_ref(), &newest.paths);
            let mut sigs = versions::fingerprint(&parse_body(&body, &newest.paths, &newest.blocks));
            let schema = newest.row.as_ref().map(|r| r.schema.as_ref());
            sigs.extend(versions::text_property_sigs(&t, schema));
            vs.closest(&p, &sigs)
        })
        .await
        .unwrap_or(VBase::Unknown)
    }

    /// Whether the mount served content newer than version `seq` that differs from it.
    async fn newer_differs(&self, page: &str, seq: u64) -> bool {
        let (vs, p) = (self.versions.clone(), page.to_string());
        tokio::task::spawn_blocking(move || vs.newer_differs(&p, seq))
            .await
            .unwrap_or(false)
    }

    /// Records a version of `page` (off the runtime's workers); a version that cannot be
    /// written is logged (the next save of that page may then end as a conflict copy).
    pub(super) async fn record_version(&self, v: Version) -> Option<Arc<Version>> {
        let vs = self.versions.clone();
        let page = v.page.clone();
        match tokio::task::spawn_blocking(move || vs.record(v)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                tracing::warn!(page, error = %e, "cannot keep a version of a page");
                None
            }
            Err(_) => None,
        }
    }

    /// Pushes the Markdown `text` over the version `v` (see the module doc); the version
    /// Notion holds afterwards is recorded (with `row` for a row) and returned.
    pub(super) async fn push_markdown(
        &self,
        page: &str,
        text: &str,
        v: &Arc<Version>,
        row: Option<RowBase>,
        remote: Remote,
    ) -> Result<Arc<Version>, Failure> {
        let local = parse_body(text, &v.paths, &v.blocks);
        self.set_inflight(page, v.seq, &local).await;
        let pushed = push(&self.client, page, &v.blocks, &local, remote).await;
        // Cut off part way: the in-flight note stays for the next attempt to settle.
        let cut_off = matches!(pushed, Err(PushError::Apply(_)));
        let (tree, origin, conflict) = match pushed {
            // The file's next save descends from what it said, not from others' changes a
            // merge also holds.
            Ok(Pushed::Done(a)) => {
                if a.merged {
                    self.needs_reshow(page);
                }
                (
                    intent_tree(&local, &a.tree).unwrap_or(a.tree),
                    Origin::Pushed,
                    None,
                )
            }
            Ok(Pushed::Conflict { blocks, remote }) => (remote, Origin::Read, Some(blocks.len())),
            Err(e) => {
                if !cut_off {
                    self.clear_inflight(page).await;
                }
                return Err(classify(e));
            }
        };
        let next = Version {
            seq: 0,
            page: page.to_string(),
            at: chrono::Utc::now(),
            origin,
            last_edited_time: String::new(),
            blocks: tree,
            paths: v.paths.clone(),
            row: row.or_else(|| v.row.clone()),
            // A conflict settles the save from `v` too: Notion's version, kept, is what a
            // later save (of a reloaded buffer, or the same one saved again on purpose) is
            // diffed against.
            base: Some(v.seq),
        };
        // The outcome is recorded before the in-flight note goes: a crash in between
        // leaves the note to settle, never a push Notion holds and no version says.
        let recorded = self.record_version(next).await;
        if recorded.is_some() {
            self.clear_inflight(page).await;
        }
        if let Some(n) = conflict {
            return Err(Failure::Conflict(n));
        }
        recorded.ok_or_else(|| Failure::Transient("cannot record the pushed version".into()))
    }

    /// After a push that stopped part way (see the module doc): reads Notion and folds what
    /// it already holds of the tree that was being pushed into that push's base, recorded as
    /// a new version; returns that version and the tree (nothing when no push was cut off).
    pub(super) async fn settle(
        &self,
        page: &str,
    ) -> Result<Option<(Arc<Version>, Vec<Block>)>, Failure> {
        let (vs, p) = (self.versions.clone(), page.to_string());
        let found = tokio::task::spawn_blocking(move || {
            let (seq, tried) = vs.inflight(&p)?;
            Some((vs.load(&p, seq), tried))
        })
        .await
        .ok()
        .flatten();
        let Some((base, tried)) = found else {
            return Ok(None);
        };
        let Some(base) = base else {
            // Its base is gone: the next push reads Notion as for an unknown base.
            self.clear_inflight(page).await;
            return Ok(None);
        };
        let now = read_tree(&self.client, page)
            .await
            .map_err(|e| classify(PushError::Read(e)))?;
        let settled = absorb(page, &base.blocks, &tried, &now)
            .map_err(|e| classify(PushError::Refused(e)))?;
        let v = Version {
            seq: 0,
            page: page.to_string(),
            at: chrono::Utc::now(),
            origin: Origin::Settled,
            last_edited_time: String::new(),
            blocks: settled,
            paths: base.paths.clone(),
            row: base.row.clone(),
            base: Some(base.seq),
        };
        let Some(v) = self.record_version(v).await else {
            return Err(Failure::Transient(
                "cannot record the settled version".into(),
            ));
        };
        self.clear_inflight(page).await;
        tracing::info!(page, "a push cut off part way was settled against Notion");
        Ok(Some((v, tried)))
    }

    async fn set_inflight(&self, page: &str, base: u64, tried: &[Block]) {
        let (vs, p, t) = (self.versions.clone(), page.to_string(), tried.to_vec());
        let r = tokio::task::spawn_blocking(move || vs.set_inflight(&p, base, &t)).await;
        if let Ok(Err(e)) = r {
            tracing::warn!(page, error = %e, "cannot note a push in flight");
        }
    }

    async fn clear_inflight(&self, page: &str) {
        let (vs, p) = (self.versions.clone(), page.to_string());
        let _ = tokio::task::spawn_blocking(move || vs.clear_inflight(&p)).await;
    }

    /// A save of a page no version is known of (see the module doc).
    async fn push_unknown(
        &self,
        page: &str,
        text: &str,
        start: Option<&str>,
    ) -> Result<(), Failure> {
        // Only a text opening with `---` may be a row's front matter; without one, a row's
        // save is a body like a page's.
        let row = if text.starts_with("---") {
            self.fetch_row(page).await?
        } else {
            None
        };
        let paths = self.disk_paths(page).await;
        let body = body_of(text, row.as_ref(), &paths);
        let start_body = start.map(|s| body_of(s, row.as_ref(), &paths));
        let (blocks, already) = self
            .unknown_base(page, &body, &paths, start_body.as_deref())
            .await?;
        if already && row.is_none() {
            return Ok(());
        }
        let v = Version {
            seq: 0,
            page: page.to_string(),
            at: chrono::Utc::now(),
            origin: Origin::Read,
            last_edited_time: String::new(),
            blocks,
            paths,
            row: row.clone(),
            base: None,
        };
        let v = self
            .record_version(v)
            .await
            .ok_or_else(|| Failure::Transient("cannot record a version".into()))?;
        match row {
            Some(r) => self.push_row(page, text, &v, r, start).await,
            // Just read: no need to read the touched blocks again.
            None => self
                .push_markdown(page, &body, &v, None, Remote::Trust)
                .await
                .map(|_| ()),
        }
    }

    /// The paths the disk cache's rendering of `page` linked to.
    async fn disk_paths(&self, page: &str) -> PathMap {
        let Some(d) = self.disk.clone() else {
            return PathMap::default();
        };
        let p = page.to_string();
        tokio::task::spawn_blocking(move || d.load(&p).map(|(meta, _)| meta.paths))
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Notion's blocks now, if they still mean what the edit started from (`false`) or
    /// already hold what the save says (`true`: nothing to write for the body); a conflict
    /// otherwise.
    async fn unknown_base(
        &self,
        page: &str,
        text: &str,
        paths: &PathMap,
        started_from: Option<&str>,
    ) -> Result<(Vec<Block>, bool), Failure> {
        let now = read_tree(&self.client, page)
            .await
            .map_err(|e| classify(PushError::Read(e)))?;
        let means = |t: &str| same_content(&now, &parse_body(t, paths, &now));
        if started_from.is_some_and(means) {
            return Ok((now, false));
        }
        if means(text) {
            Ok((now, true))
        } else {
            Err(Failure::Conflict(0))
        }
    }
}

/// The Markdown body of a saved file: after a row's front matter, else the whole text.
pub(super) fn body_of(text: &str, row: Option<&RowBase>, paths: &PathMap) -> String {
    match row {
        Some(r) if text.starts_with("---") => {
            match frontmatter::parse(text, &r.page, &r.schema, paths) {
                Ok(p) => p.body,
                Err(e) => e.body().map(str::to_string).unwrap_or_default(),
            }
        }
        _ => text.to_string(),
    }
}
