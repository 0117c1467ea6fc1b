//! Test controls: per-endpoint call counters, fault/rate settings, the emulator clock,
//! "remote edits" (changes made as if a person edited in the Notion app) and raw object
//! access. Available in-process through [`Control`] and over HTTP under `/_emulator/`
//! (same bearer token, no `Notion-Version`, never counted):
//!
//! | Route | Body | Effect |
//! |---|---|---|
//! | `GET /_emulator/stats` | | `{"calls": {"GET /v1/blocks/{id}/children": 3, …}, "total": N}` |
//! | `POST /_emulator/stats/reset` | | zero the counters |
//! | `GET`/`POST /_emulator/faults` | `{fault_rate?, rate?, burst?, latency_ms?, lost_response_rate?}` | read / change faults |
//! | `POST /_emulator/clock/advance` | `{"seconds": N}` | move the emulator clock forward |
//! | `POST /_emulator/limits` | `{max_file_upload_size_in_bytes?, file_url_ttl_seconds?}` | upload limit, signed URL lifetime |
//! | `POST /_emulator/edit/blocks/{id}/text` | `{"text": "…"}` | replace a block's rich text |
//! | `POST /_emulator/edit/blocks/{id}/children` | `{"children": [blocks]}` | append blocks |
//! | `POST /_emulator/edit/blocks/{id}/delete` | | trash a block (or page) |
//! | `POST /_emulator/edit/pages` | `{"parent_id": "…", "title": "…"}` | create a child page |
//! | `POST /_emulator/edit/pages/{id}/title` | `{"title": "…"}` | rename a page |
//! | `POST /_emulator/edit/pages/{id}/properties` | `{"property": "Name", "value": {…}}` | set a property |
//! | `POST /_emulator/edit/pages/{id}/move` | `{"parent_id": "…"}` | move a page under a page or into a data source |
//! | `POST /_emulator/edit/pages/{id}/trash` | | move a page to the trash |
//! | `POST /_emulator/edit/pages/{id}/restore` | | restore a trashed page |
//! | `GET /_emulator/objects/{id}` | | raw page/block/database/data source JSON |
//! | `GET /_emulator/children/{id}` | | ids of the visible children |
//!
//! Every remote edit marks what it changes as edited now by the workspace's first person
//! user, as Notion does: the page (or the page that holds the block), and for a create,
//! move, trash or restore the parent page(s) too. Times are rendered rounded down to the
//! minute (/reference/changelog, June 2021), so search sorted by `last_edited_time` finds
//! every remote edit among the newest results.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::handlers::{move_page_to, resolve_page_parent};
use super::props::{add_options, write_props};
use super::store::{parent_ref, text_rt, Page, Position, Store};
use super::util::{new_uuid, parse_id, ApiError, ApiResult};
use super::validate::Ingest;
use super::{EmulatorError, Shared};

/// Rate limit and fault injection settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Faults {
    /// Requests per second (`None` = unlimited).
    pub rate: Option<f64>,
    /// Token bucket size.
    pub burst: u32,
    /// Probability of a random 5xx before any change is applied.
    pub fault_rate: f64,
    /// Delay added to each `/v1` request.
    pub latency_ms: u64,
}

/// A cloneable handle on a running emulator.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").finish_non_exhaustive()
    }
}

fn ctl_err(e: ApiError) -> EmulatorError {
    EmulatorError::Control(e.message)
}

