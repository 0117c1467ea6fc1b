//! The filesystem core: a Notion workspace as a tree of Markdown files, independent of
//! FUSE (the adapter is [`crate::fuse`]; tests drive the core directly). Layout, naming,
//! sizes and freshness are described for users in notionfs(1) and notionfs(5).
//!
//! - [`FsCore`] owns the state below and the single refusal point of writes
//!   ([`FsCore::writer`], EROFS when writes are off; [`FsCore::unsupported`], EPERM for
//!   what Notion cannot hold). Every failure is a typed [`FsError`], mapped to an errno in
//!   one place ([`FsError::errno`]).
//! - `lookup` / `listing` / `page`: finding entries, listing directories (root, databases,
//!   data sources from search and queries) and reading page bodies (blocks -> Markdown,
//!   naming the page's folder on the way).
//! - `handles`: open files (read handles, write buffers, overlay handles); `setattr`:
//!   size, mode and owner changes and `access`; `xattr`: extended attributes.
//! - `namespace`: create, mkdir, rmdir, rename/move, unlink; `overlay`: files that live in
//!   memory only (editor droppings, conflict copies); [`attachments`]: hosted files
//!   downloaded for reading, and copies into a page's folder handed to the uploader.
//! - [`tree`], [`names`], [`inode`]: what is where, how it is named, stable inode numbers;
//!   [`content`]: the body caches (memory LRU, disk); [`render`]: the codecs' glue.
//!
//! # Freshness
//! Directory listings and object metadata are fresh for `ttl`; after that the next look
//! reads them again (a failed refresh keeps serving the old listing and logs why). Page
//! bodies are read on `open` (never by `lookup`/`getattr`/`readdir`), cached in a byte-bounded
//! LRU and on disk (a remount serves unchanged pages without reading their blocks), and
//! revalidated after `ttl` against the page's `last_edited_time` — with Notion's minute
//! rounding taken into account (see [`content::Body::matches`]). Finding what changed costs
//! one search sorted by `last_edited_time` that stops past the last check (the sweep), not
//! one call per page; a page search cannot vouch for is asked for directly.
//!
//! If Notion cannot be reached, what is cached keeps being served (and the failure logged);
//! what is not fails with EIO.
//!
//! # Sizes
//! A `.md` file's size is exact once its body has been rendered, or when the disk cache
//! holds its rendering at the page's current edit time (its index is in memory and saved
//! with the tree snapshot, so `ls -l` is exact after a remount before any page is read).
//! Otherwise — never rendered, or rendered but made stale by the feed — `getattr` reports
//! 0 (or the old size) and marks the size unknown ([`Attr::size_known`]), so the adapter
//! gives the kernel no attribute cache for it: the kernel asks again before reading past
//! that size. Exact sizes are cached by the kernel until the mount invalidates them
//! ([`kernel`]).
//! `open` renders the body before it returns (fetch on open), so that next `getattr` is
//! exact. When the kernel holds a size it believes but which is now wrong (the page changed
//! in Notion since), `open` asks for direct I/O ([`Opened::direct_io`]): reads then go to
//! [`FsCore::read`] and end at the true end of the file. Either way `cat`, `cp`, `grep` and
//! editors get the whole, exact content, and files whose size the kernel knows are read
//! through the page cache (fast warm `grep -r`, and `mmap` works).
//!
//! # Locks
//! Taken in this order and never the other way round:
//! 1. the async single-flight locks, held across awaits: a directory's listing, the crawl,
//!    the feed's poll, a page's load (`Flight`);
//! 2. `state` (a std mutex: held for short updates only — no await, no I/O, no API call);
//! 3. leaves, taken alone or under `state`, never holding another lock: the inode table,
//!    the attachments' download table, the uploads' staging table, `aliases`, the log of
//!    local tree changes (`local`), the `flights` map, `invalidator`.
//!
//! The rekey gate ([`offline`]: an async read-write lock) comes before all of these: a
//! create's answer moves a page to Notion's id with it held for writing; saves, `rm`, `mv`
//! and creates of pages with local ids hold it for reading, never twice in one task (a
//! waiting writer would block the second read).
//!
//! The writer's locks (its page states and push locks, see [`crate::writeback`]) are never
//! held while the core's are taken, nor the core's while the writer's are. Journal and
//! disk-cache I/O runs on blocking threads (`spawn_blocking`), never under a lock readers
//! need.

