//! Namespace changes that wait for Notion (notionfs(1), WRITES, "Offline"): creating a
//! page or row, `mkdir`, rename, move and `rm` while Notion cannot be reached.
//!
//! # Design
//! - **Online first.** A namespace operation is one API call made at once while nothing is
//!   queued (`fs::namespace`). When that call cannot reach Notion (a refused
//!   connection, a timeout, a 5xx, a 429 past the client's retries), or when operations are
//!   queued already (they keep their order), it is *queued* instead: a journal record of
//!   kind `create`, `rename`, `move` or `trash` whose data is the `NsOp` as JSON, durable
//!   before the call returns; the tree shows the change at once.
//! - **Local ids.** A page created that way is known as `local-<uuid>` until Notion gives
//!   its id: its `.md` and folder have inodes, its saves are journaled under the local id
//!   and wait for the create ([`crate::writeback::Writer::push_page`]), and pages can be
//!   created, renamed or moved in its folder meanwhile. It renders from what the mount
//!   knows (its title, its row properties, its pending save), never from the API.
//! - **One sender.** [`FsCore::drain_namespace`] sends the queue in journal order, after a
//!   kick (a new record, `notionfs sync`) or a backoff. A create first writes the local id's
//!   mapping to Notion's (`ids.log` in the cache dir, fsync'd), then moves everything known
//!   under the local id to Notion's: the tree, the sticky names, the inodes (same numbers,
//!   so open files and the kernel's entries stay valid) and the writer's pending saves
//!   (journaled again under the new id); later records naming the local id use Notion's.
//!   A transient failure stops the queue (order matters) and is retried with backoff; the
//!   record shows `failed: REASON` meanwhile, as a save's would.
//! - **A create that may have happened** (a 5xx or a lost answer, or a crash while it was
//!   being sent) is not sent twice blindly: the parent is searched first for a page with
//!   that title created since the record was accepted (a page parent: its child pages; a
//!   data source: a query on the title), and one no other local id maps to is adopted.
//! - **Conflicts.** Notion refusing an operation (the parent was trashed meanwhile, the
//!   page is gone, a validation error) sets its record aside with the reason: `notionfs
//!   status` lists it and `sync --wait` exits 1. A refused create sets the saves of its page
//!   aside with it, so their content stays in the journal's quarantine directory. Moving a
//!   page to the trash waits for its pending saves; if one was refused, the page is not
//!   trashed and the record is set aside. A title taken meanwhile is no conflict: Notion
//!   allows equal titles and the mount names the two `T.md` and `T (2).md`.
//! - **Restart.** On mount, queued records are applied to the tree again (idempotently:
//!   the snapshot may or may not hold them) and the queue resumes; a create whose mapping
//!   was written before a crash is not sent again.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::{FsError, FsResult};
use super::inode::NodeKey;
use super::render::{render_page, PathMap};
use super::snapshot::LocalChange;
use super::tree::Obj;
use super::FsCore;
use crate::fs::content::Body;
use crate::notion::model::block::BlockKind;
use crate::notion::model::{Page, Parent};
use crate::notion::ApiError;
use crate::sync::{Record, RecordKind};
use crate::writeback::Writer;

/// The prefix of the ids this mount gives pages created while Notion is unreachable.
pub const LOCAL_PREFIX: &str = "local-";

/// Whether `id` is a local id (a page whose create has not reached Notion yet).
pub fn is_local_id(id: &str) -> bool {
    id.starts_with(LOCAL_PREFIX)
}

fn new_local_id() -> String {
    format!("{LOCAL_PREFIX}{}", uuid::Uuid::new_v4().simple())
}

/// One queued namespace operation: the data of its journal record (the record's page is
/// the page it applies to, a local id for a create).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(super) enum NsOp {
    /// Create the page titled `title` under `parent` (whose id may be local).
    Create {
        /// Where it goes.
        parent: Parent,
        /// The title property's key (`title`, or a data source's title column).
        title_key: String,
        /// Its title.
        title: String,
        /// The first attempt may have created it (see the module doc).
        #[serde(default)]
        maybe_sent: bool,
    },
    /// Set the page's title.
    Rename {
        /// The title property's key under the page's parent at that point.
        title_key: String,
        /// The new title.
        title: String,
    },
    /// Move the page under `parent` (whose id may be local).
    Move {
        /// The new parent.
        parent: Parent,
    },
    /// Move the page to Notion's trash.
    Trash,
}

