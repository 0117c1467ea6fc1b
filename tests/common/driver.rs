//! One filesystem, two ways in (as rclone's VFS conformance suite runs directly and through
//! a mount): the [`Driver`] trait is what a scenario does to the filesystem, in syscall
//! terms and synchronously, with errors that carry the errno. [`CoreDriver`] calls an
//! [`FsCore`] in-process, exactly as the FUSE adapter does for the requests the kernel
//! sends; [`MountDriver`] runs a real `notionfs mount` and goes through the kernel. A
//! scenario written once against `&mut dyn Driver` runs both ways (`conformance.rs`).

use std::collections::BTreeSet;
use std::future::Future;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use notionfs::emulator::{Emulator, EmulatorConfig, Seed};
use notionfs::fs::{AttrChange, FileKind, FsCore, FsError, Settings, ROOT_INO};
use notionfs::notion::StatsSnapshot;
use notionfs::writeback::SyncState;
use serde_json::Value;

use super::mount::{self, describe, fuse_usable, notionfs, Mount};
use super::PATIENCE;

/// How the filesystem under test is set up (the mount's command line, the core's settings).
pub struct Setup {
    /// The workspace (`None`: the demo workspace).
    pub seed: Option<Seed>,
    /// How long listings and metadata stay fresh (`--ttl`).
    pub ttl: Duration,
    /// The quiet period before a save is pushed (`--write-delay`). Long by default: a save
    /// stays pending until the scenario calls [`Driver::settle`].
    pub write_delay: Duration,
    /// Writes refused (`--read-only`).
    pub read_only: bool,
    /// How often a folder in use is reconciled (`--reconcile`; zero: never).
    pub reconcile: Duration,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            seed: None,
            ttl: Duration::from_secs(60),
            write_delay: Duration::from_secs(60),
            read_only: false,
            reconcile: Duration::ZERO,
        }
    }
}

/// How a mount ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// An unmount (SIGTERM): what is pending is pushed first.
    Clean,
    /// The process dies (kill -9): nothing more happens.
    Crash,
}

/// What `stat(2)` tells about an entry.
#[derive(Clone, Debug)]
pub struct Stat {
    /// The inode number.
    pub ino: u64,
    /// The size in bytes.
    pub size: u64,
    /// A directory (else a regular file).
    pub dir: bool,
    /// The permission bits.
    pub perm: u32,
    /// The modification time.
    pub mtime: SystemTime,
}

/// The filesystem as a scenario uses it. Paths are relative to the mountpoint
/// (`/`-separated, `""` is the root).
pub trait Driver {
    /// `core` or `mount`, for messages.
    fn kind(&self) -> &'static str;
    /// The emulator serving the workspace (panics once [`Driver::stop_api`] stopped it).
    fn emu(&self) -> &Emulator;
    /// The mount's cache directory (journal, conflicts, disk cache).
    fn cache_dir(&self) -> &Path;

    /// The whole content of a file (open, read to the end, close).
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;
    /// `open(O_WRONLY|O_CREAT|O_TRUNC)`, write `data`, close: what `>` and editors do.
    fn write(&self, path: &str, data: &[u8]) -> io::Result<()>;
    /// `open(O_WRONLY|O_APPEND)`, write `data`, close: what `>>` does.
    fn append(&self, path: &str, data: &[u8]) -> io::Result<()>;
    /// `mkdir(2)`.
    fn mkdir(&self, path: &str) -> io::Result<()>;
    /// `rmdir(2)`.
    fn rmdir(&self, path: &str) -> io::Result<()>;
    /// `unlink(2)`.
    fn unlink(&self, path: &str) -> io::Result<()>;
    /// `rename(2)` of `from` to the full path `to`.
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
    /// The names in a directory (without `.` and `..`).
    fn list(&self, dir: &str) -> io::Result<BTreeSet<String>>;
    /// `stat(2)`.
    fn stat(&self, path: &str) -> io::Result<Stat>;
    /// `getxattr(2)`.
    fn xattr(&self, path: &str, name: &str) -> io::Result<Vec<u8>>;
    /// `listxattr(2)`: the attribute names.
    fn xattr_names(&self, path: &str) -> io::Result<Vec<String>>;

