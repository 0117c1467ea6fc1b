//! Reading `/proc/self/mountinfo`: which paths are mount points, and which are notionfs
//! mounts. The one place that parses that file and undoes its octal escapes.

use std::path::{Path, PathBuf};

/// One line of mountinfo: the mount point and the filesystem type and source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountLine {
    /// Where it is mounted (unescaped).
    pub mountpoint: PathBuf,
    /// Filesystem type (`fuse.notionfs`, `fuse`, `ext4`, …).
    pub fstype: String,
    /// The source field (`notionfs` for our mounts).
    pub source: String,
}

impl MountLine {
    /// Whether this is a notionfs mount: `fuse.notionfs` through fusermount3 or mount(8),
    /// `fuse` with source `notionfs` when mounted directly (as root).
    pub fn is_notionfs(&self) -> bool {
        self.fstype == "fuse.notionfs" || (self.fstype == "fuse" && self.source == "notionfs")
    }
}

/// Parses mountinfo text. Fields: id, parent, major:minor, root, mount point, options,
/// optional fields, `-`, type, source, super options.
pub fn parse(text: &str) -> Vec<MountLine> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let sep = f.iter().position(|x| *x == "-")?;
            Some(MountLine {
                mountpoint: PathBuf::from(unescape(f.get(4)?)),
                fstype: unescape(f.get(sep + 1)?),
                source: unescape(f.get(sep + 2).copied().unwrap_or_default()),
            })
        })
        .collect()
}

/// The mounts of this process's mount namespace (empty if mountinfo cannot be read).
pub fn mounts() -> Vec<MountLine> {
    parse(&std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default())
}

/// Whether something is mounted at `path` (an absolute, canonical path).
pub fn is_mounted(path: &Path) -> bool {
    mounts().iter().any(|m| m.mountpoint == path)
}

/// The notionfs mount points.
pub fn notionfs_mounts() -> Vec<PathBuf> {
    mounts()
        .into_iter()
        .filter(MountLine::is_notionfs)
        .map(|m| m.mountpoint)
        .collect()
}

/// Undoes mountinfo's escapes: space, tab, newline and backslash are written as `\ooo`
/// (octal), and so may be any other byte.
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                let v = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(v as u8);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_octal_bytes() {
        assert_eq!(
            unescape("/mnt/a\\040b\\011c\\012d\\134e"),
            "/mnt/a b\tc\nd\\e"
        );
        assert_eq!(unescape("/mnt/plain"), "/mnt/plain");
        assert_eq!(unescape("/x\\04"), "/x\\04");
    }

    #[test]
    fn finds_notionfs_mounts_with_escaped_paths() {
        let text = "36 25 0:32 / /tmp/my\\040notes rw,nosuid - fuse.notionfs notionfs rw\n\
                    37 25 0:33 / /root rw shared:1 - ext4 /dev/vda rw\n\
                    38 25 0:34 / /mnt/raw rw - fuse notionfs rw\n";
        let m = parse(text);
        assert_eq!(m.len(), 3);
        let ours: Vec<_> = m
            .iter()
            .filter(|l| l.is_notionfs())
            .map(|l| l.mountpoint.clone())
            .collect();
        assert_eq!(
            ours,
            [PathBuf::from("/tmp/my notes"), PathBuf::from("/mnt/raw")]
        );
    }
}
