//! Shared by the integration tests: the blueprints, compiled in by path as the binary does.

#[allow(dead_code)]
#[path = "../../blueprints/mod.rs"]
pub mod blueprints;

#[allow(dead_code)]
pub mod imports;

use ordersctl::synth::{synthesize, Assembly};

/// Every blueprint synthesized into one assembly.
#[allow(dead_code)] // not every test uses it
pub fn assembly() -> Assembly {
    let app = blueprints::app(ordersctl::constructs::Stage::Dev).expect("blueprints build");
    synthesize(&app).expect("blueprints synthesize")
}
