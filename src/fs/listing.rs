//! Directory listings: views of what the mount knows ([`super::known`]), built on the first
//! look and kept until a change (the feed, an operation through the mount, a page read)
//! marks them stale. Building one calls Notion only for what was never fetched: the
//! workspace's first crawl, a database never read, a page folder whose page was never read
//! (its attachments are only known from its blocks; the disk cache serves an unchanged
//! page without an API call). The disk cache's index also says whether a page's folder
//! holds anything, so its parent shows the folder before the page is read again.
//!
//! # The crawl
//! The first look at anything reads the whole workspace once: one search with no filter,
//! sorted by `last_edited_time` (pages and data sources together, 100 a call), and one
//! `GET /v1/databases/{id}` for each database shown at the root or placed by none of its
//! data sources (for its title). The newest edit seen is the change feed's starting point.
//! A remount restores what the last run knew from the cache dir instead (see `snapshot`), so
//! it crawls nothing.

use std::sync::Arc;

use futures::TryStreamExt;
use serde_json::{json, Value};

use super::content::DiskCache;
use super::error::{FsError, FsResult};
use super::inode::NodeKey;
use super::tree::{
    build_entries, property_items, shown_at_root, ChildDesc, Item, Listing, Obj, ObjKind,
};
use super::{Flight, FsCore, State};
use crate::notion::model::{DataSource, DataSourceRef, Database, Page};

/// What one search result is.
pub(super) enum Found {
    /// A page or row.
    Page(Box<Page>),
    /// A data source.
    Source(Box<DataSource>),
}

impl Found {
    /// Decodes a search result (`None` for objects of other kinds or shapes).
    pub(super) fn of(v: Value) -> Option<Found> {
        match v.get("object").and_then(Value::as_str) {
            Some("page") => serde_json::from_value(v)
                .ok()
                .map(|p| Found::Page(Box::new(p))),
            Some("data_source") => serde_json::from_value(v)
                .ok()
                .map(|d| Found::Source(Box::new(d))),
            _ => None,
        }
    }

    /// Its `last_edited_time`.
    pub(super) fn edited(&self) -> &str {
        match self {
            Found::Page(p) => &p.last_edited_time,
            Found::Source(d) => &d.last_edited_time,
        }
    }
}

/// What the crawl keeps of a search result until the search is complete.
// Nearly every result is a page: boxing the `Obj` would cost an allocation each.
#[allow(clippy::large_enum_variant)]
enum Crawled {
    /// A page or row (not trashed), as the mount keeps it.
    Page(Obj),
    /// A data source (not trashed).
    Source(Box<DataSource>),
}

/// The search request of the crawl and the feed: everything, newest edit first.
pub(super) fn newest_first() -> Value {
    json!({"sort": {"direction": "descending", "timestamp": "last_edited_time"}})
}

impl FsCore {
    /// The listing of `dir` (see the module doc for when it costs API calls).
    pub(super) async fn listing(&self, dir: &NodeKey) -> FsResult<Arc<Listing>> {
        if let Some(l) = self.current_listing(dir) {
            return Ok(l);
        }
        let flight = self.flight(Flight::Dir(dir.clone()));
        let _g = flight.lock().await;
        if let Some(l) = self.current_listing(dir) {
            return Ok(l);
        }
        self.ensure_loaded(dir).await?;
        Ok(self.rebuild_listing(dir))
    }

    /// The listing of `dir` if it is built and not stale.
    pub(super) fn current_listing(&self, dir: &NodeKey) -> Option<Arc<Listing>> {
        let st = self.state();
        if st.stale.contains(dir) {
            return None;
        }
        st.listings.get(dir).cloned()
    }

    /// Whether building the listing of `dir` needs nothing fetched (see `ensure_loaded`).
    pub(super) fn loaded(&self, dir: &NodeKey) -> bool {
        let st = self.state();
        st.crawled
            && match dir {
                NodeKey::Root | NodeKey::DataSource(_) => true,
                NodeKey::Database(id) => {
                    st.objects.contains_key(id) && !st.sources_of(id).is_empty()
                }
                NodeKey::PageDir(id) => st.items.contains_key(id),
                _ => false,
            }
    }

