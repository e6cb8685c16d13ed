//! Issue 15's rule: outside tests and doc comments, no CloudFormation property name is written
//! as a string literal in more than one of constructs, checks, diff and the scanner; they take
//! it from `ordersctl::spec` (generated from the registry schemas) instead.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// Which of the four modules a source file belongs to, if any.
fn module_of(relative: &str) -> Option<&'static str> {
    if relative.ends_with("tests.rs") {
        return None;
    }
    if relative == "constructs/scanner.rs" {
        return Some("scanner");
    }
    ["constructs", "checks", "diff"]
        .into_iter()
        .find(|m| relative.starts_with(&format!("{m}/")))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The ordinary string literals of the code: not in `//` comments, attributes, raw strings
/// (JSON examples) or the `#[cfg(test)]` module at the end of a file.
fn code_literals(source: &str) -> Vec<String> {
    let code = match source.find("#[cfg(test)]\nmod ") {
        Some(i) => &source[..i],
        None => source,
    };
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    let mut at_line_start = true;
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                at_line_start = true;
                continue;
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                at_line_start = true;
                continue;
            }
            '#' if at_line_start && chars.peek() == Some(&'[') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                continue;
            }
            'r' if matches!(chars.peek(), Some('#') | Some('"')) => {
                let mut hashes = 0;
                while chars.peek() == Some(&'#') {
                    chars.next();
                    hashes += 1;
                }
                if chars.peek() != Some(&'"') {
                    continue;
                }
                chars.next();
                // Skip to the closing quote followed by as many hashes.
                let mut run: Option<usize> = None;
                for c in chars.by_ref() {
                    match (c, run) {
                        ('"', _) if hashes == 0 => break,
                        ('"', _) => run = Some(0),
                        ('#', Some(n)) => {
                            run = Some(n + 1);
                            if n + 1 == hashes {
                                break;
                            }
                        }
                        _ => run = None,
                    }
                }
            }
            '\'' => {
                // A char literal ('"') or a lifetime ('a): skip a quoted char only.
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("\\") {
                    chars.nth(2);
                } else if rest.chars().nth(1) == Some('\'') {
                    chars.nth(1);
                }
            }
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => s.extend(chars.next()),
                        '"' => break,
                        c => s.push(c),
                    }
                }
                out.push(s);
            }
            c if c.is_whitespace() => continue,
            _ => {}
        }
        at_line_start = false;
    }
    out
}

#[test]
fn no_property_name_is_a_literal_in_two_modules() {
    let mut names: HashSet<&str> = ordersctl::spec::cfn::ALL.iter().copied().collect();
    for (_, facts) in ordersctl::spec::resource_types() {
        names.extend(facts.properties());
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    // name -> module -> files
    let mut seen: BTreeMap<String, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let relative = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let Some(module) = module_of(&relative) else {
            continue;
        };
        let source = std::fs::read_to_string(file).unwrap();
        for literal in code_literals(&source) {
            // A dotted path ("TracingConfig.Mode") names each of its parts.
            for part in literal.split('.') {
                if names.contains(part) {
                    seen.entry(part.to_string())
                        .or_default()
                        .entry(module)
                        .or_default()
                        .insert(relative.clone());
                }
            }
        }
    }
    let repeated: Vec<String> = seen
        .iter()
        .filter(|(_, modules)| modules.len() > 1)
        .map(|(name, modules)| format!("{name}: {modules:?}"))
        .collect();
    assert!(
        repeated.is_empty(),
        "property names written as literals in more than one module (use ordersctl::spec::cfn):\n{}",
        repeated.join("\n")
    );
}

#[test]
fn the_literal_reader_finds_code_strings_only() {
    let source = "//! \"Doc\"\n#[doc = \"Attr\"]\nfn f() { g(\"Code\", r#\"{\"Raw\": 1}\"#, '\"', \"Esc\\\"aped\"); }\n// \"Comment\"\n#[cfg(test)]\nmod tests { \"Test\" }\n";
    assert_eq!(code_literals(source), ["Code", "Esc\"aped"]);
}

mod common;

/// What the DSL writes is what the registry schemas define: every top-level property a
/// blueprint's resource sets exists on its type, and every `Fn::GetAtt` names an attribute
/// (a misspelled name would otherwise reach CloudFormation, or be ignored by a check).
#[test]
fn blueprints_write_only_properties_and_attributes_the_schemas_define() {
    use ordersctl::template::Expr;
    fn get_atts<'e>(e: &'e Expr, out: &mut Vec<(&'e str, &'e str)>) {
        match e {
            Expr::GetAtt(target, attribute) => out.push((&target.logical_id, attribute)),
            Expr::Map(m) => m.values().for_each(|v| get_atts(v, out)),
            Expr::List(items) => items.iter().for_each(|v| get_atts(v, out)),
            _ => {}
        }
    }
    let assembly = common::assembly();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for stack in &assembly.stacks {
        let t = &stack.template;
        for (id, r) in &t.resources {
            let Some(facts) = ordersctl::spec::facts(&r.resource_type) else {
                wrong.push(format!(
                    "{}/{id}: type {} unknown",
                    stack.name, r.resource_type
                ));
                continue;
            };
            for (name, value) in &r.properties {
                checked += 1;
                if !facts.has_property(name) {
                    wrong.push(format!(
                        "{}/{id}: {} has no property {name}",
                        stack.name, r.resource_type
                    ));
                }
                let mut atts = Vec::new();
                get_atts(value, &mut atts);
                for (target, attribute) in atts {
                    let Some(ty) = t.resources.get(target).map(|r| &r.resource_type) else {
                        continue; // another stack's export is checked there
                    };
                    let known =
                        ordersctl::spec::facts(ty).is_some_and(|f| f.has_attribute(attribute));
                    if !known {
                        wrong.push(format!(
                            "{}/{id}: {ty} has no attribute {attribute}",
                            stack.name
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 100, "{checked}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
