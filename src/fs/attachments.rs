//! Attachments: Notion-hosted files of media blocks (and of rows' `files` properties),
//! shown as files in the page's folder — downloaded for reading, and, the other way, files
//! copied into a page's folder handed to the uploader ([`crate::writeback::upload`]).
//!
//! # Reading
//! Signed URLs expire (about an hour), so a URL is never trusted past its `expiry_time`
//! (minus a margin), and a download that fails for any reason (refused, expired, a server
//! that is gone — as the previous run's emulator of `notionfs demo` is) is retried once
//! with a fresh URL got by re-reading the block (`GET /v1/blocks/{id}`; for a `files`
//! property, the page). A download that still fails is an error to the reader (EIO), never
//! an empty file.
//!
//! The bytes are streamed into a file under `<cache dir>/attachments` (0600) on first open,
//! so the size is exact from then on and reads are served with `pread`, never from the
//! network. The file is named by the attachment and the URL it was listed with (without the
//! query, which changes on every read): a remount whose tree lists the same URL finds the
//! file already there. Concurrent first opens of one attachment share one download
//! (single flight): each download writes a temp file of its own (`NAME.UUID.part`) that is
//! renamed into place only once complete and fsync'd, so no reader ever sees a partial or
//! mixed file. Signed URLs are fetched with a separate HTTP client that carries no Notion
//! token.
//!
//! Open attachment files are a bounded set: at most [`MAX_OPEN_ATTACHMENTS`] descriptors
//! are kept open (least recently read closed first) and a file is reopened when it is read
//! again, so reading thousands of attachments never runs out of file descriptors.
//!
//! # Copying in
//! The core's side of attachment uploads: the local file a copy
//! into a page's folder makes (spooled to a file under `<cache dir>/uploads`, never held in
//! memory), its flush (durable before `close` returns), the start of its upload at release,
//! the attachment that replaces it once its block is in Notion, and `rm` of an attachment
//! (its block is deleted).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::Digest;

use crate::notion::model::file::FileObject;
use crate::notion::model::property::PropertyData;
use crate::notion::Client;

use super::error::{FsError, FsResult};
use super::handles::Handle;
use super::inode::NodeKey;
use super::tree::{derive_items, Item};
use super::tree::{media_of, AttachmentSource};
use super::{Attr, FsCore, Opened};
use crate::writeback::upload::kind_of;

/// Most attachment files kept open at once (the least recently read is closed first and
/// reopened when read again).
pub const MAX_OPEN_ATTACHMENTS: usize = 64;

/// A downloaded attachment.
#[derive(Clone, Debug)]
pub struct Downloaded {
    /// The file in the cache dir.
    pub path: Arc<PathBuf>,
    /// Its size in bytes.
    pub size: u64,
    /// The URL without query the tree listed it with (identifies this version).
    pub key: String,
}

