//! The comment object (/reference/comment-object).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::rich_text::RichText;
use super::union::nulls;
use super::{JsonMap, User};

/// A comment on a page or block.
///
/// An empty `attachments` list and a `null` `display_name` or `created_by` are written back
/// as received (absent stays absent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
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

impl Serialize for Comment {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let set = [
            ("created_by", self.created_by.is_some()),
            ("display_name", self.display_name.is_some()),
        ];
        let mut extra = nulls::stale(&self.extra, &set);
        // An empty list read from the API sits in `extra`; drop it once there are items.
        if !self.attachments.is_empty() && self.extra.contains_key("attachments") {
            let e = extra.get_or_insert_with(|| self.extra.clone());
            e.remove("attachments");
        }
        match extra {
            Some(extra) => Comment::serialize(
                &Comment {
                    extra,
                    ..self.clone()
                },
                s,
            ),
            None => Comment::serialize(self, s),
        }
    }
}

impl<'de> Deserialize<'de> for Comment {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = JsonMap::deserialize(d)?;
        let found = nulls::find(&map, &["created_by", "display_name"]);
        let empty_attachments =
            matches!(map.get("attachments"), Some(Value::Array(a)) if a.is_empty());
        let mut c = Comment::deserialize(Value::Object(map)).map_err(D::Error::custom)?;
        nulls::keep(&mut c.extra, found);
        if empty_attachments {
            c.extra
                .insert("attachments".into(), Value::Array(Vec::new()));
        }
        Ok(c)
    }
}
