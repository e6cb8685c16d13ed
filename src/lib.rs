//! ordersctl: infrastructure as code for event-driven order processing on AWS.
//!
//! Layers, imports pointing down only: [`template`] (the CloudFormation model) <-
//! [`constructs`] (the typed DSL) <- [`synth`] (App -> cloud assembly).

// `ordersctl::...` paths resolve inside the crate too: `cli::init` compiles the starter
// project's stack file, written for a crate that depends on ordersctl.
extern crate self as ordersctl;

pub mod assertions;
pub mod bundle;
pub mod checks;
#[cfg(feature = "cli")]
pub mod cli;
pub mod constructs;
#[cfg(feature = "aws")]
pub mod deploy;
pub mod diff;
pub mod invoke;
#[cfg(feature = "aws")]
pub mod local;
pub mod spec;
pub mod synth;
pub mod template;

// The README's example is compiled and run as a doctest, so it cannot drift from the API.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
