//! The HTTP client of the Notion API: every endpoint notionfs uses, over one rate limiter.
//!
//! # Retry rule
//! Every attempt first takes a token from the shared [`RateLimiter`]. Then:
//! - **429 / 529** (rate limited): Notion refused before doing anything, so any request is
//!   retried after `Retry-After` seconds, and the whole client pauses that long. The wait is
//!   capped at [`ClientConfig::max_retry_after`] (60 s by default; a huge or malformed value
//!   never overflows or holds the client for longer), and one request gives up (its 429 is
//!   the error) once it has waited [`ClientConfig::max_rate_limited_wait`] in total (120 s
//!   by default): nothing waits forever. The pause holds back requests to Notion only; what
//!   the filesystem has cached is served without the client.
//! - **Reads** (GET, and the read-only POSTs `search` and `query`): 500/502/503/504 and
//!   transport errors are retried with exponential backoff and full jitter, a bounded number
//!   of times.
//! - **Writes** (everything else): a 5xx or a broken connection leaves the outcome unknown — the
//!   change may have happened — so they are *not* retried; only a connection that could not be
//!   opened at all (the request never left) is. The caller (the write-back layer) re-reads the
//!   page and re-diffs, which is safe to repeat.
//! - Other 4xx are never retried.
//! - **Down**: once a request has used all its retries on server errors or an unreachable
//!   server, requests are tried once ([`Client::is_down`]) until one gets an answer: while
//!   Notion is away, what is cached is served at once and namespace changes are queued,
//!   instead of every request waiting through its backoff.
//!
//! The token is sent as a sensitive header and never appears in `Debug`, `Display`, errors or
//! logs: see [`Token`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, Stream, TryStreamExt};
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::error::ApiError;
use super::model::{
    Block, Comment, DataSource, Database, ErrorBody, FileUpload, JsonMap, List, Page, User,
};
use super::ratelimit::{Rate, RateLimiter};
use super::stats::{Stats, StatsSnapshot};

/// The API version notionfs speaks.
pub const NOTION_VERSION: &str = "2025-09-03";
/// Where the real API lives.
pub const DEFAULT_API_URL: &str = "https://api.notion.com";
/// Most children one append request may carry.
pub const MAX_APPEND_CHILDREN: usize = 100;
/// Most levels of blocks in one request: the appended blocks plus "two levels of nesting"
/// below them (children and grandchildren, as the reference's column_list example needs).
pub const MAX_NESTING_LEVELS: usize = 3;
/// Most block elements in one request payload.
pub const MAX_PAYLOAD_BLOCKS: usize = 1000;
/// Largest request payload in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 500 * 1000;
/// Largest page of a paginated list.
pub const MAX_PAGE_SIZE: u32 = 100;

/// An integration token. Its `Debug` and `Display` never show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; surrounding whitespace (e.g. a newline in a token file) is dropped.
    pub fn new(secret: impl Into<String>) -> Self {
        Token(secret.into().trim().to_string())
    }

    /// The secret itself, for the `Authorization` header only.
    fn expose(&self) -> &str {
        &self.0
    }

    /// The bytes to feed a one-way digest that recognizes this token later without
    /// storing it (see `daemon::identity`).
    pub fn digest_input(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How a [`Client`] behaves.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// API base, e.g. `https://api.notion.com` or the emulator's `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Integration token.
    pub token: Token,
    /// Client-side rate limit; `None` for none (the in-process emulator).
    pub rate: Option<Rate>,
    /// Retries of transient failures (per request) before giving up.
    pub max_retries: u32,
    /// First backoff delay; doubles each retry (with full jitter), capped at `max_backoff`.
    pub base_backoff: Duration,
    /// Largest backoff delay.
    pub max_backoff: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
    /// Longest wait a `Retry-After` can impose (larger values are cut to this).
    pub max_retry_after: Duration,
    /// Longest total wait of one request for rate limits before it gives up.
    pub max_rate_limited_wait: Duration,
}

/// Default [`ClientConfig::max_retry_after`].
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Default [`ClientConfig::max_rate_limited_wait`].
pub const MAX_RATE_LIMITED_WAIT: Duration = Duration::from_secs(120);

/// The wait a `Retry-After` header value asks for: whole seconds (anything else is ignored:
/// the caller falls back to its backoff), capped at `cap`.
pub fn retry_after_wait(value: &str, cap: Duration) -> Option<Duration> {
    let secs: u64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(cap))
}

