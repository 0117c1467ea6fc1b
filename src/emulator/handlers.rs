//! The HTTP surface: the `/v1` routes of the Notion API, the guard that applies auth,
//! `Notion-Version`, rate limiting, fault injection, latency and call counting, the signed
//! file URLs under `/_files`, and the `/_emulator` control routes.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;
use serde_json::{json, Map, Value};

use super::props::{add_options, apply_schema, write_props};
use super::store::{
    parent_ref, partial_user, plain, DataSource, Database, Kind, Page, Position, Store,
};
use super::util::{body_id, minute_iso, new_uuid, path_id, ApiError, ApiResult};
use super::validate::{
    check_arrays, check_child_type, check_keys, check_payload_size, obj, page_size, paginate, req,
    start_cursor, string, supports_children, Ingest,
};
use super::{control, query, Shared};

type Sh = State<Arc<Shared>>;
type JsonResult = Result<Json<Value>, ApiError>;

/// Builds the application router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let v1 = Router::new()
        .route("/v1/users/me", get(users_me))
        .route("/v1/users", get(users_list))
        .route("/v1/users/{id}", get(user_get))
        .route("/v1/search", post(search))
        .route("/v1/pages", post(page_create))
        .route("/v1/pages/{id}", get(page_get).patch(page_update))
        .route("/v1/pages/{id}/move", post(page_move))
        .route(
            "/v1/pages/{id}/properties/{property_id}",
            get(page_property),
        )
        .route(
            "/v1/blocks/{id}",
            get(block_get).patch(block_update).delete(block_delete),
        )
        .route(
            "/v1/blocks/{id}/children",
            get(children_get).patch(children_append),
        )
        .route("/v1/databases", post(database_create))
        .route(
            "/v1/databases/{id}",
            get(database_get).patch(database_update),
        )
        .route("/v1/data_sources", post(data_source_create))
        .route(
            "/v1/data_sources/{id}",
            get(data_source_get).patch(data_source_update),
        )
        .route("/v1/data_sources/{id}/query", post(data_source_query))
        .route("/v1/comments", get(comments_list).post(comment_create))
        .route("/v1/comments/{id}", get(comment_get))
        .route(
            "/v1/data_sources/{id}/templates",
            get(data_source_templates),
        )
        .route("/v1/file_uploads", get(uploads_list).post(upload_create))
        .route("/v1/file_uploads/{id}", get(upload_get))
        .route("/v1/file_uploads/{id}/send", post(upload_send))
        .route("/v1/file_uploads/{id}/complete", post(upload_complete))
        .route_layer(middleware::from_fn_with_state(shared.clone(), v1_guard));
    let ctl = control::router().route_layer(middleware::from_fn_with_state(
        shared.clone(),
        control_guard,
    ));
    Router::new()
        .merge(v1)
        .merge(ctl)
        .route("/_files/{token}/{name}", get(serve_file))
        .fallback(unknown_url)
        .method_not_allowed_fallback(unknown_url)
        // uploads carry up to 20 MiB per part; JSON size limits are checked by `json_body`
        .layer(axum::extract::DefaultBodyLimit::max(
            super::files::MAX_PART + 1024 * 1024,
        ))
        .with_state(shared)
}

async fn unknown_url() -> ApiError {
    ApiError::invalid_url()
}

fn bearer_ok(sh: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == sh.token)
}

fn unauthorized() -> ApiError {
    ApiError::new(401, "unauthorized", "API token is invalid.")
}

/// Counts the call, then applies latency, rate limit, auth, version and faults.
async fn v1_guard(
    State(sh): Sh,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let key = format!(
        "{} {}",
        req.method(),
        matched
            .as_ref()
            .map(MatchedPath::as_str)
            .unwrap_or(req.uri().path())
    );
    *sh.stats
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(0) += 1;
    let faults = *sh.faults.lock().unwrap_or_else(|e| e.into_inner());
    if faults.latency_ms > 0 {
        tokio::time::sleep(StdDuration::from_millis(faults.latency_ms)).await;
    }
    if let Some(rate) = faults.rate.filter(|r| *r > 0.0) {
        let mut b = sh.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let burst = faults.burst.max(1) as f64;
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
        } else {
            let wait = ((1.0 - b.tokens) / rate).ceil().max(1.0) as u64;
            let mut e = ApiError::new(
                429,
                "rate_limited",
                "You have been rate limited. Please try again in a few minutes.",
            );
            e.retry_after = Some(wait);
            return e.into_response();
        }
    }
    if !bearer_ok(&sh, req.headers()) {
        return unauthorized().into_response();
    }
    if req.headers().get("notion-version").is_none() {
        return ApiError::new(
            400,
            "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be defined, instead was undefined.",
        )
        .into_response();
    }
    if let Err(e) = check_version(req.headers()) {
        return e.into_response();
    }
    if faults.fault_rate > 0.0 && rand::rng().random::<f64>() < faults.fault_rate {
        let (status, code, msg) = [
            (500, "internal_server_error", "Unexpected error occurred."),
            (502, "bad_gateway", "Bad Gateway"),
            (
                503,
                "service_unavailable",
                "Notion is unavailable, please try again later.",
            ),
            (504, "gateway_timeout", "Gateway Timeout"),
        ][rand::rng().random_range(0..4)];
        return ApiError::new(status, code, msg).into_response();
    }
    next.run(req).await
}

/// The oldest `Notion-Version` whose shapes the emulator serves.
pub const MIN_VERSION: &str = "2025-09-03";

/// Accepts `2025-09-03` and later dated versions; older versions would expect other
/// shapes (databases instead of data sources), so they are refused rather than served wrong.
fn check_version(headers: &HeaderMap) -> ApiResult<()> {
    let v = headers
        .get("notion-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_err() {
        return Err(ApiError::validation(format!(
            "Notion-Version header failed validation: Notion-Version header should be a version date such as `{MIN_VERSION}`, instead was `{v}`."
        )));
    }
    if v < MIN_VERSION {
        return Err(ApiError::validation(format!(
            "The notionfs emulator only serves Notion-Version {MIN_VERSION} and later; the request used `{v}`."
        )));
    }
    Ok(())
}

/// Control routes: same token, no version header, not counted.
async fn control_guard(State(sh): Sh, req: Request, next: Next) -> Response {
    if !bearer_ok(&sh, req.headers()) {
        return unauthorized().into_response();
    }
    next.run(req).await
}

async fn serve_file(State(sh): Sh, Path((token, _name)): Path<(String, String)>) -> Response {
    let st = sh.store();
    let now = st.now();
    match st.files.serve(&token, now) {
        Ok(f) => ([(header::CONTENT_TYPE, f.content_type)], f.bytes).into_response(),
        Err(msg) => (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/xml".to_string())],
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{msg}</Message></Error>"),
        )
            .into_response(),
    }
}

/// Parses a JSON body; an empty body is `{}` when `optional`.
pub(crate) fn json_body(body: &Bytes, optional: bool) -> ApiResult<Map<String, Value>> {
    check_payload_size(body.len())?;
    if body.iter().all(u8::is_ascii_whitespace) {
        if optional {
            return Ok(Map::new());
        }
        return Err(ApiError::validation(
            "body failed validation: body should be an object, instead was `undefined`.",
        ));
    }
    let v: Value = serde_json::from_slice(body).map_err(|_| ApiError::invalid_json())?;
    check_arrays(&v, "body")?;
    match v {
        Value::Object(m) => Ok(m),
        other => Err(ApiError::validation(format!(
            "body failed validation: body should be an object, instead was `{other}`."
        ))),
    }
}

/// Signs hosted file URLs and wraps the value.
fn finish(st: &mut Store, mut v: Value) -> Json<Value> {
    let now = st.now();
    st.files.sign_all(&mut v, now);
    Json(v)
}

