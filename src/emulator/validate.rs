//! Request validation and normalisation: turns request JSON (blocks, rich text, icons, files)
//! into the stored response shapes, enforcing the limits of /reference/request-limits and the
//! creation rules of /reference/patch-block-children. Unknown keys are rejected as the API
//! has done since 2021-08-16. The same code loads seed fixtures in a "seed" mode that also
//! admits read-only block types and hosted files.

mod block;

use std::cell::{Cell, RefCell};

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::files::fits_block;
use super::store::Store;
use super::util::{body_id, json_kind, parse_id, ApiError, ApiResult};

/// Max elements in any array of a request.
pub const MAX_ARRAY: usize = 100;
/// Max characters in a `text.content`.
pub const MAX_TEXT: usize = 2000;
/// Max characters of a URL.
pub const MAX_URL: usize = 2000;
/// Max characters of an equation expression.
pub const MAX_EQUATION: usize = 1000;
/// Max block elements in one payload.
pub const MAX_BLOCKS: usize = 1000;
/// Max request payload size in bytes (500 KB).
pub const MAX_PAYLOAD: usize = 500_000;
/// Max characters of an email / phone number property value.
pub const MAX_EMAIL: usize = 200;

/// The 19 text and block colors.
pub const COLORS: &[&str] = &[
    "default",
    "gray",
    "brown",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "red",
    "gray_background",
    "brown_background",
    "orange_background",
    "yellow_background",
    "green_background",
    "blue_background",
    "purple_background",
    "pink_background",
    "red_background",
];

/// Every block type the API knows.
pub const BLOCK_TYPES: &[&str] = &[
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "bulleted_list_item",
    "numbered_list_item",
    "to_do",
    "toggle",
    "quote",
    "callout",
    "code",
    "equation",
    "divider",
    "breadcrumb",
    "table_of_contents",
    "table",
    "table_row",
    "column_list",
    "column",
    "image",
    "video",
    "audio",
    "file",
    "pdf",
    "bookmark",
    "embed",
    "link_preview",
    "link_to_page",
    "child_page",
    "child_database",
    "synced_block",
    "template",
    "unsupported",
];

/// Fails with the message Notion uses for a key that is not part of the schema.
pub fn check_keys(m: &Map<String, Value>, allowed: &[&str], path: &str) -> ApiResult<()> {
    for (k, v) in m {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::validation(format!(
                "body failed validation: {path}.{k} should be not present, instead was `{v}`."
            )));
        }
    }
    Ok(())
}

/// Expects an object at `path`.
pub fn obj<'v>(v: &'v Value, path: &str) -> ApiResult<&'v Map<String, Value>> {
    v.as_object().ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path} should be an object, instead was `{v}`."
        ))
    })
}

/// Expects an array at `path`.
pub fn arr<'v>(v: &'v Value, path: &str) -> ApiResult<&'v Vec<Value>> {
    v.as_array().ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path} should be an array, instead was `{v}`."
        ))
    })
}

/// Expects a string at `path`.
pub fn string<'v>(v: &'v Value, path: &str) -> ApiResult<&'v str> {
    v.as_str().ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path} should be a string, instead was `{v}`."
        ))
    })
}

/// Expects a boolean at `path`.
pub fn boolean(v: &Value, path: &str) -> ApiResult<bool> {
    v.as_bool().ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path} should be a boolean, instead was `{v}`."
        ))
    })
}

/// A required field.
pub fn req<'v>(m: &'v Map<String, Value>, key: &str, path: &str) -> ApiResult<&'v Value> {
    m.get(key).ok_or_else(|| {
        ApiError::validation(format!(
            "body failed validation: {path}.{key} should be defined, instead was `undefined`."
        ))
    })
}

