//! Write-back: saves made durable in the journal before `close`/`fsync` returns, then
//! pushed to Notion after a quiet period (see notionfs(1), WRITES).
//!
//! One [`Writer`] per mount, shared by the core and its push tasks. Per page it keeps the
//! blocks the file was rendered from (the base of the diff), a generation counter (a new
//! save restarts the quiet period) and a push lock (a page's pushes are serialized; a save
//! during a push is pushed after it). The sync state of each page is what the
//! `user.notionfs.sync` attribute shows: `pending`, `clean`, `failed: REASON` or
//! `conflict: NAME` (the conflict copy beside the page, until the next save).
//! [`Writer::snapshot`] lists what is not clean, for `notionfs status`.
//!
//! - [`push`](mod@push): the block diff of a save against its base, the remote check, and
//!   settling after a push that stopped part way;
//! - [`rows`]: a row's front matter as one update-page call, its body as a page's;
//! - [`failure`]: transient failures retried with backoff, refusals kept for the user;
//! - [`droppings`]: editors' temp and swap files, which never reach Notion;
//! - [`upload`]: files copied into a page's folder, uploaded as attachments.
//!
//! The diff, apply and journal machinery they use is [`crate::sync`].

pub mod droppings;
pub mod failure;
pub mod marks;
pub mod push;
pub mod rows;
pub mod upload;
pub mod versions;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::fs::content::DiskCache;
use crate::fs::error::FsResult;
use crate::fs::render::PathMap;
use crate::notion::model::Block;
use crate::notion::Client;
use crate::sync::{Journal, RecordKind, Seq};
use failure::{retry_wait, Failure};

pub use droppings::is_dropping;
pub use rows::complete_row;
pub use versions::RowBase;

/// Sync state of one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// Accepted locally, not in Notion yet.
    Pending,
    /// Notion holds what the file shows.
    Clean,
    /// The last push failed (the local content is kept).
    Failed(String),
    /// The last push conflicted with a change made in Notion: Notion's version stays, the
    /// local one is the copy `T.conflict-STAMP.md` beside the page; this holds `STAMP`
    /// (`YYYYMMDD-HHMMSS`, UTC), the core names the file.
    Conflict(String),
}

impl SyncState {
    /// The value of the `user.notionfs.sync` attribute (for a conflict the core puts the
    /// copy's file name in place of the stamp).
    pub fn xattr(&self) -> String {
        match self {
            SyncState::Pending => "pending".into(),
            SyncState::Clean => "clean".into(),
            SyncState::Failed(r) => format!("failed: {r}"),
            SyncState::Conflict(stamp) => format!("conflict: {stamp}"),
        }
    }
}

/// What the writer keeps per page it saved (no blocks: those are versions, on disk).
#[derive(Default)]
struct PageState {
    /// Bumped by each save: a quiet-period timer of an older save is moot.
    generation: u64,
    /// Saves journaled (bumped with the `Pending` state they set): a push that ends while a
    /// save is being journaled must not call the page clean over it.
    saves: u64,
    /// What `user.notionfs.sync` shows (`None`: never saved in this run).
    sync: Option<SyncState>,
    /// Serializes the page's pushes.
    push_lock: Arc<tokio::sync::Mutex<()>>,
    /// Transient failures in a row (the backoff exponent).
    failures: u32,
    /// Identifies the live retry timer: a timer whose epoch is no longer current is moot.
    retry_epoch: u64,
    /// The push under way leaves Notion holding more than the saved file says (a remote
    /// change merged in, or a newer version known than the save's base).
    reshow: bool,
}

/// The write-back engine of a mount.
pub struct Writer {
    /// Itself, for the retry timers.
    me: Weak<Writer>,
    client: Client,
    journal: Arc<Journal>,
    delay: Duration,
    /// The paths a cached body linked to (to parse a save whose base is not in memory).
    disk: Option<DiskCache>,
    /// The versions of pages: the bases of saves.
    versions: Arc<versions::Versions>,
    /// Where conflicting local versions are kept (beside the journal).
    conflicts_dir: PathBuf,
    pages: Mutex<HashMap<String, PageState>>,
    /// Conflicts the filesystem has not shown yet: page id, local bytes, when.
    conflicts: Mutex<Vec<Conflict>>,
    /// Pages pushed clean whose file must be read from Notion again (see `reshow`).
    reshow: Mutex<Vec<String>>,
    /// When this mount last wrote each page.
    marks: marks::WriteMarks,
    /// Rows as Notion answered their properties' updates, not yet known to the tree.
    answered: Mutex<Vec<crate::notion::model::Page>>,
}

