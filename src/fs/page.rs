//! Page bodies: reading a page's blocks, naming its folder, rendering its file (the
//! Markdown, and a row's front matter), and the bookkeeping the writer needs (the blocks
//! the file was rendered from).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::attach::url_key;
use super::content::Body;
use super::error::FsResult;
use super::inode::{NodeKey, ROOT_INO};
use super::names::sanitize;
use super::render::{render_page, PathMap};
use super::tree::{
    build_entries, derive_items, property_items, ChildDesc, Item, ListEntry, Listing, Obj, ObjKind,
};
use super::{FsCore, State};
use crate::frontmatter;
use crate::notion::model::property::PropertyData;
use crate::notion::model::{DataSource, Page};
use crate::notion::tree::fetch_tree;
use crate::writeback::{complete_row, RowBase};

impl FsCore {
    /// The current body of a page: cached if checked within the TTL, else revalidated or
    /// read again.
    pub(super) async fn body(&self, id: &str) -> FsResult<Arc<Body>> {
        {
            let mut st = self.state();
            let has_items = st.items.contains_key(id);
            if let Some(b) = st.bodies.get(id) {
                if has_items && b.validated.elapsed() < self.settings.ttl {
                    return Ok(b);
                }
            }
        }
        self.load_page(id).await
    }

