//! The template's entries other than resources: sections (Mappings, Conditions, Globals ...),
//! parameters and outputs, each as added, removed or changed.

use crate::spec::anatomy;
use std::collections::{BTreeMap, BTreeSet};

use super::{Action, EntryChange};
use crate::template::{show, Expr, Output, Template};

/// Everything at the template's top level besides resources, parameters and outputs, as
/// `Section` or `Section.Key` entries.
pub(super) fn section_changes(old: &Template, new: &Template) -> Vec<EntryChange> {
    let all = |t: &Template| -> BTreeMap<String, Expr> {
        let mut m: BTreeMap<String, Expr> = BTreeMap::new();
        let mut add = |section: &str, value: &Expr| match value {
            Expr::Map(entries) if !entries.is_empty() => {
                for (k, v) in entries {
                    m.insert(format!("{section}.{k}"), v.clone());
                }
            }
            other => {
                m.insert(section.to_string(), other.clone());
            }
        };
        for (k, v) in &t.sections {
            add(k, v);
        }
        if !t.conditions.is_empty() {
            add("Conditions", &Expr::Map(t.conditions.clone()));
        }
        if !t.metadata.is_empty() {
            add("Metadata", &Expr::Map(t.metadata.clone()));
        }
        if let Some(d) = &t.description {
            add(anatomy::Description, &Expr::from(d.as_str()));
        }
        m
    };
    keyed_changes(&all(old), &all(new), show)
}

/// Entries added, removed or changed between two maps, each shown by `describe`.
fn keyed_changes<T: PartialEq>(
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
    describe: impl Fn(&T) -> String,
) -> Vec<EntryChange> {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        let (a, b) = (old.get(name), new.get(name));
        let action = match (a, b) {
            (None, Some(_)) => Action::Add,
            (Some(_), None) => Action::Remove,
            (Some(x), Some(y)) if x != y => Action::Modify,
            _ => continue,
        };
        out.push(EntryChange {
            name: name.clone(),
            action,
            old: a.map(&describe),
            new: b.map(&describe),
            cause: None,
        });
    }
    out
}

pub(super) fn parameter_changes(old: &Template, new: &Template) -> Vec<EntryChange> {
    let describe = |p: &crate::template::Parameter| {
        let mut s = p.parameter_type.clone();
        if let Some(d) = &p.default {
            s.push_str(&format!(" = {}", show(d)));
        }
        if !p.allowed_values.is_empty() {
            s.push_str(&format!(" in [{}]", p.allowed_values.join(", ")));
        }
        for (k, v) in &p.constraints {
            s.push_str(&format!(", {k} {}", show(v)));
        }
        s
    };
    keyed_changes(&old.parameters, &new.parameters, describe)
}

fn describe_output(o: &Output) -> String {
    let mut s = show(&o.value);
    if let Some(e) = &o.export_name {
        s.push_str(&format!(" (export {})", show(e)));
    }
    if let Some(d) = &o.description {
        s.push_str(&format!(" \"{d}\""));
    }
    if let Some(c) = &o.condition {
        s.push_str(&format!(" if {c}"));
    }
    s
}

pub(super) fn output_changes(
    old: &Template,
    new: &Template,
    replaced: &BTreeSet<&str>,
) -> Vec<EntryChange> {
    let mut out = Vec::new();
    for (name, o) in &new.outputs {
        let (action, cause) = match old.outputs.get(name) {
            None => (Action::Add, None),
            Some(prev) if prev != o => (Action::Modify, None),
            Some(_) => match o
                .value
                .references()
                .into_iter()
                .find(|r| replaced.contains(r.as_str()))
            {
                Some(r) => (
                    Action::Modify,
                    Some(format!("{r} is replaced, so this value changes")),
                ),
                None => continue,
            },
        };
        out.push(EntryChange {
            name: name.clone(),
            action,
            old: old.outputs.get(name).map(describe_output),
            new: Some(describe_output(o)),
            cause,
        });
    }
    for (name, o) in &old.outputs {
        if !new.outputs.contains_key(name) {
            out.push(EntryChange {
                name: name.clone(),
                action: Action::Remove,
                old: Some(describe_output(o)),
                new: None,
                cause: None,
            });
        }
    }
    out
}
