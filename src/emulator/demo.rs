//! The built-in demo workspace (placeholder while the full demo is written).
use super::Seed;
/// The demo workspace.
pub fn demo_workspace() -> Seed {
    Seed::example()
}
