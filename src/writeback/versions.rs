//! Versions of pages: the blocks (with ids) each rendering a reader was served came from,
//! and the trees pushes produced. A save is diffed against the version it descends from —
//! the one closest to the saved content — never against whatever the mount fetched last, so
//! a reload for another reader cannot become the base of an older editor buffer.
//!
//! # Choosing the base
//! Every version carries a fingerprint: one hash per block (type and visible text, children
//! in order) and per editable property of a row. The saved file, parsed, is fingerprinted
//! the same way; the candidate whose fingerprint differs from it in the fewest blocks (a
//! multiset difference: an edited block counts twice, an inserted or deleted one once) is
//! the base. A tie between candidates that differ means the save changed exactly what
//! differs between them — a block someone else changed too, or not: the oldest candidate
//! wins, so the check before the push sees the other change and the save ends as a
//! conflict copy rather than silently reverting it.
//!
//! A save that keeps no block of any candidate (a whole new text, `cp other.md T.md`) is
//! a replacement of the page: it descends from the newest candidate, so what the mount
//! last served is what it replaces.
//!
//! The candidates are the versions no later version descends from: a push records the
//! version it produced as descending from the version it diffed against, which stops being
//! a candidate. So a file saved again and again through the mount is diffed against its
//! last save — a save that undoes an earlier one (deletes a paragraph it had added) sends
//! the undo, rather than an older version looking "closer" and the undo being lost — while
//! an editor buffer older than a remote edit is diffed against the version it was read from
//! (a read is never the base of anything until a save is pushed from it). A version with
//! the same content as a push's base (a read of what an earlier push made) is superseded
//! by that push too. A push that ended as a conflict records Notion's version, kept, as
//! descending from the version the save was diffed against: the next save — of a buffer
//! read again, or the same buffer saved again on purpose — is diffed against Notion's
//! version, not conflicted again.
//!
//! A push that ended as a conflict records Notion's version, which the file shows again:
//! versions older than it are no longer candidates (the editor was told; its next save
//! starts from Notion's version, and never ties with an older read).
//!
//! # Retention (documented in notionfs(1), WRITES)
//! Per page, the blocks of the newest [`KEEP_NEWEST`] versions and of every version younger
//! than [`KEEP_FOR`] are kept (at most [`KEEP_MAX`]); older versions keep only their
//! fingerprint ([`KEEP_FINGERPRINTS`] of them). A save whose closest version is one whose
//! blocks are gone cannot be diffed safely: it becomes a conflict copy, never an overwrite.
//!
//! # Storage
//! `CACHE_DIR/versions/<page hash>/<seq>.json` (the version) and `<seq>.meta` (its
//! fingerprint and time), 0600 in 0700 directories, written before the rendering is served
//! (a remount or `kill -9` keeps them). Beside them, `inflight.json` (a body push under
//! way, see [`super::push`]) and `rows-sent.json` (row files whose properties update has no
//! answer yet, see [`super::rows`]). A page's index is read from disk on its first use.
//! In memory: the fingerprints of pages in use, and the blocks of recently used versions up
//! to a byte budget (a quarter of `--cache-size`).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lru::LruCache;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fs::render::PathMap;
use crate::notion::model::{Block, DataSource, Page};

/// Versions whose blocks are always kept, per page.
pub const KEEP_NEWEST: usize = 8;
/// Versions younger than this keep their blocks too.
pub const KEEP_FOR: Duration = Duration::from_secs(24 * 3600);
/// Most versions with blocks per page.
pub const KEEP_MAX: usize = 32;
/// Most fingerprints kept per page (versions whose blocks are gone included).
pub const KEEP_FINGERPRINTS: usize = 128;
/// Row saves whose properties were sent without an answer remembered per page.
pub const ROWS_SENT: usize = 4;

/// Where a version came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Read from Notion and served to readers.
    Read,
    /// What Notion holds after a push of this mount.
    Pushed,
    /// What Notion was found to hold after a push that stopped part way.
    Settled,
}

/// A row's properties and schema as its file was rendered from them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RowBase {
    /// The row (lists retrieve-page cuts at 25 entries completed).
    pub page: Page,
    /// Its data source.
    pub schema: Arc<DataSource>,
}

