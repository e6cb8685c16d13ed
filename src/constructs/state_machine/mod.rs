//! Step Functions state machines: a typed Amazon States Language builder.
//!
//! `stack.state_machine("Id")` makes an `AWS::StepFunctions::StateMachine` with the definition
//! as the object `Definition` property, a role `<Id>Role` assumed by `states.amazonaws.com`
//! holding exactly what the tasks use, a log group `<Id>LogGroup`, and X-Ray tracing.
//! The definition is checked at `build()` (see `validate`).
//!
//! CloudFormation reference: `aws-resource-stepfunctions-statemachine.html`
//! (`LoggingConfiguration`, `TracingConfiguration`); logging permissions from the Step
//! Functions guide, `cw-logs.html`.

mod flow;
mod graph;
mod integrations;
mod states;
mod tasks;
mod validate;

#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod tests;

pub use flow::{Catch, Condition, Jitter, Retry, STATES_ALL};
pub use graph::{Definition, State};
pub use states::{Choice, Fail, Map, Parallel, Pass, Succeed, Wait};
pub use tasks::{DynamoValue, EventBusTarget, IntegrationPattern, Task, TaskInput, TASK_TOKEN};
pub use validate::MAX_STATE_NAME;

use super::iam::{assume_role_policy, Grantee, Statement};
use super::log_group::{add_log_group, retention_days};
use super::stack::{check_construct_id, handle, Facts, Node, PolicyHolder};
use super::{Duration, Stack, SynthError};
use crate::spec::value;
use crate::template::{Expr, Resource};

/// Standard (durable, up to a year, exactly-once) or Express (high-volume, up to 5 minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateMachineKind {
    #[default]
    Standard,
    Express,
}

/// What execution history goes to CloudWatch Logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Every event.
    All,
    /// Errors and failures (the default).
    Error,
    /// Only executions that fail.
    Fatal,
    /// No logging: no log group and no `LoggingConfiguration`.
    Off,
}

impl LogLevel {
    fn as_str(self) -> &'static str {
        match self {
            LogLevel::All => "ALL",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
            LogLevel::Off => "OFF",
        }
    }
}

/// Express machines run at most this long.
pub const EXPRESS_MAX_TIMEOUT: Duration = Duration::minutes(5);

/// Builder returned by [`Stack::state_machine`].
///
/// ```
/// use ordersctl::constructs::state_machine::{Definition, Pass, Succeed};
/// use ordersctl::constructs::{App, Duration, StateMachineKind};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let definition = Definition::new("Start")
///     .state(Pass::new("Start").next("Done"))
///     .state(Succeed::new("Done"));
/// let flow = stack
///     .state_machine("Flow")
///     .kind(StateMachineKind::Standard)
///     .definition(definition)
///     .timeout(Duration::minutes(5))
///     .build()?;
/// assert_eq!(flow.logical_id(), "Flow");
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[derive(Debug)]
pub struct StateMachineBuilder<'a> {
    stack: &'a Stack,
    id: String,
    logical_id: Option<String>,
    name: Option<String>,
    kind: StateMachineKind,
    definition: Option<Definition>,
    timeout: Option<Duration>,
    log_level: LogLevel,
    include_execution_data: bool,
    log_retention: Duration,
    tracing: bool,
}

handle!(
    /// A built state machine: its ARN and name, grants to start it, and (as a [`Grantee`])
    /// a principal that other constructs' grants can name.
    ///
    /// ```
    /// use ordersctl::constructs::state_machine::{Definition, Pass};
    /// use ordersctl::constructs::{App, Attr};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let orders = stack.table("Orders").partition_key("orderId", Attr::String).build().unwrap();
    /// let starter = stack.function("Starter").handler_crate("starter").build().unwrap();
    /// let sm = stack.state_machine("Flow")
    ///     .definition(Definition::new("Go").state(Pass::new("Go").end()))
    ///     .build().unwrap();
    /// orders.grant_read(&sm);
    /// sm.grant_start_execution(&starter);
    /// assert_eq!(sm.arn().to_json(), serde_json::json!({"Ref": "Flow"}));
    /// ```
    StateMachineRef
);

