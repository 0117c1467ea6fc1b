//! Notion-hosted files and the File Upload API state machine.
//!
//! Hosted files live in memory under a key; API responses never carry the key but a fresh
//! signed URL (`/_files/<token>/<name>`) that expires like Notion's S3 URLs do (one hour by
//! default, measured on the emulator clock so tests can advance it). Uploads follow the
//! reference: `pending` -> `uploaded` (single part on send, multi part on complete), `expired`
//! one hour after creation if never finished, `expiry_time: null` once attached.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use super::util::{minute_iso, ms_iso, random_hex, ApiError, ApiResult};

/// 20 MiB: the single-part limit and the maximum size of one part.
pub const MAX_PART: usize = 20 * 1024 * 1024;
/// 5 MiB: the minimum size of every part but the last.
pub const MIN_PART: usize = 5 * 1024 * 1024;
/// The per-file limit advertised in `bot.workspace_limits` (a paid workspace: 5 GiB).
pub const WORKSPACE_FILE_LIMIT: u64 = 5 * 1024 * 1024 * 1024;
/// Maximum filename length in bytes.
pub const MAX_FILENAME: usize = 900;

/// A file stored by the emulator and served at signed URLs.
#[derive(Debug, Clone)]
pub struct HostedFile {
    /// File name shown in the URL path.
    pub name: String,
    /// MIME type served in `Content-Type`.
    pub content_type: String,
    /// The bytes.
    pub bytes: Bytes,
}

/// One file upload object.
#[derive(Debug, Clone)]
pub struct Upload {
    pub id: String,
    pub mode: String,
    pub status: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub number_of_parts: Option<u32>,
    pub parts: BTreeMap<u32, Bytes>,
    pub created: DateTime<Utc>,
    pub edited: DateTime<Utc>,
    pub expiry: DateTime<Utc>,
    pub attached: bool,
    pub content_length: Option<u64>,
    pub created_by: String,
}

/// Hosted files, signed URLs and uploads.
#[derive(Debug)]
pub struct FileStore {
    pub hosted: HashMap<String, HostedFile>,
    signed: HashMap<String, (String, DateTime<Utc>)>,
    pub uploads: HashMap<String, Upload>,
    pub upload_order: Vec<String>,
    /// How long a handed-out URL stays valid.
    pub ttl: Duration,
    /// `http://127.0.0.1:PORT`, set once the listener is bound.
    pub base_url: String,
    /// Per-file limit of the workspace (`bot.workspace_limits.max_file_upload_size_in_bytes`).
    pub max_file_size: u64,
}

impl FileStore {
    /// An empty store.
    pub fn new() -> Self {
        FileStore {
            hosted: HashMap::new(),
            signed: HashMap::new(),
            uploads: HashMap::new(),
            upload_order: Vec::new(),
            ttl: Duration::hours(1),
            base_url: String::new(),
            max_file_size: WORKSPACE_FILE_LIMIT,
        }
    }

    /// A fresh signed `{"url","expiry_time"}` for a hosted file.
    pub fn sign(&mut self, key: &str, now: DateTime<Utc>) -> Value {
        let token = random_hex(16);
        let expiry = now + self.ttl;
        let name = self
            .hosted
            .get(key)
            .map(|f| f.name.clone())
            .unwrap_or_else(|| "file".to_string());
        self.signed.insert(token.clone(), (key.to_string(), expiry));
        json!({
            "url": format!("{}/_files/{}/{}", self.base_url, token, super::util::encode_prop_id(&name)),
            "expiry_time": ms_iso(expiry),
        })
    }

