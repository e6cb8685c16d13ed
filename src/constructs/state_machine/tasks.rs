//! Task states and the optimized service integrations, typed with handles.
//!
//! Each integration knows its `Resource` ARN (`arn:${AWS::Partition}:states:::<service>:<api>`
//! plus `.waitForTaskToken` or `.sync:2` for the other integration patterns), its
//! `Parameters`, and the IAM statements the state machine role needs for it. References:
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html>,
//! `connect-ddb.html`, `connect-sqs.html`, `connect-eventbridge.html`, `connect-stepfunctions.html`
//! and `connect-to-resource.html` (integration patterns) in the same guide.

use crate::constructs::key::key_use;
use crate::spec::asl;
use std::collections::BTreeMap;

use super::flow::{Catch, Retry};
use super::states::{common_methods, error_methods, next_methods, Io, Transition};
use super::StateMachineRef;
use crate::constructs::iam::Statement;
use crate::constructs::{Duration, FunctionRef, QueueRef, TableRef, TopicRef};
use crate::template::Expr;

/// The context-object path of the task token, to put in the input of a `.waitForTaskToken` task.
pub const TASK_TOKEN: &str = "$$.Task.Token";

/// How Step Functions waits for a service call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegrationPattern {
    /// Call the API and move on with its response.
    RequestResponse,
    /// Call the API and pause until `SendTaskSuccess`/`SendTaskFailure` with the task token
    /// (`.waitForTaskToken`; Standard machines only).
    WaitForTaskToken,
    /// Run a job and wait for it to finish (`.sync:2`; Standard machines only).
    Sync,
}

impl IntegrationPattern {
    fn suffix(self) -> &'static str {
        match self {
            IntegrationPattern::RequestResponse => "",
            IntegrationPattern::WaitForTaskToken => ".waitForTaskToken",
            IntegrationPattern::Sync => ".sync:2",
        }
    }
}

/// The data a task sends: a JSONPath into the state input, or a JSON object whose keys ending
/// in `.$` are paths.
///
/// ```
/// use ordersctl::constructs::state_machine::{TaskInput, TASK_TOKEN};
/// use ordersctl::template::Expr;
/// let whole = TaskInput::path("$");
/// let callback = TaskInput::object(Expr::map([("orderId.$", Expr::from("$.orderId")), ("token.$", Expr::from(TASK_TOKEN))]));
/// assert!(callback.carries_task_token());
/// assert!(!whole.carries_task_token());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum TaskInput {
    /// `"<Field>.$": path`.
    Path(String),
    /// `"<Field>": object`.
    Object(Expr),
}

impl TaskInput {
    /// The value at a JSONPath of the state input (`$` is all of it).
    pub fn path(path: &str) -> Self {
        TaskInput::Path(path.to_string())
    }
    /// A JSON object; keys ending in `.$` take JSONPaths.
    pub fn object(value: Expr) -> Self {
        TaskInput::Object(value)
    }
    /// Whether the task token (`$$.Task.Token`) is somewhere in it.
    pub fn carries_task_token(&self) -> bool {
        match self {
            TaskInput::Path(p) => p == TASK_TOKEN,
            TaskInput::Object(e) => {
                let mut found = false;
                e.walk(&mut |x| found |= x.as_str() == Some(TASK_TOKEN));
                found
            }
        }
    }
    fn put(&self, field: &str, m: &mut BTreeMap<String, Expr>) {
        match self {
            TaskInput::Path(p) => m.insert(format!("{field}.$"), Expr::from(p.as_str())),
            TaskInput::Object(e) => m.insert(field.to_string(), e.clone()),
        };
    }
}

/// A DynamoDB attribute value in the typed JSON form the DynamoDB API takes.
///
/// ```
/// use ordersctl::constructs::state_machine::DynamoValue;
/// assert_eq!(DynamoValue::string_at("$.orderId").to_expr().to_json(), serde_json::json!({"S.$": "$.orderId"}));
/// assert_eq!(DynamoValue::number(42.0).to_expr().to_json(), serde_json::json!({"N": "42"}));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DynamoValue(Expr);

