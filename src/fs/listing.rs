//! Directory listings: the root (from search), databases and data sources (their rows and
//! `.schema.yaml`), and the change sweep that keeps known pages current. A page's folder
//! is listed from the page's blocks, in [`super::page`].

use std::sync::Arc;
use std::time::Instant;

use futures::TryStreamExt;
use serde_json::{json, Value};

use super::error::{FsError, FsResult};
use super::inode::NodeKey;
use super::tree::{build_entries, property_items, ChildDesc, Listing, Obj, ObjKind, RootIndex};
use super::{Flight, FsCore, State};
use crate::notion::model::{DataSource, DataSourceRef, Database, Page};

impl FsCore {
    pub(super) async fn listing(&self, dir: &NodeKey) -> FsResult<Listing> {
        let fresh = |st: &State| {
            st.listings
                .get(dir)
                .filter(|l| l.fetched.elapsed() < self.settings.ttl)
                .cloned()
        };
        if let Some(l) = fresh(&self.state()) {
            return Ok(l);
        }
        let flight = self.flight(Flight::Dir(dir.clone()));
        let _g = flight.lock().await;
        if let Some(l) = fresh(&self.state()) {
            return Ok(l);
        }
        let loaded = match dir {
            // A page folder is named while its body is loaded (the body links to it).
            NodeKey::PageDir(id) => self.load_page(id).await.map(|_| None),
            other => self.load_children(other).await.map(Some),
        };
        match loaded {
            Ok(Some(children)) => {
                let mut st = self.state();
                let st = &mut *st;
                let names = st.names.entry(dir.clone()).or_default();
                let entries = build_entries(names, &children);
                let l = Listing {
                    entries,
                    fetched: Instant::now(),
                };
                st.listings.insert(dir.clone(), l.clone());
                Ok(l)
            }
            Ok(None) => self
                .state()
                .listings
                .get(dir)
                .cloned()
                .ok_or(FsError::NotFound),
            Err(e) => {
                let old = self.state().listings.get(dir).cloned();
                match old {
                    Some(l) => {
                        tracing::warn!(dir = ?dir, error = %e, "cannot refresh a listing; serving the last one");
                        Ok(l)
                    }
                    None => Err(e),
                }
            }
        }
    }

    pub(super) fn has_folder(st: &State, page_id: &str) -> bool {
        if st.made_dirs.contains(page_id) {
            return true;
        }
        match st.items.get(page_id) {
            Some((items, _)) => !items.is_empty(),
            None => st.index.get(page_id).is_some_and(|v| !v.is_empty()),
        }
    }

    pub(super) fn page_desc(st: &State, o: &Obj) -> ChildDesc {
        ChildDesc {
            key: NodeKey::PageFile(o.id.clone()),
            title: o.title.clone(),
            created_time: o.created_time.clone(),
            id: o.id.clone(),
            has_folder: Self::has_folder(st, &o.id),
        }
    }

    pub(super) async fn load_children(&self, dir: &NodeKey) -> FsResult<Vec<ChildDesc>> {
        match dir {
            NodeKey::Root => self.load_root().await,
            NodeKey::Database(id) => {
                let sources = self.database(id).await?;
                match sources.as_slice() {
                    [only] => self.rows(&only.id).await,
                    many => {
                        let st = self.state();
                        Ok(many
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
                            .collect())
                    }
                }
            }
            NodeKey::DataSource(id) => self.rows(id).await,
            _ => Err(FsError::NotDir),
        }
    }

    /// The roots: pages and databases whose parent is the workspace or not visible (the
    /// rules are [`RootIndex`]'s). A full search of pages and of data sources, and a read of
    /// each database shown at the root or not placed by its data sources.
    pub(super) async fn load_root(&self) -> FsResult<Vec<ChildDesc>> {
        let started = chrono::Utc::now();
        let pages: Vec<Page> = self
            .search_all("page")
            .await?
            .into_iter()
            .filter(|p: &Page| !p.in_trash && !p.archived)
            .collect();
        let sources: Vec<DataSource> = self
            .search_all("data_source")
            .await?
            .into_iter()
            .filter(|d: &DataSource| !d.in_trash)
            .collect();
        let mut ix = RootIndex::build(&pages, &sources);
        for db in ix.unplaced_dbs.clone() {
            self.database(&db).await?;
            let parent = self.state().objects.get(&db).and_then(|o| o.parent.clone());
            if let Some(p) = parent {
                ix.place_database(&db, &p);
            }
        }
        for db in &ix.root_dbs {
            self.database(db).await?;
        }
        let mut st = self.state();
        let now = Instant::now();
        for p in &pages {
            st.objects.insert(p.id.clone(), Obj::from_page(p));
        }
        for d in &sources {
            st.objects.insert(d.id.clone(), Obj::from_data_source(d));
            st.schemas.insert(d.id.clone(), (Arc::new(d.clone()), now));
        }
        st.index = std::mem::take(&mut ix.children);
        // A full search is a check of everything.
        st.sweep = Some((now, started));
        let mut out: Vec<ChildDesc> = pages
            .iter()
            .filter(|p| ix.at_root(&p.parent))
            .map(|p| Self::page_desc(&st, &Obj::from_page(p)))
            .collect();
        out.extend(ix.root_dbs.iter().filter_map(|db| {
            let o = st.objects.get(db)?;
            Some(ChildDesc {
                key: NodeKey::Database(db.clone()),
                title: o.title.clone(),
                created_time: o.created_time.clone(),
                id: db.clone(),
                has_folder: false,
            })
        }));
        Ok(out)
    }

