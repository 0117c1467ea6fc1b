//! `notionfs mount` and `notionfs demo` (work in progress).
