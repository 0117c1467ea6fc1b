//! Serde models of every object in the Notion API reference (version 2025-09-03).
