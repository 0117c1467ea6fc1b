//! Escaping helpers shared by the renderer and the parser: Markdown text escapes, HTML-like
//! attribute values, our tag syntax (`<name a="v">`, `</name>`, `<name/>`) and entities.
//!
//! The renderer escapes so that the parser reads back exactly the characters it was given;
//! the tag reader here is deliberately strict so that only tags we write (or a user types
//! in exactly that form) are taken as structure — anything else stays literal text.

use std::borrow::Cow;

/// Whether `c` may sit unescaped next to an emphasis delimiter on the outside without
/// changing how the delimiter run is classified (CommonMark "flanking" rules): whitespace
/// or ASCII punctuation. Other Unicode punctuation would do too; treating it as a letter
/// only makes the renderer choose the tag form more often.
pub(crate) fn neighbour_safe(c: char) -> bool {
    c.is_ascii_punctuation() || c.is_whitespace()
}

/// Whitespace that CommonMark strips at the start and end of a line of text.
fn stripped_at_line_edge(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Pushes `c` as a numeric character reference (`&#N;`).
pub(crate) fn push_entity(out: &mut String, c: char) {
    out.push_str("&#");
    out.push_str(&(c as u32).to_string());
    out.push(';');
}

/// True when `s[i..]` starts like an entity reference (`&name;`, `&#N;`), so a literal `&`
/// there must be escaped.
fn entity_like(rest: &str) -> bool {
    for (n, c) in rest[1..].chars().enumerate() {
        if c == ';' {
            return n > 0;
        }
        if !(c.is_ascii_alphanumeric() || c == '#') || n > 40 {
            return false;
        }
    }
    false
}

/// Escapes plain text for inline Markdown. `table` also escapes `|`.
/// Newlines become `<br>`; carriage returns and form feeds become entities.
pub(crate) fn escape_text(s: &str, table: bool, out: &mut String) {
    let mut prev: Option<char> = None;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let next = it.peek().map(|&(_, n)| n);
        match c {
            '\\' | '*' | '`' | '[' | ']' | '<' | '$' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '|' if table => out.push_str("\\|"),
            '_' => {
                // Intraword underscores (snake_case) cannot open or close emphasis.
                let alnum = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
                if alnum(prev) && alnum(next) {
                    out.push('_');
                } else {
                    out.push_str("\\_");
                }
            }
            '&' if entity_like(&s[i..]) => out.push_str("\\&"),
            '\n' => out.push_str("<br>"),
            '\r' | '\x0c' | '\x0b' | '\0' => push_entity(out, c),
            _ => out.push(c),
        }
        prev = Some(c);
    }
}

/// Makes a rendered inline line safe at the start and end of a Markdown line: escapes
/// block syntax at its start (`#`, `>`, `-`, `+`, `=`, `1.`), writes a space or tab at
/// either edge as a character reference (the only way to keep it: CommonMark strips them),
/// escapes a trailing `#` run (ATX closing sequence) and a trailing `{…}` that would read
/// as our block attributes.
pub(crate) fn fix_line(mut line: String) -> String {
    if let Some(c) = line.chars().next().filter(|&c| stripped_at_line_edge(c)) {
        let mut s = String::with_capacity(line.len() + 6);
        push_entity(&mut s, c);
        s.push_str(&line[c.len_utf8()..]);
        line = s;
    }
    if let Some(c) = line
        .chars()
        .next_back()
        .filter(|&c| stripped_at_line_edge(c))
    {
        line.truncate(line.len() - c.len_utf8());
        push_entity(&mut line, c);
    }
    let first = line.chars().next();
    match first {
        Some('#' | '>' | '-' | '+' | '=') => line.insert(0, '\\'),
        Some(d) if d.is_ascii_digit() => {
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            if digits <= 9 && matches!(line.as_bytes().get(digits), Some(b'.' | b')')) {
                line.insert(digits, '\\');
            }
        }
        _ => {}
    }
    if line.ends_with('#') && !line.ends_with("\\#") {
        let at = line.len() - 1;
        line.insert(at, '\\');
    }
    if let Some(start) = trailing_attrs_start(&line) {
        line.insert(start, '\\');
    }
    line
}

/// If `line` ends with a block attribute group `{key="v" …}` (optionally preceded by a
/// space) that is not escaped, the byte offset of its `{`.
pub(crate) fn trailing_attrs_start(line: &str) -> Option<usize> {
    if !line.ends_with('}') {
        return None;
    }
    let start = line.rfind('{')?;
    if line[..start].ends_with('\\') {
        return None;
    }
    parse_attr_list(&line[start + 1..line.len() - 1]).map(|_| start)
}

/// Escapes an attribute value for `name="…"`. Line breaks and NUL are character
/// references (a tag is read from one line); `in_cell`: `|` is one too, since a GFM table
/// splits its row at every `|`, inside tags as well.
pub(crate) fn escape_attr(s: &str, out: &mut String, in_cell: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' if in_cell => out.push_str("&#124;"),
            '\n' | '\r' | '\0' => push_entity(out, c),
            _ => out.push(c),
        }
    }
}

