//! The Notion API: serde models of its objects ([`model`]) and the HTTP [`Client`].

pub mod client;
pub mod error;
pub mod model;
pub mod ratelimit;
pub mod stats;
pub mod tree;

pub use client::{Client, ClientConfig, Position, Token};
pub use error::ApiError;
pub use stats::StatsSnapshot;
