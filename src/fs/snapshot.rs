//! What the mount knows, kept in the cache dir (`tree.json`, 0600) so a remount starts from
//! it instead of crawling the workspace: the objects (pages, rows with their properties,
//! databases, data sources with their schemas), each database's data sources, the
//! feed's watermark, and the disk cache's index (sizes of rendered pages, so `ls -l` is
//! exact before any page is opened again). The first poll after a remount catches up from that watermark; the
//! reconcile of folders in use catches what search cannot report.
//!
//! Written whole to a temporary file and renamed over the old one, at most every
//! [`EVERY`] while changes come in, after a crawl, and at unmount. A damaged or foreign file
//! is ignored (logged): the mount crawls instead.
//!
//! What only this mount knows must not wait for the next write: a page trashed through the
//! mount (search never reports it), a folder shown by `mkdir` or hidden by `rmdir`, and
//! Notion's answer to a create, rename or move made through the mount (so a restart while
//! Notion cannot be reached still shows it) are appended to `local.log` (a line each,
//! fsync'd) before the call returns, and a restore replays the log over the snapshot; the
//! log is emptied once a snapshot taken after its last line is written.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::tree::Obj;
use super::FsCore;
use crate::notion::model::{DataSource, DataSourceRef, Page};

/// The snapshot's file name in the cache dir.
pub const FILE: &str = "tree.json";
/// Format version: a file of another version is ignored.
const VERSION: u32 = 1;
/// Least time between two writes while changes keep coming.
pub const EVERY: Duration = Duration::from_secs(30);

/// The log of local tree changes since the last snapshot.
const LOG: &str = "local.log";

/// A change to the tree that only this mount knows of (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum LocalChange {
    /// Notion's answer to a create, rename or move made through the mount (a restart
    /// before the snapshot covers it, with Notion unreachable, still shows it).
    Known(Box<Page>),
    /// The page was trashed through the mount.
    Gone(String),
    /// The page's folder was made with `mkdir`.
    Folder(String),
    /// The page's empty folder was hidden with `rmdir`.
    NoFolder(String),
}

impl LocalChange {
    fn line(&self) -> std::io::Result<String> {
        Ok(match self {
            LocalChange::Known(p) => {
                format!(
                    "page {}\n",
                    serde_json::to_string(p).map_err(std::io::Error::other)?
                )
            }
            LocalChange::Gone(id) => format!("gone {id}\n"),
            LocalChange::Folder(id) => format!("folder {id}\n"),
            LocalChange::NoFolder(id) => format!("nofolder {id}\n"),
        })
    }

    fn parse(line: &str) -> Option<LocalChange> {
        let (verb, id) = line.trim().split_once(' ')?;
        if verb == "page" {
            return serde_json::from_str(id).ok().map(LocalChange::Known);
        }
        let id = id.to_string();
        match verb {
            "gone" => Some(LocalChange::Gone(id)),
            "folder" => Some(LocalChange::Folder(id)),
            "nofolder" => Some(LocalChange::NoFolder(id)),
            _ => None,
        }
    }
}

/// Local tree changes the snapshot on disk may not hold yet.
#[derive(Debug)]
pub(super) struct LocalLog {
    path: PathBuf,
    /// Lines appended since the mount started (a snapshot taken at `n` covers the first `n`).
    appended: std::sync::Mutex<u64>,
}

impl LocalLog {
    /// The log in `cache_dir`.
    pub(super) fn new(cache_dir: &Path) -> LocalLog {
        LocalLog {
            path: cache_dir.join(LOG),
            appended: std::sync::Mutex::new(0),
        }
    }

    /// Notes `change` durably.
    fn append(&self, change: &LocalChange) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut n = self.appended.lock().unwrap_or_else(|e| e.into_inner());
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)?;
        f.write_all(change.line()?.as_bytes())?;
        f.sync_data()?;
        *n += 1;
        Ok(())
    }

    /// How many lines were appended so far.
    fn count(&self) -> u64 {
        *self.appended.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Empties the log if nothing was appended after a snapshot taken at `at` was written.
    fn written(&self, at: u64) {
        let n = self.appended.lock().unwrap_or_else(|e| e.into_inner());
        if *n == at {
            if let Err(e) = std::fs::remove_file(&self.path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(error = %e, "cannot empty the log of local tree changes");
                }
            }
        }
    }

    /// The changes the log holds, oldest first (a line it cannot read is skipped).
    fn changes(&self) -> Vec<LocalChange> {
        match std::fs::read_to_string(&self.path) {
            Ok(t) => t.lines().filter_map(LocalChange::parse).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// The saved state.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Snapshot {
    /// Format version.
    version: u32,
    /// The feed's watermark (newest edit seen).
    pub watermark: Option<String>,
    /// Every object known.
    pub objects: Vec<Obj>,
    /// Each database's data sources.
    pub databases: HashMap<String, Vec<DataSourceRef>>,
    /// Data sources with their schemas.
    pub schemas: Vec<DataSource>,
    /// The disk cache's index (see [`super::content::Cached`]).
    #[serde(default)]
    pub disk: HashMap<String, super::content::Cached>,
    /// Pages whose folder is shown because someone made it (`mkdir`), though empty.
    #[serde(default)]
    pub made_dirs: Vec<String>,
}

/// When the snapshot was last written and whether changes wait for the next write.
#[derive(Debug, Default)]
pub(super) struct SnapshotState {
    /// Last write.
    written: Option<Instant>,
    /// Changes since then.
    pub pending: bool,
}

fn path(cache_dir: &Path) -> PathBuf {
    cache_dir.join(FILE)
}

/// Reads the snapshot in `cache_dir`, if there is a usable one.
pub(super) fn load(cache_dir: &Path) -> Option<Snapshot> {
    let text = match std::fs::read(path(cache_dir)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the tree snapshot; crawling instead");
            return None;
        }
    };
    match serde_json::from_slice::<Snapshot>(&text) {
        Ok(s) if s.version == VERSION => Some(s),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "the tree snapshot is damaged; crawling instead");
            None
        }
    }
}