impl NsOp {
    fn kind(&self) -> RecordKind {
        match self {
            NsOp::Create { .. } => RecordKind::Create,
            NsOp::Rename { .. } => RecordKind::Rename,
            NsOp::Move { .. } => RecordKind::Move,
            NsOp::Trash => RecordKind::Trash,
        }
    }
}

/// Whether a journal record is a queued namespace operation.
pub(crate) fn is_namespace(kind: RecordKind) -> bool {
    matches!(
        kind,
        RecordKind::Create | RecordKind::Rename | RecordKind::Move | RecordKind::Trash
    )
}

/// The queue's own state: the id mapping and the sender's kick (leaf locks).
pub(super) struct Offline {
    /// `ids.log` in the cache dir: one `LOCAL NOTION` line per create that reached Notion.
    path: PathBuf,
    /// Local id -> Notion's id.
    ids: Mutex<HashMap<String, String>>,
    /// Wakes the sender.
    kick: tokio::sync::Notify,
    /// One sender at a time (the loop, `notionfs sync`).
    sending: tokio::sync::Mutex<()>,
    /// Held (shared) by an operation from a new page's create until its inode, handle or
    /// folder is set up under the id it got, and (exclusive) by the move of a created
    /// page to Notion's id: nothing is set up under a local id that just went away.
    pub(super) rekey_gate: tokio::sync::RwLock<()>,
}

impl Offline {
    /// The queue state of the cache dir `dir` (its id mappings read back).
    pub(super) fn new(dir: &Path) -> Offline {
        let path = dir.join("ids.log");
        let mut ids = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&path) {
            for line in text.lines() {
                match line.split_once(' ') {
                    Some((l, r)) if is_local_id(l) && !r.is_empty() => {
                        ids.insert(l.to_string(), r.to_string());
                    }
                    _ => tracing::warn!(line, "ids.log: a damaged line is skipped"),
                }
            }
        }
        Offline {
            path,
            ids: Mutex::new(ids),
            kick: tokio::sync::Notify::new(),
            sending: tokio::sync::Mutex::new(()),
            rekey_gate: tokio::sync::RwLock::new(()),
        }
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notion's id for `id`: itself, or what a local id maps to once created.
    fn notion_id(&self, id: &str) -> Option<String> {
        if !is_local_id(id) {
            return Some(id.to_string());
        }
        self.ids().get(id).cloned()
    }

    /// Records durably that the local id `local` is `real` in Notion.
    fn remember(&self, local: &str, real: &str) -> Result<(), crate::sync::JournalError> {
        self.write_map(local, real)
            .map_err(|source| crate::sync::JournalError::Io {
                path: self.path.clone(),
                source,
            })
    }

    fn write_map(&self, local: &str, real: &str) -> std::io::Result<()> {
        let fresh = !self.path.exists();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)?;
        f.write_all(format!("{local} {real}\n").as_bytes())?;
        f.sync_all()?;
        if fresh {
            if let Some(d) = self.path.parent() {
                std::fs::File::open(d)?.sync_all()?;
            }
        }
        self.ids().insert(local.to_string(), real.to_string());
        Ok(())
    }

    /// Whether another local id maps to `real` already.
    fn taken(&self, real: &str) -> bool {
        self.ids().values().any(|r| r == real)
    }
}

/// How sending one queued operation ended.
enum Sent {
    Done,
    /// Try again later (the queue waits).
    Later(String),
    /// Notion refuses: set aside with the reason.
    Refused(String),
}

impl From<FsError> for Sent {
    fn from(e: FsError) -> Sent {
        match &e {
            FsError::Api(a) if a.is_transient() || matches!(a, ApiError::Decode { .. }) => {
                Sent::Later(e.to_string())
            }
            FsError::Io(_) | FsError::Journal(_) => Sent::Later(e.to_string()),
            _ => Sent::Refused(e.to_string()),
        }
    }
}

impl From<ApiError> for Sent {
    fn from(e: ApiError) -> Sent {
        FsError::from(e).into()
    }
}

