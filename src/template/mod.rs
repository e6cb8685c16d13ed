//! The CloudFormation model: values with intrinsics, resources, templates, logical IDs and
//! deterministic rendering. Knows nothing of constructs.

mod expr;
pub mod for_each;
pub mod input_limits;
mod logical_id;
mod parse;
mod render;
mod resource;
pub mod sam;
mod show;
mod strict_json;
mod suppression;
#[allow(clippy::module_inception)]
mod template;
mod yaml;
pub mod yaml_read;

pub use expr::{sub_variables, Expr, Pseudo, StackId, Target};
pub use logical_id::{LogicalId, LogicalIdError, MAX_LOGICAL_ID_LEN};
pub use parse::ParseError;
pub use render::Format;
pub use resource::{Policy, Resource};
pub use show::show;
pub use suppression::Suppression;
pub use template::{DuplicateLogicalId, Output, Parameter, Template};