    /// Fetches what building the listing of `dir` needs and was never fetched.
    async fn ensure_loaded(&self, dir: &NodeKey) -> FsResult<()> {
        self.ensure_crawled().await?;
        if self.loaded(dir) {
            return Ok(());
        }
        match dir {
            NodeKey::Database(id) => self.database(id).await.map(|_| ()),
            NodeKey::PageDir(id) => self.load_page(id).await.map(|_| ()),
            _ => Err(FsError::NotDir),
        }
    }

    /// Builds the listing of `dir` from what is known (sticky names) and keeps it; the
    /// kernel forgets the entries it may hold that are gone or now name something else.
    pub(super) fn rebuild_listing(&self, dir: &NodeKey) -> Arc<Listing> {
        let (l, old) = {
            let mut guard = self.state();
            let st = &mut *guard;
            let descs = descs_of(st, dir, &self.disk);
            let names = st.names.entry(dir.clone()).or_default();
            let l = Arc::new(Listing::new(build_entries(names, &descs)));
            let old = st.listings.insert(dir.clone(), l.clone());
            st.stale.remove(dir);
            (l, old)
        };
        if let (Some(old), Some(dino)) = (old, self.inodes.find(dir)) {
            for e in &old.entries {
                if l.get(&e.name).map(|n| &n.key) != Some(&e.key) {
                    self.invalidate_entry(dino, &e.name);
                }
            }
        }
        l
    }

    /// Crawls the workspace once (see the module doc), unless it was, or a snapshot of an
    /// earlier run was restored.
    ///
    /// After a remount from a snapshot, the first look waits for one poll of the feed, so
    /// nothing edited while unmounted is served from the caches as if unchanged (if Notion
    /// cannot be reached, what the snapshot says is served, and the feed catches up later).
    pub(super) async fn ensure_crawled(&self) -> FsResult<()> {
        if !self.state().crawled {
            let flight = self.flight(Flight::Crawl);
            let _g = flight.lock().await;
            if !self.state().crawled {
                self.crawl().await?;
            }
        }
        if !self.state().caught_up {
            self.catch_up_after_remount().await;
        }
        Ok(())
    }

    /// Reads every page and data source the token can see (see the module doc); objects
    /// known before and not seen now are forgotten (trashed or unshared meanwhile).
    ///
    /// Each result is reduced to what the mount keeps of it as soon as its page of results
    /// is decoded (a page's [`Obj`]), so the whole workspace is never held as API objects at
    /// once; what was found is recorded when the search is complete.
    pub(super) async fn crawl(&self) -> FsResult<()> {
        let mut newest: Option<String> = None;
        let mut found: Vec<Crawled> = Vec::new();
        let mut results = std::pin::pin!(self.client.search(newest_first()));
        while let Some(v) = results.try_next().await? {
            let Some(f) = Found::of(v) else { continue };
            if newest.is_none() {
                newest = Some(f.edited().to_string());
            }
            match f {
                Found::Page(p) if p.in_trash || p.archived => {}
                Found::Source(d) if d.in_trash => {}
                Found::Page(p) => found.push(Crawled::Page(Obj::from_page(&p))),
                Found::Source(d) => found.push(Crawled::Source(d)),
            }
        }
        let gone = {
            let mut st = self.state();
            let mut seen = std::collections::HashSet::new();
            for f in found {
                match f {
                    Crawled::Page(o) => {
                        seen.insert(o.id.clone());
                        st.know(o);
                    }
                    Crawled::Source(d) => {
                        st.know_source(&d);
                        seen.insert(d.id.clone());
                    }
                }
            }
            let gone: Vec<String> = st
                .objects
                .values()
                .filter(|o| o.kind != ObjKind::Database && !seen.contains(&o.id))
                .filter(|o| !st.made_here.contains(&o.id))
                .map(|o| o.id.clone())
                .collect();
            gone
        };
        if self.state().crawled {
            for id in gone {
                self.forget_object(&id);
            }
        }
        for db in self.unnamed_databases() {
            self.database(&db).await?;
        }
        let mut st = self.state();
        st.crawled = true;
        st.caught_up = true;
        st.feed.advance(newest.as_deref());
        for dir in st.listings.keys().cloned().collect::<Vec<_>>() {
            st.dirty(dir);
        }
        drop(st);
        self.snapshot_soon();
        Ok(())
    }

