//! The file upload object (/reference/file-upload).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::JsonMap;

/// A file upload: created, sent (in one or several parts), completed, then attached.
///
/// Optional fields are written back as received: absent stays absent, `null` stays `null`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct FileUpload {
    /// Always `"file_upload"`.
    pub object: String,
    /// Upload id; attach with `{"type": "file_upload", "file_upload": {"id"}}`.
    pub id: String,
    /// Creation time.
    #[serde(default)]
    pub created_time: String,
    /// When an unattached upload expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<String>,
    /// `pending`, `uploaded`, `expired` or `failed`.
    pub status: String,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Size once uploaded.
    #[serde(
        default,
        deserialize_with = "content_length",
        skip_serializing_if = "Option::is_none"
    )]
    pub content_length: Option<u64>,
    /// Where to send the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_url: Option<String>,
    /// Where to complete a multi-part upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_url: Option<String>,
    /// `{expected_parts, sent_parts}` of a multi-part upload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_parts: Option<PartCount>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

keep_nulls!(FileUpload {
    expiry_time,
    filename,
    content_type,
    content_length,
    upload_url,
    complete_url,
    number_of_parts,
});

/// `content_length`: an integer, or the same integer as a decimal string (the reference's
/// upload guide prints it that way); written back as an integer.
fn content_length<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("`content_length` must be a size, got {n}"))),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("`content_length` must be a size, got {s:?}"))),
        Some(other) => Err(D::Error::custom(format!(
            "`content_length` must be a size, got {other}"
        ))),
    }
}

/// Progress of a multi-part upload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartCount {
    /// Parts announced at creation.
    pub total: u32,
    /// Parts received so far.
    pub sent: u32,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}