    /// Pushes every pending save now and returns once Notion has them (or they failed or
    /// conflicted): `notionfs sync --wait`.
    fn settle(&self);
    /// Saves in the journal, not confirmed by Notion yet (`notionfs status`).
    fn journal_records(&self) -> usize;
    /// The failed saves: page id and reason (`notionfs status`).
    fn failed(&self) -> Vec<(String, String)>;
    /// The API calls the mount made (its own client's counters: retries, 5xx…).
    fn api_use(&self) -> StatsSnapshot;
    /// What the mount logged so far, where a log is kept (the mount process's).
    fn log(&self) -> Option<String>;

    /// Ends the mount.
    fn stop(&mut self, how: Stop);
    /// Mounts again on the same cache directory (a stopped driver).
    fn start(&mut self);
    /// Shuts the API down for good: every later call to Notion fails.
    fn stop_api(&mut self);

    /// The content of a text file (fails the test if it cannot be read).
    fn text(&self, path: &str) -> String {
        let data = self
            .read(path)
            .unwrap_or_else(|e| panic!("{}: read {path}: {e}", self.kind()));
        String::from_utf8(data).expect("utf-8")
    }

    /// Whether `path` exists.
    fn exists(&self, path: &str) -> bool {
        self.stat(path).is_ok()
    }

    /// The `user.notionfs.sync` attribute of `path` (empty if it cannot be read).
    fn sync_state(&self, path: &str) -> String {
        self.xattr(path, "user.notionfs.sync")
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    }

