//! `notionfs mount` and `notionfs demo`: arguments, settings, token handling, mounting,
//! daemonizing and clean unmounting.
//!
//! Settings are resolved highest first: command-line flags (and `-o` options, which take
//! the same settings so `mount -t fuse.notionfs` and fstab work), the environment
//! (`NOTION_TOKEN`, `NOTION_API_URL`), `$XDG_CONFIG_HOME/notionfs/config.toml`, defaults.
//! The token is read from `NOTION_TOKEN` or a file, never from argv, and never printed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::ArgAction;
use serde::Deserialize;

use super::control::{ControlServer, ServeError};
use super::core::{FsCore, Settings};
use super::fuse::{self, MountConfig};
use crate::notion::ratelimit::Rate;
use crate::notion::{ApiError, Client, ClientConfig, Token};

/// Default metadata freshness.
pub const DEFAULT_TTL_SECS: f64 = 30.0;
/// Default client rate limit (Notion's documented average).
pub const DEFAULT_RATE: f64 = 3.0;
/// Default memory for rendered bodies.
pub const DEFAULT_CACHE_SIZE: u64 = 256 << 20;
/// Default quiet period before pushing writes (used by the write path).
pub const DEFAULT_WRITE_DELAY_MS: u64 = 1000;

/// Options shared by `mount` and `demo`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FsOptions {
    /// Seconds listings and metadata stay fresh before Notion is asked again [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub ttl: Option<f64>,
    /// Client rate limit in requests per second [default: 3; demo: unlimited].
    #[arg(long, value_name = "RPS")]
    pub rate: Option<f64>,
    /// Memory for rendered pages, e.g. 256M, 1G [default: 256M].
    #[arg(long, value_name = "SIZE")]
    pub cache_size: Option<String>,
    /// Local cache and journal directory [default: $XDG_CACHE_HOME/notionfs/WORKSPACE].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Mount read-only (modes 0444/0555; every write fails with EROFS).
    #[arg(long)]
    pub read_only: bool,
    /// Let other users see the mount (needs user_allow_other in /etc/fuse.conf).
    #[arg(long)]
    pub allow_other: bool,
    /// Owner of every file [default: the mounting user].
    #[arg(long, value_name = "UID")]
    pub uid: Option<u32>,
    /// Group of every file [default: the mounting user's group].
    #[arg(long, value_name = "GID")]
    pub gid: Option<u32>,
    /// Quiet period in milliseconds before writes are pushed [default: 1000].
    #[arg(long, value_name = "MS")]
    pub write_delay: Option<u64>,
    /// Settings as mount options: -o ttl=10,read_only,token_file=/path.
    #[arg(short = 'o', value_name = "OPT[,OPT...]", action = ArgAction::Append)]
    pub options: Vec<String>,
    /// Detach and run in the background once mounted (logs go to the cache dir).
    #[arg(short = 'd', long)]
    pub daemon: bool,
    /// More log output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short = 'v', long, action = ArgAction::Count)]
    pub verbose: u8,
    /// Less log output (-q warnings only, -qq errors only).
    #[arg(short = 'q', long, action = ArgAction::Count)]
    pub quiet: u8,
}

/// `notionfs mount MOUNTPOINT [options]`.
#[derive(Debug, Clone, clap::Args)]
pub struct MountArgs {
    /// Where to mount the workspace (an existing, empty directory).
    pub mountpoint: PathBuf,
    /// Read the integration token from this file instead of NOTION_TOKEN.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Notion API base URL [env: NOTION_API_URL] [default: `https://api.notion.com`].
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Filesystem options.
    #[command(flatten)]
    pub fs: FsOptions,
}

/// `notionfs demo MOUNTPOINT [options]`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Where to mount the demo workspace.
    pub mountpoint: PathBuf,
    /// Filesystem options.
    #[command(flatten)]
    pub fs: FsOptions,
}

