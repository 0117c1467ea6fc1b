//! Attachments copied into a page's folder (notionfs(1), WRITES): uploaded with the
//! File Upload API and appended to the page as an image, video, audio, pdf or file block.
//!
//! # Life of an upload
//! 1. `create` of a name of a supported type (see [`kind_of`], the reference's table of
//!    supported file types) in a page's folder makes a local file registered here as
//!    [`Staged`], whose bytes are spooled to `<cache dir>/uploads/spool-<uuid>` (0600) as they
//!    are written ([`Spool`]): a copy is never held in memory, whatever its size. Other types
//!    are refused at once (EPERM): Notion would refuse them later, when no one is left to tell.
//! 2. Writes past the workspace's per-file limit (`bot.workspace_limits
//!    .max_file_upload_size_in_bytes` of `GET /v1/users/me`, read once) fail with EFBIG and a
//!    log line naming the limit; the file is then dropped at close and nothing is created.
//! 3. `flush` (every `close(2)`, and `fsync`) makes the bytes durable before it returns: the
//!    spool is copied (streamed) to `<cache dir>/uploads/<uuid>` (0600, fsync'd), then a journal record of
//!    kind [`RecordKind::Upload`] for the page is written whose data is a small JSON pointer
//!    ([`Pointer`]: file name, staged file, size, sha256). Pointers keep journal records
//!    small: the journal is re-read on every push, and an upload may weigh gigabytes.
//! 4. `release` starts the upload in the background (the application's `close` does not wait
//!    for the network): single part up to 20 MiB, else multi-part in parts of 10 MiB (the
//!    reference's recommended size, within its 5–20 MiB rule; the last part may be smaller),
//!    then one append of the block at the end of the page. Then the record is confirmed, the
//!    staged file deleted, and the attachment replaces the local file in the listing (applied
//!    by the core on its next lookup / readdir, see [`Uploads::take_done`]). The staged file
//!    is streamed to Notion from disk, one part at a time (a part is read as it is sent).
//!    Transient failures are retried with backoff and jitter; a refusal is logged and noted on the
//!    record (`notionfs status`), which stays for the next mount to retry. Meanwhile the
//!    local file's `user.notionfs.sync` says `pending`, or `failed: REASON`.
//! 5. Unmount waits for uploads in flight (within the push window of SIGTERM); a mount
//!    replays the upload records a previous run left (crash, `kill -9`, unmount before the
//!    upload finished).
//!
//! Synchronous uploads in `close` were the alternative: simpler (the attachment exists when
//! `cp` returns) but a copy would then wait for the network, and fail when Notion is down
//! although its bytes are safe. Background uploads keep `close` local and fast; the price
//! is the window in which the file is a local copy.
//!
//! # Retries never duplicate the block
//! An append answered with a 5xx or cut off may have happened anyway. Before appending
//! again, the retry asks for the file upload (`GET /v1/file_uploads/{id}`): once attached to
//! a block its `expiry_time` is null (the reference's File Upload object), so the block is
//! there and is looked up among the page's children (the last of its type and name) instead
//! of appended a second time; an upload that is still attachable is appended again without
//! being sent again. The window between the append and the journal confirmation is still
//! not idempotent across a crash: a crash exactly there uploads the file again at the next
//! mount (a duplicate block, never a lost file).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;

use super::Writer;
use crate::fs::{create_private_dir, FsError, FsResult};
use crate::notion::client::{FilePart, NewFileUpload};
use crate::notion::model::Block;
use crate::notion::{ApiError, Client};
use crate::sync::journal::{RecordKind, Seq};

/// Largest single-part upload, and largest part (20 MiB).
pub const MAX_SINGLE: u64 = 20 * 1024 * 1024;
/// Size of the parts of a multi-part upload (10 MiB, the reference's recommendation).
pub const PART_SIZE: u64 = 10 * 1024 * 1024;

