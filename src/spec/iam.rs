//! The IAM JSON policy grammar's element names and effects, as written inside
//! `PolicyDocument`, `AssumeRolePolicyDocument`, `KeyPolicy` and resource policies
//! (IAM User Guide, "IAM JSON policy element reference").
//!
//! ```
//! use ordersctl::spec::iam;
//! let statement = serde_json::json!({ iam::Effect: iam::Allow, iam::Action: "sqs:SendMessage" });
//! assert_eq!(statement["Effect"], "Allow");
//! ```

/// The policy language version element.
pub const Version: &str = "Version";
/// The policy language version ordersctl writes.
pub const VERSION_2012_10_17: &str = "2012-10-17";
/// The list of statements.
pub const Statement: &str = "Statement";
/// A statement's identifier.
pub const Sid: &str = "Sid";
/// `Allow` or `Deny`.
pub const Effect: &str = "Effect";
/// The effect that grants.
pub const Allow: &str = "Allow";
/// The effect that refuses, whatever else allows.
pub const Deny: &str = "Deny";
/// The actions a statement covers.
pub const Action: &str = "Action";
/// Every action but these.
pub const NotAction: &str = "NotAction";
/// The resources a statement covers.
pub const Resource: &str = "Resource";
/// Every resource but these.
pub const NotResource: &str = "NotResource";
/// Who a resource policy or trust policy admits.
pub const Principal: &str = "Principal";
/// Everyone but these principals.
pub const NotPrincipal: &str = "NotPrincipal";
/// A principal that is an AWS service (`events.amazonaws.com`).
pub const Service: &str = "Service";
/// A principal that is an account, user or role.
pub const AWS: &str = "AWS";
/// Conditions under which the statement applies.
pub const Condition: &str = "Condition";