    /// Polls the sync state of `path` until `ok` holds; returns it.
    fn wait_state(&self, path: &str, ok: &dyn Fn(&str) -> bool) -> String {
        let t = Instant::now();
        loop {
            let s = self.sync_state(path);
            if ok(&s) {
                return s;
            }
            let log = self.log().unwrap_or_default();
            assert!(t.elapsed() < PATIENCE, "{path} still {s:?}\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until Notion has the saves of `path` (after the quiet period).
    fn wait_clean(&self, path: &str) {
        self.wait_state(path, &|s| {
            assert!(!s.starts_with("failed"), "push failed: {s}");
            s == "clean"
        });
    }
}

/// The errno of an operation that must fail.
pub fn errno<T: std::fmt::Debug>(r: io::Result<T>) -> i32 {
    r.expect_err("must fail").raw_os_error().expect("an errno")
}

fn emulator(seed: Option<Seed>) -> Emulator {
    let mut config = EmulatorConfig::default();
    if let Some(seed) = seed {
        config.seed = seed;
    }
    Emulator::start_blocking(config).expect("emulator")
}

fn os(e: FsError) -> io::Error {
    io::Error::from_raw_os_error(e.errno())
}

fn err(errno: i32) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// The parent directory and the last name of `path`.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

// ----- the core, called as the adapter calls it ---------------------------------------------

/// An [`FsCore`] against the emulator, with a runtime of its own: each operation is the
/// requests the kernel sends for the syscall (lookups of each path component, then the
/// operation; `close` is a flush, then a release), each run with `block_on` exactly as
/// `src/fuse.rs` runs them. Started like the mount starts it: the journal opened and what
/// it holds replayed in the background.
pub struct CoreDriver {
    emu: Option<Emulator>,
    ttl: Duration,
    reconcile: Duration,
    write_delay: Duration,
    read_only: bool,
    cache: tempfile::TempDir,
    live: Option<Live>,
}

/// A running core and the runtime its requests and pushes run on.
struct Live {
    rt: tokio::runtime::Runtime,
    core: Arc<FsCore>,
}

/// Bytes the kernel reads or writes per request.
const CHUNK: usize = 128 * 1024;

impl CoreDriver {
    /// A core of the workspace `setup` describes, ready.
    pub fn start(setup: Setup) -> CoreDriver {
        let mut d = CoreDriver {
            emu: Some(emulator(setup.seed)),
            ttl: setup.ttl,
            reconcile: setup.reconcile,
            write_delay: setup.write_delay,
            read_only: setup.read_only,
            cache: tempfile::tempdir().expect("tempdir"),
            live: None,
        };
        Driver::start(&mut d);
        d
    }

    /// One poll of the change feed, now; how many changes it applied.
    #[allow(dead_code)]
    pub fn poll(&self) -> usize {
        self.on(self.core().poll_changes()).expect("poll")
    }

    fn live(&self) -> &Live {
        self.live.as_ref().expect("not mounted")
    }

    fn core(&self) -> &FsCore {
        &self.live().core
    }

    /// Runs one core request to completion, as the adapter does.
    fn on<T>(&self, f: impl Future<Output = Result<T, FsError>>) -> io::Result<T> {
        self.live().rt.block_on(f).map_err(os)
    }

    fn lookup(&self, parent: u64, name: &str) -> io::Result<notionfs::fs::Attr> {
        self.on(self.core().lookup(parent, name))
    }

    /// The inode of `path`: a lookup per component.
    fn resolve(&self, path: &str) -> io::Result<u64> {
        let mut ino = ROOT_INO;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            ino = self.lookup(ino, part)?.ino;
        }
        Ok(ino)
    }

    /// The parent's inode and the last name of `path`, and what that name is now (the
    /// kernel looks it up before it creates, removes or renames).
    fn entry<'a>(&self, path: &'a str) -> io::Result<(u64, &'a str, Option<notionfs::fs::Attr>)> {
        let (dir, name) = split(path);
        let parent = self.resolve(dir)?;
        match self.lookup(parent, name) {
            Ok(a) => Ok((parent, name, Some(a))),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok((parent, name, None)),
            Err(e) => Err(e),
        }
    }

    /// What `close(2)` makes the kernel send: a flush (answered ENOSYS by a mount that takes
    /// no writes, which the kernel ignores), then the release.
    fn close(&self, fh: u64) -> io::Result<()> {
        let flushed = match self.on(self.core().fsync(fh)) {
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => Ok(()),
            other => other,
        };
        let released = self.on(self.core().close(fh));
        flushed.and(released)
    }

    /// Writes `data` through `fh` from `offset` in the kernel's request size, then closes.
    fn write_and_close(&self, fh: u64, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut at = offset;
        for chunk in data.chunks(CHUNK) {
            if let Err(e) = self.core().write(fh, at, chunk) {
                let _ = self.close(fh);
                return Err(os(e));
            }
            at += chunk.len() as u64;
        }
        self.close(fh)
    }

    fn writer(&self) -> Option<Arc<notionfs::writeback::Writer>> {
        self.core().write_back().cloned()
    }
}

impl Driver for CoreDriver {
    fn kind(&self) -> &'static str {
        "core"
    }

    fn emu(&self) -> &Emulator {
        self.emu.as_ref().expect("the API was stopped")
    }

    fn cache_dir(&self) -> &Path {
        self.cache.path()
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        let ino = self.resolve(path)?;
        let o = self.on(self.core().open(ino, libc::O_RDONLY))?;
        let mut out = Vec::new();
        let read = loop {
            match self.core().read(o.fh, out.len() as u64, CHUNK as u32) {
                Ok(c) if c.is_empty() => break Ok(()),
                Ok(c) => out.extend(c),
                Err(e) => break Err(os(e)),
            }
        };
        let closed = self.close(o.fh);
        read.and(closed).map(|()| out)
    }

    fn write(&self, path: &str, data: &[u8]) -> io::Result<()> {
        let (parent, name, found) = self.entry(path)?;
        let fh = match found {
            // No atomic O_TRUNC: the kernel opens without it, then truncates by inode.
            Some(a) => {
                let o = self.on(self.core().open(a.ino, libc::O_WRONLY))?;
                let cut = AttrChange {
                    mode_or_owner: false,
                    size: Some(0),
                };
                if let Err(e) = self.on(self.core().setattr(a.ino, None, cut)) {
                    let _ = self.close(o.fh);
                    return Err(e);
                }
                o.fh
            }
            None => self.on(self.core().create(parent, name))?.1.fh,
        };
        self.write_and_close(fh, 0, data)
    }

