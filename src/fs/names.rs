//! Pure naming rules (notionfs(1), LAYOUT): how a title becomes a file name, and how siblings
//! whose names collide get ` (2)`, ` (3)`, … suffixes — stably.
//!
//! Kept free of I/O and of the inode table so every rule can be tested on its own.
//!
//! - [`sanitize`]: `/` becomes `∕` (U+2215), NUL is dropped, an empty title is `Untitled`.
//! - [`compose`]: stem + suffix + extension, the stem cut at a character boundary so the
//!   whole name fits in 255 bytes.
//! - [`NameTable`]: one directory's names. A name, once given, sticks to its object for as
//!   long as the object keeps the same title: listing again or adding an unrelated sibling
//!   never renames an existing entry. New entries are named in (created_time, id) order.

use std::collections::{HashMap, HashSet};

/// Longest file name most Linux filesystems (and the kernel's FUSE layer) accept, in bytes.
pub const NAME_MAX: usize = 255;

/// The name of an object whose title is empty.
pub const UNTITLED: &str = "Untitled";

/// A title as a file name stem: `/` -> `∕`, NUL dropped, empty -> `Untitled`.
///
/// `.` and `..` are not names a directory can hold either: they get the same treatment as
/// an empty title would not (they are kept readable by replacing the dots' meaning with a
/// trailing U+2024 ONE DOT LEADER each), so a page titled `..` is still reachable.
pub fn sanitize(title: &str) -> String {
    let s: String = title
        .chars()
        .filter(|c| *c != '\0')
        .map(|c| if c == '/' { '\u{2215}' } else { c })
        .collect();
    match s.as_str() {
        "" => UNTITLED.to_string(),
        "." => "\u{2024}".to_string(),
        ".." => "\u{2024}\u{2024}".to_string(),
        _ => s,
    }
}

/// The longest prefix of `s` that is at most `max` bytes and ends on a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `stem` + ` (n)` (for n ≥ 2) + `ext`, the stem cut so the whole fits in [`NAME_MAX`] bytes.
/// `ext` includes its dot (`.md`) or is empty.
pub fn compose(stem: &str, n: u32, ext: &str) -> String {
    let suffix = if n >= 2 {
        format!(" ({n})")
    } else {
        String::new()
    };
    let room = NAME_MAX.saturating_sub(suffix.len() + ext.len());
    format!("{}{}{}", cut(stem, room), suffix, ext)
}

/// Splits an attachment file name into stem and extension (`diagram.png` -> `diagram`,
/// `.png`). A leading dot is not an extension; extensions longer than 16 bytes are not
/// treated as one.
pub fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 16 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// What shape of names an entry occupies in its directory.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A page: `STEM.md`, plus the folder `STEM` (reserved even while it does not exist,
    /// so the folder can appear later without renaming anything).
    Page,
    /// A folder only (database, data source): `STEM`.
    Folder,
    /// A file whose extension is kept after the suffix (attachments): `STEM (2).png`.
    File {
        /// Extension with its dot, or empty.
        ext: String,
    },
}

impl Shape {
    fn names(&self, stem: &str, n: u32) -> Vec<String> {
        match self {
            Shape::Page => vec![compose(stem, n, ".md"), compose(stem, n, "")],
            Shape::Folder => vec![compose(stem, n, "")],
            Shape::File { ext } => vec![compose(stem, n, ext)],
        }
    }
}

/// One candidate for naming: what it is, its wanted stem and its sort keys.
#[derive(Clone, Debug)]
pub struct Candidate<K> {
    /// The object's key (stable identity).
    pub key: K,
    /// Wanted stem (already [`sanitize`]d).
    pub stem: String,
    /// Shape of the names it occupies.
    pub shape: Shape,
    /// ISO 8601 creation time (sorts first).
    pub created_time: String,
    /// Object id (sorts second).
    pub id: String,
}

/// The stem an object received and what it asked for (to notice renames).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Given {
    wanted: String,
    shape: Shape,
    n: u32,
}

/// The sticky names of one directory.
#[derive(Clone, Debug)]
pub struct NameTable<K> {
    given: HashMap<K, Given>,
}

impl<K> Default for NameTable<K> {
    fn default() -> Self {
        NameTable {
            given: HashMap::new(),
        }
    }
}

impl<K: Clone + Eq + std::hash::Hash> NameTable<K> {
    /// Names every candidate, keeping the names given before to objects that are still
    /// there with the same wanted stem. Returns, in input order, each key's suffix number
    /// (1 for none) — use [`compose`] / [`NameTable::names_of`] to build the names.
    /// Entries no longer present are forgotten (their names become free).
    pub fn assign(&mut self, candidates: &[Candidate<K>]) -> Vec<u32> {
        let present: HashSet<&K> = candidates.iter().map(|c| &c.key).collect();
        self.given.retain(|k, _| present.contains(k));
        let mut taken: HashSet<String> = HashSet::new();
        // Keep what still holds: same wanted stem and shape.
        for c in candidates {
            let keep = matches!(self.given.get(&c.key),
                Some(g) if g.wanted == c.stem && g.shape == c.shape);
            if keep {
                let g = &self.given[&c.key];
                let names = g.shape.names(&g.wanted, g.n);
                if names.iter().any(|n| taken.contains(n)) {
                    // Only possible if two keys were given the same name; rename this one.
                    self.given.remove(&c.key);
                } else {
                    taken.extend(names);
                }
            } else {
                self.given.remove(&c.key);
            }
        }
        // Name the rest, first created first.
        let mut order: Vec<&Candidate<K>> = candidates
            .iter()
            .filter(|c| !self.given.contains_key(&c.key))
            .collect();
        order.sort_by(|a, b| (&a.created_time, &a.id).cmp(&(&b.created_time, &b.id)));
        for c in order {
            let mut n = 1;
            loop {
                let names = c.shape.names(&c.stem, n);
                if names.iter().all(|x| !taken.contains(x)) {
                    taken.extend(names);
                    break;
                }
                n += 1;
            }
            self.given.insert(
                c.key.clone(),
                Given {
                    wanted: c.stem.clone(),
                    shape: c.shape.clone(),
                    n,
                },
            );
        }
        candidates
            .iter()
            .map(|c| self.given.get(&c.key).map(|g| g.n).unwrap_or(1))
            .collect()
    }

