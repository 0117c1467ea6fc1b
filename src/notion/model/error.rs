//! The error body every failed request returns (/reference/status-codes).

use serde::{Deserialize, Serialize};

use super::JsonMap;

/// `{"object": "error", "status", "code", "message"}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// HTTP status repeated in the body.
    #[serde(default)]
    pub status: u16,
    /// Machine-readable code, e.g. `validation_error`, `rate_limited`.
    #[serde(default)]
    pub code: String,
    /// Human-readable explanation.
    #[serde(default)]
    pub message: String,
    /// Request id, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `object` (`"error"`), `additional_data` and any field this build does not model.
    #[serde(flatten)]
    pub extra: JsonMap,
}
