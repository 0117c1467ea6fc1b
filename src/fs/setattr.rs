//! Attribute changes and permission checks: `setattr` (a size change is a save; times are
//! Notion's and setting them is accepted and ignored; mode and owner only on local files),
//! `access`, and the requests Notion has nothing to hold (links, device nodes, xattr writes).

use super::error::FsResult;
use super::{Attr, FsCore};

/// What a `setattr` asks to change (times are not listed: they are always ignored).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AttrChange {
    /// The mode, owner or group is to change.
    pub mode_or_owner: bool,
    /// The new size (`truncate(2)`, `O_TRUNC` through `setattr`).
    pub size: Option<u64>,
}

impl FsCore {
    /// `setattr` of `ino`, through the open handle `fh` if the caller has one.
    pub async fn setattr(&self, ino: u64, fh: Option<u64>, change: AttrChange) -> FsResult<Attr> {
        self.writer("setattr")?;
        if change.mode_or_owner && !self.is_local(ino) {
            return Err(self.unsupported("mode or owner change"));
        }
        match (change.size, fh) {
            (Some(s), None) => self.truncate_closed(ino, s).await,
            (Some(s), Some(fh)) => self.truncate(ino, Some(fh), s),
            (None, _) => self.getattr(ino),
        }
    }

    /// `access(2)`: the entry exists; asking for write access needs writes on (EROFS).
    pub fn access(&self, ino: u64, write: bool) -> FsResult<()> {
        if write {
            self.writer("access")?;
        }
        self.getattr(ino).map(|_| ())
    }

    /// `mknod`: Notion holds no device nodes or FIFOs.
    pub fn mknod(&self, _parent: u64) -> FsResult<Attr> {
        Err(self.unsupported("device node"))
    }

    /// `symlink`: Notion holds no symbolic links.
    pub fn symlink(&self, _parent: u64) -> FsResult<Attr> {
        Err(self.unsupported("symlink"))
    }

    /// `link`: a page has one place; no hard links.
    pub fn link(&self, _ino: u64) -> FsResult<Attr> {
        Err(self.unsupported("hard link"))
    }

    /// `setxattr` / `removexattr`: the attributes are Notion's and the mount's, read-only.
    pub fn write_xattr(&self, _ino: u64, op: &'static str) -> FsResult<()> {
        Err(self.write_denied(op))
    }
}
