//! What the kernel may cache, for how long, and what it is told when something changes
//! (notionfs(1), FRESHNESS: "Kernel caches").
//!
//! The kernel keeps entries (name -> inode), attributes, file pages and directory listings
//! for [`KERNEL_TTL`] — not for the feed's `--ttl`: nothing the mount hands out goes stale
//! on a timer, it goes stale when the mount learns of a change, and then the mount tells
//! the kernel at once (`notify_inval_entry` / `notify_inval_inode`, through
//! [`super::Invalidate`]). So a warm `grep -r` costs one `OPEN` and one `RELEASE` per file
//! and nothing else: no `LOOKUP` or `GETATTR` (entries and attributes cached), no `READ`
//! (pages kept with `FOPEN_KEEP_CACHE` while the content is the same), no `FLUSH` (a
//! descriptor opened for reading only is opened with `FOPEN_NOFLUSH`), no `READDIR`
//! (listings cached with `FOPEN_CACHE_DIR` and kept while unchanged).
//!
//! What tells the kernel:
//! - the change feed: a page edited in Notion (its attributes and pages), renamed, moved
//!   or gone (its old entries), a schema changed (its `.schema.yaml`);
//! - a page read again whose content changed (its pages), and a listing rebuilt that lost
//!   or renamed entries (those entries, and the directory's cached listing);
//! - this mount's own writes and namespace changes.
//!
//! Only an exact size is cached: a file whose size is not known yet (a page never read
//! and not in the disk cache, an attachment not downloaded) is given no attribute cache,
//! so the kernel asks again before reading it (see the core's doc, "Sizes").

use std::time::Duration;

use super::lookup::Attr;

/// How long the kernel may keep entries and attributes the mount handed out: as long as
/// they are known valid, which is until the mount invalidates them (a day bounds the
/// damage of a change the mount could not know about).
pub const KERNEL_TTL: Duration = Duration::from_secs(24 * 3600);

/// How long the kernel may cache the entry and attributes `a` (`ttl` for exact ones, none
/// for a size not known yet).
pub fn attr_ttl(a: &Attr, ttl: Duration) -> Duration {
    if a.size_known {
        ttl
    } else {
        Duration::ZERO
    }
}

/// Whether a close of a descriptor opened with `open(2)` `flags` needs a `FLUSH` round
/// trip: only descriptors that may have written (a read-only one has nothing to make
/// durable; its handle is still closed by `RELEASE`).
pub fn flush_on_close(flags: i32) -> bool {
    flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_writable_descriptors_flush() {
        assert!(!flush_on_close(libc::O_RDONLY));
        assert!(!flush_on_close(libc::O_RDONLY | libc::O_NOFOLLOW));
        assert!(flush_on_close(libc::O_WRONLY));
        assert!(flush_on_close(libc::O_RDWR));
        assert!(flush_on_close(libc::O_RDONLY | libc::O_TRUNC));
    }
}
