//! Diff speed: the largest blueprint stack against a modified copy of itself (every queue's
//! visibility timeout changed, one function renamed, one policy widened), diffed and rendered
//! in all three formats; and every blueprint stack against itself.
//!
//! `cargo bench --bench diff` prints the median and the fastest of several runs. Figures go
//! to BENCHMARKS.md; tests never assert on time.

use ordersctl::constructs::App;
use ordersctl::diff::{diff_stack, render, DiffContext};
use ordersctl::synth::synthesize;
use ordersctl::template::Template;
use serde_json::Value;

#[allow(dead_code)]
#[path = "../blueprints/mod.rs"]
mod blueprints;
mod support;
use support::measure;

fn modified(t: &Template) -> Template {
    let mut v = t.to_json_value();
    let resources = v["Resources"].as_object_mut().expect("resources");
    for r in resources.values_mut() {
        if r["Type"] == "AWS::SQS::Queue" {
            r["Properties"]["VisibilityTimeout"] = Value::from(901);
        }
        if r["Type"] == "AWS::IAM::Policy" {
            r["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] = Value::from("*");
        }
    }
    let function = resources
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::Lambda::Function")
        .map(|(k, _)| k.clone())
        .expect("a function");
    let f = resources.remove(&function).expect("present");
    resources.insert(format!("{function}Renamed"), f);
    Template::from_json_value(&v).expect("parses")
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let app = blueprints::app_with(App::new()).expect("blueprints build");
    let asm = synthesize(&app).expect("synth");
    let largest = asm
        .stacks
        .iter()
        .max_by_key(|s| s.template.resources.len())
        .expect("stacks");
    let changed = modified(&largest.template);
    let ctx = DiffContext::from_stacks(asm.stacks.iter().map(|s| (s.name.as_str(), &s.template)));
    let name = format!(
        "{} ({} resources) vs modified copy",
        largest.name,
        largest.template.resources.len()
    );
    measure(&name, "bytes out", 200, &|| {
        let d = [diff_stack(&largest.name, &largest.template, &changed, &ctx)];
        render::text(&d, false).len() + render::markdown(&d).len() + render::json(&d).len()
    });
    measure(
        "every blueprint stack vs itself (text)",
        "bytes out",
        200,
        &|| {
            let diffs: Vec<_> = asm
                .stacks
                .iter()
                .map(|s| diff_stack(&s.name, &s.template, &s.template, &ctx))
                .collect();
            render::text(&diffs, false).len()
        },
    );
}