/// A page object for a page this mount knows only locally (Notion's shape, so the tree and
/// the renderers treat it like any other): times rounded to the minute as Notion does.
pub(super) fn local_page(id: &str, parent: &Parent, title_key: &str, title: &str) -> Page {
    let now = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:00.000Z")
        .to_string();
    let v = json!({
        "object": "page",
        "id": id,
        "created_time": now,
        "last_edited_time": now,
        "parent": parent,
        "properties": {title_key: title_value(title)},
        "url": "",
    });
    serde_json::from_value(v).expect("a local page object is well formed")
}

fn title_value(title: &str) -> serde_json::Value {
    json!({"id": "title", "type": "title", "title": [{
        "type": "text",
        "text": {"content": title, "link": null},
        "plain_text": title,
        "href": null,
    }]})
}

/// `page` with its title property set to `title` (the property of type title, else
/// `key`).
fn retitled(mut page: Page, key: &str, title: &str) -> Page {
    let k = page
        .properties
        .iter()
        .find(|(_, v)| v.type_name() == "title")
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| key.to_string());
    if let Ok(v) = serde_json::from_value(title_value(title)) {
        page.properties.insert(k, v);
    }
    page
}

impl FsCore {
    /// The id under which `id` is known now: Notion's once the create of a local id went
    /// through (a handle opened before keeps the local one).
    pub(super) fn current_id(&self, id: &str) -> String {
        match is_local_id(id) {
            true => self.offline.notion_id(id).unwrap_or_else(|| id.to_string()),
            false => id.to_string(),
        }
    }

    /// Whether namespace operations are queued (a new one must queue behind them).
    fn queue_busy(&self) -> bool {
        self.write_back().is_some_and(|w| {
            w.journal()
                .pending_index()
                .iter()
                .any(|(_, _, k)| is_namespace(*k))
        })
    }

    /// Whether an operation on these ids must be queued rather than sent now: one is a
    /// page not in Notion yet, or operations are queued already.
    pub(super) fn must_queue(&self, ids: &[Option<&str>]) -> bool {
        ids.iter().flatten().any(|i| is_local_id(i)) || self.queue_busy()
    }

    /// Whether `id` has queued namespace operations: its place and title in the tree are
    /// this mount's until they are sent, whatever the feed reads meanwhile.
    pub(super) fn queued(&self, id: &str) -> bool {
        is_local_id(id)
            || self.write_back().is_some_and(|w| {
                // (An operation queued under the local id of a page created since counts.)
                w.journal().pending_index().iter().any(|(_, p, k)| {
                    is_namespace(*k)
                        && (p == id || self.offline.notion_id(p).is_some_and(|n| n == id))
                })
            })
    }

    /// Whether `p` may be a create queued here that reached Notion and is not in the tree
    /// under its id yet: the mount does not know it while a page created here is known by
    /// a local id (its title and place may differ by now: renames and moves queued after
    /// the create). The sender maps it; until then the feed leaves new pages out, so none
    /// shows twice (a new page made elsewhere meanwhile shows at a later poll).
    pub(super) fn local_twin(&self, p: &Page) -> bool {
        let st = self.state();
        !st.objects.contains_key(&p.id) && st.creating()
    }

    /// Wakes the sender if namespace operations are queued.
    pub(super) fn kick_queue(&self) {
        if self.queue_busy() {
            self.offline.kick.notify_one();
        }
    }

    /// Journals `op` on `page` (durable before this returns) and wakes the sender.
    pub(super) async fn enqueue(&self, page: &str, op: &NsOp) -> FsResult<()> {
        let w = self.writer("queue")?.clone();
        let data = serde_json::to_vec(op).map_err(|e| FsError::Io(e.into()))?;
        let (p, k) = (page.to_string(), op.kind());
        w.journal_io(move |j| j.record(&p, k, &data, None)).await?;
        tracing::info!(page, op = ?k, "queued until Notion can be reached");
        self.offline.kick.notify_one();
        Ok(())
    }

