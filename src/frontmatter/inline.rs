//! Rich text <-> inline Markdown for `rich_text` properties: a small stand-in for the
//! Markdown module's inline codec (notionfs(5), TEXT), kept to [`render_inline`] and [`parse_inline`]
//! so it can be swapped for that one.
//!
//! Covered: `**bold**`, `*italic*`, `~~strike~~`, `` `code` ``, `[text](url)`, `$equation$`
//! and backslash escapes. Mentions render as their plain text (editing such a value turns
//! the mention into text); underline and colours are not shown. Unchanged values are never
//! sent, so what is not shown is only lost when the user edits that property.

use crate::notion::model::rich_text::{Equation, RichTextKind};
use crate::notion::model::{Annotations, JsonMap, RichText};

/// Characters escaped in text so they read back literally.
const ESCAPED: &[char] = &['\\', '*', '_', '~', '`', '[', ']', '<', '$'];

/// The styles this codec shows, as toggles.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    bold: bool,
    italic: bool,
    strike: bool,
}

impl Style {
    fn of(a: &Annotations) -> Self {
        Style {
            bold: a.bold,
            italic: a.italic,
            strike: a.strikethrough,
        }
    }

    /// Delimiters toggling from `self` to `to`: closers innermost first, then openers
    /// outermost first, so the Markdown nests like CommonMark expects.
    fn toggles(self, to: Style) -> String {
        let mut s = String::new();
        if self.italic && !to.italic {
            s.push('*');
        }
        if self.bold && !to.bold {
            s.push_str("**");
        }
        if self.strike && !to.strike {
            s.push_str("~~");
        }
        if !self.strike && to.strike {
            s.push_str("~~");
        }
        if !self.bold && to.bold {
            s.push_str("**");
        }
        if !self.italic && to.italic {
            s.push('*');
        }
        s
    }
}

/// Rich text runs as inline Markdown.
pub fn render_inline(runs: &[RichText]) -> String {
    let mut out = String::new();
    let mut i = 0;
    let mut style = Style::default();
    while i < runs.len() {
        let link = run_link(&runs[i]);
        if let Some(url) = link {
            // A link groups the following runs with the same URL; styles close around it
            // so emphasis never crosses the brackets.
            out.push_str(&style.toggles(Style::default()));
            style = Style::default();
            let mut j = i;
            while j < runs.len() && run_link(&runs[j]) == Some(url) {
                j += 1;
            }
            let mut inner = String::new();
            let mut inner_style = Style::default();
            for r in &runs[i..j] {
                render_run(&mut inner, &mut inner_style, r);
            }
            inner.push_str(&inner_style.toggles(Style::default()));
            out.push('[');
            out.push_str(&inner);
            out.push_str("](");
            out.push_str(&link_destination(url));
            out.push(')');
            i = j;
        } else {
            render_run(&mut out, &mut style, &runs[i]);
            i += 1;
        }
    }
    out.push_str(&style.toggles(Style::default()));
    out
}

fn run_link(r: &RichText) -> Option<&str> {
    match &r.kind {
        RichTextKind::Text(t) => t.link.as_ref().map(|l| l.url.as_str()),
        _ => None,
    }
}

