//! The thin fuser adapter: each kernel request becomes one [`FsCore`] call, and its result
//! a reply. No filesystem logic or policy lives here (which opens write, what setattr may
//! change, what is refused: all the core's).
//!
//! FUSE requests arrive on fuser's own threads (not tokio workers). A request whose core
//! method is async is polled once on that thread: answered from memory (the common case:
//! a warm `open`, `lookup`, `readdir`), it is replied to at once; if it has to wait (for
//! Notion, the disk cache, a lock), it moves to the runtime and is replied to from there
//! (`NotionFuse::serve`). So no FUSE thread ever waits for the network, and two threads
//! ([`THREADS`]) serve a mount: more only add wakeups to every round trip.
//!
//! With `--no-open` (read-only mounts) the kernel opens and closes files and directories
//! without asking ([`MountConfig::no_open`]): the first `OPEN`, `FLUSH` and `OPENDIR` are
//! answered `ENOSYS`, reads come by inode, every size answered is exact (a file whose size
//! is not known is loaded first), and stale listings are pushed out of the kernel's cache.
//!
//! Every request is counted by operation ([`request_counts`], `notionfs status`).

use std::ffi::OsStr;
use std::future::Future;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fuser::{
    AccessFlags, Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation,
    INodeNo, InitFlags, KernelConfig, LockOwner, MountOption, Notifier, OpenFlags, ReplyAttr,
    ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyWrite,
    ReplyXattr, Request, Session, SessionACL, TimeOrNow, WriteFlags,
};

use crate::fs::{
    kernel, Attr, AttrChange, DirEntry, FileKind, FsCore, FsError, FsResult, Invalidate, Opened,
};

/// The FUSE operations counted ([`request_counts`]), in `OP_NAMES` order.
#[derive(Clone, Copy)]
enum Op {
    Lookup,
    Forget,
    Getattr,
    Setattr,
    Open,
    Read,
    Write,
    Flush,
    Release,
    Fsync,
    Opendir,
    Readdir,
    Releasedir,
    Statfs,
    Getxattr,
    Listxattr,
    Access,
    Create,
    Mknod,
    Mkdir,
    Unlink,
    Rmdir,
    Symlink,
    Rename,
    Link,
    Setxattr,
    Removexattr,
}

/// Names of the operations, as `notionfs status` shows them.
const OP_NAMES: [&str; 27] = [
    "lookup",
    "forget",
    "getattr",
    "setattr",
    "open",
    "read",
    "write",
    "flush",
    "release",
    "fsync",
    "opendir",
    "readdir",
    "releasedir",
    "statfs",
    "getxattr",
    "listxattr",
    "access",
    "create",
    "mknod",
    "mkdir",
    "unlink",
    "rmdir",
    "symlink",
    "rename",
    "link",
    "setxattr",
    "removexattr",
];

/// Requests served by this process's mount, by operation (one mount per process).
static REQUESTS: [std::sync::atomic::AtomicU64; OP_NAMES.len()] =
    [const { std::sync::atomic::AtomicU64::new(0) }; OP_NAMES.len()];

