//! The in-memory workspace: pages, blocks, databases, data sources, users, comments and
//! files, plus the rendering of each into the exact JSON shapes of the API reference.
//!
//! Objects are kept as small records whose type-specific payloads are `serde_json::Value`s
//! already in response shape. A page is also a block (`child_page`) and a database a
//! `child_database` block: the parent's `children` list holds their ids and the block view is
//! rendered from the page/database record, so there is a single source of truth.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use super::files::FileStore;
use super::util::{minute_iso, ApiError, ApiResult};
use super::validate::NewBlock;

/// A page record.
#[derive(Debug, Clone)]
pub struct Page {
    pub id: String,
    /// Parent object in response shape.
    pub parent: Value,
    /// Property values keyed by property id: `{"type": t, t: value}`.
    pub props: Map<String, Value>,
    pub icon: Value,
    pub cover: Value,
    pub created: DateTime<Utc>,
    pub edited: DateTime<Utc>,
    pub created_by: String,
    pub edited_by: String,
    pub in_trash: bool,
    pub is_locked: bool,
}

/// A block record (never a page or database).
#[derive(Debug, Clone)]
pub struct Block {
    pub id: String,
    pub parent: Value,
    pub ty: String,
    /// The type object in response shape (hosted files as `{"hosted": key}`).
    pub data: Value,
    pub created: DateTime<Utc>,
    pub edited: DateTime<Utc>,
    pub created_by: String,
    pub edited_by: String,
    pub in_trash: bool,
}

/// A database (container) record.
#[derive(Debug, Clone)]
pub struct Database {
    pub id: String,
    pub parent: Value,
    pub title: Value,
    pub description: Value,
    pub icon: Value,
    pub cover: Value,
    pub is_inline: bool,
    pub in_trash: bool,
    pub is_locked: bool,
    pub data_sources: Vec<String>,
    pub created: DateTime<Utc>,
    pub edited: DateTime<Utc>,
    pub created_by: String,
    pub edited_by: String,
}

/// A data source record.
#[derive(Debug, Clone)]
pub struct DataSource {
    pub id: String,
    pub database_id: String,
    pub title: Value,
    pub description: Value,
    pub icon: Value,
    /// Schema keyed by property name: `{"id","name","description","type", type: config}`.
    pub properties: Map<String, Value>,
    pub in_trash: bool,
    pub created: DateTime<Utc>,
    pub edited: DateTime<Utc>,
    pub created_by: String,
    pub edited_by: String,
    /// Next `unique_id` number per property id.
    pub counters: HashMap<String, u64>,
}

/// What an id refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Page,
    Database,
    DataSource,
    Block,
}

/// Where to insert new children in a parent's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    Start,
    End,
    After(String),
}

/// The whole workspace.
#[derive(Debug)]
pub struct Store {
    /// Added to the wall clock (tests advance it).
    pub clock_offset: Duration,
    pub workspace_name: String,
    pub workspace_id: String,
    /// The integration's bot user id.
    pub bot_id: String,
    pub bot_name: String,
    /// Person users (full user objects), in listing order.
    pub users: Vec<Value>,
    pub pages: HashMap<String, Page>,
    pub blocks: HashMap<String, Block>,
    pub databases: HashMap<String, Database>,
    pub data_sources: HashMap<String, DataSource>,
    /// Ordered child ids of pages and blocks (pages and databases included).
    pub children: HashMap<String, Vec<String>>,
    /// Creation order of every page (search / query default order).
    pub page_order: Vec<String>,
    pub files: FileStore,
    /// Comment objects in creation order.
    pub comments: Vec<Value>,
}

