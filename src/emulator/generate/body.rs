//! Page bodies of the generated workspace, in request shape: paragraphs, headings, lists,
//! to-dos, toggles, quotes, callouts, code, tables, dividers, bookmarks, equations, columns
//! and a few Notion-hosted attachments, nested up to three levels on "nested" pages.

use serde_json::{json, Value};

use super::text::{capitalize, rt, t};
use super::Gen;

const LANGUAGES: &[&str] = &[
    "rust",
    "python",
    "bash",
    "json",
    "yaml",
    "sql",
    "typescript",
    "go",
    "plain text",
];

const CALLOUT_ICONS: &[&str] = &["💡", "⚠️", "📌", "✅", "🔥", "ℹ️"];

const CALLOUT_COLORS: &[&str] = &[
    "gray_background",
    "yellow_background",
    "blue_background",
    "red_background",
    "default",
];

const CODE_LINES: &[&str] = &[
    "let client = Client::new(config)?;",
    "for row in rows.iter() {",
    "    total += row.amount;",
    "}",
    "SELECT id, amount FROM invoices WHERE paid = false;",
    "kubectl rollout restart deployment/api",
    "if err != nil { return err }",
    "def retry(fn, attempts=3):",
    "    return fn()",
    "curl -s https://api.acme.example/health",
    "export FEATURE_FLAG=on",
    "{\"enabled\": true, \"limit\": 100}",
    "# TODO: remove after the migration",
];

/// Hosted files of the generated workspace: (seed key, block type, file name).
pub(super) const ATTACHMENTS: &[(&str, &str, &str)] = &[
    ("gen-diagram-png", "image", "diagram.png"),
    ("gen-notes-txt", "file", "meeting-notes.txt"),
    ("gen-spec-pdf", "pdf", "spec.pdf"),
    ("gen-export-csv", "file", "export.csv"),
];

/// A block `{type, type: inner}` with optional children.
fn block(ty: &str, mut inner: Value, children: Vec<Value>) -> Value {
    if !children.is_empty() {
        inner["children"] = Value::Array(children);
    }
    json!({"type": ty, ty: inner})
}

impl Gen {
    /// A body of about `n` blocks (nested ones included); `nested` bodies nest lists,
    /// toggles and callouts two to three levels deep.
    pub(super) fn body(&mut self, n: usize, nested: bool) -> Vec<Value> {
        let mut out = Vec::new();
        let mut used = 0;
        while used < n {
            let (b, k) = self.any_block(nested);
            out.push(b);
            used += k;
        }
        out
    }

    /// A hosted attachment block (image, file or PDF) with a caption.
    pub(super) fn attachment(&mut self) -> Value {
        let (key, ty, name) = *self.rng.pick(ATTACHMENTS);
        let mut inner =
            json!({"type": "file", "file": {"hosted": key}, "caption": rt(&self.words(3))});
        if ty == "file" {
            inner["name"] = json!(name);
        }
        json!({"type": ty, ty: inner})
    }

    /// One top-level block and the number of blocks it holds (itself included).
    fn any_block(&mut self, nested: bool) -> (Value, usize) {
        let roll = self.rng.unit();
        match roll {
            r if r < 0.42 => (self.paragraph(), 1),
            r if r < 0.57 => self.list_item("bulleted_list_item", nested, 0),
            r if r < 0.64 => self.list_item("numbered_list_item", nested, 0),
            r if r < 0.70 => self.todo_item(nested),
            r if r < 0.76 => (self.heading("heading_2"), 1),
            r if r < 0.81 => (self.heading("heading_3"), 1),
            r if r < 0.82 => (self.heading("heading_1"), 1),
            r if r < 0.845 => self.toggle(nested),
            r if r < 0.875 => self.quote(nested),
            r if r < 0.905 => self.callout(nested),
            r if r < 0.935 => (self.code(), 1),
            r if r < 0.947 => self.table(),
            r if r < 0.967 => (json!({"type": "divider", "divider": {}}), 1),
            r if r < 0.982 => (self.bookmark(), 1),
            r if r < 0.987 => (self.equation(), 1),
            r if r < 0.99 => self.columns(),
            r if r < 0.993 => self.toggle_heading(),
            _ => (self.paragraph(), 1),
        }
    }

    fn paragraph(&mut self) -> Value {
        let n = self.rng.range(1, 4);
        block("paragraph", json!({"rich_text": self.rich(n)}), vec![])
    }

    fn heading(&mut self, ty: &str) -> Value {
        let title = self.topic_title();
        block(ty, json!({"rich_text": rt(&title)}), vec![])
    }

    fn toggle_heading(&mut self) -> (Value, usize) {
        let title = self.topic_title();
        let kids = vec![self.paragraph(), self.paragraph()];
        let b = block(
            "heading_2",
            json!({"rich_text": rt(&title), "is_toggleable": true}),
            kids,
        );
        (b, 3)
    }

