//! Lambda functions built from a handler crate, each with its own role and log group.

use crate::spec::{cfn, value};
use std::collections::BTreeMap;

use super::error::check_range;
use super::iam::{assume_role_policy, Grantee, Statement};
use super::key::key_use;
use super::log_group::{add_log_group, retention_days};
use super::queue::QueueRef;
use super::stack::PolicyHolder;
use super::stack::{check_construct_id, handle, Asset, Facts, Node};
use super::{Duration, Stack, SynthError};
use crate::template::{Expr, Resource};

/// CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    #[default]
    X86_64,
    Arm64,
}

impl Architecture {
    /// The CloudFormation spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

/// X-Ray tracing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracing {
    /// Sample and trace (the default).
    Active,
    /// Only pass an upstream trace header through.
    PassThrough,
    /// No tracing configuration at all.
    Disabled,
}

/// Where an asynchronous invocation result goes: a queue, topic, function or event bus.
pub trait Destination {
    /// The destination ARN.
    fn destination_arn(&self) -> Expr;
    /// What the sending principal must be allowed to do.
    fn destination_statements(&self) -> Vec<Statement>;
}

impl Destination for QueueRef<'_> {
    fn destination_arn(&self) -> Expr {
        self.arn()
    }
    fn destination_statements(&self) -> Vec<Statement> {
        let mut v = vec![self.send_statement()];
        if let Some(key) = self.facts().kms_key_arn {
            v.push(key_use(key));
        }
        v
    }
}

impl Destination for FunctionRef<'_> {
    fn destination_arn(&self) -> Expr {
        self.arn()
    }
    fn destination_statements(&self) -> Vec<Statement> {
        vec![Statement::allow(["lambda:InvokeFunction"], [self.arn()])]
    }
}

/// A resolved destination: its ARN and the statements needed to send to it.
#[derive(Debug, Clone)]
pub(crate) struct DestinationSpec {
    pub arn: Expr,
    pub statements: Vec<Statement>,
}

impl DestinationSpec {
    pub(crate) fn of(d: &dyn Destination) -> Self {
        DestinationSpec {
            arn: d.destination_arn(),
            statements: d.destination_statements(),
        }
    }
}

/// Environment variable names Lambda reserves.
const RESERVED_ENV: [&str; 18] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

handle!(
    /// A Lambda function.
    FunctionRef
);

/// Builder for an `AWS::Lambda::Function` on `provided.al2023` with handler `bootstrap`, plus
/// its role (`<Id>ServiceRole`), log group (`<Id>LogGroup`) and, when asked, its async invoke
/// config (`<Id>EventInvokeConfig`).
///
/// ```
/// use ordersctl::constructs::{App, Duration};
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let f = stack.function("Worker").handler_crate("worker")
///     .memory_mb(256).timeout(Duration::secs(30)).env("MODE", "fast").build()?;
/// assert_eq!(f.logical_id(), "Worker");
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "a function is added by build()"]
pub struct FunctionBuilder<'a> {
    stack: &'a Stack,
    id: String,
    logical_id: Option<String>,
    function_name: Option<String>,
    handler_crate: Option<String>,
    description: Option<String>,
    architecture: Architecture,
    memory_mb: u32,
    timeout: Duration,
    env: BTreeMap<String, Expr>,
    reserved_concurrency: Option<u32>,
    tracing: Tracing,
    log_retention: Duration,
    retry_attempts: Option<u32>,
    max_event_age: Option<Duration>,
    on_failure: Option<DestinationSpec>,
    on_success: Option<DestinationSpec>,
    durable: Option<(Duration, Option<Duration>)>,
}

impl Stack {
    /// Start a function.
    pub fn function(&self, id: &str) -> FunctionBuilder<'_> {
        FunctionBuilder {
            stack: self,
            id: id.to_string(),
            logical_id: None,
            function_name: None,
            handler_crate: None,
            description: None,
            architecture: Architecture::default(),
            memory_mb: 128,
            timeout: Duration::secs(3),
            env: BTreeMap::new(),
            reserved_concurrency: None,
            tracing: Tracing::Active,
            log_retention: Duration::days(30),
            retry_attempts: None,
            max_event_age: None,
            on_failure: None,
            on_success: None,
            durable: None,
        }
    }
}