/// Plain text of a rich text array.
pub fn plain(rt: &Value) -> String {
    rt.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.get("plain_text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// A partial user `{"object":"user","id"}`.
pub fn partial_user(id: &str) -> Value {
    json!({"object": "user", "id": id})
}

/// Rich text array for a plain string.
pub fn text_rt(s: &str) -> Value {
    if s.is_empty() {
        return json!([]);
    }
    json!([{"type": "text", "text": {"content": s, "link": null},
        "annotations": {"bold": false, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"},
        "plain_text": s, "href": null}])
}

/// The id referenced by a parent object (`page_id`, `block_id`, `database_id`, `data_source_id`).
pub fn parent_ref(parent: &Value) -> Option<String> {
    parent_id(parent).map(str::to_string)
}

/// [`parent_ref`] without copying the id.
pub fn parent_id(parent: &Value) -> Option<&str> {
    let t = parent.get("type")?.as_str()?;
    parent.get(t)?.as_str()
}

impl Store {
    /// An empty workspace.
    pub fn new(workspace_name: &str, workspace_id: &str, bot_id: &str, bot_name: &str) -> Self {
        Store {
            clock_offset: Duration::zero(),
            workspace_name: workspace_name.into(),
            workspace_id: workspace_id.into(),
            bot_id: bot_id.into(),
            bot_name: bot_name.into(),
            users: Vec::new(),
            pages: HashMap::new(),
            blocks: HashMap::new(),
            databases: HashMap::new(),
            data_sources: HashMap::new(),
            children: HashMap::new(),
            page_order: Vec::new(),
            files: FileStore::new(),
            comments: Vec::new(),
        }
    }

    /// The emulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }

    /// What `id` is, if anything.
    pub fn kind(&self, id: &str) -> Option<Kind> {
        if self.pages.contains_key(id) {
            Some(Kind::Page)
        } else if self.blocks.contains_key(id) {
            Some(Kind::Block)
        } else if self.databases.contains_key(id) {
            Some(Kind::Database)
        } else if self.data_sources.contains_key(id) {
            Some(Kind::DataSource)
        } else {
            None
        }
    }

    /// The bot user object as `/v1/users/me` returns it.
    pub fn bot_user(&self) -> Value {
        json!({
            "object": "user",
            "id": self.bot_id,
            "name": self.bot_name,
            "avatar_url": null,
            "type": "bot",
            "bot": {
                "owner": {"type": "workspace", "workspace": true},
                "workspace_name": self.workspace_name,
                "workspace_id": self.workspace_id,
                "workspace_limits": {"max_file_upload_size_in_bytes": self.files.max_file_size},
            },
        })
    }

    /// A person user by id.
    pub fn person(&self, id: &str) -> Option<&Value> {
        self.users.iter().find(|u| u["id"] == id)
    }

    /// Any user (person or the bot) by id, as `GET /v1/users/{id}` returns it.
    pub fn user(&self, id: &str) -> Option<Value> {
        if id == self.bot_id {
            return Some(self.bot_user());
        }
        self.person(id).cloned()
    }

    /// The plain title of a page.
    pub fn page_title_plain(&self, p: &Page) -> String {
        self.page_title_ref(p).map(plain).unwrap_or_default()
    }

    /// The title rich text of a page.
    pub fn page_title(&self, p: &Page) -> Value {
        self.page_title_ref(p).cloned().unwrap_or_else(|| json!([]))
    }

    /// The title rich text of a page, borrowed (`None` when it has none).
    fn page_title_ref<'s>(&'s self, p: &'s Page) -> Option<&'s Value> {
        if let Some(v) = p.props.get("title").and_then(|t| t.get("title")) {
            return Some(v);
        }
        // data source rows: the title property may have another id
        let ds = self.row_source(p)?;
        ds.properties
            .values()
            .filter(|schema| schema["type"] == "title")
            .filter_map(|schema| schema["id"].as_str())
            .find_map(|id| p.props.get(id).and_then(|v| v.get("title")))
    }

    /// The data source a row page belongs to.
    pub fn row_source(&self, p: &Page) -> Option<&DataSource> {
        if p.parent["type"] == "data_source_id" {
            p.parent["data_source_id"]
                .as_str()
                .and_then(|id| self.data_sources.get(id))
        } else {
            None
        }
    }

    /// Whether `id` or one of its ancestors is in the trash.
    pub fn trashed(&self, id: &str) -> bool {
        let mut cur = Some(id);
        // a guard against a (never expected) parent cycle
        for _ in 0..10_000 {
            let Some(c) = cur else { return false };
            let (own, parent) = if let Some(p) = self.pages.get(c) {
                (p.in_trash, parent_id(&p.parent))
            } else if let Some(b) = self.blocks.get(c) {
                (b.in_trash, parent_id(&b.parent))
            } else if let Some(d) = self.databases.get(c) {
                (d.in_trash, parent_id(&d.parent))
            } else if let Some(s) = self.data_sources.get(c) {
                (s.in_trash, Some(s.database_id.as_str()))
            } else {
                (false, None)
            };
            if own {
                return true;
            }
            cur = parent;
        }
        false
    }

    /// Whose child list `id` shows: a duplicate synced block shows its original's.
    fn child_source<'s>(&'s self, id: &'s str) -> &'s str {
        self.blocks
            .get(id)
            .filter(|b| b.ty == "synced_block")
            .and_then(|b| b.data["synced_from"]["block_id"].as_str())
            .unwrap_or(id)
    }

    /// Whether a child id is a live page, block or database.
    fn child_visible(&self, c: &str) -> bool {
        if let Some(p) = self.pages.get(c) {
            !p.in_trash
        } else if let Some(b) = self.blocks.get(c) {
            !b.in_trash
        } else if let Some(d) = self.databases.get(c) {
            !d.in_trash
        } else {
            false
        }
    }

    /// The visible (non-trashed) children of a page or block, in order.
    pub fn visible_children(&self, id: &str) -> Vec<String> {
        self.children
            .get(self.child_source(id))
            .map(|ids| {
                ids.iter()
                    .filter(|c| self.child_visible(c))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a page or block has a visible child (without listing them all).
    pub fn has_visible_children(&self, id: &str) -> bool {
        self.children
            .get(self.child_source(id))
            .is_some_and(|ids| ids.iter().any(|c| self.child_visible(c)))
    }

    /// Renders any block-like id (block, page as `child_page`, database as `child_database`).
    pub fn render_block(&self, id: &str) -> Option<Value> {
        let has_children = self.has_visible_children(id);
        let (parent, created, edited, cby, eby, trashed, ty, data) =
            if let Some(b) = self.blocks.get(id) {
                (
                    b.parent.clone(),
                    b.created,
                    b.edited,
                    &b.created_by,
                    &b.edited_by,
                    self.trashed(id),
                    b.ty.clone(),
                    b.data.clone(),
                )
            } else if let Some(p) = self.pages.get(id) {
                let parent = p.parent.clone();
                (
                    parent,
                    p.created,
                    p.edited,
                    &p.created_by,
                    &p.edited_by,
                    self.trashed(id),
                    "child_page".to_string(),
                    json!({"title": self.page_title_plain(p)}),
                )
            } else if let Some(d) = self.databases.get(id) {
                (
                    d.parent.clone(),
                    d.created,
                    d.edited,
                    &d.created_by,
                    &d.edited_by,
                    self.trashed(id),
                    "child_database".to_string(),
                    json!({"title": plain(&d.title)}),
                )
            } else {
                return None;
            };
        let mut m = Map::new();
        m.insert("object".into(), json!("block"));
        m.insert("id".into(), json!(id));
        m.insert("parent".into(), parent);
        m.insert("created_time".into(), json!(minute_iso(created)));
        m.insert("last_edited_time".into(), json!(minute_iso(edited)));
        m.insert("created_by".into(), partial_user(cby));
        m.insert("last_edited_by".into(), partial_user(eby));
        m.insert("has_children".into(), json!(has_children));
        m.insert("archived".into(), json!(trashed));
        m.insert("in_trash".into(), json!(trashed));
        m.insert("type".into(), json!(ty));
        m.insert(ty, data);
        Some(Value::Object(m))
    }

    /// The `notion.so` URL of a page or database.
    pub fn url_for(&self, title: &str, id: &str) -> String {
        let slug: String = title
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let hex = id.replace('-', "");
        if slug.is_empty() {
            format!("https://www.notion.so/{hex}")
        } else {
            format!("https://www.notion.so/{slug}-{hex}")
        }
    }

    /// Renders a page object (references capped at 25 per property).
    pub fn render_page(&self, id: &str) -> Option<Value> {
        let p = self.pages.get(id)?;
        let trashed = self.trashed(id);
        let props = self.render_properties(p, true);
        let title = self.page_title_plain(p);
        Some(json!({
            "object": "page",
            "id": p.id,
            "created_time": minute_iso(p.created),
            "last_edited_time": minute_iso(p.edited),
            "created_by": partial_user(&p.created_by),
            "last_edited_by": partial_user(&p.edited_by),
            "cover": p.cover,
            "icon": p.icon,
            "parent": p.parent,
            "archived": trashed,
            "in_trash": trashed,
            "is_locked": p.is_locked,
            "properties": props,
            "url": self.url_for(&title, &p.id),
            "public_url": null,
        }))
    }

    /// Renders the `properties` object of a page.
    pub fn render_properties(&self, p: &Page, cap: bool) -> Value {
        let mut out = Map::new();
        match self.row_source(p) {
            None => {
                let t = p
                    .props
                    .get("title")
                    .and_then(|v| v.get("title"))
                    .cloned()
                    .unwrap_or(json!([]));
                out.insert(
                    "title".into(),
                    json!({"id": "title", "type": "title", "title": t}),
                );
            }
            Some(ds) => {
                for (name, schema) in &ds.properties {
                    out.insert(name.clone(), self.render_property(p, ds, schema, cap));
                }
            }
        }
        Value::Object(out)
    }

    /// One property value `{id, type, <type>: value}` of a row.
    pub fn render_property(&self, p: &Page, ds: &DataSource, schema: &Value, cap: bool) -> Value {
        let pid = schema["id"].as_str().unwrap_or_default();
        let ty = schema["type"].as_str().unwrap_or_default();
        let stored = p
            .props
            .get(pid)
            .filter(|v| v["type"] == ty)
            .map(|v| v[ty].clone());
        let value = match ty {
            "created_time" => json!(minute_iso(p.created)),
            "last_edited_time" => json!(minute_iso(p.edited)),
            "created_by" => self
                .user(&p.created_by)
                .unwrap_or_else(|| partial_user(&p.created_by)),
            "last_edited_by" => self
                .user(&p.edited_by)
                .unwrap_or_else(|| partial_user(&p.edited_by)),
            "rollup" => self.compute_rollup(p, ds, schema),
            "formula" => self
                .compute_formula(p, ds, schema)
                .or(stored)
                .unwrap_or(json!({"type": "string", "string": null})),
            "verification" => {
                stored.unwrap_or(json!({"state": "unverified", "verified_by": null, "date": null}))
            }
            "checkbox" => stored.unwrap_or(json!(false)),
            "title" | "rich_text" | "multi_select" | "files" | "people" | "relation" => {
                let mut v = stored.unwrap_or(json!([]));
                if ty == "people" {
                    if let Some(a) = v.as_array_mut() {
                        for u in a.iter_mut() {
                            if let Some(full) = u["id"].as_str().and_then(|id| self.user(id)) {
                                *u = full;
                            }
                        }
                    }
                }
                v
            }
            "place" | "button" => Value::Null,
            _ => stored.unwrap_or(Value::Null),
        };
        let mut m = Map::new();
        m.insert("id".into(), json!(pid));
        m.insert("type".into(), json!(ty));
        if ty == "relation" {
            let all = value.as_array().cloned().unwrap_or_default();
            let more = cap && all.len() > 25;
            let shown: Vec<Value> = if cap {
                all.into_iter().take(25).collect()
            } else {
                all
            };
            m.insert("relation".into(), Value::Array(shown));
            m.insert("has_more".into(), json!(more));
        } else if cap && ty == "people" {
            let shown: Vec<Value> = value
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .take(25)
                .collect();
            m.insert(ty.into(), Value::Array(shown));
        } else {
            m.insert(ty.into(), value);
        }
        Value::Object(m)
    }

    /// Evaluates the small formula subset `prop("Name")` and `prop("Name") OP number`
    /// (OP one of `+ - * /`) over a number property; other formulas keep their stored value.
    fn compute_formula(&self, p: &Page, ds: &DataSource, schema: &Value) -> Option<Value> {
        let expr = schema["formula"]["expression"].as_str()?.trim();
        let rest = expr.strip_prefix("prop(\"")?;
        let (name, tail) = rest.split_once("\")")?;
        let (_, prop) = Self::find_prop(ds, name)?;
        if prop["type"] != "number" {
            return None;
        }
        let pid = prop["id"].as_str()?;
        let x = p.props.get(pid).and_then(|v| v["number"].as_f64());
        let tail = tail.trim();
        let result = if tail.is_empty() {
            x
        } else {
            let (op, num) = tail.split_at(1);
            let k: f64 = num.trim().parse().ok()?;
            x.and_then(|x| match op {
                "+" => Some(x + k),
                "-" => Some(x - k),
                "*" => Some(x * k),
                "/" if k != 0.0 => Some(x / k),
                _ => None,
            })
        };
        let number = match result {
            Some(r) if r.fract() == 0.0 && r.abs() < 9e15 => json!(r as i64),
            Some(r) => json!(r),
            None => Value::Null,
        };
        Some(json!({"type": "number", "number": number}))
    }

    fn compute_rollup(&self, p: &Page, ds: &DataSource, schema: &Value) -> Value {
        let cfg = &schema["rollup"];
        let func = cfg["function"].as_str().unwrap_or("count");
        let rel_name = cfg["relation_property_name"].as_str().unwrap_or_default();
        let rel_id = ds
            .properties
            .get(rel_name)
            .and_then(|s| s["id"].as_str())
            .or_else(|| cfg["relation_property_id"].as_str())
            .unwrap_or_default();
        let related: Vec<String> = p
            .props
            .get(rel_id)
            .and_then(|v| v["relation"].as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        match func {
            "count" | "count_values" | "count_all" => {
                json!({"type": "number", "number": related.len(), "function": func})
            }
            "show_original" => {
                let items: Vec<Value> = related
                    .iter()
                    .filter_map(|id| self.pages.get(id))
                    .map(|rp| json!({"type": "title", "title": self.page_title(rp)}))
                    .collect();
                json!({"type": "array", "array": items, "function": func})
            }
            _ => json!({"type": "number", "number": null, "function": func}),
        }
    }

    /// Renders a database container.
    pub fn render_database(&self, id: &str) -> Option<Value> {
        let d = self.databases.get(id)?;
        let trashed = self.trashed(id);
        let sources: Vec<Value> = d
            .data_sources
            .iter()
            .filter_map(|s| self.data_sources.get(s))
            .filter(|s| !s.in_trash)
            .map(|s| json!({"id": s.id, "name": plain(&s.title)}))
            .collect();
        Some(json!({
            "object": "database",
            "id": d.id,
            "title": d.title,
            "description": d.description,
            "parent": d.parent,
            "is_inline": d.is_inline,
            "in_trash": trashed,
            "archived": trashed,
            "is_locked": d.is_locked,
            "created_time": minute_iso(d.created),
            "last_edited_time": minute_iso(d.edited),
            "created_by": partial_user(&d.created_by),
            "last_edited_by": partial_user(&d.edited_by),
            "data_sources": sources,
            "icon": d.icon,
            "cover": d.cover,
            "url": self.url_for("", &d.id),
            "public_url": null,
        }))
    }

    /// Renders a data source.
    pub fn render_data_source(&self, id: &str) -> Option<Value> {
        let s = self.data_sources.get(id)?;
        let d = self.databases.get(&s.database_id)?;
        let trashed = self.trashed(id);
        Some(json!({
            "object": "data_source",
            "id": s.id,
            "created_time": minute_iso(s.created),
            "last_edited_time": minute_iso(s.edited),
            "created_by": partial_user(&s.created_by),
            "last_edited_by": partial_user(&s.edited_by),
            "properties": s.properties,
            "parent": {"type": "database_id", "database_id": d.id},
            "database_parent": d.parent,
            "title": s.title,
            "description": s.description,
            "icon": s.icon,
            "archived": trashed,
            "in_trash": trashed,
        }))
    }

    /// Inserts `ids` into `parent`'s child list at `pos`.
    pub fn place_children(&mut self, parent: &str, ids: &[String], pos: &Position) {
        let list = self.children.entry(parent.to_string()).or_default();
        let at = match pos {
            Position::Start => 0,
            Position::End => list.len(),
            Position::After(a) => list
                .iter()
                .position(|x| x == a)
                .map(|i| i + 1)
                .unwrap_or(list.len()),
        };
        for (i, id) in ids.iter().enumerate() {
            list.insert(at + i, id.clone());
        }
    }

    /// Removes `id` from `parent`'s child list.
    pub fn unplace(&mut self, parent: &str, id: &str) {
        if let Some(list) = self.children.get_mut(parent) {
            list.retain(|x| x != id);
        }
    }

    /// Creates a block tree under `parent_id`; returns the new top-level id.
    pub fn create_block_tree(
        &mut self,
        parent_id: &str,
        nb: NewBlock,
        author: &str,
        at: DateTime<Utc>,
    ) -> String {
        let id = nb.id.clone().unwrap_or_else(super::util::new_uuid);
        let parent = if self.pages.contains_key(parent_id) {
            json!({"type": "page_id", "page_id": parent_id})
        } else {
            json!({"type": "block_id", "block_id": parent_id})
        };
        self.blocks.insert(
            id.clone(),
            Block {
                id: id.clone(),
                parent,
                ty: nb.ty,
                data: nb.data,
                created: at,
                edited: at,
                created_by: author.into(),
                edited_by: author.into(),
                in_trash: false,
            },
        );
        let mut kids = Vec::new();
        for c in nb.children {
            kids.push(self.create_block_tree(&id, c, author, at));
        }
        if !kids.is_empty() {
            self.children.insert(id.clone(), kids);
        }
        id
    }

    /// Marks `id` (a block or page) and the page that contains it as edited now by `author`.
    pub fn touch(&mut self, id: &str, author: &str) {
        let now = self.now();
        let mut cur = Some(id.to_string());
        let mut guard = 0;
        while let Some(c) = cur {
            guard += 1;
            if guard > 10_000 {
                break;
            }
            if let Some(p) = self.pages.get_mut(&c) {
                p.edited = now;
                p.edited_by = author.into();
                return;
            }
            cur = match self.blocks.get_mut(&c) {
                Some(b) => {
                    if c == id {
                        b.edited = now;
                        b.edited_by = author.into();
                    }
                    parent_ref(&b.parent)
                }
                None => None,
            };
        }
    }

    /// Finds a data source property schema by name or id (ids may come percent-encoded or not).
    pub fn find_prop<'s>(ds: &'s DataSource, key: &str) -> Option<(&'s String, &'s Value)> {
        if let Some(kv) = ds.properties.get_key_value(key) {
            return Some(kv);
        }
        let decoded = super::util::percent_decode(key);
        ds.properties.iter().find(|(_, s)| {
            let id = s["id"].as_str().unwrap_or_default();
            id == key || super::util::percent_decode(id) == decoded
        })
    }

    /// Checks that `id` is a live (not trashed) parent that can receive children.
    pub fn require_live(&self, id: &str) -> ApiResult<()> {
        if self.trashed(id) {
            return Err(ApiError::validation(format!(
                "Can't edit block that is archived. You must unarchive the block before editing: {id}."
            )));
        }
        Ok(())
    }
}
