//! The local overlay: files that live in this mount's memory only and never reach Notion
//! (editor droppings, and conflict copies shown beside their page), and the local files of
//! copies into a page's folder on their way to becoming attachments (spooled to disk, see
//! [`crate::writeback::upload`]).
//!
//! A local file in memory holds at most [`MAX_LOCAL_FILE`] bytes (EFBIG past it); a spooled
//! one is bounded by the workspace's upload limit instead.

use std::sync::Arc;
use std::time::SystemTime;

use super::error::{FsError, FsResult, MAX_LOCAL_FILE};
use super::handles::Handle;
use super::inode::{NodeKey, Place};
use super::{FsCore, Opened};
use crate::writeback::upload::Spool;

/// Most bytes of a file name (Linux's `NAME_MAX`).
const NAME_MAX: usize = 255;

/// The name of the conflict copy of the page file `file` (`T.md`) made at `stamp`:
/// `T.conflict-STAMP.md`, with `T` cut at a character boundary so the name fits in 255 bytes
/// (a longer name would be listed but fail to open with ENAMETOOLONG).
pub(super) fn conflict_name(file: &str, stamp: &str) -> String {
    let stem = file.strip_suffix(".md").unwrap_or(file);
    let suffix = format!(".conflict-{stamp}.md");
    let room = NAME_MAX.saturating_sub(suffix.len());
    let mut cut = stem.len().min(room);
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &stem[..cut])
}

/// A file that exists only in this mount (never sent to Notion as it is).
pub(super) struct LocalFile {
    pub(super) parent: u64,
    pub(super) name: String,
    /// The content of a file kept in memory (empty for a spooled one).
    pub(super) data: Vec<u8>,
    /// The content on disk, for a future attachment.
    pub(super) spool: Option<Arc<Spool>>,
    pub(super) mtime: SystemTime,
}

impl LocalFile {
    /// Its size in bytes.
    pub(super) fn len(&self) -> u64 {
        match &self.spool {
            Some(s) => s.len(),
            None => self.data.len() as u64,
        }
    }
}

/// EFBIG for a local file in memory that would grow to `size` bytes.
pub(super) fn check_local_size(size: u64) -> FsResult<()> {
    if size > MAX_LOCAL_FILE {
        return Err(FsError::TooLarge {
            size,
            limit: MAX_LOCAL_FILE,
            what: "a local (editor or temp) file",
        });
    }
    Ok(())
}

impl FsCore {
    /// Brings the tree up to date with background work that finished since the last
    /// request: uploads that became attachments, conflicts pushes found, and rows as Notion
    /// answered their updates. Called on
    /// lookup, readdir, xattrs and by `notionfs status` (cheap when nothing finished).
    pub fn catch_up(&self) {
        self.apply_uploads();
        self.show_conflicts();
        self.know_answered();
        self.show_merged();
    }

    /// Pages whose push left Notion holding more than their saved file (a remote change
    /// merged in): read again on their next open, so the file shows what Notion has.
    fn show_merged(&self) {
        let Some(w) = self.write_back() else { return };
        for page in w.take_reshown() {
            self.reread_later(&page);
        }
    }

    /// Shows the conflicts the writer found: the local version as a local file
    /// `T.conflict-YYYYMMDD-HHMMSS.md` beside the page, and the page read from Notion again.
    pub(super) fn show_conflicts(&self) {
        let Some(w) = self.write_back() else { return };
        for c in w.take_conflicts() {
            let ino = self.inodes.find(&NodeKey::PageFile(c.page.clone()));
            let Some((ino, place)) = ino.and_then(|i| Some((i, self.inodes.place(i)?))) else {
                // Not looked up yet (a replay at mount time): shown once it is.
                w.requeue_conflict(c);
                continue;
            };
            let name = conflict_name(&place.name, &c.stamp);
            tracing::warn!(file = %name, "conflict copy written");
            self.new_local(place.parent, &name, c.data);
            let mut st = self.state();
            // Read the page again on its next open (Notion's version).
            st.bodies.expire(&c.page);
            st.cached_hash.remove(&ino);
            drop(st);
            self.invalidate(ino);
        }
    }

    /// A new local (in-memory) file `name` in `parent` holding `data`; its inode.
    pub(super) fn new_local(&self, parent: u64, name: &str, data: Vec<u8>) -> u64 {
        self.add_local(parent, name, data, None)
    }

    /// A new local file `name` in `parent` whose content is spooled to disk; its inode.
    pub(super) fn new_spooled(&self, parent: u64, name: &str, spool: Arc<Spool>) -> u64 {
        self.add_local(parent, name, Vec::new(), Some(spool))
    }

    fn add_local(&self, parent: u64, name: &str, data: Vec<u8>, spool: Option<Arc<Spool>>) -> u64 {
        let serial = {
            let mut st = self.state();
            st.next_local += 1;
            st.next_local
        };
        let ino = self.inodes.ino(
            &NodeKey::Local(serial),
            Some(Place {
                parent,
                name: name.to_string(),
            }),
        );
        self.state().locals.insert(
            ino,
            LocalFile {
                parent,
                name: name.to_string(),
                data,
                spool,
                mtime: SystemTime::now(),
            },
        );
        ino
    }

    /// Whether `ino` is a local (in-memory) file: its mode and owner may be set (ignored).
    pub fn is_local(&self, ino: u64) -> bool {
        self.state().locals.contains_key(&ino)
    }

    pub(super) fn local_ino(&self, parent: u64, name: &str) -> Option<u64> {
        self.state()
            .locals
            .iter()
            .find(|(_, l)| l.parent == parent && l.name == name)
            .map(|(i, _)| *i)
    }

    pub(super) fn open_local(&self, ino: u64) -> Opened {
        self.open_handle(Handle::Local(ino))
    }

    /// The whole content of the local file `src` (read from its spool if it has one), for a
    /// save as a page: at most a page file's size.
    pub(super) fn local_contents(&self, src: u64) -> FsResult<Vec<u8>> {
        let (data, spool) = {
            let st = self.state();
            let l = st.locals.get(&src).ok_or(FsError::NotFound)?;
            (l.data.clone(), l.spool.clone())
        };
        let Some(spool) = spool else {
            return Ok(data);
        };
        let size = spool.len();
        let limit = super::error::MAX_PAGE_FILE;
        if size > limit {
            return Err(FsError::TooLarge {
                size,
                limit,
                what: "a page file",
            });
        }
        Ok(spool.read_at(0, size as usize)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_names_fit_in_255_bytes() {
        assert_eq!(
            conflict_name("Notes.md", "20260101-000000"),
            "Notes.conflict-20260101-000000.md"
        );
        // 250 bytes of a 3-byte character, over the limit once the suffix is added.
        let long = format!("{}.md", "\u{2215}".repeat(83));
        let n = conflict_name(&long, "20260101-000000-2");
        assert!(n.len() <= 255, "{}", n.len());
        assert!(n.ends_with(".conflict-20260101-000000-2.md"));
        assert!(n.starts_with('\u{2215}'));
    }
}