    /// Every search result of one object type (`page` or `data_source`) that decodes as `T`.
    async fn search_all<T: serde::de::DeserializeOwned>(&self, object: &str) -> FsResult<Vec<T>> {
        let found: Vec<Value> = self
            .client
            .search(search_filter(object))
            .try_collect()
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|v| serde_json::from_value::<T>(v).ok())
            .collect())
    }

    /// Finds what changed since the last check with search sorted by `last_edited_time`,
    /// newest first, stopping once past the last check minus Notion's one-minute rounding:
    /// the cost is proportional to what changed, not to the workspace. Every other known
    /// page counts as checked now. Returns false when there is no earlier check to compare
    /// with (the caller then asks for the page itself).
    pub(super) async fn sweep(&self) -> FsResult<bool> {
        let flight = self.flight(Flight::Sweep);
        let _g = flight.lock().await;
        let since = match &self.state().sweep {
            Some((at, _)) if at.elapsed() < self.settings.ttl => return Ok(true),
            Some((_, wall)) => *wall,
            None => return Ok(false),
        };
        let started = chrono::Utc::now();
        let cutoff = since - chrono::Duration::seconds(60);
        let body = json!({
            "filter": {"property": "object", "value": "page"},
            "sort": {"direction": "descending", "timestamp": "last_edited_time"},
        });
        let mut changed = Vec::new();
        {
            let results = self.client.search(body);
            futures::pin_mut!(results);
            while let Some(v) = results.try_next().await? {
                let Ok(p) = serde_json::from_value::<Page>(v) else {
                    continue;
                };
                let edited = chrono::DateTime::parse_from_rfc3339(&p.last_edited_time)
                    .map(|t| t.with_timezone(&chrono::Utc));
                if matches!(edited, Ok(t) if t < cutoff) {
                    break;
                }
                changed.push(p);
            }
        }
        let mut st = self.state();
        let now = Instant::now();
        for o in st.objects.values_mut() {
            if o.kind == ObjKind::Page {
                o.fetched = now;
            }
        }
        for p in &changed {
            st.objects.insert(p.id.clone(), Obj::from_page(p));
        }
        st.sweep = Some((now, started));
        tracing::debug!(changed = changed.len(), "revalidated by search");
        Ok(true)
    }

    /// The data sources of a database (`GET /v1/databases/{id}` when stale).
    pub(super) async fn database(&self, id: &str) -> FsResult<Vec<DataSourceRef>> {
        if let Some((refs, t)) = self.state().databases.get(id) {
            if t.elapsed() < self.settings.ttl {
                return Ok(refs.clone());
            }
        }
        let db: Database = self.client.database(id).await?;
        let mut st = self.state();
        st.objects.insert(
            id.to_string(),
            Obj {
                id: db.id.clone(),
                kind: ObjKind::Database,
                title: db.title_text(),
                created_time: db.created_time.clone(),
                last_edited_time: db.last_edited_time.clone(),
                url: db.url.clone(),
                parent: Some(db.parent.clone()),
                page: None,
                fetched: Instant::now(),
            },
        );
        st.databases
            .insert(id.to_string(), (db.data_sources.clone(), Instant::now()));
        Ok(db.data_sources)
    }

    /// Rows of a data source (sorted by creation, as the API has no default order), plus
    /// its `.schema.yaml`.
    pub(super) async fn rows(&self, ds: &str) -> FsResult<Vec<ChildDesc>> {
        let body = json!({"sorts": [{"timestamp": "created_time", "direction": "ascending"}]});
        let rows = self.client.query(ds, body).await?;
        let mut st = self.state();
        let mut out = vec![ChildDesc {
            key: NodeKey::Schema(ds.to_string()),
            title: String::new(),
            created_time: String::new(),
            id: ds.to_string(),
            has_folder: false,
        }];
        for r in rows.iter().filter(|r| !r.in_trash && !r.archived) {
            let o = Obj::from_page(r);
            let mut d = Self::page_desc(&st, &o);
            d.has_folder |= !property_items(r).is_empty();
            out.push(d);
            st.objects.insert(r.id.clone(), o);
        }
        Ok(out)
    }

    /// A data source's schema (`GET /v1/data_sources/{id}` when stale).
    pub(super) async fn schema(&self, ds: &str) -> FsResult<Arc<DataSource>> {
        if let Some((s, t)) = self.state().schemas.get(ds) {
            if t.elapsed() < self.settings.ttl {
                return Ok(s.clone());
            }
        }
        let s = Arc::new(self.client.data_source(ds).await?);
        let mut st = self.state();
        st.schemas
            .insert(ds.to_string(), (s.clone(), Instant::now()));
        st.objects
            .entry(ds.to_string())
            .or_insert_with(|| Obj::from_data_source(&s));
        Ok(s)
    }
}

pub(super) fn search_filter(value: &str) -> Value {
    json!({"filter": {"property": "object", "value": value}})
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
