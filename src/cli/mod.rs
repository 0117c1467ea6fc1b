//! The command line of the mount: `notionfs mount` and `notionfs demo` (their arguments and
//! errors), the settings they resolve ([`settings`]), the `notionfs status` / `notionfs
//! sync` client with its text rendering ([`status`]), and `notionfs prefetch`
//! ([`prefetch`]). Running a mount is [`crate::daemon`]'s
//! job.

pub mod prefetch;
pub mod settings;
pub mod status;

use std::path::PathBuf;

use clap::ArgAction;

use crate::daemon::{self, Backend};

/// Options shared by `mount` and `demo`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FsOptions {
    /// Seconds between two polls of Notion's change feed [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub ttl: Option<f64>,
    /// Seconds between two checks of one folder in use for what the feed cannot see
    /// (remote trash, unsharing) [default: 300; 0: never].
    #[arg(long, value_name = "SECONDS")]
    pub reconcile: Option<f64>,
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
    /// With --read-only: the kernel opens files and directories without asking the mount,
    /// so warm reads and listings make no round trip; a lookup or stat(2) of a page never
    /// read (or changed since) loads it (see notionfs(1)).
    #[arg(long)]
    pub no_open: bool,
    /// Let other users see the mount (needs user_allow_other in /etc/fuse.conf).
    #[arg(long)]
    pub allow_other: bool,
    /// Read every page into the disk cache in the background once mounted (as
    /// `notionfs prefetch` of the whole mount; `notionfs status` shows its progress).
    #[arg(long)]
    pub prefetch: bool,
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

fn real_env(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

extern "C" {
    /// The C library's environment (`environ(7)`).
    static mut environ: *mut *mut libc::c_char;
}

/// Takes `NOTION_TOKEN` out of this process's environment once the token was read: child
/// processes (fusermount3) do not inherit it, and its value is wiped from the bytes
/// `/proc/PID/environ` shows. Call while the process is single-threaded (before any runtime
/// starts): nothing else reads the environment meanwhile.
fn scrub_token_env() {
    const NAME: &[u8] = b"NOTION_TOKEN=";
    // SAFETY: single-threaded (see above). `environ` is a NULL-terminated array of pointers
    // to NUL-terminated strings; the value bytes of the matching entry are overwritten in
    // place, within that string's length, before the entry is removed from the array.
    unsafe {
        let mut p = environ;
        while !p.is_null() && !(*p).is_null() {
            let s = std::ffi::CStr::from_ptr(*p).to_bytes();
            if s.starts_with(NAME) {
                std::ptr::write_bytes((*p).add(NAME.len()), 0, s.len() - NAME.len());
            }
            p = p.add(1);
        }
    }
    std::env::remove_var("NOTION_TOKEN");
}

/// `notionfs mount`: checks the token, mounts, serves until unmounted.
pub fn run_mount(args: MountArgs) -> Result<(), CliError> {
    let r = settings::resolve(
        args.token_file.as_deref(),
        args.api_url.as_deref(),
        &args.fs,
        &real_env,
        settings::config_path().as_deref(),
    )?;
    let token = settings::load_token(&r, &real_env)?;
    scrub_token_env();
    let url = r.api_url.clone();
    daemon::serve(Backend::Api { url, token }, r, &args.mountpoint)
}

/// `notionfs demo`: starts the emulator with the demo workspace in this process and mounts
/// it (no client rate limit unless `--rate` is given).
pub fn run_demo(args: DemoArgs) -> Result<(), CliError> {
    let mut r = settings::resolve(None, None, &args.fs, &|_| None, None)?;
    if args.fs.rate.is_none() {
        r.rate = None;
    }
    if args.fs.cache_dir.is_none() {
        r.cache_dir = Some(settings::default_cache_dir("demo"));
    }
    daemon::serve(Backend::Demo, r, &args.mountpoint)
}
