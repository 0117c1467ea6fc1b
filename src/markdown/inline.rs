//! Rich text <-> inline Markdown (spec 3.2).
//!
//! Rendering works run by run: each rich text object becomes one *piece* (`**x**`,
//! `[x](u)`, `<span underline="true">x</span>`, …). CommonMark decides whether `**` opens
//! or closes from the characters on either side ("flanking"), so after building the pieces
//! the edges are repaired: an inner edge that is whitespace becomes an entity (`&#32;`), and
//! a letter outside a delimiter whose inner edge is punctuation becomes an entity too (an
//! entity ends in `;`, which is punctuation). Two runs whose delimiters would touch (`**a**`
//! then `*b*`) cannot be written with delimiters; the second is written as a
//! `<span bold="true" …>` tag instead. Links and spans enclose their delimiters in `[`…`]` /
//! `>`…`<`, which are always safe.
//!
//! Parsing walks pulldown-cmark's inline events with a style stack; our own inline tags
//! (`<span>`, `<br>`, `<mention-…>`, `<equation/>`) are recognised only when well formed and
//! matched, everything else is kept as literal text.

use std::ops::Range;

use pulldown_cmark::{Event, Tag, TagEnd};
use serde_json::Value;

use super::escape::{escape_text, neighbour_safe, open_tag, push_entity, read_tag, TagToken};
use crate::notion::model::rich_text::{DateValue, Equation, IdRef, Text, UrlRef};
use crate::notion::model::{Annotations, JsonMap, Mention, RichText, RichTextKind, User};

/// Where inline text is written; changes what must be escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// Paragraphs, headings, list items, captions in tags.
    Line,
    /// A GFM pipe table cell: `|` is escaped too.
    Cell,
}

/// Notion colour name -> the short form we write (`red_background` -> `red_bg`).
pub(crate) fn color_out(c: &str) -> String {
    match c.strip_suffix("_background") {
        Some(base) => format!("{base}_bg"),
        None => c.to_string(),
    }
}

/// Our colour form -> Notion's (`red_bg` -> `red_background`).
pub(crate) fn color_in(c: &str) -> String {
    match c.strip_suffix("_bg") {
        Some(base) => format!("{base}_background"),
        None => c.to_string(),
    }
}

fn link_of(r: &RichText) -> Option<&str> {
    match &r.kind {
        RichTextKind::Text(t) => t.link.as_ref().map(|l| l.url.as_str()),
        _ => None,
    }
}

fn is_empty_text(r: &RichText) -> bool {
    matches!(&r.kind, RichTextKind::Text(t) if t.content.is_empty())
}

fn mergeable(a: &RichText, b: &RichText) -> bool {
    matches!(
        (&a.kind, &b.kind),
        (RichTextKind::Text(_), RichTextKind::Text(_))
    ) && a.annotations == b.annotations
        && link_of(a) == link_of(b)
}

/// Whether [`merge_runs`] would change `runs`.
pub fn needs_merge(runs: &[RichText]) -> bool {
    runs.iter().any(is_empty_text) || runs.windows(2).any(|w| mergeable(&w[0], &w[1]))
}

/// Merges neighbouring text runs that look the same and drops empty text runs, so the
/// same text always renders the same way however the API happened to split it.
pub fn merge_runs(runs: &[RichText]) -> Vec<RichText> {
    if !needs_merge(runs) {
        return runs.to_vec();
    }
    merge_owned(runs.to_vec())
}

/// [`merge_runs`] on an owned array (no copies when nothing merges).
pub fn merge_owned(runs: Vec<RichText>) -> Vec<RichText> {
    if !needs_merge(&runs) {
        return runs;
    }
    let mut out: Vec<RichText> = Vec::with_capacity(runs.len());
    for r in runs {
        if is_empty_text(&r) {
            continue;
        }
        if let Some(last) = out.last_mut() {
            if mergeable(last, &r) {
                if let (RichTextKind::Text(lt), RichTextKind::Text(t)) = (&mut last.kind, &r.kind) {
                    lt.content.push_str(&t.content);
                    last.plain_text = None;
                    last.href = None;
                    continue;
                }
            }
        }
        out.push(r);
    }
    out
}

