//! Namespace operations through the mount (notionfs(1), WRITES and
//! LAYOUT): creating a page or row (`create`, a rename of a local temp file over a new
//! name), `mkdir`, `rmdir`, and `rename` of pages (title) and across folders (move page).
//!
//! # Design
//! - **Create is immediate, content is journaled.** A new `T.md` (or a rename of a local temp
//!   file onto a new `T.md`) creates the page in Notion at once — one `POST /v1/pages` with
//!   only its title — so the file has a page id, an inode and a place from the start. The
//!   handle `create` returns is an ordinary write handle on that page: what is written goes
//!   through the normal save path (`flush` journals it before `close` returns, `close`
//!   schedules the push), exactly like a save of an existing page. A crash after `create`
//!   loses nothing that was accepted: the page exists and its content is in the journal.
//!   When Notion cannot be reached (or operations are queued already), the create — like a
//!   rename, move or trash — is queued instead and the page has a local id until it reaches
//!   Notion ([`super::offline`]).
//! - **Parents.** A page folder `P/` gives `parent: {page_id}`; a data source folder (or a
//!   database with a single data source) gives `parent: {data_source_id}` and the title goes
//!   into the schema's title property (a row). The root cannot hold new pages: Notion lets
//!   only public integrations create workspace-level pages ("For internal integrations, a
//!   page or data source parent is currently required"), so `create`/`mkdir` at the root and
//!   moves to the root fail with EPERM and a log line saying why. A database with several
//!   data sources holds their folders, not rows: EPERM there too.
//! - **Moves** use `POST /v1/pages/{id}/move` with a `page_id` or `data_source_id` parent (the
//!   only two the reference allows). A page's `T.md` and its folder `T/` are one page: moving
//!   either moves both. A new name at the same time also sets the title (one update-page
//!   call, after the move). Databases, data sources, `.schema.yaml` and attachments cannot be
//!   moved or renamed by the API: EPERM. A page cannot move into its own folder: EPERM.
//!   Pending saves of the page are pushed before it moves. A ` (2)` suffix is not part of
//!   a title: `mv "Notes (2).md" B/` keeps the title `Notes`, named in `B/` by its rules.
//! - **Folders.** `mkdir T` next to an existing `T.md` only shows its folder (no API call);
//!   elsewhere it creates the page `T` and shows its folder. `rmdir` of an empty page folder
//!   only hides it again (no API call); a folder with entries gives ENOTEMPTY.
//! - **Listings stay right at once.** After each operation the affected directories' listings
//!   are updated in place from the API's answer (not read again), with the sticky names of
//!   [`super::super::names`]: the new entry is visible at once, the old one gone, and no
//!   other entry is renamed. Kernel entries that changed meaning are invalidated.

use std::sync::Arc;

use serde_json::json;

use super::handles::WriteBuf;
use super::offline::NsOp;
use super::snapshot::LocalChange;
use super::{Attr, FsCore, Opened};
use crate::fs::content::Body;
use crate::fs::error::{FsError, FsResult};
use crate::fs::inode::{NodeKey, Place};
use crate::fs::render::{render_page, PathMap};
use crate::fs::tree::Obj;
use crate::notion::model::{Page, Parent};
use crate::writeback::SyncState;

/// Why a page cannot be created at the root.
pub(super) const ROOT_CREATE: &str = "create a page at the root: Notion requires a page or data source parent for internal integrations (no workspace-level pages)";
/// Why a page cannot be moved to the root.
pub(super) const ROOT_MOVE: &str =
    "move a page to the root: Notion's move API takes only a page or data source parent";
/// Why a multi-source database folder cannot hold pages.
pub(super) const MULTI_SOURCE: &str =
    "put a page in a database with several data sources: use one of its data source folders";

/// Which operation asks for a parent (the refusal reasons differ).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Create,
    Move,
}

/// The title a file name stem stands for: the inverse of [`crate::fs::names::sanitize`].
pub(super) fn title_of(stem: &str) -> String {
    match stem {
        "\u{2024}" => ".".to_string(),
        "\u{2024}\u{2024}" => "..".to_string(),
        _ => stem.replace('\u{2215}', "/"),
    }
}

