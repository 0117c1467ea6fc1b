//! Code block languages: Notion's enum (/reference/block#code) <-> fence info strings.
//!
//! The info string is the Notion language with spaces written as `-` (`plain-text`,
//! `visual-basic`); common Markdown aliases are read too. An unknown info string reads as
//! `plain text`; the parser then keeps the info string as the start of the block's caption
//! (the API has no other place for it), so nothing typed is lost.

/// Every language the API accepts (the reference's enum, 72 values), exactly as spelled.
pub use crate::notion::model::block::CODE_LANGUAGES as LANGUAGES;

const ALIASES: [(&str, &str); 26] = [
    ("text", "plain text"),
    ("txt", "plain text"),
    ("plain", "plain text"),
    ("plaintext", "plain text"),
    ("cpp", "c++"),
    ("cxx", "c++"),
    ("csharp", "c#"),
    ("cs", "c#"),
    ("fsharp", "f#"),
    ("js", "javascript"),
    ("jsx", "javascript"),
    ("ts", "typescript"),
    ("tsx", "typescript"),
    ("sh", "shell"),
    ("zsh", "shell"),
    ("console", "shell"),
    ("py", "python"),
    ("rs", "rust"),
    ("rb", "ruby"),
    ("yml", "yaml"),
    ("md", "markdown"),
    ("dockerfile", "docker"),
    ("objc", "objective-c"),
    ("kt", "kotlin"),
    ("tex", "latex"),
    ("golang", "go"),
];

fn all() -> impl Iterator<Item = &'static str> {
    LANGUAGES.iter().copied()
}

/// The fence info string for a Notion language.
pub fn info_for(language: &str) -> String {
    language.replace(' ', "-")
}

/// The Notion language for a fence info string (first word; `plain text` when unknown).
pub fn language_for(info: &str) -> String {
    let word = info.split_whitespace().next().unwrap_or("").to_lowercase();
    if word.is_empty() {
        return "plain text".into();
    }
    let spaced = word.replace('-', " ");
    if let Some(l) = all().find(|l| *l == word || *l == spaced) {
        return l.to_string();
    }
    ALIASES
        .iter()
        .find(|(a, _)| *a == word)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| "plain text".into())
}

/// Whether `info` is exactly one word naming a language (or an alias of one). Anything
/// else (an unknown word, extra words) has no place in the API's code block, so the parser
/// keeps it in the caption instead of dropping it.
pub fn is_recognised(info: &str) -> bool {
    let mut words = info.split_whitespace();
    let Some(word) = words.next() else {
        return true;
    };
    if words.next().is_some() {
        return false;
    }
    let word = word.to_lowercase();
    let spaced = word.replace('-', " ");
    all().any(|l| l == word || l == spaced) || ALIASES.iter().any(|(a, _)| *a == word)
}

/// Whether the API knows `language`.
pub fn is_known(language: &str) -> bool {
    all().any(|l| l == language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_round_trips_through_its_info_string() {
        for l in all() {
            assert_eq!(language_for(&info_for(l)), l, "{l}");
        }
    }

    #[test]
    fn aliases_and_unknown() {
        assert_eq!(language_for("cpp"), "c++");
        assert_eq!(language_for("text"), "plain text");
        assert_eq!(language_for("yml"), "yaml");
        assert_eq!(language_for("brainfudge"), "plain text");
        assert_eq!(language_for(""), "plain text");
        assert_eq!(language_for("rust ignore"), "rust");
    }
}
