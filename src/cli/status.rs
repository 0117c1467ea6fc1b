//! `notionfs status` and `notionfs sync`: find the mount's control socket, ask it, and
//! print the answer (text for people, JSON with `--json`). The protocol and the server are
//! in [`crate::daemon::control`].

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::daemon::control::{ConflictEntry, Request, Response, Save, Status, SyncReport, XATTR};
use crate::daemon::mountinfo::notionfs_mounts;

/// `notionfs status [MOUNTPOINT]`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// The mount (default: the only notionfs mount running).
    pub mountpoint: Option<PathBuf>,
    /// Print JSON (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `notionfs sync [MOUNTPOINT] [--wait]`.
#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    /// The mount (default: the only notionfs mount running).
    pub mountpoint: Option<PathBuf>,
    /// Block until Notion has every pending save (exit code 1 if one failed or conflicted).
    #[arg(long)]
    pub wait: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Why `status` or `sync` failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The path is not (inside) a notionfs mount.
    #[error("{0} is not a notionfs mount")]
    NotNotionfs(PathBuf),
    /// The path does not exist.
    #[error("{path}: {source}")]
    BadPath {
        /// The path given.
        path: PathBuf,
        /// Why it cannot be used.
        source: std::io::Error,
    },
    /// No mountpoint given and none running.
    #[error(
        "no notionfs mount of this user is running (start one with: notionfs mount MOUNTPOINT)"
    )]
    NoMount,
    /// No mountpoint given and several running.
    #[error("several notionfs mounts are running; name one: {}", list(.0))]
    Several(Vec<PathBuf>),
    /// The socket does not answer.
    #[error("cannot reach the mount's control socket {path}: {source} (is the mount process still running?)")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The conversation broke off or made no sense.
    #[error("control socket: {0}")]
    Protocol(String),
    /// The mount answered with an error.
    #[error("the mount refused: {0}")]
    Remote(String),
    /// `sync --wait` finished with saves not in Notion.
    #[error("{0}")]
    NotSynced(String),
}

fn list(ps: &[PathBuf]) -> String {
    ps.iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The value of extended attribute `name` of `path`.
fn getxattr(path: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    let n = std::ffi::CString::new(name).expect("attribute names have no NUL");
    let mut buf = vec![0u8; 4096];
    // SAFETY: both strings are NUL-terminated, the buffer is valid for its length.
    let len = unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if len < 0 {
        return Err(std::io::Error::last_os_error());
    }
    buf.truncate(len as usize);
    Ok(buf)
}

/// `path` made absolute, and the innermost notionfs mount that contains it.
pub fn innermost_mount(path: &Path) -> Result<(PathBuf, PathBuf), ControlError> {
    let abs = std::fs::canonicalize(path).map_err(|e| ControlError::BadPath {
        path: path.to_path_buf(),
        source: e,
    })?;
    let root = notionfs_mounts()
        .into_iter()
        .filter(|m| abs.starts_with(m))
        .max_by_key(|m| m.as_os_str().len())
        .ok_or_else(|| ControlError::NotNotionfs(path.to_path_buf()))?;
    Ok((abs, root))
}

/// The control socket of the mount at (or containing) `mountpoint`, or of the only
/// notionfs mount running.
pub fn find_socket(mountpoint: Option<&Path>) -> Result<PathBuf, ControlError> {
    let socket_of = |root: &Path| {
        getxattr(root, XATTR)
            .ok()
            .map(|v| PathBuf::from(String::from_utf8_lossy(&v).into_owned()))
    };
    match mountpoint {
        Some(mp) => {
            let (_, root) = innermost_mount(mp)?;
            socket_of(&root).ok_or_else(|| ControlError::NotNotionfs(mp.to_path_buf()))
        }
        None => {
            let mine: Vec<(PathBuf, PathBuf)> = notionfs_mounts()
                .into_iter()
                .filter_map(|m| Some((socket_of(&m)?, m)))
                .collect();
            match mine.len() {
                0 => Err(ControlError::NoMount),
                1 => Ok(mine.into_iter().next().expect("one").0),
                _ => Err(ControlError::Several(
                    mine.into_iter().map(|(_, m)| m).collect(),
                )),
            }
        }
    }
}

/// Sends one request to the socket and reads the answer.
pub fn request(socket: &Path, req: &Request) -> Result<Response, ControlError> {
    let mut s =
        std::os::unix::net::UnixStream::connect(socket).map_err(|e| ControlError::Connect {
            path: socket.to_path_buf(),
            source: e,
        })?;
    if matches!(req, Request::Status | Request::Sync { wait: false }) {
        let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
    }
    let mut line = serde_json::to_vec(req).map_err(|e| ControlError::Protocol(e.to_string()))?;
    line.push(b'\n');
    s.write_all(&line)
        .map_err(|e| ControlError::Protocol(format!("cannot send: {e}")))?;
    let mut answer = String::new();
    BufReader::new(s)
        .read_line(&mut answer)
        .map_err(|e| ControlError::Protocol(format!("no answer: {e}")))?;
    if answer.is_empty() {
        return Err(ControlError::Protocol(
            "the mount closed the connection without answering".into(),
        ));
    }
    let resp: Response = serde_json::from_str(answer.trim())
        .map_err(|e| ControlError::Protocol(format!("bad answer: {e}")))?;
    if !resp.ok {
        return Err(ControlError::Remote(resp.error.unwrap_or_default()));
    }
    Ok(resp)
}

/// `notionfs status`: prints the mount's state (text, or JSON with `--json`).
pub fn run_status(args: StatusArgs) -> Result<(), ControlError> {
    let socket = find_socket(args.mountpoint.as_deref())?;
    let status = request(&socket, &Request::Status)?
        .status
        .ok_or_else(|| ControlError::Protocol("the answer has no status".into()))?;
    let out = if args.json {
        serde_json::to_string_pretty(&status).expect("serializable") + "\n"
    } else {
        render_status(&status, chrono::Utc::now())
    };
    print(&out)
}

/// `notionfs sync`: pushes what is pending; with `--wait`, fails (exit 1) unless Notion
/// has everything afterwards.
pub fn run_sync(args: SyncArgs) -> Result<(), ControlError> {
    let socket = find_socket(args.mountpoint.as_deref())?;
    let report = request(&socket, &Request::Sync { wait: args.wait })?
        .sync
        .ok_or_else(|| ControlError::Protocol("the answer has no sync report".into()))?;
    let out = if args.json {
        serde_json::to_string_pretty(&report).expect("serializable") + "\n"
    } else {
        render_sync(&report, chrono::Utc::now())
    };
    print(&out)?;
    if report.waited && !report.clean() {
        return Err(ControlError::NotSynced(format!(
            "not everything reached Notion: {} pending, {} failed, {} conflicted",
            report.pending.len(),
            report.failed.len(),
            report.conflicts.len()
        )));
    }
    Ok(())
}

fn print(s: &str) -> Result<(), ControlError> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| ControlError::Protocol(format!("cannot write stdout: {e}")))
}

