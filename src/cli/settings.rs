//! Settings of `notionfs mount` / `demo`, resolved highest first: command-line flags (and
//! `-o` options, which take the same settings so `mount -t fuse.notionfs` and fstab work),
//! the environment (`NOTION_TOKEN`, `NOTION_API_URL`), `$XDG_CONFIG_HOME/notionfs/config.toml`,
//! defaults. The token is read from `NOTION_TOKEN` or a file, never from argv, and never
//! printed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{CliError, FsOptions};
use crate::notion::Token;

/// Default metadata freshness.
pub const DEFAULT_TTL_SECS: f64 = 30.0;
/// Default seconds between two reconciles of a folder in use.
pub const DEFAULT_RECONCILE_SECS: f64 = 300.0;
/// Default client rate limit (Notion's documented average).
pub const DEFAULT_RATE: f64 = 3.0;
/// Default memory for rendered bodies.
pub const DEFAULT_CACHE_SIZE: u64 = 256 << 20;
/// Default quiet period before pushing writes.
pub const DEFAULT_WRITE_DELAY_MS: u64 = 1000;
/// `config.toml` keys (the same names as the long options, with `_`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    token_file: Option<PathBuf>,
    api_url: Option<String>,
    ttl: Option<f64>,
    reconcile: Option<f64>,
    rate: Option<f64>,
    cache_size: Option<toml::Value>,
    cache_dir: Option<PathBuf>,
    read_only: Option<bool>,
    no_open: Option<bool>,
    allow_other: Option<bool>,
    prefetch: Option<bool>,
    uid: Option<u32>,
    gid: Option<u32>,
    write_delay: Option<u64>,
}

/// Every setting after precedence was applied.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Where the token comes from (`None`: the `NOTION_TOKEN` environment variable).
    pub token_file: Option<PathBuf>,
    /// Base URL of the Notion API (`--api-url`, `NOTION_API_URL`; default api.notion.com).
    pub api_url: String,
    /// How often the change feed polls Notion (`--ttl`).
    pub ttl: Duration,
    /// How often one folder in use is reconciled with Notion (`--reconcile`; zero: never).
    pub reconcile: Duration,
    /// The client's average request rate per second (`--rate`); `None`: unlimited (demo).
    pub rate: Option<f64>,
    /// Bytes of rendered page bodies kept in memory (`--cache-size`).
    pub cache_size: u64,
    /// Local cache, journal and control socket directory (`--cache-dir`), if given; else
    /// the default per workspace (see [`default_cache_dir`]).
    pub cache_dir: Option<PathBuf>,
    /// Refuse every write with EROFS; modes 0444 / 0555 (`--read-only`, `-o ro`).
    pub read_only: bool,
    /// The kernel opens files without asking the mount (`--no-open`, `-o no_open`; only
    /// with `read_only`): see `crate::fuse::MountConfig::no_open`.
    pub no_open: bool,
    /// Let other users see the mount (`--allow-other`; needs `user_allow_other`).
    pub allow_other: bool,
    /// Read every page into the disk cache in the background once mounted, as
    /// `notionfs prefetch` of the whole mount does (`--prefetch`, `-o prefetch`).
    pub prefetch: bool,
    /// Owner of every entry (`--uid`; default the mounting user).
    pub uid: u32,
    /// Group of every entry (`--gid`; default the mounting user's group).
    pub gid: u32,
    /// Quiet period after the last save of a page before it is pushed (`--write-delay`).
    pub write_delay: Duration,
    /// Detach once mounted (`-d`, or `-o daemon` for mount(8) and fstab).
    pub daemon: bool,
    /// The log filter's level for notionfs (`-v`/`-q`; `RUST_LOG` overrides it).
    pub log_level: &'static str,
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
                "reconcile" => r.reconcile = secs(parse_num("reconcile", &need(v)?)?)?,
                "rate" => r.rate = Some(parse_num("rate", &need(v)?)?),
                "cache_size" => r.cache_size = parse_size(&need(v)?)?,
                "cache_dir" => r.cache_dir = Some(PathBuf::from(need(v)?)),
                "read_only" | "ro" => r.read_only = true,
                "no_open" => r.no_open = true,
                "allow_other" => r.allow_other = true,
                "prefetch" => r.prefetch = true,
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
            "{s} must be a number of seconds ≥ 0"
        )))
    }
}

