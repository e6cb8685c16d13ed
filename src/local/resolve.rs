//! Template values resolved against a local deployment: `Ref`, `Fn::GetAtt`, `Fn::Sub`,
//! `Fn::ImportValue` and the other intrinsics become the local resources' names, URLs and ARNs,
//! as CloudFormation would have resolved them. Pure: the physical IDs come in as data.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::template::{Expr, Template};

/// Region and account of the local endpoint.
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// One deployed stack: its template and what the endpoint named each resource.
#[derive(Debug, Clone)]
pub struct DeployedStack {
    pub name: String,
    pub template: Template,
    /// Logical ID -> physical ID, as ListStackResources gives them.
    pub physical: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
}

/// A value that cannot be resolved; names the stack, resource and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{stack}: {message}")]
pub struct ResolveError {
    pub stack: String,
    pub message: String,
}

/// Resolves expressions of a set of deployed stacks.
#[derive(Debug, Clone)]
pub struct Resolver<'a> {
    pub stacks: &'a [DeployedStack],
    /// Base of queue URLs (`http://127.0.0.1:PORT`), so handlers' SQS calls reach the endpoint.
    pub queue_url_base: String,
}

impl<'a> Resolver<'a> {
    fn stack(&self, name: &str) -> &'a DeployedStack {
        self.stacks
            .iter()
            .find(|s| s.name == name)
            .expect("a stack of this resolver")
    }

    fn err(stack: &str, message: impl Into<String>) -> ResolveError {
        ResolveError {
            stack: stack.to_string(),
            message: message.into(),
        }
    }

    /// The value of `e` in `stack`, as JSON (`Ref: AWS::NoValue` yields `None`).
    pub fn value(&self, stack: &str, e: &Expr) -> Result<Option<Value>, ResolveError> {
        Ok(match e {
            Expr::Null => Some(Value::Null),
            Expr::Bool(b) => Some(Value::Bool(*b)),
            Expr::Int(i) => Some(Value::from(*i)),
            Expr::Float(f) => Some(Value::from(*f)),
            Expr::Str(s) => Some(Value::String(s.clone())),
            Expr::List(items) => {
                let mut out = Vec::new();
                for i in items {
                    if let Some(v) = self.value(stack, i)? {
                        out.push(v);
                    }
                }
                Some(Value::Array(out))
            }
            Expr::Map(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    if let Some(v) = self.value(stack, v)? {
                        out.insert(k.clone(), v);
                    }
                }
                Some(Value::Object(out))
            }
            Expr::Ref(t) if t.logical_id == "AWS::NoValue" => None,
            Expr::Ref(t) => Some(Value::String(self.reference(stack, &t.logical_id)?)),
            Expr::GetAtt(t, attr) => {
                Some(Value::String(self.attribute(stack, &t.logical_id, attr)?))
            }
            Expr::Sub(text, vars) => Some(Value::String(self.sub(stack, text, vars)?)),
            Expr::Join(sep, parts) => {
                let mut strs = Vec::new();
                for p in parts {
                    match self.value(stack, p)? {
                        Some(Value::Array(a)) => strs.extend(a.iter().map(text)),
                        Some(v) => strs.push(text(&v)),
                        None => {}
                    }
                }
                Some(Value::String(strs.join(sep)))
            }
            Expr::Select(i, list) => match self.value(stack, list)? {
                Some(Value::Array(a)) => a.get(*i as usize).cloned(),
                _ => {
                    return Err(Self::err(
                        stack,
                        "Fn::Select over something that is not a list",
                    ))
                }
            },
            Expr::Split(sep, source) => match self.value(stack, source)? {
                Some(Value::String(s)) => Some(Value::Array(
                    s.split(sep.as_str())
                        .map(|p| Value::String(p.into()))
                        .collect(),
                )),
                _ => {
                    return Err(Self::err(
                        stack,
                        "Fn::Split over something that is not a string",
                    ))
                }
            },
            Expr::GetAZs(_) => Some(Value::Array(
                ["a", "b", "c"]
                    .iter()
                    .map(|z| Value::String(format!("{REGION}{z}")))
                    .collect(),
            )),
            Expr::ImportValue(name) => {
                let name = self.string(stack, name)?;
                Some(Value::String(self.import(stack, &name)?))
            }
            Expr::If(cond, a, b) => {
                if self.condition(stack, cond)? {
                    self.value(stack, a)?
                } else {
                    self.value(stack, b)?
                }
            }
            Expr::Equals(..) | Expr::And(_) | Expr::Or(_) | Expr::Not(_) | Expr::Condition(_) => {
                Some(Value::Bool(self.truth(stack, e)?))
            }
        })
    }

    /// The value of `e` as a string.
    pub fn string(&self, stack: &str, e: &Expr) -> Result<String, ResolveError> {
        match self.value(stack, e)? {
            Some(v) => Ok(text(&v)),
            None => Err(Self::err(stack, "a value needed here is AWS::NoValue")),
        }
    }

    fn condition(&self, stack: &str, name: &str) -> Result<bool, ResolveError> {
        let c = self
            .stack(stack)
            .template
            .conditions
            .get(name)
            .ok_or_else(|| Self::err(stack, format!("no condition `{name}`")))?;
        self.truth(stack, c)
    }

    fn truth(&self, stack: &str, e: &Expr) -> Result<bool, ResolveError> {
        Ok(match e {
            Expr::Equals(a, b) => self.value(stack, a)? == self.value(stack, b)?,
            Expr::And(items) => {
                let mut all = true;
                for i in items {
                    all &= self.truth(stack, i)?;
                }
                all
            }
            Expr::Or(items) => {
                let mut any = false;
                for i in items {
                    any |= self.truth(stack, i)?;
                }
                any
            }
            Expr::Not(c) => !self.truth(stack, c)?,
            Expr::Condition(n) => self.condition(stack, n)?,
            Expr::Bool(b) => *b,
            other => matches!(self.value(stack, other)?, Some(Value::String(s)) if s == "true"),
        })
    }

    fn import(&self, stack: &str, export: &str) -> Result<String, ResolveError> {
        for s in self.stacks {
            for o in s.template.outputs.values() {
                if let Some(name) = &o.export_name {
                    if self.string(&s.name, name)? == export {
                        return self.string(&s.name, &o.value);
                    }
                }
            }
        }
        Err(Self::err(
            stack,
            format!(
                "Fn::ImportValue `{export}`: no stack run here exports it (name its stack too)"
            ),
        ))
    }

    fn sub(
        &self,
        stack: &str,
        text_: &str,
        vars: &BTreeMap<String, Expr>,
    ) -> Result<String, ResolveError> {
        let mut out = String::new();
        let mut rest = text_;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            if let Some(lit) = after.strip_prefix('!') {
                out.push_str("${");
                rest = lit;
                continue;
            }
            let end = after.find('}').ok_or_else(|| {
                Self::err(stack, format!("Fn::Sub `{text_}`: `${{` without `}}`"))
            })?;
            let name = &after[..end];
            let v = if let Some(e) = vars.get(name) {
                self.string(stack, e)?
            } else if let Some((id, attr)) = name
                .split_once('.')
                .filter(|(id, _)| !id.starts_with("AWS::"))
            {
                self.attribute(stack, id, attr)?
            } else {
                self.reference(stack, name)?
            };
            out.push_str(&v);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `Ref` of a logical ID, parameter or pseudo parameter.
    pub fn reference(&self, stack: &str, id: &str) -> Result<String, ResolveError> {
        let s = self.stack(stack);
        match id {
            "AWS::Region" => return Ok(REGION.into()),
            "AWS::AccountId" => return Ok(ACCOUNT.into()),
            "AWS::Partition" => return Ok("aws".into()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".into()),
            "AWS::StackName" => return Ok(stack.into()),
            "AWS::StackId" => {
                return Ok(format!(
                    "arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/local"
                ))
            }
            _ => {}
        }
        if let Some(p) = s.template.parameters.get(id) {
            return match (s.parameters.get(id), &p.default) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(d)) => self.string(stack, d),
                (None, None) => Err(Self::err(stack, format!("parameter `{id}` has no value"))),
            };
        }
        let r = s.template.resources.get(id).ok_or_else(|| {
            Self::err(
                stack,
                format!("`{id}` is not a resource, parameter or pseudo parameter of this stack"),
            )
        })?;
        let physical = self.physical(stack, id)?;
        Ok(match r.resource_type.as_str() {
            "AWS::SQS::Queue" => self.queue_url(&queue_name(&physical)),
            _ => physical,
        })
    }

    fn physical(&self, stack: &str, id: &str) -> Result<String, ResolveError> {
        let s = self.stack(stack);
        if let Some(p) = s.physical.get(id).filter(|p| !p.is_empty()) {
            return Ok(p.clone());
        }
        // Some local endpoints report no physical ID for a resource they did create (moto:
        // event buses); a resource named in the template is found by that name.
        let named = s.template.resources.get(id).and_then(|r| {
            NAME_PROPERTIES
                .iter()
                .find_map(|k| r.properties.get(*k))
                .and_then(|e| self.string(stack, e).ok())
        });
        named.ok_or_else(|| {
            Self::err(
                stack,
                format!("`{id}` has no physical ID on the local endpoint"),
            )
        })
    }

    /// The URL handlers use for a queue.
    pub fn queue_url(&self, name: &str) -> String {
        format!("{}/{ACCOUNT}/{name}", self.queue_url_base)
    }

    /// `Fn::GetAtt` of a resource.
    pub fn attribute(&self, stack: &str, id: &str, attr: &str) -> Result<String, ResolveError> {
        let s = self.stack(stack);
        let r = s
            .template
            .resources
            .get(id)
            .ok_or_else(|| Self::err(stack, format!("Fn::GetAtt: no resource `{id}`")))?;
        let p = self.physical(stack, id)?;
        let ty = r.resource_type.as_str();
        let last = |p: &str| p.rsplit(['/', ':']).next().unwrap_or(p).to_string();
        Ok(match (ty, attr) {
            ("AWS::SQS::Queue", "Arn") => {
                format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{}", queue_name(&p))
            }
            ("AWS::SQS::Queue", "QueueName") => queue_name(&p),
            ("AWS::SQS::Queue", "QueueUrl") => self.queue_url(&queue_name(&p)),
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{p}")
            }
            ("AWS::DynamoDB::Table", "StreamArn") => {
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{p}/stream/local")
            }
            ("AWS::Lambda::Function", "Arn") => {
                format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{}", last(&p))
            }
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{ACCOUNT}:role/{}", last(&p)),
            ("AWS::IAM::Role", "RoleId") => format!("AROA{}", last(&p).to_uppercase()),
            ("AWS::Events::EventBus", "Arn") => {
                format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{}", last(&p))
            }
            ("AWS::Events::EventBus", "Name") => last(&p),
            ("AWS::Events::Rule", "Arn") => {
                if p.starts_with("arn:") {
                    p
                } else {
                    format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{p}")
                }
            }
            ("AWS::SNS::Topic", "TopicArn") => p,
            ("AWS::SNS::Topic", "TopicName") => last(&p),
            ("AWS::StepFunctions::StateMachine", "Arn") => p,
            ("AWS::StepFunctions::StateMachine", "Name") => last(&p),
            ("AWS::KMS::Key", "Arn") => format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{}", last(&p)),
            ("AWS::KMS::Key", "KeyId") => last(&p),
            ("AWS::Logs::LogGroup", "Arn") => {
                format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{p}:*")
            }
            ("AWS::S3::Bucket", "Arn") => format!("arn:aws:s3:::{p}"),
            ("AWS::S3::Bucket", "DomainName") => format!("{p}.s3.amazonaws.com"),
            ("AWS::Scheduler::Schedule", "Arn") => {
                format!("arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{id}")
            }
            _ => {
                return Err(Self::err(
                    stack,
                    format!("Fn::GetAtt {id}.{attr} ({ty}) cannot be resolved locally"),
                ))
            }
        })
    }
}