fn list(results: Vec<Value>, next: Option<String>, ty: &str) -> Value {
    let mut m = Map::new();
    m.insert("object".into(), json!("list"));
    m.insert("results".into(), Value::Array(results));
    m.insert("next_cursor".into(), json!(next));
    m.insert("has_more".into(), json!(next.is_some()));
    m.insert("type".into(), json!(ty));
    m.insert(ty.into(), json!({}));
    m.insert("request_id".into(), json!(new_uuid()));
    Value::Object(m)
}

/// Query-string parameters (`a=b&c=d`, percent-decoded).
fn query_params(raw: &Option<String>) -> Vec<(String, String)> {
    raw.as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let dec = |s: &str| super::util::percent_decode(&s.replace('+', " "));
            (dec(k), dec(v))
        })
        .collect()
}

fn qget<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn paging_from_query(q: &[(String, String)]) -> ApiResult<(Option<String>, usize)> {
    let size = page_size(
        qget(q, "page_size").map(|s| json!(s)).as_ref(),
        "query.page_size",
    )?;
    Ok((qget(q, "start_cursor").map(str::to_string), size))
}

fn paging_from_body(b: &Map<String, Value>) -> ApiResult<(Option<String>, usize)> {
    if let Some(v) = b.get("page_size").filter(|v| !v.is_number()) {
        return Err(ApiError::validation(format!(
            "body failed validation: body.page_size should be a number, instead was `{v}`."
        )));
    }
    Ok((
        start_cursor(b.get("start_cursor"), "body.start_cursor")?,
        page_size(b.get("page_size"), "body.page_size")?,
    ))
}

// ---------------------------------------------------------------- users

async fn users_me(State(sh): Sh) -> JsonResult {
    Ok(Json(sh.store().bot_user()))
}

async fn users_list(State(sh): Sh, RawQuery(q): RawQuery) -> JsonResult {
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let st = sh.store();
    let mut all: Vec<(String, Value)> = st
        .users
        .iter()
        .map(|u| (u["id"].as_str().unwrap_or_default().to_string(), u.clone()))
        .collect();
    all.push((st.bot_id.clone(), st.bot_user()));
    let (items, next) = paginate(&all, cursor.as_deref(), size)?;
    Ok(Json(list(items, next, "user")))
}

async fn user_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "user_id")?;
    sh.store()
        .user(&id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("user", &id))
}

// ---------------------------------------------------------------- search

async fn search(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, true)?;
    check_keys(
        &b,
        &["query", "filter", "sort", "start_cursor", "page_size"],
        "body",
    )?;
    let (cursor, size) = paging_from_body(&b)?;
    let query = match b.get("query") {
        None | Some(Value::Null) => String::new(),
        Some(q) => string(q, "body.query")?.to_lowercase(),
    };
    let mut want = None;
    if let Some(f) = b.get("filter") {
        let fm = obj(f, "body.filter")?;
        check_keys(fm, &["property", "value"], "body.filter")?;
        if fm.get("property").and_then(Value::as_str) != Some("object") {
            return Err(ApiError::validation(
                "body failed validation: body.filter.property should be `\"object\"`.",
            ));
        }
        let v = string(req(fm, "value", "body.filter")?, "body.filter.value")?;
        if v != "page" && v != "data_source" {
            return Err(ApiError::validation(format!(
                "body failed validation: body.filter.value should be `\"page\"` or `\"data_source\"`, instead was `\"{v}\"`."
            )));
        }
        want = Some(v.to_string());
    }
    let mut descending = true;
    if let Some(s) = b.get("sort") {
        let sm = obj(s, "body.sort")?;
        check_keys(sm, &["timestamp", "direction"], "body.sort")?;
        if sm.get("timestamp").and_then(Value::as_str) != Some("last_edited_time") {
            return Err(ApiError::validation(
                "body failed validation: body.sort.timestamp should be `\"last_edited_time\"`.",
            ));
        }
        descending = match sm.get("direction").and_then(Value::as_str) {
            Some("ascending") => false,
            Some("descending") => true,
            _ => return Err(ApiError::validation("body failed validation: body.sort.direction should be `\"ascending\"` or `\"descending\"`.")),
        };
    }
    let mut st = sh.store();
    let mut found: Vec<(chrono::DateTime<chrono::Utc>, usize, String, Value)> = Vec::new();
    let mut order = 0usize;
    if want.as_deref() != Some("data_source") {
        for id in &st.page_order {
            let Some(p) = st.pages.get(id) else { continue };
            if st.trashed(id) || !st.page_title_plain(p).to_lowercase().contains(&query) {
                continue;
            }
            if let Some(v) = st.render_page(id) {
                found.push((p.edited, order, id.clone(), v));
                order += 1;
            }
        }
    }
    if want.as_deref() != Some("page") {
        let mut ids: Vec<&DataSource> = st.data_sources.values().collect();
        ids.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        for ds in ids {
            if st.trashed(&ds.id) {
                continue;
            }
            let db_title = st
                .databases
                .get(&ds.database_id)
                .map(|d| plain(&d.title))
                .unwrap_or_default()
                .to_lowercase();
            if !db_title.contains(&query) && !plain(&ds.title).to_lowercase().contains(&query) {
                continue;
            }
            if let Some(v) = st.render_data_source(&ds.id) {
                found.push((ds.edited, order, ds.id.clone(), v));
                order += 1;
            }
        }
    }
    found.sort_by(|a, b| {
        let o = a.0.cmp(&b.0).then(a.1.cmp(&b.1));
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    let items: Vec<(String, Value)> = found.into_iter().map(|(_, _, id, v)| (id, v)).collect();
    let (page, next) = paginate(&items, cursor.as_deref(), size)?;
    let out = list(page, next, "page_or_data_source");
    Ok(finish(&mut st, out))
}

// ---------------------------------------------------------------- pages

fn page_or_404<'s>(st: &'s Store, id: &str) -> ApiResult<&'s Page> {
    st.pages
        .get(id)
        .ok_or_else(|| ApiError::not_found("page", id))
}

async fn page_get(State(sh): Sh, Path(id): Path<String>, RawQuery(q): RawQuery) -> JsonResult {
    let id = path_id(&id, "page_id")?;
    let mut st = sh.store();
    let mut v = st
        .render_page(&id)
        .ok_or_else(|| ApiError::not_found("page", &id))?;
    let filter: Vec<String> = query_params(&q)
        .into_iter()
        .filter(|(k, _)| k == "filter_properties" || k == "filter_properties[]")
        .map(|(_, v)| v)
        .collect();
    if !filter.is_empty() {
        filter_properties(&mut v, &filter);
    }
    Ok(finish(&mut st, v))
}

fn filter_properties(page: &mut Value, keep: &[String]) {
    if let Some(props) = page.get_mut("properties").and_then(Value::as_object_mut) {
        props.retain(|name, p| {
            let id = p["id"].as_str().unwrap_or_default();
            keep.iter().any(|k| {
                k == name
                    || k == id
                    || super::util::percent_decode(k) == super::util::percent_decode(id)
            })
        });
    }
}