/// Why `mount` or `demo` could not run. [`CliError::exit_code`] is the process exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No token anywhere.
    #[error("no Notion token: set NOTION_TOKEN or pass --token-file PATH (create an integration token at https://www.notion.so/profile/integrations and share pages with it)")]
    MissingToken,
    /// The token file cannot be read or is empty.
    #[error("cannot use the token file {path}: {reason}")]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Notion answered 401 to `GET /v1/users/me`.
    #[error("Notion rejected the token (401 from users/me): provide a valid integration token with NOTION_TOKEN or --token-file")]
    RejectedToken,
    /// The API could not be reached.
    #[error("cannot reach the Notion API at {url}: {reason}")]
    Unreachable {
        /// Base URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The mountpoint is missing or not a directory.
    #[error("mountpoint {0} does not exist or is not a directory")]
    NoMountpoint(PathBuf),
    /// Something is mounted there already.
    #[error("mountpoint {0} is busy: something is already mounted there")]
    Busy(PathBuf),
    /// A setting has a value that cannot be used.
    #[error("invalid setting: {0}")]
    Invalid(String),
    /// Mounting or serving failed.
    #[error("mount failed: {0}")]
    Mount(String),
}

impl CliError {
    /// Exit code: 2 for token problems, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::MissingToken | CliError::TokenFile { .. } | CliError::RejectedToken => 2,
            _ => 1,
        }
    }
}

/// `config.toml` keys (the same names as the long options, with `_`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    token_file: Option<PathBuf>,
    api_url: Option<String>,
    ttl: Option<f64>,
    rate: Option<f64>,
    cache_size: Option<toml::Value>,
    cache_dir: Option<PathBuf>,
    read_only: Option<bool>,
    allow_other: Option<bool>,
    uid: Option<u32>,
    gid: Option<u32>,
    write_delay: Option<u64>,
}

/// Every setting after precedence was applied.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Where the token comes from (`None`: `NOTION_TOKEN`).
    pub token_file: Option<PathBuf>,
    /// API base.
    pub api_url: String,
    /// Metadata freshness.
    pub ttl: Duration,
    /// Client rate; `None` for unlimited.
    pub rate: Option<f64>,
    /// Body cache bytes.
    pub cache_size: u64,
    /// Cache dir, if given.
    pub cache_dir: Option<PathBuf>,
    /// Read-only mount.
    pub read_only: bool,
    /// allow_other.
    pub allow_other: bool,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Write delay (for the write path).
    pub write_delay: Duration,
    /// Detach once mounted (`-d`, or `-o daemon` for mount(8) and fstab).
    pub daemon: bool,
}

/// Parses `256M`, `1G`, `512K`, `1GiB` or a byte count.
pub fn parse_size(s: &str) -> Result<u64, CliError> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, mult) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| CliError::Invalid(format!("cache size {s:?} (use e.g. 256M or 1G)")))
}

fn parse_num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, CliError> {
    v.parse()
        .map_err(|_| CliError::Invalid(format!("{key}={v} is not a number")))
}

/// Standard mount options that `mount`/fstab pass along and that mean nothing here.
const IGNORED_OPTIONS: &[&str] = &[
    "rw", "dev", "nodev", "suid", "nosuid", "exec", "noexec", "atime", "noatime", "relatime",
    "auto", "noauto", "user", "nouser", "users", "defaults", "_netdev", "nofail", "async", "sync",
];

/// Applies `-o` options onto `r` (`token_file` lands in `token_file`).
fn apply_o(r: &mut Resolved, opts: &[String]) -> Result<(), CliError> {
    for group in opts {
        for opt in group.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let (k, v) = match opt.split_once('=') {
                Some((k, v)) => (k.replace('-', "_"), Some(v)),
                None => (opt.replace('-', "_"), None),
            };
            let need = |v: Option<&str>| {
                v.map(str::to_string)
                    .ok_or_else(|| CliError::Invalid(format!("-o {k} needs a value ({k}=...)")))
            };
            match k.as_str() {
                "token_file" => r.token_file = Some(PathBuf::from(need(v)?)),
                "api_url" => r.api_url = need(v)?,
                "ttl" => r.ttl = secs(parse_num("ttl", &need(v)?)?)?,
                "rate" => r.rate = Some(parse_num("rate", &need(v)?)?),
                "cache_size" => r.cache_size = parse_size(&need(v)?)?,
                "cache_dir" => r.cache_dir = Some(PathBuf::from(need(v)?)),
                "read_only" | "ro" => r.read_only = true,
                "allow_other" => r.allow_other = true,
                "daemon" => r.daemon = true,
                "uid" => r.uid = parse_num("uid", &need(v)?)?,
                "gid" => r.gid = parse_num("gid", &need(v)?)?,
                "write_delay" => {
                    r.write_delay = Duration::from_millis(parse_num("write_delay", &need(v)?)?)
                }
                "token" => {
                    return Err(CliError::Invalid(
                        "a token is never taken from the command line (it would show in ps): use NOTION_TOKEN or token_file=PATH".into(),
                    ))
                }
                k if IGNORED_OPTIONS.contains(&k) || k.starts_with("x_") || k.starts_with("x-") => {}
                other => {
                    return Err(CliError::Invalid(format!("unknown mount option {other:?}")))
                }
            }
        }
    }
    Ok(())
}