impl DynamoValue {
    /// A literal string (`S`).
    pub fn string(value: &str) -> Self {
        DynamoValue(Expr::map([("S", Expr::from(value))]))
    }
    /// The string at a JSONPath (`S.$`).
    pub fn string_at(path: &str) -> Self {
        DynamoValue(Expr::map([("S.$", Expr::from(path))]))
    }
    /// A string built with `States.Format` from JSONPaths, e.g.
    /// `string_format("ORDER#{}", ["$.detail.orderId"])`.
    ///
    /// ```
    /// use ordersctl::constructs::state_machine::DynamoValue;
    /// assert_eq!(
    ///     DynamoValue::string_format("ORDER#{}", ["$.orderId"]).to_expr().to_json(),
    ///     serde_json::json!({"S.$": "States.Format('ORDER#{}', $.orderId)"})
    /// );
    /// ```
    pub fn string_format<'p>(template: &str, paths: impl IntoIterator<Item = &'p str>) -> Self {
        // Single quotes delimit the template inside the intrinsic; escape any in the text.
        let template = template.replace('\\', "\\\\").replace('\'', "\\'");
        let args: Vec<&str> = paths.into_iter().collect();
        DynamoValue(Expr::map([(
            "S.$",
            Expr::from(format!("States.Format('{template}', {})", args.join(", "))),
        )]))
    }
    /// A literal number (`N`, sent as a string as DynamoDB requires).
    pub fn number(value: f64) -> Self {
        let text = match super::flow::number(value) {
            Expr::Int(i) => i.to_string(),
            _ => value.to_string(),
        };
        DynamoValue(Expr::map([("N", Expr::from(text))]))
    }
    /// The number at a JSONPath, turned into the string DynamoDB wants with `States.JsonToString`.
    pub fn number_at(path: &str) -> Self {
        DynamoValue(Expr::map([(
            "N.$",
            Expr::from(format!("States.JsonToString({path})")),
        )]))
    }
    /// A literal boolean (`BOOL`).
    pub fn boolean(value: bool) -> Self {
        DynamoValue(Expr::map([("BOOL", Expr::Bool(value))]))
    }
    /// The boolean at a JSONPath (`BOOL.$`).
    pub fn boolean_at(path: &str) -> Self {
        DynamoValue(Expr::map([("BOOL.$", Expr::from(path))]))
    }
    /// The attribute value in API form.
    pub fn to_expr(&self) -> Expr {
        self.0.clone()
    }
}

fn attributes<'k>(items: impl IntoIterator<Item = (&'k str, DynamoValue)>) -> Expr {
    Expr::map(items.into_iter().map(|(k, v)| (k, v.0)))
}

/// Something `events:putEvents` can send to. Implemented for an `Expr` holding an event bus
/// ARN (`Expr::arn("events", "event-bus/default")`); an event-bus handle implements it too, so
/// it plugs in where an ARN is taken today.
pub trait EventBusTarget {
    /// The bus ARN (used as `EventBusName`, which takes a name or an ARN, and in IAM).
    fn event_bus_arn(&self) -> Expr;
}

impl EventBusTarget for Expr {
    fn event_bus_arn(&self) -> Expr {
        self.clone()
    }
}

/// Where a task's [`TaskInput`] goes in its `Parameters`.
#[derive(Debug, Clone, PartialEq)]
enum InputSlot {
    Field(&'static str),
    /// `Entries[0].Detail` of `events:putEvents`.
    EventDetail {
        bus: Expr,
        source: String,
        detail_type: String,
    },
}

/// A Task state: one call to a service integration.
///
/// `Task::invoke` uses the optimized `lambda:invoke` integration. Its raw result is
/// `{"Payload": ..., "StatusCode": ..., "ExecutedVersion": ..., "SdkHttpMetadata": ...}`; when
/// you set neither `result_path` nor `output_path`, the task adds `"OutputPath": "$.Payload"`
/// so the state's output is exactly what the function returned (what CDK's examples do by
/// hand). Set either to get the raw result.
///
/// ```
/// use ordersctl::constructs::state_machine::{Retry, Task};
/// use ordersctl::constructs::{App, Duration};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let f = stack.function("Validate").handler_crate("validator").build().unwrap();
/// let t = Task::invoke("Validate", &f)
///     .timeout(Duration::secs(10))
///     .retry(Retry::lambda_transient())
///     .catch_all("Failed")
///     .next("Store");
/// assert_eq!(t.name(), "Validate");
/// ```
#[derive(Debug, Clone)]
pub struct Task {
    pub(crate) name: String,
    pub(crate) io: Io,
    pub(crate) transition: Transition,
    pub(crate) retry: Vec<Retry>,
    pub(crate) catch: Vec<Catch>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) heartbeat: Option<Duration>,
    pub(crate) pattern: IntegrationPattern,
    /// `arn:${AWS::Partition}:states:::<service>:<api>` without the pattern suffix.
    api: &'static str,
    params: BTreeMap<String, Expr>,
    slot: InputSlot,
    input: Option<TaskInput>,
    pub(crate) statements: Vec<Statement>,
    /// Lambda: add `OutputPath: $.Payload` unless result or output paths are set.
    payload_output: bool,
    /// SQS send to a FIFO queue (needs a `MessageGroupId`).
    fifo: bool,
}