    /// Reads a page's blocks (unless the cached body is still current), names its folder,
    /// renders its body and caches both.
    pub(super) async fn load_page(&self, id: &str) -> FsResult<Arc<Body>> {
        let flight = self.flight(format!("page:{id}"));
        let _g = flight.lock().await;
        let ttl = self.settings.ttl;
        let (obj, cached) = {
            let mut st = self.state();
            let cached = st.bodies.get(id).filter(|_| st.items.contains_key(id));
            (st.objects.get(id).cloned(), cached)
        };
        if let Some(b) = &cached {
            if b.validated.elapsed() < ttl {
                // Checked within the TTL (perhaps by another caller while we waited).
                let fresh_items = self
                    .state()
                    .items
                    .get(id)
                    .is_some_and(|(_, t)| t.elapsed() < ttl);
                if fresh_items {
                    return Ok(b.clone());
                }
            }
        }
        // Current metadata: from a listing or sweep within the TTL, else a sweep of what
        // changed, else one `GET /v1/pages/{id}`.
        let fresh = |o: &Obj| o.fetched.elapsed() < ttl && (!o.is_row() || o.page.is_some());
        let obj = match obj.filter(|o| fresh(o)) {
            Some(o) => o,
            None => {
                let swept = match self.sweep().await {
                    Ok(true) => self.state().objects.get(id).cloned().filter(|o| fresh(o)),
                    _ => None,
                };
                match swept {
                    Some(o) => o,
                    None => match self.client.page(id).await {
                        Ok(p) => {
                            let o = Obj::from_page(&p);
                            self.state().objects.insert(id.to_string(), o.clone());
                            o
                        }
                        Err(e) => {
                            if let Some(b) = cached {
                                tracing::warn!(page = %id, error = %e, "cannot revalidate a page; serving the cached body");
                                return Ok(b);
                            }
                            return Err(e.into());
                        }
                    },
                }
            }
        };
        if let Some(b) = &cached {
            // A child renamed in Notion does not touch this page's edit time, but its
            // `child_page` block (our link and folder entry) changed: read again then.
            if b.matches(&obj.last_edited_time) && !self.children_renamed(id) {
                let mut st = self.state();
                st.bodies.revalidated(id);
                if let Some((_, t)) = st.items.get_mut(id) {
                    *t = Instant::now();
                }
                return Ok(st.bodies.peek(id).unwrap_or_else(|| b.clone()));
            }
        }
        // A save accepted but not in Notion yet (its body left the memory cache, or it is
        // replayed from the journal after a restart) is what the file shows, never the
        // older content Notion or the disk cache hold: an edit made from that older view
        // would replace the save.
        let pending = match (cached.is_none(), self.writer.get()) {
            (true, Some(w)) => w.pending_body(id),
            _ => None,
        };
        if cached.is_none() && pending.is_none() {
            if let Some(b) = self.body_from_disk(id, &obj) {
                return Ok(b);
            }
        }
        let read_at = SystemTime::now();
        let blocks = match fetch_tree(&self.client, id, Some(&self.permits)).await {
            Ok(b) => b,
            Err(e) => {
                if let Some(b) = cached {
                    tracing::warn!(page = %id, error = %e, "cannot re-read a page; serving the cached body");
                    return Ok(b);
                }
                return Err(e.into());
            }
        };
        let mut items = derive_items(id, &blocks);
        if let Some(p) = &obj.page {
            items.extend(property_items(p));
        }
        let schema = match obj.parent.as_ref().and_then(|p| p.data_source_id.clone()) {
            Some(ds) => Some(self.schema(&ds).await?),
            None => None,
        };
        // Name the folder, then render the links into it.
        let mut paths = self.install_items(id, &obj.title, &items);
        let mut page = obj.page.clone();
        if let Some(p) = page.as_mut() {
            self.complete_row(p).await?;
            self.row_paths(id, p, &mut paths);
        }
        let mut data = render_page(page.as_ref(), schema.as_deref(), &blocks, &paths);
        if let Some(w) = self.writer.get() {
            let row = page.as_ref().zip(schema.as_deref());
            // Accepted content Notion does not hold yet (pending, or failed: refused
            // properties) stays what the file shows, and its diff base stays the blocks the
            // edit started from.
            // (The journal was read above when nothing was cached: not again.)
            let unsynced = match (&pending, cached.is_none()) {
                (Some(_), _) => true,
                (None, true) => w.unsynced_in_memory(id).unwrap_or(false),
                (None, false) => w.is_unsynced(id),
            };
            // After a save, the file keeps the user's bytes as long as Notion still means
            // the same (the rendering may normalize them differently).
            if let Some(p) = &pending {
                data = p.clone();
            }
            if let Some(c) = cached.as_ref().filter(|c| c.data.as_slice() != data) {
                let same = unsynced
                    || std::str::from_utf8(&c.data)
                        .is_ok_and(|t| same_file(t, row, &blocks, &paths));
                if same {
                    data = c.data.as_ref().clone();
                }
            }
            if let (Some(p), Some(s)) = (&page, &schema) {
                w.set_row(
                    id,
                    RowBase {
                        page: p.clone(),
                        schema: s.clone(),
                    },
                );
            }
            // Not for a save whose base is unknown: its push compares what the edit started
            // from with Notion (see `write`), which these blocks may no longer be.
            if !(unsynced && w.has_base(id)) && pending.is_none() {
                w.set_base(id, blocks.clone(), paths.clone());
                w.set_base_time(id, &obj.last_edited_time, read_at);
            }
        }
        let body = Arc::new(Body::new(data, obj.last_edited_time.clone()));
        if let Err(e) = self.disk.save(id, &body, &items, &paths) {
            tracing::warn!(page = %id, error = %e, "cannot write the disk cache");
        }
        let changed = cached.as_ref().is_some_and(|c| c.hash != body.hash);
        self.state().bodies.put(id.to_string(), body.clone());
        if changed {
            if let Some(ino) = self.inodes.find(&NodeKey::PageFile(id.to_string())) {
                self.invalidate(ino);
            }
        }
        Ok(body)
    }

    /// Whether a child page or database of `id` now has another title than its block had
    /// when the page was read (search and listings keep the objects' titles current).
    pub(super) fn children_renamed(&self, id: &str) -> bool {
        let st = self.state();
        st.items
            .get(id)
            .is_some_and(|(items, _)| Self::renamed(&st, items))
    }

    pub(super) fn renamed(st: &State, items: &[Item]) -> bool {
        items.iter().any(|it| match it {
            Item::ChildPage { id, title, .. } | Item::ChildDatabase { id, title, .. } => {
                st.objects.get(id).is_some_and(|o| &o.title != title)
            }
            Item::Attachment { .. } => false,
        })
    }

    /// A body from the disk cache, if it is still the page's content and links to the same
    /// paths as it would now.
    pub(super) fn body_from_disk(&self, id: &str, obj: &Obj) -> Option<Arc<Body>> {
        let (meta, body) = self.disk.load(id)?;
        if !body.matches(&obj.last_edited_time) || Self::renamed(&self.state(), &meta.items) {
            return None;
        }
        let mut paths = self.install_items(id, &obj.title, &meta.items);
        if let Some(p) = &obj.page {
            self.row_paths(id, p, &mut paths);
        }
        if paths != meta.paths {
            return None;
        }
        let body = Arc::new(body);
        self.state().bodies.put(id.to_string(), body.clone());
        Some(body)
    }