    /// Replaces every internal `{"hosted": key}` file payload in `v` by a fresh signed URL.
    pub fn sign_all(&mut self, v: &mut Value, now: DateTime<Utc>) {
        match v {
            Value::Object(m) => {
                let hosted_key = m
                    .get("file")
                    .and_then(|f| f.get("hosted"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(key) = hosted_key {
                    m.insert("file".into(), self.sign(&key, now));
                }
                for (_, child) in m.iter_mut() {
                    self.sign_all(child, now);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|c| self.sign_all(c, now)),
            _ => {}
        }
    }

    /// Maps a signed URL handed out earlier back to its hosted key (a `file` object copied
    /// verbatim from a recent response is valid input).
    pub fn key_for_url(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.base_url)?.strip_prefix("/_files/")?;
        let token = rest.split('/').next()?;
        self.signed.get(token).map(|(k, _)| k.clone())
    }

    /// Resolves a signed URL token for serving: the file, or the S3-like error.
    pub fn serve(&self, token: &str, now: DateTime<Utc>) -> Result<HostedFile, &'static str> {
        let (key, expiry) = self.signed.get(token).ok_or("AccessDenied")?;
        if now > *expiry {
            return Err("Request has expired");
        }
        self.hosted.get(key).cloned().ok_or("NoSuchKey")
    }

    /// Current status of an upload (pending uploads past their expiry are `expired`).
    fn status_of(u: &Upload, now: DateTime<Utc>) -> String {
        if u.status == "pending" && now > u.expiry {
            "expired".into()
        } else {
            u.status.clone()
        }
    }

    /// The File Upload object for `id`.
    pub fn render_upload(&self, u: &Upload, now: DateTime<Utc>) -> Value {
        let status = Self::status_of(u, now);
        let mut m = Map::new();
        m.insert("object".into(), json!("file_upload"));
        m.insert("id".into(), json!(u.id));
        m.insert("created_time".into(), json!(minute_iso(u.created)));
        m.insert(
            "created_by".into(),
            json!({"id": u.created_by, "type": "bot"}),
        );
        m.insert("last_edited_time".into(), json!(minute_iso(u.edited)));
        m.insert("archived".into(), json!(false));
        m.insert("request_id".into(), json!(super::util::new_uuid()));
        m.insert(
            "expiry_time".into(),
            if u.attached {
                Value::Null
            } else {
                json!(ms_iso(u.expiry))
            },
        );
        m.insert("status".into(), json!(status));
        m.insert("filename".into(), json!(u.filename));
        m.insert("content_type".into(), json!(u.content_type));
        m.insert("content_length".into(), json!(u.content_length));
        if status == "pending" {
            m.insert(
                "upload_url".into(),
                json!(format!("{}/v1/file_uploads/{}/send", self.base_url, u.id)),
            );
            if u.mode == "multi_part" {
                m.insert(
                    "complete_url".into(),
                    json!(format!(
                        "{}/v1/file_uploads/{}/complete",
                        self.base_url, u.id
                    )),
                );
            }
        }
        if let Some(n) = u.number_of_parts {
            m.insert(
                "number_of_parts".into(),
                json!({"total": n, "sent": u.parts.len()}),
            );
        }
        Value::Object(m)
    }

    /// Checks that upload `id` can be attached; returns its hosted key and content type.
    pub fn attachable(&self, id: &str, now: DateTime<Utc>) -> ApiResult<(String, String)> {
        let u = self
            .uploads
            .get(id)
            .ok_or_else(|| ApiError::not_found("file upload", id))?;
        let status = Self::status_of(u, now);
        if status != "uploaded" {
            return Err(ApiError::validation(format!(
                "File upload with ID `{id}` is in status `{status}`; only uploads in status `uploaded` can be attached."
            )));
        }
        Ok((id.to_string(), u.content_type.clone().unwrap_or_default()))
    }

    /// Marks an upload as attached (its `expiry_time` becomes null).
    pub fn mark_attached(&mut self, id: &str) {
        if let Some(u) = self.uploads.get_mut(id) {
            u.attached = true;
        }
    }

    /// Creates an upload from a validated create request.
    pub fn create_upload(
        &mut self,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
        bot: &str,
    ) -> ApiResult<Value> {
        let mode = upload_mode(body)?;
        let filename = match body.get("filename") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                if s.len() > MAX_FILENAME {
                    return Err(ApiError::validation(format!(
                        "body failed validation: body.filename.length should be ≤ `{MAX_FILENAME}` bytes, instead was `{}`.",
                        s.len()
                    )));
                }
                Some(s.clone())
            }
            Some(_) => {
                return Err(ApiError::validation(
                    "body failed validation: body.filename should be a string.",
                ))
            }
        };
        let mut content_type = match body.get("content_type") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(ApiError::validation(
                    "body failed validation: body.content_type should be a string.",
                ))
            }
        };
        if let (None, Some(f)) = (&content_type, &filename) {
            content_type = mime_for(f).map(str::to_string);
        }
        if let Some(ct) = &content_type {
            if !SUPPORTED.iter().any(|(_, m)| m == ct) {
                return Err(ApiError::validation(format!(
                    "Unsupported content type: `{ct}`."
                )));
            }
        }
        let number_of_parts = upload_number_of_parts(&mode, body)?;
        // sending-larger-files: "a `filename` with a valid extension or a separate MIME
        // `content_type` parameter that can be used to detect an extension".
        if mode == "multi_part" && filename.is_none() && content_type.is_none() {
            return Err(ApiError::validation(
                "body failed validation: body.filename or body.content_type should be defined for mode `multi_part`.",
            ));
        }
        let id = super::util::new_uuid();
        let u = Upload {
            id: id.clone(),
            mode,
            status: "pending".into(),
            filename,
            content_type,
            number_of_parts,
            parts: BTreeMap::new(),
            created: now,
            edited: now,
            expiry: now + Duration::hours(1),
            attached: false,
            content_length: None,
            created_by: bot.to_string(),
        };
        let out = self.render_upload(&u, now);
        self.uploads.insert(id.clone(), u);
        self.upload_order.push(id);
        Ok(out)
    }

    /// Handles `send`: one multipart/form-data body with `file` and optional `part_number`.
    pub fn send(&mut self, id: &str, form: Vec<FormPart>, now: DateTime<Utc>) -> ApiResult<Value> {
        let u = self
            .uploads
            .get(id)
            .ok_or_else(|| ApiError::not_found("file upload", id))?;
        let status = Self::status_of(u, now);
        if status != "pending" {
            return Err(ApiError::validation(format!(
                "File upload is in status `{status}`; data can only be sent to uploads in status `pending`."
            )));
        }
        let (file, part_number) = send_form(form)?;
        if u.mode == "single_part" {
            self.send_single(id, file, part_number, now)?;
        } else {
            self.send_part(id, file, part_number, now)?;
        }
        let u = self.uploads.get(id).expect("upload exists");
        Ok(self.render_upload(u, now))
    }

    /// `send` of a single-part upload: the whole file, which completes the upload (its
    /// filename and content type default to the form part's).
    fn send_single(
        &mut self,
        id: &str,
        file: FormPart,
        part_number: Option<u32>,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let u = self.uploads.get_mut(id).expect("upload checked above");
        if part_number.is_some() {
            return Err(ApiError::validation(
                "part_number is only allowed for multi_part uploads.",
            ));
        }
        if file.data.len() > MAX_PART {
            return Err(ApiError::validation(format!(
                "File size {} bytes exceeds the single-part limit of 20 MiB ({MAX_PART} bytes); use mode `multi_part`.",
                file.data.len()
            )));
        }
        if u.filename.is_none() {
            u.filename = file.filename.clone();
        }
        if u.content_type.is_none() {
            u.content_type = file
                .content_type
                .clone()
                .filter(|c| c != "application/octet-stream")
                .or_else(|| u.filename.as_deref().and_then(mime_for).map(str::to_string));
        }
        let ct = u.content_type.clone().ok_or_else(|| {
            ApiError::validation("Could not determine the content type of the file; provide content_type or a filename with an extension.")
        })?;
        if !SUPPORTED.iter().any(|(_, m)| *m == ct) {
            return Err(ApiError::validation(format!(
                "Unsupported content type: `{ct}`."
            )));
        }
        let limit = self.max_file_size;
        if file.data.len() as u64 > limit {
            return Err(limit_error(file.data.len() as u64, limit));
        }
        let u = self.uploads.get_mut(id).expect("upload checked above");
        u.content_length = Some(file.data.len() as u64);
        u.status = "uploaded".into();
        u.edited = now;
        let name = u.filename.clone().unwrap_or_else(|| "file".into());
        self.hosted.insert(
            id.to_string(),
            HostedFile {
                name,
                content_type: ct,
                bytes: file.data,
            },
        );
        Ok(())
    }

    /// `send` of one part of a multi-part upload (5 to 20 MiB but the last; the parts so far
    /// within the workspace's file size limit).
    fn send_part(
        &mut self,
        id: &str,
        file: FormPart,
        part_number: Option<u32>,
        now: DateTime<Utc>,
    ) -> ApiResult<()> {
        let u = self.uploads.get_mut(id).expect("upload checked above");
        let total = u.number_of_parts.unwrap_or(1);
        let n = part_number.ok_or_else(|| {
            ApiError::validation("part_number should be defined for multi_part uploads.")
        })?;
        if n == 0 || n > total {
            return Err(ApiError::validation(format!(
                "part_number should be between 1 and {total}, instead was {n}."
            )));
        }
        let len = file.data.len();
        if len > MAX_PART || (n < total && len < MIN_PART) {
            return Err(ApiError::validation(format!(
                "Part {n} is {len} bytes; parts must be between 5 MiB and 20 MiB, except the last part which may be smaller."
            )));
        }
        let limit = self.max_file_size;
        let so_far: u64 = u
            .parts
            .iter()
            .filter(|(k, _)| **k != n)
            .map(|(_, b)| b.len() as u64)
            .sum();
        if so_far + len as u64 > limit {
            return Err(limit_error(so_far + len as u64, limit));
        }
        let u = self.uploads.get_mut(id).expect("upload checked above");
        u.parts.insert(n, file.data);
        u.content_length = Some(u.parts.values().map(|b| b.len() as u64).sum());
        u.edited = now;
        Ok(())
    }

    /// Handles `complete` for multi-part uploads.
    pub fn complete(&mut self, id: &str, now: DateTime<Utc>) -> ApiResult<Value> {
        let u = self
            .uploads
            .get(id)
            .ok_or_else(|| ApiError::not_found("file upload", id))?;
        let status = Self::status_of(u, now);
        if u.mode != "multi_part" {
            return Err(ApiError::validation(
                "Only uploads in mode `multi_part` can be completed.",
            ));
        }
        if status != "pending" {
            return Err(ApiError::validation(format!(
                "File upload is in status `{status}`, expected `pending`."
            )));
        }
        let total = u.number_of_parts.unwrap_or(1);
        if (1..=total).any(|n| !u.parts.contains_key(&n)) {
            return Err(ApiError::validation(format!(
                "Expected {total} parts but received {}; send every part before completing.",
                u.parts.len()
            )));
        }
        let mut all = Vec::new();
        for b in u.parts.values() {
            all.extend_from_slice(b);
        }
        let name = u.filename.clone().unwrap_or_else(|| "file".into());
        let ct = u
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        self.check_limit(all.len() as u64)?;
        let u = self.uploads.get_mut(id).expect("upload exists");
        u.status = "uploaded".into();
        u.edited = now;
        u.content_length = Some(all.len() as u64);
        u.parts.clear();
        self.hosted.insert(
            id.to_string(),
            HostedFile {
                name,
                content_type: ct,
                bytes: Bytes::from(all),
            },
        );
        let u = self.uploads.get(id).expect("upload exists");
        Ok(self.render_upload(u, now))
    }
}

