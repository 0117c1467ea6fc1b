//! The control channel of a running mount: `notionfs status` and `notionfs sync`
//! (notionfs(1), COMMANDS) talk to the mount process over a Unix socket. This module is the
//! protocol and the server; the client is [`crate::cli::status`].
//!
//! # Where the socket is
//! A mount listens on `CACHE_DIR/control.sock` (mode 0600; only the mounting user can
//! connect). A Unix socket path holds at most 107 bytes: when that one is longer (a deep
//! `--cache-dir`), the socket lives in a private directory of the user's instead —
//! `$XDG_RUNTIME_DIR/notionfs/` when that is set, else `/tmp/notionfs-UID/` (created 0700 and
//! refused unless it is the user's own, not a symlink, and closed to others) — named
//! `ctl-HASH.sock` after the cache dir ([`socket_path`]). The mount root answers the extended attribute
//! `user.notionfs.control` with that path, so the CLI finds the socket from the mountpoint
//! alone (`getfattr -n user.notionfs.control MOUNTPOINT` shows it too). Without a
//! mountpoint the CLI looks at the notionfs mounts in `/proc/self/mountinfo` (type
//! `fuse.notionfs`, or `fuse` with source `notionfs`) that answer the attribute (other users' mounts do not) and uses the only one, or names them
//! all if there are several. A path inside a mount means that mount.
//!
//! The socket is removed on a clean exit, and one left by a crashed mount is replaced: the
//! cache dir's lock ([`super::lock`]), taken before the socket is opened, is what keeps a
//! second mount off a cache dir (and its journal), so a socket file found at start is
//! always stale.
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
//! `wait` it answers once the journal holds nothing more it can push (uploads in flight
//! included): what is still pending, what failed (with the reason) and the conflicts that
//! push produced. Nothing accepted and not in Notion is left out: journal records set aside
//! as damaged or missing, and records that cannot be read, are failed saves with that reason
//! (see [`crate::writeback::Writer::snapshot`]), so `notionfs sync --wait` exits non-zero
//! while they are there.
//!
//! `prefetch` is the one request answered with several lines: the job's progress every
//! [`PROGRESS_EVERY`] while it runs (`"running":true`), then a last line when it ends
//! (`"running":false`, or `"ok":false` with the error). The job belongs to the connection:
//! when the client goes away (the command interrupted) it stops. One prefetch runs at a
//! time; `status` shows it while it runs.
//!
//! ```text
//! -> {"op":"prefetch","path":"Engineering Wiki"}
//! <- {"ok":true,"prefetch":{"pages":12,"read":3,...,"running":true}}   (see [`PrefetchProgress`])
//! <- {"ok":true,"prefetch":{"pages":40,"read":38,...,"running":false}}
//! ```

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use crate::fs::prefetch::{Prefetch, PrefetchProgress};
use crate::fs::FsCore;
use crate::writeback::{PageStatus, SyncState, Writer};

/// File name of the socket in the cache dir.
pub const SOCKET_NAME: &str = "control.sock";
/// Extended attribute of the mount root giving the socket's path.
pub const XATTR: &str = "user.notionfs.control";
/// Longest request line the server reads.
const MAX_LINE: usize = 64 << 10;
/// Rounds of pushing `sync --wait` makes while saves keep arriving.
const SYNC_ROUNDS: usize = 5;
/// How often a running prefetch reports its progress.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(200);

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
    /// Read every page under `path` into the disk cache, with progress lines.
    Prefetch {
        /// Relative to the mount root (`""`: the whole workspace).
        #[serde(default)]
        path: String,
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
    /// The progress of `prefetch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<PrefetchProgress>,
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
    /// FUSE requests served since mounting, by operation (`lookup`, `open`, `read`...).
    #[serde(default)]
    pub fuse: BTreeMap<String, u64>,
    /// The prefetch running, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<PrefetchProgress>,
    /// The change feed (absent in answers of older mounts).
    #[serde(default)]
    pub feed: crate::fs::FeedStatus,
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

/// Longest path a Unix socket address holds (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Where the control socket of the mount using `cache_dir` listens: `cache_dir/control.sock`
/// when that path fits in a socket address, else `ctl-HASH.sock` in the user's private
/// runtime directory (see the module doc).
pub fn socket_path(cache_dir: &Path) -> Result<PathBuf, ServeError> {
    use std::os::unix::ffi::OsStrExt;
    let plain = cache_dir.join(SOCKET_NAME);
    if plain.as_os_str().as_bytes().len() <= MAX_SOCKET_PATH {
        return Ok(plain);
    }
    let abs = std::fs::canonicalize(cache_dir).unwrap_or_else(|_| cache_dir.to_path_buf());
    let hash: String = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
        abs.as_os_str().as_bytes(),
    ))
    .iter()
    .take(8)
    .map(|b| format!("{b:02x}"))
    .collect();
    let name = format!("ctl-{hash}.sock");
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(|d| PathBuf::from(d).join("notionfs"))
        .filter(|d| d.join(&name).as_os_str().as_bytes().len() <= MAX_SOCKET_PATH);
    let dir = runtime.unwrap_or_else(|| PathBuf::from(format!("/tmp/notionfs-{uid}")));
    private_runtime_dir(&dir, uid)?;
    Ok(dir.join(name))
}

