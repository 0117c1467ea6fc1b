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
    parent_ref, partial_user, plain, Block, DataSource, Database, Kind, Page, Position, Store,
};
use super::util::{body_id, minute_iso, new_uuid, path_id, ApiError, ApiResult};
use super::validate::{
    check_arrays, check_child_type, check_keys, check_payload_size, obj, page_range, page_size,
    paginate, req, start_cursor, string, supports_children, Ingest,
};
use super::{control, query, Shared};

mod blocks;
mod comments;
mod databases;
mod pages;
mod search;
mod uploads;
mod users;

use blocks::*;
use comments::*;
use databases::*;
use pages::*;
use search::*;
use uploads::*;
use users::*;

pub(crate) use pages::{init_row_props, move_page_to, resolve_page_parent};

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

/// Counts a request in flight until it is answered (or its connection dropped).
struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(sh: &'a Shared) -> Self {
        sh.in_flight
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        InFlight(&sh.in_flight)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
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
    let _counted = InFlight::enter(&sh);
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
    let write = req.method() != axum::http::Method::GET;
    let resp = next.run(req).await;
    let lost = f64::from_bits(sh.lost_responses.load(std::sync::atomic::Ordering::Relaxed));
    if write && resp.status().is_success() && lost > 0.0 && rand::rng().random::<f64>() < lost {
        // The change happened; the answer is lost on the way back.
        let (status, code, msg) = [
            (502, "bad_gateway", "Bad Gateway"),
            (504, "gateway_timeout", "Gateway Timeout"),
        ][rand::rng().random_range(0..2)];
        return ApiError::new(status, code, msg).into_response();
    }
    resp
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

/// The `in_trash` flag of an update (`archived` is its older name; given both, they must
/// agree).
fn parse_trash_flag(b: &Map<String, Value>) -> ApiResult<Option<bool>> {
    Ok(match (b.get("in_trash"), b.get("archived")) {
        (Some(a), Some(c)) if a != c => {
            return Err(ApiError::validation(
                "body.in_trash and body.archived must agree.",
            ))
        }
        (Some(v), _) | (None, Some(v)) => {
            Some(crate::emulator::validate::boolean(v, "body.in_trash")?)
        }
        _ => None,
    })
}

/// The `icon` and `cover` of a page or database update: `None` when not given,
/// `Some(Value::Null)` to remove.
fn icon_and_cover(
    ing: &Ingest,
    b: &Map<String, Value>,
) -> ApiResult<(Option<Value>, Option<Value>)> {
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
    Ok((icon, cover))
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
