//! Durable local acceptance of writes (notionfs(1), WRITES: a save is on local disk before `fsync`
//! or `close` returns; a crash or `kill -9` loses nothing and the next mount pushes it).
//!
//! # On-disk format
//! One directory (mode 0700) holding one file per accepted write, mode 0600, named
//! `SEQ.rec` with `SEQ` the record's sequence number in 20 decimal digits:
//!
//! ```text
//! NOTIONFS-JOURNAL 1\n
//! {"seq":7,"page_id":"…","kind":"body","created":"2026-…Z","data_len":123,"base_len":456,"sha256":"…"}\n
//! <data_len bytes: the new content><base_len bytes: the content the edit started from>
//! ```
//!
//! `base_len` is `null` when there is no base (a new page). `sha256` covers data then base,
//! so a damaged file is detected rather than pushed. A record whose push failed has a
//! sidecar `SEQ.rec.failed` (0600) holding the reason as UTF-8 text. A record holds at most
//! [`MAX_RECORD_BYTES`] of content (data and base together): a larger one is refused with
//! [`JournalError::TooBig`] before anything is written, and a file larger than that is
//! damaged by definition (never read into memory).
//!
//! # Durability
//! [`Journal::record`] writes `SEQ.rec.tmp` (created 0600), fsyncs it, renames it to
//! `SEQ.rec` and fsyncs the directory, and only then returns: once it returned, the record
//! survives a crash. [`Journal::confirm`] deletes the file and fsyncs the directory. On
//! [`Journal::open`] leftover `.tmp` files (never acknowledged) are removed, every `.rec` is
//! verified and pending again. Sequence numbers continue after the largest one on disk
//! (set-aside records included, so a number is never reused).
//!
//! # Records are independent
//! A record that is damaged (bad magic, header, length or checksum, found at open or when
//! it is read back later) or missing (its file vanished while the mount runs) never stops
//! the others: it is *set aside* — moved to `quarantine/SEQ.rec.corrupt` (0600, kept for a
//! human) with a note `quarantine/SEQ.json` saying which page it belonged to and why
//! ([`SetAside`]) — and every other record is still listed and pushed. Set-aside records
//! are reported until they are resolved ([`Journal::set_aside`]): `notionfs status` lists
//! them, the page's `user.notionfs.sync` says `failed: REASON`, and `notionfs sync --wait`
//! exits non-zero. A set-aside body is resolved when a newer body of the same page reaches
//! Notion ([`Journal::confirm_through`]: the newer save supersedes it), or by a human
//! deleting its note from the quarantine directory. A record that cannot be read for
//! another reason (permissions, an I/O error) is left in place, skipped by that listing and
//! reported the same way ([`Journal::unreadable`]) until a later listing reads it.
//!
//! The API is blocking (it fsyncs): call it from `spawn_blocking` in async code. A `Journal`
//! is `Send + Sync`; share it in an `Arc`.

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

const MAGIC: &[u8] = b"NOTIONFS-JOURNAL 1\n";

/// Most bytes of content (data and base together) one record holds: two page files at
/// their largest ([`crate::fs::error::MAX_PAGE_FILE`]) and some room.
pub const MAX_RECORD_BYTES: u64 = 2 * crate::fs::error::MAX_PAGE_FILE + (1 << 20);

/// Most bytes a record file may have on disk (content, header and magic line).
const MAX_RECORD_FILE: u64 = MAX_RECORD_BYTES + (64 << 10);

/// The directory (inside the journal's) where damaged and missing records are set aside.
pub const QUARANTINE: &str = "quarantine";

/// Sequence number of a record: increasing in acceptance order.
pub type Seq = u64;

/// What a record asks Notion to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// New body (Markdown) of a page.
    Body,
    /// New front matter (properties) of a row.
    Properties,
    /// A page or row to create (data: its file content).
    Create,
    /// A title change (data: the new title).
    Rename,
    /// A move (data: the new parent id).
    Move,
    /// A page to move to the trash.
    Trash,
    /// An attachment to upload (data: file content).
    Upload,
}

