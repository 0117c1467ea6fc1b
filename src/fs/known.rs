//! What the mount knows about the workspace's objects, and which listings each change makes
//! stale.
//!
//! The objects (pages, rows, databases, data sources) and their parent links are the source
//! of truth; directory listings are views built from them (see `listing`). Every change goes
//! through the methods here, which keep the children index in step and mark the listings
//! that show the object as dirty, so the next look rebuilds them — with the sticky names of
//! `names`, so nothing else is renamed. Nothing here calls Notion.

use std::collections::HashSet;

use super::inode::NodeKey;
use super::tree::{shown_at_root, Item, Obj, ObjKind};
use super::State;
use crate::notion::model::{DataSource, DataSourceRef, Database, Page, Parent};

/// What recording one object changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Change {
    /// It was not known before.
    pub new: bool,
    /// Its content changed since it was last known (its body must be read again).
    pub edited: bool,
    /// Its title changed.
    pub renamed: bool,
    /// Its parent changed.
    pub moved: bool,
    /// Pages whose bodies show it (their `<page>` / `<database>` lines) and must be read
    /// again: its parent pages, old and new.
    pub relink: Vec<String>,
}

impl Change {
    /// Whether anything changed at all.
    pub fn any(&self) -> bool {
        self.new || self.edited || self.renamed || self.moved
    }
}

impl State {
    /// Whether the token can see the object `id` (as far as the mount knows).
    pub(super) fn visible(&self, id: &str) -> bool {
        self.objects.contains_key(id)
    }

    /// The directories whose listings show a child of `parent`: a page's folder; a data
    /// source's folder and its database's (which lists the rows itself when it has one
    /// data source); the root for the workspace and for parents the token cannot see.
    pub(super) fn dirs_of(&self, parent: &Parent) -> Vec<NodeKey> {
        if shown_at_root(parent, |id| self.visible(id)) {
            return vec![NodeKey::Root];
        }
        match (
            parent.kind.as_str(),
            parent.page_id.as_ref(),
            parent.data_source_id.as_ref(),
            parent.database_id.as_ref(),
        ) {
            ("page_id", Some(p), _, _) => vec![NodeKey::PageDir(p.clone())],
            ("data_source_id", _, Some(ds), _) => {
                let mut v = vec![NodeKey::DataSource(ds.clone())];
                if let Some(db) = self.database_of(ds) {
                    v.push(NodeKey::Database(db));
                }
                v
            }
            ("database_id", _, _, Some(db)) => vec![NodeKey::Database(db.clone())],
            _ => Vec::new(),
        }
    }

    /// The database holding the data source `ds`.
    pub(super) fn database_of(&self, ds: &str) -> Option<String> {
        self.objects
            .get(ds)
            .and_then(|o| o.parent.as_ref())
            .and_then(|p| p.database_id.clone())
    }

    /// Marks the listing of `dir` as stale (rebuilt from what is known on its next look).
    pub(super) fn dirty(&mut self, dir: NodeKey) {
        if self.listings.contains_key(&dir) {
            if let Some(p) = &mut self.push_listings {
                p.dirtied.insert(dir.clone());
                p.notify.notify_one();
            }
            self.stale.insert(dir);
        }
    }

    /// Marks every listing that shows the object `id` (with parent `parent`) as stale, and
    /// the listings showing its parent page (whose entry gains or loses its folder).
    fn dirty_around(&mut self, parent: &Parent) {
        for d in self.dirs_of(parent) {
            self.dirty(d);
        }
        if let Some(pp) = parent.page_id.as_deref() {
            if let Some(grand) = self.objects.get(pp).and_then(|o| o.parent.clone()) {
                for d in self.dirs_of(&grand) {
                    self.dirty(d);
                }
            }
        }
    }

    fn link(&mut self, child: &str, parent: &Parent) {
        if let Some(pid) = parent.id() {
            let v = self.children.entry(pid.to_string()).or_default();
            if !v.iter().any(|c| c == child) {
                v.push(child.to_string());
            }
        }
    }

    fn unlink(&mut self, child: &str, parent: &Parent) {
        if let Some(pid) = parent.id() {
            if let Some(v) = self.children.get_mut(pid) {
                v.retain(|c| c != child);
                if v.is_empty() {
                    self.children.remove(pid);
                }
            }
        }
    }