    /// The stem (with suffix, without extension) given to `key`, if any.
    pub fn stem_of(&self, key: &K) -> Option<String> {
        self.given.get(key).map(|g| compose(&g.wanted, g.n, ""))
    }

    /// Gives the name of `old` (if any) to `new`: the same object under the id Notion gave
    /// it keeps its name.
    /// If both had a name for the same wanted stem (the page was seen under both ids, as
    /// after a restart), it keeps the lower suffix.
    pub fn rekey(&mut self, old: &K, new: K) {
        if let Some(g) = self.given.remove(old) {
            let keep = match self.given.get(&new) {
                Some(n) if n.wanted == g.wanted && n.shape == g.shape && n.n < g.n => n.clone(),
                _ => g,
            };
            self.given.insert(new, keep);
        }
    }

    /// The names `key` occupies (for a page: `STEM.md` and `STEM`).
    pub fn names_of(&self, key: &K) -> Vec<String> {
        self.given
            .get(key)
            .map(|g| g.shape.names(&g.wanted, g.n))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(key: &str, stem: &str, created: &str) -> Candidate<String> {
        Candidate {
            key: key.into(),
            stem: sanitize(stem),
            shape: Shape::Page,
            created_time: created.into(),
            id: key.into(),
        }
    }

    #[test]
    fn sanitize_rules() {
        assert_eq!(sanitize("a/b"), "a\u{2215}b");
        assert_eq!(sanitize("a\0b"), "ab");
        assert_eq!(sanitize(""), "Untitled");
        assert_eq!(sanitize("\0"), "Untitled");
        assert_eq!(sanitize("Café ☕"), "Café ☕");
        assert_ne!(sanitize(".."), "..");
    }

    #[test]
    fn long_names_are_cut_at_char_boundary_before_suffix_and_extension() {
        let stem = "é".repeat(200); // 400 bytes
        let name = compose(&stem, 1, ".md");
        assert!(name.len() <= NAME_MAX);
        assert!(name.ends_with(".md"));
        assert!(std::str::from_utf8(name.as_bytes()).is_ok());
        let name2 = compose(&stem, 2, ".md");
        assert!(name2.len() <= NAME_MAX && name2.ends_with(" (2).md"));
        assert_eq!(cut("aé", 2), "a");
    }

    #[test]
    fn duplicates_get_suffixes_by_created_time_then_id() {
        let mut t = NameTable::default();
        let c = vec![
            cand("b", "Notes", "2025-01-02T00:00:00.000Z"),
            cand("a", "Notes", "2025-01-02T00:00:00.000Z"),
            cand("c", "Notes", "2025-01-01T00:00:00.000Z"),
        ];
        let n = t.assign(&c);
        assert_eq!(n, vec![3, 2, 1]);
        assert_eq!(t.names_of(&"c".to_string())[0], "Notes.md");
        assert_eq!(t.names_of(&"a".to_string())[0], "Notes (2).md");
    }

    #[test]
    fn names_are_sticky_when_an_older_sibling_appears() {
        let mut t = NameTable::default();
        t.assign(&[cand("x", "Notes", "2025-02-01T00:00:00.000Z")]);
        // An older page with the same title shows up later: the existing name stays.
        let n = t.assign(&[
            cand("x", "Notes", "2025-02-01T00:00:00.000Z"),
            cand("old", "Notes", "2024-01-01T00:00:00.000Z"),
        ]);
        assert_eq!(n, vec![1, 2]);
        // A rename frees the name; the other keeps its suffix (no cascade of renames).
        let n = t.assign(&[
            cand("x", "Other", "2025-02-01T00:00:00.000Z"),
            cand("old", "Notes", "2024-01-01T00:00:00.000Z"),
        ]);
        assert_eq!(n, vec![1, 2]);
    }

    #[test]
    fn page_folder_and_file_shapes_collide() {
        let mut t = NameTable::default();
        let c = vec![
            Candidate {
                key: "att".to_string(),
                stem: "x.png".into(),
                shape: Shape::File { ext: String::new() },
                created_time: "1".into(),
                id: "att".into(),
            },
            Candidate {
                key: "page".to_string(),
                stem: "x.png".into(),
                shape: Shape::Page,
                created_time: "2".into(),
                id: "page".into(),
            },
        ];
        assert_eq!(t.assign(&c), vec![1, 2]);
        assert_eq!(split_ext("diagram.png"), ("diagram", ".png"));
        assert_eq!(split_ext(".hidden"), (".hidden", ""));
    }
}
