//! Whether changing a property replaces the resource, from a table generated out of the
//! CloudFormation registry schemas and the CDK service spec (see
//! `scripts/gen-replacement-table.py`), plus reviewed overrides.

use serde::Serialize;

#[path = "replacement_table.rs"]
mod replacement_table;

/// What an update does to a resource, ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Impact {
    /// Updated in place.
    NoInterruption,
    /// Replaced depending on the values (CloudFormation's "Conditional").
    MayReplace,
    /// A new physical resource is created and the old one deleted.
    Replace,
}

impl Impact {
    /// How the diff prints it.
    pub fn label(self) -> &'static str {
        match self {
            Impact::NoInterruption => "no interruption",
            Impact::MayReplace => "may replace",
            Impact::Replace => "replace",
        }
    }
}

fn segment_matches(a: &str, b: &str) -> bool {
    a == b || a == "*" || b == "*"
}

/// The impact of changing the property at `path` (names, with `*` for list elements) of a
/// resource of `resource_type`. A path inside a create-only property replaces; a changed
/// value that merely contains a create-only sub-property (a whole list replaced, say) may.
///
/// ```
/// use ordersctl::diff::{update_impact, Impact};
/// assert_eq!(update_impact("AWS::DynamoDB::Table", &["KeySchema", "*", "AttributeName"]), Impact::Replace);
/// assert_eq!(update_impact("AWS::SQS::Queue", &["FifoQueue"]), Impact::Replace);
/// assert_eq!(update_impact("AWS::SQS::Queue", &["VisibilityTimeout"]), Impact::NoInterruption);
/// ```
pub fn update_impact(resource_type: &str, path: &[&str]) -> Impact {
    let mut worst = Impact::NoInterruption;
    for (t, entry, impact) in replacement_table::TABLE {
        if *t != resource_type {
            continue;
        }
        let entry: Vec<&str> = entry.split('/').collect();
        let shared = entry.len().min(path.len());
        if !entry[..shared]
            .iter()
            .zip(&path[..shared])
            .all(|(a, b)| segment_matches(a, b))
        {
            continue;
        }
        let this = if entry.len() <= path.len() {
            *impact // the change is at or inside the listed property
        } else {
            (*impact).min(Impact::MayReplace) // the listed property is somewhere inside
        };
        worst = worst.max(this);
    }
    worst
}

/// The properties of a type whose change replaces it, for tests and docs.
pub fn replacing_properties(resource_type: &str) -> Vec<&'static str> {
    replacement_table::TABLE
        .iter()
        .filter(|(t, _, i)| *t == resource_type && *i == Impact::Replace)
        .map(|(_, p, _)| *p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overrides_beat_the_schemas() {
        // Registry schema: KeySchema is only conditionally create-only; the reference says
        // "Update requires: Replacement".
        assert_eq!(
            update_impact("AWS::DynamoDB::Table", &["KeySchema"]),
            Impact::Replace
        );
    }

    #[test]
    fn nested_paths_and_lists() {
        assert_eq!(
            update_impact(
                "AWS::Pipes::Pipe",
                &[
                    "SourceParameters",
                    "DynamoDBStreamParameters",
                    "StartingPosition"
                ]
            ),
            Impact::Replace
        );
        assert_eq!(
            update_impact("AWS::Pipes::Pipe", &["SourceParameters"]),
            Impact::MayReplace,
            "a whole SourceParameters change may touch a create-only part"
        );
        assert_eq!(
            update_impact(
                "AWS::Pipes::Pipe",
                &["SourceParameters", "SqsQueueParameters", "BatchSize"]
            ),
            Impact::NoInterruption
        );
        assert_eq!(
            update_impact(
                "AWS::Lambda::Function",
                &["DurableConfig", "ExecutionTimeout"]
            ),
            Impact::MayReplace
        );
    }

    #[test]
    fn every_emitted_type_with_a_name_property_is_replaced_by_a_rename() {
        for (t, name) in [
            ("AWS::SQS::Queue", "QueueName"),
            ("AWS::SNS::Topic", "TopicName"),
            ("AWS::DynamoDB::Table", "TableName"),
            ("AWS::Lambda::Function", "FunctionName"),
            ("AWS::IAM::Role", "RoleName"),
            ("AWS::Logs::LogGroup", "LogGroupName"),
            ("AWS::StepFunctions::StateMachine", "StateMachineName"),
            ("AWS::Events::EventBus", "Name"),
        ] {
            assert!(replacing_properties(t).contains(&name), "{t} {name}");
        }
    }
}