    /// Records an object, relinking it if its parent changed and marking what shows it as
    /// stale; returns what changed.
    pub(super) fn know(&mut self, obj: Obj) -> Change {
        self.gone.remove(&obj.id);
        let mut c = Change::default();
        let old = self.objects.get(&obj.id).cloned();
        let parent = obj.parent.clone().unwrap_or_else(Parent::workspace);
        match &old {
            None => {
                c.new = true;
                self.link(&obj.id, &parent);
                self.dirty_around(&parent);
                c.relink.extend(parent.page_id.clone());
            }
            Some(o) => {
                let old_parent = o.parent.clone().unwrap_or_else(Parent::workspace);
                if old_parent.id() != parent.id() || old_parent.kind != parent.kind {
                    c.moved = true;
                    self.keep_folder_shown(&old_parent);
                    self.unlink(&obj.id, &old_parent);
                    self.link(&obj.id, &parent);
                    self.dirty_around(&old_parent);
                    self.dirty_around(&parent);
                    if let Some(op) = old_parent.page_id.as_deref() {
                        self.drop_item(op, &obj.id);
                    }
                    c.relink.extend(old_parent.page_id.clone());
                    c.relink.extend(parent.page_id.clone());
                }
                if o.title != obj.title {
                    c.renamed = true;
                    self.dirty_around(&parent);
                    c.relink.extend(parent.page_id.clone());
                }
                c.edited = o.last_edited_time != obj.last_edited_time;
            }
        }
        // A row's values completed past 25 references stay until the next read, where the
        // newer object may have them cut; every other property is the newer object's:
        // Notion rounds edit times to the minute, so the same time does not mean the same
        // properties (a row saved twice in a minute would show its first save again).
        let mut obj = obj;
        if let (Some(o), false) = (&old, c.edited) {
            if let (Some(new), Some(completed)) = (obj.page.as_mut(), o.page.as_ref()) {
                for (name, _) in crate::frontmatter::needs_full_items(new) {
                    if let Some(v) = completed.properties.get(&name) {
                        new.properties.insert(name, v.clone());
                    }
                }
            }
        }
        c.relink.sort();
        c.relink.dedup();
        let id = obj.id.clone();
        self.objects.insert(id, obj);
        c
    }

    /// Records a page (from search, the feed, a query, a retrieve or a write's answer).
    pub(super) fn know_page(&mut self, p: &Page) -> Change {
        self.know(Obj::from_page(p))
    }

    /// Records a data source: its object, its schema, and its place in its database.
    pub(super) fn know_source(&mut self, d: &DataSource) -> Change {
        let c = self.know(Obj::from_data_source(d));
        self.schemas
            .insert(d.id.clone(), std::sync::Arc::new(d.clone()));
        if let Some(db) = d.parent.database_id.as_deref() {
            let refs = self.databases.entry(db.to_string()).or_default();
            match refs.iter_mut().find(|r| r.id == d.id) {
                Some(r) => r.name = d.title_text(),
                None => refs.push(DataSourceRef {
                    id: d.id.clone(),
                    name: d.title_text(),
                    extra: Default::default(),
                }),
            }
            self.dirty(NodeKey::Database(db.to_string()));
            // Where the database lives, until the database itself is read.
            if let Some(gp) = &d.database_parent {
                self.link(db, gp);
            }
        }
        c
    }

    /// Records a database read with `GET /v1/databases/{id}`.
    pub(super) fn know_database(&mut self, db: &Database) -> Change {
        let c = self.know(Obj::from_database(db));
        self.databases
            .insert(db.id.clone(), db.data_sources.clone());
        self.dirty(NodeKey::Database(db.id.clone()));
        c
    }

    /// Forgets an object that is gone (trashed, deleted or no longer shared), with
    /// everything under it (a trashed page takes its children along): it leaves every
    /// listing; returns the pages whose bodies showed it.
    pub(super) fn forget(&mut self, id: &str) -> Vec<String> {
        self.gone.insert(id.to_string());
        let Some(o) = self.objects.get(id) else {
            return Vec::new();
        };
        let parent = o.parent.clone().unwrap_or_else(Parent::workspace);
        self.keep_folder_shown(&parent);
        let mut stack = vec![id.to_string()];
        while let Some(x) = stack.pop() {
            stack.extend(self.children.remove(&x).unwrap_or_default());
            self.objects.remove(&x);
            self.items.remove(&x);
            self.bodies.remove(&x);
            self.made_dirs.remove(&x);
            self.dirty(NodeKey::PageDir(x.clone()));
            self.dirty(NodeKey::DataSource(x.clone()));
            self.dirty(NodeKey::Database(x.clone()));
        }
        self.unlink(id, &parent);
        self.dirty_around(&parent);
        if let Some(pp) = parent.page_id.as_deref() {
            self.drop_item(pp, id);
        }
        parent.page_id.into_iter().collect()
    }

    /// Whether any page created here is still known by its local id (its create not
    /// answered yet; also one removed here since): a page the mount does not know may be one
    /// of them under Notion's id, wherever a queued move put it.
    pub(super) fn creating(&self) -> bool {
        self.made_here.iter().any(|id| {
            super::offline::is_local_id(id)
                && (self.objects.contains_key(id) || self.gone.contains(id))
        })
    }

