//! Terminal text, coloured when asked (a TTY without NO_COLOR).

use super::super::{show, Action, Impact, StackDiff};
use super::sign;
use crate::spec::anatomy;

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn action(&self, a: Action, s: &str) -> String {
        match a {
            Action::Add => self.wrap("32", s),
            Action::Modify => self.wrap("33", s),
            Action::Remove => self.wrap("31", s),
        }
    }
    fn impact(&self, i: Impact) -> String {
        match i {
            Impact::Replace => self.wrap("1;31", "REPLACE"),
            Impact::MayReplace => self.wrap("1;33", "MAY REPLACE"),
            Impact::Unknown => self.wrap("1;35", "IMPACT UNKNOWN"),
            Impact::NoInterruption => "no interruption".into(),
        }
    }
}

fn value(v: &Option<crate::template::Expr>) -> String {
    v.as_ref().map(show).unwrap_or_else(|| "(none)".into())
}

/// The diffs as terminal text.
///
/// ```
/// use ordersctl::diff::{diff_stack, render, DiffContext};
/// use ordersctl::template::Template;
/// let t = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#).unwrap();
/// let d = diff_stack("Orders", &Template::default(), &t, &DiffContext::default());
/// let out = render::text(&[d], false);
/// assert!(out.contains("[+] Q AWS::SQS::Queue"));
/// assert!(out.ends_with("Orders: 1 to add, 0 to change, 0 to remove\n"));
/// ```
pub fn text(diffs: &[StackDiff], color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    for d in diffs {
        out.push_str(&p.wrap("1", &format!("Stack {}", d.stack)));
        out.push('\n');
        if d.is_empty() {
            out.push_str("  no differences\n\n");
            continue;
        }
        for w in &d.warnings {
            out.push_str(&format!("  {} {w}\n", p.wrap("1;31", "WARNING")));
        }
        for (title, entries) in [
            ("Template", &d.sections),
            (anatomy::Parameters, &d.parameters),
        ] {
            if entries.is_empty() {
                continue;
            }
            out.push_str(&format!("  {title}\n"));
            for e in entries {
                out.push_str(&format!(
                    "  {} {}: {} -> {}\n",
                    p.action(e.action, &format!("[{}]", sign(e.action))),
                    e.name,
                    e.old.as_deref().unwrap_or("(none)"),
                    e.new.as_deref().unwrap_or("(none)")
                ));
            }
        }
        if !d.resources.is_empty() {
            out.push_str("  Resources\n");
        }
        for r in &d.resources {
            let mut line = format!(
                "  {} {} {}",
                p.action(r.action, &format!("[{}]", sign(r.action))),
                r.logical_id,
                r.resource_type
            );
            if let Some(i) = r.impact {
                line.push_str(&format!("  {}", p.impact(i)));
            }
            match (r.action, &r.renamed) {
                (Action::Add, Some(from)) => line.push_str(&format!("  (renamed from {from})")),
                (Action::Remove, Some(to)) => line.push_str(&format!("  (renamed to {to})")),
                _ => {}
            }
            out.push_str(&line);
            out.push('\n');
            for c in &r.changes {
                let change = match &c.cause {
                    Some(cause) => format!("{} ({cause})", value(&c.new)),
                    None => format!("{} -> {}", value(&c.old), value(&c.new)),
                };
                out.push_str(&format!(
                    "        {}: {change}  [{}]\n",
                    c.path,
                    c.impact.label()
                ));
            }
        }
        if !d.outputs.is_empty() {
            out.push_str("  Outputs\n");
            for e in &d.outputs {
                let change = match (&e.cause, e.action) {
                    (Some(cause), _) => format!("{} ({cause})", e.new.as_deref().unwrap_or("")),
                    (None, Action::Add) => e.new.clone().unwrap_or_default(),
                    (None, Action::Remove) => e.old.clone().unwrap_or_default(),
                    (None, Action::Modify) => format!(
                        "{} -> {}",
                        e.old.as_deref().unwrap_or(""),
                        e.new.as_deref().unwrap_or("")
                    ),
                };
                out.push_str(&format!(
                    "  {} {}: {change}\n",
                    p.action(e.action, &format!("[{}]", sign(e.action))),
                    e.name
                ));
            }
        }
        if !d.security.is_empty() {
            out.push_str(&format!(
                "  IAM and resource policies{}\n",
                if d.broadens() {
                    p.wrap("1;31", " (BROADENED)")
                } else {
                    String::new()
                }
            ));
            for s in &d.security {
                let a = if s.change == "add" {
                    Action::Add
                } else {
                    Action::Remove
                };
                let st = &s.statement;
                let broadens = if s.broadens {
                    p.wrap("1;31", "  broadens")
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "  {} {}  [{} {}]{broadens}\n",
                    p.action(a, &format!("[{}]", sign(a))),
                    st.summary(),
                    st.owner,
                    st.owner_type,
                ));
            }
        }
        out.push('\n');
    }
    for d in diffs {
        out.push_str(&d.summary());
        out.push('\n');
    }
    out
}