impl ClientConfig {
    /// Defaults for `token` at `base_url`: 3 requests/s with a burst of 3, 5 retries.
    pub fn new(base_url: impl Into<String>, token: Token) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            token,
            rate: Some(Rate {
                per_second: 3.0,
                burst: 3,
            }),
            max_retries: 5,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
            max_retry_after: MAX_RETRY_AFTER,
            max_rate_limited_wait: MAX_RATE_LIMITED_WAIT,
        }
    }
}

/// Where an append puts the new blocks (`position` of append block children).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// Before the first child.
    Start,
    /// After the last child (the default).
    End,
    /// After the child with this id.
    AfterBlock(String),
}

impl Position {
    fn to_json(&self) -> Value {
        match self {
            Position::Start => json!({"type": "start"}),
            Position::End => json!({"type": "end"}),
            Position::AfterBlock(id) => {
                json!({"type": "after_block", "after_block": {"id": id}})
            }
        }
    }
}

/// A byte range of a file on disk, sent as (one part of) a file upload: read as it is sent,
/// never whole in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilePart {
    /// The file.
    pub path: std::path::PathBuf,
    /// Where the part starts.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

impl FilePart {
    /// The part's bytes as a stream of chunks read from disk.
    fn stream(&self) -> impl Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        const CHUNK: u64 = 256 << 10;
        let (path, offset) = (self.path.clone(), self.offset);
        stream::try_unfold((None::<tokio::fs::File>, self.len), move |(file, left)| {
            let path = path.clone();
            async move {
                if left == 0 {
                    return Ok(None);
                }
                let mut f = match file {
                    Some(f) => f,
                    None => {
                        let mut f = tokio::fs::File::open(&path).await?;
                        f.seek(std::io::SeekFrom::Start(offset)).await?;
                        f
                    }
                };
                let mut buf = vec![0u8; left.min(CHUNK) as usize];
                let n = f.read(&mut buf).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.truncate(n);
                Ok(Some((bytes::Bytes::from(buf), (Some(f), left - n as u64))))
            }
        })
    }
}

/// What a file upload's content comes from.
#[derive(Clone, Debug)]
enum PartSource {
    Bytes(bytes::Bytes),
    File(FilePart),
}

impl PartSource {
    fn part(&self) -> reqwest::multipart::Part {
        match self {
            PartSource::Bytes(b) => reqwest::multipart::Part::stream(b.clone()),
            PartSource::File(f) => reqwest::multipart::Part::stream_with_length(
                reqwest::Body::wrap_stream(f.stream()),
                f.len,
            ),
        }
    }
}

/// Arguments of `POST /v1/file_uploads`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewFileUpload {
    /// File name (required for multi-part).
    pub filename: Option<String>,
    /// MIME type.
    pub content_type: Option<String>,
    /// `Some(n)` for a multi-part upload of `n` parts; `None` for single part.
    pub number_of_parts: Option<u32>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    limiter: RateLimiter,
    stats: Stats,
    config: ClientConfig,
    /// The last request gave up on a server error or an unreachable server: until one gets
    /// an answer, requests are tried once (what is cached is served at once, not after a
    /// minute of backoff per request).
    down: std::sync::atomic::AtomicBool,
}

/// A Notion API client. Cheap to clone; clones share the rate limiter and counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .finish_non_exhaustive()
    }
}

/// Whether a request may be repeated after an unknown outcome.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

