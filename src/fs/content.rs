//! Rendered page bodies: the in-memory cache (an LRU bounded in bytes) and the disk cache
//! that lets a remount serve unchanged pages without reading their blocks.
//!
//! The disk cache keeps an index in memory ([`Cached`], one small record per page: size,
//! edit time, whether its folder holds anything), so `getattr` reports the exact size of a
//! page whose rendering is on disk, and listings know its folder, without a disk read. The
//! index is saved with the tree snapshot and restored at mount.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::{Digest, Sha256};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::render::PathMap;
use super::tree::Item;

/// A rendered page body.
#[derive(Debug)]
pub struct Body {
    /// The file's bytes.
    pub data: Arc<Vec<u8>>,
    /// SHA-256 of `data`: tells a real change from a refetch of the same content.
    pub hash: [u8; 32],
    /// The page's `last_edited_time` it was rendered from.
    pub last_edited_time: String,
    /// Wall-clock time of the fetch (to tell whether a minute-rounded timestamp can still
    /// hide a later edit).
    pub fetched_utc: chrono::DateTime<chrono::Utc>,
    /// A change made it out of date (the feed saw an edit, a write changed its links): the
    /// next open reads the page again. The bytes stay for `getattr` and for a read that
    /// cannot reach Notion.
    pub stale: bool,
}

impl Body {
    /// A body for `data` read now.
    pub fn new(data: Vec<u8>, last_edited_time: String) -> Body {
        let hash: [u8; 32] = Sha256::digest(&data).into();
        Body {
            data: Arc::new(data),
            hash,
            last_edited_time,
            fetched_utc: chrono::Utc::now(),
            stale: false,
        }
    }

    /// Whether this body is still the page's content given its current `last_edited_time`:
    /// the same timestamp, and the fetch happened after that minute was over (Notion rounds
    /// timestamps down to the minute, so an edit later in the same minute keeps the
    /// timestamp).
    pub fn matches(&self, last_edited_time: &str) -> bool {
        still_current(&self.last_edited_time, self.fetched_utc, last_edited_time)
    }
}

/// Whether a rendering of a page at edit time `rendered` (read at `fetched`) is still its
/// content now that its edit time is `now`: the same time, and read after that minute was
/// over (Notion rounds edit times down to the minute).
fn still_current(rendered: &str, fetched: chrono::DateTime<chrono::Utc>, now: &str) -> bool {
    if rendered != now {
        return false;
    }
    match chrono::DateTime::parse_from_rfc3339(now) {
        Ok(t) => fetched >= t.with_timezone(&chrono::Utc) + chrono::Duration::seconds(60),
        Err(_) => false,
    }
}

/// Rendered bodies by page id, least recently used evicted first once over `capacity` bytes.
pub struct BodyCache {
    lru: LruCache<String, Arc<Body>>,
    bytes: usize,
    capacity: usize,
    /// Pages marked stale while their body was not in memory: what the disk cache holds of
    /// them is out of date too (until they are read again).
    expired: HashSet<String>,
}

impl BodyCache {
    /// An empty cache holding at most `capacity` bytes of bodies.
    pub fn new(capacity: usize) -> Self {
        BodyCache {
            lru: LruCache::unbounded(),
            bytes: 0,
            capacity,
            expired: HashSet::new(),
        }
    }

    /// The cached body of `page_id`, marking it recently used.
    pub fn get(&mut self, page_id: &str) -> Option<Arc<Body>> {
        self.lru.get(page_id).cloned()
    }

    /// The cached body without touching the LRU order (for `getattr`).
    pub fn peek(&self, page_id: &str) -> Option<Arc<Body>> {
        self.lru.peek(page_id).cloned()
    }

    /// Stores `body`, evicting the least recently used bodies to stay under the capacity.
    /// A body larger than the whole capacity is not kept (open handles still hold it).
    pub fn put(&mut self, page_id: String, body: Arc<Body>) {
        if !body.stale {
            self.expired.remove(&page_id);
        }
        if let Some(old) = self.lru.pop(&page_id) {
            self.bytes -= old.data.len();
        }
        if body.data.len() > self.capacity {
            return;
        }
        self.bytes += body.data.len();
        self.lru.put(page_id, body);
        while self.bytes > self.capacity {
            match self.lru.pop_lru() {
                Some((_, b)) => self.bytes -= b.data.len(),
                None => break,
            }
        }
    }

