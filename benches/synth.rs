//! Synth speed: every blueprint, and generated apps of 1,000 and 10,000 constructs.
//!
//! `cargo bench --bench synth` prints one line per case: the median and the fastest of
//! several runs of build (blueprint code) + synthesize + render every template to JSON.
//! Figures go to BENCHMARKS.md; tests never assert on time.

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};

use ordersctl::constructs::{App, Attr, Duration, SynthError};
use ordersctl::synth::synthesize;

#[allow(dead_code)]
#[path = "../blueprints/mod.rs"]
mod blueprints;

/// One "unit" is five constructs: a DLQ, a queue, a table, a function and its SQS event
/// source, with two grants. Units are spread over stacks of 20 (140 resources each), as a
/// large real app would be, since a stack holds at most 500 resources.
const CONSTRUCTS_PER_UNIT: usize = 5;
const UNITS_PER_STACK: usize = 20;

fn generated(app: &App, constructs: usize) -> Result<(), SynthError> {
    let units = constructs / CONSTRUCTS_PER_UNIT;
    for s in 0..units.div_ceil(UNITS_PER_STACK) {
        let stack = app.stack(&format!("Generated{s}"));
        for u in 0..UNITS_PER_STACK.min(units - s * UNITS_PER_STACK) {
            let dlq = stack
                .queue(&format!("Dlq{u}"))
                .retention(Duration::days(14))
                .build()?;
            let q = stack
                .queue(&format!("Queue{u}"))
                .visibility_timeout(Duration::secs(180))
                .dead_letter_queue(&dlq, 3)
                .build()?;
            let t = stack
                .table(&format!("Table{u}"))
                .partition_key("pk", Attr::String)
                .sort_key("sk", Attr::String)
                .build()?;
            let f = stack
                .function(&format!("Worker{u}"))
                .handler_crate("worker")
                .timeout(Duration::secs(30))
                .env("TABLE_NAME", t.name())
                .build()?;
            t.grant_read_write(&f);
            dlq.grant_send(&f);
            f.consume(&q)
                .batch_size(10)
                .report_batch_item_failures()
                .build()?;
        }
    }
    Ok(())
}

/// Build, synthesize and render; returns the number of resources (so nothing is optimized away).
fn run(build: &dyn Fn(&App) -> Result<(), SynthError>) -> usize {
    let app = App::new();
    build(&app).expect("app builds");
    let asm = synthesize(&app).expect("app synthesizes");
    asm.stacks
        .iter()
        .map(|s| black_box(s.template.to_json_string()).len().min(1) * s.template.resources.len())
        .sum()
}

fn measure(name: &str, runs: usize, build: &dyn Fn(&App) -> Result<(), SynthError>) {
    let resources = run(build); // warm-up
    let mut times: Vec<StdDuration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(run(build));
            start.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: StdDuration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<28} {resources:>7} resources  median {:>9.3} ms  min {:>9.3} ms  ({runs} runs)",
        ms(times[runs / 2]),
        ms(times[0])
    );
}

fn main() {
    // `cargo test` runs benches with --bench only when asked; a plain `cargo bench` passes it.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    for b in blueprints::ALL {
        measure(&format!("blueprint {}", b.name), 200, &|app| (b.build)(app));
    }
    for n in [1_000usize, 10_000] {
        measure(
            &format!("generated {n} constructs"),
            if n > 1_000 { 10 } else { 50 },
            &move |app| generated(app, n),
        );
    }
}
