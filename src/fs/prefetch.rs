//! `notionfs prefetch [PATH]` inside the mount: reads every page under a folder into the
//! disk cache while the mount keeps serving (notionfs(1), COMMANDS).
//!
//! The walk goes folder by folder from PATH: the pages of one folder are read a few at a
//! time (`AT_ONCE`; the client's rate limit paces them), then its subfolders are walked
//! (a page's folder is listed from the body just read, so listing it costs nothing more).
//! A page whose rendering is current already — in memory, or in the disk cache at the
//! page's current edit time — is skipped without a call: a second run, or a run after an
//! interrupted one, reads only what is missing or changed. Attachments are not downloaded.
//!
//! Progress is counted in a [`Prefetch`] shared with `notionfs status` and the command's
//! progress display; the job stops when its future is dropped (the command interrupted).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::error::{FsError, FsResult};
use super::inode::NodeKey;
use super::FsCore;

/// Pages of one folder read at once.
const AT_ONCE: usize = 4;

/// The inode of the mount root.
const ROOT: u64 = 1;

/// A running prefetch's counters (see the module doc).
#[derive(Debug)]
pub struct Prefetch {
    path: String,
    started: Instant,
    calls_at_start: u64,
    found: AtomicU64,
    read: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
    walked: AtomicBool,
}

/// What a prefetch did so far, as `notionfs status` and `notionfs prefetch` show it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefetchProgress {
    /// The folder (or page) prefetched, relative to the mount root (`""`: all of it).
    pub path: String,
    /// Pages found under it so far.
    pub pages: u64,
    /// Whether the whole tree was walked (`pages` is then the total).
    pub counted: bool,
    /// Pages read into the disk cache.
    pub read: u64,
    /// Pages skipped: their rendering was current already.
    pub skipped: u64,
    /// Pages that could not be read (logged by the mount).
    pub failed: u64,
    /// API calls the mount made since the prefetch started (its own and any others).
    pub calls: u64,
    /// Milliseconds since it started.
    pub millis: u64,
    /// Whether it is still running.
    pub running: bool,
}

impl PrefetchProgress {
    /// Pages dealt with (read, skipped or failed).
    pub fn done(&self) -> u64 {
        self.read + self.skipped + self.failed
    }
}

impl Prefetch {
    /// A prefetch of `path` starting now, when the client had made `calls` calls.
    pub fn new(path: &str, calls: u64) -> Prefetch {
        Prefetch {
            path: path.to_string(),
            started: Instant::now(),
            calls_at_start: calls,
            found: AtomicU64::new(0),
            read: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            walked: AtomicBool::new(false),
        }
    }

    /// Its progress, given the client's call count now; `running` as the caller knows.
    pub fn progress(&self, calls: u64, running: bool) -> PrefetchProgress {
        PrefetchProgress {
            path: self.path.clone(),
            pages: self.found.load(Ordering::Relaxed),
            counted: self.walked.load(Ordering::Relaxed),
            read: self.read.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            calls: calls.saturating_sub(self.calls_at_start),
            millis: self.started.elapsed().as_millis() as u64,
            running,
        }
    }
}

impl FsCore {
    /// Reads every page under `rel` (a path relative to the mount root, `/`-separated)
    /// into the disk cache, counting in `p` (see the module doc).
    pub async fn prefetch(&self, rel: &str, p: &Prefetch) -> FsResult<()> {
        let mut ino = ROOT;
        for name in rel.split('/').filter(|c| !c.is_empty() && *c != ".") {
            ino = self.lookup(ino, name).await?.ino;
        }
        let mut dirs = Vec::new();
        let mut seen = HashSet::new();
        match self.key(ino)? {
            NodeKey::PageFile(id) => {
                self.prefetch_pages(vec![id.clone()], p, &mut seen).await;
                dirs.push(NodeKey::PageDir(id));
            }
            k if k.is_dir() => dirs.push(k),
            _ => return Err(FsError::NotDir),
        }
        while let Some(dir) = dirs.pop() {
            let listing = match self.listing(&dir).await {
                Ok(l) => l,
                // A page without a folder, or a folder gone meanwhile.
                Err(FsError::NotFound) => continue,
                Err(e) => return Err(e),
            };
            let mut pages = Vec::new();
            for e in &listing.entries {
                match &e.key {
                    NodeKey::PageFile(id) => pages.push(id.clone()),
                    k if k.is_dir() => dirs.push(k.clone()),
                    _ => {}
                }
            }
            self.prefetch_pages(pages, p, &mut seen).await;
        }
        p.walked.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Reads the pages of one folder that are not current already.
    async fn prefetch_pages(&self, pages: Vec<String>, p: &Prefetch, seen: &mut HashSet<String>) {
        let mut wanted = Vec::new();
        for id in pages {
            if !seen.insert(id.clone()) {
                continue;
            }
            p.found.fetch_add(1, Ordering::Relaxed);
            if self.rendering_current(&id) {
                p.skipped.fetch_add(1, Ordering::Relaxed);
            } else {
                wanted.push(id);
            }
        }
        let mut reads = futures::stream::iter(wanted)
            .map(|id| async move { (self.body(&id).await, id) })
            .buffer_unordered(AT_ONCE);
        while let Some((r, id)) = reads.next().await {
            match r {
                Ok(_) => p.read.fetch_add(1, Ordering::Relaxed),
                Err(e) => {
                    tracing::warn!(page = %id, error = %e, "prefetch: cannot read a page");
                    p.failed.fetch_add(1, Ordering::Relaxed)
                }
            };
        }
    }

    /// Whether page `id`'s rendering is current without a call: in memory and not stale,
    /// or in the disk cache at the page's current edit time.
    fn rendering_current(&self, id: &str) -> bool {
        let st = self.state();
        match st.bodies.peek(id) {
            Some(b) => !b.stale,
            None => self.disk_size(&st, id).is_some(),
        }
    }
}
