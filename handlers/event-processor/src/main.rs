use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    common::init_tracing();
    let table = common::env_var("IDEMPOTENCY_TABLE")?;
    let client = common::dynamodb_client().await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<EventBridgeEvent<Value>>| {
        let (client, table) = (&client, table.as_str());
        async move {
            event_processor::handle(client, table, event.payload)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
