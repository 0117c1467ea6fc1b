//! The seed fixture format and its loader.
//!
//! A seed is a JSON document (`notionfs emulator --seed FILE`) describing a workspace in
//! the *request* shapes of the API, plus ids and timestamps so that tests can assert on it.
//! Example: `src/emulator/seed_example.json`. Top-level fields:
//!
//! ```text
//! {
//!   "workspace_name": "Acme",                       // bot.workspace_name
//!   "workspace_id":  "<uuid>",
//!   "bot":   {"id": "<uuid>", "name": "Acme bot"},  // the integration's bot user
//!   "users": [{"id": "<uuid>", "name": "Ada", "email": "ada@example.com", "avatar_url": null}],
//!   "time":  "2025-06-01T09:00:00.000Z",            // default created/edited time
//!   "files": [{"key": "logo", "name": "logo.png", "content_type": "image/png",
//!              "hex": "89504e47…"}],                // or "text": "…"  (Notion-hosted files)
//!   "databases": [{
//!       "id": "<uuid>", "parent": {"page_id": "<uuid>"} | {"workspace": true},
//!       "title": "Tasks", "icon": {…}, "is_inline": false, "created_time": "…",
//!       "data_sources": [{"id": "<uuid>", "title": "Tasks",
//!                         "properties": {"Name": {"title": {}}, "Tags": {"multi_select": {"options": […]}},
//!                                        "Status": {"status": {"options": […], "groups": [
//!                                            {"name": "To-do", "color": "gray", "option_names": ["Not started"]}]}},
//!                                        "Score": {"id": "fixed%3Aid", "formula": {"expression": "…"}}}}]
//!   }],
//!   "pages": [{
//!       "id": "<uuid>",
//!       "parent": {"page_id": "<uuid>"} | {"data_source_id": "<uuid>"} | {"workspace": true},
//!       "title": "Plain title",                     // pages outside data sources
//!       "properties": {"Name": {"title": […]}, …},  // rows: request shapes (formula and
//!                                                   // verification values may be given too)
//!       "icon": {…}, "cover": {…}, "in_trash": false,
//!       "created_time": "…", "last_edited_time": "…", "created_by": "<user id>", "last_edited_by": "<user id>",
//!       "children": [ <blocks in request shape, any depth, optional "id"> ]
//!   }],
//!   "comments": [{"id": "<uuid>", "parent": {"page_id": "<uuid>"}, "discussion_id": "<uuid>", "text": "…",
//!                 "created_by": "<user id>"}]
//! }
//! ```
//!
//! Seed blocks may use types the API cannot create (`link_preview`, `template`,
//! `unsupported`, synced duplicates) and Notion-hosted files as
//! `{"type": "file", "file": {"hosted": "<file key>"}}`. A block
//! `{"type": "child_page", "id": "<page id>"}` (or `child_database`) marks where a child
//! page or database sits among its parent's blocks; unplaced ones go last. Blocks without
//! an `id` get a deterministic one. Parents must be listed before their children.

use std::path::Path;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::files::HostedFile;
use super::props::{add_options, apply_schema, write_props};
use super::store::{parent_ref, text_rt, DataSource, Database, Page, Position, Store};
use super::util::{minute_iso, parse_id, parse_time};
use super::validate::{Ingest, NewBlock};

/// A user in a seed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// User id (UUID).
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail (persons only).
    #[serde(default)]
    pub email: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// A Notion-hosted file in a seed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    /// Key referenced by `{"file": {"hosted": key}}`.
    pub key: String,
    /// File name (last URL segment).
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Contents as UTF-8 text.
    #[serde(default)]
    pub text: Option<String>,
    /// Contents as hex.
    #[serde(default)]
    pub hex: Option<String>,
}

/// A workspace fixture (see the module docs for the format).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// `bot.workspace_name`.
    pub workspace_name: String,
    /// `bot.workspace_id`.
    pub workspace_id: String,
    /// The integration's bot user.
    pub bot: SeedUser,
    /// Person users.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Default timestamp of seeded objects.
    #[serde(default = "default_time")]
    pub time: String,
    /// Hosted files.
    #[serde(default)]
    pub files: Vec<SeedFile>,
    /// Databases with their data sources.
    #[serde(default)]
    pub databases: Vec<Value>,
    /// Pages (parents first).
    #[serde(default)]
    pub pages: Vec<Value>,
    /// Comments.
    #[serde(default)]
    pub comments: Vec<Value>,
}

fn default_time() -> String {
    "2025-06-01T09:00:00.000Z".into()
}

impl Seed {
    /// Parses a seed from JSON text.
    pub fn from_json(text: &str) -> Result<Seed, String> {
        serde_json::from_str(text).map_err(|e| format!("seed JSON: {e}"))
    }