impl Task {
    fn new(name: &str, api: &'static str, slot: InputSlot, statements: Vec<Statement>) -> Self {
        Task {
            name: name.to_string(),
            io: Io::default(),
            transition: Transition::Unset,
            retry: Vec::new(),
            catch: Vec::new(),
            timeout: None,
            heartbeat: None,
            pattern: IntegrationPattern::RequestResponse,
            api,
            params: BTreeMap::new(),
            slot,
            input: None,
            statements,
            payload_output: false,
            fifo: false,
        }
    }

    fn param(mut self, key: &str, value: Expr) -> Self {
        self.params.insert(key.to_string(), value);
        self
    }

    /// Invoke a Lambda function with the whole state input as its payload
    /// (`arn:aws:states:::lambda:invoke`; role: `lambda:InvokeFunction` on the function).
    pub fn invoke(name: &str, function: &FunctionRef<'_>) -> Self {
        let statements = vec![Statement::allow(
            ["lambda:InvokeFunction"],
            [function.arn()],
        )];
        let mut t = Task::new(
            name,
            "lambda:invoke",
            InputSlot::Field("Payload"),
            statements,
        )
        .param("FunctionName", function.arn());
        t.input = Some(TaskInput::path("$"));
        t.payload_output = true;
        t
    }

    /// Invoke a Lambda function and wait for the task token it is given
    /// (`lambda:invoke.waitForTaskToken`); the payload must carry [`TASK_TOKEN`].
    pub fn invoke_and_wait(name: &str, function: &FunctionRef<'_>, payload: TaskInput) -> Self {
        let mut t = Task::invoke(name, function).input(payload);
        t.pattern = IntegrationPattern::WaitForTaskToken;
        t.payload_output = false;
        t
    }

    fn dynamo(
        name: &str,
        api: &'static str,
        field: &'static str,
        action: &str,
        table: &TableRef<'_>,
    ) -> Self {
        let mut statements = vec![Statement::allow([action], [table.arn()])];
        if let Some(key) = table.facts().kms_key_arn {
            statements.push(key_use(key));
        }
        Task::new(name, api, InputSlot::Field(field), statements).param("TableName", table.name())
    }

    /// Put an item (`dynamodb:putItem`; role: `dynamodb:PutItem` on the table).
    pub fn put_item<'k>(
        name: &str,
        table: &TableRef<'_>,
        item: impl IntoIterator<Item = (&'k str, DynamoValue)>,
    ) -> Self {
        Task::dynamo(name, "dynamodb:putItem", "Item", "dynamodb:PutItem", table)
            .param("Item", attributes(item))
    }

    /// Get an item by key (`dynamodb:getItem`; role: `dynamodb:GetItem` on the table).
    pub fn get_item<'k>(
        name: &str,
        table: &TableRef<'_>,
        key: impl IntoIterator<Item = (&'k str, DynamoValue)>,
    ) -> Self {
        Task::dynamo(name, "dynamodb:getItem", "Key", "dynamodb:GetItem", table)
            .param("Key", attributes(key))
    }

    /// Update an item (`dynamodb:updateItem`; role: `dynamodb:UpdateItem` on the table), e.g.
    /// `"SET #s = :s"` with `:s` among `values`; add `#s` with [`Task::expression_names`].
    pub fn update_item<'k>(
        name: &str,
        table: &TableRef<'_>,
        key: impl IntoIterator<Item = (&'k str, DynamoValue)>,
        update_expression: &str,
        values: impl IntoIterator<Item = (&'k str, DynamoValue)>,
    ) -> Self {
        let values = attributes(values);
        let t = Task::dynamo(
            name,
            "dynamodb:updateItem",
            "Key",
            "dynamodb:UpdateItem",
            table,
        )
        .param("Key", attributes(key))
        .param("UpdateExpression", Expr::from(update_expression));
        if values == Expr::Map(BTreeMap::new()) {
            t
        } else {
            t.param("ExpressionAttributeValues", values)
        }
    }

    /// `ExpressionAttributeNames` for a DynamoDB task (`#name` -> attribute name).
    pub fn expression_names<'k>(self, names: impl IntoIterator<Item = (&'k str, &'k str)>) -> Self {
        let names = Expr::map(names.into_iter().map(|(k, v)| (k, Expr::from(v))));
        self.param("ExpressionAttributeNames", names)
    }

