//! Attachments copied into a page's folder (notionfs(1), WRITES): uploaded with the
//! File Upload API and appended to the page as an image, video, audio, pdf or file block.
//!
//! # Life of an upload
//! 1. `create` of a name of a supported type (see [`kind_of`], the reference's table of
//!    supported file types) in a page's folder makes a local file (in memory, like an editor
//!    dropping) registered here as [`Staged`]. Other types are refused at once (EPERM): Notion
//!    would refuse them later, when no one is left to tell.
//! 2. Writes past the workspace's per-file limit (`bot.workspace_limits
//!    .max_file_upload_size_in_bytes` of `GET /v1/users/me`, read once) fail with EFBIG and a
//!    log line naming the limit; the file is then dropped at close and nothing is created.
//! 3. `flush` (every `close(2)`, and `fsync`) makes the bytes durable before it returns: they
//!    are written to `<cache dir>/uploads/<uuid>` (0600, fsync'd), then a journal record of
//!    kind [`RecordKind::Upload`] for the page is written whose data is a small JSON pointer
//!    ([`Pointer`]: file name, staged file, size, sha256). Pointers keep journal records
//!    small: the journal is re-read on every push, and an upload may weigh gigabytes.
//! 4. `release` starts the upload in the background (the application's `close` does not wait
//!    for the network): single part up to 20 MiB, else multi-part in parts of 10 MiB (the
//!    reference's recommended size, within its 5–20 MiB rule; the last part may be smaller),
//!    then one append of the block at the end of the page. Then the record is confirmed, the
//!    staged file deleted, and the attachment replaces the local file in the listing (applied
//!    by the core on its next lookup / readdir, see [`Uploads::take_done`]).
//!    Transient failures are retried with backoff; a refusal is logged and noted on the
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
//! The window between the append and the confirmation is not idempotent: a crash exactly
//! there uploads the file again at the next mount (a duplicate block, never a lost file).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;

