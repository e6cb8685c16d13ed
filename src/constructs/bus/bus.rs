//! Event buses: custom buses declared in the stack, and the account's default bus.

use super::{check_description, check_name};
use crate::constructs::function::Destination;
use crate::constructs::iam::{Grantee, Statement};
use crate::constructs::stack::{check_construct_id, Facts, Node};
use crate::constructs::{Stack, SynthError};
use crate::spec::cfn;
use crate::template::{Expr, Resource};

/// An event bus: a custom `AWS::Events::EventBus` of a stack, or the account's default bus
/// ([`Stack::default_event_bus`]). Both are used the same way: as a rule's bus, a rule
/// target, an archive source, or a destination.
///
/// ```
/// use ordersctl::constructs::App;
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let orders = stack.event_bus("OrdersBus").bus_name("orders-bus").build()?;
/// let default = stack.default_event_bus();
/// assert!(default.is_default() && !orders.is_default());
/// assert_eq!(orders.name().to_json(), serde_json::json!({"Fn::GetAtt": ["OrdersBus", "Name"]}));
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[derive(Clone, Copy)]
pub struct EventBusRef<'a> {
    pub(crate) stack: &'a Stack,
    /// `None`: the account's default bus.
    pub(crate) node: Option<usize>,
}

impl std::fmt::Debug for EventBusRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EventBusRef").field(&self.path()).finish()
    }
}

/// Name of the account's default bus.
const DEFAULT_BUS: &str = "default";

/// Builder for an `AWS::Events::EventBus`.
///
/// ```
/// use ordersctl::constructs::App;
/// let app = App::new();
/// let stack = app.stack("Demo");
/// let bus = stack.event_bus("OrdersBus").bus_name("orders-bus").description("Order events").build()?;
/// assert_eq!(bus.logical_id().as_deref(), Some("OrdersBus"));
/// # Ok::<(), ordersctl::constructs::SynthError>(())
/// ```
#[must_use = "an event bus is added by build()"]
pub struct EventBusBuilder<'a> {
    stack: &'a Stack,
    id: String,
    logical_id: Option<String>,
    bus_name: Option<String>,
    description: Option<String>,
}

impl Stack {
    /// Start a custom event bus.
    pub fn event_bus(&self, id: &str) -> EventBusBuilder<'_> {
        EventBusBuilder {
            stack: self,
            id: id.to_string(),
            logical_id: None,
            bus_name: None,
            description: None,
        }
    }

    /// The account's default event bus (in the stack's account and region).
    pub fn default_event_bus(&self) -> EventBusRef<'_> {
        EventBusRef {
            stack: self,
            node: None,
        }
    }
}

impl<'a> EventBusBuilder<'a> {
    /// Physical bus name, 1 to 256 letters, digits, `.`, `-` and `_` (not `default`);
    /// `<Stack>-<Id>` when not given (the property is required).
    pub fn bus_name(mut self, name: &str) -> Self {
        self.bus_name = Some(name.to_string());
        self
    }
    /// Keep a logical ID stable through a rename of the construct.
    pub fn logical_id(mut self, id: &str) -> Self {
        self.logical_id = Some(id.to_string());
        self
    }
    /// Description, up to 512 characters.
    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }

    /// Validate and add the bus.
    pub fn build(self) -> Result<EventBusRef<'a>, SynthError> {
        check_construct_id(self.stack.name(), &self.id)?;
        let path = self.stack.child_path(&self.id);
        let p = path.as_str();
        let name = self
            .bus_name
            .clone()
            .unwrap_or_else(|| format!("{}-{}", self.stack.name(), self.id));
        check_name(p, "bus_name", &name, 256)?;
        if name == DEFAULT_BUS || name.starts_with("aws.") {
            return Err(SynthError::invalid(
                p,
                format!("bus_name `{name}` is reserved; use stack.default_event_bus() for the default bus, and `aws.*` names are for partner buses"),
            ));
        }
        if let Some(d) = &self.description {
            check_description(p, d)?;
        }
        let mut r = Resource::new("AWS::Events::EventBus");
        r.set(cfn::Name, name)
            .set_opt(cfn::Description, self.description.clone());
        let logical_id = self.logical_id.clone().unwrap_or_else(|| self.id.clone());
        self.stack.add_resource(&logical_id, p, r)?;
        let node = self.stack.add_node(Node {
            path,
            logical_id,
            facts: Facts::default(),
            imported: None,
        });
        Ok(EventBusRef {
            stack: self.stack,
            node: Some(node),
        })
    }
}

