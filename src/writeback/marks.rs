//! When this mount last wrote each page: a copy of a page read from Notion before a write
//! of this mount ended may predate it, and must not replace what the write left known.
//!
//! Notion rounds `last_edited_time` down to the minute, so the copy itself cannot tell: a
//! search page the feed asked for just before a row's update was answered holds the row's
//! previous values with the same edit time. Whoever applies a copy read from Notion asks
//! [`WriteMarks::copy_of`] with the time the request for it was sent: a copy that may
//! predate a write is left for the next poll (the page's edit is recent: that poll reads it
//! again); a search result asked for just after a write is read again directly.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long after a write ended a search result is still not trusted over it: search
/// indexes with a lag, so a search sent just after the write may still answer the page as
/// it was before.
pub const SEARCH_LAG: Duration = Duration::from_secs(2);

/// Marks older than this (and not in flight) are dropped when the table grows.
const KEEP: Duration = Duration::from_secs(600);

/// Past this many marks, old ones are swept.
const SWEEP_AT: usize = 1024;

#[derive(Debug)]
struct Mark {
    /// Writes of the page under way.
    in_flight: u32,
    /// When the last one ended.
    last_end: Instant,
}

/// The table of marks (one per mount, in the [`super::Writer`]).
#[derive(Debug, Default)]
pub struct WriteMarks {
    marks: Mutex<HashMap<String, Mark>>,
}

/// A write of one page under way; its end is noted when dropped (answered, failed or
/// cancelled alike: a request that was sent may have reached Notion).
pub struct Writing<'a> {
    marks: &'a WriteMarks,
    page: String,
}

impl WriteMarks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Mark>> {
        self.marks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes that a write of `page` begins; it ends when the guard is dropped.
    pub fn begin(&self, page: &str) -> Writing<'_> {
        let mut m = self.lock();
        if m.len() > SWEEP_AT {
            let now = Instant::now();
            m.retain(|_, k| k.in_flight > 0 || now.duration_since(k.last_end) < KEEP);
        }
        m.entry(page.to_string())
            .or_insert(Mark {
                in_flight: 0,
                last_end: Instant::now(),
            })
            .in_flight += 1;
        Writing {
            marks: self,
            page: page.to_string(),
        }
    }

    /// How a copy of `page` asked for at `asked` stands to this mount's writes of it.
    pub fn copy_of(&self, page: &str, asked: Instant) -> Standing {
        match self.lock().get(page) {
            Some(k) if k.in_flight > 0 || k.last_end >= asked => Standing::Predates,
            Some(k) if k.last_end + SEARCH_LAG >= asked => Standing::Lately,
            _ => Standing::Clear,
        }
    }
}

/// See [`WriteMarks::copy_of`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Asked for while a write was under way, or before one ended: it may hold the page as
    /// it was before.
    Predates,
    /// Asked for after a write ended, but within [`SEARCH_LAG`]: a direct read is current,
    /// a search result may not be yet.
    Lately,
    /// Asked for after every write of the page, or the page was not written.
    Clear,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        let mut m = self.marks.lock();
        if let Some(k) = m.get_mut(&self.page) {
            k.in_flight = k.in_flight.saturating_sub(1);
            k.last_end = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_asked_for_during_or_just_before_a_write_is_not_trusted() {
        let marks = WriteMarks::default();
        let before = Instant::now()
            .checked_sub(Duration::from_secs(60))
            .expect("a minute of uptime");
        assert_eq!(marks.copy_of("p", before), Standing::Clear, "never written");
        let w = marks.begin("p");
        assert_eq!(
            marks.copy_of("p", Instant::now()),
            Standing::Predates,
            "under way"
        );
        drop(w);
        assert_eq!(
            marks.copy_of("p", before),
            Standing::Predates,
            "asked before it ended"
        );
        assert_eq!(marks.copy_of("q", before), Standing::Clear, "another page");
        let just_after = Instant::now() + Duration::from_millis(1);
        assert_eq!(marks.copy_of("p", just_after), Standing::Lately);
        let later = Instant::now() + SEARCH_LAG + Duration::from_millis(1);
        assert_eq!(
            marks.copy_of("p", later),
            Standing::Clear,
            "asked after it ended"
        );
    }

    #[test]
    fn two_writes_at_once_end_when_both_have() {
        let marks = WriteMarks::default();
        let a = marks.begin("p");
        let b = marks.begin("p");
        drop(a);
        let far = Instant::now() + Duration::from_secs(3600);
        assert_eq!(
            marks.copy_of("p", far),
            Standing::Predates,
            "one still under way"
        );
        drop(b);
        assert_eq!(marks.copy_of("p", far), Standing::Clear);
    }
}