    /// A `ConditionExpression` for a DynamoDB write.
    pub fn condition_expression(self, expression: &str) -> Self {
        self.param("ConditionExpression", Expr::from(expression))
    }

    fn sqs(name: &str, queue: &QueueRef<'_>, body: TaskInput) -> Self {
        let mut statements = vec![Statement::allow(["sqs:SendMessage"], [queue.arn()])];
        if let Some(key) = queue.facts().kms_key_arn {
            statements.push(key_use(key));
        }
        let mut t = Task::new(
            name,
            "sqs:sendMessage",
            InputSlot::Field("MessageBody"),
            statements,
        )
        .param("QueueUrl", queue.url())
        .input(body);
        t.fifo = queue.is_fifo();
        t
    }

    /// Send a message (`sqs:sendMessage`; role: `sqs:SendMessage` on the queue, plus
    /// `kms:Decrypt`/`kms:GenerateDataKey` on its key when it has one).
    pub fn send_message(name: &str, queue: &QueueRef<'_>, body: TaskInput) -> Self {
        Task::sqs(name, queue, body)
    }

    /// Send a message and pause until a worker returns the task token
    /// (`sqs:sendMessage.waitForTaskToken`); `body` must carry [`TASK_TOKEN`]. Set a
    /// `heartbeat` so a lost worker fails the task instead of holding it for a year.
    pub fn send_message_and_wait(name: &str, queue: &QueueRef<'_>, body: TaskInput) -> Self {
        let mut t = Task::sqs(name, queue, body);
        t.pattern = IntegrationPattern::WaitForTaskToken;
        t
    }

    /// Publish a message to a topic (`sns:publish`; role: `sns:Publish` on the topic, plus the
    /// use of its key when it has a customer-managed one). Add the attributes subscription
    /// filter policies match on with [`Task::message_attribute`].
    ///
    /// ```
    /// use ordersctl::constructs::state_machine::{Task, TaskInput};
    /// use ordersctl::constructs::App;
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let topic = stack.topic("Notifications").build().unwrap();
    /// let t = Task::publish("Notify", &topic, TaskInput::path("$.notification"))
    ///     .message_attribute("channel", "email")
    ///     .message_attribute("tier", "$.detail.tier")
    ///     .end();
    /// assert_eq!(t.name(), "Notify");
    /// ```
    pub fn publish(name: &str, topic: &TopicRef<'_>, message: TaskInput) -> Self {
        let statements = topic.publish_statements();
        Task::new(name, "sns:publish", InputSlot::Field("Message"), statements)
            .param("TopicArn", topic.arn())
            .input(message)
    }

    /// A String message attribute of an SNS publish (a JSONPath when `value` starts with `$`).
    pub fn message_attribute(mut self, name: &str, value: &str) -> Self {
        let value = if value.starts_with('$') {
            ("StringValue.$", Expr::from(value))
        } else {
            ("StringValue", Expr::from(value))
        };
        let attribute = Expr::map([("DataType", Expr::from("String")), value]);
        let mut attributes = match self.params.remove("MessageAttributes") {
            Some(Expr::Map(m)) => m,
            _ => BTreeMap::new(),
        };
        attributes.insert(name.to_string(), attribute);
        self.param("MessageAttributes", Expr::Map(attributes))
    }

    /// `MessageGroupId` for a FIFO queue (a JSONPath when it starts with `$`).
    pub fn message_group_id(self, id: &str) -> Self {
        if id.starts_with('$') {
            self.param("MessageGroupId.$", Expr::from(id))
        } else {
            self.param("MessageGroupId", Expr::from(id))
        }
    }

    /// Put one event on a bus (`events:putEvents`; role: `events:PutEvents` on the bus).
    pub fn put_events(
        name: &str,
        bus: &dyn EventBusTarget,
        source: &str,
        detail_type: &str,
        detail: TaskInput,
    ) -> Self {
        let arn = bus.event_bus_arn();
        let statements = vec![Statement::allow(["events:PutEvents"], [arn.clone()])];
        let slot = InputSlot::EventDetail {
            bus: arn,
            source: source.to_string(),
            detail_type: detail_type.to_string(),
        };
        Task::new(name, "events:putEvents", slot, statements).input(detail)
    }

    /// Start an execution of another state machine with the whole input and move on
    /// (`states:startExecution`; role: `states:StartExecution` on it).
    pub fn start_execution(name: &str, machine: &StateMachineRef<'_>) -> Self {
        let statements = vec![Statement::allow(["states:StartExecution"], [machine.arn()])];
        Task::new(
            name,
            "states:startExecution",
            InputSlot::Field("Input"),
            statements,
        )
        .param("StateMachineArn", machine.arn())
        .input(TaskInput::path("$"))
    }

