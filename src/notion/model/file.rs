//! File objects (/reference/file-object) and icons (/reference/emoji-object).

use serde::{Deserialize, Serialize};

use super::JsonMap;

/// A file hosted by Notion: a signed URL that expires (about an hour after it is handed out).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostedFile {
    /// Signed URL to download the file.
    pub url: String,
    /// When `url` stops working (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A file at a public URL outside Notion; never expires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExternalFile {
    /// The file's URL.
    pub url: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A reference to a completed file upload, used in requests; responses turn it into `file`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileUploadRef {
    /// The file upload's id.
    pub id: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A custom emoji of the workspace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CustomEmoji {
    /// The custom emoji's id.
    pub id: String,
    /// Its name (responses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its image URL (responses only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

typed_union! {
    /// Where a file lives: Notion-hosted, external, or a pending file upload.
    pub enum FileObject {
        /// Notion-hosted (responses; requests only when copied verbatim).
        "file" => File(HostedFile),
        /// An external URL.
        "external" => External(ExternalFile),
        /// A file upload (requests).
        "file_upload" => FileUpload(FileUploadRef),
    }
}

impl FileObject {
    /// An external file at `url`.
    pub fn external(url: impl Into<String>) -> Self {
        FileObject::External(ExternalFile {
            url: url.into(),
            extra: JsonMap::new(),
        })
    }

    /// A reference to the completed file upload `id`.
    pub fn upload(id: impl Into<String>) -> Self {
        FileObject::FileUpload(FileUploadRef {
            id: id.into(),
            extra: JsonMap::new(),
        })
    }

    /// The URL to fetch the file from, if it has one.
    pub fn url(&self) -> Option<&str> {
        match self {
            FileObject::File(f) => Some(&f.url),
            FileObject::External(f) => Some(&f.url),
            _ => None,
        }
    }
}

typed_union! {
    /// A page, callout or database icon.
    pub enum Icon {
        /// A unicode emoji, e.g. `"💡"`.
        "emoji" => Emoji(String),
        /// A workspace custom emoji.
        "custom_emoji" => CustomEmoji(CustomEmoji),
        /// An external image.
        "external" => External(ExternalFile),
        /// A Notion-hosted image.
        "file" => File(HostedFile),
        /// A file upload (requests).
        "file_upload" => FileUpload(FileUploadRef),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_object_round_trips_and_keeps_unknown_types() {
        let v = json!({"type": "file", "file": {"url": "https://s3/x.png", "expiry_time": "2025-01-01T00:00:00.000Z"}});
        let f: FileObject = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(f.url(), Some("https://s3/x.png"));
        assert_eq!(serde_json::to_value(&f).unwrap(), v);

        let v = json!({"type": "hologram", "hologram": {"depth": 3}});
        let f: FileObject = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(f.type_name(), "hologram");
        assert_eq!(serde_json::to_value(&f).unwrap(), v);
    }

    #[test]
    fn emoji_icon() {
        let v = json!({"type": "emoji", "emoji": "💡"});
        let i: Icon = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(i, Icon::Emoji("💡".into()));
        assert_eq!(serde_json::to_value(&i).unwrap(), v);
    }
}
