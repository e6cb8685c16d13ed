//! The handler contract: what a handler crate reads from its environment and which AWS actions
//! it calls, declared in its `Cargo.toml` under `[package.metadata.ordersctl]`, checked
//! against every function built from the crate (its `Environment` and its role's grants).
//!
//! ```toml
//! [package.metadata.ordersctl]
//! env = ["IDEMPOTENCY_TABLE"]             # required
//! optional-env = ["TTL_ATTRIBUTE"]
//! one-of-env = [["INVENTORY_TABLE", "ORDERS_TABLE"]]
//! actions = ["dynamodb:PutItem"]
//!
//! [package.metadata.ordersctl.modes.ACTION.reserve]   # ACTION=reserve (a required variable)
//! actions = ["dynamodb:UpdateItem"]
//! ```
//!
//! Pure: the crate's manifest is read at the edge (`bundle::HandlerWorkspace::contract`).
//!
//! ```
//! use std::collections::BTreeMap;
//! use ordersctl::checks::{check_contracts, HandlerContract};
//! use ordersctl::template::Template;
//! let t = Template::from_json_str(r#"{"Resources": {"F": {"Type": "AWS::Lambda::Function",
//!   "Properties": {"Environment": {"Variables": {"OTHER": "x"}}}}}}"#).unwrap();
//! let contract = HandlerContract { env: vec!["TABLE_NAME".into()], ..Default::default() };
//! let functions = BTreeMap::from([("F".to_string(), ("order-processor".to_string(), Some(contract)))]);
//! let findings = check_contracts("Orders", &t, &functions);
//! assert_eq!(findings[0].rule, "ORD024");
//! assert!(findings[0].message.contains("TABLE_NAME"));
//! ```

use crate::spec::{cfn, iam};
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::model::{field, prop, strings, target, Model};
use super::Finding;
use crate::template::{Expr, Template};

/// `[package.metadata.ordersctl]` of a handler crate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HandlerContract {
    /// Variables the handler cannot start without.
    #[serde(default)]
    pub env: Vec<String>,
    /// Variables it reads when set.
    #[serde(default)]
    pub optional_env: Vec<String>,
    /// Groups of which at least one variable must be set (e.g. two table layouts).
    #[serde(default)]
    pub one_of_env: Vec<Vec<String>>,
    /// AWS actions (IAM names) the handler's code calls, whatever the mode.
    #[serde(default)]
    pub actions: Vec<String>,
    /// A variable that selects what the handler does, its allowed values, and what each value
    /// needs on top: `modes.ACTION.reserve = { env = [...], actions = [...] }`.
    #[serde(default)]
    pub modes: BTreeMap<String, BTreeMap<String, Mode>>,
}

impl HandlerContract {
    /// What serde cannot see: names that are not environment variable names or IAM actions,
    /// empty groups and mode tables. The message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let var = |key: &str, v: &str| -> Result<(), String> {
            let mut chars = v.chars();
            let ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if ok {
                Ok(())
            } else {
                Err(format!("`{key}`: {v:?} is not an environment variable name (letters, digits and _, not starting with a digit)"))
            }
        };
        let action = |key: &str, a: &str| -> Result<(), String> {
            let ok = a.split_once(':').is_some_and(|(service, name)| {
                !service.is_empty()
                    && service
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*')
            });
            if ok {
                Ok(())
            } else {
                Err(format!("`{key}`: {a:?} is not an IAM action (service:Action, e.g. \"dynamodb:PutItem\")"))
            }
        };
        for v in &self.env {
            var("env", v)?;
        }
        for v in &self.optional_env {
            var("optional-env", v)?;
        }
        for group in &self.one_of_env {
            if group.is_empty() {
                return Err("`one-of-env`: a group is empty".into());
            }
            for v in group {
                var("one-of-env", v)?;
            }
        }
        for a in &self.actions {
            action("actions", a)?;
        }
        for (name, values) in &self.modes {
            let key = format!("modes.{name}");
            var(&key, name)?;
            if values.is_empty() {
                return Err(format!("`{key}` has no values; give each one a table, e.g. `reserve = {{ actions = [\"dynamodb:UpdateItem\"] }}`"));
            }
            for (value, mode) in values {
                for v in &mode.env {
                    var(&format!("{key}.{value}.env"), v)?;
                }
                for a in &mode.actions {
                    action(&format!("{key}.{value}.actions"), a)?;
                }
            }
        }
        Ok(())
    }
}

