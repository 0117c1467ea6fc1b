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
//!
//! # Rows (spec section 4)
//! A row's file is its front matter and its body. A save of it is journaled whole, like a
//! page body, and pushed in two parts:
//!
//! 1. Properties: the front matter is read with [`frontmatter::parse`] against the row as
//!    it was rendered ([`RowBase`]: its page, its data source's schema, and the same
//!    [`PathMap`] context), and only the keys the user edited count: a key whose value is
//!    the same as in the file the edit started from (the base of the oldest pending record
//!    of the row) is left alone, so a property changed in Notion meanwhile is not reverted
//!    by a save that did not touch it. The changed properties go out in ONE update-page
//!    call; none changed, no call.
//! 2. The body (the Markdown after the front matter) goes through the same block diff as a
//!    page's ([`crate::sync::push()`]), unless it still means the blocks Notion was last
//!    known to hold (a properties-only save reads no blocks). If it conflicts with a change
//!    made in Notion (spec 5), the properties have gone out already and the whole saved
//!    file is kept beside the row as its conflict copy.
//!
//! Refused properties (unknown key, option that does not exist — never created —, type
//! mismatch, value over an API limit, edit of a read-only property) do not stop the rest:
//! the other properties and the body are pushed, then the save ends as failed with every
//! reason (`failed: property "Priority": …`), logged once. A refusal naming an unknown key
//! or option first re-reads the data source once (the schema may have changed in Notion).
//! The failed record stays in the journal (with its reason, for `notionfs status`) and the
//! file keeps showing the user's bytes until a later save fixes it: the next save's push
//! starts from the same base, so it sends what is still to send and, once nothing is
//! refused, confirms every record of the row.
//!
//! Malformed front matter (YAML that does not parse, or is not a mapping) is refused as a
//! whole: no property is sent, the body after the closing `---` is still pushed, and the
//! save fails with the reader's message (line and column). A front matter with no closing
//! `---` cannot be told apart from the body, so nothing of that save is pushed. A row file
//! saved without any front matter is a body-only save (properties unchanged).
//!
//! A row whose state is not in memory (a replay after a restart) is recognised by reading
//! the page once when the saved text opens with `---`; its schema is read then too, and
//! relation paths are resolved only against what the mount has seen (unseen paths are
//! refused, ids always work).
//!
//! # Failed pushes
//! A push that fails leaves its record in the journal (with the reason beside it, see
//! [`Journal::mark_failed`]) and is classified from the typed errors ([`PushError`],
//! [`ApiError`]):
//! - *transient* (5xx, 429 past the client's own retries, 409, transport errors, an
//!   unexpected response, a block gone while writing, a push that stopped part way): tried
//!   again on a timer with exponential backoff and jitter (1 s, 2 s, 4 s, … capped at 60 s)
//!   until it goes through; the file shows `pending` meanwhile (nothing is asked of the
//!   user), the log says why.
//! - *refused* (the content cannot be carried out: [`DiffError`](crate::sync::DiffError),
//!   Notion's 400 validation errors, a request over an API limit, not UTF-8 text, binary
//!   data, the page gone or not shared): the file shows `failed: REASON` and the record waits
//!   for the user's next save (or the next mount).
//!
//! A push that stopped part way may have written some of its operations (and a write that
//! got a 5xx may have happened), so the base in memory no longer describes Notion. Before the
//! next attempt the page is read again and the content that was being pushed is folded into
//! the old base ([`absorb`]): what Notion already holds of it counts as done, so the retry
//! neither duplicates nor loses blocks, and edits made in Notion meanwhile still merge or
//! conflict as usual.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use rand::Rng;
use serde_json::Value;

use super::content::DiskCache;
use super::error::{FsError, FsResult};
use super::render::{parse_body, PathMap};
use crate::frontmatter::{self, Problem};
use crate::notion::model::{Block, DataSource, Page};
use crate::notion::{ApiError, Client};
use crate::sync::{
    absorb, push, read_tree, same_content, Journal, PushError, Pushed, RecordKind, Remote, Seq,
};

