//! Page bodies: reading a page's blocks, naming its folder, rendering its file (the
//! Markdown, and a row's front matter), and the bookkeeping the writer needs (the blocks
//! the file was rendered from).

use std::sync::Arc;

use super::attachments::url_key;
use super::content::Body;
use super::error::{FsError, FsResult};
use super::inode::{NodeKey, ROOT_INO};
use super::names::sanitize;
use super::render::{render_page, PathMap};
use super::tree::{derive_items, property_items, Item, Obj, ObjKind};
use super::{Flight, FsCore, State};
use crate::frontmatter;
use crate::notion::model::property::PropertyData;
use crate::notion::model::{notion_url, Block, DataSource, Page};
use crate::notion::tree::fetch_tree;
use crate::writeback::{complete_row, RowBase};

impl FsCore {
    /// The current body of a page: the cached one unless a change made it stale (the feed,
    /// a write through the mount), else read (see [`FsCore::load_page`]).
    pub(super) async fn body(&self, id: &str) -> FsResult<Arc<Body>> {
        match self.fresh_body(id) {
            Some(b) => Ok(b),
            None => self.load_page(id).await,
        }
    }

    /// The cached body of `id`, if its page's folder was named and no change made it stale.
    fn fresh_body(&self, id: &str) -> Option<Arc<Body>> {
        let mut st = self.state();
        if !st.items.contains_key(id) {
            return None;
        }
        st.bodies.get(id).filter(|b| !b.stale)
    }

    /// Reads a page's blocks (unless its cached body is still current), names its folder,
    /// renders its body and caches both. A page gone from Notion (404, trashed) leaves the
    /// tree (ENOENT); a failure to reach Notion serves the stale body if there is one.
    pub(super) async fn load_page(&self, id: &str) -> FsResult<Arc<Body>> {
        let flight = self.flight(Flight::Page(id.to_string()));
        let _g = flight.lock().await;
        if let Some(b) = self.fresh_body(id) {
            return Ok(b);
        }
        if super::offline::is_local_id(id) {
            if let Some(b) = self.local_body(id).await? {
                return Ok(b);
            }
            // Created in Notion meanwhile: the page under its id (its saves are all there
            // once the id map says so, see `Writer::rekey`).
            drop(_g);
            return Box::pin(self.load_page(&self.current_id(id))).await;
        }
        let cached = self.state().bodies.get(id);
        let obj = match self.page_meta(id).await {
            Ok(o) => o,
            Err(e) => return serve_cached(id, cached, e, "cannot read a page's metadata"),
        };
        // A save accepted but not in Notion yet (its body left the memory cache, or it is
        // replayed from the journal after a restart) is what the file shows, never the
        // older content Notion or the disk cache hold: an edit made from that older view
        // would replace the save.
        let pending = match cached {
            None => self.pending_body(id).await,
            Some(_) => None,
        };
        if cached.is_none() && pending.is_none() {
            if let Some(b) = self.body_from_disk(id, &obj).await {
                return Ok(b);
            }
        }
        let asked = std::time::Instant::now();
        let blocks = match fetch_tree(&self.client, id, Some(&self.permits)).await {
            Ok(b) => b,
            Err(e) if e.is_not_found() => {
                self.forget_object(id);
                return Err(FsError::NotFound);
            }
            Err(e) => {
                let cached = match cached {
                    Some(c) => Some(c),
                    None => self.unreachable_body(id, &obj, pending).await,
                };
                return serve_cached(id, cached, e.into(), "cannot read a page");
            }
        };
        let mut r = self.render_fetched(id, &obj, blocks).await?;
        // Read while this mount was writing the page: it may hold a push half applied.
        let during_write = self.copy_of(id, asked) == crate::writeback::marks::Standing::Predates;
        let data = self
            .shown_bytes(id, &obj, &mut r, cached.as_ref(), pending, during_write)
            .await;
        Ok(self.install_body(id, &obj, &r, data, cached.as_ref()).await)
    }