impl<'a> EventBusRef<'a> {
    /// Whether this is the account's default bus.
    pub fn is_default(&self) -> bool {
        self.node.is_none()
    }
    /// Construct path, `Stack/Id` (`Stack/default` for the default bus).
    pub fn path(&self) -> String {
        match self.node {
            Some(n) => self.stack.node(n).path.clone(),
            None => self.stack.child_path(DEFAULT_BUS),
        }
    }
    /// Logical ID of the bus resource; `None` for the default bus, which is not declared.
    pub fn logical_id(&self) -> Option<String> {
        self.node.map(|n| self.stack.node(n).logical_id.clone())
    }
    /// The stack this handle was made in.
    pub fn stack(&self) -> &'a Stack {
        self.stack
    }
    /// Bus ARN.
    pub fn arn(&self) -> Expr {
        match self.node {
            Some(n) => self.stack.node_att(n, cfn::Arn),
            None => Expr::arn("events", "event-bus/default"),
        }
    }
    /// Bus name: `Fn::GetAtt <Bus>.Name` for a custom bus (never `Ref`), `default` otherwise.
    pub fn name(&self) -> Expr {
        match self.node {
            Some(n) => self.stack.node_att(n, cfn::Name),
            None => Expr::from(DEFAULT_BUS),
        }
    }
    fn put_events_statement(&self) -> Statement {
        Statement::allow(["events:PutEvents"], [self.arn()])
    }
    /// Let a principal put events on this bus.
    ///
    /// ```
    /// use ordersctl::constructs::App;
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let bus = stack.event_bus("OrdersBus").build()?;
    /// let f = stack.function("Api").handler_crate("api").build()?;
    /// bus.grant_put_events(&f);
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn grant_put_events(&self, grantee: &dyn Grantee) {
        grantee.add_to_principal_policy(self.put_events_statement());
    }
}

impl Destination for EventBusRef<'_> {
    fn destination_arn(&self) -> Expr {
        self.arn()
    }
    fn destination_statements(&self) -> Vec<Statement> {
        vec![self.put_events_statement()]
    }
}

#[cfg(test)]
mod tests {
    use crate::constructs::App;
    use serde_json::json;

    #[test]
    fn names_are_checked_and_name_is_get_att() {
        let app = App::new();
        let s = app.stack("S");
        for (name, needle) in [
            ("has space", "bus_name"),
            ("default", "reserved"),
            ("aws.partner", "reserved"),
        ] {
            let e = s
                .event_bus("B")
                .bus_name(name)
                .build()
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("S/B") && e.contains(needle), "{e}");
        }
        let e = s
            .event_bus("B")
            .description(&"d".repeat(513))
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("S/B") && e.contains("description"), "{e}");
        let b = s.event_bus("B").build().unwrap();
        assert_eq!(b.name().to_json(), json!({"Fn::GetAtt": ["B", "Name"]}));
        assert_eq!(b.arn().to_json(), json!({"Fn::GetAtt": ["B", "Arn"]}));
        let t = s.state_for_tests().finalize().unwrap();
        assert_eq!(t.resources["B"].properties["Name"].to_json(), json!("S-B"));
        let d = s.default_event_bus();
        assert_eq!(
            d.arn().to_json(),
            json!({"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"})
        );
        assert_eq!(d.name().to_json(), json!("default"));
    }
}