/// One version of a page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Version {
    /// Its number (increasing across the store).
    pub seq: u64,
    /// The page.
    pub page: String,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// Where it came from.
    pub origin: Origin,
    /// The page's `last_edited_time` when read (empty for pushed trees: unknown).
    pub last_edited_time: String,
    /// The body's blocks with their ids, children inline.
    pub blocks: Vec<Block>,
    /// The links the rendering used.
    pub paths: PathMap,
    /// For a row: its properties and schema.
    pub row: Option<RowBase>,
    /// The version this one was made from (a push's base), if any.
    #[serde(default)]
    pub base: Option<u64>,
}

/// What the store knows of a version without loading it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    /// Its number.
    pub seq: u64,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// Its fingerprint.
    pub sigs: Vec<u64>,
    /// Whether its blocks are still kept.
    pub full: bool,
    /// The version this one was made from (a push's base), if any.
    #[serde(default)]
    pub base: Option<u64>,
    /// Notion's version kept by a push that conflicted: what came before it is history.
    #[serde(default)]
    pub conflict: bool,
}

/// The base chosen for a save.
#[derive(Clone, Debug)]
pub enum Base {
    /// The closest version, with its blocks.
    Found(Arc<Version>),
    /// The closest version's blocks are gone (past retention): no safe diff.
    Pruned,
    /// No version of the page is known.
    Unknown,
}

