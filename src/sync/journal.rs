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
//! sidecar `SEQ.rec.failed` (0600) holding the reason as UTF-8 text.
//!
//! # Durability
//! [`Journal::record`] writes `SEQ.rec.tmp` (created 0600), fsyncs it, renames it to
//! `SEQ.rec` and fsyncs the directory, and only then returns: once it returned, the record
//! survives a crash. [`Journal::confirm`] deletes the file and fsyncs the directory. On
//! [`Journal::open`] leftover `.tmp` files (never acknowledged) are removed, every `.rec` is
//! verified and pending again, and a damaged one is renamed `SEQ.rec.corrupt` (kept for a
//! human, listed by [`Journal::corrupt`]) instead of being pushed or deleted. Sequence numbers
//! continue after the largest one on disk.
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

struct Inner {
    next: Seq,
    pending: BTreeMap<Seq, PathBuf>,
}

/// The write journal of one mount.
pub struct Journal {
    dir: PathBuf,
    inner: Mutex<Inner>,
    corrupt: Vec<PathBuf>,
    fsyncs: AtomicU64,
}

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

impl Journal {
    /// Opens (creating it 0700 if needed) the journal in `dir` and recovers what a previous
    /// run accepted but did not confirm.
    pub fn open(dir: impl AsRef<Path>) -> Result<Journal, JournalError> {
        let dir = dir.as_ref().to_path_buf();
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io(&dir))?;
        // An existing directory may have been made with a looser umask.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io(&dir))?;
        let mut pending = BTreeMap::new();
        let mut corrupt = Vec::new();
        let mut failed = Vec::new();
        let mut max = 0;
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rec.tmp") || name.ends_with(".failed.tmp") {
                fs::remove_file(&path).map_err(io(&path))?;
            } else if name.ends_with(".rec.failed") {
                failed.push(path);
            } else if name.ends_with(".rec.corrupt") {
                // Never reuse its number: a later damaged record would overwrite it.
                if let Some(n) = name.split('.').next().and_then(|d| d.parse::<Seq>().ok()) {
                    max = max.max(n);
                }
                corrupt.push(path);
            } else if let Some(stem) = name.strip_suffix(".rec") {
                match read_record(&path) {
                    Ok(r) if stem.parse::<Seq>().ok() == Some(r.seq) => {
                        max = max.max(r.seq);
                        pending.insert(r.seq, path);
                    }
                    Ok(_) | Err(JournalError::Corrupt { .. }) => {
                        let aside = dir.join(format!("{name}.corrupt"));
                        fs::rename(&path, &aside).map_err(io(&path))?;
                        tracing::error!(file = %aside.display(), "damaged journal record set aside");
                        corrupt.push(aside);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        // A failure note whose record was confirmed (crash between the two deletions).
        for f in failed {
            let rec = f.with_extension("");
            if !pending.values().any(|p| *p == rec) {
                fs::remove_file(&f).map_err(io(&f))?;
            }
        }
        corrupt.sort();
        let j = Journal {
            dir,
            inner: Mutex::new(Inner {
                next: max + 1,
                pending,
            }),
            corrupt,
            fsyncs: AtomicU64::new(0),
        };
        j.sync_dir()?;
        Ok(j)
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Damaged records found at open, renamed `*.rec.corrupt`.
    pub fn corrupt(&self) -> &[PathBuf] {
        &self.corrupt
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

    /// Accepts a write: returns its sequence number once it is on disk (fsync'd).
    pub fn record(
        &self,
        page_id: &str,
        kind: RecordKind,
        data: &[u8],
        base: Option<&[u8]>,
    ) -> Result<Seq, JournalError> {
        let mut inner = self.lock();
        let seq = inner.next;
        let header = Header {
            seq,
            page_id: page_id.to_string(),
            kind,
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            data_len: data.len() as u64,
            base_len: base.map(|b| b.len() as u64),
            sha256: digest(data, base),
        };
        let final_path = self.dir.join(file_name(seq));
        let tmp = self.dir.join(format!("{}.tmp", file_name(seq)));
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(MAGIC)?;
            serde_json::to_writer(&mut f, &header)?;
            f.write_all(b"\n")?;
            f.write_all(data)?;
            if let Some(b) = base {
                f.write_all(b)?;
            }
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(io(&tmp)(e));
        }
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        fs::rename(&tmp, &final_path).map_err(io(&final_path))?;
        self.sync_dir()?;
        inner.next = seq + 1;
        inner.pending.insert(seq, final_path);
        Ok(seq)
    }

    /// Every record not yet confirmed, oldest first, read back from disk.
    pub fn pending(&self) -> Result<Vec<Record>, JournalError> {
        let paths: Vec<PathBuf> = self.lock().pending.values().cloned().collect();
        let mut out = Vec::with_capacity(paths.len());
        for p in &paths {
            match read_record(p) {
                Ok(r) => out.push(r),
                // Confirmed (deleted) since the list was taken: no longer pending.
                Err(JournalError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound
                        && !self.lock().pending.values().any(|q| q == p) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
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
            .cloned()
            .ok_or(JournalError::UnknownSeq(seq))?;
        fs::remove_file(&path).map_err(io(&path))?;
        let failed = failure_path(&path);
        if failed.exists() {
            fs::remove_file(&failed).map_err(io(&failed))?;
        }
        inner.pending.remove(&seq);
        self.sync_dir()
    }

    /// Confirms every pending record of `page_id` of `kind` up to `seq` included: once the
    /// newest body of a page is in Notion, the older ones it superseded are done too.
    /// Returns how many were confirmed.
    pub fn confirm_through(
        &self,
        page_id: &str,
        kind: RecordKind,
        seq: Seq,
    ) -> Result<usize, JournalError> {
        let done: Vec<Seq> = self
            .pending()?
            .into_iter()
            .filter(|r| r.page_id == page_id && r.kind == kind && r.seq <= seq)
            .map(|r| r.seq)
            .collect();
        for s in &done {
            self.confirm(*s)?;
        }
        Ok(done.len())
    }

    /// Notes why pushing record `seq` failed (shown as `failed: REASON` and by `notionfs
    /// status`, also after a restart). The record stays pending; a later success confirms it.
    pub fn mark_failed(&self, seq: Seq, reason: &str) -> Result<(), JournalError> {
        let inner = self.lock();
        let path = inner
            .pending
            .get(&seq)
            .cloned()
            .ok_or(JournalError::UnknownSeq(seq))?;
        let target = failure_path(&path);
        let mut tmp = target.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(reason.as_bytes())?;
            f.sync_all()
        };
        write().map_err(io(&tmp))?;
        self.fsyncs.fetch_add(1, Ordering::Relaxed);
        fs::rename(&tmp, &target).map_err(io(&target))?;
        self.sync_dir()
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> JournalError {
    JournalError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn read_record(path: &Path) -> Result<Record, JournalError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io(path))?;
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
    let data_len = usize::try_from(header.data_len).map_err(|_| corrupt(path, "huge length"))?;
    let base_len = match header.base_len {
        Some(n) => Some(usize::try_from(n).map_err(|_| corrupt(path, "huge length"))?),
        None => None,
    };
    if body.len() != data_len + base_len.unwrap_or(0) {
        return Err(corrupt(
            path,
            format!(
                "{} bytes of content, header says {}",
                body.len(),
                data_len + base_len.unwrap_or(0)
            ),
        ));
    }
    let (data, base) = body.split_at(data_len);
    let base = base_len.map(|_| base);
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
