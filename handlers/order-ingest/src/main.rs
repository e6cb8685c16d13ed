use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    common::init_tracing();
    let config = common::sdk_config().await;
    let ingest = order_ingest::Ingest {
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
        events: aws_sdk_eventbridge::Client::new(&config),
        orders_table: common::env_var("ORDERS_TABLE")?,
        idempotency_table: common::env_var("IDEMPOTENCY_TABLE")?,
        event_bus: common::env_var("EVENT_BUS_NAME")?,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayV2httpRequest>| {
        let ingest = &ingest;
        async move { Ok::<_, Error>(order_ingest::handle(ingest, event.payload).await) }
    }))
    .await
}
