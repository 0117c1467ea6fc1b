//! Comparable and sendable forms of block payloads.
//!
//! A block read from the API and the same block parsed back from Markdown differ in ways that
//! carry no meaning: responses fill `plain_text`, `href` and every annotation, Notion may
//! cut one styled run into several objects, and the Markdown dialect writes whitespace in
//! its normal form (outside emphasis markers, none at the end of a block's text:
//! [`crate::markdown::space`]). [`compare_payload`] removes those differences so the diff
//! sees only real changes; [`prepare`] makes a parsed block fit the request limits (text
//! objects of at most 2000 characters).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::Value;

use crate::markdown::space;
use crate::notion::model::rich_text::{split_long_runs, Mention, RichTextKind};
use crate::notion::model::User;
use crate::notion::model::{Block, BlockKind, JsonMap, RichText};

/// Payload keys that together describe a media block's file (`type` + one of the others).
pub(crate) const FILE_KEYS: [&str; 4] = ["type", "external", "file", "file_upload"];

/// Merges adjacent plain text runs with the same styling and link, and drops response-only
/// fields, so two spellings of the same text compare equal.
fn canonical_runs(runs: &[RichText]) -> Vec<RichText> {
    let mut out: Vec<RichText> = Vec::with_capacity(runs.len());
    for r in runs {
        let mut r = r.clone();
        r.plain_text = None;
        r.href = None;
        r.annotations.received = Default::default();
        // A mention names its target by id; the rest of a user object, and a date's
        // explicit `"time_zone": null`, are what the response filled in.
        if let RichTextKind::Mention(m) = &mut r.kind {
            match m {
                Mention::User(u) => **u = User::reference(u.id.clone()),
                Mention::Date(d) => d.extra.retain(|_, v| !v.is_null()),
                _ => {}
            }
        }
        if let (Some(prev), RichTextKind::Text(t)) = (out.last_mut(), &r.kind) {
            if let RichTextKind::Text(pt) = &mut prev.kind {
                if prev.annotations == r.annotations
                    && pt.link == t.link
                    && pt.extra.is_empty()
                    && t.extra.is_empty()
                    && prev.extra.is_empty()
                    && r.extra.is_empty()
                {
                    pt.content.push_str(&t.content);
                    continue;
                }
            }
        }
        out.push(r);
    }
    // An empty text run says nothing.
    out.retain(|r| !matches!(&r.kind, RichTextKind::Text(t) if t.content.is_empty()));
    out
}

/// The payload of `kind` in canonical form, as a JSON object (empty for payload-less types).
/// Text written as inline Markdown is in the whitespace normal form, and so is a child
/// page's title: where edge spaces sit is no change.
pub(crate) fn compare_payload(kind: &BlockKind) -> JsonMap {
    let mut kind = kind.clone();
    for arr in kind.rich_text_arrays_mut() {
        *arr = canonical_runs(arr);
    }
    for arr in space::inline_arrays_mut(&mut kind) {
        *arr = space::normalize_owned(std::mem::take(arr));
    }
    if let BlockKind::ChildPage(c) | BlockKind::ChildDatabase(c) = &mut kind {
        let kept = c.title.trim_end_matches(space::is_space).len();
        c.title.truncate(kept);
    }
    match kind.payload() {
        Value::Object(mut m) => {
            m.remove("children");
            m
        }
        _ => JsonMap::new(),
    }
}

/// Whether every field the new payload states has the same value in the old one. Fields only
/// the old payload has (response-only or not expressible in Markdown) do not count; a field
/// the new payload states as `null` matches an absent one.
pub(crate) fn payload_matches(old: &JsonMap, new: &JsonMap) -> bool {
    new.iter().all(|(k, v)| match old.get(k) {
        Some(o) => o == v,
        None => v.is_null(),
    })
}

/// The fields of `new` (the sendable payload) whose canonical values differ from `old`.
/// A media file is sent whole: `type` and its file object go together.
pub(crate) fn changed_fields(old_cmp: &JsonMap, new_cmp: &JsonMap, new_send: &JsonMap) -> JsonMap {
    let mut out = JsonMap::new();
    let mut file_changed = false;
    for (k, v) in new_cmp {
        let same = match old_cmp.get(k) {
            Some(o) => o == v,
            None => v.is_null(),
        };
        if !same {
            if FILE_KEYS.contains(&k.as_str()) {
                file_changed = true;
            } else if let Some(s) = new_send.get(k) {
                out.insert(k.clone(), s.clone());
            }
        }
    }
    if file_changed {
        for k in FILE_KEYS {
            if let Some(s) = new_send.get(k) {
                out.insert(k.to_string(), s.clone());
            }
        }
    }
    out
}

