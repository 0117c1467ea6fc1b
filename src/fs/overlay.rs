//! The local overlay: files that live in this mount's memory only and never reach Notion
//! (editor droppings, and conflict copies shown beside their page).

use std::time::SystemTime;

use super::handles::Handle;
use super::inode::{NodeKey, Place};
use super::{FsCore, Opened};

/// A file that exists only in this mount's memory (never sent to Notion).
pub(super) struct LocalFile {
    pub(super) parent: u64,
    pub(super) name: String,
    pub(super) data: Vec<u8>,
    pub(super) mtime: SystemTime,
}

impl FsCore {
    /// Brings the tree up to date with background work that finished since the last
    /// request: uploads that became attachments, and conflicts pushes found. Called on
    /// lookup, readdir, xattrs and by `notionfs status` (cheap when nothing finished).
    pub fn catch_up(&self) {
        self.apply_uploads();
        self.show_conflicts();
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
            let stem = place.name.strip_suffix(".md").unwrap_or(&place.name);
            let name = format!("{stem}.conflict-{}.md", c.stamp);
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
}
