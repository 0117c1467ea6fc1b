//! Typed errors of the Notion client. The filesystem maps them to errno in one place.

use thiserror::Error;

/// The reason of a [`ApiError::Transport`] whose request never left: the connection
/// could not be made.
pub const CONNECTION_FAILED: &str = "connection failed";

/// Why a Notion API call failed.
#[derive(Debug, Error)]
pub enum ApiError {
    /// Notion answered with an error body (`status`, `code`, `message`).
    #[error("Notion API error {status} {code} on {endpoint}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Notion's error code, e.g. `object_not_found`, `validation_error`.
        code: String,
        /// Notion's explanation.
        message: String,
        /// Route template, e.g. `GET /v1/blocks/{id}/children`.
        endpoint: String,
    },
    /// The request did not get an HTTP answer (connection refused, reset, timeout).
    #[error("cannot reach the Notion API for {endpoint}: {reason}")]
    Transport {
        /// Route template.
        endpoint: String,
        /// What went wrong, without URL query or headers.
        reason: String,
    },
    /// The answer was not the JSON the reference describes.
    #[error("unexpected response to {endpoint}: {reason}")]
    Decode {
        /// Route template.
        endpoint: String,
        /// The parse error.
        reason: String,
    },
    /// The request would break a documented API limit, so it was not sent.
    #[error("request to {endpoint} not sent: {reason}")]
    Limit {
        /// Route template.
        endpoint: String,
        /// Which limit and by how much.
        reason: String,
    },
    /// The client is misconfigured (bad base URL, unusable token).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

impl ApiError {
    /// HTTP status, for errors Notion answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Notion error code, for errors Notion answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The object does not exist or is not shared with the integration.
    pub fn is_not_found(&self) -> bool {
        self.code() == Some("object_not_found") || self.status() == Some(404)
    }

    /// The token is missing, invalid or revoked.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// A write that failed this way may still have happened: a server error or a lost
    /// answer (not a refused connection, a rate limit or a refusal).
    pub fn maybe_applied(&self) -> bool {
        match self {
            ApiError::Api { status, .. } => *status >= 500,
            ApiError::Transport { reason, .. } => reason != CONNECTION_FAILED,
            _ => false,
        }
    }

    /// The failure may pass if tried again later (rate limits, server errors, network).
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Api { status, .. } => matches!(status, 409 | 429 | 500..=599),
            ApiError::Transport { .. } => true,
            _ => false,
        }
    }
}
