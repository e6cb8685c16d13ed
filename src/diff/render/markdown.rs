//! Markdown for a pull-request comment: a summary table first, details in collapsible
//! sections, the one-line summaries last.

use super::super::{show, Action, StackDiff};
use super::{impact_label, sign};
use crate::spec::anatomy;

/// Inline code no value can break out of: the fence is one backtick longer than the longest
/// run inside (CommonMark), table pipes are escaped and line breaks flattened, so a value
/// holding backticks, `|`, a newline or `<!-- -->` stays one code span in one table cell.
fn code(s: &str) -> String {
    span(&s.replace('|', "\\|"))
}

/// As [`code`], for a list item: there `\|` would show its backslash (only table cells
/// unescape it), and a `|` cannot end anything.
fn code_in_list(s: &str) -> String {
    span(s)
}

fn span(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        return format!("`{s}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {s} {fence}")
}

fn value(v: &Option<crate::template::Expr>) -> String {
    v.as_ref()
        .map(|e| code_in_list(&show(e)))
        .unwrap_or_else(|| "_(none)_".into())
}

/// The diffs as a markdown comment.
///
/// ```
/// use ordersctl::diff::{diff_stack, render, DiffContext};
/// use ordersctl::template::Template;
/// let t = Template::from_json_str(r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#).unwrap();
/// let d = diff_stack("Orders", &Template::default(), &t, &DiffContext::default());
/// let md = render::markdown(&[d]);
/// assert!(md.contains("| Orders | 1 | 0 | 0 | 0 |"));
/// ```
pub fn markdown(diffs: &[StackDiff]) -> String {
    let mut out = String::from("## ordersctl diff\n\n");
    out.push_str("| Stack | Add | Change | Replace | Remove | IAM | Warnings |\n");
    out.push_str("|---|---:|---:|---:|---:|---|---:|\n");
    for d in diffs {
        let n = |a| d.resources.iter().filter(|r| r.action == a).count();
        let (replace, maybe) = d.replacements();
        let iam = if d.broadens() {
            "**broadened**"
        } else if d.security.is_empty() {
            "-"
        } else {
            "changed"
        };
        let replace = if maybe > 0 {
            format!("{replace} (+{maybe} possible)")
        } else {
            replace.to_string()
        };
        out.push_str(&format!(
            "| {} | {} | {} | {replace} | {} | {iam} | {} |\n",
            d.stack,
            n(Action::Add),
            n(Action::Modify),
            n(Action::Remove),
            d.warnings.len()
        ));
    }
    for d in diffs.iter().filter(|d| !d.is_empty()) {
        out.push_str(&format!("\n### {}\n\n", d.stack));
        for w in &d.warnings {
            out.push_str(&format!("> **Warning:** {w}\n\n"));
        }
        if !d.resources.is_empty() {
            out.push_str("| | Resource | Type | Impact |\n|---|---|---|---|\n");
            for r in &d.resources {
                let mut name = code(&r.logical_id);
                match (r.action, &r.renamed) {
                    (Action::Add, Some(from)) => {
                        name.push_str(&format!(" (renamed from {})", code(from)))
                    }
                    (Action::Remove, Some(to)) => {
                        name.push_str(&format!(" (renamed to {})", code(to)))
                    }
                    _ => {}
                }
                let impact = match impact_label(r.impact) {
                    "" => String::new(),
                    "no interruption" => "no interruption".into(),
                    other => format!("**{other}**"),
                };
                out.push_str(&format!(
                    "| {} | {name} | {} | {impact} |\n",
                    sign(r.action),
                    code(&r.resource_type)
                ));
            }
            out.push('\n');
        }
        let modified: Vec<_> = d
            .resources
            .iter()
            .filter(|r| !r.changes.is_empty())
            .collect();
        if !modified.is_empty() {
            out.push_str("<details><summary>Property changes</summary>\n\n");
            for r in modified {
                for c in &r.changes {
                    let change = match &c.cause {
                        Some(cause) => format!("{} ({cause})", value(&c.new)),
                        None => format!("{} → {}", value(&c.old), value(&c.new)),
                    };
                    out.push_str(&format!(
                        "- {} {}: {change}, _{}_\n",
                        code_in_list(&r.logical_id),
                        code_in_list(&c.path),
                        c.impact.label()
                    ));
                }
            }
            out.push_str("\n</details>\n\n");
        }
        for (title, entries) in [
            ("Template", &d.sections),
            (anatomy::Parameters, &d.parameters),
            ("Outputs", &d.outputs),
        ] {
            if entries.is_empty() {
                continue;
            }
            out.push_str(&format!("<details><summary>{title}</summary>\n\n"));
            for e in entries {
                let old = e
                    .old
                    .as_deref()
                    .map(code_in_list)
                    .unwrap_or_else(|| "_(none)_".into());
                let new = e
                    .new
                    .as_deref()
                    .map(code_in_list)
                    .unwrap_or_else(|| "_(none)_".into());
                let cause = e
                    .cause
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                let what = match e.action {
                    Action::Add => "added",
                    Action::Modify => "changed",
                    Action::Remove => "removed",
                };
                out.push_str(&format!(
                    "- {what} {}: {old} → {new}{cause}\n",
                    code_in_list(&e.name)
                ));
            }
            out.push_str("\n</details>\n\n");
        }
        if !d.security.is_empty() {
            out.push_str(&format!(
                "<details{}><summary>IAM and resource policies{}</summary>\n\n",
                if d.broadens() { " open" } else { "" },
                if d.broadens() { " (broadened)" } else { "" }
            ));
            out.push_str("| | Holder | Effect | Principal | Action | Resource | Condition |\n");
            out.push_str("|---|---|---|---|---|---|---|\n");
            for s in &d.security {
                let st = &s.statement;
                let list =
                    |v: &[String]| v.iter().map(|x| code(x)).collect::<Vec<_>>().join("<br>");
                out.push_str(&format!(
                    "| {}{} | {} | {} | {} | {} | {} | {} |\n",
                    if s.change == "add" { "+" } else { "-" },
                    if s.broadens { " **broadens**" } else { "" },
                    code(&st.owner),
                    st.effect,
                    list(&st.principals),
                    list(&st.actions),
                    list(&st.resources),
                    st.condition.as_deref().map(code).unwrap_or_default()
                ));
            }
            out.push_str("\n</details>\n\n");
        }
    }
    out.push('\n');
    for d in diffs {
        out.push_str(&format!("**{}**  \n", d.summary()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{code, code_in_list};

    #[test]
    fn values_stay_inside_their_code_span() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "`` a`b ``");
        // Two backticks inside: a fence of three, so `` cannot close it.
        assert_eq!(code("x``y"), "``` x``y ```");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code_in_list("a|b"), "`a|b`");
        assert_eq!(code("line\nbreak<!-- c -->"), "`line break<!-- c -->`");
    }
}
