//! Serde models of every object in the Notion API reference (version 2025-09-03).
//!
//! Notion encodes its unions as `{"type": "T", "T": {…payload…}}`. Serde cannot say that
//! directly, so `typed_union!` generates enums that (de)serialize in that shape, with an
//! `Unknown` variant that keeps any type Notion adds later as raw JSON. Structs carry an
//! `extra` map (`#[serde(flatten)]`) so fields we do not model survive a read-modify-write.

#[macro_use]
mod union;

/// The notion.so address of an object, for `user.notion.url` when the API gave none.
pub fn notion_url(id: &str) -> String {
    format!("https://www.notion.so/{}", id.replace('-', ""))
}

pub mod block;
pub mod comment;
pub mod database;
pub mod error;
pub mod file;
pub mod file_upload;
pub mod list;
pub mod page;
pub mod parent;
pub mod property;
pub mod property_item;
pub mod rich_text;
pub mod user;

pub use block::{Block, BlockKind};
pub use comment::Comment;
pub use database::{DataSource, DataSourceRef, Database};
pub use error::ErrorBody;
pub use file::{FileObject, Icon};
pub use file_upload::FileUpload;
pub use list::List;
pub use page::Page;
pub use parent::Parent;
pub use property::{PropertySchema, PropertyValue};
pub use rich_text::{Annotations, Mention, RichText, RichTextKind};
pub use user::User;

/// A JSON object, in the order its keys were read (serde_json's `preserve_order`).
pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// What is left of a JSON object that was read whole and taken apart field by field, as a
/// map of its own size (the `extra` of a model): the map would otherwise keep room for every
/// key it held, and models read from the API (blocks, rich text, property values) are kept
/// in memory by the thousand. Same keys, same order.
pub(crate) fn compact(map: JsonMap) -> JsonMap {
    map.into_iter().collect()
}

/// The colour every block and annotation has unless told otherwise.
pub const DEFAULT_COLOR: &str = "default";

pub(crate) fn default_color() -> String {
    DEFAULT_COLOR.to_string()
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}