/// A cheap fingerprint (type and visible text) used to skip full comparisons: equal for
/// blocks whose canonical payloads are equal, however their text is cut into runs and
/// wherever the whitespace normal form moves or drops spaces.
pub(crate) fn quick_hash(b: &Block) -> u64 {
    let mut h = DefaultHasher::new();
    b.type_name().hash(&mut h);
    if let Some(rt) = b.kind.rich_text() {
        let texts = rt.iter().filter_map(|r| match &r.kind {
            RichTextKind::Text(t) => Some(t.content.as_str()),
            _ => None,
        });
        // The text without the trailing whitespace the normal form may drop.
        let parts: Vec<&str> = texts.collect();
        let mut end = parts.len();
        let mut last_len = 0;
        while end > 0 {
            let trimmed = parts[end - 1].trim_end_matches(space::is_space);
            if !trimmed.is_empty() {
                last_len = trimmed.len();
                break;
            }
            end -= 1;
        }
        for (i, p) in parts[..end].iter().enumerate() {
            let p = if i + 1 == end { &p[..last_len] } else { p };
            h.write(p.as_bytes());
        }
    }
    h.finish()
}

/// Visible text of a block, for similarity scoring.
pub(crate) fn visible_text(b: &Block) -> String {
    match &b.kind {
        BlockKind::TableRow(r) => r
            .cells
            .iter()
            .map(|c| crate::notion::model::rich_text::plain_text(c))
            .collect::<Vec<_>>()
            .join("|"),
        BlockKind::Equation(e) => e.expression.clone(),
        k => k
            .rich_text()
            .map(|rt| crate::notion::model::rich_text::plain_text(rt))
            .unwrap_or_default(),
    }
}

/// Similarity of two texts in `0..=1000`: shared prefix plus shared suffix over the longer.
pub(crate) fn similarity(a: &str, b: &str) -> u32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let max = a.len().max(b.len());
    if max == 0 {
        return 1000;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let rest = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(rest)
        .take_while(|(x, y)| x == y)
        .count();
    ((prefix + suffix) * 1000 / max) as u32
}

/// The first request limit (reference: request limits) a payload (or the fields of an
/// update) breaks, after
/// [`prepare`]: arrays of more than 100 elements (rich text, cells), equations over 1000
/// characters, URLs over 2000. Its children are checked separately; the executor chunks them.
pub(crate) fn limit_problem(type_name: &str, payload: &Value) -> Option<String> {
    fn walk(key: &str, v: &Value) -> Option<String> {
        match v {
            Value::Array(a) => {
                if a.len() > 100 {
                    return Some(format!("{key} has {} elements, at most 100", a.len()));
                }
                a.iter().find_map(|x| walk(key, x))
            }
            Value::Object(m) => m.iter().find_map(|(k, x)| {
                // A Notion-hosted file's signed URL is sent back verbatim, not checked.
                if key == "file" && k == "url" {
                    return None;
                }
                match (k.as_str(), x) {
                    ("expression", Value::String(e)) if e.chars().count() > 1000 => Some(format!(
                        "an equation of {} characters, at most 1000",
                        e.chars().count()
                    )),
                    ("url", Value::String(u)) if u.chars().count() > 2000 => Some(format!(
                        "a URL of {} characters, at most 2000",
                        u.chars().count()
                    )),
                    _ => walk(k, x),
                }
            }),
            _ => None,
        }
    }
    walk(type_name, payload)
}