    /// Creates the page `stem` under `parent` locally and queues its create; returns its
    /// local id and the inode of its `.md` (see [`FsCore::create_page_in`]).
    pub(super) async fn create_queued(
        &self,
        dir: u64,
        dkey: &NodeKey,
        parent: Parent,
        title_key: String,
        stem: &str,
        maybe_sent: bool,
    ) -> FsResult<(String, u64)> {
        let id = new_local_id();
        let title = super::namespace::title_of(stem);
        let op = NsOp::Create {
            parent: parent.clone(),
            title_key: title_key.clone(),
            title: title.clone(),
            maybe_sent,
        };
        // In the tree before the sender can see the record: a create it sends at once is
        // rekeyed, never shown a second time beside a later install.
        self.install_new(&local_page(&id, &parent, &title_key, &title))
            .await?;
        let ino = self.show_page(dir, dkey, &id, stem);
        if let Err(e) = self.enqueue(&id, &op).await {
            self.forget_object(&id);
            return Err(e);
        }
        Ok((id, ino))
    }

    /// Shows page `id` under `parent` and/or titled `title` in the tree, as Notion will
    /// have it once the queued operations are sent; returns that page object.
    pub(super) fn show_queued(
        &self,
        id: &str,
        parent: Option<&Parent>,
        title: Option<(&str, &str)>,
    ) -> FsResult<Page> {
        let mut st = self.state();
        let o = st.objects.get(id).cloned().ok_or(FsError::NotFound)?;
        let parent = parent
            .cloned()
            .or(o.parent.clone())
            .unwrap_or_else(Parent::workspace);
        let (key, text) = title.unwrap_or(("title", o.title.as_str()));
        let stays_row = parent.kind == "data_source_id"
            && o.parent.as_ref().map(|p| &p.data_source_id) == Some(&parent.data_source_id);
        let mut p = match o.page.clone() {
            Some(p) if stays_row => retitled(*p, key, text),
            _ => local_page(id, &parent, key, text),
        };
        p.parent = parent;
        p.created_time = o.created_time.clone();
        p.last_edited_time = o.last_edited_time.clone();
        st.know_page(&p);
        // `know` keeps a row's old properties when its edit time did not change.
        if let Some(obj) = st.objects.get_mut(id) {
            obj.page = Obj::from_page(&p).page;
        }
        Ok(p)
    }

    /// The body of a page not in Notion yet: its pending save, else its empty rendering;
    /// `None` once it is in Notion under another id (read that page instead).
    pub(super) async fn local_body(&self, id: &str) -> FsResult<Option<Arc<Body>>> {
        let Some(obj) = self.state().objects.get(id).cloned() else {
            return match self.current_id(id) == id {
                true => Err(FsError::NotFound),
                false => Ok(None),
            };
        };
        let data = match self.pending_body(id).await {
            Some(d) => d,
            None => {
                let schema = match obj.parent.as_ref().and_then(|p| p.data_source_id.clone()) {
                    Some(ds) if obj.is_row() => Some(self.schema(&ds).await?),
                    _ => None,
                };
                render_page(
                    obj.page.as_ref(),
                    schema.as_deref(),
                    &[],
                    &PathMap::default(),
                )
            }
        };
        // Mapped since the journal was read, its saves may have moved to Notion's id
        // before the read (`None`: read that page). Not mapped now, nothing had moved.
        if self.current_id(id) != id {
            return Ok(None);
        }
        let body = Arc::new(Body::new(data, obj.last_edited_time.clone()));
        self.state().bodies.put(id.to_string(), body.clone());
        Ok(Some(body))
    }

    /// Starts the task that sends queued namespace operations (see the module doc).
    pub fn start_namespace_queue(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let offline = self.offline.clone();
        tokio::spawn(send_loop(weak, offline));
    }

    /// Sends the queued namespace operations in order until the queue is empty (`None`) or
    /// one cannot go out yet (why).
    pub async fn drain_namespace(&self) -> Option<String> {
        let w = self.write_back()?.clone();
        let _one = self.offline.sending.lock().await;
        let records = match w.journal_io(|j| j.pending()).await {
            Ok(r) => r,
            Err(e) => return Some(e.to_string()),
        };
        for r in records.into_iter().filter(|r| is_namespace(r.kind)) {
            match self.send_queued(&w, &r).await {
                Sent::Done => {
                    let seq = r.seq;
                    if let Err(e) = w.journal_io(move |j| j.confirm(seq)).await {
                        return Some(e.to_string());
                    }
                }
                Sent::Later(why) => {
                    tracing::warn!(page = %r.page_id, op = ?r.kind, reason = %why, "queued operation not sent yet; retried");
                    let (seq, note) = (r.seq, why.clone());
                    let _ = w.journal_io(move |j| j.mark_failed(seq, &note)).await;
                    return Some(why);
                }
                Sent::Refused(why) => self.set_aside(&w, &r, &why).await,
            }
        }
        None
    }