impl Stack {
    /// Start a state machine.
    ///
    /// ```
    /// use ordersctl::constructs::state_machine::{Definition, Fail, Retry, Task};
    /// use ordersctl::constructs::{App, Duration};
    /// let app = App::new();
    /// let stack = app.stack("Etl");
    /// let extract = stack.function("Extract").handler_crate("extractor").build().unwrap();
    /// let load = stack.function("Load").handler_crate("loader").build().unwrap();
    /// let def = Definition::new("Extract")
    ///     .state(Task::invoke("Extract", &extract).timeout(Duration::secs(10))
    ///         .retry(Retry::lambda_transient()).catch_all("Failed").next("Load"))
    ///     .state(Task::invoke("Load", &load).catch_all("Failed").end())
    ///     .state(Fail::new("Failed").error("EtlFailed"));
    /// let sm = stack.state_machine("EtlWorkflow").definition(def).timeout(Duration::minutes(15)).build().unwrap();
    /// assert_eq!(sm.path(), "Etl/EtlWorkflow");
    /// ```
    pub fn state_machine(&self, id: &str) -> StateMachineBuilder<'_> {
        StateMachineBuilder {
            stack: self,
            id: id.to_string(),
            logical_id: None,
            name: None,
            kind: StateMachineKind::Standard,
            definition: None,
            timeout: None,
            log_level: LogLevel::Error,
            include_execution_data: false,
            log_retention: Duration::days(30),
            tracing: true,
        }
    }
}