fn count(op: Op) {
    REQUESTS[op as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// The FUSE requests served since the mount started, by operation (those served at least
/// once): where the time of a warm `grep -r` goes (`notionfs status`).
pub fn request_counts() -> std::collections::BTreeMap<String, u64> {
    OP_NAMES
        .iter()
        .zip(REQUESTS.iter())
        .map(|(n, c)| (n.to_string(), c.load(std::sync::atomic::Ordering::Relaxed)))
        .filter(|(_, c)| *c > 0)
        .collect()
}

/// How the mount is set up.
#[derive(Clone, Debug)]
pub struct MountConfig {
    /// Let other users (and root) see the mount.
    pub allow_other: bool,
    /// Mount read-only at the kernel level too.
    pub read_only: bool,
    /// The kernel opens and closes files and directories without asking (only on a
    /// read-only mount): its first `OPEN`, `FLUSH` and `OPENDIR` are answered `ENOSYS`,
    /// after which it sends none of them, nor `RELEASE` or `RELEASEDIR`, so a warm read of
    /// a file or listing it has cached makes no round trip at all (the `OPEN` and `OPENDIR`
    /// round trips are most of a warm `grep -r`'s time). A listing it cached is kept until
    /// the core tells it the listing went stale ([`FsCore::push_listings`]). Reads come by
    /// inode ([`FsCore::read_unopened`]), and every `LOOKUP` and `GETATTR` answer carries
    /// an exact size: a file whose size is not known is loaded first
    /// ([`FsCore::getattr_exact`]).
    ///
    /// What it costs: the mount no longer sees the open, so a lookup or `stat` of a page
    /// never read (or changed since) loads it, and a reader holding a file open while a
    /// change comes may read part of each version (nothing pins the version an open
    /// served). A writable mount needs the `OPEN`: a writer's
    /// buffer starts from the content the open serves, and the close journals the save.
    /// Kernels before Linux 5.1 cannot do this; they are asked as usual.
    pub no_open: bool,
    /// Worker threads serving requests.
    pub threads: usize,
    /// How long the kernel may cache entries and attributes of known size (see
    /// [`kernel::KERNEL_TTL`]).
    pub kernel_ttl: Duration,
}

/// FUSE threads reading requests (each on a cloned `/dev/fuse` descriptor).
pub const THREADS: usize = 2;

/// The fuser `Filesystem` over an [`FsCore`].
pub struct NotionFuse {
    core: Arc<FsCore>,
    rt: tokio::runtime::Handle,
    ttl: Duration,
    /// The kernel opens and closes files and directories without asking
    /// ([`MountConfig::no_open`]).
    unasked: bool,
}

impl NotionFuse {
    /// An adapter running the core's async operations on `rt`.
    /// `unasked`: see [`MountConfig::no_open`].
    pub fn new(
        core: Arc<FsCore>,
        rt: tokio::runtime::Handle,
        kernel_ttl: Duration,
        unasked: bool,
    ) -> Self {
        NotionFuse {
            core,
            rt,
            ttl: kernel_ttl,
            unasked,
        }
    }

    /// Replies to a request that makes an entry.
    fn entry(&self, op: &str, ino: u64, r: FsResult<Attr>, reply: ReplyEntry) {
        match r {
            Ok(a) => reply.entry(&self.ttl_for(&a), &file_attr(&a), Generation(0)),
            Err(e) => reply.error(errno(op, ino, &e)),
        }
    }

    /// The kernel may cache an attribute only when its size is exact.
    fn ttl_for(&self, a: &Attr) -> Duration {
        kernel::attr_ttl(a, self.ttl)
    }

    /// Runs `work` and hands its result to `done`: on this thread if it completes without
    /// waiting, else on the runtime (see the module doc).
    fn serve<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
        done: impl FnOnce(T) + Send + 'static,
    ) {
        let mut work = Box::pin(work);
        let _in_runtime = self.rt.enter();
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        match work.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => done(v),
            // Polled again by the task with its own waker.
            std::task::Poll::Pending => {
                self.rt.spawn(async move { done(work.await) });
            }
        }
    }

    /// Serves a request that answers with an entry.
    fn serve_entry(
        &self,
        op: &'static str,
        ino: u64,
        work: impl Future<Output = FsResult<Attr>> + Send + 'static,
        reply: ReplyEntry,
    ) {
        let ttl = self.ttl;
        self.serve(work, move |r| match r {
            Ok(a) => reply.entry(&kernel::attr_ttl(&a, ttl), &file_attr(&a), Generation(0)),
            Err(e) => reply.error(errno(op, ino, &e)),
        });
    }

    /// Serves a request that answers with nothing but success.
    fn serve_empty(
        &self,
        op: &'static str,
        ino: u64,
        work: impl Future<Output = FsResult<()>> + Send + 'static,
        reply: ReplyEmpty,
    ) {
        self.serve(work, move |r| match r {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(errno(op, ino, &e)),
        });
    }
}