    /// Start an execution of another state machine and wait for it to finish
    /// (`states:startExecution.sync:2`). The role also gets `states:DescribeExecution` and
    /// `states:StopExecution` on its executions and the EventBridge rule actions on the managed
    /// rule `StepFunctionsGetEventsForStepFunctionsExecutionRule`, as the docs require.
    pub fn start_execution_sync(name: &str, machine: &StateMachineRef<'_>) -> Self {
        let mut t = Task::start_execution(name, machine);
        t.pattern = IntegrationPattern::Sync;
        let executions = Expr::join(
            "",
            [
                Expr::arn("states", "execution:"),
                machine.name(),
                Expr::from(":*"),
            ],
        );
        t.statements.push(Statement::allow(
            ["states:DescribeExecution", "states:StopExecution"],
            [executions],
        ));
        t.statements.push(Statement::allow(
            ["events:DescribeRule", "events:PutRule", "events:PutTargets"],
            [Expr::arn(
                "events",
                "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule",
            )],
        ));
        t
    }

    /// The data the task sends: the Lambda `Payload`, the SQS `MessageBody`, the child
    /// execution `Input`, the event `Detail`, or for DynamoDB the whole `Item` (put) or `Key`
    /// (get, update) instead of typed attributes.
    pub fn input(mut self, input: TaskInput) -> Self {
        if let InputSlot::Field(field) = self.slot {
            self.params.remove(field);
        }
        self.input = Some(input);
        self
    }

    /// Fail the task with `States.Timeout` after this long (`TimeoutSeconds`, at least 1 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Fail the task if no heartbeat arrives for this long (`HeartbeatSeconds`; shorter than the timeout).
    pub fn heartbeat(mut self, d: Duration) -> Self {
        self.heartbeat = Some(d);
        self
    }

    /// Where the task's result goes in its input (`ResultPath`, `$` by default).
    pub fn result_path(mut self, path: &str) -> Self {
        self.io.result_path = Some(Some(path.to_string()));
        self
    }

    /// Drop the result and pass the input through (`"ResultPath": null`).
    pub fn discard_result(mut self) -> Self {
        self.io.result_path = Some(None);
        self
    }

    /// The state name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A send to a FIFO queue without a `MessageGroupId`.
    pub(crate) fn lacks_message_group(&self) -> bool {
        self.fifo
            && !self.params.contains_key("MessageGroupId")
            && !self.params.contains_key("MessageGroupId.$")
    }

    /// Whether the input carries the task token (checked for `.waitForTaskToken` tasks).
    pub(crate) fn carries_task_token(&self) -> bool {
        self.input
            .as_ref()
            .is_some_and(TaskInput::carries_task_token)
    }

    common_methods!();
    next_methods!();
    error_methods!();

    pub(crate) fn render_into(&self, m: &mut BTreeMap<String, Expr>) {
        let mut io = self.io.clone();
        if self.payload_output && io.result_path.is_none() && io.output_path.is_none() {
            io.output_path = Some("$.Payload".to_string());
        }
        io.render(m);
        self.transition.render(m);
        let resource = format!(
            "arn:${{AWS::Partition}}:states:::{}{}",
            self.api,
            self.pattern.suffix()
        );
        m.insert(asl::Resource.into(), Expr::sub(resource));
        let mut params = self.params.clone();
        match (&self.slot, &self.input) {
            (InputSlot::Field(field), Some(input)) => input.put(field, &mut params),
            (
                InputSlot::EventDetail {
                    bus,
                    source,
                    detail_type,
                },
                input,
            ) => {
                let mut entry = BTreeMap::new();
                entry.insert("EventBusName".to_string(), bus.clone());
                entry.insert("Source".to_string(), Expr::from(source.as_str()));
                entry.insert("DetailType".to_string(), Expr::from(detail_type.as_str()));
                if let Some(input) = input {
                    input.put("Detail", &mut entry);
                }
                params.insert("Entries".to_string(), Expr::list([Expr::Map(entry)]));
            }
            (InputSlot::Field(_), None) => {}
        }
        m.insert(asl::Parameters.into(), Expr::Map(params));
        if let Some(t) = self.timeout {
            m.insert(asl::TimeoutSeconds.into(), Expr::from(t.as_secs()));
        }
        if let Some(h) = self.heartbeat {
            m.insert(asl::HeartbeatSeconds.into(), Expr::from(h.as_secs()));
        }
    }
}
