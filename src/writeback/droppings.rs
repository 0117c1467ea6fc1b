//! Editor droppings: swap, backup and temp files that editors and tools write beside the
//! file they edit. They live in the mount's local overlay only and are never sent to Notion
//! (see notionfs(5), "Editor droppings").

/// Whether `name` is an editor's temp, swap or backup file (kept in memory, never sent):
/// `.*.swp`, `.*.swx`, `*~`, `.#*`, `#*#`, `4913`, `.~*`, `*.tmp`, `sedXXXXXX` (`sed -i`)
/// and VS Code's `.T.md.tmp-…`/`T.md.tmp.…` atomic-save temps.
pub fn is_dropping(name: &str) -> bool {
    let sed = name.len() == 9
        && name.starts_with("sed")
        && name[3..].bytes().all(|b| b.is_ascii_alphanumeric());
    (name.starts_with('.') && (name.ends_with(".swp") || name.ends_with(".swx")))
        || name.ends_with('~')
        || name.starts_with(".#")
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
        || name == "4913"
        || name.starts_with(".~")
        || name.ends_with(".tmp")
        || name.contains(".tmp-")
        || name.contains(".md.tmp.")
        || sed
}

#[cfg(test)]
mod tests {
    use super::is_dropping;

    #[test]
    fn droppings() {
        for n in [
            ".T.md.swp",
            ".T.md.swx",
            "T.md~",
            ".#T.md",
            "#T.md#",
            "4913",
            ".~lock.T.md#",
            "T.md.tmp",
            "sedAb12Z9",
            ".T.md.tmp-1234",
        ] {
            assert!(is_dropping(n), "{n}");
        }
        for n in ["T.md", "sed.md", "sedimentary", "Notes", "#hash", "a.swp"] {
            assert!(!is_dropping(n), "{n}");
        }
    }
}
