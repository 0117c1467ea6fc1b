//! Row properties <-> YAML front matter, and `.schema.yaml` (spec section 4).
