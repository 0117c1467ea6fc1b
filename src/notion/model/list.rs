//! Paginated list responses (/reference/intro#pagination).

use serde::{Deserialize, Serialize};

use super::JsonMap;

/// One page of a paginated list: `{object: "list", results, next_cursor, has_more}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    /// The items of this page.
    pub results: Vec<T>,
    /// Cursor for the next page (`start_cursor`), when `has_more`.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// More pages follow.
    #[serde(default)]
    pub has_more: bool,
    /// `object`, `type` and the type-named field, kept as sent.
    #[serde(flatten)]
    pub extra: JsonMap,
}
