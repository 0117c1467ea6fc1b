//! Why a push did not write, and what happens next (see notionfs(1), WRITES).
//!
//! A push that fails leaves its record in the journal (with the reason beside it, see
//! [`Journal::mark_failed`](crate::sync::Journal::mark_failed)) and is classified from the typed errors ([`PushError`],
//! [`ApiError`]):
//! - *transient* (5xx, 429 past the client's own retries, 409, transport errors, an
//!   unexpected response, a block gone while writing, a push that stopped part way): tried
//!   again on a timer with exponential backoff and jitter (1 s, 2 s, 4 s, … capped at 60 s)
//!   until it goes through; the file shows `pending` meanwhile (nothing is asked of the
//!   user), the log says why.
//! - *refused* (the content cannot be carried out: [`DiffError`](crate::sync::DiffError),
//!   Notion's 400 validation errors, a request over an API limit, not UTF-8 text, binary
//!   data, the page gone or not shared): the file shows `failed: REASON` and the record waits
//!   for the user's next save (or the next mount).
//!
//! A push that stopped part way may have written some of its operations (and a write that
//! got a 5xx may have happened), so the base in memory no longer describes Notion. Before the
//! next attempt the page is read again and the content that was being pushed is folded into
//! the old base ([`absorb`](crate::sync::absorb)): what Notion already holds of it counts as done, so the retry
//! neither duplicates nor loses blocks, and edits made in Notion meanwhile still merge or
//! conflict as usual.

use std::time::Duration;

use rand::Rng;

use crate::notion::ApiError;
use crate::sync::PushError;

/// First wait before retrying a transiently failed push; it doubles on each failure.
pub(super) const FIRST_RETRY: Duration = Duration::from_secs(1);
/// Longest wait between two attempts.
pub(super) const MAX_RETRY: Duration = Duration::from_secs(60);

/// Why a push did not write.
#[derive(Debug)]
pub(super) enum Failure {
    /// Both sides changed these many blocks.
    Conflict(usize),
    /// May pass by itself: retried after a backoff (the reason is logged and journaled).
    Transient(String),
    /// Cannot pass without a new save (the reason shown in `failed: REASON`).
    Refused(String),
}

/// Sorts a push error into retried or refused, by its type and HTTP status.
pub(super) fn classify(e: PushError) -> Failure {
    let transient = match &e {
        PushError::Refused(_) => false,
        // The page itself is gone, not shared, or the token is refused: no use retrying.
        PushError::Read(a) => a.is_transient() || matches!(a, ApiError::Decode { .. }),
        // A write's outcome is unknown: the next attempt re-reads and settles. A block
        // removed in Notion meanwhile (404) is settled the same way.
        PushError::Apply(a) => {
            a.source.is_transient()
                || a.source.is_not_found()
                || matches!(a.source, ApiError::Decode { .. })
        }
    };
    if transient {
        Failure::Transient(e.to_string())
    } else {
        Failure::Refused(e.to_string())
    }
}

/// How long to wait before the `n`th retry (`n` ≥ 1): doubling from [`FIRST_RETRY`] up to
/// [`MAX_RETRY`], with jitter over the upper half so pages do not retry in lockstep.
pub(crate) fn retry_wait(n: u32) -> Duration {
    let full = FIRST_RETRY
        .saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(MAX_RETRY);
    let ms = full.as_millis() as u64;
    Duration::from_millis(rand::rng().random_range(ms / 2..=ms))
}

/// The file's bytes as Markdown text, or why they are not: binary data (a NUL byte, as in
/// images and most binary formats) or bytes that are not UTF-8.
pub(super) fn text_of(data: &[u8]) -> Result<&str, String> {
    if let Some(i) = data.iter().position(|&b| b == 0) {
        return Err(format!(
            "the file holds binary data (a NUL byte at byte {i}), not Markdown text"
        ));
    }
    std::str::from_utf8(data).map_err(|e| {
        format!(
            "the file is not UTF-8 text (invalid bytes at byte {})",
            e.valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::{classify, retry_wait, text_of, Failure};
    use crate::notion::ApiError;
    use crate::sync::{ApplyError, DiffError, PushError};
    use std::time::Duration;

    fn api(status: u16, code: &str) -> ApiError {
        ApiError::Api {
            status,
            code: code.into(),
            message: "m".into(),
            endpoint: "PATCH /v1/blocks/{id}".into(),
        }
    }

    fn applied(source: ApiError) -> PushError {
        PushError::Apply(ApplyError {
            completed: vec![0],
            failed: 1,
            partial: false,
            total: 3,
            source,
        })
    }

    fn transient(f: &Failure) -> bool {
        matches!(f, Failure::Transient(_))
    }

    #[test]
    fn server_errors_rate_limits_and_transport_are_retried() {
        for s in [500, 502, 503, 504, 429, 409] {
            assert!(transient(&classify(applied(api(s, "x")))), "{s}");
            assert!(transient(&classify(PushError::Read(api(s, "x")))), "{s}");
        }
        let t = ApiError::Transport {
            endpoint: "e".into(),
            reason: "reset".into(),
        };
        assert!(transient(&classify(applied(t))));
        // A block removed in Notion while writing: the re-read settles it.
        assert!(transient(&classify(applied(api(404, "object_not_found")))));
    }

    #[test]
    fn content_notion_refuses_waits_for_a_save() {
        let f = classify(applied(api(400, "validation_error")));
        assert!(
            matches!(&f, Failure::Refused(r) if r.contains("validation")),
            "{f:?}"
        );
        let lim = DiffError::Limit {
            kind: "paragraph".into(),
            reason: "too long".into(),
        };
        assert!(!transient(&classify(PushError::Refused(lim))));
        let gone = PushError::Read(api(404, "object_not_found"));
        assert!(!transient(&classify(gone)));
        assert!(!transient(&classify(PushError::Read(api(
            401,
            "unauthorized"
        )))));
        let big = ApiError::Limit {
            endpoint: "e".into(),
            reason: "over 500 KB".into(),
        };
        assert!(!transient(&classify(applied(big))));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let w: Vec<Duration> = (1..=10).map(retry_wait).collect();
        for (i, d) in w.iter().enumerate() {
            let full = Duration::from_secs(1 << i).min(Duration::from_secs(60));
            assert!(*d <= full && *d >= full / 2, "attempt {}: {d:?}", i + 1);
        }
    }

    #[test]
    fn binary_and_invalid_utf8_are_refused_with_the_place() {
        assert_eq!(text_of(b"# Hi\n\nok\n").unwrap(), "# Hi\n\nok\n");
        let e = text_of(b"ok \xff\xfe").unwrap_err();
        assert!(e.contains("not UTF-8") && e.contains("byte 3"), "{e}");
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let e = text_of(png).unwrap_err();
        assert!(e.contains("binary"), "{e}");
        let e = text_of(b"text\0more").unwrap_err();
        assert!(e.contains("binary") && e.contains("byte 4"), "{e}");
    }
}
