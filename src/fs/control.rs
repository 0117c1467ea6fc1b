//! The control channel of a running mount: `notionfs status` and `notionfs sync` (spec
//! sections 1 and 5) talk to the mount process over a Unix socket.
//!
//! # Where the socket is
//! A mount listens on `CACHE_DIR/control.sock` (mode 0600, in the cache dir, mode 0700: only
//! the mounting user can connect). The mount root answers the extended attribute
//! `user.notionfs.control` with that path, so the CLI finds the socket from the mountpoint
//! alone (`getfattr -n user.notionfs.control MOUNTPOINT` shows it too). Without a
//! mountpoint the CLI looks at the notionfs mounts in `/proc/self/mountinfo` (type
//! `fuse.notionfs`, or `fuse` with source `notionfs`) that answer the attribute (other users' mounts do not) and uses the only one, or names them
//! all if there are several. A path inside a mount means that mount.
//!
//! The socket is removed on a clean exit. One left by a crashed mount is replaced; one a
//! live mount still answers on means another mount uses the same cache dir (and journal):
//! the new mount is refused.
//!
//! # Protocol
//! One JSON object per line each way; the server answers every request line with one
//! response line:
//!
//! ```text
//! -> {"op":"status"}
//! <- {"ok":true,"status":{...}}             (see [`Status`])
//! -> {"op":"sync","wait":true}
//! <- {"ok":true,"sync":{...}}               (see [`SyncReport`]; with wait, once done)
//! <- {"ok":false,"error":"..."}             (a request the server cannot serve)
//! ```
//!
//! `sync` without `wait` starts pushing every pending save and answers at once. With
//! `wait` it answers once the journal holds nothing more it can push: what is still
//! pending, what failed (with the reason) and the conflicts that push produced.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use super::core::FsCore;
use super::write::{PageStatus, SyncState, Writer};

/// File name of the socket in the cache dir.
pub const SOCKET_NAME: &str = "control.sock";
/// Extended attribute of the mount root giving the socket's path.
pub const XATTR: &str = "user.notionfs.control";
/// Longest request line the server reads.
const MAX_LINE: usize = 64 << 10;
/// Rounds of pushing `sync --wait` makes while saves keep arriving.
const SYNC_ROUNDS: usize = 5;

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

/// A request to the mount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// The mount's state ([`Status`]).
    Status,
    /// Push what is pending now.
    Sync {
        /// Answer only once nothing more can be pushed.
        #[serde(default)]
        wait: bool,
    },
}

/// The answer to one [`Request`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request was served.
    pub ok: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The answer to `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The answer to `sync`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncReport>,
}

/// A save not in Notion yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Save {
    /// The page id (for a page being created: its parent).
    pub page: String,
    /// Its file relative to the mount root, if it is in the tree.
    pub path: Option<String>,
    /// When the oldest save not in Notion was accepted (RFC 3339, UTC).
    pub since: Option<String>,
    /// What the saves ask for: `body`, `properties`, `create`, `rename`, `move`, ...
    pub kinds: Vec<String>,
    /// Why the last push failed (failed saves only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A conflict: Notion's version stayed the page, the local one is a copy beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictEntry {
    /// The page id.
    pub page: String,
    /// Its file relative to the mount root, if it is in the tree.
    pub path: Option<String>,
    /// The conflict copy relative to the mount root (just its name if the page is gone).
    pub copy: String,
}

/// Memory and disk the mount uses for caching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheUse {
    /// Bytes of rendered pages held in memory.
    pub memory_bytes: u64,
    /// Most bytes of rendered pages kept in memory (`--cache-size`).
    pub memory_limit: u64,
    /// The cache dir.
    pub dir: String,
    /// Bytes of files under it (bodies, attachments, journal, log).
    pub disk_bytes: u64,
}

/// Notion API calls made by the mount since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiUse {
    /// Requests sent (each attempt counts).
    pub calls: u64,
    /// By route template, e.g. `GET /v1/pages/{id}`.
    pub by_endpoint: BTreeMap<String, u64>,
    /// Attempts repeated after a transient failure.
    pub retries: u64,
    /// 429 / 529 answers.
    pub rate_limited: u64,
    /// 5xx answers.
    pub server_errors: u64,
}

/// What `notionfs status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The mountpoint.
    pub mountpoint: String,
    /// The mount process.
    pub pid: u32,
    /// Mounted read-only.
    pub read_only: bool,
    /// Whether this mount accepts writes (the write path is on).
    pub writes: bool,
    /// Saves accepted locally, not in Notion yet (oldest first).
    pub pending: Vec<Save>,
    /// Saves whose last push failed; their content stays in the journal.
    pub failed: Vec<Save>,
    /// Saves that conflicted with a change made in Notion (until the page is saved again).
    pub conflicts: Vec<ConflictEntry>,
    /// Records in the journal (pending and failed saves of every kind).
    pub journal_records: usize,
    /// Cache use.
    pub cache: CacheUse,
    /// API calls.
    pub api: ApiUse,
}

