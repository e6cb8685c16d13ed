//! Golden pairs (rain's `x-template` -> `x-expect` idea): each `tests/fixtures/diff/<case>/`
//! holds the deployed `old.json` and the synthesized `new.json` (and optionally an
//! `importer.json` stack importing from it); the text, markdown and JSON diffs are pinned as
//! insta snapshots in `snapshots/diff/`, and the facts each case exists for are asserted.

use std::path::{Path, PathBuf};

use ordersctl::diff::{diff_stack, render, Action, DiffContext, Impact, StackDiff};
use ordersctl::template::Template;

fn case_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diff")
        .join(case)
}

fn read(path: &Path) -> Template {
    Template::from_json_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Diff one case and pin its three renderings.
fn golden(case: &str) -> StackDiff {
    let dir = case_dir(case);
    let importer = dir.join("importer.json");
    let importer = importer.exists().then(|| read(&importer));
    let ctx = DiffContext::from_stacks(importer.iter().map(|t| ("Importer", t)));
    let d = diff_stack(
        "Stack",
        &read(&dir.join("old.json")),
        &read(&dir.join("new.json")),
        &ctx,
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/diff");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        let one = std::slice::from_ref(&d);
        insta::assert_snapshot!(format!("{case}.txt"), render::text(one, false));
        insta::assert_snapshot!(format!("{case}.md"), render::markdown(one));
        insta::assert_snapshot!(format!("{case}.json"), render::json(one));
    });
    d
}

fn resource<'a>(d: &'a StackDiff, id: &str) -> &'a ordersctl::diff::ResourceDiff {
    d.resources
        .iter()
        .find(|r| r.logical_id == id)
        .unwrap_or_else(|| panic!("{id} not in the diff: {d:#?}"))
}

#[test]
fn table_key_change_replaces_the_table_and_its_stream_mapping() {
    let d = golden("table-key-change");
    let orders = resource(&d, "Orders");
    assert_eq!(orders.impact, Some(Impact::Replace));
    assert!(orders
        .changes
        .iter()
        .any(|c| c.path == "KeySchema[1].AttributeName"));
    // The stream ARN changes with the table; a mapping's source is create-only.
    assert_eq!(
        resource(&d, "ProjectorStream").impact,
        Some(Impact::Replace)
    );
    assert_eq!(
        resource(&d, "Projector").impact,
        Some(Impact::NoInterruption)
    );
    assert!(d.summary().contains("(2 replacements)"), "{}", d.summary());
}

#[test]
fn fifo_change_replaces_the_queue() {
    let d = golden("queue-fifo-change");
    assert_eq!(resource(&d, "Orders").impact, Some(Impact::Replace));
    // The queue policy names the queue by URL and ARN: both change, in place.
    assert_eq!(
        resource(&d, "OrdersPolicy").impact,
        Some(Impact::NoInterruption)
    );
}

#[test]
fn visibility_timeout_changes_in_place() {
    let d = golden("visibility-timeout");
    assert_eq!(d.resources.len(), 1);
    assert_eq!(
        resource(&d, "OrderCreatedQueue").impact,
        Some(Impact::NoInterruption)
    );
    assert_eq!(d.summary(), "Stack: 0 to add, 1 to change, 0 to remove");
}

#[test]
fn a_renamed_function_is_called_out_and_its_log_group_loudly() {
    let d = golden("function-rename");
    assert_eq!(
        resource(&d, "OrderHandler").renamed.as_deref(),
        Some("OrderProcessor")
    );
    assert_eq!(resource(&d, "OrderProcessor").action, Action::Remove);
    assert_eq!(
        resource(&d, "OrderHandlerLogGroup").renamed.as_deref(),
        Some("OrderProcessorLogGroup")
    );
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    // The renamed role keeps its trust policy: nothing widens.
    assert!(d.security.is_empty(), "{:?}", d.security);
    assert!(d.warnings[0]
        .starts_with("RENAME OF A LOG GROUP: OrderProcessorLogGroup becomes OrderHandlerLogGroup"));
}

