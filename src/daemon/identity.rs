//! Which workspace a token opens, remembered so a mount can start while Notion cannot be
//! reached (notionfs(1), WRITES, "Offline"): the cache dir is named after the workspace,
//! which only `GET /v1/users/me` tells.
//!
//! Each successful check writes `identities/DIGEST` (0600, in a 0700 dir beside the
//! default cache dirs) holding the workspace's cache-dir name, where `DIGEST` is a short
//! SHA-256 of the API URL and the token: the token itself is never written.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::notion::Token;

fn path(url: &str, token: &Token) -> Option<PathBuf> {
    let dir = crate::cli::settings::default_cache_dir("x")
        .parent()?
        .join("identities");
    let mut h = Sha256::new();
    h.update(url.as_bytes());
    h.update([0]);
    h.update(token.digest_input());
    let hex: String = h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(dir.join(hex))
}

/// Remembers that `token` at `url` opens the workspace cached as `name` (best effort: a
/// failure only costs starting offline later).
pub fn remember(url: &str, token: &Token, name: &str) {
    let Some(p) = path(url, token) else { return };
    let write = || -> std::io::Result<()> {
        if let Some(d) = p.parent() {
            crate::fs::create_private_dir(d)?;
        }
        let tmp = p.with_extension("tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(name.as_bytes())?;
        std::fs::rename(&tmp, &p)
    };
    if let Err(e) = write() {
        tracing::debug!(error = %e, "cannot remember the workspace of this token");
    }
}

/// The workspace `token` at `url` opened last time, if remembered.
pub fn recall(url: &str, token: &Token) -> Option<String> {
    let name = std::fs::read_to_string(path(url, token)?).ok()?;
    (!name.is_empty()).then_some(name)
}
