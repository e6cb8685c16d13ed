//! Every blueprint stack's template, pinned. A changed template fails until the snapshot in
//! `snapshots/` is reviewed (`cargo insta review`) and accepted.

mod common;

#[test]
fn every_blueprint_stack_template_is_pinned() {
    let assembly = common::assembly();
    assert!(!assembly.stacks.is_empty());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for stack in &assembly.stacks {
            insta::assert_snapshot!(
                format!("{}.template.json", stack.name),
                stack.template.to_json_string()
            );
        }
    });
}

#[test]
fn every_blueprint_appears_with_its_stacks() {
    let names: Vec<&str> = common::blueprints::ALL.iter().map(|b| b.name).collect();
    assert!(names.contains(&"order-pipeline"));
    let program = ordersctl::cli::Program::grouped("blueprint", &common::blueprints::groups());
    assert_eq!(program.group_of("OrderPipeline"), Some("order-pipeline"));
}
