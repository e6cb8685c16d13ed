//! App -> cloud assembly: finalize each stack, wire cross-stack references into
//! export/import pairs, order stacks by dependency. Pure; [`writer`] puts it on disk.
//!
//! ```
//! use ordersctl::constructs::App;
//! let app = App::new();
//! app.stack("Jobs").queue("Work").build()?;
//! let assembly = ordersctl::synth::synthesize(&app)?;
//! assert_eq!(assembly.stacks[0].name, "Jobs");
//! assert!(assembly.stacks[0].template.resources.contains_key("Work"));
//! # Ok::<(), ordersctl::constructs::SynthError>(())
//! ```

mod assembly;
pub mod lock;
pub mod manifest;
pub mod reader;
pub mod writer;

pub use assembly::{synthesize, Assembly, StackArtifact, MANIFEST_VERSION};