impl<'a> FunctionBuilder<'a> {
    /// The crate under `handlers/` whose binary this function runs (required).
    pub fn handler_crate(mut self, name: &str) -> Self {
        self.handler_crate = Some(name.to_string());
        self
    }
    /// Physical function name.
    pub fn function_name(mut self, name: &str) -> Self {
        self.function_name = Some(name.to_string());
        self
    }
    /// Keep a logical ID stable through a rename of the construct.
    pub fn logical_id(mut self, id: &str) -> Self {
        self.logical_id = Some(id.to_string());
        self
    }
    /// Description.
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }
    /// Architecture (x86_64 by default).
    pub fn architecture(mut self, a: Architecture) -> Self {
        self.architecture = a;
        self
    }
    /// Memory, 128 to 10,240 MB (default 128).
    pub fn memory_mb(mut self, mb: u32) -> Self {
        self.memory_mb = mb;
        self
    }
    /// Timeout, 1 to 900 s (default 3 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// An environment variable.
    pub fn env(mut self, key: &str, value: impl Into<Expr>) -> Self {
        self.env.insert(key.to_string(), value.into());
        self
    }
    /// Reserved concurrency.
    pub fn reserved_concurrency(mut self, n: u32) -> Self {
        self.reserved_concurrency = Some(n);
        self
    }
    /// Tracing mode (Active by default).
    pub fn tracing(mut self, t: Tracing) -> Self {
        self.tracing = t;
        self
    }
    /// Log retention (30 days by default); one of CloudWatch's allowed periods.
    pub fn log_retention(mut self, d: Duration) -> Self {
        self.log_retention = d;
        self
    }
    /// Retries of a failed asynchronous invocation, 0 to 2.
    pub fn retry_attempts(mut self, n: u32) -> Self {
        self.retry_attempts = Some(n);
        self
    }
    /// Oldest asynchronous event still processed, 60 s to 6 h.
    pub fn max_event_age(mut self, d: Duration) -> Self {
        self.max_event_age = Some(d);
        self
    }
    /// Where failed asynchronous invocations go.
    pub fn on_failure(mut self, d: &dyn Destination) -> Self {
        self.on_failure = Some(DestinationSpec::of(d));
        self
    }
    /// Where successful asynchronous invocations go.
    pub fn on_success(mut self, d: &dyn Destination) -> Self {
        self.on_success = Some(DestinationSpec::of(d));
        self
    }
    /// A durable function: its whole execution may run up to `execution_timeout` (1 s to 366
    /// days); history kept `retention` (1 to 90 days) after it closes.
    pub fn durable(mut self, execution_timeout: Duration, retention: Option<Duration>) -> Self {
        self.durable = Some((execution_timeout, retention));
        self
    }

    /// Validate against the Lambda limits and add the function, its role and log group.
    pub fn build(self) -> Result<FunctionRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let krate = self.handler_crate.clone().ok_or_else(|| {
            SynthError::invalid(
                p,
                "handler_crate is required: the crate under handlers/ to run",
            )
        })?;
        if krate.is_empty()
            || !krate
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(SynthError::invalid(p, format!("handler_crate `{krate}` is not a crate name; allowed: letters, digits, `-` and `_`")));
        }
        if let Some(name) = &self.function_name {
            let ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                return Err(SynthError::invalid(p, format!("function_name `{name}` is not allowed; allowed: 1 to 64 letters, digits, `-` and `_`")));
            }
        }
        check_range(p, "memory_mb", i64::from(self.memory_mb), 128, 10_240, "MB")?;
        check_range(p, "timeout", self.timeout.secs_i64(), 1, 900, "s")?;
        if let Some(n) = self.reserved_concurrency {
            check_range(p, "reserved_concurrency", i64::from(n), 0, 1_000_000, "")?;
        }
        let retention_days = retention_days(p, self.log_retention)?;
        for key in self.env.keys() {
            let ok = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok || RESERVED_ENV.contains(&key.as_str()) {
                return Err(SynthError::invalid(
                    p,
                    format!("environment variable `{key}` is not allowed; allowed: a letter then letters, digits and `_`, not one Lambda reserves"),
                ));
            }
        }
        if let Some(n) = self.retry_attempts {
            check_range(p, "retry_attempts", i64::from(n), 0, 2, "")?;
        }
        if let Some(d) = self.max_event_age {
            check_range(p, "max_event_age", d.secs_i64(), 60, 21_600, "s")?;
        }
        if let Some((timeout, retention)) = self.durable {
            check_range(
                p,
                "durable execution_timeout",
                timeout.secs_i64(),
                1,
                31_622_400,
                "s",
            )?;
            if let Some(r) = retention {
                let days = r.whole_days().ok_or_else(|| {
                    SynthError::out_of_range(
                        p,
                        "durable retention",
                        r.to_string(),
                        "whole days, 1 to 90",
                    )
                })?;
                check_range(p, "durable retention", days as i64, 1, 90, "days")?;
            }
        }

        let logical_id = self.logical_id.clone().unwrap_or_else(|| self.id.clone());
        let role_id = format!("{logical_id}ServiceRole");
        let log_id = format!("{logical_id}LogGroup");

        add_log_group(self.stack, &log_id, p, retention_days)?;

        let mut role = Resource::new("AWS::IAM::Role");
        role.set(
            cfn::AssumeRolePolicyDocument,
            assume_role_policy("lambda.amazonaws.com"),
        );
        self.stack.add_resource(&role_id, p, role)?;
        let holder = PolicyHolder::Role {
            policy_name: format!("{logical_id}Policy"),
        };
        let attach = |s: Statement| self.stack.attach_policy(&role_id, holder.clone(), p, s);
        // Writing logs, only to its own log group (the Arn attribute ends in `:*`).
        attach(Statement::allow(
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [self.stack.get_att(&log_id, cfn::Arn)],
        ));
        if self.tracing == Tracing::Active {
            // X-Ray has no resource-level permissions for these actions: `*` is the only resource.
            attach(Statement::allow(
                ["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
                [Expr::from("*")],
            ));
        }

        // A placeholder key; synth asks the app's asset source for the real one.
        let s3_key = format!("assets/{krate}.zip");
        let asset = Asset {
            function: logical_id.clone(),
            path: path.clone(),
            handler_crate: krate,
            architecture: self.architecture,
            s3_key,
            fingerprint: None,
        };
        let code = self.stack.add_asset(asset)?;
        let mut f = Resource::new("AWS::Lambda::Function");
        f.set(cfn::Code, code)
            .set(cfn::Handler, "bootstrap")
            .set(cfn::Runtime, "provided.al2023")
            .set(
                cfn::Architectures,
                Expr::strings([self.architecture.as_str()]),
            )
            .set(cfn::MemorySize, self.memory_mb)
            .set(cfn::Timeout, self.timeout.as_secs())
            .set(cfn::Role, self.stack.get_att(&role_id, cfn::Arn))
            .set(
                cfn::LoggingConfig,
                Expr::map([
                    (cfn::LogFormat, Expr::from("JSON")),
                    (cfn::LogGroup, self.stack.ref_(&log_id)),
                ]),
            )
            .set_opt(cfn::FunctionName, self.function_name.clone())
            .set_opt(cfn::Description, self.description.clone())
            .set_opt(cfn::ReservedConcurrentExecutions, self.reserved_concurrency);
        if !self.env.is_empty() {
            f.set(
                cfn::Environment,
                Expr::map([(cfn::Variables, Expr::Map(self.env.clone()))]),
            );
        }
        match self.tracing {
            Tracing::Active => f.set(
                cfn::TracingConfig,
                Expr::map([(cfn::Mode, Expr::from(value::TRACING_ACTIVE))]),
            ),
            Tracing::PassThrough => f.set(
                cfn::TracingConfig,
                Expr::map([(cfn::Mode, Expr::from("PassThrough"))]),
            ),
            Tracing::Disabled => &mut f,
        };
        if let Some((timeout, retention)) = self.durable {
            let mut m = vec![(cfn::ExecutionTimeout, Expr::from(timeout.as_secs()))];
            if let Some(days) = retention.and_then(Duration::whole_days) {
                m.push((cfn::RetentionPeriodInDays, Expr::from(days)));
            }
            f.set(cfn::DurableConfig, Expr::map(m));
        }
        self.stack.add_resource(&logical_id, p, f)?;

        if self.durable.is_some() {
            // The SDK checkpoints and reads state of this function's own durable executions,
            // whose ARNs are `<function arn>:<qualifier>/durable-execution/...`. The statement
            // names the function, so it lives in a separate policy: inline in the role it would
            // make role -> function -> role a cycle.
            let own_executions = Expr::join(
                "",
                [self.stack.get_att(&logical_id, cfn::Arn), Expr::from(":*")],
            );
            let doc = crate::constructs::iam::PolicyDocument::from_statements([Statement::allow(
                [
                    "lambda:CheckpointDurableExecution",
                    "lambda:GetDurableExecutionState",
                ],
                [own_executions],
            )]);
            let mut pol = Resource::new("AWS::IAM::Policy");
            pol.set(cfn::PolicyName, format!("{logical_id}DurableExecution"))
                .set(cfn::Roles, Expr::list([self.stack.ref_(&role_id)]))
                .set(cfn::PolicyDocument, doc.to_expr());
            self.stack
                .add_resource(&format!("{logical_id}DurablePolicy"), p, pol)?;
        }

        let async_configured = self.retry_attempts.is_some()
            || self.max_event_age.is_some()
            || self.on_failure.is_some()
            || self.on_success.is_some();
        if async_configured {
            let mut c = Resource::new("AWS::Lambda::EventInvokeConfig");
            c.set(cfn::FunctionName, self.stack.ref_(&logical_id))
                .set(cfn::Qualifier, "$LATEST")
                .set_opt(cfn::MaximumRetryAttempts, self.retry_attempts)
                .set_opt(
                    cfn::MaximumEventAgeInSeconds,
                    self.max_event_age.map(Duration::as_secs),
                );
            let mut dest = BTreeMap::new();
            for (key, spec) in [
                (cfn::OnFailure, &self.on_failure),
                (cfn::OnSuccess, &self.on_success),
            ] {
                if let Some(spec) = spec {
                    dest.insert(
                        key.to_string(),
                        Expr::map([(cfn::Destination, spec.arn.clone())]),
                    );
                    spec.statements.iter().cloned().for_each(&attach);
                }
            }
            if !dest.is_empty() {
                c.set(cfn::DestinationConfig, Expr::Map(dest));
            }
            self.stack
                .add_resource(&format!("{logical_id}EventInvokeConfig"), p, c)?;
        }

        let facts = Facts {
            role: Some(role_id),
            timeout: Some(self.timeout),
            ..Facts::default()
        };
        let node = self.stack.add_node(Node {
            path,
            logical_id,
            facts,
            imported: None,
        });
        Ok(FunctionRef {
            stack: self.stack,
            node,
        })
    }
}

