//! Whether changing a property replaces the resource, from a table generated out of the
//! CloudFormation registry schemas and the CDK service spec (see
//! `scripts/gen-replacement-table.py`), plus reviewed overrides.

use crate::spec::cfn;
use crate::spec::replacement_table;
pub use crate::spec::Impact;

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
/// // Every type of the registry schemas is known, not only those ordersctl emits.
/// assert_eq!(update_impact("AWS::EC2::VPC", &["CidrBlock"]), Impact::Replace);
/// assert_eq!(update_impact("Custom::Seeder", &["Rows"]), Impact::Unknown);
/// ```
pub fn update_impact(resource_type: &str, path: &[&str]) -> Impact {
    let curated: Vec<(&str, Impact)> = replacement_table::TABLE
        .iter()
        .filter(|(t, _, _)| *t == resource_type)
        .map(|(_, p, i)| (*p, *i))
        .collect();
    let entries = if !curated.is_empty() {
        curated
    } else if let Some(entries) = schema_entries(resource_type) {
        entries
    } else if let Some((_, replace)) = SAM_TYPES.iter().find(|(t, _)| *t == resource_type) {
        replace.iter().map(|p| (*p, Impact::Replace)).collect()
    } else {
        return Impact::Unknown;
    };
    let mut worst = Impact::NoInterruption;
    for (entry, impact) in entries {
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
            impact // the change is at or inside the listed property
        } else {
            impact.min(Impact::MayReplace) // the listed property is somewhere inside
        };
        worst = worst.max(this);
    }
    worst
}

/// SAM's resource types (not in the registry schemas): the properties SAM passes on to a
/// create-only property of the resource it generates (a function's `FunctionName` and
/// `PackageType`, a simple table's key and name, a state machine's name and type). Every other
/// property change updates the generated resources in place.
static SAM_TYPES: &[(&str, &[&str])] = &[
    (
        "AWS::Serverless::Function",
        &[cfn::FunctionName, cfn::PackageType],
    ),
    (
        "AWS::Serverless::SimpleTable",
        &["PrimaryKey", cfn::TableName],
    ),
    ("AWS::Serverless::StateMachine", &[cfn::Name, cfn::Type]),
    ("AWS::Serverless::Api", &[]),
    ("AWS::Serverless::HttpApi", &[]),
    (
        "AWS::Serverless::LayerVersion",
        &[
            "LayerName",
            "ContentUri",
            "CompatibleRuntimes",
            "CompatibleArchitectures",
            cfn::Description,
            "LicenseInfo",
        ],
    ),
];

/// The property that names a resource of this type (`QueueName`, `Name` ...), from the
/// registry schemas: a replacement cannot be created while the old resource holds the name.
///
/// ```
/// assert_eq!(ordersctl::diff::name_property("AWS::SQS::Queue"), Some("QueueName"));
/// assert_eq!(ordersctl::diff::name_property("AWS::EC2::SecurityGroup"), Some("GroupName"));
/// assert_eq!(ordersctl::diff::name_property("Custom::Thing"), None);
/// ```
pub fn name_property(resource_type: &str) -> Option<&'static str> {
    crate::spec::facts(resource_type)?.name_property()
}

/// The schema facts of a type, as (path, impact); `None` for a type the schemas lack.
fn schema_entries(resource_type: &str) -> Option<Vec<(&'static str, Impact)>> {
    let facts = crate::spec::facts(resource_type)?;
    let replace = facts.create_only().map(|p| (p, Impact::Replace));
    let may = facts
        .conditionally_create_only()
        .map(|p| (p, Impact::MayReplace));
    Some(replace.chain(may).collect())
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