/// The block an uploaded file becomes, and its MIME type, by extension (the reference's
/// "Supported file types" of working-with-files-and-media). `None`: Notion refuses the type.
pub fn kind_of(name: &str) -> Option<(&'static str, &'static str)> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    let ct = match ext.as_str() {
        "aac" | "adts" => "audio/aac",
        "mid" | "midi" => "audio/midi",
        "mp3" | "mpga" => "audio/mpeg",
        "m4a" | "m4b" => "audio/mp4",
        "oga" | "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "wma" => "audio/x-ms-wma",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "json" => "application/json",
        "doc" | "dot" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "dotx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
        "xls" | "xlt" | "xla" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xltx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
        "ppt" | "pot" | "pps" | "ppa" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "potx" => "application/vnd.openxmlformats-officedocument.presentationml.template",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "jpeg" | "jpg" => "image/jpeg",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "tif" | "tiff" => "image/tiff",
        "webp" => "image/webp",
        "ico" => "image/vnd.microsoft.icon",
        "amv" => "video/x-amv",
        "asf" | "wmv" => "video/x-ms-asf",
        "avi" => "video/x-msvideo",
        "f4v" => "video/x-f4v",
        "flv" => "video/x-flv",
        // `.mp4` is listed under audio and video: a video block shows both.
        "gifv" | "m4v" | "mp4" => "video/mp4",
        "mkv" | "webm" => "video/webm",
        "mov" | "qt" => "video/quicktime",
        "mpeg" => "video/mpeg",
        _ => return None,
    };
    let block = match ct.split('/').next() {
        Some("image") => "image",
        Some("video") => "video",
        Some("audio") => "audio",
        _ if ct == "application/pdf" => "pdf",
        _ => "file",
    };
    Some((block, ct))
}

/// The body of an upload's journal record: where the durable bytes are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pointer {
    /// The file name (as created in the folder).
    pub name: String,
    /// The staged file's name in `<cache dir>/uploads`.
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// Hex SHA-256 of its bytes (a damaged staged file is not uploaded).
    pub sha256: String,
}

/// A local file in a page's folder that becomes an attachment.
#[derive(Clone, Debug, Default)]
pub struct Staged {
    /// The page it is appended to.
    pub page: String,
    /// Its name in the folder.
    pub name: String,
    /// Written past the workspace limit (the limit): dropped at close.
    pub refused: Option<u64>,
    /// Written since the last flush.
    pub dirty: bool,
    /// Its journal record, once flushed.
    pub seq: Option<Seq>,
    /// Removed (`rm`) before its block was appended.
    pub cancelled: bool,
    /// Its upload is running.
    pub started: bool,
    /// The record whose upload was started last (a close without a change since, like
    /// that of a read, starts nothing).
    pub launched: Option<Seq>,
    /// Why its upload failed, if it did.
    pub failure: Option<String>,
}

/// An upload whose block is in Notion: the core lists it as an attachment.
#[derive(Clone, Debug)]
pub struct Done {
    /// The local file's inode (none for a replay from the journal).
    pub ino: Option<u64>,
    /// The page.
    pub page: String,
    /// The file name.
    pub name: String,
    /// The appended block, as the append returned it (`None`: a retry found the file
    /// attached but not the block among the page's children; the page is read again).
    pub block: Option<Block>,
}

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Notion refused or could not be reached.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// The staged file is missing or damaged.
    #[error("the staged copy is unusable: {0}")]
    Staged(String),
}

/// The bytes of a local file on its way to becoming an attachment, on disk as they are
/// written (`uploads/spool-<uuid>`, 0600). The file is removed when the last holder lets go.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    file: File,
    len: Mutex<u64>,
}

