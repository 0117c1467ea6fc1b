//! The page object (/reference/page).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::parent::Parent;
use super::property::{PropertyData, PropertyValue};
use super::rich_text::plain_text;
use super::{FileObject, Icon, JsonMap, User};

/// A page: its properties and place; its content is the block children of its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// Always `"page"`.
    #[serde(default = "page_object")]
    pub object: String,
    /// The page id (also the id of its block).
    pub id: String,
    /// Creation time, rounded to the minute.
    #[serde(default)]
    pub created_time: String,
    /// Last edit time, rounded to the minute.
    #[serde(default)]
    pub last_edited_time: String,
    /// Creator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<User>,
    /// Last editor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edited_by: Option<User>,
    /// Legacy trash flag.
    #[serde(default)]
    pub archived: bool,
    /// In the trash.
    #[serde(default)]
    pub in_trash: bool,
    /// Icon.
    #[serde(default)]
    pub icon: Option<Icon>,
    /// Cover image.
    #[serde(default)]
    pub cover: Option<FileObject>,
    /// Property values by property name (only `title` outside a data source).
    #[serde(default)]
    pub properties: IndexMap<String, PropertyValue>,
    /// Where the page lives.
    pub parent: Parent,
    /// Link to the page in Notion.
    #[serde(default)]
    pub url: String,
    /// Public URL when published.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

fn page_object() -> String {
    "page".to_string()
}

impl Page {
    /// The page's title: the plain text of its `title` property ("" when empty).
    pub fn title(&self) -> String {
        self.properties
            .values()
            .find_map(|v| match &v.data {
                PropertyData::Title(runs) => Some(plain_text(runs)),
                _ => None,
            })
            .unwrap_or_default()
    }
}