/// A save that conflicted with a change made in Notion meanwhile: Notion's version stays
/// the page; the local bytes become `T.conflict-YYYYMMDD-HHMMSS.md` beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The page.
    pub page: String,
    /// The local content that was not written.
    pub data: Vec<u8>,
    /// When it was detected (UTC), as `YYYYMMDD-HHMMSS`.
    pub stamp: String,
}

/// What [`Writer::snapshot`] reports about one page that is not clean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageStatus {
    /// The page (for a record creating a page: its parent).
    pub page: String,
    /// `Pending`, `Failed` or `Conflict` (never `Clean`).
    pub state: SyncState,
    /// When the oldest record not in Notion yet was accepted (RFC 3339), if any.
    pub since: Option<String>,
    /// What its pending records ask for, oldest first, one entry per kind.
    pub kinds: Vec<RecordKind>,
}

impl Writer {
    /// A writer journaling under `journal_dir` and pushing `delay` after the last save;
    /// `disk` is the mount's body cache (the paths its bodies linked to).
    ///
    /// Versions are kept beside the journal (`versions/`), with up to `versions_memory`
    /// bytes of them in memory.
    pub fn new(
        client: Client,
        journal_dir: &Path,
        delay: Duration,
        disk: Option<DiskCache>,
        versions_memory: usize,
    ) -> FsResult<Arc<Writer>> {
        let journal = Journal::open(journal_dir)?;
        let versions = Arc::new(versions::Versions::open(
            journal_dir.with_file_name("versions"),
            versions_memory,
        )?);
        Ok(Arc::new_cyclic(|me| Writer {
            me: me.clone(),
            client,
            journal: Arc::new(journal),
            delay,
            disk,
            versions,
            conflicts_dir: journal_dir.with_file_name("conflicts"),
            pages: Mutex::new(HashMap::new()),
            conflicts: Mutex::new(Vec::new()),
            reshow: Mutex::new(Vec::new()),
            marks: marks::WriteMarks::default(),
            answered: Mutex::new(Vec::new()),
        }))
    }