impl Spool {
    /// A new empty spool file at `path`.
    fn create(path: PathBuf) -> std::io::Result<Spool> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        Ok(Spool {
            path,
            file,
            len: Mutex::new(0),
        })
    }

    fn size(&self) -> std::sync::MutexGuard<'_, u64> {
        self.len.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        *self.size()
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes `data` at `offset` (a full disk is ENOSPC).
    pub fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.file.write_all_at(data, offset)?;
        let mut n = self.size();
        *n = (*n).max(offset + data.len() as u64);
        Ok(())
    }

    /// Cuts or zero-extends it to `size` bytes.
    pub fn set_len(&self, size: u64) -> std::io::Result<()> {
        let mut n = self.size();
        self.file.set_len(size)?;
        *n = size;
        Ok(())
    }

    /// Up to `size` bytes at `offset`.
    pub fn read_at(&self, offset: u64, size: usize) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; size];
        let mut got = 0;
        while got < size {
            let r = self.file.read_at(&mut buf[got..], offset + got as u64)?;
            if r == 0 {
                break;
            }
            got += r;
        }
        buf.truncate(got);
        Ok(buf)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_file(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %self.path.display(), error = %e, "cannot remove a spool file");
            }
        }
    }
}

/// Copies `from` to a new file `to` (0600, fsync'd) in chunks; returns its size and hex
/// SHA-256.
fn copy_hashed(from: &File, to: &Path) -> std::io::Result<(u64, String)> {
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    loop {
        let n = from.read_at(&mut buf, off)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        off += n as u64;
    }
    out.sync_all()?;
    Ok((off, hex(&h.finalize())))
}

/// Size and hex SHA-256 of the file at `path`, read in chunks.
fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let r = f.read(&mut buf)?;
        if r == 0 {
            break;
        }
        h.update(&buf[..r]);
        n += r as u64;
    }
    Ok((n, hex(&h.finalize())))
}

/// Where a retried upload stands: the file upload sent so far, and whether an append of it
/// may have happened although it failed.
#[derive(Debug, Default)]
struct Attempt {
    upload: Option<String>,
    appended_maybe: bool,
}

struct Inner {
    dir: PathBuf,
    staged: Mutex<HashMap<u64, Staged>>,
    done: Mutex<Vec<Done>>,
    limit: tokio::sync::OnceCell<Option<u64>>,
    /// Uploads running (or waiting to retry) in this process.
    running: AtomicUsize,
    /// Woken when `running` drops to zero.
    idle: tokio::sync::Notify,
}