/// `12.3 KiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// `2026-12-03 17:40:01 UTC (5 s ago)`.
fn when(rfc3339: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
        return rfc3339.to_string();
    };
    let t = t.with_timezone(&chrono::Utc);
    let ago = (now - t).num_seconds().max(0);
    let age = match ago {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    };
    format!("{} ({age} ago)", t.format("%Y-%m-%d %H:%M:%S UTC"))
}

fn save_line(s: &Save, now: chrono::DateTime<chrono::Utc>) -> String {
    let name = s.path.clone().unwrap_or_else(|| format!("page {}", s.page));
    let mut line = format!("  {name}");
    if !s.kinds.is_empty() && s.kinds != ["body"] {
        line += &format!(" [{}]", s.kinds.join(", "));
    }
    if let Some(t) = &s.since {
        line += &format!("  since {}", when(t, now));
    }
    if let Some(r) = &s.reason {
        line += &format!("\n      reason: {r}");
    }
    line + "\n"
}

fn saves_section(title: &str, saves: &[Save], now: chrono::DateTime<chrono::Utc>) -> String {
    let mut out = format!("{title} ({}):\n", saves.len());
    for s in saves {
        out += &save_line(s, now);
    }
    out
}

fn conflicts_section(cs: &[ConflictEntry]) -> String {
    let mut out = format!("Conflicts ({}):\n", cs.len());
    for c in cs {
        let page = c.path.clone().unwrap_or_else(|| format!("page {}", c.page));
        out += &format!("  {page}: Notion's version kept; yours is {}\n", c.copy);
    }
    out
}

/// The text `notionfs status` prints.
pub fn render_status(s: &Status, now: chrono::DateTime<chrono::Utc>) -> String {
    let mode = match (s.read_only, s.writes) {
        (true, _) => "read-only",
        (false, true) => "read-write",
        (false, false) => "writes disabled",
    };
    let mut out = format!("notionfs at {} (pid {}, {mode})\n", s.mountpoint, s.pid);
    if s.writes {
        if s.pending.is_empty() && s.failed.is_empty() && s.conflicts.is_empty() {
            out += "Saves: all in Notion\n";
        }
        if !s.pending.is_empty() {
            out += &saves_section("Pending saves", &s.pending, now);
        }
        if !s.failed.is_empty() {
            out += &saves_section("Failed saves (kept locally)", &s.failed, now);
        }
        if !s.conflicts.is_empty() {
            out += &conflicts_section(&s.conflicts);
        }
    }
    out += &format!(
        "Cache: {} of pages in memory (limit {}); {} on disk in {}\n",
        bytes(s.cache.memory_bytes),
        bytes(s.cache.memory_limit),
        bytes(s.cache.disk_bytes),
        s.cache.dir
    );
    out += &format!(
        "API: {} calls, {} retries, {} rate-limited, {} server errors\n",
        s.api.calls, s.api.retries, s.api.rate_limited, s.api.server_errors
    );
    for (e, n) in &s.api.by_endpoint {
        out += &format!("  {n:>6}  {e}\n");
    }
    if let Some(p) = &s.prefetch {
        let what = if p.path.is_empty() {
            "the workspace"
        } else {
            p.path.as_str()
        };
        out += &format!("Prefetch: {what}: {}\n", super::prefetch::line(p));
    }
    if !s.fuse.is_empty() {
        let total: u64 = s.fuse.values().sum();
        let each: Vec<String> = s.fuse.iter().map(|(op, n)| format!("{op} {n}")).collect();
        out += &format!("FUSE: {total} requests ({})\n", each.join(", "));
    }
    out += &feed_line(&s.feed, now);
    out
}

