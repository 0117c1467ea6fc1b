//! Open files: read handles (rendered bytes, downloaded attachments), write buffers of
//! pages (the whole file, journaled on `flush`/`fsync`/`close`), and handles on local files.
//!
//! # Limits
//! A page's write buffer holds at most [`MAX_PAGE_FILE`] bytes and a local file in memory
//! [`super::error::MAX_LOCAL_FILE`]: a write, `truncate` or `ftruncate` past that fails with
//! EFBIG and changes nothing (the mount never tries to allocate what a `truncate -s 1T`
//! asks for). A write to a page also fails at once (ENOSPC) when the journal's disk has no
//! room left for the save it would make, rather than only at `close`.

use std::sync::Arc;
use std::time::SystemTime;

use super::attachments::Downloaded;
use super::content::Body;
use super::error::{FsError, FsResult, MAX_PAGE_FILE};
use super::inode::NodeKey;
use super::overlay::check_local_size;
use super::render::render_schema;
use super::{Attr, FsCore, Reported};

/// The result of a successful `open`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    /// Handle for [`FsCore::read`] and [`FsCore::close`].
    pub fh: u64,
    /// Bypass the page cache: the kernel may hold a stale size for this file.
    pub direct_io: bool,
    /// The kernel's cached pages are still this content.
    pub keep_cache: bool,
}

/// What an open file handle reads from or writes to.
pub(super) enum Handle {
    /// Rendered bytes (a page's body, a `.schema.yaml`), as they were at `open`.
    Bytes(Arc<Vec<u8>>),
    /// A downloaded attachment in the cache dir.
    Download(Downloaded),
    /// A page opened for writing: its whole file in memory until `flush`.
    Write(WriteBuf),
    /// A local (overlay) file, by inode.
    Local(u64),
}

/// An open page file's local write buffer (the whole file).
pub(super) struct WriteBuf {
    pub(super) page: String,
    pub(super) ino: u64,
    pub(super) data: Vec<u8>,
    /// The content the file had when opened (the journal's base).
    pub(super) base: Arc<Vec<u8>>,
    /// Changed since the last flush.
    pub(super) dirty: bool,
    /// Flushed at least once (a push is due on close).
    pub(super) saved: bool,
    /// Opened with `O_APPEND`: every write goes to the end (the kernel's idea of the size
    /// may be stale when the body was not rendered before the open).
    pub(super) append: bool,
    /// Held by a flush from its read of `data` to the end of its journal write: flushes of
    /// one handle (`dup`ed descriptors closed at once, `fsync` during `close`) run one at a
    /// time, so an older content can never be journaled after a newer one, nor one twice.
    pub(super) flushing: Arc<tokio::sync::Mutex<()>>,
}

impl WriteBuf {
    /// A write handle on `page` (file `ino`) holding `data`, opened from `base`.
    pub(super) fn handle(page: String, ino: u64, data: Vec<u8>, base: Arc<Vec<u8>>) -> Handle {
        Handle::Write(WriteBuf {
            page,
            ino,
            data,
            base,
            dirty: false,
            saved: false,
            append: false,
            flushing: Arc::default(),
        })
    }
}

/// Up to `size` bytes of `data` from `offset`.
fn slice(data: &[u8], offset: u64, size: u32) -> Vec<u8> {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let end = start.saturating_add(size as usize).min(data.len());
    data[start..end].to_vec()
}

/// A file's content loaded for reading (see [`FsCore::load_content`]).
pub(super) struct Loaded {
    handle: Handle,
    size: u64,
    /// Of rendered bytes: whether the kernel's cached pages can be kept.
    hash: Option<[u8; 32]>,
    /// Reads must bypass the page cache (an attachment whose listed version moved on).
    force_direct: bool,
}

/// EFBIG for a page file that would be `size` bytes.
fn check_page_size(size: u64) -> FsResult<()> {
    if size > MAX_PAGE_FILE {
        return Err(FsError::TooLarge {
            size,
            limit: MAX_PAGE_FILE,
            what: "a page file",
        });
    }
    Ok(())
}

