//! Limits on templates read from outside (`check --template`, `diff`, `deploy --app`),
//! refused at once so a hostile file cannot make ordersctl slow. They sit far above
//! CloudFormation's own (a 1 MB template body, 500 resources), so no real template meets them.

/// Largest template read, in bytes (CloudFormation accepts 1 MB from S3).
pub const MAX_TEMPLATE_BYTES: usize = 10 * 1024 * 1024;
/// Most resources in one template (CloudFormation allows 500).
pub const MAX_RESOURCES: usize = 20_000;
/// Deepest nesting of mappings and lists (serde_json's own recursion limit, and the YAML reader's;
/// the deepest real template nests about 15 levels).
pub const MAX_DEPTH: usize = 128;

/// The size check, before anything is parsed.
pub fn check_size(len: usize) -> Result<(), String> {
    if len > MAX_TEMPLATE_BYTES {
        Err(format!(
            "the template is {len} bytes; ordersctl reads templates up to {MAX_TEMPLATE_BYTES} bytes (10 MiB; CloudFormation's own limit is 1 MB)"
        ))
    } else {
        Ok(())
    }
}

/// The message for nesting past [`MAX_DEPTH`].
pub fn too_deep(at: &str) -> String {
    format!("{at}: nesting is deeper than {MAX_DEPTH} levels, the most ordersctl reads")
}

/// The first line where YAML flow collections (`[` and `{`) nest deeper than [`MAX_DEPTH`],
/// found in one pass. The YAML parser's own limit comes only after it has read every token,
/// in time that grows with the square of the depth (100,000 levels took 36 s), so deep flow
/// nesting is refused before parsing. Block nesting needs an indentation per level, so the
/// size limit already bounds it.
pub fn yaml_flow_too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    // Inside a block scalar (`|` or `>`): lines indented deeper than this are its content.
    let mut block_scalar: Option<usize> = None;
    for (n, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = block_scalar {
            if line.trim().is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let bytes = line.as_bytes();
        let mut i = indent;
        // Where a flow collection may start outside one: a value's first character.
        let mut value_start = true;
        while i < bytes.len() {
            let c = bytes[i];
            match c {
                b'#' if i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t' => break,
                b'"' | b'\'' if depth > 0 || value_start => {
                    i = skip_quoted(bytes, i);
                    value_start = false;
                    continue;
                }
                b'[' | b'{' if depth > 0 || value_start => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(n + 1);
                    }
                }
                b']' | b'}' if depth > 0 => depth -= 1,
                b' ' | b'\t' => {
                    i += 1;
                    continue;
                }
                b'-' if depth == 0
                    && value_start
                    && bytes.get(i + 1).is_none_or(|b| *b == b' ') =>
                {
                    i += 1;
                    continue;
                }
                b':' if depth == 0 && bytes.get(i + 1).is_none_or(|b| *b == b' ') => {
                    value_start = true;
                    i += 1;
                    continue;
                }
                b'|' | b'>' if depth == 0 && value_start => {
                    block_scalar = Some(indent);
                    break;
                }
                _ => {}
            }
            // Tags (`!Sub`) and anchors keep the value's start open.
            if depth == 0 && value_start && (c == b'!' || c == b'&') {
                while i < bytes.len() && bytes[i] != b' ' {
                    i += 1;
                }
                continue;
            }
            if depth == 0 {
                value_start = false;
            }
            i += 1;
        }
    }
    None
}

/// The index just past a quoted scalar starting at `start` (or the line's end).
fn skip_quoted(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_flow_nesting_is_found_at_its_line() {
        let deep = format!("Resources:\n  A: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert_eq!(yaml_flow_too_deep(&deep), Some(2));
        let mixed = format!("A:\n  - {}\n{}", "{a: ".repeat(100), "[".repeat(40));
        assert_eq!(yaml_flow_too_deep(&mixed), Some(3));
        let ok = format!("A: {}1{}\n", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(yaml_flow_too_deep(&ok), None);
    }

    #[test]
    fn brackets_that_are_not_flow_collections_do_not_count() {
        let many = |s: &str| s.repeat(MAX_DEPTH + 1);
        // In plain and quoted scalars, comments and block scalars.
        let text = format!(
            "A: x{0}\nB: \"{0}\"\nC: '{1}'\n# {0}\nD: !Sub |\n  {0}\n  {1}\nE: [a, \"]]\", '[']\nF: a - {0}\n",
            many("["),
            many("{")
        );
        assert_eq!(yaml_flow_too_deep(&text), None, "{text}");
    }

    #[test]
    fn flow_collections_after_tags_and_dashes_count() {
        let text = format!("A: !GetAtt {}\n- - {}\n", "[".repeat(100), "{".repeat(40));
        assert_eq!(yaml_flow_too_deep(&text), Some(2));
    }
}