/// Resolves a `parent` of Create page / Move page into (parent json, container id).
fn resolve_page_parent(
    st: &Store,
    v: &Value,
    path: &str,
    allow_workspace: bool,
) -> ApiResult<(Value, Option<String>)> {
    let m = obj(v, path)?;
    let ty = match m.get("type") {
        Some(t) => string(t, &format!("{path}.type"))?.to_string(),
        None => ["page_id", "data_source_id", "database_id", "workspace"]
            .iter()
            .find(|k| m.contains_key(**k))
            .map(|s| s.to_string())
            .ok_or_else(|| ApiError::validation(format!("body failed validation: {path}.page_id should be defined, instead was `undefined`.")))?,
    };
    check_keys(m, &["type", ty.as_str()], path)?;
    match ty.as_str() {
        "page_id" => {
            let id = body_id(req(m, "page_id", path)?, &format!("{path}.page_id"))?;
            if st.pages.contains_key(&id) {
                return Ok((json!({"type": "page_id", "page_id": id}), Some(id)));
            }
            if let Some(d) = st.databases.get(&id) {
                // single-source databases are tolerated under page_id by Move page
                if d.data_sources.len() == 1 {
                    let ds = d.data_sources[0].clone();
                    return Ok((
                        json!({"type": "data_source_id", "data_source_id": ds, "database_id": id}),
                        None,
                    ));
                }
            }
            Err(ApiError::not_found("page", &id))
        }
        "data_source_id" => {
            let id = body_id(
                req(m, "data_source_id", path)?,
                &format!("{path}.data_source_id"),
            )?;
            let ds = st
                .data_sources
                .get(&id)
                .ok_or_else(|| ApiError::not_found("data source", &id))?;
            Ok((
                json!({"type": "data_source_id", "data_source_id": id, "database_id": ds.database_id}),
                None,
            ))
        }
        "database_id" => {
            let id = body_id(req(m, "database_id", path)?, &format!("{path}.database_id"))?;
            let d = st
                .databases
                .get(&id)
                .ok_or_else(|| ApiError::not_found("database", &id))?;
            let live: Vec<&String> = d
                .data_sources
                .iter()
                .filter(|s| st.data_sources.get(*s).is_some_and(|s| !s.in_trash))
                .collect();
            if live.len() != 1 {
                return Err(ApiError::validation(format!(
                    "Database {id} has {} data sources; use a data_source_id parent instead of database_id.",
                    live.len()
                )));
            }
            Ok((
                json!({"type": "data_source_id", "data_source_id": live[0], "database_id": id}),
                None,
            ))
        }
        "workspace" if !allow_workspace => Err(ApiError::validation(
            "A page or data source parent is required: internal integrations cannot create workspace-level pages.",
        )),
        "workspace" => {
            if m.get("workspace") != Some(&Value::Bool(true)) {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.workspace should be `true`."
                )));
            }
            Ok((json!({"type": "workspace", "workspace": true}), None))
        }
        other => Err(ApiError::validation(format!(
            "body failed validation: {path}.type `{other}` is not a valid parent type here."
        ))),
    }
}

fn ds_of_parent(parent: &Value) -> Option<String> {
    (parent["type"] == "data_source_id").then(|| {
        parent["data_source_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    })
}

async fn page_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "parent",
            "properties",
            "children",
            "icon",
            "cover",
            "template",
            "content",
        ],
        "body",
    )?;
    if b.contains_key("content") {
        return Err(ApiError::validation(
            "body failed validation: body.content should be not present; use children.",
        ));
    }
    let mut st = sh.store();
    let (parent, container) =
        resolve_page_parent(&st, req(&b, "parent", "body")?, "body.parent", false)?;
    if let Some(c) = &container {
        st.require_live(c)?;
    }
    if let Some(t) = b.get("template") {
        let tm = obj(t, "body.template")?;
        if tm.get("type").and_then(Value::as_str) != Some("none") {
            return Err(ApiError::validation(
                "The data source has no templates; only `{\"type\":\"none\"}` is accepted.",
            ));
        }
    }
    let ds_id = ds_of_parent(&parent);
    let ing = Ingest::new(&st, false);
    let ds = ds_id.as_ref().and_then(|d| st.data_sources.get(d));
    let (values, new_opts) = match b.get("properties") {
        Some(p) => write_props(&ing, ds, p, "body.properties")?,
        None => (Map::new(), Vec::new()),
    };
    let icon = match b.get("icon") {
        None | Some(Value::Null) => Value::Null,
        Some(i) => ing.icon(i, "body.icon")?,
    };
    let cover = match b.get("cover") {
        None | Some(Value::Null) => Value::Null,
        Some(c) => ing.cover(c, "body.cover")?,
    };
    let children = match b.get("children") {
        Some(c) => ing.blocks(c, "body.children", 0)?,
        None => vec![],
    };
    let attach = ing.attach.take();
    drop(ing);
    let now = st.now();
    let bot = st.bot_id.clone();
    let id = new_uuid();
    let mut props = values;
    if let Some(ds_id) = &ds_id {
        let ds = st.data_sources.get_mut(ds_id).expect("resolved above");
        add_options(ds, new_opts);
        init_row_props(ds, &mut props);
    }
    st.pages.insert(
        id.clone(),
        Page {
            id: id.clone(),
            parent: parent.clone(),
            props,
            icon,
            cover,
            created: now,
            edited: now,
            created_by: bot.clone(),
            edited_by: bot.clone(),
            in_trash: false,
            is_locked: false,
        },
    );
    st.page_order.push(id.clone());
    let kids: Vec<String> = children
        .into_iter()
        .map(|c| st.create_block_tree(&id, c, &bot, now))
        .collect();
    if !kids.is_empty() {
        st.children.insert(id.clone(), kids);
    }
    if let Some(c) = container {
        st.place_children(&c, std::slice::from_ref(&id), &Position::End);
        st.touch(&c, &bot);
    }
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_page(&id).expect("just created");
    Ok(finish(&mut st, v))
}

/// Fills computed defaults of a new row: unique ids and the default status.
pub(crate) fn init_row_props(ds: &mut DataSource, props: &mut Map<String, Value>) {
    let schema: Vec<Value> = ds.properties.values().cloned().collect();
    for s in schema {
        let pid = s["id"].as_str().unwrap_or_default().to_string();
        match s["type"].as_str() {
            Some("unique_id") => {
                let n = ds.counters.entry(pid.clone()).or_insert(0);
                *n += 1;
                props.insert(pid, json!({"type": "unique_id", "unique_id": {"number": *n, "prefix": s["unique_id"]["prefix"]}}));
            }
            Some("status") if !props.contains_key(&pid) => {
                if let Some(first) = s["status"]["options"].as_array().and_then(|a| a.first()) {
                    props.insert(pid, json!({"type": "status", "status": {"id": first["id"], "name": first["name"], "color": first["color"]}}));
                }
            }
            _ => {}
        }
    }
}

