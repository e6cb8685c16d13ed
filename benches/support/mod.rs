//! Timing shared by the bench binaries: one warm-up run, then `runs` timed runs; prints the
//! median and the fastest.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Time `f`, which returns a size to print (bytes out, resources, ...), labelled `unit`.
pub fn measure(name: &str, unit: &str, runs: usize, f: &dyn Fn() -> usize) {
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
        "{name:<48} {size:>9} {unit}  median {:>9.3} ms  min {:>9.3} ms  ({runs} runs)",
        ms(times[runs / 2]),
        ms(times[0])
    );
}
