//! Architecture checks: the production lessons of event-driven order processing, enforced over
//! the synthesized template model. They read only CloudFormation, so they apply to any
//! template (`ordersctl check --template FILE`), whatever tool wrote it. Pure: no I/O.
//!
//! ```
//! use ordersctl::checks::{check_template, Severity};
//! use ordersctl::template::Template;
//! let t = Template::from_json_str(r#"{"Resources": {
//!   "Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}},
//!   "F": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 30}},
//!   "M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
//!     "EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]}, "FunctionName": {"Ref": "F"}}}}}"#).unwrap();
//! let report = check_template("Orders", &t);
//! let visibility = report.findings.iter().find(|f| f.rule == "ORD001").unwrap();
//! assert_eq!(visibility.severity, Severity::Warning);
//! assert_eq!(visibility.location, "Orders/Q");
//! ```

mod contract;
mod hygiene;
mod limits;
mod messaging;
mod model;
pub mod report;
mod rules;
mod suppress;
mod workflows;

use serde::Serialize;

pub use crate::template::Suppression;
pub use contract::{check_contracts, HandlerContract, Mode};
pub use rules::{rule, template_fix, Rule, RULES};

use crate::template::Template;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails.
    Note,
    /// Fails with `--strict`.
    Warning,
    /// Fails synth and `check`.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One rule broken by one resource (or the template).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// `Stack/LogicalId` (the construct path when the logical ID is the construct's), or the
    /// stack alone for template-wide rules.
    pub location: String,
    /// The logical ID, when the finding is about one resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logical_id: Option<String>,
    pub message: String,
    pub fix: String,
}

/// A finding that a suppression silenced, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppressed {
    pub finding: Finding,
    pub reason: String,
}

/// The checks of one stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub stack: String,
    /// What stands, most severe first.
    pub findings: Vec<Finding>,
    /// What was silenced, and why.
    pub suppressed: Vec<Suppressed>,
    /// Every suppression in the template, ordersctl's and scanners' (checkov's `CKV_` IDs).
    pub suppressions: Vec<Suppression>,
}

impl Report {
    /// Findings of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// Whether the stack fails: any error, or with `strict` any warning.
    pub fn fails(&self, strict: bool) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Error || (strict && f.severity == Severity::Warning))
    }
}

/// What the size limits weigh, when it is known without rendering the template.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Weight {
    /// The bytes of the file the template was read from.
    File(usize),
    /// The bytes of the template's JSON rendering.
    Rendered(usize),
}

/// Run every rule over one template and apply its suppressions.
pub fn check_template(stack: &str, t: &Template) -> Report {
    check_stack(stack, t, &std::collections::BTreeMap::new())
}

/// As [`check_template`], for a template read from a file of `bytes` bytes: the size limits
/// (ORD021, ORD022) weigh the file as it would be sent, not a re-rendering of it.
///
/// ```
/// use ordersctl::template::Template;
/// let t = Template::from_json_str(r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "k"}}}}"#).unwrap();
/// let r = ordersctl::checks::check_file("S", &t, 60_000);
/// assert!(r.findings.iter().any(|f| f.rule == "ORD022"));
/// ```
pub fn check_file(stack: &str, t: &Template, bytes: usize) -> Report {
    let mut report = run(
        stack,
        t,
        &std::collections::BTreeMap::new(),
        Some(Weight::File(bytes)),
    );
    // Advice in the template's own vocabulary, not ordersctl's DSL.
    for f in report.findings.iter_mut() {
        if let Some(fix) = template_fix(f.rule) {
            f.fix = fix.to_string();
        }
    }
    report
}

/// Every rule, and each function's handler contract (logical ID -> crate and contract: what
/// ordersctl's own synth knows), over one template, its suppressions applied.
pub fn check_stack(
    stack: &str,
    t: &Template,
    contracts: &std::collections::BTreeMap<String, (String, Option<HandlerContract>)>,
) -> Report {
    run(stack, t, contracts, None)
}

/// As [`check_stack`], given the size of the template's JSON rendering already made (synth
/// renders each template once, for the size limits and the file both).
///
/// ```
/// use ordersctl::constructs::App;
/// let app = App::new();
/// app.stack("S").queue("Q").build()?;
/// let asm = ordersctl::synth::synthesize(&app)?;
/// let t = &asm.stacks[0].template;
/// let json = t.to_json_string();
/// let r = ordersctl::checks::check_rendered("S", t, &Default::default(), json.len());
/// assert_eq!(r, ordersctl::checks::check_stack("S", t, &Default::default()));
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
pub fn check_rendered(
    stack: &str,
    t: &Template,
    contracts: &std::collections::BTreeMap<String, (String, Option<HandlerContract>)>,
    json_bytes: usize,
) -> Report {
    run(stack, t, contracts, Some(Weight::Rendered(json_bytes)))
}

fn run(
    stack: &str,
    t: &Template,
    contracts: &std::collections::BTreeMap<String, (String, Option<HandlerContract>)>,
    weight: Option<Weight>,
) -> Report {
    // A SAM template is checked as the CloudFormation it becomes.
    let expanded = crate::template::sam::expand(t);
    let t: &Template = &expanded;
    let m = model::Model::new(stack, t);
    let mut findings = Vec::new();
    messaging::check(&m, &mut findings);
    workflows::check(&m, &mut findings);
    hygiene::check(&m, &mut findings);
    limits::check(&m, &mut findings, weight);
    findings.extend(check_contracts(stack, t, contracts));
    suppress::apply(stack, t, findings)
}

#[cfg(test)]
mod tests;
