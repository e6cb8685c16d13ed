//! Enumerated property values that constructs write and checks look for, so both sides agree
//! on the spelling (CloudFormation resource reference, per property).
//!
//! ```
//! use ordersctl::spec::value;
//! assert_eq!(value::REPORT_BATCH_ITEM_FAILURES, "ReportBatchItemFailures");
//! ```

/// `AWS::Lambda::Function` `TracingConfig.Mode`: sample and trace requests with X-Ray.
pub const TRACING_ACTIVE: &str = "Active";
/// `AWS::Lambda::EventSourceMapping` `FunctionResponseTypes`: partial batch responses.
pub const REPORT_BATCH_ITEM_FAILURES: &str = "ReportBatchItemFailures";
/// `AWS::StepFunctions::StateMachine` `StateMachineType` of short, at-least-once workflows.
pub const EXPRESS: &str = "EXPRESS";
/// `AWS::StepFunctions::StateMachine` `StateMachineType` of long, exactly-once workflows.
pub const STANDARD: &str = "STANDARD";
/// `AWS::SNS::Subscription` `Protocol` that invokes a function.
pub const PROTOCOL_LAMBDA: &str = "lambda";