    fn append(&self, path: &str, data: &[u8]) -> io::Result<()> {
        let ino = self.resolve(path)?;
        let o = self.on(self.core().open(ino, libc::O_WRONLY | libc::O_APPEND))?;
        // An O_APPEND write goes to the size the kernel just asked for.
        let size = self.core().getattr(ino).map_err(os)?.size;
        self.write_and_close(o.fh, size, data)
    }

    fn mkdir(&self, path: &str) -> io::Result<()> {
        match self.entry(path)? {
            (_, _, Some(_)) => Err(err(libc::EEXIST)),
            (parent, name, None) => self.on(self.core().mkdir(parent, name)).map(|_| ()),
        }
    }

    fn rmdir(&self, path: &str) -> io::Result<()> {
        match self.entry(path)? {
            (_, _, None) => Err(err(libc::ENOENT)),
            (_, _, Some(a)) if a.kind != FileKind::Dir => Err(err(libc::ENOTDIR)),
            (parent, name, Some(_)) => self.on(self.core().rmdir(parent, name)),
        }
    }

    fn unlink(&self, path: &str) -> io::Result<()> {
        match self.entry(path)? {
            (_, _, None) => Err(err(libc::ENOENT)),
            (_, _, Some(a)) if a.kind == FileKind::Dir => Err(err(libc::EISDIR)),
            (parent, name, Some(_)) => self.on(self.core().unlink(parent, name)),
        }
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (parent, name, src) = self.entry(from)?;
        let src = src.ok_or_else(|| err(libc::ENOENT))?;
        let (new_parent, new_name, dst) = self.entry(to)?;
        match dst {
            Some(d) if d.kind == FileKind::Dir && src.kind != FileKind::Dir => {
                Err(err(libc::EISDIR))
            }
            Some(d) if d.kind != FileKind::Dir && src.kind == FileKind::Dir => {
                Err(err(libc::ENOTDIR))
            }
            _ => self.on(self.core().rename(parent, name, new_parent, new_name)),
        }
    }

    fn list(&self, dir: &str) -> io::Result<BTreeSet<String>> {
        let ino = self.resolve(dir)?;
        self.core().opendir(ino).map_err(os)?;
        let entries = self.on(self.core().readdir(ino))?;
        Ok(entries.into_iter().map(|e| e.name).collect())
    }

    fn stat(&self, path: &str) -> io::Result<Stat> {
        let a = self.core().getattr(self.resolve(path)?).map_err(os)?;
        Ok(Stat {
            ino: a.ino,
            size: a.size,
            dir: a.kind == FileKind::Dir,
            perm: u32::from(a.perm),
            mtime: a.mtime,
        })
    }

    fn xattr(&self, path: &str, name: &str) -> io::Result<Vec<u8>> {
        self.core().getxattr(self.resolve(path)?, name).map_err(os)
    }

    fn xattr_names(&self, path: &str) -> io::Result<Vec<String>> {
        let list = self.core().listxattr(self.resolve(path)?).map_err(os)?;
        Ok(mount::names_of(&list))
    }

    fn settle(&self) {
        let Some(w) = self.writer() else { return };
        let core = self.live().core.clone();
        // As `notionfs sync --wait` does: saves made while pushing are pushed too.
        self.live().rt.block_on(async move {
            for _ in 0..5 {
                core.drain_namespace().await;
                w.flush_all().await;
                core.catch_up();
                let snap = w.clone();
                let pages = tokio::task::spawn_blocking(move || snap.snapshot())
                    .await
                    .expect("snapshot");
                if !pages.iter().any(|p| p.state == SyncState::Pending) {
                    break;
                }
            }
        });
    }

    fn journal_records(&self) -> usize {
        self.writer().map_or(0, |w| w.journal().pending_count())
    }

    fn failed(&self) -> Vec<(String, String)> {
        let Some(w) = self.writer() else {
            return Vec::new();
        };
        let records = w.journal().pending().expect("journal");
        records
            .into_iter()
            .filter_map(|r| Some((r.page_id, r.failure?)))
            .collect()
    }

    fn api_use(&self) -> StatsSnapshot {
        self.core().client().stats()
    }

