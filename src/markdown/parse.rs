//! Markdown -> blocks (spec 3.1), on top of pulldown-cmark's event stream.
//!
//! Block-level Markdown maps directly (paragraphs, headings, lists, quotes, code, tables,
//! rules). Our tags arrive as HTML blocks (container tags on their own lines) or as a
//! paragraph that is one line of tags (`<file src>caption</file>`). Each container level
//! yields a flat list of [`Item`]s — blocks and open/close tags — which [`assemble`] nests
//! with a stack; a tag that does not pair up is kept as literal text. Raw HTML, footnotes,
//! link reference definitions and other constructs without a Notion counterpart become
//! paragraphs holding their source text.

use std::ops::Range;

use pulldown_cmark::{BlockQuoteKind, CodeBlockKind, Event, Options, Parser, Tag};

use super::escape::{parse_attr_list, read_tag, trailing_attrs_start, whole_tag, TagToken};
use super::inline::color_in;
use super::inline_parse::{parse_inline, parse_inline_str, Inline};
use super::lang;
use super::Links;
use crate::notion::model::block::{
    Callout, ChildTitle, Code, Column, Empty, EquationBlock, Heading, LinkPreview, LinkToPage,
    Media, NumberedItem, SyncedBlock, SyncedFrom, Table, TableOfContents, TableRow, Template,
    TextBlock, ToDo, UrlBlock,
};
use crate::notion::model::{
    Block, BlockKind, FileObject, Icon, JsonMap, RichText, RichTextKind, DEFAULT_COLOR,
};

/// The pulldown-cmark options of the dialect: GFM tables, task lists, strikethrough,
/// alerts, footnotes (kept literal) and `$` math.
pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_MATH
        | Options::ENABLE_GFM
        | Options::ENABLE_FOOTNOTES
}

type Ev<'a> = (Event<'a>, Range<usize>);

