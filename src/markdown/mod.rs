//! Block <-> Markdown conversion (spec section 3).
