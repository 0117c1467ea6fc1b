//! Running a mount: from resolved settings to a served, then cleanly drained, mount.
//!
//! [`serve`] goes through these steps, each a function below:
//! 1. check the mount point and the token (before detaching, so errors reach the
//!    terminal), make the cache dir and take its lock ([`lock`]: one mount per cache dir,
//!    before anything in it is read or written);
//! 2. detach (`-d`, [`process`]), start logging ([`logging`], [`syslog`]) and install the
//!    panic hook ([`panics`]);
//! 3. build the backend: the HTTP client, or an emulator in this process (`demo`), and the
//!    filesystem core with its write-back engine;
//! 4. start the control socket ([`control`]) and replay what the journal holds;
//! 5. mount ([`crate::fuse`]) and serve until unmounted or signalled (SIGINT/SIGTERM
//!    unmount);
//! 6. drain: push what is pending within [`UNMOUNT_PUSH_WAIT`] (the journal keeps the
//!    rest), stop the control socket and the emulator.

pub mod control;
pub mod identity;
pub mod lock;
pub mod logging;
pub mod memory;
pub mod mountinfo;
pub mod panics;
pub mod process;
pub mod syslog;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::settings::{default_cache_dir, Resolved};
use crate::cli::CliError;
use crate::fs::{FsCore, Settings};
use crate::fuse::{self, MountConfig};
use crate::notion::ratelimit::Rate;
use crate::notion::{ApiError, Client, ClientConfig, Token};
use crate::writeback::Writer;
use control::ControlServer;
use lock::CacheLock;

/// Attempts (100 ms apart) to unmount on a signal while the mount is busy.
const UNMOUNT_TRIES: u32 = 50;

/// Longest wait at unmount for pending saves to reach Notion.
pub const UNMOUNT_PUSH_WAIT: Duration = Duration::from_secs(10);

/// What to serve: a real API, or an emulator started in this process.
pub enum Backend {
    /// A Notion API at `url`, with the user's token.
    Api {
        /// Base URL.
        url: String,
        /// The integration token.
        token: Token,
    },
    /// The built-in emulator seeded with the demo workspace.
    Demo,
}

/// Mounts the workspace at `mountpoint` with the settings `r` and serves it until it is
/// unmounted (see the module doc for the steps).
pub fn serve(backend: Backend, r: Resolved, mountpoint: &Path) -> Result<(), CliError> {
    let mountpoint = check_mountpoint(mountpoint)?;
    let (ws_name, offline) = match &backend {
        Backend::Api { url, token } => identify(url, token, r.cache_dir.is_some())?,
        Backend::Demo => ("demo".to_string(), None),
    };
    let cache_dir = r
        .cache_dir
        .clone()
        .unwrap_or_else(|| default_cache_dir(&ws_name));
    crate::fs::create_private_dir(&cache_dir)
        .map_err(|e| CliError::Invalid(format!("cache dir {}: {e}", cache_dir.display())))?;
    // Before anything reads or writes the cache dir; held until this process ends.
    let lock = CacheLock::acquire(&cache_dir).map_err(|e| CliError::Mount(e.to_string()))?;
    let status_fd = if r.daemon {
        Some(process::daemonize()?)
    } else {
        None
    };
    lock.note_pid();
    let log_file = status_fd.map(|_| cache_dir.join("notionfs.log"));
    logging::init(r.log_level, log_file.as_deref());
    panics::install();
    if let Some(why) = offline {
        tracing::warn!(reason = %why, "Notion cannot be reached: serving the cache; changes are kept and sent once Notion answers");
    }
    let result = run(backend, &r, &cache_dir, &mountpoint, status_fd);
    drop(lock);
    if let Err(e) = &result {
        tracing::error!("{e}");
        process::report(status_fd, false);
    }
    result
}

/// A running backend: the core, its writer, and the emulator when it runs in this process.
struct Built {
    core: Arc<FsCore>,
    writer: Option<Arc<Writer>>,
    emulator: Option<crate::emulator::Emulator>,
}

