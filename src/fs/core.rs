//! The filesystem operations, independent of FUSE: lookup, getattr, readdir, open, read,
//! extended attributes, the single refusal point of writes, and the write path (write
//! buffers, saves, the local overlay of editor droppings; see [`super::write`](mod@super::write)).
//!
//! # Freshness
//! Directory listings and object metadata are fresh for `ttl`; after that the next look
//! reads them again (a failed refresh keeps serving the old listing and logs why). Page
//! bodies are read on `open` (never by `lookup`/`getattr`/`readdir`), cached in a byte-bounded
//! LRU and on disk (a remount serves unchanged pages without reading their blocks), and
//! revalidated after `ttl` against the page's `last_edited_time` — with Notion's minute
//! rounding taken into account (see [`Body::matches`]). Finding what changed costs one
//! search sorted by `last_edited_time` that stops past the last check ([`FsCore`]'s sweep),
//! not one call per page; a page search cannot vouch for is asked for directly.
//!
//! If Notion cannot be reached, what is cached keeps being served (and the failure logged);
//! what is not fails with EIO.
//!
//! # Sizes
//! A `.md` file's size is exact once its body has been rendered; before that `getattr`
//! reports 0 and marks the size unknown ([`Attr::size_known`]), so the adapter gives the
//! kernel no attribute cache for it: the kernel asks again before reading past that size.
//! `open` renders the body before it returns (fetch on open), so that next `getattr` is
//! exact. When the kernel holds a size it believes but which is now wrong (the page changed
//! in Notion since), `open` asks for direct I/O ([`Opened::direct_io`]): reads then go to
//! [`FsCore::read`] and end at the true end of the file. Either way `cat`, `cp`, `grep` and
//! editors get the whole, exact content, and files whose size the kernel knows are read
//! through the page cache (fast warm `grep -r`, and `mmap` works).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures::TryStreamExt;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use super::attach::{url_key, Attachments};
use super::content::{fetch_tree, Body, BodyCache, DiskCache};
use super::error::{FsError, FsResult};
use super::inode::{Inodes, NodeKey, Place, ROOT_INO};
use super::names::{sanitize, NameTable};
use super::render::{render_page, render_schema, PathMap};
use super::tree::{
    build_entries, derive_items, property_items, AttachmentSource, ChildDesc, ChildrenIndex, Item,
    ListEntry, Listing, Obj, ObjKind,
};
use super::write::{SyncState, Writer};
use crate::frontmatter;
use crate::notion::model::property::PropertyData;
use crate::notion::model::property_item::PropertyItemResponse;
use crate::notion::model::{DataSource, DataSourceRef, Database, Page};
use crate::notion::{ApiError, Client};

mod ops;
mod uploads;

/// How the core behaves.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Metadata freshness.
    pub ttl: Duration,
    /// Most bytes of rendered bodies kept in memory.
    pub cache_size: usize,
    /// Mode bits say read-only (0444 / 0555).
    pub read_only: bool,
    /// Owner of every entry.
    pub uid: u32,
    /// Group of every entry.
    pub gid: u32,
    /// Where downloads and other local state live.
    pub cache_dir: PathBuf,
    /// Most API requests of one page read in flight at once.
    pub max_in_flight: usize,
}

/// File or directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
}

/// Attributes of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    /// Inode number.
    pub ino: u64,
    /// File or directory.
    pub kind: FileKind,
    /// Size in bytes (0 when not yet known).
    pub size: u64,
    /// Whether `size` is exact (false for bodies not rendered yet).
    pub size_known: bool,
    /// Last edit in Notion.
    pub mtime: SystemTime,
    /// Creation in Notion.
    pub ctime: SystemTime,
    /// Permission bits.
    pub perm: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u64,
    /// Name.
    pub name: String,
    /// File or directory.
    pub kind: FileKind,
}

/// The result of a successful `open`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    /// Handle for [`FsCore::read`] and [`FsCore::release`].
    pub fh: u64,
    /// Bypass the page cache: the kernel may hold a stale size for this file.
    pub direct_io: bool,
    /// The kernel's cached pages are still this content.
    pub keep_cache: bool,
}

/// Receives the kernel cache invalidations the core wants (the adapter forwards them to
/// the kernel, off the request thread).
pub trait Invalidate: Send + Sync {
    /// Attributes and data of `ino` changed.
    fn inode(&self, ino: u64);
    /// The entry `name` of the directory `parent` is gone or is now another object (the
    /// kernel may have cached it).
    fn entry(&self, _parent: u64, _name: &str) {}
}

enum Handle {
    Bytes(Arc<Vec<u8>>),
    File(Arc<std::fs::File>, u64),
    Write(WriteBuf),
    Local(u64),
}

/// An open page file's local write buffer (the whole file).
struct WriteBuf {
    page: String,
    ino: u64,
    data: Vec<u8>,
    /// The content the file had when opened (the journal's base).
    base: Arc<Vec<u8>>,
    /// Changed since the last flush.
    dirty: bool,
    /// Flushed at least once (a push is due on close).
    saved: bool,
    /// Opened with `O_APPEND`: every write goes to the end (the kernel's idea of the size
    /// may be stale when the body was not rendered before the open).
    append: bool,
}

impl WriteBuf {
    /// A write handle on `page` (file `ino`) holding `data`, opened from `base`.
    fn handle(page: String, ino: u64, data: Vec<u8>, base: Arc<Vec<u8>>) -> Handle {
        Handle::Write(WriteBuf {
            page,
            ino,
            data,
            base,
            dirty: false,
            saved: false,
            append: false,
        })
    }
}

struct State {
    objects: HashMap<String, Obj>,
    index: ChildrenIndex,
    listings: HashMap<NodeKey, Listing>,
    names: HashMap<NodeKey, NameTable<NodeKey>>,
    databases: HashMap<String, (Vec<DataSourceRef>, Instant)>,
    schemas: HashMap<String, (Arc<DataSource>, Instant)>,
    items: HashMap<String, (Vec<Item>, Instant)>,
    attachments: HashMap<String, AttachmentSource>,
    bodies: BodyCache,
    /// Size last handed to the kernel, by inode, and whether it was exact (the kernel
    /// caches exact sizes for the attribute TTL, and asks again at once otherwise).
    reported: HashMap<u64, (u64, bool)>,
    /// Hash of the content the kernel's page cache may hold, by inode.
    cached_hash: HashMap<u64, [u8; 32]>,
    handles: HashMap<u64, Handle>,
    next_fh: u64,
    /// Digest of the listing the kernel last got for a directory inode (it may cache it).
    dir_served: HashMap<u64, u64>,
    /// Last check of what changed: when (monotonic) and the wall-clock time it started.
    sweep: Option<(Instant, chrono::DateTime<chrono::Utc>)>,
    /// Editor droppings kept in memory only, by inode.
    locals: HashMap<u64, LocalFile>,
    next_local: u64,
    /// Pages whose folder `T/` is shown although it may be empty: someone `mkdir`ed it, or
    /// its last child moved away. `rmdir` hides it again.
    made_dirs: HashSet<String>,
}

/// A file that exists only in this mount's memory (never sent to Notion).
struct LocalFile {
    parent: u64,
    name: String,
    data: Vec<u8>,
    mtime: SystemTime,
}

/// The filesystem core. Async methods run on a tokio runtime; see the module doc of
/// [`crate::fs`] for how FUSE threads call them.
pub struct FsCore {
    client: Client,
    settings: Settings,
    inodes: Inodes,
    state: Mutex<State>,
    permits: Semaphore,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    attachments: Attachments,
    disk: DiskCache,
    invalidator: Mutex<Option<Arc<dyn Invalidate>>>,
    started: SystemTime,
    writer: std::sync::OnceLock<Arc<Writer>>,
    /// Inodes of local files renamed over a page: the kernel keeps using them for the page.
    aliases: Mutex<HashMap<u64, NodeKey>>,
    /// The mount's control socket, shown as `user.notionfs.control` on the root.
    control: std::sync::OnceLock<std::path::PathBuf>,
    /// Files copied into page folders, on their way to becoming attachments.
    uploads: super::upload::Uploads,
}