/// What one value of a mode variable needs on top of the crate's base contract.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Mode {
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub actions: Vec<String>,
}

/// Actions a function's role holds for the platform, not for the handler's code: logs, traces,
/// the event source poller, destinations and dead-letter targets, and the KMS use that goes
/// with encrypted queues, topics and tables.
fn platform_action(action: &str, has_source: bool, sends: bool) -> bool {
    let a = action.to_ascii_lowercase();
    a.starts_with("logs:")
        || a.starts_with("xray:")
        || a.starts_with("kms:")
        || (has_source
            && matches!(
                a.as_str(),
                "sqs:receivemessage"
                    | "sqs:deletemessage"
                    | "sqs:getqueueattributes"
                    | "sqs:changemessagevisibility"
                    | "dynamodb:describestream"
                    | "dynamodb:getrecords"
                    | "dynamodb:getsharditerator"
                    | "dynamodb:liststreams"
            ))
        || (sends && matches!(a.as_str(), "sqs:sendmessage" | "sns:publish"))
}

/// Check each function (logical ID -> handler crate and its contract, `None` when the crate
/// declares none) of one stack.
pub fn check_contracts(
    stack: &str,
    t: &Template,
    functions: &BTreeMap<String, (String, Option<HandlerContract>)>,
) -> Vec<Finding> {
    let m = Model::new(stack, t);
    let mut out = Vec::new();
    for (id, (krate, c)) in functions {
        let Some(f) = m.get(id) else { continue };
        let Some(c) = c else {
            out.push(m.at(
                id,
                "ORD027",
                format!("handler crate `{krate}` declares no contract ([package.metadata.ordersctl] in its Cargo.toml), so what the function sets and is granted is not checked"),
            ));
            continue;
        };
        let set: BTreeMap<&str, Option<&str>> = match prop(f, [cfn::Environment, cfn::Variables]) {
            Some(Expr::Map(vars)) => vars
                .iter()
                .map(|(k, v)| {
                    let literal = match v {
                        Expr::Str(s) => Some(s.as_str()),
                        _ => None,
                    };
                    (k.as_str(), literal)
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        let mut missing: Vec<String> = c
            .env
            .iter()
            .filter(|v| !set.contains_key(v.as_str()))
            .cloned()
            .collect();
        for group in &c.one_of_env {
            if !group.iter().any(|v| set.contains_key(v.as_str())) {
                missing.push(format!("one of {}", group.join(" or ")));
            }
        }
        let mut read: BTreeSet<&str> = c
            .env
            .iter()
            .chain(&c.optional_env)
            .chain(c.one_of_env.iter().flatten())
            .map(String::as_str)
            .collect();
        let mut declared: BTreeSet<String> =
            c.actions.iter().map(|a| a.to_ascii_lowercase()).collect();
        for (var, values) in &c.modes {
            read.insert(var);
            let allowed: Vec<&str> = values.keys().map(String::as_str).collect();
            let chosen: Vec<&Mode> = match set.get(var.as_str()) {
                None => {
                    missing.push(format!("{var} (one of {})", allowed.join(", ")));
                    Vec::new()
                }
                Some(Some(value)) => match values.get(*value) {
                    Some(mode) => vec![mode],
                    None => {
                        out.push(m.at(
                            id,
                            "ORD024",
                            format!("{var}={value} is not a mode of handler crate `{krate}` (allowed: {})", allowed.join(", ")),
                        ));
                        Vec::new()
                    }
                },
                // A value known only at deploy time may select any mode.
                Some(None) => values.values().collect(),
            };
            for mode in &chosen {
                read.extend(mode.env.iter().map(String::as_str));
                declared.extend(mode.actions.iter().map(|a| a.to_ascii_lowercase()));
            }
            if let [mode] = chosen.as_slice() {
                missing.extend(
                    mode.env
                        .iter()
                        .filter(|v| !set.contains_key(v.as_str()))
                        .cloned(),
                );
            }
        }
        if !missing.is_empty() {
            out.push(m.at(
                id,
                "ORD024",
                format!(
                    "handler crate `{krate}` requires {}, which the function does not set (it sets: {})",
                    missing.join(", "),
                    names_or_none(set.keys().copied())
                ),
            ));
        }
        let unread: Vec<&str> = set.keys().copied().filter(|v| !read.contains(v)).collect();
        if !unread.is_empty() {
            out.push(m.at(
                id,
                "ORD025",
                format!(
                    "handler crate `{krate}` does not read {} (it reads: {})",
                    unread.join(", "),
                    names_or_none(read.iter().copied())
                ),
            ));
        }
        let undeclared = undeclared_actions(&m, id, f, &declared);
        if !undeclared.is_empty() {
            out.push(m.at(
                id,
                "ORD026",
                format!(
                    "the role grants {}, which handler crate `{krate}` never calls (it declares: {})",
                    undeclared.join(", "),
                    names_or_none(declared.iter().map(String::as_str))
                ),
            ));
        }
    }
    out
}

fn names_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.collect();
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}

/// Allowed actions of the function's role beyond what the crate declares and the platform
/// uses.
fn undeclared_actions(
    m: &Model<'_>,
    id: &str,
    f: &crate::template::Resource,
    declared: &BTreeSet<String>,
) -> Vec<String> {
    let Some(role) = target(prop(f, cfn::Role)) else {
        return Vec::new();
    };
    let mappings: Vec<&crate::template::Resource> = m
        .referring("AWS::Lambda::EventSourceMapping", cfn::FunctionName, id)
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let has_source = !mappings.is_empty();
    let sends = mappings
        .iter()
        .any(|r| prop(r, [cfn::DestinationConfig, cfn::OnFailure]).is_some())
        || prop(f, cfn::DeadLetterConfig).is_some()
        || !m
            .referring("AWS::Lambda::EventInvokeConfig", cfn::FunctionName, id)
            .is_empty();
    let mut out: BTreeSet<String> = BTreeSet::new();
    for s in m.role_statements(role) {
        if matches!(field(s, iam::Effect), Some(Expr::Str(e)) if e == iam::Deny) {
            continue;
        }
        for a in strings(field(s, iam::Action)) {
            if !platform_action(&a, has_source, sends)
                && !declared.contains(&a.to_ascii_lowercase())
            {
                out.insert(a);
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(env: &str, actions: &str) -> Template {
        Template::from_json_str(&format!(
            r#"{{"Resources": {{
              "Role": {{"Type": "AWS::IAM::Role", "Properties": {{"Policies": [{{"PolicyName": "p",
                "PolicyDocument": {{"Statement": [
                  {{"Effect": "Allow", "Action": {actions}, "Resource": "*"}},
                  {{"Effect": "Allow", "Action": ["logs:PutLogEvents", "xray:PutTraceSegments"], "Resource": "*"}}]}}}}]}}}},
              "F": {{"Type": "AWS::Lambda::Function", "Properties": {{
                "Role": {{"Fn::GetAtt": ["Role", "Arn"]}},
                "Environment": {{"Variables": {env}}}}}}}}}}}"#
        ))
        .unwrap()
    }

    fn run(t: &Template, c: HandlerContract) -> Vec<(&'static str, String)> {
        let functions = BTreeMap::from([("F".to_string(), ("k".to_string(), Some(c)))]);
        check_contracts("S", t, &functions)
            .into_iter()
            .map(|f| (f.rule, f.message))
            .collect()
    }

    fn parse(toml_text: &str) -> HandlerContract {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn a_function_that_sets_and_grants_what_its_crate_declares_is_clean() {
        let t = template(r#"{"TABLE_NAME": "t"}"#, r#"["dynamodb:PutItem"]"#);
        let c = parse("env = [\"TABLE_NAME\"]\nactions = [\"dynamodb:PutItem\"]");
        assert_eq!(run(&t, c), vec![]);
    }

    #[test]
    fn a_required_variable_not_set_is_an_error_naming_it() {
        let t = template(r#"{"OTHER": "t"}"#, r#"["dynamodb:PutItem"]"#);
        let c = parse("env = [\"TABLE_NAME\"]\nactions = [\"dynamodb:PutItem\"]");
        let f = run(&t, c);
        assert_eq!(f[0].0, "ORD024");
        assert!(
            f[0].1.contains("requires TABLE_NAME") && f[0].1.contains("it sets: OTHER"),
            "{f:?}"
        );
        assert_eq!(f[1].0, "ORD025");
        assert!(f[1].1.contains("does not read OTHER"), "{f:?}");
    }

    #[test]
    fn one_of_a_group_is_enough_and_none_is_an_error() {
        let c = parse("one-of-env = [[\"INVENTORY_TABLE\", \"ORDERS_TABLE\"]]");
        let ok = template(r#"{"ORDERS_TABLE": "t"}"#, "[]");
        assert_eq!(run(&ok, c.clone()), vec![]);
        let none = template("{}", "[]");
        let f = run(&none, c);
        assert!(
            f[0].1.contains("one of INVENTORY_TABLE or ORDERS_TABLE"),
            "{f:?}"
        );
    }

    #[test]
    fn a_mode_variable_must_name_a_mode_and_brings_its_needs() {
        let c = parse(
            r#"
            [modes.ACTION.reserve]
            actions = ["dynamodb:UpdateItem"]
            [modes.ACTION.release]
            env = ["AUDIT_TABLE"]
            actions = ["dynamodb:DeleteItem"]
            "#,
        );
        let reserve = template(r#"{"ACTION": "reserve"}"#, r#"["dynamodb:UpdateItem"]"#);
        assert_eq!(run(&reserve, c.clone()), vec![]);
        // The release mode's action is not the reserve mode's.
        let wider = template(
            r#"{"ACTION": "reserve"}"#,
            r#"["dynamodb:UpdateItem", "dynamodb:DeleteItem"]"#,
        );
        let f = run(&wider, c.clone());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "ORD026");
        assert!(f[0].1.contains("grants dynamodb:DeleteItem"), "{f:?}");
        let release = template(r#"{"ACTION": "release"}"#, r#"["dynamodb:DeleteItem"]"#);
        let f = run(&release, c.clone());
        assert!(f[0].1.contains("requires AUDIT_TABLE"), "{f:?}");
        let unknown = template(r#"{"ACTION": "refund"}"#, "[]");
        let f = run(&unknown, c.clone());
        assert!(
            f[0].1.contains("ACTION=refund is not a mode")
                && f[0].1.contains("allowed: release, reserve"),
            "{f:?}"
        );
        let unset = template("{}", "[]");
        let f = run(&unset, c);
        assert!(
            f[0].1.contains("requires ACTION (one of release, reserve)"),
            "{f:?}"
        );
    }

    #[test]
    fn granted_actions_beyond_the_declared_and_the_platform_are_warned() {
        let t = template(
            "{}",
            r#"["dynamodb:PutItem", "dynamodb:Scan", "sqs:ReceiveMessage"]"#,
        );
        let c = parse("actions = [\"dynamodb:PutItem\"]");
        let f = run(&t, c);
        // No event source: the poller's action is the code's, and undeclared.
        assert_eq!(f.len(), 1);
        assert!(
            f[0].1.contains(
                "grants dynamodb:Scan, sqs:ReceiveMessage, which handler crate `k` never calls"
            ),
            "{f:?}"
        );
    }

    #[test]
    fn a_crate_without_a_contract_is_named() {
        let t = template("{}", "[]");
        let functions = BTreeMap::from([("F".to_string(), ("k".to_string(), None))]);
        let f = check_contracts("S", &t, &functions);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].location.as_str()), ("ORD027", "S/F"));
        assert!(f[0].message.contains("`k` declares no contract"), "{f:?}");
    }

    #[test]
    fn names_that_are_not_variables_or_actions_are_refused_naming_the_key() {
        for (text, key) in [
            ("env = [\"\"]", "`env`"),
            ("env = [\"TABLE NAME\"]", "`env`"),
            ("actions = [\"*\"]", "`actions`"),
            ("actions = [\"dynamodb:\"]", "`actions`"),
            ("one-of-env = [[]]", "`one-of-env`"),
            ("[modes.ACTION]", "`modes.ACTION` has no values"),
            (
                "[modes.ACTION.reserve]\nactions = [\"PutItem\"]",
                "`modes.ACTION.reserve.actions`",
            ),
        ] {
            let e = parse(text).validate().unwrap_err();
            assert!(e.contains(key), "{text}: {e}");
        }
        let good = parse("env = [\"TABLE_NAME\"]\nactions = [\"dynamodb:PutItem\", \"s3:Get*\", \"dynamodb:putitem\"]");
        assert_eq!(good.validate(), Ok(()));
    }

    #[test]
    fn unknown_contract_fields_are_refused() {
        let e = toml::from_str::<HandlerContract>("envs = [\"A\"]").unwrap_err();
        assert!(e.to_string().contains("unknown field `envs`"), "{e}");
    }
}