async fn page_update(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "page_id")?;
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "properties",
            "in_trash",
            "archived",
            "icon",
            "cover",
            "is_locked",
            "template",
            "erase_content",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let page = page_or_404(&st, &id)?.clone();
    let trash_flag = match (b.get("in_trash"), b.get("archived")) {
        (Some(a), Some(c)) if a != c => {
            return Err(ApiError::validation(
                "body.in_trash and body.archived must agree.",
            ))
        }
        (Some(v), _) | (None, Some(v)) => Some(super::validate::boolean(v, "body.in_trash")?),
        _ => None,
    };
    let restoring = trash_flag == Some(false);
    if st.trashed(&id) && !restoring {
        return Err(ApiError::validation(format!(
            "Can't edit page on block with an archived ancestor or a page that is archived: {id}. Restore it first with in_trash: false."
        )));
    }
    if b.get("template").is_some() {
        return Err(ApiError::validation(
            "The data source has no templates to apply.",
        ));
    }
    let ds_id = ds_of_parent(&page.parent);
    let ing = Ingest::new(&st, false);
    let ds = ds_id.as_ref().and_then(|d| st.data_sources.get(d));
    let (values, new_opts) = match b.get("properties") {
        Some(p) => write_props(&ing, ds, p, "body.properties")?,
        None => (Map::new(), Vec::new()),
    };
    let icon = match b.get("icon") {
        None => None,
        Some(Value::Null) => Some(Value::Null),
        Some(i) => Some(ing.icon(i, "body.icon")?),
    };
    let cover = match b.get("cover") {
        None => None,
        Some(Value::Null) => Some(Value::Null),
        Some(c) => Some(ing.cover(c, "body.cover")?),
    };
    let locked = match b.get("is_locked") {
        Some(l) => Some(super::validate::boolean(l, "body.is_locked")?),
        None => None,
    };
    let erase = match b.get("erase_content") {
        Some(e) => super::validate::boolean(e, "body.erase_content")?,
        None => false,
    };
    let attach = ing.attach.take();
    drop(ing);
    if let Some(ds_id) = &ds_id {
        if let Some(ds) = st.data_sources.get_mut(ds_id) {
            add_options(ds, new_opts);
        }
    }
    let bot = st.bot_id.clone();
    let now = st.now();
    {
        let p = st.pages.get_mut(&id).expect("checked above");
        for (k, v) in values {
            p.props.insert(k, v);
        }
        if let Some(i) = icon {
            p.icon = i;
        }
        if let Some(c) = cover {
            p.cover = c;
        }
        if let Some(l) = locked {
            p.is_locked = l;
        }
        if let Some(t) = trash_flag {
            p.in_trash = t;
        }
        p.edited = now;
        p.edited_by = bot.clone();
    }
    if erase {
        for c in st.children.remove(&id).unwrap_or_default() {
            trash_any(&mut st, &c);
        }
    }
    if trash_flag.is_some() {
        if let Some(parent) = parent_ref(&page.parent)
            .filter(|p| st.pages.contains_key(p) || st.blocks.contains_key(p))
        {
            st.touch(&parent, &bot);
        }
    }
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_page(&id).expect("exists");
    Ok(finish(&mut st, v))
}

fn trash_any(st: &mut Store, id: &str) {
    if let Some(p) = st.pages.get_mut(id) {
        p.in_trash = true;
    } else if let Some(b) = st.blocks.get_mut(id) {
        b.in_trash = true;
    } else if let Some(d) = st.databases.get_mut(id) {
        d.in_trash = true;
    }
}

async fn page_move(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "page_id")?;
    let b = json_body(&body, false)?;
    check_keys(&b, &["parent"], "body")?;
    let mut st = sh.store();
    if st.databases.contains_key(&id) {
        return Err(ApiError::validation("Moving databases is not supported by this endpoint; update the database's parent instead."));
    }
    let page = page_or_404(&st, &id)?.clone();
    let (parent, container) =
        resolve_page_parent(&st, req(&b, "parent", "body")?, "body.parent", false)?;
    if let Some(c) = &container {
        // no cycles: the new parent may not be the page itself or one of its descendants
        let mut cur = Some(c.clone());
        while let Some(x) = cur {
            if x == id {
                return Err(ApiError::validation(
                    "A page cannot be moved into itself or one of its descendants.",
                ));
            }
            cur = st
                .pages
                .get(&x)
                .and_then(|p| parent_ref(&p.parent))
                .or_else(|| st.blocks.get(&x).and_then(|b| parent_ref(&b.parent)));
        }
        st.require_live(c)?;
    }
    let bot = st.bot_id.clone();
    if let Some(old) = parent_ref(&page.parent) {
        st.unplace(&old, &id);
        if st.pages.contains_key(&old) || st.blocks.contains_key(&old) {
            st.touch(&old, &bot);
        }
    }
    // keep the title; other properties only make sense in the old schema
    let title = st.page_title(&page);
    let new_ds = ds_of_parent(&parent);
    let mut props = Map::new();
    match &new_ds {
        Some(ds_id) => {
            let ds = st.data_sources.get_mut(ds_id).expect("resolved");
            let tid = ds
                .properties
                .values()
                .find(|p| p["type"] == "title")
                .and_then(|p| p["id"].as_str())
                .unwrap_or("title")
                .to_string();
            props.insert(tid, json!({"type": "title", "title": title}));
            if ds_of_parent(&page.parent).as_deref() == Some(ds_id.as_str()) {
                props = page.props.clone();
            } else {
                init_row_props(ds, &mut props);
            }
        }
        None => {
            props.insert("title".into(), json!({"type": "title", "title": title}));
        }
    }
    let now = st.now();
    {
        let p = st.pages.get_mut(&id).expect("exists");
        p.parent = parent;
        p.props = props;
        p.edited = now;
        p.edited_by = bot.clone();
    }
    if let Some(c) = container {
        st.place_children(&c, std::slice::from_ref(&id), &Position::End);
        st.touch(&c, &bot);
    }
    let v = st.render_page(&id).expect("exists");
    Ok(finish(&mut st, v))
}

async fn page_property(
    State(sh): Sh,
    Path((id, prop)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> JsonResult {
    let id = path_id(&id, "page_id")?;
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let mut st = sh.store();
    let page = page_or_404(&st, &id)?.clone();
    let rendered = st.render_properties(&page, false);
    let decoded = super::util::percent_decode(&prop);
    let found = rendered
        .as_object()
        .and_then(|m| {
            m.values()
                .find(|p| {
                    p["id"] == prop.as_str()
                        || super::util::percent_decode(p["id"].as_str().unwrap_or_default())
                            == decoded
                })
                .cloned()
        })
        .ok_or_else(|| ApiError::not_found("property", &prop))?;
    let ty = found["type"].as_str().unwrap_or_default().to_string();
    let pid = found["id"].clone();
    let out = if ["title", "rich_text", "relation", "people"].contains(&ty.as_str()) {
        let items: Vec<Value> = found[&ty].as_array().cloned().unwrap_or_default();
        let start = match cursor {
            None => 0,
            Some(c) => c
                .strip_prefix("pi")
                .and_then(|n| usize::from_str_radix(n, 16).ok())
                .filter(|n| *n <= items.len())
                .ok_or_else(|| {
                    ApiError::validation(format!("start_cursor provided is invalid: {c}"))
                })?,
        };
        let end = (start + size).min(items.len());
        let results: Vec<Value> = items[start..end]
            .iter()
            .map(|it| json!({"object": "property_item", "id": pid, "type": ty, ty.clone(): it}))
            .collect();
        let next = (end < items.len()).then(|| format!("pi{end:08x}"));
        let base = st.files.base_url.clone();
        let next_url = next.as_ref().map(|n| {
            format!(
                "{base}/v1/pages/{id}/properties/{}?start_cursor={n}&page_size={size}",
                pid.as_str().unwrap_or_default()
            )
        });
        let mut m = Map::new();
        m.insert("object".into(), json!("list"));
        m.insert("results".into(), Value::Array(results));
        m.insert("next_cursor".into(), json!(next));
        m.insert("has_more".into(), json!(next.is_some()));
        m.insert("type".into(), json!("property_item"));
        m.insert(
            "property_item".into(),
            json!({"id": pid, "next_url": next_url, "type": ty, ty.clone(): {}}),
        );
        Value::Object(m)
    } else {
        json!({"object": "property_item", "id": pid, "type": ty, ty.clone(): found[&ty]})
    };
    Ok(finish(&mut st, out))
}

// ---------------------------------------------------------------- blocks

async fn block_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let mut st = sh.store();
    let v = st
        .render_block(&id)
        .ok_or_else(|| ApiError::not_found("block", &id))?;
    Ok(finish(&mut st, v))
}

async fn children_get(State(sh): Sh, Path(id): Path<String>, RawQuery(q): RawQuery) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let mut st = sh.store();
    match st.kind(&id) {
        Some(Kind::Page) | Some(Kind::Block) => {}
        _ => return Err(ApiError::not_found("block", &id)),
    }
    let kids: Vec<(String, Value)> = st
        .visible_children(&id)
        .into_iter()
        .filter_map(|c| st.render_block(&c).map(|v| (c, v)))
        .collect();
    let (page, next) = paginate(&kids, cursor.as_deref(), size)?;
    let out = list(page, next, "block");
    Ok(finish(&mut st, out))
}