pub mod attachments;
pub mod content;
pub mod error;
mod feed;
mod handles;
pub mod inode;
pub mod kernel;
mod known;
mod listing;
mod lookup;
pub mod names;
mod namespace;
pub mod offline;
mod overlay;
mod page;
pub mod prefetch;
pub mod render;
mod setattr;
mod snapshot;
pub mod tree;
mod xattr;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;

use attachments::Attachments;
use content::{BodyCache, DiskCache};
use handles::Handle;
use inode::Inodes;
use names::NameTable;
use overlay::LocalFile;
use tree::{AttachmentSource, ChildrenIndex, Item, Listing, Obj};

use crate::notion::model::{DataSource, DataSourceRef};
use crate::notion::Client;
use crate::writeback::Writer;

pub use attachments::create_private_dir;
pub use error::{FsError, FsResult};
pub use feed::FeedStatus;
pub use handles::Opened;
pub use inode::{NodeKey, ROOT_INO};
pub use lookup::{Attr, DirEntry, FileKind};
pub use setattr::AttrChange;

/// How the core behaves.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How often the change feed polls Notion (`--ttl`).
    pub ttl: Duration,
    /// How often one folder in use is reconciled with Notion (`--reconcile`; zero: never).
    pub reconcile: Duration,
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

/// Receives the kernel cache invalidations the core wants (the adapter forwards them to
/// the kernel, off the request thread).
pub trait Invalidate: Send + Sync {
    /// Attributes and data of `ino` changed.
    fn inode(&self, ino: u64);
    /// The entry `name` of the directory `parent` is gone or is now another object (the
    /// kernel may have cached it).
    fn entry(&self, _parent: u64, _name: &str) {}
}

/// Everything the core knows, behind one mutex ([`FsCore`]'s `state`; see "Locks").
struct State {
    /// Pages, databases and data sources known (crawl, feed, reads), by id: the source of
    /// truth listings are built from (see `known`).
    objects: HashMap<String, Obj>,
    /// For each parent id, the ids of the objects known under it.
    children: ChildrenIndex,
    /// Whether the workspace was crawled (or a snapshot of a crawl restored).
    crawled: bool,
    /// Whether what is known is current: false after a restore from a snapshot until the
    /// feed's first poll.
    caught_up: bool,
    /// Pages created through this mount (kept when a crawl does not see them yet).
    made_here: HashSet<String>,
    /// Built listings of directories (see `listing`).
    listings: HashMap<NodeKey, Arc<Listing>>,
    /// Listings a change made stale: rebuilt on their next look.
    stale: HashSet<NodeKey>,
    /// Each directory's sticky names (an entry keeps its name while it exists).
    names: HashMap<NodeKey, NameTable<NodeKey>>,
    /// A database's data sources.
    databases: HashMap<String, Vec<DataSourceRef>>,
    /// A data source's schema.
    schemas: HashMap<String, Arc<DataSource>>,
    /// A page's child pages, databases and attachments, from its blocks as last read.
    items: HashMap<String, Vec<Item>>,
    /// The change feed's state.
    feed: feed::FeedState,
    /// When the snapshot of this state was last written to the cache dir.
    snapshot: snapshot::SnapshotState,
    /// Hosted files shown as attachments, by block id (or row file id).
    attachments: HashMap<String, AttachmentSource>,
    /// Rendered bodies in memory (LRU bounded in bytes).
    bodies: BodyCache,
    /// Size last handed to the kernel, by inode.
    reported: HashMap<u64, Reported>,
    /// Hash of the content the kernel's page cache may hold, by inode.
    cached_hash: HashMap<u64, [u8; 32]>,
    /// Open file handles.
    handles: HashMap<u64, Handle>,
    /// The next file handle number.
    next_fh: u64,
    /// Digest of the listing the kernel last got for a directory inode (it may cache it).
    dir_served: HashMap<u64, u64>,
    /// Set when the kernel keeps listings without asking (no `OPENDIR`): the listings
    /// marked stale since they were last pushed (see [`FsCore::push_listings`]).
    push_listings: Option<ListingPush>,
    /// Editor droppings and conflict copies kept in memory only, by inode.
    locals: HashMap<u64, LocalFile>,
    /// The serial of the last local file made.
    next_local: u64,
    /// Objects found gone (trashed here or reported gone): a body read before, such as a
    /// parent's rendering in the disk cache, does not bring them back as unknown children.
    gone: HashSet<String>,
    /// Pages whose folder `T/` is shown although it may be empty: someone `mkdir`ed it, or
    /// its last child moved away. `rmdir` hides it again.
    made_dirs: HashSet<String>,
}