/// The stem of a page's file name `T.md` (EINVAL for other names or an empty stem).
pub(super) fn page_stem(name: &str) -> FsResult<&str> {
    match name.strip_suffix(".md") {
        Some(s) if !s.is_empty() => Ok(s),
        Some(_) => Err(FsError::BadName("a page needs a title before .md")),
        None => Err(FsError::BadName("a page's file name ends in .md")),
    }
}

impl FsCore {
    /// Refuses what Notion cannot do, logging why once.
    pub(super) fn cannot(&self, why: &'static str) -> FsError {
        tracing::warn!(reason = why, "refused: Notion cannot do this");
        FsError::Cannot(why)
    }

    /// The Notion parent of a page placed in the directory `dir`.
    pub(super) async fn parent_for(&self, dir: &NodeKey, op: Op) -> FsResult<Parent> {
        match dir {
            NodeKey::Root => Err(self.cannot(if op == Op::Create {
                ROOT_CREATE
            } else {
                ROOT_MOVE
            })),
            NodeKey::PageDir(id) => Ok(Parent::page(id.clone())),
            NodeKey::DataSource(ds) => Ok(Parent::data_source(ds.clone())),
            NodeKey::Database(db) => match self.sources(db).await?.as_slice() {
                [only] => Ok(Parent::data_source(only.id.clone())),
                _ => Err(self.cannot(MULTI_SOURCE)),
            },
            _ => Err(FsError::NotDir),
        }
    }