use super::Writer;
use crate::fs::{create_private_dir, FsError, FsResult};
use crate::notion::client::NewFileUpload;
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
    /// The appended block, as the append returned it.
    pub block: Block,
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

    /// Makes `data`, the content of the local file `ino`, durable: staged file then journal
    /// record (blocking; call from `spawn_blocking`). A previous record of the same file is
    /// replaced. Returns without doing anything when nothing changed since the last flush.
    pub fn stage(&self, writer: &Writer, ino: u64, data: &[u8]) -> FsResult<()> {
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
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(data)?;
        f.sync_all()?;
        File::open(&self.inner.dir)?.sync_all()?;
        let ptr = Pointer {
            name,
            file,
            size: data.len() as u64,
            sha256: hex(&sha2::Sha256::digest(data)),
        };
        let body = serde_json::to_vec(&ptr).map_err(std::io::Error::other)?;
        let seq = writer
            .journal()
            .record(&page, RecordKind::Upload, &body, None)
            .map_err(|e| FsError::Io(std::io::Error::other(e)))?;
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

    /// Confirms record `seq` and deletes its staged file.
    pub fn drop_record(&self, writer: &Writer, seq: Seq) {
        let rec = writer
            .journal()
            .pending()
            .ok()
            .and_then(|rs| rs.into_iter().find(|r| r.seq == seq));
        if let Some(ptr) = rec.and_then(|r| serde_json::from_slice::<Pointer>(&r.data).ok()) {
            let _ = fs::remove_file(self.inner.dir.join(&ptr.file));
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

    /// Runs one upload, retrying transient failures with backoff.
    async fn attempts(
        &self,
        client: &Client,
        writer: &Writer,
        ino: Option<u64>,
        page: &str,
        seq: Seq,
    ) {
        let mut attempt = 0u32;
        loop {
            match self.run(client, writer, ino, page, seq).await {
                Ok(()) => return,
                Err(UploadError::Api(e)) if e.is_transient() && attempt < 8 => {
                    attempt += 1;
                    let wait = Duration::from_millis(500 << attempt.min(6));
                    tracing::warn!(page, error = %e, attempt, "upload failed; retried");
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

    async fn run(
        &self,
        client: &Client,
        writer: &Writer,
        ino: Option<u64>,
        page: &str,
        seq: Seq,
    ) -> Result<(), UploadError> {
        let rec = writer
            .journal_io(|j| j.pending())
            .await
            .map_err(|e| UploadError::Staged(e.to_string()))?
            .into_iter()
            .find(|r| r.seq == seq);
        // Already confirmed (replaced by a newer flush of the same file).
        let Some(rec) = rec else { return Ok(()) };
        let ptr: Pointer = serde_json::from_slice(&rec.data)
            .map_err(|e| UploadError::Staged(format!("bad record: {e}")))?;
        let path = self.inner.dir.join(&ptr.file);
        let data = tokio::fs::read(&path)
            .await
            .map_err(|e| UploadError::Staged(e.to_string()))?;
        if hex(&sha2::Sha256::digest(&data)) != ptr.sha256 {
            return Err(UploadError::Staged("checksum mismatch".into()));
        }
        if self.cancelled(ino) {
            self.finish(writer, ino, seq).await;
            return Ok(());
        }
        let (btype, ct) = kind_of(&ptr.name).unwrap_or(("file", "application/octet-stream"));
        let id = upload_bytes(client, &ptr.name, ct, bytes::Bytes::from(data)).await?;
        let mut payload = json!({"type": "file_upload", "file_upload": {"id": id}});
        if btype == "file" {
            payload["name"] = json!(ptr.name);
        }
        let block = json!({"object": "block", "type": btype, btype: payload});
        let mut appended = client.append_children(page, vec![block], None).await?;
        let block = appended
            .pop()
            .ok_or_else(|| UploadError::Staged("the append returned no block".into()))?;
        if self.cancelled(ino) {
            // Removed while it was uploading: take the block away again.
            if let Some(b) = block.id.as_deref() {
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
                name: ptr.name,
                block,
            });
        Ok(())
    }

    async fn finish(&self, writer: &Writer, ino: Option<u64>, seq: Seq) {
        let (me, w) = (self.clone(), writer.me.upgrade());
        if let Some(w) = w {
            let _ = tokio::task::spawn_blocking(move || me.drop_record(&w, seq)).await;
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

/// The byte ranges of the parts of a multi-part upload of `size` bytes: [`PART_SIZE`]
/// each, the last one the rest.
pub fn part_ranges(size: u64) -> Vec<std::ops::Range<usize>> {
    (0..size.div_ceil(PART_SIZE))
        .map(|n| (n * PART_SIZE) as usize..((n + 1) * PART_SIZE).min(size) as usize)
        .collect()
}

/// Uploads `data` (single part up to 20 MiB, else parts of 10 MiB) and returns the
/// `uploaded` file upload's id.
pub async fn upload_bytes(
    client: &Client,
    name: &str,
    content_type: &str,
    data: bytes::Bytes,
) -> Result<String, ApiError> {
    let size = data.len() as u64;
    if size <= MAX_SINGLE {
        let u = client
            .create_file_upload(&NewFileUpload {
                filename: Some(name.to_string()),
                content_type: Some(content_type.to_string()),
                number_of_parts: None,
            })
            .await?;
        client
            .send_file_upload(&u.id, data, name, content_type, None)
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
            .send_file_upload(&u.id, data.slice(r), name, content_type, Some(n as u32 + 1))
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
    fn parts_are_within_the_limits() {
        let mib = 1024 * 1024;
        let r = part_ranges(25 * mib);
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], 0..10 * mib as usize);
        assert_eq!(r[2], 20 * mib as usize..25 * mib as usize);
        // Every part but the last is 5–20 MiB; together they are the whole file.
        for size in [20 * mib + 1, 30 * mib, 41 * mib + 7] {
            let r = part_ranges(size);
            assert_eq!(r.last().unwrap().end as u64, size);
            for w in r.windows(2) {
                assert_eq!(w[0].end, w[1].start);
                let n = (w[0].end - w[0].start) as u64;
                assert!((5 * mib..=MAX_SINGLE).contains(&n));
            }
        }
    }
}