/// How far the local clock may be off Notion's for [`Writer::set_base_time`]'s shortcut.
const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// First wait before retrying a transiently failed push; it doubles on each failure.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Longest wait between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::{classify, edited_keys, is_dropping, retry_wait, text_of, Failure};
    use crate::notion::ApiError;
    use crate::sync::{ApplyError, DiffError, PushError};
    use std::time::Duration;

    #[test]
    fn edited_keys_are_the_values_that_differ_from_the_start() {
        let start = "---\nA: 1\nB: [x, y]\nC: text\n---\nbody\n";
        let now = "---\nA: 1.0\nB:\n  - x\n  - z\nD: new\n---\nother body\n";
        let mut keys: Vec<String> = edited_keys(now, Some(start)).unwrap().into_iter().collect();
        keys.sort();
        // `A` is the same number; `C`, left out, is no edit.
        assert_eq!(keys, ["B", "D"]);
        // Without a readable start, every key counts.
        assert!(edited_keys(now, None).is_none());
        assert!(edited_keys(now, Some("---\nA: [\n---\n")).is_none());
        assert!(edited_keys(now, Some("no front matter\n")).is_none());
    }

    fn api(status: u16, code: &str) -> ApiError {
        ApiError::Api {
            status,
            code: code.into(),
            message: "m".into(),
            endpoint: "PATCH /v1/blocks/{id}".into(),
        }
    }

    fn applied(source: ApiError) -> PushError {
        PushError::Apply(ApplyError {
            completed: vec![0],
            failed: 1,
            partial: false,
            total: 3,
            source,
        })
    }

    fn transient(f: &Failure) -> bool {
        matches!(f, Failure::Transient(_))
    }

    #[test]
    fn server_errors_rate_limits_and_transport_are_retried() {
        for s in [500, 502, 503, 504, 429, 409] {
            assert!(transient(&classify(applied(api(s, "x")))), "{s}");
            assert!(transient(&classify(PushError::Read(api(s, "x")))), "{s}");
        }
        let t = ApiError::Transport {
            endpoint: "e".into(),
            reason: "reset".into(),
        };
        assert!(transient(&classify(applied(t))));
        // A block removed in Notion while writing: the re-read settles it.
        assert!(transient(&classify(applied(api(404, "object_not_found")))));
    }

    #[test]
    fn content_notion_refuses_waits_for_a_save() {
        let f = classify(applied(api(400, "validation_error")));
        assert!(
            matches!(&f, Failure::Refused(r) if r.contains("validation")),
            "{f:?}"
        );
        let lim = DiffError::Limit {
            kind: "paragraph".into(),
            reason: "too long".into(),
        };
        assert!(!transient(&classify(PushError::Refused(lim))));
        let gone = PushError::Read(api(404, "object_not_found"));
        assert!(!transient(&classify(gone)));
        assert!(!transient(&classify(PushError::Read(api(
            401,
            "unauthorized"
        )))));
        let big = ApiError::Limit {
            endpoint: "e".into(),
            reason: "over 500 KB".into(),
        };
        assert!(!transient(&classify(applied(big))));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let w: Vec<Duration> = (1..=10).map(retry_wait).collect();
        for (i, d) in w.iter().enumerate() {
            let full = Duration::from_secs(1 << i).min(Duration::from_secs(60));
            assert!(*d <= full && *d >= full / 2, "attempt {}: {d:?}", i + 1);
        }
    }

    #[test]
    fn binary_and_invalid_utf8_are_refused_with_the_place() {
        assert_eq!(text_of(b"# Hi\n\nok\n").unwrap(), "# Hi\n\nok\n");
        let e = text_of(b"ok \xff\xfe").unwrap_err();
        assert!(e.contains("not UTF-8") && e.contains("byte 3"), "{e}");
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let e = text_of(png).unwrap_err();
        assert!(e.contains("binary"), "{e}");
        let e = text_of(b"text\0more").unwrap_err();
        assert!(e.contains("binary") && e.contains("byte 4"), "{e}");
    }

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

