//! Property values compared structurally: maps key by key, lists element by element when
//! their lengths agree, so a change is reported at the deepest path that differs.

use crate::spec::anatomy;
use crate::template::{Expr, Resource};

/// A path into a resource: property names and list indexes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// `RedrivePolicy.maxReceiveCount`, `KeySchema[1].AttributeName`.
pub fn display_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Segment::Key(k) if out.is_empty() => out.push_str(k),
            Segment::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The path as the replacement table spells it (`KeySchema/*/AttributeName`).
pub fn lookup_path(path: &[Segment]) -> Vec<&str> {
    path.iter()
        .map(|s| match s {
            Segment::Key(k) => k.as_str(),
            Segment::Index(_) => "*",
        })
        .collect()
}

/// One value that differs: `None` on a side where it is absent.
pub type ValueChange = (Vec<Segment>, Option<Expr>, Option<Expr>);

fn is_container(e: &Expr) -> bool {
    matches!(e, Expr::Map(_) | Expr::List(_))
}

fn walk(
    path: &mut Vec<Segment>,
    old: Option<&Expr>,
    new: Option<&Expr>,
    out: &mut Vec<ValueChange>,
) {
    match (old, new) {
        (Some(Expr::Map(a)), Some(Expr::Map(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                path.push(Segment::Key(k.clone()));
                walk(path, a.get(k), b.get(k), out);
                path.pop();
            }
        }
        (Some(Expr::List(a)), Some(Expr::List(b)))
            if a.len() == b.len() && a.iter().chain(b).any(is_container) =>
        {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(Segment::Index(i));
                walk(path, Some(x), Some(y), out);
                path.pop();
            }
        }
        (a, b) if a != b => out.push((path.clone(), a.cloned(), b.cloned())),
        _ => {}
    }
}

/// Every property value that differs between two versions of a resource, plus the
/// resource attributes (`DeletionPolicy`, `UpdateReplacePolicy`, `DependsOn`, `Condition`,
/// `Metadata`) under their own names.
pub fn property_changes(old: &Resource, new: &Resource) -> Vec<ValueChange> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(
        &mut path,
        Some(&Expr::Map(old.properties.clone())),
        Some(&Expr::Map(new.properties.clone())),
        &mut out,
    );
    let attr = |p: Option<crate::template::Policy>| p.map(|p| Expr::from(p.as_str()));
    let depends = |r: &Resource| {
        (!r.depends_on.is_empty()).then(|| {
            Expr::List(
                r.depends_on
                    .iter()
                    .map(|d| Expr::from(d.as_str()))
                    .collect(),
            )
        })
    };
    let attributes = [
        (
            "DeletionPolicy",
            attr(old.deletion_policy),
            attr(new.deletion_policy),
        ),
        (
            "UpdateReplacePolicy",
            attr(old.update_replace_policy),
            attr(new.update_replace_policy),
        ),
        (anatomy::DependsOn, depends(old), depends(new)),
        (
            anatomy::Condition,
            old.condition.as_deref().map(Expr::from),
            new.condition.as_deref().map(Expr::from),
        ),
    ];
    for (name, a, b) in attributes {
        if a != b {
            out.push((vec![Segment::Key(format!("({name})"))], a, b));
        }
    }
    // UpdatePolicy, CreationPolicy and any other attribute, property by property.
    // DependsOn and an empty Properties kept as written are form: compared above.
    let names: std::collections::BTreeSet<&String> = old
        .attributes
        .keys()
        .chain(new.attributes.keys())
        .filter(|k| !matches!(k.as_str(), anatomy::DependsOn | anatomy::Properties))
        .collect();
    for name in names {
        let mut path = vec![Segment::Key(format!("({name})"))];
        walk(
            &mut path,
            old.attributes.get(name),
            new.attributes.get(name),
            &mut out,
        );
    }
    if old.metadata != new.metadata {
        let mut path = vec![Segment::Key("(Metadata)".into())];
        walk(
            &mut path,
            Some(&Expr::Map(old.metadata.clone())),
            Some(&Expr::Map(new.metadata.clone())),
            &mut out,
        );
    }
    out
}

/// Where in a resource's properties a logical ID is referenced (Ref or GetAtt), as paths to
/// the innermost plain map or list entry holding the reference.
pub fn reference_paths(r: &Resource, target: &str) -> Vec<Vec<Segment>> {
    fn find(e: &Expr, target: &str, path: &mut Vec<Segment>, out: &mut Vec<Vec<Segment>>) {
        match e {
            Expr::Map(m) => {
                for (k, v) in m {
                    path.push(Segment::Key(k.clone()));
                    find(v, target, path, out);
                    path.pop();
                }
            }
            Expr::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(Segment::Index(i));
                    find(v, target, path, out);
                    path.pop();
                }
            }
            other => {
                if other.references().iter().any(|r| r == target) {
                    out.push(path.clone());
                }
            }
        }
    }
    let mut out = Vec::new();
    for (k, v) in &r.properties {
        let mut path = vec![Segment::Key(k.clone())];
        find(v, target, &mut path, &mut out);
    }
    out
}

/// The value at a path.
pub fn value_at<'a>(r: &'a Resource, path: &[Segment]) -> Option<&'a Expr> {
    let (Segment::Key(first), rest) = path.split_first()? else {
        return None;
    };
    let mut cur = r.properties.get(first)?;
    for s in rest {
        cur = match (s, cur) {
            (Segment::Key(k), Expr::Map(m)) => m.get(k)?,
            (Segment::Index(i), Expr::List(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(props: serde_json::Value) -> Resource {
        let mut r = Resource::new("AWS::DynamoDB::Table");
        if let Expr::Map(m) = Expr::from_json(&props) {
            r.properties = m;
        }
        r
    }

    #[test]
    fn the_deepest_differing_path_is_reported() {
        let old = resource(json!({"KeySchema": [
            {"AttributeName": "orderId", "KeyType": "HASH"},
            {"AttributeName": "createdAt", "KeyType": "RANGE"}]}));
        let new = resource(json!({"KeySchema": [
            {"AttributeName": "orderId", "KeyType": "HASH"},
            {"AttributeName": "placedAt", "KeyType": "RANGE"}]}));
        let changes = property_changes(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(display_path(&changes[0].0), "KeySchema[1].AttributeName");
        assert_eq!(
            lookup_path(&changes[0].0),
            ["KeySchema", "*", "AttributeName"]
        );
    }

    #[test]
    fn lists_of_other_lengths_or_scalars_are_compared_whole() {
        let old = resource(json!({"Tags": ["a"], "X": {"Ref": "A"}}));
        let new = resource(json!({"Tags": ["a", "b"], "X": {"Ref": "B"}}));
        let paths: Vec<String> = property_changes(&old, &new)
            .iter()
            .map(|c| display_path(&c.0))
            .collect();
        assert_eq!(paths, ["Tags", "X"]);
    }

    #[test]
    fn references_are_found_where_they_sit() {
        let r = resource(
            json!({"Environment": {"Variables": {"T": {"Ref": "Orders"}, "U": "x"}},
                                "Role": {"Fn::GetAtt": ["Role", "Arn"]}}),
        );
        let paths: Vec<String> = reference_paths(&r, "Orders")
            .iter()
            .map(|p| display_path(p))
            .collect();
        assert_eq!(paths, ["Environment.Variables.T"]);
        assert_eq!(
            value_at(&r, &[Segment::Key("Role".into())]),
            Some(&Expr::get_att("Role", "Arn"))
        );
    }
}
