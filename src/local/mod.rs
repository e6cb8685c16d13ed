//! `ordersctl local`: run a stack's whole event flow on a local endpoint.
//!
//! The endpoint (moto) holds state: queues, tables, buckets. The engine does every delivery
//! itself, read from the deployed templates: SQS event source mappings, EventBridge rules and
//! targets, asynchronous invocation with its retries and destinations, schedules, and state
//! machines. Functions run as their handler binaries behind an emulated Lambda Runtime API;
//! their AWS calls pass through a proxy that evaluates each one against the function role's
//! policies. Time the engine owns runs on a virtual clock.
//!
//! The pure core — [`pattern`], [`iam`], [`asl`], [`resolve`], [`world`], [`sns`],
//! [`http_api`], [`input`], [`authorize`], [`inject`], [`trace`] — has no I/O; [`engine`],
//! [`proxy`], [`moto`], [`deploy`] and [`server`] are the edges (HTTP framing is shared with
//! the Runtime API: [`crate::invoke::http`]).
//!
//! ```
//! use ordersctl::local::pattern::matches;
//! use serde_json::json;
//! let pattern = json!({"source": ["orders"], "detail": {"total": [{"numeric": [">", 100]}]}});
//! assert!(matches(&pattern, &json!({"source": "orders", "detail": {"total": 250}})).unwrap());
//! assert!(!matches(&pattern, &json!({"source": "orders", "detail": {"total": 50}})).unwrap());
//! ```

pub mod asl;
pub mod authorize;
pub mod http_api;
pub mod iam;
pub mod inject;
pub mod pattern;
pub mod resolve;
pub mod sns;
pub mod trace;
pub mod world;

pub mod deploy;
pub mod engine;
pub use crate::invoke::http;
pub mod input;
pub mod moto;
pub mod proxy;
pub mod server;
