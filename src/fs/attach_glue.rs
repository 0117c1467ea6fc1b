//! The core's side of attachment uploads (see [`crate::fs::upload`]): the local file a copy
//! into a page's folder makes, its flush (durable before `close` returns), the start of its
//! upload at release, the attachment that replaces it once its block is in Notion, and `rm`
//! of an attachment (its block is deleted).

use super::handles::Handle;
use super::{FsCore, Opened};
use crate::fs::error::{FsError, FsResult};
use crate::fs::inode::NodeKey;
use crate::fs::tree::{derive_items, Item};
use crate::fs::Attr;
use crate::writeback::upload::kind_of;

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
        let Some(writer) = self.writer.get().cloned() else {
            return Err(self.write_denied("save"));
        };
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
        if let Some(w) = self.writer.get() {
            self.uploads.start(&self.client, w, ino);
        }
    }

    /// `rm` of a future attachment: its record is dropped, or its running upload cancelled.
    pub(super) async fn forget_attachment(&self, ino: u64) {
        let Some(s) = self.uploads.forget(ino) else {
            return;
        };
        if let (Some(seq), Some(w)) = (s.seq, self.writer.get().cloned()) {
            let up = self.uploads.clone();
            let _ = tokio::task::spawn_blocking(move || up.drop_record(&w, seq)).await;
        }
    }

    /// Replays the uploads a previous run journaled but did not finish (mount start).
    pub fn replay_uploads(&self) {
        if let Some(w) = self.writer.get() {
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
                    st.items.get(&d.page).map(|(v, _)| v.clone()),
                    st.objects.get(&d.page).map(|o| o.title.clone()),
                )
            };
            if let (Some(mut items), Some(title)) = (known, title) {
                items.extend(derive_items(&d.page, std::slice::from_ref(&d.block)));
                self.install_items(&d.page, &title, &items);
            }
            self.reread_later(&d.page);
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
                st.items.get(&page).map(|(v, _)| v.clone()),
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
        self.reread_later(&page);
        self.invalidate_entry(parent, name);
        if let Some(ino) = self.inodes.find(&NodeKey::PageFile(page.clone())) {
            self.invalidate(ino);
        }
        tracing::info!(page = %page, block, file = name, "attachment removed: its block was deleted");
        Ok(())
    }
}
