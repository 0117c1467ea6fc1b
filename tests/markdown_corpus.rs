//! The golden corpus: every CommonMark / GFM construct a person may type, with the exact
//! Markdown notionfs writes back for it (`render(parse(md))`), which must be a fixed point
//! after that one pass (spec 3 rule 4) and keep every word (spec 3.2).

use notionfs::markdown::{parse, render};

/// (construct, as typed, as written back).
const CORPUS: &[(&str, &str, &str)] = &[
    (
        "ATX headings, deeper read as level 3",
        "# One\n\n## Two ##\n\n#### Deep\n",
        "# One\n\n## Two\n\n### Deep\n",
    ),
    (
        "setext headings",
        "Setext one\n===\n\nSetext two\n---\n",
        "# Setext one\n\n## Setext two\n",
    ),
    (
        "thematic breaks",
        "***\n\n- - -\n\n___\n",
        "---\n\n---\n\n---\n",
    ),
    (
        "paragraph, lazy indented line",
        "Text then\n    more text\n",
        "Text then<br>more text\n",
    ),
    (
        "indented code",
        "    indented code\n    block\n",
        "```plain-text\nindented code\nblock\n```\n",
    ),
    (
        "fenced code with info",
        "```js\nlet a = 1;\n```\n",
        "```javascript\nlet a = 1;\n```\n",
    ),
    (
        "tilde fence",
        "~~~\ntilde fence\n~~~\n",
        "```plain-text\ntilde fence\n```\n",
    ),
    (
        "raw HTML block",
        "<div>\nraw html block\n</div>\n",
        "\\<div><br>raw html block<br>\\</div>\n",
    ),
    (
        "reference links: shortcut and collapsed ones link, a full one keeps its label",
        "[ref]: https://example.com/r \"Title\"\n\nUse [ref], [ref][] and [the doc][ref].\n",
        "\\[ref\\]: https://example.com/r \"Title\"\n\nUse [ref](https://example.com/r), [ref](https://example.com/r) and \\[the doc\\]\\[ref\\].\n",
    ),
    (
        "soft break",
        "First line\nsecond line\n",
        "First line<br>second line\n",
    ),
    (
        "hard breaks",
        "Hard break  \nnext\n\nBackslash break\\\nnext\n",
        "Hard break<br>next\n\nBackslash break<br>next\n",
    ),
    (
        "quote with lazy continuation",
        "> quote\nlazy continuation\n",
        "> quote<br>lazy continuation\n",
    ),
    (
        "nested quotes",
        "> quote\n>\n> > nested\n",
        "> quote\n>\n> > nested\n",
    ),
    (
        "bullet markers",
        "- one\n- two\n\n+ plus\n\n* star\n",
        "- one\n- two\n- plus\n- star\n",
    ),
    (
        "ordered lists",
        "1. one\n2. two\n\n3) paren\n\n5. five\n6. six\n",
        "1. one\n2. two\n3. paren\n4. five\n5. six\n",
    ),
    (
        "loose list",
        "- loose\n\n- list\n",
        "- loose\n- list\n",
    ),
    (
        "nested tight list",
        "- a\n  - b\n    - c\n- d\n",
        "- a\n  - b\n    - c\n- d\n",
    ),
    (
        "mixed nesting",
        "1. a\n   - mixed\n2. b\n",
        "1. a\n   - mixed\n2. b\n",
    ),
    (
        "item with a paragraph child",
        "- item\n\n  more of the item\n- next\n",
        "- item\n\n  more of the item\n- next\n",
    ),
    (
        "item with code child",
        "- item\n  ```\n  code\n  ```\n- next\n",
        "- item\n  ```plain-text\n  code\n  ```\n- next\n",
    ),
    (
        "task list",
        "- [ ] todo\n- [x] done\n",
        "- [ ] todo\n- [x] done\n",
    ),
    (
        "table with alignment",
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n",
        "| a | b |\n| --- | --- |\n| 1 | 2 |\n",
    ),
    (
        "backslash escapes",
        "\\*not emphasis\\* and \\# and 1\\. and \\[x\\]\n",
        "\\*not emphasis\\* and # and 1. and \\[x\\]\n",
    ),
    (
        "entity and numeric references",
        "&amp; &copy; &#35; &#x22;\n",
        "& © # \"\n",
    ),
    (
        "code spans",
        "`code` and ``co`de`` and ` `\n",
        "`code` and ``co`de`` and ` `\n",
    ),
    (
        "emphasis forms",
        "*em* _em_ **strong** __strong__ ***both*** ~~strike~~ ~single~\n",
        "*em* *em* **strong** **strong** ***both*** ~~strike~~ ~~single~~\n",
    ),
    (
        "intraword emphasis",
        "intra*word*emphasis and snake_case_name\n",
        "intra*word*emphasis and snake_case_name\n",
    ),
    (
        "emphasis followed by a space",
        "**Warning:** tests run.\n",
        "**Warning:** tests run.\n",
    ),
    (
        "links and autolinks",
        "[link](https://example.com \"title\") and <https://auto.link> and <a@b.co>\n",
        "[link](https://example.com) and [https://auto.link](https://auto.link) and [a@b.co](mailto:a@b.co)\n",
    ),
    (
        "image",
        "![image](https://example.com/i.png)\n",
        "![image](https://example.com/i.png)\n",
    ),
    (
        "inline HTML and comment",
        "Inline <b>html</b> and <!-- comment -->\n",
        "Inline \\<b>html\\</b> and \\<!-- comment -->\n",
    ),
    (
        "inline and display math",
        "Text with $x^2$ math\n\n$$\ne = mc^2\n$$\n",
        "Text with $x^2$ math\n\n$$\ne = mc^2\n$$\n",
    ),
    (
        "alert NOTE",
        "> [!NOTE]\n> Note body\n",
        "> [!NOTE]\n> Note body\n",
    ),
    (
        "alert TIP",
        "> [!TIP]\n> Tip body\n",
        "> [!TIP]\n> Tip body\n",
    ),
    (
        "alert IMPORTANT",
        "> [!IMPORTANT]\n> Important body\n",
        "> [!IMPORTANT]\n> Important body\n",
    ),
    (
        "alert WARNING",
        "> [!WARNING]\n> Warning body\n",
        "> [!WARNING]\n> Warning body\n",
    ),
    (
        "alert CAUTION",
        "> [!CAUTION]\n> Caution body\n",
        "> [!CAUTION]\n> Caution body\n",
    ),
    (
        "alert with children",
        "> [!note]\n> Body\n>\n> - a\n> - b\n",
        "> [!NOTE]\n> Body\n>\n> - a\n> - b\n",
    ),
    (
        "footnote",
        "Footnote[^1].\n\n[^1]: The note.\n",
        "Footnote\\[^1\\].\n\n\\[^1\\]: The note.\n",
    ),
    (
        "trailing spaces",
        "Trailing spaces   \nEnds here   \n",
        "Trailing spaces<br>Ends here\n",
    ),
    (
        "leading space reference",
        "&#32; leading space\n",
        "&#32; leading space\n",
    ),
    (
        "tab in text",
        "a\tb\n",
        "a\tb\n",
    ),
    (
        "emphasis next to punctuation",
        "a**(b)**c and *x.*y\n",
        "a\\*\\*(b)\\*\\*c and \\*x.\\*y\n",
    ),
];

#[test]
fn every_construct_is_written_back_as_documented_and_is_a_fixed_point() {
    for (name, typed, written) in CORPUS {
        let once = render(&parse(typed));
        assert_eq!(&once, written, "{name}: typed\n{typed}");
        assert_eq!(render(&parse(&once)), once, "{name}: not a fixed point");
    }
}

#[test]
fn every_typed_word_is_kept() {
    // Syntax that is not text: entity names, a language alias (`js` is `javascript`),
    // list numbers (lists are numbered on render), a link title (no Notion counterpart,
    // documented as dropped).
    let syntax = ["amp", "copy", "x22", "35", "js", "title"];
    for (name, typed, written) in CORPUS {
        for w in typed.split(|c: char| !c.is_alphanumeric()) {
            if w.is_empty() || syntax.contains(&w) || w.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            // Alert markers are written upper case.
            let found = written.contains(w) || written.contains(&w.to_uppercase());
            assert!(found, "{name}: {w:?} lost: {written:?}");
        }
    }
}