/// Listings marked stale that the kernel may hold without asking, waiting to be pushed
/// to it (see [`FsCore::push_listings`]): only what changed is looked at.
struct ListingPush {
    /// Wakes the task that pushes them.
    notify: Arc<tokio::sync::Notify>,
    /// Marked stale since the last push.
    dirtied: HashSet<NodeKey>,
}

/// The filesystem core. Async methods run on a tokio runtime; the FUSE adapter calls them
/// from its own threads (see [`crate::fuse`]). Lock order: see the module doc.
pub struct FsCore {
    /// The Notion API (its counters tell the API cost of operations).
    client: Client,
    /// How the core behaves.
    settings: Settings,
    /// Stable inode numbers and where each inode is (a leaf lock).
    inodes: Inodes,
    /// Everything else the core knows (lock level 2).
    state: Mutex<State>,
    /// Bounds the API requests of one page read in flight at once.
    permits: Semaphore,
    /// Single-flight locks (lock level 1), by what they serialize; the map itself is a leaf.
    flights: Mutex<HashMap<Flight, Arc<tokio::sync::Mutex<()>>>>,
    /// Downloaded attachments in the cache dir (a leaf lock inside).
    attachments: Attachments,
    /// Rendered bodies on disk.
    disk: DiskCache,
    /// Where kernel invalidations go (a leaf lock).
    invalidator: Mutex<Option<Arc<dyn Invalidate>>>,
    /// When the mount started (times of entries that have none in Notion).
    started: SystemTime,
    /// The write-back engine, once writes are enabled.
    writer: std::sync::OnceLock<Arc<Writer>>,
    /// Inodes of local files renamed over a page: the kernel keeps using them for the page
    /// (a leaf lock).
    aliases: Mutex<HashMap<u64, NodeKey>>,
    /// The mount's control socket, shown as `user.notionfs.control` on the root.
    control: std::sync::OnceLock<std::path::PathBuf>,
    /// Files copied into page folders, on their way to becoming attachments (a leaf lock
    /// inside).
    uploads: crate::writeback::upload::Uploads,
    /// Tree changes only this mount knows of, since the last snapshot (a leaf lock inside).
    local: Arc<snapshot::LocalLog>,
    /// Namespace operations waiting for Notion: id mappings and the sender (leaf locks
    /// inside).
    offline: Arc<offline::Offline>,
}

/// The size of a file last handed to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reported {
    /// Bytes.
    size: u64,
    /// Exact (the kernel caches it for the attribute TTL), or unknown yet (reported as 0,
    /// and the kernel asks again at once).
    exact: bool,
}

/// What a single-flight lock serializes (taken in this order: `Dir`, `Crawl`, `Feed`,
/// `Page`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Flight {
    /// One listing of a directory at a time.
    Dir(NodeKey),
    /// One crawl of the workspace at a time.
    Crawl,
    /// One poll of the change feed at a time.
    Feed,
    /// One load of a page at a time.
    Page(String),
}