impl Control {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Control { shared }
    }

    /// Calls per endpoint, keyed `"METHOD /v1/route/{template}"`.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        self.shared
            .stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Calls of one endpoint key (e.g. `"GET /v1/blocks/{id}/children"`).
    pub fn calls(&self, key: &str) -> u64 {
        self.stats().get(key).copied().unwrap_or(0)
    }

    /// Total `/v1` calls.
    pub fn total_calls(&self) -> u64 {
        self.stats().values().sum()
    }

    /// Zeroes the counters.
    pub fn reset_stats(&self) {
        self.shared
            .stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Current fault settings.
    pub fn faults(&self) -> Faults {
        *self.shared.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the fault settings (the token bucket is refilled to `burst`).
    pub fn set_faults(&self, f: Faults) {
        *self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()) = f;
        let mut b = self.shared.bucket.lock().unwrap_or_else(|e| e.into_inner());
        b.tokens = f.burst as f64;
        b.last = std::time::Instant::now();
    }

    /// Probability that a write (any `/v1` request but a `GET`) is carried out and then
    /// answered with a 502 or 504 anyway, as when a gateway times out after the change
    /// happened: the client cannot tell it from a write that did not happen.
    pub fn lost_response_rate(&self) -> f64 {
        f64::from_bits(
            self.shared
                .lost_responses
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// `/v1` requests received and not answered yet (a test that kills a client can wait
    /// for what it had sent to land).
    pub fn in_flight(&self) -> usize {
        self.shared
            .in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Sets [`Control::lost_response_rate`] (0 to turn it off).
    pub fn set_lost_response_rate(&self, p: f64) {
        self.shared.lost_responses.store(
            p.clamp(0.0, 1.0).to_bits(),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The emulator's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.store().now()
    }

    /// Moves the emulator clock forward (timestamps, upload and file URL expiry).
    pub fn advance_clock(&self, by: std::time::Duration) {
        let d = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::zero());
        let mut st = self.shared.store();
        st.clock_offset += d;
    }

    /// Sets how long handed-out file URLs stay valid (default one hour).
    pub fn set_file_url_ttl(&self, ttl: std::time::Duration) {
        self.shared.store().files.ttl =
            chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
    }

    /// Sets the workspace's per-file upload limit (default 5 GiB, a paid plan; a free plan is
    /// 5 MiB). Shown in `/v1/users/me` and enforced by send / complete.
    pub fn set_max_upload_size(&self, bytes: u64) {
        self.shared.store().files.max_file_size = bytes;
    }

    fn editor(st: &Store) -> String {
        st.users
            .first()
            .and_then(|u| u["id"].as_str())
            .unwrap_or(&st.bot_id)
            .to_string()
    }

    fn id(raw: &str) -> Result<String, EmulatorError> {
        parse_id(raw).ok_or_else(|| EmulatorError::Control(format!("invalid id {raw}")))
    }

    /// Replaces the rich text of a text block (paragraph, heading, to_do, …) with plain text.
    pub fn set_block_text(&self, block_id: &str, text: &str) -> Result<(), EmulatorError> {
        let id = Self::id(block_id)?;
        let mut st = self.shared.store();
        let who = Self::editor(&st);
        let b = st
            .blocks
            .get_mut(&id)
            .ok_or_else(|| EmulatorError::Control(format!("no block {id}")))?;
        if b.data.get("rich_text").is_none() {
            return Err(EmulatorError::Control(format!(
                "block {id} ({}) has no rich text",
                b.ty
            )));
        }
        b.data["rich_text"] = text_rt(text);
        st.touch(&id, &who);
        Ok(())
    }

    /// Appends blocks (request shapes; any type and depth) at the end of a page or block.
    pub fn append_blocks(
        &self,
        parent_id: &str,
        children: Value,
    ) -> Result<Vec<String>, EmulatorError> {
        let id = Self::id(parent_id)?;
        let mut st = self.shared.store();
        if !st.pages.contains_key(&id) && !st.blocks.contains_key(&id) {
            return Err(EmulatorError::Control(format!("no page or block {id}")));
        }
        let ing = Ingest::new(&st, true);
        let blocks = ing.blocks(&children, "children", 0).map_err(ctl_err)?;
        drop(ing);
        let who = Self::editor(&st);
        let now = st.now();
        let ids: Vec<String> = blocks
            .into_iter()
            .map(|b| st.create_block_tree(&id, b, &who, now))
            .collect();
        st.place_children(&id, &ids, &Position::End);
        st.touch(&id, &who);
        Ok(ids)
    }

    /// Moves a block, page or database to the trash.
    pub fn delete_block(&self, block_id: &str) -> Result<(), EmulatorError> {
        let id = Self::id(block_id)?;
        let mut st = self.shared.store();
        let who = Self::editor(&st);
        let parent = if let Some(b) = st.blocks.get_mut(&id) {
            b.in_trash = true;
            parent_ref(&b.parent)
        } else if let Some(p) = st.pages.get_mut(&id) {
            p.in_trash = true;
            let parent = parent_ref(&p.parent);
            st.touch(&id, &who);
            parent
        } else if let Some(d) = st.databases.get_mut(&id) {
            d.in_trash = true;
            parent_ref(&d.parent)
        } else {
            return Err(EmulatorError::Control(format!("no block {id}")));
        };
        if let Some(p) = parent.filter(|p| st.pages.contains_key(p) || st.blocks.contains_key(p)) {
            st.touch(&p, &who);
        }
        Ok(())
    }

    /// Renames a page (its title property).
    pub fn rename_page(&self, page_id: &str, title: &str) -> Result<(), EmulatorError> {
        let id = Self::id(page_id)?;
        let mut st = self.shared.store();
        let page = st
            .pages
            .get(&id)
            .cloned()
            .ok_or_else(|| EmulatorError::Control(format!("no page {id}")))?;
        let tid = st
            .row_source(&page)
            .and_then(|ds| {
                ds.properties
                    .values()
                    .find(|p| p["type"] == "title")
                    .and_then(|p| p["id"].as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "title".into());
        let who = Self::editor(&st);
        st.pages
            .get_mut(&id)
            .expect("exists")
            .props
            .insert(tid, json!({"type": "title", "title": text_rt(title)}));
        st.touch(&id, &who);
        Ok(())
    }

    /// Sets one property of a row (value in request shape, e.g. `{"checkbox": true}`).
    pub fn set_property(
        &self,
        page_id: &str,
        property: &str,
        value: Value,
    ) -> Result<(), EmulatorError> {
        let id = Self::id(page_id)?;
        let mut st = self.shared.store();
        let page: Page = st
            .pages
            .get(&id)
            .cloned()
            .ok_or_else(|| EmulatorError::Control(format!("no page {id}")))?;
        let ds_id = page.parent["data_source_id"].as_str().map(str::to_string);
        let ing = Ingest::new(&st, false);
        let ds = ds_id.as_ref().and_then(|d| st.data_sources.get(d));
        let mut req = serde_json::Map::new();
        req.insert(property.to_string(), value);
        let (values, opts) =
            write_props(&ing, ds, &Value::Object(req), "properties").map_err(ctl_err)?;
        drop(ing);
        if let Some(d) = ds_id {
            if let Some(ds) = st.data_sources.get_mut(&d) {
                add_options(ds, opts);
            }
        }
        let who = Self::editor(&st);
        let p = st.pages.get_mut(&id).expect("exists");
        for (k, v) in values {
            p.props.insert(k, v);
        }
        st.touch(&id, &who);
        Ok(())
    }

    /// Creates a child page under a page, as a person would; returns its id.
    pub fn create_page(&self, parent_id: &str, title: &str) -> Result<String, EmulatorError> {
        let parent = Self::id(parent_id)?;
        let mut st = self.shared.store();
        if !st.pages.contains_key(&parent) {
            return Err(EmulatorError::Control(format!("no page {parent}")));
        }
        let who = Self::editor(&st);
        let now = st.now();
        let id = new_uuid();
        let mut props = serde_json::Map::new();
        props.insert(
            "title".into(),
            json!({"type": "title", "title": text_rt(title)}),
        );
        st.pages.insert(
            id.clone(),
            Page {
                id: id.clone(),
                parent: json!({"type": "page_id", "page_id": parent}),
                props,
                icon: Value::Null,
                cover: Value::Null,
                created: now,
                edited: now,
                created_by: who.clone(),
                edited_by: who.clone(),
                in_trash: false,
                is_locked: false,
            },
        );
        st.page_order.push(id.clone());
        st.place_children(&parent, std::slice::from_ref(&id), &Position::End);
        st.touch(&parent, &who);
        Ok(id)
    }

    /// Moves a page (or row) under another page or into a data source (`parent_id` is
    /// either), as a person would in the app: the title is kept, other properties are
    /// reset when the schema changes, and the page and both parents count as edited now.
    pub fn move_page(&self, page_id: &str, parent_id: &str) -> Result<(), EmulatorError> {
        let id = Self::id(page_id)?;
        let target = Self::id(parent_id)?;
        let mut st = self.shared.store();
        if !st.pages.contains_key(&id) {
            return Err(EmulatorError::Control(format!("no page {id}")));
        }
        let parent = if st.pages.contains_key(&target) {
            json!({"page_id": target})
        } else if st.data_sources.contains_key(&target) {
            json!({"data_source_id": target})
        } else {
            return Err(EmulatorError::Control(format!(
                "no page or data source {target}"
            )));
        };
        let (parent, container) = resolve_page_parent(&st, &parent, "parent").map_err(ctl_err)?;
        let who = Self::editor(&st);
        move_page_to(&mut st, &id, parent, container, &who).map_err(ctl_err)
    }

    /// Moves a page (or row) to the trash (`in_trash: true`), as a person would.
    pub fn trash_page(&self, page_id: &str) -> Result<(), EmulatorError> {
        self.set_page_trash(page_id, true)
    }

    /// Restores a page (or row) from the trash (`in_trash: false`).
    pub fn restore_page(&self, page_id: &str) -> Result<(), EmulatorError> {
        self.set_page_trash(page_id, false)
    }

    fn set_page_trash(&self, page_id: &str, trash: bool) -> Result<(), EmulatorError> {
        let id = Self::id(page_id)?;
        let mut st = self.shared.store();
        let who = Self::editor(&st);
        let p = st
            .pages
            .get_mut(&id)
            .ok_or_else(|| EmulatorError::Control(format!("no page {id}")))?;
        if p.in_trash == trash {
            let state = if trash { "already in" } else { "not in" };
            return Err(EmulatorError::Control(format!(
                "page {id} is {state} the trash"
            )));
        }
        p.in_trash = trash;
        let parent = parent_ref(&p.parent);
        st.touch(&id, &who);
        if let Some(par) = parent.filter(|x| st.pages.contains_key(x) || st.blocks.contains_key(x))
        {
            st.touch(&par, &who);
        }
        Ok(())
    }

    /// Raw JSON of a page, block, database or data source as the API would return it
    /// (hosted files carry fresh signed URLs).
    pub fn object_json(&self, id: &str) -> Option<Value> {
        let id = parse_id(id)?;
        let mut st = self.shared.store();
        let v = st
            .render_page(&id)
            .or_else(|| st.render_block(&id))
            .or_else(|| st.render_database(&id))
            .or_else(|| st.render_data_source(&id))?;
        let mut v = v;
        let now = st.now();
        st.files.sign_all(&mut v, now);
        Some(v)
    }

    /// A page object.
    pub fn page_json(&self, id: &str) -> Option<Value> {
        let pid = parse_id(id)?;
        let st = self.shared.store();
        st.pages.contains_key(&pid).then_some(())?;
        drop(st);
        self.object_json(&pid)
    }

    /// A block object (pages and databases as `child_page` / `child_database`).
    pub fn block_json(&self, id: &str) -> Option<Value> {
        let bid = parse_id(id)?;
        let mut st = self.shared.store();
        let mut v = st.render_block(&bid)?;
        let now = st.now();
        st.files.sign_all(&mut v, now);
        Some(v)
    }

    /// Ids of the visible children of a page or block, in order.
    pub fn children_ids(&self, id: &str) -> Vec<String> {
        parse_id(id)
            .map(|i| self.shared.store().visible_children(&i))
            .unwrap_or_default()
    }

    /// Ids of the live pages (rows included) whose plain title is exactly `title`.
    pub fn pages_titled(&self, title: &str) -> Vec<String> {
        let st = self.shared.store();
        st.page_order
            .iter()
            .filter(|id| !st.trashed(id))
            .filter(|id| {
                st.pages
                    .get(*id)
                    .is_some_and(|p| st.page_title_plain(p) == title)
            })
            .cloned()
            .collect()
    }

    /// Plain text of a block's rich text (or a page's title), if it has any.
    pub fn plain_text(&self, id: &str) -> Option<String> {
        let id = parse_id(id)?;
        let st = self.shared.store();
        if let Some(p) = st.pages.get(&id) {
            return Some(st.page_title_plain(p));
        }
        let b = st.blocks.get(&id)?;
        b.data.get("rich_text").map(super::store::plain)
    }

    /// Ids of the rows of a data source, in creation order.
    pub fn rows(&self, data_source_id: &str) -> Vec<String> {
        let Some(ds) = parse_id(data_source_id) else {
            return vec![];
        };
        let st = self.shared.store();
        st.page_order
            .iter()
            .filter(|p| {
                st.pages
                    .get(*p)
                    .is_some_and(|p| p.parent["data_source_id"] == ds.as_str() && !p.in_trash)
            })
            .cloned()
            .collect()
    }
}

// ---------------------------------------------------------------- HTTP

type Sh = State<Arc<Shared>>;
type Reply = Result<Json<Value>, ApiError>;

fn body_json(b: &Bytes) -> ApiResult<Value> {
    if b.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(b).map_err(|_| ApiError::invalid_json())
}

fn ctl(shared: &Arc<Shared>) -> Control {
    Control::new(shared.clone())
}

fn done(r: Result<(), EmulatorError>) -> Reply {
    r.map(|_| Json(json!({"ok": true})))
        .map_err(|e| ApiError::validation(e.to_string()))
}

fn str_field(v: &Value, key: &str) -> ApiResult<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ApiError::validation(format!("`{key}` should be a string")))
}

fn faults_json(c: &Control) -> Json<Value> {
    let f = c.faults();
    Json(json!({
        "rate": f.rate,
        "burst": f.burst,
        "fault_rate": f.fault_rate,
        "latency_ms": f.latency_ms,
        "lost_response_rate": c.lost_response_rate(),
    }))
}

async fn stats(State(sh): Sh) -> Json<Value> {
    let c = ctl(&sh);
    Json(json!({"calls": c.stats(), "total": c.total_calls()}))
}

async fn stats_reset(State(sh): Sh) -> Json<Value> {
    ctl(&sh).reset_stats();
    Json(json!({"ok": true}))
}

async fn faults_get(State(sh): Sh) -> Json<Value> {
    faults_json(&ctl(&sh))
}

async fn faults_set(State(sh): Sh, b: Bytes) -> Reply {
    let v = body_json(&b)?;
    let c = ctl(&sh);
    let mut f = c.faults();
    if let Some(r) = v.get("rate") {
        f.rate = r.as_f64();
    }
    if let Some(b) = v.get("burst").and_then(Value::as_u64) {
        f.burst = u32::try_from(b).unwrap_or(u32::MAX);
    }
    if let Some(p) = v.get("fault_rate").and_then(Value::as_f64) {
        if !(0.0..=1.0).contains(&p) {
            return Err(ApiError::validation(
                "`fault_rate` should be between 0 and 1",
            ));
        }
        f.fault_rate = p;
    }
    if let Some(l) = v.get("latency_ms").and_then(Value::as_u64) {
        f.latency_ms = l;
    }
    if let Some(p) = v.get("lost_response_rate").and_then(Value::as_f64) {
        if !(0.0..=1.0).contains(&p) {
            return Err(ApiError::validation(
                "`lost_response_rate` should be between 0 and 1",
            ));
        }
        c.set_lost_response_rate(p);
    }
    c.set_faults(f);
    Ok(faults_json(&c))
}

async fn clock_advance(State(sh): Sh, b: Bytes) -> Reply {
    let v = body_json(&b)?;
    let secs = v
        .get("seconds")
        .and_then(Value::as_f64)
        .filter(|s| *s >= 0.0)
        .ok_or_else(|| ApiError::validation("`seconds` should be a non-negative number"))?;
    let c = ctl(&sh);
    c.advance_clock(std::time::Duration::from_secs_f64(secs));
    Ok(Json(json!({"now": super::util::ms_iso(c.now())})))
}

async fn limits(State(sh): Sh, b: Bytes) -> Reply {
    let v = body_json(&b)?;
    let c = ctl(&sh);
    if let Some(n) = v.get("max_file_upload_size_in_bytes") {
        let n = n.as_u64().ok_or_else(|| {
            ApiError::validation("`max_file_upload_size_in_bytes` should be an integer")
        })?;
        c.set_max_upload_size(n);
    }
    if let Some(s) = v.get("file_url_ttl_seconds") {
        let s = s.as_f64().filter(|s| *s >= 0.0).ok_or_else(|| {
            ApiError::validation("`file_url_ttl_seconds` should be a non-negative number")
        })?;
        c.set_file_url_ttl(std::time::Duration::from_secs_f64(s));
    }
    Ok(Json(json!({"ok": true})))
}

async fn edit_text(State(sh): Sh, Path(id): Path<String>, b: Bytes) -> Reply {
    let v = body_json(&b)?;
    done(ctl(&sh).set_block_text(&id, &str_field(&v, "text")?))
}

async fn edit_append(State(sh): Sh, Path(id): Path<String>, b: Bytes) -> Reply {
    let v = body_json(&b)?;
    let children = v.get("children").cloned().unwrap_or(json!([]));
    let ids = ctl(&sh)
        .append_blocks(&id, children)
        .map_err(|e| ApiError::validation(e.to_string()))?;
    Ok(Json(json!({"ids": ids})))
}

async fn edit_delete(State(sh): Sh, Path(id): Path<String>) -> Reply {
    done(ctl(&sh).delete_block(&id))
}

async fn edit_create_page(State(sh): Sh, b: Bytes) -> Reply {
    let v = body_json(&b)?;
    let id = ctl(&sh)
        .create_page(&str_field(&v, "parent_id")?, &str_field(&v, "title")?)
        .map_err(|e| ApiError::validation(e.to_string()))?;
    Ok(Json(json!({"id": id})))
}

async fn edit_title(State(sh): Sh, Path(id): Path<String>, b: Bytes) -> Reply {
    let v = body_json(&b)?;
    done(ctl(&sh).rename_page(&id, &str_field(&v, "title")?))
}

async fn edit_property(State(sh): Sh, Path(id): Path<String>, b: Bytes) -> Reply {
    let v = body_json(&b)?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    done(ctl(&sh).set_property(&id, &str_field(&v, "property")?, value))
}

async fn edit_move(State(sh): Sh, Path(id): Path<String>, b: Bytes) -> Reply {
    let v = body_json(&b)?;
    done(ctl(&sh).move_page(&id, &str_field(&v, "parent_id")?))
}

async fn edit_trash(State(sh): Sh, Path(id): Path<String>) -> Reply {
    done(ctl(&sh).trash_page(&id))
}

async fn edit_restore(State(sh): Sh, Path(id): Path<String>) -> Reply {
    done(ctl(&sh).restore_page(&id))
}

async fn object(State(sh): Sh, Path(id): Path<String>) -> Reply {
    ctl(&sh)
        .object_json(&id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("object", &id))
}

async fn children(State(sh): Sh, Path(id): Path<String>) -> Json<Value> {
    Json(json!({"ids": ctl(&sh).children_ids(&id)}))
}

/// The `/_emulator` routes.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/stats/reset", post(stats_reset))
        .route("/_emulator/faults", get(faults_get).post(faults_set))
        .route("/_emulator/clock/advance", post(clock_advance))
        .route("/_emulator/limits", post(limits))
        .route("/_emulator/edit/blocks/{id}/text", post(edit_text))
        .route("/_emulator/edit/blocks/{id}/children", post(edit_append))
        .route("/_emulator/edit/blocks/{id}/delete", post(edit_delete))
        .route("/_emulator/edit/pages", post(edit_create_page))
        .route("/_emulator/edit/pages/{id}/title", post(edit_title))
        .route("/_emulator/edit/pages/{id}/properties", post(edit_property))
        .route("/_emulator/edit/pages/{id}/move", post(edit_move))
        .route("/_emulator/edit/pages/{id}/trash", post(edit_trash))
        .route("/_emulator/edit/pages/{id}/restore", post(edit_restore))
        .route("/_emulator/objects/{id}", get(object))
        .route("/_emulator/children/{id}", get(children))
}