struct Piece {
    s: String,
    /// Delimiter character at the start / end (`*`, `~`, `` ` ``, `$`), for conflicts.
    first_delim: Option<char>,
    last_delim: Option<char>,
    /// The outer neighbours must be safe (inner edge is not alphanumeric).
    need_left: bool,
    need_right: bool,
}

/// Writes a link destination, in `<…>` form when it holds spaces or parentheses.
pub(crate) fn push_dest(url: &str, ctx: Ctx, out: &mut String) {
    let plain = !url.is_empty()
        && !url.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '(' | ')' | '<' | '>' | '\\')
        });
    let esc_amp = |out: &mut String, rest: &str, c: char| {
        if c == '&' && rest[1..].find(';').is_some_and(|e| e < 40) {
            out.push('\\');
        }
    };
    if plain {
        for (i, c) in url.char_indices() {
            esc_amp(out, &url[i..], c);
            if c == '|' && ctx == Ctx::Cell {
                out.push('\\');
            }
            out.push(c);
        }
    } else {
        out.push('<');
        for (i, c) in url.char_indices() {
            esc_amp(out, &url[i..], c);
            match c {
                '<' | '>' | '\\' => out.push('\\'),
                '|' if ctx == Ctx::Cell => out.push('\\'),
                _ => {}
            }
            if c == '\n' || c == '\r' {
                out.push(' ');
            } else {
                out.push(c);
            }
        }
        out.push('>');
    }
}

