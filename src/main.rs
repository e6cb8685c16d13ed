//! The `ordersctl` binary: the CLI over this repository's blueprints, or over the app that
//! `app = ...` in the project's `ordersctl.toml` names.

#[path = "../blueprints/mod.rs"]
mod blueprints;

fn main() -> std::process::ExitCode {
    ordersctl::cli::Program::grouped("blueprint", &blueprints::groups())
        .defer_to_configured_app()
        .main()
}
