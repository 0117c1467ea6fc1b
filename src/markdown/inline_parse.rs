//! Inline Markdown -> rich text (spec 3.2), the reverse of [`super::inline`].
//!
//! Walks pulldown-cmark's inline events with a style stack; our own inline tags (`<span>`,
//! `<br>`, `<mention-…>`, `<equation/>`) are recognised only when well formed and matched,
//! everything else is kept as literal text.

use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Tag, TagEnd};
use serde_json::Value;

use super::escape::{read_tag, TagToken};
use super::inline::{color_in, merge_owned};
use crate::notion::model::rich_text::{DateValue, Equation, IdRef, Text, UrlRef};
use crate::notion::model::{Annotations, JsonMap, Mention, RichText, RichTextKind, User};

type Ev<'a> = (Event<'a>, Range<usize>);

/// Our inline tags recognised while parsing.
fn tag_of(html: &str) -> Option<TagToken<'_>> {
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
            // Spelled out: `..Default::default()` would build (and drop) a colour string.
            received: Default::default(),
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
pub(crate) fn parse_inline(events: &[Ev<'_>], src: &str) -> Inline {
    let (tags, partner) = pair_tags(events);
    let mut w = Walker {
        events,
        src,
        tags,
        partner,
        b: Builder {
            runs: Vec::with_capacity(events.len() / 2 + 1),
            base: Style::default(),
            stack: Vec::new(),
            generation: 0,
            open_text: None,
        },
        empty_markers: 0,
        other_content: false,
    };
    let mut i = 0;
    while i < events.len() {
        i = w.event(i) + 1;
    }
    w.finish()
}

/// Our tags among `events` (`None` for other events; empty when there is no HTML at all)
/// and, for each paired open/close tag, the index of its partner. Unmatched tags stay
/// literal text.
fn pair_tags<'e>(events: &'e [Ev<'_>]) -> (Vec<Option<TagToken<'e>>>, Vec<Option<usize>>) {
    let has_html = events
        .iter()
        .any(|(e, _)| matches!(e, Event::InlineHtml(_) | Event::Html(_)));
    if !has_html {
        return (Vec::new(), Vec::new());
    }
    let tags: Vec<Option<TagToken<'e>>> = events
        .iter()
        .map(|(e, _)| match e {
            Event::InlineHtml(h) | Event::Html(h) => tag_of(h),
            _ => None,
        })
        .collect();
    let mut partner: Vec<Option<usize>> = vec![None; tags.len()];
    let mut open: Vec<usize> = Vec::new();
    for (i, t) in tags.iter().enumerate() {
        let Some(t) = t.as_ref().filter(|t| !t.self_closing && pairable(t)) else {
            continue;
        };
        if !t.closing {
            open.push(i);
            continue;
        }
        let found = open.iter().rposition(|&o| {
            tags[o]
                .as_ref()
                .is_some_and(|ot| ot.name == t.name && partner[o].is_none())
        });
        if let Some(pos) = found {
            let o = open[pos];
            // Mentions hold only text: nothing of ours may sit between their tags.
            open.truncate(pos);
            partner[o] = Some(i);
            partner[i] = Some(o);
        }
    }
    (tags, partner)
}

fn pairable(t: &TagToken) -> bool {
    t.name == "span" || t.name.starts_with("mention-") || t.name == "rich-text"
}

/// The state of one [`parse_inline`] walk.
struct Walker<'e, 'a> {
    events: &'e [Ev<'a>],
    src: &'e str,
    tags: Vec<Option<TagToken<'e>>>,
    partner: Vec<Option<usize>>,
    b: Builder,
    /// `<empty-block/>` markers seen.
    empty_markers: usize,
    /// Anything but plain text and markers seen (code, math, breaks, literal HTML, …).
    other_content: bool,
}

