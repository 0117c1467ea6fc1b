//! Keeping the daemon's resident memory near what it holds. With glibc's allocator, memory
//! freed after a burst (a crawl, JSON answers of a full read) stays mapped, spread over one
//! arena per thread that ever allocated: the process keeps its high-water mark although the
//! caches are bounded. The daemon limits the arenas and gives free memory back every
//! [`TRIM_EVERY`]. Elsewhere (other C libraries) this does nothing.

use std::time::Duration;

/// How often free memory is given back to the system.
pub const TRIM_EVERY: Duration = Duration::from_secs(20);

/// Most malloc arenas (glibc's default is eight per core).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 2;

/// Limits the allocator's arenas; call before threads start.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before other threads run.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}

/// Gives free heap memory back to the system (blocking; a few milliseconds).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim walks the allocator's own free lists; no memory of ours is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Trims every [`TRIM_EVERY`] on `rt`, for as long as the runtime lives.
pub fn start_trimming(rt: &tokio::runtime::Runtime) {
    rt.spawn(async {
        let mut every = tokio::time::interval(TRIM_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let _ = tokio::task::spawn_blocking(trim).await;
        }
    });
}