    /// Records a page's items (child pages, databases, attachments), names its folder and
    /// returns the relative paths its body links to.
    pub(super) fn install_items(&self, id: &str, title: &str, items: &[Item]) -> PathMap {
        let mut paths = PathMap::default();
        let stem = self.own_stem(id, title);
        {
            let mut st = self.state();
            let st = &mut *st;
            let now = Instant::now();
            let mut descs = Vec::new();
            for it in items {
                match it {
                    Item::ChildPage {
                        id: cid,
                        title,
                        created_time,
                        last_edited_time,
                    } => {
                        let o = st.objects.entry(cid.clone()).or_insert_with(|| Obj {
                            id: cid.clone(),
                            kind: ObjKind::Page,
                            title: title.clone(),
                            created_time: created_time.clone(),
                            last_edited_time: last_edited_time.clone(),
                            url: format!("https://www.notion.so/{}", cid.replace('-', "")),
                            parent: Some(crate::notion::model::Parent::page(id)),
                            page: None,
                            fetched: now,
                        });
                        o.title = title.clone();
                        let o = o.clone();
                        descs.push(Self::page_desc(st, &o));
                    }
                    Item::ChildDatabase {
                        id: cid,
                        title,
                        created_time,
                        last_edited_time,
                    } => {
                        st.objects.entry(cid.clone()).or_insert_with(|| Obj {
                            id: cid.clone(),
                            kind: ObjKind::Database,
                            title: title.clone(),
                            created_time: created_time.clone(),
                            last_edited_time: last_edited_time.clone(),
                            url: format!("https://www.notion.so/{}", cid.replace('-', "")),
                            parent: Some(crate::notion::model::Parent::page(id)),
                            page: None,
                            fetched: now,
                        });
                        descs.push(ChildDesc {
                            key: NodeKey::Database(cid.clone()),
                            title: title.clone(),
                            created_time: created_time.clone(),
                            id: cid.clone(),
                            has_folder: false,
                        });
                    }
                    Item::Attachment { name, source } => {
                        st.attachments
                            .insert(source.block_id.clone(), source.clone());
                        descs.push(ChildDesc {
                            key: NodeKey::Attachment(source.block_id.clone()),
                            title: name.clone(),
                            created_time: source.created_time.clone(),
                            id: source.block_id.clone(),
                            has_folder: false,
                        });
                    }
                }
            }
            st.items.insert(id.to_string(), (items.to_vec(), now));
            if !items.is_empty() {
                self.reveal_folder(st, id);
            }
            let dir = NodeKey::PageDir(id.to_string());
            let names = st.names.entry(dir.clone()).or_default();
            let entries = build_entries(names, &descs);
            for e in &entries {
                let block = match &e.key {
                    NodeKey::PageFile(c) | NodeKey::Database(c) | NodeKey::Attachment(c) => c,
                    _ => continue,
                };
                let path = format!("{stem}/{}", e.name);
                if matches!(e.key, NodeKey::Attachment(_)) {
                    if let Some(url) = st.attachments.get(block).and_then(|a| a.file.url()) {
                        paths.files.insert(url_key(url), path.clone());
                    }
                    paths.media.insert(block.clone(), path);
                } else {
                    paths.children.insert(block.clone(), path);
                }
            }
            st.listings.insert(
                dir,
                Listing {
                    entries,
                    fetched: now,
                },
            );
        }
        paths
    }