/// Rejects any array longer than 100 elements anywhere in a request body.
pub fn check_arrays(v: &Value, path: &str) -> ApiResult<()> {
    match v {
        Value::Array(a) => {
            if a.len() > MAX_ARRAY {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.length should be ≤ `{MAX_ARRAY}`, instead was `{}`.",
                    a.len()
                )));
            }
            for (i, c) in a.iter().enumerate() {
                check_arrays(c, &format!("{path}[{i}]"))?;
            }
        }
        Value::Object(m) => {
            for (k, c) in m {
                check_arrays(c, &format!("{path}.{k}"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Rejects payloads larger than 500 KB.
pub fn check_payload_size(len: usize) -> ApiResult<()> {
    if len > MAX_PAYLOAD {
        return Err(ApiError::validation(format!(
            "Request body too large: {len} bytes; the limit is 500KB ({MAX_PAYLOAD} bytes) per request."
        )));
    }
    Ok(())
}

/// A block parsed from a request, ready to insert.
#[derive(Debug, Clone)]
pub struct NewBlock {
    /// Fixed id (seed only).
    pub id: Option<String>,
    /// Block type.
    pub ty: String,
    /// Stored type object (no `children`).
    pub data: Value,
    /// Nested children.
    pub children: Vec<NewBlock>,
}

/// Validation context: read access to the store plus side effects applied on success.
pub struct Ingest<'a> {
    /// The workspace.
    pub store: &'a Store,
    /// Seed mode: read-only types, deep nesting and hosted files are allowed.
    pub seed: bool,
    /// Current emulator time.
    pub now: DateTime<Utc>,
    /// File uploads to mark attached once the request succeeds.
    pub attach: RefCell<Vec<String>>,
    /// Accept stored `{"hosted": key}` file payloads (block updates merge stored data).
    pub allow_hosted: bool,
    blocks: Cell<usize>,
}

impl<'a> Ingest<'a> {
    /// A context for one request (or one seed load).
    pub fn new(store: &'a Store, seed: bool) -> Self {
        Ingest {
            store,
            seed,
            now: store.now(),
            attach: RefCell::new(Vec::new()),
            allow_hosted: seed,
            blocks: Cell::new(0),
        }
    }

    /// Normalises a rich text array.
    pub fn rich_text(&self, v: &Value, path: &str) -> ApiResult<Value> {
        let a = arr(v, path)?;
        let mut out = Vec::with_capacity(a.len());
        for (i, item) in a.iter().enumerate() {
            out.push(self.rich_text_item(item, &format!("{path}[{i}]"))?);
        }
        Ok(Value::Array(out))
    }

    fn rich_text_item(&self, v: &Value, path: &str) -> ApiResult<Value> {
        let m = obj(v, path)?;
        check_keys(
            m,
            &[
                "type",
                "text",
                "mention",
                "equation",
                "annotations",
                "plain_text",
                "href",
            ],
            path,
        )?;
        let ty = match m.get("type") {
            Some(t) => string(t, &format!("{path}.type"))?.to_string(),
            None => ["text", "mention", "equation"]
                .iter()
                .find(|k| m.contains_key(**k))
                .map(|s| s.to_string())
                .ok_or_else(|| {
                    ApiError::validation(format!(
                        "body failed validation: {path}.text should be defined, instead was `undefined`."
                    ))
                })?,
        };
        let annotations = self.annotations(m.get("annotations"), &format!("{path}.annotations"))?;
        let (payload, plain, href) = match ty.as_str() {
            "text" => {
                let tpath = format!("{path}.text");
                let t = obj(req(m, "text", path)?, &tpath)?;
                check_keys(t, &["content", "link"], &tpath)?;
                let content = string(req(t, "content", &tpath)?, &format!("{tpath}.content"))?;
                let chars = content.chars().count();
                if chars > MAX_TEXT {
                    return Err(ApiError::validation(format!(
                        "body failed validation: {tpath}.content.length should be ≤ `{MAX_TEXT}`, instead was `{chars}`."
                    )));
                }
                let link = match t.get("link") {
                    None | Some(Value::Null) => Value::Null,
                    Some(l) => {
                        let lpath = format!("{tpath}.link");
                        let lm = obj(l, &lpath)?;
                        check_keys(lm, &["url", "type"], &lpath)?;
                        let url = self.url(req(lm, "url", &lpath)?, &format!("{lpath}.url"))?;
                        json!({"url": url})
                    }
                };
                let href = link.get("url").cloned().unwrap_or(Value::Null);
                (json!({"content": content, "link": link}), content.to_string(), href)
            }
            "equation" => {
                let epath = format!("{path}.equation");
                let e = obj(req(m, "equation", path)?, &epath)?;
                check_keys(e, &["expression"], &epath)?;
                let expr = string(req(e, "expression", &epath)?, &format!("{epath}.expression"))?;
                self.check_equation(expr, &format!("{epath}.expression"))?;
                (json!({"expression": expr}), expr.to_string(), Value::Null)
            }
            "mention" => self.mention(req(m, "mention", path)?, &format!("{path}.mention"))?,
            other => {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.type should be `text`, `mention` or `equation`, instead was `\"{other}\"`."
                )))
            }
        };
        let mut out = Map::new();
        out.insert("type".into(), json!(ty));
        out.insert(ty.clone(), payload);
        out.insert("annotations".into(), annotations);
        out.insert("plain_text".into(), json!(plain));
        out.insert("href".into(), href);
        Ok(Value::Object(out))
    }

    fn check_equation(&self, expr: &str, path: &str) -> ApiResult<()> {
        let n = expr.chars().count();
        if n > MAX_EQUATION {
            return Err(ApiError::validation(format!(
                "body failed validation: {path}.length should be ≤ `{MAX_EQUATION}`, instead was `{n}`."
            )));
        }
        Ok(())
    }

    /// Validates a URL string (≤ 2000 characters, non-empty).
    pub fn url(&self, v: &Value, path: &str) -> ApiResult<String> {
        let s = string(v, path)?;
        let n = s.chars().count();
        if n > MAX_URL {
            return Err(ApiError::validation(format!(
                "body failed validation: {path}.length should be ≤ `{MAX_URL}`, instead was `{n}`."
            )));
        }
        if s.is_empty() {
            return Err(ApiError::validation(format!(
                "body failed validation: {path} should be a non-empty string (use null to unset)."
            )));
        }
        if !(s.contains(':') || s.starts_with('/')) {
            return Err(ApiError::validation(format!(
                "Invalid URL for link: `{s}` at {path}."
            )));
        }
        Ok(s.to_string())
    }

    fn annotations(&self, v: Option<&Value>, path: &str) -> ApiResult<Value> {
        let mut out = json!({"bold": false, "italic": false, "strikethrough": false,
            "underline": false, "code": false, "color": "default"});
        if let Some(v) = v {
            let m = obj(v, path)?;
            check_keys(
                m,
                &[
                    "bold",
                    "italic",
                    "strikethrough",
                    "underline",
                    "code",
                    "color",
                ],
                path,
            )?;
            for (k, val) in m {
                if k == "color" {
                    out["color"] = json!(color(val, &format!("{path}.color"))?);
                } else {
                    out[k] = json!(boolean(val, &format!("{path}.{k}"))?);
                }
            }
        }
        Ok(out)
    }

    fn mention(&self, v: &Value, path: &str) -> ApiResult<(Value, String, Value)> {
        let m = obj(v, path)?;
        let ty = match m.get("type") {
            Some(t) => string(t, &format!("{path}.type"))?.to_string(),
            None => [
                "page",
                "database",
                "user",
                "date",
                "link_preview",
                "template_mention",
            ]
            .iter()
            .find(|k| m.contains_key(**k))
            .map(|s| s.to_string())
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "body failed validation: {path}.type should be defined."
                ))
            })?,
        };
        check_keys(m, &["type", ty.as_str()], path)?;
        let inner = req(m, &ty, path)?;
        let ipath = format!("{path}.{ty}");
        let (payload, plain, href) = match ty.as_str() {
            "page" | "database" => {
                let im = obj(inner, &ipath)?;
                check_keys(im, &["id"], &ipath)?;
                let id = body_id(req(im, "id", &ipath)?, &format!("{ipath}.id"))?;
                let title = if ty == "page" {
                    self.store
                        .pages
                        .get(&id)
                        .map(|p| self.store.page_title_plain(p))
                } else {
                    self.store
                        .databases
                        .get(&id)
                        .map(|d| super::store::plain(&d.title))
                };
                let title = match title {
                    Some(t) => t,
                    None if self.seed => "Untitled".to_string(),
                    None => {
                        return Err(ApiError::validation(format!(
                            "Could not find {ty} with ID: {id}."
                        )))
                    }
                };
                let title = if title.is_empty() {
                    "Untitled".to_string()
                } else {
                    title
                };
                (
                    json!({"id": id}),
                    title,
                    json!(format!("https://www.notion.so/{}", id.replace('-', ""))),
                )
            }
            "user" => {
                let im = obj(inner, &ipath)?;
                check_keys(im, &["id", "object"], &ipath)?;
                let id = body_id(req(im, "id", &ipath)?, &format!("{ipath}.id"))?;
                let user = self.store.person(&id).ok_or_else(|| {
                    ApiError::validation(format!(
                        "{ipath}.id should be the id of a person user; `{id}` is not one."
                    ))
                })?;
                let name = user
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("Anonymous")
                    .to_string();
                (user.clone(), format!("@{name}"), Value::Null)
            }
            "date" => {
                let d = date_value(inner, &ipath)?;
                let plain = d["start"].as_str().unwrap_or("").to_string();
                (d, plain, Value::Null)
            }
            "link_preview" => {
                let im = obj(inner, &ipath)?;
                check_keys(im, &["url"], &ipath)?;
                let url = self.url(req(im, "url", &ipath)?, &format!("{ipath}.url"))?;
                (json!({"url": url}), url.clone(), json!(url))
            }
            "template_mention" => (inner.clone(), String::new(), Value::Null),
            other => {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.type `{other}` is not a supported mention type."
                )))
            }
        };
        let mut out = Map::new();
        out.insert("type".into(), json!(ty));
        out.insert(ty, payload);
        Ok((Value::Object(out), plain, href))
    }

    /// Parses `type` + `external` / `file_upload` / `file` into the stored file payload.
    pub fn file_source(
        &self,
        t: &Map<String, Value>,
        path: &str,
        block_type: Option<&str>,
    ) -> ApiResult<Map<String, Value>> {
        let kind = match t.get("type") {
            Some(k) => string(k, &format!("{path}.type"))?.to_string(),
            None => ["external", "file_upload", "file"]
                .iter()
                .find(|k| t.contains_key(**k))
                .map(|s| s.to_string())
                .ok_or_else(|| ApiError::validation(format!("body failed validation: {path}.external should be defined, instead was `undefined`.")))?,
        };
        let ipath = format!("{path}.{kind}");
        let inner = obj(req(t, &kind, path)?, &ipath)?;
        let mut out = Map::new();
        match kind.as_str() {
            "external" => {
                check_keys(inner, &["url"], &ipath)?;
                let url = self.url(req(inner, "url", &ipath)?, &format!("{ipath}.url"))?;
                out.insert("type".into(), json!("external"));
                out.insert("external".into(), json!({"url": url}));
            }
            "file_upload" => {
                check_keys(inner, &["id"], &ipath)?;
                let id = body_id(req(inner, "id", &ipath)?, &format!("{ipath}.id"))?;
                let (key, ct) = self.store.files.attachable(&id, self.now).map_err(|e| {
                    if e.status == 404 { ApiError::validation(format!("Could not find file upload with ID: {id}.")) } else { e }
                })?;
                if let Some(bt) = block_type {
                    if !fits_block(bt, &ct) {
                        return Err(ApiError::validation(format!(
                            "The file upload `{id}` has content type `{ct}`, which cannot be used in a `{bt}` block."
                        )));
                    }
                }
                self.attach.borrow_mut().push(id);
                out.insert("type".into(), json!("file"));
                out.insert("file".into(), json!({"hosted": key}));
            }
            "file" => {
                if self.allow_hosted {
                    if let Some(h) = inner.get("hosted") {
                        out.insert("type".into(), json!("file"));
                        out.insert("file".into(), json!({"hosted": h}));
                        return Ok(out);
                    }
                }
                check_keys(inner, &["url", "expiry_time"], &ipath)?;
                let url = string(req(inner, "url", &ipath)?, &format!("{ipath}.url"))?;
                let key = self.store.files.key_for_url(url).ok_or_else(|| {
                    ApiError::validation(format!(
                        "body failed validation: {ipath}.url is not a Notion-hosted file URL from a recent API response."
                    ))
                })?;
                out.insert("type".into(), json!("file"));
                out.insert("file".into(), json!({"hosted": key}));
            }
            other => {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.type should be `external`, `file_upload` or `file`, instead was `\"{other}\"`."
                )))
            }
        }
        Ok(out)
    }

    /// Parses a page/database/callout icon (`null` allowed by the caller).
    pub fn icon(&self, v: &Value, path: &str) -> ApiResult<Value> {
        let m = obj(v, path)?;
        let ty = m.get("type").and_then(Value::as_str).unwrap_or_else(|| {
            ["emoji", "custom_emoji", "external", "file_upload", "file"]
                .iter()
                .find(|k| m.contains_key(**k))
                .copied()
                .unwrap_or("")
        });
        match ty {
            "emoji" => {
                check_keys(m, &["type", "emoji"], path)?;
                let e = string(req(m, "emoji", path)?, &format!("{path}.emoji"))?;
                if e.is_empty() || e.chars().count() > 16 {
                    return Err(ApiError::validation(format!(
                        "body failed validation: {path}.emoji should be a single emoji."
                    )));
                }
                Ok(json!({"type": "emoji", "emoji": e}))
            }
            "custom_emoji" => {
                check_keys(m, &["type", "custom_emoji"], path)?;
                let c = obj(
                    req(m, "custom_emoji", path)?,
                    &format!("{path}.custom_emoji"),
                )?;
                let id = body_id(req(c, "id", path)?, &format!("{path}.custom_emoji.id"))?;
                Ok(
                    json!({"type": "custom_emoji", "custom_emoji": {"id": id, "name": c.get("name").cloned().unwrap_or(json!("emoji")), "url": c.get("url").cloned().unwrap_or(Value::Null)}}),
                )
            }
            _ => {
                check_keys(m, &["type", "external", "file_upload", "file"], path)?;
                let src = self.file_source(m, path, Some("image"))?;
                Ok(Value::Object(src))
            }
        }
    }

    /// Parses a page/database cover (`external`, `file_upload` or a recent `file`).
    pub fn cover(&self, v: &Value, path: &str) -> ApiResult<Value> {
        let m = obj(v, path)?;
        check_keys(m, &["type", "external", "file_upload", "file"], path)?;
        Ok(Value::Object(self.file_source(m, path, Some("image"))?))
    }
}