    /// Drops the body of `page_id`.
    pub fn remove(&mut self, page_id: &str) {
        if let Some(b) = self.lru.pop(page_id) {
            self.bytes -= b.data.len();
        }
    }

    /// Marks the body of `page_id` stale: read again on its next open. A page not in memory
    /// is remembered as stale ([`BodyCache::expired`]): its rendering on disk is no longer
    /// trusted for its size either.
    pub fn expire(&mut self, page_id: &str) {
        if self.lru.peek(page_id).is_none() {
            self.expired.insert(page_id.to_string());
        }
        if let Some(b) = self.lru.peek(page_id) {
            if b.stale {
                return;
            }
            let stale = Body {
                data: b.data.clone(),
                hash: b.hash,
                last_edited_time: b.last_edited_time.clone(),
                fetched_utc: b.fetched_utc,
                stale: true,
            };
            self.put(page_id.to_string(), Arc::new(stale));
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether `page_id` was marked stale while its body was not in memory.
    pub fn expired(&self, page_id: &str) -> bool {
        self.expired.contains(page_id)
    }
}

/// What the disk cache holds of one page, kept in memory (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cached {
    /// Bytes of the rendered file.
    pub size: u64,
    /// The page's `last_edited_time` it was rendered from.
    pub last_edited_time: String,
    /// When its blocks were read.
    pub fetched_utc: chrono::DateTime<chrono::Utc>,
    /// Its folder holds child pages, databases or attachments.
    pub folder: bool,
}

impl Cached {
    /// Whether this rendering is still the page's content at edit time `edited`.
    pub fn current(&self, edited: &str) -> bool {
        still_current(&self.last_edited_time, self.fetched_utc, edited)
    }
}

/// The index of the disk cache, shared by its clones.
type Index = Arc<Mutex<HashMap<String, Cached>>>;

/// What the disk cache keeps beside a body: enough to trust it again after a remount.
#[derive(Debug, Serialize, Deserialize)]
pub struct DiskMeta {
    /// The page.
    pub page_id: String,
    /// The page's `last_edited_time` the body was rendered from.
    pub last_edited_time: String,
    /// When the blocks were read.
    pub fetched_utc: chrono::DateTime<chrono::Utc>,
    /// SHA-256 of the body, hex.
    pub hash: String,
    /// What the page's folder held.
    pub items: Vec<Item>,
    /// The paths the body links to (a rename elsewhere makes the body stale).
    pub paths: PathMap,
}

/// Rendered bodies on disk under `<cache dir>/bodies`, keyed by page id and checked by
/// content hash, so a remount serves unchanged pages without reading their blocks.
#[derive(Clone, Debug)]
pub struct DiskCache {
    dir: PathBuf,
    /// What is stored, by page id (a leaf lock).
    index: Index,
    /// The index changed since [`DiskCache::take_index_changed`] last asked.
    changed: Arc<std::sync::atomic::AtomicBool>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl DiskCache {
    /// A cache in `dir` (created 0700).
    pub fn new(dir: PathBuf) -> std::io::Result<DiskCache> {
        super::attachments::create_private_dir(&dir)?;
        Ok(DiskCache {
            dir,
            index: Arc::default(),
            changed: Arc::default(),
        })
    }

    fn index(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        // Single inserts and removals: a poisoned lock holds a consistent map.
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn note(&self, page_id: &str, entry: Option<Cached>) {
        let mut ix = self.index();
        let changed = match entry {
            Some(e) => ix.insert(page_id.to_string(), e.clone()) != Some(e),
            None => ix.remove(page_id).is_some(),
        };
        if changed {
            self.changed
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// What the disk cache holds of `page_id`, from the index (no disk read).
    pub fn cached(&self, page_id: &str) -> Option<Cached> {
        self.index().get(page_id).cloned()
    }

    /// The whole index (for the snapshot).
    pub fn index_entries(&self) -> HashMap<String, Cached> {
        self.index().clone()
    }

    /// Restores the index saved by an earlier run (entries this run stored win).
    pub fn restore_index(&self, entries: HashMap<String, Cached>) {
        let mut ix = self.index();
        for (k, v) in entries {
            ix.entry(k).or_insert(v);
        }
    }

    /// Whether the index changed since the last call.
    pub fn take_index_changed(&self) -> bool {
        self.changed
            .swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    fn files(&self, page_id: &str) -> (PathBuf, PathBuf) {
        let name = hex(&Sha256::digest(page_id.as_bytes()));
        (
            self.dir.join(format!("{name}.json")),
            self.dir.join(format!("{name}.md")),
        )
    }

    /// The stored body of `page_id` and its metadata, if present and intact.
    pub fn load(&self, page_id: &str) -> Option<(DiskMeta, Body)> {
        let (meta, data) = self.files(page_id);
        let meta: DiskMeta = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
        let data = std::fs::read(data).ok()?;
        let hash: [u8; 32] = Sha256::digest(&data).into();
        if meta.page_id != page_id || hex(&hash) != meta.hash {
            return None;
        }
        let body = Body {
            data: Arc::new(data),
            hash,
            last_edited_time: meta.last_edited_time.clone(),
            fetched_utc: meta.fetched_utc,
            stale: false,
        };
        self.note(page_id, Some(entry_of(&body, &meta.items)));
        Some((meta, body))
    }

    /// Drops the stored body of `page_id` (this mount changed the page: what is stored is
    /// no longer its content, whatever its edit time says).
    pub fn forget(&self, page_id: &str) {
        self.note(page_id, None);
        let (meta, data) = self.files(page_id);
        for f in [meta, data] {
            if let Err(e) = std::fs::remove_file(&f) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(page = page_id, error = %e, "cannot drop a disk cache entry");
                }
            }
        }
    }

    /// Stores a body (write to a temp file, then rename: never a torn entry).
    pub fn save(
        &self,
        page_id: &str,
        body: &Body,
        items: &[Item],
        paths: &PathMap,
    ) -> std::io::Result<()> {
        let (meta_path, data_path) = self.files(page_id);
        let meta = DiskMeta {
            page_id: page_id.to_string(),
            last_edited_time: body.last_edited_time.clone(),
            fetched_utc: body.fetched_utc,
            hash: hex(&body.hash),
            items: items.to_vec(),
            paths: paths.clone(),
        };
        let tmp = data_path.with_extension("md.tmp");
        write_private(&tmp, body.data.as_slice())?;
        std::fs::rename(&tmp, &data_path)?;
        let json = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
        let tmp = meta_path.with_extension("json.tmp");
        write_private(&tmp, &json)?;
        std::fs::rename(&tmp, &meta_path)?;
        self.note(page_id, Some(entry_of(body, items)));
        Ok(())
    }
}

/// The index entry of a stored body.
fn entry_of(body: &Body, items: &[Item]) -> Cached {
    Cached {
        size: body.data.len() as u64,
        last_edited_time: body.last_edited_time.clone(),
        fetched_utc: body.fetched_utc,
        folder: !items.is_empty(),
    }
}

/// Writes `data` to `path`, created 0600 (the cache dir may be a directory others can read).
fn write_private(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_is_bounded_in_bytes() {
        let mut c = BodyCache::new(10);
        c.put("a".into(), Arc::new(Body::new(vec![0; 6], "t".into())));
        c.put("b".into(), Arc::new(Body::new(vec![0; 3], "t".into())));
        assert_eq!(c.bytes(), 9);
        c.get("a");
        c.put("c".into(), Arc::new(Body::new(vec![0; 4], "t".into())));
        // "b" was least recently used.
        assert!(c.peek("b").is_none());
        assert!(c.peek("a").is_some() || c.peek("c").is_some());
        assert!(c.bytes() <= 10);
        c.put("huge".into(), Arc::new(Body::new(vec![0; 11], "t".into())));
        assert!(c.peek("huge").is_none());
    }

    #[test]
    fn minute_rounding_is_respected() {
        let old = "2020-01-01T00:00:00.000Z";
        let b = Body::new(vec![], old.into());
        assert!(b.matches(old));
        assert!(!b.matches("2020-01-01T00:01:00.000Z"));
        // Fetched within the edit's minute: cannot be trusted.
        let now = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:00.000Z")
            .to_string();
        let b = Body::new(vec![], now.clone());
        assert!(!b.matches(&now));
    }
}
