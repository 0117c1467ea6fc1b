//! The file upload object (/reference/file-upload).

use serde::{Deserialize, Serialize};

use super::JsonMap;

/// A file upload: created, sent (in one or several parts), completed, then attached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileUpload {
    /// Always `"file_upload"`.
    pub object: String,
    /// Upload id; attach with `{"type": "file_upload", "file_upload": {"id"}}`.
    pub id: String,
    /// Creation time.
    #[serde(default)]
    pub created_time: String,
    /// When an unattached upload expires.
    #[serde(default)]
    pub expiry_time: Option<String>,
    /// `pending`, `uploaded`, `expired` or `failed`.
    pub status: String,
    /// File name.
    #[serde(default)]
    pub filename: Option<String>,
    /// MIME type.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Size once uploaded.
    #[serde(default)]
    pub content_length: Option<u64>,
    /// Where to send the content.
    #[serde(default)]
    pub upload_url: Option<String>,
    /// Where to complete a multi-part upload.
    #[serde(default)]
    pub complete_url: Option<String>,
    /// `{expected_parts, sent_parts}` of a multi-part upload.
    #[serde(default)]
    pub number_of_parts: Option<PartCount>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
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