    /// Notion refused the queued operation `r`: it is set aside with the reason (and a
    /// refused create takes its page's saves along, see the module doc).
    async fn set_aside(&self, w: &Arc<Writer>, r: &Record, why: &str) {
        tracing::warn!(page = %r.page_id, op = ?r.kind, reason = %why, "Notion refused a queued operation: set aside, see notionfs status");
        let (seq, page, kind) = (r.seq, r.page_id.clone(), r.kind);
        let note = why.to_string();
        let res = w
            .journal_io(move |j| {
                j.set_aside_refused(seq, &note)?;
                if kind == RecordKind::Create {
                    let reason = format!("its page could not be created in Notion: {note}");
                    for s in j.pending_for(&page)? {
                        if !is_namespace(s.kind) {
                            j.set_aside_refused(s.seq, &reason)?;
                        }
                    }
                }
                Ok::<_, crate::sync::JournalError>(())
            })
            .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, "cannot set a refused operation aside");
        }
    }

    async fn send_queued(&self, w: &Arc<Writer>, r: &Record) -> Sent {
        let op: NsOp = match serde_json::from_slice(&r.data) {
            Ok(op) => op,
            Err(e) => return Sent::Refused(format!("a damaged queued operation: {e}")),
        };
        let Some(page) = self
            .offline
            .notion_id(&r.page_id)
            .or_else(|| matches!(op, NsOp::Create { .. }).then(|| r.page_id.clone()))
        else {
            return Sent::Refused("its page was never created in Notion".into());
        };
        match op {
            NsOp::Create {
                parent,
                title_key,
                title,
                maybe_sent,
            } => {
                let again = maybe_sent || r.failure.is_some();
                self.send_create(w, r, &parent, &title_key, &title, again)
                    .await
            }
            NsOp::Rename { title_key, title } => {
                let req = json!({"properties": {title_key: {"title": [{"type": "text", "text": {"content": title}}]}}});
                let _writing = self.writing(&page);
                match self.client.update_page(&page, req).await {
                    Ok(p) => self.sent(r, &p).await,
                    Err(e) => e.into(),
                }
            }
            NsOp::Move { parent } => {
                let Some(target) = self.notion_parent(&parent) else {
                    return Sent::Refused("its new parent was never created in Notion".into());
                };
                // Its saves first: the move changes how the file renders.
                w.push_page(&page).await;
                let _writing = self.writing(&page);
                match self.client.move_page(&page, &target).await {
                    Ok(p) => self.sent(r, &p).await,
                    Err(e) => e.into(),
                }
            }
            NsOp::Trash => self.send_trash(w, &page).await,
        }
    }

    /// The parent `p` with Notion's ids (`None`: a local parent whose create was refused).
    fn notion_parent(&self, p: &Parent) -> Option<Parent> {
        let mut p = p.clone();
        if let Some(id) = p.page_id.as_deref() {
            p.page_id = Some(self.offline.notion_id(id)?);
        }
        Some(p)
    }

    /// What Notion answered a sent rename or move: known, unless more is queued for the
    /// page (the tree shows where it ends up).
    ///
    /// Notion's answer is noted in the local log (as an online rename's is): a crash before
    /// the next snapshot must not bring back the title or place the snapshot has.
    async fn sent(&self, r: &Record, p: &Page) -> Sent {
        let more = self.write_back().is_some_and(|w| {
            w.journal().pending_index().iter().any(|(s, id, k)| {
                *s > r.seq && (id == &r.page_id || id == &p.id) && is_namespace(*k)
            })
        });
        if !more {
            // The tree first (see `answered` in the namespace module).
            self.apply_known(p);
            self.note_local(LocalChange::Known(Box::new(p.clone())))
                .await;
        }
        Sent::Done
    }

    async fn send_trash(&self, w: &Arc<Writer>, page: &str) -> Sent {
        // Its saves first: they are its last content in Notion's trash.
        w.push_page(page).await;
        if let Err(e) = self.refuse_unsynced_trash(w, page, true) {
            return Sent::Refused(format!("not moved to the trash: {e}"));
        }
        if w.is_unsynced(page) {
            return Sent::Later("its last save is not in Notion yet".into());
        }
        match self.trash_in_notion(page).await {
            Ok(()) => Sent::Done,
            Err(e) if e.is_not_found() => Sent::Done,
            Err(e) => e.into(),
        }
    }

    /// Moves `page` to Notion's trash. A page in the trash already (an earlier attempt
    /// whose answer was lost) is refused by Notion as an edit of an archived page: that
    /// is done, not a refusal.
    pub(super) async fn trash_in_notion(&self, page: &str) -> Result<(), ApiError> {
        let _writing = self.writing(page);
        let e = match self.client.trash_page(page).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_transient() || e.is_not_found() => return Err(e),
            Err(e) => e,
        };
        match self.client.page(page).await {
            Ok(p) if p.in_trash || p.archived => Ok(()),
            _ => Err(e),
        }
    }

    async fn send_create(
        &self,
        w: &Arc<Writer>,
        r: &Record,
        parent: &Parent,
        title_key: &str,
        title: &str,
        maybe_sent: bool,
    ) -> Sent {
        let local = r.page_id.as_str();
        if let Some(real) = self.offline.notion_id(local) {
            // Mapped before a restart: not sent again.
            return match self.client.page(&real).await {
                Ok(p) => self.rekey_page(w, local, &p, false).await,
                Err(e) => e.into(),
            };
        }
        let Some(parent) = self.notion_parent(parent) else {
            return Sent::Refused("its parent was never created in Notion".into());
        };
        let found = match maybe_sent {
            true => match self
                .find_created(&parent, title_key, title, &r.created)
                .await
            {
                Ok(f) => f,
                Err(e) => return e.into(),
            },
            false => None,
        };
        let p = match found {
            Some(p) => p,
            None => {
                // A crash from here until the mapping is written may have created it.
                let seq = r.seq;
                let _ = w
                    .journal_io(move |j| j.mark_failed(seq, "being sent to Notion"))
                    .await;
                let req = json!({
                    "parent": parent,
                    "properties": {title_key: {"title": [{"type": "text", "text": {"content": title}}]}},
                });
                match self.client.create_page(req).await {
                    Ok(p) => p,
                    Err(e) => return e.into(),
                }
            }
        };
        tracing::info!(local, page = %p.id, title, "created in Notion");
        self.rekey_page(w, local, &p, true).await
    }

    /// A page titled `title` under `parent` created since `since` (RFC 3339) that no other
    /// local id maps to: what a create that may have gone through made.
    async fn find_created(
        &self,
        parent: &Parent,
        title_key: &str,
        title: &str,
        since: &str,
    ) -> FsResult<Option<Page>> {
        // Notion rounds created_time down to the minute.
        let since = since.get(..16).unwrap_or(since).to_string();
        let recent = |created: &str| created.get(..16).unwrap_or(created) >= since.as_str();
        let candidates: Vec<String> = match (&parent.page_id, &parent.data_source_id) {
            (Some(pid), _) => self
                .client
                .children(pid)
                .await?
                .into_iter()
                .filter(|b| matches!(&b.kind, BlockKind::ChildPage(t) if t.title == title))
                .filter(|b| b.created_time.as_deref().is_some_and(recent))
                .filter_map(|b| b.id)
                .collect(),
            (None, Some(ds)) => {
                let body = json!({"filter": {"property": title_key, "title": {"equals": title}}});
                self.client
                    .query(ds, body)
                    .await?
                    .into_iter()
                    .filter(|p| recent(&p.created_time))
                    .map(|p| p.id)
                    .collect()
            }
            _ => Vec::new(),
        };
        for id in candidates {
            if !self.offline.taken(&id) {
                tracing::info!(page = %id, title, "a create that may have happened did: adopted");
                return Ok(Some(self.client.page(&id).await?));
            }
        }
        Ok(None)
    }

    /// The page known as `local` is `p` in Notion: the writer's pending saves, the tree and
    /// the inodes move to its id (see the module doc).
    ///
    /// `remember`: the id map is written here too, with the gate held (a save mapped to
    /// Notion's id before the tree moved there would be shown under both).
    async fn rekey_page(&self, w: &Arc<Writer>, local: &str, p: &Page, remember: bool) -> Sent {
        // Saves, tree and inodes move together, while nothing is set up or read under the
        // local id (a read in between would find its saves gone and cache an empty body).
        let folder = {
            let _alone = self.offline.rekey_gate.write().await;
            let (offline, l, r) = (self.offline.clone(), local.to_string(), p.id.clone());
            let mapped = move || match remember {
                true => offline.remember(&l, &r),
                false => Ok(()),
            };
            if let Err(e) = w.rekey(local, &p.id, mapped).await {
                return Sent::Later(format!("cannot move its saves to the new id: {e}"));
            }
            let folder = {
                let mut st = self.state();
                st.rekey(local, Obj::from_page(p));
                st.made_dirs.contains(&p.id)
            };
            for (old, new) in [
                (
                    NodeKey::PageFile(local.into()),
                    NodeKey::PageFile(p.id.clone()),
                ),
                (
                    NodeKey::PageDir(local.into()),
                    NodeKey::PageDir(p.id.clone()),
                ),
            ] {
                self.inodes.rekey(&old, new);
            }
            folder
        };
        let schema = match p.parent.data_source_id.as_deref() {
            Some(ds) => match self.schema(ds).await {
                Ok(s) => Some(s),
                Err(e) => return e.into(),
            },
            None => None,
        };
        // The base of its saves: the empty page Notion made.
        w.record_created(p, schema).await;
        // Known after a crash even before the next snapshot (its create record is let go).
        self.note_local(LocalChange::Known(Box::new(p.clone())))
            .await;
        if folder {
            self.note_local(LocalChange::Folder(p.id.clone())).await;
        }
        // Removed here while its create was queued (its trash follows): not shown, also
        // where its parent's body, read meanwhile, listed it.
        if self.state().gone.contains(&p.id) {
            self.forget_object(&p.id);
            self.note_local(LocalChange::Gone(p.id.clone())).await;
        }
        if let Some(pid) = p.parent.page_id.as_deref() {
            // Its parent's body now links to it.
            self.reread_later(pid);
        }
        if w.is_unsynced(&p.id) {
            w.schedule(&p.id);
        }
        self.snapshot_soon();
        Sent::Done
    }

    /// Applies the queued namespace operations to the tree after a restart (the snapshot
    /// may predate them); pages known by a local id that was mapped take Notion's id, and
    /// those whose create was set aside leave the tree.
    pub async fn replay_namespace(&self) {
        let Some(w) = self.write_back().cloned() else {
            return;
        };
        let records = match w.journal_io(|j| j.pending()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot replay queued namespace operations");
                return;
            }
        };
        let mapped: Vec<(String, String)> = self
            .offline
            .ids()
            .iter()
            .map(|(l, r)| (l.clone(), r.clone()))
            .collect();
        // A crash after a create's id was recorded and before its saves moved to it: they
        // move now, so the page shows them (and pushes them) under Notion's id.
        for (l, r) in &mapped {
            if let Err(e) = w.rekey(l, r, || Ok(())).await {
                tracing::warn!(local = %l, page = %r, error = %e, "cannot move saves to a created page's id");
            }
        }
        {
            let mut st = self.state();
            for (l, r) in mapped {
                match st.objects.get(&l).cloned() {
                    // Removed here after its create was answered (the log says so under
                    // Notion's id; the snapshot still has the local id): it stays gone.
                    Some(_) if st.gone.contains(&r) => {
                        st.forget(&l);
                    }
                    Some(mut o) => {
                        o.id = r;
                        st.rekey(&l, o);
                    }
                    None => st.rekey_unknown(&l, &r),
                }
            }
        }
        let mut creating = Vec::new();
        for r in records.iter().filter(|r| is_namespace(r.kind)) {
            let Ok(op) = serde_json::from_slice::<NsOp>(&r.data) else {
                continue;
            };
            let id = self.current_id(&r.page_id);
            let known = self.state().objects.contains_key(&id);
            let shown = match &op {
                NsOp::Create {
                    parent,
                    title_key,
                    title,
                    ..
                } => {
                    creating.push(id.clone());
                    if known {
                        // (Restored from the snapshot, which does not say it was made here.)
                        self.state().made_here.insert(id.clone());
                        continue;
                    }
                    let parent = self.notion_parent(parent).unwrap_or_else(|| parent.clone());
                    self.install_local(&local_page(&id, &parent, title_key, title))
                }
                // Also when the tree does not know it (the snapshot was written after the
                // `rm`): the parent's body still lists it until the trash is sent.
                NsOp::Trash => {
                    self.forget_object(&id);
                    Ok(())
                }
                _ if !known => continue,
                NsOp::Rename { title_key, title } => self
                    .show_queued(&id, None, Some((title_key, title)))
                    .map(|_| ()),
                NsOp::Move { parent } => {
                    let parent = self.notion_parent(parent).unwrap_or_else(|| parent.clone());
                    self.show_queued(&id, Some(&parent), None).map(|_| ())
                }
            };
            if let Err(e) = shown {
                tracing::warn!(page = %id, error = %e, "cannot show a queued operation");
            }
        }
        let orphans: Vec<String> = self
            .state()
            .objects
            .keys()
            .filter(|k| is_local_id(k) && !creating.contains(k))
            .cloned()
            .collect();
        for o in orphans {
            self.forget_object(&o);
        }
        if !creating.is_empty() || self.queue_busy() {
            self.offline.kick.notify_one();
        }
    }

    /// Knows a page created locally before a restart (its body renders on first read).
    fn install_local(&self, p: &Page) -> FsResult<()> {
        let mut st = self.state();
        st.know_page(p);
        st.made_here.insert(p.id.clone());
        st.items.entry(p.id.clone()).or_default();
        Ok(())
    }
}

