//! ordersctl: infrastructure as code for event-driven order processing on AWS.
//!
//! Layers, imports pointing down only: [`template`] (the CloudFormation model) <-
//! [`constructs`] (the typed DSL) <- [`synth`] (App -> cloud assembly).

pub mod constructs;
pub mod synth;
pub mod template;
