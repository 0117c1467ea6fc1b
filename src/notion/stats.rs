//! Counters of API calls per endpoint, retries and rate-limit answers.
//!
//! Notion's rate limit makes every call the real cost of an operation, so the program counts
//! them: tests assert exact counts, `notionfs status` shows them, benchmarks compare them with
//! the theoretical minimum.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

/// A copy of the counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    /// Requests sent (each attempt counts), by route template, e.g. `GET /v1/pages/{id}`.
    pub calls: BTreeMap<String, u64>,
    /// Attempts repeated after a transient failure.
    pub retries: u64,
    /// 429 / 529 answers received.
    pub rate_limited: u64,
    /// 5xx answers received.
    pub server_errors: u64,
}

impl StatsSnapshot {
    /// Total requests sent.
    pub fn total(&self) -> u64 {
        self.calls.values().sum()
    }

    /// Requests sent to one route template (0 if none).
    pub fn count(&self, endpoint: &str) -> u64 {
        self.calls.get(endpoint).copied().unwrap_or(0)
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &StatsSnapshot) -> StatsSnapshot {
        let calls = self
            .calls
            .iter()
            .map(|(k, v)| (k.clone(), v - earlier.count(k)))
            .filter(|(_, v)| *v > 0)
            .collect();
        StatsSnapshot {
            calls,
            retries: self.retries - earlier.retries,
            rate_limited: self.rate_limited - earlier.rate_limited,
            server_errors: self.server_errors - earlier.server_errors,
        }
    }
}

/// Live counters, shared by every clone of a client.
#[derive(Debug, Default)]
pub struct Stats {
    inner: Mutex<StatsSnapshot>,
}

impl Stats {
    fn with<R>(&self, f: impl FnOnce(&mut StatsSnapshot) -> R) -> R {
        // A poisoned lock only means a panic elsewhere mid-increment; the counts stay usable.
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    /// Counts one request sent to `endpoint`.
    pub fn call(&self, endpoint: &str) {
        self.with(|s| *s.calls.entry(endpoint.to_string()).or_default() += 1);
    }

    /// Counts one retry.
    pub fn retry(&self) {
        self.with(|s| s.retries += 1);
    }

    /// Counts one 429/529.
    pub fn rate_limited(&self) {
        self.with(|s| s.rate_limited += 1);
    }

    /// Counts one 5xx.
    pub fn server_error(&self) {
        self.with(|s| s.server_errors += 1);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        self.with(|s| s.clone())
    }
}
