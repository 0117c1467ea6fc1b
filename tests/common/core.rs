//! The filesystem core without FUSE, for the suites that check what only the core shows
//! (exact API calls, the journal, timing): an emulator client, cores built on it, and the
//! path, read, save and sync-state helpers those suites share. The scenarios that the core
//! and a mount share go through [`super::driver`] instead.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use notionfs::emulator::Emulator;
use notionfs::fs::{FsCore, FsResult, Settings, ROOT_INO};
use notionfs::notion::{Client, ClientConfig, StatsSnapshot, Token};

use super::PATIENCE;

/// A client of the emulator with no rate limit and short backoffs (tests wait little).
pub fn client(emu: &Emulator) -> Client {
    let mut cfg = ClientConfig::new(emu.base_url(), Token::new(emu.token()));
    cfg.rate = None;
    cfg.base_backoff = Duration::from_millis(5);
    cfg.max_backoff = Duration::from_millis(20);
    cfg.max_retries = 8;
    cfg.timeout = Duration::from_secs(5);
    Client::new(cfg).expect("client")
}

/// Settings of a writable core owned by uid/gid 1000, caching in `cache`.
pub fn settings(cache: &Path, ttl: Duration) -> Settings {
    Settings {
        ttl,
        reconcile: Duration::ZERO,
        cache_size: 64 << 20,
        read_only: false,
        uid: 1000,
        gid: 1000,
        cache_dir: cache.to_path_buf(),
        max_in_flight: 8,
    }
}

/// A core with `settings` and the write path off.
pub fn reader(emu: &Emulator, settings: Settings) -> Arc<FsCore> {
    Arc::new(FsCore::new(client(emu), settings).expect("core"))
}

/// A core with the write path on (journal in `cache/journal`, pushes `delay` after the last
/// save), metadata fresh for a minute.
pub fn core(emu: &Emulator, cache: &Path, delay: Duration) -> Arc<FsCore> {
    core_ttl(emu, cache, delay, Duration::from_secs(60))
}

/// [`core`] with metadata fresh for `ttl`.
pub fn core_ttl(emu: &Emulator, cache: &Path, delay: Duration, ttl: Duration) -> Arc<FsCore> {
    let core = FsCore::new(client(emu), settings(cache, ttl)).expect("core");
    core.enable_writes(&cache.join("journal"), delay)
        .expect("writes");
    Arc::new(core)
}

/// The inode of `path` (relative to the root, `/`-separated), looked up part by part.
pub async fn ino(core: &FsCore, path: &str) -> u64 {
    let mut ino = ROOT_INO;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        ino = core
            .lookup(ino, part)
            .await
            .unwrap_or_else(|e| panic!("lookup {part} in {path}: {e}"))
            .ino;
    }
    ino
}

/// The names in the directory `path`, sorted.
pub async fn names(core: &FsCore, path: &str) -> Vec<String> {
    let d = ino(core, path).await;
    let mut n: Vec<String> = core
        .readdir(d)
        .await
        .expect("readdir")
        .into_iter()
        .map(|e| e.name)
        .collect();
    n.sort();
    n
}

/// The whole content of `ino`: open, read to the end, close.
pub async fn cat(core: &FsCore, ino: u64) -> Vec<u8> {
    let o = core.open(ino, libc::O_RDONLY).await.expect("open");
    let mut out = Vec::new();
    loop {
        let chunk = core.read(o.fh, out.len() as u64, 4096).expect("read");
        if chunk.is_empty() {
            break;
        }
        out.extend(chunk);
    }
    core.close(o.fh).await.expect("close");
    out
}

/// [`cat`] of the file at `path`, as text.
pub async fn cat_text(core: &FsCore, path: &str) -> String {
    String::from_utf8(cat(core, ino(core, path).await).await).expect("utf-8")
}

/// A save: `open(O_WRONLY|O_TRUNC)`, the content in small writes, close (which journals
/// it: no separate flush).
pub async fn save(core: &FsCore, ino: u64, data: &[u8]) {
    let o = core
        .open(ino, libc::O_WRONLY | libc::O_TRUNC)
        .await
        .expect("open for writing");
    for (i, chunk) in data.chunks(7).enumerate() {
        core.write(o.fh, (i * 7) as u64, chunk).expect("write");
    }
    core.close(o.fh).await.expect("close");
}

/// The `user.notionfs.sync` attribute of `ino`.
pub fn sync_state(core: &FsCore, ino: u64) -> String {
    String::from_utf8(core.getxattr(ino, "user.notionfs.sync").expect("xattr")).expect("utf-8")
}

/// Polls the sync state of `ino` until `ok` holds; returns it.
pub async fn wait_state(core: &FsCore, ino: u64, ok: impl Fn(&str) -> bool) -> String {
    let t = Instant::now();
    loop {
        let s = sync_state(core, ino);
        if ok(&s) {
            return s;
        }
        assert!(t.elapsed() < PATIENCE, "still {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until Notion has the saves of `ino` (a failed push fails the test).
pub async fn wait_clean(core: &FsCore, ino: u64) {
    wait_state(core, ino, |s| {
        assert!(!s.starts_with("failed"), "push failed: {s}");
        s == "clean"
    })
    .await;
}

/// The API calls the core made since `before`.
pub fn since(core: &FsCore, before: &StatsSnapshot) -> StatsSnapshot {
    core.client().stats().since(before)
}

/// The errno of an operation that must fail.
pub fn errno<T: std::fmt::Debug>(r: FsResult<T>) -> i32 {
    r.expect_err("must fail").errno()
}