impl Client {
    /// Builds a client. Fails on a base URL that is not http(s) or a token that cannot be a
    /// header value.
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        let base = config.base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ApiError::Config(format!(
                "API URL must start with https:// or http://, got {base:?}"
            )));
        }
        if config.token.expose().is_empty() {
            return Err(ApiError::Config("the token is empty".into()));
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token.expose()))
            .map_err(|_| {
                ApiError::Config("the token contains characters a header cannot hold".into())
            })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert("Notion-Version", HeaderValue::from_static(NOTION_VERSION));
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("notionfs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Config(format!("cannot build HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                limiter: RateLimiter::new(config.rate),
                stats: Stats::default(),
                config,
                down: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// The API base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Counters of calls, retries and 429s so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    // ----- transport -------------------------------------------------------------------

    async fn send(
        &self,
        kind: Kind,
        method: Method,
        endpoint: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Body,
    ) -> Result<bytes::Bytes, ApiError> {
        let url = format!("{}{}", self.inner.base, path);
        let cfg = &self.inner.config;
        let mut attempt = 0u32;
        let mut rate_waited = Duration::ZERO;
        loop {
            self.inner.limiter.acquire().await;
            self.inner.stats.call(endpoint);
            let mut req = self.inner.http.request(method.clone(), &url).query(query);
            req = match &body {
                Body::None => req,
                Body::Json(v) => req.header(CONTENT_TYPE, "application/json").json(v),
                Body::Multipart(make) => req.multipart(make()?),
            };
            let result = req.send().await;
            let retry_after = match result {
                Ok(resp) => {
                    let status = resp.status();
                    // Any answer but a server error: Notion is there.
                    if !status.is_server_error() {
                        self.set_down(false);
                    }
                    if status.is_success() {
                        return resp.bytes().await.map_err(|e| transport(endpoint, &e));
                    }
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| retry_after_wait(v, cfg.max_retry_after));
                    let bytes = resp.bytes().await.unwrap_or_default();
                    let err = api_error(endpoint, status, &bytes);
                    let limited = status == StatusCode::TOO_MANY_REQUESTS || status.as_u16() == 529;
                    if limited {
                        self.inner.stats.rate_limited();
                    } else if status.is_server_error() {
                        self.inner.stats.server_error();
                    }
                    let retryable = limited
                        || (kind == Kind::Read && matches!(status.as_u16(), 500 | 502 | 503 | 504));
                    if !retryable || attempt >= self.max_attempts(limited) {
                        // Retried until the end and still failing: down.
                        if retryable && !limited {
                            self.set_down(true);
                        }
                        return Err(err);
                    }
                    tracing::debug!(%endpoint, status = status.as_u16(), attempt, "retrying");
                    if limited {
                        // Retry-After is whole seconds; without one, fall back to backoff.
                        let wait = retry_after.unwrap_or_else(|| self.backoff(attempt));
                        rate_waited = rate_waited.saturating_add(wait);
                        if rate_waited > cfg.max_rate_limited_wait {
                            tracing::warn!(%endpoint, waited_s = rate_waited.as_secs(), "rate limited for too long; giving up on this request");
                            return Err(err);
                        }
                        self.inner.limiter.pause_for(wait).await;
                        Some(wait)
                    } else {
                        None
                    }
                }
                Err(e) => {
                    let never_sent = e.is_connect();
                    let err = transport(endpoint, &e);
                    if !(kind == Kind::Read || never_sent) {
                        return Err(err);
                    }
                    if attempt >= self.max_attempts(false) {
                        self.set_down(true);
                        return Err(err);
                    }
                    tracing::debug!(%endpoint, attempt, error = %err, "retrying");
                    None
                }
            };
            attempt += 1;
            self.inner.stats.retry();
            let wait = retry_after.unwrap_or_else(|| self.backoff(attempt - 1));
            tokio::time::sleep(wait).await;
        }
    }

    fn max_attempts(&self, rate_limited: bool) -> u32 {
        // A 429 storm is not a failure of the request: allow more patience there.
        if rate_limited {
            self.inner.config.max_retries.saturating_mul(4)
        } else if self.is_down() {
            0
        } else {
            self.inner.config.max_retries
        }
    }

    /// Whether the last request found Notion down or unreachable (see `Inner::down`).
    pub fn is_down(&self) -> bool {
        self.inner.down.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_down(&self, down: bool) {
        let was = self
            .inner
            .down
            .swap(down, std::sync::atomic::Ordering::Relaxed);
        if was != down {
            match down {
                true => tracing::warn!(
                    "Notion cannot be reached: requests are tried once until it answers"
                ),
                false => tracing::info!("Notion answers again"),
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cfg = &self.inner.config;
        let exp = cfg.base_backoff.saturating_mul(1u32 << attempt.min(16));
        let cap = exp.min(cfg.max_backoff);
        // Full jitter: spread retries of many clients over the whole window.
        let ms = rand::rng().random_range(cap.as_millis() as u64 / 2..=cap.as_millis() as u64);
        Duration::from_millis(ms)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        kind: Kind,
        method: Method,
        endpoint: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<T, ApiError> {
        let body = match body {
            Some(v) => {
                check_payload(endpoint, &v)?;
                Body::Json(v)
            }
            None => Body::None,
        };
        let bytes = self.send(kind, method, endpoint, path, query, body).await?;
        decode(endpoint, &bytes)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        self.call(Kind::Read, Method::GET, endpoint, path, query, None)
            .await
    }

    async fn write<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &'static str,
        path: &str,
        body: Value,
    ) -> Result<T, ApiError> {
        self.call(Kind::Write, method, endpoint, path, &[], Some(body))
            .await
    }

    // ----- users -------------------------------------------------------------------

    /// `GET /v1/users/me`: the integration's bot user (workspace name and limits).
    pub async fn me(&self) -> Result<User, ApiError> {
        self.get("GET /v1/users/me", "/v1/users/me", &[]).await
    }

    /// `GET /v1/users/{id}`.
    pub async fn user(&self, id: &str) -> Result<User, ApiError> {
        self.get("GET /v1/users/{id}", &format!("/v1/users/{}", seg(id)), &[])
            .await
    }

    /// `GET /v1/users`: one page.
    pub async fn users_page(&self, cursor: Option<String>) -> Result<List<User>, ApiError> {
        self.get("GET /v1/users", "/v1/users", &page_query(cursor))
            .await
    }

    /// Every user of the workspace.
    pub async fn users(&self) -> Result<Vec<User>, ApiError> {
        collect(|c| self.users_page(c)).await
    }

    // ----- search ------------------------------------------------------------------

    /// `POST /v1/search`: one page. `body` holds `query`, `filter`, `sort`; the cursor and
    /// page size are added here.
    pub async fn search_page(
        &self,
        body: &Value,
        cursor: Option<String>,
    ) -> Result<List<Value>, ApiError> {
        let body = with_cursor(body, cursor);
        self.call(
            Kind::Read,
            Method::POST,
            "POST /v1/search",
            "/v1/search",
            &[],
            Some(body),
        )
        .await
    }

    /// All search results, as a stream that fetches pages as it is consumed.
    pub fn search<'a>(&'a self, body: Value) -> impl Stream<Item = Result<Value, ApiError>> + 'a {
        paginate(move |c| {
            let body = body.clone();
            async move { self.search_page(&body, c).await }
        })
    }

    // ----- pages -------------------------------------------------------------------

    /// `GET /v1/pages/{id}`.
    pub async fn page(&self, id: &str) -> Result<Page, ApiError> {
        self.get("GET /v1/pages/{id}", &format!("/v1/pages/{}", seg(id)), &[])
            .await
    }

    /// `POST /v1/pages`: `body` holds `parent`, `properties` and optionally `children`,
    /// `icon`, `cover`.
    pub async fn create_page(&self, body: Value) -> Result<Page, ApiError> {
        self.write(Method::POST, "POST /v1/pages", "/v1/pages", body)
            .await
    }

    /// `PATCH /v1/pages/{id}`: properties, `in_trash`, icon, cover.
    pub async fn update_page(&self, id: &str, body: Value) -> Result<Page, ApiError> {
        let path = format!("/v1/pages/{}", seg(id));
        self.write(Method::PATCH, "PATCH /v1/pages/{id}", &path, body)
            .await
    }

    /// Moves a page to the trash (`in_trash: true`).
    pub async fn trash_page(&self, id: &str) -> Result<Page, ApiError> {
        self.update_page(id, json!({"in_trash": true})).await
    }

    /// `POST /v1/pages/{id}/move` under a new `parent` (`page_id` or `data_source_id`).
    pub async fn move_page(
        &self,
        id: &str,
        parent: &super::model::Parent,
    ) -> Result<Page, ApiError> {
        let path = format!("/v1/pages/{}/move", seg(id));
        let parent = serde_json::to_value(parent).expect("parents serialize");
        self.write(
            Method::POST,
            "POST /v1/pages/{id}/move",
            &path,
            json!({"parent": parent}),
        )
        .await
    }

    /// `GET /v1/pages/{page_id}/properties/{property_id}`: one page of a property item list
    /// (or the single property item object for non-list types).
    pub async fn page_property(
        &self,
        page_id: &str,
        property_id: &str,
        cursor: Option<String>,
    ) -> Result<Value, ApiError> {
        let path = format!("/v1/pages/{}/properties/{}", seg(page_id), seg(property_id));
        self.get(
            "GET /v1/pages/{id}/properties/{property_id}",
            &path,
            &page_query(cursor),
        )
        .await
    }

    /// Every item of a list-valued page property (title, rich_text, relation, people).
    pub async fn page_property_items(
        &self,
        page_id: &str,
        property_id: &str,
    ) -> Result<Vec<Value>, ApiError> {
        collect(|c| async move {
            let v = self.page_property(page_id, property_id, c).await?;
            if v.get("object").and_then(Value::as_str) == Some("list") {
                serde_json::from_value(v).map_err(|e| ApiError::Decode {
                    endpoint: "GET /v1/pages/{id}/properties/{property_id}".to_string(),
                    reason: e.to_string(),
                })
            } else {
                Ok(List {
                    results: vec![v],
                    next_cursor: None,
                    has_more: false,
                    extra: JsonMap::new(),
                })
            }
        })
        .await
    }

    // ----- blocks ------------------------------------------------------------------

    /// `GET /v1/blocks/{id}`.
    pub async fn block(&self, id: &str) -> Result<Block, ApiError> {
        self.get(
            "GET /v1/blocks/{id}",
            &format!("/v1/blocks/{}", seg(id)),
            &[],
        )
        .await
    }

    /// `GET /v1/blocks/{id}/children`: one page of up to 100 direct children.
    pub async fn children_page(
        &self,
        id: &str,
        cursor: Option<String>,
    ) -> Result<List<Block>, ApiError> {
        let path = format!("/v1/blocks/{}/children", seg(id));
        self.get("GET /v1/blocks/{id}/children", &path, &page_query(cursor))
            .await
    }

    /// Every direct child of a block or page (one call per 100 children).
    pub async fn children(&self, id: &str) -> Result<Vec<Block>, ApiError> {
        collect(|c| self.children_page(id, c)).await
    }

    /// `PATCH /v1/blocks/{id}/children`: appends `children` (request shape, see
    /// [`Block::to_request`]) at `position`. Returns the new top-level blocks, in order.
    ///
    /// Refuses (without sending) more than 100 children, more than two nesting levels, or a
    /// payload over 1000 blocks / 500 KB.
    pub async fn append_children(
        &self,
        id: &str,
        children: Vec<Value>,
        position: Option<Position>,
    ) -> Result<Vec<Block>, ApiError> {
        const EP: &str = "PATCH /v1/blocks/{id}/children";
        if children.len() > MAX_APPEND_CHILDREN {
            return Err(limit(
                EP,
                format!(
                    "{} children, at most {MAX_APPEND_CHILDREN} per request",
                    children.len()
                ),
            ));
        }
        for c in &children {
            let depth = nesting_depth(c);
            if depth > MAX_NESTING_LEVELS {
                return Err(limit(EP, format!("{depth} levels of nested children, at most {MAX_NESTING_LEVELS} per request")));
            }
        }
        let mut body = json!({"children": children});
        if let Some(p) = position {
            body["position"] = p.to_json();
        }
        let path = format!("/v1/blocks/{}/children", seg(id));
        let list: List<Block> = self.write(Method::PATCH, EP, &path, body).await?;
        Ok(list.results)
    }

    /// `PATCH /v1/blocks/{id}`: `body` is `{TYPE: {fields…}}` and/or `in_trash`.
    pub async fn update_block(&self, id: &str, body: Value) -> Result<Block, ApiError> {
        let path = format!("/v1/blocks/{}", seg(id));
        self.write(Method::PATCH, "PATCH /v1/blocks/{id}", &path, body)
            .await
    }

    /// `DELETE /v1/blocks/{id}`: moves the block to the trash.
    pub async fn delete_block(&self, id: &str) -> Result<Block, ApiError> {
        let path = format!("/v1/blocks/{}", seg(id));
        let body = Body::None;
        let bytes = self
            .send(
                Kind::Write,
                Method::DELETE,
                "DELETE /v1/blocks/{id}",
                &path,
                &[],
                body,
            )
            .await?;
        decode("DELETE /v1/blocks/{id}", &bytes)
    }

    // ----- databases and data sources ----------------------------------------------

    /// `GET /v1/databases/{id}`: the container and its data sources.
    pub async fn database(&self, id: &str) -> Result<Database, ApiError> {
        self.get(
            "GET /v1/databases/{id}",
            &format!("/v1/databases/{}", seg(id)),
            &[],
        )
        .await
    }

    /// `GET /v1/data_sources/{id}`: the schema.
    pub async fn data_source(&self, id: &str) -> Result<DataSource, ApiError> {
        self.get(
            "GET /v1/data_sources/{id}",
            &format!("/v1/data_sources/{}", seg(id)),
            &[],
        )
        .await
    }

    /// `POST /v1/data_sources`: `body` holds `parent` (`database_id`), `properties`, `title`.
    pub async fn create_data_source(&self, body: Value) -> Result<DataSource, ApiError> {
        self.write(
            Method::POST,
            "POST /v1/data_sources",
            "/v1/data_sources",
            body,
        )
        .await
    }

    /// `PATCH /v1/data_sources/{id}`: title, properties.
    pub async fn update_data_source(&self, id: &str, body: Value) -> Result<DataSource, ApiError> {
        let path = format!("/v1/data_sources/{}", seg(id));
        self.write(Method::PATCH, "PATCH /v1/data_sources/{id}", &path, body)
            .await
    }

    /// `POST /v1/data_sources/{id}/query`: one page of rows. `body` holds `filter`, `sorts`.
    pub async fn query_page(
        &self,
        id: &str,
        body: &Value,
        cursor: Option<String>,
    ) -> Result<List<Page>, ApiError> {
        let path = format!("/v1/data_sources/{}/query", seg(id));
        let body = with_cursor(body, cursor);
        self.call(
            Kind::Read,
            Method::POST,
            "POST /v1/data_sources/{id}/query",
            &path,
            &[],
            Some(body),
        )
        .await
    }

    /// Every row matching `body` (`filter`, `sorts`).
    pub async fn query(&self, id: &str, body: Value) -> Result<Vec<Page>, ApiError> {
        collect(|c| self.query_page(id, &body, c)).await
    }

    // ----- file uploads ------------------------------------------------------------

    /// `POST /v1/file_uploads`: starts an upload (single part, or `number_of_parts`).
    pub async fn create_file_upload(&self, req: &NewFileUpload) -> Result<FileUpload, ApiError> {
        let mut body = JsonMap::new();
        let mode = if req.number_of_parts.is_some() {
            "multi_part"
        } else {
            "single_part"
        };
        body.insert("mode".into(), json!(mode));
        if let Some(f) = &req.filename {
            body.insert("filename".into(), json!(f));
        }
        if let Some(c) = &req.content_type {
            body.insert("content_type".into(), json!(c));
        }
        if let Some(n) = req.number_of_parts {
            body.insert("number_of_parts".into(), json!(n));
        }
        self.write(
            Method::POST,
            "POST /v1/file_uploads",
            "/v1/file_uploads",
            Value::Object(body),
        )
        .await
    }

    /// `POST /v1/file_uploads/{id}/send`: the content (or one part of it) as multipart form.
    pub async fn send_file_upload(
        &self,
        id: &str,
        data: bytes::Bytes,
        filename: &str,
        content_type: &str,
        part_number: Option<u32>,
    ) -> Result<FileUpload, ApiError> {
        let src = PartSource::Bytes(data);
        self.send_part(id, src, filename, content_type, part_number)
            .await
    }

    /// [`Client::send_file_upload`] of a byte range of a file on disk, streamed from the file
    /// as it is sent (each attempt reads it again).
    pub async fn send_file_part(
        &self,
        id: &str,
        part: FilePart,
        filename: &str,
        content_type: &str,
        part_number: Option<u32>,
    ) -> Result<FileUpload, ApiError> {
        let src = PartSource::File(part);
        self.send_part(id, src, filename, content_type, part_number)
            .await
    }

    async fn send_part(
        &self,
        id: &str,
        src: PartSource,
        filename: &str,
        content_type: &str,
        part_number: Option<u32>,
    ) -> Result<FileUpload, ApiError> {
        const EP: &str = "POST /v1/file_uploads/{id}/send";
        let path = format!("/v1/file_uploads/{}/send", seg(id));
        let filename = filename.to_string();
        let content_type = content_type.to_string();
        let make = move || -> Result<reqwest::multipart::Form, ApiError> {
            let part = src
                .part()
                .file_name(filename.clone())
                .mime_str(&content_type)
                .map_err(|e| limit(EP, format!("invalid content type: {e}")))?;
            let mut form = reqwest::multipart::Form::new().part("file", part);
            if let Some(n) = part_number {
                form = form.text("part_number", n.to_string());
            }
            Ok(form)
        };
        let bytes = self
            .send(
                Kind::Write,
                Method::POST,
                EP,
                &path,
                &[],
                Body::Multipart(Box::new(make)),
            )
            .await?;
        decode(EP, &bytes)
    }

    /// `POST /v1/file_uploads/{id}/complete`: finishes a multi-part upload.
    pub async fn complete_file_upload(&self, id: &str) -> Result<FileUpload, ApiError> {
        let path = format!("/v1/file_uploads/{}/complete", seg(id));
        self.write(
            Method::POST,
            "POST /v1/file_uploads/{id}/complete",
            &path,
            json!({}),
        )
        .await
    }

    /// `GET /v1/file_uploads/{id}`.
    pub async fn file_upload(&self, id: &str) -> Result<FileUpload, ApiError> {
        self.get(
            "GET /v1/file_uploads/{id}",
            &format!("/v1/file_uploads/{}", seg(id)),
            &[],
        )
        .await
    }

    // ----- comments ----------------------------------------------------------------

    /// `GET /v1/comments?block_id=…`: every open comment on a page or block.
    pub async fn comments(&self, block_id: &str) -> Result<Vec<Comment>, ApiError> {
        collect(|c| async move {
            let mut q = page_query(c);
            q.push(("block_id", block_id.to_string()));
            self.get("GET /v1/comments", "/v1/comments", &q).await
        })
        .await
    }

    /// `POST /v1/comments`: `body` holds `parent` (or `discussion_id`) and `rich_text`.
    pub async fn create_comment(&self, body: Value) -> Result<Comment, ApiError> {
        self.write(Method::POST, "POST /v1/comments", "/v1/comments", body)
            .await
    }
}