fn file_attr(a: &Attr) -> FileAttr {
    FileAttr {
        ino: INodeNo(a.ino),
        size: a.size,
        blocks: a.size.div_ceil(512),
        atime: a.mtime,
        mtime: a.mtime,
        ctime: a.ctime,
        crtime: a.ctime,
        kind: match a.kind {
            FileKind::Dir => FileType::Directory,
            FileKind::File => FileType::RegularFile,
        },
        perm: a.perm,
        nlink: if a.kind == FileKind::Dir { 2 } else { 1 },
        uid: a.uid,
        gid: a.gid,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

/// The errno of a core error; failures that are not the caller's fault are logged here.
fn errno(op: &str, ino: u64, e: &FsError) -> Errno {
    let n = e.errno();
    if n == libc::EIO {
        tracing::warn!(op, ino, error = %e, "I/O error");
    } else {
        tracing::debug!(op, ino, error = %e, "refused");
    }
    Errno::from_i32(n)
}

/// The open flags of a reply; `flags` are the `open(2)` flags (no `FLUSH` at each close
/// of a descriptor that cannot have written).
fn fopen_flags(o: &Opened, flags: i32) -> FopenFlags {
    let mut f = FopenFlags::empty();
    if !kernel::flush_on_close(flags) {
        f |= FopenFlags::FOPEN_NOFLUSH;
    }
    if o.direct_io {
        f |= FopenFlags::FOPEN_DIRECT_IO;
    }
    if o.keep_cache {
        f |= FopenFlags::FOPEN_KEEP_CACHE;
    }
    f
}

/// Fills a `readdir` reply from `offset` on: `.`, `..`, then `entries`.
fn fill_dir(ino: u64, parent: u64, entries: Vec<DirEntry>, offset: u64, mut reply: ReplyDirectory) {
    let all = [
        (ino, FileType::Directory, ".".to_string()),
        (parent, FileType::Directory, "..".to_string()),
    ]
    .into_iter()
    .chain(entries.into_iter().map(|e| {
        let t = match e.kind {
            FileKind::Dir => FileType::Directory,
            FileKind::File => FileType::RegularFile,
        };
        (e.ino, t, e.name)
    }));
    for (i, (ino, kind, name)) in all.enumerate().skip(offset as usize) {
        if reply.add(INodeNo(ino), (i + 1) as u64, kind, name) {
            break;
        }
    }
    reply.ok();
}

fn xattr_reply(reply: ReplyXattr, data: &[u8], size: u32) {
    if size == 0 {
        reply.size(data.len() as u32);
    } else if data.len() > size as usize {
        reply.error(Errno::ERANGE);
    } else {
        reply.data(data);
    }
}

impl Filesystem for NotionFuse {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // A kernel that cannot open without asking (before Linux 5.1) would fail every
        // open answered ENOSYS: it is asked as usual then.
        let can = InitFlags::FUSE_NO_OPEN_SUPPORT | InitFlags::FUSE_NO_OPENDIR_SUPPORT;
        if self.unasked && !config.capabilities().contains(can) {
            tracing::warn!("--no-open: this kernel cannot open files without asking the mount; opens are answered as usual");
            self.unasked = false;
        }
        tracing::info!("mounted");
        Ok(())
    }

    fn forget(&self, _req: &Request, _ino: INodeNo, _nlookup: u64) {
        count(Op::Forget);
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        count(Op::Releasedir);
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: fuser::ReplyStatfs) {
        count(Op::Statfs);
        reply.statfs(0, 0, 0, 0, 0, 512, 255, 0);
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        count(Op::Lookup);
        let Some(name) = name.to_str() else {
            return reply.error(Errno::ENOENT);
        };
        let (core, name, unasked) = (self.core.clone(), name.to_string(), self.unasked);
        let work = async move {
            let a = core.lookup(parent.0, &name).await?;
            match unasked && !a.size_known {
                // Sizes are exact before the kernel may open without asking.
                true => core.getattr_exact(a.ino).await,
                false => Ok(a),
            }
        };
        self.serve_entry("lookup", parent.0, work, reply);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        count(Op::Getattr);
        if self.unasked {
            // Sizes are exact before the kernel may open without asking.
            let (core, ttl) = (self.core.clone(), self.ttl);
            let work = async move { core.getattr_exact(ino.0).await };
            return self.serve(work, move |r| match r {
                Ok(a) => reply.attr(&kernel::attr_ttl(&a, ttl), &file_attr(&a)),
                Err(e) => reply.error(errno("getattr", ino.0, &e)),
            });
        }
        match self.core.getattr(ino.0) {
            Ok(a) => reply.attr(&self.ttl_for(&a), &file_attr(&a)),
            Err(e) => reply.error(errno("getattr", ino.0, &e)),
        }
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        count(Op::Opendir);
        if self.unasked {
            // The kernel then opens directories without asking too, and keeps what it
            // read of a listing until the core tells it the listing changed.
            return reply.error(Errno::ENOSYS);
        }
        // Let the kernel cache listings; it keeps them only while they are current.
        match self.core.opendir(ino.0) {
            Ok(keep) => {
                let mut f = FopenFlags::FOPEN_CACHE_DIR;
                if keep {
                    f |= FopenFlags::FOPEN_KEEP_CACHE;
                }
                reply.opened(FileHandle(0), f);
            }
            Err(e) => reply.error(errno("opendir", ino.0, &e)),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        reply: ReplyDirectory,
    ) {
        count(Op::Readdir);
        let core = self.core.clone();
        let work = async move {
            let entries = core.readdir(ino.0).await?;
            Ok((entries, core.parent_of(ino.0)))
        };
        self.serve(work, move |r| match r {
            Ok((entries, parent)) => fill_dir(ino.0, parent, entries, offset, reply),
            Err(e) => reply.error(errno("readdir", ino.0, &e)),
        });
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        count(Op::Open);
        if self.unasked {
            // The kernel then opens every file without asking (and sends no RELEASE).
            return reply.error(Errno::ENOSYS);
        }
        let core = self.core.clone();
        let work = async move { core.open(ino.0, flags.0).await };
        self.serve(work, move |r| match r {
            Ok(o) => reply.opened(FileHandle(o.fh), fopen_flags(&o, flags.0)),
            Err(e) => reply.error(errno("open", ino.0, &e)),
        });
    }
    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        count(Op::Read);
        if self.unasked {
            let core = self.core.clone();
            let work = async move { core.read_unopened(ino.0, offset, size).await };
            return self.serve(work, move |r| match r {
                Ok(d) => reply.data(&d),
                Err(e) => reply.error(errno("read", ino.0, &e)),
            });
        }
        match self.core.read(fh.0, offset, size) {
            Ok(d) => reply.data(&d),
            Err(e) => reply.error(errno("read", ino.0, &e)),
        }
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        count(Op::Release);
        // Flushes (journals) a write handle that was not flushed and schedules its push.
        let core = self.core.clone();
        let work = async move { core.close(fh.0).await };
        self.serve_empty("release", ino.0, work, reply);
    }

    fn flush(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        count(Op::Flush);
        if self.unasked {
            // Nothing to make durable: the kernel sends no more FLUSH.
            return reply.error(Errno::ENOSYS);
        }
        let core = self.core.clone();
        let work = async move { core.fsync(fh.0).await };
        self.serve_empty("flush", ino.0, work, reply);
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        count(Op::Fsync);
        let core = self.core.clone();
        let work = async move { core.fsync(fh.0).await };
        self.serve_empty("fsync", ino.0, work, reply);
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, name: &OsStr, size: u32, reply: ReplyXattr) {
        count(Op::Getxattr);
        let name = name.to_str().unwrap_or("");
        match self.core.getxattr(ino.0, name) {
            Ok(v) => xattr_reply(reply, &v, size),
            Err(e) => reply.error(errno("getxattr", ino.0, &e)),
        }
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        count(Op::Listxattr);
        match self.core.listxattr(ino.0) {
            Ok(v) => xattr_reply(reply, &v, size),
            Err(e) => reply.error(errno("listxattr", ino.0, &e)),
        }
    }

    fn access(&self, _req: &Request, ino: INodeNo, mask: AccessFlags, reply: ReplyEmpty) {
        count(Op::Access);
        match self.core.access(ino.0, mask.contains(AccessFlags::W_OK)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(errno("access", ino.0, &e)),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        count(Op::Setattr);
        let change = AttrChange {
            mode_or_owner: mode.is_some() || uid.is_some() || gid.is_some(),
            size,
        };
        let (core, ttl) = (self.core.clone(), self.ttl);
        let work = async move { core.setattr(ino.0, fh.map(|f| f.0), change).await };
        self.serve(work, move |r| match r {
            Ok(a) => reply.attr(&kernel::attr_ttl(&a, ttl), &file_attr(&a)),
            Err(e) => reply.error(errno("setattr", ino.0, &e)),
        });
    }

    fn mknod(
        &self,
        _req: &Request,
        parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        count(Op::Mknod);
        self.entry("mknod", parent.0, self.core.mknod(parent.0), reply);
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        count(Op::Mkdir);
        let Some(name) = name.to_str() else {
            return reply.error(Errno::EINVAL);
        };
        let (core, name) = (self.core.clone(), name.to_string());
        let work = async move { core.mkdir(parent.0, &name).await };
        self.serve_entry("mkdir", parent.0, work, reply);
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        count(Op::Unlink);
        let Some(name) = name.to_str() else {
            return reply.error(Errno::ENOENT);
        };
        let (core, name) = (self.core.clone(), name.to_string());
        let work = async move { core.unlink(parent.0, &name).await };
        self.serve_empty("unlink", parent.0, work, reply);
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        count(Op::Rmdir);
        let Some(name) = name.to_str() else {
            return reply.error(Errno::ENOENT);
        };
        let (core, name) = (self.core.clone(), name.to_string());
        let work = async move { core.rmdir(parent.0, &name).await };
        self.serve_empty("rmdir", parent.0, work, reply);
    }

    fn symlink(
        &self,
        _req: &Request,
        parent: INodeNo,
        _link_name: &OsStr,
        _target: &Path,
        reply: ReplyEntry,
    ) {
        count(Op::Symlink);
        self.entry("symlink", parent.0, self.core.symlink(parent.0), reply);
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        _flags: fuser::RenameFlags,
        reply: ReplyEmpty,
    ) {
        count(Op::Rename);
        let (Some(name), Some(newname)) = (name.to_str(), newname.to_str()) else {
            return reply.error(Errno::ENOENT);
        };
        let core = self.core.clone();
        let (name, newname) = (name.to_string(), newname.to_string());
        let work = async move { core.rename(parent.0, &name, newparent.0, &newname).await };
        self.serve_empty("rename", parent.0, work, reply);
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        _newparent: INodeNo,
        _newname: &OsStr,
        reply: ReplyEntry,
    ) {
        count(Op::Link);
        self.entry("link", ino.0, self.core.link(ino.0), reply);
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        count(Op::Write);
        match self.core.write(fh.0, offset, data) {
            Ok(n) => reply.written(n),
            Err(e) => reply.error(errno("write", ino.0, &e)),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        _mode: u32,
        _umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        count(Op::Create);
        let Some(name) = name.to_str() else {
            return reply.error(Errno::EINVAL);
        };
        let (core, name, ttl) = (self.core.clone(), name.to_string(), self.ttl);
        let work = async move { core.create(parent.0, &name).await };
        self.serve(work, move |r| match r {
            Ok((a, o)) => reply.created(
                &kernel::attr_ttl(&a, ttl),
                &file_attr(&a),
                Generation(0),
                FileHandle(o.fh),
                fopen_flags(&o, flags),
            ),
            Err(e) => reply.error(errno("create", parent.0, &e)),
        });
    }

    fn setxattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        _name: &OsStr,
        _value: &[u8],
        _flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        count(Op::Setxattr);
        match self.core.write_xattr(ino.0, "setxattr") {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(errno("setxattr", ino.0, &e)),
        }
    }

    fn removexattr(&self, _req: &Request, ino: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        count(Op::Removexattr);
        match self.core.write_xattr(ino.0, "removexattr") {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(errno("removexattr", ino.0, &e)),
        }
    }
}

/// Forwards the core's invalidations to the kernel from a thread of its own: a
/// notification sent from inside a request handler can deadlock against the kernel.
struct KernelInvalidator {
    tx: std::sync::Mutex<mpsc::Sender<Inval>>,
}

/// One invalidation for the kernel.
enum Inval {
    Inode(u64),
    Entry(u64, String),
}

impl Invalidate for KernelInvalidator {
    fn inode(&self, ino: u64) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        let _ = tx.send(Inval::Inode(ino));
    }

    fn entry(&self, parent: u64, name: &str) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        let _ = tx.send(Inval::Entry(parent, name.to_string()));
    }
}

