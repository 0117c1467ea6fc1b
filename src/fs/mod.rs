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

pub mod attach;
mod attach_glue;
pub mod content;
pub mod error;
mod handles;
pub mod inode;
mod listing;
mod lookup;
pub mod names;
mod namespace;
mod overlay;
mod page;
pub mod render;
pub mod tree;
mod xattr;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;

use attach::Attachments;
use content::{BodyCache, DiskCache};
use handles::Handle;
use inode::Inodes;
use names::NameTable;
use overlay::LocalFile;
use tree::{AttachmentSource, ChildrenIndex, Item, Listing, Obj};

use crate::notion::model::{DataSource, DataSourceRef};
use crate::notion::Client;
use crate::writeback::Writer;

pub use attach::create_private_dir;
pub use error::{FsError, FsResult};
pub use handles::Opened;
pub use inode::{NodeKey, ROOT_INO};
pub use lookup::{Attr, DirEntry, FileKind};

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

/// Receives the kernel cache invalidations the core wants (the adapter forwards them to
/// the kernel, off the request thread).
pub trait Invalidate: Send + Sync {
    /// Attributes and data of `ino` changed.
    fn inode(&self, ino: u64);
    /// The entry `name` of the directory `parent` is gone or is now another object (the
    /// kernel may have cached it).
    fn entry(&self, _parent: u64, _name: &str) {}
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
    uploads: crate::writeback::upload::Uploads,
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