/// One element of a container's content before tags are paired.
// Blocks are large next to the tags, but each item is moved once into its container:
// cheaper than an allocation per block.
#[allow(clippy::large_enum_variant)]
enum Item {
    Block(Block),
    Open(TagToken<'static>, String),
    Details(TagToken<'static>, Vec<RichText>, String),
    Close(String, String),
}

struct P<'a> {
    src: &'a str,
    ev: Vec<Ev<'a>>,
    /// For each `Start` event, the index of its `End`.
    close: Vec<usize>,
    links: &'a dyn Links,
    /// Current nesting of Markdown containers (quotes, lists).
    depth: std::cell::Cell<usize>,
    /// Source spans of link reference definitions, in document order.
    refdefs: Vec<Range<usize>>,
    /// The first of `refdefs` not yet accounted for.
    next_refdef: std::cell::Cell<usize>,
}

/// A source line without what containers put in front of content: indentation, `>`,
/// list markers (`-`, `*`, `+`, `1.`, `1)`), task markers (`[ ]`, `[x]`) and alert markers.
fn strip_container_prefix(line: &str) -> &str {
    let mut l = line.trim();
    loop {
        let before = l.len();
        if let Some(r) = l.strip_prefix('>') {
            l = r.trim_start();
        }
        for m in ["-", "*", "+"] {
            if let Some(r) = l.strip_prefix(m) {
                if r.is_empty() || r.starts_with([' ', '\t']) {
                    l = r.trim_start();
                }
            }
        }
        let digits = l.bytes().take_while(u8::is_ascii_digit).count();
        if (1..=9).contains(&digits) {
            let r = &l[digits..];
            if let Some(r) = r.strip_prefix(['.', ')']) {
                if r.is_empty() || r.starts_with([' ', '\t']) {
                    l = r.trim_start();
                }
            }
        }
        for t in ["[ ]", "[x]", "[X]"] {
            if let Some(r) = l.strip_prefix(t) {
                l = r.trim_start();
            }
        }
        // GitHub alert markers (`[!NOTE]`), read as the callout's kind.
        if let Some(end) = l.find(']').filter(|_| l.starts_with("[!")) {
            let kind = l[2..end].to_ascii_uppercase();
            if ["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"].contains(&kind.as_str()) {
                l = l[end + 1..].trim_start();
            }
        }
        if l.len() == before {
            return l;
        }
    }
}

/// Deepest block tree `parse_with` builds: a container whose content would nest deeper
/// is kept as literal text (its tags) with its content flattened, so code walking the tree
/// recursively (render, drop, requests) stays within a thread's stack.
pub const MAX_TREE_DEPTH: usize = 40;

fn too_deep(children: &[Block]) -> bool {
    children.iter().any(|c| c.tree_depth() + 2 > MAX_TREE_DEPTH)
}

/// Deepest nesting of quotes and lists read as blocks; deeper content is kept as literal
/// text. Bounds recursion (stack use) on hostile input; Notion pages are far shallower.
pub const MAX_NESTING: usize = 48;

/// See [`super::parse_with`].
pub(crate) fn parse_with(md: &str, links: &dyn Links) -> Vec<Block> {
    let mut ev: Vec<Ev<'_>> = Vec::with_capacity(md.len() / 6 + 16);
    let mut iter = Parser::new_ext(md, options()).into_offset_iter();
    ev.extend(iter.by_ref());
    // Link reference definitions produce no events; keep their text (see `items`).
    let mut refdefs: Vec<Range<usize>> = iter
        .reference_definitions()
        .iter()
        .map(|(_, d)| d.span.clone())
        .collect();
    refdefs.sort_by_key(|r| r.start);
    let mut close = vec![0; ev.len()];
    let mut stack = Vec::new();
    for (i, (e, _)) in ev.iter().enumerate() {
        match e {
            Event::Start(_) => stack.push(i),
            Event::End(_) => {
                if let Some(s) = stack.pop() {
                    close[s] = i;
                }
            }
            _ => {}
        }
    }
    let p = P {
        src: md,
        ev,
        close,
        links,
        depth: std::cell::Cell::new(0),
        refdefs,
        next_refdef: std::cell::Cell::new(0),
    };
    let items = p.items(0, p.ev.len(), true);
    let mut blocks = assemble(items);
    strip_attrs(&mut blocks);
    blocks
}

fn paragraph(runs: Vec<RichText>, color: String) -> Block {
    Block::new(BlockKind::Paragraph(TextBlock {
        rich_text: runs,
        color,
        extra: JsonMap::new(),
    }))
}

fn literal(text: &str) -> Block {
    let t = text.trim_end_matches(['\n', '\r']);
    let runs = crate::notion::model::rich_text::split_long_runs(vec![RichText::plain(t)]);
    paragraph(runs, DEFAULT_COLOR.into())
}

fn is_block_tag(t: &Tag<'_>) -> bool {
    !matches!(
        t,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

/// Inline content with its trailing block attributes (`{color="red"}`) taken off.
struct Text {
    runs: Vec<RichText>,
    attrs: Vec<(String, String)>,
}

impl Text {
    fn color(&self) -> String {
        self.attrs
            .iter()
            .find(|(k, _)| k == "color")
            .map(|(_, v)| color_in(v))
            .unwrap_or_else(|| DEFAULT_COLOR.to_string())
    }
}

impl<'a> P<'a> {
    fn text(&self, from: usize, to: usize) -> Text {
        let slice = &self.ev[from..to];
        let Inline {
            mut runs,
            empty_marker,
        } = parse_inline(slice, self.src);
        let attrs = self.take_block_attrs(slice, &mut runs).unwrap_or_default();
        if empty_marker {
            runs.clear();
        }
        Text { runs, attrs }
    }

    /// Block attributes: when the raw source of `slice` ends with an unescaped `{k="v"}` in
    /// plain text, takes it off the last run and returns it.
    fn take_block_attrs(
        &self,
        slice: &[Ev<'_>],
        runs: &mut Vec<RichText>,
    ) -> Option<Vec<(String, String)>> {
        let (Event::Text(_), r) = slice.last()? else {
            return None;
        };
        let upto = &self.src[..r.end];
        let start = trailing_attrs_start(upto).filter(|s| *s >= r.start)?;
        let raw = &upto[start..];
        let list = parse_attr_list(&raw[1..raw.len() - 1])?;
        let RichTextKind::Text(t) = &mut runs.last_mut()?.kind else {
            return None;
        };
        if !t.content.ends_with(raw) {
            return None;
        }
        let n = t.content.len() - raw.len();
        t.content.truncate(n);
        if t.content.ends_with(' ') {
            t.content.pop();
        }
        *runs = super::inline::merge_owned(std::mem::take(runs));
        Some(
            list.into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Block items of events `from..to` (one container level).
    /// Emits the reference definitions that start before `pos` as literal paragraphs.
    fn refdefs_before(&self, pos: usize, out: &mut Vec<Item>) {
        let mut k = self.next_refdef.get();
        while let Some(r) = self.refdefs.get(k).filter(|r| r.start < pos) {
            out.push(Item::Block(literal(self.src[r.clone()].trim())));
            k += 1;
        }
        self.next_refdef.set(k);
    }

    /// Source between blocks that produced no events (duplicate reference definitions,
    /// …), minus the reference definitions emitted by span: kept as text. Inside a
    /// container (`nested`) quote markers, list markers and indentation are not text.
    fn gap(&self, a: usize, b: usize, nested: bool, out: &mut Vec<Item>) {
        let between = &self.src[a..b];
        if between.trim().is_empty() {
            return;
        }
        // Usually only container markers (`> `, `- `) sit between a container's blocks.
        let markers_only = |l: &str| strip_container_prefix(l).trim_matches('\\').is_empty();
        let first = self.refdefs.partition_point(|r| r.end <= a);
        let has_refdef = self.refdefs.get(first).is_some_and(|r| r.start < b);
        if nested && !has_refdef && between.lines().all(markers_only) {
            return;
        }
        let mut text = String::new();
        let mut pos = a;
        for r in self.refdefs[first..].iter().take_while(|r| r.start < b) {
            if r.start > pos {
                text.push_str(&self.src[pos..r.start]);
            }
            pos = pos.max(r.end);
        }
        if pos < b {
            text.push_str(&self.src[pos..b]);
        }
        if nested {
            let kept: Vec<&str> = text
                .lines()
                .map(strip_container_prefix)
                // An escape's backslash sits outside the event of the escaped character.
                .filter(|l| !l.trim_matches('\\').is_empty())
                .collect();
            text = kept.join("\n");
        }
        if !text.trim().is_empty() {
            out.push(Item::Block(literal(text.trim())));
        }
    }

    fn items(&self, from: usize, to: usize, top: bool) -> Vec<Item> {
        let mut out = Vec::new();
        let mut i = from;
        // Source not covered by any event (between blocks) is checked for lost text.
        let mut last_end = if top { 0 } else { self.ev[from - 1].1.start };
        while i < to {
            let (e, r) = &self.ev[i];
            if !matches!(e, Event::End(_)) {
                self.gap(last_end.min(r.start), r.start, !top, &mut out);
                last_end = last_end.max(r.end);
            }
            self.refdefs_before(r.start, &mut out);
            match e {
                Event::Start(t) if is_block_tag(t) => {
                    let j = self.close[i];
                    let consumed = self.block(t, i, j, &mut out);
                    i = j + 1 + consumed;
                    if let Some((_, r2)) = self.ev.get(i - 1) {
                        last_end = last_end.max(r2.end);
                    }
                }
                Event::Rule => {
                    out.push(Item::Block(Block::new(
                        BlockKind::Divider(Empty::default()),
                    )));
                    i += 1;
                }
                Event::TaskListMarker(_) | Event::End(_) => i += 1,
                _ => {
                    // Inline content directly in a tight list item: an implicit paragraph.
                    let mut j = i;
                    while j < to {
                        match &self.ev[j].0 {
                            Event::Start(t) if is_block_tag(t) => break,
                            Event::Start(_) => j = self.close[j] + 1,
                            Event::Rule | Event::End(_) => break,
                            _ => j += 1,
                        }
                    }
                    let j = j.max(i + 1);
                    let range = self.ev[i].1.start..self.ev[j - 1].1.end;
                    last_end = last_end.max(range.end);
                    self.paragraph(i, j, range, &mut out);
                    i = j;
                }
            }
        }
        let end = self.ev.get(to).map_or(self.src.len(), |(_, r)| r.end);
        if last_end < end {
            self.gap(last_end, end, !top, &mut out);
        }
        self.refdefs_before(end, &mut out);
        out
    }

    /// Handles the block starting at `i` (ending at `j`); returns how many events after
    /// `j` it also consumed (a code caption).
    fn block(&self, t: &Tag<'a>, i: usize, j: usize, out: &mut Vec<Item>) -> usize {
        let range = self.ev[i].1.clone();
        let nests = matches!(
            t,
            Tag::BlockQuote(_) | Tag::List(_) | Tag::FootnoteDefinition(_)
        );
        if nests {
            if self.depth.get() >= MAX_NESTING {
                out.push(Item::Block(literal(&self.src[range])));
                return 0;
            }
            self.depth.set(self.depth.get() + 1);
        }
        let consumed = self.block_inner(t, i, j, range, out);
        if nests {
            self.depth.set(self.depth.get() - 1);
        }
        consumed
    }

    fn block_inner(
        &self,
        t: &Tag<'a>,
        i: usize,
        j: usize,
        range: Range<usize>,
        out: &mut Vec<Item>,
    ) -> usize {
        let block = match t {
            Tag::Paragraph => {
                self.paragraph(i + 1, j, range, out);
                return 0;
            }
            Tag::Heading { level, .. } => self.heading(*level as usize, i, j),
            Tag::BlockQuote(kind) => self.blockquote(*kind, i, j, range),
            Tag::CodeBlock(kind) => {
                let (block, consumed) = self.code_block(kind, i, j);
                out.push(Item::Block(block));
                return consumed;
            }
            Tag::HtmlBlock => {
                self.html_block(i, j, out);
                return 0;
            }
            Tag::List(start) => {
                self.list(*start, i, j, out);
                return 0;
            }
            Tag::Table(_) => self.pipe_table(i, j),
            _ => literal(&self.src[range]),
        };
        out.push(Item::Block(block));
        0
    }

    fn heading(&self, level: usize, i: usize, j: usize) -> Block {
        let text = self.text(i + 1, j);
        let color = text.color();
        let h = Heading {
            rich_text: text.runs,
            color,
            is_toggleable: false,
            extra: JsonMap::new(),
        };
        Block::new(match level {
            1 => BlockKind::Heading1(h),
            2 => BlockKind::Heading2(h),
            _ => BlockKind::Heading3(h),
        })
    }

    /// A quote, or the callout a GitHub alert stands for (see [`super::alert`]).
    fn blockquote(
        &self,
        kind: Option<BlockQuoteKind>,
        i: usize,
        j: usize,
        range: Range<usize>,
    ) -> Block {
        let mut blocks = assemble(self.items(i + 1, j, false));
        if too_deep(&blocks) {
            return literal(&self.src[range]);
        }
        let (runs, color, mut children) = take_text(&mut blocks);
        children.extend(blocks);
        let kind = match kind {
            None => BlockKind::Quote(TextBlock {
                rich_text: runs,
                color,
                extra: JsonMap::new(),
            }),
            Some(k) => {
                let a = super::alert::for_quote(k);
                BlockKind::Callout(Callout {
                    rich_text: runs,
                    icon: Some(Icon::Emoji(a.icon.into())),
                    color: a.color.into(),
                    extra: JsonMap::new(),
                })
            }
        };
        Block::with_children(kind, children)
    }

    /// A fenced or indented code block (or a ```` ```math ```` equation); returns it and
    /// how many events after `j` its caption comment used.
    fn code_block(&self, kind: &CodeBlockKind<'a>, i: usize, j: usize) -> (Block, usize) {
        let mut text = String::new();
        for (e, _) in &self.ev[i + 1..j] {
            if let Event::Text(t) = e {
                text.push_str(t);
            }
        }
        if text.ends_with('\n') {
            text.pop();
        }
        let info = match kind {
            CodeBlockKind::Fenced(info) => info.to_string(),
            CodeBlockKind::Indented => String::new(),
        };
        let (mut caption, consumed) = match kind {
            CodeBlockKind::Fenced(_) => self.code_caption(j),
            CodeBlockKind::Indented => (Vec::new(), 0),
        };
        let word = info.split_whitespace().next().unwrap_or("");
        if word == "math" {
            let e = EquationBlock {
                expression: text,
                extra: JsonMap::new(),
            };
            return (Block::new(BlockKind::Equation(e)), consumed);
        }
        if !lang::is_recognised(&info) {
            // An unknown info string is kept at the start of the caption.
            let mut c = vec![RichText::plain(info.trim().to_string())];
            if !caption.is_empty() {
                c.push(RichText::plain(" "));
                c.extend(caption);
            }
            caption = super::inline::merge_owned(c);
        }
        let runs = if text.is_empty() {
            Vec::new()
        } else {
            vec![RichText::plain(text)]
        };
        let code = Code {
            rich_text: crate::notion::model::rich_text::split_long_runs(runs),
            caption,
            language: lang::language_for(&info),
            extra: JsonMap::new(),
        };
        (Block::new(BlockKind::Code(code)), consumed)
    }

    /// A `<!-- caption: … -->` comment right after the fence ending at `j`: its rich text
    /// and how many events it used.
    fn code_caption(&self, j: usize) -> (Vec<RichText>, usize) {
        let Some((Event::Start(Tag::HtmlBlock), _)) = self.ev.get(j + 1) else {
            return (Vec::new(), 0);
        };
        let k = self.close[j + 1];
        let html: String = self.ev[j + 2..k]
            .iter()
            .filter_map(|(e, _)| match e {
                Event::Html(h) => Some(h.as_ref()),
                _ => None,
            })
            .collect();
        let line = html.trim_end_matches('\n');
        let caption = line
            .strip_prefix("<!-- caption: ")
            .and_then(|l| l.strip_suffix(" -->"))
            .filter(|c| !c.contains('\n'));
        match caption {
            Some(c) => (parse_inline_str(c).runs, k - j),
            None => (Vec::new(), 0),
        }
    }

    fn html_block(&self, i: usize, j: usize, out: &mut Vec<Item>) {
        let html: String = self.ev[i + 1..j]
            .iter()
            .filter_map(|(e, _)| match e {
                Event::Html(h) | Event::Text(h) => Some(h.as_ref()),
                _ => None,
            })
            .collect();
        let line = html.trim();
        match self.html_items(&html) {
            Some(items) => out.extend(items),
            // A line of inline tags only (`<mention-date …/>`, `<br>`): a paragraph.
            None if !line.contains('\n') => {
                let runs = parse_inline_str(line).runs;
                out.push(Item::Block(paragraph(runs, DEFAULT_COLOR.into())));
            }
            None => out.push(Item::Block(literal(&html))),
        }
    }

    fn list(&self, start: Option<u64>, i: usize, j: usize, out: &mut Vec<Item>) {
        let mut k = i + 1;
        let mut first = true;
        while k < j {
            if let Event::Start(Tag::Item) = &self.ev[k].0 {
                let end = self.close[k];
                out.push(Item::Block(self.list_item(k, end, start, first)));
                first = false;
                k = end + 1;
            } else {
                k += 1;
            }
        }
    }

    fn list_item(&self, i: usize, j: usize, start: Option<u64>, first: bool) -> Block {
        let mut checked = None;
        for k in [i + 1, i + 2] {
            if let Some((Event::TaskListMarker(c), _)) = self.ev.get(k) {
                checked = Some(*c);
            }
        }
        let items = self.items(i + 1, j, false);
        let mut blocks = assemble_keep_attrs(items);
        if too_deep(&blocks) {
            return literal(&self.src[self.ev[i].1.clone()]);
        }
        let (runs, color, attrs, mut children) = take_text_attrs(&mut blocks);
        children.extend(blocks);
        let kind = match (checked, start) {
            (Some(c), _) => BlockKind::ToDo(ToDo {
                rich_text: runs,
                checked: c,
                color,
                extra: JsonMap::new(),
            }),
            (None, Some(n)) => BlockKind::NumberedListItem(NumberedItem {
                rich_text: runs,
                color,
                list_start_index: (first && n != 1).then_some(n),
                list_format: attrs
                    .iter()
                    .find(|(k, _)| k == "list-format")
                    .map(|(_, v)| v.clone()),
                extra: JsonMap::new(),
            }),
            (None, None) => BlockKind::BulletedListItem(TextBlock {
                rich_text: runs,
                color,
                extra: JsonMap::new(),
            }),
        };
        Block::with_children(kind, children)
    }

    fn pipe_table(&self, i: usize, j: usize) -> Block {
        let mut rows: Vec<Vec<Vec<RichText>>> = Vec::new();
        let mut k = i + 1;
        while k < j {
            match &self.ev[k].0 {
                Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                    // GFM drops cells beyond the header's count: keep such a table literal.
                    let row_end = self.ev[k].1.end;
                    let cells_end = self.ev[k + 1..self.close[k]]
                        .iter()
                        .map(|(_, r)| r.end)
                        .max()
                        .unwrap_or(self.ev[k].1.start);
                    let rest = self.src[cells_end.min(row_end)..row_end].trim();
                    if !rest.trim_start_matches('|').trim().is_empty() {
                        return literal(&self.src[self.ev[i].1.clone()]);
                    }
                    rows.push(Vec::new());
                    k += 1;
                }
                Event::Start(Tag::TableCell) => {
                    let end = self.close[k];
                    let inline = parse_inline(&self.ev[k + 1..end], self.src);
                    if let Some(r) = rows.last_mut() {
                        r.push(inline.runs);
                    }
                    k = end + 1;
                }
                _ => k += 1,
            }
        }
        table_block(rows, true, false, None)
    }

    fn paragraph(&self, from: usize, to: usize, range: Range<usize>, out: &mut Vec<Item>) {
        let raw = self.src[range].trim_end_matches(['\n', '\r']);
        let raw_line = raw.trim();
        // One line of our tags: a placeholder or a one-line block (`<file …>cap</file>`).
        if raw_line.starts_with('<') && !raw_line.contains('\n') {
            if let Some(item) = self.tag_line(raw_line) {
                out.push(item);
                return;
            }
        }
        if let Some(block) = self.lone_image_or_math(from, to) {
            out.push(Item::Block(block));
            return;
        }
        let text = self.text(from, to);
        let color = text.color();
        let mut b = paragraph(text.runs, color);
        if !text.attrs.is_empty() {
            // Attributes other than colour (list-format) ride along for list items.
            b.extra.insert(
                ATTRS_KEY.into(),
                serde_json::to_value(&text.attrs).expect("strings serialize"),
            );
        }
        out.push(Item::Block(b));
    }

    /// A paragraph that is only an image, or only `$$ … $$`: that block.
    fn lone_image_or_math(&self, from: usize, to: usize) -> Option<Block> {
        let blank = |k: &usize| matches!(&self.ev[*k].0, Event::Text(t) if t.trim().is_empty());
        let first = (from..to).find(|k| !blank(k))?;
        let last = (from..to).rev().find(|k| !blank(k))?;
        match &self.ev[first].0 {
            Event::Start(Tag::Image { dest_url, .. }) if self.close[first] == last => {
                let caption = parse_inline(&self.ev[first + 1..last], self.src).runs;
                let (id, file) = self.media_file(dest_url);
                let mut b = Block::new(BlockKind::Image(Media {
                    file,
                    caption,
                    name: None,
                    extra: JsonMap::new(),
                }));
                b.id = id;
                Some(b)
            }
            Event::DisplayMath(m) if first == last => {
                let mut e: &str = m;
                e = e.strip_prefix('\n').unwrap_or(e);
                e = e.strip_suffix('\n').unwrap_or(e);
                Some(Block::new(BlockKind::Equation(EquationBlock {
                    expression: e.to_string(),
                    extra: JsonMap::new(),
                })))
            }
            _ => None,
        }
    }

    fn media_file(&self, src: &str) -> (Option<String>, FileObject) {
        if let Some(r) = self.links.resolve(src) {
            let file = r.file.unwrap_or_else(|| FileObject::external(src));
            return (Some(r.block_id), file);
        }
        if let Some(id) = src.strip_prefix("file-upload:") {
            return (None, FileObject::upload(id));
        }
        (None, FileObject::external(src))
    }

    /// Items of an HTML block made only of our tags; `None` when any line is not ours.
    fn html_items(&self, html: &str) -> Option<Vec<Item>> {
        let lines: Vec<&str> = html.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut out = Vec::new();
        let mut k = 0;
        while k < lines.len() {
            let line = lines[k].trim();
            let tag = whole_tag(line);
            match tag {
                Some(t) if t.name == "details" && !t.closing && !t.self_closing => {
                    if !t.only_attrs(&["heading", "color"]) {
                        return None;
                    }
                    let summary = lines.get(k + 1)?.trim();
                    let inner = summary
                        .strip_prefix("<summary>")?
                        .strip_suffix("</summary>")?;
                    let runs = parse_inline_str(inner).runs;
                    out.push(Item::Details(
                        t.into_owned(),
                        runs,
                        format!("{line}\n{summary}"),
                    ));
                    k += 2;
                }
                Some(t) if t.name == "table" && !t.closing && !t.self_closing => {
                    let end = lines[k..].iter().position(|l| l.trim() == "</table>")? + k;
                    out.push(Item::Block(tag_table(&t, &lines[k + 1..end])?));
                    k = end + 1;
                }
                _ => {
                    out.push(self.tag_line(line)?);
                    k += 1;
                }
            }
        }
        Some(out)
    }

    /// One line holding one of our tags (or a one-line paired block tag).
    fn tag_line(&self, line: &str) -> Option<Item> {
        let (t, used) = read_tag(line)?;
        if used == line.len() {
            return self.single_tag(t, line);
        }
        // `<name attrs>inline</name>` on one line.
        if t.closing || t.self_closing {
            return None;
        }
        let close = format!("</{}>", t.name);
        let inner = line[used..].strip_suffix(close.as_str())?;
        let Inline { runs, .. } = parse_inline_str(inner);
        let plain =
            |runs: &[RichText]| -> String { runs.iter().map(RichText::text_content).collect() };
        let id_attr = t.attr("id").map(str::to_string);
        let block = match t.name.as_ref() {
            "file" | "pdf" | "video" | "audio" if t.only_attrs(&["src", "name"]) => {
                let (id, file) = self.media_file(t.attr("src")?);
                let media = Media {
                    file,
                    caption: runs,
                    name: t.attr("name").map(str::to_string),
                    extra: JsonMap::new(),
                };
                let kind = match t.name.as_ref() {
                    "file" => BlockKind::File(media),
                    "pdf" => BlockKind::Pdf(media),
                    "video" => BlockKind::Video(media),
                    _ => BlockKind::Audio(media),
                };
                let mut b = Block::new(kind);
                b.id = id;
                b
            }
            "bookmark" | "embed" if t.only_attrs(&["url"]) => {
                let u = UrlBlock {
                    url: t.attr("url")?.to_string(),
                    caption: runs,
                    extra: JsonMap::new(),
                };
                Block::new(if t.name == "bookmark" {
                    BlockKind::Bookmark(u)
                } else {
                    BlockKind::Embed(u)
                })
            }
            "page" | "database" if t.only_attrs(&["path", "id"]) => {
                let c = ChildTitle {
                    title: plain(&runs),
                    extra: JsonMap::new(),
                };
                let mut b = Block::new(if t.name == "page" {
                    BlockKind::ChildPage(c)
                } else {
                    BlockKind::ChildDatabase(c)
                });
                b.id = match t.attr("path") {
                    Some(p) => self.links.resolve(p).map(|r| r.block_id).or(id_attr),
                    None => id_attr,
                };
                b
            }
            "link-to-page" if t.only_attrs(&["id", "type"]) => {
                let target = t.attr("id")?.to_string();
                let kind = t.attr("type").unwrap_or("page_id").to_string();
                let mut l = LinkToPage {
                    kind: kind.clone(),
                    page_id: None,
                    database_id: None,
                    data_source_id: None,
                    extra: JsonMap::new(),
                };
                match kind.as_str() {
                    "page_id" => l.page_id = Some(target),
                    "database_id" => l.database_id = Some(target),
                    "data_source_id" => l.data_source_id = Some(target),
                    _ => return None,
                }
                Block::new(BlockKind::LinkToPage(l))
            }
            _ => return None,
        };
        Some(Item::Block(block))
    }

    fn single_tag(&self, t: TagToken, line: &str) -> Option<Item> {
        const CONTAINERS: [&str; 6] = [
            "details",
            "callout",
            "columns",
            "column",
            "synced-block",
            "children",
        ];
        if t.closing {
            return CONTAINERS
                .contains(&t.name.as_ref())
                .then(|| Item::Close(t.name.to_string(), line.to_string()));
        }
        if !t.self_closing {
            let ok = match t.name.as_ref() {
                "callout" => t.only_attrs(&["icon", "icon-data", "color"]),
                "columns" | "children" => t.attrs.is_empty(),
                "column" => t.only_attrs(&["width"]),
                "synced-block" => t.only_attrs(&["id"]),
                _ => false,
            };
            return ok.then(|| Item::Open(t.into_owned(), line.to_string()));
        }
        let id = t.attr("id").map(str::to_string);
        let kind = match t.name.as_ref() {
            "empty-block" if t.attrs.is_empty() => BlockKind::Paragraph(TextBlock {
                rich_text: Vec::new(),
                color: DEFAULT_COLOR.into(),
                extra: JsonMap::new(),
            }),
            "breadcrumb" if t.only_attrs(&["id"]) => BlockKind::Breadcrumb(Empty::default()),
            "table-of-contents" if t.only_attrs(&["id", "color"]) => {
                BlockKind::TableOfContents(TableOfContents {
                    color: t
                        .attr("color")
                        .map(color_in)
                        .unwrap_or_else(|| DEFAULT_COLOR.into()),
                    extra: JsonMap::new(),
                })
            }
            "link-preview" if t.only_attrs(&["id", "url"]) => BlockKind::LinkPreview(LinkPreview {
                url: t.attr("url")?.to_string(),
                extra: JsonMap::new(),
            }),
            "template" if t.only_attrs(&["id"]) => BlockKind::Template(Template {
                rich_text: Vec::new(),
                extra: JsonMap::new(),
            }),
            "synced-block-copy" if t.only_attrs(&["id", "from"]) => {
                BlockKind::SyncedBlock(SyncedBlock {
                    synced_from: Some(SyncedFrom {
                        kind: "block_id".into(),
                        block_id: t.attr("from")?.to_string(),
                        extra: JsonMap::new(),
                    }),
                    extra: JsonMap::new(),
                })
            }
            "unsupported" if t.only_attrs(&["id", "type"]) => match t.attr("type")? {
                "unsupported" => BlockKind::Unsupported(Empty::default()),
                other => BlockKind::Unknown {
                    type_name: other.to_string(),
                    payload: serde_json::Value::Null,
                },
            },
            _ => return None,
        };
        let mut b = Block::new(kind);
        b.id = id;
        Some(Item::Block(b))
    }
}

/// Key under which a parsed paragraph carries its non-colour block attributes until its
/// list item takes them (never left in the output).
const ATTRS_KEY: &str = "\u{0}notionfs-attrs";

fn table_block(
    rows: Vec<Vec<Vec<RichText>>>,
    header_row: bool,
    header_col: bool,
    width: Option<u32>,
) -> Block {
    let w = width.unwrap_or_else(|| rows.iter().map(Vec::len).max().unwrap_or(0) as u32);
    let children = rows
        .into_iter()
        .map(|mut cells| {
            cells.resize(w as usize, Vec::new());
            Block::new(BlockKind::TableRow(TableRow {
                cells,
                extra: JsonMap::new(),
            }))
        })
        .collect();
    Block::with_children(
        BlockKind::Table(Table {
            table_width: w,
            has_column_header: header_row,
            has_row_header: header_col,
            extra: JsonMap::new(),
        }),
        children,
    )
}

fn tag_table(t: &TagToken, lines: &[&str]) -> Option<Block> {
    if !t.only_attrs(&["header-row", "header-column", "width"]) {
        return None;
    }
    let flag = |k: &str| t.attr(k) == Some("true");
    let width = match t.attr("width") {
        Some(w) => Some(w.parse::<u32>().ok()?),
        None => None,
    };
    let mut rows: Vec<Vec<Vec<RichText>>> = Vec::new();
    let mut in_row = false;
    for l in lines {
        let l = l.trim();
        match l {
            "<tr>" if !in_row => {
                rows.push(Vec::new());
                in_row = true;
            }
            "</tr>" if in_row => in_row = false,
            _ if in_row => {
                let inner = l.strip_prefix("<td>")?.strip_suffix("</td>")?;
                rows.last_mut()?.push(parse_inline_str(inner).runs);
            }
            _ => return None,
        }
    }
    if in_row {
        return None;
    }
    if let Some(w) = width {
        if rows.iter().any(|r| r.len() > w as usize) {
            return None;
        }
    }
    Some(table_block(
        rows,
        flag("header-row"),
        flag("header-column"),
        width,
    ))
}

/// Takes a leading paragraph off `blocks` as a container's text: (text, colour, the
/// paragraph's own children).
fn take_text(blocks: &mut Vec<Block>) -> (Vec<RichText>, String, Vec<Block>) {
    let (r, c, _, ch) = take_text_attrs(blocks);
    (r, c, ch)
}

/// A container's text taken from its first paragraph: runs, colour, block attributes and
/// the paragraph's own children.
type TakenText = (Vec<RichText>, String, Vec<(String, String)>, Vec<Block>);

fn take_text_attrs(blocks: &mut Vec<Block>) -> TakenText {
    if let Some(first) = blocks.first() {
        if matches!(first.kind, BlockKind::Paragraph(_)) && first.id.is_none() {
            let mut b = blocks.remove(0);
            let attrs: Vec<(String, String)> = if b.extra.is_empty() {
                Vec::new()
            } else {
                b.extra
                    .remove(ATTRS_KEY)
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default()
            };
            if let BlockKind::Paragraph(p) = b.kind {
                return (p.rich_text, p.color, attrs, b.children);
            }
        }
    }
    (Vec::new(), DEFAULT_COLOR.into(), Vec::new(), Vec::new())
}

fn assemble(items: Vec<Item>) -> Vec<Block> {
    assemble_keep_attrs(items)
}

/// Removes the attribute carrier from paragraphs that did not become list items.
fn strip_attrs(blocks: &mut [Block]) {
    for b in blocks {
        if !b.extra.is_empty() {
            b.extra.remove(ATTRS_KEY);
        }
        strip_attrs(&mut b.children);
    }
}

enum Frame {
    Root,
    Open(TagToken<'static>, String),
    Details(TagToken<'static>, Vec<RichText>, String),
}

/// Pairs open/close tags into containers; unpaired tags become literal paragraphs.
fn assemble_keep_attrs(items: Vec<Item>) -> Vec<Block> {
    let mut stack: Vec<(Frame, Vec<Block>)> = vec![(Frame::Root, Vec::with_capacity(items.len()))];
    for item in items {
        match item {
            Item::Block(b) => stack.last_mut().expect("root").1.push(b),
            // Past the depth bound an opening tag stays text (see MAX_TREE_DEPTH).
            Item::Open(_, raw) | Item::Details(_, _, raw) if stack.len() >= MAX_TREE_DEPTH => {
                stack.last_mut().expect("root").1.push(literal(&raw))
            }
            Item::Open(t, raw) => stack.push((Frame::Open(t, raw), Vec::new())),
            Item::Details(t, runs, raw) => stack.push((Frame::Details(t, runs, raw), Vec::new())),
            Item::Close(name, raw) => {
                let matches = match &stack.last().expect("root").0 {
                    Frame::Open(t, _) => t.name == name,
                    Frame::Details(..) => name == "details",
                    Frame::Root => false,
                };
                if !matches {
                    stack.last_mut().expect("root").1.push(literal(&raw));
                    continue;
                }
                let (frame, blocks) = stack.pop().expect("not root");
                close_frame(frame, blocks, &mut stack.last_mut().expect("root").1);
            }
        }
    }
    while stack.len() > 1 {
        let (frame, blocks) = stack.pop().expect("len > 1");
        let parent = &mut stack.last_mut().expect("root").1;
        match frame {
            Frame::Open(_, raw) | Frame::Details(_, _, raw) => parent.push(literal(&raw)),
            Frame::Root => {}
        }
        parent.extend(blocks);
    }
    stack.pop().map(|(_, b)| b).unwrap_or_default()
}

/// Puts a closed container into `parent`.
fn close_frame(frame: Frame, blocks: Vec<Block>, parent: &mut Vec<Block>) {
    let as_text = |parent: &mut Vec<Block>, t: &TagToken, raw: &str, blocks: Vec<Block>| {
        parent.push(literal(raw));
        parent.extend(blocks);
        parent.push(literal(&format!("</{}>", t.name)));
    };
    match frame {
        // Nesting this deep would overflow the stack of whoever walks the tree: keep the
        // tags as text and the content flat instead.
        Frame::Open(t, raw) | Frame::Details(t, _, raw) if too_deep(&blocks) => {
            as_text(parent, &t, &raw, blocks)
        }
        Frame::Open(t, raw) if t.name == "children" => match parent.last_mut() {
            Some(prev) => prev.children.extend(blocks),
            None => as_text(parent, &t, &raw, blocks),
        },
        Frame::Open(t, _) => parent.push(container(&t, blocks)),
        Frame::Details(t, runs, _) => parent.push(details(&t, runs, blocks)),
        Frame::Root => {}
    }
}

fn details(t: &TagToken, runs: Vec<RichText>, children: Vec<Block>) -> Block {
    let color = t
        .attr("color")
        .map(color_in)
        .unwrap_or_else(|| DEFAULT_COLOR.into());
    let kind = match t.attr("heading") {
        Some(level @ ("1" | "2" | "3")) => {
            let h = Heading {
                rich_text: runs,
                color,
                is_toggleable: true,
                extra: JsonMap::new(),
            };
            match level {
                "1" => BlockKind::Heading1(h),
                "2" => BlockKind::Heading2(h),
                _ => BlockKind::Heading3(h),
            }
        }
        _ => BlockKind::Toggle(TextBlock {
            rich_text: runs,
            color,
            extra: JsonMap::new(),
        }),
    };
    Block::with_children(kind, children)
}

fn container(t: &TagToken, mut blocks: Vec<Block>) -> Block {
    match t.name.as_ref() {
        "callout" => {
            let (runs, _, mut children) = take_text(&mut blocks);
            children.extend(blocks);
            let icon = match (t.attr("icon"), t.attr("icon-data")) {
                (Some(e), _) => Some(Icon::Emoji(e.to_string())),
                (None, Some(d)) => serde_json::from_str(d).ok(),
                _ => None,
            };
            Block::with_children(
                BlockKind::Callout(Callout {
                    rich_text: runs,
                    icon,
                    color: t
                        .attr("color")
                        .map(color_in)
                        .unwrap_or_else(|| DEFAULT_COLOR.into()),
                    extra: JsonMap::new(),
                }),
                children,
            )
        }
        "columns" => Block::with_children(BlockKind::ColumnList(Empty::default()), blocks),
        "column" => Block::with_children(
            BlockKind::Column(Column {
                width_ratio: t.attr("width").and_then(|w| w.parse().ok()),
                extra: JsonMap::new(),
            }),
            blocks,
        ),
        _ => {
            // synced-block
            let mut b = Block::with_children(
                BlockKind::SyncedBlock(SyncedBlock {
                    synced_from: None,
                    extra: JsonMap::new(),
                }),
                blocks,
            );
            b.id = t.attr("id").map(str::to_string);
            b
        }
    }
}