fn render_run(out: &mut String, style: &mut Style, r: &RichText) {
    let (text, is_equation) = match &r.kind {
        RichTextKind::Text(t) => (t.content.as_str(), false),
        RichTextKind::Equation(e) => (e.expression.as_str(), true),
        _ => (r.plain_text.as_deref().unwrap_or(""), false),
    };
    if text.is_empty() {
        return;
    }
    let want = Style::of(&r.annotations);
    out.push_str(&style.toggles(want));
    *style = want;
    if is_equation {
        out.push('$');
        out.push_str(&text.replace('$', "\\$"));
        out.push('$');
    } else if r.annotations.code {
        out.push_str(&code_span(text));
    } else {
        for c in text.chars() {
            if ESCAPED.contains(&c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
}

/// `` `text` `` with a fence longer than any backtick run inside, padded when needed.
fn code_span(text: &str) -> String {
    let mut longest = 0;
    let mut cur = 0;
    for c in text.chars() {
        if c == '`' {
            cur += 1;
            longest = longest.max(cur);
        } else {
            cur = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && text.trim() != "");
    if pad {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

fn link_destination(url: &str) -> String {
    let mut out = String::new();
    for c in url.chars() {
        if matches!(c, '\\' | '(' | ')' | '<' | '>' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A piece of inline Markdown before styles are resolved.
enum Token {
    Text(String),
    Code(String),
    Equation(String),
    Link(Vec<RichText>),
    Delim(&'static str),
}

/// Inline Markdown as rich text runs (requests: no `plain_text`/`href`). Unbalanced
/// delimiters stay literal text.
pub fn parse_inline(s: &str) -> Vec<RichText> {
    let chars: Vec<char> = s.chars().collect();
    let tokens = tokenize(&chars);
    resolve(tokens)
}

fn tokenize(c: &[char]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let flush = |text: &mut String, tokens: &mut Vec<Token>| {
        if !text.is_empty() {
            tokens.push(Token::Text(std::mem::take(text)));
        }
    };
    while i < c.len() {
        match c[i] {
            '\\' if i + 1 < c.len() && c[i + 1].is_ascii_punctuation() => {
                text.push(c[i + 1]);
                i += 2;
            }
            '`' => {
                let run = c[i..].iter().take_while(|&&x| x == '`').count();
                if let Some(end) = find_backtick_run(c, i + run, run) {
                    flush(&mut text, &mut tokens);
                    let mut code: String = c[i + run..end].iter().collect();
                    if code.starts_with(' ') && code.ends_with(' ') && code.trim() != "" {
                        code = code[1..code.len() - 1].to_string();
                    }
                    tokens.push(Token::Code(code));
                    i = end + run;
                } else {
                    text.extend(&c[i..i + run]);
                    i += run;
                }
            }
            '$' => match find_unescaped(c, i + 1, '$') {
                Some(end) if end > i + 1 => {
                    flush(&mut text, &mut tokens);
                    let raw: String = c[i + 1..end].iter().collect();
                    tokens.push(Token::Equation(raw.replace("\\$", "$")));
                    i = end + 1;
                }
                _ => {
                    text.push('$');
                    i += 1;
                }
            },
            '[' => match parse_link(c, i) {
                Some((inner, url, next)) => {
                    flush(&mut text, &mut tokens);
                    let mut runs = parse_inline(&inner);
                    for r in &mut runs {
                        if let RichTextKind::Text(t) = &mut r.kind {
                            t.link = Some(crate::notion::model::rich_text::Link {
                                url: url.clone(),
                                extra: JsonMap::new(),
                            });
                        }
                    }
                    tokens.push(Token::Link(runs));
                    i = next;
                }
                None => {
                    text.push('[');
                    i += 1;
                }
            },
            '~' if c.get(i + 1) == Some(&'~') => {
                flush(&mut text, &mut tokens);
                tokens.push(Token::Delim("~~"));
                i += 2;
            }
            '*' if c.get(i + 1) == Some(&'*') => {
                flush(&mut text, &mut tokens);
                tokens.push(Token::Delim("**"));
                i += 2;
            }
            '*' => {
                flush(&mut text, &mut tokens);
                tokens.push(Token::Delim("*"));
                i += 1;
            }
            ch => {
                text.push(ch);
                i += 1;
            }
        }
    }
    flush(&mut text, &mut tokens);
    tokens
}

fn find_backtick_run(c: &[char], from: usize, len: usize) -> Option<usize> {
    let mut i = from;
    while i < c.len() {
        if c[i] == '`' {
            let run = c[i..].iter().take_while(|&&x| x == '`').count();
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

fn find_unescaped(c: &[char], from: usize, want: char) -> Option<usize> {
    let mut i = from;
    while i < c.len() {
        if c[i] == '\\' {
            i += 2;
            continue;
        }
        if c[i] == want {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `[inner](url)` starting at `c[start] == '['`: (inner Markdown, url, index after `)`).
fn parse_link(c: &[char], start: usize) -> Option<(String, String, usize)> {
    // Find the matching `]`, skipping escapes, code spans and nested brackets.
    let mut depth = 0;
    let mut i = start + 1;
    let close = loop {
        match c.get(i)? {
            '\\' => i += 2,
            '`' => {
                let run = c[i..].iter().take_while(|&&x| x == '`').count();
                i = match find_backtick_run(c, i + run, run) {
                    Some(end) => end + run,
                    None => i + run,
                };
            }
            '[' => {
                depth += 1;
                i += 1;
            }
            ']' if depth == 0 => break i,
            ']' => {
                depth -= 1;
                i += 1;
            }
            _ => i += 1,
        }
    };
    if c.get(close + 1) != Some(&'(') {
        return None;
    }
    let mut url = String::new();
    let mut j = close + 2;
    loop {
        match c.get(j)? {
            '\\' if c
                .get(j + 1)
                .is_some_and(|x| x.is_ascii_punctuation() || *x == ' ') =>
            {
                url.push(c[j + 1]);
                j += 2;
            }
            ')' => break,
            ch => {
                url.push(*ch);
                j += 1;
            }
        }
    }
    let inner: String = c[start + 1..close].iter().collect();
    Some((inner, url, j + 1))
}

/// Pairs style delimiters (each kind toggles; an odd one out is literal) and builds runs.
fn resolve(tokens: Vec<Token>) -> Vec<RichText> {
    let mut counts = [0usize; 3];
    for t in &tokens {
        if let Token::Delim(d) = t {
            counts[kind(d)] += 1;
        }
    }
    let mut seen = [0usize; 3];
    let mut style = Style::default();
    let mut runs: Vec<RichText> = Vec::new();
    let push_text = |runs: &mut Vec<RichText>, s: &str, style: Style, code: bool| {
        let ann = Annotations {
            bold: style.bold,
            italic: style.italic,
            strikethrough: style.strike,
            code,
            ..Annotations::default()
        };
        if let Some(last) = runs.last_mut() {
            if let RichTextKind::Text(t) = &mut last.kind {
                if last.annotations == ann && t.link.is_none() && !code {
                    t.content.push_str(s);
                    return;
                }
            }
        }
        runs.push(RichText::text(s, None, ann));
    };
    for t in tokens {
        match t {
            Token::Delim(d) => {
                let k = kind(d);
                seen[k] += 1;
                // The last of an odd count has no partner: literal.
                if counts[k] % 2 == 1 && seen[k] == counts[k] {
                    push_text(&mut runs, d, style, false);
                } else {
                    match k {
                        0 => style.bold = !style.bold,
                        1 => style.italic = !style.italic,
                        _ => style.strike = !style.strike,
                    }
                }
            }
            Token::Text(s) => push_text(&mut runs, &s, style, false),
            Token::Code(s) => push_text(&mut runs, &s, style, true),
            Token::Equation(e) => runs.push(RichText {
                kind: RichTextKind::Equation(Equation {
                    expression: e,
                    extra: JsonMap::new(),
                }),
                annotations: Annotations {
                    bold: style.bold,
                    italic: style.italic,
                    strikethrough: style.strike,
                    ..Annotations::default()
                },
                plain_text: None,
                href: None,
                extra: JsonMap::new(),
            }),
            Token::Link(inner) => {
                for mut r in inner {
                    r.annotations.bold ^= style.bold;
                    r.annotations.italic ^= style.italic;
                    r.annotations.strikethrough ^= style.strike;
                    runs.push(r);
                }
            }
        }
    }
    runs
}

fn kind(d: &str) -> usize {
    match d {
        "**" => 0,
        "*" => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(bold: bool, italic: bool, strike: bool, code: bool) -> Annotations {
        Annotations {
            bold,
            italic,
            strikethrough: strike,
            code,
            ..Annotations::default()
        }
    }

    #[test]
    fn styles_render_and_parse_back() {
        let runs = vec![
            RichText::plain("a*b "),
            RichText::text("bold", None, ann(true, false, false, false)),
            RichText::text("both", None, ann(true, true, false, false)),
            RichText::text(" gone", None, ann(false, false, true, false)),
            RichText::text("x`y", None, ann(false, false, false, true)),
            RichText::text(
                "site",
                Some("https://e.com/a(b)".into()),
                ann(false, true, false, false),
            ),
        ];
        let md = render_inline(&runs);
        assert_eq!(
            md,
            "a\\*b **bold*both***~~ gone~~``x`y``[*site*](https://e.com/a\\(b\\))"
        );
        let back = parse_inline(&md);
        assert_eq!(render_inline(&back), md);
        assert_eq!(back.len(), runs.len());
        for (a, b) in back.iter().zip(&runs) {
            assert_eq!(a.text_content(), b.text_content());
            assert_eq!(a.annotations, b.annotations);
        }
    }

    #[test]
    fn unbalanced_delimiters_are_text() {
        let runs = parse_inline("2 * 3 and ~~x");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].text_content(), "2 * 3 and ~~x");
    }

    #[test]
    fn equation() {
        let runs = parse_inline("e $x^2$ f");
        assert_eq!(runs.len(), 3);
        assert!(matches!(runs[1].kind, RichTextKind::Equation(_)));
        assert_eq!(render_inline(&runs), "e $x^2$ f");
    }
}
