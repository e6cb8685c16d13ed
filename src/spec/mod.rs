//! The vocabulary and facts of what ordersctl reads and writes, in one place: CloudFormation
//! resource facts and property names generated from the registry schemas, and the key words
//! of the two JSON languages inside templates (IAM policies, the States Language).
//!
//! Constructs, checks, diff and the scanner take names from here instead of re-typing string
//! literals, so a misspelled property is a compile error, not a silently ignored key.
//!
//! ```
//! use ordersctl::spec::{cfn, facts};
//! let queue = facts("AWS::SQS::Queue").unwrap();
//! assert!(queue.has_property(cfn::VisibilityTimeout));
//! assert!(queue.create_only().any(|p| p == cfn::FifoQueue));
//! assert!(queue.has_attribute("Arn"));
//! assert_eq!(queue.name_property(), Some(cfn::QueueName));
//! ```

#[allow(non_upper_case_globals)]
pub mod anatomy;
#[allow(non_upper_case_globals)]
pub mod asl;
/// One `&str` constant per name, spelled as the name itself, and `ALL` (sorted, as given).
macro_rules! property_names {
    ($($name:ident)*) => {
        $(
            #[doc = concat!("The CloudFormation property name `", stringify!($name), "`.")]
            pub const $name: &str = stringify!($name);
        )*
        /// Every name above, sorted.
        pub const ALL: &[&str] = &[$(stringify!($name)),*];
    };
}

#[allow(non_upper_case_globals)]
pub mod cfn;
mod facts;
#[allow(non_upper_case_globals)]
pub mod iam;
mod impact;
pub(crate) mod replacement_table;

pub use facts::{facts, resource_types, ResourceFacts};
pub use impact::Impact;
pub mod value;