    /// Reads a seed file.
    pub fn from_file(path: &Path) -> Result<Seed, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::from_json(&text)
    }

    /// The example fixture shipped with the emulator.
    pub fn example() -> Seed {
        Self::from_json(include_str!("seed_example.json"))
            .expect("the bundled example seed is valid")
    }
}

fn id_of(v: &Value, what: &str) -> Result<String, String> {
    v.get("id")
        .and_then(Value::as_str)
        .and_then(parse_id)
        .ok_or_else(|| format!("{what}: missing or invalid id"))
}

fn time_of(
    v: &Value,
    key: &str,
    default: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(parse_time)
        .unwrap_or(default)
}

fn user_of(v: &Value, key: &str, default: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(parse_id)
        .unwrap_or_else(|| default.to_string())
}

fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if s.len() % 2 != 0 {
        return Err("hex file contents have odd length".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("hex: {e}")))
        .collect()
}

/// A deterministic id for a seed block without one.
fn derived_id(parent: &str, index: usize) -> String {
    let h = Sha256::digest(format!("{parent}/{index}").as_bytes());
    uuid::Builder::from_random_bytes(h[..16].try_into().expect("16 bytes"))
        .into_uuid()
        .to_string()
}

fn normalize_parent(v: &Value, store: &Store) -> Result<Value, String> {
    let m = v.as_object().ok_or("parent must be an object")?;
    if m.get("workspace") == Some(&Value::Bool(true)) {
        return Ok(json!({"type": "workspace", "workspace": true}));
    }
    for key in ["page_id", "block_id", "data_source_id"] {
        if let Some(id) = m.get(key).and_then(Value::as_str).and_then(parse_id) {
            if key == "data_source_id" {
                let db = store
                    .data_sources
                    .get(&id)
                    .map(|d| d.database_id.clone())
                    .ok_or_else(|| format!("unknown data source {id}"))?;
                return Ok(json!({"type": key, key: id, "database_id": db}));
            }
            return Ok(json!({"type": key, key: id}));
        }
    }
    Err(format!("unsupported parent {v}"))
}

/// Builds a workspace from a seed.
pub fn load(seed: &Seed) -> Result<Store, String> {
    let bot_id = parse_id(&seed.bot.id).ok_or("bot.id is not a UUID")?;
    let ws_id = parse_id(&seed.workspace_id).ok_or("workspace_id is not a UUID")?;
    let mut st = Store::new(&seed.workspace_name, &ws_id, &bot_id, &seed.bot.name);
    let t0 = parse_time(&seed.time).ok_or("time is not an ISO 8601 datetime")?;
    load_users_and_files(&mut st, seed)?;
    let first_user = st
        .users
        .first()
        .and_then(|u| u["id"].as_str())
        .unwrap_or(&bot_id)
        .to_string();
    // databases and data sources (schemas later, so relations can point anywhere)
    for d in &seed.databases {
        load_database(&mut st, d, t0, &first_user)?;
    }
    load_schemas(&mut st, seed)?;
    // page records
    for p in &seed.pages {
        load_page(&mut st, p, t0, &first_user)?;
    }
    // row properties, icons, covers
    for p in &seed.pages {
        load_page_values(&mut st, p)?;
    }
    // database icons may use hosted files; pass them through the icon parser
    // page content
    for p in &seed.pages {
        load_page_content(&mut st, p)?;
    }
    place_unplaced(&mut st, seed)?;
    load_comments(&mut st, seed, t0, &first_user)?;
    Ok(st)
}

/// Adds the seed's person users and hosted files.
fn load_users_and_files(st: &mut Store, seed: &Seed) -> Result<(), String> {
    for u in &seed.users {
        let id = parse_id(&u.id).ok_or_else(|| format!("user {}: invalid id", u.name))?;
        st.users.push(
            json!({"object": "user", "id": id, "name": u.name, "avatar_url": u.avatar_url,
            "type": "person", "person": {"email": u.email}}),
        );
    }
    for f in &seed.files {
        let bytes = match (&f.text, &f.hex) {
            (Some(t), _) => t.clone().into_bytes(),
            (None, Some(h)) => decode_hex(h)?,
            (None, None) => return Err(format!("file {}: needs text or hex", f.key)),
        };
        st.files.hosted.insert(
            f.key.clone(),
            HostedFile {
                name: f.name.clone(),
                content_type: f.content_type.clone(),
                bytes: Bytes::from(bytes),
            },
        );
    }
    Ok(())
}