    /// Adds the folder `T/` of a page to the listing of the directory holding `T.md`, once
    /// reading the page showed it has children or attachments (its name was reserved when
    /// `T.md` was named, so nothing else is renamed).
    pub(super) fn reveal_folder(&self, st: &mut State, id: &str) {
        let file = NodeKey::PageFile(id.to_string());
        let Some(dir) = self
            .inodes
            .find(&file)
            .and_then(|i| self.inodes.place(i))
            .and_then(|p| self.inodes.key(p.parent))
        else {
            return;
        };
        let Some(name) = st
            .names
            .get(&dir)
            .and_then(|n| n.names_of(&file).get(1).cloned())
        else {
            return;
        };
        let folder = NodeKey::PageDir(id.to_string());
        if let Some(l) = st.listings.get_mut(&dir) {
            if !l.entries.iter().any(|e| e.key == folder) {
                l.entries.push(ListEntry { name, key: folder });
                l.entries.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
    }

    /// The stem of a page's own name in its directory (its folder is `STEM/`).
    pub(super) fn own_stem(&self, id: &str, title: &str) -> String {
        let key = NodeKey::PageFile(id.to_string());
        let st = self.state();
        self.inodes
            .find(&key)
            .and_then(|ino| self.inodes.place(ino))
            .and_then(|p| self.inodes.key(p.parent))
            .and_then(|dir| st.names.get(&dir).and_then(|n| n.stem_of(&key)))
            .unwrap_or_else(|| sanitize(title))
    }

    /// Relative paths of related rows that have been seen, for a row's front matter.
    pub(super) fn row_paths(&self, id: &str, page: &Page, paths: &mut PathMap) {
        let Some(from) = self
            .inodes
            .find(&NodeKey::PageFile(id.to_string()))
            .and_then(|i| self.inodes.place(i))
            .and_then(|p| self.abs_dir(p.parent))
        else {
            return;
        };
        for v in page.properties.values() {
            let PropertyData::Relation(rel) = &v.data else {
                continue;
            };
            for r in rel {
                let rid = r.id.as_str();
                let target = self
                    .inodes
                    .find(&NodeKey::PageFile(rid.to_string()))
                    .and_then(|i| self.inodes.place(i))
                    .and_then(|p| Some((self.abs_dir(p.parent)?, p.name)));
                if let Some((dir, name)) = target {
                    paths
                        .rows
                        .insert(rid.to_string(), relative(&from, &dir, &name));
                }
            }
        }
    }

    /// Completes the properties retrieve-page cuts at 25 references (see [`complete_row`]).
    pub(super) async fn complete_row(&self, page: &mut Page) -> FsResult<()> {
        Ok(complete_row(&self.client, page).await?)
    }

    /// Path components of a directory from the root.
    pub(super) fn abs_dir(&self, mut ino: u64) -> Option<Vec<String>> {
        let mut parts = Vec::new();
        while ino != ROOT_INO {
            let p = self.inodes.place(ino)?;
            parts.push(p.name);
            ino = p.parent;
            if parts.len() > 256 {
                return None;
            }
        }
        parts.reverse();
        Some(parts)
    }
}

/// Whether a saved file `text` means what Notion holds: for a row, no property to change
/// or refuse and the same blocks; for a page, the same blocks.
pub(super) fn same_file(
    text: &str,
    row: Option<(&Page, &DataSource)>,
    blocks: &[crate::notion::model::Block],
    paths: &PathMap,
) -> bool {
    let body = match row {
        // A row's file shows its properties: bytes without front matter (a page's, before
        // it moved into a data source, or a body-only save) are not its whole file.
        Some(_) if !text.starts_with("---") => return false,
        Some((page, schema)) => match frontmatter::parse(text, page, schema, paths) {
            Ok(p) if p.changes.is_empty() && p.refused.is_empty() => p.body,
            _ => return false,
        },
        None => text.to_string(),
    };
    crate::sync::same_content(blocks, &super::render::parse_body(&body, paths, blocks))
}

/// `dir/name` relative to the directory `from` (both as components from the root).
pub(super) fn relative(from: &[String], dir: &[String], name: &str) -> String {
    let common = from.iter().zip(dir).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> =
        std::iter::repeat_n("..".to_string(), from.len() - common).collect();
    parts.extend(dir[common..].iter().cloned());
    parts.push(name.to_string());
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            relative(&v(&["A", "Tasks"]), &v(&["A", "Tasks"]), "x.md"),
            "x.md"
        );
        assert_eq!(
            relative(&v(&["A", "Tasks"]), &v(&["B"]), "y.md"),
            "../../B/y.md"
        );
        assert_eq!(relative(&v(&[]), &v(&["B"]), "y.md"), "B/y.md");
    }
}
