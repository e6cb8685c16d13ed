//! The CloudFormation model: values with intrinsics, resources, templates, logical IDs and
//! deterministic rendering. Knows nothing of constructs.
//!
//! ```
//! use ordersctl::template::{Format, Template};
//! let t = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue",
//!     "Properties": {"VisibilityTimeout": 60}}}}"#).unwrap();
//! assert_eq!(t.resources["Q"].resource_type, "AWS::SQS::Queue");
//! assert!(t.render(Format::Yaml).contains("VisibilityTimeout: 60"));
//! ```

mod expr;
pub mod for_each;
pub mod input_limits;
mod logical_id;
mod parse;
mod render;
mod resource;
pub mod sam;
mod show;
pub(crate) mod strict_json;
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