/// Steps 3 to 6 of the module doc, after detaching.
fn run(
    backend: Backend,
    r: &Resolved,
    cache_dir: &Path,
    mountpoint: &Path,
    status_fd: Option<i32>,
) -> Result<(), CliError> {
    memory::limit_arenas();
    let rt = runtime()?;
    memory::start_trimming(&rt);
    let (client, emulator) = build_client(&rt, backend, r.rate)?;
    let core = build_core(client, r, cache_dir)?;
    // Before the journal is opened: a live mount on the same cache dir refuses this one.
    let control = start_control(&rt, &core, cache_dir, mountpoint)?;
    let built = match enable_writes(&rt, core, r) {
        Ok(w) => Built {
            core: w.0,
            writer: w.1,
            emulator,
        },
        Err(e) => {
            if let Some(c) = control {
                c.shutdown();
            }
            return Err(e);
        }
    };
    {
        let _rt = rt.enter();
        built.core.start_feed();
        if built.writer.is_some() {
            built.core.start_namespace_queue();
        }
        if let (true, Some(c)) = (r.prefetch, &control) {
            c.prefetch_all();
        }
    }
    let served = mount_and_serve(&rt, &built.core, r, mountpoint, status_fd);
    // Also after a failed serve (a request thread panicked): what is pending is pushed.
    drain(&rt, &built);
    built.core.save_snapshot();
    if let Some(c) = control {
        c.shutdown();
    }
    if let Some(emu) = built.emulator {
        rt.block_on(emu.shutdown());
    }
    rt.shutdown_timeout(Duration::from_secs(2));
    served
}

/// The HTTP client, and the emulator it talks to for `demo`.
fn build_client(
    rt: &tokio::runtime::Runtime,
    backend: Backend,
    rate: Option<f64>,
) -> Result<(Client, Option<crate::emulator::Emulator>), CliError> {
    match backend {
        Backend::Api { url, token } => Ok((client_for(&url, token, rate)?, None)),
        Backend::Demo => {
            let emu = rt
                .block_on(crate::emulator::Emulator::start(
                    crate::emulator::EmulatorConfig::default(),
                ))
                .map_err(|e| CliError::Mount(format!("cannot start the emulator: {e}")))?;
            let client = client_for(&emu.base_url(), Token::new(emu.token()), rate)?;
            tracing::info!(url = %emu.base_url(), "demo emulator running");
            Ok((client, Some(emu)))
        }
    }
}

/// The filesystem core over `client`.
fn build_core(client: Client, r: &Resolved, cache_dir: &Path) -> Result<Arc<FsCore>, CliError> {
    let settings = Settings {
        ttl: r.ttl,
        reconcile: r.reconcile,
        cache_size: r.cache_size as usize,
        read_only: r.read_only,
        uid: r.uid,
        gid: r.gid,
        cache_dir: cache_dir.to_path_buf(),
        max_in_flight: 8,
    };
    let core = FsCore::new(client, settings).map_err(|e| CliError::Mount(e.to_string()))?;
    core.restore_snapshot();
    Ok(Arc::new(core))
}

/// The control socket. Read-only mounts serve it too (status shows their cache and API
/// use). The cache dir's lock keeps other mounts away; a failure here only costs
/// `status`/`sync` and is logged.
fn start_control(
    rt: &tokio::runtime::Runtime,
    core: &Arc<FsCore>,
    cache_dir: &Path,
    mountpoint: &Path,
) -> Result<Option<ControlServer>, CliError> {
    let _rt = rt.enter();
    match ControlServer::start(core.clone(), cache_dir, mountpoint) {
        Ok(c) => Ok(Some(c)),
        Err(e) => {
            tracing::warn!("{e}; notionfs status and sync cannot reach this mount");
            Ok(None)
        }
    }
}

