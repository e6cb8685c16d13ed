use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let table = common::env_var("ORDERS_TABLE")?;
    let dynamo = common::dynamodb_client().await;
    let (table, dynamo) = (&table, &dynamo);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(
            order_ingest_worker::handle(dynamo, table, &event.payload).await,
        )
    }))
    .await
}