    /// Databases that must be read for their titles: shown at the root, or placed by none
    /// of their data sources.
    fn unnamed_databases(&self) -> Vec<String> {
        let st = self.state();
        let mut out: Vec<String> = Vec::new();
        for o in st
            .objects
            .values()
            .filter(|o| o.kind == ObjKind::DataSource)
        {
            let Some(db) = o.parent.as_ref().and_then(|p| p.database_id.clone()) else {
                continue;
            };
            if st.objects.contains_key(&db) || out.contains(&db) {
                continue;
            }
            let at_root = o
                .database_parent
                .as_ref()
                .is_none_or(|gp| shown_at_root(gp, |id| st.visible(id)));
            if at_root {
                out.push(db);
            }
        }
        out
    }

    /// Reads a database (`GET /v1/databases/{id}`): its title, parent and data sources.
    pub(super) async fn database(&self, id: &str) -> FsResult<Vec<DataSourceRef>> {
        let db: Database = self.client.database(id).await?;
        let mut st = self.state();
        st.know_database(&db);
        Ok(db.data_sources)
    }

    /// A database's data sources: as known (search and the feed keep them current), else
    /// read once ([`FsCore::database`]).
    pub(super) async fn sources(&self, db: &str) -> FsResult<Vec<DataSourceRef>> {
        let known = self.state().sources_of(db);
        match known.is_empty() {
            true => self.database(db).await,
            false => Ok(known),
        }
    }

    /// A data source's schema: as known (search and the feed keep it current), else read
    /// once (`GET /v1/data_sources/{id}`).
    pub(super) async fn schema(&self, ds: &str) -> FsResult<Arc<DataSource>> {
        if let Some(s) = self.state().schemas.get(ds) {
            return Ok(s.clone());
        }
        let s = self.client.data_source(ds).await?;
        let mut st = self.state();
        st.know_source(&s);
        Ok(st.schemas.get(ds).cloned().unwrap_or_else(|| Arc::new(s)))
    }
}

/// The children of `dir` before naming, from what is known (and what the disk cache
/// says of pages' folders).
fn descs_of(st: &State, dir: &NodeKey, disk: &DiskCache) -> Vec<ChildDesc> {
    let v = View { st, disk };
    match dir {
        NodeKey::Root => st
            .root_ids()
            .iter()
            .filter_map(|id| desc_of(&v, id))
            .collect(),
        NodeKey::Database(db) => match st.sources_of(db).as_slice() {
            [only] => rows_descs(&v, &only.id),
            many => many
                .iter()
                .map(|d| ChildDesc {
                    key: NodeKey::DataSource(d.id.clone()),
                    title: d.name.clone(),
                    created_time: st
                        .objects
                        .get(&d.id)
                        .map(|o| o.created_time.clone())
                        .unwrap_or_default(),
                    id: d.id.clone(),
                    has_folder: false,
                })
                .collect(),
        },
        NodeKey::DataSource(ds) => rows_descs(&v, ds),
        NodeKey::PageDir(p) => page_folder_descs(&v, p),
        _ => Vec::new(),
    }
}

/// What listings are built from: the state, and the disk cache's index.
struct View<'a> {
    st: &'a State,
    disk: &'a DiskCache,
}

/// A known page or database as a directory entry.
fn desc_of(v: &View, id: &str) -> Option<ChildDesc> {
    let o = v.st.objects.get(id)?;
    match o.kind {
        ObjKind::Page => Some(page_desc(v, o)),
        ObjKind::Database => Some(ChildDesc {
            key: NodeKey::Database(id.to_string()),
            title: o.title.clone(),
            created_time: o.created_time.clone(),
            id: id.to_string(),
            has_folder: false,
        }),
        ObjKind::DataSource => None,
    }
}