    /// What is known of page `id` for rendering it: the object the crawl and the feed keep
    /// current, else one `GET /v1/pages/{id}` (a row needs its properties). A page Notion
    /// says is gone leaves the tree.
    async fn page_meta(&self, id: &str) -> FsResult<Obj> {
        self.know_answered();
        let known = self.state().objects.get(id).cloned();
        if let Some(o) = known.filter(|o| !o.is_row() || o.page.is_some()) {
            return Ok(o);
        }
        let p = match self.client.page(id).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => {
                self.forget_object(id);
                return Err(FsError::NotFound);
            }
            Err(e) => return Err(e.into()),
        };
        if p.in_trash || p.archived {
            self.forget_object(id);
            return Err(FsError::NotFound);
        }
        let mut st = self.state();
        st.know_page(&p);
        st.objects.get(id).cloned().ok_or(FsError::NotFound)
    }

    /// The newest accepted body of `page` the journal holds that Notion does not (the
    /// journal is read off the runtime's workers).
    pub(super) async fn pending_body(&self, id: &str) -> Option<Vec<u8>> {
        let w = self.write_back()?.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || w.pending_body(&id))
            .await
            .ok()
            .flatten()
    }

    /// Names the folder of a page just read and renders its file.
    async fn render_fetched(&self, id: &str, obj: &Obj, blocks: Vec<Block>) -> FsResult<Fetched> {
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
        let mut page = obj.page.as_deref().cloned();
        if let Some(p) = page.as_mut() {
            self.complete_row(p).await?;
            self.row_paths(id, p, &mut paths);
        }
        let data = render_page(page.as_ref(), schema.as_deref(), &blocks, &paths);
        Ok(Fetched {
            blocks,
            items,
            paths,
            page,
            schema,
            data,
        })
    }

    /// The bytes the file shows after a read, and the writer's bookkeeping: accepted content
    /// Notion does not hold yet (pending, or failed: refused properties) stays what the file
    /// shows, with the blocks the edit started from as its diff base; after a save the file
    /// keeps the user's bytes as long as Notion still means the same (the rendering may
    /// normalize them differently); otherwise the blocks just read become the base.
    ///
    /// The blocks and the row move to the writer (`r.blocks` and `r.page` are left empty): a
    /// page's tree takes several times its JSON size in memory, and a copy would be made only
    /// to drop the original.
    ///
    /// `during_write`: the blocks were asked for while this mount was writing the page, so
    /// they may hold a push half applied; they are not a version a save may descend from
    /// (a save that replaces the file descends from the newest version: such a read would
    /// have made the push's own missing half look like a remote edit).
    async fn shown_bytes(
        &self,
        id: &str,
        obj: &Obj,
        r: &mut Fetched,
        cached: Option<&Arc<Body>>,
        pending: Option<Vec<u8>>,
        during_write: bool,
    ) -> Vec<u8> {
        let Some(w) = self.write_back() else {
            return r.data.clone();
        };
        // (The journal was read already when nothing was cached: not again.)
        let unsynced = match (&pending, cached) {
            (Some(_), _) => true,
            (None, None) => w.unsynced_in_memory(id).unwrap_or(false),
            (None, Some(_)) => self.is_unsynced(id).await,
        };
        let mut data = pending.clone().unwrap_or_else(|| r.data.clone());
        if let Some(c) = cached.filter(|c| c.data.as_slice() != data) {
            let row = r.page.as_ref().zip(r.schema.as_deref());
            let same = unsynced
                || std::str::from_utf8(&c.data)
                    .is_ok_and(|t| same_file(t, row, &r.blocks, &r.paths));
            if same {
                data = c.data.as_ref().clone();
            }
        }
        // What was read is a version a later save may descend from (also when the file
        // shows a pending save's bytes: the candidates are compared by content).
        if during_write {
            tracing::debug!(page = id, "read while a write was under way: not a base");
            return data;
        }
        let row = match (r.page.take(), &r.schema) {
            (Some(page), Some(s)) => Some(RowBase {
                page,
                schema: s.clone(),
            }),
            _ => None,
        };
        w.record_read(
            id,
            std::mem::take(&mut r.blocks),
            r.paths.clone(),
            row,
            &obj.last_edited_time,
        )
        .await;
        data
    }

    /// Whether `id` has accepted content Notion does not hold (the journal, if this run has
    /// not pushed it yet, is read off the runtime's workers).
    async fn is_unsynced(&self, id: &str) -> bool {
        let Some(w) = self.write_back() else {
            return false;
        };
        if let Some(u) = w.unsynced_in_memory(id) {
            return u;
        }
        let (w, id) = (w.clone(), id.to_string());
        tokio::task::spawn_blocking(move || w.is_unsynced(&id))
            .await
            .unwrap_or(false)
    }

    /// Caches a rendered body in memory and on disk (off the runtime's workers); the kernel
    /// drops its pages of the file if the content changed.
    async fn install_body(
        &self,
        id: &str,
        obj: &Obj,
        r: &Fetched,
        data: Vec<u8>,
        cached: Option<&Arc<Body>>,
    ) -> Arc<Body> {
        let body = Arc::new(Body::new(data, obj.last_edited_time.clone()));
        let (disk, page, b, items, paths) = (
            self.disk.clone(),
            id.to_string(),
            body.clone(),
            r.items.clone(),
            r.paths.clone(),
        );
        let saved = tokio::task::spawn_blocking(move || disk.save(&page, &b, &items, &paths)).await;
        if let Ok(Err(e)) = saved {
            tracing::warn!(page = %id, error = %e, "cannot write the disk cache");
        }
        let changed = cached.is_some_and(|c| c.hash != body.hash);
        {
            let mut st = self.state();
            // A save accepted while the page was being read is newer than this reading.
            if let Some(now) = st.bodies.peek(id) {
                let same = cached.is_some_and(|c| Arc::ptr_eq(c, &now));
                if !same && !now.stale {
                    return now;
                }
            }
            st.bodies.put(id.to_string(), body.clone());
        }
        if changed {
            if let Some(ino) = self.inodes.find(&NodeKey::PageFile(id.to_string())) {
                self.invalidate(ino);
            }
        }
        body
    }

    /// Whether a child page or database of the items now has another title than its block
    /// had when they were read (the feed keeps the objects' titles current).
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
    pub(super) async fn body_from_disk(&self, id: &str, obj: &Obj) -> Option<Arc<Body>> {
        let (disk, page) = (self.disk.clone(), id.to_string());
        let (meta, body) = tokio::task::spawn_blocking(move || disk.load(&page))
            .await
            .ok()
            .flatten()?;
        let stale = |st: &State| st.bodies.expired(id) || Self::renamed(st, &meta.items);
        if !body.matches(&obj.last_edited_time) || stale(&self.state()) {
            return None;
        }
        let mut paths = self.install_items(id, &obj.title, &meta.items);
        if let Some(p) = &obj.page {
            self.row_paths(id, p, &mut paths);
        }
        // A relation target not placed yet (its folder is known only once its parent page
        // is read) keeps the link the cached rendering has.
        for (rid, p) in &meta.paths.rows {
            if !paths.rows.contains_key(rid)
                && self.path_of(&NodeKey::PageFile(rid.clone()), 0).is_none()
            {
                paths.rows.insert(rid.clone(), p.clone());
            }
        }
        if paths != meta.paths {
            tracing::debug!(page = id, "the disk cache's rendering links elsewhere now");
            return None;
        }
        let body = Arc::new(body);
        self.state().bodies.put(id.to_string(), body.clone());
        Some(body)
    }

    /// Notion cannot be reached and memory holds nothing of page `id`: its pending save, else
    /// the disk cache's rendering even if its links or edit time are out of date (a child
    /// renamed or moved while offline changes its links), rather than an error. Its folder
    /// lists the items the disk cache recorded. Read again once something says it changed.
    async fn unreachable_body(
        &self,
        id: &str,
        obj: &Obj,
        pending: Option<Vec<u8>>,
    ) -> Option<Arc<Body>> {
        let (disk, page) = (self.disk.clone(), id.to_string());
        let stored = tokio::task::spawn_blocking(move || disk.load(&page))
            .await
            .ok()
            .flatten();
        if let Some((meta, _)) = &stored {
            self.install_items(id, &obj.title, &meta.items);
        }
        let body = match (pending, stored) {
            (Some(p), _) => Body::new(p, obj.last_edited_time.clone()),
            (None, Some((_, b))) => b,
            (None, None) => return None,
        };
        let body = Arc::new(body);
        self.state().bodies.put(id.to_string(), body.clone());
        Some(body)
    }

    /// Records a page's items (child pages, databases, attachments), names its folder and
    /// returns the relative paths its body links to.
    pub(super) fn install_items(&self, id: &str, title: &str, items: &[Item]) -> PathMap {
        let stem = self.own_stem(id, title);
        {
            let mut st = self.state();
            let st = &mut *st;
            for it in items {
                Self::know_item(st, id, it);
            }
            st.items.insert(id.to_string(), items.to_vec());
            st.dirty(NodeKey::PageDir(id.to_string()));
            self.dirty_showing(st, id);
        }
        let listing = self.rebuild_listing(&NodeKey::PageDir(id.to_string()));
        let st = self.state();
        let mut paths = PathMap::default();
        for e in &listing.entries {
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
        paths
    }

    /// Records what one item of page `parent` is: a child page or database not known yet
    /// becomes a known object under it (its title as the block gives it), an attachment a
    /// known hosted file.
    fn know_item(st: &mut State, parent: &str, it: &Item) {
        let stub = |id: &str, kind, title: &str, created: &str, edited: &str| Obj {
            id: id.to_string(),
            kind,
            title: title.to_string(),
            created_time: created.to_string(),
            last_edited_time: edited.to_string(),
            url: notion_url(id),
            parent: Some(crate::notion::model::Parent::page(parent)),
            page: None,
            database_parent: None,
        };
        match it {
            Item::ChildPage {
                id,
                title,
                created_time,
                last_edited_time,
            } if !st.objects.contains_key(id)
                && !st.gone.contains(id)
                // Maybe a create queued here that reached Notion, not mapped yet: the
                // sender gives the local page this id.
                && !st.creating() =>
            {
                st.know(stub(
                    id,
                    ObjKind::Page,
                    title,
                    created_time,
                    last_edited_time,
                ));
            }
            Item::ChildDatabase {
                id,
                title,
                created_time,
                last_edited_time,
            } if !st.objects.contains_key(id) => {
                st.know(stub(
                    id,
                    ObjKind::Database,
                    title,
                    created_time,
                    last_edited_time,
                ));
            }
            Item::Attachment { source, .. } => {
                st.attachments
                    .insert(source.block_id.clone(), source.clone());
            }
            _ => {}
        }
    }

    /// Marks stale the listings that show page `id`'s entry (its folder may have appeared
    /// or gone): the directory of its parent, and the one its file was looked up in.
    pub(super) fn dirty_showing(&self, st: &mut State, id: &str) {
        let parent = st.objects.get(id).and_then(|o| o.parent.clone());
        if let Some(p) = parent {
            for d in st.dirs_of(&p) {
                st.dirty(d);
            }
        }
        let place = self
            .inodes
            .find(&NodeKey::PageFile(id.to_string()))
            .and_then(|i| self.inodes.place(i))
            .and_then(|p| self.inodes.key(p.parent));
        if let Some(dir) = place {
            st.dirty(dir);
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
        let Some(mut from) = self.path_of(&NodeKey::PageFile(id.to_string()), 0) else {
            return;
        };
        from.pop();
        for v in page.properties.values() {
            let PropertyData::Relation(rel) = &v.data else {
                continue;
            };
            for r in rel {
                let rid = r.id.as_str();
                if let Some(mut to) = self.path_of(&NodeKey::PageFile(rid.to_string()), 0) {
                    let name = to.pop().unwrap_or_default();
                    paths
                        .rows
                        .insert(rid.to_string(), relative(&from, &to, &name));
                }
            }
        }
    }

    /// The path from the root of the entry `key` (its inode's place if the kernel has seen
    /// it, else where the listings built from what is known put it: no API call), so a
    /// page renders the same whatever was browsed before.
    fn path_of(&self, key: &NodeKey, depth: usize) -> Option<Vec<String>> {
        if *key == NodeKey::Root {
            return Some(Vec::new());
        }
        if let Some(p) = self.inodes.find(key).and_then(|i| self.inodes.place(i)) {
            let mut path = self.abs_dir(p.parent)?;
            path.push(p.name);
            return Some(path);
        }
        // Deeper than any real tree: a cycle in what is known.
        if depth > 64 {
            return None;
        }
        let dirs = {
            let st = self.state();
            match key {
                NodeKey::DataSource(ds) => vec![NodeKey::Database(st.database_of(ds)?)],
                NodeKey::PageFile(id) | NodeKey::PageDir(id) | NodeKey::Database(id) => {
                    st.dirs_of(st.objects.get(id)?.parent.as_ref()?)
                }
                _ => return None,
            }
        };
        for dir in dirs {
            let known = self.state().listings.get(&dir).cloned();
            let listing = known.unwrap_or_else(|| self.rebuild_listing(&dir));
            // (A data source's rows are also in its database's folder when it is the only
            // one: the folder that is itself shown wins.)
            let Some(e) = listing.entries.iter().find(|e| &e.key == key) else {
                continue;
            };
            if let Some(mut path) = self.path_of(&dir, depth + 1) {
                path.push(e.name.clone());
                return Some(path);
            }
        }
        None
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

/// A page just read from Notion and rendered.
pub(super) struct Fetched {
    /// Its blocks, children inline (moved to the writer once the read is recorded).
    blocks: Vec<Block>,
    /// Its child pages, databases and attachments.
    items: Vec<Item>,
    /// Where its links point in the mount.
    paths: PathMap,
    /// For a row: the row (its long lists completed; moved to the writer with the blocks).
    page: Option<Page>,
    /// For a row: its data source.
    schema: Option<Arc<DataSource>>,
    /// The rendered file.
    data: Vec<u8>,
}

/// A read that could not reach Notion: the cached body if there is one (logged), else the
/// error.
fn serve_cached(
    id: &str,
    cached: Option<Arc<Body>>,
    e: FsError,
    what: &str,
) -> FsResult<Arc<Body>> {
    match cached {
        Some(b) => {
            tracing::warn!(page = %id, error = %e, "{what}; serving the cached body");
            Ok(b)
        }
        None => Err(e),
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
