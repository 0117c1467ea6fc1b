//! Blocks -> Markdown (spec 3.1): our own emitter, deterministic byte for byte.
//!
//! Sibling blocks are separated by a blank line, except consecutive items of one list.
//! Lists are tight: an item's children follow its line directly when the first of them
//! can (a list, a code fence, a quote, a heading); other children need the blank line to
//! stay in the item. Every block's text is one line (newlines are `<br>`), so block
//! attributes (`{color=…}`) always sit at the end of "the first line". Children that
//! Markdown nests are indented (lists) or prefixed (`> `); children of anything else go in
//! a `<children>` tag after the block. Tag containers always have blank lines around their
//! content so that the content is read as Markdown, not HTML.

use super::escape::{fix_line, open_tag};
use super::inline::{color_out, comment_safe, paired_line, push_dest, render_runs, Ctx};
use super::{alert, lang, Links};
use crate::notion::model::block::{Callout, Code, Heading, Media, Table};
use crate::notion::model::{Block, BlockKind, FileObject, Icon, RichText, DEFAULT_COLOR};

/// What an empty text line is written as.
const EMPTY: &str = "<empty-block/>";

/// See [`super::render_with`].
pub(crate) fn render_with(blocks: &[Block], links: &dyn Links) -> String {
    let mut out = String::new();
    render_seq(blocks, links, &mut out);
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Which list a block continues, if any (`-` lists hold bullets and to-dos).
fn list_family(b: &Block) -> Option<char> {
    match b.kind {
        BlockKind::BulletedListItem(_) | BlockKind::ToDo(_) => Some('-'),
        BlockKind::NumberedListItem(_) => Some('1'),
        _ => None,
    }
}

fn render_seq(blocks: &[Block], links: &dyn Links, out: &mut String) {
    let mut number: u64 = 0;
    for (i, b) in blocks.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| &blocks[p]);
        let same_list =
            prev.is_some_and(|p| list_family(p).is_some() && list_family(p) == list_family(b));
        if let BlockKind::NumberedListItem(n) = &b.kind {
            number = if same_list {
                number + 1
            } else {
                n.list_start_index.unwrap_or(1)
            };
        }
        if prev.is_some() {
            // Items of one list stay tight; a sibling marker always starts a new item,
            // whatever the previous item's children end with.
            out.push_str(if same_list { "\n" } else { "\n\n" });
        }
        render_block(b, number, links, out);
    }
}

/// Renders children to a string (no trailing newline).
fn children_str(blocks: &[Block], links: &dyn Links) -> String {
    let mut s = String::new();
    render_seq(blocks, links, &mut s);
    s
}

/// Appends `text` with every line but the first prefixed (`first` is already written).
fn push_indented(out: &mut String, text: &str, prefix: &str) {
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !line.is_empty() {
            out.push_str(prefix);
        }
        out.push_str(line);
    }
}

/// A block's text line: inline Markdown, `empty` when there is no text, then
/// ` {color="…"}` and other attributes.
fn text_line(runs: &[RichText], attrs: &[(&str, String)], empty: &str) -> String {
    let body = render_runs(runs, Ctx::Line);
    let mut line = if body.is_empty() {
        empty.to_string()
    } else {
        fix_line(body)
    };
    if !attrs.is_empty() {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push('{');
        for (i, (k, v)) in attrs.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            line.push_str(k);
            line.push_str("=\"");
            super::escape::escape_attr(v, &mut line, false);
            line.push('"');
        }
        line.push('}');
    }
    line
}

fn color_attr(color: &str) -> Vec<(&'static str, String)> {
    if color == DEFAULT_COLOR {
        Vec::new()
    } else {
        vec![("color", color_out(color))]
    }
}

/// `<children>` after a block whose children Markdown cannot nest.
fn children_tag(b: &Block, links: &dyn Links, out: &mut String) {
    if b.children.is_empty() {
        return;
    }
    out.push_str("\n\n<children>\n\n");
    out.push_str(&children_str(&b.children, links));
    out.push_str("\n\n</children>");
}