    /// The page known by the local id `old` (created while Notion was unreachable) is
    /// `new` in Notion: everything known under `old` moves to `new`'s id — its place under
    /// its parent, its children, items, body, folder and sticky names — so nothing is
    /// renamed or shown twice. A local page the tree no longer shows (removed here while
    /// its create was queued: its trash is queued after it) is not shown again.
    pub(super) fn rekey(&mut self, old: &str, new: Obj) {
        let id = new.id.clone();
        let Some(was) = self.objects.remove(old) else {
            self.rekey_unknown(old, &id);
            return;
        };
        // The feed may have learned `new` before its mapping was written: it keeps one
        // entry, in the local page's place (with the local page's name).
        if let Some(early) = self.objects.get(&id) {
            let p = early.parent.clone().unwrap_or_else(Parent::workspace);
            self.unlink(&id, &p);
            self.dirty_around(&p);
        }
        let parent = was.parent.clone().unwrap_or_else(Parent::workspace);
        if let Some(v) = parent.id().and_then(|p| self.children.get_mut(p)) {
            for c in v.iter_mut().filter(|c| *c == old) {
                *c = id.clone();
            }
        }
        if let Some(kids) = self.children.remove(old) {
            for k in &kids {
                if let Some(p) = self.objects.get_mut(k).and_then(|o| o.parent.as_mut()) {
                    if p.page_id.as_deref() == Some(old) {
                        p.page_id = Some(id.clone());
                    }
                }
            }
            let v = self.children.entry(id.clone()).or_default();
            for k in kids {
                if !v.contains(&k) {
                    v.push(k);
                }
            }
        }
        if let Some(items) = self.items.remove(old) {
            self.items.insert(id.clone(), items);
        }
        if let Some(b) = self.bodies.peek(old) {
            self.bodies.remove(old);
            self.bodies.put(id.clone(), b);
        }
        for set in [&mut self.made_here, &mut self.made_dirs] {
            if set.remove(old) {
                set.insert(id.clone());
            }
        }
        let (old_file, old_dir) = (
            NodeKey::PageFile(old.to_string()),
            NodeKey::PageDir(old.to_string()),
        );
        if let Some(t) = self.names.remove(&old_dir) {
            self.names.insert(NodeKey::PageDir(id.clone()), t);
        }
        for t in self.names.values_mut() {
            t.rekey(&old_file, NodeKey::PageFile(id.clone()));
            t.rekey(&old_dir, NodeKey::PageDir(id.clone()));
        }
        self.listings.remove(&old_dir);
        self.stale.remove(&old_dir);
        // Its place and title are the ones shown here: a rename or move queued after the
        // create is sent after it (until then Notion's answer has the create's).
        let mut new = new;
        new.title = was.title;
        new.parent = was.parent;
        self.objects.insert(id, new);
        self.dirty_around(&parent);
    }

    /// The local id `old` of a page the tree does not hold is `new` in Notion: what is
    /// known of it by id alone moves along. Removed here: Notion's id is gone too (its
    /// parent's body lists the page until the trash queued after the create is sent). Its
    /// folder made with `mkdir`: shown under Notion's id (a crash can come between the id
    /// map and the log line that says so).
    pub(super) fn rekey_unknown(&mut self, old: &str, new: &str) {
        if self.gone.remove(old) {
            self.gone.insert(new.to_string());
        }
        if self.made_dirs.remove(old) {
            self.made_dirs.insert(new.to_string());
        }
    }

    /// A page folder whose last child leaves stays shown (empty) until `rmdir`: called
    /// before a child of `parent` leaves.
    fn keep_folder_shown(&mut self, parent: &Parent) {
        if let Some(pp) = parent.page_id.as_deref() {
            if self.has_folder(pp) {
                self.made_dirs.insert(pp.to_string());
            }
        }
    }

    /// Takes the child `child` out of the items read from page `page`'s blocks.
    fn drop_item(&mut self, page: &str, child: &str) {
        if let Some(items) = self.items.get_mut(page) {
            items.retain(|it| match it {
                Item::ChildPage { id, .. } | Item::ChildDatabase { id, .. } => id != child,
                Item::Attachment { .. } => true,
            });
        }
    }

    /// The data sources of database `db`: as the database said, else the ones known.
    pub(super) fn sources_of(&self, db: &str) -> Vec<DataSourceRef> {
        self.databases.get(db).cloned().unwrap_or_default()
    }

    /// Whether a page's folder `T/` is shown: it was made with `mkdir`, or the page has
    /// child pages, databases or attachments.
    pub(super) fn has_folder(&self, page_id: &str) -> bool {
        self.made_dirs.contains(page_id)
            || self.items.get(page_id).is_some_and(|v| !v.is_empty())
            || self.children.get(page_id).is_some_and(|v| {
                v.iter().any(|c| match self.objects.get(c) {
                    Some(o) => o.kind != ObjKind::DataSource,
                    // A database known only from its data sources.
                    None => self.databases.contains_key(c),
                })
            })
    }

    /// Ids of the pages and databases shown at the root.
    pub(super) fn root_ids(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.objects
            .values()
            .filter(|o| matches!(o.kind, ObjKind::Page | ObjKind::Database))
            .filter(|o| {
                o.parent
                    .as_ref()
                    .is_none_or(|p| shown_at_root(p, |id| self.visible(id)))
            })
            .filter(|o| seen.insert(o.id.clone()))
            .map(|o| o.id.clone())
            .collect()
    }
}