/// One accepted write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its sequence number.
    pub seq: Seq,
    /// The page (or parent, for [`RecordKind::Create`]) it applies to.
    pub page_id: String,
    /// What it does.
    pub kind: RecordKind,
    /// When it was accepted (RFC 3339, UTC).
    pub created: String,
    /// The new content.
    pub data: Vec<u8>,
    /// The content the edit started from, for conflict detection (`None`: nothing before).
    pub base: Option<Vec<u8>>,
    /// Why the last push of this record failed, if it did ([`Journal::mark_failed`]).
    pub failure: Option<String>,
}

/// A record that was set aside (damaged or missing): its note in the quarantine directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAside {
    /// The record's sequence number.
    pub seq: Seq,
    /// The page it was for, when that could still be told.
    pub page_id: Option<String>,
    /// What it asked for, when that could still be told.
    pub kind: Option<RecordKind>,
    /// Why it was set aside.
    pub reason: String,
    /// When (RFC 3339, UTC).
    pub when: String,
    /// The damaged file as it was found (`None`: the file was missing).
    pub file: Option<PathBuf>,
    /// Not damaged: Notion refused what it asks for ([`Journal::set_aside_refused`]).
    #[serde(default)]
    pub refused: bool,
}

impl SetAside {
    /// The reason as a page's `failed: REASON` shows it.
    pub fn describe(&self) -> String {
        match &self.file {
            Some(f) if self.refused => format!(
                "Notion refused journal record {}: {}; kept as {}",
                self.seq,
                self.reason,
                f.display()
            ),
            Some(f) => format!(
                "journal record {} was damaged ({}); set aside as {}",
                self.seq,
                self.reason,
                f.display()
            ),
            None => format!(
                "journal record {} is missing ({}); its save cannot be pushed",
                self.seq, self.reason
            ),
        }
    }
}

/// Why the journal failed.
#[derive(Debug, Error)]
pub enum JournalError {
    /// A file operation failed.
    #[error("journal I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A record file is damaged.
    #[error("journal record {path} is damaged: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No pending record has this sequence number.
    #[error("no pending journal record {0}")]
    UnknownSeq(Seq),
    /// A record larger than [`MAX_RECORD_BYTES`] (nothing was written).
    #[error(
        "a journal record of {size} bytes: the journal holds at most {limit} bytes per record"
    )]
    TooBig {
        /// The record's content size.
        size: u64,
        /// [`MAX_RECORD_BYTES`].
        limit: u64,
    },
}