impl FsCore {
    /// Opens a file with the `open(2)` `flags`: a page opened for writing (any access mode
    /// but `O_RDONLY`, or `O_TRUNC`) gets a write buffer holding its content (emptied by
    /// `O_TRUNC`; `O_APPEND` writes at its end), anything else a read handle whose content
    /// was rendered or downloaded first, so reads are exact.
    pub async fn open(&self, ino: u64, flags: i32) -> FsResult<Opened> {
        let trunc = flags & libc::O_TRUNC != 0;
        let write = flags & libc::O_ACCMODE != libc::O_RDONLY || trunc;
        let o = self.open_as(ino, write).await?;
        let set_up = || -> FsResult<()> {
            if trunc {
                self.truncate(ino, Some(o.fh), 0)?;
            }
            if write && flags & libc::O_APPEND != 0 {
                self.set_append(o.fh)?;
            }
            Ok(())
        };
        if let Err(e) = set_up() {
            self.state().handles.remove(&o.fh);
            return Err(e);
        }
        Ok(o)
    }

    /// Opens a file for reading: renders or downloads its content first, so reads are exact.
    async fn open_as(&self, ino: u64, write: bool) -> FsResult<Opened> {
        let key = self.key(ino)?;
        if let NodeKey::Local(_) = key {
            return Ok(self.open_local(ino));
        }
        if write {
            return self.open_write(ino, &key).await;
        }
        let Loaded {
            handle,
            size,
            hash,
            force_direct,
        } = self.load_content(&key).await?;
        let mut st = self.state();
        // Direct I/O only when the kernel may hold a wrong size it believes: an unknown size
        // was handed out with no attribute cache, so the kernel asks again before reading
        // past it (and shared mmap keeps working for first reads).
        let reported = st.reported.get(&ino).copied();
        let direct_io = force_direct
            || match reported {
                Some(r) if r.exact => r.size != size,
                Some(_) => false,
                None => true,
            };
        let known_before = reported.is_some_and(|r| r.exact);
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

    /// Renders (a page, a schema) or downloads (an attachment) the content of the file
    /// `key`, so reads of it are exact.
    async fn load_content(&self, key: &NodeKey) -> FsResult<Loaded> {
        let mut force_direct = false;
        let (handle, size, hash) = match key {
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
                // `getattr` sizes the file from the download of the version the tree lists
                // now; if the tree moved on meanwhile, reads must not end at another size.
                let current = self.state().attachments.get(block).cloned();
                force_direct = current
                    .and_then(|c| self.attachments.cached(&c))
                    .is_none_or(|c| c.size != d.size);
                let size = d.size;
                (Handle::Download(d), size, None)
            }
            _ => return Err(FsError::IsDir),
        };
        Ok(Loaded {
            handle,
            size,
            hash,
            force_direct,
        })
    }

    /// Reads up to `size` bytes at `offset` from an open handle (no network: `open` did it).
    pub fn read(&self, fh: u64, offset: u64, size: u32) -> FsResult<Vec<u8>> {
        let h = {
            let st = self.state();
            match st.handles.get(&fh) {
                Some(Handle::Bytes(b)) => Handle::Bytes(b.clone()),
                Some(Handle::Download(d)) => Handle::Download(d.clone()),
                Some(Handle::Write(w)) => return Ok(slice(&w.data, offset, size)),
                Some(Handle::Local(i)) => Handle::Local(*i),
                None => return Err(FsError::BadHandle),
            }
        };
        self.read_from(&h, offset, size)
    }

    /// Reads from a read handle's content (no network: it was loaded).
    fn read_from(&self, h: &Handle, offset: u64, size: u32) -> FsResult<Vec<u8>> {
        match h {
            Handle::Bytes(b) => Ok(slice(b, offset, size)),
            Handle::Download(d) => self.attachments.read(d, offset, size),
            Handle::Local(i) => {
                let spool = {
                    let st = self.state();
                    match st.locals.get(i) {
                        Some(l) => match &l.spool {
                            Some(sp) => sp.clone(),
                            None => return Ok(slice(&l.data, offset, size)),
                        },
                        None => return Ok(Vec::new()),
                    }
                };
                let want = (size as u64).min(spool.len().saturating_sub(offset));
                Ok(spool.read_at(offset, want as usize)?)
            }
            Handle::Write(w) => Ok(slice(&w.data, offset, size)),
        }
    }

    /// Reads up to `size` bytes at `offset` of the file `ino` as it is now, for a kernel
    /// that opens files without asking the mount (`--no-open`, see `crate::fuse`):
    /// there is no handle, so each read loads (from memory, the disk cache or Notion) the
    /// current content. When that content is not the size the kernel was told, the kernel
    /// is told to drop what it cached of the file (it asks for the size again).
    pub async fn read_unopened(&self, ino: u64, offset: u64, size: u32) -> FsResult<Vec<u8>> {
        let key = self.key(ino)?;
        if let NodeKey::Local(_) = key {
            return self.read_from(&Handle::Local(ino), offset, size);
        }
        let loaded = self.load_content(&key).await?;
        let told = self.state().reported.get(&ino).copied();
        if loaded.force_direct || told.is_some_and(|r| r.exact && r.size != loaded.size) {
            self.invalidate(ino);
        }
        self.read_from(&loaded.handle, offset, size)
    }

