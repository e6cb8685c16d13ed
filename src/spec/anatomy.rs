//! The template format's own keys: top-level sections and resource attributes (CloudFormation
//! User Guide, "Template anatomy" and "Resource attribute reference").
//!
//! ```
//! use ordersctl::spec::anatomy;
//! let resource = serde_json::json!({ anatomy::Type: "AWS::SQS::Queue", anatomy::DependsOn: ["Key"] });
//! assert_eq!(resource["DependsOn"][0], "Key");
//! ```

/// The template's description section.
pub const Description: &str = "Description";
/// Input parameters.
pub const Parameters: &str = "Parameters";
/// The resources.
pub const Resources: &str = "Resources";
/// Stack outputs.
pub const Outputs: &str = "Outputs";
/// A resource's type.
pub const Type: &str = "Type";
/// A resource's properties.
pub const Properties: &str = "Properties";
/// The condition that decides whether a resource or output exists.
pub const Condition: &str = "Condition";
/// Resources to create first.
pub const DependsOn: &str = "DependsOn";
/// What happens to the physical resource when it leaves the template.
pub const DeletionPolicy: &str = "DeletionPolicy";
/// What happens to the old physical resource after a replacement.
pub const UpdateReplacePolicy: &str = "UpdateReplacePolicy";