impl JournalError {
    /// The OS error behind a failure, if there is one (a full disk is ENOSPC).
    pub fn os_error(&self) -> Option<i32> {
        match self {
            JournalError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    seq: Seq,
    page_id: String,
    kind: RecordKind,
    created: String,
    data_len: u64,
    base_len: Option<u64>,
    sha256: String,
}

/// What the index knows of a pending record without reading it.
#[derive(Clone, Debug)]
struct Entry {
    path: PathBuf,
    page_id: String,
    kind: RecordKind,
}

struct Inner {
    next: Seq,
    pending: BTreeMap<Seq, Entry>,
    /// Set-aside records as last read from the quarantine directory.
    set_aside: Vec<SetAside>,
    /// Records the last listing could not read (left in place): why.
    unreadable: BTreeMap<Seq, String>,
}

/// The write journal of one mount.
pub struct Journal {
    dir: PathBuf,
    inner: Mutex<Inner>,
    fsyncs: AtomicU64,
    /// Called by [`Journal::pending`] after each record it read (tests: a confirm there).
    #[cfg(test)]
    after_read: Mutex<Option<ReadHook>>,
}

#[cfg(test)]
type ReadHook = Box<dyn FnMut(&Journal, Seq) + Send>;

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn digest(data: &[u8], base: Option<&[u8]>) -> String {
    let mut h = Sha256::new();
    h.update(data);
    if let Some(b) = base {
        h.update(b);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn file_name(seq: Seq) -> String {
    format!("{seq:020}.rec")
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Writes `bytes` to `path` (created 0600) and fsyncs it.
fn write_private(path: &Path, bytes: &[&[u8]]) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    for b in bytes {
        f.write_all(b)?;
    }
    f.sync_all()
}

impl Journal {
    /// Opens (creating it 0700 if needed) the journal in `dir` and recovers what a previous
    /// run accepted but did not confirm; damaged records are set aside (see the module doc).
    pub fn open(dir: impl AsRef<Path>) -> Result<Journal, JournalError> {
        let dir = dir.as_ref().to_path_buf();
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io(&dir))?;
        // The journal's own directory may have been made with a looser umask by an older run.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io(&dir))?;
        let j = Journal {
            dir,
            inner: Mutex::new(Inner {
                next: 1,
                pending: BTreeMap::new(),
                set_aside: Vec::new(),
                unreadable: BTreeMap::new(),
            }),
            fsyncs: AtomicU64::new(0),
            #[cfg(test)]
            after_read: Mutex::new(None),
        };
        j.recover()?;
        j.sync_dir()?;
        Ok(j)
    }

    /// Scans the directory: removes unacknowledged `.tmp` files, indexes the intact
    /// records, sets the damaged ones aside, drops failure notes of confirmed records.
    fn recover(&self) -> Result<(), JournalError> {
        let dir = &self.dir;
        let mut inner = self.lock();
        let mut failed = Vec::new();
        let mut max = 0;
        let mut damaged = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rec.tmp") || name.ends_with(".failed.tmp") {
                fs::remove_file(&path).map_err(io(&path))?;
            } else if name.ends_with(".rec.failed") {
                failed.push(path);
            } else if let Some(stem) = name.strip_suffix(".rec") {
                let seq = stem.parse::<Seq>().ok();
                match read_record(&path) {
                    Ok(r) if seq == Some(r.seq) => {
                        max = max.max(r.seq);
                        let e = Entry {
                            path,
                            page_id: r.page_id,
                            kind: r.kind,
                        };
                        inner.pending.insert(r.seq, e);
                    }
                    Ok(_) => damaged.push((path, seq, "its number does not match its name".into())),
                    Err(JournalError::Corrupt { reason, .. }) => damaged.push((path, seq, reason)),
                    Err(e) => return Err(e),
                }
            }
        }
        for (path, seq, reason) in damaged {
            let head = peek_header(&path);
            let seq = seq.or(head.as_ref().map(|h| h.seq)).unwrap_or(0);
            max = max.max(seq);
            self.quarantine(
                seq,
                Some(&path),
                head.as_ref().map(|h| h.page_id.clone()),
                head.map(|h| h.kind),
                &reason,
                false,
            )?;
        }
        // A failure note whose record was confirmed (crash between the two deletions).
        for f in failed {
            let rec = f.with_extension("");
            if !inner.pending.values().any(|e| e.path == rec) {
                fs::remove_file(&f).map_err(io(&f))?;
            }
        }
        inner.set_aside = self.read_quarantine();
        for s in &inner.set_aside {
            // Never reuse a number: a later record would be confused with the set-aside one.
            max = max.max(s.seq);
        }
        inner.next = max + 1;
        Ok(())
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn quarantine_dir(&self) -> PathBuf {
        self.dir.join(QUARANTINE)
    }

    /// Moves the record file at `path` (if any) into the quarantine directory and writes its
    /// note. Logged once, as an error: an accepted save will not reach Notion by itself.
    fn quarantine(
        &self,
        seq: Seq,
        path: Option<&Path>,
        page_id: Option<String>,
        kind: Option<RecordKind>,
        reason: &str,
        refused: bool,
    ) -> Result<SetAside, JournalError> {
        let q = self.quarantine_dir();
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&q)
            .map_err(io(&q))?;
        let file = match path {
            Some(p) => {
                let suffix = if refused { "refused" } else { "corrupt" };
                let aside = q.join(format!("{}.{suffix}", file_name(seq)));
                fs::rename(p, &aside).map_err(io(p))?;
                let failed = failure_path(p);
                if failed.exists() {
                    fs::remove_file(&failed).map_err(io(&failed))?;
                }
                Some(aside)
            }
            None => None,
        };
        let note = SetAside {
            seq,
            page_id,
            kind,
            reason: reason.to_string(),
            when: now(),
            file,
            refused,
        };
        let json =
            serde_json::to_vec_pretty(&note).map_err(|e| io(&q)(std::io::Error::other(e)))?;
        let target = q.join(format!("{seq:020}.json"));
        let tmp = q.join(format!("{seq:020}.json.tmp"));
        write_private(&tmp, &[&json]).map_err(io(&tmp))?;
        fs::rename(&tmp, &target).map_err(io(&target))?;
        File::open(&q).and_then(|d| d.sync_all()).map_err(io(&q))?;
        self.sync_dir()?;
        tracing::error!(
            seq,
            page = note.page_id.as_deref().unwrap_or("?"),
            reason,
            note = %target.display(),
            "journal record set aside: its save cannot be pushed; the other records go on"
        );
        Ok(note)
    }

    /// Reads the notes in the quarantine directory (a damaged file without a note, left by
    /// an older version, is listed too).
    fn read_quarantine(&self) -> Vec<SetAside> {
        let q = self.quarantine_dir();
        let Ok(rd) = fs::read_dir(&q) else {
            return Vec::new();
        };
        let mut notes: BTreeMap<Seq, SetAside> = BTreeMap::new();
        let mut bare = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                match fs::read(e.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice::<SetAside>(&b).ok())
                {
                    Some(n) => {
                        notes.insert(n.seq, n);
                    }
                    None => {
                        tracing::warn!(file = %e.path().display(), "unreadable quarantine note")
                    }
                }
            } else if let Some(stem) = name.strip_suffix(".rec.corrupt") {
                if let Ok(seq) = stem.parse::<Seq>() {
                    bare.push((seq, e.path()));
                }
            }
        }
        for (seq, path) in bare {
            notes.entry(seq).or_insert_with(|| SetAside {
                seq,
                page_id: peek_header(&path).map(|h| h.page_id),
                kind: None,
                reason: "damaged".into(),
                when: String::new(),
                file: Some(path),
                refused: false,
            });
        }
        notes.into_values().collect()
    }

    /// Every record set aside and not resolved yet, oldest first (read from the quarantine
    /// directory, so a note a human deleted is gone).
    pub fn set_aside(&self) -> Vec<SetAside> {
        let notes = self.read_quarantine();
        self.lock().set_aside = notes.clone();
        notes
    }

    /// The set-aside records of `page_id` (as last read; no disk access).
    pub fn set_aside_for(&self, page_id: &str) -> Vec<SetAside> {
        self.lock()
            .set_aside
            .iter()
            .filter(|s| s.page_id.as_deref() == Some(page_id))
            .cloned()
            .collect()
    }

    /// The damaged record files set aside (kept for a human).
    pub fn corrupt(&self) -> Vec<PathBuf> {
        self.set_aside()
            .into_iter()
            .filter_map(|s| s.file)
            .collect()
    }

    /// Records the last listing could not read (left in place): sequence number, page and
    /// why.
    pub fn unreadable(&self) -> Vec<(Seq, String, String)> {
        let inner = self.lock();
        inner
            .unreadable
            .iter()
            .map(|(seq, why)| {
                let page = inner
                    .pending
                    .get(seq)
                    .map(|e| e.page_id.clone())
                    .unwrap_or_default();
                (*seq, page, why.clone())
            })
            .collect()
    }

    /// Sets record `seq` aside on purpose: Notion refused what it asks for and it cannot be
    /// carried out as it is (a namespace change whose parent was trashed meanwhile). It is
    /// kept in the quarantine directory and reported like a damaged one (see the module doc).
    pub fn set_aside_refused(&self, seq: Seq, reason: &str) -> Result<(), JournalError> {
        self.set_aside_pending(seq, true, reason, true)
    }

    /// The pages and kinds of the pending records, from the index (no disk access; for a
    /// report when the records cannot be read).
    pub fn pending_index(&self) -> Vec<(Seq, String, RecordKind)> {
        self.lock()
            .pending
            .iter()
            .map(|(s, e)| (*s, e.page_id.clone(), e.kind))
            .collect()
    }

    /// fsync calls made so far (files and directory), for tests and `notionfs status`.
    pub fn fsync_count(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    fn sync_dir(&self) -> Result<(), JournalError> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.dir))?;
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the index consistent (files are the truth).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fails with ENOSPC (as [`JournalError::Io`]) unless the journal's filesystem has room
    /// for a record of `bytes` bytes of content: lets a write be refused when it is made,
    /// not only when its file is closed. Cheap (one `statvfs`).
    pub fn room_for(&self, bytes: u64) -> Result<(), JournalError> {
        if bytes > MAX_RECORD_BYTES {
            return Err(JournalError::TooBig {
                size: bytes,
                limit: MAX_RECORD_BYTES,
            });
        }
        let free = free_bytes(&self.dir).map_err(io(&self.dir))?;
        // The header, the directory entry and the filesystem's own blocks.
        if free < bytes.saturating_add(64 << 10) {
            return Err(io(&self.dir)(std::io::Error::from_raw_os_error(
                libc::ENOSPC,
            )));
        }
        Ok(())
    }

    /// Accepts a write: returns its sequence number once it is on disk (fsync'd).
    pub fn record(
        &self,
        page_id: &str,
        kind: RecordKind,
        data: &[u8],
        base: Option<&[u8]>,
    ) -> Result<Seq, JournalError> {
        let size = data.len() as u64 + base.map_or(0, |b| b.len() as u64);
        if size > MAX_RECORD_BYTES {
            return Err(JournalError::TooBig {
                size,
                limit: MAX_RECORD_BYTES,
            });
        }
        let mut inner = self.lock();
        let seq = inner.next;
        let header = Header {
            seq,
            page_id: page_id.to_string(),
            kind,
            created: now(),
            data_len: data.len() as u64,
            base_len: base.map(|b| b.len() as u64),
            sha256: digest(data, base),
        };
        let final_path = self.dir.join(file_name(seq));
        let tmp = self.dir.join(format!("{}.tmp", file_name(seq)));
        let mut head = serde_json::to_vec(&header).map_err(|e| io(&tmp)(e.into()))?;
        head.push(b'\n');
        if let Err(e) = write_private(&tmp, &[MAGIC, &head, data, base.unwrap_or_default()]) {
            if let Err(rm) = fs::remove_file(&tmp) {
                if rm.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(file = %tmp.display(), error = %rm, "cannot remove a partial journal record");
                }
            }
            return Err(io(&tmp)(e));
        }
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        fs::rename(&tmp, &final_path).map_err(io(&final_path))?;
        self.sync_dir()?;
        inner.next = seq + 1;
        let e = Entry {
            path: final_path,
            page_id: page_id.to_string(),
            kind,
        };
        inner.pending.insert(seq, e);
        Ok(seq)
    }

    /// Every record not yet confirmed, oldest first, read back from disk. A damaged or
    /// missing record is set aside and left out (the others are listed); one that cannot be
    /// read for another reason is left out of this listing and reported by
    /// [`Journal::unreadable`]. Fails only when the set-aside itself fails.
    ///
    /// The records are read without the lock, so a confirm may run meanwhile: what it
    /// confirmed is left out at the end, also the records read before it. Otherwise a page's
    /// older body, read just before a newer push confirmed it and its successor, would be
    /// listed alone — as the page's newest save.
    pub fn pending(&self) -> Result<Vec<Record>, JournalError> {
        let entries: Vec<(Seq, Entry)> = self
            .lock()
            .pending
            .iter()
            .map(|(s, e)| (*s, e.clone()))
            .collect();
        let mut out = Vec::with_capacity(entries.len());
        for (seq, e) in entries {
            match read_record(&e.path) {
                Ok(r) if r.seq == seq => {
                    self.lock().unreadable.remove(&seq);
                    out.push(r);
                }
                Ok(_) => {
                    self.set_aside_pending(seq, true, "its number does not match its name", false)?
                }
                Err(JournalError::Corrupt { reason, .. }) => {
                    self.set_aside_pending(seq, true, &reason, false)?
                }
                Err(JournalError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    // Confirmed (deleted) since the list was taken: no longer pending.
                    // Still indexed: the file vanished under the journal.
                    self.set_aside_pending(seq, false, "its file was deleted", false)?
                }
                Err(other) => {
                    tracing::warn!(seq, error = %other, "cannot read a journal record; skipped for now");
                    self.lock().unreadable.insert(seq, other.to_string());
                }
            }
            #[cfg(test)]
            if let Some(hook) = self.after_read.lock().unwrap().as_mut() {
                hook(self, seq);
            }
        }
        // Confirms delete a page's records oldest first, under the lock: what is still
        // indexed now is a consistent set (never an older body without its successor).
        let inner = self.lock();
        out.retain(|r| inner.pending.contains_key(&r.seq));
        Ok(out)
    }

    /// Sets record `seq` aside if it is still pending (a confirm may have raced with the
    /// read that found it damaged or missing).
    fn set_aside_pending(
        &self,
        seq: Seq,
        exists: bool,
        reason: &str,
        refused: bool,
    ) -> Result<(), JournalError> {
        let mut inner = self.lock();
        let Some(e) = inner.pending.get(&seq).cloned() else {
            return Ok(());
        };
        let path = if exists { Some(e.path.as_path()) } else { None };
        let note = self.quarantine(seq, path, Some(e.page_id), Some(e.kind), reason, refused)?;
        inner.pending.remove(&seq);
        inner.unreadable.remove(&seq);
        inner.set_aside.retain(|s| s.seq != seq);
        inner.set_aside.push(note);
        Ok(())
    }

    /// The pending records of one page, oldest first.
    pub fn pending_for(&self, page_id: &str) -> Result<Vec<Record>, JournalError> {
        Ok(self
            .pending()?
            .into_iter()
            .filter(|r| r.page_id == page_id)
            .collect())
    }

    /// Number of records not yet confirmed.
    pub fn pending_count(&self) -> usize {
        self.lock().pending.len()
    }

    /// Notion has record `seq`: forget it (durably).
    pub fn confirm(&self, seq: Seq) -> Result<(), JournalError> {
        let mut inner = self.lock();
        let path = inner
            .pending
            .get(&seq)
            .map(|e| e.path.clone())
            .ok_or(JournalError::UnknownSeq(seq))?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            // Gone already: what matters is that it is not pending any more.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
        let failed = failure_path(&path);
        if failed.exists() {
            fs::remove_file(&failed).map_err(io(&failed))?;
        }
        inner.pending.remove(&seq);
        inner.unreadable.remove(&seq);
        self.sync_dir()
    }

    /// Confirms every pending record of `page_id` of `kind` up to `seq` included: once the
    /// newest body of a page is in Notion, the older ones it superseded are done too — set
    /// aside ones included (their notes are removed). Returns how many pending records were
    /// confirmed.
    pub fn confirm_through(
        &self,
        page_id: &str,
        kind: RecordKind,
        seq: Seq,
    ) -> Result<usize, JournalError> {
        let done: Vec<Seq> = self
            .lock()
            .pending
            .iter()
            .filter(|(s, e)| e.page_id == page_id && e.kind == kind && **s <= seq)
            .map(|(s, _)| *s)
            .collect();
        for s in &done {
            self.confirm(*s)?;
        }
        self.resolve_set_aside(page_id, kind, seq)?;
        Ok(done.len())
    }

    /// Removes the notes (and damaged files) of set-aside records of `page_id` of `kind`
    /// older than `seq`, which a newer record now in Notion superseded.
    fn resolve_set_aside(
        &self,
        page_id: &str,
        kind: RecordKind,
        seq: Seq,
    ) -> Result<(), JournalError> {
        let mut inner = self.lock();
        let moot: Vec<SetAside> = inner
            .set_aside
            .iter()
            .filter(|s| {
                s.page_id.as_deref() == Some(page_id) && s.kind == Some(kind) && s.seq < seq
            })
            .cloned()
            .collect();
        for s in &moot {
            let note = self.quarantine_dir().join(format!("{:020}.json", s.seq));
            for f in [Some(note), s.file.clone()].into_iter().flatten() {
                match fs::remove_file(&f) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(&f)(e)),
                }
            }
            tracing::info!(
                seq = s.seq,
                page = page_id,
                "set-aside journal record superseded by a newer save now in Notion"
            );
        }
        inner.set_aside.retain(|s| !moot.contains(s));
        Ok(())
    }

    /// Notes why pushing record `seq` failed (shown as `failed: REASON` and by `notionfs
    /// status`, also after a restart). The record stays pending; a later success confirms it.
    pub fn mark_failed(&self, seq: Seq, reason: &str) -> Result<(), JournalError> {
        let inner = self.lock();
        let path = inner
            .pending
            .get(&seq)
            .map(|e| e.path.clone())
            .ok_or(JournalError::UnknownSeq(seq))?;
        let target = failure_path(&path);
        let mut tmp = target.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        write_private(&tmp, &[reason.as_bytes()]).map_err(io(&tmp))?;
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        fs::rename(&tmp, &target).map_err(io(&target))?;
        self.sync_dir()
    }
}