/// Sends the queue whenever kicked, and again after a backoff while it cannot go out.
async fn send_loop(core: Weak<FsCore>, offline: Arc<Offline>) {
    let mut failures = 0u32;
    loop {
        let blocked = match core.upgrade() {
            Some(c) => c.drain_namespace().await,
            None => return,
        };
        let wait = match blocked {
            Some(_) => {
                failures += 1;
                crate::writeback::failure::retry_wait(failures)
            }
            None => {
                failures = 0;
                Duration::from_secs(3600)
            }
        };
        tokio::select! {
            _ = offline.kick.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_pages_look_like_notions() {
        let parent = Parent::page("p1");
        let p = local_page("local-1", &parent, "title", "Trip notes");
        assert_eq!(p.title(), "Trip notes");
        assert_eq!(p.parent, parent);
        assert!(p.created_time.ends_with(":00.000Z"));
        let r = retitled(p, "title", "Trip");
        assert_eq!(r.title(), "Trip");
    }

    #[test]
    fn operations_round_trip_as_json() {
        for op in [
            NsOp::Create {
                parent: Parent::data_source("ds"),
                title_key: "Name".into(),
                title: "Row".into(),
                maybe_sent: true,
            },
            NsOp::Rename {
                title_key: "title".into(),
                title: "New".into(),
            },
            NsOp::Move {
                parent: Parent::page("local-2"),
            },
            NsOp::Trash,
        ] {
            let back: NsOp = serde_json::from_slice(&serde_json::to_vec(&op).unwrap()).unwrap();
            assert_eq!(back, op);
        }
    }

    #[test]
    fn id_mappings_survive_a_reopen_and_damaged_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let o = Offline::new(dir.path());
        assert_eq!(o.notion_id("local-a"), None);
        assert_eq!(o.notion_id("abc").as_deref(), Some("abc"));
        o.remember("local-a", "r1").unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("ids.log"))
            .unwrap();
        f.write_all(b"garbage\n").unwrap();
        let o = Offline::new(dir.path());
        assert_eq!(o.notion_id("local-a").as_deref(), Some("r1"));
        assert!(o.taken("r1"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("ids.log"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
