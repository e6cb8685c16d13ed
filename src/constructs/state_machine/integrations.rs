//! How a state machine plugs into the other constructs: as a rule target, a schedule or
//! destination target, and its CloudWatch metrics; and how an event bus plugs into a
//! `putEvents` task.

use super::tasks::EventBusTarget;
use super::StateMachineRef;
use crate::constructs::alarm::{Metric, Statistic};
use crate::constructs::bus::{EventBusRef, RuleContext, RuleTarget, TargetBinding};
use crate::constructs::iam::Statement;
use crate::constructs::{Destination, SynthError};
use crate::template::Expr;

impl RuleTarget for StateMachineRef<'_> {
    fn target_arn(&self) -> Expr {
        self.arn()
    }
    fn target_label(&self) -> String {
        self.logical_id()
    }
    /// EventBridge starts executions through the rule's role.
    fn bind(&self, _rule: &RuleContext<'_>) -> Result<TargetBinding, SynthError> {
        Ok(TargetBinding::role([Statement::allow(
            ["states:StartExecution"],
            [self.arn()],
        )]))
    }
}

impl Destination for StateMachineRef<'_> {
    fn destination_arn(&self) -> Expr {
        self.arn()
    }
    fn destination_statements(&self) -> Vec<Statement> {
        vec![Statement::allow(["states:StartExecution"], [self.arn()])]
    }
}

impl EventBusTarget for EventBusRef<'_> {
    fn event_bus_arn(&self) -> Expr {
        self.arn()
    }
}

impl StateMachineRef<'_> {
    /// Failed executions (Sum over 1 minute).
    ///
    /// ```
    /// use ordersctl::constructs::App;
    /// use ordersctl::constructs::state_machine::{Definition, Succeed};
    /// let app = App::new();
    /// let stack = app.stack("Demo");
    /// let sm = stack.state_machine("Flow").definition(Definition::new("Done").state(Succeed::new("Done"))).build()?;
    /// assert_eq!(sm.metric_executions_failed().metric_name, "ExecutionsFailed");
    /// # Ok::<(), ordersctl::constructs::SynthError>(())
    /// ```
    pub fn metric_executions_failed(&self) -> Metric {
        Metric::new(
            "AWS/States",
            "ExecutionsFailed",
            vec![("StateMachineArn".into(), self.arn())],
        )
        .statistic(Statistic::Sum)
    }
}

#[cfg(test)]
mod tests {
    use crate::constructs::state_machine::{Definition, Succeed};
    use crate::constructs::{App, EventPattern};

    #[test]
    fn a_rule_starts_a_state_machine_through_its_role() {
        let app = App::new();
        let s = app.stack("S");
        let sm = s
            .state_machine("Saga")
            .definition(Definition::new("Done").state(Succeed::new("Done")))
            .build()
            .unwrap();
        s.rule("Start")
            .pattern(EventPattern::new().detail_type(["OrderPlaced"]))
            .target(&sm)
            .build()
            .unwrap();
        let t = crate::synth::synthesize(&app)
            .unwrap()
            .stacks
            .remove(0)
            .template
            .to_json_value();
        let stmt = &t["Resources"]["StartRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"][0];
        assert_eq!(stmt["Action"], "states:StartExecution");
        assert_eq!(stmt["Resource"], serde_json::json!({"Ref": "Saga"}));
        assert_eq!(
            t["Resources"]["Start"]["Properties"]["Targets"][0]["RoleArn"],
            serde_json::json!({"Fn::GetAtt": ["StartRole", "Arn"]})
        );
    }
}
