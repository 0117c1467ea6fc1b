//! The comment object (/reference/comment-object).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rich_text::RichText;
use super::{JsonMap, User};

/// A comment on a page or block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Always `"comment"`.
    pub object: String,
    /// Comment id.
    pub id: String,
    /// `page_id` or `block_id` parent.
    pub parent: super::parent::Parent,
    /// Thread id.
    pub discussion_id: String,
    /// Creation time.
    #[serde(default)]
    pub created_time: String,
    /// Last edit time.
    #[serde(default)]
    pub last_edited_time: String,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<User>,
    /// The comment text.
    #[serde(default)]
    pub rich_text: Vec<RichText>,
    /// Attached files: `{category, file: {url, expiry_time}}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Value>,
    /// `{type, resolved_name}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Value>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}