/// Adds one seed database and its data sources, without schemas yet.
fn load_database(
    st: &mut Store,
    d: &Value,
    t0: chrono::DateTime<chrono::Utc>,
    first_user: &str,
) -> Result<(), String> {
    let id = id_of(d, "database")?;
    let parent = normalize_parent(d.get("parent").unwrap_or(&json!({"workspace": true})), st)?;
    let created = time_of(d, "created_time", t0);
    let edited = time_of(d, "last_edited_time", created);
    let mut ds_ids = Vec::new();
    for s in d
        .get("data_sources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let sid = id_of(&s, "data source")?;
        let title = s.get("title").and_then(Value::as_str).unwrap_or("");
        st.data_sources.insert(
            sid.clone(),
            DataSource {
                id: sid.clone(),
                database_id: id.clone(),
                title: text_rt(title),
                description: json!([]),
                icon: Value::Null,
                properties: Map::new(),
                in_trash: false,
                created,
                edited,
                created_by: first_user.to_string(),
                edited_by: first_user.to_string(),
                counters: Default::default(),
            },
        );
        ds_ids.push(sid);
    }
    let title = d.get("title").and_then(Value::as_str).unwrap_or("");
    st.databases.insert(
        id.clone(),
        Database {
            id,
            parent,
            title: text_rt(title),
            description: text_rt(d.get("description").and_then(Value::as_str).unwrap_or("")),
            icon: d.get("icon").cloned().unwrap_or(Value::Null),
            cover: Value::Null,
            is_inline: d.get("is_inline").and_then(Value::as_bool).unwrap_or(false),
            in_trash: false,
            is_locked: false,
            data_sources: ds_ids,
            created,
            edited,
            created_by: user_of(d, "created_by", first_user),
            edited_by: user_of(d, "last_edited_by", first_user),
        },
    );
    Ok(())
}

/// Applies the schemas of every seed data source (once all of them exist).
fn load_schemas(st: &mut Store, seed: &Seed) -> Result<(), String> {
    for d in &seed.databases {
        for s in d
            .get("data_sources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let sid = id_of(&s, "data source")?;
            let mut ds = st.data_sources[&sid].clone();
            apply_schema(
                st,
                &mut ds,
                s.get("properties")
                    .unwrap_or(&json!({"Name": {"title": {}}})),
                &format!("data source {sid}"),
                true,
                true,
            )
            .map_err(|e| e.message)?;
            st.data_sources.insert(sid, ds);
        }
    }
    Ok(())
}

/// Adds the record of one seed page: parent, times, authors and (outside data sources)
/// its title.
fn load_page(
    st: &mut Store,
    p: &Value,
    t0: chrono::DateTime<chrono::Utc>,
    first_user: &str,
) -> Result<(), String> {
    let id = id_of(p, "page")?;
    let parent = normalize_parent(p.get("parent").unwrap_or(&json!({"workspace": true})), st)?;
    let created = time_of(p, "created_time", t0);
    let mut props = Map::new();
    if parent["type"] != "data_source_id" {
        let title = p.get("title").and_then(Value::as_str).unwrap_or("");
        props.insert(
            "title".into(),
            json!({"type": "title", "title": text_rt(title)}),
        );
    }
    st.pages.insert(
        id.clone(),
        Page {
            id: id.clone(),
            parent,
            props,
            icon: Value::Null,
            cover: Value::Null,
            created,
            edited: time_of(p, "last_edited_time", created),
            created_by: user_of(p, "created_by", first_user),
            edited_by: user_of(p, "last_edited_by", first_user),
            in_trash: p.get("in_trash").and_then(Value::as_bool).unwrap_or(false),
            is_locked: false,
        },
    );
    st.page_order.push(id);
    Ok(())
}

/// Sets one seed page's row properties, icon and cover (once every page exists, so
/// relations can point anywhere).
fn load_page_values(st: &mut Store, p: &Value) -> Result<(), String> {
    let id = id_of(p, "page")?;
    let page = st.pages[&id].clone();
    let ds_id = page.parent["data_source_id"].as_str().map(str::to_string);
    let ing = Ingest::new(st, true);
    let ds = ds_id.as_ref().and_then(|d| st.data_sources.get(d));
    let (values, opts) = match (p.get("properties"), ds) {
        (Some(v), Some(_)) => {
            write_props(&ing, ds, v, &format!("page {id} properties")).map_err(|e| e.message)?
        }
        (Some(_), None) => {
            return Err(format!(
                "page {id}: properties are only for rows; use title"
            ))
        }
        _ => (Map::new(), vec![]),
    };
    let icon = p
        .get("icon")
        .filter(|v| !v.is_null())
        .map(|i| ing.icon(i, "icon"))
        .transpose()
        .map_err(|e| e.message)?;
    let cover = p
        .get("cover")
        .filter(|v| !v.is_null())
        .map(|c| ing.cover(c, "cover"))
        .transpose()
        .map_err(|e| e.message)?;
    drop(ing);
    let mut props = page.props.clone();
    for (k, v) in values {
        props.insert(k, v);
    }
    if let Some(d) = &ds_id {
        let ds = st.data_sources.get_mut(d).expect("exists");
        add_options(ds, opts);
        super::handlers::init_row_props(ds, &mut props);
    }
    let pg = st.pages.get_mut(&id).expect("exists");
    pg.props = props;
    pg.icon = icon.unwrap_or(Value::Null);
    pg.cover = cover.unwrap_or(Value::Null);
    Ok(())
}