type FormMaker = Box<dyn Fn() -> Result<reqwest::multipart::Form, ApiError> + Send + Sync>;

enum Body {
    None,
    Json(Value),
    /// Multipart bodies are streams, consumed by sending: rebuild one per attempt.
    Multipart(FormMaker),
}

/// The error of a paginated walk whose server handed out the cursor `c` a second time.
pub fn repeated_cursor(c: &str) -> ApiError {
    ApiError::Decode {
        endpoint: "pagination".to_string(),
        reason: format!(
            "the API returned the cursor {c:?} a second time (the list would never end)"
        ),
    }
}

/// Walks every page of a paginated list as a stream of items. A cursor handed out twice (a
/// server that would make the walk go round forever) ends the walk with an error.
pub fn paginate<'a, T, F, Fut>(mut fetch: F) -> impl Stream<Item = Result<T, ApiError>> + 'a
where
    T: 'a,
    F: FnMut(Option<String>) -> Fut + 'a,
    Fut: std::future::Future<Output = Result<List<T>, ApiError>> + 'a,
{
    let seen = std::collections::HashSet::<String>::new();
    stream::try_unfold((Some(None::<String>), seen), move |(state, mut seen)| {
        let next = state.map(&mut fetch);
        async move {
            let Some(fut) = next else { return Ok(None) };
            let page = fut.await?;
            let state = match page.next_cursor {
                Some(c) if page.has_more => {
                    if !seen.insert(c.clone()) {
                        return Err(repeated_cursor(&c));
                    }
                    Some(Some(c))
                }
                _ => None,
            };
            Ok(Some((
                stream::iter(page.results.into_iter().map(Ok)),
                (state, seen),
            )))
        }
    })
    .try_flatten()
}