fn secs(s: f64) -> Result<Duration, CliError> {
    if s.is_finite() && s >= 0.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(CliError::Invalid(format!(
            "ttl {s} must be a number of seconds ≥ 0"
        )))
    }
}

fn config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("notionfs").join("config.toml"))
}

fn read_config(path: Option<&Path>) -> Result<FileConfig, CliError> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    match std::fs::read_to_string(path) {
        Ok(s) => toml::from_str(&s)
            .map_err(|e| CliError::Invalid(format!("{}: {}", path.display(), e.message()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(e) => Err(CliError::Invalid(format!("{}: {e}", path.display()))),
    }
}

/// Resolves settings: `flags` > environment (`env` lookup) > config file > defaults.
pub fn resolve(
    token_file: Option<&Path>,
    api_url: Option<&str>,
    fs: &FsOptions,
    env: &dyn Fn(&str) -> Option<String>,
    config: Option<&Path>,
) -> Result<Resolved, CliError> {
    let file = read_config(config)?;
    // SAFETY: getuid/getgid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let mut r = Resolved {
        token_file: None,
        api_url: crate::notion::client::DEFAULT_API_URL.to_string(),
        ttl: Duration::from_secs_f64(DEFAULT_TTL_SECS),
        rate: Some(DEFAULT_RATE),
        cache_size: DEFAULT_CACHE_SIZE,
        cache_dir: None,
        read_only: false,
        allow_other: false,
        uid,
        gid,
        write_delay: Duration::from_millis(DEFAULT_WRITE_DELAY_MS),
        daemon: false,
    };
    // Config file.
    if let Some(v) = file.token_file {
        r.token_file = Some(v);
    }
    if let Some(v) = file.api_url {
        r.api_url = v;
    }
    if let Some(v) = file.ttl {
        r.ttl = secs(v)?;
    }
    if let Some(v) = file.rate {
        r.rate = Some(v);
    }
    match file.cache_size {
        Some(toml::Value::Integer(n)) if n >= 0 => r.cache_size = n as u64,
        Some(toml::Value::String(s)) => r.cache_size = parse_size(&s)?,
        Some(other) => {
            return Err(CliError::Invalid(format!(
                "cache_size = {other} in config.toml"
            )))
        }
        None => {}
    }
    if let Some(v) = file.cache_dir {
        r.cache_dir = Some(v);
    }
    r.read_only |= file.read_only.unwrap_or(false);
    r.allow_other |= file.allow_other.unwrap_or(false);
    if let Some(v) = file.uid {
        r.uid = v;
    }
    if let Some(v) = file.gid {
        r.gid = v;
    }
    if let Some(v) = file.write_delay {
        r.write_delay = Duration::from_millis(v);
    }
    // Environment.
    if env("NOTION_TOKEN").is_some_and(|t| !t.trim().is_empty()) {
        // The environment's token beats a token file named only in the config file.
        r.token_file = None;
    }
    if let Some(v) = env("NOTION_API_URL").filter(|v| !v.is_empty()) {
        r.api_url = v;
    }
    // Flags: -o first, then the long options.
    apply_o(&mut r, &fs.options)?;
    if let Some(v) = token_file {
        r.token_file = Some(v.to_path_buf());
    }
    if let Some(v) = api_url {
        r.api_url = v.to_string();
    }
    if let Some(v) = fs.ttl {
        r.ttl = secs(v)?;
    }
    if let Some(v) = fs.rate {
        r.rate = Some(v);
    }
    if let Some(v) = &fs.cache_size {
        r.cache_size = parse_size(v)?;
    }
    if let Some(v) = &fs.cache_dir {
        r.cache_dir = Some(v.clone());
    }
    r.read_only |= fs.read_only;
    r.allow_other |= fs.allow_other;
    r.daemon |= fs.daemon;
    if let Some(v) = fs.uid {
        r.uid = v;
    }
    if let Some(v) = fs.gid {
        r.gid = v;
    }
    if let Some(v) = fs.write_delay {
        r.write_delay = Duration::from_millis(v);
    }
    if let Some(rate) = r.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(CliError::Invalid(format!("rate {rate} must be > 0")));
        }
    }
    Ok(r)
}