/// Validates a color value.
pub fn color(v: &Value, path: &str) -> ApiResult<String> {
    let s = string(v, path)?;
    if !COLORS.contains(&s) {
        return Err(ApiError::validation(format!(
            "body failed validation: {path} should be a valid color, instead was `\"{s}\"`."
        )));
    }
    Ok(s.to_string())
}

/// Validates a date value `{start, end?, time_zone?}`.
pub fn date_value(v: &Value, path: &str) -> ApiResult<Value> {
    let m = obj(v, path)?;
    check_keys(m, &["start", "end", "time_zone"], path)?;
    let start = string(req(m, "start", path)?, &format!("{path}.start"))?;
    if super::util::parse_time(start).is_none() {
        return Err(ApiError::validation(format!(
            "body failed validation: {path}.start should be a valid ISO 8601 date string, instead was `\"{start}\"`."
        )));
    }
    let end = match m.get("end") {
        None | Some(Value::Null) => Value::Null,
        Some(e) => {
            let s = string(e, &format!("{path}.end"))?;
            if super::util::parse_time(s).is_none() {
                return Err(ApiError::validation(format!(
                    "body failed validation: {path}.end should be a valid ISO 8601 date string."
                )));
            }
            json!(s)
        }
    };
    let tz = match m.get("time_zone") {
        None | Some(Value::Null) => Value::Null,
        Some(t) => json!(string(t, &format!("{path}.time_zone"))?),
    };
    Ok(json!({"start": start, "end": end, "time_zone": tz}))
}

