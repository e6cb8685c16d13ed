//! `ordersctl local run` speed, wall clock, whole command (moto start, local deploy, handler
//! build check, engine), as a user runs it:
//!
//! - OrderPipeline with the 4 injections of `tests/fixtures/local/order-pipeline.json`,
//!   bundles (dev binaries) already built: median and fastest of several runs;
//! - 250 and 1,000 orders through OrderPipeline: wall time, the engine's own time per hop
//!   (everything but the handlers, as the command reports it), and the command's peak memory
//!   (VmHWM, sampled from /proc while it runs) to show it stays flat as messages grow.
//!
//! Needs `ORDERSCTL_MOTO_SERVER` (set by `scripts/test`) or `moto_server` on PATH.
//! `cargo bench --bench local`; figures go to BENCHMARKS.md; tests never assert on time.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ordersctl");

struct Run {
    wall: Duration,
    summary: String,
    peak_kib: u64,
}

fn local_run(inject: &Path) -> Run {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args([
            "local",
            "run",
            "OrderPipeline",
            "--inject",
            inject.to_str().expect("utf-8 path"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ordersctl");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let reader = {
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut { stderr }, &mut text).ok();
            text
        })
    };
    while child.try_wait().expect("wait").is_none() {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kib) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = started.elapsed();
    let stderr = reader.join().expect("stderr thread");
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("idle after"))
        .unwrap_or_else(|| panic!("the run failed:\n{stderr}"))
        .to_string();
    Run {
        wall,
        summary,
        peak_kib,
    }
}

fn orders(n: usize, dir: &Path) -> std::path::PathBuf {
    let entries: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"queue": "OrderCreatedQueue", "body": {{"orderId": "o-{i}", "customerId": "c-{}", "items": [{{"sku": "A", "quantity": 1}}], "totalAmount": 9.5, "createdAt": "2026-12-01T10:00:00Z"}}}}"#,
                i % 17
            )
        })
        .collect();
    let path = dir.join(format!("orders-{n}.json"));
    std::fs::write(&path, format!("[{}]", entries.join(",\n"))).expect("write the inject file");
    path
}

fn main() {
    if std::env::var_os("ORDERSCTL_MOTO_SERVER").is_none() {
        eprintln!("set ORDERSCTL_MOTO_SERVER to a moto_server (scripts/test installs one into ~/.cache/ordersctl/venv)");
        std::process::exit(1);
    }
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local/order-pipeline.json");
    // Warm-up: builds the handler once (dev profile); later runs find it built.
    local_run(&scenario);
    let mut walls: Vec<Duration> = (0..7).map(|_| local_run(&scenario).wall).collect();
    walls.sort();
    println!(
        "local run OrderPipeline, 4 injections: median {:.2} s, fastest {:.2} s (7 runs)",
        walls[3].as_secs_f64(),
        walls[0].as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    for n in [250, 1000] {
        let r = local_run(&orders(n, dir.path()));
        println!(
            "{n} orders: wall {:.2} s, peak memory {} KiB; {}",
            r.wall.as_secs_f64(),
            r.peak_kib,
            r.summary
        );
    }
}