async fn children_append(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let b = json_body(&body, false)?;
    check_keys(&b, &["children", "position", "after"], "body")?;
    if b.contains_key("after") && b.contains_key("position") {
        return Err(ApiError::validation("body failed validation: you cannot specify both `after` and `position` in the same request."));
    }
    let mut st = sh.store();
    let (pty, pdata) = match st.kind(&id) {
        Some(Kind::Page) => ("child_page".to_string(), json!({})),
        Some(Kind::Block) => {
            let bl = &st.blocks[&id];
            (bl.ty.clone(), bl.data.clone())
        }
        _ => return Err(ApiError::not_found("block", &id)),
    };
    st.require_live(&id)?;
    if !supports_children(&pty, &pdata) {
        return Err(ApiError::validation(format!(
            "Block type `{pty}` does not support children."
        )));
    }
    let visible = st.visible_children(&id);
    let pos = match (b.get("position"), b.get("after")) {
        (Some(p), _) => {
            let pm = obj(p, "body.position")?;
            let ty = string(req(pm, "type", "body.position")?, "body.position.type")?;
            match ty {
                "start" => { check_keys(pm, &["type", "start"], "body.position")?; Position::Start }
                "end" => { check_keys(pm, &["type", "end"], "body.position")?; Position::End }
                "after_block" => {
                    check_keys(pm, &["type", "after_block"], "body.position")?;
                    let ab = obj(req(pm, "after_block", "body.position")?, "body.position.after_block")?;
                    check_keys(ab, &["id"], "body.position.after_block")?;
                    Position::After(body_id(req(ab, "id", "body.position.after_block")?, "body.position.after_block.id")?)
                }
                other => return Err(ApiError::validation(format!(
                    "body failed validation: body.position.type should be `start`, `end` or `after_block`, instead was `\"{other}\"`."
                ))),
            }
        }
        (None, Some(a)) => Position::After(body_id(a, "body.after")?),
        (None, None) => Position::End,
    };
    if let Position::After(a) = &pos {
        if !visible.contains(a) {
            return Err(ApiError::validation(format!("Block {a} is not a child of {id}; `after_block` must reference an existing child block.")));
        }
    }
    let ing = Ingest::new(&st, false);
    let children = ing.blocks(req(&b, "children", "body")?, "body.children", 0)?;
    for (i, c) in children.iter().enumerate() {
        check_child_type(
            &pty,
            pdata.as_object().unwrap_or(&Map::new()),
            &c.ty,
            &c.data,
            &format!("body.children[{i}]"),
        )?;
    }
    let attach = ing.attach.take();
    drop(ing);
    let bot = st.bot_id.clone();
    let now = st.now();
    let ids: Vec<String> = children
        .into_iter()
        .map(|c| st.create_block_tree(&id, c, &bot, now))
        .collect();
    st.place_children(&id, &ids, &pos);
    st.touch(&id, &bot);
    if let Some(bl) = st.blocks.get_mut(&id) {
        bl.edited = now;
        bl.edited_by = bot.clone();
    }
    for u in attach {
        st.files.mark_attached(&u);
    }
    let results: Vec<Value> = ids.iter().filter_map(|c| st.render_block(c)).collect();
    let out = list(results, None, "block");
    Ok(finish(&mut st, out))
}

async fn block_update(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let b = json_body(&body, false)?;
    let mut st = sh.store();
    let trash_flag = match (b.get("in_trash"), b.get("archived")) {
        (Some(a), Some(c)) if a != c => {
            return Err(ApiError::validation(
                "body.in_trash and body.archived must agree.",
            ))
        }
        (Some(v), _) | (None, Some(v)) => Some(super::validate::boolean(v, "body.in_trash")?),
        _ => None,
    };
    let bot = st.bot_id.clone();
    match st.kind(&id) {
        Some(Kind::Page) | Some(Kind::Database) => {
            let allowed: &[&str] = &["in_trash", "archived"];
            check_keys(&b, allowed, "body")?;
            if let Some(t) = trash_flag {
                let parent = if let Some(p) = st.pages.get_mut(&id) {
                    p.in_trash = t;
                    parent_ref(&p.parent)
                } else {
                    let d = st.databases.get_mut(&id).expect("kind checked");
                    d.in_trash = t;
                    parent_ref(&d.parent)
                };
                if let Some(p) =
                    parent.filter(|p| st.pages.contains_key(p) || st.blocks.contains_key(p))
                {
                    st.touch(&p, &bot);
                }
            }
            let v = st.render_block(&id).expect("exists");
            return Ok(finish(&mut st, v));
        }
        Some(Kind::Block) => {}
        _ => return Err(ApiError::not_found("block", &id)),
    }
    let block = st.blocks[&id].clone();
    let ty = block.ty.clone();
    check_keys(&b, &["in_trash", "archived", "type", ty.as_str()], "body").map_err(|e| {
        match b.keys().find(|k| super::validate::BLOCK_TYPES.contains(&k.as_str()) && **k != ty) {
            Some(other) => ApiError::validation(format!("body failed validation: the block type cannot be changed (block is `{ty}`, request has `{other}`).")),
            None => e,
        }
    })?;
    if let Some(t) = b.get("type") {
        if t != ty.as_str() {
            return Err(ApiError::validation(format!(
                "body failed validation: the block type cannot be changed (block is `{ty}`)."
            )));
        }
    }
    if st.trashed(&id) && trash_flag != Some(false) {
        return Err(ApiError::not_found("block", &id));
    }
    let mut new_data = block.data.clone();
    let mut attach = Vec::new();
    if let Some(given) = b.get(&ty) {
        let gpath = format!("body.{ty}");
        let gm = obj(given, &gpath)?;
        if gm.contains_key("children") {
            return Err(ApiError::validation(format!("body failed validation: {gpath}.children should be not present; use Append block children.")));
        }
        match ty.as_str() {
            "synced_block" => {
                return Err(ApiError::validation(
                    "Updating synced block content or synced_from is not supported by the API.",
                ))
            }
            "link_preview" | "template" | "unsupported" | "child_page" | "child_database" => {
                return Err(ApiError::validation(format!(
                    "Block type `{ty}` cannot be updated through this endpoint."
                )))
            }
            "table" => {
                check_keys(
                    gm,
                    &["table_width", "has_column_header", "has_row_header"],
                    &gpath,
                )?;
                if let Some(w) = gm.get("table_width") {
                    if *w != new_data["table_width"] {
                        return Err(ApiError::validation(
                            "table_width cannot be changed after the table is created.",
                        ));
                    }
                }
                for k in ["has_column_header", "has_row_header"] {
                    if let Some(v) = gm.get(k) {
                        new_data[k] = json!(super::validate::boolean(v, &format!("{gpath}.{k}"))?);
                    }
                }
            }
            "column_list" => check_keys(gm, &[], &gpath)?,
            "column" => {
                check_keys(gm, &["width_ratio"], &gpath)?;
                if let Some(r) = gm.get("width_ratio") {
                    let r = r
                        .as_f64()
                        .filter(|r| *r > 0.0 && *r <= 1.0)
                        .ok_or_else(|| {
                            ApiError::validation(format!(
                                "{gpath}.width_ratio should be a number between 0 and 1."
                            ))
                        })?;
                    new_data["width_ratio"] = json!(r);
                }
            }
            _ => {
                let mut merged = block.data.as_object().cloned().unwrap_or_default();
                let media = ["image", "video", "audio", "pdf", "file"].contains(&ty.as_str());
                if media
                    && ["type", "external", "file_upload", "file"]
                        .iter()
                        .any(|k| gm.contains_key(*k))
                {
                    for k in ["type", "external", "file_upload", "file"] {
                        merged.remove(k);
                    }
                }
                for (k, v) in gm {
                    merged.insert(k.clone(), v.clone());
                }
                if ty.starts_with("heading_")
                    && merged.get("is_toggleable") == Some(&Value::Bool(false))
                    && !st.visible_children(&id).is_empty()
                {
                    return Err(ApiError::validation("All children of a toggle heading must be removed before it can be made non-toggleable."));
                }
                let mut ing = Ingest::new(&st, false);
                ing.allow_hosted = true;
                let parsed = ing.block(
                    &json!({"type": ty, ty.clone(): Value::Object(merged)}),
                    "body",
                    0,
                )?;
                if ty == "table_row" {
                    if let Some(parent) = parent_ref(&block.parent).and_then(|p| st.blocks.get(&p))
                    {
                        let pd = parent.data.as_object().cloned().unwrap_or_default();
                        check_child_type(
                            "table",
                            &pd,
                            "table_row",
                            &parsed.data,
                            &format!("body.{ty}"),
                        )?;
                    }
                }
                attach = ing.attach.take();
                new_data = parsed.data;
            }
        }
    }
    let now = st.now();
    {
        let bl = st.blocks.get_mut(&id).expect("exists");
        bl.data = new_data;
        if let Some(t) = trash_flag {
            bl.in_trash = t;
        }
        bl.edited = now;
        bl.edited_by = bot.clone();
    }
    st.touch(&id, &bot);
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_block(&id).expect("exists");
    Ok(finish(&mut st, v))
}

