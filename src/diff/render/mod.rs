//! A diff for a terminal ([`text`]), a pull-request comment ([`markdown`]) or a program
//! ([`json`]). Each ends with the one-line summary of every stack.

mod json;
mod markdown;
mod text;

pub use json::json;
pub use markdown::markdown;
pub use text::text;

use super::{Action, Impact};

fn sign(a: Action) -> &'static str {
    match a {
        Action::Add => "+",
        Action::Modify => "~",
        Action::Remove => "-",
    }
}

fn impact_label(i: Option<Impact>) -> &'static str {
    i.map(Impact::label).unwrap_or("")
}
