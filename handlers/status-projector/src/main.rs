use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    common::init_tracing();
    let table = common::env_var("STATUS_VIEW_TABLE")?;
    let dynamo = common::dynamodb_client().await;
    let (table, dynamo) = (&table, &dynamo);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(
            status_projector::handle(dynamo, table, &event.payload).await,
        )
    }))
    .await
}