/// Decodes the entities [`escape_attr`] writes, plus any numeric reference (borrowed when
/// there is none).
pub(crate) fn unescape_attr(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let semi = rest.find(';').filter(|&e| e < 12);
        let decoded = semi.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                _ if name.starts_with("#x") || name.starts_with("#X") => {
                    u32::from_str_radix(&name[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Attributes in order, values unescaped; borrowed from the line where possible.
pub(crate) type Attrs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// One of our HTML-like tags, read from a single line (borrowing from it).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TagToken<'a> {
    /// Lower-case tag name.
    pub name: Cow<'a, str>,
    /// Attributes in order, values unescaped.
    pub attrs: Attrs<'a>,
    /// `</name>`.
    pub closing: bool,
    /// `<name …/>`.
    pub self_closing: bool,
}

impl TagToken<'_> {
    /// The value of attribute `k`.
    pub fn attr(&self, k: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_ref())
    }

    /// The same tag, owning its text.
    pub fn into_owned(self) -> TagToken<'static> {
        TagToken {
            name: Cow::Owned(self.name.into_owned()),
            attrs: owned_attrs(self.attrs),
            closing: self.closing,
            self_closing: self.self_closing,
        }
    }

    /// Whether every attribute name is in `allowed`.
    pub fn only_attrs(&self, allowed: &[&str]) -> bool {
        self.attrs
            .iter()
            .all(|(n, _)| allowed.contains(&n.as_ref()))
    }
}

/// Attributes owning their text.
pub(crate) fn owned_attrs(attrs: Attrs<'_>) -> Attrs<'static> {
    attrs
        .into_iter()
        .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned())))
        .collect()
}

/// Parses `key="value" key2="value2"` (double quotes only). `None` when malformed.
pub(crate) fn parse_attr_list(s: &str) -> Option<Attrs<'_>> {
    let mut attrs = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let name = &rest[..eq];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return None;
        }
        let after = rest[eq + 1..].strip_prefix('"')?;
        let end = after.find('"')?;
        attrs.push((Cow::Borrowed(name), unescape_attr(&after[..end])));
        let tail = &after[end + 1..];
        let trimmed = tail.trim_start();
        if !trimmed.is_empty() && trimmed.len() == tail.len() {
            return None; // attributes must be separated by whitespace
        }
        rest = trimmed;
    }
    if attrs.is_empty() {
        return None;
    }
    Some(attrs)
}

/// Reads one tag at the start of `s`; returns it and the number of bytes it used.
pub(crate) fn read_tag(s: &str) -> Option<(TagToken<'_>, usize)> {
    let body = s.strip_prefix('<')?;
    let end = body.find('>')?;
    let inner = &body[..end];
    let used = end + 2;
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, inner),
    };
    let (self_closing, inner) = match inner.strip_suffix('/') {
        Some(r) if !closing => (true, r),
        _ => (false, inner),
    };
    let name_len = inner
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inner.len());
    let name = &inner[..name_len];
    if name.is_empty()
        || !name.starts_with(|c: char| c.is_ascii_alphabetic())
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    let rest = inner[name_len..].trim();
    let attrs = if rest.is_empty() {
        Vec::new()
    } else if closing {
        return None;
    } else {
        parse_attr_list(rest)?
    };
    let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    };
    Some((
        TagToken {
            name,
            attrs,
            closing,
            self_closing,
        },
        used,
    ))
}

/// Reads a line that is exactly one tag (surrounding whitespace allowed).
pub(crate) fn whole_tag(line: &str) -> Option<TagToken<'_>> {
    let t = line.trim();
    let (tag, used) = read_tag(t)?;
    (used == t.len()).then_some(tag)
}

/// Writes `<name a="v" …` (no closing `>`), for a tag outside table cells.
pub(crate) fn open_tag(out: &mut String, name: &str, attrs: &[(&str, &str)]) {
    open_tag_in(out, name, attrs, false);
}

/// Writes `<name a="v" …` (no closing `>`); `in_cell`: inside a GFM table cell.
pub(crate) fn open_tag_in(out: &mut String, name: &str, attrs: &[(&str, &str)], in_cell: bool) {
    out.push('<');
    out.push_str(name);
    for (k, v) in attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape_attr(v, out, in_cell);
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_round_trip() {
        let mut s = String::new();
        open_tag(&mut s, "x", &[("a", "q\"<&>|\n\tz"), ("b", "")]);
        s.push_str("/>");
        let t = whole_tag(&s).expect("tag");
        assert_eq!(t.attr("a"), Some("q\"<&>|\n\tz"));
        assert_eq!(t.attr("b"), Some(""));
        assert!(t.self_closing);
    }

    #[test]
    fn line_fixes() {
        assert_eq!(fix_line("# a".into()), "\\# a");
        assert_eq!(fix_line("12. a".into()), "12\\. a");
        assert_eq!(fix_line(" a ".into()), "&#32;a&#32;");
        assert_eq!(fix_line("a #".into()), "a \\#");
        assert_eq!(fix_line("a {color=\"red\"}".into()), "a \\{color=\"red\"}");
        assert_eq!(fix_line("a {b}".into()), "a {b}");
    }

    #[test]
    fn text_escapes() {
        let mut s = String::new();
        escape_text(
            "a_b _c_ *x* [l](u) <t> $m$ ~s~ \\ &amp; & a\nb",
            false,
            &mut s,
        );
        assert_eq!(
            s,
            "a_b \\_c\\_ \\*x\\* \\[l\\](u) \\<t> \\$m\\$ \\~s\\~ \\\\ \\&amp; & a<br>b"
        );
    }
}
