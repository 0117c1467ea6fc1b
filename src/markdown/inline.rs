//! Rich text -> inline Markdown (spec 3.2); reading it back is `markdown::inline_parse`.
//!
//! Rendering works run by run, on the whitespace normal form of the text
//! ([`super::space`]): each rich text object becomes one *piece* (`**x**`, `[x](u)`,
//! `<span underline="true">x</span>`, …). CommonMark decides whether `**` opens or closes
//! from the characters on either side ("flanking"). Whitespace never sits inside markers
//! (the normal form moves it out); where a run's inner edge is punctuation and the
//! character outside is a letter, or where two runs' markers would touch (`**a**` then
//! `*b*`), the markers would not open or close, so that run is written as a
//! `<span bold="true" …>` tag instead. Links and spans enclose their markers in `[`…`]` /
//! `>`…`<`, which are always safe. No letter is ever written as a character reference.

use super::escape::{escape_text, neighbour_safe, open_tag, open_tag_in};
use super::space;
use crate::notion::model::{Annotations, Mention, RichText, RichTextKind};

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

#[derive(Default)]
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
        open_tag_in(
            &mut s,
            "equation",
            &[("expression", expr)],
            ctx == Ctx::Cell,
        );
        s.push_str("/>");
        s
    }
}

fn mention_tag(r: &RichText, m: &Mention, ctx: Ctx, out: &mut String) {
    let title = r.plain_text.as_deref().unwrap_or("");
    let paired = |out: &mut String, name: &str, attrs: &[(&str, &str)]| {
        open_tag_in(out, name, attrs, ctx == Ctx::Cell);
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
            open_tag_in(out, "mention-date", &attrs, ctx == Ctx::Cell);
            out.push_str("/>");
        }
        Mention::LinkPreview(u) => {
            open_tag_in(
                out,
                "mention-link-preview",
                &[("url", &u.url)],
                ctx == Ctx::Cell,
            );
            out.push_str("/>");
        }
        other => {
            let name = format!("mention-{}", other.type_name().replace('_', "-"));
            let data = other.payload().to_string();
            paired(out, &name, &[("data", &data)]);
        }
    }
}