/// Checks that a child of type `child` may sit under a parent block of type `parent`.
pub fn check_child_type(
    parent: &str,
    parent_data: &Map<String, Value>,
    child: &str,
    child_data: &Value,
    path: &str,
) -> ApiResult<()> {
    let err = |msg: String| {
        Err(ApiError::validation(format!(
            "body failed validation: {path}: {msg}"
        )))
    };
    match parent {
        "column_list" if child != "column" => {
            return err(format!(
                "a column_list can only contain column blocks, not `{child}`."
            ))
        }
        "table" => {
            if child != "table_row" {
                return err(format!(
                    "a table can only contain table_row blocks, not `{child}`."
                ));
            }
            let width = parent_data
                .get("table_width")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let cells = child_data
                .get("cells")
                .and_then(Value::as_array)
                .map(|a| a.len() as u64)
                .unwrap_or(0);
            if cells != width {
                return err(format!("table_row has {cells} cells but the table's table_width is {width}; the number of cells must equal table_width."));
            }
        }
        _ => {}
    }
    if child == "column" && parent != "column_list" {
        return err("column blocks can only be children of a column_list.".into());
    }
    if child == "table_row" && parent != "table" {
        return err("table_row blocks can only be children of a table.".into());
    }
    Ok(())
}

/// Whether a block of this type (with this data) can hold children.
pub fn supports_children(ty: &str, data: &Value) -> bool {
    match ty {
        "paragraph" | "bulleted_list_item" | "numbered_list_item" | "to_do" | "toggle"
        | "quote" | "callout" | "column" | "column_list" | "table" | "template" | "child_page" => {
            true
        }
        "heading_1" | "heading_2" | "heading_3" => data
            .get("is_toggleable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        "synced_block" => data.get("synced_from").is_some_and(Value::is_null),
        _ => false,
    }
}

/// Parses a pagination `page_size` (1..=100, default 100).
pub fn page_size(v: Option<&Value>, path: &str) -> ApiResult<usize> {
    match v {
        None | Some(Value::Null) => Ok(100),
        Some(v) => {
            let n = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| {
                    ApiError::validation(format!("{path} should be a number, instead was `{v}`."))
                })?;
            if !(1..=100).contains(&n) {
                return Err(ApiError::validation(format!(
                    "{path} should be ≤ `100` and ≥ `1`, instead was `{n}`."
                )));
            }
            Ok(n as usize)
        }
    }
}

