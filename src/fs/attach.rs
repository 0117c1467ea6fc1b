//! Attachments: Notion-hosted files of media blocks, shown as files in the page's folder.
//!
//! Their signed URLs expire (about an hour), so a URL is never cached past its
//! `expiry_time` (minus a margin) and is refreshed by re-reading the block
//! (`GET /v1/blocks/{id}`) when it expired or the download is refused. The bytes are streamed
//! into a file under the cache dir on first open, so the size is exact from then on and
//! reads are served with `pread`, never from the network.
//!
//! Signed URLs are fetched with a separate HTTP client that carries no Notion token.

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
use super::tree::{media_of, AttachmentSource};

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