/// Free bytes for an unprivileged writer on the filesystem holding `dir`.
fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: a valid NUL-terminated path and a zeroed out-parameter of the right type.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above; statvfs only writes into `st`.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

fn corrupt(path: &Path, reason: impl Into<String>) -> JournalError {
    JournalError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The header of a (possibly damaged) record file, if it can still be read.
fn peek_header(path: &Path) -> Option<Header> {
    let mut buf = vec![0u8; 64 << 10];
    let n = File::open(path).and_then(|mut f| f.read(&mut buf)).ok()?;
    let rest = buf[..n].strip_prefix(MAGIC)?;
    let nl = rest.iter().position(|&b| b == b'\n')?;
    serde_json::from_slice(&rest[..nl]).ok()
}

fn read_record(path: &Path) -> Result<Record, JournalError> {
    let mut f = File::open(path).map_err(io(path))?;
    let len = f.metadata().map_err(io(path))?.len();
    if len > MAX_RECORD_FILE {
        return Err(corrupt(
            path,
            format!("{len} bytes, larger than any record ({MAX_RECORD_FILE})"),
        ));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    f.read_to_end(&mut bytes).map_err(io(path))?;
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| corrupt(path, "bad magic line"))?;
    let nl = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| corrupt(path, "no header line"))?;
    let header: Header = serde_json::from_slice(&rest[..nl])
        .map_err(|e| corrupt(path, format!("bad header: {e}")))?;
    let body = &rest[nl + 1..];
    let want = header.data_len.checked_add(header.base_len.unwrap_or(0));
    if want != Some(body.len() as u64) {
        return Err(corrupt(
            path,
            format!(
                "{} bytes of content, header says {}",
                body.len(),
                want.map_or("more than fits".to_string(), |w| w.to_string())
            ),
        ));
    }
    let (data, base) = body.split_at(header.data_len as usize);
    let base = header.base_len.map(|_| base);
    if digest(data, base) != header.sha256 {
        return Err(corrupt(path, "checksum mismatch"));
    }
    Ok(Record {
        seq: header.seq,
        page_id: header.page_id,
        kind: header.kind,
        created: header.created,
        data: data.to_vec(),
        base: base.map(<[u8]>::to_vec),
        failure: fs::read_to_string(failure_path(path)).ok(),
    })
}

