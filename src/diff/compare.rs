//! Two templates of one stack → [`StackDiff`]: structural property changes with their
//! replacement impact, replacements followed through the references to them, renames, exports
//! in use, and IAM.

use std::collections::{BTreeMap, BTreeSet};

use super::entries::{output_changes, parameter_changes, section_changes};
use super::iam::security_changes_renamed;
use super::properties::{display_path, lookup_path, property_changes, reference_paths, value_at};
use super::replacement::{update_impact, Impact};
use super::{Action, DiffContext, EntryChange, PropertyChange, ResourceDiff, StackDiff};
use crate::template::show;
use crate::template::{Expr, Output, Resource, Template};

/// Types whose deletion loses data: a rename of one gets a loud warning.
const DATA_TYPES: [&str; 5] = [
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::S3::Bucket",
    "AWS::Logs::LogGroup",
    "AWS::KMS::Key",
];

/// Same model on both sides: a synthesized template carries stack identities in its
/// references that a parsed one does not; the JSON round trip drops them.
fn normalized(t: &Template) -> Template {
    Template::from_json_value(&t.to_json_value()).unwrap_or_else(|_| t.clone())
}

/// Compare the deployed (or previous) template with the new one.
pub fn diff_stack(stack: &str, old: &Template, new: &Template, ctx: &DiffContext) -> StackDiff {
    let (old, new) = (normalized(old), normalized(new));
    let mut resources = modified_and_added(&old, &new);
    for (id, r) in &old.resources {
        if !new.resources.contains_key(id) {
            resources.push(ResourceDiff {
                logical_id: id.clone(),
                resource_type: r.resource_type.clone(),
                action: Action::Remove,
                impact: None,
                changes: Vec::new(),
                renamed: None,
            });
        }
    }
    propagate_replacements(&new, &mut resources);
    let mut warnings = pair_renames(&old, &new, &mut resources);
    for r in &resources {
        // The property that names the resource (from the registry schemas), when it is set.
        let named = new.resources.get(&r.logical_id).and_then(|res| {
            super::replacement::name_property(&res.resource_type)
                .filter(|p| res.properties.contains_key(*p))
        });
        // A new name lets the replacement be created beside the old resource; the same one
        // does not.
        let renamed_too = named.is_some_and(|n| r.changes.iter().any(|c| c.path == *n));
        if let (Some(Impact::Replace), Some(name), false) = (r.impact, named, renamed_too) {
            warnings.push(format!(
                "{} ({}) must be replaced but sets {name}: CloudFormation cannot create the replacement while the old one holds the name; the update will fail unless the name changes too",
                r.logical_id, r.resource_type
            ));
        }
    }
    let replaced: BTreeSet<&str> = resources
        .iter()
        .filter(|r| r.impact >= Some(Impact::MayReplace))
        .map(|r| r.logical_id.as_str())
        .collect();
    let outputs = output_changes(&old, &new, &replaced);
    let renames: BTreeMap<String, String> = resources
        .iter()
        .filter(|r| r.action == Action::Remove)
        .filter_map(|r| Some((r.logical_id.clone(), r.renamed.clone()?)))
        .collect();
    warnings.extend(exports_in_use(&old, &outputs, ctx));
    StackDiff {
        stack: stack.to_string(),
        sections: section_changes(&old, &new),
        parameters: parameter_changes(&old, &new),
        resources,
        outputs,
        // A SAM function's Policies are its role's: compared as the templates they become.
        security: security_changes_renamed(
            &crate::template::sam::expand(&old),
            &crate::template::sam::expand(&new),
            &renames,
        ),
        warnings,
    }
}

fn modified_and_added(old: &Template, new: &Template) -> Vec<ResourceDiff> {
    let mut out = Vec::new();
    for (id, r) in &new.resources {
        let Some(o) = old.resources.get(id) else {
            out.push(ResourceDiff {
                logical_id: id.clone(),
                resource_type: r.resource_type.clone(),
                action: Action::Add,
                impact: None,
                changes: Vec::new(),
                renamed: None,
            });
            continue;
        };
        if o == r {
            continue;
        }
        let mut changes: Vec<PropertyChange> = property_changes(o, r)
            .into_iter()
            .map(|(path, a, b)| {
                let attribute = matches!(path.first(), Some(super::properties::Segment::Key(k)) if k.starts_with('('));
                PropertyChange {
                    impact: if attribute {
                        Impact::NoInterruption
                    } else {
                        update_impact(&r.resource_type, &lookup_path(&path))
                    },
                    path: display_path(&path),
                    old: a,
                    new: b,
                    cause: None,
                }
            })
            .collect();
        if o.resource_type != r.resource_type {
            changes.insert(
                0,
                PropertyChange {
                    path: "(Type)".into(),
                    old: Some(Expr::from(o.resource_type.as_str())),
                    new: Some(Expr::from(r.resource_type.as_str())),
                    impact: Impact::Replace,
                    cause: Some("CloudFormation cannot change a resource's type in place".into()),
                },
            );
        }
        if changes.is_empty() {
            continue; // only the form differs (a DependsOn string against a one-item list)
        }
        out.push(ResourceDiff {
            logical_id: id.clone(),
            resource_type: r.resource_type.clone(),
            action: Action::Modify,
            impact: changes.iter().map(|c| c.impact).max(),
            changes,
            renamed: None,
        });
    }
    out
}