async fn block_delete(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "block_id")?;
    let mut st = sh.store();
    if !matches!(
        st.kind(&id),
        Some(Kind::Page | Kind::Block | Kind::Database)
    ) {
        return Err(ApiError::not_found("block", &id));
    }
    let bot = st.bot_id.clone();
    let parent = st
        .pages
        .get(&id)
        .map(|p| p.parent.clone())
        .or_else(|| st.blocks.get(&id).map(|b| b.parent.clone()))
        .or_else(|| st.databases.get(&id).map(|d| d.parent.clone()));
    trash_any(&mut st, &id);
    let now = st.now();
    if let Some(b) = st.blocks.get_mut(&id) {
        b.edited = now;
        b.edited_by = bot.clone();
    }
    if let Some(p) = parent
        .as_ref()
        .and_then(parent_ref)
        .filter(|p| st.pages.contains_key(p) || st.blocks.contains_key(p))
    {
        st.touch(&p, &bot);
    }
    let v = st.render_block(&id).expect("exists");
    Ok(finish(&mut st, v))
}

// ---------------------------------------------------------------- databases / data sources

async fn database_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "database_id")?;
    let mut st = sh.store();
    let v = st
        .render_database(&id)
        .ok_or_else(|| ApiError::not_found("database", &id))?;
    Ok(finish(&mut st, v))
}

async fn database_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "parent",
            "title",
            "description",
            "icon",
            "cover",
            "is_inline",
            "initial_data_source",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let pm = obj(req(&b, "parent", "body")?, "body.parent")?;
    let pty = pm
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(if pm.contains_key("page_id") {
            "page_id"
        } else {
            "workspace"
        });
    check_keys(pm, &["type", pty], "body.parent")?;
    let (parent, container) = match pty {
        "page_id" => {
            let pid = body_id(req(pm, "page_id", "body.parent")?, "body.parent.page_id")?;
            page_or_404(&st, &pid)?;
            st.require_live(&pid)?;
            (json!({"type": "page_id", "page_id": pid}), Some(pid))
        }
        "workspace" => {
            return Err(ApiError::validation(
                "A page parent is required: internal integrations cannot create workspace-level databases.",
            ))
        }
        other => {
            return Err(ApiError::validation(format!(
            "body failed validation: body.parent.type `{other}` is not supported for databases."
        )))
        }
    };
    let ing = Ingest::new(&st, false);
    let title = match b.get("title") {
        Some(t) => ing.rich_text(t, "body.title")?,
        None => json!([]),
    };
    let description = match b.get("description") {
        Some(t) => ing.rich_text(t, "body.description")?,
        None => json!([]),
    };
    let icon = match b.get("icon") {
        None | Some(Value::Null) => Value::Null,
        Some(i) => ing.icon(i, "body.icon")?,
    };
    let cover = match b.get("cover") {
        None | Some(Value::Null) => Value::Null,
        Some(c) => ing.cover(c, "body.cover")?,
    };
    let is_inline = match b.get("is_inline") {
        Some(v) => super::validate::boolean(v, "body.is_inline")?,
        None => false,
    };
    let attach = ing.attach.take();
    drop(ing);
    let now = st.now();
    let bot = st.bot_id.clone();
    let db_id = new_uuid();
    let ds_id = new_uuid();
    let mut ds = DataSource {
        id: ds_id.clone(),
        database_id: db_id.clone(),
        title: title.clone(),
        description: json!([]),
        icon: Value::Null,
        properties: Map::new(),
        in_trash: false,
        created: now,
        edited: now,
        created_by: bot.clone(),
        edited_by: bot.clone(),
        counters: Default::default(),
    };
    let init = b
        .get("initial_data_source")
        .map(|v| obj(v, "body.initial_data_source"))
        .transpose()?;
    let default_props = json!({"Name": {"title": {}}});
    let props = match init {
        Some(m) => {
            check_keys(m, &["properties"], "body.initial_data_source")?;
            m.get("properties").unwrap_or(&default_props)
        }
        None => &default_props,
    };
    apply_schema(
        &st,
        &mut ds,
        props,
        "body.initial_data_source.properties",
        true,
        false,
    )?;
    st.data_sources.insert(ds_id.clone(), ds);
    st.databases.insert(
        db_id.clone(),
        Database {
            id: db_id.clone(),
            parent,
            title,
            description,
            icon,
            cover,
            is_inline,
            in_trash: false,
            is_locked: false,
            data_sources: vec![ds_id],
            created: now,
            edited: now,
            created_by: bot.clone(),
            edited_by: bot.clone(),
        },
    );
    if let Some(c) = container {
        st.place_children(&c, std::slice::from_ref(&db_id), &Position::End);
        st.touch(&c, &bot);
    }
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_database(&db_id).expect("created");
    Ok(finish(&mut st, v))
}

