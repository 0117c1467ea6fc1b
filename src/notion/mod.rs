//! The Notion API: serde models of its objects ([`model`]) and the HTTP client.

pub mod model;