/// The `mode` of a create request (`single_part` by default; `external_url` is not
/// supported).
fn upload_mode(body: &Map<String, Value>) -> ApiResult<String> {
    match body.get("mode") {
        None => Ok("single_part".to_string()),
        Some(Value::String(s)) if s == "single_part" || s == "multi_part" => Ok(s.clone()),
        Some(Value::String(s)) if s == "external_url" => Err(ApiError::validation(
            "mode `external_url` is not supported by the notionfs emulator.",
        )),
        Some(other) => Err(ApiError::validation(format!(
            "body failed validation: body.mode should be one of `single_part`, `multi_part`, `external_url`, instead was `{other}`."
        ))),
    }
}

/// The `number_of_parts` of a create request: required (1 to 1000) for `multi_part`,
/// refused for other modes.
fn upload_number_of_parts(mode: &str, body: &Map<String, Value>) -> ApiResult<Option<u32>> {
    match (mode, body.get("number_of_parts")) {
        ("multi_part", Some(Value::Number(n))) => match n.as_u64() {
            Some(n) if (1..=1000).contains(&n) => Ok(Some(n as u32)),
            _ => Err(ApiError::validation(
                "body failed validation: body.number_of_parts should be an integer between 1 and 1000.",
            )),
        },
        ("multi_part", _) => Err(ApiError::validation(
            "body failed validation: body.number_of_parts should be defined for mode `multi_part`.",
        )),
        (_, Some(_)) => Err(ApiError::validation(
            "body failed validation: body.number_of_parts is only allowed for mode `multi_part`.",
        )),
        (_, None) => Ok(None),
    }
}

