//! CloudFormation's hard limits, checked before deploy finds them.

use super::model::Model;
use super::Finding;

pub const MAX_RESOURCES: usize = 500;
pub const MAX_OUTPUTS: usize = 200;
pub const MAX_PARAMETERS: usize = 200;
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;
pub const MAX_INLINE_BYTES: usize = 51_200;
pub const MAX_LOGICAL_ID: usize = 255;

pub fn check(m: &Model, out: &mut Vec<Finding>) {
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
    let size = t.to_json_string().len();
    if size > MAX_TEMPLATE_BYTES {
        out.push(m.template_wide(
            "ORD021",
            format!("the template is {size} bytes; CloudFormation allows {MAX_TEMPLATE_BYTES}"),
        ));
    } else if size > MAX_INLINE_BYTES {
        out.push(m.template_wide(
            "ORD022",
            format!("the template is {size} bytes, over the {MAX_INLINE_BYTES}-byte inline limit"),
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