fn time_of(iso: &str) -> SystemTime {
    chrono::DateTime::parse_from_rfc3339(iso)
        .ok()
        .and_then(|t| {
            let secs = t.timestamp();
            (secs >= 0).then(|| {
                SystemTime::UNIX_EPOCH + Duration::new(secs as u64, t.timestamp_subsec_nanos())
            })
        })
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn search_filter(value: &str) -> Value {
    json!({"filter": {"property": "object", "value": value}})
}

impl FsCore {
    /// A core reading through `client`.
    pub fn new(client: Client, settings: Settings) -> FsResult<FsCore> {
        let attachments = Attachments::new(settings.cache_dir.join("attachments"))?;
        let disk = DiskCache::new(settings.cache_dir.join("bodies"))?;
        let uploads = super::upload::Uploads::new(settings.cache_dir.join("uploads"))?;
        Ok(FsCore {
            client,
            inodes: Inodes::new(),
            state: Mutex::new(State {
                objects: HashMap::new(),
                index: ChildrenIndex::new(),
                listings: HashMap::new(),
                names: HashMap::new(),
                databases: HashMap::new(),
                schemas: HashMap::new(),
                items: HashMap::new(),
                attachments: HashMap::new(),
                bodies: BodyCache::new(settings.cache_size),
                reported: HashMap::new(),
                cached_hash: HashMap::new(),
                handles: HashMap::new(),
                next_fh: 1,
                sweep: None,
                dir_served: HashMap::new(),
                locals: HashMap::new(),
                next_local: 1,
                made_dirs: HashSet::new(),
            }),
            permits: Semaphore::new(settings.max_in_flight.max(1)),
            flights: Mutex::new(HashMap::new()),
            attachments,
            disk,
            invalidator: Mutex::new(None),
            started: SystemTime::now(),
            writer: std::sync::OnceLock::new(),
            aliases: Mutex::new(HashMap::new()),
            control: std::sync::OnceLock::new(),
            uploads,
            settings,
        })
    }

    /// The client (its counters tell the API cost of operations).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Installs the receiver of kernel cache invalidations.
    pub fn set_invalidator(&self, inv: Arc<dyn Invalidate>) {
        *self.invalidator.lock().unwrap_or_else(|e| e.into_inner()) = Some(inv);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Updates are small and self-contained; a panic mid-update leaves usable maps.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn flight(&self, key: String) -> Arc<tokio::sync::Mutex<()>> {
        let mut f = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        f.entry(key).or_default().clone()
    }

    fn invalidate(&self, ino: u64) {
        let inv = self
            .invalidator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(inv) = inv {
            inv.inode(ino);
        }
    }

    fn invalidate_entry(&self, parent: u64, name: &str) {
        let inv = self
            .invalidator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(inv) = inv {
            inv.entry(parent, name);
        }
    }

    fn key(&self, ino: u64) -> FsResult<NodeKey> {
        let alias = self
            .aliases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ino)
            .cloned();
        match alias {
            Some(k) => Ok(k),
            None => self.inodes.key(ino).ok_or(FsError::NotFound),
        }
    }

    /// The inode of a key, if it was handed out (tests and tools).
    pub fn inode_of(&self, key: &NodeKey) -> Option<u64> {
        self.inodes.find(key)
    }

    // ----- the single refusal point of writes ------------------------------------------

    /// Every refused modification ends here (EROFS): a read-only mount, the write path not
    /// enabled, or an operation the write path does not support yet.
    pub fn write_denied(&self, op: &'static str) -> FsError {
        FsError::ReadOnly(op)
    }

    /// An operation Notion has no counterpart for: EPERM once writes are on (the mount is
    /// writable, this just cannot be done), EROFS otherwise.
    pub fn unsupported(&self, op: &'static str) -> FsError {
        if self.writer.get().is_some() {
            FsError::Unsupported(op)
        } else {
            self.write_denied(op)
        }
    }

    // ----- lookup / getattr / readdir ---------------------------------------------------

    /// Finds `name` in the directory `parent`.
    pub async fn lookup(&self, parent: u64, name: &str) -> FsResult<Attr> {
        self.show_conflicts();
        if let Some(ino) = self.local_ino(parent, name) {
            return self.getattr(ino);
        }
        let dir = self.key(parent)?;
        if !dir.is_dir() {
            return Err(FsError::NotDir);
        }
        let mut listing = self.listing(&dir).await?;
        if !listing.entries.iter().any(|e| e.name == name) {
            // The folder of a page whose blocks were never read may exist (attachments are
            // only known from the blocks): read that page's blocks, then look again.
            if let Some((page, file)) = self.unrevealed_folder(&dir, &listing, name) {
                // Revealing the folder finds its directory through the page file's inode.
                let place = Place { parent, name: file };
                self.inodes
                    .ino(&NodeKey::PageFile(page.clone()), Some(place));
                self.load_page(&page).await?;
                listing = self.listing(&dir).await?;
            }
        }
        let e = listing
            .entries
            .iter()
            .find(|e| e.name == name)
            .ok_or(FsError::NotFound)?;
        let ino = self.inodes.ino(
            &e.key,
            Some(Place {
                parent,
                name: e.name.clone(),
            }),
        );
        Ok(self.attr_of(ino, &e.key))
    }

    /// The page whose reserved, not yet shown folder name is `name` in `dir`, if its blocks
    /// have not been read (so whether the folder exists is unknown).
    fn unrevealed_folder(
        &self,
        dir: &NodeKey,
        listing: &Listing,
        name: &str,
    ) -> Option<(String, String)> {
        let st = self.state();
        let names = st.names.get(dir)?;
        listing.entries.iter().find_map(|e| match &e.key {
            NodeKey::PageFile(id)
                if !st.items.contains_key(id)
                    && names.names_of(&e.key).get(1).map(String::as_str) == Some(name) =>
            {
                Some((id.clone(), e.name.clone()))
            }
            _ => None,
        })
    }

    /// Attributes of `ino`, from local state only.
    pub fn getattr(&self, ino: u64) -> FsResult<Attr> {
        let key = self.key(ino)?;
        Ok(self.attr_of(ino, &key))
    }

    /// Opening a directory: whether the kernel may keep the listing it cached (the listing
    /// is fresh and the same as the one it got), so `readdir` need not be asked again.
    pub fn opendir(&self, ino: u64) -> FsResult<bool> {
        let key = self.key(ino)?;
        if !key.is_dir() {
            return Err(FsError::NotDir);
        }
        let st = self.state();
        let current = st
            .listings
            .get(&key)
            .filter(|l| l.fetched.elapsed() < self.settings.ttl)
            .map(digest);
        Ok(current.is_some() && current == st.dir_served.get(&ino).copied())
    }

    /// The entries of the directory `ino` (without `.` and `..`).
    pub async fn readdir(&self, ino: u64) -> FsResult<Vec<DirEntry>> {
        let key = self.key(ino)?;
        if !key.is_dir() {
            return Err(FsError::NotDir);
        }
        let listing = self.listing(&key).await?;
        self.show_conflicts();
        let mut st = self.state();
        st.dir_served.insert(ino, digest(&listing));
        let locals: Vec<DirEntry> = st
            .locals
            .iter()
            .filter(|(_, l)| l.parent == ino)
            .map(|(i, l)| DirEntry {
                ino: *i,
                name: l.name.clone(),
                kind: FileKind::File,
            })
            .collect();
        drop(st);
        let mut out: Vec<DirEntry> = listing
            .entries
            .iter()
            .map(|e| DirEntry {
                ino: self.inodes.ino(
                    &e.key,
                    Some(Place {
                        parent: ino,
                        name: e.name.clone(),
                    }),
                ),
                name: e.name.clone(),
                kind: if e.key.is_dir() {
                    FileKind::Dir
                } else {
                    FileKind::File
                },
            })
            .collect();
        out.extend(locals);
        Ok(out)
    }

    /// The parent directory of `ino` (the root for the root).
    pub fn parent_of(&self, ino: u64) -> u64 {
        self.inodes.place(ino).map(|p| p.parent).unwrap_or(ROOT_INO)
    }

    fn attr_of(&self, ino: u64, key: &NodeKey) -> Attr {
        let mut st = self.state();
        let (fperm, dperm) = if self.settings.read_only {
            (0o444, 0o555)
        } else {
            (0o644, 0o755)
        };
        let times = |o: Option<&Obj>| {
            o.map(|o| (time_of(&o.last_edited_time), time_of(&o.created_time)))
                .unwrap_or((self.started, self.started))
        };
        let (kind, size, known, (mtime, ctime)) = match key {
            NodeKey::Root => (FileKind::Dir, 0, true, (self.started, self.started)),
            NodeKey::PageDir(id) | NodeKey::Database(id) | NodeKey::DataSource(id) => {
                (FileKind::Dir, 0, true, times(st.objects.get(id)))
            }
            NodeKey::PageFile(id) => {
                let writing = st.handles.values().find_map(|h| match h {
                    Handle::Write(w) if w.ino == ino => Some(w.data.len() as u64),
                    _ => None,
                });
                let size = writing.or_else(|| st.bodies.peek(id).map(|b| b.data.len() as u64));
                (
                    FileKind::File,
                    size.unwrap_or(0),
                    size.is_some(),
                    times(st.objects.get(id)),
                )
            }
            NodeKey::Schema(ds) => {
                let size = st
                    .schemas
                    .get(ds)
                    .map(|(s, _)| render_schema(s).len() as u64);
                (
                    FileKind::File,
                    size.unwrap_or(0),
                    size.is_some(),
                    times(st.objects.get(ds)),
                )
            }
            NodeKey::Attachment(block) => {
                let src = st.attachments.get(block).cloned();
                let size = src
                    .as_ref()
                    .and_then(|s| self.attachments.cached(s))
                    .map(|d| d.size);
                let t = src
                    .map(|s| (time_of(&s.last_edited_time), time_of(&s.created_time)))
                    .unwrap_or((self.started, self.started));
                (FileKind::File, size.unwrap_or(0), size.is_some(), t)
            }
            NodeKey::Local(_) => {
                let (size, t) = st
                    .locals
                    .get(&ino)
                    .map(|l| (l.data.len() as u64, l.mtime))
                    .unwrap_or((0, self.started));
                (FileKind::File, size, true, (t, t))
            }
        };
        if kind == FileKind::File {
            st.reported.insert(ino, (size, known));
        }
        Attr {
            ino,
            kind,
            size,
            size_known: known,
            mtime,
            ctime,
            perm: if kind == FileKind::Dir { dperm } else { fperm },
            uid: self.settings.uid,
            gid: self.settings.gid,
        }
    }

    // ----- listings -------------------------------------------------------------------

    async fn listing(&self, dir: &NodeKey) -> FsResult<Listing> {
        let fresh = |st: &State| {
            st.listings
                .get(dir)
                .filter(|l| l.fetched.elapsed() < self.settings.ttl)
                .cloned()
        };
        if let Some(l) = fresh(&self.state()) {
            return Ok(l);
        }
        let flight = self.flight(format!("dir:{dir:?}"));
        let _g = flight.lock().await;
        if let Some(l) = fresh(&self.state()) {
            return Ok(l);
        }
        let loaded = match dir {
            // A page folder is named while its body is loaded (the body links to it).
            NodeKey::PageDir(id) => self.load_page(id).await.map(|_| None),
            other => self.load_children(other).await.map(Some),
        };
        match loaded {
            Ok(Some(children)) => {
                let mut st = self.state();
                let st = &mut *st;
                let names = st.names.entry(dir.clone()).or_default();
                let entries = build_entries(names, &children);
                let l = Listing {
                    entries,
                    fetched: Instant::now(),
                };
                st.listings.insert(dir.clone(), l.clone());
                Ok(l)
            }
            Ok(None) => self
                .state()
                .listings
                .get(dir)
                .cloned()
                .ok_or(FsError::NotFound),
            Err(e) => {
                let old = self.state().listings.get(dir).cloned();
                match old {
                    Some(l) => {
                        tracing::warn!(dir = ?dir, error = %e, "cannot refresh a listing; serving the last one");
                        Ok(l)
                    }
                    None => Err(e),
                }
            }
        }
    }

    fn has_folder(st: &State, page_id: &str) -> bool {
        if st.made_dirs.contains(page_id) {
            return true;
        }
        match st.items.get(page_id) {
            Some((items, _)) => !items.is_empty(),
            None => st.index.get(page_id).is_some_and(|v| !v.is_empty()),
        }
    }

    fn page_desc(st: &State, o: &Obj) -> ChildDesc {
        ChildDesc {
            key: NodeKey::PageFile(o.id.clone()),
            title: o.title.clone(),
            created_time: o.created_time.clone(),
            id: o.id.clone(),
            has_folder: Self::has_folder(st, &o.id),
        }
    }

    async fn load_children(&self, dir: &NodeKey) -> FsResult<Vec<ChildDesc>> {
        match dir {
            NodeKey::Root => self.load_root().await,
            NodeKey::Database(id) => {
                let sources = self.database(id).await?;
                match sources.as_slice() {
                    [only] => self.rows(&only.id).await,
                    many => {
                        let st = self.state();
                        Ok(many
                            .iter()
                            .map(|d| ChildDesc {
                                key: NodeKey::DataSource(d.id.clone()),
                                title: d.name.clone(),
                                created_time: st
                                    .objects
                                    .get(&d.id)
                                    .map(|o| o.created_time.clone())
                                    .unwrap_or_default(),
                                id: d.id.clone(),
                                has_folder: false,
                            })
                            .collect())
                    }
                }
            }
            NodeKey::DataSource(id) => self.rows(id).await,
            _ => Err(FsError::NotDir),
        }
    }

    /// The roots: pages and databases whose parent is the workspace or not visible.
    async fn load_root(&self) -> FsResult<Vec<ChildDesc>> {
        let started = chrono::Utc::now();
        let pages: Vec<Value> = self
            .client
            .search(search_filter("page"))
            .try_collect()
            .await?;
        let sources: Vec<Value> = self
            .client
            .search(search_filter("data_source"))
            .try_collect()
            .await?;
        let pages: Vec<Page> = pages
            .into_iter()
            .filter_map(|v| serde_json::from_value::<Page>(v).ok())
            .filter(|p| !p.in_trash && !p.archived)
            .collect();
        let sources: Vec<DataSource> = sources
            .into_iter()
            .filter_map(|v| serde_json::from_value::<DataSource>(v).ok())
            .filter(|d| !d.in_trash)
            .collect();
        let mut visible: HashSet<String> = pages.iter().map(|p| p.id.clone()).collect();
        for d in &sources {
            visible.insert(d.id.clone());
            if let Some(db) = &d.parent.database_id {
                visible.insert(db.clone());
            }
        }
        let mut index = ChildrenIndex::new();
        for p in &pages {
            if let Some(pid) = p.parent.id() {
                index.entry(pid.to_string()).or_default().push(p.id.clone());
            }
        }
        let hidden = |parent: &crate::notion::model::Parent| match parent.kind.as_str() {
            "workspace" => true,
            // A page inside a block lives in that block's page: listed there.
            "block_id" => false,
            _ => parent.id().is_none_or(|id| !visible.contains(id)),
        };
        let mut root_dbs: Vec<String> = Vec::new();
        let mut unknown_dbs: Vec<String> = Vec::new();
        for d in &sources {
            let Some(db) = d.parent.database_id.clone() else {
                continue;
            };
            match &d.database_parent {
                Some(gp) => {
                    if let Some(pid) = gp.id() {
                        let v = index.entry(pid.to_string()).or_default();
                        if !v.contains(&db) {
                            v.push(db.clone());
                        }
                    }
                    if hidden(gp) && !root_dbs.contains(&db) {
                        root_dbs.push(db);
                    }
                }
                None => {
                    if !unknown_dbs.contains(&db) {
                        unknown_dbs.push(db);
                    }
                }
            }
        }
        // Data sources that did not say where their database lives: ask the database.
        for db in unknown_dbs {
            self.database(&db).await?;
            let parent = self.state().objects.get(&db).and_then(|o| o.parent.clone());
            if let Some(p) = parent {
                if let Some(pid) = p.id() {
                    index.entry(pid.to_string()).or_default().push(db.clone());
                }
                if hidden(&p) && !root_dbs.contains(&db) {
                    root_dbs.push(db);
                }
            }
        }
        for db in &root_dbs {
            self.database(db).await?;
        }
        let mut st = self.state();
        let now = Instant::now();
        for p in &pages {
            st.objects.insert(p.id.clone(), Obj::from_page(p));
        }
        for d in &sources {
            st.objects.insert(d.id.clone(), Obj::from_data_source(d));
            st.schemas.insert(d.id.clone(), (Arc::new(d.clone()), now));
        }
        st.index = index;
        // A full search is a check of everything.
        st.sweep = Some((now, started));
        let mut out = Vec::new();
        for p in pages.iter().filter(|p| hidden(&p.parent)) {
            let o = Obj::from_page(p);
            out.push(Self::page_desc(&st, &o));
        }
        for db in &root_dbs {
            if let Some(o) = st.objects.get(db) {
                out.push(ChildDesc {
                    key: NodeKey::Database(db.clone()),
                    title: o.title.clone(),
                    created_time: o.created_time.clone(),
                    id: db.clone(),
                    has_folder: false,
                });
            }
        }
        Ok(out)
    }

    /// Finds what changed since the last check with search sorted by `last_edited_time`,
    /// newest first, stopping once past the last check minus Notion's one-minute rounding:
    /// the cost is proportional to what changed, not to the workspace. Every other known
    /// page counts as checked now. Returns false when there is no earlier check to compare
    /// with (the caller then asks for the page itself).
    async fn sweep(&self) -> FsResult<bool> {
        let flight = self.flight("sweep".to_string());
        let _g = flight.lock().await;
        let since = match &self.state().sweep {
            Some((at, _)) if at.elapsed() < self.settings.ttl => return Ok(true),
            Some((_, wall)) => *wall,
            None => return Ok(false),
        };
        let started = chrono::Utc::now();
        let cutoff = since - chrono::Duration::seconds(60);
        let body = json!({
            "filter": {"property": "object", "value": "page"},
            "sort": {"direction": "descending", "timestamp": "last_edited_time"},
        });
        let mut changed = Vec::new();
        {
            let results = self.client.search(body);
            futures::pin_mut!(results);
            while let Some(v) = results.try_next().await? {
                let Ok(p) = serde_json::from_value::<Page>(v) else {
                    continue;
                };
                let edited = chrono::DateTime::parse_from_rfc3339(&p.last_edited_time)
                    .map(|t| t.with_timezone(&chrono::Utc));
                if matches!(edited, Ok(t) if t < cutoff) {
                    break;
                }
                changed.push(p);
            }
        }
        let mut st = self.state();
        let now = Instant::now();
        for o in st.objects.values_mut() {
            if o.kind == ObjKind::Page {
                o.fetched = now;
            }
        }
        for p in &changed {
            st.objects.insert(p.id.clone(), Obj::from_page(p));
        }
        st.sweep = Some((now, started));
        tracing::debug!(changed = changed.len(), "revalidated by search");
        Ok(true)
    }

    /// The data sources of a database (`GET /v1/databases/{id}` when stale).
    async fn database(&self, id: &str) -> FsResult<Vec<DataSourceRef>> {
        if let Some((refs, t)) = self.state().databases.get(id) {
            if t.elapsed() < self.settings.ttl {
                return Ok(refs.clone());
            }
        }
        let db: Database = self.client.database(id).await?;
        let mut st = self.state();
        st.objects.insert(
            id.to_string(),
            Obj {
                id: db.id.clone(),
                kind: ObjKind::Database,
                title: db.title_text(),
                created_time: db.created_time.clone(),
                last_edited_time: db.last_edited_time.clone(),
                url: db.url.clone(),
                parent: Some(db.parent.clone()),
                page: None,
                fetched: Instant::now(),
            },
        );
        st.databases
            .insert(id.to_string(), (db.data_sources.clone(), Instant::now()));
        Ok(db.data_sources)
    }

    /// Rows of a data source (sorted by creation, as the API has no default order), plus
    /// its `.schema.yaml`.
    async fn rows(&self, ds: &str) -> FsResult<Vec<ChildDesc>> {
        let body = json!({"sorts": [{"timestamp": "created_time", "direction": "ascending"}]});
        let rows = self.client.query(ds, body).await?;
        let mut st = self.state();
        let mut out = vec![ChildDesc {
            key: NodeKey::Schema(ds.to_string()),
            title: String::new(),
            created_time: String::new(),
            id: ds.to_string(),
            has_folder: false,
        }];
        for r in rows.iter().filter(|r| !r.in_trash && !r.archived) {
            let o = Obj::from_page(r);
            let mut d = Self::page_desc(&st, &o);
            d.has_folder |= !property_items(r).is_empty();
            out.push(d);
            st.objects.insert(r.id.clone(), o);
        }
        Ok(out)
    }

    /// A data source's schema (`GET /v1/data_sources/{id}` when stale).
    async fn schema(&self, ds: &str) -> FsResult<Arc<DataSource>> {
        if let Some((s, t)) = self.state().schemas.get(ds) {
            if t.elapsed() < self.settings.ttl {
                return Ok(s.clone());
            }
        }
        let s = Arc::new(self.client.data_source(ds).await?);
        let mut st = self.state();
        st.schemas
            .insert(ds.to_string(), (s.clone(), Instant::now()));
        st.objects
            .entry(ds.to_string())
            .or_insert_with(|| Obj::from_data_source(&s));
        Ok(s)
    }

    // ----- page bodies ------------------------------------------------------------------

    /// The current body of a page: cached if checked within the TTL, else revalidated or
    /// read again.
    async fn body(&self, id: &str) -> FsResult<Arc<Body>> {
        {
            let mut st = self.state();
            let has_items = st.items.contains_key(id);
            if let Some(b) = st.bodies.get(id) {
                if has_items && b.validated.elapsed() < self.settings.ttl {
                    return Ok(b);
                }
            }
        }
        self.load_page(id).await
    }

    /// Reads a page's blocks (unless the cached body is still current), names its folder,
    /// renders its body and caches both.
    async fn load_page(&self, id: &str) -> FsResult<Arc<Body>> {
        let flight = self.flight(format!("page:{id}"));
        let _g = flight.lock().await;
        let ttl = self.settings.ttl;
        let (obj, cached) = {
            let mut st = self.state();
            let cached = st.bodies.get(id).filter(|_| st.items.contains_key(id));
            (st.objects.get(id).cloned(), cached)
        };
        if let Some(b) = &cached {
            if b.validated.elapsed() < ttl {
                // Checked within the TTL (perhaps by another caller while we waited).
                let fresh_items = self
                    .state()
                    .items
                    .get(id)
                    .is_some_and(|(_, t)| t.elapsed() < ttl);
                if fresh_items {
                    return Ok(b.clone());
                }
            }
        }
        // Current metadata: from a listing or sweep within the TTL, else a sweep of what
        // changed, else one `GET /v1/pages/{id}`.
        let fresh = |o: &Obj| o.fetched.elapsed() < ttl && (!o.is_row() || o.page.is_some());
        let obj = match obj.filter(|o| fresh(o)) {
            Some(o) => o,
            None => {
                let swept = match self.sweep().await {
                    Ok(true) => self.state().objects.get(id).cloned().filter(|o| fresh(o)),
                    _ => None,
                };
                match swept {
                    Some(o) => o,
                    None => match self.client.page(id).await {
                        Ok(p) => {
                            let o = Obj::from_page(&p);
                            self.state().objects.insert(id.to_string(), o.clone());
                            o
                        }
                        Err(e) => {
                            if let Some(b) = cached {
                                tracing::warn!(page = %id, error = %e, "cannot revalidate a page; serving the cached body");
                                return Ok(b);
                            }
                            return Err(e.into());
                        }
                    },
                }
            }
        };
        if let Some(b) = &cached {
            // A child renamed in Notion does not touch this page's edit time, but its
            // `child_page` block (our link and folder entry) changed: read again then.
            if b.matches(&obj.last_edited_time) && !self.children_renamed(id) {
                let mut st = self.state();
                st.bodies.revalidated(id);
                if let Some((_, t)) = st.items.get_mut(id) {
                    *t = Instant::now();
                }
                return Ok(st.bodies.peek(id).unwrap_or_else(|| b.clone()));
            }
        }
        // A save accepted but not in Notion yet (its body left the memory cache, or it is
        // replayed from the journal after a restart) is what the file shows, never the
        // older content Notion or the disk cache hold: an edit made from that older view
        // would replace the save.
        let pending = match (cached.is_none(), self.writer.get()) {
            (true, Some(w)) => w.pending_body(id),
            _ => None,
        };
        if cached.is_none() && pending.is_none() {
            if let Some(b) = self.body_from_disk(id, &obj) {
                return Ok(b);
            }
        }
        let read_at = SystemTime::now();
        let blocks = match fetch_tree(&self.client, id, &self.permits).await {
            Ok(b) => b,
            Err(e) => {
                if let Some(b) = cached {
                    tracing::warn!(page = %id, error = %e, "cannot re-read a page; serving the cached body");
                    return Ok(b);
                }
                return Err(e.into());
            }
        };
        let mut items = derive_items(id, &blocks);
        if let Some(p) = &obj.page {
            items.extend(property_items(p));
        }
        let schema = match obj.parent.as_ref().and_then(|p| p.data_source_id.clone()) {
            Some(ds) => Some(self.schema(&ds).await?),
            None => None,
        };
        // Name the folder, then render the links into it.
        let mut paths = self.install_items(id, &obj.title, &items);
        let mut page = obj.page.clone();
        if let Some(p) = page.as_mut() {
            self.complete_row(p).await?;
            self.row_paths(id, p, &mut paths);
        }
        let mut data = render_page(page.as_ref(), schema.as_deref(), &blocks, &paths);
        if let Some(w) = self.writer.get() {
            let row = page.as_ref().zip(schema.as_deref());
            // Accepted content Notion does not hold yet (pending, or failed: refused
            // properties) stays what the file shows, and its diff base stays the blocks the
            // edit started from.
            // (The journal was read above when nothing was cached: not again.)
            let unsynced = match (&pending, cached.is_none()) {
                (Some(_), _) => true,
                (None, true) => w.unsynced_in_memory(id).unwrap_or(false),
                (None, false) => w.is_unsynced(id),
            };
            // After a save, the file keeps the user's bytes as long as Notion still means
            // the same (the rendering may normalize them differently).
            if let Some(p) = &pending {
                data = p.clone();
            }
            if let Some(c) = cached.as_ref().filter(|c| c.data.as_slice() != data) {
                let same = unsynced
                    || std::str::from_utf8(&c.data)
                        .is_ok_and(|t| same_file(t, row, &blocks, &paths));
                if same {
                    data = c.data.as_ref().clone();
                }
            }
            if let (Some(p), Some(s)) = (&page, &schema) {
                w.set_row(
                    id,
                    super::write::RowBase {
                        page: p.clone(),
                        schema: s.clone(),
                    },
                );
            }
            // Not for a save whose base is unknown: its push compares what the edit started
            // from with Notion (see `write`), which these blocks may no longer be.
            if !(unsynced && w.has_base(id)) && pending.is_none() {
                w.set_base(id, blocks.clone(), paths.clone());
                w.set_base_time(id, &obj.last_edited_time, read_at);
            }
        }
        let body = Arc::new(Body::new(data, obj.last_edited_time.clone()));
        if let Err(e) = self.disk.save(id, &body, &items, &paths) {
            tracing::warn!(page = %id, error = %e, "cannot write the disk cache");
        }
        let changed = cached.as_ref().is_some_and(|c| c.hash != body.hash);
        self.state().bodies.put(id.to_string(), body.clone());
        if changed {
            if let Some(ino) = self.inodes.find(&NodeKey::PageFile(id.to_string())) {
                self.invalidate(ino);
            }
        }
        Ok(body)
    }

    /// Whether a child page or database of `id` now has another title than its block had
    /// when the page was read (search and listings keep the objects' titles current).
    fn children_renamed(&self, id: &str) -> bool {
        let st = self.state();
        st.items
            .get(id)
            .is_some_and(|(items, _)| Self::renamed(&st, items))
    }

    fn renamed(st: &State, items: &[Item]) -> bool {
        items.iter().any(|it| match it {
            Item::ChildPage { id, title, .. } | Item::ChildDatabase { id, title, .. } => {
                st.objects.get(id).is_some_and(|o| &o.title != title)
            }
            Item::Attachment { .. } => false,
        })
    }

    /// A body from the disk cache, if it is still the page's content and links to the same
    /// paths as it would now.
    fn body_from_disk(&self, id: &str, obj: &Obj) -> Option<Arc<Body>> {
        let (meta, body) = self.disk.load(id)?;
        if !body.matches(&obj.last_edited_time) || Self::renamed(&self.state(), &meta.items) {
            return None;
        }
        let mut paths = self.install_items(id, &obj.title, &meta.items);
        if let Some(p) = &obj.page {
            self.row_paths(id, p, &mut paths);
        }
        if paths != meta.paths {
            return None;
        }
        let body = Arc::new(body);
        self.state().bodies.put(id.to_string(), body.clone());
        Some(body)
    }

    /// Records a page's items (child pages, databases, attachments), names its folder and
    /// returns the relative paths its body links to.
    fn install_items(&self, id: &str, title: &str, items: &[Item]) -> PathMap {
        let mut paths = PathMap::default();
        let stem = self.own_stem(id, title);
        {
            let mut st = self.state();
            let st = &mut *st;
            let now = Instant::now();
            let mut descs = Vec::new();
            for it in items {
                match it {
                    Item::ChildPage {
                        id: cid,
                        title,
                        created_time,
                        last_edited_time,
                    } => {
                        let o = st.objects.entry(cid.clone()).or_insert_with(|| Obj {
                            id: cid.clone(),
                            kind: ObjKind::Page,
                            title: title.clone(),
                            created_time: created_time.clone(),
                            last_edited_time: last_edited_time.clone(),
                            url: format!("https://www.notion.so/{}", cid.replace('-', "")),
                            parent: Some(crate::notion::model::Parent::page(id)),
                            page: None,
                            fetched: now,
                        });
                        o.title = title.clone();
                        let o = o.clone();
                        descs.push(Self::page_desc(st, &o));
                    }
                    Item::ChildDatabase {
                        id: cid,
                        title,
                        created_time,
                        last_edited_time,
                    } => {
                        st.objects.entry(cid.clone()).or_insert_with(|| Obj {
                            id: cid.clone(),
                            kind: ObjKind::Database,
                            title: title.clone(),
                            created_time: created_time.clone(),
                            last_edited_time: last_edited_time.clone(),
                            url: format!("https://www.notion.so/{}", cid.replace('-', "")),
                            parent: Some(crate::notion::model::Parent::page(id)),
                            page: None,
                            fetched: now,
                        });
                        descs.push(ChildDesc {
                            key: NodeKey::Database(cid.clone()),
                            title: title.clone(),
                            created_time: created_time.clone(),
                            id: cid.clone(),
                            has_folder: false,
                        });
                    }
                    Item::Attachment { name, source } => {
                        st.attachments
                            .insert(source.block_id.clone(), source.clone());
                        descs.push(ChildDesc {
                            key: NodeKey::Attachment(source.block_id.clone()),
                            title: name.clone(),
                            created_time: source.created_time.clone(),
                            id: source.block_id.clone(),
                            has_folder: false,
                        });
                    }
                }
            }
            st.items.insert(id.to_string(), (items.to_vec(), now));
            if !items.is_empty() {
                self.reveal_folder(st, id);
            }
            let dir = NodeKey::PageDir(id.to_string());
            let names = st.names.entry(dir.clone()).or_default();
            let entries = build_entries(names, &descs);
            for e in &entries {
                let block = match &e.key {
                    NodeKey::PageFile(c) | NodeKey::Database(c) | NodeKey::Attachment(c) => c,
                    _ => continue,
                };
                let path = format!("{stem}/{}", e.name);
                if matches!(e.key, NodeKey::Attachment(_)) {
                    if let Some(url) = st.attachments.get(block).and_then(|a| a.file.url()) {
                        paths.files.insert(url_key(url), path.clone());
                    }
                    paths.media.insert(block.clone(), path);
                } else {
                    paths.children.insert(block.clone(), path);
                }
            }
            st.listings.insert(
                dir,
                Listing {
                    entries,
                    fetched: now,
                },
            );
        }
        paths
    }

    /// Adds the folder `T/` of a page to the listing of the directory holding `T.md`, once
    /// reading the page showed it has children or attachments (its name was reserved when
    /// `T.md` was named, so nothing else is renamed).
    fn reveal_folder(&self, st: &mut State, id: &str) {
        let file = NodeKey::PageFile(id.to_string());
        let Some(dir) = self
            .inodes
            .find(&file)
            .and_then(|i| self.inodes.place(i))
            .and_then(|p| self.inodes.key(p.parent))
        else {
            return;
        };
        let Some(name) = st
            .names
            .get(&dir)
            .and_then(|n| n.names_of(&file).get(1).cloned())
        else {
            return;
        };
        let folder = NodeKey::PageDir(id.to_string());
        if let Some(l) = st.listings.get_mut(&dir) {
            if !l.entries.iter().any(|e| e.key == folder) {
                l.entries.push(ListEntry { name, key: folder });
                l.entries.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
    }

    /// The stem of a page's own name in its directory (its folder is `STEM/`).
    fn own_stem(&self, id: &str, title: &str) -> String {
        let key = NodeKey::PageFile(id.to_string());
        let st = self.state();
        self.inodes
            .find(&key)
            .and_then(|ino| self.inodes.place(ino))
            .and_then(|p| self.inodes.key(p.parent))
            .and_then(|dir| st.names.get(&dir).and_then(|n| n.stem_of(&key)))
            .unwrap_or_else(|| sanitize(title))
    }

    /// Relative paths of related rows that have been seen, for a row's front matter.
    fn row_paths(&self, id: &str, page: &Page, paths: &mut PathMap) {
        let Some(from) = self
            .inodes
            .find(&NodeKey::PageFile(id.to_string()))
            .and_then(|i| self.inodes.place(i))
            .and_then(|p| self.abs_dir(p.parent))
        else {
            return;
        };
        for v in page.properties.values() {
            let PropertyData::Relation(rel) = &v.data else {
                continue;
            };
            for r in rel {
                let rid = r.id.as_str();
                let target = self
                    .inodes
                    .find(&NodeKey::PageFile(rid.to_string()))
                    .and_then(|i| self.inodes.place(i))
                    .and_then(|p| Some((self.abs_dir(p.parent)?, p.name)));
                if let Some((dir, name)) = target {
                    paths
                        .rows
                        .insert(rid.to_string(), relative(&from, &dir, &name));
                }
            }
        }
    }

    /// Completes the properties retrieve-page cuts at 25 references (see [`complete_row`]).
    async fn complete_row(&self, page: &mut Page) -> FsResult<()> {
        Ok(complete_row(&self.client, page).await?)
    }

    /// Path components of a directory from the root.
    fn abs_dir(&self, mut ino: u64) -> Option<Vec<String>> {
        let mut parts = Vec::new();
        while ino != ROOT_INO {
            let p = self.inodes.place(ino)?;
            parts.push(p.name);
            ino = p.parent;
            if parts.len() > 256 {
                return None;
            }
        }
        parts.reverse();
        Some(parts)
    }

    // ----- open / read / release --------------------------------------------------------

    /// Opens a file for reading: renders or downloads its content first, so reads are exact.
    pub async fn open(&self, ino: u64, write: bool) -> FsResult<Opened> {
        let key = self.key(ino)?;
        if let NodeKey::Local(_) = key {
            return Ok(self.open_local(ino));
        }
        if write {
            return self.open_write(ino, &key).await;
        }
        let (handle, size, hash) = match &key {
            NodeKey::PageFile(id) => {
                let b = self.body(id).await?;
                (
                    Handle::Bytes(b.data.clone()),
                    b.data.len() as u64,
                    Some(b.hash),
                )
            }
            NodeKey::Schema(ds) => {
                let s = self.schema(ds).await?;
                let data = Arc::new(render_schema(&s));
                let hash = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
                    data.as_slice(),
                ))
                .into();
                let n = data.len() as u64;
                (Handle::Bytes(data), n, Some(hash))
            }
            NodeKey::Attachment(block) => {
                let src = self
                    .state()
                    .attachments
                    .get(block)
                    .cloned()
                    .ok_or(FsError::NotFound)?;
                let d = self.attachments.fetch(&self.client, &src).await?;
                (Handle::File(d.file.clone(), d.size), d.size, None)
            }
            _ => return Err(FsError::IsDir),
        };
        let mut st = self.state();
        // Direct I/O only when the kernel may hold a wrong size it believes: an unknown size
        // was handed out with no attribute cache, so the kernel asks again before reading
        // past it (and shared mmap keeps working for first reads).
        let direct_io = match st.reported.get(&ino) {
            Some((s, true)) => *s != size,
            Some((_, false)) => false,
            None => true,
        };
        let known_before = matches!(st.reported.get(&ino), Some((_, true)));
        let keep_cache = !direct_io
            && known_before
            && match hash {
                Some(h) => st.cached_hash.get(&ino) == Some(&h),
                None => true,
            };
        if let Some(h) = hash {
            st.cached_hash.insert(ino, h);
        }
        let fh = st.next_fh;
        st.next_fh += 1;
        st.handles.insert(fh, handle);
        drop(st);
        if direct_io {
            // Let the kernel learn the real size now rather than after its attribute TTL.
            // (Not for unknown sizes: the kernel asks anyway, and an invalidation racing
            // with that GETATTR makes the kernel drop its answer — a stale size under mmap.)
            self.invalidate(ino);
        }
        Ok(Opened {
            fh,
            direct_io,
            keep_cache,
        })
    }

    /// Reads up to `size` bytes at `offset` from an open handle (no network: `open` did it).
    pub fn read(&self, fh: u64, offset: u64, size: u32) -> FsResult<Vec<u8>> {
        let h = {
            let st = self.state();
            match st.handles.get(&fh) {
                Some(Handle::Bytes(b)) => Handle::Bytes(b.clone()),
                Some(Handle::File(f, n)) => Handle::File(f.clone(), *n),
                Some(Handle::Write(w)) => {
                    let start = (offset as usize).min(w.data.len());
                    let end = start.saturating_add(size as usize).min(w.data.len());
                    return Ok(w.data[start..end].to_vec());
                }
                Some(Handle::Local(i)) => {
                    let data = st.locals.get(i).map(|l| l.data.as_slice()).unwrap_or(&[]);
                    let start = (offset as usize).min(data.len());
                    let end = start.saturating_add(size as usize).min(data.len());
                    return Ok(data[start..end].to_vec());
                }
                None => return Err(FsError::BadHandle),
            }
        };
        match h {
            Handle::Write(_) | Handle::Local(_) => Err(FsError::BadHandle),
            Handle::Bytes(b) => {
                let start = (offset as usize).min(b.len());
                let end = start.saturating_add(size as usize).min(b.len());
                Ok(b[start..end].to_vec())
            }
            Handle::File(f, n) => {
                use std::os::unix::fs::FileExt;
                let want = (size as u64).min(n.saturating_sub(offset)) as usize;
                let mut buf = vec![0u8; want];
                let mut got = 0;
                while got < want {
                    let r = f.read_at(&mut buf[got..], offset + got as u64)?;
                    if r == 0 {
                        break;
                    }
                    got += r;
                }
                buf.truncate(got);
                Ok(buf)
            }
        }
    }

    /// Closes a handle.
    pub fn release(&self, fh: u64) {
        self.state().handles.remove(&fh);
    }

    // ----- extended attributes ------------------------------------------------------------

    /// Every extended attribute of `ino`, name and value.
    pub fn xattrs(&self, ino: u64) -> FsResult<Vec<(String, String)>> {
        // A conflict found since the last lookup shows its copy first.
        self.show_conflicts();
        let key = self.key(ino)?;
        let sync = match (&key, self.writer.get()) {
            (NodeKey::PageFile(id), Some(w)) => match w.state(id) {
                SyncState::Conflict(stamp) => {
                    let copy = self.conflict_copy(id, &stamp).unwrap_or_default();
                    let name = copy.rsplit('/').next().unwrap_or_default();
                    format!("conflict: {name}")
                }
                s => s.xattr(),
            },
            (NodeKey::Local(_), _) => self
                .uploads
                .sync_state(ino)
                .unwrap_or_else(|| "clean".to_string()),
            _ => "clean".to_string(),
        };
        let st = self.state();
        let mut out = Vec::new();
        if let (NodeKey::Root, Some(sock)) = (&key, self.control.get()) {
            out.push((
                "user.notionfs.control".to_string(),
                sock.to_string_lossy().into_owned(),
            ));
        }
        let mut push_obj = |id: &str, object: &str, url: String, edited: String| {
            out.push(("user.notion.id".to_string(), id.to_string()));
            out.push(("user.notion.url".to_string(), url));
            out.push(("user.notion.object".to_string(), object.to_string()));
            out.push(("user.notion.last_edited_time".to_string(), edited));
        };
        let obj_url = |o: &Obj| {
            if o.url.is_empty() {
                format!("https://www.notion.so/{}", o.id.replace('-', ""))
            } else {
                o.url.clone()
            }
        };
        match &key {
            NodeKey::Root | NodeKey::Local(_) => {}
            NodeKey::PageFile(id)
            | NodeKey::PageDir(id)
            | NodeKey::Database(id)
            | NodeKey::DataSource(id)
            | NodeKey::Schema(id) => {
                let o = st.objects.get(id);
                let kind = match &key {
                    NodeKey::Database(_) => "database",
                    NodeKey::DataSource(_) | NodeKey::Schema(_) => "data_source",
                    _ => o.map(|o| o.kind.as_str()).unwrap_or("page"),
                };
                push_obj(
                    id,
                    kind,
                    o.map(obj_url).unwrap_or_else(|| {
                        format!("https://www.notion.so/{}", id.replace('-', ""))
                    }),
                    o.map(|o| o.last_edited_time.clone()).unwrap_or_default(),
                );
            }
            NodeKey::Attachment(block) => {
                let src = st.attachments.get(block);
                let page_url = src
                    .and_then(|s| st.objects.get(&s.page_id))
                    .map(obj_url)
                    .unwrap_or_default();
                let edited = src.map(|s| s.last_edited_time.clone()).unwrap_or_default();
                match src.filter(|s| s.property.is_some()) {
                    // A file of a row's `files` property belongs to the row.
                    Some(s) => push_obj(&s.page_id, "page", page_url, edited),
                    None => push_obj(
                        block,
                        "block",
                        format!("{page_url}#{}", block.replace('-', "")),
                        edited,
                    ),
                }
            }
        }
        out.push(("user.notionfs.sync".to_string(), sync));
        Ok(out)
    }

    /// One extended attribute's value.
    pub fn getxattr(&self, ino: u64, name: &str) -> FsResult<Vec<u8>> {
        self.xattrs(ino)?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_bytes())
            .ok_or(FsError::NoAttr)
    }

    /// Names of the extended attributes, NUL-terminated and concatenated (listxattr format).
    pub fn listxattr(&self, ino: u64) -> FsResult<Vec<u8>> {
        let mut out = Vec::new();
        for (n, _) in self.xattrs(ino)? {
            out.extend_from_slice(n.as_bytes());
            out.push(0);
        }
        Ok(out)
    }

    /// Records where the mount's control socket listens (`user.notionfs.control` on the
    /// root, which `notionfs status` and `sync` read to find it).
    pub fn set_control_socket(&self, path: std::path::PathBuf) {
        let _ = self.control.set(path);
    }

    /// The path of a page's file relative to the mount root, if it is in the tree.
    pub fn page_path(&self, id: &str) -> Option<String> {
        let ino = self.inodes.find(&NodeKey::PageFile(id.to_string()))?;
        let place = self.inodes.place(ino)?;
        let mut parts = self.abs_dir(place.parent)?;
        parts.push(place.name);
        Some(parts.join("/"))
    }

    /// The path relative to the mount root of the conflict copy `T.conflict-STAMP.md` of
    /// page `id` (the file shown beside the page, else the name it gets), if the page is in
    /// the tree.
    pub fn conflict_copy(&self, id: &str, stamp: &str) -> Option<String> {
        let ino = self.inodes.find(&NodeKey::PageFile(id.to_string()))?;
        let place = self.inodes.place(ino)?;
        let suffix = format!(".conflict-{stamp}.md");
        let shown = self
            .state()
            .locals
            .values()
            .find(|l| l.parent == place.parent && l.name.ends_with(&suffix))
            .map(|l| l.name.clone());
        let name = shown.unwrap_or_else(|| {
            let stem = place.name.strip_suffix(".md").unwrap_or(&place.name);
            format!("{stem}{suffix}")
        });
        let mut parts = self.abs_dir(place.parent)?;
        parts.push(name);
        Some(parts.join("/"))
    }

    /// Bytes of rendered bodies held in memory.
    pub fn cache_bytes(&self) -> usize {
        self.state().bodies.bytes()
    }

    // ----- the write path ----------------------------------------------------------------

    /// Turns on the write path: saves are journaled under `journal_dir` and pushed `delay`
    /// after the last close. Without it (and on a read-only mount) every write is refused
    /// by [`FsCore::write_denied`].
    pub fn enable_writes(
        &self,
        journal_dir: &std::path::Path,
        delay: Duration,
    ) -> FsResult<Arc<Writer>> {
        if self.settings.read_only {
            return Err(FsError::ReadOnly("read-only mount"));
        }
        let disk = DiskCache::new(self.settings.cache_dir.join("bodies"))?;
        let w = Writer::new(self.client.clone(), journal_dir, delay, Some(disk))?;
        Ok(self.writer.get_or_init(|| w).clone())
    }

    /// The write-back engine, if writes are enabled.
    pub fn writer(&self) -> Option<&Arc<Writer>> {
        self.writer.get()
    }

    async fn open_write(&self, ino: u64, key: &NodeKey) -> FsResult<Opened> {
        if self.writer.get().is_none() {
            return Err(self.write_denied("open for writing"));
        }
        let NodeKey::PageFile(id) = key else {
            return Err(match key {
                NodeKey::Schema(_) | NodeKey::Attachment(_) => self.write_denied("write"),
                _ => FsError::IsDir,
            });
        };
        let b = self.body(id).await?;
        let o = self.open_handle(WriteBuf::handle(
            id.clone(),
            ino,
            b.data.as_ref().clone(),
            b.data.clone(),
        ));
        // Let the kernel learn the real size now.
        self.invalidate(ino);
        Ok(o)
    }

    /// Writes `data` at `offset` into an open write handle (local only until flush).
    pub fn write(&self, fh: u64, offset: u64, data: &[u8]) -> FsResult<u32> {
        let mut st = self.state();
        if let Some(Handle::Local(i)) = st.handles.get(&fh) {
            let i = *i;
            let l = st.locals.get_mut(&i).ok_or(FsError::NotFound)?;
            let off = usize::try_from(offset).map_err(|_| FsError::Range)?;
            let end = off.checked_add(data.len()).ok_or(FsError::Range)?;
            self.uploads.check_size(i, l.data.len().max(end) as u64)?;
            if l.data.len() < end {
                l.data.resize(end, 0);
            }
            l.data[off..end].copy_from_slice(data);
            l.mtime = SystemTime::now();
            return Ok(data.len() as u32);
        }
        let Some(Handle::Write(w)) = st.handles.get_mut(&fh) else {
            return Err(FsError::BadHandle);
        };
        let off = if w.append {
            w.data.len()
        } else {
            usize::try_from(offset).map_err(|_| FsError::Range)?
        };
        let end = off.checked_add(data.len()).ok_or(FsError::Range)?;
        if w.data.len() < end {
            w.data.resize(end, 0);
        }
        w.data[off..end].copy_from_slice(data);
        w.dirty = true;
        Ok(data.len() as u32)
    }

    /// Shows the conflicts the writer found: the local version as a local file
    /// `T.conflict-YYYYMMDD-HHMMSS.md` beside the page, and the page read from Notion again.
    /// Called on lookup, readdir, xattrs and by `notionfs status`.
    pub fn show_conflicts(&self) {
        self.apply_uploads();
        let Some(w) = self.writer.get() else { return };
        for c in w.take_conflicts() {
            let ino = self.inodes.find(&NodeKey::PageFile(c.page.clone()));
            let Some((ino, place)) = ino.and_then(|i| Some((i, self.inodes.place(i)?))) else {
                // Not looked up yet (a replay at mount time): shown once it is.
                w.requeue_conflict(c);
                continue;
            };
            let stem = place.name.strip_suffix(".md").unwrap_or(&place.name);
            let name = format!("{stem}.conflict-{}.md", c.stamp);
            tracing::warn!(file = %name, "conflict copy written");
            self.new_local(place.parent, &name, c.data);
            let mut st = self.state();
            // Read the page again on its next open (Notion's version).
            if let Some(old) = st.bodies.peek(&c.page) {
                let mut stale = Body::new(old.data.as_ref().clone(), String::new());
                stale.validated = Instant::now()
                    .checked_sub(self.settings.ttl * 2)
                    .unwrap_or(stale.validated);
                st.bodies.put(c.page.clone(), Arc::new(stale));
            }
            st.cached_hash.remove(&ino);
            drop(st);
            self.invalidate(ino);
        }
    }

    /// A new local (in-memory) file `name` in `parent` holding `data`; its inode.
    pub(super) fn new_local(&self, parent: u64, name: &str, data: Vec<u8>) -> u64 {
        let serial = {
            let mut st = self.state();
            st.next_local += 1;
            st.next_local
        };
        let ino = self.inodes.ino(
            &NodeKey::Local(serial),
            Some(Place {
                parent,
                name: name.to_string(),
            }),
        );
        self.state().locals.insert(
            ino,
            LocalFile {
                parent,
                name: name.to_string(),
                data,
                mtime: SystemTime::now(),
            },
        );
        ino
    }

    /// Whether `ino` is a local (in-memory) file: its mode and owner may be set (ignored).
    pub fn is_local(&self, ino: u64) -> bool {
        self.state().locals.contains_key(&ino)
    }

    fn local_ino(&self, parent: u64, name: &str) -> Option<u64> {
        self.state()
            .locals
            .iter()
            .find(|(_, l)| l.parent == parent && l.name == name)
            .map(|(i, _)| *i)
    }

    fn open_local(&self, ino: u64) -> Opened {
        self.open_handle(Handle::Local(ino))
    }

    /// Registers a handle whose content lives here (direct I/O: the kernel caches none of it).
    fn open_handle(&self, h: Handle) -> Opened {
        let mut st = self.state();
        let fh = st.next_fh;
        st.next_fh += 1;
        st.handles.insert(fh, h);
        Opened {
            fh,
            direct_io: true,
            keep_cache: false,
        }
    }

    /// Creates `name` in `parent` and opens it: editor droppings
    /// ([`super::write::is_dropping`]) live in memory only; `T.md` creates a page (a row in
    /// a data source folder; see [`ops`]); any other file in a page's
    /// folder becomes an attachment (see [`super::upload`]).
    pub async fn create(&self, parent: u64, name: &str) -> FsResult<(Attr, Opened)> {
        if self.writer.get().is_none() {
            return Err(self.write_denied("create"));
        }
        if !super::write::is_dropping(name) {
            if name.ends_with(".md") {
                return self.create_page_file(parent, name).await;
            }
            return self.create_attachment(parent, name).await;
        }
        if !self.key(parent)?.is_dir() {
            return Err(FsError::NotDir);
        }
        let ino = match self.local_ino(parent, name) {
            Some(i) => i,
            None => self.new_local(parent, name, Vec::new()),
        };
        let o = self.open_local(ino);
        Ok((self.getattr(ino)?, o))
    }

    /// Removes `name` from `parent`: a local file is dropped; a page's `T.md` moves the
    /// page to Notion's trash (its folder goes with it); an attachment's block is deleted.
    /// Anything else is refused.
    pub async fn unlink(&self, parent: u64, name: &str) -> FsResult<()> {
        // An upload that just finished is an attachment now.
        self.apply_uploads();
        if let Some(i) = self.local_ino(parent, name) {
            self.forget_attachment(i).await;
            self.state().locals.remove(&i);
            return Ok(());
        }
        if self.writer.get().is_none() {
            return Err(self.write_denied("unlink"));
        }
        let target = self.lookup(parent, name).await?;
        let page = match self.key(target.ino)? {
            NodeKey::PageFile(page) => page,
            NodeKey::Attachment(block) => {
                return self.remove_attachment(parent, name, &block).await
            }
            _ => return Err(self.write_denied("unlink of this entry")),
        };
        if let Some(w) = self.writer.get() {
            // A save still waiting for its push is moot: flush it first so nothing is lost
            // from the trashed page's history.
            w.push_page(&page).await;
        }
        self.client.trash_page(&page).await?;
        let dir = self.key(parent)?;
        self.unlist_page(&dir, &page);
        let parent_page = self
            .state()
            .objects
            .remove(&page)
            .and_then(|o| o.parent)
            .and_then(|p| p.page_id);
        // Its folder went with it (the kernel may hold that entry).
        if let Some(stem) = name.strip_suffix(".md") {
            self.invalidate_entry(parent, stem);
        }
        if let Some(pid) = parent_page {
            // The parent's body links to it.
            self.reread_later(&pid);
        }
        tracing::info!(page = %page, "moved to the trash");
        Ok(())
    }

    /// Renames a local file: to another dropping name, or over an existing page's `.md`
    /// (an editor's atomic save: a save of that page).
    pub async fn rename(
        &self,
        parent: u64,
        name: &str,
        new_parent: u64,
        new_name: &str,
    ) -> FsResult<()> {
        let Some(src) = self.local_ino(parent, name) else {
            if super::write::is_dropping(new_name) {
                return self.backup_page(parent, name, new_parent, new_name).await;
            }
            return self.rename_page(parent, name, new_parent, new_name).await;
        };
        if super::write::is_dropping(new_name) {
            if let Some(old) = self.local_ino(new_parent, new_name) {
                self.state().locals.remove(&old);
            }
            if let Some(l) = self.state().locals.get_mut(&src) {
                l.parent = new_parent;
                l.name = new_name.to_string();
            }
            return Ok(());
        }
        let target = match self.lookup(new_parent, new_name).await {
            // A temp file renamed onto a new `T.md`: a new page with that content.
            Err(FsError::NotFound) if new_name.ends_with(".md") => {
                return self.rename_local_to_new(src, new_parent, new_name).await;
            }
            t => t?,
        };
        let NodeKey::PageFile(page) = self.key(target.ino)? else {
            return Err(self.write_denied("rename over this entry"));
        };
        self.save_local_as(src, &page, target.ino).await
    }

    /// Saves the local file `src` as the content of `page` (file `ino`): journaled before
    /// this returns, the local file gone (its inode now names the page), the push scheduled.
    async fn save_local_as(&self, src: u64, page: &str, ino: u64) -> FsResult<()> {
        let base = self.body(page).await?.data.clone();
        let data = self
            .state()
            .locals
            .get(&src)
            .map(|l| l.data.clone())
            .ok_or(FsError::NotFound)?;
        self.accept(page, ino, data, base).await?;
        self.state().locals.remove(&src);
        self.aliases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(src, NodeKey::PageFile(page.to_string()));
        self.invalidate(src);
        if let Some(w) = self.writer.get() {
            w.schedule(page);
        }
        Ok(())
    }

    /// `mv T.md T.md~` (emacs's backup before a save): the backup becomes a local file
    /// holding the page's content and the page stays where it is, so the save that follows
    /// (`T.md` written anew) updates it rather than creating another page.
    async fn backup_page(
        &self,
        parent: u64,
        name: &str,
        new_parent: u64,
        new_name: &str,
    ) -> FsResult<()> {
        let src = self.lookup(parent, name).await?;
        let NodeKey::PageFile(page) = self.key(src.ino)? else {
            return Err(FsError::Unsupported(
                "rename of this entry to an editor's file name",
            ));
        };
        let data = self.body(&page).await?.data.as_ref().clone();
        if let Some(old) = self.local_ino(new_parent, new_name) {
            self.state().locals.remove(&old);
        }
        self.new_local(new_parent, new_name, data);
        // The kernel moved its entry for `T.md` to the new name: both are looked up again.
        self.invalidate_entry(parent, name);
        self.invalidate_entry(new_parent, new_name);
        tracing::debug!(page = %page, backup = %new_name, "local backup copy of a page");
        Ok(())
    }

    /// A local file renamed onto a new `T.md`: creates the page and saves the file's bytes
    /// as its content (journaled before this returns).
    async fn rename_local_to_new(&self, src: u64, new_parent: u64, new_name: &str) -> FsResult<()> {
        let stem = new_name.strip_suffix(".md").unwrap_or(new_name);
        if stem.is_empty() {
            return Err(FsError::BadName("a page needs a title before .md"));
        }
        if !self.state().locals.contains_key(&src) {
            return Err(FsError::NotFound);
        }
        let (page, ino) = self.create_page_in(new_parent, stem).await?;
        self.save_local_as(src, &page, ino).await
    }

    /// Marks a write handle as opened with `O_APPEND`.
    pub fn set_append(&self, fh: u64) -> FsResult<()> {
        match self.state().handles.get_mut(&fh) {
            Some(Handle::Write(w)) => {
                w.append = true;
                Ok(())
            }
            _ => Err(FsError::BadHandle),
        }
    }

    /// Sets the size of a file: of the handle `fh`, or of every write handle open on
    /// `ino` (`truncate(2)` on a path while it is open for writing, or `O_TRUNC`).
    pub fn truncate(&self, ino: u64, fh: Option<u64>, size: u64) -> FsResult<Attr> {
        if self.writer.get().is_none() {
            return Err(self.write_denied("truncate"));
        }
        let size = usize::try_from(size).map_err(|_| FsError::Range)?;
        {
            let mut st = self.state();
            if let Some(l) = st.locals.get_mut(&ino) {
                self.uploads.check_size(ino, size as u64)?;
                l.data.resize(size, 0);
                l.mtime = SystemTime::now();
                drop(st);
                return self.getattr(ino);
            }
            let mut hit = false;
            for (h, handle) in st.handles.iter_mut() {
                if let Handle::Write(w) = handle {
                    if w.ino == ino && fh.is_none_or(|f| f == *h) {
                        w.data.resize(size, 0);
                        w.dirty = true;
                        hit = true;
                    }
                }
            }
            if !hit {
                return Err(FsError::NotOpen);
            }
        }
        self.getattr(ino)
    }

    /// `truncate(2)` of a page's file nobody has open for writing: a save of the cut (or
    /// zero-extended) content, journaled before this returns and pushed after the quiet
    /// period like any other.
    pub async fn truncate_closed(&self, ino: u64, size: u64) -> FsResult<Attr> {
        match self.truncate(ino, None, size) {
            Err(FsError::NotOpen) => {}
            other => return other,
        }
        let size = usize::try_from(size).map_err(|_| FsError::Range)?;
        let NodeKey::PageFile(page) = self.key(ino)? else {
            return Err(match self.key(ino)? {
                k if k.is_dir() => FsError::IsDir,
                _ => self.write_denied("truncate"),
            });
        };
        let base = self.body(&page).await?.data.clone();
        let mut data = base.as_ref().clone();
        data.resize(size, 0);
        if data != *base {
            self.accept(&page, ino, data, base).await?;
            if let Some(w) = self.writer.get() {
                w.schedule(&page);
            }
        }
        self.getattr(ino)
    }

    /// Makes what was written through `fh` durable (journal, fsync'd) and shows it as the
    /// file's content; returns once it is on disk (`flush` on close, and `fsync`).
    pub async fn flush(&self, fh: u64) -> FsResult<()> {
        if let Some(ino) = self.staged_handle(fh) {
            return self.flush_attachment(ino).await;
        }
        let (page, ino, data, base) = {
            let st = self.state();
            match st.handles.get(&fh) {
                Some(Handle::Write(w)) if w.dirty => {
                    (w.page.clone(), w.ino, w.data.clone(), w.base.clone())
                }
                Some(_) => return Ok(()),
                None => return Err(FsError::BadHandle),
            }
        };
        self.accept(&page, ino, data.clone(), base).await?;
        let mut st = self.state();
        if let Some(Handle::Write(w)) = st.handles.get_mut(&fh) {
            // Only what this flush wrote is clean; later writes stay dirty.
            if w.data == data {
                w.dirty = false;
            }
            w.saved = true;
        }
        Ok(())
    }

    /// Journals `data` as the new body of `page` (durable when this returns) and shows it
    /// as the file's content.
    async fn accept(
        &self,
        page: &str,
        ino: u64,
        data: Vec<u8>,
        base: Arc<Vec<u8>>,
    ) -> FsResult<()> {
        let Some(writer) = self.writer.get().cloned() else {
            return Err(self.write_denied("save"));
        };
        let (p, d) = (page.to_string(), data.clone());
        tokio::task::spawn_blocking(move || writer.record(&p, &d, &base))
            .await
            .map_err(|e| FsError::Io(std::io::Error::other(e)))??;
        let mut st = self.state();
        let page = page.to_string();
        let edited = st
            .bodies
            .peek(&page)
            .map(|b| b.last_edited_time.clone())
            .unwrap_or_default();
        let body = Arc::new(Body::new(data, edited));
        st.reported.insert(ino, (body.data.len() as u64, true));
        // The kernel may cache the old pages: the next open must not keep them.
        st.cached_hash.remove(&ino);
        st.bodies.put(page, body);
        drop(st);
        self.invalidate(ino);
        Ok(())
    }

    /// Closes a handle; a write handle is flushed first and its page's push scheduled.
    pub async fn close(&self, fh: u64) -> FsResult<()> {
        let staged = self.staged_handle(fh);
        let res = self.flush(fh).await;
        if let Some(ino) = staged.filter(|_| res.is_ok()) {
            self.start_attachment(ino);
        }
        let h = self.state().handles.remove(&fh);
        if let (Some(Handle::Write(w)), Some(writer)) = (h, self.writer.get()) {
            if w.saved {
                writer.schedule(&w.page);
            }
        }
        res
    }
}