/// A page as a directory entry (with its folder if it has one: see [`State::has_folder`];
/// a row with hosted files; a page whose folder held something when the disk cache stored
/// its current rendering).
fn page_desc(v: &View, o: &Obj) -> ChildDesc {
    let files = o
        .page
        .as_ref()
        .is_some_and(|p| !property_items(p).is_empty());
    let on_disk = || {
        !v.st.items.contains_key(&o.id)
            && !v.st.bodies.expired(&o.id)
            && v.disk
                .cached(&o.id)
                .is_some_and(|c| c.folder && c.current(&o.last_edited_time))
    };
    ChildDesc {
        key: NodeKey::PageFile(o.id.clone()),
        title: o.title.clone(),
        created_time: o.created_time.clone(),
        id: o.id.clone(),
        has_folder: v.st.has_folder(&o.id) || files || on_disk(),
    }
}

/// The rows of a data source and its `.schema.yaml`.
fn rows_descs(v: &View, ds: &str) -> Vec<ChildDesc> {
    let st = v.st;
    let mut out = vec![ChildDesc {
        key: NodeKey::Schema(ds.to_string()),
        title: String::new(),
        created_time: String::new(),
        id: ds.to_string(),
        has_folder: false,
    }];
    if let Some(rows) = st.children.get(ds) {
        out.extend(rows.iter().filter_map(|r| {
            let o = st.objects.get(r).filter(|o| o.kind == ObjKind::Page)?;
            Some(page_desc(v, o))
        }));
    }
    out
}

/// A page's folder: what its blocks hold (child pages, databases, attachments), and the
/// children search or the feed found that its blocks, as last read, did not show yet.
fn page_folder_descs(v: &View, page: &str) -> Vec<ChildDesc> {
    let st = v.st;
    let mut out = Vec::new();
    let mut listed = std::collections::HashSet::new();
    for it in st.items.get(page).map(Vec::as_slice).unwrap_or_default() {
        match it {
            Item::ChildPage {
                id,
                title,
                created_time,
                ..
            } => {
                listed.insert(id.as_str());
                match st.objects.get(id) {
                    // Moved elsewhere since this body was read (the object's place is
                    // newer: the feed, or a move through this mount).
                    Some(o)
                        if o.parent
                            .as_ref()
                            .is_some_and(|p| p.page_id.as_deref() != Some(page)) => {}
                    Some(o) => out.push(page_desc(v, o)),
                    None if st.gone.contains(id) => {}
                    // Maybe a create queued here that reached Notion, not mapped yet:
                    // shown once, as the local page.
                    None if st.creating() => {}
                    None => out.push(ChildDesc {
                        key: NodeKey::PageFile(id.clone()),
                        title: title.clone(),
                        created_time: created_time.clone(),
                        id: id.clone(),
                        has_folder: st.has_folder(id),
                    }),
                }
            }
            Item::ChildDatabase {
                id,
                title,
                created_time,
                ..
            } => {
                listed.insert(id.as_str());
                out.push(ChildDesc {
                    key: NodeKey::Database(id.clone()),
                    title: st
                        .objects
                        .get(id)
                        .map(|o| o.title.clone())
                        .unwrap_or_else(|| title.clone()),
                    created_time: created_time.clone(),
                    id: id.clone(),
                    has_folder: false,
                });
            }
            Item::Attachment { name, source } => out.push(ChildDesc {
                key: NodeKey::Attachment(source.block_id.clone()),
                title: name.clone(),
                created_time: source.created_time.clone(),
                id: source.block_id.clone(),
                has_folder: false,
            }),
        }
    }
    for c in st.children.get(page).map(Vec::as_slice).unwrap_or_default() {
        if !listed.contains(c.as_str()) {
            out.extend(desc_of(v, c));
        }
    }
    out
}

/// A digest of a listing's entries (names and identities).
pub(super) fn digest(l: &Listing) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for e in &l.entries {
        e.name.hash(&mut h);
        e.key.hash(&mut h);
    }
    h.finish()
}
