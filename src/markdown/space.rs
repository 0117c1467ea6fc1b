//! The whitespace normal form of inline text (spec 3.2): where the dialect writes the
//! spaces of a rich text array, and which it leaves out.
//!
//! So that every word stays findable as typed, the renderer never hides whitespace behind
//! a character reference:
//! - whitespace at the edges of a run written with emphasis markers (bold, italic,
//!   strikethrough, not code) is written outside the markers: `**Warning:** tests`, not
//!   `**Warning:&#32;**tests`. The space keeps the run's other styles (link, underline,
//!   colour) but not the emphasis.
//! - whitespace at the end of a block's text (a text line, caption, table cell) is not
//!   written at all.
//!
//! [`normalize`] states both as a function on rich text: the renderer writes this form
//! (a space moved out of the markers stays inside the run's link or `<span>`, which
//! neighbouring runs share: `[**Read** more](u)`), the parser reads it back, and the sync
//! diff compares blocks through it, so a save never rewrites a block only because of where
//! its edge spaces sat.

use std::borrow::Cow;

use super::inline::{merge_owned, needs_merge};
use crate::notion::model::{BlockKind, RichText, RichTextKind};

/// Whitespace the normal form moves or drops: every Unicode white space character except
/// the line breaks and controls the dialect writes otherwise (`\n` as `<br>`; `\r`, vertical
/// tab and form feed as character references).
pub fn is_space(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\n' | '\r' | '\x0b' | '\x0c')
}

/// A text run whose style is written with emphasis markers (`**`, `*`, `~~`).
fn marked(r: &RichText) -> bool {
    let a = &r.annotations;
    matches!(r.kind, RichTextKind::Text(_)) && !a.code && (a.bold || a.italic || a.strikethrough)
}

fn text_of(r: &RichText) -> Option<&str> {
    match &r.kind {
        RichTextKind::Text(t) => Some(&t.content),
        _ => None,
    }
}

fn has_edge_space(s: &str) -> bool {
    s.starts_with(is_space) || s.ends_with(is_space)
}

/// Whether the last run is text (not code) ending in whitespace, or empty.
fn has_trailing_space(runs: &[RichText]) -> bool {
    runs.last().is_some_and(|r| {
        !r.annotations.code && text_of(r).is_some_and(|t| t.is_empty() || t.ends_with(is_space))
    })
}

/// Whether `runs` already are in the normal form (no copy needed).
pub fn is_normal(runs: &[RichText]) -> bool {
    !needs_merge(runs)
        && !has_trailing_space(runs)
        && !runs
            .iter()
            .any(|r| marked(r) && text_of(r).is_some_and(has_edge_space))
}

/// The whitespace normal form of a rich text array, borrowed when `runs` already are.
///
/// 1. Neighbouring runs that look the same are merged, empty text runs dropped.
/// 2. Whitespace at the edges of a text run with bold, italic or strikethrough (and not
///    code) becomes a run of its own without those three styles.
/// 3. Whitespace at the end of the array's text is dropped (up to a run that is not text
///    or is code: code spans keep their spaces).
/// 4. Runs are merged again.
pub fn normalize(runs: &[RichText]) -> Cow<'_, [RichText]> {
    if is_normal(runs) {
        Cow::Borrowed(runs)
    } else {
        Cow::Owned(normalize_owned(runs.to_vec()))
    }
}

/// [`normalize`] on an owned array (no copies when nothing changes).
pub fn normalize_owned(runs: Vec<RichText>) -> Vec<RichText> {
    if is_normal(&runs) {
        return runs;
    }
    let merged = merge_owned(runs);
    let mut out = Vec::with_capacity(merged.len() + 2);
    for r in merged {
        if marked(&r) && text_of(&r).is_some_and(has_edge_space) {
            split_edges(r, &mut out);
        } else {
            out.push(r);
        }
    }
    drop_trailing_space(&mut out);
    merge_owned(out)
}

/// `s` as (leading whitespace, the rest, trailing whitespace).
fn split_edges_of(s: &str) -> (&str, &str, &str) {
    let body = s.trim_matches(is_space);
    if body.is_empty() {
        return (s, "", "");
    }
    let start = s.len() - s.trim_start_matches(is_space).len();
    let end = start + body.len();
    (&s[..start], body, &s[end..])
}