/// The fingerprint of a block tree (see the module doc).
pub fn fingerprint(tree: &[Block]) -> Vec<u64> {
    fn walk(tree: &[Block], depth: u64, out: &mut Vec<u64>) {
        for b in tree {
            out.push(crate::sync::block_hash(b).rotate_left(depth as u32 % 64) ^ depth);
            walk(&b.children, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(tree, 0, &mut out);
    out
}

/// One hash per front matter value of a saved file that the user can edit (key and value;
/// `1` and `1.0` alike). Read-only properties (formulas, rollups, edit times, …) change in
/// Notion on every edit while a buffer keeps the values it was read with: they say nothing
/// about which version a save descends from, so they are left out (`schema` tells which).
pub fn text_property_sigs(text: &str, schema: Option<&DataSource>) -> Vec<u64> {
    use std::hash::{Hash, Hasher};
    fn canon(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Number(n) => n.as_f64().map(|f| f.to_string()).unwrap_or_default(),
            serde_json::Value::Array(a) => a.iter().map(canon).collect::<Vec<_>>().join("\u{1}"),
            other => other.to_string(),
        }
    }
    let Some(values) = crate::frontmatter::read_values(text).ok().flatten() else {
        return Vec::new();
    };
    let editable = |k: &str| {
        schema.and_then(|s| s.properties.get(k)).is_none_or(|p| {
            !crate::notion::model::property::PropertyData::is_read_only_type(p.type_name())
        })
    };
    values
        .iter()
        .filter(|(k, _)| editable(k))
        .map(|(k, v)| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            "property".hash(&mut h);
            k.hash(&mut h);
            canon(v).hash(&mut h);
            h.finish()
        })
        .collect()
}

/// The fingerprint of a version: its blocks, and a row's property values as its file shows
/// them.
fn version_sigs(v: &Version) -> Vec<u64> {
    let mut sigs = fingerprint(&v.blocks);
    if let Some(r) = &v.row {
        sigs.extend(text_property_sigs(
            &crate::frontmatter::render(&r.page, &r.schema, &v.paths),
            Some(&r.schema),
        ));
    }
    sigs
}

/// How many blocks two fingerprints differ in.
pub fn distance(a: &[u64], b: &[u64]) -> usize {
    let mut count: HashMap<u64, i64> = HashMap::with_capacity(a.len());
    for x in a {
        *count.entry(*x).or_default() += 1;
    }
    for x in b {
        *count.entry(*x).or_default() -= 1;
    }
    count.values().map(|c| c.unsigned_abs() as usize).sum()
}

/// The versions of every page (see the module doc).
pub struct Versions {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

/// Pages whose version index is kept in memory (a few hundred bytes each).
const INDEX_PAGES: usize = 512;

/// Bytes of memory a version's blocks take per byte of their JSON on disk (measured on a
/// generated 5,000-page workspace: 2.9): what the cache's budget is charged, so
/// `--cache-size` bounds memory, not disk bytes.
const MEMORY_PER_JSON_BYTE: usize = 3;

struct Inner {
    /// Each page's versions, oldest first: a cache of the `.meta` files of the pages used
    /// last (at most [`INDEX_PAGES`]; the others are read again from disk when needed).
    index: LruCache<String, Vec<Meta>>,
    /// Recently used versions.
    cache: LruCache<(String, u64), (Arc<Version>, usize)>,
    /// Bytes of memory the versions in `cache` take (estimated from their size on disk).
    bytes: usize,
    /// Most bytes `cache` holds.
    budget: usize,
    /// The next version number.
    next: u64,
}

fn private_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(data)?;
    f.sync_data()?;
    std::fs::rename(&tmp, path)
}

impl Versions {
    /// The store under `dir`, keeping up to `budget` bytes of versions in memory.
    pub fn open(dir: PathBuf, budget: usize) -> std::io::Result<Versions> {
        crate::fs::create_private_dir(&dir)?;
        // Version numbers continue after the highest on disk (names are `<seq>.meta`).
        let mut next = 1;
        for page in std::fs::read_dir(&dir)?.flatten() {
            for f in std::fs::read_dir(page.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = f.file_name().to_string_lossy().into_owned();
                if let Some(n) = name
                    .strip_suffix(".meta")
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    next = next.max(n + 1);
                }
            }
        }
        Ok(Versions {
            dir,
            inner: Mutex::new(Inner {
                index: LruCache::new(
                    std::num::NonZeroUsize::new(INDEX_PAGES).expect("a positive constant"),
                ),
                cache: LruCache::unbounded(),
                bytes: 0,
                budget,
                next,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn page_dir(&self, page: &str) -> PathBuf {
        let h = Sha256::digest(page.as_bytes());
        let name: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.dir.join(name)
    }

    /// The versions of `page`, oldest first (read from disk on first use). Blocking.
    pub fn metas(&self, page: &str) -> Vec<Meta> {
        if let Some(m) = self.lock().index.get(page) {
            return m.clone();
        }
        let mut metas: Vec<Meta> = std::fs::read_dir(self.page_dir(page))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|f| f.file_name().to_string_lossy().ends_with(".meta"))
            .filter_map(|f| serde_json::from_slice(&std::fs::read(f.path()).ok()?).ok())
            .collect();
        metas.sort_by_key(|m: &Meta| m.seq);
        self.lock()
            .index
            .get_or_insert(page.to_string(), || metas)
            .clone()
    }

    /// Records a version of `page` (its number is assigned here); durable when this
    /// returns. Blocking.
    pub fn record(&self, mut v: Version) -> std::io::Result<Arc<Version>> {
        let page = v.page.clone();
        self.metas(&page);
        v.seq = {
            let mut i = self.lock();
            i.next += 1;
            i.next - 1
        };
        let meta = Meta {
            seq: v.seq,
            at: v.at,
            sigs: version_sigs(&v),
            full: true,
            base: v.base,
            conflict: v.origin == Origin::Read && v.base.is_some(),
        };
        let dir = self.page_dir(&page);
        crate::fs::create_private_dir(&dir)?;
        let data = serde_json::to_vec(&v).map_err(std::io::Error::other)?;
        private_file(&dir.join(format!("{}.json", v.seq)), &data)?;
        let m = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
        private_file(&dir.join(format!("{}.meta", v.seq)), &m)?;
        let v = Arc::new(v);
        {
            let mut i = self.lock();
            i.index.get_or_insert_mut(page.clone(), Vec::new).push(meta);
            i.put(v.clone(), data.len() * MEMORY_PER_JSON_BYTE);
        }
        self.prune(&page);
        Ok(v)
    }

    /// Version `seq` of `page`, from memory or disk. Blocking.
    pub fn load(&self, page: &str, seq: u64) -> Option<Arc<Version>> {
        let key = (page.to_string(), seq);
        if let Some((v, _)) = self.lock().cache.get(&key) {
            return Some(v.clone());
        }
        let data = std::fs::read(self.page_dir(page).join(format!("{seq}.json"))).ok()?;
        let v: Version = match serde_json::from_slice(&data) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(page, seq, error = %e, "a damaged version is ignored");
                return None;
            }
        };
        let v = Arc::new(v);
        self.lock()
            .put(v.clone(), data.len() * MEMORY_PER_JSON_BYTE);
        Some(v)
    }

    /// The newest version of `page` with its blocks. Blocking.
    pub fn newest(&self, page: &str) -> Option<Arc<Version>> {
        let metas = self.metas(page);
        metas
            .iter()
            .rev()
            .filter(|m| m.full)
            .find_map(|m| self.load(page, m.seq))
    }

    /// Whether a version newer than `seq` says something else than `seq` does (the mount
    /// has served content that a save from `seq` does not hold). Blocking.
    pub fn newer_differs(&self, page: &str, seq: u64) -> bool {
        let metas = self.metas(page);
        let sorted = |m: &Meta| {
            let mut v = m.sigs.clone();
            v.sort_unstable();
            v
        };
        let Some(base) = metas.iter().find(|m| m.seq == seq).map(sorted) else {
            return false;
        };
        metas
            .iter()
            .filter(|m| m.seq > seq)
            .any(|m| sorted(m) != base)
    }

    /// The version the saved tree `local` (fingerprinted) descends from. Blocking.
    pub fn closest(&self, page: &str, local: &[u64]) -> Base {
        let metas = self.metas(page);
        // The versions no other descends from: a push's base, and any version with the
        // same content as a push's base (a read of what a push had made), are superseded.
        let bases: std::collections::HashSet<u64> = metas.iter().filter_map(|m| m.base).collect();
        let key = |m: &Meta| {
            let mut v = m.sigs.clone();
            v.sort_unstable();
            v
        };
        let superseded: std::collections::HashSet<Vec<u64>> = metas
            .iter()
            .filter(|m| bases.contains(&m.seq))
            .map(key)
            .collect();
        // After a conflict the file was shown Notion's version again: a save is diffed
        // against that or something newer, never an older read it might tie with.
        let since = metas.iter().rposition(|m| m.conflict).unwrap_or(0);
        let ends = metas.iter().enumerate().skip(since).filter(|(_, m)| {
            // (Only reads go by content: a push's own outcome is superseded by a later
            // push from it, even when it changed nothing.)
            let read_of_a_base = m.base.is_none() && superseded.contains(&key(m));
            !bases.contains(&m.seq) && !read_of_a_base
        });
        // On a tie the oldest: the candidates differ exactly where the save does, and only
        // the older base makes the check see the remote change (a conflict copy at worst,
        // never a remote edit silently reverted).
        let ends: Vec<(usize, &Meta)> = ends.collect();
        // A save that keeps no block of any candidate replaces the page whatever it was
        // read from (`cp other.md T.md`): it descends from the newest.
        let replaces = !local.is_empty()
            && ends
                .iter()
                .all(|(_, m)| !m.sigs.iter().any(|s| local.contains(s)));
        let best = if replaces {
            ends.into_iter().max_by_key(|(i, _)| *i)
        } else {
            ends.into_iter()
                .min_by_key(|(i, m)| (distance(&m.sigs, local), *i))
        };
        match best {
            None => Base::Unknown,
            Some((_, m)) if !m.full => Base::Pruned,
            Some((_, m)) => match self.load(page, m.seq) {
                Some(v) => Base::Found(v),
                None => Base::Pruned,
            },
        }
    }

    /// Applies the retention rules to `page` (see the module doc). Blocking.
    fn prune(&self, page: &str) {
        let now = Utc::now();
        let dir = self.page_dir(page);
        let (drop_blocks, drop_all) = {
            let mut i = self.lock();
            let Some(metas) = i.index.get_mut(page) else {
                return;
            };
            let n = metas.len();
            let mut full_kept = 0;
            let mut drop_blocks = Vec::new();
            for (k, m) in metas.iter_mut().enumerate().rev() {
                if !m.full {
                    continue;
                }
                let newest = n - k <= KEEP_NEWEST;
                let young = (now - m.at).to_std().is_ok_and(|d| d < KEEP_FOR);
                if (newest || young) && full_kept < KEEP_MAX {
                    full_kept += 1;
                } else {
                    m.full = false;
                    drop_blocks.push(m.seq);
                }
            }
            let excess = metas.len().saturating_sub(KEEP_FINGERPRINTS);
            let drop_all: Vec<u64> = metas.drain(..excess).map(|m| m.seq).collect();
            for s in drop_blocks.iter().chain(&drop_all) {
                if let Some((_, n)) = i.cache.pop(&(page.to_string(), *s)) {
                    i.bytes -= n;
                }
            }
            (drop_blocks, drop_all)
        };
        for s in &drop_blocks {
            let _ = std::fs::remove_file(dir.join(format!("{s}.json")));
            if let Some(m) = self.metas(page).into_iter().find(|m| m.seq == *s) {
                if let Ok(data) = serde_json::to_vec(&m) {
                    let _ = private_file(&dir.join(format!("{s}.meta")), &data);
                }
            }
        }
        for s in &drop_all {
            let _ = std::fs::remove_file(dir.join(format!("{s}.json")));
            let _ = std::fs::remove_file(dir.join(format!("{s}.meta")));
        }
    }

    /// Notes a push in flight: the tree it aims at, over version `base` (see
    /// [`super::push`]). Blocking.
    pub fn set_inflight(&self, page: &str, base: u64, tried: &[Block]) -> std::io::Result<()> {
        let dir = self.page_dir(page);
        crate::fs::create_private_dir(&dir)?;
        let data = serde_json::to_vec(&(base, tried)).map_err(std::io::Error::other)?;
        private_file(&dir.join("inflight.json"), &data)
    }

    /// The push in flight of `page`, if one was cut off: its base version and the tree it
    /// aimed at. Blocking.
    pub fn inflight(&self, page: &str) -> Option<(u64, Vec<Block>)> {
        let data = std::fs::read(self.page_dir(page).join("inflight.json")).ok()?;
        serde_json::from_slice(&data).ok()
    }

    /// The push in flight of `page` is settled (or was never cut off). Blocking.
    pub fn clear_inflight(&self, page: &str) {
        let _ = std::fs::remove_file(self.page_dir(page).join("inflight.json"));
    }

    /// Notes the saved row file `text` whose properties are being sent with no answer yet
    /// (see [`super::rows`]): the newest [`ROWS_SENT`] are kept until
    /// [`Versions::clear_rows_sent`]. Blocking.
    pub fn add_row_sent(&self, page: &str, text: &str) -> std::io::Result<()> {
        let dir = self.page_dir(page);
        crate::fs::create_private_dir(&dir)?;
        let mut sent = self.rows_sent(page);
        sent.retain(|t| t != text);
        sent.push(text.to_string());
        let drop = sent.len().saturating_sub(ROWS_SENT);
        sent.drain(..drop);
        let data = serde_json::to_vec(&sent).map_err(std::io::Error::other)?;
        private_file(&dir.join("rows-sent.json"), &data)
    }

    /// The row files whose properties were sent and never answered (a lost response, a
    /// crash), oldest first. Blocking.
    pub fn rows_sent(&self, page: &str) -> Vec<String> {
        std::fs::read(self.page_dir(page).join("rows-sent.json"))
            .ok()
            .and_then(|d| serde_json::from_slice(&d).ok())
            .unwrap_or_default()
    }

    /// The row's properties were answered: nothing sent is unaccounted for. Blocking.
    pub fn clear_rows_sent(&self, page: &str) {
        let _ = std::fs::remove_file(self.page_dir(page).join("rows-sent.json"));
    }

    /// Bytes of versions held in memory.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl Inner {
    fn put(&mut self, v: Arc<Version>, size: usize) {
        let key = (v.page.clone(), v.seq);
        if let Some((_, n)) = self.cache.pop(&key) {
            self.bytes -= n;
        }
        if size > self.budget {
            return;
        }
        self.bytes += size;
        self.cache.put(key, (v, size));
        while self.bytes > self.budget {
            match self.cache.pop_lru() {
                Some((_, (_, n))) => self.bytes -= n,
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn para(id: &str, text: &str) -> Block {
        serde_json::from_value(json!({
            "object": "block", "id": id, "type": "paragraph", "has_children": false,
            "paragraph": {"rich_text": [{"type": "text", "text": {"content": text}, "plain_text": text}]}
        }))
        .unwrap()
    }

    fn version(page: &str, blocks: Vec<Block>) -> Version {
        Version {
            seq: 0,
            page: page.into(),
            at: Utc::now(),
            origin: Origin::Read,
            last_edited_time: String::new(),
            blocks,
            paths: PathMap::default(),
            row: None,
            base: None,
        }
    }

    #[test]
    fn the_closest_version_is_the_base_the_oldest_on_a_tie() {
        let dir = tempfile::tempdir().unwrap();
        let s = Versions::open(dir.path().join("v"), 1 << 20).unwrap();
        let v1 = s
            .record(version("p", vec![para("a", "one"), para("b", "two")]))
            .unwrap();
        let v2 = s
            .record(version(
                "p",
                vec![para("a", "one"), para("b", "TWO remote")],
            ))
            .unwrap();
        // An old buffer with paragraph 1 changed descends from v1.
        let old_buffer = fingerprint(&[para("", "one local"), para("", "two")]);
        match s.closest("p", &old_buffer) {
            Base::Found(v) => assert_eq!(v.seq, v1.seq),
            other => panic!("{other:?}"),
        }
        // The same content as two reads: the older of them.
        s.record(version(
            "p",
            vec![para("a", "one"), para("b", "TWO remote")],
        ))
        .unwrap();
        let same = fingerprint(&[para("", "one"), para("", "TWO remote")]);
        match s.closest("p", &same) {
            Base::Found(v) => assert_eq!(v.seq, v2.seq),
            other => panic!("{other:?}"),
        }
        // Paragraph 2 changed to something else: as far from v1 as from v2; the older.
        let tied = fingerprint(&[para("", "one"), para("", "two local")]);
        match s.closest("p", &tied) {
            Base::Found(v) => assert_eq!(v.seq, v1.seq),
            other => panic!("{other:?}"),
        }
        assert!(v2.seq > v1.seq);
        // A new store on the same directory finds them again (a remount).
        let again = Versions::open(dir.path().join("v"), 1 << 20).unwrap();
        match again.closest("p", &old_buffer) {
            Base::Found(v) => assert_eq!(v.blocks[1].id.as_deref(), Some("b")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(again.closest("q", &same), Base::Unknown));
    }

    #[test]
    fn a_pushed_version_replaces_its_base_so_undoing_a_save_goes_out() {
        let dir = tempfile::tempdir().unwrap();
        let s = Versions::open(dir.path().join("v"), 1 << 20).unwrap();
        s.record(version("p", vec![para("a", "one"), para("b", "two")]))
            .unwrap();
        // This mount added a paragraph.
        let mut pushed = version(
            "p",
            vec![para("a", "one"), para("c", "added"), para("b", "two")],
        );
        pushed.origin = Origin::Pushed;
        pushed.base = Some(1);
        let pushed = s.record(pushed).unwrap();
        // The next save removes it again and edits another: closer to the read version,
        // but that is not a candidate any more.
        let local = fingerprint(&[para("", "one edited"), para("", "two")]);
        match s.closest("p", &local) {
            Base::Found(v) => assert_eq!(v.seq, pushed.seq),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn past_retention_a_save_from_a_pruned_version_has_no_base() {
        let dir = tempfile::tempdir().unwrap();
        let s = Versions::open(dir.path().join("v"), 1 << 20).unwrap();
        let mut first = version("p", vec![para("a", "ancient text")]);
        first.at = Utc::now() - chrono::Duration::days(3);
        s.record(first).unwrap();
        for n in 0..KEEP_NEWEST {
            s.record(version("p", vec![para("a", &format!("newer {n}"))]))
                .unwrap();
        }
        let from_ancient = fingerprint(&[para("", "ancient text"), para("", "added")]);
        assert!(matches!(s.closest("p", &from_ancient), Base::Pruned));
        let metas = s.metas("p");
        assert_eq!(metas.iter().filter(|m| m.full).count(), KEEP_NEWEST);
    }

    #[test]
    fn memory_is_bounded_by_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let s = Versions::open(dir.path().join("v"), 4096).unwrap();
        for n in 0..50 {
            s.record(version(&format!("p{n}"), vec![para("a", &"x".repeat(200))]))
                .unwrap();
        }
        assert!(s.bytes() <= 4096, "{}", s.bytes());
        assert!(s.newest("p0").is_some(), "still on disk");
    }
}