/// A replaced resource gets a new physical ID and ARN, so every property that refers to it
/// changes value at deploy time, which may replace the referring resource in turn. Followed
/// until nothing more changes.
fn propagate_replacements(new: &Template, diffs: &mut Vec<ResourceDiff>) {
    // Who refers to whom, once: resource positions in template order, per target.
    let ids: Vec<(&String, &Resource)> = new.resources.iter().collect();
    let mut referrers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (pos, (_, r)) in ids.iter().enumerate() {
        let mut targets: BTreeSet<String> = BTreeSet::new();
        for v in r.properties.values() {
            targets.extend(v.references());
        }
        for t in targets {
            referrers.entry(t).or_default().push(pos);
        }
    }
    let mut at: BTreeMap<String, usize> = diffs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.logical_id.clone(), i))
        .collect();
    // Rounds, as a replacement found in one round may replace more in the next. A target is
    // followed in the first round that finds it replaced; following it again would add
    // nothing (every path it reaches already carries a change).
    let mut followed: BTreeSet<String> = BTreeSet::new();
    // The first round follows every replaced resource; later rounds only those the round
    // before made replaced (a chain of N replacements costs N short rounds, not N scans).
    let mut candidates: BTreeSet<String> = diffs.iter().map(|d| d.logical_id.clone()).collect();
    loop {
        let replaced: BTreeMap<String, Impact> = candidates
            .iter()
            .filter(|id| !followed.contains(*id))
            .filter_map(|id| {
                let d = &diffs[*at.get(id)?];
                match d.impact {
                    Some(i @ (Impact::Replace | Impact::MayReplace)) => Some((id.clone(), i)),
                    _ => None,
                }
            })
            .collect();
        if replaced.is_empty() {
            return;
        }
        followed.extend(replaced.keys().cloned());
        candidates.clear();
        // The pairs to visit, in the order a scan of every resource and target meets them.
        let mut pairs: Vec<(usize, &String, Impact)> = Vec::new();
        for (target, how) in &replaced {
            for &pos in referrers.get(target).into_iter().flatten() {
                pairs.push((pos, target, *how));
            }
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
        for (pos, target, how) in pairs {
            let (id, r) = ids[pos];
            if target == id
                || at
                    .get(id)
                    .is_some_and(|&i| diffs[i].action != Action::Modify)
            {
                continue; // added resources are new anyway
            }
            for path in reference_paths(r, target) {
                let shown = display_path(&path);
                let existing = at.get(id).copied();
                if existing.is_some_and(|i| diffs[i].changes.iter().any(|c| c.path == shown)) {
                    continue;
                }
                let impact = update_impact(&r.resource_type, &lookup_path(&path)).min(how);
                let value = value_at(r, &path).cloned();
                let verb = if how == Impact::Replace {
                    "is"
                } else {
                    "may be"
                };
                let change = PropertyChange {
                    path: shown,
                    old: value.clone(),
                    new: value,
                    impact,
                    cause: Some(format!("{target} {verb} replaced, so this value changes")),
                };
                let i = existing.unwrap_or_else(|| {
                    diffs.push(ResourceDiff {
                        logical_id: id.clone(),
                        resource_type: r.resource_type.clone(),
                        action: Action::Modify,
                        impact: Some(Impact::NoInterruption),
                        changes: Vec::new(),
                        renamed: None,
                    });
                    at.insert(id.clone(), diffs.len() - 1);
                    diffs.len() - 1
                });
                diffs[i].changes.push(change);
                diffs[i].impact = diffs[i].changes.iter().map(|c| c.impact).max();
                candidates.insert(id.clone());
            }
        }
    }
}