fn container(out: &mut String, open: &str, inner: &str, close: &str) {
    out.push_str(open);
    out.push_str("\n\n");
    if !inner.is_empty() {
        out.push_str(inner);
        out.push_str("\n\n");
    }
    out.push_str(close);
}

fn tag_open(name: &str, attrs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    open_tag(&mut s, name, attrs);
    s.push('>');
    s
}

fn self_closing(name: &str, attrs: &[(&str, &str)], id: Option<&str>) -> String {
    let mut all: Vec<(&str, &str)> = attrs.to_vec();
    if let Some(id) = id {
        all.push(("id", id));
    }
    let mut s = String::new();
    open_tag(&mut s, name, &all);
    s.push_str("/>");
    s
}

fn details(
    out: &mut String,
    attrs: &[(&str, &str)],
    summary: &[RichText],
    b: &Block,
    links: &dyn Links,
) {
    let mut open = tag_open("details", attrs);
    open.push_str("\n<summary>");
    open.push_str(&fix_line(render_runs(summary, Ctx::Line)));
    open.push_str("</summary>");
    container(out, &open, &children_str(&b.children, links), "</details>");
}

/// Whether `first`, the first child of a list item, can follow the item's line without a
/// blank line and stay a block of its own: it must be able to interrupt a paragraph. A
/// line that starts with a tag may be an HTML block, which would swallow what follows.
fn child_follows_tightly(line: &str, first: &Block) -> bool {
    if line.starts_with('<') {
        return false;
    }
    match &first.kind {
        BlockKind::BulletedListItem(_) | BlockKind::ToDo(_) | BlockKind::Code(_) => true,
        BlockKind::Quote(_) => true,
        // Only a list starting at 1 may interrupt a paragraph.
        BlockKind::NumberedListItem(n) => n.list_start_index.unwrap_or(1) == 1,
        BlockKind::Heading1(h) | BlockKind::Heading2(h) | BlockKind::Heading3(h) => {
            !h.is_toggleable
        }
        BlockKind::Callout(c) => alert::for_callout(c.icon.as_ref(), &c.color).is_some(),
        _ => false,
    }
}

fn list_item(out: &mut String, marker: &str, line: &str, b: &Block, links: &dyn Links) {
    out.push_str(marker);
    out.push_str(line);
    let Some(first) = b.children.first() else {
        return;
    };
    let pad = if marker.starts_with("- [") {
        "  ".to_string()
    } else {
        " ".repeat(marker.chars().count().min(marker.len()))
    };
    out.push_str(if child_follows_tightly(line, first) {
        "\n"
    } else {
        "\n\n"
    });
    push_indented(out, &children_str(&b.children, links), &pad);
}

fn list_block(b: &Block, number: u64, links: &dyn Links, out: &mut String) {
    match &b.kind {
        BlockKind::BulletedListItem(t) => {
            let line = text_line(&t.rich_text, &color_attr(&t.color), EMPTY);
            list_item(out, "- ", &line, b, links);
        }
        BlockKind::NumberedListItem(n) => {
            let mut attrs = color_attr(&n.color);
            if let Some(f) = &n.list_format {
                attrs.push(("list-format", f.clone()));
            }
            let line = text_line(&n.rich_text, &attrs, EMPTY);
            list_item(out, &format!("{number}. "), &line, b, links);
        }
        BlockKind::ToDo(t) => {
            let line = text_line(&t.rich_text, &color_attr(&t.color), EMPTY);
            let marker = if t.checked { "- [x] " } else { "- [ ] " };
            list_item(out, marker, &line, b, links);
        }
        _ => {}
    }
}

fn media_src(b: &Block, m: &Media, links: &dyn Links) -> String {
    match &m.file {
        FileObject::External(e) => e.url.clone(),
        FileObject::File(f) => links.media_path(b).unwrap_or_else(|| f.url.clone()),
        FileObject::FileUpload(u) => format!("file-upload:{}", u.id),
        FileObject::Unknown { type_name, .. } => format!("{type_name}:"),
    }
}

fn icon_attrs(icon: &Option<Icon>) -> Vec<(&'static str, String)> {
    match icon {
        None => Vec::new(),
        Some(Icon::Emoji(e)) => vec![("icon", e.clone())],
        Some(other) => vec![(
            "icon-data",
            serde_json::to_string(other).expect("icons serialize"),
        )],
    }
}