/// Opens the journal (unless read-only) and replays what a previous run accepted but did
/// not push (crash, kill -9), in the background.
fn enable_writes(
    rt: &tokio::runtime::Runtime,
    core: Arc<FsCore>,
    r: &Resolved,
) -> Result<(Arc<FsCore>, Option<Arc<Writer>>), CliError> {
    if r.read_only {
        return Ok((core, None));
    }
    let journal = core.settings().cache_dir.join("journal");
    let w = core
        .enable_writes(&journal, r.write_delay)
        .map_err(|e| CliError::Mount(format!("cannot open the journal: {e}")))?;
    // Namespace changes queued before a restart are shown again before the mount serves.
    rt.block_on(core.replay_namespace());
    let replay = w.clone();
    rt.spawn(async move { replay.flush_all().await });
    let uploads = core.clone();
    // Reading the journal blocks: not on a runtime worker.
    rt.spawn_blocking(move || uploads.replay_uploads());
    Ok((core, Some(w)))
}

/// Mounts, reports success to a waiting parent, unmounts on SIGINT/SIGTERM, and serves
/// until the mount goes away.
fn mount_and_serve(
    rt: &tokio::runtime::Runtime,
    core: &Arc<FsCore>,
    r: &Resolved,
    mountpoint: &Path,
    status_fd: Option<i32>,
) -> Result<(), CliError> {
    let cfg = MountConfig {
        allow_other: r.allow_other,
        read_only: r.read_only,
        no_open: r.no_open,
        threads: fuse::THREADS,
        kernel_ttl: crate::fs::kernel::KERNEL_TTL,
    };
    let mut session =
        fuse::mount(core.clone(), rt.handle().clone(), mountpoint, &cfg).map_err(|e| {
            if e.raw_os_error() == Some(libc::EBUSY) {
                CliError::Busy(mountpoint.to_path_buf())
            } else {
                CliError::Mount(e.to_string())
            }
        })?;
    tracing::info!(mountpoint = %mountpoint.display(), "mounted; unmount with fusermount3 -u or Ctrl-C");
    process::report(status_fd, true);
    let mut unmounter = session.unmount_callable();
    let mp = mountpoint.to_path_buf();
    rt.spawn(async move {
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        let Ok(mut term) = term else { return };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("signal received: unmounting");
        let done = unmount_when_idle(&mp).await;
        // After our own unmount fuser's finds nothing left to do (or EINVAL after a lazy one).
        match unmounter.unmount() {
            Err(e) if done => tracing::debug!(error = %e, "fuser's unmount after ours"),
            Err(e) => tracing::error!(error = %e, "unmount failed"),
            Ok(()) => {}
        }
    });
    let served = session.run();
    // The session can end before the signal task's unmount (a request thread that panicked
    // takes the session down with it): the mount is gone before this returns, busy or not.
    if mountinfo::is_mounted(mountpoint) {
        rt.block_on(unmount_when_idle(mountpoint));
    }
    tracing::info!("unmounted");
    if panics::request_panicked() {
        return Err(CliError::Mount(
            "a request panicked (the log says where); unmounted cleanly".into(),
        ));
    }
    served.map_err(|e| CliError::Mount(e.to_string()))
}

