//! Small shared pieces of the emulator: the API error type (rendered exactly like Notion's
//! error bodies), id parsing/formatting, minute-rounded timestamps and random ids.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Timelike, Utc};
use serde_json::{json, Value};

/// An error returned to an API client as `{"object":"error","status","code","message"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Notion error code (`validation_error`, `object_not_found`, ...).
    pub code: &'static str,
    /// Human readable message.
    pub message: String,
    /// Seconds for the `Retry-After` header (rate limiting only).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// A new error with an explicit status and code.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 `validation_error`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "validation_error", message)
    }

    /// 404 `object_not_found` for an object kind (`block`, `page`, `database`, ...).
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            404,
            "object_not_found",
            format!(
                "Could not find {kind} with ID: {id}. Make sure the relevant pages and databases are shared with your integration."
            ),
        )
    }

    /// 400 `invalid_json`.
    pub fn invalid_json() -> Self {
        Self::new(400, "invalid_json", "Error parsing JSON body.")
    }

    /// 400 `invalid_request_url`.
    pub fn invalid_url() -> Self {
        Self::new(400, "invalid_request_url", "Invalid request URL.")
    }

    /// The JSON body of this error.
    pub fn body(&self) -> Value {
        json!({
            "object": "error",
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": new_uuid(),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}

/// Result alias for API operations.
pub type ApiResult<T> = Result<T, ApiError>;

/// Parses an id given with or without dashes; returns the dashed lowercase form.
pub fn parse_id(raw: &str) -> Option<String> {
    let hex: String = raw.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let dashes_ok = !raw.contains('-')
        || (raw.len() == 36 && [8, 13, 18, 23].iter().all(|i| &raw[*i..*i + 1] == "-"));
    if !dashes_ok {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// Parses an id from the path, or fails with the validation error Notion gives for a bad id.
pub fn path_id(raw: &str, name: &str) -> ApiResult<String> {
    parse_id(raw).ok_or_else(|| {
        ApiError::validation(format!(
            "path failed validation: path.{name} should be a valid uuid, instead was `\"{raw}\"`."
        ))
    })
}

/// Parses an id found in a request body at `path`.
pub fn body_id(v: &Value, path: &str) -> ApiResult<String> {
    match v.as_str().and_then(parse_id) {
        Some(id) => Ok(id),
        None => Err(ApiError::validation(format!(
            "body failed validation: {path} should be a valid uuid, instead was `{v}`."
        ))),
    }
}

/// A fresh random UUID v4 in dashed form.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Formats a time as Notion does for objects: rounded down to the minute.
pub fn minute_iso(t: DateTime<Utc>) -> String {
    let t = t
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t);
    t.format("%Y-%m-%dT%H:%M:00.000Z").to_string()
}

/// Formats a time with millisecond precision (expiry times).
pub fn ms_iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses an ISO 8601 datetime or date (date = midnight UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| n.and_utc());
    }
    if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(n.and_utc());
    }
    if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        return Some(n.and_utc());
    }
    None
}

/// A random lowercase hex string of `n` bytes (2n characters).
pub fn random_hex(n: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Percent-encodes a property id the way Notion does (everything but unreserved characters).
pub fn encode_prop_id(raw: &str) -> String {
    let mut out = String::new();
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (invalid escapes are kept literally).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Describes a JSON value's type the way Notion's validation messages do.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_with_and_without_dashes() {
        let d = "be633bf1-dfa0-436d-b259-571129a590e5";
        assert_eq!(parse_id(d).as_deref(), Some(d));
        assert_eq!(
            parse_id("BE633BF1DFA0436DB259571129A590E5").as_deref(),
            Some(d)
        );
        assert_eq!(parse_id("be633bf1dfa0-436d-b259-571129a590e5"), None);
        assert_eq!(parse_id("nope"), None);
    }

    #[test]
    fn percent_roundtrip() {
        assert_eq!(encode_prop_id("M;Bw"), "M%3BBw");
        assert_eq!(percent_decode("M%3BBw"), "M;Bw");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn minute_rounding() {
        let t = parse_time("2024-05-06T07:08:09.123Z").expect("valid time");
        assert_eq!(minute_iso(t), "2024-05-06T07:08:00.000Z");
    }
}