/// A resource's properties with every reference made anonymous: a renamed construct's
/// children are renamed too, so references differ even when nothing else does.
fn shape(r: &Resource) -> BTreeMap<String, serde_json::Value> {
    fn strip(v: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::Object(m)
                if m.len() == 1 && (m.contains_key("Ref") || m.contains_key("Fn::GetAtt")) =>
            {
                Value::String("<ref>".into())
            }
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), strip(v))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    r.properties
        .iter()
        .map(|(k, v)| (k.clone(), strip(&v.to_json())))
        .collect()
}

type Shape = BTreeMap<String, serde_json::Value>;

fn similarity(a: &Shape, b: &Shape) -> f64 {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    if keys.is_empty() {
        return 1.0;
    }
    let same = keys.iter().filter(|k| a.get(**k) == b.get(**k)).count();
    same as f64 / keys.len() as f64
}

/// How many removal x addition pairs are scored for near matches, in all. Past it (a hostile
/// or wholesale-renamed template), only identical shapes pair up, so diff stays fast.
const NEAR_MATCH_BUDGET: usize = 250_000;

/// Pair removals with additions of the same type and nearly the same properties (renames),
/// best matches first. Returns the warnings for data-holding types.
fn pair_renames(old: &Template, new: &Template, diffs: &mut [ResourceDiff]) -> Vec<String> {
    let of = |action: Action, t: &Template| -> Vec<(usize, Shape)> {
        diffs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.action == action)
            .map(|(i, d)| (i, shape(&t.resources[&d.logical_id])))
            .collect()
    };
    let removed = of(Action::Remove, old);
    let added = of(Action::Add, new);
    // Identical shapes first, in one pass: score 1, paired in template order, as the
    // pairwise search below would pair them.
    let key = |i: usize, s: &Shape| {
        (
            diffs[i].resource_type.clone(),
            serde_json::to_string(s).unwrap_or_default(),
        )
    };
    let mut by_shape: BTreeMap<(String, String), std::collections::VecDeque<usize>> =
        BTreeMap::new();
    for (ai, shape) in &added {
        by_shape.entry(key(*ai, shape)).or_default().push_back(*ai);
    }
    let mut candidates = Vec::new();
    let mut exact = BTreeSet::new();
    for (ri, shape) in &removed {
        if let Some(ai) = by_shape
            .get_mut(&key(*ri, shape))
            .and_then(|q| q.pop_front())
        {
            candidates.push((1.0, *ri, ai));
            exact.extend([*ri, ai]);
        }
    }
    let mut budget = NEAR_MATCH_BUDGET;
    'scoring: for (ri, r_shape) in removed.iter().filter(|(i, _)| !exact.contains(i)) {
        for (ai, a_shape) in added.iter().filter(|(i, _)| !exact.contains(i)) {
            if diffs[*ri].resource_type != diffs[*ai].resource_type {
                continue;
            }
            if budget == 0 {
                break 'scoring;
            }
            budget -= 1;
            let score = similarity(r_shape, a_shape);
            if score >= 0.75 {
                candidates.push((score, *ri, *ai));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut warnings = Vec::new();
    let mut used = BTreeSet::new();
    for (_, ri, ai) in candidates {
        if used.contains(&ri) || used.contains(&ai) {
            continue;
        }
        used.extend([ri, ai]);
        let (from, to) = (diffs[ri].logical_id.clone(), diffs[ai].logical_id.clone());
        let ty = diffs[ri].resource_type.clone();
        diffs[ri].renamed = Some(to.clone());
        diffs[ai].renamed = Some(from.clone());
        if DATA_TYPES.contains(&ty.as_str()) {
            let retained =
                old.resources[&from].deletion_policy == Some(crate::template::Policy::Retain);
            warnings.push(format!(
                "RENAME OF A {}: {from} becomes {to}. CloudFormation creates a new, empty {ty} and {} the old one{}. To keep it, keep the logical ID (override it on the construct).",
                words(ty.rsplit("::").next().unwrap_or(&ty)).to_uppercase(),
                if retained { "retains (orphans)" } else { "DELETES" },
                if retained { "" } else { " with its data" },
            ));
        }
    }
    warnings
}

/// `LogGroup` -> `Log Group`.
fn words(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if i > 0 && c.is_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn export_name(o: &Output) -> Option<String> {
    match o.export_name.as_ref()? {
        Expr::Str(s) => Some(s.clone()),
        other => Some(show(other)),
    }
}

/// CloudFormation refuses to change or remove an export another stack imports.
fn exports_in_use(old: &Template, outputs: &[EntryChange], ctx: &DiffContext) -> Vec<String> {
    let mut out = Vec::new();
    for change in outputs.iter().filter(|c| c.action != Action::Add) {
        let Some(name) = old.outputs.get(&change.name).and_then(export_name) else {
            continue;
        };
        if let Some(importers) = ctx.imports.get(&name) {
            let what = if change.action == Action::Remove {
                "removes"
            } else {
                "changes"
            };
            out.push(format!(
                "this {what} export {name} (output {}), which {} imports: CloudFormation refuses to change or delete an export in use; remove the import first",
                change.name,
                importers.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(v: serde_json::Value) -> Template {
        Template::from_json_value(&v).unwrap()
    }

    fn table(sort_key: &str) -> serde_json::Value {
        json!({"Type": "AWS::DynamoDB::Table", "Properties": {
            "KeySchema": [{"AttributeName": "orderId", "KeyType": "HASH"},
                          {"AttributeName": sort_key, "KeyType": "RANGE"}]}})
    }

    #[test]
    fn a_replacement_reaches_what_refers_to_it() {
        let function = json!({"Type": "AWS::Lambda::Function", "Properties": {
            "Environment": {"Variables": {"TABLE": {"Ref": "Orders"}}}}});
        let mapping = json!({"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Orders", "StreamArn"]}, "FunctionName": {"Ref": "Fn"}}});
        let old =
            t(json!({"Resources": {"Orders": table("createdAt"), "Fn": function, "Map": mapping}}));
        let new =
            t(json!({"Resources": {"Orders": table("placedAt"), "Fn": function, "Map": mapping}}));
        let d = diff_stack("S", &old, &new, &DiffContext::default());
        let by_id = |id: &str| d.resources.iter().find(|r| r.logical_id == id).unwrap();
        assert_eq!(by_id("Orders").impact, Some(Impact::Replace));
        assert_eq!(by_id("Fn").impact, Some(Impact::NoInterruption));
        assert_eq!(by_id("Fn").changes[0].path, "Environment.Variables.TABLE");
        assert_eq!(
            by_id("Fn").changes[0].cause.as_deref(),
            Some("Orders is replaced, so this value changes")
        );
        // The mapping's source is create-only: replaced in turn.
        assert_eq!(by_id("Map").impact, Some(Impact::Replace));
        assert_eq!(
            d.summary(),
            "S: 0 to add, 3 to change (2 replacements), 0 to remove"
        );
    }

    #[test]
    fn a_renamed_table_is_called_out_loudly() {
        let old = t(json!({"Resources": {"Orders": table("createdAt")}}));
        let new = t(json!({"Resources": {"OrdersV2": table("createdAt")}}));
        let d = diff_stack("S", &old, &new, &DiffContext::default());
        assert_eq!(d.resources[0].renamed.as_deref(), Some("Orders"));
        assert!(
            d.warnings[0].starts_with("RENAME OF A TABLE: Orders becomes OrdersV2"),
            "{:?}",
            d.warnings
        );
    }

    #[test]
    fn unrelated_additions_and_removals_are_not_renames() {
        let old = t(
            json!({"Resources": {"A": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60, "MessageRetentionPeriod": 60}}}}),
        );
        let new = t(
            json!({"Resources": {"B": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30, "FifoQueue": true}}}}),
        );
        let d = diff_stack("S", &old, &new, &DiffContext::default());
        assert!(d.resources.iter().all(|r| r.renamed.is_none()));
        assert!(d.warnings.is_empty());
    }

    #[test]
    fn an_export_in_use_cannot_go() {
        let old = t(json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
            "Outputs": {"QArn": {"Value": {"Fn::GetAtt": ["Q", "Arn"]}, "Export": {"Name": "S:QArn"}}}}));
        let new = t(json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}));
        let ctx = DiffContext {
            imports: [("S:QArn".to_string(), vec!["Api".to_string()])].into(),
        };
        let d = diff_stack("S", &old, &new, &ctx);
        assert_eq!(d.outputs[0].action, Action::Remove);
        assert!(d.warnings[0].contains("removes export S:QArn (output QArn), which Api imports"));
        assert_eq!(
            d.summary(),
            "S: 0 to add, 0 to change, 0 to remove; 1 output change(s); 1 warning(s)"
        );
    }

    #[test]
    fn identical_templates_have_no_differences() {
        let a = t(json!({"Resources": {"Orders": table("createdAt")}}));
        let d = diff_stack("S", &a, &a, &DiffContext::default());
        assert!(d.is_empty());
        assert_eq!(d.summary(), "S: no differences");
    }
}
