use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let table = common::env_var("IDEMPOTENCY_TABLE")?;
    let ttl_attribute = std::env::var("TTL_ATTRIBUTE")
        .unwrap_or_else(|_| maintenance::DEFAULT_TTL_ATTRIBUTE.to_owned());
    let dynamo = common::dynamodb_client().await;
    let (table, ttl_attribute, dynamo) = (&table, &ttl_attribute, &dynamo);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let report = maintenance::purge_expired(
            dynamo,
            table,
            ttl_attribute,
            common::dynamo::epoch_seconds(),
        )
        .await?;
        Ok::<_, lambda_runtime::Error>(report)
    }))
    .await
}