/// The file holding why the last push of the record at `path` failed.
fn failure_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".failed");
    PathBuf::from(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A push confirming a page's two bodies while a listing reads them: the listing never
    /// shows the older body alone (it would be taken for the page's newest save).
    #[test]
    fn a_confirm_during_a_listing_never_leaves_an_older_body_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let j = Journal::open(tmp.path()).unwrap();
        let old = j.record("p", RecordKind::Body, b"old", Some(b"")).unwrap();
        let new = j
            .record("p", RecordKind::Body, b"new", Some(b"old"))
            .unwrap();
        // Right after the older record is read, the push of the newer one is confirmed.
        *j.after_read.lock().unwrap() = Some(Box::new(move |j: &Journal, seq| {
            if seq == old {
                assert_eq!(j.confirm_through("p", RecordKind::Body, new).unwrap(), 2);
            }
        }));
        let listed: Vec<Seq> = j.pending().unwrap().iter().map(|r| r.seq).collect();
        assert_eq!(listed, Vec::<Seq>::new());
        // And a listing with nothing confirmed meanwhile lists both, oldest first.
        *j.after_read.lock().unwrap() = None;
        let a = j.record("p", RecordKind::Body, b"a", Some(b"new")).unwrap();
        let b = j.record("p", RecordKind::Body, b"b", Some(b"a")).unwrap();
        let listed: Vec<Seq> = j.pending().unwrap().iter().map(|r| r.seq).collect();
        assert_eq!(listed, vec![a, b]);
    }
}