fn code_span(c: &str) -> Option<String> {
    if c.is_empty() || c.contains(['\n', '\r']) {
        return None;
    }
    let mut longest = 0;
    let mut cur = 0;
    for ch in c.chars() {
        if ch == '`' {
            cur += 1;
            longest = longest.max(cur);
        } else {
            cur = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = c.starts_with('`')
        || c.ends_with('`')
        || (c.starts_with(' ') && c.ends_with(' ') && !c.chars().all(|x| x == ' '));
    let mut s = String::with_capacity(c.len() + 2 * fence.len() + 2);
    s.push_str(&fence);
    if pad {
        s.push(' ');
    }
    s.push_str(c);
    if pad {
        s.push(' ');
    }
    s.push_str(&fence);
    Some(s)
}

/// Whether `{`/`}` in `s` balance (pulldown-cmark does not close math inside braces).
pub(crate) fn braces_balanced(s: &str) -> bool {
    let mut depth: i64 = 0;
    let mut esc = false;
    for c in s.chars() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' => esc = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn equation_inline(expr: &str, ctx: Ctx) -> String {
    let pipe_in_cell = ctx == Ctx::Cell && expr.contains('|');
    let awkward = expr.is_empty()
        || pipe_in_cell
        || !braces_balanced(expr)
        || expr.contains(['$', '\n', '\r'])
        || expr.starts_with(char::is_whitespace)
        || expr.ends_with(char::is_whitespace)
        || expr.ends_with('\\');
    if !awkward {
        format!("${expr}$")
    } else {
        let mut s = String::new();
        open_tag(&mut s, "equation", &[("expression", expr)]);
        s.push_str("/>");
        s
    }
}

fn mention_tag(r: &RichText, m: &Mention, ctx: Ctx, out: &mut String) {
    let title = r.plain_text.as_deref().unwrap_or("");
    let paired = |out: &mut String, name: &str, attrs: &[(&str, &str)]| {
        open_tag(out, name, attrs);
        out.push('>');
        escape_text(title, ctx == Ctx::Cell, out);
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    };
    match m {
        Mention::Page(p) => paired(
            out,
            "mention-page",
            &[("url", &format!("https://www.notion.so/{}", p.id))],
        ),
        Mention::Database(p) => paired(
            out,
            "mention-database",
            &[("url", &format!("https://www.notion.so/{}", p.id))],
        ),
        Mention::DataSource(p) => paired(out, "mention-data-source", &[("id", &p.id)]),
        Mention::User(u) => paired(out, "mention-user", &[("url", &format!("user://{}", u.id))]),
        Mention::Date(d) => {
            let mut attrs = vec![("start", d.start.as_str())];
            if let Some(e) = &d.end {
                attrs.push(("end", e));
            }
            if let Some(z) = &d.time_zone {
                attrs.push(("time-zone", z));
            }
            open_tag(out, "mention-date", &attrs);
            out.push_str("/>");
        }
        Mention::LinkPreview(u) => {
            open_tag(out, "mention-link-preview", &[("url", &u.url)]);
            out.push_str("/>");
        }
        other => {
            let name = format!("mention-{}", other.type_name().replace('_', "-"));
            let data = other.payload().to_string();
            paired(out, &name, &[("data", &data)]);
        }
    }
}

/// The inner text of a run (without delimiters). `delimited`: emphasis delimiters will
/// surround it, so whitespace at its edges must be written as entities.
fn core(r: &RichText, ctx: Ctx, code_ok: bool, delimited: bool) -> String {
    let mut s = String::new();
    match &r.kind {
        RichTextKind::Text(t) => {
            if r.annotations.code && code_ok {
                if let Some(c) = code_span(&t.content) {
                    return c;
                }
            }
            escape_text(&t.content, ctx == Ctx::Cell, &mut s);
            if !delimited {
                return s;
            }
            // Whitespace at an inner edge would stop delimiters from opening/closing.
            if s.starts_with(char::is_whitespace) {
                let c = s.chars().next().expect("non-empty");
                let mut n = String::new();
                push_entity(&mut n, c);
                n.push_str(&s[c.len_utf8()..]);
                s = n;
            }
            if s.ends_with(char::is_whitespace) {
                let c = s.chars().next_back().expect("non-empty");
                s.truncate(s.len() - c.len_utf8());
                push_entity(&mut s, c);
            }
        }
        RichTextKind::Equation(e) => s = equation_inline(&e.expression, ctx),
        RichTextKind::Mention(m) => mention_tag(r, m, ctx, &mut s),
        RichTextKind::Unknown { type_name, payload } => {
            let data = payload.to_string();
            open_tag(&mut s, "rich-text", &[("type", type_name), ("data", &data)]);
            s.push('>');
            escape_text(
                r.plain_text.as_deref().unwrap_or(""),
                ctx == Ctx::Cell,
                &mut s,
            );
            s.push_str("</rich-text>");
        }
    }
    s
}

fn code_expressible(r: &RichText, ctx: Ctx) -> bool {
    match &r.kind {
        RichTextKind::Text(t) if r.annotations.code => {
            !(t.content.contains(['\n', '\r'])
                || (ctx == Ctx::Cell && t.content.contains('|'))
                // Brackets in a code span inside a link label can make the line read as a
                // link reference definition (labels are found before code spans).
                || (t.link.is_some() && t.content.contains(['[', ']'])))
        }
        _ => true,
    }
}

/// Renders one run. `all_span` writes every annotation as a `<span>` attribute.
fn piece(r: &RichText, ctx: Ctx, all_span: bool) -> Piece {
    let a = &r.annotations;
    let all_span = all_span || !code_expressible(r, ctx);
    let is_code_text = a.code && matches!(r.kind, RichTextKind::Text(_));
    let delimited = !all_span && (a.bold || a.italic || a.strikethrough);
    let inner = core(r, ctx, !all_span, delimited);
    // Opening and closing delimiter runs, outermost first.
    let (delims, rev) = if all_span {
        ("", "")
    } else {
        match (a.bold, a.italic, a.strikethrough) {
            (false, false, false) => ("", ""),
            (true, false, false) => ("**", "**"),
            (false, true, false) => ("*", "*"),
            (true, true, false) => ("***", "***"),
            (false, false, true) => ("~~", "~~"),
            (true, false, true) => ("**~~", "~~**"),
            (false, true, true) => ("*~~", "~~*"),
            (true, true, true) => ("***~~", "~~***"),
        }
    };
    let mut span_attrs: Vec<(&str, String)> = Vec::new();
    if all_span {
        for (on, k) in [
            (a.bold, "bold"),
            (a.italic, "italic"),
            (a.strikethrough, "strikethrough"),
        ] {
            if on {
                span_attrs.push((k, "true".into()));
            }
        }
    }
    if a.underline {
        span_attrs.push(("underline", "true".into()));
    }
    if a.code && (all_span || !is_code_text) {
        span_attrs.push(("code", "true".into()));
    }
    if a.color != crate::notion::model::DEFAULT_COLOR {
        span_attrs.push(("color", color_out(&a.color)));
    }
    let mut s = String::with_capacity(inner.len() + 16);
    let link = link_of(r);
    let first_inner = inner.chars().next();
    let last_inner = inner.chars().next_back();
    let (mut need_left, mut need_right) = (false, false);
    if let Some(url) = link {
        s.push('[');
        s.push_str(delims);
        s.push_str(&inner);
        s.push_str(rev);
        s.push_str("](");
        push_dest(url, ctx, &mut s);
        s.push(')');
    } else {
        s.push_str(delims);
        s.push_str(&inner);
        s.push_str(rev);
        if !delims.is_empty() {
            // With `*` and `~~` both present the outer run touches the inner one (punctuation).
            let mixed = delims.contains('*') && delims.contains('~');
            need_left = mixed || !first_inner.is_some_and(char::is_alphanumeric);
            need_right = mixed || !last_inner.is_some_and(char::is_alphanumeric);
        }
    }
    let delim_char = |c: Option<char>| c.filter(|c| matches!(c, '*' | '~' | '`' | '$'));
    let mut p = Piece {
        first_delim: delim_char(s.chars().next()),
        last_delim: delim_char(s.chars().next_back()),
        s,
        need_left,
        need_right,
    };
    if !span_attrs.is_empty() {
        let mut w = String::with_capacity(p.s.len() + 40);
        let attrs: Vec<(&str, &str)> = span_attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        open_tag(&mut w, "span", &attrs);
        w.push('>');
        w.push_str(&p.s);
        w.push_str("</span>");
        p = Piece {
            s: w,
            first_delim: None,
            last_delim: None,
            need_left: false,
            need_right: false,
        };
    }
    p
}

/// Renders a rich text array as one line of inline Markdown (not yet line-start safe;
/// callers pass it through [`super::escape::fix_line`]).
pub(crate) fn render_runs(runs: &[RichText], ctx: Ctx) -> String {
    let merged;
    let runs = if needs_merge(runs) {
        merged = merge_runs(runs);
        &merged[..]
    } else {
        runs
    };
    let mut pieces: Vec<Piece> = Vec::with_capacity(runs.len());
    for r in runs {
        let mut p = piece(r, ctx, false);
        if let (Some(prev), Some(first)) = (pieces.last(), p.first_delim) {
            if prev.last_delim == Some(first) {
                p = piece(r, ctx, true);
                if p.first_delim == Some(first) {
                    // An equation after an equation: use the tag form.
                    if let RichTextKind::Equation(e) = &r.kind {
                        let mut s = String::new();
                        open_tag(&mut s, "equation", &[("expression", &e.expression)]);
                        s.push_str("/>");
                        p.s = s;
                        p.first_delim = None;
                        p.last_delim = None;
                    }
                }
            }
        }
        pieces.push(p);
    }
    let mut out = String::with_capacity(pieces.iter().map(|p| p.s.len()).sum::<usize>() + 8);
    for i in 0..pieces.len() {
        if pieces[i].need_left {
            if let Some(c) = out.chars().next_back() {
                if !neighbour_safe(c) {
                    out.truncate(out.len() - c.len_utf8());
                    push_entity(&mut out, c);
                }
            }
        }
        if pieces[i].s.starts_with('[') && out.ends_with('!') && !out.ends_with("\\!") {
            out.insert(out.len() - 1, '\\');
        }
        if pieces[i].need_right && i + 1 < pieces.len() {
            if let Some(c) = pieces[i + 1].s.chars().next() {
                if !neighbour_safe(c) {
                    let mut n = String::new();
                    push_entity(&mut n, c);
                    n.push_str(&pieces[i + 1].s[c.len_utf8()..]);
                    pieces[i + 1].s = n;
                }
            }
        }
        out.push_str(&pieces[i].s);
    }
    out
}

/// Our inline tags recognised while parsing.
fn tag_of(html: &str) -> Option<TagToken> {
    let t = html.trim_end_matches(['\n', '\r']);
    let (tag, used) = read_tag(t)?;
    (used == t.len()).then_some(tag)
}

/// The current style while walking inline events.
#[derive(Clone, Debug, Default)]
struct Style {
    bold: bool,
    italic: bool,
    strike: bool,
    underline: bool,
    code: bool,
    color: Option<String>,
    link: Option<String>,
}

impl Style {
    fn annotations(&self, code: bool) -> Annotations {
        Annotations {
            bold: self.bold,
            italic: self.italic,
            strikethrough: self.strike,
            underline: self.underline,
            code: self.code || code,
            color: self
                .color
                .clone()
                .unwrap_or_else(|| crate::notion::model::DEFAULT_COLOR.to_string()),
            extra: JsonMap::new(),
            ..Annotations::default()
        }
    }
}

const SPAN_ATTRS: [&str; 6] = [
    "bold",
    "italic",
    "strikethrough",
    "underline",
    "code",
    "color",
];

/// Result of reading inline content.
pub(crate) struct Inline {
    /// The rich text.
    pub runs: Vec<RichText>,
    /// The content was exactly `<empty-block/>` (plus block attributes).
    pub empty_marker: bool,
}

/// Builds rich text from a slice of inline events. `src` is the whole document (for the
/// literal text of constructs we keep verbatim).
pub(crate) fn parse_inline(events: &[(Event<'_>, Range<usize>)], src: &str) -> Inline {
    // Pair up our open/close tags first; unmatched ones stay literal.
    let has_html = events
        .iter()
        .any(|(e, _)| matches!(e, Event::InlineHtml(_) | Event::Html(_)));
    let tags: Vec<Option<TagToken>> = if !has_html {
        Vec::new()
    } else {
        events
            .iter()
            .map(|(e, _)| match e {
                Event::InlineHtml(h) | Event::Html(h) => tag_of(h),
                _ => None,
            })
            .collect()
    };
    let mut partner: Vec<Option<usize>> = vec![None; tags.len()];
    let mut open: Vec<usize> = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        let Some(t) = t else { continue };
        if t.self_closing {
            continue;
        }
        let pairable = t.name == "span" || t.name.starts_with("mention-") || t.name == "rich-text";
        if !pairable {
            continue;
        }
        if !t.closing {
            open.push(i);
        } else if let Some(pos) = open.iter().rposition(|&o| {
            tags[o]
                .as_ref()
                .is_some_and(|ot| ot.name == t.name && partner[o].is_none())
        }) {
            let o = open[pos];
            // Mentions hold only text: nothing of ours may sit between their tags.
            open.truncate(pos);
            partner[o] = Some(i);
            partner[i] = Some(o);
        }
    }

    let mut b = Builder {
        runs: Vec::with_capacity(events.len() / 2 + 1),
        stack: vec![Style::default()],
        generation: 0,
        open_text: None,
    };
    let mut empty_markers = 0;
    let mut other_content = false;
    // Plain text beside an `<empty-block/>` may only be block attributes.
    let mut side_text = String::new();
    let mut i = 0;
    while i < events.len() {
        let (ev, range) = &events[i];
        match ev {
            Event::Text(t) => {
                side_text.push_str(t);
                b.text(t)
            }
            Event::Code(t) => {
                other_content = true;
                b.push_text(t, true)
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => {
                other_content = true;
                b.equation(t)
            }
            Event::SoftBreak | Event::HardBreak => {
                other_content = true;
                b.text("\n")
            }
            Event::FootnoteReference(_) => {
                other_content = true;
                b.text(&src[range.clone()])
            }
            Event::Start(Tag::Emphasis) => b.push(|s| s.italic = true),
            Event::Start(Tag::Strong) => b.push(|s| s.bold = true),
            Event::Start(Tag::Strikethrough) => b.push(|s| s.strike = true),
            Event::Start(Tag::Link { dest_url, .. }) => {
                let url = dest_url.to_string();
                b.push(move |s| s.link = Some(url));
            }
            Event::End(TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough)
            | Event::End(TagEnd::Link) => b.pop(),
            Event::Start(Tag::Image { .. }) => {
                // An image inside text has no Notion counterpart: keep its source.
                other_content = true;
                b.text(&src[range.clone()]);
                let mut depth = 0;
                while i < events.len() {
                    match &events[i].0 {
                        Event::Start(_) => depth += 1,
                        Event::End(_) => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            Event::InlineHtml(h) | Event::Html(h) => {
                let tag = tags[i].as_ref();
                let handled = match tag {
                    Some(t) if t.name == "br" && !t.closing && t.attrs.is_empty() => {
                        other_content = true;
                        b.text("\n");
                        true
                    }
                    Some(t) if t.name == "empty-block" && t.self_closing && t.attrs.is_empty() => {
                        empty_markers += 1;
                        b.text(h);
                        true
                    }
                    Some(t) if t.name == "span" && partner[i].is_some() => {
                        if t.closing {
                            b.pop();
                            true
                        } else if let Some(style) = span_style(t) {
                            b.push(move |s| {
                                s.bold |= style.bold;
                                s.italic |= style.italic;
                                s.strike |= style.strike;
                                s.underline |= style.underline;
                                s.code |= style.code;
                                if style.color.is_some() {
                                    s.color = style.color.clone();
                                }
                            });
                            true
                        } else {
                            // Not our span: its partner must be literal too.
                            if let Some(j) = partner[i] {
                                partner[j] = None;
                            }
                            false
                        }
                    }
                    Some(t) if t.name == "equation" && t.self_closing => {
                        match t
                            .attr("expression")
                            .filter(|_| t.only_attrs(&["expression"]))
                        {
                            Some(e) => {
                                b.equation(e);
                                true
                            }
                            None => false,
                        }
                    }
                    Some(t)
                        if (t.name.starts_with("mention-") || t.name == "rich-text")
                            && !t.closing
                            && (t.self_closing || partner[i].is_some()) =>
                    {
                        let end = if t.self_closing {
                            i
                        } else {
                            partner[i].unwrap_or(i)
                        };
                        let title = plain_between(&events[i + 1..end.max(i + 1)], src);
                        match mention_from(t, &title) {
                            Some(run) => {
                                b.push_run(run);
                                i = end;
                                true
                            }
                            None => false,
                        }
                    }
                    _ => false,
                };
                if !handled {
                    other_content = true;
                    b.text(h.trim_end_matches(['\n']));
                }
            }
            _ => {}
        }
        i += 1;
    }
    let side = side_text.trim();
    let empty_marker = empty_markers == 1
        && !other_content
        && (side.is_empty()
            || (side.starts_with('{')
                && side.ends_with('}')
                && super::escape::parse_attr_list(&side[1..side.len() - 1]).is_some()));
    let runs = if empty_marker && side.is_empty() {
        Vec::new()
    } else if empty_marker {
        vec![RichText::plain(side_text.clone())]
    } else {
        crate::notion::model::rich_text::split_long_runs(merge_owned(b.runs))
    };
    Inline { runs, empty_marker }
}

fn span_style(t: &TagToken) -> Option<Style> {
    if t.closing || t.attrs.is_empty() || !t.only_attrs(&SPAN_ATTRS) {
        return None;
    }
    let mut s = Style::default();
    for (k, v) in &t.attrs {
        let on = v == "true";
        match k.as_str() {
            "bold" if on => s.bold = true,
            "italic" if on => s.italic = true,
            "strikethrough" if on => s.strike = true,
            "underline" if on => s.underline = true,
            "code" if on => s.code = true,
            "color" if !v.is_empty() => s.color = Some(color_in(v)),
            _ => return None,
        }
    }
    Some(s)
}

fn plain_between(events: &[(Event<'_>, Range<usize>)], src: &str) -> String {
    let mut s = String::new();
    for (e, r) in events {
        match e {
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                s.push_str(t)
            }
            Event::FootnoteReference(_) => s.push_str(&src[r.clone()]),
            Event::SoftBreak | Event::HardBreak => s.push('\n'),
            Event::InlineHtml(h) => {
                if tag_of(h).is_some_and(|t| t.name == "br") {
                    s.push('\n');
                } else {
                    s.push_str(h);
                }
            }
            _ => {}
        }
    }
    s
}

fn id_from_url(url: &str) -> String {
    url.rsplit('/').next().unwrap_or(url).to_string()
}

fn mention_from(t: &TagToken, title: &str) -> Option<RichText> {
    let kind_name = t.name.strip_prefix("mention-");
    let titled = |kind: RichTextKind| RichText {
        kind,
        annotations: Annotations::default(),
        plain_text: Some(title.to_string()),
        href: None,
        extra: JsonMap::new(),
    };
    let idref = |id: String| IdRef {
        id,
        extra: JsonMap::new(),
    };
    let run = match kind_name {
        None => {
            // <rich-text type= data=>
            let ty = t.attr("type")?;
            let data: Value = serde_json::from_str(t.attr("data")?).ok()?;
            titled(RichTextKind::Unknown {
                type_name: ty.to_string(),
                payload: data,
            })
        }
        Some("page") if t.only_attrs(&["url"]) => titled(RichTextKind::Mention(Mention::Page(
            idref(id_from_url(t.attr("url")?)),
        ))),
        Some("database") if t.only_attrs(&["url"]) => titled(RichTextKind::Mention(
            Mention::Database(idref(id_from_url(t.attr("url")?))),
        )),
        Some("data-source") if t.only_attrs(&["id"]) => titled(RichTextKind::Mention(
            Mention::DataSource(idref(t.attr("id")?.to_string())),
        )),
        Some("user") if t.only_attrs(&["url"]) => {
            let id = t.attr("url")?.strip_prefix("user://")?.to_string();
            titled(RichTextKind::Mention(Mention::User(Box::new(
                User::reference(id),
            ))))
        }
        Some("date") if t.self_closing && t.only_attrs(&["start", "end", "time-zone"]) => {
            let mut r = titled(RichTextKind::Mention(Mention::Date(DateValue {
                start: t.attr("start")?.to_string(),
                end: t.attr("end").map(str::to_string),
                time_zone: t.attr("time-zone").map(str::to_string),
                extra: JsonMap::new(),
            })));
            r.plain_text = None;
            r
        }
        Some("link-preview") if t.self_closing && t.only_attrs(&["url"]) => {
            let mut r = titled(RichTextKind::Mention(Mention::LinkPreview(UrlRef {
                url: t.attr("url")?.to_string(),
                extra: JsonMap::new(),
            })));
            r.plain_text = None;
            r
        }
        Some(other) if t.only_attrs(&["data"]) && !t.self_closing => {
            let data: Value = serde_json::from_str(t.attr("data")?).ok()?;
            let m = Mention::from_parts(&other.replace('-', "_"), data).ok()?;
            titled(RichTextKind::Mention(m))
        }
        _ => return None,
    };
    Some(run)
}

struct Builder {
    runs: Vec<RichText>,
    stack: Vec<Style>,
    /// Bumped whenever the style changes, so text in an unchanged style extends the
    /// previous run instead of starting a new one.
    generation: u64,
    /// (generation, code) of the last run when it is a text run that may be extended.
    open_text: Option<(u64, bool)>,
}

impl Builder {
    fn cur(&self) -> &Style {
        self.stack.last().expect("style stack never empty")
    }

    fn push(&mut self, f: impl FnOnce(&mut Style)) {
        let mut s = self.cur().clone();
        f(&mut s);
        self.stack.push(s);
        self.generation += 1;
    }

    fn pop(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
            self.generation += 1;
        }
    }

    fn text(&mut self, t: &str) {
        self.push_text(t, false);
    }

    fn push_text(&mut self, t: &str, code: bool) {
        if t.is_empty() {
            return;
        }
        if self.open_text == Some((self.generation, code)) {
            if let Some(RichTextKind::Text(last)) = self.runs.last_mut().map(|r| &mut r.kind) {
                last.content.push_str(t);
                return;
            }
        }
        self.open_text = Some((self.generation, code));
        let s = self.cur();
        let r = RichText {
            kind: RichTextKind::Text(Text {
                content: t.to_string(),
                link: s
                    .link
                    .clone()
                    .map(|url| crate::notion::model::rich_text::Link {
                        url,
                        extra: JsonMap::new(),
                    }),
                extra: JsonMap::new(),
            }),
            annotations: s.annotations(code),
            plain_text: None,
            href: None,
            extra: JsonMap::new(),
        };
        self.runs.push(r);
    }

    fn equation(&mut self, e: &str) {
        self.open_text = None;
        let r = RichText {
            kind: RichTextKind::Equation(Equation {
                expression: e.to_string(),
                extra: JsonMap::new(),
            }),
            annotations: self.cur().annotations(false),
            plain_text: None,
            href: None,
            extra: JsonMap::new(),
        };
        self.runs.push(r);
    }

    fn push_run(&mut self, mut r: RichText) {
        self.open_text = None;
        r.annotations = self.cur().annotations(false);
        self.runs.push(r);
    }
}

/// Parses a standalone piece of inline Markdown (a `<summary>`, a table cell in tag form,
/// a code caption) into rich text.
pub(crate) fn parse_inline_str(s: &str) -> Inline {
    let events: Vec<(Event<'_>, Range<usize>)> =
        pulldown_cmark::Parser::new_ext(s, super::parse::options())
            .into_offset_iter()
            .filter(|(e, _)| {
                !matches!(
                    e,
                    Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph)
                )
            })
            .collect();
    parse_inline(&events, s)
}

/// Escapes `s` for use inside an HTML comment (no `-->`).
pub(crate) fn comment_safe(line: String) -> String {
    if line.contains("-->") {
        line.replace("-->", "--\\>")
    } else {
        line
    }
}

/// Writes `<name attrs>` + inline + `</name>`.
pub(crate) fn paired_line(name: &str, attrs: &[(&str, &str)], runs: &[RichText]) -> String {
    let mut s = String::new();
    open_tag(&mut s, name, attrs);
    s.push('>');
    let body = render_runs(runs, Ctx::Line);
    // Inside a tag the line start is taken, but whitespace at the edges still matters.
    let body = super::escape::fix_line(body);
    s.push_str(&body);
    s.push_str("</");
    s.push_str(name);
    s.push('>');
    s
}