impl<'a> StateMachineBuilder<'a> {
    /// The states (required).
    pub fn definition(mut self, definition: Definition) -> Self {
        self.definition = Some(definition);
        self
    }
    /// Physical name: 1 to 80 letters, digits, `-` and `_`.
    pub fn state_machine_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }
    /// Keep a logical ID stable through a rename of the construct.
    pub fn logical_id(mut self, id: &str) -> Self {
        self.logical_id = Some(id.to_string());
        self
    }
    /// Standard (default) or Express.
    pub fn kind(mut self, kind: StateMachineKind) -> Self {
        self.kind = kind;
        self
    }
    /// Fail an execution that runs longer (`TimeoutSeconds` of the definition); at most
    /// 5 minutes for Express.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }
    /// Log level (ERROR by default, for Standard and Express alike); `LogLevel::Off` drops the
    /// log group.
    pub fn logging(mut self, level: LogLevel) -> Self {
        self.log_level = level;
        self
    }
    /// Log execution input and output too (off by default: it may hold personal data).
    pub fn include_execution_data(mut self, on: bool) -> Self {
        self.include_execution_data = on;
        self
    }
    /// Log retention (30 days by default); one of CloudWatch's allowed periods.
    pub fn log_retention(mut self, d: Duration) -> Self {
        self.log_retention = d;
        self
    }
    /// Turn X-Ray tracing off (on by default).
    pub fn without_tracing(mut self) -> Self {
        self.tracing = false;
        self
    }

    /// Validate the definition and limits; add the state machine, its role and log group.
    pub fn build(self) -> Result<StateMachineRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let express = self.kind == StateMachineKind::Express;
        let def = self.definition.as_ref().ok_or_else(|| {
            SynthError::invalid(
                p,
                "definition is required: `.definition(Definition::new(\"First\").state(...))`",
            )
        })?;
        if let Some(name) = &self.name {
            let ok = !name.is_empty()
                && name.len() <= 80
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(SynthError::invalid(p, format!("state_machine_name `{name}` is not allowed; allowed: 1 to 80 letters, digits, `-` and `_`")));
            }
        }
        if let Some(t) = self.timeout {
            let max = if express {
                EXPRESS_MAX_TIMEOUT.secs_i64()
            } else {
                validate::ASL_MAX
            };
            let kind = if express {
                " for an Express state machine"
            } else {
                ""
            };
            if t.secs_i64() < 1 || t.secs_i64() > max {
                return Err(SynthError::out_of_range(
                    p,
                    "timeout",
                    t.to_string(),
                    format!("1 s to {max} s{kind}"),
                ));
            }
        }
        let retention_days = retention_days(p, self.log_retention)?;
        validate::validate(p, def, express)?;

        let logical_id = self.logical_id.clone().unwrap_or_else(|| self.id.clone());
        let role_id = format!("{logical_id}Role");
        let log_id = format!("{logical_id}LogGroup");
        let logging = self.log_level != LogLevel::Off;

        if logging {
            add_log_group(self.stack, &log_id, p, retention_days)?;
        }

        let mut role = Resource::new("AWS::IAM::Role");
        role.set(
            "AssumeRolePolicyDocument",
            assume_role_policy("states.amazonaws.com"),
        );
        self.stack.add_resource(&role_id, p, role)?;
        let holder = PolicyHolder::Role {
            policy_name: format!("{logical_id}Policy"),
        };
        let attach = |s: Statement| self.stack.attach_policy(&role_id, holder.clone(), p, s);
        for task in def.tasks() {
            task.statements.iter().cloned().for_each(&attach);
        }
        if logging {
            // CloudWatch Logs delivery actions have no resource-level permissions: `*` is the
            // only resource they accept.
            attach(Statement::allow(
                [
                    "logs:CreateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:DescribeLogGroups",
                    "logs:DescribeResourcePolicies",
                    "logs:GetLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:UpdateLogDelivery",
                ],
                [Expr::from("*")],
            ));
        }
        if self.tracing {
            // X-Ray has no resource-level permissions for these actions: `*` is the only resource.
            attach(Statement::allow(
                [
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:PutTelemetryRecords",
                    "xray:PutTraceSegments",
                ],
                [Expr::from("*")],
            ));
        }

        let mut definition = def.render();
        if let (Some(t), Expr::Map(m)) = (self.timeout, &mut definition) {
            m.insert("TimeoutSeconds".into(), Expr::from(t.as_secs()));
        }
        let mut sm = Resource::new("AWS::StepFunctions::StateMachine");
        sm.set("Definition", definition)
            .set("RoleArn", self.stack.get_att(&role_id, "Arn"))
            .set(
                "StateMachineType",
                if express {
                    value::EXPRESS
                } else {
                    value::STANDARD
                },
            )
            .set_opt("StateMachineName", self.name.clone());
        if logging {
            let destination = Expr::map([(
                "CloudWatchLogsLogGroup",
                Expr::map([("LogGroupArn", self.stack.get_att(&log_id, "Arn"))]),
            )]);
            sm.set(
                "LoggingConfiguration",
                Expr::map([
                    ("Destinations", Expr::list([destination])),
                    (
                        "IncludeExecutionData",
                        Expr::Bool(self.include_execution_data),
                    ),
                    ("Level", Expr::from(self.log_level.as_str())),
                ]),
            );
        }
        if self.tracing {
            sm.set(
                "TracingConfiguration",
                Expr::map([("Enabled", Expr::Bool(true))]),
            );
        }
        self.stack.add_resource(&logical_id, p, sm)?;

        let facts = Facts {
            role: Some(role_id),
            timeout: self.timeout,
            ..Facts::default()
        };
        let node = self.stack.add_node(Node {
            path,
            logical_id,
            facts,
            imported: None,
        });
        Ok(StateMachineRef {
            stack: self.stack,
            node,
        })
    }
}

impl<'a> StateMachineRef<'a> {
    /// State machine ARN (`Ref`).
    pub fn arn(&self) -> Expr {
        self.ref_()
    }
    /// State machine name.
    pub fn name(&self) -> Expr {
        self.att("Name")
    }
    /// ARN of the execution role.
    pub fn role_arn(&self) -> Expr {
        let role = self.facts().role.unwrap_or_default();
        self.stack.get_att(&role, "Arn")
    }
    /// Let a principal start executions (`states:StartExecution` on this machine).
    pub fn grant_start_execution(&self, grantee: &dyn Grantee) {
        grantee.add_to_principal_policy(Statement::allow(["states:StartExecution"], [self.arn()]));
    }
}

impl Grantee for StateMachineRef<'_> {
    fn add_to_principal_policy(&self, statement: Statement) {
        let role = self.facts().role.unwrap_or_default();
        let holder = PolicyHolder::Role {
            policy_name: format!("{}Policy", self.logical_id()),
        };
        self.stack
            .attach_policy(&role, holder, &self.path(), statement);
    }
}