fn spawn_invalidator(notifier: Notifier) -> KernelInvalidator {
    let (tx, rx) = mpsc::channel::<Inval>();
    std::thread::Builder::new()
        .name("notionfs-inval".into())
        .spawn(move || {
            for msg in rx {
                let (what, r) = match msg {
                    Inval::Inode(ino) => (ino, notifier.inval_inode(INodeNo(ino), 0, 0)),
                    Inval::Entry(parent, name) => (
                        parent,
                        notifier.inval_entry(INodeNo(parent), OsStr::new(&name)),
                    ),
                };
                if let Err(e) = r {
                    tracing::debug!(ino = what, error = %e, "kernel invalidation not applied");
                }
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::warn!(error = %e, "no invalidation thread"));
    KernelInvalidator {
        tx: std::sync::Mutex::new(tx),
    }
}

/// Mounts `core` at `mountpoint` and returns the session (not yet serving: call
/// `run()` or `spawn()`). Kernel invalidations are wired to the core.
pub fn mount(
    core: Arc<FsCore>,
    rt: tokio::runtime::Handle,
    mountpoint: &Path,
    cfg: &MountConfig,
) -> std::io::Result<Session<NotionFuse>> {
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::FSName("notionfs".into()),
        MountOption::Subtype("notionfs".into()),
        MountOption::NoDev,
        MountOption::NoSuid,
        MountOption::NoExec,
        MountOption::DefaultPermissions,
    ];
    if cfg.read_only {
        config.mount_options.push(MountOption::RO);
    }
    config.acl = if cfg.allow_other {
        SessionACL::All
    } else {
        SessionACL::Owner
    };
    config.n_threads = Some(cfg.threads.max(1));
    // Each thread reads its own descriptor: replies do not contend.
    config.clone_fd = true;
    let unasked = cfg.no_open && cfg.read_only;
    if unasked {
        core.push_listings(&rt);
    }
    let fs = NotionFuse::new(core.clone(), rt, cfg.kernel_ttl, unasked);
    let session = Session::new(fs, mountpoint, &config)?;
    core.set_invalidator(Arc::new(spawn_invalidator(session.notifier())));
    Ok(session)
}
