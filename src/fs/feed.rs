//! The change feed: one background task that keeps what the mount knows current, so no
//! foreground operation ever waits to revalidate what is cached.
//!
//! # Polls
//! Every `--ttl` the feed runs one search sorted by `last_edited_time`, newest first, with no
//! filter (pages and data sources together), and pages through the results only until it
//! passes the newest edit it had seen before minus [`MARGIN`] (Notion rounds edit times down
//! to the minute, and search indexes with a lag). An unchanged workspace costs one call per
//! poll, whatever its size. From what it finds it updates titles, moves (a new parent), new
//! pages and rows in their folders, schemas of changed data sources, and marks the body of
//! each changed page stale: the next `open` reads it again, and the kernel is told to drop
//! its cached pages and entries. A body read within the minute of its page's last edit is
//! marked stale again while the feed still sees that edit (an edit later in the same minute
//! keeps the same rounded time). A result that may be older than what the tree knows (an
//! older edit time, or asked for while this mount was writing the page) is left for the
//! next poll ([`crate::writeback::marks`]).
//!
//! # What search cannot report
//! Pages trashed or unshared in Notion, or moved out of view, are not in search results.
//! They are found on access (a read answering 404 or `in_trash` makes the entry disappear)
//! and by a slow reconcile of the folders in use (those listed through the mount): every
//! `--reconcile` seconds (default 300; 0 turns it off) one such folder, the one checked
//! longest ago, is compared with Notion — a data source folder by one query of its rows
//! (a call per 100 rows), a page folder by its top-level blocks (a call per 100) and one
//! retrieve per child page not found there; every twelfth turn goes to the root, which is
//! a crawl of the whole workspace (a call per 100 pages and data sources). A page whose
//! folder is in use and that the feed sees edited has its top-level blocks checked at once
//! (at most two such folders a poll): a child trashed in Notion usually shows that way
//! within a poll.
//!
//! The feed shares the client (and its rate limit) with reads and pushes. A poll that fails
//! (429s past the client's retries, a 5xx, the network) is logged and the next one waits
//! twice as long (up to ten minutes); the mount keeps serving what it knows meanwhile.

use std::collections::HashSet;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::FsResult;
use super::inode::NodeKey;
use super::listing::{newest_first, Found};
use super::tree::ObjKind;
use super::{Flight, FsCore};
use crate::notion::model::{DataSource, Page};
use crate::writeback::marks::Standing;

/// How far before the newest edit seen a poll keeps reading: Notion's one-minute rounding of
/// `last_edited_time`, and search indexing lag.
pub const MARGIN: Duration = Duration::from_secs(120);

/// Longest wait between two polls after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// Most folders a poll checks because their page changed.
const URGENT_PER_POLL: usize = 2;

/// Every this many reconcile turns, the root is reconciled (a full crawl).
const ROOT_EVERY: u64 = 12;

/// What the feed did, for `notionfs status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedStatus {
    /// When the last poll finished (RFC 3339), if one did.
    pub last_poll: Option<String>,
    /// Polls finished.
    pub polls: u64,
    /// Changed objects seen, in all.
    pub changes: u64,
    /// Search calls the last poll made.
    pub last_poll_calls: u64,
    /// Newest edit seen (the next poll reads back to this minus the margin).
    pub watermark: Option<String>,
    /// Why the last poll failed, if it did (cleared by the next good one).
    pub last_error: Option<String>,
    /// Folders reconciled with Notion, in all.
    pub reconciled: u64,
}

/// The feed's own state (inside the core's state).
#[derive(Debug, Default)]
pub(super) struct FeedState {
    /// The newest `last_edited_time` seen.
    watermark: Option<DateTime<Utc>>,
    /// What `status` shows.
    pub status: FeedStatus,
    /// When each folder in use was last reconciled.
    reconciled_at: std::collections::HashMap<NodeKey, Instant>,
    /// Reconcile turns taken.
    turns: u64,
}