/// Downloads attachments into `<cache dir>/attachments`.
pub struct Attachments {
    dir: PathBuf,
    http: reqwest::Client,
    /// The download of each attachment, by block id (a leaf lock).
    done: Mutex<HashMap<String, Downloaded>>,
    /// Open descriptors, least recently read first out (a leaf lock).
    fds: Mutex<LruCache<PathBuf, Arc<File>>>,
    /// One download per attachment at a time (the map is a leaf lock; the async locks in
    /// it are held across the download, never with another lock).
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The stable part of a signed URL (without the query that changes on every read).
pub fn url_key(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

fn expired(file: &FileObject) -> bool {
    match file {
        FileObject::File(f) => match f.expiry_time.as_deref() {
            Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
                Ok(t) => {
                    t.with_timezone(&chrono::Utc) - chrono::Duration::seconds(30)
                        <= chrono::Utc::now()
                }
                Err(_) => true,
            },
            None => false,
        },
        _ => false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn not_found_is_fine(r: std::io::Result<()>, what: &Path) {
    if let Err(e) = r {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(file = %what.display(), error = %e, "cannot remove a cached attachment file");
        }
    }
}

impl Attachments {
    /// A store writing under `dir` (created 0700 if missing). Temp files a crash left are
    /// removed.
    pub fn new(dir: PathBuf) -> FsResult<Attachments> {
        create_private_dir(&dir)?;
        for e in std::fs::read_dir(&dir)?.flatten() {
            if e.file_name().to_string_lossy().ends_with(".part") {
                not_found_is_fine(std::fs::remove_file(e.path()), &e.path());
            }
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(300))
            .build()
            .map_err(|e| FsError::Download(e.to_string()))?;
        let cap = std::num::NonZeroUsize::new(MAX_OPEN_ATTACHMENTS).expect("non-zero");
        Ok(Attachments {
            dir,
            http,
            done: Mutex::new(HashMap::new()),
            fds: Mutex::new(LruCache::new(cap)),
            flights: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Downloaded>> {
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fds(&self) -> std::sync::MutexGuard<'_, LruCache<PathBuf, Arc<File>>> {
        self.fds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The downloaded file of an attachment, if its current version is on disk.
    pub fn cached(&self, src: &AttachmentSource) -> Option<Downloaded> {
        let key = url_key(src.file.url()?);
        self.lock()
            .get(&src.block_id)
            .filter(|d| d.key == key)
            .cloned()
    }

    /// Descriptors open now (tests and `status`).
    pub fn open_files(&self) -> usize {
        self.fds().len()
    }

    /// Where the version `key` of attachment `block_id` is stored. Keys may hold property
    /// ids (any characters): the name is a hash.
    fn dest(&self, block_id: &str, key: &str) -> PathBuf {
        let mut h = sha2::Sha256::new();
        h.update(block_id.as_bytes());
        h.update([0]);
        h.update(key.as_bytes());
        self.dir.join(hex(&h.finalize()))
    }

    fn flight(&self, block_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut f = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        f.entry(block_id.to_string()).or_default().clone()
    }

    /// Makes sure the attachment is on disk and returns it (one download at a time per
    /// attachment: a concurrent open waits for it and shares the file). Refreshes the
    /// signed URL through `client` (one `GET /v1/blocks/{id}`) if it expired or the
    /// download failed; fails (EIO) if the download with the fresh URL fails too.
    pub async fn fetch(&self, client: &Client, src: &AttachmentSource) -> FsResult<Downloaded> {
        if let Some(d) = self.cached(src) {
            return Ok(d);
        }
        let key = src
            .file
            .url()
            .map(url_key)
            .ok_or_else(|| FsError::Download("the file has no URL".into()))?;
        let flight = self.flight(&src.block_id);
        let _one = flight.lock().await;
        if let Some(d) = self.cached(src) {
            return Ok(d);
        }
        let dest = self.dest(&src.block_id, &key);
        let size = match std::fs::metadata(&dest) {
            // Complete (files are renamed into place only once whole): an earlier run's.
            Ok(m) if m.is_file() => m.len(),
            _ => self.download_fresh(client, src, &dest).await?,
        };
        let d = Downloaded {
            path: Arc::new(dest),
            size,
            key,
        };
        self.install(&src.block_id, d.clone());
        Ok(d)
    }

    /// Downloads `src` into `dest`, with a fresh URL when the listed one expired or fails.
    async fn download_fresh(
        &self,
        client: &Client,
        src: &AttachmentSource,
        dest: &Path,
    ) -> FsResult<u64> {
        let mut file = src.file.clone();
        if expired(&file) {
            file = self.refresh(client, src).await?;
        }
        match self.download(&file, dest).await {
            Ok(n) => Ok(n),
            Err(e) => {
                tracing::info!(attachment = %src.block_id, error = %e, "attachment download failed, refreshing its URL");
                let file = self.refresh(client, src).await?;
                self.download(&file, dest).await.inspect_err(|e| {
                    tracing::warn!(attachment = %src.block_id, error = %e, "attachment download failed with a fresh URL too");
                })
            }
        }
    }

    /// Records the download of `block_id`; the file of the version it replaces is removed.
    fn install(&self, block_id: &str, d: Downloaded) {
        let old = self.lock().insert(block_id.to_string(), d.clone());
        if let Some(old) = old.filter(|o| o.path != d.path) {
            self.fds().pop(old.path.as_ref());
            not_found_is_fine(std::fs::remove_file(old.path.as_ref()), &old.path);
        }
    }

    /// Reads up to `size` bytes at `offset` of a downloaded attachment (its descriptor is
    /// reopened if it was closed to keep the open set bounded).
    pub fn read(&self, d: &Downloaded, offset: u64, size: u32) -> FsResult<Vec<u8>> {
        let f = self.open_fd(&d.path)?;
        let want = (size as u64).min(d.size.saturating_sub(offset)) as usize;
        let mut buf = vec![0u8; want];
        let mut got = 0;
        while got < want {
            let r = f.read_at(&mut buf[got..], offset + got as u64)?;
            if r == 0 {
                break;
            }
            got += r;
        }
        buf.truncate(got);
        Ok(buf)
    }

    fn open_fd(&self, path: &Path) -> std::io::Result<Arc<File>> {
        if let Some(f) = self.fds().get(path) {
            return Ok(f.clone());
        }
        // Opened outside the lock: other readers are not held up by the open.
        let f = Arc::new(File::open(path)?);
        self.fds().put(path.to_path_buf(), f.clone());
        Ok(f)
    }

    /// A fresh signed URL: re-reads the block (`GET /v1/blocks/{id}`), or for a `files`
    /// property the page (`GET /v1/pages/{id}`).
    async fn refresh(&self, client: &Client, src: &AttachmentSource) -> FsResult<FileObject> {
        let gone = || FsError::Download(format!("{} is no longer a file", src.block_id));
        match &src.property {
            None => {
                let b = client.block(&src.block_id).await?;
                media_of(&b.kind).map(|m| m.file.clone()).ok_or_else(gone)
            }
            Some((prop, i)) => {
                let page = client.page(&src.page_id).await?;
                page.properties
                    .values()
                    .find(|v| &v.id == prop)
                    .and_then(|v| match &v.data {
                        PropertyData::Files(f) => f.get(*i).map(|f| f.file.clone()),
                        _ => None,
                    })
                    .ok_or_else(gone)
            }
        }
    }

    /// Streams `file` into a temp file of this download's own, then renames it to `dest`
    /// once complete and fsync'd; returns the size.
    async fn download(&self, file: &FileObject, dest: &Path) -> FsResult<u64> {
        let url = file
            .url()
            .ok_or_else(|| FsError::Download("the file has no URL".into()))?;
        let mut resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| FsError::Download(without_url(e)))?;
        if !resp.status().is_success() {
            return Err(FsError::Download(format!(
                "HTTP {}",
                resp.status().as_u16()
            )));
        }
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let tmp = self
            .dir
            .join(format!("{name}.{}.part", uuid::Uuid::new_v4().simple()));
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let written = async {
            let mut size = 0u64;
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| FsError::Download(without_url(e)))?
            {
                out.write_all(&chunk)?;
                size += chunk.len() as u64;
            }
            out.sync_all()?;
            std::fs::rename(&tmp, dest)?;
            Ok::<u64, FsError>(size)
        }
        .await;
        if written.is_err() {
            not_found_is_fine(std::fs::remove_file(&tmp), &tmp);
        }
        written
    }
}

/// A reqwest error without the URL (signed URLs carry credentials in their query).
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// Creates `dir` and missing parents. A directory this call creates is private (0700); an
/// existing one is left as it is — a `--cache-dir` may name a directory of the user's such
/// as `~`, whose mode is theirs to choose (the files notionfs writes in it are 0600).
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

impl FsCore {
    /// Creates `name` in the folder `parent` as a future attachment of its page: a local
    /// file until it is flushed and uploaded. Refused outside a page's folder (EROFS) and
    /// for types Notion does not accept (EPERM).
    pub(super) async fn create_attachment(
        &self,
        parent: u64,
        name: &str,
    ) -> FsResult<(Attr, Opened)> {
        let NodeKey::PageDir(page) = self.key(parent)? else {
            return Err(self.write_denied("create of a file that is not a page"));
        };
        if super::offline::is_local_id(&page) {
            // Its block is appended to the page, which Notion does not have yet.
            return Err(self.cannot(
                "copy a file into a page created while Notion is unreachable: run `notionfs sync --wait` once Notion is back, then copy it",
            ));
        }
        if kind_of(name).is_none() {
            tracing::warn!(
                file = name,
                "not uploaded: Notion does not accept files of this type"
            );
            return Err(self.unsupported("file of this type"));
        }
        // Known before the first write, which checks against it.
        self.uploads.limit(&self.client).await;
        // Spooled to disk as it is written: an upload is never held in memory.
        let spool = self.uploads.spool()?;
        let ino = self.new_spooled(parent, name, spool);
        self.uploads.register(ino, &page, name);
        let o = self.open_local(ino);
        Ok((self.getattr(ino)?, o))
    }

    /// The local file of handle `fh` if it is a future attachment.
    pub(super) fn staged_handle(&self, fh: u64) -> Option<u64> {
        match self.state().handles.get(&fh) {
            Some(Handle::Local(i)) if self.uploads.is_staged(*i) => Some(*i),
            _ => None,
        }
    }

    /// Makes a future attachment durable (staged file and journal record); a file refused
    /// for its size is dropped instead (nothing is created).
    pub(super) async fn flush_attachment(&self, ino: u64) -> FsResult<()> {
        if self.uploads.refused(ino).is_some() {
            self.uploads.forget(ino);
            let gone = self.state().locals.remove(&ino);
            if let Some(l) = gone {
                self.invalidate_entry(l.parent, &l.name);
            }
            return Ok(());
        }
        let writer = self.writer("save")?.clone();
        let Some(spool) = self.state().locals.get(&ino).and_then(|l| l.spool.clone()) else {
            return Ok(());
        };
        let up = self.uploads.clone();
        tokio::task::spawn_blocking(move || up.stage(&writer, ino, &spool))
            .await
            .map_err(|e| FsError::Io(std::io::Error::other(e)))?
    }

    /// Starts the upload of a flushed future attachment (at release).
    pub(super) fn start_attachment(&self, ino: u64) {
        if let Ok(w) = self.writer("upload") {
            self.uploads.start(&self.client, w, ino);
        }
    }

    /// `rm` of a future attachment: its record is dropped, or its running upload cancelled.
    pub(super) async fn forget_attachment(&self, ino: u64) {
        let Some(s) = self.uploads.forget(ino) else {
            return;
        };
        if let (Some(seq), Some(w)) = (s.seq, self.write_back().cloned()) {
            let up = self.uploads.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || up.drop_record(&w, seq)).await {
                tracing::error!(seq, error = %e, "dropping an upload record did not finish");
            }
        }
    }

    /// Replays the uploads a previous run journaled but did not finish (mount start).
    pub fn replay_uploads(&self) {
        if let Some(w) = self.write_back() {
            self.uploads.replay(&self.client, w);
        }
    }

    /// Waits until no upload runs in this process (unmount).
    pub async fn uploads_idle(&self) {
        self.uploads.idle().await;
    }

    /// Shows the uploads whose block is in Notion: the attachment replaces the local file,
    /// and the page (whose body now shows the block) is read again on its next open.
    pub(super) fn apply_uploads(&self) {
        for d in self.uploads.take_done() {
            let local = d.ino.and_then(|i| self.state().locals.remove(&i));
            let (known, title) = {
                let st = self.state();
                (
                    st.items.get(&d.page).cloned(),
                    st.objects.get(&d.page).map(|o| o.title.clone()),
                )
            };
            if let (Some(mut items), Some(title), Some(block)) = (known, title, &d.block) {
                items.extend(derive_items(&d.page, std::slice::from_ref(block)));
                self.install_items(&d.page, &title, &items);
            }
            self.changed_here(&d.page);
            if let Some(l) = local {
                self.invalidate_entry(l.parent, &l.name);
            }
            if let Some(ino) = self.inodes.find(&NodeKey::PageFile(d.page.clone())) {
                self.invalidate(ino);
            }
        }
    }

    /// `rm` of an attachment: deletes its block (a file of a row's `files` property is not
    /// a block: refused).
    pub(super) async fn remove_attachment(
        &self,
        parent: u64,
        name: &str,
        block: &str,
    ) -> FsResult<()> {
        let src = self
            .state()
            .attachments
            .get(block)
            .cloned()
            .ok_or(FsError::NotFound)?;
        if src.property.is_some() {
            return Err(self.write_denied("unlink of a file of a files property"));
        }
        self.client.delete_block(block).await?;
        let page = src.page_id;
        let (known, title) = {
            let st = self.state();
            (
                st.items.get(&page).cloned(),
                st.objects.get(&page).map(|o| o.title.clone()),
            )
        };
        if let (Some(mut items), Some(title)) = (known, title) {
            items.retain(
                |it| !matches!(it, Item::Attachment { source, .. } if source.block_id == block),
            );
            self.install_items(&page, &title, &items);
        }
        self.state().attachments.remove(block);
        self.changed_here(&page);
        self.invalidate_entry(parent, name);
        if let Some(ino) = self.inodes.find(&NodeKey::PageFile(page.clone())) {
            self.invalidate(ino);
        }
        tracing::info!(page = %page, block, file = name, "attachment removed: its block was deleted");
        Ok(())
    }
}
