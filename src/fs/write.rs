//! The write-back side of the core (spec section 5): saved page bodies are made durable in
//! the [`Journal`] before `close`/`fsync` returns, then pushed to Notion after a quiet
//! period with [`crate::sync::push()`].
//!
//! One [`Writer`] per mount, shared by the core and its push tasks. Per page it keeps the
//! blocks the file was rendered from (the base of the diff), a generation counter (a new
//! save restarts the quiet period) and a push lock (a page's pushes are serialized; a save
//! during a push is pushed after it). The sync state of each page is what the
//! `user.notionfs.sync` attribute shows: `pending`, `clean` or `failed: REASON`.
//!
//! Scope today: page bodies (pages without front matter).
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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::content::DiskCache;
use super::error::{FsError, FsResult};
use super::render::{parse_body, PathMap};
use crate::notion::model::Block;
use crate::notion::Client;
use crate::sync::{push, read_tree, same_content, Journal, Pushed, RecordKind, Remote, Seq};

#[cfg(test)]
mod tests {
    use super::is_dropping;

    #[test]
    fn droppings() {
        for n in [
            ".T.md.swp",
            ".T.md.swx",
            "T.md~",
            ".#T.md",
            "#T.md#",
            "4913",
            ".~lock.T.md#",
            "T.md.tmp",
            "sedAb12Z9",
            ".T.md.tmp-1234",
        ] {
            assert!(is_dropping(n), "{n}");
        }
        for n in ["T.md", "sed.md", "sedimentary", "Notes", "#hash", "a.swp"] {
            assert!(!is_dropping(n), "{n}");
        }
    }
}

/// Whether `name` is an editor's temp, swap or backup file (kept in memory, never sent):
/// `.*.swp`, `.*.swx`, `*~`, `.#*`, `#*#`, `4913`, `.~*`, `*.tmp`, `sedXXXXXX` (`sed -i`)
/// and VS Code's `.T.md.tmp-…`/`T.md.tmp.…` atomic-save temps.
pub fn is_dropping(name: &str) -> bool {
    let sed = name.len() == 9
        && name.starts_with("sed")
        && name[3..].bytes().all(|b| b.is_ascii_alphanumeric());
    (name.starts_with('.') && (name.ends_with(".swp") || name.ends_with(".swx")))
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || name.starts_with(".~")
        || name.ends_with(".tmp")
        || name.contains(".tmp-")
        || name.contains(".md.tmp.")
        || sed
}

/// Sync state of one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// Accepted locally, not in Notion yet.
    Pending,
    /// Notion holds what the file shows.
    Clean,
    /// The last push failed (the local content is kept).
    Failed(String),
}

impl SyncState {
    /// The value of the `user.notionfs.sync` attribute.
    pub fn xattr(&self) -> String {
        match self {
            SyncState::Pending => "pending".into(),
            SyncState::Clean => "clean".into(),
            SyncState::Failed(r) => format!("failed: {r}"),
        }
    }
}

#[derive(Default)]
struct PageState {
    /// Blocks the file was rendered from and the links used to render it.
    base: Option<(Arc<Vec<Block>>, Arc<PathMap>)>,
    generation: u64,
    sync: Option<SyncState>,
    push_lock: Arc<tokio::sync::Mutex<()>>,
}

/// The write-back engine of a mount.
pub struct Writer {
    client: Client,
    journal: Arc<Journal>,
    delay: Duration,
    /// The paths a cached body linked to (to parse a save whose base is not in memory).
    disk: Option<DiskCache>,
    /// Where conflicting local versions are kept (beside the journal).
    conflicts_dir: PathBuf,
    pages: Mutex<HashMap<String, PageState>>,
    /// Conflicts the filesystem has not shown yet: page id, local bytes, when.
    conflicts: Mutex<Vec<Conflict>>,
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

impl Writer {
    /// A writer journaling under `journal_dir` and pushing `delay` after the last save;
    /// `disk` is the mount's body cache (the paths its bodies linked to).
    pub fn new(
        client: Client,
        journal_dir: &Path,
        delay: Duration,
        disk: Option<DiskCache>,
    ) -> FsResult<Arc<Writer>> {
        let journal =
            Journal::open(journal_dir).map_err(|e| FsError::Io(std::io::Error::other(e)))?;
        Ok(Arc::new(Writer {
            client,
            journal: Arc::new(journal),
            delay,
            disk,
            conflicts_dir: journal_dir.with_file_name("conflicts"),
            pages: Mutex::new(HashMap::new()),
            conflicts: Mutex::new(Vec::new()),
        }))
    }