/// The `file` part and optional `part_number` of a `send` form (no other fields).
fn send_form(form: Vec<FormPart>) -> ApiResult<(FormPart, Option<u32>)> {
    let mut file = None;
    let mut part_number = None;
    for p in form {
        match p.name.as_str() {
            "file" => file = Some(p),
            "part_number" => {
                let s = String::from_utf8_lossy(&p.data).trim().to_string();
                part_number = Some(s.parse::<u32>().map_err(|_| {
                    ApiError::validation(format!(
                        "part_number should be a positive integer, instead was `{s}`."
                    ))
                })?);
            }
            other => {
                return Err(ApiError::validation(format!(
                    "body failed validation: unknown form field `{other}`."
                )))
            }
        }
    }
    let file = file.ok_or_else(|| {
        ApiError::validation("body failed validation: form field `file` should be defined.")
    })?;
    Ok((file, part_number))
}

fn limit_error(size: u64, limit: u64) -> ApiError {
    ApiError::validation(format!(
        "The file size ({size} bytes) is not within the allowed limit of {limit} bytes (max_file_upload_size_in_bytes) for this workspace."
    ))
}

impl FileStore {
    fn check_limit(&self, size: u64) -> ApiResult<()> {
        if size > self.max_file_size {
            return Err(limit_error(size, self.max_file_size));
        }
        Ok(())
    }
}

