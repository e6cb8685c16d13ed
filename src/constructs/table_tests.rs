use super::*;
use crate::constructs::App;

fn err(f: impl FnOnce(&Stack) -> Result<(), SynthError>) -> String {
    let app = App::new();
    f(app.stack("S")).expect_err("must fail").to_string()
}

#[test]
fn limits_name_the_construct_path() {
    let k = ("pk", Attr::String);
    let cases = [
        ("partition_key", err(|s| s.table("T").build().map(|_| ()))),
        (
            "table_name",
            err(|s| {
                s.table("T")
                    .partition_key("pk", Attr::String)
                    .table_name("ab")
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "read capacity",
            err(|s| {
                s.table("T")
                    .partition_key("pk", Attr::String)
                    .billing(Billing::Provisioned { read: 0, write: 1 })
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "global indexes",
            err(|s| {
                let mut b = s.table("T").partition_key("pk", Attr::String);
                for i in 0..21 {
                    b = b.global_index(&format!("Index{i}"), k, None);
                }
                b.build().map(|_| ())
            }),
        ),
        (
            "sort key",
            err(|s| {
                s.table("T")
                    .partition_key("pk", Attr::String)
                    .local_index("ByDate", ("d", Attr::String), Projection::All)
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "two types",
            err(|s| {
                s.table("T")
                    .partition_key("pk", Attr::String)
                    .global_index("ByPk", ("pk", Attr::Number), None)
                    .build()
                    .map(|_| ())
            }),
        ),
        (
            "twice",
            err(|s| {
                s.table("T")
                    .partition_key("pk", Attr::String)
                    .global_index("Idx", k, None)
                    .global_index("Idx", k, None)
                    .build()
                    .map(|_| ())
            }),
        ),
    ];
    for (needle, msg) in cases {
        assert!(msg.starts_with("S/T"), "{msg}");
        assert!(msg.contains(needle), "{needle} not in {msg}");
    }
}

#[test]
fn safe_defaults_pitr_on_demand_retain() {
    let app = App::new();
    let s = app.stack("S");
    s.table("T")
        .partition_key("pk", Attr::String)
        .build()
        .unwrap();
    let t = s.state_for_tests().finalize().unwrap();
    let r = &t.resources["T"];
    assert_eq!(r.properties["BillingMode"], "PAY_PER_REQUEST".into());
    assert_eq!(r.deletion_policy, Some(Policy::Retain));
    assert_eq!(
        r.properties["PointInTimeRecoverySpecification"],
        Expr::map([("PointInTimeRecoveryEnabled", Expr::from(true))])
    );
}