async fn database_update(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "database_id")?;
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "title",
            "description",
            "icon",
            "cover",
            "is_inline",
            "in_trash",
            "archived",
            "is_locked",
        ],
        "body",
    )?;
    let mut st = sh.store();
    if !st.databases.contains_key(&id) {
        return Err(ApiError::not_found("database", &id));
    }
    let trash_flag = match b.get("in_trash").or(b.get("archived")) {
        Some(v) => Some(super::validate::boolean(v, "body.in_trash")?),
        None => None,
    };
    if st.trashed(&id) && trash_flag != Some(false) {
        return Err(ApiError::validation(format!(
            "Can't edit a database that is archived: {id}."
        )));
    }
    let ing = Ingest::new(&st, false);
    let title = b
        .get("title")
        .map(|t| ing.rich_text(t, "body.title"))
        .transpose()?;
    let description = b
        .get("description")
        .map(|t| ing.rich_text(t, "body.description"))
        .transpose()?;
    let icon = match b.get("icon") {
        None => None,
        Some(Value::Null) => Some(Value::Null),
        Some(i) => Some(ing.icon(i, "body.icon")?),
    };
    let cover = match b.get("cover") {
        None => None,
        Some(Value::Null) => Some(Value::Null),
        Some(c) => Some(ing.cover(c, "body.cover")?),
    };
    let inline = b
        .get("is_inline")
        .map(|v| super::validate::boolean(v, "body.is_inline"))
        .transpose()?;
    let locked = b
        .get("is_locked")
        .map(|v| super::validate::boolean(v, "body.is_locked"))
        .transpose()?;
    let attach = ing.attach.take();
    drop(ing);
    let now = st.now();
    let bot = st.bot_id.clone();
    let d = st.databases.get_mut(&id).expect("checked");
    if let Some(t) = title {
        d.title = t;
    }
    if let Some(t) = description {
        d.description = t;
    }
    if let Some(i) = icon {
        d.icon = i;
    }
    if let Some(c) = cover {
        d.cover = c;
    }
    if let Some(i) = inline {
        d.is_inline = i;
    }
    if let Some(l) = locked {
        d.is_locked = l;
    }
    if let Some(t) = trash_flag {
        d.in_trash = t;
    }
    d.edited = now;
    d.edited_by = bot.clone();
    let parent = parent_ref(&d.parent);
    if let Some(p) = parent.filter(|p| st.pages.contains_key(p)) {
        st.touch(&p, &bot);
    }
    for u in attach {
        st.files.mark_attached(&u);
    }
    let v = st.render_database(&id).expect("exists");
    Ok(finish(&mut st, v))
}

async fn data_source_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "data_source_id")?;
    let mut st = sh.store();
    let v = st
        .render_data_source(&id)
        .ok_or_else(|| ApiError::not_found("data source", &id))?;
    Ok(finish(&mut st, v))
}

async fn data_source_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &["parent", "title", "properties", "icon", "description"],
        "body",
    )?;
    let mut st = sh.store();
    let pm = obj(req(&b, "parent", "body")?, "body.parent")?;
    check_keys(pm, &["type", "database_id"], "body.parent")?;
    if pm.get("type").is_some_and(|t| t != "database_id") {
        return Err(ApiError::validation(
            "body failed validation: body.parent.type should be `\"database_id\"`.",
        ));
    }
    let db_id = body_id(
        req(pm, "database_id", "body.parent")?,
        "body.parent.database_id",
    )?;
    if !st.databases.contains_key(&db_id) {
        return Err(ApiError::not_found("database", &db_id));
    }
    st.require_live(&db_id)?;
    let ing = Ingest::new(&st, false);
    let title = match b.get("title") {
        Some(t) => ing.rich_text(t, "body.title")?,
        None => json!([]),
    };
    let description = match b.get("description") {
        Some(t) => ing.rich_text(t, "body.description")?,
        None => json!([]),
    };
    let icon = match b.get("icon") {
        None | Some(Value::Null) => Value::Null,
        Some(i) => ing.icon(i, "body.icon")?,
    };
    drop(ing);
    let now = st.now();
    let bot = st.bot_id.clone();
    let id = new_uuid();
    let mut ds = DataSource {
        id: id.clone(),
        database_id: db_id.clone(),
        title,
        description,
        icon,
        properties: Map::new(),
        in_trash: false,
        created: now,
        edited: now,
        created_by: bot.clone(),
        edited_by: bot.clone(),
        counters: Default::default(),
    };
    apply_schema(
        &st,
        &mut ds,
        req(&b, "properties", "body")?,
        "body.properties",
        true,
        false,
    )?;
    st.data_sources.insert(id.clone(), ds);
    let d = st.databases.get_mut(&db_id).expect("checked");
    d.data_sources.push(id.clone());
    d.edited = now;
    let v = st.render_data_source(&id).expect("created");
    Ok(finish(&mut st, v))
}

async fn data_source_update(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "data_source_id")?;
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "title",
            "description",
            "icon",
            "properties",
            "in_trash",
            "archived",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let mut ds = st
        .data_sources
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("data source", &id))?;
    let trash_flag = match b.get("in_trash").or(b.get("archived")) {
        Some(v) => Some(super::validate::boolean(v, "body.in_trash")?),
        None => None,
    };
    if st.trashed(&id) && trash_flag != Some(false) {
        return Err(ApiError::validation(format!(
            "Can't edit a data source that is archived: {id}."
        )));
    }
    let ing = Ingest::new(&st, false);
    if let Some(t) = b.get("title") {
        ds.title = ing.rich_text(t, "body.title")?;
    }
    if let Some(t) = b.get("description") {
        ds.description = ing.rich_text(t, "body.description")?;
    }
    if let Some(i) = b.get("icon") {
        ds.icon = if i.is_null() {
            Value::Null
        } else {
            ing.icon(i, "body.icon")?
        };
    }
    drop(ing);
    if let Some(p) = b.get("properties") {
        apply_schema(&st, &mut ds, p, "body.properties", false, false)?;
    }
    if let Some(t) = trash_flag {
        ds.in_trash = t;
    }
    ds.edited = st.now();
    ds.edited_by = st.bot_id.clone();
    st.data_sources.insert(id.clone(), ds);
    let v = st.render_data_source(&id).expect("exists");
    Ok(finish(&mut st, v))
}

async fn data_source_query(
    State(sh): Sh,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> JsonResult {
    let id = path_id(&id, "data_source_id")?;
    let b = json_body(&body, true)?;
    check_keys(
        &b,
        &[
            "filter",
            "sorts",
            "start_cursor",
            "page_size",
            "result_type",
            "in_trash",
            "archived",
        ],
        "body",
    )?;
    let (cursor, size) = paging_from_body(&b)?;
    let mut st = sh.store();
    let ds = st
        .data_sources
        .get(&id)
        .ok_or_else(|| ApiError::not_found("data source", &id))?
        .clone();
    let sorts = match b.get("sorts") {
        Some(s) => query::check_sorts(&ds, s, "body.sorts")?,
        None => vec![],
    };
    let mut rows: Vec<&Page> = Vec::new();
    for pid in &st.page_order {
        let Some(p) = st.pages.get(pid) else { continue };
        if p.parent["data_source_id"] != id.as_str() || st.trashed(pid) {
            continue;
        }
        if let Some(f) = b.get("filter") {
            if !query::matches(&st, &ds, p, f, "body.filter", 0)? {
                continue;
            }
        }
        rows.push(p);
    }
    if !sorts.is_empty() {
        query::sort_rows(&st, &ds, &mut rows, &sorts);
    }
    let filter: Vec<String> = query_params(&q)
        .into_iter()
        .filter(|(k, _)| k == "filter_properties" || k == "filter_properties[]")
        .map(|(_, v)| v)
        .collect();
    let items: Vec<(String, Value)> = rows
        .iter()
        .filter_map(|p| {
            let mut v = st.render_page(&p.id)?;
            if !filter.is_empty() {
                filter_properties(&mut v, &filter);
            }
            Some((p.id.clone(), v))
        })
        .collect();
    let (page, next) = paginate(&items, cursor.as_deref(), size)?;
    let out = list(page, next, "page_or_data_source");
    Ok(finish(&mut st, out))
}

// ---------------------------------------------------------------- comments

async fn comments_list(State(sh): Sh, RawQuery(q): RawQuery) -> JsonResult {
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let raw = qget(&q, "block_id").ok_or_else(|| {
        ApiError::validation(
            "query failed validation: query.block_id should be defined, instead was `undefined`.",
        )
    })?;
    let id = super::util::parse_id(raw).ok_or_else(|| ApiError::validation(format!("query failed validation: query.block_id should be a valid uuid, instead was `\"{raw}\"`.")))?;
    let mut st = sh.store();
    if !matches!(st.kind(&id), Some(Kind::Page | Kind::Block)) {
        return Err(ApiError::not_found("block", &id));
    }
    let items: Vec<(String, Value)> = st
        .comments
        .iter()
        .filter(|c| parent_ref(&c["parent"]).as_deref() == Some(id.as_str()))
        .map(|c| (c["id"].as_str().unwrap_or_default().to_string(), c.clone()))
        .collect();
    let (page, next) = paginate(&items, cursor.as_deref(), size)?;
    let out = list(page, next, "comment");
    Ok(finish(&mut st, out))
}

async fn comment_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "comment_id")?;
    let mut st = sh.store();
    let c = st
        .comments
        .iter()
        .find(|c| c["id"] == id.as_str())
        .cloned()
        .ok_or_else(|| ApiError::not_found("comment", &id))?;
    Ok(finish(&mut st, c))
}

