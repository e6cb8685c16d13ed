//! The whole CLI over this project's stacks: `cargo run --bin infra -- synth`, `-- diff`,
//! `-- deploy` ... (`ordersctl` runs it through `app` in ordersctl.toml).

fn main() -> std::process::ExitCode {
    ordersctl::cli::main(infra::stacks)
}
