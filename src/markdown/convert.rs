//! `notionfs convert`: Markdown <-> JSON arrays of blocks, for scripts and debugging.
//!
//! `md_to_blocks` prints the append-children request shape (children nested inside the
//! type object), leaving out the blocks no request can create (child pages and databases,
//! synced copies, link previews, templates, unsupported types: [`crate::notion::model::BlockKind::is_creatable`]),
//! so that its output can be sent to append-children as it is; `blocks_to_md` reads blocks
//! as the API returns them, with nested blocks inline under `"children"` (top level or
//! inside the type object).

use super::limits::{self, LimitKind, MAX_ARRAY, MAX_REQUEST_DEPTH};
use crate::notion::model::Block;

/// Why an input could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The bytes are not UTF-8.
    #[error("input is not valid UTF-8 (at byte {at})")]
    Utf8 {
        /// Offset of the first invalid byte.
        at: usize,
    },
    /// The text is not JSON.
    #[error("input is not valid JSON: {0}")]
    Json(serde_json::Error),
    /// The JSON is not an array.
    #[error("expected a JSON array of blocks, got {0}")]
    NotArray(&'static str),
    /// One element is not a block.
    #[error("element {index} is not a valid block: {message}")]
    Block {
        /// Index in the array.
        index: usize,
        /// What was wrong.
        message: String,
    },
}

fn utf8(input: &[u8]) -> Result<&str, ConvertError> {
    std::str::from_utf8(input).map_err(|e| ConvertError::Utf8 {
        at: e.valid_up_to(),
    })
}

/// What [`md_to_blocks`] made of a Markdown file.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestBlocks {
    /// Pretty JSON array of blocks in the append-children request shape, ending with a
    /// newline.
    pub json: String,
    /// Blocks left out because no request can create them: `(type, count)`, in the order
    /// first met.
    pub left_out: Vec<(String, usize)>,
    /// What else keeps the array from being one append request (see [`limits::check`]):
    /// more than 100 blocks in one array, nesting deeper than two levels, content over a
    /// limit. One line each.
    pub limits: Vec<String>,
}

impl RequestBlocks {
    /// How many blocks were left out.
    pub fn left_out_count(&self) -> usize {
        self.left_out.iter().map(|(_, n)| n).sum()
    }

    /// The lines to tell the user (on stderr): what was left out and why, and what else
    /// keeps the output from being one request. Empty when the output is one request.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let n = self.left_out_count();
        if n > 0 {
            let kinds: Vec<String> = self
                .left_out
                .iter()
                .map(|(t, c)| format!("{c} {t}"))
                .collect();
            notes.push(format!(
                "left out {n} block{} that no append request can create ({}); child pages \
                 and databases are created as pages, the others not at all",
                if n == 1 { "" } else { "s" },
                kinds.join(", ")
            ));
        }
        notes.extend(self.limits.iter().cloned());
        notes
    }
}

/// Markdown -> pretty JSON array of blocks in the append-children request shape, without
/// the blocks no request can create (see the module docs).
pub fn md_to_blocks(input: &[u8]) -> Result<RequestBlocks, ConvertError> {
    let md = utf8(input)?;
    let mut left_out = Vec::new();
    let blocks = creatable_only(super::parse(md), &mut left_out);
    let reqs: Vec<serde_json::Value> = blocks.iter().map(Block::to_request).collect();
    let mut json = serde_json::to_string_pretty(&reqs).map_err(ConvertError::Json)?;
    json.push('\n');
    Ok(RequestBlocks {
        json,
        left_out,
        limits: limit_notes(&blocks),
    })
}

/// `blocks` without the ones no request can create (with their subtrees), counted by type
/// into `left_out`.
pub fn creatable_only(blocks: Vec<Block>, left_out: &mut Vec<(String, usize)>) -> Vec<Block> {
    let mut out = Vec::with_capacity(blocks.len());
    for mut b in blocks {
        if !b.kind.is_creatable() {
            let ty = b.type_name().to_string();
            match left_out.iter_mut().find(|(t, _)| *t == ty) {
                Some((_, n)) => *n += 1,
                None => left_out.push((ty, 1)),
            }
            continue;
        }
        b.children = creatable_only(std::mem::take(&mut b.children), left_out);
        out.push(b);
    }
    out
}