/// Unmounts `mp` once no request holds it busy: a request still in flight (the one that
/// panicked is answered only as its thread unwinds, after the panic hook sent the signal)
/// makes a plain unmount fail with EBUSY for a moment, so it is tried [`UNMOUNT_TRIES`] times
/// 100 ms apart, then detached lazily (as `fusermount3 -u -z` does for other users). Where
/// this process may not unmount (EPERM: not root), fuser's unmounter does it through
/// fusermount3 afterwards. Returns whether this function unmounted it.
async fn unmount_when_idle(mp: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(mp.as_os_str().as_bytes()) else {
        return false;
    };
    for tries in 1..=UNMOUNT_TRIES {
        let flags = if tries == UNMOUNT_TRIES {
            libc::MNT_DETACH
        } else {
            0
        };
        // SAFETY: a NUL-terminated path that outlives the call.
        if unsafe { libc::umount2(path.as_ptr(), flags) } == 0 {
            return true;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EBUSY) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Sends queued namespace changes, pushes what is pending and waits for uploads in flight,
/// within [`UNMOUNT_PUSH_WAIT`]; the journal keeps the rest for the next mount.
fn drain(rt: &tokio::runtime::Runtime, built: &Built) {
    let Some(w) = &built.writer else { return };
    let flushed = rt.block_on(async {
        // Queued namespace changes first: saves of new pages wait for their creates.
        let pushes = async {
            built.core.drain_namespace().await;
            w.flush_all().await
        };
        let both = futures::future::join(pushes, built.core.uploads_idle());
        tokio::time::timeout(UNMOUNT_PUSH_WAIT, both).await
    });
    if flushed.is_err() || w.journal().pending_count() > 0 {
        tracing::warn!(
            pending = w.journal().pending_count(),
            "unmounted with saves not in Notion yet; the next mount pushes them"
        );
    }
}

/// The mount point as an absolute path: an existing directory nothing is mounted on.
fn check_mountpoint(p: &Path) -> Result<PathBuf, CliError> {
    let abs = std::fs::canonicalize(p).map_err(|_| CliError::NoMountpoint(p.to_path_buf()))?;
    if !abs.is_dir() {
        return Err(CliError::NoMountpoint(p.to_path_buf()));
    }
    if mountinfo::is_mounted(&abs) {
        return Err(CliError::Busy(p.to_path_buf()));
    }
    Ok(abs)
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("notionfs-rt")
        .build()
        .map_err(|e| CliError::Mount(format!("cannot start the runtime: {e}")))
}

fn client_for(url: &str, token: Token, rate: Option<f64>) -> Result<Client, CliError> {
    let mut cfg = ClientConfig::new(url, token);
    // A FUSE request waits on these calls: an API that accepts but never answers must
    // turn into EIO in reasonable time, not after minutes.
    cfg.timeout = Duration::from_secs(20);
    cfg.rate = rate.map(|r| Rate {
        per_second: r,
        burst: r.ceil().max(1.0) as u32,
    });
    Client::new(cfg).map_err(|e| CliError::Invalid(e.to_string()))
}

/// The workspace's cache-dir name (see [`check_token_before_detaching`]). When Notion cannot
/// be reached but a cache can be named — `--cache-dir` given, or the workspace this token
/// opened before remembered ([`identity`]) — the mount starts anyway from its cache; the
/// second value then says why it is offline. A rejected token never starts.
fn identify(
    url: &str,
    token: &Token,
    cache_dir_given: bool,
) -> Result<(String, Option<String>), CliError> {
    match check_token_before_detaching(url, token) {
        Ok(name) => {
            identity::remember(url, token, &name);
            Ok((name, None))
        }
        Err(CliError::Unreachable { url: u, reason }) => {
            match (identity::recall(url, token), cache_dir_given) {
                (Some(name), _) => Ok((name, Some(reason))),
                (None, true) => Ok((String::new(), Some(reason))),
                (None, false) => Err(CliError::Unreachable { url: u, reason }),
            }
        }
        Err(e) => Err(e),
    }
}

/// Checks the token with one `GET /v1/users/me` (one retry, short timeout: fail fast at
/// startup) on a runtime that is gone before any fork; returns the cache-dir name
/// (workspace id, else bot id).
fn check_token_before_detaching(url: &str, token: &Token) -> Result<String, CliError> {
    let rt = runtime()?;
    let mut cfg = ClientConfig::new(url, token.clone());
    cfg.rate = None;
    cfg.max_retries = 1;
    cfg.timeout = Duration::from_secs(15);
    let client = Client::new(cfg).map_err(|e| CliError::Invalid(e.to_string()))?;
    let name = rt.block_on(check_token(&client))?;
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok(name)
}

async fn check_token(client: &Client) -> Result<String, CliError> {
    match client.me().await {
        Ok(me) => Ok(me
            .bot
            .as_ref()
            .and_then(|b| b.workspace_id.clone())
            .unwrap_or(me.id)),
        Err(e) if e.is_unauthorized() => Err(CliError::RejectedToken),
        Err(ApiError::Transport { reason, .. }) => Err(CliError::Unreachable {
            url: client.base_url().to_string(),
            reason,
        }),
        Err(e) => Err(CliError::Unreachable {
            url: client.base_url().to_string(),
            reason: e.to_string(),
        }),
    }
}
