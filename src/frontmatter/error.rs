//! Errors of the front matter codec: per property ([`PropertyError`], the rest of the file
//! still goes through) and for the whole front matter ([`FrontMatterError`]).
//!
//! Every message names the property, says what is wrong and how to fix it.

use thiserror::Error;

/// One property of a front matter that cannot be sent to Notion.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("property {}: {problem}", quoted(property))]
pub struct PropertyError {
    /// The key as written in the front matter.
    pub property: String,
    /// What is wrong, and the fix.
    pub problem: Problem,
}

/// What is wrong with one property.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Problem {
    /// A key that is no property of the data source.
    #[error(
        "no such property in this data source{}; existing properties: {}; fix: correct the name or delete the line",
        suggest(suggestion),
        list(known)
    )]
    UnknownKey {
        /// The data source's properties (title excluded).
        known: Vec<String>,
        /// A property of the same name but for case, if any.
        suggestion: Option<String>,
    },
    /// The title property written as a key.
    #[error("the title is the file name, not a front matter key; fix: delete the line and rename the file to change the title")]
    Title,
    /// A changed value of a property Notion computes or the API cannot update.
    #[error("{type_name} properties are read-only (Notion computes them); fix: restore the value {current} or delete the line")]
    ReadOnly {
        /// The property type.
        type_name: String,
        /// The current value, as YAML.
        current: String,
    },
    /// A value of the wrong YAML type.
    #[error("expected {expected}, found {found}; fix: write {example}")]
    TypeMismatch {
        /// What the property type takes.
        expected: String,
        /// What was written.
        found: String,
        /// An example of a valid value.
        example: String,
    },
    /// A string longer than the API takes.
    #[error("{what} is {actual} characters long, over the API limit of {limit}; fix: shorten it")]
    TooLong {
        /// What is too long.
        what: String,
        /// Its length.
        actual: usize,
        /// The limit.
        limit: usize,
    },
    /// A list longer than the API takes.
    #[error("{count} {what}, over the API limit of {limit}; fix: keep at most {limit}")]
    TooMany {
        /// What is counted.
        what: String,
        /// How many were written.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Select, multi-select or status option names that the schema does not have.
    #[error(
        "{} {} not exist; existing options: {}; fix: use an existing option or add it in Notion first (options are never created from a file)",
        plural(options, "option"),
        if options.len() == 1 { "does" } else { "do" },
        list(existing)
    )]
    UnknownOption {
        /// The names that do not exist.
        options: Vec<String>,
        /// The options of the property.
        existing: Vec<String>,
    },
    /// People entries that are neither a known e-mail nor a user id.
    #[error("{} {} neither a known e-mail nor a user id; fix: use the e-mail of a workspace member or a user id", quoted_list(values), is_are(values))]
    UnknownUser {
        /// The entries.
        values: Vec<String>,
    },
    /// Relation entries that are neither a visible row's path nor a page id.
    #[error("{} {} neither the path of a visible row nor a page id; fix: use the relative path of the related row's .md file or its page id", quoted_list(values), is_are(values))]
    UnknownRelation {
        /// The entries.
        values: Vec<String>,
    },
    /// Files entries that are neither a current attachment nor a URL.
    #[error("{} {} neither a file this property already has nor an http(s) URL; fix: keep the existing entries and add URLs (uploading into a files property from the front matter is not supported)", quoted_list(values), is_are(values))]
    UnknownFile {
        /// The entries.
        values: Vec<String>,
    },
    /// A date that is not ISO 8601.
    #[error("{} is not a valid date ({reason}); fix: write 2025-01-31, 2025-01-31T09:00:00+01:00 or start:/end: lines", quoted(value))]
    InvalidDate {
        /// The text written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An entry listed twice.
    #[error("{} is listed twice; fix: list each entry once", quoted(value))]
    Duplicate {
        /// The entry.
        value: String,
    },
    /// A list Notion returned cut at 25 entries and that was not completed.
    #[error("Notion returned only the first {shown} entries, so a change could drop the others; fix: undo the change and retry once the full list is loaded")]
    Truncated {
        /// Entries shown.
        shown: usize,
    },
}

/// The front matter as a whole cannot be read; the body may still be usable.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FrontMatterError {
    /// The YAML does not parse.
    #[error("front matter: malformed YAML at line {line}, column {column}: {message}; fix: correct the YAML (quote values containing \": \" or starting with special characters)")]
    Malformed {
        /// 1-based line in the file.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The YAML reader's message.
        message: String,
        /// The Markdown after the front matter.
        body: String,
    },
    /// The YAML is not a mapping of property names to values.
    #[error("front matter: expected property: value lines, found {found}; fix: write one \"Name: value\" line per property")]
    NotAMapping {
        /// What was found.
        found: String,
        /// The Markdown after the front matter.
        body: String,
    },
    /// `---` opens the file but no closing `---` line follows.
    #[error("front matter: the opening --- line has no closing --- line; fix: end the front matter with a line holding only ---")]
    Unterminated,
}

impl FrontMatterError {
    /// The Markdown body, when the front matter could at least be delimited.
    pub fn body(&self) -> Option<&str> {
        match self {
            FrontMatterError::Malformed { body, .. }
            | FrontMatterError::NotAMapping { body, .. } => Some(body),
            FrontMatterError::Unterminated => None,
        }
    }
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

fn quoted_list(v: &[String]) -> String {
    v.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", ")
}

fn plural(v: &[String], noun: &str) -> String {
    if v.len() == 1 {
        format!("{noun} {}", quoted_list(v))
    } else {
        format!("{noun}s {}", quoted_list(v))
    }
}

fn is_are(v: &[String]) -> &'static str {
    if v.len() == 1 {
        "is"
    } else {
        "are"
    }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

fn suggest(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (did you mean {}?)", quoted(s)),
        None => String::new(),
    }
}