impl Walker<'_, '_> {
    /// Handles event `i`; returns the index of the last event it consumed.
    fn event(&mut self, i: usize) -> usize {
        let (ev, range) = &self.events[i];
        match ev {
            Event::Text(t) => {
                // Escapes split text into several events: size the run for all of them.
                let more = if self.b.extends(false) {
                    0
                } else {
                    self.events[i + 1..]
                        .iter()
                        .map_while(|(e, _)| match e {
                            Event::Text(t) => Some(t.len()),
                            _ => None,
                        })
                        .sum()
                };
                self.b.push_text_sized(t, false, more)
            }
            Event::Code(t) => {
                self.other_content = true;
                self.b.push_text(t, true)
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => {
                self.other_content = true;
                self.b.equation(t)
            }
            Event::SoftBreak | Event::HardBreak => {
                self.other_content = true;
                self.b.text("\n")
            }
            Event::FootnoteReference(_) => {
                self.other_content = true;
                self.b.text(&self.src[range.clone()])
            }
            Event::Start(Tag::Emphasis) => self.b.push(|s| s.italic = true),
            Event::Start(Tag::Strong) => self.b.push(|s| s.bold = true),
            Event::Start(Tag::Strikethrough) => self.b.push(|s| s.strike = true),
            // A full reference link's label (`[text][label]`) has no place in a Notion
            // link: kept as typed, like the definition it names, so no text is lost.
            Event::Start(Tag::Link {
                link_type: LinkType::Reference,
                ..
            }) => return self.literal(i),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            }) => {
                // `<a@b.co>` links to the address.
                let url = match link_type {
                    LinkType::Email => format!("mailto:{dest_url}"),
                    _ => dest_url.to_string(),
                };
                self.b.push(move |s| s.link = Some(url));
            }
            Event::End(TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough)
            | Event::End(TagEnd::Link) => self.b.pop(),
            // An image inside text has no Notion counterpart.
            Event::Start(Tag::Image { .. }) => return self.literal(i),
            Event::InlineHtml(h) | Event::Html(h) => {
                let (handled, last) = self.html(i);
                if !handled {
                    self.other_content = true;
                    self.b.text(h.trim_end_matches(['\n']));
                }
                return last;
            }
            _ => {}
        }
        i
    }

    /// Keeps the construct starting at event `i` (an image, a full reference link) as its
    /// source text; returns the index of its end event.
    fn literal(&mut self, i: usize) -> usize {
        self.other_content = true;
        let whole = self.events[i].1.clone();
        let mut text = String::with_capacity(whole.len());
        let mut pos = whole.start;
        let mut depth = 0;
        let mut k = i;
        while k < self.events.len() {
            match &self.events[k].0 {
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                // A line break: what the next line starts with up to its text is the
                // container's (`> `, list indentation), not the construct's.
                Event::SoftBreak | Event::HardBreak => {
                    let brk = &self.events[k].1;
                    text.push_str(self.src[pos..brk.start].trim_end_matches([' ', '\t']));
                    text.push('\n');
                    pos = self.events.get(k + 1).map_or(brk.end, |(_, r)| r.start);
                }
                _ => {}
            }
            k += 1;
        }
        text.push_str(&self.src[pos.min(whole.end)..whole.end]);
        self.b.text(&text);
        k
    }

    /// One of our inline tags at event `i`: whether it was taken as structure, and the
    /// last event it consumed.
    fn html(&mut self, i: usize) -> (bool, usize) {
        let Some(t) = self.tags[i].as_ref() else {
            return (false, i);
        };
        match t.name.as_ref() {
            "br" if !t.closing && t.attrs.is_empty() => {
                self.other_content = true;
                self.b.text("\n");
                (true, i)
            }
            "empty-block" if t.self_closing && t.attrs.is_empty() => {
                self.empty_markers += 1;
                if let (Event::InlineHtml(h) | Event::Html(h), _) = &self.events[i] {
                    self.b.text(h);
                }
                (true, i)
            }
            "span" if self.partner[i].is_some() => (self.span(i), i),
            "equation" if t.self_closing => {
                let e = t
                    .attr("expression")
                    .filter(|_| t.only_attrs(&["expression"]));
                match e {
                    Some(e) => {
                        let e = e.to_string();
                        self.b.equation(&e);
                        (true, i)
                    }
                    None => (false, i),
                }
            }
            name if (name.starts_with("mention-") || name == "rich-text")
                && !t.closing
                && (t.self_closing || self.partner[i].is_some()) =>
            {
                self.mention(i)
            }
            _ => (false, i),
        }
    }

    /// A paired `<span>` open or close tag at `i`.
    fn span(&mut self, i: usize) -> bool {
        let Some(t) = self.tags[i].as_ref() else {
            return false;
        };
        if t.closing {
            self.b.pop();
            return true;
        }
        match span_style(t) {
            Some(style) => {
                self.b.push(move |s| {
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
            }
            None => {
                // Not our span: its partner must be literal too.
                if let Some(j) = self.partner[i] {
                    self.partner[j] = None;
                }
                false
            }
        }
    }

    /// A mention (or `<rich-text>`) tag at `i`, with its title up to the closing tag.
    fn mention(&mut self, i: usize) -> (bool, usize) {
        let Some(t) = self.tags[i].as_ref() else {
            return (false, i);
        };
        let end = if t.self_closing {
            i
        } else {
            self.partner[i].unwrap_or(i)
        };
        let title = plain_between(&self.events[i + 1..end.max(i + 1)], self.src);
        match mention_from(t, &title, self.b.cur().annotations(false)) {
            Some(run) => {
                self.b.push_run(run);
                (true, end)
            }
            None => (false, i),
        }
    }

    /// The rich text read, or none when the content was one `<empty-block/>` marker, which
    /// plain text beside it may only follow as block attributes (`{color="red"}`).
    fn finish(self) -> Inline {
        let marker_only = self.empty_markers == 1 && !self.other_content;
        if marker_only {
            let side = self.side_text();
            let side_trim = side.trim();
            let attrs_only = side_trim.is_empty()
                || (side_trim.starts_with('{')
                    && side_trim.ends_with('}')
                    && super::escape::parse_attr_list(&side_trim[1..side_trim.len() - 1])
                        .is_some());
            if attrs_only {
                let runs = if side_trim.is_empty() {
                    Vec::new()
                } else {
                    vec![RichText::plain(side)]
                };
                return Inline {
                    runs,
                    empty_marker: true,
                };
            }
        }
        let runs = crate::notion::model::rich_text::split_long_runs(merge_owned(self.b.runs));
        Inline {
            runs,
            empty_marker: false,
        }
    }

    /// The plain text beside an `<empty-block/>` marker.
    fn side_text(&self) -> String {
        self.events
            .iter()
            .filter_map(|(e, _)| match e {
                Event::Text(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect()
    }
}

fn span_style(t: &TagToken) -> Option<Style> {
    if t.closing || t.attrs.is_empty() || !t.only_attrs(&SPAN_ATTRS) {
        return None;
    }
    let mut s = Style::default();
    for (k, v) in &t.attrs {
        let on = v == "true";
        match k.as_ref() {
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

/// The run a mention (or `<rich-text>`) tag stands for, styled with `annotations`.
fn mention_from(t: &TagToken, title: &str, annotations: Annotations) -> Option<RichText> {
    let kind_name = t.name.strip_prefix("mention-");
    let titled = |kind: RichTextKind| RichText {
        kind,
        annotations: annotations.clone(),
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
    /// The style outside any emphasis, link or span.
    base: Style,
    /// Styles pushed on top of `base` (no allocation for plain text).
    stack: Vec<Style>,
    /// Bumped whenever the style changes, so text in an unchanged style extends the
    /// previous run instead of starting a new one.
    generation: u64,
    /// (generation, code) of the last run when it is a text run that may be extended.
    open_text: Option<(u64, bool)>,
}

impl Builder {
    fn cur(&self) -> &Style {
        self.stack.last().unwrap_or(&self.base)
    }

    fn push(&mut self, f: impl FnOnce(&mut Style)) {
        let mut s = self.cur().clone();
        f(&mut s);
        self.stack.push(s);
        self.generation += 1;
    }

    fn pop(&mut self) {
        if self.stack.pop().is_some() {
            self.generation += 1;
        }
    }

    fn text(&mut self, t: &str) {
        self.push_text(t, false);
    }

    /// Whether text in the current style (code or not) extends the last run.
    fn extends(&self, code: bool) -> bool {
        self.open_text == Some((self.generation, code))
    }

    fn push_text(&mut self, t: &str, code: bool) {
        self.push_text_sized(t, code, 0);
    }

    /// Adds text; a new run gets room for `more` bytes of text to come.
    fn push_text_sized(&mut self, t: &str, code: bool, more: usize) {
        if t.is_empty() {
            return;
        }
        if self.extends(code) {
            if let Some(RichTextKind::Text(last)) = self.runs.last_mut().map(|r| &mut r.kind) {
                last.content.push_str(t);
                return;
            }
        }
        self.open_text = Some((self.generation, code));
        let s = self.cur();
        let mut content = String::with_capacity(t.len() + more);
        content.push_str(t);
        let r = RichText {
            kind: RichTextKind::Text(Text {
                content,
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

    /// Adds a run already styled (see [`mention_from`]).
    fn push_run(&mut self, r: RichText) {
        self.open_text = None;
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
