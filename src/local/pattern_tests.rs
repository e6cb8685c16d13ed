//! Cases from the EventBridge user guide ("Content filtering in Amazon EventBridge event
//! patterns", "Comparison operators for use in event patterns"), each pattern with an event
//! that matches and one that does not.

use super::*;
use serde_json::json;

fn m(p: Value, e: Value) -> bool {
    matches(&p, &e).unwrap()
}

/// The guide's sample EC2 state-change event.
fn ec2_event() -> Value {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
        "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
    })
}

#[test]
fn exact_values_and_and_or_within_a_field() {
    assert!(m(json!({"source": ["aws.ec2"]}), ec2_event()));
    assert!(m(json!({"source": ["aws.s3", "aws.ec2"]}), ec2_event()));
    assert!(!m(json!({"source": ["aws.s3"]}), ec2_event()));
    // Every field must match (and).
    assert!(!m(
        json!({"source": ["aws.ec2"], "detail-type": ["other"]}),
        ec2_event()
    ));
    assert!(m(
        json!({"detail": {"state": ["terminated", "stopped"]}}),
        ec2_event()
    ));
    // Case-sensitive.
    assert!(!m(
        json!({"detail": {"state": ["Terminated"]}}),
        ec2_event()
    ));
}

#[test]
fn missing_fields_fail_and_arrays_match_any_element() {
    assert!(!m(json!({"detail": {"missing": ["x"]}}), ec2_event()));
    assert!(m(
        json!({"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]}),
        ec2_event()
    ));
    // The guide's array example: an event array matches when any value is in the pattern.
    let e = json!({"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f", "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]});
    assert!(m(
        json!({"resources": ["arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f", "x"]}),
        e.clone()
    ));
    assert!(!m(json!({"resources": ["x"]}), e));
}

#[test]
fn null_and_empty_string_are_values() {
    let e = json!({"detail": {"responseElements": null, "name": ""}});
    assert!(m(
        json!({"detail": {"responseElements": [null]}}),
        e.clone()
    ));
    assert!(m(json!({"detail": {"name": [""]}}), e.clone()));
    assert!(!m(json!({"detail": {"name": [null]}}), e));
}

#[test]
fn prefix_and_suffix_with_and_without_case() {
    let e =
        json!({"time": "2017-10-02T18:43:48Z", "FileName": "photo.PNG", "service": "EventBridge"});
    assert!(m(json!({"time": [{"prefix": "2017-10-02"}]}), e.clone()));
    assert!(!m(json!({"time": [{"prefix": "2018"}]}), e.clone()));
    assert!(!m(json!({"FileName": [{"suffix": ".png"}]}), e.clone()));
    assert!(m(
        json!({"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}),
        e.clone()
    ));
    assert!(m(
        json!({"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}),
        e.clone()
    ));
    assert!(m(
        json!({"service": [{"equals-ignore-case": "EVENTBRIDGE"}]}),
        e
    ));
}

#[test]
fn anything_but_forms() {
    let e = |state: Value| json!({"detail": {"state": state}});
    assert!(m(
        json!({"detail": {"state": [{"anything-but": "initializing"}]}}),
        e(json!("running"))
    ));
    assert!(!m(
        json!({"detail": {"state": [{"anything-but": "initializing"}]}}),
        e(json!("initializing"))
    ));
    assert!(!m(
        json!({"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}),
        e(json!("stopped"))
    ));
    assert!(m(
        json!({"detail": {"x-limit": [{"anything-but": 123}]}}),
        json!({"detail": {"x-limit": 456}})
    ));
    assert!(!m(
        json!({"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}),
        json!({"detail": {"x-limit": 200}})
    ));
    assert!(!m(
        json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}),
        e(json!("initializing"))
    ));
    assert!(m(
        json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}),
        e(json!("running"))
    ));
    assert!(!m(
        json!({"FileName": [{"anything-but": {"suffix": ".txt"}}]}),
        json!({"FileName": "a.txt"})
    ));
    assert!(!m(
        json!({"state": [{"anything-but": {"equals-ignore-case": ["initializing", "stopped"]}}]}),
        json!({"state": "STOPPED"})
    ));
    assert!(!m(
        json!({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}),
        json!({"FilePath": "/usr/lib/x"})
    ));
    assert!(m(
        json!({"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}),
        json!({"FilePath": "/usr/bin/x"})
    ));
    // A missing field is not "anything but": it is absent.
    assert!(!m(
        json!({"detail": {"state": [{"anything-but": "initializing"}]}}),
        json!({"detail": {}})
    ));
}

#[test]
fn numeric_ranges() {
    let p = json!({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}], "x-limit": [{"numeric": ["=", 3.018e2]}]}});
    assert!(m(
        p.clone(),
        json!({"detail": {"c-count": 5, "d-count": 7, "x-limit": 301.8}})
    ));
    assert!(!m(
        p.clone(),
        json!({"detail": {"c-count": 0, "d-count": 7, "x-limit": 301.8}})
    ));
    assert!(!m(
        p,
        json!({"detail": {"c-count": 3, "d-count": "7", "x-limit": 301.8}})
    ));
}

#[test]
fn exists_matches_leaves_only() {
    let e = ec2_event();
    assert!(m(
        json!({"detail": {"state": [{"exists": true}]}}),
        e.clone()
    ));
    assert!(!m(
        json!({"detail": {"state": [{"exists": false}]}}),
        e.clone()
    ));
    assert!(m(
        json!({"detail": {"c-count": [{"exists": false}]}}),
        e.clone()
    ));
    // Under a missing parent, exists:false holds.
    assert!(m(
        json!({"nothing": {"here": [{"exists": false}]}}),
        e.clone()
    ));
    assert!(!m(json!({"nothing": {"here": [{"exists": true}]}}), e));
}

#[test]
fn wildcards() {
    let e = |s: &str| json!({"EventBusArn": s});
    let p = json!({"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]});
    assert!(m(
        p.clone(),
        e("arn:aws:events:us-east-1:123456789012:event-bus/orders")
    ));
    assert!(!m(
        p,
        e("arn:aws:events:eu-west-1:123456789012:event-bus/orders")
    ));
    assert!(m(
        json!({"f": [{"wildcard": "dir/*.png"}]}),
        json!({"f": "dir/a.png"})
    ));
    assert!(!m(
        json!({"f": [{"wildcard": "dir/*.png"}]}),
        json!({"f": "dir/a.png.txt"})
    ));
    assert!(m(
        json!({"f": [{"wildcard": "a\\*b"}]}),
        json!({"f": "a*b"})
    ));
    assert!(!m(
        json!({"f": [{"wildcard": "a\\*b"}]}),
        json!({"f": "axb"})
    ));
}

#[test]
fn cidr_blocks() {
    let p = json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}});
    assert!(m(p.clone(), json!({"detail": {"source-ip": "10.0.0.255"}})));
    assert!(!m(p, json!({"detail": {"source-ip": "10.0.1.0"}})));
}

#[test]
fn or_across_fields_and_nested() {
    // The guide's $or example: (c-count > 0 and <= 5) or (d-count < 10) or (x-limit = 301.8).
    let p = json!({"detail": {"$or": [
        {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
        {"d-count": [{"numeric": ["<", 10]}]},
        {"x-limit": [{"numeric": ["=", 3.018e2]}]}
    ]}});
    assert!(m(p.clone(), json!({"detail": {"d-count": 3}})));
    assert!(m(p.clone(), json!({"detail": {"x-limit": 301.8}})));
    assert!(!m(p, json!({"detail": {"c-count": 9, "d-count": 11}})));
    let top = json!({"source": ["aws.ec2"], "$or": [{"detail-type": ["x"]}, {"detail": {"state": ["terminated"]}}]});
    assert!(m(top, ec2_event()));
}

#[test]
fn arrays_of_objects_match_any_element() {
    let e = json!({"detail": {"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 9}]}});
    assert!(m(
        json!({"detail": {"items": {"qty": [{"numeric": [">", 5]}]}}}),
        e.clone()
    ));
    assert!(!m(
        json!({"detail": {"items": {"qty": [{"numeric": [">", 50]}]}}}),
        e
    ));
}

#[test]
fn invalid_patterns_are_errors_naming_the_field() {
    let e = ec2_event();
    let bad = matches(&json!({"detail": {"state": [{"startswith": "t"}]}}), &e).unwrap_err();
    assert_eq!(bad.path, ".detail.state");
    assert!(bad.message.contains("allowed: prefix"), "{bad}");
    assert!(matches(&json!({"source": "aws.ec2"}), &e).is_err());
    assert!(matches(&json!({"source": []}), &e).is_err());
    assert!(matches(&json!({"n": [{"numeric": ["~", 1]}]}), &json!({"n": 1})).is_err());
    assert!(matches(&json!(["x"]), &e).is_err());
}