/// What `notionfs sync` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Whether this mount accepts writes (nothing to push otherwise).
    pub writes: bool,
    /// Whether the answer came after the push (`--wait`).
    pub waited: bool,
    /// Saves still pending (with `--wait`: not pushed although retried).
    pub pending: Vec<Save>,
    /// Saves whose push failed.
    pub failed: Vec<Save>,
    /// Conflicts this sync produced.
    pub conflicts: Vec<ConflictEntry>,
}

impl SyncReport {
    /// Whether Notion has everything (nothing pending, failed or newly conflicted).
    pub fn clean(&self) -> bool {
        self.pending.is_empty() && self.failed.is_empty() && self.conflicts.is_empty()
    }
}

// ----- server ----------------------------------------------------------------------------

/// A listening control socket; [`ControlServer::shutdown`] stops it and removes the file.
pub struct ControlServer {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A live mount answers on the socket: it uses the same cache dir.
    #[error("the cache dir {0} is in use by another running notionfs mount (give this one its own --cache-dir)")]
    InUse(PathBuf),
    /// Binding failed.
    #[error("cannot listen on {path}: {source}")]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl ControlServer {
    /// Listens on `cache_dir/control.sock` (replacing a stale socket) and serves `core`'s
    /// state; `mountpoint` is what `status` reports. Call inside the runtime.
    pub fn start(
        core: Arc<FsCore>,
        cache_dir: &Path,
        mountpoint: &Path,
    ) -> Result<ControlServer, ServeError> {
        let path = cache_dir.join(SOCKET_NAME);
        if std::os::unix::net::UnixStream::connect(&path).is_ok() {
            return Err(ServeError::InUse(cache_dir.to_path_buf()));
        }
        // Left by a mount that did not exit cleanly (nobody answers on it).
        let _ = std::fs::remove_file(&path);
        let bind = |e| ServeError::Bind {
            path: path.clone(),
            source: e,
        };
        let listener = tokio::net::UnixListener::bind(&path).map_err(bind)?;
        // The cache dir is 0700 already; the socket itself is 0600 as well.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(bind)?;
        core.set_control_socket(path.clone());
        let ctx = Arc::new(Ctx {
            core,
            mountpoint: mountpoint.to_path_buf(),
            cache_dir: cache_dir.to_path_buf(),
        });
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let ctx = ctx.clone();
                        tokio::spawn(async move {
                            if let Err(e) = ctx.conversation(stream).await {
                                tracing::debug!(error = %e, "control connection ended");
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "control socket accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        tracing::debug!(socket = %path.display(), "control socket listening");
        Ok(ControlServer { path, task })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops listening and removes the socket file.
    pub fn shutdown(self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

struct Ctx {
    core: Arc<FsCore>,
    mountpoint: PathBuf,
    cache_dir: PathBuf,
}

impl Ctx {
    async fn conversation(&self, stream: tokio::net::UnixStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = tokio::io::BufReader::new(read.take(MAX_LINE as u64 * 16));
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let resp = match serde_json::from_str::<Request>(line.trim()) {
                Ok(req) if line.len() <= MAX_LINE => self.serve(req).await,
                Ok(_) => refuse("request too long"),
                Err(e) => refuse(&format!("bad request: {e}")),
            };
            let mut out = serde_json::to_vec(&resp).map_err(std::io::Error::other)?;
            out.push(b'\n');
            write.write_all(&out).await?;
        }
    }

    async fn serve(&self, req: Request) -> Response {
        match req {
            Request::Status => Response {
                ok: true,
                status: Some(self.status().await),
                ..Response::default()
            },
            Request::Sync { wait } => Response {
                ok: true,
                sync: Some(self.sync(wait).await),
                ..Response::default()
            },
        }
    }

    /// Page states split into pending, failed and conflicts, with paths.
    fn classify(&self, pages: Vec<PageStatus>) -> (Vec<Save>, Vec<Save>, Vec<ConflictEntry>) {
        let (mut pending, mut failed, mut conflicts) = (Vec::new(), Vec::new(), Vec::new());
        for p in pages {
            let path = self.core.page_path(&p.page);
            let save = |reason| Save {
                page: p.page.clone(),
                path: path.clone(),
                since: p.since.clone(),
                kinds: p.kinds.iter().map(kind_name).collect(),
                reason,
            };
            match &p.state {
                SyncState::Pending => pending.push(save(None)),
                SyncState::Failed(r) => failed.push(save(Some(r.clone()))),
                SyncState::Conflict(stamp) => conflicts.push(ConflictEntry {
                    page: p.page.clone(),
                    copy: self
                        .core
                        .conflict_copy(&p.page, stamp)
                        .unwrap_or_else(|| format!("conflict-{stamp}.md")),
                    path,
                }),
                SyncState::Clean => {}
            }
        }
        (pending, failed, conflicts)
    }

    /// The writer's page states, conflicts named after their copies first. The journal is
    /// read from disk: off the runtime's workers.
    async fn snapshot(&self, w: &Arc<Writer>) -> Vec<PageStatus> {
        self.core.show_conflicts();
        let w = w.clone();
        tokio::task::spawn_blocking(move || w.snapshot())
            .await
            .unwrap_or_default()
    }

    async fn status(&self) -> Status {
        let writer = self.core.writer().cloned();
        let pages = match &writer {
            Some(w) => self.snapshot(w).await,
            None => Vec::new(),
        };
        let journal_records = writer
            .as_ref()
            .map(|w| w.journal().pending_count())
            .unwrap_or(0);
        let (pending, failed, conflicts) = self.classify(pages);
        let dir = self.cache_dir.clone();
        let disk_bytes = tokio::task::spawn_blocking(move || tree_bytes(&dir, 0))
            .await
            .unwrap_or(0);
        let s = self.core.client().stats();
        Status {
            mountpoint: self.mountpoint.to_string_lossy().into_owned(),
            pid: std::process::id(),
            read_only: self.core.settings().read_only,
            writes: writer.is_some(),
            pending,
            failed,
            conflicts,
            journal_records,
            cache: CacheUse {
                memory_bytes: self.core.cache_bytes() as u64,
                memory_limit: self.core.settings().cache_size as u64,
                dir: self.cache_dir.to_string_lossy().into_owned(),
                disk_bytes,
            },
            api: ApiUse {
                calls: s.total(),
                by_endpoint: s.calls,
                retries: s.retries,
                rate_limited: s.rate_limited,
                server_errors: s.server_errors,
            },
        }
    }

    async fn sync(&self, wait: bool) -> SyncReport {
        let Some(writer) = self.core.writer().cloned() else {
            return SyncReport {
                writes: false,
                waited: wait,
                pending: Vec::new(),
                failed: Vec::new(),
                conflicts: Vec::new(),
            };
        };
        if !wait {
            let w = writer.clone();
            tokio::spawn(async move { w.flush_all().await });
            let (pending, failed, _) = self.classify(self.snapshot(&writer).await);
            return SyncReport {
                writes: true,
                waited: false,
                pending,
                failed,
                conflicts: Vec::new(),
            };
        }
        let (_, _, before) = self.classify(self.snapshot(&writer).await);
        // Saves made while pushing are pushed too; a few rounds, not forever.
        let mut snapshot = Vec::new();
        for _ in 0..SYNC_ROUNDS {
            writer.flush_all().await;
            snapshot = self.snapshot(&writer).await;
            if !snapshot
                .iter()
                .any(|p| matches!(p.state, SyncState::Pending))
            {
                break;
            }
        }
        let (pending, failed, conflicts) = self.classify(snapshot);
        SyncReport {
            writes: true,
            waited: true,
            pending,
            failed,
            conflicts: conflicts
                .into_iter()
                .filter(|c| !before.contains(c))
                .collect(),
        }
    }
}

fn refuse(why: &str) -> Response {
    Response {
        ok: false,
        error: Some(why.to_string()),
        ..Response::default()
    }
}

fn kind_name(k: &crate::sync::RecordKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{k:?}").to_lowercase())
}

/// Bytes of the regular files under `dir` (not following symlinks).
fn tree_bytes(dir: &Path, depth: usize) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            Ok(t) if t.is_dir() && depth < 16 => tree_bytes(&e.path(), depth + 1),
            _ => 0,
        })
        .sum()
}

// ----- client ----------------------------------------------------------------------------

/// `fuse.notionfs` mountpoints in `/proc/self/mountinfo`.
fn notionfs_mounts() -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    info.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            // After the optional fields, " - ", the filesystem type and the source:
            // `fuse.notionfs` through fusermount3 or mount(8), `fuse` + `notionfs` when
            // mounted directly (as root).
            let sep = f.iter().position(|x| *x == "-")?;
            let ours = matches!(
                (f.get(sep + 1), f.get(sep + 2)),
                (Some(&"fuse.notionfs"), _) | (Some(&"fuse"), Some(&"notionfs"))
            );
            let mp = f.get(4)?;
            ours.then(|| PathBuf::from(unescape(mp)))
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
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
            let abs = std::fs::canonicalize(mp).map_err(|e| ControlError::BadPath {
                path: mp.to_path_buf(),
                source: e,
            })?;
            // The innermost notionfs mount containing the path.
            let root = notionfs_mounts()
                .into_iter()
                .filter(|m| abs.starts_with(m))
                .max_by_key(|m| m.as_os_str().len())
                .ok_or_else(|| ControlError::NotNotionfs(mp.to_path_buf()))?;
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

    #[test]
    fn requests_round_trip() {
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"op":"status"}"#).unwrap(),
            Request::Status
        );
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"op":"sync","wait":true}"#).unwrap(),
            Request::Sync { wait: true }
        );
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"op":"sync"}"#).unwrap(),
            Request::Sync { wait: false }
        );
        assert!(serde_json::from_str::<Request>(r#"{"op":"format"}"#).is_err());
    }

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
    }

    #[test]
    fn mountinfo_unescapes() {
        assert_eq!(unescape("/a\\040b\\134c"), "/a b\\c");
    }
}