    /// Takes the conflicts not taken yet (the core shows them as local files).
    pub fn take_conflicts(&self) -> Vec<Conflict> {
        std::mem::take(&mut *self.conflicts.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Pages whose push left Notion holding more than their saved file: the filesystem reads
    /// them again on their next open.
    pub fn take_reshown(&self) -> Vec<String> {
        std::mem::take(&mut *self.reshow.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// When this mount last wrote each page (pushes here; the core's namespace changes
    /// note theirs too).
    pub fn marks(&self) -> &marks::WriteMarks {
        &self.marks
    }

    /// The rows Notion answered updates of since the last call, oldest first: the tree
    /// knows them before any copy of them read earlier (see [`marks`](mod@marks)).
    pub fn take_answered(&self) -> Vec<crate::notion::model::Page> {
        std::mem::take(&mut *self.answered.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Notes that the push under way for `page` leaves Notion holding more than the save.
    pub(super) fn needs_reshow(&self, page: &str) {
        self.pages().entry(page.to_string()).or_default().reshow = true;
    }

    /// Gives back a conflict the core could not show yet (its page is not in the tree).
    pub fn requeue_conflict(&self, c: Conflict) {
        self.conflicts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(c);
    }

    /// Keeps a conflict's local version on disk (`conflicts/STAMP-PAGE.md` beside the
    /// journal, 0600, fsync'd) before its journal record is let go: the copy shown in the
    /// tree lives in memory only. A copy of the same page already kept under that stamp (two
    /// conflicts within one second) is never overwritten: the stamp gets `-2`, `-3`, … and
    /// `c.stamp` says which one was used (the name shown in the tree follows it).
    fn keep_conflict(&self, c: &mut Conflict) -> std::io::Result<PathBuf> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        crate::fs::create_private_dir(&self.conflicts_dir)?;
        let first = c.stamp.clone();
        let mut n = 1u32;
        let (path, mut f) = loop {
            let stamp = match n {
                1 => first.clone(),
                _ => format!("{first}-{n}"),
            };
            let path = self.conflicts_dir.join(format!("{stamp}-{}.md", c.page));
            let opened = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path);
            match opened {
                Ok(f) => {
                    c.stamp = stamp;
                    break (path, f);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
                Err(e) => return Err(e),
            }
        };
        f.write_all(&c.data)?;
        f.sync_all()?;
        std::fs::File::open(&self.conflicts_dir)?.sync_all()?;
        Ok(path)
    }

    /// The journal (tests and `status`).
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    fn pages(&self) -> std::sync::MutexGuard<'_, HashMap<String, PageState>> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the version a page's file was just rendered from (its blocks with ids, the
    /// links it used, a row's properties): a candidate base of later saves. Durable when
    /// this returns (written off the runtime's workers).
    pub async fn record_read(
        &self,
        page: &str,
        blocks: Vec<Block>,
        paths: PathMap,
        row: Option<RowBase>,
        last_edited_time: &str,
    ) {
        let v = versions::Version {
            seq: 0,
            page: page.to_string(),
            at: chrono::Utc::now(),
            origin: versions::Origin::Read,
            last_edited_time: last_edited_time.to_string(),
            blocks,
            paths,
            row,
            base: None,
        };
        self.record_version(v).await;
    }

    /// Records the empty page Notion just created (`schema`: its data source, for a row)
    /// as the base of its first saves.
    pub async fn record_created(
        &self,
        p: &crate::notion::model::Page,
        schema: Option<Arc<crate::notion::model::DataSource>>,
    ) {
        let row = schema.map(|schema| RowBase {
            page: p.clone(),
            schema,
        });
        self.record_read(
            &p.id,
            Vec::new(),
            PathMap::default(),
            row,
            &p.last_edited_time,
        )
        .await;
    }

    /// Bytes of versions held in memory.
    pub fn versions_bytes(&self) -> usize {
        self.versions.bytes()
    }

    /// Whether `page` has accepted content Notion does not hold yet (pending or failed):
    /// its file keeps showing the local bytes meanwhile.
    pub fn is_unsynced(&self, page: &str) -> bool {
        // Not pushed by this run: a record replayed from an earlier one may wait.
        self.unsynced_in_memory(page)
            .unwrap_or_else(|| self.pending_body(page).is_some())
    }

    /// [`Writer::is_unsynced`] as far as this run knows (`None`: no push or save of the page
    /// yet, only the journal can tell).
    pub fn unsynced_in_memory(&self, page: &str) -> Option<bool> {
        match self.pages().get(page).and_then(|p| p.sync.as_ref()) {
            Some(SyncState::Pending | SyncState::Failed(_)) => Some(true),
            Some(_) => Some(false),
            None => None,
        }
    }

    /// The newest accepted body of `page` that Notion does not hold yet, if any.
    pub fn pending_body(&self, page: &str) -> Option<Vec<u8>> {
        self.journal
            .pending_for(page)
            .ok()?
            .into_iter()
            .rfind(|r| r.kind == RecordKind::Body)
            .map(|r| r.data)
    }

    /// The sync state of a page (`Clean` if it was never saved).
    pub fn state(&self, page: &str) -> SyncState {
        self.pages()
            .get(page)
            .and_then(|p| p.sync.clone())
            .unwrap_or(SyncState::Clean)
    }

    /// Every page that is not clean: pending or failed records in the journal (also those
    /// replayed from an earlier run), records set aside as damaged or missing, records that
    /// cannot be read, and conflicts not superseded by a later save. Never an empty list
    /// that hides a record: a journal that cannot be read lists its records (from the
    /// index) as failed with the reason.
    pub fn snapshot(&self) -> Vec<PageStatus> {
        let records = self.journal.pending().map_err(|e| {
            tracing::warn!(error = %e, "cannot list the journal");
            e.to_string()
        });
        let states: HashMap<String, SyncState> = self
            .pages()
            .iter()
            .filter_map(|(k, p)| Some((k.clone(), p.sync.clone()?)))
            .collect();
        let mut out: Vec<PageStatus> = Vec::new();
        let entry = |out: &mut Vec<PageStatus>, page: &str, kind: Option<RecordKind>| {
            let i = match out.iter().position(|p| p.page == page) {
                Some(i) => i,
                None => {
                    out.push(PageStatus {
                        page: page.to_string(),
                        state: SyncState::Pending,
                        since: None,
                        kinds: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            if let Some(k) = kind.filter(|k| !out[i].kinds.contains(k)) {
                out[i].kinds.push(k);
            }
            i
        };
        match &records {
            Ok(records) => {
                for r in records {
                    let i = entry(&mut out, &r.page_id, Some(r.kind));
                    let p = &mut out[i];
                    p.since.get_or_insert_with(|| r.created.clone());
                    // The newest record decides (a failure noted before a restart included).
                    p.state = match &r.failure {
                        Some(f) => SyncState::Failed(f.clone()),
                        None => SyncState::Pending,
                    };
                }
            }
            Err(why) => {
                for (_, page, kind) in self.journal.pending_index() {
                    let i = entry(&mut out, &page, Some(kind));
                    out[i].state = SyncState::Failed(format!("cannot read the journal: {why}"));
                }
            }
        }
        for p in &mut out {
            // What this run saw last wins over the journal's notes.
            if let Some(s @ (SyncState::Failed(_) | SyncState::Pending)) = states.get(&p.page) {
                if records.is_ok() {
                    p.state = s.clone();
                }
            }
        }
        // Saves that will not reach Notion by themselves: reported last so they win.
        for s in self.journal.set_aside() {
            let page = s
                .page_id
                .clone()
                .unwrap_or_else(|| format!("journal record {}", s.seq));
            let i = entry(&mut out, &page, s.kind);
            out[i].state = SyncState::Failed(s.describe());
            out[i].since.get_or_insert(s.when.clone());
        }
        for (seq, page, why) in self.journal.unreadable() {
            let i = entry(&mut out, &page, None);
            out[i].state = SyncState::Failed(format!("journal record {seq} cannot be read: {why}"));
        }
        let mut rest: Vec<PageStatus> = states
            .into_iter()
            .filter(|(k, s)| {
                matches!(s, SyncState::Conflict(_) | SyncState::Failed(_))
                    && !out.iter().any(|p| &p.page == k)
            })
            .map(|(page, state)| PageStatus {
                page,
                state,
                since: None,
                kinds: Vec::new(),
            })
            .collect();
        rest.sort_by(|a, b| a.page.cmp(&b.page));
        out.extend(rest);
        out
    }

    /// Makes a saved body durable (blocking: call from `spawn_blocking`). A journal that
    /// cannot take it fails with its cause (a full disk: ENOSPC; see [`crate::fs::error::FsError::errno`]).
    pub fn record(&self, page: &str, data: &[u8], base: &[u8]) -> FsResult<Seq> {
        let seq = self
            .journal
            .record(page, RecordKind::Body, data, Some(base))?;
        let mut pages = self.pages();
        let st = pages.entry(page.to_string()).or_default();
        st.saves += 1;
        st.sync = Some(SyncState::Pending);
        Ok(seq)
    }

    /// Starts (or restarts) the quiet period of `page`; its newest record is pushed after it.
    pub fn schedule(self: &Arc<Self>, page: &str) {
        let gen = {
            let mut p = self.pages();
            let st = p.entry(page.to_string()).or_default();
            st.generation += 1;
            st.generation
        };
        let me = self.clone();
        let page = page.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(me.delay).await;
            let current = me.pages().get(&page).map(|p| p.generation);
            if current == Some(gen) {
                me.push_page(&page).await;
            }
        });
    }

    /// Runs `f` on the journal on a blocking thread: its reads and fsyncs never hold up the
    /// runtime's workers.
    pub(crate) async fn journal_io<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Journal) -> T + Send + 'static,
    ) -> T {
        let j = self.journal.clone();
        match tokio::task::spawn_blocking(move || f(&j)).await {
            Ok(v) => v,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Only a runtime shutting down cancels a blocking task: its caller goes with it.
            Err(_) => std::future::pending().await,
        }
    }

    /// Pushes every pending record now (mount start replay, unmount).
    pub async fn flush_all(self: &Arc<Self>) {
        let pages: Vec<String> = match self.journal_io(|j| j.pending()).await {
            Ok(rs) => {
                let mut seen = HashSet::new();
                rs.into_iter()
                    .filter(|r| r.kind == RecordKind::Body && seen.insert(r.page_id.clone()))
                    .map(|r| r.page_id)
                    .collect()
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the journal");
                return;
            }
        };
        // Different pages push concurrently (the client keeps to the rate limit).
        futures::future::join_all(pages.iter().map(|p| self.push_page(p))).await;
    }

    /// Pushes the newest pending body of `page` (serialized per page). A page created
    /// while Notion was unreachable waits for its create ([`crate::fs::offline`]): its
    /// saves stay pending under its local id until then.
    pub async fn push_page(&self, page: &str) {
        if crate::fs::offline::is_local_id(page) {
            return;
        }
        let lock = self
            .pages()
            .entry(page.to_string())
            .or_default()
            .push_lock
            .clone();
        let _g = lock.lock().await;
        let _writing = self.marks.begin(page);
        let (rec, start) = match self.next_push(page).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                // The record is still on disk: try again later rather than drop the push.
                tracing::warn!(page, error = %e, "cannot read the journal; push retried");
                self.failed_transiently(page);
                return;
            }
        };
        let pushed = self.push_body(page, &rec.data, start.as_deref()).await;
        if pushed.is_ok() {
            self.forget_cached(page).await;
        }
        let (pushed, conflict) = self.keep_if_conflict(page, &rec.data, pushed);
        let stamp = conflict.as_ref().map(|c| c.stamp.clone());
        self.record_outcome(page, rec.seq, pushed, stamp).await;
        // Shown once its record is let go: a read in between would show the save again.
        if let Some(c) = conflict {
            self.requeue_conflict(c);
        }
        let reshow = {
            let mut pages = self.pages();
            let st = pages.entry(page.to_string()).or_default();
            std::mem::take(&mut st.reshow) && st.sync == Some(SyncState::Clean)
        };
        if reshow {
            self.reshow
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(page.to_string());
        }
    }

    /// The page saved under the local id `old` is `new` in Notion now: its pending saves
    /// are journaled again under `new` (each copy durable before the original is let go,
    /// so a crash in between leaves a duplicate save, never none) and its sync state moves
    /// with them. `mapped` records that `old` is `new` (the id map), once every copy is
    /// written and before any original is let go: a reader that follows the map finds
    /// every save under `new`, one that does not finds them under `old`.
    pub async fn rekey(
        &self,
        old: &str,
        new: &str,
        mapped: impl FnOnce() -> Result<(), crate::sync::JournalError> + Send + 'static,
    ) -> Result<(), crate::sync::JournalError> {
        let (o, n) = (old.to_string(), new.to_string());
        self.journal_io(move |j| {
            let moving: Vec<_> = j
                .pending_for(&o)?
                .into_iter()
                .filter(|r| matches!(r.kind, RecordKind::Body | RecordKind::Properties))
                .collect();
            for r in &moving {
                j.record(&n, r.kind, &r.data, r.base.as_deref())?;
            }
            mapped()?;
            for r in &moving {
                j.confirm(r.seq)?;
            }
            Ok::<_, crate::sync::JournalError>(())
        })
        .await?;
        let mut pages = self.pages();
        if let Some(st) = pages.remove(old) {
            let e = pages.entry(new.to_string()).or_default();
            e.sync = st.sync;
        }
        Ok(())
    }

    /// After a push, the disk cache's rendering of `page` is not its content any more
    /// (whatever its edit time says): dropped, so a read after a restart reads Notion.
    async fn forget_cached(&self, page: &str) {
        if let Some(d) = self.disk.clone() {
            let p = page.to_string();
            let _ = tokio::task::spawn_blocking(move || d.forget(&p)).await;
        }
    }

    /// What to push for `page`: its newest pending body, and the file the pending edits
    /// started from (the base of its oldest pending body).
    async fn next_push(
        &self,
        page: &str,
    ) -> Result<Option<(crate::sync::Record, Option<String>)>, crate::sync::JournalError> {
        let p = page.to_string();
        let rs = self.journal_io(move |j| j.pending_for(&p)).await?;
        let mut bodies = rs.into_iter().filter(|r| r.kind == RecordKind::Body);
        let first = bodies.next();
        let start = first
            .as_ref()
            .and_then(|r| r.base.clone())
            .and_then(|b| String::from_utf8(b).ok());
        Ok(bodies.next_back().or(first).map(|r| (r, start)))
    }

    /// A conflict's local version is kept on disk before its record is let go; returns the
    /// outcome and the conflict (shown once the record is let go). A copy that cannot be
    /// kept makes the push retried.
    fn keep_if_conflict(
        &self,
        page: &str,
        data: &[u8],
        pushed: Result<(), Failure>,
    ) -> (Result<(), Failure>, Option<Conflict>) {
        let Err(Failure::Conflict(n)) = pushed else {
            return (pushed, None);
        };
        let mut c = Conflict {
            page: page.to_string(),
            data: data.to_vec(),
            stamp: chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string(),
        };
        match self.keep_conflict(&mut c) {
            Ok(path) => {
                tracing::warn!(
                    page,
                    blocks = n,
                    copy = %path.display(),
                    "conflict: Notion's version kept, the local one saved beside it"
                );
                (Err(Failure::Conflict(n)), Some(c))
            }
            Err(e) => (
                Err(Failure::Transient(format!(
                    "conflict, and its local copy cannot be kept: {e}"
                ))),
                None,
            ),
        }
    }

    /// Records how the push of record `seq` of `page` ended: in the journal first (off the
    /// runtime's workers, with no lock held), then in the page's state.
    async fn record_outcome(
        &self,
        page: &str,
        seq: Seq,
        pushed: Result<(), Failure>,
        conflict: Option<String>,
    ) {
        let p = page.to_string();
        match pushed {
            // A conflict is settled too: the local content is kept beside the page.
            Ok(()) | Err(Failure::Conflict(_)) => {
                let saves = self.pages().get(page).map_or(0, |s| s.saves);
                let newer = self
                    .journal_io(move |j| {
                        if let Err(e) = j.confirm_through(&p, RecordKind::Body, seq) {
                            tracing::warn!(page = %p, error = %e, "cannot confirm a journal record");
                        }
                        // Still pending if another save came in meanwhile (an attachment on
                        // its way is not a save of the file: it has its own state; nor is a
                        // queued rename, move or trash, which waits for the file to be clean).
                        j.pending_for(&p)
                            .map(|r| {
                                r.iter().any(|r| {
                                    matches!(r.kind, RecordKind::Body | RecordKind::Properties)
                                })
                            })
                            .unwrap_or(false)
                    })
                    .await;
                let mut pages = self.pages();
                let st = pages.entry(page.to_string()).or_default();
                st.retry_epoch += 1;
                st.failures = 0;
                // A save journaled meanwhile (after the journal was asked) is newer too.
                let newer = newer || st.saves != saves;
                st.sync = Some(match (newer, conflict) {
                    (true, _) => SyncState::Pending,
                    (false, Some(stamp)) => SyncState::Conflict(stamp),
                    (false, None) => SyncState::Clean,
                });
            }
            Err(Failure::Transient(reason)) => {
                self.note_failure(seq, &reason).await;
                tracing::warn!(
                    page,
                    reason = %reason,
                    "push failed; the local content is kept and the push retried"
                );
                self.failed_transiently(page);
            }
            Err(Failure::Refused(reason)) => {
                self.note_failure(seq, &reason).await;
                let mut pages = self.pages();
                let st = pages.entry(page.to_string()).or_default();
                st.retry_epoch += 1;
                st.failures = 0;
                // Once per save: a retry failing the same way stays quiet.
                if st.sync != Some(SyncState::Failed(reason.clone())) {
                    tracing::warn!(
                        page,
                        reason = %reason,
                        "push refused; the local content is kept until the next save"
                    );
                }
                st.sync = Some(SyncState::Failed(reason));
            }
        }
    }

    /// Writes a push's failure reason beside its record (for `status` after a restart).
    pub(crate) async fn note_failure(&self, seq: Seq, reason: &str) {
        let r = reason.to_string();
        if let Err(e) = self.journal_io(move |j| j.mark_failed(seq, &r)).await {
            tracing::warn!(error = %e, "cannot note a failed push in the journal");
        }
    }

    /// A push that may pass by itself: the file stays `pending` and the push is retried
    /// after a backoff (any timer armed before is moot).
    fn failed_transiently(&self, page: &str) {
        let mut pages = self.pages();
        let st = pages.entry(page.to_string()).or_default();
        st.retry_epoch += 1;
        st.failures += 1;
        st.sync = Some(SyncState::Pending);
        let wait = retry_wait(st.failures);
        tracing::debug!(
            page,
            attempt = st.failures,
            retry_in_ms = wait.as_millis() as u64,
            "push retry armed"
        );
        self.retry_later(page, st.retry_epoch, wait);
    }

    /// Pushes `page` again after `wait`, unless another attempt came first.
    fn retry_later(&self, page: &str, epoch: u64, wait: Duration) {
        let Some(me) = self.me.upgrade() else { return };
        let page = page.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let live = me.pages().get(&page).map(|p| p.retry_epoch) == Some(epoch);
            if live {
                me.push_page(&page).await;
            }
        });
    }
}
