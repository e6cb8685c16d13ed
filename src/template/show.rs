//! Values written the way people read templates: intrinsics in their short YAML form
//! (`!GetAtt Orders.Arn`, not a JSON blob), on one line.

use super::Expr;

/// One-line readable form of a value.
///
/// ```
/// use ordersctl::template::show;
/// use ordersctl::template::Expr;
/// assert_eq!(show(&Expr::get_att("Orders", "Arn")), "!GetAtt Orders.Arn");
/// assert_eq!(show(&Expr::from("60")), "\"60\"");
/// ```
pub fn show(e: &Expr) -> String {
    let list = |items: &[Expr]| {
        format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        )
    };
    match e {
        Expr::Null => "null".into(),
        Expr::Bool(b) => b.to_string(),
        Expr::Int(i) => i.to_string(),
        Expr::Float(f) => f.to_string(),
        Expr::Str(s) => quote(s),
        Expr::List(items) => list(items),
        Expr::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}: {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::Ref(t) => format!("!Ref {}", t.logical_id),
        Expr::GetAtt(t, attr) => format!("!GetAtt {}.{attr}", t.logical_id),
        Expr::Sub(s, vars) if vars.is_empty() => format!("!Sub {}", quote(s)),
        Expr::Sub(s, vars) => format!("!Sub [{}, {}]", quote(s), show(&Expr::Map(vars.clone()))),
        Expr::Join(sep, items) => format!("!Join [{}, {}]", quote(sep), list(items)),
        Expr::ImportValue(v) => format!("!ImportValue {}", show(v)),
        Expr::Select(i, v) => format!("!Select [{i}, {}]", show(v)),
        Expr::Split(sep, v) => format!("!Split [{}, {}]", quote(sep), show(v)),
        Expr::GetAZs(v) => format!("!GetAZs {}", show(v)),
        Expr::If(c, a, b) => format!("!If [{c}, {}, {}]", show(a), show(b)),
        Expr::Equals(a, b) => format!("!Equals [{}, {}]", show(a), show(b)),
        Expr::And(items) => format!("!And {}", list(items)),
        Expr::Or(items) => format!("!Or {}", list(items)),
        Expr::Not(v) => format!("!Not [{}]", show(v)),
        Expr::Condition(c) => format!("!Condition {c}"),
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intrinsics_read_like_yaml() {
        let e = Expr::join("", [Expr::get_att("Orders", "Arn"), Expr::from("/index/*")]);
        assert_eq!(show(&e), r#"!Join ["", [!GetAtt Orders.Arn, "/index/*"]]"#);
        let v: serde_json::Value = serde_json::json!({
            "A": {"Ref": "Queue"}, "B": [1, true], "C": {"Fn::ImportValue": "OmniData:OrdersArn"}
        });
        assert_eq!(
            show(&Expr::from_json(&v)),
            r#"{A: !Ref Queue, B: [1, true], C: !ImportValue "OmniData:OrdersArn"}"#
        );
    }
}