fn as_refs<'a>(v: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn render_block(b: &Block, number: u64, links: &dyn Links, out: &mut String) {
    match &b.kind {
        BlockKind::Paragraph(t) => {
            out.push_str(&text_line(&t.rich_text, &color_attr(&t.color), EMPTY));
            children_tag(b, links, out);
        }
        BlockKind::Heading1(h) | BlockKind::Heading2(h) | BlockKind::Heading3(h) => {
            heading(b, h, links, out)
        }
        BlockKind::BulletedListItem(_) | BlockKind::NumberedListItem(_) | BlockKind::ToDo(_) => {
            list_block(b, number, links, out)
        }
        BlockKind::Toggle(t) => {
            let c = color_out(&t.color);
            let attrs: Vec<(&str, &str)> = if t.color != DEFAULT_COLOR {
                vec![("color", &c)]
            } else {
                Vec::new()
            };
            details(out, &attrs, &t.rich_text, b, links);
        }
        BlockKind::Quote(t) => {
            let first = text_line(&t.rich_text, &color_attr(&t.color), EMPTY);
            quote(out, &first, b, links);
        }
        BlockKind::Callout(c) => callout(b, c, links, out),
        BlockKind::Code(c) => code_block(b, c, links, out),
        BlockKind::Equation(e) => {
            out.push_str(&equation_block(&e.expression));
            children_tag(b, links, out);
        }
        BlockKind::Divider(_) => {
            out.push_str("---");
            children_tag(b, links, out);
        }
        BlockKind::Table(t) => render_table(b, t, out),
        BlockKind::ColumnList(_) | BlockKind::Column(_) => layout(b, links, out),
        BlockKind::Image(_)
        | BlockKind::Video(_)
        | BlockKind::Audio(_)
        | BlockKind::Pdf(_)
        | BlockKind::File(_)
        | BlockKind::Bookmark(_)
        | BlockKind::Embed(_) => media_block(b, links, out),
        BlockKind::LinkToPage(_)
        | BlockKind::ChildPage(_)
        | BlockKind::ChildDatabase(_)
        | BlockKind::SyncedBlock(_) => reference(b, links, out),
        BlockKind::Breadcrumb(_)
        | BlockKind::TableOfContents(_)
        | BlockKind::LinkPreview(_)
        | BlockKind::Template(_)
        | BlockKind::Unsupported(_)
        | BlockKind::TableRow(_)
        | BlockKind::Unknown { .. } => out.push_str(&placeholder(b)),
    }
}

fn heading(b: &Block, h: &Heading, links: &dyn Links, out: &mut String) {
    let level = match b.kind {
        BlockKind::Heading1(_) => 1,
        BlockKind::Heading2(_) => 2,
        _ => 3,
    };
    if h.is_toggleable {
        let lvl = level.to_string();
        let mut attrs = vec![("heading", lvl.as_str())];
        let c = color_out(&h.color);
        if h.color != DEFAULT_COLOR {
            attrs.push(("color", &c));
        }
        details(out, &attrs, &h.rich_text, b, links);
        return;
    }
    out.push_str(&"#".repeat(level));
    let line = text_line(&h.rich_text, &color_attr(&h.color), "");
    if !line.is_empty() {
        out.push(' ');
        out.push_str(&line);
    }
    children_tag(b, links, out);
}

/// `first` and the children of `b`, every line prefixed with `> `.
fn quote(out: &mut String, first: &str, b: &Block, links: &dyn Links) {
    let mut inner = first.to_string();
    if !b.children.is_empty() {
        inner.push_str("\n\n");
        inner.push_str(&children_str(&b.children, links));
    }
    for (i, line) in inner.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.is_empty() {
            out.push('>');
        } else {
            out.push_str("> ");
            out.push_str(line);
        }
    }
}

