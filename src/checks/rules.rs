//! The rule catalogue: ID, default severity, what it guards and how to fix it.

use super::Severity;

/// One architecture rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub fix: &'static str,
}

const fn r(id: &'static str, severity: Severity, title: &'static str, fix: &'static str) -> Rule {
    Rule {
        id,
        severity,
        title,
        fix,
    }
}

use Severity::{Error, Note, Warning};

/// Every rule, in ID order.
pub static RULES: &[Rule] = &[
    r(
        "ORD000",
        Error,
        "a suppression names an unknown rule or gives no reason",
        "name an ORD rule from `ordersctl check --rules` and give the reason",
    ),
    r(
        "ORD001",
        Warning,
        "queue visibility timeout below 6x the consuming function's timeout (below 1x: error)",
        "set the queue's visibility timeout to at least 6x the function timeout",
    ),
    r(
        "ORD002",
        Warning,
        "SQS event source with batch size > 1 without ReportBatchItemFailures",
        "enable report_batch_item_failures() and return the failed message IDs",
    ),
    r(
        "ORD003",
        Error,
        "consumed queue without a dead-letter queue",
        "give the queue a dead_letter_queue(&dlq, 3..=5)",
    ),
    r(
        "ORD004",
        Warning,
        "maxReceiveCount outside 3-5",
        "use a maxReceiveCount of 3 to 5",
    ),
    r(
        "ORD005",
        Warning,
        "dead-letter queue retains messages for less than 14 days",
        "set the DLQ's retention to 14 days",
    ),
    r(
        "ORD006",
        Warning,
        "dead-letter queue without an alarm on visible messages",
        "add queue.alarm_not_empty(...) on the DLQ",
    ),
    r(
        "ORD007",
        Warning,
        "EventBridge rule or schedule target without a dead-letter queue",
        "give the target a dead-letter queue",
    ),
    r(
        "ORD008",
        Warning,
        "asynchronously invoked function without an on-failure destination or DLQ",
        "add an on-failure destination (or a DLQ) to the function",
    ),
    r(
        "ORD009",
        Warning,
        "stream event source without on-failure destination, bisect and a bounded retry count",
        "set on_failure, bisect_batch_on_error and max_retry_attempts",
    ),
    r(
        "ORD010",
        Warning,
        "Step Functions Task without Retry",
        "add a Retry for transient errors (Lambda.ServiceException, States.TaskFailed, throttling)",
    ),
    r(
        "ORD011",
        Warning,
        "Task after a side-effecting step without Catch",
        "add a Catch that compensates the earlier steps",
    ),
    r(
        "ORD012",
        Warning,
        "Standard workflow without a timeout",
        "set TimeoutSeconds on the state machine",
    ),
    r(
        "ORD013",
        Warning,
        "encryption at rest off (queue, topic, table)",
        "keep SQS-managed or KMS encryption on; give topics and tables a KMS key",
    ),
    r(
        "ORD014",
        Warning,
        "log group without retention",
        "set RetentionInDays",
    ),
    r(
        "ORD015",
        Warning,
        "tracing off (function, state machine)",
        "turn on active X-Ray tracing",
    ),
    r(
        "ORD016",
        Warning,
        "wildcard action or resource in a policy",
        "name the actions and scope the resources (grants do this)",
    ),
    r(
        "ORD017",
        Warning,
        "SQS event source without maximum concurrency on a function that writes to a table",
        "set max_concurrency on the event source",
    ),
    r(
        "ORD018",
        Warning,
        "HTTP API route without an authorizer or throttling",
        "attach an authorizer and set stage throttling",
    ),
    r(
        "ORD019",
        Error,
        "more than 500 resources in a stack",
        "split the stack",
    ),
    r(
        "ORD020",
        Error,
        "more than 200 outputs or 200 parameters",
        "split the stack or drop outputs",
    ),
    r("ORD021", Error, "template over 1 MB", "split the stack"),
    r(
        "ORD022",
        Note,
        "template over 51,200 bytes: deploy uploads it to the asset bucket",
        "nothing to do; run `ordersctl bootstrap` once",
    ),
    r(
        "ORD023",
        Error,
        "logical ID over 255 characters",
        "shorten the construct ID",
    ),
    r(
        "ORD024",
        Error,
        "a function does not set an environment variable its handler crate requires",
        "set it with `.env(NAME, value)`, or change the crate's `[package.metadata.ordersctl]`",
    ),
    r(
        "ORD025",
        Warning,
        "a function sets an environment variable its handler crate does not read",
        "drop the `.env(..)`, or declare the variable in the crate's `[package.metadata.ordersctl]`",
    ),
    r(
        "ORD026",
        Warning,
        "a function's role grants actions its handler crate never calls",
        "grant only the declared actions (e.g. `table.grant(&function, &[..])`), or declare the call in the crate's `[package.metadata.ordersctl] actions`",
    ),
    r(
        "ORD027",
        Warning,
        "a function's handler crate declares no contract",
        "add `[package.metadata.ordersctl]` to the crate's Cargo.toml: the variables it reads and the actions it calls",
    ),
    r(
        "ORD028",
        Error,
        "a DependsOn names no resource, or resources depend on each other in a circle",
        "name an existing resource, and break the circle (CloudFormation refuses the template)",
    ),
];

/// The rule with this ID.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The fix in CloudFormation's words, for rules whose usual fix names ordersctl's DSL: what
/// `check --template` tells someone whose template ordersctl did not write.
static TEMPLATE_FIXES: &[(&str, &str)] = &[
    ("ORD002", "add FunctionResponseTypes: [ReportBatchItemFailures] to the event source mapping and return the failed message IDs"),
    ("ORD003", "give the queue a RedrivePolicy with a deadLetterTargetArn and a maxReceiveCount of 3 to 5"),
    ("ORD006", "add an AWS::CloudWatch::Alarm on the DLQ's ApproximateNumberOfMessagesVisible"),
    ("ORD009", "set DestinationConfig.OnFailure, BisectBatchOnFunctionError and MaximumRetryAttempts on the event source mapping"),
    ("ORD016", "name the actions and scope Resource to the ARNs the function uses"),
    ("ORD017", "set ScalingConfig.MaximumConcurrency on the event source mapping"),
    ("ORD023", "shorten the logical ID"),
];

/// A rule's fix for a template ordersctl did not write (CloudFormation's vocabulary).
///
/// ```
/// assert!(ordersctl::checks::template_fix("ORD003").unwrap().contains("RedrivePolicy"));
/// assert_eq!(ordersctl::checks::template_fix("ORD001"), None);
/// ```
pub fn template_fix(id: &str) -> Option<&'static str> {
    TEMPLATE_FIXES
        .iter()
        .find(|(r, _)| *r == id)
        .map(|(_, f)| *f)
}
