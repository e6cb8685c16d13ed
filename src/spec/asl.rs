//! The Amazon States Language's field names and state types, as the state machine
//! construct writes them and the workflow checks read them (States Language specification,
//! <https://states-language.net/spec.html>).
//!
//! ```
//! use ordersctl::spec::asl;
//! let state = serde_json::json!({ asl::Type: asl::Task, asl::End: true });
//! assert_eq!(state["Type"], "Task");
//! ```

/// A human-readable description.
pub const Comment: &str = "Comment";
/// The first state's name.
pub const StartAt: &str = "StartAt";
/// The states, by name.
pub const States: &str = "States";
/// How long an execution or a task may run.
pub const TimeoutSeconds: &str = "TimeoutSeconds";
/// How long a task may go without a heartbeat.
pub const HeartbeatSeconds: &str = "HeartbeatSeconds";
/// A state's type.
pub const Type: &str = "Type";
/// The state that follows.
pub const Next: &str = "Next";
/// Whether the state ends the execution.
pub const End: &str = "End";
/// Selects part of the state's input.
pub const InputPath: &str = "InputPath";
/// Selects part of the state's output.
pub const OutputPath: &str = "OutputPath";
/// Where the result goes in the input.
pub const ResultPath: &str = "ResultPath";
/// Shapes a task's result.
pub const ResultSelector: &str = "ResultSelector";
/// A task's or pass state's input template.
pub const Parameters: &str = "Parameters";
/// A task's integration (`arn:aws:states:::dynamodb:putItem` ...).
pub const Resource: &str = "Resource";
/// Retriers.
pub const Retry: &str = "Retry";
/// Catchers.
pub const Catch: &str = "Catch";
/// The errors a retrier or catcher handles.
pub const ErrorEquals: &str = "ErrorEquals";
/// Seconds before the first retry.
pub const IntervalSeconds: &str = "IntervalSeconds";
/// How many retries.
pub const MaxAttempts: &str = "MaxAttempts";
/// The multiplier between retries.
pub const BackoffRate: &str = "BackoffRate";
/// The longest wait between retries.
pub const MaxDelaySeconds: &str = "MaxDelaySeconds";
/// `FULL` or `NONE`.
pub const JitterStrategy: &str = "JitterStrategy";
/// A choice state's rules.
pub const Choices: &str = "Choices";
/// A choice state's fallback.
pub const Default: &str = "Default";
/// The input path a choice rule compares.
pub const Variable: &str = "Variable";
/// A parallel state's branches.
pub const Branches: &str = "Branches";
/// A map state's iterator (the older name of `ItemProcessor`).
pub const Iterator: &str = "Iterator";
/// A map state's state machine for each item.
pub const ItemProcessor: &str = "ItemProcessor";
/// How a map state runs its items.
pub const ProcessorConfig: &str = "ProcessorConfig";
/// `INLINE` or `DISTRIBUTED`.
pub const Mode: &str = "Mode";
/// Where a map state finds its items.
pub const ItemsPath: &str = "ItemsPath";
/// Shapes each item.
pub const ItemSelector: &str = "ItemSelector";
/// How many items run at once.
pub const MaxConcurrency: &str = "MaxConcurrency";
/// A wait state's fixed delay.
pub const Seconds: &str = "Seconds";
/// A wait state's delay from the input.
pub const SecondsPath: &str = "SecondsPath";
/// A wait state's fixed time.
pub const Timestamp: &str = "Timestamp";
/// A wait state's time from the input.
pub const TimestampPath: &str = "TimestampPath";
/// A pass state's fixed result.
pub const Result: &str = "Result";
/// A fail state's error name.
pub const Error: &str = "Error";
/// A fail state's message.
pub const Cause: &str = "Cause";
/// A task state.
pub const Task: &str = "Task";
/// A pass state.
pub const Pass: &str = "Pass";
/// A choice state.
pub const Choice: &str = "Choice";
/// A wait state.
pub const Wait: &str = "Wait";
/// A succeed state.
pub const Succeed: &str = "Succeed";
/// A fail state.
pub const Fail: &str = "Fail";
/// A parallel state.
pub const Parallel: &str = "Parallel";
/// A map state.
pub const Map: &str = "Map";