/// Collects every item of a paginated list.
pub async fn collect<T, F, Fut>(fetch: F) -> Result<Vec<T>, ApiError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<List<T>, ApiError>>,
{
    paginate(fetch).try_collect().await
}

fn page_query(cursor: Option<String>) -> Vec<(&'static str, String)> {
    let mut q = vec![("page_size", MAX_PAGE_SIZE.to_string())];
    if let Some(c) = cursor {
        q.push(("start_cursor", c));
    }
    q
}

fn with_cursor(body: &Value, cursor: Option<String>) -> Value {
    let mut body = match body {
        Value::Object(m) => m.clone(),
        _ => JsonMap::new(),
    };
    body.insert("page_size".into(), json!(MAX_PAGE_SIZE));
    if let Some(c) = cursor {
        body.insert("start_cursor".into(), json!(c));
    }
    Value::Object(body)
}

/// An id as a path segment: ids are hex and dashes, anything else is percent-encoded so a
/// hostile id cannot change the path.
fn seg(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Reads a response body into its model, straight from its bytes (no JSON tree in between:
/// a page of 100 blocks would take several times its size while it is converted).
fn decode<T: DeserializeOwned>(endpoint: &str, bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::Decode {
        endpoint: endpoint.to_string(),
        reason: e.to_string(),
    })
}

fn limit(endpoint: &str, reason: String) -> ApiError {
    ApiError::Limit {
        endpoint: endpoint.to_string(),
        reason,
    }
}

fn transport(endpoint: &str, e: &reqwest::Error) -> ApiError {
    // reqwest's Display names the URL; ours carry no secrets, but keep the message short.
    let reason = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        crate::notion::error::CONNECTION_FAILED.to_string()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        s
    };
    ApiError::Transport {
        endpoint: endpoint.to_string(),
        reason,
    }
}