/// Reads the token: the token file if one is set, else `NOTION_TOKEN`.
pub fn load_token(r: &Resolved, env: &dyn Fn(&str) -> Option<String>) -> Result<Token, CliError> {
    match &r.token_file {
        Some(path) => {
            let s = std::fs::read_to_string(path).map_err(|e| CliError::TokenFile {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let first = s.lines().next().unwrap_or("").trim().to_string();
            if first.is_empty() {
                return Err(CliError::TokenFile {
                    path: path.clone(),
                    reason: "it is empty".into(),
                });
            }
            Ok(Token::new(first))
        }
        None => env("NOTION_TOKEN")
            .filter(|t| !t.trim().is_empty())
            .map(Token::new)
            .ok_or(CliError::MissingToken),
    }
}

fn init_logging(fs: &FsOptions, file: Option<&Path>) {
    use tracing_subscriber::EnvFilter;
    let level = match (fs.verbose, fs.quiet) {
        (0, 0) => "info",
        (1, _) => "debug",
        (v, _) if v >= 2 => "trace",
        (_, 1) => "warn",
        _ => "error",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("notionfs={level},fuser=error,warn")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // Detached: syslog (journald reads it), and a file in the cache dir for machines that
    // run no syslog daemon.
    let res = match file.and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    }) {
        Some(f) => {
            use tracing_subscriber::fmt::writer::MakeWriterExt;
            builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(f).and(super::syslog::Syslog))
                .try_init()
        }
        None => builder.with_writer(std::io::stderr).try_init(),
    };
    // Already initialised (tests, or a second mount in one process): keep the first.
    let _ = res;
}

/// Whether something is mounted at `path` (from /proc/self/mountinfo).
fn is_mounted(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let target = path.to_string_lossy().to_string();
    info.lines().any(|l| {
        l.split(' ')
            .nth(4)
            .map(|m| {
                m.replace("\\040", " ")
                    .replace("\\011", "\t")
                    .replace("\\134", "\\")
            })
            .is_some_and(|m| m == target)
    })
}

fn check_mountpoint(p: &Path) -> Result<PathBuf, CliError> {
    let abs = std::fs::canonicalize(p).map_err(|_| CliError::NoMountpoint(p.to_path_buf()))?;
    if !abs.is_dir() {
        return Err(CliError::NoMountpoint(p.to_path_buf()));
    }
    if is_mounted(&abs) {
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

/// Checks the token with `GET /v1/users/me`; returns the cache-dir name (workspace id, else
/// bot id).
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

fn default_cache_dir(name: &str) -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.join("notionfs").join(safe)
}

/// Forks into the background. The parent exits once the child reports the mount is up
/// (0) or failed (1); the child continues with a new session and stdio on /dev/null.
/// Returns the write end of the status pipe in the child.
fn daemonize() -> Result<i32, CliError> {
    let mut fds = [0i32; 2];
    // SAFETY: plain POSIX calls on owned descriptors; no other thread exists yet (the
    // runtime used for the token check was shut down before this call).
    unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(CliError::Mount("pipe failed".into()));
        }
        match libc::fork() {
            -1 => Err(CliError::Mount("fork failed".into())),
            0 => {
                libc::close(fds[0]);
                libc::setsid();
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                if null >= 0 {
                    libc::dup2(null, 0);
                    libc::dup2(null, 1);
                    libc::dup2(null, 2);
                }
                Ok(fds[1])
            }
            _ => {
                libc::close(fds[1]);
                let mut b = [1u8; 1];
                let n = libc::read(fds[0], b.as_mut_ptr().cast(), 1);
                std::process::exit(if n == 1 && b[0] == 0 { 0 } else { 1 });
            }
        }
    }
}

fn report(fd: Option<i32>, ok: bool) {
    if let Some(fd) = fd {
        let b = [if ok { 0u8 } else { 1u8 }];
        // SAFETY: fd is the pipe's write end, owned by this process.
        unsafe {
            libc::write(fd, b.as_ptr().cast(), 1);
            libc::close(fd);
        }
    }
}

/// What to serve: a real API, or an emulator started in this process.
enum Backend {
    Api { url: String, token: Token },
    Demo,
}