/// The uploads of one mount. Cheap to clone.
#[derive(Clone)]
pub struct Uploads {
    inner: Arc<Inner>,
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl Uploads {
    /// Uploads staged under `dir` (created 0700).
    pub fn new(dir: PathBuf) -> FsResult<Uploads> {
        create_private_dir(&dir)?;
        // Spools of local files a crash ended: their bytes were never flushed, so never
        // accepted (a flushed copy is a staged file of its own).
        for e in fs::read_dir(&dir)?.flatten() {
            if e.file_name().to_string_lossy().starts_with("spool-") {
                if let Err(err) = fs::remove_file(e.path()) {
                    tracing::warn!(file = %e.path().display(), error = %err, "cannot remove a stale spool file");
                }
            }
        }
        Ok(Uploads {
            inner: Arc::new(Inner {
                dir,
                staged: Mutex::new(HashMap::new()),
                done: Mutex::new(Vec::new()),
                limit: tokio::sync::OnceCell::new(),
                running: AtomicUsize::new(0),
                idle: tokio::sync::Notify::new(),
            }),
        })
    }

    /// A new spool for a local file copied into a page's folder.
    pub fn spool(&self) -> FsResult<Arc<Spool>> {
        let path = self
            .inner
            .dir
            .join(format!("spool-{}", uuid::Uuid::new_v4().simple()));
        Ok(Arc::new(Spool::create(path)?))
    }

    fn staged(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Staged>> {
        self.inner.staged.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The workspace's per-file limit, read from `GET /v1/users/me` once it could be read
    /// (`None`: unknown; Notion then has the last word).
    pub async fn limit(&self, client: &Client) -> Option<u64> {
        let got = self
            .inner
            .limit
            .get_or_try_init(|| async {
                client.me().await.map(|u| {
                    u.bot
                        .and_then(|b| b.workspace_limits)
                        .and_then(|l| l.max_file_upload_size_in_bytes)
                })
            })
            .await;
        match got {
            Ok(l) => *l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the workspace's upload limit");
                None
            }
        }
    }

    /// Registers the local file `ino` as a future attachment of `page`.
    pub fn register(&self, ino: u64, page: &str, name: &str) {
        self.staged().insert(
            ino,
            Staged {
                page: page.to_string(),
                name: name.to_string(),
                ..Staged::default()
            },
        );
    }

    /// Whether the local file `ino` is a future attachment.
    pub fn is_staged(&self, ino: u64) -> bool {
        self.staged().contains_key(&ino)
    }

    /// Before a write (or truncate) makes `ino` `size` bytes long: refuses it past the
    /// workspace limit (logged once) or once its upload started, else notes the change.
    pub fn check_size(&self, ino: u64, size: u64) -> FsResult<()> {
        let limit = self.inner.limit.get().copied().flatten();
        let mut st = self.staged();
        let Some(s) = st.get_mut(&ino) else {
            return Ok(());
        };
        // Its bytes are on their way: a change now would be lost or make a second block.
        if s.started {
            return Err(FsError::ReadOnly("write to a file being uploaded"));
        }
        if let Some(limit) = limit.filter(|l| size > *l) {
            if s.refused.is_none() {
                tracing::warn!(
                    file = %s.name,
                    size,
                    limit,
                    "attachment refused: larger than the workspace's upload limit of {limit} bytes"
                );
            }
            s.refused = Some(limit);
            return Err(FsError::TooBig { size, limit });
        }
        s.dirty = true;
        Ok(())
    }

    /// The `user.notionfs.sync` of a local file: `pending` while its upload is on its way,
    /// `failed: REASON` when it failed; `None` for a file that is not a future attachment.
    pub fn sync_state(&self, ino: u64) -> Option<String> {
        let st = self.staged();
        let s = st.get(&ino)?;
        Some(match &s.failure {
            Some(f) => format!("failed: {f}"),
            None => "pending".to_string(),
        })
    }

    /// Whether `ino` was refused for its size (its local file is to be dropped).
    pub fn refused(&self, ino: u64) -> Option<u64> {
        self.staged().get(&ino).and_then(|s| s.refused)
    }

    /// Forgets `ino` (its local file is gone): returns its state unless its upload started,
    /// in which case the upload is cancelled (its block is not appended, or deleted again).
    /// The caller drops the record of a returned state ([`Uploads::drop_record`]).
    pub fn forget(&self, ino: u64) -> Option<Staged> {
        let mut st = self.staged();
        match st.get(&ino) {
            Some(s) if s.started => {
                if let Some(s) = st.get_mut(&ino) {
                    s.cancelled = true;
                }
                None
            }
            _ => st.remove(&ino),
        }
    }

    /// Makes the content of the local file `ino` (its spool) durable: staged file (a
    /// streamed copy) then journal record (blocking; call from `spawn_blocking`). A previous
    /// record of the same file is replaced. Returns without doing anything when nothing
    /// changed since the last flush.
    pub fn stage(&self, writer: &Writer, ino: u64, spool: &Spool) -> FsResult<()> {
        let (page, name, old) = {
            let st = self.staged();
            match st.get(&ino) {
                Some(s) if s.refused.is_none() && (s.dirty || s.seq.is_none()) => {
                    (s.page.clone(), s.name.clone(), s.seq)
                }
                _ => return Ok(()),
            }
        };
        let file = uuid::Uuid::new_v4().to_string();
        let path = self.inner.dir.join(&file);
        let copied = copy_hashed(&spool.file, &path)
            .and_then(|c| File::open(&self.inner.dir)?.sync_all().map(|_| c));
        let (size, sha256) = match copied {
            Ok(c) => c,
            Err(e) => {
                self.remove_staged(&file);
                return Err(e.into());
            }
        };
        let ptr = Pointer {
            name,
            file: file.clone(),
            size,
            sha256,
        };
        let body = serde_json::to_vec(&ptr).map_err(std::io::Error::other)?;
        let seq = match writer
            .journal()
            .record(&page, RecordKind::Upload, &body, None)
        {
            Ok(seq) => seq,
            Err(e) => {
                self.remove_staged(&file);
                return Err(e.into());
            }
        };
        if let Some(s) = self.staged().get_mut(&ino) {
            s.seq = Some(seq);
            s.dirty = false;
            s.failure = None;
        }
        if let Some(old) = old {
            self.drop_record(writer, old);
        }
        Ok(())
    }

    /// Removes the staged file `file` (a missing one is fine; other failures are logged).
    fn remove_staged(&self, file: &str) {
        let path = self.inner.dir.join(file);
        if let Err(e) = fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %path.display(), error = %e, "cannot remove a staged upload");
            }
        }
    }

    /// Confirms record `seq` and deletes its staged file.
    pub fn drop_record(&self, writer: &Writer, seq: Seq) {
        let rec = writer
            .journal()
            .pending()
            .ok()
            .and_then(|rs| rs.into_iter().find(|r| r.seq == seq));
        if let Some(ptr) = rec.and_then(|r| serde_json::from_slice::<Pointer>(&r.data).ok()) {
            self.remove_staged(&ptr.file);
        }
        if let Err(e) = writer.journal().confirm(seq) {
            tracing::warn!(seq, error = %e, "cannot confirm an upload record");
        }
    }

    /// Starts the upload of the flushed local file `ino` in the background.
    pub fn start(&self, client: &Client, writer: &Arc<Writer>, ino: u64) {
        let (page, seq) = {
            let mut st = self.staged();
            let Some(s) = st.get_mut(&ino) else { return };
            let Some(seq) = s.seq else { return };
            if s.started || s.refused.is_some() || s.launched == Some(seq) {
                return;
            }
            s.started = true;
            s.launched = Some(seq);
            (s.page.clone(), seq)
        };
        self.spawn(client.clone(), writer.clone(), Some(ino), page, seq);
    }

    /// Starts the uploads a previous run journaled but did not finish.
    pub fn replay(&self, client: &Client, writer: &Arc<Writer>) {
        let recs = match writer.journal().pending() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the journal for uploads");
                return;
            }
        };
        for r in recs.into_iter().filter(|r| r.kind == RecordKind::Upload) {
            self.spawn(client.clone(), writer.clone(), None, r.page_id, r.seq);
        }
    }

    fn spawn(&self, client: Client, writer: Arc<Writer>, ino: Option<u64>, page: String, seq: Seq) {
        let me = self.clone();
        self.inner.running.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            me.attempts(&client, &writer, ino, &page, seq).await;
            if me.inner.running.fetch_sub(1, Ordering::SeqCst) == 1 {
                me.inner.idle.notify_waiters();
            }
        });
    }

    /// Waits until no upload runs in this process (unmount: what is left stays in the
    /// journal for the next mount).
    pub async fn idle(&self) {
        loop {
            let woken = self.inner.idle.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.inner.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            woken.await;
        }
    }

    /// Runs one upload, retrying transient failures with backoff and jitter.
    async fn attempts(
        &self,
        client: &Client,
        writer: &Writer,
        ino: Option<u64>,
        page: &str,
        seq: Seq,
    ) {
        let mut at = Attempt::default();
        let mut tries = 0u32;
        loop {
            match self.run(client, writer, ino, page, seq, &mut at).await {
                Ok(()) => return,
                Err(UploadError::Api(e)) if e.is_transient() && tries < 8 => {
                    tries += 1;
                    let wait = retry_wait(tries);
                    tracing::warn!(page, error = %e, attempt = tries, retry_in_ms = wait.as_millis() as u64, "upload failed; retried");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    let reason = e.to_string();
                    if let Some(i) = ino {
                        let mut st = self.staged();
                        if let Some(s) = st.get_mut(&i).filter(|s| s.seq == Some(seq)) {
                            // A later save (write and close) tries again; `rm` drops it.
                            s.failure = Some(reason.clone());
                            s.started = false;
                        }
                    }
                    tracing::warn!(page, reason = %reason, "upload failed; kept for the next mount");
                    writer.note_failure(seq, &reason).await;
                    return;
                }
            }
        }
    }

    fn cancelled(&self, ino: Option<u64>) -> bool {
        ino.is_some_and(|i| self.staged().get(&i).is_some_and(|s| s.cancelled))
    }

    /// The pointer of record `seq` and the staged file it names, checked against its
    /// checksum (streamed, off the runtime's workers). `None`: the record was confirmed.
    async fn staged_file(
        &self,
        writer: &Writer,
        seq: Seq,
    ) -> Result<Option<(Pointer, PathBuf)>, UploadError> {
        let rec = writer
            .journal_io(|j| j.pending())
            .await
            .map_err(|e| UploadError::Staged(e.to_string()))?
            .into_iter()
            .find(|r| r.seq == seq);
        let Some(rec) = rec else { return Ok(None) };
        let ptr: Pointer = serde_json::from_slice(&rec.data)
            .map_err(|e| UploadError::Staged(format!("bad record: {e}")))?;
        let path = self.inner.dir.join(&ptr.file);
        let p = path.clone();
        let (size, sha) = tokio::task::spawn_blocking(move || hash_file(&p))
            .await
            .map_err(|e| UploadError::Staged(e.to_string()))?
            .map_err(|e| UploadError::Staged(e.to_string()))?;
        if sha != ptr.sha256 || size != ptr.size {
            return Err(UploadError::Staged("checksum mismatch".into()));
        }
        Ok(Some((ptr, path)))
    }

    async fn run(
        &self,
        client: &Client,
        writer: &Writer,
        ino: Option<u64>,
        page: &str,
        seq: Seq,
        at: &mut Attempt,
    ) -> Result<(), UploadError> {
        // Already confirmed (replaced by a newer flush of the same file).
        let Some((ptr, path)) = self.staged_file(writer, seq).await? else {
            return Ok(());
        };
        if self.cancelled(ino) {
            self.finish(writer, ino, seq).await;
            return Ok(());
        }
        let (btype, ct) = kind_of(&ptr.name).unwrap_or(("file", "application/octet-stream"));
        let id = match self.resume(client, page, at, &ptr, btype).await? {
            Resume::Appended(block) => {
                return self
                    .appended(client, writer, ino, page, seq, &ptr, block.map(|b| *b))
                    .await
            }
            Resume::Attach(id) => id,
            Resume::Upload => {
                let id = upload_file(client, &ptr.name, ct, &path, ptr.size).await?;
                at.upload = Some(id.clone());
                id
            }
        };
        let mut payload = json!({"type": "file_upload", "file_upload": {"id": id}});
        if btype == "file" {
            payload["name"] = json!(ptr.name);
        }
        let block = json!({"object": "block", "type": btype, btype: payload});
        let mut appended = match client.append_children(page, vec![block], None).await {
            Ok(a) => a,
            Err(e) => {
                // A 5xx or a cut connection: the block may be there. The retry checks.
                at.appended_maybe = e.is_transient();
                return Err(e.into());
            }
        };
        let block = appended
            .pop()
            .ok_or_else(|| UploadError::Staged("the append returned no block".into()))?;
        self.appended(client, writer, ino, page, seq, &ptr, Some(block))
            .await
    }

    /// Where a retry starts: the file upload of an earlier attempt may already be attached
    /// (its append happened although it failed), or still attachable, or must be sent again.
    async fn resume(
        &self,
        client: &Client,
        page: &str,
        at: &Attempt,
        ptr: &Pointer,
        btype: &str,
    ) -> Result<Resume, UploadError> {
        let Some(id) = at.upload.clone() else {
            return Ok(Resume::Upload);
        };
        let u = client.file_upload(&id).await?;
        if u.status == "uploaded" && u.expiry_time.is_none() {
            // Attached: an earlier append went through although its answer was lost.
            tracing::info!(page, file = %ptr.name, "the earlier append went through; not appended again");
            return Ok(Resume::Appended(
                find_block(client, page, btype, &ptr.name)
                    .await?
                    .map(Box::new),
            ));
        }
        if u.status == "uploaded" {
            // Sent, not attached (a failed append did not happen): append it, not resend.
            return Ok(Resume::Attach(id));
        }
        Ok(Resume::Upload)
    }

    /// The block is in Notion: record done (or take it away again if the file was removed
    /// meanwhile).
    #[allow(clippy::too_many_arguments)]
    async fn appended(
        &self,
        client: &Client,
        writer: &Writer,
        ino: Option<u64>,
        page: &str,
        seq: Seq,
        ptr: &Pointer,
        block: Option<Block>,
    ) -> Result<(), UploadError> {
        if self.cancelled(ino) {
            // Removed while it was uploading: take the block away again.
            if let Some(b) = block.as_ref().and_then(|b| b.id.as_deref()) {
                client.delete_block(b).await?;
            }
            self.finish(writer, ino, seq).await;
            return Ok(());
        }
        tracing::info!(page, file = %ptr.name, size = ptr.size, "attachment uploaded");
        self.finish(writer, ino, seq).await;
        self.inner
            .done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Done {
                ino,
                page: page.to_string(),
                name: ptr.name.clone(),
                block,
            });
        Ok(())
    }

    async fn finish(&self, writer: &Writer, ino: Option<u64>, seq: Seq) {
        let (me, w) = (self.clone(), writer.me.upgrade());
        if let Some(w) = w {
            if let Err(e) = tokio::task::spawn_blocking(move || me.drop_record(&w, seq)).await {
                tracing::error!(seq, error = %e, "confirming an upload record did not finish");
            }
        }
        if let Some(i) = ino {
            let mut st = self.staged();
            // A newer flush replaced this record: that one is uploaded by its own release.
            if st.get(&i).is_some_and(|s| s.seq == Some(seq)) {
                st.remove(&i);
            }
        }
    }

    /// Uploads whose block is in Notion since the last call.
    pub fn take_done(&self) -> Vec<Done> {
        std::mem::take(&mut *self.inner.done.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Where a retried upload starts.
enum Resume {
    /// Send the file (again).
    Upload,
    /// Append this uploaded, not yet attached file upload.
    Attach(String),
    /// An earlier append went through: its block, if found.
    Appended(Option<Box<Block>>),
}

/// How long to wait before the `n`th retry of an upload (`n` ≥ 1): 1 s doubling up to
/// 32 s, with jitter over the upper half so uploads do not retry in lockstep.
fn retry_wait(n: u32) -> Duration {
    let full = 1000u64 << n.saturating_sub(1).min(5);
    Duration::from_millis(rand::rng().random_range(full / 2..=full))
}

/// The block an earlier append of `name` made at the end of `page`: the last child of type
/// `btype` whose file name is `name` (its `name` for a file block, else the last segment of
/// its URL's path).
async fn find_block(
    client: &Client,
    page: &str,
    btype: &str,
    name: &str,
) -> Result<Option<Block>, ApiError> {
    let children = client.children(page).await?;
    Ok(children.into_iter().rev().find(|b| {
        let v = serde_json::to_value(b).unwrap_or_default();
        let media = &v[btype];
        if v["type"] != btype || media.is_null() {
            return false;
        }
        let named = media["name"].as_str() == Some(name);
        let url = media["file"]["url"].as_str().unwrap_or_default();
        let last = url_last_segment(url);
        named || last == name
    }))
}

/// The last segment of a URL's path, percent-decoded.
fn url_last_segment(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let seg = path.rsplit('/').next().unwrap_or_default();
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte ranges of the parts of a multi-part upload of `size` bytes: [`PART_SIZE`]
/// each, the last one the rest.
pub fn part_ranges(size: u64) -> Vec<std::ops::Range<u64>> {
    (0..size.div_ceil(PART_SIZE))
        .map(|n| n * PART_SIZE..((n + 1) * PART_SIZE).min(size))
        .collect()
}

/// Uploads the `size` bytes of the file at `path` (single part up to 20 MiB, else parts of
/// 10 MiB), streamed from disk a part at a time, and returns the `uploaded` file upload's
/// id.
pub async fn upload_file(
    client: &Client,
    name: &str,
    content_type: &str,
    path: &Path,
    size: u64,
) -> Result<String, ApiError> {
    let part = |range: std::ops::Range<u64>| FilePart {
        path: path.to_path_buf(),
        offset: range.start,
        len: range.end - range.start,
    };
    if size <= MAX_SINGLE {
        let u = client
            .create_file_upload(&NewFileUpload {
                filename: Some(name.to_string()),
                content_type: Some(content_type.to_string()),
                number_of_parts: None,
            })
            .await?;
        client
            .send_file_part(&u.id, part(0..size), name, content_type, None)
            .await?;
        return Ok(u.id);
    }
    let ranges = part_ranges(size);
    let u = client
        .create_file_upload(&NewFileUpload {
            filename: Some(name.to_string()),
            content_type: Some(content_type.to_string()),
            number_of_parts: Some(ranges.len() as u32),
        })
        .await?;
    for (n, r) in ranges.into_iter().enumerate() {
        client
            .send_file_part(&u.id, part(r), name, content_type, Some(n as u32 + 1))
            .await?;
    }
    client.complete_file_upload(&u.id).await?;
    Ok(u.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_reference_table() {
        assert_eq!(kind_of("diagram.PNG"), Some(("image", "image/png")));
        assert_eq!(kind_of("talk.mp4"), Some(("video", "video/mp4")));
        assert_eq!(kind_of("song.mp3"), Some(("audio", "audio/mpeg")));
        assert_eq!(kind_of("paper.pdf"), Some(("pdf", "application/pdf")));
        assert_eq!(kind_of("notes.txt"), Some(("file", "text/plain")));
        assert_eq!(kind_of("archive.zip"), None);
        assert_eq!(kind_of("README"), None);
    }

    #[test]
    fn retries_are_jittered_and_capped() {
        for n in 1..12 {
            let full = Duration::from_millis(1000 << (n - 1).min(5));
            let w = retry_wait(n);
            assert!(w <= full && w >= full / 2, "{n}: {w:?}");
        }
    }

    #[test]
    fn url_names_are_decoded() {
        assert_eq!(
            url_last_segment("http://h/_files/t/my%20file.png?X=1"),
            "my file.png"
        );
        assert_eq!(url_last_segment("https://s3/a/b/c.pdf"), "c.pdf");
    }

    #[test]
    fn parts_are_within_the_limits() {
        let mib = 1024 * 1024;
        let r = part_ranges(25 * mib);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], 0..10 * mib);
        assert_eq!(r[2], 20 * mib..25 * mib);
        // Every part but the last is 5–20 MiB; together they are the whole file.
        for size in [20 * mib + 1, 30 * mib, 41 * mib + 7] {
            let r = part_ranges(size);
            assert_eq!(r.last().unwrap().end, size);
            for w in r.windows(2) {
                assert_eq!(w[0].end, w[1].start);
                let n = w[0].end - w[0].start;
                assert!((5 * mib..=MAX_SINGLE).contains(&n));
            }
        }
    }
}
