//! The parent object (/reference/parent-object).

use serde::{Deserialize, Serialize};

use super::JsonMap;

/// Where a page, database, data source or block lives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parent {
    /// `page_id`, `database_id`, `data_source_id`, `block_id` or `workspace`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Parent page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    /// Parent database (also given beside `data_source_id` in responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_id: Option<String>,
    /// Parent data source (rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_id: Option<String>,
    /// Parent block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_id: Option<String>,
    /// `true` for top-level objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<bool>,
    /// Fields this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}

impl Parent {
    fn of(kind: &str) -> Self {
        Parent {
            kind: kind.to_string(),
            page_id: None,
            database_id: None,
            data_source_id: None,
            block_id: None,
            workspace: None,
            extra: JsonMap::new(),
        }
    }

    /// `{"type": "page_id", "page_id": id}`.
    pub fn page(id: impl Into<String>) -> Self {
        Parent {
            page_id: Some(id.into()),
            ..Self::of("page_id")
        }
    }

    /// `{"type": "data_source_id", "data_source_id": id}`.
    pub fn data_source(id: impl Into<String>) -> Self {
        Parent {
            data_source_id: Some(id.into()),
            ..Self::of("data_source_id")
        }
    }

    /// `{"type": "database_id", "database_id": id}`.
    pub fn database(id: impl Into<String>) -> Self {
        Parent {
            database_id: Some(id.into()),
            ..Self::of("database_id")
        }
    }

    /// `{"type": "workspace", "workspace": true}`.
    pub fn workspace() -> Self {
        Parent {
            workspace: Some(true),
            ..Self::of("workspace")
        }
    }

    /// The id of the direct parent, `None` for the workspace.
    pub fn id(&self) -> Option<&str> {
        match self.kind.as_str() {
            "page_id" => self.page_id.as_deref(),
            "database_id" => self.database_id.as_deref(),
            "data_source_id" => self.data_source_id.as_deref(),
            "block_id" => self.block_id.as_deref(),
            _ => None,
        }
    }
}