    /// The key of the title property under `parent`: `title` for pages, the schema's title
    /// property name for rows.
    pub(super) async fn title_key(&self, parent: Option<&Parent>) -> FsResult<String> {
        let ds = parent
            .filter(|p| p.kind == "data_source_id")
            .and_then(|p| p.data_source_id.clone());
        let Some(ds) = ds else {
            return Ok("title".to_string());
        };
        let s = self.schema(&ds).await?;
        Ok(s.properties
            .iter()
            .find(|(_, p)| p.type_name() == "title")
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| "title".to_string()))
    }

    /// EEXIST unless `stem.md` and `stem` are free in `dir` (or belong to `page` itself).
    pub(super) async fn names_free(
        &self,
        dir: u64,
        stem: &str,
        page: Option<&str>,
    ) -> FsResult<()> {
        for n in [format!("{stem}.md"), stem.to_string()] {
            if let Ok(a) = self.lookup(dir, &n).await {
                let own = match self.key(a.ino)? {
                    NodeKey::PageFile(p) | NodeKey::PageDir(p) => Some(p),
                    _ => None,
                };
                if own.is_none() || own.as_deref() != page {
                    return Err(FsError::Exists);
                }
            }
        }
        Ok(())
    }

    /// Creates the page `stem` (title from the name) in the directory `dir` and shows it
    /// there; returns its id and the inode of its `.md`.
    pub(super) async fn create_page_in(&self, dir: u64, stem: &str) -> FsResult<(String, u64)> {
        let dkey = self.key(dir)?;
        if !dkey.is_dir() {
            return Err(FsError::NotDir);
        }
        let parent = self.parent_for(&dkey, Op::Create).await?;
        self.names_free(dir, stem, None).await?;
        let key = self.title_key(Some(&parent)).await?;
        let title = title_of(stem);
        if self.must_queue(&[parent.page_id.as_deref()]) {
            return self
                .create_queued(dir, &dkey, parent, key, stem, false)
                .await;
        }
        let created = self
            .client
            .create_page(json!({
                "parent": parent,
                "properties": {key.clone(): {"title": [{"type": "text", "text": {"content": title}}]}},
            }))
            .await;
        let p = match created {
            Ok(p) => p,
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, title = %title, "Notion cannot be reached: the create is queued");
                let maybe = e.maybe_applied();
                return self
                    .create_queued(dir, &dkey, parent, key, stem, maybe)
                    .await;
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(page = %p.id, title = %title, "created");
        self.install_new(&p).await?;
        self.note_local(LocalChange::Known(Box::new(p.clone())))
            .await;
        let ino = self.show_page(dir, &dkey, &p.id, stem);
        if let NodeKey::PageDir(pid) = &dkey {
            // The parent's body now ends with a link to it.
            self.reread_later(pid);
        }
        Ok((p.id.clone(), ino))
    }

    /// Records a page just created: known, empty, its (empty) folder listed, its body
    /// rendered (a row's front matter), the diff base empty.
    pub(super) async fn install_new(&self, p: &Page) -> FsResult<()> {
        let o = Obj::from_page(p);
        let schema = match p.parent.data_source_id.as_deref() {
            Some(ds) if o.is_row() => Some(self.schema(ds).await?),
            _ => None,
        };
        let data = render_page(o.page.as_ref(), schema.as_deref(), &[], &PathMap::default());
        let body = Arc::new(Body::new(data, p.last_edited_time.clone()));
        if !super::offline::is_local_id(&p.id) {
            // What a restart shows while Notion cannot be reached (nothing else holds it).
            let (disk, id, b) = (self.disk.clone(), p.id.clone(), body.clone());
            let saved =
                tokio::task::spawn_blocking(move || disk.save(&id, &b, &[], &PathMap::default()))
                    .await;
            if let Ok(Err(e)) = saved {
                tracing::warn!(page = %p.id, error = %e, "cannot write the disk cache");
            }
        }
        {
            let mut st = self.state();
            st.know_page(p);
            st.made_here.insert(p.id.clone());
            st.items.insert(p.id.clone(), Vec::new());
            st.bodies.put(p.id.clone(), body);
        }
        self.install_items(&p.id, &o.title, &[]);
        if let Some(w) = self.write_back() {
            w.record_created(p, schema).await;
        }
        Ok(())
    }

    /// Shows page `id` (known) in the directory `dir` (inode `dino`) with the sticky names
    /// of that directory; records the inodes' places and returns the inode of its `.md`.
    /// `wanted` is the stem the caller asked for (a different outcome is logged).
    pub(super) fn show_page(&self, dino: u64, dir: &NodeKey, id: &str, wanted: &str) -> u64 {
        self.state().dirty(dir.clone());
        let listing = self.rebuild_listing(dir);
        let file_key = NodeKey::PageFile(id.to_string());
        let dir_key = NodeKey::PageDir(id.to_string());
        let name_of = |k: &NodeKey| {
            listing
                .entries
                .iter()
                .find(|e| &e.key == k)
                .map(|e| e.name.clone())
        };
        let file = name_of(&file_key).unwrap_or_else(|| format!("{wanted}.md"));
        if file != format!("{wanted}.md") {
            tracing::warn!(page = %id, name = %file, wanted = %wanted, "listed under another name");
        }
        let ino = self.inodes.ino(
            &file_key,
            Some(Place {
                parent: dino,
                name: file,
            }),
        );
        if let (Some(folder), Some(_)) = (name_of(&dir_key), self.inodes.find(&dir_key)) {
            self.inodes.ino(
                &dir_key,
                Some(Place {
                    parent: dino,
                    name: folder,
                }),
            );
        }
        ino
    }

    /// This mount changed page `id`'s content in Notion (outside a save of its file): what
    /// the caches hold is not its content any more, whatever its edit time says.
    pub(super) fn changed_here(&self, id: &str) {
        self.disk.forget(id);
        self.reread_later(id);
    }

    /// Marks a page's rendered body for reading again on its next open (its content, links
    /// or front matter changed) and tells the kernel, unless a save of it is still pending
    /// (its bytes must stay shown).
    pub(super) fn reread_later(&self, id: &str) {
        if self
            .write_back()
            .is_some_and(|w| w.state(id) != crate::writeback::SyncState::Clean)
        {
            return;
        }
        self.state().bodies.expire(id);
        if let Some(ino) = self.inodes.find(&NodeKey::PageFile(id.to_string())) {
            self.state().cached_hash.remove(&ino);
            self.invalidate(ino);
        }
    }

    /// Creates `T.md` in `parent` as a new page (or row) and opens it for writing: see the
    /// module doc.
    pub(super) async fn create_page_file(
        &self,
        parent: u64,
        name: &str,
    ) -> FsResult<(Attr, Opened)> {
        let stem = page_stem(name)?;
        let _setup = self.offline.rekey_gate.read().await;
        let (page, ino) = self.create_page_in(parent, stem).await?;
        let base = self.body(&page).await?.data.clone();
        // A new file starts empty (a row's rendered front matter shows once closed, if
        // nothing was written).
        let o = self.open_handle(WriteBuf::handle(page, ino, Vec::new(), base));
        Ok((self.getattr(ino)?, o))
    }

    /// `mkdir T`: shows the folder of the page `T.md` beside it, or creates the page `T`
    /// (a row in a data source folder) and shows its folder.
    pub async fn mkdir(&self, parent: u64, name: &str) -> FsResult<Attr> {
        self.writer("mkdir")?;
        let dir = self.key(parent)?;
        if !dir.is_dir() {
            return Err(FsError::NotDir);
        }
        if self.lookup(parent, name).await.is_ok() {
            return Err(FsError::Exists);
        }
        // `T.md` is here and `T` is its reserved folder name: only show the folder.
        let owner = {
            let st = self.state();
            let names = st.names.get(&dir);
            st.listings.get(&dir).and_then(|l| {
                l.entries.iter().find_map(|e| match &e.key {
                    NodeKey::PageFile(id)
                        if names.is_some_and(|n| {
                            n.names_of(&e.key).get(1).map(String::as_str) == Some(name)
                        }) =>
                    {
                        Some((id.clone(), e.name.clone()))
                    }
                    _ => None,
                })
            })
        };
        let _setup = self.offline.rekey_gate.read().await;
        let page = match owner {
            Some((id, file)) => {
                self.inodes.ino(
                    &NodeKey::PageFile(id.clone()),
                    Some(Place { parent, name: file }),
                );
                // Its folder listing (empty, or it would be shown already).
                self.listing(&NodeKey::PageDir(id.clone())).await?;
                id
            }
            None => self.create_page_in(parent, name).await?.0,
        };
        {
            let mut st = self.state();
            st.made_dirs.insert(page.clone());
            self.dirty_showing(&mut st, &page);
        }
        // Only this mount knows the folder is wanted: keep that past a crash.
        self.note_local(LocalChange::Folder(page.clone())).await;
        let ino = self.inodes.ino(
            &NodeKey::PageDir(page),
            Some(Place {
                parent,
                name: name.to_string(),
            }),
        );
        self.getattr(ino)
    }

    /// `rmdir T`: hides an empty page folder (no API call). A folder with entries gives
    /// ENOTEMPTY; database and data source folders are never empty.
    pub async fn rmdir(&self, parent: u64, name: &str) -> FsResult<()> {
        self.writer("rmdir")?;
        let a = self.lookup(parent, name).await?;
        let key = self.key(a.ino)?;
        let page = match &key {
            NodeKey::PageDir(id) => id.clone(),
            NodeKey::Database(_) | NodeKey::DataSource(_) => return Err(FsError::NotEmpty),
            k if !k.is_dir() => return Err(FsError::NotDir),
            _ => return Err(self.write_denied("rmdir of this folder")),
        };
        let listing = self.listing(&key).await?;
        let has_local = self.state().locals.values().any(|l| l.parent == a.ino);
        if !listing.entries.is_empty() || has_local {
            return Err(FsError::NotEmpty);
        }
        let dir = self.key(parent)?;
        {
            let mut st = self.state();
            st.made_dirs.remove(&page);
            st.dirty(dir);
        }
        self.note_local(LocalChange::NoFolder(page.clone())).await;
        tracing::debug!(page = %page, "folder hidden");
        Ok(())
    }

    /// `rename` of a page's `T.md` or folder `T/`: a new name sets the title; another
    /// folder moves the page there (see the module doc).
    pub(super) async fn rename_page(
        &self,
        parent: u64,
        name: &str,
        new_parent: u64,
        new_name: &str,
    ) -> FsResult<()> {
        self.writer("rename")?;
        // As in `unlink`: a local id involved stays what it is until the tree shows the
        // result.
        let gate = self.offline.rekey_gate.read().await;
        let src = self.lookup(parent, name).await?;
        let (page, is_dir) = self.renamable(src.ino)?;
        let (old_stem, new_stem) = if is_dir {
            (name, new_name)
        } else {
            (
                name.strip_suffix(".md").unwrap_or(name),
                page_stem(new_name)?,
            )
        };
        if new_stem.is_empty() {
            return Err(FsError::BadName("empty name"));
        }
        let new_dir = self.key(new_parent)?;
        if !new_dir.is_dir() {
            return Err(FsError::NotDir);
        }
        let local_target =
            matches!(&new_dir, NodeKey::PageDir(p) if super::offline::is_local_id(p));
        let _gate = (super::offline::is_local_id(&page) || local_target).then_some(gate);
        let moving = parent != new_parent;
        if moving && self.inside(new_parent, &page) {
            return Err(self.cannot("move a page into its own folder"));
        }
        if !moving && new_stem == old_stem {
            return Ok(());
        }
        self.names_free(new_parent, new_stem, Some(&page)).await?;
        let target = match moving {
            true => Some(self.parent_for(&new_dir, Op::Move).await?),
            false => None,
        };
        let title = (new_stem != old_stem).then(|| title_of(new_stem));
        let old_parent_page = self
            .state()
            .objects
            .get(&page)
            .and_then(|o| o.parent.clone())
            .and_then(|p| p.page_id);
        let Some(p) = self.move_and_retitle(&page, target, title).await? else {
            return Ok(());
        };
        self.state().know_page(&p);
        self.show_page(new_parent, &new_dir, &page, new_stem);
        // The companion entry the kernel may still hold at the old place.
        let companion = if is_dir {
            format!("{old_stem}.md")
        } else {
            old_stem.to_string()
        };
        self.invalidate_entry(parent, &companion);
        // Links in bodies: its own (its folder's name), and its old and new parents'.
        self.reread_later(&page);
        if moving {
            for pid in [old_parent_page, p.parent.page_id.clone()]
                .into_iter()
                .flatten()
            {
                self.reread_later(&pid);
            }
        }
        Ok(())
    }

    /// The page whose `.md` or folder `ino` is (and which of the two), or why it cannot be
    /// renamed or moved.
    fn renamable(&self, ino: u64) -> FsResult<(String, bool)> {
        match self.key(ino)? {
            NodeKey::PageFile(p) => Ok((p, false)),
            NodeKey::PageDir(p) => Ok((p, true)),
            NodeKey::Database(_) | NodeKey::DataSource(_) => Err(self.cannot(
                "move or rename a database: Notion's API moves and renames pages only here",
            )),
            NodeKey::Schema(_) => Err(self.cannot("rename a data source's .schema.yaml")),
            NodeKey::Attachment(_) => {
                Err(self.cannot("move or rename an attachment (a block of its page)"))
            }
            _ => Err(FsError::NotFound),
        }
    }

    /// Notion's answer to a move or rename made online: the page (known to the tree, then
    /// logged, so a restart before the next snapshot shows it), or `None` when Notion
    /// cannot be reached (the change is to be queued).
    async fn answered(&self, r: Result<Page, crate::notion::ApiError>) -> FsResult<Option<Page>> {
        match r {
            Ok(p) => {
                // The tree first: a snapshot taken between the two would cover the logged
                // change (and empty the log) without holding it.
                self.state().know_page(&p);
                self.note_local(LocalChange::Known(Box::new(p.clone())))
                    .await;
                Ok(Some(p))
            }
            Err(e) if e.is_transient() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves `page` under `target` (its pending saves pushed first: the move changes how
    /// the file renders) and sets its `title`; the page as Notion answered last (or as it
    /// will be once the queued operations are sent), if anything was done. When Notion
    /// cannot be reached, or operations are queued already, the rest is queued
    /// ([`super::offline`]).
    async fn move_and_retitle(
        &self,
        page: &str,
        target: Option<Parent>,
        title: Option<String>,
    ) -> FsResult<Option<Page>> {
        let mut updated: Option<Page> = None;
        let target_id = target.as_ref().and_then(|t| t.page_id.clone());
        let mut queue = self.must_queue(&[Some(page), target_id.as_deref()]);
        if let Some(target) = target {
            if !queue {
                self.writer("rename")?.push_page(page).await;
                let _writing = self.writing(page);
                match self
                    .answered(self.client.move_page(page, &target).await)
                    .await?
                {
                    Some(p) => {
                        tracing::info!(page = %page, to = ?target.id(), "moved");
                        updated = Some(p);
                    }
                    None => queue = true,
                }
            }
            if queue {
                self.enqueue(
                    page,
                    &NsOp::Move {
                        parent: target.clone(),
                    },
                )
                .await?;
                updated = Some(self.show_queued(page, Some(&target), None)?);
            }
        }
        if let Some(title) = title {
            let parent_now = match &updated {
                Some(p) => Some(p.parent.clone()),
                None => self
                    .state()
                    .objects
                    .get(page)
                    .and_then(|o| o.parent.clone()),
            };
            let key = self.title_key(parent_now.as_ref()).await?;
            if !queue {
                let req = json!({"properties": {key.clone(): {"title": [{"type": "text", "text": {"content": title}}]}}});
                let _writing = self.writing(page);
                match self
                    .answered(self.client.update_page(page, req).await)
                    .await?
                {
                    Some(p) => {
                        tracing::info!(page = %page, title = %title, "renamed");
                        updated = Some(p);
                    }
                    None => queue = true,
                }
            }
            if queue {
                self.enqueue(
                    page,
                    &NsOp::Rename {
                        title_key: key.clone(),
                        title: title.clone(),
                    },
                )
                .await?;
                updated = Some(self.show_queued(page, None, Some((&key, &title)))?);
            }
        }
        Ok(updated)
    }

    /// Notes a write of `page` under way until the guard is dropped: copies of it read
    /// before it ended are not trusted over its answer ([`crate::writeback::marks`]).
    pub(super) fn writing(&self, page: &str) -> Option<crate::writeback::marks::Writing<'_>> {
        self.write_back().map(|w| w.marks().begin(page))
    }

    /// Whether the directory `dir` is the folder of `page` or inside it.
    pub(super) fn inside(&self, mut dir: u64, page: &str) -> bool {
        for _ in 0..256 {
            match self.inodes.key(dir) {
                Some(NodeKey::PageDir(p)) if p == page => return true,
                Some(NodeKey::Root) | None => return false,
                _ => {}
            }
            match self.inodes.place(dir) {
                Some(pl) => dir = pl.parent,
                None => return false,
            }
        }
        false
    }
}

impl FsCore {
    /// Whether `name` in the directory `parent` is (or is to be) a local file: an editor's
    /// temp, swap or backup name ([`crate::writeback::is_dropping`]) that the tree does not
    /// know as anything else. What a name is decides, not how it looks: a page titled
    /// `.#notes` or `draft.md.tmp.1234` is the page file `.#notes.md` /
    /// `draft.md.tmp.1234.md`, and `sed -i` or an editor's atomic save renamed over it saves
    /// the page.
    pub(super) async fn is_local_name(&self, parent: u64, name: &str) -> bool {
        if !crate::writeback::is_dropping(name) {
            return false;
        }
        if self.local_ino(parent, name).is_some() {
            return true;
        }
        let dir = match self.key(parent) {
            Ok(k) if k.is_dir() => k,
            _ => return true,
        };
        match self.listing(&dir).await {
            Ok(l) => l.get(name).is_none(),
            Err(e) => {
                tracing::debug!(name, error = %e, "cannot list the folder; an editor's name stays local");
                true
            }
        }
    }

    /// Creates `name` in `parent` and opens it: editor droppings
    /// (`FsCore::is_local_name`) live in memory only; `T.md` creates a page (a row in
    /// a data source folder; see the module doc); any other file in a page's
    /// folder becomes an attachment (see [`crate::writeback::upload`]).
    pub async fn create(&self, parent: u64, name: &str) -> FsResult<(Attr, Opened)> {
        self.writer("create")?;
        if !self.is_local_name(parent, name).await {
            if name.ends_with(".md") {
                return self.create_page_file(parent, name).await;
            }
            return self.create_attachment(parent, name).await;
        }
        if !self.key(parent)?.is_dir() {
            return Err(FsError::NotDir);
        }
        let ino = match self.local_ino(parent, name) {
            Some(i) => i,
            None => self.new_local(parent, name, Vec::new()),
        };
        let o = self.open_local(ino);
        Ok((self.getattr(ino)?, o))
    }

    /// Removes `name` from `parent`: a local file is dropped; a page's `T.md` moves the
    /// page to Notion's trash (its folder goes with it); an attachment's block is deleted.
    /// Anything else is refused.
    pub async fn unlink(&self, parent: u64, name: &str) -> FsResult<()> {
        // An upload that just finished is an attachment now.
        self.apply_uploads();
        if let Some(i) = self.local_ino(parent, name) {
            self.forget_attachment(i).await;
            self.state().locals.remove(&i);
            return Ok(());
        }
        self.writer("unlink")?;
        // A page whose create is queued keeps its local id until it leaves the tree: the
        // create's answer moving it to Notion's id midway would leave it shown.
        let gate = self.offline.rekey_gate.read().await;
        let target = self.lookup(parent, name).await?;
        let page = match self.key(target.ino)? {
            NodeKey::PageFile(page) => page,
            NodeKey::Attachment(block) => {
                drop(gate);
                return self.remove_attachment(parent, name, &block).await;
            }
            _ => return Err(self.write_denied("unlink of this entry")),
        };
        let _gate = super::offline::is_local_id(&page).then_some(gate);
        // A save still waiting for its push is moot: flush it first so nothing is lost
        // from the trashed page's history. Queued, the sender does that before the trash.
        let w = self.writer("unlink")?.clone();
        let mut queue = self.must_queue(&[Some(&page)]);
        if !queue {
            w.push_page(&page).await;
            self.refuse_unsynced_trash(&w, &page, false)
                .or_else(|e| match e {
                    // Notion cannot be reached: the save and the trash wait together.
                    FsError::Unsynced(_) if w.state(&page) == SyncState::Pending => {
                        queue = true;
                        Ok(())
                    }
                    e => Err(e),
                })?;
        }
        if !queue {
            match self.trash_in_notion(&page).await {
                Ok(()) => {}
                Err(e) if e.is_transient() => queue = true,
                Err(e) => return Err(e.into()),
            }
        }
        if queue {
            self.refuse_unsynced_trash(&w, &page, true)?;
            self.enqueue(&page, &NsOp::Trash).await?;
        }
        // It leaves the tree with its folder (the kernel may hold that entry) and what is
        // in it; the parent's body, which links to it, is read again.
        self.forget_object(&page);
        self.note_local(LocalChange::Gone(page.clone())).await;
        if let Some(stem) = name.strip_suffix(".md") {
            self.invalidate_entry(parent, stem);
        }
        tracing::info!(page = %page, "moved to the trash");
        Ok(())
    }

    /// `rm` of a page whose last save is not in Notion (its push failed, is still being
    /// retried, or its journal record was set aside) is refused with EBUSY: trashing it would
    /// leave that save behind with no page to show it on. A save that pushes (or a conflict
    /// copy, which keeps the local version) lets `rm` through; so does a save still on its
    /// way when `queued` (the trash is queued behind it).
    pub(super) fn refuse_unsynced_trash(
        &self,
        w: &crate::writeback::Writer,
        page: &str,
        queued: bool,
    ) -> FsResult<()> {
        let why = match (w.journal().set_aside_for(page).first(), w.state(page)) {
            (Some(s), _) => s.describe(),
            (None, SyncState::Failed(r)) => format!("its last save failed: {r}"),
            (None, SyncState::Pending) if !queued && w.is_unsynced(page) => {
                "its last save is not in Notion yet".to_string()
            }
            _ => return Ok(()),
        };
        tracing::warn!(
            page,
            reason = %why,
            "not moved to the trash: save the file so its content reaches Notion (or resolve the reason), then remove it"
        );
        Err(FsError::Unsynced(why))
    }

    /// Renames a local file: to another dropping name, or over an existing page's `.md`
    /// (an editor's atomic save: a save of that page).
    pub async fn rename(
        &self,
        parent: u64,
        name: &str,
        new_parent: u64,
        new_name: &str,
    ) -> FsResult<()> {
        let Some(src) = self.local_ino(parent, name) else {
            if self.is_local_name(new_parent, new_name).await {
                return self.backup_page(parent, name, new_parent, new_name).await;
            }
            return self.rename_page(parent, name, new_parent, new_name).await;
        };
        if self.is_local_name(new_parent, new_name).await {
            if let Some(old) = self.local_ino(new_parent, new_name) {
                self.state().locals.remove(&old);
            }
            if let Some(l) = self.state().locals.get_mut(&src) {
                l.parent = new_parent;
                l.name = new_name.to_string();
            }
            return Ok(());
        }
        let target = match self.lookup(new_parent, new_name).await {
            // A temp file renamed onto a new `T.md`: a new page with that content.
            Err(FsError::NotFound) if new_name.ends_with(".md") => {
                return self.rename_local_to_new(src, new_parent, new_name).await;
            }
            t => t?,
        };
        let NodeKey::PageFile(page) = self.key(target.ino)? else {
            return Err(self.write_denied("rename over this entry"));
        };
        self.save_local_as(src, &page, target.ino).await
    }

    /// Saves the local file `src` as the content of `page` (file `ino`): journaled before
    /// this returns, the local file gone (its inode now names the page), the push scheduled.
    pub(super) async fn save_local_as(&self, src: u64, page: &str, ino: u64) -> FsResult<()> {
        let base = self.body(page).await?.data.clone();
        let data = self.local_contents(src)?;
        let page = self.accept(page, ino, data, base).await?;
        self.state().locals.remove(&src);
        self.aliases
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(src, NodeKey::PageFile(page.clone()));
        self.invalidate(src);
        // (Saved under a local id, the page's create schedules it once answered.)
        self.writer("save")?.schedule(&self.current_id(&page));
        Ok(())
    }

    /// `mv T.md T.md~` (emacs's backup before a save): the backup becomes a local file
    /// holding the page's content and the page stays where it is, so the save that follows
    /// (`T.md` written anew) updates it rather than creating another page.
    pub(super) async fn backup_page(
        &self,
        parent: u64,
        name: &str,
        new_parent: u64,
        new_name: &str,
    ) -> FsResult<()> {
        let src = self.lookup(parent, name).await?;
        let NodeKey::PageFile(page) = self.key(src.ino)? else {
            return Err(FsError::Unsupported(
                "rename of this entry to an editor's file name",
            ));
        };
        let data = self.body(&page).await?.data.as_ref().clone();
        if let Some(old) = self.local_ino(new_parent, new_name) {
            self.state().locals.remove(&old);
        }
        self.new_local(new_parent, new_name, data);
        // The kernel moved its entry for `T.md` to the new name: both are looked up again.
        self.invalidate_entry(parent, name);
        self.invalidate_entry(new_parent, new_name);
        tracing::debug!(page = %page, backup = %new_name, "local backup copy of a page");
        Ok(())
    }

    /// A local file renamed onto a new `T.md`: creates the page and saves the file's bytes
    /// as its content (journaled before this returns).
    pub(super) async fn rename_local_to_new(
        &self,
        src: u64,
        new_parent: u64,
        new_name: &str,
    ) -> FsResult<()> {
        let stem = new_name.strip_suffix(".md").unwrap_or(new_name);
        if stem.is_empty() {
            return Err(FsError::BadName("a page needs a title before .md"));
        }
        if !self.state().locals.contains_key(&src) {
            return Err(FsError::NotFound);
        }
        let (page, ino) = {
            let _setup = self.offline.rekey_gate.read().await;
            self.create_page_in(new_parent, stem).await?
        };
        // (The save takes the gate itself: the page may be Notion's by now.)
        self.save_local_as(src, &page, ino).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_names() {
        assert_eq!(title_of("Q3\u{2215}Q4"), "Q3/Q4");
        assert_eq!(title_of("\u{2024}\u{2024}"), "..");
        assert_eq!(title_of("Plain"), "Plain");
        assert_eq!(page_stem("T.md").unwrap(), "T");
        assert!(matches!(page_stem(".md"), Err(FsError::BadName(_))));
        assert!(matches!(page_stem("T.txt"), Err(FsError::BadName(_))));
    }
}
