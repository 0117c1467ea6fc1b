//! The write-back side of the core (spec section 5): saved page bodies are made durable in
//! the [`Journal`] before `close`/`fsync` returns, then pushed to Notion after a quiet
//! period with [`crate::sync::push()`].
//!
//! One [`Writer`] per mount, shared by the core and its push tasks. Per page it keeps the
//! blocks the file was rendered from (the base of the diff), a generation counter (a new
//! save restarts the quiet period) and a push lock (a page's pushes are serialized; a save
//! during a push is pushed after it). The sync state of each page is what the
//! `user.notionfs.sync` attribute shows: `pending`, `clean`, `failed: REASON` or
//! `conflict: NAME` (the conflict copy beside the page, until the next save).
//! [`Writer::snapshot`] lists what is not clean, for `notionfs status`.
//!
//! Scope today: page bodies (pages without front matter). A page whose base blocks are not
//! in memory (its body came from the disk cache, or a replay after a restart) is diffed
//! against what Notion holds now (the save wins over remote edits made meanwhile).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::{FsError, FsResult};
use super::render::PathMap;
use crate::markdown;
use crate::notion::model::Block;
use crate::notion::Client;
use crate::sync::{push, read_tree, Journal, Pushed, RecordKind, Remote, Seq};

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
    /// A writer journaling under `journal_dir` and pushing `delay` after the last save.
    pub fn new(client: Client, journal_dir: &Path, delay: Duration) -> FsResult<Arc<Writer>> {
        let journal =
            Journal::open(journal_dir).map_err(|e| FsError::Io(std::io::Error::other(e)))?;
        Ok(Arc::new(Writer {
            client,
            journal: Arc::new(journal),
            delay,
            pages: Mutex::new(HashMap::new()),
            conflicts: Mutex::new(Vec::new()),
        }))
    }

    /// Takes the conflicts not taken yet (the core shows them as local files).
    pub fn take_conflicts(&self) -> Vec<Conflict> {
        std::mem::take(&mut *self.conflicts.lock().unwrap_or_else(|e| e.into_inner()))
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

    /// Every page that is not clean: pending or failed records in the journal (also those
    /// replayed from an earlier run) and conflicts not superseded by a later save.
    pub fn snapshot(&self) -> Vec<PageStatus> {
        // A push may confirm (delete) a record while it is being read back: read again.
        let mut records = self.journal.pending();
        for _ in 0..5 {
            if records.is_ok() {
                break;
            }
            records = self.journal.pending();
        }
        let records = records.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot list the journal");
            Vec::new()
        });
        let states: HashMap<String, SyncState> = self
            .pages()
            .iter()
            .filter_map(|(k, p)| Some((k.clone(), p.sync.clone()?)))
            .collect();
        let mut out: Vec<PageStatus> = Vec::new();
        for r in records {
            let i = match out.iter().position(|p| p.page == r.page_id) {
                Some(i) => i,
                None => {
                    out.push(PageStatus {
                        page: r.page_id.clone(),
                        state: SyncState::Pending,
                        since: Some(r.created.clone()),
                        kinds: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let p = &mut out[i];
            if !p.kinds.contains(&r.kind) {
                p.kinds.push(r.kind);
            }
            // The newest record decides (a failure noted before a restart included).
            p.state = match &r.failure {
                Some(f) => SyncState::Failed(f.clone()),
                None => SyncState::Pending,
            };
        }
        for p in &mut out {
            // What this run saw last wins over the journal's notes.
            if let Some(s @ (SyncState::Failed(_) | SyncState::Pending)) = states.get(&p.page) {
                p.state = s.clone();
            }
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
        let mut conflict = None;
        let result = match self.push_body(page, &rec.data).await {
            Err(Failure::Conflict(n)) => {
                tracing::warn!(
                    page,
                    blocks = n,
                    "conflict: Notion's version kept, the local one saved beside it"
                );
                conflict = Some(Conflict {
                    page: page.to_string(),
                    data: rec.data.clone(),
                    stamp: chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string(),
                });
                Ok(())
            }
            Err(Failure::Other(r)) => Err(r),
            Ok(()) => Ok(()),
        };
        if let Some(c) = &conflict {
            // Listed before the state says so: whoever sees `Conflict` can show the copy.
            self.conflicts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(c.clone());
        }
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
                st.sync = Some(match (newer, &conflict) {
                    (true, _) => SyncState::Pending,
                    (false, Some(c)) => SyncState::Conflict(c.stamp.clone()),
                    (false, None) => SyncState::Clean,
                });
            }
            Err(reason) => {
                tracing::warn!(page, reason = %reason, "push failed; the local content is kept");
                let _ = self.journal.mark_failed(rec.seq, &reason);
                st.sync = Some(SyncState::Failed(reason));
            }
        }
    }

    async fn push_body(&self, page: &str, data: &[u8]) -> Result<(), Failure> {
        let text = std::str::from_utf8(data)
            .map_err(|_| Failure::Other("the file is not UTF-8".to_string()))?;
        let base = self.pages().get(page).and_then(|p| p.base.clone());
        let (base, paths, remote) = match base {
            Some((b, p)) => (b, p, Remote::Check),
            None => {
                let now = read_tree(&self.client, page)
                    .await
                    .map_err(|e| Failure::Other(format!("cannot read the page: {e}")))?;
                (Arc::new(now), Arc::new(PathMap::default()), Remote::Trust)
            }
        };
        let local = markdown::parse_with(text, paths.as_ref());
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
}

/// Why a push did not write.
enum Failure {
    /// Both sides changed these many blocks.
    Conflict(usize),
    /// Anything else (the reason shown in `failed: REASON`).
    Other(String),
}
