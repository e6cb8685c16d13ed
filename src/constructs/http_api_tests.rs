use super::*;
use crate::constructs::App;
use crate::synth::synthesize;

#[test]
fn limits_and_missing_targets_name_the_path() {
    let app = App::new();
    let s = app.stack("S");
    let e = s
        .http_api("Api")
        .throttle(Throttle {
            burst: 6000,
            rate: 1.0,
        })
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("S/Api") && e.contains("throttle burst"),
        "{e}"
    );
    let api = s.http_api("Api").build().unwrap();
    let e = api
        .route(HttpMethod::Post, "/orders")
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("S/Api/PostOrders") && e.contains("needs a target"),
        "{e}"
    );
    let f = s.function("F").handler_crate("f").build().unwrap();
    let e = api
        .route(HttpMethod::Get, "orders")
        .function(&f)
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("route path"), "{e}");
    let e = api
        .route(HttpMethod::Get, "/x")
        .function(&f)
        .status_code(99)
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("status_code"), "{e}");
}

#[test]
fn sqs_route_gets_a_send_only_role_and_202() {
    let app = App::new();
    let s = app.stack("S");
    let q = s.queue("Ingest").build().unwrap();
    let api = s
        .http_api("Api")
        .jwt_authorizer("https://i", [Expr::from("a")])
        .build()
        .unwrap();
    api.route(HttpMethod::Post, "/orders")
        .sqs_send_message(&q)
        .status_code(202)
        .throttle(Throttle {
            burst: 10,
            rate: 5.0,
        })
        .build()
        .unwrap();
    let t = synthesize(&app)
        .unwrap()
        .stacks
        .remove(0)
        .template
        .to_json_value();
    let r = &t["Resources"];
    assert_eq!(
        r["ApiPostOrdersRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
            ["Action"],
        "sqs:SendMessage"
    );
    assert_eq!(
        r["ApiPostOrdersIntegration"]["Properties"]["IntegrationSubtype"],
        "SQS-SendMessage"
    );
    assert_eq!(
        r["ApiPostOrdersRoute"]["Properties"]["AuthorizationType"],
        "JWT"
    );
    assert_eq!(
        r["ApiDefaultStage"]["Properties"]["RouteSettings"]["POST /orders"]["ThrottlingBurstLimit"],
        10
    );
    assert_eq!(
        r["ApiPostOrdersIntegration"]["Properties"]["ResponseParameters"]["200"]
            ["ResponseParameters"][0]["Source"],
        "202"
    );
}

#[test]
fn route_ids_are_readable() {
    assert_eq!(
        route_id(HttpMethod::Get, "/orders/{id}"),
        "GetOrdersIdParam"
    );
    assert_eq!(strip_params("/orders/{id}"), "/orders/*");
}