/// Makes sure `dir` is a directory of `uid`'s own, not a symlink, closed to others (created
/// 0700 when missing): a socket in a shared place such as /tmp must not be reachable or
/// replaceable by anyone else.
fn private_runtime_dir(dir: &Path, uid: u32) -> Result<(), ServeError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let refuse = |why: String| ServeError::Bind {
        path: dir.to_path_buf(),
        source: std::io::Error::other(why),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(ServeError::Bind {
                path: dir.to_path_buf(),
                source: e,
            })
        }
    }
    let m = std::fs::symlink_metadata(dir).map_err(|e| ServeError::Bind {
        path: dir.to_path_buf(),
        source: e,
    })?;
    if !m.is_dir() || m.uid() != uid || m.mode() & 0o077 != 0 {
        return Err(refuse(format!(
            "{} is not a private directory of this user (owner {}, mode {:o})",
            dir.display(),
            m.uid(),
            m.mode() & 0o7777
        )));
    }
    Ok(())
}

/// A listening control socket; [`ControlServer::shutdown`] stops it and removes the file.
pub struct ControlServer {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
    ctx: Arc<Ctx>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
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
    /// Listens on the socket of `cache_dir` ([`socket_path`]; a file left there by a
    /// crashed mount is replaced: the caller holds the cache dir's lock) and serves
    /// `core`'s state; `mountpoint` is what `status` reports. Call inside the runtime.
    pub fn start(
        core: Arc<FsCore>,
        cache_dir: &Path,
        mountpoint: &Path,
    ) -> Result<ControlServer, ServeError> {
        let path = socket_path(cache_dir)?;
        let bind = |e| ServeError::Bind {
            path: path.clone(),
            source: e,
        };
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::debug!(socket = %path.display(), "stale control socket replaced"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(bind(e)),
        }
        let listener = tokio::net::UnixListener::bind(&path).map_err(bind)?;
        // Private to the user whatever the directory's mode (a --cache-dir may be shared).
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(bind)?;
        core.set_control_socket(path.clone());
        let ctx = Arc::new(Ctx {
            core,
            mountpoint: mountpoint.to_path_buf(),
            cache_dir: cache_dir.to_path_buf(),
            prefetch: std::sync::Mutex::new(None),
        });
        let served = ctx.clone();
        let task = tokio::spawn(async move {
            let ctx = served;
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
        Ok(ControlServer { path, task, ctx })
    }

    /// Starts a prefetch of the whole mount that runs until it is done (`--prefetch`);
    /// `status` shows it like one a command started. Call inside the runtime.
    pub fn prefetch_all(&self) {
        let ctx = self.ctx.clone();
        let job = match ctx.start_prefetch("") {
            Ok(j) => j,
            Err(other) => {
                tracing::info!(running = %other, "a prefetch runs already");
                return;
            }
        };
        tokio::spawn(async move {
            let r = ctx.core.prefetch("", &job).await;
            ctx.end_prefetch();
            let p = job.progress(ctx.core.client().stats().total(), false);
            match r {
                Ok(()) => tracing::info!(
                    read = p.read,
                    skipped = p.skipped,
                    failed = p.failed,
                    calls = p.calls,
                    "prefetch at mount ended"
                ),
                Err(e) => tracing::warn!(error = %e, "prefetch at mount failed"),
            }
        });
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops listening and removes the socket file.
    pub fn shutdown(self) {
        self.task.abort();
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(socket = %self.path.display(), error = %e, "cannot remove the control socket");
            }
        }
    }
}

struct Ctx {
    core: Arc<FsCore>,
    mountpoint: PathBuf,
    cache_dir: PathBuf,
    /// The prefetch running (a leaf lock).
    prefetch: std::sync::Mutex<Option<Arc<Prefetch>>>,
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
                Ok(Request::Prefetch { path }) if line.len() <= MAX_LINE => {
                    self.prefetch(&path, &mut write).await?;
                    continue;
                }
                Ok(req) if line.len() <= MAX_LINE => self.serve(req).await,
                Ok(_) => refuse("request too long"),
                Err(e) => refuse(&format!("bad request: {e}")),
            };
            send(&mut write, &resp).await?;
        }
    }

    async fn serve(&self, req: Request) -> Response {
        match req {
            Request::Prefetch { .. } => refuse("prefetch answers with progress lines"),
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
        self.core.catch_up();
        let w = w.clone();
        tokio::task::spawn_blocking(move || w.snapshot())
            .await
            .unwrap_or_default()
    }

    async fn status(&self) -> Status {
        let writer = self.core.write_back().cloned();
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
        let prefetch = self.running_prefetch().map(|p| p.progress(s.total(), true));
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
            fuse: crate::fuse::request_counts(),
            prefetch,
            feed: self.core.feed_status(),
        }
    }

    async fn sync(&self, wait: bool) -> SyncReport {
        let Some(writer) = self.core.write_back().cloned() else {
            return SyncReport {
                writes: false,
                waited: wait,
                pending: Vec::new(),
                failed: Vec::new(),
                conflicts: Vec::new(),
            };
        };
        if !wait {
            let (w, core) = (writer.clone(), self.core.clone());
            tokio::spawn(async move {
                core.drain_namespace().await;
                w.flush_all().await
            });
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
            // Queued namespace changes first: saves of new pages wait for their creates.
            self.core.drain_namespace().await;
            writer.flush_all().await;
            // Copies on their way to becoming attachments are saves too.
            self.core.uploads_idle().await;
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

impl Ctx {
    fn running_prefetch(&self) -> Option<Arc<Prefetch>> {
        self.prefetch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Registers a prefetch of `path` as the running one, unless one runs already (its
    /// path is the error).
    fn start_prefetch(&self, path: &str) -> Result<Arc<Prefetch>, String> {
        let mut slot = self.prefetch.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = slot.as_ref() {
            return Err(p.progress(0, true).path);
        }
        let job = Arc::new(Prefetch::new(path, self.core.client().stats().total()));
        *slot = Some(job.clone());
        Ok(job)
    }

    fn end_prefetch(&self) {
        *self.prefetch.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Runs a prefetch of `path`, writing its progress to `write` (see the module doc).
    /// The job stops when the client goes away.
    async fn prefetch(
        &self,
        path: &str,
        write: &mut tokio::net::unix::OwnedWriteHalf,
    ) -> std::io::Result<()> {
        let job = match self.start_prefetch(path) {
            Ok(j) => j,
            Err(other) => {
                return send(
                    write,
                    &refuse(&format!("a prefetch of {other:?} is running")),
                )
                .await
            }
        };
        let calls = || self.core.client().stats().total();
        let (core, j, rel) = (self.core.clone(), job.clone(), path.to_string());
        let mut task = tokio::spawn(async move { core.prefetch(&rel, &j).await });
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        let result = loop {
            tokio::select! {
                r = &mut task => break r.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())),
                _ = tick.tick() => {
                    let line = Response { ok: true, prefetch: Some(job.progress(calls(), true)), ..Response::default() };
                    if let Err(e) = send(write, &line).await {
                        task.abort();
                        self.end_prefetch();
                        tracing::info!(path, "prefetch interrupted");
                        return Err(e);
                    }
                }
            }
        };
        self.end_prefetch();
        let p = job.progress(calls(), false);
        tracing::info!(
            path,
            read = p.read,
            skipped = p.skipped,
            failed = p.failed,
            calls = p.calls,
            "prefetch ended"
        );
        let last = match result {
            Ok(()) => Response {
                ok: true,
                prefetch: Some(p),
                ..Response::default()
            },
            Err(e) => refuse(&e),
        };
        send(write, &last).await
    }
}

/// Writes one response line.
async fn send(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    resp: &Response,
) -> std::io::Result<()> {
    let mut out = serde_json::to_vec(resp).map_err(std::io::Error::other)?;
    out.push(b'\n');
    write.write_all(&out).await
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
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"op":"prefetch","path":"A/B"}"#).unwrap(),
            Request::Prefetch { path: "A/B".into() }
        );
        assert!(serde_json::from_str::<Request>(r#"{"op":"format"}"#).is_err());
    }
}
