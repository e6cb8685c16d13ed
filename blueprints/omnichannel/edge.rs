//! `OmniEdge`: the seed's CloudFront + WAF in front of the API. WAF cannot be attached to an
//! HTTP API (only to REST API stages, ALBs, AppSync and CloudFront), so the nearest real
//! equivalent is a CloudFront distribution whose origin is the API, with a CloudFront-scope
//! web ACL: AWS's common rule set, known bad inputs (Log4j among them) and a per-IP rate
//! limit. A CloudFront-scope web ACL exists only in us-east-1, so this stack is deployed
//! there (CloudFormation refuses the web ACL anywhere else) and receives the API's domain as
//! a parameter instead of importing it (exports do not cross Regions).
//!
//! Raw CloudFormation (the DSL has no CloudFront or WAF construct yet); `ordersctl local`
//! does not deploy it.

use ordersctl::constructs::{App, SynthError};
use ordersctl::template::{Expr, Parameter, Resource};
use serde_json::json;

/// CloudFront's managed policies (IDs from the CloudFront developer guide).
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";

/// Requests per 5 minutes from one IP before the web ACL blocks it.
const RATE_LIMIT_PER_IP: u32 = 2000;

fn resource(ty: &str, properties: serde_json::Value) -> Resource {
    let mut r = Resource::new(ty);
    if let serde_json::Value::Object(m) = properties {
        for (k, v) in m {
            r.set(&k, Expr::from_json(&v));
        }
    }
    r
}

fn managed_rule(name: &str, priority: u32) -> serde_json::Value {
    json!({
        "Name": name, "Priority": priority, "OverrideAction": {"None": {}},
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}},
        "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": name},
    })
}

/// Stack `OmniEdge` (deploy in us-east-1).
pub fn edge(app: &App) -> Result<(), SynthError> {
    let stack = app.stack("OmniEdge");
    stack.description("Omnichannel order platform: CloudFront and WAF in front of the API; deploy in us-east-1 (ordersctl blueprint omnichannel)");
    let mut domain = Parameter::new("String");
    domain.description = Some(
        "Domain of the OmniApi HTTP API (its ApiUrl output without https://), e.g. abc123.execute-api.eu-west-1.amazonaws.com".into(),
    );
    let domain = stack.parameter("ApiDomain", domain)?;

    stack.raw_resource(
        "EdgeWebAcl",
        resource(
            "AWS::WAFv2::WebACL",
            json!({
                "Name": "omni-edge",
                "Scope": "CLOUDFRONT",
                "DefaultAction": {"Allow": {}},
                "Description": "OWASP common rules, known bad inputs and a per-IP rate limit for the orders API",
                "Rules": [
                    managed_rule("AWSManagedRulesCommonRuleSet", 0),
                    managed_rule("AWSManagedRulesKnownBadInputsRuleSet", 1),
                    {"Name": "RateLimitPerIp", "Priority": 2, "Action": {"Block": {}},
                     "Statement": {"RateBasedStatement": {"Limit": RATE_LIMIT_PER_IP, "AggregateKeyType": "IP"}},
                     "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": "RateLimitPerIp"}},
                ],
                "VisibilityConfig": {"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": "omni-edge"},
            }),
        ),
    )?;
    // WAF logs to a group whose name starts with `aws-waf-logs-`, named by ARN without `:*`.
    stack.raw_resource(
        "EdgeWebAclLogs",
        resource(
            "AWS::Logs::LogGroup",
            json!({"LogGroupName": "aws-waf-logs-omni-edge", "RetentionInDays": 30}),
        ),
    )?;
    stack.suppress("EdgeWebAclLogs", "CKV_AWS_158", "CloudWatch Logs encrypts log data at rest with service-managed keys; the web ACL's logs hold request metadata, no payment or personal data beyond client IPs, so a customer-managed key (with a key policy for the logs service) buys nothing here.");
    let mut logging = resource(
        "AWS::WAFv2::LoggingConfiguration",
        json!({
            "ResourceArn": {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]},
            "LogDestinationConfigs": [{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:aws-waf-logs-omni-edge"}],
        }),
    );
    logging.depends_on.insert("EdgeWebAclLogs".into());
    stack.raw_resource("EdgeWebAclLogging", logging)?;

    stack.raw_resource(
        "EdgeDistribution",
        resource(
            "AWS::CloudFront::Distribution",
            json!({"DistributionConfig": {
                "Enabled": true,
                "Comment": "Orders API behind WAF",
                "HttpVersion": "http2and3",
                "PriceClass": "PriceClass_100",
                "WebACLId": {"Fn::GetAtt": ["EdgeWebAcl", "Arn"]},
                "Origins": [{"Id": "orders-api", "DomainName": domain.to_json(),
                    "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}}],
                "DefaultCacheBehavior": {
                    "TargetOriginId": "orders-api",
                    "ViewerProtocolPolicy": "https-only",
                    "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                    "CachedMethods": ["GET", "HEAD"],
                    "Compress": true,
                    "CachePolicyId": CACHING_DISABLED,
                    "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST_HEADER,
                    "ResponseHeadersPolicyId": SECURITY_HEADERS,
                },
            }}),
        ),
    )?;
    let no_domain = "The blueprint has no custom domain: on the default *.cloudfront.net certificate the minimum viewer protocol cannot be raised; add your domain with an ACM certificate in us-east-1 and set MinimumProtocolVersion TLSv1.2_2021.";
    stack.suppress("EdgeDistribution", "CKV_AWS_174", no_domain);
    stack.suppress("EdgeDistribution", "CKV_AWS_86", "Requests are logged by the web ACL (aws-waf-logs-omni-edge) and by the HTTP API stage's access log; CloudFront standard logs would need an ACL-enabled bucket.");

    stack
        .output(
            "EdgeUrl",
            Expr::join(
                "",
                [
                    Expr::from("https://"),
                    Expr::get_att("EdgeDistribution", "DomainName"),
                ],
            ),
        )
        .description("The orders API behind CloudFront and WAF");
    Ok(())
}