impl<'a> FunctionRef<'a> {
    /// Function ARN.
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }
    /// Function name (`Ref`).
    pub fn name(&self) -> Expr {
        self.ref_()
    }
    /// ARN of the execution role.
    pub fn role_arn(&self) -> Expr {
        if self.is_imported() {
            self.stack.defer_error(SynthError::invalid(
                self.path(),
                "an imported function's role is not known here; import it with RoleRef::from_arn",
            ));
            return Expr::from("");
        }
        let role = self.facts().role.unwrap_or_default();
        self.stack.get_att(&role, cfn::Arn)
    }
    /// The timeout the function was built with.
    pub fn timeout(&self) -> Duration {
        self.facts().timeout.unwrap_or(Duration::secs(3))
    }
    /// Let a principal invoke this function.
    pub fn grant_invoke(&self, grantee: &dyn Grantee) {
        grantee.add_to_principal_policy(Statement::allow(["lambda:InvokeFunction"], [self.arn()]));
    }

    /// Let an AWS service invoke this function on behalf of `source_arn` (an
    /// `AWS::Lambda::Permission` named `<Function><suffix>Permission`).
    pub(crate) fn allow_service_invoke(
        &self,
        suffix: &str,
        service: &str,
        source_arn: Expr,
    ) -> Result<(), SynthError> {
        let mut r = Resource::new("AWS::Lambda::Permission");
        // By name, as the EventInvokeConfig names it: tools pair the two by equal values.
        r.set(cfn::Action, "lambda:InvokeFunction")
            .set(cfn::FunctionName, self.ref_())
            .set(cfn::Principal, service)
            .set(cfn::SourceArn, source_arn);
        self.stack.add_resource(
            &format!("{}{suffix}Permission", self.logical_id()),
            &self.path(),
            r,
        )
    }
}

impl Grantee for FunctionRef<'_> {
    fn add_to_principal_policy(&self, statement: Statement) {
        if self.is_imported() {
            self.stack.defer_error(SynthError::invalid(
                self.path(),
                "an imported function cannot be granted to: its role is not in this stack; import the role with RoleRef::from_arn and grant to that",
            ));
            return;
        }
        let role = self.facts().role.unwrap_or_default();
        let holder = PolicyHolder::Role {
            policy_name: format!("{}Policy", self.logical_id()),
        };
        self.stack
            .attach_policy(&role, holder, &self.path(), statement);
    }
}

#[cfg(test)]
#[path = "function_tests.rs"]
mod tests;
