//! The Notion API emulator: an in-memory workspace served over HTTP on 127.0.0.1.