/// Pushes `r` with its leading and trailing whitespace as runs of their own, unemphasised.
fn split_edges(r: RichText, out: &mut Vec<RichText>) {
    let text = text_of(&r).unwrap_or_default();
    let (lead, body, trail) = split_edges_of(text);
    if body.is_empty() {
        out.push(unmarked(&r, text));
        return;
    }
    if !lead.is_empty() {
        out.push(unmarked(&r, lead));
    }
    let tail = (!trail.is_empty()).then(|| unmarked(&r, trail));
    let mut middle = r.clone();
    set_text(&mut middle, body);
    out.push(middle);
    out.extend(tail);
}

/// A copy of `r` holding `text`, without the styles written as markers.
fn unmarked(r: &RichText, text: &str) -> RichText {
    let mut c = r.clone();
    c.annotations.bold = false;
    c.annotations.italic = false;
    c.annotations.strikethrough = false;
    c.annotations.received = Default::default();
    set_text(&mut c, text);
    c
}

fn set_text(r: &mut RichText, text: &str) {
    if let RichTextKind::Text(t) = &mut r.kind {
        t.content.clear();
        t.content.push_str(text);
    }
    r.plain_text = None;
    r.href = None;
}

fn drop_trailing_space(runs: &mut Vec<RichText>) {
    while let Some(last) = runs.last_mut() {
        if last.annotations.code {
            return;
        }
        let RichTextKind::Text(t) = &mut last.kind else {
            return;
        };
        let keep = t.content.trim_end_matches(is_space).len();
        if keep > 0 {
            t.content.truncate(keep);
            last.plain_text = None;
            return;
        }
        runs.pop();
    }
}

/// The rich text arrays of a block that the dialect writes as inline Markdown (text,
/// captions, cells) — all of them but a code block's text, which is written verbatim.
pub fn inline_arrays_mut(kind: &mut BlockKind) -> Vec<&mut Vec<RichText>> {
    match kind {
        BlockKind::Code(c) => vec![&mut c.caption],
        other => other.rich_text_arrays_mut(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notion::model::Annotations;

    fn run(s: &str, bold: bool) -> RichText {
        RichText::text(
            s,
            None,
            Annotations {
                bold,
                ..Annotations::default()
            },
        )
    }

    fn shape(runs: &[RichText]) -> Vec<(String, bool)> {
        runs.iter()
            .map(|r| (r.text_content().to_string(), r.annotations.bold))
            .collect()
    }

    #[test]
    fn edge_spaces_leave_the_markers_and_trailing_ones_go() {
        let runs = vec![run("Warning: ", true), run("tests ", false)];
        assert_eq!(
            shape(&normalize(&runs)),
            [
                ("Warning:".to_string(), true),
                (" tests".to_string(), false)
            ]
        );
        let runs = vec![run("a", false), run(" \tb\u{a0}", true), run("c", false)];
        assert_eq!(
            shape(&normalize(&runs)),
            [
                ("a \t".to_string(), false),
                ("b".to_string(), true),
                ("\u{a0}c".to_string(), false)
            ]
        );
        // A run of only spaces is plain; line breaks are not moved.
        let runs = vec![run("a", false), run("  ", true), run("b\n", true)];
        assert_eq!(
            shape(&normalize(&runs)),
            [("a  ".to_string(), false), ("b\n".to_string(), true)]
        );
    }

    #[test]
    fn normal_form_is_stable_and_borrowed() {
        let runs = vec![run("a", true), run(" b", false)];
        assert!(matches!(normalize(&runs), Cow::Borrowed(_)));
        let messy = vec![run("x ", true), run(" ", true), run("y  ", false)];
        let once = normalize_owned(messy);
        assert!(is_normal(&once));
        assert_eq!(shape(&once), [("x".into(), true), ("  y".into(), false)]);
    }

    #[test]
    fn code_keeps_its_spaces() {
        let mut code = run(" x ", true);
        code.annotations.code = true;
        let runs = vec![code.clone()];
        assert_eq!(shape(&normalize(&runs)), [(" x ".to_string(), true)]);
    }
}