/// Makes a block tree fit the request limits and drops response-only fields.
pub(crate) fn prepare(b: &mut Block) {
    for arr in b.kind.rich_text_arrays_mut() {
        arr.iter_mut().for_each(RichText::strip_response_fields);
        *arr = split_long_runs(std::mem::take(arr));
    }
    b.children.iter_mut().for_each(prepare);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notion::model::block::TextBlock;
    use crate::notion::model::Annotations;

    fn para(runs: Vec<RichText>) -> BlockKind {
        BlockKind::Paragraph(TextBlock {
            rich_text: runs,
            color: "default".into(),
            extra: JsonMap::new(),
        })
    }

    #[test]
    fn mentions_compare_by_what_markdown_states() {
        let run = |j: serde_json::Value| -> RichText { serde_json::from_value(j).unwrap() };
        // As the API returns them: the whole user, an explicit null time zone.
        let received = para(vec![
            run(
                serde_json::json!({"type": "mention", "mention": {"type": "user", "user": {
                "object": "user", "id": "u1", "type": "person", "name": "Ada",
                "avatar_url": null, "person": {"email": "ada@example.com"}}},
                "plain_text": "@Ada", "href": null}),
            ),
            run(
                serde_json::json!({"type": "mention", "mention": {"type": "date", "date": {
                "start": "2025-07-04", "end": null, "time_zone": null}},
                "plain_text": "2025-07-04", "href": null}),
            ),
        ]);
        // As parsed back from Markdown.
        let parsed = para(vec![
            run(
                serde_json::json!({"type": "mention", "mention": {"type": "user", "user": {
                "object": "user", "id": "u1"}}}),
            ),
            run(
                serde_json::json!({"type": "mention", "mention": {"type": "date", "date": {
                "start": "2025-07-04", "end": null}}}),
            ),
        ]);
        assert_eq!(compare_payload(&received), compare_payload(&parsed));
        let other = para(vec![run(
            serde_json::json!({"type": "mention", "mention": {
            "type": "user", "user": {"object": "user", "id": "u2"}}}),
        )]);
        assert_ne!(compare_payload(&received), compare_payload(&other));
    }

    #[test]
    fn split_runs_compare_equal_to_one_run() {
        let one = para(vec![RichText::plain("hello world")]);
        let mut a = RichText::plain("hello ");
        a.plain_text = Some("hello ".into());
        let two = para(vec![a, RichText::plain("world")]);
        assert_eq!(compare_payload(&one), compare_payload(&two));
        let bold = Annotations {
            bold: true,
            ..Default::default()
        };
        let styled = para(vec![
            RichText::plain("hello "),
            RichText::text("world", None, bold),
        ]);
        assert_ne!(compare_payload(&one), compare_payload(&styled));
    }

    #[test]
    fn long_text_is_split_at_the_limit_and_still_compares_equal() {
        let long: String = "é".repeat(4500);
        let mut runs = vec![RichText::plain(long.clone())];
        runs = split_long_runs(runs);
        assert_eq!(runs.len(), 3);
        assert!(runs.iter().all(|r| r.text_content().encode_utf16().count()
            <= crate::notion::model::rich_text::MAX_TEXT_CONTENT));
        assert_eq!(
            compare_payload(&para(runs)),
            compare_payload(&para(vec![RichText::plain(long)]))
        );
    }

    #[test]
    fn limits_are_found_before_sending() {
        let runs: Vec<RichText> = (0..101).map(|i| RichText::plain(format!("{i}"))).collect();
        let lp = |k: &BlockKind| limit_problem(k.type_name(), &k.payload());
        assert!(lp(&para(runs)).unwrap().contains("at most 100"));
        assert_eq!(lp(&para(vec![RichText::plain("ok")])), None);
        let mut link = RichText::plain("x");
        if let RichTextKind::Text(t) = &mut link.kind {
            t.link = Some(crate::notion::model::rich_text::Link {
                url: format!("https://e.x/{}", "a".repeat(2000)),
                extra: JsonMap::new(),
            });
        }
        assert!(lp(&para(vec![link])).unwrap().contains("URL"));
        let eq = BlockKind::Equation(crate::notion::model::block::EquationBlock {
            expression: "x".repeat(1001),
            extra: JsonMap::new(),
        });
        assert!(lp(&eq).unwrap().contains("equation"));
    }

    #[test]
    fn similarity_scores_prefix_and_suffix() {
        assert_eq!(similarity("abc", "abc"), 1000);
        assert_eq!(similarity("", ""), 1000);
        assert!(similarity("hello world", "hello brave world") > 500);
        assert!(similarity("abc", "xyz") == 0);
    }

    #[test]
    fn changed_fields_sends_only_what_differs() {
        let mut old = JsonMap::new();
        old.insert("rich_text".into(), Value::from("a"));
        old.insert("color".into(), Value::from("default"));
        let mut new = old.clone();
        new.insert("color".into(), Value::from("red"));
        let f = changed_fields(&old, &new, &new);
        assert_eq!(f.len(), 1);
        assert_eq!(f["color"], "red");
        assert!(payload_matches(&old, &old));
        assert!(!payload_matches(&old, &new));
    }
}