    /// A list item; on nested pages it may hold sub-items down to the third level.
    fn list_item(&mut self, ty: &str, nested: bool, level: usize) -> (Value, usize) {
        let n = self.rng.range(1, 2);
        let text = self.rich(n);
        let mut kids = Vec::new();
        let mut used = 1;
        if nested && level < 2 && self.rng.chance(0.45) {
            for _ in 0..self.rng.range(1, 3) {
                let (k, u) = self.list_item(ty, nested, level + 1);
                kids.push(k);
                used += u;
            }
        }
        (block(ty, json!({"rich_text": text}), kids), used)
    }

    fn todo_item(&mut self, nested: bool) -> (Value, usize) {
        let checked = self.rng.chance(0.4);
        let n = self.rng.range(5, 10);
        let text = rt(&capitalize(&self.words(n)));
        let mut kids = Vec::new();
        if nested && self.rng.chance(0.3) {
            kids.push(self.paragraph());
        }
        let used = 1 + kids.len();
        let b = block(
            "to_do",
            json!({"rich_text": text, "checked": checked}),
            kids,
        );
        (b, used)
    }

    fn toggle(&mut self, nested: bool) -> (Value, usize) {
        let title = self.sentence();
        let mut kids = Vec::new();
        let mut used = 1;
        for _ in 0..self.rng.range(1, 4) {
            if nested && self.rng.chance(0.4) {
                let (k, u) = self.list_item("bulleted_list_item", true, 1);
                kids.push(k);
                used += u;
            } else {
                kids.push(self.paragraph());
                used += 1;
            }
        }
        (
            block("toggle", json!({"rich_text": rt(&title)}), kids),
            used,
        )
    }

    fn quote(&mut self, nested: bool) -> (Value, usize) {
        let n = self.rng.range(1, 3);
        let text = self.rich(n);
        let kids = if nested && self.rng.chance(0.3) {
            vec![self.paragraph()]
        } else {
            vec![]
        };
        let used = 1 + kids.len();
        (block("quote", json!({"rich_text": text}), kids), used)
    }

    fn callout(&mut self, nested: bool) -> (Value, usize) {
        let n = self.rng.range(1, 3);
        let text = self.rich(n);
        let icon = self.rng.pick(CALLOUT_ICONS);
        let color = self.rng.pick(CALLOUT_COLORS);
        let mut kids = Vec::new();
        let mut used = 1;
        if self.rng.chance(if nested { 0.5 } else { 0.15 }) {
            kids.push(self.paragraph());
            used += 1;
            if nested {
                let (k, u) = self.list_item("bulleted_list_item", true, 1);
                kids.push(k);
                used += u;
            }
        }
        let inner =
            json!({"rich_text": text, "icon": {"type": "emoji", "emoji": icon}, "color": color});
        (block("callout", inner, kids), used)
    }

    fn code(&mut self) -> Value {
        let lines: Vec<&str> = (0..self.rng.range(2, 14))
            .map(|_| *self.rng.pick(CODE_LINES))
            .collect();
        let lang = self.rng.pick(LANGUAGES);
        let mut inner = json!({"rich_text": rt(&lines.join("\n")), "language": lang});
        if self.rng.chance(0.2) {
            inner["caption"] = rt(&self.words(4));
        }
        block("code", inner, vec![])
    }

    fn table(&mut self) -> (Value, usize) {
        let width = self.rng.range(2, 5);
        let rows = self.rng.range(2, 8);
        let mut kids = Vec::new();
        for r in 0..rows {
            let cells: Vec<Value> = (0..width)
                .map(|c| {
                    if r == 0 {
                        rt(&capitalize(&self.words(1)))
                    } else if c == width - 1 && self.rng.chance(0.5) {
                        json!([t(&format!("{}", self.rng.below(10_000)))])
                    } else {
                        let n = self.rng.range(1, 4);
                        rt(&self.words(n))
                    }
                })
                .collect();
            kids.push(json!({"type": "table_row", "table_row": {"cells": cells}}));
        }
        let inner = json!({"table_width": width, "has_column_header": true,
            "has_row_header": self.rng.chance(0.2)});
        (block("table", inner, kids), rows + 1)
    }

    fn bookmark(&mut self) -> Value {
        let url = format!("https://docs.acme.example/{}", self.rng.below(5000));
        let mut inner = json!({"url": url});
        if self.rng.chance(0.5) {
            inner["caption"] = rt(&self.topic_title());
        }
        block("bookmark", inner, vec![])
    }

    fn equation(&mut self) -> Value {
        let a = self.rng.range(2, 9);
        let expr = format!("p_{{99}} \\le {a} \\cdot p_{{50}} + \\epsilon");
        block("equation", json!({"expression": expr}), vec![])
    }

    fn columns(&mut self) -> (Value, usize) {
        let cols: Vec<Value> = (0..2)
            .map(|_| {
                let kids = vec![self.paragraph()];
                block("column", json!({}), kids)
            })
            .collect();
        (block("column_list", json!({}), cols), 5)
    }
}