    /// The attributes of `ino` with an exact size, for a kernel that opens files without
    /// asking (see [`FsCore::read_unopened`]): a file whose size is not known yet is
    /// loaded first. Every answer carrying attributes (`LOOKUP`, `GETATTR`) must be exact
    /// there: the kernel keeps only the newest answer it asked for, so an unknown size
    /// answered while another reader's exact one was on its way would make the kernel
    /// drop the exact one, and that read would end at size 0.
    pub async fn getattr_exact(&self, ino: u64) -> FsResult<Attr> {
        let a = self.getattr(ino)?;
        if a.size_known {
            return Ok(a);
        }
        let key = self.key(ino)?;
        if key.is_dir() || matches!(key, NodeKey::Local(_)) {
            return Ok(a);
        }
        self.load_content(&key).await?;
        self.getattr(ino)
    }

    pub(super) async fn open_write(&self, ino: u64, key: &NodeKey) -> FsResult<Opened> {
        self.writer("open for writing")?;
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

    /// Writes `data` at `offset` into an open write handle (local only until flush). EFBIG
    /// past the file's limit; ENOSPC when the journal's disk cannot take the save.
    pub fn write(&self, fh: u64, offset: u64, data: &[u8]) -> FsResult<u32> {
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(FsError::TooLarge {
                size: u64::MAX,
                limit: MAX_PAGE_FILE,
                what: "a file",
            })?;
        let local = match self.state().handles.get(&fh) {
            Some(Handle::Local(i)) => Some(*i),
            Some(Handle::Write(_)) => None,
            Some(_) => return Err(FsError::BadHandle),
            None => return Err(FsError::BadHandle),
        };
        match local {
            Some(i) => self.write_local(i, offset, end, data),
            None => self.write_page(fh, offset, data),
        }
    }

    /// A write into a local file: in memory, or into its spool on disk (a future
    /// attachment, bounded by the workspace's upload limit).
    fn write_local(&self, i: u64, offset: u64, end: u64, data: &[u8]) -> FsResult<u32> {
        let mut st = self.state();
        let l = st.locals.get_mut(&i).ok_or(FsError::NotFound)?;
        let new_len = l.len().max(end);
        self.uploads.check_size(i, new_len)?;
        l.mtime = SystemTime::now();
        if let Some(sp) = l.spool.clone() {
            drop(st);
            sp.write_at(offset, data)?;
            return Ok(data.len() as u32);
        }
        check_local_size(new_len)?;
        let (off, end) = (offset as usize, end as usize);
        if l.data.len() < end {
            l.data.resize(end, 0);
        }
        l.data[off..end].copy_from_slice(data);
        Ok(data.len() as u32)
    }

    /// A write into a page's write buffer.
    fn write_page(&self, fh: u64, offset: u64, data: &[u8]) -> FsResult<u32> {
        let (start, needed) = {
            let st = self.state();
            let Some(Handle::Write(w)) = st.handles.get(&fh) else {
                return Err(FsError::BadHandle);
            };
            let start = if w.append {
                w.data.len() as u64
            } else {
                offset
            };
            let len = (w.data.len() as u64).max(start.saturating_add(data.len() as u64));
            if len > MAX_PAGE_FILE {
                return Err(FsError::TooLarge {
                    size: len,
                    limit: MAX_PAGE_FILE,
                    what: "a page file",
                });
            }
            (start, len + w.base.len() as u64)
        };
        // Outside the state lock (a statvfs): the save this buffer makes must fit.
        self.writer("write")?.journal().room_for(needed)?;
        let mut st = self.state();
        let Some(Handle::Write(w)) = st.handles.get_mut(&fh) else {
            return Err(FsError::BadHandle);
        };
        let off = if w.append {
            w.data.len()
        } else {
            start as usize
        };
        let end = off + data.len();
        if w.data.len() < end {
            w.data.resize(end, 0);
        }
        w.data[off..end].copy_from_slice(data);
        w.dirty = true;
        Ok(data.len() as u32)
    }

    /// Registers a handle whose content lives here (direct I/O: the kernel caches none of it).
    pub(super) fn open_handle(&self, h: Handle) -> Opened {
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

    /// Marks a write handle as opened with `O_APPEND`.
    fn set_append(&self, fh: u64) -> FsResult<()> {
        match self.state().handles.get_mut(&fh) {
            Some(Handle::Write(w)) => {
                w.append = true;
                Ok(())
            }
            _ => Err(FsError::BadHandle),
        }
    }

    /// Sets the size of a file: of the handle `fh`, or of every write handle open on
    /// `ino` (`truncate(2)` on a path while it is open for writing, or `O_TRUNC`). EFBIG past
    /// the file's limit (nothing changes).
    pub(super) fn truncate(&self, ino: u64, fh: Option<u64>, size: u64) -> FsResult<Attr> {
        self.writer("truncate")?;
        {
            let mut st = self.state();
            if let Some(l) = st.locals.get_mut(&ino) {
                self.uploads.check_size(ino, size)?;
                l.mtime = SystemTime::now();
                match l.spool.clone() {
                    Some(sp) => {
                        drop(st);
                        sp.set_len(size)?;
                    }
                    None => {
                        check_local_size(size)?;
                        l.data.resize(size as usize, 0);
                        drop(st);
                    }
                }
                return self.getattr(ino);
            }
            check_page_size(size)?;
            let mut hit = false;
            for (h, handle) in st.handles.iter_mut() {
                if let Handle::Write(w) = handle {
                    if w.ino == ino && fh.is_none_or(|f| f == *h) {
                        w.data.resize(size as usize, 0);
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
    pub(super) async fn truncate_closed(&self, ino: u64, size: u64) -> FsResult<Attr> {
        match self.truncate(ino, None, size) {
            Err(FsError::NotOpen) => {}
            other => return other,
        }
        let NodeKey::PageFile(page) = self.key(ino)? else {
            return Err(match self.key(ino)? {
                k if k.is_dir() => FsError::IsDir,
                _ => self.write_denied("truncate"),
            });
        };
        let base = self.body(&page).await?.data.clone();
        let mut data = base.as_ref().clone();
        data.resize(size as usize, 0);
        if data != *base {
            self.accept(&page, ino, data, base).await?;
            self.writer("truncate")?.schedule(&page);
        }
        self.getattr(ino)
    }

    /// The kernel's `flush` (at each close of a descriptor) and `fsync`: what was written
    /// through `fh` is durable when this returns. A mount that takes no writes answers
    /// ENOSYS, so the kernel stops sending `flush` (a round trip saved per close).
    pub async fn fsync(&self, fh: u64) -> FsResult<()> {
        if self.write_back().is_none() {
            return Err(FsError::NotImplemented);
        }
        self.flush(fh).await
    }

    /// Makes what was written through `fh` durable (journal, fsync'd) and shows it as the
    /// file's content; returns once it is on disk (`flush` on close, and `fsync`).
    pub async fn flush(&self, fh: u64) -> FsResult<()> {
        if let Some(ino) = self.staged_handle(fh) {
            return self.flush_attachment(ino).await;
        }
        let flushing = match self.state().handles.get(&fh) {
            Some(Handle::Write(w)) => w.flushing.clone(),
            Some(_) => return Ok(()),
            None => return Err(FsError::BadHandle),
        };
        let _one_at_a_time = flushing.lock().await;
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
    /// as the file's content; returns the id it was saved under.
    pub(super) async fn accept(
        &self,
        page: &str,
        ino: u64,
        data: Vec<u8>,
        base: Arc<Vec<u8>>,
    ) -> FsResult<String> {
        let writer = self.writer("save")?.clone();
        // A page created here moves to Notion's id all at once (its saves, body and tree
        // entry): not while this save is journaled and shown under one of the two.
        let _whole = self.offline.rekey_gate.read().await;
        // A handle opened before its page's create reached Notion saves under Notion's id.
        let page = &self.current_id(page);
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
        let size = body.data.len() as u64;
        st.reported.insert(ino, Reported { size, exact: true });
        // The kernel may cache the old pages: the next open must not keep them.
        st.cached_hash.remove(&ino);
        st.bodies.put(page.clone(), body);
        drop(st);
        self.invalidate(ino);
        Ok(page)
    }

    /// Closes a handle; a write handle is flushed first and its page's push scheduled.
    pub async fn close(&self, fh: u64) -> FsResult<()> {
        let staged = self.staged_handle(fh);
        let res = self.flush(fh).await;
        if let Some(ino) = staged.filter(|_| res.is_ok()) {
            self.start_attachment(ino);
        }
        let h = self.state().handles.remove(&fh);
        if let (Some(Handle::Write(w)), Some(writer)) = (h, self.write_back()) {
            if w.saved {
                writer.schedule(&self.current_id(&w.page));
            }
        }
        res
    }
}