pub fn config_path() -> Option<PathBuf> {
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
        reconcile: Duration::from_secs_f64(DEFAULT_RECONCILE_SECS),
        rate: Some(DEFAULT_RATE),
        cache_size: DEFAULT_CACHE_SIZE,
        cache_dir: None,
        read_only: false,
        no_open: false,
        allow_other: false,
        prefetch: false,
        uid,
        gid,
        write_delay: Duration::from_millis(DEFAULT_WRITE_DELAY_MS),
        daemon: false,
        log_level: log_level(fs.verbose, fs.quiet),
    };
    apply_file(&mut r, file)?;
    apply_env(&mut r, env);
    apply_flags(&mut r, token_file, api_url, fs)?;
    if r.no_open && !r.read_only {
        return Err(CliError::Invalid(
            "--no-open needs --read-only: a writable mount needs each open (a save starts \
             from the content it serves, and is journaled when the file is closed)"
                .into(),
        ));
    }
    if let Some(rate) = r.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(CliError::Invalid(format!("rate {rate} must be > 0")));
        }
    }
    Ok(r)
}

/// Settings from `config.toml`.
fn apply_file(r: &mut Resolved, file: FileConfig) -> Result<(), CliError> {
    if let Some(v) = file.token_file {
        r.token_file = Some(v);
    }
    if let Some(v) = file.api_url {
        r.api_url = v;
    }
    if let Some(v) = file.ttl {
        r.ttl = secs(v)?;
    }
    if let Some(v) = file.reconcile {
        r.reconcile = secs(v)?;
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
    r.no_open |= file.no_open.unwrap_or(false);
    r.allow_other |= file.allow_other.unwrap_or(false);
    r.prefetch |= file.prefetch.unwrap_or(false);
    if let Some(v) = file.uid {
        r.uid = v;
    }
    if let Some(v) = file.gid {
        r.gid = v;
    }
    if let Some(v) = file.write_delay {
        r.write_delay = Duration::from_millis(v);
    }
    Ok(())
}

/// Settings from the environment (`NOTION_TOKEN`'s presence, `NOTION_API_URL`).
fn apply_env(r: &mut Resolved, env: &dyn Fn(&str) -> Option<String>) {
    if env("NOTION_TOKEN").is_some_and(|t| !t.trim().is_empty()) {
        // The environment's token beats a token file named only in the config file.
        r.token_file = None;
    }
    if let Some(v) = env("NOTION_API_URL").filter(|v| !v.is_empty()) {
        r.api_url = v;
    }
}

/// Settings from the command line: `-o` options first, then the long options.
fn apply_flags(
    r: &mut Resolved,
    token_file: Option<&Path>,
    api_url: Option<&str>,
    fs: &FsOptions,
) -> Result<(), CliError> {
    apply_o(r, &fs.options)?;
    if let Some(v) = token_file {
        r.token_file = Some(v.to_path_buf());
    }
    if let Some(v) = api_url {
        r.api_url = v.to_string();
    }
    if let Some(v) = fs.ttl {
        r.ttl = secs(v)?;
    }
    if let Some(v) = fs.reconcile {
        r.reconcile = secs(v)?;
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
    r.no_open |= fs.no_open;
    r.allow_other |= fs.allow_other;
    r.prefetch |= fs.prefetch;
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
    Ok(())
}

/// The level of notionfs's own log lines for `-v` / `-q` counts.
fn log_level(verbose: u8, quiet: u8) -> &'static str {
    match (verbose, quiet) {
        (0, 0) => "info",
        (1, _) => "debug",
        (v, _) if v >= 2 => "trace",
        (_, 1) => "warn",
        _ => "error",
    }
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
/// The default cache dir of a workspace: `$XDG_CACHE_HOME/notionfs/NAME`.
pub fn default_cache_dir(name: &str) -> PathBuf {
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
        o.options = vec!["ttl=7,read_only,rw,noatime,prefetch".into()];
        o.rate = Some(9.0);
        let r = resolve(None, Some("http://flag"), &o, &env, Some(&cfg)).unwrap();
        assert_eq!(r.ttl, Duration::from_secs(7));
        assert_eq!(r.rate, Some(9.0));
        assert_eq!(r.api_url, "http://flag");
        assert!(r.read_only);
        assert!(r.prefetch);
        assert!(!r.no_open);
        let mut o = opts();
        o.options = vec!["ro,no_open".into()];
        assert!(resolve(None, None, &o, &env, None).unwrap().no_open);
        let mut o = opts();
        o.no_open = true;
        let e = resolve(None, None, &o, &env, None).unwrap_err();
        assert!(e.to_string().contains("--no-open needs --read-only"), "{e}");
        let r = resolve(None, None, &opts(), &|_| None, None).unwrap();
        assert!(!r.prefetch);
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
