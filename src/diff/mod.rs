//! What a change does to a stack: template × template → changes. Pure: no I/O, no clock.

mod resources;

pub use resources::{resource_changes, ResourceAction, ResourceDelta};