/// Parses an optional `start_cursor` (must be a string).
pub fn start_cursor(v: Option<&Value>, path: &str) -> ApiResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(ApiError::validation(format!(
            "{path} should be a string, instead was a {}.",
            json_kind(v)
        ))),
    }
}

/// The positions one page of `ids` (already in order) covers, starting at the cursor's id,
/// and the next cursor: cursors are the id of the first item of the next page, like
/// Notion's. Lists paginate their ids first and render only the page they return.
pub fn page_range<S: AsRef<str>>(
    ids: &[S],
    cursor: Option<&str>,
    size: usize,
) -> ApiResult<(std::ops::Range<usize>, Option<String>)> {
    let start = match cursor {
        None => 0,
        Some(c) => {
            let c = parse_id(c).unwrap_or_else(|| c.to_string());
            ids.iter().position(|id| id.as_ref() == c).ok_or_else(|| {
                ApiError::validation(format!("start_cursor provided is invalid: {c}"))
            })?
        }
    };
    let end = (start + size).min(ids.len());
    let next = ids.get(end).map(|id| id.as_ref().to_string());
    Ok((start..end, next))
}

/// Paginates `items` (already in order) identified by their ids (see [`page_range`]).
pub fn paginate<T: Clone>(
    items: &[(String, T)],
    cursor: Option<&str>,
    size: usize,
) -> ApiResult<(Vec<T>, Option<String>)> {
    let ids: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
    let (range, next) = page_range(&ids, cursor, size)?;
    let page = items[range].iter().map(|(_, t)| t.clone()).collect();
    Ok((page, next))
}