/// Completes the properties retrieve-page cuts at 25 references, with the property item
/// endpoint (only for properties that may be cut).
pub(super) async fn complete_row(client: &Client, page: &mut Page) -> Result<(), ApiError> {
    for (name, prop_id) in frontmatter::needs_full_items(page) {
        let mut pages = Vec::new();
        let mut cursor = None;
        loop {
            let v = client
                .page_property(&page.id, &prop_id, cursor.take())
                .await?;
            let item: PropertyItemResponse =
                serde_json::from_value(v).map_err(|e| ApiError::Decode {
                    endpoint: "GET /v1/pages/{id}/properties/{property_id}".into(),
                    reason: e.to_string(),
                })?;
            let next = match &item {
                PropertyItemResponse::List(l) if l.has_more => l.next_cursor.clone(),
                _ => None,
            };
            pages.push(item);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        if let Err(e) = frontmatter::apply_full_items(page, &name, &pages) {
            tracing::warn!(page = %page.id, property = %name, error = %e, "cannot complete a property");
        }
    }
    Ok(())
}

/// Whether a saved file `text` means what Notion holds: for a row, no property to change
/// or refuse and the same blocks; for a page, the same blocks.
fn same_file(
    text: &str,
    row: Option<(&Page, &DataSource)>,
    blocks: &[crate::notion::model::Block],
    paths: &PathMap,
) -> bool {
    let body = match row {
        // A row's file shows its properties: bytes without front matter (a page's, before
        // it moved into a data source, or a body-only save) are not its whole file.
        Some(_) if !text.starts_with("---") => return false,
        Some((page, schema)) => match frontmatter::parse(text, page, schema, paths) {
            Ok(p) if p.changes.is_empty() && p.refused.is_empty() => p.body,
            _ => return false,
        },
        None => text.to_string(),
    };
    crate::sync::same_content(blocks, &super::render::parse_body(&body, paths, blocks))
}

/// A digest of a listing's entries (names and identities).
fn digest(l: &Listing) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for e in &l.entries {
        e.name.hash(&mut h);
        e.key.hash(&mut h);
    }
    h.finish()
}

/// `dir/name` relative to the directory `from` (both as components from the root).
fn relative(from: &[String], dir: &[String], name: &str) -> String {
    let common = from.iter().zip(dir).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> =
        std::iter::repeat_n("..".to_string(), from.len() - common).collect();
    parts.extend(dir[common..].iter().cloned());
    parts.push(name.to_string());
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            relative(&v(&["A", "Tasks"]), &v(&["A", "Tasks"]), "x.md"),
            "x.md"
        );
        assert_eq!(
            relative(&v(&["A", "Tasks"]), &v(&["B"]), "y.md"),
            "../../B/y.md"
        );
        assert_eq!(relative(&v(&[]), &v(&["B"]), "y.md"), "B/y.md");
    }

    #[test]
    fn times_parse() {
        assert_eq!(
            time_of("1970-01-01T00:01:00.000Z"),
            SystemTime::UNIX_EPOCH + Duration::from_secs(60)
        );
        assert_eq!(time_of("garbage"), SystemTime::UNIX_EPOCH);
    }
}