impl Default for FileStore {
    fn default() -> Self {
        Self::new()
    }
}

/// Extensions and MIME types accepted by the File Upload API (working-with-files-and-media).
pub const SUPPORTED: &[(&str, &str)] = &[
    ("aac", "audio/aac"),
    ("adts", "audio/aac"),
    ("mid", "audio/midi"),
    ("midi", "audio/midi"),
    ("mp3", "audio/mpeg"),
    ("mpga", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("m4b", "audio/mp4"),
    ("oga", "audio/ogg"),
    ("ogg", "audio/ogg"),
    ("wav", "audio/wav"),
    ("wma", "audio/x-ms-wma"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("json", "application/json"),
    ("doc", "application/msword"),
    ("dot", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "dotx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    ),
    ("xls", "application/vnd.ms-excel"),
    ("xlt", "application/vnd.ms-excel"),
    ("xla", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "xltx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    ("pot", "application/vnd.ms-powerpoint"),
    ("pps", "application/vnd.ms-powerpoint"),
    ("ppa", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    (
        "potx",
        "application/vnd.openxmlformats-officedocument.presentationml.template",
    ),
    ("gif", "image/gif"),
    ("heic", "image/heic"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("svg", "image/svg+xml"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("webp", "image/webp"),
    ("ico", "image/vnd.microsoft.icon"),
    ("amv", "video/x-amv"),
    ("asf", "video/x-ms-asf"),
    ("wmv", "video/x-ms-asf"),
    ("avi", "video/x-msvideo"),
    ("f4v", "video/x-f4v"),
    ("flv", "video/x-flv"),
    ("gifv", "video/mp4"),
    ("m4v", "video/mp4"),
    ("mp4", "video/mp4"),
    ("mkv", "video/webm"),
    ("webm", "video/webm"),
    ("mov", "video/quicktime"),
    ("qt", "video/quicktime"),
    ("mpeg", "video/mpeg"),
];

/// MIME type for a filename's extension, if supported.
pub fn mime_for(filename: &str) -> Option<&'static str> {
    let ext = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    SUPPORTED.iter().find(|(e, _)| *e == ext).map(|(_, m)| *m)
}

/// Whether a hosted file of MIME type `ct` may be used in a block of type `block_type`.
pub fn fits_block(block_type: &str, ct: &str) -> bool {
    match block_type {
        "image" => ct.starts_with("image/"),
        "video" => ct.starts_with("video/") || ct == "application/mp4",
        "audio" => ct.starts_with("audio/"),
        "pdf" => ct == "application/pdf",
        _ => true,
    }
}

/// One field of a multipart/form-data body.
#[derive(Debug, Clone)]
pub struct FormPart {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// Parses a multipart/form-data body (RFC 7578) given the request's Content-Type header.
pub fn parse_multipart(content_type: &str, body: &Bytes) -> ApiResult<Vec<FormPart>> {
    let bad =
        || ApiError::validation("Content-Type should be multipart/form-data with a boundary.");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(bad());
    }
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(bad)?;
    let delim = format!("--{boundary}");
    let data = &body[..];
    let mut parts = Vec::new();
    let mut pos = find(data, delim.as_bytes(), 0)
        .ok_or_else(|| ApiError::validation("Malformed multipart body."))?;
    loop {
        pos += delim.len();
        if data[pos..].starts_with(b"--") {
            break;
        }
        // skip CRLF after the delimiter
        if data[pos..].starts_with(b"\r\n") {
            pos += 2;
        }
        let header_end = find(data, b"\r\n\r\n", pos)
            .ok_or_else(|| ApiError::validation("Malformed multipart body."))?;
        let headers = String::from_utf8_lossy(&data[pos..header_end]).to_string();
        let content_start = header_end + 4;
        let next = find(data, format!("\r\n{delim}").as_bytes(), content_start)
            .ok_or_else(|| ApiError::validation("Malformed multipart body."))?;
        let mut name = String::new();
        let mut filename = None;
        let mut ctype = None;
        for line in headers.split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                for attr in line.split(';').map(str::trim) {
                    if let Some(v) = attr.strip_prefix("name=") {
                        name = v.trim_matches('"').to_string();
                    } else if let Some(v) = attr.strip_prefix("filename=") {
                        filename = Some(v.trim_matches('"').to_string());
                    }
                }
            } else if lower.starts_with("content-type:") {
                ctype = Some(line["content-type:".len()..].trim().to_string());
            }
        }
        parts.push(FormPart {
            name,
            filename,
            content_type: ctype,
            data: body.slice(content_start..next),
        });
        pos = next + 2;
    }
    Ok(parts)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() || needle.is_empty() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}
