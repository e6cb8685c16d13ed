//! App -> cloud assembly: finalize each stack, wire cross-stack references into
//! export/import pairs, order stacks by dependency. Pure; [`writer`] puts it on disk.

mod assembly;
pub mod lock;
pub mod manifest;
pub mod reader;
pub mod writer;

pub use assembly::{synthesize, Assembly, StackArtifact, MANIFEST_VERSION};
