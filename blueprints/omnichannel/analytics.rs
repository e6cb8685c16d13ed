//! The seed's analytics and event-contract elements, as raw CloudFormation (the DSL has no
//! construct for them yet): a schema registry holding the `OrderCreated` contract, and every
//! `lakeside-orders` event delivered by a rule to Firehose, which writes it to S3.
//!
//! `ordersctl local` leaves these resources out of its deploy (moto cannot create them); the
//! templates keep them, and cfn-lint and checkov read them.

use ordersctl::constructs::iam::Statement;
use ordersctl::constructs::{
    Duration, EventBusRef, EventPattern, QueueRef, Removal, RuleContext, RuleTarget, Stack,
    SynthError, Target, TargetBinding,
};
use ordersctl::template::{Expr, Policy, Resource};
use serde_json::json;

/// The `OrderCreated` detail as the pipe's template shapes it (JSON Schema draft 4). New
/// fields are added as optional; a breaking change is a new detail-type.
const ORDER_CREATED_SCHEMA: &str = r#"{"$schema": "http://json-schema.org/draft-04/schema#", "title": "OrderCreated", "type": "object", "required": ["detail-type", "source", "detail"], "properties": {"detail-type": {"enum": ["OrderCreated"]}, "source": {"enum": ["lakeside.orders"]}, "detail": {"type": "object", "required": ["orderId", "customerId", "storeId", "total", "items"], "properties": {"orderId": {"type": "string"}, "customerId": {"type": "string"}, "storeId": {"type": "string"}, "currency": {"type": "string"}, "total": {"type": "string"}, "correlationId": {"type": "string"}, "createdAt": {"type": "string"}, "items": {"type": "array"}}}}}"#;

fn resource(ty: &str, properties: serde_json::Value) -> Resource {
    let mut r = Resource::new(ty);
    if let serde_json::Value::Object(m) = properties {
        for (k, v) in m {
            r.set(&k, Expr::from_json(&v));
        }
    }
    r
}

/// `OrderEvents` registry with the `OrderCreated` schema, beside the bus that carries it.
pub fn schema_registry(stack: &Stack) -> Result<(), SynthError> {
    stack.raw_resource(
        "OrderEventsRegistry",
        resource(
            "AWS::EventSchemas::Registry",
            json!({"RegistryName": "lakeside-orders", "Description": "Contracts of the events on the lakeside-orders bus"}),
        ),
    )?;
    stack.raw_resource(
        "OrderCreatedSchema",
        resource(
            "AWS::EventSchemas::Schema",
            json!({
                "RegistryName": {"Fn::GetAtt": ["OrderEventsRegistry", "RegistryName"]},
                "SchemaName": "lakeside.orders@OrderCreated",
                "Type": "JSONSchemaDraft4",
                "Description": "OrderCreated, as the OrderCreatedPipe publishes it",
                "Content": ORDER_CREATED_SCHEMA,
            }),
        ),
    )?;
    Ok(())
}

/// A Firehose delivery stream as a rule target: EventBridge puts records through the rule's
/// role.
#[derive(Clone)]
struct DeliveryStream(Expr);

impl RuleTarget for DeliveryStream {
    fn target_arn(&self) -> Expr {
        self.0.clone()
    }
    fn target_label(&self) -> String {
        "AnalyticsStream".into()
    }
    fn bind(&self, _rule: &RuleContext<'_>) -> Result<TargetBinding, SynthError> {
        Ok(TargetBinding::role([Statement::allow(
            ["firehose:PutRecord", "firehose:PutRecordBatch"],
            [self.0.clone()],
        )]))
    }
}

/// Every event on the bus -> `AnalyticsStream` (Firehose) -> `AnalyticsBucket` (S3, KMS,
/// versioned, private, raw events kept a year). The rule's failed deliveries go to
/// `dead_letter_queue`.
pub fn analytics<'a>(
    stack: &'a Stack,
    bus: &EventBusRef<'a>,
    removal: Removal,
    dead_letter_queue: &QueueRef<'a>,
) -> Result<(), SynthError> {
    let key = stack
        .key("AnalyticsKey")
        .description("Encrypts the raw order events at rest in the analytics bucket")
        .build()?;
    let mut bucket = resource(
        "AWS::S3::Bucket",
        json!({
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key.arn().to_json()},
                "BucketKeyEnabled": true}]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": true,
                "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": [{"Id": "ExpireRawEvents", "Status": "Enabled",
                "ExpirationInDays": 365, "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]},
        }),
    );
    if removal == Removal::Retain {
        bucket.deletion_policy = Some(Policy::Retain);
        bucket.update_replace_policy = Some(Policy::Retain);
    }
    stack.raw_resource("AnalyticsBucket", bucket)?;
    stack.suppress("AnalyticsBucket", "CKV_AWS_18", "Written only by the delivery stream's role and read by analytics jobs; CloudTrail data events record who reads it, server access logs would need a second bucket and add nothing here.");

    let bucket_arn = Expr::get_att("AnalyticsBucket", "Arn");
    stack.raw_resource(
        "AnalyticsStreamRole",
        resource(
            "AWS::IAM::Role",
            json!({
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                    "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "AWS::AccountId"}}}}]},
                "Policies": [{"PolicyName": "DeliverToAnalyticsBucket", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                     "Resource": bucket_arn.to_json()},
                    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                     "Resource": {"Fn::Join": ["", [bucket_arn.to_json(), "/*"]]}},
                    {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key.arn().to_json()}
                ]}}],
            }),
        ),
    )?;
    stack.raw_resource(
        "AnalyticsStream",
        resource(
            "AWS::KinesisFirehose::DeliveryStream",
            json!({
                "DeliveryStreamType": "DirectPut",
                "DeliveryStreamEncryptionConfigurationInput": {"KeyType": "AWS_OWNED_CMK"},
                "ExtendedS3DestinationConfiguration": {
                    "BucketARN": bucket_arn.to_json(),
                    "RoleARN": {"Fn::GetAtt": ["AnalyticsStreamRole", "Arn"]},
                    "Prefix": "events/!{timestamp:yyyy/MM/dd}/",
                    "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
                    "BufferingHints": {"IntervalInSeconds": 300, "SizeInMBs": 64},
                    "CompressionFormat": "GZIP",
                    "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": key.arn().to_json()}},
                },
            }),
        ),
    )?;

    stack
        .rule("AnalyticsRoute")
        .bus(bus)
        .description("Every lakeside-orders event to the analytics stream")
        .pattern(EventPattern::new().source(["lakeside.orders"]))
        .target(
            // The ARN built from the stream's name (moto's CloudFormation, which the deploy
            // tests run on, has no `Arn` attribute for a delivery stream).
            Target::of(&DeliveryStream(Expr::sub(
                "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/${AnalyticsStream}",
            )))
                .dead_letter_queue(dead_letter_queue)
                .retry_policy(Duration::hours(2), 20),
        )
        .build()?;
    Ok(())
}
