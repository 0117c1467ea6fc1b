//! `notionfs convert`: Markdown <-> JSON arrays of blocks, for scripts and debugging.
//!
//! `md_to_blocks` prints the append-children request shape (children nested inside the
//! type object); `blocks_to_md` reads blocks as the API returns them, with nested blocks
//! inline under `"children"` (top level or inside the type object).

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

/// Markdown -> pretty JSON array of blocks in the append-children request shape.
pub fn md_to_blocks(input: &[u8]) -> Result<String, ConvertError> {
    let md = utf8(input)?;
    let blocks = super::parse(md);
    let reqs: Vec<serde_json::Value> = blocks.iter().map(Block::to_request).collect();
    let mut s = serde_json::to_string_pretty(&reqs).map_err(ConvertError::Json)?;
    s.push('\n');
    Ok(s)
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
        let md = "# T\n\n- a\n\n  - b\n";
        let json = md_to_blocks(md.as_bytes()).expect("md");
        assert!(json.contains("\"children\""));
        assert_eq!(blocks_to_md(json.as_bytes()).expect("json"), md);
    }
}