/// The emulator has no data source templates: the list is always empty.
async fn data_source_templates(
    State(sh): Sh,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> JsonResult {
    let id = path_id(&id, "data_source_id")?;
    let q = query_params(&q);
    paging_from_query(&q)?;
    let st = sh.store();
    if !st.data_sources.contains_key(&id) {
        return Err(ApiError::not_found("data source", &id));
    }
    Ok(Json(
        json!({"templates": [], "has_more": false, "next_cursor": null}),
    ))
}

async fn comment_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, false)?;
    check_keys(
        &b,
        &[
            "parent",
            "discussion_id",
            "rich_text",
            "attachments",
            "display_name",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let (parent, discussion) = match (b.get("parent"), b.get("discussion_id")) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::validation("body failed validation: exactly one of body.parent or body.discussion_id should be defined."))
        }
        (Some(p), None) => {
            let pm = obj(p, "body.parent")?;
            let ty = pm.get("type").and_then(Value::as_str).unwrap_or(if pm.contains_key("block_id") { "block_id" } else { "page_id" });
            check_keys(pm, &["type", ty], "body.parent")?;
            if ty != "page_id" && ty != "block_id" {
                return Err(ApiError::validation("body failed validation: body.parent.type should be `page_id` or `block_id`."));
            }
            let pid = body_id(req(pm, ty, "body.parent")?, &format!("body.parent.{ty}"))?;
            let ok = if ty == "page_id" { st.pages.contains_key(&pid) } else { st.blocks.contains_key(&pid) };
            if !ok {
                return Err(ApiError::not_found(if ty == "page_id" { "page" } else { "block" }, &pid));
            }
            (json!({"type": ty, ty: pid}), new_uuid())
        }
        (None, Some(d)) => {
            let did = body_id(d, "body.discussion_id")?;
            let first = st.comments.iter().find(|c| c["discussion_id"] == did.as_str()).ok_or_else(|| ApiError::not_found("discussion", &did))?;
            (first["parent"].clone(), did)
        }
    };
    let ing = Ingest::new(&st, false);
    let rich_text = ing.rich_text(req(&b, "rich_text", "body")?, "body.rich_text")?;
    let mut attachments = Vec::new();
    if let Some(a) = b.get("attachments") {
        let items = super::validate::arr(a, "body.attachments")?;
        if items.len() > 3 {
            return Err(ApiError::validation(format!("body failed validation: body.attachments.length should be ≤ `3`, instead was `{}`.", items.len())));
        }
        for (i, it) in items.iter().enumerate() {
            let path = format!("body.attachments[{i}]");
            let m = obj(it, &path)?;
            check_keys(m, &["file_upload_id", "type"], &path)?;
            let uid = body_id(
                req(m, "file_upload_id", &path)?,
                &format!("{path}.file_upload_id"),
            )?;
            let (key, ct) = st.files.attachable(&uid, st.now())?;
            let category = if ct.starts_with("image/") {
                "image"
            } else if ct.starts_with("video/") {
                "video"
            } else if ct.starts_with("audio/") {
                "audio"
            } else if ct == "application/pdf" {
                "pdf"
            } else {
                "productivity"
            };
            attachments.push((uid, json!({"category": category, "file": {"hosted": key}})));
        }
    }
    let display_name = match b.get("display_name") {
        None => json!({"type": "integration", "resolved_name": st.bot_name}),
        Some(d) => {
            let dm = obj(d, "body.display_name")?;
            match dm.get("type").and_then(Value::as_str) {
                Some("integration") => json!({"type": "integration", "resolved_name": st.bot_name}),
                Some("custom") => {
                    let name = dm.get("custom").and_then(|c| c.get("name")).and_then(Value::as_str).ok_or_else(|| ApiError::validation("body.display_name.custom.name should be defined."))?;
                    json!({"type": "custom", "resolved_name": name})
                }
                _ => return Err(ApiError::validation("body failed validation: body.display_name.type should be `integration` or `custom`.")),
            }
        }
    };
    drop(ing);
    let now = minute_iso(st.now());
    let id = new_uuid();
    let mut c = json!({
        "object": "comment", "id": id, "parent": parent, "discussion_id": discussion,
        "created_time": now, "last_edited_time": now, "created_by": partial_user(&st.bot_id),
        "rich_text": rich_text, "display_name": display_name,
    });
    c["attachments"] = Value::Array(attachments.iter().map(|(_, a)| a.clone()).collect());
    for (u, _) in attachments {
        st.files.mark_attached(&u);
    }
    st.comments.push(c.clone());
    Ok(finish(&mut st, c))
}

// ---------------------------------------------------------------- file uploads

async fn upload_create(State(sh): Sh, body: Bytes) -> JsonResult {
    let b = json_body(&body, true)?;
    check_keys(
        &b,
        &[
            "mode",
            "filename",
            "content_type",
            "number_of_parts",
            "external_url",
        ],
        "body",
    )?;
    let mut st = sh.store();
    let now = st.now();
    let bot = st.bot_id.clone();
    Ok(Json(st.files.create_upload(&b, now, &bot)?))
}

async fn upload_send(
    State(sh): Sh,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> JsonResult {
    let id = path_id(&id, "file_upload_id")?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = super::files::parse_multipart(ct, &body)?;
    let mut st = sh.store();
    let now = st.now();
    Ok(Json(st.files.send(&id, form, now)?))
}

async fn upload_complete(State(sh): Sh, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let id = path_id(&id, "file_upload_id")?;
    let b = json_body(&body, true)?;
    check_keys(&b, &[], "body")?;
    let mut st = sh.store();
    let now = st.now();
    Ok(Json(st.files.complete(&id, now)?))
}

async fn upload_get(State(sh): Sh, Path(id): Path<String>) -> JsonResult {
    let id = path_id(&id, "file_upload_id")?;
    let st = sh.store();
    let u = st
        .files
        .uploads
        .get(&id)
        .ok_or_else(|| ApiError::not_found("file upload", &id))?;
    Ok(Json(st.files.render_upload(u, st.now())))
}

async fn uploads_list(State(sh): Sh, RawQuery(q): RawQuery) -> JsonResult {
    let q = query_params(&q);
    let (cursor, size) = paging_from_query(&q)?;
    let st = sh.store();
    let now = st.now();
    let status = qget(&q, "status");
    let items: Vec<(String, Value)> = st
        .files
        .upload_order
        .iter()
        .rev()
        .filter_map(|id| st.files.uploads.get(id))
        .map(|u| (u.id.clone(), st.files.render_upload(u, now)))
        .filter(|(_, v)| status.is_none_or(|s| v["status"] == s))
        .collect();
    let (page, next) = paginate(&items, cursor.as_deref(), size)?;
    Ok(Json(list(page, next, "file_upload")))
}