/// Adds one seed page's blocks, created and edited with the page.
fn load_page_content(st: &mut Store, p: &Value) -> Result<(), String> {
    let id = id_of(p, "page")?;
    let Some(children) = p.get("children") else {
        return Ok(());
    };
    let ing = Ingest::new(st, true);
    let blocks = ing
        .blocks(children, &format!("page {id} children"), 0)
        .map_err(|e| e.message)?;
    drop(ing);
    let page = st.pages[&id].clone();
    let author = page.edited_by.clone();
    insert_seed_blocks(st, &id, blocks, &author, page.created, page.edited);
    Ok(())
}

/// Places the pages and databases that no placeholder block positioned last among their
/// parent's children.
fn place_unplaced(st: &mut Store, seed: &Seed) -> Result<(), String> {
    let mut unplaced: Vec<(String, String)> = Vec::new();
    for p in &seed.pages {
        let id = id_of(p, "page")?;
        if let Some(par) = parent_ref(&st.pages[&id].parent)
            .filter(|x| st.pages.contains_key(x) || st.blocks.contains_key(x))
        {
            unplaced.push((par, id));
        }
    }
    for d in &seed.databases {
        let id = id_of(d, "database")?;
        if let Some(par) = parent_ref(&st.databases[&id].parent)
            .filter(|x| st.pages.contains_key(x) || st.blocks.contains_key(x))
        {
            unplaced.push((par, id));
        }
    }
    for (par, id) in unplaced {
        if !st.children.get(&par).is_some_and(|l| l.contains(&id)) {
            st.place_children(&par, std::slice::from_ref(&id), &Position::End);
        }
    }
    Ok(())
}

/// Adds the seed's comments.
fn load_comments(
    st: &mut Store,
    seed: &Seed,
    t0: chrono::DateTime<chrono::Utc>,
    first_user: &str,
) -> Result<(), String> {
    for c in &seed.comments {
        let id = id_of(c, "comment")?;
        let parent = normalize_parent(c.get("parent").ok_or("comment needs a parent")?, st)?;
        let t = minute_iso(time_of(c, "created_time", t0));
        let author = user_of(c, "created_by", first_user);
        let name = st
            .user(&author)
            .and_then(|u| u["name"].as_str().map(str::to_string))
            .unwrap_or_default();
        st.comments.push(json!({
            "object": "comment", "id": id, "parent": parent,
            "discussion_id": c.get("discussion_id").and_then(Value::as_str).and_then(parse_id).unwrap_or_else(|| derived_id(&id, 0)),
            "created_time": t, "last_edited_time": t, "created_by": {"object": "user", "id": author},
            "rich_text": text_rt(c.get("text").and_then(Value::as_str).unwrap_or("")), "attachments": [],
            "display_name": {"type": "user", "resolved_name": name},
        }));
    }
    Ok(())
}

fn insert_seed_blocks(
    st: &mut Store,
    parent: &str,
    blocks: Vec<NewBlock>,
    author: &str,
    created: chrono::DateTime<chrono::Utc>,
    edited: chrono::DateTime<chrono::Utc>,
) {
    let parent_json = if st.pages.contains_key(parent) {
        json!({"type": "page_id", "page_id": parent})
    } else {
        json!({"type": "block_id", "block_id": parent})
    };
    let mut ids = Vec::new();
    for (i, mut b) in blocks.into_iter().enumerate() {
        if (b.ty == "child_page" || b.ty == "child_database")
            && b.id
                .as_ref()
                .is_some_and(|id| st.pages.contains_key(id) || st.databases.contains_key(id))
        {
            ids.push(b.id.clone().expect("checked"));
            continue;
        }
        let id = b.id.take().unwrap_or_else(|| derived_id(parent, i));
        let kids = std::mem::take(&mut b.children);
        st.blocks.insert(
            id.clone(),
            super::store::Block {
                id: id.clone(),
                parent: parent_json.clone(),
                ty: b.ty,
                data: b.data,
                created,
                edited,
                created_by: author.into(),
                edited_by: author.into(),
                in_trash: false,
            },
        );
        insert_seed_blocks(st, &id, kids, author, created, edited);
        ids.push(id);
    }
    if !ids.is_empty() {
        st.children
            .entry(parent.to_string())
            .or_default()
            .extend(ids);
    }
}
