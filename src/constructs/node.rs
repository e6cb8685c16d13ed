//! One construct's identity inside its stack: its node (path, logical ID, the facts other
//! constructs read, and for an imported resource its known values) and the `Copy` handle
//! types that point at a node.

use std::cell::Ref;

use super::stack::check_construct_id;
use super::{Duration, Stack, SynthError};
use crate::template::Expr;

/// What the constructs of a stack know about each other (for handles and grants).
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    /// Logical ID of the IAM role, for principals (functions, state machines).
    pub role: Option<String>,
    /// ARN of the customer-managed KMS key encrypting the resource, if any.
    pub kms_key_arn: Option<Expr>,
    /// FIFO queue or topic.
    pub fifo: bool,
    /// Encrypted with an AWS-managed service key (`alias/aws/sns`), which other services
    /// (EventBridge, CloudWatch) cannot use.
    pub aws_managed_key: bool,
    /// Table with at least one secondary index.
    pub has_indexes: bool,
    /// Table stream view type, when the stream is on.
    pub stream: Option<String>,
    /// Function timeout, for queue visibility checks.
    pub timeout: Option<Duration>,
    /// Logical ID of an HTTP API's default authorizer.
    pub authorizer: Option<String>,
}

/// One construct's identity and facts.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub path: String,
    pub logical_id: String,
    pub facts: Facts,
    /// For a resource that exists outside this app (`QueueRef::from_arn` ...): what `Ref`
    /// and `Fn::GetAtt` stand for, since there is no resource to point at.
    pub imported: Option<Imported>,
}

/// The known values of an imported resource.
#[derive(Debug, Clone)]
pub(crate) struct Imported {
    /// What `Ref` would return.
    pub ref_value: Expr,
    /// Attribute name -> value.
    pub attributes: Vec<(&'static str, Expr)>,
}

impl Stack {
    /// `Ref` of the construct at `node`: the resource's, or an imported one's known value.
    pub(crate) fn node_ref(&self, node: usize) -> Expr {
        let n = self.node(node);
        match &n.imported {
            Some(i) => i.ref_value.clone(),
            None => self.ref_(&n.logical_id),
        }
    }

    /// `Fn::GetAtt` of the construct at `node`; for an imported one, its known value, or a
    /// synth error naming the construct when the attribute is not known.
    pub(crate) fn node_att(&self, node: usize, attribute: &str) -> Expr {
        let (path, value) = {
            let n = self.node(node);
            match &n.imported {
                None => return self.get_att(&n.logical_id, attribute),
                Some(i) => (
                    n.path.clone(),
                    i.attributes
                        .iter()
                        .find(|(a, _)| *a == attribute)
                        .map(|(_, v)| v.clone()),
                ),
            }
        };
        value.unwrap_or_else(|| {
            self.defer_error(SynthError::invalid(
                path,
                format!("this construct is imported: its {attribute} is not known here"),
            ));
            Expr::from("")
        })
    }

    /// Whether the construct at `node` is imported (exists outside this app).
    pub(crate) fn is_imported(&self, node: usize) -> bool {
        self.node(node).imported.is_some()
    }

    /// Register a construct that exists outside this app: it has a path and an ID (unique
    /// in the stack like any construct's) but no resource.
    pub(crate) fn import_node(
        &self,
        id: &str,
        imported: Imported,
        facts: Facts,
    ) -> Result<usize, SynthError> {
        check_construct_id(self.name(), id)?;
        let path = self.child_path(id);
        self.claim(id, &path)?;
        Ok(self.add_node(Node {
            path,
            logical_id: id.to_string(),
            facts,
            imported: Some(imported),
        }))
    }

    pub(crate) fn add_node(&self, node: Node) -> usize {
        let mut st = self.state.borrow_mut();
        st.nodes.push(node);
        st.nodes.len() - 1
    }

    pub(crate) fn node(&self, index: usize) -> Ref<'_, Node> {
        Ref::map(self.state.borrow(), |s| &s.nodes[index])
    }
}

/// Generates a `Copy` handle type: a stack reference plus the node index of the construct.
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name<'a> {
            pub(crate) stack: &'a $crate::constructs::Stack,
            pub(crate) node: usize,
        }

        impl std::fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.path()).finish()
            }
        }

        impl<'a> $name<'a> {
            /// Construct path, `Stack/Id`.
            pub fn path(&self) -> String {
                self.stack.node(self.node).path.clone()
            }
            /// Logical ID of the main resource.
            pub fn logical_id(&self) -> String {
                self.stack.node(self.node).logical_id.clone()
            }
            /// The stack this construct belongs to.
            pub fn stack(&self) -> &'a $crate::constructs::Stack {
                self.stack
            }
            /// Skip one check on this construct's main resource, saying why (see
            /// [`Stack::suppress`](crate::constructs::Stack::suppress)).
            pub fn suppress(&self, rule: &str, reason: &str) -> Self {
                self.stack.suppress(&self.logical_id(), rule, reason);
                *self
            }
            /// `{"Ref": logicalId}`.
            pub fn ref_(&self) -> $crate::template::Expr {
                self.stack.node_ref(self.node)
            }
            #[allow(dead_code)]
            pub(crate) fn att(&self, attribute: &str) -> $crate::template::Expr {
                self.stack.node_att(self.node, attribute)
            }
            /// Whether this construct exists outside the app (made by `from_arn` or
            /// `from_name`): nothing is declared for it, and its own policies are its
            /// owner's.
            pub fn is_imported(&self) -> bool {
                self.stack.is_imported(self.node)
            }
            #[allow(dead_code)]
            pub(crate) fn facts(&self) -> $crate::constructs::stack::Facts {
                self.stack.node(self.node).facts.clone()
            }
        }
    };
}
pub(crate) use handle;