    fn log(&self) -> Option<String> {
        None
    }

    fn stop(&mut self, how: Stop) {
        let live = self.live.take().expect("not mounted");
        if how == Stop::Clean {
            // As the daemon drains after unmounting: pending saves and uploads in flight.
            if let Some(w) = live.core.write_back().cloned() {
                let core = live.core.clone();
                live.rt.block_on(async move {
                    let pushes = async {
                        core.drain_namespace().await;
                        w.flush_all().await
                    };
                    let both = futures::future::join(pushes, core.uploads_idle());
                    let _ = tokio::time::timeout(Duration::from_secs(20), both).await;
                });
            }
            live.core.save_snapshot();
            live.rt.shutdown_timeout(Duration::from_secs(2));
        } else {
            // Whatever was scheduled dies with the process: tasks are dropped, blocking
            // tasks not started yet too. Those already running finish on their threads, as
            // a dying process's issued writes land, before the next core starts (a new
            // mount waits for the old process's lock). (A fixed pause here was too short on
            // a loaded machine: an old snapshot write landed over the next core's.)
            live.rt.shutdown_timeout(Duration::from_secs(30));
            // And what it had sent lands before the next core reads Notion: a request
            // the server applies after the restart's reads is beyond what any client can
            // see (a real crash has the same window, for the time a request is in flight).
            let ctl = self.emu().control();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while ctl.in_flight() > 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    fn start(&mut self) {
        assert!(self.live.is_none(), "already mounted");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let _in = rt.enter();
        // SAFETY: getuid/getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let settings = Settings {
            ttl: self.ttl,
            reconcile: self.reconcile,
            cache_size: 64 << 20,
            read_only: self.read_only,
            uid,
            gid,
            cache_dir: self.cache.path().to_path_buf(),
            max_in_flight: 8,
        };
        let client = super::core::client(self.emu());
        // As the daemon does: what the last run knew, then the change feed.
        let core = FsCore::new(client, settings).expect("core");
        core.restore_snapshot();
        let core = Arc::new(core);
        if !self.read_only {
            let journal = self.cache.path().join("journal");
            let w = core
                .enable_writes(&journal, self.write_delay)
                .expect("journal");
            // Namespace changes queued before a restart show before the mount serves, and
            // go out in the background.
            rt.block_on(core.replay_namespace());
            rt.spawn(async move { w.flush_all().await });
            let uploads = core.clone();
            rt.spawn_blocking(move || uploads.replay_uploads());
        }
        // The feed starts once the queued changes show (the daemon's order).
        core.start_feed();
        if !self.read_only {
            core.start_namespace_queue();
        }
        drop(_in);
        self.live = Some(Live { rt, core });
    }

    fn stop_api(&mut self) {
        // Its runtime goes with it: the listener and every connection are closed.
        drop(self.emu.take());
    }
}

impl Drop for CoreDriver {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            live.rt.shutdown_background();
        }
    }
}

// ----- a real mount, through the kernel -----------------------------------------------------

/// A real `notionfs mount` (the binary, a child process) of the emulator's workspace;
/// operations are plain syscalls on the mountpoint, `settle` is `notionfs sync --wait` and
/// the journal and failures are read with `notionfs status --json`.
pub struct MountDriver {
    // Dropped first: the mount ends while the API and its directories are still there.
    mount: Option<Mount>,
    emu: Option<Emulator>,
    args: Vec<String>,
    mpd: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl MountDriver {
    /// A mount of the workspace `setup` describes, or `None` (the test is skipped, with the
    /// reason printed) where FUSE cannot work; with `NOTIONFS_REQUIRE_FUSE=1` that fails.
    pub fn start(setup: Setup) -> Option<MountDriver> {
        if !fuse_usable() {
            return None;
        }
        let mut args = vec![
            "--ttl".to_string(),
            setup.ttl.as_secs_f64().to_string(),
            "--write-delay".to_string(),
            setup.write_delay.as_millis().to_string(),
            "--reconcile".to_string(),
            setup.reconcile.as_secs_f64().to_string(),
        ];
        if setup.read_only {
            args.push("--read-only".into());
        }
        let mut d = MountDriver {
            mount: None,
            emu: Some(emulator(setup.seed)),
            args,
            mpd: tempfile::tempdir().expect("tempdir"),
            cache: tempfile::tempdir().expect("tempdir"),
        };
        Driver::start(&mut d);
        Some(d)
    }

    fn mount(&self) -> &Mount {
        self.mount.as_ref().expect("not mounted")
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.mount().p(rel)
    }

    fn status(&self) -> Value {
        self.mount().status()
    }
}

impl Driver for MountDriver {
    fn kind(&self) -> &'static str {
        "mount"
    }

