//! Attachments: Notion-hosted files of media blocks (and of rows' `files` properties),
//! shown as files in the page's folder — downloaded for reading, and, the other way, files
//! copied into a page's folder handed to the uploader ([`crate::writeback::upload`]).
//!
//! # Reading
//! Signed URLs expire (about an hour), so a URL is never cached past its `expiry_time`
//! (minus a margin) and is refreshed by re-reading the block (`GET /v1/blocks/{id}`) when it
//! expired or the download is refused. The bytes are streamed into a file under the cache
//! dir on first open, so the size is exact from then on and reads are served with `pread`,
//! never from the network. Signed URLs are fetched with a separate HTTP client that carries
//! no Notion token.
//!
//! # Copying in
//! The core's side of attachment uploads: the local file a copy
//! into a page's folder makes, its flush (durable before `close` returns), the start of its
//! upload at release, the attachment that replaces it once its block is in Notion, and `rm`
//! of an attachment (its block is deleted).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

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

/// A downloaded attachment.
#[derive(Clone, Debug)]
pub struct Downloaded {
    /// The open file in the cache dir.
    pub file: Arc<File>,
    /// Its size in bytes.
    pub size: u64,
    /// The URL without query it came from (identifies the stored file across URL refreshes).
    pub key: String,
}

/// Downloads attachments into `<cache dir>/attachments`.
pub struct Attachments {
    dir: PathBuf,
    http: reqwest::Client,
    done: Mutex<HashMap<String, Downloaded>>,
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

impl Attachments {
    /// A store writing under `dir` (created 0700 if missing).
    pub fn new(dir: PathBuf) -> FsResult<Attachments> {
        create_private_dir(&dir)?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(300))
            .build()
            .map_err(|e| FsError::Download(e.to_string()))?;
        Ok(Attachments {
            dir,
            http,
            done: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Downloaded>> {
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The downloaded file of an attachment, if its current version is on disk.
    pub fn cached(&self, src: &AttachmentSource) -> Option<Downloaded> {
        let key = url_key(src.file.url()?);
        self.lock()
            .get(&src.block_id)
            .filter(|d| d.key == key)
            .cloned()
    }

    /// Makes sure the attachment is on disk and returns it. Refreshes the signed URL through
    /// `client` (one `GET /v1/blocks/{id}`) if it expired or the download was refused.
    pub async fn fetch(&self, client: &Client, src: &AttachmentSource) -> FsResult<Downloaded> {
        if let Some(d) = self.cached(src) {
            return Ok(d);
        }
        let mut file = src.file.clone();
        if expired(&file) {
            file = self.refresh(client, src).await?;
        }
        let first = self.download(&src.block_id, &file).await;
        let d = match first {
            Ok(d) => d,
            Err(e) => {
                tracing::info!(attachment = %src.block_id, error = %e, "attachment download refused, refreshing its URL");
                let file = self.refresh(client, src).await?;
                self.download(&src.block_id, &file).await?
            }
        };
        self.lock().insert(src.block_id.clone(), d.clone());
        Ok(d)
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

    async fn download(&self, block_id: &str, file: &FileObject) -> FsResult<Downloaded> {
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
        // Keys may hold property ids (any characters): name the file by their hash.
        let safe: String = sha2::Sha256::digest(block_id.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let tmp = self.dir.join(format!("{safe}.part"));
        let dest = self.dir.join(&safe);
        let mut out = File::create(&tmp)?;
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
        std::fs::rename(&tmp, &dest)?;
        Ok(Downloaded {
            file: Arc::new(File::open(&dest)?),
            size,
            key: url_key(url),
        })
    }
}

/// A reqwest error without the URL (signed URLs carry credentials in their query).
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// Creates `dir` and its parents; the last component is made private (0700).
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
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
        if kind_of(name).is_none() {
            tracing::warn!(
                file = name,
                "not uploaded: Notion does not accept files of this type"
            );
            return Err(self.unsupported("file of this type"));
        }
        // Known before the first write, which checks against it.
        self.uploads.limit(&self.client).await;
        let ino = self.new_local(parent, name, Vec::new());
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
        let Some(data) = self.state().locals.get(&ino).map(|l| l.data.clone()) else {
            return Ok(());
        };
        let up = self.uploads.clone();
        tokio::task::spawn_blocking(move || up.stage(&writer, ino, &data))
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
            let _ = tokio::task::spawn_blocking(move || up.drop_record(&w, seq)).await;
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
            if let (Some(mut items), Some(title)) = (known, title) {
                items.extend(derive_items(&d.page, std::slice::from_ref(&d.block)));
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
