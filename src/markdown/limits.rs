//! API request limits a block tree may break (/reference/request-limits).
//!
//! [`super::parse`] already splits text over 2000 UTF-16 code units into several rich text
//! objects. What it cannot fix without changing the content is reported by [`check`]:
//! rich text arrays over 100 items, URLs over 2000 characters, equations over 1000. Two
//! more findings describe request *shape*, not errors: more than 100 children in one array
//! and nesting deeper than two levels below a top-level block. The write path appends at
//! most 100 children and two nesting levels per request, then appends deeper children to
//! the ids the API returns, so those two are expected on large pages.

use crate::notion::model::{Block, BlockKind, FileObject, RichText, RichTextKind};

/// Most UTF-16 code units in one text object's `content` (or a link URL).
pub const MAX_TEXT: usize = 2000;
/// Most elements in one rich text array (or block children array in one request).
pub const MAX_ARRAY: usize = 100;
/// Most characters in an equation expression.
pub const MAX_EQUATION: usize = 1000;
/// Most nesting levels in one append request.
pub const MAX_REQUEST_DEPTH: usize = 2;

/// What is over which limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitKind {
    /// A text object's content is over [`MAX_TEXT`] UTF-16 units (error; parse splits these).
    TextTooLong { units: usize },
    /// A rich text array has more than [`MAX_ARRAY`] items (error: shorten or split the block).
    TooManyRichTexts { count: usize },
    /// A link or block URL is over [`MAX_TEXT`] characters (error).
    UrlTooLong { len: usize },
    /// An equation is over [`MAX_EQUATION`] characters (error).
    EquationTooLong { len: usize },
    /// More than [`MAX_ARRAY`] children: append in chunks (shape, not an error).
    ManyChildren { count: usize },
    /// Deeper than [`MAX_REQUEST_DEPTH`] levels below this block: append the deeper
    /// children in later requests (shape, not an error).
    Deep { depth: usize },
}

impl LimitKind {
    /// True when the API would reject the content itself (not just the request shape).
    pub fn is_error(&self) -> bool {
        !matches!(
            self,
            LimitKind::ManyChildren { .. } | LimitKind::Deep { .. }
        )
    }
}

/// A finding of [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitIssue {
    /// Index path from the top-level array to the block (`[2, 0]` = first child of the
    /// third block).
    pub path: Vec<usize>,
    /// What is over the limit.
    pub kind: LimitKind,
}

/// Reports every limit the tree breaks, in document order.
pub fn check(blocks: &[Block]) -> Vec<LimitIssue> {
    let mut out = Vec::new();
    if blocks.len() > MAX_ARRAY {
        out.push(LimitIssue {
            path: Vec::new(),
            kind: LimitKind::ManyChildren {
                count: blocks.len(),
            },
        });
    }
    let mut path = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        path.push(i);
        let depth = b.tree_depth();
        if depth > MAX_REQUEST_DEPTH {
            out.push(LimitIssue {
                path: path.clone(),
                kind: LimitKind::Deep { depth },
            });
        }
        walk(b, &mut path, &mut out);
        path.pop();
    }
    out
}

fn runs_issues(runs: &[RichText], path: &[usize], out: &mut Vec<LimitIssue>) {
    let mut push = |kind| {
        out.push(LimitIssue {
            path: path.to_vec(),
            kind,
        })
    };
    if runs.len() > MAX_ARRAY {
        push(LimitKind::TooManyRichTexts { count: runs.len() });
    }
    for r in runs {
        match &r.kind {
            RichTextKind::Text(t) => {
                let units = t.content.encode_utf16().count();
                if units > MAX_TEXT {
                    push(LimitKind::TextTooLong { units });
                }
                if let Some(l) = &t.link {
                    let len = l.url.chars().count();
                    if len > MAX_TEXT {
                        push(LimitKind::UrlTooLong { len });
                    }
                }
            }
            RichTextKind::Equation(e) => {
                let len = e.expression.chars().count();
                if len > MAX_EQUATION {
                    push(LimitKind::EquationTooLong { len });
                }
            }
            _ => {}
        }
    }
}

fn walk(b: &Block, path: &mut Vec<usize>, out: &mut Vec<LimitIssue>) {
    let mut kind = b.kind.clone();
    for arr in kind.rich_text_arrays_mut() {
        runs_issues(arr, path, out);
    }
    let url = match &b.kind {
        BlockKind::Bookmark(u) | BlockKind::Embed(u) => Some(u.url.as_str()),
        BlockKind::Image(m)
        | BlockKind::Video(m)
        | BlockKind::Audio(m)
        | BlockKind::Pdf(m)
        | BlockKind::File(m) => match &m.file {
            FileObject::External(e) => Some(e.url.as_str()),
            _ => None,
        },
        _ => None,
    };
    if let Some(u) = url {
        let len = u.chars().count();
        if len > MAX_TEXT {
            out.push(LimitIssue {
                path: path.clone(),
                kind: LimitKind::UrlTooLong { len },
            });
        }
    }
    if let BlockKind::Equation(e) = &b.kind {
        let len = e.expression.chars().count();
        if len > MAX_EQUATION {
            out.push(LimitIssue {
                path: path.clone(),
                kind: LimitKind::EquationTooLong { len },
            });
        }
    }
    if b.children.len() > MAX_ARRAY {
        out.push(LimitIssue {
            path: path.clone(),
            kind: LimitKind::ManyChildren {
                count: b.children.len(),
            },
        });
    }
    for (i, c) in b.children.iter().enumerate() {
        path.push(i);
        walk(c, path, out);
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paragraph_is_split_by_parse_and_passes() {
        let md = "é".repeat(4500);
        let blocks = crate::markdown::parse(&md);
        assert!(check(&blocks).is_empty(), "{:?}", check(&blocks));
        let rt = blocks[0].kind.rich_text().expect("paragraph");
        assert_eq!(rt.len(), 3);
        let joined: String = rt.iter().map(RichText::text_content).collect();
        assert_eq!(joined, md);
    }

    #[test]
    fn astral_characters_count_as_two_units() {
        let md = "😀".repeat(1500); // 3000 UTF-16 units
        let blocks = crate::markdown::parse(&md);
        let rt = blocks[0].kind.rich_text().expect("paragraph");
        assert_eq!(rt.len(), 2);
        assert!(check(&blocks).is_empty());
    }

    #[test]
    fn reports_equations_urls_arrays_and_depth() {
        let long_eq = format!("$${}$$", "x".repeat(1001));
        let link = format!("[a]({})", "h".repeat(2001));
        let many = (0..101)
            .map(|i| format!("**{i}**"))
            .collect::<Vec<_>>()
            .join(" ");
        let deep = "- a\n  - b\n    - c\n      - d\n";
        let md = format!("{long_eq}\n\n{link}\n\n{many}\n\n{deep}");
        let blocks = crate::markdown::parse(&md);
        let kinds: Vec<LimitKind> = check(&blocks).into_iter().map(|i| i.kind).collect();
        assert!(
            kinds.contains(&LimitKind::EquationTooLong { len: 1001 }),
            "{kinds:?}"
        );
        assert!(
            kinds.contains(&LimitKind::UrlTooLong { len: 2001 }),
            "{kinds:?}"
        );
        assert!(kinds
            .iter()
            .any(|k| matches!(k, LimitKind::TooManyRichTexts { .. })));
        assert!(kinds.contains(&LimitKind::Deep { depth: 3 }), "{kinds:?}");
        assert!(kinds.iter().filter(|k| k.is_error()).count() >= 3);
    }
}