/// Writes `snap` (logged if it cannot be) and then empties the log of local changes it
/// covers.
fn write(cache_dir: &Path, snap: &Snapshot, log: &LocalLog, at: u64) {
    match save(cache_dir, snap) {
        Ok(()) => log.written(at),
        Err(e) => tracing::warn!(error = %e, "cannot write the tree snapshot"),
    }
}

/// Writes `snap` atomically (temporary file, fsync, rename), private to the user.
fn save(cache_dir: &Path, snap: &Snapshot) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = cache_dir.join(format!("{FILE}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    serde_json::to_writer(std::io::BufWriter::new(&mut f), snap)?;
    f.flush()?;
    f.sync_all()?;
    std::fs::rename(&tmp, path(cache_dir))
}

impl FsCore {
    /// Restores what an earlier run knew (at mount, before serving); whether there was a
    /// snapshot to restore.
    pub fn restore_snapshot(&self) -> bool {
        let Some(snap) = load(&self.settings.cache_dir) else {
            return false;
        };
        let mut st = self.state();
        let n = snap.objects.len();
        for o in snap.objects {
            st.know(o);
        }
        for d in snap.schemas {
            st.schemas.insert(d.id.clone(), Arc::new(d));
        }
        st.databases.extend(snap.databases);
        self.disk.restore_index(snap.disk);
        st.made_dirs.extend(snap.made_dirs);
        for change in self.local.changes() {
            match change {
                LocalChange::Known(p) => {
                    st.know_page(&p);
                }
                LocalChange::Gone(id) => {
                    st.forget(&id);
                }
                LocalChange::Folder(id) => {
                    st.made_dirs.insert(id);
                }
                LocalChange::NoFolder(id) => {
                    st.made_dirs.remove(&id);
                }
            }
        }
        st.feed.advance(snap.watermark.as_deref());
        st.crawled = true;
        st.caught_up = false;
        tracing::info!(
            objects = n,
            "restored what the last run knew; catching up with the feed"
        );
        true
    }

    /// Notes that the snapshot is out of date; it is written now if the last write is older
    /// than [`EVERY`] (on a blocking thread), else by a later call or at unmount.
    pub(super) fn snapshot_soon(&self) {
        let due = {
            let mut st = self.state();
            st.snapshot.pending = true;
            st.snapshot.written.is_none_or(|t| t.elapsed() >= EVERY)
        };
        if due {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let (snap, at) = self.take_snapshot();
                let dir = self.settings.cache_dir.clone();
                let log = self.local.clone();
                rt.spawn_blocking(move || write(&dir, &snap, &log, at));
            }
        }
    }

    /// Notes a change to the tree only this mount knows of (see the module doc), before the
    /// call that made it returns. The tree must hold the change already: a snapshot taken
    /// after the note counts it as covered.
    pub(super) async fn note_local(&self, change: LocalChange) {
        self.state().snapshot.pending = true;
        let log = self.local.clone();
        let r = tokio::task::spawn_blocking(move || log.append(&change)).await;
        if let Ok(Err(e)) = r {
            tracing::warn!(error = %e, "cannot note a local tree change; a remount after a crash may not show it until the feed or a read does");
        }
    }

    /// Writes the snapshot now if anything changed since the last write (unmount).
    pub fn save_snapshot(&self) {
        let index = self.disk.take_index_changed();
        if !self.state().snapshot.pending && !index {
            return;
        }
        let (snap, at) = self.take_snapshot();
        write(&self.settings.cache_dir, &snap, &self.local, at);
    }

    /// What the mount knows now, marked written, and how much of the log of trashed pages
    /// it covers.
    fn take_snapshot(&self) -> (Snapshot, u64) {
        let mut st = self.state();
        let at = self.local.count();
        st.snapshot.pending = false;
        st.snapshot.written = Some(Instant::now());
        let snap = Snapshot {
            version: VERSION,
            watermark: st.feed.watermark(),
            objects: st.objects.values().cloned().collect(),
            databases: st.databases.clone(),
            schemas: st.schemas.values().map(|d| d.as_ref().clone()).collect(),
            disk: self.disk.index_entries(),
            made_dirs: st.made_dirs.iter().cloned().collect(),
        };
        (snap, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_log_replays_what_was_appended_and_is_emptied_once_covered() {
        let dir = tempfile::tempdir().unwrap();
        let log = LocalLog::new(dir.path());
        let changes = [
            LocalChange::Folder("a".into()),
            LocalChange::Gone("b".into()),
            LocalChange::NoFolder("a".into()),
            LocalChange::Known(Box::new(
                serde_json::from_value(serde_json::json!({
                    "object": "page", "id": "c", "created_time": "2026-01-01T00:00:00.000Z",
                    "last_edited_time": "2026-01-01T00:00:00.000Z", "in_trash": false,
                    "parent": {"type": "page_id", "page_id": "a"},
                    "properties": {"title": {"id": "title", "type": "title", "title": []}},
                    "url": "https://www.notion.so/c"
                }))
                .unwrap(),
            )),
        ];
        for c in &changes {
            log.append(c).unwrap();
        }
        assert_eq!(log.changes(), changes);
        // A snapshot taken before the last line does not cover it.
        log.written(2);
        assert_eq!(log.changes().len(), changes.len());
        log.written(log.count());
        assert!(log.changes().is_empty());
        assert!(LocalChange::parse("gibberish").is_none());
    }
}