fn api_error(endpoint: &str, status: StatusCode, bytes: &[u8]) -> ApiError {
    let body: Option<ErrorBody> = serde_json::from_slice(bytes).ok();
    let (code, message) = match body {
        Some(b) if !b.code.is_empty() => (b.code, b.message),
        _ => (
            status
                .canonical_reason()
                .unwrap_or("error")
                .to_lowercase()
                .replace(' ', "_"),
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned(),
        ),
    };
    ApiError::Api {
        status: status.as_u16(),
        code,
        message,
        endpoint: endpoint.to_string(),
    }
}

/// Levels of blocks in a request-shaped block (1 for a block without children).
fn nesting_depth(block: &Value) -> usize {
    let children = block
        .get("type")
        .and_then(Value::as_str)
        .and_then(|t| block.get(t))
        .and_then(|p| p.get("children"))
        .or_else(|| block.get("children"))
        .and_then(Value::as_array);
    1 + children
        .map(|c| c.iter().map(nesting_depth).max().unwrap_or(0))
        .unwrap_or(0)
}

/// Refuses payloads over the documented request limits before they are sent.
fn check_payload(endpoint: &str, body: &Value) -> Result<(), ApiError> {
    // Block elements are the entries of `children` arrays, at any depth.
    fn walk(v: &Value, blocks: &mut usize, err: &mut Option<String>) {
        match v {
            Value::Array(a) => {
                if a.len() > 100 && err.is_none() {
                    *err = Some(format!("an array of {} elements, at most 100", a.len()));
                }
                a.iter().for_each(|x| walk(x, blocks, err));
            }
            Value::Object(m) => {
                if let Some(Value::Array(c)) = m.get("children") {
                    *blocks += c.len();
                }
                if let Some(Value::Object(t)) = m.get("text") {
                    if let Some(Value::String(c)) = t.get("content") {
                        let n = c.encode_utf16().count();
                        if n > 2000 && err.is_none() {
                            *err = Some(format!(
                                "a rich text content of {n} characters, at most 2000"
                            ));
                        }
                    }
                }
                m.values().for_each(|x| walk(x, blocks, err));
            }
            _ => {}
        }
    }
    let mut blocks = 0;
    let mut err = None;
    walk(body, &mut blocks, &mut err);
    if let Some(e) = err {
        return Err(limit(endpoint, e));
    }
    if blocks > MAX_PAYLOAD_BLOCKS {
        return Err(limit(
            endpoint,
            format!("{blocks} blocks, at most {MAX_PAYLOAD_BLOCKS} per request"),
        ));
    }
    let size = serde_json::to_vec(body).map(|b| b.len()).unwrap_or(0);
    if size > MAX_PAYLOAD_BYTES {
        return Err(limit(
            endpoint,
            format!("a payload of {size} bytes, at most {MAX_PAYLOAD_BYTES}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_shows() {
        let t = Token::new("secret_abc123\n");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert_eq!(format!("{t}"), "<redacted>");
        let c = Client::new(ClientConfig::new("http://127.0.0.1:1", t)).unwrap();
        assert!(!format!("{c:?}").contains("abc123"));
    }

    #[test]
    fn retry_after_is_capped_and_never_overflows() {
        let cap = Duration::from_secs(60);
        assert_eq!(retry_after_wait("3", cap), Some(Duration::from_secs(3)));
        assert_eq!(retry_after_wait("1000000000000", cap), Some(cap));
        assert_eq!(retry_after_wait(&u64::MAX.to_string(), cap), Some(cap));
        assert_eq!(retry_after_wait("Wed, 21 Oct 2015 07:28:00 GMT", cap), None);
        assert_eq!(
            ClientConfig::new("http://x", Token::new("t")).max_retry_after,
            cap
        );
    }

    #[tokio::test]
    async fn a_repeated_cursor_ends_the_walk() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let got: Result<Vec<u32>, ApiError> = collect(|_| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async {
                Ok(List {
                    results: vec![1],
                    next_cursor: Some("same".to_string()),
                    has_more: true,
                    extra: JsonMap::new(),
                })
            }
        })
        .await;
        assert!(matches!(got, Err(ApiError::Decode { .. })), "{got:?}");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn ids_cannot_escape_the_path() {
        assert_eq!(seg("ab-12"), "ab-12");
        assert_eq!(seg("../x?y"), "%2E%2E%2Fx%3Fy");
    }

    #[test]
    fn nesting_depth_counts_levels_in_type_objects() {
        let flat = json!({"type": "paragraph", "paragraph": {"rich_text": []}});
        assert_eq!(nesting_depth(&flat), 1);
        let two =
            json!({"type": "toggle", "toggle": {"rich_text": [], "children": [flat.clone()]}});
        assert_eq!(nesting_depth(&two), 2);
        let three =
            json!({"type": "toggle", "toggle": {"rich_text": [], "children": [two.clone()]}});
        assert_eq!(nesting_depth(&three), 3);
        assert!(
            nesting_depth(&three) <= MAX_NESTING_LEVELS,
            "a column_list with columns with content fits"
        );
    }

    #[test]
    fn payload_limits_are_checked_before_sending() {
        let long = "x".repeat(2001);
        let body = json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": long}}]}}]});
        assert!(matches!(
            check_payload("e", &body),
            Err(ApiError::Limit { .. })
        ));
        let ok = json!({"children": [{"type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": "x".repeat(2000)}}]}}]});
        assert!(check_payload("e", &ok).is_ok());
        let wide: Vec<Value> = (0..101).map(|_| json!(1)).collect();
        assert!(check_payload("e", &json!({"a": wide})).is_err());
    }
}
