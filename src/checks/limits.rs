//! CloudFormation's hard limits, checked before deploy finds them.

use super::model::Model;
use super::Finding;

pub const MAX_RESOURCES: usize = 500;
pub const MAX_OUTPUTS: usize = 200;
pub const MAX_PARAMETERS: usize = 200;
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;
pub const MAX_INLINE_BYTES: usize = 51_200;
pub const MAX_LOGICAL_ID: usize = 255;

/// `weight`: the size of the file the template was read from, or of its JSON rendering, when
/// already known.
pub(crate) fn check(m: &Model, out: &mut Vec<Finding>, weight: Option<super::Weight>) {
    dependencies(m, out);
    let t = m.t;
    if t.resources.len() > MAX_RESOURCES {
        out.push(m.template_wide(
            "ORD019",
            format!(
                "{} resources; CloudFormation allows {MAX_RESOURCES}",
                t.resources.len()
            ),
        ));
    }
    if t.outputs.len() > MAX_OUTPUTS {
        out.push(m.template_wide(
            "ORD020",
            format!(
                "{} outputs; CloudFormation allows {MAX_OUTPUTS}",
                t.outputs.len()
            ),
        ));
    }
    if t.parameters.len() > MAX_PARAMETERS {
        out.push(m.template_wide(
            "ORD020",
            format!(
                "{} parameters; CloudFormation allows {MAX_PARAMETERS}",
                t.parameters.len()
            ),
        ));
    }
    let (size, what) = match weight {
        Some(super::Weight::File(n)) => (n, "file"),
        Some(super::Weight::Rendered(n)) => (n, "template"),
        None => (t.to_json_string().len(), "template"),
    };
    if size > MAX_TEMPLATE_BYTES {
        out.push(m.template_wide(
            "ORD021",
            format!("the {what} is {size} bytes; CloudFormation allows {MAX_TEMPLATE_BYTES}"),
        ));
    } else if size > MAX_INLINE_BYTES {
        out.push(m.template_wide(
            "ORD022",
            format!("the {what} is {size} bytes, over the {MAX_INLINE_BYTES}-byte inline limit"),
        ));
    }
    for id in t
        .resources
        .keys()
        .chain(t.outputs.keys())
        .chain(t.parameters.keys())
    {
        if id.len() > MAX_LOGICAL_ID {
            out.push(m.at(
                id,
                "ORD023",
                format!("the logical ID is {} characters", id.len()),
            ));
        }
    }
}

/// DependsOn entries that name no resource, and the first circle in what resources refer to
/// (DependsOn, Ref, GetAtt): CloudFormation refuses both before creating anything.
fn dependencies(m: &Model, out: &mut Vec<Finding>) {
    let t = m.t;
    for (id, r) in &t.resources {
        for d in &r.depends_on {
            if d == id {
                out.push(m.at(
                    id,
                    "ORD028",
                    format!("resources depend on each other in a circle: {id} -> {id}"),
                ));
            } else if !t.resources.contains_key(d) {
                out.push(m.at(
                    id,
                    "ORD028",
                    format!("DependsOn names `{d}`, which is not a resource of the template"),
                ));
            }
        }
    }
    // Depth-first search with colours; the path on the stack names the circle.
    let edges = |id: &str| -> Vec<String> {
        t.resources
            .get(id)
            .map(|r| {
                r.references()
                    .into_iter()
                    .filter(|x| t.resources.contains_key(x) && x != id)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut done: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for start in t.resources.keys() {
        if done.contains(start) {
            continue;
        }
        let mut path: Vec<String> = vec![start.clone()];
        // The same set as `path`, for constant-time lookups on a long chain.
        let mut on_path: std::collections::HashSet<String> = [start.clone()].into();
        let mut stack: Vec<Vec<String>> = vec![edges(start)];
        while let Some(next) = stack.last_mut() {
            match next.pop() {
                Some(n) if on_path.contains(&n) => {
                    let from = path.iter().position(|p| *p == n).unwrap_or(0);
                    let mut circle: Vec<&str> = path[from..].iter().map(String::as_str).collect();
                    circle.push(&n);
                    out.push(m.at(
                        &n,
                        "ORD028",
                        format!(
                            "resources depend on each other in a circle: {}",
                            circle.join(" -> ")
                        ),
                    ));
                    return;
                }
                Some(n) if done.contains(&n) => {}
                Some(n) => {
                    stack.push(edges(&n));
                    on_path.insert(n.clone());
                    path.push(n);
                }
                None => {
                    stack.pop();
                    if let Some(p) = path.pop() {
                        on_path.remove(&p);
                        done.insert(p);
                    }
                }
            }
        }
    }
}
