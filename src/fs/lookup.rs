//! Finding entries and their attributes: `lookup`, `getattr`, `opendir`, `readdir`, from
//! local state (a listing is read from Notion only when it was never read or is stale).

use std::sync::Arc;
use std::time::SystemTime;

use super::error::{FsError, FsResult};
use super::handles::Handle;
use super::inode::{NodeKey, Place, ROOT_INO};
use super::listing::digest;
use super::render::render_schema;
use super::tree::{Listing, Obj};
use super::{time_of, FsCore, Reported};

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

/// File or directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
}

impl FsCore {
    /// Finds `name` in the directory `parent`.
    pub async fn lookup(&self, parent: u64, name: &str) -> FsResult<Attr> {
        self.catch_up();
        if let Some(ino) = self.local_ino(parent, name) {
            return self.getattr(ino);
        }
        let dir = self.key(parent)?;
        if !dir.is_dir() {
            return Err(FsError::NotDir);
        }
        let mut listing = self.listing(&dir).await?;
        if listing.get(name).is_none() {
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
        let e = listing.get(name).ok_or(FsError::NotFound)?;
        let ino = self.inodes.ino(
            &e.key,
            Some(Place {
                parent,
                name: e.name.clone(),
            }),
        );
        Ok(self.attr_for_kernel(ino, &e.key))
    }

    /// The page whose reserved, not yet shown folder name is `name` in `dir`, if its blocks
    /// have not been read (so whether the folder exists is unknown).
    pub(super) fn unrevealed_folder(
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
        Ok(self.attr_for_kernel(ino, &key))
    }

    /// Opening a directory: whether the kernel may keep the listing it cached (no change
    /// made the listing stale, and it is the one the kernel got), so `readdir` need not be
    /// asked again.
    pub fn opendir(&self, ino: u64) -> FsResult<bool> {
        let key = self.key(ino)?;
        if !key.is_dir() {
            return Err(FsError::NotDir);
        }
        let Some(listing) = self.current_listing(&key) else {
            return Ok(false);
        };
        let st = self.state();
        let current = served_digest(&st, ino, &listing);
        Ok(st.dir_served.get(&ino) == Some(&current))
    }

    /// For a kernel that opens directories without asking (so `opendir` cannot tell it a
    /// listing it cached is stale): from now on, whenever a listing the kernel was served is
    /// marked stale, the kernel is told to drop it at once, and reads it again (rebuilt, as
    /// `opendir` would have made it) on its next look. Runs on `rt` while the core lives.
    pub fn push_listings(self: &Arc<Self>, rt: &tokio::runtime::Handle) {
        let notify = Arc::new(tokio::sync::Notify::new());
        self.state().push_listings = Some(super::ListingPush {
            notify: notify.clone(),
            dirtied: Default::default(),
        });
        let core = Arc::downgrade(self);
        rt.spawn(async move {
            loop {
                notify.notified().await;
                let Some(core) = core.upgrade() else { return };
                core.drop_stale_listings();
            }
        });
    }

    /// Tells the kernel to drop each listing marked stale since the last push that it was
    /// served and that is still stale and changed: one that can be built from what is
    /// known is rebuilt and compared with what the kernel got (as `opendir` would); one
    /// that needs a fetch is dropped (the kernel's next look fetches it).
    fn drop_stale_listings(&self) {
        let stale: Vec<(NodeKey, u64)> = {
            let mut guard = self.state();
            let st = &mut *guard;
            let dirtied = st
                .push_listings
                .as_mut()
                .map(|p| std::mem::take(&mut p.dirtied))
                .unwrap_or_default();
            dirtied
                .into_iter()
                .filter(|k| st.stale.contains(k))
                .filter_map(|k| self.inodes.find(&k).map(|i| (k, i)))
                .filter(|(_, ino)| st.dir_served.contains_key(ino))
                .collect()
        };
        for (key, ino) in stale {
            let current = self.loaded(&key).then(|| {
                let l = self.rebuild_listing(&key);
                served_digest(&self.state(), ino, &l)
            });
            let mut st = self.state();
            if current.is_some() && st.dir_served.get(&ino) == current.as_ref() {
                continue;
            }
            st.dir_served.remove(&ino);
            drop(st);
            self.invalidate(ino);
        }
    }

    /// The entries of the directory `ino` (without `.` and `..`).
    pub async fn readdir(&self, ino: u64) -> FsResult<Vec<DirEntry>> {
        let key = self.key(ino)?;
        if !key.is_dir() {
            return Err(FsError::NotDir);
        }
        let listing = self.listing(&key).await?;
        self.catch_up();
        let mut st = self.state();
        let served = served_digest(&st, ino, &listing);
        st.dir_served.insert(ino, served);
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

    /// The attributes of `ino` as they are handed to the kernel: the file size given is
    /// recorded (`open` compares it with the content to decide on direct I/O).
    pub(super) fn attr_for_kernel(&self, ino: u64, key: &NodeKey) -> Attr {
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
                // A body the feed made stale keeps its old size, but not as exact: the
                // kernel asks again at each `stat` until the page is read again.
                let memory = st.bodies.peek(id).map(|b| (b.data.len() as u64, !b.stale));
                let (size, known) = match (writing, memory) {
                    (Some(n), _) => (n, true),
                    (None, Some(m)) => m,
                    (None, None) => self.disk_size(&st, id).map_or((0, false), |n| (n, true)),
                };
                (FileKind::File, size, known, times(st.objects.get(id)))
            }
            NodeKey::Schema(ds) => {
                let size = st.schemas.get(ds).map(|s| render_schema(s).len() as u64);
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
                    .map(|l| (l.len(), l.mtime))
                    .unwrap_or((0, self.started));
                (FileKind::File, size, true, (t, t))
            }
        };
        if kind == FileKind::File {
            st.reported.insert(ino, Reported { size, exact: known });
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
}

impl FsCore {
    /// The size of page `id`'s rendering in the disk cache, if it is still the page's
    /// content: the page's edit time is the one it was rendered at, and no change (a child
    /// renamed, a schema changed) made it stale since. The disk index is a leaf lock.
    pub(super) fn disk_size(&self, st: &super::State, id: &str) -> Option<u64> {
        let o = st.objects.get(id)?;
        if st.bodies.expired(id) {
            return None;
        }
        self.disk
            .cached(id)
            .filter(|c| c.current(&o.last_edited_time))
            .map(|c| c.size)
    }
}

/// A digest of what `readdir` of `ino` hands the kernel: the listing and the local files in
/// the directory (a conflict copy or an editor's file appearing changes it).
fn served_digest(st: &super::State, ino: u64, listing: &Listing) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    digest(listing).hash(&mut h);
    let mut locals: Vec<(&u64, &str)> = st
        .locals
        .iter()
        .filter(|(_, l)| l.parent == ino)
        .map(|(i, l)| (i, l.name.as_str()))
        .collect();
    locals.sort();
    locals.hash(&mut h);
    h.finish()
}
