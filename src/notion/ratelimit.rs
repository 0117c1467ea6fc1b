//! A token bucket shared by every request of a client, plus a shared pause for `Retry-After`.
//!
//! Notion allows "an average of three requests per second" with some bursts. Staying under it
//! on our own is cheaper than collecting 429s, so every request first takes a token here.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Average rate and burst of a [`RateLimiter`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Requests per second on average.
    pub per_second: f64,
    /// Requests that may go at once after a quiet spell.
    pub burst: u32,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    paused_until: Option<Instant>,
}

/// Token bucket; `None` rate means unlimited (the in-process demo emulator).
#[derive(Debug)]
pub struct RateLimiter {
    rate: Option<Rate>,
    bucket: Mutex<Bucket>,
}

impl RateLimiter {
    /// A limiter at `rate`, starting with a full burst.
    pub fn new(rate: Option<Rate>) -> Self {
        let tokens = rate.map(|r| r.burst.max(1) as f64).unwrap_or(0.0);
        RateLimiter {
            rate,
            bucket: Mutex::new(Bucket {
                tokens,
                last: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// The configured rate.
    pub fn rate(&self) -> Option<Rate> {
        self.rate
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut b = self.bucket.lock().await;
                let now = Instant::now();
                if let Some(until) = b.paused_until {
                    if until > now {
                        Some(until - now)
                    } else {
                        b.paused_until = None;
                        None
                    }
                } else {
                    None
                }
                .or_else(|| {
                    let r = self.rate?;
                    let capacity = r.burst.max(1) as f64;
                    let elapsed = now.duration_since(b.last).as_secs_f64();
                    b.tokens = (b.tokens + elapsed * r.per_second).min(capacity);
                    b.last = now;
                    if b.tokens >= 1.0 {
                        b.tokens -= 1.0;
                        None
                    } else {
                        Some(Duration::from_secs_f64((1.0 - b.tokens) / r.per_second))
                    }
                })
            };
            match wait {
                None => return,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
    }

    /// Holds every request back for `d` (after a 429 with `Retry-After`; the client caps
    /// it). A duration past what the clock can hold is cut to a day, never an overflow.
    pub async fn pause_for(&self, d: Duration) {
        let mut b = self.bucket.lock().await;
        let now = Instant::now();
        let until = now
            .checked_add(d)
            .unwrap_or_else(|| now + Duration::from_secs(86_400));
        if b.paused_until.is_none_or(|u| u < until) {
            b.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_allows_burst_then_paces_to_the_rate() {
        let l = RateLimiter::new(Some(Rate {
            per_second: 3.0,
            burst: 3,
        }));
        let start = Instant::now();
        for _ in 0..3 {
            l.acquire().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(10),
            "burst is immediate"
        );
        for _ in 0..6 {
            l.acquire().await;
        }
        let secs = start.elapsed().as_secs_f64();
        assert!(
            (1.9..2.2).contains(&secs),
            "6 more at 3/s take ~2 s, took {secs}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_pause_does_not_overflow() {
        let l = RateLimiter::new(None);
        l.pause_for(Duration::MAX).await;
        l.pause_for(Duration::from_secs(u64::MAX / 2)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn pause_holds_everyone_back() {
        let l = RateLimiter::new(None);
        l.pause_for(Duration::from_secs(2)).await;
        let start = Instant::now();
        l.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(2));
    }
}