    fn emu(&self) -> &Emulator {
        self.emu.as_ref().expect("the API was stopped")
    }

    fn cache_dir(&self) -> &Path {
        self.cache.path()
    }

    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.p(path))
    }

    fn write(&self, path: &str, data: &[u8]) -> io::Result<()> {
        std::fs::write(self.p(path), data)
    }

    fn append(&self, path: &str, data: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.p(path))?;
        f.write_all(data)
    }

    fn mkdir(&self, path: &str) -> io::Result<()> {
        std::fs::create_dir(self.p(path))
    }

    fn rmdir(&self, path: &str) -> io::Result<()> {
        std::fs::remove_dir(self.p(path))
    }

    fn unlink(&self, path: &str) -> io::Result<()> {
        std::fs::remove_file(self.p(path))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        std::fs::rename(self.p(from), self.p(to))
    }

    fn list(&self, dir: &str) -> io::Result<BTreeSet<String>> {
        std::fs::read_dir(self.p(dir))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect()
    }

    fn stat(&self, path: &str) -> io::Result<Stat> {
        let m = std::fs::metadata(self.p(path))?;
        Ok(Stat {
            ino: m.ino(),
            size: m.len(),
            dir: m.is_dir(),
            perm: m.mode() & 0o7777,
            mtime: m.modified()?,
        })
    }

    fn xattr(&self, path: &str, name: &str) -> io::Result<Vec<u8>> {
        mount::getxattr(&self.p(path), name)
    }

    fn xattr_names(&self, path: &str) -> io::Result<Vec<String>> {
        mount::listxattr(&self.p(path))
    }

    fn settle(&self) {
        let m = self.mount();
        let o = notionfs(&["sync", m.mp.to_str().unwrap(), "--wait"]);
        // 1: some save failed or conflicted; the scenario looks at which.
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}\n{}",
            describe(&o),
            m.stderr()
        );
    }

    fn journal_records(&self) -> usize {
        self.status()["journal_records"]
            .as_u64()
            .expect("journal_records") as usize
    }

    fn failed(&self) -> Vec<(String, String)> {
        let s = self.status();
        s["failed"]
            .as_array()
            .expect("failed")
            .iter()
            .map(|f| {
                let field = |k: &str| f[k].as_str().unwrap_or_default().to_string();
                (field("page"), field("reason"))
            })
            .collect()
    }

    fn api_use(&self) -> StatsSnapshot {
        let api = self.status()["api"].clone();
        let n = |k: &str| api[k].as_u64().unwrap_or_default();
        StatsSnapshot {
            calls: serde_json::from_value(api["by_endpoint"].clone()).expect("by_endpoint"),
            retries: n("retries"),
            rate_limited: n("rate_limited"),
            server_errors: n("server_errors"),
        }
    }

    fn log(&self) -> Option<String> {
        std::fs::read_to_string(self.cache.path().join("stderr.log")).ok()
    }

    fn stop(&mut self, how: Stop) {
        let m = self.mount.take().expect("not mounted");
        m.stop(match how {
            Stop::Clean => libc::SIGTERM,
            Stop::Crash => libc::SIGKILL,
        });
    }

    fn start(&mut self) {
        assert!(self.mount.is_none(), "already mounted");
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let m = Mount::start_on(self.emu(), self.mpd.path(), self.cache.path(), &args);
        self.mount = Some(m);
    }

    fn stop_api(&mut self) {
        // Its runtime goes with it: the listener and every connection are closed.
        drop(self.emu.take());
    }
}