fn limit_notes(blocks: &[Block]) -> Vec<String> {
    let issues = limits::check(blocks);
    let deep = issues
        .iter()
        .filter(|i| matches!(i.kind, LimitKind::Deep { .. }))
        .count();
    let many = issues
        .iter()
        .filter(|i| matches!(i.kind, LimitKind::ManyChildren { .. }))
        .count();
    let errors = issues.iter().filter(|i| i.kind.is_error()).count();
    let mut notes = Vec::new();
    if deep > 0 {
        notes.push(format!(
            "{deep} top-level block{} nest deeper than the {MAX_REQUEST_DEPTH} levels one \
             append request takes: append their deeper children in later requests",
            if deep == 1 { "" } else { "s" }
        ));
    }
    if many > 0 {
        notes.push(format!(
            "{many} array{} of blocks hold more than {MAX_ARRAY}: append them in chunks",
            if many == 1 { "" } else { "s" }
        ));
    }
    if errors > 0 {
        notes.push(format!(
            "{errors} block{} break a request limit the API refuses (over {MAX_ARRAY} rich \
             text objects, a URL over 2000 or an equation over 1000 characters)",
            if errors == 1 { "" } else { "s" }
        ));
    }
    notes
}

/// JSON array of blocks (API shape, children inline) -> Markdown.
pub fn blocks_to_md(input: &[u8]) -> Result<String, ConvertError> {
    Ok(super::render(&read_blocks(input)?))
}

/// Reads a JSON array of blocks, with clear errors.
pub fn read_blocks(input: &[u8]) -> Result<Vec<Block>, ConvertError> {
    let text = utf8(input)?;
    let v: serde_json::Value = serde_json::from_str(text).map_err(ConvertError::Json)?;
    let arr = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(_) => return Err(ConvertError::NotArray("an object")),
        serde_json::Value::String(_) => return Err(ConvertError::NotArray("a string")),
        serde_json::Value::Number(_) => return Err(ConvertError::NotArray("a number")),
        serde_json::Value::Bool(_) => return Err(ConvertError::NotArray("a boolean")),
        serde_json::Value::Null => return Err(ConvertError::NotArray("null")),
    };
    arr.into_iter()
        .enumerate()
        .map(|(index, v)| {
            serde_json::from_value(v).map_err(|e| ConvertError::Block {
                index,
                message: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_clear() {
        let e = md_to_blocks(&[0x61, 0xff]).unwrap_err();
        assert_eq!(e.to_string(), "input is not valid UTF-8 (at byte 1)");
        let e = blocks_to_md(b"{\"a\":1}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected a JSON array of blocks, got an object"
        );
        let e = blocks_to_md(b"[1,").unwrap_err();
        assert!(e.to_string().starts_with("input is not valid JSON"), "{e}");
        let e = blocks_to_md(b"[{\"type\": 3}]").unwrap_err();
        assert!(
            e.to_string().starts_with("element 0 is not a valid block"),
            "{e}"
        );
    }

    #[test]
    fn md_round_trips_through_request_json() {
        let md = "# T\n\n- a\n  - b\n";
        let out = md_to_blocks(md.as_bytes()).expect("md");
        assert!(out.json.contains("\"children\""));
        assert!(out.notes().is_empty(), "{:?}", out.notes());
        assert_eq!(blocks_to_md(out.json.as_bytes()).expect("json"), md);
    }

    #[test]
    fn blocks_no_request_creates_are_left_out_and_counted() {
        let md = "intro\n\n<page id=\"p1\">Child</page>\n\n<database id=\"d1\">Tasks</database>\n\n\
                  <link-preview url=\"https://g.com/x\" id=\"l1\"/>\n\n<page id=\"p2\">Other</page>\n\n\
                  <synced-block>\n\n<synced-block-copy from=\"s0\" id=\"s1\"/>\n\nkept\n\n</synced-block>\n";
        let out = md_to_blocks(md.as_bytes()).expect("md");
        assert_eq!(
            out.left_out,
            [
                ("child_page".to_string(), 2),
                ("child_database".to_string(), 1),
                ("link_preview".to_string(), 1),
                ("synced_block".to_string(), 1)
            ]
        );
        assert_eq!(out.left_out_count(), 5);
        let v: serde_json::Value = serde_json::from_str(&out.json).expect("json");
        let types: Vec<&str> = v
            .as_array()
            .expect("array")
            .iter()
            .map(|b| b["type"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(types, ["paragraph", "synced_block"]);
        let kept = &v[1]["synced_block"]["children"];
        assert_eq!(kept.as_array().map(Vec::len), Some(1), "{kept}");
        assert!(
            out.notes()[0].starts_with("left out 5 blocks"),
            "{:?}",
            out.notes()
        );
    }
}