/// The inner text of a run, without emphasis markers: a code span, an inline equation, a
/// mention tag or escaped text.
fn core(r: &RichText, ctx: Ctx, code_ok: bool) -> String {
    let mut s = String::new();
    match &r.kind {
        RichTextKind::Text(t) => {
            if r.annotations.code && code_ok {
                if let Some(c) = code_span(&t.content) {
                    return c;
                }
            }
            s.reserve(t.content.len() + 8);
            escape_text(&t.content, ctx == Ctx::Cell, &mut s);
        }
        RichTextKind::Equation(e) => s = equation_inline(&e.expression, ctx),
        RichTextKind::Mention(m) => mention_tag(r, m, ctx, &mut s),
        RichTextKind::Unknown { type_name, payload } => {
            let data = payload.to_string();
            open_tag_in(
                &mut s,
                "rich-text",
                &[("type", type_name), ("data", &data)],
                ctx == Ctx::Cell,
            );
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

/// Opening and closing emphasis markers for `a`, outermost first.
fn markers(a: &Annotations) -> (&'static str, &'static str) {
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
}

/// What encloses a run: the `<span>` attributes Markdown has no marker for (underline,
/// colour, code on a run that is not a code span) and its link. Neighbouring runs that
/// share it are written inside one span and one link.
#[derive(PartialEq)]
struct Wrap<'a> {
    span: Vec<(&'static str, String)>,
    link: Option<&'a str>,
}

fn wrap_of(r: &RichText) -> Wrap<'_> {
    let a = &r.annotations;
    let mut span: Vec<(&str, String)> = Vec::new();
    if a.underline {
        span.push(("underline", "true".into()));
    }
    if a.code && !matches!(r.kind, RichTextKind::Text(_)) {
        span.push(("code", "true".into()));
    }
    if a.color != crate::notion::model::DEFAULT_COLOR {
        span.push(("color", color_out(&a.color)));
    }
    Wrap {
        span,
        link: link_of(r),
    }
}

/// Renders one run without what encloses it (see [`Wrap`]): its markers and text.
/// `tag_form` writes the emphasis (and code) as `<span bold="true" …>` instead, for runs
/// whose markers could not open or close where they stand.
fn piece(r: &RichText, ctx: Ctx, tag_form: bool) -> Piece {
    let a = &r.annotations;
    let code_text = a.code && matches!(r.kind, RichTextKind::Text(_));
    let tag_form = tag_form || !code_expressible(r, ctx);
    let inner = core(r, ctx, !tag_form);
    if tag_form {
        let mut attrs: Vec<(&str, &str)> = Vec::new();
        for (on, k) in [
            (a.bold, "bold"),
            (a.italic, "italic"),
            (a.strikethrough, "strikethrough"),
            (code_text, "code"),
        ] {
            if on {
                attrs.push((k, "true"));
            }
        }
        if attrs.is_empty() {
            return plain_piece(inner);
        }
        let mut s = String::with_capacity(inner.len() + 40);
        open_tag_in(&mut s, "span", &attrs, ctx == Ctx::Cell);
        s.push('>');
        s.push_str(&inner);
        s.push_str("</span>");
        return plain_piece(s);
    }
    let (open, close) = markers(a);
    // Markers next to whitespace inside cannot open or close; the whitespace normal form
    // keeps it outside, so this only guards against text that skipped it.
    let edge_space = inner.starts_with(char::is_whitespace) || inner.ends_with(char::is_whitespace);
    if open.is_empty() || edge_space {
        return if open.is_empty() {
            plain_piece(inner)
        } else {
            piece(r, ctx, true)
        };
    }
    let mut s = String::with_capacity(inner.len() + 2 * open.len());
    s.push_str(open);
    s.push_str(&inner);
    s.push_str(close);
    // With `*` and `~~` both present the outer run touches the inner one (punctuation).
    let mixed = open.contains('*') && open.contains('~');
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut p = plain_piece(s);
    p.need_left = mixed || !alnum(inner.chars().next());
    p.need_right = mixed || !alnum(inner.chars().next_back());
    p
}

/// A piece whose edges need nothing from their neighbours (but may be markers that must
/// not touch another run's).
fn plain_piece(s: String) -> Piece {
    let delim = |c: Option<char>| c.filter(|c| matches!(c, '*' | '~' | '`' | '$'));
    Piece {
        first_delim: delim(s.chars().next()),
        last_delim: delim(s.chars().next_back()),
        s,
        need_left: false,
        need_right: false,
    }
}

/// Whether `p` can be written where it stands with its markers: they do not touch the
/// previous piece's markers, and where its inner edge is punctuation the character outside
/// is whitespace or punctuation (otherwise the markers would not open or close).
fn markers_fit(p: &Piece, written: &str, prev_delim: Option<char>, next: Option<char>) -> bool {
    let touching = p.first_delim.is_some() && p.first_delim == prev_delim;
    let left_ok = !p.need_left || written.chars().next_back().is_none_or(neighbour_safe);
    let right_ok = !p.need_right || next.is_none_or(neighbour_safe);
    !touching && left_ok && right_ok
}

/// Where `s` ends with an unescaped `&` followed only by characters of a reference name
/// (`&`, `&alph`, `&#9`), the offset of that `&`.
fn dangling_ampersand(s: &str) -> Option<usize> {
    let name = s
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
        .count();
    let at = s.len().checked_sub(name + 1)?;
    let backslashes = s[..at].bytes().rev().take_while(|&b| b == b'\\').count();
    (s.as_bytes()[at] == b'&' && backslashes % 2 == 0).then_some(at)
}

/// Escapes the `&` of a character reference cut across runs (`&` then `alpha;`): each run's
/// text is escaped on its own, and two pieces with nothing written between them (same link
/// and span, no markers) would otherwise read as one reference.
fn escape_split_references(pieces: &mut [Piece], wraps: &[Wrap<'_>]) {
    for i in 1..pieces.len() {
        let continues = pieces[i]
            .s
            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '#' || c == ';');
        if !continues || wraps[i - 1] != wraps[i] {
            continue;
        }
        if let Some(at) = dangling_ampersand(&pieces[i - 1].s) {
            pieces[i - 1].s.insert(at, '\\');
        }
    }
}

/// The tag form of `r` (see [`piece`]); an equation right after another one is written as
/// `<equation/>`, since `$a$$b$` would read as one.
fn tag_piece(r: &RichText, ctx: Ctx, prev_delim: Option<char>) -> Piece {
    let mut p = piece(r, ctx, true);
    if let (Some(first), RichTextKind::Equation(e)) = (p.first_delim, &r.kind) {
        if Some(first) == prev_delim {
            let mut s = String::new();
            open_tag_in(
                &mut s,
                "equation",
                &[("expression", &e.expression)],
                ctx == Ctx::Cell,
            );
            s.push_str("/>");
            p = plain_piece(s);
        }
    }
    p
}

/// Renders a rich text array as one line of inline Markdown, in the whitespace normal form
/// (see [`super::space`]); not yet line-start safe: callers pass it through
/// [`super::escape::fix_line`].
///
/// Neighbouring runs with the same link and span attributes share one `[…](u)` and one
/// `<span …>`. Every run is written with markers where they open and close as they
/// should; a run whose markers would not (punctuation inside, a letter outside; markers
/// touching the previous run's) is written as a `<span bold="true" …>` tag instead, so no
/// letter is ever hidden behind a character reference.
pub(crate) fn render_runs(runs: &[RichText], ctx: Ctx) -> String {
    let runs = space::normalize(runs);
    let wraps: Vec<Wrap<'_>> = runs.iter().map(wrap_of).collect();
    let mut pieces: Vec<Piece> = runs.iter().map(|r| piece(r, ctx, false)).collect();
    escape_split_references(&mut pieces, &wraps);
    let mut out = String::with_capacity(pieces.iter().map(|p| p.s.len() + 8).sum::<usize>());
    let mut prev_delim = None;
    let in_cell = ctx == Ctx::Cell;
    for i in 0..pieces.len() {
        let w = &wraps[i];
        let opens_span = i == 0 || wraps[i - 1].span != w.span;
        let opens_link = opens_span || wraps[i - 1].link != w.link;
        let last = i + 1 == pieces.len();
        let closes_span = last || wraps[i + 1].span != w.span;
        let closes_link = closes_span || wraps[i + 1].link != w.link;
        if opens_span && !w.span.is_empty() {
            let refs: Vec<(&str, &str)> = w.span.iter().map(|(k, v)| (*k, v.as_str())).collect();
            open_tag_in(&mut out, "span", &refs, in_cell);
            out.push('>');
            prev_delim = None;
        }
        if opens_link && w.link.is_some() {
            // `!` right before a link would make it an image.
            if out.ends_with('!') && !out.ends_with("\\!") {
                out.insert(out.len() - 1, '\\');
            }
            out.push('[');
            prev_delim = None;
        }
        // Past a link or span boundary the neighbour is `[`, `]`, `<` or `>`: safe.
        let next = (!closes_link)
            .then(|| pieces[i + 1].s.chars().next())
            .flatten();
        let mut p = std::mem::take(&mut pieces[i]);
        if !markers_fit(&p, &out, prev_delim, next) {
            p = tag_piece(&runs[i], ctx, prev_delim);
        }
        out.push_str(&p.s);
        prev_delim = p.last_delim;
        if closes_link {
            if let Some(url) = w.link {
                out.push_str("](");
                push_dest(url, ctx, &mut out);
                out.push(')');
                prev_delim = None;
            }
        }
        if closes_span && !w.span.is_empty() {
            out.push_str("</span>");
            prev_delim = None;
        }
    }
    out
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
