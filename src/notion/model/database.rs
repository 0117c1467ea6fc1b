//! Databases (containers of data sources) and data sources (schemas of rows)
//! (/reference/database, /reference/data-source).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::parent::Parent;
use super::property::PropertySchema;
use super::rich_text::{plain_text, RichText};
use super::{FileObject, Icon, JsonMap, User};

/// A data source named by its database: `{id, name}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSourceRef {
    /// Data source id.
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

/// A database: a container of one or more data sources.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Database {
    /// Always `"database"`.
    #[serde(default = "database_object")]
    pub object: String,
    /// The database id.
    pub id: String,
    /// Its data sources.
    #[serde(default)]
    pub data_sources: Vec<DataSourceRef>,
    /// Title.
    #[serde(default)]
    pub title: Vec<RichText>,
    /// Description.
    #[serde(default)]
    pub description: Vec<RichText>,
    /// Where it lives.
    pub parent: Parent,
    /// Creation time.
    #[serde(default)]
    pub created_time: String,
    /// Last edit time.
    #[serde(default)]
    pub last_edited_time: String,
    /// Creator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<User>,
    /// Last editor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_edited_by: Option<User>,
    /// Icon.
    #[serde(default)]
    pub icon: Option<Icon>,
    /// Cover.
    #[serde(default)]
    pub cover: Option<FileObject>,
    /// Shown inline in its parent page.
    #[serde(default)]
    pub is_inline: bool,
    /// In the trash.
    #[serde(default)]
    pub in_trash: bool,
    /// Link in Notion (every response has one; left out when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

fn database_object() -> String {
    "database".to_string()
}

impl Database {
    /// Plain-text title.
    pub fn title_text(&self) -> String {
        plain_text(&self.title)
    }
}

/// A data source: the schema its rows (pages) follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// Always `"data_source"`.
    #[serde(default = "data_source_object")]
    pub object: String,
    /// Data source id.
    pub id: String,
    /// Property schema by name, in the order the API gives.
    #[serde(default)]
    pub properties: IndexMap<String, PropertySchema>,
    /// Its database: `{"type": "database_id", …}`.
    pub parent: Parent,
    /// The database's own parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_parent: Option<Parent>,
    /// Title.
    #[serde(default)]
    pub title: Vec<RichText>,
    /// Description.
    #[serde(default)]
    pub description: Vec<RichText>,
    /// Creation time.
    #[serde(default)]
    pub created_time: String,
    /// Last edit time.
    #[serde(default)]
    pub last_edited_time: String,
    /// Icon.
    #[serde(default)]
    pub icon: Option<Icon>,
    /// In the trash.
    #[serde(default)]
    pub in_trash: bool,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

fn data_source_object() -> String {
    "data_source".to_string()
}

impl DataSource {
    /// Plain-text title.
    pub fn title_text(&self) -> String {
        plain_text(&self.title)
    }
}
