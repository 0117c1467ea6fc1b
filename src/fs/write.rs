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
//!
//! Scope today: page bodies (pages without front matter). A page whose base blocks are not
//! in memory (its body came from the disk cache, or a replay after a restart) is diffed
//! against what Notion holds now (the save wins over remote edits made meanwhile).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rand::Rng;

use super::error::{FsError, FsResult};
use super::render::PathMap;
use crate::markdown;
use crate::notion::model::Block;
use crate::notion::{ApiError, Client};
use crate::sync::{absorb, push, read_tree, Journal, PushError, Pushed, RecordKind, Remote, Seq};

/// First wait before retrying a transiently failed push; it doubles on each failure.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Longest wait between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::{classify, is_dropping, retry_wait, text_of, Failure};
    use crate::notion::ApiError;
    use crate::sync::{ApplyError, DiffError, PushError};
    use std::time::Duration;

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
    /// A writer journaling under `journal_dir` and pushing `delay` after the last save.
    pub fn new(client: Client, journal_dir: &Path, delay: Duration) -> FsResult<Arc<Writer>> {
        let journal =
            Journal::open(journal_dir).map_err(|e| FsError::Io(std::io::Error::other(e)))?;
        Ok(Arc::new_cyclic(|me| Writer {
            me: me.clone(),
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
            Ok(()) => self.push_body(page, &rec.data).await,
            Err(f) => Err(f),
        };
        if let Err(Failure::Conflict(n)) = &pushed {
            tracing::warn!(
                page,
                blocks = *n,
                "conflict: Notion's version kept, the local one saved beside it"
            );
            self.conflicts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Conflict {
                    page: page.to_string(),
                    data: rec.data.clone(),
                    stamp: chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string(),
                });
        }
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
                tracing::warn!(
                    page,
                    reason = %reason,
                    "push refused; the local content is kept until the next save"
                );
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
        st.unsettled = None;
        Ok(())
    }

    async fn push_body(&self, page: &str, data: &[u8]) -> Result<(), Failure> {
        let text = text_of(data).map_err(Failure::Refused)?;
        let base = self.pages().get(page).and_then(|p| p.base.clone());
        let (base, paths, remote) = match base {
            Some((b, p)) => (b, p, Remote::Check),
            None => {
                let now = read_tree(&self.client, page)
                    .await
                    .map_err(|e| classify(PushError::Read(e)))?;
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
            Err(e) => {
                if matches!(e, PushError::Apply(_)) && remote == Remote::Check {
                    self.pages().entry(page.to_string()).or_default().unsettled =
                        Some(Arc::new(local));
                }
                Err(classify(e))
            }
        }
    }
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