    /// Takes the conflicts not taken yet (the core shows them as local files).
    pub fn take_conflicts(&self) -> Vec<Conflict> {
        std::mem::take(&mut *self.conflicts.lock().unwrap_or_else(|e| e.into_inner()))
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
    /// tree lives in memory only.
    fn keep_conflict(&self, c: &Conflict) -> std::io::Result<PathBuf> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        super::attach::create_private_dir(&self.conflicts_dir)?;
        let path = self
            .conflicts_dir
            .join(format!("{}-{}.md", c.stamp, c.page));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
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

    /// Remembers the blocks a page's file was just rendered from.
    pub fn set_base(&self, page: &str, blocks: Vec<Block>, paths: PathMap) {
        self.pages().entry(page.to_string()).or_default().base =
            Some((Arc::new(blocks), Arc::new(paths)));
    }

    /// The sync state of a page (`Clean` if it was never saved).
    pub fn state(&self, page: &str) -> SyncState {
        self.pages()
            .get(page)
            .and_then(|p| p.sync.clone())
            .unwrap_or(SyncState::Clean)
    }

    /// Makes a saved body durable (blocking: call from `spawn_blocking`).
    pub fn record(&self, page: &str, data: &[u8], base: &[u8]) -> FsResult<Seq> {
        let seq = self
            .journal
            .record(page, RecordKind::Body, data, Some(base))
            .map_err(|e| FsError::Io(std::io::Error::other(e)))?;
        self.pages().entry(page.to_string()).or_default().sync = Some(SyncState::Pending);
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

    /// Pushes every pending record now (mount start replay, unmount).
    pub async fn flush_all(self: &Arc<Self>) {
        let pages: Vec<String> = match self.journal.pending() {
            Ok(rs) => {
                let mut ps: Vec<String> = rs
                    .into_iter()
                    .filter(|r| r.kind == RecordKind::Body)
                    .map(|r| r.page_id)
                    .collect();
                ps.dedup();
                ps
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the journal");
                return;
            }
        };
        for p in pages {
            self.push_page(&p).await;
        }
    }

    /// Pushes the newest pending body of `page` (serialized per page).
    pub async fn push_page(&self, page: &str) {
        let lock = self
            .pages()
            .entry(page.to_string())
            .or_default()
            .push_lock
            .clone();
        let _g = lock.lock().await;
        let rec = match self.journal.pending_for(page) {
            Ok(rs) => rs.into_iter().rfind(|r| r.kind == RecordKind::Body),
            Err(e) => {
                tracing::warn!(page, error = %e, "cannot read the journal");
                return;
            }
        };
        let Some(rec) = rec else { return };
        let result = match self.push_body(page, &rec.data, rec.base.as_deref()).await {
            Err(Failure::Conflict(n)) => {
                let c = Conflict {
                    page: page.to_string(),
                    data: rec.data.clone(),
                    stamp: chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string(),
                };
                match self.keep_conflict(&c) {
                    Ok(path) => {
                        tracing::warn!(
                            page,
                            blocks = n,
                            copy = %path.display(),
                            "conflict: Notion's version kept, the local one saved beside it"
                        );
                        self.requeue_conflict(c);
                        Ok(())
                    }
                    Err(e) => Err(format!("conflict, and its local copy cannot be kept: {e}")),
                }
            }
            Err(Failure::Other(r)) => Err(r),
            Ok(()) => Ok(()),
        };
        let mut pages = self.pages();
        let st = pages.entry(page.to_string()).or_default();
        match result {
            Ok(()) => {
                if let Err(e) = self
                    .journal
                    .confirm_through(page, RecordKind::Body, rec.seq)
                {
                    tracing::warn!(page, error = %e, "cannot confirm a journal record");
                }
                // Still pending if another save came in meanwhile.
                let newer = self
                    .journal
                    .pending_for(page)
                    .map(|r| !r.is_empty())
                    .unwrap_or(false);
                st.sync = Some(if newer {
                    SyncState::Pending
                } else {
                    SyncState::Clean
                });
            }
            Err(reason) => {
                tracing::warn!(page, reason = %reason, "push failed; the local content is kept");
                let _ = self.journal.mark_failed(rec.seq, &reason);
                st.sync = Some(SyncState::Failed(reason));
            }
        }
    }

    async fn push_body(
        &self,
        page: &str,
        data: &[u8],
        started_from: Option<&[u8]>,
    ) -> Result<(), Failure> {
        let text = std::str::from_utf8(data)
            .map_err(|_| Failure::Other("the file is not UTF-8".to_string()))?;
        let base = self.pages().get(page).and_then(|p| p.base.clone());
        let (base, paths, remote) = match base {
            Some((b, p)) => (b, p, Remote::Check),
            None => match self.unknown_base(page, text, started_from).await? {
                Some((b, p)) => (b, p, Remote::Trust),
                None => return Ok(()),
            },
        };
        let local = parse_body(text, &paths, &base);
        match push(&self.client, page, &base, &local, remote).await {
            Ok(Pushed::Done(a)) => {
                self.pages().entry(page.to_string()).or_default().base =
                    Some((Arc::new(a.tree), paths));
                Ok(())
            }
            Ok(Pushed::Conflict { blocks, remote }) => {
                self.pages().entry(page.to_string()).or_default().base =
                    Some((Arc::new(remote), paths));
                Err(Failure::Conflict(blocks.len()))
            }
            Err(e) => Err(Failure::Other(e.to_string())),
        }
    }

    /// The base of a save whose rendered-from blocks are not in memory (see the module
    /// doc): Notion's blocks now, if they still mean what the edit started from; `None` if
    /// Notion already holds the save; a conflict otherwise.
    async fn unknown_base(
        &self,
        page: &str,
        text: &str,
        started_from: Option<&[u8]>,
    ) -> Result<Option<(Arc<Vec<Block>>, Arc<PathMap>)>, Failure> {
        let now = read_tree(&self.client, page)
            .await
            .map_err(|e| Failure::Other(format!("cannot read the page: {e}")))?;
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
        let unchanged = started_from
            .and_then(|b| std::str::from_utf8(b).ok())
            .is_some_and(means);
        let already = !unchanged && means(text);
        let paths = Arc::new(paths);
        if unchanged {
            return Ok(Some((Arc::new(now), paths)));
        }
        self.pages().entry(page.to_string()).or_default().base = Some((Arc::new(now), paths));
        if already {
            Ok(None)
        } else {
            Err(Failure::Conflict(0))
        }
    }
}

/// Why a push did not write.
enum Failure {
    /// Both sides changed these many blocks.
    Conflict(usize),
    /// Anything else (the reason shown in `failed: REASON`).
    Other(String),
}