impl FeedState {
    /// Moves the watermark to `edited` if it is newer.
    pub(super) fn advance(&mut self, edited: Option<&str>) {
        let Some(t) = edited.and_then(parse_time) else {
            return;
        };
        if self.watermark.is_none_or(|w| t > w) {
            self.watermark = Some(t);
            self.status.watermark = Some(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
    }

    /// The watermark as text (for the snapshot).
    pub(super) fn watermark(&self) -> Option<String> {
        self.status.watermark.clone()
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl FsCore {
    /// Starts the feed and the reconcile of folders in use on the current runtime; they
    /// stop when the core is dropped.
    pub fn start_feed(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        tokio::spawn(poll_loop(weak.clone()));
        if !self.settings.reconcile.is_zero() {
            tokio::spawn(reconcile_loop(weak));
        }
    }

    /// What the feed did, for `notionfs status`.
    pub fn feed_status(&self) -> FeedStatus {
        self.state().feed.status.clone()
    }

    /// One poll of the feed (the workspace is crawled first if it never was); returns how
    /// many changed objects it found.
    pub async fn poll_changes(&self) -> FsResult<usize> {
        self.ensure_crawled().await?;
        let flight = self.flight(Flight::Feed);
        let _g = flight.lock().await;
        self.poll_inner().await
    }

    /// The first poll after a remount from a snapshot (see `listing`'s `ensure_crawled`).
    pub(super) async fn catch_up_after_remount(&self) {
        let flight = self.flight(Flight::Feed);
        let _g = flight.lock().await;
        if self.state().caught_up {
            return;
        }
        if let Err(e) = self.poll_inner().await {
            tracing::warn!(error = %e, "cannot catch up with Notion; serving what the last run knew");
            self.state().feed.status.last_error = Some(e.to_string());
        }
        self.state().caught_up = true;
    }

    /// One poll, with the feed's lock held.
    async fn poll_inner(&self) -> FsResult<usize> {
        let cutoff = self
            .state()
            .feed
            .watermark
            .map(|w| w - chrono::Duration::from_std(MARGIN).unwrap_or_default());
        let mut found = Vec::new();
        let mut calls = 0u64;
        let mut cursor: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        let body = newest_first();
        'pages: loop {
            // When each result was asked for (see `apply_page`).
            let asked = Instant::now();
            let page = self.client.search_page(&body, cursor.take()).await?;
            calls += 1;
            for v in page.results {
                let Some(f) = Found::of(v) else { continue };
                if let (Some(c), Some(t)) = (cutoff, parse_time(f.edited())) {
                    if t < c {
                        break 'pages;
                    }
                }
                found.push((f, asked));
            }
            match (page.has_more, page.next_cursor) {
                // A cursor handed out twice would make this walk go round forever.
                (true, Some(c)) if !seen.insert(c.clone()) => {
                    return Err(crate::notion::client::repeated_cursor(&c).into())
                }
                (true, Some(c)) => cursor = Some(c),
                _ => break,
            }
        }
        let mut changed = 0;
        let mut edited_folders = Vec::new();
        for (f, asked) in &found {
            let any = match f {
                Found::Page(p) => {
                    let any = self.apply_found(p, *asked).await;
                    if any && self.folder_in_use(&p.id) {
                        edited_folders.push(p.id.clone());
                    }
                    any
                }
                Found::Source(d) => self.apply_source(d).await,
            };
            changed += usize::from(any);
        }
        // A page whose folder is in use changed: a child may have been trashed (search
        // does not say so). Its top-level blocks tell, for a call or two.
        for page in edited_folders.iter().take(URGENT_PER_POLL) {
            if let Err(e) = self.reconcile_page_children(page).await {
                tracing::debug!(page = %page, error = %e, "feed: cannot check a changed folder");
            }
        }
        let mut st = self.state();
        st.feed.advance(found.first().map(|(f, _)| f.edited()));
        let s = &mut st.feed.status;
        s.polls += 1;
        s.changes += changed as u64;
        s.last_poll_calls = calls;
        s.last_error = None;
        s.last_poll = Some(Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let unsaved = st.snapshot.pending;
        drop(st);
        if changed > 0 {
            tracing::debug!(changed, calls, "feed: changes applied");
        }
        // Pages read since (the disk cache's index) and changes not written yet.
        if changed > 0 || unsaved || self.disk.take_index_changed() {
            self.snapshot_soon();
        }
        Ok(changed)
    }

    /// Applies a page the feed (or a reconcile) found; whether anything changed. A page
    /// with namespace operations queued keeps the place and title this mount gave it until
    /// they are sent ([`super::offline`]).
    ///
    /// `asked` is when the request that answered `p` was sent: a copy that may predate what
    /// the tree knows (older than the object known, or asked for before a write of this
    /// mount to the page ended) is left for the next poll ([`crate::writeback::marks`]).
    pub(super) fn apply_page(&self, p: &Page, asked: Instant) -> bool {
        if self.queued(&p.id) || self.local_twin(p) || self.predates(p, asked) {
            return false;
        }
        self.apply_known(p)
    }

    /// Whether the copy `p`, asked for at `asked`, may be older than what the tree knows.
    fn predates(&self, p: &Page, asked: Instant) -> bool {
        self.know_answered();
        let older = {
            let st = self.state();
            st.objects.get(&p.id).is_some_and(|o| {
                matches!(
                    (parse_time(&o.last_edited_time), parse_time(&p.last_edited_time)),
                    (Some(known), Some(copy)) if copy < known
                )
            })
        };
        let written = self.copy_of(&p.id, asked) == Standing::Predates;
        if older || written {
            tracing::debug!(page = %p.id, older, written, "a copy that may predate what is known: left for the next poll");
        }
        older || written
    }

    /// How a copy of `page` asked for at `asked` stands to this mount's writes of it.
    pub(super) fn copy_of(&self, page: &str, asked: Instant) -> Standing {
        self.write_back()
            .map_or(Standing::Clear, |w| w.marks().copy_of(page, asked))
    }

    /// A search result `p` asked for at `asked`, applied; one asked for just after this
    /// mount wrote the page (search indexes with a lag) is read again directly first.
    async fn apply_found(&self, p: &Page, asked: Instant) -> bool {
        if self.copy_of(&p.id, asked) != Standing::Lately {
            return self.apply_page(p, asked);
        }
        let asked = Instant::now();
        match self.client.page(&p.id).await {
            Ok(now) => self.apply_page(&now, asked),
            Err(e) => {
                tracing::debug!(page = %p.id, error = %e, "feed: cannot read a page written lately; left for the next poll");
                false
            }
        }
    }

    /// Tells the tree the rows Notion answered this mount's updates with, in the order they
    /// came: the values the mount wrote, not an older copy, are what a file read next shows.
    pub(super) fn know_answered(&self) {
        let Some(w) = self.write_back() else { return };
        for p in w.take_answered() {
            self.apply_copy(&p, true);
        }
    }

    /// [`FsCore::apply_page`] whatever is queued.
    pub(super) fn apply_known(&self, p: &Page) -> bool {
        self.apply_copy(p, false)
    }

    /// Applies a page; `own`: Notion's answer to this mount's write, whose edit the file
    /// shows already (its body is not read again for it).
    fn apply_copy(&self, p: &Page, own: bool) -> bool {
        if p.in_trash || p.archived {
            return self.forget_object(&p.id);
        }
        let id = p.id.clone();
        let before = self.places_of(&id);
        let (change, body_stale) = {
            let mut st = self.state();
            let c = st.know_page(p);
            // Read within the minute of its last edit: a later edit in that minute keeps
            // the same rounded time, so read it again.
            let unsure = st
                .bodies
                .peek(&id)
                .is_some_and(|b| !b.last_edited_time.is_empty() && !b.matches(&p.last_edited_time));
            (c, unsure && !own)
        };
        if (change.edited && !own) || body_stale {
            self.reread_later(&id);
            // Its folder's time (and, with a save pending, its file's) changed too.
            for k in [NodeKey::PageFile(id.clone()), NodeKey::PageDir(id.clone())] {
                if let Some(ino) = self.inodes.find(&k) {
                    self.invalidate(ino);
                }
            }
        }
        if change.renamed || change.moved {
            // Its own body links into its folder by name.
            self.reread_later(&id);
            for (dir, name) in before {
                self.invalidate_entry(dir, &name);
            }
        }
        for pid in &change.relink {
            self.reread_later(pid);
        }
        change.any() || body_stale
    }

    /// Applies a data source the feed found: a new one under a database not known yet
    /// reads that database (for its title and place); a changed schema makes every row's
    /// front matter stale.
    async fn apply_source(&self, d: &DataSource) -> bool {
        if d.in_trash {
            return self.forget_object(&d.id);
        }
        let (change, db_unknown, rows) = {
            let mut st = self.state();
            let old = st.schemas.get(&d.id).cloned();
            let c = st.know_source(d);
            let db = d.parent.database_id.clone();
            let unknown = db
                .as_ref()
                .filter(|db| !st.objects.contains_key(*db))
                .cloned();
            let schema_changed = old.is_some_and(|o| o.properties != d.properties);
            let rows = if schema_changed {
                st.children.get(&d.id).cloned().unwrap_or_default()
            } else {
                Vec::new()
            };
            (c, unknown, rows)
        };
        if let Some(db) = db_unknown {
            if let Err(e) = self.database(&db).await {
                tracing::warn!(database = %db, error = %e, "feed: cannot read a new database");
            }
        }
        for r in &rows {
            self.reread_later(r);
        }
        if let Some(ino) = self.inodes.find(&NodeKey::Schema(d.id.clone())) {
            self.invalidate(ino);
        }
        change.any() || !rows.is_empty()
    }

    /// Forgets an object that is gone from Notion: its entries disappear (the kernel is
    /// told), the pages that linked to it are read again. Whether it was known.
    pub(super) fn forget_object(&self, id: &str) -> bool {
        let before = self.places_of(id);
        let relink = self.state().forget(id);
        if before.is_empty() && relink.is_empty() {
            return false;
        }
        for (dir, name) in before {
            self.invalidate_entry(dir, &name);
        }
        for pid in &relink {
            self.reread_later(pid);
        }
        tracing::info!(
            id,
            "gone from Notion (trashed, deleted or unshared): removed"
        );
        true
    }

    /// Where the kernel may know an object's entries: (directory inode, name) of its file
    /// and its folder.
    fn places_of(&self, id: &str) -> Vec<(u64, String)> {
        let keys = [
            NodeKey::PageFile(id.to_string()),
            NodeKey::PageDir(id.to_string()),
            NodeKey::Database(id.to_string()),
            NodeKey::DataSource(id.to_string()),
        ];
        keys.iter()
            .filter_map(|k| self.inodes.find(k))
            .filter_map(|i| self.inodes.place(i))
            .map(|p| (p.parent, p.name))
            .collect()
    }

    /// Compares one folder in use with Notion (see the module doc); `root` forces the root.
    pub async fn reconcile_once(&self, root: bool) -> FsResult<Option<NodeKey>> {
        let Some(dir) = self.next_to_reconcile(root) else {
            return Ok(None);
        };
        match &dir {
            NodeKey::Root => self.crawl().await?,
            NodeKey::DataSource(ds) => self.reconcile_rows(ds).await?,
            NodeKey::Database(db) => {
                self.database(db).await?;
                let sources = self.state().sources_of(db);
                if let [only] = sources.as_slice() {
                    self.reconcile_rows(&only.id).await?;
                }
            }
            NodeKey::PageDir(p) => self.reconcile_page_folder(p).await?,
            _ => {}
        }
        let mut st = self.state();
        st.feed.reconciled_at.insert(dir.clone(), Instant::now());
        st.feed.status.reconciled += 1;
        Ok(Some(dir))
    }

    /// The folder in use checked longest ago (the root every [`ROOT_EVERY`] turns).
    fn next_to_reconcile(&self, root: bool) -> Option<NodeKey> {
        let mut st = self.state();
        st.feed.turns += 1;
        if root || st.feed.turns % ROOT_EVERY == 0 {
            return Some(NodeKey::Root);
        }
        let in_use: Vec<NodeKey> = st
            .dir_served
            .keys()
            .filter_map(|ino| self.inodes.key(*ino))
            .filter(|k| !matches!(k, NodeKey::Root))
            .collect();
        in_use
            .into_iter()
            .min_by_key(|k| st.feed.reconciled_at.get(k).copied())
    }

    /// A data source's rows as Notion has them now: new ones shown, missing ones removed.
    async fn reconcile_rows(&self, ds: &str) -> FsResult<()> {
        let body =
            serde_json::json!({"sorts": [{"timestamp": "created_time", "direction": "ascending"}]});
        let asked = Instant::now();
        let rows = self.client.query(ds, body).await?;
        let alive: HashSet<String> = rows
            .iter()
            .filter(|r| !r.in_trash && !r.archived)
            .map(|r| r.id.clone())
            .collect();
        for r in &rows {
            self.apply_page(r, asked);
        }
        let known = self.state().children.get(ds).cloned().unwrap_or_default();
        for id in known.iter().filter(|id| !alive.contains(*id)) {
            if !self.state().made_here.contains(id) {
                self.forget_object(id);
            }
        }
        Ok(())
    }

    /// Whether the folder of `page` was listed through the mount.
    fn folder_in_use(&self, page: &str) -> bool {
        self.inodes
            .find(&NodeKey::PageDir(page.to_string()))
            .is_some()
    }

    /// A page folder as Notion has it now: the page itself (trashed?), and its children.
    async fn reconcile_page_folder(&self, page: &str) -> FsResult<()> {
        if super::offline::is_local_id(page) {
            return Ok(());
        }
        let asked = Instant::now();
        match self.client.page(page).await {
            Ok(p) => {
                self.apply_page(&p, asked);
            }
            Err(e) if e.is_not_found() => {
                self.forget_object(page);
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        self.reconcile_page_children(page).await
    }

    /// Each known child page of `page` its top-level blocks do not show (moved away,
    /// trashed, or nested deeper) is asked for directly.
    async fn reconcile_page_children(&self, page: &str) -> FsResult<()> {
        let top = self.client.children(page).await?;
        let shown: HashSet<&str> = top.iter().filter_map(|b| b.id.as_deref()).collect();
        let known: Vec<String> = {
            let st = self.state();
            st.children
                .get(page)
                .map(|v| {
                    v.iter()
                        .filter(|c| st.objects.get(*c).is_some_and(|o| o.kind == ObjKind::Page))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        for c in known
            .iter()
            .filter(|c| !shown.contains(c.as_str()) && !self.queued(c))
        {
            let asked = Instant::now();
            match self.client.page(c).await {
                Ok(p) => {
                    self.apply_page(&p, asked);
                }
                Err(e) if e.is_not_found() => {
                    self.forget_object(c);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Polls every `ttl` until the core is gone; failures back off.
async fn poll_loop(core: Weak<FsCore>) {
    let mut wait = Duration::ZERO;
    loop {
        tokio::time::sleep(wait).await;
        let Some(c) = core.upgrade() else { return };
        let ttl = c.settings.ttl.max(Duration::from_millis(100));
        wait = match c.poll_changes().await {
            Ok(_) => {
                // Notion answers: what waited for it goes now rather than at its backoff.
                c.kick_queue();
                ttl
            }
            Err(e) => {
                tracing::warn!(error = %e, "feed: poll failed; serving what is known");
                c.state().feed.status.last_error = Some(e.to_string());
                (wait.max(ttl) * 2).min(MAX_BACKOFF)
            }
        };
    }
}

/// Reconciles one folder in use every `reconcile` interval until the core is gone.
async fn reconcile_loop(core: Weak<FsCore>) {
    loop {
        let Some(every) = core.upgrade().map(|c| c.settings.reconcile) else {
            return;
        };
        tokio::time::sleep(every).await;
        let Some(c) = core.upgrade() else { return };
        if let Err(e) = c.reconcile_once(false).await {
            tracing::warn!(error = %e, "reconcile failed; tried again later");
        }
    }
}