/// What the change feed did, in one or two lines.
fn feed_line(f: &crate::fs::FeedStatus, now: chrono::DateTime<chrono::Utc>) -> String {
    let mut out = match &f.last_poll {
        Some(t) => format!(
            "Feed: last poll {} ({} calls), {} polls, {} changes seen, {} folders reconciled\n",
            when(t, now),
            f.last_poll_calls,
            f.polls,
            f.changes,
            f.reconciled
        ),
        None => "Feed: no poll yet\n".to_string(),
    };
    if let Some(e) = &f.last_error {
        out += &format!("  last poll failed: {e}\n");
    }
    out
}

/// The text `notionfs sync` prints.
pub fn render_sync(r: &SyncReport, now: chrono::DateTime<chrono::Utc>) -> String {
    if !r.writes {
        return "Nothing to push: this mount does not accept writes\n".to_string();
    }
    if !r.waited && r.pending.is_empty() && r.failed.is_empty() {
        return "Nothing pending: Notion has every save\n".to_string();
    }
    if !r.waited {
        return format!(
            "Pushing {} pending and {} failed saves now (notionfs sync --wait waits for them)\n",
            r.pending.len(),
            r.failed.len()
        );
    }
    if r.clean() {
        return "Notion has every save\n".to_string();
    }
    let mut out = String::new();
    if !r.pending.is_empty() {
        out += &saves_section("Still pending", &r.pending, now);
    }
    if !r.failed.is_empty() {
        out += &saves_section("Failed (kept locally)", &r.failed, now);
    }
    if !r.conflicts.is_empty() {
        out += &conflicts_section(&r.conflicts);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::control::{ApiUse, CacheUse};

    #[test]
    fn renders_failures_with_reasons() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:01:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let save = Save {
            page: "p1".into(),
            path: Some("A/B.md".into()),
            since: Some("2026-01-01T00:00:30.000Z".into()),
            kinds: vec!["body".into()],
            reason: Some("HTTP 400: bad".into()),
        };
        let s = Status {
            mountpoint: "/mnt".into(),
            pid: 7,
            read_only: false,
            writes: true,
            pending: vec![],
            failed: vec![save],
            conflicts: vec![ConflictEntry {
                page: "p2".into(),
                path: Some("C.md".into()),
                copy: "C.conflict-20260101-000000.md".into(),
            }],
            journal_records: 1,
            cache: CacheUse {
                memory_bytes: 2048,
                memory_limit: 1 << 20,
                dir: "/c".into(),
                disk_bytes: 10,
            },
            api: ApiUse::default(),
            fuse: [("open".to_string(), 3), ("release".to_string(), 3)].into(),
            prefetch: Some(crate::fs::prefetch::PrefetchProgress {
                path: "A".into(),
                pages: 40,
                counted: false,
                read: 10,
                skipped: 2,
                failed: 0,
                calls: 25,
                millis: 5000,
                running: true,
            }),
            feed: crate::fs::FeedStatus {
                last_poll: Some("2026-01-01T00:00:50Z".into()),
                polls: 3,
                changes: 2,
                last_poll_calls: 1,
                ..Default::default()
            },
        };
        let t = render_status(&s, now);
        assert!(t.contains("Failed saves (kept locally) (1):\n  A/B.md  since 2026-01-01 00:00:30 UTC (30 s ago)\n      reason: HTTP 400: bad"), "{t}");
        assert!(
            t.contains("C.md: Notion's version kept; yours is C.conflict-20260101-000000.md"),
            "{t}"
        );
        assert!(
            t.contains("2.0 KiB of pages in memory (limit 1.0 MiB)"),
            "{t}"
        );
        assert!(!t.contains("Pending"), "{t}");
        assert!(t.contains("FUSE: 6 requests (open 3, release 3)"), "{t}");
        assert!(
            t.contains("Prefetch: A: prefetch: 12/40+ pages (10 read, 2 already cached, 0 failed), 25 API calls, 2.0 pages/s, 5.0 s"),
            "{t}"
        );
        assert!(
            t.contains("Feed: last poll 2026-01-01 00:00:50 UTC (10 s ago) (1 calls), 3 polls, 2 changes seen"),
            "{t}"
        );
    }
}
