//! Deploying assemblies through CloudFormation. The decisions are pure ([`state`]); the
//! API calls live beside them.

mod state;

pub use state::{decide, poll_delay, root_causes, Plan, RootCause, StackEvent, StackStatus};