#[test]
fn widened_iam_is_flagged() {
    let d = golden("widened-iam");
    assert!(d.broadens());
    assert!(d.summary().ends_with("; IAM broadened"), "{}", d.summary());
    let added = d.security.iter().find(|s| s.change == "add").unwrap();
    assert_eq!(added.statement.resources, ["*"]);
    assert_eq!(added.statement.principals, ["role ProcessorRole"]);
}

#[test]
fn a_removed_export_in_use_is_flagged() {
    let d = golden("export-in-use");
    assert_eq!(d.outputs[0].action, Action::Remove);
    assert_eq!(d.warnings.len(), 1);
    assert!(
        d.warnings[0].contains("export Data:OrdersArn (output OrdersArn), which Importer imports")
    );
}

#[test]
fn a_replacement_is_followed_through_sub_references() {
    let d = golden("sub-reference");
    assert_eq!(resource(&d, "Queue").impact, Some(Impact::Replace));
    // Its name changes with it, so the replacement can be created: no name-clash warning.
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    // Referred to only inside a Fn::Sub string: replaced too (Endpoint is create-only).
    let subscription = resource(&d, "Subscription");
    assert_eq!(subscription.impact, Some(Impact::Replace));
    assert!(subscription.changes.iter().any(|c| c.path == "Endpoint"
        && c.cause
            .as_deref()
            .is_some_and(|x| x.contains("Queue is replaced"))));
}

#[test]
fn a_vpc_cidr_change_replaces_the_vpc_and_what_depends_on_it() {
    // AWS::EC2::* is no type ordersctl emits: its facts come from the registry schemas.
    let d = golden("vpc-cidr");
    for id in ["Vpc", "Subnet", "Group", "Server"] {
        assert_eq!(
            resource(&d, id).impact,
            Some(Impact::Replace),
            "{id}: {d:#?}"
        );
    }
}

#[test]
fn a_change_to_a_type_nobody_describes_is_impact_unknown_never_no_interruption() {
    let d = golden("unknown-type");
    for id in ["Seeder", "Monitor"] {
        assert_eq!(resource(&d, id).impact, Some(Impact::Unknown), "{id}");
    }
    assert!(!d.is_empty());
}

/// The one template-level entry of a case: its name, and that --fail would see it.
fn only_section(d: &StackDiff) -> &str {
    assert!(!d.is_empty());
    assert!(d.resources.is_empty(), "{:#?}", d.resources);
    assert_eq!(d.sections.len(), 1, "{:#?}", d.sections);
    &d.sections[0].name
}

#[test]
fn a_mappings_change_is_a_difference() {
    assert_eq!(only_section(&golden("mappings-change")), "Mappings.Sizes");
}

#[test]
fn a_conditions_change_is_a_difference() {
    assert_eq!(
        only_section(&golden("conditions-change")),
        "Conditions.IsProd"
    );
}

#[test]
fn a_sam_globals_change_is_a_difference() {
    assert_eq!(
        only_section(&golden("sam-globals-change")),
        "Globals.Function"
    );
}

#[test]
fn an_update_policy_change_is_a_change_of_the_resource() {
    let d = golden("update-policy-change");
    let alias = resource(&d, "Alias");
    assert!(
        alias
            .changes
            .iter()
            .any(|c| c.path == "(UpdatePolicy).CodeDeployLambdaAliasUpdate.DeploymentGroupName"),
        "{alias:#?}"
    );
}

#[test]
fn sam_policies_that_widen_a_functions_role_are_flagged() {
    let d = golden("sam-policies-broadened");
    assert!(d.broadens(), "{:#?}", d.security);
    let added: Vec<String> = d
        .security
        .iter()
        .filter(|s| s.broadens)
        .map(|s| format!("{:?}", s.statement))
        .collect();
    assert!(
        added.iter().any(|s| s.contains("AmazonS3FullAccess")),
        "{added:?}"
    );
    assert!(added.iter().any(|s| s.contains("sqs:*")), "{added:?}");
}