fn serve(backend: Backend, r: Resolved, fs: &FsOptions, mountpoint: &Path) -> Result<(), CliError> {
    let mountpoint = check_mountpoint(mountpoint)?;
    // Check the token before detaching, so errors reach the terminal.
    let ws_name = match &backend {
        Backend::Api { url, token } => {
            let rt = runtime()?;
            // Fail fast at startup: one retry, short timeout.
            let mut cfg = ClientConfig::new(url.as_str(), token.clone());
            cfg.rate = None;
            cfg.max_retries = 1;
            cfg.timeout = Duration::from_secs(15);
            let client = Client::new(cfg).map_err(|e| CliError::Invalid(e.to_string()))?;
            let name = rt.block_on(check_token(&client))?;
            rt.shutdown_timeout(Duration::from_secs(1));
            name
        }
        Backend::Demo => "demo".to_string(),
    };
    let cache_dir = r
        .cache_dir
        .clone()
        .unwrap_or_else(|| default_cache_dir(&ws_name));
    super::attach::create_private_dir(&cache_dir)
        .map_err(|e| CliError::Invalid(format!("cache dir {}: {e}", cache_dir.display())))?;
    let status_fd = if r.daemon { Some(daemonize()?) } else { None };
    init_logging(
        fs,
        status_fd.map(|_| cache_dir.join("notionfs.log")).as_deref(),
    );
    let result = serve_inner(backend, &r, &cache_dir, &mountpoint, status_fd);
    if let Err(e) = &result {
        tracing::error!("{e}");
        report(status_fd, false);
    }
    result
}

fn serve_inner(
    backend: Backend,
    r: &Resolved,
    cache_dir: &Path,
    mountpoint: &Path,
    status_fd: Option<i32>,
) -> Result<(), CliError> {
    let rt = runtime()?;
    let (client, emulator) = match backend {
        Backend::Api { url, token } => (client_for(&url, token, r.rate)?, None),
        Backend::Demo => {
            let emu = rt
                .block_on(crate::emulator::Emulator::start(
                    crate::emulator::EmulatorConfig::default(),
                ))
                .map_err(|e| CliError::Mount(format!("cannot start the emulator: {e}")))?;
            let client = client_for(&emu.base_url(), Token::new(emu.token()), r.rate)?;
            tracing::info!(url = %emu.base_url(), "demo emulator running");
            (client, Some(emu))
        }
    };
    let settings = Settings {
        ttl: r.ttl,
        cache_size: r.cache_size as usize,
        read_only: r.read_only,
        uid: r.uid,
        gid: r.gid,
        cache_dir: cache_dir.to_path_buf(),
        max_in_flight: 8,
    };
    let core = Arc::new(FsCore::new(client, settings).map_err(|e| CliError::Mount(e.to_string()))?);
    // Before the journal is opened: a live mount on the same cache dir refuses this one.
    // Read-only mounts serve it too (status shows their cache and API use).
    let control = {
        let _rt = rt.enter();
        match ControlServer::start(core.clone(), cache_dir, mountpoint) {
            Ok(c) => Some(c),
            Err(e @ ServeError::InUse(_)) => return Err(CliError::Mount(e.to_string())),
            Err(e) => {
                tracing::warn!("{e}; notionfs status and sync cannot reach this mount");
                None
            }
        }
    };
    let writer = if !r.read_only {
        let w = core
            .enable_writes(&cache_dir.join("journal"), r.write_delay)
            .map_err(|e| CliError::Mount(format!("cannot open the journal: {e}")))?;
        // Replay what a previous run accepted but did not push (crash, kill -9).
        let replay = w.clone();
        rt.spawn(async move { replay.flush_all().await });
        let uploads = core.clone();
        rt.spawn(async move { uploads.replay_uploads() });
        Some(w)
    } else {
        None
    };
    let cfg = MountConfig {
        allow_other: r.allow_other,
        read_only: r.read_only,
        threads: 4,
        kernel_ttl: r.ttl.min(Duration::from_secs(1)),
    };
    let core_ref = core.clone();
    let mounted = fuse::mount(core, rt.handle().clone(), mountpoint, &cfg).map_err(|e| {
        if e.raw_os_error() == Some(libc::EBUSY) {
            CliError::Busy(mountpoint.to_path_buf())
        } else {
            CliError::Mount(e.to_string())
        }
    });
    let mut session = match mounted {
        Ok(s) => s,
        Err(e) => {
            if let Some(c) = control {
                c.shutdown();
            }
            return Err(e);
        }
    };
    tracing::info!(mountpoint = %mountpoint.display(), "mounted; unmount with fusermount3 -u or Ctrl-C");
    report(status_fd, true);
    let mut unmounter = session.unmount_callable();
    rt.spawn(async move {
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        let Ok(mut term) = term else { return };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("signal received: unmounting");
        if let Err(e) = unmounter.unmount() {
            tracing::error!(error = %e, "unmount failed");
        }
    });
    let served = session.run();
    tracing::info!("unmounted");
    if let Some(w) = writer {
        // Push what is pending, within a bounded wait; the journal keeps the rest.
        let flushed = rt.block_on(async {
            let both = futures::future::join(w.flush_all(), core_ref.uploads_idle());
            tokio::time::timeout(UNMOUNT_PUSH_WAIT, both).await
        });
        if flushed.is_err() || w.journal().pending_count() > 0 {
            tracing::warn!(
                pending = w.journal().pending_count(),
                "unmounted with saves not in Notion yet; the next mount pushes them"
            );
        }
    }
    if let Some(c) = control {
        c.shutdown();
    }
    if let Some(emu) = emulator {
        rt.block_on(emu.shutdown());
    }
    rt.shutdown_timeout(Duration::from_secs(2));
    served.map_err(|e| CliError::Mount(e.to_string()))
}