/// Properties that name a resource, by the types the engine reads.
const NAME_PROPERTIES: &[&str] = &[
    "Name",
    "QueueName",
    "TableName",
    "FunctionName",
    "TopicName",
    "StateMachineName",
    "RoleName",
    "BucketName",
    "LogGroupName",
];

/// A queue's name from its physical ID (a URL or a name).
pub fn queue_name(physical: &str) -> String {
    physical.rsplit('/').next().unwrap_or(physical).to_string()
}

/// A value as text: a string as it is, anything else as JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployed() -> Vec<DeployedStack> {
        let t = Template::from_json_str(r#"{"Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
            "Resources": {
              "Q": {"Type": "AWS::SQS::Queue", "Properties": {}},
              "T": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
              "F": {"Type": "AWS::Lambda::Function", "Properties": {}}},
            "Outputs": {"TableName": {"Value": {"Ref": "T"}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-TableName"}}}}}"#).unwrap();
        vec![DeployedStack {
            name: "S".into(),
            template: t,
            physical: [
                ("Q", "https://queue.amazonaws.com/123456789012/S-Q-ABC"),
                ("T", "S-T-XYZ"),
                ("F", "S-F-1"),
            ]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
            parameters: BTreeMap::new(),
        }]
    }

    #[test]
    fn refs_atts_subs_imports_resolve_to_local_names() {
        let stacks = deployed();
        let r = Resolver {
            stacks: &stacks,
            queue_url_base: "http://127.0.0.1:5000".into(),
        };
        let e = |j: &str| Expr::from_json(&serde_json::from_str(j).unwrap());
        assert_eq!(
            r.string("S", &e(r#"{"Ref": "Q"}"#)).unwrap(),
            "http://127.0.0.1:5000/123456789012/S-Q-ABC"
        );
        assert_eq!(
            r.string("S", &e(r#"{"Fn::GetAtt": ["Q", "Arn"]}"#))
                .unwrap(),
            "arn:aws:sqs:us-east-1:123456789012:S-Q-ABC"
        );
        assert_eq!(
            r.string("S", &e(r#"{"Fn::Sub": "${T.Arn}/index/*"}"#))
                .unwrap(),
            "arn:aws:dynamodb:us-east-1:123456789012:table/S-T-XYZ/index/*"
        );
        assert_eq!(
            r.string(
                "S",
                &e(r#"{"Fn::Sub": "${Stage}-${AWS::Region}-${!Literal}"}"#)
            )
            .unwrap(),
            "dev-us-east-1-${Literal}"
        );
        assert_eq!(
            r.string("S", &e(r#"{"Fn::ImportValue": "S-TableName"}"#))
                .unwrap(),
            "S-T-XYZ"
        );
        assert_eq!(
            r.string("S", &e(r#"{"Fn::Join": [":", ["a", {"Ref": "F"}]]}"#))
                .unwrap(),
            "a:S-F-1"
        );
        let missing = r
            .string("S", &e(r#"{"Fn::GetAtt": ["F", "SnapStartResponse"]}"#))
            .unwrap_err();
        assert!(
            missing.to_string().contains("F.SnapStartResponse"),
            "{missing}"
        );
        assert!(r.string("S", &e(r#"{"Ref": "Nope"}"#)).is_err());
    }
}