/// A callout: a GitHub alert when its icon and colour are an alert's (see
/// [`super::alert`]), otherwise `<callout icon="…" color="…">`.
fn callout(b: &Block, c: &Callout, links: &dyn Links, out: &mut String) {
    let text = text_line(&c.rich_text, &[], EMPTY);
    if let Some(a) = alert::for_callout(c.icon.as_ref(), &c.color) {
        let first = format!("[!{}]\n{text}", a.kind);
        quote(out, &first, b, links);
        return;
    }
    let mut attrs = icon_attrs(&c.icon);
    attrs.extend(color_attr(&c.color));
    let open = tag_open("callout", &as_refs(&attrs));
    let mut inner = text;
    if !b.children.is_empty() {
        inner.push_str("\n\n");
        inner.push_str(&children_str(&b.children, links));
    }
    container(out, &open, &inner, "</callout>");
}

/// The shortest run of backticks (at least three) longer than any run inside `text`.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut cur = 0;
    for ch in text.chars() {
        if ch == '`' {
            cur += 1;
            longest = longest.max(cur);
        } else {
            cur = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

fn code_block(b: &Block, c: &Code, links: &dyn Links, out: &mut String) {
    let text: String = c.rich_text.iter().map(RichText::text_content).collect();
    let fence = fence_for(&text);
    out.push_str(&fence);
    out.push_str(&lang::info_for(&c.language));
    out.push('\n');
    if !text.is_empty() {
        out.push_str(&text);
        out.push('\n');
    }
    out.push_str(&fence);
    if !c.caption.is_empty() {
        let cap = comment_safe(fix_line(render_runs(&c.caption, Ctx::Line)));
        if !cap.is_empty() {
            out.push_str("\n<!-- caption: ");
            out.push_str(&cap);
            out.push_str(" -->");
        }
    }
    children_tag(b, links, out);
}

fn layout(b: &Block, links: &dyn Links, out: &mut String) {
    let inner = children_str(&b.children, links);
    match &b.kind {
        BlockKind::Column(c) => {
            let w = c.width_ratio.map(|w| w.to_string());
            let attrs: Vec<(&str, &str)> = w.iter().map(|w| ("width", w.as_str())).collect();
            container(out, &tag_open("column", &attrs), &inner, "</column>");
        }
        _ => container(out, "<columns>", &inner, "</columns>"),
    }
}

fn media_block(b: &Block, links: &dyn Links, out: &mut String) {
    match &b.kind {
        BlockKind::Image(m) => {
            out.push_str("![");
            out.push_str(&fix_line(render_runs(&m.caption, Ctx::Line)));
            out.push_str("](");
            push_dest(&media_src(b, m, links), Ctx::Line, out);
            out.push(')');
        }
        BlockKind::Video(m) | BlockKind::Audio(m) | BlockKind::Pdf(m) | BlockKind::File(m) => {
            let src = media_src(b, m, links);
            let mut attrs = vec![("src", src.as_str())];
            if let Some(n) = &m.name {
                attrs.push(("name", n));
            }
            out.push_str(&paired_line(b.type_name(), &attrs, &m.caption));
        }
        BlockKind::Bookmark(u) | BlockKind::Embed(u) => {
            out.push_str(&paired_line(b.type_name(), &[("url", &u.url)], &u.caption));
        }
        _ => return,
    }
    children_tag(b, links, out);
}

/// Blocks that point elsewhere: links to pages, child pages and databases, synced blocks.
fn reference(b: &Block, links: &dyn Links, out: &mut String) {
    let id = b.id.as_deref();
    match &b.kind {
        BlockKind::LinkToPage(l) => {
            let target = l.target_id().unwrap_or("");
            let title = links.page_title(target).unwrap_or_default();
            let mut attrs = vec![("id", target)];
            if l.kind != "page_id" {
                attrs.push(("type", &l.kind));
            }
            out.push_str(&paired_line("link-to-page", &attrs, &plain_runs(&title)));
            children_tag(b, links, out);
        }
        BlockKind::ChildPage(c) | BlockKind::ChildDatabase(c) => {
            let name = if matches!(b.kind, BlockKind::ChildPage(_)) {
                "page"
            } else {
                "database"
            };
            let path = links.child_path(b);
            let attrs: Vec<(&str, &str)> = match (&path, id) {
                (Some(p), _) => vec![("path", p.as_str())],
                (None, Some(id)) => vec![("id", id)],
                (None, None) => Vec::new(),
            };
            out.push_str(&paired_line(name, &attrs, &plain_runs(&c.title)));
        }
        BlockKind::SyncedBlock(s) => match &s.synced_from {
            None => {
                let attrs: Vec<(&str, &str)> = id.iter().map(|i| ("id", *i)).collect();
                container(
                    out,
                    &tag_open("synced-block", &attrs),
                    &children_str(&b.children, links),
                    "</synced-block>",
                );
            }
            Some(from) => out.push_str(&self_closing(
                "synced-block-copy",
                &[("from", &from.block_id)],
                id,
            )),
        },
        _ => {}
    }
}

/// Blocks the dialect can only name: one self-closing tag carrying their id.
fn placeholder(b: &Block) -> String {
    let id = b.id.as_deref();
    match &b.kind {
        BlockKind::Breadcrumb(_) => self_closing("breadcrumb", &[], id),
        BlockKind::TableOfContents(t) => {
            let attrs = color_attr(&t.color);
            self_closing("table-of-contents", &as_refs(&attrs), id)
        }
        BlockKind::LinkPreview(l) => self_closing("link-preview", &[("url", &l.url)], id),
        BlockKind::Template(_) => self_closing("template", &[], id),
        _ => self_closing("unsupported", &[("type", b.type_name())], id),
    }
}

fn plain_runs(s: &str) -> Vec<RichText> {
    if s.is_empty() {
        Vec::new()
    } else {
        vec![RichText::plain(s)]
    }
}

/// `$$` on their own lines when the expression reads back verbatim inside a paragraph;
/// otherwise a ```` ```math ```` fence, which holds anything.
fn equation_block(expr: &str) -> String {
    let line_ok = |l: &str| {
        l.chars().next().is_some_and(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '\\' | '{' | '}' | '(' | ')' | '^' | ',' | '.' | ';' | ':' | '\'' | '/'
                )
        }) && !l.ends_with(char::is_whitespace)
            && !l.ends_with('\\')
            && !starts_like_ordered_item(l)
    };
    if !expr.is_empty()
        && super::inline::braces_balanced(expr)
        && !expr.contains(['$', '\r', '<', '&', '`'])
        && expr.split('\n').all(line_ok)
    {
        format!("$$\n{expr}\n$$")
    } else {
        let fence = fence_for(expr);
        if expr.is_empty() {
            format!("{fence}math\n{fence}")
        } else {
            format!("{fence}math\n{expr}\n{fence}")
        }
    }
}