/// What the push of a row needs besides its blocks: the row and its data source's schema
/// as its file was rendered from them.
#[derive(Clone, Debug)]
pub struct RowBase {
    /// The row (lists retrieve-page cuts at 25 entries completed).
    pub page: Page,
    /// Its data source.
    pub schema: Arc<DataSource>,
}

/// The blocks a file was rendered from and the links used to render it.
type Base = (Arc<Vec<Block>>, Arc<PathMap>);

#[derive(Default)]
struct PageState {
    /// Blocks the file was rendered from and the links used to render it.
    base: Option<Base>,
    /// For a row: its properties and schema as rendered.
    row: Option<Arc<RowBase>>,
    /// The page's `last_edited_time` when `base` was read from Notion, and when (local
    /// clock); `None` once the base is the result of our own push (its time is unknown).
    base_edited: Option<(String, SystemTime)>,
    generation: u64,
    sync: Option<SyncState>,
    push_lock: Arc<tokio::sync::Mutex<()>>,
    /// The parsed content of a push that stopped part way: Notion may hold some of it, so
    /// the base is settled against Notion before the next attempt.
    unsettled: Option<Arc<Vec<Block>>>,
    /// Transient failures in a row (the backoff exponent).
    failures: u32,
    /// Identifies the live retry timer: a timer whose epoch is no longer current is moot.
    retry_epoch: u64,
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
    pub fn new(
        client: Client,
        journal_dir: &Path,
        delay: Duration,
        disk: Option<DiskCache>,
    ) -> FsResult<Arc<Writer>> {
        let journal =
            Journal::open(journal_dir).map_err(|e| FsError::Io(std::io::Error::other(e)))?;
        Ok(Arc::new_cyclic(|me| Writer {
            me: me.clone(),
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
    pub fn set_base(&self, page: &str, blocks: Vec<Block>, paths: impl Into<Arc<PathMap>>) {
        let mut pages = self.pages();
        let st = pages.entry(page.to_string()).or_default();
        st.base = Some((Arc::new(blocks), paths.into()));
        st.base_edited = None;
    }

    /// Says when the base blocks of `page` were read (the local time their read started)
    /// and the page's `last_edited_time` then: a later push may then skip reading the
    /// content to check for remote edits (see [`Writer::set_base`]).
    pub fn set_base_time(&self, page: &str, last_edited_time: &str, read_at: SystemTime) {
        self.pages()
            .entry(page.to_string())
            .or_default()
            .base_edited = Some((last_edited_time.to_string(), read_at));
    }

    /// Remembers the properties and schema a row's file was just rendered from (call with
    /// [`Writer::set_base`] for its blocks).
    pub fn set_row(&self, page: &str, row: RowBase) {
        self.pages().entry(page.to_string()).or_default().row = Some(Arc::new(row));
    }

    /// Whether the base blocks of `page` are in memory.
    pub fn has_base(&self, page: &str) -> bool {
        self.pages().get(page).is_some_and(|p| p.base.is_some())
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

    /// Pushes the newest pending body of `page` (serialized per page).
    pub async fn push_page(&self, page: &str) {
        let lock = self
            .pages()
            .entry(page.to_string())
            .or_default()
            .push_lock
            .clone();
        let _g = lock.lock().await;
        // The newest body is pushed; the oldest one's base is what the pending edits started
        // from.
        let (rec, start) = match self.journal.pending_for(page) {
            Ok(rs) => {
                let mut bodies = rs.into_iter().filter(|r| r.kind == RecordKind::Body);
                let first = bodies.next();
                let start = first
                    .as_ref()
                    .and_then(|r| r.base.clone())
                    .and_then(|b| String::from_utf8(b).ok());
                (bodies.next_back().or(first), start)
            }
            Err(e) => {
                // The record is still on disk: try again later rather than drop the push.
                let mut p = self.pages();
                let st = p.entry(page.to_string()).or_default();
                st.retry_epoch += 1;
                st.failures += 1;
                let wait = retry_wait(st.failures);
                tracing::warn!(page, error = %e, "cannot read the journal; push retried");
                self.retry_later(page, st.retry_epoch, wait);
                return;
            }
        };
        let Some(rec) = rec else { return };
        let pushed = match self.settle(page).await {
            Ok(()) => self.push_body(page, &rec.data, start.as_deref()).await,
            Err(f) => Err(f),
        };
        // A conflict's local version is kept on disk before its record is let go, and
        // listed before the state says so: whoever sees `Conflict` can show the copy.
        let mut conflict = None;
        let pushed = match pushed {
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
                        conflict = Some(c.stamp.clone());
                        self.requeue_conflict(c);
                        Err(Failure::Conflict(n))
                    }
                    Err(e) => Err(Failure::Transient(format!(
                        "conflict, and its local copy cannot be kept: {e}"
                    ))),
                }
            }
            other => other,
        };
        let mut pages = self.pages();
        let st = pages.entry(page.to_string()).or_default();
        // Any timer armed before this attempt is moot now.
        st.retry_epoch += 1;
        match pushed {
            // A conflict is settled too: the local content is kept beside the page.
            Ok(()) | Err(Failure::Conflict(_)) => {
                st.failures = 0;
                if let Err(e) = self
                    .journal
                    .confirm_through(page, RecordKind::Body, rec.seq)
                {
                    tracing::warn!(page, error = %e, "cannot confirm a journal record");
                }
                // Still pending if another save came in meanwhile (an attachment on its way
                // is not a save of the file: it has its own state, see `super::upload`).
                let newer = self
                    .journal
                    .pending_for(page)
                    .map(|r| r.iter().any(|r| r.kind != RecordKind::Upload))
                    .unwrap_or(false);
                st.sync = Some(match (newer, &conflict) {
                    (true, _) => SyncState::Pending,
                    (false, Some(stamp)) => SyncState::Conflict(stamp.clone()),
                    (false, None) => SyncState::Clean,
                });
            }
            Err(Failure::Transient(reason)) => {
                st.failures += 1;
                let wait = retry_wait(st.failures);
                tracing::warn!(
                    page,
                    reason = %reason,
                    attempt = st.failures,
                    retry_in_ms = wait.as_millis() as u64,
                    "push failed; the local content is kept and the push retried"
                );
                let _ = self.journal.mark_failed(rec.seq, &reason);
                st.sync = Some(SyncState::Pending);
                self.retry_later(page, st.retry_epoch, wait);
            }
            Err(Failure::Refused(reason)) => {
                st.failures = 0;
                // Once per save: a retry failing the same way stays quiet.
                if st.sync != Some(SyncState::Failed(reason.clone())) {
                    tracing::warn!(
                        page,
                        reason = %reason,
                        "push refused; the local content is kept until the next save"
                    );
                }
                let _ = self.journal.mark_failed(rec.seq, &reason);
                st.sync = Some(SyncState::Failed(reason));
            }
        }
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

    /// After a push that stopped part way: reads Notion and folds what it already holds of
    /// the content that was being pushed into the base.
    async fn settle(&self, page: &str) -> Result<(), Failure> {
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
    async fn push_body(&self, page: &str, data: &[u8], start: Option<&str>) -> Result<(), Failure> {
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
    async fn push_markdown(
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
    async fn unchanged_since_base(&self, page: &str) -> bool {
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
    async fn unknown_base(
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

    /// Reads a page not rendered by this mount: its [`RowBase`] if it is a row.
    async fn fetch_row(&self, page: &str) -> Result<Option<Arc<RowBase>>, Failure> {
        let read = |e: ApiError| classify(PushError::Read(e));
        let mut p = self.client.page(page).await.map_err(read)?;
        let Some(ds) = p.parent.data_source_id.clone() else {
            return Ok(None);
        };
        let schema = Arc::new(self.client.data_source(&ds).await.map_err(read)?);
        super::core::complete_row(&self.client, &mut p)
            .await
            .map_err(read)?;
        let row = Arc::new(RowBase { page: p, schema });
        self.pages().entry(page.to_string()).or_default().row = Some(row.clone());
        Ok(Some(row))
    }

    /// Pushes a saved row file: the edited properties in one update-page call, then the
    /// body (see the module doc). Refusals fail the save after the rest went through.
    async fn push_row(
        &self,
        page: &str,
        text: &str,
        mut row: Arc<RowBase>,
        base: Option<Base>,
        start: Option<&str>,
    ) -> Result<(), Failure> {
        let paths = base.as_ref().map(|(_, p)| p.clone()).unwrap_or_default();
        let mut plan = plan_row(text, start, &row, paths.as_ref());
        if plan.stale_schema {
            // The option or property may have been added in Notion since the last read.
            let ds = row.page.parent.data_source_id.clone().unwrap_or_default();
            if let Ok(s) = self.client.data_source(&ds).await {
                row = Arc::new(RowBase {
                    page: row.page.clone(),
                    schema: Arc::new(s),
                });
                self.pages().entry(page.to_string()).or_default().row = Some(row.clone());
                plan = plan_row(text, start, &row, paths.as_ref());
            }
        }
        let mut reasons = plan.refused;
        // A transient failure of either part makes the whole save retried (the properties
        // still to send are found again from the same start).
        let mut transient = None;
        if let Some(req) = plan.update {
            match self.client.update_page(page, req).await {
                Ok(mut p) => {
                    if let Err(e) = super::core::complete_row(&self.client, &mut p).await {
                        tracing::warn!(page, error = %e, "cannot complete a row's properties");
                    }
                    let schema = row.schema.clone();
                    self.pages().entry(page.to_string()).or_default().row =
                        Some(Arc::new(RowBase { page: p, schema }));
                }
                Err(e) if e.is_transient() => {
                    transient = Some(format!("the properties were not saved: {e}"))
                }
                Err(e) => reasons.push(format!("the properties were not saved: {e}")),
            }
        }
        // A body that means the blocks Notion was last known to hold needs no push (nor
        // its remote check): a properties-only save reads no blocks.
        let untouched = |b: &str| {
            base.as_ref()
                .is_some_and(|(blocks, paths)| same_content(blocks, &parse_body(b, paths, blocks)))
        };
        if let Some(body) = plan.body.filter(|b| !untouched(b)) {
            // The body the edit started from, for a row whose blocks are not in memory.
            let start_body = start
                .and_then(|s| frontmatter::parse(s, &row.page, &row.schema, paths.as_ref()).ok())
                .map(|p| p.body);
            match self
                .push_markdown(page, &body, base, start_body.as_deref())
                .await
            {
                Ok(()) => {}
                Err(Failure::Refused(r)) => reasons.push(r),
                Err(Failure::Transient(r)) => transient = Some(r),
                Err(c @ Failure::Conflict(_)) => return Err(c),
            }
        }
        if let Some(t) = transient {
            Err(Failure::Transient(t))
        } else if reasons.is_empty() {
            Ok(())
        } else {
            Err(Failure::Refused(reasons.join("; ")))
        }
    }
}

/// What one saved row file asks of Notion.
#[derive(Debug, PartialEq)]
struct RowPlan {
    /// The update-page request (only the edited, changed, valid properties).
    update: Option<Value>,
    /// The Markdown body to push (`None`: it cannot be told apart from the front matter).
    body: Option<String>,
    /// Why properties (or the whole front matter) were refused.
    refused: Vec<String>,
    /// A refusal a newer schema might lift (unknown key or option).
    stale_schema: bool,
}

/// Reads a saved row file `text` against the row as rendered; `start` is the file the edit
/// started from (keys with the same value there are not the user's edits and are skipped).
fn plan_row(text: &str, start: Option<&str>, row: &RowBase, ctx: &PathMap) -> RowPlan {
    let parsed = match frontmatter::parse(text, &row.page, &row.schema, ctx) {
        Ok(p) => p,
        Err(e) => {
            return RowPlan {
                update: None,
                body: e.body().map(str::to_string),
                refused: vec![e.to_string()],
                stale_schema: false,
            }
        }
    };
    let edited = edited_keys(text, start);
    let is_edited = |k: &str| edited.as_ref().is_none_or(|e| e.contains(k));
    let mut kept = parsed;
    kept.changes.retain(|k, _| is_edited(k));
    kept.refused.retain(|r| is_edited(&r.property));
    RowPlan {
        update: kept.update_request(),
        stale_schema: kept.refused.iter().any(|r| {
            matches!(
                r.problem,
                Problem::UnknownKey { .. } | Problem::UnknownOption { .. }
            )
        }),
        refused: kept.refused.iter().map(|r| r.to_string()).collect(),
        body: Some(kept.body),
    }
}

/// The front matter keys whose value differs between `start` and `text` (or that `start`
/// does not have); `None` (every key counts) when `start` has no readable front matter.
fn edited_keys(text: &str, start: Option<&str>) -> Option<HashSet<String>> {
    let old = frontmatter::read_values(start?).ok().flatten()?;
    let new = frontmatter::read_values(text)
        .ok()
        .flatten()
        .unwrap_or_default();
    Some(
        new.iter()
            .filter(|(k, v)| {
                old.get(k.as_str())
                    .is_none_or(|o| !frontmatter::yaml::same(o, v))
            })
            .map(|(k, _)| k.clone())
            .collect(),
    )
}

/// How many list-children calls reading `tree` back costs (100 children a call, one more
/// list per block with children; child pages and databases are not read into).
fn tree_reads(tree: &[Block]) -> usize {
    tree.len().div_ceil(100).max(1)
        + tree
            .iter()
            .filter(|b| !b.children.is_empty())
            .map(|b| tree_reads(&b.children))
            .sum::<usize>()
}

/// Why a push did not write.
#[derive(Debug)]
enum Failure {
    /// Both sides changed these many blocks.
    Conflict(usize),
    /// May pass by itself: retried after a backoff (the reason is logged and journaled).
    Transient(String),
    /// Cannot pass without a new save (the reason shown in `failed: REASON`).
    Refused(String),
}

/// Sorts a push error into retried or refused, by its type and HTTP status.
fn classify(e: PushError) -> Failure {
    let transient = match &e {
        PushError::Refused(_) => false,
        // The page itself is gone, not shared, or the token is refused: no use retrying.
        PushError::Read(a) => a.is_transient() || matches!(a, ApiError::Decode { .. }),
        // A write's outcome is unknown: the next attempt re-reads and settles. A block
        // removed in Notion meanwhile (404) is settled the same way.
        PushError::Apply(a) => {
            a.source.is_transient()
                || a.source.is_not_found()
                || matches!(a.source, ApiError::Decode { .. })
        }
    };
    if transient {
        Failure::Transient(e.to_string())
    } else {
        Failure::Refused(e.to_string())
    }
}

/// How long to wait before the `n`th retry (`n` ≥ 1): doubling from [`FIRST_RETRY`] up to
/// [`MAX_RETRY`], with jitter over the upper half so pages do not retry in lockstep.
fn retry_wait(n: u32) -> Duration {
    let full = FIRST_RETRY
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(MAX_RETRY);
    let ms = full.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(ms / 2..=ms))
}

/// The file's bytes as Markdown text, or why they are not: binary data (a NUL byte, as in
/// images and most binary formats) or bytes that are not UTF-8.
fn text_of(data: &[u8]) -> Result<&str, String> {
    if let Some(i) = data.iter().position(|&b| b == 0) {
        return Err(format!(
            "the file holds binary data (a NUL byte at byte {i}), not Markdown text"
        ));
    }
    std::str::from_utf8(data).map_err(|e| {
        format!(
            "the file is not UTF-8 text (invalid bytes at byte {})",
            e.valid_up_to()
        )
    })
}
