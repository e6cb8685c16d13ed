use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    common::init_tracing();
    let table = common::env_var("TABLE_NAME")?;
    let client = common::dynamodb_client().await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (client, table) = (&client, table.as_str());
        async move { Ok::<_, Error>(order_processor::handle(client, table, event.payload).await) }
    }))
    .await
}
