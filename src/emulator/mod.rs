//! The Notion API emulator: an in-memory workspace served over HTTP on 127.0.0.1.
//!
//! It follows the Notion API reference (version `2025-09-03`) to the letter — shapes,
//! pagination, limits, error codes and rate limits — so that the notionfs client can be tested
//! without a network and nothing works only because the emulator is lenient.
//!
//! ```no_run
//! # async fn demo() -> Result<(), notionfs::emulator::EmulatorError> {
//! use notionfs::emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! println!("{} {}", emu.base_url(), emu.token());
//! let calls = emu.control().stats();
//! # let _ = calls; Ok(()) }
//! ```
//!
//! Decisions where the reference is silent or ambiguous (kept easy to change):
//! - Search takes `filter: {"property": "object", "value": "page" | "data_source"}` and
//!   `sort: {"timestamp": "last_edited_time", "direction"}`; search and query lists have
//!   `type: "page_or_data_source"`.
//! - Cursors are the id of the next item (opaque to clients); property-item cursors are
//!   short opaque strings. `page_size` outside 1..=100 is a `validation_error`.
//! - Error, list and file upload bodies carry a `request_id`.
//! - "Two levels of nesting" per request: the request's top-level blocks may have children
//!   and grandchildren, no deeper (the reference's column_list example uses exactly that).
//!   500 KB = 500 000 bytes.
//! - Updating a trashed block is 404 (/reference/update-a-block) unless it restores it with
//!   `in_trash: false`; updating a trashed page or database is a `validation_error`.
//! - select / multi_select options are created on write; status options must exist.
//! - The emulator is an internal integration: pages and databases need a page (or data
//!   source) parent; `Notion-Version` older than `2025-09-03` is refused rather than served
//!   in the wrong shapes. `mode: "external_url"` uploads are refused.
//! - Notion-hosted files are served at `/_files/<token>/<name>`; after `expiry_time` the URL
//!   answers 403 with an S3-like XML body.
//! - Lists (search, data source queries, block children) order and paginate ids first and
//!   render only the page they return, so paging through a 10,000-page workspace costs time
//!   linear in its size. Search leaves out trashed pages and data sources.
//!
//! Workspaces: the demo ([`demo`], the default), a JSON seed file ([`seed`]), or a generated
//! realistic team workspace of any size ([`generate`]):
//!
//! ```no_run
//! # async fn large() -> Result<(), notionfs::emulator::EmulatorError> {
//! use notionfs::emulator::{generate, Emulator, EmulatorConfig};
//! let seed = generate::large_workspace(5_000, 1); // 5,000 pages, about 1,000 of them rows
//! let emu = Emulator::start(EmulatorConfig { seed, ..EmulatorConfig::default() }).await?;
//! # let _ = emu; Ok(()) }
//! ```
//!
//! From the command line: `notionfs emulator --generate 5000 [--generate-seed 1]`.
//!
//! Modules: [`store`] (workspace state and rendering), [`handlers`] (the `/v1` routes),
//! [`validate`] (request limits), [`props`] (schemas and property values), [`query`]
//! (filters and sorts), [`files`] (uploads and signed file URLs), [`seed`] (fixture format),
//! [`demo`] (the built-in demo workspace), [`generate`] (generated large workspaces),
//! [`control`] (stats, faults, remote edits), [`cli`].

pub mod cli;
pub mod control;
pub mod demo;
pub mod files;
pub mod generate;
pub mod handlers;
pub mod props;
pub mod query;
pub mod seed;
pub mod store;
pub mod util;
pub mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

pub use control::{Control, Faults};
pub use seed::Seed;

/// The documented default token of the emulator (`notionfs demo` and tests use it).
pub const DEMO_TOKEN: &str = "secret_notionfs_demo_token";

/// Errors starting or seeding the emulator.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// Binding or serving failed.
    #[error("emulator I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The seed fixture is invalid.
    #[error("invalid seed: {0}")]
    Seed(String),
    /// A control operation referenced something that does not exist or was invalid.
    #[error("emulator control error: {0}")]
    Control(String),
}

/// How to run the emulator.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Bearer token clients must send.
    pub token: String,
    /// Token-bucket rate in requests per second (`None` = unlimited).
    pub rate: Option<f64>,
    /// Bucket size (burst) for the rate limit.
    pub burst: u32,
    /// Probability (0..1) that a `/v1` request fails with a random 5xx before any change.
    pub fault_rate: f64,
    /// Delay added to every `/v1` response.
    pub latency_ms: u64,
    /// TCP port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// Initial workspace.
    pub seed: Seed,
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("token", &"<redacted>")
            .field("rate", &self.rate)
            .field("burst", &self.burst)
            .field("fault_rate", &self.fault_rate)
            .field("latency_ms", &self.latency_ms)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            token: DEMO_TOKEN.to_string(),
            rate: None,
            burst: 10,
            fault_rate: 0.0,
            latency_ms: 0,
            port: 0,
            seed: demo::demo_workspace(),
        }
    }
}

/// Token bucket state.
#[derive(Debug)]
pub(crate) struct Bucket {
    pub tokens: f64,
    pub last: Instant,
}

/// State shared by all handlers and the [`Control`] handle.
pub(crate) struct Shared {
    pub store: Mutex<store::Store>,
    pub token: String,
    pub stats: Mutex<BTreeMap<String, u64>>,
    pub faults: Mutex<Faults>,
    /// Probability that a write is carried out but answered with a 5xx (f64 bits).
    pub lost_responses: std::sync::atomic::AtomicU64,
    pub bucket: Mutex<Bucket>,
    /// `/v1` requests received and not answered yet.
    pub in_flight: std::sync::atomic::AtomicUsize,
}

impl Shared {
    /// Locks the store (a poisoned lock is still usable: every mutation is validated first).
    pub fn store(&self) -> MutexGuard<'_, store::Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running emulator; shuts down on drop or [`Emulator::shutdown`].
pub struct Emulator {
    addr: SocketAddr,
    token: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Runtime owned by [`Emulator::start_blocking`] (kept alive while the server runs).
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Loads the seed, binds 127.0.0.1:`port` and starts serving in the current runtime.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let mut st = seed::load(&config.seed).map_err(EmulatorError::Seed)?;
        st.files.base_url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            store: Mutex::new(st),
            token: config.token.clone(),
            stats: Mutex::new(BTreeMap::new()),
            faults: Mutex::new(Faults {
                rate: config.rate,
                burst: config.burst,
                fault_rate: config.fault_rate,
                latency_ms: config.latency_ms,
            }),
            bucket: Mutex::new(Bucket {
                tokens: config.burst as f64,
                last: Instant::now(),
            }),
            lost_responses: std::sync::atomic::AtomicU64::new(0f64.to_bits()),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
        });
        let app = handlers::router(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("emulator server stopped: {e}");
            }
        });
        Ok(Emulator {
            addr,
            token: config.token,
            shared,
            stop: Some(tx),
            task: Some(task),
            runtime: None,
        })
    }

    /// Starts the emulator on its own tokio runtime (for plain, non-async tests). Must not be
    /// called from inside an async runtime; the runtime stops when the emulator is dropped.
    pub fn start_blocking(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("notionfs-emulator")
            .build()?;
        let mut emu = rt.block_on(Self::start(config))?;
        emu.runtime = Some(rt);
        Ok(emu)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token clients must use.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A cloneable handle for stats, faults, remote edits and raw object access.
    pub fn control(&self) -> Control {
        Control::new(self.shared.clone())
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