/// `1.` / `1)` at the start of a line would start an ordered list.
fn starts_like_ordered_item(l: &str) -> bool {
    let digits = l.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(l.as_bytes().get(digits), Some(b'.' | b')'))
}

fn render_table(b: &Block, t: &Table, out: &mut String) {
    let rows: Vec<&Vec<Vec<RichText>>> = b
        .children
        .iter()
        .filter_map(|c| match &c.kind {
            BlockKind::TableRow(r) => Some(&r.cells),
            _ => None,
        })
        .collect();
    let width = t.table_width as usize;
    let pipe = t.has_column_header
        && !t.has_row_header
        && width > 0
        && !rows.is_empty()
        && rows.iter().all(|r| r.len() == width);
    if pipe {
        for (i, row) in rows.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push('|');
            for cell in row.iter() {
                out.push(' ');
                out.push_str(&fix_line(render_runs(cell, Ctx::Cell)));
                out.push_str(" |");
            }
            if i == 0 {
                out.push('\n');
                out.push('|');
                for _ in 0..width {
                    out.push_str(" --- |");
                }
            }
        }
        return;
    }
    let hr = t.has_column_header.to_string();
    let hc = t.has_row_header.to_string();
    let w = t.table_width.to_string();
    out.push_str(&tag_open(
        "table",
        &[("header-row", &hr), ("header-column", &hc), ("width", &w)],
    ));
    for row in rows {
        out.push_str("\n<tr>");
        for cell in row {
            out.push_str("\n<td>");
            out.push_str(&fix_line(render_runs(cell, Ctx::Line)));
            out.push_str("</td>");
        }
        out.push_str("\n</tr>");
    }
    out.push_str("\n</table>");
}