/// Longest wait at unmount for pending saves to reach Notion.
const UNMOUNT_PUSH_WAIT: Duration = Duration::from_secs(10);

fn real_env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

/// `notionfs mount`: checks the token, mounts, serves until unmounted.
pub fn run_mount(args: MountArgs) -> Result<(), CliError> {
    let r = resolve(
        args.token_file.as_deref(),
        args.api_url.as_deref(),
        &args.fs,
        &real_env,
        config_path().as_deref(),
    )?;
    let token = load_token(&r, &real_env)?;
    let url = r.api_url.clone();
    serve(Backend::Api { url, token }, r, &args.fs, &args.mountpoint)
}

/// `notionfs demo`: starts the emulator with the demo workspace in this process and mounts
/// it (no client rate limit unless `--rate` is given).
pub fn run_demo(args: DemoArgs) -> Result<(), CliError> {
    let mut r = resolve(None, None, &args.fs, &|_| None, None)?;
    if args.fs.rate.is_none() {
        r.rate = None;
    }
    if args.fs.cache_dir.is_none() {
        r.cache_dir = Some(default_cache_dir("demo"));
    }
    serve(Backend::Demo, r, &args.fs, &args.mountpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> FsOptions {
        FsOptions::default()
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256M").unwrap(), 256 << 20);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn precedence_flags_env_file_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(
            &cfg,
            "ttl = 5\nrate = 2.5\napi_url = \"http://file\"\ncache_size = \"1M\"\n",
        )
        .unwrap();
        let env = |k: &str| (k == "NOTION_API_URL").then(|| "http://env".to_string());
        let r = resolve(None, None, &opts(), &env, Some(&cfg)).unwrap();
        assert_eq!(r.ttl, Duration::from_secs(5));
        assert_eq!(r.rate, Some(2.5));
        assert_eq!(r.api_url, "http://env");
        assert_eq!(r.cache_size, 1 << 20);
        let mut o = opts();
        o.options = vec!["ttl=7,read_only,rw,noatime".into()];
        o.rate = Some(9.0);
        let r = resolve(None, Some("http://flag"), &o, &env, Some(&cfg)).unwrap();
        assert_eq!(r.ttl, Duration::from_secs(7));
        assert_eq!(r.rate, Some(9.0));
        assert_eq!(r.api_url, "http://flag");
        assert!(r.read_only);
        let r = resolve(None, None, &opts(), &|_| None, None).unwrap();
        assert_eq!(r.ttl, Duration::from_secs(30));
        assert_eq!(r.rate, Some(3.0));
        assert_eq!(r.api_url, "https://api.notion.com");
    }

    #[test]
    fn token_sources_and_errors() {
        let r = resolve(None, None, &opts(), &|_| None, None).unwrap();
        let e = load_token(&r, &|_| None).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("NOTION_TOKEN"));
        let t = load_token(&r, &|k| (k == "NOTION_TOKEN").then(|| "secret_x".into())).unwrap();
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        let mut o = opts();
        o.options = vec!["token=abc".into()];
        let e = resolve(None, None, &o, &|_| None, None).unwrap_err();
        assert!(!e.to_string().contains("abc"));
        let mut o = opts();
        o.options = vec!["bogus=1".into()];
        assert!(resolve(None, None, &o, &|_| None, None).is_err());
    }
}