/// The part of `--cache-size` for versions of pages in memory (the bases of saves); the
/// rest is for rendered bodies.
fn versions_share(cache_size: usize) -> usize {
    cache_size / 4
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

impl FsCore {
    /// A core reading through `client`.
    pub fn new(client: Client, settings: Settings) -> FsResult<FsCore> {
        let attachments = Attachments::new(settings.cache_dir.join("attachments"))?;
        let disk = DiskCache::new(settings.cache_dir.join("bodies"))?;
        let uploads = crate::writeback::upload::Uploads::new(settings.cache_dir.join("uploads"))?;
        let local = Arc::new(snapshot::LocalLog::new(&settings.cache_dir));
        let offline = Arc::new(offline::Offline::new(&settings.cache_dir));
        Ok(FsCore {
            client,
            inodes: Inodes::new(),
            state: Mutex::new(State {
                objects: HashMap::new(),
                children: ChildrenIndex::new(),
                crawled: false,
                caught_up: false,
                made_here: HashSet::new(),
                listings: HashMap::new(),
                stale: HashSet::new(),
                names: HashMap::new(),
                databases: HashMap::new(),
                schemas: HashMap::new(),
                items: HashMap::new(),
                attachments: HashMap::new(),
                bodies: BodyCache::new(settings.cache_size - versions_share(settings.cache_size)),
                reported: HashMap::new(),
                cached_hash: HashMap::new(),
                handles: HashMap::new(),
                next_fh: 1,
                feed: feed::FeedState::default(),
                snapshot: snapshot::SnapshotState::default(),
                dir_served: HashMap::new(),
                push_listings: None,
                locals: HashMap::new(),
                next_local: 1,
                made_dirs: HashSet::new(),
                gone: HashSet::new(),
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
            local,
            offline,
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

    fn flight(&self, key: Flight) -> Arc<tokio::sync::Mutex<()>> {
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

    /// Every refused modification ends here (EROFS): a read-only mount (or a core whose
    /// write path was not enabled), or a write to an entry that cannot take one.
    pub fn write_denied(&self, op: &'static str) -> FsError {
        FsError::ReadOnly(op)
    }

    /// The guard of every modification: the write-back engine, or EROFS (through
    /// [`FsCore::write_denied`]) when writes are off.
    pub fn writer(&self, op: &'static str) -> FsResult<&Arc<Writer>> {
        self.writer.get().ok_or_else(|| self.write_denied(op))
    }

    /// The write-back engine if writes are on: reads keep its bookkeeping (the blocks a
    /// file was rendered from, the bytes a pending save shows) and `status` reports it.
    pub fn write_back(&self) -> Option<&Arc<Writer>> {
        self.writer.get()
    }

    /// An operation Notion has no counterpart for: EPERM once writes are on (the mount is
    /// writable, this just cannot be done), EROFS otherwise.
    pub fn unsupported(&self, op: &'static str) -> FsError {
        match self.writer(op) {
            Ok(_) => FsError::Unsupported(op),
            Err(e) => e,
        }
    }

    /// Bytes of rendered bodies held in memory.
    pub fn cache_bytes(&self) -> usize {
        self.state().bodies.bytes()
    }

    /// Turns on the write path: saves are journaled under `journal_dir` and pushed `delay`
    /// after the last close. Without it (and on a read-only mount) every write is refused
    /// by [`FsCore::write_denied`].
    pub fn enable_writes(
        &self,
        journal_dir: &std::path::Path,
        delay: Duration,
    ) -> FsResult<Arc<Writer>> {
        if self.settings.read_only {
            return Err(self.write_denied("read-only mount"));
        }
        // The core's own: what the writer drops leaves the index too.
        let disk = self.disk.clone();
        let w = Writer::new(
            self.client.clone(),
            journal_dir,
            delay,
            Some(disk),
            versions_share(self.settings.cache_size),
        )?;
        Ok(self.writer.get_or_init(|| w).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse() {
        assert_eq!(
            time_of("1970-01-01T00:01:00.000Z"),
            SystemTime::UNIX_EPOCH + Duration::from_secs(60)
        );
        assert_eq!(time_of("garbage"), SystemTime::UNIX_EPOCH);
    }
}
