//! KMS customer-managed keys, for queues, topics and tables that must not use AWS-owned keys.

use super::iam::Statement;
use super::stack::PolicyHolder;
use super::stack::{handle, Facts, Node};
use super::{Stack, SynthError};
use crate::spec::{cfn, iam};
use crate::template::{Expr, Policy, Resource};

/// Builder for an `AWS::KMS::Key` with rotation on and a key policy that delegates to IAM.
///
/// ```
/// use ordersctl::constructs::App;
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let key = stack.key("DlqKey").description("Encrypts the DLQ").build().unwrap();
/// assert_eq!(key.logical_id(), "DlqKey");
/// ```
pub struct KeyBuilder<'a> {
    stack: &'a Stack,
    id: String,
    description: Option<String>,
    alias: Option<String>,
}

handle!(
    /// A KMS key.
    KeyRef
);

impl Stack {
    /// Start a KMS key.
    pub fn key(&self, id: &str) -> KeyBuilder<'_> {
        KeyBuilder {
            stack: self,
            id: id.to_string(),
            description: None,
            alias: None,
        }
    }
}

impl<'a> KeyBuilder<'a> {
    /// Key description.
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }

    /// An alias (`alias/` is prefixed if missing).
    pub fn alias(mut self, alias: &str) -> Self {
        self.alias = Some(alias.to_string());
        self
    }

    /// Validate and add the key.
    pub fn build(self) -> Result<KeyRef<'a>, SynthError> {
        super::stack::check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let mut r = Resource::new("AWS::KMS::Key");
        r.set(cfn::EnableKeyRotation, true)
            .set_opt(cfn::Description, self.description.clone());
        // Keys outlive stacks by default, as in CDK: data encrypted with a deleted key is lost.
        r.removal(Policy::Retain);
        self.stack.add_resource(&self.id, &path, r)?;
        // The account root may administer the key; IAM policies then grant use of it.
        let root = Statement {
            principal: Some(Expr::map([(
                iam::AWS,
                Expr::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root"),
            )])),
            ..Statement::allow(["kms:*"], [Expr::from("*")])
        };
        self.stack
            .attach_policy(&self.id, PolicyHolder::Key, &path, root);
        if let Some(alias) = &self.alias {
            let name = if alias.starts_with("alias/") {
                alias.clone()
            } else {
                format!("alias/{alias}")
            };
            let mut a = Resource::new("AWS::KMS::Alias");
            a.set(cfn::AliasName, name)
                .set(cfn::TargetKeyId, Expr::ref_(self.id.as_str()));
            self.stack
                .add_resource(&format!("{}Alias", self.id), &path, a)?;
        }
        let node = self.stack.add_node(Node {
            path,
            logical_id: self.id,
            facts: Facts::default(),
            imported: None,
        });
        Ok(KeyRef {
            stack: self.stack,
            node,
        })
    }
}

impl<'a> KeyRef<'a> {
    /// The key ARN.
    pub fn arn(&self) -> Expr {
        self.att("Arn")
    }

    /// Let a service principal use the key to encrypt and decrypt (for example
    /// `events.amazonaws.com` sending to an encrypted queue).
    pub fn grant_service_encrypt_decrypt(&self, service: &str) {
        if self.is_imported() {
            self.stack.defer_error(SynthError::invalid(
                self.path(),
                format!("the key policy of an imported key is its owner's: allow {service} there"),
            ));
            return;
        }
        let s = Statement::allow_service(
            service,
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [Expr::from("*")],
        );
        self.stack
            .attach_policy(&self.logical_id(), PolicyHolder::Key, &self.path(), s);
    }
}

/// What a principal needs to encrypt and decrypt with a customer-managed key.
pub(crate) fn key_use(key_arn: Expr) -> Statement {
    Statement::allow(["kms:Decrypt", "kms:GenerateDataKey"], [key_arn])
}

impl Stack {
    /// Let an AWS service use the customer-managed key of the construct at `node` (a queue or
    /// topic it sends to). The key policy can only change in the stack that declares the key,
    /// so a key from another stack is a synth error saying what to do instead.
    pub(crate) fn defer_key_service_grant(&self, node: usize, kind: &str, service: &str) {
        // Copy what is needed out of the node first: attach_policy borrows the state mutably.
        let (path, key_arn) = {
            let n = self.node(node);
            (n.path.clone(), n.facts.kms_key_arn.clone())
        };
        let Some(Expr::GetAtt(target, _)) = key_arn else {
            return;
        };
        if target.owner == Some(self.id()) {
            let stmt = Statement::allow_service(
                service,
                ["kms:Decrypt", "kms:GenerateDataKey"],
                [Expr::from("*")],
            );
            self.attach_policy(&target.logical_id, PolicyHolder::Key, &path, stmt);
        } else {
            self.defer_error(SynthError::invalid(
                path,
                format!("the KMS key of this {kind} is in another stack; grant {service} on the key there with KeyRef::grant_service_encrypt_decrypt"),
            ));
        }
    }
}
