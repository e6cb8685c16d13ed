//! Diff speed: the largest blueprint stack against a modified copy of itself (every queue's
//! visibility timeout changed, one function renamed, one policy widened), diffed and rendered
//! in all three formats; and every blueprint stack against itself.
//!
//! `cargo bench --bench diff` prints the median and the fastest of several runs. Figures go
//! to BENCHMARKS.md; tests never assert on time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ordersctl::constructs::App;
use ordersctl::diff::{diff_stack, render, DiffContext};
use ordersctl::synth::synthesize;
use ordersctl::template::Template;
use serde_json::Value;

#[allow(dead_code)]
#[path = "../blueprints/mod.rs"]
mod blueprints;

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

fn measure(name: &str, runs: usize, f: &dyn Fn() -> usize) {
    let size = f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<44} {size:>7} bytes out  median {:>8.3} ms  min {:>8.3} ms  ({runs} runs)",
        ms(times[runs / 2]),
        ms(times[0])
    );
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
    measure(&name, 200, &|| {
        let d = [diff_stack(&largest.name, &largest.template, &changed, &ctx)];
        render::text(&d, false).len() + render::markdown(&d).len() + render::json(&d).len()
    });
    measure("every blueprint stack vs itself (text)", 200, &|| {
        let diffs: Vec<_> = asm
            .stacks
            .iter()
            .map(|s| diff_stack(&s.name, &s.template, &s.template, &ctx))
            .collect();
        render::text(&diffs, false).len()
    });
}
