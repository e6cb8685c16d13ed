//! The `ordersctl` binary: parse the command line, run the verb, map errors to exit codes.

#[path = "../blueprints/mod.rs"]
mod blueprints;
mod cli;

fn main() {
    std::process::exit(cli::run(std::env::args_os()));
}
