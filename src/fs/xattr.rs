//! Extended attributes: `user.notion.*` (id, url, object, last edit) on every entry,
//! `user.notionfs.sync` (the save state), and `user.notionfs.control` on the root.

use super::error::{FsError, FsResult};
use super::inode::NodeKey;
use super::tree::Obj;
use super::FsCore;
use crate::notion::model::notion_url;
use crate::writeback::SyncState;

/// The attribute whose read panics when the mount runs with `NOTIONFS_FAILPOINTS=panic`: a
/// failpoint for the tests of the panic policy (see [`crate::daemon::panics`]). Inert
/// without that variable, and never listed.
pub const FAILPOINT_PANIC: &str = "user.notionfs.failpoint.panic";

fn failpoint_panic(name: &str) {
    if name == FAILPOINT_PANIC
        && std::env::var_os("NOTIONFS_FAILPOINTS").is_some_and(|v| v == "panic")
    {
        panic!("failpoint {FAILPOINT_PANIC} read");
    }
}

impl FsCore {
    /// Every extended attribute of `ino`, name and value.
    pub fn xattrs(&self, ino: u64) -> FsResult<Vec<(String, String)>> {
        // A conflict found since the last lookup shows its copy first.
        self.catch_up();
        let key = self.key(ino)?;
        let sync = match (&key, self.write_back()) {
            // A save set aside as damaged or missing will not reach Notion by itself.
            (NodeKey::PageFile(id), Some(w)) if !w.journal().set_aside_for(id).is_empty() => {
                let s = w.journal().set_aside_for(id);
                format!("failed: {}", s[0].describe())
            }
            (NodeKey::PageFile(id), Some(w)) => match w.state(id) {
                SyncState::Conflict(stamp) => {
                    let copy = self.conflict_copy(id, &stamp).unwrap_or_default();
                    let name = copy.rsplit('/').next().unwrap_or_default();
                    format!("conflict: {name}")
                }
                s => s.xattr(),
            },
            (NodeKey::Local(_), _) => self
                .uploads
                .sync_state(ino)
                .unwrap_or_else(|| "clean".to_string()),
            _ => "clean".to_string(),
        };
        let st = self.state();
        let mut out = Vec::new();
        if let (NodeKey::Root, Some(sock)) = (&key, self.control.get()) {
            out.push((
                "user.notionfs.control".to_string(),
                sock.to_string_lossy().into_owned(),
            ));
        }
        let mut push_obj = |id: &str, object: &str, url: String, edited: String| {
            out.push(("user.notion.id".to_string(), id.to_string()));
            out.push(("user.notion.url".to_string(), url));
            out.push(("user.notion.object".to_string(), object.to_string()));
            out.push(("user.notion.last_edited_time".to_string(), edited));
        };
        let obj_url = |o: &Obj| {
            if o.url.is_empty() {
                notion_url(&o.id)
            } else {
                o.url.clone()
            }
        };
        match &key {
            NodeKey::Root | NodeKey::Local(_) => {}
            NodeKey::PageFile(id)
            | NodeKey::PageDir(id)
            | NodeKey::Database(id)
            | NodeKey::DataSource(id)
            | NodeKey::Schema(id) => {
                let o = st.objects.get(id);
                let kind = match &key {
                    NodeKey::Database(_) => "database",
                    NodeKey::DataSource(_) | NodeKey::Schema(_) => "data_source",
                    _ => o.map(|o| o.kind.as_str()).unwrap_or("page"),
                };
                push_obj(
                    id,
                    kind,
                    o.map(obj_url).unwrap_or_else(|| notion_url(id)),
                    o.map(|o| o.last_edited_time.clone()).unwrap_or_default(),
                );
            }
            NodeKey::Attachment(block) => {
                let src = st.attachments.get(block);
                let page_url = src
                    .and_then(|s| st.objects.get(&s.page_id))
                    .map(obj_url)
                    .unwrap_or_default();
                let edited = src.map(|s| s.last_edited_time.clone()).unwrap_or_default();
                match src.filter(|s| s.property.is_some()) {
                    // A file of a row's `files` property belongs to the row.
                    Some(s) => push_obj(&s.page_id, "page", page_url, edited),
                    None => push_obj(
                        block,
                        "block",
                        format!("{page_url}#{}", block.replace('-', "")),
                        edited,
                    ),
                }
            }
        }
        out.push(("user.notionfs.sync".to_string(), sync));
        Ok(out)
    }

    /// One extended attribute's value.
    pub fn getxattr(&self, ino: u64, name: &str) -> FsResult<Vec<u8>> {
        failpoint_panic(name);
        self.xattrs(ino)?
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_bytes())
            .ok_or(FsError::NoAttr)
    }

    /// Names of the extended attributes, NUL-terminated and concatenated (listxattr format).
    pub fn listxattr(&self, ino: u64) -> FsResult<Vec<u8>> {
        let mut out = Vec::new();
        for (n, _) in self.xattrs(ino)? {
            out.extend_from_slice(n.as_bytes());
            out.push(0);
        }
        Ok(out)
    }

    /// Records where the mount's control socket listens (`user.notionfs.control` on the
    /// root, which `notionfs status` and `sync` read to find it).
    pub fn set_control_socket(&self, path: std::path::PathBuf) {
        let _ = self.control.set(path);
    }

    /// The path of a page's file relative to the mount root, if it is in the tree.
    pub fn page_path(&self, id: &str) -> Option<String> {
        let ino = self.inodes.find(&NodeKey::PageFile(id.to_string()))?;
        let place = self.inodes.place(ino)?;
        let mut parts = self.abs_dir(place.parent)?;
        parts.push(place.name);
        Some(parts.join("/"))
    }

    /// The path relative to the mount root of the conflict copy `T.conflict-STAMP.md` of
    /// page `id` (the file shown beside the page, else the name it gets), if the page is in
    /// the tree. Another page of the folder may have a copy of the same second: a copy named
    /// after another title is taken only if it is the one copy of that stamp (the page was
    /// renamed since).
    pub fn conflict_copy(&self, id: &str, stamp: &str) -> Option<String> {
        let ino = self.inodes.find(&NodeKey::PageFile(id.to_string()))?;
        let place = self.inodes.place(ino)?;
        let own = super::overlay::conflict_name(&place.name, stamp);
        let suffix = format!(".conflict-{stamp}.md");
        let shown: Vec<String> = self
            .state()
            .locals
            .values()
            .filter(|l| l.parent == place.parent && l.name.ends_with(&suffix))
            .map(|l| l.name.clone())
            .collect();
        let name = match shown.as_slice() {
            [one] if *one != own => one.clone(),
            _ => own,
        };
        let mut parts = self.abs_dir(place.parent)?;
        parts.push(name);
        Some(parts.join("/"))
    }
}
